"""Laboratory: the test catalogue, orders from the chart, and results with abnormal flags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import LabOrder, LabResult, LabTest
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import field_error, lab_flag
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.events import LabOrderCancelled, LabOrderPlaced
from hms_server.domain.versioning import check_version
from hms_server.services.access import ensure_chart_access, ensure_chart_write_access
from hms_server.services.clinical import actor_id, audit_read, check_encounter, user_names


@dataclass(frozen=True)
class LabOrderView:
    order: LabOrder
    test: LabTest
    result: LabResult | None
    ordered_by_name: str | None


def list_lab_tests(uow: UnitOfWork, *, q: str | None, limit: int,
                   offset: int) -> tuple[list[LabTest], int]:
    with uow:
        query = select(LabTest).where(LabTest.active.is_(True))
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(or_(func.lower(LabTest.name).like(pattern),
                                    func.lower(LabTest.code).like(pattern),
                                    LabTest.loinc == q))
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(uow.session.scalars(query.order_by(LabTest.name).limit(limit)
                                        .offset(offset)))
        return rows, total


def _views(uow: UnitOfWork, orders: list[LabOrder]) -> list[LabOrderView]:
    if not orders:
        return []
    tests = {t.id: t for t in uow.session.scalars(
        select(LabTest).where(LabTest.id.in_({o.test_id for o in orders})))}
    results = {r.order_id: r for r in uow.session.scalars(
        select(LabResult).where(LabResult.order_id.in_([o.id for o in orders])))}
    names = user_names(uow, (o.ordered_by_user_id for o in orders))
    return [LabOrderView(o, tests[o.test_id], results.get(o.id),
                         names.get(o.ordered_by_user_id)) for o in orders]


def order_lab(uow: UnitOfWork, patient_id: int, *, test_id: int | None, test_code: str | None,
              priority: str, notes: str | None, encounter_id: int | None) -> LabOrderView:
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        test = (uow.session.get(LabTest, test_id) if test_id is not None else
                uow.session.scalar(select(LabTest).where(
                    func.upper(LabTest.code) == (test_code or "").upper())))
        if test is None or not test.active:
            raise ValidationFailedError("Unknown laboratory test.", extra={"errors": [
                field_error("test_id", "not in the catalogue")]})
        order = LabOrder(patient_id=patient_id, encounter_id=encounter_id, test_id=test.id,
                         ordered_by_user_id=actor_id(uow), ordered_at=utcnow(),
                         priority=priority, status="ordered", notes=notes, version=1)
        uow.session.add(order)
        uow.session.flush()
        uow.audit("lab_orders", "lab.order", patient_id=patient_id,
                  detail={"lab_order_id": order.id, "test_id": test.id})
        uow.publish("lab.ordered", {"lab_order_id": order.id, "patient_id": patient_id})
        uow.emit(LabOrderPlaced(order_id=order.id, patient_id=patient_id, test_code=test.code,
                                encounter_id=encounter_id, ordered_at=order.ordered_at))
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def list_lab_orders(uow: UnitOfWork, patient_id: int, *, status: str | None, limit: int,
                    offset: int) -> tuple[list[LabOrderView], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        query = select(LabOrder).where(LabOrder.patient_id == patient_id)
        if status:
            query = query.where(LabOrder.status == status)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        orders = list(uow.session.scalars(
            query.order_by(LabOrder.ordered_at.desc(), LabOrder.id.desc())
            .limit(limit).offset(offset)))
        views = _views(uow, orders)
        audit_read(uow, basis, "lab_results")
        uow.commit()
        return views, total


def record_lab_result(uow: UnitOfWork, patient_id: int, order_id: int, *,
                      value_numeric: Decimal | None, value_text: str | None,
                      comment: str | None, version: int | None = None) -> LabOrderView:
    """Enter the result of an order; units and reference range come from the catalogue and
    are copied onto the result; the flag is computed, not typed."""
    with uow:
        order = uow.session.get(LabOrder, order_id, with_for_update=True)
        if order is None or order.patient_id != patient_id:
            raise NotFoundError(f"No lab order with id {order_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        if version is not None:
            check_version(order.version, version, "lab order")
        if order.status != "ordered":
            raise ConflictError(f"This order is {order.status}; it cannot take a result.",
                                extra={"reason": f"order_{order.status}"})
        test = uow.session.get(LabTest, order.test_id)
        assert test is not None
        if test.value_type == "numeric" and value_numeric is None:
            raise ValidationFailedError("This test needs a numeric value.", extra={"errors": [
                field_error("value_numeric", "required for this test", "missing")]})
        if value_numeric is None and not (value_text and value_text.strip()):
            raise ValidationFailedError("Enter a value.", extra={"errors": [
                field_error("value_text", "required", "missing")]})
        flag = None
        if value_numeric is not None:
            flag = lab_flag(value_numeric, ref_low=test.ref_low, ref_high=test.ref_high,
                            critical_low=test.critical_low, critical_high=test.critical_high)
        result = LabResult(order_id=order.id, patient_id=patient_id, test_id=test.id,
                           value_numeric=value_numeric, value_text=value_text,
                           unit=test.unit, ref_low=test.ref_low, ref_high=test.ref_high,
                           flag=flag, comment=comment, resulted_by_user_id=actor_id(uow),
                           resulted_at=utcnow())
        uow.session.add(result)
        order.status = "resulted"
        uow.session.flush()
        uow.audit("lab_results", "lab.result", patient_id=patient_id,
                  detail={"lab_order_id": order.id, "lab_result_id": result.id, "flag": flag})
        uow.publish("lab.resulted", {"lab_order_id": order.id, "patient_id": patient_id,
                                     "critical": flag in ("LL", "HH")})
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def cancel_lab_order(uow: UnitOfWork, patient_id: int, order_id: int) -> LabOrderView:
    with uow:
        order = uow.session.get(LabOrder, order_id, with_for_update=True)
        if order is None or order.patient_id != patient_id:
            raise NotFoundError(f"No lab order with id {order_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        if order.status != "ordered":
            raise ConflictError(f"This order is {order.status}; it cannot be cancelled.")
        order.status = "cancelled"
        uow.audit("lab_orders", "lab.cancel", patient_id=patient_id,
                  detail={"lab_order_id": order.id})
        uow.emit(LabOrderCancelled(order_id=order.id, patient_id=patient_id))
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def list_lab_results(uow: UnitOfWork, patient_id: int, *, test_code: str | None, limit: int,
                     offset: int) -> tuple[list[tuple[LabResult, LabTest]], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        query = (select(LabResult, LabTest).join(LabTest, LabTest.id == LabResult.test_id)
                 .where(LabResult.patient_id == patient_id))
        if test_code:
            query = query.where(func.upper(LabTest.code) == test_code.upper())
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = [(r, t) for r, t in uow.session.execute(
            query.order_by(LabResult.resulted_at.desc(), LabResult.id.desc())
            .limit(limit).offset(offset))]
        audit_read(uow, basis, "lab_results")
        uow.commit()
        return rows, total
