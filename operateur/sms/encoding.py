"""Count, check and split the text of an SMS (SMS-02, SMS-03).

Everything here is pure and reads the offer's ``SmsRules``: the allowed charset, whether UCS-2 is
allowed, the single and concatenated part lengths for GSM 7-bit and UCS-2, the length reserved for
the STOP mention and the maximum length. Nothing is hard-coded but the alphabets of the standard.

How a text is counted:

- **GSM 7-bit** when every character belongs to the offer's charset: one septet per character of
  the default alphabet, two for a character of the extension table (escape + code). The whole
  message is in one part when ``length + stop_mention_length <= part_length`` (160 - 10 = 150 in
  the 004 offer); otherwise each part holds ``concat_part_length`` septets (153, the rest of the
  140 octets carries the concatenation header) and the STOP mention is counted in the first part.
- **UCS-2** when a character is outside the charset and the offer allows Unicode: the length is
  counted in UTF-16 code units (a character beyond U+FFFF, such as most emoji, takes two), with
  ``ucs2_part_length`` / ``ucs2_concat_part_length`` (70/67) instead.
- Otherwise the message **fails** and every character at fault is named with its position (SMS-02).

The maximum length applies to the length counted in the message's unit, STOP mention included:
1224 in the 004 offer = 8 segments of 153, so 1224 - 10 = 1214 characters of text.

The STOP mention itself (SMS-06, the terms' ``stop_mention`` with the operator's short code, e.g.
"STOP 38100") is appended to the text as sent when the caller gives it (:func:`stop_mention`):
the analysis is then of the text as sent, the mention ending the last part and taking the
reserved characters. It is set apart by a line break when that costs no extra part and stays
within the maximum length (the break is never billed); otherwise it follows the text directly
(a text ending with a space or a line break needs nothing more). Without the mention (an offer
without one, or a check that does not know the short code) the reservation is counted inside
the first part, which gives the same part count.

Splitting never cuts a character: an extension character (two septets) or a character beyond
U+FFFF (two UTF-16 units, a surrogate pair) that would straddle a boundary moves whole to the next
part, which leaves the previous part one unit short. In UCS-2, a character is also kept with the
combining marks, variation selectors, skin-tone modifiers and zero-width joiners that follow it,
so that an accent or a composed emoji is not torn apart, unless the group is longer than a part.
"""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from operateur.catalog.terms import SmsCharset, SmsRules
from operateur.errors import InvalidInput
from operateur.i18n import Text

# --------------------------------------------------------------------------------------------
# Alphabets
# --------------------------------------------------------------------------------------------

ESCAPE = 0x1B  # 3GPP TS 23.038 §6.2.1 escape to the extension table

# 3GPP TS 23.038 §6.2.1 GSM 7-bit default alphabet, codes 0x00 to 0x7F in eight rows of 16.
# 0x0A is LF, 0x0D is CR, 0x1B is the escape to the extension table (not a character). The
# standard draws 0x09 as "Ç"; Unicode's GSM0338.TXT maps it to "ç": both are encoded as 0x09.
_DEFAULT_ALPHABET_ROWS = (
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ",  # 0x10-0x1F
    " !\"#¤%&'()*+,-./",  # 0x20-0x2F
    "0123456789:;<=>?",  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO",  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50-0x5F
    "¿abcdefghijklmno",  # 0x60-0x6F
    "pqrstuvwxyzäöñüà",  # 0x70-0x7F
)

#: Character -> code in the default alphabet (3GPP TS 23.038 §6.2.1).
GSM_DEFAULT_ALPHABET: Mapping[str, int] = MappingProxyType(
    {
        **{
            char: code
            for code, char in enumerate("".join(_DEFAULT_ALPHABET_ROWS))
            if code != ESCAPE
        },
        "ç": 0x09,  # Unicode GSM0338.TXT reading of 0x09 (the standard draws "Ç")
    }
)

#: Character -> code after the escape, each counting two septets (3GPP TS 23.038 §6.2.1.1).
GSM_EXTENSION_TABLE: Mapping[str, int] = MappingProxyType(
    {
        "\f": 0x0A,  # 3GPP TS 23.038 §6.2.1.1 page break (form feed)
        "^": 0x14,  # 3GPP TS 23.038 §6.2.1.1
        "{": 0x28,  # 3GPP TS 23.038 §6.2.1.1
        "}": 0x29,  # 3GPP TS 23.038 §6.2.1.1
        "\\": 0x2F,  # 3GPP TS 23.038 §6.2.1.1
        "[": 0x3C,  # 3GPP TS 23.038 §6.2.1.1
        "~": 0x3D,  # 3GPP TS 23.038 §6.2.1.1
        "]": 0x3E,  # 3GPP TS 23.038 §6.2.1.1
        "|": 0x40,  # 3GPP TS 23.038 §6.2.1.1
        "€": 0x65,  # 3GPP TS 23.038 §6.2.1.1
    }
)

#: SMS-02 [004 SMS annex §1] characters the annex lists that are not in GSM 03.38, sent as the
#: GSM character beside them: capitals À È Ù without their accent, and the annex's typographic
#: renderings of the apostrophe, quotation mark and hyphen.
RESTRICTED_SUBSTITUTES: Mapping[str, str] = MappingProxyType(
    {"À": "A", "È": "E", "Ù": "U", "‘": "'", "»": '"', "–": "-"}
)

# SMS-02 [004 SMS annex §1] "Caractères autorisés", line by line. Read as follows: "A à Z" is the
# Latin alphabet in both cases; space and line breaks are allowed; "‘ » –" stand for the
# apostrophe, quotation mark and hyphen (both forms accepted); the backslash is allowed since the
# annex counts it double. Compared with GSM 03.38 this leaves out "_" and the page break.
_RESTRICTED_CHARACTERS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # "A à Z"
    "0123456789"  # "0 à 9"
    "ÀÈÉÙèéùìòÇçÄÖÑÜØøÅåäöñüà"
    "ÆæßΔΦΓΛΩΠΨΣΘΞ"
    "@€£$¥‘»#¤%&()*+<=>.,–:;?¿!¡§^{}[]/|~"
    "'\"-"  # the GSM characters the annex prints as ‘ » –
    "\\"  # counted double by the annex
    " \n\r"  # space, line feed, carriage return
)

_CHARSETS: Mapping[SmsCharset, frozenset[str]] = MappingProxyType(
    {
        SmsCharset.GSM7: frozenset(GSM_DEFAULT_ALPHABET) | frozenset(GSM_EXTENSION_TABLE),
        SmsCharset.GSM7_RESTRICTED: frozenset(_RESTRICTED_CHARACTERS),
    }
)


def allowed_characters(charset: SmsCharset) -> frozenset[str]:
    """Every character a GSM 7-bit message may hold under ``charset``."""
    return _CHARSETS[charset]


def septets(char: str, charset: SmsCharset) -> int | None:
    """Septets ``char`` takes under ``charset`` (2 for the extension table), None if refused."""
    return _SEPTETS[charset].get(char)


#: :func:`septets` of every allowed character, by charset (a dict lookup per character: the
#: dispatcher analyses every message it sends).
_SEPTETS: Mapping[SmsCharset, dict[str, int]] = MappingProxyType(
    {
        charset: {char: 2 if char in GSM_EXTENSION_TABLE else 1 for char in allowed}
        for charset, allowed in _CHARSETS.items()
    }
)


def utf16_units(char: str) -> int:
    """UTF-16 code units of one character: 2 beyond U+FFFF (a surrogate pair), else 1."""
    return 2 if ord(char) > 0xFFFF else 1


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


class SmsEncoding(StrEnum):
    GSM7 = "gsm7"  # 3GPP TS 23.038 §6.2.1 default alphabet (SMPP data_coding 0)
    UCS2 = "ucs2"  # 3GPP TS 23.038 §4 16-bit (SMPP data_coding 8)


class SmsProblem(StrEnum):
    EMPTY = "empty"
    CHARACTERS = "characters"  # SMS-02
    TOO_LONG = "too_long"  # SMS-03


@dataclass(frozen=True)
class CharacterFault:
    """A character the message may not hold, at ``index`` (code points from 0) in the text."""

    character: str
    index: int

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.character):04X}"


@dataclass(frozen=True)
class SmsPart:
    """One part: ``sent_text[start:end]`` (code-point indices), ``length`` units out of
    ``capacity``.

    ``capacity`` is what the part offers: without an appended mention, the first part's excludes
    the characters reserved for it.
    """

    start: int
    end: int
    length: int
    capacity: int


@dataclass(frozen=True)
class SmsAnalysis:
    """How a text would be sent under an offer's rules.

    ``length`` is the text's own length in septets (GSM 7-bit) or UTF-16 code units (UCS-2);
    ``stop_reserved`` is the STOP mention's share, counted in the first part. When characters are
    refused, each is counted as one septet so that the parts still show the text's size.
    """

    text: str
    encoding: SmsEncoding
    length: int
    stop_reserved: int
    max_length: int
    parts: tuple[SmsPart, ...]
    faults: tuple[CharacterFault, ...]
    problem: SmsProblem | None
    reason: Text | None
    mention: str = ""  # SMS-06 what is appended to the text as sent (line break included)

    @property
    def sent_text(self) -> str:
        """The text as it goes out: the customer's text and the STOP mention."""
        return self.text + self.mention

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def part_count(self) -> int:
        return len(self.parts)

    @property
    def total_length(self) -> int:
        """The length checked against ``max_length``: the text plus the STOP mention."""
        return self.length + self.stop_reserved

    def part_texts(self) -> list[str]:
        """The parts as sent (the STOP mention, if any, ends the last one)."""
        sent = self.sent_text
        return [sent[part.start : part.end] for part in self.parts]

    def error(self) -> InvalidInput | None:
        """The ``InvalidInput`` that refuses this message, or None when it is valid."""
        if self.problem is None:
            return None
        template, details = _explain(self.problem, self)
        return InvalidInput(
            template, code=f"sms_{self.problem.value}", field="text", details=dict(details)
        )


_EMPTY = Text(fr="Le SMS est vide.", en="The SMS is empty.")
_CHARACTERS = Text(
    fr="Le SMS contient des caractères non autorisés (SMS-02) : {characters}, "
    "position(s) {positions}.",
    en="The SMS contains characters that are not allowed (SMS-02): {characters}, "
    "position(s) {positions}.",
)
_TOO_LONG = Text(
    fr="Le SMS est trop long (SMS-03) : {total} caractères comptés, dont {reserved} réservés à "
    "la mention STOP, pour {max_length} au plus.",
    en="The SMS is too long (SMS-03): {total} characters counted, {reserved} of them reserved "
    "for the STOP mention, for {max_length} at most.",
)


_MAX_POSITIONS_SHOWN = 10


def _positions(faults: tuple[CharacterFault, ...]) -> str:
    """The first positions (from 1) of the faults, "…" when there are more."""
    shown = ", ".join(str(fault.index + 1) for fault in faults[:_MAX_POSITIONS_SHOWN])
    return shown + (", …" if len(faults) > _MAX_POSITIONS_SHOWN else "")


def _explain(problem: SmsProblem, analysis: SmsAnalysis) -> tuple[Text, Mapping[str, Any]]:
    if problem is SmsProblem.EMPTY:
        return _EMPTY, {}
    if problem is SmsProblem.CHARACTERS:
        named: dict[str, str] = {}
        for fault in analysis.faults:
            named.setdefault(fault.character, f'"{fault.character}" ({fault.codepoint})')
        return _CHARACTERS, {
            "characters": ", ".join(named.values()),
            "positions": _positions(analysis.faults),
        }
    return _TOO_LONG, {
        "total": analysis.total_length,
        "reserved": analysis.stop_reserved,
        "max_length": analysis.max_length,
    }


# --------------------------------------------------------------------------------------------
# Analysis and splitting
# --------------------------------------------------------------------------------------------

_ZWJ = "\u200d"


def _is_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _extends(char: str) -> bool:
    """True for a character that belongs with the one before it (not a grapheme start)."""
    code = ord(char)
    return (
        char == _ZWJ
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
    )


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each group of characters kept together in UCS-2."""
    start, size = 0, len(text)
    while start < size:
        end = start + 1
        if _is_regional_indicator(text[start]) and end < size and _is_regional_indicator(text[end]):
            end += 1  # a flag is a pair of regional indicators
        while end < size and (_extends(text[end]) or text[end - 1] == _ZWJ):
            end += 1
        yield start, end
        start = end


def _pack(
    groups: Iterable[tuple[int, int]], costs: list[int], capacities: Iterator[int]
) -> list[SmsPart]:
    """Fill parts of the given capacities greedily with whole groups of characters.

    A group that does not fit in what is left of a part starts the next one. A group larger than
    an empty part is broken into its characters; a single character larger than an empty part
    (only possible with absurd terms) overflows it rather than looping forever.
    """
    pending = deque((start, end, sum(costs[start:end])) for start, end in groups)
    parts: list[SmsPart] = []
    capacity = next(capacities)
    part_start = used = 0
    while pending:
        start, end, cost = pending.popleft()
        if used + cost <= capacity:
            used += cost
            continue
        if used == 0:
            if end - start > 1:
                pending.extendleft(reversed([(i, i + 1, costs[i]) for i in range(start, end)]))
            else:
                used += cost
            continue
        parts.append(SmsPart(part_start, start, used, capacity))
        part_start, used = start, 0
        capacity = next(capacities)
        pending.appendleft((start, end, cost))
    parts.append(SmsPart(part_start, len(costs), used, capacity))
    return parts


#: SMS-06 what sets the STOP mention apart from the text, when it costs no extra part.
MENTION_SEPARATOR = "\n"


def stop_mention(rules: SmsRules, short_code: str) -> str:
    """The terms' STOP mention with the operator's short code ("" when the terms have none)."""
    if rules.stop_mention is None:
        return ""
    return rules.stop_mention.format(short_code=short_code)


def analyze(text: str, rules: SmsRules, mention: str = "") -> SmsAnalysis:
    """Encoding, length, parts and validity of ``text`` under the offer's ``rules``; with
    ``mention`` (:func:`stop_mention`), of the text as sent with the mention appended."""
    if not mention:
        return _analyze(text, rules, "")
    if not text or text[-1].isspace():
        return _analyze(text, rules, mention)
    apart = _analyze(text, rules, MENTION_SEPARATOR + mention)
    if apart.valid and apart.part_count == 1:
        return apart  # the common case: one analysis (nothing can take fewer parts)
    glued = _analyze(text, rules, mention)
    if apart.valid and apart.part_count == glued.part_count:
        return apart
    return glued


def _analyze(text: str, rules: SmsRules, appended: str) -> SmsAnalysis:
    sent = text + appended
    gsm = list(map(_SEPTETS[rules.charset].get, text))
    outside = [index for index, cost in enumerate(gsm) if cost is None] if None in gsm else []
    if outside and rules.allow_unicode:
        encoding = SmsEncoding.UCS2
        costs = [utf16_units(char) for char in sent]
        faulty = [index for index, char in enumerate(text) if _is_surrogate(char)]
        single, concat = rules.ucs2_part_length, rules.ucs2_concat_part_length
        groups: Iterable[tuple[int, int]] = _clusters(sent)
    else:
        encoding = SmsEncoding.GSM7
        costs = [1 if cost is None else cost for cost in gsm]
        default = _SEPTETS[SmsCharset.GSM7]
        costs += [default.get(char) or 1 for char in appended]
        faulty = outside
        single, concat = rules.part_length, rules.concat_part_length
        groups = ((index, index + 1) for index in range(len(sent)))

    length = sum(costs[: len(text)])
    added = sum(costs[len(text) :])
    # the reservation of the terms, or what the mention really takes when it is longer; the
    # part of the reservation the mention does not use is kept free in the first part
    reserved = max(rules.stop_mention_length, added)
    unused = reserved - added
    parts: tuple[SmsPart, ...] = ()
    if text:
        if length + reserved <= single:
            parts = (SmsPart(0, len(sent), length + added, single - unused),)
        else:
            capacities = itertools.chain([concat - unused], itertools.repeat(concat))
            parts = tuple(_pack(groups, costs, capacities))

    faults = tuple(CharacterFault(text[index], index) for index in faulty)
    problem: SmsProblem | None = None
    if not text:
        problem = SmsProblem.EMPTY
    elif faults:
        problem = SmsProblem.CHARACTERS
    elif length + reserved > rules.max_length:
        problem = SmsProblem.TOO_LONG

    analysis = SmsAnalysis(
        text=text,
        encoding=encoding,
        length=length,
        stop_reserved=reserved,
        max_length=rules.max_length,
        parts=parts,
        faults=faults,
        problem=problem,
        reason=None,
        mention=appended,
    )
    if problem is None:
        return analysis
    template, details = _explain(problem, analysis)
    reason = Text(fr=template.fr.format(**details), en=template.en.format(**details))
    return dataclasses.replace(analysis, reason=reason)


def split(text: str, rules: SmsRules, mention: str = "") -> list[str]:
    """The parts of ``text`` as sent (with ``mention`` appended as :func:`analyze` does);
    raises ``InvalidInput`` when the message is refused."""
    analysis = analyze(text, rules, mention)
    error = analysis.error()
    if error is not None:
        raise error
    return analysis.part_texts()


# --------------------------------------------------------------------------------------------
# Wire encoding
# --------------------------------------------------------------------------------------------


# Default-alphabet characters sent as themselves (no substitute): a part made only of them is
# encoded in one pass in C (``str.translate``), the common case on the dispatcher's hot path.
_PLAIN = frozenset(char for char in GSM_DEFAULT_ALPHABET if char not in RESTRICTED_SUBSTITUTES)
_PLAIN_TABLE = {ord(char): chr(GSM_DEFAULT_ALPHABET[char]) for char in _PLAIN}


def encode(text: str, encoding: SmsEncoding) -> bytes:
    """The bytes of one part: GSM 7-bit unpacked (one septet per octet, escape + code for the
    extension table, the restricted charset's substitutes applied) or UCS-2 big-endian."""
    if encoding is SmsEncoding.UCS2:
        try:
            return text.encode("utf-16-be")
        except UnicodeEncodeError as exc:
            bad = text[exc.start]
            raise _unencodable(bad, exc.start) from None
    if _PLAIN.issuperset(text):
        return text.translate(_PLAIN_TABLE).encode("latin-1")
    out = bytearray()
    for index, char in enumerate(text):
        sent = RESTRICTED_SUBSTITUTES.get(char, char)
        code = GSM_DEFAULT_ALPHABET.get(sent)
        if code is not None:
            out.append(code)
            continue
        code = GSM_EXTENSION_TABLE.get(sent)
        if code is None:
            raise _unencodable(char, index)
        out += bytes((ESCAPE, code))
    return bytes(out)


def _unencodable(char: str, index: int) -> InvalidInput:
    fault = CharacterFault(char, index)
    return InvalidInput(
        _CHARACTERS,
        code="sms_characters",
        field="text",
        details={
            "characters": f'"{char}" ({fault.codepoint})',
            "positions": str(index + 1),
        },
    )
