"""Test data for billing, made through the HTTP API (the way a clerk would) or the services,
with unique codes per call so tests never share rows."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from tests.server.scheduling_factories import make_patient


def code(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def price_item(
    client: Any,
    headers: dict[str, str],
    *,
    unit_price: str = "40.00",
    tax_rate: str = "0",
    category: str = "procedure",
    **extra: Any,
) -> dict:
    body = {
        "code": code(),
        "name": f"Service {uuid.uuid4().hex[:6]}",
        "category": category,
        "unit_price": unit_price,
        "tax_rate": tax_rate,
        **extra,
    }
    response = client.post("/api/v1/price-items", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def charge(
    client: Any,
    headers: dict[str, str],
    patient_id: int,
    item: dict,
    *,
    quantity: str = "1",
    reason: str = "Dressing change at the desk",
) -> dict:
    response = client.post(
        "/api/v1/charges",
        json={
            "patient_id": patient_id,
            "price_item_code": item["code"],
            "quantity": quantity,
            "reason": reason,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def draft(
    client: Any, headers: dict[str, str], patient_id: int, charge_ids: list[int] | None = None
) -> dict:
    body: dict[str, Any] = {"patient_id": patient_id}
    if charge_ids is not None:
        body["charge_ids"] = charge_ids
    response = client.post("/api/v1/invoices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def finalised_invoice(
    client: Any,
    headers: dict[str, str],
    factory: Any,
    settings: Any,
    *,
    prices: tuple[str, ...] = ("40.00",),
    tax_rate: str = "0",
    patient_id: int | None = None,
) -> dict:
    """A patient with one charge per price, invoiced and finalised."""
    patient_id = patient_id or make_patient(factory, settings)
    ids = [
        charge(
            client,
            headers,
            patient_id,
            price_item(client, headers, unit_price=p, tax_rate=tax_rate),
        )["id"]
        for p in prices
    ]
    invoice = draft(client, headers, patient_id, ids)
    done = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=headers)
    assert done.status_code == 200, done.text
    return done.json()


def pay(
    client: Any,
    headers: dict[str, str],
    invoice_id: int,
    amount: str,
    method: str = "cash",
    **extra: Any,
) -> Any:
    return client.post(
        "/api/v1/payments",
        json={"invoice_id": invoice_id, "amount": amount, "method": method, **extra},
        headers=headers,
    )


def money(value: str) -> Decimal:
    assert isinstance(value, str), f"money must travel as a decimal string, got {value!r}"
    return Decimal(value)
