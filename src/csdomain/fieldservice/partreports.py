"""Spare-part reports: the monthly reconciliation, the reserve plan and the stock's age.

- :func:`reconcile_parts`: a service point's monthly parts reconciliation (parts settled
  per job and reconciled monthly, 单单结, 月对账): per part number the opening balance,
  what was received, transferred in and out, issued to jobs and written off, the closing
  balance and, when the point counted its stock, the difference; per job the parts
  issued and whether the job was settled; short receipts. Every difference is flagged.
- :func:`reserve_plan`: planned replacements 1:1 of the parts used in a period.
- :func:`stock_age`: the share of part stock younger than 3 months, against the 80 %
  target (配件账龄周期80%控制在3个月内).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from csdomain.errors import ValidationError
from csdomain.fieldservice.charges import ChargeKind
from csdomain.fieldservice.order import ServiceOrder
from csdomain.fieldservice.partstock import MovementKind, PartMovement, PartStock, PartTransfer
from csdomain.money import Money


__all__ = [
    "JobParts",
    "PartReconciliation",
    "ReconciliationLine",
    "ReserveLine",
    "ReservePlan",
    "StockAge",
    "reconcile_parts",
    "reserve_plan",
    "stock_age",
]


@attrs.frozen(kw_only=True)
class ReconciliationLine:
    """One part number of a month: opening + in - out = closing, against the count."""

    part_number: str
    opening: int
    received: int
    transferred_in: int
    issued: int
    transferred_out: int
    written_off: int
    #: The stock the point counted at the end of the month (``None``: not counted).
    counted: int | None = None

    @property
    def closing(self) -> int:
        """The book balance at the end of the month."""
        return (
            self.opening
            + self.received
            + self.transferred_in
            - self.issued
            - self.transferred_out
            - self.written_off
        )

    @property
    def difference(self) -> int:
        """Counted less the book balance (0 when not counted)."""
        return 0 if self.counted is None else self.counted - self.closing

    @property
    def flagged(self) -> bool:
        """Whether the count differs from the books."""
        return self.difference != 0


@attrs.frozen(kw_only=True)
class JobParts:
    """The parts a job drew from the point in the month, and whether it was settled."""

    job_id: str
    issued: Mapping[str, int]
    #: Whether the job was settled (单单结) before the month ended.
    settled: bool
    #: What the settlement charged for parts (``None`` until settled).
    parts_charged: Money | None = None

    @property
    def flagged(self) -> bool:
        """A job that drew parts but is not settled by the end of the month."""
        return not self.settled


@attrs.frozen(kw_only=True)
class PartReconciliation:
    """A service point's monthly parts reconciliation (月对账), ``start <= at < end``."""

    service_point_id: str
    start: datetime
    end: datetime
    lines: tuple[ReconciliationLine, ...]
    jobs: tuple[JobParts, ...]
    #: Receipts at the point in the month that came short: note id -> parts missing.
    short_receipts: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether anything differs: a count, an unsettled job, a short receipt."""
        return (
            any(line.flagged for line in self.lines)
            or any(job.flagged for job in self.jobs)
            or bool(self.short_receipts)
        )

    def line(self, part_number: str) -> ReconciliationLine:
        """The line of ``part_number``."""
        for line in self.lines:
            if line.part_number == part_number:
                return line
        raise ValidationError.at("part_number", f"{part_number!r} did not move at this point")


def _job_parts(
    job_id: str, issued: Mapping[str, int], job: ServiceOrder | None, end: datetime, currency: str
) -> JobParts:
    settlement = None if job is None else job.settlement
    if settlement is None or settlement.at >= end:
        return JobParts(job_id=job_id, issued=dict(issued), settled=False)
    charged = Money.total(
        (line.amount for line in settlement.lines if line.kind is ChargeKind.PART), currency
    )
    return JobParts(job_id=job_id, issued=dict(issued), settled=True, parts_charged=charged)


def reconcile_parts(
    service_point_id: str,
    movements: Iterable[PartMovement],
    *,
    start: datetime,
    end: datetime,
    jobs: Mapping[str, ServiceOrder | None],
    transfers: Iterable[PartTransfer] = (),
    counted: Mapping[str, int] | None = None,
    currency: str,
) -> PartReconciliation:
    """The monthly parts reconciliation of one service point.

    Source: parts settled per job and reconciled monthly (单单结, 月对账). ``movements``
    are the point's movements before ``end`` (those before ``start`` make the opening
    balance); ``jobs`` the jobs the month's issues name (``None``: not found);
    ``transfers`` the notes received at the point; ``counted`` the point's month-end
    count per part number.
    """
    if end <= start:
        raise ValidationError.at("end", "is not after start")
    opening: dict[str, int] = {}
    flows: dict[str, dict[MovementKind, int]] = {}
    issued: dict[str, dict[str, int]] = {}
    for move in movements:
        if move.service_point_id != service_point_id or move.at >= end:
            continue
        if move.at < start:
            opening[move.part_number] = opening.get(move.part_number, 0) + move.signed_quantity
            continue
        part_flows = flows.setdefault(move.part_number, {})
        part_flows[move.kind] = part_flows.get(move.kind, 0) + move.quantity
        if move.kind is MovementKind.ISSUED:
            job = issued.setdefault(move.reference, {})
            job[move.part_number] = job.get(move.part_number, 0) + move.quantity
    counts = dict(counted or {})
    numbers = sorted(set(opening) | set(flows) | set(counts))
    lines = tuple(
        ReconciliationLine(
            part_number=number,
            opening=opening.get(number, 0),
            received=flows.get(number, {}).get(MovementKind.RECEIVED, 0),
            transferred_in=flows.get(number, {}).get(MovementKind.TRANSFERRED_IN, 0),
            issued=flows.get(number, {}).get(MovementKind.ISSUED, 0),
            transferred_out=flows.get(number, {}).get(MovementKind.TRANSFERRED_OUT, 0),
            written_off=flows.get(number, {}).get(MovementKind.WRITTEN_OFF, 0),
            counted=counts.get(number),
        )
        for number in numbers
    )
    short = {
        note.id: note.shortfall
        for note in transfers
        if note.destination_point_id == service_point_id
        and note.received_at is not None
        and start <= note.received_at < end
        and note.shortfall
    }
    return PartReconciliation(
        service_point_id=service_point_id,
        start=start,
        end=end,
        lines=lines,
        jobs=tuple(
            _job_parts(job_id, parts, jobs.get(job_id), end, currency)
            for job_id, parts in sorted(issued.items())
        ),
        short_receipts=short,
    )


@attrs.frozen(kw_only=True)
class ReserveLine:
    """The reserve of one part: used in the period, planned 1:1, on hand, to order."""

    part_number: str
    used: int
    planned: int
    on_hand: int

    @property
    def to_order(self) -> int:
        """What brings the stock up to the planned reserve."""
        return max(0, self.planned - self.on_hand)


@attrs.frozen(kw_only=True)
class ReservePlan:
    """A service point's part reserve plan from its service history."""

    service_point_id: str
    start: datetime
    end: datetime
    lines: tuple[ReserveLine, ...]


def reserve_plan(
    service_point_id: str,
    movements: Iterable[PartMovement],
    stocks: Iterable[PartStock],
    *,
    start: datetime,
    end: datetime,
    ratio: int,
) -> ReservePlan:
    """The reserve plan: ``ratio`` (1) planned replacement per part used in the period.

    Source: a reserve plan from service history, planned replacements 1:1. The parts
    used are the point's issues to jobs in ``start < at <= end``; every part on hand or
    used gets a line.
    """
    used: dict[str, int] = {}
    for move in movements:
        if (
            move.service_point_id == service_point_id
            and move.kind is MovementKind.ISSUED
            and start < move.at <= end
        ):
            used[move.part_number] = used.get(move.part_number, 0) + move.quantity
    on_hand = {
        stock.part_number: stock.on_hand
        for stock in stocks
        if stock.service_point_id == service_point_id
    }
    numbers = sorted(set(used) | {n for n, q in on_hand.items() if q})
    return ReservePlan(
        service_point_id=service_point_id,
        start=start,
        end=end,
        lines=tuple(
            ReserveLine(
                part_number=number,
                used=used.get(number, 0),
                planned=used.get(number, 0) * ratio,
                on_hand=on_hand.get(number, 0),
            )
            for number in numbers
        ),
    )


@attrs.frozen(kw_only=True)
class StockAge:
    """The age of part stock: how much of it is younger than the window, and the target."""

    service_point_id: str | None
    on_hand: int
    young: int
    target: Decimal

    @property
    def share(self) -> float | None:
        """The share of stock younger than the window (``None`` with nothing on hand)."""
        return None if not self.on_hand else self.young / self.on_hand

    @property
    def met(self) -> bool:
        """Whether the share reaches the target (no stock meets it)."""
        share = self.share
        return share is None or Decimal(self.young) >= self.target * self.on_hand


def stock_age(
    stocks: Iterable[PartStock], *, on: date, months: int, target: Decimal
) -> tuple[StockAge, tuple[StockAge, ...]]:
    """The share of part stock younger than ``months`` on ``on``: overall and per point.

    Source: 配件账龄周期80%控制在3个月内 (80 % of part stock younger than 3 months). A lot
    is young when it came into the network less than ``months`` calendar months before
    ``on``.
    """
    cutoff = on - relativedelta(months=months)
    per_point: dict[str, tuple[int, int]] = {}
    for stock in stocks:
        held, young = per_point.get(stock.service_point_id, (0, 0))
        per_point[stock.service_point_id] = (
            held + stock.on_hand,
            young + stock.younger_than(cutoff),
        )
    points = tuple(
        StockAge(service_point_id=point, on_hand=held, young=young, target=target)
        for point, (held, young) in sorted(per_point.items())
    )
    overall = StockAge(
        service_point_id=None,
        on_hand=sum(p.on_hand for p in points),
        young=sum(p.young for p in points),
        target=target,
    )
    return overall, points
