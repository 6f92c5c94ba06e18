"""Patient registration, search and demographics (reception). Imports only pydantic."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from hms_contract.common import SaneDate

Sex = Literal["male", "female", "other", "unknown"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-./]{6,32}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")
_NATIONAL_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-./]{1,63}$")


def _text(value: str) -> str:
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _name(value: str) -> str:
    value = _text(value)
    if not any(ch.isalpha() for ch in value):
        raise ValueError("must contain at least one letter")
    return value


def _phone(value: str) -> str:
    value = _text(value)
    if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 6:
        raise ValueError(
            "must be a phone number: digits, spaces, + - ( ) . only, at least 6 digits"
        )
    return value


def _email(value: str) -> str:
    value = _text(value)
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address like name@example.org")
    return value


def _language(value: str) -> str:
    value = _text(value)
    if not _LANGUAGE.match(value):
        raise ValueError("must be a language tag such as 'en', 'fr' or 'pt-BR'")
    return value


def _national_id(value: str) -> str:
    value = _text(value)
    if not _NATIONAL_ID.match(value):
        raise ValueError("may contain letters, digits, spaces, dashes, dots and slashes")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_name)]
Text100 = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)]
Text200 = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_text)]
Phone = Annotated[
    str, BeforeValidator(_blank_to_none), Field(max_length=32), AfterValidator(_phone)
]
Email = Annotated[
    str, BeforeValidator(_blank_to_none), Field(max_length=254), AfterValidator(_email)
]
Language = Annotated[str, Field(max_length=35), AfterValidator(_language)]
NationalId = Annotated[
    str, BeforeValidator(_blank_to_none), Field(max_length=64), AfterValidator(_national_id)
]
SexIn = Annotated[
    Sex,
    BeforeValidator(_lower),
    Field(description="FHIR administrative-gender: male, female, other, unknown"),
]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: list[Text200] = Field(default_factory=list, max_length=4)
    city: Text100 | None = None
    district: Text100 | None = None
    state: Text100 | None = None
    postal_code: Annotated[str, Field(max_length=20), AfterValidator(_text)] | None = None
    country: Text100 | None = None


class NextOfKin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    relationship: Text100 | None = Field(default=None, description="e.g. mother, spouse")
    phone: Phone | None = None


class InsurancePolicy(BaseModel):
    """A policy as captured at the desk; coverage rules belong to billing."""

    model_config = ConfigDict(extra="forbid")

    payer: Text200
    policy_number: Text100
    member_id: Text100 | None = None
    valid_from: SaneDate | None = None
    valid_to: SaneDate | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> InsurancePolicy:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class _Demographics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Phone | None = None
    email: Email | None = None
    national_id: NationalId | None = None
    address: Address | None = None
    next_of_kin: list[NextOfKin] | None = Field(default=None, max_length=5)
    preferred_language: Language | None = None
    insurance: list[InsurancePolicy] | None = Field(default=None, max_length=5)


class PatientCreate(_Demographics):
    """Give ``date_of_birth``, or ``age_years`` when only an age is known (the birth date is
    then estimated and flagged). ``confirm_new`` registers despite likely duplicates."""

    given_name: Name
    family_name: Name
    date_of_birth: SaneDate | None = None
    age_years: int | None = Field(default=None, ge=0, le=130)
    sex: SexIn
    confirm_new: bool = Field(
        default=False,
        description="Register even though the server "
        "found likely duplicates (409 possible_duplicates)",
    )

    @model_validator(mode="after")
    def _one_birth_fact(self) -> PatientCreate:
        if (self.date_of_birth is None) == (self.age_years is None):
            raise ValueError("give either date_of_birth or age_years (estimated), not both")
        return self


class PatientUpdate(_Demographics):
    """Only the fields present change; ``version`` must be the one you read (else 409)."""

    version: int = Field(ge=1)
    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: SaneDate | None = None
    birth_date_estimated: bool | None = None
    sex: SexIn | None = None


class PatientSummary(BaseModel):
    """One row of a search result."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    birth_date_estimated: bool
    sex: Sex
    phone: str | None = None
    national_id: str | None = None


class PatientPage(BaseModel):
    """A page of search results. ``total_capped``: the search stopped counting at ``total``
    matches (there are more; type more of the name)."""

    items: list[PatientSummary]
    total: int = Field(ge=0)
    total_capped: bool = False


class PatientRead(PatientSummary):
    email: str | None = None
    address: Address | None = None
    next_of_kin: list[NextOfKin] = Field(default_factory=list)
    preferred_language: str | None = None
    insurance: list[InsurancePolicy] = Field(default_factory=list)
    merged_into_id: int | None = Field(
        default=None, description="Set when this record was merged into another one (the survivor)"
    )
    created_at: datetime
    updated_at: datetime
    version: int


class PatientMerge(BaseModel):
    """Merge ``merge_from_id`` (the duplicate, which stops being used) into the patient in
    the URL (the survivor), at once, for ``reason`` (kept in the merge journal). Versions,
    when given, must match (else 409)."""

    model_config = ConfigDict(extra="forbid")

    merge_from_id: int = Field(ge=1)
    reason: Annotated[
        str,
        AfterValidator(_text),
        Field(min_length=5, max_length=1000, description="Why these records are the same person"),
    ]
    survivor_version: int | None = Field(default=None, ge=1)
    merge_from_version: int | None = Field(default=None, ge=1)


DuplicateReason = Literal[
    "same_national_id",
    "same_birth_date_similar_name",
    "same_birth_date_swapped_name",
    "same_phone_similar_name",
]
"""Why two records look like one person (stable codes; the desktop words them as sentences)."""


class DuplicateCandidate(BaseModel):
    id: int
    mrn: str
    name: str
    dob: date
    score: float
    reasons: list[DuplicateReason]


class AlertAllergyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    substance: str
    severity: str


class AllergyAlertRead(BaseModel):
    """What a wristband prints about allergies: the active ones, most severe first.
    ``recorded`` false means no allergy was ever recorded (not "no known allergies")."""

    model_config = ConfigDict(from_attributes=True)
    patient_id: int
    recorded: bool
    allergies: list[AlertAllergyRead]


class PrintRecord(BaseModel):
    """A patient document the desktop printed (prints are audited)."""

    model_config = ConfigDict(extra="forbid")

    document: Literal["id_card", "wristband", "discharge_summary"]
