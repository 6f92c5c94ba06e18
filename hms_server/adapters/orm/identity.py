"""Users, login sessions, refresh tokens and per-address login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from hms_server.adapters.orm.base import Base
from hms_server.domain.permissions import Role

_ROLE_LIST = ",".join(f"'{r.value}'" for r in Role)


class User(Base):
    """A member of staff. Secrets (hash, TOTP seed) live only here, never in API schemas."""

    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_username_lower", func.lower(text("username")), unique=True),
        CheckConstraint(f"roles <@ ARRAY[{_ROLE_LIST}]::text[]", name="known_roles"),
        CheckConstraint("cardinality(roles) >= 1", name="has_role"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set by self-enrolment; becomes totp_secret only once a code from it is confirmed.
    totp_pending_secret: Mapped[str | None] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(nullable=False, default=0)
    lock_count: Mapped[int] = mapped_column(nullable=False, default=0)
    locked_until: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(nullable=False, server_default=func.now())
    version: Mapped[int] = mapped_column(nullable=False, default=1)

    # SQLAlchemy bumps ``version`` on every ORM UPDATE and adds ``WHERE version = <loaded>``.
    # A sign-in's counters are not an edit: ``adapters.orm.base.write_quietly`` stores them
    # without moving the version.
    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret)

    __mapper_args__ = {"version_id_col": version}


class AuthSession(Base):
    """One login: every access and refresh token of it dies when it is revoked."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)  # absolute lifetime
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    workstation: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(Base):
    """Single-use refresh token, stored only as its SHA-256 hash."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("auth_sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    issued_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed-login counter per client address within a sliding window."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    failures: Mapped[int] = mapped_column(nullable=False, default=0)
