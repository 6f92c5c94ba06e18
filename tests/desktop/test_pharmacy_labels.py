"""Dispensing label PDFs: page sizes, the text a label must carry, and a barcode that a
scanner reads back as the dispense line's code."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from hms_desktop.printing.dispense_labels import DispenseLabel, render_labels

MM = 72 / 25.4


def _label(n: int = 1234, **overrides) -> DispenseLabel:
    values = dict(
        barcode=f"HMSDL{n:010d}",
        patient_name="ØSTERGÅRD, Zoë-Marie",
        mrn="HMS00012345",
        drug="Amoxicillin + clavulanic acid",
        strength="500 mg + 125 mg",
        form="tablet",
        instructions="Take 1 tablet by mouth three times a day for 7 days. Take with food.",
        quantity="21",
        unit="tablet",
        lot="AMX2407B",
        expiry=date(2027, 4, 30),
        dispensed_on=date(2026, 12, 1),
        pharmacist="Paul Mensah",
        prescription_number="RX00000042",
        hospital_name="HMS Demo Hospital",
    )
    values.update(overrides)
    return DispenseLabel(**values)


def test_a_label_is_70_by_36_mm_and_carries_everything_the_ward_needs():
    pdf = render_labels([_label()])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) / MM) == 70 and round(float(box.height) / MM) == 36
    text = reader.pages[0].extract_text()
    for expected in (
        "ØSTERGÅRD, Zoë-Marie",
        "MRN HMS00012345",
        "Amoxicillin",
        "500 mg + 125 mg",
        "three times a day for 7 days",
        "Qty 21 tablet",
        "Lot AMX2407B",
        "Exp 2027-04-30",
        "2026-12-01",
        "Paul Mensah",
        "RX00000042",
    ):
        assert expected in text, expected


def test_an_a4_sheet_holds_24_labels():
    pdf = render_labels([_label(n) for n in range(30)], "a4")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    assert round(float(reader.pages[0].mediabox.width) / MM) == 210
    assert reader.pages[0].extract_text().count("MRN HMS00012345") == 24
    assert reader.pages[1].extract_text().count("MRN HMS00012345") == 6


def test_long_instructions_are_wrapped_not_cut_mid_word():
    pdf = render_labels(
        [
            _label(
                instructions="Take 2 tablets by mouth every 4 to 6 hours "
                "when needed for pain. Do not take more than "
                "8 tablets in 24 hours."
            )
        ]
    )
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert (
        "Take 2 tablets by mouth every 4 to 6 hours when needed for pain. Do not take "
        "more than 8 tablets in 24 hours."
    ) in text


def test_no_labels_is_an_error():
    with pytest.raises(ValueError):
        render_labels([])


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs poppler-utils and zbar-tools (make system-deps)",
)
def test_the_barcode_scans_back_to_the_dispense_line(tmp_path):
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(render_labels([_label(98765)]))
    subprocess.run(["pdftoppm", "-png", "-r", "300", str(pdf), str(tmp_path / "page")], check=True)
    [png] = sorted(tmp_path.glob("page*.png"))
    decoded = subprocess.run(
        ["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert decoded == ["HMSDL0000098765"]
