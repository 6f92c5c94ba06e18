"""The dispensing dialog: quantities per owed item, the scan field, the server's FEFO picks
and scan verdicts, the safety prompts, then dispense.

Every check is the server's (``POST /dispenses/preview``): the dialog re-asks after each
scan or quantity change and shows what it says — picks, problems, conflicts. Conflicts need
an override reason (audited) before *Dispense* is enabled; the pharmacist may instead close
the dialog and send the prescription back.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from hms_contract.dispensing import DispensePreviewRead, DispenseRead, QueueEntryRead
from hms_desktop.api.pharmacy import DispensingConflictError, dispense_request
from hms_desktop.models.pharmacy import quantity_text
from hms_desktop.qt import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces.pharmacy.forms import parse_quantity

_CONFLICT_STYLE = (
    "QLabel { background: #fdecea; color: #7f1d1d; border: 1px solid #c62828;"
    " border-radius: 4px; padding: 6px; }"
)
_OK_STYLE = (
    "QLabel { background: #e6f2e7; color: #1b5e20; border: 1px solid #2e7d32;"
    " border-radius: 4px; padding: 6px; }"
)
_PROBLEMS = {
    "insufficient_stock": "Not enough usable stock here",
    "exceeds_owed": "More than is owed",
    "nothing_owed": "Already dispensed in full",
    "indivisible_unit": "Whole units only",
}
COL_MEDICINE, COL_OWED, COL_QUANTITY, COL_PICKS, COL_SCAN = range(5)


class DispenseDialog(QDialog):
    """Dispense one prescription from ``location_id``. Signals ``sig_dispensed(DispenseRead,
    print_labels: bool)`` after the server accepted it. GUI thread; calls go through
    ``context.tasks``."""

    sig_dispensed = Signal(object, bool)

    def __init__(
        self, context: Any, entry: QueueEntryRead, location_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.entry = entry
        self.location_id = location_id
        self.preview: DispensePreviewRead | None = None
        self.codes: dict[int, str] = {}
        self.busy = False
        self._generation = 0
        patient = entry.patient
        self.setWindowTitle(self.tr("Dispense {number}").format(number=entry.number))
        self.setAccessibleName(self.tr("Dispense prescription"))
        self.resize(880, 560)
        layout = QVBoxLayout(self)
        who = QLabel(
            self.tr("<b>{family}, {given}</b> · MRN {mrn} · born {dob}").format(
                family=html.escape(patient.family_name.upper()),
                given=html.escape(patient.given_name),
                mrn=html.escape(patient.mrn),
                dob=patient.date_of_birth.isoformat(),
            ),
            self,
        )
        who.setAccessibleName(self.tr("Patient"))
        layout.addWidget(who)

        owed = [i for i in entry.items if i.owed > 0]
        self.table = QTableWidget(len(owed), 5, self)
        self.table.setAccessibleName(self.tr("Items to dispense"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Medicine"),
                self.tr("Owed"),
                self.tr("Dispense now"),
                self.tr("Picked batches (first expiry first)"),
                self.tr("Scan"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_MEDICINE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_PICKS, QHeaderView.ResizeMode.Stretch)
        self.item_ids: list[int] = []
        self.quantity_edits: list[QLineEdit] = []
        for row, item in enumerate(owed):
            self.item_ids.append(item.prescription_item_id)
            name = " ".join(p for p in (item.generic_name, item.strength or "", item.form) if p)
            cell = QTableWidgetItem(name)
            cell.setToolTip(
                f"{name}: {quantity_text(item.dose)} {item.unit} {item.route} {item.frequency}"
            )
            self.table.setItem(row, COL_MEDICINE, cell)
            self.table.setItem(row, COL_OWED, QTableWidgetItem(quantity_text(item.owed)))
            edit = QLineEdit(quantity_text(item.owed), self.table)
            edit.setAccessibleName(self.tr("Quantity to dispense of {name}").format(name=name))
            edit.textEdited.connect(self._schedule_check)
            self.quantity_edits.append(edit)
            self.table.setCellWidget(row, COL_QUANTITY, edit)
            for col in (COL_PICKS, COL_SCAN):
                self.table.setItem(row, col, QTableWidgetItem(""))
        if owed:
            self.table.selectRow(0)
        layout.addWidget(self.table, 1)

        scan_row = QHBoxLayout()
        self.scan_edit = QLineEdit(self)
        self.scan_edit.setAccessibleName(self.tr("Scan pack barcode"))
        self.scan_edit.setPlaceholderText(
            self.tr("Scan the pack (GS1 DataMatrix or EAN) for the selected line, then Enter")
        )
        self.scan_edit.setToolTip(self.tr("Keyboard-wedge scanner field (Ctrl+B)"))
        self.scan_edit.returnPressed.connect(self._on_scanned)
        scan_row.addWidget(QLabel(self.tr("Scan:"), self))
        scan_row.addWidget(self.scan_edit, 1)
        layout.addLayout(scan_row)

        self.safety = QLabel(self)
        self.safety.setWordWrap(True)
        self.safety.setAccessibleName(self.tr("Safety check"))
        self.safety.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.safety)
        self.override_label = QLabel(self.tr("Override reason (audited):"), self)
        self.override_edit = QPlainTextEdit(self)
        self.override_edit.setAccessibleName(self.tr("Override reason"))
        self.override_edit.setMaximumHeight(60)
        self.override_edit.textChanged.connect(self._update_buttons)
        layout.addWidget(self.override_label)
        layout.addWidget(self.override_edit)
        self.override_label.hide()
        self.override_edit.hide()

        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Checking"))
        self.progress.hide()
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        self.print_check = QCheckBox(self.tr("Print labels"), self)
        self.print_check.setChecked(True)
        self.print_check.setAccessibleName(self.tr("Print labels after dispensing"))
        buttons.addWidget(self.print_check)
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Close"), self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.dispense_button = QPushButton(self.tr("Dispense"), self)
        self.dispense_button.setAccessibleName(self.tr("Dispense"))
        self.dispense_button.setToolTip(self.tr("Dispense the picked batches (Ctrl+Enter)"))
        self.dispense_button.setAutoDefault(False)
        self.dispense_button.clicked.connect(self.dispense)
        self.dispense_button.setEnabled(False)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.dispense_button)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(350)
        self._timer.timeout.connect(self.check)
        from hms_desktop.qt import QKeySequence, QShortcut

        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.dispense)
        QShortcut(QKeySequence("Ctrl+B"), self, activated=self.scan_edit.setFocus)
        self.scan_edit.setFocus()
        self.check()

    # -- building the request --------------------------------------------------------------
    def _lines(self) -> list[tuple[int, Decimal, str | None]] | None:
        lines = []
        for row, item_id in enumerate(self.item_ids):
            text = self.quantity_edits[row].text().strip()
            if not text or text == "0":
                continue
            quantity = parse_quantity(text)
            if quantity is None:
                self.problem.show_text(self.tr("Quantities must be numbers above zero."))
                return None
            lines.append((item_id, quantity, self.codes.get(item_id)))
        if not lines:
            self.problem.show_text(self.tr("Enter a quantity for at least one medicine."))
            return None
        return lines

    def _schedule_check(self) -> None:
        self._timer.start()

    # -- server checks ---------------------------------------------------------------------
    def check(self) -> None:
        """Ask the server what dispensing would do now (picks, conflicts, scan verdicts)."""
        self.problem.clear()
        lines = self._lines()
        if lines is None:
            self._update_buttons()
            return
        request = dispense_request(self.entry.prescription_id, self.location_id, lines)
        self._generation += 1
        generation = self._generation
        self._set_busy(True)
        self.context.tasks.run(
            lambda: self.context.pharmacy.preview(request),
            on_done=lambda p: self._on_preview(generation, p),
            on_error=self._on_failed,
            owner=self,
        )

    def _on_preview(self, generation: int, preview: DispensePreviewRead) -> None:
        if generation != self._generation:
            return
        self._set_busy(False)
        self.preview = preview
        by_item = {line.prescription_item_id: line for line in preview.lines}
        for row, item_id in enumerate(self.item_ids):
            line = by_item.get(item_id)
            picks = self.table.item(row, COL_PICKS)
            scan = self.table.item(row, COL_SCAN)
            if line is None:
                picks.setText("")
                scan.setText("")
                continue
            if line.problem:
                text = self.tr(_PROBLEMS.get(line.problem, line.problem))
                picks.setText(f"✗ {text} ({self.tr('available')}: {quantity_text(line.available)})")
                picks.setForeground(Qt.GlobalColor.darkRed)
            else:
                picks.setText(
                    "; ".join(
                        f"{p.lot} × {quantity_text(p.quantity)} (exp {p.expiry.isoformat()})"
                        for p in line.picks
                    )
                )
                picks.setForeground(Qt.GlobalColor.black)
            if line.scan is None:
                scan.setText(self.tr("not scanned") if item_id not in self.codes else "")
                scan.setForeground(Qt.GlobalColor.darkGray)
            else:
                scan.setText(("✓ " if line.scan.ok else "✗ ") + line.scan.message)
                scan.setToolTip(line.scan.message)
                scan.setForeground(
                    Qt.GlobalColor.darkGreen if line.scan.ok else Qt.GlobalColor.darkRed
                )
        self._show_safety(preview)
        self._update_buttons()

    def _show_safety(self, preview: DispensePreviewRead) -> None:
        if preview.conflicts:
            reasons = "\n".join(
                f"⚠ {c.type.replace('_', ' ')} ({c.severity}): {c.reason}"
                for c in preview.conflicts
            )
            overrode = (
                self.tr("\nThe prescriber already overrode: {types}.").format(
                    types=", ".join(t.replace("_", " ") for t in preview.prescriber_overrode)
                )
                if preview.prescriber_overrode
                else ""
            )
            self.safety.setText(
                self.tr("Safety check at dispensing found problems:\n")
                + reasons
                + overrode
                + self.tr(
                    "\nDispense only with an override reason, or close and send the "
                    "prescription back to the prescriber."
                )
            )
            self.safety.setStyleSheet(_CONFLICT_STYLE)
        else:
            self.safety.setText(
                self.tr(
                    "✓ Safety check: no allergy, interaction or "
                    "duplicate-therapy problem on today's record."
                )
            )
            self.safety.setStyleSheet(_OK_STYLE)
        self.override_label.setVisible(bool(preview.conflicts))
        self.override_edit.setVisible(bool(preview.conflicts))

    def _on_scanned(self) -> None:
        code = self.scan_edit.text().strip()
        self.scan_edit.clear()
        rows = self.table.selectionModel().selectedRows()
        if not code or not rows:
            return
        row = rows[0].row()
        self.codes[self.item_ids[row]] = code
        self.check()
        # Move on to the next line that still needs a scan.
        if row + 1 < len(self.item_ids):
            self.table.selectRow(row + 1)

    def _update_buttons(self) -> None:
        preview = self.preview
        ok = (
            preview is not None
            and not self.busy
            and all(
                line.problem is None and (line.scan is None or line.scan.ok)
                for line in preview.lines
            )
        )
        if ok and preview is not None and preview.conflicts:
            ok = len(self.override_edit.toPlainText().strip()) >= 5
        self.dispense_button.setEnabled(ok)

    # -- dispensing ------------------------------------------------------------------------
    def dispense(self) -> None:
        if not self.dispense_button.isEnabled() or self.busy:
            return
        lines = self._lines()
        if lines is None:
            return
        override = self.override_edit.toPlainText().strip() or None
        request = dispense_request(
            self.entry.prescription_id,
            self.location_id,
            lines,
            override if self.preview and self.preview.conflicts else None,
        )
        self._set_busy(True)
        self.context.tasks.run(
            lambda: self.context.pharmacy.dispense(request),
            on_done=self._on_dispensed,
            on_error=self._on_failed,
            owner=self,
        )

    def _on_dispensed(self, result: DispenseRead) -> None:
        self._set_busy(False)
        self.sig_dispensed.emit(result, self.print_check.isChecked())
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, DispensingConflictError):
            self.check()  # the record changed meanwhile: show the new conflicts
        self.problem.show_error(exc)
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        if busy:
            self.dispense_button.setEnabled(False)
