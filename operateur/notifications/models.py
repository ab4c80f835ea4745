"""Tables of the notifications context: the outbox and the customers' webhook endpoints."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    SENT = "sent"
    FAILED = "failed"  # the retry limit was reached


class OutboxMessage(Base):
    """One email or webhook call to make. Queued in the transaction of the change it reports,
    so nothing is sent for a change that was rolled back; claimed by the sender with a lease
    (``next_attempt_at`` pushed forward), so a crash mid-send only delays a retry."""

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    event: Mapped[str] = mapped_column(String(60), index=True)
    recipient: Mapped[str] = mapped_column(String(500))  # an email address or a URL
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # email text
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # webhook "data"
    secret: Mapped[str | None] = mapped_column(String(200))  # webhook signing key
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumType(OutboxStatus), default=OutboxStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base, Audited):
    """A customer's URL receiving signed events. The secret signs each delivery; it is shown
    once at creation and masked in the audit log."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), info={"secret": True})
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # [] or ["*"]: every event
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
