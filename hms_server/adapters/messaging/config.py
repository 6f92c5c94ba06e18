"""Messaging settings, from ``HMS_SMTP_*`` / ``HMS_SMS_*`` environment variables (or the
``HMS_CONFIG_FILE`` dotenv file, like the main settings). A channel whose host/URL is unset
is disabled; with neither set, no dispatcher runs."""

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

    messaging_dispatch_interval_seconds: float = Field(default=5.0, gt=0)
    messaging_batch_size: int = Field(default=50, ge=1, le=1000)

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_host or self.sms_gateway_url)


def build_adapters(settings: MessagingSettings) -> dict[str, object]:
    """The configured adapters by channel name (empty when messaging is not configured)."""
    adapters: dict[str, object] = {}
    if settings.smtp_host:
        from hms_server.adapters.messaging.smtp import SmtpAdapter

        adapters["email"] = SmtpAdapter.from_settings(settings)
    if settings.sms_gateway_url:
        from hms_server.adapters.messaging.sms_http import HttpSmsAdapter

        adapters["sms"] = HttpSmsAdapter.from_settings(settings)
    return adapters
