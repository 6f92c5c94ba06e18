"""Card payments through the gateway simulator process: intent → the customer confirms at
the terminal → the gateway calls the real server's webhook with an HMAC signature. A bad
signature, an old timestamp or a tampered body is refused; a duplicate or replay of a
processed event changes nothing; a declined card fails the intent."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from hms_server.adapters.billing.card_gateway import SIGNATURE_HEADER, sign_payload
from tests.conftest import TEST_PASSWORD
from tests.server.billing_factories import finalised_invoice
from tests.server.billing_simulators import (
    API_KEY,
    WEBHOOK_SECRET,
    serve,
    start_simulator,
    stop_simulator,
)


@pytest.fixture(scope="module")
def gateway():  # type: ignore[no-untyped-def]
    sim = start_simulator(
        "gateway_simulator", "--api-key", API_KEY, "--webhook-secret", WEBHOOK_SECRET
    )
    yield sim
    stop_simulator(sim)


@pytest.fixture(scope="module")
def server(db, gateway, make_user):  # type: ignore[no-untyped-def]
    from hms_server.app import create_app

    app = create_app(
        db.settings(
            card_gateway_url=gateway.url,
            card_gateway_api_key=API_KEY,
            card_gateway_webhook_secret=WEBHOOK_SECRET,
        )
    )
    with serve(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        gateway.post("/_sim/config", {"webhook_url": url + "/api/v1/payments/gateway-webhook"})
        username, password = make_user("billing_clerk")[:2]
        token = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password or TEST_PASSWORD}
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


def _wait_for(client, intent_id, status, seconds=10):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/payments/card-intents/{intent_id}").json()
        if body["status"] == status:
            return body
        time.sleep(0.1)
    raise AssertionError(f"intent {intent_id} never became {status}: {body}")


def _intent(client, invoice_id, amount):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/payments/card-intents", json={"invoice_id": invoice_id, "amount": amount}
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return response.json()


def test_a_card_payment_settles_by_the_signed_webhook_exactly_once(
    server, gateway, factory, settings
):
    invoice = finalised_invoice(server, {}, factory, settings, prices=("64.90",))
    intent = _intent(server, invoice["id"], "64.90")
    held = gateway.get("/_sim/intents")["intents"]
    assert any(
        i["id"] == intent["gateway_intent_id"] and i["amount"] == 6490 and i["currency"] == "eur"
        for i in held
    )
    confirmed = gateway.post(
        f"/_sim/intents/{intent['gateway_intent_id']}/confirm", {"outcome": "succeeded"}
    )
    assert confirmed["status_code"] == 200
    settled = _wait_for(server, intent["id"], "succeeded")
    assert settled["receipt_number"].startswith("RCT-") and settled["payment_id"]
    paid = server.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert paid["status"] == "paid" and paid["paid"] == "64.90"
    # The gateway delivers the same event again (its retry), and an attacker replays it.
    duplicate = gateway.post("/_sim/redeliver", {"event_id": confirmed["event_id"]})
    assert duplicate["status_code"] == 200
    same_bytes = gateway.post(
        "/_sim/redeliver", {"event_id": confirmed["event_id"], "resign": False}
    )
    assert same_bytes["status_code"] == 200
    stale = gateway.post(
        "/_sim/redeliver", {"event_id": confirmed["event_id"], "timestamp_offset": -3600}
    )
    assert stale["status_code"] == 400
    tampered = gateway.post(
        "/_sim/redeliver", {"event_id": confirmed["event_id"], "tamper": True, "resign": False}
    )
    assert tampered["status_code"] == 400
    payments = server.get("/api/v1/payments", params={"invoice_id": invoice["id"]}).json()
    assert payments["total"] == 1


def test_a_declined_card_fails_the_intent_and_takes_no_money(server, gateway, factory, settings):
    invoice = finalised_invoice(server, {}, factory, settings, prices=("20.00",))
    intent = _intent(server, invoice["id"], "20.00")
    gateway.post(f"/_sim/intents/{intent['gateway_intent_id']}/confirm", {"outcome": "declined"})
    failed = _wait_for(server, intent["id"], "failed")
    assert failed["failure_reason"] == "card_declined" and failed["payment_id"] is None
    assert server.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] == "0.00"


def test_forged_or_stale_webhooks_are_refused_before_anything_is_read(server):
    body = json.dumps(
        {
            "id": "evt_forged",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {"id": "pi_x", "amount": 1, "currency": "eur", "status": "succeeded"}
            },
        }
    ).encode()
    now = int(time.time())
    cases = {
        "missing": {},
        "wrong secret": {SIGNATURE_HEADER: sign_payload("not-the-secret", now, body)},
        "old": {SIGNATURE_HEADER: sign_payload(WEBHOOK_SECRET, now - 3600, body)},
        "garbage": {SIGNATURE_HEADER: "t=abc,v1="},
    }
    for name, headers in cases.items():
        response = server.post(
            "/api/v1/payments/gateway-webhook",
            content=body,
            headers={**headers, "Authorization": ""},
        )
        assert response.status_code == 400, (name, response.text)
        assert response.json()["code"] == "invalid_webhook"
    unknown = server.post(
        "/api/v1/payments/gateway-webhook",
        content=body,
        headers={SIGNATURE_HEADER: sign_payload(WEBHOOK_SECRET, now, body), "Authorization": ""},
    )
    assert unknown.status_code == 200 and unknown.json()["status"] == "unknown_intent"


def test_a_gateway_that_is_down_leaves_nothing_behind(server, gateway, factory, settings):
    invoice = finalised_invoice(server, {}, factory, settings, prices=("15.00",))
    gateway.post("/_sim/behaviour", {"down": True})
    try:
        refused = server.post(
            "/api/v1/payments/card-intents", json={"invoice_id": invoice["id"], "amount": "15.00"}
        )
    finally:
        gateway.post("/_sim/behaviour", {"down": False})
    assert refused.status_code == 503 and refused.json()["code"] == "gateway_unavailable"
    assert refused.headers.get("Retry-After") == "5"


def test_a_card_refund_goes_back_through_the_gateway(server, gateway, factory, settings):
    invoice = finalised_invoice(server, {}, factory, settings, prices=("30.00",))
    intent = _intent(server, invoice["id"], "30.00")
    gateway.post(f"/_sim/intents/{intent['gateway_intent_id']}/confirm", {"outcome": "succeeded"})
    settled = _wait_for(server, intent["id"], "succeeded")
    server.post(f"/api/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "not treated"})
    refund = server.post(
        f"/api/v1/payments/{settled['payment_id']}/refunds",
        json={"amount": "30.00", "reason": "not treated"},
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["refund"]["reference"].startswith("re_")
    refunds = gateway.get("/_sim/intents")["refunds"]
    assert any(
        r["payment_intent"] == intent["gateway_intent_id"] and r["amount"] == 3000 for r in refunds
    )
