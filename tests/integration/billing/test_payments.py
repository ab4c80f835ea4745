"""Payments and their allocation to invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.billing import invoicing, payments
from operateur.billing.models import Invoice, InvoiceStatus, Payment
from operateur.errors import Conflict, InvalidInput
from tests.integration.conftest import Builder, commit_while_waited_for


def _two_invoices(
    build: Builder, session: Session, factory: sessionmaker[Session]
) -> tuple[int, list[Invoice]]:
    customer = build.customer()
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 2)])
    session.commit()
    invoicing.run_period(factory, build.operator_id, "2026-01")
    invoicing.run_period(factory, build.operator_id, "2026-02")
    session.expire_all()
    rows = list(
        session.scalars(
            select(Invoice).where(Invoice.customer_id == customer.id).order_by(Invoice.id)
        )
    )
    return customer.id, rows


def test_a_payment_settles_the_oldest_invoices_first(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, (january, february) = _two_invoices(build, session, session_factory)
    # January: Jan + Feb licences 2 x 39.00 x 2 = 156.00 HT, 187.20 TTC; February: 93.60 TTC
    assert (january.total_gross, february.total_gross) == (Decimal("187.20"), Decimal("93.60"))
    payment = payments.record_payment(
        session,
        customer_id,
        amount=Decimal("200.00"),
        method="transfer",
        received_on=date(2026, 2, 5),
        reference="VIR-1",
    )
    assert january.status is InvoiceStatus.PAID
    assert february.status is InvoiceStatus.PARTIALLY_PAID
    assert february.amount_paid == Decimal("12.80")
    assert payment.unallocated == Decimal("0")
    again = payments.record_payment(
        session,
        customer_id,
        amount=Decimal("200.00"),
        method="transfer",
        received_on=date(2026, 2, 5),
        reference="VIR-1",
    )
    assert again.id == payment.id and february.amount_paid == Decimal("12.80")
    with pytest.raises(Conflict):
        payments.record_payment(
            session,
            customer_id,
            amount=Decimal("1.00"),
            method="transfer",
            received_on=date(2026, 2, 5),
            reference="VIR-1",
        )


def test_explicit_allocation_cannot_exceed_what_is_due(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, (january, _) = _two_invoices(build, session, session_factory)
    with pytest.raises(InvalidInput) as error:
        payments.record_payment(
            session,
            customer_id,
            amount=Decimal("500"),
            method="cheque",
            received_on=date(2026, 2, 5),
            reference="CHQ-1",
            allocations=[payments.Allocation(january.id, Decimal("187.21"))],
        )
    assert error.value.field == "allocations.0.amount"


# SPEC: BIL-05
def test_a_reversed_payment_reopens_its_invoices(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, (january, _) = _two_invoices(build, session, session_factory)
    payment = payments.record_payment(
        session,
        customer_id,
        amount=Decimal("187.20"),
        method="sepa_direct_debit",
        received_on=date(2026, 2, 5),
        reference="SDD-1",
    )
    assert january.status is InvoiceStatus.PAID
    reopened = payments.reverse_payment(session, payment)
    assert [i.id for i in reopened] == [january.id]
    assert january.status is InvoiceStatus.ISSUED and january.amount_paid == Decimal("0")
    assert payment.reversed_at is not None


# SPEC: BIL-14
def test_an_overpayment_is_set_off_against_the_next_invoice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    [january] = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id))
    # January + February licence: 78.00 HT, 93.60 TTC; the customer pays 150.00
    payment = payments.record_payment(
        session,
        customer.id,
        amount=Decimal("150.00"),
        method="transfer",
        received_on=date(2026, 2, 2),
        reference="VIR-150",
    )
    assert january.status is InvoiceStatus.PAID and payment.unallocated == Decimal("56.40")
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-02")
    session.expire_all()
    march = session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.period == "2026-02")
    ).one()
    # March licence 39.00 HT = 46.80 TTC, settled from the 56.40 left over
    assert march.status is InvoiceStatus.PAID
    session.refresh(payment)
    assert payment.unallocated == Decimal("9.60")


# SPEC: BIL-16
def test_a_payment_cannot_be_allocated_to_a_credit_note(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer_id, (january, february) = _two_invoices(build, session, session_factory)
    note = invoicing.credit_note(
        session, january, reason="geste", issue_date=date(2026, 2, 3), amount_net=Decimal("10")
    )
    # a credit note is owed by the operator, not by the customer: nothing to pay on it
    with pytest.raises(InvalidInput) as refused:
        payments.record_payment(
            session,
            customer_id,
            amount=Decimal("12.00"),
            method="transfer",
            received_on=date(2026, 2, 5),
            reference="VIR-NOTE",
            allocations=[payments.Allocation(note.id, Decimal("12.00"))],
        )
    assert refused.value.field == "allocations.0.amount"
    assert note.amount_paid == Decimal("0")


# SPEC: BIL-05, BIL-14
def test_two_payments_at_once_are_both_counted_on_the_invoice(
    committed_factory: sessionmaker[Session],
) -> None:
    """A transfer recorded while another payment of the same customer is being written: the
    second waits for the first and settles what is left, so the invoice counts both (the ORM
    writes ``amount_paid`` as a new value: started from the same old one, one would be lost)."""
    with committed_factory() as session:
        set_actor(session, system_actor("test"))
        build = Builder(session)
        customer = build.customer()
        build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 2)])
        session.commit()
        customer_id = customer.id
        invoicing.run_period(committed_factory, build.operator_id, "2026-01")

    def pay(session: Session, reference: str) -> None:
        set_actor(session, system_actor("test"))
        payments.record_payment(
            session,
            customer_id,
            amount=Decimal("100.00"),
            method="transfer",
            received_on=date(2026, 2, 5),
            reference=reference,
        )

    def second_pays() -> None:
        with committed_factory() as second:
            pay(second, "VIR-B")
            second.commit()

    first = committed_factory()
    try:
        pay(first, "VIR-A")
        commit_while_waited_for(first, second_pays)
    finally:
        first.close()
    with committed_factory() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer_id)).one()
        left = sorted(p.unallocated for p in payments.list_payments(session, customer_id))
    # 187.20 TTC: 100.00 + 87.20 paid on it, 12.80 of the second payment left unallocated
    assert (invoice.amount_paid, invoice.status) == (Decimal("187.20"), InvoiceStatus.PAID)
    assert left == [Decimal("0"), Decimal("12.80")]


# SPEC: BIL-05
def test_payment_references_are_unique_per_customer_and_a_retry_is_recognised(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    first_id, (first_january, _) = _two_invoices(build, session, session_factory)
    second_id, (second_january, _) = _two_invoices(build, session, session_factory)

    def pay(customer_id: int, amount: str) -> Payment:
        return payments.record_payment(
            session,
            customer_id,
            amount=Decimal(amount),
            method="transfer",
            received_on=date(2026, 2, 5),
            reference="VIR-2026-0001",
        )

    a = pay(first_id, "187.20")
    # customer B's bank gave the same reference: B's own payment, settling B's January invoice
    b = pay(second_id, "100.00")
    assert a.id != b.id
    assert (first_january.amount_paid, second_january.amount_paid) == (
        Decimal("187.20"),
        Decimal("100.00"),
    )
    # A's retry is still the same payment, counted once
    assert pay(first_id, "187.20").id == a.id
    assert first_january.amount_paid == Decimal("187.20")
    # A, another amount under the same reference: not a retry
    with pytest.raises(Conflict) as refused:
        pay(first_id, "5.00")
    assert refused.value.field == "reference"
