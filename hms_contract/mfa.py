"""TOTP enrolment shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TotpEnrolmentRead(BaseModel):
    secret: str = Field(description="Base32 secret, for manual entry; shown once")
    provisioning_uri: str = Field(description="otpauth:// URI for a QR code; shown once")


class TotpEnrolmentStart(BaseModel):
    """Proof that the account's owner is at the keyboard, not just their token."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024, description="Your current password")
    code: str | None = Field(
        default=None,
        min_length=6,
        max_length=8,
        pattern=r"^\s*\d{3}\s?\d{3}\s*$",
        description="The current one-time code, when an authenticator "
        "is already enrolled (it is being replaced)",
    )


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=8, pattern=r"^\s*\d{3}\s?\d{3}\s*$")


class TotpResetRead(BaseModel):
    totp_enabled: bool
    enrolment: TotpEnrolmentRead | None = None
