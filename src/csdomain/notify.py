"""Outgoing messages: the pure state machine the dispatcher drives, quiet hours and templates.

A :class:`Message` is one notification to one recipient on one channel (``"sms"``,
``"email"``, ``"webhook"``, ``"log"`` ...). It is stored in the outbox and moved through
``pending -> claimed -> delivered`` by a dispatcher that only calls the methods here:
:meth:`Message.claim` takes a lease, :meth:`Message.mark_delivered` and
:meth:`Message.mark_failed` record the outcome (exponential backoff, dead letter after
``max_attempts``), :meth:`Message.requeue` brings a dead letter back and
:meth:`Message.cancel` withdraws a message. Delivery is at least once; every message
carries a stable ``idempotency_key`` so receivers can drop duplicates
(:class:`Deduplicator` is such a receiver-side filter).

Rest hours (DOMAIN.md 3.5 and 7: a message never goes out during the customer's rest hours
unless urgent) are applied by :func:`hold_for_quiet_hours`; the hours used are kept on the
message so that retries also land outside them.

Domain events become messages through the ``csdomain_messages`` hook.
:class:`MessageTemplates` is a data-driven plugin (event type name -> template), and this
module itself is a plugin whose hook renders :data:`DEFAULT_TEMPLATES`;
:func:`messages_for` calls the hook and turns the drafts into ready-to-store messages.
"""

from __future__ import annotations

import hashlib
import string
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs
import pluggy

from csdomain.calendar import QuietHours
from csdomain.clock import as_utc, require_aware
from csdomain.errors import RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.serialization import to_json
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "DEFAULT_TEMPLATES",
    "MESSAGE_TRANSITIONS",
    "Deduplicator",
    "Message",
    "MessageStatus",
    "MessageTemplate",
    "MessageTemplates",
    "NotificationPolicy",
    "RecipientLookup",
    "RestHoursLookup",
    "backoff_delay",
    "csdomain_messages",
    "event_type_name",
    "hold_for_quiet_hours",
    "idempotency_key",
    "message_id_for",
    "messages_for",
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


# -- validators ----------------------------------------------------------------------------


def _message_status(value: MessageStatus | str) -> MessageStatus:
    try:
        return MessageStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in MessageStatus)
        raise ValidationError.at("status", f"{value!r} is not one of {allowed}") from None


def _aware_or_none(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        require_aware(value, attribute.name)


def _string(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected a string, got {type(value).__name__}")


def _key_text(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    """Idempotency keys travel in mail and HTTP headers: printable ASCII, no spaces."""
    if not isinstance(value, str) or len(value) > 200 or not all("!" <= c <= "~" for c in value):
        raise ValidationError.at(
            attribute.name, "must be at most 200 printable ASCII characters without spaces"
        )


def _non_negative(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.at(attribute.name, f"must be a non-negative integer, got {value!r}")


def _positive_int(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError.at(attribute.name, f"must be a positive integer, got {value!r}")


def _positive_duration(
    _instance: object, attribute: attrs.Attribute[timedelta], value: object
) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.at(attribute.name, f"must be a positive duration, got {value!r}")


def _quiet_hours_or_none(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, QuietHours):
        raise ValidationError.at(attribute.name, "expected QuietHours or None")


# -- keys ------------------------------------------------------------------------------


def _digest(text: str, size: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def idempotency_key(source: str, kind: str, channel: str, target: str) -> str:
    """A stable key for "this source produced this kind of message for this target".

    The same event (``source``, e.g. ``"OrderShipped:20261101..."``) rendered twice gives
    the same key, so duplicates can be dropped by the store and by receivers.
    """
    prefix = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in kind)
    return f"{prefix[:40]}-{_digest(chr(31).join((source, kind, channel, target)))}"


def message_id_for(key: str) -> str:
    """The message id derived from an idempotency key (one stored message per key)."""
    return f"msg-{_digest(key, 12)}"


# -- policy ------------------------------------------------------------------------------


def _default_channels() -> dict[str, str]:
    return {
        "order_confirmed": "sms",
        "order_shipped": "sms",
        "complaint_received": "sms",
        "complaint_closed": "sms",
        "next_day_call": "sms",
        "handover_one_month": "sms",
        "annual_inspection": "sms",
        "new_year_check": "sms",
        "birthday": "sms",
        "maintenance_reminder": "sms",
        "dealer_announcement": "email",
    }


def _factor(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 1:
        raise ValidationError.at(attribute.name, f"must be a Decimal >= 1, got {value!r}")


def _fraction(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError.at(attribute.name, f"must be a Decimal in [0, 1], got {value!r}")


def _channel_map(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, "expected a mapping of kind to channel")
    for kind, channel in value.items():
        if not isinstance(kind, str) or not isinstance(channel, str) or not channel:
            raise ValidationError.at(f"{attribute.name}.{kind}", "expected a channel name")


@attrs.frozen(kw_only=True)
class NotificationPolicy:
    """Numbers of the notification outbox and dispatcher (DOMAIN.md 7, DESIGN.md 5).

    Defaults: 5 attempts; backoff 1 min, x2 per attempt, capped at 1 h, no jitter; a
    5-minute lease; rest hours 21:00-08:00 Asia/Shanghai for customers without their own;
    SMS for customer notices and e-mail for dealer announcements; batches of 100.
    """

    max_attempts: int = attrs.field(default=5, validator=_positive_int)
    backoff_base: timedelta = attrs.field(
        default=timedelta(minutes=1), validator=_positive_duration
    )
    backoff_factor: Decimal = attrs.field(default=Decimal(2), validator=_factor)
    backoff_cap: timedelta = attrs.field(default=timedelta(hours=1), validator=_positive_duration)
    #: Fraction of each delay taken off by a deterministic per-message jitter (0 = none).
    backoff_jitter: Decimal = attrs.field(default=Decimal(0), validator=_fraction)
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=_positive_duration)
    default_rest_hours: QuietHours | None = attrs.field(
        default=QuietHours(time(21), time(8), "Asia/Shanghai"), validator=_quiet_hours_or_none
    )
    default_channel: str = attrs.field(default="sms", validator=_not_blank)
    channels: Mapping[str, str] = attrs.field(factory=_default_channels, validator=_channel_map)
    batch_size: int = attrs.field(default=100, validator=_positive_int)
    max_error_length: int = attrs.field(default=500, validator=_positive_int)

    def __attrs_post_init__(self) -> None:
        if self.backoff_cap < self.backoff_base:
            raise ValidationError.at("backoff_cap", "must not be shorter than backoff_base")

    def channel_for(self, kind: str) -> str:
        """The channel a message of ``kind`` uses when its template names none."""
        return self.channels.get(kind, self.default_channel)


def backoff_delay(attempt: int, policy: NotificationPolicy, *, seed: str = "") -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based).

    ``base * factor ** (attempt - 1)``, never more than ``backoff_cap``. With
    ``backoff_jitter`` > 0, up to that fraction is taken off, derived from ``seed`` and
    ``attempt`` (so the result is reproducible and never above the cap).
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValidationError.at("attempt", f"must be a positive integer, got {attempt!r}")
    base = Decimal(policy.backoff_base // timedelta(microseconds=1))
    cap = Decimal(policy.backoff_cap // timedelta(microseconds=1))
    factor = policy.backoff_factor
    delay = base
    for _ in range(attempt - 1):
        delay *= factor
        if delay >= cap:
            break
    delay = min(delay, cap)
    if policy.backoff_jitter:
        fraction = Decimal(int(_digest(f"{seed}:{attempt}", 8), 16)) / Decimal(2**64)
        delay -= delay * policy.backoff_jitter * fraction
    return timedelta(microseconds=int(delay))


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
    channel: str = attrs.field(default="", validator=_string)
    recipient: str = attrs.field(default="", validator=_string)
    customer_id: str | None = None
    kind: str = attrs.field(validator=_not_blank)
    subject: str = attrs.field(default="", validator=_string)
    body: str = attrs.field(validator=_string)
    urgent: bool = False
    idempotency_key: str = attrs.field(default="", validator=_key_text)
    #: Where the message came from: ``"<EventType>:<event id>"``, ``"care"``, ``"manual"``.
    source: str = attrs.field(default="", validator=_string)
    created_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=_aware_or_none
    )
    #: Held until this instant (quiet hours, scheduled care touch-points).
    not_before: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=_aware_or_none
    )
    #: The recipient's rest hours that apply to this message (retries avoid them too).
    quiet_hours: QuietHours | None = attrs.field(default=None, validator=_quiet_hours_or_none)
    status: MessageStatus = attrs.field(default=MessageStatus.PENDING, converter=_message_status)
    attempts: int = attrs.field(default=0, validator=_non_negative)
    next_attempt_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=_aware_or_none
    )
    claimed_by: str | None = None
    lease_until: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=_aware_or_none
    )
    last_error: str | None = None
    delivered_at: datetime | None = attrs.field(
        default=None, converter=as_utc, validator=_aware_or_none
    )
    history: tuple[StatusChange, ...] = ()

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

    def _moved(
        self, to: MessageStatus, at: datetime, by: str, note: str = "", **changes: Any
    ) -> Message:
        check_transition(MESSAGE_TRANSITIONS, "message", self.id, self.status, to)
        change = StatusChange(from_=str(self.status), to=str(to), at=at, by=by, note=note)
        return attrs.evolve(self, status=to, history=(*self.history, change), **changes)

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
                f"message {self.id!r} is leased to {self.claimed_by!r}",
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
        return self._moved(
            MessageStatus.CLAIMED,
            at,
            owner,
            claimed_by=owner,
            lease_until=at + lease,
            attempts=self.attempts + 1,
        )

    def mark_delivered(self, at: datetime) -> Message:
        """Record that the claimed attempt delivered the message."""
        require_aware(at)
        return self._moved(
            MessageStatus.DELIVERED,
            at,
            self.claimed_by or "dispatcher",
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
        text = str(error)[: policy.max_error_length]
        by = self.claimed_by or "dispatcher"
        if self.attempts >= policy.max_attempts:
            return self._moved(
                MessageStatus.DEAD,
                at,
                by,
                text,
                last_error=text,
                claimed_by=None,
                lease_until=None,
                next_attempt_at=None,
            )
        retry_at = at + backoff_delay(max(self.attempts, 1), policy, seed=self.id)
        if self.quiet_hours is not None and not self.urgent:
            retry_at = self.quiet_hours.next_allowed(retry_at)
        return self._moved(
            MessageStatus.PENDING,
            at,
            by,
            text,
            last_error=text,
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
        return self._moved(
            MessageStatus.PENDING,
            at,
            by,
            "requeued",
            attempts=0,
            next_attempt_at=retry_at,
            claimed_by=None,
        )

    def cancel(self, reason: str, *, at: datetime, by: str = "system") -> Message:
        """Withdraw a pending message or a dead letter; ``reason`` goes into the history."""
        require_aware(at)
        _not_blank_arg(reason, "reason")
        return self._moved(
            MessageStatus.CANCELLED, at, by, reason, lease_until=None, next_attempt_at=None
        )


def _not_blank_arg(value: object, path: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must not be blank")


# -- quiet hours ---------------------------------------------------------------------------


def hold_for_quiet_hours(
    message: Message, rest_hours: QuietHours | None, policy: NotificationPolicy
) -> Message:
    """Hold a message to a customer until the customer's rest hours end (DOMAIN.md 3.5, 7).

    ``rest_hours`` is the customer's own setting; ``None`` means the policy default. Urgent
    messages and messages to no customer (staff, webhooks) are never held. The hours used
    are recorded on the message so that retries avoid them as well.
    """
    if message.urgent or message.customer_id is None:
        return message
    hours = rest_hours if rest_hours is not None else policy.default_rest_hours
    if hours is None:
        return message
    earliest = message.next_attempt_at or message.not_before or message.created_at
    if earliest is None:
        raise ValidationError.at("created_at", "a draft message has no time to hold from")
    allowed = hours.next_allowed(earliest)
    not_before = message.not_before
    if allowed != earliest:
        not_before = allowed if not_before is None else max(not_before, allowed)
    if message.status is not MessageStatus.PENDING:
        return attrs.evolve(message, quiet_hours=hours)
    return attrs.evolve(message, quiet_hours=hours, not_before=not_before, next_attempt_at=allowed)


# -- templates -----------------------------------------------------------------------------


def event_type_name(event: object) -> str:
    """The registered type name of an event (its class name unless it sets ``type_name``)."""
    return str(getattr(type(event), "type_name", type(event).__name__))


def _placeholders(text: str, path: str) -> frozenset[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise ValidationError.at(path, f"bad template: {err}") from None
    names = set()
    for _, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise ValidationError.at(path, f"placeholder {{{name}}} must be a plain field name")
        if spec and ("{" in spec or "}" in spec):
            raise ValidationError.at(path, "nested placeholders are not allowed")
        names.add(name)
    return frozenset(names)


def _template_text(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected a string, got {type(value).__name__}")
    _placeholders(value, attribute.name)


def _render(text: str, fields: Mapping[str, Any], path: str) -> str:
    missing = sorted(_placeholders(text, path) - set(fields))
    if missing:
        raise ValidationError.at(path, f"the event has no field(s) {', '.join(missing)}")
    try:
        return text.format_map(fields)
    except (ValueError, TypeError) as err:
        raise ValidationError.at(path, f"cannot format: {err}") from None


def _event_fields(event: object) -> dict[str, Any]:
    if not attrs.has(type(event)):
        raise ValidationError.at("event", f"{type(event).__name__} is not an attrs class")
    fields = attrs.asdict(event, recurse=False)  # type: ignore[arg-type]
    fields.setdefault("event_type", event_type_name(event))
    return fields


@attrs.frozen(kw_only=True)
class MessageTemplate:
    """How one event type becomes one message (DOMAIN.md 7: order/shipment notices ...).

    ``subject`` and ``body`` are :meth:`str.format` strings whose plain ``{field}``
    placeholders are filled from the event's attrs fields (plus ``{event_type}``).
    ``channel`` ``""`` means the policy's channel for ``kind``; ``recipient`` ``""`` means
    the address of the customer named by the event field ``customer_field``.
    """

    event_type: str = attrs.field(validator=_not_blank)
    kind: str = attrs.field(validator=_not_blank)
    body: str = attrs.field(validator=_template_text)
    subject: str = attrs.field(default="", validator=_template_text)
    channel: str = attrs.field(default="", validator=_string)
    urgent: bool = False
    customer_field: str = "customer_id"
    recipient: str = attrs.field(default="", validator=_string)

    def render(self, event: object) -> Message:
        """The draft message for ``event``."""
        fields = _event_fields(event)
        path = f"templates.{self.event_type}.{self.kind}"
        customer = fields.get(self.customer_field)
        return Message(
            channel=self.channel,
            recipient=self.recipient,
            customer_id=None if customer is None else str(customer),
            kind=self.kind,
            subject=_render(self.subject, fields, f"{path}.subject"),
            body=_render(self.body, fields, f"{path}.body"),
            urgent=self.urgent,
        )


@attrs.frozen
class MessageTemplates:
    """A registry of templates keyed by event type name; also a ``csdomain_messages`` plugin.

    Register an instance with ``pm.register(templates)`` or
    :func:`csdomain.plugins.register`; every registered instance adds its messages. Build
    variants with :meth:`with_template`, :meth:`without` and :meth:`merged`.
    """

    templates: tuple[MessageTemplate, ...] = ()

    def for_event_type(self, name: str) -> tuple[MessageTemplate, ...]:
        """The templates for the event type called ``name``."""
        return tuple(t for t in self.templates if t.event_type == name)

    @property
    def event_types(self) -> frozenset[str]:
        """Names of the event types that have templates."""
        return frozenset(t.event_type for t in self.templates)

    def with_template(self, template: MessageTemplate) -> MessageTemplates:
        """A copy with ``template`` replacing any of the same event type and kind."""
        kept = tuple(
            t
            for t in self.templates
            if (t.event_type, t.kind) != (template.event_type, template.kind)
        )
        return MessageTemplates((*kept, template))

    def without(self, event_type: str, kind: str | None = None) -> MessageTemplates:
        """A copy without the templates of ``event_type`` (only ``kind`` when given)."""
        return MessageTemplates(
            tuple(
                t
                for t in self.templates
                if not (t.event_type == event_type and kind in (None, t.kind))
            )
        )

    def merged(self, other: MessageTemplates) -> MessageTemplates:
        """``self`` with every template of ``other`` added (``other`` wins on clashes)."""
        result = self
        for template in other.templates:
            result = result.with_template(template)
        return result

    def render(self, event: object) -> list[Message]:
        """Draft messages for ``event`` (empty when no template matches its type)."""
        return [t.render(event) for t in self.for_event_type(event_type_name(event))]

    @hookimpl
    def csdomain_messages(self, event: Event) -> list[Message]:
        """Hook: the drafts of this registry's templates for ``event``."""
        return self.render(event)


#: csdomain's own event-to-message mapping (rendered by this module's plugin hook).
DEFAULT_TEMPLATES = MessageTemplates(
    (
        MessageTemplate(
            event_type="OrderConfirmed",
            kind="order_confirmed",
            subject="Order {order_id} confirmed",
            body="Your order {order_id} is confirmed. We ship as soon as payment arrives.",
        ),
        MessageTemplate(
            event_type="OrderShipped",
            kind="order_shipped",
            subject="Order {order_id} shipped",
            body="Your order {order_id} has been shipped; delivery usually takes 2-3 days.",
        ),
        MessageTemplate(
            event_type="ComplaintReceived",
            kind="complaint_received",
            subject="We received your complaint {complaint_id}",
            body="Thank you. Your complaint {complaint_id} is registered and will be followed up.",
        ),
        MessageTemplate(
            event_type="ComplaintClosed",
            kind="complaint_closed",
            subject="Complaint {complaint_id} closed",
            body="Your complaint {complaint_id} is closed. We will call to hear how it went.",
        ),
        MessageTemplate(
            event_type="SurveyResponseRecorded",
            kind="survey_thanks",
            subject="Thank you for your answers",
            body="Thank you for answering our survey. We read every answer and act on it.",
        ),
    )
)


@hookimpl
def csdomain_messages(event: Event) -> list[Message]:
    """Hook: csdomain's default mapping, :data:`DEFAULT_TEMPLATES` (block ``csdomain.notify``
    to replace it)."""
    return DEFAULT_TEMPLATES.render(event)


RecipientLookup = Callable[[str | None, str], str | None]
RestHoursLookup = Callable[[str], QuietHours | None]


def _event_source(event: Event, event_id: str | None) -> str:
    name = event_type_name(event)
    if event_id:
        return f"{name}:{event_id}"
    if attrs.has(type(event)):
        return f"{name}:sha-{_digest(to_json(event).decode('utf-8'))}"
    return f"{name}:{_digest(repr(event))}"


def messages_for(
    event: Event,
    pm: pluggy.PluginManager,
    *,
    at: datetime,
    policy: NotificationPolicy,
    recipient_for: RecipientLookup,
    rest_hours_for: RestHoursLookup | None = None,
    event_id: str | None = None,
) -> list[Message]:
    """Ready-to-store messages for ``event``: calls ``csdomain_messages`` and fills drafts.

    Fills the channel (policy default for the kind), the recipient
    (``recipient_for(customer_id, channel)``; a draft whose recipient stays unknown is
    dropped), the idempotency key (from ``event_id``, e.g. the outbox entry id, else a hash
    of the event), the id (from the key), times, and holds customer messages for their rest
    hours (``rest_hours_for(customer_id)``, else the policy default). Calling it twice for
    the same event gives equal messages with equal ids.
    """
    require_aware(at)
    source = _event_source(event, event_id)
    result: dict[str, Message] = {}
    for drafts in pm.hook.csdomain_messages(event=event):
        for draft in drafts or ():
            if not isinstance(draft, Message):
                raise ValidationError.at(
                    "csdomain_messages", f"a plugin returned {type(draft).__name__}, not Message"
                )
            channel = draft.channel or policy.channel_for(draft.kind)
            recipient = draft.recipient or recipient_for(draft.customer_id, channel)
            if not recipient:
                continue
            key = draft.idempotency_key or idempotency_key(
                source, draft.kind, channel, draft.customer_id or recipient
            )
            start = at if draft.not_before is None else max(at, draft.not_before)
            message = attrs.evolve(
                draft,
                id=draft.id or message_id_for(key),
                channel=channel,
                recipient=recipient,
                idempotency_key=key,
                source=draft.source or source,
                created_at=at,
                status=MessageStatus.PENDING,
                attempts=0,
                next_attempt_at=start,
                claimed_by=None,
                lease_until=None,
                last_error=None,
                delivered_at=None,
                history=(),
            )
            hours = None
            if rest_hours_for is not None and message.customer_id is not None:
                hours = rest_hours_for(message.customer_id)
            message = hold_for_quiet_hours(message, hours, policy)
            result.setdefault(message.id, message)
    return list(result.values())


# -- receivers ---------------------------------------------------------------------------


class Deduplicator:
    """Receiver-side duplicate filter: remembers the last ``capacity`` idempotency keys.

    Delivery is at least once; a receiver that acts only when :meth:`first_time` is true
    gets an exactly-once effect for duplicates that arrive within the window.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValidationError.at("capacity", "must be a positive integer")
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen (and remember it), False for a duplicate."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"Deduplicator(capacity={self.capacity}, seen={len(self._seen)})"
