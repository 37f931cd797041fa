"""Concurrent writers lose no update and never hand out a reference number twice.

Four writers each receive one unit of one SKU 500 times through the service layer
(:meth:`~csdomain.desk.orders.OrderDesk.receive_stock`, which re-runs a unit of work on
:class:`~csdomain.errors.ConcurrencyConflict`) and take 500 numbers from one naming series
through :func:`~csdomain.desk.base.retrying`. Afterwards the stock equals the number of
increments that reported success and the numbers are ``1 .. N`` without a repeat. Once as
four processes on one SQLite file (writers queue up), once as four threads on one memory
store (the later commit conflicts and is re-run; a call that still conflicts after its
attempts fails, and must then have written nothing).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.desk.base import retrying
from csdomain.desk.orders import OrderDesk
from csdomain.errors import AlreadyExists, ConcurrencyConflict
from csdomain.ids import NamingSeries
from csdomain.kinds import STOCKS
from csdomain.orders import Stock
from csdomain.store import Store, UnitOfWork, open_store


WRITERS = 4
ROUNDS = 500
SKU = "AB-100"
SERIES = NamingSeries("SO-{yyyy}{mm}-{seq:05d}")
NOW = datetime(2026, 11, 2, 1, tzinfo=UTC)
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
TIMEOUT = 120.0


@attrs.frozen
class Tally:
    """What one writer saw: increments that succeeded or failed, numbers it was given."""

    received: int
    refused: int
    numbers: tuple[str, ...]
    number_failures: int


def take_number(uow: UnitOfWork) -> str:
    return SERIES.next(uow, NOW)


def write(store: Store, barrier: Any) -> Tally:
    """One writer: ``ROUNDS`` stock increments and ``ROUNDS`` numbers, after the barrier."""
    desk = OrderDesk(store, clock=FixedClock(NOW))
    received = refused = failures = 0
    numbers: list[str] = []
    barrier.wait(TIMEOUT)
    for _ in range(ROUNDS):
        try:
            desk.receive_stock(SKU, good=1, by=WAREHOUSE)
            received += 1
        except (ConcurrencyConflict, AlreadyExists):
            refused += 1
        try:
            numbers.append(retrying(store, take_number, attempts=desk.retries))
        except ConcurrencyConflict:
            failures += 1
    return Tally(received, refused, tuple(numbers), failures)


def write_in_process(url: str, barrier: Any, results: Any) -> None:
    """Child process: one writer on the store at ``url``; the tally goes to ``results``."""
    store = open_store(url)
    try:
        tally = write(store, barrier)
        results.put((tally.received, tally.refused, tally.numbers, tally.number_failures))
    except Exception as err:
        results.put(repr(err))
        raise
    finally:
        store.close()


def check(store: Store, tallies: list[Tally]) -> None:
    received = sum(t.received for t in tallies)
    numbers = [n for t in tallies for n in t.numbers]
    with store.unit_of_work(readonly=True) as uow:
        stock = uow.repo(STOCKS).get(SKU)
        received_events = uow.outbox.count(type="StockReceived")
    assert stock.good == received
    assert received_events == received
    assert received + sum(t.refused for t in tallies) == WRITERS * ROUNDS
    assert len(numbers) + sum(t.number_failures for t in tallies) == WRITERS * ROUNDS
    assert len(set(numbers)) == len(numbers)
    assert sorted(numbers) == [SERIES.render(n, NOW) for n in range(1, len(numbers) + 1)]
    with store.unit_of_work() as uow:
        assert take_number(uow) == SERIES.render(len(numbers) + 1, NOW)


def _importable_in_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this module's import root on ``sys.path`` so spawned children can unpickle
    :func:`write_in_process` by its module name (pytest runs with ``--import-mode=importlib``)."""
    root = Path(__file__).resolve().parents[__name__.count(".")]
    monkeypatch.syspath_prepend(str(root))
    assert sys.modules[__name__].write_in_process is write_in_process


@pytest.mark.slow
def test_four_processes_lose_no_increment_and_repeat_no_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _importable_in_children(monkeypatch)
    url = f"sqlite:///{tmp_path / 'counts.db'}"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    workers = [
        context.Process(target=write_in_process, args=(url, barrier, results))
        for _ in range(WRITERS)
    ]
    for process in workers:
        process.start()
    try:
        outcomes = [results.get(timeout=TIMEOUT) for _ in workers]
    finally:
        for process in workers:
            process.join(TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()
    assert [p.exitcode for p in workers] == [0] * WRITERS
    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    tallies = [Tally(*outcome) for outcome in outcomes]
    assert sum(t.received for t in tallies) == WRITERS * ROUNDS
    store = open_store(url)
    try:
        check(store, tallies)
    finally:
        store.close()


def test_four_threads_on_one_memory_store_lose_no_increment_and_repeat_no_number() -> None:
    store = open_store("memory://")
    try:
        barrier = threading.Barrier(WRITERS)
        tallies: list[Tally] = []
        lock = threading.Lock()

        def run() -> None:
            tally = write(store, barrier)
            with lock:
                tallies.append(tally)

        threads = [threading.Thread(target=run) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        assert len(tallies) == WRITERS
        check(store, tallies)
    finally:
        store.close()


def test_retrying_reruns_a_conflicting_unit_of_work_a_bounded_number_of_times() -> None:
    store = open_store("memory://")
    try:
        calls: list[int] = []

        def conflicting(uow: UnitOfWork) -> None:
            calls.append(uow.next_counter("tries"))
            raise ConcurrencyConflict("stock", SKU, 1, 2)

        with pytest.raises(ConcurrencyConflict):
            retrying(store, conflicting, attempts=3)
        assert calls == [1, 1, 1]

        def second_time_lucky(uow: UnitOfWork) -> str:
            calls.append(0)
            if len(calls) == 4:
                raise ConcurrencyConflict("stock", SKU, 1, 2)
            return take_number(uow)

        assert retrying(store, second_time_lucky, attempts=2) == SERIES.render(1, NOW)
        assert len(calls) == 5
    finally:
        store.close()


def test_a_key_taken_by_a_concurrent_commit_is_retried_and_a_taken_key_is_not() -> None:
    store = open_store("memory://")
    try:
        attempts: list[str] = []

        def first_receipt(uow: UnitOfWork) -> int:
            repo = uow.repo(STOCKS)
            stock = repo.get_or_none(SKU)
            attempts.append("update" if stock else "add")
            if stock is None:
                with store.unit_of_work() as rival:
                    rival.repo(STOCKS).add(Stock(id=SKU, good=1))
                repo.add(Stock(id=SKU, good=1))
                return 1
            repo.update(attrs.evolve(stock, good=stock.good + 1))
            return stock.good + 1

        assert retrying(store, first_receipt) == 2
        assert attempts == ["add", "update"]

        def duplicate(uow: UnitOfWork) -> None:
            attempts.append("duplicate")
            uow.repo(STOCKS).add(Stock(id=SKU))

        with pytest.raises(AlreadyExists):
            retrying(store, duplicate, attempts=5)
        assert attempts[2:] == ["duplicate"]
    finally:
        store.close()
