"""Refunds owed after an upheld dispute (BIL-07 [004 §9.4])."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import collection, payments, refunds
from operateur.billing.models import Dispute, DisputeStatus, PendingCharge, RefundStatus
from operateur.errors import Conflict
from tests.integration.billing.test_collection import ALL_REFERENCES, _first_invoice
from tests.integration.conftest import Builder


def _paid_then_disputed(
    build: Builder, session: Session, factory: sessionmaker[Session], contested: str
) -> tuple[int, Dispute]:
    # telecom: 2 fixed lines, 100.00 HT, 120.00 TTC issued 31 Jan, due 13 Feb [004 §9.2]
    customer_id, invoice = _first_invoice(build, session, factory, "telecom", [("fixed.line", 2)])
    assert (invoice.total_gross, invoice.due_date) == (Decimal("120.00"), date(2026, 2, 13))
    payments.record_payment(
        session,
        customer_id,
        amount=Decimal("120.00"),
        method="transfer",
        received_on=date(2026, 2, 5),
        reference="VIR-120",
    )
    dispute = collection.file_dispute(
        session,
        customer_id,
        invoice.id,
        filed_on=date(2026, 2, 10),
        channel="email",
        contested_amount=Decimal(contested),
        reason="lignes facturées deux fois",
        references=ALL_REFERENCES,
    )
    assert dispute.status is DisputeStatus.OPEN
    return customer_id, dispute


# SPEC: BIL-07
def test_an_overpayment_over_the_threshold_is_a_refund_due_within_the_terms_delay(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, dispute = _paid_then_disputed(build, session, session_factory, "36.00")
    # upheld on Friday 20 Feb: credit note 30.00 HT = 36.00 TTC; 36.00 overpaid is more than
    # 20 % of 120.00 (24.00): refunded within 5 business days, by Friday 27 Feb
    collection.resolve_dispute(session, dispute, upheld=True, resolved_on=date(2026, 2, 20))
    assert dispute.settlement == "refund"
    [refund] = refunds.list_refunds(session, customer_id)
    assert (refund.amount, refund.due_by, refund.status) == (
        Decimal("36.00"),
        date(2026, 2, 27),
        RefundStatus.PENDING,
    )
    assert refund.dispute_id == dispute.id
    # the refund is not also credited on the next invoice
    assert (
        session.scalars(select(PendingCharge).where(PendingCharge.customer_id == customer_id)).all()
        == []
    )
    # staff see it among the pending refunds of every customer
    assert refund in refunds.list_refunds(session, status=RefundStatus.PENDING)
    # owing it again for the same dispute changes nothing
    again = refunds.owe_dispute_refund(
        session,
        dispute,
        payments.get_invoice(session, customer_id, refund.invoice_id),
        amount=Decimal("36.00"),
        due_by=date(2026, 2, 27),
    )
    assert again.id == refund.id and len(refunds.list_refunds(session, customer_id)) == 1

    refunds.mark_refund_paid(session, refund, paid_on=date(2026, 2, 25), bank_reference="RB-1")
    # the same transfer recorded twice is one payment of the refund
    refunds.mark_refund_paid(session, refund, paid_on=date(2026, 2, 25), bank_reference="RB-1")
    # the same transfer retried with the reference typed with blanks is still that transfer
    refunds.mark_refund_paid(session, refund, paid_on=date(2026, 2, 25), bank_reference=" RB-1 ")
    assert (refund.status, refund.paid_on, refund.bank_reference) == (
        RefundStatus.PAID,
        date(2026, 2, 25),
        "RB-1",
    )
    assert refunds.list_refunds(session, status=RefundStatus.PENDING) == []
    with pytest.raises(Conflict):
        refunds.mark_refund_paid(session, refund, paid_on=date(2026, 2, 26), bank_reference="RB-2")


# SPEC: BIL-07
def test_an_overpayment_within_the_threshold_is_credited_not_refunded(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, dispute = _paid_then_disputed(build, session, session_factory, "12.00")
    # 12.00 overpaid is not more than 20 % of 120.00: credited on the next invoice (10.00 HT)
    collection.resolve_dispute(session, dispute, upheld=True, resolved_on=date(2026, 2, 20))
    assert dispute.settlement == "credit_next_invoice"
    assert refunds.list_refunds(session, customer_id) == []
    [credit] = session.scalars(
        select(PendingCharge).where(PendingCharge.customer_id == customer_id)
    ).all()
    assert credit.amount == Decimal("-10.00")
