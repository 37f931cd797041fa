"""Contract tests: rollback, isolation between units of work, snapshots and own writes.

Every isolation rule is checked through every accessor (``get``, ``exists``, ``find``
with and without filters, ``count`` with and without filters): a backend whose ``count``
reads dirty data, or whose ``find`` misses its own writes, fails here.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from csdomain.errors import CsDomainError
from csdomain.store import Repository, Store
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import (
    SPECIMENS,
    T0,
    Specimen,
    SpecimenRecorded,
    specimen,
)


__all__ = ["TransactionChecks"]


class _Abort(CsDomainError):
    """Raised inside a unit of work to force a rollback."""


def _view(repo: Repository[Specimen]) -> dict[str, Any]:
    """What every accessor of ``repo`` shows of the documents the isolation tests write."""
    return {
        "get s1": repo.get("s000001").label,
        "get s2": repo.get_or_none("s000002"),
        "get s3": repo.get_or_none("s000003") is not None,
        "exists s2": repo.exists("s000002"),
        "exists s3": repo.exists("s000003"),
        "find": [s.id for s in repo.find()],
        "find by new label": [s.id for s in repo.find(label="changed")],
        "find by old label": [s.id for s in repo.find(label="label-1")],
        "find ordered": [s.id for s in repo.find(order_by="-label")],
        "count": repo.count(),
        "count by new label": repo.count(label="changed"),
        "count by deleted label": repo.count(label="label-3"),
    }


#: What ``_view`` shows before the writes of ``_write_everything``.
_BEFORE: dict[str, Any] = {
    "get s1": "label-1",
    "get s2": None,
    "get s3": True,
    "exists s2": False,
    "exists s3": True,
    "find": ["s000001", "s000003"],
    "find by new label": [],
    "find by old label": ["s000001"],
    "find ordered": ["s000003", "s000001"],
    "count": 2,
    "count by new label": 0,
    "count by deleted label": 1,
}

#: What ``_view`` shows after them.
_AFTER: dict[str, Any] = {
    "get s1": "changed",
    "get s2": specimen(2, label="new"),
    "get s3": False,
    "exists s2": True,
    "exists s3": False,
    "find": ["s000001", "s000002"],
    "find by new label": ["s000001"],
    "find by old label": [],
    "find ordered": ["s000002", "s000001"],
    "count": 2,
    "count by new label": 1,
    "count by deleted label": 0,
}


def _write_everything(repo: Repository[Specimen]) -> None:
    """An insert, an update that moves an index value and a delete."""
    repo.add(specimen(2, label="new"))
    repo.update(attrs.evolve(repo.get("s000001"), label="changed"))
    repo.delete("s000003")


class TransactionChecks(KitBase):
    """Rollback discards everything; others never see uncommitted writes; a unit of work
    reads one snapshot and sees its own writes, through every accessor."""

    def _seed(self, store: Store) -> None:
        self._add(store, specimen(1), specimen(3))

    def test_rollback_on_exception_discards_every_write(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work() as uow:
                before = uow.next_counter("kit")
            with pytest.raises(RuntimeError), store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                repo.add(specimen(2))
                repo.update(attrs.evolve(repo.get("s000001"), label="lost"))
                repo.delete("s000001")
                uow.emit(SpecimenRecorded("s000002", T0))
                uow.next_counter("kit")
                raise RuntimeError
            assert self._ids(store) == ["s000001"]
            with store.unit_of_work() as uow:
                assert uow.repo(SPECIMENS).get("s000001").label == "label-1"
                assert uow.outbox.count() == 0
                assert uow.next_counter("kit") == before + 1

    def test_uncommitted_writes_are_invisible_to_other_units_of_work(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work() as writer:
                writer.repo(SPECIMENS).add(specimen(2))
                writer.repo(SPECIMENS).update(
                    attrs.evolve(writer.repo(SPECIMENS).get("s000001"), label="draft")
                )
                with store.unit_of_work(readonly=True) as reader:
                    assert [s.id for s in reader.repo(SPECIMENS).find()] == ["s000001"]
                    assert reader.repo(SPECIMENS).get("s000001").label == "label-1"
            assert self._ids(store) == ["s000001", "s000002"]

    def test_uncommitted_writes_are_invisible_through_every_accessor(self) -> None:
        with self.store() as store:
            self._seed(store)
            with store.unit_of_work() as writer:
                _write_everything(writer.repo(SPECIMENS))
                with store.unit_of_work(readonly=True) as reader:
                    assert _view(reader.repo(SPECIMENS)) == _BEFORE
            with store.unit_of_work(readonly=True) as uow:
                assert _view(uow.repo(SPECIMENS)) == _AFTER

    def test_a_reader_keeps_its_snapshot(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work(readonly=True) as reader:
                assert reader.repo(SPECIMENS).count() == 1
                self._add(store, specimen(2))
                assert reader.repo(SPECIMENS).count() == 1
            assert len(self._ids(store)) == 2

    def test_a_reader_keeps_its_snapshot_through_every_accessor(self) -> None:
        with self.store() as store:
            self._seed(store)
            with store.unit_of_work(readonly=True) as reader:
                repo = reader.repo(SPECIMENS)
                assert _view(repo) == _BEFORE
                with store.unit_of_work() as writer:
                    _write_everything(writer.repo(SPECIMENS))
                assert _view(repo) == _BEFORE
            with store.unit_of_work(readonly=True) as uow:
                assert _view(uow.repo(SPECIMENS)) == _AFTER

    def test_a_unit_of_work_sees_its_own_writes_through_every_accessor(self) -> None:
        with self.store() as store:
            self._seed(store)
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                assert _view(repo) == _BEFORE
                _write_everything(repo)
                assert _view(repo) == _AFTER
                assert repo.get_with_version("s000001")[1] == 2
                assert [s.id for s in repo.find(label="changed", order_by="-key")] == ["s000001"]
                assert [s.id for s in repo.scan(key__ge="s000002")] == ["s000002"]
            with pytest.raises(_Abort), store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                repo.delete("s000002")
                assert (repo.count(), repo.exists("s000002")) == (1, False)
                raise _Abort
            with store.unit_of_work(readonly=True) as uow:
                assert _view(uow.repo(SPECIMENS)) == _AFTER
