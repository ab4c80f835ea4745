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

from sqlalchemy import and_, or_, select
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


class Spool:
    """Accepted messages as files, one per message, written durably before the 250 reply."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, data: bytes, *, sync_directory: bool = True) -> str:
        """Store ``data`` durably; its name in the spool. The file is complete or absent: it is
        written under a temporary name, fsync'd, then renamed; the rename is durable once the
        directory is fsync'd — here, or by the caller for several files at once
        (``sync_directory=False`` then ``sync()``)."""
        name = f"{uuid.uuid4().hex}.eml"
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, self.directory / name)
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
        return (self.directory / name).read_bytes()

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


def enqueue(
    session: Session,
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
) -> QueuedMessage:
    """Record one delivery to make now; it is dropped after ``purge_hours`` (MAIL-09)."""
    queued = QueuedMessage(
        customer_id=customer_id,
        log_id=log_id,
        direction=direction,
        spool_name=spool_name,
        headers=headers,
        mail_from=mail_from,
        rcpt_tos=rcpt_tos,
        destination=destination,
        size=size,
        status=QueueStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        received_at=now,
        expires_at=now + timedelta(hours=purge_hours),
        refused_rcpts=[],
    )
    session.add(queued)
    session.flush()
    return queued


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
    instance whose lease ended — for ``instance`` until ``now + lease``."""
    due = or_(
        and_(QueuedMessage.status == QueueStatus.QUEUED, QueuedMessage.next_attempt_at <= now),
        and_(QueuedMessage.status == QueueStatus.DELIVERING, QueuedMessage.lease_until <= now),
    )
    rows = list(
        session.scalars(
            select(QueuedMessage)
            .where(due, QueuedMessage.expires_at > now)
            .order_by(QueuedMessage.next_attempt_at, QueuedMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.status = QueueStatus.DELIVERING
        row.claimed_by = instance
        row.lease_until = now + lease
    session.flush()
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
    pending = session.scalar(
        select(QueuedMessage.id)
        .where(QueuedMessage.spool_name == name, QueuedMessage.status.in_(LIVE))
        .limit(1)
    )
    if pending is not None:
        return True
    held = session.scalar(
        select(QuarantinedMessage.id)
        .where(
            QuarantinedMessage.spool_name == name,
            QuarantinedMessage.status == QuarantineStatus.HELD,
        )
        .limit(1)
    )
    return held is not None


def pending(session: Session, customer_id: int) -> list[QueuedMessage]:
    """The customer's deliveries not done yet (buffered mail), oldest first."""
    return list(
        session.scalars(
            select(QueuedMessage)
            .where(QueuedMessage.customer_id == customer_id, QueuedMessage.status.in_(LIVE))
            .order_by(QueuedMessage.id)
        )
    )
