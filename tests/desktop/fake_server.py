"""An in-memory HMS server speaking the HTTP contract (docs/api-contract.md) over
``httpx.MockTransport``, so the real ApiClient and real widgets can be driven in tests.

It implements only what the desktop foundation uses, but answers the way the contract
says: problem+json errors with stable codes, rotating refresh tokens, TOTP for admins,
``version`` checks, idempotency keys, ``limit``/``offset`` paging and ``sort``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

BASE_URL = "https://hms.test"
ADMIN_TOTP = "123456"
DEFAULT_PASSWORD = "correct-horse-1"
ALL_WORKSPACES = [
    "reception",
    "clinical",
    "ward",
    "pharmacy",
    "billing",
    "staff",
    "reports",
    "administration",
]
ROLE_WORKSPACES = {
    "admin": ["administration", "reports"],
    "receptionist": ["reception"],
    "doctor": ["clinical"],
    "nurse": ["ward"],
    "pharmacist": ["pharmacy"],
    "billing_clerk": ["billing"],
    "hr_officer": ["staff"],
    "manager": ["reports", "staff"],
}


@dataclass
class FakeUser:
    id: int
    username: str
    full_name: str
    roles: list[str]
    password: str
    active: bool = True
    version: int = 1
    created_at: str = "2026-11-01T08:00:00Z"

    @property
    def totp_enabled(self) -> bool:
        return "admin" in self.roles

    def read(self) -> dict:
        return {
            "id": self.id,
            "username": self.username,
            "full_name": self.full_name,
            "roles": list(self.roles),
            "active": self.active,
            "totp_enabled": self.totp_enabled,
            "created_at": self.created_at,
            "version": self.version,
        }


def problem(
    status: int, code: str, detail: str, *, errors: list | None = None, headers: dict | None = None
) -> httpx.Response:
    body = {
        "type": f"https://hms.local/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json", **(headers or {})},
    )


@dataclass
class FakeHmsServer:
    """State plus a request handler. Flip ``down`` to make every request fail to connect."""

    users: dict[int, FakeUser] = field(default_factory=dict)
    audit: list[dict] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    down: bool = False
    lock_after_failures: int | None = None
    _access: dict[str, str] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)
    _used_refresh: set[str] = field(default_factory=set)
    reauth_failures: dict[str, int] = field(default_factory=dict)
    _idempotency: dict[str, httpx.Response] = field(default_factory=dict)
    _failures: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._mutex = threading.Lock()

    # -- seeding -----------------------------------------------------------------------
    def add_user(
        self, username: str, full_name: str, roles: list[str], password: str = DEFAULT_PASSWORD
    ) -> FakeUser:
        user = FakeUser(next(self._ids), username, full_name, roles, password)
        self.users[user.id] = user
        return user

    @classmethod
    def with_demo_data(cls, extra_users: int = 0, audit_entries: int = 0) -> FakeHmsServer:
        server = cls()
        server.add_user("admin", "Ada Admin", ["admin"], "admin-pass-123")
        server.add_user("reception", "Rita Reception", ["receptionist"], "reception-pass")
        server.add_user("manager", "Max Manager", ["manager"], "manager-pass")
        for i in range(extra_users):
            server.add_user(f"user{i:03d}", f"Staff Member {i:03d}", ["nurse"])
        start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
        for i in range(audit_entries):
            server.audit.append(
                {
                    "id": i + 1,
                    "at": (start + timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "user_id": 1,
                    "username": ["admin", "reception"][i % 2],
                    "patient_id": None if i % 3 else f"P{1000 + i}",
                    "category": ["auth", "patient", "user"][i % 3],
                    "action": ["login", "read", "update"][i % 3],
                    "outcome": "success" if i % 5 else "failure",
                    "workstation": "WS-RECEPTION-1",
                    "address": "10.0.4.21",
                    "detail": None,
                }
            )
        return server

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def expire_access_tokens(self) -> None:
        self._access.clear()

    def requests_to(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == "/api/v1" + path]

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        with self._mutex:
            self.requests.append(request)
            path = request.url.path.removeprefix("/api/v1")
            for method, pattern, handler in self._routes():
                match = re.fullmatch(pattern, path)
                if request.method == method and match:
                    return handler(request, *match.groups())
            return problem(404, "not_found", "No such endpoint.")

    def _routes(self):
        return [
            (
                "GET",
                r"/health",
                lambda r: httpx.Response(
                    200, json={"status": "ok", "database": "ok", "version": "test"}
                ),
            ),
            ("POST", r"/auth/login", self._login),
            ("POST", r"/auth/refresh", self._refresh_tokens),
            ("POST", r"/auth/logout", self._logout),
            ("POST", r"/auth/reauthenticate", self._reauthenticate),
            ("GET", r"/me", self._me),
            ("GET", r"/users", self._list_users),
            ("POST", r"/users", self._create_user),
            ("GET", r"/users/(\d+)", self._get_user),
            ("PATCH", r"/users/(\d+)", self._patch_user),
            ("POST", r"/users/(\d+)/(disable|enable)", self._set_active),
            ("POST", r"/users/(\d+)/reset-password", self._reset_password),
            ("GET", r"/audit", self._list_audit),
        ]

    # -- helpers -----------------------------------------------------------------------
    def _by_name(self, username: str) -> FakeUser | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def _current(self, request: httpx.Request) -> FakeUser | None:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        name = self._access.get(token)
        return self._by_name(name) if name else None

    def _issue(self, user: FakeUser) -> httpx.Response:
        n = next(self._tokens)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self._access[access] = user.username
        self._refresh[refresh] = user.username
        return httpx.Response(
            200,
            json={
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": 900,
                "user": user.read(),
            },
        )

    def _require(self, request: httpx.Request, role: str | None = None):
        user = self._current(request)
        if user is None:
            return None, problem(401, "not_authenticated", "Sign in first.")
        if role and role not in user.roles:
            return None, problem(403, "forbidden", "Your role does not allow this.")
        return user, None

    # -- auth --------------------------------------------------------------------------
    def _login(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if self.lock_after_failures is not None and self._failures >= self.lock_after_failures:
            return problem(
                423,
                "account_locked",
                "Too many failed sign-ins. Account locked.",
                headers={"Retry-After": "30"},
            )
        user = self._by_name(body.get("username", ""))
        if user is None or user.password != body.get("password") or not user.active:
            self._failures += 1
            return problem(401, "invalid_credentials", "Wrong username or password.")
        if user.totp_enabled:
            if not body.get("totp"):
                return problem(401, "totp_required", "Enter the code from your authenticator.")
            if body["totp"] != ADMIN_TOTP:
                return problem(401, "invalid_totp", "That authenticator code is not valid.")
        return self._issue(user)

    def _refresh_tokens(self, request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content).get("refresh_token")
        if token in self._used_refresh or token not in self._refresh:
            return problem(401, "not_authenticated", "Your session has ended.")
        self._used_refresh.add(token)
        username = self._refresh.pop(token)
        return self._issue(self._by_name(username))

    def _logout(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request)
        if error:
            return error
        token = request.headers["authorization"].removeprefix("Bearer ")
        self._access.pop(token, None)
        return httpx.Response(204)

    def _reauthenticate(self, request: httpx.Request) -> httpx.Response:
        user, error = self._require(request)
        if error:
            return error
        if json.loads(request.content).get("password") != user.password:
            # Like the real server: five wrong passwords end the session.
            self.reauth_failures[user.username] = self.reauth_failures.get(user.username, 0) + 1
            if self.reauth_failures[user.username] >= 5:
                self.expire_access_tokens()
                self._refresh.clear()
                return problem(401, "session_ended", "Too many wrong passwords: this session "
                               "has been ended for safety. Sign in again.")
            return problem(401, "invalid_credentials", "Wrong password.")
        self.reauth_failures.pop(user.username, None)
        return httpx.Response(204)

    def _me(self, request: httpx.Request) -> httpx.Response:
        user, error = self._require(request)
        if error:
            return error
        allowed = {ws for role in user.roles for ws in ROLE_WORKSPACES.get(role, [])}
        # Deliberately unordered in a set; the contract gives them in order.
        workspaces = [ws for ws in ALL_WORKSPACES if ws in allowed]
        return httpx.Response(
            200, json={**user.read(), "permissions": [], "workspaces": workspaces}
        )

    # -- users -------------------------------------------------------------------------
    def _list_users(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        params = request.url.params
        q = params.get("q", "").lower()
        rows = [
            u
            for u in self.users.values()
            if not q or q in u.username.lower() or q in u.full_name.lower()
        ]
        sort = params.get("sort", "username")
        key = sort.lstrip("-")
        if key not in ("username", "full_name", "created_at"):
            return problem(
                422,
                "validation_error",
                "Unknown sort field.",
                errors=[{"field": "query.sort", "message": "not allowed"}],
            )
        rows.sort(key=lambda u: getattr(u, key), reverse=sort.startswith("-"))
        limit, offset = int(params.get("limit", 50)), int(params.get("offset", 0))
        return httpx.Response(
            200,
            json={"items": [u.read() for u in rows[offset : offset + limit]], "total": len(rows)},
        )

    def _create_user(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        key = request.headers.get("idempotency-key")
        if key and key in self._idempotency:
            return self._idempotency[key]
        body = json.loads(request.content)
        if self._by_name(body["username"]):
            return problem(409, "conflict", "That username is taken.")
        if body["password"] in ("password123", "password1234", "12345678"):
            return problem(422, "weak_password", "This password is too common.")
        user = self.add_user(body["username"], body["full_name"], body["roles"], body["password"])
        payload = user.read()
        if user.totp_enabled:
            payload["totp_provisioning_uri"] = (
                f"otpauth://totp/HMS:{user.username}?secret=JBSWY3DPEHPK3PXP&issuer=HMS"
            )
        response = httpx.Response(201, json=payload)
        if key:
            self._idempotency[key] = response
        return response

    def _get_user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        target = self.users.get(int(user_id))
        if target is None:
            return problem(404, "not_found", "No such user.")
        return httpx.Response(200, json=target.read())

    def _patch_user(self, request: httpx.Request, user_id: str) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        target = self.users.get(int(user_id))
        if target is None:
            return problem(404, "not_found", "No such user.")
        body = json.loads(request.content)
        if body.get("version") != target.version:
            return problem(409, "version_conflict", "This user was changed by someone else.")
        if "full_name" in body:
            target.full_name = body["full_name"]
        if "roles" in body:
            target.roles = list(body["roles"])
        target.version += 1
        return httpx.Response(200, json=target.read())

    def _set_active(self, request: httpx.Request, user_id: str, action: str) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        target = self.users[int(user_id)]
        target.active = action == "enable"
        target.version += 1
        return httpx.Response(200, json=target.read())

    def _reset_password(self, request: httpx.Request, user_id: str) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        self.users[int(user_id)].password = json.loads(request.content)["new_password"]
        return httpx.Response(204)

    # -- audit -------------------------------------------------------------------------
    def _list_audit(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "admin")
        if error:
            return error
        params = request.url.params
        rows = list(self.audit)
        for name, key in (
            ("user", "username"),
            ("action", "action"),
            ("category", "category"),
            ("outcome", "outcome"),
            ("patient_id", "patient_id"),
        ):
            if params.get(name):
                rows = [r for r in rows if str(r.get(key)) == params[name]]
        if params.get("since"):
            rows = [r for r in rows if r["at"] >= params["since"]]
        if params.get("until"):
            rows = [r for r in rows if r["at"] < params["until"]]
        sort = params.get("sort", "-at")
        key = sort.lstrip("-")
        rows.sort(
            key=lambda r: (r.get(key) is None, str(r.get(key) or "")), reverse=sort.startswith("-")
        )
        limit, offset = int(params.get("limit", 50)), int(params.get("offset", 0))
        return httpx.Response(
            200, json={"items": rows[offset : offset + limit], "total": len(rows)}
        )
