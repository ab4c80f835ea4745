"""Allow and deny lists (MAIL-02, MAIL-04): entries are addresses ("jean@example.fr") or
whole domains ("@example.fr"), matched case-insensitively against the envelope sender and
the From header's address. An allow-listed sender is not spam (MAIL-04) and wins over the
deny list; a deny-listed one is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable

from operateur.mail.filter.scanning import ScanContext

ALLOWLISTED = "ALLOWLISTED"
DENYLISTED = "DENYLISTED"


def matching_entry(entries: frozenset[str], addresses: Iterable[str]) -> str | None:
    """The first entry of `entries` matching one of `addresses` (address, then @domain)."""
    if not entries:
        return None
    lowered = {entry.strip().lower() for entry in entries}
    for address in addresses:
        address = address.strip().strip("<>").lower()
        if "@" not in address:
            continue
        if address in lowered:
            return address
        domain = "@" + address.rpartition("@")[2]
        if domain in lowered:
            return domain
    return None


def senders(ctx: ScanContext) -> list[str]:
    return [ctx.envelope.mail_from, ctx.message.from_address]
