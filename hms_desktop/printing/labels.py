"""Patient ID card and wristband label PDFs: the hospital's name, the patient's name, date of
birth, sex, MRN as a Code 128 barcode (and optionally a QR code); wristbands also carry the
allergy flag. Identity text is never cut short: a long name wraps onto a second line and
shrinks to fit, and only breaks inside a word when a single word is wider than the label.
Pure reportlab, no Qt; safe to call off the GUI thread.

Wristbands print on a wristband printer's insert (200 × 25 mm) or on A4 (the band at the
top of the page with cut marks, for wards without a band printer)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Literal

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from hms_desktop.printing.fonts import register_fonts

# ISO/IEC 7810 ID-1 (credit-card) size; a common adult wristband insert of 25 x 200 mm.
ID_CARD_SIZE = (85.6 * mm, 54 * mm)
WRISTBAND_SIZE = (200 * mm, 25 * mm)
_SEX_LABEL = {"male": "M", "female": "F", "other": "X", "unknown": "U"}


@dataclass(frozen=True)
class PatientLabel:
    """What a label shows. ``date_of_birth`` may be a date or an ISO string."""

    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date | str
    sex: str
    birth_date_estimated: bool = False
    hospital_name: str = ""
    #: Active allergies as printed ("penicillin (severe)", or just the substance). ``None``:
    #: not known (never recorded or not checked), so the band says so rather than implying
    #: there are none.
    allergies: tuple[str, ...] | None = None


def _dob_text(label: PatientLabel) -> str:
    dob = label.date_of_birth
    value = dob.isoformat() if isinstance(dob, date) else str(dob)
    return f"{value} (est.)" if label.birth_date_estimated else value


def _fit(text: str, font: str, size: float, width: float, min_size: float = 5) -> float:
    """The largest font size ≤ ``size`` at which ``text`` fits ``width``."""
    while size > min_size and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking at spaces (and after hyphens); a word wider than ``width`` is
    broken between characters, so nothing is ever dropped."""
    words: list[str] = []
    for word in text.split():
        parts = word.replace("-", "-\0").split("\0")
        words += [p for p in parts if p]
    lines: list[str] = []
    line = ""
    for word in words:
        glue = "" if not line or line.endswith("-") else " "
        if stringWidth(line + glue + word, font, size) <= width:
            line += glue + word
            continue
        if line:
            lines.append(line)
        line = ""
        while stringWidth(word, font, size) > width:  # a single over-long word
            cut = len(word)
            while cut > 1 and stringWidth(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines or [""]


def _fit_lines(
    text: str, font: str, size: float, width: float, *, max_lines: int, min_size: float
) -> tuple[float, list[str]]:
    """The largest size ≤ ``size`` at which ``text`` wraps into ``max_lines`` lines of
    ``width``; at ``min_size`` it takes the lines it needs (never an ellipsis)."""
    while True:
        lines = _wrap(text, font, size, width)
        if len(lines) <= max_lines or size <= min_size:
            return size, lines
        size = max(min_size, size - 0.5)


def _draw_lines(c: Canvas, lines: list[str], x: float, top: float, font: str, size: float) -> float:
    """Draw ``lines`` downwards from the baseline ``top``; returns the next free baseline."""
    c.setFont(font, size)
    y = top
    for line in lines:
        c.drawString(x, y, line)
        y -= size * 1.15
    return y


def _barcode(mrn: str, width: float, height: float) -> code128.Code128:
    """A Code 128 barcode of the MRN scaled to fit ``width`` (quiet zones included)."""
    probe = code128.Code128(mrn, barHeight=height, barWidth=1, quiet=True)
    bar_width = max(0.5, min(1.2, width / probe.width))
    return code128.Code128(
        mrn, barHeight=height, barWidth=bar_width, quiet=True, humanReadable=False
    )


def _qr(mrn: str, size: float) -> Drawing:
    widget = qr.QrCodeWidget(mrn, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _header(label: PatientLabel) -> str:
    return f"{label.family_name.upper()}, {label.given_name}"


def _allergy_text(label: PatientLabel) -> tuple[str, bool]:
    """``(text, alert)``: what the band says about allergies, and whether it is an alert."""
    if label.allergies is None:
        return "Allergies: not recorded - ask the patient", False
    if not label.allergies:
        return "No known allergies", False
    return "ALLERGY: " + ", ".join(label.allergies), True


def render_id_card(label: PatientLabel, *, with_qr: bool = False) -> bytes:
    """A one-page ID-1 (85.6 x 54 mm) patient card PDF: hospital, name (wrapped or shrunk,
    never cut), birth date, sex, MRN and its barcode."""
    regular, bold = register_fonts()
    width, height = ID_CARD_SIZE
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=ID_CARD_SIZE, pageCompression=1)
    c.setTitle(f"Patient card {label.mrn}")
    c.setAuthor(label.hospital_name or "HMS")
    margin = 4 * mm
    text_width = width - 2 * margin - (18 * mm if with_qr else 0)
    y = height - margin - 2.5 * mm
    if label.hospital_name:
        size, lines = _fit_lines(label.hospital_name, bold, 7, text_width, max_lines=2, min_size=5)
        y = _draw_lines(c, lines, margin, y, bold, size) - 1.5 * mm
    size, lines = _fit_lines(_header(label), bold, 11, text_width, max_lines=2, min_size=6.5)
    y = _draw_lines(c, lines, margin, y - (size - 7) * 0.3, bold, size) - 0.8 * mm
    c.setFont(regular, 8)
    c.drawString(margin, y, f"DOB {_dob_text(label)}   Sex {_SEX_LABEL.get(label.sex, '?')}")
    y -= 4.5 * mm
    c.setFont(bold, 9)
    c.drawString(margin, y, f"MRN {label.mrn}")
    if with_qr:
        renderPDF.draw(
            _qr(label.mrn, 16 * mm), c, width - margin - 16 * mm, height - margin - 16 * mm
        )
    barcode_height = min(13 * mm, max(7 * mm, y - margin - 3 * mm))
    _barcode(label.mrn, width - 2 * margin, barcode_height).drawOn(c, margin, margin)
    c.showPage()
    c.save()
    return buf.getvalue()


def _allergy_flag(
    c: Canvas,
    label: PatientLabel,
    x: float,
    y: float,
    width: float,
    height: float,
    regular: str,
    bold: str,
) -> None:
    """A black box with white text when the patient has allergies (legible on a monochrome
    band printer: the words, not a colour, carry the warning), plain text otherwise."""
    text, alert = _allergy_text(label)
    if alert:
        c.setFillColorRGB(0, 0, 0)
        c.rect(x, y, width, height, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        size, lines = _fit_lines(text, bold, 8, width - 2 * mm, max_lines=2, min_size=4.5)
        top = y + height / 2 + (len(lines) - 1) * size * 0.575 - size * 0.35
        _draw_lines(c, lines, x + 1 * mm, top, bold, size)
        c.setFillColorRGB(0, 0, 0)
        return
    size, lines = _fit_lines(text, regular, 7, width, max_lines=1, min_size=5)
    _draw_lines(c, lines, x, y + height / 2 - size * 0.35, regular, size)


def _draw_wristband(c: Canvas, label: PatientLabel, ox: float, oy: float, with_qr: bool) -> None:
    """The band insert drawn with its lower-left corner at ``(ox, oy)``: identity text
    (wrapped or shrunk, never cut), Code 128 and QR of the MRN, the hospital's name and the
    allergy flag."""
    regular, bold = register_fonts()
    width, height = WRISTBAND_SIZE
    # Leave the first 25 mm for the band's clasp.
    x = ox + 25 * mm
    qr_size = height - 4 * mm
    if with_qr:
        renderPDF.draw(_qr(label.mrn, qr_size), c, x, oy + 2 * mm)
        x += qr_size + 3 * mm
    text_width = 66 * mm
    size, lines = _fit_lines(_header(label), bold, 10, text_width, max_lines=2, min_size=6)
    y = _draw_lines(c, lines, x, oy + height - 2 * mm - size * 0.8, bold, size)
    c.setFont(regular, 7.5)
    c.drawString(x, y - 0.5 * mm, f"DOB {_dob_text(label)}   Sex {_SEX_LABEL.get(label.sex, '?')}")
    c.setFont(bold, 8.5)
    c.drawString(x, oy + 2.5 * mm, f"MRN {label.mrn}")
    right = x + text_width + 3 * mm
    right_width = ox + width - right - 4 * mm
    top = height - 2 * mm
    if label.hospital_name:
        size, lines = _fit_lines(
            label.hospital_name, regular, 6.5, right_width, max_lines=1, min_size=4.5
        )
        _draw_lines(c, lines, right, oy + top - size * 0.8, regular, size)
        top -= 3.2 * mm
    _barcode(label.mrn, right_width, top - 9.5 * mm).drawOn(c, right, oy + 9 * mm)
    _allergy_flag(c, label, right, oy + 1.5 * mm, right_width, 6.5 * mm, regular, bold)


def render_wristband(
    label: PatientLabel, *, with_qr: bool = True, paper: Literal["band", "a4"] = "band"
) -> bytes:
    """A one-page wristband: the 200 × 25 mm insert of a band printer (``band``) or the
    same band on A4 with cut marks (``a4``)."""
    width, height = WRISTBAND_SIZE
    page = WRISTBAND_SIZE if paper == "band" else A4
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=page, pageCompression=1)
    c.setTitle(f"Wristband {label.mrn}")
    c.setAuthor(label.hospital_name or "HMS")
    if paper == "band":
        _draw_wristband(c, label, 0, 0, with_qr)
    else:
        ox, oy = (A4[0] - width) / 2, A4[1] - 30 * mm - height
        c.setLineWidth(0.3)
        for cx, cy in ((ox, oy), (ox + width, oy), (ox, oy + height), (ox + width, oy + height)):
            c.line(cx - 4 * mm, cy, cx - 1 * mm, cy)
            c.line(cx + 1 * mm, cy, cx + 4 * mm, cy)
            c.line(cx, cy - 4 * mm, cx, cy - 1 * mm)
            c.line(cx, cy + 1 * mm, cx, cy + 4 * mm)
        c.setDash(2, 2)
        c.rect(ox, oy, width, height, stroke=1, fill=0)
        c.setDash()
        _draw_wristband(c, label, ox, oy, with_qr)
        regular, _ = register_fonts()
        c.setFont(regular, 8)
        c.drawString(
            ox,
            oy - 8 * mm,
            "Cut along the dashed line and insert into the patient's wristband sleeve.",
        )
    c.showPage()
    c.save()
    return buf.getvalue()


def render_label(
    label: PatientLabel,
    kind: Literal["id_card", "wristband", "wristband_a4"] = "id_card",
    *,
    with_qr: bool | None = None,
) -> bytes:
    """Render ``kind``; QR defaults on for wristbands (scanned at the bedside), off on cards."""
    if kind == "id_card":
        return render_id_card(label, with_qr=bool(with_qr))
    if kind in ("wristband", "wristband_a4"):
        return render_wristband(
            label,
            with_qr=True if with_qr is None else with_qr,
            paper="a4" if kind == "wristband_a4" else "band",
        )
    raise ValueError(f"unknown label kind: {kind!r}")
