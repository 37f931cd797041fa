"""Domain events become messages: templates, the ``csdomain_messages`` hook, drafts filled.

A :class:`MessageTemplate` says how one event type becomes one message;
:class:`MessageTemplates` is a data-driven plugin (event type name -> templates) whose
``csdomain_messages`` hook renders its templates. :func:`messages_for` calls the hook on
a plugin manager and turns the drafts into ready-to-store messages (channel, recipient,
idempotency key, times, rest hours). csdomain's own mapping is
:mod:`csdomain.notify.default_templates`.

Templates are written in English (their texts are the gettext message ids) and render in
the language of the current :class:`Rendering`: :func:`messages_for` renders in the
policy's ``language`` (``zh-CN`` by default) and again in a customer's own language when
``language_for`` names one; a template without a translation in that language renders in
its own language (English), never as a key. Money, dates, times and coded values (a
status, a shipping mode) are formatted the language's way (Babel; labels from
:mod:`csdomain.notify.labels`). Outside :func:`messages_for` and :func:`rendering`,
templates render in English with times in China Standard Time.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import pluggy

from csdomain.clock import require_aware
from csdomain.errors import ValidationError
from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.i18n import SOURCE_LANGUAGE, Translator, normalize_language, translator
from csdomain.money import Money
from csdomain.notify.keys import digest, idempotency_key, message_id_for
from csdomain.notify.labels import value_label
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
    "LanguageLookup",
    "MessageTemplate",
    "MessageTemplates",
    "OwnerNotices",
    "RecipientLookup",
    "Rendering",
    "RestHoursLookup",
    "current_rendering",
    "event_type_name",
    "localized_fields",
    "messages_for",
    "rendering",
]

#: ``language_for(customer_id)``: the customer's own language tag, if the file has one.
LanguageLookup = Callable[[str], str | None]


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


def _zone_name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected a time zone name, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at(attribute.name, f"unknown time zone {value!r}") from None


def _language(value: object) -> str:
    return normalize_language(value)


def _dirs(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("catalog_dirs", "expected a list of directory names")
    dirs = tuple(str(v) if not isinstance(v, str) else v for v in value)
    if not all(d.strip() for d in dirs):
        raise ValidationError.at("catalog_dirs", "a directory name is non-empty text")
    return dirs


@attrs.frozen
class Rendering:
    """The language, time zone and extra catalog directories templates render with.

    :func:`messages_for` renders with the policy's (``Rendering.of(policy)``), and again
    with a customer's own language and time zone; :func:`rendering` sets one for a block.
    """

    language: str = attrs.field(default=SOURCE_LANGUAGE, converter=_language)
    time_zone: str = attrs.field(default="Asia/Shanghai", validator=_zone_name)
    catalog_dirs: tuple[str, ...] = attrs.field(default=(), converter=_dirs)

    @classmethod
    def of(cls, policy: NotificationPolicy) -> Rendering:
        """The policy's rendering: ``language``, ``time_zone`` and ``catalog_dirs``."""
        return cls(policy.language, policy.time_zone, policy.catalog_dirs)

    def translator(self, language: str | None = None) -> Translator:
        """The translator of ``language`` (this rendering's by default) with its catalogs."""
        return translator(language or self.language, self.catalog_dirs)


_RENDERING: ContextVar[Rendering | None] = ContextVar("csdomain_rendering", default=None)
_DEFAULT_RENDERING = Rendering()


def current_rendering() -> Rendering:
    """The rendering templates use now (English, China Standard Time outside any)."""
    return _RENDERING.get() or _DEFAULT_RENDERING


@contextmanager
def rendering(
    language: str = SOURCE_LANGUAGE,
    *,
    time_zone: str = "Asia/Shanghai",
    catalog_dirs: Iterable[str] = (),
) -> Iterator[Rendering]:
    """Render templates in ``language`` (and ``time_zone``) inside the ``with`` block."""
    chosen = Rendering(language, time_zone, tuple(catalog_dirs))
    token = _RENDERING.set(chosen)
    try:
        yield chosen
    finally:
        _RENDERING.reset(token)


def _same_language(a: str, b: str) -> bool:
    """``zh-CN`` and ``zh-CN``, or a language and its base (``en``, ``en-US``)."""
    return a == b or a.partition("-")[0] == b or b.partition("-")[0] == a


def _value_text(value: object, tr: Translator, zone: str) -> object:
    if value is None:
        return ""
    if isinstance(value, Money):
        return tr.format_money(value)
    if isinstance(value, datetime):
        return tr.format_datetime(value, zone)
    if isinstance(value, date):
        return tr.format_date(value)
    if isinstance(value, Enum):
        return value_label(value, tr)
    return value


def localized_fields(fields: Mapping[str, Any], tr: Translator, time_zone: str) -> dict[str, Any]:
    """Template fields in ``tr``'s language: money, dates, times (in ``time_zone``), labels.

    ``None`` becomes ``""``; text and numbers stay as they are (so ``{level:d}`` works).
    """
    return {name: _value_text(value, tr, time_zone) for name, value in fields.items()}


def _condition_key(value: object) -> str:
    """How a field's value is compared in ``when``/``unless``: ``None`` is ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _conditions(value: object) -> tuple[tuple[str, frozenset[str]], ...]:
    if isinstance(value, tuple) and all(
        isinstance(c, tuple) and len(c) == 2 and isinstance(c[1], frozenset) for c in value
    ):
        pairs: Iterable[tuple[object, object]] = value
    elif isinstance(value, Mapping):
        pairs = value.items()
    else:
        raise ValidationError.at("when", "expected a mapping of event field to allowed values")
    result = []
    for name, allowed in pairs:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValidationError.at("when", f"{name!r} is not an event field name")
        values = (allowed,) if isinstance(allowed, str) else allowed
        if not isinstance(values, Iterable) or not all(isinstance(v, str) for v in values):
            raise ValidationError.at(f"when.{name}", "expected text values")
        result.append((name, frozenset(values)))
    return tuple(sorted(result))


@attrs.frozen(kw_only=True)
class MessageTemplate:
    """How one event type becomes one message (docs/domain.md 7: order/shipment notices ...).

    ``subject`` and ``body`` are :meth:`str.format` strings whose plain ``{field}``
    placeholders are filled from the event's attrs fields (plus ``{event_type}``), each
    formatted in the rendering's language (money, dates, times, coded values).
    ``channel`` ``""`` means the policy's channel for ``kind``; ``recipient`` ``""`` means
    the address of the customer named by the event field ``customer_field``.

    ``language`` is the language ``subject`` and ``body`` are written in (English, the
    catalogs' message ids); rendered in another language they are looked up in its catalog
    and, when either is untranslated, the whole message stays in ``language``. ``when``
    and ``unless`` (event field -> values, compared as text, ``None`` as ``""``) choose
    the events the template applies to; ``variant`` tells apart templates of one kind
    for different cases (``with_template`` replaces by event type, kind and variant).
    """

    event_type: str = attrs.field(validator=not_blank)
    kind: str = attrs.field(validator=not_blank)
    body: str = attrs.field(validator=_template_text)
    subject: str = attrs.field(default="", validator=_template_text)
    channel: str = attrs.field(default="", validator=text)
    urgent: bool = attrs.field(default=False, validator=flag)
    customer_field: str = attrs.field(default="customer_id", validator=not_blank)
    recipient: str = attrs.field(default="", validator=text)
    language: str = attrs.field(default=SOURCE_LANGUAGE, converter=_language)
    variant: str = attrs.field(default="", validator=text)
    when: tuple[tuple[str, frozenset[str]], ...] = attrs.field(default=(), converter=_conditions)
    unless: tuple[tuple[str, frozenset[str]], ...] = attrs.field(default=(), converter=_conditions)

    @property
    def placeholders(self) -> frozenset[str]:
        """The event fields ``subject`` and ``body`` use."""
        return _placeholders(self.subject, "subject") | _placeholders(self.body, "body")

    def applies_to(self, event: object) -> bool:
        """Whether ``event`` is of this template's type and meets ``when`` and ``unless``."""
        if event_type_name(event) != self.event_type:
            return False
        for name, allowed in self.when:
            if _condition_key(getattr(event, name, None)) not in allowed:
                return False
        return not any(
            _condition_key(getattr(event, name, None)) in barred for name, barred in self.unless
        )

    def texts(self, tr: Translator) -> tuple[str, str, Translator]:
        """``(subject, body, translator)`` in ``tr``'s language, or in the template's own."""
        if _same_language(tr.language, self.language):
            return self.subject, self.body, tr
        subject_ok = not self.subject or tr.has(self.subject)
        if subject_ok and tr.has(self.body):
            subject = tr.gettext(self.subject) if self.subject else ""
            return subject, tr.gettext(self.body), tr
        own = translator(self.language, ())
        return self.subject, self.body, own

    def render(self, event: object, rendering: Rendering | None = None) -> Message:
        """The draft message for ``event`` in ``rendering`` (the current one by default)."""
        chosen = rendering or current_rendering()
        raw = _event_fields(event)
        path = f"templates.{self.event_type}.{self.kind}"
        subject, body, used = self.texts(chosen.translator())
        fields = localized_fields(raw, used, chosen.time_zone)
        customer = raw.get(self.customer_field)
        return Message(
            channel=self.channel,
            recipient=self.recipient,
            customer_id=None if customer is None else str(customer),
            kind=self.kind,
            subject=_render(subject, fields, f"{path}.subject"),
            body=_render(body, fields, f"{path}.body"),
            urgent=self.urgent,
            language=used.language,
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
        """The templates for the event type called ``name`` (all variants)."""
        return tuple(t for t in self.templates if t.event_type == name)

    def for_event(self, event: object) -> tuple[MessageTemplate, ...]:
        """The templates that apply to ``event`` (its type, ``when`` and ``unless``)."""
        return tuple(t for t in self.templates if t.applies_to(event))

    @property
    def event_types(self) -> frozenset[str]:
        """Names of the event types that have templates."""
        return frozenset(t.event_type for t in self.templates)

    def with_template(self, template: MessageTemplate) -> MessageTemplates:
        """A copy with ``template`` replacing any of the same event type, kind and variant."""
        identity = (template.event_type, template.kind, template.variant)
        kept = tuple(t for t in self.templates if (t.event_type, t.kind, t.variant) != identity)
        return MessageTemplates((*kept, template))

    def without(self, event_type: str, kind: str | None = None) -> MessageTemplates:
        """A copy without the templates of ``event_type`` (only ``kind`` when given, with
        all its variants)."""
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

    def render(self, event: object, rendering: Rendering | None = None) -> list[Message]:
        """Draft messages for ``event`` in ``rendering`` (the current one by default); empty
        when no template applies to it."""
        return [t.render(event, rendering) for t in self.for_event(event)]

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

    def render(self, event: object, rendering: Rendering | None = None) -> list[Message]:
        """Draft notices for ``event`` addressed to its owner (empty without an owner)."""
        drafts = self.templates.render(event, rendering)
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


def _drafts(event: Event, pm: pluggy.PluginManager, chosen: Rendering) -> list[Message]:
    """The drafts every ``csdomain_messages`` hook gives for ``event`` in ``chosen``."""
    token = _RENDERING.set(chosen)
    try:
        results = pm.hook.csdomain_messages(event=event)
    finally:
        _RENDERING.reset(token)
    drafts = []
    for batch in results:
        for draft in batch or ():
            if not isinstance(draft, Message):
                raise ValidationError.at(
                    "csdomain_messages", f"a plugin returned {type(draft).__name__}, not Message"
                )
            drafts.append(draft)
    return drafts


def _same_draft(a: Message, b: Message) -> bool:
    return (a.kind, a.customer_id, a.channel, a.recipient, a.urgent) == (
        b.kind,
        b.customer_id,
        b.channel,
        b.recipient,
        b.urgent,
    )


def _in_customers_language(
    event: Event,
    pm: pluggy.PluginManager,
    drafts: list[Message],
    *,
    base: Rendering,
    language_for: LanguageLookup | None,
    rest_hours_for: RestHoursLookup | None,
) -> list[Message]:
    """``drafts`` with each customer's message rendered again in the customer's own
    language and time zone where they differ from ``base`` (their rest hours' zone)."""
    if language_for is None and rest_hours_for is None:
        return drafts
    again: dict[Rendering, list[Message]] = {}
    result = []
    for draft in drafts:
        customer = draft.customer_id
        if customer is None or not draft.language:
            result.append(draft)
            continue
        language = (language_for(customer) if language_for else None) or base.language
        hours = rest_hours_for(customer) if rest_hours_for else None
        wanted = Rendering(language, hours.tz if hours else base.time_zone, base.catalog_dirs)
        if wanted == base:
            result.append(draft)
            continue
        if wanted not in again:
            again[wanted] = _drafts(event, pm, wanted)
        twin = next((d for d in again[wanted] if _same_draft(d, draft)), None)
        result.append(draft if twin is None else twin)
    return result


def messages_for(
    event: Event,
    pm: pluggy.PluginManager,
    *,
    at: datetime,
    policy: NotificationPolicy,
    recipient_for: RecipientLookup,
    rest_hours_for: RestHoursLookup | None = None,
    event_id: str | None = None,
    language_for: LanguageLookup | None = None,
) -> list[Message]:
    """Ready-to-store messages for ``event``: calls ``csdomain_messages`` and fills drafts.

    The hooks render in the policy's language and time zone (:meth:`Rendering.of`); a
    customer message is rendered again in the customer's own language
    (``language_for(customer_id)``, ``None`` for the policy's) and the time zone of the
    customer's rest hours when those differ. Fills the channel (policy default for the
    kind), the recipient (``recipient_for(customer_id, channel)``; a draft whose recipient
    stays unknown is dropped), the idempotency key (from ``event_id``, e.g. the outbox
    entry id, else a hash of the event), the id (from the key), times, and holds customer
    messages for their rest hours (``rest_hours_for(customer_id)``, else the policy
    default). Calling it twice for the same event gives equal messages with equal ids.
    """
    require_aware(at)
    source = _event_source(event, event_id)
    base = Rendering.of(policy)
    drafts = _in_customers_language(
        event,
        pm,
        _drafts(event, pm, base),
        base=base,
        language_for=language_for,
        rest_hours_for=rest_hours_for,
    )
    result: dict[str, Message] = {}
    for draft in drafts:
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
