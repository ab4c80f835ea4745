"""Refunds: whether one may be asked for (BIL-18), and the refunds the operator owes.

- :func:`refund_request`: never once the service has been used when the terms say so [000 §6],
  and only within the terms' window after its cause [003 §6.4];
- :func:`owe_dispute_refund`: an agreed overpayment the terms refund rather than credit
  (BIL-07 [004 §9.4]) is recorded as a refund due by the terms' date, once per dispute;
  staff see it pending (:func:`list_refunds`), pay it by a SEPA transfer file
  (:mod:`operateur.billing.refund_transfers`, which marks it sent) and record the transfer with
  :func:`mark_refund_paid` (idempotent on its bank reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import Dispute, Invoice, Refund, RefundStatus
from operateur.catalog.terms import BillingTerms
from operateur.errors import Conflict, InvalidInput, NotFound
from operateur.i18n import Text


@dataclass(frozen=True)
class RefundDecision:
    allowed: bool
    reasons: tuple[tuple[str, Text], ...]
    deadline: date | None


def refund_request(
    terms: BillingTerms, *, first_use: date | None, cause_on: date, requested_on: date
) -> RefundDecision:
    """Every reason the terms give to refuse a refund request, and its last day."""
    reasons: list[tuple[str, Text]] = []
    if terms.no_refund_after_first_use and first_use is not None:
        reasons.append(
            (
                "service_used",
                Text(
                    fr=f"Aucun remboursement après la première utilisation du service "
                    f"({first_use:%d/%m/%Y}).",
                    en=f"No refund once the service has been used ({first_use:%Y-%m-%d}).",
                ),
            )
        )
    deadline = terms.refund_request_window.after(cause_on) if terms.refund_request_window else None
    if deadline is not None and requested_on > deadline:
        reasons.append(
            (
                "out_of_time",
                Text(
                    fr=f"Demande hors délai : au plus tard le {deadline:%d/%m/%Y}.",
                    en=f"Request out of time: by {deadline:%Y-%m-%d} at the latest.",
                ),
            )
        )
    return RefundDecision(allowed=not reasons, reasons=tuple(reasons), deadline=deadline)


# --- refunds owed (BIL-07 [004 §9.4]) ---------------------------------------------------------


def owe_dispute_refund(
    session: Session, dispute: Dispute, invoice: Invoice, *, amount: Decimal, due_by: date
) -> Refund:
    """Record what an upheld dispute's overpayment refunds to the customer, to send by
    ``due_by``; a second call for the same dispute returns the first refund."""
    existing = session.scalar(select(Refund).where(Refund.dispute_id == dispute.id))
    if existing is not None:
        return existing
    if amount <= 0:
        raise InvalidInput(
            Text(fr="Le montant doit être positif.", en="The amount must be positive."),
            field="amount",
        )
    refund = Refund(
        customer_id=dispute.customer_id,
        invoice_id=invoice.id,
        dispute_id=dispute.id,
        amount=amount,
        due_by=due_by,
        reason=f"Trop-perçu sur facture {invoice.number} (contestation {dispute.id})",
        status=RefundStatus.PENDING,
    )
    session.add(refund)
    session.flush()
    return refund


def list_refunds(
    session: Session,
    customer_id: int | None = None,
    *,
    status: RefundStatus | tuple[RefundStatus, ...] | None = None,
) -> list[Refund]:
    """Refunds, the earliest due first: one customer's, or every customer's for staff; of one
    status or of any of several."""
    stmt = select(Refund).order_by(Refund.due_by, Refund.id)
    if customer_id is not None:
        stmt = stmt.where(Refund.customer_id == customer_id)
    if isinstance(status, RefundStatus):
        stmt = stmt.where(Refund.status == status)
    elif status is not None:
        stmt = stmt.where(Refund.status.in_(status))
    return list(session.scalars(stmt))


def get_refund(session: Session, customer_id: int, refund_id: int) -> Refund:
    refund = session.scalar(
        select(Refund).where(Refund.id == refund_id, Refund.customer_id == customer_id)
    )
    if refund is None:
        raise NotFound(
            Text(fr="Remboursement {id} introuvable.", en="Refund {id} not found."),
            code="refund_not_found",
            details={"id": refund_id},
        )
    return refund


def mark_refund_paid(
    session: Session, refund: Refund, *, paid_on: date, bank_reference: str
) -> Refund:
    """Record the transfer that paid a refund. Recording the same transfer again changes
    nothing; another transfer for a refund already paid is refused."""
    bank_reference = bank_reference.strip()  # kept stripped: a retry is compared as kept
    session.flush()
    session.refresh(refund, with_for_update=True)  # paid once, even by two at once
    if refund.status is RefundStatus.PAID:
        if (refund.paid_on, refund.bank_reference) == (paid_on, bank_reference):
            return refund
        raise Conflict(
            Text(
                fr="Ce remboursement est déjà payé (virement {reference}).",
                en="This refund is already paid (transfer {reference}).",
            ),
            code="refund_already_paid",
            details={"reference": refund.bank_reference or ""},
        )
    if not bank_reference:
        raise InvalidInput(
            Text(
                fr="La référence du virement est nécessaire.",
                en="The transfer reference is needed.",
            ),
            field="bank_reference",
        )
    refund.status = RefundStatus.PAID
    refund.paid_on = paid_on
    refund.bank_reference = bank_reference
    session.flush()
    return refund
