"""The privacy registers: security incidents and the customers they affect (SEC-02, SEC-03),
and the requests of data subjects (PRIV-01).

Revision ID: 0014
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0014"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NATURES = ("confidentiality", "integrity", "availability", "none")
_KINDS = ("access", "rectification", "erasure", "objection")
_STATUSES = ("open", "answered", "rejected")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade() -> None:
    op.create_table(
        "security_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("detected_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("nature", _enum(_NATURES, "breachnature"), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_security_incidents_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_incidents")),
    )
    with op.batch_alter_table("security_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_incidents_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "security_incident_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("data_affected", sa.Boolean(), nullable=False),
        sa.Column("deadline_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_security_incident_customers_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["security_incidents.id"],
            name=op.f("fk_security_incident_customers_incident_id_security_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_incident_customers")),
        sa.UniqueConstraint(
            "incident_id",
            "customer_id",
            name=op.f("uq_security_incident_customers_incident_id"),
        ),
    )
    with op.batch_alter_table("security_incident_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_incident_customers_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_incident_customers_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "data_subject_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(_KINDS, "requestkind"), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("subject_contact", sa.String(length=320), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("received_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", _enum(_STATUSES, "requeststatus"), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("answered_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_data_subject_requests_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject_requests")),
    )
    with op.batch_alter_table("data_subject_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_data_subject_requests_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_subject_requests_due_on"), ["due_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_subject_requests_status"), ["status"], unique=False
        )


def downgrade() -> None:
    op.drop_table("data_subject_requests")
    op.drop_table("security_incident_customers")
    op.drop_table("security_incidents")
