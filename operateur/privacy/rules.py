"""Pure rules of the privacy context: the deadlines read from the contracts' terms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from operateur.catalog.terms import ContractTerms
from operateur.domain.calendar import PARIS


def notification_deadline(detected_at: datetime, terms: Iterable[ContractTerms]) -> datetime:
    """SEC-03 [000 §7.5] the moment a customer whose data an incident affects must be told by:
    detection + the shortest ``security.breach_notification_hours`` of its contracts."""
    hours = min(t.security.breach_notification_hours for t in terms)
    return detected_at + timedelta(hours=hours)


def response_due(received_at: datetime, terms: Iterable[ContractTerms]) -> date:
    """PRIV-01 [000 §7.4; 003 §15.1] the last day to answer a data subject: the day of
    reception (Paris) + the shortest ``retention.data_subject_response_days`` of the
    contracts, in calendar days."""
    days = min(t.retention.data_subject_response_days for t in terms)
    return received_at.astimezone(PARIS).date() + timedelta(days=days)
