"""Field-service events: what happened between two versions of a job or product file."""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.complaints import ComplaintUrgency, EscalationReason
from csdomain.events import Event
from csdomain.fieldservice.classification import ServiceOrderKind
from csdomain.fieldservice.order import ServiceOrder, ServiceOrderStatus
from csdomain.fieldservice.products import ProductFile
from csdomain.money import Money


__all__ = [
    "ProductFileRegistered",
    "ServiceOrderDispatched",
    "ServiceOrderEscalated",
    "ServiceOrderOpened",
    "ServiceOrderSettled",
    "ServiceOrderStatusChanged",
    "escalation_target",
    "product_file_events",
    "service_order_events",
]


@attrs.frozen
class ProductFileRegistered(Event):
    """A product unit joined the installed base."""

    serial: str
    model: str
    customer_id: str
    order_id: str | None
    warranty_ends: str
    at: datetime
    by: str


@attrs.frozen
class ServiceOrderOpened(Event):
    """A service call was received and its promise's deadlines set."""

    job_id: str
    kind: ServiceOrderKind
    customer_id: str
    product_serial: str
    urgency: ComplaintUrgency
    respond_by: datetime
    on_site_by: datetime
    at: datetime
    by: str


@attrs.frozen
class ServiceOrderStatusChanged(Event):
    """A job took a step of its lifecycle (the customer may be told)."""

    job_id: str
    customer_id: str
    from_status: ServiceOrderStatus | None
    to_status: ServiceOrderStatus
    at: datetime
    by: str
    note: str = ""


@attrs.frozen
class ServiceOrderDispatched(Event):
    """A technician was sent to a job with a visit window."""

    job_id: str
    technician_id: str
    service_point_id: str
    window_start: datetime
    window_end: datetime
    at: datetime
    by: str


@attrs.frozen
class ServiceOrderEscalated(Event):
    """A late job moved up the five-level ladder."""

    job_id: str
    from_level: int
    to_level: int
    reason: EscalationReason
    target: str
    owner_role: str
    owner_id: str | None
    due: datetime | None
    at: datetime


@attrs.frozen
class ServiceOrderSettled(Event):
    """A job was settled (单单结): its total, the cash collected and who carries the cost."""

    job_id: str
    total: Money
    collected: Money
    coverage: str
    warranty_claim_id: str | None
    at: datetime
    by: str


def product_file_events(before: ProductFile | None, after: ProductFile) -> list[Event]:
    """The events of a product file change (``before=None``: registered)."""
    if before is not None:
        return []
    return [
        ProductFileRegistered(
            serial=after.serial,
            model=after.model,
            customer_id=after.customer_id,
            order_id=after.order_id,
            warranty_ends=after.warranty_ends.isoformat(),
            at=after.registered_at,
            by=after.registered_by,
        )
    ]


def service_order_events(before: ServiceOrder | None, after: ServiceOrder) -> list[Event]:
    """The events between two versions of a job (``before=None``: opened)."""
    events: list[Event] = []
    known_history = 0 if before is None else len(before.history)
    known_dispatches = 0 if before is None else len(before.dispatches)
    known_steps = 0 if before is None else len(before.escalations)
    if before is None:
        first = after.history[0]
        events.append(
            ServiceOrderOpened(
                job_id=after.id,
                kind=after.kind,
                customer_id=after.customer_id,
                product_serial=after.product_serial,
                urgency=after.urgency,
                respond_by=after.respond_by,
                on_site_by=after.on_site_by,
                at=first.at,
                by=first.by,
            )
        )
        known_history = 1
    for change in after.history[known_history:]:
        events.append(
            ServiceOrderStatusChanged(
                job_id=after.id,
                customer_id=after.customer_id,
                from_status=None if change.from_ is None else ServiceOrderStatus(change.from_),
                to_status=ServiceOrderStatus(change.to),
                at=change.at,
                by=change.by,
                note=change.note,
            )
        )
    for dispatch in after.dispatches[known_dispatches:]:
        events.append(
            ServiceOrderDispatched(
                job_id=after.id,
                technician_id=dispatch.technician_id,
                service_point_id=dispatch.service_point_id,
                window_start=dispatch.window_start,
                window_end=dispatch.window_end,
                at=dispatch.at,
                by=dispatch.by,
            )
        )
    for step in after.escalations[known_steps:]:
        events.append(
            ServiceOrderEscalated(
                job_id=after.id,
                from_level=step.from_level,
                to_level=step.to_level,
                reason=step.reason,
                target=escalation_target(step.round, step.reason),
                owner_role=step.owner_role,
                owner_id=step.owner_id,
                due=step.due,
                at=step.at,
            )
        )
    settlement = after.settlement
    if settlement is not None and (before is None or before.settlement is None):
        events.append(
            ServiceOrderSettled(
                job_id=after.id,
                total=settlement.total,
                collected=settlement.collected,
                coverage=settlement.coverage.value,
                warranty_claim_id=settlement.warranty_claim_id,
                at=settlement.at,
                by=settlement.by,
            )
        )
    return events


def escalation_target(round_: int, reason: EscalationReason) -> str:
    """Which promise target an escalation step answers: respond, on_site or fixed.

    The complaint area's planning names the response deadline ``response_overdue`` and the
    round's deadline ``resolution_overdue`` / ``still_overdue``; a job's round 0 runs to
    the on-site deadline and round 1 to the fix deadline.
    """
    if reason is EscalationReason.RESPONSE_OVERDUE:
        return "respond"
    if reason is EscalationReason.MANUAL or reason is EscalationReason.CUSTOMER_UNHAPPY:
        return "manual"
    return "on_site" if round_ == 0 else "fixed"
