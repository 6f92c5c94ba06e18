"""ASGI entry point for uvicorn workers: settings come from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from hms_server.app import create_app
from hms_server.config import Settings


def create() -> FastAPI:
    return create_app(Settings())
