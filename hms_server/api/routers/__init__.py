"""One router module per business area, each exposing ``router``.

Modules are discovered, so adding an area never edits a shared list. A module that serves
outside ``/api/v1`` (FHIR, the public booking page) sets ``API_PREFIXED = False``.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def discover_routers(prefixed: bool = True) -> list[APIRouter]:
    routers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter) and getattr(module, "API_PREFIXED", True) == prefixed:
            routers.append(router)
    return routers
