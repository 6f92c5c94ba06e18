"""Roles, permissions and which desktop workspaces each role sees.

Permissions are declared on every route (see ``api.deps.Require``); a route with no
declared permission fails the authorization-matrix test rather than defaulting to allow.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    RECEPTIONIST = "receptionist"
    DOCTOR = "doctor"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    BILLING_CLERK = "billing_clerk"
    HR_OFFICER = "hr_officer"
    MANAGER = "manager"


class Perm(StrEnum):
    SELF = "self"  # any signed-in user: own profile, events, logout
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    PATIENTS_READ = "patients.read"  # demographics
    PATIENTS_WRITE = "patients.write"
    PATIENTS_MERGE = "patients.merge"
    CLINICAL_READ = "clinical.read"
    CLINICAL_WRITE = "clinical.write"
    PRESCRIBE = "prescriptions.write"
    FORMULARY_READ = "formulary.read"
    BREAK_GLASS_REVIEW = "break_glass.review"
    SCHEDULE_READ = "schedule.read"
    SCHEDULE_MANAGE = "schedule.manage"
    APPOINTMENTS_WRITE = "appointments.write"
    QUEUE_MANAGE = "queue.manage"
    MESSAGING_ADMIN = "messaging.admin"
    # first day (issue 12): the duplicates review list
    DUPLICATES_REVIEW = "patients.duplicates"


ROLES_REQUIRING_TOTP = frozenset({Role.ADMIN})

_ALL_STAFF = {Perm.SELF}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(_ALL_STAFF | {
        Perm.USERS_MANAGE, Perm.AUDIT_READ, Perm.PATIENTS_MERGE, Perm.BREAK_GLASS_REVIEW,
        Perm.PATIENTS_READ, Perm.SCHEDULE_READ, Perm.SCHEDULE_MANAGE, Perm.MESSAGING_ADMIN,
    }),
    Role.RECEPTIONIST: frozenset(_ALL_STAFF | {
        Perm.PATIENTS_READ, Perm.PATIENTS_WRITE, Perm.SCHEDULE_READ, Perm.APPOINTMENTS_WRITE,
        Perm.QUEUE_MANAGE,
    }),
    Role.DOCTOR: frozenset(_ALL_STAFF | {
        Perm.PATIENTS_READ, Perm.CLINICAL_READ, Perm.CLINICAL_WRITE, Perm.PRESCRIBE,
        Perm.FORMULARY_READ, Perm.SCHEDULE_READ, Perm.QUEUE_MANAGE,
    }),
    Role.NURSE: frozenset(_ALL_STAFF | {
        Perm.PATIENTS_READ, Perm.CLINICAL_READ, Perm.CLINICAL_WRITE, Perm.FORMULARY_READ,
        Perm.SCHEDULE_READ,
    }),
    Role.PHARMACIST: frozenset(_ALL_STAFF | {Perm.PATIENTS_READ, Perm.FORMULARY_READ}),
    Role.BILLING_CLERK: frozenset(_ALL_STAFF | {Perm.PATIENTS_READ}),
    Role.HR_OFFICER: frozenset(_ALL_STAFF),
    Role.MANAGER: frozenset(_ALL_STAFF | {Perm.SCHEDULE_READ, Perm.SCHEDULE_MANAGE}),
}

WORKSPACE_ORDER = (
    "reception", "clinical", "ward", "pharmacy", "billing", "staff", "reports", "administration",
)

# first day (issue 12): reception works the duplicates review list and merges records (each
# merge is recorded with its reason and waits for confirmation); administrators may too.
ROLE_PERMISSIONS[Role.RECEPTIONIST] |= {Perm.DUPLICATES_REVIEW, Perm.PATIENTS_MERGE}
ROLE_PERMISSIONS[Role.ADMIN] |= {Perm.DUPLICATES_REVIEW}

ROLE_WORKSPACES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"administration", "reports"}),
    Role.RECEPTIONIST: frozenset({"reception"}),
    Role.DOCTOR: frozenset({"clinical", "ward"}),
    Role.NURSE: frozenset({"ward", "clinical"}),
    Role.PHARMACIST: frozenset({"pharmacy"}),
    Role.BILLING_CLERK: frozenset({"billing"}),
    Role.HR_OFFICER: frozenset({"staff"}),
    Role.MANAGER: frozenset({"reports", "staff"}),
}


def permissions_for(roles: list[str] | tuple[str, ...]) -> frozenset[Perm]:
    """Union of the permissions of the given role names; unknown names grant nothing."""
    perms: set[Perm] = set()
    for name in roles:
        if name in Role.__members__.values():
            perms |= ROLE_PERMISSIONS[Role(name)]
    return frozenset(perms)


def workspaces_for(roles: list[str] | tuple[str, ...]) -> list[str]:
    """Desktop workspaces for these roles, in rail order."""
    allowed: set[str] = set()
    for name in roles:
        if name in Role.__members__.values():
            allowed |= ROLE_WORKSPACES[Role(name)]
    return [w for w in WORKSPACE_ORDER if w in allowed]


def requires_totp(roles: list[str] | tuple[str, ...]) -> bool:
    return any(r in ROLES_REQUIRING_TOTP for r in roles)
