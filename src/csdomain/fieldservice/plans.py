"""Maintenance plans: planned maintenance of a product, monthly or quarterly, within warranty.

A :class:`MaintenancePlan` belongs to one product file (keyed by its serial) and repeats
every month or every quarter from its first due date (``dateutil.rrule``; a plan that
starts on the 31st keeps to month ends). :func:`due_now` says which occurrence is due on a
day: the latest one not handled yet, up to the day and never after the product's warranty
ends; earlier occurrences missed since the last run are skipped, so a product never gets
two maintenance visits for one gap in the scheduler's runs. The plan remembers the last
occurrence it handled, so running the generation twice on a day opens nothing the second
time; a plan whose next occurrence falls after the warranty's end is finished
(:func:`finished`). Source: maintenance plans, quarterly or monthly per product within
warranty, generate planned service orders (docs/domain.md 8).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import cast

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, rrule

from csdomain.errors import ValidationError
from csdomain.validators import (
    as_tuple,
    aware,
    day,
    enum_value,
    flag,
    not_blank,
    optional,
    tuple_of,
)


__all__ = [
    "MaintenanceFrequency",
    "MaintenancePlan",
    "PlanRun",
    "due_now",
    "finished",
    "first_due_after",
    "maintenance_frequency",
    "occurrences",
]


class MaintenanceFrequency(StrEnum):
    """How often a maintenance plan repeats."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def months(self) -> int:
        """The months between two visits."""
        return 1 if self is MaintenanceFrequency.MONTHLY else 3


def maintenance_frequency(value: object) -> MaintenanceFrequency:
    """``value`` as a :class:`MaintenanceFrequency` (a member or its value)."""
    return enum_value(MaintenanceFrequency, value, "frequency")


def first_due_after(start: date, frequency: MaintenanceFrequency) -> date:
    """The first visit of a plan that starts on ``start``: one interval later."""
    return start + relativedelta(months=frequency.months)


def _midnight(value: date) -> datetime:
    return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - rrule is naive


def occurrences(first_due: date, frequency: MaintenanceFrequency, until: date) -> Iterator[date]:
    """The visit dates of a plan from ``first_due`` up to ``until`` (inclusive).

    Every ``frequency.months`` months on the day of ``first_due``, or on the month's last
    day where the month is shorter (a plan of the 31st visits on 30 April).
    """
    if until < first_due:
        return
    rule = rrule(
        MONTHLY,
        interval=frequency.months,
        dtstart=_midnight(first_due.replace(day=1)),
        bymonthday=tuple(range(min(first_due.day, 28), first_due.day + 1)),
        bysetpos=-1,
        until=_midnight(until),
    )
    for moment in rule:
        yield moment.date()


def _job_ids(_instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object) -> None:
    tuple_of(str)(_instance, attribute, value)
    jobs = cast("tuple[str, ...]", value)  # tuple_of(str) refused anything else
    if any(not job.strip() for job in jobs):
        raise ValidationError.at(attribute.name, "a job number is non-blank text")


@attrs.frozen(kw_only=True)
class MaintenancePlan:
    """Planned maintenance of one product file (维护计划), keyed by the product's serial.

    ``last_due`` is the last occurrence handled (a job opened for it, or skipped for a
    later one); ``jobs`` lists the job numbers the plan opened, oldest first. A plan that
    is not ``active`` opens nothing more; ``ended_on`` says when it ended.
    """

    product_serial: str = attrs.field(validator=not_blank)
    customer_id: str = attrs.field(validator=not_blank)
    model: str = attrs.field(validator=not_blank)
    frequency: MaintenanceFrequency = attrs.field(converter=maintenance_frequency)
    first_due: date = attrs.field(validator=day)
    last_due: date | None = attrs.field(default=None, validator=optional(day))
    jobs: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=_job_ids)
    active: bool = attrs.field(default=True, validator=flag)
    ended_on: date | None = attrs.field(default=None, validator=optional(day))
    created_at: datetime = attrs.field(validator=aware)
    created_by: str = attrs.field(validator=not_blank)

    def __attrs_post_init__(self) -> None:
        if self.last_due is not None and self.last_due < self.first_due:
            raise ValidationError.at("last_due", "is before first_due")
        if self.active != (self.ended_on is None):
            raise ValidationError.at("ended_on", "is set exactly when the plan is not active")

    @property
    def id(self) -> str:
        """The plan's key: its product's serial."""
        return self.product_serial

    def with_job(self, due: date, job_id: str) -> MaintenancePlan:
        """The plan after opening ``job_id`` for the occurrence ``due``."""
        return attrs.evolve(self, last_due=due, jobs=(*self.jobs, job_id))

    def ended(self, on: date) -> MaintenancePlan:
        """The plan ended on ``on`` (the warranty is over, or it was stopped)."""
        return attrs.evolve(self, active=False, ended_on=on)


@attrs.frozen(kw_only=True)
class PlanRun:
    """What one plan has to do on a day: the occurrence due (if any), the ones skipped
    for it, and whether the plan is finished afterwards."""

    due: date | None
    skipped: tuple[date, ...] = ()
    finished: bool = False


def finished(plan: MaintenancePlan, *, after: date, warranty_ends: date) -> bool:
    """Whether ``plan`` has no occurrence left after ``after`` within the warranty."""
    return all(when <= after for when in occurrences(plan.first_due, plan.frequency, warranty_ends))


def due_now(plan: MaintenancePlan, *, today: date, warranty_ends: date) -> PlanRun:
    """What ``plan`` does on the local date ``today`` for a product whose warranty ends
    on ``warranty_ends``.

    The latest occurrence after ``last_due`` up to ``today`` and within the warranty is
    due; earlier ones not handled yet are skipped. Nothing is due for a plan that is not
    active; the plan is finished when no occurrence is left within the warranty after
    the ones handled (docs/domain.md 8: products past warranty stop generating).
    """
    if not plan.active:
        return PlanRun(due=None)
    until = min(today, warranty_ends)
    fresh = [
        when
        for when in occurrences(plan.first_due, plan.frequency, until)
        if plan.last_due is None or when > plan.last_due
    ]
    due = fresh[-1] if fresh else None
    handled = due or plan.last_due
    horizon = today if handled is None else max(today, handled)
    return PlanRun(
        due=due,
        skipped=tuple(fresh[:-1]),
        finished=finished(plan, after=horizon, warranty_ends=warranty_ends),
    )
