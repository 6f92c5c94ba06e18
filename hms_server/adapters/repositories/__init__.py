"""Repositories: each business area's queries and writes, one module per area.

A service reaches its area's repository through the unit of work (``uow.repo(UserRepository)``)
and never builds ``select(...)`` itself, so the SQL of an area lives in one file next to its
tables and a service can be unit-tested with a fake unit of work whose ``repo()`` returns
fakes. Read screens that join several areas use ``adapters/queries/<area>.py`` instead.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

R = TypeVar("R")

DEADLOCK_DETECTED = "40P01"


def is_deadlock(exc: BaseException) -> bool:
    """PostgreSQL chose this transaction's statement as a deadlock's victim."""
    return (
        isinstance(exc, OperationalError)
        and getattr(exc.orig, "sqlstate", None) == DEADLOCK_DETECTED
    )


class Repository:
    """Bound to the session of one unit of work; not thread-safe (neither is the session)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: R) -> R:
        """Stage a new row and write it now, so it has its id."""
        self.session.add(row)
        self.session.flush()
        return row

    def stage(self, row: Any) -> None:
        """Stage a new row; it is written with the next flush (or the commit)."""
        self.session.add(row)

    def insert_in_savepoint(self, row: Any, attempts: int = 5) -> None:
        """Insert ``row`` in a savepoint; a constraint violation raises ``IntegrityError``
        with the transaction still usable.

        Two concurrent inserts that clash on an exclusion constraint can each wait for the
        other (PostgreSQL inserts the index entry, then checks for conflicts), and one is
        chosen as a deadlock victim. Its savepoint is rolled back and the insert tried
        again: the retry now waits for the other transaction and gets the true answer (a
        violation if the other committed, success if it rolled back) instead of a 5xx.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.session.begin_nested():
                    self.session.add(row)
                    self.session.flush()
                return
            except OperationalError as exc:
                if not is_deadlock(exc) or attempt == attempts:
                    raise

    def add_all(self, rows: list[Any]) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def delete(self, row: Any) -> None:
        self.session.delete(row)

    def flush(self) -> None:
        self.session.flush()

    def refresh(self, row: Any) -> None:
        """Re-read server-computed columns (defaults, generated columns) after a write."""
        self.session.refresh(row)

    def count(self, query: Any) -> int:
        """How many rows ``query`` (any SELECT) matches."""
        return int(self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def page(self, query: Any, order: list[Any], limit: int, offset: int) -> tuple[list[Any], int]:
        """One page of ``query`` in ``order`` and the total number of matches."""
        total = self.count(query)
        rows = list(self.session.scalars(query.order_by(*order).limit(limit).offset(offset)))
        return rows, total
