"""Live updates for desktops: server-sent events from the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from hms_server.adapters.events import Event, EventHub
from hms_server.adapters.repositories.identity import SignInRepository
from hms_server.api.deps import RequestContext, Require
from hms_server.domain.errors import NotAuthenticatedError
from hms_server.domain.event_access import may_receive
from hms_server.domain.permissions import Perm
from hms_server.services.auth import refreshed_principal

router = APIRouter(tags=["events"])


def _still_signed_in(ctx: RequestContext) -> frozenset[Perm] | None:
    """The user's permissions now, or None once the session has ended. An access token
    expires after minutes while a stream lasts hours, so the session row decides."""
    try:
        with ctx.session_factory() as session:
            return refreshed_principal(SignInRepository(session), ctx.principal).permissions
    except NotAuthenticatedError:
        return None


def _frame(event: Event) -> bytes:
    data = json.dumps(event.data, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


@router.get(
    "/events",
    operation_id="stream_events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    ctx: Annotated[RequestContext, Depends(Require(Perm.SELF))],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Stream events (ids and types only, never patient names). Resume with Last-Event-ID.

    Each user receives only the kinds of events their role may read (``domain.event_access``);
    the session is re-checked at every ping, and the stream ends when it has been ended
    (sign-out, account disabled, password reset) or the role no longer allows anything."""
    hub: EventHub = request.app.state.event_hub
    ping_seconds: float = ctx.settings.events_ping_seconds
    sub = hub.subscribe()
    backlog: list[Event] = []
    if last_event_id and last_event_id.isdigit():
        backlog = await run_in_threadpool(hub.replay_since, int(last_event_id))
    permissions = ctx.principal.permissions

    async def frames() -> AsyncIterator[bytes]:
        nonlocal permissions
        try:
            yield b"retry: 2000\n: connected\n\n"
            sent = 0
            for event in backlog:
                sent = event.id
                if may_receive(event.type, permissions):
                    yield _frame(event)
            clock = asyncio.get_running_loop().time
            next_check = clock() + ping_seconds
            while True:
                if await request.is_disconnected():
                    return
                event: Event | None
                try:
                    event = await asyncio.wait_for(
                        sub.queue.get(), timeout=max(0.0, next_check - clock())
                    )
                except TimeoutError:
                    event = None
                if clock() >= next_check:  # also when events never pause
                    current = await run_in_threadpool(_still_signed_in, ctx)
                    if current is None:
                        return
                    permissions = current
                    next_check = clock() + ping_seconds
                    if event is None:
                        yield b": ping\n\n"
                if event is not None and event.id > sent and may_receive(event.type, permissions):
                    yield _frame(event)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
