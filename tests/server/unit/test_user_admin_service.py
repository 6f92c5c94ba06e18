"""Staff-account use cases against in-memory repositories (no database): the rules live in
the service, the SQL in ``adapters/repositories/identity.py``."""

from __future__ import annotations

from itertools import count

import pytest

from hms_server.adapters.orm.identity import User
from hms_server.adapters.repositories.identity import SignInRepository, UserRepository
from hms_server.adapters.uow import Actor
from hms_server.config import Settings
from hms_server.domain.errors import ConflictError, VersionConflictError
from hms_server.services import users
from tests.server.unit.fake_uow import FakeUnitOfWork


class FakeUsers:
    def __init__(self) -> None:
        self.rows: dict[int, User] = {}
        self._ids = count(1)

    def get(self, user_id: int, *, lock: bool = False) -> User | None:
        return self.rows.get(user_id)

    def id_by_username(self, username: str) -> int | None:
        return next(
            (u.id for u in self.rows.values() if u.username.lower() == username.lower()), None
        )

    def add(self, row: User) -> User:
        row.id = next(self._ids)
        row.version = 1
        self.rows[row.id] = row
        return row

    def add_unless_username_taken(self, row: User) -> bool:
        if self.id_by_username(row.username) is not None:
            return False
        self.add(row)
        return True


class FakeSignIns:
    def __init__(self) -> None:
        self.ended: list[tuple[int, str]] = []

    def end_all_sessions(self, user_id: int, reason: str) -> None:
        self.ended.append((user_id, reason))


def _uow(fakes: FakeUsers, sign_ins: FakeSignIns, actor_id: int = 99) -> FakeUnitOfWork:
    return FakeUnitOfWork(
        {UserRepository: fakes, SignInRepository: sign_ins},
        actor=Actor(user_id=actor_id, username="admin", roles=("admin",)),
    )


def _user(fakes: FakeUsers, username: str = "nina", roles: tuple[str, ...] = ("nurse",)) -> User:
    return fakes.add(
        User(
            username=username,
            full_name="Nina Nurse",
            roles=list(roles),
            password_hash="x",
            active=True,
        )
    )


SETTINGS = Settings(
    database_url="postgresql://unused@localhost/none", jwt_secret="unit-" + "x" * 40
)


def test_a_taken_username_is_refused_whatever_its_case():
    fakes, sign_ins = FakeUsers(), FakeSignIns()
    _user(fakes, "Nina")
    with pytest.raises(ConflictError):
        users.create_user(
            _uow(fakes, sign_ins),
            SETTINGS,
            username="NINA",
            full_name="Another Nina",
            roles=["nurse"],
            password="Quiet-Lantern-Harbor-77",
        )
    assert len(fakes.rows) == 1


def test_a_stale_version_changes_nothing_and_audits_nothing():
    fakes, sign_ins = FakeUsers(), FakeSignIns()
    nina = _user(fakes)
    uow = _uow(fakes, sign_ins)
    nina.version = 3  # someone else saved twice since
    with pytest.raises(VersionConflictError):
        users.update_user(uow, nina.id, version=1, full_name="Nina N.", roles=None)
    assert nina.full_name == "Nina Nurse"
    assert uow.audited == [] and uow.commits == 0


def test_disabling_ends_every_session_and_is_audited_once():
    fakes, sign_ins = FakeUsers(), FakeSignIns()
    nina = _user(fakes)
    uow = _uow(fakes, sign_ins)
    users.set_user_active(uow, nina.id, active=False)
    assert nina.active is False
    assert sign_ins.ended == [(nina.id, "user_disabled")]
    assert [a[1] for a in uow.audited] == ["user.disable"]
    users.set_user_active(uow, nina.id, active=False)  # already disabled: nothing more
    assert [a[1] for a in uow.audited] == ["user.disable"]


def test_an_admin_cannot_disable_themself_or_drop_their_own_admin_role():
    fakes, sign_ins = FakeUsers(), FakeSignIns()
    me = _user(fakes, "ada", roles=("admin",))
    uow = _uow(fakes, sign_ins, actor_id=me.id)
    with pytest.raises(ConflictError):
        users.set_user_active(uow, me.id, active=False)
    with pytest.raises(ConflictError):
        users.update_user(uow, me.id, version=1, full_name=None, roles=["nurse"])
    assert me.active and me.roles == ["admin"] and sign_ins.ended == []


def test_granting_a_role_that_needs_mfa_provisions_a_secret():
    fakes, sign_ins = FakeUsers(), FakeSignIns()
    nina = _user(fakes)
    uow = _uow(fakes, sign_ins)
    users.update_user(uow, nina.id, version=1, full_name=None, roles=["admin", "nurse"])
    assert nina.roles == ["admin", "nurse"] and nina.totp_secret
    [(_category, action, detail)] = uow.audited
    assert action == "user.update" and detail["detail"]["roles"]["to"] == ["admin", "nurse"]
