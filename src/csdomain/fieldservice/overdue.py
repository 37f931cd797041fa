"""Which promises a job missed: :func:`promise_breaches` over one job, streamed over many.

The promise is "respond within 30 minutes, on site within 24 hours, fault cleared within
24 hours of starting" (售后服务响应时间); each of the three targets is missed when it was
not met by its deadline, and met late when it was met after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum

import attrs

from csdomain.clock import utc
from csdomain.complaints.overdue import target_missed
from csdomain.fieldservice.order import ServiceOrder, ServiceOrderStatus
from csdomain.validators import aware, enum_value, not_blank, optional_aware


__all__ = ["PromiseBreach", "PromiseTarget", "breaches", "promise_breaches"]


class PromiseTarget(StrEnum):
    """Which target of the service-call promise."""

    RESPOND = "respond"
    ON_SITE = "on_site"
    FIXED = "fixed"


def _target(value: object) -> PromiseTarget:
    return enum_value(PromiseTarget, value, "target")


@attrs.frozen
class PromiseBreach:
    """A missed target of one job; ``met_at`` is when it was met late (``None``: not yet)."""

    job_id: str = attrs.field(validator=not_blank)
    target: PromiseTarget = attrs.field(converter=_target)
    due: datetime = attrs.field(validator=aware)
    met_at: datetime | None = attrs.field(default=None, validator=optional_aware)

    @property
    def still_open(self) -> bool:
        """Whether the target is still not met."""
        return self.met_at is None


def _check(
    job_id: str,
    target: PromiseTarget,
    due: datetime,
    met: datetime | None,
    *,
    moment: datetime,
    running: bool,
) -> PromiseBreach | None:
    if target_missed(due, met, moment, owed=running):
        return PromiseBreach(job_id, target, due, met)
    return None


def promise_breaches(order: ServiceOrder, at: datetime) -> tuple[PromiseBreach, ...]:
    """Every target of ``order`` missed as of ``at``, respond, on site, fixed.

    A target met late is a breach with ``met_at``; one not met is a breach once its
    deadline passed, while the job still runs (a cancelled job and one resolved by phone
    miss no target they no longer have: no visit is owed).
    """
    moment = utc(at)
    running = order.status not in (
        ServiceOrderStatus.CANCELLED,
        ServiceOrderStatus.RESOLVED_REMOTELY,
    )
    found = [
        _check(
            order.id,
            PromiseTarget.RESPOND,
            order.respond_by,
            order.responded_at,
            moment=moment,
            running=True,
        ),
        _check(
            order.id,
            PromiseTarget.ON_SITE,
            order.on_site_by,
            order.arrived_at,
            moment=moment,
            running=running,
        ),
    ]
    if order.fix_by is not None:
        found.append(
            _check(
                order.id,
                PromiseTarget.FIXED,
                order.fix_by,
                order.fixed_at,
                moment=moment,
                running=running,
            )
        )
    return tuple(breach for breach in found if breach is not None)


def breaches(orders: Iterable[ServiceOrder], at: datetime) -> Iterator[PromiseBreach]:
    """Every missed target of ``orders`` as of ``at``, streamed."""
    for order in orders:
        yield from promise_breaches(order, at)
