"""The fake contract server plus what reception uses: patients, doctors, slots,
appointments, the queue and the live event stream (``text/event-stream``).

Behaves like the real contract where the desktop depends on it: 409
``possible_duplicates`` with ``candidates`` unless ``confirm_new``, 409
``version_conflict``, 409 ``slot_taken`` with ``suggestions``, check-in answers a queue
entry with a token, events carry ids only and resume from ``Last-Event-ID``. Times are in
the hospital's zone, one hour ahead of UTC (``+01:00``), as the real server sends them.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx

from hms_contract.common import Page
from hms_contract.duplicates import (
    DuplicateFlagDismiss,
    DuplicateFlagRead,
    MergeDecision,
    MergeRead,
    MergeRequest,
)
from hms_contract.patients import (
    AllergyAlertRead,
    DuplicateCandidate,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientSummary,
    PatientUpdate,
    PrintRecord,
)
from hms_contract.scheduling import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentNoShow,
    AppointmentRead,
    DepartmentRead,
    DoctorRead,
    FreeSlotRead,
    QueueBoardRead,
    QueueEntryRead,
    QueueSummary,
    SlotList,
    SlotRead,
    WaitlistCreate,
    WaitlistRead,
)
from tests.desktop.fake_server import (
    CREATED_AT,
    FakeHmsServer,
    Refused,
    Route,
    page,
    paged,
    parse_body,
    problem,
)

TZ = "+01:00"
SLOT_MINUTES = 30
DAY_HOURS = (9, 12)  # 09:00-12:00: six 30-minute slots per doctor


def _at(day: date, minutes: int) -> str:
    return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00{TZ}"


def today_at(hour: int, minute: int = 0) -> str:
    """Today's ``hour:minute`` in the hospital's zone, as the server writes it."""
    return _at(date.today(), hour * 60 + minute)


def tomorrow() -> date:
    return date.today() + timedelta(days=1)


def when(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dataclass
class FakeReceptionServer(FakeHmsServer):
    patients: dict[int, PatientRead] = field(default_factory=dict)
    departments: list[DepartmentRead] = field(default_factory=list)
    doctors: list[DoctorRead] = field(default_factory=list)
    appointments: dict[int, AppointmentRead] = field(default_factory=dict)
    queue: dict[int, QueueEntryRead] = field(default_factory=dict)
    events: list[tuple[int, str, dict]] = field(default_factory=list)
    search_delays: dict[str, float] = field(default_factory=dict)
    searches_answered: list[str] = field(default_factory=list)
    stream_seconds: float = 0.4
    # Slots that someone else books just before the desktop's request arrives.
    steal_slots: set[tuple[int, str]] = field(default_factory=set)
    flags: dict[int, DuplicateFlagRead] = field(default_factory=dict)
    alerts: dict[int, AllergyAlertRead] = field(default_factory=dict)
    waitlist: dict[int, WaitlistRead] = field(default_factory=dict)
    merges: dict[int, MergeRead] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._patient_ids = itertools.count(1)
        self._appointment_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._queue_tokens = itertools.count(1)
        self._events_changed = threading.Condition()
        self._flag_ids = itertools.count(1)
        self._merge_ids = itertools.count(1)

    # -- seeding -----------------------------------------------------------------------
    @classmethod
    def with_reception_data(cls, patients: int = 120) -> FakeReceptionServer:
        server = cls.with_demo_data()
        server.departments = [
            DepartmentRead(id=1, name="Cardiology", location="Block A", doctor_count=1),
            DepartmentRead(id=2, name="General Medicine", location="Block B", doctor_count=1),
        ]
        server.doctors = [
            DoctorRead(
                id=1,
                user_id=10,
                full_name="Dr Carla Heart",
                department="Cardiology",
                department_id=1,
                specialty="Cardiology",
                active=True,
                version=1,
            ),
            DoctorRead(
                id=2,
                user_id=11,
                full_name="Dr Gene Ward",
                department="General Medicine",
                department_id=2,
                specialty="GP",
                active=True,
                version=1,
            ),
        ]
        for i in range(patients):
            server.add_patient(
                f"Given{i:03d}",
                f"Family{i:03d}",
                "1980-01-01",
                "female",
                phone=f"+44 20 7946 {i:04d}",
            )
        return server

    def add_patient(
        self, given: str, family: str, dob: str | date, sex: str, **extra
    ) -> PatientRead:
        pid = next(self._patient_ids)
        patient = PatientRead(
            id=pid,
            mrn=f"MRN{pid:06d}",
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            birth_date_estimated=extra.pop("birth_date_estimated", False),
            sex=sex,
            created_at=CREATED_AT,
            updated_at=CREATED_AT,
            version=1,
            **{k: v for k, v in extra.items() if v is not None},
        )
        self.patients[pid] = patient
        return patient

    def add_appointment(
        self, patient_id: int, doctor_id: int, start: str | datetime, status: str = "booked"
    ) -> AppointmentRead:
        aid = next(self._appointment_ids)
        patient = self.patients[patient_id]
        begins = when(start)
        appointment = AppointmentRead(
            id=aid,
            patient_id=patient_id,
            doctor_id=doctor_id,
            doctor_name=self._doctor(doctor_id).full_name,
            patient_name=f"{patient.given_name} {patient.family_name}",
            patient_mrn=patient.mrn,
            start=begins,
            end=begins + timedelta(minutes=SLOT_MINUTES),
            status=status,
            type="new",
            source="staff",
            overbook_slot=0,
            location="Room 1",
            reason=None,
            notes=None,
            cancel_reason=None,
            booking_reference=f"BK{aid:05d}",
            encounter_id=None,
            version=1,
        )
        self.appointments[aid] = appointment
        return appointment

    def add_flag(
        self,
        patient_id: int,
        candidate_id: int,
        reasons: tuple[str, ...] = ("same_birth_date_similar_name",),
    ) -> DuplicateFlagRead:
        flag = DuplicateFlagRead(
            id=next(self._flag_ids),
            patient=self._summary(patient_id),
            candidate=self._summary(candidate_id),
            score="0.90",
            reasons=list(reasons),
            source="self_booking",
            status="open",
            created_at=CREATED_AT,
            version=1,
        )
        self.flags[flag.id] = flag
        return flag

    def _summary(self, patient_id: int) -> PatientSummary:
        return PatientSummary.model_validate(self.patients[patient_id].model_dump())

    def publish(self, event_type: str, data: dict) -> int:
        with self._events_changed:
            event_id = next(self._event_ids)
            self.events.append((event_id, event_type, data))
            self._events_changed.notify_all()
        return event_id

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "")
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "GET" and path == "/patients" and self.search_delays.get(q):
            time.sleep(self.search_delays[q])  # outside the lock: other requests overtake
        response = super().handle(request)
        if request.method == "GET" and path == "/patients":
            self.searches_answered.append(q)
        return response

    def routes(self) -> list[Route]:
        return [
            *super().routes(),
            Route("GET", "/patients", self._search_patients, PatientPage),
            Route("POST", "/patients", self._register_patient, PatientRead, 201),
            Route("GET", "/patients/{patient_id}", self._get_patient, PatientRead),
            Route("PATCH", "/patients/{patient_id}", self._patch_patient, PatientRead),
            Route("POST", "/patients/{patient_id}/prints", self._record_print),
            Route(
                "GET", "/patients/{patient_id}/allergy-alert", self._allergy_alert, AllergyAlertRead
            ),
            Route("GET", "/departments", lambda r: page(self.departments), Page[DepartmentRead]),
            Route("GET", "/doctors", lambda r: page(self.doctors), Page[DoctorRead]),
            Route("GET", "/slots", self._slots, SlotList),
            Route("GET", "/appointments", self._list_appointments, Page[AppointmentRead]),
            Route("POST", "/appointments", self._book, AppointmentRead, 201),
            Route(
                "POST", "/appointments/{appointment_id}/check-in", self._check_in, QueueEntryRead
            ),
            Route("POST", "/appointments/{appointment_id}/cancel", self._cancel, AppointmentRead),
            Route("POST", "/appointments/{appointment_id}/no-show", self._no_show, AppointmentRead),
            Route("GET", "/queue", self._queue, QueueBoardRead),
            Route("GET", "/waitlist", self._list_waitlist, Page[WaitlistRead]),
            Route("POST", "/waitlist", self._add_to_waitlist, WaitlistRead, 201),
            Route("POST", "/waitlist/{entry_id}/accept", self._accept_offer, AppointmentRead, 201),
            Route("POST", "/waitlist/{entry_id}/remove", self._remove_from_waitlist, WaitlistRead),
            Route("GET", "/patient-duplicates", self._list_flags, Page[DuplicateFlagRead]),
            Route(
                "POST",
                "/patient-duplicates/{flag_id}/dismiss",
                self._dismiss_flag,
                DuplicateFlagRead,
            ),
            Route("GET", "/patient-merges", self._list_merges, Page[MergeRead]),
            Route("POST", "/patient-merges", self._request_merge, MergeRead, 201),
            Route(
                "POST",
                "/patient-merges/{merge_id}/confirm",
                lambda r, merge_id: self._decide(r, merge_id, "confirmed"),
                MergeRead,
            ),
            Route(
                "POST",
                "/patient-merges/{merge_id}/undo",
                lambda r, merge_id: self._decide(r, merge_id, "undone"),
                MergeRead,
            ),
            Route("GET", "/events", self._stream),
        ]

    def _allergy_alert(self, request: httpx.Request, patient_id: str) -> AllergyAlertRead:
        self.require(request, "receptionist")
        pid = self._patient(patient_id).id
        return self.alerts.get(pid) or AllergyAlertRead(
            patient_id=pid, recorded=False, allergies=[]
        )

    # -- waitlist ----------------------------------------------------------------------
    def add_waitlist_entry(
        self, patient_id: int, doctor_id: int, *, offered: str | None = None
    ) -> WaitlistRead:
        patient, doctor = self.patients[patient_id], self._doctor(doctor_id)
        day = date.today()
        entry = WaitlistRead(
            id=len(self.waitlist) + 1,
            patient_id=patient_id,
            doctor_id=doctor_id,
            department_id=None,
            type_code="new",
            earliest_date=day,
            latest_date=day + timedelta(days=14),
            reason="wants an earlier date",
            status="offered" if offered else "waiting",
            offered_doctor_id=doctor_id if offered else None,
            offered_start=when(offered) if offered else None,
            offered_end=when(offered) + timedelta(minutes=SLOT_MINUTES) if offered else None,
            offer_expires_at=when(offered) - timedelta(hours=1) if offered else None,
            appointment_id=None,
            created_at=CREATED_AT,
            version=1,
            patient_mrn=patient.mrn,
            patient_name=f"{patient.family_name}, {patient.given_name}",
            doctor_name=doctor.full_name,
            offered_doctor_name=doctor.full_name if offered else None,
        )
        self.waitlist[entry.id] = entry
        return entry

    def _list_waitlist(self, request: httpx.Request) -> dict:
        self.require(request, "receptionist")
        status = request.url.params.get("status")
        return paged(
            request,
            [e for e in self.waitlist.values() if not status or e.status == status],
            default_limit=100,
        )

    def _add_to_waitlist(self, request: httpx.Request) -> WaitlistRead:
        self.require(request, "receptionist")
        body = parse_body(request, WaitlistCreate)
        entry = self.add_waitlist_entry(body.patient_id, body.doctor_id or 1)
        entry = entry.model_copy(
            update={
                "reason": body.reason,
                "earliest_date": body.earliest_date,
                "latest_date": body.latest_date,
            }
        )
        self.waitlist[entry.id] = entry
        return entry

    def _accept_offer(self, request: httpx.Request, entry_id: str) -> AppointmentRead:
        self.require(request, "receptionist")
        entry = self.waitlist[int(entry_id)]
        appointment = self.add_appointment(
            entry.patient_id, entry.offered_doctor_id, entry.offered_start
        )
        self.waitlist[entry.id] = entry.model_copy(
            update={"status": "booked", "appointment_id": appointment.id}
        )
        return appointment

    def _remove_from_waitlist(self, request: httpx.Request, entry_id: str) -> WaitlistRead:
        self.require(request, "receptionist")
        entry = self.waitlist[int(entry_id)].model_copy(update={"status": "cancelled"})
        self.waitlist[entry.id] = entry
        return entry

    # -- duplicates and merges ----------------------------------------------------------
    def _list_flags(self, request: httpx.Request) -> dict:
        self.require(request, "receptionist")
        status = request.url.params.get("status", "open")
        rows = [f for f in self.flags.values() if f.status == status]
        return paged(request, sorted(rows, key=lambda f: -f.id))

    def _dismiss_flag(self, request: httpx.Request, flag_id: str) -> DuplicateFlagRead:
        self.require(request, "receptionist")
        body = parse_body(request, DuplicateFlagDismiss)
        flag = self.flags[int(flag_id)]
        if body.version != flag.version:
            raise Refused(problem(409, "version_conflict", "The flag changed meanwhile."))
        flag = flag.model_copy(
            update={
                "status": "dismissed",
                "resolution_note": body.note,
                "resolved_at": CREATED_AT,
                "version": flag.version + 1,
            }
        )
        self.flags[flag.id] = flag
        return flag

    def _list_merges(self, request: httpx.Request) -> dict:
        self.require(request, "receptionist")
        status = request.url.params.get("status", "pending")
        return paged(request, [m for m in self.merges.values() if m.status == status])

    def _request_merge(self, request: httpx.Request) -> MergeRead | httpx.Response:
        self.require(request, "receptionist")
        body = parse_body(request, MergeRequest)
        if any(
            m.status == "pending"
            and {m.survivor.id, m.duplicate.id} & {body.survivor_id, body.duplicate_id}
            for m in self.merges.values()
        ):
            return problem(409, "merge_pending", "A merge is waiting for confirmation.")
        merge = MergeRead(
            id=next(self._merge_ids),
            survivor=self._summary(body.survivor_id),
            duplicate=self._summary(body.duplicate_id),
            reason=body.reason,
            status="pending",
            flag_id=body.flag_id,
            requested_at=CREATED_AT,
            version=1,
        )
        self.merges[merge.id] = merge
        return merge

    def _decide(self, request: httpx.Request, merge_id: str, status: str) -> MergeRead:
        self.require(request, "receptionist")
        body = parse_body(request, MergeDecision)
        merge = self.merges[int(merge_id)]
        if body.version != merge.version:
            raise Refused(problem(409, "version_conflict", "The merge changed meanwhile."))
        if merge.status != "pending":
            raise Refused(problem(409, "invalid_transition", "Already decided."))
        merge = merge.model_copy(
            update={"status": status, "decided_at": CREATED_AT, "version": merge.version + 1}
        )
        self.merges[merge.id] = merge
        if status == "confirmed":
            loser = self.patients[merge.duplicate.id]
            self.patients[loser.id] = loser.model_copy(update={"merged_into_id": merge.survivor.id})
            for flag in list(self.flags.values()):
                if {flag.patient.id, flag.candidate.id} == {merge.survivor.id, merge.duplicate.id}:
                    self.flags[flag.id] = flag.model_copy(update={"status": "merged"})
        return merge

    # -- helpers -----------------------------------------------------------------------
    def _doctor(self, doctor_id: int) -> DoctorRead:
        return next(d for d in self.doctors if d.id == doctor_id)

    def _patient(self, patient_id: str) -> PatientRead:
        patient = self.patients.get(int(patient_id))
        if patient is None:
            raise Refused(problem(404, "not_found", "No such patient."))
        return patient

    def _taken(self, doctor_id: int, start: datetime) -> bool:
        return any(
            a.doctor_id == doctor_id
            and a.start == start
            and a.status not in ("cancelled", "no_show")
            for a in self.appointments.values()
        )

    def _day_slots(self, doctor_id: int, day: date) -> list[SlotRead]:
        first, last = DAY_HOURS[0] * 60, DAY_HOURS[1] * 60
        return [
            SlotRead(
                start=when(_at(day, m)),
                end=when(_at(day, m + SLOT_MINUTES)),
                available=not self._taken(doctor_id, when(_at(day, m))),
                overbook_available=0,
                location="Room 1",
            )
            for m in range(first, last, SLOT_MINUTES)
        ]

    def _slot_taken(self, doctor_id: int, start: datetime) -> httpx.Response:
        free = [s for s in self._day_slots(doctor_id, start.date()) if s.available][:3]
        suggestions = [FreeSlotRead(doctor_id=doctor_id, start=s.start, end=s.end) for s in free]
        return problem(
            409,
            "slot_taken",
            "That time was just booked by someone else.",
            suggestions=[s.model_dump(mode="json", exclude_none=True) for s in suggestions],
        )

    def _steal_if_asked(self, doctor_id: int, start: datetime) -> None:
        for stolen_doctor, stolen_start in list(self.steal_slots):
            if stolen_doctor == doctor_id and when(stolen_start) == start:
                self.steal_slots.discard((stolen_doctor, stolen_start))
                self.add_appointment(next(iter(self.patients)), doctor_id, start)

    # -- patients ----------------------------------------------------------------------
    def _search_patients(self, request: httpx.Request) -> dict:
        self.require(request, "receptionist")
        q = request.url.params.get("q", "").strip().lower()
        rows = [
            p
            for p in self.patients.values()
            if p.merged_into_id is None
            and (
                not q
                or q
                in f"{p.given_name} {p.family_name} {p.mrn} {p.phone or ''} "
                f"{p.date_of_birth}".lower()
            )
        ]
        rows.sort(key=lambda p: (p.family_name, p.given_name))
        return paged(request, rows)

    def _register_patient(self, request: httpx.Request) -> PatientRead | httpx.Response:
        self.require(request, "receptionist")
        body = parse_body(request, PatientCreate)
        if not body.confirm_new:
            candidates = [
                DuplicateCandidate(
                    id=p.id,
                    mrn=p.mrn,
                    name=f"{p.given_name} {p.family_name}",
                    dob=p.date_of_birth,
                    score=0.9,
                    reasons=["same_birth_date_similar_name"],
                )
                for p in self.patients.values()
                if p.family_name.lower() == body.family_name.lower()
                and p.date_of_birth == body.date_of_birth
            ]
            if candidates:
                return problem(
                    409,
                    "possible_duplicates",
                    f"{len(candidates)} existing patient(s) look like the same person.",
                    candidates=candidates,
                )
        extra = body.model_dump(
            include={"phone", "email", "national_id", "address", "next_of_kin", "insurance"},
            exclude_none=True,
        )
        patient = self.add_patient(
            body.given_name,
            body.family_name,
            body.date_of_birth or date(1990, 1, 1),
            body.sex,
            **extra,
        )
        self.publish("patient.created", {"patient_id": patient.id})
        return patient

    def _get_patient(self, request: httpx.Request, patient_id: str) -> PatientRead:
        self.require(request, "receptionist")
        return self._patient(patient_id)

    def _patch_patient(
        self, request: httpx.Request, patient_id: str
    ) -> PatientRead | httpx.Response:
        self.require(request, "receptionist")
        patient = self._patient(patient_id)
        body = parse_body(request, PatientUpdate)
        if body.version != patient.version:
            return problem(409, "version_conflict", "Someone else changed this patient.")
        changes = body.model_dump(exclude={"version"}, exclude_unset=True)
        changed = patient.model_validate(
            {
                **patient.model_dump(),
                **changes,
                "version": patient.version + 1,
                "updated_at": datetime.now(UTC),
            }
        )
        self.patients[patient.id] = changed
        return changed

    def _record_print(self, request: httpx.Request, patient_id: str) -> None:
        self.require(request, "receptionist")
        self._patient(patient_id)
        parse_body(request, PrintRecord)

    # -- scheduling --------------------------------------------------------------------
    def _slots(self, request: httpx.Request) -> SlotList:
        doctor_id = int(request.url.params["doctor_id"])
        day = date.fromisoformat(request.url.params["date"])
        return SlotList(
            items=self._day_slots(doctor_id, day),
            doctor_id=doctor_id,
            date=day,
            timezone="Europe/Paris",
        )

    def _list_appointments(self, request: httpx.Request) -> dict:
        params = request.url.params
        first = params.get("date")
        last = params.get("date_to") or first
        rows = [
            a
            for a in self.appointments.values()
            if (not first or first <= a.start.date().isoformat() <= last)
            and (not params.get("doctor_id") or a.doctor_id == int(params["doctor_id"]))
            and (not params.get("patient_id") or a.patient_id == int(params["patient_id"]))
        ]
        rows.sort(key=lambda a: a.start)
        return paged(request, rows, default_limit=100)

    def _book(self, request: httpx.Request) -> AppointmentRead | httpx.Response:
        body = parse_body(request, AppointmentCreate)
        self._steal_if_asked(body.doctor_id, body.start)
        if self._taken(body.doctor_id, body.start):
            return self._slot_taken(body.doctor_id, body.start)
        appointment = self.add_appointment(body.patient_id, body.doctor_id, body.start)
        self.publish(
            "appointment.booked",
            {
                "appointment_id": appointment.id,
                "doctor_id": body.doctor_id,
                "patient_id": body.patient_id,
                "date": body.start.date().isoformat(),
            },
        )
        return appointment

    def _check_in(self, request: httpx.Request, appointment_id: str) -> QueueEntryRead:
        appointment = self.appointments[int(appointment_id)]
        appointment.status = "checked_in"
        appointment.version += 1
        token = next(self._queue_tokens)
        entry = QueueEntryRead(
            id=token,
            token=token,
            status="waiting",
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            patient_name=appointment.patient_name,
            patient_mrn=appointment.patient_mrn,
            doctor_id=appointment.doctor_id,
            doctor_name=appointment.doctor_name,
            queue_date=appointment.start.date(),
            appointment_start=appointment.start,
            checked_in_at=appointment.start,
            called_at=None,
            started_at=None,
            completed_at=None,
            waiting_minutes=4,
            encounter_id=None,
            version=1,
        )
        self.queue[entry.id] = entry
        self.publish("appointment.checked_in", {"appointment_id": appointment.id})
        return entry

    def _cancel(self, request: httpx.Request, appointment_id: str) -> AppointmentRead:
        appointment = self.appointments[int(appointment_id)]
        appointment.status = "cancelled"
        appointment.cancel_reason = parse_body(request, AppointmentCancel).reason
        return appointment

    def _no_show(self, request: httpx.Request, appointment_id: str) -> AppointmentRead:
        if request.content:
            parse_body(request, AppointmentNoShow)
        appointment = self.appointments[int(appointment_id)]
        appointment.status = "no_show"
        return appointment

    def _queue(self, request: httpx.Request) -> QueueBoardRead:
        items = sorted(self.queue.values(), key=lambda e: e.token)
        waiting = sum(1 for e in items if e.status == "waiting")
        return QueueBoardRead(
            items=items, total=len(items), date=date.today(), summary=QueueSummary(waiting=waiting)
        )

    # -- events ------------------------------------------------------------------------
    def _stream(self, request: httpx.Request) -> httpx.Response:
        self.require(request)
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
                    yield (
                        f"id: {event_id}\nevent: {event_type}\ndata: {json.dumps(data)}\n\n"
                    ).encode()

        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=frames())

    def _latest_event_id(self) -> int:
        with self._events_changed:
            return self.events[-1][0] if self.events else 0
