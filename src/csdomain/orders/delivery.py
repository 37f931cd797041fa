"""Delivery: the promised delivery window and the problems customers raise (DOMAIN.md 2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.orders.policy import OrderPolicy
from csdomain.validators import count, decimal, flag, frozenset_of, optional, text, tuple_of
from csdomain.validators import day as _date


__all__ = [
    "DeliveryProblem",
    "DeliveryProblemAssessment",
    "DeliveryProblemKind",
    "DeliveryWindow",
    "assess_delivery_problem",
    "promise_delivery",
]


@attrs.frozen
class DeliveryWindow:
    """The promised delivery dates, earliest and latest (DOMAIN.md 2: 3-4 days)."""

    earliest: date = attrs.field(validator=_date)
    latest: date = attrs.field(validator=_date)

    def __attrs_post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValidationError.at("latest", "must not be before earliest")


def _business_days_after(day: date, days: int, calendar: BusinessCalendar) -> date:
    limit = 7 * (days + 1) + len(calendar.holidays) + 7
    counted = 0
    for _ in range(limit):
        if counted >= days:
            return day
        day += timedelta(days=1)
        if calendar.intervals_on(day):
            counted += 1
    if counted >= days:
        return day
    msg = "the calendar has too few business days to promise a delivery"
    raise ValidationError.at("calendar", msg)


def promise_delivery(
    at: datetime, calendar: BusinessCalendar, policy: OrderPolicy
) -> DeliveryWindow:
    """The delivery window for goods shipped at ``at``, counted in business days.

    Source: DOMAIN.md 2, delivery promise 3-4 days (policy ``delivery_days_min``/``max``).
    """
    start = require_aware(at).astimezone(calendar.zone).date()
    return DeliveryWindow(
        earliest=_business_days_after(start, policy.delivery_days_min, calendar),
        latest=_business_days_after(start, policy.delivery_days_max, calendar),
    )


class DeliveryProblemKind(StrEnum):
    """Delivery problems customers raise (DOMAIN.md 2)."""

    DAMAGED_PACKAGING = "damaged_packaging"
    LATE_DELIVERY = "late_delivery"
    SHORT_QUANTITY = "short_quantity"
    OFF_SPEC_CONTENT = "off_spec_content"


def _problem_kind(value: DeliveryProblemKind | str) -> DeliveryProblemKind:
    try:
        return DeliveryProblemKind(value)
    except ValueError:
        msg = f"not a delivery problem: {describe(value)}"
        raise ValidationError.at("kind", msg) from None


def _to_decimal(value: Any) -> Any:
    """An attrs converter: whole numbers and decimal text become Decimals."""
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    return value


@attrs.frozen
class DeliveryProblem:
    """What a customer reports about a delivery.

    ``content_deviation`` is a signed fraction (``Decimal("-0.007")`` is 0.7 % short);
    ``wagon_tonnes`` is the wagon's load (the policy's reference wagon when not given).
    """

    kind: DeliveryProblemKind = attrs.field(converter=_problem_kind)
    order_id: str = attrs.field(default="", validator=text)
    damaged_bags: int = attrs.field(default=0, validator=count)
    wagon_tonnes: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    content_deviation: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    missing_quantity: int = attrs.field(default=0, validator=count)
    delay_curable: bool = attrs.field(default=True, validator=flag)

    def __attrs_post_init__(self) -> None:
        if self.wagon_tonnes is not None and self.wagon_tonnes <= 0:
            raise ValidationError.at("wagon_tonnes", "must be positive")


@attrs.frozen
class DeliveryProblemAssessment:
    """Who must be involved in a delivery problem and why."""

    escalate: bool = attrs.field(validator=flag)
    involve: frozenset[str] = attrs.field(validator=frozenset_of(str))
    reasons: tuple[str, ...] = attrs.field(validator=tuple_of(str))
    return_exchange: bool = attrs.field(validator=flag)


def assess_delivery_problem(
    problem: DeliveryProblem, policy: OrderPolicy
) -> DeliveryProblemAssessment:
    """Check a delivery problem against the policy thresholds (DOMAIN.md 2).

    ``damaged_bags_limit`` damaged bags and more per ``reference_wagon_tonnes`` (scaled
    to the wagon's load: 破损超过30袋及以上, 30 bags already count), or content deviating
    more than ``content_tolerance`` either way, involves ``escalation_contacts`` (sales VP
    and quality department). A delay that cannot be cured falls under the return/exchange
    policy.
    """
    reasons: list[str] = []
    if problem.damaged_bags:
        tonnes = problem.wagon_tonnes or policy.reference_wagon_tonnes
        limit = Decimal(policy.damaged_bags_limit) * tonnes / policy.reference_wagon_tonnes
        if problem.damaged_bags >= limit:
            reasons.append("damaged_bags_over_limit")
    if (
        problem.content_deviation is not None
        and abs(problem.content_deviation) > policy.content_tolerance
    ):
        reasons.append("content_deviation_over_tolerance")
    escalate = bool(reasons)
    return_exchange = (
        problem.kind is DeliveryProblemKind.LATE_DELIVERY and not problem.delay_curable
    )
    if return_exchange:
        reasons.append("delay_not_curable")
    return DeliveryProblemAssessment(
        escalate=escalate,
        involve=policy.escalation_contacts if escalate else frozenset(),
        reasons=tuple(reasons),
        return_exchange=return_exchange,
    )
