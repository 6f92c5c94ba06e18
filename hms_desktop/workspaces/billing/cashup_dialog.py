"""End-of-day cash-up: what the system expects per method (cash = float + cash taken − cash
refunded), what the cashier counted, the variance live as they type, a reason when it is not
zero. Submitting locks the session on the server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_contract.payments import CashSessionRead
from hms_desktop.api.billing import BillingApi
from hms_desktop.models.billing import format_amount, method_text, parse_amount
from hms_desktop.qt import QGridLayout, QLabel, QLineEdit, QWidget
from hms_desktop.tasks import TaskRunner
from hms_desktop.workspaces.billing.dialogs import _Form


class CashUpDialog(_Form):
    """Lives on the GUI thread; ``result_value`` is the submitted ``CashSessionRead``."""

    def __init__(
        self,
        tasks: TaskRunner,
        billing: BillingApi,
        session: CashSessionRead,
        *,
        minor_unit: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(tasks, self.tr("Cash-up — drawer {d}").format(d=session.drawer), parent)
        self.billing, self.session, self.minor_unit = billing, session, minor_unit
        grid_widget = QWidget(self)
        grid = QGridLayout(grid_widget)
        for column, title in enumerate(
            (self.tr("Method"), self.tr("Expected"), self.tr("Counted"), self.tr("Variance"))
        ):
            header = QLabel(f"<b>{title}</b>", grid_widget)
            grid.addWidget(header, 0, column)
        self.counted: dict[str, QLineEdit] = {}
        self.variance: dict[str, QLabel] = {}
        self.targets: dict[str, Decimal] = {}
        for row, total in enumerate(session.totals, start=1):
            target = session.expected_cash_in_drawer if total.method == "cash" else total.expected
            self.targets[total.method] = target
            label = method_text(total.method) + (
                " " + self.tr("(drawer, float included)") if total.method == "cash" else ""
            )
            grid.addWidget(QLabel(label, grid_widget), row, 0)
            expected = QLabel(format_amount(target, minor_unit), grid_widget)
            expected.setAccessibleName(self.tr("Expected {m}").format(m=label))
            grid.addWidget(expected, row, 1)
            edit = QLineEdit(grid_widget)
            edit.setAccessibleName(self.tr("Counted {m}").format(m=label))
            edit.setToolTip(
                self.tr("What you counted (leave card/transfer empty to accept the expected total)")
            )
            edit.textChanged.connect(self._update)
            grid.addWidget(edit, row, 2)
            variance = QLabel("—", grid_widget)
            variance.setAccessibleName(self.tr("Variance {m}").format(m=label))
            grid.addWidget(variance, row, 3)
            self.counted[total.method], self.variance[total.method] = edit, variance
        self.layout_.insertWidget(0, grid_widget)
        self.reason = self.field(
            self.tr("Variance reason"),
            QLineEdit(self),
            self.tr("Variance reason"),
            self.tr("Required when a count differs from the expected"),
        )
        self.ok_button.setText(self.tr("Submit and lock"))

    def _counts(self) -> dict[str, Decimal] | None:
        counts = {}
        for method, edit in self.counted.items():
            if not edit.text().strip():
                continue
            value = parse_amount(edit.text(), self.minor_unit)
            if value is None or value < 0:
                return None
            counts[method] = value
        return counts

    def _update(self) -> None:
        counts = self._counts() or {}
        for method, label in self.variance.items():
            if method in counts:
                diff = counts[method] - self.targets[method]
                sign = "+" if diff > 0 else ""
                label.setText(
                    f"{sign}{format_amount(diff, self.minor_unit)}" + ("  ⚠" if diff else "  ✓")
                )
            else:
                label.setText("—")

    def submit(self) -> None:
        counts = self._counts()
        if counts is None:
            self.complain(
                self.tr("Counts are amounts with at most {n} decimals.").format(n=self.minor_unit)
            )
            return
        if "cash" not in counts:
            self.complain(self.tr("Count the cash in the drawer."))
            return
        differs = any(v != self.targets[m] for m, v in counts.items())
        reason = self.reason.text().strip() or None
        if differs and not reason:
            self.complain(self.tr("The count differs; give a reason for the variance."))
            return
        session: Any = self.session
        self.run(
            lambda: self.billing.submit_cash_session(
                session.id, version=session.version, counted=counts, variance_reason=reason
            )
        )
