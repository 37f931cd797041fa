"""Contract tests: documents by key (add, get, update, delete) and kinds kept apart."""

from __future__ import annotations

import attrs
import pytest

from csdomain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    CsDomainError,
    NotFound,
    ValidationError,
)
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import GADGETS, SPECIMENS, Gadget, specimen


__all__ = ["CrudChecks"]


class CrudChecks(KitBase):
    """Add, get, update and delete by key; versions; kinds with separate key spaces."""

    def test_add_then_get_returns_an_equal_object(self) -> None:
        with self.store() as store:
            original = specimen(1, note="first")
            self._add(store, original)
            with store.unit_of_work(readonly=True) as uow:
                loaded, version = uow.repo(SPECIMENS).get_with_version(original.id)
            assert loaded == original
            assert version == 1

    def test_get_of_a_missing_key_raises_not_found(self) -> None:
        with self.store() as store, store.unit_of_work(readonly=True) as uow:
            with pytest.raises(NotFound):
                uow.repo(SPECIMENS).get("nope")
            assert uow.repo(SPECIMENS).get_or_none("nope") is None
            assert not uow.repo(SPECIMENS).exists("nope")

    def test_adding_a_taken_key_raises_already_exists_and_writes_nothing(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with pytest.raises(AlreadyExists), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(2))
                uow.repo(SPECIMENS).add(specimen(1, note="again"))
            assert self._ids(store) == ["s000001"]

    def test_add_many_with_a_duplicate_in_the_batch_writes_nothing(self) -> None:
        with self.store() as store:
            with pytest.raises(AlreadyExists), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add_many([specimen(1), specimen(2), specimen(1)])
            assert self._ids(store) == []

    def test_update_bumps_the_version_and_stores_the_new_state(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                current = repo.get("s000001")
                assert repo.update(attrs.evolve(current, label="changed")) == 2
                assert repo.update(attrs.evolve(current, label="twice")) == 3
            with store.unit_of_work(readonly=True) as uow:
                loaded, version = uow.repo(SPECIMENS).get_with_version("s000001")
            assert (loaded.label, version) == ("twice", 3)
            assert self._ids(store, label="twice") == ["s000001"]
            assert self._ids(store, label="label-1") == []

    def test_update_of_a_stale_version_raises_conflict_and_writes_nothing(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work(readonly=True) as uow:
                stale, stale_version = uow.repo(SPECIMENS).get_with_version("s000001")
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                repo.update(attrs.evolve(repo.get("s000001"), label="winner"))
            with pytest.raises(ConcurrencyConflict) as info, store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(2))
                uow.repo(SPECIMENS).update(
                    attrs.evolve(stale, label="loser"), expected_version=stale_version
                )
            assert (info.value.expected, info.value.actual) == (1, 2)
            assert self._ids(store) == ["s000001"]
            assert self._ids(store, label="winner") == ["s000001"]

    def test_update_of_a_missing_key_raises_not_found(self) -> None:
        with self.store() as store:
            with pytest.raises(NotFound), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).update(specimen(9), expected_version=1)

    def test_update_needs_a_known_version(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with pytest.raises(ValidationError), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).update(specimen(1, note="blind"))

    def test_delete_removes_the_object(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1), specimen(2))
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).delete("s000001")
            assert self._ids(store) == ["s000002"]
            with pytest.raises(ConcurrencyConflict), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).delete("s000002", expected_version=7)
            assert self._ids(store) == ["s000002"]

    def test_a_deleted_document_is_gone_for_get_exists_find_and_count(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1), specimen(2))
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                repo.update(attrs.evolve(repo.get("s000001"), label="doomed"))
                repo.delete("s000001")
                assert repo.get_or_none("s000001") is None
                assert not repo.exists("s000001")
                assert (repo.count(), repo.count(label="doomed")) == (1, 0)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                with pytest.raises(NotFound):
                    repo.get("s000001")
                assert not repo.exists("s000001")
                assert [s.id for s in repo.find(key__in=["s000001", "s000002"])] == ["s000002"]
                assert repo.count(label="doomed") == repo.count(label="label-1") == 0
            with pytest.raises(NotFound), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).delete("s000001", expected_version=2)
            self._add(store, specimen(1, note="born again"))
            with store.unit_of_work(readonly=True) as uow:
                again = uow.repo(SPECIMENS).get_with_version("s000001")
            assert again == (specimen(1, note="born again"), 1)

    def test_kinds_keep_separate_key_spaces(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1, label="shared"), specimen(2, label="shared"))
            with store.unit_of_work() as uow:
                gadgets = uow.repo(GADGETS)
                gadgets.add(Gadget("s000001", "shared", 1))
                gadgets.add(Gadget("s000003", "shared", 1))
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).delete("s000002")
                gadgets = uow.repo(GADGETS)
                gadgets.update(attrs.evolve(gadgets.get("s000003"), label="moved"))
            with pytest.raises(AlreadyExists), store.unit_of_work() as uow:
                uow.repo(GADGETS).add(Gadget("s000001", "again", 2))
            with store.unit_of_work(readonly=True) as uow:
                specimens, gadgets = uow.repo(SPECIMENS), uow.repo(GADGETS)
                assert specimens.get("s000001") == specimen(1, label="shared")
                assert gadgets.get_with_version("s000001") == (Gadget("s000001", "shared", 1), 1)
                assert specimens.get_or_none("s000003") is None
                assert gadgets.get_or_none("s000002") is None
                assert [s.id for s in specimens.find(label="shared")] == ["s000001"]
                assert [g.id for g in gadgets.find(label="shared")] == ["s000001"]
                assert [g.id for g in gadgets.find(rank=1)] == ["s000001", "s000003"]
                assert (specimens.count(), gadgets.count(), gadgets.count(label="moved")) == (
                    1,
                    2,
                    1,
                )

    def test_wrong_object_type_is_a_validation_error(self) -> None:
        with self.store() as store:
            with pytest.raises(ValidationError), store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add("not a specimen")  # type: ignore[arg-type]

    def test_read_only_unit_of_work_refuses_writes(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with pytest.raises(ValidationError), store.unit_of_work(readonly=True) as uow:
                uow.repo(SPECIMENS).add(specimen(2))
            assert self._ids(store) == ["s000001"]

    def test_a_closed_store_refuses_new_units_of_work(self) -> None:
        store = self.make_store()
        self._add(store, specimen(1))
        store.close()
        with pytest.raises(CsDomainError), store.unit_of_work(readonly=True) as uow:
            uow.repo(SPECIMENS).count()
