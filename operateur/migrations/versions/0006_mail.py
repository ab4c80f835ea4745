"""Mail security gateway: domains, customer servers, mailboxes, lists, queue, quarantine,
filtering logs, releases and reports, challenges, abuse counters, prober results, console logs.

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operateur.db

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_probe_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=100), nullable=False),
        sa.Column("minute", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_probe_results")),
        sa.UniqueConstraint("gateway", "minute", name=op.f("uq_mail_probe_results_gateway")),
    )
    with op.batch_alter_table("mail_probe_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_probe_results_minute"), ["minute"], unique=False)

    op.create_table(
        "mail_refused_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_mail_refused_domains_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_refused_domains")),
        sa.UniqueConstraint(
            "operator_id", "name", name=op.f("uq_mail_refused_domains_operator_id")
        ),
    )
    with op.batch_alter_table("mail_refused_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_refused_domains_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "mail_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("period_start", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_challenges_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_challenges")),
        sa.UniqueConstraint(
            "customer_id", "sender", "period_start", name=op.f("uq_mail_challenges_customer_id")
        ),
    )
    with op.batch_alter_table("mail_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_challenges_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_console_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_console_logs_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_console_logs")),
    )
    with op.batch_alter_table("mail_console_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_console_logs_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_console_logs_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_daily_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="direction", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_daily_counts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_daily_counts")),
        sa.UniqueConstraint(
            "address", "day", "direction", name=op.f("uq_mail_daily_counts_address")
        ),
    )
    with op.batch_alter_table("mail_daily_counts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_daily_counts_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_filter_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="direction", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gateway", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("helo", sa.String(length=253), nullable=True),
        sa.Column("account", sa.String(length=320), nullable=True),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("rcpt_tos", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("virus", sa.Boolean(), nullable=False),
        sa.Column("allow_listed", sa.Boolean(), nullable=False),
        sa.Column("deny_listed", sa.Boolean(), nullable=False),
        sa.Column("filtering_disabled", sa.Boolean(), nullable=False),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("corrupted_host", sa.Boolean(), nullable=False),
        sa.Column("corrupted_domain", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_filter_logs_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_filter_logs")),
    )
    with op.batch_alter_table("mail_filter_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_filter_logs_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_filter_logs_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_filter_logs_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("allow", "deny", name="listkind", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_list_entries_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_mail_list_entries_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_list_entries")),
    )
    with op.batch_alter_table("mail_list_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_list_entries_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_list_entries_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("challenge_enabled", sa.Boolean(), nullable=False),
        sa.Column("relay_username", sa.String(length=100), nullable=True),
        sa.Column("relay_password_hash", sa.String(length=200), nullable=True),
        sa.Column("relay_blocked_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("relay_blocked_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_settings_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_settings")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_mail_settings_customer_id")),
        sa.UniqueConstraint("relay_username", name=op.f("uq_mail_settings_relay_username")),
    )
    op.create_table(
        "mail_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_mail_domains_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_domains_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_domains")),
        sa.UniqueConstraint("name", name=op.f("uq_mail_domains_name")),
    )
    with op.batch_alter_table("mail_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_domains_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_domains_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("quarantine_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "release",
                "report_spam",
                "report_ham",
                "report_virus",
                name="feedbackkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "sender_challenge",
                "administrator",
                "recipient_digest",
                name="feedbackchannel",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_feedback_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["mail_filter_logs.id"],
            name=op.f("fk_mail_feedback_log_id_mail_filter_logs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_feedback")),
    )
    with op.batch_alter_table("mail_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_feedback_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_feedback_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_feedback_log_id"), ["log_id"], unique=False)

    op.create_table(
        "mail_licence_recounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("mailboxes", sa.Integer(), nullable=False),
        sa.Column("domains", sa.Integer(), nullable=False),
        sa.Column("done_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_mail_licence_recounts_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_mail_licence_recounts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_licence_recounts")),
        sa.UniqueConstraint(
            "contract_id", "term_start", name=op.f("uq_mail_licence_recounts_contract_id")
        ),
    )
    with op.batch_alter_table("mail_licence_recounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_licence_recounts_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_licence_recounts_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "mail_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("spool_name", sa.String(length=80), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("virus", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "released",
                "deleted",
                "expired",
                name="quarantinestatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digested_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_quarantine_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["log_id"],
            ["mail_filter_logs.id"],
            name=op.f("fk_mail_quarantine_log_id_mail_filter_logs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_quarantine")),
    )
    with op.batch_alter_table("mail_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_quarantine_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_quarantine_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_quarantine_log_id"), ["log_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_quarantine_mail_from"), ["mail_from"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_quarantine_recipient"), ["recipient"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_quarantine_spool_name"), ["spool_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_quarantine_status"), ["status"], unique=False)

    op.create_table(
        "mail_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="direction", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("spool_name", sa.String(length=80), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mail_from", sa.String(length=320), nullable=False),
        sa.Column("rcpt_tos", sa.JSON(), nullable=False),
        sa.Column("destination", sa.String(length=253), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "delivering",
                "delivered",
                "failed",
                "expired",
                name="queuestatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("refused_rcpts", sa.JSON(), nullable=False),
        sa.Column("received_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_queue_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["log_id"], ["mail_filter_logs.id"], name=op.f("fk_mail_queue_log_id_mail_filter_logs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_queue")),
    )
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_queue_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_queue_log_id"), ["log_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_queue_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_queue_spool_name"), ["spool_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_queue_status"), ["status"], unique=False)

    op.create_table(
        "mail_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mail_servers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["mail_domains.id"], name=op.f("fk_mail_servers_domain_id_mail_domains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_servers")),
    )
    with op.batch_alter_table("mail_servers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_servers_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_servers_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("filtering_enabled", sa.Boolean(), nullable=False),
        sa.Column("digest_enabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("blocked_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocked_reason", sa.String(length=300), nullable=True),
        sa.Column("last_digest_at", operateur.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", operateur.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_mailboxes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["mail_domains.id"], name=op.f("fk_mailboxes_domain_id_mail_domains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_mailboxes_address")),
    )
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailboxes_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mailboxes_domain_id"), ["domain_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailboxes_domain_id"))
        batch_op.drop_index(batch_op.f("ix_mailboxes_customer_id"))

    op.drop_table("mailboxes")
    with op.batch_alter_table("mail_servers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_servers_domain_id"))
        batch_op.drop_index(batch_op.f("ix_mail_servers_customer_id"))

    op.drop_table("mail_servers")
    with op.batch_alter_table("mail_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_queue_status"))
        batch_op.drop_index(batch_op.f("ix_mail_queue_spool_name"))
        batch_op.drop_index(batch_op.f("ix_mail_queue_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_mail_queue_log_id"))
        batch_op.drop_index(batch_op.f("ix_mail_queue_customer_id"))

    op.drop_table("mail_queue")
    with op.batch_alter_table("mail_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_status"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_spool_name"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_recipient"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_mail_from"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_log_id"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_quarantine_created_at"))

    op.drop_table("mail_quarantine")
    with op.batch_alter_table("mail_licence_recounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_licence_recounts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_licence_recounts_contract_id"))

    op.drop_table("mail_licence_recounts")
    with op.batch_alter_table("mail_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_feedback_log_id"))
        batch_op.drop_index(batch_op.f("ix_mail_feedback_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_feedback_at"))

    op.drop_table("mail_feedback")
    with op.batch_alter_table("mail_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_domains_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_domains_contract_id"))

    op.drop_table("mail_domains")
    op.drop_table("mail_settings")
    with op.batch_alter_table("mail_list_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_list_entries_operator_id"))
        batch_op.drop_index(batch_op.f("ix_mail_list_entries_customer_id"))

    op.drop_table("mail_list_entries")
    with op.batch_alter_table("mail_filter_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_filter_logs_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_filter_logs_at"))
        batch_op.drop_index(batch_op.f("ix_mail_filter_logs_account"))

    op.drop_table("mail_filter_logs")
    with op.batch_alter_table("mail_daily_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_daily_counts_customer_id"))

    op.drop_table("mail_daily_counts")
    with op.batch_alter_table("mail_console_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_console_logs_customer_id"))
        batch_op.drop_index(batch_op.f("ix_mail_console_logs_at"))

    op.drop_table("mail_console_logs")
    with op.batch_alter_table("mail_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_challenges_customer_id"))

    op.drop_table("mail_challenges")
    with op.batch_alter_table("mail_refused_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_refused_domains_operator_id"))

    op.drop_table("mail_refused_domains")
    with op.batch_alter_table("mail_probe_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_probe_results_minute"))

    op.drop_table("mail_probe_results")
