"""Rating core: rate decks, longest-prefix match, billing steps, call costs, usage files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from operateur.billing.rating import (
    MAX_CALL_SECONDS,
    CallRecord,
    Disposition,
    Rate,
    RatedCall,
    RateDeck,
    Rejection,
    UsageFile,
    describe_reason,
    e164_digits,
    parse_deck,
    parse_usage,
    rate_call,
    rate_usage,
)
from operateur.errors import InvalidInput

HEADER = "prefix,destination,price_per_minute,connection_fee,steps,min_seconds"
USAGE_HEADER = "call_id,account,caller,callee,start,answer,end,disposition"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def deck_of(*rows: str) -> RateDeck:
    return parse_deck("\n".join([HEADER, *rows]) + "\n")


def answered_call(callee: str, seconds: int, *, line: int = 2, call_id: str = "c1") -> CallRecord:
    answer = T0 + timedelta(seconds=3)
    return CallRecord(
        line=line,
        call_id=call_id,
        account="acme",
        caller="33140000000",
        callee=callee,
        start=T0,
        answer=answer,
        end=answer + timedelta(seconds=seconds),
        disposition=Disposition.ANSWERED,
    )


def unanswered_call(callee: str, disposition: Disposition) -> CallRecord:
    return CallRecord(
        line=2,
        call_id="c1",
        account="acme",
        caller="33140000000",
        callee=callee,
        start=T0,
        answer=None,
        end=T0 + timedelta(seconds=20),
        disposition=disposition,
    )


def prefix_of(deck: RateDeck, number: str) -> str | None:
    rate = deck.find_rate(number)
    return rate.prefix if rate else None


def rated(deck: RateDeck, callee: str, seconds: int) -> RatedCall:
    outcome = rate_call(deck, answered_call(callee, seconds))
    assert isinstance(outcome, RatedCall), outcome
    return outcome


# ---------------------------------------------------------------------------------------------
# Deck parsing
# ---------------------------------------------------------------------------------------------


def test_a_deck_is_read_with_exact_decimals_and_extra_columns_ignored() -> None:
    deck = parse_deck(
        "\ufeff" + HEADER + ",comment,carrier\n"
        "33,France fixe,0.012,0,60/60,0,national,A\n"
        '336,"Mobile, France",0.05,0.0125,30/6,10,,B\n'
        "3361,Spécial,1,0.000001,1/1,0\n"
    )
    assert len(deck) == 3
    france, mobile, special = deck.rates
    assert france.prefix == "33" and france.destination == "France fixe"
    assert (
        france.price_per_minute == Decimal("0.012") and str(france.price_per_minute) == "0.012000"
    )
    assert (france.first_step, france.next_step, france.min_seconds) == (60, 60, 0)
    assert mobile.destination == "Mobile, France"
    assert mobile.connection_fee == Decimal("0.0125")
    assert (mobile.steps, mobile.min_seconds, mobile.line) == ("30/6", 10, 3)
    assert special.price_per_minute == Decimal(1) and special.connection_fee == Decimal("0.000001")


def test_a_deck_with_several_bad_rows_reports_all_of_them_and_loads_nothing() -> None:
    good = deck_of("33,France fixe,0.012,0,60/60,0")
    text = (
        HEADER + "\n"  # line 1
        "33,France fixe,0.012,0,60/60,0\n"  # 2 good
        "336,Mobile,abc,0,60/60,0\n"  # 3 price not a number
        "44,UK,0.0123456,0,60/60,0\n"  # 4 seven decimals
        "49,DE,0.02,-0.01,60/0,0\n"  # 5 negative fee and a zero step
        "33,Doublon,0.01,0,1/1,0\n"  # 6 duplicate of line 2
        "+34,ES,0.02,0,1/1,0\n"  # 7 prefix with '+'
        "\n"  # 8 blank: skipped
        "39,IT,0.02,0,30/6,-5\n"  # 9 negative minimum
        "1,US,0.01,0\n"  # 10 missing columns
        "0033,FR,0.01,0,1/1,0\n"  # 11 national form, not E.164
        '41,"Suisse\nsur deux lignes",0.1,0,1/1,0\n'  # 12-13 good (quoted newline)
        "42,CZ,0.01,0,1/1,x\n"  # 14 minimum not an integer
        "1234567890123456,Long,0.01,0,1/1,0\n"  # 15 16 digits
        "43,,1000000,0,2/86401,0\n"  # 16 no destination, price too large, step too large
    )
    with pytest.raises(InvalidInput) as caught:
        parse_deck(text)
    error = caught.value
    assert error.field == "deck"
    rows = [(row["line"], row["field"], row["reason"]) for row in error.details["rows"]]
    assert rows == [
        (3, "price_per_minute", "not_a_number"),
        (4, "price_per_minute", "too_many_decimals"),
        (5, "connection_fee", "negative"),
        (5, "steps", "invalid_steps"),
        (6, "prefix", "duplicate_prefix"),
        (7, "prefix", "not_digits"),
        (9, "min_seconds", "negative"),
        (10, "row", "missing_fields"),
        (11, "prefix", "not_e164"),
        (14, "min_seconds", "not_an_integer"),
        (15, "prefix", "too_long"),
        (16, "destination", "required"),
        (16, "price_per_minute", "too_large"),
        (16, "steps", "too_large"),
    ]
    assert error.details["count"] == 14
    duplicate = error.details["rows"][4]
    assert duplicate["first_line"] == 2
    assert describe_reason(duplicate, "fr") == "préfixe 33 déjà défini ligne 2"
    assert describe_reason(duplicate, "en") == "prefix 33 already defined on line 2"
    assert "14 erreur(s)" in error.render("fr")
    assert "14 error(s)" in error.render("en")
    # All or nothing: no deck came out, and a deck loaded before is untouched.
    assert len(good) == 1 and good.find_rate("+33140000000") == good.rates[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_file"),
        (
            "prefix,destination,price,connection_fee,steps,min_seconds\n33,F,0,0,1/1,0\n",
            "bad_header",
        ),
        (HEADER + "\n", "no_rates"),
    ],
)
def test_a_deck_without_a_proper_header_or_rates_is_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_deck(text)
    assert [row["reason"] for row in caught.value.details["rows"]] == [reason]
    assert caught.value.details["rows"][0]["line"] == 1


def test_a_header_is_read_case_and_space_insensitively() -> None:
    deck = parse_deck(
        " Prefix , Destination,PRICE_PER_MINUTE,connection_fee,steps,min_seconds\n33,F,0,0,1/1,0\n"
    )
    assert deck.rates[0].price_per_minute == Decimal(0)


@pytest.mark.parametrize(
    ("price", "expected"),
    [("0,012", "0.012"), ("1", "1"), (".5", "0.5"), ("0.010000", "0.01"), ("-0", "0")],
)
def test_deck_prices_accept_exact_decimal_forms(price: str, expected: str) -> None:
    deck = deck_of(f'33,F,"{price}",0,1/1,0')
    assert deck.rates[0].price_per_minute == Decimal(expected)


# ---------------------------------------------------------------------------------------------
# Longest-prefix match
# ---------------------------------------------------------------------------------------------


def test_the_longest_prefix_wins() -> None:
    # SPEC: BIL-09 (prices and steps are set per destination, i.e. per prefix)
    deck = deck_of(
        "33,France,0.012,0,60/60,0",
        "336,France mobile,0.05,0,60/60,0",
        "3361,France mobile spécial,0.20,0,60/60,0",
    )
    assert prefix_of(deck, "+33140000000") == "33"
    assert prefix_of(deck, "33698765432") == "336"
    assert prefix_of(deck, "+33612345678") == "3361"
    assert prefix_of(deck, "3361") == "3361"
    assert prefix_of(deck, "336") == "336"
    assert prefix_of(deck, "+3") is None
    assert deck.find_rate("+442012345678") is None
    # The costs follow the longest match: 60 s at 0.20 €/min = 0.20 €, not 0.05 € or 0.012 €.
    assert rated(deck, "33612345678", 60).cost == Decimal("0.200000")
    assert rated(deck, "33698765432", 60).cost == Decimal("0.050000")
    assert rated(deck, "33140000000", 60).cost == Decimal("0.012000")


def test_a_number_shorter_than_a_prefix_does_not_match_it() -> None:
    deck = deck_of("3361,Spécial,0.20,0,60/60,0")
    assert deck.find_rate("336") is None
    assert deck.find_rate("+3") is None


def test_find_rate_refuses_what_is_not_an_e164_number() -> None:
    deck = deck_of("33,France,0.012,0,60/60,0")
    for raw in ("", "abc", "0033140000000", "+1234567890123456", "+33 1 40"):
        with pytest.raises(InvalidInput):
            deck.find_rate(raw)
    assert e164_digits(" +33140000000 ") == "33140000000"
    assert e164_digits("0140000000") is None


# ---------------------------------------------------------------------------------------------
# Steps, minimum duration, connection fee, rounding (BIL-09)
# ---------------------------------------------------------------------------------------------


def test_steps_60_60_bill_indivisible_minutes() -> None:
    # SPEC: BIL-09 indivisible minutes
    deck = deck_of("33,France,0.15,0,60/60,0")
    assert (rated(deck, "33140000000", 1).billed_seconds, rated(deck, "33140000000", 1).cost) == (
        60,
        Decimal("0.150000"),
    )  # 1 s -> 60 s: 0.15 €/min x 1 min = 0.15 €
    assert rated(deck, "33140000000", 60).cost == Decimal("0.150000")  # 60 s -> 60 s: 0.15 €
    call = rated(deck, "33140000000", 61)  # 61 s -> 120 s: 0.15 x 2 = 0.30 €
    assert (call.billable_seconds, call.billed_seconds, call.cost) == (61, 120, Decimal("0.300000"))
    assert rated(deck, "33140000000", 181).cost == Decimal("0.600000")  # 181 s -> 240 s: 0.60 €


def test_steps_30_6_bill_a_first_half_minute_then_six_second_steps() -> None:
    # SPEC: BIL-09 6-second steps
    deck = deck_of("33,France,0.10,0,30/6,0")
    assert rated(deck, "33140000000", 10).billed_seconds == 30  # 30 s x 0.10/60 = 0.05 €
    assert rated(deck, "33140000000", 10).cost == Decimal("0.050000")
    assert rated(deck, "33140000000", 30).billed_seconds == 30  # 0.05 €
    call = rated(deck, "33140000000", 31)  # 30 + 6 = 36 s -> 0.10 x 36/60 = 0.06 €
    assert (call.billed_seconds, call.cost) == (36, Decimal("0.060000"))
    call = rated(deck, "33140000000", 45)  # 30 + 3 x 6 = 48 s -> 0.10 x 48/60 = 0.08 €
    assert (call.billed_seconds, call.cost) == (48, Decimal("0.080000"))


def test_steps_1_1_bill_by_the_second_and_round_half_up_per_call() -> None:
    # SPEC: BIL-09 per-second billing
    deck = deck_of("33,France,0.09,0,1/1,0", "44,UK,0.07,0,1/1,0")
    call = rated(deck, "33140000000", 61)  # 0.09 x 61/60 = 0.0915 € -> 0.09 € to the cent
    assert (call.billed_seconds, call.cost) == (61, Decimal("0.091500"))
    call = rated(deck, "442012345678", 100)  # 0.07 x 100/60 = 0.11666.. -> 0.116667 (0.12 €)
    assert (call.billed_seconds, call.cost) == (100, Decimal("0.116667"))


def test_half_a_micro_euro_rounds_up() -> None:
    deck = deck_of("33,France,0.000001,0,1/1,0")
    # 30 s at 0.000001 €/min = 0.0000005 €: ROUND_HALF_UP gives 0.000001 (half-even: 0).
    assert rated(deck, "33140000000", 30).cost == Decimal("0.000001")
    assert rated(deck, "33140000000", 29).cost == Decimal("0.000000")


def test_the_minimum_duration_is_billed_for_every_answered_call() -> None:
    # SPEC: BIL-09 a minimum duration billed per answered call [002 §24.2.5]
    deck = deck_of("33,France,0.12,0,1/1,30")
    assert rated(deck, "33140000000", 5).billed_seconds == 30  # 0.12 x 30/60 = 0.06 €
    assert rated(deck, "33140000000", 5).cost == Decimal("0.060000")
    assert rated(deck, "33140000000", 0).billed_seconds == 30  # answered, 0 s: still 0.06 €
    call = rated(deck, "33140000000", 45)  # beyond the minimum: 45 s -> 0.09 €
    assert (call.billed_seconds, call.cost) == (45, Decimal("0.090000"))
    # The minimum applies after the steps: 60/60 with 90 s minimum bills 61 s as 120 s.
    steps_and_minimum = deck_of("33,France,0.12,0,60/60,90")
    assert rated(steps_and_minimum, "33140000000", 10).billed_seconds == 90  # 0.18 €
    assert rated(steps_and_minimum, "33140000000", 61).billed_seconds == 120  # 0.24 €


def test_the_connection_fee_is_added_to_each_answered_call() -> None:
    deck = deck_of("33,France,0.10,0.05,60/60,0")
    call = rated(deck, "33140000000", 61)  # 0.05 + 0.10 x 2 = 0.25 €
    assert call.cost == Decimal("0.250000")
    call = rated(deck, "33140000000", 0)  # answered, 0 s: the fee alone, 0.05 €
    assert (call.billed_seconds, call.cost) == (0, Decimal("0.050000"))


@pytest.mark.parametrize(
    "disposition", [Disposition.NO_ANSWER, Disposition.BUSY, Disposition.FAILED]
)
def test_calls_not_answered_cost_nothing(disposition: Disposition) -> None:
    # SPEC: BIL-09 only answered calls are billed (minimum and fee included)
    deck = deck_of("33,France,0.10,0.05,60/60,30")
    outcome = rate_call(deck, unanswered_call("33140000000", disposition))
    assert isinstance(outcome, RatedCall)
    assert (outcome.billed_seconds, outcome.cost) == (0, Decimal("0.000000"))
    # Not answered and unknown destination: still free, not a rejection.
    outcome = rate_call(deck, unanswered_call("442012345678", disposition))
    assert isinstance(outcome, RatedCall) and outcome.rate is None and outcome.cost == 0


def test_an_answered_call_without_matching_prefix_is_rejected_with_that_reason() -> None:
    deck = deck_of("33,France,0.10,0,60/60,0")
    outcome = rate_call(deck, answered_call("442012345678", 30, line=7, call_id="x9"))
    assert outcome == Rejection(7, "x9", "callee", "no_matching_prefix", "+442012345678")
    assert isinstance(outcome, Rejection)
    assert outcome.describe("fr") == "aucun préfixe de la grille pour +442012345678"
    assert outcome.describe("en") == "no prefix of the deck matches +442012345678"


def test_a_call_longer_than_the_sanity_bound_is_rejected() -> None:
    deck = deck_of("33,France,0.10,0,60/60,0")
    outcome = rate_call(deck, answered_call("33140000000", MAX_CALL_SECONDS + 1))
    assert isinstance(outcome, Rejection) and outcome.reason == "duration_too_long"
    assert isinstance(rate_call(deck, answered_call("33140000000", MAX_CALL_SECONDS)), RatedCall)


def test_rate_objects_refuse_impossible_terms() -> None:
    with pytest.raises(ValueError):
        Rate("033", "F", Decimal(0), Decimal(0), 1, 1, 0)
    with pytest.raises(ValueError):
        Rate("33", "F", Decimal("0.0000001"), Decimal(0), 1, 1, 0)
    with pytest.raises(ValueError):
        Rate("33", "F", Decimal(0), Decimal(0), 0, 1, 0)
    with pytest.raises(ValueError):
        RateDeck([Rate("33", "F", Decimal(0), Decimal(0), 1, 1, 0)] * 2)


# ---------------------------------------------------------------------------------------------
# Usage files
# ---------------------------------------------------------------------------------------------


def test_usage_rows_are_read_with_offsets_and_fractional_seconds_rounded_up() -> None:
    usage = parse_usage(
        USAGE_HEADER + "\n"
        "c1,acme,+33140000000,+33612345678,2024-05-01T10:00:00Z,2024-05-01T10:00:02Z,"
        "2024-05-01T10:01:02.250Z,ANSWERED\n"
        "c2,acme,,33140000001,2024-05-01T12:00:00+02:00,,2024-05-01T12:00:20+02:00,no answer\n"
    )
    assert usage.rejected == ()
    first, second = usage.records
    assert first.callee == "33612345678" and first.billable_seconds == 61  # 60.25 s -> 61 s
    assert first.answered
    assert second.disposition is Disposition.NO_ANSWER and second.billable_seconds == 0
    assert second.start == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_bad_usage_rows_are_rejected_with_line_and_reason_never_dropped() -> None:
    rows = [
        # line 2: good
        "ok,acme,,+33140000000,2024-05-01T10:00:00Z,2024-05-01T10:00:01Z,2024-05-01T10:00:09Z,ANSWERED",
        "b1,acme,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,ANSWERED",  # 3
        "b2,acme,,+33140000000,2024-05-01T10:00:00Z,2024-05-01T10:00:01Z,2024-05-01T10:00:09Z,BUSY",
        "b3,acme,,0140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,BUSY",  # 5
        "b4,acme,,+33140000000,2024-05-01 10:00:00,,2024-05-01T10:00:09Z,BUSY",  # 6
        "b5,acme,,+33140000000,2024-05-01T10:00:00Z,,hier,BUSY",  # 7
        "b6,acme,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,CANCEL",  # 8
        "b7,acme,,+33140000000,2024-05-01T10:00:00Z,2024-05-01T09:59:00Z,"
        "2024-05-01T10:00:09Z,ANSWERED",  # 9
        "b8,acme,,+33140000000,2024-05-01T10:00:00Z,2024-05-01T10:00:05Z,"
        "2024-05-01T10:00:04Z,ANSWERED",  # 10
        "b9,acme,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T09:00:00Z,FAILED",  # 11
        ",acme,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,BUSY",  # 12
        "ok,acme,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,BUSY",  # 13 dup
        "b10,acme,,+33140000000",  # 14
        "b11,,,+33140000000,2024-05-01T10:00:00Z,,2024-05-01T10:00:09Z,BUSY",  # 15
    ]
    usage = parse_usage("\n".join([USAGE_HEADER, *rows]) + "\n")
    assert [record.call_id for record in usage.records] == ["ok"]
    found = [(r.line, r.call_id, r.field, r.reason) for r in usage.rejected]
    assert found == [
        (3, "b1", "answer", "answer_missing"),
        (4, "b2", "answer", "answer_unexpected"),
        (5, "b3", "callee", "invalid_number"),
        (6, "b4", "start", "no_timezone"),
        (7, "b5", "end", "invalid_time"),
        (8, "b6", "disposition", "unknown_disposition"),
        (9, "b7", "answer", "answer_before_start"),
        (10, "b8", "end", "end_before_answer"),
        (11, "b9", "end", "end_before_start"),
        (12, "", "call_id", "required"),
        (13, "ok", "call_id", "duplicate_call_id"),
        (14, "b10", "row", "missing_fields"),
        (15, "b11", "account", "required"),
    ]
    assert usage.rejected[10].first_line == 2
    # Every reason has a message in both languages.
    for rejection in usage.rejected:
        assert rejection.describe("fr") != rejection.reason
        assert rejection.describe("en") != rejection.reason


def test_a_usage_file_with_a_wrong_header_is_refused_whole() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_usage("id,account,caller,callee,start,answer,end,disposition\n")
    assert caught.value.field == "usage"
    assert caught.value.details["rows"][0]["reason"] == "bad_header"
    assert "ligne 1" in caught.value.render("fr") and "line 1" in caught.value.render("en")
    with pytest.raises(InvalidInput):
        parse_usage("")


def test_rate_usage_totals_the_costs_shown_then_rounds_to_the_cent() -> None:
    # SPEC: BIL-01 consumption is rated over the period then invoiced in arrears
    deck = deck_of("33,France,0.001,0,1/1,0", "44,UK,0.10,0,60/60,0")
    usage = UsageFile(
        records=(
            answered_call("33140000000", 100, line=2, call_id="a"),  # 0.001 x 100/60 = 0.001667
            answered_call("33140000001", 100, line=3, call_id="b"),  # 0.001667
            answered_call("33140000002", 100, line=4, call_id="c"),  # 0.001667
            answered_call("492012345678", 10, line=5, call_id="d"),  # no prefix: rejected
            answered_call("442012345678", 61, line=6, call_id="e"),  # 120 s: 0.20
        ),
        rejected=(Rejection(7, "f", "callee", "invalid_number", "x"),),
    )
    result = rate_usage(deck, usage)
    assert [call.cost for call in result.records] == [
        Decimal("0.001667"),
        Decimal("0.001667"),
        Decimal("0.001667"),
        Decimal("0.200000"),
    ]
    # Exact sum of the amounts shown: 0.205001 €; to the cent: 0.21 €.
    assert result.total_exact == Decimal("0.205001")
    assert str(result.total) == "0.21"
    assert [(r.line, r.reason) for r in result.rejected] == [
        (5, "no_matching_prefix"),
        (7, "invalid_number"),
    ]
    assert result.currency == "EUR"
