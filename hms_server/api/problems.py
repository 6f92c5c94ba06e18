"""RFC 9457 problem+json for every error, with a stable machine ``code``.

Nothing a client sends may produce a 500: validation errors list every bad field, domain
errors carry their own status, and anything unexpected is logged (without request bodies,
which may hold patient data) and answered with a generic problem.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hms_contract.common import Problem
from hms_server.domain import errors as domain

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 422, 423, 429)
}
"""OpenAPI ``responses=`` for routers: every route may answer these as problem+json."""

# The one place a kind of domain error becomes an HTTP status (most specific first).
_STATUS_BY_KIND: tuple[tuple[type[domain.DomainError], int], ...] = (
    (domain.NotAuthenticatedError, 401),
    (domain.ForbiddenError, 403),
    (domain.NotFoundError, 404),
    (domain.ConflictError, 409),
    (domain.TooLargeError, 413),
    (domain.UnsupportedMediaError, 415),
    (domain.ValidationFailedError, 422),
    (domain.LockedError, 423),
    (domain.RateLimitedError, 429),
    (domain.ConfigurationError, 500),
    (domain.UnavailableError, 503),
)


def status_for(error: domain.DomainError) -> int:
    """HTTP status of a domain error, by its kind (a plain ``DomainError`` is 400)."""
    for kind, status in _STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 400


log = logging.getLogger("hms_server.api")

PROBLEM_TYPE_BASE = "https://hms.local/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Invalid input"),
    429: ("too_many_requests", "Too many requests"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


_LOCATIONS = ("body", "query", "path", "header", "cookie")


def _request_locations(request: Request) -> dict[str, str]:
    """Where each named parameter of the matched route comes from (query, path, header)."""
    found: dict[str, str] = {}
    pending = [getattr(request.scope.get("route"), "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        for location in ("path", "query", "header"):
            for param in getattr(dependant, f"{location}_params", ()):
                found.setdefault(param.alias, location)
                found.setdefault(param.name, location)
        pending.extend(getattr(dependant, "dependencies", ()))
    return found


def locate_fields(request: Request, errors: Any) -> Any:
    """Services name fields as the use case knows them (``doctor_id``); the client needs to
    know where it sent them. Prefix each with its request location (``body.doctor_id``,
    ``query.date``): a route's query/path parameter by that name, otherwise the body."""
    if not isinstance(errors, list):
        return errors
    locations: dict[str, str] | None = None
    located = []
    for error in errors:
        field = error.get("field") if isinstance(error, dict) else None
        if isinstance(field, str) and field.split(".", 1)[0] not in _LOCATIONS:
            if locations is None:
                locations = _request_locations(request)
            where = locations.get(field.split(".", 1)[0], "body")
            error = {**error, "field": f"{where}.{field}" if field else where}
        located.append(error)
    return located


def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    extra = dict(exc.extra)
    if "errors" in extra:
        extra["errors"] = locate_fields(request, extra["errors"])
    return problem(
        status_for(exc), exc.code, exc.title, exc.detail, headers=exc.headers or None, **extra
    )


def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_name(e.get("loc", ())),
            "message": e.get("msg", "invalid"),
            "type": e.get("type", "invalid"),
        }
        for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors) or "the request"
    return problem(
        422, "validation_error", "Invalid input", f"Please correct: {fields}.", errors=errors
    )


def _on_http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(
        exc.status_code, code, title, detail, headers=dict(exc.headers) if exc.headers else None
    )


def _on_stale_data(_: Request, exc: Exception) -> JSONResponse:
    return problem(
        409,
        "version_conflict",
        "Record changed",
        "The record was changed by someone else. Reload and try again.",
    )


def _on_integrity_error(_: Request, exc: Exception) -> JSONResponse:
    # Constraint violations the service layer did not pre-check (a lost race): a conflict,
    # not a crash. The constraint name is safe to show; values are not echoed.
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    name = getattr(diag, "constraint_name", None) or "a data rule"
    return problem(409, "conflict", "Conflict", f"The change violates {name}.")


# A deadlock victim or a serialization failure: the database is fine, two requests touched
# the same rows at the same moment and this one was rolled back whole. Saying "not
# reachable" would send IT looking for an outage; the user only needs to try again.
_CONCURRENCY_SQLSTATES = frozenset({"40P01", "40001"})


def _on_database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    if getattr(getattr(exc, "orig", None), "sqlstate", None) in _CONCURRENCY_SQLSTATES:
        log.info("concurrent change rolled back: %s", type(getattr(exc, "orig", exc)).__name__)
        return problem(
            503,
            "concurrent_change",
            "Try again",
            "Another change to the same records happened at the same moment; "
            "nothing was saved. Try again.",
            headers={"Retry-After": "1"},
        )
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem(
        503,
        "database_unavailable",
        "Service unavailable",
        "The database is not reachable right now. Try again shortly.",
        headers={"Retry-After": "5"},
    )


def _on_data_error(_: Request, exc: Exception) -> JSONResponse:
    log.info("database rejected a value: %s", type(getattr(exc, "orig", exc)).__name__)
    return problem(
        422,
        "validation_error",
        "Invalid input",
        "A value is out of the range the database accepts.",
    )


def _on_unencodable_text(_: Request, exc: Exception) -> JSONResponse:
    # JSON may carry "\ud800": a valid escape, but a lone surrogate is not Unicode text and
    # cannot be hashed, stored or sent anywhere. Whatever layer first tries, it is bad input.
    return problem(
        422,
        "validation_error",
        "Invalid input",
        "The request contains text that is not valid Unicode (a lone surrogate).",
    )


def _on_overflow(_: Request, exc: Exception) -> JSONResponse:
    # Date or number arithmetic past what Python or the database can represent (a year
    # 9999 plus a day): bad input, whichever route it came through. Schemas bound dates to
    # 1900..2200 (hms_contract.common.SaneDate); this is the net under every other path.
    log.info("arithmetic overflow on input: %s", type(exc).__name__)
    return problem(
        422,
        "value_out_of_range",
        "Value out of range",
        "A date or number is outside the range this server can work with "
        "(dates: 1900-01-01 to 2200-12-31).",
    )


def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    return problem(
        500,
        "server_error",
        "Internal error",
        "Something went wrong on the server. The error has been logged.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(domain.DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(StaleDataError, _on_stale_data)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
    app.add_exception_handler(DBAPIError, _on_data_error)
    app.add_exception_handler(UnicodeError, _on_unencodable_text)
    app.add_exception_handler(OverflowError, _on_overflow)
    app.add_exception_handler(Exception, _on_unexpected)
