"""Role and workspace names as users read them (translatable)."""

from __future__ import annotations

from hms_desktop.qt import QT_TRANSLATE_NOOP, translate

ROLES: tuple[str, ...] = (
    "admin",
    "receptionist",
    "doctor",
    "nurse",
    "pharmacist",
    "billing_clerk",
    "hr_officer",
    "manager",
)

_ROLE_TITLES = {
    "admin": QT_TRANSLATE_NOOP("Roles", "Administrator"),
    "receptionist": QT_TRANSLATE_NOOP("Roles", "Receptionist"),
    "doctor": QT_TRANSLATE_NOOP("Roles", "Doctor"),
    "nurse": QT_TRANSLATE_NOOP("Roles", "Nurse"),
    "pharmacist": QT_TRANSLATE_NOOP("Roles", "Pharmacist"),
    "billing_clerk": QT_TRANSLATE_NOOP("Roles", "Billing clerk"),
    "hr_officer": QT_TRANSLATE_NOOP("Roles", "HR officer"),
    "manager": QT_TRANSLATE_NOOP("Roles", "Manager"),
}


def role_title(role: str) -> str:
    source = _ROLE_TITLES.get(role)
    return translate("Roles", source) if source else role


def roles_text(roles: list[str]) -> str:
    """``Receptionist, Billing clerk``: the roles in the fixed order of ``ROLES`` (the server
    keeps a sorted set, which says nothing to a reader), unknown ones last."""
    rank = {role: i for i, role in enumerate(ROLES)}
    ordered = sorted(roles, key=lambda r: (rank.get(r, len(ROLES)), r))
    return ", ".join(role_title(r) for r in ordered)
