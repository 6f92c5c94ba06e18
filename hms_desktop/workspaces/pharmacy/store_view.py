"""The store view: what to order (reorder suggestions with days of stock left, turned into
purchase orders in one step), the purchase orders (approve, send, receive deliveries with
lot and expiry), and ward requisitions (approve and issue)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hms_contract.dispensing import RequisitionDecision, RequisitionRead
from hms_contract.procurement import (
    GoodsReceiptCreate,
    GoodsReceiptLineCreate,
    OrderFromSuggestions,
    PurchaseOrderRead,
    ReorderSuggestion,
    SuggestionPick,
)
from hms_desktop.models.pharmacy import RecordColumn, RecordTableModel, quantity_text
from hms_desktop.plurals import plural
from hms_desktop.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel
from hms_desktop.widgets.record_table import make_record_table
from hms_desktop.workspaces.pharmacy.forms import PharmacyFormDialog, parse_quantity

_PO_STEPS = {
    "draft": ("approve", "Approve"),
    "approved": ("send", "Mark sent"),
    "sent": ("receive", "Receive…"),
    "partly_received": ("receive", "Receive…"),
}


def _days(s: ReorderSuggestion) -> str:
    return "—" if s.days_of_stock is None else quantity_text(s.days_of_stock)


class ReceiveDialog(PharmacyFormDialog):
    """Receive a delivery against a purchase order: for each outstanding line, the lot,
    expiry, quantity and unit cost on the delivery note."""

    def __init__(self, context: Any, order: PurchaseOrderRead, parent: QWidget | None = None):
        super().__init__(
            context.tasks,
            self.tr("Receive {number}").format(number=order.number),
            self.tr("Receive"),
            parent,
        )
        self.context = context
        self.order = order
        self.setMinimumWidth(760)
        self.lines = [ln for ln in order.lines if ln.outstanding > 0]
        self.note_edit = QLineEdit(self)
        self.note_edit.setAccessibleName(self.tr("Delivery note number"))
        self.form.addRow(self.tr("Delivery note"), self.note_edit)
        self.table = QTableWidget(len(self.lines), 5, self)
        self.table.setAccessibleName(self.tr("Delivered lines"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Item"),
                self.tr("Outstanding"),
                self.tr("Lot"),
                self.tr("Expiry"),
                self.tr("Quantity"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.lot_edits: list[QLineEdit] = []
        self.expiry_edits: list[QDateEdit] = []
        self.quantity_edits: list[QLineEdit] = []
        for row, line in enumerate(self.lines):
            self.table.setItem(row, 0, QTableWidgetItem(line.item_name))
            self.table.setItem(
                row, 1, QTableWidgetItem(f"{quantity_text(line.outstanding)} {line.base_unit}")
            )
            lot = QLineEdit(self.table)
            lot.setAccessibleName(self.tr("Lot of {item}").format(item=line.item_name))
            expiry = QDateEdit(QDate.currentDate().addYears(2), self.table)
            expiry.setCalendarPopup(True)
            expiry.setDisplayFormat("yyyy-MM-dd")
            expiry.setAccessibleName(self.tr("Expiry of {item}").format(item=line.item_name))
            quantity = QLineEdit(quantity_text(line.outstanding), self.table)
            quantity.setAccessibleName(self.tr("Quantity of {item}").format(item=line.item_name))
            self.table.setCellWidget(row, 2, lot)
            self.table.setCellWidget(row, 3, expiry)
            self.table.setCellWidget(row, 4, quantity)
            self.lot_edits.append(lot)
            self.expiry_edits.append(expiry)
            self.quantity_edits.append(quantity)
        self.form.addRow(self.table)

    def validate(self) -> bool:
        today = date.today()
        for n, line in enumerate(self.lines):
            if not self.quantity_edits[n].text().strip():
                continue
            if parse_quantity(self.quantity_edits[n].text()) is None:
                self.problem.show_text(
                    self.tr("{item}: the quantity must be a number above zero.").format(
                        item=line.item_name
                    )
                )
                return False
            if not self.lot_edits[n].text().strip():
                self.problem.show_text(
                    self.tr("{item}: enter the lot number from the pack.").format(
                        item=line.item_name
                    )
                )
                self.lot_edits[n].setFocus()
                return False
            if self.expiry_edits[n].date().toPython() < today:
                self.problem.show_text(
                    self.tr("{item}: this lot is already expired; do not receive it.").format(
                        item=line.item_name
                    )
                )
                return False
        return True

    def request(self) -> Any:
        lines = [
            GoodsReceiptLineCreate(
                item_id=line.item_id,
                lot=self.lot_edits[n].text().strip(),
                expiry=self.expiry_edits[n].date().toPython(),
                quantity=parse_quantity(self.quantity_edits[n].text()),
                unit_cost=line.unit_cost,
                order_line_id=line.id,
            )
            for n, line in enumerate(self.lines)
            if self.quantity_edits[n].text().strip()
        ]
        body = GoodsReceiptCreate(
            location_id=self.order.location_id,
            lines=lines,
            purchase_order_id=self.order.id,
            delivery_note=self.note_edit.text().strip() or None,
        )
        return lambda: self.context.pharmacy.receive(body)


class StoreTab(QWidget):
    """Suggestions and orders (left), requisitions (right). GUI thread."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Store:"), self))
        self.location_combo = QComboBox(self)
        self.location_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.location_combo.setAccessibleName(self.tr("Store location"))
        self.location_combo.currentIndexChanged.connect(lambda _i: self.load_suggestions())
        bar.addWidget(self.location_combo)
        bar.addStretch(1)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        layout.addWidget(splitter, 1)

        orders_box = QWidget(splitter)
        orders = QVBoxLayout(orders_box)
        orders.setContentsMargins(0, 0, 0, 0)
        suggest_group = QGroupBox(
            self.tr("Reorder suggestions (fewest days of stock first)"), orders_box
        )
        sg = QVBoxLayout(suggest_group)
        self.suggestions: RecordTableModel[ReorderSuggestion] = RecordTableModel(
            [
                RecordColumn(self.tr("Item"), lambda s: s.item_name),
                RecordColumn(
                    self.tr("Days left"),
                    _days,
                    align_right=True,
                    status=lambda s: (
                        "stock_out"
                        if s.days_of_stock is not None and s.days_of_stock <= s.lead_time_days
                        else "low_stock"
                    ),
                ),
                RecordColumn(
                    self.tr("On hand"), lambda s: quantity_text(s.on_hand), align_right=True
                ),
                RecordColumn(
                    self.tr("On order"), lambda s: quantity_text(s.on_order), align_right=True
                ),
                RecordColumn(
                    self.tr("Per week"), lambda s: quantity_text(s.weekly_demand), align_right=True
                ),
                RecordColumn(
                    self.tr("Order"),
                    lambda s: quantity_text(s.suggested_quantity),
                    align_right=True,
                ),
                RecordColumn(self.tr("Supplier"), lambda s: s.supplier_name or "—"),
            ],
            self,
        )
        self.suggestion_table = make_record_table(
            suggest_group, self.tr("Reorder suggestions"), self.suggestions
        )
        self.suggestion_table.setSelectionMode(
            self.suggestion_table.SelectionMode.ExtendedSelection
        )
        self.suggestion_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        sg.addWidget(self.suggestion_table)
        self.order_button = QPushButton(self.tr("Create purchase orders"), suggest_group)
        self.order_button.setToolTip(
            self.tr(
                "Draft one order per supplier for the selected suggestions (all if none selected)"
            )
        )
        self.order_button.clicked.connect(self.order_selected)
        sg.addWidget(self.order_button, 0, Qt.AlignmentFlag.AlignRight)
        orders.addWidget(suggest_group, 1)

        po_group = QGroupBox(self.tr("Purchase orders"), orders_box)
        pg = QVBoxLayout(po_group)
        self.orders: RecordTableModel[PurchaseOrderRead] = RecordTableModel(
            [
                RecordColumn(self.tr("Number"), lambda o: o.number),
                RecordColumn(self.tr("Supplier"), lambda o: o.supplier_name),
                RecordColumn(
                    self.tr("Status"),
                    lambda o: o.status.replace("_", " "),
                    status=lambda o: o.status,
                ),
                RecordColumn(self.tr("Lines"), lambda o: str(len(o.lines)), align_right=True),
                RecordColumn(self.tr("Total"), lambda o: str(o.total), align_right=True),
            ],
            self,
        )
        self.order_table = make_record_table(po_group, self.tr("Purchase orders"), self.orders)
        self.order_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.order_table.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_order_button()
        )
        pg.addWidget(self.order_table)
        self.po_button = QPushButton(self.tr("Approve"), po_group)
        self.po_button.setAccessibleName(self.tr("Next step of the purchase order"))
        self.po_button.clicked.connect(self.advance_order)
        pg.addWidget(self.po_button, 0, Qt.AlignmentFlag.AlignRight)
        orders.addWidget(po_group, 1)
        splitter.addWidget(orders_box)

        req_group = QGroupBox(self.tr("Ward requisitions"), splitter)
        rg = QVBoxLayout(req_group)
        self.requisitions: RecordTableModel[RequisitionRead] = RecordTableModel(
            [
                RecordColumn(self.tr("Number"), lambda r: r.number),
                RecordColumn(self.tr("Ward store"), lambda r: r.ward_location_name),
                RecordColumn(self.tr("From"), lambda r: r.source_location_name),
                RecordColumn(self.tr("Status"), lambda r: r.status, status=lambda r: r.status),
                RecordColumn(
                    self.tr("Items"),
                    lambda r: ", ".join(
                        f"{ln.item_name} {quantity_text(ln.requested_quantity)}" for ln in r.lines
                    ),
                ),
            ],
            self,
        )
        self.req_table = make_record_table(
            req_group, self.tr("Ward requisitions"), self.requisitions
        )
        self.req_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.req_table.horizontalHeader().setStretchLastSection(True)
        self.req_table.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_req_buttons()
        )
        rg.addWidget(self.req_table)
        req_buttons = QHBoxLayout()
        req_buttons.addStretch(1)
        self.approve_req = QPushButton(self.tr("Approve"), req_group)
        self.approve_req.clicked.connect(lambda: self.requisition_step("approve"))
        self.issue_req = QPushButton(self.tr("Issue"), req_group)
        self.issue_req.setToolTip(self.tr("Transfer the approved stock to the ward store"))
        self.issue_req.clicked.connect(lambda: self.requisition_step("issue"))
        req_buttons.addWidget(self.approve_req)
        req_buttons.addWidget(self.issue_req)
        rg.addLayout(req_buttons)
        splitter.addWidget(req_group)
        splitter.setSizes([760, 480])
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)
        self._update_order_button()
        self._update_req_buttons()
        events = getattr(context, "events", None)
        bridge = events() if callable(events) else None
        if bridge is not None:
            bridge.subscribe(("requisition.", "purchase_order."), lambda *_a: self.reload())

    # -- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.locations(),
            self._on_locations,
            on_error=self.problem.show_error,
            owner=self,
        )
        self.reload()

    def _on_locations(self, locations: list[Any]) -> None:
        self.location_combo.blockSignals(True)
        self.location_combo.clear()
        for loc in sorted(locations, key=lambda x: (x.kind != "pharmacy", x.name)):
            if loc.kind != "ward_store":
                self.location_combo.addItem(f"{loc.name} ({loc.code})", loc.id)
        self.location_combo.blockSignals(False)
        self.load_suggestions()

    def reload(self) -> None:
        self.context.tasks.run(
            lambda: self.context.pharmacy.orders(),
            self._on_orders,
            on_error=self.problem.show_error,
            owner=self,
        )
        self.context.tasks.run(
            lambda: self.context.pharmacy.requisitions(),
            lambda page: self.requisitions.set_rows(page.items),
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_orders(self, page: Any) -> None:
        self.orders.set_rows(
            [o for o in page.items if o.status not in ("closed", "cancelled")]
            + [o for o in page.items if o.status in ("closed", "cancelled")]
        )
        self._update_order_button()

    def load_suggestions(self) -> None:
        location = self.location_combo.currentData()
        if location is None:
            return
        self.context.tasks.run(
            lambda: self.context.pharmacy.suggestions(location),
            lambda page: self.suggestions.set_rows(page.items),
            on_error=self.problem.show_error,
            owner=self,
        )

    # -- orders ----------------------------------------------------------------------------
    def order_selected(self) -> None:
        rows = self.suggestion_table.selectionModel().selectedRows()
        picked = (
            [self.suggestions.row_item(r.row()) for r in rows] if rows else self.suggestions.rows
        )
        picked = [s for s in picked if s.supplier_id is not None]
        location = self.location_combo.currentData()
        if not picked or location is None:
            self.problem.show_text(self.tr("Nothing to order (items need a supplier)."))
            return
        body = OrderFromSuggestions(
            location_id=location, items=[SuggestionPick(item_id=s.item_id) for s in picked]
        )
        self.context.tasks.run(
            lambda: self.context.pharmacy.order_suggestions(body),
            on_done=self._on_ordered,
            on_error=self.problem.show_error,
            owner=self,
        )

    def _on_ordered(self, orders: list[PurchaseOrderRead]) -> None:
        self.context.show_status(
            plural(
                len(orders),
                self.tr("Drafted {n} purchase order"),
                self.tr("Drafted {n} purchase orders"),
            ).format(n=len(orders))
        )
        self.reload()
        self.load_suggestions()

    def selected_order(self) -> PurchaseOrderRead | None:
        rows = self.order_table.selectionModel().selectedRows()
        return self.orders.row_item(rows[0].row()) if rows else None

    def _update_order_button(self) -> None:
        order = self.selected_order()
        step = _PO_STEPS.get(order.status) if order else None
        self.po_button.setEnabled(step is not None)
        self.po_button.setText(self.tr(step[1]) if step else self.tr("Approve"))

    def advance_order(self) -> None:
        order = self.selected_order()
        step = _PO_STEPS.get(order.status) if order else None
        if order is None or step is None:
            return
        if step[0] == "receive":
            dialog = ReceiveDialog(self.context, order, self)
            dialog.sig_saved.connect(lambda _r: (self.reload(), self.load_suggestions()))
            dialog.open()
            return
        self.context.tasks.run(
            lambda: self.context.pharmacy.order_step(order.id, step[0], order.version),
            on_done=lambda _o: self.reload(),
            on_error=self.problem.show_error,
            owner=self,
        )

    # -- requisitions ----------------------------------------------------------------------
    def selected_requisition(self) -> RequisitionRead | None:
        rows = self.req_table.selectionModel().selectedRows()
        return self.requisitions.row_item(rows[0].row()) if rows else None

    def _update_req_buttons(self) -> None:
        req = self.selected_requisition()
        self.approve_req.setEnabled(req is not None and req.status == "requested")
        self.issue_req.setEnabled(req is not None and req.status == "approved")

    def requisition_step(self, step: str) -> None:
        req = self.selected_requisition()
        if req is None:
            return
        pharmacy = self.context.pharmacy

        def call() -> object:
            if step == "approve":
                decision = RequisitionDecision(version=req.version, approve=True)
                return pharmacy.decide(req.id, decision)
            return pharmacy.requisition_step(req.id, "issue", req.version)

        self.context.tasks.run(
            call, on_done=lambda _r: self.reload(), on_error=self.problem.show_error, owner=self
        )
