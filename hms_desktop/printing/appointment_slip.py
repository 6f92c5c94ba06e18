"""Appointment slip PDF (reportlab, no Qt): the token number large, then who, whom, when.

A small A6 page the patient takes to the waiting area. Names print in the shipped Unicode
font (DejaVu), so any script renders on every OS.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from hms_desktop.printing.fonts import register_fonts


@dataclass(frozen=True)
class AppointmentSlip:
    """What the slip shows; every field is already formatted text (times in hospital time)."""

    patient_name: str
    mrn: str
    doctor: str
    when: str
    department: str = ""
    token: int | None = None
    location: str = ""
    reference: str = ""
    hospital: str = ""  # the hospital's name from its settings (``GET /me`` → hospital)
    heading: str = "Appointment"
    token_caption: str = "Your number"  # noqa: S105 - a caption, not a secret
    labels: tuple[str, str, str, str, str] = ("Patient", "MRN", "Doctor", "Time", "Department")


def _fit(text: str, font: str, size: float, width: float) -> float:
    while size > 6 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def render_appointment_slip(slip: AppointmentSlip) -> bytes:
    """One A6 page: hospital, token (very large), patient/MRN, doctor, time, department."""
    regular, bold = register_fonts()
    buffer = io.BytesIO()
    width, height = A6
    pdf = canvas.Canvas(buffer, pagesize=A6, pageCompression=1)
    pdf.setTitle(f"{slip.heading} — {slip.mrn}")
    pdf.setAuthor(slip.hospital or "HMS")
    margin = 10 * mm
    inner = width - 2 * margin
    y = height - margin - 4 * mm

    pdf.setFont(regular, 9)
    pdf.drawRightString(width - margin, y, slip.heading)
    heading_width = pdfmetrics.stringWidth(slip.heading, regular, 9) + 3 * mm
    name_size = _fit(slip.hospital, bold, 11, inner - heading_width)
    pdf.setFont(bold, name_size)
    pdf.drawString(margin, y, slip.hospital)
    y -= 4 * mm
    pdf.setLineWidth(0.6)
    pdf.line(margin, y, width - margin, y)

    if slip.token is not None:
        y -= 8 * mm
        pdf.setFont(regular, 9)
        pdf.drawCentredString(width / 2, y, slip.token_caption)
        token = str(slip.token)
        size = _fit(token, bold, 64, inner)
        y -= size * 0.85
        pdf.setFont(bold, size)
        pdf.drawCentredString(width / 2, y, token)
        y -= 6 * mm
    else:
        y -= 6 * mm

    rows = list(
        zip(
            slip.labels,
            (
                slip.patient_name,
                slip.mrn,
                slip.doctor,
                slip.when,
                " · ".join(p for p in (slip.department, slip.location) if p),
            ),
            strict=True,
        )
    )
    label_width = 22 * mm
    for label, value in rows:
        if not value:
            continue
        y -= 6.5 * mm
        pdf.setFont(regular, 8)
        pdf.drawString(margin, y, label)
        font_size = _fit(value, bold, 11, inner - label_width)
        pdf.setFont(bold, font_size)
        pdf.drawString(margin + label_width, y, value)

    if slip.reference:
        barcode = code128.Code128(slip.reference, barHeight=9 * mm, barWidth=0.9)
        barcode.drawOn(pdf, (width - barcode.width) / 2, margin + 4 * mm)
        pdf.setFont(regular, 8)
        pdf.drawCentredString(width / 2, margin, slip.reference)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
