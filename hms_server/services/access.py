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

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import BreakGlassGrant, CareTeamMember
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.repositories.access import AccessRepository
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import BreakGlassReasonError, CareRelationshipRequiredError
from hms_server.domain.errors import NotFoundError

BREAK_GLASS_MINUTES = 60
MIN_REASON_LENGTH = 10

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
    added = uow.repo(AccessRepository).add_care_team_member(
        patient_id=patient_id, user_id=user_id, role=role, source=source,
        added_by_user_id=added_by_user_id)
    if added:
        uow.audit("care_team", "care_team.add", patient_id=patient_id,
                  detail={"member_user_id": user_id, "source": source, "role": role})
    return added


def care_access(uow: UnitOfWork, user_id: int | None, patient_id: int) -> AccessBasis | None:
    """The basis on which ``user_id`` may see ``patient_id``'s chart, or None."""
    if user_id is None:
        return None
    access = uow.repo(AccessRepository)
    if access.is_care_team_member(user_id, patient_id):
        return AccessBasis(patient_id, "care_team")
    if access.has_appointment_with(user_id, patient_id):
        return AccessBasis(patient_id, "appointment")
    grant = access.active_grant_id(user_id, patient_id)
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
    patient = uow.repo(PatientRepository).get(patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    user_id = uow.actor.user_id if uow.actor else None
    basis = care_access(uow, user_id, patient_id)
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
    patient = uow.repo(PatientRepository).get(patient_id)
    if patient is None:
        raise NotFoundError(f"No patient with id {patient_id}.")
    actor = uow.actor
    if (actor is not None and actor.user_id is not None
            and care_access(uow, actor.user_id, patient_id) is None
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
        if uow.repo(PatientRepository).get(patient_id) is None:
            raise NotFoundError(f"No patient with id {patient_id}.")
        now = utcnow()
        grant = BreakGlassGrant(patient_id=patient_id, user_id=uow.actor.user_id, reason=reason,
                                granted_at=now, expires_at=now + timedelta(minutes=minutes),
                                workstation=uow.actor.workstation)
        uow.repo(AccessRepository).add(grant)
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
    # first day (issue 12): whom the emergency access was about, for the review screen.
    patient_mrn: str | None = None
    patient_name: str | None = None

    @property
    def active(self) -> bool:
        return self.grant.expires_at > utcnow()


def list_break_glass(uow: UnitOfWork, *, since: datetime | None, until: datetime | None,
                     user_id: int | None, patient_id: int | None, unreviewed: bool,
                     limit: int, offset: int) -> tuple[list[GrantView], int]:
    """Review queue, newest first; ``access_count`` counts the audited reads under the grant."""
    with uow:
        rows, total = uow.repo(AccessRepository).grants(
            since=since, until=until, user_id=user_id, patient_id=patient_id,
            unreviewed=unreviewed, limit=limit, offset=offset)
        who = uow.repo(PatientRepository).identities([g.patient_id for g, *_rest in rows])
        uow.audit("break_glass", "break_glass.review_list",
                  detail={"returned": len(rows), "unreviewed_only": unreviewed})
        uow.commit()
        views = []
        for g, u, f, r, c in rows:
            mrn, given, family = who.get(g.patient_id, (None, None, None))
            views.append(GrantView(g, u, f, r, c, mrn, f"{family}, {given}" if family else None))
        return views, total


def review_break_glass(uow: UnitOfWork, grant_id: int, *, note: str | None) -> GrantView:
    """Mark a grant as reviewed by the acting administrator."""
    assert uow.actor is not None
    with uow:
        grant = uow.repo(AccessRepository).grant(grant_id, lock=True)
        if grant is None:
            raise NotFoundError(f"No break-the-glass grant with id {grant_id}.")
        grant.reviewed_at = utcnow()
        grant.reviewed_by_user_id = uow.actor.user_id
        grant.review_note = note
        uow.audit("break_glass", "break_glass.review", patient_id=grant.patient_id,
                  detail={"break_glass_grant_id": grant.id})
        user = uow.repo(UserRepository).get(grant.user_id)
        uow.commit()
        return GrantView(grant, user.username if user else None,
                         user.full_name if user else None, uow.actor.username, 0)


def list_care_team(uow: UnitOfWork, patient_id: int) -> list[tuple[CareTeamMember, User]]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(AccessRepository).care_team(patient_id)
        uow.audit("care_team", "read", patient_id=patient_id, detail=basis.audit_detail())
        uow.commit()
        return rows


def add_to_care_team(uow: UnitOfWork, *, patient_id: int, user_id: int,
                     role: str) -> CareTeamMember:
    """A clinician already caring for the patient adds a colleague (e.g. the ward nurse)."""
    with uow:
        ensure_chart_access(uow, patient_id)
        if uow.repo(UserRepository).get(user_id) is None:
            raise NotFoundError(f"No user with id {user_id}.")
        add_care_team_member(uow, patient_id=patient_id, user_id=user_id, role=role,
                             source="manual",
                             added_by_user_id=uow.actor.user_id if uow.actor else None)
        member = uow.repo(AccessRepository).care_team_member(patient_id, user_id)
        assert member is not None
        uow.commit()
        return member


def my_patients(uow: UnitOfWork, *, limit: int, offset: int) -> tuple[list[Patient], int]:
    """Patients whose care team includes the acting user, most recently added first."""
    assert uow.actor is not None
    with uow:
        assert uow.actor.user_id is not None
        patients, total = uow.repo(AccessRepository).patients_of(uow.actor.user_id,
                                                                 limit=limit, offset=offset)
        uow.commit()
        return patients, total
