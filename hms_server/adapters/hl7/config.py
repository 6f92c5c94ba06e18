"""Bedside-device interface settings, from ``HMS_HL7_*`` environment variables (or the
``HMS_CONFIG_FILE`` dotenv file). The ORU listener runs on its own with
``hms-server hl7-listen``, or inside ``hms-server run`` when ``HMS_HL7_LISTEN_IN_SERVER`` is
true."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Hl7ListenerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HMS_", env_file=os.environ.get("HMS_CONFIG_FILE"), extra="ignore"
    )

    hl7_listen_in_server: bool = False
    hl7_listen_host: str = "127.0.0.1"
    hl7_listen_port: int = Field(default=2575, ge=0, le=65535)
    # Bed-day capture and dose top-up run this often inside the server (seconds).
    ward_maintenance_interval_seconds: float = Field(default=300.0, gt=0)
