"""Dated reference rates for late-payment interest: the ECB MRO rate and the French legal rate.

# SPEC: BIL-06
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from operateur.billing.reference_rates import (
    RateTableName,
    add_rate,
    ecb_rate_for_semester,
    ecb_rate_on,
    legal_rate_for_semester,
    load_tables,
    semester_end,
    semester_label,
    semester_start,
)
from operateur.errors import InvalidInput

ECB_SMALL = """# test table
effective,rate,source
2024-12-18,3.15,decision A
2025-06-11,2.15,decision B
"""

LEGAL_SMALL = """# test table
effective,rate,source
2025-01-01,3.71,arrêté A
2025-07-01,2.76,arrêté B
"""


@pytest.fixture()
def table_dir(tmp_path: Path) -> Path:
    (tmp_path / "ecb_mro_rates.csv").write_text(ECB_SMALL, encoding="utf-8")
    (tmp_path / "legal_interest_rates.csv").write_text(LEGAL_SMALL, encoding="utf-8")
    return tmp_path


# --- the shipped tables ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2022, 7, 26), "0.00"),
        (date(2022, 7, 27), "0.50"),
        (date(2023, 9, 20), "4.50"),
        (date(2024, 9, 18), "3.65"),
        (date(2025, 6, 10), "2.40"),
        (date(2025, 6, 11), "2.15"),
        (date(2026, 1, 1), "2.15"),
    ],
)
def test_ecb_rate_on_its_date_of_effect(day: date, expected: str) -> None:
    # SPEC: BIL-06
    assert ecb_rate_on(day) == Decimal(expected)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # L441-10: the rate in force on 1 January rules the first half-year...
        (date(2025, 6, 30), "3.15"),  # 3.15 since 18 Dec 2024; the June 2025 cut comes later
        (date(2025, 1, 1), "3.15"),
        # ...and the rate in force on 1 July the second.
        (date(2025, 7, 1), "2.15"),
        (date(2025, 12, 31), "2.15"),
        (date(2024, 12, 31), "4.25"),  # in force on 1 July 2024, despite three cuts after it
        (date(2023, 3, 1), "2.50"),
        (date(2023, 7, 1), "4.00"),
        (date(2022, 6, 30), "0.00"),
    ],
)
def test_ecb_rate_for_semester_is_the_rate_in_force_on_1_january_or_1_july(
    day: date, expected: str
) -> None:
    # SPEC: BIL-06
    assert ecb_rate_for_semester(day) == Decimal(expected)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2022, 1, 1), "0.76"),
        (date(2022, 12, 31), "0.77"),
        (date(2023, 6, 30), "2.06"),
        (date(2023, 7, 1), "4.22"),
        (date(2024, 3, 1), "5.07"),
        (date(2024, 7, 1), "4.92"),
        (date(2025, 6, 30), "3.71"),
        (date(2025, 7, 1), "2.76"),
        (date(2026, 1, 1), "2.62"),
        (date(2026, 6, 30), "2.62"),
    ],
)
def test_legal_rate_for_semester_across_boundaries(day: date, expected: str) -> None:
    # SPEC: BIL-06
    assert legal_rate_for_semester(day) == Decimal(expected)


def test_a_date_before_the_first_entry_is_refused() -> None:
    # SPEC: BIL-06
    with pytest.raises(InvalidInput) as ecb:
        ecb_rate_on(date(2016, 3, 15))
    assert ecb.value.field == "date"
    with pytest.raises(InvalidInput) as legal:
        legal_rate_for_semester(date(2021, 12, 31))
    assert legal.value.field == "date"


def test_a_half_year_missing_from_the_legal_table_is_refused_not_guessed(
    table_dir: Path,
) -> None:
    # SPEC: BIL-06 the legal rate is published per half-year: no silent reuse of the last one.
    tables = load_tables(table_dir)
    assert legal_rate_for_semester(date(2025, 12, 31), tables=tables) == Decimal("2.76")
    with pytest.raises(InvalidInput) as info:
        legal_rate_for_semester(date(2026, 1, 1), tables=tables)
    assert info.value.code == "reference_rate_missing"
    assert info.value.field == "date"
    assert "2026-S1" in info.value.render("en")


def test_shipped_tables_carry_their_source_in_a_header_comment() -> None:
    data = resources.files("operateur.billing").joinpath("data")
    for name in ("ecb_mro_rates.csv", "legal_interest_rates.csv"):
        text = data.joinpath(name).read_text(encoding="utf-8")
        header = [line for line in text.splitlines() if line.startswith("#")]
        assert any("Source" in line for line in header), name
    tables = load_tables()
    assert all(entry.source for entry in tables.ecb_mro.entries)
    assert all(entry.source for entry in tables.legal_interest.entries)
    assert tables.ecb_mro.entry_on(date(2025, 6, 11)).rate == Decimal("2.15")


def test_semester_helpers() -> None:
    assert semester_start(date(2025, 6, 30)) == date(2025, 1, 1)
    assert semester_start(date(2025, 7, 1)) == date(2025, 7, 1)
    assert semester_end(date(2025, 2, 1)) == date(2025, 6, 30)
    assert semester_end(date(2025, 7, 1)) == date(2025, 12, 31)
    assert semester_label(date(2025, 12, 31)) == "2025-S2"


# --- loading and updating -------------------------------------------------------------------


def test_load_tables_is_cached_per_directory(table_dir: Path) -> None:
    assert load_tables(table_dir) is load_tables(table_dir)
    assert load_tables() is load_tables()


def test_add_rate_appends_and_refreshes_the_cache(table_dir: Path) -> None:
    # SPEC: BIL-06 the update command appends the new half-year's rate with its source.
    before = load_tables(table_dir)
    updated = add_rate(
        RateTableName.LEGAL_INTEREST,
        date(2026, 1, 1),
        Decimal("2.62"),
        "arrêté de décembre 2025, JORF",
        table_dir,
    )
    assert updated.last.rate == Decimal("2.62")
    assert load_tables(table_dir) is not before
    assert legal_rate_for_semester(date(2026, 3, 1), tables=load_tables(table_dir)) == Decimal(
        "2.62"
    )
    text = (table_dir / "legal_interest_rates.csv").read_text(encoding="utf-8")
    assert text.endswith('2026-01-01,2.62,"arrêté de décembre 2025, JORF"\n')
    add_rate("ecb_mro", date(2025, 9, 17), Decimal("2.00"), "decision C", table_dir)
    assert ecb_rate_on(date(2025, 9, 17), tables=load_tables(table_dir)) == Decimal("2.00")


@pytest.mark.parametrize(
    ("table", "effective", "rate", "source", "field"),
    [
        ("ecb_mro", date(2025, 6, 10), Decimal("2.00"), "x", "effective"),  # earlier
        ("ecb_mro", date(2025, 6, 11), Decimal("2.00"), "x", "effective"),  # same date
        ("ecb_mro", date(2025, 9, 1), Decimal("-0.10"), "x", "rate"),  # negative
        ("ecb_mro", date(2025, 9, 1), Decimal("2.00001"), "x", "rate"),  # 5 decimals
        ("ecb_mro", date(2025, 9, 1), Decimal("2.00"), "  ", "source"),
        ("ecb_mro", date(2025, 9, 1), Decimal("2.00"), "a\nb", "source"),
        ("legal_interest", date(2026, 2, 1), Decimal("2.62"), "x", "effective"),  # not 1 Jan/Jul
        ("legal_interest", date(2025, 1, 1), Decimal("2.62"), "x", "effective"),  # earlier
        ("libor", date(2026, 1, 1), Decimal("1"), "x", "table"),
    ],
)
def test_add_rate_refuses_with_the_field_named(
    table_dir: Path, table: str, effective: date, rate: Decimal, source: str, field: str
) -> None:
    # SPEC: BIL-06
    before = {p.name: p.read_text(encoding="utf-8") for p in table_dir.iterdir()}
    with pytest.raises(InvalidInput) as info:
        add_rate(table, effective, rate, source, table_dir)
    assert info.value.field == field
    assert {p.name: p.read_text(encoding="utf-8") for p in table_dir.iterdir()} == before


def test_add_rate_refuses_a_float(table_dir: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        add_rate("ecb_mro", date(2025, 9, 1), 2.0, "x", table_dir)  # type: ignore[arg-type]
    assert info.value.field == "rate"


@pytest.mark.parametrize(
    "body",
    [
        "effective,rate\n2025-01-01,1\n",  # header
        "effective,rate,source\n2025-13-01,1,x\n",  # date
        "effective,rate,source\n2025-01-01,abc,x\n",  # rate
        "effective,rate,source\n2025-01-01,-1,x\n",  # negative
        "effective,rate,source\n2025-01-01,1,\n",  # source
        "effective,rate,source\n2025-02-01,1,x\n2025-01-01,1,y\n",  # order
        "# only a comment\neffective,rate,source\n",  # empty
    ],
)
def test_a_malformed_table_is_refused(tmp_path: Path, body: str) -> None:
    (tmp_path / "ecb_mro_rates.csv").write_text(body, encoding="utf-8")
    (tmp_path / "legal_interest_rates.csv").write_text(LEGAL_SMALL, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_tables(tmp_path)
    assert info.value.field == "ecb_mro_rates.csv"


def test_a_legal_rate_line_not_on_a_half_year_start_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ecb_mro_rates.csv").write_text(ECB_SMALL, encoding="utf-8")
    (tmp_path / "legal_interest_rates.csv").write_text(
        "effective,rate,source\n2025-03-01,3.71,x\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as info:
        load_tables(tmp_path)
    assert info.value.field == "legal_interest_rates.csv"


def test_a_missing_table_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ecb_mro_rates.csv").write_text(ECB_SMALL, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_tables(tmp_path)
    assert info.value.field == "path"
