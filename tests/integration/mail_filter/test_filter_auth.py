"""SPF, DKIM and DMARC checked against records published in a loopback zone (MAIL-01
antispam and antiphishing: forged senders)."""

from __future__ import annotations

import dkim

from operateur.mail.filter import Filter, Policy, Symbol
from operateur.testing.dns import DnsServer
from tests.integration.mail_filter.conftest import DkimKey, envelope, message


def _by_name(mail_filter: Filter, raw: bytes, policy: Policy, ip: str) -> dict[str, Symbol]:
    return {s.name: s for s in mail_filter.scan(raw, envelope(ip), policy).symbols}


def _signed(raw: bytes, key: DkimKey, domain: bytes = b"partenaire.test") -> bytes:
    signature = dkim.sign(raw, b"s2024", domain, key.private_pem,
                          include_headers=[b"from", b"to", b"subject", b"date"])  # fmt: skip
    return bytes(signature) + raw


def test_spf_pass_and_fail(mail_filter: Filter, network_policy: Policy, zone: DnsServer) -> None:
    # SPEC: MAIL-01 the sender's domain authorises 192.0.2.10 and refuses the others
    zone.add("partenaire.test", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    passed = _by_name(mail_filter, message(), network_policy, "192.0.2.10")
    assert "SPF_PASS" in passed and passed["SPF_PASS"].score < 0
    failed = _by_name(mail_filter, message(), network_policy, "203.0.113.5")
    assert "SPF_FAIL" in failed and failed["SPF_FAIL"].score > 0


def test_spf_softfail_and_none(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-01
    zone.add("partenaire.test", "TXT", "v=spf1 a:mx.partenaire.test ~all")
    zone.add("mx.partenaire.test", "A", "192.0.2.20")
    assert "SPF_PASS" in _by_name(mail_filter, message(), network_policy, "192.0.2.20")
    assert "SPF_SOFTFAIL" in _by_name(mail_filter, message(), network_policy, "192.0.2.21")
    raw = message(sender="x@inconnu.test")
    verdict = mail_filter.scan(raw, envelope("192.0.2.21", "x@inconnu.test"), network_policy)
    assert "SPF_NONE" in {s.name for s in verdict.symbols}


def test_dkim_signature_verified_with_the_published_key(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer, dkim_key: DkimKey
) -> None:
    # SPEC: MAIL-01 a DKIM signature of the sender's domain, key published in DNS
    zone.add("s2024._domainkey.partenaire.test", "TXT", dkim_key.public_record)
    signed = _signed(message(), dkim_key)
    symbols = _by_name(mail_filter, signed, network_policy, "192.0.2.10")
    assert symbols["DKIM_VALID"].detail == "partenaire.test"
    tampered = signed.replace("À mardi.".encode(), "À jeudi.".encode())
    assert tampered != signed
    symbols = _by_name(mail_filter, tampered, network_policy, "192.0.2.10")
    assert "DKIM_INVALID" in symbols and "DKIM_VALID" not in symbols


def test_dkim_signature_without_a_published_key_is_invalid(
    mail_filter: Filter, network_policy: Policy, dkim_key: DkimKey
) -> None:
    # SPEC: MAIL-01
    symbols = _by_name(mail_filter, _signed(message(), dkim_key), network_policy, "192.0.2.10")
    assert "DKIM_INVALID" in symbols


def test_dmarc_reject_when_neither_spf_nor_dkim_aligns(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-01 antiphishing: a forged From of a domain publishing p=reject
    zone.add("_dmarc.banque.test", "TXT", "v=DMARC1; p=reject; rua=mailto:d@banque.test")
    zone.add("banque.test", "TXT", "v=spf1 ip4:198.51.100.1 -all")
    zone.add("partenaire.test", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    forged = message(sender="Banque <alerte@banque.test>")
    symbols = _by_name(mail_filter, forged, network_policy, "192.0.2.10")
    assert "SPF_PASS" in symbols  # the envelope domain passes, but it is not the From domain
    assert "DMARC_FAIL_REJECT" in symbols and symbols["DMARC_FAIL_REJECT"].score > 0


def test_dmarc_pass_with_aligned_dkim(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer, dkim_key: DkimKey
) -> None:
    # SPEC: MAIL-01 the From domain signs its own mail (relaxed alignment of a subdomain)
    zone.add("_dmarc.partenaire.test", "TXT", "v=DMARC1; p=quarantine")
    zone.add("s2024._domainkey.mail.partenaire.test", "TXT", dkim_key.public_record)
    raw = _signed(message(), dkim_key, domain=b"mail.partenaire.test")
    symbols = _by_name(mail_filter, raw, network_policy, "203.0.113.9")
    assert "DKIM_VALID" in symbols
    assert "DMARC_PASS" in symbols and symbols["DMARC_PASS"].score < 0


def test_dmarc_record_of_the_organizational_domain_applies_to_subdomains(
    mail_filter: Filter, network_policy: Policy, zone: DnsServer
) -> None:
    # SPEC: MAIL-01 sp= of the organizational domain for a From of a subdomain
    zone.add("_dmarc.partenaire.test", "TXT", "v=DMARC1; p=none; sp=quarantine")
    raw = message(sender="Service <noreply@factures.partenaire.test>")
    symbols = _by_name(mail_filter, raw, network_policy, "203.0.113.9")
    assert "DMARC_FAIL_QUARANTINE" in symbols
