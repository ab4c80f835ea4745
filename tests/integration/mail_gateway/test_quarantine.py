"""The three ways out of the quarantine end to end (MAIL-03): the administrator, the
recipient's digest with its signed link, the sender's challenge — each release recorded and
the message delivered to the customer's server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.app import create_app
from operateur.config import Settings
from operateur.db import transaction, utcnow
from operateur.mail import quarantine
from operateur.mail import service as mail
from operateur.mail.filter import Filter
from operateur.mail.harness import GatewayThread
from operateur.mail.models import FeedbackChannel, MailChallenge, MailFeedback, QuarantinedMessage
from operateur.notifications.models import OutboxMessage
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import (
    Customer,
    make_customer,
    tls_client,
    wait_for,
)
from tests.integration.mail_gateway.test_inbound import LENIENT, suspicious


@pytest.fixture
def lenient(db: sessionmaker[Session], sink: SmtpSink) -> Customer:
    """A customer whose suspicious mail is held (not refused)."""
    return make_customer(db, server_port=sink.port, overrides=LENIENT)


@pytest.fixture
def web(settings: Settings, db: sessionmaker[Session]) -> Iterator[TestClient]:
    """The web server that serves the signed links."""
    with TestClient(create_app(settings, session_factory=db)) as client:
        yield client


def held(db: sessionmaker[Session]) -> list[QuarantinedMessage]:
    with db() as session:
        return list(session.scalars(select(QuarantinedMessage).order_by(QuarantinedMessage.id)))


def outbox(db: sessionmaker[Session], to: str) -> list[OutboxMessage]:
    with db() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.recipient == to)
                .order_by(OutboxMessage.id)
            )
        )


def send_suspicious(gateway: GatewayThread, to: str, sender: str) -> None:
    with tls_client(gateway.inbound) as client:
        assert client.sendmail(sender, [to], suspicious(to=to, sender=sender)) == {}


# SPEC: MAIL-03
def test_an_administrator_release_delivers_the_held_message(
    gateway: GatewayThread, lenient: Customer, sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    send_suspicious(gateway, "alice@acme.fr", "compta@fournisseur.example")
    [item] = wait_for(lambda: held(db))
    assert sink.messages == []
    with transaction(db) as session:
        quarantine.release(
            session,
            quarantine.get_item(session, lenient.id, item.id),
            channel=FeedbackChannel.ADMINISTRATOR,
            actor="admin@acme.fr",
            now=utcnow(),
        )
    [received] = wait_for(lambda: sink.to("alice@acme.fr"))
    assert received["Subject"] == "Facture impayée"
    assert received["X-Operateur-Released"] == "administrator"
    assert received["X-Operateur-Id"] == str(item.log_id)


# SPEC: MAIL-03
def test_the_digest_lists_held_mail_with_links_that_release_it(
    gateway: GatewayThread,
    lenient: Customer,
    sink: SmtpSink,
    db: sessionmaker[Session],
    settings: Settings,
    web: TestClient,
) -> None:
    with transaction(db) as session:
        mail.add_mailbox(session, lenient.id, "alice@acme.fr", date.today())
        mail.add_mailbox(session, lenient.id, "bob@acme.fr", date.today(), digest_enabled=False)
    send_suspicious(gateway, "alice@acme.fr", "compta@fournisseur.example")
    send_suspicious(gateway, "bob@acme.fr", "compta@fournisseur.example")
    wait_for(lambda: len(held(db)) == 2)
    with transaction(db) as session:
        assert quarantine.send_digests(session, settings, utcnow()) == 1  # bob opted out
    with transaction(db) as session:  # nothing new since: no second digest
        assert quarantine.send_digests(session, settings, utcnow() + timedelta(days=1)) == 0
    assert outbox(db, "bob@acme.fr") == []
    [digest] = outbox(db, "alice@acme.fr")
    assert "1 message(s) retenu(s)" in digest.subject
    assert "compta@fournisseur.example" in digest.body and "Facture impayée" in digest.body
    [link] = re.findall(r"https://mail\.operateur\.test(/mail/release/\S+)", digest.body)
    page = web.get(link)
    assert page.status_code == 200 and "Facture impayée" in page.text
    assert sink.messages == []  # opening the link alone releases nothing
    assert web.post(link).status_code == 200
    [received] = wait_for(lambda: sink.to("alice@acme.fr"))
    assert received["X-Operateur-Released"] == "recipient_digest"
    assert sink.to("bob@acme.fr") == []
    with db() as session:
        [feedback] = session.scalars(select(MailFeedback)).all()
    assert (feedback.channel, feedback.actor) == (FeedbackChannel.RECIPIENT_DIGEST, "alice@acme.fr")


# SPEC: MAIL-03, MAIL-05
def test_the_sender_answers_one_challenge_per_period_and_its_mail_is_released(
    gateway: GatewayThread,
    lenient: Customer,
    sink: SmtpSink,
    db: sessionmaker[Session],
    web: TestClient,
) -> None:
    with transaction(db) as session:
        mail.update_settings(session, lenient.id, challenge_enabled=True)
    sender = "compta@fournisseur.example"
    send_suspicious(gateway, "alice@acme.fr", sender)
    send_suspicious(gateway, "carol@acme.fr", sender)
    wait_for(lambda: len(held(db)) == 2)
    [challenge_mail] = outbox(db, sender)  # one challenge for the period, not one per message
    [link] = re.findall(r"https://mail\.operateur\.test(/mail/challenge/\S+)", challenge_mail.body)
    page = web.get(link)
    [code] = re.findall(r"<b style='letter-spacing:.3em'>([A-Z0-9]+)</b>", page.text)
    wrong = web.post(link, data={"code": "WRONG1"})
    assert wrong.status_code == 400 and sink.messages == []
    answered = web.post(link, data={"code": code.lower()})
    assert answered.status_code == 200 and "2 message(s)" in answered.text
    wait_for(lambda: sink.to("alice@acme.fr") and sink.to("carol@acme.fr"))
    with db() as session:
        channels = [f.channel for f in session.scalars(select(MailFeedback))]
        [challenge] = session.scalars(select(MailChallenge)).all()
    assert channels == [FeedbackChannel.SENDER_CHALLENGE] * 2
    assert challenge.answered_at is not None and challenge.sender == sender


# SPEC: MAIL-03
def test_no_challenge_without_the_customer_switch(
    gateway: GatewayThread, lenient: Customer, db: sessionmaker[Session], scanner: Filter
) -> None:
    send_suspicious(gateway, "alice@acme.fr", "compta@fournisseur.example")
    wait_for(lambda: held(db))
    assert outbox(db, "compta@fournisseur.example") == []
