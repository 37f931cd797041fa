"""Who should go: ranked technician suggestions with their reasons, and the day plan.

The handbook asks, on receiving a call, whether someone can be on site in time, "from
the customer's address, the requested visit time and the jobs already in hand"
(根据用户地址、要求上门时间及自己手中已接活的情况分析能否按时上门服务).
:func:`suggest_technicians` answers it for every technician of the job's district: it
passes over those who cannot take the job (inactive, lacking a skill triage asks for,
not covering the service area, no free working day in the planning window) and ranks
the others, first whether they can be on site before the promise's deadline, then by
their earliest visit, then by the jobs in hand, each with the reasons that put it there.
Jobs already booked come in through callables (the desk counts them in the store), so
only the technicians that pass the cheap checks cost a lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.clock import utc
from csdomain.errors import RuleViolation, describe
from csdomain.fieldservice.network import Technician
from csdomain.fieldservice.order import ServiceOrder
from csdomain.fieldservice.policy import FieldServicePolicy
from csdomain.fieldservice.triage import Finding
from csdomain.validators import (
    as_tuple,
    aware,
    count,
    flag,
    not_blank,
    positive_int,
    tuple_of,
)


__all__ = [
    "Candidate",
    "PassedOver",
    "Slot",
    "Suggestion",
    "check_available",
    "day_plan",
    "earliest_slot",
    "suggest_technicians",
]

#: ``booked(technician_id, local_day)``: how many jobs the technician holds on that day.
Booked = Callable[[str, date], int]


@attrs.frozen(kw_only=True)
class Slot:
    """The earliest visit a technician can make, and how full that day already is."""

    visit_at: datetime = attrs.field(validator=aware)
    day: date
    booked: int = attrs.field(validator=count)
    skipped: tuple[Finding, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Finding)
    )


@attrs.frozen(kw_only=True)
class Candidate:
    """A technician who can take the job, with the place in the ranking and why."""

    rank: int = attrs.field(validator=positive_int)
    technician_id: str = attrs.field(validator=not_blank)
    service_point_id: str = attrs.field(validator=not_blank)
    visit_at: datetime = attrs.field(validator=aware)
    on_time: bool = attrs.field(validator=flag)
    booked: int = attrs.field(validator=count)
    capacity: int = attrs.field(validator=positive_int)
    open_jobs: int = attrs.field(validator=count)
    reasons: tuple[Finding, ...] = attrs.field(converter=as_tuple, validator=tuple_of(Finding))

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`reasons`, in order."""
        return tuple(reason.code for reason in self.reasons)


@attrs.frozen(kw_only=True)
class PassedOver:
    """A technician who cannot take the job, and why."""

    technician_id: str = attrs.field(validator=not_blank)
    reasons: tuple[Finding, ...] = attrs.field(converter=as_tuple, validator=tuple_of(Finding))

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`reasons`, in order."""
        return tuple(reason.code for reason in self.reasons)


@attrs.frozen(kw_only=True)
class Suggestion:
    """The ranked candidates for a job and the technicians passed over."""

    job_id: str = attrs.field(validator=not_blank)
    candidates: tuple[Candidate, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(Candidate)
    )
    passed_over: tuple[PassedOver, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(PassedOver)
    )

    @property
    def best(self) -> Candidate | None:
        """The first-ranked candidate, if there is one."""
        return self.candidates[0] if self.candidates else None


def _local(moment: datetime, calendar: BusinessCalendar) -> str:
    return moment.astimezone(calendar.zone).strftime("%Y-%m-%d %H:%M")


def earliest_slot(
    technician: Technician,
    calendar: BusinessCalendar,
    start: datetime,
    booked: Booked,
    *,
    days: int,
) -> Slot | None:
    """The first moment from ``start`` on when ``technician`` works and has room.

    Looks at ``days`` local days from the day of ``start``: a blackout day, a day the
    calendar is closed (from ``start`` on) and a day already holding ``daily_capacity``
    jobs are skipped, each with a finding saying so. ``None`` when no day is free.
    """
    moment = utc(start)
    first = moment.astimezone(calendar.zone).date()
    skipped: list[Finding] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day in technician.blackout_days:
            skipped.append(Finding("blackout_day", f"{day} is a blackout day"))
            continue
        opening = next((b for b, e in calendar.intervals_on(day) if e > moment), None)
        if opening is None:
            skipped.append(Finding("not_working", f"{day}: no working hours left"))
            continue
        held = booked(technician.id, day)
        if held >= technician.daily_capacity:
            skipped.append(
                Finding("fully_booked", f"{day}: {held} of {technician.daily_capacity} jobs booked")
            )
            continue
        return Slot(visit_at=max(opening, moment), day=day, booked=held, skipped=tuple(skipped))
    return None


def _fits(order: ServiceOrder, technician: Technician) -> list[Finding]:
    """Why ``technician`` cannot take ``order`` at all (empty: it may)."""
    problems: list[Finding] = []
    if not technician.active:
        problems.append(Finding("technician_unavailable", "not active"))
    needed = order.triage.skills if order.triage is not None else frozenset()
    missing = technician.has_skills(needed)
    if missing:
        problems.append(Finding("missing_skill", f"lacks {', '.join(sorted(missing))}"))
    if order.service_area_id not in technician.service_areas:
        problems.append(
            Finding("outside_service_area", f"does not cover service area {order.service_area_id}")
        )
    return problems


def suggest_technicians(
    order: ServiceOrder,
    technicians: Iterable[Technician],
    *,
    booked: Booked,
    open_jobs: Callable[[str], int],
    at: datetime,
    policy: FieldServicePolicy,
    calendar_of: Callable[[Technician], BusinessCalendar],
    limit: int | None = None,
    closed_points: Mapping[str, str] | None = None,
) -> Suggestion:
    """Rank who can take ``order``, with reasons (see the module docstring).

    ``closed_points`` maps the ids of service points that take no jobs (a contract still
    opening, or suspended) to their status: their technicians are passed over with
    ``service_point_not_active``, as dispatch would refuse them.

    The visit is looked for from ``at`` or the customer's requested time, whichever is
    later, over ``policy.planning_days`` days. The ranking: on site before
    ``order.on_site_by`` first, then the earliest visit, the fewest jobs booked that day,
    the fewest open jobs, the technician id. At most ``limit`` (default
    ``policy.suggestion_limit``) candidates are listed.
    """
    start = utc(at)
    if order.requested_at is not None and order.requested_at > start:
        start = order.requested_at
    needed = order.triage.skills if order.triage is not None else frozenset()
    ranked: list[tuple[tuple[object, ...], Technician, Slot, int, BusinessCalendar]] = []
    passed: list[PassedOver] = []
    closed = closed_points or {}
    for technician in technicians:
        problems = _fits(order, technician)
        if technician.service_point_id in closed:
            status = closed[technician.service_point_id].replace("_", " ")
            problems.insert(
                0,
                Finding(
                    "service_point_not_active",
                    f"service point {technician.service_point_id} is {status}: it takes no jobs",
                ),
            )
        if problems:
            passed.append(PassedOver(technician_id=technician.id, reasons=problems))
            continue
        calendar = calendar_of(technician)
        slot = earliest_slot(technician, calendar, start, booked, days=policy.planning_days)
        if slot is None:
            passed.append(
                PassedOver(
                    technician_id=technician.id,
                    reasons=(
                        Finding(
                            "technician_unavailable",
                            f"no free working day in the next {policy.planning_days} days",
                        ),
                    ),
                )
            )
            continue
        jobs = open_jobs(technician.id)
        on_time = slot.visit_at <= order.on_site_by
        key = (not on_time, slot.visit_at, slot.booked, jobs, technician.id)
        ranked.append((key, technician, slot, jobs, calendar))
    ranked.sort(key=lambda item: item[0])
    most = policy.suggestion_limit if limit is None else limit
    candidates: list[Candidate] = []
    for rank, (_key, technician, slot, jobs, calendar) in enumerate(ranked[:most], start=1):
        reasons = [Finding("covers_area", f"covers service area {order.service_area_id}")]
        if needed:
            reasons.append(Finding("has_skills", f"has {', '.join(sorted(needed))}"))
        reasons.extend(slot.skipped)
        reasons.append(
            Finding(
                "works_then",
                f"works {slot.day.strftime('%a')} {_local(slot.visit_at, calendar)}",
            )
        )
        reasons.append(
            Finding(
                "capacity_left",
                f"{slot.booked} of {technician.daily_capacity} jobs booked on {slot.day}",
            )
        )
        reasons.append(Finding("jobs_in_hand", f"{jobs} open jobs in hand"))
        deadline = _local(order.on_site_by, calendar)
        if slot.visit_at <= order.on_site_by:
            reasons.append(Finding("on_time", f"on site by the promise ({deadline})"))
        else:
            reasons.append(Finding("late", f"the earliest visit is after the promise ({deadline})"))
        candidates.append(
            Candidate(
                rank=rank,
                technician_id=technician.id,
                service_point_id=technician.service_point_id,
                visit_at=slot.visit_at,
                on_time=slot.visit_at <= order.on_site_by,
                booked=slot.booked,
                capacity=technician.daily_capacity,
                open_jobs=jobs,
                reasons=reasons,
            )
        )
    passed.sort(key=lambda p: p.technician_id)
    return Suggestion(job_id=order.id, candidates=candidates, passed_over=passed)


def check_available(
    technician: Technician,
    calendar: BusinessCalendar,
    window_start: datetime,
    booked: int,
) -> date:
    """The local day of a visit at ``window_start``, if ``technician`` can make it.

    Refuses (``technician_unavailable``) a blackout day, a moment outside the working
    calendar and a day that already holds ``daily_capacity`` jobs.
    """
    moment = utc(window_start)
    day = moment.astimezone(calendar.zone).date()
    reason = ""
    if day in technician.blackout_days:
        reason = f"{day} is a blackout day"
    elif not calendar.is_open(moment):
        reason = f"{_local(moment, calendar)} is outside the working hours"
    elif booked >= technician.daily_capacity:
        reason = f"{booked} of {technician.daily_capacity} jobs are already booked on {day}"
    if reason:
        raise RuleViolation(
            "technician_unavailable",
            f"technician {describe(technician.id)}: {reason}",
            technician_id=technician.id,
        )
    return day


def day_plan(orders: Sequence[ServiceOrder]) -> tuple[ServiceOrder, ...]:
    """One technician's jobs of a day in the order of their visit windows."""
    return tuple(
        sorted(
            (order for order in orders if order.visit_window is not None),
            key=lambda order: (order.visit_window or (order.received_at,))[0],
        )
    )
