"""Contract tests: the outbox, its status index and claiming its pending entries.

The dispatcher relays ``claim_candidates(status="pending", order_by="created_at")`` and
marks each entry processed; a backend that ignores the status filter, keeps an entry's
old index values after an update or hands a processed entry out again sends a message
twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from csdomain.store import OUTBOX, OutboxEntry, Store, UnitOfWork
from csdomain.testing.conformance.base import KitBase, _fail
from csdomain.testing.conformance.specimens import SPECIMENS, T0, SpecimenRecorded, specimen


__all__ = ["OutboxChecks"]

_LATER = T0 + timedelta(days=1)


def _emit(store: Store, count: int) -> list[str]:
    """``count`` outbox entries, each a second after the one before; their ids in order."""
    with store.unit_of_work() as uow:
        entries = [
            uow.emit(SpecimenRecorded(f"s{n:06d}", T0), at=T0 + timedelta(seconds=n))
            for n in reversed(range(count))
        ]
    return sorted(entry.id for entry in entries)


def _claim(uow: UnitOfWork, limit: int) -> list[OutboxEntry]:
    """What the dispatcher does: claim pending entries by age, mark them processed."""
    batch = uow.outbox.claim_candidates(status="pending", order_by="created_at", limit=limit)
    for entry in batch:
        uow.outbox.update(entry.processed(_LATER))
    return batch


class OutboxChecks(KitBase):
    """The outbox: written with the change, found by status, each entry claimed once."""

    def test_emitted_events_are_in_the_outbox_with_the_change(self) -> None:
        with self.store() as store:
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(1))
                entry = uow.emit(SpecimenRecorded("s000001", T0), at=T0)
            with store.unit_of_work(readonly=True) as uow:
                pending = uow.outbox.find(status="pending")
            assert [e.id for e in pending] == [entry.id]
            assert pending[0].event() == SpecimenRecorded("s000001", T0)
            assert pending[0].type == "SpecimenRecorded"

    def test_the_status_filter_and_index_follow_every_update(self) -> None:
        with self.store() as store:
            ids = _emit(store, 6)
            with store.unit_of_work() as uow:
                outbox = uow.outbox
                outbox.update(outbox.get(ids[1]).processed(_LATER))
                outbox.update(outbox.get(ids[4]).failed(_LATER, "no template"))
            pending = [ids[n] for n in (0, 2, 3, 5)]
            with store.unit_of_work(readonly=True) as uow:
                outbox = uow.outbox
                assert [e.id for e in outbox.find(status="pending", order_by="created_at")] == (
                    pending
                )
                assert [e.id for e in outbox.find(status="processed")] == [ids[1]]
                assert [e.id for e in outbox.find(status="failed")] == [ids[4]]
                assert [e.id for e in outbox.find(status__ne="pending")] == [ids[1], ids[4]]
                counts = [outbox.count(status=s) for s in ("pending", "processed", "failed")]
                assert counts == [4, 1, 1]
                assert [e.id for e in outbox.find(order_by="-created_at", limit=2)] == [
                    ids[5],
                    ids[4],
                ]
            with store.unit_of_work() as uow:
                claimed = uow.outbox.claim_candidates(status="pending", order_by="created_at")
            assert [e.id for e in claimed] == pending

    def test_claiming_in_batches_takes_each_entry_once_in_order(self) -> None:
        with self.store() as store:
            ids = _emit(store, 7)
            claimed: list[str] = []
            for _round in range(len(ids)):
                with store.unit_of_work() as uow:
                    batch = _claim(uow, 3)
                if not batch:
                    break
                claimed.extend(entry.id for entry in batch)
            else:
                _fail(f"claiming never ran out of pending entries: {claimed}")
            assert claimed == ids
            with store.unit_of_work(readonly=True) as uow:
                assert uow.outbox.count(status="pending") == 0
                assert uow.outbox.count(status="processed") == len(ids)

    def test_concurrent_claimers_process_each_entry_once(self) -> None:
        threads = self._threads()
        with self.store() as store:
            ids = _emit(store, 20)
            processed: list[str] = []
            lock = threading.Lock()

            def work(_number: int) -> None:
                for _round in range(len(ids) + 1):
                    batch = self._retry(store, lambda uow: _claim(uow, 2), "a claim")
                    if not batch:
                        return
                    with lock:
                        processed.extend(entry.id for entry in batch)
                _fail("a claimer never ran out of pending entries")

            self._run_threads(work, threads)
            assert sorted(processed) == ids, "an outbox entry was processed twice or never"
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(OUTBOX).count(status="processed") == len(ids)
