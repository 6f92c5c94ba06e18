"""Departments, doctors, slots, appointments and the queue over the public transport. No Qt.

Times arrive as aware ``datetime`` objects in the hospital's time zone (the offset the
server sent), so ``start.strftime("%H:%M")`` is the hospital's wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from hms_contract.common import Page
from hms_contract.scheduling import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentNoShow,
    AppointmentRead,
    AppointmentReschedule,
    DepartmentRead,
    DoctorRead,
    FreeSlotRead,
    QueueBoardRead,
    QueueEntryRead,
    SlotList,
    SlotRead,
    WaitlistCreate,
    WaitlistRead,
)
from hms_desktop.api.client import ApiClient, request_body
from hms_desktop.api.errors import ApiProblem, specialise

QUEUE_ACTIONS = ("call", "start", "complete")
APPOINTMENT_STATUSES = (
    "booked",
    "checked_in",
    "in_consultation",
    "completed",
    "cancelled",
    "no_show",
)

_SUGGESTIONS = TypeAdapter(list[FreeSlotRead])


@dataclass(eq=False)
class SlotTakenError(ApiProblem):
    """409 ``slot_taken``: ``suggestions`` are the doctor's next free times."""

    suggestions: list[FreeSlotRead] = field(default_factory=list)


def _with_extras(problem: ApiProblem) -> ApiProblem:
    if problem.status == 409 and problem.code == "slot_taken":
        suggestions = _SUGGESTIONS.validate_python(problem.member("suggestions") or [])
        return specialise(problem, SlotTakenError, suggestions=suggestions)
    return problem


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class SchedulingApi:
    """Reception's and the doctor's scheduling calls. Thread-safe like the ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    # -- reference data ----------------------------------------------------------------
    def departments(self) -> list[DepartmentRead]:
        return list(self.api.get("/departments", Page[DepartmentRead]).items)

    def doctors(self, *, department_id: int | None = None) -> list[DoctorRead]:
        """The active doctors (of one department)."""
        page = self.api.get(
            "/doctors", Page[DoctorRead], params={"department_id": department_id, "limit": 500}
        )
        return [d for d in page.items if d.active]

    def doctor_of_user(self, user_id: int) -> DoctorRead | None:
        """The scheduling doctor record of a signed-in user, if they have one."""
        page = self.api.get("/doctors", Page[DoctorRead], params={"limit": 500})
        return next((d for d in page.items if d.user_id == user_id), None)

    def slots(self, doctor_id: int, day: date | str) -> list[SlotRead]:
        """Every slot of the doctor's day, free or not (``available``)."""
        answer = self.api.get(
            "/slots", SlotList, params={"doctor_id": doctor_id, "date": _day(day)}
        )
        return list(answer.items)

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
    ) -> Page[AppointmentRead]:
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
        return self.api.get("/appointments", Page[AppointmentRead], params=params)

    def all_appointments(self, **filters: Any) -> list[AppointmentRead]:
        """Every page of ``appointments(**filters)`` (a calendar day needs all of them)."""
        items: list[AppointmentRead] = []
        while True:
            page = self.appointments(offset=len(items), **filters)
            items.extend(page.items)
            if not page.items or len(items) >= page.total:
                return items

    def book(
        self,
        *,
        patient_id: int,
        doctor_id: int,
        start: datetime | str,
        type: str | None = None,
        reason: str | None = None,
    ) -> AppointmentRead:
        """Book a slot; raises ``SlotTakenError`` (with suggestions) if someone was faster."""
        values = {
            "patient_id": patient_id,
            "doctor_id": doctor_id,
            "start": start,
            "type": type,
            "reason": reason,
        }
        body = request_body(AppointmentCreate, {k: v for k, v in values.items() if v})
        try:
            return self.api.post("/appointments", body, AppointmentRead, creates=True)
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    # -- waitlist ------------------------------------------------------------------------
    def waitlist(
        self, *, status: str | None = None, limit: int = 200, offset: int = 0
    ) -> Page[WaitlistRead]:
        """Waitlist entries, longest-waiting first (with patient and doctor names)."""
        return self.api.get(
            "/waitlist",
            Page[WaitlistRead],
            params={"status": status, "limit": limit, "offset": offset},
        )

    def add_to_waitlist(
        self,
        *,
        patient_id: int,
        doctor_id: int | None = None,
        department_id: int | None = None,
        earliest: date,
        latest: date,
        reason: str | None = None,
    ) -> WaitlistRead:
        values: dict[str, Any] = {
            "patient_id": patient_id,
            "earliest_date": earliest,
            "latest_date": latest,
        }
        if doctor_id is not None:
            values["doctor_id"] = doctor_id
        if department_id is not None:
            values["department_id"] = department_id
        if reason:
            values["reason"] = reason
        return self.api.post(
            "/waitlist", request_body(WaitlistCreate, values), WaitlistRead, creates=True
        )

    def accept_waitlist_offer(self, entry_id: int) -> AppointmentRead:
        """Book the slot offered to a waitlist entry (``SlotTakenError`` if someone was
        faster)."""
        try:
            return self.api.post(f"/waitlist/{entry_id}/accept", None, AppointmentRead)
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    def remove_from_waitlist(self, entry_id: int) -> WaitlistRead:
        return self.api.post(f"/waitlist/{entry_id}/remove", None, WaitlistRead)

    def check_in(self, appointment_id: int) -> QueueEntryRead:
        """The patient arrived; returns the queue entry (with its ``token``)."""
        return self.api.post(f"/appointments/{appointment_id}/check-in", None, QueueEntryRead)

    def cancel(
        self, appointment_id: int, reason: str, version: int | None = None
    ) -> AppointmentRead:
        values: dict[str, Any] = {"reason": reason}
        if version is not None:
            values["version"] = version
        return self.api.post(
            f"/appointments/{appointment_id}/cancel",
            request_body(AppointmentCancel, values),
            AppointmentRead,
        )

    def no_show(self, appointment_id: int, version: int | None = None) -> AppointmentRead:
        body = (
            request_body(AppointmentNoShow, {"version": version}) if version is not None else None
        )
        return self.api.post(f"/appointments/{appointment_id}/no-show", body, AppointmentRead)

    def reschedule(
        self, appointment_id: int, *, start: datetime | str, version: int
    ) -> AppointmentRead:
        """Move to ``start`` (same doctor); ``SlotTakenError`` when it was taken meanwhile,
        409 ``version_conflict`` when the appointment changed since it was read."""
        body = request_body(AppointmentReschedule, {"start": start, "version": version})
        try:
            return self.api.post(
                f"/appointments/{appointment_id}/reschedule", body, AppointmentRead
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
    ) -> QueueBoardRead:
        """The day's queue entries in token order, with a summary."""
        params = {"date": _day(day), "doctor_id": doctor_id, "department_id": department_id}
        return self.api.get("/queue", QueueBoardRead, params=params)

    def queue_action(self, entry_id: int, action: str) -> QueueEntryRead:
        """``call``, ``start`` or ``complete`` a queue entry; returns the updated entry."""
        if action not in QUEUE_ACTIONS:
            raise ValueError(f"unknown queue action {action!r}")
        return self.api.post(f"/queue/{entry_id}/{action}", None, QueueEntryRead)

    def call_next(self, doctor_id: int, day: date | str | None = None) -> QueueEntryRead | None:
        """Call the first waiting patient (lowest token) of the doctor's queue; ``None`` when
        nobody is waiting. Two calls (GET, POST) on purpose: the server has no "next"
        endpoint, and calling is repeatable, so a race with a desk that called the same
        patient meanwhile is harmless."""
        board = self.queue(day=day, doctor_id=doctor_id)
        waiting = sorted((e for e in board.items if e.status == "waiting"), key=lambda e: e.token)
        return self.queue_action(waiting[0].id, "call") if waiting else None
