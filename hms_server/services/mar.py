"""The medication administration record (MAR).

- A prescription written for an admitted patient becomes inpatient orders
  (``on_prescription_issued``, subscribed to ``PrescriptionIssued`` in the composition root),
  each with scheduled doses in the hospital's time zone (``domain.mar``). A frequency the
  ward cannot schedule leaves the order ``unscheduled`` for the doctor to fix; prescribing
  itself never fails because of the ward.
- Cancelling the prescription, stopping or changing the order, or discharging the patient
  cancels the future doses (and a change regenerates them from now).
- Recording a dose runs the five-rights check first: the wristband's MRN, the medication's
  barcode (resolved by the pharmacy through ``MedicationCodeResolver``), the strength, the
  route, and the time window. A refusal is audited (in its own transaction) with its code,
  and nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.mar import MedicationAdministration, MedicationOrder
from hms_server.adapters.orm.wards import Admission
from hms_server.adapters.repositories.mar import (
    AdministrationRow,
    DoseRow,
    MarRepository,
    drug_facts,
)
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import CareRelationshipRequiredError
from hms_server.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    UnavailableError,
)
from hms_server.domain.events import PrescriptionCancelled, PrescriptionIssued
from hms_server.domain.mar import (
    DEFAULT_WINDOW_MINUTES,
    DoseAlreadyRecordedError,
    DoseNotDueError,
    FiveRightsError,
    Frequency,
    OrderedDose,
    OrderNotActiveError,
    UnknownFrequencyError,
    WrongDrugError,
    check_drug_dose_route,
    check_patient,
    check_prn_interval,
    check_time,
    dose_times,
    parse_clock_times,
    parse_frequency,
    require_reason,
    schedule_end,
)
from hms_server.domain.ports import MedicationCodeResolver, ScannedMedication
from hms_server.domain.versioning import check_version
from hms_server.services.access import ensure_chart_access
from hms_server.services.ward_access import admission_or_404, ensure_ward_care

CATEGORY = "medication_administration"


class ScanningUnavailableError(UnavailableError):
    code, title = "scanning_unavailable", "Medication scanning unavailable"


class ExpiredMedicationError(ConflictError):
    code, title = "expired_medication", "Medication expired"


# --- orders from prescriptions ------------------------------------------------------------------


def _frequency_of(order: MedicationOrder) -> Frequency:
    if order.prn:
        return Frequency(prn=True, prn_interval_minutes=order.prn_interval_minutes)
    return Frequency(times=tuple(order.schedule_times), every_days=order.every_days)


def _generate(
    uow: UnitOfWork,
    order: MedicationOrder,
    freq: Frequency,
    start: datetime,
    *,
    duration_days: int | None,
) -> int:
    """Create the doses of ``order`` from ``start`` to its end (or the rolling horizon)."""
    repo = uow.repo(MarRepository)
    if freq.prn:
        return 0
    now = utcnow()
    end, open_ended = schedule_end(order.starts_at, duration_days, now)
    if order.ends_at is not None:
        end = min(end, order.ends_at)
    instants = dose_times(freq, start, end, uow.hospital.zone)
    order.scheduled_until = end if open_ended else order.ends_at
    return repo.add_doses(order, instants)


def _new_order(
    uow: UnitOfWork, admission: Admission, item: Any, issued_at: datetime
) -> MedicationOrder:
    try:
        freq: Frequency | None = parse_frequency(item.frequency)
    except UnknownFrequencyError:
        freq = None
    starts_at = max(issued_at, admission.admitted_at)
    ends_at = starts_at + timedelta(days=item.duration_days) if item.duration_days else None
    order = MedicationOrder(
        admission_id=admission.id,
        patient_id=admission.patient_id,
        prescription_id=item.prescription_id,
        prescription_item_id=item.id,
        drug_id=item.drug_id,
        dose=item.dose,
        unit=item.unit,
        route=item.route,
        frequency=item.frequency,
        schedule_times=list(freq.times) if freq else [],
        every_days=freq.every_days if freq else 1,
        prn=bool(freq and freq.prn),
        prn_interval_minutes=freq.prn_interval_minutes if freq else None,
        starts_at=starts_at,
        ends_at=ends_at,
        instructions=item.instructions,
        status="active" if freq else "unscheduled",
        created_at=utcnow(),
        version=1,
    )
    if freq and freq.once:
        order.ends_at = starts_at + timedelta(hours=1)
    uow.repo(MarRepository).add(order)
    uow.session.flush()
    if freq is not None:
        _generate(uow, order, freq, starts_at, duration_days=item.duration_days)
    return order


def on_prescription_issued(uow: UnitOfWork, event: PrescriptionIssued) -> None:
    """Handles ``PrescriptionIssued`` in the prescribing transaction: an admitted patient's
    prescription lines become inpatient orders with their doses."""
    admission = uow.repo(WardRepository).open_admission_of(event.patient_id)
    if admission is None:
        return
    repo = uow.repo(MarRepository)
    created = []
    for item in repo.prescription_items(event.prescription_id):
        if repo.order_for_item(item.id) is None:
            created.append(_new_order(uow, admission, item, event.issued_at).id)
    if created:
        uow.audit(
            CATEGORY,
            "orders.create",
            patient_id=event.patient_id,
            detail={
                "admission_id": admission.id,
                "order_ids": created,
                "prescription_id": event.prescription_id,
            },
        )
        uow.publish("mar.changed", {"admission_id": admission.id, "patient_id": event.patient_id})


def _end_order(
    uow: UnitOfWork, order: MedicationOrder, *, status: str, reason: str, at: datetime
) -> int:
    cancelled = uow.repo(MarRepository).cancel_doses_after(order.id, at)
    order.status, order.stopped_at, order.stop_reason = status, at, reason[:500]
    order.stopped_by_user_id = uow.actor.user_id if uow.actor else None
    order.version += 1
    return cancelled


def on_prescription_cancelled(uow: UnitOfWork, event: PrescriptionCancelled) -> None:
    """Handles ``PrescriptionCancelled``: its orders stop, future doses are cancelled."""
    now = utcnow()
    stopped = [
        o
        for o in uow.repo(MarRepository).orders_of_prescription(event.prescription_id)
        if o.status in ("active", "unscheduled")
    ]
    for order in stopped:
        _end_order(uow, order, status="stopped", reason="prescription cancelled", at=now)
    if stopped:
        uow.audit(
            CATEGORY,
            "orders.stop",
            patient_id=event.patient_id,
            detail={"order_ids": [o.id for o in stopped], "reason": "prescription"},
        )
        uow.publish(
            "mar.changed", {"admission_id": stopped[0].admission_id, "patient_id": event.patient_id}
        )


def end_orders_of_admission(uow: UnitOfWork, admission_id: int, *, reason: str) -> int:
    """On discharge or cancellation: every active order ends and its future doses go."""
    now = utcnow()
    count = 0
    for order in uow.repo(MarRepository).orders_of_admission(admission_id):
        if order.status in ("active", "unscheduled"):
            _end_order(uow, order, status="completed", reason=reason, at=now)
            count += 1
    return count


def stop_order(uow: UnitOfWork, order_id: int, *, reason: str) -> MedicationOrder:
    """A doctor stops an inpatient order now; future doses are cancelled."""
    with uow:
        repo = uow.repo(MarRepository)
        order = repo.order(order_id, lock=True)
        if order is None:
            raise NotFoundError(f"No medication order with id {order_id}.")
        ensure_chart_access(uow, order.patient_id)
        if order.status not in ("active", "unscheduled"):
            raise OrderNotActiveError(f"This order is already {order.status}.")
        cancelled = _end_order(uow, order, status="stopped", reason=reason.strip(), at=utcnow())
        uow.audit(
            CATEGORY,
            "order.stop",
            patient_id=order.patient_id,
            detail={"order_id": order.id, "cancelled_doses": cancelled},
        )
        uow.publish(
            "mar.changed", {"admission_id": order.admission_id, "patient_id": order.patient_id}
        )
        uow.commit()
        return order


def change_order(
    uow: UnitOfWork,
    order_id: int,
    *,
    version: int,
    frequency: str | None,
    schedule_times: list[str] | None,
    duration_days: int | None,
) -> MedicationOrder:
    """Reschedule an order: future doses are cancelled and regenerated from now with the
    new frequency, explicit clock times, or course length."""
    with uow:
        repo = uow.repo(MarRepository)
        order = repo.order(order_id, lock=True)
        if order is None:
            raise NotFoundError(f"No medication order with id {order_id}.")
        ensure_chart_access(uow, order.patient_id)
        check_version(order.version, version, "medication order")
        if order.status not in ("active", "unscheduled"):
            raise OrderNotActiveError(f"This order is {order.status}; it cannot change.")
        freq = parse_frequency(frequency) if frequency else _frequency_of(order)
        if frequency:
            order.frequency = frequency
        if schedule_times:
            freq = Frequency(
                times=parse_clock_times(schedule_times),
                every_days=freq.every_days if not freq.prn else 1,
            )
            order.frequency = "at " + ", ".join(schedule_times)
        if not freq.prn and not freq.times and not freq.once:
            raise UnknownFrequencyError("Give a frequency or the times of day.")
        now = utcnow()
        if duration_days is not None:
            order.ends_at = order.starts_at + timedelta(days=duration_days)
            if order.ends_at <= now:
                raise UnknownFrequencyError(
                    "That course length has already ended; stop the order instead."
                )
        cancelled = repo.cancel_doses_after(order.id, now)
        order.schedule_times = list(freq.times)
        order.every_days = freq.every_days
        order.prn, order.prn_interval_minutes = freq.prn, freq.prn_interval_minutes
        order.status = "active"
        order.version += 1
        uow.session.flush()
        days = None if order.ends_at is None else max(1, (order.ends_at - order.starts_at).days)
        created = _generate(uow, order, freq, now, duration_days=days)
        uow.audit(
            CATEGORY,
            "order.change",
            patient_id=order.patient_id,
            detail={"order_id": order.id, "cancelled_doses": cancelled, "new_doses": created},
        )
        uow.publish(
            "mar.changed", {"admission_id": order.admission_id, "patient_id": order.patient_id}
        )
        uow.commit()
        return order


def extend_open_ended_orders(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Top up the doses of open-ended orders to the rolling horizon (run by the ward
    worker); returns the number of doses added."""
    now = now or utcnow()
    added = 0
    with uow:
        repo = uow.repo(MarRepository)
        for order in repo.open_ended_orders_due(now + timedelta(hours=24)):
            start = max(order.scheduled_until or now, now)
            added += _generate(uow, order, _frequency_of(order), start, duration_days=None)
        uow.commit()
    return added


# --- reading the MAR ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarView:
    admission: Admission
    window_minutes: int
    doses: list[DoseRow]
    orders: list[tuple[MedicationOrder, Any, datetime | None]]
    now: datetime


def get_mar(
    uow: UnitOfWork, admission_id: int, *, since: datetime | None, until: datetime | None
) -> MarView:
    """The doses of an admission in ``[since, until)`` (default: all) and its orders."""
    with uow:
        admission = admission_or_404(uow, admission_id)
        basis = ensure_chart_access(uow, admission.patient_id)
        repo = uow.repo(MarRepository)
        ward = repo.ward_of_admission(admission)
        window = ward.mar_window_minutes if ward else DEFAULT_WINDOW_MINUTES
        doses = repo.dose_rows(admission.id, since, until)
        order_drugs = repo.order_drugs(admission.id)
        last = repo.last_given_by_order([o.id for o, _ in order_drugs])
        uow.audit(
            CATEGORY,
            "read",
            patient_id=admission.patient_id,
            detail={**basis.audit_detail(), "admission_id": admission.id},
        )
        uow.commit()
        return MarView(
            admission, window, doses, [(o, d, last.get(o.id)) for o, d in order_drugs], utcnow()
        )


def chart_administrations(
    uow: UnitOfWork,
    patient_id: int,
    *,
    statuses: list[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    **detail: Any,
) -> list[AdministrationRow]:
    """A patient's recorded administrations (FHIR MedicationAdministration), after the
    chart's care-relationship check; the read is audited with ``detail``."""
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows = uow.repo(MarRepository).administrations(
            patient_id=patient_id, statuses=statuses, since=since, until=until, limit=limit
        )
        uow.audit(
            CATEGORY, "read", patient_id=patient_id, detail={**basis.audit_detail(), **detail}
        )
        uow.commit()
        return rows


def chart_administration(
    uow: UnitOfWork, administration_id: int, **detail: Any
) -> AdministrationRow | None:
    """One recorded administration by id; None if there is none or if the patient is
    outside the reader's care (the same answer either way; the refusal is audited)."""
    with uow:
        rows = uow.repo(MarRepository).administrations(administration_id=administration_id)
        if not rows:
            return None
        patient_id = rows[0].administration.patient_id
        try:
            basis = ensure_chart_access(uow, patient_id)
        except CareRelationshipRequiredError:
            return None
        uow.audit(
            CATEGORY,
            "read",
            patient_id=patient_id,
            detail={**basis.audit_detail(), "administration_id": administration_id, **detail},
        )
        uow.commit()
        return rows[0]


# --- recording a dose ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AdministrationInput:
    dose_id: int | None
    order_id: int | None
    patient_barcode: str
    medication_barcode: str | None
    status: str
    reason: str | None
    administered_at: datetime | None


def _resolve(uow: UnitOfWork, resolver: MedicationCodeResolver, code: str) -> ScannedMedication:
    try:
        return resolver(uow, code)
    except DomainError as exc:
        # An unknown or unreadable code is not the ordered drug: the nurse must not give it.
        raise WrongDrugError(
            "The scanned medication barcode does not identify the ordered drug "
            f"({exc.detail}). Do not give it.",
            extra={"barcode_problem": exc.code},
        ) from exc


def _audit_refusal(
    uow: UnitOfWork, patient_id: int, error: DomainError, detail: dict[str, Any]
) -> None:
    refused = uow.child()
    with refused:
        refused.audit(
            CATEGORY,
            "administration.refused",
            outcome="denied",
            patient_id=patient_id,
            detail={**detail, "code": error.code},
        )
        refused.commit()


def record_administration(
    uow: UnitOfWork, data: AdministrationInput, resolver: MedicationCodeResolver | None
) -> MedicationAdministration:
    """Record a scheduled dose (``dose_id``) or a PRN dose (``order_id``) after the
    five-rights check. 409 ``wrong_patient`` / ``wrong_drug`` / ``wrong_dose`` /
    ``wrong_route`` / ``wrong_time``, ``dose_already_recorded``, ``dose_cancelled``;
    503 ``scanning_unavailable`` when no barcode resolver is configured."""
    require_reason(data.status, data.reason)
    with uow:
        repo = uow.repo(MarRepository)
        dose = None
        if data.dose_id is not None:
            dose = repo.dose(data.dose_id, lock=True)
            if dose is None:
                raise NotFoundError(f"No scheduled dose with id {data.dose_id}.")
            order = repo.order(dose.order_id)
        else:
            assert data.order_id is not None
            order = repo.order(data.order_id, lock=True)
        if order is None:
            raise NotFoundError(f"No medication order with id {data.order_id}.")
        admission = admission_or_404(uow, order.admission_id)
        basis = ensure_ward_care(uow, admission)
        patient = uow.repo(WardRepository).patient(order.patient_id)
        drug = repo.drug(order.drug_id)
        assert patient is not None and drug is not None
        ward = repo.ward_of_admission(admission)
        ordered = OrderedDose(
            patient_mrn=patient.mrn,
            drug=drug_facts(drug),
            route=order.route,
            due_at=dose.due_at if dose else None,
            window_minutes=ward.mar_window_minutes if ward else DEFAULT_WINDOW_MINUTES,
        )
        at = data.administered_at or utcnow()
        scanned: ScannedMedication | None = None
        audit_detail = {"order_id": order.id, "dose_id": data.dose_id, "status": data.status}
        try:
            if admission.status != "admitted":
                raise OrderNotActiveError("The patient is no longer admitted.")
            if dose is not None and dose.status == "cancelled":
                raise DoseNotDueError(
                    "This dose was cancelled (the order was stopped or changed). Do not give it."
                )
            if dose is not None and dose.status != "scheduled":
                raise DoseAlreadyRecordedError(f"This dose is already recorded as {dose.status}.")
            if dose is None and not order.prn:
                raise ConflictError(
                    "Only as-needed (PRN) orders are recorded without a scheduled dose.",
                    extra={"reason": "not_prn"},
                )
            if order.status != "active":
                raise OrderNotActiveError(f"This order is {order.status}.")
            check_patient(data.patient_barcode, ordered)
            if data.status == "given" and resolver is None:
                # The wristband was checked; the medicine cannot be, so nothing is recorded.
                raise ScanningUnavailableError(
                    "Medication barcodes cannot be checked right now (the pharmacy catalogue "
                    "is not connected). Record the dose when scanning is available."
                )
            if data.status == "given":
                assert resolver is not None and data.medication_barcode is not None
                scanned = _resolve(uow, resolver, data.medication_barcode)
                scanned_drug = repo.drug(scanned.drug_id) if scanned.drug_id else None
                check_drug_dose_route(
                    drug_facts(scanned_drug) if scanned_drug else None,
                    scanned_strength=scanned.strength,
                    scanned_route=scanned.route,
                    ordered=ordered,
                )
                if scanned.expiry is not None and scanned.expiry < uow.hospital.local(at).date():
                    raise ExpiredMedicationError(
                        f"This pack expired on {scanned.expiry.isoformat()}. Do not give it."
                    )
                if order.prn:
                    check_prn_interval(
                        repo.last_given(order.id),
                        at=at,
                        interval_minutes=order.prn_interval_minutes or 240,
                    )
            outside = (
                check_time(ordered, at=at, reason=data.reason) if data.status == "given" else False
            )
        except (FiveRightsError, ExpiredMedicationError) as error:
            _audit_refusal(uow, order.patient_id, error, audit_detail)
            raise
        row = MedicationAdministration(
            order_id=order.id,
            dose_id=dose.id if dose else None,
            admission_id=admission.id,
            patient_id=order.patient_id,
            status=data.status,
            administered_at=at,
            recorded_at=utcnow(),
            recorded_by_user_id=uow.actor.user_id if uow.actor else None,
            reason=(data.reason or "").strip() or None,
            outside_window=outside,
            patient_barcode=data.patient_barcode[:64],
            medication_barcode=(data.medication_barcode or None),
            scanned_drug_id=scanned.drug_id if scanned else None,
            stock_item_id=scanned.stock_item_id if scanned else None,
            dispense_line_id=scanned.dispense_line_id if scanned else None,
            gtin=scanned.gtin if scanned else None,
            lot=scanned.lot if scanned else None,
            expiry=scanned.expiry if scanned else None,
        )
        repo.add(row)
        if dose is not None:
            dose.status = data.status
            dose.version += 1
        repo.flush_administration()
        uow.audit(
            CATEGORY,
            f"administration.{data.status}",
            patient_id=order.patient_id,
            detail={
                **basis.audit_detail(),
                **audit_detail,
                "administration_id": row.id,
                "outside_window": outside,
            },
        )
        uow.publish("mar.changed", {"admission_id": admission.id, "patient_id": order.patient_id})
        uow.commit()
        return row


def discharge_medications(uow: UnitOfWork, patient_id: int) -> list[str]:
    """The patient's active prescriptions at discharge, as the discharge summary lists them
    ("Amlodipine 5 mg tablet — 1 tablet oral once daily")."""
    from hms_server.services.prescribing import active_medication_rows

    lines = []
    for item, drug, _ in active_medication_rows(uow, patient_id):
        product = " ".join(p for p in (drug.generic_name, drug.strength, drug.form) if p)
        lines.append(
            f"{product} — {item.dose.normalize():f} {item.unit} {item.route} {item.frequency}"
        )
    return lines
