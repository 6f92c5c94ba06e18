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
from hms_server.api.deps import RequestContext, Require
from hms_server.domain.permissions import Perm

router = APIRouter(tags=["events"])


def _frame(event: Event) -> bytes:
    data = json.dumps(event.data, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


@router.get("/events", operation_id="stream_events",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream_events(
    request: Request,
    ctx: Annotated[RequestContext, Depends(Require(Perm.SELF))],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Stream events (ids and types only, never patient names). Resume with Last-Event-ID."""
    hub: EventHub = request.app.state.event_hub
    ping_seconds: float = ctx.settings.events_ping_seconds
    sub = hub.subscribe()
    backlog: list[Event] = []
    if last_event_id and last_event_id.isdigit():
        backlog = await run_in_threadpool(hub.replay_since, int(last_event_id))

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield b"retry: 2000\n: connected\n\n"
            sent = 0
            for event in backlog:
                sent = event.id
                yield _frame(event)
            while True:
                if await request.is_disconnected():
                    return
                try:
                    event = await asyncio.wait_for(sub.queue.get(), timeout=ping_seconds)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if event.id > sent:
                    yield _frame(event)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
