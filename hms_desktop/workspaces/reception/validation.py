"""Checks of the registration form, done before anything is sent (plain words, per field).

Pure functions (no Qt widgets), mirroring the server's rules so the clerk sees the same
verdict immediately; the server still decides.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from hms_desktop.qt import translate

PHONE = re.compile(r"^\+?[0-9 ()\-./]{6,32}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
MAX_AGE = 130


def _t(text: str) -> str:
    return translate("PatientValidation", text)


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` (also ``DD.MM.YYYY`` and ``DD/MM/YYYY``) or ``None``."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def phone_problem(text: str) -> str | None:
    if not text:
        return None
    if not PHONE.match(text) or sum(ch.isdigit() for ch in text) < 6:
        return _t("Enter a phone number: at least 6 digits; only + - ( ) . and spaces besides.")
    return None


def validate_patient(values: dict[str, str], today: date | None = None) -> dict[str, str]:
    """``{field: message}`` for every problem in the form ``values`` (all strings)."""
    today = today or date.today()
    problems: dict[str, str] = {}
    for name in ("given_name", "family_name"):
        text = values.get(name, "").strip()
        if not text:
            problems[name] = _t("Required.")
        elif not any(ch.isalpha() for ch in text):
            problems[name] = _t("Must contain at least one letter.")
        elif len(text) > 100:
            problems[name] = _t("At most 100 characters.")
    dob_text = values.get("date_of_birth", "").strip()
    age_text = values.get("age_years", "").strip()
    if dob_text:
        dob = parse_date(dob_text)
        if dob is None:
            problems["date_of_birth"] = _t("Enter the date as YYYY-MM-DD, e.g. 1984-03-21.")
        elif dob > today:
            problems["date_of_birth"] = _t("The date of birth cannot be in the future.")
        elif today.year - dob.year > MAX_AGE:
            problems["date_of_birth"] = _t("That is more than 130 years ago.")
    elif "age_years" in values and age_text:
        if not age_text.isdigit() or int(age_text) > MAX_AGE:
            problems["age_years"] = _t("Enter an age in whole years, 0 to 130.")
    else:
        problems["date_of_birth"] = _t("Enter the date of birth, or an estimated age.")
    if not values.get("sex"):
        problems["sex"] = _t("Choose one.")
    phone = phone_problem(values.get("phone", "").strip())
    if phone:
        problems["phone"] = phone
    kin_phone = phone_problem(values.get("kin_phone", "").strip())
    if kin_phone:
        problems["kin_phone"] = kin_phone
    if values.get("kin_phone", "").strip() and not values.get("kin_name", "").strip():
        problems["kin_name"] = _t("Enter the name of the next of kin.")
    email = values.get("email", "").strip()
    if email and not EMAIL.match(email):
        problems["email"] = _t("Enter an e-mail address like name@example.org.")
    payer, policy = values.get("payer", "").strip(), values.get("policy_number", "").strip()
    if bool(payer) != bool(policy):
        problems["policy_number" if payer else "payer"] = _t(
            "Enter both the insurer and the policy number, or neither."
        )
    return problems
