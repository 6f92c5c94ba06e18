"""Medical record numbers: ``<PREFIX><8-digit serial><Luhn check digit>``, e.g. ``HMS000012344``.

The serial comes from a database sequence, so a number is never handed out twice (a rolled-back
registration leaves a gap, never a reuse). The Luhn digit catches every single-digit typo and
almost every swap of two neighbouring digits at the desk or from a misread wristband.
Pure functions: no I/O.
"""

from __future__ import annotations

import re

SERIAL_DIGITS = 8
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,8}$")
_MRN_SHAPE = re.compile(r"^([A-Z]{0,8})(\d+)$")


class InvalidMrnError(ValueError):
    """A string that cannot be a medical record number."""


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit to append to ``digits``."""
    if not digits.isdigit() or not digits.isascii():
        raise InvalidMrnError("Luhn needs ASCII digits")
    total = 0
    # Walk from the right; the digit next to the check digit is doubled.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_is_valid(digits_with_check: str) -> bool:
    if (
        len(digits_with_check) < 2
        or not digits_with_check.isdigit()
        or not digits_with_check.isascii()
    ):
        return False
    return luhn_check_digit(digits_with_check[:-1]) == int(digits_with_check[-1])


def check_prefix(prefix: str) -> str:
    prefix = prefix.strip().upper()
    if not PREFIX_PATTERN.match(prefix):
        raise InvalidMrnError("MRN prefix must be 1-8 letters A-Z")
    return prefix


def format_mrn(prefix: str, serial: int) -> str:
    """The MRN for sequence value ``serial`` (1 ≤ serial < 10**8)."""
    if not 0 < serial < 10**SERIAL_DIGITS:
        raise InvalidMrnError(f"serial out of range: {serial}")
    body = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{check_prefix(prefix)}{body}{luhn_check_digit(body)}"


def is_valid_mrn(mrn: str) -> bool:
    m = _MRN_SHAPE.match(mrn)
    return bool(
        m and m.group(1) and len(m.group(2)) == SERIAL_DIGITS + 1 and luhn_is_valid(m.group(2))
    )


def mrn_candidates(text: str, prefix: str) -> list[str]:
    """Canonical MRNs a typed search string may mean, most likely first; [] if none.

    Accepts any case, spaces, dashes and dots (``hms-0000-1234-4``), a missing prefix
    (``000012344`` → the current prefix) and a missing check digit (``HMS00001234``).
    A string whose check digit is wrong yields nothing: it is a typo, not a record.
    """
    compact = re.sub(r"[\s\-./]", "", text).upper()
    m = _MRN_SHAPE.match(compact)
    if not m:
        return []
    letters, digits = m.groups()
    prefixes = [letters] if letters else [check_prefix(prefix)]
    out: list[str] = []
    for p in prefixes:
        if len(digits) == SERIAL_DIGITS + 1 and luhn_is_valid(digits):
            out.append(p + digits)
        elif len(digits) == SERIAL_DIGITS:
            out.append(p + digits + str(luhn_check_digit(digits)))
    return out
