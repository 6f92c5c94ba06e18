"""Insurance end to end against the payer simulator process (FHIR R4): eligibility, the
payer/patient split on an invoice, claim batches adjudicated per line, remittances,
rejected amounts billed to the patient or written off with a manager's approval,
pre-authorisations, and a payer that is down or slow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from tests.server.billing_factories import charge, code, draft, pay, price_item
from tests.server.billing_simulators import start_simulator, stop_simulator
from tests.server.scheduling_factories import make_patient


@pytest.fixture(scope="module")
def payer_sim():  # type: ignore[no-untyped-def]
    sim = start_simulator("payer_simulator")
    yield sim
    stop_simulator(sim)


@pytest.fixture(scope="module")
def env(db, payer_sim, make_user):  # type: ignore[no-untyped-def]
    from hms_server.app import create_app

    app = create_app(
        db.settings(payer_fhir_url=payer_sim.url, payer_timeout_seconds=1.0, payer_retries=1)
    )
    with TestClient(app, raise_server_exceptions=False) as client:

        def login(role: str) -> dict[str, str]:
            username, password = make_user(role)[:2]
            token = client.post(
                "/api/v1/auth/login",
                json={"username": username, "password": password or TEST_PASSWORD},
            ).json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        yield client, login("billing_clerk"), login("manager")


@pytest.fixture(autouse=True)
def _fresh_rules(payer_sim):  # type: ignore[no-untyped-def]
    payer_sim.post("/_sim/reset")


@pytest.fixture(scope="module")
def factory(db):  # type: ignore[no-untyped-def]
    return db.owner_session_factory()


def _plan(client, clerk, **rules):  # type: ignore[no-untyped-def]
    payer = client.post(
        "/api/v1/payers", json={"code": code("PAY"), "name": "Acme Health"}, headers=clerk
    )
    assert payer.status_code == 201, payer.text
    plan = client.post(
        "/api/v1/insurance-plans",
        json={
            "payer_id": payer.json()["id"],
            "code": code("PLAN"),
            "name": "Acme Gold",
            "coverage": [
                {"category": "imaging", "percent": "80"},
                {"category": "procedure", "percent": "100"},
            ],
            **rules,
        },
        headers=clerk,
    )
    assert plan.status_code == 201, plan.text
    return payer.json(), plan.json()


def _policy(client, clerk, patient, plan, member=None):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/api/v1/patients/{patient}/policies",
        json={
            "plan_id": plan["id"],
            "member_number": member or code("M"),
            "valid_from": "2020-01-01",
        },
        headers=clerk,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_eligibility_is_asked_over_fhir_and_kept_on_the_policy(env, payer_sim, factory, settings):
    client, clerk, _ = env
    _, plan = _plan(client, clerk)
    patient = make_patient(factory, settings)
    good = _policy(client, clerk, patient, plan)
    lapsed = _policy(client, clerk, patient, plan, member=code("M") + "-X")
    yes = client.post(f"/api/v1/policies/{good['id']}/eligibility", headers=clerk)
    assert yes.status_code == 200, yes.text
    assert yes.json()["status"] == "eligible" and yes.json()["in_force"] is True
    assert yes.json()["benefits"] and yes.json()["payer_reference"].startswith("ELG-")
    no = client.post(f"/api/v1/policies/{lapsed['id']}/eligibility", headers=clerk).json()
    assert no["status"] == "not_eligible" and "not in force" in no["note"]
    sent = [
        r["identifier"]
        for r in payer_sim.get("/_sim/requests")["requests"]
        if r["type"] == "CoverageEligibilityRequest"
    ]
    assert sent[-2:] == [
        f"policy-{good['id']}-{yes.json()['checked_at'][:10]}",
        f"policy-{lapsed['id']}-{yes.json()['checked_at'][:10]}",
    ]
    policies = client.get(f"/api/v1/patients/{patient}/policies", headers=clerk).json()
    assert {p["eligibility"] for p in policies["items"]} == {"eligible", "not_eligible"}


def test_a_payer_that_is_down_or_too_slow_is_a_clear_503(env, payer_sim, factory, settings):
    client, clerk, _ = env
    _, plan = _plan(client, clerk)
    policy = _policy(client, clerk, make_patient(factory, settings), plan)
    payer_sim.post("/_sim/behaviour", {"down": True})
    down = client.post(f"/api/v1/policies/{policy['id']}/eligibility", headers=clerk)
    assert down.status_code == 503 and down.json()["code"] == "payer_unavailable"
    assert down.headers["Retry-After"] == "30"
    payer_sim.post("/_sim/behaviour", {"down": False, "delay_seconds": 2.5})
    slow = client.post(f"/api/v1/policies/{policy['id']}/eligibility", headers=clerk)
    assert slow.status_code == 503 and "timed out" in slow.json()["detail"]
    payer_sim.post("/_sim/behaviour", {"delay_seconds": 0})
    listed = client.get(f"/api/v1/patients/{policy['patient_id']}/policies", headers=clerk).json()[
        "items"
    ][0]
    assert listed["eligibility"] == "error"


def test_split_claim_adjudication_remittance_and_rejection_to_patient(
    env, payer_sim, factory, settings
):
    client, clerk, _ = env
    payer, plan = _plan(client, clerk, copay="10.00")
    patient = make_patient(factory, settings)
    _policy(client, clerk, patient, plan)
    scan = price_item(client, clerk, unit_price="200.00", category="imaging")
    stitch = price_item(client, clerk, unit_price="50.00", category="procedure")
    drink = price_item(client, clerk, unit_price="5.00", category="service")
    ids = [charge(client, clerk, patient, item)["id"] for item in (scan, stitch, drink)]
    invoice = draft(client, clerk, patient, ids)
    assert invoice["policy_id"] is not None and invoice["payer_name"] == "Acme Health"
    # Covered: 160 (80 % of 200) + 50 (100 %) + 0 = 210, less the 10.00 co-payment.
    assert (invoice["payer_due"], invoice["patient_due"], invoice["copay"]) == (
        "200.00",
        "55.00",
        "10.00",
    )
    shares = {line["code"]: line["payer_share"] for line in invoice["lines"]}
    assert sum(Decimal(v) for v in shares.values()) == Decimal("200.00")
    assert shares[drink["code"]] == "0.00"
    final = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk).json()
    to_submit = client.get(
        "/api/v1/claims", params={"worklist": "to_submit", "payer_id": payer["id"]}, headers=clerk
    ).json()["items"]
    assert [c["invoice_number"] for c in to_submit] == [final["number"]]
    assert to_submit[0]["claimed"] == "200.00"
    payer_sim.post("/_sim/rules", {"rejected_codes": [stitch["code"]]})
    batch = client.post("/api/v1/claim-batches", json={"payer_id": payer["id"]}, headers=clerk)
    assert batch.status_code == 201, batch.text
    claim = batch.json()["claims"][0]
    assert batch.json()["number"].startswith("CLB-")
    assert (claim["status"], claim["rejected"]) == (
        "partly_approved",
        str(Decimal(claim["claimed"]) - Decimal(claim["approved"])),
    )
    assert any("Not covered" in r for r in claim["rejection_reasons"])
    sent = [r for r in payer_sim.get("/_sim/requests")["requests"] if r["type"] == "Claim"]
    assert [r["use"] for r in sent] == ["claim"]
    assert pay(client, clerk, final["id"], "55.00").status_code == 201
    remitted = client.post(
        f"/api/v1/claims/{claim['id']}/remittance",
        json={"amount": claim["approved"], "reference": "REMIT-991"},
        headers=clerk,
    )
    assert remitted.status_code == 201, remitted.text
    assert remitted.json()["method"] == "insurance"
    over = client.post(
        f"/api/v1/claims/{claim['id']}/remittance",
        json={"amount": "1.00", "reference": "REMIT-992"},
        headers=clerk,
    )
    assert over.status_code == 422
    rejected = client.get("/api/v1/claims", params={"worklist": "rejected"}, headers=clerk).json()[
        "items"
    ]
    assert claim["id"] in [c["id"] for c in rejected]
    moved = client.post(
        f"/api/v1/claims/{claim['id']}/rejection",
        json={"action": "bill_patient", "reason": "not covered by the plan"},
        headers=clerk,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "paid"
    after = client.get(f"/api/v1/invoices/{final['id']}", headers=clerk).json()
    assert Decimal(after["patient_due"]) == Decimal("55.00") + Decimal(claim["rejected"])
    assert after["patient_balance"] == claim["rejected"] and after["status"] == "partly_paid"
    statement = client.get(
        f"/api/v1/patients/{patient}/statement", params={"from": "2020-01-01"}, headers=clerk
    ).json()
    assert statement["closing_balance"] == claim["rejected"]


def test_a_rejected_claim_is_written_off_only_with_a_managers_approval(
    env, payer_sim, factory, settings
):
    client, clerk, manager = env
    payer, plan = _plan(client, clerk)
    patient = make_patient(factory, settings)
    _policy(client, clerk, patient, plan)
    item = price_item(client, clerk, unit_price="120.00", category="procedure")
    invoice = draft(client, clerk, patient, [charge(client, clerk, patient, item)["id"]])
    final = client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk).json()
    payer_sim.post("/_sim/rules", {"rejected_codes": [item["code"]]})
    claim = client.post(
        "/api/v1/claim-batches", json={"payer_id": payer["id"]}, headers=clerk
    ).json()["claims"][0]
    assert claim["status"] == "rejected" and claim["approved"] == "0.00"
    asked = client.post(
        f"/api/v1/claims/{claim['id']}/rejection",
        json={"action": "write_off", "reason": "payer error, not worth pursuing"},
        headers=clerk,
    )
    assert asked.json()["rejection_resolution"] == "write_off_pending"
    approval = next(
        a
        for a in client.get(
            "/api/v1/billing/approvals", params={"kind": "write_off"}, headers=manager
        ).json()["items"]
        if a["claim_id"] == claim["id"]
    )
    assert (
        client.post(
            f"/api/v1/billing/approvals/{approval['id']}/approve", headers=manager
        ).status_code
        == 200
    )
    after = client.get(f"/api/v1/invoices/{final['id']}", headers=clerk).json()
    assert (after["written_off"], after["balance"], after["status"]) == ("120.00", "0.00", "paid")
    assert client.get(f"/api/v1/claims/{claim['id']}", headers=clerk).json()["status"] == "closed"


def test_batch_submission_with_the_payer_down_records_nothing(env, payer_sim, factory, settings):
    client, clerk, _ = env
    payer, plan = _plan(client, clerk)
    patient = make_patient(factory, settings)
    _policy(client, clerk, patient, plan)
    item = price_item(client, clerk, unit_price="80.00", category="procedure")
    invoice = draft(client, clerk, patient, [charge(client, clerk, patient, item)["id"]])
    client.post(f"/api/v1/invoices/{invoice['id']}/finalize", headers=clerk)
    payer_sim.post("/_sim/behaviour", {"down": True})
    failed = client.post("/api/v1/claim-batches", json={"payer_id": payer["id"]}, headers=clerk)
    assert failed.status_code == 503
    claims = client.get("/api/v1/claims", params={"payer_id": payer["id"]}, headers=clerk).json()[
        "items"
    ]
    assert [c["status"] for c in claims] == ["ready"] and claims[0]["batch_id"] is None
    payer_sim.post("/_sim/behaviour", {"down": False})
    ok = client.post("/api/v1/claim-batches", json={"payer_id": payer["id"]}, headers=clerk)
    assert ok.status_code == 201 and ok.json()["claims"][0]["status"] == "approved"


def test_preauthorisation_approved_or_pended(env, payer_sim, factory, settings):
    client, clerk, _ = env
    _, plan = _plan(client, clerk)
    policy = _policy(client, clerk, make_patient(factory, settings), plan)
    small = client.post(
        "/api/v1/preauthorizations",
        json={
            "policy_id": policy["id"],
            "kind": "procedure",
            "description": "Knee arthroscopy",
            "amount": "1800.00",
        },
        headers=clerk,
    )
    assert small.status_code == 201, small.text
    assert small.json()["status"] == "approved"
    assert small.json()["payer_reference"].startswith("PA-")
    large = client.post(
        "/api/v1/preauthorizations",
        json={
            "policy_id": policy["id"],
            "kind": "admission",
            "description": "Cardiac surgery",
            "amount": "25000.00",
        },
        headers=clerk,
    ).json()
    assert large["status"] == "pended"
    payer_sim.post("/_sim/behaviour", {"down": True})
    queued = client.post(
        "/api/v1/preauthorizations",
        json={
            "policy_id": policy["id"],
            "kind": "procedure",
            "description": "MRI",
            "amount": "400.00",
        },
        headers=clerk,
    ).json()
    assert queued["status"] == "pending_submission"
    payer_sim.post("/_sim/behaviour", {"down": False})
    resent = client.post(f"/api/v1/preauthorizations/{queued['id']}/submit", headers=clerk)
    assert resent.status_code == 200 and resent.json()["status"] == "approved"
    uses = {r["use"] for r in payer_sim.get("/_sim/requests")["requests"] if r["type"] == "Claim"}
    assert uses == {"preauthorization"}
