"""Voice operations: fraud alerts, consumer reports and their notices, call recordings,
proofs of address, number fees, alias targets, port-in requests, the public number directory,
and the calling CRM (contacts, call lists, outcomes).

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("address_line", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_address_proofs_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_proofs")),
    )
    with op.batch_alter_table("address_proofs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_address_proofs_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "crm_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_crm_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts")),
        sa.UniqueConstraint("customer_id", "phone", name=op.f("uq_crm_contacts_customer_id")),
    )
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_contacts_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "consumer_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "report_33700",
                "consumer_complaint",
                "judicial_requisition",
                "regulator_breach",
                name="reportkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("charge_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_consumer_reports_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consumer_reports_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_reports")),
        sa.UniqueConstraint("kind", "reference", name=op.f("uq_consumer_reports_kind")),
    )
    with op.batch_alter_table("consumer_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consumer_reports_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consumer_reports_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_consumer_reports_month"), ["month"], unique=False)

    op.create_table(
        "abnormal_report_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("notified_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suspend_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "notified",
                "suspended",
                "withdrawn",
                name="noticestatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("suspension_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_abnormal_report_notices_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_abnormal_report_notices_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["suspension_id"],
            ["suspensions.id"],
            name=op.f("fk_abnormal_report_notices_suspension_id_suspensions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abnormal_report_notices")),
        sa.UniqueConstraint(
            "contract_id", "month", name=op.f("uq_abnormal_report_notices_contract_id")
        ),
    )
    with op.batch_alter_table("abnormal_report_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_abnormal_report_notices_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_abnormal_report_notices_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_abnormal_report_notices_suspend_at"), ["suspend_at"], unique=False
        )

    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("callee", sa.String(length=32), nullable=False),
        sa.Column("call_started_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_call_recordings_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_call_recordings_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_call_recordings_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_recordings")),
        sa.UniqueConstraint(
            "customer_id", "call_id", "sha256", name=op.f("uq_call_recordings_customer_id")
        ),
    )
    with op.batch_alter_table("call_recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_recordings_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_call_recordings_call_started_at"), ["call_started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_recordings_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_recordings_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_call_recordings_line_id"), ["line_id"], unique=False)

    op.create_table(
        "fraud_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "distinct_numbers",
                "long_calls",
                "prefix_burst",
                "out_of_plan",
                name="alertkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("dedup_key", sa.String(length=120), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("billed_usage_ids", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="alertstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("raised_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_fraud_alerts_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_fraud_alerts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_fraud_alerts_line_id_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_fraud_alerts_dedup_key")),
    )
    with op.batch_alter_table("fraud_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fraud_alerts_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fraud_alerts_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fraud_alerts_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fraud_alerts_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_fraud_alerts_status"), ["status"], unique=False)

    op.create_table(
        "crm_call_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("caller_id_number_id", sa.Integer(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["caller_id_number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_crm_call_lists_caller_id_number_id_phone_numbers"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_crm_call_lists_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_call_lists")),
    )
    with op.batch_alter_table("crm_call_lists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_call_lists_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "number_alias_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_number_alias_targets_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_number_alias_targets_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_number_alias_targets_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_alias_targets")),
        sa.UniqueConstraint("number_id", "line_id", name=op.f("uq_number_alias_targets_number_id")),
    )
    with op.batch_alter_table("number_alias_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_number_alias_targets_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_number_alias_targets_line_id"), ["line_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_number_alias_targets_number_id"), ["number_id"], unique=False
        )

    op.create_table(
        "number_directory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("complaint_contact", sa.String(length=300), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("updated_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_number_directory_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_number_directory_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_directory")),
        sa.UniqueConstraint("number_id", name=op.f("uq_number_directory_number_id")),
    )
    with op.batch_alter_table("number_directory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_number_directory_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "number_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_number_fees_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_number_fees_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["number_id"], ["phone_numbers.id"], name=op.f("fk_number_fees_number_id_phone_numbers")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_number_fees_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_fees")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_number_fees_subscription_id")),
    )
    with op.batch_alter_table("number_fees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_number_fees_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_number_fees_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_number_fees_number_id"), ["number_id"], unique=False)

    op.create_table(
        "port_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("rio", sa.String(length=12), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "scheduled",
                "ported",
                "ineligible",
                "cancelled",
                name="portstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "rio_missing",
                "rio_invalid",
                "number_inactive",
                "port_pending",
                "not_holder",
                name="ineligibility",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("new_number_id", sa.Integer(), nullable=True),
        sa.Column("number_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_on", sa.Date(), nullable=True),
        sa.Column("slot_start", sa.String(length=5), nullable=True),
        sa.Column("slot_end", sa.String(length=5), nullable=True),
        sa.Column("ported_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_port_requests_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_port_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_port_requests_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["new_number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_port_requests_new_number_id_phone_numbers"),
        ),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["phone_numbers.id"],
            name=op.f("fk_port_requests_number_id_phone_numbers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_requests")),
    )
    with op.batch_alter_table("port_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_port_requests_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_port_requests_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_port_requests_e164"), ["e164"], unique=False)
        batch_op.create_index(batch_op.f("ix_port_requests_line_id"), ["line_id"], unique=False)

    op.create_table(
        "crm_call_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "to_call", "callback", "done", name="entrystatus", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("callback_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_user_id"],
            ["users.id"],
            name=op.f("fk_crm_call_list_entries_agent_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
            name=op.f("fk_crm_call_list_entries_contact_id_crm_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_crm_call_list_entries_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["crm_call_lists.id"],
            name=op.f("fk_crm_call_list_entries_list_id_crm_call_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_call_list_entries")),
        sa.UniqueConstraint("list_id", "contact_id", name=op.f("uq_crm_call_list_entries_list_id")),
    )
    with op.batch_alter_table("crm_call_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_call_list_entries_agent_user_id"), ["agent_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_call_list_entries_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_call_list_entries_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_call_list_entries_list_id"), ["list_id"], unique=False
        )

    op.create_table(
        "crm_call_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("caller_id", sa.String(length=20), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=True),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "voicemail",
                "callback",
                "not_interested",
                "wrong_number",
                "success",
                name="outcome",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_user_id"], ["users.id"], name=op.f("fk_crm_call_outcomes_agent_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
            name=op.f("fk_crm_call_outcomes_contact_id_crm_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_crm_call_outcomes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["crm_call_list_entries.id"],
            name=op.f("fk_crm_call_outcomes_entry_id_crm_call_list_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["call_recordings.id"],
            name=op.f("fk_crm_call_outcomes_recording_id_call_recordings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_call_outcomes")),
    )
    with op.batch_alter_table("crm_call_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_call_outcomes_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_call_outcomes_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_call_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_call_outcomes_customer_id"))
        batch_op.drop_index(batch_op.f("ix_crm_call_outcomes_contact_id"))

    op.drop_table("crm_call_outcomes")
    with op.batch_alter_table("crm_call_list_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_call_list_entries_list_id"))
        batch_op.drop_index(batch_op.f("ix_crm_call_list_entries_customer_id"))
        batch_op.drop_index(batch_op.f("ix_crm_call_list_entries_contact_id"))
        batch_op.drop_index(batch_op.f("ix_crm_call_list_entries_agent_user_id"))

    op.drop_table("crm_call_list_entries")
    with op.batch_alter_table("port_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_port_requests_line_id"))
        batch_op.drop_index(batch_op.f("ix_port_requests_e164"))
        batch_op.drop_index(batch_op.f("ix_port_requests_customer_id"))
        batch_op.drop_index(batch_op.f("ix_port_requests_contract_id"))

    op.drop_table("port_requests")
    with op.batch_alter_table("number_fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_number_fees_number_id"))
        batch_op.drop_index(batch_op.f("ix_number_fees_customer_id"))
        batch_op.drop_index(batch_op.f("ix_number_fees_contract_id"))

    op.drop_table("number_fees")
    with op.batch_alter_table("number_directory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_number_directory_customer_id"))

    op.drop_table("number_directory")
    with op.batch_alter_table("number_alias_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_number_alias_targets_number_id"))
        batch_op.drop_index(batch_op.f("ix_number_alias_targets_line_id"))
        batch_op.drop_index(batch_op.f("ix_number_alias_targets_customer_id"))

    op.drop_table("number_alias_targets")
    with op.batch_alter_table("crm_call_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_call_lists_customer_id"))

    op.drop_table("crm_call_lists")
    with op.batch_alter_table("fraud_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_fraud_alerts_period"))
        batch_op.drop_index(batch_op.f("ix_fraud_alerts_line_id"))
        batch_op.drop_index(batch_op.f("ix_fraud_alerts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_fraud_alerts_contract_id"))

    op.drop_table("fraud_alerts")
    with op.batch_alter_table("call_recordings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_recordings_line_id"))
        batch_op.drop_index(batch_op.f("ix_call_recordings_customer_id"))
        batch_op.drop_index(batch_op.f("ix_call_recordings_contract_id"))
        batch_op.drop_index(batch_op.f("ix_call_recordings_call_started_at"))
        batch_op.drop_index(batch_op.f("ix_call_recordings_call_id"))

    op.drop_table("call_recordings")
    with op.batch_alter_table("abnormal_report_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_abnormal_report_notices_suspend_at"))
        batch_op.drop_index(batch_op.f("ix_abnormal_report_notices_customer_id"))
        batch_op.drop_index(batch_op.f("ix_abnormal_report_notices_contract_id"))

    op.drop_table("abnormal_report_notices")
    with op.batch_alter_table("consumer_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_reports_month"))
        batch_op.drop_index(batch_op.f("ix_consumer_reports_customer_id"))
        batch_op.drop_index(batch_op.f("ix_consumer_reports_contract_id"))

    op.drop_table("consumer_reports")
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_contacts_customer_id"))

    op.drop_table("crm_contacts")
    with op.batch_alter_table("address_proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_address_proofs_customer_id"))

    op.drop_table("address_proofs")
