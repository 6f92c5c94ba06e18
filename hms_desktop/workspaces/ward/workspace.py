"""The ward workspace: the nurse's screen for a whole shift.

Left: the bed board of the chosen ward (tiles coloured by status, with the word and symbol,
patient, day, alerts) and, under it, what is due now and my patients. Right: the patient in
the chosen bed (header, MAR with the scan form, vitals, nursing). Live server events
(beds, admissions, doses, vitals) refresh what they touch, so two nurses see the same board.

Shortcuts: Ctrl+N admit, Ctrl+T transfer, Ctrl+D discharge, Ctrl+W wristband, Ctrl+P
handover report, Ctrl+B scan a dose (wristband field), F5 refresh, Ctrl+1/2/3 tabs.
"""

from __future__ import annotations

from typing import Any

from hms_contract.nursing import DueList
from hms_contract.wards import AdmissionRead, BedRead, BedStatusChange, WardRead
from hms_desktop.api.wards import WardsApi
from hms_desktop.models.ward import BedBoardModel, DueListModel
from hms_desktop.qt import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QKeySequence,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QModelIndex,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QTabWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.ward import printing_actions
from hms_desktop.workspaces.ward.bed_board import BedBoardView
from hms_desktop.workspaces.ward.dialogs import AdmitDialog, DischargeDialog, TransferDialog
from hms_desktop.workspaces.ward.patient_panel import PatientPanel

EVENT_PREFIXES = ("bed.", "admission.", "mar.", "vitals.", "nursing.", "ward.")
RELOAD_DELAY_MS = 400


def due_list_view(model: DueListModel, parent: QWidget) -> QListView:
    """The due-now list: two lines an item (when and whom, then what), wrapped to the
    pane, so a narrow pane never cuts a medicine off and never scrolls sideways."""
    view = QListView(parent)
    view.setModel(model)
    view.setWordWrap(True)
    view.setTextElideMode(Qt.TextElideMode.ElideNone)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setAlternatingRowColors(True)
    return view


class WardWorkspace(QWidget):
    """Master–detail over one ward. Lives on the GUI thread; all calls via ``context.tasks``."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.tasks = context.tasks
        self.wards = WardsApi(context.api)
        roles = set(context.me.roles)
        permissions = set(context.me.permissions)
        self.is_nurse = "nurse" in roles
        self.can_discharge = "admissions.discharge" in permissions
        self.can_admit = "admissions.write" in permissions
        self.all_wards: list[WardRead] = []
        self.my_ward_ids: set[int] = set()
        self.current: AdmissionRead | None = None
        self._started = False
        self._pending_bed: int | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        bar = QHBoxLayout()
        title = QLabel(self.tr("Ward"), self)
        title.setProperty("role", "title")
        bar.addWidget(title)
        self.ward_combo = QComboBox(self)
        self.ward_combo.setAccessibleName(self.tr("Ward"))
        self.ward_combo.setMinimumWidth(260)
        self.ward_combo.currentIndexChanged.connect(self._on_ward_chosen)
        bar.addWidget(self.ward_combo)
        self.summary_label = QLabel(self)
        self.summary_label.setProperty("role", "subtitle")
        bar.addWidget(self.summary_label, 1)
        self.admit_button = QPushButton(self.tr("Admit…"), self)
        self.admit_button.setToolTip(self.tr("Admit a patient to a free bed (Ctrl+N)"))
        self.admit_button.clicked.connect(lambda: self.admit())
        self.admit_button.setVisible(self.can_admit)
        self.handover_button = QPushButton(self.tr("Handover report"), self)
        self.handover_button.setToolTip(self.tr("Print the shift handover of this ward (Ctrl+P)"))
        self.handover_button.clicked.connect(self.print_handover)
        refresh = QPushButton(self.tr("Refresh"), self)
        refresh.setToolTip(self.tr("Reload the board (F5)"))
        refresh.clicked.connect(self.reload)
        for widget in (self.admit_button, self.handover_button, refresh):
            bar.addWidget(widget)
        layout.addLayout(bar)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        self.board_model = BedBoardModel(self)
        self.board_model.sig_transfer_requested.connect(self._on_drag_transfer)
        self.board = BedBoardView(self.board_model, self)
        self.board.selectionModel().currentChanged.connect(self._on_bed_chosen)
        self.board.activated.connect(self._on_bed_activated)
        self.board.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.board.customContextMenuRequested.connect(self._bed_menu)
        self.due_model = DueListModel(self)
        self.due_view = due_list_view(self.due_model, self)
        self.due_view.setAccessibleName(self.tr("Due now"))
        self.due_view.activated.connect(self._on_due_activated)
        self.mine_list = QListWidget(self)
        self.mine_list.setWordWrap(True)
        self.mine_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.mine_list.setAccessibleName(self.tr("My patients"))
        self.mine_list.itemActivated.connect(self._on_mine_activated)
        lists = QTabWidget(self)
        lists.addTab(self.due_view, self.tr("Due now"))
        lists.addTab(self.mine_list, self.tr("My patients"))
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.board)
        left.addWidget(lists)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        self.patient_panel = PatientPanel(
            self.tasks, self.wards, can_discharge=self.can_discharge, parent=self
        )
        self.patient_panel.sig_transfer.connect(self.transfer)
        self.patient_panel.sig_discharge.connect(self.discharge)
        self.patient_panel.sig_wristband.connect(self.print_wristband)
        self.patient_panel.sig_changed.connect(self.schedule_reload)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.patient_panel)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([560, 660])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        for keys, slot in (
            ("Ctrl+N", self.admit),
            ("Ctrl+T", self.transfer),
            ("Ctrl+D", self.discharge),
            ("Ctrl+W", lambda: self.print_wristband(False)),
            ("Ctrl+P", self.print_handover),
            ("F5", self.reload),
            ("Ctrl+B", self.patient_panel.mar.focus_scan),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.events = context.events()
        self.events.subscribe(EVENT_PREFIXES, self._on_server_event)

    # -- loading -----------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.load_wards()

    def load_wards(self) -> None:
        def fetch() -> tuple[list[WardRead], list[WardRead]]:
            return self.wards.wards(), (self.wards.wards(mine=True) if self.is_nurse else [])

        self.tasks.run(fetch, on_done=self._on_wards, on_error=self.problem.show_error)

    def _on_wards(self, loaded: tuple[list[WardRead], list[WardRead]]) -> None:
        self.all_wards, mine = loaded
        self.my_ward_ids = {w.id for w in mine}
        # My wards first, then the others (a nurse covering another ward can still look).
        ordered = sorted(self.all_wards, key=lambda w: (w.id not in self.my_ward_ids, w.code))
        self.ward_combo.blockSignals(True)
        self.ward_combo.clear()
        for ward in ordered:
            mark = self.tr(" (my ward)") if ward.id in self.my_ward_ids else ""
            self.ward_combo.addItem(f"{ward.code} — {ward.name}{mark}", ward.id)
        self.ward_combo.blockSignals(False)
        if not ordered:
            self.summary_label.setText(self.tr("No wards are set up yet."))
            return
        self._on_ward_chosen()

    @property
    def ward_id(self) -> int | None:
        value = self.ward_combo.currentData()
        return int(value) if value is not None else None

    def _on_ward_chosen(self, *_: Any) -> None:
        self.patient_panel.show_admission(None)
        self.current = None
        self.reload()

    def schedule_reload(self) -> None:
        self._reload_timer.start()

    def reload(self) -> None:
        ward_id = self.ward_id
        if ward_id is None:
            return

        def fetch() -> tuple[int, list[BedRead], DueList, list[AdmissionRead]]:
            return (
                ward_id,
                self.wards.beds(ward_id).items,
                self.wards.due(ward_id),
                self.wards.admissions(mine=True).items,
            )

        self.tasks.run(fetch, on_done=self._on_board, on_error=self.problem.show_error)

    def _on_board(self, loaded: tuple[int, list[BedRead], DueList, list[AdmissionRead]]) -> None:
        ward_id, beds, due, mine = loaded
        if ward_id != self.ward_id:
            return  # the nurse switched wards meanwhile
        self.problem.clear()
        selected = self.current.bed_id if self.current else self._pending_bed
        self.board_model.set_beds(beds)
        counts = {
            s: sum(1 for b in beds if b.status == s)
            for s in ("free", "occupied", "cleaning", "blocked")
        }
        overdue = sum(1 for i in due.items if i.overdue)
        self.summary_label.setText(
            self.tr(
                "{occupied} occupied · {free} free · {cleaning} cleaning · {blocked} blocked · "
                "{overdue} overdue"
            ).format(overdue=overdue, **counts)
        )
        self.due_model.set_items(due.items)
        self.mine_list.clear()
        for admission in mine:
            item = QListWidgetItem(
                f"{admission.ward_code} {admission.bed_label} · "
                f"{admission.patient_name or admission.patient_id}",
                self.mine_list,
            )
            item.setData(Qt.ItemDataRole.UserRole, admission.model_dump(mode="json"))
        if selected is not None:
            self.select_bed(selected)

    def select_bed(self, bed_id: int) -> None:
        row = self.board_model.row_of_bed(bed_id)
        if row is not None:
            index = self.board_model.index(row)
            self.board.setCurrentIndex(index)
            self._on_bed_chosen(index, QModelIndex())
        self._pending_bed = None

    def _on_bed_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        bed = self.board_model.bed_at(current.row())
        if bed is None or bed.admission_id is None:
            self.current = None
            self.patient_panel.show_admission(None)
            return
        admission_id = bed.admission_id
        self.tasks.run(
            lambda: self.wards.admission(admission_id),
            on_done=self._on_admission,
            on_error=self.problem.show_error,
        )

    def _on_admission(self, admission: AdmissionRead) -> None:
        bed = self.board_model.bed_at(self.board.currentIndex().row())
        if bed is None or bed.admission_id != admission.id:
            return
        self.current = admission
        self.patient_panel.show_admission(admission)

    def _on_bed_activated(self, index: QModelIndex) -> None:
        bed = self.board_model.bed_at(index.row())
        if bed is not None and bed.status == "free" and self.can_admit:
            self.admit(bed.id)
        elif bed is not None and bed.admission_id is not None:
            self.patient_panel.mar.focus_scan()

    def _on_due_activated(self, index: QModelIndex) -> None:
        item = self.due_model.item_at(index.row())
        if item is None:
            return
        bed = next((b for b in self.board_model.beds if b.admission_id == item.admission_id), None)
        if bed is not None:
            self.select_bed(bed.id)
            self.patient_panel.tabs.setCurrentIndex({"dose": 0, "vitals": 1}.get(item.kind, 2))

    def _on_mine_activated(self, item: QListWidgetItem) -> None:
        admission = AdmissionRead.model_validate(item.data(Qt.ItemDataRole.UserRole))
        if admission.ward_id != self.ward_id:
            index = self.ward_combo.findData(admission.ward_id)
            if index >= 0:
                self._pending_bed = admission.bed_id
                self.ward_combo.setCurrentIndex(index)
                return
        if admission.bed_id is not None:
            self.select_bed(admission.bed_id)

    def _on_server_event(self, _event_type: str, _data: dict) -> None:
        self.schedule_reload()

    # -- actions -----------------------------------------------------------------------------
    def admit(self, bed_id: int | None = None) -> None:
        if not self.can_admit:
            return
        free = [b for b in self.board_model.beds if b.status == "free"]
        dialog = AdmitDialog(self.tasks, self.wards, free, bed_id, self)
        dialog.finished.connect(lambda _r: self._after_dialog(dialog))
        dialog.open()

    def transfer(self, bed_id: int | None = None) -> None:
        if self.current is None or self.current.status != "admitted":
            return
        dialog = TransferDialog(
            self.tasks,
            self.wards,
            self.current.id,
            self.current.patient_name or "",
            self.all_wards,
            self.ward_id,
            self,
            preselect_bed=bed_id,
        )
        dialog.finished.connect(lambda _r: self._after_dialog(dialog))
        dialog.open()

    def _on_drag_transfer(self, admission_id: int, bed_id: int) -> None:
        bed = next((b for b in self.board_model.beds if b.id == bed_id), None)
        source = next((b for b in self.board_model.beds if b.admission_id == admission_id), None)
        if bed is None or source is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Transfer"),
            self.tr("Move {name} from bed {old} to bed {new}?").format(
                name=source.patient_name or "", old=source.label, new=bed.label
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.tasks.run(
            lambda: self.wards.transfer(admission_id, bed_id),
            on_done=lambda admission: self._after_transfer(admission),
            on_error=self.problem.show_error,
        )

    def _after_transfer(self, admission: AdmissionRead) -> None:
        self.context.show_status(
            self.tr("Transferred to bed {bed}.").format(bed=admission.bed_label)
        )
        self._pending_bed = admission.bed_id
        self.current = admission
        self.reload()

    def discharge(self) -> None:
        if self.current is None or not self.can_discharge:
            return
        admission = self.current
        dialog = DischargeDialog(
            self.tasks, self.wards, admission.id, admission.patient_name or "", self
        )

        def done(_result: int) -> None:
            if dialog.result_admission is not None:
                self.context.show_status(self.tr("Discharged. The bed is waiting to be cleaned."))
                self.print_discharge_summary(dialog.result_admission.id)
                self.current = None
                self.patient_panel.show_admission(None)
                self.reload()

        dialog.finished.connect(done)
        dialog.open()

    def _after_dialog(self, dialog: Any) -> None:
        admission = getattr(dialog, "result_admission", None)
        if admission is not None:
            self._pending_bed = admission.bed_id
            self.current = None
            if admission.ward_id is not None and admission.ward_id != self.ward_id:
                index = self.ward_combo.findData(admission.ward_id)
                if index >= 0:
                    self.ward_combo.setCurrentIndex(index)
                    return
            self.reload()

    def _bed_menu(self, pos: Any) -> None:
        index = self.board.indexAt(pos)
        bed = self.board_model.bed_at(index.row())
        if bed is None:
            return
        menu = QMenu(self)
        if bed.status == "free":
            if self.can_admit:
                menu.addAction(self.tr("Admit here…"), lambda: self.admit(bed.id))
            menu.addAction(self.tr("Block…"), lambda: self.block_bed(bed))
        elif bed.status == "cleaning":
            menu.addAction(self.tr("Mark clean"), lambda: self.mark_clean(bed))
            menu.addAction(self.tr("Block…"), lambda: self.block_bed(bed))
        elif bed.status == "blocked":
            menu.addAction(self.tr("Unblock"), lambda: self.change_status(bed, "free", None))
        elif bed.status == "occupied":
            menu.addAction(self.tr("Transfer…"), self.transfer)
        menu.popup(self.board.viewport().mapToGlobal(pos))

    def mark_clean(self, bed: BedRead) -> None:
        self.tasks.run(
            lambda: self.wards.mark_clean(bed.id),
            on_done=lambda _b: self.reload(),
            on_error=self.problem.show_error,
        )

    def block_bed(self, bed: BedRead) -> None:
        reason, ok = QInputDialog.getText(
            self,
            self.tr("Block bed {label}").format(label=bed.label),
            self.tr("Why is the bed out of service?"),
        )
        if ok and reason.strip():
            self.change_status(bed, "blocked", reason.strip())

    def change_status(self, bed: BedRead, status: str, reason: str | None) -> None:
        change = BedStatusChange(status=status, reason=reason)  # type: ignore[arg-type]
        self.tasks.run(
            lambda: self.wards.change_bed_status(bed.id, change),
            on_done=lambda _b: self.reload(),
            on_error=self.problem.show_error,
        )

    # -- printing ----------------------------------------------------------------------------
    def print_wristband(self, a4: bool = False) -> None:
        if self.current is None:
            return
        patient_id = self.current.patient_id
        printing_actions.preview(
            self,
            self.tasks,
            lambda: printing_actions.wristband_pdf(
                self.wards, patient_id, a4=a4, hospital_name=self.context.me.hospital.name
            ),
            title=self.tr("Wristband"),
            file_name=f"wristband-{patient_id}.pdf",
            on_printed=lambda: self.tasks.run(
                lambda: self.wards.record_print(patient_id, "wristband"), quiet=True
            ),
            on_error=self.problem.show_error,
        )

    def print_discharge_summary(self, admission_id: int) -> None:
        holder: dict[str, Any] = {}

        def render() -> bytes:
            pdf, summary = printing_actions.discharge_summary_pdf(self.wards, admission_id)
            holder["patient_id"] = summary.admission.patient_id
            return pdf

        printing_actions.preview(
            self,
            self.tasks,
            render,
            title=self.tr("Discharge summary"),
            file_name=f"discharge-{admission_id}.pdf",
            on_printed=lambda: self.tasks.run(
                lambda: self.wards.record_print(holder["patient_id"], "discharge_summary"),
                quiet=True,
            ),
            on_error=self.problem.show_error,
        )

    def print_handover(self) -> None:
        ward_id = self.ward_id
        if ward_id is None:
            return
        printing_actions.preview(
            self,
            self.tasks,
            lambda: printing_actions.handover_pdf(self.wards, ward_id)[0],
            title=self.tr("Shift handover"),
            file_name=f"handover-ward-{ward_id}.pdf",
            on_error=self.problem.show_error,
        )

    # -- screenshot tour ---------------------------------------------------------------------
    def prepare_screenshot(self) -> None:
        """Open the first occupied bed with something due (or any occupied bed)."""
        beds = self.board_model.beds
        chosen = next(
            (b for b in beds if b.alerts and (b.alerts.overdue_doses or b.alerts.due_doses)), None
        ) or next((b for b in beds if b.status == "occupied"), None)
        if chosen is not None:
            self.select_bed(chosen.id)
