"""The durable queue: nothing accepted is lost (MAIL-09, MAIL-12).

A message is written to the spool (a file, fsync'd, then renamed and the directory fsync'd)
and its deliveries recorded in ``mail_queue`` in one committed transaction before the gateway
answers 250. Deliveries are claimed by one gateway instance at a time with a lease
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite runs one writer at a time), so two
instances sharing the database and the spool never deliver a message twice, and a claim left
by a crashed instance is taken over when its lease ends. A delivery that fails for now is
retried with a doubling delay until the terms' purge delay (168 h), then dropped and the
customer told (MAIL-09).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, and_, insert, or_, select, update
from sqlalchemy.orm import Session

from operateur.config import Settings
from operateur.i18n import Text
from operateur.logs import event
from operateur.mail.models import (
    Direction,
    QuarantinedMessage,
    QuarantineStatus,
    QueuedMessage,
    QueueStatus,
)
from operateur.mail.rules import retry_delay
from operateur.notifications.service import notify

log = logging.getLogger("operateur.mail.queue")

LIVE = (QueueStatus.QUEUED, QueueStatus.DELIVERING)
QUEUE = cast(Table, QueuedMessage.__table__)  # for the statements on the path of every message


class Spool:
    """Accepted messages as files, one per message, written durably before the 250 reply."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._path = os.fspath(directory)  # plain strings on the path of every message
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, data: bytes, *, sync_directory: bool = True) -> str:
        """Store ``data`` durably; its name in the spool. The file is complete or absent: it is
        written under a temporary name, fsync'd, then renamed; the rename is durable once the
        directory is fsync'd — here, or by the caller for several files at once
        (``sync_directory=False`` then ``sync()``)."""
        name = f"{uuid.uuid4().hex}.eml"
        temporary = os.path.join(self._path, f".{name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, os.path.join(self._path, name))
        if sync_directory:
            self.sync()
        return name

    def sync(self) -> None:
        """Make the files written so far durable in the directory (fsync of the directory)."""
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def read(self, name: str) -> bytes:
        with open(os.path.join(self._path, name), "rb") as file:
            return file.read()

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def files(self) -> Iterator[tuple[str, datetime]]:
        """Every stored message (name, last modification), temporary files included."""
        for path in self.directory.iterdir():
            if path.is_file():
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)


def spool_dir(settings: Settings) -> Path:
    return settings.mail_spool_dir or Path(settings.data_dir) / "mail" / "spool"


def open_spool(settings: Settings) -> Spool:
    return Spool(spool_dir(settings))


def queue_row(
    *,
    customer_id: int,
    log_id: int | None,
    direction: Direction,
    spool_name: str,
    headers: list[str],
    mail_from: str,
    rcpt_tos: list[str],
    destination: str,
    size: int,
    now: datetime,
    purge_hours: int,
) -> dict[str, Any]:
    """The ``mail_queue`` row of one delivery to make now, dropped after ``purge_hours``
    (MAIL-09)."""
    return {
        "customer_id": customer_id,
        "log_id": log_id,
        "direction": direction,
        "spool_name": spool_name,
        "headers": headers,
        "mail_from": mail_from,
        "rcpt_tos": rcpt_tos,
        "destination": destination,
        "size": size,
        "status": QueueStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "received_at": now,
        "expires_at": now + timedelta(hours=purge_hours),
        "refused_rcpts": [],
    }


def enqueue(session: Session, **row: Any) -> QueuedMessage:
    """Record one delivery to make now (the arguments of ``queue_row``)."""
    queued = QueuedMessage(**queue_row(**row))
    session.add(queued)
    session.flush()
    return queued


def enqueue_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record the deliveries of ``queue_row`` in one statement (the gateway's group commit)."""
    if rows:
        session.connection().execute(insert(QUEUE), rows)


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery, detached from its session, for the relay to carry out."""

    id: int
    customer_id: int
    direction: Direction
    spool_name: str
    headers: tuple[str, ...]
    mail_from: str
    rcpt_tos: tuple[str, ...]
    destination: str
    attempts: int


def claim_due(
    session: Session, *, instance: str, now: datetime, limit: int, lease: timedelta
) -> list[Delivery]:
    """Take up to ``limit`` deliveries that are due — queued and due, or claimed by an
    instance whose lease ended — for ``instance`` until ``now + lease``. Two statements
    whatever the count (the select locks the rows it returns, skipping those another instance
    is claiming), no ORM objects: it runs for every batch of deliveries."""
    table = QUEUE
    due = or_(
        and_(table.c.status == QueueStatus.QUEUED, table.c.next_attempt_at <= now),
        and_(table.c.status == QueueStatus.DELIVERING, table.c.lease_until <= now),
    )
    connection = session.connection()
    rows = connection.execute(
        select(
            table.c.id,
            table.c.customer_id,
            table.c.direction,
            table.c.spool_name,
            table.c.headers,
            table.c.mail_from,
            table.c.rcpt_tos,
            table.c.destination,
            table.c.attempts,
        )
        .where(due, table.c.expires_at > now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    connection.execute(
        update(table)
        .where(table.c.id.in_([row.id for row in rows]))
        .values(status=QueueStatus.DELIVERING, claimed_by=instance, lease_until=now + lease)
    )
    return [
        Delivery(
            id=row.id,
            customer_id=row.customer_id,
            direction=row.direction,
            spool_name=row.spool_name,
            headers=tuple(row.headers),
            mail_from=row.mail_from,
            rcpt_tos=tuple(row.rcpt_tos),
            destination=row.destination,
            attempts=row.attempts,
        )
        for row in rows
    ]


def resume(session: Session, *, instance: str, now: datetime) -> int:
    """At start-up: deliveries this instance had claimed when it stopped (or crashed) are due
    again at once — nothing of this instance is being delivered before it started."""
    rows = list(
        session.scalars(
            select(QueuedMessage).where(
                QueuedMessage.status == QueueStatus.DELIVERING,
                QueuedMessage.claimed_by == instance,
            )
        )
    )
    for row in rows:
        row.status = QueueStatus.QUEUED
        row.claimed_by = None
        row.lease_until = None
        row.next_attempt_at = now
    session.flush()
    return len(rows)


def _owned(session: Session, queue_id: int, instance: str) -> QueuedMessage | None:
    """The row if ``instance`` still holds it (another instance may have taken it over)."""
    row = session.get(QueuedMessage, queue_id, with_for_update=True)
    if row is None or row.status is not QueueStatus.DELIVERING or row.claimed_by != instance:
        return None
    return row


def mark_delivered(
    session: Session,
    queue_id: int,
    *,
    instance: str,
    now: datetime,
    refused: dict[str, str] | None = None,
) -> QueuedMessage | None:
    """The receiving server took the message (``refused``: recipients it refused for good)."""
    row = session.get(QueuedMessage, queue_id, with_for_update=True)
    if row is None or row.status not in LIVE:
        return None
    row.status = QueueStatus.DELIVERED
    row.delivered_at = now
    row.delivered_by = instance
    row.attempts += 1
    row.lease_until = None
    if refused:
        row.refused_rcpts = sorted(refused)
        row.last_error = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in sorted(refused.items()))
    session.flush()
    event(log, "mail.delivered", queue=row.id, customer=row.customer_id, gateway=instance)
    return row


def mark_delivered_many(
    session: Session, deliveries: list[Delivery], *, instance: str, now: datetime
) -> set[int]:
    """``mark_delivered`` for deliveries every recipient of which was taken, in one statement;
    the ids marked (a delivery no longer pending is left as it is)."""
    if not deliveries:
        return set()
    table = QUEUE
    marked = set(
        session.connection().scalars(
            update(table)
            .where(table.c.id.in_([d.id for d in deliveries]), table.c.status.in_(LIVE))
            .values(
                status=QueueStatus.DELIVERED,
                delivered_at=now,
                delivered_by=instance,
                attempts=table.c.attempts + 1,
                lease_until=None,
            )
            .returning(table.c.id)
        )
    )
    if log.isEnabledFor(logging.INFO):
        for delivery in deliveries:
            if delivery.id in marked:
                event(
                    log,
                    "mail.delivered",
                    queue=delivery.id,
                    customer=delivery.customer_id,
                    gateway=instance,
                )
    return marked


def mark_deferred(
    session: Session,
    queue_id: int,
    *,
    instance: str,
    now: datetime,
    error: str,
    first_seconds: int,
    max_seconds: int,
) -> QueuedMessage | None:
    """Not delivered for now: retried after a doubling delay (MAIL-09 buffering)."""
    row = _owned(session, queue_id, instance)
    if row is None:
        return None
    row.attempts += 1
    row.status = QueueStatus.QUEUED
    row.claimed_by = None
    row.lease_until = None
    row.last_error = error[:2000]
    row.next_attempt_at = now + retry_delay(row.attempts, first_seconds, max_seconds)
    session.flush()
    event(
        log,
        "mail.deferred",
        queue=row.id,
        customer=row.customer_id,
        attempts=row.attempts,
        error=error[:200],
    )
    return row


def mark_failed(
    session: Session, queue_id: int, *, instance: str, now: datetime, error: str
) -> QueuedMessage | None:
    """Refused for good by the receiving server (a 5xx reply)."""
    row = _owned(session, queue_id, instance)
    if row is None:
        return None
    row.attempts += 1
    row.status = QueueStatus.FAILED
    row.lease_until = None
    row.last_error = error[:2000]
    session.flush()
    event(log, "mail.failed", queue=row.id, customer=row.customer_id, error=error[:200])
    return row


def expire_due(session: Session, now: datetime) -> list[QueuedMessage]:
    """MAIL-09: deliveries still pending past their purge time are dropped, and each customer
    concerned is told once per run with the count and the addresses."""
    rows = list(
        session.scalars(
            select(QueuedMessage)
            .where(
                QueuedMessage.status.in_(LIVE),
                QueuedMessage.expires_at <= now,
                or_(
                    QueuedMessage.status == QueueStatus.QUEUED,
                    QueuedMessage.lease_until <= now,
                ),
            )
            .order_by(QueuedMessage.id)
            .with_for_update(skip_locked=True)
        )
    )
    by_customer: dict[int, list[QueuedMessage]] = {}
    for row in rows:
        row.status = QueueStatus.EXPIRED
        row.lease_until = None
        by_customer.setdefault(row.customer_id, []).append(row)
    session.flush()
    for customer_id, dropped in by_customer.items():
        hours = round((dropped[0].expires_at - dropped[0].received_at).total_seconds() / 3600)
        recipients = sorted({rcpt for row in dropped for rcpt in row.rcpt_tos})
        notify(
            session,
            customer_id,
            event="mail.expired",
            subject=Text(
                fr="Courriels supprimés : serveur injoignable depuis {hours} heures",
                en="Mail deleted: server unreachable for {hours} hours",
            ),
            body=Text(
                fr="{count} message(s) n'ont pas pu être remis pendant {hours} heures et ont "
                "été supprimés, conformément au contrat. Destinataires : {recipients}. "
                "Dernière erreur : {error}",
                en="{count} message(s) could not be delivered for {hours} hours and were "
                "deleted, as the contract provides. Recipients: {recipients}. "
                "Last error: {error}",
            ),
            data={
                "key": f"mail-expired:{customer_id}:{dropped[0].id}-{dropped[-1].id}",
                "count": len(dropped),
                "hours": hours,
                "recipients": ", ".join(recipients[:50]),
                "error": dropped[-1].last_error[:300] or "-",
                "queue_ids": [row.id for row in dropped],
            },
        )
        event(log, "mail.expired", customer=customer_id, count=len(dropped))
    return rows


def spool_in_use(session: Session, name: str) -> bool:
    """A spool file is needed while a delivery of it is pending or its quarantine is held."""
    return name in spools_in_use(session, {name})


def spools_in_use(session: Session, names: set[str]) -> set[str]:
    """Those of the spool files ``names`` still needed (``spool_in_use``)."""
    if not names:
        return set()
    connection = session.connection()
    pending = connection.scalars(
        select(QueuedMessage.spool_name).where(
            QueuedMessage.spool_name.in_(names), QueuedMessage.status.in_(LIVE)
        )
    )
    held = connection.scalars(
        select(QuarantinedMessage.spool_name).where(
            QuarantinedMessage.spool_name.in_(names),
            QuarantinedMessage.status == QuarantineStatus.HELD,
        )
    )
    return set(pending) | set(held)


def pending(session: Session, customer_id: int) -> list[QueuedMessage]:
    """The customer's deliveries not done yet (buffered mail), oldest first."""
    return list(
        session.scalars(
            select(QueuedMessage)
            .where(QueuedMessage.customer_id == customer_id, QueuedMessage.status.in_(LIVE))
            .order_by(QueuedMessage.id)
        )
    )
