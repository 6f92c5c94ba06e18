"""SQLAlchemy 2 table models, one module per business area.

Importing this package registers every table on ``Base.metadata`` (Alembic relies on it).
"""

from hms_server.adapters.orm.base import Base
from hms_server.adapters.orm.identity import AuthSession, LoginThrottle, RefreshToken, User
from hms_server.adapters.orm.infra import AuditEntry, IdempotencyRecord, OutboxEvent

__all__ = [
    "AuditEntry", "AuthSession", "Base", "IdempotencyRecord", "LoginThrottle", "OutboxEvent",
    "RefreshToken", "User",
]
