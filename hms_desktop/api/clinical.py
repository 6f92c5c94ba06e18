"""The clinical chart and prescribing over the public transport. No Qt here.

Every method is a blocking HTTP call meant to run on the task runner and returns contract
models. The server is the authority for access (care team / break-the-glass) and for
prescribing safety; two of its answers have a special meaning for the chart:

- ``ApiProblem`` with code ``care_relationship_required`` (403) — offer break-the-glass;
- ``SafetyConflictError`` (409 ``allergy_conflict`` | ``interaction`` | ``duplicate_therapy``)
  carrying the ``conflicts`` so the prescriber can read them and override with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import TypeAdapter

from hms_contract.clinical import (
    AllergyCreate,
    AllergyRead,
    BreakGlassRead,
    BreakGlassRequest,
    ChartRead,
    DocumentRead,
    EncounterCreate,
    EncounterRead,
    Icd10Read,
    LabOrderCreate,
    LabOrderRead,
    LabResultCreate,
    LabTestRead,
    MedicationRead,
    MyPatientRead,
    NoteAmend,
    NoteCreate,
    NoteRead,
    ProblemCreate,
    ProblemRead,
    TimelineItem,
    TrendPoint,
    VitalsCreate,
    VitalsRead,
    VitalsTrend,
)
from hms_contract.common import Page
from hms_contract.prescribing import (
    ConflictRead,
    DrugRead,
    PrescriptionCreate,
    PrescriptionRead,
    SafetyCheckRead,
    SafetyCheckRequest,
)
from hms_desktop.api.client import ApiClient, request_body
from hms_desktop.api.errors import ApiProblem, specialise

CARE_RELATIONSHIP_REQUIRED = "care_relationship_required"
SAFETY_CODES = frozenset(
    {"allergy_conflict", "interaction", "duplicate_therapy", "prescribing_conflict"}
)

_CONFLICTS = TypeAdapter(list[ConflictRead])


@dataclass(eq=False)
class SafetyConflictError(ApiProblem):
    """409 from ``POST /prescriptions``: the server's safety check found conflicts.

    Resending the same items with an ``override_reason`` prescribes anyway (the server
    audits the override).
    """

    conflicts: list[ConflictRead] = field(default_factory=list)


class ClinicalApi:
    """The clinical endpoints, over one shared ``ApiClient`` (thread-safe like it)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def _list(self, path: str, model: Any, params: Mapping[str, Any] | None = None) -> list:
        return list(self.api.get(path, Page[model], params=params).items)

    # -- today's list ------------------------------------------------------------------
    def my_patients(self, *, limit: int = 200) -> list[MyPatientRead]:
        """Today's checked-in patients of the clinic the user works (``relationship``
        ``clinic``/``queue``, with token, queue status and department), then their
        care-team patients (``GET /my-patients``)."""
        return self._list("/my-patients", MyPatientRead, {"limit": limit})

    # -- chart -------------------------------------------------------------------------
    def get_chart(self, patient_id: int) -> ChartRead:
        """Chart summary: patient, allergies, problems, medications, latest vitals,
        recent encounters. 403 ``care_relationship_required`` outside the care team."""
        return self.api.get(f"/patients/{patient_id}/chart", ChartRead)

    def break_glass(self, patient_id: int, reason: str) -> BreakGlassRead:
        """Time-limited emergency access to the chart; the server audits the reason."""
        body = request_body(BreakGlassRequest, {"reason": reason})
        return self.api.post(f"/patients/{patient_id}/break-glass", body, BreakGlassRead)

    def open_encounter(self, patient_id: int, reason: str | None = None) -> EncounterRead:
        body = request_body(EncounterCreate, {"kind": "outpatient", "reason": reason})
        return self.api.post(
            f"/patients/{patient_id}/encounters", body, EncounterRead, creates=True
        )

    def timeline(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> Page[TimelineItem]:
        return self.api.get(
            f"/patients/{patient_id}/timeline",
            Page[TimelineItem],
            params={"limit": limit, "offset": offset},
        )

    # -- notes -------------------------------------------------------------------------
    def list_notes(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> Page[NoteRead]:
        return self.api.get(
            f"/patients/{patient_id}/notes",
            Page[NoteRead],
            params={"limit": limit, "offset": offset},
        )

    def get_note(self, patient_id: int, note_id: int) -> NoteRead:
        """A note with every version, oldest first (``versions``) and ``current``."""
        return self.api.get(f"/patients/{patient_id}/notes/{note_id}", NoteRead)

    def create_note(self, patient_id: int, fields: Mapping[str, Any], *, sign: bool) -> NoteRead:
        body = request_body(NoteCreate, {**fields, "sign": sign})
        return self.api.post(f"/patients/{patient_id}/notes", body, NoteRead, creates=True)

    def sign_note(self, patient_id: int, note_id: int) -> NoteRead:
        return self.api.post(f"/patients/{patient_id}/notes/{note_id}/sign", None, NoteRead)

    def amend_note(
        self, patient_id: int, note_id: int, version: int, fields: Mapping[str, Any], reason: str
    ) -> NoteRead:
        """Append a new, signed version (the old ones stay visible); ``version`` is the
        note's current version as read (stale → 409 ``version_conflict``)."""
        body = request_body(
            NoteAmend, {**fields, "version": version, "reason": reason, "sign": True}
        )
        return self.api.post(f"/patients/{patient_id}/notes/{note_id}/amend", body, NoteRead)

    # -- vitals ------------------------------------------------------------------------
    def list_vitals(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> Page[VitalsRead]:
        return self.api.get(
            f"/patients/{patient_id}/vitals",
            Page[VitalsRead],
            params={"limit": limit, "offset": offset},
        )

    def vitals_trend(self, patient_id: int, metrics: list[str]) -> dict[str, list[TrendPoint]]:
        """``{metric: [TrendPoint]}`` oldest first, for a trend chart."""
        trend = self.api.get(
            f"/patients/{patient_id}/vitals/trend", VitalsTrend, params={"metric": metrics}
        )
        return dict(trend.series)

    def record_vitals(self, patient_id: int, values: Mapping[str, Any]) -> VitalsRead:
        body = request_body(VitalsCreate, values)
        return self.api.post(f"/patients/{patient_id}/vitals", body, VitalsRead, creates=True)

    # -- allergies, problems, ICD-10 ---------------------------------------------------
    def list_allergies(self, patient_id: int) -> list[AllergyRead]:
        return self._list(f"/patients/{patient_id}/allergies", AllergyRead)

    def add_allergy(
        self,
        patient_id: int,
        *,
        substance: str,
        reaction: str | None,
        severity: str,
        category: str = "medication",
    ) -> AllergyRead:
        body = request_body(
            AllergyCreate,
            {
                "substance": substance,
                "reaction": reaction or None,
                "severity": severity,
                "category": category,
            },
        )
        return self.api.post(f"/patients/{patient_id}/allergies", body, AllergyRead, creates=True)

    def list_problems(self, patient_id: int) -> list[ProblemRead]:
        return self._list(f"/patients/{patient_id}/problems", ProblemRead)

    def add_problem(
        self,
        patient_id: int,
        *,
        icd10_code: str,
        description: str | None,
        onset_date: str | None = None,
    ) -> ProblemRead:
        body = request_body(
            ProblemCreate,
            {"icd10_code": icd10_code, "description": description, "onset_date": onset_date},
        )
        return self.api.post(f"/patients/{patient_id}/problems", body, ProblemRead, creates=True)

    def search_icd10(self, q: str, *, limit: int = 20) -> list[Icd10Read]:
        return self._list("/icd10", Icd10Read, {"q": q, "limit": limit})

    def list_medications(self, patient_id: int) -> list[MedicationRead]:
        """Items of active prescriptions still within their duration."""
        return self._list(f"/patients/{patient_id}/medications", MedicationRead)

    # -- labs --------------------------------------------------------------------------
    def lab_catalogue(self, q: str | None = None) -> list[LabTestRead]:
        return self._list("/lab-tests", LabTestRead, {"q": q, "limit": 200})

    def list_lab_orders(self, patient_id: int) -> list[LabOrderRead]:
        return self._list(f"/patients/{patient_id}/lab-orders", LabOrderRead, {"limit": 200})

    def order_lab(
        self, patient_id: int, *, test_id: int, priority: str, notes: str | None
    ) -> LabOrderRead:
        body = request_body(
            LabOrderCreate, {"test_id": test_id, "priority": priority, "notes": notes or None}
        )
        return self.api.post(f"/patients/{patient_id}/lab-orders", body, LabOrderRead, creates=True)

    def enter_result(
        self, patient_id: int, order_id: int, *, value: str, comment: str | None
    ) -> LabOrderRead:
        """A number is sent as ``value_numeric`` (the server flags it against the range),
        anything else as ``value_text``."""
        values: dict[str, Any] = {"comment": comment or None}
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            values["value_numeric"] = number
        else:
            values["value_text"] = value
        return self.api.post(
            f"/patients/{patient_id}/lab-orders/{order_id}/result",
            request_body(LabResultCreate, values),
            LabOrderRead,
        )

    # -- documents ---------------------------------------------------------------------
    def list_documents(self, patient_id: int) -> list[DocumentRead]:
        return self._list(f"/patients/{patient_id}/documents", DocumentRead)

    def upload_document(
        self, patient_id: int, *, title: str, filename: str, content: bytes
    ) -> DocumentRead:
        """Multipart upload; the server checks the type from the bytes, not the name."""
        return self.api.post_form(
            f"/patients/{patient_id}/documents",
            {"title": title},
            {"file": (filename, content)},
            DocumentRead,
            creates=True,
        )

    # -- prescribing -------------------------------------------------------------------
    def search_formulary(self, q: str, *, limit: int = 25) -> list[DrugRead]:
        return self._list("/formulary", DrugRead, {"q": q, "limit": limit})

    def check_prescription(self, patient_id: int, drug_ids: list[int]) -> SafetyCheckRead:
        """Dry run of the server's safety checks for these drugs (nothing is saved)."""
        body = request_body(
            SafetyCheckRequest, {"patient_id": patient_id, "drug_ids": list(drug_ids)}
        )
        return self.api.post("/prescriptions/check", body, SafetyCheckRead)

    def list_prescriptions(self, patient_id: int) -> list[PrescriptionRead]:
        return self._list(f"/patients/{patient_id}/prescriptions", PrescriptionRead, {"limit": 100})

    def get_prescription(self, prescription_id: int) -> PrescriptionRead:
        return self.api.get(f"/prescriptions/{prescription_id}", PrescriptionRead)

    def create_prescription(
        self,
        patient_id: int,
        items: list[Mapping[str, Any]],
        *,
        override_reason: str | None = None,
        notes: str | None = None,
        encounter_id: int | None = None,
    ) -> PrescriptionRead:
        """The new prescription, or ``SafetyConflictError`` listing what the check found."""
        values: dict[str, Any] = {"patient_id": patient_id, "items": list(items)}
        if encounter_id:
            values["encounter_id"] = encounter_id
        if notes:
            values["notes"] = notes
        if override_reason:
            values["override_reason"] = override_reason
        body = request_body(PrescriptionCreate, values)
        try:
            return self.api.post("/prescriptions", body, PrescriptionRead, creates=True)
        except ApiProblem as problem:
            if problem.status == 409 and (
                problem.code in SAFETY_CODES or problem.member("conflicts")
            ):
                conflicts = _CONFLICTS.validate_python(problem.member("conflicts") or [])
                raise specialise(problem, SafetyConflictError, conflicts=conflicts) from problem
            raise
