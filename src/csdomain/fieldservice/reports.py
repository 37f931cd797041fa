"""Reports of the work: the technician's daily report and the service KPIs.

:func:`technician_daily_report` is the technician daily report of the handbook's forms
(jobs, hours, parts, collections); :class:`ServiceKpiAccumulator` streams jobs into the
service KPIs: open jobs by technician and area, first-time-fix rate, on-site-within-
promise rate, mean time to repair, repeat visits, failure rate by model (故障率分析) and
out-of-warranty service revenue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from csdomain.fieldservice.charges import Coverage
from csdomain.fieldservice.classification import ServiceOrderKind
from csdomain.fieldservice.order import OPEN_SERVICE_STATUSES, ServiceOrder, ServiceOrderStatus
from csdomain.money import Money
from csdomain.validators import as_dict, as_tuple, count, instance_of, not_blank, tuple_of


__all__ = [
    "DayJob",
    "ServiceKpiAccumulator",
    "ServiceKpis",
    "TechnicianDayReport",
    "technician_daily_report",
]


@attrs.frozen(kw_only=True)
class DayJob:
    """One job of a technician's day, in the order of its visit window."""

    job_id: str = attrs.field(validator=not_blank)
    kind: ServiceOrderKind
    status: ServiceOrderStatus
    customer_id: str
    address: str
    window_start: datetime | None
    window_end: datetime | None
    visits: int = attrs.field(validator=count)
    fixed: bool


@attrs.frozen(kw_only=True)
class TechnicianDayReport:
    """The technician daily report (技术员日报): the day's jobs, hours, parts, collections."""

    technician_id: str = attrs.field(validator=not_blank)
    day: date
    jobs: tuple[DayJob, ...] = attrs.field(converter=as_tuple, validator=tuple_of(DayJob))
    labour_minutes: int = attrs.field(validator=count)
    parts: Mapping[str, int] = attrs.field(converter=as_dict)
    collected: Money = attrs.field(validator=instance_of(Money))

    @property
    def hours(self) -> float:
        """The labour time in hours."""
        return self.labour_minutes / 60


def technician_daily_report(
    technician_id: str,
    day: date,
    orders: Iterable[ServiceOrder],
    *,
    tz: str,
    currency: str,
) -> TechnicianDayReport:
    """The daily report of ``technician_id`` for the local ``day`` (in time zone ``tz``).

    A job belongs to the day when its visit window starts on it or one of the
    technician's visits was made on it; labour and parts count the technician's visits
    of that day; collections the cash the technician collected at settlements of that day.
    """
    zone = ZoneInfo(tz)

    def on_day(moment: datetime | None) -> bool:
        return moment is not None and moment.astimezone(zone).date() == day

    jobs: list[DayJob] = []
    minutes = 0
    parts: Counter[str] = Counter()
    collected = Money.zero(currency)
    for order in orders:
        window = order.visit_window
        visits = [
            v for v in order.visits if v.technician_id == technician_id and on_day(v.arrived_at)
        ]
        booked = order.technician_id == technician_id and window is not None and on_day(window[0])
        if visits or booked:
            jobs.append(
                DayJob(
                    job_id=order.id,
                    kind=order.kind,
                    status=order.status,
                    customer_id=order.customer_id,
                    address=order.address,
                    window_start=None if window is None else window[0],
                    window_end=None if window is None else window[1],
                    visits=len(visits),
                    fixed=order.fixed_at is not None and on_day(order.fixed_at),
                )
            )
        for visit in visits:
            minutes += visit.labour_minutes
            for use in visit.parts:
                parts[use.part_number] += use.quantity
        settlement = order.settlement
        if (
            settlement is not None
            and settlement.collected_by == technician_id
            and on_day(settlement.at)
            and settlement.collected.currency == currency
        ):
            collected += settlement.collected
    jobs.sort(key=lambda job: (job.window_start is None, job.window_start, job.job_id))
    return TechnicianDayReport(
        technician_id=technician_id,
        day=day,
        jobs=jobs,
        labour_minutes=minutes,
        parts=dict(sorted(parts.items())),
        collected=collected,
    )


@attrs.frozen(kw_only=True)
class ServiceKpis:
    """The service KPIs over some jobs (rates are ``None`` when nothing was measured).

    ``failure_rate_by_model`` is the repairs received in the period per unit of the
    installed base (``repairs_by_model[m] / installed_by_model[m]``), kept only for the
    models with units installed; ``installed_by_model`` is the divisor, so the rate can be
    read with what it was computed from (empty in KPIs kept before it existed).
    """

    jobs: int
    open_by_technician: Mapping[str, int]
    open_by_area: Mapping[str, int]
    first_time_fix_rate: float | None
    on_site_within_promise_rate: float | None
    mean_time_to_repair: timedelta | None
    repeat_visits: int
    repairs_by_model: Mapping[str, int]
    failure_rate_by_model: Mapping[str, float]
    out_of_warranty_revenue: Money
    installed_by_model: Mapping[str, int] = attrs.field(factory=dict, converter=as_dict)


class ServiceKpiAccumulator:
    """Streams jobs into :class:`ServiceKpis`, with memory bounded by products and staff.

    ``repeat_days``: a repair received within that many days of an earlier job's fix on
    the same product is a repeat visit (feed jobs in order of receipt).
    """

    def __init__(self, *, currency: str, repeat_days: int) -> None:
        self.currency = currency
        self.repeat_days = repeat_days
        self._jobs = 0
        self._open_tech: Counter[str] = Counter()
        self._open_area: Counter[str] = Counter()
        self._fixed = 0
        self._first_time = 0
        self._arrived = 0
        self._on_time = 0
        self._repair_time = timedelta(0)
        self._repeats = 0
        self._last_fix: dict[str, datetime] = {}
        self._repairs_by_model: Counter[str] = Counter()
        self._revenue = Money.zero(currency)

    def add(self, order: ServiceOrder) -> None:
        """Count one job."""
        self._jobs += 1
        if order.status in OPEN_SERVICE_STATUSES:
            self._open_area[order.service_area_id] += 1
            if order.technician_id is not None:
                self._open_tech[order.technician_id] += 1
        if order.fixed_at is not None:
            self._fixed += 1
            self._first_time += order.first_time_fix
            self._repair_time += order.fixed_at - order.received_at
        if order.arrived_at is not None:
            self._arrived += 1
            self._on_time += order.arrived_at <= order.on_site_by
        if order.kind in (ServiceOrderKind.REPAIR, ServiceOrderKind.RETURN_TO_FACTORY):
            self._repairs_by_model[order.model] += 1
            last = self._last_fix.get(order.product_serial)
            if last is not None and order.received_at - last <= timedelta(days=self.repeat_days):
                self._repeats += 1
        if order.fixed_at is not None:
            self._last_fix[order.product_serial] = order.fixed_at
        settlement = order.settlement
        if (
            settlement is not None
            and settlement.coverage is Coverage.CUSTOMER
            and settlement.total.currency == self.currency
        ):
            self._revenue += settlement.total

    def result(self, installed_by_model: Mapping[str, int] | None = None) -> ServiceKpis:
        """The KPIs so far; ``installed_by_model`` (units per model in the installed base)
        gives the failure rate by model: repairs per installed unit, and is kept in the
        KPIs (the models with at least one unit) as the rate's divisor."""
        installed = {
            model: units for model, units in sorted((installed_by_model or {}).items()) if units
        }
        rates = {
            model: repairs / installed[model]
            for model, repairs in sorted(self._repairs_by_model.items())
            if installed.get(model)
        }
        return ServiceKpis(
            jobs=self._jobs,
            open_by_technician=dict(sorted(self._open_tech.items())),
            open_by_area=dict(sorted(self._open_area.items())),
            first_time_fix_rate=self._first_time / self._fixed if self._fixed else None,
            on_site_within_promise_rate=self._on_time / self._arrived if self._arrived else None,
            mean_time_to_repair=self._repair_time / self._fixed if self._fixed else None,
            repeat_visits=self._repeats,
            repairs_by_model=dict(sorted(self._repairs_by_model.items())),
            failure_rate_by_model=rates,
            out_of_warranty_revenue=self._revenue,
            installed_by_model=installed,
        )
