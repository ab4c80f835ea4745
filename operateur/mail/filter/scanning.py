"""What every scanner receives: the parsed message, the envelope, the policy, and a DNS
facade built once per scan (only used when the policy allows network lookups)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from operateur.mail.filter.lookup import Dns
from operateur.mail.filter.message import ParsedMessage
from operateur.mail.filter.types import Envelope, Policy, Symbol


@dataclass
class ScanContext:
    message: ParsedMessage
    envelope: Envelope
    policy: Policy
    spf: tuple[str, str] | None = None  # (result, domain checked), for DMARC
    dkim: list[tuple[str, str]] = field(default_factory=list)  # (signing domain, result)

    @cached_property
    def dns(self) -> Dns:
        return Dns(self.policy.resolver_nameservers)

    @property
    def inbound(self) -> bool:
        return self.envelope.direction != "outbound"

    @cached_property
    def sender_domain(self) -> str:
        """Domain of the envelope sender (the HELO name for a null sender)."""
        if "@" in self.envelope.mail_from:
            return self.envelope.mail_from.rpartition("@")[2].strip("<>").lower()
        return (self.envelope.helo or "").lower()


Scanner = Callable[[ScanContext], list[Symbol]]
