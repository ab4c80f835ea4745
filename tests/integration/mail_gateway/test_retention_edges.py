"""Retention of stored mail at its edge (MAIL-10 [003 §15.2] "n'excède pas 30 jours"): the
daily job deletes held mail before it turns 30 days old, not up to a day after."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from operateur.domain.calendar import PARIS
from operateur.mail import quarantine, retention
from operateur.mail.models import Direction, FilterLog, QuarantinedMessage
from operateur.mail.queue import Spool
from tests.integration.conftest import Builder


def _held(session: Session, customer_id: int, spool: Spool, at: datetime) -> QuarantinedMessage:
    entry = FilterLog(
        customer_id=customer_id,
        direction=Direction.INBOUND,
        at=at,
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
    return quarantine.hold(
        session,
        customer_id=customer_id,
        log_id=entry.id,
        spool_name=spool.write(b"Subject: x\r\n\r\nbody\r\n"),
        mail_from="x@example.org",
        recipient="alice@acme.fr",
        subject="x",
        score=9,
        symbols=[],
        virus=False,
        now=at,
    )


# SPEC: MAIL-10
def test_held_mail_never_stays_beyond_30_days_between_two_daily_runs(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer = build.customer(name="Acme")
    build.contract(customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 10)])
    spool = Spool(tmp_path / "spool")
    first = _held(session, customer.id, spool, datetime(2026, 11, 1, 0, 5, tzinfo=PARIS))
    second = _held(session, customer.id, spool, datetime(2026, 11, 2, 0, 5, tzinfo=PARIS))

    def remaining() -> list[int]:
        return [q.id for q in session.scalars(select(QuarantinedMessage))]

    # the job of 1 December, at its tick just after midnight: the first message is 29 days
    # and 23 h old, and would be 30 days and 23 h old at the next run: it goes now
    retention.run(session, spool, datetime(2026, 12, 1, 0, 0, 30, tzinfo=PARIS))
    assert remaining() == [second.id]
    assert not (spool.directory / first.spool_name).exists()
    retention.run(session, spool, datetime(2026, 12, 2, 0, 0, 30, tzinfo=PARIS))
    assert remaining() == []
