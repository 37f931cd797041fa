"""Notifications in the store: outbox relay, dispatcher, quiet hours, care schedule, CLI."""

from __future__ import annotations

import json
import logging
import threading
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import attrs
import pluggy
import pytest

from csdomain import cli
from csdomain.auth import Actor
from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.complaints import (
    ComplaintCategory,
    ComplaintEscalated,
    ComplaintNature,
    ComplaintReceived,
    ComplaintUrgency,
    EscalationReason,
)
from csdomain.customers import Customer
from csdomain.desk.base import use_cases
from csdomain.desk.notifications import (
    ESCALATION_NOTICES_PLUGIN,
    OUTBOX_FAILED,
    Dispatcher,
    DispatchSummary,
    NotificationDesk,
    OutboxStatus,
)
from csdomain.errors import (
    BackendUnavailable,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.kinds import ACCESS_LOG, CUSTOMERS, MESSAGES
from csdomain.notify import (
    Deduplicator,
    Message,
    MessageStatus,
    MessageTemplate,
    MessageTemplates,
    NotificationPolicy,
    WaitReason,
)
from csdomain.orders import OrderConfirmedBySalesperson, OrderShipped, ShipmentLine, ShippingMode
from csdomain.plugins import get_plugin_manager
from csdomain.policy import Policy
from csdomain.store import OutboxEntry, Repository, Store, open_store


START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
LATE = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai: rest hours
MORNING_AFTER = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
OPERATOR = Actor("ops-1", frozenset({"specialist"}), name="Wang Fang")
WAREHOUSE = Actor("wh-1", frozenset({"warehouse"}))
PHONE = "13800000000"


@attrs.frozen
class TechnicianOnTheWay(Event):
    """Test event: a technician is about to arrive (urgent notice)."""

    ticket_id: str
    customer_id: str


URGENT_NOTICES = MessageTemplates(
    (
        MessageTemplate(
            event_type="TechnicianOnTheWay",
            kind="technician_on_the_way",
            urgent=True,
            body="Technician for ticket {ticket_id} arrives in 30 minutes.",
        ),
    )
)


class Receiver:
    """A notifier plugin in front of a receiver that drops duplicates by idempotency key.

    ``fail_first`` attempts raise before reaching the receiver; ``lose_first`` attempts
    reach the receiver and then raise (the answer got lost: at-least-once delivery).
    """

    def __init__(
        self, channels: tuple[str, ...] = ("sms",), *, fail_first: int = 0, lose_first: int = 0
    ) -> None:
        self.channels = channels
        self.fail_first = fail_first
        self.lose_first = lose_first
        self.calls: list[Message] = []
        self.seen = Deduplicator()
        self.effects: list[str] = []
        self.during: Callable[[Message], None] | None = None

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel not in self.channels:
            return None
        self.calls.append(message)
        attempt = len(self.calls)
        if attempt <= self.fail_first:
            msg = f"gateway timeout #{attempt}"
            raise ConnectionError(msg)
        if self.during is not None:
            during, self.during = self.during, None
            during(message)
        if self.seen.first_time(message.idempotency_key):
            self.effects.append(message.id)
        if attempt <= self.fail_first + self.lose_first:
            msg = f"no answer #{attempt}"
            raise TimeoutError(msg)
        return True


# -- fixtures and helpers --------------------------------------------------------------


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False)


def make_desk(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, **notifications: Any
) -> NotificationDesk:
    policy = Policy(notifications=NotificationPolicy(**notifications))
    return NotificationDesk(store, policy=policy, clock=clock, plugin_manager=pm)


def add_customer(store: Store, customer_id: str = "C-1", **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "id": customer_id,
        "code": f"SH-202611-{customer_id}-001",
        "name": "Li Lei",
        "phone": PHONE,
        "email": "li@example.com",
    }
    values.update(fields)
    customer = Customer(**values)
    with store.unit_of_work() as uow:
        uow.repo(CUSTOMERS).add(customer)
    return customer


def emit(store: Store, *events: Event, at: datetime = START) -> list[OutboxEntry]:
    with store.unit_of_work() as uow:
        return [uow.emit(event, at=at) for event in events]


def shipped(order_id: str = "SO-202611-0001", customer_id: str = "C-1") -> OrderShipped:
    return OrderShipped(
        order_id=order_id,
        customer_id=customer_id,
        lines=(ShipmentLine("AB-100", 2),),
        mode=ShippingMode.EXPRESS,
        tracking="SF123",
        expected_earliest=date(2026, 11, 4),
        expected_latest=date(2026, 11, 5),
        at=START,
        by="wh-1",
    )


def received(complaint_id: str = "CP-1", customer_id: str = "C-1") -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=complaint_id,
        customer_id=customer_id,
        urgency=ComplaintUrgency.ORDINARY,
        category=ComplaintCategory.SERVICE,
        nature=ComplaintNature.NORMAL,
        at=START,
        respond_by=START + timedelta(minutes=30),
        resolve_by=START + timedelta(hours=24),
        owner_role="specialist",
        owner_id="ops-1",
        by="ops-1",
    )


def escalated(owner_id: str | None = "mgr-7") -> ComplaintEscalated:
    return ComplaintEscalated(
        complaint_id="CP-1",
        from_level=1,
        to_level=2,
        reason=EscalationReason.RESPONSE_OVERDUE,
        at=START,
        owner_role="department_manager",
        owner_id=owner_id,
    )


def stored_messages(store: Store) -> list[Message]:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(MESSAGES).find(order_by="created_at")


def put_message(store: Store, message: Message) -> Message:
    with store.unit_of_work() as uow:
        uow.repo(MESSAGES).add(message)
    return message


def claim_and_crash(store: Store, message_id: str) -> None:
    """A worker claims the message at START and dies before recording an outcome."""
    with store.unit_of_work() as uow:
        repo = uow.repo(MESSAGES)
        repo.update(repo.get(message_id).claim("crashed", START, timedelta(minutes=5)))


def note(at: datetime = START, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "channel": "sms",
        "recipient": PHONE,
        "kind": "dealer_announcement",
        "body": "New price list from 1 December.",
        "at": at,
        "source": "manual:price-list",
    }
    values.update(fields)
    return Message.create(**values)


def drive(dispatcher: Dispatcher, clock: FixedClock, rounds: int = 20) -> DispatchSummary:
    """Run rounds, moving the clock to the next due message whenever a round is idle."""
    total = DispatchSummary()
    for _ in range(rounds):
        summary = dispatcher.run_once()
        total += summary
        if summary.idle:
            pending = [m.due_at for m in stored_messages(dispatcher.store) if m.due_at]
            if not pending:
                break
            clock.set(max(clock.now(), min(pending)))
    return total


# -- the relay --------------------------------------------------------------------------


def test_relay_turns_shipment_and_complaint_events_into_messages_once(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    desk = make_desk(store, clock, pm)
    emit(store, shipped(), received())

    assert desk.relay_outbox(by=OPERATOR) == 2
    messages = stored_messages(store)
    assert sorted(m.kind for m in messages) == ["complaint_received", "order_shipped"]
    assert {(m.channel, m.recipient, m.customer_id) for m in messages} == {("sms", PHONE, "C-1")}
    assert {(m.status, m.next_attempt_at) for m in messages} == {(MessageStatus.PENDING, START)}
    with store.unit_of_work(readonly=True) as uow:
        entries = uow.outbox.find()
    assert {e.status for e in entries} == {"processed"}

    with store.unit_of_work() as uow:  # replay: the same events are relayed again
        for entry in uow.outbox.find():
            uow.outbox.update(attrs.evolve(entry, status="pending", processed_at=None))
    assert desk.relay_outbox(by=OPERATOR) == 2
    assert [m.id for m in stored_messages(store)] == [m.id for m in messages]
    assert desk.relay_outbox(by=OPERATOR) == 0


def test_relay_marks_events_without_template_or_address_processed(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store, "C-2", phone="")
    desk = make_desk(store, clock, pm)
    emit(
        store,
        OrderConfirmedBySalesperson(order_id="SO-1", salesperson="s-1", at=START),
        shipped(customer_id="C-2"),
        shipped(order_id="SO-2", customer_id="C-unknown"),
    )
    assert desk.relay_outbox(by=OPERATOR) == 3
    assert stored_messages(store) == []
    with store.unit_of_work(readonly=True) as uow:
        assert uow.outbox.count(status="processed") == 3


def test_relay_works_in_batches_up_to_the_limit(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    desk = make_desk(store, clock, pm, batch_size=2)
    emit(store, *(shipped(order_id=f"SO-{n}") for n in range(5)))
    assert desk.relay_outbox(by=OPERATOR, limit=3) == 3
    assert len(stored_messages(store)) == 3
    assert desk.relay_outbox(by=OPERATOR) == 2
    assert len(stored_messages(store)) == 5


def test_event_that_cannot_be_rendered_is_marked_failed_without_blocking_the_outbox(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    add_customer(store)
    broken = MessageTemplates(
        (MessageTemplate(event_type="ComplaintReceived", kind="broken", body="{no_such_field}"),)
    )
    pm.register(broken)
    desk = make_desk(store, clock, pm)
    emit(store, received(), shipped())
    with caplog.at_level(logging.WARNING, logger="csdomain.dispatch"):
        assert desk.relay_outbox(by=OPERATOR) == 2
    with store.unit_of_work(readonly=True) as uow:
        statuses = {e.type: e.status for e in uow.outbox.find()}
    assert statuses == {"ComplaintReceived": OUTBOX_FAILED, "OrderShipped": "processed"}
    assert [m.kind for m in stored_messages(store)] == ["order_shipped"]
    assert "no_such_field" in caplog.text


def test_relay_needs_the_send_notifications_permission(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    desk = make_desk(store, clock, pm)
    with pytest.raises(PermissionDenied):
        desk.relay_outbox(by=WAREHOUSE)
    with pytest.raises(ValidationError, match="limit"):
        desk.relay_outbox(by=OPERATOR, limit=0)


def test_hook_csdomain_messages_escalation_notifies_the_new_owner(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    desk = make_desk(store, clock, pm)
    emit(store, escalated("mgr-7"), escalated(owner_id=None), at=LATE)
    clock.set(LATE)
    assert desk.relay_outbox(by=OPERATOR) == 2
    notices = stored_messages(store)
    assert sorted(m.recipient for m in notices) == ["mgr-7", "role:department_manager"]
    assert {(m.channel, m.kind, m.customer_id) for m in notices} == {
        ("log", "complaint_escalated", None)
    }
    # Rule: staff notices are written in the policy's language (zh-CN by default)
    assert notices[0].subject == "投诉 CP-1 已升级至第 2 级"
    assert "响应超时" in notices[0].body
    assert notices[0].language == "zh-CN"
    with caplog.at_level(logging.INFO, logger="csdomain.notify"):
        summary = desk.dispatcher().run_once()  # staff notices are not held by rest hours
    assert summary.delivered == 2
    assert "mgr-7" in caplog.text


def test_escalation_notices_can_be_blocked_by_plugin_name(store: Store, clock: FixedClock) -> None:
    pm = get_plugin_manager(load_entrypoints=False, blocked=[ESCALATION_NOTICES_PLUGIN])
    desk = make_desk(store, clock, pm)
    emit(store, escalated())
    assert desk.relay_outbox(by=OPERATOR) == 1
    assert stored_messages(store) == []


def test_relaying_registers_no_plugin(store: Store, clock: FixedClock) -> None:
    """Rule: built-in mappings come from the plugin manager, never from a use case."""
    pm = get_plugin_manager(load_entrypoints=False)
    before = pm.list_name_plugin()
    desk = make_desk(store, clock, pm)
    emit(store, escalated(), shipped())
    assert desk.relay_outbox(by=OPERATOR) == 2
    assert pm.list_name_plugin() == before


# -- the dispatcher ------------------------------------------------------------------------


def test_hook_csdomain_deliver_dispatcher_delivers_through_a_registered_notifier(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    emit(store, shipped(), received())

    summary = desk.dispatcher(worker_id="w-1").run_once()

    assert summary == DispatchSummary(relayed=2, delivered=2)
    assert sorted(m.kind for m in receiver.calls) == ["complaint_received", "order_shipped"]
    for message in stored_messages(store):
        assert message.status is MessageStatus.DELIVERED
        assert message.delivered_at == START
        assert [c.to for c in message.history] == ["claimed", "delivered"]
        assert message.history[0].by == "w-1"
    assert desk.dispatcher().run_once().idle


def test_failed_delivery_is_retried_with_backoff_and_reaches_the_receiver_once(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver(fail_first=2, lose_first=1)
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    message = put_message(store, note())
    dispatcher = desk.dispatcher()

    assert dispatcher.run_once() == DispatchSummary(retried=1)
    [first] = stored_messages(store)
    assert first.next_attempt_at == START + timedelta(minutes=1)
    assert first.last_error == "ConnectionError: gateway timeout #1"
    assert dispatcher.run_once().idle  # not due before the backoff has passed

    clock.advance(timedelta(minutes=1))
    assert dispatcher.run_once() == DispatchSummary(retried=1)
    [second] = stored_messages(store)
    assert second.next_attempt_at == clock.now() + timedelta(minutes=2)

    clock.advance(timedelta(minutes=2))
    assert dispatcher.run_once() == DispatchSummary(retried=1)  # received, answer lost
    clock.advance(timedelta(minutes=4))
    assert dispatcher.run_once() == DispatchSummary(delivered=1)

    [done] = stored_messages(store)
    assert done.status is MessageStatus.DELIVERED
    assert done.attempts == 4
    assert len(receiver.calls) == 4
    assert receiver.effects == [message.id]  # the duplicate was dropped by its key


def test_message_is_dead_lettered_after_max_attempts_and_keeps_the_last_error(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver(fail_first=99)
    pm.register(receiver)
    desk = make_desk(store, clock, pm, max_attempts=3)
    message = put_message(store, note())

    total = drive(desk.dispatcher(), clock)

    assert total == DispatchSummary(retried=2, dead=1)
    [dead] = stored_messages(store)
    assert dead.status is MessageStatus.DEAD
    assert dead.attempts == 3
    assert dead.last_error == "ConnectionError: gateway timeout #3"
    assert [m.id for m in desk.outbox(by=OPERATOR, status="dead")] == [message.id]
    assert desk.outbox(by=OPERATOR) == []


def test_retry_message_requeues_a_dead_letter(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver(fail_first=3)
    pm.register(receiver)
    desk = make_desk(store, clock, pm, max_attempts=3)
    message = put_message(store, note())
    drive(desk.dispatcher(), clock)
    clock.advance(timedelta(hours=1))

    again = desk.retry_message(message.id, by=OPERATOR)

    assert again.status is MessageStatus.PENDING
    assert again.attempts == 0
    assert again.next_attempt_at == clock.now()
    assert again.history[-1].by == OPERATOR.id
    assert [m.id for m in desk.outbox(by=OPERATOR)] == [message.id]
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=1)
    assert receiver.effects == [message.id]
    with pytest.raises(InvalidTransition):
        desk.retry_message(message.id, by=OPERATOR)


def test_cancel_message_withdraws_a_pending_message(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    message = put_message(store, note())

    cancelled = desk.cancel_message(message.id, reason="customer asked", by=OPERATOR)

    assert cancelled.status is MessageStatus.CANCELLED
    assert cancelled.history[-1].note == "customer asked"
    assert desk.dispatcher().run_once().idle
    assert receiver.calls == []
    with pytest.raises(ValidationError, match="reason"):
        desk.cancel_message(message.id, reason=" ", by=OPERATOR)
    with pytest.raises(NotFound):
        desk.retry_message("msg-none", by=OPERATOR)


def test_quiet_hours_hold_a_customer_message_until_rest_hours_end(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)  # no own rest hours: the policy's 21:00-08:00 Asia/Shanghai
    receiver = Receiver()
    pm.register(receiver)
    clock.set(LATE)
    desk = make_desk(store, clock, pm)
    emit(store, shipped(), at=LATE)

    assert desk.dispatcher().run_once() == DispatchSummary(relayed=1)
    [held] = stored_messages(store)
    assert held.not_before == MORNING_AFTER
    clock.set(MORNING_AFTER - timedelta(seconds=1))
    assert desk.dispatcher().run_once().idle
    clock.set(MORNING_AFTER)
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=1)
    assert [m.kind for m in receiver.calls] == ["order_shipped"]


def test_customer_rest_hours_apply_instead_of_the_default(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store, rest_hours=QuietHours(time(0), time(0), "Asia/Shanghai"))  # none
    receiver = Receiver()
    pm.register(receiver)
    clock.set(LATE)
    desk = make_desk(store, clock, pm)
    emit(store, shipped(), at=LATE)
    assert desk.dispatcher().run_once() == DispatchSummary(relayed=1, delivered=1)


def test_urgent_message_goes_out_during_rest_hours(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    receiver = Receiver()
    pm.register(receiver)
    pm.register(URGENT_NOTICES)
    clock.set(LATE)
    desk = make_desk(store, clock, pm)
    emit(store, TechnicianOnTheWay(ticket_id="RT-7", customer_id="C-1"), shipped(), at=LATE)

    assert desk.dispatcher().run_once() == DispatchSummary(relayed=2, delivered=1)
    assert [m.kind for m in receiver.calls] == ["technician_on_the_way"]
    assert receiver.calls[0].urgent


def test_expired_lease_is_reclaimed_by_another_worker(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    message = put_message(store, note())
    claim_and_crash(store, message.id)

    assert desk.dispatcher().run_once().idle  # the lease is still active
    clock.advance(timedelta(minutes=5))
    assert desk.dispatcher(worker_id="w-2").run_once() == DispatchSummary(delivered=1)
    [done] = stored_messages(store)
    assert done.attempts == 2
    assert done.history[-2].by == "w-2"


def test_expired_last_lease_is_dead_lettered(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    desk = make_desk(store, clock, pm, max_attempts=1)
    message = put_message(store, note())
    claim_and_crash(store, message.id)
    clock.advance(timedelta(minutes=6))

    assert desk.dispatcher().run_once() == DispatchSummary(dead=1)
    [dead] = stored_messages(store)
    assert dead.status is MessageStatus.DEAD
    assert dead.last_error == "lease expired without outcome"


def test_outcome_after_a_lost_lease_is_not_saved_and_the_receiver_dedupes(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    message = put_message(store, note())
    inner: list[DispatchSummary] = []

    def slow_gateway(_message: Message) -> None:
        clock.advance(timedelta(minutes=6))  # the first worker's lease runs out meanwhile
        inner.append(desk.dispatcher(worker_id="w-2").run_once())

    receiver.during = slow_gateway
    outer = desk.dispatcher(worker_id="w-1").run_once()

    assert inner == [DispatchSummary(delivered=1)]
    assert outer == DispatchSummary(skipped=1)
    [done] = stored_messages(store)
    assert done.status is MessageStatus.DELIVERED
    assert done.claimed_by == "w-2"
    assert len(receiver.calls) == 2
    assert receiver.effects == [message.id]


def test_two_dispatchers_in_threads_deliver_each_message_once(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm, batch_size=10)
    for n in range(40):
        put_message(store, note(source=f"manual:{n}"))
    totals: list[DispatchSummary] = []

    def work(worker: str) -> None:
        totals.append(desk.dispatcher(worker_id=worker).run_forever(0, until_idle=True))

    threads = [threading.Thread(target=work, args=(f"w-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(t.delivered for t in totals) == 40
    assert len(receiver.effects) == 40
    assert len({m.idempotency_key for m in receiver.calls}) == len(receiver.calls)
    assert {m.status for m in stored_messages(store)} == {MessageStatus.DELIVERED}


def test_run_forever_stops_on_request_or_after_max_rounds(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    pm.register(Receiver())
    desk = make_desk(store, clock, pm)
    put_message(store, note())
    rounds: list[DispatchSummary] = []
    total = desk.dispatcher().run_forever(0, max_rounds=3, on_round=rounds.append)
    assert total == DispatchSummary(delivered=1)
    assert len(rounds) == 3

    stop = threading.Event()
    stop.set()
    assert desk.dispatcher().run_forever(60, stop=stop) == DispatchSummary()

    stopper = threading.Timer(0.05, stop.set)
    stop.clear()
    stopper.start()
    assert desk.dispatcher().run_forever(0.01, stop=stop).idle
    stopper.join()
    with pytest.raises(ValidationError, match="interval"):
        desk.dispatcher().run_forever(-1)


def test_an_unavailable_store_is_retried_not_taken_for_an_idle_one(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: a dispatcher run until idle does not stop because the store was busy once."""
    pm.register(Receiver())
    desk = make_desk(store, clock, pm)
    put_message(store, note())
    dispatcher = desk.dispatcher()
    real = dispatcher.run_once
    failures = iter([BackendUnavailable("database is locked")])

    def busy_once() -> DispatchSummary:
        for err in failures:
            raise err
        return real()

    monkeypatch.setattr(dispatcher, "run_once", busy_once)
    assert dispatcher.run_forever(0, until_idle=True) == DispatchSummary(delivered=1)

    always_busy = desk.dispatcher()

    def busy() -> DispatchSummary:
        raise BackendUnavailable("database is locked")

    monkeypatch.setattr(always_busy, "run_once", busy)
    with pytest.raises(BackendUnavailable):
        always_busy.run_forever(0, until_idle=True)


# -- care ----------------------------------------------------------------------------


def test_schedule_care_twice_creates_no_duplicates(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store, birthday=date(1990, 11, 20))
    desk = make_desk(store, clock, pm)

    first = desk.schedule_care(
        "C-1", by=OPERATOR, job_completed_on=date(2026, 11, 2), handed_over_on=date(2026, 10, 10)
    )
    assert [(m.kind, m.not_before) for m in first] == [
        ("next_day_call", datetime(2026, 11, 3, 2, 0, tzinfo=UTC)),
        ("handover_one_month", datetime(2026, 11, 10, 2, 0, tzinfo=UTC)),
        ("birthday", datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),
    ]
    assert {(m.channel, m.recipient, m.source) for m in first} == {("sms", PHONE, "care")}
    # written in the policy's language (zh-CN by default) like every other customer notice
    assert first[2].body == "Li Lei，祝您生日快乐！您的服务团队送上最美好的祝福。"  # noqa: RUF001
    assert first[2].language == "zh-CN"

    again = desk.schedule_care(
        "C-1", by=OPERATOR, job_completed_on=date(2026, 11, 2), handed_over_on=date(2026, 10, 10)
    )
    assert again == []
    assert len(stored_messages(store)) == 3


def test_scheduled_care_is_sent_when_due(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    receiver = Receiver()
    pm.register(receiver)
    desk = make_desk(store, clock, pm)
    [call] = desk.schedule_care("C-1", by=OPERATOR, job_completed_on=date(2026, 11, 2))
    assert desk.dispatcher().run_once().idle
    clock.set(call.not_before or START)
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=1)
    assert receiver.effects == [call.id]


def test_schedule_care_checks_customer_arguments_and_permission(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    add_customer(store)
    desk = make_desk(store, clock, pm)
    with pytest.raises(NotFound):
        desk.schedule_care("C-404", by=OPERATOR)
    with pytest.raises(ValidationError, match="handed_over_on"):
        desk.schedule_care("C-1", by=OPERATOR, handed_over_on="2026-10-10")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="plan"):
        desk.schedule_care("C-1", "default", by=OPERATOR)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        desk.schedule_care("C-1", by=WAREHOUSE)
    assert stored_messages(store) == []


def test_outbox_listing_rejects_an_unknown_status(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    desk = make_desk(store, clock, pm)
    put_message(store, note())
    assert len(desk.outbox(by=OPERATOR, status="all")) == 1
    with pytest.raises(ValidationError, match="status"):
        desk.outbox(by=OPERATOR, status="lost")


# -- the boundary ----------------------------------------------------------------------


def test_every_public_desk_method_is_a_use_case() -> None:
    """Rule: every use case goes through the one skeleton (arguments, permission, retry)."""
    public = {n for n in vars(NotificationDesk) if not n.startswith("_")}
    assert public <= set(use_cases(NotificationDesk))
    for spec in use_cases(NotificationDesk).values():
        assert spec.checks()  # every annotation is in the vocabulary


def test_outbox_statuses_are_the_message_statuses_and_all() -> None:
    assert typing.get_args(OutboxStatus) == ("all", *(s.value for s in MessageStatus))


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda desk: desk.relay_outbox(by=OPERATOR, limit=True), "limit"),
        (lambda desk: desk.relay_outbox(by=OPERATOR, limit=2**64), "limit"),
        (lambda desk: desk.outbox(by=OPERATOR, limit=1.5), "limit"),
        (lambda desk: desk.retry_message("", by=OPERATOR), "message_id"),
        (lambda desk: desk.retry_message(7, by=OPERATOR), "message_id"),
        (lambda desk: desk.cancel_message("msg-1", reason=1.5, by=OPERATOR), "reason"),
        (lambda desk: desk.cancel_message("msg-1", reason="x" * 20_001, by=OPERATOR), "reason"),
        (lambda desk: desk.schedule_care("C-1\x00", by=OPERATOR), "customer_id"),
        (lambda desk: desk.dispatcher(worker_id=""), "worker_id"),
        (lambda desk: desk.relay_outbox(by="ops-1"), "by"),
    ],
)
def test_desk_arguments_are_checked_before_anything_is_loaded(
    store: Store,
    clock: FixedClock,
    pm: pluggy.PluginManager,
    call: Callable[[NotificationDesk], object],
    path: str,
) -> None:
    desk = make_desk(store, clock, pm)
    with pytest.raises(ValidationError) as info:
        call(desk)
    assert info.value.errors[0][0] == path


def test_outbox_lists_by_status_member_and_names_every_choice(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    desk = make_desk(store, clock, pm)
    message = put_message(store, note())
    assert [m.id for m in desk.outbox(by=OPERATOR, status=MessageStatus.PENDING)] == [message.id]
    assert desk.outbox(by=OPERATOR, status=MessageStatus.DEAD) == []
    with pytest.raises(ValidationError) as info:
        desk.outbox(by=OPERATOR, status="lost")
    assert "'all'" in str(info.value)
    assert "'cancelled'" in str(info.value)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda d: d.run_forever(0, until_idle="yes"), "until_idle"),
        (lambda d: d.run_forever(0, until_idle=1), "until_idle"),
        (lambda d: d.run_forever(0, max_rounds=True), "max_rounds"),
        (lambda d: d.run_forever(0, max_rounds=0), "max_rounds"),
        (lambda d: d.run_forever(0, max_rounds=2**63), "max_rounds"),
        (lambda d: d.run_forever(float("inf")), "interval"),
        (lambda d: d.run_forever(1e300), "interval"),
        (lambda d: d.run_forever("5"), "interval"),
        (lambda d: d.run_forever(0, stop=True), "stop"),
        (lambda d: d.run_forever(0, on_round="print"), "on_round"),
        (lambda d: d.relay(limit=False), "limit"),
        (lambda d: d.dispatch(42), "message_id"),
        (lambda d: d.dispatch("msg\n1"), "message_id"),
        (lambda d: d.dispatch(), ""),
    ],
)
def test_dispatcher_entry_points_check_their_arguments_like_use_cases(
    store: Store,
    clock: FixedClock,
    pm: pluggy.PluginManager,
    call: Callable[[Dispatcher], object],
    path: str,
) -> None:
    """Rule: bools only bools, bounded whole numbers, ids that are ids, for the worker too."""
    dispatcher = make_desk(store, clock, pm).dispatcher()
    with pytest.raises(ValidationError) as info:
        call(dispatcher)
    assert info.value.errors[0][0] == path


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"retries": 0}, "retries"),
        ({"retries": True}, "retries"),
        ({"worker_id": " "}, "worker_id"),
        ({"worker_id": "w" * 101}, "worker_id"),
        ({"policy": Policy()}, "policy"),
        ({"store": "memory://"}, "store"),
        ({"clock": "system"}, "clock"),
    ],
)
def test_a_dispatcher_is_refused_wrong_arguments(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, arguments: dict[str, Any], path: str
) -> None:
    values: dict[str, Any] = {"store": store, "plugin_manager": pm, "clock": clock}
    values.update(arguments)
    with pytest.raises(ValidationError) as info:
        Dispatcher(**values)
    assert info.value.errors[0][0] == path


def test_a_concurrent_care_run_that_stored_the_messages_first_is_skipped(
    clock: FixedClock, pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: scheduling care twice at once stores each touch-point once (insert-only retry).

    On the memory backend, whose units of work do not lock each other out.
    """
    store = open_store("memory://")
    add_customer(store)
    desk = make_desk(store, clock, pm)
    real = Repository.add_many
    raced: list[Message] = []

    def racing(repo: Repository[Any], objs: Any, **kwargs: Any) -> int:
        objs = list(objs)
        if not raced and objs and isinstance(objs[0], Message):
            raced.extend(objs)  # another worker stores the same messages first
            with store.unit_of_work() as other:
                real(other.repo(MESSAGES), objs)
        return real(repo, objs, **kwargs)

    monkeypatch.setattr(Repository, "add_many", racing)
    assert desk.schedule_care("C-1", by=OPERATOR, job_completed_on=date(2026, 11, 2)) == []
    assert len(raced) == 1
    assert [m.id for m in stored_messages(store)] == [m.id for m in raced]
    store.close()


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = f"sqlite:///{tmp_path / 'cs.db'}"
    opened = open_store(url)
    try:
        yield url, opened
    finally:
        opened.close()


def test_cli_dispatch_once_prints_delivered_retried_and_dead(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    now = datetime.now(UTC)
    put_message(store, note(now, channel="log", recipient="ops", source="manual:log"))
    put_message(store, note(now, channel="pager", source="manual:pager"))

    assert cli.main(["dispatch", "--once", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "delivered 1, retried 1, dead-lettered 0" in out

    assert (
        cli.main(
            ["dispatch", "--loop", "--interval", "0", "--rounds", "2", "--json", "--store", url]
        )
        == 0
    )
    totals = json.loads(capsys.readouterr().out)
    outbox = totals.pop("outbox")
    assert outbox["counts"] == {
        "pending": 1,
        "claimed": 0,
        "delivered": 1,
        "dead": 0,
        "cancelled": 0,
    }
    assert outbox["waiting"]["backoff"] == 1
    assert outbox["next_due"] is not None
    assert totals.pop("released") == 0
    assert totals == {
        "rounds": 2,
        "relayed": 0,
        "delivered": 0,
        "retried": 0,
        "dead": 0,
        "skipped": 0,
        "deferred": 0,
        "held": 0,
    }


def test_cli_outbox_lists_and_retries_dead_letters(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    policy = NotificationPolicy()
    now = datetime.now(UTC) - timedelta(days=1)
    dead = note(now, channel="pager", source="manual:dead")
    for attempt in range(1, policy.max_attempts + 1):
        moment = dead.due_at or now
        dead = dead.claim("w-1", moment, policy.lease).mark_failed(
            f"pager offline #{attempt}", moment, policy
        )
    put_message(store, dead)
    pending = put_message(store, note(now, source="manual:pending"))

    assert cli.main(["outbox", "--store", url]) == 0
    out = capsys.readouterr().out
    assert pending.id in out
    assert dead.id not in out

    assert cli.main(["outbox", "--status", "dead", "--store", url]) == 0
    out = capsys.readouterr().out
    assert dead.id in out
    assert "pager offline #5" in out

    assert cli.main(["outbox", "--store", url, "retry", dead.id]) == 0
    assert f"requeued {dead.id}" in capsys.readouterr().out
    assert cli.main(["outbox", "retry", dead.id, "--store", url]) == 1
    assert "cannot requeue while pending" in capsys.readouterr().err

    assert cli.main(["outbox", "--status", "all", "--json", "--store", url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {(m["id"], m["status"]) for m in listed} == {
        (dead.id, "pending"),
        (pending.id, "pending"),
    }
    assert (
        cli.main(["outbox", "cancel", pending.id, "--reason", "sent by hand", "--store", url]) == 0
    )
    assert "cancelled" in capsys.readouterr().out
    assert cli.main(["outbox", "--status", "dead", "--store", url]) == 0
    assert "no dead messages" in capsys.readouterr().out


def test_cli_dispatch_registers_smtp_and_webhook_without_printing_secrets(
    cli_store: tuple[str, Store],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, store = cli_store
    now = datetime.now(UTC)
    put_message(store, note(now, channel="email", recipient="li@example.com", source="m:1"))
    put_message(store, note(now, channel="webhook", recipient="http://127.0.0.1:9/h", source="m:2"))
    monkeypatch.setenv("TEST_MAIL_PW", "mail-pass-7")
    monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret-7")

    # a webhook without its secret is a usage error of the command line (exit 2)
    assert (
        cli.main(["dispatch", "--once", "--store", url, "--webhook", "http://127.0.0.1:9/h"]) == 2
    )
    assert "CSDOMAIN_WEBHOOK_SECRET" in capsys.readouterr().err

    code = cli.main(
        [
            "dispatch",
            "--once",
            "--store",
            url,
            "--smtp",
            "smtp://cs@127.0.0.1:9?from=cs@example.com&timeout=2",
            "--smtp-password-env",
            "TEST_MAIL_PW",
            "--webhook",
            "http://127.0.0.1:9/h",
            "--webhook-secret-env",
            "TEST_HOOK_SECRET",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "SmtpNotifier" in captured.out
    assert "WebhookNotifier" in captured.out
    assert "retried 2" in captured.out
    errors = [m.last_error or "" for m in stored_messages(store)]
    assert all(e.startswith(("DeliveryError: email", "DeliveryError: webhook")) for e in errors)
    for text in (captured.out, captured.err, *errors):
        assert "mail-pass-7" not in text
        assert "hook-secret-7" not in text


@pytest.mark.parametrize("command", [["dispatch"], ["outbox"], ["outbox", "retry"]])
def test_cli_notification_commands_have_help_with_examples(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "--store" in out


def test_cli_dispatch_needs_once_or_loop(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["dispatch"])
    assert exit_info.value.code == 2
    assert "--once" in capsys.readouterr().err


# -- personal data in messages (issue #19 item 1) ------------------------------------------

SYSTEM = Actor.system()


def access_records(store: Store) -> list[tuple[str, str, str]]:
    with store.unit_of_work(readonly=True) as uow:
        records = uow.repo(ACCESS_LOG).find(order_by="key")
    return [(r.customer_id, r.actor_id, r.purpose) for r in records]


def personal_message(store: Store, desk: NotificationDesk) -> Message:
    add_customer(store, rest_hours=None)
    emit(store, shipped())
    desk.relay_outbox(by=OPERATOR)
    (message,) = desk.outbox(by=SYSTEM, status="all")
    return message


def test_reading_messages_leaves_an_access_record(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: nobody reads a customer's data without it being on record (docs/domain.md 1)
    desk = make_desk(store, clock, pm)
    message = personal_message(store, desk)
    assert access_records(store) == []
    (listed,) = desk.outbox(by=OPERATOR, status="all")
    assert listed.recipient == PHONE
    assert desk.get_message(message.id, by=OPERATOR).recipient == PHONE
    assert sorted(access_records(store)) == [
        ("C-1", "ops-1", "message"),
        ("C-1", "ops-1", "outbox"),
    ]


def test_messages_shown_without_customer_read_are_masked(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: an actor without customer.read (the command line's system role) sees no
    # address and no personal data in the text, and records nothing
    desk = make_desk(store, clock, pm)
    message = personal_message(store, desk)
    shown = desk.get_message(message.id, by=SYSTEM)
    assert (shown.recipient, shown.customer_id, shown.status) == ("[masked]", "C-1", "pending")
    assert access_records(store) == []
    cancelled = desk.cancel_message(message.id, reason="Li Lei asked us to stop", by=SYSTEM)
    assert cancelled.recipient == "[masked]"
    assert cancelled.history[-1].note == "[masked] asked us to stop"
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.repo(MESSAGES).get(message.id)
    assert (stored.recipient, stored.history[-1].note) == (PHONE, "Li Lei asked us to stop")


def test_a_message_body_naming_the_customer_is_masked(store: Store, clock: FixedClock) -> None:
    # Rule: the rendered text is personal data too
    add_customer(store)
    desk = NotificationDesk(store, clock=clock)
    text = "Dear Li Lei, call 138-0000-0000 or write to li@example.com."
    message = Message.create(
        customer_id="C-1", kind="manual", body=text, recipient=PHONE, channel="sms", at=START
    )
    with store.unit_of_work() as uow:
        uow.repo(MESSAGES).add(message)
    shown = desk.get_message(message.id, by=SYSTEM)
    assert shown.body == "Dear [masked], call [masked] or write to [masked]."


# -- dispatcher identities (issue #19 item 3) ------------------------------------------------


def test_a_restarted_worker_knows_its_own_claims_however_its_id_is_spelt(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: identities are compared normalised (auth.same_identity), also claimed-by
    desk = make_desk(store, clock, pm)
    message = personal_message(store, desk)
    with store.unit_of_work() as uow:
        repo = uow.repo(MESSAGES)
        repo.update(repo.get(message.id).claim("Worker-7 ", START, timedelta(hours=1)))
    worker = desk.dispatcher(worker_id="worker-7")
    assert worker.release_stale_claims() == 1


# -- announcements to dealers (issue #20) -----------------------------------------------------


def test_an_announcement_goes_to_every_dealer_through_the_outbox(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: announcements to dealers: one message to every dealer (docs/domain.md 7)
    desk = make_desk(store, clock, pm)
    add_customer(store, "D-1", customer_class="dealer", email="d1@example.com")
    add_customer(store, "D-2", customer_class="dealer", email="d2@example.com")
    add_customer(store, "C-1")  # not a dealer
    announcement = desk.announce_to_dealers(
        title="New price list", text="The 2027 price list applies from 1 January.", by=OPERATOR
    )
    assert (announcement.id, announcement.customer_ids) == ("AN-202611-0001", ("D-1", "D-2"))
    with store.unit_of_work(readonly=True) as uow:
        types = [entry.type for entry in uow.outbox.find(order_by="created_at")]
    assert types == ["DealerAnnouncement", "DealerAnnouncement"]
    assert desk.relay_outbox(by=OPERATOR) == 2
    messages = desk.outbox(by=OPERATOR, kind="dealer_announcement")
    assert sorted((m.customer_id, m.channel, m.recipient) for m in messages) == [
        ("D-1", "email", "d1@example.com"),
        ("D-2", "email", "d2@example.com"),
    ]
    assert {(m.subject, m.body) for m in messages} == {
        ("New price list", "The 2027 price list applies from 1 January.")
    }


def test_an_announcement_respects_the_dealers_rest_hours(
    store: Store, pm: pluggy.PluginManager
) -> None:
    # Rule: a message never goes out during the customer's rest hours unless urgent
    late = FixedClock(LATE)
    desk = make_desk(store, late, pm)
    add_customer(store, "D-1", customer_class="dealer")
    desk.announce_to_dealers(title="Notice", text="Depot closed on Friday.", by=OPERATOR)
    desk.relay_outbox(by=OPERATOR)
    (message,) = desk.outbox(by=OPERATOR, kind="dealer_announcement")
    assert message.due_at == datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    assert message.waiting_for is WaitReason.REST_HOURS


def test_an_announcement_without_dealers_is_refused_and_writes_nothing(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: an announcement goes to the dealers on file; none on file is a mistake
    desk = make_desk(store, clock, pm)
    add_customer(store, "C-1")
    with pytest.raises(RuleViolation) as refused:
        desk.announce_to_dealers(title="Notice", text="Hello.", by=OPERATOR)
    assert refused.value.code == "no_dealers"
    with store.unit_of_work(readonly=True) as uow:
        assert uow.outbox.find() == []
    with pytest.raises(PermissionDenied):
        desk.announce_to_dealers(title="Notice", text="Hello.", by=WAREHOUSE)


# -- languages (issue #16 item 3) -----------------------------------------------------------


def test_the_outbox_stores_the_language_each_message_was_rendered_in(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: customer messages are written in the policy's language (zh-CN by default) and
    # the stored message says which
    desk = make_desk(store, clock, pm)
    add_customer(store)
    emit(store, shipped(), received())
    assert desk.relay_outbox(by=OPERATOR) == 2
    by_kind = {m.kind: m for m in stored_messages(store)}
    assert by_kind["order_shipped"].body == (
        "您的订单 SO-202611-0001 已通过快递发出，预计 2026年11月5日 前送达。"  # noqa: RUF001
    )
    assert {m.language for m in by_kind.values()} == {"zh-CN"}
    with store.unit_of_work(readonly=True) as uow:
        again = uow.repo(MESSAGES).get(by_kind["order_shipped"].id)
    assert again.language == "zh-CN"


def test_a_policy_in_english_sends_english_messages(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager
) -> None:
    # Rule: the language is chosen by policy (notifications.language)
    desk = make_desk(store, clock, pm, language="en")
    add_customer(store)
    emit(store, shipped())
    desk.relay_outbox(by=OPERATOR)
    (message,) = stored_messages(store)
    assert (message.language, message.subject) == ("en", "Order SO-202611-0001 shipped")


def test_a_customer_in_another_language_and_time_zone_gets_their_own(
    pm: pluggy.PluginManager,
) -> None:
    # Rule: a customer's own language wins over the policy's; times in the customer's zone
    from csdomain.complaints import FollowUpScheduled
    from csdomain.notify import messages_for

    event = FollowUpScheduled(
        complaint_id="CP-1", customer_id="C-2", planned_at=START, due=START + timedelta(days=1)
    )
    hours = {"C-2": QuietHours(time(22), time(7), "Europe/Berlin")}
    policy = NotificationPolicy()
    (zh,) = messages_for(event, pm, at=START, policy=policy, recipient_for=lambda c, ch: PHONE)
    (en,) = messages_for(
        event,
        pm,
        at=START,
        policy=policy,
        recipient_for=lambda c, ch: PHONE,
        rest_hours_for=hours.get,
        language_for={"C-2": "en"}.get,
    )
    assert zh.language == "zh-CN"
    assert "2026年11月2日 10:00" in zh.body
    assert en.language == "en"
    assert en.body == (
        "We will call you on November 2, 2026, 3:00\u202fAM to hear how the handling of your "
        "complaint CP-1 went."
    )
    assert en.id == zh.id  # one message per event and customer, whatever the language
