"""Retention of connection data (PRIV-02): the portal and API logins — when, and from which IP
address — are kept ``retention.logs_days`` (365) from their creation, then deleted. A daily
scheduler job.

PRIV-02 [003 §15.3] "Les données de connexion, adresses IP, logs de connexion et actions sur
l'interface d'administration sont conservés pendant une durée de 365 jours à compter de leur
création."

A customer's logins follow the longest ``logs_days`` of its contracts (the portal serves them
all); the staff's logins, and those of a customer without a contract, the longest of every
contract's terms, as the mail gateway does for its operator-wide logs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from operateur.accounts.models import LoginSession
from operateur.contracts.models import Contract
from operateur.contracts.service import terms_of
from operateur.domain.calendar import PARIS
from operateur.logs import event

log = logging.getLogger("operateur.accounts.retention")


def logs_days_by_customer(session: Session) -> dict[int, int]:
    """The longest ``retention.logs_days`` of each customer's contracts, whatever their state."""
    days: dict[int, int] = {}
    for contract in session.scalars(select(Contract)):
        kept = terms_of(contract).retention.logs_days
        if kept is not None:
            days[contract.customer_id] = max(kept, days.get(contract.customer_id, 0))
    return days


def purge_connection_logs(session: Session, now: datetime) -> int:
    """Delete the ended logins older than their terms' days; returns how many went."""
    days = logs_days_by_customer(session)
    if not days:
        return 0  # no terms say how long: nothing is deleted
    longest = max(days.values())
    owners = session.scalars(select(LoginSession.customer_id).distinct())
    purged = 0
    for customer_id in list(owners):
        kept = days.get(customer_id, longest) if customer_id is not None else longest
        owned = (
            LoginSession.customer_id.is_(None)
            if customer_id is None
            else LoginSession.customer_id == customer_id
        )
        result = session.execute(
            delete(LoginSession).where(
                owned,
                LoginSession.created_at < now - timedelta(days=kept),
                LoginSession.expires_at <= now,
            )
        )
        purged += int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    if purged:
        event(log, "retention.connection_logs", purged=purged)
    return purged


def daily_purge(session: Session, as_of: date) -> None:
    """The scheduler's daily job: what the terms no longer keep at the start of ``as_of``."""
    purge_connection_logs(session, datetime.combine(as_of, time(0), PARIS))
