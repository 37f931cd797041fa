"""Complaint statistics over a large store: memory stays flat as the store grows.

Run with ``nox -s bench`` (or ``python benchmarks/bench_complaint_statistics.py
[--quick]``). ``ComplaintDesk.complaint_statistics`` builds the complaint statistics table
(顾客投诉分类统计表) by streaming every complaint of the period from the store into a
fixed-size accumulator. The benchmark fills a SQLite store with 100,000 complaints, runs
the statistics under :mod:`tracemalloc` and records the peak of memory allocated during
the call, then grows the store to 1,000,000 complaints and runs it again. The target is a
peak at 1,000,000 of at most 1.5x the peak at 100,000 (``--quick``: 10,000 and 100,000).

Then the time per complaint at 1,000,000 (issue #15 item 7: at most 5 µs): the statistics
as csdomain reads them (``ComplaintStatistics.add_all_fields`` over
``Repository.scan_fields(ComplaintStatistics.FIELDS)``, which reads the fields with one
``json_extract`` per row) against the competent hand-written version, the same
accumulation over a raw ``sqlite3`` query with ``json_extract`` on the same file, the rows
converted by hand; alternating, medians of ``--repeats`` (default 3 here). The whole use
case ``desk.complaint_statistics`` (permission, redaction of each customer's data in the
causes) is timed beside them, as is the statistics over whole complaints (``scan``).

Complaints are generated quickly: a pool of complaint "stories" (received; acknowledged;
assessed; investigated with one of 500 causes; rejected; resolved) is built with the pure
domain functions, and the stored complaints are copies of them under new ids and
customers, written with ``Repository.add_many`` in batches; no use case runs per
complaint.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import orjson

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintPolicy,
    ComplaintReport,
    ComplaintStatistics,
    ComplaintStatus,
    ComplaintUrgency,
    Remedy,
    RemedyKind,
    SlaOutcome,
    receive_complaint,
)
from csdomain.desk.complaints import ComplaintDesk
from csdomain.kinds import COMPLAINTS
from csdomain.policy import Policy
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, print_table, timed


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


def through_csdomain(store_url: str) -> ComplaintStatistics:
    """The statistics of the year as csdomain reads them: chosen fields, no documents."""
    store = open_store(store_url)
    try:
        with store.unit_of_work(readonly=True) as uow:
            rows = uow.repo(COMPLAINTS).scan_fields(
                ComplaintStatistics.FIELDS, received_at__ge=START, received_at__lt=END
            )
            return ComplaintStatistics(CALENDAR).add_all_fields(rows)
    finally:
        store.close()


def through_documents(store_url: str) -> ComplaintStatistics:
    """The same statistics over whole complaints (``scan``)."""
    store = open_store(store_url)
    try:
        with store.unit_of_work(readonly=True) as uow:
            stream = uow.repo(COMPLAINTS).scan(received_at__ge=START, received_at__lt=END)
            return ComplaintStatistics(CALENDAR).add_all(stream)
    finally:
        store.close()


_ENUMS = {
    "category": ComplaintCategory,
    "nature": ComplaintNature,
    "urgency": ComplaintUrgency,
    "status": ComplaintStatus,
    "channel": ComplaintChannel,
}


def by_hand(path: Path) -> ComplaintStatistics:
    """The baseline: one raw ``json_extract`` query on the same file (the index column
    ``i_received_at`` holds the UTC ISO text to the microsecond), the rows converted by
    hand and given to the same accumulation, in the same order (by key: the top causes
    depend on the order)."""
    members = (
        "category",
        "nature",
        "urgency",
        "status",
        "channel",
        "founded",
        "sla_outcome",
        "reopen_count",
        "escalations",
        "received_at",
        "first_response_at",
        "history",
        "cause",
    )
    paths = ", ".join(f"'$.{m}'" for m in members)
    category, nature, urgency, status, channel = (
        {m.value: m for m in _ENUMS[name]} for name in members[:5]
    )
    outcomes = {m.value: m for m in SlaOutcome}
    parse = datetime.fromisoformat
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            f"SELECT json_extract(CAST(doc AS TEXT), {paths}) FROM k_complaint "
            "WHERE i_received_at >= ? AND i_received_at < ? ORDER BY key",
            (START.isoformat(timespec="microseconds"), END.isoformat(timespec="microseconds")),
        )

        def rows() -> Iterator[tuple[object, ...]]:
            for (text,) in cursor:
                c, n, u, s, ch, f, o, r, e, rec, first, hist, cause = orjson.loads(text)
                yield (
                    category[c],
                    nature[n],
                    urgency[u],
                    status[s],
                    channel[ch],
                    f,
                    None if o is None else outcomes[o],
                    r,
                    tuple([step["to_level"] for step in e]),
                    parse(rec),
                    None if first is None else parse(first),
                    tuple([h["to"] for h in hist]),
                    tuple([parse(h["at"]) for h in hist]),
                    cause,
                )

        return ComplaintStatistics(CALENDAR).add_all_fields(rows())
    finally:
        conn.close()


def speed(store_url: str, path: Path, size: int, repeats: int) -> list[Result]:
    """Seconds per complaint: csdomain against the baseline (alternating), then the use
    case and the whole-document read once each round."""
    ours: list[float] = []
    hand: list[float] = []
    desk_runs: list[float] = []
    whole: list[float] = []
    reference = by_hand(path).report()
    assert through_csdomain(store_url).report() == reference, "the two must agree"
    store = open_store(store_url)
    desk = ComplaintDesk(store, policy=Policy(), clock=FixedClock(END))
    boss = Actor("qian", {"cs_manager"})
    try:
        for _ in range(repeats):
            ours.append(timed(lambda: through_csdomain(store_url), gc_on=True))
            hand.append(timed(lambda: by_hand(path), gc_on=True))
            desk_runs.append(
                timed(lambda: desk.complaint_statistics(START, END, by=boss), gc_on=True)
            )
            whole.append(timed(lambda: through_documents(store_url), gc_on=True))
    finally:
        store.close()
    per = statistics.median(ours) / size
    for name, runs in (
        ("scan_fields + add_all_fields", ours),
        ("raw json_extract baseline", hand),
        ("desk.complaint_statistics", desk_runs),
        ("scan + add_all (whole complaints)", whole),
    ):
        print(f"{name}: {statistics.median(runs) / size * 1e6:.2f} us per complaint")
    return [
        Result(
            f"statistics per complaint at {size:,} (scan_fields)",
            per,
            statistics.median(hand) / size,
            None,
            "raw json_extract, same accumulation",
            unit="us",
        ),
        Result(
            f"statistics per complaint at {size:,} (scan_fields)",
            per,
            5e-6,
            1.0,
            "issue #15 target",
            unit="us",
        ),
        Result(
            f"desk.complaint_statistics per complaint at {size:,}",
            statistics.median(desk_runs) / size,
            statistics.median(whole) / size,
            None,
            "scan + add_all of whole complaints",
            unit="us",
        ),
    ]


def main() -> None:
    args = arguments(__doc__ or "")
    small, large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    pool = [story(n) for n in range(3_000)]
    results = []
    repeats = 3 if args.repeats == 5 else args.repeats
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp:
        path = Path(tmp) / "complaints.db"
        url = f"sqlite:///{path}"
        filled = fill(url, pool, 0, small)
        print(f"filled {small:,} complaints in {filled:.1f} s")
        small_peak, small_seconds, small_report = measure(url)
        filled = fill(url, pool, small, large)
        print(f"filled {large - small:,} more complaints in {filled:.1f} s")
        large_peak, large_seconds, large_report = measure(url)
        timings = speed(url, path, large, repeats)
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
    print_table("Complaint statistics: time per complaint (SQLite)", timings)


if __name__ == "__main__":
    main()
