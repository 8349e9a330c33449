"""HoT's tests. The helper modules' asserts explain a failure as a test module's own do:
they are registered for pytest's assertion rewriting here, before anything imports them."""

import pytest

pytest.register_assert_rewrite(
    "tests.activity", "tests.integration.relay_fixtures", "tests.processes", "tests.unit.steps"
)
