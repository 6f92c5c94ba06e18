"""The ward basis of chart access: who may see an admitted patient because of the ward.

A nurse assigned to the ward the patient is admitted to, and the admission's attending
doctor, have a care relationship for as long as the admission is open. Called from one place
in ``services.access.care_access``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_WARD_CARE = text("""
    SELECT a.id FROM admissions a
    JOIN beds b ON b.id = a.current_bed_id
    WHERE a.patient_id = :patient_id AND a.status = 'admitted'
      AND (a.attending_doctor_user_id = :user_id
           OR EXISTS (SELECT 1 FROM ward_nurse_assignments w
                      WHERE w.ward_id = b.ward_id AND w.user_id = :user_id))
    LIMIT 1
""")

_ON_WARD = text("""
    SELECT 1 FROM ward_nurse_assignments w
    WHERE w.ward_id = :ward_id AND w.user_id = :user_id
""")


def ward_care_admission(session: Session, user_id: int, patient_id: int) -> int | None:
    """The open admission through which ``user_id`` cares for ``patient_id``, or None."""
    found = session.scalar(_WARD_CARE, {"patient_id": patient_id, "user_id": user_id})
    return int(found) if found is not None else None


def assigned_to_ward(session: Session, user_id: int, ward_id: int) -> bool:
    return session.execute(_ON_WARD, {"ward_id": ward_id, "user_id": user_id}).first() is not None
