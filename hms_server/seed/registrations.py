"""Demo registrations of the last eight weeks: a hospital registers new patients every week.

The patients seed registers everyone years back (a hospital's files are mostly old), which
left the manager's "Registrations" report at nought for the weeks the demo's history covers.
This step moves a share of the patients (``SHARE``) to a registration in office hours during
the ``DAYS`` before today, the same eight weeks the report history fills.

Nobody is cared for before they registered: only a patient whose first recorded activity
(the earliest timestamp of any row that names them, found from the schema so areas added
later are covered too) lies after the window's start qualifies, and registers before it.
The report history (``reports_history``, which runs next) books past visits and stays only
after a patient registered. Idempotent: skipped when anyone already registered in the
window (before the last hour, which the other seeds' own registrations fill).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import bindparam, column, func, select, table, text, union_all, update
from sqlalchemy.orm import Session

from hms_server.adapters.orm.patients import Patient
from hms_server.seed.demo import SeedContext
from hms_server.seed.reports_history import DAYS

log = logging.getLogger(__name__)

SEED_ORDER = 44  # after the seeds of today's care (≤ 40), before the report history (45)
SHARE = 0.12  # of all patients registered in the last DAYS days
OPENS, CLOSES = time(8), time(17, 30)  # the registration desk's hours


# Dates that record care (a bed day, a charge's service, an invoice), unlike onset dates or
# an insurance policy's validity, which may lie before a patient came to the hospital.
CARE_DATES = (("bed_days", "day"), ("charges", "service_date"), ("invoices", "issued_on"))


def first_activity(session: Session, zone: tzinfo = UTC) -> dict[int, datetime]:
    """Each patient's earliest timestamp in any table with a ``patient_id`` column, or
    the start (in ``zone``) of the earliest of their ``CARE_DATES``."""
    pairs = session.execute(
        text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.columns p ON p.table_schema = c.table_schema "
            "AND p.table_name = c.table_name AND p.column_name = 'patient_id' "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
            "WHERE c.table_schema = current_schema() "
            "AND c.data_type = 'timestamp with time zone' ORDER BY 1, 2"
        )
    ).all()
    found: dict[int, datetime] = {}
    for name, day in CARE_DATES:
        source = table(name, column("patient_id"), column(day))
        exists = session.execute(
            text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = :t AND column_name = :c"
            ),
            {"t": name, "c": day},
        ).first()
        if exists is None:
            continue
        for patient, earliest in session.execute(
            select(source.c.patient_id, func.min(source.c[day]))
            .where(source.c.patient_id.is_not(None))
            .group_by(source.c.patient_id)
        ):
            if earliest is None:  # e.g. only draft invoices, not issued yet
                continue
            at = datetime.combine(earliest, time(0), zone)
            if patient not in found or at < found[patient]:
                found[patient] = at
    if not pairs:
        return found
    parts = []
    for name, stamp in pairs:
        source = table(name, column("patient_id"), column(stamp))  # quoted by SQLAlchemy
        parts.append(
            select(source.c.patient_id.label("patient_id"), func.min(source.c[stamp]).label("at"))
            .where(source.c.patient_id.is_not(None))
            .group_by(source.c.patient_id)
        )
    every = union_all(*parts).subquery()
    rows = session.execute(
        select(every.c.patient_id, func.min(every.c.at)).group_by(every.c.patient_id)
    ).all()
    for patient, at in rows:
        if at is not None and (patient not in found or at < found[patient]):
            found[patient] = at
    return found


def _office_hours_between(ctx: SeedContext, lo: datetime, hi: datetime) -> datetime:
    """A moment in desk hours (hospital time) between ``lo`` and ``hi``, or just before
    ``hi`` when no desk hours fall between them."""
    rng, zone = ctx.rng, ctx.runtime.hospital.zone
    first, last = lo.astimezone(zone).date(), hi.astimezone(zone).date()
    for _attempt in range(6):
        day = first + timedelta(days=rng.randint(0, (last - first).days))
        opens = datetime.combine(day, OPENS, zone)
        minutes = (datetime.combine(day, CLOSES, zone) - opens).seconds // 60
        at = opens + timedelta(minutes=rng.randint(0, minutes), seconds=rng.randint(0, 59))
        if lo <= at <= hi:
            return at
    return max(lo, hi - timedelta(minutes=rng.randint(10, 90)))


def seed(ctx: SeedContext) -> None:
    """Register ``SHARE`` of the patients in the last ``DAYS`` days (see the docstring)."""
    hospital = ctx.runtime.hospital
    now = hospital.now()
    start = hospital.day_bounds(hospital.today() - timedelta(days=DAYS))[0]
    with ctx.session_factory() as session:
        done = session.execute(
            text("SELECT 1 FROM patients WHERE created_at >= :lo AND created_at < :hi LIMIT 1"),
            {"lo": start, "hi": now - timedelta(hours=1)},
        ).first()
        patients = list(session.scalars(text("SELECT id FROM patients ORDER BY id")))
        first = first_activity(session, hospital.zone)
    if done is not None or not patients:
        return
    # Registered before anything happened to them, with a day's room inside the window.
    eligible = [p for p in patients if first.get(p, now) > start + timedelta(days=1)]
    chosen = sorted(ctx.rng.sample(eligible, min(len(eligible), round(SHARE * len(patients)))))
    rows = []
    for patient in chosen:
        before = min(first.get(patient, now), now) - timedelta(hours=1)
        at = _office_hours_between(ctx, start, before)
        rows.append({"pid": patient, "at": at})
    if rows:
        patients_table = Patient.__table__
        with ctx.session_factory() as session, session.begin():
            session.execute(  # one statement, executed for each row
                update(patients_table)
                .where(patients_table.c.id == bindparam("pid"))
                .values(created_at=bindparam("at"), updated_at=bindparam("at")),
                rows,
            )
    log.info(
        "registrations: %d of %d patients registered in the last %d days",
        len(rows),
        len(patients),
        DAYS,
    )
