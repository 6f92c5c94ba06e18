"""Object-level rule for ward work: doses, vitals and nursing records of an admission are
written by the nurses of the ward the patient is on (and the attending doctor); anyone else
needs an active break-the-glass grant. Reading follows the chart's rules
(``services.access.ensure_chart_access``), which include the ward basis.
"""

from __future__ import annotations

from hms_server.adapters.orm.wards import Admission
from hms_server.adapters.queries.ward_access import assigned_to_ward
from hms_server.adapters.repositories.access import AccessRepository
from hms_server.adapters.repositories.mar import MarRepository
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ForbiddenError, NotFoundError
from hms_server.services.access import AccessBasis


class NotOnWardError(ForbiddenError):
    code, title = "not_on_ward", "Not assigned to this ward"


def admission_or_404(uow: UnitOfWork, admission_id: int, *, lock: bool = False) -> Admission:
    admission = uow.repo(WardRepository).admission(admission_id, lock=lock)
    if admission is None:
        raise NotFoundError(f"No admission with id {admission_id}.")
    return admission


def ensure_ward_care(uow: UnitOfWork, admission: Admission) -> AccessBasis:
    """Inside ``with uow``: the actor may record care for this admission's patient.

    403 ``not_on_ward`` (audited as denied, in its own transaction) otherwise."""
    actor = uow.actor
    user_id = actor.user_id if actor else None
    if user_id is not None:
        if admission.attending_doctor_user_id == user_id:
            return AccessBasis(admission.patient_id, "ward")
        ward = uow.repo(MarRepository).ward_of_admission(admission)
        if ward is not None and assigned_to_ward(uow.session, user_id, ward.id):
            return AccessBasis(admission.patient_id, "ward")
        grant = uow.repo(AccessRepository).active_grant_id(user_id, admission.patient_id)
        if grant is not None:
            return AccessBasis(admission.patient_id, "break_glass", grant)
    denied = uow.child()
    with denied:
        denied.audit(
            "access_control",
            "ward.denied",
            outcome="denied",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "reason": "not_on_ward"},
        )
        denied.commit()
    raise NotOnWardError(
        "You are not assigned to the ward this patient is on. In an emergency, break the "
        "glass with a reason to get time-limited access.",
        extra={
            "patient_id": admission.patient_id,
            "break_glass": f"/api/v1/patients/{admission.patient_id}/break-glass",
        },
    )


def ensure_ward_staff(uow: UnitOfWork, ward_id: int) -> None:
    """Ward-wide clinical lists (due now, handover): doctors, and the nurses of that ward."""
    actor = uow.actor
    if (
        actor is not None
        and actor.user_id is not None
        and ("doctor" in actor.roles or assigned_to_ward(uow.session, actor.user_id, ward_id))
    ):
        return
    denied = uow.child()
    with denied:
        denied.audit(
            "access_control",
            "ward.denied",
            outcome="denied",
            detail={"ward_id": ward_id, "reason": "not_on_ward"},
        )
        denied.commit()
    raise NotOnWardError("You are not assigned to this ward.", extra={"ward_id": ward_id})
