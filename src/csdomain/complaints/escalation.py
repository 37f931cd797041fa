"""Escalation (五级追访制, docs/domain.md 3.4): the five-level follow-up ladder.

An overdue complaint moves one rung up the ladder per missed deadline
(:func:`~csdomain.complaints.escalate_overdue`); a customer who refuses the remedy or is
dissatisfied at the visit moves it up once more. Each step is an :class:`EscalationStep`
in the complaint's ``escalations`` and a :class:`ComplaintEscalated` event. The planning
is here: which deadlines a complaint missed (:func:`missed_deadlines`, the "still
overdue" ones counted on the resolution clock, which stands still on hold:
:func:`still_overdue_after`), which of them no step answered yet
(:func:`overdue_deadlines`) and the next rung (:func:`escalation_step`); the
:class:`~csdomain.complaints.Complaint` methods record the steps. The planning reads a
complaint through :class:`Escalatable`, so this module sits below the aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.clock import utc
from csdomain.complaints._checks import level
from csdomain.complaints.policy import ComplaintPolicy
from csdomain.events import Event
from csdomain.validators import aware as _aware
from csdomain.validators import count, enum_value, optional_aware, optional_text, text
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "ComplaintEscalated",
    "Escalatable",
    "EscalationReason",
    "EscalationStep",
    "escalation_step",
    "missed_deadlines",
    "overdue_deadlines",
    "still_overdue_after",
]


class EscalationReason(StrEnum):
    """Why a complaint moved up the five-level ladder (docs/domain.md 3.4)."""

    RESPONSE_OVERDUE = "response_overdue"
    RESOLUTION_OVERDUE = "resolution_overdue"
    STILL_OVERDUE = "still_overdue"
    CUSTOMER_UNHAPPY = "customer_unhappy"
    MANUAL = "manual"


_DEADLINE_REASONS = frozenset(
    {
        EscalationReason.RESPONSE_OVERDUE,
        EscalationReason.RESOLUTION_OVERDUE,
        EscalationReason.STILL_OVERDUE,
    }
)


def _reason(value: object) -> EscalationReason:
    return enum_value(EscalationReason, value, "reason")


@attrs.frozen
class EscalationStep:
    """One step up the follow-up ladder: from which level to which, why and to whom."""

    from_level: int = attrs.field(validator=level)
    to_level: int = attrs.field(validator=level)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=text)
    reason: EscalationReason = attrs.field(converter=_reason)
    owner_role: str = attrs.field(validator=_not_blank)
    owner_id: str | None = attrs.field(default=None, validator=optional_text)
    #: The missed deadline, for deadline escalations.
    due: datetime | None = attrs.field(default=None, validator=optional_aware)
    #: The resolution round (the complaint's ``reopen_count`` when it happened).
    round: int = attrs.field(default=0, validator=count)
    note: str = attrs.field(default="", validator=text)


@attrs.frozen
class ComplaintEscalated(Event):
    """A complaint moved up the follow-up ladder (docs/domain.md 3.4)."""

    complaint_id: str
    from_level: int
    to_level: int
    reason: EscalationReason
    at: datetime
    owner_role: str
    owner_id: str | None = None
    due: datetime | None = None

    @classmethod
    def from_step(cls, complaint_id: str, step: EscalationStep) -> ComplaintEscalated:
        """The event for one recorded :class:`EscalationStep`."""
        return cls(
            complaint_id=complaint_id,
            from_level=step.from_level,
            to_level=step.to_level,
            reason=step.reason,
            at=step.at,
            owner_role=step.owner_role,
            owner_id=step.owner_id,
            due=step.due,
        )


class Escalatable(Protocol):
    """What escalation planning reads of a complaint (a :class:`~csdomain.complaints.Complaint`)."""

    @property
    def escalation_level(self) -> int:
        """The current rung of the ladder."""

    @property
    def escalations(self) -> tuple[EscalationStep, ...]:
        """The steps up the ladder so far."""

    @property
    def reopen_count(self) -> int:
        """The resolution round (how often the complaint was reopened)."""

    @property
    def respond_by(self) -> datetime:
        """The response deadline."""

    @property
    def first_response_at(self) -> datetime | None:
        """When the customer was first answered."""

    @property
    def resolve_by(self) -> datetime:
        """The resolution deadline of the current round."""

    @property
    def is_open(self) -> bool:
        """Whether the complaint still waits for a resolution."""

    @property
    def held_since(self) -> datetime | None:
        """When the current hold started (``None`` unless on hold)."""

    def hold_periods(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """Every ``(start, end)`` spent on hold, earliest first (``end`` is ``None`` for a
        current hold)."""


def escalation_step(
    complaint: Escalatable,
    *,
    at: datetime,
    by: str,
    reason: EscalationReason,
    policy: ComplaintPolicy,
    owners: Mapping[str, str] | None,
    due: datetime | None = None,
    note: str = "",
) -> EscalationStep:
    """The next rung for ``complaint``: one level up, never past the top of the ladder.

    Source: docs/domain.md 3.4: the new level's role owns the complaint; ``owners`` maps a
    ladder role to the id of the person who holds it.
    """
    level = min(complaint.escalation_level + 1, policy.top_level)
    role = policy.role_at(level)
    return EscalationStep(
        from_level=complaint.escalation_level,
        to_level=level,
        at=at,
        by=by,
        reason=reason,
        owner_role=role,
        owner_id=None if owners is None else owners.get(role),
        due=due,
        round=complaint.reopen_count,
        note=note,
    )


def missed_deadlines(
    complaint: Escalatable,
    *,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
    limit: int = 5,
) -> tuple[tuple[EscalationReason, datetime], ...]:
    """The deadlines ``complaint`` missed by ``at`` in its current round, earliest first.

    Missed deadlines (docs/domain.md 3.4): the response deadline (first round only); the
    resolution deadline; then every ``policy.escalation_interval`` of the resolution clock
    past it while the complaint is still unresolved (at most ``limit`` of these). While on
    hold the resolution clock stands still: nothing falls due during a hold, and a hold
    that began once the resolution deadline had passed (so left ``resolve_by`` as it was)
    moves every later "still overdue" deadline by its length, measured like the interval
    (:func:`still_overdue_after`).
    """
    moment = utc(at)
    misses: list[tuple[EscalationReason, datetime]] = []
    responded = moment if complaint.first_response_at is None else complaint.first_response_at
    if complaint.reopen_count == 0 and min(responded, moment) > complaint.respond_by:
        misses.append((EscalationReason.RESPONSE_OVERDUE, complaint.respond_by))
    if complaint.is_open:
        clock = moment
        held = complaint.held_since
        if held is not None:
            clock = min(clock, held)
        due: datetime | None = complaint.resolve_by
        # a hold that began by resolve_by moved it on resume; the later ones did not
        pauses = tuple(hold for hold in complaint.hold_periods() if hold[0] > complaint.resolve_by)
        reason = EscalationReason.RESOLUTION_OVERDUE
        count = 0
        while due is not None and due < clock and count < limit:
            misses.append((reason, due))
            count += 1
            due = still_overdue_after(due, pauses, policy=policy, calendar=calendar)
            reason = EscalationReason.STILL_OVERDUE
    misses.sort(key=lambda miss: miss[1])
    return tuple(misses)


def still_overdue_after(
    previous: datetime,
    holds: Sequence[tuple[datetime, datetime | None]],
    *,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> datetime | None:
    """The "still overdue" deadline one ``policy.escalation_interval`` of the resolution
    clock after the missed deadline ``previous``; ``None`` while a hold stops the clock first.

    Source: docs/domain.md 3.4 (a case moves up the ladder when a deadline is missed) and
    the hold rule (while on hold the resolution clock stands still): the interval counts
    only time off hold, so each hold of ``holds`` (``(start, end)``, earliest first, from
    the resolution deadline on) that starts before the deadline moves it by the hold's
    length in the interval's kind of time (business time on ``calendar`` for a
    business-time interval). Holds that start before ``previous`` already moved it.
    """
    interval = policy.escalation_interval
    due = interval.due(previous, calendar)
    for start, end in holds:
        if start < previous:
            continue
        if start >= due:
            break
        if end is None:
            return None
        due = interval.extend(due, interval.measure(start, end, calendar), calendar)
    return due


def overdue_deadlines(
    complaint: Escalatable,
    *,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> tuple[tuple[EscalationReason, datetime], ...]:
    """The missed deadlines of ``complaint`` that no escalation step answered yet.

    Source: docs/domain.md 3.4: one rung per missed deadline, counted in the current round,
    only for an open complaint and only as far as the ladder has rungs left; so a
    second run at the same instant finds nothing.
    """
    if not complaint.is_open:
        return ()
    room = policy.top_level - complaint.escalation_level
    if room <= 0:
        return ()
    done = sum(
        1
        for step in complaint.escalations
        if step.round == complaint.reopen_count and step.reason in _DEADLINE_REASONS
    )
    misses = missed_deadlines(complaint, at=at, policy=policy, calendar=calendar, limit=done + room)
    return misses[done : done + room]
