"""The demo's report history: eight weeks of past clinics and ward stays that obey the
database's own rules (no double-booked doctor or patient, no shared bed, unique tokens),
are all in the past, and make the default "last 30 days" reports show real figures."""

from __future__ import annotations

from datetime import timedelta
from random import Random

from sqlalchemy import text
from sqlalchemy.orm import Session

from hms_server.adapters.uow import Actor
from hms_server.bootstrap import build_runtime
from hms_server.seed import registrations, reports_history
from hms_server.seed.demo import SeedContext
from hms_server.services import reports, wards
from tests.server.scheduling_factories import make_doctor, make_patient


def test_history_fills_the_last_weeks_and_keeps_every_rule(fresh_db):
    settings = fresh_db.settings()
    runtime = build_runtime(settings, as_owner=True, pool_size=2)
    try:
        owner = fresh_db.owner_session_factory()
        doctors = [make_doctor(owner, settings) for _ in range(3)]
        for _ in range(30):
            make_patient(owner, settings)
        # Files opened years ago, as the patients seed leaves them.
        with fresh_db.owner_engine.begin() as conn:
            conn.execute(text("UPDATE patients SET created_at = now() - interval '900 days'"))
        uow = runtime.uow(Actor.system("tests"))
        ward = wards.create_ward(
            uow,
            code="HIST",
            name="History",
            ward_class="general",
            gender_policy="mixed",
            mar_window_minutes=60,
        )
        room = wards.add_room(
            runtime.uow(Actor.system("tests")), ward.id, label="R1", gender_policy="mixed"
        )
        for n in range(6):
            wards.add_bed(
                runtime.uow(Actor.system("tests")),
                room_id=room.id,
                label=f"{n}",
                bed_type="standard",
            )
        ctx = SeedContext(runtime, 30, Random(7))
        registrations.seed(ctx)
        registrations.seed(ctx)  # idempotent: nobody moves twice
        reports_history.seed(ctx)
        reports_history.seed(ctx)  # idempotent: the second run adds nothing

        today = runtime.hospital.today()
        start = today - timedelta(days=29)
        since = runtime.hospital.day_bounds(start)[0]
        activity = reports.activity(
            runtime.uow(Actor.system("tests")), start=start, end=today, grouping="week"
        )
        inpatient = reports.inpatient(
            runtime.uow(Actor.system("tests")), start=start, end=today, grouping="week"
        )
        flow = reports.clinic_flow(
            runtime.uow(Actor.system("tests")), start=start, end=today, grouping="week"
        )
    finally:
        runtime.close()

    totals = activity["totals"]
    # round(12 % of 30) registered in the eight weeks, so some in the last 30 days; the report
    # counts them (it showed 1 when every demo patient registered years ago).
    with fresh_db.owner_engine.connect() as conn:
        recent = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE created_at >= now() - interval '57 days'), "
                "count(*) FILTER (WHERE created_at >= :since) FROM patients"
            ),
            {"since": since},
        ).one()
    assert recent[0] == round(registrations.SHARE * 30) == 4, recent
    assert totals["registrations"] == recent[1] >= 1, (totals, recent)
    # ... and nobody was booked or admitted before they registered.
    with Session(fresh_db.owner_engine) as session:
        first = registrations.first_activity(session, runtime.hospital.zone)
        registered = dict(session.execute(text("SELECT id, created_at FROM patients")).all())
    assert {p for p, at in first.items() if at < registered[p]} == set()
    # 3 doctors x 5-9 patients x ~25 clinic days in the last 30.
    assert 3 * 5 * 22 <= totals["booked"] <= 3 * 9 * 26
    assert totals["completed"] > totals["no_show"] > 0
    assert totals["cancelled"] > 0
    assert flow["totals"]["patients"] == totals["completed"]
    assert flow["totals"]["wait_median_min"] > 0
    assert inpatient["totals"]["discharges"] > 5
    assert 20 <= inpatient["totals"]["occupancy_pct"] <= 100
    assert {d.id for d in doctors} == {r["doctor_id"] for r in activity["by_doctor"]}
    with fresh_db.owner_engine.connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM appointments WHERE starts_at >= date_trunc('day', "
                "now())), (SELECT count(*) FROM queue_entries q JOIN appointments a ON "
                "a.id = q.appointment_id WHERE a.status <> 'completed'), (SELECT count(*) FROM "
                "admissions WHERE discharged_at > now())"
            )
        ).one()
    assert tuple(counts) == (0, 0, 0)  # all in the past; a queue entry only for a visit seen
