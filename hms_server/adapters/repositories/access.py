"""Chart access: care-team membership, the appointment relationship, break-the-glass grants
and their review queue."""

from __future__ import annotations

from datetime import date, datetime
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


# A queue entry (a walk-in has no appointment) with this doctor since a day.
_IN_QUEUE_OF = text("""
    SELECT 1 FROM queue_entries q JOIN doctors d ON d.id = q.doctor_id
    WHERE q.patient_id = :patient_id AND d.user_id = :user_id
      AND q.queue_date >= :since AND q.status <> 'left'
    LIMIT 1
""")

# Checked in today with a doctor of a department whose clinic the user works today (a day's
# assignment or a standing one).
_CHECKED_IN_AT_CLINIC = text("""
    SELECT 1 FROM queue_entries q
      JOIN doctors d ON d.id = q.doctor_id
      JOIN clinic_assignments c ON c.department_id = d.department_id
    WHERE q.patient_id = :patient_id AND q.queue_date = :day AND q.status <> 'left'
      AND c.user_id = :user_id AND (c.on_date IS NULL OR c.on_date = :day)
    LIMIT 1
""")

# "My patients": today's clinic (and own queue) patients in check-in order, then the care
# team's, most recently added first; one row per patient.
_MY_PATIENTS = text("""
    WITH today AS (
        SELECT DISTINCT ON (q.patient_id)
               q.patient_id, 0 AS tier, q.checked_in_at AS sort_at, q.id AS queue_entry_id,
               q.token, q.status AS queue_status, q.checked_in_at, d.display_name AS doctor_name,
               d.department_id,
               CASE WHEN d.user_id = :user_id THEN 'queue' ELSE 'clinic' END AS relationship
        FROM queue_entries q JOIN doctors d ON d.id = q.doctor_id
        WHERE q.queue_date = :day AND q.status <> 'left'
          AND (d.user_id = :user_id OR EXISTS (
                SELECT 1 FROM clinic_assignments c
                WHERE c.user_id = :user_id AND c.department_id = d.department_id
                  AND (c.on_date IS NULL OR c.on_date = :day)))
        ORDER BY q.patient_id, q.checked_in_at DESC
    ), team AS (
        SELECT m.patient_id, 1 AS tier, m.added_at AS sort_at, NULL::bigint AS queue_entry_id,
               NULL::smallint AS token, NULL::text AS queue_status,
               NULL::timestamptz AS checked_in_at, NULL::text AS doctor_name,
               NULL::bigint AS department_id, 'care_team' AS relationship
        FROM care_team_members m
        WHERE m.user_id = :user_id AND m.source <> 'self_declared'
          AND m.patient_id NOT IN (SELECT patient_id FROM today)
    ), mine AS (SELECT * FROM today UNION ALL SELECT * FROM team)
    SELECT mine.*, count(*) OVER () AS total FROM mine
    ORDER BY tier, CASE WHEN tier = 0 THEN sort_at END ASC,
             CASE WHEN tier = 1 THEN sort_at END DESC, patient_id
    LIMIT :limit OFFSET :offset
""")

MyPatientRow = tuple[
    Patient, str, int | None, int | None, str | None, datetime | None, str | None, int | None
]


class AccessRepository(Repository):
    def is_care_team_member(self, user_id: int, patient_id: int) -> bool:
        """Rows a chart write added before issue 8 ("self_declared") do not count."""
        return (
            self.session.scalar(
                select(CareTeamMember.user_id).where(
                    CareTeamMember.patient_id == patient_id,
                    CareTeamMember.user_id == user_id,
                    CareTeamMember.source != "self_declared",
                )
            )
            is not None
        )

    def in_queue_of(self, user_id: int, patient_id: int, *, since: date) -> bool:
        """The patient has been in this doctor's queue since ``since``."""
        return (
            self.session.execute(
                _IN_QUEUE_OF, {"patient_id": patient_id, "user_id": user_id, "since": since}
            ).first()
            is not None
        )

    def checked_in_at_clinic_of(self, user_id: int, patient_id: int, day: date) -> bool:
        """The patient is checked in on ``day`` at a clinic the user works that day."""
        return (
            self.session.execute(
                _CHECKED_IN_AT_CLINIC, {"patient_id": patient_id, "user_id": user_id, "day": day}
            ).first()
            is not None
        )

    def my_patients(
        self, user_id: int, *, today: date, limit: int, offset: int
    ) -> tuple[list[MyPatientRow], int]:
        """(patient, relationship, queue entry id, token, queue status, checked in at,
        doctor name, department id) for the user's patients now, and their total."""
        params = {"user_id": user_id, "day": today, "limit": limit, "offset": offset}
        rows = self.session.execute(_MY_PATIENTS, params).all()
        total = int(rows[0].total) if rows else 0
        if not rows and offset:
            total = len(
                self.session.execute(
                    _MY_PATIENTS, {**params, "limit": 1_000_000, "offset": 0}
                ).all()
            )
        patients = {
            p.id: p
            for p in self.session.scalars(
                select(Patient).where(Patient.id.in_([r.patient_id for r in rows]))
            )
        }
        return [
            (
                patients[r.patient_id],
                r.relationship,
                r.queue_entry_id,
                r.token,
                r.queue_status,
                r.checked_in_at,
                r.doctor_name,
                r.department_id,
            )
            for r in rows
            if r.patient_id in patients
        ], total

    def add_care_team_member(
        self,
        *,
        patient_id: int,
        user_id: int,
        role: str,
        source: str,
        added_by_user_id: int | None,
        reason: str | None = None,
    ) -> bool:
        """No-op if already a member; True if newly added."""
        added = self.session.execute(
            insert(CareTeamMember)
            .values(
                patient_id=patient_id,
                user_id=user_id,
                role=role,
                source=source,
                added_at=utcnow(),
                added_by_user_id=added_by_user_id,
                reason=reason,
            )
            .on_conflict_do_nothing()
            .returning(CareTeamMember.user_id)
        ).first()
        return added is not None

    def care_team_member(self, patient_id: int, user_id: int) -> CareTeamMember | None:
        return self.session.get(CareTeamMember, (patient_id, user_id))

    def has_appointment_with(self, user_id: int, patient_id: int) -> bool:
        """The user is the doctor of a current or upcoming appointment of the patient."""
        return (
            self.session.execute(
                _APPOINTMENT_ACCESS, {"patient_id": patient_id, "user_id": user_id}
            ).first()
            is not None
        )

    def active_grant_id(self, user_id: int, patient_id: int) -> int | None:
        return self.session.scalar(
            select(BreakGlassGrant.id)
            .where(
                BreakGlassGrant.user_id == user_id,
                BreakGlassGrant.patient_id == patient_id,
                BreakGlassGrant.expires_at > func.now(),
            )
            .order_by(BreakGlassGrant.expires_at.desc())
            .limit(1)
        )

    def grant(self, grant_id: int, *, lock: bool = False) -> BreakGlassGrant | None:
        return self.session.get(BreakGlassGrant, grant_id, with_for_update=lock)

    def grants(
        self,
        *,
        since: datetime | None,
        until: datetime | None,
        user_id: int | None,
        patient_id: int | None,
        unreviewed: bool,
        limit: int,
        offset: int,
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
        total = (
            self.session.scalar(select(func.count()).select_from(BreakGlassGrant).where(where)) or 0
        )
        accesses = (
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.patient_id == BreakGlassGrant.patient_id,
                AuditEntry.user_id == BreakGlassGrant.user_id,
                AuditEntry.at >= BreakGlassGrant.granted_at,
                AuditEntry.at <= BreakGlassGrant.expires_at,
                AuditEntry.action == "read",
            )
            .correlate(BreakGlassGrant)
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(BreakGlassGrant, User.username, User.full_name, reviewer.username, accesses)
            .join(User, User.id == BreakGlassGrant.user_id)
            .outerjoin(reviewer, reviewer.id == BreakGlassGrant.reviewed_by_user_id)
            .where(where)
            .order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return [(g, u, f, r, int(c or 0)) for g, u, f, r, c in rows], int(total)

    def care_team(self, patient_id: int) -> list[tuple[CareTeamMember, User]]:
        rows = self.session.execute(
            select(CareTeamMember, User)
            .join(User, User.id == CareTeamMember.user_id)
            .where(CareTeamMember.patient_id == patient_id)
            .order_by(CareTeamMember.added_at)
        ).all()
        return [(m, u) for m, u in rows]
