"""PRIV-01: a customer's data, exported on request as a zip of JSON files — one per table that
holds rows of the customer (every context's tables, found from the metadata), the customer's
own row, and the customer's audit trail. Password, token and key hashes are left out."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, select
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


def _rows(session: Session, table: Table, column: str, customer_id: int) -> list[dict[str, Any]]:
    keep = [c for c in table.columns if not c.name.endswith(LEFT_OUT_SUFFIXES)]
    key = table.primary_key.columns.values()[0] if table.primary_key.columns else keep[0]
    result = session.execute(select(*keep).where(table.c[column] == customer_id).order_by(key))
    return [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result]


def customer_tables() -> list[tuple[Table, str]]:
    """(table, column naming the customer) of every table holding a customer's rows."""
    found = [(metadata.tables["customers"], "id")]
    for table in metadata.sorted_tables:
        if table.name != "customers" and "customer_id" in table.c:
            found.append((table, "customer_id"))
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
        for table, column in customer_tables():
            rows = _rows(session, table, column, customer_id)
            if not rows:
                continue
            manifest["tables"][table.name] = len(rows)
            archive.writestr(
                f"{table.name}.json", json.dumps(rows, ensure_ascii=False, indent=2, default=str)
            )
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()
