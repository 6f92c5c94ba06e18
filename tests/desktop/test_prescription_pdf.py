"""Prescription PDF: the text a pharmacist needs is on the page, the barcode is drawn, and
long prescriptions flow onto more pages that still name the patient."""

from __future__ import annotations

import io
from datetime import datetime

from pypdf import PdfReader

from hms_contract.prescribing import PrescriptionRead
from hms_desktop.printing.prescription import HospitalInfo, render_prescription

HOSPITAL = HospitalInfo("St. Example General Hospital", "1 Harbour Road", "+1 555 0100")


def _rx(items: int = 2) -> PrescriptionRead:
    return PrescriptionRead.model_validate(
        {
            "id": 7,
            "number": "RX00000042",
            "created_at": "2026-03-01T09:30:00Z",
            "status": "active",
            "prescriber_name": "Dr. Daniel Okafor",
            "encounter_id": 12,
            "notes": "Review in two weeks.",
            "patient_id": 3,
            "prescriber_user_id": 4,
            "cancelled_at": None,
            "cancel_reason": None,
            "version": 1,
            "overrides": [],
            "patient": {
                "id": 3,
                "mrn": "HMS000000018",
                "given_name": "Zoë",
                "family_name": "Ångström-Nakamura",
                "date_of_birth": "1963-02-12",
                "sex": "female",
            },
            "items": [
                {
                    "id": n,
                    "line_no": n,
                    "drug_id": 3,
                    "generic_name": "Amoxicillin",
                    "strength": "500 mg",
                    "form": "capsule",
                    "dose": "1.000",
                    "unit": "capsule",
                    "route": "oral",
                    "frequency": "three times daily",
                    "duration_days": 7,
                    "quantity": "21.000",
                    "instructions": "Take with food",
                }
                for n in range(1, items + 1)
            ],
        }
    )


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())  # table cells wrap: compare words


def test_prescription_pdf_shows_hospital_prescriber_patient_items_and_signature():
    pdf = render_prescription(
        _rx(), HOSPITAL, allergies=["Penicillin (rash)"], printed_at=datetime(2026, 3, 1, 10, 0)
    )
    pages, content = _text(pdf)
    assert pages == 1
    for expected in (
        "St. Example General Hospital",
        "Prescription",
        "RX00000042",
        "Dr. Daniel Okafor",
        "Zoë Ångström-Nakamura",
        "HMS000000018",
        "1963-02-12",
        "Amoxicillin 500 mg",
        "three times daily",
        "7 days",
        "21",
        "Take with food",
        "signature",
        "Allergies: Penicillin (rash)",
        "Review in two weeks.",
    ):
        assert expected in content, expected
    assert "1.000" not in content  # quantities are printed without trailing zeros


def test_barcode_is_drawn_as_vector_bars():
    pdf = render_prescription(_rx(), HOSPITAL)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    stream = page.get_contents().get_data()
    # "RX00000042" in Code 128 is 33 bars: one filled rectangle each (plus table rules).
    assert stream.count(b" re") >= 30


def test_long_prescription_flows_onto_pages_that_name_the_patient():
    pdf = render_prescription(_rx(items=20), HOSPITAL)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        text = page.extract_text()
        assert "HMS000000018" in text and "RX00000042" in text
    assert "signature" in reader.pages[-1].extract_text()


def test_missing_optional_fields_do_not_break_rendering():
    rx = PrescriptionRead.model_validate(
        {
            "id": 1,
            "number": "RX1",
            "patient_id": 1,
            "patient": None,
            "encounter_id": None,
            "prescriber_user_id": 2,
            "prescriber_name": None,
            "status": "active",
            "notes": None,
            "created_at": "2026-03-01T09:30:00Z",
            "cancelled_at": None,
            "cancel_reason": None,
            "version": 1,
            "overrides": [],
            "items": [
                {
                    "id": 1,
                    "line_no": 1,
                    "drug_id": 4,
                    "generic_name": "Paracetamol",
                    "strength": None,
                    "form": "tablet",
                    "dose": 1,
                    "unit": "g",
                    "route": "oral",
                    "frequency": "qds",
                    "duration_days": None,
                    "quantity": 8,
                    "instructions": None,
                }
            ],
        }
    )
    pages, content = _text(render_prescription(rx, HospitalInfo("H")))
    assert pages == 1 and "Paracetamol" in content and "RX1" in content


def _logo() -> bytes:
    """A small PNG for the letterhead (Pillow ships with reportlab)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), (180, 20, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_pharmacy_can_accept_it_letterhead_registration_patient_and_overrides():
    from hms_desktop.printing.prescription import PatientFacts

    rx = PrescriptionRead.model_validate(
        {
            **_rx().model_dump(mode="json"),
            "prescriber_registration": "GMC 7012345",
            "encounter": {
                "id": 12,
                "kind": "outpatient",
                "started_at": "2026-03-01T09:00:00Z",
                "reason": "Sore throat and fever",
            },
            "overrides": [
                {
                    "user_id": 4,
                    "reason": "Mild rash only, 10 years ago; tolerated since",
                    "created_at": "2026-03-01T09:31:00Z",
                    "conflicts": [
                        {
                            "type": "allergy_conflict",
                            "drug_ids": [3],
                            "severity": "moderate",
                            "reason": "Amoxicillin contains 'penicillins', and the "
                            "patient is allergic to penicillin (rash).",
                        }
                    ],
                }
            ],
        }
    )
    hospital = HospitalInfo(
        "St. Example General Hospital",
        "1 Harbour Road, Gdańsk",
        "+48 58 555 0100",
        "info@example.org",
        logo=_logo(),
    )
    pdf = render_prescription(
        rx,
        hospital,
        allergies=["penicillin (mild — rash)"],
        patient_facts=PatientFacts(address="5 Long Street, Sopot", weight="72.5 kg (2026-02-20)"),
        printed_at=datetime(2026, 3, 1, 10, 0),
    )
    pages, content = _text(pdf)
    assert pages == 1
    for expected in (
        "1 Harbour Road, Gdańsk",
        "+48 58 555 0100",
        "info@example.org",
        "Registration no.",
        "GMC 7012345",
        "5 Long Street, Sopot",
        "72.5 kg (2026-02-20)",
        "Outpatient visit",
        "Sore throat and fever",
        "Allergies: penicillin (mild — rash)",
        "Safety check overridden by the prescriber",
        "MODERATE: Amoxicillin contains 'penicillins'",
        "Reason: Mild rash only, 10 years ago; tolerated since",
    ):
        assert expected in content, expected
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert page["/Resources"]["/XObject"], "the logo is drawn as an image"


def test_unknown_allergies_are_never_printed_as_none():
    from hms_desktop.printing.prescription import PatientFacts

    _pages, content = _text(
        render_prescription(_rx(), HOSPITAL, patient_facts=PatientFacts(allergies_recorded=False))
    )
    assert "Allergies: not recorded" in content and "No known allergies" not in content
    _pages, content = _text(render_prescription(_rx(), HOSPITAL))
    assert "No known allergies recorded" in content


def test_the_letterhead_logo_is_fetched_once_and_kept_in_memory(signed_in, fake_server):
    from hms_desktop.api.hospital import HospitalApi

    api, _me = signed_in("reception")
    assert HospitalApi(api).logo() is None  # no logo configured: 404 read as none
    fake_server.logo = _logo()
    hospital = HospitalApi(api)
    assert hospital.logo() == fake_server.logo == hospital.logo()
    assert len(fake_server.requests_to("GET", "/hospital/logo")) == 2  # once per HospitalApi
