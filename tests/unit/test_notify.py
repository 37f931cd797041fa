"""Rules of the notification outbox: leases, backoff, dead letters, quiet hours, templates."""

from __future__ import annotations

import string
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.errors import InvalidTransition, RuleViolation, ValidationError
from csdomain.events import Event, event_types
from csdomain.hookspecs import hookimpl
from csdomain.lifecycle import command_table, command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.notifiers import attempt_delivery
from csdomain.notify import (
    DEFAULT_TEMPLATES,
    MESSAGE_COMMANDS,
    MESSAGE_LIFECYCLE,
    MESSAGE_TRANSITIONS,
    DealerAnnouncement,
    Deduplicator,
    Message,
    MessageStatus,
    MessageTemplate,
    MessageTemplates,
    NotificationPolicy,
    OwnerNotices,
    WaitReason,
    backoff_delay,
    default_templates,
    hold_for_quiet_hours,
    idempotency_key,
    message_id_for,
    messages_for,
)
from csdomain.plugins import get_plugin_manager
from csdomain.serialization import from_json, to_json


ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LEASE = timedelta(minutes=5)
POLICY = NotificationPolicy()
SHORT = NotificationPolicy(max_attempts=2)


def sms(at: datetime = T0, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": "sms",
        "recipient": "13800000000",
        "kind": "order_shipped",
        "body": "Your order shipped.",
        "at": at,
        "customer_id": "C-1",
        "source": "OrderShipped:evt-1",
    }
    fields.update(changes)
    return Message.create(**fields)


# -- strategies --------------------------------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
moments = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.sampled_from([UTC, SHANGHAI, NEW_YORK]),
    allow_imaginary=False,
)
quiet_hours = st.builds(
    QuietHours,
    start=st.times(),
    end=st.times(),
    tz=st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin"]),
)
operations = st.lists(
    st.sampled_from(["claim", "fail", "deliver", "requeue", "cancel", "expire"]), max_size=12
)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """Messages built by the real state changes, so every one is reachable."""
    at = draw(moments)
    message = Message.create(
        channel=draw(st.sampled_from(["sms", "email", "webhook", "log"])),
        recipient=draw(texts.filter(str.strip)),
        kind=draw(st.sampled_from(["order_shipped", "birthday", "maintenance_reminder"])),
        subject=draw(texts),
        body=draw(texts),
        at=at,
        customer_id=draw(st.none() | texts),
        urgent=draw(st.booleans()),
        source=draw(texts),
    )
    message = hold_for_quiet_hours(message, draw(st.none() | quiet_hours), POLICY)
    now = at
    for op in draw(operations):
        message, now = apply(message, op, now, SHORT)
    return message


def apply(
    message: Message, op: str, now: datetime, policy: NotificationPolicy = POLICY
) -> tuple[Message, datetime]:
    """One dispatcher or operator step, waiting until the message is due when needed.

    ``fail``/``deliver`` claim a pending message first; ``expire`` waits out a lease and
    re-claims. A step the lifecycle does not allow leaves the message unchanged.
    """
    try:
        waits = op == "expire" or (op != "cancel" and message.status is MessageStatus.PENDING)
        if waits and op != "requeue" and message.due_at is not None:
            now = max(now, message.due_at)
            message = message.claim("worker", now, LEASE, max_attempts=policy.max_attempts)
        if op == "fail":
            return message.mark_failed("boom", now, policy), now
        if op == "deliver":
            return message.mark_delivered(now), now
        if op == "requeue":
            return message.requeue(now), now
        if op == "cancel":
            return message.cancel("no longer needed", at=now), now
    except (InvalidTransition, RuleViolation):
        pass
    return message, now


# -- lifecycle -----------------------------------------------------------------------------


def test_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        MESSAGE_TRANSITIONS,
        list(MessageStatus),
        initial=[MessageStatus.PENDING],
        terminal=[MessageStatus.DELIVERED, MessageStatus.CANCELLED],
    )
    assert problems == []
    assert command_table_problems(MESSAGE_LIFECYCLE) == []


def test_every_transition_is_made_by_a_command() -> None:
    made = {
        (source, command.target)
        for command in MESSAGE_COMMANDS.values()
        for source in command.sources
    }
    allowed = {(s, t) for s, targets in MESSAGE_TRANSITIONS.items() for t in targets}
    assert made == allowed


def test_the_command_table_is_in_the_docs() -> None:
    guide = (ROOT / "docs" / "notifications.md").read_text(encoding="utf-8")
    assert command_table(MESSAGE_LIFECYCLE) in guide


@pytest.mark.parametrize(
    ("message", "step", "text"),
    [
        (
            sms,
            lambda m: m.mark_delivered(T0),
            "cannot mark_delivered while pending: claim the message first",
        ),
        (
            sms,
            lambda m: m.mark_failed("x", T0, POLICY),
            "cannot mark_failed while pending: claim the message first",
        ),
        (
            lambda: sms().claim("w1", T0, LEASE),
            lambda m: m.cancel("changed my mind", at=T0),
            (
                "cannot cancel while claimed: it is being delivered by worker 'w1' since "
                "2026-03-10 02:00:00Z (lease until 2026-03-10 02:05:00Z); "
                "cancel is for waiting messages (pending or dead)"
            ),
        ),
        (
            lambda: sms().claim("w1", T0, LEASE),
            lambda m: m.requeue(T0),
            (
                "cannot requeue while claimed: it is being delivered by worker 'w1' since "
                "2026-03-10 02:00:00Z (lease until 2026-03-10 02:05:00Z); "
                "retry is for dead letters"
            ),
        ),
        (
            sms,
            lambda m: m.requeue(T0),
            (
                "cannot requeue while pending: it is waiting to be sent "
                "(next attempt 2026-03-10 02:00:00Z); retry is for dead letters"
            ),
        ),
        (
            lambda: sms().cancel("withdrawn", at=T0),
            lambda m: m.requeue(T0),
            "cannot requeue while cancelled: it was cancelled; retry is for dead letters",
        ),
        (
            lambda: sms().claim("w1", T0, LEASE).mark_delivered(T0),
            lambda m: m.cancel("too late", at=T0),
            (
                "cannot cancel while delivered: it was delivered at 2026-03-10 02:00:00Z; "
                "cancel is for waiting messages (pending or dead)"
            ),
        ),
    ],
)
def test_a_refused_step_names_the_command_and_what_comes_first(
    message: Callable[[], Message], step: Callable[[Message], Message], text: str
) -> None:
    """Rule: a refusal says what the message is doing (issue 21: "retry is for dead
    letters", never "cannot go from 'pending' to 'pending'")."""
    before = message()
    with pytest.raises(InvalidTransition) as info:
        step(before)
    assert str(info.value) == f"message {before.id!r} {text}"
    assert info.value.action == text.split()[1]


def test_a_dead_letter_is_claimed_only_after_a_requeue() -> None:
    dead = sms(urgent=True)
    for _ in range(SHORT.max_attempts):
        now = dead.due_at or T0
        dead = dead.claim("w1", now, LEASE).mark_failed("down", now, SHORT)
    assert dead.status is MessageStatus.DEAD
    with pytest.raises(InvalidTransition) as info:
        dead.claim("w2", T0 + timedelta(days=1), LEASE)
    assert info.value.action == "claim"
    assert info.value.hint == "requeue the dead letter first"


@given(messages())
def test_message_round_trips_through_json(message: Message) -> None:
    loaded = from_json(Message, to_json(message))
    assert loaded == message
    assert loaded.status is message.status


def test_policy_round_trips_through_json() -> None:
    policy = NotificationPolicy(
        backoff_jitter=Decimal("0.25"), channels={"birthday": "email"}, default_rest_hours=None
    )
    assert from_json(NotificationPolicy, to_json(policy)) == policy
    assert from_json(NotificationPolicy, to_json(POLICY)) == POLICY


@given(moments, operations)
def test_history_only_grows_and_attempts_never_exceed_max(start: datetime, ops: list[str]) -> None:
    message = sms(start)
    now = start
    for op in ops:
        before = message
        message, now = apply(message, op, now)
        assert message.history[: len(before.history)] == before.history
        assert message.attempts <= POLICY.max_attempts
        if message.status is MessageStatus.DEAD:
            assert message.last_error == "boom"


def test_message_create_derives_id_from_idempotency_key() -> None:
    message = sms()
    assert message.idempotency_key == idempotency_key(
        "OrderShipped:evt-1", "order_shipped", "sms", "C-1"
    )
    assert message.id == message_id_for(message.idempotency_key)
    assert sms() == message
    assert message.status is MessageStatus.PENDING
    assert message.due_at == T0


def test_idempotency_key_must_be_header_safe() -> None:
    with pytest.raises(ValidationError, match="idempotency_key"):
        sms(key="two words")
    with pytest.raises(ValidationError, match="idempotency_key"):
        sms(key="line\nbreak")


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="naive"):
        sms(datetime(2026, 1, 1, 8))


# -- leases and due times -------------------------------------------------------------------


def test_pending_message_is_not_claimed_before_it_is_due() -> None:
    message = sms(not_before=T0 + timedelta(hours=1))
    with pytest.raises(RuleViolation) as info:
        message.claim("w1", T0, LEASE)
    assert info.value.code == "message_not_due"
    assert message.claim("w1", T0 + timedelta(hours=1), LEASE).status is MessageStatus.CLAIMED


def test_claim_takes_a_lease_and_counts_the_attempt() -> None:
    claimed = sms().claim("w1", T0, LEASE)
    assert claimed.claimed_by == "w1"
    assert claimed.lease_until == T0 + LEASE
    assert claimed.attempts == 1
    assert claimed.due_at == T0 + LEASE
    assert claimed.history[-1].to == "claimed"
    assert claimed.history[-1].by == "w1"


def test_an_active_lease_cannot_be_claimed() -> None:
    claimed = sms().claim("w1", T0, LEASE)
    with pytest.raises(RuleViolation) as info:
        claimed.claim("w2", T0 + LEASE - timedelta(seconds=1), LEASE)
    assert info.value.code == "lease_active"
    assert info.value.details["claimed_by"] == "w1"


def test_an_expired_lease_can_be_reclaimed() -> None:
    claimed = sms().claim("w1", T0, LEASE)
    reclaimed = claimed.claim("w2", T0 + LEASE, LEASE)
    assert reclaimed.claimed_by == "w2"
    assert reclaimed.attempts == 2
    assert reclaimed.lease_until == T0 + 2 * LEASE


def test_delivered_and_cancelled_messages_are_final() -> None:
    delivered = sms().claim("w1", T0, LEASE).mark_delivered(T0 + timedelta(seconds=3))
    assert delivered.delivered_at == T0 + timedelta(seconds=3)
    assert delivered.due_at is None
    with pytest.raises(InvalidTransition):
        delivered.claim("w2", T0 + timedelta(days=1), LEASE)
    with pytest.raises(InvalidTransition):
        delivered.cancel("too late", at=T0)
    cancelled = sms().cancel("order withdrawn", at=T0)
    assert cancelled.history[-1].note == "order withdrawn"
    with pytest.raises(InvalidTransition):
        cancelled.requeue(T0)


def test_only_a_claimed_message_can_be_marked_delivered_or_failed() -> None:
    with pytest.raises(InvalidTransition):
        sms().mark_delivered(T0)
    with pytest.raises(InvalidTransition):
        sms().mark_failed("x", T0, POLICY)


def test_a_claimed_message_cannot_be_cancelled() -> None:
    with pytest.raises(InvalidTransition):
        sms().claim("w1", T0, LEASE).cancel("changed my mind", at=T0)


def test_a_draft_cannot_be_claimed() -> None:
    draft = Message(kind="order_shipped", body="hi")
    assert draft.is_draft
    with pytest.raises(ValidationError):
        draft.claim("w1", T0, LEASE)


# -- backoff and dead letters -------------------------------------------------------------


def test_backoff_grows_and_caps() -> None:
    delays = [backoff_delay(n, POLICY) for n in range(1, 10)]
    minutes = [d / timedelta(minutes=1) for d in delays]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff_delay(10_000, POLICY) == POLICY.backoff_cap


@given(st.integers(1, 50), texts)
def test_backoff_jitter_is_deterministic_and_never_exceeds_the_cap(attempt: int, seed: str) -> None:
    jittery = NotificationPolicy(backoff_jitter=Decimal("0.5"))
    delay = backoff_delay(attempt, jittery, seed=seed)
    nominal = backoff_delay(attempt, POLICY)
    assert delay == backoff_delay(attempt, jittery, seed=seed)
    assert nominal / 2 <= delay <= nominal <= POLICY.backoff_cap


def test_failed_attempt_is_retried_after_backoff() -> None:
    urgent = sms(urgent=True)
    failed = urgent.claim("w1", T0, LEASE).mark_failed("gateway timeout", T0, POLICY)
    assert failed.status is MessageStatus.PENDING
    assert failed.next_attempt_at == T0 + timedelta(minutes=1)
    assert failed.last_error == "gateway timeout"
    assert failed.claimed_by is None
    again = failed.claim("w1", T0 + timedelta(minutes=1), LEASE).mark_failed("x", T0, POLICY)
    assert again.next_attempt_at == T0 + timedelta(minutes=2)


def test_dead_letter_after_max_attempts_keeps_the_last_error() -> None:
    message = sms(urgent=True)
    now = T0
    for attempt in range(1, POLICY.max_attempts + 1):
        assert message.due_at is not None
        now = message.due_at
        message = message.claim("w1", now, LEASE).mark_failed(f"error {attempt}", now, POLICY)
    assert message.status is MessageStatus.DEAD
    assert message.attempts == POLICY.max_attempts
    assert message.last_error == f"error {POLICY.max_attempts}"
    assert message.due_at is None
    assert not message.is_due(now + timedelta(days=365))


def test_error_text_is_cut_to_the_policy_length() -> None:
    policy = NotificationPolicy(max_error_length=10)
    failed = sms().claim("w1", T0, LEASE).mark_failed("x" * 100, T0, policy)
    assert failed.last_error == "x" * 10


def test_requeue_moves_a_dead_letter_back_to_pending_with_fresh_attempts() -> None:
    policy = NotificationPolicy(max_attempts=1)
    dead = sms(urgent=True).claim("w1", T0, LEASE).mark_failed("bounced", T0, policy)
    assert dead.status is MessageStatus.DEAD
    later = T0 + timedelta(days=2)
    requeued = dead.requeue(later, by="ops")
    assert requeued.status is MessageStatus.PENDING
    assert requeued.attempts == 0
    assert requeued.next_attempt_at == later
    assert requeued.last_error == "bounced"
    assert requeued.history[-1].by == "ops"
    assert dead.cancel("customer unreachable", at=later).status is MessageStatus.CANCELLED


def test_policy_rejects_impossible_numbers() -> None:
    with pytest.raises(ValidationError, match="max_attempts"):
        NotificationPolicy(max_attempts=0)
    with pytest.raises(ValidationError, match="backoff_cap"):
        NotificationPolicy(backoff_cap=timedelta(seconds=1))
    with pytest.raises(ValidationError, match="backoff_factor"):
        NotificationPolicy(backoff_factor=Decimal("0.5"))
    with pytest.raises(ValidationError, match="backoff_jitter"):
        NotificationPolicy(backoff_jitter=Decimal(2))
    with pytest.raises(ValidationError, match="lease"):
        NotificationPolicy(lease=timedelta(0))


DRAFT: dict[str, Any] = {"kind": "order_shipped", "body": "Shipped."}
ONE_TEMPLATE = MessageTemplate(event_type="E", kind="k", body="{order_id}")


@pytest.mark.parametrize(
    ("model", "fields", "path"),
    [
        (Message, {**DRAFT, "urgent": "yes"}, "urgent"),
        (Message, {**DRAFT, "urgent": 1}, "urgent"),
        (Message, {**DRAFT, "customer_id": 5}, "customer_id"),
        (Message, {**DRAFT, "claimed_by": 1.5}, "claimed_by"),
        (Message, {**DRAFT, "last_error": b"boom"}, "last_error"),
        (Message, {**DRAFT, "attempts": True}, "attempts"),
        (Message, {**DRAFT, "status": 3}, "status"),
        (Message, {**DRAFT, "history": []}, "history"),
        (Message, {**DRAFT, "history": ("pending",)}, "history.0"),
        (Message, {**DRAFT, "subject": None}, "subject"),
        (NotificationPolicy, {"max_attempts": True}, "max_attempts"),
        (NotificationPolicy, {"batch_size": 2.5}, "batch_size"),
        (NotificationPolicy, {"channels": {"birthday": 3}}, "channels.birthday"),
        (MessageTemplate, {"event_type": "E", "kind": "k", "body": "", "urgent": 1}, "urgent"),
        (
            MessageTemplate,
            {"event_type": "E", "kind": "k", "body": "", "customer_field": ""},
            "customer_field",
        ),
        (MessageTemplates, {"templates": [ONE_TEMPLATE]}, "templates"),
        (MessageTemplates, {"templates": ("Order {order_id}",)}, "templates.0"),
        (OwnerNotices, {"templates": "ComplaintEscalated"}, "templates"),
        (
            OwnerNotices,
            {"templates": MessageTemplates((ONE_TEMPLATE,)), "role_field": ""},
            "role_field",
        ),
    ],
)
def test_models_refuse_wrong_types_when_built(
    model: type, fields: dict[str, Any], path: str
) -> None:
    """Rule: domain aggregates refuse wrong types at construction, with the field's path."""
    with pytest.raises(ValidationError) as info:
        model(**fields)
    assert info.value.errors[0][0] == path


def test_a_wrong_status_is_named_in_a_bounded_message() -> None:
    with pytest.raises(ValidationError) as info:
        Message(**DRAFT, status="lost" * 10_000)
    assert len(str(info.value)) < 300
    assert "pending" in str(info.value)


# -- quiet hours ---------------------------------------------------------------------------

NIGHT = QuietHours(time(22), time(7), "Asia/Shanghai")


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("created", "released"),
    [
        (local(SHANGHAI, 2026, 3, 10, 23, 30), local(SHANGHAI, 2026, 3, 11, 7, 0)),
        (local(SHANGHAI, 2026, 3, 11, 0, 15), local(SHANGHAI, 2026, 3, 11, 7, 0)),
        (local(SHANGHAI, 2026, 3, 11, 6, 59), local(SHANGHAI, 2026, 3, 11, 7, 0)),
        (local(SHANGHAI, 2026, 3, 10, 22, 0), local(SHANGHAI, 2026, 3, 11, 7, 0)),
    ],
)
def test_quiet_hours_across_midnight_hold_until_they_end(
    created: datetime, released: datetime
) -> None:
    held = hold_for_quiet_hours(sms(created), NIGHT, POLICY)
    assert held.not_before == released
    assert held.next_attempt_at == released
    assert held.quiet_hours == NIGHT
    assert not held.is_due(released - timedelta(seconds=1))
    assert held.is_due(released)


@pytest.mark.parametrize(
    "created", [local(SHANGHAI, 2026, 3, 10, 7), local(SHANGHAI, 2026, 3, 10, 21, 59)]
)
def test_message_outside_quiet_hours_is_not_held(created: datetime) -> None:
    held = hold_for_quiet_hours(sms(created), NIGHT, POLICY)
    assert held.not_before is None
    assert held.next_attempt_at == created


def test_quiet_hours_are_in_each_customers_time_zone() -> None:
    at = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai, 10:00 in New York
    shanghai_nights = QuietHours(time(21), time(8), "Asia/Shanghai")
    new_york_nights = QuietHours(time(21), time(8), "America/New_York")
    in_shanghai = hold_for_quiet_hours(sms(at, customer_id="C-SH"), shanghai_nights, POLICY)
    in_new_york = hold_for_quiet_hours(sms(at, customer_id="C-NY"), new_york_nights, POLICY)
    assert in_shanghai.next_attempt_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    assert in_new_york.next_attempt_at == at
    late_new_york = datetime(2026, 3, 11, 2, 30, tzinfo=UTC)  # 22:30 EDT, 10:30 in Shanghai
    held = hold_for_quiet_hours(sms(late_new_york), new_york_nights, POLICY)
    assert held.next_attempt_at == local(NEW_YORK, 2026, 3, 11, 8, 0)
    assert hold_for_quiet_hours(sms(late_new_york), shanghai_nights, POLICY).not_before is None


def test_urgent_messages_are_not_held() -> None:
    night = local(SHANGHAI, 2026, 3, 10, 23, 30)
    urgent = hold_for_quiet_hours(sms(night, urgent=True), NIGHT, POLICY)
    assert urgent.next_attempt_at == night
    assert urgent.quiet_hours is None
    failed = urgent.claim("w1", night, LEASE).mark_failed("busy", night, POLICY)
    assert failed.next_attempt_at == night + timedelta(minutes=1)


def test_messages_to_no_customer_are_not_held() -> None:
    night = local(SHANGHAI, 2026, 3, 10, 23, 30)
    staff = hold_for_quiet_hours(sms(night, customer_id=None), NIGHT, POLICY)
    assert staff.next_attempt_at == night


def test_policy_default_rest_hours_apply_when_the_customer_has_none() -> None:
    night = local(SHANGHAI, 2026, 3, 10, 21, 30)
    held = hold_for_quiet_hours(sms(night), None, POLICY)
    assert held.next_attempt_at == local(SHANGHAI, 2026, 3, 11, 8, 0)
    own = QuietHours(time(23), time(6), "Asia/Shanghai")
    assert hold_for_quiet_hours(sms(night), own, POLICY).next_attempt_at == night
    unrestricted = NotificationPolicy(default_rest_hours=None)
    assert hold_for_quiet_hours(sms(night), None, unrestricted).next_attempt_at == night


def test_a_retry_never_lands_in_quiet_hours() -> None:
    evening = local(SHANGHAI, 2026, 3, 10, 20, 59, 30)
    message = hold_for_quiet_hours(sms(evening), None, POLICY)
    failed = message.claim("w1", evening, LEASE).mark_failed("busy", evening, POLICY)
    assert failed.next_attempt_at == local(SHANGHAI, 2026, 3, 11, 8, 0)


def test_requeue_respects_quiet_hours() -> None:
    policy = NotificationPolicy(max_attempts=1)
    message = hold_for_quiet_hours(sms(), None, policy)
    dead = message.claim("w1", T0, LEASE).mark_failed("bounced", T0, policy)
    night = local(SHANGHAI, 2026, 3, 10, 23, 0)
    assert dead.requeue(night).next_attempt_at == local(SHANGHAI, 2026, 3, 11, 8, 0)


@given(moments, quiet_hours, st.booleans())
def test_held_messages_never_become_due_inside_rest_hours(
    created: datetime, hours: QuietHours, urgent: bool
) -> None:
    held = hold_for_quiet_hours(sms(created, urgent=urgent), hours, POLICY)
    assert held.next_attempt_at is not None
    assert held.next_attempt_at >= created
    if not urgent:
        assert not hours.contains(held.next_attempt_at)


# -- rest hours at claim time, holds, deferrals, releases --------------------------------


def test_a_message_is_never_claimed_inside_the_recipients_rest_hours() -> None:
    """Rule: never during the customer's rest time unless urgent (docs/domain.md 3.5, 7), also
    when the message fell due before the rest hours began (issue 21: a backlog)."""
    evening = local(SHANGHAI, 2026, 3, 10, 20, 59)
    message = hold_for_quiet_hours(sms(evening), None, POLICY)
    assert message.is_due(evening)
    late = local(SHANGHAI, 2026, 3, 10, 23, 30)
    with pytest.raises(RuleViolation) as info:
        message.claim("w1", late, LEASE)
    assert info.value.code == "message_not_due"
    assert "rest hours until 2026-03-11 00:00:00Z" in str(info.value)
    assert message.resting_until(late) == local(SHANGHAI, 2026, 3, 11, 8, 0)
    urgent = hold_for_quiet_hours(sms(evening, urgent=True, source="u"), NIGHT, POLICY)
    assert urgent.claim("w1", late, LEASE).status is MessageStatus.CLAIMED


def test_an_expired_lease_is_not_reclaimed_inside_rest_hours() -> None:
    evening = local(SHANGHAI, 2026, 3, 10, 20, 58)
    claimed = hold_for_quiet_hours(sms(evening), None, POLICY).claim("w1", evening, LEASE)
    with pytest.raises(RuleViolation, match="rest hours"):
        claimed.claim("w2", local(SHANGHAI, 2026, 3, 10, 21, 30), LEASE)


def test_hold_makes_a_pending_message_wait_without_spending_anything() -> None:
    message = sms()
    until = T0 + timedelta(hours=2)
    held = message.hold(until, WaitReason.RATE_LIMIT, at=T0, by="w1")
    assert (held.status, held.attempts, held.waiting_for) == (
        MessageStatus.PENDING,
        0,
        WaitReason.RATE_LIMIT,
    )
    assert held.next_attempt_at == until
    assert held.history[-1].note == "held for rate limit"
    assert held.hold(T0, "rest_hours", at=T0, by="w1").next_attempt_at == until  # never earlier
    with pytest.raises(InvalidTransition):
        message.claim("w1", T0, LEASE).hold(until, WaitReason.RATE_LIMIT, at=T0, by="w1")
    with pytest.raises(ValidationError, match="reason"):
        message.hold(until, "soon", at=T0, by="w1")  # type: ignore[arg-type]


def test_retry_after_defers_without_spending_the_attempt() -> None:
    """Rule (issue 21): a "retry after" answer does not burn an attempt."""
    policy = NotificationPolicy(max_attempts=1)
    claimed = sms().claim("w1", T0, LEASE)
    deferred = claimed.defer(timedelta(seconds=30), "rate limited", T0, policy)
    assert deferred.status is MessageStatus.PENDING
    assert (deferred.attempts, deferred.deferrals) == (0, 1)
    assert deferred.next_attempt_at == T0 + timedelta(seconds=30)
    assert deferred.waiting_for is WaitReason.RETRY_AFTER
    assert deferred.last_error is None
    assert deferred.history[-1].note == "rate limited"
    again = deferred.claim("w1", T0 + timedelta(seconds=30), LEASE)
    assert again.attempts == 1  # the one allowed attempt is still there


def test_retry_after_is_capped_and_bounded_in_number() -> None:
    policy = NotificationPolicy(max_deferrals=2, max_retry_after=timedelta(minutes=5))
    message = sms(urgent=True)
    now = T0
    for _ in range(2):
        message = message.claim("w1", now, LEASE).defer(timedelta(days=1), "busy", now, policy)
        assert message.next_attempt_at == now + timedelta(minutes=5)
        now = message.next_attempt_at
    failed = message.claim("w1", now, LEASE).defer(timedelta(seconds=1), "busy", now, policy)
    assert failed.waiting_for is WaitReason.BACKOFF
    assert failed.attempts == 1
    assert failed.last_error == "deferred 2 times, last: busy"


def test_a_deferral_lands_outside_rest_hours() -> None:
    evening = local(SHANGHAI, 2026, 3, 10, 20, 59)
    claimed = hold_for_quiet_hours(sms(evening), None, POLICY).claim("w1", evening, LEASE)
    deferred = claimed.defer(timedelta(minutes=5), "later", evening, POLICY)
    assert deferred.next_attempt_at == local(SHANGHAI, 2026, 3, 11, 8, 0)


def test_release_gives_a_claim_back() -> None:
    claimed = sms().claim("gone-worker", T0, LEASE)
    released = claimed.release(T0 + timedelta(minutes=1), by="w2", reason="worker gone")
    assert released.status is MessageStatus.PENDING
    assert released.attempts == 1  # it may have reached the receiver
    assert released.claimed_by is None
    assert released.is_due(T0 + timedelta(minutes=1))
    unsent = claimed.release(T0, by="gone-worker", reason="not yet", attempted=False)
    assert unsent.attempts == 0
    with pytest.raises(InvalidTransition):
        sms().release(T0, by="w2", reason="nothing claimed")


def test_claimed_since_is_the_moment_of_the_current_claim() -> None:
    claimed = sms().claim("w1", T0, LEASE)
    assert claimed.claimed_since == T0
    assert claimed.claim("w2", T0 + LEASE, LEASE).claimed_since == T0 + LEASE
    assert sms().claimed_since is None


def test_waiting_for_says_why_a_message_waits() -> None:
    assert sms().waiting_for is None
    assert sms(not_before=T0 + timedelta(days=1)).waiting_for is WaitReason.SCHEDULED
    late = local(SHANGHAI, 2026, 3, 10, 23, 30)
    assert hold_for_quiet_hours(sms(late), None, POLICY).waiting_for is WaitReason.REST_HOURS
    failed = sms(urgent=True).claim("w1", T0, LEASE).mark_failed("x", T0, POLICY)
    assert failed.waiting_for is WaitReason.BACKOFF
    assert failed.claim("w1", failed.due_at or T0, LEASE).waiting_for is None


@given(moments, quiet_hours, st.integers(0, 3 * 24 * 60), st.booleans())
def test_no_claim_ever_succeeds_inside_rest_hours(
    created: datetime, hours: QuietHours, later: int, urgent: bool
) -> None:
    message = hold_for_quiet_hours(sms(created, urgent=urgent), hours, POLICY)
    # in UTC: local wall-clock arithmetic drops fold=1 (the repeated hour at the end of
    # daylight saving) and would land an hour before the message was created
    at = max(created, message.due_at or created).astimezone(UTC) + timedelta(minutes=later)
    if not urgent and hours.contains(at):
        with pytest.raises(RuleViolation) as refused:
            message.claim("w1", at, LEASE)
        assert refused.value.code == "message_not_due"
    else:
        assert message.claim("w1", at, LEASE).status is MessageStatus.CLAIMED


# -- delivering exactly once -------------------------------------------------------------


class FlakyGateway:
    """An SMS gateway that fails the first ``failures`` calls; the receiver dedups."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.receiver = Deduplicator(capacity=100)
        self.effects: list[str] = []

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel != "sms":
            return None
        self.calls += 1
        if self.calls <= self.failures:
            msg = "gateway unavailable"
            raise ConnectionError(msg)
        if self.receiver.first_time(message.idempotency_key):
            self.effects.append(message.body)
        return True


def dispatch(message: Message, gateway: FlakyGateway, *, crash_after_delivery: bool) -> Message:
    """The dispatcher loop over one message, optionally losing the first delivered state."""
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(gateway)
    clock = FixedClock(T0)
    crashed = False
    for _ in range(50):
        if message.status in (MessageStatus.DELIVERED, MessageStatus.DEAD):
            break
        due = message.due_at
        assert due is not None
        if due > clock.now():
            clock.set(due)
        claimed = message.claim("worker", clock.now(), POLICY.lease)
        outcome = attempt_delivery(claimed, pm, clock=clock, policy=POLICY)
        if crash_after_delivery and not crashed and outcome.status is MessageStatus.DELIVERED:
            crashed = True
            message = claimed
            continue
        message = outcome
    return message


@given(st.integers(0, POLICY.max_attempts - 2), st.booleans())
def test_flaky_notifier_and_state_machine_deliver_exactly_once(failures: int, crash: bool) -> None:
    gateway = FlakyGateway(failures)
    message = dispatch(sms(urgent=True), gateway, crash_after_delivery=crash)
    assert message.status is MessageStatus.DELIVERED
    assert gateway.effects == ["Your order shipped."]
    assert gateway.calls == failures + 1 + int(crash)
    assert message.attempts == failures + 1 + int(crash)


def test_a_notifier_that_always_fails_dead_letters_the_message() -> None:
    gateway = FlakyGateway(failures=100)
    message = dispatch(sms(urgent=True), gateway, crash_after_delivery=False)
    assert message.status is MessageStatus.DEAD
    assert message.last_error == "ConnectionError: gateway unavailable"
    assert gateway.effects == []
    assert gateway.calls == POLICY.max_attempts


def test_a_channel_nobody_delivers_is_a_failed_attempt() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    claimed = sms(channel="pager", urgent=True).claim("w1", T0, LEASE)
    failed = attempt_delivery(claimed, pm, clock=FixedClock(T0), policy=POLICY)
    assert failed.status is MessageStatus.PENDING
    assert failed.last_error == "no notifier handles channel 'pager'"


def test_deduplicator_drops_repeats_and_stays_bounded() -> None:
    seen = Deduplicator(capacity=2)
    assert seen.first_time("a")
    assert not seen.first_time("a")
    assert seen.first_time("b")
    assert seen.first_time("c")
    assert len(seen) == 2
    assert "a" not in seen
    assert seen.first_time("a")
    with pytest.raises(ValidationError):
        Deduplicator(capacity=0)


# -- events to messages --------------------------------------------------------------------


@attrs.frozen
class ParcelSentForNotifyTest(Event):
    order_id: str
    customer_id: str | None
    total: Money


PARCEL_TEMPLATES = MessageTemplates(
    (
        MessageTemplate(
            event_type="ParcelSentForNotifyTest",
            kind="parcel_sent",
            subject="Order {order_id}",
            body="Order {order_id} ({total}) is on its way.",
        ),
        MessageTemplate(
            event_type="ParcelSentForNotifyTest",
            kind="parcel_audit",
            body="{event_type} for {order_id}",
            channel="webhook",
            recipient="https://ops.example.com/hook",
            customer_field="nobody",
        ),
    )
)
EVENT = ParcelSentForNotifyTest(order_id="SO-1", customer_id="C-1", total=Money.of("12.30", "CNY"))
ADDRESSES = {("C-1", "sms"): "13800000000", ("C-1", "email"): "li@example.com"}


def address(customer_id: str | None, channel: str) -> str | None:
    return ADDRESSES.get((customer_id or "", channel))


def manager(*plugins: object) -> Any:
    pm = get_plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return pm


def test_templates_fill_subject_and_body_from_event_fields() -> None:
    # Rule: money in a message is formatted the language's way (English outside messages_for)
    drafts = PARCEL_TEMPLATES.render(EVENT)
    assert [d.kind for d in drafts] == ["parcel_sent", "parcel_audit"]
    assert drafts[0].body == "Order SO-1 (CN¥12.30) is on its way."
    assert drafts[0].language == "en"
    assert drafts[0].customer_id == "C-1"
    assert drafts[0].is_draft
    assert drafts[1].body == "ParcelSentForNotifyTest for SO-1"
    assert drafts[1].customer_id is None


def test_messages_for_fills_ids_channels_recipients_and_holds() -> None:
    night = local(SHANGHAI, 2026, 3, 10, 23, 0)
    pm = manager(PARCEL_TEMPLATES)
    messages = messages_for(
        EVENT, pm, at=night, policy=POLICY, recipient_for=address, event_id="evt-9"
    )
    by_kind = {m.kind: m for m in messages}
    sent = by_kind["parcel_sent"]
    assert not sent.is_draft
    assert sent.channel == "sms"
    assert sent.recipient == "13800000000"
    assert sent.source == "ParcelSentForNotifyTest:evt-9"
    assert sent.idempotency_key == idempotency_key(
        "ParcelSentForNotifyTest:evt-9", "parcel_sent", "sms", "C-1"
    )
    assert sent.id == message_id_for(sent.idempotency_key)
    assert sent.created_at == night
    assert sent.next_attempt_at == local(SHANGHAI, 2026, 3, 11, 8, 0)
    audit = by_kind["parcel_audit"]
    assert audit.recipient == "https://ops.example.com/hook"
    assert audit.next_attempt_at == night


def test_messages_for_the_same_event_twice_are_identical() -> None:
    pm = manager(PARCEL_TEMPLATES)
    first = messages_for(EVENT, pm, at=T0, policy=POLICY, recipient_for=address)
    again = messages_for(EVENT, pm, at=T0, policy=POLICY, recipient_for=address)
    assert first == again
    other = messages_for(
        attrs.evolve(EVENT, order_id="SO-2"), pm, at=T0, policy=POLICY, recipient_for=address
    )
    assert {m.id for m in first}.isdisjoint(m.id for m in other)


def test_customer_rest_hours_come_from_the_lookup() -> None:
    evening = local(SHANGHAI, 2026, 3, 10, 21, 30)
    pm = manager(PARCEL_TEMPLATES)
    own = QuietHours(time(23), time(6), "Asia/Shanghai")
    messages = messages_for(
        EVENT,
        pm,
        at=evening,
        policy=POLICY,
        recipient_for=address,
        rest_hours_for={"C-1": own}.get,
    )
    sent = next(m for m in messages if m.kind == "parcel_sent")
    assert sent.next_attempt_at == evening
    assert sent.quiet_hours == own


def test_customer_without_an_address_on_the_channel_gets_no_message() -> None:
    pm = manager(PARCEL_TEMPLATES)
    messages = messages_for(
        attrs.evolve(EVENT, customer_id="C-unknown"),
        pm,
        at=T0,
        policy=POLICY,
        recipient_for=address,
    )
    assert [m.kind for m in messages] == ["parcel_audit"]


def test_policy_channel_per_kind_is_used_when_the_template_names_none() -> None:
    policy = NotificationPolicy(channels={"parcel_sent": "email"})
    pm = manager(PARCEL_TEMPLATES)
    messages = messages_for(EVENT, pm, at=T0, policy=policy, recipient_for=address)
    sent = next(m for m in messages if m.kind == "parcel_sent")
    assert (sent.channel, sent.recipient) == ("email", "li@example.com")


def test_hook_csdomain_messages_every_registered_mapping_contributes() -> None:
    extra = MessageTemplates(
        (
            MessageTemplate(
                event_type="ParcelSentForNotifyTest", kind="parcel_thanks", body="Thanks"
            ),
        )
    )
    pm = manager(PARCEL_TEMPLATES, extra, default_templates)
    kinds = {m.kind for m in messages_for(EVENT, pm, at=T0, policy=POLICY, recipient_for=address)}
    assert kinds == {"parcel_sent", "parcel_audit", "parcel_thanks"}


def test_hook_csdomain_messages_default_mapping_notifies_order_shipment() -> None:
    from csdomain.orders import OrderShipped, ShippingMode

    pm = manager(default_templates)
    event = OrderShipped(
        order_id="SO-7",
        customer_id="C-1",
        lines=(),
        mode=ShippingMode.EXPRESS,
        tracking="",
        expected_earliest=None,
        expected_latest=None,
        at=T0,
        by="wh-1",
    )
    messages = messages_for(event, pm, at=T0, policy=POLICY, recipient_for=address, event_id="e1")
    assert [(m.kind, m.channel) for m in messages] == [("order_shipped", "sms")]
    assert "SO-7" in messages[0].body
    assert DEFAULT_TEMPLATES.event_types >= {"OrderShipped", "OrderConfirmed", "ComplaintReceived"}


def test_a_plugin_returning_something_else_is_a_validation_error() -> None:
    class Broken:
        @hookimpl
        def csdomain_messages(self, event: Event) -> list[Any]:
            return ["not a message"]

    with pytest.raises(ValidationError, match="csdomain_messages"):
        messages_for(EVENT, manager(Broken()), at=T0, policy=POLICY, recipient_for=address)


def test_template_field_missing_from_the_event_is_a_validation_error() -> None:
    bad = MessageTemplate(event_type="ParcelSentForNotifyTest", kind="x", body="{tracking_no}")
    with pytest.raises(ValidationError) as info:
        bad.render(EVENT)
    assert info.value.errors[0][0] == "templates.ParcelSentForNotifyTest.x.body"
    assert "tracking_no" in info.value.errors[0][1]


@pytest.mark.parametrize("body", ["{order_id.__class__}", "{order_id[0]}", "{", "{0}", "{}"])
def test_templates_only_accept_plain_field_placeholders(body: str) -> None:
    with pytest.raises(ValidationError, match="body"):
        MessageTemplate(event_type="E", kind="k", body=body)


def test_template_registry_replaces_removes_and_merges() -> None:
    replacement = MessageTemplate(
        event_type="ParcelSentForNotifyTest", kind="parcel_sent", body="New text {order_id}"
    )
    replaced = PARCEL_TEMPLATES.with_template(replacement)
    assert len(replaced.templates) == 2
    assert replaced.render(EVENT)[-1].body == "New text SO-1"
    assert [
        t.kind
        for t in PARCEL_TEMPLATES.without("ParcelSentForNotifyTest", "parcel_audit").templates
    ] == ["parcel_sent"]
    assert PARCEL_TEMPLATES.without("ParcelSentForNotifyTest").templates == ()
    merged = DEFAULT_TEMPLATES.merged(PARCEL_TEMPLATES)
    assert merged.event_types == DEFAULT_TEMPLATES.event_types | {"ParcelSentForNotifyTest"}
    assert from_json(MessageTemplates, to_json(merged)) == merged


def test_notify_and_care_import_no_io_modules() -> None:
    code = (
        "import sys, csdomain.notify, csdomain.care; "
        "bad = {'smtplib', 'urllib.request', 'sqlite3', 'http.client', 'csdomain.notifiers'}; "
        "print(sorted(bad & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_default_templates_match_the_domain_events_and_their_fields() -> None:
    import csdomain.complaints
    import csdomain.orders
    import csdomain.satisfaction  # noqa: F401 - registers the event classes

    registry = event_types()
    for template in DEFAULT_TEMPLATES.templates:
        event_class = registry[template.event_type]
        fields = {f.name for f in attrs.fields(event_class)}
        placeholders = {
            name for _, name, _, _ in string.Formatter().parse(template.subject + template.body)
        }
        assert placeholders - {None} <= fields, template.event_type
        assert template.customer_field in fields


# -- announcements to dealers (issue #20) ---------------------------------------------------


def test_a_dealer_announcement_becomes_the_dealers_message_by_the_default_templates() -> None:
    # Rule: announcements to dealers (docs/domain.md 7) go through the outbox and a template
    event = DealerAnnouncement(
        announcement_id="AN-202603-0001",
        customer_id="D-1",
        title="New price list",
        text="The new prices apply from April.",
        at=T0,
        by="ops-1",
    )
    (draft,) = DEFAULT_TEMPLATES.render(event)
    assert (draft.kind, draft.customer_id, draft.subject, draft.body) == (
        "dealer_announcement",
        "D-1",
        "New price list",
        "The new prices apply from April.",
    )
    assert POLICY.channel_for(draft.kind) == "email"
    assert POLICY.announcement_classes == frozenset({"dealer"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("announcement_classes", frozenset()),
        ("announcement_classes", frozenset({" "})),
        ("announcement_number_pattern", "AN-{nope}"),
    ],
)
def test_announcement_policy_values_are_checked(field: str, value: object) -> None:
    # Rule: every policy value is checked when the policy is made
    with pytest.raises(ValidationError) as refused:
        NotificationPolicy(**{field: value})
    assert refused.value.errors[0][0] == field
