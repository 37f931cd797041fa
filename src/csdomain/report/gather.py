"""Gathering the operations report from the service desk and read-only store queries."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdomain.auth import Actor, Permission
from csdomain.clock import require_aware, utc
from csdomain.complaints import (
    OPEN_STATUSES,
    ComplaintStatus,
    SlaKind,
    SlaOutcome,
)
from csdomain.complaints.sla import resolution_missed, target_missed
from csdomain.errors import ValidationError
from csdomain.i18n import N_
from csdomain.kinds import (
    COMPLAINTS,
    ORDERS,
    RETURNS,
    STOCKS,
    SURVEY_RESPONSES,
    SURVEYS,
    WARRANTY_CLAIMS,
)
from csdomain.kpi import ContactKpi, KpiReport, OrderKpis, order_kpis
from csdomain.lifecycle import last_entered
from csdomain.orders import OrderKind, OrderStatus
from csdomain.report.model import (
    TAMPERING_SIGNALS,
    AwaitingPayment,
    ClaimRateData,
    EscalatedComplaint,
    Headline,
    MissingFollowUp,
    MonthTrend,
    OperationsReport,
    SatisfactionFigures,
    SatisfactionMonth,
    SlaCompliance,
    SuspectClaim,
    parse_month,
)
from csdomain.report.trend import ComplaintTimeline, MonthWindow, month_windows
from csdomain.satisfaction import Interval, SurveyStats
from csdomain.service import ServiceDesk
from csdomain.store import UnitOfWork
from csdomain.warranty import OutlierFlag, WarrantyClaimStatus


__all__ = ["TRAILING_MONTHS", "gather_report", "nps_interval"]

_AWAITING_PAYMENT = (OrderStatus.CONFIRMED, OrderStatus.PRODUCED)
#: How many months the time axis covers at most (fewer when the store holds less).
TRAILING_MONTHS = 12


def nps_interval(
    promoters: int, passives: int, detractors: int, z: float = 1.959963984540054
) -> Interval | None:
    """Normal-approximation confidence interval of NPS on -100..100.

    NPS = 100 (p - d) with p, d the promoter and detractor shares of n answers; its
    variance is (p + d - (p - d)^2) / n. ``None`` below two answers.
    """
    for name, count in (
        ("promoters", promoters),
        ("passives", passives),
        ("detractors", detractors),
    ):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError.at(name, f"must be a whole number >= 0, got {count!r}")
    n = promoters + passives + detractors
    if n < 2:
        return None
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    half = 100 * z * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)
    return Interval(max(-100.0, score - half), min(100.0, score + half))


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at("policy.orders.number_tz", f"unknown time zone {tz!r}") from None


def _latest_order_month(desk: ServiceDesk, zone: ZoneInfo) -> tuple[int, int] | None:
    latest = desk.run(
        lambda uow: uow.repo(ORDERS).find(order_by="-placed_at", limit=1), readonly=True
    )
    if not latest:
        return None
    local = latest[0].placed_at.astimezone(zone)
    return local.year, local.month


def _awaiting_payment(uow: UnitOfWork) -> list[AwaitingPayment]:
    found: list[AwaitingPayment] = []
    for order in uow.repo(ORDERS).scan(status__in=list(_AWAITING_PAYMENT)):
        if order.is_paid_in_full:
            continue
        if order.status is OrderStatus.PRODUCED:
            waiting_for, due = "balance", order.balance
        elif order.kind is OrderKind.CUSTOM and order.prepayment is not None:
            waiting_for = "prepayment"
            due = order.prepayment - order.prepayment.min(order.paid)
        else:
            waiting_for, due = "payment", order.balance
        found.append(
            AwaitingPayment(
                order_id=order.id,
                customer_id=order.customer_id,
                kind=order.kind,
                status=order.status,
                placed_at=order.placed_at,
                waiting_for=waiting_for,
                total=order.total,
                paid=order.paid,
                due=due,
            )
        )
    found.sort(key=lambda row: (row.placed_at, row.order_id))
    return found


#: What ``_sla_compliance`` reads of each complaint (``Repository.scan_fields``).
_SLA_FIELDS = (
    "respond_by",
    "first_response_at",
    "resolve_by",
    "status",
    "sla_outcome",
    "history.to",
    "history.at",
)
_ON_HOLD = ComplaintStatus.ON_HOLD.value
_RESOLVED = ComplaintStatus.RESOLVED.value


def _sla_compliance(
    uow: UnitOfWork, start: datetime, end: datetime, at: datetime
) -> list[SlaCompliance]:
    """How the complaints received in ``[start, end)`` stand against their two targets as
    of ``at``: :func:`~csdomain.complaints.sla_breaches` judged from the few fields it
    reads (the same rules, :func:`~csdomain.complaints.target_missed` and
    :func:`~csdomain.complaints.sla.resolution_missed`), not whole complaints."""
    counts = {
        kind: dict.fromkeys(("met", "late", "overdue", "pending", "na"), 0) for kind in SlaKind
    }
    respond, resolve = counts[SlaKind.RESPOND], counts[SlaKind.RESOLVE]
    moment = utc(at)
    rows = uow.repo(COMPLAINTS).scan_fields(_SLA_FIELDS, received_at__ge=start, received_at__lt=end)
    for respond_by, answered, resolve_by, status, outcome, moves, moments in rows:
        if target_missed(respond_by, answered, moment):
            respond["late" if answered else "overdue"] += 1
        elif answered is not None:
            respond["met"] += 1
        else:
            respond["pending"] += 1
        is_open = status in OPEN_STATUSES
        held = last_entered(_ON_HOLD, moves, moments) if status is ComplaintStatus.ON_HOLD else None
        if resolution_missed(
            is_open=is_open, held_since=held, resolve_by=resolve_by, outcome=outcome, at=moment
        ):
            late = not is_open and last_entered(_RESOLVED, moves, moments) is not None
            resolve["late" if late else "overdue"] += 1
        elif outcome is SlaOutcome.MET:
            resolve["met"] += 1
        elif is_open:
            resolve["pending"] += 1
        else:
            resolve["na"] += 1
    return [
        SlaCompliance(kind, c["met"], c["late"], c["overdue"], c["pending"], c["na"])
        for kind, c in counts.items()
    ]


#: What ``_escalated`` reads of each escalated complaint.
_ESCALATED_FIELDS = (
    "id",
    "customer_id",
    "category",
    "urgency",
    "status",
    "escalation_level",
    "owner_role",
    "received_at",
    "escalations.at",
    "escalations.reason",
)


def _escalated(uow: UnitOfWork) -> list[EscalatedComplaint]:
    found: list[EscalatedComplaint] = []
    rows = uow.repo(COMPLAINTS).scan_fields(
        _ESCALATED_FIELDS, escalation_level__gt=1, status__in=sorted(OPEN_STATUSES)
    )
    for key, customer, category, urgency, status, level, role, received, moments, reasons in rows:
        found.append(
            EscalatedComplaint(
                complaint_id=key,
                customer_id=customer,
                category=category,
                urgency=urgency,
                status=status,
                level=level,
                owner_role=role,
                received_at=received,
                escalated_at=moments[-1] if moments else None,
                reason=reasons[-1] if reasons else None,
                first_escalated_at=moments[0] if moments else None,
                steps=len(moments),
            )
        )
    found.sort(key=lambda row: (-row.level, row.received_at, row.complaint_id))
    return found


def _suspect_claims(uow: UnitOfWork, start: datetime, end: datetime) -> list[SuspectClaim]:
    found: list[SuspectClaim] = []
    repo = uow.repo(WARRANTY_CLAIMS)
    for case in repo.scan(status__ne=WarrantyClaimStatus.SUBMITTED):
        decided = case.decided_at
        override = case.manual_override
        moment = override.at if override is not None else decided
        if case.decision is None or moment is None or not start <= moment < end:
            continue
        codes = set(case.decision.reason_codes)
        signals = [code for code in TAMPERING_SIGNALS if code in codes]
        if override is not None:
            signals.append("manual_override")
        if signals:
            found.append(
                SuspectClaim(
                    claim_id=case.id,
                    customer_id=case.customer_id,
                    product_serial=case.claim.product_serial,
                    status=case.status,
                    decided_at=moment,
                    signals=tuple(signals),
                )
            )
    found.sort(key=lambda row: (row.decided_at, row.claim_id))
    return found


def _satisfaction(
    desk: ServiceDesk, uow: UnitOfWork, start: datetime, end: datetime
) -> list[SatisfactionFigures]:
    policy = desk.policy.satisfaction
    stats: dict[str, SurveyStats] = {}
    titles: dict[str, str] = {}
    surveys = uow.repo(SURVEYS)
    for response in uow.repo(SURVEY_RESPONSES).scan(answered_at__ge=start, answered_at__lt=end):
        accumulator = stats.get(response.survey_id)
        if accumulator is None:
            survey = surveys.get_or_none(response.survey_id)
            if survey is None:
                continue
            accumulator = stats[survey.id] = SurveyStats(survey, policy)
            titles[survey.id] = survey.title
        accumulator.add(response)
    figures: list[SatisfactionFigures] = []
    for survey_id in sorted(stats):
        result = stats[survey_id].result()
        interval = nps_interval(
            result.promoters, result.passives, result.detractors, policy.confidence_z
        )
        figures.append(SatisfactionFigures(survey_id, titles[survey_id], result, interval))
    return figures


def _earliest_month(uow: UnitOfWork, zone: ZoneInfo) -> tuple[int, int] | None:
    """The first month the store holds an order or a complaint in."""
    moments = [
        found[0].placed_at
        for found in [uow.repo(ORDERS).find(order_by="placed_at", limit=1)]
        if found
    ] + [
        found[0].received_at
        for found in [uow.repo(COMPLAINTS).find(order_by="received_at", limit=1)]
        if found
    ]
    if not moments:
        return None
    local = min(moments).astimezone(zone)
    return local.year, local.month


def _axis(uow: UnitOfWork, year: int, number: int, zone: ZoneInfo) -> list[MonthWindow]:
    """The trailing months up to ``year-number``: twelve, or from the store's first month."""
    first = _earliest_month(uow, zone)
    count = TRAILING_MONTHS
    if first is not None:
        span = (year * 12 + number) - (first[0] * 12 + first[1]) + 1
        count = max(1, min(TRAILING_MONTHS, span))
    else:
        count = 1
    return [
        (label, start.astimezone(UTC), end.astimezone(UTC))
        for label, start, end in month_windows(year, number, zone, count)
    ]


def _satisfaction_trend(
    desk: ServiceDesk, uow: UnitOfWork, axis: list[MonthWindow]
) -> list[SatisfactionMonth]:
    """CSAT and NPS with their intervals per survey and month of the axis."""
    policy = desk.policy.satisfaction
    stats: dict[tuple[str, str], SurveyStats] = {}
    surveys = uow.repo(SURVEYS)
    known: dict[str, object] = {}
    start, end = axis[0][1], axis[-1][2]
    for response in uow.repo(SURVEY_RESPONSES).scan(answered_at__ge=start, answered_at__lt=end):
        month = next(label for label, low, high in axis if low <= response.answered_at < high)
        key = (month, response.survey_id)
        accumulator = stats.get(key)
        if accumulator is None:
            survey = known.get(response.survey_id)
            if survey is None:
                survey = known[response.survey_id] = surveys.get_or_none(response.survey_id)
            if survey is None:
                continue
            accumulator = stats[key] = SurveyStats(survey, policy)  # type: ignore[arg-type]
        accumulator.add(response)
    found: list[SatisfactionMonth] = []
    for month, survey_id in sorted(stats):
        result = stats[month, survey_id].result()
        interval = nps_interval(
            result.promoters, result.passives, result.detractors, policy.confidence_z
        )
        found.append(
            SatisfactionMonth(
                month,
                survey_id,
                result.responses,
                result.csat,
                result.csat_interval,
                result.nps,
                interval,
            )
        )
    return found


def _order_kpis(uow: UnitOfWork, windows: list[MonthWindow]) -> list[OrderKpis]:
    """The order KPIs (订单KPI, docs/domain.md 2) of each window from one pass over orders.

    The same computation as ``ServiceDesk.order_kpis`` (:func:`csdomain.kpi.order_kpis`),
    given only the orders placed or last shipped within the windows, so that the store is
    read once for the month and the month before.
    """
    low, high = windows[0][1], windows[-1][2]
    repo = uow.repo(ORDERS)
    # The orders placed in the windows come whole from the placed_at index; of the others,
    # only the key and the shipments' moments are read to find those last shipped within.
    orders = list(repo.scan(placed_at__ge=low, placed_at__lt=high))
    outside = [
        key
        for key, placed, shipped in repo.scan_fields(("id", "placed_at", "shipments.at"))
        if not low <= placed < high and shipped and low <= shipped[-1] < high
    ]
    if outside:
        orders.extend(repo.get(key) for key in outside)
        orders.sort(key=ORDERS.key)
    returns = list(uow.repo(RETURNS).scan())
    stocks = list(uow.repo(STOCKS).scan())
    return [order_kpis(orders, returns, stocks, start=a, end=b) for _, a, b in windows]


_DirectReads = tuple[
    list[AwaitingPayment],
    list[SlaCompliance],
    list[EscalatedComplaint],
    list[SuspectClaim],
    list[SatisfactionFigures],
    list[MonthWindow],
    ComplaintTimeline,
    list[int],
    list[SatisfactionMonth],
    list[OrderKpis],
]


def _service_level(report: KpiReport | None) -> float | None:
    if report is None:
        return None
    figure = next((f for f in report.figures if f.kpi is ContactKpi.SERVICE_LEVEL), None)
    return None if figure is None else figure.value


_Pair = tuple[float | None, float | None]

_TREND_HEADLINES: tuple[tuple[str, str, str], ...] = (
    ("orders_placed", N_("orders placed"), "count"),
    ("complaints_received", N_("complaints received"), "count"),
    ("complaints_closed", N_("complaints closed"), "count"),
    ("backlog", N_("complaints open at month end"), "count"),
    ("respond_on_time", N_("responded on time"), "ratio"),
    ("resolve_on_time", N_("resolved on time"), "ratio"),
    ("escalations", N_("escalation steps"), "count"),
)


def _headlines(
    trend: tuple[MonthTrend, ...],
    satisfaction: list[SatisfactionMonth],
    others: list[tuple[str, str, _Pair]],
) -> tuple[Headline, ...]:
    """The month's headline figures beside the month before (``None`` where it has none).

    The first figures come from the last two months of ``trend``, CSAT and NPS from the
    survey with the most responses in the month (then on the whole axis); ``others`` are
    ratios given as pairs.
    """
    now = trend[-1]
    before = trend[-2] if len(trend) > 1 else None
    figures = [
        Headline(
            key,
            label,
            getattr(now, key),
            None if before is None else getattr(before, key),
            unit,
        )
        for key, label, unit in _TREND_HEADLINES
    ]
    totals: dict[str, int] = {}
    for month in satisfaction:
        totals[month.survey_id] = totals.get(month.survey_id, 0) + month.responses
    this_month = {s.survey_id: s.responses for s in satisfaction if s.month == now.month}
    main = max(sorted(totals), key=lambda sid: (this_month.get(sid, 0), totals[sid]), default=None)
    survey = {s.month: s for s in satisfaction if s.survey_id == main}
    current = survey.get(now.month)
    earlier = None if before is None else survey.get(before.month)
    for key, label in (("csat", N_("CSAT %")), ("nps", N_("NPS"))):
        figures.append(
            Headline(
                key,
                label,
                None if current is None else getattr(current, key),
                None if earlier is None else getattr(earlier, key),
                "score",
            )
        )
    figures += [Headline(key, label, v, p, "ratio") for key, label, (v, p) in others]
    return tuple(figures)


def gather_report(
    desk: ServiceDesk,
    *,
    by: Actor,
    month: str | None = None,
    as_of: datetime | None = None,
    claim_rates: ClaimRateData | None = None,
) -> OperationsReport:
    """The operations review of ``month`` (``"YYYY-MM"``) as of ``as_of``.

    ``month`` defaults to the month of the latest order in the store (the current month
    when there is none); ``as_of`` to the desk's clock. ``by`` needs ``report.view`` and
    ``complaint.handle`` (:data:`REPORT_ACTOR` has both). Service points' figures for the
    claim-rate check (docs/domain.md 4, 质量赔偿风险控制) come in ``claim_rates``. Every read is a
    read-only unit of work; an empty store gives an empty report.
    """
    desk.require(by, Permission.VIEW_REPORTS)
    desk.require(by, Permission.HANDLE_COMPLAINT)
    moment = (desk.now() if as_of is None else require_aware(as_of, "as_of")).astimezone(UTC)
    tz = desk.policy.orders.number_tz
    zone = _zone(tz)
    if month is None:
        year, number = _latest_order_month(desk, zone) or (
            moment.astimezone(zone).year,
            moment.astimezone(zone).month,
        )
    else:
        year, number = parse_month(month)
    if claim_rates is not None and not isinstance(claim_rates, ClaimRateData):
        raise ValidationError.at("claim_rates", "expected ClaimRateData")
    label = f"{year:04d}-{number:02d}"
    start = datetime(year, number, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone).astimezone(UTC)

    def period_reads(uow: UnitOfWork) -> _DirectReads:
        axis = _axis(uow, year, number, zone)
        timeline = ComplaintTimeline(axis, moment, zone)
        for complaint in uow.repo(COMPLAINTS).scan():
            timeline.add(complaint)
        orders = [
            uow.repo(ORDERS).count(placed_at__ge=low, placed_at__lt=high) for _, low, high in axis
        ]
        return (
            _awaiting_payment(uow),
            _sla_compliance(uow, start, end, moment),
            _escalated(uow),
            _suspect_claims(uow, start, end),
            _satisfaction(desk, uow, start, end),
            axis,
            timeline,
            orders,
            _satisfaction_trend(desk, uow, axis),
            _order_kpis(uow, axis[-2:]),
        )

    reads = desk.run(period_reads, readonly=True)
    payment, sla, escalated, suspects, satisfaction, axis, timeline, orders = reads[:8]
    trend_sat, ok = reads[8], reads[9]
    trend = timeline.trend(orders)
    earlier = axis[-2] if len(axis) > 1 else None
    kpis = desk.kpi_report(start, end, by=by)
    kpis_before = None if earlier is None else desk.kpi_report(earlier[1], earlier[2], by=by)
    month_orders = ok[-1]
    order_before = ok[0] if len(ok) > 1 else None
    service_kpis = desk.service_kpis(start=start, end=end, by=by)
    service_before = None
    if earlier is not None:
        service_before = desk.service_kpis(start=earlier[1], end=earlier[2], by=by)
    others: list[tuple[str, str, _Pair]] = [
        (
            "service_level",
            N_("call service level"),
            (_service_level(kpis), _service_level(kpis_before)),
        ),
        (
            "valid_order_rate",
            N_("valid orders"),
            (
                month_orders.valid_order_rate,
                None if order_before is None else order_before.valid_order_rate,
            ),
        ),
        (
            "order_service_level",
            N_("orders complete and on time"),
            (
                month_orders.service_level,
                None if order_before is None else order_before.service_level,
            ),
        ),
        (
            "first_time_fix_rate",
            N_("first-time fix"),
            (
                service_kpis.first_time_fix_rate,
                None if service_before is None else service_before.first_time_fix_rate,
            ),
        ),
    ]
    outliers: tuple[OutlierFlag, ...] = ()
    if claim_rates is not None and claim_rates.records:
        outliers = desk.claim_rate_outliers(
            claim_rates.records, claim_rates.quality, by=by, period=label
        )
    missing = [
        MissingFollowUp(c.id, c.customer_id, c.status, c.resolved_at, c.follow_up_due)
        for c in desk.missing_follow_ups(by=by, at=moment)
    ]
    return OperationsReport(
        month=label,
        tz=tz,
        start=start,
        end=end,
        as_of=moment,
        currency=desk.policy.orders.currency,
        awaiting_stock=tuple(desk.orders_awaiting_stock(by=by)),
        awaiting_payment=tuple(payment),
        returns=tuple(desk.return_analysis(label, by=by)),
        complaints=desk.complaint_statistics(start, end, by=by),
        sla=tuple(sla),
        overdue=tuple(desk.breaches(by=by, at=moment)),
        escalated=tuple(escalated),
        missing_follow_ups=tuple(missing),
        warranty_reasons=desk.warranty_decisions_by_reason(by=by, start=start, end=end),
        suspect_claims=tuple(suspects),
        claim_rate_outliers=outliers,
        claim_rate_records=0 if claim_rates is None else len(claim_rates.records),
        satisfaction=tuple(satisfaction),
        kpis=kpis,
        trend=trend,
        weekly_sla=timeline.weeks(),
        by_team=timeline.teams(),
        by_handler=timeline.handlers(),
        response_elapsed=timeline.response(),
        resolution_elapsed=timeline.resolution(),
        resolution_distribution=timeline.distribution(),
        backlog_now=timeline.backlog_now(),
        satisfaction_trend=tuple(trend_sat),
        agent_kpis=desk.agent_kpi_reports(start, end, by=by),
        order_kpis=month_orders,
        order_kpis_previous=order_before,
        service_kpis=service_kpis,
        service_kpis_previous=service_before,
        headlines=_headlines(trend, trend_sat, others),
    )
