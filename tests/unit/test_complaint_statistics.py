"""Complaint statistics from chosen fields (csdomain.complaints.statistics, issue #15 item 7).

The rule checked: counting a complaint from its ``ComplaintStatistics.FIELDS`` (as the
store reads them with ``scan_fields``) gives exactly the statistics of counting the whole
complaint, on every bundled backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csdomain
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import (
    CONCLUDED_STATUSES,
    Complaint,
    ComplaintStatistics,
    ComplaintStatus,
    SlaOutcome,
)
from csdomain.kinds import COMPLAINTS
from csdomain.store import Store
from csdomain.store.fields import field_plan
from csdomain.testing.strategies_complaints import complaints


OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
ALWAYS = BusinessCalendar.always()


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = csdomain.open_store(request.param)
    try:
        yield opened
    finally:
        opened.close()


def _before(calendar: BusinessCalendar, batch: list[Complaint]) -> ComplaintStatistics:
    """The statistics as ``ComplaintStatistics.add`` counted them before issue #15 item 7
    (from the whole complaint, with its own ``resolved_at`` and ``hold_periods``): the
    oracle the streamed, field-based counting must agree with."""
    stats = ComplaintStatistics(calendar)

    def business_time(c: Complaint, end: datetime) -> timedelta:
        spent = calendar.business_time_between(c.received_at, end)
        for start, stop in c.hold_periods():
            if start >= end:
                break
            finish = end if stop is None else min(stop, end)
            spent -= calendar.business_time_between(start, finish)
        return max(spent, timedelta(0))

    for c in batch:
        stats.total += 1
        cell = (c.category, c.nature, c.urgency)
        stats.cells[cell] = stats.cells.get(cell, 0) + 1
        stats.statuses[c.status] = stats.statuses.get(c.status, 0) + 1
        stats.channels[c.channel] = stats.channels.get(c.channel, 0) + 1
        if c.founded is True:
            stats.founded += 1
        elif c.founded is False:
            stats.rejected += 1
        if c.sla_outcome is SlaOutcome.MET:
            stats.sla_met += 1
        elif c.sla_outcome is SlaOutcome.MISSED:
            stats.sla_missed += 1
        if c.resolved_at is not None or c.reopen_count:
            stats.ever_resolved += 1
        if c.reopen_count:
            stats.reopened += 1
        for step in c.escalations:
            stats.escalations[step.to_level] = stats.escalations.get(step.to_level, 0) + 1
        if c.first_response_at is not None:
            stats.response_times.add(
                calendar.business_time_between(c.received_at, c.first_response_at)
            )
        if c.resolved_at is not None and c.status in CONCLUDED_STATUSES:
            stats.resolution_times.add(business_time(c, c.resolved_at))
        if c.cause is not None:
            stats.causes.add(" ".join(c.cause.split()).casefold())
    return stats


def _numbered(batch: list[Complaint]) -> list[Complaint]:
    return [attrs.evolve(c, id=f"CP-{n:04d}") for n, c in enumerate(batch)]


@given(st.lists(complaints(), max_size=8))
def test_the_fields_of_a_complaint_count_as_the_whole_complaint(batch: list[Complaint]) -> None:
    """Rule: add_fields of a complaint's FIELDS == add of the complaint (no store)."""
    rows = list(field_plan(Complaint, ComplaintStatistics.FIELDS).object_rows(batch))
    for calendar in (OFFICE, ALWAYS):
        before = _before(calendar, batch)
        whole = ComplaintStatistics(calendar).add_all(batch)
        one_by_one = ComplaintStatistics(calendar)
        for c in batch:
            one_by_one.add(c)
        picked = ComplaintStatistics(calendar).add_all_fields(rows)
        assert whole == one_by_one == picked == before
        assert picked.report() == before.report()


@given(batch=st.lists(complaints(), min_size=1, max_size=10))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_statistics_from_stored_fields_equal_statistics_from_stored_complaints(
    store: Store, batch: list[Complaint]
) -> None:
    """Rule: the statistics over scan_fields(FIELDS) equal those over scan() of a store."""
    stored = _numbered(batch)
    with store.unit_of_work() as uow:
        repo = uow.repo(COMPLAINTS)
        for key, _version, _doc in list(
            uow.tx.find(COMPLAINTS.name, [], [("key", False)], None, 0)
        ):
            repo.delete(key)
        repo.add_many(stored)
    with store.unit_of_work(readonly=True) as uow:
        repo = uow.repo(COMPLAINTS)
        whole = ComplaintStatistics(OFFICE).add_all(repo.scan())
        fields = ComplaintStatistics(OFFICE).add_all_fields(
            repo.scan_fields(ComplaintStatistics.FIELDS)
        )
    assert fields.report() == whole.report() == _before(OFFICE, stored).report()
    assert fields == whole


@given(complaints(status=st.sampled_from([ComplaintStatus.CLOSED, ComplaintStatus.ON_HOLD])))
def test_a_row_longer_than_the_fields_counts_the_same(c: Complaint) -> None:
    """Rule: values after FIELDS in a row are ignored (the desk appends the customer)."""
    (row,) = field_plan(Complaint, (*ComplaintStatistics.FIELDS, "customer_id")).object_rows([c])
    assert ComplaintStatistics(OFFICE).add_fields(row) == ComplaintStatistics(OFFICE).add(c)


def test_statistics_of_no_complaint_from_fields_are_empty() -> None:
    """Rule: no rows, no counts (the same empty report as no complaints)."""
    empty = ComplaintStatistics(OFFICE).add_all_fields([]).report()
    assert empty == ComplaintStatistics(OFFICE).report()
    assert empty.total == 0
