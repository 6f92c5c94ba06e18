"""Vitals from bedside monitors (HL7 v2 ORU^R01): match, store, acknowledge.

One message, one transaction. The message is recorded first (``device_messages``, unique
per sender and control id), so a monitor resending a message whose ACK it lost gets the
first answer again and the reading is never stored twice. Then the patient is found:

- by MRN (PID-3): the patient must be admitted at the time of the reading; if the message
  also names a bed (PV1-3), it must be the patient's bed at that time;
- by bed only: the patient who held that bed at the time of the reading.

Anything else — an unknown MRN, a bed nobody held, an MRN and a bed that disagree — goes to
the review list (``unmatched``) and the monitor gets ``AE``: no reading is ever stored
against a patient the message does not unambiguously name. Malformed or implausible
messages are kept for review too (``malformed`` / ``rejected``) with ``AR``/``AE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hms_server.adapters.hl7.oru import (
    DeviceReading,
    OruError,
    acknowledgement,
    build_ack,
    parse_oru,
    read_header,
)
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import VitalSigns
from hms_server.adapters.orm.devices import DeviceMessage
from hms_server.adapters.repositories.devices import DeviceRepository
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.domain.clinical import validate_vitals, vital_flags
from hms_server.domain.errors import (
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)

CATEGORY = "device_vitals"
DEVICE_ACTOR = Actor.system("hl7-listener")
#: A reading time further ahead than this is a monitor with a wrong clock: refused.
CLOCK_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Outcome:
    """What happened to one message and the acknowledgement to send."""

    status: str  # stored | unmatched | malformed | rejected | duplicate
    ack: str
    message_id: int | None = None
    vitals_id: int | None = None
    patient_id: int | None = None


class _Unmatched(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def _ack_for(raw: str, status: str, code: str | None, detail: str | None) -> str:
    return acknowledgement(raw, status, code, detail)


def _match(repo: DeviceRepository, reading: DeviceReading) -> tuple[Any, int]:
    """``(admission, patient id)`` the reading belongs to, or ``_Unmatched``.

    Monitor clocks and the moment an admission is recorded differ by seconds to minutes, so
    a reading shortly before the admission still belongs to it; but a bed that changed
    hands within that margin is ambiguous and goes to review rather than to a guess."""
    at = reading.observed_at
    in_bed = None
    if reading.ward_code and reading.bed:
        holders = repo.admissions_in_bed_around(
            reading.ward_code, reading.room, reading.bed, at, CLOCK_TOLERANCE
        )
        if len(holders) > 1:
            raise _Unmatched(
                "ambiguous_bed", "The bed changed patients around the time of the reading."
            )
        in_bed = holders[0] if holders else None
    if reading.mrn:
        patient_id = repo.patient_id_for_mrn(reading.mrn)
        if patient_id is None:
            raise _Unmatched("unknown_mrn", "No patient has this MRN.")
        admission = repo.admission_of_patient_at(patient_id, at, CLOCK_TOLERANCE)
        if admission is None:
            raise _Unmatched(
                "not_admitted", "The patient was not admitted at the time of the reading."
            )
        if reading.ward_code and reading.bed and (in_bed is None or in_bed.id != admission.id):
            raise _Unmatched(
                "location_mismatch",
                "The MRN and the bed in the message name "
                "different patients (or the patient was in another bed).",
            )
        return admission, patient_id
    if in_bed is None:
        raise _Unmatched("empty_bed", "Nobody was admitted to that bed at the time of the reading.")
    return in_bed, in_bed.patient_id


def _store_vitals(
    repo: DeviceRepository, reading: DeviceReading, admission: Any, patient_id: int
) -> VitalSigns:
    values = dict(reading.values)
    try:
        validate_vitals(values)
    except ValidationFailedError as exc:
        raise OruError("bad_value", exc.detail) from exc
    row = VitalSigns(
        patient_id=patient_id,
        encounter_id=admission.encounter_id,
        recorded_by_user_id=None,
        source="device",
        device_id=reading.device_id,
        recorded_at=reading.observed_at,
        flags=vital_flags(values),
        **values,
    )
    repo.add(row)
    repo.flush()
    return row


def receive_message(uow: UnitOfWork, raw: str) -> Outcome:
    """Process one ORU^R01 (already unframed); returns the outcome with its ACK text."""
    header = read_header(raw)
    with uow:
        repo = uow.repo(DeviceRepository)
        record = repo.claim(
            DeviceMessage(
                received_at=utcnow(),
                raw=raw[:200_000],
                sending_application=header.sending_application,
                sending_facility=header.sending_facility,
                control_id=header.control_id,
                message_type=(header.message_type or "")[:16] or None,
                status="malformed",
            )
        )
        if record is None:
            previous = repo.by_control_id(header.sending_application, header.control_id)
            uow.commit()
            status = previous.status if previous else "stored"
            return Outcome(
                "duplicate",
                _ack_for(
                    raw,
                    status,
                    previous.error_code if previous else None,
                    previous.error_detail if previous else None,
                ),
                previous.id if previous else None,
                previous.vitals_id if previous else None,
                previous.patient_id if previous else None,
            )
        try:
            reading = parse_oru(raw, uow.hospital.zone)
            record.device_id = reading.device_id
            if reading.observed_at > utcnow() + CLOCK_TOLERANCE:
                raise OruError(
                    "bad_time", "The reading is timed in the future (check the monitor's clock)."
                )
            admission, patient_id = _match(repo, reading)
            vitals = _store_vitals(repo, reading, admission, patient_id)
        except OruError as error:
            record.status, record.error_code = error.status, error.code
            record.error_detail = error.detail[:500]
        except _Unmatched as miss:
            record.status, record.error_code = "unmatched", miss.code
            record.error_detail = miss.detail[:500]
        else:
            record.status, record.patient_id = "stored", patient_id
            record.admission_id, record.vitals_id = admission.id, vitals.id
            uow.audit(
                CATEGORY,
                "device_vitals.store",
                patient_id=patient_id,
                detail={
                    "device_message_id": record.id,
                    "vitals_id": vitals.id,
                    "device_id": reading.device_id,
                },
            )
            uow.publish(
                "vitals.recorded",
                {
                    "vitals_id": vitals.id,
                    "patient_id": patient_id,
                    "admission_id": admission.id,
                    "source": "device",
                },
            )
        if record.status != "stored":
            uow.publish("device_message.review", {"device_message_id": record.id})
        repo.flush()
        uow.commit()
        return Outcome(
            record.status,
            _ack_for(raw, record.status, record.error_code, record.error_detail),
            record.id,
            record.vitals_id,
            record.patient_id,
        )


def record_broken_frame(uow: UnitOfWork, raw: bytes, reason: str) -> Outcome:
    """A frame that could not even be read (truncated, oversized, not UTF-8): kept for
    review; the NAK names the control id when the MSH survived."""
    text = raw.decode("utf-8", errors="replace").strip("\x0b\x1c\r\n")
    header = read_header(text)
    with uow:
        repo = uow.repo(DeviceRepository)
        record = DeviceMessage(
            received_at=utcnow(),
            raw=text[:200_000],
            sending_application=header.sending_application,
            sending_facility=header.sending_facility,
            control_id=None,
            message_type=(header.message_type or "")[:16] or None,
            status="malformed",
            error_code="frame",
            error_detail=reason[:500],
        )
        repo.add(record)
        repo.flush()
        uow.publish("device_message.review", {"device_message_id": record.id})
        uow.commit()
        return Outcome(
            "malformed", build_ack(text, "AR", error_code="100", error_text=reason), record.id
        )


# --- the review list ----------------------------------------------------------------------------


def list_review(
    uow: UnitOfWork, *, include_reviewed: bool, limit: int, offset: int
) -> tuple[list[DeviceMessage], int]:
    with uow:
        rows, total = uow.repo(DeviceRepository).review_list(include_reviewed, limit, offset)
        uow.audit(CATEGORY, "review.list", detail={"returned": len(rows)})
        uow.commit()
        return rows, total


def review_message(
    uow: UnitOfWork,
    message_id: int,
    *,
    note: str,
    admission_id: int | None,
    ensure_access: Callable[[UnitOfWork, Any], object],
) -> DeviceMessage:
    """Close a review item: dismiss it, or (an unmatched reading) file it against the
    admission the nurse identified — its values are read again from the message."""
    with uow:
        repo = uow.repo(DeviceRepository)
        record = repo.message(message_id, lock=True)
        if record is None:
            raise NotFoundError(f"No device message with id {message_id}.")
        if record.status == "stored" or record.reviewed_at is not None:
            raise ConflictError(
                "This message has already been dealt with.", extra={"reason": "already_reviewed"}
            )
        if admission_id is not None:
            if record.status != "unmatched":
                raise ConflictError(
                    "Only a well-formed reading that matched nobody can be "
                    "filed against a patient.",
                    extra={"reason": "not_unmatched"},
                )
            admission = repo.admission(admission_id)
            if admission is None:
                raise NotFoundError(f"No admission with id {admission_id}.")
            ensure_access(uow, admission)
            reading = parse_oru(record.raw, uow.hospital.zone)
            if not (
                admission.admitted_at <= reading.observed_at
                and (
                    admission.discharged_at is None or reading.observed_at < admission.discharged_at
                )
            ):
                raise ConflictError(
                    "The reading was taken outside this admission.",
                    extra={"reason": "outside_admission"},
                )
            vitals = _store_vitals(repo, reading, admission, admission.patient_id)
            record.status, record.patient_id = "stored", admission.patient_id
            record.admission_id, record.vitals_id = admission.id, vitals.id
            uow.publish(
                "vitals.recorded",
                {
                    "vitals_id": vitals.id,
                    "patient_id": admission.patient_id,
                    "admission_id": admission.id,
                    "source": "device",
                },
            )
        record.reviewed_at = utcnow()
        record.reviewed_by_user_id = uow.actor.user_id if uow.actor else None
        record.review_note = note.strip()
        uow.audit(
            CATEGORY,
            "review.close",
            patient_id=record.patient_id,
            detail={"device_message_id": record.id, "filed": admission_id is not None},
        )
        repo.flush()
        uow.commit()
        return record
