"""``Idempotency-Key`` for creating POSTs: a retried request returns the first answer.

The key is claimed with INSERT ... ON CONFLICT DO NOTHING in the same transaction as the
work, so a concurrent duplicate waits on the unique index until the first commits and then
replays its stored answer; if the first fails, nothing was stored and the retry does the work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hms_server.adapters.repositories.idempotency import IdempotencyRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.api.deps import RequestContext
from hms_server.domain.errors import IdempotencyKeyReusedError, ValidationFailedError

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Unique per logical request (e.g. a UUID); retries reuse it.",
    ),
]


def _fingerprint(method: str, path: str, payload: Any) -> str:
    body = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def run_idempotent(
    ctx: RequestContext,
    request: Request,
    key: str | None,
    payload: BaseModel | dict[str, Any] | None,
    work: Callable[[UnitOfWork], T],
    serialize: Callable[[T], BaseModel | dict[str, Any]],
    status_code: int = 201,
    headers: Callable[[T], dict[str, str]] | None = None,
) -> JSONResponse:
    """Run ``work`` once per (user, key); replay the stored response for repeats."""
    uow = ctx.uow()
    if key is not None and not key.strip():
        raise ValidationFailedError("Idempotency-Key must not be blank.")
    with uow:
        records = uow.repo(IdempotencyRepository)
        user_id = ctx.principal.user_id
        if key:
            fingerprint = _fingerprint(request.method, request.url.path, payload)
            if not records.claim(
                user_id, key, method=request.method, path=request.url.path, request_hash=fingerprint
            ):
                stored_hash, stored_status, stored_body = records.stored(user_id, key)
                if stored_hash != fingerprint:
                    raise IdempotencyKeyReusedError(
                        "This Idempotency-Key was already used for a different request."
                    )
                return JSONResponse(
                    stored_body, status_code=stored_status, headers={"Idempotent-Replayed": "true"}
                )
        result = work(uow)
        body = jsonable_encoder(serialize(result))
        if key:
            records.store_answer(user_id, key, status_code, body)
        uow.commit()
    return JSONResponse(body, status_code=status_code, headers=headers(result) if headers else None)
