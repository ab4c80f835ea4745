"""DNS lookups of the filter (dnspython), against the policy's resolvers or the system's.

Failures (timeout, no server) are not answers: they raise ``LookupFailed`` so that a scanner
reports a temporary error instead of reading "not listed" or "no record".
"""

from __future__ import annotations

import dns.exception
import dns.nameserver
import dns.resolver

LIFETIME_SECONDS = 3.0


class LookupFailed(Exception):
    """The DNS could not answer (timeout, server failure): the result is unknown."""


class Dns:
    """A small facade over one dnspython resolver."""

    def __init__(self, nameservers: tuple[str, ...] = ()) -> None:
        if nameservers:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [_nameserver(text) for text in nameservers]
        else:
            resolver = dns.resolver.Resolver()
        resolver.lifetime = LIFETIME_SECONDS
        resolver.timeout = LIFETIME_SECONDS / 2
        self.resolver = resolver

    def _answer(self, name: str, rdtype: str) -> dns.resolver.Answer | None:
        try:
            return self.resolver.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise LookupFailed(f"{name} {rdtype}: {exc}") from exc
        except dns.exception.DNSException as exc:
            raise LookupFailed(f"{name} {rdtype}: {exc}") from exc

    def addresses(self, name: str, rdtype: str = "A") -> list[str]:
        answer = self._answer(name, rdtype)
        return [rdata.address for rdata in answer] if answer is not None else []

    def txt(self, name: str) -> list[str]:
        """Each TXT record of `name`, its strings joined (as DKIM and DMARC read them)."""
        answer = self._answer(name, "TXT")
        if answer is None:
            return []
        return [b"".join(rdata.strings).decode("utf-8", errors="replace") for rdata in answer]

    def mx(self, name: str) -> list[tuple[int, str]]:
        answer = self._answer(name, "MX")
        if answer is None:
            return []
        return [(rdata.preference, rdata.exchange.to_text(omit_final_dot=True)) for rdata in answer]

    def ptr(self, name: str) -> list[str]:
        answer = self._answer(name, "PTR")
        return [r.target.to_text(omit_final_dot=True) for r in answer] if answer else []


def _nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    """'127.0.0.1:5353', '127.0.0.1' or '[::1]:5353' -> a nameserver (port 53 by default)."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    return dns.nameserver.Do53Nameserver(host, port)
