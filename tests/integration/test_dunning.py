"""Dunning from the terms: reminder, formal notice, suspension, termination, restoration."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing import invoicing, payments, wallets
from operateur.billing.models import Invoice
from operateur.catalog.service import get_offer
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import dunning, lifecycle
from operateur.contracts.models import ContractStatus
from tests.integration.conftest import Builder


# SPEC: CTR-06, BIL-06
@pytest.mark.parametrize(
    ("offer", "due", "notice", "suspend", "terminate"),
    [
        # [000 §6, §4.4] suspended at once without notice, terminated 15 days later if uncured
        ("crm-voip", date(2026, 2, 9), None, date(2026, 2, 10), date(2026, 2, 25)),
        # [001 §19] formal notice, suspension 15 days after the due date, termination 7 days on
        ("centrex", date(2026, 2, 9), date(2026, 2, 10), date(2026, 2, 24), date(2026, 3, 3)),
        # [002 §12.5] suspended from the due date, terminated beyond 8 days late
        ("cpaas", date(2026, 2, 9), None, date(2026, 2, 10), date(2026, 2, 17)),
        # [003 §6.3] formal notice, suspension after 8 days, termination 15 days after due date
        (
            "mail-security",
            date(2026, 2, 9),
            date(2026, 2, 10),
            date(2026, 2, 18),
            date(2026, 2, 24),
        ),
        # [004 §9.3, §11] suspended at the due date, terminated after 5 business days
        ("telecom", date(2026, 2, 9), None, date(2026, 2, 10), date(2026, 2, 16)),
    ],
)
def test_dunning_dates_per_offer(
    offer: str, due: date, notice: date | None, suspend: date, terminate: date
) -> None:
    steps = dunning.plan(get_offer(offer).terms, due)
    assert (steps.formal_notice_on, steps.suspend_on, steps.terminate_on) == (
        notice,
        suspend,
        terminate,
    )


# SPEC: CTR-06, BIL-06
def test_unpaid_invoice_suspends_payment_restores_and_no_step_twice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    assert invoice.due_date == date(2026, 2, 7)
    assert dunning.run(session, date(2026, 2, 7)) == []
    taken = dunning.run(session, date(2026, 2, 8))
    assert taken == [f"reminder:{invoice.number}", f"suspension:{invoice.number}"]
    assert contract.status is ContractStatus.SUSPENDED
    assert dunning.run(session, date(2026, 2, 9)) == []
    payments.record_payment(
        session,
        customer.id,
        amount=invoice.total_gross,
        method="transfer",
        received_on=date(2026, 2, 9),
        reference="VIR-LATE",
    )
    assert dunning.run(session, date(2026, 2, 10)) == [f"restored:{contract.reference}"]
    assert contract.status is ContractStatus.ACTIVE
    assert [e.transition for e in lifecycle.history(session, contract.id)][-2:] == [
        "suspend",
        "restore",
    ]


# SPEC: CTR-06
def test_still_unpaid_after_the_cure_delay_terminates(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.SEPA_DIRECT_DEBIT)
    contract = build.contract(customer, "telecom", date(2026, 1, 1), [("fixed.line", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    # due 13 February (10 business days), suspended the 14th, terminated 5 business days
    # after the due date: 20 February
    dunning.run(session, date(2026, 2, 14))
    assert contract.status is ContractStatus.SUSPENDED
    dunning.run(session, date(2026, 2, 19))
    assert contract.status is ContractStatus.SUSPENDED
    dunning.run(session, date(2026, 2, 20))
    assert contract.status is ContractStatus.TERMINATED
    assert contract.terminated_on == date(2026, 2, 20)


# SPEC: BIL-10
def test_prepaid_exhausted_suspends_and_a_top_up_restores(build: Builder, session: Session) -> None:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(customer, "cpaas", date(2026, 1, 1), [])
    wallets.open_wallet(session, customer.id)
    assert dunning.run(session, date(2026, 1, 2)) == [f"prepaid_suspension:{contract.reference}"]
    decision = lifecycle.may_use(session, customer.id, get_offer("cpaas").services[0])
    assert decision.code == "suspended_prepaid_depleted"
    wallets.top_up(
        session, customer.id, received=Decimal("20"), bank_fees=Decimal("0"), reference="T1"
    )
    assert dunning.run(session, date(2026, 1, 3)) == [f"restored:{contract.reference}"]


# SPEC: CTR-06, BIL-10
def test_a_prepaid_customer_without_a_prepaid_account_stays_suspended_after_paying(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """The invoice is paid, but a prepaid customer who never topped up has no credit to use:
    the dunning run goes on (for every other contract) and this one stays suspended."""
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    invoicing.run_period(session_factory, build.operator_id, "2026-01")
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    dunning.run(session, invoice.due_date + timedelta(days=1))
    assert contract.status is ContractStatus.SUSPENDED
    payments.record_payment(
        session,
        customer.id,
        amount=invoice.total_gross,
        method="transfer",
        received_on=invoice.due_date + timedelta(days=2),
        reference="VIR-PREPAYE",
    )
    assert dunning.run(session, invoice.due_date + timedelta(days=3)) == []
    assert contract.status is ContractStatus.SUSPENDED
