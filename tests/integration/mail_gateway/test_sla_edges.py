"""Edges of the SLA figures and remedies (MAIL-05, MAIL-06): a rate just below its threshold,
the monthly fee of a month in which the renewal recount replaced the subscriptions, the
availability of a month with a daylight-saving change, a month not over yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.billing.models import PendingCharge
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict
from operateur.mail import licences, sla
from operateur.mail import service as mail
from operateur.mail.models import FeedbackKind, ProbeResult
from tests.integration.conftest import Builder
from tests.integration.mail_gateway.test_sla import DAY, add_logs, contract, feedback


# SPEC: MAIL-05, MAIL-06
def test_a_rate_just_below_the_threshold_is_not_a_breach(build: Builder, session: Session) -> None:
    mail_contract = contract(build)
    add_logs(session, mail_contract.customer_id, 10_000, "deliver")
    blocked = add_logs(session, mail_contract.customer_id, 1, "quarantine")
    feedback(session, blocked, FeedbackKind.RELEASE)
    terms = sla.sla_terms(mail_contract)
    week = sla.window_figures(session, mail_contract.customer_id, DAY + timedelta(hours=12), terms)
    # 1 / 10 001 = 0.009999 %: below the 0.01 % the SLA promises, whatever the display rounding
    assert (week.processed, week.false_positives) == (10_001, 1)
    assert week.fp_breached is False
    result = sla.remedies(session, mail_contract, "2026-10")
    assert (result.worst_week, result.filtering_percent, result.credit) == (
        None,
        Decimal("0"),
        Decimal("0"),
    )


def _outage(session: Session, start: datetime, minutes: int) -> None:
    for n in range(minutes):
        minute = (start + timedelta(minutes=n)).astimezone(UTC)
        session.add(ProbeResult(gateway="gw1:25", minute=minute, ok=False, detail="refused"))
        session.add(ProbeResult(gateway="gw2:25", minute=minute, ok=False, detail="refused"))
    session.flush()


# SPEC: MAIL-06
def test_the_fee_of_a_renewal_month_is_counted_once(build: Builder, session: Session) -> None:
    mail_contract = contract(build)  # 10 + 10 mailboxes and 2 domains from 5 January 2026
    customer_id = mail_contract.customer_id
    mail.add_domain(session, customer_id, "acme.fr", date(2026, 1, 6))
    for n in range(10):
        mail.add_mailbox(session, customer_id, f"user{n}@acme.fr", date(2026, 1, 6))
    # the renewal of 5 January 2027: one domain used, so the domain licence becomes 1
    assert licences.recount_at_renewal(session, mail_contract, date(2027, 1, 5))
    _outage(session, datetime(2027, 1, 20, 3, tzinfo=PARIS), 60)  # one full hour
    result = sla.remedies(session, mail_contract, "2027-01")
    # the fee in force at the month's end: 10 x 1.20 + 10 x 0.60 + 1 x 2.00, not that plus the
    # 2 x 2.00 of the subscriptions that ended on 4 January
    assert result.monthly_fee == Decimal("20.00")
    assert result.availability_penalty_percent == Decimal("10")
    assert result.credit == Decimal("2.00")


# SPEC: MAIL-06
def test_availability_counts_the_real_minutes_of_a_month_with_a_clock_change(
    build: Builder, session: Session
) -> None:
    mail_contract = contract(build)
    _outage(session, datetime(2026, 10, 20, 3, tzinfo=PARIS), 61)
    result = sla.remedies(session, mail_contract, "2026-10")
    # October 2026 in Paris lasts 31 days and one hour (back to winter time on the 25th)
    minutes = Decimal(31 * 24 * 60 + 60)
    assert result.unavailable_minutes == 61
    assert result.availability_percent == (100 * (minutes - 61) / minutes).quantize(sla.PERCENT)
    assert result.availability_percent == Decimal("99.8635")


# SPEC: MAIL-06
def test_a_month_not_over_is_not_handed_to_billing(build: Builder, session: Session) -> None:
    mail_contract = contract(build)
    _outage(session, datetime(2026, 10, 20, 3, tzinfo=PARIS), 60)
    during = datetime(2026, 10, 25, 12, tzinfo=PARIS)
    # a credit frozen mid-month would be returned again, unchanged, once the month is over
    with pytest.raises(Conflict) as refused:
        sla.hand_to_billing(session, mail_contract, "2026-10", now=during)
    assert refused.value.field == "period"
    assert session.scalars(select(PendingCharge)).all() == []
    _outage(session, datetime(2026, 10, 28, 3, tzinfo=PARIS), 60)  # the rest of the month
    after = datetime(2026, 11, 1, 0, 0, 30, tzinfo=PARIS)
    charge = sla.hand_to_billing(session, mail_contract, "2026-10", now=after)
    assert charge is not None and charge.amount == Decimal("-4.40")  # 2 full hours: 20 % of 22


# SPEC: MAIL-06
def test_a_gateway_renamed_during_an_outage_keeps_the_remedy(
    build: Builder, session: Session
) -> None:
    mail_contract = contract(build)
    start = datetime(2026, 10, 20, 3, tzinfo=PARIS)
    for n in range(70):
        minute = (start + timedelta(minutes=n)).astimezone(UTC)
        # the second gateway is renamed 30 minutes into the outage; both stay down 61 minutes
        second = "gw2:25" if n < 30 else "mx2.example.net:25"
        down = n < 61
        session.add(ProbeResult(gateway="gw1:25", minute=minute, ok=not down, detail=""))
        session.add(ProbeResult(gateway=second, minute=minute, ok=not down, detail=""))
    # a minute where only the renamed gateway answered is not unavailable
    lone = (start + timedelta(hours=5)).astimezone(UTC)
    session.add(ProbeResult(gateway="gw1:25", minute=lone, ok=False, detail="refused"))
    session.add(ProbeResult(gateway="mx2.example.net:25", minute=lone, ok=True, detail=""))
    session.flush()
    result = sla.remedies(session, mail_contract, "2026-10")
    assert result.unavailable_minutes == 61
    assert result.availability_penalty_percent == Decimal("10")  # one full hour
