"""Outbound mode (MAILOUT, MAIL-01): authenticated submission after STARTTLS, from the
customer's own addresses, filtered, relayed to the recipients' MX found with dnspython on a
loopback DNS server; the abuse limits of MAIL-08; MX priorities between two gateways (MAIL-12)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.config import Settings
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract, ContractStatus
from operateur.db import transaction
from operateur.mail import service as mail
from operateur.mail.filter import Filter
from operateur.mail.harness import GatewayThread
from operateur.mail.models import Mailbox, QueuedMessage, QueueStatus
from operateur.notifications.models import OutboxMessage
from operateur.testing.dns import DnsServer
from operateur.testing.ports import free_port
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import (
    Customer,
    make_customer,
    message,
    wait_for,
)
from tests.integration.mail_gateway.test_inbound import EICAR, suspicious

PASSWORD = "correct horse battery staple"


@pytest.fixture
def mx_sink() -> Iterator[SmtpSink]:
    """The recipients' mail servers, all on one loopback port (MX hosts have no port)."""
    with SmtpSink() as server:
        yield server


@pytest.fixture
def dns(mx_sink: SmtpSink) -> Iterator[DnsServer]:
    with DnsServer() as zone:
        zone.add("partner.example", "MX", "10 mx1.partner.example.", "20 mx2.partner.example.")
        zone.add("mx1.partner.example", "A", "127.0.0.1")
        zone.add("mx2.partner.example", "A", "127.0.0.1")
        zone.add("direct.example", "A", "127.0.0.1")  # no MX: the domain itself
        zone.add("nomail.example", "MX", "0 .")  # RFC 7505 null MX
        yield zone


@pytest.fixture
def out_settings(settings: Settings, dns: DnsServer, mx_sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={"mail_resolver_nameservers": dns.nameserver, "mail_outbound_port": mx_sink.port}
    )


@pytest.fixture
def sender(db: sessionmaker[Session]) -> Customer:
    customer = make_customer(db, server_port=None)
    with transaction(db) as session:
        mail.add_mailbox(session, customer.id, "alice@acme.fr", date.today(), password=PASSWORD)
        mail.update_settings(session, customer.id, relay_password=PASSWORD)
    return customer


@pytest.fixture
def outgoing(
    db: sessionmaker[Session], out_settings: Settings, scanner: Filter
) -> Iterator[GatewayThread]:
    with GatewayThread(db, out_settings, scanner) as running:
        yield running


def submit(gateway: GatewayThread, login: str = "alice@acme.fr") -> smtplib.SMTP:
    client = smtplib.SMTP(*gateway.submission, timeout=30)
    client.starttls(context=ssl._create_unverified_context())  # noqa: S323 - test certificate
    client.login(login, PASSWORD)
    return client


def queued(db: sessionmaker[Session]) -> list[QueuedMessage]:
    with db() as session:
        return list(session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)))


# SPEC: MAIL-01
def test_authenticated_mail_is_relayed_to_the_recipients_mx(
    outgoing: GatewayThread,
    sender: Customer,
    mx_sink: SmtpSink,
    dns: DnsServer,
    db: sessionmaker[Session],
) -> None:
    recipients = ["jean@partner.example", "marie@direct.example", "x@nomail.example"]
    with submit(outgoing) as client:
        assert client.sendmail("alice@acme.fr", recipients, message(sender="alice@acme.fr")) == {}
    wait_for(lambda: mx_sink.to("jean@partner.example") and mx_sink.to("marie@direct.example"))
    assert ("partner.example", "MX") in dns.queries and ("mx1.partner.example", "A") in dns.queries
    [received] = mx_sink.to("jean@partner.example")
    assert "by localhost (operateur gw1)" in received["Received"]
    assert received["X-Operateur-Spam-Score"] is None  # internal headers stay inside
    final = (QueueStatus.DELIVERED, QueueStatus.FAILED)

    def settled() -> list[QueuedMessage] | None:
        rows = queued(db)
        return rows if len(rows) == 3 and all(r.status in final for r in rows) else None

    rows = wait_for(settled)
    status = {r.destination: r.status for r in rows}
    assert status == {
        "partner.example": QueueStatus.DELIVERED,
        "direct.example": QueueStatus.DELIVERED,
        "nomail.example": QueueStatus.FAILED,
    }


# SPEC: MAIL-01
def test_submission_needs_tls_then_a_valid_account_of_the_customer(
    outgoing: GatewayThread, sender: Customer, mx_sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    with smtplib.SMTP(*outgoing.submission, timeout=30) as client:
        client.ehlo()
        assert not client.has_extn("auth")  # no password before TLS
        code, _ = client.mail("alice@acme.fr")
        assert code == 530
        client.starttls(context=ssl._create_unverified_context())  # noqa: S323
        client.ehlo()
        assert client.mail("alice@acme.fr")[0] == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("alice@acme.fr", "wrong password")
    with submit(outgoing) as client:
        assert client.mail("bob@acme.fr")[0] == 553  # a mailbox sends as itself
        client.rset()
        assert client.mail("alice@elsewhere.example")[0] == 553
    with submit(outgoing, login=f"relay-{sender.id}") as client:  # the customer's relay account
        assert (
            client.sendmail("bob@acme.fr", ["jean@partner.example"], message(sender="bob@acme.fr"))
            == {}
        )
        assert client.mail("bob@elsewhere.example")[0] == 553
    wait_for(lambda: mx_sink.to("jean@partner.example"))


# SPEC: MAIL-01, MAIL-06
def test_viruses_and_spam_are_not_sent(
    outgoing: GatewayThread, sender: Customer, mx_sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    with submit(outgoing) as client:
        with pytest.raises(smtplib.SMTPDataError) as virus:
            client.sendmail("alice@acme.fr", ["jean@partner.example"], message(body=EICAR.decode()))
        assert virus.value.smtp_code == 550 and b"virus" in virus.value.smtp_error
        with pytest.raises(smtplib.SMTPDataError) as spam:
            client.sendmail(
                "alice@acme.fr",
                ["jean@partner.example"],
                suspicious(to="jean@partner.example", sender="alice@acme.fr"),
            )
        assert spam.value.smtp_code == 550
    assert queued(db) == [] and mx_sink.messages == []


# SPEC: MAIL-08
def test_a_message_to_more_than_500_recipients_blocks_the_account_at_once(
    outgoing: GatewayThread, sender: Customer, mx_sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    recipients = [f"client{n}@partner.example" for n in range(501)]
    with submit(outgoing) as client:
        with pytest.raises(smtplib.SMTPDataError) as blocked:
            client.sendmail("alice@acme.fr", recipients, message(sender="alice@acme.fr"))
        assert blocked.value.smtp_code == 550
    with submit(outgoing) as client:
        assert client.mail("alice@acme.fr")[0] == 550  # blocked until the operator lifts it
    with db() as session:
        box = session.scalar(select(Mailbox).where(Mailbox.address == "alice@acme.fr"))
        assert box is not None and box.blocked_at is not None
        assert "more than 500 recipients" in (box.blocked_reason or "")
        [notice] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "mail.account_blocked")
        ).all()
    assert "alice@acme.fr" in notice.subject and notice.recipient == "it@acme.fr"
    assert queued(db) == [] and mx_sink.messages == []
    with submit(outgoing, login=f"relay-{sender.id}") as client:  # only that account
        assert (
            client.sendmail("bob@acme.fr", ["jean@partner.example"], message(sender="bob@acme.fr"))
            == {}
        )


# SPEC: MAIL-08
def test_an_outbound_spam_burst_suspends_the_service_and_tells_the_customer(
    db: sessionmaker[Session], out_settings: Settings, scanner: Filter
) -> None:
    customer = make_customer(
        db,
        server_port=None,
        overrides={"limits": {"mail_spam_burst_messages": 2, "mail_spam_burst_minutes": 60}},
    )
    with transaction(db) as session:
        mail.add_mailbox(session, customer.id, "alice@acme.fr", date.today(), password=PASSWORD)
    spam = suspicious(to="jean@partner.example", sender="alice@acme.fr")
    with GatewayThread(db, out_settings, scanner) as gateway, submit(gateway) as client:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError):
                client.sendmail("alice@acme.fr", ["jean@partner.example"], spam)
        assert client.mail("alice@acme.fr")[0] == 451  # suspended
    with db() as session:
        contract = session.get(Contract, customer.contract_id)
        assert contract is not None and contract.status is ContractStatus.SUSPENDED
        [suspension] = lifecycle.open_suspensions(session, contract.id)
        assert suspension.cause == "spam_burst"
        [notice] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "mail.spam_burst")
        ).all()
    assert notice.recipient == "it@acme.fr" and "suspendu" in notice.subject


# SPEC: MAIL-12
def test_a_sender_falls_back_to_the_second_gateway_by_mx_priority(
    db: sessionmaker[Session], settings: Settings, scanner: Filter, sink: SmtpSink
) -> None:
    port = free_port()
    protected = make_customer(db, server_port=sink.port)  # acme.fr, its server is ``sink``
    outsider = make_customer(db, server_port=None, name="Partner", domain="partner.example")
    with transaction(db) as session:
        mail.add_mailbox(
            session, outsider.id, "jean@partner.example", date.today(), password=PASSWORD
        )
    with DnsServer() as zone:
        zone.add("acme.fr", "MX", "10 mx1.acme.fr.", "20 mx2.acme.fr.")
        zone.add("mx1.acme.fr", "A", "127.0.0.3")  # the first gateway: down (nothing there)
        zone.add("mx2.acme.fr", "A", "127.0.0.2")  # the second gateway
        second = settings.model_copy(
            update={"mail_instance": "gw2", "mail_inbound_listen": f"127.0.0.2:{port}"}
        )
        sending = settings.model_copy(
            update={
                "mail_instance": "gw-out",
                "mail_resolver_nameservers": zone.nameserver,
                "mail_outbound_port": port,
            }
        )
        with (
            GatewayThread(db, second, scanner) as gw2,
            GatewayThread(db, sending, scanner) as out,
            submit(out, login="jean@partner.example") as client,
        ):
            assert gw2.inbound == ("127.0.0.2", port)
            body = message(sender="jean@partner.example", to="alice@acme.fr")
            assert client.sendmail("jean@partner.example", ["alice@acme.fr"], body) == {}
            [received] = wait_for(lambda: sink.to("alice@acme.fr"))
    assert "(operateur gw2)" in received["Received"]
    with db() as session:
        rows = list(session.scalars(select(QueuedMessage).order_by(QueuedMessage.id)))
    assert [(r.customer_id, r.direction.value, r.delivered_by) for r in rows] == [
        (outsider.id, "outbound", "gw-out"),
        (protected.id, "inbound", "gw2"),
    ]
