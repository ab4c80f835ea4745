"""Money: ``decimal.Decimal`` amounts in euros, never ``float``.

Every rounding is explicit and named: :func:`round_money` rounds to the cent with
``ROUND_HALF_UP`` (the commercial rounding used on French invoices: 0.005 € becomes 0.01 €).
Amounts entering the system go through :func:`parse_amount`, which refuses floats, NaN and
infinities, more decimals than allowed and (unless allowed) negative amounts.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from operateur.errors import InvalidInput
from operateur.i18n import Text

CENT = Decimal("0.01")


def _require_decimal(value: object, name: str) -> Decimal:
    """Programming guard: money helpers take ``Decimal`` only (a float would be a bug)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, not {value}")
    return value


def require_amount(value: object, field: str, *, positive: bool = False) -> Decimal:
    """An input that must be an exact, finite, non-negative ``Decimal`` (``positive``: above
    zero); anything else is refused with ``InvalidInput`` naming ``field``."""
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or value < 0
        or (positive and value == 0)
    ):
        raise InvalidInput(
            Text(
                fr="Valeur invalide pour {field} : un nombre décimal exact {what} est attendu.",
                en="Invalid value for {field}: an exact {what_en} decimal number is expected.",
            ),
            field=field,
            details={
                "field": field,
                "what": "strictement positif" if positive else "positif ou nul",
                "what_en": "positive" if positive else "non-negative",
                "value": str(value),
            },
        )
    return value


def round_money(value: Decimal) -> Decimal:
    """Round ``value`` to the cent with ``ROUND_HALF_UP`` (half a cent goes away from zero).

    ``round_money(Decimal("2.345")) == Decimal("2.35")`` and
    ``round_money(Decimal("-2.345")) == Decimal("-2.35")``.
    """
    amount = _require_decimal(value, "value").quantize(CENT, rounding=ROUND_HALF_UP)
    return amount if amount != 0 else abs(amount)  # never "-0.00"


def parse_amount(
    raw: str | int | Decimal,
    *,
    field: str,
    allow_negative: bool = False,
    places: int = 2,
) -> Decimal:
    """Read an amount sent by a user or a file and return it as a ``Decimal`` with ``places``.

    Accepted: a ``Decimal``, an ``int``, or a string such as ``"12.5"``, ``"12,50"`` (French
    decimal comma) or ``"-3"``. Refused with :class:`InvalidInput` naming ``field``: floats (and
    booleans), empty strings, text that is not a number, NaN and infinities, more than ``places``
    decimals (trailing zeros do not count: ``"1.500"`` is 1.50) and negative amounts unless
    ``allow_negative``. Amounts are never rounded here: an amount with too many decimals is an
    error, not something to guess.
    """
    if places < 0:
        raise ValueError("places must be >= 0")
    if isinstance(raw, float | bool):
        raise InvalidInput(
            Text(
                fr="Montant invalide : un nombre décimal exact est attendu (pas un flottant).",
                en="Invalid amount: an exact decimal number is expected (not a float).",
            ),
            field=field,
        )
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise InvalidInput(
                Text(fr="Le montant est obligatoire.", en="The amount is required."),
                field=field,
            )
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(
                Text(
                    fr="Montant invalide : « {value} » n'est pas un nombre.",
                    en="Invalid amount: “{value}” is not a number.",
                ),
                field=field,
                details={"value": raw},
            ) from None
    else:
        raise InvalidInput(
            Text(
                fr="Montant invalide : un nombre est attendu.",
                en="Invalid amount: a number is expected.",
            ),
            field=field,
        )
    if not value.is_finite():
        raise InvalidInput(
            Text(
                fr="Montant invalide : un nombre fini est attendu.",
                en="Invalid amount: a finite number is expected.",
            ),
            field=field,
            details={"value": str(raw)},
        )
    quantum = Decimal(1).scaleb(-places)
    try:
        exact = value.quantize(quantum)
    except InvalidOperation:
        raise InvalidInput(
            Text(fr="Montant trop grand.", en="Amount too large."),
            field=field,
            details={"value": str(raw)},
        ) from None
    if exact != value:
        raise InvalidInput(
            Text(
                fr="Montant invalide : au plus {places} décimales sont permises.",
                en="Invalid amount: at most {places} decimal places are allowed.",
            ),
            field=field,
            details={"value": str(raw), "places": places},
        )
    if exact == 0:
        exact = abs(exact)  # "-0" is zero
    if exact < 0 and not allow_negative:
        raise InvalidInput(
            Text(
                fr="Montant invalide : il ne peut pas être négatif.",
                en="Invalid amount: it cannot be negative.",
            ),
            field=field,
            details={"value": str(raw)},
        )
    return exact


def _group_thousands(digits: str, separator: str) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)


def format_eur(amount: Decimal, lang: str = "fr", *, space: str = " ") -> str:
    """Format an amount in euros for people, rounded to the cent (``ROUND_HALF_UP``).

    French (the default, and any language other than ``"en"``): ``"1 234,50 €"``;
    English: ``"€1,234.50"``. Negative amounts carry a leading minus: ``"-1 234,50 €"``,
    ``"-€1,234.50"``. ``space`` is the French thousands and currency separator; pass
    ``"\\u00a0"`` (no-break space) where a line must not break inside an amount (HTML, PDF).
    """
    rounded = round_money(amount)
    sign = "-" if rounded < 0 else ""
    units, _, cents = f"{abs(rounded):.2f}".partition(".")
    if lang == "en":
        return f"{sign}€{_group_thousands(units, ',')}.{cents}"
    return f"{sign}{_group_thousands(units, space)},{cents}{space}€"


def prorata(amount: Decimal, days_used: int, days_in_period: int) -> Decimal:
    """The share of ``amount`` for ``days_used`` out of ``days_in_period``, to the cent.

    Computed exactly, then rounded once with ``ROUND_HALF_UP``:
    ``prorata(Decimal("30.00"), 10, 31) == Decimal("9.68")``.
    """
    _require_decimal(amount, "amount")
    if days_in_period <= 0:
        raise ValueError("days_in_period must be > 0")
    if not 0 <= days_used <= days_in_period:
        raise ValueError("days_used must be between 0 and days_in_period")
    return round_money(amount * days_used / days_in_period)
