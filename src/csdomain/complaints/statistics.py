"""Complaint statistics (顾客投诉分类统计表, docs/domain.md 3.2 step 7).

:class:`ComplaintStatistics` is a streaming, mergeable accumulator with bounded memory;
:meth:`ComplaintStatistics.report` gives the :class:`ComplaintReport`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.complaints.classification import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintUrgency,
)
from csdomain.complaints.model import CONCLUDED_STATUSES, Complaint, ComplaintStatus
from csdomain.complaints.sla import SlaOutcome
from csdomain.errors import ValidationError
from csdomain.lifecycle import last_entered, spans_in
from csdomain.validators import instance_of, positive_int


__all__ = [
    "CauseCount",
    "ClassificationRow",
    "ComplaintReport",
    "ComplaintStatistics",
    "DurationSketch",
    "TopCounter",
]


_MIN_SECONDS = 1e-3
_MAX_SECONDS = timedelta.max.total_seconds()


@attrs.define
class DurationSketch:
    """A mergeable quantile sketch of durations with bounded relative error.

    Durations go into log-spaced buckets ``(g**(k-1), g**k]`` seconds with
    ``g = (1 + a) / (1 - a)``, ``a`` being ``relative_error``; a quantile is answered with
    the bucket's midpoint ``2 * g**k / (g + 1)``, within relative error ``a`` of the true
    value (durations under one millisecond count as zero). With the default ``a`` (just
    under 1 %) every duration from 1 ms up to ``timedelta.max`` falls into one of fewer
    than 2,000 buckets, so memory stays bounded whatever the number of durations added.
    """

    relative_error: float = 0.0099
    count: int = 0
    zeros: int = 0
    buckets: dict[int, int] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        error = self.relative_error
        if isinstance(error, bool) or not isinstance(error, int | float) or not 0 < error < 1:
            raise ValidationError.at("relative_error", "must lie between 0 and 1")

    @property
    def _gamma(self) -> float:
        return (1 + self.relative_error) / (1 - self.relative_error)

    def add(self, value: timedelta) -> None:
        """Count one duration (negative durations count as zero)."""
        self.add_all((value,))

    def add_all(self, values: Iterable[timedelta]) -> None:
        """Count every duration of ``values``, in one pass."""
        log_gamma = math.log(self._gamma)
        buckets = self.buckets
        count = zeros = 0
        for value in values:
            seconds = value.total_seconds()
            count += 1
            if seconds < _MIN_SECONDS:
                zeros += 1
                continue
            key = math.ceil(math.log(seconds) / log_gamma)
            buckets[key] = buckets.get(key, 0) + 1
        self.count += count
        self.zeros += zeros

    def merge(self, other: DurationSketch) -> DurationSketch:
        """A new sketch holding the durations of both (same relative error required)."""
        if other.relative_error != self.relative_error:
            raise ValidationError.at("relative_error", "sketches with different errors")
        merged = dict(self.buckets)
        for key, n in other.buckets.items():
            merged[key] = merged.get(key, 0) + n
        return DurationSketch(
            relative_error=self.relative_error,
            count=self.count + other.count,
            zeros=self.zeros + other.zeros,
            buckets=merged,
        )

    def quantile(self, q: float) -> timedelta | None:
        """The ``q``-quantile: the value at rank ``floor(q * (count - 1))`` of the sorted
        durations, within the relative error (``None`` when empty)."""
        if not 0 <= q <= 1:
            raise ValidationError.at("q", "a quantile lies between 0 and 1")
        if not self.count:
            return None
        rank = math.floor(q * (self.count - 1))
        seen = self.zeros
        if rank < seen:
            return timedelta(0)
        gamma = self._gamma
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if rank < seen:
                estimate = 2 * gamma**key / (gamma + 1)
                return timedelta.max if estimate >= _MAX_SECONDS else timedelta(seconds=estimate)
        raise AssertionError("bucket counts do not add up")  # pragma: no cover


@attrs.define
class TopCounter:
    """Approximate counts of the most frequent items in bounded memory (Misra-Gries).

    Keeps at most ``capacity`` counters; each reported count is at most
    ``total / (capacity + 1)`` below the true count, and exact while there were no
    more than ``capacity`` distinct items. Two counters merge (Agarwal et al., 2012).
    """

    capacity: int = attrs.field(default=64, validator=positive_int)
    total: int = 0
    counters: dict[str, int] = attrs.field(factory=dict)

    def add(self, item: str) -> None:
        """Count one occurrence of ``item``."""
        self.add_all((item,))

    def add_all(self, items: Iterable[str]) -> None:
        """Count every item of ``items`` in turn."""
        capacity = self.capacity
        counters = self.counters
        total = 0
        for item in items:
            total += 1
            if item in counters:
                counters[item] += 1
            elif len(counters) < capacity:
                counters[item] = 1
            else:
                counters = {k: n - 1 for k, n in counters.items() if n > 1}
        self.counters = counters
        self.total += total

    def merge(self, other: TopCounter) -> TopCounter:
        """A new counter summarising both streams (same capacity required)."""
        if other.capacity != self.capacity:
            raise ValidationError.at("capacity", "counters with different capacities")
        combined = dict(self.counters)
        for key, n in other.counters.items():
            combined[key] = combined.get(key, 0) + n
        if len(combined) > self.capacity:
            cut = sorted(combined.values(), reverse=True)[self.capacity]
            combined = {k: n - cut for k, n in combined.items() if n > cut}
        return TopCounter(capacity=self.capacity, total=self.total + other.total, counters=combined)

    def top(self, n: int) -> tuple[tuple[str, int], ...]:
        """The ``n`` items with the highest counts, highest first (ties by name)."""
        ranked = sorted(self.counters.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(ranked[:n])


@attrs.frozen
class ClassificationRow:
    """One cell of the complaint classification table (顾客投诉分类统计表)."""

    category: ComplaintCategory
    nature: ComplaintNature
    urgency: ComplaintUrgency
    count: int


@attrs.frozen
class CauseCount:
    """A cause and how often it was found (a lower bound beyond the counter's capacity)."""

    cause: str
    count: int


#: Durations and causes counted per batch by ``add_all_fields`` (bounds its memory).
_BATCH = 4096
_RESOLVED = ComplaintStatus.RESOLVED.value
_ON_HOLD = ComplaintStatus.ON_HOLD.value


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen
class ComplaintReport:
    """The complaint statistics table and its key figures (docs/domain.md 3.2 step 7)."""

    total: int
    rows: tuple[ClassificationRow, ...]
    by_status: Mapping[ComplaintStatus, int]
    by_channel: Mapping[ComplaintChannel, int]
    #: Founded / (founded + rejected); ``None`` when nothing was assessed yet.
    founded_rate: float | None
    #: Resolved within the resolution target / resolved.
    within_sla_rate: float | None
    response_median: timedelta | None
    response_p90: timedelta | None
    resolution_median: timedelta | None
    resolution_p90: timedelta | None
    #: Complaints reopened at least once / complaints ever resolved or reopened.
    reopen_rate: float | None
    #: Escalation steps by the level they reached.
    escalations_by_level: Mapping[int, int]
    top_causes: tuple[CauseCount, ...]

    def count(
        self,
        *,
        category: ComplaintCategory | None = None,
        nature: ComplaintNature | None = None,
        urgency: ComplaintUrgency | None = None,
    ) -> int:
        """Complaints in the cells matching the given classification (a table margin)."""
        return sum(
            row.count
            for row in self.rows
            if (category is None or row.category is category)
            and (nature is None or row.nature is nature)
            and (urgency is None or row.urgency is urgency)
        )


_Cell = tuple[ComplaintCategory, ComplaintNature, ComplaintUrgency]


def _add_counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    merged = dict(a)
    for key, n in b.items():
        merged[key] = merged.get(key, 0) + n
    return merged


@attrs.define
class ComplaintStatistics:
    """A streaming, mergeable accumulator of the complaint statistics table.

    ``add`` one complaint at a time (e.g. streamed from the store); ``merge`` two
    accumulators built on the same calendar (e.g. per shard or per month). Memory is
    bounded whatever the number of complaints: fixed-size count tables, two
    :class:`DurationSketch` es (relative error under 1 %) and a :class:`TopCounter` of
    causes. Times to respond and to resolve are business time on ``calendar``; time
    spent on hold is not counted.
    """

    calendar: BusinessCalendar = attrs.field(validator=instance_of(BusinessCalendar))
    cause_capacity: int = attrs.field(default=64, validator=positive_int)
    total: int = 0
    cells: dict[_Cell, int] = attrs.field(factory=dict)
    statuses: dict[ComplaintStatus, int] = attrs.field(factory=dict)
    channels: dict[ComplaintChannel, int] = attrs.field(factory=dict)
    founded: int = 0
    rejected: int = 0
    sla_met: int = 0
    sla_missed: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    escalations: dict[int, int] = attrs.field(factory=dict)
    response_times: DurationSketch = attrs.field(factory=DurationSketch)
    resolution_times: DurationSketch = attrs.field(factory=DurationSketch)
    causes: TopCounter = attrs.field(
        default=attrs.Factory(
            lambda self: TopCounter(capacity=self.cause_capacity), takes_self=True
        )
    )

    #: The complaint fields :meth:`add_fields` reads, in its order: what a store reads
    #: for the statistics instead of whole complaints (``Repository.scan_fields``).
    FIELDS: ClassVar[tuple[str, ...]] = (
        "category",
        "nature",
        "urgency",
        "status",
        "channel",
        "founded",
        "sla_outcome",
        "reopen_count",
        "escalations.to_level",
        "received_at",
        "first_response_at",
        "history.to",
        "history.at",
        "cause",
    )

    def _business_time(
        self,
        received_at: datetime,
        end: datetime,
        holds: Iterable[tuple[datetime, datetime | None]],
    ) -> timedelta:
        spent = self.calendar.business_time_between(received_at, end)
        for start, stop in holds:
            if start >= end:
                break
            finish = end if stop is None else min(stop, end)
            spent -= self.calendar.business_time_between(start, finish)
        return max(spent, timedelta(0))

    def add(self, complaint: Complaint) -> ComplaintStatistics:
        """Count one complaint; returns the accumulator for chaining."""
        return self.add_all_fields((_fields_of(complaint),))

    def add_fields(self, row: Sequence[Any]) -> ComplaintStatistics:
        """Count one complaint given as its :attr:`FIELDS` (in that order, as
        ``Repository.scan_fields(ComplaintStatistics.FIELDS)`` reads them; values after
        them are ignored): the same counts as :meth:`add` of the whole complaint."""
        return self.add_all_fields((row,))

    def add_all(self, complaints: Iterable[Complaint]) -> ComplaintStatistics:
        """Count every complaint of ``complaints``; returns the accumulator."""
        return self.add_all_fields(map(_fields_of, complaints))

    def add_all_fields(self, rows: Iterable[Sequence[Any]]) -> ComplaintStatistics:
        """:meth:`add_fields` of every row of ``rows``, in one pass; returns the accumulator.

        Durations and causes are counted in batches of bounded size, so memory stays
        bounded whatever the number of rows.
        """
        between = self.calendar.business_time_between
        cells, statuses, channels = self.cells, self.statuses, self.channels
        escalations = self.escalations
        total = founded_n = rejected_n = met = missed = ever = reopened = 0
        responses: list[timedelta] = []
        resolutions: list[timedelta] = []
        causes: list[str] = []
        for row in rows:
            (
                category,
                nature,
                urgency,
                status,
                channel,
                founded,
                sla_outcome,
                reopen_count,
                levels,
                received_at,
                first_response_at,
                moves,
                moments,
                cause,
            ) = row[:14]
            total += 1
            cell = (category, nature, urgency)
            cells[cell] = cells.get(cell, 0) + 1
            statuses[status] = statuses.get(status, 0) + 1
            channels[channel] = channels.get(channel, 0) + 1
            if founded is True:
                founded_n += 1
            elif founded is False:
                rejected_n += 1
            if sla_outcome is SlaOutcome.MET:
                met += 1
            elif sla_outcome is SlaOutcome.MISSED:
                missed += 1
            if reopen_count:
                reopened += 1
            for level in levels:
                escalations[level] = escalations.get(level, 0) + 1
            resolved_at = last_entered(_RESOLVED, moves, moments)
            if resolved_at is not None or reopen_count:
                ever += 1
            if first_response_at is not None:
                responses.append(between(received_at, first_response_at))
            if resolved_at is not None and status in CONCLUDED_STATUSES:
                holds = spans_in(_ON_HOLD, moves, moments) if _ON_HOLD in moves else ()
                resolutions.append(self._business_time(received_at, resolved_at, holds))
            if cause is not None:
                causes.append(" ".join(cause.split()).casefold())
            if len(responses) >= _BATCH or len(resolutions) >= _BATCH or len(causes) >= _BATCH:
                self._flush(responses, resolutions, causes)
        self._flush(responses, resolutions, causes)
        self.total += total
        self.founded += founded_n
        self.rejected += rejected_n
        self.sla_met += met
        self.sla_missed += missed
        self.ever_resolved += ever
        self.reopened += reopened
        return self

    def _flush(
        self, responses: list[timedelta], resolutions: list[timedelta], causes: list[str]
    ) -> None:
        self.response_times.add_all(responses)
        self.resolution_times.add_all(resolutions)
        self.causes.add_all(causes)
        responses.clear()
        resolutions.clear()
        causes.clear()

    def merge(self, other: ComplaintStatistics) -> ComplaintStatistics:
        """A new accumulator counting both; both must use the same calendar."""
        if other.calendar != self.calendar:
            raise ValidationError.at("calendar", "statistics on different calendars")
        return ComplaintStatistics(
            calendar=self.calendar,
            cause_capacity=self.cause_capacity,
            total=self.total + other.total,
            cells=_add_counts(self.cells, other.cells),
            statuses=_add_counts(self.statuses, other.statuses),
            channels=_add_counts(self.channels, other.channels),
            founded=self.founded + other.founded,
            rejected=self.rejected + other.rejected,
            sla_met=self.sla_met + other.sla_met,
            sla_missed=self.sla_missed + other.sla_missed,
            ever_resolved=self.ever_resolved + other.ever_resolved,
            reopened=self.reopened + other.reopened,
            escalations=_add_counts(self.escalations, other.escalations),
            response_times=self.response_times.merge(other.response_times),
            resolution_times=self.resolution_times.merge(other.resolution_times),
            causes=self.causes.merge(other.causes),
        )

    def report(self, *, top: int = 10) -> ComplaintReport:
        """The classification table and key figures; ``top`` causes are listed."""
        rows = tuple(
            ClassificationRow(category=c, nature=n, urgency=u, count=count)
            for (c, n, u), count in sorted(self.cells.items())
        )
        return ComplaintReport(
            total=self.total,
            rows=rows,
            by_status=dict(self.statuses),
            by_channel=dict(self.channels),
            founded_rate=_rate(self.founded, self.founded + self.rejected),
            within_sla_rate=_rate(self.sla_met, self.sla_met + self.sla_missed),
            response_median=self.response_times.quantile(0.5),
            response_p90=self.response_times.quantile(0.9),
            resolution_median=self.resolution_times.quantile(0.5),
            resolution_p90=self.resolution_times.quantile(0.9),
            reopen_rate=_rate(self.reopened, self.ever_resolved),
            escalations_by_level=dict(sorted(self.escalations.items())),
            top_causes=tuple(CauseCount(cause, n) for cause, n in self.causes.top(top)),
        )


def _fields_of(complaint: Complaint) -> tuple[Any, ...]:
    """The :attr:`ComplaintStatistics.FIELDS` of a whole complaint, in their order."""
    history = complaint.history
    return (
        complaint.category,
        complaint.nature,
        complaint.urgency,
        complaint.status,
        complaint.channel,
        complaint.founded,
        complaint.sla_outcome,
        complaint.reopen_count,
        tuple([step.to_level for step in complaint.escalations]),
        complaint.received_at,
        complaint.first_response_at,
        tuple([change.to for change in history]),
        tuple([change.at for change in history]),
        complaint.cause,
    )
