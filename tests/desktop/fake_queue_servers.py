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
import json
from dataclasses import dataclass, field
from datetime import date

import httpx

from tests.desktop.fake_clinical_server import FakeClinicalServer
from tests.desktop.fake_reception_server import FakeReceptionServer, today_at
from tests.desktop.fake_server import problem

_FROM = {"call": ("waiting", "called"), "start": ("waiting", "called"),
         "complete": ("in_consultation",)}
_TO = {"call": "called", "start": "in_consultation", "complete": "done"}
_APPOINTMENT_TO = {"start": "in_consultation", "complete": "completed"}


def apply_queue_action(entry: dict, action: str, appointments: dict[int, dict]) -> httpx.Response:
    if entry["status"] not in _FROM[action]:
        return problem(409, "invalid_status",
                       f"Not possible while the queue entry is '{entry['status']}'.")
    entry["status"] = _TO[action]
    stamp = today_at(10)
    if action == "call":
        entry["called_at"] = stamp
    elif action == "start":
        entry["started_at"] = stamp
        entry["called_at"] = entry["called_at"] or stamp
        entry["encounter_id"] = 500 + entry["id"]
    else:
        entry["completed_at"] = stamp
    entry["version"] += 1
    appointment = appointments.get(entry.get("appointment_id"))
    if appointment is not None and action in _APPOINTMENT_TO:
        appointment["status"] = _APPOINTMENT_TO[action]
        appointment["version"] += 1
    return httpx.Response(200, json=entry)


def queue_entry(entry_id: int, token: int, appointment: dict | None, *, patient: dict,
                doctor_id: int, status: str = "waiting", wait: int = 5) -> dict:
    return {
        "id": entry_id, "token": token, "status": status,
        "appointment_id": appointment["id"] if appointment else None,
        "patient_id": patient["id"],
        "patient_name": f"{patient['given_name']} {patient['family_name']}",
        "patient_mrn": patient["mrn"], "doctor_id": doctor_id, "doctor_name": "Dr",
        "queue_date": date.today().isoformat(),
        "appointment_start": appointment["start"] if appointment else None,
        "checked_in_at": today_at(9), "called_at": None, "started_at": None,
        "completed_at": None, "waiting_minutes": wait, "encounter_id": None, "version": 1,
    }


@dataclass
class FakeClinicalQueueServer(FakeClinicalServer):
    """Dr Dana Doctor (doctor 7) has three patients today: Okafor checked in (token 1),
    Mensah checked in (token 2), Novak booked; a walk-in (patient 3) has token 3."""

    day_appointments: dict[int, dict] = field(default_factory=dict)
    queue: dict[int, dict] = field(default_factory=dict)
    published: list[tuple[str, dict]] = field(default_factory=list)

    @classmethod
    def with_queue(cls) -> FakeClinicalQueueServer:
        server = cls.with_clinical_data()
        server.care_team = {1, 2, 3}
        for aid, pid, hhmm, status in ((51, 1, (9, 0), "checked_in"),
                                       (52, 2, (9, 30), "checked_in"),
                                       (53, 3, (10, 0), "booked")):
            patient = server.patients[pid]
            server.day_appointments[aid] = {
                "id": aid, "patient_id": pid, "doctor_id": 7, "status": status,
                "start": today_at(*hhmm), "version": 1, "reason": None,
                "patient_name": f"{patient['given_name']} {patient['family_name']}",
                "patient_mrn": patient["mrn"]}
        tokens = itertools.count(1)
        for aid in (51, 52):
            appointment = server.day_appointments[aid]
            token = next(tokens)
            server.queue[token] = queue_entry(token, token, appointment, doctor_id=7,
                                              patient=server.patients[appointment["patient_id"]],
                                              wait=20 - 5 * token)
        server.queue[3] = queue_entry(3, 3, None, patient=server.patients[3], doctor_id=7,
                                      wait=2)
        return server

    def _routes(self):
        return [
            *super()._routes(),
            ("GET", r"/queue", self._queue_board),
            ("POST", r"/queue/(\d+)/(call|start|complete)", self._queue_action),
        ]

    def _appointments(self, request: httpx.Request) -> httpx.Response:
        rows = sorted(self.day_appointments.values(), key=lambda a: a["start"])
        return self._page(rows)

    def _queue_board(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "doctor")
        if error:
            return error
        doctor = request.url.params.get("doctor_id")
        items = sorted((e for e in self.queue.values()
                        if not doctor or e["doctor_id"] == int(doctor)),
                       key=lambda e: e["token"])
        return self._json({"items": items, "total": len(items),
                           "date": date.today().isoformat(), "summary": {}})

    def _queue_action(self, request: httpx.Request, entry_id: str, action: str):
        _user, error = self._require(request, "doctor")
        if error:
            return error
        entry = self.queue[int(entry_id)]
        response = apply_queue_action(entry, action, self.day_appointments)
        if response.status_code == 200:
            self.published.append(("queue.updated", {"doctor_id": 7, "queue_entry_id":
                                                     entry["id"], "status": entry["status"]}))
        return response


@dataclass
class FakeReceptionQueueServer(FakeReceptionServer):
    """Reception's fake with queue actions and drag-and-drop rescheduling."""

    def _routes(self):
        return [
            *super()._routes(),
            ("POST", r"/queue/(\d+)/(call|start|complete)", self._queue_action),
            ("POST", r"/appointments/(\d+)/reschedule", self._reschedule),
        ]

    def _queue_action(self, request: httpx.Request, entry_id: str, action: str):
        entry = self.queue[int(entry_id)]
        response = apply_queue_action(entry, action, self.appointments)
        if response.status_code == 200:
            self.publish("queue.updated", {"doctor_id": entry["doctor_id"],
                                           "queue_entry_id": entry["id"],
                                           "status": entry["status"]})
        return response

    def _reschedule(self, request: httpx.Request, aid: str) -> httpx.Response:
        appointment = self.appointments[int(aid)]
        body = json.loads(request.content)
        if body.get("version") != appointment["version"]:
            return problem(409, "version_conflict", "The appointment was changed meanwhile.")
        doctor_id, start = appointment["doctor_id"], body["start"]
        if (doctor_id, start) in self.steal_slots:
            self.steal_slots.discard((doctor_id, start))
            self.add_appointment(next(iter(self.patients)), doctor_id, start)
        if self._taken(doctor_id, start):
            day = date.fromisoformat(start[:10])
            free = [s for s in self._day_slots(doctor_id, day) if s["available"]][:3]
            payload = json.loads(problem(409, "slot_taken", "That time was just booked by "
                                         "someone else.").content)
            payload["suggestions"] = [{"doctor_id": doctor_id, "start": s["start"],
                                       "end": s["end"]} for s in free]
            return httpx.Response(409, json=payload,
                                  headers={"content-type": "application/problem+json"})
        appointment["start"], appointment["end"] = start, _end_of(start)
        appointment["version"] += 1
        self.publish("appointment.rescheduled", {"appointment_id": appointment["id"],
                                                 "doctor_id": doctor_id,
                                                 "patient_id": appointment["patient_id"]})
        return httpx.Response(200, json=appointment)


def _end_of(start: str) -> str:
    minutes = int(start[11:13]) * 60 + int(start[14:16]) + 30
    return f"{start[:11]}{minutes // 60:02d}:{minutes % 60:02d}{start[16:]}"
