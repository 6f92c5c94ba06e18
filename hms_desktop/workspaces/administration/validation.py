"""Inline checks done before a request is sent (the server checks again)."""

from __future__ import annotations

import re

from hms_contract.users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from hms_desktop.qt import translate

# Mirrors the server's rule, so the user hears about it before sending.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")

PASSWORD_MIN = PASSWORD_MIN_LENGTH  # 12 for staff since issue 8
PASSWORD_MAX = PASSWORD_MAX_LENGTH


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
    if not _USERNAME.fullmatch(username.strip()):
        return translate(
            "Validation",
            "Use 2 to 64 letters, digits, dots, dashes or underscores, starting with a letter "
            "or digit.",
        )
    return None


def full_name_problem(full_name: str) -> str | None:
    if not full_name.strip():
        return translate("Validation", "Enter the person's full name.")
    return None


def roles_problem(roles: list[str]) -> str | None:
    if not roles:
        return translate("Validation", "Choose at least one role.")
    return None
