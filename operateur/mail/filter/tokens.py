"""The two views of a message the content classifier learns from:

- ``header_tokens``: prefixed tokens of the header — header names, words of the sender, the
  mailer and the organisation, domains of the addresses, relays (IP prefixes, host domains,
  words of the Received lines), the Message-ID's domain, the MIME structure and charsets, the
  shape of the subject, and consistency tokens (does the From domain agree with the
  Return-Path, the Message-ID, the relays, the links?);
- ``text_ngrams``: hashed byte n-grams (3 to 5 bytes) of the subject and the first 2,000
  characters of the text a reader sees, lower-cased, spaces collapsed. N-grams see through
  the spelling tricks of spam ("V1agra", "fr-ee") and need no language-specific tokenizer;
- ``structure_tokens``: the shape of the message rather than its words — the consistency
  tokens, the sending hop (HELO against reverse DNS, relays without reverse DNS), the Date
  against the first relay's clock, a Message-ID written by a relay, which bulk and list
  headers are present, HTML-only or with a plain part, text-to-markup ratio, counts of
  links, link domains and images. Few tokens, so the classifier weighs this block less
  (``classifier.BLOCK_WEIGHTS``).

``mailing_list`` tells mail that came through a discussion list's manager from mail sent
directly: the classifier has one operating point for each (``classifier.train``).

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
_RECEIVED_FROM = re.compile(r"from\s+(\S+)\s+\(([^)]*)\)", re.I)
_RECEIVED_BY = re.compile(r"\bby\s+([\w.-]+)")
_DAY = 86_400
_DATE_SKEW_EDGES = (-30 * _DAY, -_DAY, -3 * 3600, -600, 600, 3 * 3600, _DAY)
_PRESENCE_HEADERS = (
    "list-id", "list-unsubscribe", "precedence", "x-mailer", "user-agent", "x-mailing-list",
    "mailing-list", "sender", "errors-to", "in-reply-to", "references", "x-msmail-priority",
    "x-priority", "organization", "mime-version",
)  # fmt: skip
_SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd"})
_ZERO_WIDTH = ("\u200b", "\u200c", "\ufeff")
# headers only a mailing-list manager writes (RFC 2919 List-Id, RFC 2369 List-Post, Mailman's
# X-BeenThere, ezmlm's Mailing-List, others' X-Mailing-List)
LIST_MANAGER_HEADERS = frozenset(
    {"list-id", "list-post", "x-beenthere", "mailing-list", "x-mailing-list"}
)
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


def mailing_list(message: ParsedMessage) -> bool:
    """Whether the message came through a mailing-list manager (a header only one writes)."""
    return any(name.lower() in LIST_MANAGER_HEADERS for name in message.msg)


def _date_skew_token(message: ParsedMessage, received: list[str]) -> str | None:
    """The Date header against the clock of the first relay (the last Received line with a
    readable date)."""
    date = message.header("date")
    parsed = email.utils.parsedate_tz(date) if date else None
    if parsed is None:
        return None
    for value in reversed(received):
        stamp = email.utils.parsedate_tz(value.rpartition(";")[2].strip()) if ";" in value else None
        if stamp:
            try:
                skew = email.utils.mktime_tz(parsed) - email.utils.mktime_tz(stamp)
            except (OverflowError, ValueError):
                return "s:date-bad"
            return f"s:date-skew-{_bucket(skew, _DATE_SKEW_EDGES)}"
    return None


def _sending_hop_tokens(received: list[str]) -> list[str]:
    """The first relay's view of the sender: a HELO that is an IP address or a bare name,
    a HELO in another domain than the reverse DNS."""
    match = _RECEIVED_FROM.search(received[-1]) if received else None
    if not match:
        return []
    out = []
    helo, inner = match.group(1).lower(), match.group(2).lower()
    words = inner.split()
    reverse = words[0] if words else ""
    if _IPV4.fullmatch(helo.strip("[]")):
        out.append("s:helo-ip")
    elif "." not in helo:
        out.append("s:helo-bare")
    if "." in reverse and "." in helo:
        same = organizational_domain(reverse) == organizational_domain(helo)
        out.append("s:helo-rdns-" + ("same" if same else "other"))
    return out


def structure_tokens(message: ParsedMessage, consistency: list[str] | None = None) -> list[str]:
    """The shape of the message (see the module docstring), as prefixed tokens."""
    out = list(consistency if consistency is not None else consistency_tokens(message))
    received = message.headers("received")
    unknown = sum("unknown" in value.lower() for value in received)
    out.append(f"s:unknown-relay-{min(unknown, 3)}")
    if any("may be forged" in value.lower() for value in received):
        out.append("s:may-be-forged")
    skew = _date_skew_token(message, received)
    if skew:
        out.append(skew)
    relays = {
        organizational_domain(host)
        for value in received
        for host in _RECEIVED_BY.findall(value.lower())
    }
    mid = message.header("message-id").lower().rpartition("@")[2].strip("> ")
    if mid and organizational_domain(mid) in relays:
        out.append("s:mid-from-relay")
    out.extend(_sending_hop_tokens(received))
    names = {name.lower() for name in message.msg}
    out.extend(f"s:has-{name}-{int(name in names)}" for name in _PRESENCE_HEADERS)
    out.append("s:top-" + message.msg.get_content_type())
    types = [ctype for ctype, _ in message.text_parts]
    if types and all(t == "text/html" for t in types):
        out.append("s:html-only")
    else:
        out.append("s:has-plain" if "text/plain" in types else "s:no-text")
    html_parts = [text for ctype, text in message.text_parts if ctype == "text/html"]
    html_length = sum(len(text) for text in html_parts)
    visible = len(message.visible_text)
    if html_length:
        ratio = visible / html_length
        out.append(f"s:text-markup-{_bucket(ratio, (0.1, 0.2, 0.35, 0.5, 0.7))}")
    out.append(f"s:text-len-{_bucket(visible, (50, 200, 500, 1500, 5000, 20000))}")
    out.append(f"s:urls-{_bucket(len(message.urls), (1, 2, 4, 8, 16, 32))}")
    hosts = message.url_hosts
    orgs = {organizational_domain(h) for h in hosts if not _IPV4.fullmatch(h)}
    out.append(f"s:url-orgs-{_bucket(len(orgs), (1, 2, 3, 5, 8))}")
    if any(_IPV4.fullmatch(h) for h in hosts):
        out.append("s:url-ip")
    if any(h.split(":")[0] in _SHORTENERS for h in hosts):
        out.append("s:url-shortener")
    if any(mark in message.visible_text for mark in _ZERO_WIDTH):
        out.append("s:zero-width")
    lowered = [text.lower() for text in html_parts]
    images = sum(text.count("<img") for text in lowered)
    out.append(f"s:imgs-{_bucket(images, (1, 2, 4, 8))}")
    out.append(f"s:rcv-{_bucket(len(received), (1, 2, 3, 4, 5, 6, 8, 10))}")
    if any(text.count("<font") > 3 for text in lowered):
        out.append("s:many-font")
    return out


def header_tokens(message: ParsedMessage, consistency: list[str] | None = None) -> list[str]:
    """The classifier's view of the header, as a list of prefixed tokens."""
    out = list(consistency if consistency is not None else consistency_tokens(message))
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
