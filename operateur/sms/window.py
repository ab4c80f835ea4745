"""The sending window of an offer (SMS-04): when a message may leave, read from the terms.

Under the 004 offer: Monday to Saturday, 08:00–22:00 Europe/Paris, French public holidays
excluded (the ``holidays`` package through ``operateur.domain.calendar``). Outside the window a
message is queued until the window opens, or rejected when the customer asked so
(``OutsideWindow``: the customer's choice, else the offer's).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from operateur.catalog.terms import OutsideWindow, SmsRules, Weekday, WeeklyWindow
from operateur.domain.calendar import TimeWindow
from operateur.errors import InvalidInput
from operateur.i18n import Text

_WEEKDAYS = tuple(Weekday)  # mon=0 ... sun=6, as date.weekday()

OUTSIDE_WINDOW_ERROR = "outside_window"


def time_window(window: WeeklyWindow) -> TimeWindow:
    """The calendar form of a terms window."""
    return TimeWindow(
        frozenset(_WEEKDAYS.index(day) for day in window.days),
        ((window.start, window.end),),
        exclude_holidays=window.exclude_public_holidays,
        tz=ZoneInfo(window.timezone),
    )


def sending_window(rules: SmsRules) -> TimeWindow | None:
    """The offer's window, or None when messages may leave at any time."""
    return time_window(rules.sending_window) if rules.sending_window is not None else None


def outside_window_error(rules: SmsRules, at: datetime) -> InvalidInput:
    window = rules.sending_window
    assert window is not None
    return InvalidInput(
        Text(
            fr="Envoi refusé (SMS-04) : le {at} est hors de la plage d'envoi ({days}, "
            "{start}–{end}, {timezone}{holidays_fr}) et le rejet a été demandé.",
            en="Sending refused (SMS-04): {at} is outside the sending window ({days}, "
            "{start}–{end}, {timezone}{holidays_en}) and rejection was asked for.",
        ),
        code="sms_outside_window",
        field="send_at",
        details={
            "at": at.astimezone(ZoneInfo(window.timezone)).strftime("%Y-%m-%d %H:%M"),
            "days": "/".join(day.value for day in window.days),
            "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"),
            "timezone": window.timezone,
            "holidays_fr": ", hors jours fériés" if window.exclude_public_holidays else "",
            "holidays_en": ", public holidays excluded" if window.exclude_public_holidays else "",
        },
    )


def plan(rules: SmsRules, at: datetime, policy: OutsideWindow) -> datetime:
    """When a message asked for ``at`` may leave: ``at`` inside the window, the next opening
    when it is queued, or ``InvalidInput`` when the customer asked for rejection."""
    window = sending_window(rules)
    if window is None or window.contains(at):
        return at
    if policy is OutsideWindow.REJECT:
        raise outside_window_error(rules, at)
    return window.next_opening(at)
