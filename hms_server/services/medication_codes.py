"""The pharmacy's answer to ``domain.ports.MedicationCodeResolver``: which medicine does a
scanned code identify? Plugged into ``Runtime.ports.medication_codes`` by the composition
root, so the ward's administration scan (and the pharmacy's own scan field) use one
interpretation of GS1 pack codes and dispensing labels.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hms_server.adapters.repositories.dispensing import DispensingRepository
from hms_server.adapters.repositories.pharmacy import StockRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.barcodes import LabelCode, parse_medication_code
from hms_server.domain.errors import NotFoundError
from hms_server.domain.pharmacy import UnknownBarcodeError
from hms_server.domain.ports import ScannedMedication


def resolve_medication_code(uow: UnitOfWork, code: str) -> ScannedMedication:
    """Resolve ``code`` (see ``domain.barcodes`` for the formats). Raises
    ``MalformedBarcodeError`` (422) or ``UnknownBarcodeError`` (404). Read-only: it may run
    inside the caller's unit of work."""
    scan = parse_medication_code(code)
    with uow:
        stock = uow.repo(StockRepository)
        if isinstance(scan, LabelCode):
            try:
                line = uow.repo(DispensingRepository).line(scan.dispense_line_id)
            except NotFoundError as exc:
                raise UnknownBarcodeError(
                    "This dispensing label does not match any dispensed medicine."
                ) from exc
            item = stock.item(line.item_id)
            batch = stock.batch(line.batch_id)
            drug = stock.drug(item.drug_id) if item.drug_id else None
            return ScannedMedication(
                stock_item_id=item.id,
                drug_id=item.drug_id,
                lot=batch.lot,
                expiry=batch.expiry,
                dispense_line_id=line.id,
                strength=drug.strength if drug else None,
                form=drug.form if drug else None,
                route=drug.route if drug else None,
            )
        pack = stock.pack_by_gtin(scan.gtin)
        if pack is None:
            raise UnknownBarcodeError(
                f"GTIN {scan.gtin} is not in the pharmacy catalogue.", extra={"gtin": scan.gtin}
            )
        item = stock.item(pack.item_id)
        drug = stock.drug(item.drug_id) if item.drug_id else None
        return ScannedMedication(
            stock_item_id=item.id,
            drug_id=item.drug_id,
            gtin=scan.gtin,
            lot=scan.lot,
            expiry=scan.expiry,
            serial=scan.serial,
            strength=drug.strength if drug else None,
            form=drug.form if drug else None,
            route=drug.route if drug else None,
        )


def describe_scan(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """``resolve_medication_code`` plus the catalogue names a screen shows."""
    found = resolve_medication_code(uow, code)
    with uow:
        stock = uow.repo(StockRepository)
        item = stock.item(found.stock_item_id) if found.stock_item_id else None
        pack = stock.pack_by_gtin(found.gtin) if found.gtin else None
        return {
            **asdict(found),
            "kind": "dispense_label" if found.dispense_line_id else "pack",
            "item_name": item.name if item else None,
            "pack_name": pack.name if pack else None,
            "pack_quantity": pack.base_quantity if pack else None,
        }
