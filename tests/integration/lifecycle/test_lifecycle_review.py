"""Session 7 review of the contract lifecycle: terms anchored on the commitment's start at
month ends and on 29 February (CTR-03, CTR-04, CTR-05), and a suspension that giving notice
does not lift (CTR-06)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from operateur import scheduler
from operateur.catalog.service import get_offer
from operateur.catalog.terms import Service, SuspensionCause
from operateur.contracts import lifecycle, price_changes, renewal, termination
from operateur.contracts import service as contracts
from operateur.contracts.commitment import schedule
from operateur.contracts.models import ContractStatus
from operateur.contracts.schemas import SubscriptionIn
from operateur.errors import Conflict
from tests.integration.conftest import Builder


# SPEC: CTR-03
def test_monthly_terms_from_31_january_keep_their_anniversary() -> None:
    # [000 §5] one-month terms renewed monthly, 10 days' notice. From 31 January the terms start
    # 31 Jan, 28 Feb, 31 Mar, 30 Apr: a month clamped once does not stay on the 28th.
    terms = get_offer("crm-voip").terms.commitment
    march = schedule(terms, date(2026, 1, 31), date(2026, 3, 30))
    assert (march.term_number, march.term_start, march.term_end) == (
        1,
        date(2026, 2, 28),
        date(2026, 3, 30),
    )
    assert march.notice_deadline == date(2026, 3, 21)
    april = schedule(terms, date(2026, 1, 31), date(2026, 4, 15))
    assert (april.term_start, april.term_end, april.notice_deadline) == (
        date(2026, 3, 31),
        date(2026, 4, 29),
        date(2026, 4, 20),
    )


# SPEC: CTR-03
def test_yearly_terms_from_29_february_come_back_to_29_february() -> None:
    # [002 §8] 12-month terms renewed by 12, notice 3 months before the anniversary: signed on
    # 29 February 2024, the anniversaries are 28 February in common years and 29 February 2028.
    terms = get_offer("cpaas").terms.commitment
    before = schedule(terms, date(2024, 2, 29), date(2028, 2, 28))
    assert (before.term_number, before.term_start, before.term_end) == (
        3,
        date(2027, 2, 28),
        date(2028, 2, 28),
    )
    leap = schedule(terms, date(2024, 2, 29), date(2028, 2, 29))
    assert (leap.term_number, leap.term_start, leap.term_end, leap.notice_deadline) == (
        4,
        date(2028, 2, 29),
        date(2029, 2, 27),
        date(2028, 11, 28),
    )


# SPEC: CTR-04
def test_licence_change_after_the_20th_goes_to_the_anniversary_after_next(
    build: Builder, session: Session
) -> None:
    # [000 §5] monthly terms from 31 January: renewals on 28 February, 31 March. A change asked
    # on 25 February (after the 20th) takes effect at the renewal after next, 31 March.
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 1, 31), [("crm.licence", 2)], {"inactivity": None}
    )
    assert renewal.effective_date(contract, date(2026, 2, 19)) == date(2026, 2, 28)
    assert renewal.effective_date(contract, date(2026, 2, 25)) == date(2026, 3, 31)


# SPEC: CTR-05
def test_notice_after_the_deadline_ends_with_the_next_anniversary(
    build: Builder, session: Session
) -> None:
    # [000 §5] notice of 10 days before the renewal of 28 February (deadline 18 February):
    # given on 20 February it is late, so the contract runs one more term, to 30 March (the
    # next term starts on 31 March, the anniversary of 31 January).
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 1, 31), [("crm.licence", 2)], {"inactivity": None}
    )
    on_time = termination.plan_termination(session, contract, date(2026, 2, 18))
    assert on_time.without_fee == date(2026, 2, 27)
    late = termination.plan_termination(session, contract, date(2026, 2, 20))
    assert late.without_fee == date(2026, 3, 30)


# SPEC: CTR-06
def test_notice_given_while_suspended_does_not_restore_the_service(
    build: Builder, session: Session
) -> None:
    # Suspended for non-payment until it is cured: a notice of termination is no cure, the
    # service stays refused until payment restores it, and the contract still ends on its date.
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 15), [("centrex.line", 3)])
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.NON_PAYMENT,
        reason="invoice unpaid",
        on=date(2026, 5, 2),
    )
    termination.request_termination(
        session, contract, received_on=date(2026, 5, 10), reason="moving out"
    )
    decision = lifecycle.may_use(session, customer.id, Service.CENTREX)
    assert decision.allowed is False and decision.code == "suspended_non_payment"
    assert contract.ends_on is not None
    # paid: the service comes back, and the notice still runs to its end
    lifecycle.restore(session, contract, reason="paid", on=date(2026, 5, 20))
    assert contract.status is ContractStatus.NOTICE_GIVEN
    assert lifecycle.may_use(session, customer.id, Service.CENTREX).allowed is True
    assert contracts.get_contract(session, customer.id, contract.id).ends_on == contract.ends_on


# SPEC: CTR-05, CTR-06
def test_a_contract_suspended_during_its_notice_still_ends_on_its_date(
    build: Builder, session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 15), [("centrex.line", 3)])
    termination.request_termination(
        session, contract, received_on=date(2026, 3, 2), reason="moving out"
    )
    assert contract.ends_on is not None
    lifecycle.suspend(
        session,
        contract,
        cause=SuspensionCause.NON_PAYMENT,
        reason="invoice unpaid",
        on=contract.ends_on - timedelta(days=8),
    )
    session.commit()
    scheduler.run_once(session_factory, contract.ends_on + timedelta(days=3))
    session.expire_all()
    assert contract.status is ContractStatus.TERMINATED
    assert contract.terminated_on == contract.ends_on


# SPEC: CTR-13
def test_prorata_refund_leaves_out_the_subscriptions_already_ended(
    build: Builder, session: Session
) -> None:
    # [003 §3.2] an unfavourable change: the unused months of the annual period billed in
    # advance are refunded. 50 mailboxes the first year were recounted to 60 at the renewal of
    # 5 January 2027 (the 50 end on 4 January 2027). Terminating on 31 May 2027 refunds the 60
    # in force only: 60 × 1.20 HT × (7 + 4/31) months = 513.29.
    customer = build.customer()
    contract = build.contract(customer, "mail-security", date(2026, 1, 5), [])
    contracts.add_subscription(
        session,
        contract,
        SubscriptionIn(item_code="mail_in.mailbox", quantity=50, end_date=date(2027, 1, 4)),
    )
    contracts.add_subscription(
        session,
        contract,
        SubscriptionIn(item_code="mail_in.mailbox", quantity=60, start_date=date(2027, 1, 5)),
    )
    price_changes.announce(
        session,
        contract,
        notified_on=date(2027, 5, 20),
        effective_on=date(2027, 5, 20),
        rises=True,
        summary="boîte filtrée à 1,50 € HT par mois",
    )
    assert price_changes.unused_refund(session, contract, date(2027, 5, 31)) == Decimal("513.29")


# SPEC: CTR-03
def test_a_contract_under_notice_is_not_renewed_while_suspended(
    build: Builder, session: Session
) -> None:
    # [000 §5] monthly terms from 10 March; notice given on 20 March ends the contract on
    # 9 April. Suspended meanwhile, it must not be announced as renewed on 10 April.
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 3, 10), [("crm.licence", 2)], {"inactivity": None}
    )
    termination.request_termination(
        session, contract, received_on=date(2026, 3, 20), reason="moving out"
    )
    assert contract.ends_on == date(2026, 4, 9)
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraud", on=date(2026, 4, 1)
    )
    assert renewal.renewals_due(session, date(2026, 4, 10)) == []


# SPEC: CTR-03
def test_a_second_notice_while_suspended_is_refused(build: Builder, session: Session) -> None:
    # the notice recorded on 20 March ends the contract on 9 April; suspended meanwhile, the
    # contract cannot take another notice that would move its end
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 3, 10), [("crm.licence", 2)], {"inactivity": None}
    )
    termination.request_termination(
        session, contract, received_on=date(2026, 3, 20), reason="moving out"
    )
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraud", on=date(2026, 4, 1)
    )
    with pytest.raises(Conflict):
        termination.request_termination(
            session, contract, received_on=date(2026, 4, 2), reason="again"
        )
    assert contract.ends_on == date(2026, 4, 9)


# SPEC: CTR-05
def test_early_end_on_a_month_end_owes_the_fees_billing_has_not_invoiced(
    build: Builder, session: Session
) -> None:
    # [001 §20] the remaining monthly fees to the term are due. 36 months from 31 January 2026
    # (to 30 January 2029), 74.75 HT a month billed by calendar month (BIL-01). Ending on
    # 27 February 2026, billing has invoiced 31 January and 1–27 February; the fees still due
    # are 28 February (1/28), March 2026 – December 2028 (34 months) and 1–30 January 2029
    # (30/31): 74.75 × 35.0035 = 2 616.51 HT, not 35 months and 3/31 counted from the 28th.
    customer = build.customer()
    contract = build.contract(customer, "centrex", date(2026, 1, 31), [("centrex.line", 3)])
    request = termination.plan_termination(
        session, contract, date(2026, 2, 10), ends_on=date(2026, 2, 27)
    )
    assert request.owed.term_end == date(2029, 1, 30)
    assert request.owed.amount == Decimal("2616.51")
    # an end within a month: 16 – 31 March (16/31), April 2026 – December 2028 (33 months),
    # 1 – 30 January 2029 (30/31): 34 and 15/31 months, 74.75 × 34.4839 = 2 577.67 HT
    mid = termination.plan_termination(
        session, contract, date(2026, 2, 10), ends_on=date(2026, 3, 15)
    )
    assert mid.owed.amount == Decimal("2577.67")


# SPEC: CTR-04
def test_no_licence_change_for_a_contract_that_will_not_renew(
    build: Builder, session: Session
) -> None:
    # a change takes effect at a renewal: a contract under notice (suspended meanwhile) has none
    customer = build.customer()
    contract = build.contract(
        customer, "crm-voip", date(2026, 3, 10), [("crm.licence", 2)], {"inactivity": None}
    )
    [sub] = contracts.list_subscriptions(session, contract)
    termination.request_termination(
        session, contract, received_on=date(2026, 3, 20), reason="moving out"
    )
    lifecycle.suspend(
        session, contract, cause=SuspensionCause.FRAUD, reason="fraud", on=date(2026, 3, 25)
    )
    with pytest.raises(Conflict):
        renewal.request_change(session, contract, sub, 5, date(2026, 3, 26))
    assert renewal.list_changes(session, contract) == []
