"""ASGI entry point for uvicorn workers: settings come from the environment."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from hms_server.app import create_app
from hms_server.config import Settings


def create() -> FastAPI:
    from hms_server.adapters import icd10

    # Index the ICD-10 code set in the background so the first problem-list search by a
    # clinician does not wait for it (tests build apps directly and skip this).
    threading.Thread(target=icd10.warm_up, name="icd10-warm-up", daemon=True).start()
    return create_app(Settings())
