"""Billing workspace: the patient account (unbilled charges → draft invoice), invoices with
the insurance split, discounts with approval, finalising, payments (cash with change, card
through the gateway with a waiting state), refunds and credit notes, the claims worklist,
receivables ageing, approvals and the cash-up — with invoice, receipt, statement and claim
summary printing.

Modules: ``patient_panel`` (find patient / invoice by number), ``account_tab``,
``invoice_tab``, ``office_tabs`` (claims, receivables, approvals), ``dialogs`` (payment,
discount, amounts and reasons, manual charge), ``cashup_dialog``, ``printing_actions`` and
``workspace`` (puts them together).
"""

from __future__ import annotations

from hms_desktop.workspaces import WorkspaceContext


def create_workspace(context: WorkspaceContext):
    from hms_desktop.workspaces.billing.workspace import BillingWorkspace

    return BillingWorkspace(context)
