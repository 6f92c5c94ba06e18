"""Who may read a patient's chart: care team membership, an appointment, or break-the-glass.

Holding ``clinical.read`` only says a role may see clinical data at all; each request for a
particular patient also needs a care relationship (a care-team row, written when an
encounter is opened, or an appointment with the user as the doctor) or an unexpired
break-the-glass grant. Every chart read is audited with its data category and, under
break-the-glass, the grant it relied on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import BreakGlassGrant, CareTeamMember
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import BreakGlassReasonError, CareRelationshipRequiredError
from hms_server.domain.errors import NotFoundError

BREAK_GLASS_MINUTES = 60
MIN_REASON_LENGTH = 10

# An appointment gives the doctor access from this long before it until it is over.
_APPOINTMENT_ACCESS = text("""
    SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id
    WHERE a.patient_id = :patient_id AND d.user_id = :user_id
      AND a.starts_at >= date_trunc('day', now()) - interval '1 day'
      AND coalesce(a.status, '') NOT IN ('cancelled', 'no_show')
    LIMIT 1
""")


@dataclass(frozen=True)
class AccessBasis:
    """Why a read was allowed; stamped on the audit entry."""

    patient_id: int
    via: str  # "care_team" | "appointment" | "break_glass"
    grant_id: int | None = None
    patient: Patient | None = field(default=None, compare=False, repr=False)

    def audit_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"access": self.via}
        if self.grant_id is not None:
            detail["break_glass_grant_id"] = self.grant_id
        return detail


def add_care_team_member(uow: UnitOfWork, *, patient_id: int, user_id: int,
                         role: str = "clinician", source: str = "encounter",
                         added_by_user_id: int | None = None) -> bool:
    """Add a clinician to the care team (no-op if already there). True if newly added."""
    added = uow.session.execute(
        insert(CareTeamMember)
        .values(patient_id=patient_id, user_id=user_id, role=role, source=source,
                added_at=utcnow(), added_by_user_id=added_by_user_id)
        .on_conflict_do_nothing()
        .returning(CareTeamMember.user_id)
    ).first()
    if added is not None:
        uow.audit("care_team", "care_team.add", patient_id=patient_id,
                  detail={"member_user_id": user_id, "source": source, "role": role})
    return added is not None


def _has_table(session: Session, name: str) -> bool:
    return bool(session.scalar(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}))


def _appointment_access(session: Session, user_id: int, patient_id: int) -> bool:
    if not (_has_table(session, "appointments") and _has_table(session, "doctors")):
        return False
    # A savepoint, so a schema mismatch in another area's table cannot poison this request.
    try:
        with session.begin_nested():
            return session.execute(_APPOINTMENT_ACCESS,
                                   {"patient_id": patient_id, "user_id": user_id}).first() \
                is not None
    except Exception:  # the optional path must never break chart access
        return False


def active_grant_id(session: Session, user_id: int, patient_id: int) -> int | None:
    return session.scalar(
        select(BreakGlassGrant.id).where(
            BreakGlassGrant.user_id == user_id, BreakGlassGrant.patient_id == patient_id,
            BreakGlassGrant.expires_at > func.now())
        .order_by(BreakGlassGrant.expires_at.desc()).limit(1))


def care_access(session: Session, user_id: int | None, patient_id: int) -> AccessBasis | None:
    """The basis on which ``user_id`` may see ``patient_id``'s chart, or None."""
    if user_id is None:
        return None
    member = session.scalar(select(CareTeamMember.user_id).where(
        CareTeamMember.patient_id == patient_id, CareTeamMember.user_id == user_id))
    if member is not None:
        return AccessBasis(patient_id, "care_team")
    if _appointment_access(session, user_id, patient_id):
        return AccessBasis(patient_id, "appointment")
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


def ensure_chart_access(uow: UnitOfWork, patient_id: int) -> AccessBasis:
    """Inside ``with uow``: 404 for an unknown patient, 403 ``care_relationship_required``
    (audited as denied) when the actor has no care relationship and no grant."""
    patient = uow.session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    user_id = uow.actor.user_id if uow.actor else None
    basis = care_access(uow.session, user_id, patient_id)
    if basis is None:
        _audit_denied(uow, patient_id)
        raise CareRelationshipRequiredError(
            "You are not part of this patient's care team. In an emergency, break the glass "
            "with a reason to get time-limited access.",
            extra={"patient_id": patient_id,
                   "break_glass": f"/api/v1/patients/{patient_id}/break-glass"})
    # Keep the row referenced: the session's identity map holds it only weakly.
    return replace(basis, patient=patient)


CLINICIAN_ROLES = frozenset({"doctor", "nurse"})


def ensure_chart_write_access(uow: UnitOfWork, patient_id: int) -> AccessBasis:
    """Access for adding a NEW entry to a chart (note, vitals, allergy, problem, order,
    document, prescription).

    Writing in a chart is itself a declaration of care, as opening an encounter is: a doctor
    or nurse without a relationship joins the care team ("self_declared"), which is audited
    and listed on the care team for review. Reading what others wrote still needs a care
    relationship or break-the-glass, so a self-declaration is visible, never silent.
    """
    patient = uow.session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    actor = uow.actor
    if (actor is not None and actor.user_id is not None
            and care_access(uow.session, actor.user_id, patient_id) is None
            and CLINICIAN_ROLES & set(actor.roles)):
        add_care_team_member(uow, patient_id=patient_id, user_id=actor.user_id,
                             source="self_declared", added_by_user_id=actor.user_id)
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


def add_to_care_team(uow: UnitOfWork, *, patient_id: int, user_id: int,
                     role: str) -> CareTeamMember:
    """A clinician already caring for the patient adds a colleague (e.g. the ward nurse)."""
    with uow:
        ensure_chart_access(uow, patient_id)
        if uow.session.get(User, user_id) is None:
            raise NotFoundError(f"No user with id {user_id}.")
        add_care_team_member(uow, patient_id=patient_id, user_id=user_id, role=role,
                             source="manual",
                             added_by_user_id=uow.actor.user_id if uow.actor else None)
        member = uow.session.get(CareTeamMember, (patient_id, user_id))
        assert member is not None
        uow.commit()
        return member


def my_patients(uow: UnitOfWork, *, limit: int, offset: int) -> tuple[list[Patient], int]:
    """Patients whose care team includes the acting user, most recently added first."""
    assert uow.actor is not None
    with uow:
        base = select(CareTeamMember.patient_id, CareTeamMember.added_at).where(
            CareTeamMember.user_id == uow.actor.user_id)
        total = uow.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        patients = list(uow.session.scalars(
            select(Patient).join(CareTeamMember, CareTeamMember.patient_id == Patient.id)
            .where(CareTeamMember.user_id == uow.actor.user_id)
            .order_by(CareTeamMember.added_at.desc(), Patient.id).limit(limit).offset(offset)))
        uow.commit()
        return patients, total
