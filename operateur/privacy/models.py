"""Tables of the privacy context: security incidents and the customers they affect (SEC-02,
SEC-03), and the requests of data subjects (PRIV-01)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class BreachNature(enum.StrEnum):
    """What the incident did to the data (the three kinds of breach of GDPR art. 4(12), as the
    CNIL's notification form names them)."""

    CONFIDENTIALITY = "confidentiality"  # data disclosed or accessed without right
    INTEGRITY = "integrity"  # data altered without right
    AVAILABILITY = "availability"  # data lost or made unavailable
    NONE = "none"  # a security incident that reached no data


class SecurityIncident(Base, Audited):
    """SEC-02 [003 §15.4] one entry of the security-incident register, recorded by staff. The
    customers it affects are ``IncidentCustomer`` rows (one incident may affect several)."""

    __tablename__ = "security_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    nature: Mapped[BreachNature] = mapped_column(StrEnumType(BreachNature))
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IncidentCustomer(Base, Audited):
    """A customer affected by a security incident. When its data is affected, it is told by
    ``deadline_at`` (SEC-03: detection + the shortest ``security.breach_notification_hours`` of
    its served contracts); ``notified_at`` records when it was."""

    __tablename__ = "security_incident_customers"
    __table_args__ = (UniqueConstraint("incident_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("security_incidents.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    data_affected: Mapped[bool] = mapped_column(Boolean)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: no data affected
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_by: Mapped[str] = mapped_column(String(200), default="")


class RequestKind(enum.StrEnum):
    """The data subject's rights of PRIV-01 [000 §7.4; 003 §15.1]."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    REJECTED = "rejected"  # with its reason in ``note``


class DataSubjectRequest(Base, Audited):
    """PRIV-01 a data subject's request about the customer's data, answered by ``due_on``
    (reception + the shortest ``retention.data_subject_response_days`` of the customer's served
    contracts, calendar days)."""

    __tablename__ = "data_subject_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(StrEnumType(RequestKind))
    subject_name: Mapped[str] = mapped_column(String(200))
    subject_contact: Mapped[str] = mapped_column(String(320))
    details: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[RequestStatus] = mapped_column(
        StrEnumType(RequestStatus), default=RequestStatus.OPEN, index=True
    )
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # what was done, or why refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
