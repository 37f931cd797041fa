"""Field-service policy: the service-call promise, job numbers, the fee schedule, planning.

``Policy().fieldservice`` is a :class:`FieldServicePolicy`. The promise targets are the
complaint area's :class:`~csdomain.complaints.SlaTarget` (one implementation of business
and elapsed time for every deadline); the ladder a late job climbs is the complaint
policy's five-level ladder.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs

from csdomain.complaints import ComplaintUrgency, SlaTarget
from csdomain.errors import ValidationError, describe
from csdomain.fieldservice._checks import amount, names
from csdomain.fieldservice.classification import ServiceOrderKind
from csdomain.fieldservice.contracts import (
    check_criteria,
    check_grades,
    check_share,
    check_suspend_grades,
    default_criteria,
    default_grades,
)
from csdomain.fieldservice.plans import MaintenanceFrequency, maintenance_frequency
from csdomain.fieldservice.triage import FaultEntry
from csdomain.ids import NamingSeries
from csdomain.money import Money
from csdomain.validators import (
    as_dict,
    as_frozenset,
    as_tuple,
    instance_of,
    optional,
    positive_duration,
    positive_int,
    tuple_of,
)


__all__ = [
    "CHANNEL_LEVELS",
    "DistanceBand",
    "FeeSchedule",
    "FieldServicePolicy",
    "ServicePromise",
]


@attrs.frozen
class ServicePromise:
    """The three targets of a service call: respond, be on site, clear the fault.

    ``respond`` and ``on_site`` run from receipt of the call, ``fixed`` from the
    technician's first arrival ("fault cleared within 24 hours of starting").
    """

    respond: SlaTarget = attrs.field(validator=instance_of(SlaTarget))
    on_site: SlaTarget = attrs.field(validator=instance_of(SlaTarget))
    fixed: SlaTarget = attrs.field(validator=instance_of(SlaTarget))


def _promise(*, business_time: bool) -> ServicePromise:
    return ServicePromise(
        respond=SlaTarget(timedelta(minutes=30), business_time=business_time),
        on_site=SlaTarget(timedelta(hours=24), business_time=business_time),
        fixed=SlaTarget(timedelta(hours=24), business_time=business_time),
    )


@attrs.frozen
class DistanceBand:
    """A distance band of the fee schedule: trips up to ``up_to_km`` cost ``fee``.

    ``up_to_km=None`` is the open-ended last band.
    """

    up_to_km: int | None = attrs.field(validator=optional(positive_int))
    fee: Decimal = attrs.field(validator=amount)


def _bands(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    tuple_of(DistanceBand)(_instance, attribute, value)
    assert isinstance(value, tuple)  # noqa: S101 - checked just above
    if not value:
        raise ValidationError.at(attribute.name, "the fee schedule needs at least one band")
    limits = [band.up_to_km for band in value]
    if limits[-1] is not None:
        raise ValidationError.at(attribute.name, "the last band is open-ended (up_to_km=None)")
    bounded = limits[:-1]
    if None in bounded or bounded != sorted(set(bounded)):
        raise ValidationError.at(attribute.name, "bands must rise strictly, the last open-ended")


def _default_bands() -> tuple[DistanceBand, ...]:
    return (
        DistanceBand(10, Decimal("0.00")),
        DistanceBand(30, Decimal("30.00")),
        DistanceBand(60, Decimal("60.00")),
        DistanceBand(None, Decimal("100.00")),
    )


@attrs.frozen
class FeeSchedule:
    """The service fee schedule (服务收费标准) for work outside warranty.

    Amounts are in the policy currency: a call-out fee per on-site visit, labour per hour
    (charged by the minute), a fee by distance band from the service point, parts at
    their quote price (:func:`csdomain.warranty.quote_part`). Every amount is a project
    default: the handbook names the schedule ("fees outside warranty offset service
    cost", 可以有效冲抵服务成本) but gives no prices.
    """

    call_out_fee: Decimal = attrs.field(default=Decimal("50.00"), validator=amount)
    labour_per_hour: Decimal = attrs.field(default=Decimal("80.00"), validator=amount)
    distance_bands: tuple[DistanceBand, ...] = attrs.field(
        factory=_default_bands, converter=as_tuple, validator=_bands
    )

    def distance_fee(self, km: int) -> Decimal:
        """The fee of the band that a trip of ``km`` kilometres falls in."""
        for band in self.distance_bands:
            if band.up_to_km is None or km <= band.up_to_km:
                return band.fee
        return self.distance_bands[-1].fee  # pragma: no cover - the last band is open


def _pattern(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")
    try:
        NamingSeries(value)
    except ValidationError as err:
        raise ValidationError([(attribute.name, m) for _, m in err.errors]) from None


def _separator(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= 3 or not value.strip():
        raise ValidationError.at(
            attribute.name, f"must be 1 to 3 visible characters, got {describe(value)}"
        )


def _kind_skills(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, f"expected a mapping, got {describe(value)}")
    kinds = {kind.value for kind in ServiceOrderKind}
    for key, skill in value.items():
        if key not in kinds:
            raise ValidationError.at(
                attribute.name, f"{describe(key)} is not a kind of service order"
            )
        if not isinstance(skill, str) or not skill.strip():
            raise ValidationError.at(f"{attribute.name}.{key}", "a skill is non-blank text")


def _default_kind_skills() -> dict[str, str]:
    return {kind.value: kind.value for kind in ServiceOrderKind}


#: The channel levels a parts quote goes to (配件报价 only through the channel).
CHANNEL_LEVELS = ("agent", "dealer", "service_point")


def _default_discounts() -> dict[str, Decimal]:
    return {"agent": Decimal("0.25"), "dealer": Decimal("0.20"), "service_point": Decimal("0.20")}


def _share(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError.at(
            attribute.name, f"must be a Decimal from 0 to 1, got {describe(value)}"
        )


def _discounts(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, f"expected a mapping, got {describe(value)}")
    for level in CHANNEL_LEVELS:
        if level not in value:
            raise ValidationError.at(f"{attribute.name}.{level}", "every channel level is listed")
    for level, discount in value.items():
        if level not in CHANNEL_LEVELS:
            raise ValidationError.at(
                attribute.name,
                f"{describe(level)} is not a channel level ({', '.join(CHANNEL_LEVELS)})",
            )
        if not isinstance(discount, Decimal) or not discount.is_finite() or not 0 <= discount < 1:
            raise ValidationError.at(
                f"{attribute.name}.{level}",
                f"a discount is a Decimal from 0 up to 1, got {describe(discount)}",
            )


def _currency(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    try:
        Money.zero(value)  # type: ignore[arg-type]
    except ValidationError:
        raise ValidationError.at(
            attribute.name, f"not an ISO 4217 code: {describe(value)}"
        ) from None


@attrs.frozen
class FieldServicePolicy:
    """Field service numbers and choices, each with its source.

    The service-call promise (``special``, ``urgent``, ``ordinary``: a
    :class:`ServicePromise` per urgency) is the after-sales handbook's "respond within 30
    minutes, on site within 24 hours, fault cleared within 24 hours of starting"
    (售后服务响应时间): 30 minutes, 24 hours and 24 hours for every urgency, on the 24/7
    clock for special and urgent calls and on the team's business calendar for ordinary
    ones (which clock an urgency uses is a project default). ``job_number_pattern``: one
    job number per order from a naming series that restarts every month ("job numbers
    restart every month", 工作号每月重新编号); a follow-up job keeps the original number
    with ``follow_up_separator`` and a counter (``SJ-202611-0007-1``; project default).
    ``fees`` is the fee schedule (服务收费标准; amounts are project defaults), in
    ``currency``. A job whose charge outside warranty is above ``quote_approval_above``
    needs a quote the customer approved before the work is completed (the handbook asks
    for a quote before work; the amount is a project default). Planning (project
    defaults): a technician takes ``default_daily_capacity`` jobs a day unless registered
    otherwise, a visit is booked as a ``visit_window``, suggestions look
    ``planning_days`` ahead and list at most ``suggestion_limit`` technicians. A repair
    within ``repeat_visit_days`` of an earlier job on the same product is a repeat visit
    (the handbook's "repeat visits" analysis; 30 days is a project default).
    ``fault_guide`` is the triage guide (empty by default: the handbook asks the
    questions, the products give the answers); ``kind_skills`` names the skill each kind
    of job needs (project default: the kind's own name).

    Spare parts (配件管理): ``part_settlement_discounts`` is the dealer settlement list's
    discount off the market guide list per channel level (the handbook names the two price
    lists but gives no discount: project defaults). ``young_part_stock_months`` and
    ``young_part_stock_target``: 配件账龄周期80%控制在3个月内 (80 % of part stock younger
    than 3 months). The reserve plan replaces ``part_replacement_ratio`` parts for each
    part used (planned replacements 1:1, a project default) over the last
    ``part_reserve_days`` (90 days, the age window, is a project default). Transfer
    notes (调拨单) are numbered by ``part_transfer_pattern`` (project default).
    """

    special: ServicePromise = attrs.field(
        factory=lambda: _promise(business_time=False), validator=instance_of(ServicePromise)
    )
    urgent: ServicePromise = attrs.field(
        factory=lambda: _promise(business_time=False), validator=instance_of(ServicePromise)
    )
    ordinary: ServicePromise = attrs.field(
        factory=lambda: _promise(business_time=True), validator=instance_of(ServicePromise)
    )
    job_number_pattern: str = attrs.field(default="SJ-{yyyy}{mm}-{seq:04d}", validator=_pattern)
    follow_up_separator: str = attrs.field(default="-", validator=_separator)
    currency: str = attrs.field(default="CNY", validator=_currency)
    fees: FeeSchedule = attrs.field(factory=FeeSchedule, validator=instance_of(FeeSchedule))
    quote_approval_above: Decimal = attrs.field(default=Decimal("500.00"), validator=amount)
    default_daily_capacity: int = attrs.field(default=6, validator=positive_int)
    visit_window: timedelta = attrs.field(default=timedelta(hours=2), validator=positive_duration)
    planning_days: int = attrs.field(default=7, validator=positive_int)
    suggestion_limit: int = attrs.field(default=5, validator=positive_int)
    repeat_visit_days: int = attrs.field(default=30, validator=positive_int)
    fault_guide: tuple[FaultEntry, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(FaultEntry)
    )
    kind_skills: Mapping[str, str] = attrs.field(
        factory=_default_kind_skills, converter=as_dict, validator=_kind_skills
    )
    # -- the service network: contracts, assessments, plans, post-delivery jobs, statements
    #: Assessment criteria and the most points each gives (contracts.default_criteria).
    assessment_criteria: Mapping[str, int] = attrs.field(
        factory=default_criteria, converter=as_dict, validator=check_criteria
    )
    #: Grade bands: the least total of each grade.
    assessment_grades: Mapping[str, int] = attrs.field(
        factory=default_grades, converter=as_dict, validator=check_grades
    )
    #: Grades that suspend an active service point when it is assessed.
    suspend_on_grades: frozenset[str] = attrs.field(
        factory=lambda: frozenset({"D"}), converter=as_frozenset, validator=check_suspend_grades
    )
    #: How often a new maintenance plan repeats unless told.
    maintenance_frequency: MaintenanceFrequency = attrs.field(
        default=MaintenanceFrequency.QUARTERLY, converter=maintenance_frequency
    )
    #: Models (or SKUs, where a unit has no model) that get an installation job after delivery.
    installation_models: frozenset[str] = attrs.field(
        factory=frozenset, converter=as_frozenset, validator=names
    )
    #: Models (or SKUs) that get a user-training job after delivery.
    training_models: frozenset[str] = attrs.field(
        factory=frozenset, converter=as_frozenset, validator=names
    )
    #: How many days back the post-delivery run looks for delivered orders.
    delivery_lookback_days: int = attrs.field(default=30, validator=positive_int)
    #: The share of the fee schedule's call-out, distance and labour paid to a contracted point.
    point_fee_share: Decimal = attrs.field(default=Decimal("1.00"), validator=check_share)
    part_settlement_discounts: Mapping[str, Decimal] = attrs.field(
        factory=_default_discounts, converter=as_dict, validator=_discounts
    )
    young_part_stock_months: int = attrs.field(default=3, validator=positive_int)
    young_part_stock_target: Decimal = attrs.field(default=Decimal("0.80"), validator=_share)
    part_reserve_days: int = attrs.field(default=90, validator=positive_int)
    part_replacement_ratio: int = attrs.field(default=1, validator=positive_int)
    part_transfer_pattern: str = attrs.field(default="DB-{yyyy}{mm}-{seq:04d}", validator=_pattern)

    def __attrs_post_init__(self) -> None:
        if self.planning_days > 366:
            raise ValidationError.at("planning_days", "must be at most 366")
        amounts = [
            ("fees.call_out_fee", self.fees.call_out_fee),
            ("fees.labour_per_hour", self.fees.labour_per_hour),
            *(
                (f"fees.distance_bands.{i}.fee", band.fee)
                for i, band in enumerate(self.fees.distance_bands)
            ),
            ("quote_approval_above", self.quote_approval_above),
        ]
        for path, value in amounts:
            try:
                Money(value, self.currency)
            except ValidationError as err:
                raise ValidationError([(path, message) for _, message in err.errors]) from None

    def promise_for(self, urgency: ComplaintUrgency) -> ServicePromise:
        """The :class:`ServicePromise` of ``urgency``."""
        if urgency is ComplaintUrgency.SPECIAL:
            return self.special
        if urgency is ComplaintUrgency.URGENT:
            return self.urgent
        return self.ordinary

    def skill_for(self, kind: ServiceOrderKind) -> str | None:
        """The skill a job of ``kind`` needs (``None``: no particular one)."""
        return self.kind_skills.get(kind.value)

    def settlement_discount(self, level: str) -> Decimal:
        """The dealer settlement list's discount for a channel ``level``."""
        try:
            return self.part_settlement_discounts[level]
        except KeyError:
            raise ValidationError.at(
                "level", f"{describe(level)} is not a channel level ({', '.join(CHANNEL_LEVELS)})"
            ) from None

    def money(self, value: Decimal) -> Money:
        """``value`` as money of the policy currency."""
        return Money(value, self.currency)
