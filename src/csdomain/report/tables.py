"""The report's tables as text cells, one function per table, for the text and HTML pages."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import attrs

from csdomain.complaints import (
    ComplaintCategory,
    ComplaintNature,
    ComplaintReport,
    ComplaintUrgency,
    SlaKind,
)
from csdomain.i18n import N_
from csdomain.kpi import ContactKpi, KpiReport
from csdomain.report.cells import (
    clean,
    fmt_change,
    fmt_duration,
    fmt_headline,
    fmt_interval,
    fmt_kpi_status,
    fmt_kpi_target,
    fmt_kpi_value,
    fmt_num,
    fmt_pct,
    fmt_shortages,
    fmt_when,
)
from csdomain.report.i18n import _, label_of, show_money
from csdomain.report.model import (
    AGEING_BUCKETS,
    RESOLUTION_BUCKETS,
    GroupFigures,
    Headline,
    OperationsReport,
)


__all__ = ["Table", "report_tables"]


@attrs.frozen
class Table:
    """One table of the report: a title, column names, rows of text, numeric columns."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    empty: str = attrs.field(factory=lambda: _("none"))
    note: str = ""
    #: Lists are cut at the renderer's ``max_rows``; fixed tables are shown whole.
    is_list: bool = True


def _classification_rows(stats: ComplaintReport) -> tuple[tuple[str, ...], ...]:
    """The complaint statistics table: categories by urgency and nature, with totals."""
    if not stats.total:
        return ()

    def cells(category: ComplaintCategory | None) -> tuple[str, ...]:
        return (
            *(str(stats.count(category=category, urgency=u)) for u in ComplaintUrgency),
            str(stats.count(category=category, nature=ComplaintNature.ABNORMAL)),
            str(stats.count(category=category)),
        )

    rows = [
        (label_of(category), *cells(category))
        for category in ComplaintCategory
        if stats.count(category=category)
    ]
    return (*rows, (_("total"), *cells(None)))


def _awaiting_stock(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Orders waiting for stock, with what each is short of (docs/domain.md 2: 每日订单确认)."""
    return Table(
        "awaiting-stock",
        _("Orders awaiting stock ({count})", count=len(report.awaiting_stock)),
        (
            _("order"),
            _("customer"),
            _("placed"),
            _("status"),
            _("short: sku (bucket) available/needed"),
        ),
        tuple(
            (
                r.order_id,
                r.customer_id,
                fmt_when(r.placed_at, zone),
                label_of(r.status),
                fmt_shortages(r),
            )
            for r in report.awaiting_stock
        ),
    )


def _awaiting_payment(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Orders that cannot ship before money comes in (docs/domain.md 2: 先付款, 后发货)."""
    return Table(
        "awaiting-payment",
        _("Orders awaiting payment ({count})", count=len(report.awaiting_payment)),
        (
            _("order"),
            _("customer"),
            _("kind"),
            _("placed"),
            _("waiting for"),
            _("total"),
            _("paid"),
            _("due"),
        ),
        tuple(
            (
                r.order_id,
                r.customer_id,
                label_of(r.kind),
                fmt_when(r.placed_at, zone),
                label_of(r.waiting_for),
                show_money(r.total),
                show_money(r.paid),
                show_money(r.due),
            )
            for r in report.awaiting_payment
        ),
        numeric=frozenset({5, 6, 7}),
    )


def _returns(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's returns by salesperson, item and reason, with damage (docs/domain.md 2)."""
    return Table(
        "returns",
        _("Returns received in {month}", month=report.month),
        (
            _("salesperson"),
            _("item"),
            _("reason"),
            _("returns"),
            _("quantity"),
            _("damaged"),
            _("amount"),
        ),
        tuple(
            (
                r.salesperson,
                r.sku,
                label_of(r.reason),
                str(r.returns),
                str(r.quantity),
                str(r.damaged_quantity),
                show_money(r.amount),
            )
            for r in report.returns
        ),
        numeric=frozenset({3, 4, 5, 6}),
    )


def _complaint_table(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The complaint statistics table: categories by urgency and nature (docs/domain.md 3)."""
    stats = report.complaints
    return Table(
        "complaint-table",
        _("Complaints received in {month}: {count}", month=report.month, count=stats.total),
        (_("category"), _("special"), _("urgent"), _("ordinary"), _("abnormal"), _("total")),
        _classification_rows(stats),
        numeric=frozenset({1, 2, 3, 4, 5}),
        empty=_("no complaints received"),
        is_list=False,
    )


def _complaint_figures(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's key complaint rates, times and causes (docs/domain.md 3).

    Times are shown as business time (the service-level clock) and as elapsed time, with
    how many were measured; the resolution target counts the complaints still open past it,
    as the service-level table does.
    """
    stats = report.complaints
    resolve = report.sla_for(SlaKind.RESOLVE)
    response, resolution = report.response_elapsed, report.resolution_elapsed
    return Table(
        "complaint-figures",
        _("Key complaint figures"),
        (_("figure"), _("value")),
        (
            (_("founded (of those assessed)"), fmt_pct(stats.founded_rate)),
            (
                _("resolution target: met on time / met late / open past it"),
                _(
                    "{met} / {late} / {overdue} ({rate} on time)",
                    met=resolve.met,
                    late=resolve.late,
                    overdue=resolve.overdue,
                    rate=fmt_pct(resolve.rate),
                ),
            ),
            (_("reopened"), fmt_pct(stats.reopen_rate)),
            (
                _("first response, median / p90 ({count} answered)", count=response.count),
                _(
                    "business time {median} / {p90}; elapsed {elapsed_median} / {elapsed_p90}",
                    median=fmt_duration(stats.response_median),
                    p90=fmt_duration(stats.response_p90),
                    elapsed_median=fmt_duration(response.median),
                    elapsed_p90=fmt_duration(response.p90),
                ),
            ),
            (
                _("resolution, median / p90 ({count} resolved)", count=resolution.count),
                _(
                    "business time {median} / {p90}; elapsed {elapsed_median} / {elapsed_p90}",
                    median=fmt_duration(stats.resolution_median),
                    p90=fmt_duration(stats.resolution_p90),
                    elapsed_median=fmt_duration(resolution.median),
                    elapsed_p90=fmt_duration(resolution.p90),
                ),
            ),
            (
                _("escalation steps by level reached"),
                ", ".join(f"L{level}: {n}" for level, n in stats.escalations_by_level.items())
                or "-",
            ),
            (
                _("top causes"),
                "; ".join(f"{clean(c.cause)} ({c.count})" for c in stats.top_causes) or "-",
            ),
        )
        if stats.total
        else (),
        empty=_("no complaints received"),
        is_list=False,
    )


def _sla(report: OperationsReport, zone: ZoneInfo) -> Table:
    """How the month's complaints fared against each service-level target (docs/domain.md 3.3)."""
    return Table(
        "sla",
        _(
            "Service-level targets of the month's complaints, as of {when}",
            when=fmt_when(report.as_of, zone),
        ),
        (
            _("target"),
            _("met on time"),
            _("met late"),
            _("overdue"),
            _("not due yet"),
            _("compliance"),
        ),
        tuple(
            (
                label_of(r.target),
                str(r.met),
                str(r.late),
                str(r.overdue),
                str(r.pending),
                fmt_pct(r.rate),
            )
            for r in report.sla
            if r.due or r.pending
        ),
        numeric=frozenset({1, 2, 3, 4, 5}),
        empty=_("no complaints received"),
        is_list=False,
    )


def _overdue(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Service-level targets overdue now, whatever month the complaint came in."""
    return Table(
        "overdue",
        _("Targets overdue now, all months ({count})", count=len(report.overdue)),
        (_("complaint"), _("target"), _("due"), _("overdue by")),
        tuple(
            (
                b.complaint_id,
                label_of(b.target),
                fmt_when(b.due, zone),
                fmt_duration(report.as_of - b.due),
            )
            for b in report.overdue
        ),
        numeric=frozenset({3}),
    )


def _escalated(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Open complaints above the first rung of the escalation ladder (docs/domain.md 3.4)."""
    return Table(
        "escalated",
        _("Escalated complaints still open ({count})", count=len(report.escalated)),
        (
            _("complaint"),
            _("customer"),
            _("category"),
            _("urgency"),
            _("status"),
            _("level"),
            _("owner"),
            _("first step"),
            _("last step"),
            _("steps"),
            _("why"),
        ),
        tuple(
            (
                r.complaint_id,
                r.customer_id,
                label_of(r.category),
                label_of(r.urgency),
                label_of(r.status),
                str(r.level),
                label_of(r.owner_role),
                fmt_when(r.first_escalated_at, zone),
                fmt_when(r.escalated_at, zone),
                str(r.steps),
                "-" if r.reason is None else label_of(r.reason),
            )
            for r in report.escalated
        ),
        numeric=frozenset({5, 9}),
    )


def _missing_follow_ups(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Resolved member complaints whose follow-up visit is overdue (docs/domain.md 3.5)."""
    return Table(
        "missing-follow-ups",
        _("Member follow-up visits missed ({count})", count=len(report.missing_follow_ups)),
        (_("complaint"), _("customer"), _("status"), _("resolved"), _("visit due")),
        tuple(
            (
                r.complaint_id,
                r.customer_id,
                label_of(r.status),
                fmt_when(r.resolved_at, zone),
                fmt_when(r.follow_up_due, zone),
            )
            for r in report.missing_follow_ups
        ),
    )


def _warranty_reasons(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's warranty decisions counted by reason code (docs/domain.md 4)."""
    return Table(
        "warranty-reasons",
        _("Warranty decisions in {month} by reason", month=report.month),
        (_("reason"), _("claims")),
        tuple((label_of(code), str(n)) for code, n in report.warranty_reasons.items()),
        numeric=frozenset({1}),
        empty=_("no warranty decisions"),
        is_list=False,
    )


def _suspect_claims(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Warranty claims to audit: tampering signs and manual overrides (docs/domain.md 4)."""
    return Table(
        "suspect-claims",
        _(
            "Claims to audit: tampering signs and overrides ({count})",
            count=len(report.suspect_claims),
        ),
        (_("claim"), _("customer"), _("serial"), _("status"), _("decided"), _("signals")),
        tuple(
            (
                r.claim_id,
                r.customer_id,
                r.product_serial,
                label_of(r.status),
                fmt_when(r.decided_at, zone),
                ", ".join(label_of(s) for s in r.signals),
            )
            for r in report.suspect_claims
        ),
    )


def _claim_rate_outliers(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """Service points whose claim rate is out of line (docs/domain.md 4, 质量赔偿风险控制)."""
    return Table(
        "claim-rate-outliers",
        _(
            "Service points with out-of-line claim rates ({count})",
            count=len(report.claim_rate_outliers),
        ),
        (
            _("service point"),
            _("region"),
            _("compared with"),
            _("rate"),
            _("reference"),
            _("ratio"),
        ),
        tuple(
            (
                f.service_point,
                f.region,
                label_of(f.comparison),
                fmt_pct(float(f.rate), 2),
                fmt_pct(float(f.reference), 2),
                "-" if f.ratio is None else f"{float(f.ratio):.1f}x",
            )
            for f in report.claim_rate_outliers
        ),
        numeric=frozenset({3, 4, 5}),
        empty=(
            _(
                "none flagged among {count} service-point records",
                count=report.claim_rate_records,
            )
            if report.claim_rate_records
            else _("not checked: no service-point figures given (--service-points)")
        ),
    )


def _satisfaction(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """CSAT, NPS, the index and the satisfied share with intervals (docs/domain.md 5)."""
    return Table(
        "satisfaction",
        _("Satisfaction: responses answered in {month}", month=report.month),
        (
            _("survey"),
            _("responses"),
            _("CSAT % [CI]"),
            _("NPS [CI]"),
            _("index [CI]"),
            _("satisfied % [CI]"),
            _("loyal %"),
        ),
        tuple(
            (
                s.title,
                str(s.result.responses),
                fmt_interval(s.result.csat, s.result.csat_interval),
                fmt_interval(s.result.nps, s.nps_interval),
                fmt_interval(
                    s.result.index,
                    None if s.result.score is None else s.result.score.interval,
                ),
                fmt_interval(s.result.satisfied_share, s.result.satisfied_interval),
                fmt_num(s.result.loyalty.loyal_share),
            )
            for s in report.satisfaction
        ),
        numeric=frozenset({1, 2, 3, 4, 5, 6}),
        empty=_("no survey responses"),
        note=" ".join(
            _(
                "{survey}: every respondent is satisfied; check the questionnaire and the sample.",
                survey=s.title,
            )
            for s in report.satisfaction
            if s.result.suspicious_unanimity
        ),
    )


def _kpis(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The contact-centre KPIs against their standards (docs/domain.md 3.3)."""
    return Table(
        "kpis",
        _(
            "Contact-centre KPIs: {count} calls offered in {month}",
            count=report.kpis.records,
            month=report.month,
        ),
        (_("kpi"), _("value"), _("target"), _("calls"), _("status")),
        tuple(
            (label_of(f.kpi), fmt_kpi_value(f), fmt_kpi_target(f), str(f.count), fmt_kpi_status(f))
            for f in report.kpis.figures
        )
        if report.kpis.records
        else (),
        numeric=frozenset({1, 3}),
        empty=_("no calls recorded"),
        is_list=False,
    )


def _headlines(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The headline figures of the month beside the month before."""
    previous = report.trend[-2].month if len(report.trend) > 1 else _("previous month")
    return Table(
        "headlines",
        _("Headline figures, {month} against {previous}", month=report.month, previous=previous),
        (_("figure"), report.month, previous, _("change")),
        tuple(
            (_(h.label), fmt_headline(h, h.value), fmt_headline(h, h.previous), fmt_change(h))
            for h in report.headlines
        ),
        numeric=frozenset({1, 2, 3}),
        is_list=False,
    )


def _trend(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The time axis: the trailing months, oldest first (docs/domain.md 3)."""
    csat = {s.month: s for s in report.satisfaction_trend if s.survey_id == _main_survey(report)}
    return Table(
        "trend",
        _("The last {count} months", count=len(report.trend)),
        (
            _("month"),
            _("orders"),
            _("complaints in"),
            _("closed"),
            _("open at end"),
            _("escalations"),
            _("responded on time"),
            _("resolved on time"),
            _("CSAT %"),
            _("NPS"),
        ),
        tuple(
            (
                m.month,
                str(m.orders_placed),
                str(m.complaints_received),
                str(m.complaints_closed),
                str(m.backlog),
                str(m.escalations),
                fmt_pct(m.respond_on_time),
                fmt_pct(m.resolve_on_time),
                fmt_num(csat[m.month].csat if m.month in csat else None),
                fmt_num(csat[m.month].nps if m.month in csat else None),
            )
            for m in report.trend
        ),
        numeric=frozenset(range(1, 10)),
        is_list=False,
    )


def _main_survey(report: OperationsReport) -> str | None:
    """The survey the headline CSAT and NPS follow (see :class:`Headline`)."""
    totals: dict[str, tuple[int, int]] = {}
    for s in report.satisfaction_trend:
        this, whole = totals.get(s.survey_id, (0, 0))
        totals[s.survey_id] = (this + s.responses * (s.month == report.month), whole + s.responses)
    return max(sorted(totals), key=lambda sid: totals[sid], default=None)


def _bands(
    key: str,
    title: str,
    labels: tuple[tuple[str, object], ...],
    counts: tuple[int, ...],
    what: str,
    *,
    empty: str,
) -> Table:
    total = sum(counts)
    return Table(
        key,
        title,
        (_("band"), what, _("share")),
        tuple(
            (_(label), str(n), fmt_pct(n / total if total else None))
            for (label, _upper), n in zip(labels, counts, strict=True)
        )
        if total
        else (),
        numeric=frozenset({1, 2}),
        empty=empty,
        is_list=False,
    )


def _backlog_ageing(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Open complaints now by time since receipt."""
    return _bands(
        "backlog-ageing",
        _("Open complaints by age, as of {when}", when=fmt_when(report.as_of, zone)),
        AGEING_BUCKETS,
        report.backlog_now,
        _("open complaints"),
        empty=_("no open complaints"),
    )


def _resolution_distribution(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's resolutions by elapsed time from receipt."""
    return _bands(
        "resolution-distribution",
        _("Resolution time of the complaints received in {month} (elapsed)", month=report.month),
        RESOLUTION_BUCKETS,
        report.resolution_distribution,
        _("resolved"),
        empty=_("no resolved"),
    )


def _weekly_sla(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The service-level breach rate of each week's complaints (docs/domain.md 3.3)."""
    return Table(
        "sla-by-week",
        _("Service-level breaches by week received"),
        (
            _("week of"),
            _("respond due"),
            _("missed"),
            _("breach rate"),
            _("resolve due"),
            _("missed"),
            _("breach rate"),
        ),
        tuple(
            (
                w.week.isoformat(),
                str(w.respond_due),
                str(w.respond_missed),
                fmt_pct(w.respond_breach_rate),
                str(w.resolve_due),
                str(w.resolve_missed),
                fmt_pct(w.resolve_breach_rate),
            )
            for w in report.weekly_sla
        ),
        numeric=frozenset(range(1, 7)),
        empty=_("no complaints received"),
    )


def _sla_by_team(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's service-level breach rate per team."""
    return Table(
        "sla-by-team",
        _("Service-level breaches by team, complaints received in {month}", month=report.month),
        (_("team"), _("targets due"), _("missed"), _("breach rate")),
        tuple(
            (
                label_of(g.name),
                str(g.respond_due + g.resolve_due),
                str(g.respond_missed + g.resolve_missed),
                fmt_pct(g.breach_rate),
            )
            for g in report.by_team
        ),
        numeric=frozenset({1, 2, 3}),
        empty=_("no complaints received"),
    )


def _group_rows(groups: tuple[GroupFigures, ...], with_rate: bool) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (
            label_of(g.name),
            str(g.received),
            str(g.closed),
            str(g.open_now),
            f"{fmt_duration(g.resolution.median)} / {fmt_duration(g.resolution.p90)}",
            *((fmt_pct(g.breach_rate),) if with_rate else ()),
        )
        for g in groups
    )


def _teams(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's complaints per team (the handling department)."""
    return Table(
        "teams",
        _("Complaints received in {month} by team", month=report.month),
        (_("team"), _("received"), _("closed"), _("open now"), _("resolution median / p90")),
        _group_rows(report.by_team, with_rate=False),
        numeric=frozenset({1, 2, 3, 4}),
        empty=_("no complaints received"),
    )


def _handlers(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's complaints per handler (the named owner, else who took it in)."""
    return Table(
        "handlers",
        _("Complaints received in {month} by handler", month=report.month),
        (
            _("handler"),
            _("received"),
            _("closed"),
            _("open now"),
            _("resolution median / p90"),
            _("breach rate"),
        ),
        _group_rows(report.by_handler, with_rate=True),
        numeric=frozenset({1, 2, 3, 4, 5}),
        empty=_("no complaints received"),
    )


_AGENT_KPIS = (
    ContactKpi.SERVICE_LEVEL,
    ContactKpi.AVERAGE_HANDLING_TIME,
    ContactKpi.FIRST_CONTACT_RESOLUTION,
)


def _agent_cell(kpis: KpiReport, kpi: ContactKpi) -> str:
    figure = next((f for f in kpis.figures if f.kpi is kpi), None)
    return "-" if figure is None else fmt_kpi_value(figure)


def _agents(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's calls per agent with their main KPIs (docs/domain.md 3.3)."""
    return Table(
        "agents",
        _("Contact-centre agents in {month}", month=report.month),
        (_("agent"), _("calls"), *(label_of(k) for k in _AGENT_KPIS)),
        tuple(
            (clean(agent), str(kpis.records), *(_agent_cell(kpis, k) for k in _AGENT_KPIS))
            for agent, kpis in sorted(report.agent_kpis.items())
        ),
        numeric=frozenset({1, 2, 3, 4}),
        empty=_("no calls recorded"),
    )


def _change_rows(
    rows: tuple[tuple[str, float | None, float | None, str], ...],
) -> tuple[tuple[str, ...], ...]:
    out = []
    for label, value, previous, unit in rows:
        figure = Headline(label, label, value, previous, unit)
        out.append(
            (
                _(label),
                fmt_headline(figure, value),
                fmt_headline(figure, previous),
                fmt_change(figure),
            )
        )
    return tuple(out)


def _order_kpis(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The order KPIs of the month beside the month before (订单KPI, docs/domain.md 2)."""
    now, before = report.order_kpis, report.order_kpis_previous
    if now is None:
        return Table(
            "order-kpis", _("Order KPIs"), (_("kpi"), _("value")), (), empty=_("not gathered")
        )

    def pick(name: str) -> tuple[float | None, float | None]:
        return getattr(now, name), None if before is None else getattr(before, name)

    rows = tuple(
        (label, *pick(name), unit)
        for name, label, unit in (
            ("valid_order_rate", N_("valid-order rate"), "ratio"),
            ("return_rate", N_("return rate"), "ratio"),
            ("refusal_rate", N_("refusal rate"), "ratio"),
            ("stock_accuracy", N_("stock accuracy"), "ratio"),
            ("service_level", N_("service level (complete and on time)"), "ratio"),
            ("stock_days", N_("stock days"), "days"),
            ("manual_adjustment_rate", N_("manual-adjustment rate"), "ratio"),
        )
    )
    return Table(
        "order-kpis",
        _(
            "Order KPIs: {placed} orders placed, {shipped} shipped, {stock_takes} stock-takes in "
            "{month}",
            placed=now.placed,
            shipped=now.shipped,
            stock_takes=now.stock_takes,
            month=report.month,
        ),
        (_("kpi"), report.month, _("month before"), _("change")),
        _change_rows(rows),
        numeric=frozenset({1, 2, 3}),
        is_list=False,
    )


def _service_kpis(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The field-service KPIs of the month's jobs beside the month before."""
    now, before = report.service_kpis, report.service_kpis_previous
    if now is None or not (now.jobs or (before is not None and before.jobs)):
        return Table(
            "service-kpis",
            _("Field-service KPIs"),
            (_("kpi"), _("value")),
            (),
            empty=_("no service jobs"),
        )

    def hours(kpis: object) -> float | None:
        mttr = getattr(kpis, "mean_time_to_repair", None)
        return None if mttr is None else mttr.total_seconds() / 3600

    def money(kpis: object) -> float | None:
        revenue = getattr(kpis, "out_of_warranty_revenue", None)
        return None if revenue is None else float(revenue.amount)

    rows = (
        (N_("jobs received"), now.jobs, None if before is None else before.jobs, "count"),
        (
            N_("first-time-fix rate"),
            now.first_time_fix_rate,
            None if before is None else before.first_time_fix_rate,
            "ratio",
        ),
        (
            N_("on site within promise"),
            now.on_site_within_promise_rate,
            None if before is None else before.on_site_within_promise_rate,
            "ratio",
        ),
        (N_("mean time to repair (hours)"), hours(now), hours(before), "hours"),
        (
            N_("repeat visits"),
            now.repeat_visits,
            None if before is None else before.repeat_visits,
            "count",
        ),
        (
            _(
                "out-of-warranty revenue ({currency})",
                currency=now.out_of_warranty_revenue.currency,
            ),
            money(now),
            money(before),
            "money",
        ),
    )
    return Table(
        "service-kpis",
        _(
            "Field-service KPIs: {count} jobs received in {month}",
            count=now.jobs,
            month=report.month,
        ),
        (_("kpi"), report.month, _("month before"), _("change")),
        _change_rows(rows),
        numeric=frozenset({1, 2, 3}),
        is_list=False,
    )


def _open_jobs(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's jobs still open, per technician and per service area."""
    kpis = report.service_kpis
    rows: list[tuple[str, ...]] = []
    if kpis is not None:
        rows += [(_("technician"), clean(k), str(n)) for k, n in kpis.open_by_technician.items()]
        rows += [(_("area"), clean(k), str(n)) for k, n in kpis.open_by_area.items()]
    return Table(
        "open-jobs",
        _("Open service jobs received in {month}", month=report.month),
        (_("by"), _("who / where"), _("open jobs")),
        tuple(rows),
        numeric=frozenset({2}),
        empty=_("no open jobs"),
    )


def _failure_rates(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """Repairs per installed unit by model (故障率分析), with the installed units divided by."""
    kpis = report.service_kpis
    return Table(
        "failure-rates",
        _(
            "Failure rate by model: repairs received in {month} per installed unit",
            month=report.month,
        ),
        (_("model"), _("repairs"), _("installed units"), _("failure rate")),
        tuple(
            (
                clean(model),
                str(repairs),
                str(kpis.installed_by_model.get(model, 0)),
                fmt_pct(kpis.failure_rate_by_model.get(model), 2),
            )
            for model, repairs in kpis.repairs_by_model.items()
        )
        if kpis is not None
        else (),
        numeric=frozenset({1, 2, 3}),
        empty=_("no repairs"),
    )


#: The report's tables in page order, each built by one function.
_BUILDERS: tuple[Callable[[OperationsReport, ZoneInfo], Table], ...] = (
    _headlines,
    _trend,
    _awaiting_stock,
    _awaiting_payment,
    _order_kpis,
    _returns,
    _complaint_table,
    _complaint_figures,
    _resolution_distribution,
    _backlog_ageing,
    _sla,
    _weekly_sla,
    _sla_by_team,
    _teams,
    _handlers,
    _overdue,
    _escalated,
    _missing_follow_ups,
    _warranty_reasons,
    _suspect_claims,
    _claim_rate_outliers,
    _satisfaction,
    _service_kpis,
    _open_jobs,
    _failure_rates,
    _kpis,
    _agents,
)


def report_tables(report: OperationsReport) -> dict[str, Table]:
    """Every table of the report as text cells, shared by the text and HTML renderers."""
    zone = ZoneInfo(report.tz)
    return {table.key: table for table in (build(report, zone) for build in _BUILDERS)}
