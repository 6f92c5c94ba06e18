"""The billing workspace: find the patient (or an invoice by number) on the left; their
account, the open invoice, the claims worklist, receivables and approvals on the right; the
patient in context and the cash drawer in a strip on top. Puts the pieces together and runs
what they ask for — every request on the task runner, every print with a preview."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms_desktop.api.billing import BillingApi
from hms_desktop.api.patients import PatientsApi
from hms_desktop.models.billing import format_amount
from hms_desktop.models.patients import dob_text, full_name, sex_text
from hms_desktop.plurals import plural
from hms_desktop.printing.claim_summary import render_claim_summary
from hms_desktop.printing.invoice import render_invoice
from hms_desktop.printing.receipt import render_receipt
from hms_desktop.printing.statement import render_statement
from hms_desktop.qt import (
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMessageBox,
    QPushButton,
    QShortcut,
    QSplitter,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from hms_desktop.widgets.problems import ProblemLabel, describe_error
from hms_desktop.workspaces import WorkspaceContext
from hms_desktop.workspaces.billing.account_tab import AccountTab
from hms_desktop.workspaces.billing.cashup_dialog import CashUpDialog
from hms_desktop.workspaces.billing.dialogs import (
    AmountReasonDialog,
    ChargeDialog,
    DiscountDialog,
    PaymentDialog,
    ReasonDialog,
)
from hms_desktop.workspaces.billing.invoice_tab import InvoiceTab
from hms_desktop.workspaces.billing.office_tabs import ApprovalsTab, ClaimsTab, ReceivablesTab
from hms_desktop.workspaces.billing.patient_panel import PatientPanel
from hms_desktop.workspaces.billing.printing_actions import LetterheadCache, open_preview, record

EVENT_PREFIXES = (
    "invoice.",
    "payment.",
    "charge.",
    "card_intent.",
    "approval.",
    "claim.",
    "policy.",
    "cashup.",
)


class BillingWorkspace(QWidget):
    """The billing clerk's (and approving manager's) screen. GUI thread; the task runner
    does the work; live server events reload what they touch."""

    def __init__(self, context: WorkspaceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.tasks = context, context.tasks
        self.billing = BillingApi(context.api)
        permissions = set(context.me.permissions)
        self.can_take = "payments.take" in permissions
        self.can_write = "billing.write" in permissions
        self.can_approve = "billing.approve" in permissions
        self.minor_unit = context.me.hospital.currency_minor_unit
        self.currency = context.me.hospital.currency
        self.settings: Any = None
        self.letterhead = LetterheadCache(self.billing, context.me.hospital)
        self.patients_api = PatientsApi(context.api)
        self.patient: Any = None  # PatientSummary or PatientRead
        self.policies: list[Any] = []
        self._busy = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        strip = QFrame(self)
        strip.setFrameShape(QFrame.Shape.StyledPanel)
        strip_row = QHBoxLayout(strip)
        self.patient_label = QLabel(self.tr("No patient in context"), strip)
        self.patient_label.setObjectName("patientName")
        self.patient_label.setAccessibleName(self.tr("Patient in context"))
        self.patient_label.setStyleSheet("font-size: 13pt; font-weight: 600")
        self.drawer_label = QLabel("", strip)
        self.drawer_label.setAccessibleName(self.tr("Cash drawer"))
        self.cashup_button = QPushButton(self.tr("Cash-up…"), strip)
        self.cashup_button.setToolTip(
            self.tr("Count the drawer against what the system expects and lock the session")
        )
        self.cashup_button.setAccessibleName(self.tr("Cash-up"))
        self.cashup_button.setVisible(self.can_take)
        strip_row.addWidget(self.patient_label, 1)
        strip_row.addWidget(self.drawer_label)
        strip_row.addWidget(self.cashup_button)
        layout.addWidget(strip)
        self.problem = ProblemLabel(self)
        layout.addWidget(self.problem)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        reads_patients = "patients.read" in permissions
        self.panel = PatientPanel(
            self.tasks, self.patients_api if reads_patients else None, splitter
        )
        self.tabs = QTabWidget(splitter)
        self.tabs.setAccessibleName(self.tr("Billing sections"))
        self.account = AccountTab(self.minor_unit, self.tabs)
        self.invoice = InvoiceTab(
            self.minor_unit,
            self.tabs,
            allowed=frozenset(
                (["edit"] if self.can_write else []) + (["pay"] if self.can_take else [])
            ),
        )
        self.claims = ClaimsTab(self.tasks, self.billing, self.minor_unit, self.tabs)
        self.receivables = ReceivablesTab(self.tasks, self.billing, self.minor_unit, self.tabs)
        self.approvals = ApprovalsTab(
            self.tasks, self.billing, self.minor_unit, can_decide=self.can_approve, parent=self.tabs
        )
        if reads_patients:
            self.tabs.addTab(self.account, self.tr("&Account"))
        self.tabs.addTab(self.invoice, self.tr("&Invoice"))
        self.tabs.addTab(self.claims, self.tr("C&laims"))
        self.tabs.addTab(self.receivables, self.tr("&Receivables"))
        self.tabs.addTab(self.approvals, self.tr("A&pprovals"))
        self.account.setVisible(reads_patients)
        for button in self.account.findChildren(QPushButton):
            button.setVisible(self.can_write or self.can_take)
        splitter.addWidget(self.panel)
        splitter.addWidget(self.tabs)
        self.panel.setMinimumWidth(385 if reads_patients else 260)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([385, 900] if reads_patients else [280, 1060])
        layout.addWidget(splitter, 1)

        self._connect()
        for keys, slot in (
            ("Ctrl+F", self.panel.focus_search),
            ("Ctrl+G", self.panel.focus_number),
            ("Ctrl+I", self.account.request_invoice),
            ("Ctrl+Return", lambda: self._invoice_action("finalize")),
            ("Ctrl+M", lambda: self._invoice_action("pay")),
            ("Ctrl+P", lambda: self._invoice_action("print")),
            ("Ctrl+Shift+P", self.print_statement),
            ("Ctrl+Shift+C", self.add_charge),
            ("F5", self.reload_all),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        events = getattr(context, "events", None)
        self.events = events() if callable(events) else None
        if self.events is not None:
            self.events.subscribe(EVENT_PREFIXES, self._on_server_event)
        self._run(self.billing.settings, self._on_settings_loaded)
        self.panel.search_now()
        self.claims.load_payers()
        self.receivables.reload()
        self.approvals.reload()
        self.reload_drawer()

    def _connect(self) -> None:
        self.panel.sig_patient_selected.connect(self.set_patient)
        self.panel.sig_invoice_number_entered.connect(self.open_invoice_number)
        self.account.sig_invoice_requested.connect(self.create_invoice)
        self.account.sig_charge_requested.connect(self.add_charge)
        self.account.sig_reverse_requested.connect(self.reverse_charge)
        self.account.sig_invoice_opened.connect(self.open_invoice)
        self.account.sig_deposit_requested.connect(self.take_deposit)
        self.account.sig_refund_requested.connect(self.refund)
        self.account.sig_statement_requested.connect(self.print_statement)
        self.account.sig_receipt_requested.connect(self.print_receipt)
        self.invoice.sig_finalize_requested.connect(self.finalize)
        self.invoice.sig_payment_requested.connect(self.take_payment)
        self.invoice.sig_discount_requested.connect(self.discount)
        self.invoice.sig_remove_line_requested.connect(self.remove_line)
        self.invoice.sig_policy_requested.connect(self.set_policy)
        self.invoice.sig_credit_note_requested.connect(self.credit_note)
        self.invoice.sig_print_requested.connect(self.print_invoice)
        self.invoice.sig_discard_requested.connect(self.discard)
        self.invoice.sig_apply_credit_requested.connect(self.apply_credit)
        self.claims.sig_submit_requested.connect(self.submit_claims)
        self.claims.sig_remittance_requested.connect(self.post_remittance)
        self.claims.sig_resolve_requested.connect(self.resolve_rejection)
        self.claims.sig_print_requested.connect(self.print_claims)
        self.approvals.sig_decided.connect(self._on_approvals_decided)
        self.approvals.sig_invoice_opened.connect(self.open_invoice)
        self.cashup_button.clicked.connect(self.cash_up)

    # -- plumbing --------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return (
            self._busy > 0
            or self.panel.loading
            or self.claims.loading
            or self.receivables.loading
            or self.approvals.loading
        )

    def _run(self, work: Any, done: Any = None, *, quiet: bool = False) -> None:
        self._busy += 1
        self.problem.clear()

        def finished(value: Any) -> None:
            self._busy -= 1
            if done is not None:
                done(value)

        def failed(exc: BaseException) -> None:
            self._busy -= 1
            self.problem.show_error(exc)

        self.tasks.run(work, finished, failed, quiet=quiet, owner=self)

    def _say(self, text: str) -> None:
        show = getattr(self.context, "show_status", None)
        if callable(show):
            show(text)

    def _on_settings_loaded(self, settings: Any) -> None:
        self.settings = settings

    def reload_all(self) -> None:
        self.reload_account()
        if self.invoice.invoice is not None:
            self.open_invoice(self.invoice.invoice.id, switch=False)
        self.claims.reload()
        self.receivables.reload()
        self.approvals.reload()
        self.reload_drawer()

    def reload_drawer(self) -> None:
        if not self.can_take:
            return

        def show(session: Any) -> None:
            if session is None:
                self.drawer_label.setText(self.tr("Drawer: no session open"))
            else:
                self.drawer_label.setText(
                    self.tr("Drawer {d}: {cash} {c} expected in cash").format(
                        d=session.drawer,
                        c=self.currency,
                        cash=format_amount(session.expected_cash_in_drawer, self.minor_unit),
                    )
                )

        self._run(self.billing.current_cash_session, show, quiet=True)

    # -- patient and account ---------------------------------------------------------------
    def set_patient(self, patient: Any) -> None:
        """Put ``patient`` (``PatientSummary`` or ``PatientRead``) in context."""
        self.patient = patient
        if patient is None:
            self.patient_label.setText(self.tr("No patient in context"))
            self.account.set_account(None, [])
            return
        self.patient_label.setText(
            f"{full_name(patient)} · {patient.mrn} · {dob_text(patient)} · {sex_text(patient.sex)}"
        )
        self.reload_account()

    def reload_account(self) -> None:
        if self.patient is None:
            return
        patient_id = self.patient.id

        def load() -> tuple[Any, Any, Any]:
            return (
                self.billing.account(patient_id),
                self.billing.charges(patient_id).items,
                self.billing.policies(patient_id).items,
            )

        def show(result: tuple[Any, Any, Any]) -> None:
            account, charges, policies = result
            if self.patient is None or self.patient.id != account.patient_id:
                return  # the clerk moved on to another patient meanwhile
            self.account.set_account(account, charges)
            self.policies = policies
            self.invoice.set_policies(policies)

        self._run(load, show)

    def create_invoice(self, charge_ids: list[int]) -> None:
        if self.patient is None:
            return
        patient_id = self.patient.id
        self._run(
            lambda: self.billing.create_invoice(patient_id, charge_ids),
            self._show_invoice_and_reload,
        )

    def _show_invoice_and_reload(self, invoice: Any) -> None:
        self.invoice.set_invoice(invoice)
        self.invoice.set_policies(self.policies)
        self.tabs.setCurrentWidget(self.invoice)
        self.reload_account()

    def open_invoice(self, invoice_id: int, *, switch: bool = True) -> None:
        self._run(
            lambda: self.billing.invoice(invoice_id),
            lambda invoice: self._show_invoice(invoice, switch),
        )

    def open_invoice_number(self, number: str) -> None:
        self._run(
            lambda: self.billing.invoice_by_number(number),
            lambda invoice: self._show_invoice(invoice, True),
        )

    def _show_invoice(self, invoice: Any, switch: bool) -> None:
        self.invoice.set_invoice(invoice)
        if switch:
            self.tabs.setCurrentWidget(self.invoice)
        # An invoice opened by its number puts its patient in context (their policies, the
        # account) — never someone else's.
        current = self.patient.id if self.patient else None
        if self.panel.model is None:
            self.patient_label.setText(
                self.tr("Patient #{id} (names are not shown for your role)").format(
                    id=invoice.patient_id
                )
            )
        elif current != invoice.patient_id:
            self._run(lambda: self.patients_api.get(invoice.patient_id), self.set_patient)

    def add_charge(self) -> None:
        if self.patient is None or not self.can_write:
            return
        dialog = ChargeDialog(self.tasks, self.billing, patient_id=self.patient.id, parent=self)
        dialog.accepted.connect(self.reload_account)
        dialog.open()

    def reverse_charge(self, charge: Any) -> None:
        dialog = ReasonDialog(
            self.tasks,
            self.tr("Reverse charge {code}").format(code=charge.code),
            lambda reason: self.billing.reverse_charge(charge.id, reason),
            parent=self,
        )
        dialog.accepted.connect(self.reload_account)
        dialog.open()

    def take_deposit(self) -> None:
        if self.patient is None:
            return
        self._payment_dialog(None, self.patient.id, Decimal(0))

    def refund(self, payment: Any) -> None:
        left = payment.amount - payment.refunded

        def work(amount: Decimal | None, reason: str) -> Any:
            return self.billing.refund(payment.id, amount or left, reason)

        dialog = AmountReasonDialog(
            self.tasks,
            self.tr("Refund {r}").format(r=payment.receipt_number),
            minor_unit=self.minor_unit,
            amount=left,
            work=work,
            hint=self.tr(
                "Paid back by the original method ({m}) from the account credit; "
                "above the limit a manager approves first."
            ).format(m=payment.method),
            parent=self,
        )

        def done() -> None:
            result = dialog.result_value
            if result is not None and result.status == "pending_approval":
                QMessageBox.information(
                    self,
                    self.tr("Refund"),
                    self.tr(
                        "The refund waits for a manager's approval. Once approved, refund again "
                        "to pay it out."
                    ),
                )
            elif result is not None and result.refund is not None:
                self.print_receipt(result.refund)
            self.reload_account()

        dialog.accepted.connect(done)
        dialog.open()

    # -- invoice actions -----------------------------------------------------------------
    def _invoice_action(self, name: str) -> None:
        button = self.invoice.buttons.get(name)
        if button is not None and button.isEnabled() and button.isVisible():
            button.click()

    def finalize(self, invoice: Any) -> None:
        def done(final: Any) -> None:
            self.invoice.set_invoice(final)
            self._say(self.tr("Invoice {n} finalised.").format(n=final.number))
            self.reload_account()

        self._run(lambda: self.billing.finalize(invoice.id, invoice.version), done)

    def take_payment(self, invoice: Any) -> None:
        self._payment_dialog(invoice.id, invoice.patient_id, invoice.patient_balance)

    def _payment_dialog(self, invoice_id: int | None, patient_id: int, amount: Decimal) -> None:
        terminal = bool(self.settings and self.settings.gateway_configured)
        dialog = PaymentDialog(
            self.tasks,
            self.billing,
            invoice_id=invoice_id,
            patient_id=patient_id,
            amount=amount,
            currency=self.currency,
            minor_unit=self.minor_unit,
            terminal=terminal,
            parent=self,
        )

        def done() -> None:
            result = dialog.result_value
            payment_id = getattr(result, "payment_id", None)
            if payment_id is not None:  # a settled card payment
                self._run(lambda: self.billing.payment(payment_id), self.print_receipt)
            elif result is not None:
                self.print_receipt(result)
            if invoice_id is not None:
                self.open_invoice(invoice_id, switch=False)
            self.reload_account()
            self.reload_drawer()

        dialog.accepted.connect(done)
        dialog.open()

    def discount(self, invoice: Any) -> None:
        settings = self.settings
        hint = self.tr("A discount above {p} % or {a} {c} waits for a manager's approval.").format(
            p=settings.discount_approval_percent if settings else "?",
            a=settings.discount_approval_amount if settings else "?",
            c=self.currency,
        )
        lines = [(line.id, f"{line.line_no}. {line.description}") for line in invoice.lines]
        dialog = DiscountDialog(
            self.tasks,
            self.billing,
            invoice_id=invoice.id,
            lines=lines,
            minor_unit=self.minor_unit,
            threshold_text=hint,
            parent=self,
        )

        def done() -> None:
            result = dialog.result_value
            self.invoice.set_invoice(result)
            if any(d.status == "pending" for d in result.discounts):
                QMessageBox.information(
                    self,
                    self.tr("Discount"),
                    self.tr(
                        "This discount needs a manager's approval; it was sent to the approvals "
                        "queue. The invoice can be finalised once it is decided."
                    ),
                )

        dialog.accepted.connect(done)
        dialog.open()

    def remove_line(self, invoice: Any, line_id: int) -> None:
        self._run(
            lambda: self.billing.remove_line(invoice.id, line_id), self._show_invoice_and_reload
        )

    def set_policy(self, invoice: Any, policy_id: int | None) -> None:
        self._run(
            lambda: self.billing.set_insurance(invoice.id, policy_id, invoice.version),
            self.invoice.set_invoice,
        )

    def apply_credit(self, invoice: Any) -> None:
        self._run(lambda: self.billing.apply_credit(invoice.id), self._show_invoice_and_reload)

    def credit_note(self, invoice: Any) -> None:
        def work(amount: Decimal | None, reason: str) -> Any:
            return self.billing.credit_note(invoice.id, amount=amount, reason=reason)

        dialog = AmountReasonDialog(
            self.tasks,
            self.tr("Credit note for {n}").format(n=invoice.number),
            minor_unit=self.minor_unit,
            amount=None,
            work=work,
            amount_optional=True,
            hint=self.tr(
                "Leave the amount empty to credit all that is still owed: the invoice is then void."
            ),
            parent=self,
        )
        dialog.accepted.connect(lambda: self.open_invoice(invoice.id, switch=False))
        dialog.accepted.connect(self.reload_account)
        dialog.open()

    def discard(self, invoice: Any) -> None:
        answer = QMessageBox.question(
            self,
            self.tr("Discard draft"),
            self.tr("Delete this draft? Its charges go back to the unbilled list."),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(_value: Any) -> None:
            self.invoice.set_invoice(None)
            self.reload_account()

        self._run(lambda: self.billing.discard_invoice(invoice.id), done)

    # -- printing ---------------------------------------------------------------------------
    def _on_print_failed(self, exc: BaseException) -> None:
        text, code = describe_error(exc)
        self.problem.show_text(text, code)

    def print_invoice(self, invoice: Any) -> None:
        invoice_id = invoice.id
        open_preview(
            self,
            self.tasks,
            lambda: render_invoice(self.billing.invoice(invoice_id), self.letterhead.get()),
            title=self.tr("Invoice {n}").format(n=invoice.number or self.tr("draft")),
            file_name=f"{invoice.number or 'draft-invoice'}.pdf",
            on_printed=record(self.tasks, self.billing, "invoice", invoice_id=invoice_id),
            on_error=self._on_print_failed,
        )

    def print_receipt(self, payment: Any) -> None:
        open_preview(
            self,
            self.tasks,
            lambda: render_receipt(payment, self.letterhead.get()),
            title=self.tr("Receipt {n}").format(n=payment.receipt_number),
            file_name=f"{payment.receipt_number}.pdf",
            on_printed=record(self.tasks, self.billing, "receipt", payment_id=payment.id),
            on_error=self._on_print_failed,
        )

    def print_statement(self) -> None:
        if self.patient is None:
            return
        patient_id = self.patient.id
        open_preview(
            self,
            self.tasks,
            lambda: render_statement(self.billing.statement(patient_id), self.letterhead.get()),
            title=self.tr("Statement"),
            file_name=f"statement-{patient_id}.pdf",
            on_printed=record(self.tasks, self.billing, "statement", patient_id=patient_id),
            on_error=self._on_print_failed,
        )

    def print_claims(self, claims: list[Any], payer_name: str) -> None:
        batch = claims[0].batch_number if len({c.batch_id for c in claims}) == 1 else None
        open_preview(
            self,
            self.tasks,
            lambda: render_claim_summary(
                claims, self.letterhead.get(), payer_name=payer_name, batch_number=batch
            ),
            title=self.tr("Claim summary"),
            file_name="claims.pdf",
            on_error=self._on_print_failed,
        )

    # -- claims, approvals, cash-up ------------------------------------------------------
    def submit_claims(self, payer_id: int) -> None:
        def done(batch: Any) -> None:
            self._say(
                plural(
                    len(batch.claims),
                    self.tr("Batch {n}: {count} claim adjudicated."),
                    self.tr("Batch {n}: {count} claims adjudicated."),
                ).format(n=batch.number, count=len(batch.claims))
            )
            self.claims.reload()

        self._run(lambda: self.billing.submit_claims(payer_id), done)

    def post_remittance(self, claim: Any) -> None:
        def work(amount: Decimal | None, reference: str) -> Any:
            return self.billing.post_remittance(claim.id, amount or claim.outstanding, reference)

        dialog = AmountReasonDialog(
            self.tasks,
            self.tr("Remittance for claim {c}").format(c=claim.id),
            minor_unit=self.minor_unit,
            amount=claim.outstanding,
            work=work,
            reason_label=self.tr("Payer reference"),
            parent=self,
        )
        dialog.accepted.connect(self.claims.reload)
        dialog.open()

    def resolve_rejection(self, claim: Any, action: str) -> None:
        title = (
            self.tr("Bill the rejected amount to the patient")
            if action == "bill_patient"
            else self.tr("Ask to write off the rejected amount")
        )
        dialog = ReasonDialog(
            self.tasks,
            title,
            lambda reason: self.billing.resolve_rejection(claim.id, action, reason),
            parent=self,
        )
        dialog.accepted.connect(self.claims.reload)
        dialog.open()

    def _on_approvals_decided(self) -> None:
        if self.invoice.invoice is not None:
            self.open_invoice(self.invoice.invoice.id, switch=False)

    def cash_up(self) -> None:
        def show(session: Any) -> None:
            if session is None:
                QMessageBox.information(
                    self,
                    self.tr("Cash-up"),
                    self.tr("No cash session is open: it opens with your first payment."),
                )
                return
            dialog = CashUpDialog(
                self.tasks, self.billing, session, minor_unit=self.minor_unit, parent=self
            )
            dialog.accepted.connect(self.reload_drawer)
            dialog.accepted.connect(lambda: self._say(self.tr("Cash-up submitted and locked.")))
            dialog.open()

        self._run(self.billing.current_cash_session, show)

    # -- live events and the screenshot tour -----------------------------------------------
    def _on_server_event(self, event_type: str, data: dict) -> None:
        patient = self.patient.id if self.patient else None
        if data.get("patient_id") is not None and data.get("patient_id") == patient:
            self.reload_account()
        current = self.invoice.invoice
        if current is not None and data.get("invoice_id") == current.id:
            self.open_invoice(current.id, switch=False)
        if event_type.startswith("claim."):
            self.claims.reload()
        if event_type.startswith("approval."):
            self.approvals.reload()
        if event_type.startswith(("payment.", "invoice.")):
            self.receivables.reload()

    def prepare_screenshot(self) -> None:
        """Screenshot tour hook: put a patient in context whose account shows everything —
        unbilled charges, a part-paid invoice and payments."""

        def find() -> Any:
            page = self.billing.invoices(status=["partly_paid"], limit=25)
            for invoice in page.items:
                if self.billing.charges(invoice.patient_id, limit=1).total:
                    return invoice
            return page.items[0] if page.items else None

        def show(invoice: Any) -> None:
            if invoice is None:
                return
            if self.panel.model is not None:
                self._run(lambda: self.patients_api.get(invoice.patient_id), self.set_patient)
            else:
                self.open_invoice(invoice.id)

        self._run(find, show)
