"""What every billing printout shares: the hospital letterhead (logo, name, address, phone,
tax id), money in the configured currency, the QR code of the document number, paragraph
styles in the shipped DejaVu font (names in any script), and the page footer.

Pure reportlab, no Qt: documents are rendered on the task runner, never the GUI thread.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle

from hms_desktop.printing.fonts import register_fonts

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
HEAD_BG = colors.HexColor("#e4e7eb")
ACCENT = colors.HexColor("#0b4f6c")
ALERT = colors.HexColor("#9b1c1c")

_SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "CHF": "CHF",
    "NGN": "₦",
    "KES": "KSh",
    "ZAR": "R",
}


@dataclass(frozen=True)
class Letterhead:
    """The hospital as printed at the top of every billing document (from ``GET /me`` →
    ``hospital``, the logo from ``GET /billing/logo``)."""

    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    tax_id: str = ""
    currency: str = "EUR"
    minor_unit: int = 2
    logo: bytes | None = None

    @classmethod
    def from_hospital(cls, hospital: Any, logo: bytes | None = None) -> Letterhead:
        return cls(
            name=hospital.name,
            address=hospital.address or "",
            phone=hospital.phone or "",
            email=hospital.email or "",
            tax_id=hospital.tax_id or "",
            currency=hospital.currency,
            minor_unit=hospital.currency_minor_unit,
            logo=logo,
        )


def amount_text(amount: Decimal | None, minor_unit: int = 2) -> str:
    """``1234.5`` → ``1,234.50`` (the currency's decimals, thousands grouped)."""
    if amount is None:
        return ""
    quantum = Decimal(1).scaleb(-minor_unit)
    return f"{amount.quantize(quantum):,.{minor_unit}f}"


def money_text(amount: Decimal | None, head: Letterhead) -> str:
    """``€1,234.50`` (or ``KWD 1,234.500`` where no symbol is common)."""
    if amount is None:
        return ""
    symbol = _SYMBOLS.get(head.currency)
    number = amount_text(abs(amount), head.minor_unit)
    sign = "−" if amount < 0 else ""
    if symbol and len(symbol) == 1:
        return f"{sign}{symbol}{number}"
    return f"{sign}{symbol or head.currency} {number}"


def date_text(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d %b %Y %H:%M")
    return value.strftime("%d %b %Y")


class Styles:
    """Paragraph styles of billing documents (built once per render; cheap)."""

    def __init__(self) -> None:
        self.regular, self.bold = register_fonts()
        r, b = self.regular, self.bold
        self.hospital = ParagraphStyle(
            "hospital", fontName=b, fontSize=14, leading=17, textColor=INK
        )
        self.small = ParagraphStyle("small", fontName=r, fontSize=8, leading=10, textColor=MUTED)
        self.title = ParagraphStyle("title", fontName=b, fontSize=16, leading=19, textColor=ACCENT)
        self.label = ParagraphStyle("label", fontName=r, fontSize=7.5, leading=9, textColor=MUTED)
        self.value = ParagraphStyle("value", fontName=b, fontSize=10, leading=12.5, textColor=INK)
        self.cell = ParagraphStyle("cell", fontName=r, fontSize=8.5, leading=10.5, textColor=INK)
        self.cell_right = ParagraphStyle("cellr", parent=self.cell, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", fontName=b, fontSize=8, leading=10, textColor=INK)
        self.head_right = ParagraphStyle("headr", parent=self.head, alignment=TA_RIGHT)
        self.total = ParagraphStyle(
            "total", fontName=b, fontSize=11, leading=14, textColor=INK, alignment=TA_RIGHT
        )
        self.note = ParagraphStyle("note", fontName=r, fontSize=8.5, leading=11, textColor=INK)
        self.alert = ParagraphStyle("alert", fontName=b, fontSize=9, leading=11, textColor=ALERT)

    def p(self, text: Any, style: str = "cell") -> Paragraph:
        return Paragraph(escape(str(text if text is not None else "")), getattr(self, style))


class QrCode(Flowable):
    """A QR code of ``value`` with the value printed under it (scanners read the number
    back into the desktop's search). Drawn as one path of runs of dark modules, which is
    many times faster than a shape per module (renders are benchmarked in bench/)."""

    def __init__(self, value: str, font: str, size: float = 22 * mm) -> None:
        super().__init__()
        self.value, self.font, self.size = value, font, size
        code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        code.addData(value)
        # Any of the eight standard masks is valid; scoring all of them (``make``) costs
        # more than the rest of a small invoice, so use the first.
        code.version = code.calculate_version()
        code.makeImpl(False, 0)
        count = code.getModuleCount()
        self._runs: list[tuple[int, int, int]] = []  # (row, first column, length)
        for row in range(count):
            start = None
            for col in range(count + 1):
                dark = col < count and code.isDark(row, col)
                if dark and start is None:
                    start = col
                elif not dark and start is not None:
                    self._runs.append((row, start, col - start))
                    start = None
        self._count = count
        self.width, self.height = size, size + 3 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        module = self.size / (self._count + 2)  # a one-module quiet zone each side
        top = 3 * mm + self.size - module
        path = canvas.beginPath()
        for row, col, length in self._runs:
            path.rect(module * (col + 1), top - module * (row + 1), module * length, module)
        canvas.setFillColor(INK)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.setFont(self.font, 6.5)
        canvas.drawCentredString(self.width / 2, 0.5 * mm, self.value)


def letterhead_block(
    head: Letterhead,
    styles: Styles,
    width: float,
    *,
    title: str,
    facts: list[tuple[str, str]],
    qr_value: str | None,
) -> Table:
    """Logo and hospital on the left; the document title, its facts and QR on the right."""
    contact = [
        x
        for x in (
            head.address,
            " · ".join(y for y in (head.phone, head.email) if y),
            f"Tax ID: {head.tax_id}" if head.tax_id else "",
        )
        if x
    ]
    left: list[Any] = []
    if head.logo:
        try:
            logo = Image(io.BytesIO(head.logo))
            scale = min(40 * mm / logo.imageWidth, 16 * mm / logo.imageHeight)
            logo.drawWidth, logo.drawHeight = logo.imageWidth * scale, logo.imageHeight * scale
            logo.hAlign = "LEFT"
            left.append(logo)
        except Exception:  # a broken logo must not stop the print
            left = []
    left += [styles.p(head.name, "hospital")] + [styles.p(line, "small") for line in contact]
    compact = width < 140 * mm  # A5 receipts
    label_w, value_w, qr_w = (18 * mm, 36 * mm, 21 * mm) if compact else (24 * mm, 42 * mm, 26 * mm)
    right: list[Any] = [styles.p(title, "title")]
    rows = [[label, value] for label, value in facts]
    right.append(
        Table(
            rows,
            colWidths=[label_w, value_w],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (0, -1), styles.regular),
                    ("FONTSIZE", (0, 0), (0, -1), 7.5),
                    ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                    ("FONTNAME", (1, 0), (1, -1), styles.bold),
                    ("FONTSIZE", (1, 0), (1, -1), 10),
                    ("TEXTCOLOR", (1, 0), (1, -1), INK),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            ),
        )
    )
    cells = [left, right]
    widths = [width - label_w - value_w - (qr_w if qr_value else 0), label_w + value_w]
    if qr_value:
        cells.append(QrCode(qr_value, styles.regular, size=qr_w - 4 * mm))
        widths.append(qr_w)
    table = Table([cells], colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("ALIGN", (-1, 0), (-1, 0), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def totals_table(
    styles: Styles,
    rows: list[tuple[str, str, bool]],
    widths: tuple[float, float] = (34 * mm, 34 * mm),
) -> Table:
    """Label/amount rows, amounts right-aligned; ``strong`` rows bold and larger."""
    table = Table([[label, value] for label, value, _strong in rows], colWidths=list(widths))
    rules: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), styles.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for index, (_label, _value, strong) in enumerate(rows):
        if strong:
            rules += [
                ("FONTNAME", (0, index), (-1, index), styles.bold),
                ("FONTSIZE", (1, index), (1, index), 11),
                ("LINEABOVE", (0, index), (-1, index), 0.8, INK),
            ]
    table.setStyle(TableStyle(rules))
    return table


def grid_style(
    styles: Styles, header_rows: int = 1, right_from: int | None = None
) -> list[tuple[Any, ...]]:
    """Table style of a grid whose cells are plain strings (much faster than paragraphs):
    the header row bold on grey, numbers right-aligned from column ``right_from``."""
    rules: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), styles.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("LEADING", (0, 0), (-1, -1), 10.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONTNAME", (0, 0), (-1, header_rows - 1), styles.bold),
        ("FONTSIZE", (0, 0), (-1, header_rows - 1), 8),
    ]
    if right_from is not None:
        rules.append(("ALIGN", (right_from, 0), (-1, -1), "RIGHT"))
    return [
        *rules,
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def footer(
    styles: Styles, text: str, *, watermark: str | None = None, margin: float = 14 * mm
) -> Callable[[Any, Any], None]:
    """Page footer (what the page belongs to, page number) and an optional watermark
    (DRAFT, VOID) across every page."""

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        width, _height = doc.pagesize
        if watermark:
            canvas.setFont(styles.bold, 72)
            canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.12))
            canvas.translate(width / 2, doc.pagesize[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, watermark)
            canvas.restoreState()
            canvas.saveState()
        canvas.setFont(styles.regular, 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(margin, 8 * mm, text)
        canvas.drawRightString(width - margin, 8 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw
