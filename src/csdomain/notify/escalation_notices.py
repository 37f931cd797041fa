"""Escalation notices, a built-in plugin (``csdomain.escalation_notices``).

When a complaint moves up the follow-up ladder (``ComplaintEscalated``, docs/domain.md 3.4: the
next level must follow it up) its new owner is told on the ``"log"`` channel: the staff
member the event names, else ``role:<owner_role>``. Block the plugin named
``csdomain.escalation_notices`` to turn the notices off, or register another
:class:`~csdomain.notify.templates.OwnerNotices` with a channel of your own.
"""

from __future__ import annotations

from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.i18n import N_
from csdomain.notify.model import Message
from csdomain.notify.templates import MessageTemplate, MessageTemplates, OwnerNotices


__all__ = ["ESCALATION_NOTICES", "csdomain_messages"]

#: A complaint moved up the follow-up ladder: tell its new owner (``"log"`` channel).
ESCALATION_NOTICES = OwnerNotices(
    MessageTemplates(
        (
            MessageTemplate(
                event_type="ComplaintEscalated",
                kind="complaint_escalated",
                channel="log",
                subject=N_("Complaint {complaint_id} escalated to level {to_level}"),
                body=N_(
                    "Complaint {complaint_id} moved from follow-up level {from_level} to "
                    "{to_level} ({reason}). You ({owner_role}) follow it up now."
                ),
            ),
        )
    )
)


@hookimpl
def csdomain_messages(event: Event) -> list[Message]:
    """Hook: the notice to the new owner of an escalated complaint."""
    return ESCALATION_NOTICES.render(event)
