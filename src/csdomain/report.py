"""The operations report: the monthly review a customer-service manager reads.

:func:`gather_report` collects, through the :class:`~csdomain.service.ServiceDesk` queries
and a few read-only store queries, everything the review needs into one typed
:class:`OperationsReport`:

- the order backlog: orders waiting for stock (每日订单确认) and orders waiting for payment
  (先付款, 后发货: a prepayment, the full payment or the balance of custom work);
- the monthly return and damage analysis (DOMAIN.md 2);
- the complaint statistics table (顾客投诉分类统计表) and service-level compliance of the
  month's complaints, the targets overdue now, the escalated complaints still open and
  the member follow-up visits that were missed (DOMAIN.md 3);
- warranty decisions by reason code, claims with signs of tampering, and service points
  whose claim rate is out of line when their figures are supplied (DOMAIN.md 4);
- CSAT, NPS and the weighted satisfaction index with confidence intervals (DOMAIN.md 5);
- the contact-centre KPIs against their standards (DOMAIN.md 3.3).

Three renderers turn it into aligned text tables (:func:`render_text`), JSON through
:mod:`csdomain.serialization` (:func:`render_json`) and one self-contained HTML page whose
charts are inline SVG, with no script and no external resource (:func:`render_html`).
``csdomain report`` on the command line (:func:`add_report_command`) does all three.

Period figures count what happened in one calendar month, read in the order numbering
time zone (``policy.orders.number_tz``). Backlog figures (orders waiting, targets overdue,
open escalations, missed visits) are the state of the store at ``as_of``.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain import __version__
from csdomain.auth import Actor, Permission
from csdomain.clock import require_aware
from csdomain.complaints import (
    OPEN_STATUSES,
    ComplaintCategory,
    ComplaintNature,
    ComplaintReport,
    ComplaintStatus,
    ComplaintUrgency,
    EscalationReason,
    SlaBreach,
    SlaKind,
    SlaOutcome,
    sla_breaches,
)
from csdomain.errors import ValidationError
from csdomain.kinds import COMPLAINTS, ORDERS, SURVEY_RESPONSES, SURVEYS, WARRANTY_CLAIMS
from csdomain.kpi import ContactKpi, KpiFigure, KpiReport
from csdomain.money import Money
from csdomain.orders import AwaitingStock, OrderKind, OrderStatus
from csdomain.returns import ReturnAnalysisRow
from csdomain.satisfaction import Interval, SurveyResult, SurveyStats
from csdomain.serialization import to_json
from csdomain.service import ServiceDesk
from csdomain.store import UnitOfWork
from csdomain.warranty import (
    OutlierFlag,
    QualityTrend,
    ServicePointPeriod,
    WarrantyClaimStatus,
)


__all__ = [
    "CHARTS",
    "REPORT_ACTOR",
    "TAMPERING_SIGNALS",
    "AwaitingPayment",
    "ClaimRateData",
    "EscalatedComplaint",
    "MissingFollowUp",
    "OperationsReport",
    "SatisfactionFigures",
    "SlaCompliance",
    "SuspectClaim",
    "gather_report",
    "nps_interval",
    "parse_month",
    "render_html",
    "render_json",
    "render_text",
]

#: The actor the command line reports as: a customer-service manager, who may read every
#: figure (``report.view``) and the follow-up list (``complaint.handle``). The report only
#: runs read-only units of work.
REPORT_ACTOR = Actor("report", frozenset({"cs_manager"}), "Operations report (read-only)")

#: Warranty reason codes that point at a tampered claim (DOMAIN.md 4, exclusion 2:
#: 涂改三包凭证, 序列号不符); such claims are listed for audit with the manual overrides.
TAMPERING_SIGNALS: tuple[str, ...] = ("certificate_altered", "serial_mismatch")

#: The ``data-chart`` names of the HTML report's charts, in page order.
CHARTS: tuple[str, ...] = (
    "returns-by-reason",
    "complaint-categories",
    "sla-compliance",
    "warranty-reasons",
    "satisfaction",
    "kpi-vs-target",
)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_AWAITING_PAYMENT = (OrderStatus.CONFIRMED, OrderStatus.PRODUCED)


# -- the report model --------------------------------------------------------------------


@attrs.frozen
class AwaitingPayment:
    """A confirmed order that cannot ship before money comes in (DOMAIN.md 2: 先付款, 后发货).

    ``waiting_for`` is ``"prepayment"`` (custom work before production), ``"payment"``
    (standard goods) or ``"balance"`` (custom work after production); ``due`` is what that
    step still needs.
    """

    order_id: str
    customer_id: str
    kind: OrderKind
    status: OrderStatus
    placed_at: datetime
    waiting_for: str
    total: Money
    paid: Money
    due: Money


@attrs.frozen
class SlaCompliance:
    """How the month's complaints fared against one service-level target (DOMAIN.md 3.3).

    ``met`` on time, ``late`` (met after the deadline), ``overdue`` (deadline passed and
    still not met), ``pending`` (not due yet), ``not_applicable`` (a rejected complaint has
    no resolution target).
    """

    target: SlaKind
    met: int
    late: int
    overdue: int
    pending: int
    not_applicable: int = 0

    @property
    def due(self) -> int:
        """Targets whose deadline has passed or that were met."""
        return self.met + self.late + self.overdue

    @property
    def missed(self) -> int:
        """Targets missed: met late or still overdue."""
        return self.late + self.overdue

    @property
    def rate(self) -> float | None:
        """Met on time / due, 0..1; ``None`` when nothing was due."""
        return self.met / self.due if self.due else None


@attrs.frozen
class EscalatedComplaint:
    """An open complaint above the first rung of the five-level ladder (DOMAIN.md 3.4)."""

    complaint_id: str
    customer_id: str
    category: ComplaintCategory
    urgency: ComplaintUrgency
    status: ComplaintStatus
    level: int
    owner_role: str
    received_at: datetime
    escalated_at: datetime | None
    reason: EscalationReason | None


@attrs.frozen
class MissingFollowUp:
    """A resolved member complaint whose follow-up visit is overdue (DOMAIN.md 3.5)."""

    complaint_id: str
    customer_id: str
    status: ComplaintStatus
    resolved_at: datetime | None
    follow_up_due: datetime | None


@attrs.frozen
class SuspectClaim:
    """A warranty claim decided in the month that an audit should look at (DOMAIN.md 4).

    ``signals`` are the tampering reason codes of its decision and ``"manual_override"``
    when a manager overrode the rules.
    """

    claim_id: str
    customer_id: str
    product_serial: str
    status: WarrantyClaimStatus
    decided_at: datetime
    signals: tuple[str, ...]


@attrs.frozen
class SatisfactionFigures:
    """One survey's results over the responses answered in the month (DOMAIN.md 5).

    ``result`` has CSAT, the satisfied share and the weighted index with their intervals;
    ``nps_interval`` adds a normal-approximation interval for NPS on -100..100.
    """

    survey_id: str
    title: str
    result: SurveyResult
    nps_interval: Interval | None


@attrs.frozen
class ClaimRateData:
    """Service points' claims and units, and production's defect rates, for fraud control.

    The store does not hold them (they come from the dealers' and the plant's systems);
    ``csdomain report --service-points FILE`` reads them from JSON in this shape. Periods
    are ``YYYY-MM`` so that the report's month selects them.
    """

    records: tuple[ServicePointPeriod, ...] = ()
    quality: tuple[QualityTrend, ...] = ()


@attrs.frozen
class OperationsReport:
    """Everything of the monthly operations review, gathered by :func:`gather_report`."""

    month: str
    tz: str
    start: datetime
    end: datetime
    as_of: datetime
    currency: str
    awaiting_stock: tuple[AwaitingStock, ...]
    awaiting_payment: tuple[AwaitingPayment, ...]
    returns: tuple[ReturnAnalysisRow, ...]
    complaints: ComplaintReport
    sla: tuple[SlaCompliance, ...]
    overdue: tuple[SlaBreach, ...]
    escalated: tuple[EscalatedComplaint, ...]
    missing_follow_ups: tuple[MissingFollowUp, ...]
    warranty_reasons: Mapping[str, int]
    suspect_claims: tuple[SuspectClaim, ...]
    claim_rate_outliers: tuple[OutlierFlag, ...]
    #: How many service-point records the claim-rate check was given (0: not run).
    claim_rate_records: int
    satisfaction: tuple[SatisfactionFigures, ...]
    kpis: KpiReport

    def complaints_by_category(self) -> dict[ComplaintCategory, int]:
        """Complaints received in the month per category (every category, zeros included)."""
        return {c: self.complaints.count(category=c) for c in ComplaintCategory}

    def returns_by_reason(self) -> dict[str, tuple[int, int, Money]]:
        """Per return reason: returns, quantity and refund amount, largest amount first."""
        totals: dict[str, tuple[int, int, Money]] = {}
        for row in self.returns:
            count, quantity, amount = totals.get(
                row.reason.value, (0, 0, Money.zero(row.amount.currency))
            )
            totals[row.reason.value] = (
                count + row.returns,
                quantity + row.quantity,
                amount + row.amount,
            )
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1][2].amount, kv[0])))

    def sla_for(self, target: SlaKind | str) -> SlaCompliance:
        """The compliance of one target (``"respond"`` or ``"resolve"``)."""
        wanted = SlaKind(target)
        for row in self.sla:
            if row.target is wanted:
                return row
        raise ValidationError.at("target", f"no such target: {target!r}")


# -- gathering ---------------------------------------------------------------------------


def parse_month(value: str, path: str = "month") -> tuple[int, int]:
    """``"2026-09"`` as ``(2026, 9)``; anything else is a :class:`ValidationError`."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError.at(path, f"expected a month as YYYY-MM, got {value!r}")
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= 12 or not 1 <= year <= 9998:
        raise ValidationError.at(path, f"no such month: {value!r}")
    return year, number


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


def _sla_compliance(
    uow: UnitOfWork, start: datetime, end: datetime, at: datetime
) -> list[SlaCompliance]:
    counts = {
        kind: dict.fromkeys(("met", "late", "overdue", "pending", "na"), 0) for kind in SlaKind
    }
    for complaint in uow.repo(COMPLAINTS).scan(received_at__ge=start, received_at__lt=end):
        found = {breach.target: breach for breach in sla_breaches(complaint, at)}
        respond = counts[SlaKind.RESPOND]
        if SlaKind.RESPOND in found:
            respond["late" if found[SlaKind.RESPOND].met_at else "overdue"] += 1
        elif complaint.first_response_at is not None:
            respond["met"] += 1
        else:
            respond["pending"] += 1
        resolve = counts[SlaKind.RESOLVE]
        if SlaKind.RESOLVE in found:
            resolve["late" if found[SlaKind.RESOLVE].met_at else "overdue"] += 1
        elif complaint.sla_outcome is SlaOutcome.MET:
            resolve["met"] += 1
        elif complaint.is_open:
            resolve["pending"] += 1
        else:
            resolve["na"] += 1
    return [
        SlaCompliance(kind, c["met"], c["late"], c["overdue"], c["pending"], c["na"])
        for kind, c in counts.items()
    ]


def _escalated(uow: UnitOfWork) -> list[EscalatedComplaint]:
    found: list[EscalatedComplaint] = []
    stream = uow.repo(COMPLAINTS).scan(escalation_level__gt=1, status__in=sorted(OPEN_STATUSES))
    for complaint in stream:
        last = complaint.escalations[-1] if complaint.escalations else None
        found.append(
            EscalatedComplaint(
                complaint_id=complaint.id,
                customer_id=complaint.customer_id,
                category=complaint.category,
                urgency=complaint.urgency,
                status=complaint.status,
                level=complaint.escalation_level,
                owner_role=complaint.owner_role,
                received_at=complaint.received_at,
                escalated_at=None if last is None else last.at,
                reason=None if last is None else last.reason,
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


_DirectReads = tuple[
    list[AwaitingPayment],
    list[SlaCompliance],
    list[EscalatedComplaint],
    list[SuspectClaim],
    list[SatisfactionFigures],
]


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
    claim-rate check (DOMAIN.md 4, 质量赔偿风险控制) come in ``claim_rates``. Every read is a
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
        return (
            _awaiting_payment(uow),
            _sla_compliance(uow, start, end, moment),
            _escalated(uow),
            _suspect_claims(uow, start, end),
            _satisfaction(desk, uow, start, end),
        )

    payment, sla, escalated, suspects, satisfaction = desk.run(period_reads, readonly=True)
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
        kpis=desk.kpi_report(start, end, by=by),
    )


# -- formatting helpers ------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _clean(text: object) -> str:
    """Text safe for a terminal or a page: control characters become one space."""
    return _CONTROL.sub(" ", str(text)).strip()


def _label(value: object) -> str:
    return _clean(getattr(value, "value", value)).replace("_", " ")


def _pct(fraction: float | None, digits: int = 1) -> str:
    return "-" if fraction is None else f"{100 * fraction:.{digits}f} %"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return "-" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _interval(value: float | None, interval: Interval | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if interval is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{interval.low:.{digits}f}, {interval.high:.{digits}f}]"


def _kpi_value(figure: KpiFigure) -> str:
    if figure.value is None:
        return "-"
    if figure.unit == "ratio":
        return _pct(figure.value)
    if figure.unit == "seconds":
        return f"{figure.value:.1f} s"
    return f"{figure.value:.2f}"


def _kpi_target(figure: KpiFigure) -> str:
    def show(value: float) -> str:
        if figure.unit == "ratio":
            return _pct(value, 0)
        if figure.unit == "seconds":
            return f"{value:g} s"
        return f"{value:g}"

    if figure.low is not None and figure.high is not None:
        return f"{show(figure.low)} - {show(figure.high)}"
    if figure.low is not None:
        return f">= {show(figure.low)}"
    if figure.high is not None:
        return f"<= {show(figure.high)}"
    return "-"


def _kpi_status(figure: KpiFigure) -> str:
    passed = figure.passed
    return "no data" if passed is None else ("met" if passed else "MISSED")


def _shortages(row: AwaitingStock) -> str:
    return ", ".join(f"{s.sku} ({s.bucket.value}) {s.available}/{s.needed}" for s in row.shortages)


def _month_title(report: OperationsReport) -> str:
    year, number = parse_month(report.month)
    return datetime(year, number, 1, tzinfo=UTC).strftime("%B %Y")


@attrs.frozen
class _Table:
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
        (_label(category), *cells(category))
        for category in ComplaintCategory
        if stats.count(category=category)
    ]
    return (*rows, ("total", *cells(None)))


def _tables(report: OperationsReport) -> dict[str, _Table]:
    """Every table of the report as text cells, shared by the text and HTML renderers."""
    zone = ZoneInfo(report.tz)
    stats = report.complaints
    tables: list[_Table] = [
        _Table(
            "awaiting-stock",
            f"Orders awaiting stock ({len(report.awaiting_stock)})",
            ("order", "customer", "placed", "status", "short: sku (bucket) available/needed"),
            tuple(
                (
                    r.order_id,
                    r.customer_id,
                    _when(r.placed_at, zone),
                    _label(r.status),
                    _shortages(r),
                )
                for r in report.awaiting_stock
            ),
        ),
        _Table(
            "awaiting-payment",
            f"Orders awaiting payment ({len(report.awaiting_payment)})",
            ("order", "customer", "kind", "placed", "waiting for", "total", "paid", "due"),
            tuple(
                (
                    r.order_id,
                    r.customer_id,
                    _label(r.kind),
                    _when(r.placed_at, zone),
                    r.waiting_for,
                    str(r.total),
                    str(r.paid),
                    str(r.due),
                )
                for r in report.awaiting_payment
            ),
            numeric=frozenset({5, 6, 7}),
        ),
        _Table(
            "returns",
            f"Returns received in {report.month}",
            ("salesperson", "item", "reason", "returns", "quantity", "damaged", "amount"),
            tuple(
                (
                    r.salesperson,
                    r.sku,
                    _label(r.reason),
                    str(r.returns),
                    str(r.quantity),
                    str(r.damaged_quantity),
                    str(r.amount),
                )
                for r in report.returns
            ),
            numeric=frozenset({3, 4, 5, 6}),
        ),
        _Table(
            "complaint-table",
            f"Complaints received in {report.month}: {stats.total}",
            ("category", "special", "urgent", "ordinary", "abnormal", "total"),
            _classification_rows(stats),
            numeric=frozenset({1, 2, 3, 4, 5}),
            empty="no complaints received",
            is_list=False,
        ),
        _Table(
            "complaint-figures",
            "Key complaint figures",
            ("figure", "value"),
            (
                ("founded (of those assessed)", _pct(stats.founded_rate)),
                ("of those resolved, resolved within target", _pct(stats.within_sla_rate)),
                ("reopened", _pct(stats.reopen_rate)),
                (
                    "first response, median / p90 (business time)",
                    f"{_duration(stats.response_median)} / {_duration(stats.response_p90)}",
                ),
                (
                    "resolution, median / p90 (business time)",
                    f"{_duration(stats.resolution_median)} / {_duration(stats.resolution_p90)}",
                ),
                (
                    "escalation steps by level reached",
                    ", ".join(f"L{level}: {n}" for level, n in stats.escalations_by_level.items())
                    or "-",
                ),
                (
                    "top causes",
                    "; ".join(f"{_clean(c.cause)} ({c.count})" for c in stats.top_causes) or "-",
                ),
            )
            if stats.total
            else (),
            empty="no complaints received",
            is_list=False,
        ),
        _Table(
            "sla",
            f"Service-level targets of the month's complaints, as of {_when(report.as_of, zone)}",
            ("target", "met on time", "met late", "overdue", "not due yet", "compliance"),
            tuple(
                (
                    _label(r.target),
                    str(r.met),
                    str(r.late),
                    str(r.overdue),
                    str(r.pending),
                    _pct(r.rate),
                )
                for r in report.sla
                if r.due or r.pending
            ),
            numeric=frozenset({1, 2, 3, 4, 5}),
            empty="no complaints received",
            is_list=False,
        ),
        _Table(
            "overdue",
            f"Targets overdue now, all months ({len(report.overdue)})",
            ("complaint", "target", "due"),
            tuple((b.complaint_id, _label(b.target), _when(b.due, zone)) for b in report.overdue),
        ),
        _Table(
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
                    _label(r.category),
                    _label(r.urgency),
                    _label(r.status),
                    str(r.level),
                    _label(r.owner_role),
                    _when(r.escalated_at, zone),
                    "-" if r.reason is None else _label(r.reason),
                )
                for r in report.escalated
            ),
            numeric=frozenset({5}),
        ),
        _Table(
            "missing-follow-ups",
            f"Member follow-up visits missed ({len(report.missing_follow_ups)})",
            ("complaint", "customer", "status", "resolved", "visit due"),
            tuple(
                (
                    r.complaint_id,
                    r.customer_id,
                    _label(r.status),
                    _when(r.resolved_at, zone),
                    _when(r.follow_up_due, zone),
                )
                for r in report.missing_follow_ups
            ),
        ),
        _Table(
            "warranty-reasons",
            f"Warranty decisions in {report.month} by reason",
            ("reason", "claims"),
            tuple((_label(code), str(n)) for code, n in report.warranty_reasons.items()),
            numeric=frozenset({1}),
            empty="no warranty decisions",
            is_list=False,
        ),
        _Table(
            "suspect-claims",
            f"Claims to audit: tampering signs and overrides ({len(report.suspect_claims)})",
            ("claim", "customer", "serial", "status", "decided", "signals"),
            tuple(
                (
                    r.claim_id,
                    r.customer_id,
                    r.product_serial,
                    _label(r.status),
                    _when(r.decided_at, zone),
                    ", ".join(_label(s) for s in r.signals),
                )
                for r in report.suspect_claims
            ),
        ),
        _Table(
            "claim-rate-outliers",
            f"Service points with out-of-line claim rates ({len(report.claim_rate_outliers)})",
            ("service point", "region", "compared with", "rate", "reference", "ratio"),
            tuple(
                (
                    f.service_point,
                    f.region,
                    _label(f.comparison),
                    _pct(float(f.rate), 2),
                    _pct(float(f.reference), 2),
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
        ),
        _Table(
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
                    _interval(s.result.csat, s.result.csat_interval),
                    _interval(s.result.nps, s.nps_interval),
                    _interval(
                        s.result.index,
                        None if s.result.score is None else s.result.score.interval,
                    ),
                    _interval(s.result.satisfied_share, s.result.satisfied_interval),
                    _num(s.result.loyalty.loyal_share),
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
        ),
        _Table(
            "kpis",
            f"Contact-centre KPIs: {report.kpis.records} calls offered in {report.month}",
            ("kpi", "value", "target", "calls", "status"),
            tuple(
                (_label(f.kpi), _kpi_value(f), _kpi_target(f), str(f.count), _kpi_status(f))
                for f in report.kpis.figures
            )
            if report.kpis.records
            else (),
            numeric=frozenset({1, 3}),
            empty="no calls recorded",
            is_list=False,
        ),
    ]
    return {table.key: table for table in tables}


# -- text --------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _text_table(table: _Table, max_rows: int) -> list[str]:
    lines = [table.title, "=" * _width(table.title)]
    if not table.rows:
        return [*lines, f"({table.empty})"]
    header = [_clean(h) for h in table.header]
    limit = max_rows if table.is_list else len(table.rows)
    shown = [[_clean(cell) for cell in row] for row in table.rows[:limit]]
    widths = [_width(h) for h in header]
    for row in shown:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            _pad(cell, w, i in table.numeric)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines += [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in shown]
    if len(table.rows) > limit:
        lines.append(f"... and {len(table.rows) - limit} more (see --json or --html)")
    if table.note:
        lines.append(f"note: {_clean(table.note)}")
    return lines


def render_text(report: OperationsReport, *, max_rows: int = 20) -> str:
    """The report as aligned text tables, for a terminal (at most ``max_rows`` per list)."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    zone = ZoneInfo(report.tz)
    title = f"Operations report {report.month} ({_month_title(report)}, {report.tz})"
    lines = [
        title,
        "#" * _width(title),
        (
            f"as of {_when(report.as_of, zone)} {report.tz}; period figures count "
            f"{_when(report.start, zone)} to {_when(report.end, zone)}"
        ),
    ]
    for table in _tables(report).values():
        lines += ["", *_text_table(table, max_rows)]
    return "\n".join(lines) + "\n"


# -- JSON --------------------------------------------------------------------------------


def render_json(report: OperationsReport, *, indent: int | None = 2) -> str:
    """The report as JSON (every figure, through :mod:`csdomain.serialization`)."""
    data = json.loads(to_json(report))
    return json.dumps(data, indent=indent, ensure_ascii=False)


# -- HTML and SVG ------------------------------------------------------------------------

_W = 760
_LABEL_X = 222
_BAR_X = 230
_BAR_END = 550
_ROW = 24
_TOP = 30
_BLUE = "#3b6ea5"
_INK = 'stroke="#333333" stroke-width="1.5"'
#: No script, no network: the page may only use its own inline styles.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_TOTAL_ROW = ' class="total"'
_SERIES = (
    ("met", "met on time", "#2e7d32"),
    ("late", "met late", "#f9a825"),
    ("overdue", "overdue", "#c62828"),
    ("pending", "not due yet", "#9e9e9e"),
)


def _e(text: object) -> str:
    return html.escape(_clean(text), quote=True)


def _data(value: float) -> str:
    """A number for a ``data-`` attribute that parses back to the same float."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _svg(chart: str, title: str, height: int, body: Iterable[str], *, empty: bool) -> str:
    """An inline chart: ``data-chart`` names it, the title is shown and read out."""
    label = _e(title)
    opening = (
        f'<svg data-chart="{chart}" viewBox="0 0 {_W} {height}" width="{_W}" height="{height}" '
        f'role="img" aria-label="{label}" class="chart"'
        + (' data-empty="true"' if empty else "")
        + ">"
    )
    heading = f'<text x="0" y="16" class="caption">{label}</text>'
    return "\n".join([opening, f"<title>{label}</title>", heading, *body, "</svg>"])


def _no_data(chart: str, title: str, message: str) -> str:
    body = [f'<text x="{_BAR_X}" y="{_TOP + 12}" class="muted">{_e(message)}</text>']
    return _svg(chart, title, _TOP + 28, body, empty=True)


def _bar_chart(
    chart: str, title: str, points: Sequence[tuple[str, float, str]], empty_message: str
) -> str:
    """Horizontal bars: one ``<g data-value>`` per point with its label, bar and value."""
    if not any(value for _, value, _ in points):
        return _no_data(chart, title, empty_message)
    top = max(value for _, value, _ in points)
    body: list[str] = []
    for i, (label, value, shown) in enumerate(points):
        y = _TOP + i * _ROW
        width = (_BAR_END - _BAR_X) * value / top
        body.append(
            f'<g class="point" data-label="{_e(label)}" data-value="{_data(value)}">'
            f"<title>{_e(label)}: {_e(shown)}</title>"
            f'<text x="{_LABEL_X}" y="{y + 12}" text-anchor="end">{_e(_short(label))}</text>'
            f'<rect class="mark" x="{_BAR_X}" y="{y + 2}" width="{width:.2f}" height="14" '
            f'fill="{_BLUE}"/>'
            f'<text x="{_BAR_X + width + 6:.2f}" y="{y + 12}">{_e(shown)}</text>'
            "</g>"
        )
    return _svg(chart, title, _TOP + len(points) * _ROW + 8, body, empty=False)


def _sla_chart(report: OperationsReport) -> str:
    """Stacked bars per target: met on time, met late, overdue, not due yet."""
    title = "Service-level targets of the month's complaints"
    rows = [r for r in report.sla if r.due or r.pending]
    if not rows:
        return _no_data("sla-compliance", title, "no complaints received this month")
    body: list[str] = []
    span = _BAR_END - _BAR_X
    for i, row in enumerate(rows):
        y = _TOP + i * (_ROW + 8)
        total = row.due + row.pending
        body.append(
            f'<text x="{_LABEL_X}" y="{y + 14}" text-anchor="end">'
            f"{_e(_label(row.target))}: {_e(_pct(row.rate, 0))} on time</text>"
        )
        x = float(_BAR_X)
        for key, name, colour in _SERIES:
            value = getattr(row, key)
            width = span * value / total
            body.append(
                f'<rect class="point mark" data-series="{key}" data-target="{row.target.value}" '
                f'data-value="{value}" x="{x:.2f}" y="{y + 2}" width="{width:.2f}" height="18" '
                f'fill="{colour}"><title>{_e(_label(row.target))}, {name}: {value}</title></rect>'
            )
            x += width
        body.append(
            f'<text x="{_BAR_END + 6}" y="{y + 14}">{row.due} due, {row.pending} not yet</text>'
        )
    legend_y = _TOP + len(rows) * (_ROW + 8) + 2
    x = _BAR_X
    for _key, name, colour in _SERIES:
        body.append(
            f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{legend_y + 10}" class="muted">{_e(name)}</text>'
        )
        x += 16 + 7 * len(name) + 16
    return _svg("sla-compliance", title, legend_y + 20, body, empty=False)


def _kpi_scale(figure: KpiFigure) -> float:
    if figure.unit == "ratio":
        return 1.0
    marks = [v for v in (figure.value, figure.low, figure.high) if v is not None]
    return max(1.0, max(marks, default=1.0) * 1.25)


def _kpi_chart(report: KpiReport) -> str:
    """Bullet rows: each KPI on its own scale, its target band shaded, red when missed."""
    title = "Contact-centre KPIs against their targets (shaded)"
    if not report.records:
        return _no_data("kpi-vs-target", title, "no calls recorded this month")
    body: list[str] = []
    span = _BAR_END - _BAR_X
    for i, figure in enumerate(report.figures):
        y = _TOP + i * _ROW
        scale = _kpi_scale(figure)
        name = _label(figure.kpi)
        target = _e(_kpi_target(figure))
        low = 0.0 if figure.low is None else min(figure.low, scale)
        high = scale if figure.high is None else min(figure.high, scale)
        band_x = _BAR_X + span * low / scale
        band_w = span * (high - low) / scale
        parts = [
            f'<text x="{_LABEL_X}" y="{y + 12}" text-anchor="end">{_e(name)}</text>',
            f'<rect x="{_BAR_X}" y="{y + 1}" width="{span}" height="16" fill="#eeeeee"/>',
            (
                f'<rect class="target" x="{band_x:.2f}" y="{y + 1}" width="{band_w:.2f}" '
                f'height="16" fill="#c8e6c9"/>'
            ),
        ]
        if figure.value is None:
            parts.append(f'<text x="{_BAR_END + 8}" y="{y + 12}" class="muted">not measured</text>')
            body.append(
                f'<g class="no-data" data-kpi="{figure.kpi.value}"><title>{_e(name)}: not '
                f"measured, target {target}</title>{''.join(parts)}</g>"
            )
            continue
        width = span * min(figure.value, scale) / scale
        colour = "#2e7d32" if figure.passed else "#c62828"
        shown = _e(_kpi_value(figure))
        parts += [
            (
                f'<rect class="mark" x="{_BAR_X}" y="{y + 5}" width="{width:.2f}" height="8" '
                f'fill="{colour}"/>'
            ),
            f'<text x="{_BAR_END + 8}" y="{y + 12}">{shown} (target {target})</text>',
        ]
        bounds = ("" if figure.low is None else f' data-low="{_data(figure.low)}"') + (
            "" if figure.high is None else f' data-high="{_data(figure.high)}"'
        )
        body.append(
            f'<g class="point" data-kpi="{figure.kpi.value}" data-value="{_data(figure.value)}" '
            f'data-passed="{str(figure.passed).lower()}"{bounds}>'
            f"<title>{_e(name)}: {shown}, target {target}</title>{''.join(parts)}</g>"
        )
    return _svg("kpi-vs-target", title, _TOP + len(report.figures) * _ROW + 8, body, empty=False)


_SatisfactionRow = tuple[str, str | None, float | None, Interval | None]


def _satisfaction_rows(report: OperationsReport) -> list[_SatisfactionRow]:
    """A heading row per survey (label, None ...) then its figures with intervals."""
    rows: list[_SatisfactionRow] = []
    for figures in report.satisfaction:
        result = figures.result
        rows.append((figures.title, None, None, None))
        measured: tuple[_SatisfactionRow, ...] = (
            ("CSAT %", figures.survey_id, result.csat, result.csat_interval),
            ("satisfied %", figures.survey_id, result.satisfied_share, result.satisfied_interval),
            (
                "weighted index",
                figures.survey_id,
                result.index,
                None if result.score is None else result.score.interval,
            ),
            ("NPS", figures.survey_id, result.nps, figures.nps_interval),
        )
        rows += [row for row in measured if row[2] is not None]
    return rows


def _satisfaction_chart(report: OperationsReport) -> str:
    """Dots with confidence-interval whiskers on one -100..100 axis."""
    title = "Satisfaction: percentages and index on 0 to 100, NPS on -100 to 100, with intervals"
    rows = _satisfaction_rows(report)
    if not any(value is not None for _, _, value, _ in rows):
        return _no_data("satisfaction", title, "no survey responses this month")
    left, right = _BAR_X, _BAR_END + 60

    def x_of(value: float) -> float:
        return left + (right - left) * (max(-100.0, min(100.0, value)) + 100) / 200

    axis_y = _TOP + len(rows) * _ROW
    body = []
    for tick in (-100, -50, 0, 50, 100):
        x = x_of(tick)
        body.append(
            f'<line x1="{x:.2f}" y1="{_TOP - 4}" x2="{x:.2f}" y2="{axis_y}" '
            f'stroke="{"#9e9e9e" if tick == 0 else "#e0e0e0"}"/>'
            f'<text x="{x:.2f}" y="{axis_y + 14}" text-anchor="middle" class="muted">{tick}</text>'
        )
    for i, (label, survey_id, value, interval) in enumerate(rows):
        y = _TOP + i * _ROW + 9
        if value is None or survey_id is None:
            body.append(f'<text x="0" y="{y + 4}" class="group">{_e(_short(label, 60))}</text>')
            continue
        extra, whisker, shown = "", "", f"{value:.1f}"
        if interval is not None:
            lo, hi = x_of(interval.low), x_of(interval.high)
            extra = f' data-low="{_data(interval.low)}" data-high="{_data(interval.high)}"'
            shown += f" [{interval.low:.1f}, {interval.high:.1f}]"
            whisker = "".join(
                f'<line x1="{x1:.2f}" y1="{y1}" x2="{x2:.2f}" y2="{y2}" {_INK}/>'
                for x1, y1, x2, y2 in (
                    (lo, y, hi, y),
                    (lo, y - 5, lo, y + 5),
                    (hi, y - 5, hi, y + 5),
                )
            )
        body.append(
            f'<g class="point" data-survey="{_e(survey_id)}" data-label="{_e(label)}" '
            f'data-value="{_data(value)}"{extra}><title>{_e(label)}: {_e(shown)}</title>'
            f'<text x="{_LABEL_X}" y="{y + 4}" text-anchor="end">{_e(label)}</text>{whisker}'
            f'<circle class="mark" cx="{x_of(value):.2f}" cy="{y}" r="5" fill="{_BLUE}"/>'
            f'<text x="{right + 12}" y="{y + 4}">{_e(shown)}</text></g>'
        )
    return _svg("satisfaction", title, axis_y + 22, body, empty=False)


def _charts(report: OperationsReport) -> dict[str, str]:
    """Every chart of the page by its ``data-chart`` name."""
    by_reason = report.returns_by_reason()
    return {
        "returns-by-reason": _bar_chart(
            "returns-by-reason",
            "Returns received by reason (refund amount)",
            [
                (_label(reason), float(amount.amount), f"{amount} ({count} returns)")
                for reason, (count, _quantity, amount) in by_reason.items()
            ],
            "no returns received this month",
        ),
        "complaint-categories": _bar_chart(
            "complaint-categories",
            "Complaints received by category",
            [
                (_label(category), float(n), str(n))
                for category, n in report.complaints_by_category().items()
            ],
            "no complaints received this month",
        ),
        "sla-compliance": _sla_chart(report),
        "warranty-reasons": _bar_chart(
            "warranty-reasons",
            "Warranty decisions by reason code",
            [(_label(code), float(n), str(n)) for code, n in report.warranty_reasons.items()],
            "no warranty decisions this month",
        ),
        "satisfaction": _satisfaction_chart(report),
        "kpi-vs-target": _kpi_chart(report.kpis),
    }


_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2933; background: #ffffff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d9e2ec; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.muted, p.meta { color: #616e7c; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; padding: 0; list-style: none; }
.cards li { border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.cards strong { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 3px 10px 3px 0; text-align: left;
  vertical-align: top; }
th { color: #52606d; font-weight: 600; background: #ffffff; }
div.scroll { max-height: 22em; overflow: auto; display: inline-block; max-width: 100%; }
div.scroll th { position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0 4px; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #1f2933; }
svg.chart text.muted { fill: #616e7c; }
svg.chart text.caption { font-weight: 600; font-size: 13px; }
svg.chart text.group { font-weight: 600; }
p.note { background: #fff8e1; padding: 6px 10px; border-left: 3px solid #f9a825; }
@media print {
  body { padding: 0; } h2 { break-after: avoid; } svg.chart { break-inside: avoid; }
  div.scroll { max-height: none; overflow: visible; }
}
"""


def _html_table(table: _Table, max_rows: int) -> str:
    parts = [f"<h3>{_e(table.title)}</h3>"]
    if not table.rows:
        parts.append(f'<p class="muted">{_e(table.empty)}</p>')
        return "\n".join(parts)

    def cls(i: int) -> str:
        return ' class="num"' if i in table.numeric else ""

    limit = max_rows if table.is_list else len(table.rows)
    head = "".join(f'<th scope="col"{cls(i)}>{_e(h)}</th>' for i, h in enumerate(table.header))
    body = []
    for n, row in enumerate(table.rows[:limit]):
        cells = "".join(f"<td{cls(i)}>{_e(cell)}</td>" for i, cell in enumerate(row))
        total = table.key == "complaint-table" and n == len(table.rows) - 1
        body.append(f"<tr{_TOTAL_ROW if total else ''}>{cells}</tr>")
    scroll = ' class="scroll"' if table.is_list else ""
    parts.append(
        f'<div{scroll}><table data-table="{table.key}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    if len(table.rows) > limit:
        parts.append(
            f'<p class="muted">... and {len(table.rows) - limit} more rows '
            "(see the JSON output).</p>"
        )
    if table.note:
        parts.append(f'<p class="note">{_e(table.note)}</p>')
    return "\n".join(parts)


def _cards(report: OperationsReport) -> str:
    resolve = report.sla_for(SlaKind.RESOLVE)
    main_survey = max(report.satisfaction, key=lambda s: s.result.responses, default=None)
    first = None if main_survey is None else main_survey.result
    survey = "" if main_survey is None else f" ({_short(main_survey.title, 24)})"
    service_level = next(
        (f for f in report.kpis.figures if f.kpi is ContactKpi.SERVICE_LEVEL), None
    )
    cards = (
        ("orders awaiting stock", str(len(report.awaiting_stock))),
        ("orders awaiting payment", str(len(report.awaiting_payment))),
        ("complaints received", str(report.complaints.total)),
        ("resolved on time", _pct(resolve.rate, 0)),
        ("escalated, still open", str(len(report.escalated))),
        ("follow-ups missed", str(len(report.missing_follow_ups))),
        (f"CSAT{survey}", "-" if first is None or first.csat is None else f"{first.csat:.1f} %"),
        (f"NPS{survey}", "-" if first is None or first.nps is None else f"{first.nps:.1f}"),
        ("service level", "-" if service_level is None else _kpi_value(service_level)),
    )
    items = "".join(f"<li><strong>{_e(value)}</strong>{_e(name)}</li>" for name, value in cards)
    return f'<ul class="cards">{items}</ul>'


def render_html(report: OperationsReport, *, max_rows: int = 200) -> str:
    """One self-contained HTML page: tables and inline SVG charts, no script, no network.

    Each chart is an ``<svg data-chart="...">`` (names in :data:`CHARTS`) with one element
    per data point carrying ``data-value``; a chart without data says so and carries
    ``data-empty="true"``. All text is escaped.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    zone = ZoneInfo(report.tz)
    tables = _tables(report)
    charts = _charts(report)

    def table(key: str) -> str:
        return _html_table(tables[key], max_rows)

    title = f"Operations report {report.month}"
    sections = [
        ("orders", "Orders", [table("awaiting-stock"), table("awaiting-payment")]),
        ("returns", "Returns and damage", [charts["returns-by-reason"], table("returns")]),
        (
            "complaints",
            "Complaints",
            [
                charts["complaint-categories"],
                table("complaint-table"),
                table("complaint-figures"),
                charts["sla-compliance"],
                table("sla"),
                table("overdue"),
                table("escalated"),
                table("missing-follow-ups"),
            ],
        ),
        (
            "warranty",
            "Warranty",
            [
                charts["warranty-reasons"],
                table("warranty-reasons"),
                table("suspect-claims"),
                table("claim-rate-outliers"),
            ],
        ),
        ("satisfaction", "Customer satisfaction", [charts["satisfaction"], table("satisfaction")]),
        ("contact-centre", "Contact centre", [charts["kpi-vs-target"], table("kpis")]),
    ]
    body = [
        "<header>",
        f"<h1>{_e(title)} \u2014 {_e(_month_title(report))}</h1>",
        (
            f'<p class="meta">Period {_e(_when(report.start, zone))} to '
            f"{_e(_when(report.end, zone))} ({_e(report.tz)}); backlog as of "
            f"{_e(_when(report.as_of, zone))}. Generated by csdomain {_e(__version__)}.</p>"
        ),
        "</header>",
        "<main>",
        _cards(report),
    ]
    for key, heading, parts in sections:
        body += [f'<section id="{key}">', f"<h2>{_e(heading)}</h2>", *parts, "</section>"]
    body.append("</main>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
