"""SQLAlchemy 2 table models, one module per business area.

Importing this package imports every module in it, which registers every table on
``Base.metadata`` (Alembic relies on it); a new area only adds its module.
"""

import importlib
import pkgutil

from hms_server.adapters.orm.base import Base
from hms_server.adapters.orm.identity import AuthSession, LoginThrottle, RefreshToken, User
from hms_server.adapters.orm.infra import AuditEntry, IdempotencyRecord, OutboxEvent

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "AuditEntry",
    "AuthSession",
    "Base",
    "IdempotencyRecord",
    "LoginThrottle",
    "OutboxEvent",
    "RefreshToken",
    "User",
]
