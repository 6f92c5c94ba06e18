"""Messaging settings, from ``HMS_SMTP_*`` / ``HMS_SMS_*`` / ``HMS_HL7_*`` environment
variables (or the ``HMS_CONFIG_FILE`` dotenv file, like the main settings). A channel whose
host/URL is unset is disabled; with none set, no dispatcher runs."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MessagingSettings(BaseSettings):
    """Gateway configuration and dispatcher tuning."""

    model_config = SettingsConfigDict(
        env_prefix="HMS_", env_file=os.environ.get("HMS_CONFIG_FILE"), extra="ignore"
    )

    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS (port 465)
    smtp_ca_file: str = ""  # trust this CA (a LAN relay's) in addition to the system store
    smtp_from: str = "HMS Demo Hospital <no-reply@hms.invalid>"
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)

    sms_gateway_url: str = ""  # full endpoint, e.g. https://sms.example/v1/messages
    sms_api_key: str = ""
    sms_sender: str = "HMS"
    sms_timeout_seconds: float = Field(default=10.0, gt=0)

    # HL7 v2 ADT out (admit, transfer, discharge, cancel) over MLLP to the hospital's
    # interface engine, e.g. "hl7-engine.lan:2575"; unset = no ADT messages are produced.
    hl7_adt_endpoint: str = ""
    hl7_sending_facility: str = "HMS"
    hl7_receiving_application: str = ""
    hl7_receiving_facility: str = ""
    hl7_timeout_seconds: float = Field(default=10.0, gt=0)

    messaging_dispatch_interval_seconds: float = Field(default=5.0, gt=0)
    messaging_batch_size: int = Field(default=50, ge=1, le=1000)

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host or self.sms_gateway_url or self.hl7_adt_endpoint)


def build_adapters(settings: MessagingSettings) -> dict[str, object]:
    """The configured adapters by channel name (empty when messaging is not configured)."""
    adapters: dict[str, object] = {}
    if settings.smtp_host:
        from hms_server.adapters.messaging.smtp import SmtpAdapter

        adapters["email"] = SmtpAdapter.from_settings(settings)
    if settings.sms_gateway_url:
        from hms_server.adapters.messaging.sms_http import HttpSmsAdapter

        adapters["sms"] = HttpSmsAdapter.from_settings(settings)
    if settings.hl7_adt_endpoint:
        from hms_server.adapters.messaging.mllp import MllpAdapter

        adapters["hl7"] = MllpAdapter(timeout=settings.hl7_timeout_seconds)
    return adapters
