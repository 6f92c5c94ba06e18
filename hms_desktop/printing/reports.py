"""A management report as a PDF: the hospital letterhead, the report's title and period,
its headline figures, its trend chart and its tables (A4 landscape, so wide tables fit).

Takes plain texts already formatted as the screen shows them (``ReportDocument``), so the
printout and the screen never disagree. Pure reportlab in the shipped DejaVu font; no Qt —
rendered on the task runner.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hms_desktop.printing.billing_common import (
    HEAD_BG,
    INK,
    RULE,
    Letterhead,
    Styles,
    footer,
    grid_style,
    letterhead_block,
)

MARGIN = 14 * mm
CHART_COLOURS = ("#1f5fa8", "#7b3fa0", "#00796b", "#b26a00")
MARKERS = ("FilledCircle", "FilledSquare", "FilledDiamond", "FilledTriangle")


@dataclass(frozen=True)
class PrintTable:
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # per column: right-aligned


@dataclass(frozen=True)
class PrintChart:
    title: str
    unit: str
    series: list[tuple[str, list[tuple[date, float]]]]


@dataclass(frozen=True)
class ReportDocument:
    title: str
    period: str
    generated: str  # "01 Dec 2026 09:14 by J. Manager"
    kpis: list[tuple[str, str]]
    tables: list[PrintTable]
    chart: PrintChart | None = None
    notes: list[str] = field(default_factory=list)


def _kpi_strip(styles: Styles, kpis: list[tuple[str, str]], width: float) -> Table:
    cells = [
        [styles.p(label, "label") for label, _ in kpis],
        [styles.p(v, "value") for _, v in kpis],
    ]
    table = Table(cells, colWidths=[width / max(len(kpis), 1)] * len(kpis))
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("LINEAFTER", (0, 0), (-2, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f5f7fa")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _chart(styles: Styles, chart: PrintChart, width: float) -> Drawing | None:
    series = [(name, pts) for name, pts in chart.series if pts]
    if not series:
        return None
    height = 62 * mm
    drawing = Drawing(width, height)
    title = f"{chart.title} ({chart.unit})" if chart.unit else chart.title
    drawing.add(String(0, height - 10, title, fontName=styles.bold, fontSize=9, fillColor=INK))
    plot = LinePlot()
    plot.x, plot.y = 14 * mm, 10 * mm
    plot.width, plot.height = width - 20 * mm, height - 24 * mm
    plot.data = [[(day.toordinal(), value) for day, value in pts] for _name, pts in series]
    xs = [day.toordinal() for _n, pts in series for day, _v in pts]
    ys = [value for _n, pts in series for _d, value in pts]
    plot.xValueAxis.valueMin = min(xs) - 0.5
    plot.xValueAxis.valueMax = max(xs) + 0.5
    span = max(xs) - min(xs)
    step = max(1, round(span / 10)) if span else 1
    plot.xValueAxis.valueSteps = list(range(min(xs), max(xs) + 1, step))
    plot.xValueAxis.labelTextFormat = lambda x: date.fromordinal(int(x)).strftime("%d %b")
    plot.xValueAxis.labels.fontName = styles.regular
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.valueMin = min(0.0, min(ys))
    plot.yValueAxis.valueMax = max(ys) * 1.1 if max(ys) > 0 else 1
    plot.yValueAxis.labels.fontName = styles.regular
    plot.yValueAxis.labels.fontSize = 7
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#d9dee4")
    for i in range(len(series)):
        colour = colors.HexColor(CHART_COLOURS[i % len(CHART_COLOURS)])
        plot.lines[i].strokeColor = colour
        plot.lines[i].strokeWidth = 1.5
        plot.lines[i].symbol = makeMarker(MARKERS[i % len(MARKERS)], size=3.5, fillColor=colour)
    drawing.add(plot)
    legend = Legend()
    legend.x, legend.y = width - 4 * mm, height - 6
    legend.alignment = "right"
    legend.boxAnchor = "ne"
    legend.columnMaximum = 1
    legend.dx, legend.dy = 8, 6
    legend.fontName, legend.fontSize = styles.regular, 7.5
    legend.deltax = 60
    legend.colorNamePairs = [
        (colors.HexColor(CHART_COLOURS[i % len(CHART_COLOURS)]), name)
        for i, (name, _pts) in enumerate(series)
    ]
    legend.autoXPadding = 10
    drawing.add(legend)
    return drawing


def _table(styles: Styles, table: PrintTable, width: float) -> list[object]:
    heading = styles.p(table.title, "value")
    if not table.rows:
        return [KeepTogether([heading, styles.p("No data in this period.", "note")])]
    data = [table.headers, *table.rows]
    grid = Table(data, repeatRows=1, hAlign="LEFT")
    rules = grid_style(styles)
    for column, numeric in enumerate(table.numeric):
        if numeric:
            rules.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    rules.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    grid.setStyle(TableStyle(rules))
    return [CondPageBreak(30 * mm), heading, Spacer(1, 2 * mm), grid]


def render_report(document: ReportDocument, head: Letterhead) -> bytes:
    """The report as PDF bytes."""
    styles = Styles()
    buffer = io.BytesIO()
    pagesize = landscape(A4)
    width = pagesize[0] - 2 * MARGIN
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=12 * mm,
        bottomMargin=16 * mm,
        title=f"{document.title} — {document.period}",
        author=head.name,
    )
    story: list[object] = [
        letterhead_block(
            head,
            styles,
            width,
            title=document.title,
            facts=[("Period", document.period), ("Printed", document.generated)],
            qr_value=None,
        ),
        Spacer(1, 4 * mm),
    ]
    if document.kpis:
        story += [_kpi_strip(styles, document.kpis, width), Spacer(1, 5 * mm)]
    if document.chart is not None:
        drawing = _chart(styles, document.chart, width)
        if drawing is not None:
            story += [drawing, Spacer(1, 4 * mm)]
    for table in document.tables:
        story += [*_table(styles, table, width), Spacer(1, 5 * mm)]
    for note in document.notes:
        story.append(styles.p(note, "small"))
    doc.build(
        story,
        onFirstPage=footer(styles, f"{head.name} · {document.title} · {document.period}"),
        onLaterPages=footer(styles, f"{head.name} · {document.title} · {document.period}"),
    )
    return buffer.getvalue()
