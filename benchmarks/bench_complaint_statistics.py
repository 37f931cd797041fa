"""Complaint statistics over a large store: memory stays flat as the store grows.

Run with ``nox -s bench`` (or ``python benchmarks/bench_complaint_statistics.py
[--quick]``). ``ComplaintDesk.complaint_statistics`` builds the complaint statistics table
(顾客投诉分类统计表) by streaming every complaint of the period from the store into a
fixed-size accumulator. The benchmark fills a SQLite store with 100,000 complaints, runs
the statistics under :mod:`tracemalloc` and records the peak of memory allocated during
the call, then grows the store to 1,000,000 complaints and runs it again. The target is a
peak at 1,000,000 of at most 1.5x the peak at 100,000 (``--quick``: 10,000 and 100,000).

Complaints are generated quickly: a pool of complaint "stories" (received; acknowledged;
assessed; investigated with one of 500 causes; rejected; resolved) is built with the pure
domain functions, and the stored complaints are copies of them under new ids and
customers, written with ``Repository.add_many`` in batches; no use case runs per
complaint.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintPolicy,
    ComplaintReport,
    ComplaintUrgency,
    Remedy,
    RemedyKind,
    receive_complaint,
)
from csdomain.desk.complaints import ComplaintDesk
from csdomain.kinds import COMPLAINTS
from csdomain.policy import Policy
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, print_table


T0 = datetime(2026, 1, 5, 1, tzinfo=UTC)
START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
ACCESS = AccessPolicy()
POLICY = ComplaintPolicy()
CALENDAR = BusinessCalendar.office("Asia/Shanghai")
CLERK = Actor("li", {"specialist"})
MANAGER = Actor("wang", {"department_manager"})
URGENCIES = list(ComplaintUrgency)
CATEGORIES = list(ComplaintCategory)
CHANNELS = list(ComplaintChannel)


def story(n: int) -> Complaint:
    """Complaint ``n`` of the pool, taken ``n % 6`` steps along its loop."""
    at = T0 + timedelta(hours=37 * n % (24 * 350))
    complaint = receive_complaint(
        id=f"CP-POOL-{n:05d}",
        customer_id=f"CU-{n:06d}",
        channel=CHANNELS[n % len(CHANNELS)],
        urgency=URGENCIES[n % len(URGENCIES)],
        category=CATEGORIES[n % len(CATEGORIES)],
        description=f"complaint {n}: the goods arrived late and the box was damaged",
        at=at,
        by=CLERK,
        access=ACCESS,
        policy=POLICY,
        calendar=CALENDAR,
    )
    step = n % 6
    later = at + timedelta(hours=1 + n % 30)
    if step >= 1:
        complaint = complaint.acknowledge(at=later, by=CLERK, access=ACCESS)
    if step == 2:
        complaint = complaint.reject(reply="policy explained", at=later, by=CLERK, access=ACCESS)
    if step >= 3:
        complaint = complaint.assess(at=later, by=CLERK, access=ACCESS, policy=POLICY)
        complaint = complaint.start_investigation(at=later, by=CLERK, access=ACCESS)
        complaint = complaint.record_cause(
            cause=f"cause {n % 500}", at=later, by=CLERK, access=ACCESS
        )
    if step >= 4:
        done = later + timedelta(hours=2 + n % 70)
        complaint = complaint.propose_resolution(
            remedies=[Remedy(RemedyKind.EXPLANATION, "explain the delay")],
            at=done,
            by=CLERK,
            access=ACCESS,
        )
        complaint = complaint.approve_resolution(choice=0, at=done, by=MANAGER, access=ACCESS)
        if step == 5:
            complaint = complaint.accept_resolution(
                signed_by="customer", at=done, by=CLERK, access=ACCESS, policy=POLICY
            )
    return complaint


def generated(pool: list[Complaint], start: int, stop: int) -> Iterator[Complaint]:
    """Complaints ``start`` .. ``stop - 1``: pool stories under new ids and customers."""
    for n in range(start, stop):
        template = pool[n % len(pool)]
        yield attrs.evolve(template, id=f"CP-{n:09d}", customer_id=f"CU-{n % 50_000:06d}")


def fill(store_url: str, pool: list[Complaint], start: int, stop: int) -> float:
    began = time.perf_counter()
    store = open_store(store_url)
    try:
        for first in range(start, stop, 100_000):
            with store.unit_of_work() as uow:
                uow.repo(COMPLAINTS).add_many(generated(pool, first, min(stop, first + 100_000)))
    finally:
        store.close()
    return time.perf_counter() - began


def measure(store_url: str) -> tuple[int, float, ComplaintReport]:
    """Peak bytes allocated during ``complaint_statistics``, its seconds, its report."""
    store = open_store(store_url)
    try:
        desk = ComplaintDesk(store, policy=Policy(), clock=FixedClock(END))
        boss = Actor("qian", {"cs_manager"})
        tracemalloc.start()
        began = time.perf_counter()
        report = desk.complaint_statistics(START, END, by=boss)
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        store.close()
    return peak, seconds, report


def main() -> None:
    args = arguments(__doc__ or "")
    small, large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    pool = [story(n) for n in range(3_000)]
    results = []
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'complaints.db'}"
        filled = fill(url, pool, 0, small)
        print(f"filled {small:,} complaints in {filled:.1f} s")
        small_peak, small_seconds, small_report = measure(url)
        filled = fill(url, pool, small, large)
        print(f"filled {large - small:,} more complaints in {filled:.1f} s")
        large_peak, large_seconds, large_report = measure(url)
    assert small_report.total == small, small_report.total
    assert large_report.total == large, large_report.total
    for size, seconds in ((small, small_seconds), (large, large_seconds)):
        print(
            f"complaint_statistics over {size:,}: {seconds:.1f} s under tracemalloc "
            f"({seconds / size * 1e6:.0f} us per complaint)"
        )
    results.append(
        Result(
            f"peak memory, statistics over {large:,} complaints",
            large_peak,
            small_peak,
            1.5,
            f"over {small:,}",
            unit="bytes",
        )
    )
    print_table("Complaint statistics: memory as the store grows (SQLite)", results)


if __name__ == "__main__":
    main()
