"""How HoT's processes log: readable lines by default, JSON lines with
``HOT_LOG_FORMAT=json``, each line of a request carrying its request id.

The request id is a context variable, set by the API for each request
(``hot.api.observing``) and read by ``RequestIdFilter``, so that every line logged
while a request is handled, by any logger, names it. Nothing here decides what a line
says: HoT's own log calls never include personal data or tokens (a test runs a whole
life with debug logging on and searches every line).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hot_request_id", default=None
)
READABLE = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"
FORMATS = ("text", "json")


# A token a client sent in the query (the live feed's ``?access_token=``), as an access
# log line would show it.
QUERY_TOKEN = re.compile(r"(access_token=)[^&\s\"']+")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or None) to each record, and ``request`` (`` [id]`` or
    nothing) for the readable format."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request = f" [{request_id}]" if request_id else ""
        if record.name == "uvicorn.access":  # the one logger that shows query strings
            message = record.getMessage()
            if "access_token=" in message:
                record.msg, record.args = QUERY_TOKEN.sub(r"\1(hidden)", message), None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int, log_format: str = "text") -> None:
    """Log every logger's records at ``level`` and above to stderr, in ``log_format``
    (``text`` or ``json``), with the request id: for the entry point that owns the process.

    As ``logging.basicConfig`` does, it leaves a root logger that has handlers of another's
    alone (a test runner's); it replaces one it configured itself.
    """
    root = logging.getLogger()
    if any(not isinstance(h, _HotHandler) for h in root.handlers):
        return
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = _HotHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(READABLE))
    root.addHandler(handler)
    root.setLevel(level)


class _HotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` installs (stderr)."""
