"""User administration (``/users``) over the public transport. No Qt here."""

from __future__ import annotations

from hms_contract.auth import UserRead
from hms_contract.common import Page
from hms_contract.users import PasswordReset, UserCreate, UserCreated, UserUpdate
from hms_desktop.api.client import ApiClient, request_body


class UsersApi:
    """Accounts and roles for administrators. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def list_users(
        self, q: str | None = None, *, sort: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[UserRead]:
        """One page of users matching ``q`` (username or name), sorted by the server."""
        return self.api.get(
            "/users",
            Page[UserRead],
            params={"q": q, "sort": sort, "limit": limit, "offset": offset},
        )

    def get_user(self, user_id: int) -> UserRead:
        return self.api.get(f"/users/{user_id}", UserRead)

    def create_user(
        self, *, username: str, full_name: str, roles: list[str], password: str
    ) -> UserCreated:
        """A new account; ``totp_provisioning_uri`` is set (once) for roles that need TOTP."""
        body = request_body(
            UserCreate,
            {"username": username, "full_name": full_name, "roles": roles, "password": password},
        )
        return self.api.post("/users", body, UserCreated, creates=True)

    def update_user(
        self,
        user_id: int,
        *,
        version: int,
        full_name: str | None = None,
        roles: list[str] | None = None,
    ) -> UserRead:
        """Change the given fields; a stale ``version`` raises 409 ``version_conflict``."""
        values: dict[str, object] = {"version": version}
        if full_name is not None:
            values["full_name"] = full_name
        if roles is not None:
            values["roles"] = roles
        return self.api.patch(f"/users/{user_id}", request_body(UserUpdate, values), UserRead)

    def disable_user(self, user_id: int) -> UserRead:
        return self.api.post(f"/users/{user_id}/disable", None, UserRead)

    def enable_user(self, user_id: int) -> UserRead:
        return self.api.post(f"/users/{user_id}/enable", None, UserRead)

    def reset_password(self, user_id: int, new_password: str) -> None:
        """Set a new password; the user's sessions end on the server."""
        self.api.post(
            f"/users/{user_id}/reset-password",
            request_body(PasswordReset, {"new_password": new_password}),
        )
