"""Typed wrappers for departments, doctors, slots, appointments and the queue. No Qt here.

Times travel as ISO 8601 strings with an offset (the hospital's time zone); callers parse
them with ``parse_time``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem, specialise
from hms_desktop.api.patients import problem_body

QUEUE_ACTIONS = ("call", "start", "complete")
APPOINTMENT_STATUSES = (
    "booked",
    "checked_in",
    "in_consultation",
    "completed",
    "cancelled",
    "no_show",
)


def parse_time(value: str) -> datetime:
    """Parse a server time (``2026-11-20T09:30:00+01:00`` or ``...Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(eq=False)
class SlotTakenError(ApiProblem):
    """409 ``slot_taken``: ``suggestions`` are the next free ``{doctor_id, start, end}``."""

    suggestions: list[dict] = field(default_factory=list)


def _with_extras(problem: ApiProblem) -> ApiProblem:
    if problem.status == 409 and problem.code == "slot_taken":
        return specialise(problem, SlotTakenError,
                          suggestions=list(problem_body(problem).get("suggestions") or []))
    return problem


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class SchedulingApi:
    """Reception's scheduling calls. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    # -- reference data ----------------------------------------------------------------
    def departments(self) -> list[dict]:
        return list(self.api._get("/departments").get("items", []))

    def doctors(self, *, department_id: int | None = None) -> list[dict]:
        """Active doctors ``{id, full_name, department, department_id, specialty, ...}``."""
        page = self.api._get("/doctors", {"department_id": department_id, "limit": 500})
        return [d for d in page.get("items", []) if d.get("active", True)]

    def slots(self, doctor_id: int, day: date | str) -> list[dict]:
        """Every slot of the doctor's day: ``{start, end, available, ...}``."""
        page = self.api._get("/slots", {"doctor_id": doctor_id, "date": _day(day)})
        return list(page.get("items", []))

    # -- appointments ------------------------------------------------------------------
    def appointments(
        self,
        *,
        day: date | str | None = None,
        date_to: date | str | None = None,
        doctor_id: int | None = None,
        department_id: int | None = None,
        patient_id: int | None = None,
        limit: int = 500,
        offset: int = 0,
        sort: str = "start",
    ) -> dict:
        params = {
            "date": _day(day),
            "date_to": _day(date_to),
            "doctor_id": doctor_id,
            "department_id": department_id,
            "patient_id": patient_id,
            "limit": limit,
            "offset": offset,
            "sort": sort,
        }
        return self.api._get("/appointments", params)

    def all_appointments(self, **filters: Any) -> list[dict]:
        """Every page of ``appointments(**filters)`` (a calendar day needs all of them)."""
        items: list[dict] = []
        while True:
            page = self.appointments(offset=len(items), **filters)
            batch = list(page.get("items", []))
            items.extend(batch)
            if not batch or len(items) >= int(page.get("total", len(items))):
                return items

    def book(
        self,
        *,
        patient_id: int,
        doctor_id: int,
        start: str,
        type: str | None = None,
        reason: str | None = None,
    ) -> dict:
        """Book a slot; raises ``SlotTakenError`` (with suggestions) if someone was faster."""
        body = {
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "start": start,
            "type": type,
            "reason": reason,
        }
        try:
            return self.api._post(
                "/appointments", {k: v for k, v in body.items() if v}, creates=True
            )
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    def check_in(self, appointment_id: int) -> dict:
        """The patient arrived; returns the queue entry (with its ``token``)."""
        return self.api._post(f"/appointments/{appointment_id}/check-in")

    def cancel(self, appointment_id: int, reason: str, version: int | None = None) -> dict:
        body: dict[str, Any] = {"reason": reason}
        if version is not None:
            body["version"] = version
        return self.api._post(f"/appointments/{appointment_id}/cancel", body)

    def no_show(self, appointment_id: int, version: int | None = None) -> dict:
        body = {"version": version} if version is not None else None
        return self.api._post(f"/appointments/{appointment_id}/no-show", body)

    def reschedule(self, appointment_id: int, *, start: str, version: int) -> dict:
        try:
            return self.api._post(
                f"/appointments/{appointment_id}/reschedule", {"start": start, "version": version}
            )
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    # -- queue -------------------------------------------------------------------------
    def queue(
        self,
        *,
        day: date | str | None = None,
        doctor_id: int | None = None,
        department_id: int | None = None,
    ) -> dict:
        """``{items: [QueueEntry], total, date, summary}`` in token order."""
        params = {"date": _day(day), "doctor_id": doctor_id, "department_id": department_id}
        return self.api._get("/queue", params)

    def queue_action(self, entry_id: int, action: str) -> dict:
        """``call``, ``start`` or ``complete`` a queue entry; returns the updated entry."""
        if action not in QUEUE_ACTIONS:
            raise ValueError(f"unknown queue action {action!r}")
        return self.api._post(f"/queue/{entry_id}/{action}")

    def call_next(self, doctor_id: int, day: date | str | None = None) -> dict | None:
        """Call the first waiting patient (lowest token) of the doctor's queue; ``None`` when
        nobody is waiting. Two calls (GET, POST) on purpose: the server has no "next"
        endpoint, and calling is repeatable, so a race with a desk that called the same
        patient meanwhile is harmless."""
        board = self.queue(day=day, doctor_id=doctor_id)
        waiting = sorted((e for e in board.get("items", []) if e.get("status") == "waiting"),
                         key=lambda e: e.get("token", 0))
        return self.queue_action(waiting[0]["id"], "call") if waiting else None
