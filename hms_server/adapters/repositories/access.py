"""Chart access: care-team membership, the appointment relationship, break-the-glass grants
and their review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import BreakGlassGrant, CareTeamMember
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories import Repository

# An appointment gives the doctor access from this long before it until it is over.
_APPOINTMENT_ACCESS = text("""
    SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id
    WHERE a.patient_id = :patient_id AND d.user_id = :user_id
      AND a.starts_at >= date_trunc('day', now()) - interval '1 day'
      AND coalesce(a.status, '') NOT IN ('cancelled', 'no_show')
    LIMIT 1
""")


class AccessRepository(Repository):
    def is_care_team_member(self, user_id: int, patient_id: int) -> bool:
        return self.session.scalar(select(CareTeamMember.user_id).where(
            CareTeamMember.patient_id == patient_id, CareTeamMember.user_id == user_id)) \
            is not None

    def add_care_team_member(self, *, patient_id: int, user_id: int, role: str, source: str,
                             added_by_user_id: int | None) -> bool:
        """No-op if already a member; True if newly added."""
        added = self.session.execute(
            insert(CareTeamMember)
            .values(patient_id=patient_id, user_id=user_id, role=role, source=source,
                    added_at=utcnow(), added_by_user_id=added_by_user_id)
            .on_conflict_do_nothing()
            .returning(CareTeamMember.user_id)).first()
        return added is not None

    def care_team_member(self, patient_id: int, user_id: int) -> CareTeamMember | None:
        return self.session.get(CareTeamMember, (patient_id, user_id))

    def _has_table(self, name: str) -> bool:
        return bool(self.session.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}))

    def has_appointment_with(self, user_id: int, patient_id: int) -> bool:
        """The user is the doctor of a current or upcoming appointment of the patient."""
        if not (self._has_table("appointments") and self._has_table("doctors")):
            return False
        # A savepoint, so a schema mismatch in another area's table cannot poison the request.
        try:
            with self.session.begin_nested():
                return self.session.execute(_APPOINTMENT_ACCESS, {
                    "patient_id": patient_id, "user_id": user_id}).first() is not None
        except Exception:  # the optional path must never break chart access
            return False

    def active_grant_id(self, user_id: int, patient_id: int) -> int | None:
        return self.session.scalar(
            select(BreakGlassGrant.id).where(
                BreakGlassGrant.user_id == user_id, BreakGlassGrant.patient_id == patient_id,
                BreakGlassGrant.expires_at > func.now())
            .order_by(BreakGlassGrant.expires_at.desc()).limit(1))

    def grant(self, grant_id: int, *, lock: bool = False) -> BreakGlassGrant | None:
        return self.session.get(BreakGlassGrant, grant_id, with_for_update=lock)

    def grants(self, *, since: datetime | None, until: datetime | None, user_id: int | None,
               patient_id: int | None, unreviewed: bool, limit: int, offset: int,
               ) -> tuple[list[tuple[BreakGlassGrant, str, str, str | None, int]], int]:
        """The review queue, newest first: each grant with the user's username and name, the
        reviewer's username, and how many audited chart reads fell inside the grant."""
        reviewer = aliased(User)
        conditions: list[Any] = []
        if since is not None:
            conditions.append(BreakGlassGrant.granted_at >= since)
        if until is not None:
            conditions.append(BreakGlassGrant.granted_at < until)
        if user_id is not None:
            conditions.append(BreakGlassGrant.user_id == user_id)
        if patient_id is not None:
            conditions.append(BreakGlassGrant.patient_id == patient_id)
        if unreviewed:
            conditions.append(BreakGlassGrant.reviewed_at.is_(None))
        where = and_(True, *conditions)
        total = self.session.scalar(select(func.count()).select_from(BreakGlassGrant)
                                    .where(where)) or 0
        accesses = (
            select(func.count()).select_from(AuditEntry)
            .where(AuditEntry.patient_id == BreakGlassGrant.patient_id,
                   AuditEntry.user_id == BreakGlassGrant.user_id,
                   AuditEntry.at >= BreakGlassGrant.granted_at,
                   AuditEntry.at <= BreakGlassGrant.expires_at,
                   AuditEntry.action == "read")
            .correlate(BreakGlassGrant).scalar_subquery())
        rows = self.session.execute(
            select(BreakGlassGrant, User.username, User.full_name, reviewer.username, accesses)
            .join(User, User.id == BreakGlassGrant.user_id)
            .outerjoin(reviewer, reviewer.id == BreakGlassGrant.reviewed_by_user_id)
            .where(where)
            .order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
            .limit(limit).offset(offset)).all()
        return [(g, u, f, r, int(c or 0)) for g, u, f, r, c in rows], int(total)

    def care_team(self, patient_id: int) -> list[tuple[CareTeamMember, User]]:
        rows = self.session.execute(
            select(CareTeamMember, User).join(User, User.id == CareTeamMember.user_id)
            .where(CareTeamMember.patient_id == patient_id)
            .order_by(CareTeamMember.added_at)).all()
        return [(m, u) for m, u in rows]

    def patients_of(self, user_id: int, *, limit: int,
                    offset: int) -> tuple[list[Patient], int]:
        """Patients whose care team includes ``user_id``, most recently added first."""
        base = select(CareTeamMember.patient_id, CareTeamMember.added_at).where(
            CareTeamMember.user_id == user_id)
        total = self.count(base)
        patients = list(self.session.scalars(
            select(Patient).join(CareTeamMember, CareTeamMember.patient_id == Patient.id)
            .where(CareTeamMember.user_id == user_id)
            .order_by(CareTeamMember.added_at.desc(), Patient.id).limit(limit).offset(offset)))
        return patients, total
