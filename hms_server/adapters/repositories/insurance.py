"""Insurance data access: payers, plans, coverage rules, policies, pre-authorisations,
claims and claim batches. Reached with ``uow.repo(InsuranceRepository)``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, extract, func, or_, select
from sqlalchemy.orm import Session

from hms_server.adapters.orm.billing import Invoice
from hms_server.adapters.orm.insurance import (
    Claim,
    ClaimBatch,
    InsurancePlan,
    PatientPolicy,
    Payer,
    PlanCoverageRule,
    Preauthorization,
)

CLAIM_WORKLISTS = {
    "to_submit": ("ready",),
    "rejected": ("rejected", "partly_approved"),
    "awaiting_remittance": ("approved", "partly_approved"),
    "submitted": ("submitted",),
}


class InsuranceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- payers and plans ------------------------------------------------------------------
    def payer(self, payer_id: int) -> Payer | None:
        return self.session.get(Payer, payer_id)

    def payers(self, ids: Iterable[int] | None = None) -> list[Payer]:
        query = select(Payer).order_by(Payer.name)
        if ids is not None:
            query = query.where(Payer.id.in_(set(ids)))
        return list(self.session.scalars(query))

    def payer_code_taken(self, code: str) -> bool:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Payer)
                .where(func.upper(Payer.code) == code.upper())
            )
            != 0
        )

    def plan_counts(self) -> dict[int, int]:
        return {
            pid: int(n)
            for pid, n in self.session.execute(
                select(InsurancePlan.payer_id, func.count()).group_by(InsurancePlan.payer_id)
            )
        }

    def plan(self, plan_id: int) -> InsurancePlan | None:
        return self.session.get(InsurancePlan, plan_id)

    def plans(
        self, *, payer_id: int | None = None, ids: Iterable[int] | None = None
    ) -> list[InsurancePlan]:
        query = select(InsurancePlan).order_by(InsurancePlan.name)
        if payer_id is not None:
            query = query.where(InsurancePlan.payer_id == payer_id)
        if ids is not None:
            query = query.where(InsurancePlan.id.in_(set(ids)))
        return list(self.session.scalars(query))

    def plan_code_taken(self, payer_id: int, code: str) -> bool:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(InsurancePlan)
                .where(
                    InsurancePlan.payer_id == payer_id,
                    func.upper(InsurancePlan.code) == code.upper(),
                )
            )
            != 0
        )

    def coverage(self, plan_ids: Iterable[int]) -> dict[int, dict[str, Decimal]]:
        wanted = set(plan_ids)
        found: dict[int, dict[str, Decimal]] = {pid: {} for pid in wanted}
        if wanted:
            for rule in self.session.scalars(
                select(PlanCoverageRule).where(PlanCoverageRule.plan_id.in_(wanted))
            ):
                found[rule.plan_id][rule.category] = rule.percent
        return found

    def replace_coverage(self, plan_id: int, rules: dict[str, Decimal]) -> None:
        self.session.execute(delete(PlanCoverageRule).where(PlanCoverageRule.plan_id == plan_id))
        self.session.add_all(
            PlanCoverageRule(plan_id=plan_id, category=c, percent=p) for c, p in rules.items()
        )

    # -- policies ---------------------------------------------------------------------------
    def policy(self, policy_id: int, *, lock: bool = False) -> PatientPolicy | None:
        return self.session.get(PatientPolicy, policy_id, with_for_update=lock)

    def policies_of(self, patient_id: int) -> list[PatientPolicy]:
        return list(
            self.session.scalars(
                select(PatientPolicy)
                .where(PatientPolicy.patient_id == patient_id)
                .order_by(PatientPolicy.valid_from.desc(), PatientPolicy.id.desc())
            )
        )

    def member_taken(self, plan_id: int, member_number: str) -> bool:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(PatientPolicy)
                .where(
                    PatientPolicy.plan_id == plan_id, PatientPolicy.member_number == member_number
                )
            )
            != 0
        )

    def policy_year_usage(
        self, policy_id: int, year: int, *, exclude_invoice: int | None
    ) -> tuple[Decimal, Decimal]:
        """(deductible used, payer amount used) by the policy's other non-void invoices
        issued in ``year``."""
        query = select(
            func.coalesce(func.sum(Invoice.deductible), 0),
            func.coalesce(func.sum(Invoice.payer_due), 0),
        ).where(
            Invoice.policy_id == policy_id,
            Invoice.status.in_(("finalised", "partly_paid", "paid")),
            extract("year", Invoice.issued_on) == year,
        )
        if exclude_invoice is not None:
            query = query.where(Invoice.id != exclude_invoice)
        deductible, payer = self.session.execute(query).one()
        return Decimal(deductible), Decimal(payer)

    # -- pre-authorisations --------------------------------------------------------------------
    def preauth(self, preauth_id: int, *, lock: bool = False) -> Preauthorization | None:
        return self.session.get(Preauthorization, preauth_id, with_for_update=lock)

    def preauths(
        self, *, patient_id: int | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Preauthorization], int]:
        query = select(Preauthorization)
        if patient_id is not None:
            query = query.where(Preauthorization.patient_id == patient_id)
        if status:
            query = query.where(Preauthorization.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(Preauthorization.requested_at.desc(), Preauthorization.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, total

    # -- claims --------------------------------------------------------------------------------
    def claim(self, claim_id: int, *, lock: bool = False) -> Claim | None:
        return self.session.get(Claim, claim_id, with_for_update=lock)

    def live_claim_of_invoice(self, invoice_id: int, *, lock: bool = False) -> Claim | None:
        query = select(Claim).where(Claim.invoice_id == invoice_id, Claim.status != "cancelled")
        return self.session.scalar(query.with_for_update() if lock else query)

    def ready_claims(self, payer_id: int, ids: Sequence[int] | None) -> list[Claim]:
        """Ready claims of the payer, locked; a claim another clerk is batching is skipped
        rather than waited for, so two batches never carry the same claim."""
        query = select(Claim).where(Claim.payer_id == payer_id, Claim.status == "ready")
        if ids is not None:
            query = query.where(Claim.id.in_(ids))
        return list(
            self.session.scalars(query.order_by(Claim.id).with_for_update(skip_locked=True))
        )

    def list_claims(
        self,
        *,
        payer_id: int | None,
        status: Sequence[str] | None,
        patient_id: int | None,
        worklist: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Claim], int]:
        query = select(Claim)
        if payer_id is not None:
            query = query.where(Claim.payer_id == payer_id)
        if patient_id is not None:
            query = query.where(Claim.patient_id == patient_id)
        if status:
            query = query.where(Claim.status.in_(list(status)))
        if worklist == "rejected":
            query = query.where(
                Claim.status.in_(("rejected", "partly_approved")),
                Claim.rejection_resolution.is_(None),
            )
        elif worklist == "awaiting_remittance":
            query = query.where(
                Claim.status.in_(("approved", "partly_approved")),
                Claim.remitted < func.coalesce(Claim.approved, 0),
            )
        elif worklist is not None:
            query = query.where(Claim.status.in_(CLAIM_WORKLISTS[worklist]))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(Claim.created_at.desc(), Claim.id.desc()).limit(limit).offset(offset)
            )
        )
        return rows, total

    def batch(self, batch_id: int) -> ClaimBatch | None:
        return self.session.get(ClaimBatch, batch_id)

    def batches(self, ids: Iterable[int]) -> dict[int, ClaimBatch]:
        wanted = set(ids)
        if not wanted:
            return {}
        return {
            b.id: b
            for b in self.session.scalars(select(ClaimBatch).where(ClaimBatch.id.in_(wanted)))
        }

    def claims_of_batch(self, batch_id: int) -> list[Claim]:
        return list(
            self.session.scalars(select(Claim).where(Claim.batch_id == batch_id).order_by(Claim.id))
        )

    def active_policy_on(self, patient_id: int, on: date) -> PatientPolicy | None:
        return self.session.scalar(
            select(PatientPolicy)
            .where(
                PatientPolicy.patient_id == patient_id,
                PatientPolicy.active.is_(True),
                PatientPolicy.valid_from <= on,
                or_(PatientPolicy.valid_to.is_(None), PatientPolicy.valid_to >= on),
            )
            .order_by(PatientPolicy.valid_from.desc())
            .limit(1)
        )
