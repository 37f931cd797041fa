"""What is overdue over many complaints: missed service levels and missing visits.

:func:`sla_breaches`, :func:`is_breached` and :func:`breaches` tell which targets
(docs/domain.md 3.3) a complaint missed; :func:`missing_follow_ups` finds the member
complaints that were not visited in time (docs/domain.md 3.5). Everything streams.
:class:`SlaBreach`, :class:`SlaKind` and :func:`target_missed` live in
:mod:`csdomain.complaints.sla` (the complaint's own method uses them) and are importable
from here as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from csdomain.clock import utc
from csdomain.complaints.model import Complaint
from csdomain.complaints.sla import SlaBreach, SlaKind, target_missed


__all__ = [
    "SlaBreach",
    "SlaKind",
    "breaches",
    "follow_up_missed",
    "is_breached",
    "missing_follow_ups",
    "sla_breaches",
    "target_missed",
]


def sla_breaches(complaint: Complaint, at: datetime) -> tuple[SlaBreach, ...]:
    """Every target of ``complaint`` missed as of ``at`` (docs/domain.md 3.3); the same as
    :meth:`Complaint.sla_breaches <csdomain.complaints.Complaint.sla_breaches>`, which
    states the rule."""
    return complaint.sla_breaches(at=at)


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
        visits = (visit.at for visit in complaint.follow_ups)
        due = complaint.follow_up_due
        if follow_up_missed(complaint.resolved_at, due, visits, moment) and is_member(
            complaint.customer_id
        ):
            yield complaint


def follow_up_missed(
    resolved_at: datetime | None,
    follow_up_due: datetime | None,
    visits_at: Iterable[datetime],
    at: datetime,
) -> bool:
    """Whether a resolved complaint's follow-up visit is missing as of ``at``: its visit
    was due before ``at`` and none was made between its resolution and that due time.

    The rule of :func:`missing_follow_ups` on a complaint's fields alone (what a report
    reads without building the complaint); ``at`` is an aware UTC instant.
    """
    if follow_up_due is None or resolved_at is None or follow_up_due >= at:
        return False
    return not any(resolved_at <= visit <= follow_up_due for visit in visits_at)
