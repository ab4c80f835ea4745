"""Pure SMS rules: STOP words (SMS-06), the content rule list (SMS-09), the sending window
(SMS-04) and recipients (SMS-07), without a database."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from operateur.catalog.service import get_offer
from operateur.catalog.terms import OutsideWindow, SmsRules
from operateur.domain.calendar import PARIS
from operateur.errors import InvalidInput
from operateur.sms.content import builtin_rules, matching_rule, parse_rules
from operateur.sms.encoding import stop_mention
from operateur.sms.optouts import is_stop, operator_short_code
from operateur.sms.recipients import check_recipient
from operateur.sms.window import plan


def rules(offer: str) -> SmsRules:
    sms = get_offer(offer).terms.sms
    assert sms is not None
    return sms


@pytest.mark.parametrize(
    ("text", "stop"),
    [
        ("STOP", True), ("stop", True), ("Stop.", True), ("  STOP SMS ", True),
        ("stop 38100", True), ("arrêt", True), ("ARRETER", True), ("Désabonner", True),
        ("désinscription", True), ("merci stop", True), ("UNSUBSCRIBE", True), ("S.T.O.P", True),
        ("Bonjour", False), ("", False), ("Merci pour le rappel, à demain", False),
        ("Je ne veux pas que ça s'arrête, merci beaucoup", False), ("stopped?", False),
    ],
)  # fmt: skip
def test_stop_words(text: str, stop: bool) -> None:
    # SPEC: SMS-06 — STOP and its usual variants, case, accents and punctuation ignored
    assert is_stop(text) is stop


def test_the_rule_list_ships_and_is_well_formed() -> None:
    # SPEC: SMS-09
    ids = [rule.id for rule in builtin_rules()]
    assert len(ids) == len(set(ids)) >= 10
    assert matching_rule("RDV confirmé demain 10h, répondez OUI") is None
    assert matching_rule("Connectez-vous sur http://192.168.0.10/banque") == "phishing-ip-link"
    assert matching_rule("Votre code confidentiel a expiré") == "phishing-credentials"


def test_a_bad_rule_file_names_its_line() -> None:
    with pytest.raises(ValueError, match="line 3"):
        parse_rules("# comment\nok-rule: abc\nbroken line without colon\n")
    with pytest.raises(ValueError, match="line 2"):
        parse_rules("dup: a\ndup: b\n")
    with pytest.raises(ValueError, match="line 1"):
        parse_rules("bad-regex: (unclosed\n")


def test_the_window_queues_or_rejects() -> None:
    # SPEC: SMS-04 — 004: Monday–Saturday 08:00–22:00 Paris, public holidays excluded
    telecom = rules("telecom")
    inside = datetime(2026, 3, 14, 21, 59, tzinfo=PARIS)  # Saturday
    assert plan(telecom, inside, OutsideWindow.REJECT) == inside
    night = datetime(2026, 3, 14, 22, 0, tzinfo=PARIS)
    assert plan(telecom, night, OutsideWindow.QUEUE) == datetime(2026, 3, 16, 8, tzinfo=PARIS)
    may_first = datetime(2026, 5, 1, 12, 0, tzinfo=PARIS)  # Friday, Labour Day
    assert plan(telecom, may_first, OutsideWindow.QUEUE) == datetime(2026, 5, 2, 8, tzinfo=PARIS)
    with pytest.raises(InvalidInput) as refused:
        plan(telecom, night, OutsideWindow.REJECT)
    assert "22:00" in refused.value.render("en") and "public holidays" in refused.value.render("en")
    assert plan(rules("cpaas"), night, OutsideWindow.REJECT) == night  # no window there


@pytest.mark.parametrize(
    ("offer", "number", "outcome"),
    [
        ("telecom", "06 12 34 56 78", "+33612345678 FR mobile"),
        ("telecom", "+33 1 40 00 00 00", "+33140000000 FR fixed fixed_number"),
        ("telecom", "0639 01 23 45", "not_metropolitan"),  # Mayotte mobile
        ("telecom", "+44 7400 123456", "not_metropolitan"),
        ("telecom", "0800 12 34 56", "not_mobile"),
        ("telecom", "112", "not_mobile"),
        ("cpaas", "+44 7400 123456", "+447400123456 GB mobile"),
        ("cpaas", "0692 12 34 56", "+262692123456 RE mobile"),
        ("cpaas", "+33 1 40 00 00 00", "not_mobile"),
    ],
)
def test_recipients(offer: str, number: str, outcome: str) -> None:
    # SPEC: SMS-07
    try:
        recipient = check_recipient(number, rules(offer))
    except InvalidInput as refused:
        assert refused.details["reason"] == outcome
        assert refused.render("fr") and refused.render("en")
        return
    shown = f"{recipient.e164} {recipient.destination}"
    assert (shown + (f" {recipient.warning}" if recipient.warning else "")) == outcome


def test_the_shared_short_code_is_a_term_and_its_number_the_operators_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SPEC: SMS-06, VOX-14 — the 004 offer shares the operator's short code; the number is the
    # operator's setting (3BPQ range, AF2M 36xxx/38xxx), 38100 by default, never a term
    telecom = rules("telecom")
    assert telecom.shared_short_code and telecom.stop_unsubscribes_all_senders
    assert "short_code" not in telecom.model_dump()
    with pytest.raises(ValueError, match="use the short code"):
        SmsRules.model_validate(telecom.model_dump() | {"shared_short_code": False})
    assert not rules("cpaas").shared_short_code and rules("cpaas").stop_mention is None
    assert operator_short_code() == "38100"
    monkeypatch.setenv("OPERATEUR_SMS_SHORT_CODE", "36180")
    assert operator_short_code() == "36180"
    monkeypatch.setenv("OPERATEUR_SMS_SHORT_CODE", "12345")  # not a 3BPQ short code
    with pytest.raises(ValidationError):
        operator_short_code()


def test_terms_frozen_with_the_number_still_load() -> None:
    # SPEC: SMS-06, CTR-01 terms frozen when the number was a term keep their meaning
    legacy = rules("telecom").model_dump(exclude={"shared_short_code"}) | {"short_code": "38100"}
    assert SmsRules.model_validate(legacy).shared_short_code
    cpaas = rules("cpaas").model_dump(exclude={"shared_short_code"}) | {"short_code": None}
    assert not SmsRules.model_validate(cpaas).shared_short_code


def test_the_stop_mention_must_fit_the_reserved_characters() -> None:
    # SPEC: SMS-03, SMS-06 [004 SMS annex §1] 10 characters for the STOP mention
    telecom = rules("telecom")
    assert telecom.stop_mention == "STOP {short_code}"
    assert stop_mention(telecom, "38100") == "STOP 38100"
    assert stop_mention(rules("cpaas"), "38100") == ""
    with pytest.raises(ValueError, match="10 reserved"):
        SmsRules.model_validate(telecom.model_dump() | {"stop_mention": "STOP au {short_code}"})
    with pytest.raises(ValueError, match="only name"):
        SmsRules.model_validate(telecom.model_dump() | {"stop_mention": "STOP {number}"})
    with pytest.raises(ValueError, match="letters, digits"):
        SmsRules.model_validate(telecom.model_dump() | {"stop_mention": "STOP€{short_code}"})
    with pytest.raises(ValueError, match="all its senders"):
        SmsRules.model_validate(telecom.model_dump() | {"stop_unsubscribes_all_senders": False})
