"""Wards, rooms and beds (configuration), bed status changes, nurse ward assignments, and
the read side: the ward list, the bed board, admissions, the discharge summary.

Reads that show patients are audited once per request (the board: which ward and how many
patients; an admission: against its patient).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.wards import Bed, Room, Ward, WardNurseAssignment
from hms_server.adapters.queries import wards as ward_queries
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import CareRelationshipRequiredError
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.nursing import Score
from hms_server.domain.versioning import check_version
from hms_server.domain.wards import check_bed_status_change
from hms_server.services.access import add_care_team_member, ensure_chart_access
from hms_server.services.nursing import news2_of

CATEGORY = "wards"


def _actor_id(uow: UnitOfWork) -> int | None:
    return uow.actor.user_id if uow.actor else None


def _field(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


# --- configuration ----------------------------------------------------------------------------


def create_ward(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    ward_class: str,
    gender_policy: str,
    mar_window_minutes: int,
) -> Ward:
    with uow:
        repo = uow.repo(WardRepository)
        ward = Ward(
            code=code.strip().upper(),
            name=name.strip(),
            ward_class=ward_class,
            gender_policy=gender_policy,
            mar_window_minutes=mar_window_minutes,
            active=True,
            created_at=utcnow(),
            version=1,
        )
        repo.add(ward)
        repo.flush()
        uow.audit(CATEGORY, "ward.create", detail={"ward_id": ward.id, "code": ward.code})
        uow.publish("ward.changed", {"ward_id": ward.id})
        uow.commit()
        return ward


def update_ward(uow: UnitOfWork, ward_id: int, *, version: int, changes: dict[str, Any]) -> Ward:
    with uow:
        repo = uow.repo(WardRepository)
        ward = repo.ward(ward_id, lock=True)
        if ward is None:
            raise NotFoundError(f"No ward with id {ward_id}.")
        check_version(ward.version, version, "ward")
        changed = {k: v for k, v in changes.items() if v is not None and getattr(ward, k) != v}
        if (
            changed.get("active") is False
            and ward_queries.ward_summaries(uow.session, ward_ids=[ward.id], include_inactive=True)[
                0
            ].occupied_beds
        ):
            raise ConflictError(
                "Transfer or discharge the patients before closing the ward.",
                extra={"reason": "ward_occupied"},
            )
        for key, value in changed.items():
            setattr(ward, key, value)
        if changed:
            ward.version += 1
            uow.audit(
                CATEGORY, "ward.update", detail={"ward_id": ward.id, "fields": sorted(changed)}
            )
            uow.publish("ward.changed", {"ward_id": ward.id})
        repo.flush()
        uow.commit()
        return ward


def add_room(uow: UnitOfWork, ward_id: int, *, label: str, gender_policy: str) -> Room:
    with uow:
        repo = uow.repo(WardRepository)
        if repo.ward(ward_id) is None:
            raise NotFoundError(f"No ward with id {ward_id}.")
        room = Room(ward_id=ward_id, label=label.strip(), gender_policy=gender_policy)
        repo.add(room)
        repo.flush()
        uow.audit(CATEGORY, "room.create", detail={"ward_id": ward_id, "room_id": room.id})
        uow.commit()
        return room


def list_rooms(uow: UnitOfWork, ward_id: int) -> list[Room]:
    with uow:
        repo = uow.repo(WardRepository)
        if repo.ward(ward_id) is None:
            raise NotFoundError(f"No ward with id {ward_id}.")
        rooms = repo.rooms(ward_id)
        uow.commit()
        return rooms


def add_bed(uow: UnitOfWork, *, room_id: int, label: str, bed_type: str) -> Bed:
    with uow:
        repo = uow.repo(WardRepository)
        room = repo.room(room_id)
        if room is None:
            raise _field("room_id", f"No room with id {room_id}.")
        bed = Bed(
            ward_id=room.ward_id,
            room_id=room.id,
            label=label.strip(),
            bed_type=bed_type,
            status="free",
            status_changed_at=utcnow(),
            version=1,
        )
        repo.add(bed)
        repo.flush()
        uow.audit(CATEGORY, "bed.create", detail={"ward_id": room.ward_id, "bed_id": bed.id})
        uow.publish("bed.changed", {"bed_id": bed.id, "ward_id": bed.ward_id, "status": bed.status})
        uow.commit()
        return bed


def change_bed_status(
    uow: UnitOfWork, bed_id: int, *, status: str, reason: str | None, version: int | None
) -> Bed:
    """Mark a bed clean (cleaning → free), block it (with a reason) or unblock it.
    Occupancy changes only through admission, transfer and discharge."""
    if status == "blocked" and not (reason and reason.strip()):
        raise _field("reason", "Say why the bed is blocked.")
    with uow:
        repo = uow.repo(WardRepository)
        bed = repo.bed(bed_id, lock=True)
        if bed is None:
            raise NotFoundError(f"No bed with id {bed_id}.")
        if version is not None:
            check_version(bed.version, version, "bed")
        check_bed_status_change(bed.status, status)
        previous = bed.status
        bed.status, bed.status_changed_at = status, utcnow()
        bed.blocked_reason = reason.strip() if status == "blocked" and reason else None
        bed.version += 1
        repo.flush()
        uow.audit(CATEGORY, "bed.status", detail={"bed_id": bed.id, "from": previous, "to": status})
        uow.publish("bed.changed", {"bed_id": bed.id, "ward_id": bed.ward_id, "status": bed.status})
        uow.commit()
        return bed


# --- nurse ward assignments -------------------------------------------------------------------


def assign_nurse(uow: UnitOfWork, ward_id: int, user_id: int) -> WardNurseAssignment:
    """Assign a nurse to a ward; they join the care team of the ward's current patients."""
    with uow:
        repo = uow.repo(WardRepository)
        if repo.ward(ward_id) is None:
            raise NotFoundError(f"No ward with id {ward_id}.")
        user = repo.user(user_id)
        if user is None or not user.active or "nurse" not in (user.roles or []):
            raise _field("user_id", f"User {user_id} is not an active nurse.")
        if repo.assign_nurse(ward_id, user_id, _actor_id(uow), utcnow()):
            rows, _ = ward_queries.admissions(
                uow.session, status="admitted", ward_ids=[ward_id], limit=10_000
            )
            for admission in rows:
                add_care_team_member(
                    uow,
                    patient_id=admission.patient_id,
                    user_id=user_id,
                    role="ward_nurse",
                    source="admission",
                    added_by_user_id=_actor_id(uow),
                )
            uow.audit(
                CATEGORY, "nurse.assign", detail={"ward_id": ward_id, "nurse_user_id": user_id}
            )
            uow.publish("ward.changed", {"ward_id": ward_id})
        assignment = repo.session.get(WardNurseAssignment, (ward_id, user_id))
        assert assignment is not None
        uow.commit()
        return assignment


def unassign_nurse(uow: UnitOfWork, ward_id: int, user_id: int) -> None:
    with uow:
        if not uow.repo(WardRepository).unassign_nurse(ward_id, user_id):
            raise NotFoundError("That nurse is not assigned to this ward.")
        uow.audit(CATEGORY, "nurse.unassign", detail={"ward_id": ward_id, "nurse_user_id": user_id})
        uow.publish("ward.changed", {"ward_id": ward_id})
        uow.commit()


def list_nurses(uow: UnitOfWork, ward_id: int) -> list[tuple[WardNurseAssignment, User]]:
    with uow:
        repo = uow.repo(WardRepository)
        if repo.ward(ward_id) is None:
            raise NotFoundError(f"No ward with id {ward_id}.")
        rows = repo.nurse_assignments(ward_id)
        uow.commit()
        return rows


def my_ward_ids(uow: UnitOfWork) -> list[int]:
    with uow:
        user_id = _actor_id(uow)
        ids = uow.repo(WardRepository).wards_of_nurse(user_id) if user_id else []
        uow.commit()
        return ids


# --- reading ----------------------------------------------------------------------------------


def list_wards(
    uow: UnitOfWork, *, include_inactive: bool, mine: bool = False
) -> list[ward_queries.WardSummary]:
    with uow:
        ids = None
        if mine:
            user_id = _actor_id(uow)
            ids = uow.repo(WardRepository).wards_of_nurse(user_id) if user_id else []
        rows = ward_queries.ward_summaries(
            uow.session, ward_ids=ids, include_inactive=include_inactive
        )
        uow.commit()
        return rows


@dataclass(frozen=True)
class BoardEntry:
    row: ward_queries.BoardRow
    days_in: int | None
    age: int | None
    news2: Score | None


def bed_board(
    uow: UnitOfWork,
    *,
    ward_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
    with_alerts: bool,
    bed_id: int | None = None,
) -> tuple[list[BoardEntry], int]:
    """The bed board; ``with_alerts`` (clinical readers) adds allergies, due and overdue
    doses and tasks, and NEWS2 of the newest vitals."""
    from hms_server.domain.hospital import age_on
    from hms_server.domain.wards import length_of_stay_days

    now = utcnow()
    with uow:
        rows, total = ward_queries.bed_board(
            uow.session,
            ward_id=ward_id,
            status=status,
            limit=limit,
            offset=offset,
            now=now,
            with_alerts=with_alerts,
            bed_id=bed_id,
        )
        zone, today = uow.hospital.zone, uow.hospital.today()
        entries = []
        for row in rows:
            score = None
            if row.alerts is not None:
                answers = row.alerts.news2_answers or {}
                score = news2_of(
                    _VitalsLike(row.alerts.vitals),  # type: ignore[arg-type]
                    answers.get("consciousness"),
                    answers.get("on_oxygen"),
                )
            entries.append(
                BoardEntry(
                    row,
                    length_of_stay_days(row.admitted_at, now, zone) if row.admitted_at else None,
                    age_on(row.date_of_birth, today) if row.date_of_birth else None,
                    score,
                )
            )
        occupied = sum(1 for r in rows if r.patient_id is not None)
        uow.audit(
            CATEGORY,
            "bed_board.read",
            detail={"ward_id": ward_id, "patients_shown": occupied, "alerts": with_alerts},
        )
        uow.commit()
        return entries, total


class _VitalsLike:
    """The newest vitals of a bed's patient as the NEWS2 helper reads them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def list_admissions(
    uow: UnitOfWork,
    *,
    patient_id: int | None,
    status: str | None,
    ward_id: int | None,
    mine: bool,
    limit: int,
    offset: int,
) -> tuple[list[ward_queries.AdmissionRow], int]:
    """Admissions, newest first. ``mine``: the nurse's wards and the doctor's own patients."""
    with uow:
        attending_or_wards = None
        if mine:
            user_id = _actor_id(uow) or 0
            attending_or_wards = (user_id, uow.repo(WardRepository).wards_of_nurse(user_id))
        rows, total = ward_queries.admissions(
            uow.session,
            patient_id=patient_id,
            status=status,
            ward_ids=[ward_id] if ward_id else None,
            attending_or_wards=attending_or_wards,
            limit=limit,
            offset=offset,
        )
        uow.audit(
            "admissions",
            "admissions.list",
            patient_id=patient_id,
            detail={"ward_id": ward_id, "status": status, "returned": len(rows)},
        )
        uow.commit()
        return rows, total


def get_admission(uow: UnitOfWork, admission_id: int) -> ward_queries.AdmissionRow:
    with uow:
        rows, _ = ward_queries.admissions(uow.session, ids=[admission_id], limit=1, with_stays=True)
        if not rows:
            raise NotFoundError(f"No admission with id {admission_id}.")
        uow.audit(
            "admissions",
            "read",
            patient_id=rows[0].patient_id,
            detail={"admission_id": admission_id},
        )
        uow.commit()
        return rows[0]


def chart_admissions(
    uow: UnitOfWork, patient_id: int, *, limit: int, **detail: Any
) -> list[ward_queries.AdmissionRow]:
    """A patient's admissions with their bed stays, newest first (FHIR Encounter), after
    the chart's care-relationship check; audited as a clinical read with ``detail``."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, _ = ward_queries.admissions(
            uow.session, patient_id=patient_id, limit=limit, with_stays=True
        )
        uow.audit(
            "admissions", "read", patient_id=patient_id, detail={**basis.audit_detail(), **detail}
        )
        uow.commit()
        return rows


def chart_admission(
    uow: UnitOfWork, admission_id: int, **detail: Any
) -> ward_queries.AdmissionRow | None:
    """One admission with its bed stays; None if there is none or if the patient is
    outside the reader's care (the same answer either way; the refusal is audited)."""
    with uow:
        rows, _ = ward_queries.admissions(uow.session, ids=[admission_id], limit=1, with_stays=True)
        if not rows:
            return None
        try:
            basis = ensure_chart_access(uow, rows[0].patient_id)
        except CareRelationshipRequiredError:
            return None
        uow.audit(
            "admissions",
            "read",
            patient_id=rows[0].patient_id,
            detail={**basis.audit_detail(), "admission_id": admission_id, **detail},
        )
        uow.commit()
        return rows[0]


@dataclass(frozen=True)
class DischargeSummaryView:
    admission: ward_queries.AdmissionRow
    patient: Any
    allergies: list[str]
    summary: str
    signed_by_name: str | None
    signed_at: datetime | None
    medications: list[str]


def discharge_summary(uow: UnitOfWork, admission_id: int) -> DischargeSummaryView:
    """What the printed discharge summary shows (a chart read: audited with its basis)."""
    from hms_server.services.clinical import get_note
    from hms_server.services.mar import discharge_medications

    with uow:
        rows, _ = ward_queries.admissions(uow.session, ids=[admission_id], limit=1, with_stays=True)
        if not rows:
            raise NotFoundError(f"No admission with id {admission_id}.")
        admission = rows[0]
        basis = ensure_chart_access(uow, admission.patient_id)
        if admission.discharge_note_id is None:
            raise ConflictError(
                "The patient has not been discharged yet.", extra={"reason": "not_discharged"}
            )
        note = get_note(uow, admission.patient_id, admission.discharge_note_id)
        current = note.current
        repo = uow.repo(WardRepository)
        view = DischargeSummaryView(
            admission,
            repo.patient(admission.patient_id),
            repo.active_allergies(admission.patient_id),
            current.body or "",
            note.names.get(current.signed_by_user_id) if current.signed_by_user_id else None,
            current.signed_at,
            discharge_medications(uow, admission.patient_id),
        )
        uow.audit(
            "admissions",
            "discharge_summary.read",
            patient_id=admission.patient_id,
            detail={**basis.audit_detail(), "admission_id": admission_id},
        )
        uow.commit()
        return view
