"""The scheduler runs each due job once per date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing.models import Invoice
from operateur.contracts import lifecycle
from operateur.contracts.models import ContractStatus
from tests.integration.conftest import Builder


# SPEC: CTR-03, BIL-03
def test_jobs_run_once_per_date_end_notices_and_bill_at_month_end(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    lifecycle.give_notice(
        session,
        contract,
        received_on=date(2026, 1, 10),
        ends_on=date(2026, 1, 31),
        reason="lettre du client",
    )
    session.commit()
    first = scheduler.run_once(session_factory, date(2026, 1, 30))
    assert "end_notices:2026-01-30" in first
    assert scheduler.run_once(session_factory, date(2026, 1, 30)) == []
    session.expire_all()
    assert contract.status is ContractStatus.NOTICE_GIVEN  # its last day has not passed
    month_end = scheduler.run_once(session_factory, date(2026, 1, 31))
    assert "billing_run:2026-01-31" in month_end
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    # January only: the subscription stops with the contract on 31 January (no February)
    assert invoice.total_net == Decimal("39.00")
    scheduler.run_once(session_factory, date(2026, 2, 1))
    session.expire_all()
    assert contract.status is ContractStatus.TERMINATED
    assert contract.terminated_on == date(2026, 1, 31)


# SPEC: BIL-03
def test_a_restarted_scheduler_runs_the_days_it_missed(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Down from 30 January to 1 February: back on 2 February, January is still invoiced."""
    customer = build.customer()
    build.contract(customer, "crm-voip", date(2026, 1, 1), [("crm.licence", 1)])
    session.commit()
    scheduler.run_once(session_factory, date(2026, 1, 29))
    executed = scheduler.catch_up(session_factory, date(2026, 2, 2))
    assert "billing_run:2026-01-31" in executed
    assert "support_charges:2026-02-01" in executed
    assert {name.rpartition(":")[2] for name in executed} == {
        "2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"
    }  # fmt: skip
    session.expire_all()
    invoice = session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)).one()
    assert (invoice.period, invoice.issue_date) == ("2026-01", date(2026, 1, 31))
    assert scheduler.catch_up(session_factory, date(2026, 2, 2)) == []  # once per date
