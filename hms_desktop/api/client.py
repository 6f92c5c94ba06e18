"""The one transport to the HMS server (contract: ``hms_contract``). No Qt here.

``ApiClient`` is the only code that speaks HTTP. Its public methods (``get``, ``post``,
``patch``, ``put``, ``delete``, ``get_bytes``, ``post_form``, ``stream``) take and return
``hms_contract`` models; the per-area APIs (``hms_desktop/api/<area>.py``) are thin typed
wrappers over them. Tokens, refresh, retries, idempotency keys and the mapping of problem
documents to typed exceptions happen here, once.

Threading: one ``ApiClient`` is shared by all worker threads of the task runner. httpx's
connection pool is thread-safe; the token pair is replaced under a lock, and a refresh is
done once even when several requests see a 401 at the same time.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from hms_contract.auth import (
    LoginRequest,
    MeRead,
    ReauthenticateRequest,
    RefreshRequest,
    TokenResponse,
    UserRead,
)
from hms_contract.health import HealthRead
from hms_desktop import __version__
from hms_desktop.api.errors import ApiProblem, ServerUnavailableError, UnexpectedAnswerError

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# Proxies answer these when the application server behind them is down.
_GATEWAY_STATUSES = frozenset({502, 503, 504})


def normalize_server_url(address: str) -> str:
    """Turn what a user types (``hms.lan:8443``) into a base URL (``https://hms.lan:8443``).

    Raises ``ValueError`` for something that cannot be a server address.
    """
    text = address.strip()
    if not text:
        raise ValueError("empty server address")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a server address: {address!r}")
    path = parts.path.rstrip("/")
    path = path.removesuffix(API_PREFIX)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _parse_retry_after(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when - datetime.now(UTC)).total_seconds()))


def problem_from_response(response: httpx.Response) -> ApiProblem:
    """Map an error response to ``ApiProblem`` (problem+json, or a plain body as fallback)."""
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    code = body.get("code") or f"http_{status}"
    detail = body.get("detail") or body.get("title") or response.reason_phrase or "Error"
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    return ApiProblem(
        status=status,
        code=str(code),
        detail=str(detail),
        errors=errors,
        title=str(body.get("title") or ""),
        retry_after=_parse_retry_after(response.headers.get("Retry-After")),
        body=body,
    )


def _problem_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _is_problem(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "")
    return "json" in ctype


class ApiClient:
    """Talks to one HMS server: tokens, refresh, retries, idempotency keys, error mapping.

    - Every request carries ``X-Workstation: <hostname>``.
    - A 401 ``not_authenticated`` triggers one token refresh and one retry.
    - Network failures become ``ServerUnavailableError``; error answers become ``ApiProblem``;
      an answer that does not fit its contract model becomes ``UnexpectedAnswerError``.
    - POSTs that create something carry an ``Idempotency-Key`` that is reused by the client's
      own retries, so a retry after a dropped connection never creates twice.
    - ``ca_file`` pins the hospital's LAN CA: only certificates issued by it are trusted.

    Tokens are kept in memory only; persisting the refresh token is the caller's choice
    (see ``session_store``), announced through ``on_refresh_token_changed``.
    """

    def __init__(
        self,
        server: str,
        *,
        ca_file: str | None = None,
        transport: httpx.BaseTransport | None = None,
        workstation: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 2,
        retry_backoff: float = 0.3,
    ) -> None:
        self.server = normalize_server_url(server)
        self.workstation = workstation or socket.gethostname()
        self._retries = retries
        self._retry_backoff = retry_backoff
        verify: ssl.SSLContext | bool = True
        if ca_file:
            # Only the LAN CA is trusted: a certificate from any public CA is refused.
            verify = ssl.create_default_context(cafile=ca_file)
        self._http = httpx.Client(
            base_url=self.server + API_PREFIX,
            transport=transport,
            verify=verify,
            timeout=timeout,
            headers={
                "X-Workstation": self.workstation,
                "Accept": "application/json, application/problem+json",
                "User-Agent": f"hms-desktop/{__version__}",
            },
        )
        self._token_lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self.on_refresh_token_changed: Callable[[str | None], None] | None = None

    # -- token state -------------------------------------------------------------------
    @property
    def refresh_token(self) -> str | None:
        return self._refresh_token

    @property
    def is_authenticated(self) -> bool:
        return self._access_token is not None

    def _set_tokens(self, tokens: TokenResponse) -> None:
        with self._token_lock:
            self._access_token = tokens.access_token
            self._refresh_token = tokens.refresh_token
        if self.on_refresh_token_changed:
            self.on_refresh_token_changed(self._refresh_token)

    def clear_tokens(self) -> None:
        """Forget both tokens (memory only; the keyring is the session store's business)."""
        with self._token_lock:
            self._access_token = None
            self._refresh_token = None

    def close(self) -> None:
        self.clear_tokens()
        self._http.close()

    # -- transport ---------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
        idempotency_key: str | None = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # Resending after the request may have reached the server is only safe when the
        # server can recognise the repeat (GET, or a POST with an idempotency key).
        resend_safe = method in ("GET", "HEAD") or idempotency_key is not None
        query = {k: v for k, v in params.items() if v not in (None, "")} if params else None
        attempt = 0
        refreshed = False
        while True:
            access = self._access_token
            if auth and access:
                headers["Authorization"] = f"Bearer {access}"
            else:
                headers.pop("Authorization", None)
            try:
                response = self._http.request(
                    method,
                    path,
                    json=json,
                    params=query,
                    headers=headers,
                    data=data,
                    files=files,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the server: always safe to try again.
                if attempt < self._retries:
                    attempt += 1
                    time.sleep(self._retry_backoff * attempt)
                    continue
                raise ServerUnavailableError(self.server, _describe(exc)) from exc
            except httpx.TransportError as exc:
                if resend_safe and attempt < self._retries:
                    attempt += 1
                    time.sleep(self._retry_backoff * attempt)
                    continue
                raise ServerUnavailableError(self.server, _describe(exc)) from exc

            if (
                response.status_code == 401
                and auth
                and not refreshed
                and self._refresh_token
                and _problem_code(response) == "not_authenticated"
            ):
                refreshed = True
                self._refresh_after_401(access)
                continue
            if response.status_code in _GATEWAY_STATUSES and not _is_problem(response):
                raise ServerUnavailableError(self.server, f"HTTP {response.status_code}")
            if response.is_error:
                raise problem_from_response(response)
            return response

    def _refresh_after_401(self, access_used: str | None) -> None:
        with self._token_lock:
            # Another thread may have refreshed while this request was in flight.
            if self._access_token is not None and self._access_token != access_used:
                return
            refresh = self._refresh_token
        if not refresh:
            raise ApiProblem(401, "not_authenticated", "Your session has ended.")
        self._do_refresh(refresh)

    def _do_refresh(self, refresh: str) -> None:
        try:
            response = self._request(
                "POST",
                "/auth/refresh",
                json=_json_body(RefreshRequest(refresh_token=refresh)),
                auth=False,
            )
        except ApiProblem as problem:
            if problem.status == 401:
                self.clear_tokens()
                if self.on_refresh_token_changed:
                    self.on_refresh_token_changed(None)
            raise
        self._set_tokens(_parse(response, TokenResponse))

    # -- the public transport: area APIs (``hms_desktop/api/<area>.py``) use only these ---
    def get(self, path: str, model: Any = None, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path``; the JSON answer parsed into ``model`` (a contract class such as
        ``PatientRead`` or ``Page[PatientSummary]``) when given."""
        return _parse(self._request("GET", path, params=params), model)

    def post(self, path: str, body: Any = None, model: Any = None, *, creates: bool = False) -> Any:
        """POST a contract model (or plain JSON). ``creates=True`` adds an Idempotency-Key
        that the client's own retries reuse, so a retried create never creates twice."""
        key = str(uuid.uuid4()) if creates else None
        return _parse(
            self._request("POST", path, json=_json_body(body), idempotency_key=key), model
        )

    def patch(self, path: str, body: Any, model: Any = None) -> Any:
        return _parse(self._request("PATCH", path, json=_json_body(body)), model)

    def put(self, path: str, body: Any, model: Any = None) -> Any:
        return _parse(self._request("PUT", path, json=_json_body(body)), model)

    def delete(self, path: str, model: Any = None) -> Any:
        return _parse(self._request("DELETE", path), model)

    def get_bytes(self, path: str, *, params: Mapping[str, Any] | None = None) -> tuple[bytes, str]:
        """Raw body and content type (documents, exports)."""
        response = self._request("GET", path, params=params)
        return response.content, response.headers.get("content-type", "")

    def post_form(
        self,
        path: str,
        data: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes]],
        model: Any = None,
        *,
        creates: bool = False,
    ) -> Any:
        """POST ``multipart/form-data`` (a file upload); ``files`` maps a field to
        ``(file name, bytes)``. Same retries, refresh and error mapping as ``post``."""
        key = str(uuid.uuid4()) if creates else None
        return _parse(
            self._request("POST", path, data=data, files=files, idempotency_key=key), model
        )

    @contextlib.contextmanager
    def stream(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> Iterator[httpx.Response]:
        """``GET path`` as an open stream (server-sent events). A 401 refreshes the access
        token once and reconnects; other error answers raise ``ApiProblem``, network
        trouble ``ServerUnavailableError``. The caller reads ``iter_lines()``."""
        refreshed = False
        while True:
            access = self._access_token
            sent = dict(headers or {})
            if access:
                sent["Authorization"] = f"Bearer {access}"
            try:
                with self._http.stream("GET", path, headers=sent, timeout=timeout) as response:
                    if not (response.status_code == 401 and not refreshed and self._refresh_token):
                        if response.is_error:
                            response.read()
                            raise problem_from_response(response)
                        yield response
                        return
            except httpx.TransportError as exc:
                raise ServerUnavailableError(self.server, _describe(exc)) from exc
            # Access tokens are short-lived: refresh once (outside the closed stream) and
            # reconnect at once.
            refreshed = True
            self._refresh_after_401(access)

    # -- auth --------------------------------------------------------------------------
    def login(self, username: str, password: str, totp: str | None = None) -> UserRead:
        """Sign in. Raises ``ApiProblem`` (e.g. ``totp_required``, ``invalid_credentials``)."""
        values = {"username": username, "password": password, **({"totp": totp} if totp else {})}
        body = request_body(LoginRequest, values)
        response = self._request("POST", "/auth/login", json=_json_body(body), auth=False)
        tokens = _parse(response, TokenResponse)
        self._set_tokens(tokens)
        return tokens.user

    def resume(self, refresh_token: str) -> MeRead:
        """Start from a remembered refresh token; returns ``GET /me``."""
        self._refresh_token = refresh_token
        self._do_refresh(refresh_token)
        return self.me()

    def logout(self) -> None:
        """End the session on the server (best effort) and forget the tokens."""
        try:
            if self._access_token:
                self._request("POST", "/auth/logout")
        finally:
            self.clear_tokens()

    def reauthenticate(self, password: str) -> None:
        """Confirm the signed-in user's password (idle lock); ``ApiProblem`` if wrong."""
        self.post(
            "/auth/reauthenticate", request_body(ReauthenticateRequest, {"password": password})
        )

    def me(self) -> MeRead:
        """The signed-in user with ``permissions``, ``workspaces`` and the ``hospital``."""
        return self.get("/me", MeRead)

    def health(self) -> HealthRead:
        """``GET /health``; a 503 ``degraded`` answer is returned, not raised."""
        try:
            response = self._http.get("/health", timeout=5.0)
        except httpx.TransportError as exc:
            raise ServerUnavailableError(self.server, _describe(exc)) from exc
        if response.status_code == 503 and _is_problem(response):
            with contextlib.suppress(UnexpectedAnswerError):
                return _parse(response, HealthRead)
        if response.status_code in _GATEWAY_STATUSES:
            raise ServerUnavailableError(self.server, f"HTTP {response.status_code}")
        if response.is_error:
            raise problem_from_response(response)
        return _parse(response, HealthRead)


M = TypeVar("M", bound=BaseModel)


def request_body(model: type[M], values: Mapping[str, Any]) -> M:
    """The contract model ``model`` built from ``values`` (exactly those fields are sent).

    Input the contract refuses becomes the ``ApiProblem`` the server would have answered
    (422 ``validation_error`` listing every bad ``body.<field>``), so screens have one
    error path whether the desktop or the server noticed the problem first.
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(["body", *(str(p) for p in e["loc"])]),
                "message": e["msg"],
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors) or "the request"
        raise ApiProblem(
            422,
            "validation_error",
            f"Please correct: {fields}.",
            errors=errors,
            title="Invalid input",
        ) from None


def _json_body(body: Any) -> Any:
    """Contract models travel as their JSON form (decimals as strings, dates as ISO text);
    only the fields that were set are sent."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return body


def _parse(response: httpx.Response, model: Any) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if model is None:
        return response.json()
    try:
        return _adapter(model).validate_json(response.content)
    except ValidationError as exc:
        raise UnexpectedAnswerError(
            str(response.request.url.path), _name(model), exc.errors(include_input=False)
        ) from None


def _name(model: Any) -> str:
    return getattr(model, "__name__", None) or str(model)


@functools.lru_cache(maxsize=512)
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "the server's certificate is not trusted (check the CA file)"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    return type(exc).__name__
