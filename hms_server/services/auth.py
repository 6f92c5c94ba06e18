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
    SessionEndedError,
    TooManyAttemptsError,
    TotpRequiredError,
)
from hms_server.domain.permissions import Perm, permissions_for, requires_totp
from hms_server.services import credentials, security_alerts, sign_in_guard
from hms_server.services.sign_in_guard import Lock

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


def _check_address_throttle(
    uow: UnitOfWork, settings: Settings, address: str, now: datetime
) -> None:
    row = uow.repo(SignInRepository).throttle(address)
    if row is None:
        return
    window_end = row.window_start + timedelta(seconds=settings.address_window_seconds)
    if now < window_end and row.failures >= settings.address_failure_limit:
        raise TooManyAttemptsError(
            "Too many failed sign-in attempts from this workstation. Try again later.",
            headers=_retry_after(window_end, now),
        )


def _count_address_failure(
    uow: UnitOfWork, settings: Settings, address: str, now: datetime
) -> None:
    sign_ins = uow.repo(SignInRepository)
    row = sign_ins.throttle(address, lock=True)
    if row is None:
        sign_ins.add(LoginThrottle(address=address, window_start=now, failures=1))
        return
    if now >= row.window_start + timedelta(seconds=settings.address_window_seconds):
        row.window_start, row.failures = now, 1
    else:
        row.failures += 1
        if row.failures == settings.address_failure_limit:
            # One address failing with many names: password spraying, or a broken script.
            security_alerts.raise_alert(
                uow, "address_throttled", address=address, detail={"failures": row.failures}
            )


def _register_failure(
    uow: UnitOfWork,
    settings: Settings,
    username: str,
    user: User | None,
    actor: Actor,
    now: datetime,
) -> Lock | None:
    """Count a failed attempt against the address, the (username, address) pair and the
    account-wide ceiling (``services.sign_in_guard``); alert administrators when a real
    account gets locked. Unknown usernames are counted the same way (no enumeration)."""
    address = actor.address or "unknown"
    _count_address_failure(uow, settings, address, now)
    lock = sign_in_guard.record_failure(uow, settings, username, actor.address, now)
    if lock is not None and user is not None:
        security_alerts.raise_alert(
            uow,
            "account_locked" if lock.scope == "address" else "account_ceiling",
            username=user.username,
            user_id=user.id,
            address=address if lock.scope == "address" else None,
            detail={"lock_count": lock.lock_count, "until": lock.until.isoformat()},
        )
    return lock


def _issue_pair(
    uow: UnitOfWork, settings: Settings, user: User, session_id: uuid.UUID, now: datetime
) -> TokenPair:
    token, token_hash = credentials.new_refresh_token()
    uow.repo(SignInRepository).add(
        RefreshToken(
            token_hash=token_hash,
            session_id=session_id,
            issued_at=now,
            expires_at=now + timedelta(hours=settings.refresh_token_hours),
        )
    )
    access = credentials.issue_access_token(settings, user.id, session_id, now)
    return TokenPair(
        access_token=access,
        refresh_token=token,
        expires_in=settings.access_token_minutes * 60,
        user=user,
    )


def login(
    uow: UnitOfWork,
    settings: Settings,
    *,
    username: str,
    password: str,
    totp: str | None,
    actor: Actor,
) -> TokenPair:
    """Verify password (and TOTP where required) and open a session.

    Failures are committed (counters, alerts and audit) before the error is raised, so
    throttling and the audit trail hold even though the request fails. A known and an unknown
    username get the same answers: 401 ``invalid_credentials`` until the (username, address)
    pair is locked, then 423 ``account_locked`` with ``Retry-After``.
    """
    now = utcnow()
    address = actor.address or "unknown"
    attempted = Actor(
        user_id=None, username=username[:64], workstation=actor.workstation, address=actor.address
    )
    with uow:
        _check_address_throttle(uow, settings, address, now)
        users = uow.repo(UserRepository)
        # Hash the password (argon2: tens of ms of CPU, seconds on a saturated server)
        # *before* locking the account row: the row lock, and the transaction id that holds
        # back the audit sealer, then last only as long as the bookkeeping below.
        hash_seen = users.password_hash_of(username)
        password_ok = credentials.verify_password(hash_seen, password)
        user = users.by_username_for_update(username)
        who = (
            attempted
            if user is None
            else Actor(user.id, user.username, tuple(user.roles), actor.workstation, actor.address)
        )
        try:
            sign_in_guard.check(uow, settings, username, actor.address, now)
        except AccountLockedError:
            uow.audit(CATEGORY, "login", outcome="locked", actor=who)
            uow.commit()
            raise
        if user is not None and user.password_hash != hash_seen:  # changed meanwhile
            password_ok = credentials.verify_password(user.password_hash, password)
        if user is None or not password_ok or not user.active:
            lock = _register_failure(uow, settings, username, user, actor, now)
            uow.audit(
                CATEGORY,
                "login",
                outcome="failure",
                actor=who,
                detail={"reason": "disabled" if user and password_ok else "bad_password"},
            )
            uow.commit()
            if lock is not None:
                raise sign_in_guard.locked_error(lock.until, now)
            raise InvalidCredentialsError("Wrong username or password.")
        if user.totp_secret or requires_totp(user.roles):
            if not totp:
                uow.commit()
                raise TotpRequiredError("Enter the 6-digit code from your authenticator app.")
            step = (
                credentials.verify_totp(user.totp_secret, totp, user.totp_last_step, now)
                if user.totp_secret
                else None
            )
            if step is None:
                lock = _register_failure(uow, settings, username, user, actor, now)
                uow.audit(
                    CATEGORY, "login", outcome="failure", actor=who, detail={"reason": "bad_totp"}
                )
                uow.commit()
                if lock is not None:
                    raise sign_in_guard.locked_error(lock.until, now)
                raise InvalidTotpError("The one-time code is wrong or was already used.")
            write_quietly(user, totp_last_step=step)
        if credentials.needs_rehash(user.password_hash):
            write_quietly(user, password_hash=credentials.hash_password(password))
        sign_in_guard.record_success(uow, username, actor.address, now)
        auth_session = AuthSession(
            id=uuid.uuid4(),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            workstation=actor.workstation,
            address=actor.address,
        )
        uow.repo(SignInRepository).add(auth_session)
        pair = _issue_pair(uow, settings, user, auth_session.id, now)
        uow.audit(CATEGORY, "login", actor=who, detail={"session": str(auth_session.id)})
        uow.commit()
        return pair


def refresh(uow: UnitOfWork, settings: Settings, *, refresh_token: str, actor: Actor) -> TokenPair:
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
            uow.audit(
                CATEGORY,
                "refresh",
                outcome="failure",
                actor=who,
                detail={"reason": "reuse_detected", "session": str(auth_session.id)},
            )
            uow.commit()
            raise NotAuthenticatedError(
                "This refresh token was already used; the session has been ended for safety."
            )
        if (
            auth_session.revoked_at is not None
            or auth_session.expires_at <= now
            or token.expires_at <= now
            or not user.active
        ):
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


def confirm_password(
    uow: UnitOfWork,
    settings: Settings,
    principal: Principal,
    password: str,
    *,
    purpose: str,
    totp: str | None = None,
    with_totp: bool = False,
) -> User:
    """Inside ``with uow``: check the signed-in user's password again (idle-lock unlock, TOTP
    enrolment) under the same limits as sign-in; with ``with_totp`` also the current one-time
    code when the account has one. Too many wrong answers end this session (401), so a stolen
    token cannot be used to guess the password.

    Raises ``TooManyAttemptsError`` (429, address throttle), ``TotpRequiredError`` (no code
    given; not counted), ``InvalidCredentialsError``/``InvalidTotpError`` (401) or
    ``SessionEndedError`` (401 ``session_ended``); every counted refusal is committed in its
    own transaction first.
    """
    now = utcnow()
    actor = uow.actor or Actor(principal.user_id, principal.username)
    address = actor.address or "unknown"
    _check_address_throttle(uow, settings, address, now)
    # No row lock: the refusal below is written by a second transaction, whose foreign keys
    # to this user would wait for it.
    user = uow.repo(UserRepository).get(principal.user_id)
    assert user is not None
    reason = "bad_password"
    try:
        sign_in_guard.check(uow, settings, user.username, actor.address, now)
    except AccountLockedError:
        already_locked = True
    else:
        already_locked = False
        if credentials.verify_password(user.password_hash, password):
            step = None
            if with_totp and user.totp_secret:
                if not totp:
                    raise TotpRequiredError(
                        "Enter the current code from your authenticator app as well."
                    )
                step = credentials.verify_totp(user.totp_secret, totp, user.totp_last_step, now)
                reason = "bad_totp"
            if step is not None or not (with_totp and user.totp_secret):
                if step is not None:
                    write_quietly(user, totp_last_step=step)
                sign_in_guard.record_success(uow, user.username, actor.address, now)
                return user
    refusal = uow.child()
    with refusal:
        locked = (
            already_locked
            or _register_failure(refusal, settings, user.username, user, actor, now) is not None
        )
        refusal.audit(
            CATEGORY, purpose, outcome="failure", detail={"reason": "locked" if locked else reason}
        )
        if locked:
            refusal.repo(SignInRepository).end_session(
                principal.session_id, f"{purpose}_failures"[:64]
            )
            security_alerts.raise_alert(
                refusal,
                "reauthenticate_locked",
                username=user.username,
                user_id=user.id,
                address=address,
                detail={"purpose": purpose},
            )
        refusal.commit()
    if locked:
        raise SessionEndedError(
            "Too many wrong passwords: this session has been ended for safety. Sign in again."
        )
    if reason == "bad_totp":
        raise InvalidTotpError("The one-time code is wrong or was already used.")
    raise InvalidCredentialsError("Wrong password.")


def reauthenticate(
    uow: UnitOfWork, settings: Settings, principal: Principal, password: str
) -> None:
    """Unlock an idle-locked desktop: the password must match; failures count like failed
    sign-ins, and too many end the session."""
    with uow:
        confirm_password(uow, settings, principal, password, purpose="unlock")
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
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=tuple(user.roles),
        session_id=auth_session.id,
        user=user,
    )


def refreshed_principal(sign_ins: SignInRepository, principal: Principal) -> Principal:
    """The principal as the database has it now (roles may have changed); raises
    ``NotAuthenticatedError`` once the session or the account has ended. For long-lived
    connections such as the event stream, which outlive their access token."""
    row = sign_ins.live_pair(principal.session_id, principal.user_id)
    if row is None:
        raise NotAuthenticatedError("The session has ended.")
    user, auth_session = row
    if (
        auth_session.revoked_at is not None
        or auth_session.expires_at <= utcnow()
        or not user.active
    ):
        raise NotAuthenticatedError("The session has ended. Please sign in again.")
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=tuple(user.roles),
        session_id=auth_session.id,
        user=user,
    )
