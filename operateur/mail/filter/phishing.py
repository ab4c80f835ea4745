"""Phishing heuristics (MAIL-01 antiphishing):

- URLs whose host is an IP address;
- links whose visible text shows one domain while the link goes to another;
- lookalike domains of the customer's own (the recipients' domains inbound, the sender's
  outbound): same name under Unicode homoglyphs or digit swaps (``confusable_homoglyphs``),
  one edit away (``rapidfuzz``), or the same name under another suffix.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache

from confusable_homoglyphs import confusables
from rapidfuzz.distance import DamerauLevenshtein

from operateur.mail.filter.domains import organizational_domain
from operateur.mail.filter.message import url_host
from operateur.mail.filter.scanning import ScanContext
from operateur.mail.filter.types import Symbol

IP_LITERAL_SCORE = 2.0
LINK_MISMATCH_SCORE = 3.0
LOOKALIKE_SCORE = 6.0
LOOKALIKE_SUFFIX_SCORE = 2.0
MIN_LABEL_FOR_EDIT_DISTANCE = 5  # "abc" vs "abd" is not an imitation, "example" vs "exampie" is

_SHOWN_HOST = re.compile(r"^(?:https?://)?((?:[\w-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?$", re.I)
_ASCII_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("3", "e"), ("5", "s"))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@cache
def _latin(char: str) -> str:
    """The Latin letter a non-Latin character imitates ('р' Cyrillic -> 'p'), or itself."""
    if char.isascii():
        return char
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    if found:
        for glyph in found[0]["homoglyphs"]:
            if glyph["c"].isascii():
                return str(glyph["c"]).lower()
    return char


def skeleton(label: str) -> str:
    """A name reduced to what it looks like: homoglyphs to Latin, digit swaps undone."""
    text = "".join(_latin(c) for c in label.lower())
    for seen, meant in _ASCII_LOOKALIKES:
        text = text.replace(seen, meant)
    return text


def _unicode_host(host: str) -> str:
    try:
        return host.encode("ascii").decode("idna") if "xn--" in host else host
    except UnicodeError:
        return host


def _split(domain: str) -> tuple[str, str]:
    """'shop.example.co.uk' -> ('example', 'co.uk') (its registrable name and suffix)."""
    org = organizational_domain(domain)
    name, _, suffix = org.partition(".")
    return name, suffix


def lookalike(candidate: str, protected: str) -> str | None:
    """'suffix' or 'name' when `candidate` imitates `protected`, None otherwise."""
    candidate, protected = _unicode_host(candidate.lower()), protected.lower()
    if organizational_domain(candidate) == organizational_domain(protected):
        return None
    name, suffix = _split(candidate)
    own_name, own_suffix = _split(protected)
    if not name or not own_name:
        return None
    if name == own_name:
        return "suffix" if suffix != own_suffix else None
    if skeleton(name) == skeleton(own_name):
        return "name"
    if (
        len(own_name) >= MIN_LABEL_FOR_EDIT_DISTANCE
        and DamerauLevenshtein.distance(name, own_name) <= 1
    ):
        return "name"
    return None


def _protected_domains(ctx: ScanContext) -> set[str]:
    if ctx.inbound:
        addresses: tuple[str, ...] = ctx.envelope.rcpt_tos
    else:
        addresses = (ctx.envelope.mail_from,)
    return {a.rpartition("@")[2].strip("<>").lower() for a in addresses if "@" in a}


def scan_phishing(ctx: ScanContext) -> list[Symbol]:
    found: list[Symbol] = []
    ip_hosts = [h for h in ctx.message.url_hosts if _is_ip(h)]
    if ip_hosts:
        found.append(Symbol("URL_IP_LITERAL", IP_LITERAL_SCORE, ", ".join(ip_hosts[:3])))
    for link in ctx.message.links:
        shown = _SHOWN_HOST.match(link.text.strip())
        target = url_host(link.href)
        if not shown or not target or _is_ip(target):
            continue
        shown_host = shown.group(1).lower()
        if organizational_domain(shown_host) != organizational_domain(target):
            detail = f"shows {shown_host}, goes to {target}"
            found.append(Symbol("PHISH_LINK_MISMATCH", LINK_MISMATCH_SCORE, detail))
            break
    protected = _protected_domains(ctx)
    candidates = {ctx.message.from_domain, ctx.sender_domain, *ctx.message.url_hosts}
    reply_to = ctx.message.header("Reply-To")
    if "@" in reply_to:
        candidates.add(reply_to.rpartition("@")[2].strip("<> ").lower())
    imitations = {
        (kind, f"{candidate} ~ {own}")
        for own in protected
        for candidate in candidates
        if candidate and not _is_ip(candidate) and (kind := lookalike(candidate, own))
    }
    names = sorted(detail for kind, detail in imitations if kind == "name")
    suffixes = sorted(detail for kind, detail in imitations if kind == "suffix")
    if names:
        found.append(Symbol("LOOKALIKE_DOMAIN", LOOKALIKE_SCORE, "; ".join(names)))
    elif suffixes:
        found.append(Symbol("LOOKALIKE_SUFFIX", LOOKALIKE_SUFFIX_SCORE, "; ".join(suffixes)))
    return found
