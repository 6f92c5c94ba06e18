"""A small custom-painted line chart for vital-sign trends (QtCharts is not a dependency).

Draws a reference-range band, value and time axes with readable ticks, one or more series
with a marker per reading, and flags readings outside the band with a hollow red ring as
well as colour. Hovering a reading shows its time, value and flag in a tooltip; the
accessible description summarises the latest reading in words. Everything is measured in
logical pixels with the widget's font, so it stays sharp and legible on HiDPI screens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Painting classes that the shared ``hms_desktop.qt`` wrapper does not export yet.
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

SERIES_COLOURS = ("#1f5fa8", "#7b3fa0", "#00796b", "#b26a00")
ABNORMAL = "#c62828"
BAND = QColor(46, 125, 50, 38)


@dataclass
class Series:
    """One line: ``points`` are ``(datetime, value)`` oldest first."""

    name: str
    points: list[tuple[datetime, float]] = field(default_factory=list)
    colour: str = SERIES_COLOURS[0]
    normal: tuple[float, float] | None = None  # this series' own range; else the chart's


def parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone()


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low``..``high`` (1, 2, 5 × 10ⁿ steps)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5:
        ticks.append(round(value, 6))
        value += step
    return ticks


class TrendChart(QWidget):
    """Paints ``series`` against time. GUI thread only; holds no data source of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(self.tr("Trend chart"))
        self.series: list[Series] = []
        self.unit = ""
        self.title = ""
        self.band: tuple[float, float] | None = None
        self._hits: list[tuple[QPointF, Series, datetime, float]] = []
        self._update_description()

    # -- data --------------------------------------------------------------------------
    def set_data(
        self, title: str, unit: str, series: list[Series], band: tuple[float, float] | None = None
    ) -> None:
        self.title, self.unit, self.series, self.band = title, unit, series, band
        for i, s in enumerate(series):
            if not s.colour:
                s.colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        self._update_description()
        self.update()

    def clear(self) -> None:
        self.set_data("", "", [])

    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)

    def _normal(self, series: Series | None) -> tuple[float, float] | None:
        return series.normal if series is not None and series.normal else self.band

    def is_abnormal(self, value: float, series: Series | None = None) -> bool:
        band = self._normal(series)
        return band is not None and not band[0] <= value <= band[1]

    def flag_text(self, value: float, series: Series | None = None) -> str:
        band = self._normal(series)
        if band is None:
            return ""
        if value < band[0]:
            return self.tr("low")
        if value > band[1]:
            return self.tr("high")
        return self.tr("normal")

    def _update_description(self) -> None:
        if not self.point_count():
            text = self.tr("No readings to chart yet.")
        else:
            parts = []
            for s in self.series:
                if not s.points:
                    continue
                when, value = s.points[-1]
                parts.append(
                    self.tr(
                        "{name}: {n} readings, latest {value:g} {unit} ({flag}) on {when}"
                    ).format(
                        name=s.name,
                        n=len(s.points),
                        value=value,
                        unit=self.unit,
                        flag=self.flag_text(value, s) or "—",
                        when=when.strftime("%d %b %Y %H:%M"),
                    )
                )
            text = "; ".join(parts)
        self.setAccessibleDescription(text)
        self.setToolTip("")

    def sizeHint(self) -> QSize:
        return QSize(560, 260)

    # -- geometry ----------------------------------------------------------------------
    def _ranges(self) -> tuple[datetime, datetime, float, float]:
        points = [p for s in self.series for p in s.points]
        times = [t for t, _ in points]
        values = [v for _, v in points]
        for band in self._bands():
            values += list(band)
        low, high = min(values), max(values)
        pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
        first, last = min(times), max(times)
        if first == last:
            first = datetime.fromtimestamp(first.timestamp() - 43200, first.tzinfo)
            last = datetime.fromtimestamp(last.timestamp() + 43200, last.tzinfo)
        return first, last, low - pad, high + pad

    def _bands(self) -> list[tuple[float, float]]:
        bands = [s.normal for s in self.series if s.normal]
        if self.band and not bands:
            bands.append(self.band)
        return list(dict.fromkeys(bands))

    def _band_text(self) -> str:
        bands = self._bands()
        if not bands:
            return ""
        return self.tr("Normal range {ranges}").format(
            ranges=", ".join(f"{lo:g}–{hi:g}" for lo, hi in bands)
        )

    def _band_on_own_line(self, fm: QFontMetrics, width: float) -> bool:
        """Whether the normal-range note would run into the legend on the title line (a
        narrow chart): it then gets a line of its own instead of overlapping."""
        band_text = self._band_text()
        if not band_text:
            return False
        heading = f"{self.title} ({self.unit})" if self.unit else self.title
        legend = fm.horizontalAdvance(heading) + 24
        legend += sum(22 + fm.horizontalAdvance(s.name) + 18 for s in self.series)
        return legend + fm.horizontalAdvance(band_text) + 12 > width

    def _plot_rect(self, fm: QFontMetrics, ticks: list[float]) -> QRectF:
        label_w = max(fm.horizontalAdvance(f"{t:g}") for t in ticks) + 10
        width = max(self.width() - label_w - 20, 10)
        top = fm.height() * (2.9 if self._band_on_own_line(fm, width) else 1.8)
        return QRectF(
            label_w + 4,
            top,
            width,
            max(self.height() - top - fm.height() * 2.2, 10),
        )

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        fm = QFontMetrics(self.font())
        text_colour = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        self._hits = []
        if not self.point_count():
            painter.setPen(muted)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("No readings to chart yet.")
            )
            painter.end()
            return
        first, last, low, high = self._ranges()
        ticks = [t for t in nice_ticks(low, high, 7) if low <= t <= high] or [low, high]
        plot = self._plot_rect(fm, ticks)
        span_t = (last - first).total_seconds()

        def x_of(when: datetime) -> float:
            return plot.left() + (when - first).total_seconds() / span_t * plot.width()

        def y_of(value: float) -> float:
            return plot.bottom() - (value - low) / (high - low) * plot.height()

        # Title and legend.
        painter.setPen(text_colour)
        heading = f"{self.title} ({self.unit})" if self.unit else self.title
        painter.drawText(QPointF(plot.left(), fm.ascent() + 2), heading)
        x = plot.left() + fm.horizontalAdvance(heading) + 24
        for s in self.series:
            painter.setPen(QPen(QColor(s.colour), 2))
            y = fm.height() / 2 + 2
            painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
            painter.setPen(text_colour)
            painter.drawText(QPointF(x + 22, fm.ascent() + 2), s.name)
            x += 22 + fm.horizontalAdvance(s.name) + 18
        bands = self._bands()
        band_text = self._band_text()
        if band_text:
            own_line = self._band_on_own_line(fm, plot.width())
            painter.setPen(muted)
            painter.drawText(
                QRectF(
                    plot.left(), fm.height() + 2 if own_line else 0, plot.width(), fm.height() + 4
                ),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                band_text,
            )

        # Reference bands.
        for lo, hi in bands:
            top, bottom = y_of(min(hi, high)), y_of(max(lo, low))
            painter.fillRect(QRectF(plot.left(), top, plot.width(), bottom - top), BAND)

        # Value grid and labels.
        grid = QPen(pal.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine)
        for t in ticks:
            y = y_of(t)
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(muted)
            label = f"{t:g}"
            painter.drawText(
                QPointF(plot.left() - fm.horizontalAdvance(label) - 6, y + fm.ascent() / 2 - 1),
                label,
            )
        painter.setPen(QPen(muted, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())

        # Time ticks: as many as fit without overlapping.
        same_day = first.date() == last.date()
        fmt = "%H:%M" if same_day else ("%d %b" if span_t > 3 * 86400 else "%d %b %H:%M")
        sample = first.strftime(fmt)
        slots = max(2, min(7, int(plot.width() / (fm.horizontalAdvance(sample) + 24))))
        for i in range(slots):
            when = datetime.fromtimestamp(
                first.timestamp() + span_t * i / (slots - 1), first.tzinfo
            )
            tx = x_of(when)
            painter.drawLine(QPointF(tx, plot.bottom()), QPointF(tx, plot.bottom() + 4))
            label = when.strftime(fmt)
            w = fm.horizontalAdvance(label)
            lx = min(max(tx - w / 2, 0), self.width() - w - 2)
            painter.drawText(QPointF(lx, plot.bottom() + fm.height() + 2), label)

        # Series.
        radius = 3.5
        for s in self.series:
            colour = QColor(s.colour)
            path = QPainterPath()
            for i, (when, value) in enumerate(s.points):
                point = QPointF(x_of(when), y_of(value))
                if i == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            for when, value in s.points:
                point = QPointF(x_of(when), y_of(value))
                self._hits.append((point, s, when, value))
                painter.setPen(QPen(colour, 1.5))
                painter.setBrush(QBrush(colour))
                painter.drawEllipse(point, radius, radius)
                if self.is_abnormal(value, s):
                    # A ring as well as a colour, so the flag survives colour blindness.
                    painter.setPen(QPen(QColor(ABNORMAL), 2))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawEllipse(point, radius + 3.5, radius + 3.5)
        painter.end()

    # -- tooltips ----------------------------------------------------------------------
    def reading_at(self, pos: QPointF, tolerance: float = 10.0) -> tuple | None:
        best, best_d = None, tolerance
        for point, s, when, value in self._hits:
            d = math.hypot(point.x() - pos.x(), point.y() - pos.y())
            if d <= best_d:
                best, best_d = (s, when, value), d
        return best

    def reading_text(self, s: Series, when: datetime, value: float) -> str:
        flag = self.flag_text(value, s)
        text = f"{when.strftime('%d %b %Y %H:%M')}\n{s.name}: {value:g} {self.unit}".rstrip()
        return f"{text} ({flag})" if flag else text

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.reading_at(QPointF(event.pos()))
            if hit:
                QToolTip.showText(event.globalPos(), self.reading_text(*hit), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
