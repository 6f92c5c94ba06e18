"""Queries of the bedside-device interface: the message ledger, and who was in which bed
(or admitted at all) at the time of a reading."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hms_server.adapters.orm.devices import DeviceMessage
from hms_server.adapters.orm.patients import Patient
from hms_server.adapters.orm.wards import Admission, Bed, BedStay, Room, Ward


class DeviceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush(self) -> None:
        self.session.flush()

    def claim(self, record: DeviceMessage) -> DeviceMessage | None:
        """Insert the ledger row and return it; None if this sender's control id was seen
        before (a resend). Messages without a control id are always new."""
        if record.control_id is None:
            self.session.add(record)
            self.session.flush()
            return record
        values = {
            c.key: getattr(record, c.key)
            for c in DeviceMessage.__table__.columns
            if c.key != "id" and getattr(record, c.key) is not None
        }
        new_id = self.session.execute(
            insert(DeviceMessage)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["sending_application", "control_id"],
                index_where=DeviceMessage.control_id.is_not(None),
            )
            .returning(DeviceMessage.id)
        ).scalar()
        return None if new_id is None else self.session.get(DeviceMessage, new_id)

    def by_control_id(self, sender: str, control_id: str | None) -> DeviceMessage | None:
        if control_id is None:
            return None
        return self.session.scalar(
            select(DeviceMessage).where(
                DeviceMessage.sending_application == sender, DeviceMessage.control_id == control_id
            )
        )

    def message(self, message_id: int, *, lock: bool = False) -> DeviceMessage | None:
        return self.session.get(DeviceMessage, message_id, with_for_update=lock)

    def review_list(
        self, include_reviewed: bool, limit: int, offset: int
    ) -> tuple[list[DeviceMessage], int]:
        query = select(DeviceMessage).where(DeviceMessage.status != "stored")
        if not include_reviewed:
            query = query.where(DeviceMessage.reviewed_at.is_(None))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            self.session.scalars(
                query.order_by(DeviceMessage.received_at.desc(), DeviceMessage.id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
        return rows, int(total)

    # -- matching ------------------------------------------------------------------------
    def patient_id_for_mrn(self, mrn: str) -> int | None:
        """The patient with this MRN (a merged-away record resolves to its survivor)."""
        row = self.session.execute(
            select(Patient.id, Patient.merged_into_id).where(Patient.mrn == mrn)
        ).first()
        if row is None:
            return None
        return int(row.merged_into_id or row.id)

    def admission_of_patient_at(
        self, patient_id: int, at: datetime, tolerance: timedelta
    ) -> Admission | None:
        """The patient's admission at ``at``; a reading up to ``tolerance`` before the
        admission was recorded counts (the monitor was attached first)."""
        return self.session.scalar(
            select(Admission).where(
                Admission.patient_id == patient_id,
                Admission.status != "cancelled",
                Admission.admitted_at - tolerance <= at,
                or_(Admission.discharged_at.is_(None), Admission.discharged_at > at),
            )
        )

    def admissions_in_bed_around(
        self, ward_code: str, room: str | None, bed: str, at: datetime, tolerance: timedelta
    ) -> list[Admission]:
        """Every admission that held the bed ``ward/room/bed`` within ``tolerance`` of
        ``at``: exactly one means the reading is theirs; more is ambiguous."""
        query = (
            select(Admission)
            .join(BedStay, BedStay.admission_id == Admission.id)
            .join(Bed, Bed.id == BedStay.bed_id)
            .join(Ward, Ward.id == Bed.ward_id)
            .join(Room, Room.id == Bed.room_id)
            .where(
                func.upper(Ward.code) == ward_code.upper(),
                Bed.label == bed,
                Admission.status != "cancelled",
                BedStay.started_at <= at + tolerance,
                or_(BedStay.ended_at.is_(None), BedStay.ended_at > at - tolerance),
            )
        )
        if room:
            query = query.where(Room.label == room)
        return list(self.session.scalars(query.distinct()))

    def admission(self, admission_id: int) -> Admission | None:
        return self.session.get(Admission, admission_id)
