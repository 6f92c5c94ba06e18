"""Staff accounts, sign-in sessions, refresh tokens and per-address sign-in throttling."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.identity import AuthSession, LoginThrottle, RefreshToken, User
from hms_server.adapters.repositories import Repository

USER_SORT_COLUMNS = {
    "username": User.username,
    "full_name": User.full_name,
    "created_at": User.created_at,
    "id": User.id,
}


class UserRepository(Repository):
    def get(self, user_id: int, *, lock: bool = False) -> User | None:
        return self.session.get(User, user_id, with_for_update=lock)

    def id_by_username(self, username: str) -> int | None:
        """Usernames are unique without regard to case."""
        return self.session.scalar(
            select(User.id).where(func.lower(User.username) == username.lower())
        )

    def password_hash_of(self, username: str) -> str | None:
        """The stored hash, read without locking (sign-in verifies it before locking)."""
        return self.session.scalar(
            select(User.password_hash).where(func.lower(User.username) == username.lower())
        )

    def by_username_for_update(self, username: str) -> User | None:
        return self.session.scalars(
            select(User).where(func.lower(User.username) == username.lower()).with_for_update()
        ).first()

    def add_unless_username_taken(self, user: User) -> bool:
        """Insert in a savepoint; False if another request took the username meanwhile (the
        unique index decides under concurrency)."""
        try:
            with self.session.begin_nested():
                self.add(user)
        except IntegrityError:
            return False
        return True

    def search(
        self, *, q: str | None, sort: str, limit: int, offset: int
    ) -> tuple[list[User], int]:
        """``q`` matches inside the username or full name; ``sort`` is an allow-listed column
        name, ``-`` first for descending."""
        column = USER_SORT_COLUMNS[sort.lstrip("-")]
        query = select(User)
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(
                or_(
                    func.lower(User.username).like(pattern),
                    func.lower(User.full_name).like(pattern),
                )
            )
        return self.page(
            query, [column.desc() if sort.startswith("-") else column, User.id], limit, offset
        )

    def full_names(self, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        return {
            user_id: name
            for user_id, name in self.session.execute(
                select(User.id, User.full_name).where(User.id.in_(wanted))
            )
        }


class SignInRepository(Repository):
    """Sessions, refresh tokens and the address throttle of sign-in."""

    def throttle(self, address: str, *, lock: bool = False) -> LoginThrottle | None:
        return self.session.get(LoginThrottle, address, with_for_update=lock)

    def refresh_token(self, token_hash: str) -> RefreshToken | None:
        return self.session.get(RefreshToken, token_hash, with_for_update=True)

    def auth_session(self, session_id: uuid.UUID) -> AuthSession | None:
        return self.session.get(AuthSession, session_id, with_for_update=True)

    def live_pair(self, session_id: uuid.UUID, user_id: int) -> tuple[User, AuthSession] | None:
        """The account and sign-in session a token names, in one indexed query."""
        row = self.session.execute(
            select(User, AuthSession)
            .join(AuthSession, AuthSession.user_id == User.id)
            .where(AuthSession.id == session_id, User.id == user_id)
        ).first()
        return (row[0], row[1]) if row is not None else None

    def end_session(self, session_id: uuid.UUID, reason: str) -> None:
        self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )

    def end_all_sessions(self, user_id: int, reason: str, at: datetime | None = None) -> None:
        self.session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=at or utcnow(), revoked_reason=reason)
        )
