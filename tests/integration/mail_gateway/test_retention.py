"""Retention (MAIL-10, PRIV-02): stored mail at most the terms' 30 days, filtering and console
logs 365 days, then deleted by the daily job."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operateur.db import utcnow
from operateur.mail import quarantine, queue, retention
from operateur.mail.models import (
    ConsoleLog,
    DailyCount,
    Direction,
    FeedbackChannel,
    FeedbackKind,
    FilterLog,
    MailChallenge,
    MailFeedback,
    ProbeResult,
    QuarantinedMessage,
    QueuedMessage,
)
from operateur.mail.queue import Spool
from tests.integration.conftest import Builder

NOW = utcnow()


def _log(session: Session, customer_id: int, age: timedelta) -> FilterLog:
    entry = FilterLog(
        customer_id=customer_id,
        direction=Direction.INBOUND,
        at=NOW - age,
        gateway="gw1",
        mail_from="x@example.org",
        rcpt_tos=["alice@acme.fr"],
        size=10,
        action="quarantine",
        score=9,
        symbols=[],
    )
    session.add(entry)
    session.flush()
    return entry


def _stored(spool: Spool, age: timedelta) -> str:
    name = spool.write(b"Subject: x\r\n\r\nbody\r\n")
    moment = (NOW - age).timestamp()
    os.utime(spool.directory / name, (moment, moment))
    return name


def _held(session: Session, spool: Spool, customer_id: int, age: timedelta) -> QuarantinedMessage:
    entry = _log(session, customer_id, age)
    return quarantine.hold(
        session,
        customer_id=customer_id,
        log_id=entry.id,
        spool_name=_stored(spool, age),
        mail_from="x@example.org",
        recipient="alice@acme.fr",
        subject="x",
        score=9,
        symbols=[],
        virus=False,
        now=NOW - age,
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# SPEC: MAIL-10, PRIV-02
def test_mail_after_30_days_and_logs_after_365_days_are_deleted(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer = build.customer(name="Acme")
    build.contract(customer, "mail-security", date(2025, 1, 6), [("mail_in.mailbox", 10)])
    spool = Spool(tmp_path / "spool")

    old_held = _held(session, spool, customer.id, timedelta(days=31))
    recent_held = _held(session, spool, customer.id, timedelta(days=29))
    buffered = queue.enqueue(
        session,
        customer_id=customer.id,
        log_id=None,
        direction=Direction.INBOUND,
        spool_name=_stored(spool, timedelta(days=31)),
        headers=[],
        mail_from="x@example.org",
        rcpt_tos=["alice@acme.fr"],
        destination="acme.fr",
        size=10,
        now=NOW - timedelta(days=31),
        purge_hours=168,
    )
    old_log = _log(session, customer.id, timedelta(days=366))
    kept_log = _log(session, customer.id, timedelta(days=364))
    for entry in (old_log, kept_log):
        quarantine.record(
            session,
            customer_id=customer.id,
            log_id=entry.id,
            kind=FeedbackKind.REPORT_HAM,
            channel=FeedbackChannel.ADMINISTRATOR,
            actor="admin",
            now=entry.at,
        )
    session.add_all(
        [
            ConsoleLog(
                customer_id=customer.id, at=NOW - timedelta(days=366), actor="a", action="GET"
            ),
            ConsoleLog(
                customer_id=customer.id, at=NOW - timedelta(days=10), actor="a", action="GET"
            ),
            DailyCount(
                customer_id=customer.id,
                address="alice@acme.fr",
                day=(NOW - timedelta(days=366)).date(),
                direction=Direction.INBOUND,
                count=3,
            ),
            MailChallenge(
                customer_id=customer.id,
                sender="x@example.org",
                period_start=NOW - timedelta(days=31),
                code="ABCDEF",
                created_at=NOW - timedelta(days=31),
            ),
            ProbeResult(gateway="gw1:25", minute=NOW - timedelta(days=366), ok=True),
            ProbeResult(gateway="gw1:25", minute=NOW - timedelta(days=1), ok=True),
        ]
    )
    session.flush()
    orphan_old = _stored(spool, timedelta(days=2))  # written, its row never committed
    orphan_new = _stored(spool, timedelta(seconds=5))  # maybe being accepted right now

    purged = retention.run(session, spool, NOW)

    assert [q.id for q in session.scalars(select(QuarantinedMessage))] == [recent_held.id]
    assert session.get(QueuedMessage, buffered.id) is None
    remaining_logs = {e.id for e in session.scalars(select(FilterLog))}
    assert old_log.id not in remaining_logs and kept_log.id in remaining_logs
    assert {f.log_id for f in session.scalars(select(MailFeedback))} == {kept_log.id}
    assert count(session, ConsoleLog) == 1 and count(session, DailyCount) == 0
    assert count(session, MailChallenge) == 0 and count(session, ProbeResult) == 1
    files = sorted(p.name for p in spool.directory.iterdir())
    assert files == sorted([recent_held.spool_name, orphan_new])
    assert orphan_old in purged.files and old_held.spool_name in purged.files


# SPEC: MAIL-10
def test_held_mail_never_stays_beyond_30_days_between_two_daily_runs(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer = build.customer(name="Acme")
    build.contract(customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 10)])
    spool = Spool(tmp_path / "spool")
    # 29 days 23 h 55 min old: 30 days 23 h 55 min at the next daily run, so it goes at this one
    first = _held(session, spool, customer.id, timedelta(days=29, hours=23, minutes=55))
    second = _held(session, spool, customer.id, timedelta(days=28, hours=23, minutes=55))

    def remaining() -> list[int]:
        return [q.id for q in session.scalars(select(QuarantinedMessage))]

    retention.run(session, spool, NOW)
    assert remaining() == [second.id]
    assert not (spool.directory / first.spool_name).exists()
    retention.run(session, spool, NOW + timedelta(days=1))
    assert remaining() == []
