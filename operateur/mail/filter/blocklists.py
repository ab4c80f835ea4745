"""DNS blocklists (MAIL-02): the connecting IP against the policy's DNSBL zones, the domains
of the message's URLs against its URIBL zones.

Each listing adds a symbol; a host or domain listed on at least ``policy.dnsbl_corrupted_at``
lists (the contract's count, 3 in the offers) is corrupted: CORRUPTED_HOST /
CORRUPTED_DOMAIN, which reject the message (and exclude it from the false-positive count,
MAIL-05).
"""

from __future__ import annotations

import ipaddress

from operateur.mail.filter.domains import organizational_domain
from operateur.mail.filter.lookup import Dns, LookupFailed
from operateur.mail.filter.scanning import ScanContext
from operateur.mail.filter.types import Symbol

LISTED_SCORE = 2.0  # one listing: suspicious, not decisive
CORRUPTED_SCORE = 100.0
CORRUPTED_HOST = "CORRUPTED_HOST"
CORRUPTED_DOMAIN = "CORRUPTED_DOMAIN"
MAX_URI_DOMAINS = 20  # a message with hundreds of links does not cost hundreds of lookups


def reversed_ip_name(ip: str) -> str:
    """'192.0.2.7' -> '7.2.0.192'; IPv6 as reversed nibbles (RFC 5782)."""
    address = ipaddress.ip_address(ip)
    return address.reverse_pointer.rsplit(".", 2)[0]


def is_listing(addresses: list[str]) -> bool:
    """A DNSBL answer lists a name only with a 127.0.0.0/8 address (RFC 5782); other answers
    (wildcards, error codes outside it) do not count."""
    return any(ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8") for a in addresses)


def listings(dns_: Dns, name: str, zones: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(zones listing `name`, zones that could not be asked)."""
    listed, failed = [], []
    for zone in zones:
        try:
            if is_listing(dns_.addresses(f"{name}.{zone.strip('.')}")):
                listed.append(zone)
        except LookupFailed:
            failed.append(zone)
    return listed, failed


def _symbols(
    subject: str, listed: list[str], failed: list[str], corrupted_at: int, kind: str
) -> list[Symbol]:
    prefix = "RBL" if kind == "host" else "URIBL"
    found = [Symbol(f"{prefix}_LISTED", LISTED_SCORE, f"{subject} in {zone}") for zone in listed]
    if failed:
        found.append(Symbol(f"{prefix}_TEMPERROR", 0.0, f"{subject}: {', '.join(failed)}"))
    if len(listed) >= corrupted_at:
        name = CORRUPTED_HOST if kind == "host" else CORRUPTED_DOMAIN
        found.append(Symbol(name, CORRUPTED_SCORE, f"{subject} on {len(listed)} lists"))
    return found


def scan_dnsbl(ctx: ScanContext) -> list[Symbol]:
    ip = ctx.envelope.client_ip
    # outbound mail comes from the customer's own authenticated users, wherever they connect
    if not (ctx.policy.network and ctx.policy.dnsbl_zones and ip and ctx.inbound):
        return []
    try:
        name = reversed_ip_name(ip)
    except ValueError:
        return []
    listed, failed = listings(ctx.dns, name, ctx.policy.dnsbl_zones)
    return _symbols(ip, listed, failed, ctx.policy.dnsbl_corrupted_at, "host")


def scan_uribl(ctx: ScanContext) -> list[Symbol]:
    if not (ctx.policy.network and ctx.policy.uribl_zones):
        return []
    domains: dict[str, None] = {}
    for host in ctx.message.url_hosts:
        try:
            ipaddress.ip_address(host)
            continue  # IP literals are the phishing scanner's business
        except ValueError:
            domains.setdefault(organizational_domain(host), None)
    found: list[Symbol] = []
    for domain in list(domains)[:MAX_URI_DOMAINS]:
        listed, failed = listings(ctx.dns, domain, ctx.policy.uribl_zones)
        found.extend(_symbols(domain, listed, failed, ctx.policy.dnsbl_corrupted_at, "domain"))
    return found
