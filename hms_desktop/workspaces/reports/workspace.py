"""The reports workspace: the list of reports on the left; on the right the chosen report
for the chosen period — headline figures, the trend chart and its tables — with CSV export
(the server's CSV, saved where the manager chooses) and printing (PDF with preview).

Every request, every PDF render and every file write runs on the task runner; a progress
bar shows while a report is on its way. An answer that arrives after the manager has moved
on to another report or period is dropped, so the screen always shows what was asked last.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hms_desktop.api.hospital import HospitalApi
from hms_desktop.api.reports import ReportsApi
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.printing.reports import PrintChart, PrintTable, ReportDocument, render_report
from hms_desktop.qt import (
    QApplication,
    QComboBox,
    QDate,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from hms_desktop.widgets.layout_memory import remember_splitter
from hms_desktop.widgets.print_preview import PrintPreviewDialog
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.reports.definitions import ReportView, report_views
from hms_desktop.workspaces.reports.panels import KpiStrip, ReportChart, ReportTables
from hms_desktop.workspaces.reports.periods import (
    PRESETS,
    hospital_today,
    period_problem,
    period_text,
    preset_period,
)

DEFAULT_PRESET = "last_30_days"
GROUPINGS = ("day", "week", "month")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class ReportsWorkspace(QWidget):
    """The manager's reports. GUI thread; ``context.tasks`` does the work.

    Signals: ``sig_report_shown(name)`` after a report has been put on screen;
    ``sig_exported(path)`` after a CSV was saved.
    """

    sig_report_shown = Signal(str)
    sig_exported = Signal(str)

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.tasks = context, context.tasks
        self.reports = ReportsApi(context.api)
        self.hospital_api = HospitalApi(context.api)
        hospital = context.me.hospital
        self.timezone = hospital.timezone
        self.minor_unit = hospital.currency_minor_unit
        self.views: list[ReportView] = report_views()
        self.view: ReportView = self.views[0]
        self.report: Any = None
        self.shown_period: tuple[date, date, str] | None = None
        self._request = 0
        self._busy = 0
        self.preview: PrintPreviewDialog | None = None
        self._updating = False  # dates being set by a preset (not a custom edit)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.report_list = QListWidget(splitter)
        self.report_list.setAccessibleName(self.tr("Reports"))
        self.report_list.setToolTip(self.tr("Choose a report (Alt+1 … Alt+5)"))
        for index, view in enumerate(self.views):
            item = QListWidgetItem(view.title, self.report_list)
            item.setToolTip(f"{view.description} (Alt+{index + 1})")
            item.setData(Qt.ItemDataRole.UserRole, view.key)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self.report_list.setSpacing(4)
        self.report_list.setMinimumWidth(180)

        right = QWidget(splitter)
        body = QVBoxLayout(right)
        body.setContentsMargins(8, 0, 0, 0)
        heading = QHBoxLayout()
        self.title_label = QLabel(right)
        self.title_label.setStyleSheet("font-size: 15pt; font-weight: 600")
        self.title_label.setAccessibleName(self.tr("Report title"))
        self.period_label = QLabel(right)
        self.period_label.setAccessibleName(self.tr("Report period"))
        self.period_label.setStyleSheet("font-size: 12pt")
        self.description_label = QLabel(right)
        self.description_label.setProperty("role", "muted")
        self.description_label.setAccessibleName(self.tr("What the report shows"))
        heading.addWidget(self.title_label)
        heading.addSpacing(12)
        heading.addWidget(self.period_label)
        heading.addStretch(1)
        heading.addWidget(self.description_label)
        body.addLayout(heading)
        body.addLayout(self._controls(right))
        self.progress = QProgressBar(right)
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(self.tr("Loading the report"))
        self.progress.hide()
        body.addWidget(self.progress)
        self.problem = ProblemLabel(right)
        body.addWidget(self.problem)
        self.kpis = KpiStrip(right)
        body.addWidget(self.kpis)
        parts = QSplitter(Qt.Orientation.Vertical, right)
        self.chart = ReportChart(parts)
        self.tables = ReportTables(self.minor_unit, parts)
        parts.addWidget(self.chart)
        parts.addWidget(self.tables)
        parts.setStretchFactor(0, 2)
        parts.setStretchFactor(1, 3)
        body.addWidget(parts, 1)
        splitter.addWidget(self.report_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 1160])
        layout.addWidget(splitter, 1)
        remember_splitter(splitter, context.settings, "reports/panes")
        remember_splitter(parts, context.settings, "reports/chart-and-tables")

        self.report_list.currentRowChanged.connect(self._on_report_list_changed)
        self.preset.currentIndexChanged.connect(self._on_preset_changed)
        self.grouping.currentIndexChanged.connect(self._on_grouping_changed)
        self.run_button.clicked.connect(self.run_report)
        self.csv_button.clicked.connect(self.export_csv)
        self.print_button.clicked.connect(self.print_report)
        for keys, slot in (
            ("F5", self.run_report),
            ("Ctrl+E", self.export_csv),
            ("Ctrl+P", self.print_report),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        # Alt+digit: Ctrl+digit belongs to the main window (it switches workspaces).
        for index in range(len(self.views)):
            QShortcut(
                QKeySequence(f"Alt+{index + 1}"),
                self,
                activated=lambda i=index: self.report_list.setCurrentRow(i),
            )
        self.preset.setCurrentIndex([p.key for p in PRESETS].index(DEFAULT_PRESET))
        self._on_preset_changed(self.preset.currentIndex())
        self.report_list.setCurrentRow(0)

    # -- layout ----------------------------------------------------------------------------
    def _controls(self, parent: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        self.preset = QComboBox(parent)
        self.preset.setAccessibleName(self.tr("Period"))
        for preset in PRESETS:
            self.preset.addItem(preset.display(), preset.key)
        self.start_edit = QDateEdit(parent)
        self.end_edit = QDateEdit(parent)
        for edit, name in ((self.start_edit, self.tr("From")), (self.end_edit, self.tr("To"))):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM yyyy")
            edit.setAccessibleName(name)
            edit.dateChanged.connect(self._on_dates_edited)
        self.grouping = QComboBox(parent)
        self.grouping.setAccessibleName(self.tr("Group by"))
        for key, label in zip(
            GROUPINGS, (self.tr("Day"), self.tr("Week"), self.tr("Month")), strict=True
        ):
            self.grouping.addItem(label, key)
        self.run_button = QPushButton(self.tr("&Run"), parent)
        self.run_button.setToolTip(self.tr("Run the report for this period (F5)"))
        self.csv_button = QPushButton(self.tr("Export &CSV…"), parent)
        self.csv_button.setToolTip(self.tr("Save the table on screen as CSV (Ctrl+E)"))
        self.print_button = QPushButton(self.tr("&Print / PDF…"), parent)
        self.print_button.setToolTip(self.tr("Preview, print or save the report as PDF (Ctrl+P)"))
        for button in (self.run_button, self.csv_button, self.print_button):
            button.setAccessibleName(button.text().replace("&", "").rstrip("…"))
        for label, widget in (
            (self.tr("Period"), self.preset),
            (self.tr("From"), self.start_edit),
            (self.tr("To"), self.end_edit),
            (self.tr("Group by"), self.grouping),
        ):
            caption = QLabel(label, parent)
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.run_button)
        row.addWidget(self.csv_button)
        row.addWidget(self.print_button)
        return row

    # -- state -----------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return self._busy > 0

    def _set_busy(self, delta: int) -> None:
        self._busy = max(self._busy + delta, 0)
        self.progress.setVisible(self._busy > 0)

    def period(self) -> tuple[date, date, str]:
        return (
            _pydate(self.start_edit.date()),
            _pydate(self.end_edit.date()),
            str(self.grouping.currentData()),
        )

    def select_report(self, key: str) -> None:
        self.report_list.setCurrentRow([v.key for v in self.views].index(key))

    def set_period(self, start: date, end: date, grouping: str = "day") -> None:
        """Choose a custom period (and run the report)."""
        self._updating = True
        self.preset.setCurrentIndex([p.key for p in PRESETS].index("custom"))
        self.start_edit.setDate(_qdate(start))
        self.end_edit.setDate(_qdate(end))
        self.grouping.setCurrentIndex(GROUPINGS.index(grouping))
        self._updating = False
        self.run_report()

    def select_preset(self, key: str) -> None:
        self.preset.setCurrentIndex([p.key for p in PRESETS].index(key))

    # -- slots -----------------------------------------------------------------------------
    def _on_report_list_changed(self, row: int) -> None:
        if not 0 <= row < len(self.views):
            return
        self.view = self.views[row]
        self.title_label.setText(self.view.title)
        self.description_label.setText(self.view.description)
        self.report = None
        self.tables.set_report_view(self.view)
        self.run_report()

    def _on_preset_changed(self, index: int) -> None:
        key = self.preset.itemData(index)
        if key == "custom":
            return
        start, end = preset_period(key, hospital_today(self.timezone))
        preset = PRESETS[index]
        self._updating = True
        self.start_edit.setDate(_qdate(start))
        self.end_edit.setDate(_qdate(end))
        self.grouping.setCurrentIndex(GROUPINGS.index(preset.grouping))
        self._updating = False
        if self.report_list.currentRow() >= 0:
            self.run_report()

    def _on_grouping_changed(self, _index: int) -> None:
        if not self._updating and self.report_list.currentRow() >= 0:
            self.run_report()

    def _on_dates_edited(self, _value: QDate) -> None:
        if self._updating:
            return
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex([p.key for p in PRESETS].index("custom"))
        self.preset.blockSignals(False)

    # -- running a report ------------------------------------------------------------------
    def run_report(self) -> None:
        """Fetch the chosen report for the chosen period (off the GUI thread)."""
        start, end, grouping = self.period()
        problem = period_problem(start, end)
        if problem:
            self.problem.show_text(problem, "validation_error")
            return
        self.problem.clear()
        self._request += 1
        request, view = self._request, self.view
        self.period_label.setText(period_text(start, end))
        self._set_busy(+1)
        self.context.show_status(self.tr("Running the {name} report…").format(name=view.title))
        self.tasks.run(
            lambda: self.reports.report(view.key, start, end, grouping),
            lambda report: self._on_report_loaded(request, view, report, (start, end, grouping)),
            lambda exc: self._on_report_failed(request, exc),
            owner=self,
        )

    def _on_report_loaded(
        self, request: int, view: ReportView, report: Any, period: tuple[date, date, str]
    ) -> None:
        self._set_busy(-1)
        if request != self._request:
            return  # the manager has asked for something else since
        self.report, self.shown_period = report, period
        self.kpis.show_kpis(view.kpis(report, self.minor_unit))
        self.chart.show_chart(view.chart(report), period[2])
        self.tables.show_report(report, period[2])
        self.context.show_status(
            self.tr("{name} report for {period}").format(
                name=view.title, period=period_text(period[0], period[1])
            )
        )
        self.sig_report_shown.emit(view.key)

    def _on_report_failed(self, request: int, exc: BaseException) -> None:
        self._set_busy(-1)
        if request == self._request:
            self.problem.show_error(exc)

    # -- CSV -------------------------------------------------------------------------------
    def export_csv(self) -> None:
        """Ask where to save, then fetch the server's CSV of the table on screen and write
        it there (both off the GUI thread)."""
        if self.report is None or self.shown_period is None:
            self.problem.show_text(self.tr("Run a report first."))
            return
        start, end, grouping = self.shown_period
        table, name = self.tables.current_key(), self.view.key
        suggested = f"{name}_{start.isoformat()}_{end.isoformat()}_{table}.csv"
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export CSV"),
            str(Path.home() / suggested),
            self.tr("CSV files (*.csv)"),
        )
        if not path:
            return

        def fetch_and_save() -> str:
            export = self.reports.csv(name, start, end, grouping, table)
            Path(path).write_bytes(export.content)
            return path

        self._set_busy(+1)
        self.tasks.run(fetch_and_save, self._on_exported, self._on_export_failed, owner=self)

    def _on_exported(self, path: str) -> None:
        self._set_busy(-1)
        self.context.show_status(self.tr("Saved {path}").format(path=path))
        self.sig_exported.emit(path)

    def _on_export_failed(self, exc: BaseException) -> None:
        self._set_busy(-1)
        self.problem.show_error(exc)

    # -- printing --------------------------------------------------------------------------
    def print_document(self) -> ReportDocument:
        """What the printout shows: exactly the figures and tables on screen."""
        assert self.report is not None and self.shown_period is not None
        start, end, _grouping = self.shown_period
        tables = []
        for spec, model in zip(self.view.tables, self.tables.models, strict=True):
            tables.append(
                PrintTable(
                    spec.title,
                    [c.header for c in model.columns],
                    [
                        [model.text(r, c) for c in range(len(model.columns))]
                        for r in range(len(model.rows))
                    ],
                    [c.kind not in ("text", "bucket") for c in model.columns],
                )
            )
        spec = self.view.chart(self.report)
        chart = PrintChart(spec.title, spec.unit, [(s.name, s.points) for s in spec.series])
        generated = self.report.period.generated_at.strftime("%d %b %Y %H:%M")
        return ReportDocument(
            title=self.view.title,
            period=period_text(start, end),
            generated=generated,
            kpis=[(k.label, k.value) for k in self.view.kpis(self.report, self.minor_unit)],
            tables=tables,
            chart=chart,
            notes=[
                self.tr("Run by {user} at {when} ({zone}). Aggregates only.").format(
                    user=self.context.me.full_name or self.context.me.username,
                    when=generated,
                    zone=self.timezone,
                )
            ],
        )

    def print_report(self) -> None:
        """Render the report as PDF (off the GUI thread) and open the print preview."""
        if self.report is None or self.shown_period is None:
            self.problem.show_text(self.tr("Run a report first."))
            return
        document = self.print_document()
        start, end, _grouping = self.shown_period
        file_name = f"{self.view.key}_{start.isoformat()}_{end.isoformat()}.pdf"

        def render() -> bytes:
            hospital = self.hospital_api.get()
            return render_report(
                document, Letterhead.from_hospital(hospital, self.hospital_api.logo())
            )

        self._set_busy(+1)
        self.tasks.run(
            render,
            lambda pdf: self._on_rendered(pdf, document.title, file_name),
            self._on_export_failed,
            owner=self,
        )

    def _on_rendered(self, pdf: bytes, title: str, file_name: str) -> None:
        self._set_busy(-1)
        dialog = PrintPreviewDialog(self.tasks, pdf, title=title, file_name=file_name, parent=self)
        dialog.finished.connect(dialog.deleteLater)
        self.preview = dialog
        dialog.open()

    # -- screenshot tour -------------------------------------------------------------------
    #: report → the preset each is shown with: the default period, and the whole year for
    #: revenue (invoices run back months).
    TOUR_PRESETS = {
        "activity": DEFAULT_PRESET,
        "clinic-flow": DEFAULT_PRESET,
        "inpatient": DEFAULT_PRESET,
        "revenue": "this_year",
        "pharmacy": DEFAULT_PRESET,
    }

    def _tour_show(self, key: str) -> None:
        self.select_report(key)
        self.select_preset(self.TOUR_PRESETS[key])

    def prepare_screenshot(self) -> None:
        """Screenshot tour hook: the activity report for the default period."""
        self._tour_show("activity")

    def screenshot_views(self) -> list[tuple[str, Any]]:
        """Screenshot tour hook: each other report, then the printout's preview."""
        views: list[tuple[str, Any]] = [
            (key, lambda k=key: self._tour_show(k))
            for key in ("clinic-flow", "inpatient", "revenue", "pharmacy")
        ]
        views.append(("print", self._tour_print))
        return views

    def _tour_print(self) -> Any:
        """Open the preview of the report on screen and hand it to the tour once shown."""
        self.preview = None
        self.print_report()
        self.tasks.wait_for_done(20000)  # the render; its answer is queued to this thread
        QApplication.processEvents()
        return self.preview
