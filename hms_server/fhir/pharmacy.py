"""FHIR R4 MedicationDispense, from the pharmacy's dispensing records.

One MedicationDispense per dispense line (one batch of one prescription item handed out; a
FEFO pick over two batches gives two). The medication is a contained Medication carrying
the batch's lot number and expiry (R4B MedicationDispense has no lot element of its own);
``authorizingPrescription`` is the MedicationRequest of the prescription item (the ids
``fhir.clinical`` gives); the quantity is in the stock item's unit.

Dispensing records are the pharmacy's: reading them needs ``pharmacy.dispense``, exactly as
``GET /api/v1/dispenses/{id}`` does, and, as there, no care relationship (the pharmacy is
on no care team). Clinicians see what was ordered and given through MedicationRequest and
MedicationAdministration. Reads are audited in the pharmacy's category
(``dispense.read`` / ``dispense.list``).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.medicationdispense import MedicationDispense

from hms_server.domain.permissions import Perm
from hms_server.fhir.common import (
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
    Resource,
    ResourceType,
    SearchParam,
    SearchParams,
    build,
)
from hms_server.services import dispensing_records

DISPENSE_SYSTEM = "urn:hms:dispense"
MAX_ROWS = 1000


def dispense_resource(row: Any) -> Resource:
    line, dispense, rx, batch, item = row.line, row.dispense, row.prescription, row.batch, row.item
    concept = medication_concept(row.drug) if row.drug is not None else {"text": item.name}
    resource: Resource = {
        "resourceType": "MedicationDispense",
        "id": str(line.id),
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": concept,
                "batch": {"lotNumber": batch.lot, "expirationDate": batch.expiry.isoformat()},
            }
        ],
        "identifier": [{"system": DISPENSE_SYSTEM, "value": dispense.number}],
        "status": "completed",
        "medicationReference": {"reference": "#med", "display": concept["text"]},
        "subject": {"reference": f"Patient/{rx.patient_id}"},
        "authorizingPrescription": [
            {"reference": f"MedicationRequest/{line.prescription_item_id}"}
        ],
        "quantity": {"value": number(line.quantity), "unit": item.base_unit},
        "whenHandedOver": ts(dispense.dispensed_at),
    }
    if rx.encounter_id:
        resource["context"] = {"reference": f"Encounter/{rx.encounter_id}"}
    performer = practitioner_reference(dispense.pharmacist_user_id, row.pharmacist_name)
    if performer:
        resource["performer"] = [{"actor": performer}]
    if line.returned_quantity:
        resource["note"] = [
            {"text": f"{number(line.returned_quantity)} {item.base_unit} returned to the pharmacy"}
        ]
    return build(MedicationDispense, resource)


def _read(ctx: FhirContext, resource_id: str) -> Resource | None:
    line_id = int_id(resource_id)
    if line_id is None:
        return None
    row = dispensing_records.dispensed_line(ctx.uow(), line_id, fhir="MedicationDispense")
    return dispense_resource(row) if row is not None else None


def _search(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    patient_id = patient_id_param(params)
    wanted = tokens(params, "status")
    rows = dispensing_records.patient_dispensed_lines(
        ctx.uow(), patient_id, limit=MAX_ROWS, fhir="MedicationDispense"
    )
    if wanted and "completed" not in wanted:
        return []
    return [dispense_resource(r) for r in rows]


RESOURCE_TYPES = (
    ResourceType(
        "MedicationDispense",
        _read,
        _search,
        (
            SearchParam("patient", "reference", "Required: Patient/123 or 123"),
            SearchParam("status", "token", "completed (every recorded dispense)"),
        ),
        Perm.DISPENSE,
        "One per dispensed batch of a prescription item (pharmacy.dispense, as the "
        "dispensing API); the contained Medication carries lot and expiry.",
    ),
)
