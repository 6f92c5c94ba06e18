"""Dispensing labels: one per dispensed line, 70 × 36 mm for a label printer, or 24 to an
A4 sheet (3 × 8 of the same 70 × 36 mm labels, the common "L7160-style" layout).

Each label shows the drug and strength, the dose instructions in plain words, quantity,
batch and expiry, the patient's name and MRN, the dispensing date and pharmacist, and a
Code 128 barcode of the dispense line (``HMSDL`` + id) that the ward scans before giving
the medicine. Pure reportlab with the shipped DejaVu font; no Qt, safe off the GUI thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from hms_desktop.printing.fonts import register_fonts

LABEL_SIZE = (70 * mm, 36 * mm)
SHEET_COLUMNS, SHEET_ROWS = 3, 8
SHEET_TOP = (A4[1] - SHEET_ROWS * LABEL_SIZE[1]) / 2
_PAD = 2.2 * mm


@dataclass(frozen=True)
class DispenseLabel:
    """What one label prints (the server's ``LabelRead``, as plain values)."""

    barcode: str
    patient_name: str
    mrn: str
    drug: str
    strength: str | None
    form: str
    instructions: str
    quantity: str
    unit: str
    lot: str
    expiry: date
    dispensed_on: date
    pharmacist: str | None
    prescription_number: str
    hospital_name: str = ""


def _fit(text: str, font: str, size: float, width: float, min_size: float = 5.0) -> float:
    while size > min_size and stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; the last line is shortened with an ellipsis only if it must be."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if stringWidth(trial, font, size) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        last = kept[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        kept[-1] = last + "…"
        return kept
    return lines


def _fit_lines(text: str, font: str, width: float) -> tuple[float, list[str]]:
    """Up to four lines at 7–6.5 pt, five at 6–5.5 pt; only beyond that is the text cut."""
    for size, most in ((7.0, 4), (6.5, 4), (6.0, 5), (5.5, 5)):
        lines = _wrap(text, font, size, width, 99)
        if len(lines) <= most:
            return size, lines
    return 5.5, _wrap(text, font, 5.5, width, 5)


def _barcode(value: str, width: float, height: float) -> code128.Code128:
    probe = code128.Code128(value, barHeight=height, barWidth=1, quiet=True)
    bar_width = max(0.6, min(1.4, width / probe.width))
    return code128.Code128(
        value, barHeight=height, barWidth=bar_width, quiet=True, humanReadable=False
    )


def draw_label(c: Canvas, label: DispenseLabel, x: float, y: float) -> None:
    """Draw one 70 × 36 mm label with its lower-left corner at ``(x, y)``."""
    regular, bold = register_fonts()
    width, height = LABEL_SIZE
    inner = width - 2 * _PAD
    top = y + height - _PAD
    title = " ".join(p for p in (label.drug, label.strength or "", label.form) if p)
    size = _fit(title, bold, 8.5, inner, 6)
    c.setFont(bold, size)
    top -= size * 0.9
    c.drawString(x + _PAD, top, title)
    # Instructions are printed whole: a smaller font before anything is shortened.
    size, lines = _fit_lines(label.instructions, regular, inner)
    c.setFont(regular, size)
    for line in lines:
        top -= size * 1.15
        c.drawString(x + _PAD, top, line)
    top -= 9
    c.setFont(bold, 7)
    qty = f"Qty {label.quantity} {label.unit}"
    c.drawString(x + _PAD, top, qty)
    c.setFont(regular, 6.5)
    batch = f"Lot {label.lot}   Exp {label.expiry.isoformat()}"
    c.drawRightString(x + width - _PAD, top, batch)
    top -= 8.5
    patient = f"{label.patient_name}   MRN {label.mrn}"
    size = _fit(patient, bold, 7.5, inner, 5.5)
    c.setFont(bold, size)
    c.drawString(x + _PAD, top, patient)
    bar_height = 5.5 * mm
    footer = (
        f"{label.dispensed_on.isoformat()} · {label.pharmacist or ''} · {label.prescription_number}"
    )
    c.setFont(regular, 5)
    c.drawString(x + _PAD, y + _PAD + bar_height + 1.2, footer[:90])
    if label.hospital_name:
        c.drawRightString(x + width - _PAD, y + _PAD + bar_height + 1.2, label.hospital_name[:40])
    _barcode(label.barcode, inner, bar_height).drawOn(c, x + _PAD, y + _PAD)


def render_labels(
    labels: Sequence[DispenseLabel], layout: Literal["label", "a4"] = "label"
) -> bytes:
    """A PDF of ``labels``: one 70 × 36 mm page each (``label``), or A4 sheets of 24."""
    if not labels:
        raise ValueError("no labels to print")
    register_fonts()
    buf = io.BytesIO()
    page = LABEL_SIZE if layout == "label" else A4
    c = Canvas(buf, pagesize=page, pageCompression=1)
    c.setTitle(f"Dispensing labels {labels[0].prescription_number}")
    c.setAuthor(labels[0].hospital_name or "HMS")
    if layout == "label":
        for label in labels:
            draw_label(c, label, 0, 0)
            c.showPage()
    else:
        per_sheet = SHEET_COLUMNS * SHEET_ROWS
        for start in range(0, len(labels), per_sheet):
            for n, label in enumerate(labels[start : start + per_sheet]):
                row, col = divmod(n, SHEET_COLUMNS)
                x = col * LABEL_SIZE[0]
                y = A4[1] - SHEET_TOP - (row + 1) * LABEL_SIZE[1]
                draw_label(c, label, x, y)
            c.showPage()
    c.save()
    return buf.getvalue()
