"""Issue 21 at the desk: rest hours when sending, "retry after", parallel channels, stale
claims and the operator's view of the outbox."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.desk.notifications import (
    Dispatcher,
    DispatchSummary,
    NotificationDesk,
    claim_state,
    worker_is_gone,
)
from csdomain.errors import InvalidTransition, PermissionDenied, ValidationError
from csdomain.hookspecs import hookimpl
from csdomain.kinds import MESSAGES
from csdomain.notifiers import DeliveryError
from csdomain.notify import (
    ChannelLimits,
    Message,
    MessageStatus,
    NotificationPolicy,
    WaitReason,
    hold_for_quiet_hours,
)
from csdomain.notify.pacing import TokenBucket
from csdomain.plugins import get_plugin_manager
from csdomain.policy import Policy
from csdomain.store import Store, open_store


SHANGHAI_NIGHTS = QuietHours(time(21), time(8), "Asia/Shanghai")
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
OPERATOR = Actor("ops-1", frozenset({"specialist"}), name="Wang Fang")
WAREHOUSE = Actor("wh-1", frozenset({"warehouse"}))


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False)


def desk_for(
    store: Store, clock: FixedClock, pm: pluggy.PluginManager, **notifications: Any
) -> NotificationDesk:
    policy = Policy(notifications=NotificationPolicy(**notifications))
    return NotificationDesk(store, policy=policy, clock=clock, plugin_manager=pm)


def notice(at: datetime = T0, n: int = 0, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "channel": "sms",
        "recipient": "13800000000",
        "kind": "order_shipped",
        "body": f"Your order {n} has shipped.",
        "at": at,
        "source": f"OrderShipped:{n}",
    }
    values.update(fields)
    return Message.create(**values)


def put(store: Store, *messages: Message) -> list[Message]:
    with store.unit_of_work() as uow:
        uow.repo(MESSAGES).add_many(messages)
    return list(messages)


def stored(store: Store) -> list[Message]:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(MESSAGES).find(order_by="created_at")


class Recorder:
    """A notifier that records every call with the clock's time; fails on request."""

    def __init__(self, clock: FixedClock, channels: tuple[str, ...] = ("sms",)) -> None:
        self.clock = clock
        self.channels = channels
        self.calls: list[tuple[Message, datetime]] = []
        self.failures: set[int] = set()
        self.deferrals: set[int] = set()
        self._lock = threading.Lock()

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel not in self.channels:
            return None
        with self._lock:
            self.calls.append((message, self.clock.now()))
            number = len(self.calls)
        if number in self.deferrals:
            raise DeliveryError(message.channel, message.id, "429", retry_after=90)
        if number in self.failures:
            msg = f"gateway error #{number}"
            raise ConnectionError(msg)
        return True


# -- rest hours when sending -------------------------------------------------------------


def test_a_backlogged_message_is_held_not_sent_when_rest_hours_began(
    store: Store, pm: pluggy.PluginManager
) -> None:
    """Rule: never during the customer's rest time unless urgent (docs/domain.md 3.5, 7).

    Issue 21's repro: created at 20:59 in Shanghai, the dispatcher's round at 23:30.
    """
    created = datetime(2026, 11, 2, 12, 59, tzinfo=UTC)  # 20:59 in Shanghai
    clock = FixedClock(datetime(2026, 11, 2, 15, 30, tzinfo=UTC))  # 23:30
    recorder = Recorder(clock)
    pm.register(recorder)
    desk = desk_for(store, clock, pm)
    [message] = put(
        store,
        hold_for_quiet_hours(notice(created, customer_id="C-1"), None, desk.policy.notifications),
    )
    assert message.is_due(clock.now())

    assert desk.dispatcher().run_once() == DispatchSummary(held=1)
    assert recorder.calls == []
    [held] = stored(store)
    assert held.waiting_for is WaitReason.REST_HOURS
    assert held.next_attempt_at == datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 08:00
    assert held.attempts == 0
    assert desk.dispatcher().run_once().idle

    clock.set(datetime(2026, 11, 3, 0, 0, tzinfo=UTC))
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=1)


def test_an_expired_lease_inside_rest_hours_is_released_until_they_end(
    store: Store, pm: pluggy.PluginManager
) -> None:
    evening = datetime(2026, 11, 2, 12, 58, tzinfo=UTC)  # 20:58 in Shanghai
    clock = FixedClock(evening)
    pm.register(Recorder(clock))
    desk = desk_for(store, clock, pm)
    policy = desk.policy.notifications
    message = hold_for_quiet_hours(notice(evening, customer_id="C-1"), None, policy)
    put(store, message.claim("crashed", evening, policy.lease))
    clock.advance(timedelta(minutes=30))
    assert desk.dispatcher().run_once() == DispatchSummary(held=1)
    [released] = stored(store)
    assert released.status is MessageStatus.PENDING
    assert released.waiting_for is WaitReason.REST_HOURS
    assert released.attempts == 1  # the crashed attempt may have been delivered


_CLOCK_STEPS = st.sampled_from(
    [timedelta(minutes=m) for m in (0, 1, 3, 17, 45, 90, 240, 600, 1000)]
)


@st.composite
def _backlogs(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(
        st.datetimes(
            min_value=datetime(2026, 1, 1),
            max_value=datetime(2027, 1, 1),
            timezones=st.just(UTC),
        )
    )
    windows = st.builds(
        QuietHours,
        start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
        end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
        tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC"]),
    )
    count = draw(st.integers(1, 12))
    messages = []
    for n in range(count):
        created = start - timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
        customer_hours = draw(st.none() | windows)
        message = notice(
            created,
            n,
            customer_id=draw(st.sampled_from([None, "C-1", "C-2"])),
            urgent=draw(st.booleans()),
        )
        messages.append((message, customer_hours))
    return {
        "start": start,
        "default": draw(st.none() | windows),
        "messages": messages,
        "steps": draw(st.lists(_CLOCK_STEPS, min_size=1, max_size=12)),
        "failures": draw(st.sets(st.integers(1, 30), max_size=15)),
        "deferrals": draw(st.sets(st.integers(1, 30), max_size=5)),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_backlogs())
def test_no_non_urgent_message_is_ever_delivered_inside_rest_hours(case: dict[str, Any]) -> None:
    """Rule: never during the customer's rest time unless urgent (docs/domain.md 3.5, 7), over
    random backlogs, clocks, retries, deferrals and rest windows (issue 21, item 1)."""
    policy = NotificationPolicy(default_rest_hours=case["default"], max_attempts=3, max_deferrals=3)
    store = open_store("memory://")
    try:
        clock = FixedClock(case["start"])
        recorder = Recorder(clock)
        recorder.failures = case["failures"]
        recorder.deferrals = case["deferrals"]
        pm = get_plugin_manager(load_entrypoints=False)
        pm.register(recorder)
        rest_hours = {}
        for message, customer_hours in case["messages"]:
            held = hold_for_quiet_hours(message, customer_hours, policy)
            rest_hours[held.id] = held.quiet_hours
            put(store, held)
        dispatcher = Dispatcher(store, pm, clock, policy=policy, worker_id="w-1")
        for step in case["steps"]:
            dispatcher.run_once()
            clock.advance(step)
        dispatcher.run_once()
    finally:
        store.close()
    for message, at in recorder.calls:
        hours = rest_hours[message.id]
        assert message.urgent or hours is None or not hours.contains(at), (message.id, at)


# -- "retry after" and rate limits ---------------------------------------------------------


def test_a_rate_limit_answer_pauses_the_channel_and_burns_no_attempts(
    store: Store, pm: pluggy.PluginManager
) -> None:
    """Rule (issue 21): after a rate-limit reply nothing is dead-lettered for it."""
    clock = FixedClock(T0)
    recorder = Recorder(clock)
    recorder.deferrals = {1}
    pm.register(recorder)
    desk = desk_for(
        store, clock, pm, max_attempts=1, channel_limits={"sms": ChannelLimits(concurrency=1)}
    )
    put(store, *(notice(T0, n) for n in range(12)))

    first = desk.dispatcher().run_once()
    assert first == DispatchSummary(deferred=1, held=11)
    assert {m.waiting_for for m in stored(store)} == {WaitReason.RETRY_AFTER, WaitReason.RATE_LIMIT}
    assert {m.next_attempt_at for m in stored(store)} == {T0 + timedelta(seconds=90)}
    assert all(m.attempts == 0 for m in stored(store))

    clock.advance(timedelta(seconds=90))
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=12)
    assert {m.status for m in stored(store)} == {MessageStatus.DELIVERED}


def test_token_bucket_paces_a_channel() -> None:
    now = [0.0]
    bucket = TokenBucket(Decimal(2), 3, lambda: now[0])
    assert [bucket.reserve() for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    now[0] = 10.0  # refilled, never beyond the burst
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    assert TokenBucket.for_limits(ChannelLimits(), lambda: 0.0) is None
    with pytest.raises(ValidationError, match="rate"):
        TokenBucket(0, 1, lambda: 0.0)
    with pytest.raises(ValidationError, match="burst"):
        TokenBucket(1, 0, lambda: 0.0)


def test_a_rate_limited_channel_is_paced_by_the_dispatcher(
    store: Store, pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(T0)
    pm.register(Recorder(clock))
    limits = ChannelLimits(concurrency=2, rate=Decimal(5), burst=2)
    desk = desk_for(store, clock, pm, channel_limits={"sms": limits})
    put(store, *(notice(T0, n) for n in range(6)))
    slept: list[float] = []
    monkeypatch.setattr("csdomain.desk.notifications.time.sleep", slept.append)
    fake_now = [100.0]
    monkeypatch.setattr("csdomain.desk.notifications.time.monotonic", lambda: fake_now[0])
    assert desk.dispatcher().run_once() == DispatchSummary(delivered=6)
    assert sorted(slept) == pytest.approx([0.2, 0.4, 0.6, 0.8])


# -- parallel channels --------------------------------------------------------------------


class Gate:
    """Notifiers that prove parallelism by waiting for each other (no timing involved)."""

    def __init__(self, fast_total: int) -> None:
        self.fast_total = fast_total
        self.fast_done = threading.Event()
        self.fast_count = 0
        self.slow_saw_fast_done: list[bool] = []
        self.barrier = threading.Barrier(3, timeout=30)
        self.lock = threading.Lock()
        self.active = 0
        self.most_active = 0

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel == "slow":
            # a slow channel: it only answers once the fast channel got everything through
            self.slow_saw_fast_done.append(self.fast_done.wait(30))
            return True
        if message.channel != "fast":
            return None
        with self.lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if message.body.endswith("barrier"):
                self.barrier.wait()
        finally:
            with self.lock:
                self.active -= 1
                self.fast_count += 1
                if self.fast_count == self.fast_total:
                    self.fast_done.set()
        return True


@pytest.mark.parametrize("loop", [False, True])
def test_a_slow_channel_never_stalls_another(
    store: Store, pm: pluggy.PluginManager, loop: bool
) -> None:
    """Rule (issue 21): bounded per-channel concurrency; one channel's wait is its own."""
    clock = FixedClock(T0)
    gate = Gate(fast_total=20)
    pm.register(gate)
    desk = desk_for(
        store,
        clock,
        pm,
        channel_limits={"fast": ChannelLimits(concurrency=3), "slow": ChannelLimits(concurrency=2)},
    )
    slow = [notice(T0 - timedelta(hours=1), n, channel="slow", source=f"s{n}") for n in range(4)]
    fast = [
        notice(T0, n, channel="fast", source=f"f{n}", body="x barrier" if n < 3 else "x")
        for n in range(20)
    ]
    put(store, *slow, *fast)
    dispatcher = desk.dispatcher()
    total = dispatcher.run_forever(0, until_idle=True) if loop else dispatcher.run_once()
    assert total.delivered == 24
    assert gate.slow_saw_fast_done == [True] * 4
    assert gate.most_active == 3  # three at once (the barrier), never more


# -- stale claims -------------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_claims_of_a_gone_worker_are_released_when_a_dispatcher_starts(
    store: Store, pm: pluggy.PluginManager
) -> None:
    """Rule (issue 21): a killed dispatcher's claims do not sit out their lease."""
    clock = FixedClock(T0)
    recorder = Recorder(clock)
    pm.register(recorder)
    desk = desk_for(store, clock, pm)
    lease = desk.policy.notifications.lease
    gone = f"{socket.gethostname()}:{_dead_pid()}:abc123"
    live = f"{socket.gethostname()}:1:abc123"  # init: always running
    restarted = "dispatcher-7"
    put(
        store,
        notice(T0, 1).claim(gone, T0, lease),
        notice(T0, 2).claim(restarted, T0, lease),
        notice(T0, 3).claim(live, T0, lease),
    )
    assert worker_is_gone(gone)
    assert not worker_is_gone(live)
    assert not worker_is_gone("w-1")
    states = {m.claimed_by: claim_state(m, T0) for m in stored(store)}
    assert states == {gone: "worker gone", restarted: "active", live: "active"}
    summary = desk.outbox_summary(by=OPERATOR)
    assert summary.stale == 1

    total = desk.dispatcher(worker_id=restarted).run_forever(0, until_idle=True)

    assert total == DispatchSummary(delivered=2)
    by_owner = {m.body: m for m in stored(store)}
    assert by_owner["Your order 1 has shipped."].status is MessageStatus.DELIVERED
    assert by_owner["Your order 1 has shipped."].attempts == 2
    assert by_owner["Your order 2 has shipped."].status is MessageStatus.DELIVERED
    assert by_owner["Your order 3 has shipped."].status is MessageStatus.CLAIMED  # its lease
    notes = [c.note for c in by_owner["Your order 1 has shipped."].history]
    assert f"worker {gone} is gone without an outcome" in notes


# -- the operator's view ----------------------------------------------------------------


def dead_letter(message: Message, policy: NotificationPolicy) -> Message:
    for attempt in range(1, policy.max_attempts + 1):
        moment = message.due_at or T0
        message = message.claim("w-1", moment, policy.lease).mark_failed(
            f"HTTP 500 from https://gw.example.com/send?token=abc #{attempt}", moment, policy
        )
    return message


def test_outbox_summary_counts_statuses_and_why_messages_wait(
    store: Store, pm: pluggy.PluginManager
) -> None:
    clock = FixedClock(T0)
    desk = desk_for(store, clock, pm)
    policy = desk.policy.notifications
    late = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    put(
        store,
        notice(T0, 1),
        hold_for_quiet_hours(notice(late, 2, customer_id="C-1"), None, policy),
        notice(T0, 3, not_before=T0 + timedelta(days=3)),
        notice(T0, 4, urgent=True).claim("w-1", T0, policy.lease).mark_failed("x", T0, policy),
        notice(T0 - timedelta(hours=1), 5).claim("w-2", T0 - timedelta(hours=1), policy.lease),
        dead_letter(notice(T0, 6, urgent=True), policy),
    )
    summary = desk.outbox_summary(by=OPERATOR)
    assert summary.counts == {
        "pending": 4,
        "claimed": 1,
        "delivered": 0,
        "dead": 1,
        "cancelled": 0,
    }
    assert summary.due == 1
    assert summary.waiting == {
        "rest_hours": 1,
        "backoff": 1,
        "retry_after": 0,
        "rate_limit": 0,
        "scheduled": 1,
    }
    assert summary.held == 3
    assert summary.stale == 1  # its lease expired
    assert summary.next_due == T0 + timedelta(minutes=1)
    assert summary.describe().startswith(
        "pending 4 (due now 1; held 3: rest hours 1, backoff 1, scheduled 1), "
        "claimed 1 (1 stale), dead 1"
    )
    with pytest.raises(PermissionDenied):
        desk.outbox_summary(by=WAREHOUSE)


def test_outbox_filters_by_kind_channel_and_customer(
    store: Store, pm: pluggy.PluginManager
) -> None:
    desk = desk_for(store, FixedClock(T0), pm)
    put(
        store,
        notice(T0, 1, customer_id="C-1"),
        notice(T0, 2, channel="email", recipient="li@example.com", customer_id="C-1"),
        notice(T0, 3, kind="birthday", customer_id="C-2"),
    )
    assert len(desk.outbox(by=OPERATOR, channel="sms")) == 2
    assert [m.kind for m in desk.outbox(by=OPERATOR, kind="birthday")] == ["birthday"]
    assert len(desk.outbox(by=OPERATOR, customer_id="C-1", status="all")) == 2
    assert desk.outbox(by=OPERATOR, customer_id="C-1", channel="email", kind="birthday") == []
    with pytest.raises(ValidationError, match="channel"):
        desk.outbox(by=OPERATOR, channel="")


def test_dead_letters_are_retried_in_bulk_by_channel(
    store: Store, pm: pluggy.PluginManager
) -> None:
    desk = desk_for(store, FixedClock(T0 + timedelta(days=1)), pm)
    policy = desk.policy.notifications
    put(
        store,
        *(dead_letter(notice(T0, n, urgent=True), policy) for n in range(3)),
        dead_letter(notice(T0, 9, urgent=True, channel="email", recipient="a@b.cn"), policy),
    )
    again = desk.retry_dead_letters(by=OPERATOR, channel="sms")
    assert len(again) == 3
    assert {(m.status, m.attempts) for m in again} == {(MessageStatus.PENDING, 0)}
    assert {m.history[-1].by for m in again} == {OPERATOR.id}
    assert [m.channel for m in desk.outbox(by=OPERATOR, status="dead")] == ["email"]
    assert desk.retry_dead_letters(by=OPERATOR, channel="sms") == []
    assert len(desk.retry_dead_letters(by=OPERATOR)) == 1
    with pytest.raises(PermissionDenied):
        desk.retry_dead_letters(by=WAREHOUSE)


def test_retry_and_cancel_of_a_message_being_delivered_say_who_has_it(
    store: Store, pm: pluggy.PluginManager
) -> None:
    """Rule (issue 21): `outbox retry` never sends a claimed message a second time."""
    desk = desk_for(store, FixedClock(T0), pm)
    [message] = put(store, notice(T0).claim("worker-9", T0, desk.policy.notifications.lease))
    with pytest.raises(InvalidTransition) as retry:
        desk.retry_message(message.id, by=OPERATOR)
    assert "being delivered by worker 'worker-9' since 2026-11-02 02:00:00Z" in str(retry.value)
    assert "retry is for dead letters" in str(retry.value)
    with pytest.raises(InvalidTransition) as cancel:
        desk.cancel_message(message.id, reason="wrong number", by=OPERATOR)
    assert "cancel is for waiting messages" in str(cancel.value)
    assert stored(store) == [message]


def test_an_empty_outbox_has_nothing_held_and_nothing_due() -> None:
    store = open_store("memory://")
    try:
        summary = NotificationDesk(store).outbox_summary(by=OPERATOR)
    finally:
        store.close()
    assert set(summary.counts.values()) == {0}
    assert (summary.held, summary.due, summary.stale, summary.next_due) == (0, 0, 0, None)
