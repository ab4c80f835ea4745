"""Payment and wallet-entry references unique per customer, not across the database: two
customers (or two operators) whose banks give the same transaction reference no longer collide,
and a retry is still recognised by (customer, reference) (BIL-05, BIL-10). Also the refunds the
operator owes, such as an agreed overpayment refunded after a dispute (BIL-07 [004 §9.4]).

Revision ID: 0013
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0013"
down_revision: str | None = "0001"  # payments and wallet_entries were created by 0001
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_reference", type_="unique")
        batch_op.create_unique_constraint("uq_payments_customer_id", ["customer_id", "reference"])
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_wallet_entries_reference", type_="unique")
        batch_op.create_unique_constraint(
            "uq_wallet_entries_customer_id", ["customer_id", "reference"]
        )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=True),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "paid", name="refundstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("bank_reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_refunds_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_refunds_dispute_id_disputes")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_refunds_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("dispute_id", name=op.f("uq_refunds_dispute_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_invoice_id"), ["invoice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_customer_id"))
    op.drop_table("refunds")
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_wallet_entries_customer_id", type_="unique")
        batch_op.create_unique_constraint("uq_wallet_entries_reference", ["reference"])
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_customer_id", type_="unique")
        batch_op.create_unique_constraint("uq_payments_reference", ["reference"])
