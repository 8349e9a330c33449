from datetime import date

import pytest

from hot.application import HumansApplication
from hot.domain import HumanKind

pytestmark = pytest.mark.postgres


def test_a_registered_human_reads_back(app: HumansApplication) -> None:
    result = app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE)
    app.join(result.id, date(2026, 1, 1), "engineer")

    human = app.get_human(result.id)

    assert (human.name, human.status, human.version) == ("Ann", "member", 2)
