"""The mail gateway's daily jobs, run by ``operateur.scheduler`` once per date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from operateur.config import Settings
from operateur.db import utcnow
from operateur.domain.calendar import PARIS
from operateur.mail import licences, quarantine, queue, retention, sla


def moment(as_of: date) -> datetime:
    """The instant a job for ``as_of`` acts at: now, or the end of ``as_of`` if it is past."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=PARIS)
    return min(utcnow(), end_of_day)


def purge(session: Session, as_of: date) -> None:
    """MAIL-10, PRIV-02: stored mail after 30 days, logs after 365 (the terms' numbers)."""
    retention.run(session, queue.open_spool(Settings()), moment(as_of))


def digests(session: Session, as_of: date) -> None:
    """MAIL-03: each recipient's digest of held mail with one-click release links."""
    quarantine.send_digests(session, Settings(), moment(as_of))


def expire(session: Session, as_of: date) -> None:
    """MAIL-09: a safety net beside the gateways' own minute-by-minute expiry."""
    queue.expire_due(session, moment(as_of))


def recount(session: Session, as_of: date) -> None:
    """MAIL-07, CTR-04: mailboxes and domains recounted at each renewal, handed to billing."""
    licences.recount_due(session, as_of)


def sla_credits(session: Session, as_of: date) -> None:
    """MAIL-06: on the 1st, the previous month's SLA remedies handed to billing."""
    sla.credits_due(session, as_of)
