"""Password policy for staff (OWASP ASVS 5.0 L2, NIST SP 800-63B): 12..128 characters, not on
a list of breached/common passwords (also not one with digits or symbols stuck on, such as
"Summer2026!!"), and not guessable by the zxcvbn strength estimator. Every refusal says why.

The list is passed in (``adapters.common_passwords``), so this module stays free of I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from zxcvbn import zxcvbn

from hms_server.domain.errors import WeakPasswordError

MIN_LENGTH = 12  # staff accounts (issue 8); hms_contract.users.PASSWORD_MIN_LENGTH mirrors it
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn 0..4; 3 = "safely unguessable" (≥ 10^8 guesses) even offline
ESTIMATED_LENGTH = 72  # zxcvbn 4.5 raises ValueError past 72 characters (that was a 500)
# Words everyone at a hospital would try first.
CONTEXT_WORDS = (
    "hms",
    "hospital",
    "clinic",
    "ward",
    "nurse",
    "doctor",
    "admin",
    "health",
    "medical",
    "patient",
)

_AFFIXES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans(
    {"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s", "7": "t"}
)


def _cores(lowered: str) -> set[str]:
    """The password without the digits and symbols people add to a word to pass rules."""
    return {_AFFIXES.sub("", candidate) for candidate in (lowered, lowered.translate(_LEET))}


def _field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": "weak_password"}


def check_password_policy(
    password: str,
    *,
    user_inputs: list[str] | None = None,
    common: Collection[str] = frozenset(),
    field: str = "password",
) -> None:
    """Raise ``WeakPasswordError`` (422 ``weak_password``) with a plain-words reason when the
    password is not allowed; ``common`` is the lower-cased breached-password list."""

    def refuse(message: str) -> WeakPasswordError:
        return WeakPasswordError(message, extra={"errors": [_field_error(field, message)]})

    if len(password) < MIN_LENGTH:
        raise refuse(
            f"Password must be at least {MIN_LENGTH} characters long "
            f"({MIN_LENGTH - len(password)} more). A few unrelated words work well."
        )
    if len(password) > MAX_LENGTH:
        raise refuse(f"Password must be at most {MAX_LENGTH} characters long.")
    lowered = password.lower()
    if lowered in common:
        raise refuse(
            "This is one of the most common passwords (leaked in data breaches); "
            "attackers try those first. Choose another."
        )
    if any(len(core) >= 4 and core in common for core in _cores(lowered)):
        raise refuse(
            "This is a common password (leaked in data breaches) with numbers or "
            "symbols added; attackers try those first. Choose another."
        )
    given = [u.lower() for u in (user_inputs or []) if u]
    # "nadia.novak" is also typed as "nadianovak", and a full name as one word.
    inputs = [
        *given,
        *(re.sub(r"[\W_]+", "", u) for u in given),
        "".join(given[1:]),
        *CONTEXT_WORDS,
    ]
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback", {})
        hint = (
            feedback.get("warning")
            or " ".join(feedback.get("suggestions", [])[:1])
            or "It would be guessed quickly."
        )
        raise refuse(f"Password is too easy to guess: {hint} A few unrelated words work well.")
