"""An in-memory HMS server built from the shared contract (``hms_contract``), served over
``httpx.MockTransport``, so the real ``ApiClient`` and the real widgets can be driven in
tests without PostgreSQL.

It is built from the same pydantic models as the server, so a contract change fails the
desktop tests at once:

- every route names the OpenAPI path it stands for and the contract model of its success
  answer (``Route``); ``test_fakes_follow_the_contract`` checks both against the real
  server's OpenAPI document;
- every success answer passes through that model before it is sent (a fake that answers a
  field the contract does not have, or lacks one it requires, is an error);
- request bodies are parsed with the server's request models (bad input gets the server's
  422 ``validation_error``); state is kept as contract models where the server keeps rows.

Errors inside a fake (a bug, or an answer that no longer fits the contract) are recorded in
``errors`` and answered with a 500; an autouse fixture fails the test that caused them.

This base class covers sign-in, ``/me``, users and the audit log; the reception and clinical
fakes add their areas.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from hms_contract.audit import AuditEntryRead
from hms_contract.auth import (
    HospitalRead,
    LoginRequest,
    MeRead,
    ReauthenticateRequest,
    RefreshRequest,
    TokenResponse,
    UserRead,
)
from hms_contract.clinical import BreakGlassRead, BreakGlassReview
from hms_contract.common import Page
from hms_contract.health import HealthRead
from hms_contract.messaging import MessageRead
from hms_contract.staff import StaffRead
from hms_contract.users import PasswordReset, UserCreate, UserCreated, UserUpdate
from hms_server.domain.permissions import permissions_for
from tests.desktop import fake_reports
from tests.desktop.fake_reports import REPORTS

BASE_URL = "https://hms.test"
ADMIN_TOTP = "123456"
DEFAULT_PASSWORD = "correct-horse-1"
CREATED_AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
HOSPITAL = HospitalRead(
    name="Fake General Hospital", timezone="UTC", address="1 Test Street", phone="+44 20 7946 0999"
)
ALL_WORKSPACES = [
    "reception",
    "clinical",
    "ward",
    "pharmacy",
    "billing",
    "staff",
    "reports",
    "administration",
    "my_work",
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
# As on the server, every role has its own staff self-service after its workspaces.
for _keys in ROLE_WORKSPACES.values():
    _keys.append("my_work")


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list | None = None,
    headers: dict | None = None,
    **extra: Any,
) -> httpx.Response:
    """An RFC 9457 answer the way the server writes them (extension members in ``extra``)."""
    body: dict[str, Any] = {
        "type": f"https://hms.local/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        **_jsonable(extra),
    }
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json", **(headers or {})},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class Refused(Exception):
    """Raised by a handler (or a helper it calls) to answer with ``response`` at once."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def parse_body(request: httpx.Request, model: type[BaseModel]) -> Any:
    """The request body as the server's request ``model``; bad input is refused with the
    server's 422 (every bad field as ``body.<field>``)."""
    try:
        return model.model_validate_json(request.content or b"null")
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(["body", *(str(p) for p in e["loc"])]),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        raise Refused(problem(422, "validation_error", "Invalid input", errors=errors)) from None


def page(items: list, total: int | None = None) -> dict[str, Any]:
    """A list answer ``{items, total}`` (validated by the route's ``Page[T]`` model)."""
    return {"items": list(items), "total": len(items) if total is None else total}


def paged(request: httpx.Request, rows: list, default_limit: int = 50) -> dict[str, Any]:
    """``limit``/``offset`` applied to ``rows`` the way every list endpoint does."""
    limit = int(request.url.params.get("limit", default_limit))
    offset = int(request.url.params.get("offset", 0))
    return page(rows[offset : offset + limit], total=len(rows))


@dataclass(frozen=True)
class Route:
    """One endpoint of a fake: ``path`` is the server's OpenAPI path below ``/api/v1``
    (``/users/{user_id}``); ``answers`` the contract model of its success answer (``None``
    for 204). The handler gets the request and the path parameters as strings, and returns
    the answer's data (a model, or a dict the model validates) or an ``httpx.Response``."""

    method: str
    path: str
    handler: Callable[..., Any]
    answers: Any = None
    status: int = 200

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None

    def answer(self, result: Any) -> httpx.Response:
        if isinstance(result, httpx.Response):
            return result
        if self.answers is None:
            if result is not None:
                raise AssertionError(f"{self.method} {self.path} answers no content")
            return httpx.Response(204)
        value = _adapter(self.answers).validate_python(_jsonable(result))
        return httpx.Response(
            self.status,
            content=_adapter(self.answers).dump_json(value),
            headers={"content-type": "application/json"},
        )


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]


CREATED_FAKES: list[FakeHmsServer] = []
"""Fakes created in the running test (an autouse fixture empties the list and checks their
``errors`` afterwards)."""


@dataclass
class FakeHmsServer:
    """State plus a request handler. Flip ``down`` to make every request fail to connect.

    ``users`` are the contract's ``UserRead`` (tests change them in place, as another desk
    would), ``passwords`` their passwords by id.
    """

    users: dict[int, UserRead] = field(default_factory=dict)
    passwords: dict[int, str] = field(default_factory=dict)
    audit: list[AuditEntryRead] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    down: bool = False
    lock_after_failures: int | None = None
    logo: bytes | None = None  # GET /hospital/logo
    grants: list[BreakGlassRead] = field(default_factory=list)
    messages: list[MessageRead] = field(default_factory=list)
    _access: dict[str, str] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)
    _used_refresh: set[str] = field(default_factory=set)
    reauth_failures: dict[str, int] = field(default_factory=dict)
    _idempotency: dict[str, httpx.Response] = field(default_factory=dict)
    _failures: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._mutex = threading.RLock()
        CREATED_FAKES.append(self)

    # -- seeding -----------------------------------------------------------------------
    def add_user(
        self, username: str, full_name: str, roles: list[str], password: str = DEFAULT_PASSWORD
    ) -> UserRead:
        user = UserRead(
            id=next(self._ids),
            username=username,
            full_name=full_name,
            roles=list(roles),
            active=True,
            totp_enabled="admin" in roles,
            created_at=CREATED_AT,
            version=1,
        )
        self.users[user.id] = user
        self.passwords[user.id] = password
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
        server.audit = [
            AuditEntryRead(
                id=i + 1,
                at=start + timedelta(minutes=7 * i),
                user_id=1,
                username=["admin", "reception"][i % 2],
                patient_id=None if i % 3 else 1000 + i,
                patient_mrn=None if i % 3 else f"HMS{1000 + i:09d}",
                patient_name=None if i % 3 else f"Family{i:03d}, Given{i:03d}",
                category=["auth", "patient", "user"][i % 3],
                action=["login", "read", "update"][i % 3],
                outcome="success" if i % 5 else "failure",
                workstation="WS-RECEPTION-1",
                address="10.0.4.21",
                detail={},
            )
            for i in range(audit_entries)
        ]
        server.grants = [
            BreakGlassRead(
                id=i + 1,
                patient_id=2000 + i,
                patient_mrn=f"HMS{2000 + i:09d}",
                patient_name=f"Emergency{i}, Patient",
                user_id=7,
                username="dr.night",
                full_name="Dr Nina Night",
                reason="Collapsed in the waiting room, unconscious",
                granted_at=start + timedelta(hours=i),
                expires_at=start + timedelta(hours=i + 1),
                active=False,
                workstation="WS-ED-2",
                access_count=3 + i,
                reviewed_at=start + timedelta(days=1) if i == 0 else None,
                reviewed_by="admin" if i == 0 else None,
            )
            for i in range(3)
        ]
        statuses = ("sent", "queued", "failed", "dead", "sent")
        server.messages = [
            MessageRead(
                id=i + 1,
                channel="sms" if i % 2 == 0 else "email",
                recipient="+44••••••0123" if i % 2 == 0 else "w••••@example.org",
                template="appointment_confirmation",
                status=status,
                attempts=2 if status in ("failed", "dead") else 1,
                next_attempt_at=start,
                expires_at=None,
                last_error="gateway_timeout" if status in ("failed", "dead") else None,
                provider_message_id=None,
                patient_id=1000 + i,
                appointment_id=None,
                created_at=start + timedelta(minutes=i),
                sent_at=start if status == "sent" else None,
            )
            for i, status in enumerate(statuses)
        ]
        return server

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def expire_access_tokens(self) -> None:
        self._access.clear()

    def revoke_refresh_tokens(self) -> None:
        """The server ended every session (a refresh is refused from now on)."""
        self._refresh.clear()

    def requests_to(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == "/api/v1" + path]

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        with self._mutex:
            self.requests.append(request)
            return self.dispatch(request)

    def dispatch(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        for route in self.routes():
            params = route.match(request.method, path)
            if params is None:
                continue
            try:
                return route.answer(route.handler(request, **params))
            except Refused as refused:
                return refused.response
            except Exception as exc:  # a fake that no longer fits the contract
                self.errors.append(f"{request.method} {path}: {type(exc).__name__}: {exc}")
                return problem(500, "server_error", "The fake server failed; see its errors.")
        return problem(404, "not_found", "No such endpoint.")

    def routes(self) -> list[Route]:
        """Every endpoint of this fake (subclasses add theirs to the base list)."""
        return [
            Route(
                "GET",
                "/health",
                lambda r: HealthRead(status="ok", database="ok", version="test"),
                HealthRead,
            ),
            Route("POST", "/auth/login", self._login, TokenResponse),
            Route("POST", "/auth/refresh", self._refresh_tokens, TokenResponse),
            Route("POST", "/auth/logout", self._logout),
            Route("POST", "/auth/reauthenticate", self._reauthenticate),
            Route("GET", "/me", self._me, MeRead),
            # The fake's users have no staff record (My work shows its "not linked" page).
            Route("GET", "/me/staff-record", self._no_staff_record, StaffRead),
            Route("GET", "/users", self._list_users, Page[UserRead]),
            Route("POST", "/users", self._create_user, UserCreated, 201),
            Route("GET", "/users/{user_id}", self._get_user, UserRead),
            Route("PATCH", "/users/{user_id}", self._patch_user, UserRead),
            Route("POST", "/users/{user_id}/disable", self._set_active(False), UserRead),
            Route("POST", "/users/{user_id}/enable", self._set_active(True), UserRead),
            Route("POST", "/users/{user_id}/reset-password", self._reset_password),
            Route("GET", "/audit", self._list_audit, Page[AuditEntryRead]),
            Route("GET", "/hospital", lambda r: self._hospital(r), HospitalRead),
            Route("GET", "/break-glass", self._list_grants, Page[BreakGlassRead]),
            Route("POST", "/break-glass/{grant_id}/review", self._review_grant, BreakGlassRead),
            Route("GET", "/messages", self._list_messages, Page[MessageRead]),
            Route("POST", "/messages/{message_id}/retry", self._retry_message, MessageRead),
            Route("GET", "/hospital/logo", self._logo),
            # reports (the manager's and the admin's reports workspace)
            *(Route("GET", f"/reports/{name}", fn, model) for name, (fn, model) in REPORTS.items()),
            *(
                Route("GET", f"/reports/{name}.csv", lambda r, n=name: fake_reports.csv_table(r, n))
                for name in REPORTS
            ),
        ]

    def _list_grants(self, request: httpx.Request) -> Any:
        self.require(request, "admin")
        rows = [
            g
            for g in self.grants
            if request.url.params.get("unreviewed") != "true" or g.reviewed_at is None
        ]
        return paged(request, sorted(rows, key=lambda g: g.granted_at, reverse=True))

    def _review_grant(self, request: httpx.Request, grant_id: str) -> BreakGlassRead:
        self.require(request, "admin")
        body = parse_body(request, BreakGlassReview)
        n = next(i for i, g in enumerate(self.grants) if g.id == int(grant_id))
        self.grants[n] = self.grants[n].model_copy(
            update={
                "reviewed_at": datetime.now(UTC),
                "reviewed_by": "admin",
                "review_note": body.note,
            }
        )
        return self.grants[n]

    def _list_messages(self, request: httpx.Request) -> Any:
        self.require(request, "admin")
        status = request.url.params.get("status")
        rows = [m for m in self.messages if not status or m.status == status]
        return paged(request, sorted(rows, key=lambda m: m.created_at, reverse=True))

    def _retry_message(self, request: httpx.Request, message_id: str) -> Any:
        self.require(request, "admin")
        n = next(i for i, m in enumerate(self.messages) if m.id == int(message_id))
        if self.messages[n].status not in ("failed", "dead", "expired"):
            return problem(409, "conflict", "Only failed, dead or expired messages retry.")
        self.messages[n] = self.messages[n].model_copy(update={"status": "queued"})
        return self.messages[n]

    def _hospital(self, request: httpx.Request) -> HospitalRead:
        self.require(request)
        return HOSPITAL.model_copy(update={"has_logo": self.logo is not None})

    def _logo(self, request: httpx.Request) -> httpx.Response:
        self.require(request)
        if self.logo is None:
            return problem(404, "not_found", "No logo.")
        return httpx.Response(200, content=self.logo, headers={"content-type": "image/png"})

    # -- helpers -----------------------------------------------------------------------
    def _by_name(self, username: str) -> UserRead | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def current_user(self, request: httpx.Request) -> UserRead | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        name = self._access.get(token)
        return self._by_name(name) if name else None

    def require(self, request: httpx.Request, role: str | None = None) -> UserRead:
        """The signed-in user; 401 without a valid token, 403 without ``role``."""
        user = self.current_user(request)
        if user is None:
            raise Refused(problem(401, "not_authenticated", "Sign in first."))
        if role and role not in user.roles:
            raise Refused(problem(403, "forbidden", "Your role does not allow this."))
        return user

    def _user(self, user_id: str) -> UserRead:
        user = self.users.get(int(user_id))
        if user is None:
            raise Refused(problem(404, "not_found", "No such user."))
        return user

    def _issue(self, user: UserRead) -> TokenResponse:
        n = next(self._tokens)
        access, refresh = f"access-{n}", f"refresh-{n:016d}"
        self._access[access] = user.username
        self._refresh[refresh] = user.username
        return TokenResponse(access_token=access, refresh_token=refresh, expires_in=900, user=user)

    # -- auth --------------------------------------------------------------------------
    def _login(self, request: httpx.Request) -> Any:
        body = parse_body(request, LoginRequest)
        if self.lock_after_failures is not None and self._failures >= self.lock_after_failures:
            return problem(
                423,
                "account_locked",
                "Too many failed sign-ins. Account locked.",
                headers={"Retry-After": "30"},
            )
        user = self._by_name(body.username)
        if user is None or self.passwords[user.id] != body.password or not user.active:
            self._failures += 1
            return problem(401, "invalid_credentials", "Wrong username or password.")
        if user.totp_enabled:
            if not body.totp:
                return problem(401, "totp_required", "Enter the code from your authenticator.")
            if body.totp != ADMIN_TOTP:
                return problem(401, "invalid_totp", "That authenticator code is not valid.")
        return self._issue(user)

    def _refresh_tokens(self, request: httpx.Request) -> Any:
        token = parse_body(request, RefreshRequest).refresh_token
        if token in self._used_refresh or token not in self._refresh:
            return problem(401, "not_authenticated", "Your session has ended.")
        self._used_refresh.add(token)
        return self._issue(self._by_name(self._refresh.pop(token)))

    def _logout(self, request: httpx.Request) -> None:
        self.require(request)
        self._access.pop(request.headers["authorization"].removeprefix("Bearer "), None)

    def _reauthenticate(self, request: httpx.Request) -> Any:
        user = self.require(request)
        if parse_body(request, ReauthenticateRequest).password != self.passwords[user.id]:
            # Like the real server: five wrong passwords end the session.
            self.reauth_failures[user.username] = self.reauth_failures.get(user.username, 0) + 1
            if self.reauth_failures[user.username] >= 5:
                self.expire_access_tokens()
                self.revoke_refresh_tokens()
                return problem(
                    401,
                    "session_ended",
                    "Too many wrong passwords: this session "
                    "has been ended for safety. Sign in again.",
                )
            return problem(401, "invalid_credentials", "Wrong password.")
        self.reauth_failures.pop(user.username, None)
        return None

    def _no_staff_record(self, request: httpx.Request) -> httpx.Response:
        self.require(request)
        return problem(
            404, "no_staff_record", "You have no staff record; ask HR to link your sign-in."
        )

    def _me(self, request: httpx.Request) -> MeRead:
        user = self.require(request)
        allowed = {ws for role in user.roles for ws in ROLE_WORKSPACES.get(role, [])}
        # Collected in a set; the contract gives them in the rail's order.
        workspaces = [ws for ws in ALL_WORKSPACES if ws in allowed]
        # The server's own role → permission table, so screens that show what a role may
        # do see what they would see against the server.
        permissions = sorted(permissions_for(user.roles))
        return MeRead(
            **user.model_dump(),
            permissions=permissions,
            workspaces=workspaces,
            hospital=HOSPITAL.model_copy(update={"has_logo": self.logo is not None}),
        )

    # -- users -------------------------------------------------------------------------
    def _list_users(self, request: httpx.Request) -> Any:
        self.require(request, "admin")
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
        return paged(request, rows)

    def _create_user(self, request: httpx.Request) -> Any:
        self.require(request, "admin")
        key = request.headers.get("idempotency-key")
        if key and key in self._idempotency:
            return self._idempotency[key]
        body = parse_body(request, UserCreate)
        if self._by_name(body.username):
            return problem(409, "conflict", "That username is taken.")
        if body.password in ("password123", "password1234", "12345678"):
            return problem(422, "weak_password", "This password is too common.")
        user = self.add_user(body.username, body.full_name, body.roles, body.password)
        uri = (
            f"otpauth://totp/HMS:{user.username}?secret=JBSWY3DPEHPK3PXP&issuer=HMS"
            if user.totp_enabled
            else None
        )
        response = self.routes_by_name("POST", "/users").answer(
            UserCreated(**user.model_dump(), totp_provisioning_uri=uri)
        )
        if key:
            self._idempotency[key] = response
        return response

    def routes_by_name(self, method: str, path: str) -> Route:
        return next(r for r in self.routes() if r.method == method and r.path == path)

    def _get_user(self, request: httpx.Request, user_id: str) -> UserRead:
        self.require(request, "admin")
        return self._user(user_id)

    def _patch_user(self, request: httpx.Request, user_id: str) -> Any:
        self.require(request, "admin")
        target = self._user(user_id)
        body = parse_body(request, UserUpdate)
        if body.version != target.version:
            return problem(409, "version_conflict", "This user was changed by someone else.")
        if body.full_name is not None:
            target.full_name = body.full_name
        if body.roles is not None:
            target.roles = list(body.roles)
        target.version += 1
        return target

    def _set_active(self, active: bool) -> Callable[..., UserRead]:
        def handler(request: httpx.Request, user_id: str) -> UserRead:
            self.require(request, "admin")
            target = self._user(user_id)
            target.active = active
            target.version += 1
            return target

        return handler

    def _reset_password(self, request: httpx.Request, user_id: str) -> None:
        self.require(request, "admin")
        self.passwords[self._user(user_id).id] = parse_body(request, PasswordReset).new_password

    # -- audit -------------------------------------------------------------------------
    def _list_audit(self, request: httpx.Request) -> Any:
        self.require(request, "admin")
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
                rows = [r for r in rows if str(getattr(r, key)) == params[name]]
        if params.get("since"):
            since = datetime.fromisoformat(params["since"])
            rows = [r for r in rows if r.at >= since]
        if params.get("until"):
            until = datetime.fromisoformat(params["until"])
            rows = [r for r in rows if r.at < until]
        sort = params.get("sort", "-at")
        key = sort.lstrip("-")
        rows.sort(
            key=lambda r: (getattr(r, key) is None, str(getattr(r, key) or "")),
            reverse=sort.startswith("-"),
        )
        return paged(request, rows)
