"""Unit of work: leaving without commit rolls back the work, its audit rows and events."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.infra import AuditEntry, OutboxEvent
from hms_server.adapters.uow import Actor, RollbackOnlyError, UnitOfWork
from tests.conftest import unique_name


def _user(name: str) -> User:
    return User(
        username=name,
        full_name="Temp",
        password_hash="x",
        roles=["nurse"],
        active=True,
        failed_logins=0,
        lock_count=0,
    )


def _count(factory, model, *where) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_leaving_without_commit_rolls_everything_back(db_session_factory):
    name = unique_name()
    audits_before = _count(db_session_factory, AuditEntry)
    uow = UnitOfWork(db_session_factory, Actor.system("test"))
    with uow:
        uow.session.add(_user(name))
        uow.audit("test", "should.vanish")
        uow.publish("test.event", {"x": 1})
    assert _count(db_session_factory, User, User.username == name) == 0
    assert _count(db_session_factory, AuditEntry) == audits_before


def test_commit_writes_work_audit_and_event_together(db_session_factory):
    name = unique_name()
    events_before = _count(db_session_factory, OutboxEvent)
    uow = UnitOfWork(db_session_factory, Actor.system("test"))
    with uow:
        uow.session.add(_user(name))
        uow.audit("test", "kept")
        uow.publish("test.event", {"x": 1})
        uow.commit()
    assert _count(db_session_factory, User, User.username == name) == 1
    assert _count(db_session_factory, AuditEntry, AuditEntry.action == "kept") >= 1
    assert _count(db_session_factory, OutboxEvent) == events_before + 1


def test_inner_block_that_failed_poisons_the_outer_transaction(db_session_factory):
    uow = UnitOfWork(db_session_factory, Actor.system("test"))
    with uow:
        uow.session.add(_user(unique_name()))
        with pytest.raises(ValueError), uow:
            raise ValueError("an inner service gave up")
        with pytest.raises(RollbackOnlyError):
            uow.commit()


def test_inner_read_only_block_leaves_the_decision_to_the_outer(db_session_factory):
    name = unique_name()
    uow = UnitOfWork(db_session_factory, Actor.system("test"))
    with uow:
        uow.session.add(_user(name))
        with uow:
            uow.session.flush()  # a read-only service: no commit
        uow.commit()
    assert _count(db_session_factory, User, User.username == name) == 1


def test_exception_inside_block_rolls_back(db_session_factory):
    name = unique_name()
    uow = UnitOfWork(db_session_factory, Actor.system("test"))
    with pytest.raises(ValueError), uow:
        uow.session.add(_user(name))
        uow.session.flush()
        raise ValueError("boom")
    assert _count(db_session_factory, User, User.username == name) == 0
