"""The bed board: one tile per bed, painted by a delegate (a hospital's 900 beds are one
list view, not 900 widgets), coloured by status with the status word and symbol on every
tile, the patient's name, days in, and alerts (allergy, overdue doses, NEWS2).

Drag an occupied tile onto a free one to transfer the patient (the model emits
``sig_transfer_requested``; the workspace asks before it calls the server).
"""

from __future__ import annotations

from hms_contract.wards import BedRead
from hms_desktop.models.ward import (
    BED_STATUS,
    BedBoardModel,
    alert_texts,
    bed_status_text,
)
from hms_desktop.qt import (
    QAbstractItemView,
    QColor,
    QFont,
    QFontMetrics,
    QListView,
    QModelIndex,
    QPainter,
    QPen,
    QRect,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
    QWidget,
)

TILE = QSize(184, 96)
ALERT_RED = QColor("#c62828")


class BedTileDelegate(QStyledItemDelegate):
    """Paints one bed. GUI thread only.

    Fonts, metrics, colours and each bed's text lines are built once and reused (keyed by the
    view's font and by the bed's row object), so a repaint of a hospital's 900 tiles is
    mostly drawing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colours = {status: QColor(colour) for status, (_, _, colour) in BED_STATUS.items()}
        self._fills: dict[str, QColor] = {}
        for status, colour in self._colours.items():
            fill = QColor(colour)
            fill.setAlpha(20 if status == "free" else 34)
            self._fills[status] = fill
        self._fonts: dict[str, tuple[QFont, QFont, QFontMetrics, QFontMetrics]] = {}
        self._lines: dict[int, tuple[object, tuple[str, ...], bool]] = {}
        self._white = QColor("white")

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return TILE

    def _fonts_for(self, font: QFont) -> tuple[QFont, QFont, QFontMetrics, QFontMetrics]:
        key = font.key()
        found = self._fonts.get(key)
        if found is None:
            base = QFont(font)
            bold = QFont(font)
            bold.setBold(True)
            found = self._fonts[key] = (base, bold, QFontMetrics(base), QFontMetrics(bold))
        return found

    def _text_lines(self, bed: BedRead) -> tuple[tuple[str, ...], bool]:
        """(status word, name, details, alerts) of a bed, and whether the alerts are urgent;
        cached per row object (a reload brings new objects, so nothing goes stale)."""
        cached = self._lines.get(id(bed))
        if cached is not None and cached[0] is bed:
            return cached[1], cached[2]
        details = []
        if bed.days_in:
            details.append(self.tr("Day {n}").format(n=bed.days_in))
        if bed.patient_age is not None:
            details.append(
                self.tr("{age} y {sex}").format(
                    age=bed.patient_age, sex=(bed.patient_sex or "?")[:1].upper()
                )
            )
        if bed.patient_id is not None:
            body = (
                bed.patient_name or f"#{bed.patient_id}",
                " · ".join(details),
                " ".join(alert_texts(bed)),
            )
        else:
            body = (
                bed.blocked_reason
                or (
                    self.tr("Ready")
                    if bed.status == "free"
                    else self.tr("Waiting to be cleaned")
                    if bed.status == "cleaning"
                    else ""
                ),
                "",
                "",
            )
        urgent = bool(
            bed.alerts
            and (bed.alerts.overdue_doses or bed.alerts.allergy or (bed.alerts.news2 or 0) >= 5)
        )
        lines = (bed_status_text(bed.status), *body)
        if len(self._lines) > 5000:
            self._lines.clear()
        self._lines[id(bed)] = (bed, lines, urgent)
        return lines, urgent

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        # Straight from the model: a Python object through QVariant on every paint costs time.
        model = index.model()
        bed: BedRead | None = (
            model.bed_at(index.row()) if isinstance(model, BedBoardModel) else None
        )
        if bed is None:
            return
        (status_text, first, second, third), urgent = self._text_lines(bed)
        base, bold, metrics, bold_metrics = self._fonts_for(option.font)
        colour = self._colours.get(bed.status, self._colours["blocked"])
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 4, -4, -4)
        painter.setPen(
            QPen(palette.highlight().color() if selected else colour, 3 if selected else 1.2)
        )
        painter.setBrush(self._fills.get(bed.status, colour))
        painter.drawRoundedRect(rect, 6, 6)
        # Status band: colour plus the word and symbol.
        band = QRect(rect.left(), rect.top(), rect.width(), 22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(band, 6, 6)
        painter.drawRect(band.adjusted(0, 10, 0, 0))
        inner = band.adjusted(8, 0, -8, 0)
        painter.setPen(self._white)
        painter.setFont(bold)
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, bed.label
        )
        painter.setFont(base)
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, status_text
        )
        text = palette.text().color()
        body = rect.adjusted(8, 26, -8, -4)
        line = metrics.height()
        painter.setPen(text)
        if bed.patient_id is not None:
            painter.setFont(bold)
            painter.drawText(
                QRect(body.left(), body.top(), body.width(), line),
                Qt.AlignmentFlag.AlignLeft,
                bold_metrics.elidedText(first, Qt.TextElideMode.ElideRight, body.width()),
            )
            painter.setFont(base)
            painter.drawText(
                QRect(body.left(), body.top() + line, body.width(), line),
                Qt.AlignmentFlag.AlignLeft,
                second,
            )
            if third:
                painter.setPen(ALERT_RED if urgent else text)
                painter.setFont(bold if urgent else base)
                painter.drawText(
                    QRect(body.left(), body.top() + 2 * line, body.width(), line),
                    Qt.AlignmentFlag.AlignLeft,
                    (bold_metrics if urgent else metrics).elidedText(
                        third, Qt.TextElideMode.ElideRight, body.width()
                    ),
                )
        else:
            painter.setFont(base)
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, first)
        painter.restore()


class BedBoardView(QListView):
    """Tiles in a wrapping grid; arrows and Enter choose a bed, drag transfers."""

    def __init__(self, model: BedBoardModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegate(BedTileDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAccessibleName(self.tr("Bed board"))
        self.setToolTip(
            self.tr("Beds by status. Drag a patient to a free bed to transfer (or Ctrl+T).")
        )
