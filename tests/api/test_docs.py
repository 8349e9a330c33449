"""``/schema``: the interactive documentation loads nothing from outside HoT (it works
offline and in closed networks)."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest
from litestar.testing import TestClient

from hot.api import create_app

LINKED = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(create_app(cast(Any, None), cast(Any, None))) as client:
        yield client


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
def test_the_docs_page_links_only_what_hot_serves_itself(client: Any, page: str) -> None:
    html = client.get(page)
    linked = LINKED.findall(html.text)

    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert len(linked) >= 4  # favicon, stylesheet, bundle, preset
    assert "//" not in "".join(linked)  # no other host, no CDN
    for path in linked:
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert asset.content, path


def test_the_docs_read_openapi_3_1_and_carry_the_document(client: Any) -> None:
    page = client.get("/schema").text
    bundle = client.get("/schema/assets/swagger-ui-bundle.js").text

    assert '"openapi":"3.1.0"' in page  # the document is in the page: no fetch needed
    assert "isOAS31" in bundle  # Swagger UI 5, which renders OpenAPI 3.1 (4 refuses it)
    assert "SwaggerUIBundle" in page
