"""Concurrency on one PostgreSQL database: no lost update, no message delivered twice.

- Four processes each receive one unit of the same SKU 500 times through
  :class:`~csdomain.desk.orders.OrderDesk` (the desk re-runs a unit of work that lost a
  race): the stock ends at 2,000 with 2,000 ``StockReceived`` events, none lost, none twice.
- Two dispatchers, each on its own store (its own pool of connections), share one outbox
  and one message queue: every message is delivered exactly once, and both do some of it.

The server is a throwaway cluster (``csdomain_postgres.testing``) or
``$CSDOMAIN_POSTGRES_URL``; without one the tests are skipped with the reason.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

import csdomain.plugins
from csdomain.auth import Actor
from csdomain.clock import FixedClock, SystemClock
from csdomain.customers import Customer
from csdomain.desk.base import retrying
from csdomain.desk.notifications import Dispatcher, DispatchSummary
from csdomain.desk.orders import OrderDesk
from csdomain.errors import ConcurrencyConflict
from csdomain.hookspecs import hookimpl
from csdomain.kinds import CUSTOMERS, MESSAGES, STOCKS
from csdomain.notify import Message, MessageStatus, NotificationPolicy
from csdomain.orders import OrderShipped, ShipmentLine, ShippingMode
from csdomain.store import Store, open_store
from csdomain_postgres.testing import url_or_skip


PROCESSES = 4
UPDATES = 500
SKU = "HOT-SKU"
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
TIMEOUT = 240.0
DIRECT = 150
EVENTS = 50
#: No rest hours: the test must not depend on the time of day it runs at.
POLICY = NotificationPolicy(default_rest_hours=None, batch_size=20)
_RUN = uuid.uuid4().hex[:8]


def plugin_manager() -> Any:
    """The default plugins, plus this backend until its entry point is installed."""
    import csdomain_postgres

    pm = csdomain.plugins.get_plugin_manager()
    if not pm.is_registered(csdomain_postgres) and pm.get_plugin("postgres") is None:
        pm.register(csdomain_postgres, name="postgres")
    return pm


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    base = url_or_skip()
    yield base
    if os.environ.get("CSDOMAIN_POSTGRES_URL"):
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "r{_RUN}_stock", "r{_RUN}_dispatch" CASCADE')


def schema_url(base: str, name: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}schema=r{_RUN}_{name}"


# -- conflicts are re-run after a short, jittered, growing pause (issue #19 item 5) ----------------


def conflicted_then_done(failures: int) -> tuple[list[int], Any]:
    """A unit of work that conflicts ``failures`` times, then answers its attempt number."""
    calls: list[int] = []

    def work(uow: Any) -> int:
        calls.append(len(calls) + 1)
        if len(calls) <= failures:
            raise ConcurrencyConflict(SKU, SKU, len(calls), len(calls) + 1)
        return len(calls)

    return calls, work


@pytest.mark.parametrize(("jitter", "factor"), [(0.0, 0.5), (0.5, 0.75), (1.0, 1.0)])
def test_retrying_waits_exponentially_longer_with_jitter_between_attempts(
    jitter: float, factor: float
) -> None:
    """Rule: a conflicted unit of work is re-run after 5 ms, 10 ms, 20 ms ... times a jitter
    factor in [0.5, 1] (issue #19 item 5)."""
    waits: list[float] = []
    calls, work = conflicted_then_done(4)
    with open_store("memory://") as store:
        result = retrying(store, work, attempts=5, sleep=waits.append, jitter=lambda: jitter)
    assert (result, calls) == (5, [1, 2, 3, 4, 5])
    assert waits == pytest.approx([factor * d for d in (0.005, 0.01, 0.02, 0.04)])


def test_retrying_waits_are_capped_and_none_follows_the_last_attempt() -> None:
    """Rule: backoff is bounded: each wait at most max_backoff, nothing after giving up."""
    waits: list[float] = []
    _, work = conflicted_then_done(100)
    with open_store("memory://") as store, pytest.raises(ConcurrencyConflict):
        retrying(store, work, attempts=12, sleep=waits.append, jitter=lambda: 1.0)
    assert len(waits) == 11
    assert max(waits) == pytest.approx(0.1)
    assert waits[-5:] == pytest.approx([0.1] * 5)


def test_retrying_by_default_waits_at_most_75_ms_in_all_over_five_attempts() -> None:
    """Rule: the default backoff is small (first wait a few ms, bounded total)."""
    waits: list[float] = []
    _, work = conflicted_then_done(100)
    with open_store("memory://") as store, pytest.raises(ConcurrencyConflict):
        retrying(store, work, sleep=waits.append)
    assert len(waits) == 4
    assert 0.0025 <= waits[0] <= 0.005
    assert sum(waits) <= 0.075


def test_retrying_does_not_wait_when_the_first_attempt_succeeds() -> None:
    waits: list[float] = []
    _, work = conflicted_then_done(0)
    with open_store("memory://") as store:
        assert retrying(store, work, sleep=waits.append) == 1
    assert waits == []


# -- four processes, one stock item ------------------------------------------------------------


def receive_units(url: str, start: Any, done: Any) -> None:
    """Child process: receive one unit of ``SKU`` ``UPDATES`` times, retrying lost races."""
    store = open_store(url, plugin_manager=plugin_manager(), clock=FixedClock(MONDAY))
    try:
        desk = OrderDesk(store, clock=FixedClock(MONDAY), retries=100_000)
        start.wait(TIMEOUT)
        for _ in range(UPDATES):
            desk.receive_stock(SKU, good=1, by=WAREHOUSE)
    finally:
        store.close()
    done.put("ok")


@pytest.mark.slow
def test_four_processes_lose_no_update_of_one_stock_item(
    server: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = schema_url(server, "stock")
    store = open_store(url, plugin_manager=plugin_manager())
    try:
        with store.unit_of_work() as uow:
            uow.repo(STOCKS).count()
        # spawned children import this module by name: make its package root importable
        monkeypatch.syspath_prepend(str(request.config.rootpath))
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(PROCESSES)
        done = context.Queue()
        workers = [
            context.Process(target=receive_units, args=(url, start, done)) for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        try:
            finished = [done.get(timeout=TIMEOUT) for _ in workers]
        finally:
            for worker in workers:
                worker.join(TIMEOUT)
                if worker.is_alive():
                    worker.kill()
                    worker.join()
        assert finished == ["ok"] * PROCESSES
        assert [w.exitcode for w in workers] == [0] * PROCESSES
        with store.unit_of_work(readonly=True) as uow:
            stock, version = uow.repo(STOCKS).get_with_version(SKU)
            received = uow.outbox.count(type="StockReceived")
        assert stock.good == PROCESSES * UPDATES
        assert version == PROCESSES * UPDATES
        assert received == PROCESSES * UPDATES
    finally:
        store.close()


# -- two dispatchers, one queue ----------------------------------------------------------------


class Recorder:
    """A receiver that notes the idempotency key of each message it is handed."""

    def __init__(self, name: str, log: list[tuple[str, str]], lock: threading.Lock) -> None:
        self.name = name
        self.log = log
        self.lock = lock

    @hookimpl
    def csdomain_deliver(self, message: Message) -> bool | None:
        if message.channel not in ("file", "sms"):
            return None
        time.sleep(0.002)  # a gateway takes a moment: lets the workers interleave
        with self.lock:
            self.log.append((self.name, message.idempotency_key))
        return True


def seed(store: Store) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        for n in range(EVENTS):
            uow.repo(CUSTOMERS).add(
                Customer(
                    id=f"C-{n}",
                    code=f"SH-202611-C{n}-001",
                    name=f"Customer {n}",
                    phone=f"138{n:08d}",
                )
            )
            uow.emit(
                OrderShipped(
                    order_id=f"SO-{n}",
                    customer_id=f"C-{n}",
                    lines=(ShipmentLine("AB-100", 1),),
                    mode=ShippingMode.EXPRESS,
                    tracking=f"SF{n}",
                    expected_earliest=date(2026, 11, 4),
                    expected_latest=date(2026, 11, 5),
                    at=now,
                    by="wh-1",
                ),
                at=now,
            )
        uow.repo(MESSAGES).add_many(
            Message.create(
                channel="file",
                recipient="ops",
                kind="dealer_announcement",
                body=f"Announcement {n}",
                at=now,
                source=f"manual:{n}",
            )
            for n in range(DIRECT)
        )


@pytest.mark.slow
def test_two_dispatchers_on_two_connections_deliver_each_message_once(server: str) -> None:
    url = schema_url(server, "dispatch")
    seed_store = open_store(url, plugin_manager=plugin_manager())
    log: list[tuple[str, str]] = []
    lock = threading.Lock()
    totals: dict[str, DispatchSummary] = {}
    errors: list[BaseException] = []
    go = threading.Barrier(2)

    def work(name: str) -> None:
        pm = csdomain.plugins.get_plugin_manager(load_entrypoints=False)
        pm.register(Recorder(name, log, lock))
        store = open_store(url, plugin_manager=plugin_manager())
        try:
            dispatcher = Dispatcher(store, pm, SystemClock(), policy=POLICY, worker_id=name)
            go.wait(TIMEOUT)
            totals[name] = dispatcher.run_forever(0, until_idle=True)
        except BaseException as err:  # reported to the main thread
            errors.append(err)
        finally:
            store.close()

    try:
        seed(seed_store)
        workers = [threading.Thread(target=work, args=(n,)) for n in ("worker-a", "worker-b")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(TIMEOUT)
        assert errors == []
        with seed_store.unit_of_work(readonly=True) as uow:
            messages = uow.repo(MESSAGES).find()
            pending_events = uow.outbox.count(status="pending")
    finally:
        seed_store.close()

    keys = [key for _, key in log]
    assert len(messages) == DIRECT + EVENTS
    assert pending_events == 0
    assert sorted(keys) == sorted(m.idempotency_key for m in messages)  # each exactly once
    assert {(m.status, m.attempts) for m in messages} == {(MessageStatus.DELIVERED, 1)}
    assert sum(t.delivered for t in totals.values()) == DIRECT + EVENTS
    assert sum(t.relayed for t in totals.values()) == EVENTS
    by_worker = Counter(name for name, _ in log)
    assert set(by_worker) == {"worker-a", "worker-b"}, "both dispatchers delivered messages"
