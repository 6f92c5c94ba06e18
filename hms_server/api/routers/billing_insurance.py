"""Insurance: payers, plans (coverage rules), patient policies, eligibility (FHIR
``CoverageEligibilityRequest`` to the payer) and pre-authorisations. Reading needs
``billing.read``; changes ``insurance.manage``. A payer that cannot be reached is 503
``payer_unavailable`` with ``Retry-After``; nothing half-written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hms_contract.common import Page
from hms_contract.insurance import (
    EligibilityRead,
    PayerCreate,
    PayerRead,
    PlanCreate,
    PlanRead,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
    PreauthCreate,
    PreauthRead,
    PreauthStatus,
)
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import IdPath, Limit, Offset, OptionalId
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.routers._billing import (
    BillingReader,
    InsuranceManager,
    to_model,
    to_models,
)
from hms_server.services.billing import insurance as svc

router = APIRouter(tags=["billing: insurance"], responses=PROBLEM_RESPONSES)
UNAVAILABLE = {503: {"description": "payer_unavailable (with Retry-After), not_configured"}}


@router.get("/payers", operation_id="list_payers")
def list_payers(ctx: BillingReader) -> Page[PayerRead]:
    rows = svc.list_payers(ctx.uow())
    items = [
        to_model(ctx, PayerRead, payer).model_copy(update={"plan_count": count})
        for payer, count in rows
    ]
    return Page[PayerRead](items=items, total=len(items))


@router.post("/payers", operation_id="create_payer", status_code=201, response_model=PayerRead)
def create_payer(
    body: PayerCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_payer(
            uow, code=body.code, name=body.name, phone=body.phone, address=body.address
        ),
        lambda payer: to_model(ctx, PayerRead, payer),
    )


@router.get("/insurance-plans", operation_id="list_insurance_plans")
def list_plans(ctx: BillingReader, payer_id: OptionalId = None) -> Page[PlanRead]:
    rows = svc.list_plans(ctx.uow(), payer_id=payer_id)
    return Page[PlanRead](items=to_models(ctx, PlanRead, rows), total=len(rows))


@router.post(
    "/insurance-plans",
    operation_id="create_insurance_plan",
    status_code=201,
    response_model=PlanRead,
)
def create_plan(
    body: PlanCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.create_plan(
            uow,
            payer_id=body.payer_id,
            code=body.code,
            name=body.name,
            coverage={r.category: r.percent for r in body.coverage},
            copay=body.copay,
            deductible=body.deductible,
            annual_limit=body.annual_limit,
            excluded_codes=body.excluded_codes,
        ),
        lambda view: to_model(ctx, PlanRead, view),
    )


@router.get("/insurance-plans/{plan_id}", operation_id="get_insurance_plan")
def get_plan(plan_id: IdPath, ctx: BillingReader) -> PlanRead:
    return to_model(ctx, PlanRead, svc.get_plan(ctx.uow(), plan_id))


@router.get("/patients/{patient_id}/policies", operation_id="list_patient_policies")
def list_policies(patient_id: IdPath, ctx: BillingReader) -> Page[PolicyRead]:
    rows = svc.list_policies(ctx.uow(), patient_id)
    return Page[PolicyRead](items=to_models(ctx, PolicyRead, rows), total=len(rows))


@router.post(
    "/patients/{patient_id}/policies",
    operation_id="add_patient_policy",
    status_code=201,
    response_model=PolicyRead,
)
def add_policy(
    patient_id: IdPath,
    body: PolicyCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.add_policy(
            uow,
            patient_id,
            plan_id=body.plan_id,
            member_number=body.member_number,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
        ),
        lambda view: to_model(ctx, PolicyRead, view),
    )


@router.patch("/policies/{policy_id}", operation_id="update_policy")
def update_policy(policy_id: IdPath, body: PolicyUpdate, ctx: InsuranceManager) -> PolicyRead:
    return to_model(
        ctx,
        PolicyRead,
        svc.update_policy(
            ctx.uow(),
            policy_id,
            version=body.version,
            valid_to=body.valid_to,
            active=body.active,
            fields_set=set(body.model_fields_set),
        ),
    )


@router.post(
    "/policies/{policy_id}/eligibility",
    operation_id="check_policy_eligibility",
    responses=UNAVAILABLE,
)
def check_eligibility(policy_id: IdPath, ctx: InsuranceManager) -> EligibilityRead:
    """Ask the payer (FHIR CoverageEligibilityRequest) whether the policy is in force."""
    return to_model(
        ctx, EligibilityRead, svc.check_eligibility(ctx.uow(), ctx.runtime.billing.payer, policy_id)
    )


@router.get("/preauthorizations", operation_id="list_preauthorizations")
def list_preauths(
    ctx: BillingReader,
    patient_id: OptionalId = None,
    status: Annotated[PreauthStatus | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PreauthRead]:
    rows, total = svc.list_preauths(
        ctx.uow(), patient_id=patient_id, status=status, limit=limit, offset=offset
    )
    return Page[PreauthRead](items=to_models(ctx, PreauthRead, rows), total=total)


@router.post(
    "/preauthorizations",
    operation_id="request_preauthorization",
    status_code=201,
    response_model=PreauthRead,
)
def request_preauth(
    body: PreauthCreate,
    request: Request,
    ctx: InsuranceManager,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record and send a pre-authorisation (FHIR Claim, use=preauthorization). If the payer
    cannot be reached it stays ``pending_submission``; resend with ``/submit``."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: svc.request_preauth(
            uow,
            ctx.runtime.billing.payer,
            policy_id=body.policy_id,
            kind=body.kind,
            price_item_code=body.price_item_code,
            description=body.description,
            amount=body.amount,
            expected_on=body.expected_on,
        ),
        lambda row: to_model(ctx, PreauthRead, row),
    )


@router.post(
    "/preauthorizations/{preauth_id}/submit",
    operation_id="submit_preauthorization",
    responses=UNAVAILABLE,
)
def submit_preauth(preauth_id: IdPath, ctx: InsuranceManager) -> PreauthRead:
    return to_model(
        ctx, PreauthRead, svc.submit_preauth(ctx.uow(), ctx.runtime.billing.payer, preauth_id)
    )


@router.post("/preauthorizations/{preauth_id}/cancel", operation_id="cancel_preauthorization")
def cancel_preauth(preauth_id: IdPath, ctx: InsuranceManager) -> PreauthRead:
    return to_model(ctx, PreauthRead, svc.cancel_preauth(ctx.uow(), preauth_id))
