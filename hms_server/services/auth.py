"""Log in, refresh, log out, re-authenticate, and resolve a bearer token to a principal."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hms_server.adapters.orm.base import utcnow, write_quietly
from hms_server.adapters.orm.identity import AuthSession, LoginThrottle, RefreshToken, User
from hms_server.adapters.repositories.identity import SignInRepository, UserRepository
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.config import Settings
from hms_server.domain.errors import (
    AccountLockedError,
    InvalidCredentialsError,
    InvalidTotpError,
    NotAuthenticatedError,
    TooManyAttemptsError,
    TotpRequiredError,
)
from hms_server.domain.permissions import Perm, permissions_for, requires_totp
from hms_server.services import credentials

CATEGORY = "authentication"


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request. Roles come from the database, not the token,
    so a role change or a disabled account takes effect on the very next request."""

    user_id: int
    username: str
    full_name: str
    roles: tuple[str, ...]
    session_id: uuid.UUID
    # The account row the token was checked against (detached), so "who am I" needs no
    # second query.
    user: User | None = field(default=None, compare=False, repr=False)

    @property
    def permissions(self) -> frozenset[Perm]:
        return permissions_for(self.roles)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _retry_after(until: datetime, now: datetime) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil((until - now).total_seconds())))}


def _check_address_throttle(uow: UnitOfWork, settings: Settings, address: str,
                            now: datetime) -> None:
    row = uow.repo(SignInRepository).throttle(address)
    if row is None:
        return
    window_end = row.window_start + timedelta(seconds=settings.address_window_seconds)
    if now < window_end and row.failures >= settings.address_failure_limit:
        raise TooManyAttemptsError(
            "Too many failed sign-in attempts from this workstation. Try again later.",
            headers=_retry_after(window_end, now),
        )


def _count_address_failure(uow: UnitOfWork, settings: Settings, address: str,
                           now: datetime) -> None:
    sign_ins = uow.repo(SignInRepository)
    row = sign_ins.throttle(address, lock=True)
    if row is None:
        sign_ins.add(LoginThrottle(address=address, window_start=now, failures=1))
        return
    if now >= row.window_start + timedelta(seconds=settings.address_window_seconds):
        row.window_start, row.failures = now, 1
    else:
        row.failures += 1


def _register_failure(uow: UnitOfWork, settings: Settings, user: User, now: datetime) -> bool:
    """Count a failed attempt; lock the account when the threshold is reached.

    Each lock doubles in length up to a ceiling, so a person guessing slows to a crawl while
    the real user is never locked out for longer than ``lockout_max_seconds``. Counters are
    bookkeeping, not an edit of the account: they do not move its ``version``.
    """
    failed = user.failed_logins + 1
    if failed < settings.lockout_threshold:
        write_quietly(user, failed_logins=failed)
        return False
    lock_count = user.lock_count + 1
    seconds = min(settings.lockout_seconds * 2 ** (lock_count - 1),
                  settings.lockout_max_seconds)
    write_quietly(user, failed_logins=0, lock_count=lock_count,
                  locked_until=now + timedelta(seconds=seconds))
    return True


def _issue_pair(uow: UnitOfWork, settings: Settings, user: User, session_id: uuid.UUID,
                now: datetime) -> TokenPair:
    token, token_hash = credentials.new_refresh_token()
    uow.repo(SignInRepository).add(RefreshToken(
        token_hash=token_hash, session_id=session_id, issued_at=now,
        expires_at=now + timedelta(hours=settings.refresh_token_hours),
    ))
    access = credentials.issue_access_token(settings, user.id, session_id, now)
    return TokenPair(access_token=access, refresh_token=token,
                     expires_in=settings.access_token_minutes * 60, user=user)


def login(uow: UnitOfWork, settings: Settings, *, username: str, password: str,
          totp: str | None, actor: Actor) -> TokenPair:
    """Verify password (and TOTP where required) and open a session.

    Failures are committed (counters and audit) before the error is raised, so throttling
    and the audit trail hold even though the request fails.
    """
    now = utcnow()
    address = actor.address or "unknown"
    attempted = Actor(user_id=None, username=username[:64], workstation=actor.workstation,
                      address=actor.address)
    with uow:
        _check_address_throttle(uow, settings, address, now)
        users = uow.repo(UserRepository)
        # Hash the password (argon2: tens of ms of CPU, seconds on a saturated server)
        # *before* locking the account row: the row lock, and the transaction id that holds
        # back the audit sealer, then last only as long as the bookkeeping below.
        hash_seen = users.password_hash_of(username)
        password_ok = credentials.verify_password(hash_seen, password)
        user = users.by_username_for_update(username)
        who = attempted if user is None else Actor(user.id, user.username, tuple(user.roles),
                                                   actor.workstation, actor.address)
        if user is not None and user.locked_until and user.locked_until > now:
            uow.audit(CATEGORY, "login", outcome="locked", actor=who)
            uow.commit()
            raise AccountLockedError(
                "This account is temporarily locked after repeated failed sign-ins.",
                headers=_retry_after(user.locked_until, now),
            )
        if user is not None and user.password_hash != hash_seen:  # changed meanwhile
            password_ok = credentials.verify_password(user.password_hash, password)
        if user is None or not password_ok or not user.active:
            _count_address_failure(uow, settings, address, now)
            locked = user is not None and not password_ok and _register_failure(
                uow, settings, user, now)
            uow.audit(CATEGORY, "login", outcome="failure", actor=who,
                      detail={"reason": "disabled" if user and password_ok else "bad_password"})
            uow.commit()
            if locked and user is not None and user.locked_until:
                raise AccountLockedError(
                    "This account is temporarily locked after repeated failed sign-ins.",
                    headers=_retry_after(user.locked_until, now),
                )
            raise InvalidCredentialsError("Wrong username or password.")
        if user.totp_secret or requires_totp(user.roles):
            if not totp:
                uow.commit()
                raise TotpRequiredError("Enter the 6-digit code from your authenticator app.")
            step = (credentials.verify_totp(user.totp_secret, totp, user.totp_last_step, now)
                    if user.totp_secret else None)
            if step is None:
                _count_address_failure(uow, settings, address, now)
                locked = _register_failure(uow, settings, user, now)
                uow.audit(CATEGORY, "login", outcome="failure", actor=who,
                          detail={"reason": "bad_totp"})
                uow.commit()
                if locked and user.locked_until:
                    raise AccountLockedError(
                        "This account is temporarily locked after repeated failed sign-ins.",
                        headers=_retry_after(user.locked_until, now),
                    )
                raise InvalidTotpError("The one-time code is wrong or was already used.")
            write_quietly(user, totp_last_step=step)
        if credentials.needs_rehash(user.password_hash):
            write_quietly(user, password_hash=credentials.hash_password(password))
        if (user.failed_logins, user.lock_count, user.locked_until) != (0, 0, None):
            write_quietly(user, failed_logins=0, lock_count=0, locked_until=None)
        auth_session = AuthSession(
            id=uuid.uuid4(), user_id=user.id, created_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            workstation=actor.workstation, address=actor.address,
        )
        uow.repo(SignInRepository).add(auth_session)
        pair = _issue_pair(uow, settings, user, auth_session.id, now)
        uow.audit(CATEGORY, "login", actor=who, detail={"session": str(auth_session.id)})
        uow.commit()
        return pair


def refresh(uow: UnitOfWork, settings: Settings, *, refresh_token: str,
            actor: Actor) -> TokenPair:
    """Rotate a refresh token. Re-use of a spent token revokes the whole session."""
    now = utcnow()
    with uow:
        sign_ins = uow.repo(SignInRepository)
        token = sign_ins.refresh_token(credentials.hash_refresh_token(refresh_token))
        if token is None:
            raise NotAuthenticatedError("The refresh token is not valid.")
        auth_session = sign_ins.auth_session(token.session_id)
        assert auth_session is not None
        user = uow.repo(UserRepository).get(auth_session.user_id)
        assert user is not None
        who = Actor(user.id, user.username, tuple(user.roles), actor.workstation, actor.address)
        if token.used_at is not None:
            if auth_session.revoked_at is None:
                auth_session.revoked_at, auth_session.revoked_reason = now, "refresh_token_reuse"
            uow.audit(CATEGORY, "refresh", outcome="failure", actor=who,
                      detail={"reason": "reuse_detected", "session": str(auth_session.id)})
            uow.commit()
            raise NotAuthenticatedError(
                "This refresh token was already used; the session has been ended for safety.")
        if (auth_session.revoked_at is not None or auth_session.expires_at <= now
                or token.expires_at <= now or not user.active):
            raise NotAuthenticatedError("The session has ended. Please sign in again.")
        token.used_at = now
        pair = _issue_pair(uow, settings, user, auth_session.id, now)
        uow.commit()
        return pair


def logout(uow: UnitOfWork, principal: Principal) -> None:
    with uow:
        uow.repo(SignInRepository).end_session(principal.session_id, "logout")
        uow.audit(CATEGORY, "logout")
        uow.commit()


def reauthenticate(uow: UnitOfWork, principal: Principal, password: str) -> None:
    """Unlock an idle-locked desktop: the password must match; failures count like logins."""
    with uow:
        user = uow.repo(UserRepository).get(principal.user_id, lock=True)
        assert user is not None
        if not credentials.verify_password(user.password_hash, password):
            uow.audit(CATEGORY, "unlock", outcome="failure")
            uow.commit()
            raise InvalidCredentialsError("Wrong password.")
        uow.audit(CATEGORY, "unlock")
        uow.commit()


def revoke_all_sessions(uow: UnitOfWork, user_id: int, reason: str) -> None:
    """End every session (and so every token) of a user, e.g. when disabled or re-passworded."""
    uow.repo(SignInRepository).end_all_sessions(user_id, reason)


def authenticate(sign_ins: SignInRepository, settings: Settings, token: str) -> Principal:
    """Resolve a bearer token; one indexed query checks session and account are still live."""
    claims = credentials.decode_access_token(settings, token)
    row = sign_ins.live_pair(claims.session_id, claims.user_id)
    now = utcnow()
    if row is None:
        raise NotAuthenticatedError("The access token is not valid.")
    user, auth_session = row
    if auth_session.revoked_at is not None or auth_session.expires_at <= now or not user.active:
        raise NotAuthenticatedError("The session has ended. Please sign in again.")
    return Principal(user_id=user.id, username=user.username, full_name=user.full_name,
                     roles=tuple(user.roles), session_id=auth_session.id, user=user)
