"""One number per series value under concurrency (issue #19 item 6), for the customer code:
two desks registering customers of one city and month at once never get the same serial,
on memory and SQLite, and the serials stay 1, 2, 3 ... without a gap.

The conformance kit races the backend counters themselves
(``test_counters_never_repeat_across_threads``) and tests/reliability/test_at_most_one.py
races warranty claim numbers; this test races the series whose counter is shared by
every name (``series:Wuhan-202611-*-#``) through the desk, with both units of work
holding their snapshot before either writes. The customers get ids of their own, so only
the code's counter keeps the two desks apart.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.desk.customers import CustomerDesk
from csdomain.store import Store, open_store


NOVEMBER = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERKS = (Actor("li.clerk", {"specialist"}), Actor("wang.clerk", {"specialist"}))
ROUNDS = 4
TIMEOUT = 60.0
_NAMES = itertools.count()


class RendezvousClock(FixedClock):
    """A fixed clock whose first reading in each round waits for the other desk's.

    ``register_customer`` reads the clock first thing in its unit of work, so both units
    of work have begun before either takes a number.
    """

    def __init__(self, at: datetime, barrier: threading.Barrier) -> None:
        super().__init__(at)
        self.barrier = barrier
        self.armed = False

    def now(self) -> datetime:
        if self.armed:
            self.armed = False
            self.barrier.wait(TIMEOUT)
        return super().now()


@pytest.fixture(params=["memory", "sqlite"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two store objects on one store: a named memory store, or one SQLite file."""
    if request.param == "memory":
        url = f"memory://series-race-{next(_NAMES)}"
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    first, second = open_store(url), open_store(url)
    yield first, second
    second.close()
    first.close()


def in_two_threads(work: Callable[[int], list[str]]) -> list[str]:
    """Run ``work(which)`` for desks 0 and 1 at once; every code either returned."""
    results: queue.Queue[list[str] | BaseException] = queue.Queue()

    def run(which: int) -> None:
        try:
            results.put(work(which))
        except BaseException as err:  # handed to the test thread
            results.put(err)

    threads = [threading.Thread(target=run, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    codes: list[str] = []
    for _ in threads:
        found = results.get_nowait()
        if isinstance(found, BaseException):
            raise found
        codes.extend(found)
    return codes


def serials(codes: list[str]) -> list[int]:
    assert all(code.startswith("Wuhan-202611-") for code in codes)
    return sorted(int(code.rsplit("-", 1)[1]) for code in codes)


def test_two_desks_registering_at_once_never_share_a_customer_code_serial(
    stores: tuple[Store, Store],
) -> None:
    # Rule: one number per series value (issue #19 item 6); the serial counts the
    # customers of the city and month, whatever their names (docs/domain.md 1).
    barrier = threading.Barrier(2)
    clocks = [RendezvousClock(NOVEMBER, barrier) for _ in stores]
    desks = [CustomerDesk(store, clock=clock) for store, clock in zip(stores, clocks, strict=True)]

    def register(which: int) -> list[str]:
        codes = []
        for round_ in range(ROUNDS):
            clocks[which].armed = True
            customer, _ = desks[which].register_customer(
                name=f"Customer {which}-{round_}",
                city="Wuhan",
                by=CLERKS[which],
                id=f"C-{which}-{round_}",
            )
            codes.append(customer.code)
        return codes

    assert serials(in_two_threads(register)) == list(range(1, 2 * ROUNDS + 1))


def test_many_registrations_from_two_desks_give_every_serial_once(
    stores: tuple[Store, Store],
) -> None:
    # Rule: one number per series value (issue #19 item 6), under sustained contention.
    per_desk = 12
    desks = [CustomerDesk(store, clock=FixedClock(NOVEMBER)) for store in stores]

    def register(which: int) -> list[str]:
        return [
            desks[which]
            .register_customer(
                name=f"Name {which}-{n}", city="Wuhan", by=CLERKS[which], id=f"N-{which}-{n}"
            )[0]
            .code
            for n in range(per_desk)
        ]

    assert serials(in_two_threads(register)) == list(range(1, 2 * per_desk + 1))
