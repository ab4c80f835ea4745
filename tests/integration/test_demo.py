"""The demo data of ``make run`` stays a living business once the scheduler runs: the demo
customers paid the invoices already due, so none of them is taken through dunning."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.billing.models import Invoice, InvoiceStatus
from operateur.contracts.models import Contract, ContractStatus
from operateur.demo import data as demo


def test_the_demo_customers_pay_on_time_and_stay_served(
    session_factory: sessionmaker[Session],
) -> None:
    # late in the month: every demo offer's October invoice is due, some for weeks
    today = date(2026, 11, 24)
    with session_factory() as session:
        set_actor(session, system_actor("demo"))
        demo.load(session, now=datetime(2026, 11, 24, 9, tzinfo=UTC))
        session.commit()
    scheduler.run_once(session_factory, today)
    with session_factory() as session:
        invoices = session.scalars(select(Invoice)).all()
        due = [invoice for invoice in invoices if invoice.due_date <= today]
        assert due  # the case the test is about
        assert {invoice.status for invoice in due} == {InvoiceStatus.PAID}
        assert all(invoice.due_date > today for invoice in invoices if invoice not in due)
        statuses = set(session.scalars(select(Contract.status)))
        assert statuses == {ContractStatus.ACTIVE}
        # a second load pays nothing twice
        set_actor(session, system_actor("demo"))
        assert demo.load(session, now=datetime(2026, 11, 24, 9, tzinfo=UTC)) == 0
