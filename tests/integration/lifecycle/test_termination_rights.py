"""Ending a contract under its terms: early-termination amounts (CTR-05), termination after a
total suspension (CTR-06), for breach and in the operator's specific cases (CTR-07), force
majeure (CTR-11), price rises (CTR-13) and operator outages (CTR-14)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.billing.models import Invoice, InvoiceKind
from operateur.catalog.terms import EarlyTermination, SuspensionCause
from operateur.contracts import lifecycle, price_changes, termination
from operateur.contracts import service as contracts
from operateur.contracts.models import ContractStatus, NoticeKind, OperatorCase, SuspensionScope
from operateur.contracts.schemas import SubscriptionIn
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict, InvalidInput
from operateur.notifications.models import Channel, OutboxMessage
from tests.integration.conftest import Builder
from tests.integration.lifecycle.conftest import contacts


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
    # CTR-05 [000 §10] the operator ends the contract for the customer's breach: the sums
    # remaining due to the term are paid, as dunning charges them. The term running on
    # 12 March ends on 4 April (monthly from 5 January); billing's calendar months left:
    # 13–31 March (19/31) and 1–4 April (4/30), × 2 licences × 39.00 HT:
    # 78 × (19/31 + 4/30) = 58.21 HT
    [fee] = _invoices(session, contract.id)
    assert (fee.purpose, fee.issue_date, fee.total_net) == (
        f"early_termination:{contract.id}",
        date(2026, 3, 12),
        Decimal("58.21"),
    )


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


def _notice_mails(
    session: Session, customer_id: int, event: str = "contract.notice_given"
) -> dict[str, OutboxMessage]:
    """The termination notices (or another event's emails) queued by email, by recipient."""
    return {
        m.recipient: m
        for m in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.customer_id == customer_id,
                OutboxMessage.event == event,
                OutboxMessage.channel == Channel.EMAIL,
            )
        )
    }


# SPEC: CTR-05, CTR-07
def test_breach_termination_charges_the_customer_in_breach_only(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    # [004 §12.1] the operator's formal notice of 2 March, unanswered one month: from 2 April
    ours = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    breach = termination.breach_notice(
        session, ours, notified_on=date(2026, 3, 2), breach="cession du service à un tiers"
    )
    termination.terminate_with_right(session, ours, breach, on=date(2026, 4, 2), reason="x")
    # CTR-05 [004 §3, §12.1] the sums due to the planned end (36 months from 5 January 2026:
    # 4 January 2029): 3–30 April (28/30), May 2026 – December 2028 (32 months), 1–4 January
    # 2029 (4/31), × 25.00 HT: 25 × (32 + 28/30 + 4/31) = 826.56 HT, invoiced on the last day
    [fee] = _invoices(session, ours.id)
    assert (fee.issue_date, fee.total_net, fee.lines[0].code) == (
        date(2026, 4, 2),
        Decimal("826.56"),
        "early_termination",
    )
    assert ours.terminated_on == date(2026, 4, 2)
    # [004 §12.1] "au gré de la Partie lésée": the customer's formal notice to the operator
    # opens the same termination, which costs the customer nothing
    theirs = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    breach = termination.breach_notice(
        session,
        theirs,
        notified_on=date(2026, 3, 2),
        breach="numéros non portés",
        by_operator=False,
    )
    termination.terminate_with_right(session, theirs, breach, on=date(2026, 4, 2), reason="x")
    assert theirs.status is ContractStatus.TERMINATED
    assert _invoices(session, theirs.id) == []


# SPEC: CTR-06
def test_either_party_terminates_after_a_month_of_total_suspension(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contacts(session, customer)
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 2)])
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 3, 2)
    )
    # [004 §11.4] one month of total suspension first: from 2 April, not on 1 April
    with pytest.raises(Conflict) as early:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 4, 1), reason="x", by_operator=False
        )
    assert early.value.code == "total_suspension_too_short"
    assert early.value.details["allowed_from"] == "2026-04-02"
    assert "possible à compter du 02/04/2026" in early.value.render("fr")
    assert "possible from 2026-04-02" in early.value.render("en")
    # the customer's notice of 2 April: the contract ends one month later, on 2 May
    notice = termination.terminate_after_suspension(
        session,
        contract,
        notified_on=date(2026, 4, 2),
        reason="service toujours coupé",
        by_operator=False,
    )
    assert (notice.kind, notice.by_operator, notice.started_on, notice.opens_on) == (
        NoticeKind.TOTAL_SUSPENSION,
        False,
        date(2026, 3, 2),
        date(2026, 4, 2),
    )
    assert (contract.status, contract.ends_on) == (ContractStatus.SUSPENDED, date(2026, 5, 2))
    mail = _notice_mails(session, customer.id)["admin@client.fr"]
    assert "totalement suspendu depuis le 02/03/2026" in mail.body
    assert "le client résilie le contrat" in mail.body
    assert "prend fin le 02/05/2026" in mail.body
    assert "le service reste suspendu" in mail.body
    # a second notice is refused; the scheduler ends the contract on its last day
    with pytest.raises(Conflict):
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 4, 3), reason="x", by_operator=True
        )
    session.commit()
    scheduler.run_once(session_factory, date(2026, 5, 3))
    session.refresh(contract)
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 5, 2),
    )
    assert _invoices(session, contract.id) == []  # no early-termination amount


# SPEC: CTR-06
def test_the_service_resuming_withdraws_the_termination_for_total_suspension(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contacts(session, customer)
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 2)])
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 3, 2)
    )
    termination.terminate_after_suspension(
        session, contract, notified_on=date(2026, 4, 2), reason="coupé", by_operator=True
    )
    assert (contract.status, contract.ends_on) == (ContractStatus.SUSPENDED, date(2026, 5, 2))
    # [004 §11.4] the termination applies "à défaut de reprise des Services": the service
    # resumes on 20 April, before the end: the contract goes on, its lines billed as before
    lifecycle.restore(session, contract, reason="fraude levée", on=date(2026, 4, 20))
    assert (contract.status, contract.ends_on) == (ContractStatus.ACTIVE, None)
    assert [s.end_date for s in contracts.list_subscriptions(session, contract)] == [None]
    restored = _notice_mails(session, customer.id, "contract.restored")["admin@client.fr"]
    assert "n'a plus d'objet : le contrat continue" in restored.body
    # a new total suspension needs its own month before a new notice
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 5, 4)
    )
    with pytest.raises(Conflict) as early:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 5, 20), reason="x", by_operator=True
        )
    assert early.value.details["allowed_from"] == "2026-06-04"


# SPEC: CTR-06
def test_a_service_resuming_after_the_end_does_not_withdraw_the_termination(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    """[004 §11.4] the notice ended the contract on its last day (2 May): the service coming
    back on 3 May, before the scheduler's end-of-notice run of that day, is too late to
    withdraw it — the contract ends on 2 May, its lines with it."""
    customer = build.customer()
    contacts(session, customer)
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 2)])
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraude", on=date(2026, 3, 2)
    )
    termination.terminate_after_suspension(
        session, contract, notified_on=date(2026, 4, 2), reason="coupé", by_operator=True
    )
    lifecycle.restore(session, contract, reason="fraude levée", on=date(2026, 5, 3))
    assert (contract.status, contract.ends_on) == (ContractStatus.NOTICE_GIVEN, date(2026, 5, 2))
    assert [s.end_date for s in contracts.list_subscriptions(session, contract)] == [
        date(2026, 5, 2)
    ]
    restored = _notice_mails(session, customer.id, "contract.restored")["admin@client.fr"]
    assert "n'a plus d'objet" not in restored.body
    session.commit()
    scheduler.run_once(session_factory, date(2026, 5, 3))
    session.refresh(contract)
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 5, 2),
    )


# SPEC: CTR-06
def test_the_operator_terminates_after_total_suspension_and_english_notice(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contacts(session, customer, "en")
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    # 31 January + 1 month = 28 February: the right opens then, the notice ends 28 March
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraud", on=date(2026, 1, 31)
    )
    notice = termination.terminate_after_suspension(
        session, contract, notified_on=date(2026, 2, 28), reason="no cure", by_operator=True
    )
    assert notice.by_operator and contract.ends_on == date(2026, 3, 28)
    mail = _notice_mails(session, customer.id)["admin@client.fr"]
    assert mail.subject == f"Termination of contract {contract.reference}"
    assert "the operator terminates the contract" in mail.body
    assert "ends on 2026-03-28" in mail.body


# SPEC: CTR-06
def test_total_suspension_counts_only_whole_consecutive_non_force_majeure_suspensions(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    # a partial suspension (international calls) is not a total one
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.ABUSE,
        reason="x",
        scope=SuspensionScope.INTERNATIONAL_CALLS,
        on=date(2026, 1, 10),
    )
    with pytest.raises(Conflict) as partial:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 4, 1), reason="x", by_operator=True
        )
    assert partial.value.code == "not_totally_suspended"
    lifecycle.restore(session, contract, reason="x", on=date(2026, 2, 1))
    # "sauf cas de Force majeure": a force majeure suspension does not count either
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FORCE_MAJEURE, reason="x", on=date(2026, 2, 1)
    )
    with pytest.raises(Conflict) as majeure:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 4, 1), reason="x", by_operator=True
        )
    assert majeure.value.code == "not_totally_suspended"
    lifecycle.restore(session, contract, reason="x", on=date(2026, 3, 1))
    # suspended again on 10 March: the month runs from then, not from January
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="x", on=date(2026, 3, 10)
    )
    with pytest.raises(Conflict) as again:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 4, 1), reason="x", by_operator=True
        )
    assert again.value.details["allowed_from"] == "2026-04-10"
    # restored on 20 March and suspended again the same day: no day of service in between,
    # the total suspension still runs from 10 March
    lifecycle.restore(session, contract, reason="x", on=date(2026, 3, 20))
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="x", on=date(2026, 3, 20)
    )
    assert termination.totally_suspended_since(session, contract) == date(2026, 3, 10)
    lifecycle.restore(session, contract, reason="x", on=date(2026, 3, 25))
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="x", on=date(2026, 3, 26)
    )
    assert termination.totally_suspended_since(session, contract) == date(2026, 3, 26)


# SPEC: CTR-06
def test_total_suspension_termination_needs_the_clause(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 5), [("centrex.line", 1)])
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="x", on=date(2026, 1, 10)
    )
    # the Centrex terms terminate an uncured suspension otherwise [001 §19]
    with pytest.raises(InvalidInput) as refused:
        termination.terminate_after_suspension(
            session, contract, notified_on=date(2026, 6, 1), reason="x", by_operator=True
        )
    assert refused.value.details == {
        "clause": "suspension.mutual_termination_after_total_suspension"
    }
    assert contract.status is ContractStatus.SUSPENDED and contract.ends_on is None


# SPEC: CTR-07
def test_operator_specific_termination_after_five_business_days(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contacts(session, customer)
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    # [004 §12.2] a decision of an authority: letter on Friday 3 April 2026, 5 business days
    # (Easter Monday 6 April is a holiday): 7, 8, 9, 10 and 13 April, the last day
    notice = termination.operator_termination(
        session,
        contract,
        case=OperatorCase.AUTHORITY_DECISION,
        notified_on=date(2026, 4, 3),
        reason="décision de l'ARCEP",
    )
    assert (notice.kind, notice.details["ends_on"]) == (
        NoticeKind.OPERATOR_TERMINATION,
        "2026-04-13",
    )
    assert (contract.status, contract.ends_on) == (ContractStatus.NOTICE_GIVEN, date(2026, 4, 13))
    mail = _notice_mails(session, customer.id)["admin@client.fr"]
    assert "décision d'une autorité compétente" in mail.body
    assert "Préavis de 5 jours ouvrés notifié le 03/04/2026" in mail.body
    assert _invoices(session, contract.id) == []  # not the customer's doing: no fee
    session.commit()
    scheduler.run_once(session_factory, date(2026, 4, 13))
    session.refresh(contract)
    assert contract.status is ContractStatus.NOTICE_GIVEN  # served on its last day
    scheduler.run_once(session_factory, date(2026, 4, 14))
    session.refresh(contract)
    assert (contract.status, contract.terminated_on) == (
        ContractStatus.TERMINATED,
        date(2026, 4, 13),
    )


# SPEC: CTR-07, CTR-05
def test_operator_specific_termination_for_a_breach_invoices_the_remaining_fees(
    build: Builder, session: Session
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    # [004 §12.2 (ii)] unlawful use, a breach of an essential obligation: the contract ends on
    # 13 April; [004 §12.1] the sums due to the planned end (4 January 2029) are owed:
    # 14–30 April (17/30), May 2026 – December 2028 (32 months), 1–4 January 2029 (4/31),
    # × 25.00 HT: 25 × (32 + 17/30 + 4/31) = 817.39 HT, invoiced with the letter
    notice = termination.operator_termination(
        session,
        contract,
        case=OperatorCase.ILLEGAL_USE,
        notified_on=date(2026, 4, 3),
        reason="appels frauduleux",
    )
    [fee] = _invoices(session, contract.id)
    assert (fee.issue_date, fee.total_net, fee.lines[0].code) == (
        date(2026, 4, 3),
        Decimal("817.39"),
        "early_termination",
    )
    assert notice.details["early_termination_excl_vat"] == "817.39"
    # a second letter is refused: the contract already ends on 13 April
    with pytest.raises(Conflict):
        termination.operator_termination(
            session,
            contract,
            case=OperatorCase.NON_PAYMENT,
            notified_on=date(2026, 4, 7),
            reason="x",
        )
    # [004 §12.2] the customer stopped its activity: only what is due to the effective end
    other = build.contract(customer, "telecom", date(2026, 1, 5), [("fixed.line", 1)])
    termination.operator_termination(
        session,
        other,
        case=OperatorCase.CEASED_ACTIVITY,
        notified_on=date(2026, 4, 3),
        reason="liquidation",
    )
    assert other.ends_on == date(2026, 4, 13) and _invoices(session, other.id) == []


# SPEC: CTR-07
def test_operator_specific_termination_needs_the_clause(build: Builder, session: Session) -> None:
    customer = build.customer()
    contract = build.contract(customer, "crm-voip", date(2026, 1, 5), [("crm.licence", 1)])
    with pytest.raises(InvalidInput) as refused:
        termination.operator_termination(
            session,
            contract,
            case=OperatorCase.AUTHORITY_DECISION,
            notified_on=date(2026, 4, 3),
            reason="x",
        )
    assert refused.value.details == {"clause": "termination.operator_specific_notice"}
    assert contract.status is ContractStatus.ACTIVE and contract.ends_on is None
