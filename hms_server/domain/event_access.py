"""Who may receive which live events (issue 8: the stream sent ``break_glass.granted``, with
the patient id, to every signed-in user, HR officers included).

An event goes only to users holding a permission that lets them read that kind of record.
Event types are ``<kind>.<what happened>``; a kind missing from ``EVENT_READERS`` is delivered
to nobody, so an area that publishes a new kind adds it here (a test walks every
``uow.publish`` in the code and fails on a kind that is not listed).
"""

from __future__ import annotations

from hms_server.domain.permissions import Perm

_CLINICAL = frozenset({Perm.CLINICAL_READ})
_SCHEDULE = frozenset({Perm.SCHEDULE_READ})

EVENT_READERS: dict[str, frozenset[Perm]] = {
    # the chart
    "encounter": _CLINICAL,
    "clinical_note": _CLINICAL,
    "vitals": _CLINICAL,
    "allergy": _CLINICAL,
    "problem": _CLINICAL,
    "lab": _CLINICAL,
    "document": _CLINICAL,
    # pharmacy and inventory (issue 10): the dispensing queue follows prescriptions
    "prescription": _CLINICAL | {Perm.DISPENSE},
    # who looked at charts in an emergency: the reviewers
    "break_glass": frozenset({Perm.BREAK_GLASS_REVIEW}),
    # scheduling
    "appointment": _SCHEDULE,
    "queue": _SCHEDULE,
    "schedule": _SCHEDULE,
    "doctor": _SCHEDULE,
    "department": _SCHEDULE,
    "waitlist": _SCHEDULE,
    # wards and inpatient care: the bed board (ids and statuses only) for those who see it,
    # dose and nursing records for clinicians, device messages for their reviewers
    "ward": frozenset({Perm.WARDS_READ}),
    "bed": frozenset({Perm.WARDS_READ}),
    "admission": frozenset({Perm.WARDS_READ}),
    "mar": frozenset({Perm.MAR_ADMINISTER, Perm.CLINICAL_READ}),
    "nursing": _CLINICAL,
    "device_message": frozenset({Perm.DEVICES_REVIEW}),
    # billing (issue 9): money records for those who keep or read accounts; the price list
    # for those who read it
    **{
        kind: frozenset({Perm.BILLING_READ})
        for kind in (
            "invoice",
            "payment",
            "charge",
            "card_intent",
            "approval",
            "claim",
            "policy",
            "preauth",
            "cashup",
        )
    },
    "price_list": frozenset({Perm.PRICE_LIST_READ}),
    # demographics
    "patient": frozenset({Perm.PATIENTS_READ}),
    # administration
    "user": frozenset({Perm.USERS_MANAGE}),
    "security": frozenset({Perm.SECURITY_ALERTS}),
    "clinic_assignment": frozenset({Perm.CLINIC_ASSIGN}),
    # pharmacy and inventory (issue 10): ids of items, locations, orders, assets only
    "stock": frozenset({Perm.STOCK_READ}),
    "requisition": frozenset({Perm.STOCK_READ}),
    "purchase_order": frozenset({Perm.STOCK_READ_ALL}),
    "equipment": frozenset({Perm.EQUIPMENT_READ}),
    # staff and HR: roster changes for roster readers, leave for those who decide it,
    # pay runs for payroll readers (ids only)
    "shift": frozenset({Perm.ROSTER_READ}),
    "leave": frozenset({Perm.LEAVE_DECIDE}),
    "pay_run": frozenset({Perm.PAYROLL_READ}),
}


def event_kind(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def may_receive(event_type: str, permissions: frozenset[Perm]) -> bool:
    """True when a user with ``permissions`` may be sent an event of ``event_type``."""
    return bool(EVENT_READERS.get(event_kind(event_type), frozenset()) & permissions)
