"""Qt table models of billing records (contract models in, display text out).

Rows are ``hms_contract`` models; each model computes its cells' text once when rows are
set, so a 500-line invoice scrolls and repaints without re-formatting money. Statuses are
shown as words with a colour, never colour alone. All models live on the GUI thread and
never load anything: the workspace fetches on the task runner and calls ``set_rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from hms_desktop.qt import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QColor,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    translate,
)
from hms_desktop.theme import STATUS_COLOURS

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def format_amount(amount: Decimal | None, minor_unit: int = 2) -> str:
    """``1234.5`` → ``1,234.50`` with the currency's decimals; blank for ``None``."""
    if amount is None:
        return ""
    return f"{amount.quantize(Decimal(1).scaleb(-minor_unit)):,.{minor_unit}f}"


def parse_amount(text: str, minor_unit: int) -> Decimal | None:
    """What a clerk typed as an amount, or ``None`` if it is not one the currency allows
    (``12,50`` is read as ``12.50``; more decimals than the currency has are refused)."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        return None
    quantum = Decimal(1).scaleb(-minor_unit)
    if not value.is_finite() or value != value.quantize(quantum, rounding=ROUND_DOWN):
        return None
    return value.quantize(quantum)


_STATUS_TEXT = {
    "draft": QT_TRANSLATE_NOOP("Billing", "Draft"),
    "finalised": QT_TRANSLATE_NOOP("Billing", "Open"),
    "partly_paid": QT_TRANSLATE_NOOP("Billing", "Partly paid"),
    "paid": QT_TRANSLATE_NOOP("Billing", "Paid"),
    "void": QT_TRANSLATE_NOOP("Billing", "Void"),
    "unbilled": QT_TRANSLATE_NOOP("Billing", "Unbilled"),
    "billed": QT_TRANSLATE_NOOP("Billing", "Billed"),
    "reversed": QT_TRANSLATE_NOOP("Billing", "Reversed"),
    "ready": QT_TRANSLATE_NOOP("Billing", "Ready to submit"),
    "submitted": QT_TRANSLATE_NOOP("Billing", "Submitted"),
    "approved": QT_TRANSLATE_NOOP("Billing", "Approved"),
    "partly_approved": QT_TRANSLATE_NOOP("Billing", "Partly approved"),
    "rejected": QT_TRANSLATE_NOOP("Billing", "Rejected"),
    "closed": QT_TRANSLATE_NOOP("Billing", "Closed"),
    "cancelled": QT_TRANSLATE_NOOP("Billing", "Cancelled"),
    "pending": QT_TRANSLATE_NOOP("Billing", "Waiting for approval"),
    "withdrawn": QT_TRANSLATE_NOOP("Billing", "Withdrawn"),
}
_STATUS_COLOUR = {
    "draft": "progress",
    "finalised": "waiting",
    "partly_paid": "waiting",
    "paid": "ok",
    "void": "critical",
    "reversed": "critical",
    "ready": "waiting",
    "submitted": "progress",
    "approved": "ok",
    "partly_approved": "waiting",
    "rejected": "critical",
    "pending": "waiting",
    "unbilled": "progress",
}
_METHOD_TEXT = {
    "cash": QT_TRANSLATE_NOOP("Billing", "Cash"),
    "card": QT_TRANSLATE_NOOP("Billing", "Card"),
    "bank_transfer": QT_TRANSLATE_NOOP("Billing", "Bank transfer"),
    "insurance": QT_TRANSLATE_NOOP("Billing", "Insurance"),
}


def status_text(status: str) -> str:
    source = _STATUS_TEXT.get(status)
    return translate("Billing", source) if source else status.replace("_", " ")


def method_text(method: str) -> str:
    source = _METHOD_TEXT.get(method)
    return translate("Billing", source) if source else method


def status_colour(status: str) -> QColor | None:
    key = _STATUS_COLOUR.get(status)
    return QColor(STATUS_COLOURS[key]) if key else None


@dataclass(frozen=True)
class Col:
    """A column: header, the cell text of a row, right-aligned (numbers), and the status
    a cell's colour follows (optional)."""

    title: str
    text: Callable[[Any], str]
    right: bool = False
    colour: Callable[[Any], QColor | None] | None = None


class RowsTableModel(QAbstractTableModel):
    """Read-only rows with precomputed text. ``set_rows`` replaces everything."""

    def __init__(self, columns: list[Col], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[Any] = []
        self._text: list[list[str]] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._text = [[column.text(row) for column in self.columns] for row in self.rows]
        self.endResetModel()

    def row_item(self, row: int) -> Any:
        return self.rows[row]

    def find_row(self, key: Callable[[Any], bool]) -> int:
        return next((i for i, row in enumerate(self.rows) if key(row)), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.TextAlignmentRole
            and self.columns[section].right
        ):
            return int(_RIGHT)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and column.right:
            return int(_RIGHT)
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            return column.colour(self.rows[index.row()])
        return None


def _t(text: str) -> str:
    return translate("Billing", text)


class ChargesTableModel(RowsTableModel):
    """Unbilled charges with a tick box each: the ticked ones become the draft."""

    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col("", lambda c: ""),
                Col(_t("Date"), lambda c: c.service_date.isoformat()),
                Col(_t("Code"), lambda c: c.code),
                Col(
                    _t("Description"),
                    lambda c: (
                        c.description
                        + ("  ⚠ " + _t("source cancelled") if c.source_cancelled else "")
                    ),
                ),
                Col(_t("Qty"), lambda c: format(c.quantity.normalize(), "f"), right=True),
                Col(_t("Unit price"), lambda c: format_amount(c.unit_price, mu), right=True),
                Col(_t("Amount"), lambda c: format_amount(c.amount, mu), right=True),
                Col(
                    _t("From"),
                    lambda c: _t(
                        {
                            "consultation": "Consultation",
                            "lab_order": "Lab order",
                            "dispense": "Pharmacy",
                            "bed_day": "Ward",
                            "manual": "Manual",
                        }.get(c.source_type, c.source_type)
                    ),
                ),
            ],
            parent,
        )
        self.checked: set[int] = set()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.checked = {row.id for row in rows}
        super().set_rows(rows)

    def checked_ids(self) -> list[int]:
        return [row.id for row in self.rows if row.id in self.checked]

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == 0:
            if role == Qt.ItemDataRole.CheckStateRole:
                row = self.rows[index.row()]
                return Qt.CheckState.Checked if row.id in self.checked else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return _t("Include in the invoice")
        return super().data(index, role)

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            row = self.rows[index.row()]
            state = value.value if hasattr(value, "value") else value
            if state == Qt.CheckState.Checked.value:
                self.checked.add(row.id)
            else:
                self.checked.discard(row.id)
            self.dataChanged.emit(index, index, [role])
            return True
        return False


class InvoiceLinesTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col("#", lambda x: str(x.line_no), right=True),
                Col(_t("Date"), lambda x: x.service_date.isoformat()),
                Col(_t("Code"), lambda x: x.code),
                Col(_t("Description"), lambda x: x.description),
                Col(_t("Qty"), lambda x: format(x.quantity.normalize(), "f"), right=True),
                Col(_t("Unit price"), lambda x: format_amount(x.unit_price, mu), right=True),
                Col(
                    _t("Discount"),
                    lambda x: format_amount(x.discount, mu) if x.discount else "",
                    right=True,
                ),
                Col(_t("Tax"), lambda x: f"{x.tax_rate.normalize():f} %", right=True),
                Col(_t("Total"), lambda x: format_amount(x.total, mu), right=True),
                Col(_t("Insurer"), lambda x: format_amount(x.payer_share, mu), right=True),
                Col(_t("Patient"), lambda x: format_amount(x.patient_share, mu), right=True),
            ],
            parent,
        )


class InvoicesTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col(_t("Number"), lambda i: i.number or _t("(draft)")),
                Col(
                    _t("Status"),
                    lambda i: status_text(i.status),
                    colour=lambda i: status_colour(i.status),
                ),
                Col(_t("Issued"), lambda i: i.issued_on.isoformat() if i.issued_on else ""),
                Col(_t("Total"), lambda i: format_amount(i.total, mu), right=True),
                Col(_t("Paid"), lambda i: format_amount(i.paid, mu), right=True),
                Col(_t("Balance"), lambda i: format_amount(i.balance, mu), right=True),
            ],
            parent,
        )


class PaymentsTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col(_t("Receipt"), lambda p: p.receipt_number),
                Col(_t("Date"), lambda p: p.received_at.strftime("%Y-%m-%d %H:%M")),
                Col(_t("Kind"), lambda p: _t(p.kind.title())),
                Col(_t("Method"), lambda p: method_text(p.method)),
                Col(
                    _t("Amount"),
                    lambda p: ("−" if p.kind == "refund" else "") + format_amount(p.amount, mu),
                    right=True,
                ),
                Col(
                    _t("To credit"),
                    lambda p: format_amount(p.to_credit, mu) if p.to_credit else "",
                    right=True,
                ),
                Col(
                    _t("Refunded"),
                    lambda p: format_amount(p.refunded, mu) if p.refunded else "",
                    right=True,
                ),
            ],
            parent,
        )


class ClaimsTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col(_t("Claim"), lambda c: str(c.id), right=True),
                Col(_t("Invoice"), lambda c: c.invoice_number),
                Col(_t("Patient"), lambda c: c.patient_name or f"#{c.patient_id}"),
                Col(_t("Payer"), lambda c: c.payer_name or ""),
                Col(
                    _t("Status"),
                    lambda c: (
                        status_text(c.status)
                        + (
                            f" · {_t('write-off pending')}"
                            if c.rejection_resolution == "write_off_pending"
                            else ""
                        )
                    ),
                    colour=lambda c: status_colour(c.status),
                ),
                Col(_t("Claimed"), lambda c: format_amount(c.claimed, mu), right=True),
                Col(_t("Approved"), lambda c: format_amount(c.approved, mu), right=True),
                Col(_t("Rejected"), lambda c: format_amount(c.rejected, mu), right=True),
                Col(_t("Remitted"), lambda c: format_amount(c.remitted, mu), right=True),
                Col(_t("Reasons"), lambda c: "; ".join(c.rejection_reasons)),
            ],
            parent,
        )


class AgeingTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col(_t("Age (days)"), lambda b: b.bucket),
                Col(_t("Invoices"), lambda b: str(b.invoices), right=True),
                Col(_t("Patients owe"), lambda b: format_amount(b.patient, mu), right=True),
                Col(_t("Payers owe"), lambda b: format_amount(b.payer, mu), right=True),
                Col(_t("Total"), lambda b: format_amount(b.total, mu), right=True),
            ],
            parent,
        )


class ApprovalsTableModel(RowsTableModel):
    def __init__(self, minor_unit: int = 2, parent: Any = None) -> None:
        mu = minor_unit
        super().__init__(
            [
                Col(_t("Requested"), lambda a: a.requested_at.strftime("%Y-%m-%d %H:%M")),
                Col(
                    _t("What"),
                    lambda a: _t(
                        {"discount": "Discount", "refund": "Refund", "write_off": "Write-off"}.get(
                            a.kind, a.kind
                        )
                    ),
                ),
                Col(_t("Amount"), lambda a: format_amount(a.amount, mu), right=True),
                Col(
                    _t("Invoice"),
                    lambda a: (
                        a.invoice_number
                        or (_t("draft #{id}").format(id=a.invoice_id) if a.invoice_id else "")
                    ),
                ),
                Col(_t("By"), lambda a: a.requested_by_name or ""),
                Col(
                    _t("Status"),
                    lambda a: status_text(a.status),
                    colour=lambda a: status_colour(a.status),
                ),
                Col(_t("Reason"), lambda a: a.reason),
            ],
            parent,
        )
