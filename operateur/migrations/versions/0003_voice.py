"""Voice call control: profiles, consents, opposition list, prospection attempts, suspended
destinations.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("prospecting", sa.Boolean(), nullable=False),
        sa.Column("updated_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_voice_profiles_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_voice_profiles_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_profiles")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_voice_profiles_contract_id")),
    )
    with op.batch_alter_table("voice_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_profiles_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "voice_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "consent", "contract", "refusal", name="consentkind", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("given_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_voice_consents_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_consents")),
    )
    with op.batch_alter_table("voice_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_consents_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_voice_consents_customer_number", ["customer_id", "number"], unique=False
        )

    op.create_table(
        "voice_oppositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("listed_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_oppositions")),
        sa.UniqueConstraint("number", name=op.f("uq_voice_oppositions_number")),
    )

    op.create_table(
        "voice_prospect_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_voice_prospect_attempts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_prospect_attempts")),
    )
    with op.batch_alter_table("voice_prospect_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voice_prospect_attempts_customer_number_at",
            ["customer_id", "number", "at"],
            unique=False,
        )

    op.create_table(
        "voice_destination_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=15), nullable=False),
        sa.Column("offer_id", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_destination_suspensions")),
    )
    with op.batch_alter_table("voice_destination_suspensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_destination_suspensions_prefix"), ["prefix"], unique=False
        )


def downgrade() -> None:
    op.drop_table("voice_destination_suspensions")
    op.drop_table("voice_prospect_attempts")
    op.drop_table("voice_oppositions")
    op.drop_table("voice_consents")
    op.drop_table("voice_profiles")
