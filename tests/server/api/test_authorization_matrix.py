"""Every route × every role: the declared permission decides, nothing is open by default.

The permission of a route is read from its dependency tree (``Require(Perm.X)`` or
``PUBLIC``). A route declaring neither fails ``test_every_route_declares_a_permission``.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from hms_server.api.deps import Public, Require
from hms_server.domain.permissions import Role, permissions_for

ROLES = [r.value for r in Role]


def _declared(route: APIRoute) -> list[object]:
    found: list[object] = []

    def walk(dependant) -> None:  # type: ignore[no-untyped-def]
        call = getattr(dependant, "call", None)
        if isinstance(call, Require | Public):
            found.append(call)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def _walk(routes, prefix: str = ""):  # type: ignore[no-untyped-def]
    # FastAPI 0.165 keeps each included router as one wrapper entry in ``app.routes``;
    # walk into them so every real route (with its full path) is checked.
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)


def _routes(app) -> list[tuple[str, APIRoute]]:  # type: ignore[no-untyped-def]
    return list(_walk(app.routes))


def test_the_walk_sees_every_documented_operation(app):
    documented = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }
    walked = {(method, path) for path, route in _routes(app) for method in route.methods}
    assert documented <= walked
    assert len(walked) > 20  # guards against a walk that silently finds nothing


def test_every_route_declares_a_permission(app):
    undeclared = [f"{sorted(r.methods)} {path}" for path, r in _routes(app) if not _declared(r)]
    assert undeclared == [], f"routes without a declared permission: {undeclared}"


def _concrete_path(path: str) -> str:
    # Any id works: authorization is decided before the record is looked up.
    return re.sub(r"\{[^}]+\}", "999999999", path)


def _cases(app):  # type: ignore[no-untyped-def]
    for path, route in _routes(app):
        declared = _declared(route)
        requirement = next((d for d in declared if isinstance(d, Require)), None)
        if requirement is None:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            yield path, method, requirement.permission


def _call(client, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    if path.endswith("/events"):
        # Streaming endpoint: only the status line matters here.
        with client.stream(method, path, headers=headers) as response:
            return response.status_code, None
    response = client.request(method, path, **kwargs)
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith(
            ("application/json", "application/problem+json", "application/fhir+json")
        )
        else None
    )
    return response.status_code, body


def test_missing_token_is_401_on_every_protected_route(app, client):
    failures, checked = [], 0
    for path, method, _ in _cases(app):
        status, _ = _call(client, method, _concrete_path(path), {})
        checked += 1
        if status != 401:
            failures.append(f"{method} {path} -> {status}")
    assert checked > 20
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_declared_routes(app, client, headers_for, role):
    headers = headers_for(role)
    granted = permissions_for([role])
    failures, checked = [], 0
    for path, method, permission in _cases(app):
        if path.endswith("/events") and permission in granted:
            continue  # an open stream; covered by the events tests
        if path.endswith("/auth/logout"):
            continue  # would end this session; every role may sign out (test_auth_flows)
        status, body = _call(client, method, _concrete_path(path), headers)
        checked += 1
        forbidden = status == 403 and (body or {}).get("code") == "forbidden"
        if permission in granted and (status == 401 or forbidden):
            failures.append(f"{role} refused {method} {path} ({status})")
        if permission not in granted and not forbidden:
            failures.append(f"{role} not refused {method} {path} ({status})")
        if status >= 500:
            failures.append(f"{role} got {status} on {method} {path}")
    assert checked > 20
    assert failures == []
