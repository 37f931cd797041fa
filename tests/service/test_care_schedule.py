"""The desk's care schedule greets customers on the business calendar's holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.service import ServiceDesk
from csdomain.store import open_store


CLERK = Actor("li.specialist", {"specialist"})


def test_schedule_care_greets_on_the_first_day_of_each_holiday_of_the_calendar() -> None:
    # Rule: holiday greetings (节日问候) come from the business calendar's holidays, once per
    # holiday however many days it lasts (National Day's Golden Week is one greeting); the
    # month from 20 September 2026 holds Mid-Autumn (25 September) and National Day.
    china = BusinessCalendar.for_country("CN", years=2026)
    clock = FixedClock(datetime(2026, 9, 20, 2, tzinfo=UTC))
    with ServiceDesk(open_store("memory://"), clock=clock, calendar=china) as desk:
        customer, _ = desk.register_customer(
            name="Huake Lab", city="Wuhan", phone="13800138000", by=CLERK
        )
        messages = desk.schedule_care(customer.id, by=CLERK)
    greetings = [m for m in messages if m.kind == "holiday_greeting"]
    assert [m.not_before.date() for m in greetings if m.not_before] == [
        date(2026, 9, 25),
        date(2026, 10, 1),
    ]


def test_a_calendar_without_holidays_sends_no_greetings() -> None:
    # Rule: no holiday on the calendar, no greeting (the default calendar has none).
    clock = FixedClock(datetime(2026, 9, 20, 2, tzinfo=UTC))
    with ServiceDesk(open_store("memory://"), clock=clock) as desk:
        customer, _ = desk.register_customer(
            name="Huake Lab", city="Wuhan", phone="13800138000", by=CLERK
        )
        messages = desk.schedule_care(customer.id, by=CLERK)
    assert [m for m in messages if m.kind == "holiday_greeting"] == []
