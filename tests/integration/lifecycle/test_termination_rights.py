"""Ending a contract under its terms: early-termination amounts (CTR-05), termination for
breach (CTR-07), force majeure (CTR-11), price rises (CTR-13) and operator outages (CTR-14)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import Invoice, InvoiceKind
from operateur.catalog.terms import EarlyTermination
from operateur.contracts import price_changes, termination
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus, NoticeKind
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from tests.integration.conftest import Builder


def _invoices(session: Session, contract_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(Invoice.contract_id == contract_id).order_by(Invoice.id)
        )
    )


# SPEC: CTR-05, CTR-03
def test_centrex_early_end_invoices_the_remaining_monthly_fees(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 15), [("centrex.line", 3)])
    # [001 §10] 36 months from 15 January 2026 (acceptance): term ends 14 January 2029, notice
    # 3 months before: by 15 October 2028. Ending on 31 March 2027 instead: [001 §20] the
    # remaining monthly fees are due at once, 1 April 2027 – 14 January 2029: 21 months and
    # 14 days of a 31-day month, × 3 lines × 29.90 TTC / 1.20 = 74.75 HT:
    # 74.75 × (21 + 14/31) = 1 603.51 HT.
    quote = termination.plan_termination(session, contract, date(2027, 3, 1), date(2027, 3, 31))
    assert quote.without_fee == date(2029, 1, 14)
    assert quote.owed.kind is EarlyTermination.REMAINING_FEES
    assert quote.owed.amount == Decimal("1603.51")
    termination.request_termination(
        session,
        contract,
        received_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 31),
        reason="déménagement",
    )
    [fee] = _invoices(session, contract.id)
    assert (fee.issue_date, fee.total_net, fee.lines[0].code) == (
        date(2027, 3, 1),
        Decimal("1603.51"),
        "early_termination",
    )
    assert (contract.status, contract.ends_on) == (ContractStatus.NOTICE_GIVEN, date(2027, 3, 31))


# SPEC: CTR-05, CTR-03
def test_cpaas_convenience_notice_and_the_higher_of_subscriptions_and_minimum(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "cpaas", date(2026, 2, 1), [("option.caps.monthly", 1)])
    # [002 §17.1] any time with 3 months' notice: received 10 March 2026, not before 10 June
    with pytest.raises(InvalidInput) as early:
        termination.plan_termination(session, contract, date(2026, 3, 10), date(2026, 5, 31))
    assert early.value.field == "ends_on" and early.value.details["earliest"] == "2026-06-10"
    # ending 10 June 2026 before the term of 31 January 2027 [002 §24.4.5]: each month left
    # costs the higher of 150 HT of subscriptions and the 200 HT minimum: what billing has not
    # invoiced (calendar months, BIL-01), 11–30 June (20/30) and July 2026 – January 2027
    # (7 months): 200 × (7 + 20/30) = 1 533.33 HT
    quote = termination.plan_termination(session, contract, date(2026, 3, 10), date(2026, 6, 10))
    assert (quote.owed.monthly, quote.owed.amount) == (Decimal("200.00"), Decimal("1533.33"))
    # notice after the deadline (1 November 2026): the contract renews, the end without fee is
    # the next term's end, 31 January 2028
    late = termination.plan_termination(session, contract, date(2026, 11, 2))
    assert late.without_fee == date(2028, 1, 31) and late.owed.amount == 0
    with pytest.raises(InvalidInput):
        termination.plan_termination(session, contract, date(2026, 11, 2), date(2028, 2, 29))


# SPEC: CTR-05
def test_mail_security_refunds_nothing_and_charges_nothing(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(
        customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 40)]
    )
    # [003 §3.3] no refund of sums paid: an early end costs nothing more and returns nothing
    request = termination.request_termination(
        session,
        contract,
        received_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 30),
        reason="fermeture",
    )
    assert request.owed.amount == 0 and request.owed.kind is EarlyTermination.NO_REFUND
    assert "sommes déjà versées restent acquises" in request.owed.explanation.fr
    assert _invoices(session, contract.id) == []


# SPEC: CTR-02, CTR-05
def test_telecom_terminated_before_activation_counts_from_signature(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = contracts.create_contract(session, customer, "telecom", {})
    contracts.sign(session, contract, "M. B", datetime.combine(date(2026, 2, 2), time(10), PARIS))
    contracts.add_subscription(session, contract, SubscriptionIn(item_code="fixed.line"))
    # [004 §3] the commitment starts at activation — or at the signature when the customer
    # terminates before activation: 36 months from 2 February 2026, to 1 February 2029
    plan = termination.commitment_schedule(contract, date(2026, 3, 1))
    assert plan is not None and plan.term_end == date(2029, 2, 1)


# SPEC: CTR-07
def test_breach_notice_then_termination_within_the_window(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 1, 5), [("crm.licence", 2)])
    # [000 §10] formal notice of 8 days, then termination within 8 days: notice on 2 March,
    # termination possible from 10 March to 18 March
    notice = termination.breach_notice(
        session, contract, notified_on=date(2026, 3, 2), breach="revente du service"
    )
    assert (notice.opens_on, notice.closes_on) == (date(2026, 3, 10), date(2026, 3, 18))
    with pytest.raises(Conflict):
        termination.terminate_with_right(session, contract, notice, on=date(2026, 3, 9), reason="x")
    with pytest.raises(Conflict):
        termination.terminate_with_right(
            session, contract, notice, on=date(2026, 3, 19), reason="x"
        )
    termination.terminate_with_right(session, contract, notice, on=date(2026, 3, 12), reason="x")
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 3, 12),
    )
    assert notice.used_on == date(2026, 3, 12)
    assert not [i for i in _invoices(session, contract.id) if i.purpose.startswith("early")]


# SPEC: CTR-07
def test_a_remedied_breach_opens_no_termination(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    # [004 §12.1] one month after a formal notice left unanswered
    notice = termination.breach_notice(
        session, contract, notified_on=date(2026, 3, 2), breach="usage non conforme"
    )
    assert notice.opens_on == date(2026, 4, 2) and notice.closes_on is None
    termination.end_event(session, notice, date(2026, 3, 20))
    with pytest.raises(Conflict):
        termination.terminate_with_right(session, contract, notice, on=date(2026, 4, 3), reason="x")
    # the Centrex terms route breaches through suspension: no breach termination clause
    other = build.contract(customer, "centrex", date(2026, 1, 5), [])
    with pytest.raises(InvalidInput):
        termination.breach_notice(session, other, notified_on=date(2026, 3, 2), breach="x")


# SPEC: CTR-11
def test_force_majeure_notified_late_and_termination_after_its_period(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    cpaas = build.contract(customer, "cpaas", date(2026, 1, 5), [])
    # [002 §16] notify within 3 calendar days (by 5 March for an event of 2 March);
    # termination right after one month: from 2 April
    event = termination.force_majeure(
        session,
        cpaas,
        started_on=date(2026, 3, 2),
        notified_on=date(2026, 3, 6),
        description="incendie du centre de données",
        by_operator=True,
    )
    assert event.details == {"notify_by": "2026-03-05", "late": True}
    assert event.opens_on == date(2026, 4, 2)
    assert termination.may_terminate(event, date(2026, 4, 1)) is not None
    termination.terminate_with_right(session, cpaas, event, on=date(2026, 4, 2), reason="x")
    assert cpaas.status is ContractStatus.TERMINATED
    # [004 §8] notify within one month, termination after three months: from 2 June; an event
    # over on 15 May opens no right
    telecom = build.contract(customer, "telecom", date(2026, 1, 5), [])
    event = termination.force_majeure(
        session,
        telecom,
        started_on=date(2026, 3, 2),
        notified_on=date(2026, 3, 20),
        description="inondation",
        by_operator=False,
    )
    assert (event.opens_on, event.details["late"]) == (date(2026, 6, 2), False)
    termination.end_event(session, event, date(2026, 5, 15))
    assert termination.may_terminate(event, date(2026, 6, 3)) is not None


# SPEC: CTR-14
def test_thirty_days_of_operator_outage_open_termination_without_fee(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 2)])
    # [001 §20] 30 consecutive days of outage attributable to the operator: from 1 March,
    # the right opens on 31 March
    outage = termination.operator_outage(
        session, contract, started_on=date(2026, 3, 1), description="panne du cœur de réseau"
    )
    assert outage.opens_on == date(2026, 3, 31)
    with pytest.raises(Conflict):
        termination.terminate_with_right(
            session, contract, outage, on=date(2026, 3, 30), reason="x"
        )
    termination.terminate_with_right(session, contract, outage, on=date(2026, 3, 31), reason="x")
    assert contract.terminated_on == date(2026, 3, 31)
    assert _invoices(session, contract.id) == []  # no early-termination amount
    assert termination.list_notices(session, contract)[0].kind is NoticeKind.OPERATOR_OUTAGE


# SPEC: CTR-13
def test_price_rise_notice_and_termination_without_penalty(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 2)])
    # [004 §9.6.1] one month's notice: notified 15 March, not before 15 April
    with pytest.raises(InvalidInput) as short:
        price_changes.announce(
            session,
            contract,
            notified_on=date(2026, 3, 15),
            effective_on=date(2026, 4, 1),
            rises=True,
            summary="ligne fixe à 27,00 € HT",
        )
    assert short.value.field == "effective_on"
    notice = price_changes.announce(
        session,
        contract,
        notified_on=date(2026, 3, 15),
        effective_on=date(2026, 4, 15),
        rises=True,
        summary="ligne fixe à 27,00 € HT",
    )
    # the customer may terminate without penalty within one month of the information
    assert (notice.started_on, notice.opens_on, notice.closes_on) == (
        date(2026, 4, 15),
        date(2026, 3, 15),
        date(2026, 4, 15),
    )
    price_changes.terminate_for_price_rise(session, contract, notice, on=date(2026, 4, 14))
    assert contract.status is ContractStatus.TERMINATED
    assert _invoices(session, contract.id) == []
    # [000 §9.2] the CRM offer allows no unilateral change
    crm = build.contract(customer, "crm-voip", date(2026, 1, 5), [])
    with pytest.raises(Conflict):
        price_changes.announce(
            session,
            crm,
            notified_on=date(2026, 3, 15),
            effective_on=date(2026, 6, 1),
            rises=True,
            summary="x",
        )


# SPEC: CTR-13
def test_unfavourable_change_refunds_the_unused_months(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(
        customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 50)]
    )
    # [003 §3.2] changes without notice; an unfavourable one lets the customer terminate with
    # the unused months of the annual period (5 January 2026 – 4 January 2027) refunded: from
    # 1 June, 7 months (to 1 January) and 4 days of a 31-day month, × 50 × 1.20 HT:
    # 60 × (7 + 4/31) = 427.74
    notice = price_changes.announce(
        session,
        contract,
        notified_on=date(2026, 5, 20),
        effective_on=date(2026, 5, 20),
        rises=True,
        summary="boîte filtrée à 1,50 € HT par mois",
    )
    assert notice.details["prorata_refund"] is True
    price_changes.terminate_for_price_rise(session, contract, notice, on=date(2026, 5, 31))
    [refund] = _invoices(session, contract.id)
    assert refund.kind is InvoiceKind.CREDIT_NOTE
    assert (refund.issue_date, refund.total_net) == (date(2026, 5, 31), Decimal("427.74"))
