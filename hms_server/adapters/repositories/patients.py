"""Patients: one record, MRN serials, duplicate candidates, and the merge's row locks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, update

from hms_server.adapters.orm.patients import MRN_SEQUENCE, Patient
from hms_server.adapters.repositories import Repository
from hms_server.domain import patients as rules


def folded(value: str) -> ColumnElement[str]:
    """SQL-side fold of a user value, the same expression the generated columns use."""
    return func.lower(func.hms_unaccent(literal(value)))


class PatientRepository(Repository):
    def get(self, patient_id: int, *, lock: bool = False) -> Patient | None:
        return self.session.get(Patient, patient_id, with_for_update=lock)

    def lock_many(self, patient_ids: Sequence[int]) -> dict[int, Patient]:
        """Lock rows in id order, so two opposite merges cannot deadlock."""
        return {
            p.id: p
            for p in self.session.scalars(
                select(Patient)
                .where(Patient.id.in_(list(patient_ids)))
                .order_by(Patient.id)
                .with_for_update()
            )
        }

    def next_mrn_serial(self) -> int:
        """nextval() is never rolled back, so an MRN is never handed out twice."""
        serial = self.session.scalar(select(MRN_SEQUENCE.next_value()))
        assert serial is not None
        return int(serial)

    def by_mrn(self, candidates: Sequence[str]) -> Patient | None:
        if not candidates:
            return None
        return self.session.scalars(
            select(Patient).where(Patient.mrn.in_(list(candidates))).limit(1)
        ).first()

    def survivor_of(self, patient: Patient) -> Patient:
        """Follow ``merged_into_id`` to the record in use now."""
        seen = {patient.id}
        while patient.merged_into_id is not None:
            nxt = self.session.get(Patient, patient.merged_into_id)
            if nxt is None or nxt.id in seen:
                break
            seen.add(nxt.id)
            patient = nxt
        return patient

    def duplicate_candidates(self, key: rules.PersonKey) -> list[Any]:
        """Unmerged patients sharing a birth date (or, estimated, a near one with a similar
        name), a phone or a national ID with ``key``: rows the scoring rules then judge."""
        tolerance = timedelta(days=366 * rules.ESTIMATED_DOB_TOLERANCE_YEARS)
        name = folded(f"{key.given_name} {key.family_name}")
        near_birth = and_(
            Patient.date_of_birth.between(
                key.date_of_birth - tolerance, key.date_of_birth + tolerance
            ),
            Patient.search_name.op("%")(name),
        )
        arms: list[ColumnElement[bool]] = [Patient.date_of_birth == key.date_of_birth]
        arms.append(
            near_birth
            if key.birth_date_estimated
            else and_(Patient.birth_date_estimated, near_birth)
        )
        digits = rules.phone_digits(key.phone)
        if digits:
            arms.append(Patient.phone_digits == digits)
        national = rules.normalize_national_id(key.national_id)
        if national:
            arms.append(Patient.national_id_norm == national)
        return list(
            self.session.execute(
                select(
                    Patient.id,
                    Patient.mrn,
                    Patient.given_name,
                    Patient.family_name,
                    Patient.date_of_birth,
                    Patient.birth_date_estimated,
                    Patient.phone,
                    Patient.national_id,
                )
                .where(Patient.merged_into_id.is_(None), or_(*arms))
                .limit(500)
            ).all()
        )

    def repoint_merged(self, loser_id: int, survivor_id: int) -> None:
        """Records merged into ``loser_id`` earlier now point straight at the survivor."""
        self.session.execute(
            update(Patient)
            .where(Patient.merged_into_id == loser_id, Patient.id != loser_id)
            .values(merged_into_id=survivor_id)
            .execution_options(synchronize_session=False)
        )

    def identities(self, patient_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """``{id: (mrn, given name, family name)}`` for the ids that exist (review screens
        that show whom a row is about)."""
        if not patient_ids:
            return {}
        return {
            pid: (mrn, given, family)
            for pid, mrn, given, family in self.session.execute(
                select(Patient.id, Patient.mrn, Patient.given_name, Patient.family_name).where(
                    Patient.id.in_(set(patient_ids))
                )
            )
        }

    def merged_into(self, survivor_ids: Sequence[int]) -> dict[int, list[int]]:
        """For each survivor id, the ids of records merged into it."""
        out: dict[int, list[int]] = {}
        if not survivor_ids:
            return out
        for loser, survivor in self.session.execute(
            select(Patient.id, Patient.merged_into_id)
            .where(Patient.merged_into_id.in_(list(survivor_ids)))
            .order_by(Patient.id)
        ):
            if survivor is not None:
                out.setdefault(survivor, []).append(loser)
        return out
