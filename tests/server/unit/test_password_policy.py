"""Password policy: 12..128 characters for staff, no breached/common passwords (offline
list, also with digits or symbols added), a strength estimate, and a reason for every
refusal."""

from __future__ import annotations

import pytest

from hms_contract.users import PASSWORD_MIN_LENGTH
from hms_server.adapters.common_passwords import common_passwords
from hms_server.domain.errors import WeakPasswordError
from hms_server.domain.passwords import MIN_LENGTH, check_password_policy
from hms_server.services.credentials import PASSWORD_HASHER, hash_password, verify_password

COMMON = common_passwords()


@pytest.mark.parametrize(
    "password", ["password123", "Password1", "qwerty123", "letmein1", "short1!", "x" * 129]
)
def test_weak_or_badly_sized_passwords_are_refused(password):
    with pytest.raises(WeakPasswordError):
        check_password_policy(password, common=COMMON)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Summer2026!", "at least 12 characters"),  # issue 8's example
        ("Summer2026!!", "common password (leaked in data breaches) with numbers or symbols added"),
        ("Winter2025!!", "common password (leaked in data breaches) with numbers or symbols added"),
        (
            "P@ssw0rd2026!",
            "common password (leaked in data breaches) with numbers or symbols added",
        ),
        ("password1234", "most common passwords"),
        ("qwertyuiop123", "leaked"),
        (
            "Hospital2026!",
            "common password (leaked in data breaches) with numbers or symbols added",
        ),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ],
)
def test_weak_passwords_of_twelve_or_more_are_refused_with_the_reason(password, why):
    """Before (issue 8): 'Summer2026!' was accepted. Now each refusal says why."""
    with pytest.raises(WeakPasswordError) as refused:
        check_password_policy(password, common=COMMON)
    assert why in refused.value.detail
    assert refused.value.extra["errors"][0]["field"] == "password"


def test_password_containing_the_username_is_refused():
    with pytest.raises(WeakPasswordError):
        check_password_policy("nadia.novak1", user_inputs=["nadia.novak"])
    with pytest.raises(WeakPasswordError):
        check_password_policy(
            "nadianovak2026", user_inputs=["nadia.novak", "Nadia", "Novak"], common=COMMON
        )


def test_the_shipped_list_is_the_breached_password_list():
    assert len(COMMON) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou", "summer"} <= COMMON


def test_the_contract_and_the_policy_agree_on_the_minimum():
    assert PASSWORD_MIN_LENGTH == MIN_LENGTH == 12


@pytest.mark.parametrize(
    "password",
    [
        "Quiet-Lantern-Harbor-77",
        "correct horse battery staple",
        "x7#Lq9!vR2@m" + "a" * 52,
        # past zxcvbn's 72 characters: was a ValueError (500)
        "Quiet-Lantern-Harbor-77 and a long tail of unrelated words past seventy-two",
    ],
)
def test_strong_passwords_up_to_64_and_beyond_are_accepted(password):
    check_password_policy(password, common=COMMON)


def test_hash_is_argon2id_with_required_parameters():
    stored = hash_password("Quiet-Lantern-Harbor-77")
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert int(params["p"]) == 1
    assert PASSWORD_HASHER.type.name == "ID"
    assert verify_password(stored, "Quiet-Lantern-Harbor-77")
    assert not verify_password(stored, "quiet-lantern-harbor-77")
    assert not verify_password(None, "anything")
