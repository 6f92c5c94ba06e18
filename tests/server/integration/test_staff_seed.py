"""The demo's HR data: every demo sign-in has its staff record, the wards have this week's
roster, two leave requests wait, the last two months are paid (final runs, night shifts
paid), reviews exist; and seeding again changes nothing."""

from __future__ import annotations

from sqlalchemy import text

from hms_server.bootstrap import build_runtime
from hms_server.seed.demo import DEMO_USERS, seed_demo


def _counts(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in ("staff_members", "staff_shifts", "leave_requests", "pay_runs", "payslips")
    }


def test_demo_hr_data_is_there_and_seeding_is_idempotent(fresh_db):
    runtime = build_runtime(fresh_db.settings(), as_owner=True, pool_size=2)
    try:
        seed_demo(runtime, patients=24)
        with fresh_db.owner_engine.connect() as conn:
            first = _counts(conn)
            unlinked = conn.execute(
                text(
                    "SELECT u.username FROM users u LEFT JOIN staff_members s ON s.user_id = u.id"
                    " WHERE s.id IS NULL AND u.username = ANY(:names)"
                ),
                {"names": [u[0] for u in DEMO_USERS]},
            ).all()
            assert unlinked == []
            assert first["staff_members"] >= len(DEMO_USERS) + 20
            this_week = conn.execute(
                text(
                    "SELECT count(*) FROM staff_shifts WHERE starts_at >= date_trunc('week', now())"
                    " AND starts_at < date_trunc('week', now()) + interval '7 days'"
                )
            ).scalar_one()
            assert this_week > 20
            assert (
                conn.execute(
                    text("SELECT count(*) FROM leave_requests WHERE status = 'pending'")
                ).scalar_one()
                == 2
            )
            runs = conn.execute(text("SELECT status FROM pay_runs ORDER BY period")).scalars().all()
            assert runs == ["final", "final"]
            assert (
                conn.execute(
                    text("SELECT count(*) FROM payslips WHERE night_shifts > 0")
                ).scalar_one()
                > 0
            )
            assert (
                conn.execute(
                    text("SELECT count(*) FROM performance_reviews WHERE status = 'final'")
                ).scalar_one()
                == 3
            )
        seed_demo(runtime, patients=24)
        with fresh_db.owner_engine.connect() as conn:
            assert _counts(conn) == first
    finally:
        runtime.close()
