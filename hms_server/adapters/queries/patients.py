"""Patient search: the reception desk's search-as-you-type and the structured search of
integrations (FHIR). Read-side queries shaped for their screens, tuned for a million patients
(see the indexes in ``adapters/orm/patients.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories.patients import folded
from hms_server.domain import mrn as mrn_rules
from hms_server.domain import patients as rules
from hms_server.domain.errors import ValidationFailedError

# Columns a search result needs (no jsonb): keeps rows small and the sort cheap.
SUMMARY_COLUMNS = (
    Patient.id,
    Patient.mrn,
    Patient.given_name,
    Patient.family_name,
    Patient.date_of_birth,
    Patient.birth_date_estimated,
    Patient.sex,
    Patient.phone,
    Patient.national_id,
)


def _name_condition(terms: rules.SearchTerms) -> ColumnElement[bool] | None:
    if not terms.name_tokens:
        return None
    parts: list[ColumnElement[bool]] = []
    for token in terms.name_tokens:
        pattern = folded(rules.like_escape(token))
        if terms.prefix_only:
            # 1-2 characters: prefix of the given or family name (btree text_pattern_ops).
            parts.append(
                or_(
                    Patient.family_norm.like(pattern + "%", escape="\\"),
                    Patient.given_norm.like(pattern + "%", escape="\\"),
                )
            )
        elif len(rules.fold(token)) >= rules.MIN_SUBSTRING:
            parts.append(Patient.search_name.like("%" + pattern + "%", escape="\\"))
        else:
            # A short token beside a long one: the start of some name word.
            parts.append(
                or_(
                    Patient.search_name.like(pattern + "%", escape="\\"),
                    Patient.search_name.like("% " + pattern + "%", escape="\\"),
                )
            )
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
            ids = list(
                session.scalars(
                    select(func.coalesce(Patient.merged_into_id, Patient.id)).where(
                        Patient.mrn.in_(mrns)
                    )
                )
            )
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


def search_patients(
    session: Session, *, q: str | None, limit: int, offset: int, mrn_prefix: str, cap: int
) -> SearchPage:
    """Unmerged patients matching ``q`` (see ``services.patients.search_patients``), at most
    ``cap`` collected, sorted by family name, given name, id."""
    _custom_plans(session)
    condition = _search_condition(session, q or "", mrn_prefix)
    order = (Patient.family_norm, Patient.given_norm, Patient.id)
    if condition is None:
        # Everyone: the page comes from the list-order index, the total from a count.
        rows = session.execute(
            select(*SUMMARY_COLUMNS)
            .where(Patient.merged_into_id.is_(None))
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        ).all()
        total = int(
            session.scalar(
                select(func.count()).select_from(Patient).where(Patient.merged_into_id.is_(None))
            )
            or 0
        )
        capped = False
    else:
        # Never walk the table or the list-order index hoping to meet matches early: when
        # the matches cluster late in that order (e.g. every "Müller"), that walk reads
        # most of the table. Collect the matches from their own indexes instead.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        matches = (
            select(*SUMMARY_COLUMNS, Patient.family_norm, Patient.given_norm)
            .where(Patient.merged_into_id.is_(None), condition)
            .limit(cap + 1)
            .subquery("matches")
        )
        m = matches.c
        rows = session.execute(
            select(
                m.id,
                m.mrn,
                m.given_name,
                m.family_name,
                m.date_of_birth,
                m.birth_date_estimated,
                m.sex,
                m.phone,
                m.national_id,
                func.count().over().label("total"),
            )
            .order_by(m.family_norm, m.given_norm, m.id)
            .limit(limit)
            .offset(offset)
        ).all()
        if rows:
            found = int(rows[0].total)
        else:
            found = (
                int(session.scalar(select(func.count()).select_from(matches)) or 0) if offset else 0
            )
        capped = found > cap
        total = min(found, cap)
    return SearchPage(rows=rows, total=total, total_capped=capped)


@dataclass(frozen=True)
class PatientFilter:
    """Structured criteria; every field given narrows (AND). Inside a tuple, alternatives
    (OR) — except ``name_words``/``name_contains``, where every entry must match.

    ``mrns``/``national_ids``: identifier alternatives matched exactly (MRNs in any
    formatting ``mrn_candidates`` accepts). Unlike ``search_patients``, merged-away records
    are found too (integrations follow their ``replaced-by`` link).
    """

    ids: tuple[int, ...] | None = None
    name_words: tuple[str, ...] = ()  # each: start of some word of the name
    name_contains: tuple[str, ...] = ()  # each: anywhere in the name (≥3 characters)
    name_exact: tuple[str, ...] | None = None  # given, family or "given family", folded
    family: tuple[str, ...] | None = None  # start of the family name
    given: tuple[str, ...] | None = None  # start of the given name
    birth_ranges: tuple[tuple[date | None, date | None], ...] = ()  # inclusive bounds
    sexes: tuple[str, ...] | None = None
    identifiers: tuple[tuple[str, str], ...] | None = None  # ("mrn"|"national_id"|"any", v)


def _word_start(token: str) -> ColumnElement[bool]:
    pattern = folded(rules.like_escape(token))
    return or_(
        Patient.search_name.like(pattern + "%", escape="\\"),
        Patient.search_name.like("% " + pattern + "%", escape="\\"),
    )


def _filter_conditions(f: PatientFilter, mrn_prefix: str) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.ids is not None:
        conds.append(Patient.id.in_(f.ids))
    conds.extend(_word_start(t) for t in f.name_words)
    for token in f.name_contains:
        if len(rules.fold(token)) < rules.MIN_SUBSTRING:
            raise ValidationFailedError(
                f"A name fragment needs at least {rules.MIN_SUBSTRING} characters."
            )
        conds.append(
            Patient.search_name.like("%" + folded(rules.like_escape(token)) + "%", escape="\\")
        )
    if f.name_exact is not None:
        conds.append(
            or_(
                *(
                    or_(
                        Patient.search_name == folded(v),
                        Patient.given_norm == folded(v),
                        Patient.family_norm == folded(v),
                    )
                    for v in f.name_exact
                )
            )
        )
    for values, column in ((f.family, Patient.family_norm), (f.given, Patient.given_norm)):
        if values is not None:
            conds.append(
                or_(*(column.like(folded(rules.like_escape(v)) + "%", escape="\\") for v in values))
            )
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


def find_patients(
    session: Session, criteria: PatientFilter, *, limit: int, offset: int, mrn_prefix: str
) -> tuple[list[Patient], int]:
    """Patients matching structured criteria, sorted by id, and the total."""
    _custom_plans(session)
    conds = _filter_conditions(criteria, mrn_prefix)
    total = int(session.scalar(select(func.count()).select_from(Patient).where(*conds)) or 0)
    rows = (
        list(
            session.scalars(
                select(Patient).where(*conds).order_by(Patient.id).limit(limit).offset(offset)
            )
        )
        if limit
        else []
    )
    return rows, total


class PatientSearch:
    """These queries bound to one unit of work's session: ``uow.repo(PatientSearch)``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search(
        self, *, q: str | None, limit: int, offset: int, mrn_prefix: str, cap: int
    ) -> SearchPage:
        return search_patients(
            self.session, q=q, limit=limit, offset=offset, mrn_prefix=mrn_prefix, cap=cap
        )

    def find(
        self, criteria: PatientFilter, *, limit: int, offset: int, mrn_prefix: str
    ) -> tuple[list[Patient], int]:
        return find_patients(
            self.session, criteria, limit=limit, offset=offset, mrn_prefix=mrn_prefix
        )
