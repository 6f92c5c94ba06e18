"""The appointment list (``GET /appointments``): one page as plain rows of exactly the
columns the list shows, and how many match.

Why plain rows: the list used to load each appointment with its whole ``Doctor`` and
``Patient`` entities to show the doctor's name and the patient's name and MRN. A patient row
is ~25 columns, three of them JSONB documents (address, next of kin, insurance) that psycopg
decodes on every fetch; a doctor's page of 200 meant 600 JSON documents parsed and 400 ORM
objects built per request, most of the request's CPU (see ``bench/doctor_list.py``). The
count only needs the appointments (the doctors only for a department filter): every
appointment has its doctor and patient (NOT NULL foreign keys), so the joins cannot change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.scheduling import Appointment, Doctor

APPOINTMENT_SORT_COLUMNS = {
    "start": Appointment.starts_at,
    "id": Appointment.id,
    "status": Appointment.status,
    "doctor_id": Appointment.doctor_id,
}

# The columns of one list row; the names are what ``AppointmentListRow`` readers use.
_LIST_COLUMNS = (
    Appointment.id,
    Appointment.patient_id,
    Appointment.doctor_id,
    Appointment.starts_at,
    Appointment.ends_at,
    Appointment.status,
    Appointment.type_code,
    Appointment.source,
    Appointment.overbook_slot,
    Appointment.location,
    Appointment.reason,
    Appointment.notes,
    Appointment.cancel_reason,
    Appointment.booking_reference,
    Appointment.encounter_id,
    Appointment.version,
    Appointment.created_at,
    Doctor.display_name.label("doctor_name"),
    Doctor.user_id.label("doctor_user_id"),
    Doctor.specialty.label("doctor_specialty"),
    Patient.given_name.label("patient_given_name"),
    Patient.family_name.label("patient_family_name"),
    Patient.mrn.label("patient_mrn"),
)

#: One row of the list: the appointment's columns by their ORM names plus ``doctor_name``,
#: ``doctor_user_id``, ``doctor_specialty`` (FHIR's practitioner reference),
#: ``patient_given_name``, ``patient_family_name`` and ``patient_mrn``.
AppointmentListRow = Row[Any]


@dataclass(frozen=True)
class AppointmentFilter:
    """Which appointments: start in ``[starts_from, starts_before)``, of a doctor, of a
    department's doctors, of a patient, in one of ``status``. None = no condition."""

    starts_from: datetime | None = None
    starts_before: datetime | None = None
    doctor_id: int | None = None
    department_id: int | None = None
    patient_id: int | None = None
    status: Sequence[str] | None = None

    def apply(self, query: Any) -> Any:
        if self.starts_from is not None:
            query = query.where(Appointment.starts_at >= self.starts_from)
        if self.starts_before is not None:
            query = query.where(Appointment.starts_at < self.starts_before)
        if self.doctor_id is not None:
            query = query.where(Appointment.doctor_id == self.doctor_id)
        if self.department_id is not None:
            query = query.where(
                Appointment.doctor_id.in_(
                    select(Doctor.id).where(Doctor.department_id == self.department_id)
                )
            )
        if self.patient_id is not None:
            query = query.where(Appointment.patient_id == self.patient_id)
        if self.status:
            query = query.where(Appointment.status.in_(list(self.status)))
        return query


def appointment_page(
    session: Session, where: AppointmentFilter, *, sort: str, limit: int, offset: int
) -> tuple[list[AppointmentListRow], int]:
    """One page in ``sort`` order (``-`` = descending; ties by id) and the total."""
    total = session.scalar(where.apply(select(func.count()).select_from(Appointment))) or 0
    column = APPOINTMENT_SORT_COLUMNS[sort.lstrip("-")]
    query = (
        where.apply(select(*_LIST_COLUMNS))
        .join(Doctor, Doctor.id == Appointment.doctor_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .order_by(column.desc() if sort.startswith("-") else column, Appointment.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(query)), int(total)
