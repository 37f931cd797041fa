"""Contract tests: what a store keeps when reopened, and kinds whose indexes change.

The reopening tests need :meth:`~KitBase.reopen_store`; a backend that keeps nothing once
closed says ``persistent = False`` and they are skipped, any other backend without it
fails them (a persistent backend must never pass by skipping its persistence tests).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from csdomain.errors import NotFound
from csdomain.store import OUTBOX, Index, Kind, Store
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import (
    GADGETS,
    HOSTILE_STRINGS,
    ODD_KEYS,
    SPECIMENS,
    T0,
    Gadget,
    Specimen,
    SpecimenRecorded,
    specimen,
)


__all__ = ["PersistenceChecks"]

#: The kit's specimens with one more index, filled from the documents already stored.
_EXTENDED: Kind[Specimen] = Kind(
    "kit_specimen",
    Specimen,
    indexes=[*SPECIMENS.indexes, Index("note_length", "integer", lambda s: len(s.note))],
    composite=SPECIMENS.composite,
)
#: The kit's specimens with ``rank`` indexed as text instead of an integer.
_RETYPED: Kind[Specimen] = Kind(
    "kit_specimen",
    Specimen,
    indexes=[
        *(index for index in SPECIMENS.indexes if index.name != "rank"),
        Index("rank", "text", lambda s: f"r{s.rank}"),
    ],
    composite=SPECIMENS.composite,
)
#: The kit's specimens without the ``label`` and ``cents`` indexes.
_SHRUNK: Kind[Specimen] = Kind(
    "kit_specimen",
    Specimen,
    indexes=[index for index in SPECIMENS.indexes if index.name not in ("label", "cents")],
    composite=SPECIMENS.composite,
)


def _fill(store: Store) -> dict[str, tuple[Specimen, int]]:
    """Every kind of write a store must keep; what should be stored afterwards."""
    items = [specimen(n, label=text[:200], note=text) for n, text in enumerate(HOSTILE_STRINGS)]
    items += [attrs.evolve(specimen(100 + n), id=key) for n, key in enumerate(ODD_KEYS)]
    with store.unit_of_work() as uow:
        uow.repo(SPECIMENS).add_many(items)
        uow.repo(GADGETS).add(Gadget("s000001", "a gadget", 7))
        uow.emit(SpecimenRecorded("s000001", T0), at=T0)
        for name, times in (("kit", 2), ("客", 1), ("a\x00", 3)):
            for _ in range(times):
                uow.next_counter(name)
    expected = {item.id: (item, 1) for item in items}
    with store.unit_of_work() as uow:
        repo = uow.repo(SPECIMENS)
        first = repo.get("s000001")
        repo.update(attrs.evolve(first, label="changed 客户 ü", note="once"))
        changed = attrs.evolve(first, label="changed 客户 ü", note="twice 😀\x00", rank=77)
        repo.update(changed)
        moved = attrs.evolve(repo.get("s000002"), group=None, score=-1.5)
        repo.update(moved)
        repo.delete("s000003")
        repo.delete("客")
        outbox = uow.repo(OUTBOX)
        entry = outbox.find()[0]
        outbox.update(entry.processed(T0))
    expected.update({"s000001": (changed, 3), "s000002": (moved, 2)})
    del expected["s000003"], expected["客"]
    return expected


class PersistenceChecks(KitBase):
    """Reopened stores keep every write, byte for byte; changed indexes are refilled."""

    def test_data_survives_reopening(self) -> None:
        store = self.make_store()
        self._add(store, specimen(1), specimen(2))
        with store.unit_of_work() as uow:
            uow.next_counter("kit")
        reopened = self._reopen(store)
        try:
            assert self._ids(reopened) == ["s000001", "s000002"]
            with reopened.unit_of_work() as uow:
                assert uow.next_counter("kit") == 2
        finally:
            reopened.close()

    def test_updates_deletes_and_every_text_survive_reopening(self) -> None:
        store = self.make_store()
        try:
            self._check_empty(store)
            expected = _fill(store)
        except BaseException:
            store.close()
            raise
        reopened = self._reopen(store)
        try:
            with reopened.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                stored = {s.id: s for s in repo.scan()}
                assert sorted(stored) == sorted(expected)
                for key, (item, version) in expected.items():
                    assert stored[key] == item, f"{key!r} changed on reopening"
                    assert repo.get_with_version(key) == (item, version), key
                for gone in ("s000003", "客"):
                    assert not repo.exists(gone)
                    with pytest.raises(NotFound):
                        repo.get(gone)
                assert [s.id for s in repo.find(label="changed 客户 ü")] == ["s000001"]
                assert repo.count(label=HOSTILE_STRINGS[1]) == 0
                assert [s.id for s in repo.find(group=None)] == ["s000002"]
                assert [s.id for s in repo.find(rank=77)] == ["s000001"]
                assert uow.repo(GADGETS).get("s000001") == Gadget("s000001", "a gadget", 7)
                assert uow.repo(OUTBOX).count(status="processed") == 1
                assert uow.repo(OUTBOX).count(status="pending") == 0
                counters = list(uow.tx.list_counters())
            assert counters == [("a\x00", 3), ("kit", 2), ("客", 1)]
            with reopened.unit_of_work() as uow:
                assert uow.next_counter("客") == 2
        finally:
            reopened.close()

    def test_a_new_index_is_filled_for_existing_documents(self) -> None:
        store = self.make_store()
        self._add(store, *(specimen(n) for n in range(12)))
        reopened = self._reopen(store)
        extended = Kind(
            "kit_specimen",
            Specimen,
            indexes=[*SPECIMENS.indexes, Index("note_length", "integer", lambda s: len(s.note))],
        )
        try:
            with reopened.unit_of_work() as uow:
                uow.repo(extended).add(specimen(99, note="abc"))
            with reopened.unit_of_work(readonly=True) as uow:
                assert [s.id for s in uow.repo(extended).find(note_length=3)] == ["s000099"]
                assert uow.repo(extended).count(note_length=0) == 12
        finally:
            reopened.close()

    def test_a_changed_kind_is_reindexed_in_a_running_store(self) -> None:
        with self.store() as store:
            self._add(store, *(specimen(n, note="x" * (n % 3)) for n in range(9)))
            with store.unit_of_work() as uow:
                repo = uow.repo(_RETYPED)
                assert [s.id for s in repo.find(rank="r3")] == ["s000003"]
                assert repo.count(rank__in=["r1", "r2"]) == 2
                repo.add(specimen(13))
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(_EXTENDED).count(note_length=2) == 3
                assert [s.id for s in uow.repo(_EXTENDED).find(note_length=1, rank__ge=5)] == [
                    "s000007"
                ]
            with store.unit_of_work() as uow:
                assert [s.id for s in uow.repo(_SHRUNK).find(rank=3)] == ["s000003", "s000013"]
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert [s.id for s in repo.find(rank=3)] == ["s000003", "s000013"]
                found: list[Any] = [s.id for s in repo.find(label="label-6", cents__lt=2000)]
                assert found == ["s000006", "s000013"]
