"""Insurance set-up and questions to the payer: payers, plans and their coverage rules,
patient policies, eligibility checks and pre-authorisations.

Calls to the payer happen outside any database transaction (a slow insurer never holds
locks): the request is built from one unit of work, the answer recorded in the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.insurance import (
    InsurancePlan,
    PatientPolicy,
    Payer,
    Preauthorization,
)
from hms_server.adapters.repositories.insurance import InsuranceRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.billing import (
    BillingNotConfiguredError,
    PayerUnavailableError,
    field_error,
)
from hms_server.domain.billing_gateways import (
    ClaimItem,
    ClaimSubmission,
    EligibilityQuery,
    PayerGateway,
)
from hms_server.domain.errors import ConflictError, NotFoundError, ValidationFailedError
from hms_server.domain.versioning import check_version
from hms_server.services.billing.common import audit, money, require_patient


class DuplicateCodeError(ConflictError):
    code, title = "code_taken", "Code in use"


def _insurance(uow: UnitOfWork) -> InsuranceRepository:
    return uow.repo(InsuranceRepository)


def _require_gateway(payer: PayerGateway | None) -> PayerGateway:
    if payer is None:
        raise BillingNotConfiguredError("No insurer endpoint is configured (HMS_PAYER_FHIR_URL).")
    return payer


# --- payers and plans --------------------------------------------------------------------------


def create_payer(
    uow: UnitOfWork, *, code: str, name: str, phone: str | None, address: str | None
) -> Payer:
    with uow:
        if _insurance(uow).payer_code_taken(code):
            raise DuplicateCodeError(
                f"A payer with code {code} exists.",
                extra={"errors": [field_error("code", "already used")]},
            )
        payer = Payer(
            code=code.upper(),
            name=name,
            phone=phone,
            address=address,
            active=True,
            created_at=utcnow(),
        )
        uow.session.add(payer)
        uow.session.flush()
        audit(uow, "payer.create", patient_id=None, payer_id=payer.id)
        uow.commit()
        return payer


def list_payers(uow: UnitOfWork) -> list[tuple[Payer, int]]:
    with uow:
        insurance = _insurance(uow)
        counts = insurance.plan_counts()
        return [(p, counts.get(p.id, 0)) for p in insurance.payers()]


@dataclass(frozen=True)
class PlanView:
    id: int
    payer_id: int
    payer_name: str | None
    code: str
    name: str
    coverage: list[dict[str, object]]
    copay: Decimal
    deductible: Decimal
    annual_limit: Decimal | None
    excluded_codes: list[str]
    active: bool
    version: int


def _plan_views(uow: UnitOfWork, plans: list[InsurancePlan]) -> list[PlanView]:
    insurance = _insurance(uow)
    coverage = insurance.coverage(p.id for p in plans)
    payers = {p.id: p.name for p in insurance.payers({p.payer_id for p in plans})}
    return [
        PlanView(
            id=p.id,
            payer_id=p.payer_id,
            payer_name=payers.get(p.payer_id),
            code=p.code,
            name=p.name,
            coverage=[{"category": c, "percent": v} for c, v in sorted(coverage[p.id].items())],
            copay=p.copay,
            deductible=p.deductible,
            annual_limit=p.annual_limit,
            excluded_codes=list(p.excluded_codes),
            active=p.active,
            version=p.version,
        )
        for p in plans
    ]


def create_plan(
    uow: UnitOfWork,
    *,
    payer_id: int,
    code: str,
    name: str,
    coverage: dict[str, Decimal],
    copay: Decimal,
    deductible: Decimal,
    annual_limit: Decimal | None,
    excluded_codes: list[str],
) -> PlanView:
    with uow:
        insurance = _insurance(uow)
        if insurance.payer(payer_id) is None:
            raise ValidationFailedError(
                "Unknown payer.", extra={"errors": [field_error("payer_id", "no such payer")]}
            )
        if insurance.plan_code_taken(payer_id, code):
            raise DuplicateCodeError(
                f"The payer already has a plan {code}.",
                extra={"errors": [field_error("code", "already used")]},
            )
        plan = InsurancePlan(
            payer_id=payer_id,
            code=code.upper(),
            name=name,
            copay=money(uow, copay, "copay"),
            deductible=money(uow, deductible, "deductible"),
            annual_limit=money(uow, annual_limit, "annual_limit")
            if annual_limit is not None
            else None,
            excluded_codes=sorted({c.upper() for c in excluded_codes}),
            active=True,
        )
        uow.session.add(plan)
        uow.session.flush()
        insurance.replace_coverage(plan.id, coverage)
        uow.session.flush()
        audit(uow, "plan.create", patient_id=None, plan_id=plan.id, payer_id=payer_id)
        view = _plan_views(uow, [plan])[0]
        uow.commit()
        return view


def list_plans(uow: UnitOfWork, *, payer_id: int | None) -> list[PlanView]:
    with uow:
        return _plan_views(uow, _insurance(uow).plans(payer_id=payer_id))


def get_plan(uow: UnitOfWork, plan_id: int) -> PlanView:
    with uow:
        plan = _insurance(uow).plan(plan_id)
        if plan is None:
            raise NotFoundError(f"No plan with id {plan_id}.")
        return _plan_views(uow, [plan])[0]


# --- policies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyView:
    id: int
    patient_id: int
    plan_id: int
    plan_name: str
    payer_id: int
    payer_name: str
    member_number: str
    valid_from: date
    valid_to: date | None
    active: bool
    eligibility: str
    eligibility_checked_at: object
    eligibility_note: str | None
    deductible_remaining: Decimal | None
    limit_remaining: Decimal | None
    version: int


def policy_views(uow: UnitOfWork, policies: list[PatientPolicy]) -> list[PolicyView]:
    insurance = _insurance(uow)
    plans = {p.id: p for p in insurance.plans(ids={p.plan_id for p in policies})}
    payers = {p.id: p for p in insurance.payers({p.payer_id for p in plans.values()})}
    year = uow.hospital.today().year
    rm = uow.hospital.round_money
    views = []
    for policy in policies:
        plan = plans[policy.plan_id]
        deductible_used, payer_used = insurance.policy_year_usage(
            policy.id, year, exclude_invoice=None
        )
        views.append(
            PolicyView(
                id=policy.id,
                patient_id=policy.patient_id,
                plan_id=plan.id,
                plan_name=plan.name,
                payer_id=plan.payer_id,
                payer_name=payers[plan.payer_id].name,
                member_number=policy.member_number,
                valid_from=policy.valid_from,
                valid_to=policy.valid_to,
                active=policy.active,
                eligibility=policy.eligibility,
                eligibility_checked_at=policy.eligibility_checked_at,
                eligibility_note=policy.eligibility_note,
                deductible_remaining=rm(max(Decimal(0), plan.deductible - deductible_used)),
                limit_remaining=rm(max(Decimal(0), plan.annual_limit - payer_used))
                if plan.annual_limit is not None
                else None,
                version=policy.version,
            )
        )
    return views


def add_policy(
    uow: UnitOfWork,
    patient_id: int,
    *,
    plan_id: int,
    member_number: str,
    valid_from: date,
    valid_to: date | None,
) -> PolicyView:
    with uow:
        require_patient(uow, patient_id)
        insurance = _insurance(uow)
        if insurance.plan(plan_id) is None:
            raise ValidationFailedError(
                "Unknown plan.", extra={"errors": [field_error("plan_id", "no such plan")]}
            )
        if insurance.member_taken(plan_id, member_number):
            raise DuplicateCodeError(
                "That member number is already registered on this plan.",
                extra={"errors": [field_error("member_number", "already registered")]},
            )
        policy = PatientPolicy(
            patient_id=patient_id,
            plan_id=plan_id,
            member_number=member_number,
            valid_from=valid_from,
            valid_to=valid_to,
            active=True,
            eligibility="unknown",
            created_at=utcnow(),
        )
        uow.session.add(policy)
        uow.session.flush()
        audit(uow, "policy.add", patient_id=patient_id, policy_id=policy.id, plan_id=plan_id)
        uow.publish("policy.changed", {"policy_id": policy.id, "patient_id": patient_id})
        view = policy_views(uow, [policy])[0]
        uow.commit()
        return view


def list_policies(uow: UnitOfWork, patient_id: int) -> list[PolicyView]:
    with uow:
        require_patient(uow, patient_id)
        views = policy_views(uow, _insurance(uow).policies_of(patient_id))
        audit(uow, "policies.read", patient_id=patient_id, count=len(views))
        uow.commit()
        return views


def update_policy(
    uow: UnitOfWork,
    policy_id: int,
    *,
    version: int,
    valid_to: date | None,
    active: bool | None,
    fields_set: set[str],
) -> PolicyView:
    with uow:
        policy = _insurance(uow).policy(policy_id, lock=True)
        if policy is None:
            raise NotFoundError(f"No policy with id {policy_id}.")
        check_version(policy.version, version, "policy")
        if "valid_to" in fields_set:
            if valid_to is not None and valid_to < policy.valid_from:
                raise ValidationFailedError(
                    "The policy cannot end before it starts.",
                    extra={"errors": [field_error("valid_to", "before valid_from")]},
                )
            policy.valid_to = valid_to
        if active is not None:
            policy.active = active
        uow.session.flush()
        audit(uow, "policy.update", patient_id=policy.patient_id, policy_id=policy.id)
        view = policy_views(uow, [policy])[0]
        uow.commit()
        return view


@dataclass(frozen=True)
class EligibilityView:
    policy_id: int
    status: str
    in_force: bool
    checked_at: object
    payer_reference: str | None
    note: str | None
    benefits: list[dict[str, object]]


def check_eligibility(
    uow: UnitOfWork, payer: PayerGateway | None, policy_id: int
) -> EligibilityView:
    """Ask the payer whether the policy is in force today (FHIR eligibility), and keep the
    answer on the policy. If the payer is down the policy is marked ``error`` and the
    problem is answered 503 with ``Retry-After``."""
    with uow:
        insurance = _insurance(uow)
        policy = insurance.policy(policy_id)
        if policy is None:
            raise NotFoundError(f"No policy with id {policy_id}.")
        gateway = _require_gateway(payer)
        plan = insurance.plan(policy.plan_id)
        assert plan is not None
        payer_row = insurance.payer(plan.payer_id)
        assert payer_row is not None
        query = EligibilityQuery(
            policy_id=policy.id,
            patient_id=policy.patient_id,
            payer_code=payer_row.code,
            plan_code=plan.code,
            member_number=policy.member_number,
            on=uow.hospital.today(),
        )
    try:
        answer = gateway.check_eligibility(query)
    except PayerUnavailableError:
        _record_eligibility(uow, policy_id, "error", "The payer could not be reached.")
        raise
    status = "eligible" if answer.in_force else "not_eligible"
    checked_at = _record_eligibility(uow, policy_id, status, answer.note)
    return EligibilityView(
        policy_id=policy_id,
        status=status,
        in_force=answer.in_force,
        checked_at=checked_at,
        payer_reference=answer.payer_reference,
        note=answer.note,
        benefits=answer.benefits,
    )


def _record_eligibility(uow: UnitOfWork, policy_id: int, status: str, note: str | None) -> object:
    with uow:
        policy = _insurance(uow).policy(policy_id, lock=True)
        assert policy is not None
        policy.eligibility, policy.eligibility_note = status, (note or "")[:500] or None
        policy.eligibility_checked_at = utcnow()
        uow.session.flush()
        audit(
            uow,
            "policy.eligibility",
            patient_id=policy.patient_id,
            policy_id=policy.id,
            status=status,
        )
        uow.publish("policy.changed", {"policy_id": policy.id, "patient_id": policy.patient_id})
        checked = policy.eligibility_checked_at
        uow.commit()
        return checked


# --- pre-authorisations -----------------------------------------------------------------------


def request_preauth(
    uow: UnitOfWork,
    payer: PayerGateway | None,
    *,
    policy_id: int,
    kind: str,
    price_item_code: str | None,
    description: str,
    amount: Decimal,
    expected_on: date | None,
) -> Preauthorization:
    """Record the request, then send it (FHIR ``Claim`` with ``use=preauthorization``). If
    the payer cannot be reached the request stays ``pending_submission`` (resend it)."""
    with uow:
        policy = _insurance(uow).policy(policy_id)
        if policy is None:
            raise ValidationFailedError(
                "Unknown policy.", extra={"errors": [field_error("policy_id", "no such policy")]}
            )
        preauth = Preauthorization(
            patient_id=policy.patient_id,
            policy_id=policy.id,
            kind=kind,
            price_item_code=price_item_code,
            description=description,
            amount=money(uow, amount, "amount"),
            expected_on=expected_on,
            status="pending_submission",
            requested_by=uow.actor.user_id if uow.actor else None,
            requested_at=utcnow(),
        )
        uow.session.add(preauth)
        uow.session.flush()
        audit(
            uow,
            "preauth.request",
            patient_id=policy.patient_id,
            preauth_id=preauth.id,
            amount=preauth.amount,
        )
        uow.commit()
        preauth_id = preauth.id
    if payer is not None:
        try:
            return submit_preauth(uow, payer, preauth_id)
        except PayerUnavailableError:
            pass
    return preauth


def submit_preauth(
    uow: UnitOfWork, payer: PayerGateway | None, preauth_id: int
) -> Preauthorization:
    with uow:
        insurance = _insurance(uow)
        preauth = insurance.preauth(preauth_id)
        if preauth is None:
            raise NotFoundError(f"No pre-authorisation with id {preauth_id}.")
        gateway = _require_gateway(payer)
        if preauth.status not in ("pending_submission", "pended"):
            raise ConflictError(f"This pre-authorisation is {preauth.status}.")
        policy = insurance.policy(preauth.policy_id)
        assert policy is not None
        plan = insurance.plan(policy.plan_id)
        assert plan is not None
        payer_row = insurance.payer(plan.payer_id)
        assert payer_row is not None
        today = uow.hospital.today()
        request = ClaimSubmission(
            identifier=f"PREAUTH-{preauth.id}",
            use="preauthorization",
            patient_id=preauth.patient_id,
            payer_code=payer_row.code,
            member_number=policy.member_number,
            currency=uow.hospital.currency,
            created=today,
            items=[
                ClaimItem(
                    sequence=1,
                    code=preauth.price_item_code or preauth.kind.upper(),
                    description=preauth.description,
                    category=preauth.kind,
                    quantity=Decimal(1),
                    unit_price=preauth.amount,
                    net=preauth.amount,
                    service_date=preauth.expected_on or today,
                )
            ],
            total=preauth.amount,
        )
    answer = gateway.submit_claims([request])[0]
    with uow:
        preauth = _insurance(uow).preauth(preauth_id, lock=True)
        assert preauth is not None
        preauth.payer_reference = answer.payer_reference
        preauth.note = (answer.disposition or "; ".join(answer.reasons))[:500] or None
        if answer.outcome == "complete":
            preauth.status = "approved"
            preauth.approved_amount = min(uow.hospital.round_money(answer.approved), preauth.amount)
        elif answer.outcome == "queued":
            preauth.status = "pended"
        else:
            preauth.status = "denied"
        preauth.decided_at = utcnow() if preauth.status != "pended" else None
        uow.session.flush()
        audit(
            uow,
            "preauth.answer",
            patient_id=preauth.patient_id,
            preauth_id=preauth.id,
            status=preauth.status,
        )
        uow.publish("preauth.changed", {"preauth_id": preauth.id, "patient_id": preauth.patient_id})
        uow.commit()
        return preauth


def list_preauths(
    uow: UnitOfWork, *, patient_id: int | None, status: str | None, limit: int, offset: int
) -> tuple[list[Preauthorization], int]:
    with uow:
        rows, total = _insurance(uow).preauths(
            patient_id=patient_id, status=status, limit=limit, offset=offset
        )
        if patient_id is not None:
            audit(uow, "preauths.read", patient_id=patient_id, count=len(rows))
            uow.commit()
        return rows, total


def cancel_preauth(uow: UnitOfWork, preauth_id: int) -> Preauthorization:
    with uow:
        preauth = _insurance(uow).preauth(preauth_id, lock=True)
        if preauth is None:
            raise NotFoundError(f"No pre-authorisation with id {preauth_id}.")
        if preauth.status in ("denied", "cancelled"):
            raise ConflictError(f"This pre-authorisation is {preauth.status}.")
        preauth.status, preauth.decided_at = "cancelled", utcnow()
        uow.session.flush()
        audit(uow, "preauth.cancel", patient_id=preauth.patient_id, preauth_id=preauth.id)
        uow.commit()
        return preauth
