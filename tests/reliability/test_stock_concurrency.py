"""No negative stock when several writers ship the last units of one SKU at the same time.

docs/domain.md 2 (不开负库存): two orders that each need the last units of a SKU are shipped at
the same moment through :class:`~csdomain.desk.orders.OrderDesk`. Exactly one ships; the
other is refused with ``insufficient_stock`` after the desk has re-run it on fresh data.
Once with two processes on one SQLite file (writers queue up), once with two threads on
one memory store (the later commit conflicts and the desk retries it).
"""

from __future__ import annotations

import functools
import multiprocessing
import queue
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import Customer
from csdomain.desk.orders import OrderDesk
from csdomain.errors import ConcurrencyConflict, CsDomainError, RuleViolation
from csdomain.kinds import ORDERS
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine, OrderStatus
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
SALES = Actor("zhang.sales", {"salesperson"})
FINANCE = Actor("qian.finance", {"finance"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")
ROUNDS = 4
#: Units on hand per round; each order needs ``NEEDED``, so only one can ship.
ON_HAND = 3
NEEDED = 2
TIMEOUT = 30.0


def prepare_round(desk: OrderDesk, sku: str) -> tuple[str, str]:
    """Stock of ``ON_HAND`` units and two paid orders that each need ``NEEDED`` of them."""
    desk.receive_stock(sku, good=ON_HAND, by=WAREHOUSE)
    ids = []
    for _ in range(2):
        order = desk.place_order(
            "C-1",
            channel="online",
            lines=[OrderLine(sku, NEEDED, Money.of("10.00", "CNY"))],
            by=SALES,
            consignee=CONSIGNEE,
        )
        desk.confirm_order(order.id, by=SALES)
        desk.record_payment(order.id, order.total, by=FINANCE)
        ids.append(order.id)
    return ids[0], ids[1]


def seeded(store: Store) -> Store:
    with store.unit_of_work() as uow:
        uow.customers.add(
            Customer(id="C-1", code="Wuhan-202611-Huake-001", name="Huake", created_at=MONDAY)
        )
    return store


def outcome(call: Callable[[], object]) -> str:
    """``"shipped"``, or the code of the rule that refused the shipment."""
    try:
        call()
    except RuleViolation as err:
        return err.code
    except CsDomainError as err:
        return type(err).__name__
    return "shipped"


def check_round(store: Store, desk: OrderDesk, sku: str, ids: tuple[str, str]) -> None:
    stock = desk.get_stock(sku, by=WAREHOUSE)
    assert stock.good == ON_HAND - NEEDED
    assert stock.good >= 0
    assert stock.reservations == ()
    with store.unit_of_work(readonly=True) as uow:
        statuses = sorted(uow.repo(ORDERS).get(i).status for i in ids)
        issued = [e for e in uow.outbox.find(type="StockIssued") if e.payload["sku"] == sku]
    assert statuses == [OrderStatus.PAID, OrderStatus.SHIPPED]
    assert len(issued) == 1


# -- two processes on one SQLite file ----------------------------------------------------------


def ship_in_rounds(
    url: str,
    order_ids: list[str],
    barrier: Any,
    results: Any,
    worker: int,
) -> None:
    """Child process: ship one order per round, all rounds in step with the other child."""
    store = open_store(url, clock=FixedClock(MONDAY))
    try:
        desk = OrderDesk(store)
        for number, order_id in enumerate(order_ids):
            barrier.wait(TIMEOUT)
            ship = functools.partial(desk.ship_order, order_id, by=WAREHOUSE)
            results.put((number, worker, outcome(ship)))
    finally:
        store.close()


def _importable_in_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this module's import root on ``sys.path`` so spawned children can unpickle
    :func:`ship_in_rounds` by its module name (pytest runs with ``--import-mode=importlib``)."""
    root = Path(__file__).resolve().parents[__name__.count(".")]
    monkeypatch.syspath_prepend(str(root))
    assert sys.modules[__name__].ship_in_rounds is ship_in_rounds


def test_two_processes_never_ship_the_same_last_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _importable_in_children(monkeypatch)
    url = f"sqlite:///{tmp_path / 'stock.db'}"
    store = seeded(open_store(url, clock=FixedClock(MONDAY)))
    try:
        desk = OrderDesk(store)
        rounds = {f"LAST-{n}": prepare_round(desk, f"LAST-{n}") for n in range(ROUNDS)}
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(2)
        results = context.Queue()
        workers = [
            context.Process(
                target=ship_in_rounds,
                args=(url, [ids[w] for ids in rounds.values()], barrier, results, w),
            )
            for w in range(2)
        ]
        for process in workers:
            process.start()
        try:
            outcomes: dict[int, list[str]] = {n: [] for n in range(ROUNDS)}
            for _ in range(2 * ROUNDS):
                number, _worker, result = results.get(timeout=TIMEOUT)
                outcomes[number].append(result)
        finally:
            for process in workers:
                process.join(TIMEOUT)
                if process.is_alive():
                    process.kill()
                    process.join()
        assert [p.exitcode for p in workers] == [0, 0]
        for number, (sku, ids) in enumerate(rounds.items()):
            assert sorted(outcomes[number]) == ["insufficient_stock", "shipped"]
            check_round(store, desk, sku, ids)
    finally:
        store.close()


# -- two threads on one memory store -----------------------------------------------------------


class RendezvousClock(FixedClock):
    """A fixed clock whose first reading waits for the other thread's first reading.

    The desk reads the clock first thing inside its unit of work, so both units of work
    have taken their snapshot before either writes: their commits must conflict.
    """

    def __init__(self, at: datetime, barrier: threading.Barrier) -> None:
        super().__init__(at)
        self.barrier = barrier
        self.readings = 0

    def now(self) -> datetime:
        self.readings += 1
        if self.readings == 1:
            self.barrier.wait(TIMEOUT)
        return super().now()


def race(store: Store, ids: tuple[str, str], retries: int) -> tuple[list[str], list[int]]:
    """Ship both orders from two threads at once; the outcomes and clock readings."""
    barrier = threading.Barrier(2)
    clocks = [RendezvousClock(MONDAY, barrier) for _ in ids]
    results: queue.Queue[str] = queue.Queue()

    def ship(order_id: str, clock: RendezvousClock) -> None:
        desk = OrderDesk(store, clock=clock, retries=retries)
        results.put(outcome(lambda: desk.ship_order(order_id, by=WAREHOUSE)))

    threads = [threading.Thread(target=ship, args=pair) for pair in zip(ids, clocks, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return sorted(results.get_nowait() for _ in threads), [c.readings for c in clocks]


def test_a_conflicting_shipment_is_retried_and_then_refused_for_stock() -> None:
    store = seeded(open_store("memory://"))
    try:
        desk = OrderDesk(store, clock=FixedClock(MONDAY))
        for number in range(ROUNDS):
            sku = f"LAST-{number}"
            ids = prepare_round(desk, sku)
            outcomes, readings = race(store, ids, retries=5)
            assert outcomes == ["insufficient_stock", "shipped"]
            assert sorted(readings) == [1, 2]
            check_round(store, desk, sku, ids)
    finally:
        store.close()


def test_without_a_retry_the_later_commit_is_a_concurrency_conflict() -> None:
    store = seeded(open_store("memory://"))
    try:
        desk = OrderDesk(store, clock=FixedClock(MONDAY))
        ids = prepare_round(desk, "LAST")
        outcomes, _ = race(store, ids, retries=1)
        assert outcomes == sorted([ConcurrencyConflict.__name__, "shipped"])
        check_round(store, desk, "LAST", ids)
    finally:
        store.close()
