"""Patient ID card and wristband PDFs: one page, readable text, a barcode that scans."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import pytest
from pypdf import PdfReader

from hms_desktop.printing import fonts
from hms_desktop.printing.labels import PatientLabel, render_label

LABEL = PatientLabel(
    mrn="HMS000012344",
    given_name="Zoë",
    family_name="Ångström-Núñez",
    date_of_birth=date(1977, 6, 15),
    sex="female",
    hospital_name="HMS Demo Hospital",
)


def _page(pdf: bytes):
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


@pytest.mark.parametrize("kind", ["id_card", "wristband"])
def test_label_has_one_page_with_identity_text(kind):
    page = _page(render_label(LABEL, kind))
    text = page.extract_text()
    assert "HMS000012344" in text
    assert "ÅNGSTRÖM-NÚÑEZ" in text and "Zoë" in text
    assert "1977-06-15" in text and "Sex F" in text


def test_card_is_id1_size_and_uses_the_shipped_font():
    page = _page(render_label(LABEL, "id_card"))
    width_mm = float(page.mediabox.width) / 72 * 25.4
    height_mm = float(page.mediabox.height) / 72 * 25.4
    assert (round(width_mm, 1), round(height_mm, 1)) == (85.6, 54.0)
    font_names = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert any("DejaVuSans-Bold" in n for n in font_names), font_names


def test_barcode_bars_are_drawn():
    content = _page(render_label(LABEL, "id_card")).get_contents().get_data().decode("latin-1")
    # Code 128 of a 12-character MRN: start, 12 symbols (or fewer in set C), check, stop;
    # each symbol is 3 bars, drawn as filled rectangles.
    assert len(re.findall(r"\bre\b", content)) >= 20


def test_estimated_birth_date_is_marked():
    label = PatientLabel(
        mrn="HMS000000018",
        given_name="A",
        family_name="B",
        date_of_birth="1980-11-26",
        sex="unknown",
        birth_date_estimated=True,
    )
    assert "1980-11-26 (est.)" in _page(render_label(label, "wristband")).extract_text()


def _words(text: str) -> str:
    """The page's text with line breaks and hyphen breaks joined back up."""
    return re.sub(r"-\s+", "-", re.sub(r"\s+", " ", text))


@pytest.mark.parametrize("kind", ["id_card", "wristband", "wristband_a4"])
def test_long_names_wrap_or_shrink_and_are_never_cut(kind):
    given, family = "Maria-Magdalena Konstantina", "Nowak-Wiśniewska-Szczepańska"
    label = PatientLabel(
        mrn="HMS000000018",
        given_name=given,
        family_name=family,
        date_of_birth="2001-01-01",
        sex="other",
        hospital_name="St Mary's General Hospital of the Holy Cross, Gdańsk",
    )
    text = _words(_page(render_label(label, kind)).extract_text())
    assert "…" not in text
    assert f"{family.upper()}," in text and given in text
    assert "St Mary's General Hospital of the Holy Cross, Gdańsk" in text
    assert "HMS000000018" in text


def test_a_name_longer_than_the_card_breaks_but_keeps_every_letter():
    family = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen"
    label = PatientLabel(
        mrn="HMS000000026",
        given_name="Hubert",
        family_name=family,
        date_of_birth="1904-02-29",
        sex="male",
    )
    text = re.sub(r"\s+", "", _page(render_label(label, "id_card")).extract_text())
    assert family.upper() in text and "…" not in text


def test_the_wristband_carries_the_allergy_flag():
    allergic = PatientLabel(
        mrn="HMS000000034",
        given_name="Ana",
        family_name="Lopez",
        date_of_birth="1990-05-17",
        sex="female",
        hospital_name="St Mary's",
        allergies=("penicillin (severe)", "latex (mild)"),
    )
    text = _words(_page(render_label(allergic, "wristband")).extract_text())
    assert "ALLERGY: penicillin (severe), latex (mild)" in text
    assert "St Mary's" in text
    none_known = PatientLabel(**{**allergic.__dict__, "allergies": ()})
    assert "No known allergies" in _page(render_label(none_known, "wristband")).extract_text()
    unknown = PatientLabel(**{**allergic.__dict__, "allergies": None})
    assert "Allergies: not recorded" in _page(render_label(unknown, "wristband")).extract_text()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        render_label(LABEL, "poster")  # type: ignore[arg-type]


def test_register_fonts_is_idempotent_and_maps_bold():
    from reportlab.lib.fonts import tt2ps

    assert fonts.register_fonts() == fonts.register_fonts() == ("DejaVuSans", "DejaVuSans-Bold")
    assert tt2ps(fonts.FAMILY, 1, 0) == "DejaVuSans-Bold"


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs poppler-utils and zbar-tools to scan the barcode",
)
@pytest.mark.parametrize(("kind", "qr"), [("id_card", False), ("wristband", True)])
def test_barcodes_scan_back_to_the_mrn(tmp_path, kind, qr):
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(render_label(LABEL, kind, with_qr=qr))
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "label")],
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "-q", str(tmp_path / "label.png")], capture_output=True, text=True
    ).stdout.split()
    assert "CODE-128:HMS000012344" in scanned
    assert ("QR-Code:HMS000012344" in scanned) == qr
