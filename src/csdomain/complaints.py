"""Complaints (投诉): accept at once, resolve fast, follow up after.

A :class:`Complaint` is a frozen record that walks the closed loop of DOMAIN.md 3.2
(受理即时, 结果迅速, 处理后有回访): *received* → *assessed* (founded) or *rejected*
(unfounded, still counted) → *investigating* → *resolution_proposed* →
*resolution_approved* → *resolved* (the customer accepted) → *followed_up* → *closed*,
with an explicit *on_hold* state while the team waits for the customer. The allowed moves
are data (:data:`COMPLAINT_TRANSITIONS`); every move appends a
:class:`~csdomain.lifecycle.StatusChange` to ``history``.

Everything here is pure: time comes in as ``at=``, numbers come from
:class:`ComplaintPolicy`, working hours from the owning team's
:class:`~csdomain.calendar.BusinessCalendar`, the customer's rest hours from a
:class:`~csdomain.calendar.QuietHours`. Command methods take ``by`` (an
:class:`~csdomain.auth.Actor`) and the :class:`~csdomain.auth.AccessPolicy` and check
:data:`~csdomain.auth.Permission.HANDLE_COMPLAINT` themselves; approving a remedy of
substance checks :data:`~csdomain.auth.Permission.APPROVE_REMEDY` and the approver's
limit (DOMAIN.md 3.6).

- Service levels (DOMAIN.md 3.3): ``respond_by`` and ``resolve_by`` are set at receipt
  from the :class:`SlaPolicy` of the complaint's urgency; time on hold moves
  ``resolve_by``; :func:`is_breached` / :func:`breaches` tell what is overdue.
- Escalation (五级追访制, DOMAIN.md 3.4): :func:`escalate_overdue` moves an overdue
  complaint one rung up the ladder per missed deadline; a customer who refuses the
  remedy or is dissatisfied at the visit moves it up once more.
- Follow-up visits (回访, DOMAIN.md 3.5): a resolved complaint gets a visit due within
  three days at a time outside the customer's rest hours; :func:`missing_follow_ups`
  finds member complaints that were not visited in time.
- Statistics (顾客投诉分类统计表, DOMAIN.md 3.2 step 7): :class:`ComplaintStatistics`
  is a streaming, mergeable accumulator with bounded memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import require_aware, utc
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.money import Money
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value as _enum
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "COMPLAINT_TRANSITIONS",
    "CONCLUDED_STATUSES",
    "OPEN_STATUSES",
    "WORKING_STATUSES",
    "Approval",
    "CauseCount",
    "ClassificationRow",
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintClosed",
    "ComplaintEscalated",
    "ComplaintNature",
    "ComplaintPolicy",
    "ComplaintReceived",
    "ComplaintReport",
    "ComplaintStatistics",
    "ComplaintStatus",
    "ComplaintStatusChanged",
    "ComplaintUrgency",
    "CustomerAcceptance",
    "CustomerRefusal",
    "DurationSketch",
    "EscalationReason",
    "EscalationStep",
    "FollowUp",
    "FollowUpMethod",
    "FollowUpOutcome",
    "FollowUpScheduled",
    "Remedy",
    "RemedyKind",
    "SlaBreach",
    "SlaKind",
    "SlaOutcome",
    "SlaPolicy",
    "SlaTarget",
    "TopCounter",
    "breaches",
    "check_remedy_authority",
    "complaint_events",
    "escalate_overdue",
    "is_breached",
    "missing_follow_ups",
    "plan_follow_up",
    "receive_complaint",
    "sla_breaches",
]

_E = TypeVar("_E", bound=StrEnum)


# -- classification (DOMAIN.md 3.1) -------------------------------------------------------


class ComplaintChannel(StrEnum):
    """How the complaint came in: in person, written, phone (plus e-mail, online)."""

    IN_PERSON = "in_person"
    WRITTEN = "written"
    PHONE = "phone"
    EMAIL = "email"
    ONLINE = "online"


class ComplaintUrgency(StrEnum):
    """Urgency (时效): special (特级), urgent (紧急), ordinary (普通)."""

    SPECIAL = "special"
    URGENT = "urgent"
    ORDINARY = "ordinary"


class ComplaintNature(StrEnum):
    """Nature: normal, or abnormal (demands beyond law, policy, custom or agreement)."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"


class ComplaintCategory(StrEnum):
    """Cause category: product quality, service, or one of the delivery problems."""

    PRODUCT_QUALITY = "product_quality"
    SERVICE = "service"
    DELIVERY_PACKAGING = "delivery_packaging"
    DELIVERY_DELAY = "delivery_delay"
    DELIVERY_QUANTITY = "delivery_quantity"
    DELIVERY_CONTENT = "delivery_content"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    """Where a complaint is in its closed loop (DOMAIN.md 3.2)."""

    RECEIVED = "received"
    ASSESSED = "assessed"
    REJECTED = "rejected"
    INVESTIGATING = "investigating"
    RESOLUTION_PROPOSED = "resolution_proposed"
    RESOLUTION_APPROVED = "resolution_approved"
    RESOLVED = "resolved"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    ON_HOLD = "on_hold"


_S = ComplaintStatus

#: States in which the team works on the complaint (and from which it may go on hold).
WORKING_STATUSES: frozenset[ComplaintStatus] = frozenset(
    {_S.RECEIVED, _S.ASSESSED, _S.INVESTIGATING, _S.RESOLUTION_PROPOSED, _S.RESOLUTION_APPROVED}
)
#: States in which the resolution target still runs (or is paused, on hold).
OPEN_STATUSES: frozenset[ComplaintStatus] = WORKING_STATUSES | {_S.ON_HOLD}
#: States after the complaint was answered for good: rejected, or resolved and later.
CONCLUDED_STATUSES: frozenset[ComplaintStatus] = frozenset(
    {_S.REJECTED, _S.RESOLVED, _S.FOLLOWED_UP, _S.CLOSED}
)

#: The complaint lifecycle. ``on_hold`` returns to the state it came from; a refusal by
#: the customer (from ``resolution_approved``) and a dissatisfied visit (from
#: ``followed_up``) reopen the complaint into ``investigating``.
COMPLAINT_TRANSITIONS: Mapping[ComplaintStatus, frozenset[ComplaintStatus]] = {
    _S.RECEIVED: frozenset({_S.ASSESSED, _S.REJECTED, _S.ON_HOLD}),
    _S.ASSESSED: frozenset({_S.INVESTIGATING, _S.ON_HOLD}),
    _S.REJECTED: frozenset({_S.CLOSED}),
    _S.INVESTIGATING: frozenset({_S.RESOLUTION_PROPOSED, _S.ON_HOLD}),
    _S.RESOLUTION_PROPOSED: frozenset({_S.RESOLUTION_APPROVED, _S.INVESTIGATING, _S.ON_HOLD}),
    _S.RESOLUTION_APPROVED: frozenset({_S.RESOLVED, _S.INVESTIGATING, _S.ON_HOLD}),
    _S.RESOLVED: frozenset({_S.FOLLOWED_UP}),
    _S.FOLLOWED_UP: frozenset({_S.CLOSED, _S.INVESTIGATING}),
    _S.CLOSED: frozenset(),
    _S.ON_HOLD: WORKING_STATUSES,
}


# Source states of each command; only these edges of the table are used by that command,
# so e.g. only ``resume`` leaves ``on_hold`` and only a refusal or visit reopens.
_FROM_RECEIVED = frozenset({_S.RECEIVED})
_FROM_ASSESSED = frozenset({_S.ASSESSED})
_FROM_INVESTIGATING = frozenset({_S.INVESTIGATING})
_FROM_PROPOSED = frozenset({_S.RESOLUTION_PROPOSED})
_FROM_APPROVED = frozenset({_S.RESOLUTION_APPROVED})
_FROM_RESOLVED = frozenset({_S.RESOLVED})
_FROM_ON_HOLD = frozenset({_S.ON_HOLD})
_REOPENABLE = frozenset({_S.RESOLUTION_APPROVED, _S.FOLLOWED_UP})
_CLOSABLE = frozenset({_S.REJECTED, _S.FOLLOWED_UP})


class RemedyKind(StrEnum):
    """Remedies (处理方式, DOMAIN.md 3.2)."""

    EXPLANATION = "explanation"
    REPAIR = "repair"
    EXCHANGE = "exchange"
    REFUND = "refund"
    COMPENSATION = "compensation"
    GOODWILL = "goodwill"
    REFERRAL = "referral"


#: Remedies that promise something of substance whatever their amount (DOMAIN.md 3.6).
_SUBSTANTIVE = frozenset(
    {RemedyKind.EXCHANGE, RemedyKind.REFUND, RemedyKind.COMPENSATION, RemedyKind.GOODWILL}
)
_NEEDS_AMOUNT = frozenset({RemedyKind.REFUND, RemedyKind.COMPENSATION})
_NO_AMOUNT = frozenset({RemedyKind.EXPLANATION, RemedyKind.REFERRAL})


class SlaOutcome(StrEnum):
    """Whether the resolution target was met, recorded when the complaint is resolved."""

    MET = "met"
    MISSED = "missed"


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


class FollowUpOutcome(StrEnum):
    """What the customer said at the follow-up visit (DOMAIN.md 3.5)."""

    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"


class FollowUpMethod(StrEnum):
    """How the follow-up visit was made (DOMAIN.md 3.5: phone, SMS)."""

    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    EMAIL = "email"


# -- validators ---------------------------------------------------------------------------


def _optional_not_blank(
    _instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValidationError.at(attribute.name, "must be text or nothing, not empty")


def _optional_aware(
    _instance: object, attribute: attrs.Attribute[datetime | None], value: datetime | None
) -> None:
    if value is not None:
        require_aware(value, attribute.name)


def _positive_duration(
    _instance: object, attribute: attrs.Attribute[timedelta], value: timedelta
) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.at(attribute.name, "must be a positive duration")


def _duration(_instance: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError.at(attribute.name, f"expected a duration, got {value!r}")


def _level(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError.at(attribute.name, f"must be a level from 1 to 5, got {value!r}")


def _not_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.at(attribute.name, f"must be a whole number >= 0, got {value!r}")


def _channel(value: object) -> ComplaintChannel:
    return _enum(ComplaintChannel, value, "channel")


def _urgency(value: object) -> ComplaintUrgency:
    return _enum(ComplaintUrgency, value, "urgency")


def _nature(value: object) -> ComplaintNature:
    return _enum(ComplaintNature, value, "nature")


def _category(value: object) -> ComplaintCategory:
    return _enum(ComplaintCategory, value, "category")


def _status(value: object) -> ComplaintStatus:
    return _enum(ComplaintStatus, value, "status")


def _remedy_kind(value: object) -> RemedyKind:
    return _enum(RemedyKind, value, "kind")


def _outcome(value: object) -> FollowUpOutcome:
    return _enum(FollowUpOutcome, value, "outcome")


def _method(value: object) -> FollowUpMethod:
    return _enum(FollowUpMethod, value, "method")


def _reason(value: object) -> EscalationReason:
    return _enum(EscalationReason, value, "reason")


def _sla_outcome(value: object) -> SlaOutcome | None:
    return None if value is None else _enum(SlaOutcome, value, "sla_outcome")


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must not be empty")
    return value


# -- policy -------------------------------------------------------------------------------


@attrs.frozen
class SlaTarget:
    """A service-level target: ``duration`` of business time on the team's calendar,
    or of elapsed (24/7) time when ``business_time`` is false (DOMAIN.md 3.3)."""

    duration: timedelta = attrs.field(validator=_positive_duration)
    business_time: bool = True

    def due(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        """The deadline of this target for work that starts at ``start`` (UTC)."""
        if self.business_time:
            return utc(calendar.add_business_time(utc(start, "start"), self.duration))
        return utc(start, "start") + self.duration

    def measure(self, start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
        """How much of this target's kind of time passes from ``start`` to ``end``."""
        if self.business_time:
            return calendar.business_time_between(start, end)
        return utc(end, "end") - utc(start, "start")

    def extend(self, deadline: datetime, delta: timedelta, calendar: BusinessCalendar) -> datetime:
        """``deadline`` moved later by ``delta`` of this target's kind of time."""
        if delta <= timedelta(0):
            return deadline
        if self.business_time:
            return utc(calendar.add_business_time(deadline, delta))
        return deadline + delta


@attrs.frozen
class SlaPolicy:
    """The response and resolution targets of one urgency (DOMAIN.md 3.3)."""

    respond: SlaTarget
    resolve: SlaTarget


def _ladder(_instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object) -> None:
    if not isinstance(value, tuple) or not 1 <= len(value) <= 5:
        raise ValidationError.at(attribute.name, "the ladder is a tuple of one to five roles")
    for i, role in enumerate(value):
        if not isinstance(role, str) or not role.strip():
            raise ValidationError.at(f"{attribute.name}.{i}", "a role name must not be empty")


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
    """Complaint handling numbers and choices (DOMAIN.md 3), with the documents' defaults.

    The SLA table (see ``docs/complaints.md``), DOMAIN.md 3.3: urgent complaints follow
    the service-call promise on the 24/7 clock (respond within 30 minutes; on site within
    24 hours and the fault cleared within 24 hours of starting, so resolved within 48
    hours); special complaints respond within 30 minutes and resolve within 24 hours;
    ordinary complaints are answered within 2 business hours and resolved within 40
    business hours (a working week).
    """

    special: SlaPolicy = SlaPolicy(
        respond=SlaTarget(timedelta(minutes=30), business_time=False),
        resolve=SlaTarget(timedelta(hours=24), business_time=False),
    )
    urgent: SlaPolicy = SlaPolicy(
        respond=SlaTarget(timedelta(minutes=30), business_time=False),
        resolve=SlaTarget(timedelta(hours=48), business_time=False),
    )
    ordinary: SlaPolicy = SlaPolicy(
        respond=SlaTarget(timedelta(hours=2), business_time=True),
        resolve=SlaTarget(timedelta(hours=40), business_time=True),
    )
    #: The five-level follow-up ladder (五级追访制), level 1 first.
    ladder: tuple[str, ...] = attrs.field(
        default=("specialist", "department_manager", "cs_manager", "call_team", "general_manager"),
        validator=_ladder,
    )
    #: Level a special complaint starts at ("large issues go to the managers").
    special_start_level: int = attrs.field(default=2, validator=_level)
    #: Level an urgent complaint starts at.
    urgent_start_level: int = attrs.field(default=1, validator=_level)
    #: After the resolution deadline, one more rung per interval still unresolved
    #: ("daily follow-up by the call team").
    escalation_interval: SlaTarget = SlaTarget(timedelta(days=1), business_time=False)
    #: Complaint reference numbers: a naming series restarting every month (DOMAIN.md 1).
    number_pattern: str = "CP-{yyyy}{mm}-{seq:04d}"
    #: Customer classes whose resolved complaints are all visited (DOMAIN.md 3.5: 100 % of
    #: member customers; VIP customers get at least a member's service).
    follow_up_classes: frozenset[str] = frozenset({"member", "vip"})
    #: A refusal or a dissatisfied visit moves the complaint up one rung.
    escalate_on_reopen: bool = True
    #: A dissatisfied follow-up visit reopens the complaint.
    reopen_on_dissatisfied: bool = True
    #: The follow-up visit is due this long after resolution ("visit within 3 days").
    follow_up_within: timedelta = attrs.field(
        default=timedelta(days=3), validator=_positive_duration
    )
    #: Default moment of the visit after resolution (the next-day call).
    follow_up_after: timedelta = attrs.field(default=timedelta(days=1), validator=_duration)
    #: Responsible department per category, used when an assessment names none
    #: (product quality → production/quality owner, service → service staff).
    departments: Mapping[str, str] = attrs.field(factory=lambda: dict(_DEFAULT_DEPARTMENTS))

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
            _enum(ComplaintCategory, key, f"departments.{key}")

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


# -- value records ------------------------------------------------------------------------


def _remedy_amount(
    instance: Remedy, attribute: attrs.Attribute[Money | None], value: Money | None
) -> None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError.at("amount", f"expected Money, got {type(value).__name__}")
    if instance.kind in _NEEDS_AMOUNT and (value is None or not value):
        raise ValidationError.at("amount", f"a {instance.kind} needs a positive amount")
    if instance.kind in _NO_AMOUNT and value is not None:
        raise ValidationError.at("amount", f"an {instance.kind} carries no amount")


@attrs.frozen
class Remedy:
    """One proposed remedy (处理方式): what is offered, and any money involved."""

    kind: RemedyKind = attrs.field(converter=_remedy_kind)
    description: str = attrs.field(validator=_not_blank)
    amount: Money | None = attrs.field(default=None, validator=_remedy_amount)

    @property
    def is_substantive(self) -> bool:
        """Whether the remedy promises something of substance (DOMAIN.md 3.6)."""
        return self.kind in _SUBSTANTIVE or bool(self.amount)


@attrs.frozen
class Approval:
    """The manager's decision on the best remedy (主管领导批示)."""

    remedy: Remedy
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    note: str = ""


@attrs.frozen
class CustomerAcceptance:
    """The customer accepted (signed for) the approved remedy."""

    at: datetime = attrs.field(validator=_aware)
    signed_by: str = attrs.field(validator=_not_blank)
    feedback: str = ""


@attrs.frozen
class CustomerRefusal:
    """The customer refused the approved remedy; the complaint was reopened."""

    at: datetime = attrs.field(validator=_aware)
    remedy: Remedy
    reason: str = attrs.field(validator=_not_blank)


@attrs.frozen
class FollowUp:
    """One follow-up visit (回访) and what the customer said."""

    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    outcome: FollowUpOutcome = attrs.field(converter=_outcome)
    notes: str = attrs.field(validator=_not_blank)
    method: FollowUpMethod = attrs.field(default=FollowUpMethod.PHONE, converter=_method)


@attrs.frozen
class EscalationStep:
    """One step up the follow-up ladder: from which level to which, why and to whom."""

    from_level: int = attrs.field(validator=_level)
    to_level: int = attrs.field(validator=_level)
    at: datetime = attrs.field(validator=_aware)
    by: str
    reason: EscalationReason = attrs.field(converter=_reason)
    owner_role: str
    owner_id: str | None = None
    #: The missed deadline, for deadline escalations.
    due: datetime | None = attrs.field(default=None, validator=_optional_aware)
    #: The resolution round (the complaint's ``reopen_count`` when it happened).
    round: int = attrs.field(default=0, validator=_not_negative)
    note: str = ""


# -- the aggregate ------------------------------------------------------------------------


def _check_actor(by: object) -> Actor:
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    return by


@attrs.frozen(kw_only=True)
class Complaint:
    """A customer complaint (投诉) and everything recorded while handling it."""

    id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    order_id: str | None = attrs.field(default=None, validator=_optional_not_blank)
    channel: ComplaintChannel = attrs.field(converter=_channel)
    urgency: ComplaintUrgency = attrs.field(converter=_urgency)
    nature: ComplaintNature = attrs.field(default=ComplaintNature.NORMAL, converter=_nature)
    category: ComplaintCategory = attrs.field(converter=_category)
    description: str = attrs.field(validator=_not_blank)
    received_at: datetime = attrs.field(validator=_aware)
    status: ComplaintStatus = attrs.field(default=ComplaintStatus.RECEIVED, converter=_status)
    #: Response (acknowledgement) deadline and the moment of the first response.
    respond_by: datetime = attrs.field(validator=_aware)
    first_response_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    #: Resolution deadline; moved by time on hold, renewed when the complaint reopens.
    resolve_by: datetime = attrs.field(validator=_aware)
    department: str | None = attrs.field(default=None, validator=_optional_not_blank)
    owner_role: str = attrs.field(validator=_not_blank)
    owner_id: str | None = attrs.field(default=None, validator=_optional_not_blank)
    escalation_level: int = attrs.field(default=1, validator=_level)
    escalations: tuple[EscalationStep, ...] = ()
    #: ``True`` once assessed as founded, ``False`` when rejected, ``None`` before.
    founded: bool | None = None
    #: The tactful reply to an unfounded complaint.
    reply: str = ""
    #: The time the customer was asked to give the team (请顾客给予时间).
    answer_promised_by: datetime | None = attrs.field(default=None, validator=_optional_aware)
    cause: str | None = attrs.field(default=None, validator=_optional_not_blank)
    responsible_person: str | None = attrs.field(default=None, validator=_optional_not_blank)
    proposals: tuple[Remedy, ...] = ()
    approval: Approval | None = None
    acceptance: CustomerAcceptance | None = None
    refusals: tuple[CustomerRefusal, ...] = ()
    sla_outcome: SlaOutcome | None = attrs.field(default=None, converter=_sla_outcome)
    follow_up_due: datetime | None = attrs.field(default=None, validator=_optional_aware)
    follow_up_planned_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    follow_ups: tuple[FollowUp, ...] = ()
    reopen_count: int = attrs.field(default=0, validator=_not_negative)
    summary: str = ""
    improvement_measure: str = ""
    history: tuple[StatusChange, ...] = ()

    def __attrs_post_init__(self) -> None:
        received = utc(self.received_at, "received_at")
        if utc(self.respond_by, "respond_by") < received:
            raise ValidationError.at("respond_by", "a deadline cannot precede receipt")
        if utc(self.resolve_by, "resolve_by") < received:
            raise ValidationError.at("resolve_by", "a deadline cannot precede receipt")

    # -- derived facts ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the complaint still waits for a resolution (working or on hold)."""
        return self.status in OPEN_STATUSES

    @property
    def updated_at(self) -> datetime:
        """The instant of the latest recorded change (status, escalation or visit)."""
        moments = [self.received_at]
        if self.history:
            moments.append(self.history[-1].at)
        if self.escalations:
            moments.append(self.escalations[-1].at)
        if self.first_response_at is not None:
            moments.append(self.first_response_at)
        if self.follow_ups:
            moments.append(self.follow_ups[-1].at)
        return max(moments)

    def _last_entry_into(self, status: ComplaintStatus) -> StatusChange | None:
        for change in reversed(self.history):
            if change.to == status.value:
                return change
        return None

    @property
    def held_since(self) -> datetime | None:
        """When the current hold started (``None`` unless on hold)."""
        if self.status is not ComplaintStatus.ON_HOLD:
            return None
        entry = self._last_entry_into(ComplaintStatus.ON_HOLD)
        return None if entry is None else entry.at

    @property
    def held_from(self) -> ComplaintStatus | None:
        """The state the complaint returns to when the hold ends (``None`` unless on hold)."""
        if self.status is not ComplaintStatus.ON_HOLD:
            return None
        entry = self._last_entry_into(ComplaintStatus.ON_HOLD)
        if entry is None or entry.from_ is None:
            return None
        return ComplaintStatus(entry.from_)

    @property
    def resolved_at(self) -> datetime | None:
        """When the customer last accepted a resolution (``None`` if never)."""
        entry = self._last_entry_into(ComplaintStatus.RESOLVED)
        return None if entry is None else entry.at

    @property
    def closed_at(self) -> datetime | None:
        """When the complaint was closed (``None`` while not closed)."""
        entry = self._last_entry_into(ComplaintStatus.CLOSED)
        return None if entry is None else entry.at

    def hold_periods(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """Every ``(start, end)`` spent on hold; ``end`` is ``None`` for a current hold."""
        periods: list[tuple[datetime, datetime | None]] = []
        start: datetime | None = None
        for change in self.history:
            if change.to == ComplaintStatus.ON_HOLD.value:
                start = change.at
            elif start is not None:
                periods.append((start, change.at))
                start = None
        if start is not None:
            periods.append((start, None))
        return tuple(periods)

    def passed_through(self, status: ComplaintStatus) -> bool:
        """Whether the complaint was ever in ``status``."""
        return any(change.to == status.value for change in self.history)

    # -- helpers ------------------------------------------------------------------------

    def _time(self, at: datetime) -> datetime:
        moment = utc(at)
        if moment < self.updated_at:
            raise ValidationError.at(
                "at",
                f"{moment.isoformat()} is before the last recorded change "
                f"{self.updated_at.isoformat()}",
            )
        return moment

    def _authorised(self, by: Actor, access: AccessPolicy) -> Actor:
        actor = _check_actor(by)
        access.require(actor, Permission.HANDLE_COMPLAINT)
        return actor

    def _check_move(self, to: ComplaintStatus, sources: frozenset[ComplaintStatus]) -> None:
        if self.status not in sources:
            raise InvalidTransition("complaint", self.id, self.status.value, to.value)
        check_transition(COMPLAINT_TRANSITIONS, "complaint", self.id, self.status, to)

    def _moved(
        self,
        to: ComplaintStatus,
        *,
        sources: frozenset[ComplaintStatus],
        at: datetime,
        by: Actor,
        note: str = "",
        **changes: Any,
    ) -> Complaint:
        self._check_move(to, sources)
        moment = self._time(at)
        change = StatusChange(from_=self.status.value, to=to.value, at=moment, by=by.id, note=note)
        return attrs.evolve(self, status=to, history=(*self.history, change), **changes)

    def _responded(self, at: datetime) -> datetime:
        return self.first_response_at if self.first_response_at is not None else utc(at)

    def _escalated(
        self,
        *,
        at: datetime,
        by: Actor,
        reason: EscalationReason,
        policy: ComplaintPolicy,
        owners: Mapping[str, str] | None,
        due: datetime | None = None,
        note: str = "",
    ) -> Complaint:
        level = min(self.escalation_level + 1, policy.top_level)
        role = policy.role_at(level)
        owner = None if owners is None else owners.get(role)
        step = EscalationStep(
            from_level=self.escalation_level,
            to_level=level,
            at=at,
            by=by.id,
            reason=reason,
            owner_role=role,
            owner_id=owner,
            due=due,
            round=self.reopen_count,
            note=note,
        )
        return attrs.evolve(
            self,
            escalation_level=level,
            owner_role=role,
            owner_id=owner,
            escalations=(*self.escalations, step),
        )

    def _reopened(
        self,
        *,
        at: datetime,
        by: Actor,
        reason: str,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        owners: Mapping[str, str] | None,
        **changes: Any,
    ) -> Complaint:
        moment = utc(at)
        reopened = self._moved(
            ComplaintStatus.INVESTIGATING,
            sources=_REOPENABLE,
            at=moment,
            by=by,
            note=reason,
            reopen_count=self.reopen_count + 1,
            resolve_by=policy.sla_for(self.urgency).resolve.due(moment, calendar),
            approval=None,
            acceptance=None,
            sla_outcome=None,
            follow_up_due=None,
            follow_up_planned_at=None,
            **changes,
        )
        if policy.escalate_on_reopen and reopened.escalation_level < policy.top_level:
            reopened = reopened._escalated(
                at=moment,
                by=by,
                reason=EscalationReason.CUSTOMER_UNHAPPY,
                policy=policy,
                owners=owners,
                note=reason,
            )
        return reopened

    # -- commands -----------------------------------------------------------------------

    def acknowledge(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """Record the first response to the customer (受理即时); later calls change nothing.

        Source: DOMAIN.md 3.2 (ISO 10002 "acknowledgement") and the response target of 3.3.
        """
        self._authorised(by, access)
        if self.first_response_at is not None:
            return self
        return attrs.evolve(self, first_response_at=self._time(at))

    def assign(self, *, owner_id: str, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """Hand the complaint to a named person at its current level."""
        self._authorised(by, access)
        if not self.is_open:
            raise RuleViolation(
                "complaint_not_open", "only an open complaint can be reassigned", id=self.id
            )
        self._time(at)
        return attrs.evolve(self, owner_id=_text(owner_id, "owner_id"))

    def assess(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        department: str | None = None,
        answer_promised_by: datetime | None = None,
        nature: ComplaintNature | str | None = None,
        note: str = "",
    ) -> Complaint:
        """Judge the complaint founded, name the responsible department, ask for time.

        Source: DOMAIN.md 3.2 step 2 (判断). Without ``department`` the policy's default
        for the category is used (quality → production owner, service → service staff).
        """
        actor = self._authorised(by, access)
        moment = utc(at)
        chosen = department if department is not None else policy.department_for(self.category)
        if chosen is None:
            raise ValidationError.at("department", "name the responsible department")
        promised = None
        if answer_promised_by is not None:
            promised = utc(answer_promised_by, "answer_promised_by")
            if promised < moment:
                raise ValidationError.at("answer_promised_by", "must not be in the past")
        return self._moved(
            ComplaintStatus.ASSESSED,
            sources=_FROM_RECEIVED,
            at=moment,
            by=actor,
            note=note,
            founded=True,
            department=_text(chosen, "department"),
            answer_promised_by=promised,
            nature=self.nature if nature is None else _enum(ComplaintNature, nature, "nature"),
            first_response_at=self._responded(moment),
        )

    def reject(self, *, reply: str, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """Close the case as unfounded with a tactful reply; it is still counted.

        Source: DOMAIN.md 3.2 step 2 (not founded: reply tactfully, reach understanding).
        """
        actor = self._authorised(by, access)
        moment = utc(at)
        text = _text(reply, "reply")
        return self._moved(
            ComplaintStatus.REJECTED,
            sources=_FROM_RECEIVED,
            at=moment,
            by=actor,
            note=text,
            founded=False,
            reply=text,
            first_response_at=self._responded(moment),
        )

    def start_investigation(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> Complaint:
        """Start finding the cause and the responsible person (调查, DOMAIN.md 3.2 step 3)."""
        actor = self._authorised(by, access)
        return self._moved(
            ComplaintStatus.INVESTIGATING, sources=_FROM_ASSESSED, at=at, by=actor, note=note
        )

    def record_cause(
        self,
        *,
        cause: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        responsible_person: str | None = None,
    ) -> Complaint:
        """Record the cause found and the responsible person (DOMAIN.md 3.2 step 3)."""
        self._authorised(by, access)
        if self.status is not ComplaintStatus.INVESTIGATING:
            raise RuleViolation(
                "not_investigating",
                "the cause is recorded while investigating",
                id=self.id,
                status=self.status.value,
            )
        self._time(at)
        person = (
            None if responsible_person is None else _text(responsible_person, "responsible_person")
        )
        return attrs.evolve(self, cause=_text(cause, "cause"), responsible_person=person)

    def propose_resolution(
        self, *, remedies: Sequence[Remedy], at: datetime, by: Actor, access: AccessPolicy
    ) -> Complaint:
        """Propose one or more remedies for the manager to choose from (方案, step 4).

        The cause must be known first (investigation before remedy).
        """
        actor = self._authorised(by, access)
        options = tuple(remedies)
        if not options:
            raise ValidationError.at("remedies", "propose at least one remedy")
        for i, remedy in enumerate(options):
            if not isinstance(remedy, Remedy):
                raise ValidationError.at(f"remedies.{i}", "expected a Remedy")
        if self.status is ComplaintStatus.INVESTIGATING and self.cause is None:
            raise RuleViolation(
                "cause_required", "record the cause before proposing a remedy", id=self.id
            )
        return self._moved(
            ComplaintStatus.RESOLUTION_PROPOSED,
            sources=_FROM_INVESTIGATING,
            at=at,
            by=actor,
            proposals=options,
        )

    def send_back(self, *, reason: str, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """The manager approves none of the proposals: investigate again (not a reopen)."""
        actor = self._authorised(by, access)
        return self._moved(
            ComplaintStatus.INVESTIGATING,
            sources=_FROM_PROPOSED,
            at=at,
            by=actor,
            note=_text(reason, "reason"),
        )

    def approve_resolution(
        self,
        *,
        choice: int,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        note: str = "",
    ) -> Complaint:
        """A manager approves the best proposal (主管领导批示, DOMAIN.md 3.2 step 4).

        Source: DOMAIN.md 3.6: a remedy of substance needs an approver with
        :data:`~csdomain.auth.Permission.APPROVE_REMEDY` whose limit covers the amount;
        goodwill to an abnormal complaint needs the top role.
        """
        actor = _check_actor(by)
        self._check_move(ComplaintStatus.RESOLUTION_APPROVED, _FROM_PROPOSED)
        if isinstance(choice, bool) or not isinstance(choice, int):
            raise ValidationError.at("choice", "the index of a proposal")
        if not 0 <= choice < len(self.proposals):
            raise ValidationError.at(
                "choice", f"no proposal {choice}; there are {len(self.proposals)}"
            )
        remedy = self.proposals[choice]
        check_remedy_authority(remedy, self.nature, actor, access)
        moment = utc(at)
        return self._moved(
            ComplaintStatus.RESOLUTION_APPROVED,
            sources=_FROM_PROPOSED,
            at=moment,
            by=actor,
            note=note,
            approval=Approval(remedy=remedy, at=moment, by=actor.id, note=note),
        )

    def accept_resolution(
        self,
        *,
        signed_by: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        quiet_hours: QuietHours | None = None,
        preferred_follow_up_at: datetime | None = None,
        feedback: str = "",
    ) -> Complaint:
        """The customer accepts (signs for) the approved remedy: the complaint is resolved.

        Source: DOMAIN.md 3.2 step 5 and 3.5: the SLA outcome is recorded and a follow-up
        visit is planned within ``policy.follow_up_within`` outside the customer's rest
        hours (``preferred_follow_up_at``: the time agreed with the customer).
        """
        actor = self._authorised(by, access)
        moment = utc(at)
        self._check_move(ComplaintStatus.RESOLVED, _FROM_APPROVED)
        due, planned = plan_follow_up(
            moment, policy=policy, quiet_hours=quiet_hours, preferred=preferred_follow_up_at
        )
        return self._moved(
            ComplaintStatus.RESOLVED,
            sources=_FROM_APPROVED,
            at=moment,
            by=actor,
            note=feedback,
            acceptance=CustomerAcceptance(
                at=moment, signed_by=_text(signed_by, "signed_by"), feedback=feedback
            ),
            sla_outcome=SlaOutcome.MET if moment <= self.resolve_by else SlaOutcome.MISSED,
            follow_up_due=due,
            follow_up_planned_at=planned,
        )

    def refuse_resolution(
        self,
        *,
        reason: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        owners: Mapping[str, str] | None = None,
    ) -> Complaint:
        """The customer refuses the approved remedy: investigate again, counted as a reopen.

        Source: DOMAIN.md 3.2 step 5 and 3.4 (a customer still unhappy moves the case up).
        The resolution deadline starts again from the refusal.
        """
        actor = self._authorised(by, access)
        text = _text(reason, "reason")
        self._check_move(ComplaintStatus.INVESTIGATING, _FROM_APPROVED)
        if self.approval is None:
            raise ValidationError.at("approval", "a refusal needs an approved remedy")
        refusal = CustomerRefusal(at=utc(at), remedy=self.approval.remedy, reason=text)
        return self._reopened(
            at=at,
            by=actor,
            reason=text,
            policy=policy,
            calendar=calendar,
            owners=owners,
            refusals=(*self.refusals, refusal),
        )

    def agree_follow_up_time(
        self,
        *,
        planned_at: datetime,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        quiet_hours: QuietHours | None = None,
    ) -> Complaint:
        """Move the planned visit to a time agreed with the customer (DOMAIN.md 3.5)."""
        self._authorised(by, access)
        if self.status is not ComplaintStatus.RESOLVED or self.follow_up_due is None:
            raise RuleViolation(
                "not_awaiting_follow_up", "only a resolved complaint awaits its visit", id=self.id
            )
        moment = self._time(at)
        planned = utc(planned_at, "planned_at")
        if quiet_hours is not None:
            planned = utc(quiet_hours.next_allowed(planned))
        if planned < moment:
            raise ValidationError.at("planned_at", "must not be in the past")
        if planned > self.follow_up_due:
            raise RuleViolation(
                "follow_up_after_due",
                "the visit must take place within the follow-up period",
                planned_at=planned.isoformat(),
                due=self.follow_up_due.isoformat(),
            )
        return attrs.evolve(self, follow_up_planned_at=planned)

    def record_follow_up(
        self,
        *,
        outcome: FollowUpOutcome | str,
        notes: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        method: FollowUpMethod | str = FollowUpMethod.PHONE,
        quiet_hours: QuietHours | None = None,
        owners: Mapping[str, str] | None = None,
    ) -> Complaint:
        """Record the follow-up visit (回访); a dissatisfied customer may reopen the case.

        Source: DOMAIN.md 3.5: never call during the customer's rest time; the visit record
        is complete (notes are required); not satisfied → ask what to improve, and with
        ``policy.reopen_on_dissatisfied`` the complaint goes back to investigating.
        """
        actor = self._authorised(by, access)
        self._check_move(ComplaintStatus.FOLLOWED_UP, _FROM_RESOLVED)
        moment = utc(at)
        result = _enum(FollowUpOutcome, outcome, "outcome")
        if quiet_hours is not None and quiet_hours.contains(moment):
            raise RuleViolation(
                "quiet_hours",
                "never call during the customer's rest time",
                at=moment.isoformat(),
                next_allowed=utc(quiet_hours.next_allowed(moment)).isoformat(),
            )
        visit = FollowUp(
            at=moment,
            by=actor.id,
            outcome=result,
            notes=_text(notes, "notes"),
            method=_enum(FollowUpMethod, method, "method"),
        )
        visited = self._moved(
            ComplaintStatus.FOLLOWED_UP,
            sources=_FROM_RESOLVED,
            at=moment,
            by=actor,
            note=result.value,
            follow_ups=(*self.follow_ups, visit),
        )
        if result is FollowUpOutcome.DISSATISFIED and policy.reopen_on_dissatisfied:
            return visited._reopened(
                at=moment,
                by=actor,
                reason=f"dissatisfied at follow-up: {visit.notes}",
                policy=policy,
                calendar=calendar,
                owners=owners,
            )
        return visited

    def close(
        self,
        *,
        summary: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        improvement_measure: str = "",
    ) -> Complaint:
        """Close the complaint with a summary and an improvement measure (总结评价, step 7).

        A founded complaint needs an improvement measure; a rejected one may have none.
        """
        actor = self._authorised(by, access)
        text = _text(summary, "summary")
        measure = improvement_measure
        if self.status is not ComplaintStatus.REJECTED and not measure.strip():
            raise ValidationError.at("improvement_measure", "record the improvement measure")
        return self._moved(
            ComplaintStatus.CLOSED,
            sources=_CLOSABLE,
            at=at,
            by=actor,
            note=text,
            summary=text,
            improvement_measure=measure,
        )

    def put_on_hold(
        self, *, reason: str, at: datetime, by: Actor, access: AccessPolicy
    ) -> Complaint:
        """Wait for the customer; the resolution clock stops until :meth:`resume`."""
        actor = self._authorised(by, access)
        return self._moved(
            ComplaintStatus.ON_HOLD,
            sources=WORKING_STATUSES,
            at=at,
            by=actor,
            note=_text(reason, "reason"),
        )

    def resume(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        note: str = "",
    ) -> Complaint:
        """End the hold: back to the state it came from, ``resolve_by`` moved by the hold.

        Source: DOMAIN.md 3.3: time waiting for the customer does not count against the
        resolution target. A deadline already missed when the hold began stays missed.
        """
        actor = self._authorised(by, access)
        back = self.held_from
        started = self.held_since
        if back is None or started is None:
            raise InvalidTransition("complaint", self.id, self.status.value, "resumed")
        moment = self._time(at)
        resolve_by = self.resolve_by
        if started < resolve_by:
            target = policy.sla_for(self.urgency).resolve
            resolve_by = target.extend(
                resolve_by, target.measure(started, moment, calendar), calendar
            )
        return self._moved(
            back, sources=_FROM_ON_HOLD, at=moment, by=actor, note=note, resolve_by=resolve_by
        )

    def escalate(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: ComplaintPolicy,
        reason: EscalationReason | str = EscalationReason.MANUAL,
        owners: Mapping[str, str] | None = None,
        note: str = "",
    ) -> Complaint:
        """Move the complaint one rung up the ladder by hand (DOMAIN.md 3.4)."""
        actor = self._authorised(by, access)
        if not self.is_open:
            raise RuleViolation(
                "complaint_not_open", "only an open complaint escalates", id=self.id
            )
        if self.escalation_level >= policy.top_level:
            raise RuleViolation(
                "escalation_at_top", "the complaint is already at the top of the ladder", id=self.id
            )
        return self._escalated(
            at=self._time(at),
            by=actor,
            reason=_enum(EscalationReason, reason, "reason"),
            policy=policy,
            owners=owners,
            note=note,
        )

    def missed_deadlines(
        self, *, at: datetime, policy: ComplaintPolicy, calendar: BusinessCalendar, limit: int = 5
    ) -> tuple[tuple[EscalationReason, datetime], ...]:
        """The deadlines missed by ``at`` in the current round, earliest first.

        Missed deadlines (DOMAIN.md 3.4): the response deadline (first round only); the
        resolution deadline; then every ``policy.escalation_interval`` past it while the
        complaint is still unresolved (at most ``limit`` of these). While on hold the
        resolution clock stands still.
        """
        moment = utc(at)
        misses: list[tuple[EscalationReason, datetime]] = []
        if self.reopen_count == 0 and min(self._responded(moment), moment) > self.respond_by:
            misses.append((EscalationReason.RESPONSE_OVERDUE, self.respond_by))
        if self.is_open:
            clock = moment
            held = self.held_since
            if held is not None:
                clock = min(clock, held)
            due = self.resolve_by
            reason = EscalationReason.RESOLUTION_OVERDUE
            count = 0
            while due < clock and count < limit:
                misses.append((reason, due))
                count += 1
                due = policy.escalation_interval.due(due, calendar)
                reason = EscalationReason.STILL_OVERDUE
        misses.sort(key=lambda miss: miss[1])
        return tuple(misses)

    def escalate_if_overdue(
        self,
        *,
        at: datetime,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        by: Actor,
        owners: Mapping[str, str] | None = None,
    ) -> tuple[Complaint, tuple[ComplaintEscalated, ...]]:
        """Move an overdue open complaint up one rung per newly missed deadline.

        Source: DOMAIN.md 3.4 (五级追访制). Idempotent: a second call at the same instant
        changes nothing; the level never passes the top of the ladder. ``owners`` maps a
        ladder role to the id of the person who holds it.
        """
        actor = _check_actor(by)
        if not self.is_open:
            return self, ()
        room = policy.top_level - self.escalation_level
        if room <= 0:
            return self, ()
        done = sum(
            1
            for step in self.escalations
            if step.round == self.reopen_count and step.reason in _DEADLINE_REASONS
        )
        misses = self.missed_deadlines(at=at, policy=policy, calendar=calendar, limit=done + room)
        fresh = misses[done : done + room]
        if not fresh:
            return self, ()
        moment = self._time(at)
        complaint = self
        events: list[ComplaintEscalated] = []
        for reason, due in fresh:
            complaint = complaint._escalated(
                at=moment, by=actor, reason=reason, policy=policy, owners=owners, due=due
            )
            events.append(ComplaintEscalated.from_step(complaint.id, complaint.escalations[-1]))
        return complaint, tuple(events)


def check_remedy_authority(
    remedy: Remedy, nature: ComplaintNature, by: Actor, access: AccessPolicy
) -> None:
    """Raise :class:`~csdomain.errors.PermissionDenied` unless ``by`` may approve ``remedy``.

    Source: DOMAIN.md 3.6: staff must not promise anything of substance without the
    authority to; goodwill to an unreasonable (abnormal) complaint needs the top role.
    Explanation and referral need only complaint-handling permission.
    """
    actor = _check_actor(by)
    if not remedy.is_substantive:
        access.require(actor, Permission.HANDLE_COMPLAINT)
        return
    access.require(actor, Permission.APPROVE_REMEDY)
    if remedy.amount is not None:
        access.require_approval(actor, remedy.amount, what=f"{remedy.kind} remedy")
    if (
        remedy.kind is RemedyKind.GOODWILL
        and nature is ComplaintNature.ABNORMAL
        and not access.is_top(actor)
    ):
        raise PermissionDenied(
            actor.id,
            Permission.APPROVE_REMEDY,
            f"goodwill to an abnormal complaint needs the {access.top_role} role",
        )


def plan_follow_up(
    resolved_at: datetime,
    *,
    policy: ComplaintPolicy,
    quiet_hours: QuietHours | None = None,
    preferred: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The follow-up visit's due time and planned time for a resolution at ``resolved_at``.

    Source: DOMAIN.md 3.5: visit within 3 days, never during the customer's rest time,
    at a convenient time agreed with the customer (``preferred``). Without a preference
    the visit is the next-day call, moved out of the rest hours; if that would miss the
    due time, the earliest allowed moment after resolution is used.
    """
    resolved = utc(resolved_at, "resolved_at")
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


def receive_complaint(
    *,
    id: str,
    customer_id: str,
    channel: ComplaintChannel | str,
    urgency: ComplaintUrgency | str,
    category: ComplaintCategory | str,
    description: str,
    at: datetime,
    by: Actor,
    access: AccessPolicy,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
    nature: ComplaintNature | str = ComplaintNature.NORMAL,
    order_id: str | None = None,
    owner_id: str | None = None,
    owners: Mapping[str, str] | None = None,
) -> Complaint:
    """Receive a complaint (受理): record it and set its response and resolution deadlines.

    Source: DOMAIN.md 3.2 step 1 and 3.3. ``calendar`` is the owning team's calendar;
    the complaint starts on the ladder level of its urgency, owned by that level's role
    (``owner_id``, else the holder named in ``owners``).
    """
    actor = _check_actor(by)
    access.require(actor, Permission.HANDLE_COMPLAINT)
    moment = utc(at)
    level_of = _enum(ComplaintUrgency, urgency, "urgency")
    sla = policy.sla_for(level_of)
    level = policy.start_level(level_of)
    role = policy.role_at(level)
    owner = owner_id if owner_id is not None else (None if owners is None else owners.get(role))
    return Complaint(
        id=_text(id, "id"),
        customer_id=_text(customer_id, "customer_id"),
        order_id=None if order_id is None else _text(order_id, "order_id"),
        channel=channel,
        urgency=level_of,
        nature=nature,
        category=category,
        description=_text(description, "description"),
        received_at=moment,
        respond_by=sla.respond.due(moment, calendar),
        resolve_by=sla.resolve.due(moment, calendar),
        owner_role=role,
        owner_id=owner,
        escalation_level=level,
        history=(StatusChange(from_=None, to=_S.RECEIVED.value, at=moment, by=actor.id),),
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


# -- SLA breaches -------------------------------------------------------------------------


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


def missing_follow_ups(
    complaints: Iterable[Complaint], at: datetime, is_member: Callable[[str], bool]
) -> Iterator[Complaint]:
    """Resolved member complaints with no follow-up visit by their due time, streamed.

    Source: DOMAIN.md 3.5: 100 % of member customers are visited, within 3 days.
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


# -- events -------------------------------------------------------------------------------


@attrs.frozen
class ComplaintReceived(Event):
    """A complaint was received and its deadlines set."""

    complaint_id: str
    customer_id: str
    urgency: ComplaintUrgency
    category: ComplaintCategory
    nature: ComplaintNature
    at: datetime
    respond_by: datetime
    resolve_by: datetime
    owner_role: str
    owner_id: str | None
    by: str


@attrs.frozen
class ComplaintStatusChanged(Event):
    """A complaint moved from one state to another (the customer may be told)."""

    complaint_id: str
    customer_id: str
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    at: datetime
    by: str
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


@attrs.frozen
class FollowUpScheduled(Event):
    """A follow-up visit was planned (or re-planned) for a resolved complaint."""

    complaint_id: str
    customer_id: str
    planned_at: datetime
    due: datetime


@attrs.frozen
class ComplaintClosed(Event):
    """A complaint was closed with its summary (for the statistics table)."""

    complaint_id: str
    customer_id: str
    founded: bool | None
    at: datetime
    by: str


def complaint_events(before: Complaint | None, after: Complaint) -> list[Event]:
    """The events between two versions of a complaint (``before=None``: received)."""
    events: list[Event] = []
    known_history = 0 if before is None else len(before.history)
    known_steps = 0 if before is None else len(before.escalations)
    if before is None:
        first = after.history[0] if after.history else None
        events.append(
            ComplaintReceived(
                complaint_id=after.id,
                customer_id=after.customer_id,
                urgency=after.urgency,
                category=after.category,
                nature=after.nature,
                at=after.received_at,
                respond_by=after.respond_by,
                resolve_by=after.resolve_by,
                owner_role=after.owner_role,
                owner_id=after.owner_id,
                by="" if first is None else first.by,
            )
        )
        known_history = 1
    for change in after.history[known_history:]:
        events.append(
            ComplaintStatusChanged(
                complaint_id=after.id,
                customer_id=after.customer_id,
                from_status=None if change.from_ is None else ComplaintStatus(change.from_),
                to_status=ComplaintStatus(change.to),
                at=change.at,
                by=change.by,
                note=change.note,
            )
        )
        if change.to == ComplaintStatus.CLOSED.value:
            events.append(
                ComplaintClosed(
                    complaint_id=after.id,
                    customer_id=after.customer_id,
                    founded=after.founded,
                    at=change.at,
                    by=change.by,
                )
            )
    events.extend(
        ComplaintEscalated.from_step(after.id, step) for step in after.escalations[known_steps:]
    )
    planned = after.follow_up_planned_at
    if (
        planned is not None
        and after.follow_up_due is not None
        and (before is None or before.follow_up_planned_at != planned)
    ):
        events.append(
            FollowUpScheduled(
                complaint_id=after.id,
                customer_id=after.customer_id,
                planned_at=planned,
                due=after.follow_up_due,
            )
        )
    return events


# -- statistics ---------------------------------------------------------------------------


_MIN_SECONDS = 1e-3
_MAX_SECONDS = timedelta.max.total_seconds()


@attrs.define
class DurationSketch:
    """A mergeable quantile sketch of durations with bounded relative error.

    Durations go into log-spaced buckets ``(g**(k-1), g**k]`` seconds with
    ``g = (1 + a) / (1 - a)``, ``a`` being ``relative_error``; a quantile is answered with
    the bucket's midpoint ``2 * g**k / (g + 1)``, within relative error ``a`` of the true
    value (durations under one millisecond count as zero). With the default ``a`` (just
    under 1 %) every duration from 1 ms up to ``timedelta.max`` falls into one of fewer
    than 2,000 buckets, so memory stays bounded whatever the number of durations added.
    """

    relative_error: float = 0.0099
    count: int = 0
    zeros: int = 0
    buckets: dict[int, int] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if not 0 < self.relative_error < 1:
            raise ValidationError.at("relative_error", "must lie between 0 and 1")

    @property
    def _gamma(self) -> float:
        return (1 + self.relative_error) / (1 - self.relative_error)

    def add(self, value: timedelta) -> None:
        """Count one duration (negative durations count as zero)."""
        seconds = value.total_seconds()
        self.count += 1
        if seconds < _MIN_SECONDS:
            self.zeros += 1
            return
        key = math.ceil(math.log(seconds) / math.log(self._gamma))
        self.buckets[key] = self.buckets.get(key, 0) + 1

    def merge(self, other: DurationSketch) -> DurationSketch:
        """A new sketch holding the durations of both (same relative error required)."""
        if other.relative_error != self.relative_error:
            raise ValidationError.at("relative_error", "sketches with different errors")
        merged = dict(self.buckets)
        for key, n in other.buckets.items():
            merged[key] = merged.get(key, 0) + n
        return DurationSketch(
            relative_error=self.relative_error,
            count=self.count + other.count,
            zeros=self.zeros + other.zeros,
            buckets=merged,
        )

    def quantile(self, q: float) -> timedelta | None:
        """The ``q``-quantile: the value at rank ``floor(q * (count - 1))`` of the sorted
        durations, within the relative error (``None`` when empty)."""
        if not 0 <= q <= 1:
            raise ValidationError.at("q", "a quantile lies between 0 and 1")
        if not self.count:
            return None
        rank = math.floor(q * (self.count - 1))
        seen = self.zeros
        if rank < seen:
            return timedelta(0)
        gamma = self._gamma
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if rank < seen:
                estimate = 2 * gamma**key / (gamma + 1)
                return timedelta.max if estimate >= _MAX_SECONDS else timedelta(seconds=estimate)
        raise AssertionError("bucket counts do not add up")  # pragma: no cover


@attrs.define
class TopCounter:
    """Approximate counts of the most frequent items in bounded memory (Misra-Gries).

    Keeps at most ``capacity`` counters; each reported count is at most
    ``total / (capacity + 1)`` below the true count, and exact while there were no
    more than ``capacity`` distinct items. Two counters merge (Agarwal et al., 2012).
    """

    capacity: int = 64
    total: int = 0
    counters: dict[str, int] = attrs.field(factory=dict)

    def add(self, item: str) -> None:
        """Count one occurrence of ``item``."""
        self.total += 1
        if item in self.counters:
            self.counters[item] += 1
        elif len(self.counters) < self.capacity:
            self.counters[item] = 1
        else:
            self.counters = {k: n - 1 for k, n in self.counters.items() if n > 1}

    def merge(self, other: TopCounter) -> TopCounter:
        """A new counter summarising both streams (same capacity required)."""
        if other.capacity != self.capacity:
            raise ValidationError.at("capacity", "counters with different capacities")
        combined = dict(self.counters)
        for key, n in other.counters.items():
            combined[key] = combined.get(key, 0) + n
        if len(combined) > self.capacity:
            cut = sorted(combined.values(), reverse=True)[self.capacity]
            combined = {k: n - cut for k, n in combined.items() if n > cut}
        return TopCounter(capacity=self.capacity, total=self.total + other.total, counters=combined)

    def top(self, n: int) -> tuple[tuple[str, int], ...]:
        """The ``n`` items with the highest counts, highest first (ties by name)."""
        ranked = sorted(self.counters.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(ranked[:n])


@attrs.frozen
class ClassificationRow:
    """One cell of the complaint classification table (顾客投诉分类统计表)."""

    category: ComplaintCategory
    nature: ComplaintNature
    urgency: ComplaintUrgency
    count: int


@attrs.frozen
class CauseCount:
    """A cause and how often it was found (a lower bound beyond the counter's capacity)."""

    cause: str
    count: int


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen
class ComplaintReport:
    """The complaint statistics table and its key figures (DOMAIN.md 3.2 step 7)."""

    total: int
    rows: tuple[ClassificationRow, ...]
    by_status: Mapping[ComplaintStatus, int]
    by_channel: Mapping[ComplaintChannel, int]
    #: Founded / (founded + rejected); ``None`` when nothing was assessed yet.
    founded_rate: float | None
    #: Resolved within the resolution target / resolved.
    within_sla_rate: float | None
    response_median: timedelta | None
    response_p90: timedelta | None
    resolution_median: timedelta | None
    resolution_p90: timedelta | None
    #: Complaints reopened at least once / complaints ever resolved or reopened.
    reopen_rate: float | None
    #: Escalation steps by the level they reached.
    escalations_by_level: Mapping[int, int]
    top_causes: tuple[CauseCount, ...]

    def count(
        self,
        *,
        category: ComplaintCategory | None = None,
        nature: ComplaintNature | None = None,
        urgency: ComplaintUrgency | None = None,
    ) -> int:
        """Complaints in the cells matching the given classification (a table margin)."""
        return sum(
            row.count
            for row in self.rows
            if (category is None or row.category is category)
            and (nature is None or row.nature is nature)
            and (urgency is None or row.urgency is urgency)
        )


_Cell = tuple[ComplaintCategory, ComplaintNature, ComplaintUrgency]


def _add_counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    merged = dict(a)
    for key, n in b.items():
        merged[key] = merged.get(key, 0) + n
    return merged


@attrs.define
class ComplaintStatistics:
    """A streaming, mergeable accumulator of the complaint statistics table.

    ``add`` one complaint at a time (e.g. streamed from the store); ``merge`` two
    accumulators built on the same calendar (e.g. per shard or per month). Memory is
    bounded whatever the number of complaints: fixed-size count tables, two
    :class:`DurationSketch` es (relative error under 1 %) and a :class:`TopCounter` of
    causes. Times to respond and to resolve are business time on ``calendar``; time
    spent on hold is not counted.
    """

    calendar: BusinessCalendar
    cause_capacity: int = 64
    total: int = 0
    cells: dict[_Cell, int] = attrs.field(factory=dict)
    statuses: dict[ComplaintStatus, int] = attrs.field(factory=dict)
    channels: dict[ComplaintChannel, int] = attrs.field(factory=dict)
    founded: int = 0
    rejected: int = 0
    sla_met: int = 0
    sla_missed: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    escalations: dict[int, int] = attrs.field(factory=dict)
    response_times: DurationSketch = attrs.field(factory=DurationSketch)
    resolution_times: DurationSketch = attrs.field(factory=DurationSketch)
    causes: TopCounter = attrs.field(
        default=attrs.Factory(
            lambda self: TopCounter(capacity=self.cause_capacity), takes_self=True
        )
    )

    def _business_time(self, complaint: Complaint, end: datetime) -> timedelta:
        spent = self.calendar.business_time_between(complaint.received_at, end)
        for start, stop in complaint.hold_periods():
            if start >= end:
                break
            finish = end if stop is None else min(stop, end)
            spent -= self.calendar.business_time_between(start, finish)
        return max(spent, timedelta(0))

    def add(self, complaint: Complaint) -> ComplaintStatistics:
        """Count one complaint; returns the accumulator for chaining."""
        self.total += 1
        cell = (complaint.category, complaint.nature, complaint.urgency)
        self.cells[cell] = self.cells.get(cell, 0) + 1
        self.statuses[complaint.status] = self.statuses.get(complaint.status, 0) + 1
        self.channels[complaint.channel] = self.channels.get(complaint.channel, 0) + 1
        if complaint.founded is True:
            self.founded += 1
        elif complaint.founded is False:
            self.rejected += 1
        if complaint.sla_outcome is SlaOutcome.MET:
            self.sla_met += 1
        elif complaint.sla_outcome is SlaOutcome.MISSED:
            self.sla_missed += 1
        resolved_at = complaint.resolved_at
        if resolved_at is not None or complaint.reopen_count:
            self.ever_resolved += 1
        if complaint.reopen_count:
            self.reopened += 1
        for step in complaint.escalations:
            self.escalations[step.to_level] = self.escalations.get(step.to_level, 0) + 1
        if complaint.first_response_at is not None:
            self.response_times.add(
                self.calendar.business_time_between(
                    complaint.received_at, complaint.first_response_at
                )
            )
        if resolved_at is not None and complaint.status in CONCLUDED_STATUSES:
            self.resolution_times.add(self._business_time(complaint, resolved_at))
        if complaint.cause is not None:
            self.causes.add(" ".join(complaint.cause.split()).casefold())
        return self

    def add_all(self, complaints: Iterable[Complaint]) -> ComplaintStatistics:
        """Count every complaint of ``complaints``; returns the accumulator."""
        for complaint in complaints:
            self.add(complaint)
        return self

    def merge(self, other: ComplaintStatistics) -> ComplaintStatistics:
        """A new accumulator counting both; both must use the same calendar."""
        if other.calendar != self.calendar:
            raise ValidationError.at("calendar", "statistics on different calendars")
        return ComplaintStatistics(
            calendar=self.calendar,
            cause_capacity=self.cause_capacity,
            total=self.total + other.total,
            cells=_add_counts(self.cells, other.cells),
            statuses=_add_counts(self.statuses, other.statuses),
            channels=_add_counts(self.channels, other.channels),
            founded=self.founded + other.founded,
            rejected=self.rejected + other.rejected,
            sla_met=self.sla_met + other.sla_met,
            sla_missed=self.sla_missed + other.sla_missed,
            ever_resolved=self.ever_resolved + other.ever_resolved,
            reopened=self.reopened + other.reopened,
            escalations=_add_counts(self.escalations, other.escalations),
            response_times=self.response_times.merge(other.response_times),
            resolution_times=self.resolution_times.merge(other.resolution_times),
            causes=self.causes.merge(other.causes),
        )

    def report(self, *, top: int = 10) -> ComplaintReport:
        """The classification table and key figures; ``top`` causes are listed."""
        rows = tuple(
            ClassificationRow(category=c, nature=n, urgency=u, count=count)
            for (c, n, u), count in sorted(self.cells.items())
        )
        return ComplaintReport(
            total=self.total,
            rows=rows,
            by_status=dict(self.statuses),
            by_channel=dict(self.channels),
            founded_rate=_rate(self.founded, self.founded + self.rejected),
            within_sla_rate=_rate(self.sla_met, self.sla_met + self.sla_missed),
            response_median=self.response_times.quantile(0.5),
            response_p90=self.response_times.quantile(0.9),
            resolution_median=self.resolution_times.quantile(0.5),
            resolution_p90=self.resolution_times.quantile(0.9),
            reopen_rate=_rate(self.reopened, self.ever_resolved),
            escalations_by_level=dict(sorted(self.escalations.items())),
            top_causes=tuple(CauseCount(cause, n) for cause, n in self.causes.top(top)),
        )
