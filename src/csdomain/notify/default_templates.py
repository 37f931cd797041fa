"""csdomain's own event-to-message mapping, a built-in plugin (``csdomain.notify``).

:data:`DEFAULT_TEMPLATES` are the customer notices the documents ask for (docs/domain.md
7: order and shipment notices, complaint status, announcements to dealers); this module's
``csdomain_messages`` hook renders them. Block the plugin named ``csdomain.notify`` to
replace them.
"""

from __future__ import annotations

from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.notify.announcements import DEALER_ANNOUNCEMENT_TEMPLATE
from csdomain.notify.model import Message
from csdomain.notify.templates import MessageTemplate, MessageTemplates


__all__ = ["DEFAULT_TEMPLATES", "csdomain_messages"]


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
        DEALER_ANNOUNCEMENT_TEMPLATE,
    )
)


@hookimpl
def csdomain_messages(event: Event) -> list[Message]:
    """Hook: csdomain's default mapping, :data:`DEFAULT_TEMPLATES` (block ``csdomain.notify``
    to replace it)."""
    return DEFAULT_TEMPLATES.render(event)
