"""Running usage totals per contract, period, kind and destination (``PeriodUsage``).

Rated usage is added to its open totals in the transaction that stores it: by mapper events
for records written through the ORM (so no engine can forget it), by ``add`` for bulk inserts
(which bypass those events). ``operateur.billing`` imports this module, so the events are
always in place when usage records are.
Invoicing reads the open totals of a period and closes them with its invoice (``close``).
Rated records are immutable: a correction is a new record (a credit note for billed usage).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, event, inspect, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapper, Session

from operateur.billing.models import OPEN, PeriodUsage, UsageRecord, UsageStatus
from operateur.errors import Conflict
from operateur.i18n import Text

KEY = ("contract_id", "period", "kind", "destination", "prefix")
SUMS = ("calls", "billed_seconds", "sms_segments", "cost", "surcharge")
ACCOUNTED = ("status", "contract_id", "period", "kind", "destination", "prefix",
             "billed_seconds", "sms_segments", "cost", "surcharge")  # fmt: skip


def _key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        record["contract_id"],
        record["period"],
        str(record["kind"]),
        record.get("destination") or "",
        record.get("prefix") or "",
    )


def add(connection: Connection, records: Iterable[Mapping[str, Any]]) -> int:
    """Add rated usage records (mappings of ``UsageRecord`` columns) to their open totals, in
    one statement per call; returns the number of records counted."""
    deltas: dict[tuple[Any, ...], dict[str, Any]] = {}
    counted = 0
    for record in records:
        if str(record["status"]) != UsageStatus.RATED or record.get("contract_id") is None:
            continue
        counted += 1
        key = _key(record)
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = dict(zip(KEY, key, strict=True)) | {
                "calls": 0,
                "billed_seconds": 0,
                "sms_segments": 0,
                "cost": Decimal("0"),
                "surcharge": Decimal("0"),
            }
        delta["calls"] += 1
        delta["billed_seconds"] += record.get("billed_seconds") or 0
        delta["sms_segments"] += record.get("sms_segments") or 0
        delta["cost"] += record.get("cost") or Decimal("0")
        delta["surcharge"] += record.get("surcharge") or Decimal("0")
    if deltas:
        connection.execute(_upsert(connection.dialect.name), list(deltas.values()))
    return counted


@cache
def _upsert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (the open totals of the key) DO UPDATE adding the deltas; built
    once per dialect (it is on the path of every stored record)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(PeriodUsage)
    table = PeriodUsage.__table__
    return stmt.on_conflict_do_update(
        index_elements=list(KEY),
        index_where=OPEN,
        set_={name: table.c[name] + stmt.excluded[name] for name in SUMS},
    )


def close(session: Session, invoice_of: Mapping[int, int]) -> None:
    """Close totals (by id) with the invoice that bills them."""
    if invoice_of:
        session.connection().execute(
            update(PeriodUsage)
            .where(PeriodUsage.id == bindparam("total_id"))
            .values(invoice_id=bindparam("invoice")),
            [{"total_id": total, "invoice": invoice} for total, invoice in invoice_of.items()],
        )


def _columns(record: UsageRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in ACCOUNTED}


def _stored(_mapper: Mapper[Any], connection: Connection, record: UsageRecord) -> None:
    add(connection, [_columns(record)])


def _changed(_mapper: Mapper[Any], connection: Connection, record: UsageRecord) -> None:
    """A rated record does not change; a rejected one rated after a fix counts from then on."""
    history = {name: inspect(record).attrs[name].history for name in ACCOUNTED}
    was = (history["status"].deleted or [record.status])[0]
    if was == UsageStatus.RATED:
        if any(h.has_changes() for h in history.values()):
            raise Conflict(
                Text(
                    fr="Un enregistrement d'usage valorisé ne change plus : "
                    "enregistrer une correction.",
                    en="A rated usage record no longer changes: record a correction.",
                ),
                code="usage_record_immutable",
            )
    elif record.status == UsageStatus.RATED:
        add(connection, [_columns(record)])


event.listen(UsageRecord, "after_insert", _stored)
event.listen(UsageRecord, "before_update", _changed)
