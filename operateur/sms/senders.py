"""Sender-ID (OADC) checks (SMS-05, AF2M rules).

A custom alphanumeric sender is refused automatically, with the rule named, when it:

- uses a sensitive name: the operator's list (``data/sensitive_senders.txt``) plus the offer's
  ``sensitive_sender_names``. Matching ignores case, accents, spaces and separators, accepts
  digit-for-letter swaps (``0range``, ``IMP0TS``) and finds the name inside a longer sender.
  A name of six letters or more is found anywhere (``AMELI-INFO`` is caught through ``AMELI``'s
  generic suffix, ``LaPoste2`` through ``LAPOSTE``); a shorter one (``EDF``, ``CAF``, ``BRED``)
  only as a word of its own or with generic words or digits around it (``MonEDF``,
  ``EDF-INFO``, ``BRED1``), so that ``CAFE`` or ``REDFOX`` stay allowed;
- is made of digits only, or of one letter and four digits in any order (``A1234``) — the
  offer's ``refused_sender_patterns`` say which of the two apply;
- is longer than 11 characters, or holds a character other than A–Z, a–z, 0–9, or a space,
  hyphen or full stop inside the name (no accents: handsets and networks do not all show them).

The short-code form (36xxx/38xxx) is the operator's shared number, never a customer's sender.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from operateur.catalog.terms import SenderPattern, SmsRules
from operateur.errors import InvalidInput
from operateur.i18n import Text

DATA_PACKAGE = "operateur.sms.data"
SENSITIVE_NAMES_FILE = "sensitive_senders.txt"

# 3GPP TS 23.040 §9.1.2.5: an alphanumeric originating address holds at most 11 characters
# (10 octets of packed 7-bit text); the AF2M rules for sender IDs use the same limit.
MAX_SENDER_LENGTH = 11

# A name this long (letters and digits, once folded) is refused wherever it appears in a sender.
_EMBEDDED_MIN_LENGTH = 6

# Digits and symbols that stand for a letter in an impersonating sender: 0range, IMP0TS, P4YPAL.
_LOOKALIKES: dict[str, str] = {
    "a": "4@",
    "b": "8",
    "e": "3€",
    "g": "9",
    "i": "1!|",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7",
}
_LOOKALIKE_SYMBOLS = "@€!|$"

# Generic words that may surround a short sensitive name without making it innocent (folded).
_GENERIC_WORDS = (
    "information",
    "informations",
    "notification",
    "notifications",
    "livraison",
    "securite",
    "paiement",
    "clientele",
    "officiel",
    "officielle",
    "official",
    "services",
    "service",
    "support",
    "payment",
    "contact",
    "clients",
    "client",
    "alertes",
    "alerte",
    "alerts",
    "alert",
    "france",
    "compte",
    "espace",
    "agence",
    "direct",
    "online",
    "enligne",
    "mobile",
    "secure",
    "equipe",
    "infos",
    "info",
    "notif",
    "votre",
    "ligne",
    "colis",
    "suivi",
    "team",
    "help",
    "aide",
    "secu",
    "sms",
    "mon",
    "mes",
    "vos",
    "ton",
    "tes",
    "les",
    "des",
    "pay",
    "web",
    "net",
    "app",
    "rdv",
    "pro",
    "fr",
    "ma",
    "ta",
    "le",
    "la",
    "de",
    "du",
    "en",
    "l",
    "d",
    "s",
)

_ALLOWED_CHARACTERS = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 .-]*[A-Za-z0-9])?")
_ACCEPTED_FR = "A–Z, a–z, 0–9, et l'espace, le tiret ou le point à l'intérieur du nom"
_ACCEPTED_EN = "A–Z, a–z, 0–9, and a space, hyphen or full stop inside the name"


class SenderRule(StrEnum):
    """Why a sender is refused (SMS-05)."""

    EMPTY = "empty"
    SENSITIVE_NAME = "sensitive_name"
    DIGITS_ONLY = "digits_only"  # SenderPattern.DIGITS_ONLY
    LETTER_AND_FOUR_DIGITS = "letter_and_four_digits"  # SenderPattern.LETTER_AND_FOUR_DIGITS
    TOO_LONG = "too_long"
    CHARACTERS = "characters"


@dataclass(frozen=True)
class SenderCheck:
    """The verdict on one sender: ``rule`` names the refusal, ``reason`` says it in words."""

    sender: str
    allowed: bool
    rule: SenderRule | None
    reason: Text
    matched_name: str | None = None

    def error(self) -> InvalidInput | None:
        """The ``InvalidInput`` that refuses this sender, or None when it is allowed."""
        if self.rule is None:
            return None
        template, details = _explain(self.rule, self.sender, self.matched_name)
        return InvalidInput(
            template, code=f"sender_{self.rule.value}", field="sender", details=dict(details)
        )


# --------------------------------------------------------------------------------------------
# Sensitive names
# --------------------------------------------------------------------------------------------


def _strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold_name(name: str) -> str:
    """A sensitive name as matched: lower case, no accents, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", _strip_accents(name).casefold())


def _fold_sender(sender: str) -> list[str]:
    """The words of a sender, folded, with the symbols that may stand for a letter kept."""
    folded = _strip_accents(sender).casefold()
    return [
        word for word in re.split(rf"[^a-z0-9{re.escape(_LOOKALIKE_SYMBOLS)}]+", folded) if word
    ]


@functools.lru_cache(maxsize=1)
def builtin_sensitive_names() -> tuple[str, ...]:
    """The operator's list of sensitive names (``data/sensitive_senders.txt``), read once."""
    text = resources.files(DATA_PACKAGE).joinpath(SENSITIVE_NAMES_FILE).read_text("utf-8")
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(name for name in names if name)


@dataclass(frozen=True)
class _Matcher:
    name: str  # as shown
    pattern: re.Pattern[str]  # the folded name, each letter with its lookalikes
    embedded: bool  # found anywhere, or only with generic words around it


def _letter_class(char: str) -> str:
    lookalikes = _LOOKALIKES.get(char)
    return f"[{re.escape(char + lookalikes)}]" if lookalikes else re.escape(char)


def _name_pattern(key: str) -> str:
    return "".join(_letter_class(char) for char in key)


@dataclass(frozen=True)
class _Matchers:
    names: tuple[_Matcher, ...]
    # What may surround a short name (generic words and other sensitive names), grouped by
    # length: every alternative of a pattern matches exactly that many characters.
    surroundings: tuple[tuple[int, re.Pattern[str]], ...]


@functools.lru_cache(maxsize=16)
def _matchers(extra_names: tuple[str, ...]) -> _Matchers:
    """One matcher per distinct folded name, the built-in list first, then ``extra_names``."""
    by_key: dict[str, str] = {}
    for name in (*builtin_sensitive_names(), *extra_names):
        key = fold_name(name)
        if key:
            by_key.setdefault(key, name)
    names = tuple(
        _Matcher(
            name=name,
            pattern=re.compile(f"(?=({_name_pattern(key)}))"),
            embedded=len(key) >= _EMBEDDED_MIN_LENGTH,
        )
        for key, name in by_key.items()
    )
    by_length: dict[int, set[str]] = {}
    for word in _GENERIC_WORDS:
        by_length.setdefault(len(word), set()).add(re.escape(word))
    for key in by_key:
        by_length.setdefault(len(key), set()).add(_name_pattern(key))
    surroundings = tuple(
        (length, re.compile("(?:" + "|".join(sorted(patterns)) + ")"))
        for length, patterns in sorted(by_length.items())
    )
    return _Matchers(names, surroundings)


def _only_surroundings(text: str, matchers: _Matchers) -> bool:
    """Whether ``text`` is made only of digits, generic words and sensitive names.

    A word-break over fixed-length pieces (linear in the text, no regex backtracking).
    """
    reachable = [False] * (len(text) + 1)
    reachable[0] = True
    for index, char in enumerate(text):
        if not reachable[index]:
            continue
        if char.isdigit():
            reachable[index + 1] = True
        for length, pattern in matchers.surroundings:
            if index + length <= len(text) and pattern.match(text, index):
                reachable[index + length] = True
    return reachable[-1]


def find_sensitive_name(sender: str, extra_names: tuple[str, ...] = ()) -> str | None:
    """The sensitive name ``sender`` uses, as the list writes it, or None."""
    words = _fold_sender(sender)
    compact = "".join(words)
    candidates = [compact, *words] if len(words) > 1 else [compact]
    matchers = _matchers(tuple(extra_names))
    for matcher in matchers.names:
        for candidate in candidates:
            for found in matcher.pattern.finditer(candidate):
                if matcher.embedded:
                    return matcher.name
                start, end = found.start(), found.start() + len(found.group(1))
                if _only_surroundings(candidate[:start], matchers) and _only_surroundings(
                    candidate[end:], matchers
                ):
                    return matcher.name
    return None


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------

_ALLOWED = Text(
    fr="Émetteur « {sender} » accepté (SMS-05).", en='Sender "{sender}" accepted (SMS-05).'
)
_REFUSED_FR = "Émetteur « {sender} » refusé (SMS-05) : "
_REFUSED_EN = 'Sender "{sender}" refused (SMS-05): '
_REASONS: dict[SenderRule, Text] = {
    SenderRule.EMPTY: Text(fr="L'émetteur est vide (SMS-05).", en="The sender is empty (SMS-05)."),
    SenderRule.SENSITIVE_NAME: Text(
        fr=_REFUSED_FR + "il reprend le nom sensible « {name} ».",
        en=_REFUSED_EN + 'it uses the sensitive name "{name}".',
    ),
    SenderRule.DIGITS_ONLY: Text(
        fr=_REFUSED_FR + "un émetteur fait uniquement de chiffres est interdit.",
        en=_REFUSED_EN + "a sender made of digits only is forbidden.",
    ),
    SenderRule.LETTER_AND_FOUR_DIGITS: Text(
        fr=_REFUSED_FR + "un émetteur fait d'une lettre et de quatre chiffres est interdit.",
        en=_REFUSED_EN + "a sender made of one letter and four digits is forbidden.",
    ),
    SenderRule.TOO_LONG: Text(
        fr=_REFUSED_FR + "{length} caractères pour {max_length} au plus.",
        en=_REFUSED_EN + "{length} characters for {max_length} at most.",
    ),
    SenderRule.CHARACTERS: Text(
        fr=_REFUSED_FR + "seuls sont acceptés " + _ACCEPTED_FR + ".",
        en=_REFUSED_EN + "only " + _ACCEPTED_EN + " are accepted.",
    ),
}


def _explain(rule: SenderRule | None, sender: str, name: str | None) -> tuple[Text, dict[str, Any]]:
    details: dict[str, Any] = {"sender": sender}
    if rule is None:
        return _ALLOWED, details
    if rule is SenderRule.EMPTY:
        return _REASONS[rule], {}
    if rule is SenderRule.SENSITIVE_NAME:
        details["name"] = name
    if rule is SenderRule.TOO_LONG:
        details.update(length=len(sender), max_length=MAX_SENDER_LENGTH)
    return _REASONS[rule], details


def _verdict(sender: str, rule: SenderRule | None, name: str | None = None) -> SenderCheck:
    template, details = _explain(rule, sender, name)
    reason = Text(fr=template.fr.format(**details), en=template.en.format(**details))
    return SenderCheck(sender, rule is None, rule, reason, name)


def check_sender(sender: str, rules: SmsRules | None = None) -> SenderCheck:
    """Whether ``sender`` may be requested as a custom OADC (SMS-05).

    With the offer's ``rules``, its refused patterns apply and its sensitive names are added to
    the operator's list; without, every pattern applies. The first failing rule is reported, in
    this order: sensitive name, digits only, one letter and four digits, length, characters.
    """
    if not sender.strip():
        return _verdict(sender, SenderRule.EMPTY)
    extra = rules.sensitive_sender_names if rules is not None else ()
    name = find_sensitive_name(sender, extra)
    if name is not None:
        return _verdict(sender, SenderRule.SENSITIVE_NAME, name)

    patterns = set(rules.refused_sender_patterns) if rules is not None else set(SenderPattern)
    alnum = re.sub(r"[^a-z0-9]", "", _strip_accents(sender).casefold())
    digits = sum(char.isdigit() for char in alnum)
    if SenderPattern.DIGITS_ONLY in patterns and alnum and digits == len(alnum):
        return _verdict(sender, SenderRule.DIGITS_ONLY)
    if SenderPattern.LETTER_AND_FOUR_DIGITS in patterns and len(alnum) == 5 and digits == 4:
        return _verdict(sender, SenderRule.LETTER_AND_FOUR_DIGITS)

    if len(sender) > MAX_SENDER_LENGTH:
        return _verdict(sender, SenderRule.TOO_LONG)
    if not _ALLOWED_CHARACTERS.fullmatch(sender):
        return _verdict(sender, SenderRule.CHARACTERS)
    return _verdict(sender, None)
