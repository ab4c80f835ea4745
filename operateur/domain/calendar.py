"""Business calendars: French public holidays, business days, opening hours and time windows.

Business rules are evaluated in ``Europe/Paris`` (:data:`PARIS`) by default. French public
holidays come from the ``holidays`` package (``holidays.France`` without a subdivision, i.e.
metropolitan France without the Alsace-Moselle extras); there is no hand-written list here.

Nothing here hard-codes hours or weekdays: support hours (SUP-01, Monday–Friday 09:00–17:00),
SMS sending windows (SMS-04, Monday–Saturday 08:00–22:00) and telemarketing call windows
(décret 2022-1313, Monday–Friday 10:00–13:00 and 14:00–20:00) are contract or offer terms passed
in by the caller.

Weekdays are integers as returned by :meth:`datetime.date.weekday`: 0 = Monday … 6 = Sunday.
Time intervals are half-open, ``[start, end)``: a window ``08:00–22:00`` is open at 21:59:59 and
closed at 22:00. An interval ending at ``time(0)`` runs to midnight (the end of the day).
Datetimes must be timezone-aware; naive datetimes are refused with :class:`ValueError`.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import holidays

from operateur.errors import InvalidInput
from operateur.i18n import Text

PARIS = ZoneInfo("Europe/Paris")

#: The default working week for "business days" (jours ouvrés): Monday to Friday. Callers whose
#: contract says otherwise pass their own ``weekdays``.
WORKING_WEEK: frozenset[int] = frozenset({0, 1, 2, 3, 4})

#: A daily time interval ``[start, end)`` in local time; ``end == time(0)`` means midnight.
Interval = tuple[time, time]

_DateT = TypeVar("_DateT", bound=date)

# A window that never opens is refused at construction; this only bounds the day loops.
_MAX_DAYS_SCANNED = 3700


class DayKind(StrEnum):
    """How a delay expressed in days is counted."""

    CALENDAR = "calendar"
    BUSINESS = "business"


# --- public holidays -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _french_holidays(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("FR", years=year, language=language))


def _as_date(d: date) -> date:
    if isinstance(d, datetime):
        raise TypeError("expected a date, not a datetime: take .date() in the right time zone")
    return d


def is_public_holiday(d: date) -> bool:
    """True when ``d`` is a French public holiday (jour férié, metropolitan France)."""
    d = _as_date(d)
    return d in _french_holidays(d.year, "fr")


def public_holiday_name(d: date, lang: str = "fr") -> str | None:
    """The holiday's name in French (default) or English, or ``None`` on an ordinary day."""
    d = _as_date(d)
    return _french_holidays(d.year, "en_US" if lang == "en" else "fr").get(d)


def _check_weekdays(weekdays: Iterable[int]) -> frozenset[int]:
    days = frozenset(weekdays)
    if not days:
        raise ValueError("weekdays must not be empty")
    if not days <= frozenset(range(7)):
        raise ValueError("weekdays are integers from 0 (Monday) to 6 (Sunday)")
    return days


def is_business_day(d: date, *, weekdays: Collection[int] = WORKING_WEEK) -> bool:
    """True when ``d`` is one of ``weekdays`` (Monday–Friday by default) and not a holiday."""
    d = _as_date(d)
    return d.weekday() in weekdays and not is_public_holiday(d)


# --- day arithmetic --------------------------------------------------------------------------


def add_days(
    start: date,
    n: int,
    kind: DayKind,
    *,
    weekdays: Collection[int] = WORKING_WEEK,
) -> date:
    """``start`` moved by ``n`` days of ``kind``.

    Calendar days: plain date arithmetic. Business days: the ``n``-th business day after
    ``start`` (before it when ``n`` is negative); ``start`` itself never counts, so 2 business
    days after a Friday is the Tuesday. ``n == 0`` returns ``start`` unchanged.
    """
    start = _as_date(start)
    if kind is DayKind.CALENDAR:
        return start + timedelta(days=n)
    days = _check_weekdays(weekdays)
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    current = start
    while remaining:
        current += step
        if is_business_day(current, weekdays=days):
            remaining -= 1
    return current


def days_between(
    start: date,
    end: date,
    kind: DayKind,
    *,
    weekdays: Collection[int] = WORKING_WEEK,
) -> int:
    """The number of days of ``kind`` from ``start`` to ``end``; negative when ``end < start``.

    Business days are counted in ``(start, end]`` (``start`` excluded, ``end`` included), and
    ``days_between(a, b) == -days_between(b, a)``. So for ``n >= 0``,
    ``days_between(s, add_days(s, n, BUSINESS), BUSINESS) == n``.
    """
    start, end = _as_date(start), _as_date(end)
    if kind is DayKind.CALENDAR:
        return (end - start).days
    days = _check_weekdays(weekdays)
    if end < start:
        return -days_between(end, start, kind, weekdays=days)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_business_day(start + timedelta(days=offset), weekdays=days)
    )


def last_day_of_month(d: date) -> date:
    """The last day of ``d``'s month (28 February 2025, 29 February 2024, 31 March …)."""
    return date(d.year, d.month, _stdlib_calendar.monthrange(d.year, d.month)[1])


def add_months(d: _DateT, months: int) -> _DateT:
    """``d`` moved by ``months`` months, the day clamped to the end of the target month.

    31 January + 1 month = 28 February (29 in a leap year); 30 April + 1 month = 30 May.
    A datetime keeps its time of day.
    """
    years, month_index = divmod(d.month - 1 + months, 12)
    year, month = d.year + years, month_index + 1
    day = min(d.day, _stdlib_calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


# --- time windows ----------------------------------------------------------------------------


def aware_input(moment: datetime, field: str) -> datetime:
    """A time given by a user, refused (``InvalidInput`` naming ``field``) without its zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            Text(
                fr="Donnez l'heure avec son fuseau (ex. 2026-03-14T22:00:00+01:00).",
                en="Give the time with its zone (e.g. 2026-03-14T22:00:00+01:00).",
            ),
            field=field,
        )
    return moment


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (naive datetimes are ambiguous)")


def _check_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    ordered = tuple(sorted(intervals))
    if not ordered:
        raise ValueError("at least one (start, end) interval is needed")
    previous_end = -1
    for start, end in ordered:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("interval times are local times: give them without tzinfo")
        start_s = start.hour * 3600 + start.minute * 60 + start.second
        end_s = end.hour * 3600 + end.minute * 60 + end.second if end != time(0) else 86400
        if end_s <= start_s:
            raise ValueError(f"interval {start}–{end} must end after it starts")
        if start_s < previous_end:
            raise ValueError("intervals must not overlap")
        previous_end = end_s
    return ordered


@dataclass(frozen=True)
class TimeWindow:
    """Weekly opening windows: on ``weekdays``, during each of ``intervals`` (local times in
    ``tz``), optionally closed on French public holidays.

    Examples (the figures come from contract terms, not from here)::

        sms = TimeWindow(frozenset(range(6)), ((time(8), time(22)),), exclude_holidays=False)
        calls = TimeWindow(frozenset(range(5)), ((time(10), time(13)), (time(14), time(20))),
                           exclude_holidays=True)
    """

    weekdays: frozenset[int]
    intervals: tuple[Interval, ...]
    exclude_holidays: bool
    tz: tzinfo = PARIS

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", _check_weekdays(self.weekdays))
        object.__setattr__(self, "intervals", _check_intervals(self.intervals))

    def is_open_day(self, d: date) -> bool:
        """True when the window opens at all on local date ``d``."""
        d = _as_date(d)
        if d.weekday() not in self.weekdays:
            return False
        return not (self.exclude_holidays and is_public_holiday(d))

    def _spans(self, d: date) -> list[tuple[datetime, datetime]]:
        """The open spans of local date ``d`` as UTC datetimes (empty on a closed day)."""
        if not self.is_open_day(d):
            return []
        spans = []
        for start, end in self.intervals:
            opening = datetime.combine(d, start, tzinfo=self.tz)
            if end == time(0):
                closing = datetime.combine(d + timedelta(days=1), time(0), tzinfo=self.tz)
            else:
                closing = datetime.combine(d, end, tzinfo=self.tz)
            spans.append((opening.astimezone(UTC), closing.astimezone(UTC)))
        return spans

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def contains(self, moment: datetime) -> bool:
        """True when the window is open at ``moment`` (an aware datetime)."""
        _require_aware(moment, "moment")
        instant = moment.astimezone(UTC)
        return any(
            opening <= instant < closing
            for opening, closing in self._spans(self._local_date(moment))
        )

    def next_opening(self, moment: datetime) -> datetime:
        """The earliest instant at or after ``moment`` when the window is open.

        ``moment`` itself when the window is already open; the result is in ``moment``'s zone.
        """
        _require_aware(moment, "moment")
        instant = moment.astimezone(UTC)
        day = self._local_date(moment)
        for _ in range(_MAX_DAYS_SCANNED):
            for opening, closing in self._spans(day):
                if opening <= instant < closing:
                    return moment
                if opening > instant:
                    return opening.astimezone(moment.tzinfo)
            day += timedelta(days=1)
        raise ValueError("the window does not open in the next ten years")

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Whole seconds during which the window is open between ``start`` and ``end``.

        Negative when ``end`` is before ``start``. Daylight-saving changes are counted in real
        elapsed time.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end < start:
            return -self.seconds_between(end, start)
        low, high = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        day, last_day = self._local_date(start), self._local_date(end)
        while day <= last_day:
            for opening, closing in self._spans(day):
                overlap_start, overlap_end = max(opening, low), min(closing, high)
                if overlap_end > overlap_start:
                    total += overlap_end - overlap_start
            day += timedelta(days=1)
        return int(total.total_seconds())

    def add_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant when ``seconds`` of open time have elapsed since ``start``.

        Counting starts at ``start`` if the window is open then, else at the next opening. When
        the delay runs out exactly at a closing time, that closing time is the result (not the
        next opening). The result is in ``start``'s zone.
        """
        _require_aware(start, "start")
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        if seconds == 0:
            return start
        remaining = timedelta(seconds=seconds)
        current = start.astimezone(UTC)
        day = self._local_date(start)
        for _ in range(_MAX_DAYS_SCANNED * 100):
            for opening, closing in self._spans(day):
                begin = max(opening, current)
                if begin >= closing:
                    continue
                available = closing - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
                current = closing
            day += timedelta(days=1)
        raise ValueError("the delay is too long for this window")


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours of a service (e.g. support, SUP-01): one daily span on ``weekdays``.

    ``business_seconds_between`` and ``add_business_seconds`` compute support SLAs: with
    Monday–Friday 09:00–17:00 Paris, a ticket opened Friday 16:00 with 4 business hours of
    response time is due Monday 12:00 (Tuesday 12:00 when that Monday is a public holiday).
    """

    weekdays: frozenset[int]
    opening: time
    closing: time
    exclude_holidays: bool
    tz: tzinfo = PARIS
    window: TimeWindow = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        window = TimeWindow(
            frozenset(self.weekdays),
            ((self.opening, self.closing),),
            exclude_holidays=self.exclude_holidays,
            tz=self.tz,
        )
        object.__setattr__(self, "weekdays", window.weekdays)
        object.__setattr__(self, "window", window)

    def is_open(self, moment: datetime) -> bool:
        return self.window.contains(moment)

    def next_opening(self, moment: datetime) -> datetime:
        return self.window.next_opening(moment)

    def business_seconds_between(self, start: datetime, end: datetime) -> int:
        """Whole business seconds between two aware datetimes (negative if ``end < start``)."""
        return self.window.seconds_between(start, end)

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime:
        """The aware datetime (in ``start``'s zone) ``seconds`` business seconds after ``start``."""
        return self.window.add_seconds(start, seconds)


def _window(
    weekdays: Iterable[int],
    start: time | Sequence[Interval],
    end: time | None,
    exclude_holidays: bool,
    tz: tzinfo,
) -> TimeWindow:
    if isinstance(start, time):
        if end is None:
            raise ValueError("end is required when start is a time")
        intervals: tuple[Interval, ...] = ((start, end),)
    else:
        if end is not None:
            raise ValueError("give either start and end times, or a list of intervals")
        intervals = tuple(start)
    return TimeWindow(frozenset(weekdays), intervals, exclude_holidays=exclude_holidays, tz=tz)


def in_window(
    moment: datetime,
    weekdays: Iterable[int],
    start: time | Sequence[Interval],
    end: time | None = None,
    exclude_holidays: bool = False,
    *,
    tz: tzinfo = PARIS,
) -> bool:
    """True when ``moment`` falls in the window.

    ``start`` and ``end`` are one daily interval, or ``start`` is a list of ``(start, end)``
    intervals and ``end`` is omitted: SMS-04 is ``in_window(m, range(6), time(8), time(22))``;
    telemarketing is ``in_window(m, range(5), [(time(10), time(13)), (time(14), time(20))],
    exclude_holidays=True)``.
    """
    return _window(weekdays, start, end, exclude_holidays, tz).contains(moment)


def next_window_opening(
    moment: datetime,
    weekdays: Iterable[int],
    start: time | Sequence[Interval],
    end: time | None = None,
    exclude_holidays: bool = False,
    *,
    tz: tzinfo = PARIS,
) -> datetime:
    """The earliest instant at or after ``moment`` inside the window (``moment`` if open now),
    in ``moment``'s zone. Arguments as for :func:`in_window`."""
    return _window(weekdays, start, end, exclude_holidays, tz).next_opening(moment)
