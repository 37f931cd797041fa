"""Outgoing messages: one notification and the pure state machine the dispatcher drives.

A :class:`Message` is one notification to one recipient on one channel (``"sms"``,
``"email"``, ``"webhook"``, ``"log"`` ...). It is stored in the outbox and moved through
``pending -> claimed -> delivered`` by a dispatcher that only calls the methods here:
:meth:`Message.claim` takes a lease, :meth:`Message.mark_delivered` and
:meth:`Message.mark_failed` record the outcome (exponential backoff, dead letter after
``max_attempts``), :meth:`Message.requeue` brings a dead letter back and
:meth:`Message.cancel` withdraws a message. Each of them is a command of
:data:`MESSAGE_LIFECYCLE` (the command table :data:`MESSAGE_COMMANDS` beside
:data:`MESSAGE_TRANSITIONS`); a refused one raises
:class:`~csdomain.errors.InvalidTransition` naming the command and what must come first.
Delivery is at least once; every message carries a stable ``idempotency_key`` so
receivers can drop duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from csdomain.calendar import QuietHours
from csdomain.clock import as_utc, require_aware
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.notify.keys import idempotency_key, message_id_for
from csdomain.notify.policy import NotificationPolicy, backoff_delay
from csdomain.validators import (
    count,
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
]


class MessageStatus(StrEnum):
    """Where a message is in its delivery lifecycle."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


#: Allowed status moves. ``claimed -> claimed`` is a re-claim after an expired lease.
MESSAGE_TRANSITIONS: Mapping[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.PENDING: frozenset({MessageStatus.CLAIMED, MessageStatus.CANCELLED}),
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
    "mark_delivered": Command("record the delivery", frozenset({_C}), MessageStatus.DELIVERED),
    "mark_failed": Command("record a failed attempt", frozenset({_C}), MessageStatus.PENDING),
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
    if value.__class__ is MessageStatus:
        return value
    if isinstance(value, str):
        try:
            return MessageStatus(value)
        except ValueError:
            pass
    allowed = ", ".join(s.value for s in MessageStatus)
    raise ValidationError.at("status", f"{describe(value)} is not one of {allowed}")


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
        """Whether :meth:`claim` would succeed at ``at``."""
        due = self.due_at
        return due is not None and due <= require_aware(at)

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
        retry_at = at + backoff_delay(max(self.attempts, 1), policy, seed=self.id)
        if self.quiet_hours is not None and not self.urgent:
            retry_at = self.quiet_hours.next_allowed(retry_at)
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
        )

    def requeue(self, at: datetime, by: str = "operator") -> Message:
        """Send a dead letter again (``csdomain outbox retry ID``): attempts start over."""
        require_aware(at)
        retry_at = at
        if self.not_before is not None:
            retry_at = max(retry_at, self.not_before)
        if self.quiet_hours is not None and not self.urgent:
            retry_at = self.quiet_hours.next_allowed(retry_at)
        return MESSAGE_LIFECYCLE.move(
            self,
            "requeue",
            at=at,
            by=by,
            note="requeued",
            attempts=0,
            next_attempt_at=retry_at,
            claimed_by=None,
        )

    def cancel(self, reason: str, *, at: datetime, by: str = "system") -> Message:
        """Withdraw a pending message or a dead letter; ``reason`` goes into the history."""
        require_aware(at)
        _not_blank_arg(reason, "reason")
        return MESSAGE_LIFECYCLE.move(
            self, "cancel", at=at, by=by, note=reason, lease_until=None, next_attempt_at=None
        )


#: ``recipient_for(customer_id, channel)``: the address of a customer on a channel, if any.
RecipientLookup = Callable[[str | None, str], str | None]
#: ``rest_hours_for(customer_id)``: the customer's own rest hours, if set.
RestHoursLookup = Callable[[str], QuietHours | None]


def _not_blank_arg(value: object, path: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must not be blank")
