"""Patient merge: charges, invoices, credit notes, payments, card payments, approvals,
policies, pre-authorisations and claims follow the surviving record, and the merged-away
record's account credit joins the survivor's (subscribed to ``PatientsMerged``)."""

from __future__ import annotations

from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.events import PatientsMerged
from hms_server.services.billing.common import audit, repo


def move_billing_on_merge(uow: UnitOfWork, event: PatientsMerged) -> None:
    repo(uow).move_patient(event.loser_id, event.survivor_id)
    audit(uow, "account.merge", patient_id=event.survivor_id, merged_from=event.loser_id)
