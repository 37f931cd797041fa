"""Complaint policy (docs/domain.md 3): SLA targets per urgency, the ladder, the visit rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.clock import utc
from csdomain.complaints._checks import level
from csdomain.complaints.classification import ComplaintCategory, ComplaintUrgency
from csdomain.errors import ValidationError
from csdomain.ids import NamingSeries
from csdomain.validators import (
    duration,
    enum_value,
    flag,
    instance_of,
    positive_duration,
    representable,
    text_mapping,
)


__all__ = ["ComplaintPolicy", "SlaPolicy", "SlaTarget"]


@attrs.frozen
class SlaTarget:
    """A service-level target: ``duration`` of business time on the team's calendar,
    or of elapsed (24/7) time when ``business_time`` is false (docs/domain.md 3.3)."""

    duration: timedelta = attrs.field(validator=positive_duration)
    business_time: bool = attrs.field(default=True, validator=flag)

    def due(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        """The deadline of this target for work that starts at ``start`` (UTC)."""
        moment = utc(start, "start")
        with representable("start"):
            if self.business_time:
                return utc(calendar.add_business_time(moment, self.duration))
            return moment + self.duration

    def measure(self, start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
        """How much of this target's kind of time passes from ``start`` to ``end``."""
        if self.business_time:
            return calendar.business_time_between(start, end)
        return utc(end, "end") - utc(start, "start")

    def extend(self, deadline: datetime, delta: timedelta, calendar: BusinessCalendar) -> datetime:
        """``deadline`` moved later by ``delta`` of this target's kind of time."""
        if delta <= timedelta(0):
            return deadline
        with representable("deadline"):
            if self.business_time:
                return utc(calendar.add_business_time(deadline, delta))
            return deadline + delta


@attrs.frozen
class SlaPolicy:
    """The response and resolution targets of one urgency (docs/domain.md 3.3)."""

    respond: SlaTarget = attrs.field(validator=instance_of(SlaTarget))
    resolve: SlaTarget = attrs.field(validator=instance_of(SlaTarget))


def _ladder(_instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object) -> None:
    if not isinstance(value, tuple) or not 1 <= len(value) <= 5:
        raise ValidationError.at(attribute.name, "the ladder is a tuple of one to five roles")
    for i, role in enumerate(value):
        if not isinstance(role, str) or not role.strip():
            raise ValidationError.at(f"{attribute.name}.{i}", "a role name must not be empty")


def _pattern(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")
    try:
        NamingSeries(value)
    except ValidationError as err:
        raise ValidationError([(attribute.name, m) for _, m in err.errors]) from None


def _names(_instance: object, attribute: attrs.Attribute[frozenset[str]], value: object) -> None:
    if not isinstance(value, frozenset) or not all(isinstance(v, str) for v in value):
        raise ValidationError.at(attribute.name, "expected a frozenset of names")


_DEFAULT_DEPARTMENTS: Mapping[str, str] = {
    ComplaintCategory.PRODUCT_QUALITY.value: "quality",
    ComplaintCategory.SERVICE.value: "customer_service",
    ComplaintCategory.DELIVERY_PACKAGING.value: "logistics",
    ComplaintCategory.DELIVERY_DELAY.value: "logistics",
    ComplaintCategory.DELIVERY_QUANTITY.value: "logistics",
    ComplaintCategory.DELIVERY_CONTENT.value: "quality",
    ComplaintCategory.OTHER.value: "customer_service",
}


@attrs.frozen
class ComplaintPolicy:
    """Complaint handling numbers and choices (docs/domain.md 3), with the documents' defaults.

    The SLA table (see ``docs/complaints.md``), docs/domain.md 3.3: urgent complaints follow
    the service-call promise on the 24/7 clock (respond within 30 minutes; on site within
    24 hours and the fault cleared within 24 hours of starting, so resolved within 48
    hours); special complaints respond within 30 minutes and resolve within 24 hours;
    ordinary complaints are answered within 2 business hours and resolved within 40
    business hours (a working week).
    """

    special: SlaPolicy = attrs.field(
        default=SlaPolicy(
            respond=SlaTarget(timedelta(minutes=30), business_time=False),
            resolve=SlaTarget(timedelta(hours=24), business_time=False),
        ),
        validator=instance_of(SlaPolicy),
    )
    urgent: SlaPolicy = attrs.field(
        default=SlaPolicy(
            respond=SlaTarget(timedelta(minutes=30), business_time=False),
            resolve=SlaTarget(timedelta(hours=48), business_time=False),
        ),
        validator=instance_of(SlaPolicy),
    )
    ordinary: SlaPolicy = attrs.field(
        default=SlaPolicy(
            respond=SlaTarget(timedelta(hours=2), business_time=True),
            resolve=SlaTarget(timedelta(hours=40), business_time=True),
        ),
        validator=instance_of(SlaPolicy),
    )
    #: The five-level follow-up ladder (五级追访制), level 1 first.
    ladder: tuple[str, ...] = attrs.field(
        default=("specialist", "department_manager", "cs_manager", "call_team", "general_manager"),
        validator=_ladder,
    )
    #: Level a special complaint starts at ("large issues go to the managers").
    special_start_level: int = attrs.field(default=2, validator=level)
    #: Level an urgent complaint starts at.
    urgent_start_level: int = attrs.field(default=1, validator=level)
    #: After the resolution deadline, one more rung per interval still unresolved
    #: ("daily follow-up by the call team").
    escalation_interval: SlaTarget = attrs.field(
        default=SlaTarget(timedelta(days=1), business_time=False),
        validator=instance_of(SlaTarget),
    )
    #: Complaint reference numbers: a naming series restarting every month (docs/domain.md 1).
    number_pattern: str = attrs.field(default="CP-{yyyy}{mm}-{seq:04d}", validator=_pattern)
    #: Customer classes whose resolved complaints are all visited (docs/domain.md 3.5: 100 % of
    #: member customers; VIP customers get at least a member's service).
    follow_up_classes: frozenset[str] = attrs.field(
        default=frozenset({"member", "vip"}), validator=_names
    )
    #: Every remedy is approved by a manager (主管领导批示), an explanation or a referral
    #: included; false lets whoever handles complaints approve remedies of no substance.
    manager_approves_every_remedy: bool = attrs.field(default=True, validator=flag)
    #: A refusal or a dissatisfied visit moves the complaint up one rung.
    escalate_on_reopen: bool = attrs.field(default=True, validator=flag)
    #: A dissatisfied follow-up visit reopens the complaint.
    reopen_on_dissatisfied: bool = attrs.field(default=True, validator=flag)
    #: The follow-up visit is due this long after resolution ("visit within 3 days").
    follow_up_within: timedelta = attrs.field(
        default=timedelta(days=3), validator=positive_duration
    )
    #: Default moment of the visit after resolution (the next-day call).
    follow_up_after: timedelta = attrs.field(default=timedelta(days=1), validator=duration)
    #: Closing a complaint found at the company's fault (founded, a responsible person
    #: named) needs the responsible staff's penalty on record ("responsible staff may be
    #: penalised": may, so not required unless the application says so).
    penalty_required_at_fault: bool = attrs.field(default=False, validator=flag)
    #: A follow-up visit needs the answer to the script's question (satisfied: suggestions;
    #: neutral or dissatisfied: what to improve); off, the answer is kept when given.
    visit_answer_required: bool = attrs.field(default=False, validator=flag)
    #: Responsible department per category, used when an assessment names none
    #: (product quality → production/quality owner, service → service staff).
    departments: Mapping[str, str] = attrs.field(
        factory=lambda: dict(_DEFAULT_DEPARTMENTS), validator=text_mapping
    )

    def __attrs_post_init__(self) -> None:
        top = len(self.ladder)
        for name in ("special_start_level", "urgent_start_level"):
            if getattr(self, name) > top:
                raise ValidationError.at(name, f"the ladder has only {top} levels")
        if not timedelta(0) <= self.follow_up_after <= self.follow_up_within:
            raise ValidationError.at(
                "follow_up_after", "must lie between zero and follow_up_within"
            )
        for key in self.departments:
            enum_value(ComplaintCategory, key, f"departments.{key}")

    def sla_for(self, urgency: ComplaintUrgency) -> SlaPolicy:
        """The :class:`SlaPolicy` of ``urgency``."""
        if urgency is ComplaintUrgency.SPECIAL:
            return self.special
        if urgency is ComplaintUrgency.URGENT:
            return self.urgent
        return self.ordinary

    def start_level(self, urgency: ComplaintUrgency) -> int:
        """The ladder level a new complaint of ``urgency`` starts at."""
        if urgency is ComplaintUrgency.SPECIAL:
            return self.special_start_level
        if urgency is ComplaintUrgency.URGENT:
            return self.urgent_start_level
        return 1

    @property
    def top_level(self) -> int:
        """The highest level of the ladder."""
        return len(self.ladder)

    def role_at(self, level: int) -> str:
        """The role that owns a complaint at ``level``."""
        return self.ladder[min(max(level, 1), self.top_level) - 1]

    def department_for(self, category: ComplaintCategory) -> str | None:
        """The default responsible department of ``category`` (``None``: not configured)."""
        return self.departments.get(category.value)
