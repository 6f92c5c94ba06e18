"""A unit of work without a database, for unit tests of services.

Services reach their data only through ``uow.repo(RepositoryClass)``; this fake answers with
the in-memory fakes a test registers, and records what the service audited, published and
emitted, and whether it committed. Leaving ``with uow:`` without ``commit()`` "rolls back":
the recorded audit entries and events of that transaction are dropped, as in the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hms_server.adapters.uow import Actor
from hms_server.domain.hospital import Hospital


@dataclass
class FakeUnitOfWork:
    repositories: dict[type, Any]
    actor: Actor | None = None
    hospital: Hospital = field(default_factory=Hospital)
    audited: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    emitted: list[object] = field(default_factory=list)
    request_memo: dict[Any, Any] = field(default_factory=dict)
    commits: int = 0
    _depth: int = 0
    _pending: list[Any] = field(default_factory=list)

    def __enter__(self) -> FakeUnitOfWork:
        if self._depth == 0:
            self._pending = []
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._pending = []  # anything not committed is gone

    def repo(self, kind: type) -> Any:
        return self.repositories[kind]

    @contextmanager
    def read_only(self, kind: type) -> Iterator[Any]:
        yield self.repositories[kind]

    def audit(self, category: str, action: str, **kwargs: Any) -> None:
        self._pending.append(("audit", (category, action, kwargs)))

    def publish(self, event_type: str, payload: dict[str, Any]) -> None:
        self._pending.append(("publish", (event_type, payload)))

    def emit(self, event: object) -> None:
        self.emitted.append(event)

    def commit(self) -> None:
        if self._depth > 1:
            return
        for kind, item in self._pending:
            (self.audited if kind == "audit" else self.published).append(item)
        self._pending = []
        self.commits += 1
