"""Bad input gets a clear problem+json answer and never a 500, on every route.

A small, deterministic fuzzer driven by the OpenAPI document: each operation is called with
malformed bodies, path ids and query values by a user holding every role, and again as an
admin, a doctor and a receptionist (clinical routes refuse admins by design, so each role
reaches code the others cannot).
"""

from __future__ import annotations

import json

import pytest

from hms_server.domain.permissions import Role

BAD_BODIES = [
    None,
    [],
    "text",
    0,
    {"unexpected": True},
    {"username": None, "password": 5, "version": "x", "items": "nope", "patient_id": -1},
    {"start": "not-a-date", "date_of_birth": "2026-13-45", "limit": 10**30},
    {"q": "\x00\x01", "full_name": "x" * 100_000},
    # Lone surrogates are valid JSON escapes but not Unicode text (once a 500 on passwords).
    {
        "new_password": "\ud800" + "x" * 12,
        "password": "\udfffsecret-words",
        "full_name": "\ud83d",
        "given_name": "\ud800",
        "reason": "\udc00" * 12,
    },
]
FUZZ_ROLES = ["superuser", "admin", "doctor", "receptionist"]
BAD_PATH_VALUES = ["abc", "-1", "0", "99999999999999999999999", "1.5", "%27%20OR%201=1"]
BAD_QUERY_VALUES = [
    "",
    "-1",
    "abc",
    "99999999999999999999999",
    "' OR 1=1 --",
    "\u0000",
    "2026-02-30",
    "x" * 5000,
]


@pytest.fixture(scope="module")
def fuzz_env(pg_cluster):  # type: ignore[no-untyped-def]
    """A private database and app: the fuzzer disables, resets and cancels whatever ids it
    guesses, which must not touch the rows other tests share."""
    from fastapi.testclient import TestClient

    from hms_server.adapters.uow import Actor
    from hms_server.app import create_app
    from hms_server.services.users import create_user
    from tests.conftest import TEST_PASSWORD, _clone, totp_now
    from tests.wiring import wired_uow

    database = _clone(pg_cluster, "hms_fuzz")
    app = create_app(database.settings())
    # A bystander takes id 1, the id the fuzzer aims at; the fuzzing users are not it.
    create_user(
        wired_uow(database.owner_session_factory(), Actor.system("fuzz")),
        database.settings(),
        username="fuzz_bystander",
        full_name="Bystander",
        roles=["nurse"],
        password=TEST_PASSWORD,
    )
    role_sets = {
        "superuser": [r.value for r in Role],
        "admin": ["admin"],
        "doctor": ["doctor"],
        "receptionist": ["receptionist"],
    }
    created = {
        name: create_user(
            wired_uow(database.owner_session_factory(), Actor.system("fuzz")),
            database.settings(),
            username=f"fuzz_{name}",
            full_name=f"Fuzz {name.title()}",
            roles=roles,
            password=TEST_PASSWORD,
        )
        for name, roles in role_sets.items()
    }
    with TestClient(app, raise_server_exceptions=False) as test_client:
        headers = {}
        for name, user in created.items():
            body = {"username": f"fuzz_{name}", "password": TEST_PASSWORD}
            if user.user.totp_secret:
                body["totp"] = totp_now(user.user.totp_secret)
            response = test_client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, response.text
            headers[name] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        yield app, test_client, headers
    database.owner_engine.dispose()


@pytest.fixture(scope="module", params=FUZZ_ROLES)
def fuzz_role(request):  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture(scope="module")
def superuser_headers(fuzz_env, fuzz_role):  # type: ignore[no-untyped-def]
    """Headers of the user the fuzzer acts as (every role at once, then one role each)."""
    return fuzz_env[2][fuzz_role]


@pytest.fixture(scope="module")
def fuzz_client(fuzz_env):  # type: ignore[no-untyped-def]
    return fuzz_env[1]


def _operations(app):  # type: ignore[no-untyped-def]
    schema = app.openapi()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            if path.endswith(("/events", "/auth/logout")) or path.startswith("/book"):
                continue  # streams, forms and sign-out (no input) have their own tests
            yield path, method.upper(), op


def _fill(path: str, value: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", value, path)


def test_openapi_document_is_typed_and_has_operation_ids(app):
    schema = app.openapi()
    ids = [op.get("operationId") for _, _, op in _operations(app)]
    assert all(ids), "every operation has an explicit operationId"
    assert len(ids) == len(set(ids))
    assert schema["info"]["title"] == "HMS API"


def test_malformed_bodies_never_cause_500(app, fuzz_client, superuser_headers):
    client = fuzz_client
    failures = []
    for path, method, _ in _operations(app):
        if method not in {"POST", "PUT", "PATCH"}:
            continue
        for body in BAD_BODIES:
            # Encoded here with ASCII escapes, so lone surrogates travel as "\ud800" (httpx
            # would refuse to encode them).
            response = client.request(
                method,
                _fill(path, "1"),
                headers={**superuser_headers, "Content-Type": "application/json"},
                content=json.dumps(body).encode() if body is not None else None,
            )
            if response.status_code >= 500:
                failures.append(f"{method} {path} body={str(body)[:40]} -> {response.status_code}")
            elif response.status_code >= 400:
                assert response.headers["content-type"].startswith(
                    ("application/problem+json", "application/fhir+json")
                ), (path, method)
        raw = client.request(
            method,
            _fill(path, "1"),
            content=b"{not json",
            headers={**superuser_headers, "Content-Type": "application/json"},
        )
        if raw.status_code >= 500:
            failures.append(f"{method} {path} raw -> {raw.status_code}")
    assert failures == []


def test_malformed_path_and_query_values_never_cause_500(app, fuzz_client, superuser_headers):
    client = fuzz_client
    failures = []
    for path, method, op in _operations(app):
        if "{" in path:
            for value in BAD_PATH_VALUES:
                response = client.request(
                    method,
                    _fill(path, value),
                    headers=superuser_headers,
                    json={} if method in {"POST", "PATCH", "PUT"} else None,
                )
                if response.status_code >= 500:
                    failures.append(f"{method} {path} id={value} -> {response.status_code}")
        query_params = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for name in query_params:
            for value in BAD_QUERY_VALUES:
                response = client.request(
                    method, _fill(path, "1"), params={name: value}, headers=superuser_headers
                )
                if response.status_code >= 500:
                    failures.append(
                        f"{method} {path} {name}={value[:20]!r} -> {response.status_code}"
                    )
    assert failures == []


def test_validation_problem_lists_each_bad_field(fuzz_client, fuzz_env):
    client, superuser_headers = fuzz_client, fuzz_env[2]["superuser"]
    response = client.post(
        "/api/v1/users", json={"username": "", "roles": []}, headers=superuser_headers
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["type"].startswith("https://")
    fields = {e["field"] for e in body["errors"]}
    assert {"body.username", "body.roles", "body.full_name", "body.password"} <= fields


def test_unknown_route_and_wrong_method_are_problems(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/api/v1/health")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith("application/problem+json")


def test_reset_password_with_text_that_is_not_unicode_is_a_422(fuzz_client, fuzz_env):
    """Found by schemathesis as an admin: a lone surrogate in the new password was a 500."""
    headers = {**fuzz_env[2]["admin"], "Content-Type": "application/json"}
    response = fuzz_client.post(
        "/api/v1/users/1/reset-password",
        headers=headers,
        content=json.dumps({"new_password": "\ud800" + "x" * 12}),
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
