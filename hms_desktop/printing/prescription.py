"""Prescription PDF a pharmacy can accept: the hospital's letterhead (logo, name, address,
phone), the prescriber with their registration number, the patient (name, MRN, date of
birth, sex, address, latest weight), the encounter, the allergies with their severity, the
items, any safety override with its reason, a signature line and a Code 128 barcode of the
prescription number.

Pure reportlab, no Qt; safe to call off the GUI thread. Input is the contract's
``PrescriptionRead`` (``GET /api/v1/prescriptions/{id}``), so the desktop prints what it just
received.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import code128
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from hms_contract.prescribing import PrescriptionRead
from hms_desktop.printing.document import render_pdf
from hms_desktop.printing.fonts import register_fonts

MARGIN = 16 * mm
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
HEAD_BG = colors.HexColor("#e4e7eb")


@dataclass(frozen=True)
class HospitalInfo:
    """The letterhead: from ``GET /me`` → ``hospital`` and ``GET /hospital/logo``."""

    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    logo: bytes | None = None  # PNG or JPEG


@dataclass(frozen=True)
class PatientFacts:
    """What the prescription prints beyond the prescription itself, already worded:
    ``address``, ``weight`` ("72.5 kg (2026-11-30)"), and ``allergies_recorded`` (False: the
    page says allergies were not recorded, never "none")."""

    address: str = ""
    weight: str = ""
    allergies_recorded: bool = True


class _Barcode(Flowable):
    """Code 128 of the prescription number with the human-readable text under it."""

    def __init__(
        self, value: str, font: str, width: float = 62 * mm, height: float = 12 * mm
    ) -> None:
        super().__init__()
        self.value, self.font = value, font
        self.width, self.bar_height = width, height
        self.height = height + 4 * mm
        self._code = code128.Code128(value, barHeight=height, humanReadable=False, quiet=False)
        self._code.barWidth = min(1.2, width / max(self._code.width / self._code.barWidth, 1))
        self._code = code128.Code128(
            value, barHeight=height, barWidth=self._code.barWidth, humanReadable=False, quiet=False
        )

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        x = self.width - self._code.width
        self._code.drawOn(canvas, x, 4 * mm)
        canvas.setFont(self.font, 8)
        canvas.setFillColor(INK)
        canvas.drawRightString(self.width, 0.5 * mm, self.value)


def _number(value: Any) -> str:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format(d.normalize(), "f")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return (value.astimezone() if value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "")
    if "T" in text:
        try:
            # The server speaks UTC; print the workstation's local time.
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.astimezone().strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return text
    return text


def _age(dob: Any, on: date) -> str:
    try:
        born = dob if isinstance(dob, date) else date.fromisoformat(str(dob)[:10])
    except ValueError:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return f" ({years} y)"


class _Logo(Flowable):
    """The hospital's logo scaled to ``height``, keeping its proportions (at most 60 mm wide)."""

    def __init__(self, data: bytes, height: float) -> None:
        super().__init__()
        self.image = ImageReader(io.BytesIO(data))
        w, h = self.image.getSize()
        self.height = height
        self.width = min(60 * mm, height * w / max(h, 1))

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(
            self.image,
            0,
            0,
            self.width,
            self.height,
            mask="auto",
            preserveAspectRatio=True,
            anchor="sw",
        )


def _encounter_text(prescription: PrescriptionRead) -> str:
    encounter = prescription.encounter
    if encounter is None:
        return f"#{prescription.encounter_id}" if prescription.encounter_id else ""
    text = f"{encounter.kind.capitalize()} visit, {_date(encounter.started_at)}"
    return f"{text} — {encounter.reason}" if encounter.reason else text


def render_prescription(
    prescription: PrescriptionRead,
    hospital: HospitalInfo,
    *,
    allergies: Sequence[str] = (),
    patient_facts: PatientFacts | None = None,
    printed_at: datetime | None = None,
) -> bytes:
    """The prescription as PDF bytes (A4). ``allergies``: each active allergy as printed
    ("penicillin (severe — anaphylaxis)"); ``patient_facts``: address, weight and whether
    allergies were ever recorded."""
    facts = patient_facts or PatientFacts()
    regular, bold = register_fonts()
    printed_at = printed_at or datetime.now()
    styles = {
        "hospital": ParagraphStyle(
            "hospital", fontName=bold, fontSize=15, leading=18, textColor=INK
        ),
        "small": ParagraphStyle(
            "small", fontName=regular, fontSize=8.5, leading=11, textColor=MUTED
        ),
        "title": ParagraphStyle(
            "title", fontName=bold, fontSize=13, leading=16, textColor=INK, spaceBefore=2
        ),
        "label": ParagraphStyle("label", fontName=regular, fontSize=8, leading=10, textColor=MUTED),
        "value": ParagraphStyle("value", fontName=bold, fontSize=10.5, leading=13, textColor=INK),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=9.5, leading=12, textColor=INK),
        "cellb": ParagraphStyle("cellb", fontName=bold, fontSize=9.5, leading=12, textColor=INK),
        "head": ParagraphStyle("head", fontName=bold, fontSize=8.5, leading=10, textColor=INK),
        "right": ParagraphStyle(
            "right", fontName=regular, fontSize=9, leading=12, textColor=INK, alignment=TA_RIGHT
        ),
        "warn": ParagraphStyle(
            "warn", fontName=bold, fontSize=9.5, leading=12, textColor=colors.HexColor("#9b1c1c")
        ),
    }
    number = prescription.number
    patient = prescription.patient
    width = A4[0] - 2 * MARGIN - 12  # the frame keeps 6 pt padding on each side

    def p(text: Any, style: str = "cell") -> Paragraph:
        return Paragraph(escape(str(text if text is not None else "")), styles[style])

    story: list[Flowable] = []
    # Letterhead: logo and hospital on the left, barcode of the prescription number right.
    contact = [
        x
        for x in (hospital.address, " · ".join(y for y in (hospital.phone, hospital.email) if y))
        if x
    ]
    left: list[Flowable] = [p(hospital.name, "hospital"), *(p(c, "small") for c in contact)]
    if hospital.logo:
        try:
            logo: Flowable | None = _Logo(hospital.logo, 16 * mm)
        except (OSError, ValueError):
            logo = None  # an unreadable image: the letterhead prints without it
        if logo is not None:
            left = [
                Table(
                    [[logo, left]],
                    colWidths=[logo.width + 4 * mm, None],
                    style=TableStyle(
                        [
                            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                        ]
                    ),
                )
            ]
    header = Table([[left, _Barcode(number, regular)]], colWidths=[width - 66 * mm, 66 * mm])
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    story += [header, Spacer(1, 4 * mm)]
    story.append(
        Table(
            [
                [
                    p("Prescription", "title"),
                    Paragraph(
                        f"No. <b>{escape(number)}</b><br/>Date: "
                        f"{escape(_date(prescription.created_at))}",
                        styles["right"],
                    ),
                ]
            ],
            colWidths=[width / 2, width / 2],
            style=TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ]
            ),
        )
    )
    story.append(Spacer(1, 3 * mm))

    # Patient and prescriber.
    name = " ".join(x for x in (patient.given_name, patient.family_name) if x) if patient else ""
    dob = patient.date_of_birth if patient else None
    sex = patient.sex.capitalize() if patient else ""
    mrn = patient.mrn if patient else None

    def field(label: str, value: Any) -> list[Paragraph]:
        return [p(label, "label"), p(value or "—", "value")]

    who = Table(
        [
            [
                field("Patient", name),
                field("MRN", mrn),
                field(
                    "Date of birth", f"{dob or '—'}{_age(dob, printed_at.date()) if dob else ''}"
                ),
                field("Sex", sex),
            ],
            [
                field("Address", facts.address),
                "",
                field("Weight", facts.weight or "not recorded"),
                "",
            ],
            [
                field("Prescriber", prescription.prescriber_name),
                field("Registration no.", prescription.prescriber_registration),
                field("Encounter", _encounter_text(prescription)),
                "",
            ],
            [field("Status", prescription.status.capitalize()), "", "", ""],
        ],
        colWidths=[width * 0.36, width * 0.22, width * 0.26, width * 0.16],
    )
    who.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("LINEBELOW", (0, 1), (-1, 1), 0.4, RULE),
                ("SPAN", (0, 1), (1, 1)),
                ("SPAN", (2, 1), (3, 1)),
                ("SPAN", (2, 2), (3, 2)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    story += [who, Spacer(1, 3 * mm)]
    if allergies:
        story += [p("Allergies: " + "; ".join(allergies), "warn"), Spacer(1, 2 * mm)]
    elif not facts.allergies_recorded:
        story += [
            p("Allergies: not recorded — check with the patient before dispensing", "warn"),
            Spacer(1, 2 * mm),
        ]
    else:
        story += [p("No known allergies recorded", "cell"), Spacer(1, 2 * mm)]

    # Items.
    rows: list[list[Any]] = [
        [
            p("#", "head"),
            p("Medicine", "head"),
            p("Dose", "head"),
            p("Route", "head"),
            p("Frequency", "head"),
            p("Duration", "head"),
            p("Qty", "head"),
        ]
    ]
    for n, item in enumerate(prescription.items, start=1):
        medicine = " ".join(str(x) for x in (item.generic_name, item.strength) if x)
        cell: list[Paragraph] = [p(medicine, "cellb")]
        if item.form:
            cell.append(p(item.form, "small"))
        if item.instructions:
            cell.append(p(item.instructions, "small"))
        duration = f"{item.duration_days} days" if item.duration_days else "—"
        rows.append(
            [
                p(item.line_no or n),
                cell,
                p(f"{_number(item.dose)} {item.unit}"),
                p(item.route),
                p(item.frequency),
                p(duration),
                p(_number(item.quantity)),
            ]
        )
    fixed = [10 * mm, width * 0.33, width * 0.13, width * 0.11, width * 0.17, width * 0.11]
    items = Table(rows, colWidths=[*fixed, width - sum(fixed)], repeatRows=1)
    items.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    story.append(items)
    if prescription.notes:
        story += [Spacer(1, 3 * mm), p("Notes", "label"), p(prescription.notes)]
    for override in prescription.overrides:
        # The pharmacist sees what the safety check found and why the prescriber went ahead.
        found = "; ".join(f"{c.severity.upper()}: {c.reason}" for c in override.conflicts)
        story += [
            Spacer(1, 3 * mm),
            p("Safety check overridden by the prescriber", "warn"),
            p(found or "—", "small"),
            p(f"Reason: {override.reason} ({_date(override.created_at)})", "cell"),
        ]

    # Signature block kept on one page with the last lines above it.
    signature = Table(
        [
            ["", "", ""],
            [
                p(f"{prescription.prescriber_name or 'Prescriber'} — signature", "small"),
                "",
                p("Date", "small"),
            ],
        ],
        colWidths=[width * 0.58, width * 0.1, width * 0.32],
        rowHeights=[14 * mm, None],
    )
    signature.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (0, 0), 0.8, INK),
                ("LINEBELOW", (2, 0), (2, 0), 0.8, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [Spacer(1, 10 * mm), KeepTogether([signature])]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        # Every page names the patient, so a loose second page is never anonymous.
        canvas.drawString(
            MARGIN + 6,
            9 * mm,
            f"Prescription {number} · {name} · MRN {mrn or '—'}"
            f" · printed {printed_at.strftime('%Y-%m-%d %H:%M')}",
        )
        canvas.drawRightString(A4[0] - MARGIN - 6, 9 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return render_pdf(
        story,
        pagesize=A4,
        margin=MARGIN,
        on_page=footer,
        title=f"Prescription {number}",
        author=hospital.name,
        subject="Prescription",
    )
