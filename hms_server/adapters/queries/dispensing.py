"""Read-side queries of dispensing: the prescription queue and the recall trace (which
patients received a lot)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hms_server.adapters.orm.identity import User
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.prescribing import Drug, Prescription, PrescriptionItem

_OWED = """
    FROM prescriptions p
    JOIN patients pt ON pt.id = p.patient_id
    WHERE p.status = 'active' AND p.created_at >= :since
      AND NOT EXISTS (SELECT 1 FROM prescription_send_backs s WHERE s.prescription_id = p.id)
      AND EXISTS (
          SELECT 1 FROM prescription_items i
          WHERE i.prescription_id = p.id
            AND i.quantity > coalesce((SELECT sum(dl.quantity) FROM dispense_lines dl
                                       WHERE dl.prescription_item_id = i.id), 0))
      AND (CAST(:q AS text) IS NULL OR p.number ILIKE :q OR pt.mrn ILIKE :q
           OR (pt.family_name || ' ' || pt.given_name) ILIKE :q)
"""
_QUEUE_IDS = text(
    "SELECT p.id " + _OWED + " ORDER BY p.created_at, p.id LIMIT :limit OFFSET :offset"
)
_QUEUE_COUNT = text("SELECT count(*) " + _OWED)
_DISPENSED = text("""
    SELECT dl.prescription_item_id, sum(dl.quantity) AS quantity
    FROM dispense_lines dl JOIN prescription_items i ON i.id = dl.prescription_item_id
    WHERE i.prescription_id = ANY(:ids) GROUP BY dl.prescription_item_id
""")

_RECIPIENTS = text("""
    SELECT pt.id AS patient_id, pt.mrn,
           pt.family_name || ', ' || pt.given_name AS patient_name,
           d.id AS dispense_id, dl.id AS dispense_line_id, d.dispensed_at,
           dl.quantity, dl.returned_quantity
    FROM dispense_lines dl
    JOIN dispenses d ON d.id = dl.dispense_id
    JOIN prescriptions p ON p.id = d.prescription_id
    JOIN patients pt ON pt.id = p.patient_id
    WHERE dl.batch_id = :batch_id
    ORDER BY d.dispensed_at, dl.id
""")

_HOLDINGS = text("""
    SELECT l.id AS location_id, l.code AS location_code, l.name AS location_name,
           b.quantity, b.status
    FROM stock_balances b JOIN stock_locations l ON l.id = b.location_id
    WHERE b.batch_id = :batch_id AND b.quantity > 0
    ORDER BY l.code
""")


class DispensingQueries:
    """The prescription queue and the recall trace. Not thread-safe; one per unit of work
    (``uow.repo(DispensingQueries)``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def queue_rows(
        self, *, since: datetime, q: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Queue entries shaped like ``QueueEntryRead`` (``patient`` is the ORM row)."""
        pattern = f"%{q.strip()}%" if q and q.strip() else None
        params = {"since": since, "q": pattern, "limit": limit, "offset": offset}
        ids = [r[0] for r in self.session.execute(_QUEUE_IDS, params)]
        total = int(self.session.scalar(_QUEUE_COUNT, params) or 0)
        if not ids:
            return [], total
        prescriptions = {
            p.id: p
            for p in self.session.scalars(select(Prescription).where(Prescription.id.in_(ids)))
        }
        patients = {
            p.id: p
            for p in self.session.scalars(
                select(Patient).where(
                    Patient.id.in_({p.patient_id for p in prescriptions.values()})
                )
            )
        }
        prescribers = dict(
            self.session.execute(
                select(User.id, User.full_name).where(
                    User.id.in_({p.prescriber_user_id for p in prescriptions.values()})
                )
            ).all()
        )
        items: dict[int, list[tuple[PrescriptionItem, Drug]]] = {i: [] for i in ids}
        for item, drug in self.session.execute(
            select(PrescriptionItem, Drug)
            .join(Drug, Drug.id == PrescriptionItem.drug_id)
            .where(PrescriptionItem.prescription_id.in_(ids))
            .order_by(PrescriptionItem.line_no)
        ):
            items[item.prescription_id].append((item, drug))
        dispensed: dict[int, Decimal] = dict(self.session.execute(_DISPENSED, {"ids": ids}).all())
        out = []
        for rx_id in ids:
            rx = prescriptions[rx_id]
            lines: list[dict[str, Any]] = []
            started = False
            for item, drug in items[rx_id]:
                given = dispensed.get(item.id, Decimal(0))
                started = started or given > 0
                lines.append(
                    {
                        "prescription_item_id": item.id,
                        "drug_id": drug.id,
                        "generic_name": drug.generic_name,
                        "strength": drug.strength,
                        "form": drug.form,
                        "dose": item.dose,
                        "unit": item.unit,
                        "route": item.route,
                        "frequency": item.frequency,
                        "duration_days": item.duration_days,
                        "instructions": item.instructions,
                        "prescribed": item.quantity,
                        "dispensed": given,
                        "owed": max(item.quantity - given, Decimal(0)),
                    }
                )
            out.append(
                {
                    "prescription_id": rx.id,
                    "number": rx.number,
                    "created_at": rx.created_at,
                    "prescriber_name": prescribers.get(rx.prescriber_user_id),
                    "patient": patients[rx.patient_id],
                    "status": "partly_dispensed" if started else "new",
                    "items": lines,
                }
            )
        return out, total

    def recall_trace(self, batch_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(where every unit of the lot is now, which patients received it)."""
        params = {"batch_id": batch_id}
        holdings = [dict(r._mapping) for r in self.session.execute(_HOLDINGS, params)]
        recipients = [dict(r._mapping) for r in self.session.execute(_RECIPIENTS, params)]
        return holdings, recipients
