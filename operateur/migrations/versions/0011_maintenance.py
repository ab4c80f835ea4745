"""Planned maintenance (CTR-06 [002 §13.1.5]): the windows staff announce and, for each
contract concerned, whether its terms accept the window and the suspension made for it.

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCOPES = ("full", "international_calls", "outbound_calls", "sms", "mail")
_STATUSES = ("planned", "started", "done", "cancelled")


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("offer_id", sa.String(length=50), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(*_SCOPES, name="suspensionscope", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("starts_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason_fr", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("announced_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("announced_by", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUSES, name="maintenancestatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("cancelled_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_maintenance_windows_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_windows_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "maintenance_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("refusal_code", sa.String(length=40), nullable=True),
        sa.Column("refusal", sa.JSON(), nullable=False),
        sa.Column("suspension_id", sa.Integer(), nullable=True),
        sa.Column("started_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_maintenance_contracts_window_id_maintenance_windows"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_maintenance_contracts_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_maintenance_contracts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["suspension_id"],
            ["suspensions.id"],
            name=op.f("fk_maintenance_contracts_suspension_id_suspensions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_contracts")),
    )
    with op.batch_alter_table("maintenance_contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_contracts_window_id"), ["window_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_contracts_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_contracts_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("maintenance_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_contracts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_contracts_contract_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_contracts_window_id"))
    op.drop_table("maintenance_contracts")
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_operator_id"))
    op.drop_table("maintenance_windows")
