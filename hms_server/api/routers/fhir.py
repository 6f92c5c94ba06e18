"""FHIR R4 read-only API under ``/fhir`` (outside ``/api/v1``), dispatching through
``hms_server.fhir.registry``. Answers ``application/fhir+json``; errors inside a FHIR
interaction are OperationOutcomes. Authentication failures (401/403 from the permission
dependency) stay RFC 9457 problems like the rest of the API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from hms_server import __version__
from hms_server.api.deps import PUBLIC, RequestContext, Require
from hms_server.api.problems import status_for
from hms_server.domain.errors import DomainError
from hms_server.domain.permissions import Perm
from hms_server.fhir import registry
from hms_server.fhir.registry import FhirContext, FhirError, SearchParams, SearchResult

API_PREFIXED = False
FHIR_JSON = "application/fhir+json"

router = APIRouter(prefix="/fhir", tags=["fhir"])

FhirReader = Annotated[RequestContext, Depends(Require(Perm.PATIENTS_READ))]
TypeName = Annotated[str, Path(max_length=64, description="FHIR resource type, e.g. Patient")]
ResourceId = Annotated[str, Path(max_length=64)]

_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    422: "invalid",
}
_FHIR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}}
    for code in (400, 403, 404)
}


def _fhir(body: dict[str, object], status: int = 200) -> JSONResponse:
    return JSONResponse(
        body, status_code=status, media_type=FHIR_JSON, headers={"Cache-Control": "no-store"}
    )


def _outcome(status: int, code: str, diagnostics: str) -> JSONResponse:
    return _fhir(registry.operation_outcome(code, diagnostics), status)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _context(request: Request, ctx: RequestContext) -> FhirContext:
    return FhirContext(
        base_url=_base_url(request),
        settings=ctx.settings,
        permissions=ctx.principal.permissions,
        uow_factory=ctx.uow,
    )


def _resolve(
    type_name: str, ctx: RequestContext, request: Request
) -> registry.ResourceType | JSONResponse:
    resource = registry.lookup(type_name) if registry.TYPE_PATTERN.match(type_name) else None
    if resource is None:
        return _outcome(404, "not-supported", "This server does not serve that resource type.")
    if resource.permission is not None and resource.permission not in ctx.principal.permissions:
        uow = ctx.uow()
        with uow:
            uow.audit(
                "access_control",
                "access.denied",
                outcome="denied",
                detail={
                    "permission": resource.permission.value,
                    "method": "GET",
                    "path": request.url.path,
                },
            )
            uow.commit()
        return _outcome(
            403,
            "forbidden",
            "Your role does not allow reading "
            f"{resource.name} (needs "
            f"'{resource.permission.value}').",
        )
    return resource


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, FhirError):
        return _outcome(exc.status, exc.code, exc.diagnostics)
    assert isinstance(exc, DomainError)
    # FHIR answers a bad search or id with 400, where the JSON API says 422.
    status = status_for(exc)
    status = 400 if status == 422 else status
    return _outcome(status, _ISSUE_CODES.get(status, "processing"), exc.detail)


@router.get(
    "/metadata",
    operation_id="fhir_capabilities",
    dependencies=[Depends(PUBLIC)],
    response_class=JSONResponse,
    responses={200: {"content": {FHIR_JSON: {}}}},
)
def capabilities(request: Request) -> JSONResponse:
    """The CapabilityStatement (public, as FHIR clients expect): resource types and search
    parameters, generated from the registry."""
    return _fhir(registry.capability_statement(_base_url(request), __version__))


@router.get(
    "/{type_name}/{resource_id}",
    operation_id="fhir_read",
    response_class=JSONResponse,
    responses=_FHIR_RESPONSES,
)
def read(
    type_name: TypeName, resource_id: ResourceId, request: Request, ctx: FhirReader
) -> JSONResponse:
    """Read one resource by logical id (audited like the rest of the API)."""
    resource = _resolve(type_name, ctx, request)
    if isinstance(resource, JSONResponse):
        return resource
    if not registry.ID_PATTERN.match(resource_id):
        return _outcome(404, "not-found", f"No {resource.name} with that id.")
    try:
        found = resource.read(_context(request, ctx), resource_id)
    except (FhirError, DomainError) as exc:
        return _error(exc)
    if found is None:
        return _outcome(404, "not-found", f"No {resource.name} with that id.")
    return _fhir(found)


def _paging(request: Request) -> tuple[int, int]:
    def number(name: str, default: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or len(raw) > 9:
            raise FhirError(400, "invalid", f"{name} must be a whole number 0..{high}")
        return min(int(raw), high)

    return number("_count", registry.DEFAULT_COUNT, registry.MAX_COUNT), number(
        "_offset", 0, 1_000_000
    )


@router.get(
    "/{type_name}",
    operation_id="fhir_search",
    response_class=JSONResponse,
    responses=_FHIR_RESPONSES,
)
def search(type_name: TypeName, request: Request, ctx: FhirReader) -> JSONResponse:
    """Search; answers a searchset Bundle with ``total`` and paging links. Unknown parameters
    are ignored (FHIR lenient handling) and left out of the ``self`` link."""
    resource = _resolve(type_name, ctx, request)
    if isinstance(resource, JSONResponse):
        return resource
    try:
        count, offset = _paging(request)
        known = resource.param_names()
        values: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            if key.split(":", 1)[0] in known and key not in registry.COMMON_PARAMS:
                values.setdefault(key, []).append(value)
        params = SearchParams(values=values, count=count, offset=offset)
        result = resource.search(_context(request, ctx), params)
    except (FhirError, DomainError) as exc:
        return _error(exc)
    if isinstance(result, SearchResult):
        page, total = result.resources, result.total
    else:
        page, total = result[offset : offset + count], len(result)
    base = _base_url(request)
    applied = [(k, v) for k, vs in values.items() for v in vs]

    def url(at: int) -> str:
        return f"{base}/{resource.name}?" + urlencode(
            [*applied, ("_count", str(count)), ("_offset", str(at))]
        )

    next_url = url(offset + count) if count and offset + count < total else None
    return _fhir(registry.searchset(resource.name, base, page, total, url(offset), next_url))
