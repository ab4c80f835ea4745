"""Bulk writes for the SMS hot paths: one statement for many rows, and the session kept right.

A bulk UPDATE or INSERT bypasses the ORM unit of work (and its mapper events): the session's
copies of the rows it changes are not updated by it. The functions here write the rows, then
give the session's copies (when it holds some) the values written, as loaded from the database,
so that code holding those objects sees what the database has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

#: Ids per ``IN (…)`` list: well below SQLite's and PostgreSQL's limits on bound parameters.
IN_CHUNK = 500

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


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
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
        .values(common)
    )
    session.connection().execute(statement, list(rows))
    if held := _held(session, model):
        for row in rows:
            if (instance := held.get(row["row_id"])) is not None:
                _sync(instance, {name: row[name] for name in names} | common)


def set_columns(
    session: Session, model: type[Any], ids: Iterable[int], values: Mapping[str, Any]
) -> None:
    """``UPDATE … SET values WHERE id IN (ids)``: the same values for every row."""
    ordered = sorted(ids)
    table = table_of(model)
    connection = session.connection()
    for chunk in chunks(ordered):
        connection.execute(update(table).where(table.c.id.in_(chunk)).values(dict(values)))
    if held := _held(session, model):
        for row_id in ordered:
            if (instance := held.get(row_id)) is not None:
                _sync(instance, values)
