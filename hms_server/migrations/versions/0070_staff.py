"""staff and HR: staff records, duty shifts (no overlaps per person), leave requests, payroll
settings, monthly pay runs with payslips (immutable once final), performance reviews.

Revision ID: 0070
Revises: 0060
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0070"
down_revision: str | None = "0060"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FINAL_IS_FINAL = """
CREATE FUNCTION staff_pay_run_final_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    run_status text;
BEGIN
    IF TG_TABLE_NAME = 'pay_runs' THEN
        run_status := OLD.status;
    ELSE
        SELECT status INTO run_status FROM pay_runs
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.pay_run_id ELSE OLD.pay_run_id END;
    END IF;
    IF run_status = 'final' THEN
        RAISE EXCEPTION 'pay run is final'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pay_run_final';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "payroll_settings",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("night_shift_allowance", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("income_tax_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("pension_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_payroll_settings_single_row")),
        sa.CheckConstraint(
            "income_tax_percent BETWEEN 0 AND 100", name=op.f("ck_payroll_settings_tax_range")
        ),
        sa.CheckConstraint(
            "night_shift_allowance >= 0", name=op.f("ck_payroll_settings_allowance_not_negative")
        ),
        sa.CheckConstraint(
            "pension_percent BETWEEN 0 AND 100", name=op.f("ck_payroll_settings_pension_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payroll_settings")),
    )
    op.create_table(
        "pay_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finalised_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'final') = (finalised_at IS NOT NULL)",
            name=op.f("ck_pay_runs_final_stamped"),
        ),
        sa.CheckConstraint("status IN ('draft','final')", name=op.f("ck_pay_runs_status_code")),
        sa.CheckConstraint("extract(day from period) = 1", name=op.f("ck_pay_runs_first_of_month")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_pay_runs_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["finalised_by_user_id"],
            ["users.id"],
            name=op.f("fk_pay_runs_finalised_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_runs")),
        sa.UniqueConstraint("period", name=op.f("uq_pay_runs_period")),
    )
    op.create_table(
        "staff_members",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("employee_number", sa.String(length=20), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=120), nullable=False),
        sa.Column("department_id", sa.BigInteger(), nullable=False),
        sa.Column("employment_type", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("base_monthly_salary", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "employment_type IN ('full_time','part_time','contract','locum')",
            name=op.f("ck_staff_members_employment_type"),
        ),
        sa.CheckConstraint(
            "base_monthly_salary >= 0", name=op.f("ck_staff_members_salary_not_negative")
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= hire_date", name=op.f("ck_staff_members_date_order")
        ),
        sa.CheckConstraint(
            "length(btrim(full_name)) > 0", name=op.f("ck_staff_members_name_present")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_staff_members_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_staff_members_employee_number")),
        sa.UniqueConstraint("user_id", name=op.f("uq_staff_members_user_id")),
    )
    op.create_index(
        op.f("ix_staff_members_department_id"), "staff_members", ["department_id"], unique=False
    )
    op.create_index(
        "ix_staff_members_full_name_lower",
        "staff_members",
        [sa.literal_column("lower(full_name)")],
        unique=False,
    )
    op.create_table(
        "leave_requests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_user_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status IN ('pending','cancelled')) = (decided_at IS NULL)",
            name=op.f("ck_leave_requests_decision_recorded"),
        ),
        sa.CheckConstraint(
            "kind IN ('annual','sick','unpaid','maternity','paternity','study','compassionate')",
            name=op.f("ck_leave_requests_kind_code"),
        ),
        sa.CheckConstraint(
            "status IN ('pending','approved','declined','cancelled')",
            name=op.f("ck_leave_requests_status_code"),
        ),
        sa.CheckConstraint(
            "decided_by_user_id IS NULL OR decided_by_user_id IS DISTINCT FROM staff_user_id",
            name=op.f("ck_leave_requests_not_self_decided"),
        ),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_leave_requests_date_order")),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_leave_requests_decided_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_user_id"],
            ["users.id"],
            name=op.f("fk_leave_requests_requested_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_leave_requests_staff_id_staff_members"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["users.id"], name=op.f("fk_leave_requests_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_requests")),
    )
    op.create_index(
        op.f("ix_leave_requests_staff_id"), "leave_requests", ["staff_id"], unique=False
    )
    op.create_table(
        "payslips",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("pay_run_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("employee_number", sa.String(length=20), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=120), nullable=False),
        sa.Column("department_name", sa.String(length=100), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("days_paid", sa.Integer(), nullable=False),
        sa.Column("days_in_period", sa.Integer(), nullable=False),
        sa.Column("monthly_salary", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("base_pay", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("night_shifts", sa.Integer(), nullable=False),
        sa.Column("night_shift_rate", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("night_allowance", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("gross_pay", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("income_tax_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("income_tax", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("pension_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("pension", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("net_pay", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint(
            "days_paid BETWEEN 0 AND days_in_period", name=op.f("ck_payslips_days_range")
        ),
        sa.CheckConstraint(
            "gross_pay = base_pay + night_allowance", name=op.f("ck_payslips_gross_adds_up")
        ),
        sa.CheckConstraint(
            "net_pay = gross_pay - income_tax - pension", name=op.f("ck_payslips_net_adds_up")
        ),
        sa.CheckConstraint("night_shifts >= 0", name=op.f("ck_payslips_night_shifts_not_negative")),
        sa.ForeignKeyConstraint(
            ["pay_run_id"], ["pay_runs.id"], name=op.f("fk_payslips_pay_run_id_pay_runs")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_payslips_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payslips")),
        sa.UniqueConstraint("pay_run_id", "staff_id", name="uq_payslips_run_staff"),
    )
    op.create_index(op.f("ix_payslips_staff_id"), "payslips", ["staff_id"], unique=False)
    op.create_table(
        "performance_reviews",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("strengths", sa.String(length=2000), nullable=False),
        sa.Column("goals", sa.String(length=2000), nullable=False),
        sa.Column("reviewer_user_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'final') = (finalised_at IS NOT NULL)",
            name=op.f("ck_performance_reviews_final_stamped"),
        ),
        sa.CheckConstraint(
            "status IN ('draft','final')", name=op.f("ck_performance_reviews_status_code")
        ),
        sa.CheckConstraint(
            "period_start <= period_end", name=op.f("ck_performance_reviews_period_order")
        ),
        sa.CheckConstraint(
            "rating BETWEEN 1 AND 5", name=op.f("ck_performance_reviews_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"],
            ["users.id"],
            name=op.f("fk_performance_reviews_reviewer_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_performance_reviews_staff_id_staff_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_reviews")),
        sa.UniqueConstraint(
            "staff_id", "period_start", "period_end", name="uq_performance_reviews_period"
        ),
    )
    op.create_table(
        "staff_shifts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("ward_id", sa.BigInteger(), nullable=True),
        sa.Column("department_id", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("staff_id"), "="),
            (sa.text("tstzrange(starts_at, ends_at, '[)')"), "&&"),
            using="gist",
            name="ex_staff_shifts_no_overlap",
        ),
        sa.CheckConstraint(
            "ends_at - starts_at <= interval '24 hours'", name=op.f("ck_staff_shifts_at_most_a_day")
        ),
        sa.CheckConstraint(
            "kind IN ('day','evening','night','on_call')", name=op.f("ck_staff_shifts_kind_code")
        ),
        sa.CheckConstraint(
            "num_nonnulls(ward_id, department_id) = 1", name=op.f("ck_staff_shifts_one_place")
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_staff_shifts_time_order")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_shifts_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_staff_shifts_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_staff_shifts_staff_id_staff_members")
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_staff_shifts_ward_id_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_shifts")),
    )
    op.create_index(
        op.f("ix_staff_shifts_department_id"), "staff_shifts", ["department_id"], unique=False
    )
    op.create_index(op.f("ix_staff_shifts_staff_id"), "staff_shifts", ["staff_id"], unique=False)
    op.create_index("ix_staff_shifts_starts_at", "staff_shifts", ["starts_at"], unique=False)
    op.create_index(op.f("ix_staff_shifts_ward_id"), "staff_shifts", ["ward_id"], unique=False)
    # The rates payroll starts from; HR changes them with PUT /payroll/settings.
    op.execute(
        "INSERT INTO payroll_settings (id, night_shift_allowance, income_tax_percent,"
        " pension_percent, version) VALUES (1, 40.00, 20.00, 5.00, 1)"
    )
    # A finalised pay run and its payslips are the record of what was paid: never changed.
    op.execute(_FINAL_IS_FINAL)
    op.execute(
        "CREATE TRIGGER pay_runs_final_is_final BEFORE UPDATE OR DELETE ON pay_runs"
        " FOR EACH ROW EXECUTE FUNCTION staff_pay_run_final_is_final()"
    )
    op.execute(
        "CREATE TRIGGER payslips_final_is_final BEFORE INSERT OR UPDATE OR DELETE ON payslips"
        " FOR EACH ROW EXECUTE FUNCTION staff_pay_run_final_is_final()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS payslips_final_is_final ON payslips")
    op.execute("DROP TRIGGER IF EXISTS pay_runs_final_is_final ON pay_runs")
    op.execute("DROP FUNCTION IF EXISTS staff_pay_run_final_is_final()")
    op.drop_index(op.f("ix_staff_shifts_ward_id"), table_name="staff_shifts")
    op.drop_index("ix_staff_shifts_starts_at", table_name="staff_shifts")
    op.drop_index(op.f("ix_staff_shifts_staff_id"), table_name="staff_shifts")
    op.drop_index(op.f("ix_staff_shifts_department_id"), table_name="staff_shifts")
    op.drop_table("staff_shifts")
    op.drop_table("performance_reviews")
    op.drop_index(op.f("ix_payslips_staff_id"), table_name="payslips")
    op.drop_table("payslips")
    op.drop_index(op.f("ix_leave_requests_staff_id"), table_name="leave_requests")
    op.drop_table("leave_requests")
    op.drop_index("ix_staff_members_full_name_lower", table_name="staff_members")
    op.drop_index(op.f("ix_staff_members_department_id"), table_name="staff_members")
    op.drop_table("staff_members")
    op.drop_table("pay_runs")
    op.drop_table("payroll_settings")
