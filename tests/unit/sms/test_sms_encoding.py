"""Counting, checking and splitting SMS texts under an offer's ``SmsRules`` (SMS-02, SMS-03).

Offers used: ``telecom`` is the 004 offer (restricted GSM charset, no Unicode, 160/153 with 10
characters reserved for the STOP mention, 1224 at most); ``cpaas`` allows UCS-2 (70/67) and
reserves nothing for STOP.
"""

from __future__ import annotations

import pytest

from operateur.catalog.service import get_offer
from operateur.catalog.terms import SmsCharset, SmsRules
from operateur.errors import InvalidInput
from operateur.sms.encoding import (
    GSM_DEFAULT_ALPHABET,
    GSM_EXTENSION_TABLE,
    RESTRICTED_SUBSTITUTES,
    SmsEncoding,
    SmsProblem,
    allowed_characters,
    analyze,
    encode,
    septets,
    split,
    stop_mention,
)


def sms_rules(offer_id: str) -> SmsRules:
    rules = get_offer(offer_id).terms.sms
    assert rules is not None
    return rules


@pytest.fixture
def o004() -> SmsRules:
    return sms_rules("telecom")


@pytest.fixture
def cpaas() -> SmsRules:
    return sms_rules("cpaas")


def sizes(text: str, rules: SmsRules) -> list[int]:
    return [part.length for part in analyze(text, rules).parts]


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


def test_the_default_alphabet_has_its_127_characters_plus_both_readings_of_0x09() -> None:
    # 128 codes minus the escape 0x1B, plus "ç" beside "Ç" for 0x09.
    assert len(GSM_DEFAULT_ALPHABET) == 128
    assert GSM_DEFAULT_ALPHABET["@"] == 0x00
    assert GSM_DEFAULT_ALPHABET["Ç"] == GSM_DEFAULT_ALPHABET["ç"] == 0x09
    assert GSM_DEFAULT_ALPHABET["É"] == 0x1F
    assert GSM_DEFAULT_ALPHABET["à"] == 0x7F
    assert "\x1b" not in GSM_DEFAULT_ALPHABET


def test_extension_characters_count_two_septets() -> None:
    # SPEC: SMS-03 "^ ~ | { } [ ] \ € count double"
    assert set(GSM_EXTENSION_TABLE) == set("\f^{}\\[~]|€")
    for char in "^~|{}[]\\€":
        assert septets(char, SmsCharset.GSM7) == 2
        assert septets(char, SmsCharset.GSM7_RESTRICTED) == 2
    assert septets("a", SmsCharset.GSM7) == 1


def test_the_004_charset_is_the_annex_list_read_in_gsm() -> None:
    # SPEC: SMS-02 every character of the restricted charset is sent as a GSM character
    restricted = allowed_characters(SmsCharset.GSM7_RESTRICTED)
    gsm = allowed_characters(SmsCharset.GSM7)
    for char in restricted:
        sent = RESTRICTED_SUBSTITUTES.get(char, char)
        assert sent in GSM_DEFAULT_ALPHABET or sent in GSM_EXTENSION_TABLE, char
    # What GSM has and the annex does not list: the underscore and the page break.
    assert gsm - restricted == {"_", "\f"}
    assert set(RESTRICTED_SUBSTITUTES) == restricted - gsm


# --------------------------------------------------------------------------------------------
# SMS-03 lengths and parts, GSM 7-bit
# --------------------------------------------------------------------------------------------


def test_150_characters_fit_one_sms_under_the_004_offer(o004: SmsRules) -> None:
    # SPEC: SMS-03 160 including 10 for STOP: 150 + 10 = 160 -> one part.
    analysis = analyze("a" * 150, o004)
    assert analysis.valid
    assert analysis.encoding is SmsEncoding.GSM7
    assert (analysis.length, analysis.stop_reserved, analysis.total_length) == (150, 10, 160)
    assert analysis.part_count == 1
    assert analysis.parts[0].capacity == 150


def test_151_characters_make_two_parts_under_the_004_offer(o004: SmsRules) -> None:
    # SPEC: SMS-03 151 + 10 = 161 > 160 -> concatenated: the first part holds 153 - 10 = 143,
    # the second the remaining 151 - 143 = 8.
    analysis = analyze("a" * 151, o004)
    assert analysis.valid
    assert analysis.part_count == 2
    assert [(p.start, p.end, p.length, p.capacity) for p in analysis.parts] == [
        (0, 143, 143, 143),
        (143, 151, 8, 153),
    ]


def test_the_stop_mention_length_comes_from_the_terms(o004: SmsRules) -> None:
    # SPEC: SMS-03 without the reservation, 160 characters fit one SMS.
    without_stop = o004.model_copy(update={"stop_mention_length": 0})
    assert sizes("a" * 160, without_stop) == [160]
    assert sizes("a" * 160, o004) == [143, 17]


def test_an_extension_character_at_a_boundary_moves_whole_to_the_next_part(
    cpaas: SmsRules,
) -> None:
    # SPEC: SMS-03 152 "a" + "€" + 10 "b" = 152 + 2 + 10 = 164 septets > 160 -> parts of 153.
    # Part 1 has 152 septets; "€" (escape + code) would need 153-154: it moves to part 2.
    text = "a" * 152 + "€" + "b" * 10
    analysis = analyze(text, cpaas)
    assert [(p.start, p.end, p.length) for p in analysis.parts] == [(0, 152, 152), (152, 163, 12)]
    assert split(text, cpaas) == ["a" * 152, "€" + "b" * 10]


def test_an_extension_character_ending_exactly_at_153_stays(cpaas: SmsRules) -> None:
    # SPEC: SMS-03 151 "a" + "€" = 153 septets exactly fill part 1; 10 "b" go to part 2.
    text = "a" * 151 + "€" + "b" * 10
    assert split(text, cpaas) == ["a" * 151 + "€", "b" * 10]
    assert sizes(text, cpaas) == [153, 10]


def test_an_extension_character_at_the_004_first_part_boundary(o004: SmsRules) -> None:
    # SPEC: SMS-03 142 "a" + "€" + 10 "b" = 154 septets + 10 STOP = 164 > 160 -> concatenated.
    # The first part offers 143: 142 + 2 = 144 does not fit, "€" opens part 2 (2 + 10 = 12).
    text = "a" * 142 + "€" + "b" * 10
    assert split(text, o004) == ["a" * 142, "€" + "b" * 10]
    assert sizes(text, o004) == [142, 12]


def test_an_extension_character_tips_a_single_sms_over(cpaas: SmsRules, o004: SmsRules) -> None:
    # SPEC: SMS-03 158 "a" + "€" = 160 -> one SMS; 159 "a" + "€" = 161 -> 153 | 6 + 2 = 8.
    assert sizes("a" * 158 + "€", cpaas) == [160]
    assert sizes("a" * 159 + "€", cpaas) == [153, 8]
    # Under 004: 148 + 2 = 150 (+10) -> one SMS; 149 + 2 = 151 -> 143 | 6 + 2 = 8.
    assert sizes("a" * 148 + "€", o004) == [150]
    assert sizes("a" * 149 + "€", o004) == [143, 8]


def test_the_maximum_length_counts_the_stop_mention(o004: SmsRules) -> None:
    # SPEC: SMS-03 at most 1224 = 8 x 153, STOP included: 1214 characters of text fill exactly
    # 143 + 7 x 153 = 1214 in 8 parts; one more is refused.
    longest = analyze("a" * 1214, o004)
    assert longest.valid
    assert longest.total_length == 1224
    assert sizes("a" * 1214, o004) == [143] + [153] * 7
    too_long = analyze("a" * 1215, o004)
    assert not too_long.valid
    assert too_long.problem is SmsProblem.TOO_LONG
    assert too_long.reason is not None
    assert "1225" in too_long.reason.fr and "1224" in too_long.reason.en
    assert not analyze("a" * 1224, o004).valid


def test_extension_characters_count_double_against_the_maximum(o004: SmsRules) -> None:
    # SPEC: SMS-03 607 "€" = 1214 septets -> valid; 608 = 1216 + 10 = 1226 -> refused.
    assert analyze("€" * 607, o004).valid
    assert analyze("€" * 608, o004).problem is SmsProblem.TOO_LONG


def test_split_parts_join_back_to_the_text(o004: SmsRules) -> None:
    # SPEC: SMS-03
    text = ("Bonjour {client}, votre commande [42] est prete ~ 10€ | merci ^^ " * 12)[:900]
    parts = split(text, o004)
    assert "".join(parts) == text
    analysis = analyze(text, o004)
    assert all(part.length <= part.capacity for part in analysis.parts)


def test_an_empty_text_is_refused(o004: SmsRules) -> None:
    analysis = analyze("", o004)
    assert analysis.problem is SmsProblem.EMPTY
    assert analysis.part_count == 0


# --------------------------------------------------------------------------------------------
# SMS-02 characters, UCS-2
# --------------------------------------------------------------------------------------------


def test_a_character_outside_the_004_list_fails_the_message_and_is_named(
    o004: SmsRules,
) -> None:
    # SPEC: SMS-02 "ê" is neither in GSM 03.38 nor in the annex's list; Unicode is not allowed.
    analysis = analyze("Fête à 10€", o004)
    assert not analysis.valid
    assert analysis.problem is SmsProblem.CHARACTERS
    assert analysis.encoding is SmsEncoding.GSM7
    assert [(f.character, f.index, f.codepoint) for f in analysis.faults] == [("ê", 1, "U+00EA")]
    assert analysis.reason is not None
    assert '"ê" (U+00EA)' in analysis.reason.fr and "position(s) 2" in analysis.reason.en
    with pytest.raises(InvalidInput) as caught:
        split("Fête à 10€", o004)
    assert caught.value.code == "sms_characters"
    assert caught.value.field == "text"
    assert caught.value.details["characters"] == '"ê" (U+00EA)'


def test_an_emoji_fails_under_the_004_offer(o004: SmsRules) -> None:
    # SPEC: SMS-02
    analysis = analyze("Merci 😀 à bientôt 😀", o004)
    assert not analysis.valid
    assert [(f.character, f.index) for f in analysis.faults] == [("😀", 6), ("ô", 15), ("😀", 18)]
    assert analysis.reason is not None
    # Each character named once, every position listed (from 1).
    assert analysis.reason.en.count("U+1F600") == 1
    assert "7, 16, 19" in analysis.reason.en


def test_c_cedilla_and_the_annex_accents_are_gsm(o004: SmsRules, cpaas: SmsRules) -> None:
    # SPEC: SMS-02 the annex lists Ç ç À È É Ù è é ù ì ò: one septet each.
    for rules in (o004, cpaas):
        analysis = analyze("Garçon Ça é è ù à", rules)
        assert analysis.valid and analysis.encoding is SmsEncoding.GSM7
        assert analysis.length == 17
    assert analyze("À bientot", o004).valid
    # À is in the annex, not in GSM 03.38: the full GSM charset sends it in UCS-2.
    assert analyze("À demain", cpaas).encoding is SmsEncoding.UCS2


def test_the_underscore_is_gsm_but_not_in_the_004_list(o004: SmsRules, cpaas: SmsRules) -> None:
    # SPEC: SMS-02
    assert analyze("ref_42", cpaas).encoding is SmsEncoding.GSM7
    assert [f.character for f in analyze("ref_42", o004).faults] == ["_"]


def test_unicode_offer_switches_to_ucs2_with_70_and_67(cpaas: SmsRules) -> None:
    # SPEC: SMS-02, SMS-03 "ê" + 69 "a" = 70 UTF-16 units -> one part; 71 -> 67 | 4.
    analysis = analyze("ê" + "a" * 69, cpaas)
    assert analysis.valid and analysis.encoding is SmsEncoding.UCS2
    assert (analysis.length, analysis.part_count) == (70, 1)
    assert sizes("ê" + "a" * 70, cpaas) == [67, 4]


def test_ucs2_under_the_004_terms_with_unicode_still_reserves_stop(o004: SmsRules) -> None:
    # SPEC: SMS-03 60 units + 10 = 70 -> one part; 61 + 10 = 71 -> 67 - 10 = 57 | 4.
    unicode = o004.model_copy(update={"allow_unicode": True})
    assert sizes("ê" + "a" * 59, unicode) == [60]
    assert sizes("ê" + "a" * 60, unicode) == [57, 4]


def test_an_emoji_counts_two_units_and_is_never_cut(cpaas: SmsRules) -> None:
    # SPEC: SMS-03 66 "a" + 😀 (a surrogate pair: 2 units) + 5 "b" = 73 > 70 -> parts of 67.
    # 66 + 2 = 68 > 67: the emoji moves whole to part 2 (2 + 5 = 7).
    text = "a" * 66 + "😀" + "b" * 5
    analysis = analyze(text, cpaas)
    assert analysis.length == 73
    assert [(p.start, p.end, p.length) for p in analysis.parts] == [(0, 66, 66), (66, 72, 7)]
    assert split(text, cpaas) == ["a" * 66, "😀bbbbb"]
    for part in split(text, cpaas):
        part.encode("utf-16-be")  # no lone surrogate in any part


def test_an_accent_written_as_a_combining_mark_stays_with_its_letter(cpaas: SmsRules) -> None:
    # SPEC: SMS-03 66 "a" + "e" + U+0301 (2 units) + 5 "b" = 73 -> the pair moves to part 2.
    text = "a" * 66 + "e\u0301" + "b" * 5
    assert split(text, cpaas) == ["a" * 66, "e\u0301bbbbb"]


def test_a_lone_surrogate_is_a_fault_even_in_ucs2(cpaas: SmsRules) -> None:
    # SPEC: SMS-02
    analysis = analyze("abc\ud83d", cpaas)
    assert analysis.problem is SmsProblem.CHARACTERS
    assert [f.index for f in analysis.faults] == [3]


# --------------------------------------------------------------------------------------------
# Wire encoding
# --------------------------------------------------------------------------------------------


def test_encode_gsm7_writes_escape_pairs_and_substitutes() -> None:
    # SPEC: SMS-02, SMS-03
    assert encode("A€ç", SmsEncoding.GSM7) == bytes([0x41, 0x1B, 0x65, 0x09])
    assert encode("À‘–»", SmsEncoding.GSM7) == b"A'-\""
    assert encode("😀", SmsEncoding.UCS2) == "😀".encode("utf-16-be")
    with pytest.raises(InvalidInput):
        encode("ê", SmsEncoding.GSM7)
    with pytest.raises(InvalidInput):
        encode("\ud83d", SmsEncoding.UCS2)


def test_a_long_list_of_faults_is_shortened_in_the_reason(o004: SmsRules) -> None:
    # SPEC: SMS-02 every fault is kept, the reason shows the first ten positions.
    analysis = analyze("Привет мир, как дела", o004)
    assert len(analysis.faults) == 16
    assert analysis.reason is not None
    assert analysis.reason.fr.endswith("position(s) 1, 2, 3, 4, 5, 6, 8, 9, 10, 13, ….")


# --------------------------------------------------------------------------------------------
# SMS-06 the STOP mention as sent (worked out by hand, "STOP 38100" = 10 septets)
# --------------------------------------------------------------------------------------------

MENTION = "STOP 38100"


def test_the_mention_ends_the_text_as_sent_after_a_line_break(o004: SmsRules) -> None:
    # SPEC: SMS-06, SMS-03 "Promo" (5) + "\n" + mention = 16 septets: one part
    analysis = analyze("Promo", o004, stop_mention(o004, "38100"))
    assert analysis.sent_text == "Promo\nSTOP 38100"
    assert analysis.part_texts() == ["Promo\nSTOP 38100"]
    assert (analysis.length, analysis.stop_reserved, analysis.part_count) == (5, 11, 1)


def test_the_line_break_is_left_out_when_it_would_cost_a_part(o004: SmsRules) -> None:
    # SPEC: SMS-03 the 004 customer keeps 150 characters in one SMS: 150 + 10 = 160
    analysis = analyze("a" * 150, o004, MENTION)
    assert analysis.part_texts() == ["a" * 150 + MENTION]
    assert (analysis.stop_reserved, analysis.total_length, analysis.part_count) == (10, 160, 1)
    # 149 + 1 + 10 = 160: the line break fits
    assert analyze("a" * 149, o004, MENTION).part_texts() == ["a" * 149 + "\n" + MENTION]


def test_a_text_ending_with_a_space_or_line_break_takes_the_mention_as_is(
    o004: SmsRules,
) -> None:
    # SPEC: SMS-06
    assert analyze("Promo ", o004, MENTION).sent_text == "Promo STOP 38100"
    assert analyze("Promo\n", o004, MENTION).sent_text == "Promo\nSTOP 38100"


def test_the_mention_counts_against_the_maximum_length(o004: SmsRules) -> None:
    # SPEC: SMS-03 1214 + 10 = 1224 = 8 x 153: valid, glued; 1215 + 10 = 1225: refused
    longest = analyze("a" * 1214, o004, MENTION)
    assert longest.valid and longest.part_count == 8
    assert longest.part_texts()[-1] == "a" * 143 + MENTION
    too_long = analyze("a" * 1215, o004, MENTION)
    assert too_long.problem is SmsProblem.TOO_LONG


def test_with_or_without_the_mention_text_the_part_count_is_the_same(o004: SmsRules) -> None:
    # SPEC: SMS-03 the reservation counted in the first part or the mention at the end: the
    # same number of parts, for lengths around every boundary
    for size in (140, 149, 150, 151, 152, 296, 297, 305, 306, 307, 459, 460):
        text = "a" * size
        assert analyze(text, o004).part_count == analyze(text, o004, MENTION).part_count, size
