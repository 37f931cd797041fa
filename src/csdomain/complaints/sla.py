"""Service levels of a complaint (docs/domain.md 3.3): its deadlines and their outcome.

``respond_by`` and ``resolve_by`` are set at receipt from the
:class:`~csdomain.complaints.SlaPolicy` of the complaint's urgency
(:func:`receipt_deadlines`); a reopen starts a new resolution round
(:func:`renewed_resolve_by`); time on hold moves ``resolve_by``
(:func:`resolve_by_after_hold`); a resolution records whether the target was met
(:func:`sla_outcome`). A missed target is a :class:`SlaBreach`, judged by
:func:`target_missed` (``Complaint.sla_breaches`` lists a complaint's). What is overdue
over many complaints is in :mod:`csdomain.complaints.overdue`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.complaints.classification import ComplaintUrgency
from csdomain.complaints.policy import ComplaintPolicy
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value, optional_aware
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "SlaBreach",
    "SlaKind",
    "SlaOutcome",
    "receipt_deadlines",
    "renewed_resolve_by",
    "resolution_missed",
    "resolve_by_after_hold",
    "sla_outcome",
    "target_missed",
]


class SlaOutcome(StrEnum):
    """Whether the resolution target was met, recorded when the complaint is resolved."""

    MET = "met"
    MISSED = "missed"


def receipt_deadlines(
    urgency: ComplaintUrgency,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> tuple[datetime, datetime]:
    """``(respond_by, resolve_by)`` of a complaint of ``urgency`` received at ``at``.

    Source: docs/domain.md 3.3: both targets run from receipt, on the owning team's
    ``calendar`` for business-time targets.
    """
    sla = policy.sla_for(urgency)
    return sla.respond.due(at, calendar), sla.resolve.due(at, calendar)


def renewed_resolve_by(
    urgency: ComplaintUrgency,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> datetime:
    """The resolution deadline of a new round that starts at ``at`` (a reopen).

    Source: docs/domain.md 3.2 step 5 and 3.4: a refused remedy or a dissatisfied visit
    starts the resolution clock again.
    """
    return policy.sla_for(urgency).resolve.due(at, calendar)


def resolve_by_after_hold(
    resolve_by: datetime,
    *,
    held_since: datetime,
    resumed_at: datetime,
    urgency: ComplaintUrgency,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> datetime:
    """``resolve_by`` moved by the time on hold from ``held_since`` to ``resumed_at``.

    Source: docs/domain.md 3.3: time waiting for the customer does not count against the
    resolution target (business time for a business-time target). A deadline already
    missed when the hold began (passed, as :func:`target_missed` judges it) stays missed;
    a hold that begins on the deadline itself moves it like any earlier one.
    """
    if held_since > resolve_by:
        return resolve_by
    target = policy.sla_for(urgency).resolve
    return target.extend(resolve_by, target.measure(held_since, resumed_at, calendar), calendar)


def sla_outcome(resolved_at: datetime, resolve_by: datetime) -> SlaOutcome:
    """Whether a resolution at ``resolved_at`` met the resolution target ``resolve_by``."""
    return SlaOutcome.MET if resolved_at <= resolve_by else SlaOutcome.MISSED


class SlaKind(StrEnum):
    """Which service-level target."""

    RESPOND = "respond"
    RESOLVE = "resolve"


def _sla_kind(value: object) -> SlaKind:
    return enum_value(SlaKind, value, "target")


@attrs.frozen
class SlaBreach:
    """A missed service-level target of one complaint."""

    complaint_id: str = attrs.field(validator=_not_blank)
    target: SlaKind = attrs.field(converter=_sla_kind)
    due: datetime = attrs.field(validator=_aware)
    #: When the target was met after all (late); ``None`` while it is still not met.
    met_at: datetime | None = attrs.field(default=None, validator=optional_aware)

    @property
    def still_open(self) -> bool:
        """Whether the target is still not met."""
        return self.met_at is None


def target_missed(due: datetime, met: datetime | None, at: datetime, *, owed: bool = True) -> bool:
    """Whether a target due at ``due`` is missed as of ``at``: met after its deadline, or
    not met, still ``owed`` and past it. The one rule every deadline of the library is
    judged by (a complaint's response and resolution, a service call's promise)."""
    if met is not None:
        return met > due
    return owed and at > due


def resolution_missed(
    *,
    is_open: bool,
    held_since: datetime | None,
    resolve_by: datetime,
    outcome: SlaOutcome | None,
    at: datetime,
) -> bool:
    """Whether a complaint missed its resolution target as of ``at`` (an aware UTC
    instant), from the fields that decide it: still open after ``resolve_by`` (on hold,
    ``held_since`` set: only if the hold began after it), or closed with the outcome
    ``missed`` recorded at its resolution. The rule of :meth:`Complaint.sla_breaches
    <csdomain.complaints.Complaint.sla_breaches>`, also read from projected fields."""
    if is_open:
        return min(held_since or at, at) > resolve_by
    return outcome is SlaOutcome.MISSED
