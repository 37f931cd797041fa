"""Two desks filing a return of the same shipped goods at once: both cannot succeed.

docs/domain.md 2 (退货流程): nobody returns more than was shipped, across every return of the
order, so an order line has at most one open return of its whole quantity. The check reads
the order's other returns and then files the new one; on its own that count-then-insert
writes nothing the other transaction would conflict on. ``request_return`` therefore also
writes the order it read (its version moves), so of two competing returns the later
commit conflicts, is re-run on fresh data and is refused with ``return_exceeds_shipment``
(issue #19 item 6).

- memory: two threads on one store whose units of work both take their snapshot before
  either writes (the clock's first reading is a rendezvous), so the commits must conflict;
- SQLite: two stores on one file, two threads released together (writers queue up);
- PostgreSQL: two stores (two connection pools) on one database, both snapshots taken
  before either writes; the server is a throwaway cluster (``csdomain_postgres.testing``)
  or ``$CSDOMAIN_POSTGRES_URL``; without one that test is skipped with the reason.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import csdomain.plugins
from csdomain.auth import Actor
from csdomain.clock import Clock, FixedClock
from csdomain.customers import Customer
from csdomain.desk.orders import OrderDesk
from csdomain.errors import CsDomainError, RuleViolation
from csdomain.kinds import CUSTOMERS, RETURNS
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.returns import ReturnItem
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
SALES = Actor("zhang.sales", {"salesperson"})
OTHER_SALES = Actor("li.sales", {"salesperson"})
FINANCE = Actor("qian.finance", {"finance"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")
ROUNDS = 3
SHIPPED = 2
TIMEOUT = 60.0
_RUN = uuid.uuid4().hex[:8]


class RendezvousClock(FixedClock):
    """A fixed clock whose first reading waits for the other desk's first reading.

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


def shipped_order(store: Store, sku: str) -> str:
    """A shipped order of ``SHIPPED`` units of ``sku`` for customer C-1."""
    desk = OrderDesk(store, clock=FixedClock(MONDAY))
    desk.receive_stock(sku, good=SHIPPED, by=WAREHOUSE)
    order = desk.place_order(
        "C-1",
        channel="online",
        lines=[OrderLine(sku, SHIPPED, Money.of("10.00", "CNY"))],
        by=SALES,
        consignee=CONSIGNEE,
    )
    desk.confirm_order(order.id, by=SALES)
    desk.record_payment(order.id, order.total, by=FINANCE)
    desk.ship_order(order.id, by=WAREHOUSE)
    return order.id


def seeded(store: Store) -> Store:
    with store.unit_of_work() as uow:
        if uow.repo(CUSTOMERS).get_or_none("C-1") is None:
            uow.customers.add(
                Customer(id="C-1", code="Wuhan-202611-Huake-001", name="Huake", created_at=MONDAY)
            )
    return store


def outcome(call: Callable[[], object]) -> str:
    """``"filed"``, or the code of the rule (or the error) that refused the return."""
    try:
        call()
    except RuleViolation as err:
        return err.code
    except CsDomainError as err:
        return type(err).__name__
    return "filed"


def race(stores: tuple[Store, Store], order_id: str, sku: str, *, rendezvous: bool) -> list[str]:
    """Two desks file a return of every shipped unit of ``sku`` at once; the outcomes."""
    barrier = threading.Barrier(2)
    results: queue.Queue[str] = queue.Queue()

    def file(store: Store, by: Actor) -> None:
        clock: Clock = RendezvousClock(MONDAY, barrier) if rendezvous else FixedClock(MONDAY)
        desk = OrderDesk(store, clock=clock)
        if not rendezvous:
            barrier.wait(TIMEOUT)
        request = lambda: desk.request_return(  # noqa: E731
            order_id, items=[ReturnItem(sku, SHIPPED)], reasons="defect", by=by
        )
        results.put(outcome(request))

    threads = [
        threading.Thread(target=file, args=(store, by))
        for store, by in zip(stores, (SALES, OTHER_SALES), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return sorted(results.get_nowait() for _ in threads)


def stored_returns(store: Store, order_id: str) -> int:
    with store.unit_of_work(readonly=True) as uow:
        return len(uow.repo(RETURNS).find(order_id=order_id))


def check_races(stores: tuple[Store, Store], *, rendezvous: bool) -> None:
    for number in range(ROUNDS):
        sku = f"AB-{_RUN}-{number}"
        order_id = shipped_order(stores[0], sku)
        outcomes = race(stores, order_id, sku, rendezvous=rendezvous)
        assert outcomes == ["filed", "return_exceeds_shipment"]
        assert stored_returns(stores[0], order_id) == 1
        assert stored_returns(stores[1], order_id) == 1


def test_two_desks_on_one_memory_store_cannot_both_return_the_shipped_goods() -> None:
    # Rule: nobody returns more than was shipped, even when two returns are filed at once
    store = seeded(open_store("memory://"))
    try:
        check_races((store, store), rendezvous=True)
    finally:
        store.close()


def test_two_desks_on_one_sqlite_file_cannot_both_return_the_shipped_goods(
    tmp_path: Path,
) -> None:
    # Rule: nobody returns more than was shipped, even when two returns are filed at once
    url = f"sqlite:///{tmp_path / 'returns.db'}"
    first = seeded(open_store(url))
    second = open_store(url)
    try:
        check_races((first, second), rendezvous=False)
    finally:
        second.close()
        first.close()


def plugin_manager() -> Any:
    """The default plugins, plus the PostgreSQL backend until its entry point is installed."""
    import csdomain_postgres

    pm = csdomain.plugins.get_plugin_manager()
    if not pm.is_registered(csdomain_postgres) and pm.get_plugin("postgres") is None:
        pm.register(csdomain_postgres, name="postgres")
    return pm


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    from csdomain_postgres.testing import url_or_skip

    base = url_or_skip()
    url = f"{base}{'&' if '?' in base else '?'}schema=r{_RUN}_returns"
    yield url
    if os.environ.get("CSDOMAIN_POSTGRES_URL"):
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "r{_RUN}_returns" CASCADE')


def test_two_desks_on_one_postgres_database_cannot_both_return_the_shipped_goods(
    postgres_url: str,
) -> None:
    # Rule: nobody returns more than was shipped, even when two returns are filed at once
    first = seeded(open_store(postgres_url, plugin_manager=plugin_manager()))
    second = open_store(postgres_url, plugin_manager=plugin_manager())
    try:
        check_races((first, second), rendezvous=True)
    finally:
        second.close()
        first.close()
