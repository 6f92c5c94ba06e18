"""Invoices: drafts from unbilled charges, editing (charges, discounts, insurance), the
gapless finalisation, credit notes, and using account credit. Reading needs
``billing.read``; changing ``billing.write``. Any change to a finalised invoice is 409
``invoice_not_editable``: a credit note is the only way to take money off it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from hms_contract.billing import (
    ApplyCredit,
    CreditNoteCreate,
    CreditNoteRead,
    DiscountCreate,
    InvoiceChargesAdd,
    InvoiceCreate,
    InvoiceFinalize,
    InvoiceInsurance,
    InvoiceRead,
    InvoiceStatus,
    InvoiceSummary,
    InvoiceUpdate,
)
from hms_contract.common import Page
from hms_server.api.deps import RequestContext
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    BillingWriter,
    Cashier,
    to_model,
    to_models,
)
from hms_server.domain.errors import ValidationFailedError
from hms_server.services.billing import common
from hms_server.services.billing import credit_notes as credit_svc
from hms_server.services.billing import discounts as discount_svc
from hms_server.services.billing import invoices as svc
from hms_server.services.billing import payments as payment_svc

router = APIRouter(tags=["billing: invoices"], responses=PROBLEM_RESPONSES)

InvoiceSort = Annotated[
    str,
    Query(
        pattern=r"^-?(created_at|number|issued_on|total|balance|"
        r"status|id)$"
    ),
]
EDIT_409 = {409: {"description": "invoice_not_editable (finalised), version_conflict"}}


def _read(ctx: RequestContext, view: Any) -> InvoiceRead:
    return to_model(ctx, InvoiceRead, view)


@router.post(
    "/invoices",
    operation_id="create_invoice",
    status_code=201,
    response_model=InvoiceRead,
    responses={409: {"description": "nothing_to_invoice, charge_not_unbilled"}},
)
def create_invoice(
    body: InvoiceCreate,
    request: Request,
    ctx: BillingWriter,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A draft (no number yet) from the listed unbilled charges, or from all of the
    patient's (optionally of one encounter or admission). The patient's policy in force
    today is applied, so the payer/patient split shows at once."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_invoice(
            uow,
            patient_id=body.patient_id,
            charge_ids=body.charge_ids,
            encounter_id=body.encounter_id,
            admission_id=body.admission_id,
            notes=body.notes,
        ),
        lambda view: _read(ctx, view),
        headers=lambda view: {"Location": f"/api/v1/invoices/{view.id}"},
    )


@router.get("/invoices", operation_id="list_invoices")
def list_invoices(
    ctx: BillingReader,
    patient_id: OptionalId = None,
    status: Annotated[list[InvoiceStatus] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=32, description="Part of the number")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: InvoiceSort = "-created_at",
) -> Page[InvoiceSummary]:
    rows, total = svc.list_invoices(
        ctx.uow(), patient_id=patient_id, status=status, q=q, limit=limit, offset=offset, sort=sort
    )
    return Page[InvoiceSummary](items=to_models(ctx, InvoiceSummary, rows), total=total)


@router.get("/invoices/by-number/{number}", operation_id="get_invoice_by_number")
def get_invoice_by_number(
    number: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$")], ctx: BillingReader
) -> InvoiceRead:
    return _read(ctx, svc.get_invoice(ctx.uow(), number=number))


@router.get("/invoices/{invoice_id}", operation_id="get_invoice")
def get_invoice(invoice_id: IdPath, ctx: BillingReader) -> InvoiceRead:
    """The invoice with lines, tax lines, discounts, credit notes and its money state
    (amounts are decimal strings; ``number`` is null while draft)."""
    return _read(ctx, svc.get_invoice(ctx.uow(), invoice_id))


@router.patch(
    "/invoices/{invoice_id}",
    operation_id="update_invoice",
    responses=EDIT_409,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": InvoiceUpdate.model_json_schema()}},
        }
    },
)
def update_invoice(
    invoice_id: IdPath, ctx: BillingWriter, body: Annotated[dict[str, Any], Body()]
) -> InvoiceRead:
    """Notes and due date of a draft. A finalised invoice answers 409 whatever the body
    asks (its state is checked before the body's details)."""
    with ctx.uow() as uow:
        common.require_draft(common.require_invoice(uow, invoice_id))
    try:
        changes = InvoiceUpdate.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailedError(
            "Please correct the request.",
            extra={
                "errors": [
                    {
                        "field": "body." + ".".join(str(p) for p in e["loc"]),
                        "message": e["msg"],
                        "type": e["type"],
                    }
                    for e in exc.errors()
                ]
            },
        ) from None
    fields = changes.model_fields_set - {"version"}
    return _read(
        ctx,
        svc.update_invoice(
            ctx.uow(),
            invoice_id,
            version=changes.version,
            changes={f: getattr(changes, f) for f in fields},
        ),
    )


@router.delete(
    "/invoices/{invoice_id}", operation_id="discard_invoice", status_code=204, responses=EDIT_409
)
def discard_invoice(invoice_id: IdPath, ctx: BillingWriter) -> Response:
    """Delete a draft; its charges are unbilled again."""
    svc.discard_draft(ctx.uow(), invoice_id)
    return Response(status_code=204)


@router.post(
    "/invoices/{invoice_id}/charges", operation_id="add_invoice_charges", responses=EDIT_409
)
def add_charges(invoice_id: IdPath, body: InvoiceChargesAdd, ctx: BillingWriter) -> InvoiceRead:
    return _read(
        ctx,
        svc.add_charges(ctx.uow(), invoice_id, version=body.version, charge_ids=body.charge_ids),
    )


@router.delete(
    "/invoices/{invoice_id}/lines/{line_id}", operation_id="remove_invoice_line", responses=EDIT_409
)
def remove_line(
    invoice_id: IdPath,
    line_id: IdPath,
    ctx: BillingWriter,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> InvoiceRead:
    return _read(ctx, svc.remove_line(ctx.uow(), invoice_id, line_id, version=version))


@router.post(
    "/invoices/{invoice_id}/insurance", operation_id="set_invoice_insurance", responses=EDIT_409
)
def set_insurance(invoice_id: IdPath, body: InvoiceInsurance, ctx: BillingWriter) -> InvoiceRead:
    """Apply one of the patient's policies (or none): the split is recomputed."""
    return _read(
        ctx, svc.set_policy(ctx.uow(), invoice_id, version=body.version, policy_id=body.policy_id)
    )


@router.post(
    "/invoices/{invoice_id}/discounts",
    operation_id="add_invoice_discount",
    status_code=201,
    responses=EDIT_409,
)
def add_discount(invoice_id: IdPath, body: DiscountCreate, ctx: BillingWriter) -> InvoiceRead:
    """A discount on a line or the whole invoice. Above the threshold it is ``pending``
    until a manager approves (``/billing/approvals``); the invoice cannot be finalised
    meanwhile."""
    return _read(
        ctx,
        discount_svc.add_discount(
            ctx.uow(),
            invoice_id,
            line_id=body.line_id,
            kind=body.kind,
            value=body.value,
            reason=body.reason,
            policy=ctx.runtime.billing_policy,
        ),
    )


@router.delete(
    "/invoices/{invoice_id}/discounts/{discount_id}",
    operation_id="remove_invoice_discount",
    responses=EDIT_409,
)
def remove_discount(invoice_id: IdPath, discount_id: IdPath, ctx: BillingWriter) -> InvoiceRead:
    return _read(ctx, discount_svc.remove_discount(ctx.uow(), invoice_id, discount_id))


@router.post(
    "/invoices/{invoice_id}/finalize",
    operation_id="finalize_invoice",
    responses={
        409: {
            "description": "invoice_not_editable (already final), "
            "approval_pending, version_conflict"
        }
    },
)
def finalize(
    invoice_id: IdPath, ctx: BillingWriter, body: Annotated[InvoiceFinalize | None, Body()] = None
) -> InvoiceRead:
    """Give the draft its number (gapless per year: ``INV-2026-000123``), fix its amounts
    and the payer/patient split, and open the payer's claim."""
    return _read(
        ctx,
        svc.finalize_invoice(
            ctx.uow(),
            invoice_id,
            version=body.version if body else None,
            policy=ctx.runtime.billing_policy,
        ),
    )


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    operation_id="create_credit_note",
    status_code=201,
    response_model=CreditNoteRead,
)
def create_credit_note(
    invoice_id: IdPath,
    request: Request,
    ctx: BillingWriter,
    body: Annotated[CreditNoteCreate | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Credit part of the invoice, or all that is still owed (``amount`` omitted, or no
    body) which voids it. Money already paid beyond the new amount goes to the patient's
    credit."""
    note = body or CreditNoteCreate()
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        note,
        lambda uow: credit_svc.issue_credit_note(
            uow, invoice_id, amount=note.amount, reason=note.reason
        ),
        lambda view: to_model(ctx, CreditNoteRead, view),
    )


@router.post("/invoices/{invoice_id}/apply-credit", operation_id="apply_account_credit")
def apply_credit(
    invoice_id: IdPath, ctx: Cashier, body: Annotated[ApplyCredit | None, Body()] = None
) -> InvoiceRead:
    """Use the patient's account credit (deposits, overpayments) on this invoice."""
    payment_svc.apply_credit(ctx.uow(), invoice_id, amount=body.amount if body else None)
    return _read(ctx, svc.get_invoice(ctx.uow(), invoice_id))
