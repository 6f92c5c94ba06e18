"""TOTP: self-enrolment needs the password (and the current code when replacing one) and a
confirmation; admins can reset a lost device."""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import text

from tests.conftest import totp_now


def test_self_enrolment_takes_effect_only_after_confirmation(client, make_user, login):
    username, password = make_user("doctor")
    headers = login(username, password)
    enrolment = client.post(
        "/api/v1/me/totp", headers=headers, json={"password": password}
    )  # issue 8: the password is required
    assert enrolment.status_code == 200
    secret = enrolment.json()["secret"]
    assert enrolment.json()["provisioning_uri"].startswith("otpauth://totp/")
    # Not yet confirmed: sign-in still needs only the password.
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        ).status_code
        == 200
    )
    wrong = client.post("/api/v1/me/totp/confirm", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 401
    assert (
        client.post(
            "/api/v1/me/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
        ).status_code
        == 204
    )
    needs = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert needs.json()["code"] == "totp_required"
    ok = client.post(
        "/api/v1/auth/login",
        json={
            "username": username,
            "password": password,
            "totp": pyotp.TOTP(secret).at(__import__("time").time() + 30),
        },
    )
    assert ok.status_code == 200
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}
        ).json()["totp_enabled"]
        is True
    )


def test_admin_resets_a_lost_authenticator(client, make_user, login, headers_for):
    username, password, secret = make_user("admin")
    headers = login(username, password, secret)
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    reset = client.post(f"/api/v1/users/{user_id}/reset-totp", headers=headers_for("admin"))
    assert reset.status_code == 200
    new_secret = reset.json()["enrolment"]["secret"]
    assert new_secret != secret
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # sessions ended
    ok = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "totp": totp_now(new_secret)},
    )
    assert ok.status_code == 200


def test_confirm_code_must_be_digits(client, headers_for):
    response = client.post(
        "/api/v1/me/totp/confirm", json={"code": "abcdef"}, headers=headers_for("nurse")
    )
    assert response.status_code == 422


def test_admin_cannot_reset_their_own_totp(client, make_user, login):
    username, password, secret = make_user("admin")
    headers = login(username, password, secret)
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    response = client.post(f"/api/v1/users/{user_id}/reset-totp", headers=headers)
    assert response.status_code == 409
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_stolen_token_alone_cannot_enrol_an_authenticator(client, db, make_user, login):
    """Before (issue 8): POST /me/totp + confirm needed only the access token, so a thief
    could bind the account to their own authenticator app."""
    username, password = make_user("doctor")
    headers = login(username, password)
    assert client.post("/api/v1/me/totp", headers=headers).status_code == 422
    wrong = [
        client.post("/api/v1/me/totp", headers=headers, json={"password": "Guess-" + str(n)})
        for n in range(5)
    ]
    assert [r.json()["code"] for r in wrong] == ["invalid_credentials"] * 4 + ["session_ended"]
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with db.owner_engine.connect() as conn:
        pending = conn.execute(
            text("SELECT totp_pending_secret FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()
    assert pending is None


def test_replacing_an_authenticator_needs_the_current_code(client, db, make_user, login):
    username, password, secret = make_user("admin")
    headers = login(username, password, secret)
    no_code = client.post("/api/v1/me/totp", headers=headers, json={"password": password})
    assert no_code.status_code == 401 and no_code.json()["code"] == "totp_required"
    bad_code = client.post(
        "/api/v1/me/totp", headers=headers, json={"password": password, "code": "000000"}
    )
    assert bad_code.status_code == 401 and bad_code.json()["code"] == "invalid_totp"
    next_code = pyotp.TOTP(secret).at(time.time() + 30)  # the sign-in used the current step
    started = client.post(
        "/api/v1/me/totp", headers=headers, json={"password": password, "code": next_code}
    )
    assert started.status_code == 200, started.text
    new_secret = started.json()["secret"]
    assert (
        client.post(
            "/api/v1/me/totp/confirm", headers=headers, json={"code": pyotp.TOTP(new_secret).now()}
        ).status_code
        == 204
    )
    with db.owner_engine.connect() as conn:
        stored = conn.execute(
            text("SELECT totp_secret FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()
    assert stored == new_secret != secret
    new = client.post(
        "/api/v1/auth/login",
        json={
            "username": username,
            "password": password,
            "totp": pyotp.TOTP(new_secret).at(time.time() + 30),
        },
    )
    assert new.status_code == 200
