from __future__ import annotations

from decimal import Decimal

import pytest

from operateur.domain.money import CENT, format_eur, parse_amount, prorata, round_money
from operateur.errors import InvalidInput


def test_cent_is_a_decimal_hundredth() -> None:
    assert Decimal("0.01") == CENT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.35"),  # half up, not banker's rounding (which gives 2.34)
        ("2.335", "2.34"),
        ("2.344999", "2.34"),
        ("-2.345", "-2.35"),  # half away from zero
        ("-0.004", "0.00"),  # never "-0.00"
        ("10", "10.00"),
    ],
)
def test_round_money_rounds_half_up_to_the_cent(value: str, expected: str) -> None:
    rounded = round_money(Decimal(value))
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


def test_round_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        round_money(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.50"),
        ("12,50", "12.50"),  # French decimal comma
        ("  7 ", "7.00"),
        (3, "3.00"),
        (Decimal("1.500"), "1.50"),  # trailing zeros are not extra decimals
        ("0", "0.00"),
        ("-0", "0.00"),
        ("1E+2", "100.00"),
    ],
)
def test_parse_amount_accepts_exact_amounts(raw: str | int | Decimal, expected: str) -> None:
    value = parse_amount(raw, field="price")
    assert value == Decimal(expected)
    assert str(value) == expected


def _refused(raw: object, **kwargs: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_amount(raw, field="unit_price", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == "unit_price"
    assert caught.value.code == "invalid_input"
    return caught.value


def test_parse_amount_refuses_floats() -> None:
    error = _refused(0.1)
    assert "flottant" in error.render("fr")
    assert "float" in error.render("en")


def test_parse_amount_refuses_booleans() -> None:
    _refused(True)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-inf", "sNaN", Decimal("NaN")])
def test_parse_amount_refuses_nan_and_infinity(raw: str | Decimal) -> None:
    _refused(raw)


@pytest.mark.parametrize("raw", ["", "   ", "douze", "12.5.0", "1,234.50", "12 €"])
def test_parse_amount_refuses_what_is_not_a_number(raw: str) -> None:
    _refused(raw)


def test_parse_amount_refuses_too_many_decimals_and_says_how_many() -> None:
    error = _refused("0.005")
    assert error.details["places"] == 2
    assert "2" in error.render("en")


def test_parse_amount_allows_more_places_when_asked() -> None:
    # Unit prices of usage (per second, per SMS) may carry more decimals than invoice totals.
    assert parse_amount("0.00375", field="rate", places=5) == Decimal("0.00375")
    _refused("0.000001", places=5)


def test_parse_amount_refuses_negative_unless_allowed() -> None:
    error = _refused("-5")
    assert "négatif" in error.render("fr")
    assert parse_amount("-5", field="adjustment", allow_negative=True) == Decimal("-5.00")


def test_parse_amount_refuses_absurdly_large_values() -> None:
    _refused("1" * 40)


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        ("1234.5", "fr", "1 234,50 €"),
        ("1234.5", "en", "€1,234.50"),
        ("0", "fr", "0,00 €"),
        ("999.999", "fr", "1 000,00 €"),
        ("1234567.891", "en", "€1,234,567.89"),
        ("-1234.5", "fr", "-1 234,50 €"),
        ("-1234.5", "en", "-€1,234.50"),
        ("12.345", "de", "12,35 €"),  # unknown languages fall back to French
    ],
)
def test_format_eur(amount: str, lang: str, expected: str) -> None:
    assert format_eur(Decimal(amount), lang) == expected


def test_format_eur_with_no_break_spaces() -> None:
    assert format_eur(Decimal("1234.5"), "fr", space="\u00a0") == "1\u00a0234,50\u00a0€"


def test_prorata_first_month_from_activation() -> None:
    # SPEC: BIL-02 — first month billed prorata temporis from activation to month end.
    # Activation on 22 July: 10 days (22–31) of a 31-day month.
    assert prorata(Decimal("30.00"), 10, 31) == Decimal("9.68")
    assert prorata(Decimal("30.00"), 31, 31) == Decimal("30.00")
    assert prorata(Decimal("30.00"), 0, 31) == Decimal("0.00")


def test_prorata_rounds_once_half_up() -> None:
    # 10.00 × 1/8 = 1.25 exactly; 0.10 × 3/4 = 0.075 -> 0.08
    assert prorata(Decimal("10.00"), 1, 8) == Decimal("1.25")
    assert prorata(Decimal("0.10"), 3, 4) == Decimal("0.08")


def test_prorata_refuses_impossible_days_and_floats() -> None:
    with pytest.raises(ValueError):
        prorata(Decimal("10"), 32, 31)
    with pytest.raises(ValueError):
        prorata(Decimal("10"), 1, 0)
    with pytest.raises(TypeError):
        prorata(10.0, 1, 2)  # type: ignore[arg-type]
