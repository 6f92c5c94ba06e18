"""Registration, search and demographics (``/patients``) over the public transport. No Qt.

Conflict answers that carry data beyond ``code``/``detail`` become their own errors with
typed members: ``PossibleDuplicatesError`` (``candidates``) here and, for scheduling,
``SlotTakenError`` (``suggestions``, see ``api/scheduling.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import TypeAdapter

from hms_contract.patients import (
    AllergyAlertRead,
    DuplicateCandidate,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientUpdate,
    PrintRecord,
)
from hms_desktop.api.client import ApiClient, request_body
from hms_desktop.api.errors import ApiProblem, specialise

SEXES = ("female", "male", "other", "unknown")
"""FHIR administrative-gender codes the server accepts."""

_CANDIDATES = TypeAdapter(list[DuplicateCandidate])


@dataclass(eq=False)
class PossibleDuplicatesError(ApiProblem):
    """409 ``possible_duplicates``: the existing records that look like the same person."""

    candidates: list[DuplicateCandidate] = field(default_factory=list)


def _with_extras(problem: ApiProblem) -> ApiProblem:
    if problem.status == 409 and problem.code == "possible_duplicates":
        candidates = _CANDIDATES.validate_python(problem.member("candidates") or [])
        return specialise(problem, PossibleDuplicatesError, candidates=candidates)
    return problem


class PatientsApi:
    """Registration, search and demographics. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def search(self, q: str | None = None, *, limit: int = 50, offset: int = 0) -> PatientPage:
        """A page of ``PatientSummary``; ``q`` is an MRN, name, phone, birth date or ID."""
        return self.api.get(
            "/patients", PatientPage, params={"q": q, "limit": limit, "offset": offset}
        )

    def get(self, patient_id: int) -> PatientRead:
        return self.api.get(f"/patients/{patient_id}", PatientRead)

    def register(self, data: Mapping[str, Any], *, confirm_new: bool = False) -> PatientRead:
        """Create a patient from the form's fields (empty ones are left out); raises
        ``PossibleDuplicatesError`` unless ``confirm_new``."""
        values = {k: v for k, v in data.items() if v not in (None, "", [], {})}
        if confirm_new:
            values["confirm_new"] = True
        body = request_body(PatientCreate, values)
        try:
            return self.api.post("/patients", body, PatientRead, creates=True)
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    def update(self, patient_id: int, *, version: int, changes: Mapping[str, Any]) -> PatientRead:
        """Change exactly the given fields (``None`` clears one); a stale ``version`` raises
        409 ``version_conflict``."""
        body = request_body(PatientUpdate, {"version": version, **changes})
        return self.api.patch(f"/patients/{patient_id}", body, PatientRead)

    def allergy_alert(self, patient_id: int) -> AllergyAlertRead:
        """The allergy flag a wristband prints (active substances and severities)."""
        return self.api.get(f"/patients/{patient_id}/allergy-alert", AllergyAlertRead)

    def record_print(
        self, patient_id: int, document: Literal["id_card", "wristband"] = "id_card"
    ) -> None:
        """Tell the server an ID card or wristband was printed (prints are audited)."""
        self.api.post(
            f"/patients/{patient_id}/prints", request_body(PrintRecord, {"document": document})
        )
