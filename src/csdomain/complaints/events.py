"""Complaint events: what happened between two versions of a complaint."""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.complaints.classification import (
    ComplaintCategory,
    ComplaintNature,
    ComplaintUrgency,
)
from csdomain.complaints.escalation import ComplaintEscalated
from csdomain.complaints.model import Complaint, ComplaintStatus
from csdomain.events import Event


__all__ = [
    "ComplaintClosed",
    "ComplaintEscalated",
    "ComplaintReceived",
    "ComplaintStatusChanged",
    "FollowUpScheduled",
    "complaint_events",
]


@attrs.frozen
class ComplaintReceived(Event):
    """A complaint was received and its deadlines set."""

    complaint_id: str
    customer_id: str
    urgency: ComplaintUrgency
    category: ComplaintCategory
    nature: ComplaintNature
    at: datetime
    respond_by: datetime
    resolve_by: datetime
    owner_role: str
    owner_id: str | None
    by: str


@attrs.frozen
class ComplaintStatusChanged(Event):
    """A complaint moved from one state to another (the customer may be told)."""

    complaint_id: str
    customer_id: str
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    at: datetime
    by: str
    note: str = ""


@attrs.frozen
class FollowUpScheduled(Event):
    """A follow-up visit was planned (or re-planned) for a resolved complaint."""

    complaint_id: str
    customer_id: str
    planned_at: datetime
    due: datetime


@attrs.frozen
class ComplaintClosed(Event):
    """A complaint was closed with its summary (for the statistics table)."""

    complaint_id: str
    customer_id: str
    founded: bool | None
    at: datetime
    by: str


def complaint_events(before: Complaint | None, after: Complaint) -> list[Event]:
    """The events between two versions of a complaint (``before=None``: received)."""
    events: list[Event] = []
    known_history = 0 if before is None else len(before.history)
    known_steps = 0 if before is None else len(before.escalations)
    if before is None:
        first = after.history[0] if after.history else None
        events.append(
            ComplaintReceived(
                complaint_id=after.id,
                customer_id=after.customer_id,
                urgency=after.urgency,
                category=after.category,
                nature=after.nature,
                at=after.received_at,
                respond_by=after.respond_by,
                resolve_by=after.resolve_by,
                owner_role=after.owner_role,
                owner_id=after.owner_id,
                by="" if first is None else first.by,
            )
        )
        known_history = 1
    for change in after.history[known_history:]:
        events.append(
            ComplaintStatusChanged(
                complaint_id=after.id,
                customer_id=after.customer_id,
                from_status=None if change.from_ is None else ComplaintStatus(change.from_),
                to_status=ComplaintStatus(change.to),
                at=change.at,
                by=change.by,
                note=change.note,
            )
        )
        if change.to == ComplaintStatus.CLOSED.value:
            events.append(
                ComplaintClosed(
                    complaint_id=after.id,
                    customer_id=after.customer_id,
                    founded=after.founded,
                    at=change.at,
                    by=change.by,
                )
            )
    events.extend(
        ComplaintEscalated.from_step(after.id, step) for step in after.escalations[known_steps:]
    )
    planned = after.follow_up_planned_at
    if (
        planned is not None
        and after.follow_up_due is not None
        and (before is None or before.follow_up_planned_at != planned)
    ):
        events.append(
            FollowUpScheduled(
                complaint_id=after.id,
                customer_id=after.customer_id,
                planned_at=planned,
                due=after.follow_up_due,
            )
        )
    return events
