"""Billing: price list, charges, invoices (lines, discounts, credit notes), payments with
allocations and receipts, patient accounts, approvals, cash-up sessions, card intents and
gateway webhook events, gapless document counters; insurance payers, plans, coverage rules,
policies, pre-authorisations, claim batches and claims.

The money invariants live in the database (see ``hms_server/adapters/orm/billing.py``); the
triggers below add what a CHECK cannot express: a finalised invoice and its lines are frozen,
a submitted cash-up is locked and takes no more payments.

Revision ID: 0010
Revises: 0030
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Raised as check_violation (23514) so the API answers 409 like any other broken rule.
TRIGGERS = """
CREATE FUNCTION hms_invoice_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    invoice_status text;
BEGIN
    SELECT status INTO invoice_status FROM invoices
     WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
    IF invoice_status IS NOT NULL AND invoice_status <> 'draft' THEN
        RAISE EXCEPTION 'invoice lines are frozen once the invoice is finalised'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_frozen';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;
CREATE TRIGGER trg_invoice_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION hms_invoice_lines_frozen();

CREATE FUNCTION hms_invoice_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'a finalised invoice cannot be deleted'
                  USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_frozen';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR (NEW.number, NEW.series, NEW.year, NEW.sequence, NEW.issued_on, NEW.subtotal,
            NEW.discount_total, NEW.tax_total, NEW.total, NEW.policy_id, NEW.copay,
            NEW.deductible, NEW.currency)
           IS DISTINCT FROM
           (OLD.number, OLD.series, OLD.year, OLD.sequence, OLD.issued_on, OLD.subtotal,
            OLD.discount_total, OLD.tax_total, OLD.total, OLD.policy_id, OLD.copay,
            OLD.deductible, OLD.currency)) THEN
        RAISE EXCEPTION 'a finalised invoice is immutable (issue a credit note)'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_frozen';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trg_invoice_frozen BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION hms_invoice_frozen();

CREATE FUNCTION hms_cash_session_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'submitted' THEN
        RAISE EXCEPTION 'a submitted cash-up is locked'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'cash_session_locked';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;
CREATE TRIGGER trg_cash_session_locked BEFORE UPDATE OR DELETE ON cash_sessions
    FOR EACH ROW EXECUTE FUNCTION hms_cash_session_locked();

CREATE FUNCTION hms_payment_session_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.cash_session_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM cash_sessions WHERE id = NEW.cash_session_id AND status <> 'open') THEN
        RAISE EXCEPTION 'the cash-up of this session was already submitted'
              USING ERRCODE = 'check_violation', CONSTRAINT = 'cash_session_locked';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trg_payment_session_open BEFORE INSERT OR UPDATE OF cash_session_id ON payments
    FOR EACH ROW EXECUTE FUNCTION hms_payment_session_open();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS trg_payment_session_open ON payments;
DROP FUNCTION IF EXISTS hms_payment_session_open();
DROP TRIGGER IF EXISTS trg_cash_session_locked ON cash_sessions;
DROP FUNCTION IF EXISTS hms_cash_session_locked();
DROP TRIGGER IF EXISTS trg_invoice_frozen ON invoices;
DROP FUNCTION IF EXISTS hms_invoice_frozen();
DROP TRIGGER IF EXISTS trg_invoice_lines_frozen ON invoice_lines;
DROP FUNCTION IF EXISTS hms_invoice_lines_frozen();
"""


def upgrade() -> None:
    op.create_table(
        "billing_counters",
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_billing_counters_last_number_positive")
        ),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_billing_counters")),
    )
    op.create_table(
        "gateway_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("gateway_intent_id", sa.String(length=64), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_gateway_events_event_id")),
    )
    op.create_table(
        "payers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payers")),
        sa.UniqueConstraint("code", name=op.f("uq_payers_code")),
    )
    op.create_table(
        "cash_sessions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("cashier_id", sa.BigInteger(), nullable=False),
        sa.Column("drawer", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("opening_float", sa.Numeric(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("counted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("variance", sa.Numeric(), nullable=True),
        sa.Column("variance_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'submitted') = (submitted_at IS NOT NULL)",
            name=op.f("ck_cash_sessions_submitted_when_done"),
        ),
        sa.CheckConstraint(
            "status IN ('open','submitted')", name=op.f("ck_cash_sessions_status_code")
        ),
        sa.CheckConstraint("opening_float >= 0", name=op.f("ck_cash_sessions_float_positive")),
        sa.ForeignKeyConstraint(
            ["cashier_id"], ["users.id"], name=op.f("fk_cash_sessions_cashier_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_sessions")),
    )
    op.create_index(
        "uq_cash_sessions_open_cashier",
        "cash_sessions",
        ["cashier_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "uq_cash_sessions_open_drawer",
        "cash_sessions",
        ["drawer"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "claim_batches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_claim_batches_payer_id_payers")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_claim_batches_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_batches")),
        sa.UniqueConstraint("number", name=op.f("uq_claim_batches_number")),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_claim_batches_series_number"),
    )
    op.create_table(
        "insurance_plans",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("copay", sa.Numeric(), nullable=False),
        sa.Column("deductible", sa.Numeric(), nullable=False),
        sa.Column("annual_limit", sa.Numeric(), nullable=True),
        sa.Column(
            "excluded_codes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "annual_limit IS NULL OR annual_limit > 0",
            name=op.f("ck_insurance_plans_limit_positive"),
        ),
        sa.CheckConstraint(
            "copay >= 0 AND deductible >= 0", name=op.f("ck_insurance_plans_money_positive")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_insurance_plans_payer_id_payers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurance_plans")),
        sa.UniqueConstraint("payer_id", "code", name="uq_insurance_plans_payer_code"),
    )
    op.create_table(
        "patient_accounts",
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.Numeric(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("credit >= 0", name=op.f("ck_patient_accounts_credit_positive")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_accounts_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_accounts")),
    )
    op.create_table(
        "price_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("unit_price", sa.Numeric(), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax_category", sa.String(length=24), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("department_id", sa.BigInteger(), nullable=True),
        sa.Column("lab_test_id", sa.Integer(), nullable=True),
        sa.Column("drug_id", sa.Integer(), nullable=True),
        sa.Column("ward_class", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("code"), "="),
            (sa.text("daterange(effective_from, effective_to, '[]')"), "&&"),
            using="gist",
            name="ex_price_items_code_period",
        ),
        postgresql.ExcludeConstraint(
            (sa.column("drug_id"), "="),
            (sa.text("daterange(effective_from, effective_to, '[]')"), "&&"),
            where=sa.text("drug_id IS NOT NULL AND active"),
            using="gist",
            name="ex_price_items_drug_period",
        ),
        postgresql.ExcludeConstraint(
            (sa.column("lab_test_id"), "="),
            (sa.text("daterange(effective_from, effective_to, '[]')"), "&&"),
            where=sa.text("lab_test_id IS NOT NULL AND active"),
            using="gist",
            name="ex_price_items_lab_test_period",
        ),
        postgresql.ExcludeConstraint(
            (sa.column("ward_class"), "="),
            (sa.text("daterange(effective_from, effective_to, '[]')"), "&&"),
            where=sa.text("ward_class IS NOT NULL AND active"),
            using="gist",
            name="ex_price_items_ward_class_period",
        ),
        sa.CheckConstraint(
            "ward_class IS NULL OR ward_class IN ('general','semi_private','private','icu')",
            name=op.f("ck_price_items_ward_class_code"),
        ),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_price_items_period_order"),
        ),
        sa.CheckConstraint(
            "tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_price_items_tax_rate_range")
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_price_items_unit_price_positive")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_price_items_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["drug_id"], ["drugs.id"], name=op.f("fk_price_items_drug_id_drugs")
        ),
        sa.ForeignKeyConstraint(
            ["lab_test_id"], ["lab_tests.id"], name=op.f("fk_price_items_lab_test_id_lab_tests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_items")),
    )
    op.create_index("ix_price_items_category", "price_items", ["category"], unique=False)
    op.create_index(
        "ix_price_items_department_id",
        "price_items",
        ["department_id"],
        unique=False,
        postgresql_where=sa.text("department_id IS NOT NULL"),
    )
    op.create_table(
        "patient_policies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("member_number", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("eligibility", sa.String(length=16), nullable=False),
        sa.Column("eligibility_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eligibility_note", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "eligibility IN ('unknown','eligible','not_eligible','error')",
            name=op.f("ck_patient_policies_eligibility_code"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_patient_policies_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_policies_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["insurance_plans.id"],
            name=op.f("fk_patient_policies_plan_id_insurance_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_policies")),
        sa.UniqueConstraint("plan_id", "member_number", name="uq_patient_policies_member"),
    )
    op.create_index(
        "ix_patient_policies_patient_id", "patient_policies", ["patient_id"], unique=False
    )
    op.create_table(
        "plan_coverage_rules",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.CheckConstraint(
            "percent >= 0 AND percent <= 100", name=op.f("ck_plan_coverage_rules_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["insurance_plans.id"],
            name=op.f("fk_plan_coverage_rules_plan_id_insurance_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "category", name=op.f("pk_plan_coverage_rules")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("admission_id", sa.BigInteger(), nullable=True),
        sa.Column("policy_id", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("finalised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalised_by", sa.BigInteger(), nullable=True),
        sa.Column("subtotal", sa.Numeric(), nullable=False),
        sa.Column("discount_total", sa.Numeric(), nullable=False),
        sa.Column("tax_total", sa.Numeric(), nullable=False),
        sa.Column("total", sa.Numeric(), nullable=False),
        sa.Column("payer_due", sa.Numeric(), nullable=False),
        sa.Column("patient_due", sa.Numeric(), nullable=False),
        sa.Column("copay", sa.Numeric(), nullable=False),
        sa.Column("deductible", sa.Numeric(), nullable=False),
        sa.Column("patient_paid", sa.Numeric(), nullable=False),
        sa.Column("payer_paid", sa.Numeric(), nullable=False),
        sa.Column("credited", sa.Numeric(), nullable=False),
        sa.Column("written_off", sa.Numeric(), nullable=False),
        sa.Column(
            "balance",
            sa.Numeric(),
            sa.Computed("patient_due + payer_due - patient_paid - payer_paid", persisted=True),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'draft') = (number IS NULL)", name=op.f("ck_invoices_number_when_final")
        ),
        sa.CheckConstraint(
            "status IN ('draft','finalised','partly_paid','paid','void')",
            name=op.f("ck_invoices_status_code"),
        ),
        sa.CheckConstraint(
            "(number IS NULL) = (sequence IS NULL) AND (number IS NULL) = (year IS NULL)",
            name=op.f("ck_invoices_number_parts"),
        ),
        sa.CheckConstraint(
            "patient_paid <= patient_due", name=op.f("ck_invoices_patient_not_overpaid")
        ),
        sa.CheckConstraint("payer_paid <= payer_due", name=op.f("ck_invoices_payer_not_overpaid")),
        sa.CheckConstraint(
            "subtotal >= 0 AND discount_total >= 0 AND tax_total >= 0 AND total >= 0 AND payer_due >= 0 AND patient_due >= 0 AND copay >= 0 AND deductible >= 0 AND patient_paid >= 0 AND payer_paid >= 0 AND credited >= 0 AND written_off >= 0",
            name=op.f("ck_invoices_money_positive"),
        ),
        sa.CheckConstraint(
            "total = patient_due + payer_due + credited + written_off",
            name=op.f("ck_invoices_portions_add_up"),
        ),
        sa.CheckConstraint(
            "total = subtotal - discount_total + tax_total", name=op.f("ck_invoices_total_adds_up")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_invoices_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_invoices_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["finalised_by"], ["users.id"], name=op.f("fk_invoices_finalised_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_invoices_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["patient_policies.id"],
            name=op.f("fk_invoices_policy_id_patient_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_invoices_series_number"),
    )
    op.create_index(
        "ix_invoices_open_ageing",
        "invoices",
        ["issued_on"],
        unique=False,
        postgresql_include=["patient_due", "patient_paid", "payer_due", "payer_paid"],
        postgresql_where=sa.text("status IN ('finalised','partly_paid')"),
    )
    op.create_index(
        "ix_invoices_patient_created",
        "invoices",
        ["patient_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index("ix_invoices_status", "invoices", ["status"], unique=False)
    op.create_table(
        "preauthorizations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("price_item_code", sa.String(length=32), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("approved_amount", sa.Numeric(), nullable=True),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payer_reference", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('admission','procedure')", name=op.f("ck_preauthorizations_kind_code")
        ),
        sa.CheckConstraint(
            "status IN ('pending_submission','approved','denied','pended','cancelled')",
            name=op.f("ck_preauthorizations_status_code"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND (approved_amount IS NULL OR approved_amount >= 0)",
            name=op.f("ck_preauthorizations_money_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_preauthorizations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["patient_policies.id"],
            name=op.f("fk_preauthorizations_policy_id_patient_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_preauthorizations_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preauthorizations")),
    )
    op.create_index(
        "ix_preauthorizations_patient_id", "preauthorizations", ["patient_id"], unique=False
    )
    op.create_table(
        "charges",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("price_item_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax_category", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("source_type", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("source_line", sa.String(length=32), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("admission_id", sa.BigInteger(), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source_cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'billed') = (invoice_id IS NOT NULL)", name=op.f("ck_charges_billed_invoice")
        ),
        sa.CheckConstraint(
            "source_type <> 'manual' OR reason IS NOT NULL", name=op.f("ck_charges_manual_reason")
        ),
        sa.CheckConstraint(
            "source_type = 'manual' OR source_id IS NOT NULL", name=op.f("ck_charges_source_given")
        ),
        sa.CheckConstraint(
            "source_type IN ('manual','consultation','lab_order','dispense','bed_day')",
            name=op.f("ck_charges_source_code"),
        ),
        sa.CheckConstraint(
            "status IN ('unbilled','billed','reversed')", name=op.f("ck_charges_status_code")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_charges_quantity_positive")),
        sa.CheckConstraint(
            "unit_price >= 0 AND amount >= 0", name=op.f("ck_charges_money_positive")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_charges_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_charges_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_charges_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_charges_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["price_item_id"], ["price_items.id"], name=op.f("fk_charges_price_item_id_price_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
    )
    op.create_index(
        "ix_charges_invoice_id",
        "charges",
        ["invoice_id"],
        unique=False,
        postgresql_where=sa.text("invoice_id IS NOT NULL"),
    )
    op.create_index("ix_charges_patient_status", "charges", ["patient_id", "status"], unique=False)
    op.create_index(
        "uq_charges_source",
        "charges",
        ["source_type", "source_id", "source_line"],
        unique=True,
        postgresql_where=sa.text("source_type <> 'manual'"),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed", sa.Numeric(), nullable=False),
        sa.Column("approved", sa.Numeric(), nullable=True),
        sa.Column("rejected", sa.Numeric(), nullable=True),
        sa.Column("remitted", sa.Numeric(), nullable=False),
        sa.Column(
            "rejection_reasons",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("rejection_resolution", sa.String(length=20), nullable=True),
        sa.Column("payer_reference", sa.String(length=100), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "rejection_resolution IS NULL OR rejection_resolution IN ('bill_patient','write_off','write_off_pending')",
            name=op.f("ck_claims_resolution_code"),
        ),
        sa.CheckConstraint(
            "status IN ('ready','submitted','approved','partly_approved','rejected','paid','closed','cancelled')",
            name=op.f("ck_claims_status_code"),
        ),
        sa.CheckConstraint(
            "(approved IS NULL) = (rejected IS NULL)", name=op.f("ck_claims_adjudicated_together")
        ),
        sa.CheckConstraint(
            "approved IS NULL OR (approved >= 0 AND rejected >= 0 AND approved + rejected = claimed)",
            name=op.f("ck_claims_adjudication_adds_up"),
        ),
        sa.CheckConstraint("claimed > 0 AND remitted >= 0", name=op.f("ck_claims_money_positive")),
        sa.CheckConstraint(
            "remitted <= coalesce(approved, 0)", name=op.f("ck_claims_not_over_remitted")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["claim_batches.id"], name=op.f("fk_claims_batch_id_claim_batches")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_claims_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_claims_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_claims_payer_id_payers")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["patient_policies.id"],
            name=op.f("fk_claims_policy_id_patient_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    op.create_index("ix_claims_patient_id", "claims", ["patient_id"], unique=False)
    op.create_index("ix_claims_payer_status", "claims", ["payer_id", "status"], unique=False)
    op.create_index(
        "uq_claims_live_invoice",
        "claims",
        ["invoice_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("voids_invoice", sa.Boolean(), nullable=False),
        sa.Column("patient_part", sa.Numeric(), nullable=False),
        sa.Column("released_to_credit", sa.Numeric(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "amount > 0 AND released_to_credit >= 0", name=op.f("ck_credit_notes_money_positive")
        ),
        sa.CheckConstraint(
            "patient_part >= 0 AND patient_part <= amount",
            name=op.f("ck_credit_notes_patient_part_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_credit_notes_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_credit_notes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_credit_notes_series_number"),
    )
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"], unique=False)
    op.create_index("ix_credit_notes_patient_id", "credit_notes", ["patient_id"], unique=False)
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.BigInteger(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(), nullable=False),
        sa.Column("gross", sa.Numeric(), nullable=False),
        sa.Column("discount", sa.Numeric(), nullable=False),
        sa.Column("net", sa.Numeric(), nullable=False),
        sa.Column("tax_category", sa.String(length=24), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax", sa.Numeric(), nullable=False),
        sa.Column("total", sa.Numeric(), nullable=False),
        sa.Column("payer_share", sa.Numeric(), nullable=False),
        sa.Column("patient_share", sa.Numeric(), nullable=False),
        sa.CheckConstraint(
            "discount >= 0 AND discount <= gross", name=op.f("ck_invoice_lines_discount_range")
        ),
        sa.CheckConstraint(
            "net = gross - discount AND total = net + tax",
            name=op.f("ck_invoice_lines_line_adds_up"),
        ),
        sa.CheckConstraint(
            "payer_share >= 0 AND patient_share >= 0 AND payer_share + patient_share = total",
            name=op.f("ck_invoice_lines_shares_add_up"),
        ),
        sa.CheckConstraint(
            "quantity > 0 AND unit_price >= 0 AND gross >= 0 AND tax >= 0",
            name=op.f("ck_invoice_lines_amounts_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charges.id"], name=op.f("fk_invoice_lines_charge_id_charges")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("invoice_id", "line_no", name="uq_invoice_lines_invoice_line"),
    )
    op.create_index("ix_invoice_lines_charge_id", "invoice_lines", ["charge_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("receipt_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("tendered", sa.Numeric(), nullable=True),
        sa.Column("applied", sa.Numeric(), nullable=False),
        sa.Column("to_credit", sa.Numeric(), nullable=False),
        sa.Column("refunded", sa.Numeric(), nullable=False),
        sa.Column("refund_of_id", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("payer_id", sa.BigInteger(), nullable=True),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("cash_session_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("received_by", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'refund') = (refund_of_id IS NOT NULL)", name=op.f("ck_payments_refund_source")
        ),
        sa.CheckConstraint(
            "kind = 'refund' OR applied + to_credit = amount",
            name=op.f("ck_payments_split_adds_up"),
        ),
        sa.CheckConstraint(
            "kind IN ('payment','deposit','refund')", name=op.f("ck_payments_kind_code")
        ),
        sa.CheckConstraint(
            "method IN ('cash','card','bank_transfer','insurance')",
            name=op.f("ck_payments_method_code"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND applied >= 0 AND to_credit >= 0 AND refunded >= 0",
            name=op.f("ck_payments_money_positive"),
        ),
        sa.CheckConstraint("refunded <= amount", name=op.f("ck_payments_not_over_refunded")),
        sa.CheckConstraint(
            "tendered IS NULL OR tendered >= amount", name=op.f("ck_payments_tendered_covers")
        ),
        sa.ForeignKeyConstraint(
            ["cash_session_id"],
            ["cash_sessions.id"],
            name=op.f("fk_payments_cash_session_id_cash_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_payments_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_payments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_payments_payer_id_payers")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_payments_received_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["refund_of_id"], ["payments.id"], name=op.f("fk_payments_refund_of_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_payments_receipt_number")),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_payments_series_number"),
    )
    op.create_index(
        "ix_payments_cash_session_id",
        "payments",
        ["cash_session_id"],
        unique=False,
        postgresql_where=sa.text("cash_session_id IS NOT NULL"),
    )
    op.create_index(
        "ix_payments_claim_id",
        "payments",
        ["claim_id"],
        unique=False,
        postgresql_where=sa.text("claim_id IS NOT NULL"),
    )
    op.create_index(
        "ix_payments_invoice_id",
        "payments",
        ["invoice_id"],
        unique=False,
        postgresql_where=sa.text("invoice_id IS NOT NULL"),
    )
    op.create_index(
        "ix_payments_patient_received",
        "payments",
        ["patient_id", sa.literal_column("received_at DESC")],
        unique=False,
    )
    op.create_table(
        "card_intents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("gateway_intent_id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'succeeded') = (payment_id IS NOT NULL)",
            name=op.f("ck_card_intents_payment_when_succeeded"),
        ),
        sa.CheckConstraint(
            "status IN ('pending','succeeded','failed','cancelled')",
            name=op.f("ck_card_intents_status_code"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_card_intents_amount_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_card_intents_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_card_intents_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_card_intents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_card_intents_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_intents")),
        sa.UniqueConstraint("gateway_intent_id", name=op.f("uq_card_intents_gateway_intent_id")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_card_intents_payment_id")),
    )
    op.create_index("ix_card_intents_patient_id", "card_intents", ["patient_id"], unique=False)
    op.create_table(
        "invoice_discounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('percent','amount')", name=op.f("ck_invoice_discounts_kind_code")
        ),
        sa.CheckConstraint(
            "status IN ('pending','approved','rejected')",
            name=op.f("ck_invoice_discounts_status_code"),
        ),
        sa.CheckConstraint(
            "value > 0 AND (kind <> 'percent' OR value <= 100)",
            name=op.f("ck_invoice_discounts_value_range"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_invoice_discounts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_invoice_discounts_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_discounts_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["invoice_lines.id"],
            name=op.f("fk_invoice_discounts_line_id_invoice_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_invoice_discounts_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_discounts")),
    )
    op.create_index(
        "uq_invoice_discounts_target",
        "invoice_discounts",
        ["invoice_id", sa.literal_column("coalesce(line_id, 0)")],
        unique=True,
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("credit_note_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "side IN ('patient','payer')", name=op.f("ck_payment_allocations_side_code")
        ),
        sa.CheckConstraint(
            "source <> 'payment' OR payment_id IS NOT NULL",
            name=op.f("ck_payment_allocations_payment_given"),
        ),
        sa.CheckConstraint(
            "source IN ('payment','credit','release')",
            name=op.f("ck_payment_allocations_source_code"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_payment_allocations_amount_nonzero")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_payment_allocations_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["credit_notes.id"],
            name=op.f("fk_payment_allocations_credit_note_id_credit_notes"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payment_allocations_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_allocations_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    op.create_index(
        "ix_payment_allocations_invoice_id", "payment_allocations", ["invoice_id"], unique=False
    )
    op.create_index(
        "ix_payment_allocations_payment_id",
        "payment_allocations",
        ["payment_id"],
        unique=False,
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )
    op.create_table(
        "billing_approvals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("discount_id", sa.BigInteger(), nullable=True),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.BigInteger(), nullable=True),
        sa.Column("claim_id", sa.BigInteger(), nullable=True),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)",
            name=op.f("ck_billing_approvals_decided_when_done"),
        ),
        sa.CheckConstraint(
            "kind IN ('discount','refund','write_off')", name=op.f("ck_billing_approvals_kind_code")
        ),
        sa.CheckConstraint(
            "status IN ('pending','approved','rejected','withdrawn')",
            name=op.f("ck_billing_approvals_status_code"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_billing_approvals_amount_positive")),
        sa.CheckConstraint(
            "decided_by IS NULL OR requested_by IS NULL OR decided_by <> requested_by",
            name=op.f("ck_billing_approvals_second_user"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["payments.id"], name=op.f("fk_billing_approvals_refund_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_billing_approvals_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_billing_approvals_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["discount_id"],
            ["invoice_discounts.id"],
            name=op.f("fk_billing_approvals_discount_id_invoice_discounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_billing_approvals_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_billing_approvals_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_billing_approvals_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_billing_approvals_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_approvals")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_billing_approvals_refund_id")),
    )
    op.create_index(
        "ix_billing_approvals_pending",
        "billing_approvals",
        ["requested_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(DROP_TRIGGERS)
    op.drop_index(
        "ix_billing_approvals_pending",
        table_name="billing_approvals",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("billing_approvals")
    op.drop_index(
        "ix_payment_allocations_payment_id",
        table_name="payment_allocations",
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )
    op.drop_index("ix_payment_allocations_invoice_id", table_name="payment_allocations")
    op.drop_table("payment_allocations")
    op.drop_index(
        "uq_invoice_discounts_target",
        table_name="invoice_discounts",
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.drop_table("invoice_discounts")
    op.drop_index("ix_card_intents_patient_id", table_name="card_intents")
    op.drop_table("card_intents")
    op.drop_index("ix_payments_patient_received", table_name="payments")
    op.drop_index(
        "ix_payments_invoice_id",
        table_name="payments",
        postgresql_where=sa.text("invoice_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_payments_claim_id",
        table_name="payments",
        postgresql_where=sa.text("claim_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_payments_cash_session_id",
        table_name="payments",
        postgresql_where=sa.text("cash_session_id IS NOT NULL"),
    )
    op.drop_table("payments")
    op.drop_index("ix_invoice_lines_charge_id", table_name="invoice_lines")
    op.drop_table("invoice_lines")
    op.drop_index("ix_credit_notes_patient_id", table_name="credit_notes")
    op.drop_index("ix_credit_notes_invoice_id", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index(
        "uq_claims_live_invoice",
        table_name="claims",
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.drop_index("ix_claims_payer_status", table_name="claims")
    op.drop_index("ix_claims_patient_id", table_name="claims")
    op.drop_table("claims")
    op.drop_index(
        "uq_charges_source",
        table_name="charges",
        postgresql_where=sa.text("source_type <> 'manual'"),
    )
    op.drop_index("ix_charges_patient_status", table_name="charges")
    op.drop_index(
        "ix_charges_invoice_id",
        table_name="charges",
        postgresql_where=sa.text("invoice_id IS NOT NULL"),
    )
    op.drop_table("charges")
    op.drop_index("ix_preauthorizations_patient_id", table_name="preauthorizations")
    op.drop_table("preauthorizations")
    op.drop_index("ix_invoices_status", table_name="invoices")
    op.drop_index("ix_invoices_patient_created", table_name="invoices")
    op.drop_index(
        "ix_invoices_open_ageing",
        table_name="invoices",
        postgresql_include=["patient_due", "patient_paid", "payer_due", "payer_paid"],
        postgresql_where=sa.text("status IN ('finalised','partly_paid')"),
    )
    op.drop_table("invoices")
    op.drop_table("plan_coverage_rules")
    op.drop_index("ix_patient_policies_patient_id", table_name="patient_policies")
    op.drop_table("patient_policies")
    op.drop_index(
        "ix_price_items_department_id",
        table_name="price_items",
        postgresql_where=sa.text("department_id IS NOT NULL"),
    )
    op.drop_index("ix_price_items_category", table_name="price_items")
    op.drop_table("price_items")
    op.drop_table("patient_accounts")
    op.drop_table("insurance_plans")
    op.drop_table("claim_batches")
    op.drop_index(
        "uq_cash_sessions_open_drawer",
        table_name="cash_sessions",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "uq_cash_sessions_open_cashier",
        table_name="cash_sessions",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_table("cash_sessions")
    op.drop_table("payers")
    op.drop_table("gateway_events")
    op.drop_table("billing_counters")
