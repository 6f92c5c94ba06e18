"""Equipment register: assets, usage log, service history, due alerts, out-of-service flag
(visible to ward staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.equipment import (
    EquipmentAlert,
    EquipmentCreate,
    EquipmentRead,
    EquipmentStatus,
    EquipmentStatusChange,
    EquipmentUpdate,
    ServiceCreate,
    ServiceRead,
    UsageCreate,
    UsageRead,
)
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import Perm
from hms_server.services import equipment as service

router = APIRouter(tags=["equipment"], responses=PROBLEM_RESPONSES)

EquipmentReader = requirement(Perm.EQUIPMENT_READ)
EquipmentUser = requirement(Perm.EQUIPMENT_USE)
EquipmentManager = requirement(Perm.EQUIPMENT_MANAGE)
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@router.get("/equipment", operation_id="list_equipment")
def list_equipment(
    ctx: EquipmentReader,
    location_id: OptionalId = None,
    status: EquipmentStatus | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[EquipmentRead]:
    rows, total = service.list_equipment(
        ctx.uow(), location_id=location_id, status=status, q=q, limit=limit, offset=offset
    )
    return Page[EquipmentRead](items=[EquipmentRead.model_validate(e) for e in rows], total=total)


@router.post(
    "/equipment", operation_id="register_equipment", status_code=201, response_model=EquipmentRead
)
def register_equipment(
    body: EquipmentCreate,
    request: Request,
    ctx: EquipmentManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: service.register(uow, **body.model_dump()),
        EquipmentRead.model_validate,
    )


@router.get("/equipment/alerts", operation_id="equipment_alerts")
def equipment_alerts(
    ctx: EquipmentReader,
    within_days: Annotated[int, Query(ge=0, le=365)] = 30,
    location_id: OptionalId = None,
) -> list[EquipmentAlert]:
    """Service or calibration due (or overdue), warranties ending, out-of-service assets."""
    return [
        EquipmentAlert.model_validate(a)
        for a in service.alerts(ctx.uow(), within_days=within_days, location_id=location_id)
    ]


@router.get("/equipment/{equipment_id}", operation_id="get_equipment")
def get_equipment(equipment_id: int, ctx: EquipmentReader) -> EquipmentRead:
    return EquipmentRead.model_validate(service.get_equipment(ctx.uow(), equipment_id))


@router.patch("/equipment/{equipment_id}", operation_id="update_equipment")
def update_equipment(
    equipment_id: int, body: EquipmentUpdate, ctx: EquipmentManager
) -> EquipmentRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return EquipmentRead.model_validate(
        service.update_equipment(ctx.uow(), equipment_id, version=body.version, changes=changes)
    )


@router.post("/equipment/{equipment_id}/status", operation_id="change_equipment_status")
def change_equipment_status(
    equipment_id: int, body: EquipmentStatusChange, ctx: EquipmentUser
) -> EquipmentRead:
    """Flag out of service (reason required) — wards may report a fault — or back in
    service."""
    return EquipmentRead.model_validate(
        service.change_status(
            ctx.uow(), equipment_id, version=body.version, status=body.status, reason=body.reason
        )
    )


@router.get("/equipment/{equipment_id}/usage", operation_id="equipment_usage")
def equipment_usage(
    equipment_id: int, ctx: EquipmentReader, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[UsageRead]:
    return [
        UsageRead.model_validate(u) for u in service.usage_log(ctx.uow(), equipment_id, limit=limit)
    ]


@router.post("/equipment/{equipment_id}/usage", operation_id="log_equipment_usage", status_code=201)
def log_equipment_usage(equipment_id: int, body: UsageCreate, ctx: EquipmentUser) -> UsageRead:
    return UsageRead.model_validate(
        service.log_usage(
            ctx.uow(),
            equipment_id,
            started_at=body.started_at,
            ended_at=body.ended_at,
            note=body.note,
        )
    )


@router.get("/equipment/{equipment_id}/services", operation_id="equipment_services")
def equipment_services(equipment_id: int, ctx: EquipmentReader) -> list[ServiceRead]:
    return [ServiceRead.model_validate(s) for s in service.service_history(ctx.uow(), equipment_id)]


@router.post(
    "/equipment/{equipment_id}/services", operation_id="record_equipment_service", status_code=201
)
def record_equipment_service(
    equipment_id: int, body: ServiceCreate, ctx: EquipmentManager
) -> ServiceRead:
    """Record maintenance, calibration, repair or inspection; due dates move on."""
    return ServiceRead.model_validate(
        service.record_service(
            ctx.uow(),
            equipment_id,
            kind=body.kind,
            performed_on=body.performed_on,
            performed_by=body.performed_by,
            notes=body.notes,
            cost=body.cost,
            return_to_service=body.return_to_service,
        )
    )
