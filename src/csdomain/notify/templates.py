"""Domain events become messages: templates, the ``csdomain_messages`` hook, drafts filled.

A :class:`MessageTemplate` says how one event type becomes one message;
:class:`MessageTemplates` is a data-driven plugin (event type name -> templates) whose
``csdomain_messages`` hook renders its templates. :func:`messages_for` calls the hook on
a plugin manager and turns the drafts into ready-to-store messages (channel, recipient,
idempotency key, times, rest hours). csdomain's own mapping is
:mod:`csdomain.notify.default_templates`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import pluggy

from csdomain.clock import require_aware
from csdomain.errors import ValidationError
from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.notify.keys import digest, idempotency_key, message_id_for
from csdomain.notify.model import (
    Message,
    MessageStatus,
    RecipientLookup,
    RestHoursLookup,
)
from csdomain.notify.policy import NotificationPolicy
from csdomain.notify.quiet_hours import hold_for_quiet_hours
from csdomain.serialization import to_json
from csdomain.validators import flag, instance_of, not_blank, optional, text, tuple_of


__all__ = [
    "MessageTemplate",
    "MessageTemplates",
    "OwnerNotices",
    "RecipientLookup",
    "RestHoursLookup",
    "event_type_name",
    "messages_for",
]


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
    """How one event type becomes one message (docs/domain.md 7: order/shipment notices ...).

    ``subject`` and ``body`` are :meth:`str.format` strings whose plain ``{field}``
    placeholders are filled from the event's attrs fields (plus ``{event_type}``).
    ``channel`` ``""`` means the policy's channel for ``kind``; ``recipient`` ``""`` means
    the address of the customer named by the event field ``customer_field``.
    """

    event_type: str = attrs.field(validator=not_blank)
    kind: str = attrs.field(validator=not_blank)
    body: str = attrs.field(validator=_template_text)
    subject: str = attrs.field(default="", validator=_template_text)
    channel: str = attrs.field(default="", validator=text)
    urgent: bool = attrs.field(default=False, validator=flag)
    customer_field: str = attrs.field(default="customer_id", validator=not_blank)
    recipient: str = attrs.field(default="", validator=text)

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

    templates: tuple[MessageTemplate, ...] = attrs.field(
        default=(), validator=tuple_of(MessageTemplate)
    )

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


@attrs.frozen
class OwnerNotices:
    """A ``csdomain_messages`` plugin for staff notices addressed by an event field.

    Renders ``templates`` and sends each draft to the staff member named by the event's
    ``recipient_field`` (``owner_id``), or to ``role:<owner_role>`` when the event names
    only a role. Staff notices carry no ``customer_id``, so customer rest hours never hold
    them. Source: docs/domain.md 3.4 (the next level of the follow-up ladder must follow).
    """

    templates: MessageTemplates = attrs.field(validator=instance_of(MessageTemplates))
    recipient_field: str = attrs.field(default="owner_id", validator=not_blank)
    role_field: str | None = attrs.field(default="owner_role", validator=optional(not_blank))

    def recipient_of(self, event: object) -> str | None:
        """The address of the staff member (or role) ``event`` names, if any."""
        person = getattr(event, self.recipient_field, None)
        if person:
            return str(person)
        role = getattr(event, self.role_field, None) if self.role_field else None
        return f"role:{role}" if role else None

    def render(self, event: object) -> list[Message]:
        """Draft notices for ``event`` addressed to its owner (empty without an owner)."""
        drafts = self.templates.render(event)
        recipient = self.recipient_of(event) if drafts else None
        if recipient is None:
            return []
        return [attrs.evolve(d, recipient=recipient, customer_id=None) for d in drafts]

    @hookimpl
    def csdomain_messages(self, event: Event) -> list[Message]:
        """Hook: the owner notices for ``event``."""
        return self.render(event)


def _event_source(event: Event, event_id: str | None) -> str:
    name = event_type_name(event)
    if event_id:
        return f"{name}:{event_id}"
    if attrs.has(type(event)):
        return f"{name}:sha-{digest(to_json(event).decode('utf-8'))}"
    return f"{name}:{digest(repr(event))}"


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
