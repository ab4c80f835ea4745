"""Pydantic shapes of the billing API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from operateur.billing.models import (
    DisputeStatus,
    InvoiceKind,
    InvoiceStatus,
    LineSource,
    RefundStatus,
)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


class RunOut(BaseModel):
    run_id: int
    period: str
    issued: list[str]
    skipped: int


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    source: LineSource
    code: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    vat_category: str
    net_amount: Decimal


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    customer_id: int
    contract_id: int | None
    kind: InvoiceKind
    status: InvoiceStatus
    period: str | None
    issue_date: date
    due_date: date
    currency: str
    reverse_charge: bool
    total_net: Decimal
    total_vat: Decimal
    total_gross: Decimal
    amount_paid: Decimal
    amount_disputed: Decimal
    amount_credited: Decimal


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: int
    amount: Decimal = Field(gt=0, decimal_places=2)


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, decimal_places=2)
    method: str
    received_on: date
    reference: str = Field(min_length=1, max_length=100)
    allocations: list[AllocationIn] | None = None


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    method: str
    amount: Decimal
    unallocated: Decimal
    received_on: date
    reference: str
    reversed_at: datetime | None


class TopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    received: Decimal = Field(gt=0, decimal_places=2)
    bank_fees: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)
    reference: str = Field(min_length=1, max_length=100)


class WalletOut(BaseModel):
    customer_id: int
    balance: Decimal
    reserved: Decimal
    available: Decimal


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filed_on: date
    channel: str = Field(description="email, registered_letter, letter, portal or phone")
    contested_amount: Decimal = Field(gt=0, decimal_places=2)
    reason: str = Field(min_length=1, max_length=2000)
    references: list[str] = Field(
        default_factory=list,
        description="What the dispute states: invoice_date, invoice_number, amount, reason, "
        "evidence",
    )


class DisputeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    invoice_id: int
    filed_on: date
    channel: str
    contested_amount: Decimal
    held_amount: Decimal
    reason: str
    status: DisputeStatus
    refusal_reasons: list[str]
    resolved_on: date | None
    credit_note_id: int | None
    settlement: str | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    upheld: bool
    resolved_on: date
    credit_net: Decimal | None = Field(default=None, gt=0, decimal_places=2)


class PenaltiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date
    issue: bool = False


class LatePenaltyOut(BaseModel):
    customer_id: int
    invoice_id: int
    invoice: str
    days_late: int
    interest: Decimal
    indemnity: Decimal
    to_invoice: Decimal
    explanation: str
    issued: str | None = None


class RefundOut(BaseModel):
    """A refund the operator owes (BIL-07 [004 §9.4]): pending until its transfer is recorded."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    customer_id: int
    invoice_id: int
    dispute_id: int | None
    amount: Decimal
    due_by: date
    reason: str
    status: RefundStatus
    paid_on: date | None
    bank_reference: str | None
    returned_on: date | None  # its last transfer was sent back by the bank, for return_code
    return_code: str | None


class RefundPaidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paid_on: date
    bank_reference: str = Field(min_length=1, max_length=100)


class RefundTransferIn(BaseModel):
    """Which pending refunds to pay by a SEPA transfer file: all, those due by ``up_to``, or
    only ``refund_ids`` (BIL-07)."""

    model_config = ConfigDict(extra="forbid")
    up_to: date | None = None
    refund_ids: list[int] | None = Field(default=None, min_length=1)


class SkippedRefundOut(BaseModel):
    """A refund left pending, and why."""

    refund_id: int
    customer_id: int | None
    customer_name: str | None
    field: str | None
    reason: str


class RefundTransferOut(BaseModel):
    """A batch of refund transfers: ``batch_id`` is ``None`` when nothing new was exported;
    ``file`` is where its pain.001 file is fetched."""

    batch_id: str | None
    file: str | None
    refunds: list[RefundOut]
    total: Decimal
    skipped: list[SkippedRefundOut]


class IgnoredReturnOut(BaseModel):
    """A line of a bank report that changed no refund, and why."""

    end_to_end_id: str
    reason: str


class RefundReturnsOut(BaseModel):
    """What a bank report on refund transfers did: the refunds back to pending."""

    returned: list[RefundOut]
    ignored: list[IgnoredReturnOut]
