"""CTR-08 inactivity: contracts unused for their terms' period end, with the terms' notice,
the prepaid balance forfeited and the remaining subscriptions invoiced where the terms say so."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing import wallets
from operateur.billing.models import Invoice
from operateur.billing.usage import CallData, record_call
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import inactivity
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus, LineKind
from operateur.contracts.schemas import LineIn
from operateur.domain.calendar import PARIS
from tests.integration.conftest import Builder


def _call(session: Session, account: str, day: date) -> None:
    start = datetime.combine(day, time(15), PARIS).astimezone(UTC)
    record_call(
        session,
        CallData(
            source="test",
            call_id=f"{account}-{day}",
            account=account,
            caller="+33140000000",
            callee="+33140000001",
            start=start,
            answer=start,
            end=start + timedelta(minutes=2),
            disposition="ANSWERED",
        ),
    )


# SPEC: CTR-08
def test_telecom_idle_two_months_ends_after_five_business_days_notice(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    line = contracts.create_line(
        session, customer.id, LineIn(contract_id=contract.id, kind=LineKind.CENTREX, label="x")
    )
    _call(session, line.sip_username, date(2026, 2, 27))
    session.commit()
    # [004 §12.2] two months without any call or order after 27 February: 27 April
    assert inactivity.last_activity(session, contract) == date(2026, 2, 27)
    assert scheduler.run_once(session_factory, date(2026, 4, 26))
    session.refresh(contract)
    assert contract.status is ContractStatus.ACTIVE
    scheduler.run_once(session_factory, date(2026, 4, 27))
    session.refresh(contract)
    # termination after 5 business days' notice: 28, 29, 30 April, 4 May (1 May is a public
    # holiday), 5 May
    assert (contract.status, contract.ends_on) == (ContractStatus.NOTICE_GIVEN, date(2026, 5, 5))
    # [004 §3] every period is due to the term (36 months from 5 January 2026: 4 January
    # 2029): from 6 May 2026, 31 months (to 6 December 2028) and 30 days of a 31-day month
    # (to 5 January 2029, excluded), × 25.00 HT: 25 × (31 + 30/31) = 799.19
    fee = session.scalars(
        select(Invoice).where(Invoice.purpose == f"early_termination:{contract.id}")
    ).one()
    assert (fee.issue_date, fee.total_net) == (date(2026, 4, 27), Decimal("799.19"))
    scheduler.run_once(session_factory, date(2026, 5, 6))
    session.refresh(contract)
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 5, 5),
    )


# SPEC: CTR-08, BIL-10
def test_cpaas_idle_six_months_forfeits_the_prepaid_balance(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    wallets.open_wallet(session, customer.id)
    wallets.top_up(
        session, customer.id, received=Decimal("80"), bank_fees=Decimal("0"), reference="T1"
    )
    session.commit()
    # [002 §17.3] six months since the last communication (none: since activation, 5 January)
    scheduler.run_once(session_factory, date(2026, 7, 4))
    session.refresh(contract)
    assert contract.status is ContractStatus.ACTIVE
    scheduler.run_once(session_factory, date(2026, 7, 5))
    session.refresh(contract)
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 7, 5),
    )
    # [002 §12.7.4] the balance is forfeited
    assert wallets.get_wallet(session, customer.id).available == 0
