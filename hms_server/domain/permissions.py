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
    # --- pharmacy and inventory (issue 10) ---
    STOCK_READ = "stock.read"  # catalogue, locations, ward-store stock, barcode look-up
    STOCK_READ_ALL = "stock.read_all"  # every location's stock, ledger, alerts, reports
    INVENTORY_MANAGE = "inventory.manage"  # catalogue, receipts, transfers, counts, recall
    STOCK_ADJUST = "stock.adjust"  # adjustments, write-offs, count approval
    PURCHASING = "purchasing.manage"  # suppliers, reorder suggestions, purchase orders
    PURCHASE_APPROVE = "purchasing.approve"
    DISPENSE = "pharmacy.dispense"  # queue, verification, dispensing, returns, labels
    WARD_STOCK_REQUEST = "ward_stock.request"  # requisitions from a ward, receiving them
    EQUIPMENT_READ = "equipment.read"
    EQUIPMENT_USE = "equipment.use"  # usage log, fault report (out of service)
    EQUIPMENT_MANAGE = "equipment.manage"  # register, maintenance, service history
    # --- security (issue 8) ---
    CLINIC_ASSIGN = "clinic_assignments.manage"  # which clinic a nurse works (chart access)
    SECURITY_ALERTS = "security_alerts.read"  # accounts under attack
    # --- wards and inpatient care (issue 11) ---
    WARDS_READ = "wards.read"  # bed board, ward list, admission status (no clinical detail)
    WARDS_ADMIN = "wards.admin"  # wards, rooms, beds, nurse ward assignments
    ADMISSIONS_WRITE = "admissions.write"  # admit, cancel an admission made in error
    BEDS_MANAGE = "beds.manage"  # transfer, mark clean, block/unblock
    DISCHARGE = "admissions.discharge"  # discharge with a signed summary
    MAR_ADMINISTER = "mar.administer"  # record doses after the barcode check
    DEVICES_REVIEW = "devices.review"  # review unmatched bedside-device messages
    # --- billing (issue 9) ---
    PRICE_LIST_READ = "price_list.read"
    PRICE_LIST_MANAGE = "price_list.manage"
    BILLING_READ = "billing.read"  # patient accounts, charges, invoices, payments, claims
    BILLING_WRITE = "billing.write"  # charges, draft invoices, discounts, finalise, credit
    PAYMENTS_TAKE = "payments.take"  # payments, deposits, refunds, card intents, cash-up
    BILLING_APPROVE = "billing.approve"  # a second user's approval of discounts/refunds/write-offs
    INSURANCE_MANAGE = "insurance.manage"  # payers, plans, policies, eligibility, claims
    # --- first day (issue 12) ---
    DUPLICATES_REVIEW = "patients.duplicates"  # the duplicates review list
    # --- reports ---
    REPORTS_READ = "reports.read"  # management reports (aggregates only) and their CSVs
    # --- staff and HR ---
    STAFF_READ = "staff.read"  # the staff directory
    STAFF_MANAGE = "staff.manage"  # create and edit staff records
    STAFF_SALARY = "staff.salary"  # see salaries (answers carry null without it)
    ROSTER_READ = "roster.read"  # the duty roster, who is on duty now
    ROSTER_MANAGE = "roster.manage"  # add and remove shifts
    LEAVE_DECIDE = "leave.decide"  # the leave list; approve or decline (never one's own)
    PAYROLL_READ = "payroll.read"  # pay runs and payslips of everyone
    PAYROLL_MANAGE = "payroll.manage"  # rates, running and finalising pay runs
    REVIEWS_WRITE = "reviews.write"  # performance reviews of others


# Billing (issue 9): the clerk keeps accounts and takes money; the manager reads accounts and
# approves what needs a second user; admin maintains the price list with the clerk.
# Clinical roles never take payments.
_BILLING_CLERK = {
    Perm.PRICE_LIST_READ,
    Perm.PRICE_LIST_MANAGE,
    Perm.BILLING_READ,
    Perm.BILLING_WRITE,
    Perm.PAYMENTS_TAKE,
    Perm.INSURANCE_MANAGE,
}
_BILLING_MANAGER = {Perm.PRICE_LIST_READ, Perm.BILLING_READ, Perm.BILLING_APPROVE}
_BILLING_ADMIN = {Perm.PRICE_LIST_READ, Perm.PRICE_LIST_MANAGE}

ROLES_REQUIRING_TOTP = frozenset({Role.ADMIN})

# --- security (issue 8) ---
# Why a patient comes (an appointment's or waitlist entry's reason and notes) is for those who
# book or treat them; a manager (or an admin) sees schedules and counts, not reasons.
APPOINTMENT_REASON_READERS = frozenset({Perm.APPOINTMENTS_WRITE, Perm.CLINICAL_READ})

_ALL_STAFF = {Perm.SELF}
# --- pharmacy and inventory (issue 10) ---
# Ward staff see ward-store stock and equipment and log equipment use; the pharmacist runs
# the pharmacy and the stores; a manager reads stock and reports and approves purchases.
_WARD_INVENTORY = {Perm.STOCK_READ, Perm.EQUIPMENT_READ, Perm.EQUIPMENT_USE}
_PHARMACY = {
    Perm.STOCK_READ,
    Perm.STOCK_READ_ALL,
    Perm.INVENTORY_MANAGE,
    Perm.STOCK_ADJUST,
    Perm.PURCHASING,
    Perm.PURCHASE_APPROVE,
    Perm.DISPENSE,
    Perm.EQUIPMENT_READ,
    Perm.EQUIPMENT_USE,
    Perm.EQUIPMENT_MANAGE,
}
_INVENTORY_OVERSIGHT = {
    Perm.STOCK_READ,
    Perm.STOCK_READ_ALL,
    Perm.PURCHASE_APPROVE,
    Perm.EQUIPMENT_READ,
    Perm.EQUIPMENT_MANAGE,
}

# Wards and inpatient care: reception admits but sees no clinical detail; doctors admit,
# order and discharge; nurses move patients between beds, record doses and review device
# messages; billing clerks see bed-days only through billing (no ward permission).
_WARD_PERMISSIONS: dict[Role, set[Perm]] = {
    Role.ADMIN: {Perm.WARDS_READ, Perm.WARDS_ADMIN},
    Role.RECEPTIONIST: {Perm.WARDS_READ, Perm.ADMISSIONS_WRITE},
    Role.DOCTOR: {
        Perm.WARDS_READ,
        Perm.ADMISSIONS_WRITE,
        Perm.BEDS_MANAGE,
        Perm.DISCHARGE,
        Perm.DEVICES_REVIEW,
    },
    Role.NURSE: {Perm.WARDS_READ, Perm.BEDS_MANAGE, Perm.MAR_ADMINISTER, Perm.DEVICES_REVIEW},
    Role.MANAGER: {Perm.WARDS_READ, Perm.WARDS_ADMIN},
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(
        _ALL_STAFF
        | {
            Perm.USERS_MANAGE,
            Perm.AUDIT_READ,
            Perm.PATIENTS_MERGE,
            Perm.BREAK_GLASS_REVIEW,
            Perm.PATIENTS_READ,
            Perm.SCHEDULE_READ,
            Perm.SCHEDULE_MANAGE,
            Perm.MESSAGING_ADMIN,
            Perm.CLINIC_ASSIGN,
            Perm.SECURITY_ALERTS,  # security (issue 8)
        }
        | _BILLING_ADMIN
    ),
    Role.RECEPTIONIST: frozenset(
        _ALL_STAFF
        | {
            Perm.PATIENTS_READ,
            Perm.PATIENTS_WRITE,
            Perm.SCHEDULE_READ,
            Perm.APPOINTMENTS_WRITE,
            Perm.QUEUE_MANAGE,
        }
    ),
    Role.DOCTOR: frozenset(
        _ALL_STAFF
        | {
            Perm.PATIENTS_READ,
            Perm.CLINICAL_READ,
            Perm.CLINICAL_WRITE,
            Perm.PRESCRIBE,
            Perm.FORMULARY_READ,
            Perm.SCHEDULE_READ,
            Perm.QUEUE_MANAGE,
        }
        | _WARD_INVENTORY
    ),
    Role.NURSE: frozenset(
        _ALL_STAFF
        | {
            Perm.PATIENTS_READ,
            Perm.CLINICAL_READ,
            Perm.CLINICAL_WRITE,
            Perm.FORMULARY_READ,
            Perm.SCHEDULE_READ,
            Perm.WARD_STOCK_REQUEST,
        }
        | _WARD_INVENTORY
    ),
    Role.PHARMACIST: frozenset(_ALL_STAFF | {Perm.PATIENTS_READ, Perm.FORMULARY_READ} | _PHARMACY),
    Role.BILLING_CLERK: frozenset(_ALL_STAFF | {Perm.PATIENTS_READ} | _BILLING_CLERK),
    Role.HR_OFFICER: frozenset(_ALL_STAFF),
    Role.MANAGER: frozenset(
        _ALL_STAFF
        | {Perm.SCHEDULE_READ, Perm.SCHEDULE_MANAGE}
        | _INVENTORY_OVERSIGHT
        | _BILLING_MANAGER
    ),
}

WORKSPACE_ORDER: tuple[str, ...] = (
    "reception",
    "clinical",
    "ward",
    "pharmacy",
    "billing",
    "staff",
    "reports",
    "administration",
)

# first day (issue 12): reception works the duplicates review list and merges records (each
# merge is recorded with its reason and waits for confirmation); administrators may too.
ROLE_PERMISSIONS[Role.RECEPTIONIST] |= {Perm.DUPLICATES_REVIEW, Perm.PATIENTS_MERGE}
ROLE_PERMISSIONS[Role.ADMIN] |= {Perm.DUPLICATES_REVIEW}

# --- reports ---
# Managers run the hospital from the reports; administrators see them too (both have the
# reports workspace). Reports are aggregates: no patient identity is in them.
ROLE_PERMISSIONS[Role.MANAGER] |= {Perm.REPORTS_READ}
ROLE_PERMISSIONS[Role.ADMIN] |= {Perm.REPORTS_READ}

ROLE_WORKSPACES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({"administration", "reports"}),
    Role.RECEPTIONIST: frozenset({"reception"}),
    Role.DOCTOR: frozenset({"clinical", "ward"}),
    Role.NURSE: frozenset({"ward", "clinical"}),
    Role.PHARMACIST: frozenset({"pharmacy"}),
    Role.BILLING_CLERK: frozenset({"billing"}),
    Role.HR_OFFICER: frozenset({"staff"}),
    Role.MANAGER: frozenset({"reports", "staff", "billing"}),  # billing: read + approve
}

# --- staff and HR ---
# HR keeps records and pays people; a manager reads records and salaries, plans rosters,
# decides leave and reviews staff; clinicians read the roster. Everyone reaches their own
# record, shifts, leave, payslips and finalised reviews through Perm.SELF routes (/me/...).
_HR_MANAGER_COMMON = {
    Perm.STAFF_READ,
    Perm.STAFF_SALARY,
    Perm.ROSTER_READ,
    Perm.ROSTER_MANAGE,
    Perm.LEAVE_DECIDE,
    Perm.PAYROLL_READ,
    Perm.REVIEWS_WRITE,
}
ROLE_PERMISSIONS[Role.HR_OFFICER] |= _HR_MANAGER_COMMON | {Perm.STAFF_MANAGE, Perm.PAYROLL_MANAGE}
ROLE_PERMISSIONS[Role.MANAGER] |= _HR_MANAGER_COMMON
ROLE_PERMISSIONS[Role.DOCTOR] |= {Perm.ROSTER_READ}
ROLE_PERMISSIONS[Role.NURSE] |= {Perm.ROSTER_READ}
# --- staff self-service ("My work") ---
# Every employee sees their own record, shifts, leave, payslips and reviews (Perm.SELF routes)
# in one workspace, after the workspaces of their role.
WORKSPACE_ORDER = (*WORKSPACE_ORDER, "my_work")
ROLE_WORKSPACES = {role: keys | {"my_work"} for role, keys in ROLE_WORKSPACES.items()}

ROLE_PERMISSIONS = {
    role: perms | _WARD_PERMISSIONS.get(role, set()) for role, perms in ROLE_PERMISSIONS.items()
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
