"""SMS: outbox of messages and their SMSC parts, campaigns, templates, distribution lists,
sender IDs, unsubscriptions (STOP), monthly stock and its counters, API settings.

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("keyword", sa.String(length=160), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_opt_outs")),
        sa.UniqueConstraint("recipient", "scope", name=op.f("uq_sms_opt_outs_recipient")),
    )
    with op.batch_alter_table("sms_opt_outs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_opt_outs_recipient"), ["recipient"], unique=False)

    op.create_table(
        "sms_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("callback_secret", sa.String(length=64), nullable=False),
        sa.Column(
            "outside_window",
            sa.Enum("reject", "queue", name="outsidewindow", native_enum=False, length=30),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_settings_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_settings")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_sms_settings_customer_id")),
    )
    op.create_table(
        "sms_stocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("monthly_limit", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_stocks_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_stocks")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_sms_stocks_customer_id")),
    )
    op.create_table(
        "sms_stock_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_stock_uses_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_stock_uses")),
        sa.UniqueConstraint("customer_id", "month", name=op.f("uq_sms_stock_uses_customer_id")),
    )
    op.create_table(
        "sms_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_templates_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_templates")),
        sa.UniqueConstraint("customer_id", "name", name=op.f("uq_sms_templates_customer_id")),
    )
    with op.batch_alter_table("sms_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_templates_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "sms_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_lists_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_lists")),
        sa.UniqueConstraint("customer_id", "name", name=op.f("uq_sms_lists_customer_id")),
    )
    with op.batch_alter_table("sms_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_lists_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "sms_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("warning", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sms_list_entries_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["sms_lists.id"], name=op.f("fk_sms_list_entries_list_id_sms_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_list_entries")),
        sa.UniqueConstraint("list_id", "recipient", name=op.f("uq_sms_list_entries_list_id")),
    )
    with op.batch_alter_table("sms_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_list_entries_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_list_entries_list_id"), ["list_id"], unique=False)

    op.create_table(
        "sms_senders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "authorised",
                "refused",
                name="senderstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("rule", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("billed", sa.Boolean(), nullable=False),
        sa.Column("requested_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_sms_senders_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_senders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_senders")),
        sa.UniqueConstraint("customer_id", "name", name=op.f("uq_sms_senders_customer_id")),
    )
    with op.batch_alter_table("sms_senders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_senders_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_senders_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "sms_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "launched",
                "paused",
                "cancelled",
                name="campaignstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "outside_window",
            sa.Enum("reject", "queue", name="outsidewindow", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("scheduled_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("launched_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_sms_campaigns_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_campaigns_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["sms_lists.id"], name=op.f("fk_sms_campaigns_list_id_sms_lists")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sms_templates.id"],
            name=op.f("fk_sms_campaigns_template_id_sms_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_campaigns")),
    )
    with op.batch_alter_table("sms_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_campaigns_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_campaigns_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_campaigns_list_id"), ["list_id"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "encoding",
            sa.Enum("gsm7", "ucs2", name="smsencoding", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "queued",
                "submitting",
                "submitted",
                "delivered",
                "undelivered",
                "expired",
                "rejected",
                "unsubscribed",
                "cancelled",
                name="smsstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("not_before", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("smsc_ids", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("submitted_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("client_ref", sa.String(length=100), nullable=True),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column(
            "outside_window",
            sa.Enum("reject", "queue", name="outsidewindow", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("held_rule", sa.String(length=60), nullable=True),
        sa.Column("warning", sa.String(length=60), nullable=True),
        sa.Column("destination", sa.String(length=40), nullable=False),
        sa.Column("cost", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("prepaid", sa.Boolean(), nullable=False),
        sa.Column("stock_month", sa.String(length=7), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["sms_campaigns.id"],
            name=op.f("fk_sms_messages_campaign_id_sms_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_sms_messages_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sms_messages_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("customer_id", "client_ref", name=op.f("uq_sms_messages_customer_id")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_messages_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_messages_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            "ix_sms_messages_due", ["status", "route", "not_before"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sms_messages_recipient"), ["recipient"], unique=False)
        batch_op.create_index("ix_sms_messages_stock", ["customer_id", "stock_month"], unique=False)

    op.create_table(
        "sms_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("smsc_id", sa.String(length=65), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("stat", sa.String(length=10), nullable=True),
        sa.Column("done_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sms_messages.id"],
            name=op.f("fk_sms_submissions_message_id_sms_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_submissions")),
        sa.UniqueConstraint("smsc_id", name=op.f("uq_sms_submissions_smsc_id")),
    )
    with op.batch_alter_table("sms_submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_submissions_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("sms_submissions")
    op.drop_table("sms_messages")
    op.drop_table("sms_campaigns")
    op.drop_table("sms_senders")
    op.drop_table("sms_list_entries")
    op.drop_table("sms_lists")
    op.drop_table("sms_templates")
    op.drop_table("sms_stock_uses")
    op.drop_table("sms_stocks")
    op.drop_table("sms_settings")
    op.drop_table("sms_opt_outs")
