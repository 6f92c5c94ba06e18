"""Audit log viewer: filters, server-side sorting by any column header, incremental paging."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hms_desktop.api.audit import AuditApi
from hms_desktop.models.audit import AuditTableModel
from hms_desktop.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.workspaces import WorkspaceContext

# A QDateEdit cannot be empty; its minimum date stands for "no limit" and shows as "Any".
_ANY_DATE = QDate(2000, 1, 1)
OUTCOMES = ("success", "failure", "denied")


def _utc_iso(day: QDate, *, end_of_day: bool = False) -> str:
    """Local midnight of ``day`` (or of the day after, for an inclusive end) as UTC ISO."""
    date = day.toPython() + timedelta(days=1 if end_of_day else 0)
    local = datetime.combine(date, time.min).astimezone()  # naive → the OS time zone
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AuditTab(QWidget):
    """Shows ``GET /audit``; filters apply on Enter or "Apply"; headers sort on the server."""

    def __init__(
        self, context: WorkspaceContext, audit: AuditApi, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = AuditTableModel(context.tasks, audit, self)
        self._build_filters()

        self.table = make_record_table(self, self.tr("Audit entries"), self.model)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((150, 110, 120, 90, 80, 250, 150, 110, 260)):
            header.resizeSection(column, width)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)

        self.count_label = QLabel(self)
        self.count_label.setProperty("role", "subtitle")
        self.count_label.setAccessibleName(self.tr("Number of audit entries"))
        self.problem = ProblemLabel(self)
        self.model.sig_total_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.sig_load_failed.connect(self.problem.show_error)
        self.model.modelReset.connect(self.problem.clear)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(self.filters_layout)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.count_label)

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setCalendarPopup(True)
        edit.setMinimumDate(_ANY_DATE)
        edit.setSpecialValueText(self.tr("Any"))
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    def _line_edit(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.returnPressed.connect(self.apply_filters)
        return edit

    def _build_filters(self) -> None:
        self.since_edit = self._date_edit(self.tr("From date"))
        self.since_edit.setDate(QDate.currentDate().addDays(-7))
        self.until_edit = self._date_edit(self.tr("Until date"))
        self.until_edit.setDate(_ANY_DATE)
        self.user_edit = self._line_edit(self.tr("Username filter"), self.tr("any user"))
        self.action_edit = self._line_edit(
            self.tr("Action filter"), self.tr("e.g. login, user.create")
        )
        self.category_edit = self._line_edit(
            self.tr("Category filter"), self.tr("e.g. authentication")
        )
        self.patient_edit = self._line_edit(self.tr("Patient ID filter"), self.tr("any patient"))
        self.outcome_combo = QComboBox(self)
        self.outcome_combo.setAccessibleName(self.tr("Outcome filter"))
        self.outcome_combo.addItem(self.tr("Any"), "")
        for outcome in OUTCOMES:
            self.outcome_combo.addItem(outcome, outcome)
        self.apply_button = QPushButton(self.tr("Apply"), self)
        self.apply_button.setAccessibleName(self.tr("Apply filters"))
        self.apply_button.setToolTip(self.tr("Apply filters (Enter)"))
        self.apply_button.clicked.connect(self.apply_filters)
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setAccessibleName(self.tr("Clear filters"))
        self.clear_button.clicked.connect(self.clear_filters)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        cells = [
            (self.tr("From:"), self.since_edit),
            (self.tr("Until:"), self.until_edit),
            (self.tr("User:"), self.user_edit),
            (self.tr("Outcome:"), self.outcome_combo),
            (self.tr("Action:"), self.action_edit),
            (self.tr("Category:"), self.category_edit),
            (self.tr("Patient:"), self.patient_edit),
        ]
        for i, (label_text, widget) in enumerate(cells):
            row, col = divmod(i, 4)
            label = QLabel(label_text, self)
            label.setBuddy(widget)
            grid.addWidget(label, row, col * 2, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(widget, row, col * 2 + 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.apply_button)
        grid.addLayout(buttons, 1, 6, 1, 2)
        for col in (1, 3, 5, 7):
            grid.setColumnStretch(col, 1)
        self.filters_layout = grid

    def filters(self) -> dict[str, str]:
        """The current filter fields as ``GET /audit`` parameters."""
        result = {
            "user": self.user_edit.text().strip(),
            "action": self.action_edit.text().strip(),
            "category": self.category_edit.text().strip(),
            "patient_id": self.patient_edit.text().strip(),
            "outcome": self.outcome_combo.currentData() or "",
        }
        if self.since_edit.date() != _ANY_DATE:
            result["since"] = _utc_iso(self.since_edit.date())
        if self.until_edit.date() != _ANY_DATE:
            result["until"] = _utc_iso(self.until_edit.date(), end_of_day=True)
        return {k: v for k, v in result.items() if v}

    def apply_filters(self) -> None:
        self.model.set_filters(**self.filters())

    def clear_filters(self) -> None:
        for edit in (self.user_edit, self.action_edit, self.category_edit, self.patient_edit):
            edit.clear()
        self.outcome_combo.setCurrentIndex(0)
        self.since_edit.setDate(_ANY_DATE)
        self.until_edit.setDate(_ANY_DATE)
        self.apply_filters()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model.total is None and not self.model.loading:
            self.apply_filters()

    def _update_count(self, *_args) -> None:
        total = self.model.total
        if total is None:
            self.count_label.setText(self.tr("Loading…"))
        else:
            self.count_label.setText(
                self.tr("Showing {shown} of {total} entries").format(
                    shown=self.model.rowCount(), total=total
                )
            )
