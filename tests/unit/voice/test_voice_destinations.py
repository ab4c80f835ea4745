"""Reading dialled numbers and caller IDs, without a database (VOX-01, VOX-02, VOX-09)."""

from __future__ import annotations

import pytest

from operateur.catalog.service import get_offer
from operateur.voice.callerid import caller_id_refusal
from operateur.voice.destinations import PrefixSet, barring, blocklist, dialled


@pytest.mark.parametrize(
    ("raw", "route", "key"),
    [
        ("+33140000000", "fr_geographic", "33140000000"),
        ("0140000000", "fr_geographic", "33140000000"),
        ("0033612345678", "fr_mobile", "33612345678"),
        ("33612345678", "fr_mobile", "33612345678"),  # E.164 without its +
        ("0692123456", "fr_mobile", "262692123456"),  # Réunion
        ("3654", "fr_short", "333654"),
        ("112", "emergency", None),
        ("+3222000000", "international", "3222000000"),
    ],
)
def test_dialled_numbers_are_read_whatever_their_form(
    raw: str, route: str, key: str | None
) -> None:
    number = dialled(raw)
    assert number is not None
    assert (number.route, number.rating_key) == (route, key)


def test_not_a_number() -> None:
    assert dialled("hello") is None
    assert dialled("0123") is None


# SPEC: VOX-01
def test_barring_order_and_reasons() -> None:
    centrex = get_offer("centrex").terms.voice
    crm = get_offer("crm-voip").terms.voice
    assert centrex is not None and crm is not None
    none = PrefixSet({})
    blocked = blocklist()
    usa = dialled("+12125550100")
    assert usa is not None
    refusal = barring(usa, centrex, blocked=blocked, suspended=none)
    assert refusal is not None and refusal.cause == "country_not_allowed"
    assert barring(usa, crm, blocked=blocked, suspended=none) is None  # worldwide offer
    premium = dialled("+979123456789")
    assert premium is not None
    refusal = barring(premium, crm, blocked=blocked, suspended=none)
    assert refusal is not None and refusal.cause == "blocked_destination"
    fr = dialled("0145000000")
    assert fr is not None
    refusal = barring(fr, crm, blocked=blocked, suspended=PrefixSet({"3314": "x"}))
    assert refusal is not None and refusal.cause == "suspended_destination"
    refusal = barring(fr, crm, blocked=blocked, suspended=none, media="data")
    assert refusal is not None and (refusal.rule, refusal.cause) == ("VOX-02", "data_or_fax")


# SPEC: VOX-09
def test_caller_id_rules() -> None:
    cpaas = get_offer("cpaas").terms.voice
    assert cpaas is not None
    mine = frozenset({"+33612345678", "+33162000001", "+33145000001"})
    assert caller_id_refusal("0162000001", cpaas.cli, assigned=mine) is None
    refusal = caller_id_refusal("+33612345678", cpaas.cli, assigned=mine)
    assert refusal is not None and refusal.cause == "mobile_caller_id_automated"
    refusal = caller_id_refusal("+33145000001", cpaas.cli, assigned=mine)
    assert refusal is not None and refusal.cause == "caller_id_outside_automated_ranges"
    refusal = caller_id_refusal("+33163000000", cpaas.cli, assigned=mine)
    assert refusal is not None and refusal.cause == "caller_id_not_assigned"


# SPEC: VOX-09 (Arcep décision 2022-1583: the verified polyvalent ranges of the overseas
# departments, 09475 to 09479, may be presented by automated calling systems; 0947 otherwise not)
@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        ("+33947512345", True),  # 09475 Guadeloupe, Saint-Martin, Saint-Barthélemy
        ("+33947612345", True),  # 09476 Guyane
        ("+33947712345", True),  # 09477 Martinique
        ("+33947812345", True),  # 09478 La Réunion, Mayotte
        ("+33947912345", True),  # 09479 La Réunion, Mayotte
        ("+33947412345", False),  # 09474: an ordinary 09 number
    ],
)
def test_overseas_automated_calling_ranges(caller: str, allowed: bool) -> None:
    cpaas = get_offer("cpaas").terms.voice
    assert cpaas is not None
    refusal = caller_id_refusal(caller, cpaas.cli, assigned=frozenset({caller}))
    if allowed:
        assert refusal is None
    else:
        assert refusal is not None and (refusal.rule, refusal.cause) == (
            "VOX-09",
            "caller_id_outside_automated_ranges",
        )


# SPEC: VOX-02 (an emergency number sent in the +33 / 0033 form a proxy normalises to is still
# an emergency number: routed free, never refused as an unknown number)
@pytest.mark.parametrize("raw", ["+33112", "0033112", "+3315", "+33116117", "+33 17"])
def test_emergency_numbers_with_the_french_country_code(raw: str) -> None:
    number = dialled(raw)
    assert number is not None
    assert (number.route, number.is_emergency, number.rating_key) == ("emergency", True, None)
