"""Idempotency keys: the first answer to a creating POST, replayed for retries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.infra import IdempotencyRecord
from hms_server.adapters.repositories import Repository


class IdempotencyRepository(Repository):
    def claim(self, user_id: int, key: str, *, method: str, path: str, request_hash: str) -> bool:
        """Claim ``key`` for this request (INSERT ... ON CONFLICT DO NOTHING): a concurrent
        duplicate waits on the unique index until the first commits. False = taken."""
        claimed = self.session.execute(
            insert(IdempotencyRecord)
            .values(
                user_id=user_id,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        ).first()
        return claimed is not None

    def stored(self, user_id: int, key: str) -> tuple[str, int, Any]:
        """(request hash, status code, response body) of the first request with ``key``."""
        record = self.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        ).one()
        return record.request_hash, record.status_code or 200, record.response

    def store_answer(self, user_id: int, key: str, status_code: int, body: Any) -> None:
        self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            .values(status_code=status_code, response=body)
        )
