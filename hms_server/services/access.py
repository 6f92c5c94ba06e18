"""Who may read a patient's chart: a care relationship from the hospital's own facts, or
break-the-glass.

Holding ``clinical.read`` only says a role may see clinical data at all; each request for a
particular patient also needs one of the bases listed in ``CARE_BASES`` (the one place where
they are listed) or an unexpired break-the-glass grant. A write needs exactly the access a
read needs: writing in a chart, a dry-run check or opening an encounter is never a way in.
Every chart read is audited with the basis it relied on (and the grant, under break-the-glass).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import BreakGlassGrant, CareTeamMember
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import BreakGlassReasonError, CareRelationshipRequiredError
from hms_server.domain.errors import ForbiddenError, NotFoundError
from hms_server.domain.shown import shown_patients

BREAK_GLASS_MINUTES = 60
MIN_REASON_LENGTH = 10


@dataclass(frozen=True)
class CareBasis:
    """One kind of care relationship: ``query`` selects a row when ``:user_id`` may see
    ``:patient_id``'s chart (``:today`` is the hospital's calendar day). ``lasting`` bases
    may turn into care-team membership when the clinician opens an encounter; a time-limited
    basis (the clinic of the day) may not."""

    name: str
    query: TextClause
    lasting: bool = True


# Care-team rows written by a clinical write before 0040 ("self_declared") are not a basis:
# a write is not a way in.
_CARE_TEAM = text("""
    SELECT 1 FROM care_team_members
    WHERE patient_id = :patient_id AND user_id = :user_id AND source <> 'self_declared'
""")

# An appointment gives the doctor access from the day before it until it is over.
_APPOINTMENT = text("""
    SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id
    WHERE a.patient_id = :patient_id AND d.user_id = :user_id
      AND a.starts_at >= date_trunc('day', now()) - interval '1 day'
      AND a.status NOT IN ('cancelled', 'no_show')
    LIMIT 1
""")

# A queue entry (a walk-in has no appointment) with this doctor, today or yesterday.
_QUEUE = text("""
    SELECT 1 FROM queue_entries q JOIN doctors d ON d.id = q.doctor_id
    WHERE q.patient_id = :patient_id AND d.user_id = :user_id
      AND q.queue_date >= CAST(:today AS date) - 1 AND q.status <> 'left'
    LIMIT 1
""")

# The clinic the user works today (a day's assignment or a standing one): the patients
# checked in to that department's doctors today (issue 12: the outpatient nurse's triage).
_CLINIC_OF_THE_DAY = text("""
    SELECT 1 FROM queue_entries q
      JOIN doctors d ON d.id = q.doctor_id
      JOIN clinic_assignments c ON c.department_id = d.department_id
    WHERE q.patient_id = :patient_id AND q.queue_date = CAST(:today AS date)
      AND q.status <> 'left'
      AND c.user_id = :user_id AND (c.on_date IS NULL OR c.on_date = CAST(:today AS date))
    LIMIT 1
""")

CARE_BASES: tuple[CareBasis, ...] = (
    CareBasis("care_team", _CARE_TEAM),
    CareBasis("appointment", _APPOINTMENT),
    CareBasis("queue", _QUEUE),
    CareBasis("clinic", _CLINIC_OF_THE_DAY, lasting=False),
    # The ward area adds its basis here: an admission to a ward the nurse is assigned to.
)
"""Every basis of a care relationship, checked in this order. Break-the-glass comes after
all of them (``care_access``)."""


@dataclass(frozen=True)
class AccessBasis:
    """Why a read was allowed; stamped on the audit entry."""

    patient_id: int
    via: str  # a CareBasis name, or "break_glass"
    grant_id: int | None = None
    patient: Patient | None = field(default=None, compare=False, repr=False)

    @property
    def lasting(self) -> bool:
        """True when the relationship itself lasts (not the clinic of the day, not
        break-the-glass), so an encounter opened on it may make the clinician a member."""
        return any(b.name == self.via and b.lasting for b in CARE_BASES)

    def audit_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"access": self.via}
        if self.grant_id is not None:
            detail["break_glass_grant_id"] = self.grant_id
        return detail


def add_care_team_member(uow: UnitOfWork, *, patient_id: int, user_id: int,
                         role: str = "clinician", source: str = "encounter",
                         added_by_user_id: int | None = None,
                         reason: str | None = None) -> bool:
    """Add a clinician to the care team (no-op if already there). True if newly added.

    Only for facts: an encounter opened on a lasting basis, a handover by a member, seeding.
    """
    added = uow.session.execute(
        insert(CareTeamMember)
        .values(patient_id=patient_id, user_id=user_id, role=role, source=source,
                added_at=utcnow(), added_by_user_id=added_by_user_id, reason=reason)
        .on_conflict_do_nothing()
        .returning(CareTeamMember.user_id)
    ).first()
    if added is not None:
        detail: dict[str, Any] = {"member_user_id": user_id, "source": source, "role": role}
        if reason:
            detail["reason"] = reason
        uow.audit("care_team", "care_team.add", patient_id=patient_id, detail=detail)
    return added is not None


def active_grant_id(session: Session, user_id: int, patient_id: int) -> int | None:
    return session.scalar(
        select(BreakGlassGrant.id).where(
            BreakGlassGrant.user_id == user_id, BreakGlassGrant.patient_id == patient_id,
            BreakGlassGrant.expires_at > func.now())
        .order_by(BreakGlassGrant.expires_at.desc()).limit(1))


def care_access(session: Session, user_id: int | None, patient_id: int, *,
                today: date | None = None) -> AccessBasis | None:
    """The basis on which ``user_id`` may see ``patient_id``'s chart, or None."""
    if user_id is None:
        return None
    params = {"patient_id": patient_id, "user_id": user_id,
              "today": today or utcnow().date()}
    for basis in CARE_BASES:
        if session.execute(basis.query, params).first() is not None:
            return AccessBasis(patient_id, basis.name)
    grant = active_grant_id(session, user_id, patient_id)
    if grant is not None:
        return AccessBasis(patient_id, "break_glass", grant)
    return None


def _audit_denied(uow: UnitOfWork, patient_id: int) -> None:
    """Record the refusal in its own transaction: the request's own one is rolled back."""
    denied = uow.child()
    with denied:
        denied.audit("access_control", "chart.denied", outcome="denied", patient_id=patient_id,
                     detail={"reason": "care_relationship_required"})
        denied.commit()


def _refusal(patient_id: int) -> CareRelationshipRequiredError:
    return CareRelationshipRequiredError(
        "You are not part of this patient's care team. In an emergency, break the glass "
        "with a reason to get time-limited access.",
        extra={"patient_id": patient_id,
               "break_glass": f"/api/v1/patients/{patient_id}/break-glass"})


def check_patient_scope(uow: UnitOfWork, patient_id: int) -> None:
    """Inside ``with uow``, before anything else on a route with a patient in its path:
    403 ``care_relationship_required`` (audited) unless the actor has a basis — the same
    answer whether the patient, or the record asked for, exists or not."""
    user_id = uow.actor.user_id if uow.actor else None
    if care_access(uow.session, user_id, patient_id, today=uow.hospital.today()) is None:
        _audit_denied(uow, patient_id)
        raise _refusal(patient_id)


def ensure_chart_access(uow: UnitOfWork, patient_id: int) -> AccessBasis:
    """Inside ``with uow``: 404 for an unknown patient, 403 ``care_relationship_required``
    (audited as denied) when the actor has no care relationship and no grant."""
    patient = uow.session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    user_id = uow.actor.user_id if uow.actor else None
    basis = care_access(uow.session, user_id, patient_id, today=uow.hospital.today())
    if basis is None:
        _audit_denied(uow, patient_id)
        raise _refusal(patient_id)
    # Keep the row referenced: the session's identity map holds it only weakly.
    return replace(basis, patient=patient)


def ensure_record_access(uow: UnitOfWork, patient_id: int, not_found: NotFoundError
                         ) -> AccessBasis:
    """For a record reached by its own id (``/encounters/{id}``, a FHIR read): without
    access the answer is the record's own 404, so an id tells nothing about whether it
    exists. The refusal is still audited."""
    try:
        return ensure_chart_access(uow, patient_id)
    except CareRelationshipRequiredError:
        raise not_found from None


CLINICIAN_ROLES = frozenset({"doctor", "nurse"})


def ensure_chart_write_access(uow: UnitOfWork, patient_id: int) -> AccessBasis:
    """Access for adding a new entry to a chart (note, vitals, allergy, problem, order,
    document, prescription, a dry-run safety check): exactly the access a read needs.

    Writing is never a way into a chart; a clinician without a relationship breaks the glass.
    """
    return ensure_chart_access(uow, patient_id)


def break_glass(uow: UnitOfWork, *, patient_id: int, reason: str,
                minutes: int = BREAK_GLASS_MINUTES) -> BreakGlassGrant:
    """Grant the acting user time-limited emergency access to one patient's chart."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise BreakGlassReasonError(
            f"Give a reason of at least {MIN_REASON_LENGTH} characters for emergency access.",
            extra={"errors": [{"field": "reason", "type": "too_short",
                               "message": "reason required"}]})
    assert uow.actor is not None and uow.actor.user_id is not None
    with uow:
        if uow.session.get(Patient, patient_id) is None:
            raise NotFoundError(f"No patient with id {patient_id}.")
        now = utcnow()
        grant = BreakGlassGrant(patient_id=patient_id, user_id=uow.actor.user_id, reason=reason,
                                granted_at=now, expires_at=now + timedelta(minutes=minutes),
                                workstation=uow.actor.workstation)
        uow.session.add(grant)
        uow.session.flush()
        uow.audit("break_glass", "break_glass.grant", patient_id=patient_id,
                  detail={"break_glass_grant_id": grant.id, "reason": reason,
                          "expires_at": grant.expires_at.isoformat()})
        uow.publish("break_glass.granted", {"grant_id": grant.id, "patient_id": patient_id})
        uow.commit()
        return grant


@dataclass(frozen=True)
class GrantView:
    grant: BreakGlassGrant
    username: str | None
    full_name: str | None
    reviewed_by_username: str | None
    access_count: int

    @property
    def active(self) -> bool:
        return self.grant.expires_at > utcnow()


def list_break_glass(uow: UnitOfWork, *, since: datetime | None, until: datetime | None,
                     user_id: int | None, patient_id: int | None, unreviewed: bool,
                     limit: int, offset: int) -> tuple[list[GrantView], int]:
    """Review queue, newest first; ``access_count`` counts the audited reads under the grant."""
    reviewer = aliased(User)
    with uow:
        conditions = []
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
        total = uow.session.scalar(select(func.count()).select_from(BreakGlassGrant)
                                   .where(where)) or 0
        accesses = (
            select(func.count()).select_from(AuditEntry)
            .where(AuditEntry.patient_id == BreakGlassGrant.patient_id,
                   AuditEntry.user_id == BreakGlassGrant.user_id,
                   AuditEntry.at >= BreakGlassGrant.granted_at,
                   AuditEntry.at <= BreakGlassGrant.expires_at,
                   AuditEntry.action == "read")
            .correlate(BreakGlassGrant).scalar_subquery())
        rows = uow.session.execute(
            select(BreakGlassGrant, User.username, User.full_name, reviewer.username, accesses)
            .join(User, User.id == BreakGlassGrant.user_id)
            .outerjoin(reviewer, reviewer.id == BreakGlassGrant.reviewed_by_user_id)
            .where(where)
            .order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
            .limit(limit).offset(offset)).all()
        uow.audit("break_glass", "break_glass.review_list",
                  detail={"returned": len(rows), "unreviewed_only": unreviewed})
        uow.commit()
        return [GrantView(g, u, f, r, int(c or 0)) for g, u, f, r, c in rows], total


def review_break_glass(uow: UnitOfWork, grant_id: int, *, note: str | None) -> GrantView:
    """Mark a grant as reviewed by the acting administrator."""
    assert uow.actor is not None
    with uow:
        grant = uow.session.get(BreakGlassGrant, grant_id, with_for_update=True)
        if grant is None:
            raise NotFoundError(f"No break-the-glass grant with id {grant_id}.")
        grant.reviewed_at = utcnow()
        grant.reviewed_by_user_id = uow.actor.user_id
        grant.review_note = note
        uow.audit("break_glass", "break_glass.review", patient_id=grant.patient_id,
                  detail={"break_glass_grant_id": grant.id})
        user = uow.session.get(User, grant.user_id)
        uow.commit()
        return GrantView(grant, user.username if user else None,
                         user.full_name if user else None, uow.actor.username, 0)


def list_care_team(uow: UnitOfWork, patient_id: int) -> list[tuple[CareTeamMember, User]]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.session.execute(
            select(CareTeamMember, User).join(User, User.id == CareTeamMember.user_id)
            .where(CareTeamMember.patient_id == patient_id)
            .order_by(CareTeamMember.added_at)).all()
        uow.audit("care_team", "read", patient_id=patient_id, detail=basis.audit_detail())
        uow.commit()
        return [(m, u) for m, u in rows]


def add_to_care_team(uow: UnitOfWork, *, patient_id: int, user_id: int, role: str,
                     reason: str) -> CareTeamMember:
    """A referral or handover: a clinician whose own relationship to the patient lasts (a
    care-team member, the patient's doctor by appointment or queue) adds a colleague, with a
    reason that is stored, audited and shown on the care team. Break-the-glass and the
    clinic of the day are not enough: they cannot be passed on."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise BreakGlassReasonError(
            f"Give the reason for the handover in at least {MIN_REASON_LENGTH} characters.",
            extra={"errors": [{"field": "reason", "type": "too_short",
                               "message": "reason required"}]})
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        if not basis.lasting:
            raise ForbiddenError(
                "Only a clinician with a lasting care relationship (care team, appointment, "
                "queue) can refer or hand this patient over.",
                extra={"reason": f"basis_{basis.via}"})
        colleague = uow.session.get(User, user_id)
        if colleague is None or not colleague.active:
            raise NotFoundError(f"No active user with id {user_id}.")
        if not CLINICIAN_ROLES & set(colleague.roles):
            raise ForbiddenError("Only doctors and nurses can join a care team.",
                                 extra={"reason": "not_a_clinician"})
        add_care_team_member(uow, patient_id=patient_id, user_id=user_id, role=role,
                             source="handover", reason=reason,
                             added_by_user_id=uow.actor.user_id if uow.actor else None)
        member = uow.session.get(CareTeamMember, (patient_id, user_id))
        assert member is not None
        uow.commit()
        return member


@dataclass(frozen=True)
class MyPatient:
    """A patient the acting user may see now, and why: ``relationship`` is ``clinic`` (the
    clinic they work today), ``queue`` (their own queue today) or ``care_team``."""

    patient: Patient
    relationship: str
    queue_entry_id: int | None = None
    token: int | None = None
    queue_status: str | None = None
    checked_in_at: datetime | None = None
    doctor_name: str | None = None


_MY_PATIENTS = text("""
    WITH today AS (
        SELECT DISTINCT ON (q.patient_id)
               q.patient_id, 0 AS tier, q.checked_in_at AS sort_at, q.id AS queue_entry_id,
               q.token, q.status AS queue_status, q.checked_in_at, d.display_name AS doctor_name,
               CASE WHEN d.user_id = :user_id THEN 'queue' ELSE 'clinic' END AS relationship
        FROM queue_entries q JOIN doctors d ON d.id = q.doctor_id
        WHERE q.queue_date = CAST(:today AS date) AND q.status <> 'left'
          AND (d.user_id = :user_id OR EXISTS (
                SELECT 1 FROM clinic_assignments c
                WHERE c.user_id = :user_id AND c.department_id = d.department_id
                  AND (c.on_date IS NULL OR c.on_date = CAST(:today AS date))))
        ORDER BY q.patient_id, q.checked_in_at DESC
    ), team AS (
        SELECT m.patient_id, 1 AS tier, m.added_at AS sort_at, NULL::bigint AS queue_entry_id,
               NULL::smallint AS token, NULL::text AS queue_status,
               NULL::timestamptz AS checked_in_at, NULL::text AS doctor_name,
               'care_team' AS relationship
        FROM care_team_members m
        WHERE m.user_id = :user_id AND m.source <> 'self_declared'
          AND m.patient_id NOT IN (SELECT patient_id FROM today)
    ), mine AS (SELECT * FROM today UNION ALL SELECT * FROM team)
    SELECT mine.*, count(*) OVER () AS total FROM mine
    ORDER BY tier, CASE WHEN tier = 0 THEN sort_at END ASC,
             CASE WHEN tier = 1 THEN sort_at END DESC, patient_id
    LIMIT :limit OFFSET :offset
""")


def my_patients(uow: UnitOfWork, *, limit: int, offset: int) -> tuple[list[MyPatient], int]:
    """Today's patients of the clinic the acting user works in (and of their own queue), in
    check-in order, then the patients whose care team includes them, most recent first.

    Audited with the ids of the patients returned (ONC 170.315(d)(2): every patient shown is
    attributable)."""
    assert uow.actor is not None
    with uow:
        rows = uow.session.execute(_MY_PATIENTS, {
            "user_id": uow.actor.user_id, "today": uow.hospital.today(),
            "limit": limit, "offset": offset}).all()
        total = int(rows[0].total) if rows else 0
        if not rows and offset:
            total = len(uow.session.execute(_MY_PATIENTS, {
                "user_id": uow.actor.user_id, "today": uow.hospital.today(),
                "limit": 1_000_000, "offset": 0}).all())
        patients = {p.id: p for p in uow.session.scalars(
            select(Patient).where(Patient.id.in_([r.patient_id for r in rows])))}
        found = [MyPatient(patients[r.patient_id], r.relationship, r.queue_entry_id, r.token,
                           r.queue_status, r.checked_in_at, r.doctor_name)
                 for r in rows if r.patient_id in patients]
        uow.audit("care_team", "my_patients.read",
                  detail=shown_patients(m.patient.id for m in found))
        uow.commit()
        return found, total
