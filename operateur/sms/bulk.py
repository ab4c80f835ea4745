"""Bulk writes for the SMS hot paths: one statement for many rows, and the session kept right.

A bulk UPDATE or INSERT bypasses the ORM unit of work (and its mapper events): the session's
copies of the rows it changes are not updated by it. The functions here write the rows, then
give the session's copies (when it holds some) the values written, as loaded from the database,
so that code holding those objects sees what the database has.

:func:`execute_many` runs such a statement for a batch with the columns' own type conversions
(SQLAlchemy's bind processors for the connection's dialect) applied once per distinct value
instead of once per row and column: the dispatcher settles every window of SMSC answers this
way, and SQLAlchemy's per-row parameter handling was most of that time.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table, bindparam, insert, inspect, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import Executable

from operateur.db import client_default

#: Ids per ``IN (…)`` list: well below SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 500

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for one dialect: its SQL, its parameters in the driver's order
    (positional paramstyles), the bind processor of each parameter that has one, and the
    client-side default (INSERT) or onupdate (UPDATE) of the columns that have one, which
    SQLAlchemy renders as parameters of their own when a row does not give them."""

    sql: str
    positional: tuple[str, ...] | None
    processors: dict[str, Callable[[Any], Any]]
    defaults: dict[str, Callable[[], Any]]


def _default_of(statement: Any, name: str) -> Callable[[], Any] | None:
    """The client-side default (INSERT) or onupdate (UPDATE) of the column ``name``."""
    table = getattr(statement, "table", None)
    column = table.c.get(name) if table is not None else None
    if column is None:
        return None
    return client_default(column, on_update=not getattr(statement, "is_insert", False))


_COMPILED: dict[tuple[int, str], tuple[Executable, _Compiled]] = {}


def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    """``statement`` compiled for ``dialect``, kept for the next batch (the hot paths build their
    statements once: see the ``functools.cache`` builders of their callers)."""
    key = (id(statement), dialect.name)
    found = _COMPILED.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = {}
    defaults = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
        if (default := _default_of(statement, name)) is not None:
            defaults[name] = default
    result = _Compiled(
        sql=compiled.string,
        positional=tuple(compiled.positiontup) if compiled.positional else None,
        processors=processors,
        defaults=defaults,
    )
    _COMPILED[key] = (statement, result)
    return result


def execute_many(
    connection: Connection,
    statement: Executable,
    rows: Sequence[Mapping[str, Any]],
    common: Mapping[str, Any] | None = None,
) -> None:
    """Execute ``statement`` (whose parameters are all named bind parameters) once per row
    (``executemany``), each row's parameters completed by ``common``; the values converted by
    the parameters' types as SQLAlchemy would, column by column and once per distinct value
    (``common`` once for the batch)."""
    if not rows:
        return
    compiled = _compiled(statement, connection.dialect)
    processors = compiled.processors
    given = dict(common or {})
    for name, default in compiled.defaults.items():
        if name not in given and name not in rows[0]:
            given[name] = default()  # once for the batch
    count = len(rows)
    columns: dict[str, list[Any]] = {}
    for name, value in given.items():
        columns[name] = [processors[name](value) if name in processors else value] * count
    for name in rows[0]:
        if name in given:
            continue
        values = [row[name] for row in rows]
        processor = processors.get(name)
        if processor is not None:
            try:
                converted = {value: processor(value) for value in set(values)}
            except TypeError:  # unhashable values (a JSON list): converted one by one
                values = list(map(processor, values))
            else:
                values = list(map(converted.__getitem__, values))
        columns[name] = values
    if compiled.positional is not None:
        order = compiled.positional
        connection.exec_driver_sql(
            compiled.sql, list(zip(*(columns[n] for n in order), strict=True))
        )
    else:
        names = list(columns)
        connection.exec_driver_sql(
            compiled.sql,
            [
                dict(zip(names, values, strict=True))
                for values in zip(*(columns[n] for n in names), strict=True)
            ],
        )


@dataclass(frozen=True)
class _Query:
    """A SELECT compiled for one dialect, its column types and the row type its rows are made
    into; the result processor of each column (None when the driver's value is the column's)
    is found at the first execution, from the driver's column type codes."""

    sql: str
    positional: tuple[str, ...] | None
    types: tuple[Any, ...]
    row: Any
    processors: list[tuple[Callable[[Any], Any] | None, ...]]


_QUERIES: dict[tuple[int, str], tuple[Executable, _Query]] = {}


def _query(statement: Any, dialect: Dialect) -> _Query:
    key = (id(statement), dialect.name)
    found = _QUERIES.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=dialect)
    columns = list(statement.selected_columns)
    result = _Query(
        sql=compiled.string,
        positional=tuple(compiled.positiontup) if compiled.positional else None,
        types=tuple(column.type.dialect_impl(dialect) for column in columns),
        row=namedtuple("Row", [column.key for column in columns]),
        processors=[],
    )
    _QUERIES[key] = (statement, result)
    return result


def fetch_rows(
    connection: Connection, statement: Executable, params: Mapping[str, Any]
) -> list[Any]:
    """The rows of a SELECT of plain columns whose parameters need no conversion (ids), as
    named tuples; each column's values converted by its type as SQLAlchemy would, once per
    distinct value (a batch of messages mostly shares its status, cost, ids list…)."""
    dialect = connection.dialect
    query = _query(statement, dialect)
    if query.positional is not None:
        result = connection.exec_driver_sql(
            query.sql, tuple(params[name] for name in query.positional)
        )
    else:
        result = connection.exec_driver_sql(query.sql, dict(params))
    if not query.processors:
        description = result.cursor.description
        query.processors.append(
            tuple(
                kind.result_processor(dialect, column[1])
                for kind, column in zip(query.types, description, strict=True)
            )
        )
    raw = result.fetchall()
    if not raw:
        return []
    columns: list[Iterable[Any]] = []
    for values, processor in zip(zip(*raw, strict=True), query.processors[0], strict=True):
        if processor is None:
            columns.append(values)
            continue
        try:
            converted = {value: processor(value) for value in set(values)}
        except TypeError:  # unhashable driver values: converted one by one
            columns.append(list(map(processor, values)))
        else:
            columns.append(list(map(converted.__getitem__, values)))
    make = query.row._make
    return [make(values) for values in zip(*columns, strict=True)]


def _held(session: Session, model: type[Any]) -> dict[Any, Any]:
    """The session's copies of ``model`` rows, by id (usually none on the hot paths)."""
    held: dict[Any, Any] = {}
    for instance in session.identity_map.values():
        if isinstance(instance, model):
            identity = inspect(instance).identity  # read without loading anything
            if identity is not None:
                held[identity[0]] = instance
    return held


def _sync(instance: Any, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        set_committed_value(instance, name, value)


def update_rows(
    session: Session,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    common: Mapping[str, Any] | None = None,
) -> None:
    """``UPDATE … WHERE id = :row_id`` executed once for all ``rows`` (each a mapping of the
    same columns plus ``row_id``), with the ``common`` values for every row."""
    if not rows:
        return
    table = table_of(model)
    common = dict(common or {})
    names = [name for name in rows[0] if name != "row_id"]
    statement = _update_by_id(table, tuple(names) + tuple(sorted(common)))
    execute_many(session.connection(), statement, rows, common)
    if held := _held(session, model):
        for row in rows:
            if (instance := held.get(row["row_id"])) is not None:
                _sync(instance, {name: row[name] for name in names} | common)


@cache
def _update_by_id(table: Table, names: tuple[str, ...]) -> Executable:
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
    )


@cache
def _update_in(table: Table, names: tuple[str, ...]) -> Executable:
    """``UPDATE … WHERE id IN :row_ids`` (an expanding parameter): compiled once, whatever the
    number of ids (a list of literal ids would be a new statement to compile every time)."""
    return (
        update(table)
        .where(table.c.id.in_(bindparam("row_ids", expanding=True)))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
    )


@cache
def _insert(table: Table, names: tuple[str, ...]) -> Executable:
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names})


def insert_rows(
    connection: Connection,
    model: type[Any],
    rows: Sequence[Mapping[str, Any]],
    common: Mapping[str, Any] | None = None,
) -> None:
    """``INSERT`` of ``rows`` (mappings of the same columns) with the ``common`` values for
    every row, in one ``executemany`` (:func:`execute_many`); no ORM events."""
    if not rows:
        return
    common = dict(common or {})
    names = tuple(name for name in rows[0] if name not in common) + tuple(sorted(common))
    execute_many(connection, _insert(table_of(model), names), rows, common)


def set_columns(
    session: Session, model: type[Any], ids: Iterable[int], values: Mapping[str, Any]
) -> None:
    """``UPDATE … SET values WHERE id IN (ids)``: the same values for every row."""
    ordered = sorted(ids)
    statement = _update_in(table_of(model), tuple(sorted(values)))
    connection = session.connection()
    for chunk in chunks(ordered):
        connection.execute(statement, {"row_ids": list(chunk), **values})
    if held := _held(session, model):
        for row_id in ordered:
            if (instance := held.get(row_id)) is not None:
                _sync(instance, values)
