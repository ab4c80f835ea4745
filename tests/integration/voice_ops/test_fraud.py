"""Fraud detection over usage: alerts with their evidence, once per period, and the actions
the contract's terms provide (VOX-06, BIL-13, BIL-15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing import invoicing
from operateur.billing.models import Invoice, PendingCharge, UnlimitedPlanAbuse
from operateur.catalog.terms import Service
from operateur.contracts import lifecycle
from operateur.contracts.models import ContractStatus, LineKind, SuspensionScope
from operateur.errors import Conflict
from operateur.fraud import service as fraud
from operateur.fraud.models import AlertKind, AlertStatus, FraudAlert
from operateur.notifications.models import OutboxMessage
from tests.integration.voice_ops.conftest import Setup

MARCH = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _alerts(session: Session) -> list[FraudAlert]:
    return list(session.scalars(select(FraudAlert).order_by(FraudAlert.id)))


# SPEC: VOX-06
def test_more_than_500_numbers_from_one_line(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 1)])
    line = setup.line(contract, "accueil")
    # 500 different landlines, one minute each: within the limit of the terms (500)
    for n in range(500):
        setup.call(line, f"c{n}", f"+3314{n:07d}", MARCH + timedelta(minutes=n), 60)
    assert fraud.run(session, date(2026, 3, 3)) == []
    # three more numbers (mobiles, 2 minutes each): beyond the limit
    for n in range(3):
        setup.call(line, f"m{n}", f"+3361200000{n}", MARCH + timedelta(hours=12, minutes=n), 120)
    [alert] = fraud.run(session, date(2026, 3, 3))
    assert (alert.kind, alert.rule, alert.period) == (
        AlertKind.DISTINCT_NUMBERS,
        "VOX-06",
        "2026-03",
    )
    assert alert.line_id == line.id and alert.status is AlertStatus.OPEN
    assert alert.evidence["distinct_numbers"] == 503 and alert.evidence["limit"] == 500
    assert alert.evidence["calls_beyond_limit"] == 3
    actions = {a["action"]: a for a in alert.actions}
    # [001 §8]: restrict the service: outbound calls suspended, the contract's terms allow a
    # partial suspension
    assert actions["restrict_service"]["detail"] == "outbound_calls"
    assert contract.status is ContractStatus.SUSPENDED
    refused = lifecycle.may_use(session, customer.id, Service.CENTREX)
    assert not refused.allowed and refused.code == "suspended_fraud"
    # interim payment: nothing out of plan (the plan includes French calls), so no invoice
    assert actions["request_interim_payment"]["done"] is False
    assert actions["report_to_authorities"] == {
        "action": "report_to_authorities",
        "done": False,
        "detail": "to do by staff",
    }
    # bill beyond the limits: 3 calls of 120 s at 30/6 -> 0.05 x 2 + 0.01 = 0.11 € TTC each,
    # 0.33 € TTC; centrex prices include VAT: 0.33 / 1.2 = 0.275 -> 0.28 € HT
    [charge] = session.scalars(
        select(PendingCharge).where(PendingCharge.contract_id == contract.id)
    )
    assert (charge.code, charge.amount) == ("fraud.beyond_limits", Decimal("0.28"))
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.event == "fraud.alert"))
    assert [m.recipient for m in mails] == ["compta@client-test.fr"]

    # the next day: the same alert, a new call beyond the limit billed alone (0.11 / 1.2
    # = 0.09166 -> 0.09 € HT), no second suspension
    setup.call(line, "m9", "+33612000009", MARCH + timedelta(days=1), 120)
    [again] = fraud.run(session, date(2026, 3, 4))
    assert again.id == alert.id and again.evidence["distinct_numbers"] == 504
    amounts = sorted(
        c.amount
        for c in session.scalars(
            select(PendingCharge).where(PendingCharge.contract_id == contract.id)
        )
    )
    assert amounts == [Decimal("0.09"), Decimal("0.28")]
    assert len(lifecycle.open_suspensions(session, contract.id)) == 1

    fraud.resolve(
        session, alert, by="analyst", resolution="customer's robot", lift_restriction=True,
        reported=True,
    )  # fmt: skip
    assert alert.status is AlertStatus.RESOLVED and contract.status is ContractStatus.ACTIVE
    assert {a["action"]: a["done"] for a in alert.actions}["report_to_authorities"] is True
    # a resolved alert bills nothing more
    setup.call(line, "m10", "+33612000010", MARCH + timedelta(days=2), 120)
    fraud.run(session, date(2026, 3, 5))
    assert session.query(PendingCharge).filter_by(contract_id=contract.id).count() == 2


# SPEC: VOX-06
def test_calls_longer_than_120_minutes(setup: Setup, session: Session) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 2)])
    quiet = setup.line(contract, "quiet")
    chatty = setup.line(contract, "chatty")
    setup.call(quiet, "q1", "+33140000001", MARCH, 120 * 60)  # exactly 120 minutes
    setup.call(chatty, "l1", "+33140000002", MARCH, 121 * 60)
    [alert] = fraud.run(session, date(2026, 3, 3))
    assert alert.kind is AlertKind.LONG_CALLS and alert.line_id == chatty.id
    assert [c["seconds"] for c in alert.evidence["calls"]] == [7260]
    assert alert.evidence["limit_minutes"] == 120


# SPEC: BIL-13
def test_out_of_plan_usage_above_the_threshold_is_invoiced_early(
    setup: Setup, session: Session
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 1)])
    line = setup.line(contract, "export")
    # calls to the United Kingdom are outside the plan: 16 calls of 119 minutes at 0.10 €/min
    # = 190.40 € TTC = 158.67 € HT, above the terms' threshold of 150 € HT
    for n in range(16):
        setup.call(line, f"uk{n}", f"+4420700000{n:02d}", MARCH + timedelta(hours=3 * n), 119 * 60)
    [alert] = fraud.run(session, date(2026, 3, 3))
    assert (alert.kind, alert.rule) == (AlertKind.OUT_OF_PLAN, "BIL-13")
    assert alert.evidence == {"out_of_plan_excl_vat": "158.67", "threshold": "150.00"}
    [action] = alert.actions
    assert action["action"] == "request_interim_payment" and action["done"] is True
    invoice = session.scalar(select(Invoice).where(Invoice.number == action["detail"]))
    assert invoice is not None and invoice.purpose == "interim:2026-03:1"
    assert invoice.total_net == Decimal("158.67")
    assert contract.status is ContractStatus.ACTIVE  # BIL-13 invoices; it does not restrict
    # usage invoiced: the next run finds nothing out of plan and raises nothing new
    assert [a.id for a in fraud.run(session, date(2026, 3, 4))] == []
    # the threshold passed again within the month: a second interim invoice, same alert
    later = MARCH + timedelta(days=5)
    for n in range(16):
        setup.call(
            line, f"uk2-{n}", f"+4420700001{n:02d}", later + timedelta(hours=3 * n), 119 * 60
        )
    [again] = fraud.run(session, date(2026, 3, 9))
    assert again.id == alert.id
    second = session.scalar(select(Invoice).where(Invoice.number == again.actions[-1]["detail"]))
    assert second is not None and second.purpose == "interim:2026-03:2"
    assert second.total_net == Decimal("158.67")


# SPEC: VOX-06, BIL-15
def test_burst_abroad_restricts_international_calls_and_voids_the_unlimited_plan(
    setup: Setup, session: Session
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "telecom", date(2026, 1, 1), [("mobile.line", 2)])
    line = setup.line(contract, "mobile1", LineKind.MOBILE)
    # the terms' burst: 20 calls within 10 minutes to one 7-digit prefix
    for n in range(20):
        setup.call(line, f"b{n}", f"+4420712345{n:02d}", MARCH + timedelta(seconds=29 * n), 30)
    [alert] = fraud.run(session, date(2026, 3, 3))
    assert alert.kind is AlertKind.PREFIX_BURST
    assert alert.evidence["prefix"] == "4420712" and alert.evidence["calls_in_window"] == 20
    [suspension] = lifecycle.open_suspensions(session, contract.id)
    assert suspension.scope is SuspensionScope.INTERNATIONAL_CALLS
    assert lifecycle.may_use(session, customer.id, Service.MOBILE).allowed
    assert not lifecycle.may_use(session, customer.id, Service.MOBILE, international=True).allowed
    # BIL-15: the month's unlimited plan is void and the fee per line applies
    abuse = session.scalar(
        select(UnlimitedPlanAbuse).where(UnlimitedPlanAbuse.contract_id == contract.id)
    )
    assert abuse is not None and (abuse.period, abuse.lines) == ("2026-03", 1)
    invoice = invoicing.invoice_contract(session, contract, date(2026, 3, 1))
    assert invoice is not None
    fee = [line for line in invoice.lines if line.code == "unlimited_abuse"]
    assert [(f.quantity, f.net_amount) for f in fee] == [(Decimal("1"), Decimal("200.00"))]


# SPEC: VOX-06, BIL-13
def test_an_open_out_of_plan_alert_does_not_keep_a_fraud_restriction(
    setup: Setup, session: Session
) -> None:
    """A BIL-13 alert only invoices early: it restricts nothing, so it cannot hold the VOX-06
    restriction once staff resolve the alert that imposed it."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 1)])
    line = setup.line(contract, "export")
    # out of plan above the threshold (as above): 16 calls of 119 minutes to the UK, and one
    # call longer than 120 minutes
    for n in range(16):
        setup.call(line, f"uk{n}", f"+4420700000{n:02d}", MARCH + timedelta(hours=3 * n), 119 * 60)
    setup.call(line, "long", "+33140000002", MARCH + timedelta(days=3), 121 * 60)
    found = {a.kind: a for a in fraud.run(session, date(2026, 3, 6))}
    assert set(found) == {AlertKind.OUT_OF_PLAN, AlertKind.LONG_CALLS}
    assert [s.cause for s in lifecycle.open_suspensions(session, contract.id)] == ["fraud"]
    fraud.resolve(
        session, found[AlertKind.LONG_CALLS], by="analyst", resolution="checked",
        lift_restriction=True,
    )  # fmt: skip
    assert contract.status is ContractStatus.ACTIVE
    assert lifecycle.open_suspensions(session, contract.id) == []
    assert found[AlertKind.OUT_OF_PLAN].status is AlertStatus.OPEN


# SPEC: VOX-06
def test_a_restriction_stays_while_another_alert_that_restricted_is_open(
    setup: Setup, session: Session
) -> None:
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 2)])
    first_line = setup.line(contract, "one")
    second_line = setup.line(contract, "two")
    setup.call(first_line, "l1", "+33140000001", MARCH, 121 * 60)
    setup.call(second_line, "l2", "+33140000002", MARCH, 121 * 60)
    first, second = fraud.run(session, date(2026, 3, 3))
    assert {first.line_id, second.line_id} == {first_line.id, second_line.id}
    with pytest.raises(Conflict):
        fraud.resolve(session, first, by="analyst", resolution="ok", lift_restriction=True)
    assert len(lifecycle.open_suspensions(session, contract.id)) == 1
    # (the API rolls the refused request back; here the first alert stays closed)
    fraud.resolve(session, second, by="analyst", resolution="ok", lift_restriction=True)
    assert lifecycle.open_suspensions(session, contract.id) == []


# SPEC: VOX-06
def test_calls_of_last_month_imported_late_are_examined_against_their_own_period(
    setup: Setup, session: Session
) -> None:
    """CDRs of 30 March imported on 2 April: the next daily runs examine March (the period
    of the calls, not of their import) with March's calls, once."""
    customer = setup.build.customer()
    contract = setup.build.contract(customer, "centrex", date(2026, 1, 1), [("centrex.line", 1)])
    line = setup.line(contract, "standard")
    march_30 = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)

    def imported_on(day: datetime, calls: list[tuple[str, str, datetime, int]]) -> None:
        for call_id, callee, start, seconds in calls:
            setup.call(line, call_id, callee, start, seconds).created_at = day

    # 498 numbers called in March (one every 85 minutes) and imported then: within the limit
    # of the terms (500)
    first = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    imported_on(
        march_30,
        [(f"c{n}", f"+3314{n:07d}", first + timedelta(minutes=85 * n), 60) for n in range(498)],
    )
    assert fraud.run(session, date(2026, 3, 31)) == []
    assert fraud.run(session, date(2026, 4, 1)) == []
    assert fraud.run(session, date(2026, 4, 2)) == []  # the daily job runs just after midnight
    # On 2 April at 10:00 the switch's CDRs of the evening of 30 March arrive: three more
    # numbers (501 in March) and a call of 121 minutes.
    late = march_30 + timedelta(hours=10)
    imported_on(
        datetime(2026, 4, 2, 10, 0, tzinfo=UTC),
        [
            ("late1", "+33612000001", late, 60),
            ("late2", "+33612000002", late + timedelta(minutes=5), 60),
            ("late3", "+33612000003", late + timedelta(minutes=10), 121 * 60),
        ],
    )
    found = fraud.run(session, date(2026, 4, 3))
    assert sorted((a.kind, a.period) for a in found) == [
        (AlertKind.DISTINCT_NUMBERS, "2026-03"),
        (AlertKind.LONG_CALLS, "2026-03"),
    ]
    distinct = next(a for a in found if a.kind is AlertKind.DISTINCT_NUMBERS)
    assert distinct.evidence["distinct_numbers"] == 501 and distinct.evidence["limit"] == 500
    assert contract.status is ContractStatus.SUSPENDED
    # the next day's run (the import is still within its window) raises nothing twice
    again = fraud.run(session, date(2026, 4, 4))
    assert {a.id for a in again} <= {a.id for a in found}
    assert len(_alerts(session)) == 2
    mails = session.scalars(select(OutboxMessage).where(OutboxMessage.event == "fraud.alert"))
    assert len(list(mails)) == 2
