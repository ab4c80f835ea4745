"""Pure support rules read from a contract's terms: the support hours (SUP-01), the first-response
deadline of an incident counted in business time (SUP-02) and the monthly request quota
(SUP-03). No database here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from operateur.catalog.terms import ContractTerms, DelayUnit, SupportTerms, Weekday
from operateur.domain.calendar import BusinessHours, DayKind, add_days, add_months

WEEKDAY_NUMBER = {day: index for index, day in enumerate(Weekday)}  # mon = 0 ... sun = 6


def support_hours(terms: SupportTerms) -> BusinessHours:
    """SUP-01: the support's opening hours as the terms give them (e.g. Monday–Friday
    09:00–17:00 Paris time, French public holidays excluded)."""
    return BusinessHours(
        weekdays=frozenset(WEEKDAY_NUMBER[day] for day in terms.hours.days),
        opening=terms.hours.start,
        closing=terms.hours.end,
        exclude_holidays=terms.hours.exclude_public_holidays,
        tz=ZoneInfo(terms.hours.timezone),
    )


def first_response_due(
    terms: ContractTerms, *, incident: bool, opened_at: datetime
) -> datetime | None:
    """SUP-02: when the operator must have intervened on an incident opened at ``opened_at``;
    None for a question or when the terms promise no response time. Business hours and days
    are those of the support (SUP-01); the clock starts at the next opening when the ticket
    arrives outside them."""
    if not incident or terms.sla is None or terms.sla.incident is None:
        return None
    delay = terms.sla.incident.response
    hours = support_hours(terms.support)
    business = delay.day_kind is DayKind.BUSINESS
    if delay.unit is DelayUnit.HOURS:
        if business:
            return hours.add_business_seconds(opened_at, delay.value * 3600)
        return opened_at + timedelta(hours=delay.value)
    if delay.unit is DelayUnit.DAYS:
        local = opened_at.astimezone(hours.tz)
        day = add_days(local.date(), delay.value, delay.day_kind, weekdays=hours.weekdays)
        return local.replace(year=day.year, month=day.month, day=day.day)
    return add_months(opened_at, delay.value)


@dataclass(frozen=True)
class SlaClock:
    """Where a ticket stands against its first-response deadline."""

    due: datetime | None
    responded_at: datetime | None
    business_seconds_left: int | None  # None: no deadline or already answered; < 0: overdue
    business_seconds_taken: int | None  # to the first response, once there is one
    met: bool | None  # None while unanswered and not yet overdue
    open_now: bool  # is the support open at this moment (the clock runs)


def sla_clock(
    terms: SupportTerms,
    *,
    opened_at: datetime,
    due: datetime | None,
    responded_at: datetime | None,
    now: datetime,
) -> SlaClock:
    """The business time left before ``due`` (negative once overdue), or the business time the
    first response took."""
    hours = support_hours(terms)
    taken = hours.business_seconds_between(opened_at, responded_at) if responded_at else None
    if due is None:
        return SlaClock(None, responded_at, None, taken, None, hours.is_open(now))
    if responded_at is not None:
        return SlaClock(due, responded_at, None, taken, responded_at <= due, hours.is_open(now))
    left = hours.business_seconds_between(now, due)
    return SlaClock(due, None, left, None, False if now >= due else None, hours.is_open(now))


def monthly_quota(terms: SupportTerms, users: int) -> int | None:
    """SUP-03: requests included per month, one fifth of the users rounded down (a request
    beyond costs the terms' fee); None when the terms set no quota."""
    ratio = terms.monthly_request_quota_per_user
    if ratio is None:
        return None
    return math.floor(Decimal(users) * ratio)
