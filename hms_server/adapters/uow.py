"""Unit of work: one database transaction plus the audit entries and events it produces.

Services do ``with uow: ...; uow.commit()``. Leaving the block without ``commit()`` rolls
everything back, audit entries and events included. Blocks nest: an inner ``commit()``
only flushes, the outermost block commits, and an inner block that raised makes the whole
transaction roll back, so a caller such as the idempotency helper
can store its replayable answer atomically with the work it describes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.audit_log import PendingAudit, append_audit
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.infra import OutboxEvent
from hms_server.domain.events import DomainEvents, EventsNotWiredError
from hms_server.domain.hospital import Hospital

EVENTS_CHANNEL = "hms_events"
log = logging.getLogger("hms_server.events")
R = TypeVar("R")


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; services stamp it on audit entries."""

    user_id: int | None
    username: str | None
    roles: tuple[str, ...] = ()
    workstation: str | None = None
    address: str | None = None
    session_id: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, username=name, workstation="cli")


class RollbackOnlyError(RuntimeError):
    """An inner block failed; the outer transaction must not commit."""


class UnitOfWork:
    """Not thread-safe: one per request (or per CLI command).

    ``hospital`` (time zone, name, currency) and ``events`` (the areas' subscriptions to each
    other's domain events) come from the composition root, ``hms_server.bootstrap``; build
    units of work with ``Runtime.uow(actor)`` there rather than by hand.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        actor: Actor | None = None,
        *,
        hospital: Hospital | None = None,
        events: DomainEvents | None = None,
        request_memo: dict[Hashable, Any] | None = None,
        read_only_factory: sessionmaker[Session] | None = None,
    ):
        self._factory = session_factory
        #: Sessions on the streaming replica (``HMS_DATABASE_REPLICA_URL``), if there is one.
        self._read_only_factory = read_only_factory
        self.actor = actor
        #: Answers already established for this request and actor (e.g. the chart-access
        #: basis the route's permission check found), so a service need not ask twice.
        #: Shared by every unit of work of one request; never outlives the request.
        self.request_memo: dict[Hashable, Any] = {} if request_memo is None else request_memo
        self.hospital = hospital or Hospital()
        self._domain_events = events
        self._depth = 0
        self._session: Session | None = None
        self._audit: list[PendingAudit] = []
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._inner_committed = False
        self._rollback_only = False
        self._repositories: dict[type, Any] = {}
        self.after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        assert self._session is not None, "use the unit of work inside 'with uow:'"
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self._depth == 0:
            self._session = self._factory()
            self._audit, self._events, self._rollback_only = [], [], False
            self._repositories = {}
        self._depth += 1
        self._inner_committed = False
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._depth -= 1
        if self._depth > 0:
            # An inner block that failed poisons the transaction; one that simply did not
            # commit (a read-only service) leaves its work to the outer block's decision.
            if exc_type is not None:
                self._rollback_only = True
            self._inner_committed = False
            return
        session, self._session = self._session, None
        assert session is not None
        try:
            # Detach first so objects a read-only service returns keep their loaded values
            # (a rollback would expire them); then roll back anything not committed.
            session.expunge_all()
            session.rollback()
        finally:
            session.close()

    def audit(
        self,
        category: str,
        action: str,
        *,
        outcome: str = "success",
        patient_id: int | None = None,
        detail: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        """Queue an audit entry; it is chained and written in this transaction at commit."""
        who = actor or self.actor or Actor.system()
        self._audit.append(
            PendingAudit(
                category=category,
                action=action,
                outcome=outcome,
                user_id=who.user_id,
                username=who.username,
                patient_id=patient_id,
                workstation=who.workstation,
                address=who.address,
                detail=detail or {},
            )
        )

    def repo(self, kind: type[R]) -> R:
        """The area repository ``kind`` (``adapters/repositories/<area>.py``) bound to this
        transaction's session; one instance per kind per transaction. A fake unit of work in
        a unit test returns fakes here, so services can be tested without a database."""
        found = self._repositories.get(kind)
        if found is None:
            found = self._repositories[kind] = kind(self.session)  # type: ignore[call-arg]
        return found

    @contextmanager
    def read_only(self, kind: type[R]) -> Iterator[R]:
        """The query object ``kind`` for read-only work that may lag the primary by a
        moment (management reports), inside ``with uow:``.

        With a streaming replica configured it runs there, in a REPEATABLE READ, READ ONLY
        transaction of its own: every query of one report sees the same instant, the
        reports never compete with the wards' writes for the primary, and nothing can be
        written through it. Without one it shares this unit of work's session on the
        primary (no second connection per report). Audit rows still go through ``audit()``
        to the primary: a replica cannot take writes.
        """
        if self._read_only_factory is None:
            yield self.repo(kind)
            return
        session = self._read_only_factory()
        try:
            session.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
            yield kind(session)  # type: ignore[call-arg]
        finally:
            session.rollback()
            session.close()

    def emit(self, event: object) -> None:
        """Tell the other areas a domain fact now, inside this transaction (their handlers'
        writes commit or roll back with it). See ``hms_server.domain.events``."""
        if self._domain_events is None:
            raise EventsNotWiredError(
                f"{type(event).__name__} emitted by a unit of work built without the "
                "application's event wiring (use hms_server.bootstrap.Runtime.uow)."
            )
        self._domain_events.emit(self, event)

    def child(self, actor: Actor | None = None) -> UnitOfWork:
        """A new, independent unit of work with the same wiring (e.g. to audit a refusal in a
        transaction of its own)."""
        return UnitOfWork(
            self._factory,
            actor or self.actor,
            hospital=self.hospital,
            events=self._domain_events,
            read_only_factory=self._read_only_factory,
        )

    def publish(self, event_type: str, payload: dict[str, Any]) -> None:
        """Queue a domain event (ids only, never names) for the outbox."""
        self._events.append((event_type, payload))

    def commit(self) -> None:
        if self._depth > 1:
            self.session.flush()
            self._inner_committed = True
            return
        if self._rollback_only:
            raise RollbackOnlyError("an inner unit of work did not commit")
        session = self.session
        notices = []
        for event_type, payload in self._events:
            event = OutboxEvent(at=utcnow(), type=event_type, payload=payload)
            session.add(event)
            session.flush()
            notices.append(
                json.dumps(
                    {"id": event.id, "type": event_type, "data": payload},
                    separators=(",", ":"),
                    default=str,
                )
            )
        append_audit(session, self._audit)
        session.commit()
        self._audit, self._events = [], []
        if notices:
            _notify_after_commit(session, notices)
        callbacks, self.after_commit = self.after_commit, []
        for callback in callbacks:
            callback()


def _notify_after_commit(session: Session, notices: list[str]) -> None:
    """Wake the servers' event listeners, in a short transaction of its own.

    Why not inside the business transaction: PostgreSQL serialises the commits of all
    transactions that NOTIFY on one database-wide lock, held through the commit's WAL flush,
    so every event-publishing request queued behind the previous one's fsync (the load
    harness saw half the backends waiting on it). This transaction writes nothing, so its
    commit needs no flush and the lock is held for microseconds. The outbox row committed
    with the work; a notice lost to a crash right here is recovered by desktops resuming
    with Last-Event-ID.
    """
    notify = text("SELECT pg_notify(:c, p) FROM unnest(CAST(:ps AS text[])) p")
    params = {"c": EVENTS_CHANNEL, "ps": notices}
    bind = session.get_bind()
    try:
        if isinstance(bind, Engine):
            # On a connection of its own, not the session: a failure here (the database
            # went away after the commit) must not roll back the session and expire the
            # objects the request is about to answer with.
            with bind.connect() as conn:
                conn.execute(notify, params)
                conn.commit()
        else:  # a session bound to one connection (tests): nothing else to use
            session.execute(notify, params)
            session.commit()
    except Exception:  # the work is committed; never turn that into an error
        log.warning("could not send event notifications", exc_info=True)
