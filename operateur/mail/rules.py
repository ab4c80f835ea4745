"""Pure rules of the mail gateway: address and domain forms, list matching, forwarded mail,
retry delays, challenge periods. No I/O; every number comes in as an argument."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.message import Message

from operateur.errors import InvalidInput
from operateur.i18n import Text

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[^\s@<>()\[\],;:\"]{1,64}$")


def normalize_domain(raw: str, field: str = "name") -> str:
    """A domain name in lower-case ASCII (IDNA A-labels), checked label by label (RFC 1035 §2.3.4,
    RFC 5890): at least two labels, a top-level label that is not all digits."""
    text = raw.strip().rstrip(".").lower()
    try:
        ascii_name = text.encode("idna").decode("ascii") if text else ""
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if (
        not ascii_name
        or len(ascii_name) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(
            Text(fr="Nom de domaine invalide : {value}", en="Invalid domain name: {value}"),
            field=field,
            details={"value": raw},
        )
    return ascii_name


def normalize_address(raw: str, field: str = "address") -> str:
    """``local@domain`` in lower case with its domain in IDNA form; angle brackets removed."""
    text = raw.strip().removeprefix("<").removesuffix(">").strip()
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL.match(local):
        raise InvalidInput(
            Text(fr="Adresse email invalide : {value}", en="Invalid email address: {value}"),
            field=field,
            details={"value": raw},
        )
    return f"{local.lower()}@{normalize_domain(domain, field)}"


def domain_of(address: str) -> str:
    """The domain of an address (lower case), or "" for the null sender ``<>``."""
    return address.rpartition("@")[2].strip().rstrip(">").lower()


def normalize_list_value(raw: str, field: str = "value") -> str:
    """An allow/deny list entry: an address, or a whole domain written ``@example.com``."""
    text = raw.strip()
    if text.startswith("@"):
        return "@" + normalize_domain(text[1:], field)
    if "@" not in text:
        return "@" + normalize_domain(text, field)
    return normalize_address(text, field)


# Headers an intermediary adds when it forwards a message (RFC 5322 §3.6.6 resent fields; the
# X-Forwarded-* headers of common mail services).
FORWARDING_HEADERS = (
    "resent-from",
    "resent-sender",
    "resent-to",
    "x-forwarded-to",
    "x-forwarded-for",
)


def is_forwarded(headers: Message, mail_from: str) -> bool:
    """MAIL-04 mail forwarded by a third party: resent or forwarding headers, or an envelope
    sender rewritten by the Sender Rewriting Scheme (``SRS0=…``/``SRS1=…``)."""
    if any(headers.get(name) is not None for name in FORWARDING_HEADERS):
        return True
    local = mail_from.partition("@")[0].lower()
    return local.startswith(("srs0=", "srs1="))


def retry_delay(attempts: int, first_seconds: int, max_seconds: int) -> timedelta:
    """Delay before the next delivery attempt: ``first_seconds`` doubled after each failure
    (attempts counted from 1), never above ``max_seconds``."""
    exponent = max(0, attempts - 1)
    seconds = first_seconds * (2 ** min(exponent, 30))
    return timedelta(seconds=min(seconds, max_seconds))


def period_start(now: datetime, hours: int) -> datetime:
    """Start of the ``hours``-long period containing ``now`` (periods counted from the Unix
    epoch, UTC): one challenge per sender per period (MAIL-03)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    length = timedelta(hours=hours)
    return epoch + ((now - epoch) // length) * length


def declared_size(mail_options: Iterable[str]) -> int | None:
    """The ``SIZE=`` parameter of MAIL FROM (RFC 1870), if given."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None
