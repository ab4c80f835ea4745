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
