"""The vectorised fast path gives exactly the results of the per-record path."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from operateur.billing.rating import (
    MAX_CALL_SECONDS,
    MAX_STEP_SECONDS,
    CallRecord,
    Disposition,
    Rate,
    RatedCall,
    RateDeck,
    UsageFile,
    number_keys,
    parse_deck,
    rate_batch,
    rate_call,
    rate_usage,
    rate_usage_fast,
)
from operateur.errors import InvalidInput

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def random_deck(rng: random.Random, size: int) -> RateDeck:
    """Nested prefixes (1 to 15 digits, none starting with 9) with random terms, some at the
    deck's limits."""
    prefixes: list[str] = []
    seen: set[str] = set()
    while len(prefixes) < size:
        if not prefixes or rng.random() < 0.15:
            candidate = str(rng.randint(1, 8)) + "".join(  # nothing under 9: unmatched numbers
                rng.choice("0123456789") for _ in range(rng.randint(0, 2))
            )
        else:
            parent = rng.choice(prefixes)
            grow = rng.randint(1, 3)
            candidate = (parent + "".join(rng.choice("0123456789") for _ in range(grow)))[:15]
        if candidate not in seen:
            seen.add(candidate)
            prefixes.append(candidate)
    rates = []
    for prefix in prefixes:
        extreme = rng.random() < 0.03
        price = Decimal(999_999_999_999 if extreme else rng.randint(0, 3_000_000)).scaleb(-6)
        fee = Decimal(
            999_999_999_999 if extreme else rng.choice([0, 0, 0, rng.randint(0, 200_000)])
        ).scaleb(-6)
        first = MAX_STEP_SECONDS if extreme else rng.choice([1, 6, 30, 60, rng.randint(1, 120)])
        following = MAX_STEP_SECONDS if extreme else rng.choice([1, 6, 30, 60, rng.randint(1, 60)])
        minimum = MAX_STEP_SECONDS if extreme else rng.choice([0, 0, 10, 30, rng.randint(0, 120)])
        rates.append(Rate(prefix, f"Destination {prefix}", price, fee, first, following, minimum))
    return RateDeck(rates)


def random_callee(rng: random.Random, prefixes: list[str]) -> str:
    roll = rng.random()
    if roll < 0.1:  # anything, matched or not
        return str(rng.randint(1, 10 ** rng.randint(1, 15) - 1))
    prefix = rng.choice(prefixes)
    if roll < 0.2:  # a number shorter than its prefix (when possible)
        return prefix[: rng.randint(1, len(prefix))]
    if roll < 0.3:  # exactly the prefix
        return prefix
    length = rng.randint(len(prefix), 15)
    return prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))


def random_duration(rng: random.Random, deck: RateDeck) -> timedelta:
    roll = rng.random()
    if roll < 0.1:
        seconds = 0
    elif roll < 0.3:  # around a step or the minimum of some rate
        rate = rng.choice(deck.rates)
        seconds = max(0, rng.choice([rate.first_step, rate.min_seconds]) + rng.randint(-1, 1))
    elif roll < 0.35:
        seconds = rng.choice(
            [MAX_CALL_SECONDS + 1, MAX_CALL_SECONDS, MAX_CALL_SECONDS - 1, rng.randint(0, 10**6)]
        )
    else:
        seconds = rng.randint(1, 900)
    micros = rng.choice([0, 0, 0, rng.randint(1, 999_999)])
    if seconds == MAX_CALL_SECONDS:
        micros = 0
    return timedelta(seconds=seconds, microseconds=micros)


def random_usage(rng: random.Random, deck: RateDeck, size: int) -> UsageFile:
    prefixes = [rate.prefix for rate in deck.rates]
    records = []
    for line in range(2, size + 2):
        answered = rng.random() < 0.7
        answer = T0 + timedelta(seconds=rng.randint(0, 30))
        records.append(
            CallRecord(
                line=line,
                call_id=f"c{line}",
                account="acme",
                caller="33140000000",
                callee=random_callee(rng, prefixes),
                start=T0,
                answer=answer if answered else None,
                end=answer + random_duration(rng, deck),
                disposition=Disposition.ANSWERED
                if answered
                else rng.choice([Disposition.NO_ANSWER, Disposition.BUSY, Disposition.FAILED]),
            )
        )
    return UsageFile(records=tuple(records))


@pytest.mark.parametrize(
    ("seed", "chunk_size", "workers"),
    [(1, 1 << 16, 1), (2, 1000, 2), (3, 5000, 2), (4, 4096, 1)],
)
def test_fast_path_equals_the_plain_path_on_random_data(
    seed: int, chunk_size: int, workers: int
) -> None:
    # SPEC: BIL-09 (steps, minimum duration) and longest-prefix match, in bulk
    rng = random.Random(seed)
    deck = random_deck(rng, 400)
    usage = random_usage(rng, deck, 6000)
    plain = rate_usage(deck, usage)
    fast = rate_usage_fast(deck, usage, chunk_size=chunk_size, workers=workers)
    assert fast == plain
    assert [str(call.cost) for call in fast.records] == [str(call.cost) for call in plain.records]
    assert str(fast.total_exact) == str(plain.total_exact)
    assert str(fast.total) == str(plain.total)
    # The data did exercise every case.
    assert any(r.reason == "no_matching_prefix" for r in plain.rejected)
    assert any(r.reason == "duration_too_long" for r in plain.rejected)
    assert any(call.rate is None for call in plain.records)  # unanswered, unknown prefix
    assert any(
        call.billed_seconds == call.rate.min_seconds > 0 for call in plain.records if call.rate
    )


def test_rate_batch_arrays_match_rate_call_record_by_record() -> None:
    rng = random.Random(7)
    deck = random_deck(rng, 300)
    usage = random_usage(rng, deck, 5000)
    records = [r for r in usage.records if r.billable_seconds <= MAX_CALL_SECONDS]
    batch = rate_batch(
        deck,
        np.array([int(r.callee) for r in records], dtype=np.int64),
        np.array([r.billable_seconds for r in records], dtype=np.int64),
        np.array([r.answered for r in records], dtype=np.bool_),
    )
    total = 0
    for position, record in enumerate(records):
        rate = deck.match_digits(record.callee)
        assert batch.rate_index[position] == (deck.index_of(rate) if rate else -1), record
        outcome = rate_call(deck, record)
        if isinstance(outcome, RatedCall):
            micro = int(outcome.cost.scaleb(6))
            assert batch.billed_seconds[position] == outcome.billed_seconds, record
            assert batch.cost_micro[position] == micro, record
            total += micro
        else:
            assert batch.cost_micro[position] == 0 and batch.billed_seconds[position] == 0
            assert position in set(batch.unmatched().tolist())
    assert batch.total_micro == total
    assert batch.total_exact == Decimal(total).scaleb(-6)


def test_the_longest_prefix_wins_in_bulk_too() -> None:
    deck = parse_deck(
        "prefix,destination,price_per_minute,connection_fee,steps,min_seconds\n"
        "33,France,0.012,0,60/60,0\n"
        "336,Mobile,0.05,0,60/60,0\n"
        "3361,Spécial,0.20,0,60/60,0\n"
        "999999999999999,Max,0.01,0,1/1,0\n"
    )
    numbers = np.array(
        [33140000000, 33698765432, 33612345678, 3361, 336, 33, 3, 442012345678, 999999999999999],
        dtype=np.int64,
    )
    assert deck.compile().match(numbers).tolist() == [0, 1, 2, 2, 1, 0, -1, -1, 3]


def test_number_keys_order_numbers_like_their_digits() -> None:
    edges = sorted(
        {max(1, 10**k + d) for k in range(16) for d in (-1, 0, 1)} - {10**15, 10**15 + 1}
    )
    keys = number_keys(np.array(edges, dtype=np.int64)).tolist()

    def expected(number: int) -> int:
        return sum((int(d) + 1) * 11 ** (14 - i) for i, d in enumerate(str(number)))

    assert keys == [expected(number) for number in edges]
    by_digits = sorted(edges, key=str)
    assert sorted(edges, key=expected) == by_digits


def test_extreme_terms_stay_exact_in_int64() -> None:
    most = Decimal("999999.999999")
    deck = RateDeck([Rate("1", "Max", most, most, MAX_STEP_SECONDS, MAX_STEP_SECONDS, 0)])
    batch = rate_batch(
        deck,
        np.array([12125550000, 12125550001], dtype=np.int64),
        np.array([MAX_CALL_SECONDS, MAX_CALL_SECONDS], dtype=np.int64),
        np.array([True, True]),
    )
    billed = deck.rates[0].billed_seconds(MAX_CALL_SECONDS)
    cost = deck.rates[0].cost(billed)
    assert batch.billed_seconds.tolist() == [billed, billed]
    assert batch.cost_micro.tolist() == [int(cost.scaleb(6))] * 2
    assert batch.total_exact == 2 * cost


def test_an_empty_deck_matches_nothing() -> None:
    batch = rate_batch(
        RateDeck([]),
        np.array([33140000000], dtype=np.int64),
        np.array([60], dtype=np.int64),
        np.array([True]),
    )
    assert batch.rate_index.tolist() == [-1] and batch.total_micro == 0
    assert batch.unmatched().tolist() == [0]
    assert str(batch.total) == "0.00"


def test_rate_batch_refuses_inputs_out_of_range() -> None:
    deck = RateDeck([Rate("33", "France", Decimal("0.01"), Decimal(0), 1, 1, 0)])
    ok = np.array([60], dtype=np.int64)
    yes = np.array([True])
    for numbers in ([0], [10**15], [-33]):
        with pytest.raises(InvalidInput):
            rate_batch(deck, np.array(numbers, dtype=np.int64), ok, yes)
    for seconds in ([-1], [MAX_CALL_SECONDS + 1]):
        with pytest.raises(InvalidInput):
            rate_batch(deck, np.array([33], dtype=np.int64), np.array(seconds), yes)
    with pytest.raises(ValueError):
        rate_batch(deck, np.array([33, 34], dtype=np.int64), ok, yes)
