"""Contract tests: units of work racing each other, in threads sharing one store.

Every wait is bounded: a backend that deadlocks or conflicts forever fails the test
(:attr:`~KitBase.thread_timeout`, :attr:`~KitBase.retry_attempts`), it never hangs the run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs

from csdomain.errors import AlreadyExists, ConcurrencyConflict
from csdomain.store import Store, UnitOfWork
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import SPECIMENS, specimen


__all__ = ["ConcurrencyChecks"]

#: ``first(uow, let_second_run)``: the first unit of work's body.
_First = Callable[[UnitOfWork, Callable[[], None]], None]


class ConcurrencyChecks(KitBase):
    """Racing units of work: no lost update, no key created twice, counters never repeat."""

    def _overlapping(self, store: Store, first: _First, second: Callable[[], None]) -> str:
        """Run ``first`` in a unit of work that lets ``second`` run in a thread while it is
        open; ``"committed"`` or why it was refused."""
        beside: list[threading.Thread] = []

        def let_second_run() -> None:
            thread, done = self._beside(second)
            beside.append(thread)
            done.wait(self.overlap_wait)

        try:
            with store.unit_of_work() as uow:
                first(uow, let_second_run)
            result = "committed"
        except (AlreadyExists, ConcurrencyConflict) as err:
            result = f"refused: {type(err).__name__}"
        finally:
            self._join(beside)
        return result

    def _still_writable(self, store: Store) -> None:
        """A later unit of work can write: a refused one released whatever it held."""

        def write(_number: int) -> None:
            self._add(store, specimen(99))

        self._run_threads(write, 1)

    def test_two_overlapping_creates_of_one_key_let_exactly_one_win(self) -> None:
        self._threads()
        with self.store() as store:
            self._add(store, specimen(0))
            outcomes: dict[str, str] = {}

            def second() -> None:
                try:
                    with store.unit_of_work() as uow:
                        repo = uow.repo(SPECIMENS)
                        if repo.exists("s000001"):
                            outcomes["second"] = "saw the first"
                            return
                        repo.add(specimen(1, note="second"))
                    outcomes["second"] = "committed"
                except (AlreadyExists, ConcurrencyConflict) as err:
                    outcomes["second"] = f"refused: {type(err).__name__}"
                except Exception as err:  # reported in the assertion below
                    outcomes["second"] = f"failed: {err!r}"

            def first(uow: UnitOfWork, let_second_run: Callable[[], None]) -> None:
                repo = uow.repo(SPECIMENS)
                assert not repo.exists("s000001")
                let_second_run()
                repo.add(specimen(1, note="first"))

            outcomes["first"] = self._overlapping(store, first, second)
            winners = [who for who, outcome in outcomes.items() if outcome == "committed"]
            assert len(winners) == 1, f"two overlapping creates of one key: {outcomes}"
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(SPECIMENS).get_with_version("s000001") == (
                    specimen(1, note=winners[0]),
                    1,
                )
            self._still_writable(store)

    def test_two_overlapping_updates_of_one_document_lose_no_update(self) -> None:
        self._threads()
        with self.store() as store:
            self._add(store, specimen(1))
            outcomes: dict[str, str] = {}
            read: list[int] = []

            def second() -> None:
                try:
                    with store.unit_of_work() as uow:
                        repo = uow.repo(SPECIMENS)
                        current, version = repo.get_with_version("s000001")
                        read.append(version)
                        repo.update(attrs.evolve(current, label="second"))
                    outcomes["second"] = "committed"
                except ConcurrencyConflict:
                    outcomes["second"] = "refused: ConcurrencyConflict"
                except Exception as err:  # reported in the assertion below
                    outcomes["second"] = f"failed: {err!r}"

            def first(uow: UnitOfWork, let_second_run: Callable[[], None]) -> None:
                repo = uow.repo(SPECIMENS)
                current = repo.get("s000001")
                let_second_run()
                repo.update(attrs.evolve(current, label="first"))

            outcomes["first"] = self._overlapping(store, first, second)
            with store.unit_of_work(readonly=True) as uow:
                final, version = uow.repo(SPECIMENS).get_with_version("s000001")
            winners = [who for who in ("first", "second") if outcomes.get(who) == "committed"]
            assert winners, f"neither of two overlapping updates committed: {outcomes}"
            assert version == 1 + len(winners), f"an update was lost: {outcomes}"
            if len(winners) == 2:
                assert read == [2], f"both committed, the second unaware of the first: {outcomes}"
                assert final.label == "second"
            else:
                assert final.label == winners[0]
            self._still_writable(store)

    def test_two_overlapping_counter_increments_never_repeat(self) -> None:
        self._threads()
        with self.store() as store:
            outcomes: dict[str, str] = {}
            values: dict[str, int] = {}

            def second() -> None:
                try:
                    with store.unit_of_work() as uow:
                        values["second"] = uow.next_counter("kit")
                    outcomes["second"] = "committed"
                except ConcurrencyConflict:
                    outcomes["second"] = "refused: ConcurrencyConflict"
                except Exception as err:  # reported in the assertion below
                    outcomes["second"] = f"failed: {err!r}"

            def first(uow: UnitOfWork, let_second_run: Callable[[], None]) -> None:
                values["first"] = uow.next_counter("kit")
                let_second_run()

            outcomes["first"] = self._overlapping(store, first, second)
            issued = [
                values[who] for who in ("first", "second") if outcomes.get(who) == "committed"
            ]
            assert issued, f"neither of two overlapping increments committed: {outcomes}"
            assert len(set(issued)) == len(issued), (
                f"a number was issued twice: {values}, {outcomes}"
            )
            with store.unit_of_work() as uow:
                assert uow.next_counter("kit") == len(issued) + 1

    def test_concurrent_increments_lose_no_update(self) -> None:
        threads = self._threads()
        per_thread = 15
        with self.store() as store:
            self._add(store, specimen(0))

            def increment(uow: UnitOfWork) -> None:
                repo = uow.repo(SPECIMENS)
                current = repo.get("s000000")
                repo.update(attrs.evolve(current, rank=current.rank + 1))

            def work(_number: int) -> None:
                for _ in range(per_thread):
                    self._retry(store, increment, "an increment")

            self._run_threads(work, threads)
            with store.unit_of_work(readonly=True) as uow:
                final, version = uow.repo(SPECIMENS).get_with_version("s000000")
            assert final.rank == threads * per_thread
            assert version == 1 + threads * per_thread

    def test_counters_never_repeat_across_threads(self) -> None:
        threads = self._threads()
        per_thread = 20
        issued: list[int] = []
        lock = threading.Lock()
        with self.store() as store:

            def take(uow: UnitOfWork) -> int:
                return uow.next_counter("series:kit")

            def work(_number: int) -> None:
                for _ in range(per_thread):
                    value = self._retry(store, take, "a counter")
                    with lock:
                        issued.append(value)

            self._run_threads(work, threads)
            with store.unit_of_work(readonly=True) as uow:
                assert dict(uow.tx.list_counters()) == {"series:kit": threads * per_thread}
        assert sorted(issued) == list(range(1, threads * per_thread + 1))
