"""Contract tests of the SPI's optional capabilities: removing a counter, purging erased data.

A backend without a capability skips its tests with the reason (the store then does
without it: a migration folds counters but cannot remove them, an erasure leaves old bytes
until the database reuses the space). A backend that has it must honour the contract.
"""

from __future__ import annotations

import pytest

from csdomain.store import UnitOfWork
from csdomain.store.spi import CounterDeletingTransaction, PurgingBackend
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import SPECIMENS, specimen


__all__ = ["OptionalChecks"]


def _deleter(uow: UnitOfWork) -> CounterDeletingTransaction:
    if not isinstance(uow.tx, CounterDeletingTransaction):
        pytest.skip("the backend's transactions have no delete_counter (optional)")
    return uow.tx


class OptionalChecks(KitBase):
    """``delete_counter`` and ``purge_erased``, when the backend has them."""

    def test_a_deleted_counter_is_gone_and_starts_again_at_one(self) -> None:
        with self.store() as store:
            with store.unit_of_work() as uow:
                assert [uow.next_counter("kit:old") for _ in range(3)] == [1, 2, 3]
                uow.next_counter("kit:kept")
            with store.unit_of_work() as uow:
                _deleter(uow).delete_counter("kit:old")
                _deleter(uow).delete_counter("kit:never-there")  # absent: nothing happens
            with store.unit_of_work(readonly=True) as uow:
                assert dict(uow.tx.list_counters()) == {"kit:kept": 1}
            with store.unit_of_work() as uow:
                assert uow.next_counter("kit:old") == 1

    def test_a_counter_deletion_rolled_back_keeps_the_counter(self) -> None:
        with self.store() as store:
            with store.unit_of_work() as uow:
                uow.next_counter("kit:old")
                uow.next_counter("kit:old")
            with pytest.raises(RuntimeError), store.unit_of_work() as uow:
                _deleter(uow).delete_counter("kit:old")
                raise RuntimeError("roll back")
            with store.unit_of_work() as uow:
                assert uow.next_counter("kit:old") == 3

    def test_purging_erased_content_keeps_every_stored_document(self) -> None:
        with self.store() as store:
            if not isinstance(store.backend, PurgingBackend):
                pytest.skip("the backend has no purge_erased (optional)")
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add_many(specimen(n, note=f"secret {n}") for n in range(6))
                uow.next_counter("kit:purge")
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                repo.get("s000001")
                repo.update(specimen(1, note="erased"))
                repo.delete("s000002")
            assert store.purge_erased([SPECIMENS.name]) is True
            assert store.purge_erased([SPECIMENS.name]) is True  # again: still fine
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert repo.count() == 5
                assert repo.get("s000001") == specimen(1, note="erased")
                assert repo.get("s000003") == specimen(3, note="secret 3")
                assert dict(uow.tx.list_counters()) == {"kit:purge": 1}
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(9))
                assert uow.next_counter("kit:purge") == 2
