"""Outgoing messages: the pure state machine the dispatcher drives, quiet hours and templates.

The package is split where the ideas split; every name is importable from here:

- :mod:`~csdomain.notify.model`: :class:`Message`, its statuses, lifecycle and
  :class:`WaitReason`;
- :mod:`~csdomain.notify.policy`: :class:`NotificationPolicy`, :class:`ChannelLimits`,
  :func:`backoff_delay`;
- :mod:`~csdomain.notify.keys`: :func:`idempotency_key`, :func:`message_id_for`;
- :mod:`~csdomain.notify.quiet_hours`: :func:`hold_for_quiet_hours` (docs/domain.md 3.5, 7);
- :mod:`~csdomain.notify.templates`: :class:`MessageTemplate`, :class:`MessageTemplates`,
  :class:`OwnerNotices` and :func:`messages_for` (domain events become messages), in the
  language of a :class:`Rendering` (:func:`rendering`; catalogs: :mod:`csdomain.i18n`);
- :mod:`~csdomain.notify.labels`: the words for coded values (a status, a shipping mode);
- :mod:`~csdomain.notify.care_notices`: care touch-point messages in a language
  (:func:`localized_care_message`);
- :mod:`~csdomain.notify.receivers`: :class:`Deduplicator` for receivers;
- :mod:`~csdomain.notify.announcements`: :class:`DealerAnnouncement`, one dealer's copy of
  an announcement to every dealer, and its template;
- :mod:`~csdomain.notify.pacing`: the token bucket behind a channel's rate limit;
- the built-in plugins, registered by :func:`csdomain.plugins.get_plugin_manager`:
  :mod:`~csdomain.notify.default_templates` (plugin ``csdomain.notify``, the customer
  notices :data:`DEFAULT_TEMPLATES`) and :mod:`~csdomain.notify.escalation_notices`
  (plugin ``csdomain.escalation_notices``, :data:`ESCALATION_NOTICES` to staff).

Nothing here reads a clock or does I/O; the dispatcher in :mod:`csdomain.desk.notifications`
is the thin layer that does.
"""

from __future__ import annotations

from csdomain.notify.announcements import (
    DEALER_ANNOUNCEMENT_TEMPLATE,
    Announcement,
    DealerAnnouncement,
)
from csdomain.notify.care_notices import CARE_TEXTS, care_texts, localized_care_message
from csdomain.notify.default_templates import (
    COMPLAINT_STATUS_NOTICES,
    DEFAULT_TEMPLATES,
    csdomain_messages,
)
from csdomain.notify.escalation_notices import ESCALATION_NOTICES
from csdomain.notify.keys import idempotency_key, message_id_for
from csdomain.notify.labels import VALUE_LABELS, value_label
from csdomain.notify.model import (
    MESSAGE_COMMANDS,
    MESSAGE_LIFECYCLE,
    MESSAGE_TRANSITIONS,
    Message,
    MessageStatus,
    RetryAfter,
    WaitReason,
)
from csdomain.notify.policy import ChannelLimits, NotificationPolicy, backoff_delay
from csdomain.notify.quiet_hours import hold_for_quiet_hours
from csdomain.notify.receivers import Deduplicator
from csdomain.notify.templates import (
    LanguageLookup,
    MessageTemplate,
    MessageTemplates,
    OwnerNotices,
    RecipientLookup,
    Rendering,
    RestHoursLookup,
    current_rendering,
    event_type_name,
    localized_fields,
    messages_for,
    rendering,
)


__all__ = [
    "CARE_TEXTS",
    "COMPLAINT_STATUS_NOTICES",
    "DEALER_ANNOUNCEMENT_TEMPLATE",
    "DEFAULT_TEMPLATES",
    "ESCALATION_NOTICES",
    "MESSAGE_COMMANDS",
    "MESSAGE_LIFECYCLE",
    "MESSAGE_TRANSITIONS",
    "VALUE_LABELS",
    "Announcement",
    "ChannelLimits",
    "DealerAnnouncement",
    "Deduplicator",
    "LanguageLookup",
    "Message",
    "MessageStatus",
    "MessageTemplate",
    "MessageTemplates",
    "NotificationPolicy",
    "OwnerNotices",
    "RecipientLookup",
    "Rendering",
    "RestHoursLookup",
    "RetryAfter",
    "WaitReason",
    "backoff_delay",
    "care_texts",
    "csdomain_messages",
    "current_rendering",
    "event_type_name",
    "hold_for_quiet_hours",
    "idempotency_key",
    "localized_care_message",
    "localized_fields",
    "message_id_for",
    "messages_for",
    "rendering",
    "value_label",
]
