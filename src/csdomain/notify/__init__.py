"""Outgoing messages: the pure state machine the dispatcher drives, quiet hours and templates.

The package is split where the ideas split; every name is importable from here:

=====================================  ==========================================================
module                                 what it holds
=====================================  ==========================================================
:mod:`csdomain.notify.model`           :class:`Message`, its statuses and lifecycle
:mod:`csdomain.notify.policy`          :class:`NotificationPolicy`, :func:`backoff_delay`
:mod:`csdomain.notify.keys`            :func:`idempotency_key`, :func:`message_id_for`
:mod:`csdomain.notify.quiet_hours`     :func:`hold_for_quiet_hours` (DOMAIN.md 3.5 and 7)
:mod:`csdomain.notify.templates`       :class:`MessageTemplate`, :class:`MessageTemplates`,
                                       :func:`messages_for` (events become messages)
:mod:`csdomain.notify.receivers`       :class:`Deduplicator` for receivers
:mod:`csdomain.notify.default_templates`  the built-in plugin ``csdomain.notify``:
                                       :data:`DEFAULT_TEMPLATES` and its hook
=====================================  ==========================================================

Nothing here reads a clock or does I/O; the dispatcher in :mod:`csdomain.desk.notifications`
is the thin layer that does.
"""

from __future__ import annotations

from csdomain.notify.default_templates import DEFAULT_TEMPLATES, csdomain_messages
from csdomain.notify.keys import idempotency_key, message_id_for
from csdomain.notify.model import MESSAGE_TRANSITIONS, Message, MessageStatus
from csdomain.notify.policy import NotificationPolicy, backoff_delay
from csdomain.notify.quiet_hours import hold_for_quiet_hours
from csdomain.notify.receivers import Deduplicator
from csdomain.notify.templates import (
    MessageTemplate,
    MessageTemplates,
    RecipientLookup,
    RestHoursLookup,
    event_type_name,
    messages_for,
)


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
