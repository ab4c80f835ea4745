"""Tables of the SMS context: the outbox of messages, campaigns, templates, distribution lists,
sender IDs, unsubscriptions (STOP), monthly stock and the customer's API settings.

``SmsMessage`` is the outbox: every SMS, single or from a campaign, is one row with one state
machine (``operateur.sms.outbox``). The SMPP transport only moves messages through the functions
of that module. Message rows are not audited one by one (a campaign makes thousands); the
campaign, sender, stock and settings rows, which people change, are.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.catalog.terms import OutsideWindow
from operateur.db import Base, Money, StrEnumType, UTCDateTime, utcnow
from operateur.sms.encoding import SmsEncoding


class SmsStatus(enum.StrEnum):
    """Where a message stands. Final: DELIVERED, UNDELIVERED, EXPIRED, REJECTED, UNSUBSCRIBED,
    CANCELLED."""

    HELD = "held"  # SMS-09 held by the content filter until staff release or reject it
    QUEUED = "queued"  # waiting for its time (not_before, the sending window SMS-04)
    SUBMITTING = "submitting"  # claimed by the SMPP dispatcher
    SUBMITTED = "submitted"  # accepted by the SMSC (submit_sm_resp), billed
    DELIVERED = "delivered"  # delivery receipt DELIVRD
    UNDELIVERED = "undelivered"  # receipt UNDELIV / REJECTD / DELETED
    EXPIRED = "expired"  # receipt EXPIRED
    REJECTED = "rejected"  # refused (window, SMSC error, staff review) and never sent
    UNSUBSCRIBED = "unsubscribed"  # SMS-06 the recipient answered STOP: refused, never sent
    CANCELLED = "cancelled"  # its campaign was cancelled before it left


FINAL_STATUSES = frozenset(
    {
        SmsStatus.DELIVERED,
        SmsStatus.UNDELIVERED,
        SmsStatus.EXPIRED,
        SmsStatus.REJECTED,
        SmsStatus.UNSUBSCRIBED,
        SmsStatus.CANCELLED,
    }
)

#: Statuses whose parts were never sent: they use no stock and cost nothing.
NOT_SENT_STATUSES = frozenset({SmsStatus.REJECTED, SmsStatus.UNSUBSCRIBED, SmsStatus.CANCELLED})


class CampaignStatus(enum.StrEnum):
    """What people did to a campaign. Whether a launched one is still waiting for its time,
    running or finished is read from its messages (``campaigns.progress``)."""

    DRAFT = "draft"
    LAUNCHED = "launched"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class SmsCampaign(Base, Audited):
    """A bulk send: a text (with placeholders) to a distribution list, now or at a time."""

    __tablename__ = "sms_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    list_id: Mapped[int] = mapped_column(ForeignKey("sms_lists.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("sms_templates.id"))
    text: Mapped[str] = mapped_column(SqlText)
    sender: Mapped[str] = mapped_column(String(16))
    status: Mapped[CampaignStatus] = mapped_column(StrEnumType(CampaignStatus))
    outside_window: Mapped[OutsideWindow] = mapped_column(StrEnumType(OutsideWindow))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    part_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsMessage(Base):
    """One SMS in the outbox (CONTRACTS.md): its text, parts, route and one status.

    ``cost`` is the price of its parts under the contract's price list, reserved on a prepaid
    account at enqueue (reservation ``sms:<id>``) and committed when the SMSC accepts it.
    ``stock_month`` is the month (Paris) whose SMS stock it uses (SMS-08).
    """

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("customer_id", "client_ref"),
        Index("ix_sms_messages_due", "status", "route", "not_before"),
        Index("ix_sms_messages_stock", "customer_id", "stock_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("sms_campaigns.id"), index=True)
    sender: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(20), index=True)  # E.164 "+33612345678"
    text: Mapped[str] = mapped_column(SqlText)
    encoding: Mapped[SmsEncoding] = mapped_column(StrEnumType(SmsEncoding))
    parts: Mapped[int] = mapped_column(Integer)
    status: Mapped[SmsStatus] = mapped_column(StrEnumType(SmsStatus))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last SUBMITTING
    route: Mapped[str] = mapped_column(String(40), default="default")
    smsc_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(SqlText)
    client_ref: Mapped[str | None] = mapped_column(String(100))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    outside_window: Mapped[OutsideWindow] = mapped_column(StrEnumType(OutsideWindow))
    held_rule: Mapped[str | None] = mapped_column(String(60))  # SMS-09 the matching rule
    warning: Mapped[str | None] = mapped_column(String(60))  # SMS-07 e.g. "fixed_number"
    destination: Mapped[str] = mapped_column(String(40))  # "FR mobile", "FR fixed", "BE mobile"
    cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_month: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsSubmission(Base):
    """One part as the SMSC knows it: the message id of its submit_sm_resp, matched by the
    delivery receipt. ``stat`` is the receipt's final state of that part."""

    __tablename__ = "sms_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    smsc_id: Mapped[str] = mapped_column(String(65), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_messages.id"), index=True)
    part: Mapped[int] = mapped_column(Integer)
    stat: Mapped[str | None] = mapped_column(String(10))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SmsTemplate(Base, Audited):
    """A reusable text with ``{placeholders}`` filled from a list's columns (SMS-01)."""

    __tablename__ = "sms_templates"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(SqlText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsList(Base, Audited):
    """A distribution list: recipients with named columns for the placeholders (SMS-01)."""

    __tablename__ = "sms_lists"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsListEntry(Base):
    """One recipient of a list, in E.164, with its column values."""

    __tablename__ = "sms_list_entries"
    __table_args__ = (UniqueConstraint("list_id", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("sms_lists.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(20))
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    warning: Mapped[str | None] = mapped_column(String(60))


class SenderStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the operator's review
    AUTHORISED = "authorised"
    REFUSED = "refused"


class SmsSender(Base, Audited):
    """A custom sender ID (OADC) asked for by a customer, reviewed by the operator (SMS-05)."""

    __tablename__ = "sms_senders"
    __table_args__ = (UniqueConstraint("customer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    status: Mapped[SenderStatus] = mapped_column(StrEnumType(SenderStatus))
    rule: Mapped[str | None] = mapped_column(String(40))  # the refusing rule, named
    reason: Mapped[str] = mapped_column(SqlText, default="")
    billed: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))


class SmsOptOut(Base):
    """A recipient who answered STOP (SMS-06). ``scope`` is ``short-code:<code>`` (every
    customer sharing that short code) or ``customer:<id>`` (one customer's senders)."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (UniqueConstraint("recipient", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(20), index=True)
    scope: Mapped[str] = mapped_column(String(40))
    keyword: Mapped[str] = mapped_column(String(160))  # the text received, as received
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsStock(Base, Audited):
    """A customer's monthly SMS stock when the operator set it (SMS-08); without a row the
    contract terms' default applies."""

    __tablename__ = "sms_stocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    monthly_limit: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(SqlText, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsStockUse(Base):
    """Parts counted against a customer's stock for one month (Paris), kept as a counter so
    that each send checks the stock in one locked row (SMS-08). Raised at enqueue, lowered when
    a message ends without being sent."""

    __tablename__ = "sms_stock_uses"
    __table_args__ = (UniqueConstraint("customer_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    month: Mapped[str] = mapped_column(String(7))
    parts: Mapped[int] = mapped_column(Integer, default=0)


class SmsSettings(Base, Audited):
    """A customer's SMS API settings: where status callbacks go, signed with ``callback_secret``
    (HMAC-SHA256), and whether messages outside the sending window are queued or rejected."""

    __tablename__ = "sms_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    callback_url: Mapped[str | None] = mapped_column(String(500))
    callback_secret: Mapped[str] = mapped_column(String(64), info={"secret": True})
    outside_window: Mapped[OutsideWindow | None] = mapped_column(StrEnumType(OutsideWindow))
