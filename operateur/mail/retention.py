"""Retention of the mail gateway's data (MAIL-10, PRIV-02 [003 §15.2, §15.3]), from each
customer's terms: stored mail — the quarantine, the buffer and their spool files, the
challenges — at most ``retention.mail_days`` (30); filtering logs, releases and reports, daily
counters and console connection logs ``retention.logs_days`` (365). A scheduler job."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, union
from sqlalchemy.orm import Session

from operateur.catalog.terms import RetentionTerms
from operateur.contracts import service as contracts
from operateur.contracts.models import Contract
from operateur.logs import event
from operateur.mail import licences, queue
from operateur.mail.models import (
    ConsoleLog,
    DailyCount,
    FilterLog,
    MailChallenge,
    MailFeedback,
    ProbeResult,
    QuarantinedMessage,
    QueuedMessage,
)
from operateur.mail.queue import Spool

log = logging.getLogger("operateur.mail.retention")

# A spool file with no row yet may belong to a message being accepted right now: it is left
# alone for this long (the time between writing the file and committing its row).
UNCOMMITTED_GRACE = timedelta(hours=1)
# The purge runs once a day: stored mail that would pass its limit before the next run goes at
# this one, so that it is never kept beyond the terms' days ("n'excède pas 30 jours").
NEXT_RUN = timedelta(days=1)


@dataclass
class Purged:
    quarantine: int = 0
    queue: int = 0
    challenges: int = 0
    logs: int = 0
    feedback: int = 0
    counters: int = 0
    console: int = 0
    probes: int = 0
    files: list[str] = field(default_factory=list)


def retention_of(session: Session, customer_id: int) -> RetentionTerms | None:
    """The retention terms of the customer's latest mail contract, whatever its state."""
    for contract in session.scalars(
        select(Contract).where(Contract.customer_id == customer_id).order_by(Contract.id.desc())
    ):
        if licences.is_mail_contract(contract):
            return contracts.terms_of(contract).retention
    return None


def _customers(session: Session) -> list[int]:
    ids = union(
        select(QuarantinedMessage.customer_id),
        select(QueuedMessage.customer_id),
        select(FilterLog.customer_id),
        select(MailChallenge.customer_id),
        select(DailyCount.customer_id),
        select(ConsoleLog.customer_id).where(ConsoleLog.customer_id.is_not(None)),
    ).subquery()
    return [int(value) for value in session.scalars(select(ids.c[0]))]


def _count(session: Session, statement: object) -> int:
    result = session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


def purge(session: Session, spool: Spool, now: datetime) -> Purged:
    """Delete what each customer's terms no longer let us keep; the spool files no row needs
    any more are listed in ``files`` and deleted by the caller after the commit."""
    purged = Purged()
    longest_logs = 0
    for customer_id in _customers(session):
        terms = retention_of(session, customer_id)
        if terms is None:
            continue
        if terms.mail_days is not None:
            mail_limit = now - timedelta(days=terms.mail_days) + NEXT_RUN
            purged.quarantine += _count(
                session,
                delete(QuarantinedMessage).where(
                    QuarantinedMessage.customer_id == customer_id,
                    QuarantinedMessage.created_at < mail_limit,
                ),
            )
            purged.queue += _count(
                session,
                delete(QueuedMessage).where(
                    QueuedMessage.customer_id == customer_id,
                    QueuedMessage.received_at < mail_limit,
                ),
            )
            purged.challenges += _count(
                session,
                delete(MailChallenge).where(
                    MailChallenge.customer_id == customer_id,
                    MailChallenge.created_at < mail_limit,
                ),
            )
        if terms.logs_days is not None:
            longest_logs = max(longest_logs, terms.logs_days)
            logs_limit = now - timedelta(days=terms.logs_days)
            old_logs = select(FilterLog.id).where(
                FilterLog.customer_id == customer_id, FilterLog.at < logs_limit
            )
            purged.feedback += _count(
                session, delete(MailFeedback).where(MailFeedback.log_id.in_(old_logs))
            )
            for model in (QueuedMessage, QuarantinedMessage):  # a shorter mail retention
                session.execute(delete(model).where(model.log_id.in_(old_logs)))
            purged.logs += _count(
                session,
                delete(FilterLog).where(
                    FilterLog.customer_id == customer_id, FilterLog.at < logs_limit
                ),
            )
            purged.counters += _count(
                session,
                delete(DailyCount).where(
                    DailyCount.customer_id == customer_id, DailyCount.day < logs_limit.date()
                ),
            )
            purged.console += _count(
                session,
                delete(ConsoleLog).where(
                    ConsoleLog.customer_id == customer_id, ConsoleLog.at < logs_limit
                ),
            )
    if longest_logs:
        limit = now - timedelta(days=longest_logs)
        purged.probes = _count(session, delete(ProbeResult).where(ProbeResult.minute < limit))
        purged.console += _count(
            session,
            delete(ConsoleLog).where(ConsoleLog.customer_id.is_(None), ConsoleLog.at < limit),
        )
    session.flush()
    for name, modified in spool.files():
        if now - modified < UNCOMMITTED_GRACE:
            continue
        if name.startswith(".") or not queue.spool_in_use(session, name):
            purged.files.append(name)
    event(
        log,
        "mail.retention",
        quarantine=purged.quarantine,
        queue=purged.queue,
        logs=purged.logs,
        files=len(purged.files),
    )
    return purged


def run(session: Session, spool: Spool, now: datetime) -> Purged:
    """Purge, then delete the unneeded spool files (a file deleted after a rolled-back purge
    was not needed anyway: ``spool_in_use`` said so)."""
    purged = purge(session, spool, now)
    for name in purged.files:
        spool.delete(name)
    return purged
