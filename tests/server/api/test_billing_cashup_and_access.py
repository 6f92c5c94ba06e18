"""Cash-up per cashier and drawer (expected vs counted, variance with a reason, locked once
submitted), and who sees what: the manager reads accounts by ids only, the billing clerk
cannot read clinical notes, clinical roles cannot touch money, every money action is
audited, and patient merge carries the account along."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select

from hms_server.adapters.orm.infra import AuditEntry
from tests.server.billing_factories import finalised_invoice, pay
from tests.server.scheduling_factories import make_patient


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture
def clerk(make_user, login):  # type: ignore[no-untyped-def]
    """A cashier of their own per test: each has their own drawer session."""
    return login(*make_user("billing_clerk"))


def test_cash_up_compares_expected_with_counted_and_locks(client, clerk, factory, settings, db):
    opened = client.post(
        "/api/v1/cash-sessions",
        json={"drawer": "Counter A-" + str(id(clerk)), "opening_float": "100.00"},
        headers=clerk,
    )
    assert opened.status_code == 201, opened.text
    session = opened.json()
    twice = client.post("/api/v1/cash-sessions", json={"drawer": "Counter Z"}, headers=clerk)
    assert twice.status_code == 409 and twice.json()["code"] == "cash_session_open"
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("50.00", "30.00"))
    pay(client, clerk, invoice["id"], "50.00", tendered="60.00")
    pay(client, clerk, invoice["id"], "30.00", method="card", reference="slip 77")
    current = client.get("/api/v1/cash-sessions/current", headers=clerk).json()
    expected = {t["method"]: t["expected"] for t in current["totals"]}
    assert expected == {"cash": "50.00", "card": "30.00", "bank_transfer": "0.00"}
    assert current["expected_cash_in_drawer"] == "150.00"
    short = client.post(
        f"/api/v1/cash-sessions/{session['id']}/submit",
        json={
            "version": current["version"],
            "counted": [
                {"method": "cash", "counted": "145.00"},
                {"method": "card", "counted": "30.00"},
            ],
        },
        headers=clerk,
    )
    assert short.status_code == 422
    assert short.json()["variance"]["cash"] == "-5.00"
    done = client.post(
        f"/api/v1/cash-sessions/{session['id']}/submit",
        json={
            "version": current["version"],
            "counted": [
                {"method": "cash", "counted": "145.00"},
                {"method": "card", "counted": "30.00"},
            ],
            "variance_reason": "gave too much change to one patient",
        },
        headers=clerk,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted" and done.json()["variance"] == "-5.00"
    again = client.post(
        f"/api/v1/cash-sessions/{session['id']}/submit",
        json={
            "version": done.json()["version"],
            "counted": [{"method": "cash", "counted": "150.00"}],
            "variance_reason": "recount",
        },
        headers=clerk,
    )
    assert again.status_code == 409 and again.json()["code"] == "cash_session_submitted"
    # The next payment opens a new session; the submitted one stays as it was.
    later = pay(
        client, clerk, finalised_invoice(client, clerk, factory, settings)["id"], "40.00"
    ).json()
    assert later["cash_session_id"] != session["id"]
    with psycopg.connect(
        db.owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE cash_sessions SET variance = 0 WHERE id = %s", (session["id"],))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "UPDATE payments SET cash_session_id = %s WHERE id = %s",
                (session["id"], later["id"]),
            )


def test_a_manager_reads_accounts_by_ids_and_approves_but_takes_no_money(
    client, clerk, factory, settings, headers_for
):
    manager = headers_for("manager")
    invoice = finalised_invoice(client, clerk, factory, settings)
    account = client.get(f"/api/v1/patients/{invoice['patient_id']}/account", headers=manager)
    assert account.status_code == 200
    assert account.json()["patient_name"] is None and account.json()["patient_mrn"] is None
    assert account.json()["outstanding"] == "40.00"
    seen = client.get(f"/api/v1/invoices/{invoice['id']}", headers=manager).json()
    assert seen["patient_name"] is None and seen["total"] == "40.00"
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["patient_name"]
    assert client.get("/api/v1/billing/ar-ageing", headers=manager).status_code == 200
    assert pay(client, manager, invoice["id"], "40.00").status_code == 403
    assert (
        client.post(
            "/api/v1/charges",
            json={"patient_id": invoice["patient_id"], "price_item_code": "X", "reason": "sneaky"},
            headers=manager,
        ).status_code
        == 403
    )


def test_the_billing_clerk_cannot_read_clinical_notes(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    for path in ("notes", "chart", "lab-results", "encounters"):
        response = client.get(f"/api/v1/patients/{patient}/{path}", headers=clerk)
        assert response.status_code == 403, (path, response.status_code)


@pytest.mark.parametrize("role", ["doctor", "nurse", "pharmacist", "receptionist", "hr_officer"])
def test_other_roles_cannot_read_or_change_billing(client, headers_for, role, factory, settings):
    headers = headers_for(role)
    patient = make_patient(factory, settings)
    assert client.get(f"/api/v1/patients/{patient}/account", headers=headers).status_code == 403
    assert (
        client.post("/api/v1/invoices", json={"patient_id": patient}, headers=headers).status_code
        == 403
    )
    assert (
        client.post("/api/v1/cash-sessions", json={"drawer": "x"}, headers=headers).status_code
        == 403
    )


def test_every_money_action_is_audited_with_ids_only(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("12.00",))
    receipt = pay(client, clerk, invoice["id"], "12.00").json()
    client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"amount": "2.00", "reason": "rounding goodwill"},
        headers=clerk,
    )
    client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk)
    with factory() as session:
        rows = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.patient_id == invoice["patient_id"], AuditEntry.category == "billing"
                )
            )
        )
    actions = {row.action for row in rows}
    assert {
        "charge.manual",
        "invoice.create",
        "invoice.finalize",
        "payment.receive",
        "credit_note.issue",
        "invoice.read",
    } <= actions
    paid = next(r for r in rows if r.action == "payment.receive")
    assert paid.detail["receipt"] == receipt["receipt_number"]
    assert paid.detail["amount"] == "12.00" and paid.username
    assert all("name" not in key for row in rows for key in row.detail)


def test_patient_merge_moves_the_account_to_the_survivor(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("10.00",))
    pay(client, clerk, invoice["id"], "15.00")
    survivor = make_patient(factory, settings)
    from hms_server.adapters.uow import Actor
    from hms_server.services.patients import merge_patients
    from tests.wiring import wired_uow

    merge_patients(
        wired_uow(factory, Actor.system("tests"), settings=settings),
        survivor,
        loser_id=invoice["patient_id"],
    )
    account = client.get(f"/api/v1/patients/{survivor}/account", headers=clerk).json()
    assert account["credit"] == "5.00"
    assert [i["id"] for i in account["invoices"]] == [invoice["id"]]
    assert (
        client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["patient_id"]
        == survivor
    )


@pytest.mark.parametrize(
    ("event_type", "role", "delivered"),
    [
        ("invoice.finalised", "billing_clerk", True),
        ("payment.received", "manager", True),
        ("card_intent.changed", "billing_clerk", True),
        ("payment.received", "nurse", False),
        ("charge.captured", "doctor", False),
        ("price_list.changed", "admin", True),
        ("claim.changed", "receptionist", False),
    ],
)
def test_billing_live_events_reach_only_those_who_read_accounts(event_type, role, delivered):
    from hms_server.domain.event_access import may_receive
    from hms_server.domain.permissions import permissions_for

    assert may_receive(event_type, permissions_for([role])) is delivered
