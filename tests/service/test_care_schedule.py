"""The desk's care schedule greets customers on the business calendar's holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.errors import ValidationError
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


def test_care_and_notices_are_written_in_the_customers_language() -> None:
    # Rule: a customer whose file names a language gets messages in it; others get the
    # policy's (zh-CN by default).
    from csdomain import Money, OrderLine
    from csdomain.orders import ConsigneeInfo

    clock = FixedClock(datetime(2026, 9, 20, 2, tzinfo=UTC))
    root = Actor.superuser("root")
    with ServiceDesk(open_store("memory://"), clock=clock) as desk:
        english, _ = desk.register_customer(
            name="Ann Lee",
            city="Wuhan",
            phone="13800138000",
            birthday=date(1990, 10, 1),
            language="en",
            by=root,
        )
        chinese, _ = desk.register_customer(
            name="陈伟", city="Wuhan", phone="13900139000", birthday=date(1990, 10, 1), by=root
        )
        [en_birthday] = [m for m in desk.schedule_care(english.id, by=root) if m.kind == "birthday"]
        [zh_birthday] = [m for m in desk.schedule_care(chinese.id, by=root) if m.kind == "birthday"]
        assert (en_birthday.language, zh_birthday.language) == ("en", "zh-CN")
        assert "birthday" in en_birthday.body.lower()
        assert "生日" in zh_birthday.body
        desk.receive_stock("AB-100", good=5, by=root)
        to = ConsigneeInfo("Ann Lee", "13800138000", "1 Luoyu Rd", "430074", "Lee Lab")
        line = OrderLine("AB-100", 1, Money.of("10", "CNY"))
        order = desk.place_order(english.id, channel="online", lines=[line], consignee=to, by=root)
        desk.confirm_order(order.id, by=root)  # the order-confirmed notice goes to the customer
        desk.relay_outbox(by=root)
        notices = [m for m in desk.outbox(by=root, status="all") if m.customer_id == english.id]
        assert notices
        assert {m.language for m in notices if m.source != "care"} == {"en"}
        assert order.customer_id == english.id
    with (
        pytest.raises(ValidationError) as bad,
        ServiceDesk(open_store("memory://"), clock=clock) as desk,
    ):
        desk.register_customer(name="X", city="Wuhan", language="not a tag!", by=root)
    assert "language" in str(bad.value)


def test_a_delivered_care_touch_point_goes_into_the_interaction_log(tmp_path: object) -> None:
    # Rule: care touch-points write to the customer's interaction log (联系者报告制度), when the
    # message is delivered, in the unit of work that records the delivery.
    from pathlib import Path

    from csdomain.kinds import INTERACTIONS
    from csdomain.notifiers import SmsFileNotifier
    from csdomain.plugins import get_plugin_manager

    pm = get_plugin_manager()
    pm.register(SmsFileNotifier(str(Path(str(tmp_path)) / "sms.jsonl")))
    clock = FixedClock(datetime(2026, 9, 20, 2, tzinfo=UTC))
    with ServiceDesk(open_store("memory://"), clock=clock, plugin_manager=pm) as desk:
        customer, _ = desk.register_customer(
            name="Huake Lab", city="Wuhan", phone="13800138000", by=CLERK
        )
        [call] = desk.schedule_care(customer.id, by=CLERK, job_completed_on=date(2026, 9, 19))
        assert call.not_before is not None
        clock.set(call.not_before)
        assert desk.dispatcher().run_once().delivered == 1
        with desk.store.unit_of_work(readonly=True) as uow:
            [entry] = uow.repo(INTERACTIONS).find(customer_id=customer.id)
    assert (entry.source, entry.subject_id, entry.channel) == ("care", call.id, "message")
