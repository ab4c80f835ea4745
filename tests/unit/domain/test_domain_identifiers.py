from __future__ import annotations

import re

import pytest

from operateur.domain.identifiers import (
    REFERENCE_ALPHABET,
    french_vat_from_siren,
    new_reference,
    validate_bic,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat,
)
from operateur.errors import InvalidInput


def _error(call: object, *args: str, **kwargs: str) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    assert caught.value.code == "invalid_input"
    assert caught.value.render("fr") != caught.value.render("en")
    return caught.value


# --- SIREN / SIRET ---------------------------------------------------------------------------


def test_valid_siren_is_returned_compact() -> None:
    assert validate_siren("732829320") == "732829320"
    assert validate_siren(" 732 829 320 ") == "732829320"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("732829321", "bad_checksum"),
        ("73282932", "bad_length"),
        ("7328293200", "bad_length"),
        ("73282932A", "bad_format"),
        ("", "required"),
    ],
)
def test_invalid_siren_says_what_is_wrong(raw: str, reason: str) -> None:
    error = _error(validate_siren, raw)
    assert error.field == "siren"
    assert error.details["reason"] == reason


def test_siren_error_messages_name_the_problem() -> None:
    error = _error(validate_siren, "732829321")
    assert error.render("fr") == "SIREN invalide : la clé de contrôle de « 732829321 » est fausse."
    assert error.render("en") == "Invalid SIREN: the check digits of “732829321” are wrong."


def test_field_name_can_be_chosen() -> None:
    assert _error(validate_siren, "123", field="customer.siren").field == "customer.siren"


def test_siret() -> None:
    assert validate_siret("732 829 320 00074") == "73282932000074"
    error = _error(validate_siret, "73282932000075")
    assert (error.field, error.details["reason"]) == ("siret", "bad_checksum")
    assert _error(validate_siret, "7328293200007").details["reason"] == "bad_length"


# --- VAT -------------------------------------------------------------------------------------


def test_french_vat_number_from_siren() -> None:
    assert french_vat_from_siren("732829320") == "FR44732829320"
    assert validate_vat(french_vat_from_siren("732 829 320")) == "FR44732829320"
    assert _error(french_vat_from_siren, "732829321").field == "siren"


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("FR 44 732829320", "FR44732829320"),
        ("fr44732829320", "FR44732829320"),
        ("DE136695976", "DE136695976"),
        ("ATU13585627", "ATU13585627"),
        ("EL094014201", "EL094014201"),
        ("SE556056625801", "SE556056625801"),
    ],
)
def test_valid_eu_vat_numbers(raw: str, compact: str) -> None:
    assert validate_vat(raw) == compact


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("FR00732829320", "bad_checksum"),
        ("XX123456789", "bad_component"),  # unknown country
        ("GB980780684", "bad_component"),  # not an EU member state any more
        ("DE13669597", "bad_length"),
        ("", "required"),
    ],
)
def test_invalid_vat_numbers(raw: str, reason: str) -> None:
    error = _error(validate_vat, raw)
    assert error.field == "vat_number"
    assert error.details["reason"] == reason


# --- IBAN / BIC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
        ("fr1420041010050500013m02606", "FR1420041010050500013M02606"),
        ("DE89370400440532013000", "DE89370400440532013000"),
        # No national checksum algorithm in schwifty for Sweden: still accepted, no warning.
        ("SE4550000000058398257466", "SE4550000000058398257466"),
    ],
)
def test_valid_iban_is_returned_compact(raw: str, compact: str) -> None:
    assert validate_iban(raw) == compact


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("FR1420041010050500013M02607", "bad_checksum"),
        ("FR8420041010050500013M02607", "bad_national_checksum"),  # right IBAN key, wrong RIB key
        ("FR14200410100505", "bad_length"),
        ("XX1420041010050500013M02606", "unknown_country"),
        ("", "required"),
    ],
)
def test_invalid_iban_says_what_is_wrong(raw: str, reason: str) -> None:
    error = _error(validate_iban, raw)
    assert error.field == "iban"
    assert error.details["reason"] == reason


def test_iban_field_name_can_be_chosen() -> None:
    error = _error(validate_iban, "FR1420041010050500013M02607", field="mandate.iban")
    assert error.field == "mandate.iban"
    assert "clé de contrôle" in error.render("fr")


@pytest.mark.parametrize(
    ("raw", "compact"),
    [("BNPAFRPP", "BNPAFRPP"), ("BNPAFRPPXXX", "BNPAFRPPXXX"), ("deut de ff 500", "DEUTDEFF500")],
)
def test_valid_bic(raw: str, compact: str) -> None:
    assert validate_bic(raw) == compact


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("BNPAFRP", "bad_length"),
        ("BNPAXXPP", "unknown_country"),
        ("BNPA1RPP", "bad_format"),
        ("", "required"),
    ],
)
def test_invalid_bic(raw: str, reason: str) -> None:
    error = _error(validate_bic, raw)
    assert error.field == "bic"
    assert error.details["reason"] == reason


# --- references ------------------------------------------------------------------------------


def test_new_reference_is_readable_and_random() -> None:
    reference = new_reference("MDT")
    body = f"[{REFERENCE_ALPHABET}]{{4}}"
    assert re.fullmatch(rf"MDT-{body}-{body}-{body}", reference)
    assert len(reference) <= 35  # SEPA mandate references are at most 35 characters
    assert len({new_reference("MDT") for _ in range(1000)}) == 1000


def test_new_reference_alphabet_has_no_look_alikes() -> None:
    assert not set("01OILU") & set(REFERENCE_ALPHABET)


def test_new_reference_length_and_grouping() -> None:
    reference = new_reference("T1", length=10, group=5)
    assert re.fullmatch(r"T1-[A-Z2-9]{5}-[A-Z2-9]{5}", reference)


@pytest.mark.parametrize("prefix", ["", "mdt", "1AB", "A-B", "ABCDEFGHIJK"])
def test_new_reference_refuses_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError):
        new_reference(prefix)
