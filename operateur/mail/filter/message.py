"""One parse of a raw message shared by every scanner: headers, decoded text, URLs, attachments.

Parsing is lenient (spam is often malformed): undecodable parts are read as latin-1 and a
broken MIME structure falls back to the raw payload, never an exception.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.message
import email.utils
import html
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

_TAG = re.compile(r"<[^>]*>", re.S)
_STYLE = re.compile(r"<(style|script)\b.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.S | re.I)
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_URL = re.compile(r"""\b(?:https?://|www\.)[^\s<>"'()\[\]{}]+""", re.I)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Attachment:
    """A non-text MIME part: its declared name and type, and its decoded bytes."""

    filename: str
    content_type: str
    payload: bytes


@dataclass(frozen=True)
class Link:
    """A link of an HTML part: where it goes and the text shown to the reader."""

    href: str
    text: str


def _decode_header(value: str | email.header.Header | None) -> str:
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return str(value)


def _payload_text(part: email.message.Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, AssertionError):  # broken transfer encoding
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return data.decode("latin-1")


def html_to_text(markup: str) -> str:
    """The text a reader sees in an HTML body (tags, styles, scripts, comments removed)."""
    markup = _COMMENT.sub(" ", _STYLE.sub(" ", markup))
    return html.unescape(_TAG.sub(" ", markup))


def url_host(url: str) -> str:
    """The lower-case host of a URL ("www.x.fr" for a scheme-less "www.x.fr/..."), or ""."""
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


@dataclass
class ParsedMessage:
    """A message parsed once; each property is computed on first use."""

    raw: bytes
    msg: email.message.Message = field(init=False)
    # decoded header values by lower-case name: several scanners read the same headers
    _decoded: dict[str, list[str]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.msg = email.message_from_bytes(self.raw)

    def header(self, name: str) -> str:
        """The decoded value of the first header `name`, "" when absent."""
        values = self.headers(name)
        return values[0] if values else ""

    def headers(self, name: str) -> list[str]:
        """The decoded values of every header `name`, in order (a list the caller must not
        change: it is shared)."""
        key = name.lower()
        found = self._decoded.get(key)
        if found is None:
            found = [_decode_header(v) for v in self.msg.get_all(name, [])]
            self._decoded[key] = found
        return found

    @cached_property
    def from_address(self) -> str:
        """The address of the From header (lower case), "" when missing."""
        return email.utils.parseaddr(self.header("From"))[1].lower()

    @cached_property
    def from_domain(self) -> str:
        return self.from_address.rpartition("@")[2]

    @cached_property
    def _parts(self) -> tuple[list[tuple[str, str]], list[Attachment]]:
        texts: list[tuple[str, str]] = []
        attachments: list[Attachment] = []
        for part in self.msg.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            filename = _decode_header(part.get_filename())
            disposition = (part.get("Content-Disposition") or "").lower()
            if ctype in ("text/plain", "text/html") and not (
                filename and "attachment" in disposition
            ):
                texts.append((ctype, _payload_text(part)))
                continue
            try:
                payload = part.get_payload(decode=True)
            except (ValueError, AssertionError):
                payload = None
            attachments.append(
                Attachment(
                    filename=filename,
                    content_type=ctype,
                    payload=payload if isinstance(payload, bytes) else b"",
                )
            )
        return texts, attachments

    @property
    def text_parts(self) -> list[tuple[str, str]]:
        """(content type, decoded text) of each text/plain and text/html body part."""
        return self._parts[0]

    @property
    def attachments(self) -> list[Attachment]:
        return self._parts[1]

    @cached_property
    def visible_text(self) -> str:
        """The text of the body as a reader sees it (HTML rendered to plain text)."""
        chunks = [
            html_to_text(text) if ctype == "text/html" else text for ctype, text in self.text_parts
        ]
        return _SPACES.sub(" ", " ".join(chunks))

    @cached_property
    def links(self) -> list[Link]:
        """The anchors of the HTML parts, with their visible text."""
        found: list[Link] = []
        for ctype, text in self.text_parts:
            if ctype != "text/html":
                continue
            for attrs, inner in _ANCHOR.findall(text):
                match = _HREF.search(attrs)
                if match:
                    href = html.unescape(next(g for g in match.groups() if g is not None))
                    shown = _SPACES.sub(" ", html.unescape(_TAG.sub(" ", inner))).strip()
                    found.append(Link(href=href.strip(), text=shown))
        return found

    @cached_property
    def urls(self) -> list[str]:
        """Every URL of the body: hrefs of the HTML parts and URLs written in the text."""
        seen: dict[str, None] = {}
        for link in self.links:
            if link.href.lower().startswith(("http://", "https://", "www.")):
                seen.setdefault(link.href, None)
        for _ctype, text in self.text_parts:
            for url in _URL.findall(text):
                seen.setdefault(url.rstrip(".,;:!?"), None)
        return list(seen)

    @cached_property
    def url_hosts(self) -> list[str]:
        hosts: dict[str, None] = {}
        for url in self.urls:
            host = url_host(url)
            if host:
                hosts.setdefault(host, None)
        return list(hosts)
