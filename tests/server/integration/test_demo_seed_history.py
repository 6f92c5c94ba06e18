"""The demo's seeded history reads like real care: visits over past months in clinic hours,
each entry stamped when it happened and naming its author, every past visit closed, patients
registered over the years (not all in the minute the seed ran) and nobody cared for before
they registered (the share registered in the last eight weeks: test_reports_demo_history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from hms_server.bootstrap import build_runtime
from hms_server.seed.demo import seed_demo
from hms_server.seed.registrations import first_activity


def test_seeded_history_has_real_times_authors_and_closed_visits(fresh_db):
    runtime = build_runtime(fresh_db.settings(), as_owner=True, pool_size=2)
    started = datetime.now(UTC)
    try:
        seed_demo(runtime, patients=24)  # scheduling books from 20
    finally:
        runtime.close()
    today = started.date()
    with fresh_db.owner_engine.connect() as conn:
        # No month-old visit left "in progress"; only a patient still on a ward (an open
        # admission) has an encounter that began before today and goes on.
        stuck = conn.execute(
            text(
                "SELECT count(*) FROM encounters e WHERE e.status = 'in_progress' "
                "AND e.started_at < :today AND NOT EXISTS (SELECT 1 FROM admissions a "
                "WHERE a.encounter_id = e.id AND a.status = 'admitted')"
            ),
            {"today": today},
        ).scalar_one()
        assert stuck == 0
        for table, column in (
            ("clinical_notes", "created_at"),
            ("vital_signs", "recorded_at"),
            ("prescriptions", "created_at"),
            ("lab_results", "resulted_at"),
            ("problems", "recorded_at"),
            ("patients", "created_at"),
        ):
            span = conn.execute(
                text(f"SELECT min({column}), max({column}), count(*) FROM {table}")
            ).one()
            assert span[2] > 0, table
            assert span[1] - span[0] > timedelta(days=20), f"{table} all stamped at once"
            assert span[0] < started - timedelta(days=14), table
        # Notes are written in the clinic visit they belong to (a ward stay's notes run
        # through the stay, from admission on).
        off = conn.execute(
            text(
                "SELECT count(*) FROM clinical_notes n JOIN encounters e ON e.id = n.encounter_id "
                "WHERE n.created_at < e.started_at OR (e.kind <> 'inpatient' AND n.created_at > "
                "e.started_at + interval '1 hour')"
            )
        ).scalar_one()
        assert off == 0
        # Every timeline source row names who recorded it.
        anonymous = conn.execute(
            text(
                "SELECT count(*) FROM clinical_notes n "
                "LEFT JOIN users u ON u.id = n.author_user_id "
                "WHERE u.full_name IS NULL"
            )
        ).scalar_one()
        assert anonymous == 0
        # Every seeded prescription is dosed as its form is (no inhaler "1 tablet by mouth").
        misdosed = conn.execute(
            text(
                "SELECT d.generic_name, d.form, i.unit, i.route FROM prescription_items i "
                "JOIN drugs d ON d.id = i.drug_id WHERE d.form NOT IN ('tablet', 'capsule') "
                "AND i.unit IN ('tablet', 'capsule')"
            )
        ).all()
        assert misdosed == []
        # The first-day screens have something to show.
        counts = {
            table: conn.execute(text(query)).scalar_one()
            for table, query in (
                ("waitlist", "SELECT count(*) FROM waitlist_entries WHERE status = 'waiting'"),
                ("offered", "SELECT count(*) FROM waitlist_entries WHERE status = 'offered'"),
                ("flags", "SELECT count(*) FROM patient_duplicate_flags WHERE status = 'open'"),
                ("grants", "SELECT count(*) FROM break_glass_grants WHERE reviewed_at IS NULL"),
                ("unregistered", "SELECT count(*) FROM doctors WHERE registration_number IS NULL"),
                (
                    "offer_messages",
                    "SELECT count(*) FROM messages WHERE template = 'waitlist_offer'",
                ),
            )
        }
        assert counts["waitlist"] >= 4 and counts["offered"] == 1, counts
        assert counts["flags"] >= 1 and counts["grants"] == 1, counts
        assert counts["unregistered"] == 0 and counts["offer_messages"] >= 1, counts
    # Nobody was seen, booked, admitted or prescribed for before they registered.
    with Session(fresh_db.owner_engine) as session:
        first = first_activity(session, runtime.hospital.zone)
        registered = dict(session.execute(text("SELECT id, created_at FROM patients")).all())
    early = {p: (registered[p], at) for p, at in first.items() if at < registered[p]}
    assert early == {}
