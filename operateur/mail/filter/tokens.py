"""The two views of a message the content classifier learns from:

- ``header_tokens``: prefixed tokens of the header — header names, words of the sender, the
  mailer and the organisation, domains of the addresses, relays (IP prefixes, host domains,
  words of the Received lines), the Message-ID's domain, the MIME structure and charsets, the
  shape of the subject, and consistency tokens (does the From domain agree with the
  Return-Path, the Message-ID, the relays, the links?);
- ``text_ngrams``: hashed byte n-grams (3 to 5 bytes) of the subject and the first 2,000
  characters of the text a reader sees, lower-cased, spaces collapsed. N-grams see through
  the spelling tricks of spam ("V1agra", "fr-ee") and need no language-specific tokenizer.

Every token carries a prefix naming where it was seen ("hfrom:" sender words, "rip:" relay
IP…). Headers that carry another filter's verdict (X-Spam-*, X-Virus-*) and the mbox "From "
line are never read: the classifier must judge the message, not a previous judge.
"""

from __future__ import annotations

import email.utils
import re

import numpy as np
import numpy.typing as npt

from operateur.mail.filter.domains import organizational_domain
from operateur.mail.filter.message import ParsedMessage

_WORD = re.compile(r"[^\W\d_][\w'$€%!-]{1,28}|\$\d[\d,.]*|\d{1,3}%", re.U)
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}\b")
_HOSTNAME = re.compile(r"\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b", re.I)
_ADDRESS_HEADERS = ("from", "reply-to", "to", "cc", "sender", "return-path")
_WORD_HEADERS = ("from", "reply-to", "x-mailer", "user-agent", "organization")
_SKIPPED_PREFIXES = ("x-spam", "x-virus")
_TEXT_CHARS = 2_000
_NGRAM_SIZES = (3, 4, 5)
_SPACES = re.compile(r"\s+")
_FNV_PRIME = np.uint64(0x100000001B3)


def _bucket(value: float, edges: tuple[float, ...]) -> int:
    for index, edge in enumerate(edges):
        if value < edge:
            return index
    return len(edges)


def _domain_suffixes(host: str) -> list[str]:
    """'a.b.example.com' -> ['a.b.example.com', 'b.example.com', 'example.com']."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 2, 0) + 1)]


def _same(org: str, other: str) -> str:
    return "none" if not other else ("same" if other == org else "other")


def consistency_tokens(message: ParsedMessage) -> list[str]:
    """Whether the message's parts tell one story: the From domain against the Return-Path,
    the Message-ID, the relays and the links; a date and recipients as a mail client writes
    them. Forged and bulk-tool mail often fails these; ordinary mail rarely."""
    out: list[str] = []
    received = message.headers("received")
    out.append(f"c:received-{_bucket(len(received), (1, 2, 3, 5, 8))}")
    from_org = organizational_domain(message.from_domain) if message.from_domain else ""
    if not from_org:
        out.append("c:no-from-domain")
    else:
        return_path = email.utils.parseaddr(message.header("return-path"))[1].lower()
        rp_org = organizational_domain(return_path.rpartition("@")[2]) if "@" in return_path else ""
        out.append("c:return-path-" + _same(from_org, rp_org))
        mid = message.header("message-id").lower().rpartition("@")[2].strip("> ")
        out.append("c:message-id-" + _same(from_org, organizational_domain(mid) if mid else ""))
        relays = {
            organizational_domain(h) for value in received for h in _HOSTNAME.findall(value.lower())
        }
        out.append("c:from-in-relays-" + ("yes" if from_org in relays else "no"))
        link_orgs = {organizational_domain(h) for h in message.url_hosts if not _IPV4.fullmatch(h)}
        if link_orgs:
            out.append("c:links-" + ("from" if from_org in link_orgs else "elsewhere"))
            out.append(f"c:link-domains-{_bucket(len(link_orgs), (2, 3, 5))}")
    to = message.header("to").lower()
    if not to:
        out.append("c:no-to")
    elif "undisclosed" in to or "recipient list" in to:
        out.append("c:to-undisclosed")
    date = message.header("date")
    parsed = email.utils.parsedate_tz(date) if date else None
    if not date:
        out.append("c:no-date")
    elif parsed is None:
        out.append("c:bad-date")
    elif parsed[9] is not None and (abs(parsed[9]) > 14 * 3600 or parsed[9] % 900):
        out.append("c:odd-timezone")
    if not message.header("message-id"):
        out.append("c:no-message-id")
    text = message.visible_text
    if text:
        sample = text[:5000]
        foreign = (len(sample) - len(sample.encode("ascii", "ignore"))) / len(sample)
        out.append(f"shape:non-ascii-{_bucket(foreign, (0.01, 0.05, 0.2))}")
    return out


def header_tokens(message: ParsedMessage) -> list[str]:
    """The classifier's view of the header, as a list of prefixed tokens."""
    out: list[str] = consistency_tokens(message)
    out.extend("hn:" + name.lower() for name in message.msg
               if not name.lower().startswith(_SKIPPED_PREFIXES))  # fmt: skip
    for name in _WORD_HEADERS:
        value = message.header(name).lower()
        if value:
            out.extend(f"h{name}:" + w for w in _WORD.findall(value))
    subject = message.header("subject")
    if subject:
        letters = [c for c in subject if c.isalpha()]
        upper = sum(1 for c in letters if c.isupper()) / len(letters) if letters else 0.0
        out.append(f"shape:subject-upper-{_bucket(upper, (0.3, 0.6, 0.9))}")
        out.append(f"shape:subject-len-{_bucket(len(subject), (10, 25, 50, 80))}")
    else:
        out.append("shape:no-subject")
    for name in _ADDRESS_HEADERS:
        for value in message.headers(name):
            for host in _HOSTNAME.findall(value.lower()):
                out.extend(f"a{name}:" + suffix for suffix in _domain_suffixes(host))
    for value in message.headers("received"):
        low = value.lower()
        addresses = _IPV4.findall(low)
        out.extend("rip:" + ".".join(m[:2]) for m in addresses)
        out.extend("rip3:" + ".".join(m) for m in addresses)
        out.extend("rh:" + ".".join(host.split(".")[-2:]) for host in _HOSTNAME.findall(low))
        out.extend("rw:" + w for w in _WORD.findall(low) if not w.startswith(("for", "by")))
    message_id = message.header("message-id").lower()
    if message_id:
        host = message_id.rpartition("@")[2].strip(">")
        out.append("mid:" + ".".join(host.split(".")[-2:]))
    for part in message.msg.walk():
        out.append("ct:" + part.get_content_type())
        charset = part.get_content_charset()
        if charset:
            out.append("cs:" + charset.lower())
        encoding = (part.get("content-transfer-encoding") or "").lower().strip()
        if encoding:
            out.append("cte:" + encoding)
    return out


def message_text(message: ParsedMessage) -> str:
    """What the n-grams are taken from: subject and visible text, lower-cased, spaces
    collapsed, cut at 2,000 characters."""
    text = message.header("subject") + " \n " + message.visible_text[: _TEXT_CHARS * 2]
    return _SPACES.sub(" ", text[:_TEXT_CHARS].lower())


def text_ngrams(message: ParsedMessage) -> npt.NDArray[np.uint64]:
    """64-bit FNV-1a-style hashes of every 3-, 4- and 5-byte window of ``message_text``."""
    data = np.frombuffer(message_text(message).encode("utf-8", "replace"), dtype=np.uint8)
    values = data.astype(np.uint64)
    found = []
    for size in _NGRAM_SIZES:
        if len(values) < size:
            break
        count = len(values) - size + 1
        hashes = np.full(count, np.uint64(size) * np.uint64(0x9E3779B9), dtype=np.uint64)
        for offset in range(size):
            hashes = (hashes ^ values[offset : offset + count]) * _FNV_PRIME
        found.append(hashes)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)
