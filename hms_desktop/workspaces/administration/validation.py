"""Inline checks done before a request is sent (the server checks again)."""

from __future__ import annotations

from hms_desktop.qt import translate

PASSWORD_MIN = 8
PASSWORD_MAX = 128


def password_problem(password: str) -> str | None:
    """Plain-words reason the password cannot be used, or ``None`` if its length is fine."""
    if len(password) < PASSWORD_MIN:
        return translate("Validation", "Use at least {n} characters ({left} more).").format(
            n=PASSWORD_MIN, left=PASSWORD_MIN - len(password)
        )
    if len(password) > PASSWORD_MAX:
        return translate("Validation", "Use at most {n} characters.").format(n=PASSWORD_MAX)
    return None


def username_problem(username: str) -> str | None:
    if not username.strip():
        return translate("Validation", "Enter a username.")
    if any(ch.isspace() for ch in username.strip()):
        return translate("Validation", "A username cannot contain spaces.")
    return None


def full_name_problem(full_name: str) -> str | None:
    if not full_name.strip():
        return translate("Validation", "Enter the person's full name.")
    return None


def roles_problem(roles: list[str]) -> str | None:
    if not roles:
        return translate("Validation", "Choose at least one role.")
    return None
