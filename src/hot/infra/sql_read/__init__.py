"""The SQL read contract: ``hot_read``, a schema that psql, pandas, Grafana or another
team's app may read with a role that can read nothing else.

``schema`` (the contract's tables, versioned), ``humans`` (each human's row, folded by
the domain's own ``apply``), ``projector`` (keeps them in step with the log) and
``access`` (the login roles of SQL readers). See ``docs/sql.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hot.infra.sql_read.schema import CONTRACT_VERSION, SCHEMA

if TYPE_CHECKING:
    from hot.infra.bootstrap import Hot
    from hot.infra.sql_read.projector import SqlReadProjector


def build_projector(hot: Hot) -> SqlReadProjector:
    """The projector of ``hot``'s database (on ``hot.app``'s log reader and pool)."""
    from hot.infra.sql_read.projector import SqlReadProjector

    meter = hot.metrics.sql_read if hot.metrics is not None else None
    return SqlReadProjector(hot.app, hot.database_url, meter=meter)


__all__ = ["CONTRACT_VERSION", "SCHEMA", "build_projector"]
