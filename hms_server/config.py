"""Server settings, read from ``HMS_*`` environment variables and an optional config file.

The config file (``HMS_CONFIG_FILE``, dotenv syntax) exists so an operator can keep secrets
such as ``HMS_JWT_SECRET`` out of shell history and systemd units.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All tunables of hms-server. Defaults suit the loopback demo; production sets URL + secret."""

    model_config = SettingsConfigDict(
        env_prefix="HMS_", env_file=os.environ.get("HMS_CONFIG_FILE"), extra="ignore"
    )

    database_url: str = ""
    # Optional explicit runtime (least-privilege) URL; otherwise derived from database_url.
    runtime_database_url: str = ""
    jwt_secret: str = ""
    jwt_issuer: str = "hms-server"
    jwt_audience: str = "hms-api"
    access_token_minutes: int = Field(default=15, ge=1, le=15)
    refresh_token_hours: int = Field(default=12, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    # Brute-force protection: lock an account after N failures for lockout_seconds, doubling
    # on each further lock up to lockout_max_seconds, so nobody can lock another user out forever.
    lockout_threshold: int = 5
    lockout_seconds: int = 30
    lockout_max_seconds: int = 900
    address_failure_limit: int = 20
    address_window_seconds: int = 300
    mrn_prefix: str = "HMS"
    hospital_timezone: str = "UTC"
    hospital_name: str = "HMS Demo Hospital"
    hospital_address: str = ""
    hospital_phone: str = ""
    hospital_email: str = ""
    hospital_tax_id: str = ""
    # A PNG or JPEG (at most 512 KB) printed on letterheads (prescriptions); empty: none.
    hospital_logo_file: str = ""
    # Public address of the self-booking page, told to patients in messages.
    booking_url: str = ""
    # ISO 4217 currency of all money, and its minor unit (2 = cents).
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    currency_minor_unit: int = Field(default=2, ge=0, le=3)
    events_ping_seconds: float = 15.0
    pool_size: int = 10


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings`` and pass it to the app factory."""
    return Settings()
