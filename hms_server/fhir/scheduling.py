"""FHIR R4 Appointment, from the scheduling area's appointments.

Appointments are schedule data: they follow the scheduling API's rule (``schedule.read``,
like ``GET /api/v1/appointments``), not the chart's care-relationship rule, and are audited
through the same service calls (``scheduling`` / ``appointment.read`` and
``appointment.list``). Why the patient comes (reason, notes, cancellation reason) is shown
only to roles that book or treat (``APPOINTMENT_REASON_READERS``), as in the JSON API.

Search needs ``patient`` or ``practitioner`` (or ``actor``); ``date`` bounds the start
(``ge``/``le``/``gt``/``lt``/``eq``; a bare day is the hospital's local day) and is paged in
the database.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fhir.resources.R4B.appointment import Appointment

from hms_server.domain.errors import NotFoundError
from hms_server.domain.permissions import APPOINTMENT_REASON_READERS, Perm
from hms_server.fhir.common import (
    instant_range,
    int_id,
    practitioner_reference,
    reference_id,
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
    SearchResult,
    build,
)
from hms_server.services import appointments as appointment_service
from hms_server.services import scheduling as scheduling_service

BOOKING_SYSTEM = "urn:hms:booking-reference"
APPOINTMENT_TYPE_SYSTEM = "urn:hms:appointment-type"

# HMS status -> FHIR AppointmentStatus. Checked in (waiting) and in consultation are both
# "arrived": FHIR keeps an appointment "arrived" until it is fulfilled (the Encounter says
# whether the consultation has begun).
STATUS = {
    "booked": "booked",
    "checked_in": "arrived",
    "in_consultation": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def _show_reasons(ctx: FhirContext) -> bool:
    return bool(APPOINTMENT_REASON_READERS & ctx.permissions)


def appointment_resource(
    a: Any, doctor: Any, type_names: dict[str, str], *, show_reasons: bool
) -> Resource:
    type_name = type_names.get(a.type_code, a.type_code)
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(a.id),
        "identifier": [{"system": BOOKING_SYSTEM, "value": a.booking_reference}],
        "status": STATUS.get(a.status, "booked"),
        "appointmentType": {
            "coding": [
                {"system": APPOINTMENT_TYPE_SYSTEM, "code": a.type_code, "display": type_name}
            ],
            "text": type_name,
        },
        "start": ts(a.starts_at),
        "end": ts(a.ends_at),
        "minutesDuration": round((a.ends_at - a.starts_at).total_seconds() / 60),
        "created": ts(a.created_at),
        "participant": [
            {
                "actor": {"reference": f"Patient/{a.patient_id}"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": practitioner_reference(doctor.user_id, doctor.display_name),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if doctor.specialty:
        resource["specialty"] = [{"text": doctor.specialty}]
    if show_reasons:
        if a.reason:
            resource["reasonCode"] = [{"text": a.reason}]
        if a.notes:
            resource["comment"] = a.notes
        if a.status == "cancelled" and a.cancel_reason:
            resource["cancelationReason"] = {"text": a.cancel_reason}
    return build(Appointment, resource)


def _type_names(ctx: FhirContext) -> dict[str, str]:
    return {t.code: t.name for t in scheduling_service.list_appointment_types(ctx.uow())}


def _read(ctx: FhirContext, resource_id: str) -> Resource | None:
    appointment_id = int_id(resource_id)
    if appointment_id is None:
        return None
    try:
        a, doctor, _ = appointment_service.get_appointment_view(ctx.uow(), appointment_id)
    except NotFoundError:
        return None
    return appointment_resource(a, doctor, _type_names(ctx), show_reasons=_show_reasons(ctx))


def _actor(params: SearchParams) -> tuple[int | None, int | None]:
    """(patient id, practitioner user id) from ``patient``, ``practitioner`` and ``actor``."""
    patient = params.first("patient")
    practitioner = params.first("practitioner")
    patient_id = reference_id(patient, "Patient", "patient") if patient else None
    user_id = reference_id(practitioner, "Practitioner", "practitioner") if practitioner else None
    actor = params.first("actor")
    if actor:
        kind = actor.split("/", 1)[0] if "/" in actor else ""
        if kind == "Patient" and patient_id is None:
            patient_id = reference_id(actor, "Patient", "actor")
        elif kind == "Practitioner" and user_id is None:
            user_id = reference_id(actor, "Practitioner", "actor")
        else:
            raise FhirError(400, "invalid", "actor must be Patient/<id> or Practitioner/<id>.")
    if patient_id is None and user_id is None:
        raise FhirError(
            400,
            "required",
            "Search by patient or practitioner: ?patient=Patient/123 or "
            "?practitioner=Practitioner/<user id>.",
        )
    return patient_id, user_id


def _search(ctx: FhirContext, params: SearchParams) -> SearchResult:
    patient_id, user_id = _actor(params)
    uow = ctx.uow()
    window = instant_range(params, "date", uow.hospital.zone)
    wanted = tokens(params, "status")
    statuses = [k for k, v in STATUS.items() if v in wanted] if wanted else None
    doctor_id = None
    if user_id is not None:
        lookup = ctx.uow()
        with lookup:
            doctor = scheduling_service.doctor_for_user(lookup, user_id)
            doctor_id = doctor.id if doctor is not None else None
        if doctor_id is None:
            return SearchResult([], 0)
    if statuses == [] or window.empty():
        return SearchResult([], 0)
    rows, total = appointment_service.list_appointments(
        uow,
        patient_id=patient_id,
        doctor_id=doctor_id,
        status=statuses,
        starts_from=window.low,
        starts_before=window.high,
        limit=max(params.count, 1),
        offset=params.offset,
        sort="start",
    )
    if params.count == 0:
        rows = []
    names = _type_names(ctx) if rows else {}
    show = _show_reasons(ctx)
    # The service's list rows carry the doctor's columns under ``doctor_*`` names.
    return SearchResult(
        [
            appointment_resource(
                r,
                SimpleNamespace(
                    user_id=r.doctor_user_id,
                    display_name=r.doctor_name,
                    specialty=r.doctor_specialty,
                ),
                names,
                show_reasons=show,
            )
            for r in rows
        ],
        total,
    )


RESOURCE_TYPES = (
    ResourceType(
        "Appointment",
        _read,
        _search,
        (
            SearchParam("patient", "reference", "Patient/123 or 123 (this or practitioner)"),
            SearchParam(
                "practitioner", "reference", "Practitioner/<user id>: the doctor's appointments"
            ),
            SearchParam("actor", "reference", "Patient/<id> or Practitioner/<user id>"),
            SearchParam(
                "date", "date", "Start; ge/gt/le/lt/eq, a bare day is the hospital's local day"
            ),
            SearchParam("status", "token", "booked, arrived, fulfilled, cancelled, noshow"),
        ),
        Perm.SCHEDULE_READ,
        "Booked appointments (schedule.read, as the scheduling API); identifier is the "
        "booking reference; the doctor is a Practitioner reference by user identifier.",
    ),
)
