"""The billing workspace driven like a clerk at the counter, against the real server: find
the patient, invoice the unbilled charges, finalise, take cash with change due, print the
receipt (preview), a discount that waits for the manager who approves it in their own
workspace, a 500-line invoice, and the cash-up."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from hms_contract.billing import InvoiceRead
from hms_desktop.api.billing import BillingApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.qt import QMessageBox
from hms_desktop.widgets.print_preview import PrintPreviewDialog
from hms_desktop.widgets.record_table import column_is_whole
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.billing.cashup_dialog import CashUpDialog
from hms_desktop.workspaces.billing.dialogs import PaymentDialog
from hms_desktop.workspaces.billing.patient_panel import PatientPanel
from hms_desktop.workspaces.billing.workspace import BillingWorkspace
from tests.desktop.billing_fixtures import charge, price_item, register_patient, signed_in


@pytest.fixture
def clerk_api(live_server, make_user):
    api = signed_in(live_server.url, make_user("billing_clerk"))
    yield api
    api.close()


@pytest.fixture
def reception_api(live_server, make_user):
    api = signed_in(live_server.url, make_user("receptionist"))
    yield api
    api.close()


def _workspace(qtbot, tasks, api) -> BillingWorkspace:
    workspace = BillingWorkspace(WorkspaceContext(api=api, tasks=tasks, me=api.me()))
    qtbot.addWidget(workspace)
    workspace.resize(1300, 800)
    workspace.show()
    qtbot.waitUntil(lambda: not workspace.loading, timeout=15000)
    return workspace


def _dialog(qtbot, workspace, kind):
    qtbot.waitUntil(lambda: any(d.isVisible() for d in workspace.findChildren(kind)), timeout=10000)
    return next(d for d in workspace.findChildren(kind) if d.isVisible())


def test_clerk_invoices_finalises_takes_cash_and_previews_the_receipt(
    qtbot, tasks, clerk_api, reception_api
):
    billing = BillingApi(clerk_api)
    patient = register_patient(reception_api)
    for price in ("40.00", "12.50"):
        charge(billing, patient.id, price_item(clerk_api, price))
    workspace = _workspace(qtbot, tasks, clerk_api)
    workspace.set_patient(PatientsApi(clerk_api).get(patient.id))
    qtbot.waitUntil(lambda: workspace.account.charges.rowCount() == 2, timeout=10000)
    assert patient.mrn in workspace.patient_label.text()
    assert "52.50" in workspace.account.summary.text()

    workspace.account.request_invoice()
    qtbot.waitUntil(lambda: workspace.invoice.invoice is not None, timeout=10000)
    draft = workspace.invoice.invoice
    assert draft.status == "draft" and draft.total == Decimal("52.50")
    assert workspace.tabs.currentWidget() is workspace.invoice
    assert workspace.invoice.buttons["finalize"].isEnabled()
    assert not workspace.invoice.buttons["pay"].isEnabled()

    workspace.invoice.buttons["finalize"].click()
    qtbot.waitUntil(lambda: workspace.invoice.invoice.number is not None, timeout=10000)
    assert workspace.invoice.invoice.number in workspace.invoice.title.text()
    assert workspace.invoice.buttons["pay"].isEnabled()
    assert not workspace.invoice.buttons["discount"].isEnabled()

    workspace.invoice.buttons["pay"].click()
    dialog = _dialog(qtbot, workspace, PaymentDialog)
    assert dialog.amount.text() == "52.50"
    dialog.tendered.setText("60")
    assert dialog.change.text().startswith("7.50")
    dialog.submit()
    preview = _dialog(qtbot, workspace, PrintPreviewDialog)
    qtbot.waitUntil(lambda: workspace.invoice.invoice.status == "paid", timeout=10000)
    assert b"%PDF" in preview.pdf[:8]
    from io import BytesIO

    from pypdf import PdfReader

    text = PdfReader(BytesIO(preview.pdf)).pages[0].extract_text()
    assert "RCT-" in text and "€52.50" in text and "€7.50" in text
    assert patient.name.split()[0] in text
    preview.close()


def test_a_large_discount_waits_for_the_manager_who_approves_it(
    qtbot, tasks, clerk_api, reception_api, live_server, make_user, monkeypatch
):
    billing = BillingApi(clerk_api)
    patient = register_patient(reception_api)
    charge(billing, patient.id, price_item(clerk_api, "300.00"))
    draft = billing.create_invoice(patient.id)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: told.append(text))
    workspace = _workspace(qtbot, tasks, clerk_api)
    workspace.open_invoice(draft.id)
    qtbot.waitUntil(lambda: workspace.invoice.invoice is not None, timeout=10000)
    workspace.invoice.buttons["discount"].click()
    from hms_desktop.workspaces.billing.dialogs import DiscountDialog

    dialog = _dialog(qtbot, workspace, DiscountDialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("percent"))
    dialog.value.setText("30")
    dialog.reason.setText("Long-term unemployed")
    dialog.submit()
    qtbot.waitUntil(lambda: bool(told), timeout=10000)
    assert "approval" in told[0]
    assert not workspace.invoice.buttons["finalize"].isEnabled()

    manager_api = signed_in(live_server.url, make_user("manager"))
    try:
        manager = _workspace(qtbot, tasks, manager_api)
        assert manager.account.isHidden() and manager.panel.model is None
        qtbot.waitUntil(
            lambda: any(a.invoice_id == draft.id for a in manager.approvals.model.rows),
            timeout=10000,
        )
        row = manager.approvals.model.find_row(lambda a: a.invoice_id == draft.id)
        manager.approvals.table.selectRow(row)
        manager.approvals.approve_button.click()
        qtbot.waitUntil(
            lambda: manager.approvals.model.find_row(lambda a: a.invoice_id == draft.id) < 0,
            timeout=10000,
        )
    finally:
        manager_api.close()
    workspace.open_invoice(draft.id)
    qtbot.waitUntil(lambda: workspace.invoice.invoice.discount == Decimal("90.00"), timeout=10000)
    assert workspace.invoice.buttons["finalize"].isEnabled()


def test_an_invoice_with_500_lines_opens_in_the_workspace(qtbot, tasks, clerk_api, reception_api):
    billing = BillingApi(clerk_api)
    patient = register_patient(reception_api)
    code = price_item(clerk_api, "1.25", tax="20")
    for _ in range(500):
        charge(billing, patient.id, code)
    invoice = billing.create_invoice(patient.id)
    assert isinstance(invoice, InvoiceRead) and len(invoice.lines) == 500
    workspace = _workspace(qtbot, tasks, clerk_api)
    workspace.open_invoice(invoice.id)
    qtbot.waitUntil(lambda: workspace.invoice.lines.rowCount() == 500, timeout=15000)
    model = workspace.invoice.lines
    assert model.index(499, 3).data() and model.index(499, 8).data() == "1.50"
    assert workspace.invoice.total_labels["total"].text() == "750.00 EUR"


def test_cash_up_shows_expected_totals_and_locks_after_submit(
    qtbot, tasks, clerk_api, reception_api
):
    billing = BillingApi(clerk_api)
    patient = register_patient(reception_api)
    charge(billing, patient.id, price_item(clerk_api, "80.00"))
    draft = billing.create_invoice(patient.id)
    final = billing.finalize(draft.id, draft.version)
    from hms_contract.payments import PaymentCreate

    billing.pay(PaymentCreate(invoice_id=final.id, amount=Decimal("80.00"), method="cash"))
    workspace = _workspace(qtbot, tasks, clerk_api)
    qtbot.waitUntil(lambda: "80.00" in workspace.drawer_label.text(), timeout=10000)
    workspace.cash_up()
    dialog = _dialog(qtbot, workspace, CashUpDialog)
    dialog.counted["cash"].setText("75.00")
    assert dialog.variance["cash"].text().startswith("-5.00")
    dialog.submit()
    assert dialog.isVisible() and "reason" in dialog.problem.message.text()
    dialog.reason.setText("Five euro note missing")
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert dialog.result_value.status == "submitted"
    assert billing.current_cash_session() is None


def test_screenshot_tour_shows_the_billing_workspace_with_an_account(
    qapp, live_server, make_user, reception_api, tmp_path
):
    from hms_contract.payments import PaymentCreate
    from hms_desktop.screenshot_tour import run_screenshot_tour

    made = make_user("billing_clerk")
    api = signed_in(live_server.url, made)
    try:
        billing = BillingApi(api)
        patient = register_patient(reception_api)
        charge(billing, patient.id, price_item(api, "90.00"))
        draft = billing.create_invoice(patient.id)
        final = billing.finalize(draft.id, draft.version)
        billing.pay(PaymentCreate(invoice_id=final.id, amount=Decimal("30.00"), method="cash"))
    finally:
        api.close()
    messages: list[str] = []
    code = run_screenshot_tour(live_server.url, made[0], made[1], tmp_path, log=messages.append)
    assert code == 0, messages
    image = tmp_path / "billing.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 20_000


def test_card_payment_waits_for_the_terminal_then_settles(
    qtbot, tasks, db, make_user, reception_api
):
    """The card path end to end: the clerk starts a terminal payment, the dialog waits, the
    customer confirms at the (simulated) terminal, the gateway's signed webhook settles it."""
    from hms_server.app import create_app
    from tests.server.billing_simulators import (
        API_KEY,
        WEBHOOK_SECRET,
        serve,
        start_simulator,
        stop_simulator,
    )

    gateway = start_simulator(
        "gateway_simulator", "--api-key", API_KEY, "--webhook-secret", WEBHOOK_SECRET
    )
    app = create_app(
        db.settings(
            card_gateway_url=gateway.url,
            card_gateway_api_key=API_KEY,
            card_gateway_webhook_secret=WEBHOOK_SECRET,
        )
    )
    try:
        with serve(app) as url:
            gateway.post("/_sim/config", {"webhook_url": url + "/api/v1/payments/gateway-webhook"})
            api = signed_in(url, make_user("billing_clerk"))
            try:
                billing = BillingApi(api)
                patient = register_patient(reception_api)
                charge(billing, patient.id, price_item(api, "64.90"))
                draft = billing.create_invoice(patient.id)
                invoice = billing.finalize(draft.id, draft.version)
                workspace = _workspace(qtbot, tasks, api)
                assert workspace.settings.gateway_configured
                workspace.open_invoice(invoice.id)
                qtbot.waitUntil(lambda: workspace.invoice.invoice is not None, timeout=10000)
                workspace.invoice.buttons["pay"].click()
                dialog = _dialog(qtbot, workspace, PaymentDialog)
                dialog.methods["terminal"].setChecked(True)
                dialog.submit()
                qtbot.waitUntil(lambda: dialog.waiting.isVisible(), timeout=10000)
                assert not dialog.buttons.isVisible()
                intent = billing.card_payment(dialog.intent_id)
                assert intent.status == "pending"
                gateway.post(
                    f"/_sim/intents/{intent.gateway_intent_id}/confirm", {"outcome": "succeeded"}
                )
                qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=15000)
                assert dialog.result_value.status == "succeeded"
                _dialog(qtbot, workspace, PrintPreviewDialog).close()
                qtbot.waitUntil(lambda: workspace.invoice.invoice.status == "paid", timeout=10000)
                tasks.wait_for_done(5000)
            finally:
                api.close()
    finally:
        stop_simulator(gateway)


def test_patient_search_shows_names_mrns_and_birth_dates_whole(
    qtbot, tasks, clerk_api, reception_api
):
    # Two namesakes with long names: the desk must tell them apart, never "Nowak-…".
    family = "Nowak-Wiśniewska-Szczepańska" + uuid.uuid4().hex[:4]
    for _ in range(2):
        register_patient(reception_api, given="Maria-Magdalena Konstantina", family=family)
    workspace = _workspace(qtbot, tasks, clerk_api)
    panel = workspace.findChild(PatientPanel)
    panel.search_edit.setText(family)
    panel.search_now()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    qtbot.waitUntil(lambda: all(column_is_whole(panel.table, c) for c in (0, 1, 2)), timeout=15000)
