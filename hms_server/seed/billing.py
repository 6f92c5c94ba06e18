"""Demo billing after the clinical demo data: payers, plans with coverage rules, patient
policies, and invoices in every state — drafts, open, partly paid, paid (cash, card, bank
transfer), voided by a credit note, insured ones with claims adjudicated by a local insurer
(the payer simulator, run in-process for the seed), remittances, a deposit, and requests
waiting for the manager's approval. Payments are taken by the demo ``billing`` clerk, so
their drawer has a cash-up to show. Created through the services; skipped when invoices
exist.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from hms_server.adapters.billing.payer_fhir import FhirPayerGateway
from hms_server.adapters.billing.payer_simulator import PayerSimulatorServer
from hms_server.adapters.orm.billing import Charge, Invoice, PriceItem
from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.insurance import Payer
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.uow import Actor
from hms_server.domain.billing import BillingPolicy
from hms_server.domain.errors import DomainError
from hms_server.seed.demo import SeedContext
from hms_server.services.billing import (
    charges,
    claims,
    credit_notes,
    discounts,
    insurance,
    invoices,
    payments,
)

SEED_ORDER = 40
log = logging.getLogger("hms_server.seed")

PAYERS = [
    (
        "ALLIANZ-CARE",
        "Allianz Care",
        "+49 89 3800 0",
        [
            (
                "GOLD",
                "Gold",
                {
                    "consultation": "100",
                    "lab": "90",
                    "imaging": "80",
                    "procedure": "90",
                    "medicine": "70",
                    "bed_day": "100",
                },
                "10.00",
                "0.00",
                "50000.00",
            ),
            (
                "SILVER",
                "Silver",
                {
                    "consultation": "80",
                    "lab": "80",
                    "imaging": "60",
                    "procedure": "70",
                    "bed_day": "80",
                },
                "20.00",
                "150.00",
                "15000.00",
            ),
        ],
    ),
    (
        "NHF",
        "National Health Fund",
        "+43 5 0766",
        [
            (
                "BASIC",
                "Statutory basic cover",
                {
                    "consultation": "100",
                    "lab": "100",
                    "medicine": "80",
                    "bed_day": "100",
                    "procedure": "100",
                },
                "5.00",
                "0.00",
                None,
            )
        ],
    ),
    (
        "MEDISURE",
        "MediSure Health",
        "+44 20 7946 0000",
        [
            (
                "ESSENTIAL",
                "Essential",
                {"consultation": "70", "lab": "70", "imaging": "50"},
                "15.00",
                "250.00",
                "5000.00",
            )
        ],
    ),
]
EXTRA_SERVICES = (
    "PROC-DRESS",
    "PROC-ECG",
    "IMG-XR-CHEST",
    "SRV-CERT",
    "PROC-INJ",
    "IMG-US-ABD",
    "SRV-MEAL",
)
INVOICED_PATIENTS = 36


def _clerk(ctx: SeedContext, username: str) -> Actor:
    with ctx.session_factory() as session:
        user = session.scalar(select(User).where(func.lower(User.username) == username))
    if user is None:
        return Actor.system("seed-demo")
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=tuple(user.roles),
        workstation="BILLING-DESK-1",
    )


def seed(ctx: SeedContext) -> None:
    with ctx.session_factory() as session:
        if session.scalar(select(func.count()).select_from(Invoice)):
            return
        if not session.scalar(select(func.count()).select_from(PriceItem)):
            log.info("no price list: billing demo data skipped")
            return
        charged = list(
            session.scalars(select(Charge.patient_id).where(Charge.status == "unbilled").distinct())
        )
        others = list(
            session.scalars(
                select(Patient.id)
                .where(Patient.merged_into_id.is_(None))
                .order_by(Patient.id)
                .limit(80)
            )
        )
    patient_ids = list(dict.fromkeys(charged + others))[:INVOICED_PATIENTS]
    clerk = _clerk(ctx, "billing")
    uow = lambda: ctx.uow(clerk)  # noqa: E731 - a fresh unit of work per call
    rng = ctx.rng

    # Payers, plans, policies (about half of the invoiced patients are insured).
    plans: list[int] = []
    for code, name, phone, plan_rows in PAYERS:
        payer = insurance.create_payer(uow(), code=code, name=name, phone=phone, address=None)
        for plan_code, plan_name, coverage, copay, deductible, limit in plan_rows:
            plans.append(
                insurance.create_plan(
                    uow(),
                    payer_id=payer.id,
                    code=plan_code,
                    name=plan_name,
                    coverage={k: Decimal(v) for k, v in coverage.items()},
                    copay=Decimal(copay),
                    deductible=Decimal(deductible),
                    annual_limit=Decimal(limit) if limit else None,
                    excluded_codes=["SRV-CERT", "SRV-MEAL"],
                ).id
            )
    today = ctx.runtime.hospital.today()
    insured: set[int] = set()
    for index, patient_id in enumerate(patient_ids):
        if index % 2 == 0:
            insurance.add_policy(
                uow(),
                patient_id,
                plan_id=plans[index % len(plans)],
                member_number=f"M{patient_id:06d}-{rng.randint(10, 99)}",
                valid_from=today.replace(month=1, day=1),
                valid_to=None,
            )
            insured.add(patient_id)

    with ctx.session_factory() as session:
        extras = {
            code: session.scalar(select(PriceItem.code).where(PriceItem.code == code))
            for code in EXTRA_SERVICES
        }
    states = [
        "paid",
        "partly_paid",
        "open",
        "paid",
        "void",
        "paid",
        "partly_paid",
        "draft",
        "open",
        "paid",
    ]
    created = 0
    for index, patient_id in enumerate(patient_ids):
        for code in rng.sample([c for c in extras.values() if c], k=rng.randint(1, 3)):
            charges.add_manual_charge(
                uow(),
                patient_id=patient_id,
                price_item_code=code,
                price_item_id=None,
                quantity=Decimal(1),
                reason="Demo: service at the clinic",
                encounter_id=None,
                service_date=today - timedelta(days=index * 4 % 120),
            )
        try:
            draft = invoices.create_invoice(
                uow(),
                patient_id=patient_id,
                charge_ids=None,
                encounter_id=None,
                admission_id=None,
                notes=None,
            )
        except DomainError:
            continue
        created += 1
        state = states[index % len(states)]
        if state == "draft":
            if index % 3 == 0 and draft.lines:
                discounts.add_discount(
                    uow(),
                    draft.id,
                    line_id=None,
                    kind="percent",
                    value=Decimal(25),
                    reason="Hardship: unemployed",
                    policy=BillingPolicy(),
                )
            continue
        issued = today - timedelta(days=(index * 7) % 130)
        final = invoices.finalize_invoice(uow(), draft.id, issued_on=issued)
        owed = final.patient_due
        method = ("cash", "card", "bank_transfer")[index % 3]
        if state in ("paid", "partly_paid") and owed > 0:
            amount = owed if state == "paid" else (owed / 2).quantize(Decimal("0.01"))
            payments.post_payment(
                uow(),
                invoice_id=final.id,
                patient_id=None,
                amount=amount,
                method=method,
                kind="payment",
                reference=None if method == "cash" else f"REF{index:05d}",
                tendered=(amount + Decimal(5)).quantize(Decimal("1")) if method == "cash" else None,
            )
        elif state == "void":
            credit_notes.issue_credit_note(
                uow(), final.id, amount=None, reason="Billed to the wrong visit"
            )
        if state == "partly_paid" or index % 4 == 1:
            # A later visit, not invoiced yet: the account shows unbilled charges too.
            for code in [c for c in extras.values() if c][:2]:
                charges.add_manual_charge(
                    uow(),
                    patient_id=patient_id,
                    price_item_code=code,
                    price_item_id=None,
                    quantity=Decimal(1),
                    reason="Demo: follow-up visit",
                    encounter_id=None,
                    service_date=today,
                )
    payments.post_payment(
        uow(),
        invoice_id=None,
        patient_id=patient_ids[1],
        amount=Decimal("500.00"),
        method="card",
        kind="deposit",
        reference="Admission deposit",
        tendered=None,
    )
    _adjudicate_claims(ctx, clerk)
    log.info("seeded billing: %d invoices, %d insured patients", created, len(insured))


def _adjudicate_claims(ctx: SeedContext, clerk: Actor) -> None:
    """Send the ready claims of the first payers to a local insurer (the payer simulator,
    in-process), so the claims worklist shows approved, partly approved and rejected claims;
    post remittances for half of the approved ones."""
    server = PayerSimulatorServer(("127.0.0.1", 0))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        server.state.rejected_codes = {"PROC-ECG"}
        server.state.item_limit = Decimal(150)
        gateway = FhirPayerGateway(
            f"http://127.0.0.1:{server.server_address[1]}/fhir",
            provider_name=ctx.runtime.hospital.name,
            retries=0,
        )
        with ctx.session_factory() as session:
            payer_ids = list(session.scalars(select(Payer.id).order_by(Payer.id)))
        for payer_id in payer_ids[:2]:
            ready, _ = claims.list_claims(
                ctx.uow(clerk),
                payer_id=payer_id,
                status=["ready"],
                patient_id=None,
                worklist=None,
                limit=100,
                offset=0,
            )
            keep = [c.id for c in ready][-2:]  # a few stay in the "to submit" worklist
            send = [c.id for c in ready if c.id not in keep]
            if not send:
                continue
            _batch, adjudicated = claims.submit_batch(
                ctx.uow(clerk), gateway, payer_id=payer_id, claim_ids=send
            )
            for claim in adjudicated[::2]:
                if claim.approved:
                    claims.post_remittance(
                        ctx.uow(clerk),
                        claim.id,
                        amount=claim.approved,
                        reference=f"REMIT-{claim.id:05d}",
                        received_on=None,
                    )
    finally:
        server.shutdown()
        server.server_close()
