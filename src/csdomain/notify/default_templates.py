"""csdomain's own event-to-message mapping, a built-in plugin (``csdomain.notify``).

:data:`DEFAULT_TEMPLATES` are the customer notices the documents ask for (docs/domain.md
7: order and shipment notices, delivery reminders, complaint status and follow-up calls,
announcements to dealers; docs/domain.md 5: thank respondents; docs/domain.md 8: the
service call, the technician's visit), each from the event the library emits for it, in
English with a Chinese (``zh-CN``) translation in the built-in catalog. This module's
``csdomain_messages`` hook renders them. Block the plugin named ``csdomain.notify`` to
replace them. The care touch-points (birthday, holiday greeting, maintenance reminder ...)
are not events but a care plan's schedule: :mod:`csdomain.notify.care_notices` renders
their texts in a language.
"""

from __future__ import annotations

from csdomain.events import Event
from csdomain.hookspecs import hookimpl
from csdomain.i18n import N_
from csdomain.notify.announcements import DEALER_ANNOUNCEMENT_TEMPLATE
from csdomain.notify.model import Message
from csdomain.notify.templates import MessageTemplate, MessageTemplates


__all__ = ["COMPLAINT_STATUS_NOTICES", "DEFAULT_TEMPLATES", "csdomain_messages"]

#: The complaint states a customer is told about by ``complaint_status`` (received and
#: closed have notices of their own; a proposed or approved resolution is internal until
#: it is carried out, docs/domain.md 3.6).
COMPLAINT_STATUS_NOTICES = frozenset({"assessed", "investigating", "resolved", "on_hold"})


#: csdomain's own event-to-message mapping (rendered by this module's plugin hook).
DEFAULT_TEMPLATES = MessageTemplates(
    (
        MessageTemplate(
            event_type="OrderConfirmed",
            kind="order_confirmed",
            subject=N_("Order {order_id} confirmed"),
            body=N_("Your order {order_id} is confirmed. We ship as soon as payment arrives."),
        ),
        MessageTemplate(
            event_type="PaymentReminderDue",
            kind="payment_reminder",
            subject=N_("Payment for order {order_id}"),
            body=N_(
                "Your order {order_id} is confirmed and waits for your payment of {balance}. "
                "We ship as soon as it arrives."
            ),
        ),
        MessageTemplate(
            event_type="OrderShipped",
            kind="order_shipped",
            variant="expected_date",
            unless={"expected_latest": ""},
            subject=N_("Order {order_id} shipped"),
            body=N_(
                "Your order {order_id} has been shipped by {mode}; it should arrive by "
                "{expected_latest}."
            ),
        ),
        MessageTemplate(
            event_type="OrderShipped",
            kind="order_shipped",
            when={"expected_latest": ""},
            subject=N_("Order {order_id} shipped"),
            body=N_(
                "Your order {order_id} has been shipped by {mode}; delivery usually takes 2-3 days."
            ),
        ),
        MessageTemplate(
            event_type="ComplaintReceived",
            kind="complaint_received",
            subject=N_("We received your complaint {complaint_id}"),
            body=N_(
                "Thank you. Your complaint {complaint_id} is registered and will be followed up."
            ),
        ),
        MessageTemplate(
            event_type="ComplaintStatusChanged",
            kind="complaint_status",
            when={"to_status": COMPLAINT_STATUS_NOTICES},
            subject=N_("Complaint {complaint_id}: {to_status}"),
            body=N_("Your complaint {complaint_id} is now {to_status}. We will keep you informed."),
        ),
        MessageTemplate(
            event_type="ComplaintStatusChanged",
            kind="complaint_status",
            variant="rejected",
            when={"to_status": "rejected"},
            subject=N_("Complaint {complaint_id}: {to_status}"),
            body=N_(
                "After review, your complaint {complaint_id} could not be upheld. Our staff "
                "will contact you to explain why."
            ),
        ),
        MessageTemplate(
            event_type="ComplaintClosed",
            kind="complaint_closed",
            subject=N_("Complaint {complaint_id} closed"),
            body=N_("Your complaint {complaint_id} is closed. Thank you for your patience."),
        ),
        MessageTemplate(
            event_type="FollowUpScheduled",
            kind="follow_up_appointment",
            subject=N_("Follow-up call about complaint {complaint_id}"),
            body=N_(
                "We will call you on {planned_at} to hear how the handling of your complaint "
                "{complaint_id} went."
            ),
        ),
        MessageTemplate(
            event_type="SurveyResponseRecorded",
            kind="survey_thanks",
            subject=N_("Thank you for your answers"),
            body=N_("Thank you for answering our survey. We read every answer and act on it."),
        ),
        MessageTemplate(
            event_type="ServiceOrderOpened",
            kind="service_request_received",
            subject=N_("Service request {job_id} received"),
            body=N_(
                "We received your {kind} request {job_id} and will contact you shortly to "
                "arrange the service."
            ),
        ),
        MessageTemplate(
            event_type="ServiceOrderStatusChanged",
            kind="service_appointment",
            when={"to_status": "dispatched"},
            subject=N_("Technician assigned to {job_id}"),
            body=N_(
                "A technician has been assigned to your service request {job_id}. We will "
                "confirm the visit time with you."
            ),
        ),
        MessageTemplate(
            event_type="ServiceOrderStatusChanged",
            kind="technician_on_the_way",
            when={"to_status": "en_route"},
            urgent=True,
            subject=N_("Technician on the way"),
            body=N_("Our technician is on the way to you for service request {job_id}."),
        ),
        DEALER_ANNOUNCEMENT_TEMPLATE,
    )
)


@hookimpl
def csdomain_messages(event: Event) -> list[Message]:
    """Hook: csdomain's default mapping, :data:`DEFAULT_TEMPLATES` (block ``csdomain.notify``
    to replace it)."""
    return DEFAULT_TEMPLATES.render(event)
