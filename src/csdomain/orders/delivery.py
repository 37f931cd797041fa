"""Delivery: the promised delivery window and the problems customers raise (docs/domain.md 2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.orders._checks import stored_count
from csdomain.orders.policy import OrderPolicy
from csdomain.validators import day as _date
from csdomain.validators import decimal, flag, frozenset_of, optional, text, tuple_of


__all__ = [
    "DeliveryProblem",
    "DeliveryProblemAssessment",
    "DeliveryProblemKind",
    "DeliveryWindow",
    "assess_delivery_problem",
    "promise_delivery",
    "usual_delivery",
]


@attrs.frozen
class DeliveryWindow:
    """The promised delivery dates, earliest and latest (docs/domain.md 2: 3-4 days)."""

    earliest: date = attrs.field(validator=_date)
    latest: date = attrs.field(validator=_date)

    def __attrs_post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValidationError.at("latest", "must not be before earliest")


def _days_after(at: datetime, calendar: BusinessCalendar, low: int, high: int) -> DeliveryWindow:
    start = require_aware(at).astimezone(calendar.zone).date()
    try:
        return DeliveryWindow(
            earliest=start + timedelta(days=low), latest=start + timedelta(days=high)
        )
    except OverflowError:
        raise ValidationError.at("at", "the delivery date falls after year 9999") from None


def promise_delivery(
    at: datetime, calendar: BusinessCalendar, policy: OrderPolicy
) -> DeliveryWindow:
    """The promised delivery window: calendar days after the remittance proof arrived.

    Source: docs/domain.md 2, 接到传真后……3-4日即可收到 (once the faxed remittance proof is
    in, the goods arrive within 3-4 days): ``at`` is when the proof arrived, the days are
    calendar days in ``calendar``'s time zone (policy ``delivery_days_min``/``max``).
    """
    return _days_after(at, calendar, policy.delivery_days_min, policy.delivery_days_max)


def usual_delivery(at: datetime, calendar: BusinessCalendar, policy: OrderPolicy) -> DeliveryWindow:
    """When the goods usually arrive: 2-3 calendar days after the remittance proof.

    Source: docs/domain.md 2, (一般内2-3日即可收到): usually within 2-3 days (policy
    ``usual_delivery_days_min``/``max``); what a customer may be told to expect, while
    :func:`promise_delivery` is what lateness is measured against.
    """
    return _days_after(at, calendar, policy.usual_delivery_days_min, policy.usual_delivery_days_max)


class DeliveryProblemKind(StrEnum):
    """Delivery problems customers raise (docs/domain.md 2)."""

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
    damaged_bags: int = attrs.field(default=0, validator=stored_count)
    wagon_tonnes: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    content_deviation: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    missing_quantity: int = attrs.field(default=0, validator=stored_count)
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
    """Check a delivery problem against the policy thresholds (docs/domain.md 2).

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
