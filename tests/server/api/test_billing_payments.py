"""Payments with receipts, partial → paid, overpayment to explicit credit, deposits and
credit use, refunds with approval, bad amounts, idempotent retries, and who may take money."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.server.billing_factories import (
    charge,
    draft,
    finalised_invoice,
    pay,
    price_item,
)
from tests.server.scheduling_factories import make_patient


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def clerk(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("billing_clerk"))


@pytest.fixture(scope="module")
def manager(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("manager"))


def test_partial_then_full_payment_with_receipts_and_change(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("70.00", "30.00"))
    first = pay(client, clerk, invoice["id"], "40.00", tendered="50.00")
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert re.fullmatch(r"RCT-\d{4}-\d{6}", receipt["receipt_number"])
    assert (receipt["applied"], receipt["to_credit"], receipt["change_due"]) == (
        "40.00",
        "0.00",
        "10.00",
    )
    assert receipt["allocations"] == [
        {
            "invoice_id": invoice["id"],
            "invoice_number": invoice["number"],
            "side": "patient",
            "amount": "40.00",
        }
    ]
    partly = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert (partly["status"], partly["paid"], partly["balance"]) == (
        "partly_paid",
        "40.00",
        "60.00",
    )
    second = pay(
        client, clerk, invoice["id"], "60.00", method="bank_transfer", reference="BANK-778"
    ).json()
    assert int(second["receipt_number"][-6:]) > int(receipt["receipt_number"][-6:])
    paid = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert (paid["status"], paid["balance"]) == ("paid", "0.00")
    listed = client.get(
        "/api/v1/payments", params={"invoice_id": invoice["id"]}, headers=clerk
    ).json()
    assert {p["receipt_number"] for p in listed["items"]} == {
        receipt["receipt_number"],
        second["receipt_number"],
    }


def test_overpayment_becomes_explicit_credit_never_a_negative_balance(
    client, clerk, factory, settings
):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("25.00",))
    receipt = pay(client, clerk, invoice["id"], "40.00").json()
    assert (receipt["applied"], receipt["to_credit"]) == ("25.00", "15.00")
    final = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert final["balance"] == "0.00" and final["status"] == "paid"
    account = client.get(f"/api/v1/patients/{invoice['patient_id']}/account", headers=clerk).json()
    assert account["credit"] == "15.00" and account["balance"] == "-15.00"
    again = pay(client, clerk, invoice["id"], "5.00").json()
    assert (again["applied"], again["to_credit"]) == ("0.00", "5.00")


def test_deposit_then_credit_applied_to_a_later_invoice(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    deposit = client.post(
        "/api/v1/payments",
        json={
            "patient_id": patient,
            "amount": "200.00",
            "method": "card",
            "kind": "deposit",
            "reference": "slip 4411",
        },
        headers=clerk,
    )
    assert deposit.status_code == 201, deposit.text
    assert deposit.json()["to_credit"] == "200.00"
    invoice = finalised_invoice(
        client, clerk, factory, settings, prices=("150.00",), patient_id=patient
    )
    applied = client.post(f"/api/v1/invoices/{invoice['id']}/apply-credit", headers=clerk)
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "paid" and applied.json()["patient_paid"] == "150.00"
    account = client.get(f"/api/v1/patients/{patient}/account", headers=clerk).json()
    assert account["credit"] == "50.00"
    other = finalised_invoice(
        client, clerk, factory, settings, prices=("80.00",), patient_id=patient
    )
    short = client.post(
        f"/api/v1/invoices/{other['id']}/apply-credit", json={"amount": "60.00"}, headers=clerk
    )
    assert short.status_code == 409 and short.json()["code"] == "insufficient_credit"


def test_payment_bad_input_and_wrong_states_change_nothing(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    invoice = draft(
        client, clerk, patient, [charge(client, clerk, patient, price_item(client, clerk))["id"]]
    )
    on_draft = pay(client, clerk, invoice["id"], "10.00")
    assert on_draft.status_code == 409 and on_draft.json()["code"] == "invoice_not_payable"
    final = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk).json()
    for amount in ("0", "-5.00", "10.005", "abc", 10.5, None):
        response = pay(client, clerk, final["id"], amount)
        assert response.status_code == 422, (amount, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert pay(client, clerk, final["id"], "10.005").json()["code"] == "too_many_decimals"
    assert pay(client, clerk, final["id"], "5.00", method="bitcoin").status_code == 422
    assert pay(client, clerk, 987654321, "5.00").status_code == 404
    client.post(
        f"/api/v1/invoices/{final['id']}/credit-notes",
        json={"reason": "issued in error"},
        headers=clerk,
    )
    on_void = pay(client, clerk, final["id"], "10.00")
    assert on_void.status_code == 409 and on_void.json()["code"] == "invoice_not_payable"
    assert (
        client.get("/api/v1/payments", params={"invoice_id": final["id"]}, headers=clerk).json()[
            "total"
        ]
        == 0
    )


def test_a_retried_payment_with_the_same_key_is_taken_once(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("50.00",))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = pay(client, {**clerk, **key}, invoice["id"], "20.00")
    second = pay(client, {**clerk, **key}, invoice["id"], "20.00")
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["receipt_number"] == second.json()["receipt_number"]
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["paid"] == "20.00"


def test_refund_from_credit_small_at_once_large_after_manager_approval(
    client, clerk, manager, factory, settings
):
    patient = make_patient(factory, settings)
    deposit = client.post(
        "/api/v1/payments",
        json={"patient_id": patient, "amount": "300.00", "method": "cash", "kind": "deposit"},
        headers=clerk,
    ).json()
    small = client.post(
        f"/api/v1/payments/{deposit['id']}/refunds",
        json={"amount": "20.00", "reason": "change of plans"},
        headers=clerk,
    )
    assert small.status_code == 201, small.text
    refund = small.json()
    assert refund["status"] == "completed"
    assert re.fullmatch(r"RFD-\d{4}-\d{6}", refund["refund"]["receipt_number"])
    assert refund["refund"]["method"] == "cash" and refund["refund"]["kind"] == "refund"
    large = client.post(
        f"/api/v1/payments/{deposit['id']}/refunds",
        json={"amount": "250.00", "reason": "treatment cancelled"},
        headers=clerk,
    ).json()
    assert large["status"] == "pending_approval" and large["refund"] is None
    pending = client.get(
        "/api/v1/billing/approvals", params={"kind": "refund"}, headers=manager
    ).json()["items"]
    assert large["approval_id"] in [a["id"] for a in pending]
    decided = client.post(
        f"/api/v1/billing/approvals/{large['approval_id']}/approve", headers=manager
    )
    assert decided.status_code == 200, decided.text
    done = client.post(
        f"/api/v1/payments/{deposit['id']}/refunds",
        json={"amount": "250.00", "reason": "treatment cancelled"},
        headers=clerk,
    ).json()
    assert done["status"] == "completed" and done["approval_id"] == large["approval_id"]
    account = client.get(f"/api/v1/patients/{patient}/account", headers=clerk).json()
    assert account["credit"] == "30.00"
    too_much = client.post(
        f"/api/v1/payments/{deposit['id']}/refunds",
        json={"amount": "40.00", "reason": "more please"},
        headers=clerk,
    )
    assert too_much.status_code == 409
    original = client.get(f"/api/v1/payments/{deposit['id']}", headers=clerk).json()
    assert original["refunded"] == "270.00"


def test_money_still_on_an_invoice_is_not_refundable_without_a_credit_note(
    client, clerk, factory, settings
):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("40.00",))
    payment = pay(client, clerk, invoice["id"], "40.00").json()
    refused = client.post(
        f"/api/v1/payments/{payment['id']}/refunds",
        json={"amount": "40.00", "reason": "patient unhappy"},
        headers=clerk,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_credit"
    client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "goodwill"}, headers=clerk
    )
    allowed = client.post(
        f"/api/v1/payments/{payment['id']}/refunds",
        json={"amount": "40.00", "reason": "patient unhappy"},
        headers=clerk,
    )
    assert allowed.status_code == 201 and allowed.json()["status"] == "completed"


@pytest.mark.parametrize("role", ["doctor", "nurse", "receptionist", "pharmacist", "manager"])
def test_only_the_billing_clerk_takes_money(client, clerk, factory, settings, role, headers_for):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("10.00",))
    refused = pay(client, headers_for(role), invoice["id"], "10.00")
    assert refused.status_code == 403
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["paid"] == "0.00"
