"""Server settings, read from ``HMS_*`` environment variables and an optional config file.

The config file (``HMS_CONFIG_FILE``, dotenv syntax) exists so an operator can keep secrets
such as ``HMS_JWT_SECRET`` out of shell history and systemd units.
"""

from __future__ import annotations

import os
from decimal import Decimal
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
    # Brute-force protection (services/sign_in_guard.py): N failures of one username from one
    # address (within failure_window_seconds) lock that pair for lockout_seconds, doubling on
    # each further lock up to lockout_max_seconds; account_failure_ceiling failures from all
    # addresses within account_window_seconds lock the account everywhere except addresses
    # its owner signed in from in the last trusted_address_days. Nobody can lock staff out.
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_seconds: int = Field(default=30, ge=1)
    lockout_max_seconds: int = Field(default=900, ge=1)
    failure_window_seconds: int = Field(default=900, ge=1)
    account_failure_ceiling: int = Field(default=50, ge=1)
    account_window_seconds: int = Field(default=900, ge=1)
    trusted_address_days: int = Field(default=30, ge=0)
    address_failure_limit: int = 20
    address_window_seconds: int = 300
    mrn_prefix: str = "HMS"
    hospital_timezone: str = "UTC"
    hospital_name: str = "HMS Demo Hospital"
    hospital_address: str = ""
    hospital_phone: str = ""
    hospital_email: str = ""
    hospital_tax_id: str = ""
    # A PNG or JPEG (at most 2 MB) printed on letterheads (prescriptions, invoices, receipts,
    # statements; GET /hospital/logo and GET /billing/logo); empty: none.
    hospital_logo_file: str = ""
    # Public address of the self-booking page, told to patients in messages.
    booking_url: str = ""
    # ISO 4217 currency of all money, and its minor unit (2 = cents).
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    currency_minor_unit: int = Field(default=2, ge=0, le=3)
    events_ping_seconds: float = 15.0
    pool_size: int = 10
    # Requests one server worker process runs at once (threads for the synchronous routes;
    # the rest wait their turn in the event loop). 0: as many as pool_size, so no request
    # waits for a connection while holding a thread, and no overflow connections churn.
    request_threads: int = Field(default=0, ge=0, le=200)
    # --- audit seal (see docs/security.md and hms_server/adapters/audit_sealer.py) ---
    # HMAC key of the audit chain (hex or URL-safe base64, >= 32 bytes). The database never
    # holds it; every server of one hospital uses the same key. Unset: a key file in
    # state_dir ('audit.key') is used, created on the first 'hms-server run'.
    audit_key: str = ""
    # Server-local state (audit key file, audit checkpoints). Default: per-user state folder.
    state_dir: str = ""
    # Signed checkpoints go here (default: <state_dir>/audit-checkpoints) and to the journal.
    audit_checkpoint_dir: str = ""
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0, le=600)
    # Optional syslog target for checkpoints: '/dev/log' or 'host:port' (UDP).
    audit_syslog: str = ""
    audit_seal_interval_seconds: float = Field(default=0.25, gt=0, le=5)
    # Read-only work (reports) may use a streaming replica; empty: the primary.
    database_replica_url: str = ""

    # --- billing (issue 9) ---------------------------------------------------------------
    # Discounts above either threshold, and refunds above the amount, wait for a second
    # user's (a manager's) approval; write-offs always do.
    billing_discount_approval_percent: Decimal = Field(default=Decimal(10), ge=0, le=100)
    billing_discount_approval_amount: Decimal = Field(default=Decimal(50), ge=0)
    billing_refund_approval_amount: Decimal = Field(default=Decimal(100), ge=0)
    invoice_due_days: int = Field(default=30, ge=0, le=365)
    # The insurers' FHIR R4 endpoint and the card gateway; unset = not available here.
    payer_fhir_url: str = ""
    payer_timeout_seconds: float = Field(default=10.0, gt=0)
    payer_retries: int = Field(default=2, ge=0, le=5)
    card_gateway_url: str = ""
    card_gateway_api_key: str = ""
    card_gateway_webhook_secret: str = ""
    card_gateway_timeout_seconds: float = Field(default=10.0, gt=0)
    card_gateway_webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings`` and pass it to the app factory."""
    return Settings()
