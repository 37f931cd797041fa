"""Contract tests: big batches, hostile text, values that cannot be read back, bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from csdomain.errors import ValidationError
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import (
    HOSTILE_STRINGS,
    LONE_SURROGATE,
    NOT_UNICODE,
    SPECIMENS,
    specimen,
)


__all__ = ["InputChecks"]


class InputChecks(KitBase):
    """What reaches a backend whole, what the core refuses first, and how it says so."""

    # scale and hostile input ------------------------------------------------------------

    def test_a_large_batch_is_stored_whole(self) -> None:
        with self.store() as store:
            count = self.batch_size
            with store.unit_of_work() as uow:
                added = uow.repo(SPECIMENS).add_many(
                    (specimen(n) for n in range(count)), batch_size=count
                )
            assert added == count
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert repo.count() == count
                assert repo.count(rank=7) == count // 10
                assert sum(1 for _ in repo.scan(order_by="-key")) == count
                for n in (0, 4095, 4096, count // 2, count - 1):
                    if n < count:
                        assert repo.get(f"s{n:06d}") == specimen(n)

    def test_hostile_strings_are_stored_verbatim(self) -> None:
        with self.store() as store:
            for n, text in enumerate(HOSTILE_STRINGS):
                item = specimen(n, label=text[:200], note=text)
                self._add(store, item)
                with store.unit_of_work(readonly=True) as uow:
                    repo = uow.repo(SPECIMENS)
                    assert repo.get(item.id) == item
                    assert [s.id for s in repo.find(label=text[:200])] == [item.id]
            assert len(self._ids(store)) == len(HOSTILE_STRINGS)

    def test_lone_surrogates_are_refused_naming_the_field(self) -> None:
        with self.store() as store:
            for item, path in (
                (specimen(1, note=LONE_SURROGATE), "note"),
                (specimen(2, label=LONE_SURROGATE), "label"),
                (attrs.evolve(specimen(3), id=LONE_SURROGATE), "id"),
            ):
                with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
                assert info.value.errors == [(path, NOT_UNICODE)]
            with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                uow.next_counter(LONE_SURROGATE)
            assert info.value.errors[0][0] == "name"
            with store.unit_of_work(readonly=True) as uow:
                with pytest.raises(ValidationError):
                    uow.repo(SPECIMENS).find(label=LONE_SURROGATE)
                with pytest.raises(ValidationError):
                    uow.repo(SPECIMENS).get(LONE_SURROGATE)
            assert self._ids(store) == []

    # the store keeps only what it can read back ------------------------------------------

    def test_a_document_that_cannot_be_read_back_is_refused_at_add(self) -> None:
        with self.store() as store:
            bad = specimen(1, note=1.5)  # type: ignore[arg-type]
            with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(bad)
            assert [path for path, _ in info.value.errors] == ["note"]
            with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add_many([specimen(2), bad])
            assert [path for path, _ in info.value.errors] == ["note"]
            assert self._ids(store) == []

    def test_a_document_that_cannot_be_read_back_is_refused_at_update(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                wrong: Any = frozenset({7})
                repo.update(attrs.evolve(repo.get("s000001"), tags=wrong))
            assert [path for path, _ in info.value.errors] == ["tags.0"]
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(SPECIMENS).get_with_version("s000001") == (specimen(1), 1)

    def test_a_value_the_converter_cannot_write_is_refused_naming_the_field(self) -> None:
        with self.store() as store:
            not_money: Any = 1.5
            not_a_moment: Any = "yesterday"
            for item, path in (
                (attrs.evolve(specimen(1), amount=not_money), "amount"),
                (attrs.evolve(specimen(2), at=not_a_moment), "at"),
                (attrs.evolve(specimen(3), score=float("nan")), "score"),
            ):
                with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
                assert [p for p, _ in info.value.errors] == [path], item
            assert self._ids(store) == []

    def test_an_integer_beyond_64_bits_is_refused_naming_the_field(self) -> None:
        with self.store() as store:
            for rank in (2**64, -(2**63) - 1, 2**63):
                with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(attrs.evolve(specimen(1), rank=rank))
                assert [path for path, _ in info.value.errors] == ["rank"]
            self._add(
                store,
                attrs.evolve(specimen(2), rank=2**63 - 1),
                attrs.evolve(specimen(3), rank=-(2**63)),
            )
            assert self._ids(store, rank__ge=2**63 - 1) == ["s000002"]
            with store.unit_of_work(readonly=True) as uow:
                with pytest.raises(ValidationError) as info:
                    uow.repo(SPECIMENS).find(rank__lt=2**70)
            assert info.value.errors[0][0] == "rank__lt"

    # arguments -------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("arguments", "path"),
        [
            ({"limit": 1.5}, "limit"),
            ({"limit": -1}, "limit"),
            ({"limit": True}, "limit"),
            ({"limit": "1"}, "limit"),
            ({"limit": 2**64}, "limit"),
            ({"offset": "1"}, "offset"),
            ({"offset": -1}, "offset"),
            ({"offset": 1.5}, "offset"),
            ({"offset": None}, "offset"),
            ({"order_by": 123}, "order_by"),
            ({"order_by": ["rank", 4]}, "order_by"),
            ({"order_by": "nope"}, "order_by"),
            ({"rank": "three"}, "rank"),
            ({"score__gt": float("nan")}, "score__gt"),
            ({"x" * 100_000: 1}, "x" * 77 + "..."),
        ],
    )
    def test_bad_query_arguments_are_validation_errors_naming_the_argument(
        self, arguments: dict[str, Any], path: str
    ) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                calls: list[Callable[[], object]] = [
                    lambda: repo.find(**arguments),
                    lambda: repo.scan(**arguments),
                ]
                if "offset" not in arguments:
                    calls.append(lambda: repo.claim_candidates(**arguments))
                if not {"limit", "offset", "order_by"} & set(arguments):
                    calls.append(lambda: repo.count(**arguments))
                for call in calls:
                    with pytest.raises(ValidationError) as info:
                        call()
                    assert info.value.errors[0][0] == path
                    assert len(str(info.value)) < 400

    def test_bad_keys_and_versions_are_validation_errors_naming_the_argument(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                for call, path in (
                    (lambda: repo.get(123), "key"),  # type: ignore[arg-type]
                    (lambda: repo.exists(None), "key"),  # type: ignore[arg-type]
                    (lambda: repo.delete(b"s000001"), "key"),  # type: ignore[arg-type]
                    (lambda: repo.delete("s000001", expected_version="1"), "expected_version"),  # type: ignore[arg-type]
                    (lambda: repo.update(specimen(1), expected_version=1.0), "expected_version"),  # type: ignore[arg-type]
                    (lambda: repo.add_many([specimen(2)], batch_size=0), "batch_size"),
                ):
                    with pytest.raises(ValidationError) as info:
                        call()
                    assert info.value.errors[0][0] == path
            assert self._ids(store) == ["s000001"]
