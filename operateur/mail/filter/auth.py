"""Sender authentication of inbound mail: SPF (pyspf), DKIM (dkimpy), DMARC (the ``dmarc``
library's record parser and alignment logic, the record looked up with dnspython).

Only with ``policy.network`` and only for inbound mail: outbound mail comes from the
customer's own authenticated users. SPF runs before DMARC, which reads its result from
the context; DKIM likewise.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import dkim
import dmarc
import dns.exception
import dns.resolver
import spf

from operateur.mail.filter.domains import organizational_domain
from operateur.mail.filter.lookup import Dns, LookupFailed
from operateur.mail.filter.message import ParsedMessage
from operateur.mail.filter.scanning import ScanContext
from operateur.mail.filter.types import Symbol

SPF_SCORES = {
    "pass": ("SPF_PASS", -0.5),
    "fail": ("SPF_FAIL", 3.0),
    "softfail": ("SPF_SOFTFAIL", 1.0),
    "neutral": ("SPF_NEUTRAL", 0.0),
    "none": ("SPF_NONE", 0.0),
    "permerror": ("SPF_PERMERROR", 0.5),
    "temperror": ("SPF_TEMPERROR", 0.0),
}
DKIM_VALID = -0.5
DKIM_INVALID = 2.0
DMARC_PASS = -1.0
DMARC_FAIL = {"reject": 7.0, "quarantine": 4.0, "none": 0.5}

# pyspf resolves through its module-level ``DNSLookup`` hook (the one its own test suite
# replaces); ours sends each query to the resolver of the scan in progress.
_scan_dns: ContextVar[Dns | None] = ContextVar("_scan_dns", default=None)


def _pyspf_lookup(
    name: str, qtype: str, strict: bool = True, timeout: float = 30
) -> list[tuple[tuple[str, str], Any]]:
    resolver = (_scan_dns.get() or Dns()).resolver
    try:
        answer = resolver.resolve(name, qtype, lifetime=min(timeout, 5), search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    found: list[tuple[tuple[str, str], Any]] = []
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            found.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            found.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            found.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            found.append(((name, qtype), rdata.strings))
    return found


spf.DNSLookup = _pyspf_lookup


def spf_result(dns_: Dns, ip: str, sender: str, helo: str) -> tuple[str, str]:
    """(result, explanation) of SPF for `sender` (or the HELO name if null) from `ip`."""
    token = _scan_dns.set(dns_)
    try:
        result, explanation = spf.check2(i=ip, s=sender, h=helo, timeout=10)
    finally:
        _scan_dns.reset(token)
    return str(result), str(explanation)


def scan_spf(ctx: ScanContext) -> list[Symbol]:
    ip = ctx.envelope.client_ip
    if not (ctx.policy.network and ctx.inbound and ip):
        return []
    sender = ctx.envelope.mail_from.strip("<>")
    helo = ctx.envelope.helo or ""
    result, explanation = spf_result(ctx.dns, ip, sender, helo)
    ctx.spf = (result, ctx.sender_domain)
    name, score = SPF_SCORES.get(result, ("SPF_" + result.upper(), 0.0))
    return [Symbol(name, score, f"{ctx.sender_domain}: {explanation}")]


def dkim_results(message: ParsedMessage, dns_: Dns) -> list[tuple[str, str]]:
    """(signing domain, "pass" | "fail" | "temperror") for each DKIM-Signature."""

    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            records = dns_.txt(name.decode("ascii").rstrip("."))
        except LookupFailed as exc:
            raise dkim.DnsTimeoutError(str(exc)) from exc
        return records[0].encode() if records else None

    verifier = dkim.DKIM(message.raw)
    count = len(message.msg.get_all("DKIM-Signature", []))
    results = []
    for index in range(count):
        try:
            ok = verifier.verify(idx=index, dnsfunc=txt)
            outcome = "pass" if ok else "fail"
        except dkim.DnsTimeoutError:
            outcome = "temperror"
        except dkim.DKIMException:
            outcome = "fail"
        domain = verifier.domain.decode("ascii", "replace") if verifier.domain else ""
        results.append((domain.lower(), outcome))
    return results


def scan_dkim(ctx: ScanContext) -> list[Symbol]:
    if not (ctx.policy.network and ctx.inbound):
        return []
    results = dkim_results(ctx.message, ctx.dns)
    ctx.dkim = results
    passed = sorted({d for d, outcome in results if outcome == "pass"})
    failed = sorted({d for d, outcome in results if outcome == "fail"})
    if passed:
        return [Symbol("DKIM_VALID", DKIM_VALID, ", ".join(passed))]
    if failed:
        return [Symbol("DKIM_INVALID", DKIM_INVALID, ", ".join(failed))]
    return []


class _OrgDomains:
    """The adapter the ``dmarc`` library expects for relaxed alignment."""

    def get_public_suffix(self, domain: str) -> str:
        return organizational_domain(domain)


def _dmarc_record(dns_: Dns, domain: str) -> tuple[str, str | None] | None:
    """(record, organizational domain if the record was found there) for `domain`."""
    for candidate in (domain, organizational_domain(domain)):
        records = [r for r in dns_.txt(f"_dmarc.{candidate}") if r.startswith("v=DMARC1")]
        if len(records) == 1:
            return records[0], (candidate if candidate != domain else None)
        if candidate == organizational_domain(domain):
            break
    return None


def scan_dmarc(ctx: ScanContext) -> list[Symbol]:
    """DMARC of the From domain, with the SPF and DKIM results of this scan."""
    domain = ctx.message.from_domain
    if not (ctx.policy.network and ctx.inbound and domain):
        return []
    found = _dmarc_record(ctx.dns, domain)
    if found is None:
        return []
    record, org_domain = found
    checker = dmarc.DMARC(publicsuffix=_OrgDomains())
    try:
        policy = checker.parse_record(record, domain=domain, org_domain=org_domain)
    except dmarc.RecordSyntaxError:
        return [Symbol("DMARC_BAD_RECORD", 0.0, record)]
    spf_auth = None
    if ctx.spf is not None and ctx.spf[1]:
        spf_auth = dmarc.SPFAuthResult(ctx.spf[1], dmarc.SPFResult(ctx.spf[0]))
    dkim_auth = [
        dmarc.DKIMAuthResult(signer, dmarc.DKIMResult(outcome))
        for signer, outcome in ctx.dkim
        if signer
    ]
    result = checker.get_result(
        policy,
        auth_results=dmarc.AuthResults(spf=spf_auth, dkim=dkim_auth),
        allow_policy_test_mode=True,
    )
    if result.result is dmarc.DMARCResult.PASS:
        return [Symbol("DMARC_PASS", DMARC_PASS, domain)]
    disposition = result.disposition.value or "none"
    if policy.pct < 100 and disposition != "none":  # sampled policy: one level milder
        disposition = "quarantine" if disposition == "reject" else "none"
    return [
        Symbol(
            f"DMARC_FAIL_{disposition.upper()}",
            DMARC_FAIL[disposition],
            f"{domain}: p={disposition}",
        )
    ]
