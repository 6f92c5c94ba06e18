"""Billing desktop tests run against the real server (``live_server``) on PostgreSQL: data is
made through the same typed API the workspace uses, as a billing clerk would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from hms_contract.billing import ChargeCreate
from hms_desktop.api.billing import BillingApi
from hms_desktop.api.client import ApiClient


def signed_in(url: str, made: tuple, workstation: str = "BILLING-TEST") -> ApiClient:
    api = ApiClient(url, workstation=workstation, retry_backoff=0.0)
    api.login(made[0], made[1], None)
    return api


@dataclass
class Patient:
    id: int
    name: str
    mrn: str


def register_patient(
    api: ApiClient, given: str = "Αλέξανδρος", family: str | None = None
) -> Patient:
    family = family or "Иванов" + uuid.uuid4().hex[:4]
    created = api.post(
        "/patients",
        {
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1975-03-14",
            "sex": "male",
            "confirm_new": True,
        },
        creates=True,
    )
    return Patient(created["id"], f"{given} {family}", created["mrn"])


def price_item(
    api: ApiClient,
    price: str,
    *,
    tax: str = "0",
    category: str = "procedure",
    name: str = "Wound dressing",
) -> str:
    code = "D-" + uuid.uuid4().hex[:10].upper()
    api.post(
        "/price-items",
        {"code": code, "name": name, "category": category, "unit_price": price, "tax_rate": tax},
        creates=True,
    )
    return code


def charge(billing: BillingApi, patient_id: int, code: str, quantity: str = "1") -> int:
    return billing.add_charge(
        ChargeCreate(
            patient_id=patient_id,
            price_item_code=code,
            quantity=Decimal(quantity),
            reason="Desk test",
        )
    ).id
