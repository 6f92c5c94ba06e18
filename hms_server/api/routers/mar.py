"""The medication administration record: read the MAR of an admission, record a dose after
the five-rights barcode check (nurses on their ward), stop or reschedule an order (doctors).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.mar import (
    AdministrationCreate,
    AdministrationRead,
    MarRead,
    MedicationOrderRead,
    OrderChange,
    OrderStop,
    ScheduledDoseRead,
)
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.permissions import Perm
from hms_server.services import mar as svc

router = APIRouter(tags=["medication administration"], responses=PROBLEM_RESPONSES)

ClinicalRead = requirement(Perm.CLINICAL_READ)
Administer = requirement(Perm.MAR_ADMINISTER)
Prescriber = requirement(Perm.PRESCRIBE)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailedError(
            f"{name} needs a time zone.",
            extra={
                "errors": [
                    {
                        "field": f"query.{name}",
                        "type": "value_error",
                        "message": "needs a time zone",
                    }
                ]
            },
        )


def order_read(
    ctx: RequestContext, order: Any, drug: object, last_given: datetime | None = None
) -> MedicationOrderRead:
    local = ctx.hospital.local
    return MedicationOrderRead(
        id=order.id,
        admission_id=order.admission_id,
        patient_id=order.patient_id,
        prescription_id=order.prescription_id,
        prescription_item_id=order.prescription_item_id,
        drug_id=order.drug_id,
        drug_name=drug.generic_name,  # type: ignore[attr-defined]
        strength=drug.strength,
        form=drug.form,  # type: ignore[attr-defined]
        dose=order.dose,
        unit=order.unit,
        route=order.route,
        frequency=order.frequency,
        schedule_times=[t.strftime("%H:%M") for t in order.schedule_times],
        every_days=order.every_days,
        prn=order.prn,
        prn_interval_minutes=order.prn_interval_minutes,
        starts_at=local(order.starts_at),
        ends_at=local(order.ends_at) if order.ends_at else None,
        status=order.status,  # type: ignore[arg-type]
        instructions=order.instructions,
        stop_reason=order.stop_reason,
        last_given_at=local(last_given) if last_given else None,
        version=order.version,
    )


@router.get("/admissions/{admission_id}/mar", operation_id="get_mar")
def get_mar(
    admission_id: IdPath,
    ctx: ClinicalRead,
    since: Annotated[datetime | None, Query(description="From (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="To (exclusive)")] = None,
) -> MarRead:
    """Scheduled doses (``items``, oldest first) and the orders of an admission."""
    _aware(since, "since")
    _aware(until, "until")
    view = svc.get_mar(ctx.uow(), admission_id, since=since, until=until)
    window = view.window_minutes
    margin = timedelta(minutes=window)
    local = ctx.hospital.local
    items = []
    for row in view.doses:
        dose, order, drug, given = row.dose, row.order, row.drug, row.administration
        open_ = dose.status == "scheduled"
        items.append(
            ScheduledDoseRead(
                id=dose.id,
                order_id=order.id,
                prescription_item_id=order.prescription_item_id,
                drug_name=drug.generic_name,
                dose=order.dose,
                unit=order.unit,
                route=order.route,
                due_at=local(dose.due_at),
                status=dose.status,  # type: ignore[arg-type]
                window_minutes=window,
                due=open_ and dose.due_at - margin <= view.now <= dose.due_at + margin,
                overdue=open_ and dose.due_at + margin < view.now,
                administered_at=local(given.administered_at) if given else None,
                recorded_by_name=row.recorded_by_name,
                reason=given.reason if given else None,
                version=dose.version,
            )
        )
    return MarRead(
        admission_id=view.admission.id,
        patient_id=view.admission.patient_id,
        items=items,
        total=len(items),
        orders=[order_read(ctx, o, d, last) for o, d, last in view.orders],
    )


@router.post(
    "/medication-administrations",
    operation_id="record_administration",
    status_code=201,
    response_model=AdministrationRead,
    responses={
        409: {
            "description": "wrong_patient, wrong_drug, wrong_dose, "
            "wrong_route, wrong_time, dose_already_recorded, "
            "dose_cancelled, expired_medication"
        },
        503: {"description": "scanning_unavailable"},
    },
)
def record_administration(
    body: AdministrationCreate,
    request: Request,
    ctx: Administer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record a dose as given, held, refused or missed after scanning the wristband and the
    medication; the server checks the five rights and refuses a mismatch (nothing is
    recorded). A dose outside its window needs a ``reason``."""
    data = svc.AdministrationInput(**body.model_dump())
    resolver = ctx.runtime.ports.medication_codes
    local = ctx.hospital.local

    def read(row: object) -> AdministrationRead:
        read_row = AdministrationRead.model_validate(row, from_attributes=True)
        return read_row.model_copy(update={"administered_at": local(read_row.administered_at)})

    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.record_administration(uow, data, resolver),
        read,
    )


@router.post("/medication-orders/{order_id}/stop", operation_id="stop_medication_order")
def stop_medication_order(
    order_id: IdPath, body: OrderStop, ctx: Prescriber
) -> MedicationOrderRead:
    order = svc.stop_order(ctx.uow(), order_id, reason=body.reason)
    return _order(ctx, order)


@router.patch("/medication-orders/{order_id}", operation_id="change_medication_order")
def change_medication_order(
    order_id: IdPath, body: OrderChange, ctx: Prescriber
) -> MedicationOrderRead:
    """Reschedule: future doses are cancelled and regenerated from now."""
    order = svc.change_order(
        ctx.uow(),
        order_id,
        version=body.version,
        frequency=body.frequency,
        schedule_times=body.schedule_times,
        duration_days=body.duration_days,
    )
    return _order(ctx, order)


def _order(ctx: RequestContext, order: Any) -> MedicationOrderRead:
    view = svc.get_mar(ctx.uow(), order.admission_id, since=None, until=None)
    for o, drug, last in view.orders:
        if o.id == order.id:
            return order_read(ctx, o, drug, last)
    raise AssertionError("order vanished")  # pragma: no cover
