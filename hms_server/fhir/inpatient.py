"""FHIR R4 for inpatient care: admissions as Encounters, and MedicationAdministration from
the medication administration record (MAR).

Admissions as Encounters. Admitting with an attending doctor (or naming one later) opens an
inpatient encounter (``kind = inpatient``), which ``fhir.clinical`` already serves as an
Encounter of class IMP under its own id. That Encounter is completed here from the
admission: the admission's identifier, ``location`` (one entry per bed stay: ward and bed
with their period) and ``hospitalization`` (admit source, discharge disposition). An
admission without an attending doctor has no encounter yet; it is served as
``Encounter/adm-<admission id>`` (ids that cannot collide with the numeric ones). Once a
doctor is named, the admission's encounter takes over and ``adm-<id>`` answers 404 naming
it. Every read passes the chart's care-relationship check and is audited
(``admissions`` / ``read``).

MedicationAdministration: one per recorded dose (given, held, refused, missed). ``request``
points at the MedicationRequest of the prescription item (the ids ``fhir.clinical`` gives),
``context`` at the admission's Encounter. Clinical read, care relationship, audited as the
MAR is (``medication_administration`` / ``read``).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationadministration import MedicationAdministration

from hms_server.domain.mar import ADMIN_STATUSES
from hms_server.domain.permissions import Perm
from hms_server.fhir.common import (
    encounter_reference,
    instant_range,
    int_id,
    medication_concept,
    number,
    patient_id_param,
    practitioner_reference,
    tokens,
    ts,
)
from hms_server.fhir.registry import (
    FhirContext,
    FhirError,
    Resource,
    ResourceType,
    SearchParam,
    SearchParams,
    build,
)
from hms_server.services import mar as mar_service
from hms_server.services import wards as ward_service

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ADMISSION_SYSTEM = "urn:hms:admission"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
MAR_STATUS_SYSTEM = "urn:hms:mar-status"
ADMISSION_PREFIX = "adm-"
MAX_ROWS = 1000

# HMS admission source -> FHIR admit-source (a booked elective admission has no code of
# its own there: "other", with the HMS word as text).
ADMIT_SOURCES = {
    "clinic": ("outp", "From outpatient department"),
    "emergency": ("emd", "From accident/emergency department"),
    "booked": ("other", "Other"),
    "transfer": ("hosp-trans", "Transferred from other hospital"),
}
DISPOSITIONS = {
    "home": ("home", "Home"),
    "transfer_out": ("other-hcf", "Other healthcare facility"),
    "against_advice": ("aadvice", "Left against advice"),
    "deceased": ("exp", "Expired"),
    "other": ("oth", "Other"),
}
ADMISSION_STATUS = {"admitted": "in-progress", "discharged": "finished", "cancelled": "cancelled"}


# ---------------------------------------------------------------- admissions as Encounters


def _locations(row: Any) -> list[Resource]:
    out = []
    for stay in row.stays:
        entry: Resource = {
            "location": {"display": f"Ward {stay.ward_code}, bed {stay.bed_label}"},
            "status": "active" if stay.ended_at is None else "completed",
            "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": "bd", "display": "Bed"}]},
            "period": {
                "start": ts(stay.started_at),
                **({"end": ts(stay.ended_at)} if stay.ended_at else {}),
            },
        }
        out.append(entry)
    return out


def admission_details(row: Any) -> Resource:
    """The Encounter elements an admission adds: identifier, location, hospitalization."""
    code, display = ADMIT_SOURCES.get(row.source, ("other", "Other"))
    hospitalization: Resource = {
        "admitSource": {
            "coding": [{"system": ADMIT_SOURCE, "code": code, "display": display}],
            "text": row.source,
        }
    }
    if row.discharge_disposition:
        code, display = DISPOSITIONS.get(row.discharge_disposition, ("oth", "Other"))
        hospitalization["dischargeDisposition"] = {
            "coding": [{"system": DISCHARGE_DISPOSITION, "code": code, "display": display}],
            "text": row.discharge_disposition,
        }
    details: Resource = {
        "identifier": [{"system": ADMISSION_SYSTEM, "value": str(row.id)}],
        "hospitalization": hospitalization,
    }
    locations = _locations(row)
    if locations:
        details["location"] = locations
    return details


def admission_encounter_resource(row: Any) -> Resource:
    """An admission that has no inpatient encounter yet, as ``Encounter/adm-<id>``."""
    end = row.discharged_at or row.cancelled_at
    resource: Resource = {
        "resourceType": "Encounter",
        "id": f"{ADMISSION_PREFIX}{row.id}",
        "status": ADMISSION_STATUS.get(row.status, "unknown"),
        "class": {"system": ACT_CODE, "code": "IMP", "display": "inpatient encounter"},
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "period": {"start": ts(row.admitted_at), **({"end": ts(end)} if end else {})},
        **admission_details(row),
    }
    if row.reason:
        resource["reasonCode"] = [{"text": row.reason}]
    return build(Encounter, resource)


def admission_id_of(resource_id: str) -> int | None:
    """The admission id of ``adm-<id>``; None for any other id."""
    if not resource_id.startswith(ADMISSION_PREFIX):
        return None
    return int_id(resource_id[len(ADMISSION_PREFIX) :])


def read_admission_encounter(ctx: FhirContext, admission_id: int) -> Resource | None:
    row = ward_service.chart_admission(ctx.uow(), admission_id, fhir="Encounter")
    if row is None:
        return None
    if row.encounter_id is not None:
        raise FhirError(
            404,
            "not-found",
            f"Admission {admission_id} has an attending doctor now; it is served as "
            f"Encounter/{row.encounter_id}.",
        )
    return admission_encounter_resource(row)


def patient_admissions(ctx: FhirContext, patient_id: int) -> list[Any]:
    return ward_service.chart_admissions(ctx.uow(), patient_id, limit=MAX_ROWS, fhir="Encounter")


# ---------------------------------------------------------------- MedicationAdministration


def administration_resource(row: Any) -> Resource:
    a, order, drug = row.administration, row.order, row.drug
    given = a.status == "given"
    resource: Resource = {
        "resourceType": "MedicationAdministration",
        "id": str(a.id),
        "status": "completed" if given else "not-done",
        "medicationCodeableConcept": medication_concept(drug),
        "subject": {"reference": f"Patient/{a.patient_id}"},
        "effectiveDateTime": ts(a.administered_at),
        "request": {"reference": f"MedicationRequest/{order.prescription_item_id}"},
        "dosage": {
            "text": f"{number(order.dose)} {order.unit} {order.route}",
            "route": {"text": order.route},
            "dose": {"value": number(order.dose), "unit": order.unit},
        },
    }
    context = encounter_reference(row.encounter_id, a.admission_id)
    if context:
        resource["context"] = context
    performer = practitioner_reference(a.recorded_by_user_id, row.recorded_by_name)
    if performer:
        resource["performer"] = [{"actor": performer}]
    if not given:
        resource["statusReason"] = [
            {
                "coding": [
                    {"system": MAR_STATUS_SYSTEM, "code": a.status, "display": a.status.title()}
                ],
                "text": a.reason,
            }
        ]
    elif a.reason:  # given outside its window: the nurse's reason
        resource["note"] = [{"text": a.reason}]
    return build(MedicationAdministration, resource)


def _read_administration(ctx: FhirContext, resource_id: str) -> Resource | None:
    administration_id = int_id(resource_id)
    if administration_id is None:
        return None
    row = mar_service.chart_administration(
        ctx.uow(), administration_id, fhir="MedicationAdministration"
    )
    return administration_resource(row) if row is not None else None


_FHIR_STATUS = {s: "completed" if s == "given" else "not-done" for s in ADMIN_STATUSES}


def _search_administration(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    patient_id = patient_id_param(params)
    uow = ctx.uow()
    window = instant_range(params, "effective-time", uow.hospital.zone)
    wanted = tokens(params, "status")
    statuses = [s for s, f in _FHIR_STATUS.items() if f in wanted] if wanted else None
    rows = mar_service.chart_administrations(
        uow,
        patient_id,
        statuses=statuses,
        since=window.low,
        until=window.high,
        limit=MAX_ROWS,
        fhir="MedicationAdministration",
    )
    return [administration_resource(r) for r in rows]


RESOURCE_TYPES = (
    ResourceType(
        "MedicationAdministration",
        _read_administration,
        _search_administration,
        (
            SearchParam("patient", "reference", "Required: Patient/123 or 123"),
            SearchParam("status", "token", "completed (given), not-done (held/refused/missed)"),
            SearchParam("effective-time", "date", "When given; ge/gt/le/lt/eq"),
        ),
        Perm.CLINICAL_READ,
        "Doses recorded on the ward MAR; request is the MedicationRequest (prescription "
        "item), context the admission's Encounter.",
    ),
)
