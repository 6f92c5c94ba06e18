"""Password policy (OWASP ASVS 5.0 L2): 8..128 characters, no common or guessable passwords.

zxcvbn ships frequency lists of leaked passwords, so "password123" and its kin are refused
without a network lookup.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from hms_server.domain.errors import WeakPasswordError

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 2  # zxcvbn 0..4; 2 refuses dictionary words with digits and keyboard walks


def check_password_policy(password: str, *, user_inputs: list[str] | None = None) -> None:
    """Raise ``WeakPasswordError`` with a plain-words reason when the password is not allowed."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"Password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"Password must be at most {MAX_LENGTH} characters long.")
    result = zxcvbn(password[:100], user_inputs=[u for u in (user_inputs or []) if u])
    if result["score"] < MIN_SCORE:
        hint = result.get("feedback", {}).get("warning") or "It is too easy to guess."
        raise WeakPasswordError(f"Password is too common or guessable: {hint}")
