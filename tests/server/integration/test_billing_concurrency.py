"""Money invariants under concurrency, on real PostgreSQL: 50 finalisations at once get 50
unique, gapless numbers; a finalisation that fails gives its number back; two clerks paying
one invoice at the same moment never push it past its balance (the rest becomes explicit
credit); and the database itself refuses what the rules forbid, whatever the code does."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from hms_server.adapters.db import make_engine
from hms_server.adapters.orm.billing import Invoice, Payment, PriceItem
from hms_server.adapters.uow import Actor
from hms_server.services.billing import charges, invoices, payments, prices
from tests.server.billing_factories import code
from tests.server.scheduling_factories import make_patient
from tests.wiring import wired_uow

N = 50


@pytest.fixture(scope="module")
def pool(db):  # type: ignore[no-untyped-def]
    """A session factory with room for N concurrent transactions."""
    engine = make_engine(db.owner_url, pool_size=N + 5)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture(scope="module")
def clerk_actor(db, settings):  # type: ignore[no-untyped-def]
    from hms_server.services.users import create_user

    user = create_user(
        wired_uow(db.owner_session_factory(), Actor.system("tests")),
        settings,
        username=f"clerk_{code()}".lower(),
        full_name="Concurrent Clerk",
        roles=["billing_clerk"],
        password="Quiet-Lantern-Harbor-77",
    ).user
    return Actor(
        user_id=user.id, username=user.username, roles=("billing_clerk",), workstation="CONC"
    )


def _uow(factory, actor, settings):  # type: ignore[no-untyped-def]
    return wired_uow(factory, actor, settings=settings)


def _drafts(factory, settings, actor, count: int, price: str = "25.00") -> list[int]:
    item = prices.create_price_item(
        _uow(factory, actor, settings),
        code=code("CONC"),
        name="Concurrency test item",
        category="service",
        unit_price=Decimal(price),
        tax_rate=Decimal(0),
        tax_category=None,
        effective_from=None,
        effective_to=None,
    )
    ids = []
    for _ in range(count):
        patient = make_patient(factory, settings)
        charges.add_manual_charge(
            _uow(factory, actor, settings),
            patient_id=patient,
            price_item_code=item.code,
            price_item_id=None,
            quantity=Decimal(1),
            reason="concurrency test",
            encounter_id=None,
            service_date=None,
        )
        ids.append(
            invoices.create_invoice(
                _uow(factory, actor, settings),
                patient_id=patient,
                charge_ids=None,
                encounter_id=None,
                admission_id=None,
                notes=None,
            ).id
        )
    return ids


def _all_at_once(work: list) -> list:  # type: ignore[type-arg]
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)  # type: ignore[type-arg]

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work[index]()
        except Exception as exc:  # kept for the assertion
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_fifty_concurrent_finalisations_get_fifty_gapless_unique_numbers(
    pool, settings, clerk_actor
):
    ids = _drafts(pool, settings, clerk_actor, N)
    results = _all_at_once(
        [(lambda i=i: invoices.finalize_invoice(_uow(pool, clerk_actor, settings), i)) for i in ids]
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    numbers = [r.number for r in results]
    assert len(set(numbers)) == N
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(serials[0], serials[0] + N))


def test_a_failed_finalisation_gives_its_number_back(pool, settings, clerk_actor):
    first, second, third = _drafts(pool, settings, clerk_actor, 3)
    before = invoices.finalize_invoice(_uow(pool, clerk_actor, settings), first)
    outer = _uow(pool, clerk_actor, settings)
    with pytest.raises(RuntimeError), outer:
        taken = invoices.finalize_invoice(outer, second)
        assert taken.number is not None
        raise RuntimeError("the printer caught fire before the commit")
    after = invoices.finalize_invoice(_uow(pool, clerk_actor, settings), third)
    assert int(after.number[-6:]) == int(before.number[-6:]) + 1
    with pool() as session:
        assert session.get(Invoice, second).status == "draft"


def test_two_clerks_paying_the_same_invoice_at_once_never_overpay_it(
    pool, settings, clerk_actor, db
):
    from hms_server.services.users import create_user

    other = create_user(
        wired_uow(db.owner_session_factory(), Actor.system("tests")),
        settings,
        username=f"clerk_{code()}".lower(),
        full_name="Second Clerk",
        roles=["billing_clerk"],
        password="Quiet-Lantern-Harbor-77",
    ).user
    second_actor = Actor(user_id=other.id, username=other.username, workstation="CONC-2")
    (invoice_id,) = _drafts(pool, settings, clerk_actor, 1, price="80.00")
    invoices.finalize_invoice(_uow(pool, clerk_actor, settings), invoice_id)

    def paying(actor):  # type: ignore[no-untyped-def]
        return lambda: payments.post_payment(
            _uow(pool, actor, settings),
            invoice_id=invoice_id,
            patient_id=None,
            amount=Decimal("80.00"),
            method="cash",
            kind="payment",
            reference=None,
            tendered=None,
        )

    results = _all_at_once([paying(clerk_actor), paying(second_actor)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert sorted((r.applied, r.to_credit) for r in results) == [
        (Decimal("0.00"), Decimal("80.00")),
        (Decimal("80.00"), Decimal("0.00")),
    ]
    assert results[0].receipt_number != results[1].receipt_number
    with pool() as session:
        invoice = session.get(Invoice, invoice_id)
        assert (invoice.patient_paid, invoice.balance, invoice.status) == (
            Decimal("80.00"),
            Decimal("0.00"),
            "paid",
        )
        from hms_server.adapters.orm.billing import PatientAccount

        assert session.get(PatientAccount, invoice.patient_id).credit == Decimal("80.00")


def test_many_small_concurrent_payments_stop_exactly_at_the_balance(pool, settings, clerk_actor):
    (invoice_id,) = _drafts(pool, settings, clerk_actor, 1, price="100.00")
    invoices.finalize_invoice(_uow(pool, clerk_actor, settings), invoice_id)
    results = _all_at_once(
        [
            (
                lambda: payments.post_payment(
                    _uow(pool, clerk_actor, settings),
                    invoice_id=invoice_id,
                    patient_id=None,
                    amount=Decimal("15.00"),
                    method="card",
                    kind="payment",
                    reference=None,
                    tendered=None,
                )
            )
            for _ in range(8)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(r.applied for r in results) == Decimal("100.00")
    assert sum(r.to_credit for r in results) == Decimal("20.00")
    with pool() as session:
        receipts = list(
            session.scalars(select(Payment.receipt_number).where(Payment.invoice_id == invoice_id))
        )
    assert len(set(receipts)) == 8


def _raw(db):  # type: ignore[no-untyped-def]
    return psycopg.connect(
        db.owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )


def test_the_database_refuses_overpayment_and_changes_to_a_final_invoice(
    pool, settings, clerk_actor, db
):
    (invoice_id,) = _drafts(pool, settings, clerk_actor, 1, price="60.00")
    invoices.finalize_invoice(_uow(pool, clerk_actor, settings), invoice_id)
    with _raw(db) as conn:
        for statement, constraint in [
            (
                "UPDATE invoices SET patient_paid = patient_due + 1 WHERE id = %s",
                "patient_not_overpaid",
            ),
            (
                "UPDATE invoices SET total = total + 1, subtotal = subtotal + 1 WHERE id = %s",
                "invoice_frozen",
            ),
            (
                "UPDATE invoice_lines SET description = 'changed' WHERE invoice_id = %s",
                "invoice_lines_frozen",
            ),
            (
                "UPDATE invoices SET number = NULL, status = 'draft', year = NULL, "
                "sequence = NULL WHERE id = %s",
                "invoice_frozen",
            ),
            ("DELETE FROM invoices WHERE id = %s", "invoice_frozen"),
        ]:
            with pytest.raises(psycopg.errors.CheckViolation) as caught:
                conn.execute(statement, (invoice_id,))
            assert constraint in str(caught.value) or caught.value.diag.constraint_name in (
                f"ck_invoices_{constraint}",
                constraint,
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "UPDATE patient_accounts SET credit = -1 WHERE patient_id = "
                "(SELECT patient_id FROM invoices WHERE id = %s)",
                (invoice_id,),
            )
            conn.execute(
                "INSERT INTO patient_accounts (patient_id, credit, updated_at, version)"
                " SELECT patient_id, -1, now(), 1 FROM invoices WHERE id = %s",
                (invoice_id,),
            )


def test_two_prices_for_one_drug_at_the_same_time_are_refused(pool, settings, clerk_actor, db):
    from hms_server.adapters.orm.prescribing import Drug

    with pool() as session:
        drug_id = session.scalar(select(Drug.id).order_by(Drug.id).limit(1))
        taken = session.scalar(select(PriceItem.id).where(PriceItem.drug_id == drug_id))
    if taken is None:
        prices.create_price_item(
            _uow(pool, clerk_actor, settings),
            code=code("DRUG"),
            name="Drug price",
            category="medicine",
            unit_price=Decimal("1.00"),
            tax_rate=Decimal(0),
            tax_category=None,
            effective_from=None,
            effective_to=None,
            drug_id=drug_id,
        )
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError) as caught:
        prices.create_price_item(
            _uow(pool, clerk_actor, settings),
            code=code("DRUG"),
            name="Second price",
            category="medicine",
            unit_price=Decimal("2.00"),
            tax_rate=Decimal(0),
            tax_category=None,
            effective_from=None,
            effective_to=None,
            drug_id=drug_id,
        )
    assert "ex_price_items_drug_period" in str(caught.value)
