"""Benchmark: bulk rating with operateur's fast path against one DuckDB SQL query.

    python bench/rating.py [--records N] [--prefixes P] [--seed S]

Generates a synthetic rate deck (P nested prefixes, BIL-09 steps and minimum durations,
connection fees, prices with up to 6 decimals) and N call records, deterministically from the
seed. The deck goes through a CSV file, which operateur parses with ``parse_deck`` and DuckDB
reads with ``read_csv`` (exact DECIMAL(18,6) columns). The records are in-memory arrays for
operateur and a native DuckDB table for DuckDB (loading is not timed for either).

Timed: operateur compiles the deck and rates every record with ``rate_batch`` (longest-prefix
match, steps, minimum duration, connection fee, per-call rounding to the micro-euro, exact
total); DuckDB runs one SQL query doing the same work in exact integer micro-euros. Prints both
throughputs, the ratio operateur/DuckDB and both totals to the cent; exits 1 if they differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np

from operateur.billing.rating import CompiledDeck, parse_deck, rate_batch
from operateur.domain.money import round_money

STEPS = ((60, 60), (30, 6), (1, 1), (60, 1), (30, 30), (6, 6))
MIN_SECONDS = (0, 0, 0, 0, 10, 30, 60)
UNMATCHED_SHARE = 0.005  # callees under "99", which the deck never covers
ANSWERED_SHARE = 0.7


def duckdb_query() -> str:
    """One SQL query rating every call: deck terms in micro-euros (exact DECIMAL(18,6) to
    BIGINT), longest-prefix match by one equality join per possible prefix length (1 to 15
    digits, longest first wins through COALESCE), then BIL-09 steps, minimum duration,
    connection fee, rounding half up to the micro-euro per call, and the exact sum.

    (Measured alternative: joining every (call, prefix length) candidate to the deck and keeping
    the longest match per call with GROUP BY id / arg_max is about 1.7 times slower.) The
    powers of ten go through DOUBLE, exact up to 10**15, the longest E.164 number."""
    joins = "\n".join(
        f"    LEFT JOIN (SELECT prefix, rid FROM deck WHERE prefix_length = {length}) AS d{length}"
        f" ON c.digits >= {length}"
        f" AND d{length}.prefix"
        f" = c.callee // CAST(10 ** greatest(c.digits - {length}, 0) AS BIGINT)"
        for length in range(15, 0, -1)
    )
    longest = ", ".join(f"d{length}.rid" for length in range(15, 0, -1))
    return f"""
WITH deck AS (
    SELECT
        row_number() OVER () AS rid,
        CAST(prefix AS BIGINT) AS prefix,
        length(prefix) AS prefix_length,
        CAST(price_per_minute * 1000000 AS BIGINT) AS price_micro,
        CAST(connection_fee * 1000000 AS BIGINT) AS fee_micro,
        CAST(split_part(steps, '/', 1) AS BIGINT) AS first_step,
        CAST(split_part(steps, '/', 2) AS BIGINT) AS next_step,
        CAST(min_seconds AS BIGINT) AS min_seconds
    FROM deck_raw
),
calls AS (
    SELECT callee, billable_seconds AS s, answered, length(CAST(callee AS VARCHAR)) AS digits
    FROM usage
),
matched AS (
    SELECT c.s, c.answered, coalesce({longest}) AS rid
    FROM calls AS c
{joins}
),
rated AS (
    SELECT
        m.answered,
        d.rid IS NOT NULL AS found,
        greatest(
            d.min_seconds,
            CASE
                WHEN m.s = 0 THEN 0
                WHEN m.s <= d.first_step THEN d.first_step
                ELSE d.first_step
                    + ((m.s - d.first_step + d.next_step - 1) // d.next_step) * d.next_step
            END
        ) AS billed,
        d.price_micro,
        d.fee_micro
    FROM matched AS m
    LEFT JOIN deck AS d ON d.rid = m.rid
)
SELECT
    coalesce(
        sum(fee_micro + (price_micro * billed + 30) // 60) FILTER (WHERE answered AND found), 0
    ) AS total_micro,
    count(*) FILTER (WHERE answered AND found) AS rated,
    count(*) FILTER (WHERE answered AND NOT found) AS unmatched
FROM rated
"""


def make_deck(rng: np.random.Generator, size: int) -> list[tuple[str, int, int, int, int, int]]:
    """``size`` distinct nested prefixes with their terms: (prefix, price_micro, fee_micro,
    first_step, next_step, min_seconds). No prefix starts with 99 or is 9."""
    prefixes: list[str] = []
    seen: set[str] = set()

    def add(prefix: str) -> None:
        if prefix not in seen and not prefix.startswith("99") and prefix != "9":
            seen.add(prefix)
            prefixes.append(prefix)

    add("1")
    add("7")
    top = max(1, min(size // 20, 400))
    while len(prefixes) < min(size, top):
        length = int(rng.integers(2, 4))
        add(str(int(rng.integers(2, 10))) + "".join(map(str, rng.integers(0, 10, length - 1))))
    while len(prefixes) < size:
        parent = prefixes[int(rng.integers(0, len(prefixes)))]
        if len(parent) >= 10:
            continue
        grown = parent + "".join(map(str, rng.integers(0, 10, int(rng.integers(1, 4)))))
        add(grown)
    rows = []
    for prefix in prefixes[:size]:
        price_micro = int(rng.integers(0, 2_000_001))
        if rng.random() < 0.5:
            price_micro -= price_micro % 1000  # many prices have 3 decimals
        fee_micro = 0 if rng.random() < 0.8 else int(rng.integers(0, 150_001))
        first, following = STEPS[int(rng.integers(0, len(STEPS)))]
        minimum = MIN_SECONDS[int(rng.integers(0, len(MIN_SECONDS)))]
        rows.append((prefix, price_micro, fee_micro, first, following, minimum))
    return rows


def micro_text(micro: int) -> str:
    return str(Decimal(micro).scaleb(-6))


def deck_csv(rows: list[tuple[str, int, int, int, int, int]]) -> str:
    lines = ["prefix,destination,price_per_minute,connection_fee,steps,min_seconds"]
    for prefix, price, fee, first, following, minimum in rows:
        lines.append(
            f"{prefix},Destination {prefix},{micro_text(price)},{micro_text(fee)},"
            f"{first}/{following},{minimum}"
        )
    return "\n".join(lines) + "\n"


def make_usage(
    rng: np.random.Generator, prefixes: list[str], size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Callees (E.164 numbers as integers), billable seconds and answered flags."""
    values = np.array([int(prefix) for prefix in prefixes], dtype=np.int64)
    lengths = np.array([len(prefix) for prefix in prefixes], dtype=np.int64)
    pick = rng.integers(0, len(prefixes), size)
    prefix_value = values[pick]
    prefix_length = lengths[pick]
    unmatched = rng.random(size) < UNMATCHED_SHARE
    prefix_value[unmatched] = 99
    prefix_length[unmatched] = 2
    total_length = rng.integers(np.maximum(prefix_length + 1, 8), 16)  # 8 to 15 digits
    suffix_digits = total_length - prefix_length
    scale = 10**suffix_digits
    callee = prefix_value * scale + rng.integers(0, scale)
    answered = rng.random(size) < ANSWERED_SHARE
    seconds = np.minimum(rng.geometric(1 / 150, size), 7200).astype(np.int64)
    seconds[rng.random(size) < 0.03] = 0
    seconds[~answered] = 0
    return callee, seconds, answered


def cents(total_micro: int) -> Decimal:
    return round_money(Decimal(total_micro).scaleb(-6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20240901)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    cpus = os.cpu_count() or 1

    started = time.perf_counter()
    rows = make_deck(rng, args.prefixes)
    callee, seconds, answered = make_usage(rng, [row[0] for row in rows], args.records)
    text = deck_csv(rows)
    deck = parse_deck(text)
    print(
        f"data: {args.records:,} records, {len(deck):,} prefixes, seed {args.seed}, "
        f"{cpus} CPU(s); generated and deck parsed in {time.perf_counter() - started:.1f} s"
    )

    with tempfile.TemporaryDirectory() as folder:
        deck_path = Path(folder) / "deck.csv"
        deck_path.write_text(text, encoding="utf-8")
        connection = duckdb.connect()
        connection.execute(
            "CREATE TABLE deck_raw AS SELECT * FROM read_csv(?, header = true, columns = {"
            "'prefix': 'VARCHAR', 'destination': 'VARCHAR', "
            "'price_per_minute': 'DECIMAL(18,6)', 'connection_fee': 'DECIMAL(18,6)', "
            "'steps': 'VARCHAR', 'min_seconds': 'INTEGER'})",
            [str(deck_path)],
        )
        arrays = {  # noqa: F841 - scanned by name by DuckDB
            "callee": callee,
            "billable_seconds": seconds,
            "answered": answered,
        }
        connection.execute("CREATE TABLE usage AS SELECT * FROM arrays")
        del arrays

        started = time.perf_counter()
        compiled = CompiledDeck(deck)
        batch = rate_batch(compiled, callee, seconds, answered)
        ours_seconds = time.perf_counter() - started
        ours_unmatched = len(batch.unmatched())

        started = time.perf_counter()
        result = connection.execute(duckdb_query()).fetchone()
        duck_seconds = time.perf_counter() - started
        connection.close()
    assert result is not None
    duck_total, _, duck_unmatched = (int(value) for value in result)

    records = args.records
    ours_rate = records / ours_seconds
    duck_rate = records / duck_seconds
    print(
        f"operateur fast path: {ours_seconds:8.2f} s  {ours_rate:14,.0f} records/s  "
        f"total {cents(batch.total_micro)} EUR (exact {micro_text(batch.total_micro)}), "
        f"{ours_unmatched:,} unmatched"
    )
    print(
        f"DuckDB, one query:   {duck_seconds:8.2f} s  {duck_rate:14,.0f} records/s  "
        f"total {cents(duck_total)} EUR (exact {micro_text(duck_total)}), "
        f"{duck_unmatched:,} unmatched"
    )
    print(f"ratio operateur/DuckDB (throughput): {ours_rate / duck_rate:.2f}")
    if cents(batch.total_micro) != cents(duck_total) or batch.total_micro != duck_total:
        print("TOTALS DIFFER", file=sys.stderr)
        return 1
    if ours_unmatched != duck_unmatched:
        print("UNMATCHED COUNTS DIFFER", file=sys.stderr)
        return 1
    print("totals agree to the micro-euro")
    return 0


if __name__ == "__main__":
    sys.exit(main())
