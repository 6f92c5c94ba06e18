"""Billing printouts from real server data, read back as text (pypdf and pdftotext): the
invoice's lines, tax lines and totals add up and carry the number (also in the QR code);
names in Greek and Cyrillic survive; receipts, statements and claim summaries; and the
headless ``hms-desktop print invoice`` command."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader

from hms_contract.payments import PaymentCreate
from hms_desktop.api.billing import BillingApi
from hms_desktop.main import main as desktop_main
from hms_desktop.print_cli import render_document
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.printing.claim_summary import render_claim_summary
from hms_desktop.printing.invoice import render_invoice
from hms_desktop.printing.receipt import render_receipt
from hms_desktop.printing.statement import render_statement
from tests.conftest import TEST_PASSWORD
from tests.desktop.billing_fixtures import charge, price_item, register_patient, signed_in


@pytest.fixture
def clerk(live_server, make_user):
    made = make_user("billing_clerk")
    api = signed_in(live_server.url, made)
    yield api, made[0]
    api.close()


@pytest.fixture
def reception_api(live_server, make_user):
    api = signed_in(live_server.url, make_user("receptionist"))
    yield api
    api.close()


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _amounts(text: str, label: str) -> Decimal:
    found = re.search(rf"{label}\s*−?€([\d,]+\.\d\d)", text)
    assert found, f"{label} not in {text!r}"
    return Decimal(found.group(1).replace(",", ""))


def _invoice(clerk_api, reception_api):
    billing = BillingApi(clerk_api)
    patient = register_patient(reception_api)
    charge(
        billing,
        patient.id,
        price_item(clerk_api, "80.00", tax="20", category="imaging", name="X-ray, chest"),
    )
    charge(billing, patient.id, price_item(clerk_api, "12.35", name="Wound dressing"), "3")
    draft = billing.create_invoice(patient.id)
    return billing, patient, billing.finalize(draft.id, draft.version)


def test_invoice_pdf_has_letterhead_lines_tax_and_totals_that_add_up(clerk, reception_api):
    api, _ = clerk
    billing, patient, invoice = _invoice(api, reception_api)
    head = Letterhead.from_hospital(billing.hospital(), billing.logo())
    pdf = render_invoice(invoice, head)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _text(pdf)
    assert invoice.number in text and patient.mrn in text and head.name in text
    assert patient.name in text  # Greek and Cyrillic, in the shipped DejaVu font
    assert "X-ray, chest" in text and "Wound dressing" in text
    subtotal, tax, total = (
        _amounts(text, "Subtotal"),
        _amounts(text, "Tax\n?"),
        _amounts(text, "Total"),
    )
    assert subtotal + tax == total == invoice.total == Decimal("133.05")
    assert "20 %" in text and "16.00" in text
    assert _amounts(text, "Balance due") == invoice.balance


def test_the_invoice_qr_code_scans_back_to_its_number(clerk, reception_api, tmp_path):
    if not (shutil.which("zbarimg") and shutil.which("pdftoppm")):
        pytest.skip("zbar-tools and poppler-utils are needed to scan the printout")
    api, _ = clerk
    billing, _patient, invoice = _invoice(api, reception_api)
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(render_invoice(invoice, Letterhead.from_hospital(billing.hospital())))
    subprocess.run(["pdftoppm", "-png", "-r", "200", str(pdf), str(tmp_path / "page")], check=True)
    scanned = subprocess.run(
        ["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")], capture_output=True, text=True
    )
    assert invoice.number in scanned.stdout.split()


def test_receipt_statement_and_claim_summary_from_server_data(clerk, reception_api):
    api, _ = clerk
    billing, patient, invoice = _invoice(api, reception_api)
    payment = billing.pay(
        PaymentCreate(
            invoice_id=invoice.id,
            amount=Decimal("100.00"),
            method="cash",
            tendered=Decimal("120.00"),
        )
    )
    head = Letterhead.from_hospital(billing.hospital())
    receipt = _text(render_receipt(payment, head))
    assert payment.receipt_number in receipt and invoice.number in receipt
    assert "€100.00" in receipt and "€20.00" in receipt and patient.name in receipt
    statement = billing.statement(patient.id)
    text = _text(render_statement(statement, head))
    assert "Statement of" in text and invoice.number in text
    assert payment.receipt_number in text and "33.05" in text
    assert statement.closing_balance == Decimal("33.05")
    summary = _text(render_claim_summary([], head, payer_name="Acme Health"))
    assert "Claim summary" in summary and "Acme Health" in summary


def test_headless_print_command_writes_the_invoice_pdf(
    clerk, reception_api, live_server, tmp_path, monkeypatch, capsys
):
    api, username = clerk
    _billing, patient, invoice = _invoice(api, reception_api)
    target = tmp_path / "out" / "invoice.pdf"
    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    code = desktop_main(
        [
            "print",
            "invoice",
            invoice.number,
            "--pdf",
            str(target),
            "--server",
            live_server.url,
            "--user",
            username,
            "--password-stdin",
        ]
    )
    assert code == 0, capsys.readouterr().err
    text = _text(target.read_bytes())
    assert invoice.number in text and patient.mrn in text
    missing = tmp_path / "missing.pdf"
    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert (
        desktop_main(
            [
                "print",
                "invoice",
                "INV-1999-000001",
                "--pdf",
                str(missing),
                "--server",
                live_server.url,
                "--user",
                username,
                "--password-stdin",
            ]
        )
        == 1
    )
    assert not missing.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
    assert (
        desktop_main(
            [
                "print",
                "invoice",
                invoice.number,
                "--pdf",
                str(missing),
                "--server",
                live_server.url,
                "--user",
                username,
                "--password-stdin",
            ]
        )
        == 2
    )


def test_prints_are_audited_against_the_patient(clerk, reception_api, db):
    from sqlalchemy import select

    from hms_server.adapters.orm.infra import AuditEntry

    api, _ = clerk
    billing, patient, invoice = _invoice(api, reception_api)
    render_document(billing, "invoice", invoice.number)
    with db.owner_session_factory()() as session:
        rows = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.patient_id == patient.id, AuditEntry.action == "document.print"
                )
            )
        )
    assert rows and rows[0].detail["document"] == "invoice"
