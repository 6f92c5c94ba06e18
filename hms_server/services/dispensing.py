"""Dispensing at the pharmacy counter: verify, pick first-expiry-first, hand out, return.

One dispense is one transaction: the prescription row is locked (two pharmacists cannot
dispense the same prescription at once), the prescribing safety checks are re-run on the
patient's record as it is now (``services.prescribing.safety_conflicts``), the batches are
picked FEFO from row-locked balances, and every picked batch becomes a dispense line, a
ledger row and one ``MedicationDispensed`` event (billing charges it exactly once). The
database refuses a negative balance if a concurrent dispense won the race.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.dispensing import (
    DISPENSE_NUMBER_SEQUENCE,
    Dispense,
    DispenseLine,
    PrescriptionSendBack,
)
from hms_server.adapters.orm.pharmacy import StockItem
from hms_server.adapters.orm.prescribing import Drug, Prescription, PrescriptionItem
from hms_server.adapters.repositories.dispensing import DispensingRepository
from hms_server.adapters.repositories.pharmacy import BalanceRow, Posting, StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain import events as ev
from hms_server.domain.barcodes import PackCode, dispense_label_code, parse_medication_code
from hms_server.domain.dispensing import (
    DispensingConflictError,
    UnknownGtinError,
    check_owed,
    owed,
    plain_instructions,
    verify_scan,
)
from hms_server.domain.errors import DomainError, ValidationFailedError
from hms_server.domain.pharmacy import (
    InsufficientStockError,
    InvalidStateError,
    Pick,
    PrescriptionCancelledError,
    ReturnExceedsDispensedError,
    check_quantity,
    field_problem,
    pick_fefo,
)
from hms_server.services import prescribing
from hms_server.services.stock import user_id_of

CATEGORY = "pharmacy"


@dataclass(frozen=True)
class LineInput:
    prescription_item_id: int
    quantity: Decimal
    scanned_code: str | None = None


@dataclass
class _Line:
    """One requested line with everything needed to pick and check it."""

    index: int
    request: LineInput
    item: PrescriptionItem
    drug: Drug
    dispensed: Decimal
    stock_items: list[StockItem]
    picks: list[Pick]


def _open_prescription(uow: UnitOfWork, prescription_id: int, *, lock: bool) -> Prescription:
    repo = uow.repo(DispensingRepository)
    rx = repo.prescription(prescription_id, lock=lock)
    if rx.status == "cancelled":
        raise PrescriptionCancelledError(
            f"Prescription {rx.number} was cancelled by the prescriber"
            f"{': ' + rx.cancel_reason if rx.cancel_reason else ''}. Nothing was dispensed."
        )
    if rx.status != "active":
        raise InvalidStateError(
            f"Prescription {rx.number} is {rx.status}; it cannot be dispensed.",
            extra={"state": rx.status},
        )
    if repo.send_back(rx.id) is not None:
        raise InvalidStateError(
            f"Prescription {rx.number} was sent back to the prescriber.",
            extra={"state": "sent_back"},
        )
    return rx


def _requested_lines(uow: UnitOfWork, rx: Prescription, lines: list[LineInput]) -> list[_Line]:
    repo = uow.repo(DispensingRepository)
    items = {i.id: (i, d) for i, d in repo.prescription_items(rx.id)}
    seen: set[int] = set()
    for n, line in enumerate(lines):
        if line.prescription_item_id not in items:
            raise ValidationFailedError(
                f"Line {n + 1} is not an item of prescription {rx.number}.",
                extra={
                    "errors": [
                        field_problem(
                            f"lines.{n}.prescription_item_id", "not an item of this prescription"
                        )
                    ]
                },
            )
        if line.prescription_item_id in seen:
            raise ValidationFailedError(
                "Each prescription item may appear once per dispense.",
                extra={"errors": [field_problem(f"lines.{n}.prescription_item_id", "repeated")]},
            )
        seen.add(line.prescription_item_id)
    dispensed = repo.dispensed_totals(seen)
    stock = uow.repo(StockRepository).items_for_drugs(items[i][1].id for i in seen)
    return [
        _Line(
            n,
            line,
            items[line.prescription_item_id][0],
            items[line.prescription_item_id][1],
            dispensed[line.prescription_item_id],
            [s for s in stock if s.drug_id == items[line.prescription_item_id][1].id],
            [],
        )
        for n, line in enumerate(lines)
    ]


def _check_line_quantity(line: _Line) -> None:
    check_owed(line.drug.generic_name, line.request.quantity, line.item.quantity, line.dispensed)
    divisible = all(s.divisible for s in line.stock_items) if line.stock_items else True
    unit = line.stock_items[0].base_unit if line.stock_items else line.item.unit
    check_quantity(
        line.request.quantity, divisible=divisible, unit=unit, field=f"lines.{line.index}.quantity"
    )


def _pick(uow: UnitOfWork, lines: list[_Line], held: list[BalanceRow]) -> None:
    """FEFO picks for every line; later lines see what earlier ones took."""
    today = uow.hospital.today()
    remaining = {b.batch_id: b for b in held}
    for line in lines:
        ids = {s.id for s in line.stock_items}
        if not ids:
            raise InsufficientStockError(
                f"{line.drug.generic_name} is not stocked: no stock item is linked to it.",
                extra={"available": "0", "prescription_item_id": line.item.id},
            )
        candidates = [b.candidate() for b in remaining.values() if b.item_id in ids]
        try:
            line.picks = pick_fefo(candidates, line.request.quantity, today)
        except InsufficientStockError as exc:
            exc.detail = f"{line.drug.generic_name}: {exc.detail}"
            exc.args = (exc.detail,)
            exc.extra["prescription_item_id"] = line.item.id
            raise
        for pick in line.picks:
            row = remaining[pick.batch_id]
            remaining[pick.batch_id] = replace(row, quantity=row.quantity - pick.quantity)


def _verify_scan(uow: UnitOfWork, line: _Line) -> None:
    code = line.request.scanned_code
    if not code:
        return
    field = f"lines.{line.index}.scanned_code"
    try:
        scan = parse_medication_code(code)
    except DomainError as exc:
        exc.extra.setdefault("errors", [field_problem(field, "not a readable barcode")])
        raise
    pack_drug: int | None = None
    pack_name = ""
    if isinstance(scan, PackCode):
        repo = uow.repo(StockRepository)
        pack = repo.pack_by_gtin(scan.gtin)
        if pack is None:
            raise UnknownGtinError(
                f"GTIN {scan.gtin} is not in the catalogue; this pack cannot be dispensed.",
                extra={"errors": [field_problem(field, "unknown GTIN")]},
            )
        item = repo.item(pack.item_id)
        pack_drug, pack_name = item.drug_id, item.name
    verify_scan(
        scan, pack_drug, pack_name, line.drug.id, line.drug.generic_name, line.picks, field=field
    )


def _conflicts(uow: UnitOfWork, rx: Prescription, lines: list[_Line]) -> list[Any]:
    drugs = list({line.drug.id: line.drug for line in lines}.values())
    return prescribing.safety_conflicts(uow, rx.patient_id, drugs, exclude_prescription_id=rx.id)


def _lock_stock(uow: UnitOfWork, location_id: int, lines: list[_Line]) -> list[BalanceRow]:
    repo = uow.repo(StockRepository)
    location = repo.location(location_id)
    if not location.active:
        raise ValidationFailedError(
            "This location is not active.",
            extra={"errors": [field_problem("location_id", "inactive")]},
        )
    return repo.lock_balances(location_id, {s.id for ln in lines for s in ln.stock_items})


# ---------------------------------------------------------------- dispense


def dispense(
    uow: UnitOfWork,
    *,
    prescription_id: int,
    location_id: int,
    lines: list[LineInput],
    override_reason: str | None,
) -> dict[str, Any]:
    """Dispense (see module docstring). Conflicts → 409 unless ``override_reason``."""
    override = (override_reason or "").strip() or None
    with uow:
        rx = _open_prescription(uow, prescription_id, lock=True)
        requested = _requested_lines(uow, rx, lines)
        for line in requested:
            _check_line_quantity(line)
        conflicts = _conflicts(uow, rx, requested)
        if conflicts and override is None:
            raise DispensingConflictError(conflicts)
        held = _lock_stock(uow, location_id, requested)
        _pick(uow, requested, held)
        for line in requested:
            _verify_scan(uow, line)
        stock = uow.repo(StockRepository)
        me = user_id_of(uow)
        number = stock.next_number("DSP", DISPENSE_NUMBER_SEQUENCE)
        record = Dispense(
            number=number,
            prescription_id=rx.id,
            location_id=location_id,
            pharmacist_user_id=me,
            dispensed_at=utcnow(),
            override_reason=override if conflicts else None,
            conflicts=[c.as_dict() for c in conflicts],
        )
        rx_repo = uow.repo(DispensingRepository)
        rx_repo.add(record)
        costs = {b.batch_id: b.unit_cost for b in held}
        made: list[tuple[DispenseLine, _Line]] = []
        for line in requested:
            for pick in line.picks:
                dl = DispenseLine(
                    dispense_id=record.id,
                    prescription_item_id=line.item.id,
                    item_id=pick.item_id,
                    batch_id=pick.batch_id,
                    quantity=pick.quantity,
                    unit_cost=costs[pick.batch_id],
                    returned_quantity=Decimal(0),
                )
                rx_repo.stage(dl)
                made.append((dl, line))
        rx_repo.flush()
        stock.post_movements(
            [
                Posting(
                    "dispense",
                    dl.item_id,
                    dl.batch_id,
                    location_id,
                    -dl.quantity,
                    dl.unit_cost,
                    me,
                    reason=f"Dispense {number} for {rx.number}",
                    reference_type="dispense",
                    reference_id=record.id,
                )
                for dl, _ in made
            ]
        )
        for dl, line in made:
            uow.emit(
                ev.MedicationDispensed(
                    dispense_line_id=dl.id,
                    patient_id=rx.patient_id,
                    drug_id=line.drug.id,
                    stock_item_id=dl.item_id,
                    quantity=dl.quantity,
                    dispensed_at=record.dispensed_at,
                    encounter_id=rx.encounter_id,
                )
            )
        detail: dict[str, Any] = {
            "dispense_id": record.id,
            "prescription_id": rx.id,
            "location_id": location_id,
            "line_ids": [dl.id for dl, _ in made],
        }
        if conflicts:
            uow.audit(
                CATEGORY,
                "dispense.override",
                patient_id=rx.patient_id,
                detail={
                    "dispense_id": record.id,
                    "prescription_id": rx.id,
                    "override_reason": override,
                    "conflicts": [
                        {"type": c.type, "drug_ids": list(c.drug_ids), "severity": c.severity}
                        for c in conflicts
                    ],
                },
            )
            detail["overridden"] = sorted({c.type for c in conflicts})
        uow.audit(CATEGORY, "dispense.create", patient_id=rx.patient_id, detail=detail)
        uow.publish(
            "prescription.dispensed",
            {"prescription_id": rx.id, "dispense_id": record.id, "location_id": location_id},
        )
        view = dispense_view(uow, record)
        uow.commit()
        return view


def preview_dispense(
    uow: UnitOfWork, *, prescription_id: int, location_id: int, lines: list[LineInput]
) -> dict[str, Any]:
    """What ``dispense`` would do now — safety conflicts, FEFO picks, scan verdicts — with
    each line's problem named instead of raised. Writes nothing but the audit entry."""
    with uow:
        rx = _open_prescription(uow, prescription_id, lock=False)
        requested = _requested_lines(uow, rx, lines)
        conflicts = _conflicts(uow, rx, requested)
        repo = uow.repo(StockRepository)
        repo.location(location_id)
        today = uow.hospital.today()
        held = repo.balances(location_id, {s.id for ln in requested for s in ln.stock_items})
        out = []
        for line in requested:
            ids = {s.id for s in line.stock_items}
            usable = [b.candidate() for b in held if b.item_id in ids]
            available = sum(
                (c.available for c in usable if c.status == "available" and c.expiry >= today),
                Decimal(0),
            )
            problem = scan = None
            try:
                _check_line_quantity(line)
                _pick(uow, [line], [b for b in held if b.item_id in ids])
            except DomainError as exc:
                problem = exc.code
            if line.request.scanned_code and problem is None:
                try:
                    _verify_scan(uow, line)
                    scan = {"ok": True, "message": "Right medicine, picked batch."}
                except DomainError as exc:
                    scan = {"ok": False, "code": exc.code, "message": exc.detail}
            out.append(
                {
                    "prescription_item_id": line.item.id,
                    "generic_name": line.drug.generic_name,
                    "requested": line.request.quantity,
                    "owed": owed(line.item.quantity, line.dispensed),
                    "available": available,
                    "picks": [_pick_dict(p, line.stock_items) for p in line.picks],
                    "problem": problem,
                    "scan": scan,
                }
            )
        patient = uow.repo(DispensingRepository).patient(rx.patient_id)
        overrides = uow.repo(DispensingRepository).prescriber_overrode(rx.id)
        uow.audit(
            CATEGORY,
            "dispense.preview",
            patient_id=rx.patient_id,
            detail={"prescription_id": rx.id},
        )
        uow.commit()
        return {
            "prescription_id": rx.id,
            "patient": patient,
            "conflicts": [c.as_dict() for c in conflicts],
            "prescriber_overrode": overrides,
            "lines": out,
            "ready": all(
                o["problem"] is None and (o["scan"] is None or o["scan"]["ok"]) for o in out
            ),
        }


def _pick_dict(pick: Pick, items: list[StockItem]) -> dict[str, Any]:
    name = next((s.name for s in items if s.id == pick.item_id), "")
    return {
        "batch_id": pick.batch_id,
        "item_id": pick.item_id,
        "item_name": name,
        "lot": pick.lot,
        "expiry": pick.expiry,
        "quantity": pick.quantity,
    }


# ---------------------------------------------------------------- reading


def dispense_view(uow: UnitOfWork, record: Dispense) -> dict[str, Any]:
    repo = uow.repo(DispensingRepository)
    rx = repo.prescription(record.prescription_id)
    lines = repo.lines_of(record.id)
    rx_items = repo.prescription_items(rx.id)
    dispensed = repo.dispensed_totals(i.id for i, _ in rx_items)
    return {
        "id": record.id,
        "number": record.number,
        "prescription_id": rx.id,
        "prescription_number": rx.number,
        "patient": repo.patient(rx.patient_id),
        "location_id": record.location_id,
        "pharmacist_user_id": record.pharmacist_user_id,
        "pharmacist_name": repo.user_name(record.pharmacist_user_id),
        "dispensed_at": record.dispensed_at,
        "override_reason": record.override_reason,
        "conflicts": record.conflicts,
        "lines": [
            {
                "id": dl.id,
                "prescription_item_id": dl.prescription_item_id,
                "item_id": dl.item_id,
                "item_name": item.name,
                "drug_id": item.drug_id,
                "batch_id": dl.batch_id,
                "lot": batch.lot,
                "expiry": batch.expiry,
                "quantity": dl.quantity,
                "returned_quantity": dl.returned_quantity,
                "unit_cost": dl.unit_cost,
                "label_code": dispense_label_code(dl.id),
            }
            for dl, batch, item in lines
        ],
        "owed": [
            {
                "prescription_item_id": i.id,
                "prescribed": i.quantity,
                "dispensed": dispensed[i.id],
                "owed": owed(i.quantity, dispensed[i.id]),
            }
            for i, _ in rx_items
        ],
    }


def get_dispense(uow: UnitOfWork, dispense_id: int) -> dict[str, Any]:
    with uow:
        record = uow.repo(DispensingRepository).dispense(dispense_id)
        view = dispense_view(uow, record)
        uow.audit(
            CATEGORY,
            "dispense.read",
            patient_id=view["patient"].id,
            detail={"dispense_id": record.id},
        )
        uow.commit()
        return view


def list_dispenses(uow: UnitOfWork, prescription_id: int) -> list[dict[str, Any]]:
    with uow:
        repo = uow.repo(DispensingRepository)
        rx = repo.prescription(prescription_id)
        views = [dispense_view(uow, d) for d in repo.dispenses_of(prescription_id)]
        uow.audit(
            CATEGORY, "dispense.list", patient_id=rx.patient_id, detail={"prescription_id": rx.id}
        )
        uow.commit()
        return views


def label(uow: UnitOfWork, dispense_line_id: int) -> dict[str, Any]:
    """What the dispensing label of one line prints."""
    with uow:
        repo = uow.repo(DispensingRepository)
        line = repo.line(dispense_line_id)
        record = repo.dispense(line.dispense_id)
        rx = repo.prescription(record.prescription_id)
        patient = repo.patient(rx.patient_id)
        item, drug = repo.prescription_item(line.prescription_item_id)
        batch = uow.repo(StockRepository).batch(line.batch_id)
        stock_item = uow.repo(StockRepository).item(line.item_id)
        uow.audit(
            CATEGORY, "label.print", patient_id=rx.patient_id, detail={"dispense_line_id": line.id}
        )
        result = {
            "dispense_line_id": line.id,
            "barcode": dispense_label_code(line.id),
            "hospital_name": uow.hospital.name,
            "patient_name": f"{patient.family_name.upper()}, {patient.given_name}",
            "mrn": patient.mrn,
            "drug": drug.generic_name,
            "strength": drug.strength,
            "form": drug.form,
            "instructions": plain_instructions(
                dose=item.dose,
                unit=item.unit,
                route=item.route,
                frequency=item.frequency,
                duration_days=item.duration_days,
                instructions=item.instructions,
            ),
            "quantity": line.quantity,
            "unit": stock_item.base_unit,
            "lot": batch.lot,
            "expiry": batch.expiry,
            "dispensed_on": uow.hospital.local(record.dispensed_at).date(),
            "pharmacist": repo.user_name(record.pharmacist_user_id),
            "prescription_number": rx.number,
        }
        uow.commit()
        return result


# ---------------------------------------------------------------- returns, send back


@dataclass(frozen=True)
class ReturnInput:
    dispense_line_id: int
    quantity: Decimal
    restock: bool = True


def return_dispensed(
    uow: UnitOfWork, dispense_id: int, *, lines: list[ReturnInput], reason: str
) -> dict[str, Any]:
    """Medicines handed back (never collected, or returned by the patient) go back to the
    dispensing location's stock — or, if unusable, straight to waste. Each line emits
    ``MedicationReturned`` so an unbilled charge is reversed."""
    with uow:
        repo = uow.repo(DispensingRepository)
        stock = uow.repo(StockRepository)
        record = repo.dispense(dispense_id)
        rx = repo.prescription(record.prescription_id)
        me = user_id_of(uow)
        postings: list[Posting] = []
        for n, ret in enumerate(lines):
            line = repo.line(ret.dispense_line_id, lock=True)
            if line.dispense_id != record.id:
                raise ValidationFailedError(
                    "A returned line belongs to another dispense.",
                    extra={
                        "errors": [
                            field_problem(
                                f"lines.{n}.dispense_line_id", "not a line of this dispense"
                            )
                        ]
                    },
                )
            item = stock.item(line.item_id)
            check_quantity(
                ret.quantity,
                divisible=item.divisible,
                unit=item.base_unit,
                field=f"lines.{n}.quantity",
            )
            if line.returned_quantity + ret.quantity > line.quantity:
                raise ReturnExceedsDispensedError(
                    f"Only {line.quantity - line.returned_quantity} of this line can still be "
                    "returned.",
                    extra={"errors": [field_problem(f"lines.{n}.quantity", "more than dispensed")]},
                )
            line.returned_quantity += ret.quantity
            ref = {"reference_type": "dispense", "reference_id": record.id}
            postings.append(
                Posting(
                    "return",
                    line.item_id,
                    line.batch_id,
                    record.location_id,
                    ret.quantity,
                    line.unit_cost,
                    me,
                    reason=reason,
                    **ref,
                )
            )
            if not ret.restock:
                postings.append(
                    Posting(
                        "write_off",
                        line.item_id,
                        line.batch_id,
                        record.location_id,
                        -ret.quantity,
                        line.unit_cost,
                        me,
                        reason=reason,
                        reason_code="returned_unusable",
                        **ref,
                    )
                )
            uow.emit(
                ev.MedicationReturned(
                    dispense_line_id=line.id, patient_id=rx.patient_id, quantity=ret.quantity
                )
            )
        repo.flush()
        stock.post_movements(postings)
        uow.audit(
            CATEGORY,
            "dispense.return",
            patient_id=rx.patient_id,
            detail={
                "dispense_id": record.id,
                "line_ids": [r.dispense_line_id for r in lines],
                "restocked": [r.dispense_line_id for r in lines if r.restock],
            },
        )
        uow.publish("stock.changed", {"location_id": record.location_id})
        view = dispense_view(uow, record)
        uow.commit()
        return view


def send_back(uow: UnitOfWork, prescription_id: int, *, reason: str) -> PrescriptionSendBack:
    """Return a prescription to its prescriber with the pharmacist's reason; it leaves the
    dispensing queue and the prescriber is told over the live events stream."""
    with uow:
        rx = _open_prescription(uow, prescription_id, lock=True)
        record = PrescriptionSendBack(
            prescription_id=rx.id, reason=reason.strip(), user_id=user_id_of(uow), at=utcnow()
        )
        uow.repo(DispensingRepository).add(record)
        uow.audit(
            CATEGORY,
            "prescription.send_back",
            patient_id=rx.patient_id,
            detail={"prescription_id": rx.id},
        )
        uow.publish(
            "prescription.sent_back",
            {
                "prescription_id": rx.id,
                "patient_id": rx.patient_id,
                "prescriber_user_id": rx.prescriber_user_id,
            },
        )
        uow.commit()
        return record
