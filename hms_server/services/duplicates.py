"""Duplicate records: flags raised for review, and merges decided with a reason.

A self-booking whose details *possibly* match an existing patient registers a new record
and flags the pair (``flag_possible_duplicates``); reception works the open flags: dismiss
them (different people) or merge.

A merge chosen on reception's merge screen is *requested* first (``request_merge``): it is
written to the merge journal as ``pending`` with its reason, nothing moves yet, and either
record is kept off any other merge. Until it is *confirmed* (``confirm_merge``, which runs
``patients.merge_patients``) it can be *undone* (``undo_merge``). Every step is audited (ids
only); the reason lives in the journal (``patient_merges.reason``), never in the audit detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.duplicates import DuplicateFlag, PatientMerge
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories.duplicates import DuplicateRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import PatientsMerged
from hms_server.domain.scheduling import InvalidTransitionError
from hms_server.domain.versioning import check_version
from hms_server.services.patients import (
    DuplicateCandidate,
    ensure_no_pending_merge,
    merge_patients,
)

CATEGORY = "demographics"
MIN_REASON = 5


def _user_id(uow: UnitOfWork) -> int | None:
    return uow.actor.user_id if uow.actor is not None else None


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ValidationFailedError(
            "Say why these records are the same person.",
            extra={
                "errors": [
                    {
                        "field": "reason",
                        "type": "value_error",
                        "message": f"at least {MIN_REASON} characters",
                    }
                ]
            },
        )
    return text


# --- flags ----------------------------------------------------------------------------------


def flag_possible_duplicates(
    uow: UnitOfWork, patient_id: int, candidates: list[DuplicateCandidate], *, source: str
) -> list[DuplicateFlag]:
    """Inside the caller's transaction: flag ``patient_id`` against each candidate for
    reception to review."""
    flags: list[DuplicateFlag] = []
    with uow:
        repo = uow.repo(DuplicateRepository)
        for candidate in candidates:
            candidate_id = candidate.id
            if candidate_id == patient_id or repo.open_flag_between(patient_id, candidate_id):
                continue
            flag = DuplicateFlag(
                patient_id=patient_id,
                candidate_id=candidate_id,
                score=Decimal(str(candidate.score)).quantize(Decimal("0.01")),
                reasons=list(candidate.reasons),
                source=source,
                status="open",
                created_at=utcnow(),
            )
            repo.add(flag)
            uow.audit(
                CATEGORY,
                "patient.duplicate_flagged",
                patient_id=patient_id,
                detail={"flag_id": flag.id, "candidate_id": candidate_id, "source": source},
            )
            uow.publish("patient.duplicate_flagged", {"flag_id": flag.id, "patient_id": patient_id})
            flags.append(flag)
        uow.commit()
    return flags


@dataclass(frozen=True)
class FlagView:
    flag: DuplicateFlag
    patient: Patient
    candidate: Patient


def list_duplicate_flags(
    uow: UnitOfWork,
    *,
    status: str | None = "open",
    patient_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[FlagView], int]:
    """Flagged pairs, newest first, with both records (the review list). Audited as a
    list read with the ids it showed."""
    with uow:
        rows, total = uow.repo(DuplicateRepository).flags(
            status=status, patient_id=patient_id, limit=limit, offset=offset
        )
        uow.audit(
            CATEGORY,
            "patient.duplicates_listed",
            detail={"flag_ids": [f.id for f, _p, _c in rows], "result_count": total},
        )
        uow.commit()
        return [FlagView(f, p, c) for f, p, c in rows], total


def dismiss_flag(uow: UnitOfWork, flag_id: int, *, version: int, note: str) -> FlagView:
    """Two different people after all: close the flag with the reason why."""
    note = _reason(note)
    with uow:
        repo = uow.repo(DuplicateRepository)
        flag = repo.flag(flag_id, lock=True)
        if flag is None:
            raise NotFoundError(f"No duplicate flag with id {flag_id}.")
        check_version(flag.version, version, "duplicate flag")
        if flag.status != "open":
            raise InvalidTransitionError(
                f"This flag is already '{flag.status}'.", extra={"current_status": flag.status}
            )
        flag.status, flag.resolved_at = "dismissed", utcnow()
        flag.resolved_by_user_id, flag.resolution_note = _user_id(uow), note
        repo.flush()
        uow.audit(
            CATEGORY,
            "patient.duplicate_dismissed",
            patient_id=flag.patient_id,
            detail={"flag_id": flag.id, "candidate_id": flag.candidate_id},
        )
        uow.publish("patient.duplicate_resolved", {"flag_id": flag.id})
        patients = uow.repo(PatientRepository)
        view = FlagView(
            flag, _patient(patients, flag.patient_id), _patient(patients, flag.candidate_id)
        )
        uow.commit()
        return view


def _patient(patients: PatientRepository, patient_id: int) -> Patient:
    patient = patients.get(patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    return patient


def move_flags_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    """Handles ``PatientsMerged``: the merged pair's flags are decided; other open flags of
    the merged-away record now concern the survivor."""
    repo = uow.repo(DuplicateRepository)
    repo.resolve_flags_between(
        event.loser_id, event.survivor_id, status="merged", user_id=_user_id(uow)
    )
    repo.move_patient(event.loser_id, event.survivor_id)


# --- merges ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeView:
    merge: PatientMerge
    survivor: Patient
    duplicate: Patient


def _merge_view(uow: UnitOfWork, merge: PatientMerge) -> MergeView:
    patients = uow.repo(PatientRepository)
    return MergeView(
        merge, _patient(patients, merge.survivor_id), _patient(patients, merge.duplicate_id)
    )


def request_merge(
    uow: UnitOfWork,
    *,
    survivor_id: int,
    duplicate_id: int,
    reason: str,
    survivor_version: int | None = None,
    duplicate_version: int | None = None,
    flag_id: int | None = None,
) -> MergeView:
    """Record the decision to merge ``duplicate_id`` into ``survivor_id``, pending: nothing
    moves until ``confirm_merge``; ``undo_merge`` withdraws it."""
    reason = _reason(reason)
    if survivor_id == duplicate_id:
        raise ValidationFailedError("A patient cannot be merged into itself.")
    with uow:
        patients = uow.repo(PatientRepository)
        locked = patients.lock_many([survivor_id, duplicate_id])
        for pid in (survivor_id, duplicate_id):
            if pid not in locked:
                raise NotFoundError(f"No patient with id {pid}.")
            if locked[pid].merged_into_id is not None:
                raise ConflictError(
                    f"Patient {pid} was already merged into patient {locked[pid].merged_into_id}.",
                    extra={"patient_id": pid, "merged_into_id": locked[pid].merged_into_id},
                )
        if survivor_version is not None:
            check_version(locked[survivor_id].version, survivor_version, "surviving patient record")
        if duplicate_version is not None:
            check_version(
                locked[duplicate_id].version, duplicate_version, "duplicate patient record"
            )
        ensure_no_pending_merge(uow, [survivor_id, duplicate_id])
        repo = uow.repo(DuplicateRepository)
        if flag_id is not None:
            flag = repo.flag(flag_id)
            if flag is None or {flag.patient_id, flag.candidate_id} != {survivor_id, duplicate_id}:
                raise ValidationFailedError("That flag is not about these two records.")
        merge = PatientMerge(
            survivor_id=survivor_id,
            duplicate_id=duplicate_id,
            reason=reason,
            status="pending",
            flag_id=flag_id,
            requested_by_user_id=_user_id(uow),
            requested_at=utcnow(),
        )
        repo.add(merge)
        detail = {"merge_id": merge.id, "survivor_id": survivor_id, "loser_id": duplicate_id}
        uow.audit(CATEGORY, "patient.merge_requested", patient_id=survivor_id, detail=detail)
        uow.audit(CATEGORY, "patient.merge_requested", patient_id=duplicate_id, detail=detail)
        uow.publish(
            "patient.merge_pending",
            {"merge_id": merge.id, "survivor_id": survivor_id, "loser_id": duplicate_id},
        )
        view = _merge_view(uow, merge)
        uow.commit()
        return view


def _pending(uow: UnitOfWork, merge_id: int, version: int) -> PatientMerge:
    merge = uow.repo(DuplicateRepository).merge(merge_id, lock=True)
    if merge is None:
        raise NotFoundError(f"No merge with id {merge_id}.")
    check_version(merge.version, version, "merge")
    if merge.status != "pending":
        raise InvalidTransitionError(
            f"This merge is already '{merge.status}'.", extra={"current_status": merge.status}
        )
    return merge


def confirm_merge(uow: UnitOfWork, merge_id: int, *, version: int) -> MergeView:
    """Carry out a pending merge (``patients.merge_patients``): from now on it cannot be
    undone from the desk."""
    with uow:
        merge = _pending(uow, merge_id, version)
        merge_patients(
            uow, merge.survivor_id, loser_id=merge.duplicate_id, reason=merge.reason, journal=merge
        )
        view = _merge_view(uow, merge)
        uow.commit()
        return view


def undo_merge(uow: UnitOfWork, merge_id: int, *, version: int) -> MergeView:
    """Withdraw a pending merge: both records stay as they are."""
    with uow:
        merge = _pending(uow, merge_id, version)
        merge.status, merge.decided_at = "undone", utcnow()
        merge.decided_by_user_id = _user_id(uow)
        uow.repo(DuplicateRepository).flush()
        detail = {
            "merge_id": merge.id,
            "survivor_id": merge.survivor_id,
            "loser_id": merge.duplicate_id,
        }
        uow.audit(CATEGORY, "patient.merge_undone", patient_id=merge.survivor_id, detail=detail)
        uow.audit(CATEGORY, "patient.merge_undone", patient_id=merge.duplicate_id, detail=detail)
        uow.publish("patient.merge_undone", {"merge_id": merge.id})
        view = _merge_view(uow, merge)
        uow.commit()
        return view


def get_merge(uow: UnitOfWork, merge_id: int) -> MergeView:
    """One merge with both records (audited as a read of each)."""
    with uow:
        merge = uow.repo(DuplicateRepository).merge(merge_id)
        if merge is None:
            raise NotFoundError(f"No merge with id {merge_id}.")
        view = _merge_view(uow, merge)
        for pid in (merge.survivor_id, merge.duplicate_id):
            uow.audit(
                CATEGORY,
                "patient.read",
                patient_id=pid,
                detail={"via": "merge", "merge_id": merge.id},
            )
        uow.commit()
        return view


def list_merges(
    uow: UnitOfWork, *, status: str | None = "pending", limit: int = 50, offset: int = 0
) -> tuple[list[MergeView], int]:
    """The merge journal, newest first (pending ones wait for confirm or undo)."""
    with uow:
        rows, total = uow.repo(DuplicateRepository).merges(
            status=status, limit=limit, offset=offset
        )
        uow.audit(
            CATEGORY,
            "patient.merges_listed",
            detail={"merge_ids": [m.id for m, _s, _d in rows], "result_count": total},
        )
        uow.commit()
        return [MergeView(m, s, d) for m, s, d in rows], total
