"""How a query is checked before any handler runs: taken as written, or refused."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, Request, get
from litestar.params import QueryParameter
from litestar.testing import TestClient

from hot.api.params import reject_unknown_query_parameters
from hot.api.problems import EXCEPTION_HANDLERS


@get("/probe", sync_to_thread=False)
def probe(
    count: Annotated[int | None, QueryParameter()] = None,
    flag: Annotated[bool, QueryParameter()] = False,
    tag: Annotated[list[str] | None, QueryParameter()] = None,
) -> dict[str, Any]:
    return {"count": count, "flag": flag, "tag": tag}


def _get(query: str) -> Any:
    def before_request(request: Request[Any, Any, Any]) -> None:
        reject_unknown_query_parameters(request)

    app = Litestar([probe], before_request=before_request, exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        return client.get(f"/probe?{query}")


def test_a_query_as_declared_is_taken() -> None:
    response = _get("count=42&flag=true&tag=a&tag=b")

    assert response.status_code == 200
    assert response.json() == {"count": 42, "flag": True, "tag": ["a", "b"]}


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("count=1&count=2", "count", "more than once"),
        ("flag=true&flag=false", "flag", "more than once"),
        ("count=1e3", "count", "whole number"),
        ("count=0.0", "count", "whole number"),
        ("cnt=1", "cnt", "Unknown query parameter"),
    ],
)
def test_a_query_not_as_declared_is_400_naming_the_parameter(
    query: str, field: str, says: str
) -> None:
    response = _get(query)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert says in response.json()["detail"]
