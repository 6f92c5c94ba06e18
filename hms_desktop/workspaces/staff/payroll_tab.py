"""Payroll tab: pay runs by month on the left (run a month, recalculate a draft, finalise),
the selected run's payslips on the right, and printing a payslip through the preview. The
PDF is rendered on the task runner with the hospital letterhead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hms_contract.common import Page
from hms_contract.staff import PayrollSettings, PayRunRead, PayslipRead
from hms_desktop.api.hospital import HospitalApi
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import STATUS_TEXT, Col, RowsModel
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.printing.payslip import period_text, render_payslip
from hms_desktop.qt import (
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMessageBox,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.print_preview import PrintPreviewDialog
from hms_desktop.widgets.record_table import keep_columns_whole, make_record_table
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.staff.common import StaffPanel, money, qdate
from hms_desktop.workspaces.staff.dialogs import RatesDialog


class PayrollTab(StaffPanel):
    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.hospital = HospitalApi(context.api)
        self.minor = context.me.hospital.currency_minor_unit
        self.preview: PrintPreviewDialog | None = None
        self._select_next: int | None = None
        manage = self.can("payroll.manage")
        top = QHBoxLayout()
        self.month = QDateEdit(self)
        self.month.setDisplayFormat("MMMM yyyy")
        self.month.setCalendarPopup(True)
        self.month.setAccessibleName(self.tr("Pay month"))
        now = datetime.now(self.zone).date().replace(day=1)
        self.month.setDate(qdate(now))
        self.run_button = QPushButton(self.tr("Run payroll"), self)
        self.run_button.setToolTip(self.tr("Calculate the month's draft payslips (Ctrl+R)"))
        self.recalc_button = QPushButton(self.tr("Recalculate"), self)
        self.recalc_button.setToolTip(self.tr("Recalculate the selected draft run"))
        self.finalise_button = QPushButton(self.tr("Finalise…"), self)
        self.finalise_button.setToolTip(
            self.tr("Freeze the selected run; its payslips can no longer change")
        )
        self.rates_button = QPushButton(self.tr("Rates…"), self)
        self.rates_button.setToolTip(
            self.tr("Night-shift allowance, income tax and pension used by new calculations")
        )
        top.addWidget(QLabel(self.tr("Month"), self))
        top.addWidget(self.month)
        for button in (
            self.run_button,
            self.recalc_button,
            self.finalise_button,
            self.rates_button,
        ):
            button.setVisible(manage)
            top.addWidget(button)
        top.addStretch(1)
        self.layout_.addLayout(top)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.runs = RowsModel(
            [
                Col(self.tr("Month"), lambda r: period_text(r.period)),
                Col(self.tr("Status"), lambda r: self.tr(STATUS_TEXT[r.status])),
                Col(self.tr("Payslips"), lambda r: str(r.payslip_count), right=True),
                Col(self.tr("Gross"), lambda r: money(r.total_gross, self.minor), right=True),
                Col(self.tr("Net"), lambda r: money(r.total_net, self.minor), right=True),
            ],
            self,
        )
        self.runs_table = make_record_table(splitter, self.tr("Pay runs"), self.runs)
        keep_columns_whole(self.runs_table)
        right = QWidget(splitter)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        self.slips = RowsModel(
            [
                Col(self.tr("Employee no."), lambda s: s.employee_number),
                Col(self.tr("Name"), lambda s: s.full_name),
                Col(self.tr("Days"), lambda s: f"{s.days_paid}/{s.days_in_period}", right=True),
                Col(self.tr("Nights"), lambda s: str(s.night_shifts), right=True),
                Col(self.tr("Gross"), lambda s: money(s.gross_pay, self.minor), right=True),
                Col(
                    self.tr("Deductions"),
                    lambda s: money(s.total_deductions, self.minor),
                    right=True,
                ),
                Col(self.tr("Net"), lambda s: money(s.net_pay, self.minor), right=True),
            ],
            self,
        )
        self.slips_table = make_record_table(right, self.tr("Payslips"), self.slips)
        keep_columns_whole(self.slips_table)
        self.print_button = QPushButton(self.tr("Print payslip…"), right)
        self.print_button.setToolTip(self.tr("Preview and print the selected payslip (Ctrl+P)"))
        column.addWidget(self.slips_table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.print_button)
        column.addLayout(row)
        splitter.addWidget(self.runs_table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.layout_.addWidget(splitter, 1)
        self.layout_.addWidget(self.problem)
        self.run_button.clicked.connect(self.run_payroll)
        self.recalc_button.clicked.connect(self.recalculate)
        self.finalise_button.clicked.connect(self.finalise)
        self.rates_button.clicked.connect(self.edit_rates)
        self.print_button.clicked.connect(self.print_selected)
        self.runs_table.selectionModel().currentRowChanged.connect(self._on_run)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self.print_selected)
        if manage:
            QShortcut(QKeySequence("Ctrl+R"), self, activated=self.run_payroll)

    def reload(self, select_id: int | None = None) -> None:
        """Load the runs, then select ``select_id`` — or, without one, the run selected when
        the answer arrives. A requested selection outlives reloads answered in between (a
        live event's reload must not put back the run selected before "Run payroll")."""
        if select_id is not None:
            self._select_next = select_id
        self.run(lambda: self.staff.pay_runs(limit=60), self._show_runs)

    def _show_runs(self, page: Page[PayRunRead]) -> None:
        current = self.selected_run()
        wanted = self._select_next or (current.id if current else None)
        self._select_next = None
        self.runs.set_rows(page.items)
        row = self.runs.find_row(lambda r: r.id == wanted) if wanted else 0
        if page.items:
            self.runs_table.selectRow(max(row, 0))

    def selected_run(self) -> PayRunRead | None:
        index = self.runs_table.currentIndex()
        return self.runs.row_item(index.row()) if index.isValid() else None

    def selected_slip(self) -> PayslipRead | None:
        index = self.slips_table.currentIndex()
        return self.slips.row_item(index.row()) if index.isValid() else None

    def _on_run(self, current: object, _previous: object) -> None:
        run = self.selected_run()
        if run is None:
            return
        draft = run.status == "draft"
        self.recalc_button.setEnabled(draft)
        self.finalise_button.setEnabled(draft)
        self.run(lambda: self.staff.payslips(run.id), self._show_slips)

    def _show_slips(self, slips: list[PayslipRead]) -> None:
        self.slips.set_rows(slips)
        if slips:
            self.slips_table.selectRow(0)

    def run_payroll(self) -> None:
        period = self.month.date().toString("yyyy-MM")
        self.run(lambda: self.staff.create_pay_run(period), lambda run: self.reload(run.id))

    def recalculate(self) -> None:
        run = self.selected_run()
        if run is not None and run.status == "draft":
            self.run(
                lambda: self.staff.recalculate_pay_run(run.id, run.version),
                lambda changed: self.reload(changed.id),
            )

    def finalise(self) -> None:
        run = self.selected_run()
        if run is None or run.status != "draft":
            return
        answer = QMessageBox.question(
            self,
            self.tr("Finalise pay run"),
            self.tr(
                "Finalise {month}? Its {n} payslips can no longer be changed or recalculated."
            ).format(month=period_text(run.period), n=run.payslip_count),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.run(
            lambda: self.staff.finalise_pay_run(run.id, run.version),
            lambda changed: self.reload(changed.id),
        )

    def edit_rates(self) -> None:
        """Load the rates, then ask for the new ones (a short dialog)."""
        self.run(self.staff.payroll_settings, self._ask_rates)

    def _ask_rates(self, current: PayrollSettings) -> None:
        dialog = RatesDialog(current, self)
        self.rates_dialog = dialog
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.save_rates(dialog.values())

    def save_rates(self, values: dict[str, Any]) -> None:
        self.run(
            lambda: self.staff.update_payroll_settings(**values),
            lambda saved: self.context.show_status(
                self.tr("Payroll rates saved; they apply to runs calculated from now on.")
            ),
        )

    def _render(self, slip: PayslipRead) -> bytes:
        """The payslip PDF with the letterhead (worker thread: fetches the logo)."""
        head = Letterhead.from_hospital(self.context.me.hospital, self.hospital.logo())
        return render_payslip(slip, head)

    def _show_preview(self, slip: PayslipRead, pdf: bytes) -> PrintPreviewDialog:
        dialog = PrintPreviewDialog(
            self.context.tasks,
            pdf,
            title=self.tr("Payslip — {name}, {month}").format(
                name=slip.full_name, month=period_text(slip.period)
            ),
            file_name=f"payslip-{slip.employee_number}-{slip.period}.pdf",
            parent=self,
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.sig_printed.connect(
            lambda: self.context.tasks.run(
                lambda: self.staff.record_payslip_print(slip.id),
                None,
                lambda _exc: None,
                quiet=True,
            )
        )
        self.preview = dialog
        dialog.open()
        return dialog

    def print_selected(self) -> None:
        """Render on the task runner, then open the preview (print from there)."""
        slip = self.selected_slip()
        if slip is not None:
            self.run(lambda: self._render(slip), lambda pdf: self._show_preview(slip, pdf))

    def open_preview_now(self) -> PrintPreviewDialog | None:
        """The screenshot tour's preview, rendered at once (see ``StaffWorkspace``)."""
        slip = self.selected_slip()
        return self._show_preview(slip, self._render(slip)) if slip is not None else None
