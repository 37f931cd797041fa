"""Announcements to dealers (docs/domain.md 7: announcements to dealers).

One announcement reaches every dealer: :class:`DealerAnnouncement` is the event of one
dealer's copy, written to the outbox in the same unit of work as the others; the relay
renders it through the template :data:`DEALER_ANNOUNCEMENT_TEMPLATE` (part of
:data:`~csdomain.notify.DEFAULT_TEMPLATES`) into a message on the channel of the kind
``dealer_announcement``, held for the dealer's rest hours like every customer message.
:class:`Announcement` is what the use case returns.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.events import Event
from csdomain.i18n import N_
from csdomain.notify.templates import MessageTemplate


__all__ = ["DEALER_ANNOUNCEMENT_TEMPLATE", "Announcement", "DealerAnnouncement"]


@attrs.frozen
class DealerAnnouncement(Event):
    """One dealer's copy of an announcement to every dealer."""

    announcement_id: str
    customer_id: str
    title: str
    text: str
    at: datetime
    by: str


@attrs.frozen
class Announcement:
    """An announcement sent to every dealer: its number, text and the dealers it went to."""

    id: str
    title: str
    text: str
    at: datetime
    by: str
    #: The customers (dealers) an announcement event was queued for, by id.
    customer_ids: tuple[str, ...]


#: How a :class:`DealerAnnouncement` becomes the dealer's message.
DEALER_ANNOUNCEMENT_TEMPLATE = MessageTemplate(
    event_type="DealerAnnouncement",
    kind="dealer_announcement",
    subject=N_("{title}"),
    body=N_("{text}"),
)
