"""Domain steps that check what changed: ``ship_order`` and the desk flow, before and after.

Run with ``nox -s bench`` (or ``python benchmarks/bench_ship_order.py [--quick]``).

Issue #15 item 4: a domain step (``Order.ship``, ``Stock.issue`` ...) used to build its
new aggregate with ``attrs.evolve``, which runs the converter and validator of every
field again; it now uses ``csdomain.validators.evolve_checked``, which checks the changed
fields and the aggregate's cross-field rules. Both paths run here in one process, on the
same store, alternating: the old path is the new code with ``evolve_checked`` replaced by
``attrs.evolve`` in the order and stock modules (a switch of this script only, never of
the library).

Measured, on SQLite (a file) and on ``memory://``:

* the ``ship_order`` use case of a paid order of five lines with a consignee, by a
  warehouse clerk (no ``customer.read``: the order comes back redacted), each call one
  unit of work: load the order, the customer and five stocks, ship, issue and release
  stock, write six documents and their events;
* the whole desk flow register -> place -> confirm -> pay -> ship, with the median time
  of each step;
* the domain step alone, no store: ``csdomain.orders.ship_order`` on the loaded order and
  its five stocks (``Order.ship``, ``Stock.issue`` and ``release``) and the redaction the
  warehouse clerk is shown: what this change touches, without the store's share.

The target is the issue's: ``ship_order`` on SQLite at most 0.6x today's time. The
ratio printed is this change alone (the old path keeps every other speed-up already in
the tree, such as the event encoders and kind set-up of the unit of work).

``--before SRC`` also measures the issue's own comparison: the ``ship_order`` use case of
this tree against the one of the tree before issue #15 (``SRC``: its ``src`` directory,
e.g. ``git archive 7fff6bf src | tar -x -C /tmp/pre15``), each in its own process on its
own fresh store with the same orders, alternating, through the public calls both trees
have; the rows give both figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import attrs

import csdomain.orders.model
import csdomain.orders.stock
from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.kinds import ORDERS, STOCKS
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine, ship_order
from csdomain.service import ServiceDesk
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, print_table, timed


AT = datetime(2026, 11, 2, 1, tzinfo=UTC)
SALES = Actor("zhang.sales", {"salesperson"})
MANAGER = Actor("wu.manager", {"department_manager"})
FINANCE = Actor("qian.finance", {"finance"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")
SKUS = tuple(f"SKU-{n:05d}" for n in range(5))
LINES = tuple(OrderLine(sku, 1 + n, Money.of(f"{12 + n}.50", "CNY")) for n, sku in enumerate(SKUS))
#: The modules whose steps build aggregates with ``evolve_checked``.
MODULES = (csdomain.orders.model, csdomain.orders.stock)
STEPS = ("register", "place", "confirm", "pay", "ship")


@contextmanager
def old_path() -> Iterator[None]:
    """The steps as they were: every new aggregate through ``attrs.evolve``."""
    saved = [vars(module)["evolve_checked"] for module in MODULES]
    for module in MODULES:
        setattr(module, "evolve_checked", attrs.evolve)  # noqa: B010 - the switch
    try:
        yield
    finally:
        for module, helper in zip(MODULES, saved, strict=True):
            setattr(module, "evolve_checked", helper)  # noqa: B010


def desk_on(url: str) -> ServiceDesk:
    """A desk on ``url`` with stock for every SKU of the flow."""
    desk = ServiceDesk(open_store(url), clock=FixedClock(AT))
    for sku in SKUS:
        desk.receive_stock(sku, good=10**9, by=WAREHOUSE)
    return desk


def paid_orders(desk: ServiceDesk, count: int) -> list[str]:
    """``count`` paid orders of one customer, ready to ship."""
    customer, _ = desk.register_customer(name="Huake Bio", city="Wuhan", by=MANAGER)
    ids = []
    for _ in range(count):
        order = desk.place_order(
            customer.id, channel="online", lines=LINES, by=SALES, consignee=CONSIGNEE
        )
        order = desk.confirm_order(order.id, by=MANAGER)
        ids.append(desk.record_payment(order.id, order.total, by=FINANCE).id)
    return ids


def ship_pair(desk: ServiceDesk, calls: int, repeats: int) -> tuple[float, float]:
    """Median seconds of ``calls`` ``ship_order`` calls: new path, old path, alternating."""
    ids = iter(paid_orders(desk, 2 * calls * repeats))

    def ship() -> None:
        for _ in range(calls):
            desk.ship_order(next(ids), by=WAREHOUSE)

    new: list[float] = []
    old: list[float] = []
    for _ in range(repeats):
        new.append(timed(ship))
        with old_path():
            old.append(timed(ship))
    return statistics.median(new), statistics.median(old)


def step_pair(desk: ServiceDesk, calls: int, repeats: int) -> tuple[float, float]:
    """Median seconds of ``calls`` pure ``ship_order`` steps (and the redaction), both paths."""
    (order_id,) = paid_orders(desk, 1)
    with desk.store.unit_of_work(readonly=True) as uow:
        order = uow.repo(ORDERS).get(order_id)
        stocks = {sku: uow.repo(STOCKS).get(sku) for sku in SKUS}
    policy = desk.policy

    def step() -> None:
        for _ in range(calls):
            shipped = ship_order(
                order,
                stocks,
                at=AT,
                by=WAREHOUSE,
                access=policy.access,
                policy=policy.orders,
                calendar=desk.calendar,
            )
            shipped.order.redacted()

    new: list[float] = []
    old: list[float] = []
    for _ in range(repeats):
        new.append(timed(step))
        with old_path():
            old.append(timed(step))
    return statistics.median(new), statistics.median(old)


#: One process's ``ship_order`` time on whichever csdomain its ``PYTHONPATH`` holds: the
#: same set-up as :func:`desk_on` and :func:`paid_orders`, 20 calls to warm up, then
#: ``calls`` timed calls with the collector off; prints the seconds per call.
_WORKER = """
import gc, sys, tempfile, time
from datetime import UTC, datetime
from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.service import ServiceDesk
from csdomain.store import open_store

at = datetime(2026, 11, 2, 1, tzinfo=UTC)
sales, manager = Actor("zhang.sales", {"salesperson"}), Actor("wu.manager", {"department_manager"})
finance, warehouse = Actor("qian.finance", {"finance"}), Actor("zhao.wh", {"warehouse"})
consignee = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")
skus = tuple(f"SKU-{n:05d}" for n in range(5))
lines = tuple(OrderLine(s, 1 + n, Money.of(f"{12 + n}.50", "CNY")) for n, s in enumerate(skus))
url, calls = sys.argv[1], int(sys.argv[2])
if url == "sqlite":
    url = f"sqlite:///{tempfile.mkdtemp(prefix='csdomain-bench-')}/ship.db"
desk = ServiceDesk(open_store(url), clock=FixedClock(at))
for sku in skus:
    desk.receive_stock(sku, good=10**9, by=warehouse)
registered = desk.register_customer(name="Huake Bio", city="Wuhan", by=manager)
customer = registered[0] if isinstance(registered, tuple) else registered
ids = []
for _ in range(calls + 20):
    order = desk.place_order(
        customer.id, channel="online", lines=lines, by=sales, consignee=consignee
    )
    order = desk.confirm_order(order.id, by=manager)
    ids.append(desk.record_payment(order.id, order.total, by=finance).id)
for order_id in ids[:20]:
    desk.ship_order(order_id, by=warehouse)
gc.collect()
gc.disable()
start = time.perf_counter()
for order_id in ids[20:]:
    desk.ship_order(order_id, by=warehouse)
print((time.perf_counter() - start) / calls)
"""


def before_pair(before: Path, url: str, calls: int, repeats: int) -> tuple[float, float]:
    """Median seconds of ``calls`` ``ship_order`` calls: this tree, the tree at ``before``
    (each repeat one process of each, alternating)."""
    here = Path(csdomain.orders.model.__file__).resolve().parents[2]
    now: list[float] = []
    then: list[float] = []
    for _ in range(repeats):
        for src, sink in ((here, now), (before, then)):
            done = subprocess.run(  # noqa: S603 - this interpreter, our own worker
                [sys.executable, "-c", _WORKER, url, str(calls)],
                env={**os.environ, "PYTHONPATH": str(src)},
                capture_output=True,
                text=True,
                check=True,
            )
            sink.append(float(done.stdout.split()[-1]) * calls)
    return statistics.median(now), statistics.median(then)


def flow(desk: ServiceDesk, n: int, clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """One register -> place -> confirm -> pay -> ship flow: seconds of each step."""
    times = []
    start = clock()
    customer, _ = desk.register_customer(name=f"Lab {n}", city="Wuhan", by=MANAGER)
    times.append(clock() - start)
    start = clock()
    order = desk.place_order(
        customer.id, channel="online", lines=LINES, by=SALES, consignee=CONSIGNEE
    )
    times.append(clock() - start)
    start = clock()
    order = desk.confirm_order(order.id, by=MANAGER)
    times.append(clock() - start)
    start = clock()
    order = desk.record_payment(order.id, order.total, by=FINANCE)
    times.append(clock() - start)
    start = clock()
    desk.ship_order(order.id, by=WAREHOUSE)
    times.append(clock() - start)
    return times


def flow_steps(desk: ServiceDesk, flows: int, repeats: int) -> tuple[list[float], list[float]]:
    """Median seconds per step of the flow: new path, old path, alternating by repeat."""
    new: list[list[float]] = [[] for _ in STEPS]
    old: list[list[float]] = [[] for _ in STEPS]
    counter = iter(range(10**9))
    for _ in range(repeats):
        for sink, switch in ((new, nullcontext), (old, old_path)):
            with switch():
                for _ in range(flows):
                    for step, seconds in enumerate(flow(desk, next(counter))):
                        sink[step].append(seconds)
    return [statistics.median(s) for s in new], [statistics.median(s) for s in old]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--before", type=Path, help="the src directory of the tree before issue #15"
    )
    args = parser.parse_args()
    calls = 100 if args.quick else 500
    flows = 50 if args.quick else 300
    results: list[Result] = []
    steps: dict[str, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp:
        for name, url in (
            ("SQLite", f"sqlite:///{Path(tmp) / 'ship.db'}"),
            ("memory", "memory://"),
        ):
            desk = desk_on(url)
            try:
                new, old = ship_pair(desk, calls, args.repeats)
                target = 0.6 if name == "SQLite" else None
                results.append(
                    Result(
                        f"{calls:,} x ship_order ({name})",
                        new,
                        old,
                        target,
                        "attrs.evolve steps",
                    )
                )
                steps[name] = flow_steps(desk, flows, args.repeats)
                if name == "memory":
                    new, old = step_pair(desk, 10 * calls, args.repeats)
                    results.append(
                        Result(
                            f"{10 * calls:,} x the domain step alone (ship_order + redacted)",
                            new,
                            old,
                            None,
                            "attrs.evolve steps",
                        )
                    )
            finally:
                desk.store.close()
    print_table("ship_order: steps check what changed (issue #15 item 4)", results)
    if args.before is not None:
        before_rows = []
        for name, url in (("SQLite", "sqlite"), ("memory", "memory://")):
            now, then = before_pair(args.before, url, calls, args.repeats)
            before_rows.append(
                Result(
                    f"{calls:,} x ship_order ({name}), whole use case",
                    now,
                    then,
                    0.6 if name == "SQLite" else None,
                    "the tree before issue #15",
                )
            )
        print_table("ship_order against the tree before issue #15", before_rows)
    for result, count in zip(results, (calls, calls, 10 * calls), strict=True):
        print(f"per call: {result.name}: {result.ours / count * 1e6:.0f} us", end="")
        print(f" (attrs.evolve steps: {result.baseline / count * 1e6:.0f} us)")
    for name, (new_steps, old_steps) in steps.items():
        print(f"\n### Desk flow on {name}: median per step ({flows} flows x {args.repeats})\n")
        print("| step | evolve_checked | attrs.evolve | ratio |")
        print("|---|---|---|---|")
        for step, a, b in zip(STEPS, new_steps, old_steps, strict=True):
            print(f"| {step} | {a * 1e6:.0f} µs | {b * 1e6:.0f} µs | {a / b:.2f}x |")
        total_new, total_old = sum(new_steps), sum(old_steps)
        print(
            f"| whole flow | {total_new * 1e6:.0f} µs ({1 / total_new:,.0f} flows/s) "
            f"| {total_old * 1e6:.0f} µs ({1 / total_old:,.0f} flows/s) "
            f"| {total_new / total_old:.2f}x |"
        )


if __name__ == "__main__":
    main()
