"""Sender-ID (OADC) checks (SMS-05)."""

from __future__ import annotations

import pytest

from operateur.catalog.service import get_offer
from operateur.catalog.terms import SenderPattern, SmsRules
from operateur.sms.senders import (
    MAX_SENDER_LENGTH,
    SenderRule,
    builtin_sensitive_names,
    check_sender,
    find_sensitive_name,
    fold_name,
)


def sms_rules(offer_id: str) -> SmsRules:
    rules = get_offer(offer_id).terms.sms
    assert rules is not None
    return rules


@pytest.fixture
def o004() -> SmsRules:
    return sms_rules("telecom")


def test_the_list_holds_the_seed_names_and_more_than_sixty() -> None:
    # SPEC: SMS-05 "Orange, Gouv, Impôt, Ameli, CPF, BRED, Paypal, EDF, COLISSIMO and similar"
    names = builtin_sensitive_names()
    seed = ["Orange", "Gouv", "Impôt", "Ameli", "CPF", "BRED", "Paypal", "EDF", "COLISSIMO"]
    assert all(name in names for name in seed)
    assert len(names) >= 60
    assert len({fold_name(name) for name in names}) == len(names)  # no duplicates once folded
    assert not any(name.startswith("#") for name in names)


@pytest.mark.parametrize(
    ("sender", "matched"),
    [
        ("ORANGE", "Orange"),
        ("0range", "Orange"),  # 0 for o
        ("IMP0TS", "Impôt"),  # 0 for o, plural
        ("MonImpot", "Impôt"),  # embedded after a generic word
        ("Améli", "Ameli"),  # accent ignored
        ("AMELI-INFO", "Ameli"),  # separator and generic suffix
        ("la-poste", "La Poste"),  # separator, case
        ("LA POSTE", "La Poste"),
        ("BRED1", "BRED"),  # trailing digit
        ("EDF", "EDF"),
        ("MonEDF", "EDF"),
        ("EDF Info", "EDF"),
        ("CPF", "CPF"),
        ("gouv.fr", "Gouv"),
        ("P4YPAL", "Paypal"),  # 4 for a
        ("Paypa1", "Paypal"),  # 1 for l
        ("C0LI55IM0", "COLISSIMO"),  # 0 for o, 1 for i, 5 for s
        ("ChronoPost", "Chronopost"),
        ("SNCF", "SNCF"),
        ("CAF Bordeaux", "CAF"),  # a word of its own
    ],
)
def test_sensitive_names_and_their_variants_are_refused(
    o004: SmsRules, sender: str, matched: str
) -> None:
    # SPEC: SMS-05
    check = check_sender(sender, o004)
    assert not check.allowed
    assert check.rule is SenderRule.SENSITIVE_NAME
    assert check.matched_name == matched
    assert f"« {matched} »" in check.reason.fr
    assert "SMS-05" in check.reason.en


@pytest.mark.parametrize("sender", ["CAFE", "REDFOX", "FREEDOM", "PARKING", "CAMELIA", "GROUPS"])
def test_a_short_name_inside_an_ordinary_word_is_not_a_match(sender: str) -> None:
    # SPEC: SMS-05 CAF, EDF, Free, ING, Ameli, UPS appear in these words without standing alone.
    assert find_sensitive_name(sender) is None
    assert check_sender(sender).allowed


def test_letter_and_four_digits_is_refused(o004: SmsRules) -> None:
    # SPEC: SMS-05 "1 lettre + 4 chiffres", in any order
    for sender in ("A1234", "a1234", "1234Z", "12B34"):
        check = check_sender(sender, o004)
        assert check.rule is SenderRule.LETTER_AND_FOUR_DIGITS, sender
        assert check.rule.value == SenderPattern.LETTER_AND_FOUR_DIGITS.value
    assert check_sender("AB1234", o004).allowed
    assert check_sender("A123", o004).allowed


def test_digits_only_is_refused(o004: SmsRules) -> None:
    # SPEC: SMS-05 "constitués uniquement de chiffres", separators ignored
    for sender in ("12345", "0612345678", "06 12 34"):
        check = check_sender(sender, o004)
        assert check.rule is SenderRule.DIGITS_ONLY, sender
        assert check.rule.value == SenderPattern.DIGITS_ONLY.value
    assert "chiffres" in check_sender("12345", o004).reason.fr


def test_the_offer_says_which_patterns_apply() -> None:
    # SPEC: SMS-05 the cpaas offer refuses digits only, not one letter and four digits.
    cpaas = sms_rules("cpaas")
    assert check_sender("A1234", cpaas).allowed
    assert check_sender("12345", cpaas).rule is SenderRule.DIGITS_ONLY
    # Without an offer, every pattern applies.
    assert check_sender("A1234").rule is SenderRule.LETTER_AND_FOUR_DIGITS


def test_the_offer_can_add_sensitive_names(o004: SmsRules) -> None:
    # SPEC: SMS-05 the offer's names are added to the operator's list.
    rules = o004.model_copy(
        update={"sensitive_sender_names": (*o004.sensitive_sender_names, "Networth")}
    )
    assert check_sender("NETW0RTH", o004).allowed
    check = check_sender("NETW0RTH", rules)
    assert check.rule is SenderRule.SENSITIVE_NAME
    assert check.matched_name == "Networth"


@pytest.mark.parametrize(
    "sender", ["BOULANGERIE", "GarageBern", "Garage Bern", "Dr.Martin", "AB12"]
)
def test_ordinary_senders_are_accepted(o004: SmsRules, sender: str) -> None:
    # SPEC: SMS-05
    check = check_sender(sender, o004)
    assert check.allowed, check.reason.en
    assert check.rule is None and check.matched_name is None
    assert check.error() is None
    assert check.reason.fr == f"Émetteur « {sender} » accepté (SMS-05)."
    assert check.reason.en == f'Sender "{sender}" accepted (SMS-05).'


def test_at_most_eleven_characters(o004: SmsRules) -> None:
    # SPEC: SMS-05 up to 11 alphanumeric characters
    assert MAX_SENDER_LENGTH == 11
    assert check_sender("ABCDEFGHIJK", o004).allowed
    check = check_sender("ABCDEFGHIJKL", o004)
    assert check.rule is SenderRule.TOO_LONG
    assert "12" in check.reason.fr and "11" in check.reason.en


@pytest.mark.parametrize("sender", ["Café", "Bar_Tabac", "-Garage", "Garage!", "Bar&Co"])
def test_only_plain_letters_digits_and_inner_separators(o004: SmsRules, sender: str) -> None:
    # SPEC: SMS-05 A–Z, a–z, 0–9, inner space, hyphen or full stop
    check = check_sender(sender, o004)
    assert check.rule is SenderRule.CHARACTERS
    assert "A–Z" in check.reason.fr


def test_an_empty_sender_is_refused(o004: SmsRules) -> None:
    assert check_sender("  ", o004).rule is SenderRule.EMPTY


def test_a_sensitive_name_is_reported_before_the_length(o004: SmsRules) -> None:
    # SPEC: SMS-05 the most telling rule is named first.
    check = check_sender("AMELI-INFORMATIONS", o004)
    assert check.rule is SenderRule.SENSITIVE_NAME


def test_a_refusal_becomes_an_invalid_input_naming_the_rule(o004: SmsRules) -> None:
    # SPEC: SMS-05
    error = check_sender("{Orange}", o004).error()
    assert error is not None
    assert error.code == "sender_sensitive_name"
    assert error.field == "sender"
    assert error.details == {"sender": "{Orange}", "name": "Orange"}
    assert error.render("fr") == (
        "Émetteur « {Orange} » refusé (SMS-05) : il reprend le nom sensible « Orange »."
    )


def test_a_long_sender_is_checked_quickly() -> None:
    # The word-break over generic words must not backtrack exponentially.
    assert find_sensitive_name("infos" * 400 + "x") is None
