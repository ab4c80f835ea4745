"""Organizational ("registrable") domains from the Public Suffix List (publicsuffixlist's
bundled copy): 'mail.example.co.uk' -> 'example.co.uk'. Used for DMARC alignment, URI
blocklists, lookalike checks and the classifier's consistency tokens."""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@cache
def organizational_domain(domain: str) -> str:
    """The registrable domain of `domain` (itself when it has none, e.g. a bare suffix)."""
    return str(_psl().privatesuffix(domain.lower().rstrip(".")) or domain.lower())
