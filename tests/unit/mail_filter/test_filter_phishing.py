"""Phishing heuristics (MAIL-01 antiphishing)."""

from __future__ import annotations

from operateur.mail.filter import Envelope, Filter, Policy, Symbol
from operateur.mail.filter.phishing import lookalike
from tests.unit.mail_filter.conftest import MessageBuilder


def _symbols(mail_filter: Filter, raw: bytes, envelope: Envelope, policy: Policy) -> list[Symbol]:
    return list(mail_filter.scan(raw, envelope, policy).symbols)


def test_link_showing_one_domain_and_going_to_another(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01 link text vs target
    html = '<p>Connectez-vous sur <a href="http://secure-login.example.net/x">www.banque.fr</a></p>'
    symbols = _symbols(mail_filter, message(html=html), envelope, policy)
    [mismatch] = [s for s in symbols if s.name == "PHISH_LINK_MISMATCH"]
    assert "www.banque.fr" in mismatch.detail and "secure-login.example.net" in mismatch.detail


def test_link_text_on_the_same_domain_is_fine(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01
    html = '<a href="https://espace.banque.fr/login">www.banque.fr</a> <a href="/x">ici</a>'
    names = {s.name for s in _symbols(mail_filter, message(html=html), envelope, policy)}
    assert "PHISH_LINK_MISMATCH" not in names


def test_ip_literal_url(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01
    raw = message(text="Validez votre compte : http://198.51.100.23/valider?id=1\n")
    names = {s.name for s in _symbols(mail_filter, raw, envelope, policy)}
    assert "URL_IP_LITERAL" in names


def test_lookalike_of_the_customers_own_domain(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01 lookalike domains of the customer's own (the recipients' domain)
    raw = message(sender="Direction <dg@client-exernple.fr>")
    symbols = _symbols(mail_filter, raw, envelope, policy)
    [found] = [s for s in symbols if s.name == "LOOKALIKE_DOMAIN"]
    assert found.detail == "client-exernple.fr ~ client-exemple.fr"


def test_lookalike_kinds() -> None:
    # SPEC: MAIL-01 homoglyphs (punycode), digit swaps, one edit, another suffix
    assert lookalike("xn--pypal-4ve.com", "paypal.com") == "name"  # Cyrillic 'а'
    assert lookalike("paypa1.com", "paypal.com") == "name"
    assert lookalike("exarnple.fr", "example.fr") == "name"
    assert lookalike("examples.fr", "example.fr") == "name"
    assert lookalike("example.com", "example.fr") == "suffix"
    assert lookalike("mail.example.fr", "example.fr") is None  # its own subdomain
    assert lookalike("wikipedia.org", "example.fr") is None
    assert lookalike("abd.fr", "abc.fr") is None  # too short to call it an imitation
