"""The demo's HR data: every demo sign-in has its staff record with shifts in the next four
weeks, its own leave (one approved, one waiting) and final payslips (My work), the wards have
this week's roster, two colleagues' leave requests wait, the last two months are paid (final
runs, night shifts paid), reviews exist; and seeding again changes nothing."""

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
            # Two colleagues' requests wait, and one of each demo sign-in's own.
            assert (
                conn.execute(
                    text(
                        "SELECT count(*) FROM leave_requests WHERE status = 'pending'"
                        " AND staff_user_id IS NULL"
                    )
                ).scalar_one()
                == 2
            )
            # Every demo sign-in's My work is populated: shifts in the next four weeks, a
            # request waiting and one approved, and a final payslip.
            own = conn.execute(
                text(
                    "SELECT u.username,"
                    " (SELECT count(*) FROM staff_shifts sh WHERE sh.staff_id = s.id"
                    "   AND sh.starts_at >= now() AND sh.starts_at < now() + interval '28 days'),"
                    " (SELECT count(*) FROM leave_requests l WHERE l.staff_id = s.id"
                    "   AND l.status = 'pending'),"
                    " (SELECT count(*) FROM leave_requests l WHERE l.staff_id = s.id"
                    "   AND l.status = 'approved'),"
                    " (SELECT count(*) FROM payslips p JOIN pay_runs r ON r.id = p.pay_run_id"
                    "   WHERE p.staff_id = s.id AND r.status = 'final')"
                    " FROM users u JOIN staff_members s ON s.user_id = u.id"
                    " WHERE u.username = ANY(:names) ORDER BY u.username"
                ),
                {"names": [u[0] for u in DEMO_USERS]},
            ).all()
            assert len(own) == len(DEMO_USERS)
            for username, shifts, pending, approved, payslips in own:
                assert shifts >= 10, username
                assert (pending, approved) == (1, 1), username
                assert payslips == 2, username
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
