"""The operations report's model: what :func:`~csdomain.report.gather_report` collects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

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
from csdomain.kpi import KpiReport
from csdomain.money import Money
from csdomain.orders import AwaitingStock, OrderKind, OrderStatus
from csdomain.returns import ReturnAnalysisRow
from csdomain.satisfaction import Interval, SurveyResult
from csdomain.warranty import OutlierFlag, QualityTrend, ServicePointPeriod, WarrantyClaimStatus


__all__ = [
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
    "parse_month",
]

#: The actor the command line reports as: a customer-service manager, who may read every
#: figure (``report.view``) and the follow-up list (``complaint.handle``). The report only
#: runs read-only units of work.
REPORT_ACTOR = Actor("report", frozenset({"cs_manager"}), "Operations report (read-only)")

#: Warranty reason codes that point at a tampered claim (DOMAIN.md 4, exclusion 2:
#: 涂改三包凭证, 序列号不符); such claims are listed for audit with the manual overrides.
TAMPERING_SIGNALS: tuple[str, ...] = ("certificate_altered", "serial_mismatch")

_MONTH = re.compile(r"(\d{4})-(\d{2})")


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


def parse_month(value: str, path: str = "month") -> tuple[int, int]:
    """``"2026-09"`` as ``(2026, 9)``; anything else is a :class:`ValidationError`."""
    match = _MONTH.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValidationError.at(path, f"expected a month as YYYY-MM, got {value!r}")
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= 12 or not 1 <= year <= 9998:
        raise ValidationError.at(path, f"no such month: {value!r}")
    return year, number
