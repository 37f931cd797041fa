"""The operations report's model: what :func:`~csdomain.report.gather_report` collects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import attrs

from csdomain.auth import Actor
from csdomain.complaints import (
    ComplaintCategory,
    ComplaintReport,
    ComplaintStatus,
    ComplaintUrgency,
    EscalationReason,
    SlaBreach,
    SlaKind,
)
from csdomain.errors import ValidationError
from csdomain.fieldservice import ServiceKpis
from csdomain.i18n import N_
from csdomain.kpi import KpiReport, OrderKpis
from csdomain.money import Money
from csdomain.orders import AwaitingStock, OrderKind, OrderStatus
from csdomain.returns import ReturnAnalysisRow
from csdomain.satisfaction import Interval, SurveyResult
from csdomain.warranty import OutlierFlag, QualityTrend, ServicePointPeriod, WarrantyClaimStatus


__all__ = [
    "AGEING_BUCKETS",
    "REPORT_ACTOR",
    "RESOLUTION_BUCKETS",
    "TAMPERING_SIGNALS",
    "AwaitingPayment",
    "ClaimRateData",
    "DurationSummary",
    "EscalatedComplaint",
    "GroupFigures",
    "Headline",
    "MissingFollowUp",
    "MonthTrend",
    "OperationsReport",
    "SatisfactionFigures",
    "SatisfactionMonth",
    "SlaCompliance",
    "SuspectClaim",
    "WeekSla",
    "parse_month",
]

#: The actor the command line reports as: a customer-service manager, who may read every
#: figure (``report.view``) and the follow-up list (``complaint.handle``). The report only
#: runs read-only units of work.
REPORT_ACTOR = Actor("report", frozenset({"cs_manager"}), "Operations report (read-only)")

#: Warranty reason codes that point at a tampered claim (docs/domain.md 4, exclusion 2:
#: 涂改三包凭证, 序列号不符); such claims are listed for audit with the manual overrides.
TAMPERING_SIGNALS: tuple[str, ...] = ("certificate_altered", "serial_mismatch")

#: The age bands of the open-complaint backlog (time since receipt), each ``(label, upper
#: bound)``, the last without one. A presentation choice of the report, not a business rule.
AGEING_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    (N_("under 1 day"), timedelta(days=1)),
    (N_("1-3 days"), timedelta(days=3)),
    (N_("3-7 days"), timedelta(days=7)),
    (N_("7-30 days"), timedelta(days=30)),
    (N_("over 30 days"), None),
)
#: The bands of the resolution-time distribution (elapsed time from receipt to the
#: resolution), as :data:`AGEING_BUCKETS`. A presentation choice of the report.
RESOLUTION_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    (N_("under 1 hour"), timedelta(hours=1)),
    (N_("1-4 hours"), timedelta(hours=4)),
    (N_("4-24 hours"), timedelta(days=1)),
    (N_("1-3 days"), timedelta(days=3)),
    (N_("3-7 days"), timedelta(days=7)),
    (N_("over 7 days"), None),
)

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@attrs.frozen
class AwaitingPayment:
    """A confirmed order that cannot ship before money comes in (docs/domain.md 2: 先付款, 后发货).

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
    """How the month's complaints fared against one service-level target (docs/domain.md 3.3).

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
    """An open complaint above the first rung of the five-level ladder (docs/domain.md 3.4)."""

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
    #: When it first left the first rung; with ``steps`` shows a ladder climbed at once.
    first_escalated_at: datetime | None = None
    steps: int = 0


@attrs.frozen
class MissingFollowUp:
    """A resolved member complaint whose follow-up visit is overdue (docs/domain.md 3.5)."""

    complaint_id: str
    customer_id: str
    status: ComplaintStatus
    resolved_at: datetime | None
    follow_up_due: datetime | None


@attrs.frozen
class SuspectClaim:
    """A warranty claim decided in the month that an audit should look at (docs/domain.md 4).

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
    """One survey's results over the responses answered in the month (docs/domain.md 5).

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


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen
class DurationSummary:
    """How many durations were measured, their median and 90th percentile (exact)."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@attrs.frozen
class MonthTrend:
    """One month of the time axis, in the order time zone (docs/domain.md 3).

    ``complaints_closed`` counts complaints answered for good in the month (resolved, or
    rejected); ``backlog_by_age`` the complaints open at the month's end (or at ``as_of``
    when that is earlier) per :data:`AGEING_BUCKETS` band. The service-level counts are
    those of the month's complaints as of ``as_of``, as in :class:`SlaCompliance`.
    """

    month: str
    orders_placed: int
    complaints_received: int
    complaints_closed: int
    backlog_by_age: tuple[int, ...]
    #: Escalation steps taken in the month, by the level they reached.
    escalations_by_level: Mapping[int, int]
    respond_due: int
    respond_missed: int
    resolve_due: int
    resolve_missed: int

    @property
    def backlog(self) -> int:
        """Complaints open at the month's end."""
        return sum(self.backlog_by_age)

    @property
    def escalations(self) -> int:
        """Escalation steps taken in the month."""
        return sum(self.escalations_by_level.values())

    @property
    def respond_on_time(self) -> float | None:
        """Response targets met on time / due; ``None`` when none was due."""
        return _rate(self.respond_due - self.respond_missed, self.respond_due)

    @property
    def resolve_on_time(self) -> float | None:
        """Resolution targets met on time / due; ``None`` when none was due."""
        return _rate(self.resolve_due - self.resolve_missed, self.resolve_due)


@attrs.frozen
class WeekSla:
    """The service-level targets of the complaints received in one week (Monday first)."""

    week: date
    respond_due: int
    respond_missed: int
    resolve_due: int
    resolve_missed: int

    @property
    def respond_breach_rate(self) -> float | None:
        """Response targets missed / due."""
        return _rate(self.respond_missed, self.respond_due)

    @property
    def resolve_breach_rate(self) -> float | None:
        """Resolution targets missed / due."""
        return _rate(self.resolve_missed, self.resolve_due)


@attrs.frozen
class GroupFigures:
    """The month's complaints of one team (department) or one handler.

    ``open_now`` counts those still open at ``as_of``; ``closed`` those answered for good;
    the service-level counts are as in :class:`SlaCompliance`; ``resolution`` is the
    elapsed time from receipt to resolution of the resolved ones.
    """

    name: str
    received: int
    closed: int
    open_now: int
    respond_due: int
    respond_missed: int
    resolve_due: int
    resolve_missed: int
    resolution: DurationSummary

    @property
    def breach_rate(self) -> float | None:
        """Targets missed / targets due, both targets together."""
        return _rate(self.respond_missed + self.resolve_missed, self.respond_due + self.resolve_due)


@attrs.frozen
class SatisfactionMonth:
    """One survey's CSAT and NPS over the responses answered in one month (docs/domain.md 5)."""

    month: str
    survey_id: str
    responses: int
    csat: float | None
    csat_interval: Interval | None
    nps: float | None
    nps_interval: Interval | None


@attrs.frozen
class Headline:
    """A headline figure of the month beside the month before.

    ``unit`` is ``"count"``, ``"ratio"`` (0..1, its change in percentage points),
    ``"score"`` or ``"seconds"``; ``previous`` is ``None`` when the month before has no
    figure.
    """

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str = "count"

    @property
    def change(self) -> float | None:
        """``value - previous``; ``None`` when either is missing."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


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
    #: The trailing months up to the report's month (at most twelve; fewer when the store
    #: holds less), oldest first.
    trend: tuple[MonthTrend, ...] = ()
    weekly_sla: tuple[WeekSla, ...] = ()
    by_team: tuple[GroupFigures, ...] = ()
    by_handler: tuple[GroupFigures, ...] = ()
    #: Elapsed time from receipt to first response and to resolution, month's complaints.
    response_elapsed: DurationSummary = DurationSummary()
    resolution_elapsed: DurationSummary = DurationSummary()
    #: The month's resolutions per :data:`RESOLUTION_BUCKETS` band (elapsed time).
    resolution_distribution: tuple[int, ...] = ()
    #: Open complaints at ``as_of`` per :data:`AGEING_BUCKETS` band.
    backlog_now: tuple[int, ...] = ()
    satisfaction_trend: tuple[SatisfactionMonth, ...] = ()
    agent_kpis: Mapping[str, KpiReport] = attrs.field(factory=dict)
    order_kpis: OrderKpis | None = None
    order_kpis_previous: OrderKpis | None = None
    service_kpis: ServiceKpis | None = None
    service_kpis_previous: ServiceKpis | None = None
    headlines: tuple[Headline, ...] = ()

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

    def headline(self, key: str) -> Headline:
        """One headline figure by its key."""
        for figure in self.headlines:
            if figure.key == key:
                return figure
        raise ValidationError.at("key", f"no such headline: {key!r}")

    def sla_for(self, target: SlaKind | str) -> SlaCompliance:
        """The compliance of one target (``"respond"`` or ``"resolve"``)."""
        wanted = SlaKind(target)
        for row in self.sla:
            if row.target is wanted:
                return row
        raise ValidationError.at("target", f"no such target: {target!r}")


def parse_month(value: str, path: str = "month") -> tuple[int, int]:
    """``"2026-09"`` as ``(2026, 9)``; anything else is a :class:`ValidationError`."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError.at(path, f"expected a month as YYYY-MM, got {value!r}")
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= 12 or not 1 <= year <= 9998:
        raise ValidationError.at(path, f"no such month: {value!r}")
    return year, number
