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
    """Paints one bed. GUI thread only."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        # Straight from the model: a Python object through QVariant on every paint costs time
        # (and PySide6 6.12 mishandles the reference count of such round trips).
        model = index.model()
        bed: BedRead | None = model.bed_at(index.row()) if isinstance(model, BedBoardModel) \
            else None
        if bed is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 4, -4, -4)
        colour = QColor(BED_STATUS.get(bed.status, ("", "", "#6b7280"))[2])
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        fill = QColor(colour)
        fill.setAlpha(34 if bed.status != "free" else 20)
        painter.setPen(QPen(palette.highlight().color() if selected else colour,
                            3 if selected else 1.2))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)
        # Status band: colour plus the word and symbol.
        band = QRect(rect.left(), rect.top(), rect.width(), 22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(band, 6, 6)
        painter.drawRect(band.adjusted(0, 10, 0, 0))
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("white"))
        painter.drawText(band.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter
                         | Qt.AlignmentFlag.AlignLeft, bed.label)
        painter.setFont(base)
        painter.drawText(band.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter
                         | Qt.AlignmentFlag.AlignRight, bed_status_text(bed.status))
        text = palette.text().color()
        body = rect.adjusted(8, 26, -8, -4)
        metrics = QFontMetrics(base)
        line = metrics.height()
        if bed.patient_id is not None:
            painter.setFont(bold)
            painter.setPen(text)
            name = bed.patient_name or f"#{bed.patient_id}"
            painter.drawText(QRect(body.left(), body.top(), body.width(), line),
                             Qt.AlignmentFlag.AlignLeft, QFontMetrics(bold).elidedText(
                                 name, Qt.TextElideMode.ElideRight, body.width()))
            painter.setFont(base)
            details = []
            if bed.days_in:
                details.append(self.tr("Day {n}").format(n=bed.days_in))
            if bed.patient_age is not None:
                details.append(self.tr("{age} y {sex}").format(
                    age=bed.patient_age, sex=(bed.patient_sex or "?")[:1].upper()))
            painter.drawText(QRect(body.left(), body.top() + line, body.width(), line),
                             Qt.AlignmentFlag.AlignLeft, " · ".join(details))
            alerts = alert_texts(bed)
            if alerts:
                urgent = bool(bed.alerts and (bed.alerts.overdue_doses or bed.alerts.allergy
                                              or (bed.alerts.news2 or 0) >= 5))
                painter.setPen(ALERT_RED if urgent else text)
                painter.setFont(bold if urgent else base)
                painter.drawText(QRect(body.left(), body.top() + 2 * line, body.width(),
                                       line), Qt.AlignmentFlag.AlignLeft,
                                 metrics.elidedText(" ".join(alerts),
                                                    Qt.TextElideMode.ElideRight,
                                                    body.width()))
        else:
            painter.setPen(text)
            note = bed.blocked_reason or (self.tr("Ready") if bed.status == "free" else
                                          self.tr("Waiting to be cleaned")
                                          if bed.status == "cleaning" else "")
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                             note)
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
        self.setToolTip(self.tr("Beds by status. Drag a patient to a free bed to transfer "
                                "(or Ctrl+T)."))
