"""Dated reference rates for late-payment interest (BIL-06): the ECB and the French legal rate.

Two tables ship as CSV files in ``operateur/billing/data/``, each with its source in a header
comment and a source per line:

- ``ecb_mro_rates.csv``: the ECB main refinancing operations rate, one line per change, by date
  of effect; a rate stays in force until the next line;
- ``legal_interest_rates.csv``: the French "taux de l'intérêt légal" for professional creditors,
  one line per half-year (1 January, 1 July), as fixed by the semi-annual arrêté.

Rates are ``Decimal`` percentages per year (``Decimal("2.15")`` is 2.15 %). L441-10 code de
commerce fixes which ECB rate a half-year uses: the rate in force on 1 January for the first
half-year, on 1 July for the second (:func:`ecb_rate_for_semester`). The legal rate is published
per half-year: a half-year missing from the table is an error, never silently the previous
value, so the table must be updated (:func:`add_rate`) each January and July.

Tables are read on first use (:func:`load_tables`, through ``importlib.resources``) and cached;
nothing is read at import time. Every lookup takes an optional ``tables`` to use other data.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from operateur.errors import InvalidInput
from operateur.i18n import Text

DATA_PACKAGE = "operateur.billing"
DATA_DIR = "data"
HEADER = ("effective", "rate", "source")
RATE_PLACES = 4  # a rate is written with at most 4 decimals (0.0001 %)

# L441-10 code de commerce: the half-years start on 1 January and 1 July.
_SEMESTER_START_MONTHS = (1, 7)


class RateTableName(StrEnum):
    ECB_MRO = "ecb_mro"
    LEGAL_INTEREST = "legal_interest"


FILE_NAMES: dict[RateTableName, str] = {
    RateTableName.ECB_MRO: "ecb_mro_rates.csv",
    RateTableName.LEGAL_INTEREST: "legal_interest_rates.csv",
}


# --------------------------------------------------------------------------------------------
# Half-years
# --------------------------------------------------------------------------------------------


def semester_start(d: date) -> date:
    """1 January or 1 July: the first day of ``d``'s half-year."""
    return date(d.year, 1 if d.month < 7 else 7, 1)


def semester_end(d: date) -> date:
    """30 June or 31 December: the last day of ``d``'s half-year."""
    return date(d.year, 6, 30) if d.month < 7 else date(d.year, 12, 31)


def semester_label(d: date) -> str:
    """``"2025-S1"`` or ``"2025-S2"``."""
    return f"{d.year}-S{1 if d.month < 7 else 2}"


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateEntry:
    """One line of a table: ``rate`` (percent per year) in force from ``effective``."""

    effective: date
    rate: Decimal
    source: str


@dataclass(frozen=True)
class RateTable:
    """The entries of one table, in strictly increasing order of date."""

    name: RateTableName
    entries: tuple[RateEntry, ...]

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValueError(f"the {self.name.value} table is empty")
        dates = [entry.effective for entry in self.entries]
        if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
            raise ValueError(f"the {self.name.value} table is not in increasing date order")

    @property
    def first(self) -> RateEntry:
        return self.entries[0]

    @property
    def last(self) -> RateEntry:
        return self.entries[-1]

    def entry_on(self, d: date) -> RateEntry:
        """The entry in force on ``d``; ``InvalidInput`` when ``d`` is before the first one."""
        index = bisect_right([entry.effective for entry in self.entries], d) - 1
        if index < 0:
            raise InvalidInput(
                Text(
                    fr="Aucun taux {table} connu au {date} : la table commence le {first}.",
                    en="No {table} rate known on {date}: the table starts on {first}.",
                ),
                field="date",
                details={
                    "table": self.name.value,
                    "date": d.isoformat(),
                    "first": self.first.effective.isoformat(),
                },
            )
        return self.entries[index]

    def entry_for_semester(self, d: date) -> RateEntry:
        """The entry published for ``d``'s half-year (it must start exactly on 1 Jan / 1 Jul)."""
        start = semester_start(d)
        entry = self.entry_on(start)
        if entry.effective != start:
            raise InvalidInput(
                Text(
                    fr=(
                        "Le taux {table} du semestre {semester} manque dans la table (dernier "
                        "connu : {last}) : l'ajouter d'après l'arrêté publié."
                    ),
                    en=(
                        "The {table} rate for half-year {semester} is missing from the table "
                        "(last known: {last}): add it from the published arrêté."
                    ),
                ),
                code="reference_rate_missing",
                field="date",
                details={
                    "table": self.name.value,
                    "semester": semester_label(d),
                    "last": self.last.effective.isoformat(),
                },
            )
        return entry


@dataclass(frozen=True)
class ReferenceTables:
    ecb_mro: RateTable
    legal_interest: RateTable

    def table(self, name: RateTableName) -> RateTable:
        return self.ecb_mro if name is RateTableName.ECB_MRO else self.legal_interest

    def ecb_entry_on(self, d: date) -> RateEntry:
        return self.ecb_mro.entry_on(d)

    def ecb_entry_for_semester(self, d: date) -> RateEntry:
        """L441-10: the ECB rate in force on 1 January (first half) or 1 July (second half)."""
        return self.ecb_mro.entry_on(semester_start(d))

    def legal_entry_for_semester(self, d: date) -> RateEntry:
        return self.legal_interest.entry_for_semester(d)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _file_error(
    file_name: str, line: int, en: str, fr: str, value: str | None = None
) -> InvalidInput:
    """A refusal of a table file; ``en``/``fr`` may use ``{value}`` (the faulty cell)."""
    details: dict[str, object] = {"file": file_name, "line": line}
    if value is not None:
        details["value"] = value
    return InvalidInput(
        Text(fr=f"{{file}}, ligne {{line}} : {fr}", en=f"{{file}}, line {{line}}: {en}"),
        field=file_name,
        details=details,
    )


def _parse_rate(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        return None
    return value


def parse_table(name: RateTableName, text: str, file_name: str) -> RateTable:
    """Parse one table's CSV text: ``#`` comment lines, a header, then one line per rate."""
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered or tuple(cell.strip() for cell in numbered[0][1].split(",")) != HEADER:
        raise _file_error(
            file_name,
            numbered[0][0] if numbered else 1,
            "the header must be {value}",
            "l'en-tête doit être {value}",
            ",".join(HEADER),
        )
    entries: list[RateEntry] = []
    for (number, _line), row in zip(
        numbered[1:], csv.reader(line for _, line in numbered[1:]), strict=True
    ):
        if len(row) != len(HEADER):
            raise _file_error(
                file_name, number, "three columns are expected", "trois colonnes sont attendues"
            )
        raw_date, raw_rate, source = (cell.strip() for cell in row)
        try:
            effective = date.fromisoformat(raw_date)
        except ValueError:
            raise _file_error(
                file_name,
                number,
                "invalid date “{value}” (YYYY-MM-DD expected)",
                "date invalide « {value} » (AAAA-MM-JJ attendu)",
                raw_date,
            ) from None
        rate = _parse_rate(raw_rate)
        if rate is None or rate < 0:
            raise _file_error(
                file_name,
                number,
                "invalid rate “{value}” (a non-negative percentage, at most 4 decimals)",
                "taux invalide « {value} » (un pourcentage positif, au plus 4 décimales)",
                raw_rate,
            )
        if not source:
            raise _file_error(file_name, number, "the source is missing", "la source manque")
        if name is RateTableName.LEGAL_INTEREST and not _is_semester_start(effective):
            raise _file_error(
                file_name,
                number,
                "a legal-rate line starts on 1 January or 1 July",
                "une ligne de taux légal commence le 1er janvier ou le 1er juillet",
            )
        if entries and effective <= entries[-1].effective:
            raise _file_error(
                file_name,
                number,
                "dates must be in strictly increasing order",
                "les dates doivent être strictement croissantes",
            )
        entries.append(RateEntry(effective=effective, rate=rate, source=source))
    if not entries:
        raise _file_error(file_name, 1, "the table has no rate", "la table ne contient aucun taux")
    return RateTable(name=name, entries=tuple(entries))


def _is_semester_start(d: date) -> bool:
    return d.day == 1 and d.month in _SEMESTER_START_MONTHS


def _data_dir(path: Path | str | None) -> Traversable:
    if path is None:
        return resources.files(DATA_PACKAGE).joinpath(DATA_DIR)
    return Path(path)


_CACHE: dict[str, ReferenceTables] = {}


def _cache_key(path: Path | str | None) -> str:
    return "<package>" if path is None else str(Path(path).resolve())


def load_tables(path: Path | str | None = None) -> ReferenceTables:
    """The two tables from the directory ``path`` (the packaged data by default), cached.

    The cache is per directory; :func:`add_rate` refreshes it, :func:`clear_cache` empties it
    (another process that changes the files is seen after a restart or a ``clear_cache``).
    """
    key = _cache_key(path)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    directory = _data_dir(path)
    tables: dict[RateTableName, RateTable] = {}
    for name, file_name in FILE_NAMES.items():
        resource = directory.joinpath(file_name)
        if not resource.is_file():
            raise InvalidInput(
                Text(
                    fr="Table de taux introuvable : {file}",
                    en="Rate table not found: {file}",
                ),
                field="path",
                details={"file": str(resource)},
            )
        tables[name] = parse_table(name, resource.read_text(encoding="utf-8"), file_name)
    loaded = ReferenceTables(
        ecb_mro=tables[RateTableName.ECB_MRO],
        legal_interest=tables[RateTableName.LEGAL_INTEREST],
    )
    _CACHE[key] = loaded
    return loaded


def clear_cache() -> None:
    """Forget every table read so far (the next lookup reads the files again)."""
    _CACHE.clear()


# --------------------------------------------------------------------------------------------
# Lookups
# --------------------------------------------------------------------------------------------


def ecb_rate_on(d: date, *, tables: ReferenceTables | None = None) -> Decimal:
    """The ECB main refinancing rate in force on ``d`` (percent per year)."""
    return (tables or load_tables()).ecb_entry_on(d).rate


def ecb_rate_for_semester(d: date, *, tables: ReferenceTables | None = None) -> Decimal:
    """L441-10: the ECB rate in force on 1 January for a date of the first half-year, on
    1 July for a date of the second half-year."""
    return (tables or load_tables()).ecb_entry_for_semester(d).rate


def legal_rate_for_semester(d: date, *, tables: ReferenceTables | None = None) -> Decimal:
    """The French legal interest rate (professional creditors) of ``d``'s half-year.

    ``InvalidInput`` (code ``reference_rate_missing``) when that half-year is not in the table.
    """
    return (tables or load_tables()).legal_entry_for_semester(d).rate


# --------------------------------------------------------------------------------------------
# Updating
# --------------------------------------------------------------------------------------------


def _writable_dir(path: Path | str | None) -> Path:
    directory = _data_dir(path)
    if not isinstance(directory, Path):
        raise InvalidInput(
            Text(
                fr="Les tables installées ne sont pas modifiables ici : donner leur dossier.",
                en="The installed tables cannot be changed in place: give their directory.",
            ),
            field="path",
        )
    return directory


def add_rate(
    table: RateTableName | str,
    effective: date,
    rate: Decimal,
    source: str,
    path: Path | str | None = None,
) -> RateTable:
    """Append a rate to ``table`` in the directory ``path`` (the packaged data by default) and
    return the updated table.

    Refused with ``InvalidInput`` naming the field: an unknown ``table``; an ``effective`` date
    not after the table's last one (a table is only ever appended to), or, for the legal rate,
    not on 1 January or 1 July; a ``rate`` that is not a non-negative ``Decimal`` with at most
    four decimals; an empty or multi-line ``source``.
    """
    try:
        name = RateTableName(table)
    except ValueError:
        raise InvalidInput(
            Text(
                fr="Table de taux inconnue : {table} (possibles : {names})",
                en="Unknown rate table: {table} (possible: {names})",
            ),
            field="table",
            details={"table": str(table), "names": ", ".join(n.value for n in RateTableName)},
        ) from None
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise InvalidInput(
            Text(
                fr="Le taux doit être un nombre décimal exact.",
                en="The rate must be an exact decimal number.",
            ),
            field="rate",
        )
    if rate < 0:
        raise InvalidInput(
            Text(
                fr="Le taux ne peut pas être négatif : {rate}",
                en="The rate cannot be negative: {rate}",
            ),
            field="rate",
            details={"rate": str(rate)},
        )
    if _parse_rate(str(rate)) is None:
        raise InvalidInput(
            Text(
                fr="Le taux a au plus {places} décimales : {rate}",
                en="The rate has at most {places} decimals: {rate}",
            ),
            field="rate",
            details={"rate": str(rate), "places": RATE_PLACES},
        )
    clean_source = source.strip()
    if not clean_source or "\n" in clean_source or "\r" in clean_source:
        raise InvalidInput(
            Text(
                fr="La source (une ligne, par exemple l'arrêté ou la décision) est obligatoire.",
                en="The source (one line, e.g. the arrêté or the decision) is required.",
            ),
            field="source",
        )
    if name is RateTableName.LEGAL_INTEREST and not _is_semester_start(effective):
        raise InvalidInput(
            Text(
                fr="Un taux légal s'applique au 1er janvier ou au 1er juillet, pas le {date}.",
                en="A legal rate applies from 1 January or 1 July, not {date}.",
            ),
            field="effective",
            details={"date": effective.isoformat()},
        )
    directory = _writable_dir(path)
    current = load_tables(directory).table(name)
    if effective <= current.last.effective:
        raise InvalidInput(
            Text(
                fr="La date {date} doit être postérieure au dernier taux de la table ({last}).",
                en="The date {date} must be after the table's last rate ({last}).",
            ),
            field="effective",
            details={"date": effective.isoformat(), "last": current.last.effective.isoformat()},
        )
    file = directory / FILE_NAMES[name]
    existing = file.read_text(encoding="utf-8")
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([effective.isoformat(), str(rate), clean_source])
    with file.open("a", encoding="utf-8", newline="") as handle:
        if existing and not existing.endswith("\n"):
            handle.write("\n")
        handle.write(line.getvalue())
    _CACHE.pop(_cache_key(directory), None)
    if path is None:
        _CACHE.pop(_cache_key(None), None)
    return load_tables(directory).table(name)


def operator_tables_dir(data_dir: Path) -> Path:
    """Where an operator keeps its updated copy of the tables: ``<data_dir>/reference_rates``,
    seeded from the packaged tables the first time a rate is added."""
    target = data_dir / "reference_rates"
    if not target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        packaged = _data_dir(None)
        for file_name in FILE_NAMES.values():
            (target / file_name).write_text(
                packaged.joinpath(file_name).read_text(encoding="utf-8"), encoding="utf-8"
            )
    return target


def tables_for(data_dir: Path) -> ReferenceTables:
    """The operator's updated tables when it has some, else the packaged ones."""
    target = data_dir / "reference_rates"
    return load_tables(target if target.is_dir() else None)
