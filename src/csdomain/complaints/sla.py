"""Service levels of a complaint (DOMAIN.md 3.3): outcomes and missed targets.

``respond_by`` and ``resolve_by`` are set at receipt from the :class:`SlaPolicy` of the
complaint's urgency; time on hold moves ``resolve_by``; :func:`sla_breaches`,
:func:`is_breached` and :func:`breaches` tell what is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

from csdomain.clock import utc


if TYPE_CHECKING:
    from csdomain.complaints.model import Complaint


__all__ = [
    "SlaBreach",
    "SlaKind",
    "SlaOutcome",
    "breaches",
    "is_breached",
    "sla_breaches",
]


class SlaOutcome(StrEnum):
    """Whether the resolution target was met, recorded when the complaint is resolved."""

    MET = "met"
    MISSED = "missed"


class SlaKind(StrEnum):
    """Which service-level target."""

    RESPOND = "respond"
    RESOLVE = "resolve"


@attrs.frozen
class SlaBreach:
    """A missed service-level target of one complaint."""

    complaint_id: str
    target: SlaKind
    due: datetime
    #: When the target was met after all (late); ``None`` while it is still not met.
    met_at: datetime | None = None

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
