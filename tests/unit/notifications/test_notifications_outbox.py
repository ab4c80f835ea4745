"""Notifications: emails reach a real SMTP server in the contact's language; webhooks are
signed with HMAC-SHA256 and retried with backoff after a failure."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import service as accounts
from operateur.accounts.schemas import ContactIn
from operateur.config import Settings
from operateur.db import utcnow
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.notifications import service as notifications
from operateur.notifications.models import Channel, OutboxMessage, OutboxStatus
from operateur.testing.smtp import SmtpSink
from operateur.testing.webhooks import WebhookReceiver
from tests.integration.conftest import Builder

SUBJECT = Text(fr="Rappel : facture {invoice} impayée", en="Reminder: invoice {invoice} unpaid")
BODY = Text(
    fr="La facture {invoice} de {amount} € était due le {due}.",
    en="Invoice {invoice} of EUR {amount} was due on {due}.",
)


@pytest.fixture
def allow_loopback_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATEUR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")


def test_emails_reach_the_smtp_server_in_each_contacts_language(
    session: Session, session_factory: sessionmaker[Session], smtp_sink: SmtpSink
) -> None:
    build = Builder(session)
    customer = build.customer()
    accounts.add_contact(session, customer, ContactIn(name="Léa", email="lea@client.fr"))
    accounts.add_contact(
        session, customer, ContactIn(name="John", email="john@client.fr", lang="en")
    )
    notifications.notify(
        session,
        customer.id,
        event="invoice.reminder",
        subject=SUBJECT,
        body=BODY,
        data={"key": "F2026-000001", "invoice": "F2026-000001", "amount": "120,00", "due": "9/2"},
    )
    session.commit()
    assert notifications.deliver_due(session_factory) == 2
    [french] = smtp_sink.to("lea@client.fr")
    [english] = smtp_sink.to("john@client.fr")
    assert french["Subject"] == "Rappel : facture F2026-000001 impayée"
    assert "La facture F2026-000001 de 120,00 € était due le 9/2." in french.get_content()
    assert english["Subject"] == "Reminder: invoice F2026-000001 unpaid"
    assert english["Content-Language"] == "en"
    # delivered once: nothing left to send
    assert notifications.deliver_due(session_factory) == 0
    assert len(smtp_sink.messages) == 2


def test_an_english_customer_gets_english_and_a_key_queues_once(
    session: Session, session_factory: sessionmaker[Session], smtp_sink: SmtpSink
) -> None:
    build = Builder(session)
    customer = build.customer()
    customer.lang = "en"
    for _ in range(2):  # e.g. a job retried after a crash
        notifications.notify(
            session,
            customer.id,
            event="invoice.reminder",
            subject=SUBJECT,
            body=BODY,
            data={"key": "k1", "invoice": "F1", "amount": "1", "due": "x"},
        )
    session.commit()
    notifications.deliver_due(session_factory)
    [message] = smtp_sink.messages  # no contact: the customer's own address
    assert message["To"] == customer.email
    assert message["Subject"] == "Reminder: invoice F1 unpaid"


def test_webhook_is_signed_and_retried_after_a_500(
    session: Session,
    session_factory: sessionmaker[Session],
    allow_loopback_webhooks: None,
) -> None:
    build = Builder(session)
    customer = build.customer()
    with WebhookReceiver(statuses=[500, 200]) as receiver:
        endpoint, secret = notifications.add_endpoint(
            session, customer.id, receiver.url, ["contract.*"]
        )
        other, _ = notifications.add_endpoint(session, customer.id, receiver.url, ["order.*"])
        notifications.notify(
            session,
            customer.id,
            event="contract.suspended",
            subject=SUBJECT,
            body=BODY,
            data={"key": "s1", "contract": "CT-1", "amount": "12.50"},
        )
        session.commit()
        now = utcnow()
        assert notifications.deliver_due(session_factory, now) == 0  # answered 500
        [first] = receiver.requests
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == Channel.WEBHOOK)
        ).one()
        session.refresh(row)
        assert (row.status, row.attempts, row.last_error) == (
            OutboxStatus.PENDING,
            1,
            "http status 500",
        )
        wait = notifications.backoff(Settings(), 1)
        assert row.next_attempt_at == now + wait
        # not due again before the backoff
        assert notifications.deliver_due(session_factory, now + wait - timedelta(seconds=1)) == 0
        assert len(receiver.requests) == 1
        assert notifications.deliver_due(session_factory, now + wait) == 1
        second = receiver.requests[1]
    for request in (first, second):
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Operateur-Signature"] == f"sha256={expected}"
        assert request.headers["Content-Type"] == "application/json"
    document = second.json()
    assert document["event"] == "contract.suspended"
    assert document["data"] == {
        "key": "s1",
        "contract": "CT-1",
        "amount": "12.50",
        "customer_id": customer.id,
    }
    assert document["id"] == first.json()["id"]  # the same event, delivered twice
    assert set(document) == {"event", "data", "id", "sent_at"}
    session.refresh(row)
    assert row.status is OutboxStatus.SENT
    assert other.id != endpoint.id  # subscribed to orders only: received nothing


def test_webhook_gives_up_after_the_retry_limit(
    session: Session,
    session_factory: sessionmaker[Session],
    allow_loopback_webhooks: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPERATEUR_NOTIFICATION_MAX_ATTEMPTS", "3")
    build = Builder(session)
    customer = build.customer()
    with WebhookReceiver(statuses=[503]) as receiver:
        notifications.webhook(
            session,
            customer_id=customer.id,
            url=receiver.url,
            secret="s3cret",
            event="sms.status",
            payload={"message_id": 7},
        )
        session.commit()
        now = utcnow()
        for hours in range(0, 48, 6):
            notifications.deliver_due(session_factory, now + timedelta(hours=hours))
        assert len(receiver.requests) == 3
    row = session.scalars(select(OutboxMessage)).one()
    session.refresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)


def test_emails_wait_while_no_smtp_server_is_configured(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPERATEUR_SMTP_URL", raising=False)
    notifications.email(session, to="x@client.fr", subject="s", body="b", idempotency_key="e1")
    notifications.email(session, to="x@client.fr", subject="s", body="b", idempotency_key="e1")
    session.commit()
    assert notifications.deliver_due(session_factory) == 0
    row = session.scalars(select(OutboxMessage)).one()
    session.refresh(row)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    with SmtpSink() as sink:
        monkeypatch.setenv("OPERATEUR_SMTP_URL", sink.url)
        assert notifications.deliver_due(session_factory, utcnow() + timedelta(hours=1)) == 1
        assert [m["To"] for m in sink.messages] == ["x@client.fr"]


def test_webhooks_to_private_addresses_are_refused(session: Session) -> None:
    build = Builder(session)
    customer = build.customer()
    for url in ("http://127.0.0.1:8000/x", "http://10.1.2.3/x", "ftp://client.fr/x"):
        with pytest.raises(InvalidInput) as refused:
            notifications.add_endpoint(session, customer.id, url)
        assert refused.value.field == "url"
    endpoint, secret = notifications.add_endpoint(session, customer.id, "https://client.fr/hook")
    assert secret.startswith("whsec_") and endpoint.secret == secret
