"""Price list → manual charges → draft invoice → finalisation (gapless number, immutable),
discounts with approval, tax lines, credit notes — over HTTP as a billing clerk."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.server.billing_factories import (
    charge,
    draft,
    finalised_invoice,
    money,
    pay,
    price_item,
)
from tests.server.scheduling_factories import make_patient

AMOUNTS = ("subtotal", "tax", "discount", "total", "payer_due", "patient_due", "paid", "balance")


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


@pytest.fixture(scope="module")
def clerk(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("billing_clerk"))


@pytest.fixture(scope="module")
def manager(make_user, login):  # type: ignore[no-untyped-def]
    return login(*make_user("manager"))


def test_price_list_speaks_decimal_strings_and_refuses_extra_decimals(client, clerk):
    item = price_item(client, clerk, unit_price="12.5", tax_rate="20")
    assert item["unit_price"] == "12.50" and item["tax_rate"] == "20"
    assert item["tax_category"] == "standard"
    listed = client.get("/api/v1/price-items", params={"q": item["code"]}, headers=clerk).json()
    assert [i["code"] for i in listed["items"]] == [item["code"]]
    too_fine = client.post(
        "/api/v1/price-items",
        json={
            "code": "X-FINE-1",
            "name": "Too fine",
            "category": "service",
            "unit_price": "10.005",
        },
        headers=clerk,
    )
    assert too_fine.status_code == 422
    assert too_fine.json()["code"] == "too_many_decimals"
    as_float = client.post(
        "/api/v1/price-items",
        json={"code": "X-FLOAT-1", "name": "Float", "category": "service", "unit_price": 10.5},
        headers=clerk,
    )
    assert as_float.status_code == 422
    again = client.post(
        "/api/v1/price-items",
        json={
            "code": item["code"].lower(),
            "name": "Again",
            "category": "service",
            "unit_price": "1",
        },
        headers=clerk,
    )
    assert again.status_code == 409 and again.json()["code"] == "price_code_taken"


def test_a_price_change_never_alters_an_earlier_charge(client, clerk, factory, settings):
    from datetime import date, timedelta

    patient = make_patient(factory, settings)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    item = price_item(client, clerk, unit_price="30.00", effective_from=yesterday)
    before = charge(client, clerk, patient, item)
    changed = client.post(
        f"/api/v1/price-items/{item['id']}/prices",
        json={"unit_price": "45.00", "effective_from": date.today().isoformat()},
        headers=clerk,
    )
    assert changed.status_code == 201, changed.text
    after = charge(client, clerk, patient, item)
    assert (before["unit_price"], after["unit_price"]) == ("30.00", "45.00")
    old = client.get(f"/api/v1/price-items/{item['id']}", headers=clerk).json()
    assert old["effective_to"] == (date.today() - timedelta(days=1)).isoformat()
    charges = client.get(f"/api/v1/patients/{patient}/charges", headers=clerk).json()["items"]
    assert sorted(c["unit_price"] for c in charges) == ["30.00", "45.00"]


def test_charge_invoice_finalise_and_read_back_as_the_contract_says(
    client, clerk, factory, settings
):
    patient = make_patient(factory, settings)
    xray = price_item(client, clerk, unit_price="80.00", tax_rate="20", category="imaging")
    dressing = price_item(client, clerk, unit_price="12.35", tax_rate="0")
    first = charge(client, clerk, patient, xray)
    second = charge(client, clerk, patient, dressing, quantity="3")
    unbilled = client.get(
        f"/api/v1/patients/{patient}/charges", params={"status": "unbilled"}, headers=clerk
    ).json()
    assert {c["id"] for c in unbilled["items"]} == {first["id"], second["id"]}
    assert second["amount"] == "37.05"

    invoice = draft(client, clerk, patient)
    assert invoice["status"] == "draft" and invoice["number"] is None
    for key in AMOUNTS:
        money(invoice[key])
    assert [line["code"] for line in invoice["lines"]] == [xray["code"], dressing["code"]]
    assert invoice["subtotal"] == "117.05" and invoice["tax"] == "16.00"
    assert invoice["total"] == "133.05" and invoice["patient_due"] == "133.05"
    assert invoice["balance"] == "133.05" and invoice["paid"] == "0.00"
    assert {(t["tax_rate"], t["taxable"], t["tax"]) for t in invoice["tax_lines"]} == {
        ("20", "80.00", "16.00"),
        ("0", "37.05", "0.00"),
    }
    assert (
        client.get(
            f"/api/v1/patients/{patient}/charges", params={"status": "unbilled"}, headers=clerk
        ).json()["total"]
        == 0
    )

    done = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk)
    assert done.status_code == 200, done.text
    final = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    year = final["issued_on"][:4]
    assert re.fullmatch(rf"INV-{year}-\d{{6}}", final["number"])
    assert final["status"] == "finalised" and final["version"] > invoice["version"]
    assert sum(Decimal(line["total"]) for line in final["lines"]) == Decimal(final["total"])
    by_number = client.get(f"/api/v1/invoices/by-number/{final['number']}", headers=clerk)
    assert by_number.json()["id"] == final["id"]


def test_a_finalised_invoice_cannot_be_edited(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings)
    extra = charge(client, clerk, invoice["patient_id"], price_item(client, clerk))
    attempts = [
        client.patch(f"/api/v1/invoices/{invoice['id']}", json={"notes": "changed"}, headers=clerk),
        client.patch(f"/api/v1/invoices/{invoice['id']}", json={"lines": []}, headers=clerk),
        client.post(
            f"/api/v1/invoices/{invoice['id']}/charges",
            json={"charge_ids": [extra["id"]]},
            headers=clerk,
        ),
        client.post(
            f"/api/v1/invoices/{invoice['id']}/discounts",
            json={"kind": "percent", "value": "5", "reason": "loyal patient"},
            headers=clerk,
        ),
        client.delete(
            f"/api/v1/invoices/{invoice['id']}/lines/{invoice['lines'][0]['id']}", headers=clerk
        ),
        client.delete(f"/api/v1/invoices/{invoice['id']}", headers=clerk),
        client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk),
    ]
    for response in attempts:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "invoice_not_editable"
    assert (
        client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["number"]
        == invoice["number"]
    )


def test_draft_editing_moves_charges_between_unbilled_and_the_draft(
    client, clerk, factory, settings
):
    patient = make_patient(factory, settings)
    one, two = (
        charge(client, clerk, patient, price_item(client, clerk, unit_price=p))
        for p in ("10.00", "20.00")
    )
    invoice = draft(client, clerk, patient, [one["id"]])
    taken = client.post(
        "/api/v1/invoices", json={"patient_id": patient, "charge_ids": [one["id"]]}, headers=clerk
    )
    assert taken.status_code == 409 and taken.json()["code"] == "charge_not_unbilled"
    added = client.post(
        f"/api/v1/invoices/{invoice['id']}/charges",
        json={"charge_ids": [two["id"]], "version": invoice["version"]},
        headers=clerk,
    ).json()
    assert added["total"] == "30.00" and len(added["lines"]) == 2
    stale = client.patch(
        f"/api/v1/invoices/{invoice['id']}",
        json={"notes": "x", "version": invoice["version"]},
        headers=clerk,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    removed = client.delete(
        f"/api/v1/invoices/{invoice['id']}/lines/{added['lines'][0]['id']}", headers=clerk
    ).json()
    assert removed["total"] == "20.00"
    assert (
        client.get(
            f"/api/v1/patients/{patient}/charges", params={"status": "unbilled"}, headers=clerk
        ).json()["items"][0]["id"]
        == one["id"]
    )
    assert client.delete(f"/api/v1/invoices/{invoice['id']}", headers=clerk).status_code == 204
    assert (
        client.get(
            f"/api/v1/patients/{patient}/charges", params={"status": "unbilled"}, headers=clerk
        ).json()["total"]
        == 2
    )
    nothing = client.post(
        "/api/v1/invoices", json={"patient_id": make_patient(factory, settings)}, headers=clerk
    )
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_to_invoice"


def test_small_discount_applies_a_large_one_waits_for_a_manager(
    client, clerk, manager, factory, settings
):
    patient = make_patient(factory, settings)
    item = price_item(client, clerk, unit_price="100.00", tax_rate="10")
    invoice = draft(client, clerk, patient, [charge(client, clerk, patient, item)["id"]])
    line = invoice["lines"][0]["id"]
    small = client.post(
        f"/api/v1/invoices/{invoice['id']}/discounts",
        json={"line_id": line, "kind": "percent", "value": "5", "reason": "staff family"},
        headers=clerk,
    )
    assert small.status_code == 201, small.text
    body = small.json()
    assert body["discount"] == "5.00" and body["tax"] == "9.50" and body["total"] == "104.50"
    assert body["discounts"][0]["status"] == "approved"
    big = client.post(
        f"/api/v1/invoices/{invoice['id']}/discounts",
        json={"kind": "amount", "value": "60.00", "reason": "hardship case"},
        headers=clerk,
    ).json()
    pending = next(d for d in big["discounts"] if d["line_id"] is None)
    assert pending["status"] == "pending" and pending["amount"] == "60.00"
    assert big["total"] == "104.50"  # not applied until approved
    blocked = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk)
    assert blocked.status_code == 409 and blocked.json()["code"] == "approval_pending"
    own = client.post(f"/api/v1/billing/approvals/{pending['approval_id']}/approve", headers=clerk)
    assert own.status_code == 403
    approved = client.post(
        f"/api/v1/billing/approvals/{pending['approval_id']}/approve",
        json={"note": "agreed"},
        headers=manager,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    again = client.post(
        f"/api/v1/billing/approvals/{pending['approval_id']}/approve", headers=manager
    )
    assert again.status_code == 409
    now = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert now["discount"] == "65.00" and now["tax"] == "3.50" and now["total"] == "38.50"
    final = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk)
    assert final.status_code == 200 and final.json()["total"] == "38.50"


def test_credit_notes_reduce_then_void_and_release_paid_money_to_credit(
    client, clerk, factory, settings
):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("60.00", "40.00"))
    assert pay(client, clerk, invoice["id"], "100.00").status_code == 201
    partial = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"amount": "40.00", "reason": "test not performed"},
        headers=clerk,
    )
    assert partial.status_code == 201, partial.text
    note = partial.json()
    assert re.fullmatch(r"CN-\d{4}-\d{6}", note["number"])
    assert note["released_to_credit"] == "40.00" and not note["voids_invoice"]
    after = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert after["status"] == "paid" and after["credited"] == "40.00"
    assert after["balance"] == "0.00" and after["patient_paid"] == "60.00"
    account = client.get(f"/api/v1/patients/{invoice['patient_id']}/account", headers=clerk).json()
    assert account["credit"] == "40.00" and account["balance"] == "-40.00"
    rest = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "billed to the wrong patient"},
        headers=clerk,
    ).json()
    assert rest["amount"] == "60.00" and rest["voids_invoice"]
    void = client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()
    assert void["status"] == "void" and len(void["credit_notes"]) == 2
    assert (
        client.get(
            f"/api/v1/patients/{invoice['patient_id']}/charges",
            params={"status": "unbilled"},
            headers=clerk,
        ).json()["total"]
        == 2
    )
    more = client.post(
        f"/api/v1/invoices/{invoice['id']}/credit-notes",
        json={"reason": "once more"},
        headers=clerk,
    )
    assert more.status_code == 409
    too_much = finalised_invoice(client, clerk, factory, settings)
    refused = client.post(
        f"/api/v1/invoices/{too_much['id']}/credit-notes",
        json={"amount": "40.01", "reason": "too much"},
        headers=clerk,
    )
    assert refused.status_code == 422


def test_manual_charge_bad_input_is_a_clear_problem(client, clerk, factory, settings):
    patient = make_patient(factory, settings)
    cases = [
        (
            {"price_item_code": "NO-SUCH-CODE", "quantity": "1", "reason": "test"},
            422,
            "unknown_price_code",
        ),
        (
            {"price_item_code": "NO-SUCH-CODE", "quantity": "0", "reason": "test"},
            422,
            "validation_error",
        ),
        (
            {"price_item_code": "NO-SUCH-CODE", "quantity": "-2", "reason": "test"},
            422,
            "validation_error",
        ),
        ({"price_item_code": "NO-SUCH-CODE", "quantity": "1"}, 422, "validation_error"),
        ({"quantity": "1", "reason": "no item"}, 422, "validation_error"),
    ]
    for body, status, problem in cases:
        response = client.post(
            "/api/v1/charges", json={"patient_id": patient, **body}, headers=clerk
        )
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == problem
    assert client.get(f"/api/v1/patients/{patient}/charges", headers=clerk).json()["total"] == 0
    unknown_patient = client.post(
        "/api/v1/charges",
        json={"patient_id": 987654321, "price_item_code": "X", "reason": "test"},
        headers=clerk,
    )
    assert unknown_patient.status_code == 404


def test_a_credit_note_without_a_body_voids_the_whole_invoice(client, clerk, factory, settings):
    invoice = finalised_invoice(client, clerk, factory, settings, prices=("15.00",))
    note = client.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", headers=clerk)
    assert note.status_code == 201, note.text
    assert note.json()["voids_invoice"] and note.json()["amount"] == "15.00"
    assert client.get(f"/api/v1/invoices/{invoice['id']}", headers=clerk).json()["status"] == "void"
