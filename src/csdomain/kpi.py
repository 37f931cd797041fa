"""Contact-centre KPIs, order KPIs and staff performance pay (docs/domain.md 2, 3.3, 6).

- **Contact centre.** :class:`ContactRecord` is one call or contact (inbound or outbound).
  :class:`ContactStats` reads a stream of them once, keeps only integer counters (times
  in whole microseconds, so results never depend on the order or the split of the
  stream) and merges with another accumulator. :func:`kpi_report` turns the counters into
  a :class:`KpiReport`: each figure with its target from :class:`ContactCentrePolicy`
  and whether it passes (service level 80 % within 20 s, handling time 210-330 s, queue
  time 20 s, first-contact resolution 85 %, connection rate 80 % inbound / 60 % outbound,
  outbound project share 90 %, 2-3 rings).
- **Order KPIs** (订单KPI). :func:`order_kpis` reads the orders, return reports and stock
  of a period once and gives :class:`OrderKpis`: the valid-order rate, the return and
  refusal rates, stock accuracy and the manual-adjustment rate from the stock-takes, the
  service level (shipped complete and delivered by the promised date) and the stock days.
- **Staff pay.** Actual pay = base pay + standard performance pay x KPI value, where base
  pay = last month's average x base share (0.5-0.8) and the standard performance pay is
  the rest; the KPI value is clamped to 0.5-5 (and the line says so). :func:`pay_report`
  flags the KPI scheme itself when 80 % of staff score below 1. KPIs group into
  timeliness, effectiveness and conformity (:class:`KpiGroup`).

Rates are fractions 0..1 and times are seconds in reports; money is
:class:`~csdomain.money.Money`, KPI values are :class:`~decimal.Decimal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import attrs

from csdomain import validators as valid
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.orders import CountStatus, Order, OrderStatus, Stock, StockBucket
from csdomain.returns import ReturnReason, ReturnRequest, ReturnStatus


__all__ = [
    "KPI_GROUPS",
    "ContactCentrePolicy",
    "ContactDirection",
    "ContactKpi",
    "ContactRecord",
    "ContactStats",
    "KpiFigure",
    "KpiGroup",
    "KpiMeasure",
    "KpiReport",
    "OrderKpis",
    "PayLine",
    "PayReport",
    "StaffPayPolicy",
    "StaffScore",
    "kpi_by_group",
    "kpi_report",
    "kpi_reports_by_agent",
    "kpi_value",
    "order_kpis",
    "pay_report",
    "staff_pay",
]


_MICROSECOND = timedelta(microseconds=1)


# -- enums -----------------------------------------------------------------------------


class ContactDirection(StrEnum):
    """Whether the customer called in or the centre called out."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class KpiGroup(StrEnum):
    """The three groups service KPIs fall into (docs/domain.md 6)."""

    TIMELINESS = "timeliness"
    EFFECTIVENESS = "effectiveness"
    CONFORMITY = "conformity"


class ContactKpi(StrEnum):
    """The contact-centre standards of docs/domain.md 3.3."""

    SERVICE_LEVEL = "service_level"
    AVERAGE_HANDLING_TIME = "average_handling_time"
    AVERAGE_QUEUE_TIME = "average_queue_time"
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution"
    INBOUND_CONNECTION_RATE = "inbound_connection_rate"
    OUTBOUND_CONNECTION_RATE = "outbound_connection_rate"
    OUTBOUND_PROJECT_SHARE = "outbound_project_share"
    AVERAGE_RINGS = "average_rings"


#: Which group each contact-centre KPI belongs to.
KPI_GROUPS: dict[ContactKpi, KpiGroup] = {
    ContactKpi.SERVICE_LEVEL: KpiGroup.TIMELINESS,
    ContactKpi.AVERAGE_QUEUE_TIME: KpiGroup.TIMELINESS,
    ContactKpi.AVERAGE_RINGS: KpiGroup.TIMELINESS,
    ContactKpi.FIRST_CONTACT_RESOLUTION: KpiGroup.EFFECTIVENESS,
    ContactKpi.INBOUND_CONNECTION_RATE: KpiGroup.EFFECTIVENESS,
    ContactKpi.OUTBOUND_CONNECTION_RATE: KpiGroup.EFFECTIVENESS,
    ContactKpi.AVERAGE_HANDLING_TIME: KpiGroup.CONFORMITY,
    ContactKpi.OUTBOUND_PROJECT_SHARE: KpiGroup.CONFORMITY,
}


# -- helpers ---------------------------------------------------------------------------


def _fraction(value: object, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationError.at(path, f"must be a fraction 0..1, got {describe(value)}")


def _duration(value: object, path: str) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError.at(path, f"must be a duration >= 0, got {describe(value)}")


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool | float):
        raise ValidationError.at(
            path, f"use a string, int or Decimal, never a float: {describe(value)}"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValidationError.at(path, f"not a decimal number: {describe(value)}") from None
    else:
        raise ValidationError.at(path, f"not a decimal number: {describe(value)}")
    if not result.is_finite():
        raise ValidationError.at(path, f"must be finite, got {describe(value)}")
    return result


def _many(value: object, path: str) -> Iterable[object]:
    """``value`` when it is a collection or an iterator (not text, not a mapping)."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError.at(path, f"expected a list, got {type(value).__name__}")
    return value


#: ``None``, ``True`` or ``False``.
_optional_flag = valid.optional(valid.flag)


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


# -- contact centre --------------------------------------------------------------------


@attrs.frozen
class ContactCentrePolicy:
    """Contact-centre standards with docs/domain.md 3.3's defaults."""

    #: Service level: 80 % of inbound calls answered within 20 s.
    service_level_threshold: timedelta = timedelta(seconds=20)
    service_level_target: float = 0.80
    #: Average handling time between 210 and 330 s.
    handling_time_min: timedelta = timedelta(seconds=210)
    handling_time_max: timedelta = timedelta(seconds=330)
    #: Average queue time at most 20 s.
    queue_time_target: timedelta = timedelta(seconds=20)
    #: First-contact resolution at least 85 %.
    first_contact_resolution_target: float = 0.85
    #: Connection rate at least 80 % inbound and 60 % outbound.
    inbound_connection_target: float = 0.80
    outbound_connection_target: float = 0.60
    #: At least 90 % of outbound calls belong to a planned outbound project.
    outbound_project_share_target: float = 0.90
    #: Calls are answered after 2-3 rings on average.
    rings_min: int = 2
    rings_max: int = 3

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        for name in (
            "service_level_threshold",
            "handling_time_min",
            "handling_time_max",
            "queue_time_target",
        ):
            try:
                _duration(getattr(self, name), name)
            except ValidationError as err:
                errors.extend(err.errors)
        for name in (
            "service_level_target",
            "first_contact_resolution_target",
            "inbound_connection_target",
            "outbound_connection_target",
            "outbound_project_share_target",
        ):
            try:
                _fraction(getattr(self, name), name)
            except ValidationError as err:
                errors.extend(err.errors)
        for name in ("rings_min", "rings_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append((name, f"must be a whole number >= 0, got {describe(value)}"))
        if not errors:
            if self.handling_time_max < self.handling_time_min:
                errors.append(("handling_time_max", "must not be below handling_time_min"))
            if self.rings_max < self.rings_min:
                errors.append(("rings_max", "must not be below rings_min"))
        if errors:
            raise ValidationError(errors)


def _to_direction(value: ContactDirection | str) -> ContactDirection:
    return valid.enum_value(ContactDirection, value, "direction")


@attrs.frozen
class ContactRecord:
    """One call of the contact centre, as the telephony system logs it (docs/domain.md 3.3).

    ``offered_at`` is when the call reached the queue (inbound) or was dialled (outbound),
    ``answered_at`` when an agent (inbound) or the customer (outbound) picked up, ``None``
    if nobody did; ``ended_at`` when handling, wrap-up included, ended (for an abandoned
    call: when the customer hung up). ``connected`` (outbound only) says whether the
    intended customer was reached, by default whether the call was answered; ``project``
    (outbound only) whether the call belongs to a planned outbound project.
    """

    id: str = attrs.field(validator=valid.not_blank)
    offered_at: datetime = attrs.field(validator=valid.aware)
    answered_at: datetime | None = attrs.field(validator=valid.optional_aware)
    ended_at: datetime = attrs.field(validator=valid.aware)
    direction: ContactDirection = attrs.field(
        default=ContactDirection.INBOUND, converter=_to_direction
    )
    abandoned: bool = attrs.field(default=False, validator=valid.flag)
    resolved_on_first_contact: bool | None = attrs.field(default=None, validator=_optional_flag)
    agent: str | None = attrs.field(default=None, validator=valid.optional(valid.not_blank))
    connected: bool | None = attrs.field(default=None, validator=_optional_flag)
    rings: int | None = attrs.field(default=None, validator=valid.optional(valid.count))
    project: bool | None = attrs.field(default=None, validator=_optional_flag)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        start = self.offered_at
        if self.answered_at is not None:
            if self.answered_at < self.offered_at:
                errors.append(("answered_at", "a call cannot be answered before it is offered"))
            start = self.answered_at
            if self.abandoned:
                errors.append(("abandoned", "an answered call was not abandoned"))
        elif self.resolved_on_first_contact:
            errors.append(("resolved_on_first_contact", "an unanswered call resolved nothing"))
        if self.ended_at < start:
            errors.append(("ended_at", "a call cannot end before it is offered or answered"))
        if self.direction is ContactDirection.INBOUND:
            for name in ("connected", "project"):
                if getattr(self, name) is not None:
                    errors.append((name, "only outbound calls record this"))
        elif self.connected and self.answered_at is None:
            errors.append(("connected", "an unanswered call did not connect"))
        if errors:
            raise ValidationError(errors)

    @property
    def is_connected(self) -> bool:
        """Inbound: answered by an agent; outbound: reached the intended customer."""
        if self.connected is not None:
            return self.connected
        return self.answered_at is not None

    @property
    def queue_time(self) -> timedelta | None:
        """Time in the queue (inbound): until answered, or until the caller gave up."""
        if self.direction is not ContactDirection.INBOUND:
            return None
        if self.answered_at is not None:
            return self.answered_at - self.offered_at
        if self.abandoned:
            return self.ended_at - self.offered_at
        return None

    @property
    def handling_time(self) -> timedelta | None:
        """From answer to end of handling; ``None`` for an unanswered call."""
        if self.answered_at is None:
            return None
        return self.ended_at - self.answered_at


@attrs.frozen
class KpiFigure:
    """One KPI: its value, its target band, and whether it passes.

    ``value`` is a fraction 0..1 for rates, seconds for times, a count for rings;
    ``None`` (and ``passed`` ``None``) when no record measured it. ``count`` is how many
    records the value is computed from.
    """

    kpi: ContactKpi
    group: KpiGroup
    value: float | None
    low: float | None
    high: float | None
    count: int
    unit: str

    @property
    def passed(self) -> bool | None:
        """Whether the value lies in the target band; ``None`` without data."""
        if self.value is None:
            return None
        if self.low is not None and self.value < self.low:
            return False
        return not (self.high is not None and self.value > self.high)


@attrs.frozen
class KpiReport:
    """Every contact-centre KPI of a set of records against the policy targets."""

    records: int
    figures: tuple[KpiFigure, ...]

    def __getitem__(self, kpi: ContactKpi | str) -> KpiFigure:
        wanted = valid.enum_value(ContactKpi, kpi, "kpi")
        for figure in self.figures:
            if figure.kpi is wanted:
                return figure
        raise ValidationError.at("kpi", f"{describe(wanted.value)} is not in the report")

    def __iter__(self) -> Iterator[KpiFigure]:
        return iter(self.figures)

    @property
    def failed(self) -> tuple[KpiFigure, ...]:
        """The figures that miss their target."""
        return tuple(f for f in self.figures if f.passed is False)

    @property
    def all_passed(self) -> bool:
        """Whether no measured figure misses its target."""
        return not self.failed

    def by_group(self) -> dict[KpiGroup, tuple[KpiFigure, ...]]:
        """The figures grouped as timeliness, effectiveness and conformity."""
        return {g: tuple(f for f in self.figures if f.group is g) for g in KpiGroup}


_COUNTERS = (
    "records",
    "inbound",
    "answered",
    "answered_within",
    "abandoned",
    "queued",
    "queue_us",
    "handled",
    "handle_us",
    "fcr_known",
    "fcr_yes",
    "outbound",
    "outbound_connected",
    "project_known",
    "project_yes",
    "rung",
    "rings",
)


class ContactStats:
    """One-pass, mergeable counters over :class:`ContactRecord` objects (docs/domain.md 3.3).

    Every counter is an integer (durations in microseconds), so merging partial
    accumulators gives exactly the figures of one pass over all records, in any order.
    """

    __slots__ = ("_policy", "_threshold_us", *_COUNTERS)

    def __init__(self, policy: ContactCentrePolicy | None = None) -> None:
        policy = ContactCentrePolicy() if policy is None else policy
        if not isinstance(policy, ContactCentrePolicy):
            raise ValidationError.at(
                "policy", f"expected a ContactCentrePolicy, got {describe(policy)}"
            )
        self._policy = policy
        self._threshold_us = _micros(policy.service_level_threshold)
        for name in _COUNTERS:
            setattr(self, name, 0)

    @property
    def policy(self) -> ContactCentrePolicy:
        """The policy whose targets the report uses."""
        return self._policy

    def counters(self) -> dict[str, int]:
        """The raw counters (for storage or inspection)."""
        return {name: getattr(self, name) for name in _COUNTERS}

    def add(self, record: ContactRecord) -> None:
        """Count one record."""
        if not isinstance(record, ContactRecord):
            raise ValidationError.at("record", f"expected a ContactRecord, got {describe(record)}")
        self.records += 1
        answered_at = record.answered_at
        if record.direction is ContactDirection.INBOUND:
            self.inbound += 1
            if answered_at is not None:
                wait = _micros(answered_at - record.offered_at)
                self.answered += 1
                if wait <= self._threshold_us:
                    self.answered_within += 1
                self.queued += 1
                self.queue_us += wait
                if record.rings is not None:
                    self.rung += 1
                    self.rings += record.rings
            elif record.abandoned:
                self.abandoned += 1
                self.queued += 1
                self.queue_us += _micros(record.ended_at - record.offered_at)
        else:
            self.outbound += 1
            if record.is_connected:
                self.outbound_connected += 1
            if record.project is not None:
                self.project_known += 1
                self.project_yes += record.project
        if answered_at is not None and record.direction is ContactDirection.INBOUND:
            self.handled += 1
            self.handle_us += _micros(record.ended_at - answered_at)
        if record.resolved_on_first_contact is not None:
            self.fcr_known += 1
            self.fcr_yes += record.resolved_on_first_contact

    def add_all(self, records: Iterable[ContactRecord]) -> ContactStats:
        """Count every record of an iterable; returns ``self``."""
        for record in _many(records, "records"):
            self.add(record)  # type: ignore[arg-type]
        return self

    def merge(self, other: ContactStats) -> ContactStats:
        """Add another accumulator's counters (in place) and return ``self``."""
        if not isinstance(other, ContactStats):
            raise ValidationError.at("other", f"expected ContactStats, got {describe(other)}")
        if other._policy != self._policy:
            raise ValidationError.at("other", "cannot merge counters under different policies")
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def report(self) -> KpiReport:
        """Each KPI with its target and pass/fail."""
        p = self._policy

        def ratio(part: int, whole: int) -> float | None:
            return None if whole == 0 else part / whole

        def seconds(total_us: int, n: int) -> float | None:
            return None if n == 0 else total_us / n / 1_000_000

        rows: tuple[tuple[ContactKpi, float | None, float | None, float | None, int, str], ...]
        rows = (
            (
                ContactKpi.SERVICE_LEVEL,
                ratio(self.answered_within, self.inbound),
                p.service_level_target,
                None,
                self.inbound,
                "ratio",
            ),
            (
                ContactKpi.AVERAGE_HANDLING_TIME,
                seconds(self.handle_us, self.handled),
                p.handling_time_min.total_seconds(),
                p.handling_time_max.total_seconds(),
                self.handled,
                "seconds",
            ),
            (
                ContactKpi.AVERAGE_QUEUE_TIME,
                seconds(self.queue_us, self.queued),
                None,
                p.queue_time_target.total_seconds(),
                self.queued,
                "seconds",
            ),
            (
                ContactKpi.FIRST_CONTACT_RESOLUTION,
                ratio(self.fcr_yes, self.fcr_known),
                p.first_contact_resolution_target,
                None,
                self.fcr_known,
                "ratio",
            ),
            (
                ContactKpi.INBOUND_CONNECTION_RATE,
                ratio(self.answered, self.inbound),
                p.inbound_connection_target,
                None,
                self.inbound,
                "ratio",
            ),
            (
                ContactKpi.OUTBOUND_CONNECTION_RATE,
                ratio(self.outbound_connected, self.outbound),
                p.outbound_connection_target,
                None,
                self.outbound,
                "ratio",
            ),
            (
                ContactKpi.OUTBOUND_PROJECT_SHARE,
                ratio(self.project_yes, self.project_known),
                p.outbound_project_share_target,
                None,
                self.project_known,
                "ratio",
            ),
            (
                ContactKpi.AVERAGE_RINGS,
                ratio(self.rings, self.rung),
                float(p.rings_min),
                float(p.rings_max),
                self.rung,
                "rings",
            ),
        )
        figures = tuple(
            KpiFigure(kpi, KPI_GROUPS[kpi], value, low, high, count, unit)
            for kpi, value, low, high, count, unit in rows
        )
        return KpiReport(records=self.records, figures=figures)

    # Counters are plain ints set in __init__; declared here for type checkers.
    records: int
    inbound: int
    answered: int
    answered_within: int
    abandoned: int
    queued: int
    queue_us: int
    handled: int
    handle_us: int
    fcr_known: int
    fcr_yes: int
    outbound: int
    outbound_connected: int
    project_known: int
    project_yes: int
    rung: int
    rings: int


def kpi_report(
    records: Iterable[ContactRecord], policy: ContactCentrePolicy | None = None
) -> KpiReport:
    """Contact-centre KPIs of ``records`` in one pass, against the policy targets."""
    return ContactStats(policy).add_all(records).report()


def kpi_reports_by_agent(
    records: Iterable[ContactRecord], policy: ContactCentrePolicy | None = None
) -> dict[str, KpiReport]:
    """One report per agent, in one pass; records without an agent are left out."""
    stats: dict[str, ContactStats] = {}
    for record in _many(records, "records"):
        if not isinstance(record, ContactRecord):
            raise ValidationError.at("records", f"expected a ContactRecord, got {describe(record)}")
        if record.agent is None:
            continue
        if record.agent not in stats:
            stats[record.agent] = ContactStats(policy)
        stats[record.agent].add(record)
    return {agent: s.report() for agent, s in sorted(stats.items())}


# -- staff performance and pay ---------------------------------------------------------


def _policy_decimal(_instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError.at(attribute.name, f"must be a Decimal >= 0, got {describe(value)}")


@attrs.frozen
class StaffPayPolicy:
    """Performance-pay rules with docs/domain.md 6's defaults.

    Base pay = last month's average x ``base_share`` (allowed 0.5-0.8; the default is
    the middle of that range); performance share = 1 - base share; KPI values are clamped
    to 0.5-5; when ``scheme_alarm_share`` (80 %) of staff score below ``standard_kpi`` (1)
    the KPI scheme itself is suspect.
    """

    base_share: Decimal = attrs.field(default=Decimal("0.65"), validator=_policy_decimal)
    base_share_min: Decimal = attrs.field(default=Decimal("0.5"), validator=_policy_decimal)
    base_share_max: Decimal = attrs.field(default=Decimal("0.8"), validator=_policy_decimal)
    kpi_min: Decimal = attrs.field(default=Decimal("0.5"), validator=_policy_decimal)
    kpi_max: Decimal = attrs.field(default=Decimal(5), validator=_policy_decimal)
    standard_kpi: Decimal = attrs.field(default=Decimal(1), validator=_policy_decimal)
    scheme_alarm_share: Decimal = attrs.field(default=Decimal("0.8"), validator=_policy_decimal)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.base_share_min <= self.base_share_max <= 1:
            errors.append(("base_share_max", "need base_share_min <= base_share_max <= 1"))
        elif not self.base_share_min <= self.base_share <= self.base_share_max:
            allowed = f"{self.base_share_min}..{self.base_share_max}"
            errors.append(("base_share", f"{self.base_share} is outside {allowed}"))
        if self.kpi_max < self.kpi_min:
            errors.append(("kpi_max", "must not be below kpi_min"))
        if self.scheme_alarm_share > 1:
            errors.append(("scheme_alarm_share", "must be a fraction 0..1"))
        if errors:
            raise ValidationError(errors)

    def check_base_share(self, share: Decimal) -> Decimal:
        """Return ``share`` if the policy allows it, else raise ValidationError."""
        value = _decimal(share, "base_share")
        if not self.base_share_min <= value <= self.base_share_max:
            allowed = f"{self.base_share_min}..{self.base_share_max}"
            raise ValidationError.at("base_share", f"{value} is outside {allowed}")
        return value


def _to_group(value: KpiGroup | str) -> KpiGroup:
    return valid.enum_value(KpiGroup, value, "group")


def _measure_value(_instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValidationError.at(attribute.name, f"must be a Decimal >= 0, got {describe(value)}")


@attrs.frozen
class KpiMeasure:
    """One scored KPI of a staff member, on the KPI scale where 1 is the standard."""

    name: str = attrs.field(validator=valid.not_blank)
    group: KpiGroup = attrs.field(converter=_to_group)
    value: Decimal = attrs.field(validator=_measure_value)
    weight: Decimal = attrs.field(default=Decimal(1), validator=_measure_value)


def _weighted_mean(measures: Iterable[KpiMeasure], path: str) -> Decimal:
    total = Decimal(0)
    weights = Decimal(0)
    for i, measure in enumerate(_many(measures, path)):
        if not isinstance(measure, KpiMeasure):
            raise ValidationError.at(
                f"{path}.{i}", f"expected a KpiMeasure, got {describe(measure)}"
            )
        total += measure.value * measure.weight
        weights += measure.weight
    if weights == 0:
        raise ValidationError.at(path, "needs at least one measure with a positive weight")
    return total / weights


def kpi_value(measures: Iterable[KpiMeasure]) -> Decimal:
    """A staff member's KPI value: the weighted mean of the measures (1 = standard)."""
    return _weighted_mean(measures, "measures")


def kpi_by_group(measures: Iterable[KpiMeasure]) -> dict[KpiGroup, Decimal]:
    """Weighted mean per group (timeliness, effectiveness, conformity) that has measures."""
    grouped: dict[KpiGroup, list[KpiMeasure]] = {}
    for i, measure in enumerate(_many(measures, "measures")):
        if not isinstance(measure, KpiMeasure):
            raise ValidationError.at(
                f"measures.{i}", f"expected a KpiMeasure, got {describe(measure)}"
            )
        grouped.setdefault(measure.group, []).append(measure)
    return {
        group: _weighted_mean(grouped[group], f"measures.{group.value}")
        for group in KpiGroup
        if group in grouped
    }


def _money(value: object, path: str) -> Money:
    if not isinstance(value, Money):
        raise ValidationError.at(path, f"expected Money, got {describe(value)}")
    return value


@attrs.frozen
class PayLine:
    """One staff member's pay, part by part (docs/domain.md 6).

    ``kpi_value`` is the score as given, ``applied_kpi`` the value used after clamping
    to the policy band; :attr:`clamped` says whether they differ.
    """

    staff_id: str
    last_month_average: Money
    base_share: Decimal
    base_pay: Money
    standard_performance_pay: Money
    kpi_value: Decimal
    applied_kpi: Decimal
    performance_pay: Money
    actual_pay: Money

    @property
    def clamped(self) -> bool:
        """Whether the KPI value was outside the policy band and clamped."""
        return self.kpi_value != self.applied_kpi


def staff_pay(
    staff_id: str,
    last_month_average: Money,
    kpi: Decimal | int | str,
    policy: StaffPayPolicy,
    *,
    base_share: Decimal | None = None,
) -> PayLine:
    """Actual pay = base pay + standard performance pay x KPI value (docs/domain.md 6).

    Base pay = last month's average x base share; the standard performance pay is the
    remainder (average x (1 - base share)), so base + standard = average exactly.
    """
    if not isinstance(staff_id, str) or not staff_id.strip():
        raise ValidationError.at(
            "staff_id", f"must be a non-empty string, got {describe(staff_id)}"
        )
    average = _money(last_month_average, "last_month_average")
    if not isinstance(policy, StaffPayPolicy):
        raise ValidationError.at(
            "policy", f"expected a StaffPayPolicy, got {type(policy).__name__}"
        )
    share = policy.base_share if base_share is None else policy.check_base_share(base_share)
    value = _decimal(kpi, "kpi_value")
    if value < 0:
        raise ValidationError.at("kpi_value", f"a KPI value cannot be negative, got {value}")
    applied = min(max(value, policy.kpi_min), policy.kpi_max)
    base = average * share
    standard = average - base
    performance = standard * applied
    return PayLine(
        staff_id=staff_id,
        last_month_average=average,
        base_share=share,
        base_pay=base,
        standard_performance_pay=standard,
        kpi_value=value,
        applied_kpi=applied,
        performance_pay=performance,
        actual_pay=base + performance,
    )


def _to_decimal_kpi(value: Decimal | int | str) -> Decimal:
    return _decimal(value, "kpi_value")


@attrs.frozen
class StaffScore:
    """Input for one pay line: who, last month's average pay, the KPI value."""

    staff_id: str = attrs.field(validator=valid.not_blank)
    last_month_average: Money = attrs.field(validator=valid.instance_of(Money))
    kpi_value: Decimal = attrs.field(converter=_to_decimal_kpi)
    base_share: Decimal | None = attrs.field(default=None, validator=valid.optional(valid.decimal))

    @classmethod
    def from_measures(
        cls,
        staff_id: str,
        last_month_average: Money,
        measures: Iterable[KpiMeasure],
        *,
        base_share: Decimal | None = None,
    ) -> StaffScore:
        """A score whose KPI value is the weighted mean of ``measures``."""
        return cls(staff_id, last_month_average, kpi_value(measures), base_share)


@attrs.frozen
class PayReport:
    """Pay lines of a team and the documents' check on the KPI scheme itself.

    docs/domain.md 6: if 80 % of staff score below 1, the KPI scheme is wrong, not the staff.
    """

    lines: tuple[PayLine, ...]
    below_standard: int
    scheme_alarm_share: Decimal

    @property
    def below_standard_share(self) -> Decimal | None:
        """Fraction of staff whose KPI value is below the standard."""
        if not self.lines:
            return None
        return Decimal(self.below_standard) / Decimal(len(self.lines))

    @property
    def scheme_suspect(self) -> bool:
        """Whether so many staff score below standard that the scheme needs review."""
        share = self.below_standard_share
        return share is not None and share >= self.scheme_alarm_share

    def total(self) -> Money | None:
        """Total actual pay (one currency), ``None`` for an empty report."""
        if not self.lines:
            return None
        currency = self.lines[0].actual_pay.currency
        return Money.total((line.actual_pay for line in self.lines), currency)


def pay_report(scores: Iterable[StaffScore], policy: StaffPayPolicy) -> PayReport:
    """Pay every staff member and check the KPI scheme (docs/domain.md 6), in one pass."""
    lines: list[PayLine] = []
    below = 0
    seen: set[str] = set()
    if not isinstance(policy, StaffPayPolicy):
        raise ValidationError.at(
            "policy", f"expected a StaffPayPolicy, got {type(policy).__name__}"
        )
    for i, score in enumerate(_many(scores, "scores")):
        if not isinstance(score, StaffScore):
            raise ValidationError.at(f"scores.{i}", f"expected a StaffScore, got {describe(score)}")
        if score.staff_id in seen:
            raise ValidationError.at(
                f"scores.{i}.staff_id", f"{describe(score.staff_id)} appears twice"
            )
        seen.add(score.staff_id)
        try:
            line = staff_pay(
                score.staff_id,
                score.last_month_average,
                score.kpi_value,
                policy,
                base_share=score.base_share,
            )
        except ValidationError as err:
            raise err.prefixed(f"scores.{i}") from None
        below += line.kpi_value < policy.standard_kpi
        lines.append(line)
    return PayReport(tuple(lines), below, policy.scheme_alarm_share)


# -- order KPIs (订单KPI) -------------------------------------------------------------------

_RETURNED = frozenset({ReturnStatus.RECEIVED, ReturnStatus.CLOSED})


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@attrs.frozen
class OrderKpis:
    """The order KPIs of one period ``start <= t < end`` (订单KPI, docs/domain.md 2).

    Counts, with each rate as a property (``None`` when there is nothing to divide by):

    - ``placed`` orders placed in the period, ``valid_orders`` those confirmed at some point
      (有效订单): :attr:`valid_order_rate`;
    - ``shipped`` orders shipped in the period; of those, ``returned`` had goods come back
      and ``refused`` were refused on delivery (a return with the reason
      ``refused_on_delivery``): :attr:`return_rate`, :attr:`refusal_rate`;
    - ``due`` shipped orders delivered or past their promised date by ``end``, ``on_time``
      those delivered by the promised date (every shipment is complete):
      :attr:`service_level`;
    - ``counted_lines`` buckets counted in the period's stock-takes, ``accurate_lines``
      those that agreed with the books: :attr:`stock_accuracy`; ``stock_takes`` counts
      and ``adjusted`` those whose differences were booked (manual adjustments):
      :attr:`manual_adjustment_rate`;
    - ``units_on_hand`` good and gift units of the stock given, ``units_shipped`` units
      shipped in the period: :attr:`stock_days`.
    """

    start: datetime = attrs.field(validator=valid.aware)
    end: datetime = attrs.field(validator=valid.aware)
    placed: int = attrs.field(validator=valid.count)
    valid_orders: int = attrs.field(validator=valid.count)
    shipped: int = attrs.field(validator=valid.count)
    returned: int = attrs.field(validator=valid.count)
    refused: int = attrs.field(validator=valid.count)
    due: int = attrs.field(validator=valid.count)
    on_time: int = attrs.field(validator=valid.count)
    counted_lines: int = attrs.field(validator=valid.count)
    accurate_lines: int = attrs.field(validator=valid.count)
    stock_takes: int = attrs.field(validator=valid.count)
    adjusted: int = attrs.field(validator=valid.count)
    units_on_hand: int = attrs.field(validator=valid.count)
    units_shipped: int = attrs.field(validator=valid.count)

    @property
    def days(self) -> float:
        """The length of the period in days."""
        return (self.end - self.start) / timedelta(days=1)

    @property
    def valid_order_rate(self) -> float | None:
        """Valid orders over orders placed."""
        return _share(self.valid_orders, self.placed)

    @property
    def return_rate(self) -> float | None:
        """Shipped orders with goods returned over shipped orders."""
        return _share(self.returned, self.shipped)

    @property
    def refusal_rate(self) -> float | None:
        """Shipped orders refused on delivery over shipped orders."""
        return _share(self.refused, self.shipped)

    @property
    def service_level(self) -> float | None:
        """Orders shipped complete and delivered on time over those due."""
        return _share(self.on_time, self.due)

    @property
    def stock_accuracy(self) -> float | None:
        """Counted buckets that agreed with the books over counted buckets."""
        return _share(self.accurate_lines, self.counted_lines)

    @property
    def manual_adjustment_rate(self) -> float | None:
        """Stock-takes whose differences were booked over stock-takes."""
        return _share(self.adjusted, self.stock_takes)

    @property
    def stock_days(self) -> float | None:
        """Days the stock on hand lasts at the period's rate of shipment."""
        if self.units_shipped == 0 or self.days <= 0:
            return None
        return self.units_on_hand / (self.units_shipped / self.days)


def _confirmed(order: Order) -> bool:
    return any(change.to == OrderStatus.CONFIRMED.value for change in order.history)


def order_kpis(
    orders: Iterable[Order],
    returns: Iterable[ReturnRequest],
    stocks: Iterable[Stock],
    *,
    start: datetime,
    end: datetime,
) -> OrderKpis:
    """The order KPIs of ``start <= t < end`` (订单KPI: valid orders, returns and refusals,
    stock accuracy, service level, stock days, manual adjustments; docs/domain.md 2).

    Each input is read once; see :class:`OrderKpis` for what each figure counts. An order
    is on time when it was delivered on or before its promised latest date
    (:meth:`~csdomain.orders.Order.is_late`); one not yet delivered counts as due, and
    late, once that date is before the day of ``end``.
    """
    begin = require_aware(start, "start")
    finish = require_aware(end, "end")
    if finish <= begin:
        raise ValidationError.at("end", "must be after start")
    placed = valid_orders = shipped = due = on_time = units_shipped = 0
    shipped_ids: set[str] = set()
    for order in orders:
        if begin <= order.placed_at < finish:
            placed += 1
            valid_orders += int(_confirmed(order))
        shipment = order.shipments[-1] if order.shipments else None
        if shipment is None or not begin <= shipment.at < finish:
            continue
        shipped += 1
        shipped_ids.add(order.id)
        units_shipped += sum(line.quantity for line in shipment.lines)
        if order.expected_delivery is None:
            continue
        late = order.is_late(finish.date())
        if order.delivered_at is not None or late:
            due += 1
            on_time += int(not late)
    returned: set[str] = set()
    refused: set[str] = set()
    for request in returns:
        if request.order_id in shipped_ids and request.status in _RETURNED:
            if ReturnReason.REFUSED_ON_DELIVERY in request.reasons:
                refused.add(request.order_id)
            else:
                returned.add(request.order_id)
    counted_lines = accurate_lines = stock_takes = adjusted = units_on_hand = 0
    for stock in stocks:
        units_on_hand += stock.on_hand(StockBucket.GOOD) + stock.on_hand(StockBucket.GIFT)
        for stock_count in stock.counts:
            if not begin <= stock_count.at < finish:
                continue
            stock_takes += 1
            adjusted += int(stock_count.status is CountStatus.APPROVED)
            counted_lines += len(stock_count.lines)
            accurate_lines += sum(1 for line in stock_count.lines if not line.difference)
    return OrderKpis(
        start=begin,
        end=finish,
        placed=placed,
        valid_orders=valid_orders,
        shipped=shipped,
        returned=len(returned),
        refused=len(refused),
        due=due,
        on_time=on_time,
        counted_lines=counted_lines,
        accurate_lines=accurate_lines,
        stock_takes=stock_takes,
        adjusted=adjusted,
        units_on_hand=units_on_hand,
        units_shipped=units_shipped,
    )
