"""The append-only audit log (SEC-02, MAIL-11).

Every flush of an ``Audited`` row writes one audit event per inserted, updated or deleted row,
with the acting ``Actor`` taken from ``session.info["actor"]`` and the reason from
``session.info["reason"]``. Because it hooks the session, no service function can forget it.
Columns marked ``info={"secret": True}`` are masked; ``info={"audit": False}`` are ignored.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    cast,
    event,
    insert,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session, UOWTransaction

from operateur.accounts.models import ApiKey, Audited, AuditEvent, Customer, User
from operateur.accounts.permissions import Actor, system_actor
from operateur.db import Base, utcnow
from operateur.errors import Conflict
from operateur.i18n import Text

MASK = "***"


def set_actor(session: Session, actor: Actor, reason: str | None = None) -> None:
    """Name who acts (and why) for every write made through this session."""
    session.info["actor"] = actor
    session.info["reason"] = reason


def actor_of(session: Session) -> Actor:
    actor = session.info.get("actor")
    return actor if isinstance(actor, Actor) else system_actor()


PLAIN = frozenset({str, int, bool, float, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in PLAIN:  # most values: no conversion
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(obj: Any) -> Iterable[tuple[str, bool]]:
    """(attribute name, is secret) of each audited column of a row."""
    for attr in inspect(obj).mapper.column_attrs:
        column = attr.columns[0]
        if column.info.get("audit") is not False:
            yield attr.key, bool(column.info.get("secret"))


def _shown(value: Any, secret: bool) -> Any:
    return MASK if (secret and value is not None) else _jsonable(value)


def _all_values(obj: Any) -> dict[str, Any]:
    return {key: _shown(getattr(obj, key), secret) for key, secret in _columns(obj)}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the audited columns that changed in this flush."""
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, secret in _columns(obj):
        history = state.attrs[key].history
        if history.has_changes():
            before[key] = _shown(history.deleted[0] if history.deleted else None, secret)
            after[key] = _shown(history.added[0] if history.added else None, secret)
    return before, after


def _customer_id(obj: Any) -> int | None:
    if isinstance(obj, Customer):
        return obj.id
    value = getattr(obj, "customer_id", None)
    return value if isinstance(value, int) else None


def _entity_id(obj: Any) -> str | None:
    """The row's primary key — read from the row, since a row inserted by this very flush has
    its key but no identity in the session yet (SEC-02: its creation names it too)."""
    state = inspect(obj)
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    if not key or any(part is None for part in key):
        return None
    return ":".join(str(part) for part in key)


def _rows(session: Session) -> Iterable[dict[str, Any]]:
    actor = actor_of(session)
    base = {
        "at": utcnow(),
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "reason": session.info.get("reason"),
    }

    def event(action: str, obj: Any, before: Any, after: Any) -> dict[str, Any]:
        return base | {
            "action": action,
            "entity": type(obj).__tablename__,
            "entity_id": _entity_id(obj),
            "customer_id": _customer_id(obj),
            "before": before,
            "after": after,
        }

    for obj in list(session.new):
        if isinstance(obj, Audited):
            yield event("create", obj, None, _all_values(obj))
    omit_data = bool(session.info.get("audit_omit_data"))  # erasures for privacy (CTR-09)
    for obj in list(session.dirty):
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:  # an anonymisation records what it wrote, never what it replaced
                yield event("update", obj, None if omit_data else before, after)
    for obj in list(session.deleted):
        if isinstance(obj, Audited):
            yield event("delete", obj, None if omit_data else _all_values(obj), None)


def record_inserts(
    session: Session,
    model: type[Audited],
    rows: list[dict[str, Any]],
    keys: Iterable[str] | None = None,
) -> None:
    """The "create" events of rows written by a bulk insert, which the flush hook does not
    see (billing runs write thousands of invoices in one statement): same shape as above,
    with the values of ``keys`` only when given (the row itself keeps the rest)."""
    events = insert_events(session, model, rows, keys)
    if events:
        session.connection().execute(insert(AuditEvent), events)


def insert_events(
    session: Session,
    model: type[Audited],
    rows: list[dict[str, Any]],
    keys: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The ``AuditEvent`` rows ``record_inserts`` writes, for a caller that writes them in
    bulk itself (the billing run copies them into PostgreSQL with its invoices)."""
    if not rows:
        return []
    actor = actor_of(session)
    mapper = inspect(model)
    wanted = set(keys) if keys is not None else None
    columns = [
        (attr.key, bool(attr.columns[0].info.get("secret")))
        for attr in mapper.column_attrs
        if attr.columns[0].info.get("audit") is not False and (wanted is None or attr.key in wanted)
    ]
    at = utcnow()
    return [
        {
            "at": at,
            "actor_type": actor.kind,
            "actor_id": actor.id,
            "actor_label": actor.label,
            "reason": session.info.get("reason"),
            "action": "create",
            "entity": mapper.tables[0].name,
            "entity_id": str(row["id"]),
            "customer_id": row.get("customer_id"),
            "before": None,
            "after": {key: _shown(row.get(key), secret) for key, secret in columns},
        }
        for row in rows
    ]


def _refuse_audit_changes(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise Conflict(
                Text(
                    fr="Le journal d'audit ne peut pas être modifié.",
                    en="The audit log is append-only.",
                ),
                code="audit_append_only",
            )


def _write_events(session: Session, _ctx: UOWTransaction) -> None:
    rows = list(_rows(session))
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


def install(session_class: type[Session] = Session) -> None:
    """Hook the audit log into every session (idempotent)."""
    if not event.contains(session_class, "after_flush", _write_events):
        event.listen(session_class, "before_flush", _refuse_audit_changes)
        event.listen(session_class, "after_flush", _write_events)


@dataclass(frozen=True)
class AuditQuery:
    customer_id: int | None = None
    # SEC-02: the events of one operator only (its staff's view); None for the whole platform
    # (the CLI, the system)
    operator_id: int | None = None
    actor_label: str | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def query(session: Session, q: AuditQuery) -> list[AuditEvent]:
    """Audit events matching every given filter, newest first."""
    stmt = select(AuditEvent)
    if q.operator_id is not None:
        stmt = stmt.where(operator_scope(q.operator_id))
    if q.customer_id is not None:
        stmt = stmt.where(AuditEvent.customer_id == q.customer_id)
    if q.actor_label:
        stmt = stmt.where(AuditEvent.actor_label.contains(q.actor_label))
    if q.action:
        stmt = stmt.where(AuditEvent.action == q.action)
    if q.entity:
        stmt = stmt.where(AuditEvent.entity == q.entity)
    if q.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == q.entity_id)
    if q.since:
        stmt = stmt.where(AuditEvent.at >= q.since)
    if q.until:
        stmt = stmt.where(AuditEvent.at < q.until)
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(max(1, min(q.limit, 1000)))
    return list(session.scalars(stmt))


def operator_scope(operator_id: int) -> ColumnElement[bool]:
    """SEC-02: the events an operator's staff may read — never another operator's.

    The events of its customers; and, of the events that concern no customer, those made by
    one of its users or API keys, those about one of its rows (any audited table with an
    ``operator_id``: its staff, staff keys, billing runs..., found by the row or by the values
    the event recorded when the row is gone), its own operator row, and those about rows that
    belong to nobody (shared reference tables such as price indices). Anything else — another
    operator's rows, a number going back to the shared stock from a customer — stays out."""
    owned: list[ColumnElement[bool]] = [
        and_(AuditEvent.entity == "operators", AuditEvent.entity_id == str(operator_id)),
        and_(
            AuditEvent.actor_type == "user",
            AuditEvent.actor_id.in_(select(User.id).where(User.operator_id == operator_id)),
        ),
        and_(
            AuditEvent.actor_type == "api_key",
            AuditEvent.actor_id.in_(select(ApiKey.id).where(ApiKey.operator_id == operator_id)),
        ),
        AuditEvent.after["operator_id"].as_integer() == operator_id,
        AuditEvent.before["operator_id"].as_integer() == operator_id,
    ]
    shared: list[str] = []
    for mapper in Base.registry.mappers:
        if not issubclass(mapper.class_, Audited) or mapper.class_ is Customer:
            continue
        table = mapper.local_table
        if not isinstance(table, Table):
            continue
        name, columns = table.name, table.c  # the table's name is what the events name
        if "operator_id" in columns and "id" in columns:
            owned.append(
                and_(
                    AuditEvent.entity == name,
                    AuditEvent.entity_id.in_(
                        select(cast(columns["id"], String)).where(
                            columns["operator_id"] == operator_id
                        )
                    ),
                )
            )
        elif "customer_id" not in columns and name != "operators":
            shared.append(name)
    if shared:
        owned.append(AuditEvent.entity.in_(sorted(shared)))
    customers = select(Customer.id).where(Customer.operator_id == operator_id)
    return or_(
        AuditEvent.customer_id.in_(customers),
        and_(AuditEvent.customer_id.is_(None), or_(*owned)),
    )
