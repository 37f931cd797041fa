"""Outgoing messages: one notification and the pure state machine the dispatcher drives.

A :class:`Message` is one notification to one recipient on one channel (``"sms"``,
``"email"``, ``"webhook"``, ``"log"`` ...). It is stored in the outbox and moved through
``pending -> claimed -> delivered`` by a dispatcher that only calls the methods here:
:meth:`Message.claim` takes a lease (never inside the recipient's rest hours unless the
message is urgent), :meth:`Message.mark_delivered` and :meth:`Message.mark_failed` record
the outcome (exponential backoff, dead letter after ``max_attempts``),
:meth:`Message.defer` answers a notifier's "retry after" without spending the attempt,
:meth:`Message.hold` makes a waiting message wait longer (rest hours, a paused channel),
:meth:`Message.release` gives a claim back (a worker that is gone, or a message that
must not go out yet), :meth:`Message.requeue` brings a dead letter back and
:meth:`Message.cancel` withdraws a waiting message. Each of them is a command of
:data:`MESSAGE_LIFECYCLE` (the command table :data:`MESSAGE_COMMANDS` beside
:data:`MESSAGE_TRANSITIONS`); a refused one raises
:class:`~csdomain.errors.InvalidTransition` naming the command and what must come first.
Delivery is at least once; every message carries a stable ``idempotency_key`` so
receivers can drop duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import attrs

from csdomain.calendar import QuietHours
from csdomain.clock import as_utc, require_aware
from csdomain.errors import InvalidTransition, RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.notify.keys import idempotency_key, message_id_for
from csdomain.notify.policy import NotificationPolicy, backoff_delay
from csdomain.validators import (
    count,
    enum_value,
    flag,
    instance_of,
    not_blank,
    optional,
    optional_aware,
    optional_text,
    text,
    tuple_of,
)


__all__ = [
    "MESSAGE_COMMANDS",
    "MESSAGE_LIFECYCLE",
    "MESSAGE_TRANSITIONS",
    "Message",
    "MessageStatus",
    "RecipientLookup",
    "RestHoursLookup",
    "RetryAfter",
    "WaitReason",
    "retry_after_seconds",
]


class MessageStatus(StrEnum):
    """Where a message is in its delivery lifecycle."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


class WaitReason(StrEnum):
    """Why a pending message is not due yet (what ``csdomain outbox`` shows)."""

    #: Held until the recipient's rest hours end (docs/domain.md 3.5, 7).
    REST_HOURS = "rest_hours"
    #: Waiting out the backoff after a failed attempt (DESIGN.md 5).
    BACKOFF = "backoff"
    #: A notifier answered "retry after": deferred without spending an attempt.
    RETRY_AFTER = "retry_after"
    #: The channel is paced or paused by the dispatcher (its rate limit).
    RATE_LIMIT = "rate_limit"
    #: Scheduled for later when created (care touch-points, ``not_before``).
    SCHEDULED = "scheduled"


#: Allowed status moves. ``claimed -> claimed`` is a re-claim after an expired lease;
#: ``pending -> pending`` a hold (rest hours, a paused channel).
MESSAGE_TRANSITIONS: Mapping[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.PENDING: frozenset(
        {MessageStatus.CLAIMED, MessageStatus.PENDING, MessageStatus.CANCELLED}
    ),
    MessageStatus.CLAIMED: frozenset(
        {
            MessageStatus.CLAIMED,
            MessageStatus.DELIVERED,
            MessageStatus.PENDING,
            MessageStatus.DEAD,
        }
    ),
    MessageStatus.DEAD: frozenset({MessageStatus.PENDING, MessageStatus.CANCELLED}),
    MessageStatus.DELIVERED: frozenset(),
    MessageStatus.CANCELLED: frozenset(),
}

_P, _C, _D = MessageStatus.PENDING, MessageStatus.CLAIMED, MessageStatus.DEAD

#: The commands that move a message (the method names), where each runs from and leads to.
MESSAGE_COMMANDS: Mapping[str, Command[MessageStatus]] = {
    "claim": Command("claim the message", frozenset({_P, _C}), MessageStatus.CLAIMED),
    "hold": Command("hold the message", frozenset({_P}), MessageStatus.PENDING),
    "mark_delivered": Command("record the delivery", frozenset({_C}), MessageStatus.DELIVERED),
    "mark_failed": Command("record a failed attempt", frozenset({_C}), MessageStatus.PENDING),
    "defer": Command("defer the attempt", frozenset({_C}), MessageStatus.PENDING),
    "release": Command("release the claim", frozenset({_C}), MessageStatus.PENDING),
    "dead_letter": Command("dead-letter the message", frozenset({_C}), MessageStatus.DEAD),
    "requeue": Command("requeue the dead letter", frozenset({_D}), MessageStatus.PENDING),
    "cancel": Command("cancel the message", frozenset({_P, _D}), MessageStatus.CANCELLED),
}

#: The message lifecycle: :meth:`Lifecycle.move` is the one way a message changes status.
MESSAGE_LIFECYCLE: Lifecycle[MessageStatus] = Lifecycle(
    "message", MESSAGE_TRANSITIONS, MESSAGE_COMMANDS
)


# -- validators ----------------------------------------------------------------------------


def _message_status(value: object) -> MessageStatus:
    return enum_value(MessageStatus, value, "status")


def _wait_reason(value: object) -> WaitReason | None:
    if value is None or isinstance(value, WaitReason):
        return value
    return enum_value(WaitReason, value, "waiting_for")


_OPTIONAL_QUIET_HOURS = optional(instance_of(QuietHours))


def _key_text(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    """Idempotency keys travel in mail and HTTP headers: printable ASCII, no spaces."""
    if not isinstance(value, str) or len(value) > 200 or not all("!" <= c <= "~" for c in value):
        raise ValidationError.at(
            attribute.name, "must be at most 200 printable ASCII characters without spaces"
        )


# -- the message ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Message:
    """One notification to one recipient on one channel, with its delivery state.

    A ``csdomain_messages`` hook returns *drafts*: ``id``, ``idempotency_key``,
    ``created_at`` and ``next_attempt_at`` may be left empty and ``channel``/``recipient``
    may be ``""`` (policy default channel, the customer's address); :func:`messages_for`
    fills them. Stored messages always have them. ``due_at`` is the index field the
    dispatcher queries.
    """

    id: str = attrs.field(default="", validator=_key_text)
    channel: str = attrs.field(default="", validator=text)
    recipient: str = attrs.field(default="", validator=text)
    customer_id: str | None = attrs.field(default=None, validator=optional_text)
    kind: str = attrs.field(validator=not_blank)
    subject: str = attrs.field(default="", validator=text)
    body: str = attrs.field(validator=text)
    urgent: bool = attrs.field(default=False, validator=flag)
    idempotency_key: str = attrs.field(default="", validator=_key_text)
    #: Where the message came from: ``"<EventType>:<event id>"``, ``"care"``, ``"manual"``.
    source: str = attrs.field(default="", validator=text)
    created_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=optional_aware
    )
    #: Held until this instant (quiet hours, scheduled care touch-points).
    not_before: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=optional_aware
    )
    #: The recipient's rest hours that apply to this message (retries avoid them too).
    quiet_hours: QuietHours | None = attrs.field(default=None, validator=_OPTIONAL_QUIET_HOURS)
    status: MessageStatus = attrs.field(default=MessageStatus.PENDING, converter=_message_status)
    attempts: int = attrs.field(default=0, validator=count)
    next_attempt_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=optional_aware
    )
    claimed_by: str | None = attrs.field(default=None, validator=optional_text)
    lease_until: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=optional_aware
    )
    last_error: str | None = attrs.field(default=None, validator=optional_text)
    delivered_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=optional_aware
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=tuple_of(StatusChange))
    #: Why a pending message is not due yet (``None``: nothing holds it).
    waiting_for: WaitReason | None = attrs.field(default=None, converter=_wait_reason)
    #: How many times a notifier said "retry after" (bounded by ``max_deferrals``).
    deferrals: int = attrs.field(default=0, validator=count)
    #: The language ``subject`` and ``body`` are in (``"zh-CN"``, ``"en"``); ``""`` when
    #: the text did not come from a catalog template (a plugin's own text, a care plan's).
    language: str = attrs.field(default="", validator=text)

    @classmethod
    def create(
        cls,
        *,
        channel: str,
        recipient: str,
        kind: str,
        body: str,
        at: datetime,
        subject: str = "",
        customer_id: str | None = None,
        urgent: bool = False,
        source: str = "manual",
        key: str | None = None,
        not_before: datetime | None = None,
        language: str = "",
    ) -> Message:
        """A ready-to-store pending message (id and key derived unless ``key`` is given)."""
        require_aware(at)
        _not_blank_arg(channel, "channel")
        _not_blank_arg(recipient, "recipient")
        key = key or idempotency_key(source, kind, channel, customer_id or recipient)
        first = at if not_before is None else max(at, require_aware(not_before, "not_before"))
        return cls(
            id=message_id_for(key),
            channel=channel,
            recipient=recipient,
            customer_id=customer_id,
            kind=kind,
            subject=subject,
            body=body,
            urgent=urgent,
            idempotency_key=key,
            source=source,
            created_at=at,
            not_before=not_before,
            next_attempt_at=first,
            waiting_for=WaitReason.SCHEDULED if first > at else None,
            language=language,
        )

    # -- queries ------------------------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        """True for a hook's draft that :func:`messages_for` has not filled yet."""
        return not (self.id and self.idempotency_key and self.created_at and self.channel)

    @property
    def due_at(self) -> datetime | None:
        """When the dispatcher may claim it: next attempt (pending) or lease end (claimed)."""
        if self.status is MessageStatus.PENDING:
            return self.next_attempt_at or self.not_before or self.created_at
        if self.status is MessageStatus.CLAIMED:
            return self.lease_until
        return None

    def is_due(self, at: datetime) -> bool:
        """Whether the message's time has come at ``at`` (its rest hours aside)."""
        due = self.due_at
        return due is not None and due <= require_aware(at)

    def resting_until(self, at: datetime) -> datetime | None:
        """When the recipient's rest hours end, if ``at`` falls inside them; else ``None``.

        Urgent messages and messages without rest hours are never held. Source: docs/domain.md
        3.5 and 7 (never during the customer's rest time unless urgent).
        """
        require_aware(at)
        if self.urgent or self.quiet_hours is None or not self.quiet_hours.contains(at):
            return None
        return self.quiet_hours.next_allowed(at).astimezone(UTC)

    @property
    def claimed_since(self) -> datetime | None:
        """When the current claim was taken (``None`` unless claimed)."""
        if self.status is not MessageStatus.CLAIMED:
            return None
        for change in reversed(self.history):
            if change.to == MessageStatus.CLAIMED:
                return change.at
        return None

    def _outside_rest_hours(self, at: datetime) -> datetime:
        """``at``, moved to the end of the recipient's rest hours when it falls inside."""
        return self.resting_until(at) or at

    def _refusal(self, action: str, purpose: str) -> InvalidTransition:
        """Why ``action`` cannot run now, in the operator's words (what the message is doing)."""
        status = self.status
        if status is MessageStatus.CLAIMED:
            lease = _moment(self.lease_until)
            since = _moment(self.claimed_since)
            doing = (
                f"it is being delivered by worker {describe(self.claimed_by)} since {since} "
                f"(lease until {lease})"
            )
        elif status is MessageStatus.PENDING:
            doing = f"it is waiting to be sent (next attempt {_moment(self.due_at)})"
        elif status is MessageStatus.DELIVERED:
            doing = f"it was delivered at {_moment(self.delivered_at)}"
        elif status is MessageStatus.DEAD:
            doing = f"it is a dead letter ({self.attempts} attempts)"
        else:
            doing = "it was cancelled"
        target = MESSAGE_COMMANDS[action].target
        return InvalidTransition(
            "message",
            self.id,
            str(status),
            str(target),
            action=action,
            hint=f"{doing}; {purpose}",
        )

    # -- state changes --------------------------------------------------------------------

    def claim(
        self, owner: str, at: datetime, lease: timedelta, *, max_attempts: int | None = None
    ) -> Message:
        """Take a lease on a due message for one delivery attempt (counts the attempt).

        A pending message is due once ``next_attempt_at`` has passed; a claimed one once
        its lease has expired (the previous worker died). Raises
        :class:`~csdomain.errors.RuleViolation` ``message_not_due`` / ``lease_active``, and
        ``attempts_exhausted`` when ``max_attempts`` attempts were already made (a worker
        died holding the last one: dead-letter it with :meth:`mark_failed` instead).
        """
        require_aware(at)
        _not_blank_arg(owner, "owner")
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError.at("lease", "must be a positive duration")
        if self.is_draft:
            raise ValidationError.at("id", "a draft message cannot be claimed")
        if self.status is MessageStatus.CLAIMED and not self.is_due(at):
            raise RuleViolation(
                "lease_active",
                f"message {self.id!r} is leased to {describe(self.claimed_by)}",
                message_id=self.id,
                claimed_by=self.claimed_by,
                lease_until=self.lease_until,
            )
        if self.status is MessageStatus.PENDING and not self.is_due(at):
            raise RuleViolation(
                "message_not_due",
                f"message {self.id!r} is not due before {self.due_at}",
                message_id=self.id,
                due_at=self.due_at,
            )
        if self.status is MessageStatus.PENDING or self.status is MessageStatus.CLAIMED:
            resting = self.resting_until(at)
            if resting is not None:
                raise RuleViolation(
                    "message_not_due",
                    f"message {self.id!r} is held for the recipient's rest hours "
                    f"until {_moment(resting)}",
                    message_id=self.id,
                    due_at=resting,
                )
        if max_attempts is not None and self.attempts >= max_attempts:
            raise RuleViolation(
                "attempts_exhausted",
                f"message {self.id!r} already had {self.attempts} attempts",
                message_id=self.id,
                attempts=self.attempts,
            )
        return MESSAGE_LIFECYCLE.move(
            self,
            "claim",
            at=at,
            by=owner,
            claimed_by=owner,
            lease_until=at + lease,
            attempts=self.attempts + 1,
            waiting_for=None,
        )

    def mark_delivered(self, at: datetime) -> Message:
        """Record that the claimed attempt delivered the message."""
        require_aware(at)
        return MESSAGE_LIFECYCLE.move(
            self,
            "mark_delivered",
            at=at,
            by=self.claimed_by or "dispatcher",
            delivered_at=at,
            lease_until=None,
            next_attempt_at=None,
            waiting_for=None,
        )

    def mark_failed(self, error: str, at: datetime, policy: NotificationPolicy) -> Message:
        """Record a failed attempt: retry after backoff, or dead-letter after the last one.

        The retry time is moved out of the message's quiet hours unless it is urgent. The
        error text (cut to ``policy.max_error_length``) is kept as ``last_error``.
        """
        require_aware(at)
        error_text = str(error)[: policy.max_error_length]
        by = self.claimed_by or "dispatcher"
        if self.attempts >= policy.max_attempts:
            return MESSAGE_LIFECYCLE.move(
                self,
                "dead_letter",
                at=at,
                by=by,
                note=error_text,
                last_error=error_text,
                claimed_by=None,
                lease_until=None,
                next_attempt_at=None,
            )
        retry_at = self._outside_rest_hours(
            at + backoff_delay(max(self.attempts, 1), policy, seed=self.id)
        )
        return MESSAGE_LIFECYCLE.move(
            self,
            "mark_failed",
            at=at,
            by=by,
            note=error_text,
            last_error=error_text,
            claimed_by=None,
            lease_until=None,
            next_attempt_at=retry_at,
            waiting_for=WaitReason.BACKOFF,
        )

    def defer(
        self, retry_after: timedelta, reason: str, at: datetime, policy: NotificationPolicy
    ) -> Message:
        """A notifier's "retry after": back to pending without spending the attempt.

        The next attempt is ``retry_after`` from ``at`` (at most ``policy.max_retry_after``),
        moved out of the recipient's rest hours unless urgent. A message deferred
        ``policy.max_deferrals`` times counts the next deferral as a failed attempt, so a
        notifier that defers for ever still ends in the dead letters. ``reason`` goes into
        the history.
        """
        require_aware(at)
        if not isinstance(retry_after, timedelta) or retry_after < timedelta(0):
            raise ValidationError.at("retry_after", "must be a duration of zero or more")
        reason_text = str(reason)[: policy.max_error_length] or "deferred"
        if self.status is MessageStatus.CLAIMED and self.deferrals >= policy.max_deferrals:
            return self.mark_failed(
                f"deferred {self.deferrals} times, last: {reason_text}", at, policy
            )
        wait = min(retry_after, policy.max_retry_after)
        return MESSAGE_LIFECYCLE.move(
            self,
            "defer",
            at=at,
            by=self.claimed_by or "dispatcher",
            note=reason_text,
            claimed_by=None,
            lease_until=None,
            attempts=max(self.attempts - 1, 0),
            deferrals=self.deferrals + 1,
            next_attempt_at=self._outside_rest_hours(at + wait),
            waiting_for=WaitReason.RETRY_AFTER,
        )

    def hold(
        self, until: datetime, reason: WaitReason, *, at: datetime, by: str, note: str = ""
    ) -> Message:
        """Make a pending message wait until ``until`` for ``reason`` (spends nothing).

        The dispatcher holds a due message whose recipient is resting (docs/domain.md 3.5, 7) or
        whose channel is paused; ``until`` never moves the message earlier.
        """
        require_aware(at)
        require_aware(until, "until")
        reason = enum_value(WaitReason, reason, "reason")
        current = self.due_at
        later = until if current is None else max(until, current)
        return MESSAGE_LIFECYCLE.move(
            self,
            "hold",
            at=at,
            by=by,
            note=note or f"held for {reason.value.replace('_', ' ')}",
            next_attempt_at=later.astimezone(UTC),
            waiting_for=reason,
        )

    def release(
        self,
        at: datetime,
        *,
        by: str,
        reason: str,
        attempted: bool = True,
        hold: WaitReason | None = None,
        until: datetime | None = None,
    ) -> Message:
        """Give a claim back: the message is pending again without an outcome.

        For a claim whose worker is gone (``attempted``: the attempt may have reached the
        receiver, so it stays counted) and for a claimed message that must not go out yet
        (``attempted=False``: the attempt is given back), e.g. because the recipient's rest
        hours began (``hold=WaitReason.REST_HOURS``, ``until`` their end).
        """
        require_aware(at)
        _not_blank_arg(reason, "reason")
        if hold is not None:
            hold = enum_value(WaitReason, hold, "hold")
        when = at if until is None else max(at, require_aware(until, "until"))
        resting = self.resting_until(when)
        if resting is not None:
            when, hold = resting, WaitReason.REST_HOURS
        attempts = self.attempts if attempted else max(self.attempts - 1, 0)
        return MESSAGE_LIFECYCLE.move(
            self,
            "release",
            at=at,
            by=by,
            note=reason,
            claimed_by=None,
            lease_until=None,
            attempts=attempts,
            next_attempt_at=when.astimezone(UTC),
            waiting_for=hold,
        )

    def requeue(self, at: datetime, by: str = "operator") -> Message:
        """Send a dead letter again (``csdomain outbox retry ID``): attempts start over.

        Only a dead letter: a message that is waiting or being delivered is refused with
        :class:`~csdomain.errors.InvalidTransition` saying what it is doing (a claimed one
        is being sent right now; requeueing it would send it twice). The next attempt
        still respects the recipient's rest hours.
        """
        require_aware(at)
        if self.status is not MessageStatus.DEAD:
            raise self._refusal("requeue", "retry is for dead letters")
        retry_at = at
        if self.not_before is not None:
            retry_at = max(retry_at, self.not_before)
        resting = self.resting_until(retry_at)
        return MESSAGE_LIFECYCLE.move(
            self,
            "requeue",
            at=at,
            by=by,
            note="requeued",
            attempts=0,
            deferrals=0,
            next_attempt_at=resting or retry_at,
            claimed_by=None,
            waiting_for=WaitReason.REST_HOURS if resting else None,
        )

    def cancel(self, reason: str, *, at: datetime, by: str = "system") -> Message:
        """Withdraw a waiting message (pending or dead); ``reason`` goes into the history.

        A claimed message is being delivered right now and cannot be withdrawn; the
        refusal says by which worker and since when.
        """
        require_aware(at)
        _not_blank_arg(reason, "reason")
        if self.status not in MESSAGE_COMMANDS["cancel"].sources:
            raise self._refusal("cancel", "cancel is for waiting messages (pending or dead)")
        return MESSAGE_LIFECYCLE.move(
            self,
            "cancel",
            at=at,
            by=by,
            note=reason,
            lease_until=None,
            next_attempt_at=None,
            waiting_for=None,
        )


#: The longest "retry after" a notifier can express (a day); the policy cuts it further.
MAX_RETRY_AFTER_SECONDS = 86_400.0


def retry_after_seconds(value: object) -> float:
    """A "retry after" in seconds: a number or a ``timedelta`` from 0 to a day."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"must be a number of seconds or a timedelta, got {describe(value)}"
        raise ValidationError.at("retry_after", msg)
    if not math.isfinite(value) or not 0 <= value <= MAX_RETRY_AFTER_SECONDS:
        msg = f"must be from 0 to {MAX_RETRY_AFTER_SECONDS:g} seconds, got {describe(value)}"
        raise ValidationError.at("retry_after", msg)
    return float(value)


@attrs.frozen
class RetryAfter:
    """What a notifier may answer instead of ``True``: "not now, try again after".

    The same as raising ``DeliveryError(..., retry_after=seconds)``: the message is
    deferred (:meth:`Message.defer`) and no attempt is spent. ``pause_channel`` (the
    default) holds the channel's other due messages as long, as a rate limit needs.
    """

    seconds: float = attrs.field(converter=retry_after_seconds)
    reason: str = attrs.field(default="the receiver asked to retry later", validator=text)
    pause_channel: bool = attrs.field(default=True, validator=flag)


#: ``recipient_for(customer_id, channel)``: the address of a customer on a channel, if any.
RecipientLookup = Callable[[str | None, str], str | None]
#: ``rest_hours_for(customer_id)``: the customer's own rest hours, if set.
RestHoursLookup = Callable[[str], QuietHours | None]


def _moment(value: datetime | None) -> str:
    """A moment for people, in UTC to the second (``-`` for none)."""
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def _not_blank_arg(value: object, path: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must not be blank")
