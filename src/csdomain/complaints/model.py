"""The complaint itself: statuses, transitions and commands, remedies, the aggregate.

A :class:`Complaint` is a frozen record that walks the closed loop of docs/domain.md 3.2;
the allowed moves are data (:data:`COMPLAINT_TRANSITIONS` and, beside it, the command
table :data:`COMPLAINT_COMMANDS`: which statuses each command runs from), and every move
goes through :data:`COMPLAINT_LIFECYCLE` (``Lifecycle.move``), which appends a
:class:`~csdomain.lifecycle.StatusChange` to ``history``; a refused command raises
:class:`~csdomain.errors.InvalidTransition` naming the command and what comes first.

Command methods take ``by`` (an :class:`~csdomain.auth.Actor`) and the
:class:`~csdomain.auth.AccessPolicy` and check
:data:`~csdomain.auth.Permission.HANDLE_COMPLAINT` themselves; approving a remedy checks
:data:`~csdomain.auth.Permission.APPROVE_REMEDY` (a manager's, 主管领导批示) and, for a
remedy of substance, the approver's limit (docs/domain.md 3.2 step 4 and 3.6). The
separate computations live in their modules and the methods call them: deadlines in
:mod:`~csdomain.complaints.sla`, escalation planning in
:mod:`~csdomain.complaints.escalation`, visit planning in
:mod:`~csdomain.complaints.follow_up`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission, same_identity
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import utc
from csdomain.complaints._checks import level
from csdomain.complaints.classification import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintUrgency,
)
from csdomain.complaints.escalation import (
    ComplaintEscalated,
    EscalationReason,
    EscalationStep,
    escalation_step,
    missed_deadlines,
    overdue_deadlines,
)
from csdomain.complaints.follow_up import (
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
    agreed_visit_time,
    check_visit_answers,
    check_visit_time,
    plan_follow_up,
)
from csdomain.complaints.policy import ComplaintPolicy
from csdomain.complaints.sla import (
    SlaBreach,
    SlaKind,
    SlaOutcome,
    receipt_deadlines,
    renewed_resolve_by,
    resolution_missed,
    resolve_by_after_hold,
    sla_outcome,
    target_missed,
)
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.lifecycle import Command, Lifecycle, StatusChange, spans_in
from csdomain.money import Money
from csdomain.validators import aware as _aware
from csdomain.validators import (
    count,
    enum_value,
    instance_of,
    optional,
    optional_aware,
    optional_flag,
    optional_instance_of,
    text,
    tuple_of,
)
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "COMPLAINT_COMMANDS",
    "COMPLAINT_LIFECYCLE",
    "COMPLAINT_TRANSITIONS",
    "CONCLUDED_STATUSES",
    "OPEN_STATUSES",
    "RESUME_COMMANDS",
    "WORKING_STATUSES",
    "Approval",
    "Complaint",
    "ComplaintStatus",
    "CustomerAcceptance",
    "CustomerRefusal",
    "Remedy",
    "RemedyKind",
    "StaffPenalty",
    "WrittenStatement",
    "check_remedy_authority",
    "escalate_overdue",
    "receive_complaint",
]


class ComplaintStatus(StrEnum):
    """Where a complaint is in its closed loop (docs/domain.md 3.2)."""

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


#: The working statuses in the order of the loop (the order of the resume commands).
_LOOP = (
    _S.RECEIVED,
    _S.ASSESSED,
    _S.INVESTIGATING,
    _S.RESOLUTION_PROPOSED,
    _S.RESOLUTION_APPROVED,
)

#: The command that ends a hold, by the status the hold began in: ``resume`` returns
#: the complaint there (docs/domain.md 3.3).
RESUME_COMMANDS: Mapping[ComplaintStatus, str] = {s: f"resume_to_{s.value}" for s in _LOOP}


def _command(
    label: str, sources: Iterable[ComplaintStatus], target: ComplaintStatus
) -> Command[ComplaintStatus]:
    return Command(label, frozenset(sources), target)


#: The command table beside :data:`COMPLAINT_TRANSITIONS`: the statuses each command runs
#: from and the status it leads to. Each command uses only its own edges, so only a
#: resume leaves ``on_hold`` and only a refusal or a dissatisfied visit (``reopen``)
#: reopens a complaint. The labels say what must come first in a refusal.
COMPLAINT_COMMANDS: Mapping[str, Command[ComplaintStatus]] = {
    "assess": _command("assess the complaint", {_S.RECEIVED}, _S.ASSESSED),
    "reject": _command("reject the complaint", {_S.RECEIVED}, _S.REJECTED),
    "start_investigation": _command("start the investigation", {_S.ASSESSED}, _S.INVESTIGATING),
    "propose_resolution": _command(
        "propose a resolution", {_S.INVESTIGATING}, _S.RESOLUTION_PROPOSED
    ),
    "send_back": _command("send the proposals back", {_S.RESOLUTION_PROPOSED}, _S.INVESTIGATING),
    "approve_resolution": _command(
        "approve a resolution", {_S.RESOLUTION_PROPOSED}, _S.RESOLUTION_APPROVED
    ),
    "accept_resolution": _command(
        "record the customer's acceptance", {_S.RESOLUTION_APPROVED}, _S.RESOLVED
    ),
    "refuse_resolution": _command(
        "record the customer's refusal", {_S.RESOLUTION_APPROVED}, _S.INVESTIGATING
    ),
    "record_follow_up": _command("record the follow-up visit", {_S.RESOLVED}, _S.FOLLOWED_UP),
    "reopen": _command("reopen the complaint", {_S.FOLLOWED_UP}, _S.INVESTIGATING),
    "close": _command("close the complaint", {_S.REJECTED, _S.FOLLOWED_UP}, _S.CLOSED),
    "put_on_hold": _command("put the complaint on hold", _LOOP, _S.ON_HOLD),
    **{
        action: _command("resume the complaint", {_S.ON_HOLD}, back)
        for back, action in RESUME_COMMANDS.items()
    },
}

#: The complaint lifecycle: :data:`COMPLAINT_TRANSITIONS` and :data:`COMPLAINT_COMMANDS`;
#: :meth:`~csdomain.lifecycle.Lifecycle.move` is how a complaint changes status.
COMPLAINT_LIFECYCLE: Lifecycle[ComplaintStatus] = Lifecycle(
    "complaint", COMPLAINT_TRANSITIONS, COMPLAINT_COMMANDS
)


class RemedyKind(StrEnum):
    """Remedies (处理方式, docs/domain.md 3.2)."""

    EXPLANATION = "explanation"
    REPAIR = "repair"
    EXCHANGE = "exchange"
    REFUND = "refund"
    COMPENSATION = "compensation"
    GOODWILL = "goodwill"
    REFERRAL = "referral"


#: Remedies that promise something of substance whatever their amount (docs/domain.md 3.6).
_SUBSTANTIVE = frozenset(
    {RemedyKind.EXCHANGE, RemedyKind.REFUND, RemedyKind.COMPENSATION, RemedyKind.GOODWILL}
)
_NEEDS_AMOUNT = frozenset({RemedyKind.REFUND, RemedyKind.COMPENSATION})
_NO_AMOUNT = frozenset({RemedyKind.EXPLANATION, RemedyKind.REFERRAL})


# -- validators ---------------------------------------------------------------------------


def _channel(value: object) -> ComplaintChannel:
    return enum_value(ComplaintChannel, value, "channel")


def _urgency(value: object) -> ComplaintUrgency:
    return enum_value(ComplaintUrgency, value, "urgency")


def _nature(value: object) -> ComplaintNature:
    return enum_value(ComplaintNature, value, "nature")


def _category(value: object) -> ComplaintCategory:
    return enum_value(ComplaintCategory, value, "category")


def _status(value: object) -> ComplaintStatus:
    return enum_value(ComplaintStatus, value, "status")


def _remedy_kind(value: object) -> RemedyKind:
    return enum_value(RemedyKind, value, "kind")


def _sla_outcome(value: object) -> SlaOutcome | None:
    return None if value is None else enum_value(SlaOutcome, value, "sla_outcome")


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must not be empty")
    return value


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
        """Whether the remedy promises something of substance (docs/domain.md 3.6)."""
        return self.kind in _SUBSTANTIVE or bool(self.amount)


@attrs.frozen
class Approval:
    """The manager's decision on the best remedy (主管领导批示)."""

    remedy: Remedy = attrs.field(validator=instance_of(Remedy))
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    note: str = attrs.field(default="", validator=text)


@attrs.frozen
class CustomerAcceptance:
    """The customer accepted (signed for) the approved remedy."""

    at: datetime = attrs.field(validator=_aware)
    signed_by: str = attrs.field(validator=_not_blank)
    feedback: str = attrs.field(default="", validator=text)


@attrs.frozen
class CustomerRefusal:
    """The customer refused the approved remedy; the complaint was reopened."""

    at: datetime = attrs.field(validator=_aware)
    remedy: Remedy = attrs.field(validator=instance_of(Remedy))
    reason: str = attrs.field(validator=_not_blank)


def _calendar_date(_instance: object, attribute: attrs.Attribute[date], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError.at(attribute.name, "expected a date (not a datetime)")


@attrs.frozen
class WrittenStatement:
    """The written statement of a customer who insists on an unreasonable demand.

    Source: docs/domain.md 3.6 and 9 (要求其出具无理要求的书面材料): the statement's
    ``reference`` (how it is filed), the date it bears, who recorded it and when.
    """

    reference: str = attrs.field(validator=_not_blank)
    dated: date = attrs.field(validator=_calendar_date)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)


@attrs.frozen
class StaffPenalty:
    """The penalty of the staff member responsible for a complaint (docs/domain.md 3.2 step 5).

    Who was penalised (``person``), what the penalty is, who recorded it and when.
    """

    person: str = attrs.field(validator=_not_blank)
    penalty: str = attrs.field(validator=_not_blank)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)


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
    order_id: str | None = attrs.field(default=None, validator=optional(_not_blank))
    channel: ComplaintChannel = attrs.field(converter=_channel)
    urgency: ComplaintUrgency = attrs.field(converter=_urgency)
    nature: ComplaintNature = attrs.field(default=ComplaintNature.NORMAL, converter=_nature)
    category: ComplaintCategory = attrs.field(converter=_category)
    description: str = attrs.field(validator=_not_blank)
    received_at: datetime = attrs.field(validator=_aware)
    status: ComplaintStatus = attrs.field(default=ComplaintStatus.RECEIVED, converter=_status)
    #: Response (acknowledgement) deadline and the moment of the first response.
    respond_by: datetime = attrs.field(validator=_aware)
    first_response_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    #: Resolution deadline; moved by time on hold, renewed when the complaint reopens.
    resolve_by: datetime = attrs.field(validator=_aware)
    department: str | None = attrs.field(default=None, validator=optional(_not_blank))
    owner_role: str = attrs.field(validator=_not_blank)
    owner_id: str | None = attrs.field(default=None, validator=optional(_not_blank))
    escalation_level: int = attrs.field(default=1, validator=level)
    escalations: tuple[EscalationStep, ...] = attrs.field(
        default=(), validator=tuple_of(EscalationStep)
    )
    #: ``True`` once assessed as founded, ``False`` when rejected, ``None`` before.
    founded: bool | None = attrs.field(default=None, validator=optional_flag)
    #: The tactful reply to an unfounded complaint.
    reply: str = attrs.field(default="", validator=text)
    #: The time the customer was asked to give the team (请顾客给予时间).
    answer_promised_by: datetime | None = attrs.field(default=None, validator=optional_aware)
    cause: str | None = attrs.field(default=None, validator=optional(_not_blank))
    responsible_person: str | None = attrs.field(default=None, validator=optional(_not_blank))
    proposals: tuple[Remedy, ...] = attrs.field(default=(), validator=tuple_of(Remedy))
    approval: Approval | None = attrs.field(default=None, validator=optional_instance_of(Approval))
    acceptance: CustomerAcceptance | None = attrs.field(
        default=None, validator=optional_instance_of(CustomerAcceptance)
    )
    refusals: tuple[CustomerRefusal, ...] = attrs.field(
        default=(), validator=tuple_of(CustomerRefusal)
    )
    sla_outcome: SlaOutcome | None = attrs.field(default=None, converter=_sla_outcome)
    follow_up_due: datetime | None = attrs.field(default=None, validator=optional_aware)
    follow_up_planned_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    follow_ups: tuple[FollowUp, ...] = attrs.field(default=(), validator=tuple_of(FollowUp))
    reopen_count: int = attrs.field(default=0, validator=count)
    summary: str = attrs.field(default="", validator=text)
    improvement_measure: str = attrs.field(default="", validator=text)
    #: Written statements of an insisting customer's unreasonable demand (书面材料).
    statements: tuple[WrittenStatement, ...] = attrs.field(
        default=(), validator=tuple_of(WrittenStatement)
    )
    #: The responsible staff member's penalty, recorded at closing.
    penalty: StaffPenalty | None = attrs.field(
        default=None, validator=optional_instance_of(StaffPenalty)
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=tuple_of(StatusChange))

    def __attrs_post_init__(self) -> None:
        received = utc(self.received_at, "received_at")
        if utc(self.respond_by, "respond_by") < received:
            raise ValidationError.at("respond_by", "a deadline cannot precede receipt")
        if utc(self.resolve_by, "resolve_by") < received:
            raise ValidationError.at("resolve_by", "a deadline cannot precede receipt")

    # -- derived facts ------------------------------------------------------------------

    @property
    def at_company_fault(self) -> bool:
        """Whether the complaint was found at the company's fault: founded, with the
        responsible person named (docs/domain.md 3.2 steps 2-3)."""
        return self.founded is True and self.responsible_person is not None

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
        if self.statements:
            moments.append(self.statements[-1].at)
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
        history = self.history
        return spans_in(
            ComplaintStatus.ON_HOLD.value, [c.to for c in history], [c.at for c in history]
        )

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

    def _responded(self, at: datetime) -> datetime:
        return self.first_response_at if self.first_response_at is not None else utc(at)

    def _with_step(self, step: EscalationStep) -> Complaint:
        """The complaint one rung up: ``step`` recorded, its role (and person) the owner."""
        return attrs.evolve(
            self,
            escalation_level=step.to_level,
            owner_role=step.owner_role,
            owner_id=step.owner_id,
            escalations=(*self.escalations, step),
        )

    def _reopened(
        self,
        action: str,
        *,
        at: datetime,
        by: Actor,
        reason: str,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        owners: Mapping[str, str] | None,
        **changes: Any,
    ) -> Complaint:
        """Back to investigating for a new round (a refusal or a dissatisfied visit).

        Source: docs/domain.md 3.2 step 5 and 3.4: counted as a reopen, the resolution clock
        starts again, and a customer still unhappy moves the complaint one rung up.
        """
        moment = self._time(at)
        reopened = COMPLAINT_LIFECYCLE.move(
            self,
            action,
            at=moment,
            by=by.id,
            note=reason,
            reopen_count=self.reopen_count + 1,
            resolve_by=renewed_resolve_by(self.urgency, moment, policy, calendar),
            approval=None,
            acceptance=None,
            sla_outcome=None,
            follow_up_due=None,
            follow_up_planned_at=None,
            **changes,
        )
        if policy.escalate_on_reopen and reopened.escalation_level < policy.top_level:
            step = escalation_step(
                reopened,
                at=moment,
                by=by.id,
                reason=EscalationReason.CUSTOMER_UNHAPPY,
                policy=policy,
                owners=owners,
                note=reason,
            )
            reopened = reopened._with_step(step)
        return reopened

    # -- commands -----------------------------------------------------------------------

    def acknowledge(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """Record the first response to the customer (受理即时); later calls change nothing.

        Source: docs/domain.md 3.2 (ISO 10002 "acknowledgement") and the response target of 3.3.
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

        Source: docs/domain.md 3.2 step 2 (判断). Without ``department`` the policy's default
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
        return COMPLAINT_LIFECYCLE.move(
            self,
            "assess",
            at=self._time(moment),
            by=actor.id,
            note=note,
            founded=True,
            department=_text(chosen, "department"),
            answer_promised_by=promised,
            nature=self.nature if nature is None else _nature(nature),
            first_response_at=self._responded(moment),
        )

    def reject(self, *, reply: str, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """Close the case as unfounded with a tactful reply; it is still counted.

        Source: docs/domain.md 3.2 step 2 (not founded: reply tactfully, reach understanding).
        """
        actor = self._authorised(by, access)
        moment = utc(at)
        text = _text(reply, "reply")
        return COMPLAINT_LIFECYCLE.move(
            self,
            "reject",
            at=self._time(moment),
            by=actor.id,
            note=text,
            founded=False,
            reply=text,
            first_response_at=self._responded(moment),
        )

    def start_investigation(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> Complaint:
        """Start finding the cause and the responsible person (调查, docs/domain.md 3.2 step 3)."""
        actor = self._authorised(by, access)
        return COMPLAINT_LIFECYCLE.move(
            self, "start_investigation", at=self._time(at), by=actor.id, note=note
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
        """Record the cause found and the responsible person (docs/domain.md 3.2 step 3)."""
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
        if isinstance(remedies, str | bytes) or not isinstance(remedies, Iterable):
            raise ValidationError.at("remedies", "a sequence of Remedy")
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
        return COMPLAINT_LIFECYCLE.move(
            self, "propose_resolution", at=self._time(at), by=actor.id, proposals=options
        )

    def send_back(self, *, reason: str, at: datetime, by: Actor, access: AccessPolicy) -> Complaint:
        """The manager approves none of the proposals: investigate again (not a reopen)."""
        actor = self._authorised(by, access)
        text = _text(reason, "reason")
        return COMPLAINT_LIFECYCLE.move(
            self, "send_back", at=self._time(at), by=actor.id, note=text
        )

    def approve_resolution(
        self,
        *,
        choice: int,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        note: str = "",
        policy: ComplaintPolicy | None = None,
    ) -> Complaint:
        """A manager approves the best proposal (主管领导批示, docs/domain.md 3.2 step 4).

        Every remedy needs :data:`~csdomain.auth.Permission.APPROVE_REMEDY` (unless
        ``policy.manager_approves_every_remedy`` is off for remedies of no substance);
        docs/domain.md 3.6: a remedy of substance needs an approver whose approval limit
        covers the amount; goodwill to an abnormal complaint needs the top role
        (:func:`check_remedy_authority`).
        """
        actor = _check_actor(by)
        COMPLAINT_LIFECYCLE.check(self.id, self.status, "approve_resolution")
        if isinstance(choice, bool) or not isinstance(choice, int):
            raise ValidationError.at("choice", "the index of a proposal")
        if not 0 <= choice < len(self.proposals):
            raise ValidationError.at(
                "choice", f"no proposal {choice}; there are {len(self.proposals)}"
            )
        remedy = self.proposals[choice]
        check_remedy_authority(remedy, self.nature, actor, access, policy=policy)
        moment = self._time(at)
        return COMPLAINT_LIFECYCLE.move(
            self,
            "approve_resolution",
            at=moment,
            by=actor.id,
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

        Source: docs/domain.md 3.2 step 5 and 3.5: the SLA outcome is recorded and a follow-up
        visit is planned within ``policy.follow_up_within`` outside the customer's rest
        hours (``preferred_follow_up_at``: the time agreed with the customer).
        """
        actor = self._authorised(by, access)
        moment = utc(at)
        COMPLAINT_LIFECYCLE.check(self.id, self.status, "accept_resolution")
        due, planned = plan_follow_up(
            moment, policy=policy, quiet_hours=quiet_hours, preferred=preferred_follow_up_at
        )
        return COMPLAINT_LIFECYCLE.move(
            self,
            "accept_resolution",
            at=self._time(moment),
            by=actor.id,
            note=feedback,
            acceptance=CustomerAcceptance(
                at=moment, signed_by=_text(signed_by, "signed_by"), feedback=feedback
            ),
            sla_outcome=sla_outcome(moment, self.resolve_by),
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

        Source: docs/domain.md 3.2 step 5 and 3.4 (a customer still unhappy moves the case up).
        The resolution deadline starts again from the refusal.
        """
        actor = self._authorised(by, access)
        text = _text(reason, "reason")
        COMPLAINT_LIFECYCLE.check(self.id, self.status, "refuse_resolution")
        if self.approval is None:
            raise ValidationError.at("approval", "a refusal needs an approved remedy")
        refusal = CustomerRefusal(at=utc(at), remedy=self.approval.remedy, reason=text)
        return self._reopened(
            "refuse_resolution",
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
        """Move the planned visit to a time agreed with the customer (docs/domain.md 3.5)."""
        self._authorised(by, access)
        if self.status is not ComplaintStatus.RESOLVED or self.follow_up_due is None:
            raise RuleViolation(
                "not_awaiting_follow_up", "only a resolved complaint awaits its visit", id=self.id
            )
        planned = agreed_visit_time(
            planned_at, at=self._time(at), due=self.follow_up_due, quiet_hours=quiet_hours
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
        suggestions: str = "",
        improvements: str = "",
    ) -> Complaint:
        """Record the follow-up visit (回访); a dissatisfied customer may reopen the case.

        Source: docs/domain.md 3.5: never call during the customer's rest time; the visit record
        is complete (notes are required); the script: satisfied → ask for suggestions, not
        satisfied or neutral → ask what to improve (the answer is kept with the visit,
        :func:`~csdomain.complaints.follow_up.check_visit_answers`); with
        ``policy.reopen_on_dissatisfied`` a dissatisfied customer's complaint goes back to
        investigating.
        """
        actor = self._authorised(by, access)
        COMPLAINT_LIFECYCLE.check(self.id, self.status, "record_follow_up")
        moment = utc(at)
        result = enum_value(FollowUpOutcome, outcome, "outcome")
        check_visit_answers(
            result, suggestions, improvements, required=policy.visit_answer_required
        )
        check_visit_time(moment, quiet_hours)
        visit = FollowUp(
            at=moment,
            by=actor.id,
            outcome=result,
            notes=_text(notes, "notes"),
            method=enum_value(FollowUpMethod, method, "method"),
            suggestions=suggestions.strip(),
            improvements=improvements.strip(),
        )
        visited = COMPLAINT_LIFECYCLE.move(
            self,
            "record_follow_up",
            at=self._time(moment),
            by=actor.id,
            note=result.value,
            follow_ups=(*self.follow_ups, visit),
        )
        if result is FollowUpOutcome.DISSATISFIED and policy.reopen_on_dissatisfied:
            return visited._reopened(
                "reopen",
                at=moment,
                by=actor,
                reason=f"dissatisfied at follow-up: {visit.notes}",
                policy=policy,
                calendar=calendar,
                owners=owners,
            )
        return visited

    def record_written_statement(
        self, *, reference: str, dated: date, at: datetime, by: Actor, access: AccessPolicy
    ) -> Complaint:
        """Record the written statement of a customer who insists on an unreasonable demand.

        Source: docs/domain.md 3.6 and 9 (出具无理要求的书面材料). Only an abnormal complaint
        (非正常: the demand goes beyond law, policy or the agreement) asks for one
        (:class:`~csdomain.errors.RuleViolation` ``written_statement_not_abnormal``), and
        not once it is closed (``statement_after_closing``). The statement may not be dated after
        the day it is recorded. Recording the same reference again changes nothing.
        """
        actor = self._authorised(by, access)
        ref = _text(reference, "reference").strip()
        moment = self._time(at)
        if self.nature is not ComplaintNature.ABNORMAL:
            raise RuleViolation(
                "written_statement_not_abnormal",
                "a written statement is asked of a customer insisting on an unreasonable "
                "demand: assess the complaint as abnormal first",
                id=self.id,
                nature=self.nature.value,
            )
        if self.status is ComplaintStatus.CLOSED:
            raise RuleViolation(
                "statement_after_closing", "a closed complaint takes no more statements", id=self.id
            )
        if any(s.reference == ref for s in self.statements):
            return self
        statement = WrittenStatement(reference=ref, dated=dated, at=moment, by=actor.id)
        return attrs.evolve(self, statements=(*self.statements, statement))

    def _penalty(
        self,
        penalty: str,
        penalised: str | None,
        *,
        at: datetime,
        by: Actor,
        policy: ComplaintPolicy | None,
    ) -> StaffPenalty | None:
        """The penalty recorded at closing, checked (docs/domain.md 3.2 step 5)."""
        if not isinstance(penalty, str):
            raise ValidationError.at("penalty", "expected text")
        if not penalty.strip():
            if penalised is not None:
                raise ValidationError.at("penalty", "say what the penalty is")
            if policy is not None and policy.penalty_required_at_fault and self.at_company_fault:
                raise RuleViolation(
                    "penalty_required",
                    "a complaint found at the company's fault closes with the responsible "
                    "staff's penalty on record",
                    id=self.id,
                    responsible_person=self.responsible_person,
                )
            return None
        if self.founded is not True:
            raise RuleViolation(
                "penalty_without_fault",
                "only a founded complaint penalises the responsible staff",
                id=self.id,
            )
        person = penalised if penalised is not None else self.responsible_person
        if person is None:
            raise ValidationError.at("penalised", "name the responsible person penalised")
        person = _text(person, "penalised")
        if same_identity(person, by.id):
            raise RuleViolation(
                "penalty_by_penalised",
                "the penalised staff member does not record their own penalty",
                id=self.id,
                person=person,
            )
        return StaffPenalty(person=person, penalty=penalty.strip(), at=at, by=by.id)

    def close(
        self,
        *,
        summary: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        improvement_measure: str = "",
        penalty: str = "",
        penalised: str | None = None,
        policy: ComplaintPolicy | None = None,
    ) -> Complaint:
        """Close the complaint with a summary and an improvement measure (总结评价, step 7).

        A founded complaint needs an improvement measure; a rejected one may have none.
        docs/domain.md 3.2 step 5 (responsible staff may be penalised): ``penalty`` records
        what the responsible staff member (``penalised``, else the complaint's
        ``responsible_person``) is given, and by whom; only on a founded complaint
        (``penalty_without_fault``), never recorded by the penalised person themselves
        (``penalty_by_penalised``, identities compared normalised). With
        ``policy.penalty_required_at_fault`` a complaint found at the company's fault
        (:attr:`at_company_fault`) closes only with one (``penalty_required``).
        """
        actor = self._authorised(by, access)
        text = _text(summary, "summary")
        measure = improvement_measure
        if not isinstance(measure, str):
            raise ValidationError.at("improvement_measure", "expected text")
        if self.status is not ComplaintStatus.REJECTED and not measure.strip():
            raise ValidationError.at("improvement_measure", "record the improvement measure")
        COMPLAINT_LIFECYCLE.check(self.id, self.status, "close")
        moment = self._time(at)
        given = self._penalty(penalty, penalised, at=moment, by=actor, policy=policy)
        return COMPLAINT_LIFECYCLE.move(
            self,
            "close",
            at=moment,
            by=actor.id,
            note=text,
            summary=text,
            improvement_measure=measure,
            penalty=given,
        )

    def put_on_hold(
        self, *, reason: str, at: datetime, by: Actor, access: AccessPolicy
    ) -> Complaint:
        """Wait for the customer; the resolution clock stops until :meth:`resume`.

        Nothing escalates while on hold, and the time on hold never counts towards a
        "still overdue" rung (docs/domain.md 3.4;
        :func:`~csdomain.complaints.escalation.still_overdue_after`).
        """
        actor = self._authorised(by, access)
        text = _text(reason, "reason")
        return COMPLAINT_LIFECYCLE.move(
            self, "put_on_hold", at=self._time(at), by=actor.id, note=text
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

        Source: docs/domain.md 3.3: time waiting for the customer does not count against the
        resolution target. A deadline already missed when the hold began stays missed.
        """
        actor = self._authorised(by, access)
        action = None if self.held_from is None else RESUME_COMMANDS.get(self.held_from)
        started = self.held_since
        if action is None or started is None:
            # which resume command applies depends on the history; they all run from
            # on_hold, so any of them tells what must come first
            raise InvalidTransition(
                "complaint",
                self.id,
                self.status.value,
                self.status.value,
                action="resume",
                hint=COMPLAINT_LIFECYCLE.hint(self.status, RESUME_COMMANDS[_S.RECEIVED]),
            )
        moment = self._time(at)
        return COMPLAINT_LIFECYCLE.move(
            self,
            action,
            at=moment,
            by=actor.id,
            note=note,
            resolve_by=resolve_by_after_hold(
                self.resolve_by,
                held_since=started,
                resumed_at=moment,
                urgency=self.urgency,
                policy=policy,
                calendar=calendar,
            ),
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
        """Move the complaint one rung up the ladder by hand (docs/domain.md 3.4)."""
        actor = self._authorised(by, access)
        if not self.is_open:
            raise RuleViolation(
                "complaint_not_open", "only an open complaint escalates", id=self.id
            )
        if self.escalation_level >= policy.top_level:
            raise RuleViolation(
                "escalation_at_top", "the complaint is already at the top of the ladder", id=self.id
            )
        step = escalation_step(
            self,
            at=self._time(at),
            by=actor.id,
            reason=enum_value(EscalationReason, reason, "reason"),
            policy=policy,
            owners=owners,
            note=note,
        )
        return self._with_step(step)

    def sla_breaches(self, *, at: datetime) -> tuple[SlaBreach, ...]:
        """Every service-level target this complaint missed as of ``at`` (docs/domain.md 3.3).

        The response target is missed when no response came by ``respond_by``. The
        resolution target is missed when the complaint is still open after ``resolve_by``
        (on hold: when the hold began after it), or when it was resolved late. A rejected
        complaint has no resolution target any more. The desk's
        :meth:`~csdomain.desk.complaints.ComplaintDesk.breaches` asks it of every complaint
        in the store; :func:`~csdomain.complaints.overdue.sla_breaches` is the same.
        """
        moment = utc(at)
        found: list[SlaBreach] = []
        answered = self.first_response_at
        if target_missed(self.respond_by, answered, moment):
            found.append(SlaBreach(self.id, SlaKind.RESPOND, self.respond_by, answered))
        is_open = self.is_open
        if resolution_missed(
            is_open=is_open,
            held_since=self.held_since,
            resolve_by=self.resolve_by,
            outcome=self.sla_outcome,
            at=moment,
        ):
            met_at = None if is_open else self.resolved_at
            found.append(SlaBreach(self.id, SlaKind.RESOLVE, self.resolve_by, met_at))
        return tuple(found)

    def is_breached(self, *, at: datetime) -> bool:
        """Whether this complaint missed its response or resolution target as of ``at``.

        See :meth:`sla_breaches`; :func:`~csdomain.complaints.overdue.is_breached` is the
        same (docs/domain.md 3.3).
        """
        return bool(self.sla_breaches(at=at))

    def missed_deadlines(
        self, *, at: datetime, policy: ComplaintPolicy, calendar: BusinessCalendar, limit: int = 5
    ) -> tuple[tuple[EscalationReason, datetime], ...]:
        """The deadlines missed by ``at`` in the current round, earliest first.

        See :func:`~csdomain.complaints.escalation.missed_deadlines` (docs/domain.md 3.4).
        """
        return missed_deadlines(self, at=at, policy=policy, calendar=calendar, limit=limit)

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

        Source: docs/domain.md 3.4 (五级追访制). The deadlines after the resolution deadline
        are counted on the resolution clock, which stands still on hold, so a run after a
        resume moves only the rungs that clock passed. Idempotent: a second call at the
        same instant changes nothing; the level never passes the top of the ladder.
        ``owners`` maps a ladder role to the id of the person who holds it.
        """
        actor = _check_actor(by)
        fresh = overdue_deadlines(self, at=at, policy=policy, calendar=calendar)
        if not fresh:
            return self, ()
        moment = self._time(at)
        complaint = self
        events: list[ComplaintEscalated] = []
        for reason, due in fresh:
            step = escalation_step(
                complaint,
                at=moment,
                by=actor.id,
                reason=reason,
                policy=policy,
                owners=owners,
                due=due,
            )
            complaint = complaint._with_step(step)
            events.append(ComplaintEscalated.from_step(complaint.id, step))
        return complaint, tuple(events)


def check_remedy_authority(
    remedy: Remedy,
    nature: ComplaintNature,
    by: Actor,
    access: AccessPolicy,
    *,
    policy: ComplaintPolicy | None = None,
) -> None:
    """Raise :class:`~csdomain.errors.PermissionDenied` unless ``by`` may approve ``remedy``.

    Source: docs/domain.md 3.2 step 4 (主管领导批示): a manager approves the remedy, so
    every remedy needs :data:`~csdomain.auth.Permission.APPROVE_REMEDY` (held by the
    managers); ``policy.manager_approves_every_remedy=False`` lets a complaint handler
    approve an explanation or a referral. docs/domain.md 3.6: nothing of substance is
    promised without the authority to (an approval limit covering the amount: the sales
    VP or above by default); goodwill to an unreasonable (abnormal) complaint needs the
    top role.
    """
    actor = _check_actor(by)
    relaxed = policy is not None and not policy.manager_approves_every_remedy
    if not remedy.is_substantive:
        if relaxed:
            access.require(actor, Permission.HANDLE_COMPLAINT)
        else:
            access.require(actor, Permission.APPROVE_REMEDY)
        return
    access.require(actor, Permission.APPROVE_REMEDY)
    access.require_approval_authority(actor, what=f"a {remedy.kind} remedy")
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

    Source: docs/domain.md 3.2 step 1 and 3.3. ``calendar`` is the owning team's calendar;
    the complaint starts on the ladder level of its urgency, owned by that level's role
    (``owner_id``, else the holder named in ``owners``).
    """
    actor = _check_actor(by)
    access.require(actor, Permission.HANDLE_COMPLAINT)
    moment = utc(at)
    level_of = enum_value(ComplaintUrgency, urgency, "urgency")
    respond_by, resolve_by = receipt_deadlines(level_of, moment, policy, calendar)
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
        respond_by=respond_by,
        resolve_by=resolve_by,
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
    """Escalate ``complaint`` one rung per newly missed deadline (docs/domain.md 3.4).

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
