from __future__ import annotations

import dataclasses

import pytest

from operateur.domain.numbering import (
    FRENCH_EMERGENCY_NUMBERS,
    NumberKind,
    classify,
    is_french_metropolitan_mobile,
    parse_number,
    special_number_prefix,
)
from operateur.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0140000000", "+33140000000"),
        ("01 40 00 00 00", "+33140000000"),
        ("01.40.00.00.00", "+33140000000"),
        ("+33 1 40 00 00 00", "+33140000000"),
        ("0033140000000", "+33140000000"),
        ("06 12 34 56 78", "+33612345678"),
        ("+44 20 7946 0000", "+442079460000"),
        ("0692 12 34 56", "+262692123456"),  # Réunion mobile dialled in national form
    ],
)
def test_parse_number_returns_e164(raw: str, e164: str) -> None:
    assert parse_number(raw) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "required"),
        ("   ", "required"),
        ("bonjour", "not_a_number"),
        ("+999 1234 5678", "invalid_country_code"),
        ("06 12", "too_short"),
        ("06 12 34 56 78 90 12 34", "too_long"),
        ("07 00 00 00 00", "unallocated"),
        ("112", "emergency"),
        ("3900", "short_number"),
    ],
)
def test_invalid_numbers_are_refused_with_the_field_named(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_number(raw, field="caller_id")
    error = caught.value
    assert error.field == "caller_id"
    assert error.details["reason"] == reason
    assert error.render("fr") != error.render("en")


def test_parse_number_field_defaults_to_number() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_number("pas un numéro")
    assert caught.value.field == "number"
    assert "pas un numéro" in caught.value.render("fr")


@pytest.mark.parametrize(
    ("raw", "kind", "e164"),
    [
        # SPEC: VOX-14 — geographic, non-geographic (09), special 08AB and 3BPQ formats.
        ("0140000000", NumberKind.GEOGRAPHIC, "+33140000000"),
        ("0612345678", NumberKind.MOBILE, "+33612345678"),
        ("0740123456", NumberKind.MOBILE, "+33740123456"),
        ("0912345678", NumberKind.NON_GEOGRAPHIC, "+33912345678"),
        ("0899123456", NumberKind.SPECIAL, "+33899123456"),
        ("0800123456", NumberKind.SPECIAL, "+33800123456"),
        ("3900", NumberKind.SHORT, None),
        ("39 49", NumberKind.SHORT, None),
        ("+44 20 7946 0000", NumberKind.INTERNATIONAL, "+442079460000"),
        ("+1 650 253 0000", NumberKind.INTERNATIONAL, "+16502530000"),
        ("0612", NumberKind.OTHER, None),
    ],
)
def test_classify(raw: str, kind: NumberKind, e164: str | None) -> None:
    info = classify(raw)
    assert info.kind is kind
    assert info.e164 == e164
    assert info.is_valid is (e164 is not None)
    assert info.raw == raw
    assert not info.is_emergency


def test_classify_details_of_a_geographic_number() -> None:
    info = classify("01 40 00 00 00")
    assert info.country_code == 33
    assert info.region == "FR"
    assert info.national_number == "140000000"
    assert info.is_french
    assert info.description.fr == "Numéro géographique (01)"
    assert info.description.en == "Geographic number (01)"


def test_classify_international_number() -> None:
    info = classify("+44 20 7946 0000")
    assert (info.country_code, info.region) == (44, "GB")
    assert info.national_number == "2079460000"
    assert not info.is_french


def test_classify_special_number_describes_its_tariff() -> None:
    assert "majorée" in classify("0899123456").description.fr
    assert "free" in classify("0800123456").description.en


@pytest.mark.parametrize("raw", sorted(FRENCH_EMERGENCY_NUMBERS))
def test_emergency_numbers_are_recognised_first(raw: str) -> None:
    # SPEC: VOX-02 — emergency numbers are recognised so that they are never routed.
    info = classify(raw)
    assert info.kind is NumberKind.EMERGENCY
    assert info.is_emergency
    assert info.e164 is None
    assert info.national_number == raw
    assert info.description == FRENCH_EMERGENCY_NUMBERS[raw]


def test_arcep_emergency_list_is_complete() -> None:
    assert set(FRENCH_EMERGENCY_NUMBERS) == {
        "15", "17", "18", "112", "114", "115", "116000", "116117", "119", "191", "196", "197",
    }  # fmt: skip


def test_emergency_number_with_spaces() -> None:
    assert classify(" 116 117 ").kind is NumberKind.EMERGENCY


def test_112_example() -> None:
    # SPEC: VOX-02
    info = classify("112")
    assert info.kind is NumberKind.EMERGENCY
    assert info.description.en == "European emergency number"


def test_overseas_numbers_are_french_but_not_metropolitan() -> None:
    info = classify("0692123456")
    assert info.kind is NumberKind.MOBILE
    assert info.e164 == "+262692123456"
    assert info.region == "RE"
    assert info.is_french
    assert classify("0590123456").kind is NumberKind.GEOGRAPHIC
    assert classify("+596 696 12 34 56").kind is NumberKind.MOBILE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # SPEC: SMS-07 — recipients: French metropolitan mobile numbers only.
        ("+33612345678", True),
        ("+33740123456", True),
        ("06 12 34 56 78", True),
        ("+33140000000", False),
        ("+33912345678", False),
        ("+262692123456", False),  # Réunion
        ("0692123456", False),
        ("+590690123456", False),  # Guadeloupe
        ("+447700900123", False),  # UK mobile
        ("+33612", False),
        ("112", False),
        ("", False),
        ("n'importe quoi", False),
    ],
)
def test_is_french_metropolitan_mobile(raw: str, expected: bool) -> None:
    assert is_french_metropolitan_mobile(raw) is expected


@pytest.mark.parametrize(
    ("raw", "prefix"),
    [
        ("+33899123456", "0899"),
        ("0899123456", "0899"),
        ("+33800123456", "0800"),
        ("+33820123456", "0820"),
        ("+33140000000", None),
        ("3900", None),
        ("+442079460000", None),
        ("garbage", None),
    ],
)
def test_special_number_prefix(raw: str, prefix: str | None) -> None:
    # SPEC: VOX-14 — special number format 08AB.
    assert special_number_prefix(raw) == prefix


def test_number_info_is_frozen() -> None:
    info = classify("0140000000")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.kind = NumberKind.MOBILE  # type: ignore[misc]
