"""Tables of the mail context: what the gateway protects (domains, the customer's own servers,
mailboxes, allow/deny lists), what it holds (the durable queue, the quarantine), what it
records (filtering logs, releases and reports, challenges, abuse counters, prober results,
console connections).

Mail bodies never sit in the database: the queue and the quarantine point at a file of the
spool directory (``operateur.mail.queue.Spool``). Filtering logs keep the envelope and the
verdict, never the body (MAIL-10).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class Direction(enum.StrEnum):
    INBOUND = "inbound"  # MAIL-01 ALTOSPAM: mail to the customer's domains
    OUTBOUND = "outbound"  # MAIL-01 MAILOUT: mail sent by the customer's users


class MailDomain(Base, Audited):
    """A domain whose mail the gateway accepts and filters for one customer (MAIL-01, MAIL-07)."""

    __tablename__ = "mail_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)  # lower-case, IDNA (A-labels)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MailServer(Base, Audited):
    """One of the customer's own mail servers, where clean inbound mail is relayed; the lowest
    ``priority`` is tried first. ``domain_id`` None: the server takes every domain's mail."""

    __tablename__ = "mail_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("mail_domains.id"), index=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=25)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Mailbox(Base, Audited):
    """A licensed address of a protected domain (MAIL-07) with its own switches: filtering
    (MAIL-04 users with filtering disabled), the quarantine digest (MAIL-03), and an optional
    password for authenticated submission (MAILOUT). A blocked mailbox may not send (MAIL-08)."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("mail_domains.id"), index=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    filtering_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), info={"secret": True})
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_reason: Mapped[str | None] = mapped_column(String(300))
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info={"audit": False})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MailSettings(Base, Audited):
    """A customer's gateway settings: challenge-response on or off (MAIL-03) and the
    customer-wide submission account (MAILOUT), blockable like a mailbox (MAIL-08)."""

    __tablename__ = "mail_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    challenge_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    relay_username: Mapped[str | None] = mapped_column(String(100), unique=True)
    relay_password_hash: Mapped[str | None] = mapped_column(String(200), info={"secret": True})
    relay_blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    relay_blocked_reason: Mapped[str | None] = mapped_column(String(300))


class ListKind(enum.StrEnum):
    ALLOW = "allow"  # MAIL-02, MAIL-04 never spam
    DENY = "deny"  # MAIL-02 always refused


class MailListEntry(Base, Audited):
    """An address (``someone@example.com``) or a domain (``@example.com``) on an allow or deny
    list: the customer's own, or the operator's (``customer_id`` None) for every customer."""

    __tablename__ = "mail_list_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[ListKind] = mapped_column(StrEnumType(ListKind))
    value: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RefusedDomain(Base, Audited):
    """A domain the operator refuses to protect: an illegal or immoral site (MAIL-07 [003 §3.2])."""

    __tablename__ = "mail_refused_domains"
    __table_args__ = (UniqueConstraint("operator_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(253))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FilterLog(Base):
    """The filtering log of one message for one customer (MAIL-10: kept 365 days): envelope,
    verdict and the facts the SLA figures need (MAIL-04, MAIL-05 exclusions). No body."""

    __tablename__ = "mail_filter_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    gateway: Mapped[str] = mapped_column(String(64))  # the instance that accepted it
    client_ip: Mapped[str | None] = mapped_column(String(64))
    helo: Mapped[str | None] = mapped_column(String(253))
    account: Mapped[str | None] = mapped_column(String(320), index=True)  # MAILOUT sender
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_tos: Mapped[list[str]] = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # deliver, tag, quarantine, reject
    score: Mapped[float] = mapped_column(Float)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    virus: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_listed: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-04
    deny_listed: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-05 exclusion
    filtering_disabled: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-04
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-04, MAIL-05
    corrupted_host: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-02, MAIL-05
    corrupted_domain: Mapped[bool] = mapped_column(Boolean, default=False)  # MAIL-05


class QueueStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt
    DELIVERING = "delivering"  # claimed by one gateway instance until ``lease_until``
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good by the receiving server
    EXPIRED = "expired"  # MAIL-09 the receiving server stayed unreachable too long


class QueuedMessage(Base):
    """One delivery to do: a spooled message for some recipients, to the customer's servers
    (inbound) or to the recipients' domain MX (outbound). Durable before the 250 reply, claimed
    by one instance at a time so that two gateways never deliver it twice (MAIL-12)."""

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    log_id: Mapped[int | None] = mapped_column(ForeignKey("mail_filter_logs.id"), index=True)
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction))
    spool_name: Mapped[str] = mapped_column(String(80), index=True)
    headers: Mapped[list[str]] = mapped_column(JSON)  # header lines prepended on delivery
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_tos: Mapped[list[str]] = mapped_column(JSON)
    destination: Mapped[str] = mapped_column(String(253))  # a recipient domain
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[QueueStatus] = mapped_column(StrEnumType(QueueStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    refused_rcpts: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # MAIL-09 received + 168 h
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_by: Mapped[str | None] = mapped_column(String(64))


class QuarantineStatus(enum.StrEnum):
    HELD = "held"
    RELEASED = "released"
    DELETED = "deleted"
    EXPIRED = "expired"  # MAIL-10 deleted after the terms' mail retention


class QuarantinedMessage(Base):
    """A message held for one recipient (MAIL-03): visible to the customer's administrators,
    listed in the recipient's digest, releasable by them or by its sender (challenge)."""

    __tablename__ = "mail_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("mail_filter_logs.id"), index=True)
    spool_name: Mapped[str] = mapped_column(String(80), index=True)
    mail_from: Mapped[str] = mapped_column(String(320), index=True)
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    score: Mapped[float] = mapped_column(Float)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    virus: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[QuarantineStatus] = mapped_column(StrEnumType(QuarantineStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))


class FeedbackKind(enum.StrEnum):
    RELEASE = "release"  # MAIL-03 a quarantined message let through
    REPORT_SPAM = "report_spam"  # MAIL-05 a delivered message was spam (false negative)
    REPORT_HAM = "report_ham"  # MAIL-05 a blocked message was legitimate (false positive)
    REPORT_VIRUS = "report_virus"  # MAIL-06 a delivered message carried a virus


class FeedbackChannel(enum.StrEnum):
    SENDER_CHALLENGE = "sender_challenge"  # MAIL-03 the sender answered the challenge
    ADMINISTRATOR = "administrator"  # MAIL-03 console (API, CLI)
    RECIPIENT_DIGEST = "recipient_digest"  # MAIL-03 the digest's signed link


class MailFeedback(Base):
    """Every release and report, for the SLA figures (MAIL-03, MAIL-05)."""

    __tablename__ = "mail_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("mail_filter_logs.id"), index=True)
    quarantine_id: Mapped[int | None] = mapped_column(Integer)  # kept after its purge
    kind: Mapped[FeedbackKind] = mapped_column(StrEnumType(FeedbackKind))
    channel: Mapped[FeedbackChannel] = mapped_column(StrEnumType(FeedbackChannel))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class MailChallenge(Base):
    """The one challenge sent to a sender for a customer in a period (MAIL-03): answering it
    releases the sender's held messages."""

    __tablename__ = "mail_challenges"
    __table_args__ = (UniqueConstraint("customer_id", "sender", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    sender: Mapped[str] = mapped_column(String(320))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    code: Mapped[str] = mapped_column(String(12))  # what the human types back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DailyCount(Base):
    """Messages of one address on one day, in or out (MAIL-08 abuse limit)."""

    __tablename__ = "mail_daily_counts"
    __table_args__ = (UniqueConstraint("address", "day", "direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    day: Mapped[date] = mapped_column(Date)
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction))
    count: Mapped[int] = mapped_column(Integer, default=0)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class ProbeResult(Base):
    """One check of one gateway in one minute (MAIL-06 availability: unavailable when every
    gateway failed in the same minute)."""

    __tablename__ = "mail_probe_results"
    __table_args__ = (UniqueConstraint("gateway", "minute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(100))
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(300), default="")


class ConsoleLog(Base):
    """A connection to the mail console (API or CLI): who, from where, what (MAIL-10, MAIL-11:
    kept 365 days)."""

    __tablename__ = "mail_console_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LicenceRecount(Base, Audited):
    """The recount of mailboxes and domains done for one renewal of a contract (MAIL-07,
    CTR-04 [003 §3.1]): once per term, the quantities handed to billing for the new period."""

    __tablename__ = "mail_licence_recounts"
    __table_args__ = (UniqueConstraint("contract_id", "term_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    term_start: Mapped[date] = mapped_column(Date)
    mailboxes: Mapped[int] = mapped_column(Integer)
    domains: Mapped[int] = mapped_column(Integer)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
