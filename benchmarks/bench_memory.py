"""The memory backend's indexes: ``find``/``count`` against a dict index, and how they scale.

Run with ``nox -s bench`` (or ``python benchmarks/bench_memory.py [--quick]``).

Stores of 2,000, 20,000 and 100,000 orders (``--quick``: 1,000, 5,000, 10,000), one order
per customer, on ``memory://``. Each query runs inside one open read-only unit of work,
through the repository (``uow.repo(ORDERS)``), as an application calls it:

- ``find(customer_id=c)``, one match;
- ``find(status="paid", order_by="-placed_at", limit=20)``, the latest 20 of a quarter;
- ``count(status="paid")``; ``count(placed_at__ge=a, placed_at__lt=b)``, one day.

The baseline is what a user would write instead of a store: a ``dict`` of orders by id
with a ``dict`` of id lists per customer and per status and a list of ``(placed_at, id)``
kept sorted, answering the same queries. The targets (issue #15 item 3) are absolute and
about scaling: a one-match ``find`` at 100,000 orders within 20 µs, at 20,000 within 1.5x
of at 2,000; and ``register_customer`` on a store of 100,000 customers within 1.2x of one
of 1,000 (``--quick``: 5,000 against 500). The dict rows are the reference, without target.
"""

from __future__ import annotations

import argparse
import bisect
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.kinds import ORDERS
from csdomain.orders import Order
from csdomain.service import ServiceDesk
from csdomain.store import Store, open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, print_table
from orders_data import make_orders


#: One-match ``find`` at 100,000 orders, seconds (issue #15 item 3).
FIND_BUDGET = 20e-6
CLERK = Actor("li.clerk", {"specialist"})
QUERIES = 2_000
_DAY = timedelta(days=1)


class DictIndex:
    """The competent hand-written baseline: orders by id, ids per customer and status."""

    def __init__(self, orders: Sequence[Order]) -> None:
        self.by_id = {o.id: o for o in orders}
        self.by_customer: dict[str, list[str]] = {}
        self.by_status: dict[str, list[str]] = {}
        for o in orders:
            self.by_customer.setdefault(o.customer_id, []).append(o.id)
            self.by_status.setdefault(o.status.value, []).append(o.id)
        self.placed = sorted((o.placed_at.isoformat(), o.id) for o in orders)

    def find_customer(self, customer_id: str) -> list[Order]:
        return [self.by_id[k] for k in sorted(self.by_customer.get(customer_id, ()))]

    def latest(self, status: str, limit: int) -> list[Order]:
        found = [self.by_id[k] for k in self.by_status.get(status, ())]
        found.sort(key=lambda o: (o.placed_at, o.id), reverse=True)
        return found[:limit]

    def count_status(self, status: str) -> int:
        return len(self.by_status.get(status, ()))

    def count_day(self, start: str, end: str) -> int:
        return bisect.bisect_left(self.placed, (end,)) - bisect.bisect_left(self.placed, (start,))


def _per_call(fn: Callable[[Any], object], arguments: Sequence[Any]) -> float:
    start = time.perf_counter()
    for argument in arguments:
        fn(argument)
    return (time.perf_counter() - start) / len(arguments)


def _pair(
    ours: Callable[[Any], object],
    theirs: Callable[[Any], object],
    arguments: Sequence[Any],
    repeats: int,
) -> tuple[float, float]:
    """Median seconds per call of both sides, alternating."""
    a, b = [], []
    for _ in range(repeats):
        a.append(_per_call(ours, arguments))
        b.append(_per_call(theirs, arguments))
    return statistics.median(a), statistics.median(b)


def _order_store(orders: Sequence[Order]) -> Store:
    store = open_store("memory://")
    with store.unit_of_work() as uow:
        uow.repo(ORDERS).add_many(orders)
    return store


def _measure(
    part: Sequence[Order], rng: random.Random, repeats: int
) -> list[tuple[str, float, float]]:
    """The reference rows of one store size (same answers checked first)."""
    size = len(part)
    store, index = _order_store(part), DictIndex(part)
    customers = [rng.choice(part).customer_id for _ in range(QUERIES)]
    days = [rng.choice(part).placed_at.replace(hour=0, minute=0) for _ in range(200)]
    rows: list[tuple[str, float, float]] = []
    with store.unit_of_work(readonly=True) as uow:
        repo = uow.repo(ORDERS)
        for c in customers[:50]:
            assert list(repo.find(customer_id=c)) == index.find_customer(c)
        latest = list(repo.find(status="paid", order_by="-placed_at", limit=20))
        assert latest == index.latest("paid", 20)
        assert repo.count(status="paid") == index.count_status("paid")
        day = days[0]
        assert repo.count(placed_at__ge=day, placed_at__lt=day + _DAY) == (
            index.count_day(day.isoformat(), (day + _DAY).isoformat())
        )
        ours, theirs = _pair(
            lambda c: list(repo.find(customer_id=c)), index.find_customer, customers, repeats
        )
        rows.append((f"find(customer_id), one match, {size:,} orders", ours, theirs))
        ours, theirs = _pair(
            lambda _: list(repo.find(status="paid", order_by="-placed_at", limit=20)),
            lambda _: index.latest("paid", 20),
            range(100),
            repeats,
        )
        rows.append((f"find(status, order_by=-placed_at, limit=20), {size:,}", ours, theirs))
        ours, theirs = _pair(
            lambda _: repo.count(status="paid"),
            lambda _: index.count_status("paid"),
            range(QUERIES),
            repeats,
        )
        rows.append((f"count(status), {size:,} orders", ours, theirs))
        ours, theirs = _pair(
            lambda d: repo.count(placed_at__ge=d, placed_at__lt=d + _DAY),
            lambda d: index.count_day(d.isoformat(), (d + _DAY).isoformat()),
            days,
            repeats,
        )
        rows.append((f"count(placed_at one day), {size:,} orders", ours, theirs))
    store.close()
    return rows


def bench_queries(
    sizes: Sequence[int], repeats: int
) -> tuple[dict[int, float], list[tuple[str, float, float]]]:
    """One-match find time per size, and the reference rows against the dict index."""
    orders = make_orders(max(sizes), customers=max(sizes))
    rng = random.Random(15)
    one_match: dict[int, float] = {}
    rows: list[tuple[str, float, float]] = []
    for size in sizes:
        found = _measure(orders[:size], rng, repeats)
        one_match[size] = found[0][1]
        rows.extend(found)
    return one_match, rows


def _registrar(seeded: int) -> Callable[[int], object]:
    """A desk on a memory store holding ``seeded`` customers; registers customer ``n``."""
    clock = FixedClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
    desk = ServiceDesk(open_store("memory://"), clock=clock)
    offset = seeded * 10

    def register(n: int) -> object:
        return desk.register_customer(name=f"客户 {n}", city="Wuhan", phone=f"139{n:08d}", by=CLERK)

    for n in range(seeded):
        register(n)
    counter = iter(range(offset, offset + 10**9))
    return lambda _: register(next(counter))


def bench_register(small: int, large: int, repeats: int) -> Result:
    ours, theirs = _pair(_registrar(large), _registrar(small), range(200), repeats)
    return Result(
        f"register_customer at {large:,} customers vs at {small:,}",
        ours,
        theirs,
        1.2,
        f"at {small:,}",
    )


def _print_reference(rows: Sequence[tuple[str, float, float]]) -> None:
    print("\n## Reference: the memory store against a dict index (no target)\n")
    print("| query | csdomain memory | dict index | ratio |")
    print("|---|---|---|---|")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours * 1e6:.2f} µs | {theirs * 1e6:.2f} µs | {ours / theirs:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = (1_000, 5_000, 10_000) if args.quick else (2_000, 20_000, 100_000)
    small, middle, large = sizes
    one_match, rows = bench_queries(sizes, args.repeats)
    results = [
        Result(
            f"find one match at {large:,} orders (per call)",
            one_match[large],
            FIND_BUDGET,
            1.0,
            "budget",
        ),
        Result(
            f"find one match at {middle:,} vs at {small:,} orders",
            one_match[middle],
            one_match[small],
            1.5,
            f"at {small:,}",
        ),
        Result(
            f"find one match at {large:,} vs at {small:,} orders",
            one_match[large],
            one_match[small],
            1.5,
            f"at {small:,}",
        ),
    ]
    register_sizes = (500, 5_000) if args.quick else (1_000, 100_000)
    results.append(bench_register(*register_sizes, args.repeats))
    print_table("Memory backend indexes", results)
    _print_reference(rows)
    print(f"\n{platform.node() or 'machine'}: per-call medians over {args.repeats} repeats")


if __name__ == "__main__":
    main()
