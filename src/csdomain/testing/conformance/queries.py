"""Contract tests: find and count by index fields, NULL semantics, order, paging, precision."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import attrs
import pytest

from csdomain.errors import ValidationError
from csdomain.store import IndexValue
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import SPECIMENS, T0, Specimen, specimen


__all__ = ["QueryChecks", "expected_order"]


def _sort_value(value: IndexValue) -> tuple[bool, Any]:
    """``None`` before every value."""
    return (value is not None, value if value is not None else 0)


def expected_order(items: Sequence[Specimen], order_by: Sequence[str]) -> list[str]:
    """The ids of ``items`` in the contract's order: each field in turn (``-`` descends,
    ``None`` first ascending and last descending), ties by key ascending."""
    rows = sorted(items, key=lambda s: s.id)
    for item in reversed(order_by):
        field = item.lstrip("-")
        rows.sort(
            key=lambda s: _sort_value(SPECIMENS.index_values(s)[field]),
            reverse=item.startswith("-"),
        )
    return [s.id for s in rows]


def _mixed(count: int) -> list[Specimen]:
    """Specimens with ties in every index and ``None`` in some groups."""
    return [specimen(n, group=None if n % 4 == 0 else f"g{n % 3}") for n in range(1, count + 1)]


class QueryChecks(KitBase):
    """``find`` and ``count``: every operator, NULLs, order with ties, paging, number range."""

    def test_find_by_each_index(self) -> None:
        with self.store() as store:
            items = [specimen(n, group=None if n % 5 == 0 else f"g{n % 2}") for n in range(1, 31)]
            self._add(store, *items)

            def expect(predicate: Callable[[Specimen], bool]) -> list[str]:
                return sorted(s.id for s in items if predicate(s))

            ids = self._ids_and_count
            assert ids(store, label="label-3") == expect(lambda s: s.label == "label-3")
            assert ids(store, group="g1") == expect(lambda s: s.group == "g1")
            assert ids(store, group=None) == expect(lambda s: s.group is None)
            assert ids(store, group__ne="g1") == expect(lambda s: s.group != "g1")
            assert ids(store, rank=4) == expect(lambda s: s.rank == 4)
            assert ids(store, rank__in=[1, 2]) == expect(lambda s: s.rank in (1, 2))
            assert ids(store, group__in=["g0", None]) == expect(lambda s: s.group in ("g0", None))
            assert ids(store, score__gt=5.0) == expect(lambda s: s.score > 5.0)
            assert ids(store, score__le=2.5) == expect(lambda s: s.score <= 2.5)
            cutoff = T0 + timedelta(minutes=10)
            assert ids(store, at__lt=cutoff) == expect(lambda s: s.at < cutoff)
            assert ids(store, at__ge=cutoff) == expect(lambda s: s.at >= cutoff)
            assert ids(store, cents__ge=2000) == expect(lambda s: s.amount.amount >= 20)
            assert ids(store, group="g0", rank__in=[2, 4]) == expect(
                lambda s: s.group == "g0" and s.rank in (2, 4)
            )
            assert ids(store, key__gt="s000025") == expect(lambda s: s.id > "s000025")
            assert ids(store, rank__in=[]) == []

    def test_none_matches_eq_none_ne_and_in_but_never_a_comparison(self) -> None:
        with self.store() as store:
            items = _mixed(12)
            self._add(store, *items)
            nulls = [s.id for s in items if s.group is None]
            ids = self._ids_and_count
            assert ids(store, group=None) == nulls
            assert ids(store, group__ne=None) == [s.id for s in items if s.group is not None]
            assert ids(store, group__ne="g1") == [s.id for s in items if s.group != "g1"]
            assert ids(store, group__in=[None]) == nulls
            assert ids(store, group__in=["g2", None]) == sorted(
                s.id for s in items if s.group in ("g2", None)
            )
            for op in ("lt", "le", "gt", "ge"):
                found = ids(store, **{f"group__{op}": "g1"})
                assert not set(found) & set(nulls), f"group__{op} matched NULL"

    def test_find_orders_and_pages(self) -> None:
        with self.store() as store:
            items = [specimen(n) for n in range(1, 21)]
            self._add(store, *items)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                by_rank = [s.id for s in repo.find(order_by=["-rank"])]
                expected = [s.id for s in sorted(items, key=lambda s: (-s.rank, s.id))]
                assert by_rank == expected
                page = [s.id for s in repo.find(order_by="score", limit=5, offset=5)]
                assert page == [s.id for s in items[5:10]]
                assert [s.id for s in repo.find(offset=18)] == ["s000019", "s000020"]
                assert list(repo.find(limit=0)) == []
                streamed = [s.id for s in repo.scan(group="g")]
                assert streamed == [s.id for s in items]

    def test_ties_are_ordered_by_key_whatever_the_insertion_order(self) -> None:
        with self.store() as store:
            items = _mixed(40)
            shuffled = sorted(items, key=lambda s: (s.id[-1], s.id), reverse=True)
            self._add(store, *shuffled[:15])
            self._add(store, *shuffled[15:])
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                for order in (
                    ["rank"],
                    ["-rank"],
                    ["label"],
                    ["-label"],
                    ["group"],
                    ["group", "-rank"],
                    ["-cents"],
                ):
                    found = [s.id for s in repo.find(order_by=order)]
                    assert found == expected_order(items, order), f"order_by={order}"
                expected = expected_order(items, ["rank"])
                page = [s.id for s in repo.find(order_by="rank", limit=7, offset=3)]
                assert page == expected[3:10]

    def test_none_sorts_first_ascending_and_last_descending(self) -> None:
        with self.store() as store:
            items = _mixed(12)
            self._add(store, *reversed(items))
            nulls = [s.id for s in items if s.group is None]
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                ascending = [s.id for s in repo.find(order_by="group")]
                descending = [s.id for s in repo.find(order_by="-group")]
                first = [s.id for s in repo.find(order_by="group", limit=len(nulls))]
            assert ascending[: len(nulls)] == nulls
            assert descending[-len(nulls) :] == nulls
            assert first == nulls
            assert ascending == expected_order(items, ["group"])
            assert descending == expected_order(items, ["-group"])

    def test_real_index_values_keep_double_precision(self) -> None:
        scores = [1.0, 1.0 + 2**-30, 16_777_217.0, 0.1, 0.30000000000000004, 1e300, -1e300]
        scores += [5e-324, -0.5]
        items = [attrs.evolve(specimen(n), score=score) for n, score in enumerate(scores)]
        with self.store() as store:
            self._add(store, *items)
            ids = self._ids_and_count
            for item in items:
                assert ids(store, score=item.score) == [item.id], f"score={item.score!r}"
            assert ids(store, score__gt=1.0, score__lt=2.0) == ["s000001"]
            assert ids(store, score__gt=0.0, score__lt=1e-300) == ["s000007"]
            assert ids(store, order_by="score") == [
                s.id for s in sorted(items, key=lambda s: s.score)
            ]
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(SPECIMENS).get("s000001") == items[1]

    def test_integer_index_values_keep_64_bits(self) -> None:
        ranks = [2**31 - 1, 2**31, -(2**31) - 1, 2**32 + 5, 5, 2**53 + 1, 2**62, -(2**63)]
        ranks += [2**63 - 1]
        items = [attrs.evolve(specimen(n), rank=rank) for n, rank in enumerate(ranks)]
        with self.store() as store:
            self._add(store, *items)
            ids = self._ids_and_count
            for item in items:
                assert ids(store, rank=item.rank) == [item.id], f"rank={item.rank}"
            assert ids(store, rank__gt=2**31 - 1) == sorted(
                s.id for s in items if s.rank > 2**31 - 1
            )
            assert ids(store, rank__in=[2**32 + 5, 2**53 + 1]) == ["s000003", "s000005"]
            assert ids(store, order_by="-rank") == [
                s.id for s in sorted(items, key=lambda s: -s.rank)
            ]

    def test_count_matches_find(self) -> None:
        with self.store() as store:
            self._add(store, *(specimen(n) for n in range(50)))
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert repo.count() == 50
                assert repo.count(rank=3) == len(repo.find(rank=3)) == 5

    def test_unknown_index_field_is_a_validation_error(self) -> None:
        with self.store() as store, store.unit_of_work(readonly=True) as uow:
            with pytest.raises(ValidationError):
                uow.repo(SPECIMENS).find(note="x")
            with pytest.raises(ValidationError):
                uow.repo(SPECIMENS).find(rank="three")
            with pytest.raises(ValidationError):
                uow.repo(SPECIMENS).find(rank__like=3)
