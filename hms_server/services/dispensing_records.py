"""Dispensing records read by patient (FHIR MedicationDispense): one row per dispensed
batch of a prescription item.

Who may read them is the route's permission (``pharmacy.dispense``, as for
``GET /api/v1/dispenses/{id}``); like the dispensing API there is no care-relationship
check (the pharmacy is not on care teams). Each read is audited against the patient in the
pharmacy's category.
"""

from __future__ import annotations

from typing import Any

from hms_server.adapters.repositories.dispensing import DispensedLineRow, DispensingRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.services.dispensing import CATEGORY


def patient_dispensed_lines(
    uow: UnitOfWork, patient_id: int, *, limit: int, **detail: Any
) -> list[DispensedLineRow]:
    """A patient's dispensed lines, oldest first; audited as one list read. 404 for an
    unknown patient, as the chart searches answer."""
    with uow:
        repo = uow.repo(DispensingRepository)
        repo.patient(patient_id)
        rows = repo.dispensed_lines(patient_id=patient_id, limit=limit)
        uow.audit(
            CATEGORY,
            "dispense.list",
            patient_id=patient_id,
            detail={"returned": len(rows), **detail},
        )
        uow.commit()
        return rows


def dispensed_line(uow: UnitOfWork, line_id: int, **detail: Any) -> DispensedLineRow | None:
    """One dispensed line by id (None if there is none); audited against its patient."""
    with uow:
        rows = uow.repo(DispensingRepository).dispensed_lines(line_id=line_id, limit=1)
        if not rows:
            return None
        uow.audit(
            CATEGORY,
            "dispense.read",
            patient_id=rows[0].prescription.patient_id,
            detail={"dispense_id": rows[0].dispense.id, "dispense_line_id": line_id, **detail},
        )
        uow.commit()
        return rows[0]
