"""The web console at ``/console``: static files shipped in the package, no server of its own.

The page (``src/hot/api/console/``: HTML, one JavaScript module, CSS, all written by
hand, no build step, nothing from a CDN) is a client of the JSON API like any other: it
keeps the token the user signs in with in ``sessionStorage`` and calls the routes with
``Authorization: Bearer`` (the live feed too: read with ``fetch``, not ``EventSource``,
so the token stays out of URLs and logs).
So every rule, mask and problem it shows is the API's. The files are public, as
``/schema`` is; what they fetch needs a token.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router

from hot.api.auth import public

CONSOLE_PATH = "/console"
CONSOLE_FILES = Path(__file__).parent / "console"


def console_files() -> Router:
    """The route of the console's files; ``/console`` and ``/console/`` are its page."""
    return create_static_files_router(
        path=CONSOLE_PATH,
        directories=[CONSOLE_FILES],
        html_mode=True,
        include_in_schema=False,
        **public(),
    )
