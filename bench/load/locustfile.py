"""Locust entry point: every area module's ``USERS`` (``bench/load/areas/*.py``).

Run by ``bench/load_morning.py``; by hand:
``HMS_LOAD_DATA=data.json .venv/bin/locust -f bench/load/locustfile.py --headless -u 50 ...``
Set ``HMS_LOAD_AREAS=outpatient,billing`` to run only some areas.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import areas

_only = {a for a in os.environ.get("HMS_LOAD_AREAS", "").split(",") if a}
for _module in pkgutil.iter_modules(areas.__path__):
    if _module.name == "common" or (_only and _module.name not in _only):
        continue
    for _user in importlib.import_module(f"areas.{_module.name}").USERS:
        globals()[f"{_module.name}_{_user.__name__}"] = _user
del _module, _user  # locust collects every User class bound in this module
