"""Payments received (transfer, cheque, card, direct debit) and their allocation to invoices.

A payment is recorded once per customer and reference (a bank transaction id): a second call
with the same reference for the same customer returns the first; another customer's bank may
use the same reference. Without explicit allocations it settles the customer's oldest open
invoices first, leaving disputed amounts aside (BIL-07); what is left stays unallocated on the
payment until another invoice is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import bulk
from operateur.billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
)
from operateur.db import utcnow
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text

ZERO = Decimal("0")
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
METHODS = ("transfer", "cheque", "card", "sepa_direct_debit", "prepaid", "set_off")


def outstanding(invoice: Invoice) -> Decimal:
    """What is still to be collected on an invoice: not paid, credited or disputed. Nothing
    is collected on a credit note: the operator owes it (BIL-16)."""
    if invoice.kind is not InvoiceKind.INVOICE:
        return ZERO
    return (
        invoice.total_gross
        - invoice.amount_paid
        - invoice.amount_credited
        - invoice.amount_disputed
    )


def settle_status(invoice: Invoice) -> None:
    """The invoice's payment state from what was paid and credited on it."""
    if invoice.amount_credited >= invoice.total_gross:
        invoice.status = InvoiceStatus.CREDITED
    elif invoice.amount_paid + invoice.amount_credited >= invoice.total_gross:
        invoice.status = InvoiceStatus.PAID
    elif invoice.amount_paid > 0:
        invoice.status = InvoiceStatus.PARTIALLY_PAID
    else:
        invoice.status = InvoiceStatus.ISSUED


def open_invoices(session: Session, customer_id: int, *, lock: bool = False) -> list[Invoice]:
    """The customer's invoices still owing money, oldest due first; ``lock``: locked until the
    transaction ends and read afresh, to change what is paid on them."""
    stmt = (
        select(Invoice)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(OPEN_STATUSES),
        )
        .order_by(Invoice.due_date, Invoice.id)
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def lock_invoice(session: Session, invoice: Invoice) -> Invoice:
    """Lock an invoice row until the transaction ends and read its amounts afresh: the ORM
    writes ``amount_paid``/``amount_credited``/``amount_disputed`` as new values, so two
    changes at once (two payments, a payment and a credit note) must not both start from the
    same old value."""
    session.flush()  # a refresh drops unflushed changes: write them first
    session.refresh(invoice, with_for_update=True)
    return invoice


def list_invoices(session: Session, customer_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        )
    )


def get_invoice(session: Session, customer_id: int, invoice_id: int) -> Invoice:
    invoice = session.scalar(
        select(Invoice).where(Invoice.id == invoice_id, Invoice.customer_id == customer_id)
    )
    if invoice is None:
        raise NotFound(
            Text(fr="Facture {id} introuvable.", en="Invoice {id} not found."),
            code="invoice_not_found",
            details={"id": invoice_id},
        )
    return invoice


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount: Decimal


def _allocate(session: Session, payment: Payment, invoice: Invoice, amount: Decimal) -> None:
    session.add(
        PaymentAllocation(
            customer_id=payment.customer_id,
            payment_id=payment.id,
            invoice_id=invoice.id,
            amount=amount,
        )
    )
    invoice.amount_paid += amount
    payment.unallocated -= amount
    settle_status(invoice)


def record_payment(
    session: Session,
    customer_id: int,
    *,
    amount: Decimal,
    method: str,
    received_on: date,
    reference: str,
    allocations: list[Allocation] | None = None,
) -> Payment:
    """Record a payment and allocate it: explicitly, or to the oldest open invoices."""
    if amount <= 0:
        raise InvalidInput(
            Text(fr="Le montant doit être positif.", en="The amount must be positive."),
            field="amount",
        )
    if method not in METHODS:
        raise InvalidInput(
            Text(
                fr="Moyen de paiement inconnu : {method}.", en="Unknown payment method: {method}."
            ),
            field="method",
            details={"method": method},
        )
    # references are the customer's bank's: unique per customer, not across customers
    existing = session.scalar(
        select(Payment).where(Payment.customer_id == customer_id, Payment.reference == reference)
    )
    if existing is not None:
        if existing.amount != amount:
            raise Conflict(
                Text(
                    fr="La référence {reference} désigne déjà un autre paiement.",
                    en="Reference {reference} already names another payment.",
                ),
                code="payment_reference_taken",
                field="reference",
                details={"reference": reference},
            )
        return existing
    payment = Payment(
        customer_id=customer_id,
        method=method,
        amount=amount,
        unallocated=amount,
        received_on=received_on,
        reference=reference,
    )
    session.add(payment)
    session.flush()
    if allocations:
        if sum((a.amount for a in allocations), ZERO) > amount:
            raise InvalidInput(
                Text(
                    fr="Les affectations dépassent le montant du paiement.",
                    en="Allocations exceed the payment.",
                ),
                field="allocations",
            )
        for index, allocation in enumerate(allocations):
            invoice = lock_invoice(
                session, get_invoice(session, customer_id, allocation.invoice_id)
            )
            if allocation.amount <= 0 or allocation.amount > outstanding(invoice):
                raise InvalidInput(
                    Text(
                        fr="Affectation de {amount} € impossible : {left} € restent dus.",
                        en="Cannot allocate {amount} €: {left} € is still due.",
                    ),
                    field=f"allocations.{index}.amount",
                    details={"amount": str(allocation.amount), "left": str(outstanding(invoice))},
                )
            _allocate(session, payment, invoice, allocation.amount)
    else:
        apply_unallocated(session, payment)
    session.flush()
    return payment


def apply_unallocated(session: Session, payment: Payment) -> None:
    """Settle the oldest open invoices with what is left of a payment."""
    for invoice in open_invoices(session, payment.customer_id, lock=True):
        if payment.unallocated <= 0:
            break
        share = min(payment.unallocated, outstanding(invoice))
        if share > 0:
            _allocate(session, payment, invoice, share)
    session.flush()


def reverse_payment(session: Session, payment: Payment) -> list[Invoice]:
    """Undo a payment (a rejected direct debit): its invoices are open again."""
    reopened: list[Invoice] = []
    for allocation in session.scalars(
        select(PaymentAllocation).where(
            PaymentAllocation.payment_id == payment.id, PaymentAllocation.reversed_at.is_(None)
        )
    ):
        invoice = session.get(Invoice, allocation.invoice_id)
        assert invoice is not None
        lock_invoice(session, invoice)
        invoice.amount_paid -= allocation.amount
        settle_status(invoice)
        allocation.reversed_at = utcnow()
        reopened.append(invoice)
    payment.unallocated = ZERO
    payment.reversed_at = utcnow()
    session.flush()
    return reopened


def list_payments(session: Session, customer_id: int) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.customer_id == customer_id).order_by(Payment.id)
        )
    )


def set_off(session: Session, customer_ids: list[int]) -> int:
    """Use what customers have paid and not yet allocated (an overpayment, a refund kept as
    credit) against their open invoices, oldest first (BIL-14); returns the allocations made.
    The customers are one array parameter: a billing run asks this for each of its chunks."""
    made = 0
    for payment in session.scalars(
        select(Payment)
        .where(
            bulk.among(session.get_bind().dialect.name, Payment.customer_id, customer_ids),
            Payment.unallocated > 0,
            Payment.reversed_at.is_(None),
        )
        .order_by(Payment.received_on, Payment.id)
    ):
        before = payment.unallocated
        apply_unallocated(session, payment)
        made += int(payment.unallocated != before)
    return made
