"""The public self-booking page (``GET /book``) and the JSON API it uses (``/book/api/...``).

Everything here is reachable without signing in, so each route declares ``PUBLIC`` and the
protections live here:

- CSRF: a signed token, set as a ``SameSite=Strict``, ``HttpOnly`` cookie by the page and
  echoed by its script in ``X-CSRF-Token`` (double submit); state-changing requests also
  need a same-origin ``Origin`` and ``Sec-Fetch-Site`` when the browser sends them.
- Rate limits per client address, per MRN and per booking reference, held in PostgreSQL so
  they apply across server processes (429 with ``Retry-After``).
- A strict Content-Security-Policy (``default-src 'self'``, no inline script or style).
- Verification failures never say whether an MRN or reference exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Callable, Coroutine
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

from hms_contract.booking import (
    BookableDepartmentRead,
    BookableDoctorRead,
    BookingConfirmation,
    BookingRequest,
    CancellationRequest,
    CancellationResult,
    DepartmentList,
    FreeSlotList,
    FreeSlotRead,
)
from hms_contract.common import SaneDate
from hms_server.adapters.uow import UnitOfWork
from hms_server.api.deps import PUBLIC, client_address, get_runtime, uow_for
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.config import Settings
from hms_server.domain.errors import ForbiddenError, NotFoundError
from hms_server.domain.hospital import Hospital
from hms_server.services import self_booking as service

API_PREFIXED = False

CSRF_COOKIE = "hms_book_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_MAX_AGE = 4 * 3600
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_ASSETS = {"booking.css": "text/css; charset=utf-8", "booking.js": "text/javascript; charset=utf-8"}


class CsrfError(ForbiddenError):
    code, title = "csrf_failed", "Request refused"


class _SecureRoute(APIRoute):
    """Adds the page's security headers to every successful response of this router."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            for name, value in _PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            if request.url.scheme == "https":
                response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            return response

        return secured


router = APIRouter(
    prefix="/book", tags=["self-booking"], route_class=_SecureRoute, responses=PROBLEM_RESPONSES
)


# --- plumbing ---------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _hospital(request: Request) -> Hospital:
    return get_runtime(request).hospital


def _limits(request: Request) -> service.BookingLimits:
    return getattr(request.app.state, "booking_limits", None) or service.DEFAULT_LIMITS


def _uow(request: Request) -> UnitOfWork:
    return uow_for(request, service.self_booking_actor(client_address(request)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(secret: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), f"hms-book-csrf|{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest()[:18])


def new_csrf_token(secret: str, now: float | None = None) -> str:
    payload = f"{_b64(secrets.token_bytes(18))}.{int(now or time.time())}"
    return f"{payload}.{_sign(secret, payload)}"


def csrf_token_valid(secret: str, token: str | None, now: float | None = None) -> bool:
    if not token or len(token) > 128 or token.count(".") != 2:
        return False
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(_sign(secret, payload), signature):
        return False
    try:
        issued = int(payload.rsplit(".", 1)[1])
    except ValueError:
        return False
    return 0 <= (now or time.time()) - issued <= CSRF_MAX_AGE


def _netloc(url_or_host: str, default_scheme: str) -> str:
    parts = urlsplit(url_or_host if "//" in url_or_host else f"{default_scheme}://{url_or_host}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def require_csrf(request: Request) -> None:
    """Refuse state-changing requests that did not come from our own page."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        raise CsrfError("Cross-site request refused.")
    origin = request.headers.get("Origin")
    if origin is not None:
        # Compared with Host, or with X-Forwarded-Host from a reverse proxy that rewrites
        # Host (a cross-site page cannot add that header without a CORS preflight, which
        # is never granted). The scheme is left out: behind a TLS proxy the app sees HTTP.
        scheme = urlsplit(origin).scheme or request.url.scheme
        hosts = {
            h.strip()
            for h in (
                request.headers.get("Host", ""),
                *request.headers.get("X-Forwarded-Host", "").split(","),
            )
            if h.strip()
        }
        if origin == "null" or _netloc(origin, scheme) not in {_netloc(h, scheme) for h in hosts}:
            raise CsrfError("Cross-site request refused.")
    header = request.headers.get(CSRF_HEADER)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not (
        header
        and cookie
        and hmac.compare_digest(header.encode(), cookie.encode())
        and csrf_token_valid(_settings(request).jwt_secret, header)
    ):
        raise CsrfError("This page has expired. Please reload it and try again.")


def _read_limit(request: Request) -> None:
    service.hit_rate_limits(
        _uow(request),
        [
            (
                service.address_key("read", client_address(request)),
                _limits(request).reads_per_address,
            )
        ],
    )


CsrfChecked = Depends(require_csrf)
ReadLimited = Depends(_read_limit)


@cache
def _asset(name: str) -> str:
    return resources.files("hms_server").joinpath("static", name).read_text(encoding="utf-8")


# --- the page -----------------------------------------------------------------------------------


@router.get("", include_in_schema=False, dependencies=[Depends(PUBLIC), ReadLimited])
def booking_page(request: Request) -> Response:
    """The self-booking page. Sets the CSRF cookie its script echoes back."""
    settings = _settings(request)
    token = request.cookies.get(CSRF_COOKIE)
    if not csrf_token_valid(settings.jwt_secret, token, time.time() + 600):  # >10 min left
        token = new_csrf_token(settings.jwt_secret)
    assert token is not None
    page = (
        _asset("booking.html")
        .replace("{{csrf_token}}", html.escape(token, quote=True))
        .replace("{{hospital_name}}", html.escape(settings.hospital_name))
    )
    response = Response(page, media_type="text/html; charset=utf-8")
    https = (
        request.url.scheme == "https"
        or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    )
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE,
        path="/book",
        httponly=True,
        samesite="strict",
        secure=https,
    )
    return response


@router.get("/assets/{name}", include_in_schema=False, dependencies=[Depends(PUBLIC)])
def booking_asset(name: str) -> Response:
    """The page's stylesheet and script (served here: the CSP allows no inline code)."""
    if name not in _ASSETS:
        raise NotFoundError("No such file.")
    return Response(_asset(name), media_type=_ASSETS[name], headers={"Cache-Control": "no-cache"})


# --- JSON API -----------------------------------------------------------------------------------


@router.get(
    "/api/departments",
    operation_id="self_booking_departments",
    dependencies=[Depends(PUBLIC), ReadLimited],
)
def list_departments(request: Request) -> DepartmentList:
    """Departments with the doctors a patient can book."""
    items = [
        BookableDepartmentRead(
            id=d.id,
            name=d.name,
            location=d.location,
            doctors=[
                BookableDoctorRead(id=x.id, name=x.name, specialty=x.specialty) for x in d.doctors
            ],
        )
        for d in service.list_bookable(_uow(request))
    ]
    return DepartmentList(items=items, total=len(items))


@router.get(
    "/api/slots", operation_id="self_booking_slots", dependencies=[Depends(PUBLIC), ReadLimited]
)
def list_free_slots(
    request: Request,
    doctor_id: Annotated[int, Query(ge=1, le=2**62)],
    date_: Annotated[SaneDate, Query(alias="date", description="YYYY-MM-DD")],
) -> FreeSlotList:
    """Free times of one doctor on one day, in hospital-local time."""
    tz = _hospital(request).zone
    slots = service.free_times(_uow(request), doctor_id=doctor_id, day=date_)
    items = [
        FreeSlotRead(start=s.start.astimezone(tz), end=s.end.astimezone(tz), location=s.location)
        for s in slots
    ]
    return FreeSlotList(items=items, total=len(items))


@router.post(
    "/api/bookings",
    operation_id="self_booking_book",
    status_code=201,
    dependencies=[Depends(PUBLIC), CsrfChecked],
)
def create_booking(body: BookingRequest, request: Request) -> BookingConfirmation:
    """Book a free slot as an existing patient (MRN + date of birth) or a new one.
    A wrong MRN and a wrong date of birth get the same 422 ``verification_failed``."""
    settings, limits = _settings(request), _limits(request)
    buckets = [(service.address_key("write", client_address(request)), limits.writes_per_address)]
    who: service.ExistingPatient | service.NewPatient
    if body.patient.kind == "existing":
        buckets.append(
            (
                service.mrn_key(settings.jwt_secret, body.patient.mrn, settings.mrn_prefix),
                limits.attempts_per_mrn,
            )
        )
        who = service.ExistingPatient(
            mrn=body.patient.mrn, date_of_birth=body.patient.date_of_birth
        )
    else:
        p = body.patient
        who = service.NewPatient(
            given_name=p.given_name,
            family_name=p.family_name,
            date_of_birth=p.date_of_birth,
            phone=p.phone,
            email=p.email,
        )
    service.hit_rate_limits(_uow(request), buckets)
    result = service.book(
        _uow(request),
        who=who,
        doctor_id=body.doctor_id,
        start=body.start,
        mrn_prefix=settings.mrn_prefix,
        type_code=body.type,
    )
    tz = _hospital(request).zone
    a = result.appointment
    return BookingConfirmation(
        reference=a.booking_reference,
        start=a.starts_at.astimezone(tz),
        end=a.ends_at.astimezone(tz),
        doctor=result.doctor,
        department=result.department,
        location=a.location,
        status=a.status,
        mrn=result.new_mrn,
    )


@router.post(
    "/api/cancellations",
    operation_id="self_booking_cancel",
    dependencies=[Depends(PUBLIC), CsrfChecked],
)
def cancel_booking(body: CancellationRequest, request: Request) -> CancellationResult:
    """Cancel a booking with its reference and the patient's date of birth."""
    settings, limits = _settings(request), _limits(request)
    service.hit_rate_limits(
        _uow(request),
        [
            (service.address_key("write", client_address(request)), limits.writes_per_address),
            (
                service.reference_key(settings.jwt_secret, body.reference),
                limits.attempts_per_reference,
            ),
        ],
    )
    appointment = service.cancel(
        _uow(request), reference=body.reference, date_of_birth=body.date_of_birth
    )
    tz = _hospital(request).zone
    return CancellationResult(
        reference=appointment.booking_reference,
        status=appointment.status,
        start=appointment.starts_at.astimezone(tz),
    )
