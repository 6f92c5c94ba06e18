"""A tiny FHIR registry: each resource type registers how to read and search it.

To add resource types, drop a module into ``hms_server/fhir/`` that declares them::

    from hms_server.fhir.registry import ResourceType, SearchParam, build

    def _read(ctx, resource_id): ...          # -> dict | None (None = 404)
    def _search(ctx, params): ...             # -> list[dict] (all matches; paged for you)
                                              #    or SearchResult(page, total) (paged by you)
    RESOURCE_TYPES = (ResourceType(
        name="Encounter", read=_read, search=_search,
        search_params=(SearchParam("patient", "reference", "Patient/123 or 123"),),
        permission=Perm.CLINICAL_READ),)

``discover()`` reads ``RESOURCE_TYPES`` of every module in the package (importing a module
registers nothing by itself), so nothing else needs editing. Build each resource with
``build(<fhir.resources R4B model>, data)``: the pinned models validate it.
``read``/``search`` raise ``FhirError`` (or any ``DomainError``) for a problem; the router
turns both into an OperationOutcome. The route itself requires ``Perm.PATIENTS_READ``;
``permission`` is an extra requirement checked before ``read``/``search`` run.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from hms_server.adapters.uow import UnitOfWork
from hms_server.config import Settings
from hms_server.domain.permissions import Perm

FHIR_VERSION = "4.0.1"
DEFAULT_COUNT = 50
MAX_COUNT = 200
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
TYPE_PATTERN = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
# Parameters every search understands (handled by the router, not by resource modules).
COMMON_PARAMS = ("_count", "_offset")

Resource = dict[str, Any]


class FhirError(Exception):
    """A problem to answer with an OperationOutcome (``code`` is a FHIR issue-type code)."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


@dataclass(frozen=True)
class FhirContext:
    """Who is asking and how to reach the services; one per request."""

    base_url: str  # e.g. https://hms.example/fhir
    settings: Settings
    permissions: frozenset[Perm]
    uow_factory: Callable[[], UnitOfWork]

    def uow(self) -> UnitOfWork:
        return self.uow_factory()


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type: string, token, date, reference, ...
    documentation: str = ""


@dataclass(frozen=True)
class SearchParams:
    """The query string of a search: ``values`` maps a parameter name as sent (modifier
    included, e.g. ``name:exact``) to its values (repeated parameters kept apart; a value
    may still hold comma-separated alternatives)."""

    values: dict[str, list[str]]
    count: int = DEFAULT_COUNT
    offset: int = 0

    def get(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def first(self, name: str) -> str | None:
        got = self.values.get(name)
        return got[0] if got else None


@dataclass(frozen=True)
class SearchResult:
    """One page of matches plus the total number of matches."""

    resources: list[Resource]
    total: int


ReadFn = Callable[[FhirContext, str], Resource | None]
SearchFn = Callable[[FhirContext, SearchParams], "list[Resource] | SearchResult"]


@dataclass(frozen=True)
class ResourceType:
    name: str
    read: ReadFn
    search: SearchFn
    search_params: tuple[SearchParam, ...] = ()
    permission: Perm | None = None
    documentation: str = ""
    profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def param_names(self) -> set[str]:
        return {p.name for p in self.search_params} | set(COMMON_PARAMS)


_REGISTRY: dict[str, ResourceType] = {}
_discovered = False


def register(resource: ResourceType) -> ResourceType:
    """Add (or replace, e.g. on reload) a resource type."""
    if not TYPE_PATTERN.match(resource.name):
        raise ValueError(f"not a FHIR resource type name: {resource.name!r}")
    _REGISTRY[resource.name] = resource
    return resource


def discover() -> None:
    """Import every module of ``hms_server.fhir`` once, so each registers its types."""
    global _discovered
    if _discovered:
        return
    import hms_server.fhir as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "registry":
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for resource in getattr(module, "RESOURCE_TYPES", ()):
                register(resource)
    _discovered = True


def resource_types() -> dict[str, ResourceType]:
    discover()
    return dict(sorted(_REGISTRY.items()))


def lookup(name: str) -> ResourceType | None:
    discover()
    return _REGISTRY.get(name)


def build(model: type[Any], data: Resource) -> Resource:
    """``data`` made into the pinned ``fhir.resources`` R4B model (which validates every
    element: a resource the model refuses is a bug here, never sent) and serialised back as
    the model writes FHIR JSON."""
    resource: Resource = model.model_validate(data).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return resource


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> Resource:
    return build(
        OperationOutcome,
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
        },
    )


def capability_statement(
    base_url: str, software_version: str, software_name: str = "HMS"
) -> Resource:
    """The server's CapabilityStatement, generated from the registry."""
    resources = []
    for rt in resource_types().values():
        entry: Resource = {
            "type": rt.name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {
                    "name": p.name,
                    "type": p.type,
                    **({"documentation": p.documentation} if p.documentation else {}),
                }
                for p in rt.search_params
            ],
        }
        if rt.profile:
            entry["profile"] = rt.profile
        if rt.documentation:
            entry["documentation"] = rt.documentation
        resources.append(entry)
    return build(
        CapabilityStatement,
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": datetime.now(UTC).date().isoformat(),
            "publisher": software_name,
            "kind": "instance",
            "software": {"name": software_name, "version": software_version},
            "implementation": {
                "description": f"{software_name} FHIR R4 read-only API",
                "url": base_url,
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Read-only. Authenticate with the bearer access token from "
                    "POST /api/v1/auth/login; every read is audited.",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "OAuth",
                                    }
                                ]
                            }
                        ],
                        "description": "Bearer access token (JWT) in the Authorization header.",
                    },
                    "resource": resources,
                }
            ],
        },
    )


def searchset(
    resource_type: str,
    base_url: str,
    page: list[Resource],
    total: int,
    self_url: str,
    next_url: str | None,
) -> Resource:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return build(
        Bundle,
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base_url}/{r.get('resourceType', resource_type)}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in page
            ],
        },
    )
