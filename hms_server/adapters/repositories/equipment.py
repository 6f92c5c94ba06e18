"""Equipment repository: assets, usage log, service history and what is due."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from hms_server.adapters.orm.equipment import Equipment, EquipmentService, EquipmentUsage
from hms_server.adapters.repositories import Repository
from hms_server.domain.errors import NotFoundError


class EquipmentRepository(Repository):
    """Not thread-safe; one per unit of work (``uow.repo(EquipmentRepository)``)."""

    def asset(self, equipment_id: int, *, lock: bool = False) -> Equipment:
        found = self.session.get(Equipment, equipment_id, with_for_update=lock)
        if found is None:
            raise NotFoundError(f"No equipment with id {equipment_id}.")
        return found

    def tag_taken(self, tag: str) -> bool:
        return (
            self.session.scalar(select(Equipment.id).where(Equipment.asset_tag == tag)) is not None
        )

    def assets(
        self, *, location_id: int | None, status: str | None, q: str | None, limit: int, offset: int
    ) -> tuple[list[Equipment], int]:
        query = select(Equipment)
        if location_id is not None:
            query = query.where(Equipment.location_id == location_id)
        if status:
            query = query.where(Equipment.status == status)
        if q and q.strip():
            like = f"%{q.strip().lower()}%"
            query = query.where(
                or_(
                    Equipment.name.ilike(like),
                    Equipment.asset_tag.ilike(like),
                    Equipment.serial_number.ilike(like),
                )
            )
        return self.page(query, [Equipment.name, Equipment.id], limit, offset)

    def usage(self, equipment_id: int, *, limit: int) -> list[EquipmentUsage]:
        return list(
            self.session.scalars(
                select(EquipmentUsage)
                .where(EquipmentUsage.equipment_id == equipment_id)
                .order_by(EquipmentUsage.started_at.desc())
                .limit(limit)
            )
        )

    def services(self, equipment_id: int) -> list[EquipmentService]:
        return list(
            self.session.scalars(
                select(EquipmentService)
                .where(EquipmentService.equipment_id == equipment_id)
                .order_by(EquipmentService.performed_on.desc(), EquipmentService.id.desc())
            )
        )

    def due(self, *, today: date, horizon: date, location_id: int | None) -> list[Equipment]:
        """Assets with service or calibration due by ``horizon``, a warranty ending between
        today and then, or flagged out of service."""
        query = select(Equipment).where(
            Equipment.status != "retired",
            or_(
                Equipment.next_service_due <= horizon,
                Equipment.next_calibration_due <= horizon,
                Equipment.warranty_until.between(today, horizon),
                Equipment.status == "out_of_service",
            ),
        )
        if location_id is not None:
            query = query.where(Equipment.location_id == location_id)
        return list(self.session.scalars(query))
