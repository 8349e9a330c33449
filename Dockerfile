# One image for every HoT process; docker-compose.yml picks the command.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /uvx /bin/
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PATH="/app/.venv/bin:$PATH"
COPY pyproject.toml uv.lock README.md ./
COPY packages/hot-follow/pyproject.toml packages/hot-follow/README.md ./packages/hot-follow/
RUN uv sync --locked --no-dev --no-install-workspace
COPY src ./src
COPY packages/hot-follow/src ./packages/hot-follow/src
RUN uv sync --locked --no-dev
EXPOSE 8000
CMD ["hot", "serve"]
