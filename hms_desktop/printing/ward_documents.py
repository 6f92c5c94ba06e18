"""Ward documents as PDF: the discharge summary (A4 portrait) and the shift handover report
of a ward (A4 landscape, one row per patient, headings repeated on every page).

Pure reportlab from the server's contract models; no Qt, safe off the GUI thread. Times are
printed as the server sent them (the hospital's zone, with its offset dropped).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hms_contract.nursing import HandoverReport
from hms_contract.wards import DischargeSummaryRead
from hms_desktop.plurals import plural
from hms_desktop.printing.fonts import register_fonts

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
HEAD_BG = colors.HexColor("#e4e7eb")
ALERT = colors.HexColor("#b3261e")
_DISPOSITION = {
    "home": "Home",
    "transfer_out": "Transferred to another facility",
    "against_advice": "Left against medical advice",
    "deceased": "Deceased",
    "other": "Other",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = register_fonts()
    return {
        "hospital": ParagraphStyle(
            "hospital", fontName=bold, fontSize=14, leading=17, textColor=INK
        ),
        "title": ParagraphStyle(
            "title",
            fontName=bold,
            fontSize=13,
            leading=16,
            textColor=INK,
            spaceBefore=4,
            spaceAfter=4,
        ),
        "h": ParagraphStyle(
            "h", fontName=bold, fontSize=10, leading=13, textColor=INK, spaceBefore=8, spaceAfter=2
        ),
        "body": ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5, textColor=INK),
        "small": ParagraphStyle("small", fontName=regular, fontSize=8, leading=10, textColor=MUTED),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9.2, textColor=INK),
        "cellb": ParagraphStyle("cellb", fontName=bold, fontSize=7.5, leading=9.2, textColor=INK),
        "alert": ParagraphStyle(
            "alert", fontName=bold, fontSize=9.5, leading=12.5, textColor=ALERT
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _key_values(
    rows: Iterable[tuple[str, str]], s: dict[str, ParagraphStyle], width: float
) -> Table:
    table = Table(
        [[_p(k, s["small"]), _p(v, s["body"])] for k, v in rows],
        colWidths=[38 * mm, width - 38 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def render_discharge_summary(doc: DischargeSummaryRead) -> bytes:
    """The signed discharge summary of one admission."""
    s = _styles()
    buf = io.BytesIO()
    margin = 16 * mm
    pdf = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=f"Discharge summary {doc.patient_mrn}",
        author=doc.hospital_name,
    )
    width = A4[0] - 2 * margin
    a = doc.admission
    stays = "; ".join(
        f"{st.ward_code} bed {st.bed_label} ({st.ward_class.replace('_', '-')}) "
        f"{_when(st.started_at)} – {_when(st.ended_at)}"
        for st in a.stays
    )
    story = [
        _p(doc.hospital_name, s["hospital"]),
        _p("Discharge summary", s["title"]),
        _key_values(
            [
                ("Patient", f"{doc.patient_name}"),
                ("MRN", doc.patient_mrn),
                ("Date of birth", doc.date_of_birth.isoformat()),
                ("Sex", doc.sex),
            ],
            s,
            width,
        ),
        _p("Admission", s["h"]),
        _key_values(
            [
                ("Admitted", _when(a.admitted_at)),
                ("Discharged", _when(a.discharged_at)),
                ("Length of stay", plural(a.days_in, f"{a.days_in} day", f"{a.days_in} days")),
                ("Ward and bed", stays or "—"),
                ("Attending doctor", a.attending_doctor_name or "—"),
                ("Reason", a.reason or "—"),
                (
                    "Diagnosis",
                    " ".join(x for x in (a.icd10_code or "", a.diagnosis or "") if x) or "—",
                ),
                ("Discharged to", _DISPOSITION.get(a.discharge_disposition or "", "—")),
            ],
            s,
            width,
        ),
        _p("Allergies", s["h"]),
        _p(", ".join(doc.allergies), s["alert"])
        if doc.allergies
        else _p("No known allergies", s["body"]),
        _p("Summary", s["h"]),
        _p(doc.summary, s["body"]),
        _p("Current medications", s["h"]),
    ]
    story += [_p(f"• {line}", s["body"]) for line in doc.medications_on_discharge] or [
        _p("None recorded.", s["body"])
    ]
    signed = (
        f"Electronically signed by {doc.signed_by_name} on {_when(doc.signed_at)}."
        if doc.signed_at
        else "Not signed."
    )
    story += [Spacer(1, 8 * mm), KeepTogether([_p(signed, s["body"])])]

    def footer(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(register_fonts()[0], 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(margin, 9 * mm, f"{doc.patient_name} · MRN {doc.patient_mrn}")
        canvas.drawRightString(A4[0] - margin, 9 * mm, f"Page {document.page}")
        canvas.restoreState()

    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


_HANDOVER_COLUMNS = (
    ("Bed", 11),
    ("Patient", 34),
    ("Day", 8),
    ("Diagnosis / doctor", 32),
    ("Allergies", 22),
    ("Obs · NEWS2", 32),
    ("Risks", 20),
    ("Fluid 24 h", 13),
    ("Medicines", 40),
    ("Tasks", 28),
    ("Nursing notes", 0),
)


def render_handover(report: HandoverReport) -> bytes:
    """The ward's shift handover: every patient on one row, headings on every page."""
    s = _styles()
    buf = io.BytesIO()
    page = landscape(A4)
    margin = 10 * mm
    pdf = SimpleDocTemplate(
        buf,
        pagesize=page,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=14 * mm,
        title=f"Handover {report.ward_code}",
        author="HMS",
    )
    width = page[0] - 2 * margin
    fixed = sum(w for _, w in _HANDOVER_COLUMNS) * mm
    widths = [w * mm if w else width - fixed for _, w in _HANDOVER_COLUMNS]
    header = [_p(name, s["cellb"]) for name, _ in _HANDOVER_COLUMNS]
    rows = [header]
    alert_rows: list[int] = []
    for n, p in enumerate(report.patients, start=1):
        news = (
            f"NEWS2 {p.news2} ({p.news2_risk.replace('_', '-')})"
            if p.news2 is not None and p.news2_risk
            else "NEWS2 —"
        )
        meds = [f"OVERDUE {x}" for x in p.overdue_doses] + p.due_doses
        risks = [
            f"Falls: {p.falls_risk}" if p.falls_risk else "",
            f"Pressure: {p.pressure_risk.replace('_', ' ')}" if p.pressure_risk else "",
        ]
        rows.append(
            [
                _p(p.bed_label, s["cellb"]),
                _p(f"{p.patient_name}\nMRN {p.patient_mrn}\n{p.age} y · {p.sex}", s["cell"]),
                _p(str(p.days_in), s["cell"]),
                _p(
                    "\n".join(x for x in (p.diagnosis or "", p.attending_doctor_name or "") if x),
                    s["cell"],
                ),
                _p(
                    ", ".join(p.allergies) if p.allergies else "NKA",
                    s["cellb"] if p.allergies else s["cell"],
                ),
                _p(f"{p.latest_vitals or 'no observations'}\n{news}", s["cell"]),
                _p("\n".join(x for x in risks if x) or "—", s["cell"]),
                _p(f"{p.fluid_balance_ml:+d} ml", s["cell"]),
                _p("\n".join(meds) or "—", s["cell"]),
                _p("\n".join(p.open_tasks) or "—", s["cell"]),
                _p("\n".join(p.recent_notes) or "—", s["cell"]),
            ]
        )
        if p.overdue_doses or (p.news2 or 0) >= 5:
            alert_rows.append(n)
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    # Rows needing attention get a heavier left rule as well as the word OVERDUE / NEWS2.
    style += [("LINEBEFORE", (0, r), (0, r), 2.5, ALERT) for r in alert_rows]
    table.setStyle(TableStyle(style))
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M")
    story = [
        _p(f"Shift handover — {report.ward_name} ({report.ward_code})", s["title"]),
        _p(
            f"{report.shift.title()} shift · printed {generated} · "
            + plural(report.occupied, "1 patient", f"{report.occupied} patients")
            + ", "
            + plural(report.free, "1 free bed", f"{report.free} free beds"),
            s["small"],
        ),
        Spacer(1, 3 * mm),
        table if report.patients else _p("No patients on the ward.", s["body"]),
    ]

    def footer(canvas, document) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(register_fonts()[0], 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            margin,
            7 * mm,
            f"{report.ward_code} handover {generated} — confidential patient information",
        )
        canvas.drawRightString(page[0] - margin, 7 * mm, f"Page {document.page}")
        canvas.restoreState()

    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
