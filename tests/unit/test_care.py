"""Rules of the care touch-point schedule (docs/domain.md 3.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.calendar import QuietHours
from csdomain.care import (
    SPRING_FESTIVALS,
    CareAnchor,
    CareOccurrence,
    CarePlan,
    CarePolicy,
    CareSubject,
    CareTouchpoint,
    LeapDayBirthday,
    care_key,
    care_messages,
    due_touchpoints,
    spring_festival,
)
from csdomain.errors import RuleViolation, ValidationError
from csdomain.notify import MessageStatus, NotificationPolicy, message_id_for
from csdomain.serialization import from_json, to_json


SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
POLICY = NotificationPolicy()
NIGHTS = POLICY.default_rest_hours


def subject(**changes: object) -> CareSubject:
    fields: dict[str, object] = {"customer_id": "C-1", "name": "Li Lei"}
    fields.update(changes)
    return CareSubject(**fields)  # type: ignore[arg-type]


def window(first: date, last: date, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """From local midnight of ``first`` to local midnight after ``last``."""
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def dates_of(
    plan: CarePlan, who: CareSubject, first: date, last: date, kind: str, *, tz: ZoneInfo = SHANGHAI
) -> list[date]:
    start, end = window(first, last, tz)
    return [o.on for o in due_touchpoints(plan, who, start, end) if o.kind == kind]


PLAN = CarePlan()


# -- the documents' touch-points (their 10:00 local time is a project default) ------------


def test_next_day_call_lands_the_day_after_the_job_at_local_time() -> None:
    who = subject(job_completed_on=date(2026, 5, 11))
    start, end = window(date(2026, 5, 1), date(2026, 5, 31))
    [call] = [o for o in due_touchpoints(PLAN, who, start, end) if o.kind == "next_day_call"]
    assert call.on == date(2026, 5, 12)
    assert call.at == datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI)
    assert call.at.tzinfo is UTC
    assert call.anchor is CareAnchor.JOB_COMPLETED
    assert call.anchor_date == date(2026, 5, 11)


def test_one_month_after_a_month_end_handover_is_the_last_day_of_the_next_month() -> None:
    common = subject(handed_over_on=date(2026, 1, 31))
    leap = subject(handed_over_on=date(2028, 1, 31))
    assert dates_of(PLAN, common, date(2026, 2, 1), date(2026, 3, 31), "handover_one_month") == [
        date(2026, 2, 28)
    ]
    assert dates_of(PLAN, leap, date(2028, 2, 1), date(2028, 3, 31), "handover_one_month") == [
        date(2028, 2, 29)
    ]


def test_maintenance_reminders_keep_the_month_end_day() -> None:
    monthly = CarePlan(
        touchpoints=(
            CareTouchpoint(
                kind="maintenance_reminder",
                anchor=CareAnchor.HANDED_OVER,
                months=1,
                every_months=1,
            ),
        )
    )
    who = subject(handed_over_on=date(2026, 1, 31))
    reminders = dates_of(monthly, who, date(2026, 1, 1), date(2026, 6, 30), "maintenance_reminder")
    assert reminders == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]


def test_default_maintenance_is_quarterly_four_times_after_handover() -> None:
    who = subject(handed_over_on=date(2026, 1, 31))
    reminders = dates_of(PLAN, who, date(2026, 1, 1), date(2028, 12, 31), "maintenance_reminder")
    assert reminders == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),
    ]


def test_annual_inspection_one_year_after_a_leap_day_handover() -> None:
    who = subject(handed_over_on=date(2028, 2, 29))
    found = dates_of(PLAN, who, date(2029, 1, 1), date(2029, 12, 31), "annual_inspection")
    assert found == [date(2029, 2, 28)]


def test_birthday_on_feb_29_is_greeted_on_feb_28_in_common_years() -> None:
    who = subject(birthday=date(1992, 2, 29))
    found = dates_of(PLAN, who, date(2026, 1, 1), date(2028, 12, 31), "birthday")
    assert found == [date(2026, 2, 28), date(2027, 2, 28), date(2028, 2, 29)]


def test_birthday_on_feb_29_can_be_greeted_on_mar_1_in_common_years() -> None:
    plan = CarePlan(leap_day_birthdays=LeapDayBirthday.MAR_1)
    who = subject(birthday=date(1992, 2, 29))
    found = dates_of(plan, who, date(2026, 1, 1), date(2028, 12, 31), "birthday")
    assert found == [date(2026, 3, 1), date(2027, 3, 1), date(2028, 2, 29)]


def test_birthday_greetings_repeat_every_year_but_not_on_the_day_of_birth() -> None:
    who = subject(birthday=date(2026, 6, 1))
    found = dates_of(PLAN, who, date(2026, 1, 1), date(2028, 12, 31), "birthday")
    assert found == [date(2027, 6, 1), date(2028, 6, 1)]


def test_new_year_check_is_one_month_before_the_spring_festival() -> None:
    who = subject()
    found = dates_of(PLAN, who, date(2026, 1, 1), date(2027, 12, 31), "new_year_check")
    # Spring Festival 2026-02-17, 2027-02-06 and 2028-01-26.
    assert found == [date(2026, 1, 17), date(2027, 1, 6), date(2027, 12, 26)]


def test_gregorian_new_year_check_is_on_the_first_of_december() -> None:
    plan = CarePlan(
        touchpoints=(CareTouchpoint(kind="new_year_check", anchor=CareAnchor.NEW_YEAR, months=-1),)
    )
    found = dates_of(plan, subject(), date(2026, 1, 1), date(2027, 12, 31), "new_year_check")
    assert found == [date(2026, 12, 1), date(2027, 12, 1)]


def test_spring_festival_table_and_plan_overrides() -> None:
    assert spring_festival(2026) == date(2026, 2, 17)
    assert spring_festival(2034) == date(2034, 2, 19)
    assert min(SPRING_FESTIVALS) == 1990
    assert max(SPRING_FESTIVALS) == 2050
    assert all(d.year == y and d.month in (1, 2) for y, d in SPRING_FESTIVALS.items())
    with pytest.raises(RuleViolation) as info:
        spring_festival(2051)
    assert info.value.code == "spring_festival_unknown"
    plan = CarePlan(spring_festivals=frozenset({date(2051, 2, 11)}))
    assert spring_festival(2051, plan) == date(2051, 2, 11)


def test_touchpoints_without_their_anchor_date_are_skipped() -> None:
    start, end = window(date(2026, 1, 1), date(2026, 12, 31))
    kinds = {o.kind for o in due_touchpoints(PLAN, subject(), start, end)}
    assert kinds == {"new_year_check"}


# -- time zones and rest hours -------------------------------------------------------------


def test_touchpoints_happen_at_local_time_in_the_customers_time_zone() -> None:
    who = subject(tz="America/New_York", job_completed_on=date(2026, 7, 1))
    start, end = window(date(2026, 7, 1), date(2026, 7, 31), NEW_YORK)
    [call] = [o for o in due_touchpoints(PLAN, who, start, end) if o.kind == "next_day_call"]
    assert call.at == datetime(2026, 7, 2, 14, 0, tzinfo=UTC)  # 10:00 EDT


def test_occurrences_inside_rest_hours_move_to_their_end() -> None:
    late_sleeper = QuietHours(time(22), time(10, 30), "Asia/Shanghai")
    who = subject(job_completed_on=date(2026, 5, 11), rest_hours=late_sleeper)
    start, end = window(date(2026, 5, 1), date(2026, 5, 31))
    [call] = [o for o in due_touchpoints(PLAN, who, start, end) if o.kind == "next_day_call"]
    assert call.at == datetime(2026, 5, 12, 10, 30, tzinfo=SHANGHAI)
    assert call.on == date(2026, 5, 12)


def test_policy_rest_hours_apply_in_another_time_zone() -> None:
    plan = CarePlan(
        touchpoints=(
            CareTouchpoint(
                kind="next_day_call",
                anchor=CareAnchor.JOB_COMPLETED,
                days=1,
                local_time=time(7),
            ),
        )
    )
    who = subject(tz="America/New_York", job_completed_on=date(2026, 7, 1))
    start, end = window(date(2026, 7, 1), date(2026, 7, 31), NEW_YORK)
    [call] = due_touchpoints(plan, who, start, end, default_rest_hours=NIGHTS)
    # 07:00 New York is 19:00 in Shanghai, outside the Shanghai default rest hours.
    assert call.at == datetime(2026, 7, 2, 7, 0, tzinfo=NEW_YORK)
    own = QuietHours(time(21), time(8), "America/New_York")
    [held] = due_touchpoints(plan, attrs_evolve(who, rest_hours=own), start, end)
    assert held.at == datetime(2026, 7, 2, 8, 0, tzinfo=NEW_YORK)


def attrs_evolve(who: CareSubject, **changes: object) -> CareSubject:
    return attrs.evolve(who, **changes)  # type: ignore[arg-type]


quiet = st.builds(
    QuietHours,
    start=st.times(),
    end=st.times(),
    tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin"]),
)


@given(
    hours=quiet,
    local_time=st.times(),
    tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "Australia/Sydney"]),
    handed_over=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    birthday=st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31)),
)
def test_occurrences_never_land_in_rest_hours_and_stay_in_the_window(
    hours: QuietHours, local_time: time, tz: str, handed_over: date, birthday: date
) -> None:
    plan = CarePlan(
        touchpoints=tuple(
            CareTouchpoint(
                kind=t.kind,
                anchor=t.anchor,
                years=t.years,
                months=t.months,
                days=t.days,
                every_months=t.every_months,
                count=t.count,
                local_time=local_time,
            )
            for t in PLAN.touchpoints
        )
    )
    who = subject(
        tz=tz, handed_over_on=handed_over, job_completed_on=handed_over, birthday=birthday
    )
    start = datetime.combine(handed_over - timedelta(days=40), time(0), tzinfo=UTC)
    end = start + timedelta(days=500)
    occurrences = due_touchpoints(plan, who, start, end, default_rest_hours=hours)
    assert len({o.idempotency_key for o in occurrences}) == len(occurrences)
    for occurrence in occurrences:
        assert start <= occurrence.at < end
        assert not hours.contains(occurrence.at)
        assert occurrence.at - datetime.combine(
            occurrence.on, local_time, tzinfo=ZoneInfo(tz)
        ) < timedelta(days=1)


# -- materialising without duplicates -------------------------------------------------------


FULL = subject(
    birthday=date(1992, 2, 29),
    job_completed_on=date(2026, 1, 30),
    handed_over_on=date(2026, 1, 31),
)
ADDRESSES = {"sms": "13800000000"}


def test_idempotency_key_is_customer_kind_and_date() -> None:
    key = care_key("C-1", "birthday", date(2026, 2, 28))
    assert key.startswith("care-birthday-20260228-")
    assert key == care_key("C-1", "birthday", date(2026, 2, 28))
    assert key != care_key("C-2", "birthday", date(2026, 2, 28))
    assert care_key("北京-202601-李雷-001", "生日", date(2026, 2, 28)).isascii()


def test_materialising_twice_creates_no_duplicates() -> None:
    start, end = window(date(2026, 1, 1), date(2026, 12, 31))
    first = due_touchpoints(PLAN, FULL, start, end, default_rest_hours=NIGHTS)
    again = due_touchpoints(PLAN, FULL, start, end, default_rest_hours=NIGHTS)
    assert first == again
    at = datetime(2026, 1, 1, tzinfo=UTC)
    messages = care_messages(first, FULL, at=at, policy=POLICY, recipient_for=_address)
    replay = care_messages(again, FULL, at=at, policy=POLICY, recipient_for=_address)
    assert [m.id for m in messages] == [m.id for m in replay]
    assert len({m.id for m in messages}) == len(messages) == len(first)


def test_overlapping_windows_give_the_same_keys_for_shared_occurrences() -> None:
    a = due_touchpoints(PLAN, FULL, *window(date(2026, 1, 1), date(2026, 6, 30)))
    b = due_touchpoints(PLAN, FULL, *window(date(2026, 4, 1), date(2026, 12, 31)))
    whole = due_touchpoints(PLAN, FULL, *window(date(2026, 1, 1), date(2026, 12, 31)))
    by_key: dict[str, CareOccurrence] = {o.idempotency_key: o for o in [*a, *b]}
    assert sorted(by_key) == sorted(o.idempotency_key for o in whole)


def _address(customer_id: str | None, channel: str) -> str | None:
    return ADDRESSES.get(channel) if customer_id == "C-1" else None


def test_care_messages_are_held_until_the_touchpoint_and_filled_from_the_plan() -> None:
    start, end = window(date(2026, 2, 1), date(2026, 3, 31))
    occurrences = due_touchpoints(PLAN, FULL, start, end, default_rest_hours=NIGHTS)
    at = datetime(2026, 1, 15, tzinfo=UTC)
    messages = care_messages(occurrences, FULL, at=at, policy=POLICY, recipient_for=_address)
    birthday = next(m for m in messages if m.kind == "birthday")
    occurrence = next(o for o in occurrences if o.kind == "birthday")
    assert birthday.id == message_id_for(occurrence.idempotency_key)
    assert birthday.idempotency_key == occurrence.idempotency_key
    assert birthday.status is MessageStatus.PENDING
    assert birthday.channel == "sms"
    assert birthday.recipient == "13800000000"
    assert birthday.source == "care"
    assert birthday.body == "Happy birthday, Li Lei! Best wishes from your service team."
    assert birthday.not_before == occurrence.at
    assert birthday.next_attempt_at == occurrence.at
    assert not birthday.is_due(occurrence.at - timedelta(seconds=1))
    assert birthday.quiet_hours == NIGHTS


def test_care_messages_skip_customers_without_an_address() -> None:
    start, end = window(date(2026, 2, 1), date(2026, 3, 31))
    occurrences = due_touchpoints(PLAN, FULL, start, end)
    stranger = attrs_evolve(FULL, customer_id="C-9")
    at = datetime(2026, 1, 15, tzinfo=UTC)
    assert care_messages(occurrences, stranger, at=at, policy=POLICY, recipient_for=_address) == []


def test_care_message_for_a_past_occurrence_waits_for_the_rest_hours_to_end() -> None:
    start, end = window(date(2026, 2, 1), date(2026, 2, 28))
    occurrences = [o for o in due_touchpoints(PLAN, FULL, start, end) if o.kind == "birthday"]
    night = datetime(2026, 3, 1, 23, 0, tzinfo=SHANGHAI)
    [late] = care_messages(occurrences, FULL, at=night, policy=POLICY, recipient_for=_address)
    assert late.next_attempt_at == datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)


# -- validation and storage ---------------------------------------------------------------


def test_care_plan_and_policy_round_trip_through_json() -> None:
    plan = CarePlan(
        leap_day_birthdays=LeapDayBirthday.MAR_1,
        spring_festivals=frozenset({date(2051, 2, 11)}),
    )
    assert from_json(CarePlan, to_json(plan)) == plan
    policy = CarePolicy(plan=plan, horizon=timedelta(days=14))
    assert from_json(CarePolicy, to_json(policy)) == policy
    assert from_json(CareSubject, to_json(FULL)) == FULL


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"anchor": CareAnchor.BIRTHDAY, "every_months": 12}, "every_months"),
        ({"anchor": CareAnchor.HANDED_OVER, "count": 3}, "count"),
        ({"anchor": CareAnchor.HANDED_OVER, "every_months": 0}, "every_months"),
        ({"anchor": CareAnchor.HANDED_OVER, "body": "{address}"}, "body"),
        ({"anchor": CareAnchor.HANDED_OVER, "local_time": time(10, tzinfo=UTC)}, "local_time"),
        ({"anchor": "sometime"}, "anchor"),
    ],
)
def test_touchpoint_rules_are_validated(fields: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        CareTouchpoint(kind="k", **fields)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == path


def test_a_plan_needs_distinct_kinds_and_one_festival_date_per_year() -> None:
    twice = CareTouchpoint(kind="call", anchor=CareAnchor.JOB_COMPLETED, days=1)
    with pytest.raises(ValidationError, match="touchpoints"):
        CarePlan(touchpoints=(twice, twice))
    with pytest.raises(ValidationError, match="spring_festivals"):
        CarePlan(spring_festivals=frozenset({date(2051, 2, 11), date(2051, 2, 12)}))
    with pytest.raises(ValidationError, match="tz"):
        subject(tz="Mars/Olympus")
    with pytest.raises(ValidationError, match="kind"):
        PLAN.touchpoint("unknown")
    assert PLAN.touchpoint("birthday").anchor is CareAnchor.BIRTHDAY


# -- wrong types and extreme values -----------------------------------------------------------


#: A week with FULL's next-day call in it.
NEXT_WEEK = (date(2026, 1, 30), date(2026, 2, 6))


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: subject(name=5), "name"),
        (lambda: subject(tz=5), "tz"),
        (lambda: subject(tz="Asia/" + "x" * 100_000), "tz"),
        (lambda: subject(rest_hours="22:00-08:00"), "rest_hours"),
        (lambda: subject(birthday=datetime(1990, 1, 1, tzinfo=UTC)), "birthday"),
        (lambda: CareTouchpoint(kind="k", anchor="birthday", channel=5), "channel"),  # type: ignore[arg-type]
        (lambda: CarePolicy(plan="default"), "plan"),  # type: ignore[arg-type]
        (lambda: CarePlan(leap_day_birthdays="feb_29"), "leap_day_birthdays"),
        (
            lambda: attrs.evolve(due_touchpoints(PLAN, FULL, *window(*NEXT_WEEK))[0], at="now"),  # type: ignore[arg-type]
            "at",
        ),
    ],
)
def test_care_records_refuse_wrong_types_at_construction(build: object, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()  # type: ignore[operator]
    assert info.value.errors[0][0] == path


@pytest.mark.parametrize(
    "template",
    ["{name.__class__}", "{name[0]}", "{name!r}", "{0}", "{}", "{name:>100000}", "{name:{date}}"],
)
def test_templates_use_only_the_plain_placeholders(template: str) -> None:
    with pytest.raises(ValidationError) as info:
        CareTouchpoint(kind="k", anchor=CareAnchor.BIRTHDAY, body=template)
    assert info.value.errors[0][0] == "body"
    assert CareTouchpoint(kind="k", anchor=CareAnchor.BIRTHDAY, body="{name:>10} {date}")


@pytest.mark.parametrize("year", ["2024", 2024.0, True, [2024], None])
def test_spring_festival_needs_a_whole_year(year: object) -> None:
    with pytest.raises(ValidationError) as info:
        spring_festival(year)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == "year"


def test_windows_past_the_representable_dates_are_validation_errors() -> None:
    late = (datetime(9999, 12, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC))
    early = (datetime(1, 1, 1, tzinfo=UTC), datetime(1, 2, 1, tzinfo=UTC))
    century = CarePlan(
        touchpoints=(CareTouchpoint(kind="k", anchor=CareAnchor.HANDED_OVER, years=1200),)
    )
    for plan, who, (start, end) in (
        (PLAN, FULL, late),
        (PLAN, FULL, early),
        (century, subject(handed_over_on=date(9000, 1, 1)), window(*NEXT_WEEK)),
    ):
        with pytest.raises(ValidationError) as info:
            due_touchpoints(plan, who, start, end)
        assert info.value.errors[0][0] == "end"


def test_schedules_refuse_what_is_not_a_plan_a_subject_or_occurrences() -> None:
    start, end = window(*NEXT_WEEK)
    with pytest.raises(ValidationError, match="plan"):
        due_touchpoints("default", FULL, start, end)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="subject"):
        due_touchpoints(PLAN, {"customer_id": "C-1"}, start, end)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"occurrences\.0"):
        care_messages(["care"], FULL, at=start, policy=POLICY, recipient_for=lambda *_: "x")  # type: ignore[list-item]


def test_every_customer_id_has_a_care_key() -> None:
    key = care_key("C-\ud800", "birthday", date(2026, 1, 1))
    assert key.startswith("care-birthday-20260101-")
    assert key != care_key("C-\ud801", "birthday", date(2026, 1, 1))


# -- holiday greetings (节日问候) -----------------------------------------------------------

#: Mid-Autumn Festival and the National Day week of 2026, as a business calendar has them.
HOLIDAYS = frozenset(
    {date(2026, 9, 25), *(date(2026, 10, 1) + timedelta(days=n) for n in range(7))}
)


def greetings(plan: CarePlan, holidays: frozenset[date]) -> list[CareOccurrence]:
    start, end = window(date(2026, 9, 1), date(2026, 10, 31))
    found = due_touchpoints(plan, subject(), start, end, holidays=holidays)
    return [o for o in found if o.kind == "holiday_greeting"]


def test_holiday_greeting_on_the_first_day_of_each_business_calendar_holiday() -> None:
    # Rule: holiday greetings (节日问候) from the business calendar's holidays, one per
    # holiday (a holiday week is one holiday), on its first day at the plan's local time.
    found = greetings(PLAN, HOLIDAYS)
    assert [(o.on, o.anchor_date) for o in found] == [
        (date(2026, 9, 25), date(2026, 9, 25)),
        (date(2026, 10, 1), date(2026, 10, 1)),
    ]
    assert [o.at.astimezone(SHANGHAI).time() for o in found] == [time(10), time(10)]
    assert found[0].anchor is CareAnchor.HOLIDAY


def test_holiday_greeting_comes_from_the_policys_calendar() -> None:
    # Rule: the holidays are the policy calendar's (calendar.holidays).
    from csdomain.calendar import BusinessCalendar

    calendar = BusinessCalendar.office("Asia/Shanghai", holidays=HOLIDAYS)
    assert [o.on for o in greetings(PLAN, calendar.holidays)] == [
        date(2026, 9, 25),
        date(2026, 10, 1),
    ]
    assert greetings(PLAN, frozenset()) == []


def test_holiday_greeting_the_day_before_with_an_offset() -> None:
    # Rule: a plan may greet on the eve instead (days=-1), still once per holiday.
    eve = CarePlan(
        touchpoints=(CareTouchpoint(kind="holiday_greeting", anchor="holiday", days=-1),)
    )
    assert [o.on for o in greetings(eve, HOLIDAYS)] == [date(2026, 9, 24), date(2026, 9, 30)]


def test_holiday_greetings_are_idempotent_per_customer_and_day() -> None:
    # Rule: materialising the same window twice gives the same keys (no double greeting).
    first = [o.idempotency_key for o in greetings(PLAN, HOLIDAYS)]
    assert first == [o.idempotency_key for o in greetings(PLAN, HOLIDAYS)]
    assert first[0] == care_key("C-1", "holiday_greeting", date(2026, 9, 25))


@pytest.mark.parametrize("bad", ["2026-10-01", [datetime(2026, 10, 1, tzinfo=UTC)], [1]])
def test_holidays_must_be_dates(bad: object) -> None:
    start, end = window(date(2026, 9, 1), date(2026, 10, 31))
    with pytest.raises(ValidationError) as caught:
        due_touchpoints(PLAN, subject(), start, end, holidays=bad)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == "holidays"


def test_a_holiday_touchpoint_repeats_by_itself() -> None:
    with pytest.raises(ValidationError) as caught:
        CareTouchpoint(kind="h", anchor=CareAnchor.HOLIDAY, every_months=12)
    assert caught.value.errors[0][0] == "every_months"
