"""CTR-08 inactivity: contracts unused for their terms' period end, with the terms' notice,
the prepaid balance forfeited and the remaining subscriptions invoiced where the terms say so."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.accounts import service as accounts
from operateur.accounts.schemas import ContactIn
from operateur.billing import wallets
from operateur.billing.models import Invoice
from operateur.billing.usage import CallData, record_call
from operateur.catalog.terms import PaymentMethod
from operateur.contracts import inactivity
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract, ContractStatus, LineKind
from operateur.contracts.schemas import LineIn
from operateur.domain.calendar import PARIS
from operateur.domain.money import format_eur
from operateur.notifications.service import deliver_due
from operateur.testing.smtp import SmtpSink
from tests.integration.conftest import Builder
from tests.integration.lifecycle.conftest import body, subjects


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


# SPEC: CTR-08, BIL-10
def test_the_balance_is_kept_while_another_contract_still_uses_it(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    idle = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    # a second contract, signed later: not idle on 5 July, it still draws on the one wallet
    build.contract(customer, "cpaas", date(2026, 5, 4), [])
    wallets.open_wallet(session, customer.id)
    wallets.top_up(
        session, customer.id, received=Decimal("80"), bank_fees=Decimal("0"), reference="T1"
    )
    session.commit()
    scheduler.run_once(session_factory, date(2026, 7, 5))
    session.refresh(idle)
    assert idle.status is ContractStatus.TERMINATED
    # [002 §12.7.4] the balance is the customer's, one for its contracts: not forfeited while
    # the other contract is in force
    assert wallets.get_wallet(session, customer.id).available == Decimal("80")


def _idle_cpaas(
    build: Builder, session: Session, *, informed: bool, email: str
) -> tuple[Contract, int]:
    customer = build.customer(payment_method=PaymentMethod.PREPAID)
    accounts.add_contact(session, customer, ContactIn(name="Admin", email=email))
    overrides: dict[str, object] = {"inactivity": {"customer_informed": informed}}
    contract = build.contract(customer, "cpaas", date(2026, 1, 5), [], overrides)
    wallets.open_wallet(session, customer.id)
    wallets.top_up(
        session, customer.id, received=Decimal("80"), bank_fees=Decimal("0"), reference="T1"
    )
    session.commit()
    return contract, customer.id


# SPEC: CTR-08
def test_cpaas_customer_is_told_of_the_inactivity_termination_with_date_and_forfeit(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    contract, _ = _idle_cpaas(build, session, informed=True, email="admin@idle.fr")
    scheduler.run_once(session_factory, date(2026, 7, 5))
    deliver_due(session_factory)
    # [002 §17.3] "La résiliation donnera lieu à une information auprès du Client", with the
    # consequence of [002 §12.7.4]: the unused prepaid balance stays with the operator
    (told,) = smtp_sink.to("admin@idle.fr")
    assert told["Subject"] == f"Fin du contrat {contract.reference}"
    text = body(told)
    assert "Le contrat a pris fin le 05/07/2026." in text
    assert "Aucune utilisation du service depuis le 05/01/2026" in text
    assert f"solde prépayé non consommé de {format_eur(Decimal('80'), 'fr')}" in text


# SPEC: CTR-08
def test_nothing_is_sent_when_the_terms_do_not_inform_the_customer(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    contract, customer_id = _idle_cpaas(build, session, informed=False, email="admin@quiet.fr")
    scheduler.run_once(session_factory, date(2026, 7, 5))
    deliver_due(session_factory)
    session.refresh(contract)
    assert contract.status is ContractStatus.TERMINATED
    assert wallets.get_wallet(session, customer_id).available == 0
    assert smtp_sink.to("admin@quiet.fr") == []


# SPEC: CTR-08
def test_telecom_notice_and_end_follow_customer_informed(
    build: Builder,
    session: Session,
    session_factory: sessionmaker[Session],
    smtp_sink: SmtpSink,
) -> None:
    ends: dict[bool, Contract] = {}
    for informed in (True, False):
        customer = build.customer()
        accounts.add_contact(
            session, customer, ContactIn(name="Admin", email=f"admin@telecom-{informed}.fr")
        )
        ends[informed] = build.contract(
            customer,
            "telecom",
            date(2026, 1, 5),
            [("fixed.line", 1)],
            {"inactivity": {"customer_informed": informed}},
        )
    session.commit()
    # [004 §12.2] two months idle from activation (5 March), then 5 business days' notice
    for day in (date(2026, 3, 5), date(2026, 3, 13)):
        scheduler.run_once(session_factory, day)
    deliver_due(session_factory)
    for contract in ends.values():
        session.refresh(contract)
        assert (contract.status, contract.terminated_on) == (
            ContractStatus.TERMINATED,
            date(2026, 3, 12),
        )
    told = smtp_sink.to("admin@telecom-True.fr")
    assert subjects(told) == [
        f"Résiliation du contrat {ends[True].reference}",
        f"Fin du contrat {ends[True].reference}",
    ]
    assert "le contrat prend fin le 12/03/2026" in body(told[0])
    assert smtp_sink.to("admin@telecom-False.fr") == []
