"""Typed wrappers for the patient endpoints (``/patients``). No Qt here.

Conflict answers that carry data beyond ``code``/``detail`` become their own errors:
``PossibleDuplicatesError`` (with ``candidates``) and, for scheduling, ``SlotTakenError``
(see ``api/scheduling.py``), read from the problem document ``ApiProblem.body``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem, specialise

SEXES = ("female", "male", "other", "unknown")
"""FHIR administrative-gender codes the server accepts."""

def problem_body(problem: ApiProblem) -> dict:
    """The whole problem document (extension members such as ``candidates``), or ``{}``."""
    return problem.body if isinstance(problem.body, dict) else {}


@dataclass(eq=False)
class PossibleDuplicatesError(ApiProblem):
    """409 ``possible_duplicates``: ``candidates`` are ``{id, mrn, name, dob, score, reasons}``."""

    candidates: list[dict] = field(default_factory=list)


def _with_extras(problem: ApiProblem) -> ApiProblem:
    if problem.status == 409 and problem.code == "possible_duplicates":
        return specialise(problem, PossibleDuplicatesError,
                          candidates=list(problem_body(problem).get("candidates") or []))
    return problem


class PatientsApi:
    """Registration, search and demographics. Thread-safe like the ``ApiClient`` it wraps."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def search(self, q: str | None = None, *, limit: int = 50, offset: int = 0) -> dict:
        """``{items: [PatientSummary], total}``; ``q`` is an MRN, name, phone, DOB or ID."""
        return self.api._get("/patients", {"q": q, "limit": limit, "offset": offset})

    def get(self, patient_id: int) -> dict:
        return self.api._get(f"/patients/{patient_id}")

    def register(self, data: dict[str, Any], *, confirm_new: bool = False) -> dict:
        """Create a patient; raises ``PossibleDuplicatesError`` unless ``confirm_new``."""
        body = {k: v for k, v in data.items() if v not in (None, "", [], {})}
        if confirm_new:
            body["confirm_new"] = True
        try:
            return self.api._post("/patients", body, creates=True)
        except ApiProblem as problem:
            raise _with_extras(problem) from None

    def update(self, patient_id: int, *, version: int, changes: dict[str, Any]) -> dict:
        """PATCH the given fields; a stale ``version`` raises 409 ``version_conflict``."""
        body = {"version": version, **changes}
        return self.api._request("PATCH", f"/patients/{patient_id}", json=body).json()

    def record_print(self, patient_id: int, document: str = "id_card") -> None:
        """Tell the server an ID card or wristband was printed (prints are audited)."""
        self.api._post(f"/patients/{patient_id}/prints", {"document": document})
