"""Tables of the quality context: consumer reports on numbers and the notices they lead to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, mapped_column

from operateur.accounts.models import Audited
from operateur.db import Base, StrEnumType, UTCDateTime, utcnow


class ReportKind(enum.StrEnum):
    """VOX-16 [002 §27] what a report on a customer's number is; each has its penalty."""

    REPORT_33700 = "report_33700"  # a ticket of the 33700 / infosva consumer platform
    CONSUMER_COMPLAINT = "consumer_complaint"
    JUDICIAL_REQUISITION = "judicial_requisition"
    REGULATOR_BREACH = "regulator_breach"


class ConsumerReport(Base, Audited):
    """One report about a customer's number, once per (kind, reference)."""

    __tablename__ = "consumer_reports"
    __table_args__ = (UniqueConstraint("kind", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # E.164 of the number reported
    kind: Mapped[ReportKind] = mapped_column(StrEnumType(ReportKind))
    reference: Mapped[str] = mapped_column(String(100))  # the ticket / complaint reference
    received_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM of received_on
    details: Mapped[str] = mapped_column(SqlText, default="")
    charge_key: Mapped[str | None] = mapped_column(String(100))  # the penalty's PendingCharge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeStatus(enum.StrEnum):
    NOTIFIED = "notified"  # the customer was warned; suspension at ``suspend_at``
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"  # staff withdrew it before the suspension


class AbnormalReportsNotice(Base, Audited):
    """VOX-16 [000 §4.4]: reports above the average of all customers for the terms' number of
    consecutive months: the customer is given notice, then suspended."""

    __tablename__ = "abnormal_report_notices"
    __table_args__ = (UniqueConstraint("contract_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # the last month of the run above average
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspend_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[NoticeStatus] = mapped_column(StrEnumType(NoticeStatus))
    suspension_id: Mapped[int | None] = mapped_column(ForeignKey("suspensions.id"))
