"""The inbound gateway over real SMTP on loopback: who it accepts mail for, STARTTLS, limits,
the verdicts with the contract's thresholds, and the MAIL-04 exclusions."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.catalog.terms import SuspensionCause
from operateur.config import Settings
from operateur.contracts import lifecycle
from operateur.contracts.models import Contract, SuspensionScope
from operateur.db import transaction
from operateur.mail import service as mail
from operateur.mail.filter import Filter
from operateur.mail.harness import GatewayThread
from operateur.mail.models import FilterLog, ListKind, QuarantinedMessage
from operateur.testing.smtp import SmtpSink
from tests.integration.mail_gateway.conftest import (
    Customer,
    make_customer,
    message,
    tls_client,
    wait_for,
)

# A contract negotiated with a higher refusal score, so that suspicious mail is held instead.
LENIENT = {"mail": {"spam_reject_score": "30"}}
# A macro document alone (2 to 19 points) is only tagged.
TAG_ALL = {
    "mail": {"spam_tag_score": "1", "spam_quarantine_score": "50", "spam_reject_score": "60"}
}


def suspicious(
    to: str = "alice@acme.fr", sender: str = "compta@fournisseur.example", executables: int = 1
) -> bytes:
    """A macro document (7 points with its unreadable archive) and ``executables`` attached
    (10 points each, held at least), before the classifier's -5 to +12: tagged, held or
    refused, per the thresholds."""
    mime = EmailMessage()
    mime["From"] = f"Compta <{sender}>"
    mime["To"] = to
    mime["Subject"] = "Facture impayée"
    mime.set_content("Bonjour,\n\nVeuillez trouver la facture en pièce jointe.\n\nCordialement")
    for n in range(executables):
        mime.add_attachment(
            b"MZ\x90\x00binary",
            maintype="application",
            subtype="octet-stream",
            filename=f"facture{n}.exe",
        )
    mime.add_attachment(
        b"PK\x03\x04notreally",
        maintype="application",
        subtype="octet-stream",
        filename="releve.docm",
    )
    return mime.as_bytes()


EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def logs(db: sessionmaker[Session]) -> list[FilterLog]:
    with db() as session:
        return list(session.scalars(select(FilterLog).order_by(FilterLog.id)))


# SPEC: MAIL-01
def test_clean_mail_is_filtered_and_relayed_to_the_customer_server_over_starttls(
    gateway: GatewayThread, acme: Customer, sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    with smtplib.SMTP(*gateway.inbound) as client:
        code, features = client.ehlo("client.example")
        assert code == 250 and b"STARTTLS" in features
        client.starttls(context=ssl._create_unverified_context())  # noqa: S323
        assert isinstance(client.sock, ssl.SSLSocket)
        client.ehlo("client.example")
        refused = client.sendmail("paul@partenaire.example", ["Alice@ACME.fr"], message())
    assert refused == {}
    [received] = wait_for(lambda: sink.to("alice@acme.fr"))
    assert received["Subject"] == "Réunion de jeudi"
    assert "La réunion de jeudi est confirmée" in received.get_content()
    [entry] = logs(db)
    assert received["X-Operateur-Id"] == str(entry.id)
    assert received["X-Operateur-Spam"] is None
    assert "by localhost (operateur gw1)" in received["Received"]
    assert (entry.action, entry.customer_id, entry.rcpt_tos) == (
        "deliver",
        acme.id,
        ["alice@acme.fr"],
    )
    assert entry.client_ip == "127.0.0.1" and entry.helo == "client.example"


# SPEC: MAIL-01
def test_unknown_domains_are_refused_and_suspended_customers_deferred(
    gateway: GatewayThread, acme: Customer, db: sessionmaker[Session]
) -> None:
    with tls_client(gateway.inbound) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            client.sendmail("paul@partenaire.example", ["bob@elsewhere.example"], message())
        assert unknown.value.recipients["bob@elsewhere.example"][0] == 550
    with transaction(db) as session:
        audit.set_actor(session, system_actor("test"))
        contract = session.get(Contract, acme.contract_id)
        assert contract is not None
        lifecycle.suspend(
            session,
            contract,
            cause=SuspensionCause.NON_PAYMENT,
            reason="x",
            scope=SuspensionScope.MAIL,
        )
    with tls_client(gateway.inbound) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as suspended:
            client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message())
        code, text = suspended.value.recipients["alice@acme.fr"]
        assert code == 451 and b"suspended" in text  # the sender's server keeps it and retries
    assert logs(db) == []


# SPEC: MAIL-01
def test_one_customer_per_transaction(
    gateway: GatewayThread, acme: Customer, sink: SmtpSink, db: sessionmaker[Session]
) -> None:
    other = make_customer(db, server_port=sink.port, name="Beta", domain="beta.fr")
    with tls_client(gateway.inbound) as client:
        refused = client.sendmail(
            "paul@partenaire.example", ["alice@acme.fr", "bob@beta.fr"], message()
        )
        assert refused["bob@beta.fr"][0] == 452  # RFC 5321: send it again in a new transaction
        assert client.sendmail("paul@partenaire.example", ["bob@beta.fr"], message()) == {}
    wait_for(lambda: sink.to("alice@acme.fr") and sink.to("bob@beta.fr"))
    assert {(e.customer_id, tuple(e.rcpt_tos)) for e in logs(db)} == {
        (acme.id, ("alice@acme.fr",)),
        (other.id, ("bob@beta.fr",)),
    }


# SPEC: MAIL-01
def test_the_contract_size_limit(
    db: sessionmaker[Session], settings: Settings, scanner: Filter, sink: SmtpSink
) -> None:
    make_customer(db, server_port=sink.port, overrides={"mail": {"max_message_bytes": 4096}})
    big = message(body="\n".join(["x" * 70] * 80))
    with GatewayThread(db, settings, scanner) as gateway, tls_client(gateway.inbound) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as declared:  # SIZE= of MAIL FROM
            client.sendmail("paul@partenaire.example", ["alice@acme.fr"], big)
        assert declared.value.recipients["alice@acme.fr"][0] == 552
        client.rset()
        client.mail("paul@partenaire.example")  # no SIZE declared: refused after DATA
        client.rcpt("alice@acme.fr")
        code, _ = client.data(big)
        assert code == 552
        assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], message()) == {}
        wait_for(lambda: sink.to("alice@acme.fr"))


# SPEC: MAIL-01
def test_simultaneous_connections_of_one_ip_are_limited(
    db: sessionmaker[Session], settings: Settings, scanner: Filter, acme: Customer
) -> None:
    limited = settings.model_copy(update={"mail_max_connections_per_ip": 2})
    with GatewayThread(db, limited, scanner) as gateway:
        first = socket.create_connection(gateway.inbound)
        second = socket.create_connection(gateway.inbound)
        assert first.recv(100).startswith(b"220") and second.recv(100).startswith(b"220")
        with socket.create_connection(gateway.inbound) as third:
            assert third.recv(100).startswith(b"421")
        first.close()
        second.close()
        wait_for(lambda: _accepts(gateway.inbound))  # a closed connection frees its place


def _accepts(address: tuple[str, int]) -> bool:
    with socket.create_connection(address) as sock:
        return sock.recv(100).startswith(b"220")


# SPEC: MAIL-01, MAIL-02
def test_verdicts_follow_the_contract_thresholds(
    db: sessionmaker[Session], settings: Settings, scanner: Filter, sink: SmtpSink
) -> None:
    strict = make_customer(db, server_port=sink.port)
    lenient = make_customer(
        db, server_port=sink.port, name="Beta", domain="beta.fr", overrides=LENIENT
    )
    tagging = make_customer(
        db, server_port=sink.port, name="Gamma", domain="gamma.fr", overrides=TAG_ALL
    )
    with transaction(db) as session:
        operator_id = session.scalar(select(Operator.id))
        assert operator_id is not None
        mail.add_list_entry(session, operator_id, None, ListKind.DENY, "@known-spammer.example")
    with GatewayThread(db, settings, scanner) as gateway, tls_client(gateway.inbound) as client:
        # executables and a macro attached: refused by the offer's thresholds (15)...
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail(
                "compta@fournisseur.example", ["alice@acme.fr"], suspicious(executables=2)
            )
        assert refused.value.smtp_code == 550
        # ... held where the contract negotiated a higher refusal score (30)
        assert (
            client.sendmail(
                "compta@fournisseur.example", ["bob@beta.fr"], suspicious(to="bob@beta.fr")
            )
            == {}
        )
        # an operator-wide deny list (MAIL-02) and a virus: refused
        with pytest.raises(smtplib.SMTPDataError) as denied:
            client.sendmail(
                "x@known-spammer.example",
                ["bob@beta.fr"],
                message(sender="x@known-spammer.example"),
            )
        assert denied.value.smtp_code == 550
        with pytest.raises(smtplib.SMTPDataError) as virus:
            client.sendmail(
                "paul@partenaire.example", ["bob@beta.fr"], message(body=EICAR.decode())
            )
        assert b"virus" in virus.value.smtp_error
        # only tagged, and delivered, where the contract says so
        assert (
            client.sendmail(
                "compta@fournisseur.example",
                ["carol@gamma.fr"],
                suspicious(to="carol@gamma.fr", executables=0),
            )
            == {}
        )
        [tagged] = wait_for(lambda: sink.to("carol@gamma.fr"))
    assert tagged["X-Operateur-Spam"] == "yes"
    assert 1 <= float(tagged["X-Operateur-Spam-Score"]) < 50
    assert sink.to("alice@acme.fr") == [] and sink.to("bob@beta.fr") == []
    with db() as session:
        [held] = session.scalars(select(QuarantinedMessage)).all()
        assert (held.customer_id, held.recipient, held.subject) == (
            lenient.id,
            "bob@beta.fr",
            "Facture impayée",
        )
        assert "EXECUTABLE_ATTACHMENT" in held.symbols
    actions = [(e.customer_id, e.action, e.virus, e.deny_listed) for e in logs(db)]
    assert actions == [
        (strict.id, "reject", False, False),
        (lenient.id, "quarantine", False, False),
        (lenient.id, "reject", False, True),
        (lenient.id, "reject", True, False),
        (tagging.id, "tag", False, False),
    ]


# SPEC: MAIL-04
def test_exclusions_filtering_disabled_allow_listed_and_forwarded(
    db: sessionmaker[Session], settings: Settings, scanner: Filter, sink: SmtpSink, tmp_path: Path
) -> None:
    customer = make_customer(db, server_port=sink.port, overrides=LENIENT)
    with transaction(db) as session:
        from datetime import date

        mail.add_mailbox(
            session, customer.id, "boss@acme.fr", date.today(), filtering_enabled=False
        )
        operator_id = session.scalar(select(Operator.id))
        assert operator_id is not None
        mail.add_list_entry(
            session, operator_id, customer.id, ListKind.ALLOW, "@fournisseur-ami.example"
        )
    with GatewayThread(db, settings, scanner) as gateway, tls_client(gateway.inbound) as client:
        # one message, two recipients: held for the filtered one, delivered to the other
        assert (
            client.sendmail(
                "compta@fournisseur.example", ["alice@acme.fr", "boss@acme.fr"], suspicious()
            )
            == {}
        )
        assert (
            client.sendmail(
                "compta@fournisseur-ami.example",
                ["alice@acme.fr"],
                suspicious(sender="compta@fournisseur-ami.example", executables=0),
            )
            == {}
        )
        forwarded = message(extra="Resent-From: relais@association.example\r\n")
        assert client.sendmail("paul@partenaire.example", ["alice@acme.fr"], forwarded) == {}
        wait_for(lambda: len(sink.messages) == 3)
    assert len(sink.to("boss@acme.fr")) == 1
    assert len(sink.to("alice@acme.fr")) == 2
    flags = [
        (e.rcpt_tos, e.action, e.filtering_disabled, e.allow_listed, e.forwarded) for e in logs(db)
    ]
    assert flags == [
        (["alice@acme.fr"], "quarantine", False, False, False),
        (["boss@acme.fr"], "deliver", True, False, False),
        (["alice@acme.fr"], "deliver", False, True, False),
        (["alice@acme.fr"], "deliver", False, False, True),
    ]
