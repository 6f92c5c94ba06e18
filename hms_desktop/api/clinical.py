"""Typed wrappers over ``ApiClient`` for the clinical chart and prescribing. No Qt here.

Every method is a blocking HTTP call meant to run on the task runner. The server is the
authority for access (care team / break-the-glass) and for prescribing safety; this module
only turns its answers into plain dicts and two specific errors the chart knows how to show:

- ``ApiProblem`` with code ``care_relationship_required`` (403) — offer break-the-glass;
- ``SafetyConflictError`` (409 ``allergy_conflict`` | ``interaction`` | ``duplicate_therapy``)
  carrying the ``conflicts`` list so the prescriber can read them and override with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hms_desktop.api.errors import ApiProblem, specialise

CARE_RELATIONSHIP_REQUIRED = "care_relationship_required"
SAFETY_CODES = frozenset({"allergy_conflict", "interaction", "duplicate_therapy",
                          "prescribing_conflict"})

# Vital-sign fields the server accepts, in the order a nurse takes them.
VITAL_FIELDS = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "respiratory_rate",
                "temperature_c", "spo2_pct", "weight_kg", "height_cm")


@dataclass(eq=False)
class SafetyConflictError(ApiProblem):
    """409 from ``POST /prescriptions``: the server's safety check found conflicts.

    ``conflicts`` is ``[{type, drug_ids, reason, severity}]``; resending the same items with
    an ``override_reason`` prescribes anyway (the server audits the override).
    """

    conflicts: list[dict] = field(default_factory=list)


def problem_body(problem: ApiProblem) -> dict:
    """Extension members of a problem document (e.g. ``conflicts``), or ``{}``."""
    return problem.body if isinstance(problem.body, dict) else {}


def describe_patient(patient: dict) -> str:
    """``Family, Given`` — how lists and headers name a patient."""
    family = patient.get("family_name") or ""
    given = patient.get("given_name") or ""
    if family and given:
        return f"{family}, {given}"
    return family or given or patient.get("name") or patient.get("patient_name") or ""


def age_in_years(date_of_birth: str | None, today: date | None = None) -> int | None:
    if not date_of_birth:
        return None
    try:
        born = date.fromisoformat(str(date_of_birth)[:10])
    except ValueError:
        return None
    today = today or date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class ClinicalApi:
    """The clinical endpoints, over one shared ``ApiClient`` (thread-safe like it)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    # -- plumbing ----------------------------------------------------------------------
    def _get(self, path: str, params: dict | None = None) -> Any:
        return self.client._get(path, params)

    def _post(self, path: str, body: Any = None, *, creates: bool = True) -> Any:
        return self.client._post(path, body, creates=creates)

    @staticmethod
    def _page(result: Any) -> dict:
        if isinstance(result, list):
            return {"items": result, "total": len(result)}
        return {"items": list(result.get("items", [])), "total": result.get("total", 0)}

    # -- patients and today's list -----------------------------------------------------
    def search_patients(self, q: str | None, *, limit: int = 50, offset: int = 0) -> dict:
        return self._page(self._get("/patients", {"q": q, "limit": limit, "offset": offset}))

    def get_patient(self, patient_id: int) -> dict:
        return self._get(f"/patients/{patient_id}")

    def my_doctor_id(self, user_id: int) -> int | None:
        """The scheduling doctor record of a signed-in user, if they have one."""
        try:
            page = self._page(self._get("/doctors", {"limit": 500}))
        except ApiProblem:
            return None
        for doctor in page["items"]:
            if doctor.get("user_id") == user_id:
                return int(doctor["id"])
        return None

    def my_patients(self, *, limit: int = 200) -> list[dict]:
        """``MyPatientRead`` rows: today's checked-in patients of the clinic the user works
        (``relationship`` ``clinic``/``queue``, with token and queue status), then their
        care-team patients."""
        return self._page(self._get("/my-patients", {"limit": limit}))["items"]

    def todays_appointments(self, doctor_id: int, day: date | None = None) -> list[dict]:
        """Today's appointments of one doctor (cancelled and no-shows left out)."""
        params = {"date": (day or date.today()).isoformat(), "doctor_id": doctor_id,
                  "limit": 200, "sort": "start"}
        items = self._page(self._get("/appointments", params))["items"]
        return [a for a in items if a.get("status") not in ("cancelled", "no_show")]

    # -- chart -------------------------------------------------------------------------
    def get_chart(self, patient_id: int) -> dict:
        """Chart summary: patient, allergies, problems, medications, latest vitals,
        recent encounters. 403 ``care_relationship_required`` outside the care team."""
        return self._get(f"/patients/{patient_id}/chart")

    def break_glass(self, patient_id: int, reason: str) -> dict:
        """Time-limited emergency access to the chart; the server audits the reason."""
        return self._post(f"/patients/{patient_id}/break-glass", {"reason": reason},
                          creates=False) or {}

    def open_encounter(self, patient_id: int, reason: str | None = None) -> dict:
        return self._post(f"/patients/{patient_id}/encounters",
                          {"kind": "outpatient", "reason": reason})

    def timeline(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> dict:
        return self._page(self._get(f"/patients/{patient_id}/timeline",
                                    {"limit": limit, "offset": offset}))

    # -- notes -------------------------------------------------------------------------
    def list_notes(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> dict:
        return self._page(self._get(f"/patients/{patient_id}/notes",
                                    {"limit": limit, "offset": offset}))

    def get_note(self, patient_id: int, note_id: int) -> dict:
        """A note with every version, oldest first (``versions``) and ``current``."""
        return self._get(f"/patients/{patient_id}/notes/{note_id}")

    def create_note(self, patient_id: int, fields: dict, *, sign: bool) -> dict:
        return self._post(f"/patients/{patient_id}/notes", {**fields, "sign": sign})

    def sign_note(self, patient_id: int, note_id: int) -> dict:
        return self._post(f"/patients/{patient_id}/notes/{note_id}/sign", creates=False)

    def amend_note(self, patient_id: int, note_id: int, version: int, fields: dict,
                   reason: str) -> dict:
        """Append a new, signed version (the old ones stay visible); ``version`` is the
        note's current version as read (stale → 409 ``version_conflict``)."""
        body = {**fields, "version": version, "reason": reason, "sign": True}
        return self._post(f"/patients/{patient_id}/notes/{note_id}/amend", body,
                          creates=False)

    # -- vitals ------------------------------------------------------------------------
    def list_vitals(self, patient_id: int, *, limit: int = 50, offset: int = 0) -> dict:
        return self._page(self._get(f"/patients/{patient_id}/vitals",
                                    {"limit": limit, "offset": offset}))

    def vitals_trend(self, patient_id: int, metrics: list[str]) -> dict[str, list[dict]]:
        """``{metric: [{at, value, flag}]}`` oldest first, for the trend chart."""
        result = self._get(f"/patients/{patient_id}/vitals/trend", {"metric": metrics})
        return dict(result.get("series", {}))

    def record_vitals(self, patient_id: int, values: dict) -> dict:
        return self._post(f"/patients/{patient_id}/vitals", values)

    # -- allergies, problems, ICD-10 ---------------------------------------------------
    def list_allergies(self, patient_id: int) -> list[dict]:
        return self._page(self._get(f"/patients/{patient_id}/allergies"))["items"]

    def add_allergy(self, patient_id: int, *, substance: str, reaction: str | None,
                    severity: str, category: str = "medication") -> dict:
        body = {"substance": substance, "reaction": reaction or None, "severity": severity,
                "category": category}
        return self._post(f"/patients/{patient_id}/allergies", body)

    def list_problems(self, patient_id: int) -> list[dict]:
        return self._page(self._get(f"/patients/{patient_id}/problems"))["items"]

    def add_problem(self, patient_id: int, *, icd10_code: str, description: str | None,
                    onset_date: str | None = None) -> dict:
        body = {"icd10_code": icd10_code, "description": description, "onset_date": onset_date}
        return self._post(f"/patients/{patient_id}/problems", body)

    def search_icd10(self, q: str, *, limit: int = 20) -> list[dict]:
        return self._page(self._get("/icd10", {"q": q, "limit": limit}))["items"]

    def list_medications(self, patient_id: int) -> list[dict]:
        """Items of active prescriptions still within their duration."""
        return self._page(self._get(f"/patients/{patient_id}/medications"))["items"]

    # -- labs --------------------------------------------------------------------------
    def lab_catalogue(self, q: str | None = None) -> list[dict]:
        return self._page(self._get("/lab-tests", {"q": q, "limit": 200}))["items"]

    def list_lab_orders(self, patient_id: int) -> list[dict]:
        return self._page(self._get(f"/patients/{patient_id}/lab-orders",
                                    {"limit": 200}))["items"]

    def order_lab(self, patient_id: int, *, test_id: int, priority: str,
                  notes: str | None) -> dict:
        body = {"test_id": test_id, "priority": priority, "notes": notes or None}
        return self._post(f"/patients/{patient_id}/lab-orders", body)

    def enter_result(self, patient_id: int, order_id: int, *, value: str,
                     comment: str | None) -> dict:
        body: dict[str, Any] = {"comment": comment or None}
        try:
            body["value_numeric"] = float(value)
        except ValueError:
            body["value_text"] = value
        return self._post(f"/patients/{patient_id}/lab-orders/{order_id}/result", body,
                          creates=False)

    # -- documents ---------------------------------------------------------------------
    def list_documents(self, patient_id: int) -> list[dict]:
        return self._page(self._get(f"/patients/{patient_id}/documents"))["items"]

    def upload_document(self, patient_id: int, *, title: str, filename: str,
                        content: bytes) -> dict:
        """Multipart upload; the server checks the type from the bytes, not the name."""
        client = self.client
        headers = {"Authorization": f"Bearer {client._access_token}"}
        response = client._http.post(
            f"/patients/{patient_id}/documents", headers=headers,
            data={"title": title}, files={"file": (filename, content)})
        if response.is_error:
            from hms_desktop.api.client import problem_from_response

            raise problem_from_response(response)
        return response.json()

    # -- prescribing -------------------------------------------------------------------
    def search_formulary(self, q: str, *, limit: int = 25) -> list[dict]:
        return self._page(self._get("/formulary", {"q": q, "limit": limit}))["items"]

    def list_prescriptions(self, patient_id: int) -> list[dict]:
        return self._page(self._get(f"/patients/{patient_id}/prescriptions",
                                    {"limit": 100}))["items"]

    def get_prescription(self, prescription_id: int) -> dict:
        return self._get(f"/prescriptions/{prescription_id}")

    def create_prescription(self, patient_id: int, items: list[dict], *,
                            override_reason: str | None = None,
                            notes: str | None = None) -> dict:
        """201 ``{id, ...}``, or ``SafetyConflictError`` listing what the check found."""
        body: dict[str, Any] = {"patient_id": patient_id, "items": items}
        if notes:
            body["notes"] = notes
        if override_reason:
            body["override_reason"] = override_reason
        try:
            return self._post("/prescriptions", body)
        except ApiProblem as problem:
            extra = problem_body(problem)
            if problem.status == 409 and (problem.code in SAFETY_CODES
                                          or extra.get("conflicts")):
                raise specialise(problem, SafetyConflictError,
                                 conflicts=list(extra.get("conflicts") or [])) from problem
            raise
