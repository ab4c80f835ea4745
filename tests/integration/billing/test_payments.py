"""Payments and their allocation to invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing, payments
from operateur.billing.models import Invoice, InvoiceStatus
from operateur.errors import Conflict, InvalidInput
from tests.integration.conftest import Builder


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
