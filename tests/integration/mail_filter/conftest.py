"""Fixtures of the filter's network tests: a DNS zone served on loopback, a policy that
resolves through it, and DKIM keys to publish in it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from operateur.catalog.service import get_offer
from operateur.mail.filter import Envelope, Filter, Policy
from operateur.testing.dns import DnsServer


@pytest.fixture(scope="session")
def mail_filter() -> Filter:
    return Filter()


@pytest.fixture
def zone() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def network_policy(zone: DnsServer) -> Policy:
    """The mail-security offer's thresholds and corrupted-host count, lookups on the zone."""
    rules = get_offer("mail-security").terms.mail
    assert rules is not None
    return Policy(
        tag_at=float(rules.spam_tag_score),
        quarantine_at=float(rules.spam_quarantine_score),
        reject_at=float(rules.spam_reject_score),
        dnsbl_zones=("bl-one.test", "bl-two.test", "bl-three.test"),
        uribl_zones=("uri-one.test", "uri-two.test", "uri-three.test"),
        dnsbl_corrupted_at=rules.rbl_listings_for_corrupted_host,
        network=True,
        resolver_nameservers=(zone.nameserver,),
    )


def envelope(client_ip: str = "192.0.2.10", mail_from: str = "paul@partenaire.test") -> Envelope:
    return Envelope(
        mail_from=mail_from, rcpt_tos=("compta@client.test",), client_ip=client_ip,
        helo="mx.partenaire.test",
    )  # fmt: skip


def message(
    sender: str = "Paul Martin <paul@partenaire.test>", text: str = "Bonjour,\n\nÀ mardi.\n"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "compta@client.test"
    msg["Subject"] = "Réunion de mardi"
    msg["Date"] = "Mon, 01 Jan 2024 12:00:00 +0100"
    msg["Message-ID"] = "<1@partenaire.test>"
    msg.set_content(text)
    return msg.as_bytes().replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class DkimKey:
    private_pem: bytes
    public_record: str  # the TXT record to publish at <selector>._domainkey.<domain>


@pytest.fixture(scope="session")
def dkim_key() -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKey(private, "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode())
