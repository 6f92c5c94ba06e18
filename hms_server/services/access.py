"""Who may read a patient's chart: a care relationship from the hospital's own facts, or
break-the-glass.

Holding ``clinical.read`` only says a role may see clinical data at all; each request for a
particular patient also needs one of the bases listed in ``CARE_BASES`` (the one place where
they are listed) or an unexpired break-the-glass grant. A write needs exactly the access a
read needs: writing in a chart, a dry-run check or opening an encounter is never a way in.
Every chart read is audited with the basis it relied on (and the grant, under break-the-glass).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import BreakGlassGrant, CareTeamMember
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.queries.ward_access import ward_care_admission
from hms_server.adapters.repositories.access import AccessRepository
from hms_server.adapters.repositories.identity import UserRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import BreakGlassReasonError, CareRelationshipRequiredError
from hms_server.domain.errors import ForbiddenError, NotFoundError
from hms_server.domain.shown import shown_patients

BREAK_GLASS_MINUTES = 60
MIN_REASON_LENGTH = 10


@dataclass(frozen=True)
class CareBasis:
    """One kind of care relationship: ``holds(access, user_id, patient_id, today)`` is true
    when the user may see the patient's chart on that ground (``today`` is the hospital's
    calendar day). ``lasting`` bases may turn into care-team membership when the clinician
    opens an encounter; a time-limited basis (the clinic of the day) may not."""

    name: str
    holds: Callable[[AccessRepository, int, int, date], bool]
    lasting: bool = True


CARE_BASES: tuple[CareBasis, ...] = (
    # A member of the care team (joined by an encounter or a handover; rows a chart write
    # added before issue 8, "self_declared", do not count).
    CareBasis(
        "care_team", lambda access, user, patient, _day: access.is_care_team_member(user, patient)
    ),
    # The doctor of the patient's current or upcoming appointment.
    CareBasis(
        "appointment",
        lambda access, user, patient, _day: access.has_appointment_with(user, patient),
    ),
    # The doctor of the patient's queue entry today or yesterday (walk-ins too).
    CareBasis(
        "queue",
        lambda access, user, patient, day: access.in_queue_of(
            user, patient, since=day - timedelta(days=1)
        ),
    ),
    # The clinic the user works today: its patients checked in today (issue 12's nurse).
    CareBasis(
        "clinic",
        lambda access, user, patient, day: access.checked_in_at_clinic_of(user, patient, day),
        lasting=False,
    ),
    # An open admission to a ward the nurse is assigned to, or of which the doctor is the
    # attending (it ends with the admission, so it never becomes care-team membership).
    CareBasis(
        "ward",
        lambda access, user, patient, _day: (
            ward_care_admission(access.session, user, patient) is not None
        ),
        lasting=False,
    ),
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


def add_care_team_member(
    uow: UnitOfWork,
    *,
    patient_id: int,
    user_id: int,
    role: str = "clinician",
    source: str = "encounter",
    added_by_user_id: int | None = None,
    reason: str | None = None,
) -> bool:
    """Add a clinician to the care team (no-op if already there). True if newly added.

    Only for facts: an encounter opened on a lasting basis, a handover by a member, seeding.
    """
    added = uow.repo(AccessRepository).add_care_team_member(
        patient_id=patient_id,
        user_id=user_id,
        role=role,
        source=source,
        added_by_user_id=added_by_user_id,
        reason=reason,
    )
    if added:
        detail: dict[str, Any] = {"member_user_id": user_id, "source": source, "role": role}
        if reason:
            detail["reason"] = reason
        uow.audit("care_team", "care_team.add", patient_id=patient_id, detail=detail)
    return added


def care_access(uow: UnitOfWork, user_id: int | None, patient_id: int) -> AccessBasis | None:
    """The basis on which ``user_id`` may see ``patient_id``'s chart, or None.

    A basis found earlier in the same request (the route's permission check looks first) is
    taken from ``uow.request_memo`` rather than asked of the database a second time; a
    refusal is never remembered.
    """
    if user_id is None:
        return None
    memo_key = ("care_access", user_id, patient_id)
    known = uow.request_memo.get(memo_key)
    if isinstance(known, AccessBasis):
        return known
    found = _care_access(uow, user_id, patient_id)
    if found is not None:
        uow.request_memo[memo_key] = found
    return found


def _care_access(uow: UnitOfWork, user_id: int, patient_id: int) -> AccessBasis | None:
    access = uow.repo(AccessRepository)
    today = uow.hospital.today()
    for basis in CARE_BASES:
        if basis.holds(access, user_id, patient_id, today):
            return AccessBasis(patient_id, basis.name)
    grant = access.active_grant_id(user_id, patient_id)
    if grant is not None:
        return AccessBasis(patient_id, "break_glass", grant)
    return None


def _audit_denied(uow: UnitOfWork, patient_id: int) -> None:
    """Record the refusal in its own transaction: the request's own one is rolled back."""
    denied = uow.child()
    with denied:
        denied.audit(
            "access_control",
            "chart.denied",
            outcome="denied",
            patient_id=patient_id,
            detail={"reason": "care_relationship_required"},
        )
        denied.commit()


def _refusal(patient_id: int) -> CareRelationshipRequiredError:
    return CareRelationshipRequiredError(
        "You are not part of this patient's care team. In an emergency, break the glass "
        "with a reason to get time-limited access.",
        extra={
            "patient_id": patient_id,
            "break_glass": f"/api/v1/patients/{patient_id}/break-glass",
        },
    )


def check_patient_scope(uow: UnitOfWork, patient_id: int) -> None:
    """Inside ``with uow``, before anything else on a route with a patient in its path:
    403 ``care_relationship_required`` (audited) unless the actor has a basis — the same
    answer whether the patient, or the record asked for, exists or not."""
    user_id = uow.actor.user_id if uow.actor else None
    if care_access(uow, user_id, patient_id) is None:
        _audit_denied(uow, patient_id)
        raise _refusal(patient_id)


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
        raise _refusal(patient_id)
    # Keep the row referenced: the session's identity map holds it only weakly.
    return replace(basis, patient=patient)


def ensure_record_access(uow: UnitOfWork, patient_id: int, not_found: NotFoundError) -> AccessBasis:
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


def break_glass(
    uow: UnitOfWork, *, patient_id: int, reason: str, minutes: int = BREAK_GLASS_MINUTES
) -> BreakGlassGrant:
    """Grant the acting user time-limited emergency access to one patient's chart."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise BreakGlassReasonError(
            f"Give a reason of at least {MIN_REASON_LENGTH} characters for emergency access.",
            extra={
                "errors": [{"field": "reason", "type": "too_short", "message": "reason required"}]
            },
        )
    assert uow.actor is not None and uow.actor.user_id is not None
    with uow:
        if uow.repo(PatientRepository).get(patient_id) is None:
            raise NotFoundError(f"No patient with id {patient_id}.")
        now = utcnow()
        grant = BreakGlassGrant(
            patient_id=patient_id,
            user_id=uow.actor.user_id,
            reason=reason,
            granted_at=now,
            expires_at=now + timedelta(minutes=minutes),
            workstation=uow.actor.workstation,
        )
        uow.repo(AccessRepository).add(grant)
        uow.audit(
            "break_glass",
            "break_glass.grant",
            patient_id=patient_id,
            detail={
                "break_glass_grant_id": grant.id,
                "reason": reason,
                "expires_at": grant.expires_at.isoformat(),
            },
        )
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


def list_break_glass(
    uow: UnitOfWork,
    *,
    since: datetime | None,
    until: datetime | None,
    user_id: int | None,
    patient_id: int | None,
    unreviewed: bool,
    limit: int,
    offset: int,
) -> tuple[list[GrantView], int]:
    """Review queue, newest first; ``access_count`` counts the audited reads under the grant."""
    with uow:
        rows, total = uow.repo(AccessRepository).grants(
            since=since,
            until=until,
            user_id=user_id,
            patient_id=patient_id,
            unreviewed=unreviewed,
            limit=limit,
            offset=offset,
        )
        who = uow.repo(PatientRepository).identities([g.patient_id for g, *_rest in rows])
        uow.audit(
            "break_glass",
            "break_glass.review_list",
            detail={"returned": len(rows), "unreviewed_only": unreviewed},
        )
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
        uow.audit(
            "break_glass",
            "break_glass.review",
            patient_id=grant.patient_id,
            detail={"break_glass_grant_id": grant.id},
        )
        user = uow.repo(UserRepository).get(grant.user_id)
        uow.commit()
        return GrantView(
            grant,
            user.username if user else None,
            user.full_name if user else None,
            uow.actor.username,
            0,
        )


def list_care_team(uow: UnitOfWork, patient_id: int) -> list[tuple[CareTeamMember, User]]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(AccessRepository).care_team(patient_id)
        uow.audit("care_team", "read", patient_id=patient_id, detail=basis.audit_detail())
        uow.commit()
        return rows


def add_to_care_team(
    uow: UnitOfWork, *, patient_id: int, user_id: int, role: str, reason: str
) -> CareTeamMember:
    """A referral or handover: a clinician whose own relationship to the patient lasts (a
    care-team member, the patient's doctor by appointment or queue) adds a colleague, with a
    reason that is stored, audited and shown on the care team. Break-the-glass and the
    clinic of the day are not enough: they cannot be passed on."""
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise BreakGlassReasonError(
            f"Give the reason for the handover in at least {MIN_REASON_LENGTH} characters.",
            extra={
                "errors": [{"field": "reason", "type": "too_short", "message": "reason required"}]
            },
        )
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        if not basis.lasting:
            raise ForbiddenError(
                "Only a clinician with a lasting care relationship (care team, appointment, "
                "queue) can refer or hand this patient over.",
                extra={"reason": f"basis_{basis.via}"},
            )
        colleague = uow.repo(UserRepository).get(user_id)
        if colleague is None or not colleague.active:
            raise NotFoundError(f"No active user with id {user_id}.")
        if not CLINICIAN_ROLES & set(colleague.roles):
            raise ForbiddenError(
                "Only doctors and nurses can join a care team.", extra={"reason": "not_a_clinician"}
            )
        add_care_team_member(
            uow,
            patient_id=patient_id,
            user_id=user_id,
            role=role,
            source="handover",
            reason=reason,
            added_by_user_id=uow.actor.user_id if uow.actor else None,
        )
        member = uow.repo(AccessRepository).care_team_member(patient_id, user_id)
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
    department_id: int | None = None


def my_patients(uow: UnitOfWork, *, limit: int, offset: int) -> tuple[list[MyPatient], int]:
    """Today's patients of the clinic the acting user works in (and of their own queue), in
    check-in order, then the patients whose care team includes them, most recent first.

    Audited with the ids of the patients returned (ONC 170.315(d)(2): every patient shown is
    attributable)."""
    assert uow.actor is not None and uow.actor.user_id is not None
    with uow:
        rows, total = uow.repo(AccessRepository).my_patients(
            uow.actor.user_id, today=uow.hospital.today(), limit=limit, offset=offset
        )
        found = [MyPatient(*row) for row in rows]
        uow.audit(
            "care_team", "my_patients.read", detail=shown_patients(m.patient.id for m in found)
        )
        uow.commit()
        return found, total
