"""Fixtures of the filter's unit tests: the shipped filter, a policy with the mail-security
offer's thresholds, and a builder of raw messages."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest

from operateur.catalog.service import get_offer
from operateur.mail.filter import Envelope, Filter, Policy

MessageBuilder = Callable[..., bytes]


@pytest.fixture(scope="session")
def mail_filter() -> Filter:
    return Filter()


@pytest.fixture
def policy() -> Policy:
    rules = get_offer("mail-security").terms.mail
    assert rules is not None
    return Policy(
        tag_at=float(rules.spam_tag_score),
        quarantine_at=float(rules.spam_quarantine_score),
        reject_at=float(rules.spam_reject_score),
        dnsbl_corrupted_at=rules.rbl_listings_for_corrupted_host,
    )


@pytest.fixture
def envelope() -> Envelope:
    return Envelope(
        mail_from="paul@partenaire.fr", rcpt_tos=("compta@client-exemple.fr",),
        client_ip="192.0.2.10", helo="mx.partenaire.fr",
    )  # fmt: skip


def build_message(
    *,
    sender: str = "Paul Martin <paul@partenaire.fr>",
    to: str = "compta@client-exemple.fr",
    subject: str = "Compte rendu de la réunion de mardi",
    text: str = "Bonjour,\n\nVoici le compte rendu de notre réunion de mardi.\n\nPaul\n",
    html: str | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A raw message; attachments are (filename, content type, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<20240101120000.1234@partenaire.fr>"
    message["Date"] = "Mon, 01 Jan 2024 12:00:00 +0100"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


@pytest.fixture
def message() -> MessageBuilder:
    return build_message
