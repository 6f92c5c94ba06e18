"""Ward requisitions: a ward asks a store (or the pharmacy) for stock; the store approves
(possibly less), issues it — an ``issue`` transfer in the ledger, first expiry first, from
the store into the ward store — and the ward confirms receipt.

Ward stores are ``stock_locations`` of kind ``ward_store`` that name their ward by a plain
``ward_code`` (the wards table belongs to the ward area).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import touch, utcnow
from hms_server.adapters.orm.dispensing import (
    REQUISITION_NUMBER_SEQUENCE,
    Requisition,
    RequisitionLine,
)
from hms_server.adapters.repositories.dispensing import DispensingRepository
from hms_server.adapters.repositories.pharmacy import StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.pharmacy import InvalidStateError, check_quantity, field_problem
from hms_server.domain.versioning import check_version
from hms_server.services.stock import TransferInput, move_stock, user_id_of

CATEGORY = "inventory"


def requisition_view(uow: UnitOfWork, req: Requisition) -> dict[str, Any]:
    repo = uow.repo(DispensingRepository)
    rows = repo.requisition_sheet(req.id)
    names = repo.location_names([req.ward_location_id, req.source_location_id])
    return {
        "id": req.id,
        "number": req.number,
        "ward_location_id": req.ward_location_id,
        "ward_location_name": names[req.ward_location_id],
        "source_location_id": req.source_location_id,
        "source_location_name": names[req.source_location_id],
        "status": req.status,
        "note": req.note,
        "decision_note": req.decision_note,
        "requested_by": req.requested_by,
        "requested_at": req.requested_at,
        "approved_at": req.approved_at,
        "issued_at": req.issued_at,
        "received_at": req.received_at,
        "version": req.version,
        "lines": [
            {
                "id": ln.id,
                "item_id": ln.item_id,
                "item_name": item.name,
                "base_unit": item.base_unit,
                "requested_quantity": ln.requested_quantity,
                "approved_quantity": ln.approved_quantity,
                "issued_quantity": ln.issued_quantity,
            }
            for ln, item in rows
        ],
    }


def request_stock(
    uow: UnitOfWork,
    *,
    ward_location_id: int,
    source_location_id: int,
    lines: list[tuple[int, Decimal]],
    note: str | None,
) -> dict[str, Any]:
    with uow:
        repo = uow.repo(StockRepository)
        ward = repo.location(ward_location_id)
        if ward.kind != "ward_store":
            raise ValidationFailedError(
                "Stock is requested for a ward store.",
                extra={"errors": [field_problem("ward_location_id", "not a ward store")]},
            )
        source = repo.location(source_location_id)
        if source.kind == "ward_store" or source.id == ward.id:
            raise ValidationFailedError(
                "Request from a store or the pharmacy.",
                extra={"errors": [field_problem("source_location_id", "not a store")]},
            )
        items = repo.items_by_id(i for i, _ in lines)
        if len({i for i, _ in lines}) != len(lines):
            raise ValidationFailedError("Each item may be requested once per requisition.")
        for n, (item_id, quantity) in enumerate(lines):
            item = items.get(item_id)
            if item is None or not item.active:
                raise ValidationFailedError(
                    f"No active stock item with id {item_id}.",
                    extra={"errors": [field_problem(f"lines.{n}.item_id", "unknown item")]},
                )
            check_quantity(
                quantity, divisible=item.divisible, unit=item.base_unit, field=f"lines.{n}.quantity"
            )
        req = Requisition(
            number=repo.next_number("REQ", REQUISITION_NUMBER_SEQUENCE),
            ward_location_id=ward.id,
            source_location_id=source.id,
            status="requested",
            note=note,
            requested_by=user_id_of(uow),
            requested_at=utcnow(),
            version=1,
        )
        requests = uow.repo(DispensingRepository)
        requests.add(req)
        requests.add_all(
            [
                RequisitionLine(
                    requisition_id=req.id,
                    item_id=i,
                    requested_quantity=q,
                    issued_quantity=Decimal(0),
                )
                for i, q in lines
            ]
        )
        uow.audit(CATEGORY, "requisition.create", detail={"requisition_id": req.id})
        uow.publish("requisition.changed", {"requisition_id": req.id, "status": req.status})
        view = requisition_view(uow, req)
        uow.commit()
        return view


def list_requisitions(
    uow: UnitOfWork,
    *,
    ward_location_id: int | None,
    source_location_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        rows, total = uow.repo(DispensingRepository).requisitions(
            ward_location_id=ward_location_id,
            source_location_id=source_location_id,
            status=status,
            limit=limit,
            offset=offset,
        )
        return [requisition_view(uow, r) for r in rows], total


def get_requisition(uow: UnitOfWork, requisition_id: int) -> dict[str, Any]:
    with uow:
        return requisition_view(uow, uow.repo(DispensingRepository).requisition(requisition_id))


def _step(
    uow: UnitOfWork, requisition_id: int, version: int, expected: tuple[str, ...]
) -> Requisition:
    req = uow.repo(DispensingRepository).requisition(requisition_id, lock=True)
    check_version(req.version, version, "requisition")
    if req.status not in expected:
        raise InvalidStateError(
            f"Requisition {req.number} is {req.status}.", extra={"state": req.status}
        )
    return req


def decide_requisition(
    uow: UnitOfWork,
    requisition_id: int,
    *,
    version: int,
    approve: bool,
    approved: dict[int, Decimal],
    note: str | None,
) -> dict[str, Any]:
    """Approve (possibly less than requested) or reject."""
    with uow:
        req = _step(uow, requisition_id, version, ("requested",))
        lines = uow.repo(DispensingRepository).requisition_lines(req.id)
        known = {ln.id for ln in lines}
        unknown = [line_id for line_id in approved if line_id not in known]
        if unknown:
            raise ValidationFailedError(
                "An approved line belongs to another requisition.",
                extra={"errors": [field_problem("lines", "unknown line")]},
            )
        now, me = utcnow(), user_id_of(uow)
        if approve:
            for ln in lines:
                quantity = approved.get(ln.id, ln.requested_quantity)
                if quantity > ln.requested_quantity:
                    raise ValidationFailedError(
                        "Approve at most what was requested.",
                        extra={"errors": [field_problem("lines", "more than requested")]},
                    )
                ln.approved_quantity = quantity
            req.status, req.approved_at, req.approved_by = "approved", now, me
        else:
            req.status = "rejected"
        req.decision_note = note
        touch(req)
        uow.audit(CATEGORY, f"requisition.{req.status}", detail={"requisition_id": req.id})
        uow.publish("requisition.changed", {"requisition_id": req.id, "status": req.status})
        view = requisition_view(uow, req)
        uow.commit()
        return view


def issue_requisition(uow: UnitOfWork, requisition_id: int, *, version: int) -> dict[str, Any]:
    """Move the approved quantities from the store into the ward store (ledger ``issue``)."""
    with uow:
        req = _step(uow, requisition_id, version, ("approved",))
        lines = [
            ln
            for ln in uow.repo(DispensingRepository).requisition_lines(req.id)
            if (ln.approved_quantity or 0) > 0
        ]
        if lines:
            move_stock(
                uow,
                from_location_id=req.source_location_id,
                to_location_id=req.ward_location_id,
                lines=[
                    TransferInput(ln.item_id, ln.approved_quantity or Decimal(0), None)
                    for ln in lines
                ],
                kind="issue",
                reference_type="requisition",
                reference_id=req.id,
                reason=f"Requisition {req.number}",
            )
            for ln in lines:
                ln.issued_quantity = ln.approved_quantity or Decimal(0)
        req.status, req.issued_at, req.issued_by = "issued", utcnow(), user_id_of(uow)
        touch(req)
        uow.audit(CATEGORY, "requisition.issue", detail={"requisition_id": req.id})
        uow.publish("requisition.changed", {"requisition_id": req.id, "status": req.status})
        for location in (req.source_location_id, req.ward_location_id):
            uow.publish("stock.changed", {"location_id": location})
        view = requisition_view(uow, req)
        uow.commit()
        return view


def receive_requisition(uow: UnitOfWork, requisition_id: int, *, version: int) -> dict[str, Any]:
    """The ward confirms the issued stock arrived."""
    with uow:
        req = _step(uow, requisition_id, version, ("issued",))
        req.status, req.received_at, req.received_by = "received", utcnow(), user_id_of(uow)
        touch(req)
        uow.audit(CATEGORY, "requisition.receive", detail={"requisition_id": req.id})
        uow.publish("requisition.changed", {"requisition_id": req.id, "status": req.status})
        view = requisition_view(uow, req)
        uow.commit()
        return view


def cancel_requisition(uow: UnitOfWork, requisition_id: int, *, version: int) -> dict[str, Any]:
    with uow:
        req = _step(uow, requisition_id, version, ("requested", "approved"))
        req.status = "cancelled"
        touch(req)
        uow.audit(CATEGORY, "requisition.cancel", detail={"requisition_id": req.id})
        uow.publish("requisition.changed", {"requisition_id": req.id, "status": req.status})
        view = requisition_view(uow, req)
        uow.commit()
        return view
