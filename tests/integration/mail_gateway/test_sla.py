"""SLA figures and remedies (MAIL-05, MAIL-06): FP and FN rates over rolling 7 days with the
exclusions, viruses delivered against ceil(0.1 %), availability from the prober (both
gateways down), the deductions handed to billing once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.billing.models import LineSource, PendingCharge
from operateur.contracts.models import Contract
from operateur.domain.calendar import PARIS
from operateur.mail import prober, sla
from operateur.mail.harness import GatewayThread
from operateur.mail.models import (
    Direction,
    FeedbackChannel,
    FeedbackKind,
    FilterLog,
    ProbeResult,
)
from operateur.mail.quarantine import record
from operateur.testing.ports import free_port
from tests.integration.conftest import Builder

DAY = datetime.combine(date(2026, 10, 10), time(12), tzinfo=PARIS)
FEE = Decimal("22.00")  # 10 x 1.20 + 10 x 0.60 + 2 x 2.00 a month


def contract(build: Builder) -> Contract:
    customer = build.customer(name="Acme")
    return build.contract(
        customer,
        "mail-security",
        date(2026, 1, 5),
        [("mail_in.mailbox", 10), ("mail_out.mailbox", 10), ("mail.domain", 2)],
    )


def add_logs(
    session: Session, customer_id: int, count: int, action: str, **flags: bool
) -> list[FilterLog]:
    rows = [
        FilterLog(
            customer_id=customer_id,
            direction=Direction.INBOUND,
            at=DAY,
            gateway="gw1",
            mail_from="x@example.org",
            rcpt_tos=["alice@acme.fr"],
            size=1000,
            action=action,
            score=1.0,
            symbols=[],
            **flags,
        )
        for _ in range(count)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def feedback(
    session: Session,
    rows: list[FilterLog],
    kind: FeedbackKind,
    channel: FeedbackChannel = FeedbackChannel.ADMINISTRATOR,
) -> None:
    for row in rows:
        record(
            session,
            customer_id=row.customer_id,
            log_id=row.id,
            kind=kind,
            channel=channel,
            actor="test",
            now=DAY + timedelta(hours=1),
        )


def traffic(session: Session, customer_id: int) -> None:
    """1000 messages on 10 October: FP 4 (0.4 %), FN 3 (0.3 %), 2 viruses delivered."""
    delivered = add_logs(session, customer_id, 897, "deliver")
    blocked = add_logs(session, customer_id, 96, "quarantine")
    # false positives: released by an administrator or the recipient, or reported legitimate
    feedback(session, blocked[:2], FeedbackKind.RELEASE)
    feedback(session, blocked[2:3], FeedbackKind.RELEASE, FeedbackChannel.RECIPIENT_DIGEST)
    feedback(session, blocked[3:4], FeedbackKind.REPORT_HAM)
    # not false positives: released by its own sender (challenge), or excluded by MAIL-05
    feedback(session, blocked[4:5], FeedbackKind.RELEASE, FeedbackChannel.SENDER_CHALLENGE)
    for flag in ("deny_listed", "corrupted_host", "corrupted_domain", "forwarded"):
        feedback(
            session,
            add_logs(session, customer_id, 1, "quarantine", **{flag: True}),
            FeedbackKind.RELEASE,
        )
    # false negatives: delivered, reported as spam; not those excluded by MAIL-04
    feedback(session, delivered[:3], FeedbackKind.REPORT_SPAM)
    for flag in ("allow_listed", "filtering_disabled", "forwarded"):
        feedback(
            session,
            add_logs(session, customer_id, 1, "deliver", **{flag: True}),
            FeedbackKind.REPORT_SPAM,
        )
    feedback(session, delivered[10:12], FeedbackKind.REPORT_VIRUS)
    # outbound mail is not in the inbound rates
    session.add(
        FilterLog(
            customer_id=customer_id,
            direction=Direction.OUTBOUND,
            at=DAY,
            gateway="gw1",
            mail_from="alice@acme.fr",
            rcpt_tos=["x@example.org"],
            size=1,
            action="deliver",
            score=0,
            symbols=[],
        )
    )
    session.flush()


def outage(session: Session, start: datetime, minutes: int, *, both: bool = True) -> None:
    for n in range(minutes):
        minute = (start + timedelta(minutes=n)).astimezone(UTC)
        session.add(ProbeResult(gateway="gw1:25", minute=minute, ok=False, detail="refused"))
        session.add(ProbeResult(gateway="gw2:25", minute=minute, ok=not both, detail=""))
    session.flush()


# SPEC: MAIL-05, MAIL-06
def test_rolling_week_figures_with_the_exclusions(build: Builder, session: Session) -> None:
    mail_contract = contract(build)
    traffic(session, mail_contract.customer_id)
    terms = sla.sla_terms(mail_contract)
    week = sla.window_figures(session, mail_contract.customer_id, DAY + timedelta(hours=12), terms)
    assert week.processed == 1000
    assert (week.false_positives, week.fp_percent) == (4, Decimal("0.4000"))
    assert (week.false_negatives, week.fn_percent) == (3, Decimal("0.3000"))
    assert (week.viruses_delivered, week.virus_ceiling) == (2, 1)  # ceil(0.1 % of 1000)
    assert (week.fp_breached, week.fn_breached, week.virus_breached) == (True, False, True)
    later = sla.window_figures(session, mail_contract.customer_id, DAY + timedelta(days=8), terms)
    assert later.processed == 0  # rolling: 7 days later the day has left the window


# SPEC: MAIL-06
def test_remedies_of_the_month_are_handed_to_billing_once(build: Builder, session: Session) -> None:
    mail_contract = contract(build)
    traffic(session, mail_contract.customer_id)
    outage(session, datetime(2026, 10, 20, 3, tzinfo=PARIS), 130)  # 2 full hours
    outage(session, datetime(2026, 10, 21, 3, tzinfo=PARIS), 300, both=False)  # one survived
    result = sla.remedies(session, mail_contract, "2026-10")
    assert result.worst_week is not None and result.worst_week.processed == 1000
    assert result.filtering_percent == Decimal("7.0000")  # 10 x (0.4 + 0.3)
    assert result.unavailable_minutes == 130
    assert result.availability_percent < Decimal("99.99")
    assert result.availability_penalty_percent == Decimal("20")  # 10 % per full hour
    assert result.monthly_fee == FEE
    assert result.credit == Decimal("5.94")  # 27 % of 22.00

    charge = sla.hand_to_billing(session, mail_contract, "2026-10")
    assert charge is not None
    assert (charge.amount, charge.source, charge.invoice_id) == (
        Decimal("-5.94"),
        LineSource.CREDIT,
        None,
    )
    assert "FP 0.4 % + FN 0.3 %" in charge.description and "130 min" in charge.description
    again = sla.hand_to_billing(session, mail_contract, "2026-10")
    assert again is not None and again.id == charge.id
    assert len(session.scalars(select(PendingCharge)).all()) == 1
    assert sla.hand_to_billing(session, mail_contract, "2026-09") is None  # a clean month


# SPEC: MAIL-06
def test_the_deduction_is_capped_at_half_the_monthly_fee(build: Builder, session: Session) -> None:
    mail_contract = contract(build)
    blocked = add_logs(session, mail_contract.customer_id, 100, "quarantine")
    feedback(session, blocked[:6], FeedbackKind.RELEASE)  # FP 6 % -> 60 %
    outage(session, datetime(2026, 10, 2, tzinfo=PARIS), 61)
    result = sla.remedies(session, mail_contract, "2026-10")
    assert result.filtering_percent == Decimal("50")
    assert result.credit == Decimal("11.00")  # 50 % of 22.00, both remedies together


# SPEC: MAIL-06
def test_the_scheduler_job_credits_last_month_on_the_first(
    build: Builder, session: Session
) -> None:
    mail_contract = contract(build)
    outage(session, datetime(2026, 10, 20, tzinfo=PARIS), 60)
    assert sla.credits_due(session, date(2026, 11, 2)) == []
    assert sla.credits_due(session, date(2026, 11, 1)) == [mail_contract.reference]
    assert sla.credits_due(session, date(2026, 11, 1)) == [mail_contract.reference]  # same charge
    [charge] = session.scalars(select(PendingCharge)).all()
    assert charge.amount == Decimal("-2.20")


# SPEC: MAIL-06, MAIL-12
def test_the_prober_records_each_gateway_every_minute(
    db: sessionmaker[Session], gateway: GatewayThread
) -> None:
    closed = ("127.0.0.1", free_port())
    now = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)
    result = asyncio.run(prober.probe_once(db, [gateway.inbound, closed], now))
    assert result == {
        f"{gateway.inbound[0]}:{gateway.inbound[1]}": True,
        f"{closed[0]}:{closed[1]}": False,
    }
    with db() as session:
        start = now.replace(second=0)
        assert prober.unavailable_minutes(session, start, start + timedelta(minutes=1)) == 0
    gateway.stop()  # both down in the next minute
    later = now + timedelta(minutes=1)
    asyncio.run(prober.probe_once(db, [gateway.inbound, closed], later))
    with db() as session:
        rows = session.scalars(select(ProbeResult).order_by(ProbeResult.id)).all()
        assert [(r.minute.minute, r.ok) for r in rows] == [
            (0, True),
            (0, False),
            (1, False),
            (1, False),
        ]
        assert prober.unavailable_minutes(session, start, start + timedelta(minutes=2)) == 1
