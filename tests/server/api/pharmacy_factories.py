"""Factories for the pharmacy API tests: a private dispensing location per test, stock items
linked to formulary drugs with unique GTINs, receipts, and prescriptions to dispense."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.server.api.clinical_factories import (
    Clinician,
    book_with,
    drug_id,
    new_clinician,
    new_patient,
    open_encounter,
    rx_item,
)

__all__ = [
    "Clinician",
    "Pharmacy",
    "drug_id",
    "gs1",
    "gtin13",
    "new_clinician",
    "new_patient",
    "open_encounter",
    "rx_item",
]


def gtin13() -> str:
    """A random, valid GTIN-13 (check digit computed), unique enough per test."""
    body = "590" + "".join(random.choice("0123456789") for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def gs1(
    gtin: str, lot: str | None = None, expiry: date | None = None, serial: str | None = None
) -> str:
    """A GS1 DataMatrix element string as a keyboard-wedge scanner sends it (``]d2`` prefix,
    <GS> after variable-length fields)."""
    text = "]d201" + gtin.zfill(14)
    if expiry:
        text += "17" + expiry.strftime("%y%m%d")
    if lot:
        text += "10" + lot + ("\x1d" if serial else "")
    if serial:
        text += "21" + serial
    return text


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass
class Pharmacy:
    """A pharmacist's session and a private dispensing location (so FEFO sees only this
    test's stock)."""

    client: Any
    headers: dict[str, str]
    location_id: int

    def item(
        self,
        drug: int | None,
        *,
        kind: str = "medicine",
        unit: str = "tablet",
        divisible: bool = False,
        packs: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        code = "T" + uuid.uuid4().hex[:10].upper()
        body = {
            "code": code,
            "name": f"Item {code}",
            "kind": kind,
            "base_unit": unit,
            "divisible": divisible,
            **extra,
        }
        if drug is not None:
            body["drug_id"] = drug
        if packs is not None:
            body["packs"] = packs
        response = self.client.post("/api/v1/stock-items", headers=self.headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def receive(
        self,
        item_id: int,
        quantity: int | str = 50,
        *,
        lot: str | None = None,
        expiry_days: int = 400,
        unit_cost: str = "0.25",
        location_id: int | None = None,
    ) -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/goods-receipts",
            headers=self.headers,
            json={
                "location_id": location_id or self.location_id,
                "lines": [
                    {
                        "item_id": item_id,
                        "lot": lot or "L" + uuid.uuid4().hex[:8].upper(),
                        "expiry": in_days(expiry_days),
                        "quantity": quantity,
                        "unit_cost": unit_cost,
                    }
                ],
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    def stock(self, item_id: int, location_id: int | None = None, **params: Any) -> dict[str, Any]:
        response = self.client.get(
            "/api/v1/stock",
            headers=self.headers,
            params={"item_id": item_id, "location_id": location_id or self.location_id, **params},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def on_hand(self, item_id: int, location_id: int | None = None) -> int:
        rows = self.stock(item_id, location_id)["items"]
        return sum(int(str(r["quantity"])) for r in rows)

    def dispense(
        self,
        prescription: dict[str, Any],
        quantity: int | str = 1,
        *,
        item_index: int = 0,
        **extra: Any,
    ) -> Any:
        line = {
            "prescription_item_id": prescription["items"][item_index]["id"],
            "quantity": quantity,
        }
        line.update(extra.pop("line", {}))
        return self.client.post(
            "/api/v1/dispenses",
            headers=self.headers,
            json={
                "prescription_id": prescription["id"],
                "location_id": self.location_id,
                "lines": [line],
                **extra,
            },
        )


def new_pharmacy(client: Any, make_user: Any, login: Any) -> Pharmacy:
    username, password = make_user("pharmacist")[:2]
    headers = login(username, password)
    code = "PH" + uuid.uuid4().hex[:8].upper()
    response = client.post(
        "/api/v1/locations",
        headers=headers,
        json={
            "code": code,
            "name": f"Test pharmacy {code}",
            "kind": "pharmacy",
            "dispensing": True,
        },
    )
    assert response.status_code == 201, response.text
    return Pharmacy(client, headers, response.json()["id"])


def prescribe(
    client: Any, doctor: Clinician, patient_id: int, *drugs: int, quantity: int = 14, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/prescriptions",
        headers=doctor.headers,
        json={
            "patient_id": patient_id,
            "items": [rx_item(d, quantity=quantity) for d in drugs],
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def patient_with_doctor(client: Any, headers_for: Any, doctor: Clinician) -> int:
    """A new patient booked with ``doctor`` (the relationship that lets them chart and
    prescribe), with an open encounter."""
    pid = int(new_patient(client, headers_for)["id"])
    book_with(client, headers_for, doctor, pid)
    open_encounter(client, doctor, pid)
    return pid
