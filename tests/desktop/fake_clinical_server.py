"""The fake contract server plus the clinical endpoints the chart and prescribing use.

Extends ``FakeHmsServer`` with a doctor, patients, a care team, notes with versions, vitals
with flags, allergies, problems, ICD-10, a formulary with one interaction rule,
prescriptions with the 409 safety check, and break-the-glass. State is kept as the
contract's read models.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from hms_contract.auth import UserRead
from hms_contract.clinical import (
    AllergyCreate,
    AllergyRead,
    BreakGlassRead,
    BreakGlassRequest,
    ChartRead,
    DocumentRead,
    EncounterRead,
    Icd10Read,
    LabOrderRead,
    MedicationRead,
    NoteAmend,
    NoteCreate,
    NoteRead,
    NoteVersionRead,
    PatientHeader,
    ProblemCreate,
    ProblemRead,
    TimelineItem,
    VitalsCreate,
    VitalsRead,
)
from hms_contract.common import Page
from hms_contract.patients import PatientPage, PatientRead
from hms_contract.prescribing import (
    ConflictRead,
    DrugRead,
    OverrideRead,
    PatientBrief,
    PrescriptionCreate,
    PrescriptionItemRead,
    PrescriptionRead,
    SafetyCheckRead,
    SafetyCheckRequest,
)
from hms_contract.scheduling import AppointmentRead, DoctorRead
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

DOCTOR_PASSWORD = "doctor-pass"
DOCTOR_ID = 7
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FORMULARY = [
    DrugRead(
        id=drug_id,
        code=f"D{drug_id:03d}",
        generic_name=name,
        ingredients=[name],
        form=form,
        strength=strength,
        route=route,
        atc_code=None,
        therapeutic_class=None,
        class_name=None,
        essential=True,
        synonyms=synonyms,
        brand_names=brands,
    )
    for drug_id, name, form, strength, route, synonyms, brands in (
        (1, "warfarin", "tablet", "5 mg", "oral", [], ["Coumadin"]),
        (2, "aspirin", "tablet", "75 mg", "oral", ["acetylsalicylic acid"], []),
        (3, "amoxicillin", "capsule", "500 mg", "oral", [], ["Amoxil"]),
        (4, "paracetamol", "tablet", "500 mg", "oral", ["acetaminophen"], ["Panadol"]),
        (
            5,
            "salbutamol",
            "inhaler",
            "100 micrograms/dose",
            "inhalation",
            ["albuterol"],
            ["Ventolin"],
        ),
    )
]
INTERACTION = ConflictRead(
    type="interaction",
    drug_ids=[1, 2],
    severity="major",
    reason="warfarin + aspirin: increased risk of bleeding.",
    source="HMS starter table, not from the ONC list",
)
ICD10 = [
    Icd10Read(code=code, description=text, billable=True)
    for code, text in (
        ("J45.909", "Unspecified asthma, uncomplicated"),
        ("I10", "Essential hypertension"),
        ("E11.9", "Type 2 diabetes mellitus without complications"),
        ("J06.9", "Acute upper respiratory infection, unspecified"),
    )
]
LIMITS = {"systolic_mmhg": (90, 139), "diastolic_mmhg": (60, 89), "heart_rate_bpm": (50, 100)}
MEASUREMENTS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "respiratory_rate",
    "temperature_c",
    "spo2_pct",
    "weight_kg",
    "height_cm",
)


def flags_of(values: dict) -> dict[str, str]:
    """L/H for the measurements outside the adult limits (as the server flags them)."""
    flags = {}
    for key, (low, high) in LIMITS.items():
        value = values.get(key)
        if value is not None and not low <= value <= high:
            flags[key] = "L" if value < low else "H"
    return flags


@dataclass
class FakeClinicalServer(FakeHmsServer):
    patients: dict[int, PatientRead] = field(default_factory=dict)
    care_team: set[int] = field(default_factory=set)
    allergies: dict[int, list[AllergyRead]] = field(default_factory=dict)
    problems: dict[int, list[ProblemRead]] = field(default_factory=dict)
    vitals: dict[int, list[VitalsRead]] = field(default_factory=dict)
    notes: dict[int, list[NoteRead]] = field(default_factory=dict)
    prescriptions: list[PrescriptionRead] = field(default_factory=list)
    break_glass_reasons: list[str] = field(default_factory=list)
    glass: set[int] = field(default_factory=set)
    checks: list[list[int]] = field(default_factory=list)
    documents: dict[int, list[DocumentRead]] = field(default_factory=dict)
    doctor: UserRead | None = None
    #: When set, POST /prescriptions answers only once the test sets this event.
    hold_prescribe: threading.Event | None = None

    @classmethod
    def with_clinical_data(cls) -> FakeClinicalServer:
        server = cls.with_demo_data()
        server.doctor = server.add_user("doctor", "Dr Dana Doctor", ["doctor"], DOCTOR_PASSWORD)
        names = [
            ("Amina", "Okafor", "female", "1961-03-14"),
            ("Ben", "Mensah", "male", "1990-07-02"),
            ("Chloe", "Novak", "female", "2001-12-30"),
        ]
        for i, (given, family, sex, dob) in enumerate(names, start=1):
            server.patients[i] = PatientRead(
                id=i,
                mrn=f"HMS-{1000 + i}",
                given_name=given,
                family_name=family,
                sex=sex,
                date_of_birth=dob,
                birth_date_estimated=False,
                created_at=CREATED_AT,
                updated_at=CREATED_AT,
                version=1,
            )
        server.care_team = {1, 2}
        server.allergies[1] = [
            AllergyRead(
                id=1,
                patient_id=1,
                substance="penicillin",
                category="medication",
                kind="allergy",
                reaction="anaphylaxis",
                severity="severe",
                status="active",
                onset_date=None,
                recorded_by_user_id=server.doctor.id,
                recorded_at=NOW - timedelta(days=400),
                updated_at=NOW - timedelta(days=400),
                version=1,
            )
        ]
        server.vitals[1] = [
            server.vitals_row(
                1,
                NOW - timedelta(days=10 - d),
                systolic_mmhg=128 + d * 6,
                diastolic_mmhg=82 + d * 2,
                heart_rate_bpm=70 + d,
                weight_kg=72.5 if d == 2 else None,
            )
            for d in range(6)
        ]
        server.notes[1] = [server.note_row(1, 1, "Initial consultation", "Cough 3 days")]
        return server

    # -- rows --------------------------------------------------------------------------
    def vitals_row(self, pid: int, when: datetime, **values) -> VitalsRead:
        measured = {k: values.get(k) for k in MEASUREMENTS}
        return VitalsRead(
            id=sum(len(v) for v in self.vitals.values()) + 1,
            patient_id=pid,
            encounter_id=None,
            recorded_by_user_id=self.doctor.id,
            recorded_at=when,
            **measured,
            bmi=None,
            flags=flags_of(measured),
            notes=values.get("notes"),
        )

    def note_row(
        self,
        pid: int,
        note_id: int,
        title: str | None,
        subjective: str | None,
        signed: bool = True,
        **sections,
    ) -> NoteRead:
        version = NoteVersionRead(
            version_no=1,
            subjective=subjective,
            objective=sections.get("objective"),
            assessment=sections.get("assessment"),
            plan=sections.get("plan"),
            body=None,
            amendment_reason=None,
            author_user_id=self.doctor.id,
            author_name="Dr Dana Doctor",
            created_at=NOW,
            signed_at=NOW if signed else None,
            signed_by_user_id=self.doctor.id if signed else None,
            signed=signed,
        )
        return NoteRead(
            id=note_id,
            patient_id=pid,
            encounter_id=None,
            note_type="soap",
            title=title,
            author_user_id=self.doctor.id,
            author_name="Dr Dana Doctor",
            created_at=NOW,
            version=1,
            signed=signed,
            current=version,
            versions=[version],
        )

    def chart_of(self, pid: int) -> ChartRead:
        vitals = sorted(self.vitals.get(pid, []), key=lambda v: v.recorded_at)
        patient = self.patients[pid]
        return ChartRead(
            patient=PatientHeader(
                **patient.model_dump(include=set(PatientHeader.model_fields)), age_years=40
            ),
            access="break_glass" if pid in self.glass else "care_team",
            allergies=self.allergies.get(pid, []),
            has_allergies=bool(self.allergies.get(pid)),
            problems=self.problems.get(pid, []),
            medications=self._meds(pid),
            latest_vitals=vitals[-1] if vitals else None,
            recent_encounters=[
                EncounterRead(
                    id=2,
                    patient_id=pid,
                    clinician_user_id=self.doctor.id,
                    appointment_id=None,
                    kind="outpatient",
                    status="in_progress",
                    reason="Follow-up",
                    started_at=NOW,
                    ended_at=None,
                    version=1,
                ),
                EncounterRead(
                    id=1,
                    patient_id=pid,
                    clinician_user_id=self.doctor.id,
                    appointment_id=None,
                    kind="outpatient",
                    status="finished",
                    reason="Cough",
                    started_at=NOW - timedelta(days=3),
                    ended_at=NOW - timedelta(days=3),
                    version=1,
                ),
            ],
            counts={},
        )

    def _meds(self, pid: int) -> list[MedicationRead]:
        return [
            MedicationRead(
                prescription_id=rx.id,
                prescription_number=rx.number,
                item_id=item.id,
                **item.model_dump(
                    include={
                        "drug_id",
                        "generic_name",
                        "strength",
                        "form",
                        "dose",
                        "unit",
                        "route",
                        "frequency",
                        "duration_days",
                        "quantity",
                    }
                ),
                prescribed_at=rx.created_at,
                prescriber_user_id=rx.prescriber_user_id,
            )
            for rx in self.prescriptions
            if rx.patient_id == pid
            for item in rx.items
        ]

    # -- dispatch ----------------------------------------------------------------------
    def routes(self) -> list[Route]:
        p = "/patients/{patient_id}"
        return [
            *super().routes(),
            Route("GET", "/patients", self._search, PatientPage),
            Route(
                "GET",
                "/patients/{patient_id}",
                lambda r, patient_id: self.patients[int(patient_id)],
                PatientRead,
            ),
            Route("GET", "/doctors", self._doctors, Page[DoctorRead]),
            Route("GET", "/appointments", self._appointments, Page[AppointmentRead]),
            Route("GET", p + "/chart", self._guard(lambda r, pid: self.chart_of(pid)), ChartRead),
            Route("POST", p + "/break-glass", self._break_glass, BreakGlassRead, 201),
            Route("GET", p + "/timeline", self._guard(self._timeline), Page[TimelineItem]),
            Route(
                "GET",
                p + "/notes",
                self._guard(lambda r, pid: page(self.notes.get(pid, []))),
                Page[NoteRead],
            ),
            Route("POST", p + "/notes", self._guard(self._create_note), NoteRead, 201),
            Route(
                "POST", p + "/notes/{note_id}/amend", self._guard(self._amend_note), NoteRead, 201
            ),
            Route("GET", p + "/vitals", self._guard(self._list_vitals), Page[VitalsRead]),
            Route("POST", p + "/vitals", self._guard(self._record_vitals), VitalsRead, 201),
            Route(
                "GET",
                p + "/allergies",
                self._guard(lambda r, pid: page(self.allergies.get(pid, []))),
                Page[AllergyRead],
            ),
            Route("POST", p + "/allergies", self._guard(self._add_allergy), AllergyRead, 201),
            Route(
                "GET",
                p + "/problems",
                self._guard(lambda r, pid: page(self.problems.get(pid, []))),
                Page[ProblemRead],
            ),
            Route("POST", p + "/problems", self._guard(self._add_problem), ProblemRead, 201),
            Route(
                "GET",
                p + "/medications",
                self._guard(lambda r, pid: page(self._meds(pid))),
                Page[MedicationRead],
            ),
            Route(
                "GET", p + "/lab-orders", self._guard(lambda r, pid: page([])), Page[LabOrderRead]
            ),
            Route(
                "GET",
                p + "/documents",
                self._guard(lambda r, pid: page(self.documents.get(pid, []))),
                Page[DocumentRead],
            ),
            Route("POST", p + "/documents", self._guard(self._upload_document), DocumentRead, 201),
            Route("GET", "/icd10", self._icd10, Page[Icd10Read]),
            Route("GET", "/formulary", self._formulary, Page[DrugRead]),
            Route("POST", "/prescriptions", self._prescribe, PrescriptionRead, 201),
            Route("POST", "/prescriptions/check", self._check, SafetyCheckRead),
            Route(
                "GET", "/prescriptions/{prescription_id}", self._get_prescription, PrescriptionRead
            ),
        ]

    def _guard(self, handler):
        """Doctor only; charts outside the care team answer care_relationship_required."""

        def wrapped(request: httpx.Request, patient_id: str, **rest: str):
            self.require(request, "doctor")
            pid = int(patient_id)
            if pid not in self.care_team | self.glass:
                raise Refused(
                    problem(
                        403,
                        "care_relationship_required",
                        "You are not in this patient's care team.",
                    )
                )
            return handler(request, pid, **rest)

        return wrapped

    def _search(self, request: httpx.Request) -> dict:
        q = request.url.params.get("q", "").lower()
        rows = [
            p
            for p in self.patients.values()
            if not q or q in f"{p.given_name} {p.family_name} {p.mrn}".lower()
        ]
        rows.sort(key=lambda p: (p.family_name, p.given_name))
        return paged(request, rows)

    def doctor_record(self) -> DoctorRead:
        return DoctorRead(
            id=DOCTOR_ID,
            user_id=self.doctor.id,
            full_name="Dr Dana Doctor",
            department="General Medicine",
            department_id=1,
            specialty="GP",
            active=True,
            version=1,
        )

    def _doctors(self, request: httpx.Request) -> dict:
        return page([self.doctor_record()])

    def appointment(
        self, aid: int, pid: int, start: datetime, status: str, reason: str | None = None
    ) -> AppointmentRead:
        patient = self.patients[pid]
        return AppointmentRead(
            id=aid,
            patient_id=pid,
            doctor_id=DOCTOR_ID,
            doctor_name="Dr Dana Doctor",
            patient_name=f"{patient.given_name} {patient.family_name}",
            patient_mrn=patient.mrn,
            start=start,
            end=start + timedelta(minutes=30),
            status=status,
            type="new",
            source="staff",
            overbook_slot=0,
            location="Room 4",
            reason=reason,
            notes=None,
            cancel_reason=None,
            booking_reference=f"BK{aid:05d}",
            encounter_id=None,
            version=1,
        )

    def _appointments(self, request: httpx.Request) -> dict:
        return page(
            [
                self.appointment(
                    50, 2, datetime(2026, 11, 26, 9, 30, tzinfo=UTC), "checked_in", "Follow-up"
                )
            ]
        )

    def _break_glass(self, request: httpx.Request, patient_id: str) -> BreakGlassRead:
        user = self.require(request, "doctor")
        reason = parse_body(request, BreakGlassRequest).reason
        self.break_glass_reasons.append(reason)
        self.glass.add(int(patient_id))
        return BreakGlassRead(
            id=1,
            patient_id=int(patient_id),
            user_id=user.id,
            reason=reason,
            granted_at=NOW,
            expires_at=NOW + timedelta(hours=1),
            active=True,
        )

    def _timeline(self, request: httpx.Request, pid: int) -> dict:
        items = [
            TimelineItem(
                kind="vitals",
                id=v.id,
                at=v.recorded_at,
                summary=f"BP {v.systolic_mmhg}/{v.diastolic_mmhg}",
                encounter_id=None,
                flag=None,
            )
            for v in self.vitals.get(pid, [])
        ]
        items += [
            TimelineItem(
                kind="note",
                id=n.id,
                at=n.created_at,
                summary=n.title or "",
                encounter_id=None,
                flag=None,
            )
            for n in self.notes.get(pid, [])
        ]
        items.sort(key=lambda i: i.at, reverse=True)
        return page(items)

    def _create_note(self, request: httpx.Request, pid: int) -> NoteRead:
        body = parse_body(request, NoteCreate)
        note = self.note_row(
            pid,
            len(self.notes.get(pid, [])) + 1,
            body.title,
            body.subjective,
            signed=body.sign,
            objective=body.objective,
            assessment=body.assessment,
            plan=body.plan,
        )
        self.notes.setdefault(pid, []).insert(0, note)
        return note

    def _amend_note(
        self, request: httpx.Request, pid: int, note_id: str
    ) -> NoteRead | httpx.Response:
        body = parse_body(request, NoteAmend)
        note = next(n for n in self.notes[pid] if n.id == int(note_id))
        if body.version != note.version:
            return problem(409, "version_conflict", "The note was amended meanwhile.")
        version = note.current.model_copy(
            update={
                **body.model_dump(include={"subjective", "objective", "assessment", "plan"}),
                "version_no": note.version + 1,
                "amendment_reason": body.reason,
                "signed_at": NOW,
                "signed": True,
            }
        )
        note.versions.append(version)
        note.current, note.version = version, version.version_no
        return note

    def _list_vitals(self, request: httpx.Request, pid: int) -> dict:
        return page(sorted(self.vitals.get(pid, []), key=lambda v: v.recorded_at, reverse=True))

    def _record_vitals(self, request: httpx.Request, pid: int) -> VitalsRead:
        body = parse_body(request, VitalsCreate)
        row = self.vitals_row(pid, NOW, **body.model_dump(exclude_none=True))
        self.vitals.setdefault(pid, []).append(row)
        return row

    def _add_allergy(self, request: httpx.Request, pid: int) -> AllergyRead:
        body = parse_body(request, AllergyCreate)
        row = AllergyRead(
            id=100 + len(self.allergies.get(pid, [])),
            patient_id=pid,
            **body.model_dump(),
            recorded_by_user_id=self.doctor.id,
            recorded_at=NOW,
            updated_at=NOW,
            version=1,
        )
        self.allergies.setdefault(pid, []).append(row)
        return row

    def _add_problem(self, request: httpx.Request, pid: int) -> ProblemRead:
        body = parse_body(request, ProblemCreate)
        row = ProblemRead(
            id=200 + len(self.problems.get(pid, [])),
            patient_id=pid,
            **body.model_dump(exclude={"description"}),
            description=body.description or body.icd10_code,
            resolved_date=None,
            recorded_by_user_id=self.doctor.id,
            recorded_at=NOW,
            version=1,
        )
        self.problems.setdefault(pid, []).append(row)
        return row

    def _upload_document(self, request: httpx.Request, pid: int) -> DocumentRead:
        """A multipart upload: the ``title`` field and the ``file`` part, as the server
        reads them (the type from the bytes, not the name)."""
        form = email.message_from_bytes(
            f"content-type: {request.headers['content-type']}\r\n\r\n".encode() + request.read(),
            policy=email.policy.HTTP,
        )
        parts = {
            part.get_param("name", header="content-disposition"): part for part in form.iter_parts()
        }
        data = parts["file"].get_payload(decode=True)
        row = DocumentRead(
            id=300 + len(self.documents.get(pid, [])),
            patient_id=pid,
            encounter_id=None,
            title=parts["title"].get_content().strip(),
            category=None,
            filename=parts["file"].get_filename(),
            content_type="application/pdf" if data.startswith(b"%PDF") else "image/png",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by_user_id=self.doctor.id,
            uploaded_at=NOW,
        )
        self.documents.setdefault(pid, []).append(row)
        return row

    def _icd10(self, request: httpx.Request) -> dict:
        q = request.url.params.get("q", "").lower()
        return page([i for i in ICD10 if q in i.code.lower() or q in i.description.lower()])

    def _formulary(self, request: httpx.Request) -> dict:
        q = request.url.params.get("q", "").lower()
        return page(
            [
                d
                for d in FORMULARY
                if q in " ".join([d.generic_name, *d.synonyms, *d.brand_names]).lower()
            ]
        )

    def _conflicts(self, pid: int, drug_ids: set[int]) -> list[ConflictRead]:
        ids = drug_ids | {
            i.drug_id for rx in self.prescriptions if rx.patient_id == pid for i in rx.items
        }
        return [INTERACTION] if {1, 2} <= ids else []

    def _check(self, request: httpx.Request) -> SafetyCheckRead | httpx.Response:
        self.require(request, "doctor")
        body = parse_body(request, SafetyCheckRequest)
        if body.patient_id not in self.care_team | self.glass:
            return problem(403, "care_relationship_required", "Not in the care team.")
        self.checks.append(list(body.drug_ids))
        conflicts = self._conflicts(body.patient_id, set(body.drug_ids))
        return SafetyCheckRead(ok=not conflicts, conflicts=conflicts)

    def _prescribe(self, request: httpx.Request) -> PrescriptionRead | httpx.Response:
        self.require(request, "doctor")
        if self.hold_prescribe is not None:  # a test holds the answer back (a slow network)
            self.hold_prescribe.wait(30)
        body = parse_body(request, PrescriptionCreate)
        pid = body.patient_id
        if pid not in self.care_team | self.glass:
            return problem(403, "care_relationship_required", "Not in the care team.")
        conflicts = self._conflicts(pid, {i.drug_id for i in body.items})
        if conflicts and not body.override_reason:
            return problem(
                409,
                "interaction",
                "Safety check found 1 problem(s).",
                conflicts=conflicts,
                override_allowed=True,
            )
        patient = self.patients[pid]
        rx_id = 900 + len(self.prescriptions)
        rx = PrescriptionRead(
            id=rx_id,
            number=f"RX-{len(self.prescriptions) + 1}",
            patient_id=pid,
            patient=PatientBrief(**patient.model_dump(include=set(PatientBrief.model_fields))),
            encounter_id=body.encounter_id,
            prescriber_user_id=self.doctor.id,
            prescriber_name="Dr Dana Doctor",
            status="active",
            notes=body.notes,
            created_at=NOW,
            cancelled_at=None,
            cancel_reason=None,
            version=1,
            items=[self._item(line, item) for line, item in enumerate(body.items, start=1)],
            overrides=[
                OverrideRead(
                    user_id=self.doctor.id,
                    reason=body.override_reason,
                    conflicts=conflicts,
                    created_at=NOW,
                )
            ]
            if body.override_reason
            else [],
        )
        self.prescriptions.append(rx)
        return rx

    @staticmethod
    def _item(line: int, item) -> PrescriptionItemRead:
        drug = next(d for d in FORMULARY if d.id == item.drug_id)
        return PrescriptionItemRead(
            id=line,
            line_no=line,
            generic_name=drug.generic_name,
            strength=drug.strength,
            form=drug.form,
            **item.model_dump(
                include={
                    "drug_id",
                    "dose",
                    "unit",
                    "route",
                    "frequency",
                    "duration_days",
                    "quantity",
                    "instructions",
                }
            ),
        )

    def _get_prescription(self, request: httpx.Request, prescription_id: str) -> PrescriptionRead:
        return next(r for r in self.prescriptions if r.id == int(prescription_id))
