"""Property-based checks of the whole API against its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests, valid and invalid, with
an admin token: no answer is a 5xx, and every answer matches the documented status
codes, content types, headers and schemas.

The document is taken from an app built without a database (generating it needs none),
so that pytest can list the operations; the requests go to the app over PostgreSQL.
"""

from __future__ import annotations

from typing import Any, cast

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.generation.case import Case

from hot.api import create_app
from tests.api.conftest import Tokens, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

MAX_EXAMPLES = 30

# Schema-valid requests may still be refused for their meaning, which the document
# cannot express: a malformed email (422), a broken rule (409), a stale If-Match (412),
# version and as_of together (400).
MEANINGFUL_REFUSALS = ["2xx", "400", "401", "403", "404", "409", "412", "422"]

DOCUMENT = create_app(cast(Any, None), cast(Any, None)).openapi_schema.to_schema()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=MEANINGFUL_REFUSALS
)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    # The same examples on every run: CI answers for what was run here. (A random run
    # once drew a negative case whose violations never reached the server: an extra
    # query parameter that did not survive serialising, and a missing token, which this
    # test always sends. Accepted, as it should be, it was reported as the API's error.)
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_the_promises_of_its_openapi_document(
    case: Case, api: Litestar, tokens: Tokens
) -> None:
    case.operation.schema.app = api  # the checks that send more requests send them here
    case.call_and_validate(app=api, headers=bearer(tokens.admin))


def test_an_optional_header_is_documented_as_a_string_never_null() -> None:
    """A header is absent or a string: a document that allows null makes generated
    clients send ``If-Match: null``."""
    headers = [
        (path, parameter)
        for path, operations in DOCUMENT["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header"
    ]
    names = {parameter["name"] for _, parameter in headers}

    assert {"If-Match", "Idempotency-Key"} <= names
    for path, parameter in headers:
        assert parameter["schema"].get("type") == "string", (path, parameter)
        assert "oneOf" not in parameter["schema"], (path, parameter)


def test_the_document_says_which_envelopes_need_a_human_id_and_what_an_email_is() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    envelope = jsonschema_rs.Draft202012Validator(schemas["EnvelopeBody"])
    event = {"id": "7b0c2f1e-34aa-4d4c-9f0e-2a1d3c4b5e6f", "version": 1}

    attended = {**event, "name": "HUMAN_ATTENDED", "payload": {"on": "2026-01-05"}}
    registered = {**event, "name": "HUMAN_REGISTERED", "payload": {"name": "Hari"}}

    assert not envelope.is_valid(attended)  # the API answers 422 payload.human_id
    assert envelope.is_valid(
        {**attended, "payload": {**attended["payload"], "human_id": event["id"]}}
    )
    assert envelope.is_valid(registered)  # a registration may leave its id to HoT
    assert schemas["RegisterBody"]["properties"]["email"]["format"] == "email"
