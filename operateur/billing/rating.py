"""Rating of voice usage: rate decks, longest-prefix match, billing steps and call costs.

Rules: BIL-09 (billing steps imposed per destination, a minimum duration billed per answered
call [002 §24.2.3, §24.2.5]) and BIL-01 (consumption is billed in arrears: this module rates a
period's call records; the invoice run comes after).

Rate deck
    A CSV file whose header starts with ``prefix,destination,price_per_minute,connection_fee,
    steps,min_seconds`` (further columns are ignored), one rate per prefix, e.g.
    ``33,France fixe,0.012,0,60/60,0``. :func:`parse_deck` reads it all or nothing: any bad row
    raises :class:`~operateur.errors.InvalidInput` whose ``details["rows"]`` lists every problem.

Billing a call (BIL-09)
    Only ``ANSWERED`` calls cost something. The billable duration is ``end - answer`` rounded up
    to the whole second. The billed duration is ``first`` step for any call that lasted, then
    whole ``next`` steps, and never less than ``min_seconds``::

        billed = max(min_seconds, 0 if d == 0 else first if d <= first
                     else first + ceil((d - first) / next) * next)

    An answered call of zero seconds is billed ``min_seconds`` and the connection fee.

Rounding (named, applied once each)
    :data:`CALL_ROUNDING` — a call costs ``connection_fee + price_per_minute * billed / 60``,
    computed exactly and rounded ``ROUND_HALF_UP`` to the micro-euro (6 decimals, the precision
    of the deck). :data:`TOTAL_ROUNDING` — a total is the exact sum of the rounded call costs
    (:attr:`RatingResult.total_exact`), rounded ``ROUND_HALF_UP`` to the cent
    (:func:`operateur.domain.money.round_money`). Summing the costs shown gives the exact total
    to the last digit; the amount to invoice is that sum rounded to the cent.

Fast path
    :func:`rate_batch` rates NumPy arrays with exact int64 arithmetic (micro-euros and seconds)
    and a vectorised longest-prefix match (:class:`CompiledDeck`); it gives the same results as
    the per-record path :func:`rate_call` (the tests check it on random data).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from operateur.domain.money import round_money
from operateur.errors import InvalidInput
from operateur.i18n import DEFAULT_LANG, Text

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CURRENCY: Final = "EUR"

DECK_COLUMNS: Final = (
    "prefix",
    "destination",
    "price_per_minute",
    "connection_fee",
    "steps",
    "min_seconds",
)
USAGE_COLUMNS: Final = (
    "call_id",
    "account",
    "caller",
    "callee",
    "start",
    "answer",
    "end",
    "disposition",
)

#: Precision of deck amounts and of a call's cost: the micro-euro.
MICRO: Final = Decimal("0.000001")
MICROS_PER_EURO: Final = 1_000_000
#: Name of the rounding of one call's cost: half up to the micro-euro.
CALL_ROUNDING: Final = "per call ROUND_HALF_UP to 0.000001 EUR"
#: Name of the rounding of a total: exact sum of call costs, half up to the cent.
TOTAL_ROUNDING: Final = "total ROUND_HALF_UP to 0.01 EUR"

#: ITU-T E.164 §6.1: an international number has at most 15 digits.
MAX_NUMBER_DIGITS: Final = 15
#: Sanity bounds of a deck, which also keep the fast path's int64 arithmetic exact:
#: prices and fees below one million euros, steps and minimum durations of at most one day.
MAX_AMOUNT: Final = Decimal(1_000_000)
MAX_STEP_SECONDS: Final = 86_400
#: Sanity bound of a call record: a call billed for more than 31 days is rejected, not rated.
MAX_CALL_SECONDS: Final = 31 * 86_400

_DIGITS = re.compile(r"[0-9]+")
_E164 = re.compile(r"\+?([1-9][0-9]{0,14})")
_PREFIX = re.compile(r"[1-9][0-9]{0,14}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_STEPS = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")

#: What each ``reason`` code of a bad deck row or a rejected call record means. Placeholders
#: are filled from the row (``value``, ``first_line``, ``line``, ``field``).
REASONS: Mapping[str, Text] = MappingProxyType(
    {
        "empty_file": Text(
            fr="fichier vide : l'en-tête est absent", en="empty file: the header is missing"
        ),
        "bad_header": Text(fr="en-tête inattendu « {value} »", en="unexpected header “{value}”"),
        "bad_csv": Text(fr="ligne CSV illisible ({value})", en="unreadable CSV line ({value})"),
        "no_rates": Text(fr="la grille ne contient aucun tarif", en="the deck holds no rate"),
        "missing_fields": Text(fr="{value} colonne(s) seulement", en="only {value} column(s)"),
        "required": Text(fr="valeur obligatoire", en="a value is required"),
        "not_digits": Text(fr="« {value} » : des chiffres seulement", en="“{value}”: digits only"),
        "too_long": Text(
            fr="« {value} » : au plus 15 chiffres (E.164)",
            en="“{value}”: at most 15 digits (E.164)",
        ),
        "not_e164": Text(
            fr="« {value} » : un préfixe E.164 ne commence pas par 0",
            en="“{value}”: an E.164 prefix does not start with 0",
        ),
        "duplicate_prefix": Text(
            fr="préfixe {value} déjà défini ligne {first_line}",
            en="prefix {value} already defined on line {first_line}",
        ),
        "not_a_number": Text(fr="« {value} » n'est pas un nombre", en="“{value}” is not a number"),
        "negative": Text(
            fr="« {value} » : une valeur négative est interdite",
            en="“{value}”: a negative value is not allowed",
        ),
        "too_many_decimals": Text(
            fr="« {value} » : au plus 6 décimales", en="“{value}”: at most 6 decimal places"
        ),
        "too_large": Text(fr="« {value} » : valeur trop grande", en="“{value}”: value too large"),
        "invalid_steps": Text(
            fr="« {value} » : paliers attendus sous la forme PREMIER/SUIVANT en secondes, "
            "chacun au moins 1 (ex. 60/60, 30/6)",
            en="“{value}”: steps must read FIRST/NEXT in seconds, each at least 1 "
            "(e.g. 60/60, 30/6)",
        ),
        "not_an_integer": Text(
            fr="« {value} » n'est pas un nombre entier de secondes",
            en="“{value}” is not a whole number of seconds",
        ),
        "duplicate_call_id": Text(
            fr="appel {value} déjà présent ligne {first_line}",
            en="call {value} already present on line {first_line}",
        ),
        "invalid_number": Text(
            fr="« {value} » n'est pas un numéro E.164",
            en="“{value}” is not an E.164 number",
        ),
        "invalid_time": Text(
            fr="« {value} » n'est pas une date et heure ISO 8601",
            en="“{value}” is not an ISO 8601 date and time",
        ),
        "no_timezone": Text(
            fr="« {value} » : le décalage horaire (ou Z) est obligatoire",
            en="“{value}”: the UTC offset (or Z) is required",
        ),
        "unknown_disposition": Text(
            fr="« {value} » : statut inconnu (ANSWERED, NO ANSWER, BUSY, FAILED)",
            en="“{value}”: unknown disposition (ANSWERED, NO ANSWER, BUSY, FAILED)",
        ),
        "answer_missing": Text(
            fr="appel décroché sans heure de décroché",
            en="answered call without an answer time",
        ),
        "answer_unexpected": Text(
            fr="heure de décroché « {value} » sur un appel non décroché",
            en="answer time “{value}” on a call that was not answered",
        ),
        "answer_before_start": Text(
            fr="décroché « {value} » avant le début de l'appel",
            en="answer “{value}” before the start of the call",
        ),
        "end_before_start": Text(
            fr="fin « {value} » avant le début de l'appel",
            en="end “{value}” before the start of the call",
        ),
        "end_before_answer": Text(
            fr="fin « {value} » avant le décroché", en="end “{value}” before the answer"
        ),
        "duration_too_long": Text(
            fr="durée de {value} s au-delà de 31 jours",
            en="duration of {value} s beyond 31 days",
        ),
        "no_matching_prefix": Text(
            fr="aucun préfixe de la grille pour {value}",
            en="no prefix of the deck matches {value}",
        ),
    }
)


def describe_reason(row: Mapping[str, Any], lang: str = DEFAULT_LANG) -> str:
    """The meaning of a bad deck row or a rejection (``reason`` and its values) in ``lang``."""
    reason = str(row.get("reason", ""))
    text = REASONS.get(reason)
    if text is None:
        return reason
    params = {"value": "", "first_line": "", **row}
    try:
        return text.render(lang, **params)
    except (KeyError, IndexError):
        return reason


# --------------------------------------------------------------------------------------------
# Rates and decks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """The price of calls to one prefix (BIL-09: steps and minimum duration per destination)."""

    prefix: str
    destination: str
    price_per_minute: Decimal
    connection_fee: Decimal
    first_step: int
    next_step: int
    min_seconds: int
    line: int = 0  # line of the deck file it was read from (0: built in code)

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"prefix must be 1 to 15 digits not starting with 0: {self.prefix!r}")
        for name in ("price_per_minute", "connection_fee"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not 0 <= value < MAX_AMOUNT:
                raise ValueError(f"{name} must be a Decimal in [0, {MAX_AMOUNT})")
            if value.quantize(MICRO) != value:
                raise ValueError(f"{name} has more than 6 decimal places")
        if not (
            1 <= self.first_step <= MAX_STEP_SECONDS and 1 <= self.next_step <= MAX_STEP_SECONDS
        ):
            raise ValueError("steps must be between 1 and 86400 seconds")
        if not 0 <= self.min_seconds <= MAX_STEP_SECONDS:
            raise ValueError("min_seconds must be between 0 and 86400")

    @property
    def steps(self) -> str:
        """The steps as written in a deck: ``"60/60"``, ``"30/6"``."""
        return f"{self.first_step}/{self.next_step}"

    def billed_seconds(self, duration: int) -> int:
        """Seconds billed for an answered call of ``duration`` whole seconds (BIL-09)."""
        if duration < 0:
            raise ValueError("duration must be >= 0")
        if duration == 0:
            stepped = 0
        elif duration <= self.first_step:
            stepped = self.first_step
        else:
            extra_steps = -(-(duration - self.first_step) // self.next_step)  # ceiling
            stepped = self.first_step + extra_steps * self.next_step
        return max(self.min_seconds, stepped)

    def cost(self, billed_seconds: int) -> Decimal:
        """Cost of an answered call billed ``billed_seconds``: :data:`CALL_ROUNDING`."""
        with localcontext() as context:
            # 60 significant digits: price x seconds is exact and the quotient by 60 is rounded
            # some 40 digits below the micro-euro, where it cannot cross a half (n/60 is either
            # exactly a half or at least 1/60 of a micro-euro away from one).
            context.prec = 60
            usage = self.price_per_minute * billed_seconds / 60
            rounded = usage.quantize(MICRO, rounding=ROUND_HALF_UP)
            return (self.connection_fee + rounded).quantize(MICRO)


def e164_digits(raw: str) -> str | None:
    """The digits of an E.164 number written with or without ``+`` (``"33140000000"``), or
    ``None`` when ``raw`` is not 1 to 15 digits starting with 1–9."""
    match = _E164.fullmatch(raw.strip())
    return match.group(1) if match else None


class RateDeck:
    """An immutable set of rates, at most one per prefix, matched by longest prefix."""

    __slots__ = ("_by_prefix", "_compiled", "_max_length", "_rates")

    def __init__(self, rates: Sequence[Rate]) -> None:
        by_prefix: dict[str, Rate] = {}
        for rate in rates:
            if rate.prefix in by_prefix:
                raise ValueError(f"duplicate prefix {rate.prefix}")
            by_prefix[rate.prefix] = rate
        self._rates = tuple(rates)
        self._by_prefix = by_prefix
        self._max_length = max((len(prefix) for prefix in by_prefix), default=0)
        self._compiled: CompiledDeck | None = None

    @property
    def rates(self) -> tuple[Rate, ...]:
        return self._rates

    def __len__(self) -> int:
        return len(self._rates)

    def __repr__(self) -> str:
        return f"RateDeck({len(self._rates)} rates)"

    def find_rate(self, number: str) -> Rate | None:
        """The rate of the longest prefix of ``number`` (E.164, with or without ``+``), or
        ``None`` when no prefix matches. Raises :class:`InvalidInput` if ``number`` is not an
        E.164 number."""
        digits = e164_digits(number)
        if digits is None:
            raise InvalidInput(
                Text(
                    fr="Numéro invalide : « {number} » n'est pas un numéro E.164.",
                    en="Invalid number: “{number}” is not an E.164 number.",
                ),
                field="number",
                details={"number": number},
            )
        return self.match_digits(digits)

    def match_digits(self, digits: str) -> Rate | None:
        """The rate of the longest prefix of ``digits`` (an E.164 number without ``+``)."""
        for length in range(min(len(digits), self._max_length), 0, -1):
            rate = self._by_prefix.get(digits[:length])
            if rate is not None:
                return rate
        return None

    def index_of(self, rate: Rate) -> int:
        """Position of ``rate`` in :attr:`rates` (the index the fast path reports)."""
        return self._rates.index(rate)

    def compile(self) -> CompiledDeck:
        """The deck as arrays for :func:`rate_batch` (built once, then cached)."""
        if self._compiled is None:
            self._compiled = CompiledDeck(self)
        return self._compiled


def _deck_error(rows: list[dict[str, Any]]) -> InvalidInput:
    def order(row: dict[str, Any]) -> tuple[int, int]:
        field = row["field"]
        return row["line"], DECK_COLUMNS.index(field) if field in DECK_COLUMNS else -1

    rows.sort(key=order)
    return InvalidInput(
        Text(
            fr="Grille tarifaire invalide : {count} erreur(s), aucun tarif n'est chargé.",
            en="Invalid rate deck: {count} error(s), no rate is loaded.",
        ),
        field="deck",
        details={"count": len(rows), "rows": rows},
    )


class _BrokenCsv(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` for each non-blank CSV record, ``line`` being where it starts."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    last_line = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _BrokenCsv(last_line + 1, str(error)) from None
        line = last_line + 1
        last_line = reader.line_num
        if any(field.strip() for field in fields):
            yield line, fields


def _row(line: int, field: str, reason: str, value: str = "", **extra: Any) -> dict[str, Any]:
    return {"line": line, "field": field, "reason": reason, "value": value, **extra}


def _parse_amount(raw: str) -> Decimal | str:
    """A deck amount (≥ 0, at most 6 decimals, below :data:`MAX_AMOUNT`), or a reason code."""
    text = raw.strip()
    if not text:
        return "required"
    if not _DECIMAL.fullmatch(text):
        return "not_a_number"
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return "not_a_number"
    if value < 0:
        return "negative"
    if value >= MAX_AMOUNT:
        return "too_large"
    if value.quantize(MICRO) != value:
        return "too_many_decimals"
    return abs(value.quantize(MICRO))  # "-0" is zero


def _parse_seconds(raw: str) -> int | str:
    text = raw.strip()
    if not text:
        return "required"
    if not _INTEGER.fullmatch(text):
        return "not_an_integer"
    value = int(text)
    if value < 0:
        return "negative"
    if value > MAX_STEP_SECONDS:
        return "too_large"
    return value


def _parse_steps(raw: str) -> tuple[int, int] | str:
    text = raw.strip()
    if not text:
        return "required"
    match = _STEPS.fullmatch(text)
    if not match:
        return "invalid_steps"
    first, following = int(match.group(1)), int(match.group(2))
    if first < 1 or following < 1:
        return "invalid_steps"
    if first > MAX_STEP_SECONDS or following > MAX_STEP_SECONDS:
        return "too_large"
    return first, following


def _parse_rate(line: int, fields: list[str], errors: list[dict[str, Any]]) -> Rate | None:
    """One deck row as a :class:`Rate`, or ``None`` after adding its problems to ``errors``."""
    raw_prefix, raw_destination, raw_price, raw_fee, raw_steps, raw_min = fields[:6]
    found = len(errors)
    prefix = raw_prefix.strip()
    if not prefix:
        errors.append(_row(line, "prefix", "required"))
    elif not _DIGITS.fullmatch(prefix):
        errors.append(_row(line, "prefix", "not_digits", raw_prefix))
    elif len(prefix) > MAX_NUMBER_DIGITS:
        errors.append(_row(line, "prefix", "too_long", raw_prefix))
    elif prefix.startswith("0"):
        errors.append(_row(line, "prefix", "not_e164", raw_prefix))
    destination = raw_destination.strip()
    if not destination:
        errors.append(_row(line, "destination", "required"))
    price = _parse_amount(raw_price)
    if isinstance(price, str):
        errors.append(_row(line, "price_per_minute", price, raw_price))
    fee = _parse_amount(raw_fee)
    if isinstance(fee, str):
        errors.append(_row(line, "connection_fee", fee, raw_fee))
    steps = _parse_steps(raw_steps)
    if isinstance(steps, str):
        errors.append(_row(line, "steps", steps, raw_steps))
    min_seconds = _parse_seconds(raw_min)
    if isinstance(min_seconds, str):
        errors.append(_row(line, "min_seconds", min_seconds, raw_min))
    if (
        len(errors) > found
        or isinstance(price, str)
        or isinstance(fee, str)
        or isinstance(steps, str)
        or isinstance(min_seconds, str)
    ):
        return None
    return Rate(
        prefix=prefix,
        destination=destination,
        price_per_minute=price,
        connection_fee=fee,
        first_step=steps[0],
        next_step=steps[1],
        min_seconds=min_seconds,
        line=line,
    )


def _header_ok(fields: list[str], expected: tuple[str, ...]) -> bool:
    names = tuple(field.strip().lower() for field in fields[: len(expected)])
    return names == expected


def parse_deck(text: str) -> RateDeck:
    """Read a rate deck from CSV text, all or nothing.

    Raises :class:`InvalidInput` (``field="deck"``) when anything is wrong, with
    ``details["rows"]`` listing every problem as ``{"line", "field", "reason", "value"}`` (plus
    ``first_line`` for a duplicate prefix), line numbers as in the file (header = line 1);
    :func:`describe_reason` tells what a row's ``reason`` means.
    """
    errors: list[dict[str, Any]] = []
    rates: list[Rate] = []
    first_seen: dict[str, int] = {}
    rows = _csv_rows(text)
    try:
        header = next(rows, None)
        if header is None:
            raise _deck_error([_row(1, "header", "empty_file")])
        line, names = header
        if line != 1 or not _header_ok(names, DECK_COLUMNS):
            raise _deck_error([_row(line, "header", "bad_header", ",".join(names))])
        for line, fields in rows:
            if len(fields) < len(DECK_COLUMNS):
                errors.append(_row(line, "row", "missing_fields", str(len(fields))))
                continue
            prefix = fields[0].strip()
            rate = _parse_rate(line, fields, errors)
            if prefix in first_seen and _DIGITS.fullmatch(prefix):
                errors.append(
                    _row(line, "prefix", "duplicate_prefix", prefix, first_line=first_seen[prefix])
                )
                continue
            if rate is not None:
                first_seen[prefix] = line
                rates.append(rate)
            elif _DIGITS.fullmatch(prefix):
                first_seen.setdefault(prefix, line)
    except _BrokenCsv as broken:
        errors.append(_row(broken.line, "row", "bad_csv", broken.reason))
    if not rates and not errors:
        errors.append(_row(1, "header", "no_rates"))
    if errors:
        raise _deck_error(errors)
    return RateDeck(rates)


# --------------------------------------------------------------------------------------------
# Call records
# --------------------------------------------------------------------------------------------


class Disposition(StrEnum):
    """How a call ended, as softswitch CDRs write it."""

    ANSWERED = "ANSWERED"
    NO_ANSWER = "NO ANSWER"
    BUSY = "BUSY"
    FAILED = "FAILED"


def _whole_seconds(delta: timedelta) -> int:
    """``delta`` in seconds, rounded up to the whole second (exact, no float)."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micros // 1_000_000)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call detail record; ``callee`` is the E.164 number's digits without ``+``."""

    line: int
    call_id: str
    account: str
    caller: str
    callee: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: Disposition

    @property
    def answered(self) -> bool:
        return self.disposition is Disposition.ANSWERED and self.answer is not None

    @property
    def billable_seconds(self) -> int:
        """``end - answer`` rounded up to the whole second; 0 for a call not answered."""
        if not self.answered or self.answer is None:
            return 0
        return max(0, _whole_seconds(self.end - self.answer))


@dataclass(frozen=True, slots=True)
class Rejection:
    """A call record that was not rated, with where it is and why (:data:`REASONS`)."""

    line: int
    call_id: str
    field: str
    reason: str
    value: str = ""
    first_line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "line": self.line,
            "call_id": self.call_id,
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
        }
        if self.first_line is not None:
            data["first_line"] = self.first_line
        return data

    def describe(self, lang: str = DEFAULT_LANG) -> str:
        return describe_reason(self.as_dict(), lang)


@dataclass(frozen=True, slots=True)
class UsageFile:
    """The readable records of a usage file and the rows that were not."""

    records: tuple[CallRecord, ...]
    rejected: tuple[Rejection, ...] = ()


def _parse_time(raw: str) -> datetime | str:
    text = raw.strip()
    if not text:
        return "required"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return "invalid_time"
    if value.tzinfo is None or value.utcoffset() is None:
        return "no_timezone"
    return value


def _parse_call(line: int, fields: list[str]) -> CallRecord | Rejection:
    """One usage row: the record, or the first problem found (columns in file order)."""
    call_id, account, caller, callee_raw, start_raw, answer_raw, end_raw, disposition_raw = (
        field.strip() for field in fields[: len(USAGE_COLUMNS)]
    )

    def reject(field: str, reason: str, value: str = "") -> Rejection:
        return Rejection(line=line, call_id=call_id, field=field, reason=reason, value=value)

    if not call_id:
        return reject("call_id", "required")
    if not account:
        return reject("account", "required")
    if not callee_raw:
        return reject("callee", "required")
    callee = e164_digits(callee_raw)
    if callee is None:
        return reject("callee", "invalid_number", callee_raw)
    start = _parse_time(start_raw)
    if isinstance(start, str):
        return reject("start", start, start_raw)
    answer: datetime | None = None
    if answer_raw:
        parsed_answer = _parse_time(answer_raw)
        if isinstance(parsed_answer, str):
            return reject("answer", parsed_answer, answer_raw)
        answer = parsed_answer
    end = _parse_time(end_raw)
    if isinstance(end, str):
        return reject("end", end, end_raw)
    if not disposition_raw:
        return reject("disposition", "required")
    try:
        disposition = Disposition(" ".join(disposition_raw.upper().split()))
    except ValueError:
        return reject("disposition", "unknown_disposition", disposition_raw)
    if disposition is Disposition.ANSWERED and answer is None:
        return reject("answer", "answer_missing")
    if disposition is not Disposition.ANSWERED and answer is not None:
        return reject("answer", "answer_unexpected", answer_raw)
    if answer is not None and answer < start:
        return reject("answer", "answer_before_start", answer_raw)
    if end < start:
        return reject("end", "end_before_start", end_raw)
    if answer is not None and end < answer:
        return reject("end", "end_before_answer", end_raw)
    return CallRecord(
        line=line,
        call_id=call_id,
        account=account,
        caller=caller,
        callee=callee,
        start=start,
        answer=answer,
        end=end,
        disposition=disposition,
    )


def _usage_error(line: int, field: str, reason: str, value: str = "") -> InvalidInput:
    row = _row(line, field, reason, value)

    def escaped(lang: str) -> str:
        return describe_reason(row, lang).replace("{", "{{").replace("}", "}}")

    return InvalidInput(
        Text(
            fr="Fichier de consommations illisible, ligne {line} : " + escaped("fr") + ".",
            en="Unreadable usage file, line {line}: " + escaped("en") + ".",
        ),
        field="usage",
        details={"line": line, "rows": [row]},
    )


def parse_usage(text: str) -> UsageFile:
    """Read call records from CSV text with the header :data:`USAGE_COLUMNS`.

    Bad rows are never dropped silently: each becomes a :class:`Rejection` with its line and
    reason; duplicate call ids are rejected after the first. Raises :class:`InvalidInput`
    (``field="usage"``) only when the file itself is unreadable (no or wrong header, broken CSV).
    """
    records: list[CallRecord] = []
    rejected: list[Rejection] = []
    first_seen: dict[str, int] = {}
    rows = _csv_rows(text)
    try:
        header = next(rows, None)
        if header is None:
            raise _usage_error(1, "header", "empty_file")
        line, names = header
        if line != 1 or not _header_ok(names, USAGE_COLUMNS):
            raise _usage_error(line, "header", "bad_header", ",".join(names))
        for line, fields in rows:
            call_id = fields[0].strip()
            if len(fields) < len(USAGE_COLUMNS):
                rejected.append(Rejection(line, call_id, "row", "missing_fields", str(len(fields))))
                continue
            parsed = _parse_call(line, fields)
            if isinstance(parsed, Rejection):
                rejected.append(parsed)
                continue
            if parsed.call_id in first_seen:
                rejected.append(
                    Rejection(
                        line,
                        call_id,
                        "call_id",
                        "duplicate_call_id",
                        call_id,
                        first_line=first_seen[call_id],
                    )
                )
                continue
            first_seen[parsed.call_id] = line
            records.append(parsed)
    except _BrokenCsv as broken:
        raise _usage_error(broken.line, "row", "bad_csv", broken.reason) from None
    return UsageFile(records=tuple(records), rejected=tuple(rejected))


# --------------------------------------------------------------------------------------------
# Rating, one record at a time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatedCall:
    """A rated call. ``rate`` is ``None`` only for a call not answered to an unknown prefix
    (it costs nothing either way)."""

    record: CallRecord
    rate: Rate | None
    billable_seconds: int
    billed_seconds: int
    cost: Decimal  # CALL_ROUNDING: 6 decimals

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.record.line,
            "call_id": self.record.call_id,
            "account": self.record.account,
            "callee": "+" + self.record.callee,
            "disposition": self.record.disposition.value,
            "prefix": self.rate.prefix if self.rate else None,
            "destination": self.rate.destination if self.rate else None,
            "duration_seconds": self.billable_seconds,
            "billed_seconds": self.billed_seconds,
            "cost": str(self.cost),
        }


@dataclass(frozen=True, slots=True)
class RatingResult:
    """Rated calls, rejected records (ordered by line) and totals (:data:`TOTAL_ROUNDING`)."""

    records: tuple[RatedCall, ...]
    rejected: tuple[Rejection, ...]
    total_exact: Decimal  # exact sum of the records' costs, 6 decimals
    total: Decimal  # total_exact rounded half up to the cent
    currency: str = CURRENCY


ZERO_COST: Final = Decimal(0).quantize(MICRO)


def rate_call(deck: RateDeck, record: CallRecord) -> RatedCall | Rejection:
    """Rate one call (BIL-09): unanswered calls are free; an answered call whose callee no
    prefix matches, or lasting more than :data:`MAX_CALL_SECONDS`, is a :class:`Rejection`."""
    rate = deck.match_digits(record.callee)
    if not record.answered:
        return RatedCall(record, rate, 0, 0, ZERO_COST)
    duration = record.billable_seconds
    if duration > MAX_CALL_SECONDS:
        return Rejection(record.line, record.call_id, "end", "duration_too_long", str(duration))
    if rate is None:
        return Rejection(
            record.line, record.call_id, "callee", "no_matching_prefix", "+" + record.callee
        )
    billed = rate.billed_seconds(duration)
    return RatedCall(record, rate, duration, billed, rate.cost(billed))


def _result(rated: list[RatedCall], rejected: list[Rejection]) -> RatingResult:
    total_exact = sum((call.cost for call in rated), ZERO_COST)
    return RatingResult(
        records=tuple(rated),
        rejected=tuple(sorted(rejected, key=lambda rejection: rejection.line)),
        total_exact=total_exact,
        total=round_money(total_exact),
    )


def rate_usage(deck: RateDeck, usage: UsageFile) -> RatingResult:
    """Rate every record of ``usage`` one by one; its rejected rows are carried over."""
    rated: list[RatedCall] = []
    rejected = list(usage.rejected)
    for record in usage.records:
        outcome = rate_call(deck, record)
        if isinstance(outcome, Rejection):
            rejected.append(outcome)
        else:
            rated.append(outcome)
    return _result(rated, rejected)


# --------------------------------------------------------------------------------------------
# Fast path: vectorised, exact int64 arithmetic
# --------------------------------------------------------------------------------------------
#
# Longest-prefix match. A number of at most 15 digits d_0 d_1 ... is given the key
#     key = sum_i (d_i + 1) * 11**(14 - i)
# (base 11, digits shifted by one, 0 marks "no digit"), so that the numbers starting with a
# prefix p of L digits are exactly the keys in [key(p), key(p) + 11**(15 - L)) — a shorter
# number, which p cannot prefix, falls below key(p). These intervals are nested or disjoint;
# flattened into consecutive segments, each owned by its innermost (longest) prefix, one
# np.searchsorted over the segment starts finds the longest matching prefix of every number.

_KEY_DIGITS: Final = MAX_NUMBER_DIGITS
#: 10**k for k = 0..18, and the number of decimal digits of 2**e for e = 0..62.
_POW10_ALL: Final = np.array([10**k for k in range(19)], dtype=np.int64)
_DIGITS_OF_POW2: Final = np.array([len(str(2**e)) for e in range(63)], dtype=np.int64)
#: 11**(15 - d): moves the base-11 digits of a d-digit number to the left of the key.
_SHIFT: Final = np.array([11 ** (_KEY_DIGITS - d) for d in range(_KEY_DIGITS + 1)], dtype=np.int64)
#: sum of 11**k for the d leading key positions: the "+1" of each real digit.
_OFFSET: Final = np.array(
    [sum(11 ** (_KEY_DIGITS - 1 - i) for i in range(d)) for d in range(_KEY_DIGITS + 1)],
    dtype=np.int64,
)
_GROUP_DIGITS: Final = 5
_GROUP: Final = 10**_GROUP_DIGITS
_GROUP_SHIFT: Final = 11**_GROUP_DIGITS


def _group_table() -> Int64Array:
    """Base-11 value of each 5-digit group 00000..99999 (same digits, read in base 11)."""
    table = np.zeros(_GROUP, dtype=np.int64)
    values = np.arange(_GROUP, dtype=np.int64)
    weight = 1
    for _ in range(_GROUP_DIGITS):
        table += (values % 10) * weight
        values //= 10
        weight *= 11
    return table


_GROUP_TABLE: Final = _group_table()
#: Below this many numbers, searching in sorted order is not worth its sort.
_SORT_FROM: Final = 4096


def number_keys(numbers: Int64Array) -> Int64Array:
    """The base-11 keys of E.164 numbers given as integers (1 to 15 digits)."""
    # Digit count without a search: floor(log2(n)) from the exponent bits of n as a float64
    # (exact below 2**53 > 10**15), the digit count of 2**that, plus one if n reaches the next
    # power of ten.
    log2 = (numbers.astype(np.float64).view(np.int64) >> 52) - 1023
    guess = _DIGITS_OF_POW2[log2]
    digits = guess + (numbers >= _POW10_ALL[guess])
    low = numbers % _GROUP
    rest = numbers // _GROUP
    middle = rest % _GROUP
    high = rest // _GROUP
    right_aligned = (
        _GROUP_TABLE[high] * _GROUP_SHIFT + _GROUP_TABLE[middle]
    ) * _GROUP_SHIFT + _GROUP_TABLE[low]
    keys: Int64Array = right_aligned * _SHIFT[digits] + _OFFSET[digits]
    return keys


class CompiledDeck:
    """A :class:`RateDeck` as arrays: per-rate terms in micro-euros and seconds, and the
    segments of the longest-prefix match. Build it with :meth:`RateDeck.compile`."""

    __slots__ = (
        "deck",
        "fee_micro",
        "first_step",
        "min_seconds",
        "next_step",
        "owners",
        "price_micro",
        "starts",
    )

    def __init__(self, deck: RateDeck) -> None:
        rates = deck.rates
        self.deck = deck
        self.price_micro = np.array(
            [int(rate.price_per_minute * MICROS_PER_EURO) for rate in rates], dtype=np.int64
        )
        self.fee_micro = np.array(
            [int(rate.connection_fee * MICROS_PER_EURO) for rate in rates], dtype=np.int64
        )
        self.first_step = np.array([rate.first_step for rate in rates], dtype=np.int64)
        self.next_step = np.array([rate.next_step for rate in rates], dtype=np.int64)
        self.min_seconds = np.array([rate.min_seconds for rate in rates], dtype=np.int64)
        prefixes = np.array([int(rate.prefix) for rate in rates], dtype=np.int64)
        lengths = np.array([len(rate.prefix) for rate in rates], dtype=np.int64)
        keys = number_keys(prefixes)
        self.starts, self.owners = _segments(keys, keys + _SHIFT[lengths])

    def match(self, numbers: Int64Array) -> Int64Array:
        """For each E.164 number (as an integer), the index in ``deck.rates`` of its longest
        matching prefix, or -1."""
        _check_numbers(numbers)
        return self._match(numbers)

    def _match(self, numbers: Int64Array) -> Int64Array:
        keys = number_keys(numbers)
        count = len(keys)
        if count < _SORT_FROM:
            segments = np.searchsorted(self.starts, keys, side="right") - 1
            direct: Int64Array = self.owners.take(segments)
            return direct
        # np.searchsorted is several times faster on (nearly) sorted needles, so the keys are
        # searched in sorted order. Their low bits are replaced by their position, so that one
        # plain sort also gives the permutation (no argsort); the exact keys are gathered back
        # by position: the masked bits change the order of the search, never its result.
        bits = (count - 1).bit_length()
        mask = (1 << bits) - 1
        packed = (keys & ~mask) | np.arange(count, dtype=np.int64)
        packed.sort()
        order = packed & mask
        segments = np.searchsorted(self.starts, keys.take(order), side="right") - 1
        found: Int64Array = np.empty(count, dtype=np.int64)
        found[order] = self.owners.take(segments)
        return found


def _segments(keys: Int64Array, ends: Int64Array) -> tuple[Int64Array, Int64Array]:
    """Flatten the nested intervals ``[keys[i], ends[i])`` of the prefixes into segment starts
    and the index of the innermost prefix owning each segment (-1: none)."""
    starts: list[int] = [0]
    owners: list[int] = [-1]

    def cut(position: int, owner: int) -> None:
        if starts[-1] == position:
            owners[-1] = owner
        else:
            starts.append(position)
            owners.append(owner)

    order = np.argsort(keys, kind="stable")
    open_intervals: list[tuple[int, int]] = []  # (end, index), innermost last
    for key, end, index in zip(
        keys[order].tolist(), ends[order].tolist(), order.tolist(), strict=True
    ):
        while open_intervals and open_intervals[-1][0] <= key:
            closed_end, _ = open_intervals.pop()
            cut(closed_end, open_intervals[-1][1] if open_intervals else -1)
        cut(key, index)
        open_intervals.append((end, index))
    while open_intervals:
        closed_end, _ = open_intervals.pop()
        cut(closed_end, open_intervals[-1][1] if open_intervals else -1)
    return np.array(starts, dtype=np.int64), np.array(owners, dtype=np.int64)


def _check_numbers(numbers: Int64Array) -> None:
    if numbers.size and (int(numbers.min()) < 1 or int(numbers.max()) >= 10**MAX_NUMBER_DIGITS):
        raise InvalidInput(
            Text(
                fr="Numéros invalides : 1 à 15 chiffres E.164 sont attendus.",
                en="Invalid numbers: 1 to 15 E.164 digits are expected.",
            ),
            field="callee",
        )


@dataclass(frozen=True, slots=True)
class BatchRating:
    """Per-record results of :func:`rate_batch`, aligned with its inputs.

    ``rate_index`` is the index in ``deck.rates`` of the longest matching prefix (-1: none);
    ``billed_seconds`` and ``cost_micro`` (micro-euros, :data:`CALL_ROUNDING`) are 0 for calls
    not answered and for answered calls without a matching prefix (which are to be rejected:
    see :meth:`unmatched`). ``total_micro`` is the exact sum of ``cost_micro``.
    """

    rate_index: Int64Array
    billed_seconds: Int64Array
    cost_micro: Int64Array
    answered: BoolArray
    total_micro: int

    @property
    def total_exact(self) -> Decimal:
        return Decimal(self.total_micro).scaleb(-6).quantize(MICRO)

    @property
    def total(self) -> Decimal:
        """The total to the cent (:data:`TOTAL_ROUNDING`)."""
        return round_money(self.total_exact)

    def unmatched(self) -> npt.NDArray[np.intp]:
        """Positions of answered calls that no prefix matches (rejected records)."""
        return np.flatnonzero(self.answered & (self.rate_index < 0))


_INT64_SAFE: Final = 2**62
_DEFAULT_CHUNK: Final = 1 << 16


def _rate_chunk(
    compiled: CompiledDeck,
    numbers: Int64Array,
    seconds: Int64Array,
    answered: BoolArray,
    rate_index: Int64Array,
    billed_out: Int64Array,
    cost_out: Int64Array,
) -> int:
    """Rate one chunk into the output slices; return the exact sum of its costs."""
    index = compiled._match(numbers)
    rate_index[...] = index
    if not len(compiled.deck):
        billed_out[...] = 0
        cost_out[...] = 0
        return 0
    billable = answered & (index >= 0)
    safe_index = np.where(billable, index, 0)
    first = compiled.first_step[safe_index]
    following = compiled.next_step[safe_index]
    # BIL-09: first step for any call that lasted, then whole next steps (ceiling division).
    extra_steps = -(-np.maximum(seconds - first, 0) // following)
    stepped = (first + extra_steps * following) * (seconds > 0)
    billed = np.maximum(stepped, compiled.min_seconds[safe_index]) * billable
    # CALL_ROUNDING: fee + price * billed / 60 half up to the micro-euro, all non-negative.
    product = compiled.price_micro[safe_index] * billed
    cost = (compiled.fee_micro[safe_index] + (product + 30) // 60) * billable
    billed_out[...] = billed
    cost_out[...] = cost
    if len(cost) and int(cost.max()) >= _INT64_SAFE // len(cost):
        return sum(int(value) for value in cost.tolist())
    return int(cost.sum())


def rate_batch(
    deck: RateDeck | CompiledDeck,
    callee: Int64Array,
    billable_seconds: Int64Array,
    answered: BoolArray,
    *,
    chunk_size: int = _DEFAULT_CHUNK,
    workers: int | None = None,
) -> BatchRating:
    """Rate many calls at once (BIL-09), with the same results as :func:`rate_call`.

    ``callee`` holds E.164 numbers as integers (``33140000000``), ``billable_seconds`` the whole
    seconds from answer to end (0 to :data:`MAX_CALL_SECONDS`), ``answered`` whether each call
    was answered. Work is split in chunks over ``workers`` threads (NumPy releases the GIL;
    default: the number of CPUs). Raises :class:`InvalidInput` for numbers that are not 1 to
    15 digits or durations out of range.
    """
    compiled = deck.compile() if isinstance(deck, RateDeck) else deck
    numbers = np.ascontiguousarray(callee, dtype=np.int64)
    seconds = np.ascontiguousarray(billable_seconds, dtype=np.int64)
    flags = np.ascontiguousarray(answered, dtype=np.bool_)
    if numbers.ndim != 1 or numbers.shape != seconds.shape or numbers.shape != flags.shape:
        raise ValueError("callee, billable_seconds and answered must be 1-D and of equal length")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    _check_numbers(numbers)
    if seconds.size and (int(seconds.min()) < 0 or int(seconds.max()) > MAX_CALL_SECONDS):
        raise InvalidInput(
            Text(
                fr="Durées invalides : de 0 à {max} secondes sont attendues.",
                en="Invalid durations: 0 to {max} seconds are expected.",
            ),
            field="billable_seconds",
            details={"max": MAX_CALL_SECONDS},
        )
    size = len(numbers)
    rate_index = np.empty(size, dtype=np.int64)
    billed = np.empty(size, dtype=np.int64)
    cost = np.empty(size, dtype=np.int64)
    bounds = [(start, min(start + chunk_size, size)) for start in range(0, size, chunk_size)]

    def run(bound: tuple[int, int]) -> int:
        lo, hi = bound
        return _rate_chunk(
            compiled,
            numbers[lo:hi],
            seconds[lo:hi],
            flags[lo:hi],
            rate_index[lo:hi],
            billed[lo:hi],
            cost[lo:hi],
        )

    threads = max(1, min(workers or os.cpu_count() or 1, len(bounds)))
    if threads == 1:
        totals = [run(bound) for bound in bounds]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            totals = list(pool.map(run, bounds))
    return BatchRating(
        rate_index=rate_index,
        billed_seconds=billed,
        cost_micro=cost,
        answered=flags,
        total_micro=sum(totals),
    )


def rate_usage_fast(deck: RateDeck, usage: UsageFile, **options: Any) -> RatingResult:
    """:func:`rate_usage` through :func:`rate_batch`: the same result, computed in bulk."""
    rejected = list(usage.rejected)
    kept: list[CallRecord] = []
    for record in usage.records:
        duration = record.billable_seconds
        if record.answered and duration > MAX_CALL_SECONDS:
            rejected.append(
                Rejection(record.line, record.call_id, "end", "duration_too_long", str(duration))
            )
        else:
            kept.append(record)
    count = len(kept)
    batch = rate_batch(
        deck,
        np.fromiter((int(record.callee) for record in kept), dtype=np.int64, count=count),
        np.fromiter((record.billable_seconds for record in kept), dtype=np.int64, count=count),
        np.fromiter((record.answered for record in kept), dtype=np.bool_, count=count),
        **options,
    )
    rates = deck.rates
    rated: list[RatedCall] = []
    indexes = batch.rate_index.tolist()
    billed_seconds = batch.billed_seconds.tolist()
    costs = batch.cost_micro.tolist()
    for position, record in enumerate(kept):
        index = indexes[position]
        rate = rates[index] if index >= 0 else None
        if not record.answered:
            rated.append(RatedCall(record, rate, 0, 0, ZERO_COST))
        elif rate is None:
            rejected.append(
                Rejection(
                    record.line,
                    record.call_id,
                    "callee",
                    "no_matching_prefix",
                    "+" + record.callee,
                )
            )
        else:
            cost = Decimal(costs[position]).scaleb(-6).quantize(MICRO)
            rated.append(
                RatedCall(record, rate, record.billable_seconds, billed_seconds[position], cost)
            )
    result = _result(rated, rejected)
    if result.total_exact != batch.total_exact:  # pragma: no cover - internal consistency
        raise AssertionError("fast path totals disagree")
    return result
