"""Typed calls of the wards area: beds, admissions, the MAR, nursing, device review.
No Qt here; every method blocks on HTTP and runs on the task runner.

Answers are ``hms_contract`` models. Problems the ward shows specially are typed:

- ``FiveRightsError`` — 409 ``wrong_patient`` / ``wrong_drug`` / ``wrong_dose`` /
  ``wrong_route`` / ``wrong_time`` from recording a dose (``reason_required`` says whether a
  reason would let an early or late dose through);
- ``BedUnavailableError`` — 409 ``bed_occupied`` / ``bed_blocked`` / ``bed_being_cleaned`` /
  ``bed_gender_policy`` / ``already_admitted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hms_contract.clinical import AllergyRead, VitalsCreate, VitalsRead
from hms_contract.common import Page
from hms_contract.devices import DeviceMessageRead, DeviceMessageReview
from hms_contract.mar import (
    AdministrationCreate,
    AdministrationRead,
    MarRead,
    MedicationOrderRead,
    OrderStop,
)
from hms_contract.nursing import (
    AssessmentCreate,
    AssessmentRead,
    DueList,
    FluidBalance,
    FluidCreate,
    FluidEntryRead,
    HandoverReport,
    NursingNoteCreate,
    NursingNoteRead,
    TaskCreate,
    TaskDone,
    TaskRead,
    VitalsGrid,
)
from hms_contract.patients import PatientPage, PatientRead, PatientSummary, PrintRecord
from hms_contract.wards import (
    AdmissionCreate,
    AdmissionRead,
    BedRead,
    BedStatusChange,
    CancelAdmissionRequest,
    DischargeRequest,
    DischargeSummaryRead,
    TransferRequest,
    WardRead,
)
from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem, specialise

FIVE_RIGHTS_CODES = frozenset(
    {"wrong_patient", "wrong_drug", "wrong_dose", "wrong_route", "wrong_time"}
)
BED_CODES = frozenset(
    {"bed_occupied", "bed_blocked", "bed_being_cleaned", "bed_gender_policy", "already_admitted"}
)


@dataclass(eq=False)
class FiveRightsError(ApiProblem):
    """The barcode check refused the dose; nothing was recorded."""

    reason_required: bool = False


@dataclass(eq=False)
class BedUnavailableError(ApiProblem):
    """The bed cannot take the patient (or the patient is already admitted)."""


def _typed(problem: ApiProblem) -> ApiProblem:
    body = problem.body if isinstance(problem.body, dict) else {}
    if problem.status == 409 and problem.code in FIVE_RIGHTS_CODES:
        return specialise(
            problem, FiveRightsError, reason_required=bool(body.get("reason_required"))
        )
    if problem.status == 409 and problem.code in BED_CODES:
        return specialise(problem, BedUnavailableError)
    return problem


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


class WardsApi:
    """The ward workspace's calls over one ``ApiClient`` (thread-safe like it)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def _post(self, path: str, body: Any, model: Any, *, creates: bool = False) -> Any:
        try:
            return self.api.post(path, body, model, creates=creates)
        except ApiProblem as problem:
            raise _typed(problem) from None

    # -- wards and beds ----------------------------------------------------------------------
    def wards(self, *, mine: bool = False) -> list[WardRead]:
        return self.api.get("/wards", Page[WardRead], params={"mine": mine or None}).items

    def beds(self, ward_id: int | None = None) -> Page[BedRead]:
        return self.api.get("/beds", Page[BedRead], params={"ward_id": ward_id})

    def bed(self, bed_id: int) -> BedRead:
        return self.api.get(f"/beds/{bed_id}", BedRead)

    def mark_clean(self, bed_id: int) -> BedRead:
        return self._post(f"/beds/{bed_id}/clean", None, BedRead)

    def change_bed_status(self, bed_id: int, change: BedStatusChange) -> BedRead:
        return self._post(f"/beds/{bed_id}/status", change, BedRead)

    # -- admissions ----------------------------------------------------------------------------
    def admissions(
        self,
        *,
        ward_id: int | None = None,
        status: str | None = "admitted",
        mine: bool = False,
        patient_id: int | None = None,
        limit: int = 200,
    ) -> Page[AdmissionRead]:
        return self.api.get(
            "/admissions",
            Page[AdmissionRead],
            params={
                "ward_id": ward_id,
                "status": status,
                "mine": mine or None,
                "patient_id": patient_id,
                "limit": limit,
            },
        )

    def admission(self, admission_id: int) -> AdmissionRead:
        return self.api.get(f"/admissions/{admission_id}", AdmissionRead)

    def admit(self, data: AdmissionCreate) -> AdmissionRead:
        return self._post("/admissions", data, AdmissionRead, creates=True)

    def transfer(self, admission_id: int, bed_id: int, reason: str | None = None) -> AdmissionRead:
        return self._post(
            f"/admissions/{admission_id}/transfer",
            TransferRequest(bed_id=bed_id, reason=reason),
            AdmissionRead,
        )

    def discharge(
        self, admission_id: int, summary: str, disposition: str = "home"
    ) -> AdmissionRead:
        return self._post(
            f"/admissions/{admission_id}/discharge",
            DischargeRequest(summary=summary, disposition=disposition),  # type: ignore[arg-type]
            AdmissionRead,
        )

    def cancel(self, admission_id: int, reason: str) -> AdmissionRead:
        return self._post(
            f"/admissions/{admission_id}/cancel",
            CancelAdmissionRequest(reason=reason),
            AdmissionRead,
        )

    def discharge_summary(self, admission_id: int) -> DischargeSummaryRead:
        return self.api.get(f"/admissions/{admission_id}/discharge-summary", DischargeSummaryRead)

    # -- patients (for headers and wristbands) -------------------------------------------------
    def patient(self, patient_id: int) -> PatientRead:
        return self.api.get(f"/patients/{patient_id}", PatientRead)

    def allergies(self, patient_id: int) -> list[AllergyRead]:
        return self.api.get(f"/patients/{patient_id}/allergies", Page[AllergyRead]).items

    def record_print(self, patient_id: int, document: str) -> None:
        """Tell the server a wristband or discharge summary was printed (audited)."""
        self.api.post(f"/patients/{patient_id}/prints", PrintRecord(document=document))  # type: ignore[arg-type]

    def search_patients(self, q: str, limit: int = 20) -> list[PatientSummary]:
        return self.api.get("/patients", PatientPage, params={"q": q, "limit": limit}).items

    # -- the MAR ---------------------------------------------------------------------------------
    def mar(
        self, admission_id: int, *, since: datetime | None = None, until: datetime | None = None
    ) -> MarRead:
        return self.api.get(
            f"/admissions/{admission_id}/mar",
            MarRead,
            params={"since": _iso(since), "until": _iso(until)},
        )

    def record_dose(self, data: AdministrationCreate) -> AdministrationRead:
        return self._post("/medication-administrations", data, AdministrationRead, creates=True)

    def stop_order(self, order_id: int, reason: str) -> MedicationOrderRead:
        return self._post(
            f"/medication-orders/{order_id}/stop", OrderStop(reason=reason), MedicationOrderRead
        )

    # -- nursing ---------------------------------------------------------------------------------
    def vitals_grid(self, admission_id: int, limit: int = 200) -> VitalsGrid:
        return self.api.get(
            f"/admissions/{admission_id}/vitals-grid", VitalsGrid, params={"limit": limit}
        )

    def record_vitals(self, admission_id: int, data: VitalsCreate) -> VitalsRead:
        return self._post(f"/admissions/{admission_id}/vitals", data, VitalsRead, creates=True)

    def assessments(self, admission_id: int, kind: str | None = None) -> list[AssessmentRead]:
        return self.api.get(
            f"/admissions/{admission_id}/assessments", Page[AssessmentRead], params={"kind": kind}
        ).items

    def record_assessment(self, admission_id: int, data: AssessmentCreate) -> AssessmentRead:
        return self._post(
            f"/admissions/{admission_id}/assessments", data, AssessmentRead, creates=True
        )

    def fluid_balance(self, admission_id: int, day: date | None = None) -> FluidBalance:
        return self.api.get(
            f"/admissions/{admission_id}/fluid-balance", FluidBalance, params={"day": _iso(day)}
        )

    def record_fluid(self, admission_id: int, data: FluidCreate) -> FluidEntryRead:
        return self._post(f"/admissions/{admission_id}/fluids", data, FluidEntryRead, creates=True)

    def tasks(self, admission_id: int, status: str | None = "open") -> list[TaskRead]:
        return self.api.get(
            f"/admissions/{admission_id}/tasks", Page[TaskRead], params={"status": status}
        ).items

    def add_task(self, admission_id: int, data: TaskCreate) -> TaskRead:
        return self._post(f"/admissions/{admission_id}/tasks", data, TaskRead, creates=True)

    def complete_task(self, task_id: int, version: int, note: str | None = None) -> TaskRead:
        return self._post(
            f"/care-tasks/{task_id}/complete", TaskDone(version=version, note=note), TaskRead
        )

    def nursing_notes(self, admission_id: int) -> list[NursingNoteRead]:
        return self.api.get(
            f"/admissions/{admission_id}/nursing-notes", Page[NursingNoteRead]
        ).items

    def add_nursing_note(self, admission_id: int, text: str) -> NursingNoteRead:
        return self._post(
            f"/admissions/{admission_id}/nursing-notes",
            NursingNoteCreate(text=text),
            NursingNoteRead,
            creates=True,
        )

    # -- the ward's round ------------------------------------------------------------------------
    def due(self, ward_id: int, within_minutes: int = 60) -> DueList:
        return self.api.get(
            f"/wards/{ward_id}/due", DueList, params={"within_minutes": within_minutes}
        )

    def handover(self, ward_id: int) -> HandoverReport:
        return self.api.get(f"/wards/{ward_id}/handover", HandoverReport)

    # -- bedside devices -------------------------------------------------------------------------
    def device_messages(self) -> Page[DeviceMessageRead]:
        return self.api.get("/device-messages", Page[DeviceMessageRead])

    def review_device_message(
        self, message_id: int, note: str, admission_id: int | None = None
    ) -> DeviceMessageRead:
        return self._post(
            f"/device-messages/{message_id}/review",
            DeviceMessageReview(note=note, admission_id=admission_id),
            DeviceMessageRead,
        )
