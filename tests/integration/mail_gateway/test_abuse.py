"""MAIL-08 per mailbox per day (inbound here; outbound in test_outbound): beyond the terms'
count, the customer is alerted once and, when the terms say so, the mail service suspended."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.catalog.service import get_offer
from operateur.catalog.terms import MailAbuseAction
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract, ContractStatus, SuspensionScope
from operateur.mail.harness import GatewayThread
from operateur.mail.models import DailyCount
from operateur.notifications.models import OutboxMessage
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import make_customer, message, tls_client, wait_for


def notices(db: sessionmaker[Session], event: str) -> list[OutboxMessage]:
    with db() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == event)))


# SPEC: MAIL-08
def test_the_offer_sets_500_messages_and_500_recipients() -> None:
    limits = get_offer("mail-security").terms.limits
    assert limits.mail_messages_per_mailbox_per_day == 500
    assert limits.mail_recipients_per_message == 500
    assert limits.mail_daily_excess_action is MailAbuseAction.SUSPEND


# SPEC: MAIL-08
def test_beyond_the_daily_count_the_customer_is_alerted_and_suspended(
    gateway: GatewayThread, sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    customer = make_customer(
        db, server_port=sink.port, overrides={"limits": {"mail_messages_per_mailbox_per_day": 3}}
    )
    with tls_client(gateway.inbound) as client:
        for _ in range(4):  # the 4th goes beyond 3: still accepted, then the service stops
            assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message())
        assert refused.value.recipients["alice@acme.fr"][0] == 451
    wait_for(lambda: len(sink.messages) == 4)
    with db() as session:
        contract = session.get(Contract, customer.contract_id)
        assert contract is not None and contract.status is ContractStatus.SUSPENDED
        [suspension] = lifecycle.open_suspensions(session, contract.id)
        assert (suspension.cause, suspension.scope) == ("abuse", SuspensionScope.MAIL)
        assert "alice@acme.fr exceeded 3 messages" in suspension.reason
        [count] = session.scalars(select(DailyCount)).all()
        assert (count.address, count.count, count.alerted) == ("alice@acme.fr", 4, True)
    [alert] = notices(db, "mail.daily_limit")
    assert alert.recipient == "it@acme.fr" and "alice@acme.fr" in alert.subject


# SPEC: MAIL-08
def test_terms_that_only_alert_keep_the_service_open(
    gateway: GatewayThread, sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    customer = make_customer(
        db,
        server_port=sink.port,
        overrides={
            "limits": {"mail_messages_per_mailbox_per_day": 2, "mail_daily_excess_action": "alert"}
        },
    )
    with tls_client(gateway.inbound) as client:
        for _ in range(5):
            assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
    wait_for(lambda: len(sink.messages) == 5)
    assert len(notices(db, "mail.daily_limit")) == 1  # once a day, not once per message
    with db() as session:
        contract = session.get(Contract, customer.contract_id)
        assert contract is not None and contract.status is ContractStatus.ACTIVE
