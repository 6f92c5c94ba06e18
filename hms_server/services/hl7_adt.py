"""HL7 v2 ADT out: every inpatient movement (``AdmissionChanged``) queues one ADT message
(A01, A02, A03, A11) in the outgoing-message outbox, in the movement's own transaction, so a
message exists exactly when the movement does; a correction of an inpatient's name, date of
birth or sex (``PatientDetailsChanged``) queues an A08 the same way. The messaging
dispatcher sends them over MLLP with retries (``adapters/messaging/mllp.py``); per patient,
messages leave in order.

Wired in the composition root only when an ADT endpoint is configured
(``HMS_HL7_ADT_ENDPOINT``).
"""

from __future__ import annotations

from dataclasses import dataclass

from hms_server.adapters.hl7.adt import AdtFacts, Location, build_adt
from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.messaging import Message
from hms_server.adapters.queries import hl7 as hl7_queries
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.events import AdmissionChanged, PatientDetailsChanged

CATEGORY = "messaging"


def _location(row: object) -> Location | None:
    if row is None:
        return None
    return Location(row.ward_code, row.room, row.bed)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AdtPublisher:
    """Subscriber of ``AdmissionChanged``: builds the ADT message and queues it for
    ``endpoint`` (``host:port``)."""

    endpoint: str
    sending_facility: str = "HMS"
    receiving_application: str = ""
    receiving_facility: str = ""

    def __call__(self, uow: UnitOfWork, event: AdmissionChanged) -> None:
        self._queue(uow, event)

    def details_changed(self, uow: UnitOfWork, event: PatientDetailsChanged) -> None:
        """Subscriber of ``PatientDetailsChanged``: an A08 for the patient's current stay
        (nothing for a patient who is not in hospital: no receiver holds a stay for them)."""
        uow.session.flush()
        admission_id = hl7_queries.current_admission_id(uow.session, event.patient_id)
        if admission_id is None:
            return
        self._queue(uow, AdmissionChanged(admission_id, event.patient_id, "updated", utcnow()))

    def _queue(self, uow: UnitOfWork, event: AdmissionChanged) -> None:
        session = uow.session
        session.flush()
        row = hl7_queries.admission_facts(session, event.admission_id)
        if row is None:
            return
        zone = uow.hospital.zone
        # The location being left: the bed before a transfer, or the bed the patient is
        # leaving on discharge and cancel.
        prior = (
            hl7_queries.bed_location(session, event.previous_bed_id)
            if event.change == "transferred"
            else None
        )
        current = hl7_queries.bed_location(
            session,
            event.previous_bed_id if event.change in ("discharged", "cancelled") else row.bed_id,
        )
        facts = AdtFacts(
            change=event.change,
            control_id=f"HMS{event.admission_id}-{utcnow():%y%m%d%H%M%S%f}",
            at=event.at.astimezone(zone),
            mrn=row.mrn,
            family_name=row.family_name,
            given_name=row.given_name,
            date_of_birth=row.date_of_birth,
            sex=row.sex,
            admission_id=row.id,
            admitted_at=row.admitted_at.astimezone(zone),
            source=row.source,
            location=_location(current),
            prior_location=_location(prior),
            attending_id=row.attending_doctor_user_id,
            attending_name=row.attending_name,
            discharged_at=row.discharged_at.astimezone(zone) if row.discharged_at else None,
            disposition=row.discharge_disposition if event.change == "discharged" else None,
            sending_facility=self.sending_facility,
            receiving_application=self.receiving_application,
            receiving_facility=self.receiving_facility,
        )
        body = build_adt(facts)
        now = utcnow()
        message = Message(
            channel="hl7",
            recipient=self.endpoint,
            template=f"adt_{facts.change}",
            body=body,
            patient_id=event.patient_id,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(message)
        session.flush()
        uow.audit(
            CATEGORY,
            "hl7.adt.queue",
            patient_id=event.patient_id,
            detail={
                "admission_id": event.admission_id,
                "message_id": message.id,
                "change": event.change,
            },
        )
