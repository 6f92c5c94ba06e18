"""What administrators review (no Qt): emergency ("break the glass") chart accesses
(``/break-glass``) and the outgoing-message outbox (``/messages``)."""

from __future__ import annotations

from hms_contract.clinical import BreakGlassRead, BreakGlassReview
from hms_contract.common import Page
from hms_contract.messaging import MessageRead
from hms_desktop.api.client import ApiClient, request_body


class OversightApi:
    """Break-the-glass review and the message outbox. Thread-safe like ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def break_glass(
        self, *, unreviewed: bool = False, limit: int = 50, offset: int = 0
    ) -> Page[BreakGlassRead]:
        """Emergency accesses, newest first, with whom they were about and how often the
        grant was used."""
        return self.api.get(
            "/break-glass",
            Page[BreakGlassRead],
            params={"unreviewed": "true" if unreviewed else None, "limit": limit, "offset": offset},
        )

    def review_break_glass(self, grant_id: int, note: str | None) -> BreakGlassRead:
        body = request_body(BreakGlassReview, {"note": note} if note else {})
        return self.api.post(f"/break-glass/{grant_id}/review", body, BreakGlassRead)

    def messages(
        self, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[MessageRead]:
        """Outgoing SMS and e-mail, newest first (recipients masked, no message text)."""
        return self.api.get(
            "/messages",
            Page[MessageRead],
            params={"status": status, "limit": limit, "offset": offset},
        )

    def retry_message(self, message_id: int) -> MessageRead:
        return self.api.post(f"/messages/{message_id}/retry", None, MessageRead)
