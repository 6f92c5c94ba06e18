"""FHIR R4 Patient: mapping from the patients table, read, and search by ``name``, ``family``,
``given``, ``birthdate``, ``gender``, ``identifier`` and ``_id``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fhir.resources.R4B.patient import Patient

from hms_contract.common import EARLIEST_DATE, LATEST_DATE
from hms_server.domain.errors import NotFoundError
from hms_server.domain.patients import SEX_CODES
from hms_server.fhir.registry import (
    FhirContext,
    FhirError,
    Resource,
    ResourceType,
    SearchParam,
    SearchParams,
    SearchResult,
    build,
)
from hms_server.services import patients as patient_service

MRN_SYSTEM = "urn:hms:mrn"
NATIONAL_ID_SYSTEM = "urn:hms:national-id"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"
BCP47 = "urn:ietf:bcp:47"

_DATE_PREFIX = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _identifiers(p: Any) -> list[Resource]:
    ids: list[Resource] = [
        {
            "use": "usual",
            "type": {
                "coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}],
                "text": "MRN",
            },
            "system": MRN_SYSTEM,
            "value": p.mrn,
        }
    ]
    if p.national_id:
        ids.append(
            {
                "use": "official",
                "type": {
                    "coding": [
                        {
                            "system": V2_0203,
                            "code": "NI",
                            "display": "National unique individual identifier",
                        }
                    ]
                },
                "system": NATIONAL_ID_SYSTEM,
                "value": p.national_id,
            }
        )
    return ids


def _address(a: dict[str, Any] | None) -> list[Resource]:
    if not a:
        return []
    out: Resource = {"use": "home"}
    if a.get("line"):
        out["line"] = list(a["line"])
    for ours, theirs in (
        ("city", "city"),
        ("district", "district"),
        ("state", "state"),
        ("postal_code", "postalCode"),
        ("country", "country"),
    ):
        if a.get(ours):
            out[theirs] = a[ours]
    return [out] if len(out) > 1 else []


def _contacts(kin: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for k in kin:
        relationship: list[Resource] = [
            {"coding": [{"system": V2_0131, "code": "N", "display": "Next-of-Kin"}]}
        ]
        if k.get("relationship"):
            relationship.append({"text": k["relationship"]})
        contact: Resource = {"relationship": relationship, "name": {"text": k["name"]}}
        if k.get("phone"):
            contact["telecom"] = [{"system": "phone", "value": k["phone"]}]
        out.append(contact)
    return out


def to_fhir(p: Any, replaces: list[int] | None = None) -> Resource:
    """The FHIR R4 Patient for one record. ``replaces``: ids merged into this one."""
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(p.id),
        "meta": {"versionId": str(p.version), "lastUpdated": p.updated_at.isoformat()},
        "identifier": _identifiers(p),
        "active": p.merged_into_id is None,
        "name": [
            {
                "use": "official",
                "text": f"{p.given_name} {p.family_name}",
                "family": p.family_name,
                "given": p.given_name.split(" "),
            }
        ],
        "gender": p.sex,
        "birthDate": p.date_of_birth.isoformat(),
    }
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    if telecom:
        resource["telecom"] = telecom
    if address := _address(p.address):
        resource["address"] = address
    if p.next_of_kin:
        resource["contact"] = _contacts(p.next_of_kin)
    if p.preferred_language:
        resource["communication"] = [
            {
                "language": {
                    "coding": [{"system": BCP47, "code": p.preferred_language}],
                    "text": p.preferred_language,
                },
                "preferred": True,
            }
        ]
    links = []
    if p.merged_into_id is not None:
        links.append({"other": {"reference": f"Patient/{p.merged_into_id}"}, "type": "replaced-by"})
    links.extend(
        {"other": {"reference": f"Patient/{i}"}, "type": "replaces"} for i in replaces or []
    )
    if links:
        resource["link"] = links
    return build(Patient, resource)


def _read(ctx: FhirContext, resource_id: str) -> Resource | None:
    if not resource_id.isdigit() or len(resource_id) > 18:
        return None
    try:
        patient = patient_service.get_patient(ctx.uow(), int(resource_id))
    except NotFoundError:
        return None
    replaces = patient_service.merged_ids_for(ctx.uow(), [patient.id]).get(patient.id, [])
    return to_fhir(patient, replaces)


def _split(values: list[str]) -> list[str]:
    """Repeated parameters AND, commas inside one value OR: flatten one value's options."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _date_range(value: str) -> tuple[date | None, date | None]:
    """A FHIR date search value as inclusive birth-date bounds."""
    m = _DATE_PREFIX.match(value.strip())
    if not m:
        raise FhirError(
            400, "invalid", f"birthdate must look like [prefix]YYYY[-MM[-DD]], got {value[:40]!r}"
        )
    prefix, y, mo, d = m.group(1) or "eq", int(m.group(2)), m.group(3), m.group(4)
    try:
        if d:
            low = high = date(y, int(mo), int(d))
        elif mo:
            low = date(y, int(mo), 1)
            high = date(y + (int(mo) == 12), int(mo) % 12 + 1, 1) - timedelta(days=1)
        else:
            low, high = date(y, 1, 1), date(y, 12, 31)
    except ValueError as exc:
        raise FhirError(400, "invalid", f"birthdate is not a valid date: {exc}") from exc
    if low < EARLIEST_DATE or high > LATEST_DATE:
        # Bounded like every date HMS takes; it also keeps "eb0001"/"sa9999" from
        # overflowing the day arithmetic below.
        raise FhirError(
            400,
            "invalid",
            f"birthdate must lie between {EARLIEST_DATE.year} and {LATEST_DATE.year}",
        )
    one = timedelta(days=1)
    if prefix in ("eq", "ap"):
        return low, high
    if prefix in ("ge",):
        return low, None
    if prefix in ("gt", "sa"):
        return high + one, None
    if prefix in ("le",):
        return None, high
    if prefix in ("lt", "eb"):
        return None, low - one
    raise FhirError(400, "not-supported", "birthdate prefix 'ne' is not supported")


def _identifier(value: str) -> tuple[str, str] | None:
    if "|" in value:
        system, _, code = value.partition("|")
        if not code:
            return None
        if system == MRN_SYSTEM:
            return "mrn", code
        if system == NATIONAL_ID_SYSTEM:
            return "national_id", code
        return ("any", code) if system == "" else None
    return "any", value


def criteria_from(params: SearchParams) -> patient_service.PatientFilter:
    """Translate Patient search parameters into the service's structured filter."""
    words: list[str] = []
    contains: list[str] = []
    exact: list[str] | None = None
    for raw in params.get("name"):
        words.extend(w for v in _split([raw]) for w in v.split())
    for raw in params.get("name:contains"):
        contains.extend(w for v in _split([raw]) for w in v.split())
    if params.get("name:exact"):
        exact = _split(params.get("name:exact"))
    family = tuple(_split(params.get("family"))) or None
    given = tuple(_split(params.get("given"))) or None
    ranges = tuple(_date_range(v) for v in params.get("birthdate"))
    sexes = None
    if params.get("gender"):
        sexes = tuple(s.lower() for s in _split(params.get("gender")))
        if not set(sexes) <= set(SEX_CODES):
            raise FhirError(400, "invalid", f"gender must be one of {', '.join(SEX_CODES)}")
    identifiers = None
    if params.get("identifier"):
        identifiers = tuple(
            i for i in (_identifier(v) for v in _split(params.get("identifier"))) if i is not None
        )
    ids = None
    if params.get("_id"):
        ids = tuple(int(v) for v in _split(params.get("_id")) if v.isdigit() and len(v) <= 18)
    return patient_service.PatientFilter(
        ids=ids,
        name_words=tuple(words),
        name_contains=tuple(contains),
        name_exact=tuple(exact) if exact is not None else None,
        family=family,
        given=given,
        birth_ranges=ranges,
        sexes=sexes,
        identifiers=identifiers,
    )


def _search(ctx: FhirContext, params: SearchParams) -> SearchResult:
    rows, total = patient_service.find_patients(
        ctx.uow(),
        criteria_from(params),
        limit=params.count,
        offset=params.offset,
        mrn_prefix=ctx.settings.mrn_prefix,
    )
    replaces = patient_service.merged_ids_for(
        ctx.uow(), [p.id for p in rows if p.merged_into_id is None]
    )
    return SearchResult([to_fhir(p, replaces.get(p.id)) for p in rows], total)


RESOURCE_TYPES = (
    ResourceType(
        name="Patient",
        read=_read,
        search=_search,
        documentation="Demographics. Merged-away records are inactive with a 'replaced-by' link.",
        search_params=(
            SearchParam(
                "name",
                "string",
                "Start of any word of the name; accents and case "
                "ignored. :exact and :contains (≥3 characters) supported",
            ),
            SearchParam("family", "string", "Start of the family name"),
            SearchParam("given", "string", "Start of the given name"),
            SearchParam(
                "birthdate", "date", "YYYY, YYYY-MM or YYYY-MM-DD with eq/gt/ge/lt/le/sa/eb"
            ),
            SearchParam("gender", "token", "male | female | other | unknown"),
            SearchParam(
                "identifier",
                "token",
                f"{MRN_SYSTEM}|<MRN>, {NATIONAL_ID_SYSTEM}|<id>, or a bare value matching either",
            ),
            SearchParam("_id", "token", "Logical id"),
        ),
    ),
)
