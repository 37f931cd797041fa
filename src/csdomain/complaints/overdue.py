"""What is overdue over many complaints: missed service levels and missing visits.

:func:`sla_breaches`, :func:`is_breached` and :func:`breaches` tell which targets
(docs/domain.md 3.3) a complaint missed; :func:`missing_follow_ups` finds the member
complaints that were not visited in time (docs/domain.md 3.5). Everything streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import StrEnum

import attrs

from csdomain.clock import utc
from csdomain.complaints.model import Complaint
from csdomain.complaints.sla import SlaOutcome
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value, optional_aware
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "SlaBreach",
    "SlaKind",
    "breaches",
    "is_breached",
    "missing_follow_ups",
    "sla_breaches",
    "target_missed",
]


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


def sla_breaches(complaint: Complaint, at: datetime) -> tuple[SlaBreach, ...]:
    """Every target of ``complaint`` missed as of ``at`` (docs/domain.md 3.3).

    The response target is missed when no response came by ``respond_by``. The
    resolution target is missed when the complaint is still open after ``resolve_by``
    (on hold: when the hold began after it), or when it was resolved late. A rejected
    complaint has no resolution target any more.
    """
    moment = utc(at)
    found: list[SlaBreach] = []
    answered = complaint.first_response_at
    if target_missed(complaint.respond_by, answered, moment):
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


def missing_follow_ups(
    complaints: Iterable[Complaint], at: datetime, is_member: Callable[[str], bool]
) -> Iterator[Complaint]:
    """Resolved member complaints with no follow-up visit by their due time, streamed.

    Source: docs/domain.md 3.5: 100 % of member customers are visited, within 3 days.
    ``is_member(customer_id)`` tells member customers apart.
    """
    moment = utc(at)
    for complaint in complaints:
        due = complaint.follow_up_due
        resolved = complaint.resolved_at
        if due is None or resolved is None or due >= moment:
            continue
        visited = any(resolved <= visit.at <= due for visit in complaint.follow_ups)
        if not visited and is_member(complaint.customer_id):
            yield complaint
