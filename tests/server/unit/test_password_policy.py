"""Password policy: length limits and refusal of common passwords."""

from __future__ import annotations

import pytest

from hms_server.domain.errors import WeakPasswordError
from hms_server.domain.passwords import check_password_policy
from hms_server.services.credentials import PASSWORD_HASHER, hash_password, verify_password


@pytest.mark.parametrize("password", ["password123", "Password1", "qwerty123", "letmein1",
                                      "short1!", "x" * 129])
def test_weak_or_badly_sized_passwords_are_refused(password):
    with pytest.raises(WeakPasswordError):
        check_password_policy(password)


def test_password_containing_the_username_is_refused():
    with pytest.raises(WeakPasswordError):
        check_password_policy("nadia.novak1", user_inputs=["nadia.novak"])


@pytest.mark.parametrize("password", ["Quiet-Lantern-Harbor-77", "correct horse battery staple",
                                      "x7#Lq9!vR2@m" + "a" * 52])
def test_strong_passwords_up_to_64_and_beyond_are_accepted(password):
    check_password_policy(password)


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
