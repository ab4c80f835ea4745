"""Tables of the contracts context."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operateur.accounts.models import Audited
from operateur.db import Base, Money, StrEnumType, UTCDateTime, utcnow


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    TRIAL = "trial"  # free trial access before signature (CTR-12 [002 §6.2])
    SIGNED = "signed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    NOTICE_GIVEN = "notice_given"  # still served; ends on ``ends_on``
    TERMINATED = "terminated"
    PURGED = "purged"  # its data deleted after the retention of the terms (CTR-09)


#: Contracts under which service is provided or about to be (a trial's, one under notice): their
#: terms apply (SEC-01), their customer keeps its numbers (VOX-14) and its data (CTR-09). Not a
#: draft (never signed, nothing provided), nor a contract over.
SERVED = (
    ContractStatus.TRIAL,
    ContractStatus.SIGNED,
    ContractStatus.ACTIVE,
    ContractStatus.SUSPENDED,
    ContractStatus.NOTICE_GIVEN,
)


class Contract(Base, Audited):
    """A customer's contract on an offer. ``terms`` is a full copy of the offer's terms plus the
    negotiated ``overrides`` and ``prices`` a copy of its price list; both are recomputed while
    the contract is a draft and frozen at signature (CTR-01): later template edits never change
    a signed contract."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    offer_id: Mapped[str] = mapped_column(String(50))
    status: Mapped[ContractStatus] = mapped_column(
        StrEnumType(ContractStatus), default=ContractStatus.DRAFT
    )
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    prices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the offer's price list, frozen
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by: Mapped[str | None] = mapped_column(String(200))
    activated_on: Mapped[date | None] = mapped_column(Date)
    notice_given_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # last day of service once notice given
    terminated_on: Mapped[date | None] = mapped_column(Date)
    trial_ends_on: Mapped[date | None] = mapped_column(Date)  # CTR-12 last day of the trial
    access_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # CTR-09
    access_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # CTR-09 done
    # CTR-09 the users and API keys made read-only at termination, given back their admin
    # role if the customer signs a new contract during the read-only window
    read_only_admins: Mapped[dict[str, list[int]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="contract", order_by="Subscription.id"
    )


class ContractEvent(Base):
    """One transition of a contract: who, when, why, from which state to which (append-only;
    the audit log holds the column changes as well)."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    transition: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SuspensionScope(enum.StrEnum):
    FULL = "full"
    INTERNATIONAL_CALLS = "international_calls"  # partial: only calls abroad (CTR-06)
    OUTBOUND_CALLS = "outbound_calls"
    SMS = "sms"
    MAIL = "mail"


class Suspension(Base, Audited):
    """A suspension of a contract, whole or partial, with its cause (CTR-06, SUP-04)."""

    __tablename__ = "suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    cause: Mapped[str] = mapped_column(String(30))  # catalog.terms.SuspensionCause
    scope: Mapped[SuspensionScope] = mapped_column(StrEnumType(SuspensionScope))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the days of service it covers, [starts_on, lifted_on): what billing reads when the terms
    # stop the subscriptions during a suspension (CTR-06, BIL-06)
    starts_on: Mapped[date | None] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")


class Subscription(Base, Audited):
    """An item of a contract: a service, a licence count, a line, an option, with its prices."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_nrc: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    unit_price_mrc: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="subscriptions")


class LineKind(enum.StrEnum):
    CENTREX = "centrex"  # a Centrex extension (VOX-05)
    TRUNK = "trunk"  # a SIP trunk / platform account (VOX-07)
    AGENT = "agent"  # an outbound calling-tool seat (VOX-18)
    MOBILE = "mobile"


class LineStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Line(Base, Audited):
    """A voice line or account that places calls and carries numbers."""

    __tablename__ = "lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[LineKind] = mapped_column(StrEnumType(LineKind))
    label: Mapped[str] = mapped_column(String(200))
    sip_username: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[LineStatus] = mapped_column(StrEnumType(LineStatus), default=LineStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EquipmentMode(enum.StrEnum):
    RENTAL = "rental"  # first rent then a monthly fee (CTR-10)
    PROVISION = "provision"  # billed once at activation, refunded on return minus depreciation


class EquipmentStatus(enum.StrEnum):
    IN_STOCK = "in_stock"
    DELIVERED = "delivered"
    RETURNED = "returned"
    LOST = "lost"


class Equipment(Base, Audited):
    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(100))
    mode: Mapped[EquipmentMode] = mapped_column(StrEnumType(EquipmentMode))
    value: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[EquipmentStatus] = mapped_column(
        StrEnumType(EquipmentStatus), default=EquipmentStatus.DELIVERED
    )
    delivered_on: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # CTR-10 after termination: the return deadline, then the bill for equipment not returned
    # or the refund of returned provided equipment once inspected
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    return_due_on: Mapped[date | None] = mapped_column(Date)
    inspection_due_on: Mapped[date | None] = mapped_column(Date)
    settled_on: Mapped[date | None] = mapped_column(Date)
    settlement_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))


class NoticeKind(enum.StrEnum):
    """What a ``ContractNotice`` records."""

    BREACH = "breach"  # CTR-07 a formal notice for a breach, before termination
    FORCE_MAJEURE = "force_majeure"  # CTR-11 an event of force majeure notified
    OPERATOR_OUTAGE = "operator_outage"  # CTR-14 an outage attributable to the operator
    PRICE_CHANGE = "price_change"  # CTR-13 a price change announced with its effective date
    INACTIVITY = "inactivity"  # CTR-08 the contract found inactive
    SUSPENSION = "suspension"  # CTR-06 a formal notice announcing a suspension for a cause
    # CTR-06 [004 §11.4] a party's notice to terminate after a month of total suspension
    TOTAL_SUSPENSION = "total_suspension"
    # CTR-07 [004 §12.2] the operator's termination in the clause's specific cases
    OPERATOR_TERMINATION = "operator_termination"


class OperatorCase(enum.StrEnum):
    """CTR-07 [004 §12.2] the cases in which the operator may terminate at any time with the
    terms' specific notice. The clause's inactivity case (no call, use or order for two months)
    is CTR-08's own engine (``contracts.inactivity``), with the same notice."""

    CEASED_ACTIVITY = "ceased_activity"  # the customer stops its activity in the Territory
    AUTHORITY_DECISION = "authority_decision"  # a decision of an authority, or a law
    SERVICE_WITHDRAWN = "service_withdrawn"  # the service is withdrawn ("Evolution")
    # breaches of an essential obligation of the contract, (i) to (iv) and any other
    NON_PAYMENT = "non_payment"
    ILLEGAL_USE = "illegal_use"
    EQUIPMENT_INTERFERENCE = "equipment_interference"
    FALSE_INFORMATION = "false_information"
    ESSENTIAL_OBLIGATION = "essential_obligation"


class ContractNotice(Base, Audited):
    """A dated notice that opens or prepares a right on a contract: from ``opens_on`` (and
    until ``closes_on`` when the terms limit it) the party may act — terminate for breach,
    force majeure or outage, or for a price rise."""

    __tablename__ = "contract_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(StrEnumType(NoticeKind))
    by_operator: Mapped[bool] = mapped_column(Boolean, default=True)  # who gave it
    started_on: Mapped[date] = mapped_column(Date)  # the event, or the day notice was given
    notified_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)  # cured / over
    opens_on: Mapped[date | None] = mapped_column(Date)  # first day the right may be used
    closes_on: Mapped[date | None] = mapped_column(Date)  # last day (None: no limit)
    used_on: Mapped[date | None] = mapped_column(Date)  # the right was used (termination)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LicenceChange(Base, Audited):
    """CTR-04 a change of the licence count of a subscription, applied at a renewal: the next
    one, or the one after when asked on or after the terms' cut-off day."""

    __tablename__ = "licence_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    quantity: Mapped[int] = mapped_column(Integer)  # the new count
    requested_on: Mapped[date] = mapped_column(Date)
    effective_on: Mapped[date] = mapped_column(Date)
    applied_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MaintenanceStatus(enum.StrEnum):
    PLANNED = "planned"  # announced, not started
    STARTED = "started"  # the accepted contracts are suspended
    DONE = "done"  # over, the contracts restored
    CANCELLED = "cancelled"  # called off by staff (before or during the window)


class MaintenanceWindow(Base, Audited):
    """CTR-06 [002 §13.1.5] a planned maintenance announced by staff: the service of the
    accepted contracts (``MaintenanceContract``) is suspended from ``starts_at`` to ``ends_at``.
    ``operator_id`` None: announced from the command line for every operator."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    offer_id: Mapped[str | None] = mapped_column(String(50))  # every contract of the offer
    services: Mapped[list[str]] = mapped_column(JSON, default=list)  # catalog.terms.Service
    scope: Mapped[SuspensionScope] = mapped_column(StrEnumType(SuspensionScope))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason_fr: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    announced_by: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[MaintenanceStatus] = mapped_column(
        StrEnumType(MaintenanceStatus), default=MaintenanceStatus.PLANNED
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class MaintenanceContract(Base, Audited):
    """One contract concerned by a maintenance window, checked against its own terms: accepted
    (suspended during the window) or refused with the reason (``refusal``, fr/en)."""

    __tablename__ = "maintenance_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("maintenance_windows.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    refusal_code: Mapped[str | None] = mapped_column(String(40))
    refusal: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    suspension_id: Mapped[int | None] = mapped_column(ForeignKey("suspensions.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
