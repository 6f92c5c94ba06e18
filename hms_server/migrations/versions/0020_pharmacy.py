"""pharmacy and inventory: catalogue (stock items linked to formulary drugs, packs with
GTINs), locations, batches, balances, the movement ledger, stock counts, procurement
(suppliers, price history, purchase orders, goods receipts), dispensing, ward requisitions,
equipment. The database itself keeps stock honest:

- ``stock_balances.quantity >= 0`` (CHECK): never negative, whatever the concurrency;
- ``stock_apply_movement`` applies every ledger row to its balance (so on-hand always equals
  the ledger), and ``stock_balances_guard`` refuses any other change of a quantity;
- ``stock_movements_append_only``: the ledger is never updated or deleted.

It also creates the default locations (central store, pharmacy, theatre, quarantine);
hospitals add ward stores and rename these through the API.

Revision ID: 0020
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEQUENCES = (
    "stock_count_number_seq",
    "stock_transfer_number_seq",
    "purchase_order_number_seq",
    "goods_receipt_number_seq",
    "dispense_number_seq",
    "requisition_number_seq",
)

APPLY_MOVEMENT = """
CREATE FUNCTION stock_apply_movement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Update first: INSERT ... ON CONFLICT checks the CHECK constraint on the proposed row,
    -- so a negative delta on an existing balance must not go through the insert path.
    UPDATE stock_balances
       SET quantity = quantity + NEW.quantity_delta, updated_at = NEW.at
     WHERE location_id = NEW.location_id AND batch_id = NEW.batch_id;
    IF NOT FOUND THEN
        -- A new balance of a recalled lot starts recalled (e.g. a patient's return).
        INSERT INTO stock_balances (location_id, batch_id, item_id, quantity, status,
                                    updated_at)
        VALUES (NEW.location_id, NEW.batch_id, NEW.item_id, NEW.quantity_delta,
                CASE WHEN EXISTS (SELECT 1 FROM stock_batches b
                                  WHERE b.id = NEW.batch_id AND b.recalled_at IS NOT NULL)
                     THEN 'recalled' ELSE 'available' END,
                NEW.at)
        ON CONFLICT (location_id, batch_id) DO UPDATE
            SET quantity = stock_balances.quantity + EXCLUDED.quantity,
                updated_at = EXCLUDED.updated_at;
    END IF;
    RETURN NULL;
END $$
"""

GUARD_BALANCES = """
CREATE FUNCTION stock_balances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- pg_trigger_depth() > 1: the change comes from stock_apply_movement (a ledger row).
    IF TG_OP = 'DELETE' THEN
        IF OLD.quantity <> 0 THEN
            RAISE EXCEPTION 'stock_balances: a balance holding stock cannot be deleted'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_balances_guard';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.quantity IS DISTINCT FROM OLD.quantity AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'stock_balances.quantity changes only through stock_movements'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_balances_guard';
    END IF;
    RETURN NEW;
END $$
"""

APPEND_ONLY = """
CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_movements is an append-only ledger'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_movements_append_only';
END $$
"""

DEFAULT_LOCATIONS = [
    {"code": "CENTRAL", "name": "Central store", "kind": "central_store", "dispensing": False},
    {"code": "PHARMACY", "name": "Main pharmacy", "kind": "pharmacy", "dispensing": True},
    {"code": "THEATRE", "name": "Theatre store", "kind": "theatre", "dispensing": False},
    {"code": "QUARANTINE", "name": "Quarantine", "kind": "quarantine", "dispensing": False},
]


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(f"CREATE SEQUENCE {name} START WITH 1")
    op.create_table(
        "stock_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ward_code", sa.String(length=32), nullable=True),
        sa.Column("dispensing", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind <> 'ward_store' OR ward_code IS NOT NULL",
            name=op.f("ck_stock_locations_ward_store_ward"),
        ),
        sa.CheckConstraint(
            "kind IN ('central_store','pharmacy','ward_store','theatre','quarantine','other')",
            name=op.f("ck_stock_locations_kind_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_stock_locations_code")),
    )
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lead_time_days BETWEEN 0 AND 365", name=op.f("ck_suppliers_lead_time_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_tag", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("manufacturer", sa.String(length=120), nullable=True),
        sa.Column("serial_number", sa.String(length=80), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("purchased_on", sa.Date(), nullable=True),
        sa.Column("warranty_until", sa.Date(), nullable=True),
        sa.Column("maintenance_interval_days", sa.Integer(), nullable=True),
        sa.Column("calibration_interval_days", sa.Integer(), nullable=True),
        sa.Column("next_service_due", sa.Date(), nullable=True),
        sa.Column("next_calibration_due", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status <> 'out_of_service' OR coalesce(btrim(status_reason), '') <> ''",
            name=op.f("ck_equipment_out_of_service_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('in_service','out_of_service','under_maintenance','retired')",
            name=op.f("ck_equipment_status_code"),
        ),
        sa.CheckConstraint(
            "calibration_interval_days IS NULL OR calibration_interval_days > 0",
            name=op.f("ck_equipment_calibration_interval_positive"),
        ),
        sa.CheckConstraint(
            "maintenance_interval_days IS NULL OR maintenance_interval_days > 0",
            name=op.f("ck_equipment_maintenance_interval_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_equipment_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_equipment_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("asset_tag", name=op.f("uq_equipment_asset_tag")),
    )
    op.create_index(op.f("ix_equipment_location_id"), "equipment", ["location_id"], unique=False)
    op.create_index(
        "ix_equipment_next_calibration", "equipment", ["next_calibration_due"], unique=False
    )
    op.create_index("ix_equipment_next_service", "equipment", ["next_service_due"], unique=False)
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft','approved','sent','partly_received','closed','cancelled')",
            name=op.f("ck_purchase_orders_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_purchase_orders_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_purchase_orders_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_purchase_orders_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_purchase_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_purchase_orders_number")),
    )
    op.create_index("ix_purchase_orders_status", "purchase_orders", ["status"], unique=False)
    op.create_index(
        op.f("ix_purchase_orders_supplier_id"), "purchase_orders", ["supplier_id"], unique=False
    )
    op.create_table(
        "requisitions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("ward_location_id", sa.Integer(), nullable=False),
        sa.Column("source_location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.BigInteger(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested','approved','issued','received','rejected','cancelled')",
            name=op.f("ck_requisitions_status_code"),
        ),
        sa.CheckConstraint(
            "ward_location_id <> source_location_id",
            name=op.f("ck_requisitions_distinct_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_requisitions_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_requisitions_issued_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_requisitions_received_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_requisitions_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["source_location_id"],
            ["stock_locations.id"],
            name=op.f("fk_requisitions_source_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_location_id"],
            ["stock_locations.id"],
            name=op.f("fk_requisitions_ward_location_id_stock_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requisitions")),
        sa.UniqueConstraint("number", name=op.f("uq_requisitions_number")),
    )
    op.create_index("ix_requisitions_status", "requisitions", ["status"], unique=False)
    op.create_index(
        op.f("ix_requisitions_ward_location_id"), "requisitions", ["ward_location_id"], unique=False
    )
    op.create_table(
        "stock_counts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("item_class", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("submitted_by", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open','submitted','approved','cancelled')",
            name=op.f("ck_stock_counts_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_stock_counts_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_stock_counts_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_counts_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_stock_counts_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_counts")),
        sa.UniqueConstraint("number", name=op.f("uq_stock_counts_number")),
    )
    op.create_table(
        "stock_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("drug_id", sa.Integer(), nullable=True),
        sa.Column("base_unit", sa.String(length=24), nullable=False),
        sa.Column("divisible", sa.Boolean(), nullable=False),
        sa.Column("item_class", sa.String(length=40), nullable=True),
        sa.Column("preferred_supplier_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'medicine') = (drug_id IS NOT NULL)", name=op.f("ck_stock_items_medicine_drug")
        ),
        sa.CheckConstraint(
            "kind IN ('medicine','consumable','supply','equipment')",
            name=op.f("ck_stock_items_kind_code"),
        ),
        sa.ForeignKeyConstraint(
            ["drug_id"], ["drugs.id"], name=op.f("fk_stock_items_drug_id_drugs")
        ),
        sa.ForeignKeyConstraint(
            ["preferred_supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_stock_items_preferred_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_items")),
        sa.UniqueConstraint("code", name=op.f("uq_stock_items_code")),
    )
    op.create_index(op.f("ix_stock_items_drug_id"), "stock_items", ["drug_id"], unique=False)
    op.create_index(op.f("ix_stock_items_item_class"), "stock_items", ["item_class"], unique=False)
    op.create_index(
        "ix_stock_items_lower_name", "stock_items", [sa.literal_column("lower(name)")], unique=False
    )
    op.create_table(
        "equipment_services",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("performed_by", sa.String(length=120), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("cost", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('preventive','calibration','repair','inspection')",
            name=op.f("ck_equipment_services_kind_code"),
        ),
        sa.CheckConstraint(
            "cost IS NULL OR cost >= 0", name=op.f("ck_equipment_services_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_equipment_services_equipment_id_equipment"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_equipment_services_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_services")),
    )
    op.create_index(
        op.f("ix_equipment_services_equipment_id"),
        "equipment_services",
        ["equipment_id"],
        unique=False,
    )
    op.create_table(
        "equipment_usage",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_equipment_usage_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_equipment_usage_equipment_id_equipment"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_equipment_usage_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_usage")),
    )
    op.create_index(
        op.f("ix_equipment_usage_equipment_id"), "equipment_usage", ["equipment_id"], unique=False
    )
    op.create_table(
        "goods_receipts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("purchase_order_id", sa.BigInteger(), nullable=True),
        sa.Column("delivery_note", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("received_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_goods_receipts_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_goods_receipts_purchase_order_id_purchase_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["users.id"], name=op.f("fk_goods_receipts_received_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_goods_receipts_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipts")),
        sa.UniqueConstraint("number", name=op.f("uq_goods_receipts_number")),
    )
    op.create_index(
        op.f("ix_goods_receipts_purchase_order_id"),
        "goods_receipts",
        ["purchase_order_id"],
        unique=False,
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("received_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name=op.f("ck_purchase_order_lines_received_within_ordered"),
        ),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_purchase_order_lines_unit_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["stock_items.id"],
            name=op.f("fk_purchase_order_lines_item_id_stock_items"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_order_id_purchase_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint("order_id", "line_no", name="uq_purchase_order_lines_order_line"),
    )
    op.create_index(
        "ix_purchase_order_lines_item", "purchase_order_lines", ["item_id"], unique=False
    )
    op.create_table(
        "requisition_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("requisition_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("requested_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("approved_quantity", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("issued_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.CheckConstraint(
            "approved_quantity IS NULL OR approved_quantity >= 0",
            name=op.f("ck_requisition_lines_approved_not_negative"),
        ),
        sa.CheckConstraint(
            "issued_quantity >= 0", name=op.f("ck_requisition_lines_issued_not_negative")
        ),
        sa.CheckConstraint(
            "requested_quantity > 0", name=op.f("ck_requisition_lines_requested_positive")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_items.id"], name=op.f("fk_requisition_lines_item_id_stock_items")
        ),
        sa.ForeignKeyConstraint(
            ["requisition_id"],
            ["requisitions.id"],
            name=op.f("fk_requisition_lines_requisition_id_requisitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requisition_lines")),
    )
    op.create_index(
        op.f("ix_requisition_lines_requisition_id"),
        "requisition_lines",
        ["requisition_id"],
        unique=False,
    )
    op.create_table(
        "stock_batches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recall_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("lot <> ''", name=op.f("ck_stock_batches_lot_not_blank")),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_stock_batches_unit_cost_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_items.id"], name=op.f("fk_stock_batches_item_id_stock_items")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_stock_batches_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_batches")),
        sa.UniqueConstraint("id", "item_id", name="uq_stock_batches_id_item"),
        sa.UniqueConstraint("item_id", "lot", name="uq_stock_batches_item_lot"),
    )
    op.create_index("ix_stock_batches_lot", "stock_batches", ["lot"], unique=False)
    op.create_table(
        "stock_item_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("base_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.CheckConstraint("gtin ~ '^[0-9]{14}$'", name=op.f("ck_stock_item_packs_gtin_format")),
        sa.CheckConstraint(
            "base_quantity > 0", name=op.f("ck_stock_item_packs_base_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["stock_items.id"],
            name=op.f("fk_stock_item_packs_item_id_stock_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_item_packs")),
        sa.UniqueConstraint("gtin", name=op.f("uq_stock_item_packs_gtin")),
        sa.UniqueConstraint("item_id", "name", name="uq_stock_item_packs_item_name"),
    )
    op.create_table(
        "stock_levels",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("reorder_level", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("par_level", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("safety_stock", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "par_level >= reorder_level", name=op.f("ck_stock_levels_par_at_least_reorder")
        ),
        sa.CheckConstraint(
            "reorder_level >= 0 AND par_level >= 0 AND safety_stock >= 0",
            name=op.f("ck_stock_levels_levels_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_items.id"], name=op.f("fk_stock_levels_item_id_stock_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_levels_location_id_stock_locations"),
        ),
        sa.PrimaryKeyConstraint("item_id", "location_id", name="pk_stock_levels"),
    )
    op.create_table(
        "supplier_prices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('quote','order','receipt')", name=op.f("ck_supplier_prices_source_code")
        ),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_supplier_prices_unit_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_items.id"], name=op.f("fk_supplier_prices_item_id_stock_items")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_supplier_prices_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_prices")),
    )
    op.create_index(
        "ix_supplier_prices_item_recorded",
        "supplier_prices",
        ["item_id", "recorded_at"],
        unique=False,
    )
    op.create_table(
        "dispenses",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("prescription_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("pharmacist_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "dispensed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("override_reason", sa.String(length=1000), nullable=True),
        sa.Column(
            "conflicts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_dispenses_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["pharmacist_user_id"], ["users.id"], name=op.f("fk_dispenses_pharmacist_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_dispenses_prescription_id_prescriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispenses")),
        sa.UniqueConstraint("number", name=op.f("uq_dispenses_number")),
    )
    op.create_index("ix_dispenses_dispensed_at", "dispenses", ["dispensed_at"], unique=False)
    op.create_index(
        op.f("ix_dispenses_prescription_id"), "dispenses", ["prescription_id"], unique=False
    )
    op.create_table(
        "goods_receipt_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("order_line_id", sa.BigInteger(), nullable=True),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_goods_receipt_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_goods_receipt_lines_unit_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_goods_receipt_lines_batch_item",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["purchase_order_lines.id"],
            name=op.f("fk_goods_receipt_lines_order_line_id_purchase_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["goods_receipts.id"],
            name=op.f("fk_goods_receipt_lines_receipt_id_goods_receipts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipt_lines")),
    )
    op.create_index(
        op.f("ix_goods_receipt_lines_receipt_id"),
        "goods_receipt_lines",
        ["receipt_id"],
        unique=False,
    )
    op.create_table(
        "prescription_send_backs",
        sa.Column("prescription_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescription_send_backs_prescription_id_prescriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prescription_send_backs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("prescription_id", name=op.f("pk_prescription_send_backs")),
    )
    op.create_table(
        "stock_balances",
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('available','quarantined','expired','recalled')",
            name=op.f("ck_stock_balances_status_code"),
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_balances_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_balances_batch_item",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_balances_location_id_stock_locations"),
        ),
        sa.PrimaryKeyConstraint("location_id", "batch_id", name="pk_stock_balances"),
    )
    op.create_index(
        "ix_stock_balances_item_location",
        "stock_balances",
        ["item_id", "location_id"],
        unique=False,
    )
    op.create_table(
        "stock_count_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("count_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("expected_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("counted_quantity", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "counted_quantity IS NULL OR counted_quantity >= 0",
            name=op.f("ck_stock_count_lines_counted_not_negative"),
        ),
        sa.CheckConstraint(
            "expected_quantity >= 0", name=op.f("ck_stock_count_lines_expected_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_count_lines_batch_item",
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["stock_counts.id"],
            name=op.f("fk_stock_count_lines_count_id_stock_counts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_count_lines")),
        sa.UniqueConstraint("count_id", "batch_id", name="uq_stock_count_lines_count_batch"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity_delta", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reason_code", sa.String(length=24), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("reference_type", sa.String(length=24), nullable=True),
        sa.Column("reference_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind IN ('receipt','return') AND quantity_delta > 0) OR (kind IN ('dispense','write_off','recall') AND quantity_delta < 0) OR kind IN ('transfer','issue','adjustment','count')",
            name=op.f("ck_stock_movements_delta_direction"),
        ),
        sa.CheckConstraint(
            "kind IN ('receipt','transfer','issue','dispense','return','adjustment','write_off','recall','count')",
            name=op.f("ck_stock_movements_kind_code"),
        ),
        sa.CheckConstraint(
            "kind NOT IN ('adjustment','write_off') OR coalesce(btrim(reason), '') <> ''",
            name=op.f("ck_stock_movements_reason_required"),
        ),
        sa.CheckConstraint("quantity_delta <> 0", name=op.f("ck_stock_movements_delta_not_zero")),
        sa.ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_stock_movements_batch_item",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_movements_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_stock_movements_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index("ix_stock_movements_at", "stock_movements", ["at"], unique=False)
    op.create_index("ix_stock_movements_batch", "stock_movements", ["batch_id"], unique=False)
    op.create_index(
        "ix_stock_movements_item_location_at",
        "stock_movements",
        ["item_id", "location_id", "at"],
        unique=False,
    )
    op.create_index(
        "ix_stock_movements_reference",
        "stock_movements",
        ["reference_type", "reference_id"],
        unique=False,
    )
    op.create_table(
        "dispense_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dispense_id", sa.BigInteger(), nullable=False),
        sa.Column("prescription_item_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("returned_quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_dispense_lines_quantity_positive")),
        sa.CheckConstraint(
            "returned_quantity >= 0 AND returned_quantity <= quantity",
            name=op.f("ck_dispense_lines_returned_within_dispensed"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id", "item_id"],
            ["stock_batches.id", "stock_batches.item_id"],
            name="fk_dispense_lines_batch_item",
        ),
        sa.ForeignKeyConstraint(
            ["dispense_id"],
            ["dispenses.id"],
            name=op.f("fk_dispense_lines_dispense_id_dispenses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prescription_item_id"],
            ["prescription_items.id"],
            name=op.f("fk_dispense_lines_prescription_item_id_prescription_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispense_lines")),
    )
    op.create_index("ix_dispense_lines_batch", "dispense_lines", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_dispense_lines_dispense_id"), "dispense_lines", ["dispense_id"], unique=False
    )
    op.create_index(
        op.f("ix_dispense_lines_prescription_item_id"),
        "dispense_lines",
        ["prescription_item_id"],
        unique=False,
    )
    op.execute(APPLY_MOVEMENT)
    op.execute(
        "CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements "
        "FOR EACH ROW EXECUTE FUNCTION stock_apply_movement()"
    )
    op.execute(GUARD_BALANCES)
    op.execute(
        "CREATE TRIGGER stock_balances_guard BEFORE UPDATE OR DELETE ON stock_balances "
        "FOR EACH ROW EXECUTE FUNCTION stock_balances_guard()"
    )
    op.execute(APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE "
        "ON stock_movements FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()"
    )
    locations = sa.table(
        "stock_locations",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("dispensing", sa.Boolean),
        sa.column("active", sa.Boolean),
        sa.column("version", sa.Integer),
    )
    op.bulk_insert(locations, [{**row, "active": True, "version": 1} for row in DEFAULT_LOCATIONS])


def downgrade() -> None:
    op.execute("DROP TRIGGER stock_movements_append_only ON stock_movements")
    op.execute("DROP TRIGGER stock_balances_guard ON stock_balances")
    op.execute("DROP TRIGGER stock_movements_apply ON stock_movements")
    op.drop_index(op.f("ix_dispense_lines_prescription_item_id"), table_name="dispense_lines")
    op.drop_index(op.f("ix_dispense_lines_dispense_id"), table_name="dispense_lines")
    op.drop_index("ix_dispense_lines_batch", table_name="dispense_lines")
    op.drop_table("dispense_lines")
    op.drop_index("ix_stock_movements_reference", table_name="stock_movements")
    op.drop_index("ix_stock_movements_item_location_at", table_name="stock_movements")
    op.drop_index("ix_stock_movements_batch", table_name="stock_movements")
    op.drop_index("ix_stock_movements_at", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_table("stock_count_lines")
    op.drop_index("ix_stock_balances_item_location", table_name="stock_balances")
    op.drop_table("stock_balances")
    op.drop_table("prescription_send_backs")
    op.drop_index(op.f("ix_goods_receipt_lines_receipt_id"), table_name="goods_receipt_lines")
    op.drop_table("goods_receipt_lines")
    op.drop_index(op.f("ix_dispenses_prescription_id"), table_name="dispenses")
    op.drop_index("ix_dispenses_dispensed_at", table_name="dispenses")
    op.drop_table("dispenses")
    op.drop_index("ix_supplier_prices_item_recorded", table_name="supplier_prices")
    op.drop_table("supplier_prices")
    op.drop_table("stock_levels")
    op.drop_table("stock_item_packs")
    op.drop_index("ix_stock_batches_lot", table_name="stock_batches")
    op.drop_table("stock_batches")
    op.drop_index(op.f("ix_requisition_lines_requisition_id"), table_name="requisition_lines")
    op.drop_table("requisition_lines")
    op.drop_index("ix_purchase_order_lines_item", table_name="purchase_order_lines")
    op.drop_table("purchase_order_lines")
    op.drop_index(op.f("ix_goods_receipts_purchase_order_id"), table_name="goods_receipts")
    op.drop_table("goods_receipts")
    op.drop_index(op.f("ix_equipment_usage_equipment_id"), table_name="equipment_usage")
    op.drop_table("equipment_usage")
    op.drop_index(op.f("ix_equipment_services_equipment_id"), table_name="equipment_services")
    op.drop_table("equipment_services")
    op.drop_index("ix_stock_items_lower_name", table_name="stock_items")
    op.drop_index(op.f("ix_stock_items_item_class"), table_name="stock_items")
    op.drop_index(op.f("ix_stock_items_drug_id"), table_name="stock_items")
    op.drop_table("stock_items")
    op.drop_table("stock_counts")
    op.drop_index(op.f("ix_requisitions_ward_location_id"), table_name="requisitions")
    op.drop_index("ix_requisitions_status", table_name="requisitions")
    op.drop_table("requisitions")
    op.drop_index(op.f("ix_purchase_orders_supplier_id"), table_name="purchase_orders")
    op.drop_index("ix_purchase_orders_status", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_index("ix_equipment_next_service", table_name="equipment")
    op.drop_index("ix_equipment_next_calibration", table_name="equipment")
    op.drop_index(op.f("ix_equipment_location_id"), table_name="equipment")
    op.drop_table("equipment")
    op.drop_table("suppliers")
    op.drop_table("stock_locations")
    for function in ("stock_movements_append_only", "stock_balances_guard", "stock_apply_movement"):
        op.execute(f"DROP FUNCTION {function}()")
    for name in SEQUENCES:
        op.execute(f"DROP SEQUENCE {name}")
