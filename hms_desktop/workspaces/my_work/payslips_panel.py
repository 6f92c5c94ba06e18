"""My payslips: the payslips of finalised pay runs (newest first) on the left, the selected
one's figures on the right as the server calculated them, and "Print / PDF…" (Ctrl+P): the
payslip is fetched again (the server audits the view), rendered by the shared payslip builder
on the task runner with the hospital letterhead, and opened in the print preview, which
prints or saves the PDF."""

from __future__ import annotations

from decimal import Decimal

from hms_contract.staff import PayslipRead
from hms_desktop.api.hospital import HospitalApi
from hms_desktop.api.staff import StaffApi
from hms_desktop.models.staff import Col, RowsModel
from hms_desktop.printing.billing_common import Letterhead, amount_text, money_text
from hms_desktop.printing.payslip import period_text, render_payslip
from hms_desktop.qt import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
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
from hms_desktop.workspaces.my_work.common import MyPanel


class PayslipsPanel(MyPanel):
    FIGURES = (
        ("period", "Month"),
        ("job", "Job title"),
        ("days", "Days paid"),
        ("base", "Base pay"),
        ("nights", "Night-shift allowance"),
        ("gross", "Gross pay"),
        ("tax", "Income tax"),
        ("pension", "Pension"),
        ("deductions", "Total deductions"),
        ("net", "Net pay"),
    )

    def __init__(self, context: WorkspaceContext, staff: StaffApi, parent: QWidget | None = None):
        super().__init__(context, staff, parent)
        self.hospital = HospitalApi(context.api)
        self.minor = context.me.hospital.currency_minor_unit
        self.head = Letterhead.from_hospital(context.me.hospital)  # currency and its decimals
        self.preview: PrintPreviewDialog | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.model = RowsModel(
            [
                Col(self.tr("Month"), lambda s: period_text(s.period)),
                Col(self.tr("Gross"), lambda s: self.money(s.gross_pay), right=True),
                Col(self.tr("Net pay"), lambda s: self.money(s.net_pay), right=True),
            ],
            self,
        )
        self.table = make_record_table(splitter, self.tr("My payslips"), self.model)
        keep_columns_whole(self.table)
        detail = QWidget(splitter)
        column = QVBoxLayout(detail)
        column.setContentsMargins(8, 0, 0, 0)
        box = QGroupBox(self.tr("Payslip"), detail)
        form = QFormLayout(box)
        self.figures: dict[str, QLabel] = {}
        for key, title in self.FIGURES:
            label = QLabel(box)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(self.tr(title))
            if key in ("gross", "net", "base", "nights", "tax", "pension", "deductions"):
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.figures[key] = label
            form.addRow(self.tr(title), label)
        bold = self.figures["net"].font()
        bold.setBold(True)
        self.figures["net"].setFont(bold)
        column.addWidget(box)
        actions = QHBoxLayout()
        actions.addStretch(1)
        self.print_button = QPushButton(self.tr("Print / PDF…"), detail)
        self.print_button.setToolTip(
            self.tr("Preview the payslip, then print it or save it as PDF (Ctrl+P)")
        )
        self.print_button.setEnabled(False)
        actions.addWidget(self.print_button)
        column.addLayout(actions)
        column.addStretch(1)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.empty = QLabel(
            self.tr(
                "No payslips yet. A payslip appears here once HR has finalised the month's pay run."
            ),
            self,
        )
        self.empty.setProperty("role", "hint")
        self.empty.setWordWrap(True)
        self.empty.hide()
        self.layout_.addWidget(splitter, 1)
        self.layout_.addWidget(self.empty)
        self.layout_.addWidget(self.problem)
        self.table.selectionModel().currentRowChanged.connect(self._on_selected)
        self.print_button.clicked.connect(self.print_selected)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self.print_selected)

    def money(self, amount: Decimal) -> str:
        return money_text(amount, self.head)

    def reload(self) -> None:
        self.run(self.staff.my_payslips, self._show)

    def _show(self, slips: list[PayslipRead]) -> None:
        self.model.set_rows(slips)
        self.empty.setVisible(not slips)
        if slips:
            self.table.selectRow(0)
        else:
            self._fill(None)

    def selected(self) -> PayslipRead | None:
        index = self.table.currentIndex()
        return self.model.row_item(index.row()) if index.isValid() else None

    def _on_selected(self, _current: object, _previous: object) -> None:
        self._fill(self.selected())

    def _fill(self, slip: PayslipRead | None) -> None:
        self.print_button.setEnabled(slip is not None)
        if slip is None:
            for label in self.figures.values():
                label.clear()
            return
        values = {
            "period": period_text(slip.period),
            "job": slip.job_title + (f" · {slip.grade}" if slip.grade else ""),
            "days": self.tr("{paid} of {days}").format(
                paid=slip.days_paid, days=slip.days_in_period
            ),
            "base": self.money(slip.base_pay),
            "nights": self.tr("{n} × {rate} = {amount}").format(
                n=slip.night_shifts,
                rate=amount_text(slip.night_shift_rate, self.minor),
                amount=self.money(slip.night_allowance),
            ),
            "gross": self.money(slip.gross_pay),
            "tax": f"{amount_text(slip.income_tax_percent)} % · {self.money(slip.income_tax)}",
            "pension": f"{amount_text(slip.pension_percent)} % · {self.money(slip.pension)}",
            "deductions": self.money(slip.total_deductions),
            "net": self.money(slip.net_pay),
        }
        for key, text in values.items():
            self.figures[key].setText(text)

    def _render(self, payslip_id: int) -> tuple[PayslipRead, bytes]:
        """Worker thread: the payslip as the server has it now, rendered with the letterhead."""
        slip = self.staff.my_payslip(payslip_id)
        head = Letterhead.from_hospital(self.context.me.hospital, self.hospital.logo())
        return slip, render_payslip(slip, head)

    def print_selected(self) -> None:
        slip = self.selected()
        if slip is not None:
            self.run(lambda: self._render(slip.id), self._show_preview)

    def _show_preview(self, rendered: tuple[PayslipRead, bytes]) -> PrintPreviewDialog:
        slip, pdf = rendered
        dialog = PrintPreviewDialog(
            self.context.tasks,
            pdf,
            title=self.tr("My payslip — {month}").format(month=period_text(slip.period)),
            file_name=f"payslip-{slip.employee_number}-{slip.period}.pdf",
            parent=self,
        )
        dialog.finished.connect(dialog.deleteLater)
        self.preview = dialog
        dialog.open()
        return dialog

    def open_preview_now(self) -> PrintPreviewDialog | None:
        """The screenshot tour's preview, rendered at once (the tour grabs what it returns)."""
        slip = self.selected()
        return self._show_preview(self._render(slip.id)) if slip is not None else None
