"""Hypothesis strategies for complaints: policies, remedies, calendars and complaints.

Every complaint is built by driving the real commands of :mod:`csdomain.complaints`
from receipt to the drawn status, so it is valid by construction and respects
:data:`~csdomain.complaints.COMPLAINT_TRANSITIONS`. Knobs are strategies
(``status=st.just(ComplaintStatus.CLOSED)``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import utc
from csdomain.complaints import (
    WORKING_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintPolicy,
    ComplaintStatus,
    ComplaintUrgency,
    FollowUpOutcome,
    Remedy,
    RemedyKind,
    SlaPolicy,
    SlaTarget,
    escalate_overdue,
    receive_complaint,
)
from csdomain.money import Money


__all__ = [
    "complaint_calendars",
    "complaint_policies",
    "complaints",
    "remedies",
    "sla_policies",
    "sla_targets",
]

_S = ComplaintStatus
_ACCESS = AccessPolicy()
_HANDLER = Actor(id="cs-specialist", roles=frozenset({"specialist"}))
_APPROVER = Actor(id="general-manager", roles=frozenset({"general_manager"}))
_REST = QuietHours(start=time(22), end=time(8), tz="Asia/Shanghai")


def sla_targets(
    *,
    duration: st.SearchStrategy[timedelta] | None = None,
    business_time: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[SlaTarget]:
    """:class:`~csdomain.complaints.SlaTarget` values (one minute to ten days)."""
    return st.builds(
        SlaTarget,
        duration=duration
        if duration is not None
        else st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=10)),
        business_time=business_time if business_time is not None else st.booleans(),
    )


def sla_policies(
    *,
    respond: st.SearchStrategy[SlaTarget] | None = None,
    resolve: st.SearchStrategy[SlaTarget] | None = None,
) -> st.SearchStrategy[SlaPolicy]:
    """:class:`~csdomain.complaints.SlaPolicy` values."""
    return st.builds(
        SlaPolicy,
        respond=respond if respond is not None else sla_targets(),
        resolve=resolve if resolve is not None else sla_targets(),
    )


@st.composite
def _complaint_policy(
    draw: st.DrawFn,
    sla: st.SearchStrategy[SlaPolicy],
    ladder_size: st.SearchStrategy[int],
    escalate_on_reopen: st.SearchStrategy[bool],
    reopen_on_dissatisfied: st.SearchStrategy[bool],
) -> ComplaintPolicy:
    size = draw(ladder_size)
    ladder = ("specialist", "department_manager", "cs_manager", "call_team", "general_manager")
    return ComplaintPolicy(
        special=draw(sla),
        urgent=draw(sla),
        ordinary=draw(sla),
        ladder=ladder[:size],
        special_start_level=draw(st.integers(1, size)),
        urgent_start_level=draw(st.integers(1, size)),
        escalation_interval=draw(
            sla_targets(duration=st.timedeltas(timedelta(hours=1), timedelta(days=3)))
        ),
        escalate_on_reopen=draw(escalate_on_reopen),
        reopen_on_dissatisfied=draw(reopen_on_dissatisfied),
    )


def complaint_policies(
    *,
    sla: st.SearchStrategy[SlaPolicy] | None = None,
    ladder_size: st.SearchStrategy[int] | None = None,
    escalate_on_reopen: st.SearchStrategy[bool] | None = None,
    reopen_on_dissatisfied: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[ComplaintPolicy]:
    """:class:`~csdomain.complaints.ComplaintPolicy` values, the defaults among them."""
    drawn = _complaint_policy(
        sla if sla is not None else sla_policies(),
        ladder_size if ladder_size is not None else st.integers(1, 5),
        escalate_on_reopen if escalate_on_reopen is not None else st.booleans(),
        reopen_on_dissatisfied if reopen_on_dissatisfied is not None else st.booleans(),
    )
    return st.one_of(st.just(ComplaintPolicy()), drawn)


def complaint_calendars() -> st.SearchStrategy[BusinessCalendar]:
    """Team calendars: 24/7 and three offices in other time zones.

    Shanghai with the 2024 National Day holidays and adjusted working weekends (调休);
    Berlin with Easter holidays and New York, both with daylight-saving changes.
    """
    national_day = [date(2024, 10, d) for d in range(1, 8)]
    return st.sampled_from(
        [
            BusinessCalendar.always(),
            BusinessCalendar.office(
                "Asia/Shanghai",
                time(9),
                time(18),
                holidays=national_day,
                extra_workdays=[date(2024, 9, 29), date(2024, 10, 12)],
            ),
            BusinessCalendar.office(
                "Europe/Berlin",
                time(8),
                time(17),
                holidays=[date(2024, 3, 29), date(2024, 4, 1), date(2024, 12, 25)],
            ),
            BusinessCalendar.office("America/New_York", time(9), time(17)),
        ]
    )


def remedies(
    *,
    kind: st.SearchStrategy[RemedyKind] | None = None,
    currency: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Remedy]:
    """Valid :class:`~csdomain.complaints.Remedy` values (amounts only where allowed)."""

    @st.composite
    def build(draw: st.DrawFn) -> Remedy:
        chosen = draw(kind if kind is not None else st.sampled_from(RemedyKind))
        code = draw(currency if currency is not None else st.just("CNY"))
        cents = st.integers(min_value=1, max_value=10_000_000)
        amount: Money | None = None
        if chosen in (RemedyKind.REFUND, RemedyKind.COMPENSATION) or (
            chosen not in (RemedyKind.EXPLANATION, RemedyKind.REFERRAL) and draw(st.booleans())
        ):
            amount = Money(Decimal(draw(cents)).scaleb(-2), code)
        description = draw(st.text(min_size=1, max_size=30).filter(str.strip))
        return Remedy(kind=chosen, description=description, amount=amount)

    return build()


_TO_RESOLVE = ("assess", "investigate", "cause", "propose", "approve", "accept")
_PATHS: dict[ComplaintStatus, tuple[str, ...]] = {
    _S.RECEIVED: (),
    _S.REJECTED: ("reject",),
    _S.ASSESSED: ("assess",),
    _S.INVESTIGATING: ("assess", "investigate", "cause"),
    _S.RESOLUTION_PROPOSED: ("assess", "investigate", "cause", "propose"),
    _S.RESOLUTION_APPROVED: ("assess", "investigate", "cause", "propose", "approve"),
    _S.RESOLVED: _TO_RESOLVE,
    _S.FOLLOWED_UP: (*_TO_RESOLVE, "visit"),
}


@st.composite
def _complaint(
    draw: st.DrawFn,
    *,
    status: st.SearchStrategy[ComplaintStatus],
    urgency: st.SearchStrategy[ComplaintUrgency],
    nature: st.SearchStrategy[ComplaintNature],
    category: st.SearchStrategy[ComplaintCategory],
    channel: st.SearchStrategy[ComplaintChannel],
    received_at: st.SearchStrategy[datetime],
    policy: st.SearchStrategy[ComplaintPolicy],
    calendar: st.SearchStrategy[BusinessCalendar],
) -> Complaint:
    rules = draw(policy)
    team = draw(calendar)
    target = draw(status)
    now = draw(received_at).astimezone(UTC)
    gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30))

    def later() -> datetime:
        nonlocal now
        now = now + draw(gaps)
        return now

    complaint = receive_complaint(
        id=draw(st.from_regex(r"CP-[0-9]{6}-[0-9]{4}", fullmatch=True)),
        customer_id=draw(st.from_regex(r"CU-[0-9]{1,5}", fullmatch=True)),
        channel=draw(channel),
        urgency=draw(urgency),
        category=draw(category),
        nature=draw(nature),
        description=draw(st.text(min_size=1, max_size=40).filter(str.strip)),
        order_id=draw(st.none() | st.from_regex(r"SO-[0-9]{6}-[0-9]{4}", fullmatch=True)),
        at=now,
        by=_HANDLER,
        access=_ACCESS,
        policy=rules,
        calendar=team,
    )
    if target is _S.CLOSED:
        steps: tuple[str, ...] = (
            ("reject",) if draw(st.booleans()) else _PATHS[_S.FOLLOWED_UP]
        ) + ("close",)
    elif target is _S.ON_HOLD:
        held_from = draw(st.sampled_from(sorted(WORKING_STATUSES)))
        steps = (*_PATHS[held_from], "hold")
    else:
        steps = _PATHS[target]
    refusals = draw(st.integers(0, 1)) if "accept" in steps else 0

    commands: dict[str, Callable[[Complaint], Complaint]] = {
        "reject": lambda c: c.reject(
            reply="Explained the product's specification", at=later(), by=_HANDLER, access=_ACCESS
        ),
        "assess": lambda c: c.assess(at=later(), by=_HANDLER, access=_ACCESS, policy=rules),
        "investigate": lambda c: c.start_investigation(at=later(), by=_HANDLER, access=_ACCESS),
        "cause": lambda c: c.record_cause(
            cause=draw(st.sampled_from(["damaged seal", "late courier", "wrong label"])),
            responsible_person=draw(st.none() | st.just("zhao")),
            at=later(),
            by=_HANDLER,
            access=_ACCESS,
        ),
        "propose": lambda c: c.propose_resolution(
            remedies=draw(st.lists(remedies(), min_size=1, max_size=3)),
            at=later(),
            by=_HANDLER,
            access=_ACCESS,
        ),
        "approve": lambda c: c.approve_resolution(
            choice=draw(st.integers(0, len(c.proposals) - 1)),
            at=later(),
            by=_APPROVER,
            access=_ACCESS,
        ),
        "accept": lambda c: c.accept_resolution(
            signed_by="customer contact",
            at=later(),
            by=_HANDLER,
            access=_ACCESS,
            policy=rules,
            quiet_hours=_REST,
        ),
        "visit": lambda c: _visit(
            c,
            draw(
                st.sampled_from(
                    [FollowUpOutcome.SATISFIED, FollowUpOutcome.NEUTRAL]
                    if rules.reopen_on_dissatisfied
                    else list(FollowUpOutcome)
                )
            ),
            at=_next(c.follow_up_planned_at, now),
            policy=rules,
            calendar=team,
        ),
        "close": lambda c: c.close(
            summary="handled",
            improvement_measure="" if c.status is _S.REJECTED else "double-check packing",
            at=later(),
            by=_HANDLER,
            access=_ACCESS,
            penalty="warning" if c.at_company_fault and draw(st.booleans()) else "",
        ),
        "hold": lambda c: c.put_on_hold(
            reason="waiting for the customer's photos", at=later(), by=_HANDLER, access=_ACCESS
        ),
    }
    for step in steps:
        if step == "accept":
            for _ in range(refusals):
                complaint = complaint.refuse_resolution(
                    reason="wants a refund instead",
                    at=later(),
                    by=_HANDLER,
                    access=_ACCESS,
                    policy=rules,
                    calendar=team,
                )
                complaint = commands["cause"](complaint)
                complaint = commands["propose"](complaint)
                complaint = commands["approve"](complaint)
        if complaint.is_open and draw(st.booleans()):
            complaint, _ = escalate_overdue(complaint, later(), rules, team)
        complaint = commands[step](complaint)
        now = max(now, complaint.updated_at)
        if (
            complaint.nature is ComplaintNature.ABNORMAL
            and complaint.status is not _S.CLOSED
            and not complaint.statements
            and draw(st.booleans())
        ):
            moment = later()
            complaint = complaint.record_written_statement(
                reference="WS-1", dated=moment.date(), at=moment, by=_HANDLER, access=_ACCESS
            )
            now = max(now, complaint.updated_at)
    return complaint


def _next(planned: datetime | None, now: datetime) -> datetime:
    """When the visit call is made: as planned, or now if later, and never in the
    customer's rest hours (a later step can leave ``now`` inside them)."""
    moment = now if planned is None else max(planned, now)
    return utc(_REST.next_allowed(moment)) if _REST.contains(moment) else moment


def _visit(
    complaint: Complaint,
    outcome: FollowUpOutcome,
    *,
    at: datetime,
    policy: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> Complaint:
    """The follow-up visit with the script's answer to its outcome's question."""
    satisfied = outcome is FollowUpOutcome.SATISFIED
    return complaint.record_follow_up(
        outcome=outcome,
        notes="asked the script's question",
        at=at,
        by=_HANDLER,
        access=_ACCESS,
        policy=policy,
        calendar=calendar,
        quiet_hours=_REST,
        suggestions="call before noon" if satisfied else "",
        improvements="" if satisfied else "faster answers",
    )


def complaints(
    *,
    status: st.SearchStrategy[ComplaintStatus] | None = None,
    urgency: st.SearchStrategy[ComplaintUrgency] | None = None,
    nature: st.SearchStrategy[ComplaintNature] | None = None,
    category: st.SearchStrategy[ComplaintCategory] | None = None,
    channel: st.SearchStrategy[ComplaintChannel] | None = None,
    received_at: st.SearchStrategy[datetime] | None = None,
    policy: st.SearchStrategy[ComplaintPolicy] | None = None,
    calendar: st.SearchStrategy[BusinessCalendar] | None = None,
) -> st.SearchStrategy[Complaint]:
    """Valid :class:`~csdomain.complaints.Complaint` values in any (or the drawn) status.

    Complaints are received and then driven through the lifecycle with the real commands
    (including refusals, escalation runs and holds), so every one respects the transition
    table and the deadlines of its policy and calendar.
    """
    return _complaint(
        status=status if status is not None else st.sampled_from(ComplaintStatus),
        urgency=urgency if urgency is not None else st.sampled_from(ComplaintUrgency),
        nature=nature if nature is not None else st.sampled_from(ComplaintNature),
        category=category if category is not None else st.sampled_from(ComplaintCategory),
        channel=channel if channel is not None else st.sampled_from(ComplaintChannel),
        received_at=received_at
        if received_at is not None
        else st.datetimes(
            min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
            max_value=datetime(2030, 12, 31),  # noqa: DTZ001
            timezones=st.sampled_from([UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")]),
        ),
        policy=policy if policy is not None else complaint_policies(),
        calendar=calendar if calendar is not None else complaint_calendars(),
    )
