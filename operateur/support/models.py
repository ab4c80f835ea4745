"""Tables of the support context."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class TicketKind(enum.StrEnum):
    QUESTION = "question"
    INCIDENT = "incident"  # SUP-02 an outage not caused by the customer


class Severity(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"  # the service is down


class TicketStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the operator
    ANSWERED = "answered"  # the operator answered; waiting for the customer
    CLOSED = "closed"


class TicketOutcome(enum.StrEnum):
    RESOLVED = "resolved"
    CAUSED_BY_CUSTOMER = "caused_by_customer"  # SUP-03 billed at the terms' fee
    OPERATOR_FAULT = "operator_fault"  # an incident of the operator: not a request of the quota


class Ticket(Base, Audited):
    """A support request of a customer about one of its contracts (SUP-01)."""

    __tablename__ = "support_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[TicketKind] = mapped_column(StrEnumType(TicketKind))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    service: Mapped[str] = mapped_column(String(30))  # catalog.terms.Service
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[TicketStatus] = mapped_column(
        StrEnumType(TicketStatus), default=TicketStatus.OPEN
    )
    period: Mapped[str] = mapped_column(String(7), index=True)  # month opened (Paris), SUP-03
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(200))
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())  # SUP-02
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[TicketOutcome | None] = mapped_column(StrEnumType(TicketOutcome))


class TicketMessage(Base, Audited):
    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(200))
    from_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)


class TicketAttachment(Base, Audited):
    """A file joined to a ticket, stored under the data directory (``path`` is relative)."""

    __tablename__ = "support_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))


class LossKind(enum.StrEnum):
    CREDENTIALS = "credentials"  # a user's identifier and password
    API_KEY = "api_key"
    SIM = "sim"
    EQUIPMENT = "equipment"


class LossDeclaration(Base, Audited):
    """SUP-04: lost or stolen credentials, SIM or equipment, declared at ``declared_at`` (the
    customer is liable until then), with the suspension made on request."""

    __tablename__ = "loss_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[LossKind] = mapped_column(StrEnumType(LossKind))
    theft: Mapped[bool] = mapped_column(Boolean, default=False)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    declared_by: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    suspend_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_id: Mapped[int | None] = mapped_column(ForeignKey("suspensions.id"))
