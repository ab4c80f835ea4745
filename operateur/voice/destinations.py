"""Where a call goes: the dialled number read once, its route class, and the barring rules of
VOX-01 (allowed countries, suspended destinations, value-added numbers), VOX-02 (no data or fax
calls where excluded) and the premium/IRSF blocklist.

A proxy may send a number as ``+33140000000``, ``0033140000000``, ``0140000000`` or
``33140000000``: :func:`dialled` reads them all (a digit string of 11 or more digits that does
not start with 0 is taken as E.164 without its ``+``). An emergency number behind the French
country code (``+33112``, ``0033112``), as a proxy normalising to E.164 sends it, is the
emergency number (VOX-02).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from operateur.catalog.terms import VoiceRules
from operateur.domain.numbering import FRENCH_EMERGENCY_NUMBERS, NumberInfo, NumberKind, classify
from operateur.errors import InvalidInput
from operateur.i18n import Text
from operateur.voice.decision import FORBIDDEN, NOT_FOUND, Refusal

#: Route classes returned to the proxy (``route`` of ``authorize``).
ROUTE_OF_KIND = {
    NumberKind.EMERGENCY: "emergency",
    NumberKind.GEOGRAPHIC: "fr_geographic",
    NumberKind.MOBILE: "fr_mobile",
    NumberKind.NON_GEOGRAPHIC: "fr_non_geographic",
    NumberKind.SPECIAL: "fr_special",
    NumberKind.SHORT: "fr_short",
    NumberKind.INTERNATIONAL: "international",
}

#: Short numbers free of charge for the caller (Arcep plan: 30PQ and 31PQ).
FREE_SHORT_PREFIXES = ("30", "31")
#: Surcharged special numbers (Arcep plan, 2015 reform: 081, 082 and 089 are "majorés").
SURCHARGED_SPECIAL_PREFIXES = ("081", "082", "089")


@dataclass(frozen=True)
class Dialled:
    """A dialled number: what it is, how it is priced and where it is routed."""

    info: NumberInfo
    rating_key: str | None  # E.164 digits priced by the rate deck; short numbers: 33 + digits
    route: str

    @property
    def is_emergency(self) -> bool:
        return self.info.is_emergency

    @property
    def is_international(self) -> bool:
        """Outside France and its overseas departments (a partial suspension may bar it)."""
        return not self.info.is_french

    @property
    def record_number(self) -> str:
        """The number as stored in the usage record: E.164, or the digits of an emergency
        number; short numbers as ``+33`` + digits, the key the rate deck prices them under."""
        if self.info.e164 is not None:
            return self.info.e164
        if self.rating_key is not None:
            return "+" + self.rating_key
        return self.info.national_number


def _written(raw: str) -> str:
    text = raw.strip()
    for country in ("+33", "0033"):
        rest = "".join(text.removeprefix(country).split())
        if text.startswith(country) and rest in FRENCH_EMERGENCY_NUMBERS:
            return rest
    if text.isdigit() and len(text) >= 11 and not text.startswith("0"):
        return "+" + text
    return text


@lru_cache(maxsize=65_536)
def dialled(raw: str) -> Dialled | None:
    """The dialled number, or ``None`` when it is not a valid, routable number."""
    try:
        info = classify(_written(raw))
    except InvalidInput:
        return None
    if info.kind is NumberKind.OTHER:
        return None
    route = ROUTE_OF_KIND[info.kind]
    if info.e164 is not None:
        key: str | None = info.e164.removeprefix("+")
    elif info.kind is NumberKind.SHORT:
        key = "33" + info.national_number
    else:
        key = None
    return Dialled(info=info, rating_key=key, route=route)


def national_form(info: NumberInfo) -> str | None:
    """``0140000000`` for a French number, the digits of a short number, else ``None``."""
    if info.kind is NumberKind.SHORT:
        return info.national_number
    if info.is_french and info.e164 is not None:
        return "0" + info.national_number
    return None


class PrefixSet:
    """A set of digit prefixes matched against a number (longest first)."""

    __slots__ = ("_labels", "_lengths")

    def __init__(self, prefixes: dict[str, str]) -> None:
        self._labels = dict(prefixes)
        self._lengths = sorted({len(p) for p in prefixes}, reverse=True)

    def match(self, digits: str) -> str | None:
        """The longest prefix of ``digits`` in the set, or ``None``."""
        for length in self._lengths:
            if length <= len(digits) and digits[:length] in self._labels:
                return digits[:length]
        return None

    def label(self, prefix: str) -> str:
        return self._labels[prefix]

    def __len__(self) -> int:
        return len(self._labels)


def read_prefix_file(text: str, *, first: str = "prefix") -> dict[str, str]:
    """``prefix -> label`` from a shipped prefix file: ``#`` comment lines, a header starting
    with ``prefix``, then ``prefix,label[,…]`` rows."""
    rows = csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))
    result: dict[str, str] = {}
    for row in rows:
        if not row or row[0] == first:
            continue
        prefix = row[0].strip()
        if not prefix.isdigit():
            raise ValueError(f"not a digit prefix: {prefix!r}")
        result[prefix] = row[1].strip() if len(row) > 1 else ""
    return result


def _data(name: str) -> str:
    return resources.files("operateur.voice").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=4)
def blocklist(path: Path | None = None) -> PrefixSet:
    """The premium/IRSF blocklist: the shipped file, or the operator's file at ``path``."""
    text = path.read_text(encoding="utf-8") if path else _data("blocked_prefixes.csv")
    return PrefixSet(read_prefix_file(text))


def _refused(cause: str, fr: str, en: str, rule: str = "VOX-01", code: int = FORBIDDEN) -> Refusal:
    return Refusal(code, rule, cause, Text(fr=fr, en=en))


NOT_A_NUMBER = _refused(
    "unknown_number",
    "le numéro appelé n'existe pas dans le plan de numérotation",
    "the number called does not exist in the numbering plan",
    code=NOT_FOUND,
)


def barring(
    call: Dialled,
    rules: VoiceRules,
    *,
    blocked: PrefixSet,
    suspended: PrefixSet,
    media: str = "audio",
) -> Refusal | None:
    """Why this destination is barred for a contract with these voice ``rules``, or ``None``.

    ``suspended`` holds the destinations the operator suspended (VOX-01 [001 §6]); ``media``
    is what the proxy saw in the offer (``audio``, ``fax``, ``data``)."""
    if media != "audio" and not rules.data_calls_and_fax:
        return _refused(
            "data_or_fax",
            "les appels data et fax ne sont pas acheminés par ce service",
            "data and fax calls are not carried by this service",
            rule="VOX-02",
        )
    key = call.rating_key or ""
    hit = blocked.match(key)
    if hit is not None:
        return _refused(
            "blocked_destination",
            f"destination +{hit} bloquée (numéros surtaxés internationaux, fraude IRSF)",
            f"destination +{hit} barred (international premium numbers, IRSF fraud)",
        )
    hit = suspended.match(key)
    if hit is not None:
        return _refused(
            "suspended_destination",
            f"destination +{hit} suspendue par l'opérateur",
            f"destination +{hit} suspended by the operator",
        )
    allowed = rules.allowed_countries
    region = call.info.region or ""
    if allowed is not None and region not in allowed:
        return _refused(
            "country_not_allowed",
            f"pays {region or '?'} hors de la liste des pays autorisés du contrat",
            f"country {region or '?'} is not among the contract's allowed countries",
        )
    if not rules.value_added_numbers_callable and is_value_added(call.info):
        return _refused(
            "value_added_number",
            "les numéros à valeur ajoutée ne sont pas joignables avec ce contrat",
            "value-added numbers cannot be called under this contract",
        )
    return None


def is_value_added(info: NumberInfo) -> bool:
    """A surcharged special number (081, 082, 089) or a short number that is not free."""
    if info.kind is NumberKind.SPECIAL:
        return ("0" + info.national_number).startswith(SURCHARGED_SPECIAL_PREFIXES)
    if info.kind is NumberKind.SHORT:
        return not info.national_number.startswith(FREE_SHORT_PREFIXES)
    return False


def prefixes_of(rows: Iterable[str]) -> PrefixSet:
    return PrefixSet({row: "" for row in rows})
