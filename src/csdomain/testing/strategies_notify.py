"""Hypothesis strategies for notification and care models.

Messages are built through their own commands (claim, deliver, fail, defer, release,
hold, requeue, cancel: ``MESSAGE_LIFECYCLE``), so every message drawn is reachable and
every status and wait reason can be.
Knobs are keyword-only strategies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from csdomain.calendar import QuietHours
from csdomain.care import CareSubject
from csdomain.errors import InvalidTransition, RuleViolation
from csdomain.notify import Message, NotificationPolicy, WaitReason, hold_for_quiet_hours


__all__ = ["care_subjects", "messages"]

_ZONES = st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC"])
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_STEPS = st.lists(
    st.sampled_from(["claim", "deliver", "fail", "defer", "release", "hold", "requeue", "cancel"]),
    max_size=8,
)
_POLICY = NotificationPolicy(max_attempts=2)
_MOMENTS = st.datetimes(
    min_value=datetime(2001, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, ZoneInfo("Asia/Shanghai")]),
    allow_imaginary=False,
)


def _quiet_hours(tz: st.SearchStrategy[str]) -> st.SearchStrategy[QuietHours]:
    return st.builds(QuietHours, start=st.times(), end=st.times(), tz=tz)


@st.composite
def _messages(draw: st.DrawFn, steps: st.SearchStrategy[list[str]]) -> Message:
    at = draw(_MOMENTS)
    message = Message.create(
        channel=draw(st.sampled_from(["sms", "email", "webhook", "log"])),
        recipient=draw(_TEXT.filter(str.strip)),
        kind=draw(st.sampled_from(["order_shipped", "birthday", "maintenance_reminder"])),
        subject=draw(_TEXT),
        body=draw(_TEXT),
        at=at,
        customer_id=draw(st.none() | _TEXT),
        urgent=draw(st.booleans()),
        source=draw(_TEXT),
    )
    message = hold_for_quiet_hours(message, draw(st.none() | _quiet_hours(_ZONES)), _POLICY)
    now = at
    for step in draw(steps):
        try:
            claims = ("claim", "deliver", "fail", "defer", "release")
            if step in claims and message.due_at is not None:
                now = max(now, message.due_at)
                message = message.claim("worker", now, _POLICY.lease)
                if step == "deliver":
                    message = message.mark_delivered(now)
                elif step == "fail":
                    message = message.mark_failed("boom", now, _POLICY)
                elif step == "defer":
                    message = message.defer(timedelta(minutes=1), "busy", now, _POLICY)
                elif step == "release":
                    message = message.release(now, by="worker", reason="worker gone")
            elif step == "hold":
                message = message.hold(
                    now + timedelta(minutes=5), WaitReason.RATE_LIMIT, at=now, by="worker"
                )
            elif step == "requeue":
                message = message.requeue(now)
            elif step == "cancel":
                message = message.cancel("withdrawn", at=now)
        except (InvalidTransition, RuleViolation):
            continue
    return message


def messages(*, steps: st.SearchStrategy[list[str]] | None = None) -> st.SearchStrategy[Message]:
    """Messages in any reachable status (``steps``: claim/deliver/fail/defer/release/hold/
    requeue/cancel).

    Shrinks towards a fresh pending message with short texts.
    """
    return _messages(steps or _STEPS)


def care_subjects(*, tz: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[CareSubject]:
    """Customers as the care schedule sees them (any anchor date may be missing)."""
    days = st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
    return st.builds(
        CareSubject,
        customer_id=_TEXT.filter(str.strip),
        name=_TEXT,
        tz=tz or _ZONES,
        birthday=st.none() | st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)),
        job_completed_on=days,
        handed_over_on=days,
        rest_hours=st.none() | _quiet_hours(tz or _ZONES),
    )
