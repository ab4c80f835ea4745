"""Initial schema: accounts, audit log, contracts, numbers, billing.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 22:25:38.547116
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=50), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_entity"), ["entity"], unique=False)

    op.create_table(
        "dunning_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_steps")),
        sa.UniqueConstraint("invoice_id", "step", name=op.f("uq_dunning_steps_invoice_id")),
    )
    op.create_table(
        "index_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", operateur.db.ExactDecimal(precision=12, scale=4), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_values")),
        sa.UniqueConstraint("index", "month", name=op.f("uq_index_values_index")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=False),
        sa.Column("done_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "due_on", name=op.f("uq_job_runs_job")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_form", sa.String(length=50), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=False),
        sa.Column("address_line", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("sepa_creditor_id", sa.String(length=35), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("siren", name=op.f("uq_operators_siren")),
    )
    op.create_table(
        "billing_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("started_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invoices_issued", sa.Integer(), nullable=False),
        sa.Column("contracts_skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_billing_runs_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_runs")),
    )
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_runs_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_form", sa.String(length=50), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("address_line", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column(
            "payment_method",
            sa.Enum(
                "sepa_direct_debit",
                "transfer",
                "cheque",
                "card",
                "prepaid",
                name="paymentmethod",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "prospect",
                "active",
                "suspended",
                "closed",
                name="customerstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_customers_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_siren"), ["siren"], unique=False)

    op.create_table(
        "invoice_sequences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_invoice_sequences_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_sequences")),
        sa.UniqueConstraint("operator_id", "year", name=op.f("uq_invoice_sequences_operator_id")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=30), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=50), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "signed",
                "active",
                "suspended",
                "notice_given",
                "terminated",
                "purged",
                name="contractstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("signed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=200), nullable=True),
        sa.Column("activated_on", sa.Date(), nullable=True),
        sa.Column("notice_given_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contracts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("reference", name=op.f("uq_contracts_reference")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column(
            "scheme",
            sa.Enum("CORE", "B2B", name="mandatescheme", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("collected_once", sa.Boolean(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mandates_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandates")),
        sa.UniqueConstraint("reference", name=op.f("uq_mandates_reference")),
    )
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mandates_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("unallocated", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("reversed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "rate_decks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("offer_id", sa.String(length=50), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_rate_decks_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_decks")),
    )
    with op.batch_alter_table("rate_decks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_decks_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_rate_decks_offer_id"), ["offer_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "billing",
                "support",
                "network",
                "customer_admin",
                "customer_user",
                name="role",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_users_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_users_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "wallets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("balance", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("reserved", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallets_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_wallets_customer_id")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "billing",
                "support",
                "network",
                "customer_admin",
                "customer_user",
                name="role",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_api_keys_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_api_keys_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_api_keys_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("public_id", name=op.f("uq_api_keys_public_id")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "contract_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("transition", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_events_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contract_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_events")),
    )
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_events_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contract_events_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("rental", "provision", name="equipmentmode", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("value", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_stock",
                "delivered",
                "returned",
                "lost",
                name="equipmentstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_equipment_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_equipment_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("serial", name=op.f("uq_equipment_serial")),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("invoice", "credit_note", name="invoicekind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "partially_paid",
                "paid",
                "credited",
                name="invoicestatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
        sa.Column("vat_exemption_reason", sa.String(length=200), nullable=True),
        sa.Column("total_net", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("total_vat", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("total_gross", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("amount_paid", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column(
            "amount_disputed", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False
        ),
        sa.Column(
            "amount_credited", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False
        ),
        sa.Column("preceding_invoice_id", sa.Integer(), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_invoices_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_invoices_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(
            ["preceding_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoices_preceding_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["billing_runs.id"], name=op.f("fk_invoices_run_id_billing_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "contract_id", "period", "kind", "purpose", name=op.f("uq_invoices_contract_id")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_period"), ["period"], unique=False)

    op.create_table(
        "lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "centrex", "trunk", "agent", "mobile", name="linekind", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("sip_username", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "suspended", "closed", name="linestatus", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_lines_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lines_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_lines_sip_username")),
    )
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lines_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lines_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=100), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_login_sessions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_sessions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "rate_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deck_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column(
            "price_per_minute", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False
        ),
        sa.Column(
            "connection_fee", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False
        ),
        sa.Column("first_step", sa.Integer(), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("min_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deck_id"], ["rate_decks.id"], name=op.f("fk_rate_entries_deck_id_rate_decks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_entries")),
        sa.UniqueConstraint("deck_id", "prefix", name=op.f("uq_rate_entries_deck_id")),
    )
    with op.batch_alter_table("rate_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_entries_deck_id"), ["deck_id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("session_ref", sa.String(length=128), nullable=False),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column(
            "committed_amount", operateur.db.ExactDecimal(precision=18, scale=6), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "committed",
                "released",
                name="reservationstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_reservations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_reservations_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("session_ref", name=op.f("uq_reservations_session_ref")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reservations_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "unit_price_nrc", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False
        ),
        sa.Column(
            "unit_price_mrc", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False
        ),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_subscriptions_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_subscriptions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriptions_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subscriptions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "full",
                "international_calls",
                "outbound_calls",
                "sms",
                "mail",
                name="suspensionscope",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("started_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_suspensions_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_suspensions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suspensions_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_suspensions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "unlimited_plan_abuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_unlimited_plan_abuses_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unlimited_plan_abuses_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unlimited_plan_abuses")),
        sa.UniqueConstraint(
            "contract_id", "period", name=op.f("uq_unlimited_plan_abuses_contract_id")
        ),
    )
    with op.batch_alter_table("unlimited_plan_abuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unlimited_plan_abuses_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unlimited_plan_abuses_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "wallet_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "top_up",
                "usage",
                "forfeit",
                "adjustment",
                name="walletentrykind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallet_entries_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_wallet_entries_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_entries")),
        sa.UniqueConstraint("reference", name=op.f("uq_wallet_entries_reference")),
    )
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_entries_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_wallet_entries_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "direct_debits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("mandate_id", sa.Integer(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("batch_id", sa.String(length=35), nullable=False),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("sequence_type", sa.String(length=4), nullable=False),
        sa.Column(
            "status",
            sa.Enum("exported", "rejected", name="directdebitstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("reject_reason", sa.String(length=10), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_direct_debits_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_direct_debits_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"], ["mandates.id"], name=op.f("fk_direct_debits_mandate_id_mandates")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_direct_debits_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_direct_debits")),
        sa.UniqueConstraint("end_to_end_id", name=op.f("uq_direct_debits_end_to_end_id")),
    )
    with op.batch_alter_table("direct_debits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_direct_debits_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_direct_debits_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_direct_debits_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column(
            "contested_amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False
        ),
        sa.Column("held_amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "refused",
                "open",
                "upheld",
                "rejected",
                name="disputestatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("refusal_reasons", sa.JSON(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("settlement", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["invoices.id"], name=op.f("fk_disputes_credit_note_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_disputes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_disputes_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_disputes_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "subscription",
                "one_off",
                "usage",
                "surcharge",
                "allowance",
                "minimum_shortfall",
                "payment_method_surcharge",
                "rejection_fee",
                "penalty",
                "credit",
                "correction",
                name="linesource",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", operateur.db.ExactDecimal(precision=14, scale=4), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("unit_price", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("vat_rate", operateur.db.ExactDecimal(precision=5, scale=2), nullable=False),
        sa.Column("vat_category", sa.String(length=2), nullable=False),
        sa.Column("net_amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("reversed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_allocations_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payment_allocations_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_allocations_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "pending_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "subscription",
                "one_off",
                "usage",
                "surcharge",
                "allowance",
                "minimum_shortfall",
                "payment_method_surcharge",
                "rejection_fee",
                "penalty",
                "credit",
                "correction",
                name="linesource",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("amount", operateur.db.ExactDecimal(precision=18, scale=4), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_pending_charges_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_pending_charges_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_pending_charges_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_pending_charges_idempotency_key")),
    )
    with op.batch_alter_table("pending_charges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_charges_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_charges_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_charges_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "tier",
            sa.Enum("standard", "silver", "gold", name="numbertier", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "free",
                "reserved",
                "assigned",
                "porting",
                "quarantined",
                name="numberstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("quarantined_until", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_phone_numbers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_phone_numbers_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint("e164", name=op.f("uq_phone_numbers_e164")),
    )
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_numbers_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_phone_numbers_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_numbers_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_numbers_status"), ["status"], unique=False)

    op.create_table(
        "price_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("p0", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("s0", operateur.db.ExactDecimal(precision=12, scale=4), nullable=False),
        sa.Column("s1", operateur.db.ExactDecimal(precision=12, scale=4), nullable=False),
        sa.Column("new_price", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_price_revisions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_price_revisions_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_revisions")),
        sa.UniqueConstraint(
            "subscription_id", "effective_on", name=op.f("uq_price_revisions_subscription_id")
        ),
    )
    with op.batch_alter_table("price_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_price_revisions_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_price_revisions_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "subscription_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("billed_until", sa.Date(), nullable=True),
        sa.Column("nrc_invoice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nrc_invoice_id"],
            ["invoices.id"],
            name=op.f("fk_subscription_coverage_nrc_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_coverage_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_coverage")),
        sa.UniqueConstraint(
            "subscription_id", name=op.f("uq_subscription_coverage_subscription_id")
        ),
    )
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("voice", "sms", name="usagekind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("callee", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("started_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("billable_seconds", sa.Integer(), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("sms_segments", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column(
            "status",
            sa.Enum("rated", "rejected", name="usagestatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=True),
        sa.Column("cost", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("surcharge", operateur.db.ExactDecimal(precision=18, scale=6), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_usage_records_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_usage_records_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_usage_records_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_usage_records_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_usage_records_source")),
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_records_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_usage_records_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_usage_records_invoice_id"), ["invoice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_usage_records_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_records_period"), ["period"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_period"))
        batch_op.drop_index(batch_op.f("ix_usage_records_line_id"))
        batch_op.drop_index(batch_op.f("ix_usage_records_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_usage_records_customer_id"))
        batch_op.drop_index(batch_op.f("ix_usage_records_contract_id"))

    op.drop_table("usage_records")
    op.drop_table("subscription_coverage")
    with op.batch_alter_table("price_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_revisions_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_price_revisions_customer_id"))

    op.drop_table("price_revisions")
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_numbers_status"))
        batch_op.drop_index(batch_op.f("ix_phone_numbers_line_id"))
        batch_op.drop_index(batch_op.f("ix_phone_numbers_kind"))
        batch_op.drop_index(batch_op.f("ix_phone_numbers_customer_id"))

    op.drop_table("phone_numbers")
    with op.batch_alter_table("pending_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_charges_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_pending_charges_customer_id"))
        batch_op.drop_index(batch_op.f("ix_pending_charges_contract_id"))

    op.drop_table("pending_charges")
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_allocations_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_allocations_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payment_allocations_customer_id"))

    op.drop_table("payment_allocations")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_disputes_customer_id"))

    op.drop_table("disputes")
    with op.batch_alter_table("direct_debits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_direct_debits_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_direct_debits_customer_id"))
        batch_op.drop_index(batch_op.f("ix_direct_debits_batch_id"))

    op.drop_table("direct_debits")
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_entries_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_wallet_entries_customer_id"))

    op.drop_table("wallet_entries")
    with op.batch_alter_table("unlimited_plan_abuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unlimited_plan_abuses_customer_id"))
        batch_op.drop_index(batch_op.f("ix_unlimited_plan_abuses_contract_id"))

    op.drop_table("unlimited_plan_abuses")
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspensions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_suspensions_contract_id"))

    op.drop_table("suspensions")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_contract_id"))

    op.drop_table("subscriptions")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_reservations_customer_id"))

    op.drop_table("reservations")
    with op.batch_alter_table("rate_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_entries_deck_id"))

    op.drop_table("rate_entries")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_login_sessions_customer_id"))

    op.drop_table("login_sessions")
    with op.batch_alter_table("lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lines_customer_id"))
        batch_op.drop_index(batch_op.f("ix_lines_contract_id"))

    op.drop_table("lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_period"))
        batch_op.drop_index(batch_op.f("ix_invoices_operator_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_customer_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_contract_id"))

    op.drop_table("invoices")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_customer_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_contract_id"))

    op.drop_table("equipment")
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_events_customer_id"))
        batch_op.drop_index(batch_op.f("ix_contract_events_contract_id"))

    op.drop_table("contract_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_operator_id"))
        batch_op.drop_index(batch_op.f("ix_api_keys_customer_id"))

    op.drop_table("api_keys")
    op.drop_table("wallets")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_operator_id"))
        batch_op.drop_index(batch_op.f("ix_users_customer_id"))

    op.drop_table("users")
    with op.batch_alter_table("rate_decks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_decks_offer_id"))
        batch_op.drop_index(batch_op.f("ix_rate_decks_customer_id"))

    op.drop_table("rate_decks")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_customer_id"))

    op.drop_table("payments")
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandates_customer_id"))

    op.drop_table("mandates")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_customer_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_customer_id"))

    op.drop_table("contacts")
    op.drop_table("invoice_sequences")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_siren"))
        batch_op.drop_index(batch_op.f("ix_customers_operator_id"))

    op.drop_table("customers")
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_runs_operator_id"))

    op.drop_table("billing_runs")
    op.drop_table("operators")
    op.drop_table("job_runs")
    op.drop_table("index_values")
    op.drop_table("dunning_steps")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_entity"))
        batch_op.drop_index(batch_op.f("ix_audit_events_customer_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
