"""User administration by admins: create, roles, disable, reset; sessions end on changes."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_PASSWORD, unique_name


def _new_user_body(**overrides):
    body = {
        "username": unique_name("staff_"),
        "full_name": "Grace Hopper",
        "roles": ["receptionist"],
        "password": TEST_PASSWORD,
    }
    body.update(overrides)
    return body


def test_admin_creates_user_who_can_sign_in(client, headers_for):
    body = _new_user_body()
    created = client.post("/api/v1/users", json=body, headers=headers_for("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["roles"] == ["receptionist"]
    assert created.json()["totp_provisioning_uri"] is None
    login = client.post(
        "/api/v1/auth/login", json={"username": body["username"], "password": TEST_PASSWORD}
    )
    assert login.status_code == 200


def test_creating_an_admin_returns_the_totp_uri_once(client, headers_for):
    created = client.post(
        "/api/v1/users", json=_new_user_body(roles=["admin"]), headers=headers_for("admin")
    )
    assert created.status_code == 201
    assert created.json()["totp_provisioning_uri"].startswith("otpauth://totp/")
    fetched = client.get(f"/api/v1/users/{created.json()['id']}", headers=headers_for("admin"))
    assert "totp_provisioning_uri" not in fetched.json()
    assert fetched.json()["totp_enabled"] is True


def test_common_password_is_refused_and_nothing_is_created(client, headers_for):
    body = _new_user_body(password="password1234")  # 12 characters: the minimum since issue 8
    response = client.post("/api/v1/users", json=body, headers=headers_for("admin"))
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    listing = client.get(
        "/api/v1/users", params={"q": body["username"]}, headers=headers_for("admin")
    )
    assert listing.json()["total"] == 0


def test_unknown_role_and_bad_username_list_every_field(client, headers_for):
    response = client.post(
        "/api/v1/users",
        json={"username": "a b", "full_name": "", "roles": ["surgeon"], "password": "x"},
        headers=headers_for("admin"),
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.username", "body.full_name", "body.roles", "body.password"} <= fields


def test_duplicate_username_is_409(client, headers_for):
    body = _new_user_body()
    assert client.post("/api/v1/users", json=body, headers=headers_for("admin")).status_code == 201
    again = client.post("/api/v1/users", json=body, headers=headers_for("admin"))
    assert again.status_code == 409


def test_role_change_with_stale_version_is_409(client, headers_for):
    admin = headers_for("admin")
    user = client.post("/api/v1/users", json=_new_user_body(), headers=admin).json()
    first = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"version": user["version"], "roles": ["nurse"]},
        headers=admin,
    )
    assert first.status_code == 200
    assert first.json()["version"] == user["version"] + 1
    stale = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"version": user["version"], "roles": ["doctor"]},
        headers=admin,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert client.get(f"/api/v1/users/{user['id']}", headers=admin).json()["roles"] == ["nurse"]


def test_role_change_takes_effect_on_the_next_request(client, headers_for, make_user, login):
    username, password = make_user("receptionist")
    headers = login(username, password)
    me = client.get("/api/v1/me", headers=headers).json()
    client.patch(
        f"/api/v1/users/{me['id']}",
        json={"version": me["version"], "roles": ["nurse"]},
        headers=headers_for("admin"),
    )
    assert client.get("/api/v1/me", headers=headers).json()["workspaces"] == [
        "clinical",
        "ward",
        "my_work",
    ]


def test_disabling_a_user_ends_their_sessions(client, headers_for, make_user, login):
    username, password = make_user("doctor")
    headers = login(username, password)
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    disabled = client.post(f"/api/v1/users/{user_id}/disable", headers=headers_for("admin"))
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    relogin = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert relogin.status_code == 401
    client.post(f"/api/v1/users/{user_id}/enable", headers=headers_for("admin"))
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        ).status_code
        == 200
    )


def test_password_reset_ends_sessions_and_old_password_stops_working(
    client, headers_for, make_user, login
):
    username, password = make_user("pharmacist")
    headers = login(username, password)
    user_id = client.get("/api/v1/me", headers=headers).json()["id"]
    new_password = "Brisk-Meadow-Falcon-31"
    reset = client.post(
        f"/api/v1/users/{user_id}/reset-password",
        json={"new_password": new_password},
        headers=headers_for("admin"),
    )
    assert reset.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        ).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": username, "password": new_password}
        ).status_code
        == 200
    )


def test_same_idempotency_key_creates_one_user(client, headers_for):
    admin = {**headers_for("admin"), "Idempotency-Key": str(uuid.uuid4())}
    body = _new_user_body()
    first = client.post("/api/v1/users", json=body, headers=admin)
    second = client.post("/api/v1/users", json=body, headers=admin)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    listing = client.get(
        "/api/v1/users", params={"q": body["username"]}, headers=headers_for("admin")
    )
    assert listing.json()["total"] == 1


def test_idempotency_key_reused_for_a_different_request_is_refused(client, headers_for):
    admin = {**headers_for("admin"), "Idempotency-Key": str(uuid.uuid4())}
    assert client.post("/api/v1/users", json=_new_user_body(), headers=admin).status_code == 201
    other = client.post("/api/v1/users", json=_new_user_body(), headers=admin)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_unlock_with_password(client, make_user, login):
    username, password = make_user("nurse")
    headers = login(username, password)
    ok = client.post("/api/v1/auth/reauthenticate", json={"password": password}, headers=headers)
    assert ok.status_code == 204
    bad = client.post(
        "/api/v1/auth/reauthenticate", json={"password": "nope-nope-1"}, headers=headers
    )
    assert bad.status_code == 401


def test_admin_cannot_disable_themself_or_drop_own_admin_role(client, make_user, login):
    username, password, secret = make_user("admin")
    headers = login(username, password, secret)
    me = client.get("/api/v1/me", headers=headers).json()
    assert client.post(f"/api/v1/users/{me['id']}/disable", headers=headers).status_code == 409
    demote = client.patch(
        f"/api/v1/users/{me['id']}",
        json={"version": me["version"], "roles": ["nurse"]},
        headers=headers,
    )
    assert demote.status_code == 409
    assert client.get("/api/v1/me", headers=headers).status_code == 200


@pytest.mark.parametrize("password", ["Summer2026!!", "Winter2025!!", "P@ssw0rd2026!"])
def test_a_breached_word_with_digits_added_is_refused_with_the_reason(
    client, headers_for, password
):
    """Before (issue 8): 'Summer2026!' and its kin were accepted."""
    response = client.post(
        "/api/v1/users", json=_new_user_body(password=password), headers=headers_for("admin")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "weak_password" and "leaked" in body["detail"]
    assert body["errors"][0]["field"] == "body.password"


def test_a_short_password_is_refused_by_the_schema_with_the_minimum(client, headers_for):
    response = client.post(
        "/api/v1/users", json=_new_user_body(password="Summer2026!"), headers=headers_for("admin")
    )
    assert response.status_code == 422
    error = next(e for e in response.json()["errors"] if e["field"] == "body.password")
    assert "12 characters" in error["message"]


LONG_PASSPHRASE = "Quiet-Lantern-Harbor-77 and a long tail of unrelated words past seventy-two"


@pytest.mark.parametrize(
    ("password", "status"), [(LONG_PASSPHRASE, 204), ("Ab1!" * 30, 422), ("x" * 128, 422)]
)
def test_long_passwords_are_judged_not_a_500(client, headers_for, make_user, password, status):
    """73..128 characters crashed the strength estimator (500 on create and reset)."""
    username, _ = make_user("nurse")
    target = client.get(
        "/api/v1/users", params={"q": username}, headers=headers_for("admin")
    ).json()["items"][0]["id"]
    reset = client.post(
        f"/api/v1/users/{target}/reset-password",
        headers=headers_for("admin"),
        json={"new_password": password},
    )
    assert reset.status_code == status, reset.text
