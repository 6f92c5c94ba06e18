"""Bed-days for billing: one per occupied midnight, told to billing exactly once.

``capture_bed_days`` may run as often as anyone likes (the ward worker runs it every few
minutes, discharge runs it for the one admission, ``hms-server capture-bed-days`` by hand):
each occupied local midnight becomes one row of the ``bed_days`` ledger, whose primary key
(admission, day) makes a second capture of the same day a no-op, also when two servers
capture at once. A ``BedDayOccupied`` event is emitted only for rows actually inserted, in
the same transaction, so billing's charge exists exactly when the ledger row does.

The ward class charged is the class of the ward the patient was in at that midnight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.wards import Admission, BedStay
from hms_server.adapters.repositories.wards import WardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.events import BedDayOccupied
from hms_server.domain.wards import occupied_midnights

CATEGORY = "bed_days"
#: Discharged admissions are re-checked this long after discharge (a late capture run).
RECHECK_AFTER_DISCHARGE = timedelta(days=7)


def _stay_at(stays: list[BedStay], instant: datetime) -> BedStay | None:
    for stay in stays:
        if stay.started_at <= instant and (stay.ended_at is None or instant < stay.ended_at):
            return stay
    return None


def capture_admission_bed_days(
    uow: UnitOfWork, admission: Admission, *, until: datetime | None = None
) -> int:
    """Charge the uncharged midnights of one admission up to ``until`` (default now).
    Inside the caller's transaction; returns how many new bed-days were recorded."""
    if admission.status == "cancelled":
        return 0
    repo = uow.repo(WardRepository)
    end = until or utcnow()
    if admission.discharged_at is not None:
        end = min(end, admission.discharged_at)
    stays = repo.stays_of([admission.id])
    return _capture(uow, repo, admission, stays, end)


def _capture(
    uow: UnitOfWork, repo: WardRepository, admission: Admission, stays: list[BedStay], end: datetime
) -> int:
    zone = uow.hospital.zone
    charged = repo.charged_days(admission.id)
    added = 0
    now = utcnow()
    for day in occupied_midnights(admission.admitted_at, end, zone):
        if day in charged:
            continue
        midnight = uow.hospital.day_bounds(day)[0]
        stay = _stay_at(stays, midnight)
        if stay is None:
            continue  # between beds exactly at midnight: nothing to charge
        if repo.record_bed_day(
            admission_id=admission.id,
            day=day,
            patient_id=admission.patient_id,
            ward_id=stay.ward_id,
            ward_class=stay.ward_class,
            at=now,
        ):
            uow.emit(BedDayOccupied(admission.id, admission.patient_id, stay.ward_class, day))
            added += 1
    if added:
        uow.audit(
            CATEGORY,
            "bed_days.capture",
            patient_id=admission.patient_id,
            detail={"admission_id": admission.id, "days": added},
        )
    return added


def capture_bed_days(uow: UnitOfWork, *, until: datetime | None = None) -> int:
    """Charge every uncharged occupied midnight of every open (or recently discharged)
    admission; returns the number of bed-days recorded. Safe to run repeatedly."""
    end = until or utcnow()
    with uow:
        repo = uow.repo(WardRepository)
        admissions = repo.admissions_to_charge(end - RECHECK_AFTER_DISCHARGE)
        stays_by_admission: dict[int, list[BedStay]] = {}
        for stay in repo.stays_of([a.id for a in admissions]):
            stays_by_admission.setdefault(stay.admission_id, []).append(stay)
        added = 0
        for admission in admissions:
            until_for = min(end, admission.discharged_at) if admission.discharged_at else end
            added += _capture(
                uow, repo, admission, stays_by_admission.get(admission.id, []), until_for
            )
        uow.commit()
        return added
