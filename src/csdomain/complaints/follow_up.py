"""Follow-up visits (回访, docs/domain.md 3.5): planned after resolution, never in rest hours.

A resolved complaint gets a visit due within three days (:func:`plan_follow_up`) at a
time outside the customer's rest hours, which may be moved to a time agreed with the
customer (:func:`agreed_visit_time`); a call in the rest hours is refused
(:func:`check_visit_time`); :func:`~csdomain.complaints.missing_follow_ups` finds
member complaints that were not visited in time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from csdomain.calendar import QuietHours
from csdomain.clock import utc
from csdomain.complaints.policy import ComplaintPolicy
from csdomain.errors import RuleViolation, ValidationError
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value, representable, text
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "FollowUp",
    "FollowUpMethod",
    "FollowUpOutcome",
    "agreed_visit_time",
    "check_visit_answers",
    "check_visit_time",
    "plan_follow_up",
]


class FollowUpOutcome(StrEnum):
    """What the customer said at the follow-up visit (docs/domain.md 3.5)."""

    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"


class FollowUpMethod(StrEnum):
    """How the follow-up visit was made (docs/domain.md 3.5: phone, SMS)."""

    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    EMAIL = "email"


def _outcome(value: object) -> FollowUpOutcome:
    return enum_value(FollowUpOutcome, value, "outcome")


def _method(value: object) -> FollowUpMethod:
    return enum_value(FollowUpMethod, value, "method")


@attrs.frozen
class FollowUp:
    """One follow-up visit (回访) and what the customer said.

    The visit script (docs/domain.md 3.5): a satisfied customer is asked for
    ``suggestions``, a neutral or dissatisfied one for what to improve (``improvements``).
    """

    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    outcome: FollowUpOutcome = attrs.field(converter=_outcome)
    notes: str = attrs.field(validator=_not_blank)
    method: FollowUpMethod = attrs.field(default=FollowUpMethod.PHONE, converter=_method)
    #: A satisfied customer's suggestions (the script's question to the satisfied).
    suggestions: str = attrs.field(default="", validator=text)
    #: What a neutral or dissatisfied customer wants improved.
    improvements: str = attrs.field(default="", validator=text)


def check_visit_answers(
    outcome: FollowUpOutcome, suggestions: str, improvements: str, *, required: bool
) -> None:
    """Check the visit script's answer against the outcome (docs/domain.md 3.5).

    Satisfied → suggestions; not satisfied or neutral → what to improve. The other
    question is not asked, so its answer is refused (:class:`ValidationError` at the
    field); with ``required`` (``ComplaintPolicy.visit_answer_required``) a visit without
    the answer to its question is refused (:class:`RuleViolation` ``visit_answer_missing``).
    """
    for name, value in (("suggestions", suggestions), ("improvements", improvements)):
        if not isinstance(value, str):
            raise ValidationError.at(name, f"expected text, got {type(value).__name__}")
    satisfied = outcome is FollowUpOutcome.SATISFIED
    if satisfied and improvements.strip():
        raise ValidationError.at(
            "improvements", "a satisfied customer is asked for suggestions, not improvements"
        )
    if not satisfied and suggestions.strip():
        raise ValidationError.at(
            "suggestions", f"a {outcome} customer is asked what to improve, not for suggestions"
        )
    answer = suggestions if satisfied else improvements
    if required and not answer.strip():
        question = "suggestions" if satisfied else "improvements"
        raise RuleViolation(
            "visit_answer_missing",
            f"the visit script asks a {outcome} customer for {question}: record the answer",
            outcome=outcome.value,
            field=question,
        )


def plan_follow_up(
    resolved_at: datetime,
    *,
    policy: ComplaintPolicy,
    quiet_hours: QuietHours | None = None,
    preferred: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The follow-up visit's due time and planned time for a resolution at ``resolved_at``.

    Source: docs/domain.md 3.5: visit within 3 days, never during the customer's rest time,
    at a convenient time agreed with the customer (``preferred``). Without a preference
    the visit is the next-day call, moved out of the rest hours; if that would miss the
    due time, the earliest allowed moment after resolution is used.
    """
    resolved = utc(resolved_at, "resolved_at")
    with representable("resolved_at"):
        return _planned_visit(resolved, policy, quiet_hours, preferred)


def _planned_visit(
    resolved: datetime,
    policy: ComplaintPolicy,
    quiet_hours: QuietHours | None,
    preferred: datetime | None,
) -> tuple[datetime, datetime]:
    """``(due, planned)`` of the visit after a resolution at ``resolved`` (UTC)."""
    due = resolved + policy.follow_up_within

    def allowed(moment: datetime) -> datetime:
        return moment if quiet_hours is None else utc(quiet_hours.next_allowed(moment))

    if preferred is not None:
        wanted = utc(preferred, "preferred_follow_up_at")
        if wanted < resolved:
            raise ValidationError.at("preferred_follow_up_at", "must not precede the resolution")
        planned = allowed(wanted)
        if planned > due:
            raise RuleViolation(
                "follow_up_after_due",
                "the visit must take place within the follow-up period",
                planned_at=planned.isoformat(),
                due=due.isoformat(),
            )
        return due, planned
    for candidate in (resolved + policy.follow_up_after, resolved):
        planned = allowed(candidate)
        if planned <= due:
            return due, planned
    raise RuleViolation(
        "no_follow_up_slot",
        "the customer's rest hours leave no time for a visit within the follow-up period",
        due=due.isoformat(),
    )


def agreed_visit_time(
    planned_at: datetime,
    *,
    at: datetime,
    due: datetime,
    quiet_hours: QuietHours | None = None,
) -> datetime:
    """The visit time agreed at ``at`` for ``planned_at``, moved out of the rest hours.

    Source: docs/domain.md 3.5: at a convenient time agreed with the customer, never during
    the customer's rest time, and within the follow-up period (by ``due``).
    """
    planned = utc(planned_at, "planned_at")
    if quiet_hours is not None:
        with representable("planned_at"):
            planned = utc(quiet_hours.next_allowed(planned))
    if planned < at:
        raise ValidationError.at("planned_at", "must not be in the past")
    if planned > due:
        raise RuleViolation(
            "follow_up_after_due",
            "the visit must take place within the follow-up period",
            planned_at=planned.isoformat(),
            due=due.isoformat(),
        )
    return planned


def check_visit_time(at: datetime, quiet_hours: QuietHours | None) -> None:
    """Refuse a visit call at ``at`` inside the customer's rest hours.

    Source: docs/domain.md 3.5: never call during the customer's rest time
    (:class:`~csdomain.errors.RuleViolation` ``quiet_hours``, with the next allowed time).
    """
    if quiet_hours is not None and quiet_hours.contains(at):
        with representable("at"):
            allowed = utc(quiet_hours.next_allowed(at))
        raise RuleViolation(
            "quiet_hours",
            "never call during the customer's rest time",
            at=at.isoformat(),
            next_allowed=allowed.isoformat(),
        )
