"""What an outgoing ADT message says about an admission: patient identity, the bed (and
the previous bed on a transfer), the attending doctor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_ADMISSION = text("""
    SELECT a.id, a.status, a.source, a.admitted_at, a.discharged_at,
           a.discharge_disposition, a.attending_doctor_user_id, u.full_name AS attending_name,
           p.mrn, p.given_name, p.family_name, p.date_of_birth, p.sex,
           coalesce(a.current_bed_id, ls.bed_id) AS bed_id
    FROM admissions a
    JOIN patients p ON p.id = a.patient_id
    LEFT JOIN users u ON u.id = a.attending_doctor_user_id
    LEFT JOIN LATERAL (SELECT s.bed_id FROM bed_stays s WHERE s.admission_id = a.id
                       ORDER BY s.started_at DESC LIMIT 1) ls ON true
    WHERE a.id = :admission_id
""")

_BED = text("""
    SELECT w.code AS ward_code, r.label AS room, b.label AS bed
    FROM beds b JOIN rooms r ON r.id = b.room_id JOIN wards w ON w.id = b.ward_id
    WHERE b.id = :bed_id
""")


_CURRENT_ADMISSION = text("""
    SELECT id FROM admissions WHERE patient_id = :patient_id AND status = 'admitted'
    ORDER BY admitted_at DESC LIMIT 1
""")


def current_admission_id(session: Session, patient_id: int) -> int | None:
    """The patient's stay in progress, if they are in hospital."""
    found = session.execute(_CURRENT_ADMISSION, {"patient_id": patient_id}).scalar()
    return int(found) if found is not None else None


def admission_facts(session: Session, admission_id: int) -> Any:
    return session.execute(_ADMISSION, {"admission_id": admission_id}).first()


def bed_location(session: Session, bed_id: int | None) -> Any:
    if bed_id is None:
        return None
    return session.execute(_BED, {"bed_id": bed_id}).first()
