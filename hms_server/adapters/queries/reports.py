"""Read-side aggregates for the management reports, one SQL statement per table of a report.

Everything is counted, summed and ranked by PostgreSQL (``FILTER``, ``GROUPING SETS``,
``percentile_cont``), so a report over two years of a large hospital moves a few hundred
rows to Python, never the facts themselves. Days are hospital-calendar days: timestamps are
converted with ``AT TIME ZONE :tz`` and periods are ``[lo, hi)`` instants from
``Hospital.day_bounds``. A bucket is the first day of its day/week/month, never earlier than
the period's first day (so a week bucket of a period starting on a Wednesday starts then).

Where another area already answers a question (receivables ageing from billing, waste and
stock valuation from the pharmacy) this module asks that area's query instead of copying it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from hms_server.adapters.queries.billing import ar_ageing
from hms_server.adapters.queries.pharmacy import StockQueries

Row = dict[str, Any]
SORT_MEMORY = "64MB"  # per sort of the clinic-flow percentiles, for this transaction only


@dataclass(frozen=True)
class Window:
    """A report's period: local days ``start``..``end`` and the instants ``[lo, hi)`` that
    bound them; ``now`` caps midnights that have not happened yet."""

    start: date
    end: date
    lo: datetime
    hi: datetime
    now: datetime
    tz: str
    grouping: str

    def params(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "lo": self.lo,
            "hi": self.hi,
            "now": self.now,
            "tz": self.tz,
            "g": self.grouping,
        }


def _bucket(day_sql: str) -> str:
    """SQL for the bucket of a local ``date`` expression (clamped to the period's start)."""
    return (
        f"GREATEST(CAST(date_trunc(:g, CAST({day_sql} AS timestamp)) AS date), "
        "CAST(:start AS date))"
    )


def _local_day(ts_sql: str) -> str:
    return f"CAST(({ts_sql}) AT TIME ZONE :tz AS date)"


_DAYS = """
    SELECT CAST(d AS date) AS day
      FROM generate_series(CAST(:start AS timestamp), CAST(:end AS timestamp),
                           interval '1 day') d
"""

_BUCKETS = f"SELECT DISTINCT {_bucket('day')} AS bucket_start FROM ({_DAYS}) days"  # noqa: S608

_APPOINTMENT_COUNTS = """
    count(*) AS booked,
    count(*) FILTER (WHERE a.status = 'completed') AS completed,
    count(*) FILTER (WHERE a.status = 'cancelled') AS cancelled,
    count(*) FILTER (WHERE a.status = 'no_show') AS no_show
"""

_ACTIVITY_SERIES = text(f"""
    WITH buckets AS ({_BUCKETS}),
    appts AS (
        SELECT {_bucket(_local_day("a.starts_at"))} AS bucket_start, {_APPOINTMENT_COUNTS}
          FROM appointments a
         WHERE a.starts_at >= :lo AND a.starts_at < :hi
         GROUP BY 1
    ),
    regs AS (
        SELECT {_bucket(_local_day("p.created_at"))} AS bucket_start, count(*) AS registrations
          FROM patients p
         WHERE p.created_at >= :lo AND p.created_at < :hi
         GROUP BY 1
    )
    SELECT b.bucket_start,
           coalesce(r.registrations, 0) AS registrations,
           coalesce(a.booked, 0) AS booked, coalesce(a.completed, 0) AS completed,
           coalesce(a.cancelled, 0) AS cancelled, coalesce(a.no_show, 0) AS no_show
      FROM buckets b
      LEFT JOIN appts a ON a.bucket_start = b.bucket_start
      LEFT JOIN regs r ON r.bucket_start = b.bucket_start
     ORDER BY b.bucket_start
""")  # noqa: S608 - fixed fragments, values bound

# Appointments are counted per doctor from the appointments alone (an index-only scan of
# ``ix_appointments_start_report``), then the few per-doctor rows meet doctors and
# departments, and the department totals are sums of those.
_ACTIVITY_BY_DOCTOR = text(f"""
    WITH per_doctor AS (
        SELECT a.doctor_id, {_APPOINTMENT_COUNTS}
          FROM appointments a
         WHERE a.starts_at >= :lo AND a.starts_at < :hi
         GROUP BY a.doctor_id
    )
    SELECT dep.id AS department_id, dep.name AS department_name,
           d.id AS doctor_id, d.display_name AS doctor_name,
           GROUPING(d.id, d.display_name) AS department_total,
           CAST(sum(p.booked) AS bigint) AS booked,
           CAST(sum(p.completed) AS bigint) AS completed,
           CAST(sum(p.cancelled) AS bigint) AS cancelled,
           CAST(sum(p.no_show) AS bigint) AS no_show
      FROM per_doctor p
      JOIN doctors d ON d.id = p.doctor_id
      JOIN departments dep ON dep.id = d.department_id
     GROUP BY GROUPING SETS ((dep.id, dep.name, d.id, d.display_name), (dep.id, dep.name))
     ORDER BY dep.name, dep.id, department_total DESC, d.display_name, d.id
""")  # noqa: S608 - fixed fragments, values bound

_CLINIC_FLOW = text(f"""
    WITH visits AS (
        SELECT d.department_id, {_bucket("q.queue_date")} AS bucket_start,
               EXTRACT(EPOCH FROM coalesce(q.called_at, q.started_at) - q.checked_in_at) / 60
                   AS wait,
               EXTRACT(EPOCH FROM q.completed_at - q.started_at) / 60 AS consult
          FROM queue_entries q
          JOIN doctors d ON d.id = q.doctor_id
         WHERE q.queue_date BETWEEN :start AND :end
    )
    SELECT v.department_id, dep.name AS department_name, v.bucket_start,
           GROUPING(v.department_id, dep.name) AS is_total,
           GROUPING(v.bucket_start) AS is_department,
           count(*) AS patients,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY v.wait) AS wait_median_min,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY v.wait) AS wait_p90_min,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY v.consult) AS consult_median_min,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY v.consult) AS consult_p90_min
      FROM visits v
      JOIN departments dep ON dep.id = v.department_id
     GROUP BY GROUPING SETS ((v.department_id, dep.name, v.bucket_start),
                             (v.department_id, dep.name), ())
     ORDER BY is_total, dep.name, v.department_id, is_department DESC, v.bucket_start
""")  # noqa: S608 - fixed fragments, values bound

# A midnight counts when it has happened (<= now). Each stay that overlaps the period is
# expanded into the local days it may have spent a midnight in (a few per stay), and each
# is checked exactly — so the work grows with bed-nights, not with days × stays.
_OCCUPANCY = text(f"""
    WITH midnights AS (
        SELECT day, CAST(day AS timestamp) AT TIME ZONE :tz AS at FROM ({_DAYS}) days
    ),
    counted AS (SELECT day, at FROM midnights WHERE at <= :now),
    bed_count AS (SELECT ward_id, count(*) AS beds FROM beds GROUP BY ward_id),
    stays AS (
        SELECT ward_id, started_at, ended_at FROM bed_stays
         WHERE started_at < :hi AND (ended_at IS NULL OR ended_at > :lo)
    ),
    occupied AS (
        SELECT s.ward_id, d.day, count(*) AS occupied
          FROM stays s
          CROSS JOIN LATERAL (
              SELECT CAST(g AS date) AS day
                FROM generate_series(
                       CAST(greatest({_local_day("s.started_at")}, CAST(:start AS date))
                            AS timestamp),
                       CAST(least({_local_day("coalesce(s.ended_at, :now)")},
                                  CAST(:end AS date)) AS timestamp),
                       interval '1 day') g
          ) d
         WHERE s.started_at <= CAST(d.day AS timestamp) AT TIME ZONE :tz
           AND (s.ended_at IS NULL OR s.ended_at > CAST(d.day AS timestamp) AT TIME ZONE :tz)
           AND CAST(d.day AS timestamp) AT TIME ZONE :tz <= :now
         GROUP BY s.ward_id, d.day
    )
    SELECT w.id AS ward_id, w.code AS ward_code, w.name AS ward_name,
           {_bucket("c.day")} AS bucket_start,
           GROUPING(w.id, w.code, w.name) AS is_total,
           GROUPING({_bucket("c.day")}) AS is_ward,
           coalesce(sum(coalesce(bc.beds, 0)) / greatest(count(DISTINCT c.day), 1), 0)
               AS beds,
           coalesce(sum(coalesce(bc.beds, 0)), 0) AS bed_nights,
           coalesce(sum(o.occupied), 0) AS occupied_midnights
      FROM wards w
      LEFT JOIN bed_count bc ON bc.ward_id = w.id
      CROSS JOIN counted c
      LEFT JOIN occupied o ON o.ward_id = w.id AND o.day = c.day
     WHERE w.active
     GROUP BY GROUPING SETS ((w.id, w.code, w.name, {_bucket("c.day")}), (w.id, w.code, w.name), ())
     ORDER BY is_total, w.code, is_ward DESC, 4
""")  # noqa: S608 - fixed fragments, values bound

_MOVEMENTS = text(f"""
    WITH moves AS (
        SELECT a.id,
               (a.admitted_at >= :lo AND a.admitted_at < :hi) AS admitted,
               (a.status = 'discharged' AND a.discharged_at >= :lo AND a.discharged_at < :hi)
                   AS discharged,
               {_local_day("a.discharged_at")} - {_local_day("a.admitted_at")} AS los_days,
               first_stay.ward_id AS first_ward_id, last_stay.ward_id AS last_ward_id
          FROM admissions a
          LEFT JOIN LATERAL (SELECT s.ward_id FROM bed_stays s WHERE s.admission_id = a.id
                              ORDER BY s.started_at LIMIT 1) first_stay ON true
          LEFT JOIN LATERAL (SELECT s.ward_id FROM bed_stays s WHERE s.admission_id = a.id
                              ORDER BY s.started_at DESC LIMIT 1) last_stay ON true
         WHERE a.status <> 'cancelled'
           AND ((a.admitted_at >= :lo AND a.admitted_at < :hi)
                OR (a.discharged_at >= :lo AND a.discharged_at < :hi))
    ),
    per_ward AS (
        SELECT first_ward_id AS ward_id, 1 AS admissions, 0 AS discharges, NULL AS los_days
          FROM moves WHERE admitted
        UNION ALL
        SELECT last_ward_id, 0, 1, los_days FROM moves WHERE discharged
    )
    SELECT ward_id, GROUPING(ward_id) AS is_total,
           sum(admissions) AS admissions, sum(discharges) AS discharges,
           avg(los_days) AS average_los_days
      FROM per_ward
     GROUP BY GROUPING SETS ((ward_id), ())
""")  # noqa: S608 - fixed fragments, values bound

_NOT_BILLED = "('draft', 'void')"

_REVENUE_SERIES = text(f"""
    WITH buckets AS ({_BUCKETS}),
    invoiced AS (
        SELECT {_bucket("i.issued_on")} AS bucket_start, sum(i.total) AS invoiced
          FROM invoices i
         WHERE i.status NOT IN {_NOT_BILLED} AND i.issued_on BETWEEN :start AND :end
         GROUP BY 1
    ),
    collected AS (
        SELECT {_bucket(_local_day("p.received_at"))} AS bucket_start,
               sum(CASE WHEN p.kind = 'refund' THEN -p.amount ELSE p.amount END) AS collected
          FROM payments p
         WHERE p.received_at >= :lo AND p.received_at < :hi
         GROUP BY 1
    )
    SELECT b.bucket_start, coalesce(i.invoiced, 0) AS invoiced,
           coalesce(c.collected, 0) AS collected
      FROM buckets b
      LEFT JOIN invoiced i ON i.bucket_start = b.bucket_start
      LEFT JOIN collected c ON c.bucket_start = b.bucket_start
     ORDER BY b.bucket_start
""")  # noqa: S608 - fixed fragments, values bound

_INVOICE_COUNT = text(f"""
    SELECT count(*) AS invoices, coalesce(sum(total), 0) AS invoiced FROM invoices
     WHERE status NOT IN {_NOT_BILLED} AND issued_on BETWEEN :start AND :end
""")  # noqa: S608 - fixed fragments, values bound

# One pass over the period's invoice lines answers both breakdowns (``by_department`` = 1
# marks the department rows).
_REVENUE_BY_LINE = text(f"""
    SELECT l.category, dep.id AS department_id, dep.name AS department_name,
           GROUPING(l.category) AS by_department, count(*) AS lines, sum(l.total) AS invoiced
      FROM invoice_lines l
      JOIN invoices i ON i.id = l.invoice_id
      LEFT JOIN charges c ON c.id = l.charge_id
      LEFT JOIN price_items pi ON pi.id = c.price_item_id
      LEFT JOIN departments dep ON dep.id = pi.department_id
     WHERE i.status NOT IN {_NOT_BILLED} AND i.issued_on BETWEEN :start AND :end
     GROUP BY GROUPING SETS ((l.category), (dep.id, dep.name))
     ORDER BY by_department, invoiced DESC, l.category, dep.name NULLS LAST
""")  # noqa: S608 - fixed fragments, values bound

_COLLECTED_BY_METHOD = text("""
    SELECT p.method,
           count(*) FILTER (WHERE p.kind <> 'refund') AS receipts,
           coalesce(sum(p.amount) FILTER (WHERE p.kind <> 'refund'), 0) AS received,
           coalesce(sum(p.amount) FILTER (WHERE p.kind = 'refund'), 0) AS refunded
      FROM payments p
     WHERE p.received_at >= :lo AND p.received_at < :hi
     GROUP BY p.method
     ORDER BY p.method
""")

_DISPENSING_SERIES = text(f"""
    WITH buckets AS ({_BUCKETS}),
    lines AS (
        SELECT {_bucket(_local_day("d.dispensed_at"))} AS bucket_start,
               count(DISTINCT d.id) AS dispenses, count(l.id) AS lines,
               coalesce(sum((l.quantity - l.returned_quantity) * l.unit_cost), 0) AS value
          FROM dispenses d JOIN dispense_lines l ON l.dispense_id = d.id
         WHERE d.dispensed_at >= :lo AND d.dispensed_at < :hi
         GROUP BY 1
    )
    SELECT b.bucket_start, coalesce(l.dispenses, 0) AS dispenses,
           coalesce(l.lines, 0) AS lines, coalesce(l.value, 0) AS value
      FROM buckets b LEFT JOIN lines l ON l.bucket_start = b.bucket_start
     ORDER BY b.bucket_start
""")  # noqa: S608 - fixed fragments, values bound

_DISPENSING_TOTALS = text("""
    SELECT count(DISTINCT d.id) AS dispenses, count(l.id) AS lines,
           coalesce(sum((l.quantity - l.returned_quantity) * l.unit_cost), 0) AS value
      FROM dispenses d JOIN dispense_lines l ON l.dispense_id = d.id
     WHERE d.dispensed_at >= :lo AND d.dispensed_at < :hi
""")

_TOP_ITEMS = text("""
    SELECT l.item_id, i.name AS item_name, count(*) AS lines,
           sum(l.quantity - l.returned_quantity) AS quantity,
           sum((l.quantity - l.returned_quantity) * l.unit_cost) AS value
      FROM dispenses d
      JOIN dispense_lines l ON l.dispense_id = d.id
      JOIN stock_items i ON i.id = l.item_id
     WHERE d.dispensed_at >= :lo AND d.dispensed_at < :hi
     GROUP BY l.item_id, i.name
     ORDER BY value DESC, i.name
     LIMIT :limit
""")


class ReportQueries:
    """The reports' aggregates; reached with ``uow.repo(ReportQueries)``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, statement: Any, params: dict[str, Any]) -> list[Row]:
        return [dict(r._mapping) for r in self.session.execute(statement, params)]

    # -- activity ---------------------------------------------------------------------------
    def activity_series(self, w: Window) -> list[Row]:
        return self._rows(_ACTIVITY_SERIES, w.params())

    def activity_by_doctor(self, w: Window) -> list[Row]:
        """Rows per doctor plus one per department (``department_total`` = 1)."""
        return self._rows(_ACTIVITY_BY_DOCTOR, w.params())

    # -- clinic flow ------------------------------------------------------------------------
    def clinic_flow(self, w: Window) -> list[Row]:
        """Rows per department and bucket, per department (``is_department``) and one
        overall row (``is_total``). Percentiles sort every visit of the period: this
        transaction may sort in memory rather than spill to disk (4 MB by default)."""
        self.session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
        return self._rows(_CLINIC_FLOW, w.params())

    # -- inpatient --------------------------------------------------------------------------
    def occupancy(self, w: Window) -> list[Row]:
        """Rows per ward and bucket, per ward (``is_ward``) and overall (``is_total``)."""
        return self._rows(_OCCUPANCY, w.params())

    def admission_movements(self, w: Window) -> list[Row]:
        """Admissions and discharges per ward (``ward_id``) and overall (``is_total``)."""
        return self._rows(_MOVEMENTS, w.params())

    # -- revenue ----------------------------------------------------------------------------
    def revenue_series(self, w: Window) -> list[Row]:
        return self._rows(_REVENUE_SERIES, w.params())

    def invoice_totals(self, w: Window) -> Row:
        return self._rows(_INVOICE_COUNT, w.params())[0]

    def revenue_by_line(self, w: Window) -> tuple[list[Row], list[Row]]:
        """Invoiced by charge category, and by department (one pass over the lines)."""
        rows = self._rows(_REVENUE_BY_LINE, w.params())
        categories = [
            {k: r[k] for k in ("category", "lines", "invoiced")}
            for r in rows
            if not r["by_department"]
        ]
        departments = [
            {k: r[k] for k in ("department_id", "department_name", "lines", "invoiced")}
            for r in rows
            if r["by_department"]
        ]
        return categories, departments

    def collected_by_method(self, w: Window) -> list[Row]:
        return self._rows(_COLLECTED_BY_METHOD, w.params())

    def receivables_ageing(self, as_of: date) -> dict[str, tuple[Decimal, Decimal, int]]:
        """Billing's own ageing query (bucket → patients' part, payers' part, invoices)."""
        return ar_ageing(self.session, as_of)

    # -- pharmacy ---------------------------------------------------------------------------
    def dispensing_series(self, w: Window) -> list[Row]:
        return self._rows(_DISPENSING_SERIES, w.params())

    def dispensing_totals(self, w: Window) -> Row:
        return self._rows(_DISPENSING_TOTALS, w.params())[0]

    def top_items(self, w: Window, limit: int) -> list[Row]:
        return self._rows(_TOP_ITEMS, {**w.params(), "limit": limit})

    def waste(self, w: Window) -> list[Row]:
        """The pharmacy's waste report (month × reason, valued at unit cost)."""
        return StockQueries(self.session).waste_rows(
            start=w.lo, end=w.hi, tz=w.tz, location_id=None
        )

    def stock_valuation(self) -> list[Row]:
        """The pharmacy's stock valuation (location × balance status)."""
        return StockQueries(self.session).valuation_rows()
