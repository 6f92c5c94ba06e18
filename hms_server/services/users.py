"""Staff accounts: create, change roles, disable/enable, reset password (admin use cases)."""

from __future__ import annotations

from dataclasses import dataclass

from hms_server.adapters.common_passwords import common_passwords
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.identity import User
from hms_server.adapters.repositories.identity import USER_SORT_COLUMNS, UserRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.config import Settings
from hms_server.domain.errors import ConflictError, NotFoundError
from hms_server.domain.passwords import check_password_policy
from hms_server.domain.permissions import requires_totp
from hms_server.domain.versioning import check_version
from hms_server.services import credentials, sign_in_guard
from hms_server.services.auth import revoke_all_sessions

CATEGORY = "user_admin"
SORTABLE = tuple(USER_SORT_COLUMNS)


@dataclass(frozen=True)
class CreatedUser:
    user: User
    totp_provisioning_uri: str | None


def _get(uow: UnitOfWork, user_id: int, *, lock: bool = False) -> User:
    user = uow.repo(UserRepository).get(user_id, lock=lock)
    if user is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return user


def _refuse_self_lockout(
    uow: UnitOfWork, user: User, *, disabling: bool = False, new_roles: list[str] | None = None
) -> None:
    """An admin may not disable themself or drop their own admin role: the last admin
    doing so would leave nobody able to administer the system."""
    if uow.actor is None or uow.actor.user_id != user.id:
        return
    if disabling:
        raise ConflictError(
            "You cannot disable your own account.", extra={"reason": "self_lockout"}
        )
    if new_roles is not None and "admin" in user.roles and "admin" not in new_roles:
        raise ConflictError(
            "You cannot remove the admin role from your own account.",
            extra={"reason": "self_lockout"},
        )


def create_user(
    uow: UnitOfWork,
    settings: Settings,
    *,
    username: str,
    full_name: str,
    roles: list[str],
    password: str,
) -> CreatedUser:
    """Create a staff account; roles that require MFA get a TOTP secret provisioned now."""
    check_password_policy(
        password, user_inputs=[username, *full_name.split()], common=common_passwords()
    )
    with uow:
        users = uow.repo(UserRepository)
        if users.id_by_username(username):
            raise ConflictError(f"The username '{username}' is already taken.")
        secret = credentials.new_totp_secret() if requires_totp(roles) else None
        user = User(
            username=username,
            full_name=full_name,
            roles=sorted(set(roles)),
            password_hash=credentials.hash_password(password),
            active=True,
            totp_secret=secret,
            failed_logins=0,
            lock_count=0,
            password_changed_at=utcnow(),
        )
        if not users.add_unless_username_taken(user):  # lost a race on the unique username
            raise ConflictError(f"The username '{username}' is already taken.")
        uow.audit(CATEGORY, "user.create", detail={"target_user_id": user.id, "roles": user.roles})
        uow.publish("user.created", {"user_id": user.id})
        uow.commit()
        uri = (
            credentials.totp_provisioning_uri(secret, username, settings.hospital_name)
            if secret
            else None
        )
        return CreatedUser(user=user, totp_provisioning_uri=uri)


def list_users(
    uow: UnitOfWork, *, q: str | None, limit: int, offset: int, sort: str
) -> tuple[list[User], int]:
    with uow:
        return uow.repo(UserRepository).search(q=q, sort=sort, limit=limit, offset=offset)


def get_user(uow: UnitOfWork, user_id: int) -> User:
    with uow:
        return _get(uow, user_id)


def update_user(
    uow: UnitOfWork, user_id: int, *, version: int, full_name: str | None, roles: list[str] | None
) -> User:
    with uow:
        user = _get(uow, user_id, lock=True)
        check_version(user.version, version, "user")
        changes: dict[str, object] = {}
        if full_name is not None and full_name != user.full_name:
            user.full_name = full_name
            changes["full_name"] = True
        if roles is not None:
            _refuse_self_lockout(uow, user, new_roles=roles)
        if roles is not None and sorted(set(roles)) != sorted(user.roles):
            changes["roles"] = {"from": list(user.roles), "to": sorted(set(roles))}
            user.roles = sorted(set(roles))
            if requires_totp(user.roles) and not user.totp_secret:
                user.totp_secret = credentials.new_totp_secret()
        if changes:
            uow.audit(CATEGORY, "user.update", detail={"target_user_id": user.id, **changes})
            uow.publish("user.updated", {"user_id": user.id})
        uow.commit()
        return user


def set_user_active(uow: UnitOfWork, user_id: int, *, active: bool) -> User:
    """Disable or re-enable an account. Disabling ends every session at once."""
    with uow:
        user = _get(uow, user_id, lock=True)
        if not active:
            _refuse_self_lockout(uow, user, disabling=True)
        if user.active != active:
            user.active = active
            if not active:
                revoke_all_sessions(uow, user.id, "user_disabled")
            uow.audit(
                CATEGORY,
                "user.enable" if active else "user.disable",
                detail={"target_user_id": user.id},
            )
            uow.publish("user.updated", {"user_id": user.id})
        uow.commit()
        return user


def reset_password(uow: UnitOfWork, user_id: int, *, new_password: str) -> None:
    """Set a new password; ends all sessions and clears any lockout."""
    with uow:
        user = _get(uow, user_id, lock=True)
        check_password_policy(
            new_password,
            user_inputs=[user.username, *user.full_name.split()],
            common=common_passwords(),
            field="new_password",
        )
        user.password_hash = credentials.hash_password(new_password)
        user.password_changed_at = utcnow()
        user.failed_logins, user.lock_count, user.locked_until = 0, 0, None
        sign_in_guard.clear(uow, user.username)
        revoke_all_sessions(uow, user.id, "password_changed")
        uow.audit(CATEGORY, "user.reset_password", detail={"target_user_id": user.id})
        uow.commit()


def unlock_user(uow: UnitOfWork, user_id: int) -> User:
    """Forget the account's failed sign-ins and locks, at every address (after an attack
    has been dealt with); its sessions and password are unchanged."""
    with uow:
        user = _get(uow, user_id, lock=True)
        sign_in_guard.clear(uow, user.username)
        uow.audit(CATEGORY, "user.unlock", detail={"target_user_id": user.id})
        uow.commit()
        return user


def disable_user_by_name(uow: UnitOfWork, username: str) -> User:
    with uow:
        user_id = uow.repo(UserRepository).id_by_username(username)
        if user_id is None:
            raise NotFoundError(f"No user named '{username}'.")
        user = set_user_active(uow, user_id, active=False)
        uow.commit()
        return user
