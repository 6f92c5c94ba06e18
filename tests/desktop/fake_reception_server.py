"""The fake contract server plus what reception uses: patients, doctors, slots,
appointments, the queue and the live event stream (``text/event-stream``).

Behaves like the real contract where the desktop depends on it: 409
``possible_duplicates`` with ``candidates`` unless ``confirm_new``, 409
``version_conflict``, 409 ``slot_taken`` with ``suggestions``, check-in answers a queue
entry with a token, events carry ids only and resume from ``Last-Event-ID``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from tests.desktop.fake_server import FakeHmsServer, problem

TZ = "+00:00"
SLOT_MINUTES = 30
DAY_HOURS = (9, 12)  # 09:00-12:00: six 30-minute slots per doctor


def _at(day: date, minutes: int) -> str:
    return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00{TZ}"


@dataclass
class FakeReceptionServer(FakeHmsServer):
    patients: dict[int, dict] = field(default_factory=dict)
    departments: list[dict] = field(default_factory=list)
    doctors: list[dict] = field(default_factory=list)
    appointments: dict[int, dict] = field(default_factory=dict)
    queue: dict[int, dict] = field(default_factory=dict)
    events: list[tuple[int, str, dict]] = field(default_factory=list)
    search_delays: dict[str, float] = field(default_factory=dict)
    stream_seconds: float = 0.4
    # Slots that someone else books just before the desktop's request arrives.
    steal_slots: set[tuple[int, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._patient_ids = itertools.count(1)
        self._appointment_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._queue_tokens = itertools.count(1)
        self._events_changed = threading.Condition()

    # -- seeding -----------------------------------------------------------------------
    @classmethod
    def with_reception_data(cls, patients: int = 120) -> FakeReceptionServer:
        server = cls.with_demo_data()
        server.departments = [
            {"id": 1, "name": "Cardiology", "location": "Block A", "doctor_count": 1},
            {"id": 2, "name": "General Medicine", "location": "Block B", "doctor_count": 1},
        ]
        server.doctors = [
            {"id": 1, "user_id": 10, "full_name": "Dr Carla Heart", "department": "Cardiology",
             "department_id": 1, "specialty": "Cardiology", "active": True, "version": 1},
            {"id": 2, "user_id": 11, "full_name": "Dr Gene Ward", "department":
             "General Medicine", "department_id": 2, "specialty": "GP", "active": True,
             "version": 1},
        ]
        for i in range(patients):
            server.add_patient(f"Given{i:03d}", f"Family{i:03d}", "1980-01-01", "female",
                               phone=f"+44 20 7946 {i:04d}")
        return server

    def add_patient(self, given: str, family: str, dob: str, sex: str, **extra) -> dict:
        pid = next(self._patient_ids)
        patient = {
            "id": pid, "mrn": f"MRN{pid:06d}", "given_name": given, "family_name": family,
            "date_of_birth": dob, "birth_date_estimated": False, "sex": sex,
            "phone": extra.get("phone"), "national_id": extra.get("national_id"),
            "email": extra.get("email"), "address": extra.get("address"),
            "next_of_kin": extra.get("next_of_kin") or [], "preferred_language": None,
            "insurance": extra.get("insurance") or [], "merged_into_id": None,
            "created_at": "2026-11-01T08:00:00Z", "updated_at": "2026-11-01T08:00:00Z",
            "version": 1,
        }
        self.patients[pid] = patient
        return patient

    def add_appointment(self, patient_id: int, doctor_id: int, start: str,
                        status: str = "booked") -> dict:
        aid = next(self._appointment_ids)
        patient = self.patients[patient_id]
        doctor = self._doctor(doctor_id)
        hour, minute = int(start[11:13]), int(start[14:16])
        end = _at(date.fromisoformat(start[:10]), hour * 60 + minute + SLOT_MINUTES)
        appointment = {
            "id": aid, "patient_id": patient_id, "doctor_id": doctor_id,
            "doctor_name": doctor["full_name"],
            "patient_name": f"{patient['given_name']} {patient['family_name']}",
            "patient_mrn": patient["mrn"], "start": start, "end": end, "status": status,
            "type": "new", "source": "staff", "overbook_slot": 0, "location": "Room 1",
            "reason": None, "notes": None, "cancel_reason": None,
            "booking_reference": f"BK{aid:05d}", "encounter_id": None, "version": 1,
        }
        self.appointments[aid] = appointment
        return appointment

    def publish(self, event_type: str, data: dict) -> int:
        with self._events_changed:
            event_id = next(self._event_ids)
            self.events.append((event_id, event_type, data))
            self._events_changed.notify_all()
        return event_id

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "GET" and path == "/patients":
            delay = self.search_delays.get(request.url.params.get("q", ""), 0.0)
            if delay:
                time.sleep(delay)  # outside the lock: other requests overtake this one
        if request.method == "GET" and path == "/events" and not self.down:
            self.requests.append(request)
            return self._stream(request)
        return super().handle(request)

    def _routes(self):
        return [
            *super()._routes(),
            ("GET", r"/patients", self._search_patients),
            ("POST", r"/patients", self._register_patient),
            ("GET", r"/patients/(\d+)", self._get_patient),
            ("PATCH", r"/patients/(\d+)", self._patch_patient),
            ("POST", r"/patients/(\d+)/prints", lambda r, _pid: httpx.Response(204)),
            ("GET", r"/departments", lambda r: self._page(self.departments)),
            ("GET", r"/doctors", lambda r: self._page(self.doctors)),
            ("GET", r"/slots", self._slots),
            ("GET", r"/appointments", self._list_appointments),
            ("POST", r"/appointments", self._book),
            ("POST", r"/appointments/(\d+)/check-in", self._check_in),
            ("POST", r"/appointments/(\d+)/cancel", self._cancel),
            ("POST", r"/appointments/(\d+)/no-show", self._no_show),
            ("GET", r"/queue", self._queue),
        ]

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _page(items: list[dict], total: int | None = None) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "total": len(items)
                                         if total is None else total})

    def _doctor(self, doctor_id: int) -> dict:
        return next(d for d in self.doctors if d["id"] == doctor_id)

    def _taken(self, doctor_id: int, start: str) -> bool:
        return any(a["doctor_id"] == doctor_id and a["start"] == start
                   and a["status"] not in ("cancelled", "no_show")
                   for a in self.appointments.values())

    def _day_slots(self, doctor_id: int, day: date) -> list[dict]:
        start, end = DAY_HOURS[0] * 60, DAY_HOURS[1] * 60
        return [{"start": _at(day, m), "end": _at(day, m + SLOT_MINUTES),
                 "available": not self._taken(doctor_id, _at(day, m)),
                 "overbook_available": 0, "location": "Room 1"}
                for m in range(start, end, SLOT_MINUTES)]

    # -- patients ----------------------------------------------------------------------
    def _search_patients(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "receptionist")
        if error:
            return error
        q = request.url.params.get("q", "").strip().lower()
        limit = int(request.url.params.get("limit", 50))
        offset = int(request.url.params.get("offset", 0))
        rows = [p for p in self.patients.values()
                if not q or q in f"{p['given_name']} {p['family_name']} {p['mrn']} "
                f"{p['phone'] or ''} {p['date_of_birth']}".lower()]
        rows.sort(key=lambda p: (p["family_name"], p["given_name"]))
        return self._page(rows[offset:offset + limit], total=len(rows))

    def _register_patient(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "receptionist")
        if error:
            return error
        body = json.loads(request.content)
        if not body.get("confirm_new"):
            candidates = [
                {"id": p["id"], "mrn": p["mrn"], "name": f"{p['given_name']} {p['family_name']}",
                 "dob": p["date_of_birth"], "score": 0.9, "reasons": ["name", "date_of_birth"]}
                for p in self.patients.values()
                if p["family_name"].lower() == body["family_name"].lower()
                and p["date_of_birth"] == body.get("date_of_birth")
            ]
            if candidates:
                response = problem(409, "possible_duplicates",
                                   f"{len(candidates)} existing patient(s) look like the same "
                                   "person.")
                payload = json.loads(response.content)
                payload["candidates"] = candidates
                return httpx.Response(409, json=payload, headers={
                    "content-type": "application/problem+json"})
        extra = {k: body.get(k) for k in ("phone", "email", "national_id", "address",
                                          "next_of_kin", "insurance")}
        patient = self.add_patient(body["given_name"], body["family_name"],
                                   body.get("date_of_birth", "1990-01-01"), body["sex"], **extra)
        self.publish("patient.created", {"patient_id": patient["id"]})
        return httpx.Response(201, json=patient)

    def _get_patient(self, request: httpx.Request, pid: str) -> httpx.Response:
        _user, error = self._require(request, "receptionist")
        if error:
            return error
        patient = self.patients.get(int(pid))
        return httpx.Response(200, json=patient) if patient else problem(
            404, "not_found", "No such patient.")

    def _patch_patient(self, request: httpx.Request, pid: str) -> httpx.Response:
        _user, error = self._require(request, "receptionist")
        if error:
            return error
        patient = self.patients[int(pid)]
        body = json.loads(request.content)
        if body.get("version") != patient["version"]:
            return problem(409, "version_conflict", "Someone else changed this patient.")
        body.pop("version")
        patient.update(body)
        patient["version"] += 1
        return httpx.Response(200, json=patient)

    # -- scheduling --------------------------------------------------------------------
    def _slots(self, request: httpx.Request) -> httpx.Response:
        doctor_id = int(request.url.params["doctor_id"])
        day = date.fromisoformat(request.url.params["date"])
        return httpx.Response(200, json={"items": self._day_slots(doctor_id, day),
                                         "doctor_id": doctor_id, "date": day.isoformat(),
                                         "timezone": "UTC"})

    def _list_appointments(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        first = params.get("date")
        last = params.get("date_to") or first
        rows = [a for a in self.appointments.values()
                if (not first or first <= a["start"][:10] <= last)
                and (not params.get("doctor_id") or a["doctor_id"] == int(params["doctor_id"]))
                and (not params.get("patient_id")
                     or a["patient_id"] == int(params["patient_id"]))]
        rows.sort(key=lambda a: a["start"])
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        return self._page(rows[offset:offset + limit], total=len(rows))

    def _book(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        doctor_id, start = body["doctor_id"], body["start"]
        if (doctor_id, start) in self.steal_slots:
            self.steal_slots.discard((doctor_id, start))
            other = next(iter(self.patients))
            self.add_appointment(other, doctor_id, start)
        if self._taken(doctor_id, start):
            day = date.fromisoformat(start[:10])
            free = [s for s in self._day_slots(doctor_id, day) if s["available"]][:3]
            payload = json.loads(problem(409, "slot_taken", "That time was just booked by "
                                         "someone else.").content)
            payload["suggestions"] = [{"doctor_id": doctor_id, "start": s["start"],
                                       "end": s["end"]} for s in free]
            return httpx.Response(409, json=payload,
                                  headers={"content-type": "application/problem+json"})
        appointment = self.add_appointment(body["patient_id"], doctor_id, start)
        self.publish("appointment.booked", {"appointment_id": appointment["id"],
                                            "doctor_id": doctor_id,
                                            "patient_id": body["patient_id"],
                                            "date": start[:10]})
        return httpx.Response(201, json=appointment)

    def _check_in(self, request: httpx.Request, aid: str) -> httpx.Response:
        appointment = self.appointments[int(aid)]
        appointment["status"] = "checked_in"
        appointment["version"] += 1
        token = next(self._queue_tokens)
        entry = {
            "id": token, "token": token, "status": "waiting", "appointment_id": int(aid),
            "patient_id": appointment["patient_id"], "patient_name":
            appointment["patient_name"], "patient_mrn": appointment["patient_mrn"],
            "doctor_id": appointment["doctor_id"], "doctor_name": appointment["doctor_name"],
            "queue_date": appointment["start"][:10], "appointment_start": appointment["start"],
            "checked_in_at": appointment["start"], "called_at": None, "started_at": None,
            "completed_at": None, "waiting_minutes": 4, "encounter_id": None, "version": 1,
        }
        self.queue[entry["id"]] = entry
        self.publish("appointment.checked_in", {"appointment_id": int(aid)})
        return httpx.Response(200, json=entry)

    def _cancel(self, request: httpx.Request, aid: str) -> httpx.Response:
        appointment = self.appointments[int(aid)]
        appointment.update(status="cancelled", cancel_reason=json.loads(request.content)["reason"])
        return httpx.Response(200, json=appointment)

    def _no_show(self, request: httpx.Request, aid: str) -> httpx.Response:
        appointment = self.appointments[int(aid)]
        appointment["status"] = "no_show"
        return httpx.Response(200, json=appointment)

    def _queue(self, request: httpx.Request) -> httpx.Response:
        items = sorted(self.queue.values(), key=lambda e: e["token"])
        waiting = sum(1 for e in items if e["status"] == "waiting")
        return httpx.Response(200, json={"items": items, "total": len(items),
                                         "date": date.today().isoformat(),
                                         "summary": {"waiting": waiting}})

    # -- events ------------------------------------------------------------------------
    def _stream(self, request: httpx.Request) -> httpx.Response:
        if self._current(request) is None:
            return problem(401, "not_authenticated", "Sign in first.")
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else self._latest_event_id()

        def frames():
            sent = after
            yield b"retry: 100\n: connected\n\n"
            deadline = time.monotonic() + self.stream_seconds
            while time.monotonic() < deadline:
                with self._events_changed:
                    pending = [e for e in self.events if e[0] > sent]
                    if not pending:
                        self._events_changed.wait(0.05)
                        continue
                for event_id, event_type, data in pending:
                    sent = event_id
                    yield (f"id: {event_id}\nevent: {event_type}\n"
                           f"data: {json.dumps(data)}\n\n").encode()

        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=frames())

    def _latest_event_id(self) -> int:
        with self._events_changed:
            return self.events[-1][0] if self.events else 0


def today_at(hour: int, minute: int = 0) -> str:
    return _at(date.today(), hour * 60 + minute)


def tomorrow() -> date:
    return date.today() + timedelta(days=1)
