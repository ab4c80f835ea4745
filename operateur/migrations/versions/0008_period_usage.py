"""Usage totals per contract, period, kind and destination (``period_usage``), closed by the
invoice that bills them; usage records lose their own invoice link.

Existing rated usage is summed into totals (closed with the invoice that billed it, or open).

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("invoice_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "period_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("voice", "sms", name="usagekind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("sms_segments", sa.Integer(), nullable=False),
        sa.Column("cost", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("surcharge", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_period_usage_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_period_usage_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_usage")),
    )
    with op.batch_alter_table("period_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_period_usage_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_period_usage_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            "uq_period_usage_open",
            ["contract_id", "period", "kind", "destination", "prefix"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    op.execute(
        """
        INSERT INTO period_usage (contract_id, period, kind, destination, prefix, calls,
            billed_seconds, sms_segments, cost, surcharge, invoice_id)
        SELECT contract_id, period, kind, COALESCE(destination, ''), COALESCE(prefix, ''),
            COUNT(*), SUM(billed_seconds), SUM(sms_segments), SUM(cost), SUM(surcharge),
            invoice_id
        FROM usage_records
        WHERE status = 'rated' AND contract_id IS NOT NULL
        GROUP BY contract_id, period, kind, COALESCE(destination, ''), COALESCE(prefix, ''),
            invoice_id
        """
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_invoice_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_usage_records_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.drop_column("invoice_id")


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_usage_records_invoice_id_invoices"), "invoices", ["invoice_id"], ["id"]
        )
        batch_op.create_index(
            batch_op.f("ix_usage_records_invoice_id"), ["invoice_id"], unique=False
        )
    op.drop_table("period_usage")
