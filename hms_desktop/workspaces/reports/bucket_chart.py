"""A custom-painted chart of a report's series: one category per bucket (day, week, month).

Few buckets are drawn as grouped bars, many as lines with a marker per bucket; either way
the x axis names buckets as the tables do ("Mon 07", "w/c 07 Mar", "Mar 2026"), thinned so
labels never overlap. Hovering a bucket shows every series' value for it; the accessible
description states the totals in words. (The vital-signs ``TrendChart`` plots readings on
a continuous time axis, which labels a two-day report in hours.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hms_desktop.qt import (
    QBrush,
    QColor,
    QEvent,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPointF,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QToolTip,
    QWidget,
)
from hms_desktop.widgets.trend_chart import SERIES_COLOURS, nice_ticks

MAX_BARS = 16  # more buckets than this are drawn as lines
MAX_BAR_WIDTH = 56.0  # logical pixels: one bucket is not a wall of colour


@dataclass(frozen=True)
class ChartLine:
    name: str
    values: dict[date, float]
    colour: str


def short_label(day: date, grouping: str) -> str:
    if grouping == "month":
        return day.strftime("%b %Y")
    if grouping == "week":
        return day.strftime("w/c %d %b")
    return day.strftime("%a %d %b")


class BucketChart(QWidget):
    """Paints ``lines`` over ``buckets``. GUI thread only; holds no data source."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.title, self.unit, self.grouping = "", "", "day"
        self.buckets: list[date] = []
        self.lines: list[ChartLine] = []
        self._slots: list[tuple[float, float, date]] = []  # (left, right, bucket)

    def set_data(
        self,
        title: str,
        unit: str,
        buckets: list[date],
        series: list[tuple[str, list[tuple[date, float]]]],
        grouping: str,
    ) -> None:
        self.title, self.unit, self.grouping = title, unit, grouping
        self.buckets = sorted(set(buckets) | {d for _n, pts in series for d, _v in pts})
        self.lines = [
            ChartLine(name, dict(points), SERIES_COLOURS[i % len(SERIES_COLOURS)])
            for i, (name, points) in enumerate(series)
        ]
        totals = "; ".join(
            self.tr("{name}: {total:g} in total").format(
                name=line.name, total=sum(line.values.values())
            )
            for line in self.lines
        )
        self.setAccessibleDescription(
            self.tr("{title} over {n} periods. {totals}").format(
                title=title, n=len(self.buckets), totals=totals
            )
        )
        self.update()

    def as_bars(self) -> bool:
        return len(self.buckets) <= MAX_BARS

    def sizeHint(self) -> QSize:
        return QSize(640, 260)

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        fm = QFontMetrics(self.font())
        text = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        self._slots = []
        if not self.buckets:
            painter.end()
            return
        values = [v for line in self.lines for v in line.values.values()] or [0.0]
        high = max(max(values), 0.0)
        low = min(min(values), 0.0)
        ticks = nice_ticks(low, high if high > low else low + 1, 6)
        top_value, bottom_value = max(ticks[-1], high), min(ticks[0], low)
        label_w = max(fm.horizontalAdvance(f"{t:,.10g}") for t in ticks) + 10
        plot = QRectF(
            label_w + 4,
            fm.height() * 2,
            max(self.width() - label_w - 16, 10),
            max(self.height() - fm.height() * 4.4, 10),
        )

        def y_of(value: float) -> float:
            span = (top_value - bottom_value) or 1.0
            return plot.bottom() - (value - bottom_value) / span * plot.height()

        # Title and legend.
        painter.setPen(text)
        heading = f"{self.title} ({self.unit})" if self.unit else self.title
        painter.drawText(QPointF(plot.left(), fm.ascent() + 2), heading)
        x = plot.left() + fm.horizontalAdvance(heading) + 24
        for line in self.lines:
            painter.fillRect(QRectF(x, fm.height() / 2 - 3, 14, 8), QColor(line.colour))
            painter.setPen(text)
            painter.drawText(QPointF(x + 18, fm.ascent() + 2), line.name)
            x += 18 + fm.horizontalAdvance(line.name) + 18

        # Value grid.
        grid = QPen(pal.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine)
        for t in ticks:
            y = y_of(t)
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            label = f"{t:,.10g}"
            painter.drawText(
                QPointF(plot.left() - fm.horizontalAdvance(label) - 6, y + fm.ascent() / 2 - 1),
                label,
            )
        painter.setPen(QPen(muted, 1))
        painter.drawLine(QPointF(plot.left(), y_of(0)), QPointF(plot.right(), y_of(0)))

        # Buckets: a slot each; labels thinned to what fits.
        n = len(self.buckets)
        slot_w = plot.width() / n
        sample = max((short_label(b, self.grouping) for b in self.buckets), key=len)
        every = max(1, int((fm.horizontalAdvance(sample) + 12) // max(slot_w, 1)) + 1)
        for i, bucket in enumerate(self.buckets):
            left = plot.left() + i * slot_w
            self._slots.append((left, left + slot_w, bucket))
            if i % every == 0:
                label = short_label(bucket, self.grouping)
                w = fm.horizontalAdvance(label)
                centre = left + slot_w / 2
                lx = min(max(centre - w / 2, 0), self.width() - w - 2)
                painter.setPen(muted)
                painter.drawText(QPointF(lx, plot.bottom() + fm.height() + 2), label)

        if self.as_bars():
            bar_w = min(slot_w * 0.72 / max(len(self.lines), 1), MAX_BAR_WIDTH)
            group_w = bar_w * max(len(self.lines), 1)
            for i, bucket in enumerate(self.buckets):
                left = plot.left() + i * slot_w + (slot_w - group_w) / 2
                for j, line in enumerate(self.lines):
                    value = line.values.get(bucket)
                    if value is None:
                        continue
                    top, base = y_of(max(value, 0)), y_of(min(value, 0))
                    rect = QRectF(left + j * bar_w, top, bar_w * 0.9, max(base - top, 1))
                    painter.fillRect(rect, QColor(line.colour))
        else:
            for line in self.lines:
                colour = QColor(line.colour)
                path = QPainterPath()
                started = False
                for i, bucket in enumerate(self.buckets):
                    value = line.values.get(bucket)
                    if value is None:
                        continue
                    point = QPointF(plot.left() + (i + 0.5) * slot_w, y_of(value))
                    if started:
                        path.lineTo(point)
                    else:
                        path.moveTo(point)
                        started = True
                painter.setPen(QPen(colour, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(path)
                painter.setBrush(QBrush(colour))
                for i, bucket in enumerate(self.buckets):
                    value = line.values.get(bucket)
                    if value is not None:
                        point = QPointF(plot.left() + (i + 0.5) * slot_w, y_of(value))
                        painter.drawEllipse(point, 2.5, 2.5)
        painter.end()

    # -- tooltips ------------------------------------------------------------------------------
    def bucket_at(self, x: float) -> date | None:
        for left, right, bucket in self._slots:
            if left <= x < right:
                return bucket
        return None

    def bucket_text(self, bucket: date) -> str:
        parts = [short_label(bucket, self.grouping)]
        for line in self.lines:
            value = line.values.get(bucket)
            shown = "–" if value is None else f"{value:,.10g}"
            parts.append(f"{line.name}: {shown} {self.unit}".rstrip())
        return "\n".join(parts)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            bucket = self.bucket_at(event.pos().x())  # type: ignore[attr-defined]
            if bucket is not None:
                QToolTip.showText(event.globalPos(), self.bucket_text(bucket), self)  # type: ignore[attr-defined]
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
