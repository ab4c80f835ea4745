"""Tables of the billing context: usage, rate decks, invoices, payments, mandates, wallets."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy import Text as SqlText
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operateur.accounts.models import Audited
from operateur.db import Base, ExactDecimal, Money, StrEnumType, UTCDateTime, utcnow
from operateur.errors import Conflict
from operateur.i18n import Text


def Rate() -> ExactDecimal:  # noqa: N802 - a column type
    """Unit prices of rate decks: up to 6 decimals (BIL-09 decks quote per-minute prices)."""
    return ExactDecimal(18, 6)


class UsageKind(enum.StrEnum):
    VOICE = "voice"
    SMS = "sms"


class UsageStatus(enum.StrEnum):
    RATED = "rated"
    REJECTED = "rejected"  # kept with its reason, never dropped


class UsageRecord(Base):
    """One call or SMS, stored once whatever the number of times it is sent (idempotent)."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(30))  # api, kamailio, asterisk, csv...
    external_id: Mapped[str] = mapped_column(String(128))  # the call id / message id
    kind: Mapped[UsageKind] = mapped_column(StrEnumType(UsageKind))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("lines.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str] = mapped_column(String(32))
    callee: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposition: Mapped[str] = mapped_column(String(20))
    billable_seconds: Mapped[int] = mapped_column(Integer, default=0)
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sms_segments: Mapped[int] = mapped_column(Integer, default=0)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM of the start, Paris
    status: Mapped[UsageStatus] = mapped_column(StrEnumType(UsageStatus))
    reject_reason: Mapped[str | None] = mapped_column(SqlText)
    prefix: Mapped[str | None] = mapped_column(String(16))
    destination: Mapped[str | None] = mapped_column(String(100))
    cost: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    surcharge: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))  # BIL-09 third party
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


OPEN = sql_text("invoice_id IS NULL")


class PeriodUsage(Base):
    """Running totals of a contract's rated usage for one period, kind and destination.

    Every rated usage record is added to the open totals of its key as it is stored
    (``billing.usage_totals``), and the invoice that bills them closes them (``invoice_id``):
    a billing run reads and marks thousands of totals, not millions of records. Usage that
    arrives after its totals were invoiced opens a new row, billed on the next invoice.
    """

    __tablename__ = "period_usage"
    __table_args__ = (
        Index(
            "uq_period_usage_open",
            "contract_id",
            "period",
            "kind",
            "destination",
            "prefix",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[UsageKind] = mapped_column(StrEnumType(UsageKind))
    destination: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), default="")
    calls: Mapped[int] = mapped_column(Integer, default=0)  # records: calls or messages
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    sms_segments: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    surcharge: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)


class RateDeck(Base, Audited):
    """A published rate deck: one per offer, or a customer's own that overrides it."""

    __tablename__ = "rate_decks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    offer_id: Mapped[str | None] = mapped_column(String(50), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entries: Mapped[list[RateEntry]] = relationship(
        back_populates="deck", cascade="all, delete-orphan", order_by="RateEntry.prefix"
    )


class RateEntry(Base):
    __tablename__ = "rate_entries"
    __table_args__ = (UniqueConstraint("deck_id", "prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("rate_decks.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(100))
    price_per_minute: Mapped[Decimal] = mapped_column(Rate())
    connection_fee: Mapped[Decimal] = mapped_column(Rate())
    first_step: Mapped[int] = mapped_column(Integer)
    next_step: Mapped[int] = mapped_column(Integer)
    min_seconds: Mapped[int] = mapped_column(Integer)

    deck: Mapped[RateDeck] = relationship(back_populates="entries")


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    ISSUED = "issued"  # immutable from now on; corrections are credit notes
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CREDITED = "credited"  # fully cancelled by credit notes


class BillingRun(Base, Audited):
    """A monthly billing run; rerunning the same period completes it, never duplicates."""

    __tablename__ = "billing_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invoices_issued: Mapped[int] = mapped_column(Integer, default=0)
    contracts_skipped: Mapped[int] = mapped_column(Integer, default=0)


class InvoiceSequence(Base):
    """The operator's invoice counter: locked while a number is taken, so numbers are gapless."""

    __tablename__ = "invoice_sequences"
    __table_args__ = (UniqueConstraint("operator_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base, Audited):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("contract_id", "period", "kind", "purpose"),
        # each operator numbers its own invoices (BIL-03): one sequence per operator and year
        UniqueConstraint("operator_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_runs.id"))
    number: Mapped[str] = mapped_column(String(30))
    kind: Mapped[InvoiceKind] = mapped_column(StrEnumType(InvoiceKind))
    # what the document is for: "period" (the monthly run), "penalty", "interim", "credit:<id>"...
    purpose: Mapped[str] = mapped_column(String(40))
    period: Mapped[str | None] = mapped_column(String(7), index=True)
    status: Mapped[InvoiceStatus] = mapped_column(StrEnumType(InvoiceStatus))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    received_date: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    reverse_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    vat_exemption_reason: Mapped[str | None] = mapped_column(String(200))
    total_net: Mapped[Decimal] = mapped_column(Money())
    total_vat: Mapped[Decimal] = mapped_column(Money())
    total_gross: Mapped[Decimal] = mapped_column(Money())
    amount_paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    amount_disputed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    amount_credited: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    preceding_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class SubscriptionCoverage(Base):
    """How far each subscription has been invoiced: recurring fees up to ``billed_until``
    (exclusive), the one-off fee on ``nrc_invoice_id``. Reruns bill only what is left."""

    __tablename__ = "subscription_coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), unique=True)
    billed_until: Mapped[date | None] = mapped_column(Date)
    nrc_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))


class LineSource(enum.StrEnum):
    SUBSCRIPTION = "subscription"  # MRC, in advance or in arrears (BIL-01)
    ONE_OFF = "one_off"  # NRC: access fee, set-up, equipment provision (BIL-17)
    USAGE = "usage"  # rated calls and SMS (BIL-01, BIL-09)
    SURCHARGE = "surcharge"  # third-party surcharges passed through (BIL-09)
    ALLOWANCE = "allowance"  # calls included in the plans, deducted (BIL-15)
    MINIMUM_SHORTFALL = "minimum_shortfall"  # BIL-08
    PAYMENT_METHOD_SURCHARGE = "payment_method_surcharge"  # BIL-05
    REJECTION_FEE = "rejection_fee"  # BIL-05
    PENALTY = "penalty"  # BIL-06 late-payment interest and indemnity; VOX-08 quality penalties
    CREDIT = "credit"  # BIL-16 SLA credits and other deductions
    CORRECTION = "correction"  # credit notes


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[LineSource] = mapped_column(StrEnumType(LineSource))
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(14, 4))
    unit: Mapped[str] = mapped_column(String(8))  # UN/ECE rec. 20: C62, MON, MIN...
    unit_price: Mapped[Decimal] = mapped_column(Rate())  # HT
    vat_rate: Mapped[Decimal] = mapped_column(ExactDecimal(5, 2))
    vat_category: Mapped[str] = mapped_column(String(2))  # S standard, AE reverse charge
    net_amount: Mapped[Decimal] = mapped_column(Money())

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class UnlimitedPlanAbuse(Base, Audited):
    """BIL-15: an "unlimited" plan abused during a period (flagged by the fraud rules): its
    usage is billed at metered prices and the terms' fee per line is charged."""

    __tablename__ = "unlimited_plan_abuses"
    __table_args__ = (UniqueConstraint("contract_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    lines: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(SqlText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndexValue(Base, Audited):
    """A published value of a price index (e.g. Syntec), entered with its source (CTR-13)."""

    __tablename__ = "index_values"
    __table_args__ = (UniqueConstraint("index", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    value: Mapped[Decimal] = mapped_column(ExactDecimal(12, 4))
    source: Mapped[str] = mapped_column(String(200))


class PriceRevision(Base, Audited):
    """A subscription's price revised on its contract's anniversary: P = P0 × S1 / S0."""

    __tablename__ = "price_revisions"
    __table_args__ = (UniqueConstraint("subscription_id", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    p0: Mapped[Decimal] = mapped_column(Rate())
    s0: Mapped[Decimal] = mapped_column(ExactDecimal(12, 4))
    s1: Mapped[Decimal] = mapped_column(ExactDecimal(12, 4))
    new_price: Mapped[Decimal] = mapped_column(Rate())


class PendingCharge(Base, Audited):
    """A charge or credit from another engine (penalty, SLA credit, fee), put on the next
    invoice of the contract (BIL-16), then marked with that invoice."""

    __tablename__ = "pending_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    source: Mapped[LineSource] = mapped_column(StrEnumType(LineSource))
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money())  # HT; negative for a credit
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payment(Base, Audited):
    """A payment received; ``reference`` (the bank's transaction id) is unique per customer:
    two customers' banks may give the same one, and a retry of the same payment is found by it.
    """

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("customer_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(Money())
    unallocated: Mapped[Decimal] = mapped_column(Money())
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))  # idempotency, per customer
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # e.g. debit rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentAllocation(Base, Audited):
    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DisputeStatus(enum.StrEnum):
    REFUSED = "refused"  # not admissible under the terms (BIL-07): reasons recorded
    OPEN = "open"  # admissible: the contested amount is held out of collection
    UPHELD = "upheld"  # the customer was right: credit note
    REJECTED = "rejected"  # the invoice stands: collection (and penalties) resume


class Dispute(Base, Audited):
    """A customer's contestation of an invoice (BIL-07)."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    filed_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(30))
    contested_amount: Mapped[Decimal] = mapped_column(Money())
    held_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    reason: Mapped[str] = mapped_column(SqlText)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[DisputeStatus] = mapped_column(StrEnumType(DisputeStatus))
    refusal_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    settlement: Mapped[str | None] = mapped_column(String(30))  # refund / credit_next_invoice


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # owed to the customer, to send by ``due_by``
    # in a SEPA transfer file given to the bank, ``bank_reference`` is the batch id
    # (refund_transfers); paid once the bank's statement shows it. A new value needs no
    # migration: StrEnumType stores the value in a VARCHAR(30) without a CHECK constraint.
    SENT = "sent"
    PAID = "paid"  # the transfer is done: ``paid_on`` and the bank reference are recorded


class Refund(Base, Audited):
    """Money the operator owes back to a customer and sends by transfer (BIL-07 [004 §9.4]: an
    agreed overpayment above the terms' share of the invoice). One per dispute."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())  # including VAT, what was overpaid
    due_by: Mapped[date] = mapped_column(Date)  # last day to send it, from the terms
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[RefundStatus] = mapped_column(StrEnumType(RefundStatus))
    paid_on: Mapped[date | None] = mapped_column(Date)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The transfers made for it (refund_transfers): how many files it went into (its end-to-end
    # id names the attempt), the IBAN of the last one, and, when the bank sent that one back,
    # when and why (an ISO 20022 reason code): it then waits for another IBAN.
    transfer_attempts: Mapped[int] = mapped_column(Integer, default=0)
    transfer_iban: Mapped[str | None] = mapped_column(String(34), info={"secret": True})
    returned_on: Mapped[date | None] = mapped_column(Date)
    return_code: Mapped[str | None] = mapped_column(String(10))


class MandateScheme(enum.StrEnum):
    CORE = "CORE"
    B2B = "B2B"


class Mandate(Base, Audited):
    """A SEPA direct-debit mandate (BIL-05)."""

    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    scheme: Mapped[MandateScheme] = mapped_column(StrEnumType(MandateScheme))
    iban: Mapped[str] = mapped_column(String(34), info={"secret": True})
    bic: Mapped[str | None] = mapped_column(String(11))
    collected_once: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_on: Mapped[date | None] = mapped_column(Date)


class DirectDebitStatus(enum.StrEnum):
    EXPORTED = "exported"
    REJECTED = "rejected"


class DirectDebit(Base, Audited):
    __tablename__ = "direct_debits"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    mandate_id: Mapped[int] = mapped_column(ForeignKey("mandates.id"))
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    batch_id: Mapped[str] = mapped_column(String(35), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    collection_date: Mapped[date] = mapped_column(Date)
    sequence_type: Mapped[str] = mapped_column(String(4))
    status: Mapped[DirectDebitStatus] = mapped_column(StrEnumType(DirectDebitStatus))
    reject_reason: Mapped[str | None] = mapped_column(String(10))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))


class Wallet(Base, Audited):
    """A prepaid account (BIL-10): ``balance`` is money received; ``reserved`` is held for
    sessions in progress. Available = balance - reserved, never below zero."""

    __tablename__ = "wallets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    balance: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"), info={"audit": False})
    reserved: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0"), info={"audit": False})


class WalletEntryKind(enum.StrEnum):
    TOP_UP = "top_up"
    USAGE = "usage"
    FORFEIT = "forfeit"  # CTR-08 balance forfeited on inactivity termination
    ADJUSTMENT = "adjustment"


class WalletEntry(Base):
    """The wallet's ledger: every change of the balance, once (``reference`` is unique per
    customer). Append-only and complete, it is its own audit trail."""

    __tablename__ = "wallet_entries"
    __table_args__ = (UniqueConstraint("customer_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[WalletEntryKind] = mapped_column(StrEnumType(WalletEntryKind))
    amount: Mapped[Decimal] = mapped_column(Rate())  # positive credits, negative debits
    reference: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReservationStatus(enum.StrEnum):
    OPEN = "open"
    COMMITTED = "committed"
    RELEASED = "released"


class Reservation(Base):
    """Money held on a wallet for one session (a call, an SMS campaign)."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    session_ref: Mapped[str] = mapped_column(String(128), unique=True)
    amount: Mapped[Decimal] = mapped_column(Rate())
    committed_amount: Mapped[Decimal | None] = mapped_column(Rate())
    status: Mapped[ReservationStatus] = mapped_column(StrEnumType(ReservationStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# An issued invoice is immutable (corrections are credit notes): only its payment state moves.
INVOICE_MUTABLE_COLUMNS = frozenset({"status", "amount_paid", "amount_disputed", "amount_credited"})


def _refuse_invoice_change(_mapper: Any, _connection: Any, target: Any) -> None:
    state = inspect(target)
    changed = {
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    }
    if isinstance(target, InvoiceLine) or changed - INVOICE_MUTABLE_COLUMNS:
        raise Conflict(
            Text(
                fr="Une facture émise ne se modifie pas : émettre un avoir.",
                en="An issued invoice cannot change: issue a credit note.",
            ),
            code="invoice_immutable",
        )


def _refuse_invoice_delete(_mapper: Any, _connection: Any, _target: Any) -> None:
    raise Conflict(
        Text(
            fr="Une facture émise ne se supprime pas : émettre un avoir.",
            en="An issued invoice cannot be deleted: issue a credit note.",
        ),
        code="invoice_immutable",
    )


for _model in (Invoice, InvoiceLine):
    event.listen(_model, "before_update", _refuse_invoice_change)
    event.listen(_model, "before_delete", _refuse_invoice_delete)
