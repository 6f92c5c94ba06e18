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
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, text, update
from sqlalchemy.orm import Session

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.patients import MRN_SEQUENCE, Patient
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain import mrn as mrn_rules
from hms_server.domain import patients as rules
from hms_server.domain.errors import NotFoundError, ValidationFailedError
from hms_server.domain.events import PatientsMerged
from hms_server.domain.patients import PatientMergedError, PossibleDuplicatesError
from hms_server.domain.versioning import check_version

CATEGORY = "demographics"
MAX_DUPLICATE_CANDIDATES = 10
SEARCH_MATCH_CAP = 1000

# Columns a search result needs (no jsonb): keeps rows small and the sort cheap.
SUMMARY_COLUMNS = (Patient.id, Patient.mrn, Patient.given_name, Patient.family_name,
                   Patient.date_of_birth, Patient.birth_date_estimated, Patient.sex,
                   Patient.phone, Patient.national_id)

EDITABLE = ("given_name", "family_name", "date_of_birth", "birth_date_estimated", "sex",
            "phone", "email", "national_id", "address", "next_of_kin", "preferred_language",
            "insurance")


def _folded(value: str) -> ColumnElement[str]:
    """SQL-side fold of a user value, the same expression the generated columns use."""
    return func.lower(func.hms_unaccent(literal(value)))


def _validate_birth(dob: date, today: date, field: str = "date_of_birth") -> None:
    problem = rules.birth_date_problem(dob, today)
    if problem:
        raise ValidationFailedError(
            f"Please correct: {field}.",
            extra={"errors": [{"field": field, "message": problem, "type": "value_error"}]})


def _get(uow: UnitOfWork, patient_id: int, *, lock: bool = False) -> Patient:
    patient = uow.session.get(Patient, patient_id, with_for_update=lock)
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


def find_duplicates(session: Session, key: rules.PersonKey) -> list[DuplicateCandidate]:
    """Existing (unmerged) patients that are likely the same person as ``key``."""
    tolerance = timedelta(days=366 * rules.ESTIMATED_DOB_TOLERANCE_YEARS)
    folded = _folded(f"{key.given_name} {key.family_name}")
    near_birth = and_(Patient.date_of_birth.between(key.date_of_birth - tolerance,
                                                    key.date_of_birth + tolerance),
                      Patient.search_name.op("%")(folded))
    arms: list[ColumnElement[bool]] = [Patient.date_of_birth == key.date_of_birth]
    arms.append(near_birth if key.birth_date_estimated
                else and_(Patient.birth_date_estimated, near_birth))
    digits = rules.phone_digits(key.phone)
    if digits:
        arms.append(Patient.phone_digits == digits)
    national = rules.normalize_national_id(key.national_id)
    if national:
        arms.append(Patient.national_id_norm == national)
    rows = session.execute(
        select(Patient.id, Patient.mrn, Patient.given_name, Patient.family_name,
               Patient.date_of_birth, Patient.birth_date_estimated, Patient.phone,
               Patient.national_id)
        .where(Patient.merged_into_id.is_(None), or_(*arms))
        .limit(500)
    ).all()
    found: list[DuplicateCandidate] = []
    for r in rows:
        verdict = rules.assess_duplicate(key, rules.PersonKey(
            r.given_name, r.family_name, r.date_of_birth, r.birth_date_estimated, r.phone,
            r.national_id))
        if verdict.likely:
            found.append(DuplicateCandidate(r.id, r.mrn, f"{r.given_name} {r.family_name}",
                                            r.date_of_birth, verdict.score, verdict.reasons))
    found.sort(key=lambda c: (-c.score, c.id))
    return found[:MAX_DUPLICATE_CANDIDATES]


def register_patient(uow: UnitOfWork, *, mrn_prefix: str, given_name: str, family_name: str,
                     sex: str, date_of_birth: date | None = None, age_years: int | None = None,
                     phone: str | None = None, email: str | None = None,
                     national_id: str | None = None, address: dict[str, Any] | None = None,
                     next_of_kin: list[dict[str, Any]] | None = None,
                     preferred_language: str | None = None,
                     insurance: list[dict[str, Any]] | None = None,
                     confirm_new: bool = False, today: date | None = None) -> Patient:
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
            candidates = find_duplicates(uow.session, key)
            if candidates:
                raise PossibleDuplicatesError(
                    f"{len(candidates)} existing patient(s) look like the same person. Pick "
                    "one, or resend with confirm_new=true to register a new patient.",
                    extra={"candidates": [
                        {"id": c.id, "mrn": c.mrn, "name": c.name, "dob": c.dob.isoformat(),
                         "score": c.score, "reasons": list(c.reasons)} for c in candidates]})
        serial = uow.session.scalar(select(MRN_SEQUENCE.next_value()))
        assert serial is not None
        now = utcnow()
        patient = Patient(
            mrn=mrn_rules.format_mrn(mrn_prefix, int(serial)), given_name=given,
            family_name=family, date_of_birth=date_of_birth, birth_date_estimated=estimated,
            sex=sex, phone=phone, email=email, national_id=national_id, address=address,
            next_of_kin=next_of_kin or [], preferred_language=preferred_language,
            insurance=insurance or [], created_at=now, updated_at=now, version=1)
        uow.session.add(patient)
        uow.session.flush()
        uow.audit(CATEGORY, "patient.create", patient_id=patient.id,
                  detail={"confirmed_despite_duplicates": confirm_new,
                          "birth_date_estimated": estimated})
        uow.publish("patient.created", {"patient_id": patient.id})
        uow.commit()
        uow.session.refresh(patient)  # generated columns, server defaults
        return patient


# --- search and read ---

def _name_condition(terms: rules.SearchTerms) -> ColumnElement[bool] | None:
    if not terms.name_tokens:
        return None
    parts: list[ColumnElement[bool]] = []
    for token in terms.name_tokens:
        folded = _folded(rules.like_escape(token))
        if terms.prefix_only:
            # 1-2 characters: prefix of the given or family name (btree text_pattern_ops).
            parts.append(or_(Patient.family_norm.like(folded + "%", escape="\\"),
                             Patient.given_norm.like(folded + "%", escape="\\")))
        elif len(rules.fold(token)) >= rules.MIN_SUBSTRING:
            parts.append(Patient.search_name.like("%" + folded + "%", escape="\\"))
        else:
            # A short token beside a long one: the start of some name word.
            parts.append(or_(Patient.search_name.like(folded + "%", escape="\\"),
                             Patient.search_name.like("% " + folded + "%", escape="\\")))
    return and_(*parts)


def _search_condition(session: Session, q: str, mrn_prefix: str) -> ColumnElement[bool] | None:
    terms = rules.parse_search(q)
    if terms.empty:
        # Blank lists everyone; punctuation alone ("%%%") matches no one.
        return literal(False) if q.strip() else None
    alternatives: list[ColumnElement[bool]] = []
    name = _name_condition(terms)
    if name is not None:
        alternatives.append(name)
    if terms.phone:
        # Match the end of the stored number, so a number typed with or without country
        # code or trunk prefix ("0…", "+49…", "0049…") finds the same patient.
        local = terms.phone.lstrip("0")
        if len(local) >= 6:
            alternatives.append(func.reverse(Patient.phone_digits).like(local[::-1] + "%"))
    if terms.national_id:
        alternatives.append(Patient.national_id_norm == terms.national_id)
    if terms.raw_mrn:
        mrns = mrn_rules.mrn_candidates(terms.raw_mrn, mrn_prefix)
        if mrns:
            # A merged-away MRN finds its survivor.
            ids = list(session.scalars(select(func.coalesce(Patient.merged_into_id, Patient.id))
                                       .where(Patient.mrn.in_(mrns))))
            if ids:
                alternatives.append(Patient.id.in_(ids))
    conditions: list[ColumnElement[bool]] = []
    if alternatives:
        conditions.append(or_(*alternatives))
    elif not terms.birth_date:
        return literal(False)  # typed something that cannot match anything
    if terms.birth_date:
        conditions.append(Patient.date_of_birth == terms.birth_date)
    return and_(*conditions)


def _custom_plans(session: Session) -> None:
    # The search patterns decide which index is usable; a cached generic plan (psycopg
    # prepares statements after a few executions) cannot see them and is several times slower.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass(frozen=True)
class SearchPage:
    rows: Sequence[Any]  # rows of SUMMARY_COLUMNS
    total: int
    total_capped: bool  # True: at least ``total`` matches; the clerk should type more


def search_patients(uow: UnitOfWork, *, q: str | None, limit: int, offset: int,
                    mrn_prefix: str) -> SearchPage:
    """Find unmerged patients by MRN, name fragment, phone, birth date or national ID.

    Name fragments of ≥3 characters match anywhere in the name; 1-2 characters match the start
    of the given or family name. Accents and case are ignored. Sorted by family name, given
    name, id. Audited with the result count only.

    A search collects at most ``SEARCH_MATCH_CAP`` matches (then sorts and pages them), so a
    very common fragment such as "mar" costs the same as a rare one; beyond the cap the answer
    says ``total_capped`` (search as you type: more letters narrow it). A blank ``q`` lists
    everyone in name order with an exact total.
    """
    with uow:
        session = uow.session
        _custom_plans(session)
        condition = _search_condition(session, q or "", mrn_prefix)
        order = (Patient.family_norm, Patient.given_norm, Patient.id)
        if condition is None:
            # Everyone: the page comes from the list-order index, the total from a count.
            rows = session.execute(select(*SUMMARY_COLUMNS).where(
                Patient.merged_into_id.is_(None)).order_by(*order).limit(limit)
                .offset(offset)).all()
            total = int(session.scalar(select(func.count()).select_from(Patient).where(
                Patient.merged_into_id.is_(None))) or 0)
            capped = False
        else:
            # Never walk the table or the list-order index hoping to meet matches early: when
            # the matches cluster late in that order (e.g. every "Müller"), that walk reads
            # most of the table. Collect the matches from their own indexes instead.
            session.execute(text("SET LOCAL enable_seqscan = off"))
            matches = (select(*SUMMARY_COLUMNS, Patient.family_norm, Patient.given_norm)
                       .where(Patient.merged_into_id.is_(None), condition)
                       .limit(SEARCH_MATCH_CAP + 1).subquery("matches"))
            m = matches.c
            rows = session.execute(
                select(m.id, m.mrn, m.given_name, m.family_name, m.date_of_birth,
                       m.birth_date_estimated, m.sex, m.phone, m.national_id,
                       func.count().over().label("total"))
                .order_by(m.family_norm, m.given_norm, m.id).limit(limit).offset(offset)).all()
            if rows:
                found = int(rows[0].total)
            else:
                found = int(session.scalar(select(func.count()).select_from(matches)) or 0) \
                    if offset else 0
            capped = found > SEARCH_MATCH_CAP
            total = min(found, SEARCH_MATCH_CAP)
        uow.audit(CATEGORY, "patient.search",
                  detail={"result_count": total, "returned": len(rows), "capped": capped})
        uow.commit()
        return SearchPage(rows=rows, total=total, total_capped=capped)


def get_patient(uow: UnitOfWork, patient_id: int) -> Patient:
    """One patient record (merged-away records too: ``merged_into_id`` points on). Audited."""
    with uow:
        patient = _get(uow, patient_id)
        uow.audit(CATEGORY, "patient.read", patient_id=patient.id)
        uow.commit()
        return patient


def resolve_survivor(session: Session, patient: Patient) -> Patient:
    seen = {patient.id}
    while patient.merged_into_id is not None:
        nxt = session.get(Patient, patient.merged_into_id)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        patient = nxt
    return patient


def get_patient_by_mrn(uow: UnitOfWork, mrn: str, *, mrn_prefix: str) -> Patient:
    """The patient an MRN belongs to; a merged-away MRN answers its survivor. Audited."""
    with uow:
        candidates = mrn_rules.mrn_candidates(mrn, mrn_prefix)
        found = uow.session.scalars(
            select(Patient).where(Patient.mrn.in_(candidates)).limit(1)).first() \
            if candidates else None
        if found is None:
            raise NotFoundError("No patient with that MRN.")
        patient = resolve_survivor(uow.session, found)
        detail: dict[str, Any] = {"via": "mrn"}
        if patient.id != found.id:
            detail["merged_from_id"] = found.id
        uow.audit(CATEGORY, "patient.read", patient_id=patient.id, detail=detail)
        uow.commit()
        return patient


# --- edit ---

def update_patient(uow: UnitOfWork, patient_id: int, *, version: int, changes: dict[str, Any],
                   today: date | None = None) -> Patient:
    """Apply the given demographic ``changes`` if ``version`` is current (else 409
    ``version_conflict``). Audited with the names of the changed fields, not their values."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailedError(f"Cannot change: {', '.join(sorted(unknown))}.")
    for required in ("given_name", "family_name", "date_of_birth", "sex",
                     "birth_date_estimated"):
        if required in changes and changes[required] is None:
            raise ValidationFailedError(
                f"Please correct: {required}.",
                extra={"errors": [{"field": f"{required}", "message": "may not be null",
                                   "type": "value_error"}]})
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
                extra={"merged_into_id": patient.merged_into_id})
        check_version(patient.version, version, "patient record")
        changed = sorted(k for k, v in changes.items() if getattr(patient, k) != v)
        if changed:
            for k in changed:
                setattr(patient, k, changes[k])
            patient.updated_at = utcnow()
            uow.audit(CATEGORY, "patient.update", patient_id=patient.id,
                      detail={"fields": changed})
            uow.publish("patient.updated", {"patient_id": patient.id})
        uow.commit()
        if changed:
            uow.session.refresh(patient)
        return patient


# --- merge ---

def _absorb(survivor: Patient, loser: Patient) -> list[str]:
    """Fill the survivor's gaps from the loser; the survivor's own values win."""
    filled = []
    for field in ("phone", "email", "national_id", "address", "preferred_language"):
        if getattr(survivor, field) in (None, "", {}) and getattr(loser, field) not in (
                None, "", {}):
            setattr(survivor, field, getattr(loser, field))
            filled.append(field)
    for field, key in (("insurance", ("payer", "policy_number")),
                       ("next_of_kin", ("name", "phone"))):
        mine = list(getattr(survivor, field) or [])
        have = {tuple(item.get(k) for k in key) for item in mine}
        extra = [item for item in (getattr(loser, field) or [])
                 if tuple(item.get(k) for k in key) not in have]
        if extra:
            setattr(survivor, field, mine + extra)
            filled.append(field)
    return filled


def merge_patients(uow: UnitOfWork, survivor_id: int, *, loser_id: int,
                   survivor_version: int | None = None,
                   loser_version: int | None = None) -> Patient:
    """Merge the duplicate ``loser_id`` into ``survivor_id``.

    The loser keeps its row and MRN with ``merged_into_id`` set (so its MRN resolves to the
    survivor), blank survivor fields are filled from it, rows of other areas move through
    ``MERGE_HOOKS``, and both records get an audit entry.
    """
    if survivor_id == loser_id:
        raise ValidationFailedError("A patient cannot be merged into itself.")
    with uow:
        session = uow.session
        # Lock in id order so two opposite merges cannot deadlock.
        locked = {p.id: p for p in session.scalars(
            select(Patient).where(Patient.id.in_([survivor_id, loser_id]))
            .order_by(Patient.id).with_for_update())}
        for pid in (survivor_id, loser_id):
            if pid not in locked:
                raise NotFoundError(f"No patient with id {pid}.")
        survivor, loser = locked[survivor_id], locked[loser_id]
        for p in (survivor, loser):
            if p.merged_into_id is not None:
                raise PatientMergedError(
                    f"Patient {p.id} was already merged into patient {p.merged_into_id}.",
                    extra={"patient_id": p.id, "merged_into_id": p.merged_into_id})
        if survivor_version is not None:
            check_version(survivor.version, survivor_version, "surviving patient record")
        if loser_version is not None:
            check_version(loser.version, loser_version, "merged patient record")
        now = utcnow()
        filled = _absorb(survivor, loser)
        loser.merged_into_id, loser.merged_at = survivor.id, now
        loser.updated_at = now
        survivor.updated_at = now
        session.flush()
        # Records merged into the loser earlier now point straight at the survivor.
        session.execute(update(Patient).where(Patient.merged_into_id == loser.id,
                                              Patient.id != loser.id)
                        .values(merged_into_id=survivor.id)
                        .execution_options(synchronize_session=False))
        uow.emit(PatientsMerged(loser_id=loser.id, survivor_id=survivor.id))
        detail = {"survivor_id": survivor.id, "loser_id": loser.id, "filled_fields": filled}
        uow.audit(CATEGORY, "patient.merge", patient_id=survivor.id, detail=detail)
        uow.audit(CATEGORY, "patient.merged_away", patient_id=loser.id, detail=detail)
        uow.publish("patient.merged", {"survivor_id": survivor.id, "loser_id": loser.id})
        uow.commit()
        session.refresh(survivor)
        return survivor


def record_print(uow: UnitOfWork, patient_id: int, *, document: str) -> None:
    """Audit a print of a patient document made on a workstation."""
    with uow:
        _get(uow, patient_id)
        uow.audit(CATEGORY, "patient.print", patient_id=patient_id,
                  detail={"document": document})
        uow.commit()


# --- structured search (FHIR and other integrations) ---

@dataclass(frozen=True)
class PatientFilter:
    """Structured criteria; every field given narrows (AND). Inside a tuple, alternatives
    (OR) — except ``name_words``/``name_contains``, where every entry must match.

    ``mrns``/``national_ids``: identifier alternatives matched exactly (MRNs in any
    formatting ``mrn_candidates`` accepts). Unlike ``search_patients``, merged-away records
    are found too (integrations follow their ``replaced-by`` link).
    """

    ids: tuple[int, ...] | None = None
    name_words: tuple[str, ...] = ()        # each: start of some word of the name
    name_contains: tuple[str, ...] = ()     # each: anywhere in the name (≥3 characters)
    name_exact: tuple[str, ...] | None = None   # given, family or "given family", folded
    family: tuple[str, ...] | None = None   # start of the family name
    given: tuple[str, ...] | None = None    # start of the given name
    birth_ranges: tuple[tuple[date | None, date | None], ...] = ()  # inclusive bounds
    sexes: tuple[str, ...] | None = None
    identifiers: tuple[tuple[str, str], ...] | None = None  # ("mrn"|"national_id"|"any", v)


def _word_start(token: str) -> ColumnElement[bool]:
    folded = _folded(rules.like_escape(token))
    return or_(Patient.search_name.like(folded + "%", escape="\\"),
               Patient.search_name.like("% " + folded + "%", escape="\\"))


def _filter_conditions(f: PatientFilter, mrn_prefix: str) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.ids is not None:
        conds.append(Patient.id.in_(f.ids))
    conds.extend(_word_start(t) for t in f.name_words)
    for token in f.name_contains:
        if len(rules.fold(token)) < rules.MIN_SUBSTRING:
            raise ValidationFailedError(
                f"A name fragment needs at least {rules.MIN_SUBSTRING} characters.")
        conds.append(Patient.search_name.like(
            "%" + _folded(rules.like_escape(token)) + "%", escape="\\"))
    if f.name_exact is not None:
        conds.append(or_(*(or_(Patient.search_name == _folded(v), Patient.given_norm ==
                               _folded(v), Patient.family_norm == _folded(v))
                           for v in f.name_exact)))
    for values, column in ((f.family, Patient.family_norm), (f.given, Patient.given_norm)):
        if values is not None:
            conds.append(or_(*(column.like(_folded(rules.like_escape(v)) + "%", escape="\\")
                               for v in values)))
    for low, high in f.birth_ranges:
        if low is not None:
            conds.append(Patient.date_of_birth >= low)
        if high is not None:
            conds.append(Patient.date_of_birth <= high)
    if f.sexes is not None:
        conds.append(Patient.sex.in_(f.sexes))
    if f.identifiers is not None:
        arms: list[ColumnElement[bool]] = []
        for kind, value in f.identifiers:
            if kind in ("mrn", "any"):
                mrns = mrn_rules.mrn_candidates(value, mrn_prefix)
                if mrns:
                    arms.append(Patient.mrn.in_(mrns))
            if kind in ("national_id", "any"):
                national = rules.normalize_national_id(value)
                if national:
                    arms.append(Patient.national_id_norm == national)
        conds.append(or_(*arms) if arms else literal(False))
    return conds


def find_patients(uow: UnitOfWork, criteria: PatientFilter, *, limit: int, offset: int,
                  mrn_prefix: str, via: str = "fhir") -> tuple[list[Patient], int]:
    """Patients matching structured criteria, sorted by id; audited like a search."""
    with uow:
        session = uow.session
        _custom_plans(session)
        conds = _filter_conditions(criteria, mrn_prefix)
        total = int(session.scalar(select(func.count()).select_from(Patient).where(*conds))
                    or 0)
        rows = list(session.scalars(select(Patient).where(*conds).order_by(Patient.id)
                                    .limit(limit).offset(offset))) if limit else []
        uow.audit(CATEGORY, "patient.search",
                  detail={"result_count": total, "returned": len(rows), "via": via})
        uow.commit()
        return rows, total


def merged_ids_for(uow: UnitOfWork, survivor_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each survivor id, the ids of records merged into it."""
    if not survivor_ids:
        return {}
    with uow:
        out: dict[int, list[int]] = {}
        for loser, survivor in uow.session.execute(
                select(Patient.id, Patient.merged_into_id)
                .where(Patient.merged_into_id.in_(list(survivor_ids))).order_by(Patient.id)):
            if survivor is not None:
                out.setdefault(survivor, []).append(loser)
        return out
