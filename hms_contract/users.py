"""User administration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hms_contract.auth import USERNAME_PATTERN, UserRead

PASSWORD_MIN_LENGTH = 12  # staff accounts (issue 8); the server's policy says why it refuses
PASSWORD_MAX_LENGTH = 128

ROLE_NAMES = (
    "admin",
    "receptionist",
    "doctor",
    "nurse",
    "pharmacist",
    "billing_clerk",
    "hr_officer",
    "manager",
)


def _check_roles(roles: list[str] | None) -> list[str] | None:
    if roles is None:
        return None
    unknown = sorted(set(roles) - set(ROLE_NAMES))
    if unknown:
        raise ValueError(
            f"unknown role(s): {', '.join(unknown)}; choose from {', '.join(ROLE_NAMES)}"
        )
    if not roles:
        raise ValueError("at least one role is required")
    return sorted(set(roles))


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        pattern=USERNAME_PATTERN, description="2-64 letters, digits, dot, dash or underscore"
    )
    full_name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1, max_length=8)
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)

    _roles = field_validator("roles")(_check_roles)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[str] | None = Field(default=None, min_length=1, max_length=8)

    _roles = field_validator("roles")(_check_roles)


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)


class UserCreated(UserRead):
    totp_provisioning_uri: str | None = None
