from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from operateur.domain.calendar import (
    PARIS,
    BusinessHours,
    DayKind,
    TimeWindow,
    add_days,
    add_months,
    days_between,
    in_window,
    is_business_day,
    is_public_holiday,
    last_day_of_month,
    next_window_opening,
    public_holiday_name,
)

# Terms as an offer would carry them; nothing in operateur.domain hard-codes them.
MON_FRI = frozenset({0, 1, 2, 3, 4})
MON_SAT = frozenset({0, 1, 2, 3, 4, 5})
HOUR = 3600


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


# --- public holidays and business days ------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        date(2025, 1, 1),
        date(2025, 4, 21),  # Easter Monday
        date(2025, 5, 1),
        date(2025, 5, 8),
        date(2025, 5, 29),  # Ascension
        date(2025, 6, 9),  # Whit Monday
        date(2025, 7, 14),
        date(2025, 8, 15),
        date(2025, 11, 1),
        date(2025, 11, 11),
        date(2025, 12, 25),
        date(2026, 4, 6),  # Easter Monday, computed for any year
    ],
)
def test_french_public_holidays_are_not_business_days(holiday: date) -> None:
    assert is_public_holiday(holiday)
    assert not is_business_day(holiday)


def test_metropolitan_calendar_has_no_alsace_moselle_holidays() -> None:
    # Good Friday and 26 December are holidays only in Alsace-Moselle.
    assert is_business_day(date(2025, 4, 18))
    assert is_business_day(date(2025, 12, 26))


def test_weekends_are_not_business_days_unless_the_contract_says_so() -> None:
    saturday = date(2025, 7, 12)
    assert not is_business_day(saturday)
    assert is_business_day(saturday, weekdays=MON_SAT)
    assert is_business_day(date(2025, 7, 11))


def test_holiday_names_in_both_languages() -> None:
    assert public_holiday_name(date(2025, 7, 14)) == "Fête nationale"
    assert public_holiday_name(date(2025, 7, 14), "en") == "National Day"
    assert public_holiday_name(date(2025, 7, 15)) is None


def test_datetimes_are_refused_where_a_date_is_meant() -> None:
    with pytest.raises(TypeError):
        is_business_day(paris(2025, 7, 14, 12))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 7, 11), 1, date(2025, 7, 15)),  # Fri -> Mon 14 July is a holiday -> Tue
        (date(2025, 8, 14), 1, date(2025, 8, 18)),  # Thu -> Fri 15 August -> Mon
        (date(2025, 4, 18), 1, date(2025, 4, 22)),  # Fri -> Easter Monday -> Tue
        (date(2025, 4, 30), 1, date(2025, 5, 2)),  # Wed -> Thu 1 May -> Fri
        (date(2025, 4, 30), 5, date(2025, 5, 9)),  # 1 May and 8 May skipped
        (date(2025, 7, 4), 2, date(2025, 7, 8)),  # an ordinary weekend
        (date(2025, 7, 12), 1, date(2025, 7, 15)),  # from a Saturday
        (date(2025, 7, 15), -1, date(2025, 7, 11)),  # backwards over 14 July
        (date(2025, 7, 15), 0, date(2025, 7, 15)),
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert add_days(start, n, DayKind.BUSINESS) == expected
    assert days_between(start, expected, DayKind.BUSINESS) == n


def test_formal_notice_unanswered_for_two_business_days() -> None:
    # SPEC: CTR-06 — suspension after a formal notice unanswered for 2 business days.
    notice = date(2025, 8, 13)  # Wednesday; 15 August is a Friday holiday
    assert add_days(notice, 2, DayKind.BUSINESS) == date(2025, 8, 18)


def test_invoice_sent_within_three_business_days_of_month_end() -> None:
    # SPEC: BIL-03 — invoice issued on the last day of the month, sent within 3 business days.
    issued = last_day_of_month(date(2025, 4, 10))
    assert issued == date(2025, 4, 30)
    assert add_days(issued, 3, DayKind.BUSINESS) == date(2025, 5, 6)


def test_add_calendar_days_ignores_holidays() -> None:
    # SPEC: CTR-10 — equipment returned within 5 calendar days.
    assert add_days(date(2025, 7, 11), 5, DayKind.CALENDAR) == date(2025, 7, 16)
    assert days_between(date(2025, 7, 11), date(2025, 7, 16), DayKind.CALENDAR) == 5
    assert days_between(date(2025, 7, 16), date(2025, 7, 11), DayKind.CALENDAR) == -5


def test_days_between_business_days_over_a_month() -> None:
    # May 2025: 22 weekdays minus 1 May, 8 May and 29 May (Ascension).
    assert days_between(date(2025, 4, 30), date(2025, 5, 31), DayKind.BUSINESS) == 19
    assert days_between(date(2025, 5, 31), date(2025, 4, 30), DayKind.BUSINESS) == -19


def test_business_days_with_a_six_day_week() -> None:
    assert add_days(date(2025, 7, 11), 1, DayKind.BUSINESS, weekdays=MON_SAT) == date(2025, 7, 12)


def test_empty_working_week_is_refused() -> None:
    with pytest.raises(ValueError):
        add_days(date(2025, 7, 11), 1, DayKind.BUSINESS, weekdays=frozenset())


# --- months ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2025, 2, 28), 36, date(2028, 2, 28)),  # SPEC: CTR-03 — 36-month commitment
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_keeps_the_time_of_a_datetime() -> None:
    assert add_months(paris(2025, 1, 31, 10, 30), 1) == paris(2025, 2, 28, 10, 30)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 2, 3), date(2025, 2, 28)),
        (date(2024, 2, 29), date(2024, 2, 29)),
        (date(2025, 12, 1), date(2025, 12, 31)),
    ],
)
def test_last_day_of_month(day: date, expected: date) -> None:
    assert last_day_of_month(day) == expected


# --- business hours (support SLAs) -----------------------------------------------------------

SUPPORT = BusinessHours(MON_FRI, time(9), time(17), exclude_holidays=True)


def test_ticket_opened_friday_afternoon_is_due_monday_noon() -> None:
    # SPEC: SUP-01 (Mon–Fri 09:00–17:00 Paris, holidays excluded), SUP-02 (4 business hours).
    due = SUPPORT.add_business_seconds(paris(2025, 7, 4, 16), 4 * HOUR)
    assert due == paris(2025, 7, 7, 12)
    assert due.tzinfo is PARIS
    assert SUPPORT.business_seconds_between(paris(2025, 7, 4, 16), due) == 4 * HOUR


def test_sla_clock_skips_a_public_holiday() -> None:
    # SPEC: SUP-01 — French public holidays excluded: Monday 14 July 2025 does not count.
    assert SUPPORT.add_business_seconds(paris(2025, 7, 11, 16), 4 * HOUR) == paris(2025, 7, 15, 12)
    # Friday 18 April 2025 -> Easter Monday 21 April skipped.
    assert SUPPORT.add_business_seconds(paris(2025, 4, 18, 16), 4 * HOUR) == paris(2025, 4, 22, 12)


def test_sla_clock_counts_holidays_when_the_contract_does() -> None:
    every_weekday = BusinessHours(MON_FRI, time(9), time(17), exclude_holidays=False)
    assert every_weekday.add_business_seconds(paris(2025, 7, 11, 16), 4 * HOUR) == paris(
        2025, 7, 14, 12
    )


def test_sla_clock_starts_at_the_next_opening() -> None:
    saturday = paris(2025, 7, 5, 10)
    assert SUPPORT.add_business_seconds(saturday, HOUR) == paris(2025, 7, 7, 10)
    early = paris(2025, 7, 7, 7, 30)
    assert SUPPORT.add_business_seconds(early, 30 * 60) == paris(2025, 7, 7, 9, 30)


def test_delay_ending_exactly_at_closing_time_is_due_at_closing() -> None:
    assert SUPPORT.add_business_seconds(paris(2025, 7, 4, 13), 4 * HOUR) == paris(2025, 7, 4, 17)


def test_zero_delay_returns_the_start() -> None:
    start = paris(2025, 7, 5, 23)
    assert SUPPORT.add_business_seconds(start, 0) == start


def test_results_are_in_the_zone_of_the_input() -> None:
    opened = datetime(2025, 7, 4, 14, tzinfo=UTC)  # 16:00 in Paris (CEST)
    due = SUPPORT.add_business_seconds(opened, 4 * HOUR)
    assert due.tzinfo is UTC
    assert due == datetime(2025, 7, 7, 10, tzinfo=UTC)
    offset = timezone(timedelta(hours=-5))
    assert SUPPORT.add_business_seconds(opened.astimezone(offset), 4 * HOUR).tzinfo is offset


def test_business_seconds_between_over_a_week_with_a_holiday() -> None:
    # Friday 11 July 09:00 -> Friday 18 July 09:00: Fri, Tue, Wed, Thu = 4 days of 8 hours.
    start, end = paris(2025, 7, 11, 9), paris(2025, 7, 18, 9)
    assert SUPPORT.business_seconds_between(start, end) == 32 * HOUR
    assert SUPPORT.business_seconds_between(end, start) == -32 * HOUR


def test_business_seconds_in_the_middle_of_a_day() -> None:
    assert (
        SUPPORT.business_seconds_between(paris(2025, 7, 7, 10), paris(2025, 7, 7, 10, 30)) == 1800
    )
    assert SUPPORT.business_seconds_between(paris(2025, 7, 5, 10), paris(2025, 7, 6, 10)) == 0


def test_daylight_saving_change_is_counted_in_real_time() -> None:
    always = TimeWindow(frozenset(range(7)), ((time(0), time(0)),), exclude_holidays=False)
    # Sunday 30 March 2025 lasts 23 hours in Paris.
    assert always.seconds_between(paris(2025, 3, 30, 0), paris(2025, 3, 31, 0)) == 23 * HOUR
    # Business hours are local: 09:00–17:00 is 8 hours on both sides of the change.
    assert SUPPORT.business_seconds_between(paris(2025, 3, 28, 9), paris(2025, 3, 31, 17)) == (
        16 * HOUR
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        SUPPORT.add_business_seconds(datetime(2025, 7, 4, 16), HOUR)
    with pytest.raises(ValueError):
        SUPPORT.business_seconds_between(datetime(2025, 7, 4, 16), paris(2025, 7, 7, 9))
    with pytest.raises(ValueError):
        in_window(datetime(2025, 7, 4, 16), MON_SAT, time(8), time(22))


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError):
        SUPPORT.add_business_seconds(paris(2025, 7, 4, 16), -1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekdays": frozenset(), "opening": time(9), "closing": time(17)},
        {"weekdays": frozenset({7}), "opening": time(9), "closing": time(17)},
        {"weekdays": MON_FRI, "opening": time(17), "closing": time(9)},
        {"weekdays": MON_FRI, "opening": time(9), "closing": time(9)},
    ],
)
def test_impossible_business_hours_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BusinessHours(exclude_holidays=True, **kwargs)  # type: ignore[arg-type]


def test_business_hours_open_and_next_opening() -> None:
    assert SUPPORT.is_open(paris(2025, 7, 7, 9))
    assert not SUPPORT.is_open(paris(2025, 7, 7, 17))
    assert SUPPORT.next_opening(paris(2025, 7, 11, 17)) == paris(2025, 7, 15, 9)


# --- sending and calling windows -------------------------------------------------------------

SMS_START, SMS_END = time(8), time(22)
CALL_INTERVALS = [(time(10), time(13)), (time(14), time(20))]


def test_sms_window_saturday_evening_and_sunday() -> None:
    # SPEC: SMS-04 — delivery only Monday–Saturday 08:00–22:00.
    assert in_window(paris(2025, 7, 12, 21, 59), MON_SAT, SMS_START, SMS_END)
    assert in_window(paris(2025, 7, 12, 21, 59, 59), MON_SAT, SMS_START, SMS_END)
    assert not in_window(paris(2025, 7, 12, 22, 0), MON_SAT, SMS_START, SMS_END)
    assert not in_window(paris(2025, 7, 13, 12, 0), MON_SAT, SMS_START, SMS_END)
    assert not in_window(paris(2025, 7, 14, 7, 59), MON_SAT, SMS_START, SMS_END)
    assert in_window(paris(2025, 7, 14, 8, 0), MON_SAT, SMS_START, SMS_END)


def test_sms_queued_after_22h_saturday_leaves_monday_8h() -> None:
    # SPEC: SMS-04 — outside the window, messages are queued until it opens.
    # SMS-04 does not exclude holidays: Monday 14 July 2025 is a sending day.
    assert next_window_opening(paris(2025, 7, 12, 22), MON_SAT, SMS_START, SMS_END) == paris(
        2025, 7, 14, 8
    )
    inside = paris(2025, 7, 12, 21, 59)
    assert next_window_opening(inside, MON_SAT, SMS_START, SMS_END) == inside
    assert next_window_opening(paris(2025, 7, 15, 6), MON_SAT, SMS_START, SMS_END) == paris(
        2025, 7, 15, 8
    )


def test_window_is_evaluated_in_paris_time_whatever_the_input_zone() -> None:
    # 20:30 UTC on a Saturday in July is 22:30 in Paris: closed.
    late = datetime(2025, 7, 12, 20, 30, tzinfo=UTC)
    assert not in_window(late, MON_SAT, SMS_START, SMS_END)
    opening = next_window_opening(late, MON_SAT, SMS_START, SMS_END)
    assert opening == datetime(2025, 7, 14, 6, tzinfo=UTC)
    assert opening.tzinfo is UTC


def test_telemarketing_call_window() -> None:
    # SPEC: VOX-10 — décret 2022-1313: Mon–Fri except holidays, 10:00–13:00 and 14:00–20:00.
    def allowed(moment: datetime) -> bool:
        return in_window(moment, MON_FRI, CALL_INTERVALS, exclude_holidays=True)

    assert allowed(paris(2025, 7, 7, 10))
    assert allowed(paris(2025, 7, 7, 12, 59))
    assert not allowed(paris(2025, 7, 7, 13, 30))
    assert allowed(paris(2025, 7, 7, 14))
    assert not allowed(paris(2025, 7, 7, 20))
    assert not allowed(paris(2025, 7, 7, 9, 59))
    assert not allowed(paris(2025, 7, 12, 11))  # Saturday
    assert not allowed(paris(2025, 7, 14, 11))  # 14 July


def test_telemarketing_next_opening() -> None:
    # SPEC: VOX-10
    def next_opening(moment: datetime) -> datetime:
        return next_window_opening(moment, MON_FRI, CALL_INTERVALS, exclude_holidays=True)

    assert next_opening(paris(2025, 7, 7, 13)) == paris(2025, 7, 7, 14)
    assert next_opening(paris(2025, 7, 4, 20)) == paris(2025, 7, 7, 10)
    assert next_opening(paris(2025, 7, 11, 20)) == paris(2025, 7, 15, 10)  # over 14 July


def test_window_interval_to_midnight() -> None:
    late = TimeWindow(frozenset(range(7)), ((time(18), time(0)),), exclude_holidays=False)
    assert late.contains(paris(2025, 7, 7, 23, 59, 59))
    assert not late.contains(paris(2025, 7, 8, 0, 0))
    assert late.seconds_between(paris(2025, 7, 7, 12), paris(2025, 7, 8, 12)) == 6 * HOUR


@pytest.mark.parametrize(
    "intervals",
    [
        [],
        [(time(14), time(10))],
        [(time(10), time(14)), (time(13), time(20))],
        [(time(10, tzinfo=UTC), time(14))],
    ],
)
def test_invalid_intervals_are_refused(intervals: list[tuple[time, time]]) -> None:
    with pytest.raises(ValueError):
        in_window(paris(2025, 7, 7, 11), MON_FRI, intervals)


def test_start_and_end_or_intervals_not_both() -> None:
    with pytest.raises(ValueError):
        in_window(paris(2025, 7, 7, 11), MON_FRI, time(10))
    with pytest.raises(ValueError):
        in_window(paris(2025, 7, 7, 11), MON_FRI, CALL_INTERVALS, time(20))


def test_a_time_given_without_its_zone_is_refused_naming_the_field() -> None:
    from operateur.domain.calendar import aware_input
    from operateur.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        aware_input(datetime(2026, 3, 14, 22, 0), "starts_at")
    assert caught.value.field == "starts_at"
    assert "fuseau" in caught.value.render("fr") and "zone" in caught.value.render("en")
    given = datetime(2026, 3, 14, 22, 0, tzinfo=PARIS)
    assert aware_input(given, "starts_at") is given
