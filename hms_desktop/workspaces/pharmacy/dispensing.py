"""The dispensing tab: the live prescription queue (left) and the selected prescription
(right) with what is owed, what was dispensed from which batch, and the actions: verify and
dispense, send back, print labels.

New prescriptions appear without refresh: the tab listens to ``prescription.*`` events on
the shared events stream and re-reads the queue.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from hms_contract.dispensing import DispenseRead, QueueEntryRead
from hms_desktop.models.pharmacy import RecordColumn, RecordTableModel, quantity_text
from hms_desktop.qt import (
    QComboBox,
    QCoreApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces.pharmacy.dispense_dialog import DispenseDialog
from hms_desktop.workspaces.pharmacy.forms import ReasonDialog
from hms_desktop.workspaces.pharmacy.labels import print_labels


def _since(entry: QueueEntryRead) -> str:
    local = entry.created_at.astimezone()
    return local.strftime("%H:%M") if local.date() == date.today() else local.strftime("%d %b")


def _patient(entry: QueueEntryRead) -> str:
    return f"{entry.patient.family_name.upper()}, {entry.patient.given_name}"


def _owed_lines(entry: QueueEntryRead) -> list[str]:
    return [f"{i.generic_name} {quantity_text(i.owed)}" for i in entry.items if i.owed > 0]


def _owed_summary(entry: QueueEntryRead) -> str:
    """The first medicine owed, whole, and how many more (all of them in the tooltip): a
    queue row stays one readable line however long the prescription."""
    lines = _owed_lines(entry)
    if len(lines) <= 1:
        return "".join(lines)
    return QCoreApplication.translate("Dispensing", "{first} +{n} more").format(
        first=lines[0], n=len(lines) - 1
    )


def _owed_tooltip(entry: QueueEntryRead) -> str:
    return "\n".join(_owed_lines(entry))


class DispensingTab(QWidget):
    """Master–detail over the queue. Shortcuts: Ctrl+F search, Ctrl+D dispense, Ctrl+P
    print labels of the last dispense, Ctrl+R refresh. GUI thread."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.entry: QueueEntryRead | None = None
        self.history: list[DispenseRead] = []
        self.locations: list[Any] = []
        self.last_preview: Any = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        layout.addWidget(splitter)

        left = QWidget(splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        search = QHBoxLayout()
        self.search_edit = QLineEdit(left)
        self.search_edit.setAccessibleName(self.tr("Search the queue"))
        self.search_edit.setPlaceholderText(self.tr("Name, MRN or prescription number"))
        self.search_edit.setToolTip(self.tr("Search the queue (Ctrl+F)"))
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        search.addWidget(self.search_edit, 1)
        self.refresh_button = QPushButton(self.tr("Refresh"), left)
        self.refresh_button.setToolTip(self.tr("Reload the queue (Ctrl+R)"))
        self.refresh_button.clicked.connect(self.reload)
        search.addWidget(self.refresh_button)
        left_layout.addLayout(search)
        self.count_label = QLabel(left)
        self.count_label.setAccessibleName(self.tr("Queue size"))
        left_layout.addWidget(self.count_label)
        self.model: RecordTableModel[QueueEntryRead] = RecordTableModel(
            [
                RecordColumn(self.tr("Since"), lambda e: _since(e)),
                RecordColumn(self.tr("Patient"), _patient),
                RecordColumn(self.tr("MRN"), lambda e: e.patient.mrn),
                RecordColumn(
                    self.tr("Status"),
                    lambda e: (
                        self.tr("Partial") if e.status == "partly_dispensed" else self.tr("New")
                    ),
                    status=lambda e: e.status,
                    tooltip=lambda e: (
                        self.tr("Part dispensed: the rest is still owed")
                        if e.status == "partly_dispensed"
                        else self.tr("New: nothing dispensed yet")
                    ),
                ),
                RecordColumn(self.tr("Owed"), _owed_summary, tooltip=_owed_tooltip),
            ],
            self,
        )
        self.table = make_record_table(left, self.tr("Prescription queue"), self.model)
        # Every column whole (patient, MRN and the medicine owed are what the pharmacist
        # checks): the queue pane is never narrower than its text; "Owed" takes the rest.
        keep_columns_whole(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        left_layout.addWidget(self.table, 1)
        self.queue_problem = ProblemLabel(left)
        left_layout.addWidget(self.queue_problem)
        splitter.addWidget(left)

        right = QWidget(splitter)
        detail = QVBoxLayout(right)
        detail.setContentsMargins(8, 0, 0, 0)
        self.header = QLabel(self.tr("Choose a prescription from the queue."), right)
        self.header.setObjectName("dispensePatient")
        self.header.setAccessibleName(self.tr("Patient in context"))
        self.header.setStyleSheet(
            "QLabel#dispensePatient { font-size: 13pt; padding: 6px; "
            "border: 1px solid palette(mid); border-radius: 6px; }"
        )
        self.header.setWordWrap(True)  # breaks at " · " rather than widen the pane
        detail.addWidget(self.header)
        self.rx_label = QLabel(right)
        self.rx_label.setAccessibleName(self.tr("Prescription"))
        detail.addWidget(self.rx_label)
        self.items_model: RecordTableModel[Any] = RecordTableModel(
            [
                RecordColumn(
                    self.tr("Medicine"),
                    lambda i: " ".join(p for p in (i.generic_name, i.strength or "", i.form) if p),
                ),
                RecordColumn(
                    self.tr("Dose"),
                    lambda i: f"{quantity_text(i.dose)} {i.unit} {i.route} {i.frequency}",
                ),
                RecordColumn(self.tr("Days"), lambda i: str(i.duration_days or "")),
                RecordColumn(
                    self.tr("Dispensed"),
                    lambda i: self.tr("{done} of {prescribed}").format(
                        done=quantity_text(i.dispensed), prescribed=quantity_text(i.prescribed)
                    ),
                    align_right=True,
                    tooltip=lambda i: self.tr("{done} dispensed of {prescribed} prescribed").format(
                        done=quantity_text(i.dispensed), prescribed=quantity_text(i.prescribed)
                    ),
                ),
                RecordColumn(
                    self.tr("Owed"),
                    lambda i: quantity_text(i.owed),
                    align_right=True,
                    status=lambda i: "partly_dispensed" if i.owed > 0 else "closed",
                ),
            ],
            self,
        )
        self.items_table = make_record_table(right, self.tr("Prescribed items"), self.items_model)
        keep_columns_whole(self.items_table, stretch=0)  # the medicine takes the spare width
        detail.addWidget(self.items_table, 2)

        where = QHBoxLayout()
        where.addWidget(QLabel(self.tr("Dispense from:"), right))
        self.location_combo = QComboBox(right)
        self.location_combo.setAccessibleName(self.tr("Dispensing location"))
        self.location_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        where.addWidget(self.location_combo)
        where.addStretch(1)
        detail.addLayout(where)
        actions = QHBoxLayout()
        actions.addStretch(1)
        self.send_back_button = QPushButton(self.tr("Send back…"), right)
        self.send_back_button.setToolTip(self.tr("Return to the prescriber with a reason"))
        self.send_back_button.clicked.connect(self.send_back)
        self.dispense_button = QPushButton(self.tr("Verify and dispense…"), right)
        self.dispense_button.setToolTip(self.tr("Check, scan and dispense (Ctrl+D)"))
        self.dispense_button.setAccessibleName(self.tr("Verify and dispense"))
        self.dispense_button.clicked.connect(self.open_dispense)
        actions.addWidget(self.send_back_button)
        actions.addWidget(self.dispense_button)
        detail.addLayout(actions)

        detail.addWidget(QLabel(self.tr("Dispensed from this prescription"), right))
        self.history_model: RecordTableModel[Any] = RecordTableModel(
            [
                RecordColumn(
                    self.tr("When"),
                    lambda r: r[0].dispensed_at.astimezone().strftime("%d %b %H:%M"),
                ),
                RecordColumn(self.tr("Medicine"), lambda r: r[1].item_name),
                RecordColumn(self.tr("Lot"), lambda r: r[1].lot),
                RecordColumn(self.tr("Expiry"), lambda r: r[1].expiry.isoformat()),
                RecordColumn(
                    self.tr("Quantity"), lambda r: quantity_text(r[1].quantity), align_right=True
                ),
                RecordColumn(self.tr("Label"), lambda r: r[1].label_code),
            ],
            self,
        )
        self.history_table = make_record_table(
            right, self.tr("Dispensed lines"), self.history_model
        )
        keep_columns_whole(self.history_table, stretch=1)  # lot and label code whole too
        detail.addWidget(self.history_table, 1)
        print_row = QHBoxLayout()
        print_row.addStretch(1)
        self.layout_combo = QComboBox(right)
        self.layout_combo.setAccessibleName(self.tr("Label layout"))
        self.layout_combo.addItem(self.tr("Label printer 70 × 36 mm"), "label")
        self.layout_combo.addItem(self.tr("A4 sheet of 24 labels"), "a4")
        print_row.addWidget(self.layout_combo)
        self.print_button = QPushButton(self.tr("Print labels…"), right)
        self.print_button.setToolTip(self.tr("Preview and print the dispensing labels (Ctrl+P)"))
        self.print_button.clicked.connect(self.print_selected_labels)
        print_row.addWidget(self.print_button)
        detail.addLayout(print_row)
        self.problem = ProblemLabel(right)
        detail.addWidget(self.problem)
        splitter.addWidget(right)
        splitter.setSizes([600, 640])
        splitter.setChildrenCollapsible(False)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(300)
        self._search_timer.timeout.connect(self.reload)
        self._set_actions_enabled(False)
        events = getattr(context, "events", None)
        bridge = events() if callable(events) else None
        if bridge is not None:
            bridge.subscribe(("prescription.",), self._on_server_event)

    # -- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.locations(), self._on_locations, owner=self
        )
        self.reload()

    def _on_locations(self, locations: list[Any]) -> None:
        self.locations = locations
        self.location_combo.clear()
        for loc in sorted(locations, key=lambda x: (not x.dispensing, x.name)):
            self.location_combo.addItem(f"{loc.name} ({loc.code})", loc.id)

    def reload(self) -> None:
        query = self.search_edit.text().strip() or None
        keep = self.entry.prescription_id if self.entry else None
        self.context.tasks.run(
            lambda: self.context.pharmacy.queue(q=query),
            on_done=lambda page: self._on_queue(page, keep),
            on_error=self.queue_problem.show_error,
            owner=self,
        )

    def _on_queue(self, page: Any, keep: int | None) -> None:
        self.queue_problem.clear()
        self.model.set_rows(page.items)
        self.count_label.setText(self.tr("{n} prescription(s) waiting").format(n=page.total))
        rows = [n for n, e in enumerate(page.items) if e.prescription_id == keep]
        if rows:
            self.table.selectRow(rows[0])
        elif self.entry is not None and keep is not None:
            self._show(None)

    def _on_server_event(self, event_type: str, _data: dict) -> None:
        self.reload()

    def _on_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self._show(self.model.row_item(current.row()))

    def _show(self, entry: QueueEntryRead | None) -> None:
        self.entry = entry
        self.problem.clear()
        if entry is None:
            self.header.setText(self.tr("Choose a prescription from the queue."))
            self.rx_label.clear()
            self.items_model.set_rows([])
            self.history_model.set_rows([])
            self._set_actions_enabled(False)
            return
        p = entry.patient
        self.header.setText(
            # Non-breaking spaces inside each part: a narrow pane wraps only at " · ".
            self.tr(
                "<b>{family},&nbsp;{given}</b> · MRN&nbsp;{mrn} · {sex} · born&nbsp;{dob}"
            ).format(
                family=html.escape(p.family_name.upper()),
                given=html.escape(p.given_name),
                mrn=html.escape(p.mrn),
                sex=self.tr(p.sex.capitalize()),
                dob=p.date_of_birth.isoformat(),
            )
        )
        self.rx_label.setText(
            self.tr("{number} · prescribed by {who} · {when}").format(
                number=entry.number,
                who=entry.prescriber_name or "?",
                when=entry.created_at.astimezone().strftime("%d %b %Y %H:%M"),
            )
        )
        self.items_model.set_rows(entry.items)
        self._set_actions_enabled(True)
        self.load_history(entry.prescription_id)

    def load_history(self, prescription_id: int) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.dispenses_of(prescription_id),
            on_done=self._on_history,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_history(self, dispenses: list[DispenseRead]) -> None:
        self.history = dispenses
        self.history_model.set_rows([(d, line) for d in dispenses for line in d.lines])

    def _set_actions_enabled(self, enabled: bool) -> None:
        for button in (self.dispense_button, self.send_back_button):
            button.setEnabled(enabled)

    # -- actions ---------------------------------------------------------------------------
    def open_dispense(self) -> DispenseDialog | None:
        if self.entry is None or self.location_combo.currentData() is None:
            return None
        dialog = DispenseDialog(
            self.context, self.entry, int(self.location_combo.currentData()), self
        )
        dialog.sig_dispensed.connect(self._on_dispensed)
        dialog.open()
        return dialog

    def _on_dispensed(self, result: DispenseRead, print_now: bool) -> None:
        self.context.show_status(self.tr("Dispensed {number}").format(number=result.number))
        self.reload()
        if self.entry is not None:
            self.load_history(self.entry.prescription_id)
        if print_now:
            print_labels(
                self.context,
                [line.id for line in result.lines],
                self,
                self.layout_combo.currentData() or "label",
            )

    def print_selected_labels(self) -> None:
        rows = self.history_table.selectionModel().selectedRows()
        pairs = (
            [self.history_model.row_item(r.row()) for r in rows]
            if rows
            else self.history_model.rows
        )
        print_labels(
            self.context,
            [line.id for _d, line in pairs],
            self,
            self.layout_combo.currentData() or "label",
        )

    def send_back(self) -> None:
        if self.entry is None:
            return
        rx_id = self.entry.prescription_id
        dialog = ReasonDialog(
            self.context.tasks,
            self.tr("Send back to the prescriber"),
            self.tr("Send back"),
            self.tr("The prescription leaves the queue and the prescriber is told why."),
            lambda reason: self.context.pharmacy.send_back(rx_id, reason),
            self,
        )
        dialog.sig_saved.connect(lambda _r: (self.reload(), self._show(None)))
        dialog.open()
