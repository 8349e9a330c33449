"""A writer that writes through, as a process of its own for the tests to kill:
``python -m tests.integration.writer_process DATABASE_URL REDIS_URL PREFIX TAG``.

It records one human's registration, joining and attendance, one transaction each,
over and over, and prints after each transaction how many events it has written
through so far.
"""

from __future__ import annotations

import sys
from datetime import date

from hot.domain import HumanKind
from hot.infra.bootstrap import write_through
from hot.infra.relay.write_through import WriteThrough
from tests.blocking import blocking_application


def main() -> None:
    database_url, redis_url, prefix, tag = sys.argv[1:5]
    app = blocking_application(database_url, max_batch=1)
    write_through(app, redis_url, prefix=prefix, personal=False)
    (through,) = [t for t in app.commit_listeners if isinstance(t, WriteThrough)]
    i = 0
    while True:
        human = app.register(f"Writer {tag}-{i}", f"w-{tag}-{i}@example.org", HumanKind.GUEST)
        print(through.added, flush=True)
        app.join(human.id, date(2026, 3, 2), "writer")
        print(through.added, flush=True)
        app.attend(human.id, date(2026, 3, 3))
        print(through.added, flush=True)
        i += 1


if __name__ == "__main__":
    main()
