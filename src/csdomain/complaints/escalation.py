"""Escalation (五级追访制, DOMAIN.md 3.4): the five-level follow-up ladder.

:func:`escalate_overdue` moves an overdue complaint one rung up the ladder per missed
deadline; a customer who refuses the remedy or is dissatisfied at the visit moves it up
once more. Each step is an :class:`EscalationStep` in the complaint's ``escalations``
and a :class:`ComplaintEscalated` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

from csdomain.auth import Actor
from csdomain.complaints._checks import level, not_negative, optional_aware
from csdomain.events import Event
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value


if TYPE_CHECKING:
    from csdomain.calendar import BusinessCalendar
    from csdomain.complaints.model import Complaint
    from csdomain.complaints.policy import ComplaintPolicy


__all__ = [
    "ComplaintEscalated",
    "EscalationReason",
    "EscalationStep",
    "escalate_overdue",
]


class EscalationReason(StrEnum):
    """Why a complaint moved up the five-level ladder (DOMAIN.md 3.4)."""

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
    by: str
    reason: EscalationReason = attrs.field(converter=_reason)
    owner_role: str
    owner_id: str | None = None
    #: The missed deadline, for deadline escalations.
    due: datetime | None = attrs.field(default=None, validator=optional_aware)
    #: The resolution round (the complaint's ``reopen_count`` when it happened).
    round: int = attrs.field(default=0, validator=not_negative)
    note: str = ""


@attrs.frozen
class ComplaintEscalated(Event):
    """A complaint moved up the follow-up ladder (DOMAIN.md 3.4)."""

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


def escalate_overdue(
    complaint: Complaint,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
    owners: Mapping[str, str] | None = None,
    *,
    by: Actor | None = None,
) -> tuple[Complaint, tuple[ComplaintEscalated, ...]]:
    """Escalate ``complaint`` one rung per newly missed deadline (DOMAIN.md 3.4).

    See :meth:`Complaint.escalate_if_overdue`; ``by`` defaults to the system actor. The
    returned events are the escalation events :func:`complaint_events` would list.
    """
    return complaint.escalate_if_overdue(
        at=at,
        policy=policy,
        calendar=calendar,
        by=by if by is not None else Actor.system(),
        owners=owners,
    )
