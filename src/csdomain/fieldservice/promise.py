"""The service-call promise on business calendars: deadlines from the policy targets.

The after-sales handbook promises to "respond within 30 minutes, on site within 24
hours, fault cleared within 24 hours of starting" (售后服务响应时间). ``respond_by`` and
``on_site_by`` run from receipt of the call (:func:`call_deadlines`), ``fix_by`` from the
technician's first arrival (:func:`fix_deadline`), each on the field-service team's
calendar for a business-time target and on the 24/7 clock otherwise. The arithmetic is
the complaint area's :class:`~csdomain.complaints.SlaTarget` (one implementation).
"""

from __future__ import annotations

from datetime import datetime

from csdomain.calendar import BusinessCalendar
from csdomain.complaints import ComplaintUrgency
from csdomain.fieldservice.policy import FieldServicePolicy


__all__ = ["FIELD_SERVICE_TEAM", "call_deadlines", "fix_deadline"]

#: The team whose business calendar the promise runs on (``team_calendars`` of the desk).
FIELD_SERVICE_TEAM = "field_service"


def call_deadlines(
    urgency: ComplaintUrgency,
    received_at: datetime,
    policy: FieldServicePolicy,
    calendar: BusinessCalendar,
) -> tuple[datetime, datetime]:
    """``(respond_by, on_site_by)`` of a call of ``urgency`` received at ``received_at``.

    Source: "respond within 30 minutes, on site within 24 hours" (售后服务响应时间); both
    run from receipt.
    """
    promise = policy.promise_for(urgency)
    return promise.respond.due(received_at, calendar), promise.on_site.due(received_at, calendar)


def fix_deadline(
    urgency: ComplaintUrgency,
    arrived_at: datetime,
    policy: FieldServicePolicy,
    calendar: BusinessCalendar,
) -> datetime:
    """``fix_by`` of a job of ``urgency`` whose technician first arrived at ``arrived_at``.

    Source: "fault cleared within 24 hours of starting" (售后服务响应时间).
    """
    return policy.promise_for(urgency).fixed.due(arrived_at, calendar)
