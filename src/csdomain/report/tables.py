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
)
from csdomain.report.cells import (
    clean,
    fmt_duration,
    fmt_interval,
    fmt_kpi_status,
    fmt_kpi_target,
    fmt_kpi_value,
    fmt_num,
    fmt_pct,
    fmt_shortages,
    fmt_when,
    label_of,
)
from csdomain.report.model import OperationsReport


__all__ = ["Table", "report_tables"]


@attrs.frozen
class Table:
    """One table of the report: a title, column names, rows of text, numeric columns."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    empty: str = "none"
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
    return (*rows, ("total", *cells(None)))


def _awaiting_stock(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Orders waiting for stock, with what each is short of (DOMAIN.md 2: 每日订单确认)."""
    return Table(
        "awaiting-stock",
        f"Orders awaiting stock ({len(report.awaiting_stock)})",
        ("order", "customer", "placed", "status", "short: sku (bucket) available/needed"),
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
    """Orders that cannot ship before money comes in (DOMAIN.md 2: 先付款, 后发货)."""
    return Table(
        "awaiting-payment",
        f"Orders awaiting payment ({len(report.awaiting_payment)})",
        ("order", "customer", "kind", "placed", "waiting for", "total", "paid", "due"),
        tuple(
            (
                r.order_id,
                r.customer_id,
                label_of(r.kind),
                fmt_when(r.placed_at, zone),
                r.waiting_for,
                str(r.total),
                str(r.paid),
                str(r.due),
            )
            for r in report.awaiting_payment
        ),
        numeric=frozenset({5, 6, 7}),
    )


def _returns(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's returns by salesperson, item and reason, with damage (DOMAIN.md 2)."""
    return Table(
        "returns",
        f"Returns received in {report.month}",
        ("salesperson", "item", "reason", "returns", "quantity", "damaged", "amount"),
        tuple(
            (
                r.salesperson,
                r.sku,
                label_of(r.reason),
                str(r.returns),
                str(r.quantity),
                str(r.damaged_quantity),
                str(r.amount),
            )
            for r in report.returns
        ),
        numeric=frozenset({3, 4, 5, 6}),
    )


def _complaint_table(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The complaint statistics table: categories by urgency and nature (DOMAIN.md 3)."""
    stats = report.complaints
    return Table(
        "complaint-table",
        f"Complaints received in {report.month}: {stats.total}",
        ("category", "special", "urgent", "ordinary", "abnormal", "total"),
        _classification_rows(stats),
        numeric=frozenset({1, 2, 3, 4, 5}),
        empty="no complaints received",
        is_list=False,
    )


def _complaint_figures(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The month's key complaint rates, times and causes (DOMAIN.md 3)."""
    stats = report.complaints
    return Table(
        "complaint-figures",
        "Key complaint figures",
        ("figure", "value"),
        (
            ("founded (of those assessed)", fmt_pct(stats.founded_rate)),
            ("of those resolved, resolved within target", fmt_pct(stats.within_sla_rate)),
            ("reopened", fmt_pct(stats.reopen_rate)),
            (
                "first response, median / p90 (business time)",
                f"{fmt_duration(stats.response_median)} / {fmt_duration(stats.response_p90)}",
            ),
            (
                "resolution, median / p90 (business time)",
                f"{fmt_duration(stats.resolution_median)} / {fmt_duration(stats.resolution_p90)}",
            ),
            (
                "escalation steps by level reached",
                ", ".join(f"L{level}: {n}" for level, n in stats.escalations_by_level.items())
                or "-",
            ),
            (
                "top causes",
                "; ".join(f"{clean(c.cause)} ({c.count})" for c in stats.top_causes) or "-",
            ),
        )
        if stats.total
        else (),
        empty="no complaints received",
        is_list=False,
    )


def _sla(report: OperationsReport, zone: ZoneInfo) -> Table:
    """How the month's complaints fared against each service-level target (DOMAIN.md 3.3)."""
    return Table(
        "sla",
        f"Service-level targets of the month's complaints, as of {fmt_when(report.as_of, zone)}",
        ("target", "met on time", "met late", "overdue", "not due yet", "compliance"),
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
        empty="no complaints received",
        is_list=False,
    )


def _overdue(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Service-level targets overdue now, whatever month the complaint came in."""
    return Table(
        "overdue",
        f"Targets overdue now, all months ({len(report.overdue)})",
        ("complaint", "target", "due"),
        tuple((b.complaint_id, label_of(b.target), fmt_when(b.due, zone)) for b in report.overdue),
    )


def _escalated(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Open complaints above the first rung of the escalation ladder (DOMAIN.md 3.4)."""
    return Table(
        "escalated",
        f"Escalated complaints still open ({len(report.escalated)})",
        (
            "complaint",
            "customer",
            "category",
            "urgency",
            "status",
            "level",
            "owner",
            "escalated",
            "why",
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
                fmt_when(r.escalated_at, zone),
                "-" if r.reason is None else label_of(r.reason),
            )
            for r in report.escalated
        ),
        numeric=frozenset({5}),
    )


def _missing_follow_ups(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Resolved member complaints whose follow-up visit is overdue (DOMAIN.md 3.5)."""
    return Table(
        "missing-follow-ups",
        f"Member follow-up visits missed ({len(report.missing_follow_ups)})",
        ("complaint", "customer", "status", "resolved", "visit due"),
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
    """The month's warranty decisions counted by reason code (DOMAIN.md 4)."""
    return Table(
        "warranty-reasons",
        f"Warranty decisions in {report.month} by reason",
        ("reason", "claims"),
        tuple((label_of(code), str(n)) for code, n in report.warranty_reasons.items()),
        numeric=frozenset({1}),
        empty="no warranty decisions",
        is_list=False,
    )


def _suspect_claims(report: OperationsReport, zone: ZoneInfo) -> Table:
    """Warranty claims to audit: tampering signs and manual overrides (DOMAIN.md 4)."""
    return Table(
        "suspect-claims",
        f"Claims to audit: tampering signs and overrides ({len(report.suspect_claims)})",
        ("claim", "customer", "serial", "status", "decided", "signals"),
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
    """Service points whose claim rate is out of line (DOMAIN.md 4, 质量赔偿风险控制)."""
    return Table(
        "claim-rate-outliers",
        f"Service points with out-of-line claim rates ({len(report.claim_rate_outliers)})",
        ("service point", "region", "compared with", "rate", "reference", "ratio"),
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
            f"none flagged among {report.claim_rate_records} service-point records"
            if report.claim_rate_records
            else "not checked: no service-point figures given (--service-points)"
        ),
    )


def _satisfaction(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """CSAT, NPS, the index and the satisfied share with intervals (DOMAIN.md 5)."""
    return Table(
        "satisfaction",
        f"Satisfaction: responses answered in {report.month}",
        (
            "survey",
            "responses",
            "CSAT % [CI]",
            "NPS [CI]",
            "index [CI]",
            "satisfied % [CI]",
            "loyal %",
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
        empty="no survey responses",
        note=" ".join(
            f"{s.title}: every respondent is satisfied; check the questionnaire and the sample."
            for s in report.satisfaction
            if s.result.suspicious_unanimity
        ),
    )


def _kpis(report: OperationsReport, _zone: ZoneInfo) -> Table:
    """The contact-centre KPIs against their standards (DOMAIN.md 3.3)."""
    return Table(
        "kpis",
        f"Contact-centre KPIs: {report.kpis.records} calls offered in {report.month}",
        ("kpi", "value", "target", "calls", "status"),
        tuple(
            (label_of(f.kpi), fmt_kpi_value(f), fmt_kpi_target(f), str(f.count), fmt_kpi_status(f))
            for f in report.kpis.figures
        )
        if report.kpis.records
        else (),
        numeric=frozenset({1, 3}),
        empty="no calls recorded",
        is_list=False,
    )


#: The report's tables in page order, each built by one function.
_BUILDERS: tuple[Callable[[OperationsReport, ZoneInfo], Table], ...] = (
    _awaiting_stock,
    _awaiting_payment,
    _returns,
    _complaint_table,
    _complaint_figures,
    _sla,
    _overdue,
    _escalated,
    _missing_follow_ups,
    _warranty_reasons,
    _suspect_claims,
    _claim_rate_outliers,
    _satisfaction,
    _kpis,
)


def report_tables(report: OperationsReport) -> dict[str, Table]:
    """Every table of the report as text cells, shared by the text and HTML renderers."""
    zone = ZoneInfo(report.tz)
    return {table.key: table for table in (build(report, zone) for build in _BUILDERS)}
