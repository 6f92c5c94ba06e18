"""Sign-in, refresh rotation and replay, logout, and token validation over HTTP."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.conftest import TEST_PASSWORD, totp_now


def _login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


def test_login_returns_token_pair_and_user(client, make_user):
    username, password = make_user("receptionist")
    response = _login(client, username, password)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 15 * 60
    assert body["user"]["username"] == username
    assert body["user"]["roles"] == ["receptionist"]
    assert "password_hash" not in body["user"] and "totp_secret" not in body["user"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["workspaces"] == ["reception", "my_work"]


def test_wrong_password_is_401_problem(client, make_user):
    username, _ = make_user("doctor")
    response = _login(client, username, "Not-The-Password-1")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_credentials"


def test_unknown_user_gets_same_answer_as_wrong_password(client):
    response = _login(client, "nobody-here", "Whatever-Pass-99")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_refresh_rotates_and_replay_revokes_the_family(client, make_user):
    username, password = make_user("nurse")
    first = _login(client, username, password).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    # Replaying the spent token is refused ...
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # ... and kills the whole session: the new refresh token and access token die too.
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}
        ).status_code
        == 401
    )
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}
        ).status_code
        == 401
    )


def test_logout_ends_the_session(client, make_user):
    username, password = make_user("pharmacist")
    tokens = _login(client, username, password).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        ).status_code
        == 401
    )


def test_admin_needs_totp(client, make_user):
    username, password, secret = make_user("admin")
    without = _login(client, username, password)
    assert without.status_code == 401
    assert without.json()["code"] == "totp_required"
    wrong = _login(client, username, password, totp="000000")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_totp"
    ok = _login(client, username, password, totp=totp_now(secret))
    assert ok.status_code == 200
    # The same code cannot be replayed.
    again = _login(client, username, password, totp=totp_now(secret))
    assert again.status_code == 401


def _forge(settings, **overrides):
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "1",
        "sid": "00000000-0000-0000-0000-000000000000",
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


@pytest.mark.parametrize(
    "case", ["expired", "wrong_audience", "wrong_key", "alg_none", "refresh_typ", "garbage"]
)
def test_bad_tokens_are_401(client, settings, make_user, case):
    username, password = make_user("receptionist")
    real = _login(client, username, password).json()
    payload = jwt.decode(real["access_token"], options={"verify_signature": False})
    secret = settings.jwt_secret
    headers = {"typ": "at+jwt"}
    if case == "expired":
        token = jwt.encode(
            {**payload, "exp": int(time.time()) - 120}, secret, "HS256", headers=headers
        )
    elif case == "wrong_audience":
        token = jwt.encode({**payload, "aud": "other-app"}, secret, "HS256", headers=headers)
    elif case == "wrong_key":
        token = jwt.encode(payload, "another-secret-" + "y" * 40, "HS256", headers=headers)
    elif case == "alg_none":
        token = jwt.encode(payload, None, algorithm="none", headers=headers)
    elif case == "refresh_typ":
        token = jwt.encode({**payload, "typ": "refresh"}, secret, "HS256", headers=headers)
    else:
        token = "not.a.jwt"
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_missing_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
