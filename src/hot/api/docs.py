"""The API's interactive documentation, served whole from HoT: it works offline.

Swagger UI's assets come from the ``swagger-ui-py`` package (Swagger UI 5, which reads
OpenAPI 3.1) and are served under ``/schema/assets``; the page links nothing else, so
``/schema`` renders in a closed network as on the internet.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from litestar import Router
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from hot.api.auth import public

DOCS_PATH = "/schema"
ASSETS = f"{DOCS_PATH}/assets"
SWAGGER_UI_FILES = Path(swagger_ui.__file__).parent / "static"
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>"


def swagger_ui_page() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` (and ``/schema/swagger``), from the assets HoT serves."""
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        path=["/", "/swagger"],
        favicon=FAVICON,
    )


def swagger_ui_assets() -> Router:
    """The route that serves Swagger UI's files."""
    return create_static_files_router(
        path=ASSETS, directories=[SWAGGER_UI_FILES], include_in_schema=False, **public()
    )
