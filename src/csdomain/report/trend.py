"""The report's time axis: months, weeks, teams and handlers from one pass over complaints.

:class:`ComplaintTimeline` takes complaints one at a time (streamed from the store) and
keeps only counters and the report month's durations, so one scan of the complaints
gives every month's received, closed, backlog, escalation and service-level figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from csdomain.complaints import (
    CONCLUDED_STATUSES,
    Complaint,
    ComplaintStatus,
    SlaKind,
    SlaOutcome,
    sla_breaches,
)
from csdomain.report.model import (
    AGEING_BUCKETS,
    RESOLUTION_BUCKETS,
    DurationSummary,
    GroupFigures,
    MonthTrend,
    WeekSla,
)


__all__ = [
    "ComplaintTimeline",
    "MonthWindow",
    "bucket_of",
    "concluded_at",
    "handler_of",
    "month_windows",
    "summarise",
    "team_of",
]

#: A month of the axis: its ``YYYY-MM`` label and its bounds in UTC, ``start <= t < end``.
MonthWindow = tuple[str, datetime, datetime]

_UNASSIGNED = "unassigned"


def month_windows(year: int, number: int, zone: ZoneInfo, count: int) -> list[MonthWindow]:
    """The ``count`` calendar months ending with ``year-number``, oldest first, in ``zone``."""
    windows: list[MonthWindow] = []
    index = year * 12 + number - 1
    for back in range(count - 1, -1, -1):
        y, m = divmod(index - back, 12)
        ny, nm = divmod(index - back + 1, 12)
        start = datetime(y, m + 1, 1, tzinfo=zone)
        end = datetime(ny, nm + 1, 1, tzinfo=zone)
        windows.append((f"{y:04d}-{m + 1:02d}", start, end))
    return windows


def bucket_of(age: timedelta, buckets: Sequence[tuple[str, timedelta | None]]) -> int:
    """The index of the band ``age`` falls in: the first whose upper bound exceeds it."""
    for i, (_label, upper) in enumerate(buckets):
        if upper is None or age < upper:
            return i
    return len(buckets) - 1


def concluded_at(complaint: Complaint) -> datetime | None:
    """When a complaint was answered for good: rejected, or (last) resolved; else ``None``."""
    if complaint.status not in CONCLUDED_STATUSES:
        return None
    if complaint.status is ComplaintStatus.REJECTED:
        rejected = ComplaintStatus.REJECTED.value
        moments = [change.at for change in complaint.history if change.to == rejected]
        return moments[-1] if moments else None
    return complaint.resolved_at


def team_of(complaint: Complaint) -> str:
    """The team a complaint belongs to: its handling department (``unassigned`` before one)."""
    return complaint.department or _UNASSIGNED


def handler_of(complaint: Complaint) -> str:
    """Who handles a complaint: its named owner, else the person who took it in."""
    if complaint.owner_id:
        return complaint.owner_id
    return complaint.history[0].by if complaint.history else _UNASSIGNED


def summarise(durations: list[timedelta]) -> DurationSummary:
    """Count, median and 90th percentile (the value at rank ``floor(q * (n - 1))``)."""
    if not durations:
        return DurationSummary()
    ordered = sorted(durations)
    last = len(ordered) - 1
    return DurationSummary(len(ordered), ordered[last // 2], ordered[int(0.9 * last)])


def _targets(complaint: Complaint, at: datetime) -> tuple[int, int, int, int]:
    """``(respond due, respond missed, resolve due, resolve missed)`` of one complaint.

    The same reading as the month's service-level table: a target is due when it was met
    or its deadline passed; missed when :func:`~csdomain.complaints.sla_breaches` lists it.
    """
    found = {breach.target for breach in sla_breaches(complaint, at)}
    respond_missed = SlaKind.RESPOND in found
    respond_due = respond_missed or complaint.first_response_at is not None
    resolve_missed = SlaKind.RESOLVE in found
    resolve_due = resolve_missed or complaint.sla_outcome is SlaOutcome.MET
    return int(respond_due), int(respond_missed), int(resolve_due), int(resolve_missed)


@attrs.define
class _Group:
    received: int = 0
    closed: int = 0
    open_now: int = 0
    targets: list[int] = attrs.field(factory=lambda: [0, 0, 0, 0])
    resolution: list[timedelta] = attrs.field(factory=list)

    def figures(self, name: str) -> GroupFigures:
        respond_due, respond_missed, resolve_due, resolve_missed = self.targets
        return GroupFigures(
            name=name,
            received=self.received,
            closed=self.closed,
            open_now=self.open_now,
            respond_due=respond_due,
            respond_missed=respond_missed,
            resolve_due=resolve_due,
            resolve_missed=resolve_missed,
            resolution=summarise(self.resolution),
        )


@attrs.define
class _Month:
    received: int = 0
    closed: int = 0
    backlog: list[int] = attrs.field(factory=lambda: [0] * len(AGEING_BUCKETS))
    escalations: Counter[int] = attrs.field(factory=Counter)
    targets: list[int] = attrs.field(factory=lambda: [0, 0, 0, 0])


def _add(into: list[int], values: tuple[int, ...]) -> None:
    for i, value in enumerate(values):
        into[i] += value


class ComplaintTimeline:
    """Streams complaints into the time axis of the report (docs/domain.md 3).

    ``months`` are the axis (the last one is the report's month); figures are as of
    ``as_of``. Memory: counters per month, week, team and handler, and the durations of
    the report month's complaints.
    """

    def __init__(self, months: Sequence[MonthWindow], as_of: datetime, zone: ZoneInfo) -> None:
        self.months = list(months)
        self.as_of = as_of
        self.zone = zone
        self._month = [_Month() for _ in self.months]
        self._weeks: dict[date, list[int]] = {}
        self._teams: dict[str, _Group] = {}
        self._handlers: dict[str, _Group] = {}
        self._response: list[timedelta] = []
        self._resolution: list[timedelta] = []
        self._distribution = [0] * len(RESOLUTION_BUCKETS)
        self._backlog_now = [0] * len(AGEING_BUCKETS)
        self._ends = [min(end, as_of) for _, _, end in self.months]

    def _index(self, moment: datetime | None) -> int | None:
        if moment is None:
            return None
        for i, (_label, start, end) in enumerate(self.months):
            if start <= moment < end:
                return i
        return None

    def add(self, complaint: Complaint) -> None:
        """Count one complaint."""
        received = complaint.received_at
        closed = concluded_at(complaint)
        for i, end in enumerate(self._ends):
            if received < end and (closed is None or closed >= end):
                self._month[i].backlog[bucket_of(end - received, AGEING_BUCKETS)] += 1
        if complaint.is_open:
            self._backlog_now[bucket_of(self.as_of - received, AGEING_BUCKETS)] += 1
        for step in complaint.escalations:
            at = self._index(step.at)
            if at is not None:
                self._month[at].escalations[step.to_level] += 1
        done = self._index(closed)
        if done is not None:
            self._month[done].closed += 1
        month = self._index(received)
        if month is None:
            return
        targets = _targets(complaint, self.as_of)
        self._month[month].received += 1
        _add(self._month[month].targets, targets)
        local = received.astimezone(self.zone).date()
        week = local - timedelta(days=local.weekday())
        _add(self._weeks.setdefault(week, [0, 0, 0, 0]), targets)
        if month == len(self.months) - 1:
            self._report_month(complaint, closed, targets)

    def _report_month(
        self, complaint: Complaint, closed: datetime | None, targets: tuple[int, ...]
    ) -> None:
        resolved = complaint.resolved_at if closed is not None else None
        if complaint.first_response_at is not None:
            self._response.append(complaint.first_response_at - complaint.received_at)
        if resolved is not None and complaint.status is not ComplaintStatus.REJECTED:
            spent = resolved - complaint.received_at
            self._resolution.append(spent)
            self._distribution[bucket_of(spent, RESOLUTION_BUCKETS)] += 1
        for groups, name in (
            (self._teams, team_of(complaint)),
            (self._handlers, handler_of(complaint)),
        ):
            group = groups.setdefault(name, _Group())
            group.received += 1
            group.closed += closed is not None
            group.open_now += complaint.is_open
            _add(group.targets, targets)
            if resolved is not None and complaint.status is not ComplaintStatus.REJECTED:
                group.resolution.append(resolved - complaint.received_at)

    def trend(self, orders_placed: Sequence[int]) -> tuple[MonthTrend, ...]:
        """Every month of the axis with its ``orders_placed`` (one count per month)."""
        return tuple(
            MonthTrend(
                label,
                orders_placed[i],
                figures.received,
                figures.closed,
                tuple(figures.backlog),
                dict(sorted(figures.escalations.items())),
                *figures.targets,
            )
            for i, ((label, _start, _end), figures) in enumerate(
                zip(self.months, self._month, strict=True)
            )
        )

    def weeks(self) -> tuple[WeekSla, ...]:
        """The weeks of the axis that received complaints, oldest first."""
        return tuple(WeekSla(week, *counts) for week, counts in sorted(self._weeks.items()))

    def teams(self) -> tuple[GroupFigures, ...]:
        """The report month's complaints per team, most received first."""
        return _ranked(self._teams)

    def handlers(self) -> tuple[GroupFigures, ...]:
        """The report month's complaints per handler, most received first."""
        return _ranked(self._handlers)

    def response(self) -> DurationSummary:
        """Elapsed time from receipt to first response, report month."""
        return summarise(self._response)

    def resolution(self) -> DurationSummary:
        """Elapsed time from receipt to resolution, report month."""
        return summarise(self._resolution)

    def distribution(self) -> tuple[int, ...]:
        """The report month's resolutions per :data:`RESOLUTION_BUCKETS` band."""
        return tuple(self._distribution)

    def backlog_now(self) -> tuple[int, ...]:
        """Open complaints at ``as_of`` per :data:`AGEING_BUCKETS` band."""
        return tuple(self._backlog_now)


def _ranked(groups: dict[str, _Group]) -> tuple[GroupFigures, ...]:
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1].received, kv[0]))
    return tuple(group.figures(name) for name, group in ranked)
