"""Edges of the quarantine's ways out (MAIL-03): the daily digest whatever the second the daily
job runs at, and a sender's challenge that speaks for its own period only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts.audit import set_actor
from operateur.accounts.permissions import system_actor
from operateur.config import Settings
from operateur.domain.calendar import PARIS
from operateur.errors import Conflict
from operateur.mail import licences, links, quarantine
from operateur.mail import service as mail
from operateur.mail.models import (
    Direction,
    FeedbackChannel,
    FilterLog,
    MailChallenge,
    MailFeedback,
    QuarantinedMessage,
    QuarantineStatus,
    QueuedMessage,
)
from operateur.notifications.models import OutboxMessage
from tests.integration.conftest import Builder

SENDER = "compta@fournisseur.example"


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        mail_public_url="https://mail.operateur.test",
        mail_link_secret="review-secret",
    )


def _customer(build: Builder, session: Session) -> int:
    customer = build.customer(name="Acme")
    build.contract(
        customer, "mail-security", date(2026, 1, 5), [("mail_in.mailbox", 10), ("mail.domain", 1)]
    )
    mail.add_domain(session, customer.id, "acme.fr", date(2026, 1, 6))
    mail.add_mailbox(session, customer.id, "alice@acme.fr", date(2026, 1, 6))
    return customer.id


def _hold(session: Session, customer_id: int, now: datetime) -> QuarantinedMessage:
    entry = FilterLog(
        customer_id=customer_id,
        direction=Direction.INBOUND,
        at=now,
        gateway="gw1",
        mail_from=SENDER,
        rcpt_tos=["alice@acme.fr"],
        size=100,
        action="quarantine",
        score=9.0,
        symbols=[],
    )
    session.add(entry)
    session.flush()
    return quarantine.hold(
        session,
        customer_id=customer_id,
        log_id=entry.id,
        spool_name=f"held-{entry.id}",
        mail_from=SENDER,
        recipient="alice@acme.fr",
        subject="Facture",
        score=9.0,
        symbols=[],
        virus=False,
        now=now,
    )


# SPEC: MAIL-03
def test_the_daily_digest_goes_out_every_day_whatever_second_the_job_runs(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer_id = _customer(build, session)
    settings = _settings(tmp_path)
    first = datetime(2026, 11, 24, 0, 0, 40, tzinfo=PARIS)  # the scheduler's first tick
    _hold(session, customer_id, first - timedelta(hours=3))
    assert quarantine.send_digests(session, settings, first) == 1
    # the next day's tick comes a few seconds earlier in the minute: still the next day's digest
    second = datetime(2026, 11, 25, 0, 0, 12, tzinfo=PARIS)
    _hold(session, customer_id, second - timedelta(hours=3))
    assert quarantine.send_digests(session, settings, second) == 1
    # on the 23-hour day of the spring clock change too
    spring = datetime(2027, 3, 29, 0, 0, 12, tzinfo=PARIS)
    _hold(session, customer_id, spring - timedelta(days=1, hours=3))
    assert quarantine.send_digests(session, settings, spring - timedelta(days=1)) == 1
    _hold(session, customer_id, spring - timedelta(hours=3))
    assert quarantine.send_digests(session, settings, spring) == 1
    digests = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "alice@acme.fr")
    ).all()
    assert len(digests) == 4
    # but never two digests on one day
    _hold(session, customer_id, spring + timedelta(hours=1))
    assert quarantine.send_digests(session, settings, spring + timedelta(hours=2)) == 0


# SPEC: MAIL-03
def test_an_old_challenge_does_not_release_mail_held_in_a_later_period(
    build: Builder, session: Session, tmp_path: Path
) -> None:
    customer_id = _customer(build, session)
    settings = _settings(tmp_path)
    mail.update_settings(session, customer_id, challenge_enabled=True)
    contract = licences.mail_contract(session, customer_id)
    assert contract is not None
    view = mail.customer_view(session, customer_id, contract, settings)
    day1 = datetime(2026, 11, 24, 10, tzinfo=PARIS)
    first = _hold(session, customer_id, day1)
    challenge = quarantine.maybe_challenge(session, view, first, settings, day1)
    assert challenge is not None
    token = links.sign(
        links.link_secret(settings), quarantine.CHALLENGE, {"c": challenge.id}, day1 + timedelta(30)
    )
    assert quarantine.answer_challenge(session, settings, token, challenge.code, day1) == [first]

    day2 = day1 + timedelta(days=1)  # the next period: a new challenge for the new message
    second = _hold(session, customer_id, day2)
    assert quarantine.maybe_challenge(session, view, second, settings, day2) is not None
    assert len(session.scalars(select(MailChallenge)).all()) == 2
    # replaying yesterday's answered link does not answer today's challenge
    assert quarantine.answer_challenge(session, settings, token, challenge.code, day2) == []
    assert second.status is QuarantineStatus.HELD


# SPEC: MAIL-03
def test_two_releases_at_once_deliver_the_message_once(
    committed_factory: sessionmaker[Session],
) -> None:
    now = datetime(2026, 11, 24, 10, tzinfo=PARIS)
    with committed_factory() as setup:
        set_actor(setup, system_actor("test"))
        customer_id = _customer(Builder(setup), setup)
        item_id = _hold(setup, customer_id, now).id
        setup.commit()
    # a double click on the digest's button, or the recipient and an administrator at once:
    # both requests find the message held (on PostgreSQL both read it before either commits;
    # SQLite serialises whole transactions, so the second's read is ended before the first)
    with committed_factory() as first, committed_factory() as second:
        theirs = quarantine.get_item(second, customer_id, item_id)
        second.commit()  # expire_on_commit=False: it still sees the message held
        mine = quarantine.get_item(first, customer_id, item_id)
        quarantine.release(
            first, mine, channel=FeedbackChannel.RECIPIENT_DIGEST, actor="alice", now=now
        )
        first.commit()
        with pytest.raises(Conflict) as refused:
            quarantine.release(
                second, theirs, channel=FeedbackChannel.ADMINISTRATOR, actor="admin", now=now
            )
        assert refused.value.code == "quarantine_closed"
        second.rollback()
    with committed_factory() as check:
        assert len(check.scalars(select(QueuedMessage)).all()) == 1
        assert len(check.scalars(select(MailFeedback)).all()) == 1
