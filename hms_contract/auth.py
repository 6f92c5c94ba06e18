"""Login, refresh and the signed-in user."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(
        default=None, max_length=16, description="6-digit code; required for accounts with MFA"
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=16, max_length=256)


class ReauthenticateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    roles: list[str]
    active: bool
    totp_enabled: bool
    created_at: datetime
    version: int


class HospitalRead(BaseModel):
    """The hospital's facts printouts and screens need (letterheads, currency, time zone)."""

    name: str
    timezone: str
    address: str = ""
    phone: str = ""
    email: str = ""
    tax_id: str = ""
    currency: str = "EUR"
    currency_minor_unit: int = 2
    has_logo: bool = Field(default=False, description="GET /hospital/logo has a logo")


class MeRead(UserRead):
    permissions: list[str]
    workspaces: list[str]
    hospital: HospitalRead


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth token type, not a secret
    expires_in: int
    user: UserRead
