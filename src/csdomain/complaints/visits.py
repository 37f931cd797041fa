"""The monthly visit report (回访总结报告, docs/domain.md 3.5): visits, outcomes, answers.

The follow-up visits of the complaints are the visit log; :func:`visit_report` sums up the
visits made in a period per local month: how many, the outcomes, the satisfied customers'
suggestions and what the neutral and dissatisfied ones want improved (the visit script:
satisfied → suggestions; not satisfied or neutral → what to improve). Pure: the
complaints come in as an iterable, read once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from csdomain.clock import utc
from csdomain.complaints.follow_up import FollowUp, FollowUpOutcome
from csdomain.complaints.model import Complaint
from csdomain.errors import ValidationError


__all__ = ["VisitMonth", "VisitRemark", "visit_report"]

_DECEMBER = 12


@attrs.frozen
class VisitRemark:
    """One answer to the visit script: a suggestion or what to improve."""

    complaint_id: str
    customer_id: str
    at: datetime
    outcome: FollowUpOutcome
    text: str


@attrs.frozen
class VisitMonth:
    """The visits of one local month (``YYYY-MM``) and what the customers said."""

    month: str
    visits: int
    #: Visits per outcome (every outcome, zero included).
    outcomes: Mapping[FollowUpOutcome, int]
    #: The satisfied customers' suggestions, in the order of the visits.
    suggestions: tuple[VisitRemark, ...]
    #: What the neutral and dissatisfied customers want improved, in the order of the visits.
    improvements: tuple[VisitRemark, ...]

    @property
    def satisfied_rate(self) -> float | None:
        """Share of the month's visits with a satisfied customer (``None`` without visits)."""
        if not self.visits:
            return None
        return self.outcomes[FollowUpOutcome.SATISFIED] / self.visits


def _month(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def _months(start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    """Every local month that ``[start, end)`` touches, in order."""
    first = start.astimezone(zone)
    last = (end - timedelta(microseconds=1)).astimezone(zone)
    year, month = first.year, first.month
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == _DECEMBER else (year, month + 1)
    return months


def visit_report(
    complaints: Iterable[Complaint], start: datetime, end: datetime, tz: str
) -> tuple[VisitMonth, ...]:
    """The visits made in ``[start, end)`` per local month of ``tz`` (docs/domain.md 3.5).

    Every month the period touches has a row, months without visits included. A visit
    belongs to the month of its local time; its answer (``suggestions`` or
    ``improvements``) is listed when one was recorded.
    """
    begin, stop = utc(start, "start"), utc(end, "end")
    if stop <= begin:
        raise ValidationError.at("end", "must be after start")
    zone = ZoneInfo(tz)
    months = _months(begin, stop, zone)
    visits: dict[str, list[tuple[Complaint, FollowUp]]] = {m: [] for m in months}
    for complaint in complaints:
        for visit in complaint.follow_ups:
            if begin <= visit.at < stop:
                visits[_month(visit.at, zone)].append((complaint, visit))
    return tuple(_row(month, visits[month]) for month in months)


def _row(month: str, visits: list[tuple[Complaint, FollowUp]]) -> VisitMonth:
    visits.sort(key=lambda pair: (pair[1].at, pair[0].id))
    outcomes = dict.fromkeys(FollowUpOutcome, 0)
    suggestions: list[VisitRemark] = []
    improvements: list[VisitRemark] = []
    for complaint, visit in visits:
        outcomes[visit.outcome] += 1
        for answers, text in ((suggestions, visit.suggestions), (improvements, visit.improvements)):
            if text:
                answers.append(
                    VisitRemark(complaint.id, complaint.customer_id, visit.at, visit.outcome, text)
                )
    return VisitMonth(
        month=month,
        visits=len(visits),
        outcomes=outcomes,
        suggestions=tuple(suggestions),
        improvements=tuple(improvements),
    )
