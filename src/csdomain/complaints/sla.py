"""Service levels of a complaint (DOMAIN.md 3.3): deadlines, outcomes, missed targets.

``respond_by`` and ``resolve_by`` are set at receipt from the
:class:`~csdomain.complaints.SlaPolicy` of the complaint's urgency
(:func:`receipt_deadlines`); a reopen starts a new resolution round
(:func:`renewed_resolve_by`); time on hold moves ``resolve_by``
(:func:`resolve_by_after_hold`); :func:`sla_breaches`, :func:`is_breached` and
:func:`breaches` tell what is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

from csdomain.clock import utc
from csdomain.complaints._checks import optional_aware
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value
from csdomain.validators import not_blank as _not_blank


if TYPE_CHECKING:
    from csdomain.calendar import BusinessCalendar
    from csdomain.complaints.model import Complaint, ComplaintUrgency
    from csdomain.complaints.policy import ComplaintPolicy


__all__ = [
    "SlaBreach",
    "SlaKind",
    "SlaOutcome",
    "breaches",
    "is_breached",
    "receipt_deadlines",
    "renewed_resolve_by",
    "resolve_by_after_hold",
    "sla_breaches",
    "sla_outcome",
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

    Source: DOMAIN.md 3.3: both targets run from receipt, on the owning team's
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

    Source: DOMAIN.md 3.2 step 5 and 3.4: a refused remedy or a dissatisfied visit
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

    Source: DOMAIN.md 3.3: time waiting for the customer does not count against the
    resolution target (business time for a business-time target). A deadline already
    missed when the hold began stays missed.
    """
    if held_since >= resolve_by:
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


def sla_breaches(complaint: Complaint, at: datetime) -> tuple[SlaBreach, ...]:
    """Every target of ``complaint`` missed as of ``at`` (DOMAIN.md 3.3).

    The response target is missed when no response came by ``respond_by``. The
    resolution target is missed when the complaint is still open after ``resolve_by``
    (on hold: when the hold began after it), or when it was resolved late. A rejected
    complaint has no resolution target any more.
    """
    moment = utc(at)
    found: list[SlaBreach] = []
    answered = complaint.first_response_at
    if answered is None and moment > complaint.respond_by:
        found.append(SlaBreach(complaint.id, SlaKind.RESPOND, complaint.respond_by))
    elif answered is not None and answered > complaint.respond_by:
        found.append(SlaBreach(complaint.id, SlaKind.RESPOND, complaint.respond_by, answered))
    if complaint.is_open:
        clock = complaint.held_since or moment
        if min(clock, moment) > complaint.resolve_by:
            found.append(SlaBreach(complaint.id, SlaKind.RESOLVE, complaint.resolve_by))
    elif complaint.sla_outcome is SlaOutcome.MISSED:
        found.append(
            SlaBreach(complaint.id, SlaKind.RESOLVE, complaint.resolve_by, complaint.resolved_at)
        )
    return tuple(found)


def is_breached(complaint: Complaint, at: datetime) -> bool:
    """Whether ``complaint`` missed any service-level target as of ``at``."""
    return bool(sla_breaches(complaint, at))


def breaches(complaints: Iterable[Complaint], at: datetime) -> Iterator[SlaBreach]:
    """Every missed target of ``complaints`` as of ``at``, streamed."""
    for complaint in complaints:
        yield from sla_breaches(complaint, at)
