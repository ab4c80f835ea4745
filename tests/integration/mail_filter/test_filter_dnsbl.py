"""DNS blocklists with a zone served on loopback: a host listed on at least the contract's
number of lists (3) is corrupted (MAIL-02)."""

from __future__ import annotations

import dataclasses

from operateur.mail.filter import Action, Filter, Policy, Verdict
from operateur.testing.dns import DnsServer
from tests.integration.mail_filter.conftest import envelope, message

IP = "192.0.2.77"
REVERSED = "77.2.0.192"


def _names(verdict: Verdict) -> list[str]:
    return [s.name for s in verdict.symbols]


def test_host_on_two_lists_is_suspicious_not_corrupted(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-02 listed on 2 lists: below the 3 of the terms
    zone.add(f"{REVERSED}.bl-one.test", "A", "127.0.0.2")
    zone.add(f"{REVERSED}.bl-two.test", "A", "127.0.0.4")
    verdict = mail_filter.scan(message(), envelope(IP), network_policy)
    assert _names(verdict).count("RBL_LISTED") == 2
    assert "CORRUPTED_HOST" not in _names(verdict)
    assert verdict.action is not Action.REJECT
    asked = {name for name, kind in zone.queries if kind == "A"}
    assert {f"{REVERSED}.{z}" for z in ("bl-one.test", "bl-two.test", "bl-three.test")} <= asked


def test_host_on_three_lists_is_corrupted_and_rejected(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-02 a host listed on at least 3 RBLs counts as corrupted
    for zone_name in ("bl-one.test", "bl-two.test", "bl-three.test"):
        zone.add(f"{REVERSED}.{zone_name}", "A", "127.0.0.2")
    verdict = mail_filter.scan(message(), envelope(IP), network_policy)
    [corrupted] = [s for s in verdict.symbols if s.name == "CORRUPTED_HOST"]
    assert corrupted.detail == f"{IP} on 3 lists"
    assert verdict.action is Action.REJECT


def test_answers_outside_loopback_are_not_listings(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-02 a DNSBL lists with 127.0.0.0/8 answers only (RFC 5782)
    for zone_name in ("bl-one.test", "bl-two.test", "bl-three.test"):
        zone.add(f"{REVERSED}.{zone_name}", "A", "192.0.2.1")
    verdict = mail_filter.scan(message(), envelope(IP), network_policy)
    assert "RBL_LISTED" not in _names(verdict)


def test_url_domain_on_three_uri_lists_is_corrupted(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-02 RBL lookups of URLs' domains; a domain on 3 lists is corrupted
    raw = message(text="Voir https://www.promo-miracle.test/offre et https://ok.test/\n")
    for zone_name in ("uri-one.test", "uri-two.test"):
        zone.add(f"promo-miracle.test.{zone_name}", "A", "127.0.0.2")
    two = mail_filter.scan(raw, envelope(), network_policy)
    assert _names(two).count("URIBL_LISTED") == 2 and "CORRUPTED_DOMAIN" not in _names(two)
    zone.add("promo-miracle.test.uri-three.test", "A", "127.0.0.2")
    three = mail_filter.scan(raw, envelope(), network_policy)
    assert "CORRUPTED_DOMAIN" in _names(three)
    assert three.action is Action.REJECT


def test_outbound_mail_is_not_judged_by_its_users_ip(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-02 the RBLs judge connecting hosts of inbound mail; outbound mail comes from
    # the customer's authenticated users, wherever they connect from (MAIL-01 outbound)
    for zone_name in ("bl-one.test", "bl-two.test", "bl-three.test"):
        zone.add(f"{REVERSED}.{zone_name}", "A", "127.0.0.2")
    outbound = dataclasses.replace(envelope(IP), direction="outbound")
    verdict = mail_filter.scan(message(), outbound, network_policy)
    assert not {"RBL_LISTED", "CORRUPTED_HOST"} & set(_names(verdict))
