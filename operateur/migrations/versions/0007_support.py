"""Support: tickets, their messages and attachments (SUP-01..03), loss declarations (SUP-04).

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-23 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, operateur.db.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("ticketkind", "question", "incident"), nullable=False),
        sa.Column(
            "severity", _enum("severity", "low", "normal", "high", "critical"), nullable=False
        ),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column(
            "status", _enum("ticketstatus", "open", "answered", "closed"), nullable=False
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        _when("opened_at"),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        _when("first_response_due", nullable=True),
        _when("first_response_at", nullable=True),
        _when("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column(
            "outcome",
            _enum("ticketoutcome", "resolved", "caused_by_customer", "operator_fault"),
            nullable=True,
        ),
        _fk("support_tickets", "contract_id", "contracts"),
        _fk("support_tickets", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
        sa.UniqueConstraint("reference", name=op.f("uq_support_tickets_reference")),
    )
    _indexes("support_tickets", "contract_id", "customer_id", "period")

    op.create_table(
        "support_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _fk("support_messages", "customer_id", "customers"),
        _fk("support_messages", "ticket_id", "support_tickets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_messages")),
    )
    _indexes("support_messages", "customer_id", "ticket_id")

    op.create_table(
        "support_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        _fk("support_attachments", "customer_id", "customers"),
        _fk("support_attachments", "ticket_id", "support_tickets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_attachments")),
    )
    _indexes("support_attachments", "customer_id", "ticket_id")

    op.create_table(
        "loss_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind", _enum("losskind", "credentials", "api_key", "sim", "equipment"), nullable=False
        ),
        sa.Column("theft", sa.Boolean(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        _when("occurred_at", nullable=True),
        _when("declared_at"),
        sa.Column("declared_by", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("suspend_requested", sa.Boolean(), nullable=False),
        sa.Column("suspension_id", sa.Integer(), nullable=True),
        _fk("loss_declarations", "api_key_id", "api_keys"),
        _fk("loss_declarations", "contract_id", "contracts"),
        _fk("loss_declarations", "customer_id", "customers"),
        _fk("loss_declarations", "equipment_id", "equipment"),
        _fk("loss_declarations", "line_id", "lines"),
        _fk("loss_declarations", "suspension_id", "suspensions"),
        _fk("loss_declarations", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loss_declarations")),
    )
    _indexes("loss_declarations", "contract_id", "customer_id")


def downgrade() -> None:
    for table in (
        "loss_declarations",
        "support_attachments",
        "support_messages",
        "support_tickets",
    ):
        op.drop_table(table)
