"""Allow and deny lists of addresses and domains (MAIL-02, MAIL-04)."""

from __future__ import annotations

import dataclasses

from operateur.mail.filter import Action, Envelope, Filter, Policy
from operateur.mail.filter.corpus import split
from tests.unit.mail_filter.conftest import MessageBuilder


def _spam() -> bytes:
    """A spam of the held-out corpus that the classifier alone blocks."""
    return split().test_spam[0].read_bytes()


def test_spam_from_an_unlisted_sender_is_blocked(
    mail_filter: Filter, policy: Policy, envelope: Envelope
) -> None:
    # SPEC: MAIL-01
    verdict = mail_filter.scan(_spam(), envelope, policy)
    assert verdict.action in (Action.QUARANTINE, Action.REJECT)


def test_allow_listed_address_is_not_spam(
    mail_filter: Filter, policy: Policy, envelope: Envelope
) -> None:
    # SPEC: MAIL-04 allow-listed senders are not spam, whatever their content
    allowed = dataclasses.replace(policy, allow=frozenset({"Paul@Partenaire.fr"}))
    verdict = mail_filter.scan(_spam(), envelope, allowed)
    assert verdict.action is Action.DELIVER
    assert "ALLOWLISTED" in {s.name for s in verdict.symbols}


def test_allow_listed_domain_matches_the_from_header(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-04
    raw = message(sender="Offres <promo@fournisseur.fr>")
    allowed = dataclasses.replace(policy, allow=frozenset({"@fournisseur.fr"}))
    other_sender = dataclasses.replace(envelope, mail_from="bounce@bulk-mailer.example")
    verdict = mail_filter.scan(raw, other_sender, allowed)
    assert verdict.action is Action.DELIVER
    assert [s.detail for s in verdict.symbols if s.name == "ALLOWLISTED"] == ["@fournisseur.fr"]


def test_deny_listed_sender_is_rejected(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-02 per-customer deny list of addresses and domains
    for entry in ("paul@partenaire.fr", "@partenaire.fr"):
        denied = dataclasses.replace(policy, deny=frozenset({entry}))
        verdict = mail_filter.scan(message(), envelope, denied)
        assert verdict.action is Action.REJECT, entry
        assert "DENYLISTED" in {s.name for s in verdict.symbols}


def test_deny_list_does_not_catch_other_domains(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-02 "@partenaire.fr" is that domain, not every domain ending the same way
    denied = dataclasses.replace(policy, deny=frozenset({"@tenaire.fr", "aul@partenaire.fr"}))
    verdict = mail_filter.scan(message(), envelope, denied)
    assert "DENYLISTED" not in {s.name for s in verdict.symbols}


def test_allow_wins_over_deny(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-04 an allow-listed sender is not spam even when its domain is denied
    both = dataclasses.replace(
        policy, allow=frozenset({"paul@partenaire.fr"}), deny=frozenset({"@partenaire.fr"})
    )
    assert mail_filter.scan(message(), envelope, both).action is Action.DELIVER
