"""Compare two patient records side by side and merge one into the other, with a reason.

The merge is recorded first as *pending* (nothing moves); the dialog then offers to confirm
it (the duplicate's appointments, chart and messages move to the kept record) or to undo it.
A pending merge left unconfirmed stays on reception's duplicates list until someone decides.
"""

from __future__ import annotations

from hms_contract.duplicates import DuplicateFlagRead, MergeRead
from hms_contract.patients import PatientRead
from hms_desktop.api.duplicates import DuplicatesApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.patients import age_years, full_name, sex_text
from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QAbstractItemView,
    QColor,
    QDialog,
    QFont,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext

MIN_REASON = 5
DIFFERENT = "#8a5a00"


def _n(text: str) -> str:
    return QT_TRANSLATE_NOOP("MergeDialog", text)


def _address(p: PatientRead) -> str:
    a = p.address
    if a is None:
        return ""
    parts = [*a.line, a.city or "", a.postal_code or "", a.country or ""]
    return ", ".join(part for part in parts if part)


def compared_fields(p: PatientRead) -> list[tuple[str, str]]:
    """``(label, text)`` of the facts two records are compared on, in reading order; the
    labels are untranslated (the dialog translates them)."""
    tr = _n
    dob = p.date_of_birth.isoformat() + (" ≈" if p.birth_date_estimated else "")
    age = age_years(p.date_of_birth)
    return [
        (tr("Name"), full_name(p)),
        (tr("MRN"), p.mrn),
        (tr("Born"), f"{dob} ({age} y)" if age is not None else dob),
        (tr("Sex"), sex_text(p.sex)),
        (tr("Phone"), p.phone or ""),
        (tr("E-mail"), p.email or ""),
        (tr("National ID"), p.national_id or ""),
        (tr("Address"), _address(p)),
        (
            tr("Next of kin"),
            "; ".join(
                " · ".join(x for x in (k.name, k.relationship, k.phone) if x) for k in p.next_of_kin
            ),
        ),
        (
            tr("Insurance"),
            "; ".join(" · ".join(x for x in (i.payer, i.policy_number) if x) for i in p.insurance),
        ),
        (tr("Registered"), p.created_at.astimezone().strftime("%Y-%m-%d")),
    ]


class MergeDialog(QDialog):
    """Side-by-side comparison of two records, which one to keep, why, then merge.

    Loads both records on open. ``Merge…`` records a pending merge; the dialog then shows
    ``Confirm merge`` and ``Undo merge``. Signals: ``sig_merge_changed(MergeRead)`` after
    every step (pending, undone, confirmed). GUI thread; requests through ``context.tasks``.
    """

    sig_merge_changed = Signal(object)

    def __init__(
        self,
        context: WorkspaceContext,
        patients: PatientsApi,
        duplicates: DuplicatesApi,
        first_id: int,
        second_id: int,
        *,
        flag: DuplicateFlagRead | None = None,
        pending: MergeRead | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.patients_api, self.api = context.tasks, patients, duplicates
        self.ids = (first_id, second_id)
        self.flag = flag
        self.records: tuple[PatientRead, PatientRead] | None = None
        self.merge: MergeRead | None = pending
        self.busy = False
        self.setWindowTitle(self.tr("Compare and merge records"))
        self.setAccessibleName(self.windowTitle())
        self.resize(860, 640)
        layout = QVBoxLayout(self)

        intro = QLabel(
            self.tr(
                "Check that both records are the same person. Differences are marked ≠. The kept "
                "record gets the other one's appointments, chart and messages, and its empty "
                "fields are filled from it; the other MRN will lead to the kept record."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.table = QTableWidget(0, 3, self)
        self.table.setAccessibleName(self.tr("The two records side by side"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        keep_row = QHBoxLayout()
        keep_row.addWidget(QLabel(self.tr("Keep:"), self))
        self.keep_buttons = (QRadioButton(self), QRadioButton(self))
        for button in self.keep_buttons:
            button.setEnabled(False)
            keep_row.addWidget(button)
        keep_row.addStretch(1)
        layout.addLayout(keep_row)

        reason_label = QLabel(self.tr("Why are these the same person? (required)"), self)
        self.reason_edit = QPlainTextEdit(self)
        self.reason_edit.setAccessibleName(self.tr("Reason for the merge"))
        self.reason_edit.setPlaceholderText(
            self.tr(
                "e.g. Same person: confirmed name, birth date and phone with the patient at the "
                "desk"
            )
        )
        self.reason_edit.setMaximumHeight(70)
        reason_label.setBuddy(self.reason_edit)
        self.reason_error = QLabel(self)
        self.reason_error.setProperty("role", "error")
        self.reason_error.hide()
        layout.addWidget(reason_label)
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.reason_error)

        self.banner = QFrame(self)
        self.banner.setProperty("role", "banner")
        banner_layout = QHBoxLayout(self.banner)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.banner_label.setAccessibleName(self.tr("Merge state"))
        banner_layout.addWidget(self.banner_label, 1)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.close_button.setToolTip(
            self.tr("Close; a pending merge stays on the duplicates list (Esc)")
        )
        self.close_button.clicked.connect(self.reject)
        self.merge_button = QPushButton(self.tr("Merge…"), self)
        self.merge_button.setToolTip(
            self.tr("Record the merge; nothing moves until you confirm it (Ctrl+Enter)")
        )
        self.merge_button.setShortcut("Ctrl+Return")
        self.merge_button.clicked.connect(self.request)
        self.undo_button = QPushButton(self.tr("Undo merge"), self)
        self.undo_button.setToolTip(
            self.tr("Withdraw the pending merge; both records stay as they are")
        )
        self.undo_button.clicked.connect(self.undo)
        self.confirm_button = QPushButton(self.tr("Confirm merge"), self)
        self.confirm_button.setToolTip(
            self.tr("Carry out the merge now; it cannot be undone afterwards")
        )
        self.confirm_button.clicked.connect(self.confirm)
        for button in (self.close_button, self.undo_button, self.confirm_button, self.merge_button):
            button.setAccessibleName(button.text().rstrip("…"))
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._show_state()
        self.load()

    # -- loading -----------------------------------------------------------------------
    def load(self) -> None:
        api, (a, b) = self.patients_api, self.ids
        self.busy = True
        self.tasks.run(
            lambda: (api.get(a), api.get(b)), self._on_loaded, self._on_failed, owner=self
        )

    def _on_loaded(self, records: tuple[PatientRead, PatientRead]) -> None:
        self.busy = False
        self.records = records
        left, right = records
        self.table.setHorizontalHeaderLabels(
            [
                "",
                self.tr("Record {mrn}").format(mrn=left.mrn),
                self.tr("Record {mrn}").format(mrn=right.mrn),
            ]
        )
        rows = list(zip(compared_fields(left), compared_fields(right), strict=True))
        self.table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        self.differences: list[str] = []
        for row, ((label, a_text), (_label, b_text)) in enumerate(rows):
            differs = a_text != b_text and label not in ("MRN", "Registered")
            title = QTableWidgetItem(self.tr(label) + ("  ≠" if differs else ""))
            cells = [title, QTableWidgetItem(a_text or "—"), QTableWidgetItem(b_text or "—")]
            if differs:
                self.differences.append(label)
                for cell in cells:
                    cell.setFont(bold)
                    cell.setForeground(QColor(DIFFERENT))
                title.setToolTip(self.tr("The two records differ here"))
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        # Keep the older record by default: it is the one other papers already quote.
        older = 0 if (left.created_at, left.id) <= (right.created_at, right.id) else 1
        for index, (button, record) in enumerate(zip(self.keep_buttons, records, strict=True)):
            button.setText(
                self.tr("{name}, MRN {mrn}").format(name=full_name(record), mrn=record.mrn)
            )
            button.setAccessibleName(self.tr("Keep record {mrn}").format(mrn=record.mrn))
            button.setChecked(index == older)
        if self.merge is not None:  # reopened from the pending list
            keep = 0 if self.merge.survivor.id == left.id else 1
            self.keep_buttons[keep].setChecked(True)
            self.reason_edit.setPlainText(self.merge.reason)
        self._show_state()

    def _on_failed(self, exc: BaseException) -> None:
        self.busy = False
        self.problem.show_error(exc)
        self._show_state()

    # -- choices -----------------------------------------------------------------------
    def survivor_and_duplicate(self) -> tuple[PatientRead, PatientRead]:
        assert self.records is not None
        left, right = self.records
        return (left, right) if self.keep_buttons[0].isChecked() else (right, left)

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()

    # -- actions -----------------------------------------------------------------------
    def request(self) -> None:
        if self.records is None or self.busy or self.merge is not None:
            return
        if len(self.reason()) < MIN_REASON:
            self.reason_error.setText(
                self.tr(
                    "Say why these records are the same person (at least {n} characters)."
                ).format(n=MIN_REASON)
            )
            self.reason_error.show()
            self.reason_edit.setFocus()
            return
        self.reason_error.hide()
        survivor, duplicate = self.survivor_and_duplicate()
        api, reason = self.api, self.reason()
        flag_id = self.flag.id if self.flag is not None else None
        self._run(
            lambda: api.request_merge(
                survivor_id=survivor.id,
                duplicate_id=duplicate.id,
                reason=reason,
                survivor_version=survivor.version,
                duplicate_version=duplicate.version,
                flag_id=flag_id,
            )
        )

    def confirm(self) -> None:
        if self.merge is None or self.busy:
            return
        api, merge = self.api, self.merge
        self._run(lambda: api.confirm_merge(merge.id, version=merge.version))

    def undo(self) -> None:
        if self.merge is None or self.busy:
            return
        api, merge = self.api, self.merge
        self._run(lambda: api.undo_merge(merge.id, version=merge.version))

    def _run(self, work) -> None:
        self.busy = True
        self.problem.clear()
        self._show_state()
        self.tasks.run(work, self._on_merge_changed, self._on_failed, owner=self)

    def _on_merge_changed(self, merge: MergeRead) -> None:
        self.busy = False
        self.sig_merge_changed.emit(merge)
        if merge.status == "confirmed":
            self.merge = merge
            self.accept()
            return
        self.merge = merge if merge.status == "pending" else None
        self._show_state(undone=merge.status == "undone")

    def _show_state(self, *, undone: bool = False) -> None:
        pending = self.merge is not None and self.merge.status == "pending"
        loaded = self.records is not None
        self.merge_button.setVisible(not pending)
        self.merge_button.setEnabled(loaded and not self.busy)
        self.undo_button.setVisible(pending)
        self.confirm_button.setVisible(pending)
        self.undo_button.setEnabled(not self.busy)
        self.confirm_button.setEnabled(not self.busy)
        self.reason_edit.setReadOnly(pending)
        for button in self.keep_buttons:
            button.setEnabled(loaded and not pending and not self.busy)
        if pending:
            assert self.merge is not None
            self.banner_label.setText(
                self.tr(
                    "Merge recorded: {dup} into {keep}. Nothing has moved yet — confirm to carry "
                    "it out, or undo it."
                ).format(dup=self.merge.duplicate.mrn, keep=self.merge.survivor.mrn)
            )
            self.banner.show()
            self.confirm_button.setDefault(True)
        elif undone:
            self.banner_label.setText(self.tr("Merge undone: both records are as they were."))
            self.banner.show()
        else:
            self.banner.hide()
