"""Reading the audit trail (admin review), sealing it offline and verifying its chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from hms_server.adapters.audit_log import ChainReport, verify_audit_chain
from hms_server.adapters.audit_sealer import seal_all_pending
from hms_server.adapters.orm.infra import AuditEntry
from hms_server.adapters.repositories.audit import AUDIT_SORT_COLUMNS, AuditLogRepository
from hms_server.adapters.repositories.patients import PatientRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.audit_chain import Checkpoint

SORTABLE = tuple(AUDIT_SORT_COLUMNS)


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    user: str | None = None
    user_id: int | None = None
    patient_id: int | None = None
    action: str | None = None
    category: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class AuditRow:
    """An entry with the MRN and name of the patient it is about (when it is about one)."""

    entry: AuditEntry
    patient_mrn: str | None = None
    patient_name: str | None = None


def search_audit(
    uow: UnitOfWork, flt: AuditFilter, *, sort: str, limit: int, offset: int
) -> tuple[list[AuditRow], int]:
    """Filter and sort on allow-listed fields only; each entry names its patient by MRN and
    name (a database id means nothing to a reviewer). Reading the log is itself audited."""
    with uow:
        rows, total = uow.repo(AuditLogRepository).search(
            **flt.__dict__, sort=sort, limit=limit, offset=offset
        )
        who = uow.repo(PatientRepository).identities(
            [r.patient_id for r in rows if r.patient_id is not None]
        )
        uow.audit(
            "audit",
            "audit.search",
            detail={"filters": {k: str(v) for k, v in flt.__dict__.items() if v is not None}},
        )
        uow.commit()
        return [_row(r, who) for r in rows], total


def _row(entry: AuditEntry, who: dict[int, tuple[str, str, str]]) -> AuditRow:
    known = who.get(entry.patient_id) if entry.patient_id is not None else None
    if known is None:
        return AuditRow(entry)
    mrn, given, family = known
    return AuditRow(entry, mrn, f"{family}, {given}")


def verify(uow: UnitOfWork, key: bytes, checkpoints: list[Checkpoint] | None = None) -> ChainReport:
    """Re-compute the keyed chain and compare it with the external checkpoints."""
    with uow:
        return verify_audit_chain(uow.session.connection(), key, checkpoints or [])


def seal_now(engine: Engine, key: bytes, *, offline: bool) -> int:
    """Seal what is pending now (``hms-server audit seal``), on a connection of its own.
    ``offline``: no server is running, so every committed row may be sealed at once."""
    with engine.connect() as conn:
        return seal_all_pending(conn, key, all_finished=offline)
