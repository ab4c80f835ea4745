"""The RIO (relevé d'identité opérateur) of a French number, needed to port it (VOX-15).

A RIO has 12 characters ``OO Q RRRRRR CCC`` (ARCEP décision 2009-0239, art. 10):

- ``OO``: the donor operator's code (two alphanumeric characters);
- ``Q``: the subscriber's quality: ``E`` or ``P`` for mobile lines, ``F`` to ``Z`` for fixed
  lines;
- ``RRRRRR``: the contract reference (six alphanumeric characters, ``+`` allowed);
- ``CCC``: a key tying the first nine characters to the 10-digit national number.

The key is computed, as published, over ``OO + Q + RRRRRR + the 10-digit number`` with the
37-symbol alphabet ``A``–``Z``, ``0``–``9``, ``+`` (values 0 to 36): for each character of value
``v``, ``a = (a + v) mod 37``, ``b = (2b + v) mod 37``, ``c = (4c + v) mod 37``, starting from 0;
the key is the symbols of ``a``, ``b`` and ``c``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from operateur.domain.numbering import FRANCE_COUNTRY_CODE, classify
from operateur.errors import InvalidInput
from operateur.i18n import Text

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+"  # values 0..36
MODULUS = len(ALPHABET)  # 37
LENGTH = 12  # OO Q RRRRRR CCC
_FORMAT = re.compile(r"[A-Z0-9]{2}[A-Z][A-Z0-9+]{6}[A-Z0-9+]{3}")

REASONS = {
    "rio_missing": Text(fr="le RIO est absent", en="the RIO is missing"),
    "bad_format": Text(
        fr="un RIO a 12 caractères « OO Q RRRRRR CCC » (A–Z, 0–9, +)",
        en="a RIO has 12 characters “OO Q RRRRRR CCC” (A–Z, 0–9, +)",
    ),
    "bad_quality": Text(
        fr="la qualité « {quality} » ne convient pas à un numéro {kind}",
        en="the quality “{quality}” does not fit a {kind} number",
    ),
    "not_french": Text(
        fr="le RIO ne sert qu'aux numéros français", en="a RIO is only for French numbers"
    ),
    "bad_key": Text(
        fr="la clé {key} ne correspond pas à ce numéro (attendue : {expected})",
        en="the key {key} does not match this number (expected: {expected})",
    ),
}


def key(operator: str, quality: str, reference: str, national_number: str) -> str:
    """The three-character key of a RIO for a 10-digit national number (``0140000000``)."""
    a = b = c = 0
    for char in operator + quality + reference + national_number:
        value = ALPHABET.index(char)
        a = (a + value) % MODULUS
        b = (2 * b + value) % MODULUS
        c = (4 * c + value) % MODULUS
    return ALPHABET[a] + ALPHABET[b] + ALPHABET[c]


@dataclass(frozen=True)
class RioCheck:
    rio: str
    number: str  # E.164
    valid: bool
    reason: str | None  # a key of REASONS
    operator: str | None = None
    quality: str | None = None
    reference: str | None = None
    key: str | None = None
    expected_key: str | None = None

    def message(self, lang: str) -> str | None:
        if self.reason is None:
            return None
        kind = "mobile" if self.quality in ("E", "P") else "fixe" if lang == "fr" else "fixed"
        return REASONS[self.reason].render(
            lang,
            quality=self.quality or "",
            kind=kind,
            key=self.key or "",
            expected=self.expected_key or "",
        )

    def as_dict(self, lang: str) -> dict[str, object]:
        return {
            "rio": self.rio,
            "number": self.number,
            "valid": self.valid,
            "reason": self.reason,
            "message": self.message(lang),
            "operator": self.operator,
            "quality": self.quality,
            "reference": self.reference,
            "key": self.key,
            "expected_key": self.expected_key,
        }


def national_number(e164: str) -> str | None:
    """``+33140000000`` -> ``0140000000``; None for a number outside France."""
    info = classify(e164)
    if info.e164 is None or info.country_code != FRANCE_COUNTRY_CODE:
        return None
    return "0" + info.national_number


def check(rio: str | None, number: str) -> RioCheck:
    """Whether ``rio`` is well formed and its key matches ``number`` (VOX-15 [001 §9.2]:
    "Numéro RIO erroné"). Raises :class:`InvalidInput` only when ``number`` is not a number."""
    e164 = classify(number, field="number").e164
    if e164 is None:
        raise InvalidInput(
            Text(fr="{number} ne se porte pas.", en="{number} cannot be ported."),
            field="number",
            details={"number": number},
        )
    text = (rio or "").replace(" ", "").upper()
    if not text:
        return RioCheck(text, e164, False, "rio_missing")
    if not _FORMAT.fullmatch(text):
        return RioCheck(text, e164, False, "bad_format")
    operator, quality, reference, given = text[:2], text[2], text[3:9], text[9:]
    parts = {"operator": operator, "quality": quality, "reference": reference, "key": given}
    national = national_number(e164)
    if national is None:
        return RioCheck(text, e164, False, "not_french", **parts)
    mobile = national[1] in "67"
    if not (quality in "EP" if mobile else "F" <= quality <= "Z"):
        return RioCheck(text, e164, False, "bad_quality", **parts)
    expected = key(operator, quality, reference, national)
    if expected != given:
        return RioCheck(text, e164, False, "bad_key", expected_key=expected, **parts)
    return RioCheck(text, e164, True, None, expected_key=expected, **parts)
