"""Demo pharmacy and stores: stock items linked to the formulary (with GTINs per pack level),
ward stores, suppliers with lead times and prices, batches with a spread of expiry dates
(expired, near expiry, long dated), twelve weeks of consumption history, reorder levels,
purchase orders in several states, a ward requisition, an open stock count, some waste,
equipment with service due and one asset out of service — and part of the demo
prescriptions already dispensed, so the queue shows new and part-dispensed entries.

Created through the services the API uses, except two things a demo needs and the
services deliberately refuse: history in the past (ledger rows with a past ``at``, as an
import from a legacy system would write) and lots that have already expired (received
dated, then their expiry moved back). Idempotent: skipped once the demo items exist.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from random import Random
from typing import Any

from sqlalchemy import func, select, update

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.pharmacy import StockBatch, StockItem, StockLocation
from hms_server.adapters.orm.prescribing import Drug, Prescription, PrescriptionItem
from hms_server.adapters.repositories.pharmacy import Posting, StockRepository
from hms_server.adapters.uow import Actor
from hms_server.domain.errors import DomainError
from hms_server.seed.demo import SeedContext
from hms_server.services import (
    dispensing,
    equipment,
    procurement,
    receiving,
    requisitions,
    stock,
    stock_counts,
)

SEED_ORDER = 40
log = logging.getLogger("hms_server.seed")

CODE_PREFIX = "DEMO-"
COMPANY_PREFIX = "590123"  # a GS1 company prefix for the demo's own pack codes
HISTORY_WEEKS = 12
SOLID = ("tablet", "capsule")
SUPPLIERS = [
    ("MEDSUP", "MediSupply Wholesale", 3),
    ("PHARMA-DIST", "Pharma Distribution Ltd", 7),
    ("SURGICO", "Surgico Consumables", 10),
]
CONSUMABLES = [
    ("Sterile gauze swab 10 x 10 cm", "piece", "dressings", 100),
    ("Syringe 5 mL luer lock", "piece", "syringes", 100),
    ("Nitrile examination gloves M", "piece", "gloves", 100),
    ("IV cannula 20G", "piece", "iv_access", 50),
    ("Sodium chloride 0.9% 500 mL bag", "bag", "fluids", 20),
    ("Alcohol prep pad", "piece", "dressings", 200),
]
EQUIPMENT = [
    ("Infusion pump", "Volumat Agilia", "Fresenius Kabi", 180, 365),
    ("Patient monitor", "IntelliVue MX450", "Philips", 365, 365),
    ("Defibrillator", "LIFEPAK 15", "Stryker", 180, 365),
    ("Syringe driver", "T34", "BD", 180, None),
    ("Suction unit", "Vacu-Aide", "Drive", 365, None),
    ("ECG machine", "MAC 2000", "GE Healthcare", 365, 730),
]


def _gtin(reference: int, indicator: str = "") -> str:
    """A valid GTIN-13 (or GTIN-14 with an indicator digit for the outer pack)."""
    body = indicator + COMPANY_PREFIX + f"{reference:06d}"
    weights = [3 if i % 2 == 0 else 1 for i in range(len(body))][::-1]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + str((10 - total % 10) % 10)


def _user_id(ctx: SeedContext, username: str) -> int | None:
    with ctx.session_factory() as session:
        return session.scalar(select(User.id).where(func.lower(User.username) == username))


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as session:
        if session.scalar(
            select(StockItem.id).where(StockItem.code.like(f"{CODE_PREFIX}%")).limit(1)
        ):
            return
        drugs = list(session.scalars(select(Drug).where(Drug.active.is_(True)).order_by(Drug.id)))
        locations = {loc.code: loc.id for loc in session.scalars(select(StockLocation))}
    pharmacist_id = _user_id(ctx, "pharmacist")
    actor = Actor(
        user_id=pharmacist_id, username="pharmacist", roles=("pharmacist",), workstation="seed"
    )

    def uow() -> Any:
        return ctx.uow(actor)

    rng = ctx.rng
    wards = {}
    for code, name in (("WARD1", "Ward 1 (medical) store"), ("WARD2", "Ward 2 (surgical) store")):
        if code not in locations:
            loc = stock.create_location(
                uow(),
                code=code,
                name=name,
                kind="ward_store",
                ward_code=code.replace("WARD", "W"),
                dispensing=False,
            )
            locations[code] = loc.id
        wards[code] = locations[code]
    suppliers = [
        procurement.create_supplier(
            uow(),
            code=code,
            name=name,
            lead_time_days=lead,
            contact_name=None,
            phone=None,
            email=f"orders@{code.lower()}.example",
        )
        for code, name, lead in SUPPLIERS
    ]

    items = _catalogue(ctx, uow, drugs, suppliers, rng)
    pharmacy, central = locations["PHARMACY"], locations["CENTRAL"]
    _stock_and_history(ctx, uow, items, pharmacy, central, list(wards.values()), rng)
    _procurement(uow, items, pharmacy, suppliers, rng)
    _dispense_some(ctx, uow, pharmacy, rng)
    _stores(uow, items, pharmacy, wards, rng)
    _equipment(ctx, uow, wards, suppliers, rng)
    stock.sweep_expired(uow())
    log.info("seeded pharmacy: %d stock items", len(items))


def _catalogue(
    ctx: SeedContext, uow: Any, drugs: list[Drug], suppliers: list[Any], rng: Random
) -> list[dict[str, Any]]:
    items = []
    for n, drug in enumerate(drugs, start=1):
        solid = drug.form in SOLID
        unit = drug.form if solid else ("mL" if "liquid" in drug.form else "unit")
        packs = (
            [
                stock.PackInput("strip", Decimal(10), _gtin(n)),
                stock.PackInput("box", Decimal(100), _gtin(n, "1")),
            ]
            if solid
            else [stock.PackInput("pack", Decimal(100 if unit == "mL" else 10), _gtin(n))]
        )
        row = stock.create_item(
            uow(),
            code=f"{CODE_PREFIX}{drug.code}"[:40],
            name=" ".join(p for p in (drug.generic_name, drug.strength or "", drug.form) if p)[
                :200
            ],
            kind="medicine",
            drug_id=drug.id,
            base_unit=unit,
            divisible=unit == "mL",
            item_class=drug.therapeutic_class or drug.atc_code,
            packs=packs,
            preferred_supplier_id=suppliers[n % 2].id,
        )
        items.append({**row, "cost": Decimal(str(round(rng.uniform(0.02, 1.8), 4)))})
    for m, (name, unit, item_class, pack) in enumerate(CONSUMABLES, start=len(drugs) + 1):
        row = stock.create_item(
            uow(),
            code=f"{CODE_PREFIX}C{m:03d}",
            name=name,
            kind="consumable",
            drug_id=None,
            base_unit=unit,
            divisible=False,
            item_class=item_class,
            packs=[stock.PackInput("box", Decimal(pack), _gtin(m))],
            preferred_supplier_id=suppliers[2].id,
        )
        items.append({**row, "cost": Decimal(str(round(rng.uniform(0.05, 1.2), 4)))})
    return items


def _lot(rng: Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + str(
        rng.randint(10000, 99999)
    )


def _stock_and_history(
    ctx: SeedContext,
    uow: Any,
    items: list[dict[str, Any]],
    pharmacy: int,
    central: int,
    wards: list[int],
    rng: Random,
) -> None:
    """Two or three lots per item at the pharmacy (some expired, some near expiry), stock in
    the central store, and weekly issues to the wards over the last twelve weeks."""
    today = ctx.runtime.hospital.today()
    expired: list[tuple[int, str]] = []
    for n, item in enumerate(items):
        weekly = rng.choice([0, 5, 10, 20, 40, 70]) if n % 3 else rng.choice([0, 0, 5])
        lines = []
        days = [rng.randint(240, 900), rng.randint(100, 400)]
        if n % 7 == 0:
            days.append(rng.choice([20, 45, 80]))  # near expiry (30/60/90-day windows)
        if n % 11 == 0:
            days.append(1)  # expired: moved back below
        for d in days:
            lines.append(
                receiving.ReceiptLineInput(
                    item["id"],
                    _lot(rng),
                    today + timedelta(days=d),
                    Decimal(rng.choice([50, 100, 200, 300])),
                    item["cost"],
                )
            )
        view = receiving.receive_goods(
            uow(),
            location_id=pharmacy,
            lines=lines,
            purchase_order_id=None,
            supplier_id=item["preferred_supplier_id"],
            delivery_note="OPENING",
            note="Opening stock",
        )
        if n % 11 == 0:
            expired.append((item["id"], view.lines[-1].lot))
        if n % 4 == 0:
            receiving.receive_goods(
                uow(),
                location_id=central,
                lines=[
                    receiving.ReceiptLineInput(
                        item["id"],
                        _lot(rng),
                        today + timedelta(days=rng.randint(300, 800)),
                        Decimal(500),
                        item["cost"],
                    )
                ],
                purchase_order_id=None,
                supplier_id=None,
                delivery_note="OPENING",
                note=None,
            )
        if weekly:
            _history(ctx, uow, item, pharmacy, wards, weekly, rng)
        if n % 5 == 0:
            stock.set_level(
                uow(),
                item["id"],
                pharmacy,
                reorder_level=Decimal(weekly * 2 or 20),
                par_level=Decimal(weekly * 6 or 100),
                safety_stock=Decimal(weekly or 10),
            )
    work = uow()
    with work:  # demo only: these lots were received long ago and have expired since
        for item_id, lot in expired:
            work.session.execute(
                update(StockBatch)
                .where(StockBatch.item_id == item_id, StockBatch.lot == lot)
                .values(expiry=today - timedelta(days=rng.randint(2, 40)))
            )
        work.commit()


def _history(
    ctx: SeedContext,
    uow: Any,
    item: dict[str, Any],
    pharmacy: int,
    wards: list[int],
    weekly: int,
    rng: Random,
) -> None:
    work = uow()
    with work:
        repo = work.repo(StockRepository)
        balances = [
            b
            for b in repo.balances(pharmacy, [item["id"]])
            if b.expiry > ctx.runtime.hospital.today() + timedelta(days=100)
        ]
        if not balances:
            return
        batch = max(balances, key=lambda b: b.quantity)
        now = utcnow()
        # An older delivery that the history consumed (so today's balance is what is left).
        needed = Decimal(weekly * HISTORY_WEEKS)
        postings = [
            Posting(
                "receipt",
                item["id"],
                batch.batch_id,
                pharmacy,
                needed,
                batch.unit_cost,
                None,
                reason="Delivery (history)",
                at=now - timedelta(weeks=HISTORY_WEEKS, days=1),
            )
        ]
        for week in range(HISTORY_WEEKS, 0, -1):
            qty = Decimal(max(1, int(weekly * rng.uniform(0.6, 1.4))))
            qty = min(qty, needed)
            if qty <= 0:
                break
            needed -= qty
            at = now - timedelta(weeks=week) + timedelta(days=rng.randint(0, 6))
            ward = rng.choice(wards)
            for location, delta in ((pharmacy, -qty), (ward, qty)):
                postings.append(
                    Posting(
                        "issue",
                        item["id"],
                        batch.batch_id,
                        location,
                        delta,
                        batch.unit_cost,
                        None,
                        reason="Ward top-up (history)",
                        reference_type="history",
                        at=at,
                    )
                )
        repo.post_movements(postings)
        work.commit()


def _procurement(
    uow: Any, items: list[dict[str, Any]], pharmacy: int, suppliers: list[Any], rng: Random
) -> None:
    picks = [(i["id"], Decimal(200)) for i in rng.sample(items[:60], 4)]
    orders = procurement.order_from_suggestions(
        uow(), location_id=pharmacy, picks=picks[:2], supplier_id=suppliers[0].id
    )
    sent = procurement.order_from_suggestions(
        uow(), location_id=pharmacy, picks=picks[2:], supplier_id=suppliers[1].id
    )[0]
    order = procurement.change_order_status(
        uow(), sent["id"], version=sent["version"], status="approved"
    )
    order = procurement.change_order_status(
        uow(), order["id"], version=order["version"], status="sent"
    )
    first = order["lines"][0]
    receiving.receive_goods(
        uow(),
        location_id=pharmacy,
        lines=[
            receiving.ReceiptLineInput(
                first["item_id"],
                _lot(rng),
                utcnow().date() + timedelta(days=600),
                first["quantity"] / 2,
                first["unit_cost"],
                first["id"],
            )
        ],
        purchase_order_id=order["id"],
        supplier_id=None,
        delivery_note="DN-4471",
        note=None,
    )
    log.info("seeded %d purchase orders", len(orders) + 1)


def _dispense_some(ctx: SeedContext, uow: Any, pharmacy: int, rng: Random) -> None:
    """Part-dispense a third of the waiting prescriptions (the rest stay new)."""
    with ctx.session_factory() as session:
        waiting = session.execute(
            select(Prescription.id, PrescriptionItem.id, PrescriptionItem.quantity)
            .join(PrescriptionItem, PrescriptionItem.prescription_id == Prescription.id)
            .where(Prescription.status == "active")
            .order_by(Prescription.id)
        ).all()
    for n, (rx_id, item_id, quantity) in enumerate(waiting):
        if n % 3:
            continue
        try:
            dispensing.dispense(
                uow(),
                prescription_id=rx_id,
                location_id=pharmacy,
                lines=[dispensing.LineInput(item_id, min(Decimal(30), quantity))],
                override_reason=None,
            )
        except DomainError:
            continue  # a safety conflict or no stock: it waits for the pharmacist


def _stores(
    uow: Any, items: list[dict[str, Any]], pharmacy: int, wards: dict[str, int], rng: Random
) -> None:
    consumables = [i for i in items if i["kind"] == "consumable"]
    req = requisitions.request_stock(
        uow(),
        ward_location_id=wards["WARD1"],
        source_location_id=pharmacy,
        lines=[(i["id"], Decimal(20)) for i in consumables[:3]],
        note="Weekly top-up",
    )
    done = requisitions.request_stock(
        uow(),
        ward_location_id=wards["WARD2"],
        source_location_id=pharmacy,
        lines=[(consumables[3]["id"], Decimal(10))],
        note=None,
    )
    done = requisitions.decide_requisition(
        uow(), done["id"], version=done["version"], approve=True, approved={}, note=None
    )
    requisitions.issue_requisition(uow(), done["id"], version=done["version"])
    log.info("seeded requisition %s", req["number"])
    stock_counts.open_count(uow(), location_id=pharmacy, item_class="dressings", note=None)
    for item in rng.sample(items[:80], 3):
        work = uow()
        with work:
            held = work.repo(StockRepository).balances(pharmacy, [item["id"]])
        usable = [b for b in held if b.quantity >= 5 and b.status == "available"]
        if usable:
            stock.write_off(
                uow(),
                item_id=item["id"],
                location_id=pharmacy,
                lot=usable[0].lot,
                quantity=Decimal(rng.choice([2, 5])),
                reason_code=rng.choice(["damaged", "expired"]),
                reason="Found during shelf check",
            )


def _equipment(
    ctx: SeedContext, uow: Any, wards: dict[str, int], suppliers: list[Any], rng: Random
) -> None:
    today = ctx.runtime.hospital.today()
    for n, (name, model, maker, service, calibration) in enumerate(EQUIPMENT):
        asset = equipment.register(
            uow(),
            asset_tag=f"EQ-{1001 + n}",
            name=name,
            model=model,
            manufacturer=maker,
            serial_number=f"SN{rng.randint(100000, 999999)}",
            location_id=list(wards.values())[n % 2],
            supplier_id=suppliers[2].id,
            purchased_on=today - timedelta(days=rng.randint(150, 900)),
            warranty_until=today + timedelta(days=rng.choice([20, 200, 400])),
            maintenance_interval_days=service,
            calibration_interval_days=calibration,
        )
        if n == 1:
            equipment.change_status(
                uow(),
                asset.id,
                version=asset.version,
                status="out_of_service",
                reason="SpO2 module reads low; awaiting biomedical check",
            )
        elif n % 2 == 0:
            equipment.record_service(
                uow(),
                asset.id,
                kind="preventive",
                performed_on=today - timedelta(days=rng.randint(10, 60)),
                performed_by="Biomedical engineering",
                notes="Annual preventive maintenance",
                cost=Decimal("60"),
                return_to_service=False,
            )
