"""The kit's knobs and helpers, shared by every group of contract tests."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn, TypeVar

import attrs
import pytest

from csdomain.errors import ConcurrencyConflict, CsDomainError
from csdomain.store import OUTBOX, KindRegistry, Store, UnitOfWork
from csdomain.testing.conformance.specimens import (
    HOSTILE_STRINGS,
    ODD_KEYS,
    SPECIMENS,
    T0,
    Specimen,
    SpecimenRecorded,
    specimen,
)


__all__ = ["KitBase"]

T = TypeVar("T")


class KitBase:
    """Knobs, factory methods and helpers of :class:`BackendConformance`."""

    #: How many threads the concurrency tests use (0 skips them: a backend whose store
    #: cannot be shared between threads).
    concurrent_threads: ClassVar[int] = 4
    #: How many documents the large-batch test writes in one ``insert`` call. Keep the
    #: default: a smaller number lets a backend that truncates big batches pass.
    batch_size: ClassVar[int] = 10_000
    #: ``True``: the backend keeps its data after ``close()`` and :meth:`reopen_store`
    #: must open it again; ``False``: it keeps nothing (the persistence tests are skipped);
    #: ``None`` (undeclared): :meth:`reopen_store` decides, and a backend that neither
    #: reopens nor says ``persistent = False`` fails the persistence tests.
    persistent: ClassVar[bool | None] = None
    #: Seconds every thread of a concurrency test may take before the test fails as hung.
    thread_timeout: ClassVar[float] = 60.0
    #: How many times a unit of work that lost a race is tried before the test fails.
    retry_attempts: ClassVar[int] = 200
    #: Seconds a unit of work stays open while a second one runs beside it. A backend that
    #: serializes writers (SQLite) blocks the second until the first ends, and waits this
    #: long every time; any other backend lets the second finish at once.
    overlap_wait: ClassVar[float] = 2.0

    def make_store(self) -> Store:
        """Return a new, empty store on the backend under test (called 100+ times)."""
        raise NotImplementedError

    def reopen_store(self, store: Store) -> Store | None:
        """Close ``store``, then open the same data again (``None``: not persistent)."""
        return None

    # stores ---------------------------------------------------------------------------

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A fresh store (checked to be empty), closed afterwards."""
        store = self.make_store()
        try:
            self._check_empty(store)
            yield store
        finally:
            store.close()

    def _check_empty(self, store: Store) -> None:
        with store.unit_of_work(readonly=True) as uow:
            lister = getattr(uow.tx, "list_counters", None)
            held = (
                uow.repo(SPECIMENS).count(),
                uow.repo(OUTBOX).count(),
                [] if lister is None else list(itertools.islice(lister(), 3)),
            )
        assert held == (0, 0, []), "make_store() must return a new, empty store every time"

    def can_reopen(self) -> bool:
        """Whether the persistence checks run: not declared transient, reopen_store given."""
        overridden = type(self).reopen_store is not KitBase.reopen_store
        return self.persistent is True or (self.persistent is None and overridden)

    def _reopen(self, store: Store) -> Store:
        """``reopen_store(store)``: skipped for a declared transient backend, failing loudly
        when a backend that should keep its data cannot reopen it."""
        if self.persistent is False:
            store.close()
            pytest.skip("the backend is declared not persistent (persistent = False)")
        reopened = self.reopen_store(store)
        if reopened is None:
            store.close()
            if self.persistent:
                _fail(
                    "persistent = True, but reopen_store() returned None: implement it "
                    "(close the store it gets, open the same data again, return that store)"
                )
            _fail(
                "reopen_store() is not implemented: implement it for a backend that keeps "
                "its data, or declare persistent = False for one that keeps nothing once closed"
            )
        self._check_closed(store, "reopen_store() must close the store it gets first")
        return reopened

    def _check_closed(self, store: Store, message: str) -> None:
        uow = store.unit_of_work(readonly=True)
        try:
            uow.__enter__()
        except CsDomainError:
            return
        uow.__exit__(None, None, None)
        store.close()
        _fail(message)

    # writing and reading ----------------------------------------------------------------

    def _add(self, store: Store, *items: Specimen) -> None:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(items)

    def _ids(self, store: Store, **where: Any) -> list[str]:
        with store.unit_of_work(readonly=True) as uow:
            return [s.id for s in uow.repo(SPECIMENS).find(**where)]

    def _ids_and_count(self, store: Store, **where: Any) -> list[str]:
        """The ids ``find(**where)`` returns, checked against ``count(**where)``."""
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(SPECIMENS)
            found = [s.id for s in repo.find(**where)]
            counted = repo.count(**{k: v for k, v in where.items() if k != "order_by"})
        assert counted == len(found), f"count({where}) disagrees with find()"
        return found

    # threads and retries ----------------------------------------------------------------

    def _threads(self) -> int:
        """How many threads to race (skips the test for a store threads cannot share)."""
        if not self.concurrent_threads:
            pytest.skip("the backend is not shared between threads (concurrent_threads = 0)")
        return self.concurrent_threads

    def _retry(self, store: Store, work: Callable[[UnitOfWork], T], what: str) -> T:
        """Run ``work`` in a unit of work until it commits without a conflict (bounded)."""
        for _attempt in range(self.retry_attempts):
            try:
                with store.unit_of_work() as uow:
                    result = work(uow)
            except ConcurrencyConflict:
                continue
            return result
        return _fail(
            f"{what}: still a ConcurrencyConflict after {self.retry_attempts} attempts "
            "(a write that always conflicts?)"
        )

    def _run_threads(self, work: Callable[[int], None], count: int) -> None:
        """Run ``work(0)`` ... ``work(count - 1)`` in threads; fail if one errs or hangs."""
        errors: list[BaseException] = []

        def run(number: int) -> None:
            try:
                work(number)
            except BaseException as err:  # reported to the main thread
                errors.append(err)

        pool = [
            threading.Thread(target=run, args=(n,), name=f"kit-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in pool:
            thread.start()
        self._join(pool)
        if errors:
            raise errors[0]

    def _join(self, pool: list[threading.Thread]) -> None:
        deadline = time.monotonic() + self.thread_timeout
        for thread in pool:
            thread.join(max(0.0, deadline - time.monotonic()))
        hung = [thread.name for thread in pool if thread.is_alive()]
        if hung:
            _fail(
                f"{len(hung)} of {len(pool)} threads still running after "
                f"{self.thread_timeout:g} s: the backend hangs (a lock never released?)"
            )

    def _beside(self, work: Callable[[], None]) -> tuple[threading.Thread, threading.Event]:
        """Start ``work`` in a thread; the event is set when it ends, however it ends."""
        done = threading.Event()

        def run() -> None:
            try:
                work()
            finally:
                done.set()

        thread = threading.Thread(target=run, name="kit-beside", daemon=True)
        thread.start()
        return thread, done

    # export and import ----------------------------------------------------------------

    @contextmanager
    def transfer_store(self) -> Iterator[Store]:
        """A fresh store whose kinds are the kit's (specimens and the outbox), closed after."""
        with self.store() as made:
            kinds = KindRegistry()
            kinds.register(SPECIMENS)
            kinds.register(OUTBOX)
            yield Store(made.backend, kinds=kinds, clock=made.clock)

    def _fill_for_transfer(self, store: Store) -> None:
        texts = [text for text in HOSTILE_STRINGS if len(text) < 1000]
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            repo.add_many(specimen(n, note=text) for n, text in enumerate(texts))
            repo.add_many(attrs.evolve(specimen(100 + n), id=k) for n, k in enumerate(ODD_KEYS))
            for n in range(3):
                current = repo.get(f"s{n:06d}")
                for bump in range(n + 1):
                    repo.update(attrs.evolve(current, rank=bump))
            uow.emit(SpecimenRecorded("s000001", T0), at=T0)
            for name, value in (("kit", 3), ("series:KIT-202601-#", 12), ("客", 1), ("a\x00", 2)):
                for _ in range(value):
                    uow.next_counter(name)


def _fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)
