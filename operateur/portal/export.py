"""PRIV-01: a customer's data, exported on request as a zip of JSON files — one per table that
holds rows of the customer (every context's tables, found from the metadata), the customer's
own row, and the customer's audit trail. Rows that name their customer only through their
parent (an invoice's lines, a contract's period usage) come with that parent's customer.
Password, token and key hashes are left out."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, select
from sqlalchemy.orm import Session

from operateur.db import utcnow
from operateur.models import metadata

LEFT_OUT_SUFFIXES = ("_hash",)  # credentials' hashes prove nothing to their owner


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(session: Session, table: Table, owned: ColumnElement[bool]) -> list[dict[str, Any]]:
    keep = [c for c in table.columns if not c.name.endswith(LEFT_OUT_SUFFIXES)]
    key = table.primary_key.columns.values()[0] if table.primary_key.columns else keep[0]
    result = session.execute(select(*keep).where(owned).order_by(key))
    return [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result]


def _owner(table: Table) -> tuple[str, Table | None] | None:
    """The column naming the customer of ``table``'s rows, and the parent table it points to
    when the customer is the parent's (an invoice line's invoice); None: not a customer's."""
    if table.name == "customers":
        return "id", None
    if "customer_id" in table.c:
        return "customer_id", None
    # not-null foreign keys first: they name the parent of every row
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.nullable is not False):
        parent = fk.column.table
        if isinstance(parent, Table) and "customer_id" in parent.c and fk.column.name == "id":
            return fk.parent.name, parent
    return None


Owned = Callable[[int], ColumnElement[bool]]


def _owned_by(column: Column[Any], parent: Table | None) -> Owned:
    """The filter of a customer's rows: on the table's own column, or through its parent."""
    if parent is None:
        return lambda customer_id: column == customer_id
    return lambda customer_id: column.in_(
        select(parent.c.id).where(parent.c.customer_id == customer_id)
    )


def customer_tables() -> list[tuple[Table, Owned]]:
    """(table, filter of a customer's rows) of every table holding rows of a customer."""
    found = [(metadata.tables["customers"], _owned_by(metadata.tables["customers"].c.id, None))]
    for table in metadata.sorted_tables:
        owner = _owner(table) if table.name != "customers" else None
        if owner is not None:
            column, parent = owner
            found.append((table, _owned_by(table.c[column], parent)))
    return found


def export_zip(session: Session, customer_id: int) -> bytes:
    """The zip: ``<table>.json`` for each table with rows of the customer, and a manifest."""
    buffer = io.BytesIO()
    manifest: dict[str, Any] = {
        "customer_id": customer_id,
        "exported_at": utcnow().isoformat(timespec="seconds"),
        "tables": {},
    }
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table, owned in customer_tables():
            rows = _rows(session, table, owned(customer_id))
            if not rows:
                continue
            manifest["tables"][table.name] = len(rows)
            archive.writestr(
                f"{table.name}.json", json.dumps(rows, ensure_ascii=False, indent=2, default=str)
            )
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()
