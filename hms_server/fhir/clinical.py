"""FHIR R4 clinical resources: Encounter (visits, and inpatient stays completed from their
admission by ``fhir.inpatient``), Observation (vitals and lab results), Condition
(ICD-10-CM), AllergyIntolerance and MedicationRequest.

Search requires ``patient`` (``Patient/123`` or ``123``): a search across patients would
bypass the care-relationship check, which applies here exactly as in the chart API (and every
read is audited through the same services).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation

from hms_server.domain.errors import NotFoundError
from hms_server.domain.permissions import Perm
from hms_server.fhir import inpatient
from hms_server.fhir.common import int_id as _int_id
from hms_server.fhir.common import medication_concept
from hms_server.fhir.common import number as _number
from hms_server.fhir.common import patient_id_param as _patient_id
from hms_server.fhir.common import tokens as _tokens
from hms_server.fhir.common import ts as _ts
from hms_server.fhir.registry import (
    FhirContext,
    Resource,
    ResourceType,
    SearchParam,
    SearchParams,
    build,
)
from hms_server.services import clinical as clinical_service
from hms_server.services import labs as lab_service
from hms_server.services import prescribing as rx_service

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
PRESCRIPTION_SYSTEM = "urn:hms:prescription"
LAB_CODE_SYSTEM = "urn:hms:lab-test"
MAX_ROWS = 1000

PATIENT_PARAM = SearchParam("patient", "reference", "Required: Patient/123 or 123")

# metric → (LOINC code, display, UCUM unit, unit display)
VITAL_CODES: dict[str, tuple[str, str, str, str]] = {
    "heart_rate_bpm": ("8867-4", "Heart rate", "/min", "beats/minute"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min", "breaths/minute"),
    "temperature_c": ("8310-5", "Body temperature", "Cel", "C"),
    "spo2_pct": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "weight_kg": ("29463-7", "Body weight", "kg", "kg"),
    "height_cm": ("8302-2", "Body height", "cm", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2"),
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_PARTS = {
    "systolic_mmhg": ("8480-6", "Systolic blood pressure"),
    "diastolic_mmhg": ("8462-4", "Diastolic blood pressure"),
}
SPO2_EXTRA = ("2708-6", "Oxygen saturation in Arterial blood")
FLAG_DISPLAY = {
    "L": "Low",
    "H": "High",
    "LL": "Critical low",
    "HH": "Critical high",
    "N": "Normal",
    "A": "Abnormal",
}


def _subject(patient_id: int) -> Resource:
    return {"reference": f"Patient/{patient_id}"}


def _interpretation(flag: str | None) -> list[Resource] | None:
    if not flag:
        return None
    return [
        {
            "coding": [
                {"system": INTERPRETATION, "code": flag, "display": FLAG_DISPLAY.get(flag, flag)}
            ]
        }
    ]


# ---------------------------------------------------------------- Encounter

_ENCOUNTER_CLASS = {
    "outpatient": ("AMB", "ambulatory"),
    "inpatient": ("IMP", "inpatient encounter"),
    "emergency": ("EMER", "emergency"),
    "telehealth": ("VR", "virtual"),
    "home": ("HH", "home health"),
}
_ENCOUNTER_STATUS = {"in_progress": "in-progress", "finished": "finished", "cancelled": "cancelled"}


def encounter_resource(
    e: Any, clinician_name: str | None = None, admission: Any | None = None
) -> Resource:
    """A visit or inpatient encounter; ``admission`` (the admission that opened it) adds
    its identifier, ward/bed locations and hospitalization (``fhir.inpatient``)."""
    code, display = _ENCOUNTER_CLASS.get(e.kind, ("AMB", "ambulatory"))
    resource: Resource = {
        "resourceType": "Encounter",
        "id": str(e.id),
        "status": _ENCOUNTER_STATUS.get(e.status, "unknown"),
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "subject": _subject(e.patient_id),
        "period": {"start": _ts(e.started_at), **({"end": _ts(e.ended_at)} if e.ended_at else {})},
    }
    if clinician_name:
        resource["participant"] = [{"individual": {"display": clinician_name}}]
    if e.reason:
        resource["reasonCode"] = [{"text": e.reason}]
    if e.appointment_id:
        resource["identifier"] = [{"system": "urn:hms:appointment", "value": str(e.appointment_id)}]
    if admission is not None:
        details = inpatient.admission_details(admission)
        details["identifier"] = resource.get("identifier", []) + details["identifier"]
        resource.update(details)
    return build(Encounter, resource)


def _read_encounter(ctx: FhirContext, resource_id: str) -> Resource | None:
    admission_id = inpatient.admission_id_of(resource_id)
    if admission_id is not None:
        return inpatient.read_admission_encounter(ctx, admission_id)
    encounter_id = _int_id(resource_id)
    if encounter_id is None:
        return None
    try:
        view = clinical_service.get_encounter(ctx.uow(), encounter_id)
    except NotFoundError:
        return None
    admission = None
    if view.encounter.kind == "inpatient":
        admissions = inpatient.patient_admissions(ctx, view.encounter.patient_id)
        admission = next((a for a in admissions if a.encounter_id == encounter_id), None)
    return encounter_resource(view.encounter, view.clinician_name, admission)


def _search_encounter(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    """Visits and inpatient encounters, plus admissions that have no encounter yet
    (``adm-<id>``, see ``fhir.inpatient``); newest first."""
    wanted = _tokens(params, "status")
    patient_id = _patient_id(params)
    rows, _ = clinical_service.list_encounters(
        ctx.uow(), patient_id, status=None, limit=MAX_ROWS, offset=0
    )
    admissions = inpatient.patient_admissions(ctx, patient_id)
    by_encounter = {a.encounter_id: a for a in admissions if a.encounter_id is not None}
    out = [
        encounter_resource(v.encounter, v.clinician_name, by_encounter.get(v.encounter.id))
        for v in rows
    ]
    out += [inpatient.admission_encounter_resource(a) for a in admissions if a.encounter_id is None]
    out.sort(key=lambda r: (r["period"]["start"], r["id"]), reverse=True)
    return [r for r in out if not wanted or r["status"] in wanted]


# ---------------------------------------------------------------- Observation


def _quantity(value: Any, unit_code: str, unit: str) -> Resource:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit_code}


def _vital_category() -> list[Resource]:
    return [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}]


def vitals_resources(v: Any) -> list[Resource]:
    """One Observation per measurement; blood pressure as a panel with two components."""
    out: list[Resource] = []
    flags = v.flags or {}
    base = {
        "resourceType": "Observation",
        "status": "final",
        "category": _vital_category(),
        "subject": _subject(v.patient_id),
        "effectiveDateTime": _ts(v.recorded_at),
    }
    if v.encounter_id:
        base["encounter"] = {"reference": f"Encounter/{v.encounter_id}"}
    if v.systolic_mmhg is not None and v.diastolic_mmhg is not None:
        components = []
        for metric, (code, display) in BP_PARTS.items():
            component: Resource = {
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "valueQuantity": _quantity(getattr(v, metric), "mm[Hg]", "mmHg"),
            }
            interpretation = _interpretation(flags.get(metric))
            if interpretation:
                component["interpretation"] = interpretation
            components.append(component)
        out.append(
            {
                **base,
                "id": f"vs-{v.id}-bp",
                "code": {
                    "coding": [{"system": LOINC, "code": BP_PANEL[0], "display": BP_PANEL[1]}],
                    "text": "Blood pressure",
                },
                "component": components,
            }
        )
    for metric, (code, display, unit_code, unit) in VITAL_CODES.items():
        value = getattr(v, metric)
        if value is None:
            continue
        coding = [{"system": LOINC, "code": code, "display": display}]
        if metric == "spo2_pct":
            coding.append({"system": LOINC, "code": SPO2_EXTRA[0], "display": SPO2_EXTRA[1]})
        resource: Resource = {
            **base,
            "id": f"vs-{v.id}-{metric.split('_')[0]}",
            "code": {"coding": coding, "text": display},
            "valueQuantity": _quantity(value, unit_code, unit),
        }
        interpretation = _interpretation(flags.get(metric))
        if interpretation:
            resource["interpretation"] = interpretation
        out.append(resource)
    return [build(Observation, o) for o in out]


def lab_resource(r: Any, t: Any) -> Resource:
    coding = [{"system": LAB_CODE_SYSTEM, "code": t.code, "display": t.name}]
    if t.loinc:
        coding.insert(0, {"system": LOINC, "code": t.loinc, "display": t.name})
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"lab-{r.id}",
        "status": "final",
        "category": [
            {"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
        ],
        "code": {"coding": coding, "text": t.name},
        "subject": _subject(r.patient_id),
        "effectiveDateTime": _ts(r.resulted_at),
        "issued": _ts(r.resulted_at),
    }
    if r.value_numeric is not None:
        resource["valueQuantity"] = {
            "value": _number(r.value_numeric),
            **({"unit": r.unit, "system": UCUM, "code": r.unit} if r.unit else {}),
        }
    else:
        resource["valueString"] = r.value_text or ""
    interpretation = _interpretation(r.flag)
    if interpretation:
        resource["interpretation"] = interpretation
    if r.ref_low is not None or r.ref_high is not None:
        ref: Resource = {}
        for key, value in (("low", r.ref_low), ("high", r.ref_high)):
            if value is not None:
                ref[key] = {
                    "value": _number(value),
                    **({"unit": r.unit, "system": UCUM, "code": r.unit} if r.unit else {}),
                }
        resource["referenceRange"] = [ref]
    if r.comment:
        resource["note"] = [{"text": r.comment}]
    return build(Observation, resource)


def _read_observation(ctx: FhirContext, resource_id: str) -> Resource | None:
    parts = resource_id.split("-")
    if len(parts) == 3 and parts[0] == "vs" and parts[1].isdigit():
        vitals = clinical_service.read_chart_item(
            ctx.uow(), "vitals", int(parts[1]), fhir="Observation"
        )
        if vitals is None:
            return None
        return next((o for o in vitals_resources(vitals) if o["id"] == resource_id), None)
    if len(parts) == 2 and parts[0] == "lab" and parts[1].isdigit():
        found = lab_service.read_lab_result(ctx.uow(), int(parts[1]), fhir="Observation")
        return lab_resource(*found) if found is not None else None
    return None


def _search_observation(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    patient_id = _patient_id(params)
    categories = _tokens(params, "category") or {"vital-signs", "laboratory"}
    codes = _tokens(params, "code")
    out: list[Resource] = []
    if "vital-signs" in categories:
        rows, _ = clinical_service.list_vitals(
            ctx.uow(), patient_id, since=None, limit=MAX_ROWS, offset=0
        )
        for row in rows:
            out.extend(vitals_resources(row))
    if "laboratory" in categories:
        results, _ = lab_service.list_lab_results(
            ctx.uow(), patient_id, test_code=None, limit=MAX_ROWS, offset=0
        )
        out.extend(lab_resource(r, t) for r, t in results)
    if codes:

        def matches(o: Resource) -> bool:
            found = {c["code"] for c in o["code"]["coding"]}
            found |= {c["code"]["coding"][0]["code"] for c in o.get("component", [])}
            return bool(found & codes)

        out = [o for o in out if matches(o)]
    return out


# ---------------------------------------------------------------- Condition


def condition_resource(p: Any) -> Resource:
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(p.id),
        "verificationStatus": {
            "coding": [
                {
                    "system": CONDITION_VERIFICATION,
                    "code": "entered-in-error" if p.status == "entered_in_error" else "confirmed",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": ICD10CM, "code": p.icd10_code, "display": p.description}],
            "text": p.description,
        },
        "subject": _subject(p.patient_id),
        "recordedDate": _ts(p.recorded_at),
    }
    if p.status != "entered_in_error":
        resource["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": p.status}]}
    if p.encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{p.encounter_id}"}
    if p.onset_date:
        resource["onsetDateTime"] = p.onset_date.isoformat()
    if p.resolved_date and p.status in ("resolved", "inactive"):
        resource["abatementDateTime"] = p.resolved_date.isoformat()
    if p.notes:
        resource["note"] = [{"text": p.notes}]
    return build(Condition, resource)


def _read_item(ctx: FhirContext, kind: str, resource_id: str, resource_type: str) -> Any:
    row_id = _int_id(resource_id)
    if row_id is None:
        return None
    return clinical_service.read_chart_item(ctx.uow(), kind, row_id, fhir=resource_type)


def _read_condition(ctx: FhirContext, resource_id: str) -> Resource | None:
    row = _read_item(ctx, "problem", resource_id, "Problem")
    return condition_resource(row) if row is not None else None


def _search_condition(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    wanted = {s.replace("-", "_") for s in _tokens(params, "clinical-status")}
    rows = clinical_service.list_problems(ctx.uow(), _patient_id(params), status=None)
    codes = _tokens(params, "code")
    return [
        condition_resource(p)
        for p in rows
        if (not wanted or p.status in wanted) and (not codes or p.icd10_code in codes)
    ]


# ---------------------------------------------------------------- AllergyIntolerance


def allergy_resource(a: Any) -> Resource:
    resource: Resource = {
        "resourceType": "AllergyIntolerance",
        "id": str(a.id),
        "verificationStatus": {
            "coding": [
                {
                    "system": ALLERGY_VERIFICATION,
                    "code": "entered-in-error" if a.status == "entered_in_error" else "confirmed",
                }
            ]
        },
        "type": a.kind,
        "category": [a.category],
        "criticality": "high" if a.severity == "severe" else "low",
        "code": {"text": a.substance},
        "patient": _subject(a.patient_id),
        "recordedDate": _ts(a.recorded_at),
    }
    if a.status != "entered_in_error":
        resource["clinicalStatus"] = {"coding": [{"system": ALLERGY_CLINICAL, "code": a.status}]}
    if a.onset_date:
        resource["onsetDateTime"] = a.onset_date.isoformat()
    if a.reaction:
        resource["reaction"] = [{"manifestation": [{"text": a.reaction}], "severity": a.severity}]
    return build(AllergyIntolerance, resource)


def _read_allergy(ctx: FhirContext, resource_id: str) -> Resource | None:
    row = _read_item(ctx, "allergy", resource_id, "Allergy")
    return allergy_resource(row) if row is not None else None


def _search_allergy(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    wanted = _tokens(params, "clinical-status")
    rows = clinical_service.list_allergies(ctx.uow(), _patient_id(params), include_inactive=True)
    return [allergy_resource(a) for a in rows if not wanted or a.status in wanted]


# ---------------------------------------------------------------- MedicationRequest

_RX_STATUS = {"active": "active", "cancelled": "cancelled", "completed": "completed"}


def medication_request_resource(
    rx: Any, item: Any, drug: Any, prescriber_name: str | None
) -> Resource:
    medication = medication_concept(drug)
    dose_text = f"{_number(item.dose)} {item.unit} {item.route} {item.frequency}"
    if item.duration_days:
        dose_text += f" for {item.duration_days} days"
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "id": str(item.id),
        "identifier": [{"system": PRESCRIPTION_SYSTEM, "value": f"{rx.number}-{item.line_no}"}],
        "groupIdentifier": {"system": PRESCRIPTION_SYSTEM, "value": rx.number},
        "status": _RX_STATUS.get(rx.status, "unknown"),
        "intent": "order",
        "medicationCodeableConcept": medication,
        "subject": _subject(rx.patient_id),
        "authoredOn": _ts(rx.created_at),
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": dose_text + (f". {item.instructions}" if item.instructions else ""),
                "timing": {"code": {"text": item.frequency}},
                "route": {"text": item.route},
                "doseAndRate": [{"doseQuantity": {"value": _number(item.dose), "unit": item.unit}}],
            }
        ],
        "dispenseRequest": {"quantity": {"value": _number(item.quantity)}},
    }
    if item.duration_days:
        resource["dispenseRequest"]["expectedSupplyDuration"] = {
            "value": item.duration_days,
            "unit": "days",
            "system": UCUM,
            "code": "d",
        }
    if prescriber_name:
        resource["requester"] = {"display": prescriber_name}
    if rx.encounter_id:
        resource["encounter"] = {"reference": f"Encounter/{rx.encounter_id}"}
    if rx.notes:
        resource["note"] = [{"text": rx.notes}]
    return build(MedicationRequest, resource)


def _read_medication_request(ctx: FhirContext, resource_id: str) -> Resource | None:
    item_id = _int_id(resource_id)
    if item_id is None:
        return None
    prescription_id = rx_service.prescription_of_item(ctx.uow(), item_id)
    if prescription_id is None:
        return None
    view = rx_service.get_prescription(ctx.uow(), prescription_id)
    for item, drug in view.items:
        if item.id == item_id:
            return medication_request_resource(view.prescription, item, drug, view.prescriber_name)
    return None


def _search_medication_request(ctx: FhirContext, params: SearchParams) -> list[Resource]:
    wanted = _tokens(params, "status")
    views, _ = rx_service.list_prescriptions(
        ctx.uow(), _patient_id(params), status=None, limit=MAX_ROWS, offset=0
    )
    return [
        medication_request_resource(v.prescription, item, drug, v.prescriber_name)
        for v in views
        if not wanted or _RX_STATUS.get(v.prescription.status) in wanted
        for item, drug in v.items
    ]


RESOURCE_TYPES = (
    ResourceType(
        "Encounter",
        _read_encounter,
        _search_encounter,
        (PATIENT_PARAM, SearchParam("status", "token", "in-progress, finished, cancelled")),
        Perm.CLINICAL_READ,
        "Visits and inpatient stays (class IMP with ward/bed locations; an admission without "
        "an attending doctor yet is adm-<admission id>); search requires patient.",
    ),
    ResourceType(
        "Observation",
        _read_observation,
        _search_observation,
        (
            PATIENT_PARAM,
            SearchParam("category", "token", "vital-signs, laboratory"),
            SearchParam("code", "token", "LOINC code, e.g. 8867-4"),
        ),
        Perm.CLINICAL_READ,
        "Vital signs (LOINC) and laboratory results.",
    ),
    ResourceType(
        "Condition",
        _read_condition,
        _search_condition,
        (
            PATIENT_PARAM,
            SearchParam("clinical-status", "token", "active, resolved"),
            SearchParam("code", "token", "ICD-10-CM code"),
        ),
        Perm.CLINICAL_READ,
        "Problem list, coded in ICD-10-CM.",
    ),
    ResourceType(
        "AllergyIntolerance",
        _read_allergy,
        _search_allergy,
        (PATIENT_PARAM, SearchParam("clinical-status", "token", "active, inactive")),
        Perm.CLINICAL_READ,
        "Allergies and intolerances.",
    ),
    ResourceType(
        "MedicationRequest",
        _read_medication_request,
        _search_medication_request,
        (PATIENT_PARAM, SearchParam("status", "token", "active, cancelled")),
        Perm.CLINICAL_READ,
        "One per prescription item; groupIdentifier is the prescription number.",
    ),
)
