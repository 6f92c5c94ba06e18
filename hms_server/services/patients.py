"""Patient management use cases: register (with duplicate detection), search, read, edit with
optimistic locking, merge. Every read of a record or a search is audited (category
``demographics``); audit details carry ids and counts only, never names or search text.

Other areas whose rows point at ``patients.id`` handle the ``PatientsMerged`` domain event
(subscribed in ``hms_server.bootstrap``) and move their rows to the survivor inside the
merge transaction; a test walks the database's foreign keys to prove none is missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.duplicates import PatientMerge
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.queries.patients import PatientFilter, PatientSearch, SearchPage
from hms_server.adapters.repositories.duplicates import DuplicateRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain import mrn as mrn_rules
from hms_server.domain import patients as rules
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.events import PatientDetailsChanged, PatientsMerged
from hms_server.domain.patients import (
    MergePendingError,
    PatientMergedError,
    PossibleDuplicatesError,
)
from hms_server.domain.shown import shown_patients
from hms_server.domain.versioning import check_version

CATEGORY = "demographics"
#: What an HL7 ADT message or another system's copy of the patient identifies them by.
IDENTIFYING_FIELDS = frozenset({"family_name", "given_name", "date_of_birth", "sex"})
MAX_DUPLICATE_CANDIDATES = 10
SEARCH_MATCH_CAP = 1000

EDITABLE = (
    "given_name",
    "family_name",
    "date_of_birth",
    "birth_date_estimated",
    "sex",
    "phone",
    "email",
    "national_id",
    "address",
    "next_of_kin",
    "preferred_language",
    "insurance",
)


def _validate_birth(dob: date, today: date, field: str = "date_of_birth") -> None:
    problem = rules.birth_date_problem(dob, today)
    if problem:
        raise ValidationFailedError(
            f"Please correct: {field}.",
            extra={"errors": [{"field": field, "message": problem, "type": "value_error"}]},
        )


def _get(uow: UnitOfWork, patient_id: int, *, lock: bool = False) -> Patient:
    patient = uow.repo(PatientRepository).get(patient_id, lock=lock)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    return patient


# --- registration ---


@dataclass(frozen=True)
class DuplicateCandidate:
    id: int
    mrn: str
    name: str
    dob: date
    score: float
    reasons: tuple[str, ...]
    #: Same name, exact birth date and phone (``rules.confident_match``).
    confident: bool = False


def find_duplicates(uow: UnitOfWork, key: rules.PersonKey) -> list[DuplicateCandidate]:
    """Existing (unmerged) patients that are likely the same person as ``key``."""
    found: list[DuplicateCandidate] = []
    for r in uow.repo(PatientRepository).duplicate_candidates(key):
        existing = rules.PersonKey(
            r.given_name,
            r.family_name,
            r.date_of_birth,
            r.birth_date_estimated,
            r.phone,
            r.national_id,
        )
        verdict = rules.assess_duplicate(key, existing)
        if verdict.likely:
            found.append(
                DuplicateCandidate(
                    r.id,
                    r.mrn,
                    f"{r.given_name} {r.family_name}",
                    r.date_of_birth,
                    verdict.score,
                    verdict.reasons,
                    rules.confident_match(key, existing),
                )
            )
    found.sort(key=lambda c: (-c.score, c.id))
    return found[:MAX_DUPLICATE_CANDIDATES]


def register_patient(
    uow: UnitOfWork,
    *,
    mrn_prefix: str,
    given_name: str,
    family_name: str,
    sex: str,
    date_of_birth: date | None = None,
    age_years: int | None = None,
    phone: str | None = None,
    email: str | None = None,
    national_id: str | None = None,
    address: dict[str, Any] | None = None,
    next_of_kin: list[dict[str, Any]] | None = None,
    preferred_language: str | None = None,
    insurance: list[dict[str, Any]] | None = None,
    confirm_new: bool = False,
    today: date | None = None,
) -> Patient:
    """Register a new patient and assign an MRN.

    Likely duplicates (see ``domain.patients``) refuse the registration with 409
    ``possible_duplicates`` listing the candidates, unless ``confirm_new`` is set.
    """
    today = today or uow.hospital.today()
    if sex not in rules.SEX_CODES:
        raise ValidationFailedError(f"Unknown sex code; use one of {', '.join(rules.SEX_CODES)}.")
    estimated = date_of_birth is None
    if date_of_birth is None:
        if age_years is None:
            raise ValidationFailedError("Give a date of birth or an estimated age.")
        try:
            date_of_birth = rules.estimated_birth_date(age_years, today)
        except ValueError as exc:
            raise ValidationFailedError(str(exc)) from exc
    _validate_birth(date_of_birth, today)
    given, family = rules.clean_name(given_name), rules.clean_name(family_name)
    with uow:
        key = rules.PersonKey(given, family, date_of_birth, estimated, phone, national_id)
        if not confirm_new:
            candidates = find_duplicates(uow, key)
            if candidates:
                raise PossibleDuplicatesError(
                    f"{len(candidates)} existing patient(s) look like the same person. Pick "
                    "one, or resend with confirm_new=true to register a new patient.",
                    extra={
                        "candidates": [
                            {
                                "id": c.id,
                                "mrn": c.mrn,
                                "name": c.name,
                                "dob": c.dob.isoformat(),
                                "score": c.score,
                                "reasons": list(c.reasons),
                            }
                            for c in candidates
                        ]
                    },
                )
        patients = uow.repo(PatientRepository)
        serial = patients.next_mrn_serial()
        now = utcnow()
        patient = Patient(
            mrn=mrn_rules.format_mrn(mrn_prefix, serial),
            given_name=given,
            family_name=family,
            date_of_birth=date_of_birth,
            birth_date_estimated=estimated,
            sex=sex,
            phone=phone,
            email=email,
            national_id=national_id,
            address=address,
            next_of_kin=next_of_kin or [],
            preferred_language=preferred_language,
            insurance=insurance or [],
            created_at=now,
            updated_at=now,
            version=1,
        )
        patients.add(patient)
        uow.audit(
            CATEGORY,
            "patient.create",
            patient_id=patient.id,
            detail={"confirmed_despite_duplicates": confirm_new, "birth_date_estimated": estimated},
        )
        uow.publish("patient.created", {"patient_id": patient.id})
        uow.commit()
        patients.refresh(patient)  # generated columns, server defaults
        return patient


# --- search and read ---


def search_patients(
    uow: UnitOfWork, *, q: str | None, limit: int, offset: int, mrn_prefix: str
) -> SearchPage:
    """Find unmerged patients by MRN, name fragment, phone, birth date or national ID.

    Name fragments of ≥3 characters match anywhere in the name; 1-2 characters match the start
    of the given or family name. Accents and case are ignored. Sorted by family name, given
    name, id. Audited with the number of matches and the ids of the patients returned.

    A search collects at most ``SEARCH_MATCH_CAP`` matches (then sorts and pages them), so a
    very common fragment such as "mar" costs the same as a rare one; beyond the cap the answer
    says ``total_capped`` (search as you type: more letters narrow it). A blank ``q`` lists
    everyone in name order with an exact total.
    """
    with uow:
        page = uow.repo(PatientSearch).search(
            q=q, limit=limit, offset=offset, mrn_prefix=mrn_prefix, cap=SEARCH_MATCH_CAP
        )
        uow.audit(
            CATEGORY,
            "patient.search",
            detail={
                "result_count": page.total,
                "capped": page.total_capped,
                **shown_patients(r.id for r in page.rows),
            },
        )
        uow.commit()
        return page


def get_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    """One patient record (merged-away records too: ``merged_into_id`` points on). Audited."""
    with uow:
        patient = _get(uow, patient_id)
        uow.audit(CATEGORY, "patient.read", patient_id=patient.id)
        uow.commit()
        return patient


def resolve_survivor(uow: UnitOfWork, patient: Patient) -> Patient:
    """The record in use now for ``patient`` (itself unless it was merged away)."""
    return uow.repo(PatientRepository).survivor_of(patient)


def get_patient_by_mrn(uow: UnitOfWork, mrn: str, *, mrn_prefix: str) -> Patient:
    """The patient an MRN belongs to; a merged-away MRN answers its survivor. Audited."""
    with uow:
        candidates = mrn_rules.mrn_candidates(mrn, mrn_prefix)
        found = uow.repo(PatientRepository).by_mrn(candidates)
        if found is None:
            raise NotFoundError("No patient with that MRN.")
        patient = resolve_survivor(uow, found)
        detail: dict[str, Any] = {"via": "mrn"}
        if patient.id != found.id:
            detail["merged_from_id"] = found.id
        uow.audit(CATEGORY, "patient.read", patient_id=patient.id, detail=detail)
        uow.commit()
        return patient


# --- edit ---


def update_patient(
    uow: UnitOfWork,
    patient_id: int,
    *,
    version: int,
    changes: dict[str, Any],
    today: date | None = None,
) -> Patient:
    """Apply the given demographic ``changes`` if ``version`` is current (else 409
    ``version_conflict``). Audited with the names of the changed fields, not their values."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailedError(f"Cannot change: {', '.join(sorted(unknown))}.")
    for required in ("given_name", "family_name", "date_of_birth", "sex", "birth_date_estimated"):
        if required in changes and changes[required] is None:
            raise ValidationFailedError(
                f"Please correct: {required}.",
                extra={
                    "errors": [
                        {
                            "field": f"{required}",
                            "message": "may not be null",
                            "type": "value_error",
                        }
                    ]
                },
            )
    if "sex" in changes and changes["sex"] not in rules.SEX_CODES:
        raise ValidationFailedError("Unknown sex code.")
    if changes.get("date_of_birth") is not None:
        _validate_birth(changes["date_of_birth"], today or uow.hospital.today())
        changes.setdefault("birth_date_estimated", False)
    for name_field in ("given_name", "family_name"):
        if changes.get(name_field):
            changes[name_field] = rules.clean_name(changes[name_field])
    for list_field in ("next_of_kin", "insurance"):
        if list_field in changes and changes[list_field] is None:
            changes[list_field] = []
    with uow:
        patient = _get(uow, patient_id, lock=True)
        if patient.merged_into_id is not None:
            raise PatientMergedError(
                f"This record was merged into patient {patient.merged_into_id}; edit that one.",
                extra={"merged_into_id": patient.merged_into_id},
            )
        check_version(patient.version, version, "patient record")
        changed = sorted(k for k, v in changes.items() if getattr(patient, k) != v)
        if changed:
            for k in changed:
                setattr(patient, k, changes[k])
            patient.updated_at = utcnow()
            uow.audit(CATEGORY, "patient.update", patient_id=patient.id, detail={"fields": changed})
            uow.publish("patient.updated", {"patient_id": patient.id})
            identifying = tuple(k for k in changed if k in IDENTIFYING_FIELDS)
            if identifying:
                uow.emit(PatientDetailsChanged(patient.id, identifying))
        uow.commit()
        if changed:
            uow.repo(PatientRepository).refresh(patient)
        return patient


# --- merge ---


def _absorb(survivor: Patient, loser: Patient) -> list[str]:
    """Fill the survivor's gaps from the loser; the survivor's own values win."""
    filled = []
    for field in ("phone", "email", "national_id", "address", "preferred_language"):
        if getattr(survivor, field) in (None, "", {}) and getattr(loser, field) not in (
            None,
            "",
            {},
        ):
            setattr(survivor, field, getattr(loser, field))
            filled.append(field)
    for field, key in (
        ("insurance", ("payer", "policy_number")),
        ("next_of_kin", ("name", "phone")),
    ):
        mine = list(getattr(survivor, field) or [])
        have = {tuple(item.get(k) for k in key) for item in mine}
        extra = [
            item
            for item in (getattr(loser, field) or [])
            if tuple(item.get(k) for k in key) not in have
        ]
        if extra:
            setattr(survivor, field, mine + extra)
            filled.append(field)
    return filled


def ensure_no_pending_merge(
    uow: UnitOfWork, patient_ids: list[int], allow: int | None = None
) -> None:
    """Refuse another merge while either record waits on a pending one (``allow``: the
    pending merge being confirmed now)."""
    pending = uow.repo(DuplicateRepository).pending_merge_of(patient_ids)
    if pending is not None and pending.id != allow:
        raise MergePendingError(
            "One of these records is on a merge that is waiting for confirmation. Confirm "
            "or undo that merge first.",
            extra={"merge_id": pending.id},
        )


def merge_patients(
    uow: UnitOfWork,
    survivor_id: int,
    *,
    loser_id: int,
    reason: str | None = None,
    survivor_version: int | None = None,
    loser_version: int | None = None,
    journal: PatientMerge | None = None,
) -> Patient:
    """Merge the duplicate ``loser_id`` into ``survivor_id``, for ``reason``.

    The loser keeps its row and MRN with ``merged_into_id`` set (so its MRN resolves to the
    survivor), blank survivor fields are filled from it, rows of other areas move through
    the ``PatientsMerged`` handlers, and both records get an audit entry. The decision goes
    into the merge journal (``patient_merges``) as confirmed, with its reason: ``journal``
    is the pending merge being confirmed (``services.duplicates.confirm_merge``), else a
    new journal row is written. The HTTP API always sends a reason; tools and tests that
    merge as the system may leave it out (the journal then says so).
    """
    if survivor_id == loser_id:
        raise ValidationFailedError("A patient cannot be merged into itself.")
    with uow:
        patients = uow.repo(PatientRepository)
        locked = patients.lock_many([survivor_id, loser_id])
        for pid in (survivor_id, loser_id):
            if pid not in locked:
                raise NotFoundError(f"No patient with id {pid}.")
        survivor, loser = locked[survivor_id], locked[loser_id]
        for p in (survivor, loser):
            if p.merged_into_id is not None:
                raise PatientMergedError(
                    f"Patient {p.id} was already merged into patient {p.merged_into_id}.",
                    extra={"patient_id": p.id, "merged_into_id": p.merged_into_id},
                )
        if survivor_version is not None:
            check_version(survivor.version, survivor_version, "surviving patient record")
        if loser_version is not None:
            check_version(loser.version, loser_version, "merged patient record")
        ensure_no_pending_merge(
            uow, [survivor_id, loser_id], allow=journal.id if journal is not None else None
        )
        now = utcnow()
        filled = _absorb(survivor, loser)
        loser.merged_into_id, loser.merged_at = survivor.id, now
        loser.updated_at = now
        survivor.updated_at = now
        patients.flush()
        patients.repoint_merged(loser.id, survivor.id)
        journal = _journal_confirmed(uow, journal, survivor.id, loser.id, reason, now)
        uow.emit(PatientsMerged(loser_id=loser.id, survivor_id=survivor.id))
        detail = {
            "survivor_id": survivor.id,
            "loser_id": loser.id,
            "filled_fields": filled,
            "merge_id": journal.id,
        }
        uow.audit(CATEGORY, "patient.merge", patient_id=survivor.id, detail=detail)
        uow.audit(CATEGORY, "patient.merged_away", patient_id=loser.id, detail=detail)
        uow.publish("patient.merged", {"survivor_id": survivor.id, "loser_id": loser.id})
        uow.commit()
        patients.refresh(survivor)
        return survivor


def _journal_confirmed(
    uow: UnitOfWork,
    journal: PatientMerge | None,
    survivor_id: int,
    loser_id: int,
    reason: str | None,
    now: datetime,
) -> PatientMerge:
    user_id = uow.actor.user_id if uow.actor is not None else None
    repo = uow.repo(DuplicateRepository)
    if journal is None:
        journal = PatientMerge(
            survivor_id=survivor_id,
            duplicate_id=loser_id,
            reason=(reason or "").strip() or "Merged by the system.",
            status="confirmed",
            requested_by_user_id=user_id,
            requested_at=now,
            decided_by_user_id=user_id,
            decided_at=now,
        )
        repo.add(journal)
    else:
        journal.status, journal.decided_at, journal.decided_by_user_id = ("confirmed", now, user_id)
        repo.flush()
    return journal


def record_print(uow: UnitOfWork, patient_id: int, *, document: str) -> None:
    """Audit a print of a patient document made on a workstation."""
    with uow:
        _get(uow, patient_id)
        uow.audit(CATEGORY, "patient.print", patient_id=patient_id, detail={"document": document})
        uow.commit()


# --- structured search (FHIR and other integrations) ---


def find_patients(
    uow: UnitOfWork,
    criteria: PatientFilter,
    *,
    limit: int,
    offset: int,
    mrn_prefix: str,
    via: str = "fhir",
) -> tuple[list[Patient], int]:
    """Patients matching structured criteria, sorted by id; audited like a search."""
    with uow:
        rows, total = uow.repo(PatientSearch).find(
            criteria, limit=limit, offset=offset, mrn_prefix=mrn_prefix
        )
        uow.audit(
            CATEGORY,
            "patient.search",
            detail={"result_count": total, "via": via, **shown_patients(p.id for p in rows)},
        )
        uow.commit()
        return rows, total


def merged_ids_for(uow: UnitOfWork, survivor_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each survivor id, the ids of records merged into it."""
    if not survivor_ids:
        return {}
    with uow:
        return uow.repo(PatientRepository).merged_into(survivor_ids)
