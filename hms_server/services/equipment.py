"""Equipment: the asset register, usage log, preventive maintenance and calibration
schedule with its service history, due alerts, and the out-of-service flag wards see.

Due dates are kept on the asset (``next_service_due``, ``next_calibration_due``) and moved
forward by each recorded service, so alerts are an index scan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.equipment import Equipment, EquipmentService, EquipmentUsage
from hms_server.adapters.repositories.equipment import EquipmentRepository
from hms_server.adapters.repositories.pharmacy import StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ConflictError, ValidationFailedError
from hms_server.domain.pharmacy import field_problem, next_due
from hms_server.domain.versioning import check_version
from hms_server.services.stock import user_id_of

CATEGORY = "equipment"


def _asset(uow: UnitOfWork, equipment_id: int, *, lock: bool = False) -> Equipment:
    return uow.repo(EquipmentRepository).asset(equipment_id, lock=lock)


def register(uow: UnitOfWork, **fields: Any) -> Equipment:
    with uow:
        uow.repo(StockRepository).location(fields["location_id"])
        if (
            fields.get("supplier_id")
            and uow.repo(StockRepository).supplier(fields["supplier_id"]) is None
        ):
            raise ValidationFailedError(
                "Unknown supplier.",
                extra={"errors": [field_problem("supplier_id", "unknown supplier")]},
            )
        tag = fields["asset_tag"].upper()
        if uow.repo(EquipmentRepository).tag_taken(tag):
            raise ConflictError(
                f"Asset tag {tag} is already registered.",
                extra={"errors": [field_problem("asset_tag", "already used")]},
            )
        today = uow.hospital.today()
        start = fields.get("purchased_on") or today
        asset = Equipment(
            **{**fields, "asset_tag": tag},
            status="in_service",
            version=1,
            next_service_due=next_due(None, fields.get("maintenance_interval_days"), start),
            next_calibration_due=next_due(None, fields.get("calibration_interval_days"), start),
        )
        uow.repo(EquipmentRepository).add(asset)
        uow.audit(CATEGORY, "equipment.register", detail={"equipment_id": asset.id})
        uow.commit()
        return asset


def list_equipment(
    uow: UnitOfWork,
    *,
    location_id: int | None,
    status: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Equipment], int]:
    with uow:
        return uow.repo(EquipmentRepository).assets(
            location_id=location_id, status=status, q=q, limit=limit, offset=offset
        )


def get_equipment(uow: UnitOfWork, equipment_id: int) -> Equipment:
    with uow:
        return _asset(uow, equipment_id)


def update_equipment(
    uow: UnitOfWork, equipment_id: int, *, version: int, changes: dict[str, Any]
) -> Equipment:
    with uow:
        asset = _asset(uow, equipment_id, lock=True)
        check_version(asset.version, version, "equipment")
        if "location_id" in changes:
            uow.repo(StockRepository).location(changes["location_id"])
        for key, value in changes.items():
            setattr(asset, key, value)
        touch(asset)
        uow.audit(
            CATEGORY,
            "equipment.update",
            detail={"equipment_id": asset.id, "fields": sorted(changes)},
        )
        uow.commit()
        return asset


def change_status(
    uow: UnitOfWork, equipment_id: int, *, version: int, status: str, reason: str | None
) -> Equipment:
    """Flag out of service (a reason is required; wards see it) or back in service."""
    with uow:
        asset = _asset(uow, equipment_id, lock=True)
        check_version(asset.version, version, "equipment")
        if status == "out_of_service" and not (reason or "").strip():
            raise ValidationFailedError(
                "Say why it is out of service.",
                extra={"errors": [field_problem("reason", "required when out of service")]},
            )
        asset.status = status
        asset.status_reason = (reason or "").strip() or None
        touch(asset)
        uow.audit(CATEGORY, f"equipment.{status}", detail={"equipment_id": asset.id})
        uow.publish(
            "equipment.changed",
            {"equipment_id": asset.id, "status": status, "location_id": asset.location_id},
        )
        uow.commit()
        return asset


def log_usage(
    uow: UnitOfWork,
    equipment_id: int,
    *,
    started_at: datetime,
    ended_at: datetime | None,
    note: str | None,
) -> EquipmentUsage:
    with uow:
        asset = _asset(uow, equipment_id)
        if asset.status in ("out_of_service", "retired"):
            raise ConflictError(
                f"{asset.name} is {asset.status.replace('_', ' ')}; it must not be used.",
                extra={"state": asset.status},
            )
        if ended_at is not None and ended_at < started_at:
            raise ValidationFailedError(
                "Use ends before it starts.",
                extra={"errors": [field_problem("ended_at", "before started_at")]},
            )
        usage = EquipmentUsage(
            equipment_id=asset.id,
            user_id=user_id_of(uow),
            started_at=started_at,
            ended_at=ended_at,
            note=note,
        )
        uow.repo(EquipmentRepository).add(usage)
        uow.commit()
        return usage


def usage_log(uow: UnitOfWork, equipment_id: int, *, limit: int) -> list[EquipmentUsage]:
    with uow:
        _asset(uow, equipment_id)
        return uow.repo(EquipmentRepository).usage(equipment_id, limit=limit)


def record_service(
    uow: UnitOfWork,
    equipment_id: int,
    *,
    kind: str,
    performed_on: date,
    performed_by: str,
    notes: str | None,
    cost: Decimal | None,
    return_to_service: bool,
) -> dict[str, Any]:
    """Record a service; preventive maintenance and calibration move their due date on."""
    with uow:
        asset = _asset(uow, equipment_id, lock=True)
        if performed_on > uow.hospital.today():
            raise ValidationFailedError(
                "A service cannot be recorded in the future.",
                extra={"errors": [field_problem("performed_on", "in the future")]},
            )
        record = EquipmentService(
            equipment_id=asset.id,
            kind=kind,
            performed_on=performed_on,
            performed_by=performed_by,
            notes=notes,
            cost=uow.hospital.round_money(cost) if cost is not None else None,
            recorded_by=user_id_of(uow),
            recorded_at=utcnow(),
        )
        uow.repo(EquipmentRepository).stage(record)
        if kind == "preventive" and asset.maintenance_interval_days:
            asset.next_service_due = performed_on + timedelta(days=asset.maintenance_interval_days)
        if kind == "calibration" and asset.calibration_interval_days:
            asset.next_calibration_due = performed_on + timedelta(
                days=asset.calibration_interval_days
            )
        if return_to_service and asset.status in ("out_of_service", "under_maintenance"):
            asset.status, asset.status_reason = "in_service", None
        touch(asset)
        uow.repo(EquipmentRepository).flush()
        uow.audit(
            CATEGORY,
            "equipment.service",
            detail={"equipment_id": asset.id, "service_id": record.id, "kind": kind},
        )
        uow.publish(
            "equipment.changed",
            {"equipment_id": asset.id, "status": asset.status, "location_id": asset.location_id},
        )
        row = _service_row(uow, record)
        uow.commit()
        return row


def _service_row(uow: UnitOfWork, record: EquipmentService) -> dict[str, Any]:
    cost = uow.hospital.round_money(record.cost) if record.cost is not None else None
    return {
        "id": record.id,
        "equipment_id": record.equipment_id,
        "kind": record.kind,
        "performed_on": record.performed_on,
        "performed_by": record.performed_by,
        "notes": record.notes,
        "cost": cost,
        "recorded_at": record.recorded_at,
    }


def service_history(uow: UnitOfWork, equipment_id: int) -> list[dict[str, Any]]:
    with uow:
        _asset(uow, equipment_id)
        return [_service_row(uow, r) for r in uow.repo(EquipmentRepository).services(equipment_id)]


def alerts(uow: UnitOfWork, *, within_days: int, location_id: int | None) -> list[dict[str, Any]]:
    """Service or calibration due within ``within_days`` (or overdue), warranties ending,
    and assets out of service."""
    with uow:
        today = uow.hospital.today()
        horizon = today + timedelta(days=within_days)
        out: list[dict[str, Any]] = []
        for asset in uow.repo(EquipmentRepository).due(
            today=today, horizon=horizon, location_id=location_id
        ):
            base = {
                "equipment_id": asset.id,
                "asset_tag": asset.asset_tag,
                "name": asset.name,
                "location_id": asset.location_id,
            }
            for kind, due in (
                ("service_due", asset.next_service_due),
                ("calibration_due", asset.next_calibration_due),
                ("warranty_ending", asset.warranty_until),
            ):
                if (
                    due is not None
                    and due <= horizon
                    and (kind != "warranty_ending" or due >= today)
                ):
                    out.append(
                        {
                            **base,
                            "kind": kind,
                            "due_on": due,
                            "days": (due - today).days,
                            "overdue": due < today,
                        }
                    )
            if asset.status == "out_of_service":
                out.append(
                    {
                        **base,
                        "kind": "out_of_service",
                        "due_on": None,
                        "days": None,
                        "overdue": False,
                    }
                )
        return sorted(out, key=lambda a: (a["due_on"] or today, a["name"]))
