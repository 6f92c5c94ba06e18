"""HL7 v2.5 ADT messages of inpatient movements: A01 admit, A02 transfer, A03 discharge, A11
cancel admit, and A08 update patient information (an inpatient's name, date of birth or sex
corrected). Built with ``hl7apy`` from the message structures of the standard (ADT_A01, also
used by A08; ADT_A02, ADT_A03, ADT_A09), and validated against them before they are queued, so every
message that leaves is well-formed by construction.

Values are escaped here (``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\``) before hl7apy sees them: it
reads a string assigned to a component as encoded text, so an ``&`` in a name would
otherwise split it into subcomponents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hl7apy import VALIDATION_LEVEL
from hl7apy.core import Message

#: Our change → (trigger event, message structure).
EVENTS = {
    "admitted": ("A01", "ADT_A01"),
    "transferred": ("A02", "ADT_A02"),
    "discharged": ("A03", "ADT_A03"),
    "cancelled": ("A11", "ADT_A09"),
    "updated": ("A08", "ADT_A01"),
}
_SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
_DISPOSITION = {
    "home": "01",
    "transfer_out": "02",
    "against_advice": "07",
    "deceased": "20",
    "other": "09",
}
_SOURCE = {"clinic": "1", "emergency": "7", "booked": "2", "transfer": "4"}


def escape(value: str) -> str:
    """HL7 escape sequences for the default encoding characters ``|^~\\&``."""
    return (
        value.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def ts(at: datetime) -> str:
    """HL7 DTM with the UTC offset, e.g. ``20260329143000+0100``."""
    return at.strftime("%Y%m%d%H%M%S%z")


@dataclass(frozen=True)
class Location:
    """PV1-3/PV1-6: point of care (ward code), room, bed, facility."""

    ward_code: str
    room: str
    bed: str


@dataclass(frozen=True)
class AdtFacts:
    """Everything an ADT message says, as plain values (no ORM objects)."""

    change: str
    control_id: str
    at: datetime
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str
    admission_id: int
    admitted_at: datetime
    source: str
    location: Location | None
    prior_location: Location | None = None
    attending_id: int | None = None
    attending_name: str | None = None
    discharged_at: datetime | None = None
    disposition: str | None = None
    sending_application: str = "HMS"
    sending_facility: str = "HMS"
    receiving_application: str = ""
    receiving_facility: str = ""


def _location(field: object, where: Location, facility: str) -> None:
    field.pl_1 = escape(where.ward_code)  # type: ignore[attr-defined]
    field.pl_2 = escape(where.room)  # type: ignore[attr-defined]
    field.pl_3 = escape(where.bed)  # type: ignore[attr-defined]
    field.pl_4.hd_1 = escape(facility)  # type: ignore[attr-defined]


def build_adt(facts: AdtFacts) -> str:
    """The ER7 text (segments separated by ``\\r``) of the ADT message for ``facts``;
    raises ``ValueError`` for an unknown change and hl7apy's validation errors if the
    result would not be a valid message of its structure."""
    if facts.change not in EVENTS:
        raise ValueError(f"no ADT event for {facts.change!r}")
    trigger, structure = EVENTS[facts.change]
    msg = Message(structure, version="2.5", validation_level=VALIDATION_LEVEL.STRICT)
    msh = msg.msh
    msh.msh_3.hd_1 = escape(facts.sending_application)
    msh.msh_4.hd_1 = escape(facts.sending_facility)
    if facts.receiving_application:
        msh.msh_5.hd_1 = escape(facts.receiving_application)
    if facts.receiving_facility:
        msh.msh_6.hd_1 = escape(facts.receiving_facility)
    msh.msh_7 = ts(facts.at)
    msh.msh_9 = f"ADT^{trigger}^{structure}"
    msh.msh_10 = escape(facts.control_id)
    msh.msh_11 = "P"
    msh.msh_18 = "UNICODE UTF-8"
    msg.evn.evn_1 = trigger
    msg.evn.evn_2 = ts(facts.at)
    msg.evn.evn_6 = ts(facts.at)
    pid = msg.pid
    pid.pid_3.cx_1 = escape(facts.mrn)
    pid.pid_3.cx_4.hd_1 = escape(facts.sending_facility)
    pid.pid_3.cx_5 = "MR"
    pid.pid_5.xpn_1.fn_1 = escape(facts.family_name)
    pid.pid_5.xpn_2 = escape(facts.given_name)
    pid.pid_7 = facts.date_of_birth.strftime("%Y%m%d")
    pid.pid_8 = _SEX.get(facts.sex, "U")
    pv1 = msg.pv1
    pv1.pv1_2 = "I"
    if facts.location is not None:
        _location(pv1.pv1_3, facts.location, facts.sending_facility)
    pv1.pv1_4 = _SOURCE.get(facts.source, "9")
    if facts.prior_location is not None:
        _location(pv1.pv1_6, facts.prior_location, facts.sending_facility)
    if facts.attending_id is not None:
        pv1.pv1_7.xcn_1 = str(facts.attending_id)
        given, _, family = (facts.attending_name or "").removeprefix("Dr. ").rpartition(" ")
        if family:
            pv1.pv1_7.xcn_2.fn_1 = escape(family)
        if given:
            pv1.pv1_7.xcn_3 = escape(given)
    pv1.pv1_19.cx_1 = str(facts.admission_id)
    if facts.disposition:
        pv1.pv1_36 = _DISPOSITION.get(facts.disposition, "09")
    pv1.pv1_44 = ts(facts.admitted_at)
    if facts.discharged_at is not None:
        pv1.pv1_45 = ts(facts.discharged_at)
    msg.validate()
    return msg.to_er7()
