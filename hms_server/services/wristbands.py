"""What a printed wristband or ID card says about allergies: the allergy *alert*.

Reception prints wristbands but may not read charts. The alert gives exactly what the band
prints — the active allergies' substances and severities, and whether any allergy was ever
recorded — and nothing else of the chart. Each read is audited like any allergy read.
"""

from __future__ import annotations

from dataclasses import dataclass

from hms_server.adapters.repositories.clinical import ChartRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError

SEVERITY_ORDER = {"severe": 0, "moderate": 1, "mild": 2}


@dataclass(frozen=True)
class AlertAllergy:
    substance: str
    severity: str


@dataclass(frozen=True)
class AllergyAlert:
    patient_id: int
    #: False when no allergy was ever recorded: the band then says "not recorded", never
    #: "no known allergies".
    recorded: bool
    allergies: list[AlertAllergy]


def allergy_alert(uow: UnitOfWork, patient_id: int) -> AllergyAlert:
    """The active allergies (most severe first) for a wristband or ID card. Audited."""
    with uow:
        if uow.repo(PatientRepository).get(patient_id) is None:
            raise NotFoundError(f"No patient with id {patient_id}.")
        rows = uow.repo(ChartRepository).allergies(patient_id, active_only=False)
        active = sorted(
            (a for a in rows if a.status == "active"),
            key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), a.substance.lower()),
        )
        uow.audit(
            "allergies",
            "allergy.alert_read",
            patient_id=patient_id,
            detail={"purpose": "wristband", "count": len(active)},
        )
        uow.commit()
        return AllergyAlert(
            patient_id, bool(rows), [AlertAllergy(a.substance, a.severity) for a in active]
        )
