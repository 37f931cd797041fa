"""Business calendars and quiet hours (csdomain.calendar).

The fast path of :meth:`BusinessCalendar.add_business_time` skips plain weeks
arithmetically; the properties at the end compare it with a slow reference that walks
every day's intervals one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from dateutil.rrule import YEARLY, rrule
from hypothesis import given
from hypothesis import strategies as st

from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.errors import ValidationError
from csdomain.serialization import from_json, structure, to_json
from csdomain.testing.strategies_kernel import (
    CALENDAR_ZONES,
    aware_datetimes,
    business_calendars,
    quiet_hours,
)


SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
QUARTER = timedelta(minutes=15)

#: Chinese public holidays of 2025 and the weekend days worked in exchange (调休).
CN_HOLIDAYS_2025 = frozenset(
    [date(2025, 1, 1)]
    + [date(2025, 1, 28) + timedelta(days=i) for i in range(8)]
    + [date(2025, 4, 4), date(2025, 4, 5), date(2025, 4, 6)]
    + [date(2025, 5, 1) + timedelta(days=i) for i in range(5)]
    + [date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2)]
    + [date(2025, 10, 1) + timedelta(days=i) for i in range(8)]
)
CN_WORKDAYS_2025 = frozenset(
    [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)]
)


def _shanghai_office() -> BusinessCalendar:
    return BusinessCalendar(
        tz="Asia/Shanghai",
        hours={day: [(time(9), time(12)), (time(13, 30), time(18))] for day in range(5)},
        holidays=CN_HOLIDAYS_2025,
        extra_workdays=CN_WORKDAYS_2025,
    )


# -- is_open and next_open --------------------------------------------------------------


def test_is_open_inside_opening_hours_in_the_calendars_time_zone() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    monday_9am = datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)
    assert cal.is_open(monday_9am)
    assert cal.is_open(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 11, 30, 0, 59, tzinfo=UTC))
    assert cal.is_open(datetime(2026, 11, 30, 17, 59, tzinfo=SHANGHAI))


def test_closing_time_is_exclusive() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    assert not cal.is_open(datetime(2026, 11, 30, 18, tzinfo=SHANGHAI))


def test_weekends_are_closed() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    assert not cal.is_open(datetime(2026, 11, 28, 10, tzinfo=SHANGHAI))
    assert not cal.is_open(datetime(2026, 11, 29, 10, tzinfo=SHANGHAI))
    assert cal.next_open(datetime(2026, 11, 28, 10, tzinfo=SHANGHAI)) == datetime(
        2026, 11, 30, 9, tzinfo=SHANGHAI
    )


def test_holidays_close_a_working_weekday() -> None:
    cal = _shanghai_office()
    assert not cal.is_open(datetime(2025, 10, 1, 10, tzinfo=SHANGHAI))
    assert cal.next_open(datetime(2025, 9, 30, 18, tzinfo=SHANGHAI)) == datetime(
        2025, 10, 9, 9, tzinfo=SHANGHAI
    )


def test_extra_workday_opens_a_weekend_day() -> None:
    cal = _shanghai_office()
    assert date(2025, 9, 28).weekday() == 6
    assert cal.is_open(datetime(2025, 9, 28, 10, tzinfo=SHANGHAI))
    assert not cal.is_open(datetime(2025, 9, 28, 12, 30, tzinfo=SHANGHAI))
    assert cal.is_open(datetime(2025, 10, 11, 17, tzinfo=SHANGHAI))
    assert not cal.is_open(datetime(2025, 10, 12, 10, tzinfo=SHANGHAI))


def test_golden_week_counts_only_adjusted_working_days() -> None:
    cal = BusinessCalendar.office(
        "Asia/Shanghai", holidays=CN_HOLIDAYS_2025, extra_workdays=CN_WORKDAYS_2025
    )
    friday = datetime(2025, 9, 26, 9, tzinfo=SHANGHAI)
    monday_after = datetime(2025, 10, 13, 9, tzinfo=SHANGHAI)
    # Fri 26, Sun 28 (worked), Mon 29, Tue 30, Thu 9, Fri 10, Sat 11 (worked): 7 days of 9 h.
    assert cal.business_time_between(friday, monday_after) == 63 * H


def test_extra_workdays_use_extra_workday_hours_when_given() -> None:
    cal = BusinessCalendar(
        tz="Asia/Shanghai",
        hours={"mon": [("09:00", "18:00")], "tue": [("10:00", "12:00")]},
        extra_workdays=[date(2025, 9, 28)],
        extra_workday_hours=[("09:00", "12:00")],
    )
    assert cal.is_open(datetime(2025, 9, 28, 11, tzinfo=SHANGHAI))
    assert not cal.is_open(datetime(2025, 9, 28, 13, tzinfo=SHANGHAI))
    monday_hours = attrs.evolve(cal, extra_workday_hours=None)
    assert monday_hours.is_open(datetime(2025, 9, 28, 17, tzinfo=SHANGHAI))


def test_a_holiday_wins_over_an_extra_workday() -> None:
    cal = BusinessCalendar.office(
        "UTC", holidays=[date(2026, 6, 6)], extra_workdays=[date(2026, 6, 6)]
    )
    assert not cal.is_open(datetime(2026, 6, 6, 10, tzinfo=UTC))


def test_lunch_break_splits_the_day_into_two_intervals() -> None:
    cal = _shanghai_office()
    monday = date(2026, 11, 30)
    assert not cal.is_open(datetime(2026, 11, 30, 12, 30, tzinfo=SHANGHAI))
    assert cal.next_open(datetime(2026, 11, 30, 12, 30, tzinfo=SHANGHAI)) == datetime(
        2026, 11, 30, 13, 30, tzinfo=SHANGHAI
    )
    assert cal.add_business_time(datetime(2026, 11, 30, 11, tzinfo=SHANGHAI), 2 * H) == datetime(
        2026, 11, 30, 14, 30, tzinfo=SHANGHAI
    )
    day_start = datetime.combine(monday, time(0), tzinfo=SHANGHAI)
    assert cal.business_time_between(day_start, day_start + 24 * H) == timedelta(hours=7.5)
    assert len(cal.intervals_on(monday)) == 2


def test_interval_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    cal = BusinessCalendar(
        tz="Asia/Shanghai",
        hours={"fri": [(time(22), time(0))], "sat": [(time(0), time(2))]},
    )
    friday_22 = datetime(2026, 12, 4, 22, tzinfo=SHANGHAI)
    assert cal.is_open(datetime(2026, 12, 4, 23, 59, tzinfo=SHANGHAI))
    assert cal.is_open(datetime(2026, 12, 5, 0, 0, tzinfo=SHANGHAI))
    assert not cal.is_open(datetime(2026, 12, 5, 2, 0, tzinfo=SHANGHAI))
    assert cal.add_business_time(friday_22, 3 * H) == datetime(2026, 12, 5, 1, tzinfo=SHANGHAI)
    assert cal.business_time_between(friday_22, friday_22 + 7 * 24 * H) == 4 * H


def test_next_open_returns_the_same_instant_when_open() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    at = datetime(2026, 11, 30, 10, 17, tzinfo=SHANGHAI)
    assert cal.next_open(at) == at
    assert cal.next_open(at).tzinfo is SHANGHAI


def test_next_open_finds_an_opening_after_many_closed_weeks() -> None:
    mondays = [date(2026, 3, 9) + timedelta(weeks=i) for i in range(4)]
    cal = BusinessCalendar(tz="UTC", hours={"mon": [("09:00", "17:00")]}, holidays=mondays)
    at = datetime(2026, 3, 3, tzinfo=UTC)
    assert cal.next_open(at) == datetime(2026, 4, 6, 9, tzinfo=UTC)
    assert cal.add_business_time(at, H) == datetime(2026, 4, 6, 10, tzinfo=UTC)


# -- add_business_time and business_time_between ----------------------------------------


def test_adding_business_time_skips_nights_and_weekends() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    friday_17 = datetime(2026, 12, 4, 17, tzinfo=SHANGHAI)
    assert cal.add_business_time(friday_17, 2 * H) == datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)
    assert cal.business_time_between(friday_17, datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)) == 2 * H


def test_adding_from_a_closed_moment_starts_at_the_next_opening() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    saturday = datetime(2026, 12, 5, 15, tzinfo=SHANGHAI)
    assert cal.add_business_time(saturday, 30 * timedelta(minutes=1)) == datetime(
        2026, 12, 7, 9, 30, tzinfo=SHANGHAI
    )


def test_adding_zero_returns_start_unchanged() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    saturday = datetime(2026, 12, 5, 15, tzinfo=SHANGHAI)
    assert cal.add_business_time(saturday, timedelta(0)) is saturday


def test_result_is_in_the_time_zone_of_the_start() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    start_utc = datetime(2026, 11, 30, 1, tzinfo=UTC)
    assert cal.add_business_time(start_utc, H).tzinfo is UTC
    assert cal.add_business_time(start_utc.astimezone(BERLIN), H).tzinfo is BERLIN


def test_business_time_between_is_negative_when_b_is_before_a() -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    a = datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)
    b = datetime(2026, 11, 30, 11, tzinfo=SHANGHAI)
    assert cal.business_time_between(b, a) == -2 * H
    assert cal.business_time_between(a, a) == timedelta(0)


@pytest.mark.parametrize("delta", [timedelta(seconds=-1), 3600, None])
def test_add_business_time_refuses_negative_or_non_durations(delta: object) -> None:
    cal = BusinessCalendar.office("UTC")
    with pytest.raises(ValidationError) as err:
        cal.add_business_time(datetime(2026, 1, 5, 9, tzinfo=UTC), delta)  # type: ignore[arg-type]
    assert err.value.errors[0][0] == "delta"


def test_always_counts_elapsed_time_even_across_dst() -> None:
    cal = BusinessCalendar.always("Europe/Berlin")
    a = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    b = datetime(2026, 3, 29, 12, tzinfo=BERLIN)
    assert cal.business_time_between(a, b) == 23 * H
    assert cal.add_business_time(a, 24 * H) == datetime(2026, 3, 29, 13, tzinfo=BERLIN)
    assert cal.is_open(datetime(2026, 3, 29, 3, tzinfo=BERLIN))
    assert cal.next_open(a) == a


@given(aware_datetimes(), aware_datetimes(), st.sampled_from(CALENDAR_ZONES))
def test_always_business_time_equals_elapsed_time(a: datetime, b: datetime, tz: str) -> None:
    cal = BusinessCalendar.always(tz)
    elapsed = b.astimezone(UTC) - a.astimezone(UTC)
    assert cal.business_time_between(a, b) == elapsed
    assert cal.is_open(a)


# -- daylight saving time ---------------------------------------------------------------


def _day_total(cal: BusinessCalendar, day: date) -> timedelta:
    zone = ZoneInfo(cal.tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return cal.business_time_between(start, end)


def test_interval_spanning_the_spring_forward_gap_loses_an_hour() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={d: [("01:00", "04:00")] for d in range(7)})
    assert _day_total(cal, date(2026, 3, 28)) == 3 * H
    assert _day_total(cal, date(2026, 3, 29)) == 2 * H
    assert _day_total(cal, date(2026, 10, 25)) == 4 * H
    assert cal.add_business_time(datetime(2026, 3, 29, 1, tzinfo=BERLIN), 2 * H) == datetime(
        2026, 3, 29, 4, tzinfo=BERLIN
    )


def test_interval_inside_the_missing_hour_does_not_open() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={d: [("02:00", "03:00")] for d in range(7)})
    assert _day_total(cal, date(2026, 3, 29)) == timedelta(0)
    assert not cal.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert _day_total(cal, date(2026, 3, 30)) == H
    assert _day_total(cal, date(2026, 10, 25)) == 2 * H
    assert cal.next_open(datetime(2026, 3, 28, 23, tzinfo=UTC)) == datetime(
        2026, 3, 30, 0, tzinfo=UTC
    )


def test_interval_starting_inside_the_missing_hour_opens_when_the_clocks_jump() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={d: [("02:30", "04:00")] for d in range(7)})
    assert _day_total(cal, date(2026, 3, 29)) == H
    assert cal.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    assert cal.next_open(datetime(2026, 3, 28, 23, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    short = BusinessCalendar(tz="Europe/Berlin", hours={d: [("02:30", "03:15")] for d in range(7)})
    assert _day_total(short, date(2026, 3, 29)) == timedelta(minutes=15)


def test_interval_ending_inside_the_missing_hour_closes_when_the_clocks_jump() -> None:
    cal = BusinessCalendar(tz="Europe/Berlin", hours={d: [("01:00", "02:30")] for d in range(7)})
    assert _day_total(cal, date(2026, 3, 29)) == H
    assert not cal.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))


def test_full_days_last_23_and_25_hours_on_dst_sundays() -> None:
    cal = BusinessCalendar(
        tz="Europe/Berlin",
        hours={d: [("00:00", "00:00")] for d in range(7)},
        holidays=[date(2026, 12, 25)],
    )
    assert _day_total(cal, date(2026, 3, 29)) == 23 * H
    assert _day_total(cal, date(2026, 10, 25)) == 25 * H
    assert _day_total(cal, date(2026, 12, 25)) == timedelta(0)
    saturday_noon = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    assert cal.add_business_time(saturday_noon, 24 * H) == datetime(2026, 10, 25, 11, tzinfo=BERLIN)


def test_new_york_office_across_the_spring_dst_weekend() -> None:
    cal = BusinessCalendar.office("America/New_York", time(9), time(17))
    friday_16 = datetime(2026, 3, 6, 16, tzinfo=NEW_YORK)
    monday_10 = datetime(2026, 3, 9, 10, tzinfo=NEW_YORK)
    assert friday_16.utcoffset() == -5 * H
    assert monday_10.utcoffset() == -4 * H
    assert cal.add_business_time(friday_16, 2 * H) == monday_10
    assert cal.business_time_between(friday_16, monday_10) == 2 * H
    assert cal.is_open(datetime(2026, 3, 9, 13, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 3, 6, 13, 30, tzinfo=UTC))


def test_a_plain_week_is_skipped_only_when_no_offset_changes() -> None:
    cal = BusinessCalendar.office("Europe/Berlin")
    start = datetime(2026, 3, 16, 9, tzinfo=BERLIN)
    result = cal.add_business_time(start, 5 * 45 * H)
    assert result == datetime(2026, 4, 17, 18, tzinfo=BERLIN)
    assert cal.business_time_between(start, result) == 5 * 45 * H


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "path"),
    [
        ("is_open", (datetime(2026, 1, 5, 10),), "at"),
        ("next_open", (datetime(2026, 1, 5, 10),), "at"),
        ("add_business_time", (datetime(2026, 1, 5, 10), H), "start"),
        ("business_time_between", (datetime(2026, 1, 5, 10), datetime.now(UTC)), "a"),
        ("business_time_between", (datetime.now(UTC), datetime(2026, 1, 5, 10)), "b"),
    ],
)
def test_naive_datetimes_are_rejected(method: str, args: tuple[object, ...], path: str) -> None:
    cal = BusinessCalendar.office("Asia/Shanghai")
    with pytest.raises(ValidationError, match="no time zone") as err:
        getattr(cal, method)(*args)
    assert err.value.errors[0][0] == path


@pytest.mark.parametrize(
    ("hours", "path", "message"),
    [
        ({"mon": [("09:00", "12:00"), ("11:00", "14:00")]}, "hours.0", "overlap"),
        ({"mon": [("09:00", "00:00"), ("10:00", "11:00")]}, "hours.0", "overlap"),
        ({"tue": [("18:00", "09:00")]}, "hours.1.0", "not after start"),
        ({"tue": [("09:00", "09:00")]}, "hours.1.0", "not after start"),
        ({}, "hours", "never open"),
        ({"mon": []}, "hours", "never open"),
        ({"funday": [("09:00", "17:00")]}, "hours", "not a weekday"),
        ({7: [("09:00", "17:00")]}, "hours", "not a weekday"),
        ({"mon": [("9am", "17:00")]}, "hours.0.0.0", "not a time"),
        ({"mon": [("09:00",)]}, "hours.0.0", "pair"),
        ({"mon": "09:00-17:00"}, "hours.0", "pairs"),
        ("9-5", "hours", "mapping"),
        ({"mon": [(time(9, tzinfo=UTC), time(17))]}, "hours.0.0.0", "wall-clock"),
    ],
)
def test_bad_hours_are_rejected_with_the_path(hours: object, path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        BusinessCalendar(tz="UTC", hours=hours)
    assert err.value.errors[0][0] == path


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd", None])
def test_unknown_time_zones_are_rejected(tz: object) -> None:
    with pytest.raises(ValidationError) as err:
        BusinessCalendar(tz=tz, hours={"mon": [("09:00", "17:00")]})
    assert err.value.errors[0][0] == "tz"


@pytest.mark.parametrize("holidays", ["2026-01-01", [datetime(2026, 1, 1, tzinfo=UTC)], ["x"]])
def test_bad_holidays_are_rejected(holidays: object) -> None:
    with pytest.raises(ValidationError) as err:
        BusinessCalendar(tz="UTC", hours={"mon": [("09:00", "17:00")]}, holidays=holidays)
    assert err.value.errors[0][0] == "holidays"


def test_weekdays_may_be_numbers_names_or_a_seven_item_list() -> None:
    by_number = BusinessCalendar(tz="UTC", hours={0: [(time(9), time(17))]})
    by_name = BusinessCalendar(tz="UTC", hours={"Monday": [("09:00", "17:00")]})
    by_list = BusinessCalendar(tz="UTC", hours=[[("09:00", "17:00")], [], [], [], [], [], []])
    assert by_number == by_name == by_list
    assert by_number.hours[0] == ((time(9), time(17)),)


def test_holidays_from_a_dateutil_rrule() -> None:
    new_year = rrule(YEARLY, dtstart=datetime(2026, 1, 1), count=3)
    cal = BusinessCalendar.office("Asia/Shanghai").with_holidays(new_year)
    assert cal.holidays == {date(2026, 1, 1), date(2027, 1, 1), date(2028, 1, 1)}
    assert not cal.is_open(datetime(2027, 1, 1, 10, tzinfo=SHANGHAI))
    cal = cal.with_extra_workdays([date(2026, 1, 4)])
    assert cal.is_open(datetime(2026, 1, 4, 10, tzinfo=SHANGHAI))


# -- quiet hours ----------------------------------------------------------------------------


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours(start=time(22), end=time(8))
    assert quiet.tz == "Asia/Shanghai"
    assert quiet.contains(datetime(2026, 11, 30, 23, tzinfo=SHANGHAI))
    assert quiet.contains(datetime(2026, 11, 30, 7, 59, tzinfo=SHANGHAI))
    assert quiet.contains(datetime(2026, 11, 30, 22, tzinfo=SHANGHAI))
    assert not quiet.contains(datetime(2026, 11, 30, 8, tzinfo=SHANGHAI))
    assert not quiet.contains(datetime(2026, 11, 30, 21, 59, tzinfo=SHANGHAI))
    assert quiet.next_allowed(datetime(2026, 11, 30, 23, tzinfo=SHANGHAI)) == datetime(
        2026, 12, 1, 8, tzinfo=SHANGHAI
    )
    assert quiet.next_allowed(datetime(2026, 11, 30, 3, tzinfo=SHANGHAI)) == datetime(
        2026, 11, 30, 8, tzinfo=SHANGHAI
    )


def test_quiet_hours_within_one_day() -> None:
    quiet = QuietHours(start="12:00", end="14:00", tz="UTC")
    assert quiet.contains(datetime(2026, 1, 1, 13, tzinfo=UTC))
    assert not quiet.contains(datetime(2026, 1, 1, 14, tzinfo=UTC))
    assert quiet.next_allowed(datetime(2026, 1, 1, 13, tzinfo=UTC)) == datetime(
        2026, 1, 1, 14, tzinfo=UTC
    )


def test_next_allowed_outside_quiet_hours_is_the_same_instant() -> None:
    quiet = QuietHours(start=time(22), end=time(8))
    at = datetime(2026, 11, 30, 12, tzinfo=SHANGHAI)
    assert quiet.next_allowed(at) is at


def test_equal_start_and_end_mean_no_rest_period() -> None:
    quiet = QuietHours(start=time(8), end=time(8), tz="UTC")
    assert not quiet.contains(datetime(2026, 1, 1, 8, tzinfo=UTC))
    assert not quiet.contains(datetime(2026, 1, 1, 20, tzinfo=UTC))


def test_next_allowed_is_in_the_time_zone_of_at() -> None:
    quiet = QuietHours(start=time(22), end=time(8))
    at = datetime(2026, 11, 30, 15, tzinfo=UTC)
    assert quiet.next_allowed(at) == datetime(2026, 12, 1, 0, tzinfo=UTC)
    assert quiet.next_allowed(at).tzinfo is UTC


def test_next_allowed_in_the_repeated_hour_is_never_before_at() -> None:
    quiet = QuietHours(start=time(22), end=time(2, 30), tz="Europe/Berlin")
    second_0215 = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)
    assert second_0215.astimezone(BERLIN).utcoffset() == H
    assert quiet.contains(second_0215)
    allowed = quiet.next_allowed(second_0215)
    assert allowed == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    first_0215 = datetime(2026, 10, 25, 0, 15, tzinfo=UTC)
    assert quiet.next_allowed(first_0215) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_quiet_hours_ending_inside_a_dst_gap_end_when_the_clocks_jump() -> None:
    quiet = QuietHours(start=time(22), end=time(2, 30), tz="Europe/Berlin")
    at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    allowed = quiet.next_allowed(at)
    assert allowed == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert not quiet.contains(allowed)
    assert quiet.contains(allowed - timedelta(seconds=1))


def test_quiet_hours_reject_naive_datetimes() -> None:
    for quiet in (QuietHours(start=time(22), end=time(8)), QuietHours(time(8), time(8))):
        with pytest.raises(ValidationError):
            quiet.contains(datetime(2026, 1, 1, 23))
        with pytest.raises(ValidationError):
            quiet.next_allowed(datetime(2026, 1, 1, 23))


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"start": "late", "end": "08:00"}, "start"),
        ({"start": "22:00", "end": 8}, "end"),
        ({"start": "22:00", "end": "08:00", "tz": "Nowhere/City"}, "tz"),
    ],
)
def test_bad_quiet_hours_are_rejected(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as err:
        QuietHours(**kwargs)
    assert err.value.errors[0][0] == path


@given(quiet_hours(), aware_datetimes(min_value=datetime(2024, 1, 1, tzinfo=UTC)))
def test_next_allowed_is_never_before_at_and_never_quiet(quiet: QuietHours, at: datetime) -> None:
    allowed = quiet.next_allowed(at)
    assert allowed.timestamp() >= at.timestamp()
    assert not quiet.contains(allowed)
    assert allowed.timestamp() - at.timestamp() <= 25 * 3600


@given(quiet_hours(), st.integers(0, 3 * 365 * 96))
def test_next_allowed_is_the_first_allowed_quarter_hour(quiet: QuietHours, quarter: int) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC) + quarter * QUARTER
    allowed = quiet.next_allowed(at)
    moment = at
    while moment < allowed:
        assert quiet.contains(moment)
        moment += QUARTER
    assert moment == allowed


@given(quiet_hours())
def test_quiet_hours_round_trip_through_json(quiet: QuietHours) -> None:
    assert from_json(QuietHours, to_json(quiet)) == quiet


# -- properties of business time ------------------------------------------------------------

_starts = aware_datetimes(
    min_value=datetime(2025, 1, 1, tzinfo=UTC),
    max_value=datetime(2027, 12, 31, tzinfo=UTC),
    timezones=st.sampled_from([ZoneInfo(name) for name in CALENDAR_ZONES]),
)
_durations = st.integers(0, 200 * 60).map(lambda minutes: timedelta(minutes=minutes))


def _reference_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant whose local time is ``day`` ``wall`` or later, found minute by minute."""
    local = datetime.combine(day, wall)
    instant = local.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    probe = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while probe.astimezone(zone).replace(tzinfo=None) < local:
        probe += timedelta(minutes=1)
    return probe


def _reference_intervals(cal: BusinessCalendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    """One local day's opening intervals in UTC, straight from the calendar's definition."""
    if day in cal.holidays:
        hours: tuple[tuple[time, time], ...] = ()
    elif day in cal.extra_workdays:
        if cal.extra_workday_hours is not None:
            hours = cal.extra_workday_hours
        else:
            hours = next(h for h in cal.hours if h)
    else:
        hours = cal.hours[day.weekday()]
    zone = ZoneInfo(cal.tz)
    for start, end in hours:
        begin = _reference_instant(day, start, zone)
        end_day = day + timedelta(days=1) if end == time(0) else day
        finish = _reference_instant(end_day, end, zone)
        if finish > begin:
            yield begin, finish


def _reference_add(cal: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    """Walk day by day, interval by interval, until ``delta`` is used up."""
    moment = start.astimezone(UTC)
    if not delta:
        return moment
    day = moment.astimezone(ZoneInfo(cal.tz)).date() - timedelta(days=1)
    remaining = delta
    while True:
        for begin, finish in _reference_intervals(cal, day):
            if finish <= moment:
                continue
            opened = max(begin, moment)
            if remaining <= finish - opened:
                return opened + remaining
            remaining -= finish - opened
        day += timedelta(days=1)


def _reference_between(cal: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Sum the overlap of every day's intervals with ``[a, b]``."""
    first, last = a.astimezone(UTC), b.astimezone(UTC)
    zone = ZoneInfo(cal.tz)
    day = first.astimezone(zone).date() - timedelta(days=1)
    total = timedelta(0)
    while day <= last.astimezone(zone).date():
        for begin, finish in _reference_intervals(cal, day):
            total += max(timedelta(0), min(finish, last) - max(begin, first))
        day += timedelta(days=1)
    return total


@given(business_calendars(), _starts, _durations)
def test_business_time_between_start_and_result_equals_the_added_time(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    result = cal.add_business_time(start, delta)
    assert cal.business_time_between(start, result) == delta
    assert cal.business_time_between(cal.next_open(start), result) == delta


@given(business_calendars(), _starts, _durations)
def test_adding_business_time_gives_the_earliest_such_instant(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    """Rule: a deadline falls when the business time has passed, not at a later opening."""
    result = cal.add_business_time(start, delta)
    if delta:
        before = result - timedelta(microseconds=1)
        assert _reference_between(cal, start, before) < delta


@given(business_calendars(), _starts, _durations)
def test_adding_business_time_never_goes_back_in_time(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    result = cal.add_business_time(start, delta)
    assert result.timestamp() >= start.timestamp()
    assert result.tzinfo is start.tzinfo


@given(business_calendars(), _starts, _durations, _durations)
def test_adding_a_then_b_equals_adding_a_plus_b(
    cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    stepwise = cal.add_business_time(cal.add_business_time(start, a), b)
    at_once = cal.add_business_time(start, a + b)
    assert stepwise.timestamp() == at_once.timestamp()


@given(business_calendars(), _starts, _starts)
def test_business_time_between_is_antisymmetric(
    cal: BusinessCalendar, a: datetime, b: datetime
) -> None:
    assert cal.business_time_between(a, b) == -cal.business_time_between(b, a)


@given(business_calendars(), _starts, st.lists(_durations, min_size=2, max_size=2))
def test_business_time_between_adds_up_over_consecutive_spans(
    cal: BusinessCalendar, a: datetime, steps: list[timedelta]
) -> None:
    b = a.astimezone(UTC) + steps[0] * 10
    c = b + steps[1] * 10
    assert cal.business_time_between(a, b) + cal.business_time_between(
        b, c
    ) == cal.business_time_between(a, c)


@given(business_calendars(), _starts)
def test_next_open_is_open_and_never_before_at(cal: BusinessCalendar, at: datetime) -> None:
    opened = cal.next_open(at)
    assert opened.timestamp() >= at.timestamp()
    assert cal.is_open(opened)
    assert cal.business_time_between(at, opened) == timedelta(0)


@given(business_calendars(), st.integers(0, 3 * 365 * 96), st.integers(1, 4 * 96))
def test_open_quarter_hours_add_up_to_business_time_between(
    cal: BusinessCalendar, first_quarter: int, quarters: int
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC) + first_quarter * QUARTER
    samples = (start + i * QUARTER for i in range(quarters))
    open_time = sum((QUARTER for moment in samples if cal.is_open(moment)), timedelta(0))
    assert cal.business_time_between(start, start + quarters * QUARTER) == open_time


@given(business_calendars(), _starts, st.integers(0, 400 * 60))
def test_fast_path_agrees_with_the_day_by_day_reference(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    delta = timedelta(minutes=minutes)
    result = cal.add_business_time(start, delta)
    assert result.timestamp() == _reference_add(cal, start, delta).timestamp()
    end = start.astimezone(UTC) + delta * 3
    assert cal.business_time_between(start, end) == _reference_between(cal, start, end)


def test_adding_400_business_hours_over_holidays_equals_the_day_by_day_sum() -> None:
    cal = _shanghai_office()
    start = datetime(2025, 1, 2, 10, 15, tzinfo=SHANGHAI)
    result = cal.add_business_time(start, 400 * H)
    assert result == _reference_add(cal, start, 400 * H)
    assert cal.business_time_between(start, result) == 400 * H
    assert _reference_between(cal, start, result) == 400 * H
    berlin = BusinessCalendar.office("Europe/Berlin", holidays=[date(2025, 12, 25)])
    start = datetime(2025, 1, 2, 10, 15, tzinfo=BERLIN)
    result = berlin.add_business_time(start, 4000 * H)
    assert result == _reference_add(berlin, start, 4000 * H)
    assert berlin.business_time_between(start, result) == 4000 * H


@given(business_calendars())
def test_calendar_round_trips_through_json(cal: BusinessCalendar) -> None:
    restored = from_json(BusinessCalendar, to_json(cal))
    assert restored == cal
    assert to_json(restored) == to_json(cal)


def test_calendar_from_json_reports_bad_hours_with_a_path() -> None:
    data = (
        b'{"tz":"UTC","hours":[[["09:00:00","12:00:00"],["11:00:00","13:00:00"]],'
        b'[],[],[],[],[],[]],"holidays":[],"extra_workdays":[],"extra_workday_hours":null}'
    )
    with pytest.raises(ValidationError) as err:
        from_json(BusinessCalendar, data)
    assert any(path.startswith("hours") for path, _ in err.value.errors)


_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["09:00", "00:00", "24:00", "2026-01-01", "mon", "Europe/Berlin"])
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=7) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=30,
)


@given(
    st.fixed_dictionaries(
        {"tz": st.sampled_from(["UTC", "Asia/Shanghai"]) | _json_leaves, "hours": _json_values},
        optional={
            "holidays": _json_values,
            "extra_workdays": _json_values,
            "extra_workday_hours": _json_values,
        },
    )
)
def test_calendars_from_untrusted_data_raise_nothing_but_validation_error(
    data: dict[str, object],
) -> None:
    try:
        cal = structure(data, BusinessCalendar)
    except ValidationError:
        return
    assert any(cal.hours)


def test_chinas_holidays_and_adjusted_workdays_come_from_the_data_package() -> None:
    # Rule: holidays and 调休 working days need not be typed in by hand each year.
    china = BusinessCalendar.for_country("cn", years=[2025, 2026])
    assert date(2025, 10, 1) in china.holidays
    assert date(2026, 2, 17) in china.holidays  # 春节 初一
    assert date(2026, 2, 28) in china.extra_workdays
    assert china.tz == "Asia/Shanghai"
    assert {d.year for d in china.holidays} == {2025, 2026}


def test_a_year_the_data_does_not_cover_is_refused_clearly() -> None:
    # Rule: a clear error for years the data does not cover.
    with pytest.raises(ValidationError) as refused:
        BusinessCalendar.for_country("CN", years=2101)
    assert refused.value.errors[0][0] == "years"
    assert "upgrade" in str(refused.value)
    with pytest.raises(ValidationError, match="covers"):
        BusinessCalendar.for_country("DE", years=1800, tz="Europe/Berlin")


def test_other_countries_need_a_known_code_a_time_zone_and_a_known_subdivision() -> None:
    # Rule: other countries come from the holidays package, with the team's time zone.
    france = BusinessCalendar.for_country("FR", years=2026, tz="Europe/Paris")
    assert date(2026, 7, 14) in france.holidays
    assert france.extra_workdays == frozenset()
    with pytest.raises(ValidationError) as no_tz:
        BusinessCalendar.for_country("FR", years=2026)
    assert no_tz.value.errors[0][0] == "tz"
    with pytest.raises(ValidationError, match="no holiday data"):
        BusinessCalendar.for_country("XX", years=2026, tz="UTC")
    with pytest.raises(ValidationError) as bad_state:
        BusinessCalendar.for_country("DE", years=2026, tz="Europe/Berlin", subdivision="ZZ")
    assert bad_state.value.errors[0][0] == "subdivision"
    for years in ([], ["2026"], True):
        with pytest.raises(ValidationError):
            BusinessCalendar.for_country("CN", years=years)  # type: ignore[arg-type]


def test_without_the_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rule: the holiday data is an optional extra; its absence is a clear error.
    import sys

    monkeypatch.setitem(sys.modules, "chinese_calendar", None)
    with pytest.raises(ValidationError, match=r"csdomain\[holidays\]"):
        BusinessCalendar.for_country("CN", years=2026)
