"""The parameters handlers take, declared once: path ids, paging, the application.

Numbers are bounded to 2**53 - 1: exact in every JSON parser, and within PostgreSQL's
bigint, so no value a client can send reaches the database as an overflow.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import Parameter, PathParameter, QueryParameter

from hot.application import HumansApplication
from hot.application.queries import MAX_PAGE

MAX_NUMBER = 2**53 - 1

HumanId = Annotated[UUID, PathParameter(description="The human's id.")]
Humans = NamedDependency[HumansApplication]

After = Annotated[
    int, QueryParameter(ge=0, le=MAX_NUMBER, description="Return what comes after this.")
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="At most this many.")]
Version = Annotated[
    int | None, Parameter(ge=1, le=MAX_NUMBER, description="The state at this version.")
]
