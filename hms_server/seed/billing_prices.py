"""Demo price list (before the clinical demo data, so its consultations and lab orders are
charged automatically as they happen): a consultation per department and a general one,
every lab test of the catalogue, every formulary medicine, bed-days per ward class, and
procedures, imaging and other services. Created through the price-list service; skipped
when a price list exists."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from hms_server.adapters.orm.billing import PriceItem
from hms_server.adapters.orm.clinical import LabTest
from hms_server.adapters.orm.prescribing import Drug
from hms_server.adapters.orm.scheduling import Department
from hms_server.adapters.uow import Actor
from hms_server.seed.demo import SeedContext
from hms_server.services.billing import prices

SEED_ORDER = 25
log = logging.getLogger("hms_server.seed")
SINCE = date(2020, 1, 1)

BED_DAYS = [
    ("general", "Bed-day, general ward", "250.00"),
    ("semi_private", "Bed-day, semi-private room", "420.00"),
    ("private", "Bed-day, private room", "680.00"),
    ("icu", "Bed-day, intensive care", "1850.00"),
]
# code, name, category, price, VAT %
SERVICES = [
    ("PROC-DRESS", "Wound dressing", "procedure", "18.50", "0"),
    ("PROC-SUTURE", "Suturing of a simple wound", "procedure", "65.00", "0"),
    ("PROC-ECG", "Electrocardiogram (12-lead)", "procedure", "45.00", "0"),
    ("PROC-CAST", "Plaster cast, forearm", "procedure", "95.00", "0"),
    ("PROC-INJ", "Injection / infusion set-up", "procedure", "22.00", "0"),
    ("IMG-XR-CHEST", "X-ray, chest (PA)", "imaging", "72.00", "0"),
    ("IMG-US-ABD", "Ultrasound, abdomen", "imaging", "110.00", "0"),
    ("IMG-CT-HEAD", "CT, head without contrast", "imaging", "240.00", "0"),
    ("IMG-MRI-KNEE", "MRI, knee", "imaging", "390.00", "0"),
    ("SRV-CERT", "Medical certificate", "service", "25.00", "20"),
    ("SRV-RECORDS", "Copy of medical records", "service", "15.00", "20"),
    ("SRV-TRAVEL", "Travel vaccination advice", "service", "40.00", "20"),
    ("SRV-MEAL", "Companion meal", "service", "9.50", "10"),
]


def _slug(text: str) -> str:
    """``General Medicine`` → ``GM``, ``Cardiology`` → ``CARDIO``: short, readable codes."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text.upper()) if w]
    return "".join(w[0] for w in words) if len(words) > 1 else (words or ["X"])[0][:6]


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as session:
        if session.scalar(select(func.count()).select_from(PriceItem)):
            return
        departments = [(d.id, d.name) for d in session.scalars(select(Department))]
        tests = [
            (t.id, t.code, t.name)
            for t in session.scalars(select(LabTest).where(LabTest.active.is_(True)))
        ]
        drugs = [
            (d.id, d.code, d.generic_name, d.strength, d.form)
            for d in session.scalars(select(Drug).where(Drug.active.is_(True)))
        ]
    rng = ctx.rng
    actor = Actor.system("seed-demo")

    def add(
        code: str, name: str, category: str, price: str, tax: str = "0", **links: object
    ) -> None:
        prices.create_price_item(
            ctx.uow(actor),
            code=code,
            name=name[:200],
            category=category,
            unit_price=Decimal(price),
            tax_rate=Decimal(tax),
            tax_category="exempt" if tax == "0" else "standard",
            effective_from=SINCE,
            effective_to=None,
            **links,
        )

    add("CONS-GEN", "Consultation, general", "consultation", "45.00")
    for department_id, name in departments:
        add(
            f"CONS-{_slug(name)}",
            f"Consultation, {name}",
            "consultation",
            f"{rng.choice([55, 60, 65, 70, 80])}.00",
            department_id=department_id,
        )
    for test_id, code, name in tests:
        add(
            f"LAB-{code}",
            name,
            "lab",
            f"{rng.randint(8, 95)}.{rng.choice(['00', '50'])}",
            lab_test_id=test_id,
        )
    for drug_id, code, generic, strength, form in drugs:
        unit = Decimal(rng.randint(5, 480)) / 100
        add(
            f"MED-{code}"[:32],
            f"{generic} {strength or ''} {form}".strip(),
            "medicine",
            format(unit, "f"),
            drug_id=drug_id,
        )
    for ward_class, name, price in BED_DAYS:
        add(f"BED-{ward_class.upper()}", name, "bed_day", price, ward_class=ward_class)
    for code, name, category, price, tax in SERVICES:
        add(code, name, category, price, tax)
    log.info(
        "seeded the price list: %d departments, %d lab tests, %d medicines",
        len(departments),
        len(tests),
        len(drugs),
    )
