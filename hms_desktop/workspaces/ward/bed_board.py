"""The bed board: one tile per bed, painted by a delegate (a hospital's 900 beds are one
list view, not 900 widgets), coloured by status with the status word and symbol on every
tile, the patient's name, days in, and alerts (allergy, overdue doses, NEWS2).

Drag an occupied tile onto a free one to transfer the patient (the model emits
``sig_transfer_requested``; the workspace asks before it calls the server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hms_contract.wards import BedRead
from hms_desktop.models.ward import BED_STATUS, BedBoardModel, bed_status_text
from hms_desktop.models.ward_alerts import AlertChip, alert_chips
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

TILE = QSize(184, 112)  # status band, name, details and two lines of alerts
ALERT_RED = QColor("#c62828")
ALERT_LINES = 2
CHIP_GAP = " · "


def lay_out_chips(
    chips: Sequence[AlertChip],
    width_of: Callable[[AlertChip], int],
    gap: int,
    width: int,
    max_lines: int = ALERT_LINES,
) -> tuple[list[list[AlertChip]], int]:
    """Put whole chips on at most ``max_lines`` lines of ``width`` pixels, never splitting
    one: each goes on the first line with room, so the most urgent (first) come first and a
    short one may fill the gap a long one left. Returns the lines and how many chips did not
    fit (the tile then says "+n"; the tooltip has them all)."""
    lines: list[list[AlertChip]] = []
    used: list[int] = []
    hidden = 0
    for chip in chips:
        chip_width = width_of(chip)
        row = next((n for n, w in enumerate(used) if w + gap + chip_width <= width), None)
        if row is not None:
            lines[row].append(chip)
            used[row] += gap + chip_width
        elif len(lines) < max_lines:
            lines.append([chip])
            used.append(chip_width)
        else:
            hidden += 1
    return lines, hidden


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
        self._lines: dict[int, tuple[object, tuple[str, ...], list[AlertChip]]] = {}
        # (row object id, font, width) → (row object, chip lines, chips left off)
        self._layouts: dict[tuple[int, str, int], tuple[object, list[list[AlertChip]], int]] = {}
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

    def _text_lines(self, bed: BedRead) -> tuple[tuple[str, ...], list[AlertChip]]:
        """(status word, name, details, empty-bed text) of a bed, and its alert chips;
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
            body = (bed.patient_name or f"#{bed.patient_id}", " · ".join(details))
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
            )
        lines = (bed_status_text(bed.status), *body)
        chips = alert_chips(bed) if bed.patient_id is not None else []
        if len(self._lines) > 5000:
            self._lines.clear()
        self._lines[id(bed)] = (bed, lines, chips)
        return lines, chips

    def alert_lines(self, bed: BedRead, font: QFont, width: int) -> list[str]:
        """The alert lines a tile of ``width`` pixels shows for ``bed`` (what ``paint``
        draws; tests read it)."""
        lines, hidden = self.alert_chip_lines(bed, font, width)
        texts = [CHIP_GAP.join(c.text for c in line) for line in lines]
        if hidden:
            texts[-1] += " " + self.tr("+{n}").format(n=hidden)
        return texts

    def alert_chip_lines(
        self, bed: BedRead, font: QFont, width: int
    ) -> tuple[list[list[AlertChip]], int]:
        """The chips on each alert line of ``bed``'s tile, and how many did not fit;
        cached like the text lines (a repaint measures nothing)."""
        key = (id(bed), font.key(), width)
        cached = self._layouts.get(key)
        if cached is not None and cached[0] is bed:
            return cached[1], cached[2]
        lines, hidden = self._chip_lines(self._text_lines(bed)[1], font, width)
        if len(self._layouts) > 5000:
            self._layouts.clear()
        self._layouts[key] = (bed, lines, hidden)
        return lines, hidden

    def _chip_lines(
        self, chips: Sequence[AlertChip], font: QFont, width: int
    ) -> tuple[list[list[AlertChip]], int]:
        _base, _bold, metrics, bold_metrics = self._fonts_for(font)

        def width_of(chip: AlertChip) -> int:
            return (bold_metrics if chip.urgent else metrics).horizontalAdvance(chip.text)

        # A chip too long for a whole line says it the shorter way.
        chips = [self._fitted(chip, width_of, width) for chip in chips]
        gap = metrics.horizontalAdvance(CHIP_GAP)
        lines, hidden = lay_out_chips(chips, width_of, gap, width)
        if hidden:  # lay out again leaving room for "+n" at the end of the last line
            more = bold_metrics.horizontalAdvance(" +9")
            lines, hidden = lay_out_chips(chips, width_of, gap, width - more)
        return lines, hidden

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        # Straight from the model: a Python object through QVariant on every paint costs time.
        model = index.model()
        bed: BedRead | None = (
            model.bed_at(index.row()) if isinstance(model, BedBoardModel) else None
        )
        if bed is None:
            return
        (status_text, first, second), _chips = self._text_lines(bed)
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
            self._paint_chips(painter, option.font, bed, body, line, text)
        else:
            painter.setFont(base)
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, first)
        painter.restore()

    @staticmethod
    def _fitted(chip: AlertChip, width_of: Callable[[AlertChip], int], width: int) -> AlertChip:
        """``chip`` as the first of its wordings that fits a line (else its shortest)."""
        for text in (chip.text, *chip.shorter):
            fitted = AlertChip(text, chip.urgent)
            if width_of(fitted) <= width:
                return fitted
        return AlertChip((chip.text, *chip.shorter)[-1], chip.urgent)

    def _paint_chips(
        self,
        painter: QPainter,
        font: QFont,
        bed: BedRead,
        body: QRect,
        line: int,
        text: QColor,
    ) -> None:
        """The alert chips under the details, each whole: urgent ones red and bold."""
        base, bold, metrics, bold_metrics = self._fonts_for(font)
        lines, hidden = self.alert_chip_lines(bed, font, body.width())
        gap = metrics.horizontalAdvance(CHIP_GAP)
        for row, chips_of_line in enumerate(lines):
            top = body.top() + (2 + row) * line
            x = body.left()
            for n, chip in enumerate(chips_of_line):
                if n:
                    painter.setPen(text)
                    painter.setFont(base)
                    painter.drawText(QRect(x, top, gap, line), Qt.AlignmentFlag.AlignLeft, CHIP_GAP)
                    x += gap
                chip_metrics = bold_metrics if chip.urgent else metrics
                painter.setPen(ALERT_RED if chip.urgent else text)
                painter.setFont(bold if chip.urgent else base)
                room = body.right() + 1 - x
                chip_width = chip_metrics.horizontalAdvance(chip.text)
                shown = chip.text
                if chip_width > room:  # only a chip longer than a whole tile line
                    shown = chip_metrics.elidedText(chip.text, Qt.TextElideMode.ElideRight, room)
                    chip_width = room
                painter.drawText(QRect(x, top, room, line), Qt.AlignmentFlag.AlignLeft, shown)
                x += chip_width
            if hidden and row == len(lines) - 1:
                painter.setPen(text)
                painter.setFont(bold)
                painter.drawText(
                    QRect(x, top, body.right() - x, line),
                    Qt.AlignmentFlag.AlignLeft,
                    " " + self.tr("+{n}").format(n=hidden),
                )


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
