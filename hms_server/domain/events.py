"""In-process domain events: how one business area reacts to another without importing it.

An area *emits* a fact inside its transaction (``uow.emit(PatientsMerged(...))``); the areas
that care *subscribe* to it in the composition root (``hms_server.bootstrap.wire_areas``),
the one place where the connections between areas are visible. Handlers run synchronously
in the emitting transaction, so their writes commit or roll back with it.

These are not the outbox events desktops receive (``uow.publish``); those are notifications
after commit. Events carry ids and plain values only, never ORM objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

E = TypeVar("E")
Handler = Callable[[Any, Any], None]
"""``handler(uow, event)``; runs inside the emitting unit of work."""


class EventsNotWiredError(RuntimeError):
    """A unit of work emitted an event but was built without the application's wiring.

    Raised instead of silently dropping the event: a merge that skips an area, or a
    consultation that is never charged, is a defect that must be loud."""


class DomainEvents:
    """Subscriptions of handlers to event types. Built and filled by the composition root;
    read-only once the application runs (thread-safe for emitting)."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[Any, E], None]) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[Any, E], None]) -> None:
        if handler in self._handlers.get(event_type, []):
            self._handlers[event_type].remove(handler)

    def handlers_for(self, event_type: type) -> tuple[Handler, ...]:
        return tuple(self._handlers.get(event_type, ()))

    def subscriptions(self) -> dict[type, tuple[Handler, ...]]:
        """Every event type and its handlers (for the developer guide and tests)."""
        return {k: tuple(v) for k, v in self._handlers.items()}

    def emit(self, uow: object, event: object) -> None:
        for handler in self.handlers_for(type(event)):
            handler(uow, event)


# --- the facts areas tell each other -------------------------------------------------------


@dataclass(frozen=True)
class PatientsMerged:
    """``loser_id``'s rows must now point at ``survivor_id`` (every area that stores a
    patient id handles this; a test walks the foreign keys to prove none is missed)."""

    loser_id: int
    survivor_id: int


@dataclass(frozen=True)
class AppointmentChanged:
    """An appointment was booked, rescheduled or cancelled (``change``)."""

    appointment_id: int
    change: str


@dataclass(frozen=True)
class SlotFreed:
    """A regular appointment place became free (cancelled or moved away)."""

    doctor_id: int
    start: datetime
    end: datetime
    exclude_patient_id: int | None = None


@dataclass(frozen=True)
class WaitlistOffered:
    waitlist_id: int
    patient_id: int


@dataclass(frozen=True)
class ConsultationCompleted:
    """A consultation ended (queue completed or encounter closed): billable once."""

    encounter_id: int
    patient_id: int
    doctor_user_id: int | None
    department_id: int | None
    ended_at: datetime


@dataclass(frozen=True)
class LabOrderPlaced:
    order_id: int
    patient_id: int
    test_code: str
    encounter_id: int | None
    ordered_at: datetime


@dataclass(frozen=True)
class LabOrderCancelled:
    order_id: int
    patient_id: int


@dataclass(frozen=True)
class MedicationDispensed:
    """Stock left the pharmacy for a patient (one per dispensed line and batch)."""

    dispense_line_id: int
    patient_id: int
    drug_id: int | None
    stock_item_id: int
    quantity: Decimal
    dispensed_at: datetime
    encounter_id: int | None = None
    admission_id: int | None = None


@dataclass(frozen=True)
class MedicationReturned:
    """A dispensed line came back to stock (its unbilled charge is reversed)."""

    dispense_line_id: int
    patient_id: int
    quantity: Decimal


@dataclass(frozen=True)
class BedDayOccupied:
    """An admitted patient occupied a bed at the midnight that starts ``day``."""

    admission_id: int
    patient_id: int
    ward_class: str
    day: date


@dataclass(frozen=True)
class PrescriptionIssued:
    """A prescription was written (the ward turns it into an inpatient order when the
    patient is admitted)."""

    prescription_id: int
    patient_id: int
    encounter_id: int | None
    issued_at: datetime


@dataclass(frozen=True)
class PrescriptionCancelled:
    prescription_id: int
    patient_id: int


@dataclass(frozen=True)
class AdmissionChanged:
    """An inpatient movement: ``change`` is ``admitted``, ``transferred``, ``discharged`` or
    ``cancelled`` (an admission made in error). ``previous_bed_id`` is set on transfers."""

    admission_id: int
    patient_id: int
    change: str
    at: datetime
    previous_bed_id: int | None = None


@dataclass(frozen=True)
class PatientDetailsChanged:
    """A patient's identifying details were corrected (``fields``: which of family_name,
    given_name, date_of_birth, sex). Systems that keep a copy (an HL7 ADT receiver for an
    inpatient) are told."""

    patient_id: int
    fields: tuple[str, ...]
