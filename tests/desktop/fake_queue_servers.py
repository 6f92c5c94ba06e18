"""The fake servers plus the queue actions and the reschedule endpoint.

- ``FakeClinicalQueueServer``: the clinical fake with a doctor's day (appointments and queue
  entries) behind ``GET /appointments``, ``GET /queue`` and the queue actions.
- ``FakeReceptionQueueServer``: the reception fake with the queue actions and
  ``POST /appointments/{id}/reschedule`` (same doctor; 409 ``version_conflict``; 409
  ``slot_taken`` with ``suggestions``, also when another desk takes the slot first).

Queue actions follow the server's transitions (waiting/called → called or in_consultation,
in_consultation → done; otherwise 409 ``invalid_status``) and publish ``queue.updated``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from hms_contract.patients import PatientRead
from hms_contract.scheduling import (
    AppointmentRead,
    AppointmentReschedule,
    QueueBoardRead,
    QueueEntryRead,
    QueueSummary,
)
from tests.desktop.fake_clinical_server import DOCTOR_ID, FakeClinicalServer
from tests.desktop.fake_reception_server import FakeReceptionServer, today_at, when
from tests.desktop.fake_server import Route, paged, parse_body, problem

_FROM = {
    "call": ("waiting", "called"),
    "start": ("waiting", "called"),
    "complete": ("in_consultation",),
}
_TO = {"call": "called", "start": "in_consultation", "complete": "done"}
_APPOINTMENT_TO = {"start": "in_consultation", "complete": "completed"}


def apply_queue_action(
    entry: QueueEntryRead, action: str, appointments: dict[int, AppointmentRead]
) -> QueueEntryRead | httpx.Response:
    if entry.status not in _FROM[action]:
        return problem(
            409, "invalid_status", f"Not possible while the queue entry is '{entry.status}'."
        )
    entry.status = _TO[action]
    stamp = when(today_at(10))
    if action == "call":
        entry.called_at = stamp
    elif action == "start":
        entry.started_at = stamp
        entry.called_at = entry.called_at or stamp
        entry.encounter_id = 500 + entry.id
    else:
        entry.completed_at = stamp
    entry.version += 1
    appointment = appointments.get(entry.appointment_id) if entry.appointment_id else None
    if appointment is not None and action in _APPOINTMENT_TO:
        appointment.status = _APPOINTMENT_TO[action]
        appointment.version += 1
    return entry


def queue_entry(
    entry_id: int,
    token: int,
    appointment: AppointmentRead | None,
    *,
    patient: PatientRead,
    doctor_id: int,
    status: str = "waiting",
    wait: int = 5,
) -> QueueEntryRead:
    return QueueEntryRead(
        id=entry_id,
        token=token,
        status=status,
        appointment_id=appointment.id if appointment else None,
        patient_id=patient.id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_mrn=patient.mrn,
        doctor_id=doctor_id,
        doctor_name="Dr",
        queue_date=date.today(),
        appointment_start=appointment.start if appointment else None,
        checked_in_at=when(today_at(9)),
        called_at=None,
        started_at=None,
        completed_at=None,
        waiting_minutes=wait,
        encounter_id=None,
        version=1,
    )


@dataclass
class FakeClinicalQueueServer(FakeClinicalServer):
    """Dr Dana Doctor (doctor 7) has three patients today: Okafor checked in (token 1),
    Mensah checked in (token 2), Novak booked; a walk-in (patient 3) has token 3."""

    day_appointments: dict[int, AppointmentRead] = field(default_factory=dict)
    queue: dict[int, QueueEntryRead] = field(default_factory=dict)
    published: list[tuple[str, dict]] = field(default_factory=list)

    @classmethod
    def with_queue(cls) -> FakeClinicalQueueServer:
        server = cls.with_clinical_data()
        server.care_team = {1, 2, 3}
        for aid, pid, hhmm, status in (
            (51, 1, (9, 0), "checked_in"),
            (52, 2, (9, 30), "checked_in"),
            (53, 3, (10, 0), "booked"),
        ):
            server.day_appointments[aid] = server.appointment(
                aid, pid, when(today_at(*hhmm)), status
            )
        tokens = itertools.count(1)
        for aid in (51, 52):
            appointment = server.day_appointments[aid]
            token = next(tokens)
            server.queue[token] = queue_entry(
                token,
                token,
                appointment,
                doctor_id=DOCTOR_ID,
                patient=server.patients[appointment.patient_id],
                wait=20 - 5 * token,
            )
        server.queue[3] = queue_entry(
            3, 3, None, patient=server.patients[3], doctor_id=DOCTOR_ID, wait=2
        )
        return server

    def routes(self) -> list[Route]:
        return [
            *super().routes(),
            Route("GET", "/queue", self._queue_board, QueueBoardRead),
            Route("POST", "/queue/{entry_id}/call", self._queue_action("call"), QueueEntryRead),
            Route("POST", "/queue/{entry_id}/start", self._queue_action("start"), QueueEntryRead),
            Route(
                "POST", "/queue/{entry_id}/complete", self._queue_action("complete"), QueueEntryRead
            ),
        ]

    def _appointments(self, request: httpx.Request) -> dict:
        return paged(request, sorted(self.day_appointments.values(), key=lambda a: a.start), 100)

    def _queue_board(self, request: httpx.Request) -> QueueBoardRead:
        self.require(request, "doctor")
        doctor = request.url.params.get("doctor_id")
        items = sorted(
            (e for e in self.queue.values() if not doctor or e.doctor_id == int(doctor)),
            key=lambda e: e.token,
        )
        return QueueBoardRead(
            items=items, total=len(items), date=date.today(), summary=QueueSummary()
        )

    def _queue_action(self, action: str):
        def handler(request: httpx.Request, entry_id: str):
            self.require(request, "doctor")
            entry = self.queue[int(entry_id)]
            answer = apply_queue_action(entry, action, self.day_appointments)
            if isinstance(answer, QueueEntryRead):
                self.published.append(
                    (
                        "queue.updated",
                        {
                            "doctor_id": DOCTOR_ID,
                            "queue_entry_id": entry.id,
                            "status": entry.status,
                        },
                    )
                )
            return answer

        return handler


@dataclass
class FakeReceptionQueueServer(FakeReceptionServer):
    """Reception's fake with queue actions and drag-and-drop rescheduling."""

    def routes(self) -> list[Route]:
        return [
            *super().routes(),
            *(
                Route(
                    "POST",
                    f"/queue/{{entry_id}}/{action}",
                    self._queue_action(action),
                    QueueEntryRead,
                )
                for action in ("call", "start", "complete")
            ),
            Route(
                "POST",
                "/appointments/{appointment_id}/reschedule",
                self._reschedule,
                AppointmentRead,
            ),
        ]

    def _queue_action(self, action: str):
        def handler(request: httpx.Request, entry_id: str):
            entry = self.queue[int(entry_id)]
            answer = apply_queue_action(entry, action, self.appointments)
            if isinstance(answer, QueueEntryRead):
                self.publish(
                    "queue.updated",
                    {
                        "doctor_id": entry.doctor_id,
                        "queue_entry_id": entry.id,
                        "status": entry.status,
                    },
                )
            return answer

        return handler

    def _reschedule(
        self, request: httpx.Request, appointment_id: str
    ) -> AppointmentRead | httpx.Response:
        appointment = self.appointments[int(appointment_id)]
        body = parse_body(request, AppointmentReschedule)
        if body.version != appointment.version:
            return problem(409, "version_conflict", "The appointment was changed meanwhile.")
        self._steal_if_asked(appointment.doctor_id, body.start)
        if self._taken(appointment.doctor_id, body.start):
            return self._slot_taken(appointment.doctor_id, body.start)
        appointment.start, appointment.end = body.start, body.start + timedelta(minutes=30)
        appointment.version += 1
        self.publish(
            "appointment.rescheduled",
            {
                "appointment_id": appointment.id,
                "doctor_id": appointment.doctor_id,
                "patient_id": appointment.patient_id,
            },
        )
        return appointment
