"""The filter's interface types (CONTRACTS.md "Mail filter"): what the gateway passes in
(envelope, per-customer policy) and what it gets back (a verdict made of scored symbols)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What the gateway does with a message, from its score against the policy thresholds."""

    DELIVER = "deliver"
    TAG = "tag"
    QUARANTINE = "quarantine"
    REJECT = "reject"


@dataclass(frozen=True)
class Symbol:
    """One named finding of a scanner and the score it adds (negative scores count for ham)."""

    name: str
    score: float
    detail: str = ""


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope of a message: who sent it, to whom, from which client."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    client_ip: str | None = None
    helo: str | None = None
    direction: str = "inbound"  # or "outbound"


@dataclass(frozen=True)
class Policy:
    """Per-customer filtering policy, built by the gateway from the contract terms and the DB.

    Thresholds: score >= reject_at rejects, >= quarantine_at quarantines, >= tag_at tags.
    `allow`/`deny` hold addresses ("a@b.fr") or whole domains ("@b.fr") (MAIL-04).
    DNS lookups (DNSBL, URIBL, SPF, DKIM, DMARC) happen only when `network` is True (MAIL-02).
    """

    tag_at: float
    quarantine_at: float
    reject_at: float
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    dnsbl_zones: tuple[str, ...] = ()
    dnsbl_corrupted_at: int = 3
    uribl_zones: tuple[str, ...] = ()
    network: bool = False
    resolver_nameservers: tuple[str, ...] = ()  # e.g. ("127.0.0.1:5353",) in tests


@dataclass(frozen=True)
class Verdict:
    """The filter's decision: action, total score, the symbols that made it, virus found."""

    action: Action
    score: float
    symbols: tuple[Symbol, ...]
    virus: bool = False
