"""Laboratory: the test catalogue, orders from the chart, and results with abnormal flags."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import LabOrder, LabResult, LabTest
from hms_server.adapters.repositories.labs import LabRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.clinical import CareRelationshipRequiredError, field_error, lab_flag
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


def list_lab_tests(
    uow: UnitOfWork, *, q: str | None, limit: int, offset: int
) -> tuple[list[LabTest], int]:
    with uow:
        return uow.repo(LabRepository).catalogue(q=q, limit=limit, offset=offset)


def _views(uow: UnitOfWork, orders: list[LabOrder]) -> list[LabOrderView]:
    if not orders:
        return []
    labs = uow.repo(LabRepository)
    tests = labs.tests(o.test_id for o in orders)
    results = labs.results_of_orders([o.id for o in orders])
    names = user_names(uow, (o.ordered_by_user_id for o in orders))
    return [
        LabOrderView(o, tests[o.test_id], results.get(o.id), names.get(o.ordered_by_user_id))
        for o in orders
    ]


def order_lab(
    uow: UnitOfWork,
    patient_id: int,
    *,
    test_id: int | None,
    test_code: str | None,
    priority: str,
    notes: str | None,
    encounter_id: int | None,
) -> LabOrderView:
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        labs = uow.repo(LabRepository)
        test = labs.test(test_id) if test_id is not None else labs.test_by_code(test_code or "")
        if test is None or not test.active:
            raise ValidationFailedError(
                "Unknown laboratory test.",
                extra={"errors": [field_error("test_id", "not in the catalogue")]},
            )
        order = LabOrder(
            patient_id=patient_id,
            encounter_id=encounter_id,
            test_id=test.id,
            ordered_by_user_id=actor_id(uow),
            ordered_at=utcnow(),
            priority=priority,
            status="ordered",
            notes=notes,
        )
        labs.add(order)
        uow.audit(
            "lab_orders",
            "lab.order",
            patient_id=patient_id,
            detail={"lab_order_id": order.id, "test_id": test.id},
        )
        uow.publish("lab.ordered", {"lab_order_id": order.id, "patient_id": patient_id})
        uow.emit(
            LabOrderPlaced(
                order_id=order.id,
                patient_id=patient_id,
                test_code=test.code,
                encounter_id=encounter_id,
                ordered_at=order.ordered_at,
            )
        )
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def list_lab_orders(
    uow: UnitOfWork, patient_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[LabOrderView], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        orders, total = uow.repo(LabRepository).orders(
            patient_id, status=status, limit=limit, offset=offset
        )
        views = _views(uow, orders)
        audit_read(uow, basis, "lab_results")
        uow.commit()
        return views, total


def record_lab_result(
    uow: UnitOfWork,
    patient_id: int,
    order_id: int,
    *,
    value_numeric: Decimal | None,
    value_text: str | None,
    comment: str | None,
    version: int | None = None,
) -> LabOrderView:
    """Enter the result of an order; units and reference range come from the catalogue and
    are copied onto the result; the flag is computed, not typed."""
    with uow:
        labs = uow.repo(LabRepository)
        order = labs.order(order_id, lock=True)
        if order is None or order.patient_id != patient_id:
            raise NotFoundError(f"No lab order with id {order_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        if version is not None:
            check_version(order.version, version, "lab order")
        if order.status != "ordered":
            raise ConflictError(
                f"This order is {order.status}; it cannot take a result.",
                extra={"reason": f"order_{order.status}"},
            )
        test = labs.test(order.test_id)
        assert test is not None
        if test.value_type == "numeric" and value_numeric is None:
            raise ValidationFailedError(
                "This test needs a numeric value.",
                extra={
                    "errors": [field_error("value_numeric", "required for this test", "missing")]
                },
            )
        if value_numeric is None and not (value_text and value_text.strip()):
            raise ValidationFailedError(
                "Enter a value.",
                extra={"errors": [field_error("value_text", "required", "missing")]},
            )
        flag = None
        if value_numeric is not None:
            flag = lab_flag(
                value_numeric,
                ref_low=test.ref_low,
                ref_high=test.ref_high,
                critical_low=test.critical_low,
                critical_high=test.critical_high,
            )
        result = LabResult(
            order_id=order.id,
            patient_id=patient_id,
            test_id=test.id,
            value_numeric=value_numeric,
            value_text=value_text,
            unit=test.unit,
            ref_low=test.ref_low,
            ref_high=test.ref_high,
            flag=flag,
            comment=comment,
            resulted_by_user_id=actor_id(uow),
            resulted_at=utcnow(),
        )
        order.status = "resulted"
        labs.add(result)
        uow.audit(
            "lab_results",
            "lab.result",
            patient_id=patient_id,
            detail={"lab_order_id": order.id, "lab_result_id": result.id, "flag": flag},
        )
        uow.publish(
            "lab.resulted",
            {"lab_order_id": order.id, "patient_id": patient_id, "critical": flag in ("LL", "HH")},
        )
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def cancel_lab_order(uow: UnitOfWork, patient_id: int, order_id: int) -> LabOrderView:
    with uow:
        order = uow.repo(LabRepository).order(order_id, lock=True)
        if order is None or order.patient_id != patient_id:
            raise NotFoundError(f"No lab order with id {order_id} for this patient.")
        ensure_chart_access(uow, patient_id)
        if order.status != "ordered":
            raise ConflictError(f"This order is {order.status}; it cannot be cancelled.")
        order.status = "cancelled"
        uow.audit(
            "lab_orders", "lab.cancel", patient_id=patient_id, detail={"lab_order_id": order.id}
        )
        uow.emit(LabOrderCancelled(order_id=order.id, patient_id=patient_id))
        view = _views(uow, [order])[0]
        uow.commit()
        return view


def list_lab_results(
    uow: UnitOfWork, patient_id: int, *, test_code: str | None, limit: int, offset: int
) -> tuple[list[tuple[LabResult, LabTest]], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, total = uow.repo(LabRepository).results(
            patient_id, test_code=test_code, limit=limit, offset=offset
        )
        audit_read(uow, basis, "lab_results")
        uow.commit()
        return rows, total


def read_lab_result(
    uow: UnitOfWork, result_id: int, **detail: object
) -> tuple[LabResult, LabTest] | None:
    """One result with its test (None if there is none, or if it belongs to a patient outside
    your care: the same answer either way), care relationship checked, audited."""
    with uow:
        labs = uow.repo(LabRepository)
        result = labs.result(result_id)
        if result is None:
            return None
        try:
            basis = ensure_chart_access(uow, result.patient_id)
        except CareRelationshipRequiredError:
            return None  # outside your care it reads as missing (issue 8); refusal audited
        test = labs.test(result.test_id)
        assert test is not None
        audit_read(uow, basis, "lab_results", **detail)
        uow.commit()
        return result, test
