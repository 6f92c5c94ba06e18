"""TOTP enrolment: self-service with confirmation, and an admin reset for a lost device."""

from __future__ import annotations

from dataclasses import dataclass

from hms_server.adapters.orm.base import touch, utcnow, write_quietly
from hms_server.adapters.orm.identity import User
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.config import Settings
from hms_server.domain.errors import ConflictError, InvalidTotpError, NotFoundError
from hms_server.domain.permissions import requires_totp
from hms_server.services import credentials
from hms_server.services.auth import Principal, confirm_password, revoke_all_sessions

CATEGORY = "authentication"


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.repo(UserRepository).get(user_id, lock=True)
    if user is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return user


def start_enrolment(
    uow: UnitOfWork, settings: Settings, principal: Principal, *, password: str, code: str | None
) -> TotpEnrolment:
    """Issue a pending secret; sign-in is unchanged until a code from it is confirmed.

    Needs the current password, and the current one-time code when an authenticator is
    already enrolled (the new one replaces it on confirmation): an access token alone — a
    stolen one — cannot bind the account to someone else's device. Wrong answers count like
    failed sign-ins and too many end the session (``auth.confirm_password``).
    """
    with uow:
        user = confirm_password(
            uow,
            settings,
            principal,
            password,
            purpose="totp.enrol_start",
            totp=code,
            with_totp=True,
        )
        replacing = bool(user.totp_secret)
        pending = credentials.new_totp_secret()
        # Not an edit of the account until confirmed: the version stays.
        write_quietly(user, totp_pending_secret=pending)
        uow.audit(
            CATEGORY, "totp.enrol_start", detail={"target_user_id": user.id, "replacing": replacing}
        )
        uow.commit()
        return TotpEnrolment(
            pending,
            credentials.totp_provisioning_uri(pending, user.username, settings.hospital_name),
        )


def confirm_enrolment(uow: UnitOfWork, user_id: int, code: str) -> None:
    """Activate the pending secret when the code matches it."""
    with uow:
        user = _user(uow, user_id)
        if not user.totp_pending_secret:
            raise ConflictError("Start enrolment first.")
        step = credentials.verify_totp(user.totp_pending_secret, code, None, utcnow())
        if step is None:
            raise InvalidTotpError("That code does not match; check the device clock.")
        replaced = bool(user.totp_secret)
        user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
        user.totp_last_step = step
        uow.audit(
            CATEGORY, "totp.enabled", detail={"target_user_id": user.id, "replaced": replaced}
        )
        uow.commit()


def reset_totp(uow: UnitOfWork, settings: Settings, user_id: int) -> TotpEnrolment | None:
    """Admin: replace a lost device. Ends the user's sessions. Roles that require TOTP get a
    new secret at once (returned once); others simply have MFA switched off."""
    with uow:
        user = _user(uow, user_id)
        if uow.actor is not None and uow.actor.user_id == user.id:
            # A stolen session must not be able to replace its owner's second factor.
            raise ConflictError(
                "Ask another administrator to reset your one-time codes.",
                extra={"reason": "self_reset"},
            )
        secret = credentials.new_totp_secret() if requires_totp(user.roles) else None
        user.totp_secret, user.totp_pending_secret, user.totp_last_step = secret, None, None
        touch(user)  # an admin reset is an edit even when MFA was already off
        revoke_all_sessions(uow, user.id, "totp_reset")
        uow.audit("user_admin", "user.reset_totp", detail={"target_user_id": user.id})
        uow.commit()
        if secret is None:
            return None
        return TotpEnrolment(
            secret, credentials.totp_provisioning_uri(secret, user.username, settings.hospital_name)
        )
