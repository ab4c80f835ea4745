"""Fixtures of the gateway tests: a freshly migrated database whose transactions really commit
(the gateway works in threads and other processes), a customer on the mail-security offer
with a protected domain whose own server is an SMTP sink on loopback, the shipped filter, and
the gateway itself running on free loopback ports."""

from __future__ import annotations

import smtplib
import ssl
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from operateur.accounts import audit
from operateur.accounts import service as accounts
from operateur.accounts.models import Operator
from operateur.accounts.permissions import system_actor
from operateur.accounts.schemas import ContactIn, CustomerIn, OperatorIn
from operateur.catalog.terms import PaymentMethod
from operateur.config import Settings
from operateur.contracts import service as contracts
from operateur.contracts.schemas import SubscriptionIn
from operateur.db import transaction
from operateur.domain.calendar import PARIS
from operateur.mail import service as mail
from operateur.mail.filter import Filter
from operateur.mail.harness import GatewayThread
from operateur.testing.smtp import SmtpSink
from tests.integration.conftest import new_siren


@pytest.fixture(scope="session")
def scanner() -> Filter:
    """The shipped filter, loaded once."""
    return Filter()


@pytest.fixture
def db(committed_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    return committed_factory


@pytest.fixture
def settings(db: sessionmaker[Session], tmp_path: Path) -> Settings:
    bind = db.kw["bind"]
    return Settings(
        data_dir=tmp_path,
        database_url=bind.url.render_as_string(hide_password=False),
        mail_inbound_listen="127.0.0.1:0",
        mail_submission_listen="127.0.0.1:0",
        mail_network_checks=False,
        mail_retry_first_seconds=1,
        mail_retry_max_seconds=2,
        mail_public_url="https://mail.operateur.test",
    )


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """The customer's own mail server."""
    with SmtpSink() as server:
        yield server


@dataclass
class Customer:
    id: int
    contract_id: int
    domain: str


# These tests are about what the gateway does with a verdict, not about the statistical
# classifier (its accuracy is bench/mail_accuracy.py's business): the test customers'
# contracts put the tag and hold scores above the 12 points the classifier alone can give, so
# that only decisive findings (lists, attachments, viruses) change the fate of a message.
CONTENT_ALONE_DELIVERED = {"mail": {"spam_tag_score": "12.5", "spam_quarantine_score": "13"}}


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, nested dictionaries merged."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _operator_id(session: Session) -> int:
    found: int | None = session.scalar(select(Operator.id))
    if found is not None:
        return found
    operator = accounts.create_operator(
        session,
        OperatorIn(
            name="Opérateur Test",
            legal_form="SAS",
            siren="732829320",
            address_line="1 place du Test",
            postal_code="69001",
            city="Lyon",
            email="contact@operateur-test.fr",
        ),
    )
    return operator.id


def make_customer(
    db: sessionmaker[Session],
    *,
    server_port: int | None,
    name: str = "Acme",
    domain: str = "acme.fr",
    overrides: dict[str, Any] | None = None,
    mailboxes: int = 10,
    activated: date | None = None,
) -> Customer:
    """A customer on the mail-security offer, its domain protected, its server on loopback."""
    with transaction(db) as session:
        audit.set_actor(session, system_actor("test"))
        customer = accounts.create_customer(
            session,
            _operator_id(session),
            CustomerIn(
                name=name,
                legal_form="SARL",
                siren=new_siren(),
                address_line="1 rue du Client",
                postal_code="75001",
                city="Paris",
                email=f"admin@{domain}",
                payment_method=PaymentMethod.TRANSFER,
            ),
        )
        accounts.add_contact(session, customer, ContactIn(name="Admin", email=f"it@{domain}"))
        start = activated or date.today() - timedelta(days=30)
        contract = contracts.create_contract(
            session, customer, "mail-security", merged(CONTENT_ALONE_DELIVERED, overrides or {})
        )
        contracts.sign(session, contract, "Signataire", datetime.combine(start, time(9), PARIS))
        contracts.activate(session, contract, start)
        for code in ("mail_in.mailbox", "mail_out.mailbox"):
            contracts.add_subscription(
                session, contract, SubscriptionIn(item_code=code, quantity=mailboxes)
            )
        contracts.add_subscription(
            session, contract, SubscriptionIn(item_code="mail.domain", quantity=2)
        )
        mail.add_domain(session, customer.id, domain, date.today())
        if server_port is not None:
            mail.add_server(session, customer.id, "127.0.0.1", port=server_port)
        return Customer(customer.id, contract.id, domain)


@pytest.fixture
def acme(db: sessionmaker[Session], sink: SmtpSink) -> Customer:
    return make_customer(db, server_port=sink.port)


@pytest.fixture
def gateway(
    db: sessionmaker[Session], settings: Settings, scanner: Filter
) -> Iterator[GatewayThread]:
    with GatewayThread(db, settings, scanner) as running:
        yield running


def tls_client(address: tuple[str, int], helo: str = "client.example") -> smtplib.SMTP:
    """An SMTP client that has done STARTTLS (the tests' certificate is self-signed)."""
    client = smtplib.SMTP(*address, local_hostname=helo, timeout=30)
    client.ehlo()
    client.starttls(context=ssl._create_unverified_context())  # noqa: S323 - self-signed test cert
    client.ehlo()
    return client


def message(
    subject: str = "Réunion de jeudi",
    body: str = "Bonjour,\n\nLa réunion de jeudi est confirmée à 10 h.\n\nCordialement,\nPaul",
    sender: str = "paul@partenaire.example",
    to: str = "alice@acme.fr",
    extra: str = "",
) -> bytes:
    return (
        f"From: Paul <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{clock.monotonic_ns()}@partenaire.example>\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n"
    ).encode()


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``condition()`` is truthy (deliveries happen in the gateway's thread)."""
    deadline = clock.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if clock.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        clock.sleep(0.05)


class RefusingServer:
    """A customer server that answers 451 to every message (full disk, maintenance…)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.attempts = 0

        refusing = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                refusing.attempts += 1
                return "451 4.3.0 Mailbox temporarily unavailable"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> RefusingServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
