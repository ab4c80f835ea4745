"""Contract lifecycle: notifications outbox and webhooks, orders, contract notices and licence
changes, trial and post-termination columns of contracts, equipment settlement.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "webhook", name="channel", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "failed", name="outboxstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notification_outbox_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_outbox_idempotency_key")),
    )
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_outbox_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_outbox_event"), ["event"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_outbox_status"), ["status"], unique=False)

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_webhook_endpoints_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_endpoints_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "contract_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "breach",
                "force_majeure",
                "operator_outage",
                "price_change",
                "inactivity",
                name="noticekind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("by_operator", sa.Boolean(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_notices_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contract_notices_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_notices")),
    )
    with op.batch_alter_table("contract_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_notices_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contract_notices_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "licence_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_licence_changes_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_licence_changes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_licence_changes_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_changes")),
    )
    with op.batch_alter_table("licence_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_licence_changes_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_licence_changes_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trial_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("access_ends_at", operateur.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("access_closed_at", operateur.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subscription_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("return_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("inspection_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settlement_invoice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_equipment_subscription_id_subscriptions"),
            "subscriptions",
            ["subscription_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_equipment_settlement_invoice_id_invoices"),
            "invoices",
            ["settlement_invoice_id"],
            ["id"],
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=50), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("new_contract", sa.Boolean(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "portal",
                "api",
                "order_form",
                "email",
                "phone",
                name="orderchannel",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("signatory", sa.String(length=200), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "awaiting_deposit",
                "accepted",
                "refused",
                "withdrawn",
                name="orderstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("received_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column(
            "deposit_required", operateur.db.ExactDecimal(precision=18, scale=4), nullable=True
        ),
        sa.Column("deposit_received_on", sa.Date(), nullable=True),
        sa.Column("deposit_reference", sa.String(length=100), nullable=True),
        sa.Column("decided_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("refusal_reason", sa.String(length=30), nullable=True),
        sa.Column("refusal_detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_orders_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("reference", name=op.f("uq_orders_reference")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_id"))
        batch_op.drop_index(batch_op.f("ix_orders_contract_id"))
    op.drop_table("orders")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_equipment_settlement_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_equipment_subscription_id_subscriptions"), type_="foreignkey"
        )
        batch_op.drop_column("settlement_invoice_id")
        batch_op.drop_column("settled_on")
        batch_op.drop_column("inspection_due_on")
        batch_op.drop_column("return_due_on")
        batch_op.drop_column("subscription_id")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("access_closed_at")
        batch_op.drop_column("access_ends_at")
        batch_op.drop_column("trial_ends_on")
    with op.batch_alter_table("licence_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licence_changes_customer_id"))
        batch_op.drop_index(batch_op.f("ix_licence_changes_contract_id"))
    op.drop_table("licence_changes")
    with op.batch_alter_table("contract_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_notices_customer_id"))
        batch_op.drop_index(batch_op.f("ix_contract_notices_contract_id"))
    op.drop_table("contract_notices")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_customer_id"))
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_notification_outbox_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_notification_outbox_event"))
        batch_op.drop_index(batch_op.f("ix_notification_outbox_customer_id"))
    op.drop_table("notification_outbox")
