"""The backend conformance kit: the whole storage contract as one base class.

A backend author subclasses :class:`BackendConformance` and implements one factory
method; pytest then runs every contract test against the backend::

    from csdomain.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        def make_store(self):
            return csdomain.open_store("mybackend://...")

The base class has no ``Test`` prefix, so pytest never collects it on its own. It uses a
factory method rather than a function-scoped fixture because hypothesis refuses those
inside ``@given``. Knobs: override :meth:`reopen_store` to also run the persistence and
migration tests; set ``concurrent_threads`` to 0 for a backend that cannot be shared
between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import orjson
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from csdomain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    CsDomainError,
    NotFound,
    RuleViolation,
    ValidationError,
)
from csdomain.events import Event
from csdomain.money import Money
from csdomain.store import OUTBOX, Index, Kind, KindRegistry, Store
from csdomain.store.transfer import export_lines, import_store


__all__ = ["HOSTILE_STRINGS", "SPECIMENS", "BackendConformance", "Specimen", "SpecimenRecorded"]

_T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen
class Specimen:
    """The document type the kit stores: every kind of field a model can have."""

    id: str
    label: str
    group: str | None
    rank: int
    score: float
    at: datetime
    amount: Money
    tags: frozenset[str] = frozenset()
    note: str = ""


@attrs.frozen
class SpecimenRecorded(Event):
    """The event the kit writes to the outbox."""

    specimen_id: str
    at: datetime


SPECIMENS: Kind[Specimen] = Kind(
    "kit_specimen",
    Specimen,
    indexes=[
        "label",
        "group",
        Index("rank", "integer"),
        Index("score", "real"),
        "at",
        Index("cents", "integer", lambda s: int(s.amount.amount * 100)),
    ],
    composite=(("group", "rank"),),
)

#: Strings every backend must store verbatim (or refuse with ValidationError, never mangle).
HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    "'; DROP TABLE k_kit_specimen; --",
    'Robert"); DELETE FROM csdomain_counters; --',
    "nul\x00inside",
    "\u202eRTL override\u202c and \u200f marks",
    "客户投诉 😀👍🏽 emoji and 中文",
    "percent % underscore _ backslash \\ quote ' dquote \"",
    "line\nbreak\r\ntab\t",
    "\ufeffBOM and \u2028 separators",
    "x" * 1_000_000,
)

_LONE_SURROGATE = "broken \ud800 surrogate"
_NOT_UNICODE = "text that is not valid Unicode (surrogates not allowed)"

#: Keys whose code-point order differs from most collations' order.
_ODD_KEYS: tuple[str, ...] = ("B", "_", "a", "a\x00", "a\x01", "b", "Ä", "é", "客", "😀")


def specimen(
    n: int, *, label: str | None = None, group: str | None = "g", note: str = ""
) -> Specimen:
    """A deterministic specimen number ``n``."""
    return Specimen(
        id=f"s{n:06d}",
        label=label if label is not None else f"label-{n % 7}",
        group=group,
        rank=n % 10,
        score=n / 4,
        at=_T0 + timedelta(minutes=n),
        amount=Money.of(f"{n}.{n % 100:02d}", "CNY"),
        tags=frozenset({f"t{n % 3}", "all"}),
        note=note,
    )


class BackendConformance:
    """Contract tests every csdomain backend must pass; subclass and implement make_store."""

    #: How many threads the concurrency test uses (0 skips it).
    concurrent_threads: ClassVar[int] = 4
    #: How many documents the large-batch test writes.
    batch_size: ClassVar[int] = 10_000

    def make_store(self) -> Store:
        """Return a new, empty store on the backend under test."""
        raise NotImplementedError

    def reopen_store(self, store: Store) -> Store | None:
        """Close ``store`` and open the same data again (``None``: not persistent)."""
        return None

    # helpers --------------------------------------------------------------------------

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A fresh store, closed afterwards."""
        store = self.make_store()
        try:
            yield store
        finally:
            store.close()

    def _add(self, store: Store, *items: Specimen) -> None:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(items)

    def _ids(self, store: Store, **where: Any) -> list[str]:
        with store.unit_of_work(readonly=True) as uow:
            return [s.id for s in uow.repo(SPECIMENS).find(**where)]

    @contextmanager
    def transfer_store(self) -> Iterator[Store]:
        """A fresh store whose kinds are the kit's (specimens and the outbox), closed after."""
        made = self.make_store()
        kinds = KindRegistry()
        kinds.register(SPECIMENS)
        kinds.register(OUTBOX)
        try:
            yield Store(made.backend, kinds=kinds, clock=made.clock)
        finally:
            made.close()

    def _fill_for_transfer(self, store: Store) -> None:
        texts = [text for text in HOSTILE_STRINGS if len(text) < 1000]
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            repo.add_many(specimen(n, note=text) for n, text in enumerate(texts))
            repo.add_many(attrs.evolve(specimen(100 + n), id=k) for n, k in enumerate(_ODD_KEYS))
            for n in range(3):
                current = repo.get(f"s{n:06d}")
                for bump in range(n + 1):
                    repo.update(attrs.evolve(current, rank=bump))
            uow.emit(SpecimenRecorded("s000001", _T0), at=_T0)
            for name, value in (("kit", 3), ("series:KIT-202601-#", 12), ("客", 1), ("a\x00", 2)):
                for _ in range(value):
                    uow.next_counter(name)

    # CRUD -----------------------------------------------------------------------------

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

    # queries --------------------------------------------------------------------------

    def test_find_by_each_index(self) -> None:
        with self.store() as store:
            items = [specimen(n, group=None if n % 5 == 0 else f"g{n % 2}") for n in range(1, 31)]
            self._add(store, *items)

            def expect(predicate: Callable[[Specimen], bool]) -> list[str]:
                return sorted(s.id for s in items if predicate(s))

            assert self._ids(store, label="label-3") == expect(lambda s: s.label == "label-3")
            assert self._ids(store, group="g1") == expect(lambda s: s.group == "g1")
            assert self._ids(store, group=None) == expect(lambda s: s.group is None)
            assert self._ids(store, group__ne="g1") == expect(lambda s: s.group != "g1")
            assert self._ids(store, rank=4) == expect(lambda s: s.rank == 4)
            assert self._ids(store, rank__in=[1, 2]) == expect(lambda s: s.rank in (1, 2))
            assert self._ids(store, group__in=["g0", None]) == expect(
                lambda s: s.group in ("g0", None)
            )
            assert self._ids(store, score__gt=5.0) == expect(lambda s: s.score > 5.0)
            assert self._ids(store, score__le=2.5) == expect(lambda s: s.score <= 2.5)
            cutoff = _T0 + timedelta(minutes=10)
            assert self._ids(store, at__lt=cutoff) == expect(lambda s: s.at < cutoff)
            assert self._ids(store, at__ge=cutoff) == expect(lambda s: s.at >= cutoff)
            assert self._ids(store, cents__ge=2000) == expect(lambda s: s.amount.amount >= 20)
            assert self._ids(store, group="g0", rank__in=[2, 4]) == expect(
                lambda s: s.group == "g0" and s.rank in (2, 4)
            )
            assert self._ids(store, key__gt="s000025") == expect(lambda s: s.id > "s000025")
            assert self._ids(store, rank__in=[]) == []

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

    # transactions ---------------------------------------------------------------------

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
                uow.emit(SpecimenRecorded("s000002", _T0))
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

    def test_a_reader_keeps_its_snapshot(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work(readonly=True) as reader:
                assert reader.repo(SPECIMENS).count() == 1
                self._add(store, specimen(2))
                assert reader.repo(SPECIMENS).count() == 1
            assert len(self._ids(store)) == 2

    def test_concurrent_increments_lose_no_update(self) -> None:
        threads = self.concurrent_threads
        if not threads:
            pytest.skip("backend is not shared between threads")
        per_thread = 15
        with self.store() as store:
            self._add(store, specimen(0))
            errors: list[BaseException] = []

            def work() -> None:
                try:
                    for _ in range(per_thread):
                        for _attempt in range(200):
                            try:
                                with store.unit_of_work() as uow:
                                    repo = uow.repo(SPECIMENS)
                                    current = repo.get("s000000")
                                    repo.update(attrs.evolve(current, rank=current.rank + 1))
                                break
                            except ConcurrencyConflict:
                                continue
                        else:
                            errors.append(RuntimeError("too many conflicts"))
                except BaseException as err:  # reported to the main thread
                    errors.append(err)

            pool = [threading.Thread(target=work) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            assert errors == []
            with store.unit_of_work(readonly=True) as uow:
                final, version = uow.repo(SPECIMENS).get_with_version("s000000")
            assert final.rank == threads * per_thread
            assert version == 1 + threads * per_thread

    def test_counters_never_repeat_across_threads(self) -> None:
        threads = self.concurrent_threads
        if not threads:
            pytest.skip("backend is not shared between threads")
        with self.store() as store:
            issued: list[int] = []
            lock = threading.Lock()

            def work() -> None:
                for _ in range(20):
                    while True:
                        try:
                            with store.unit_of_work() as uow:
                                value = uow.next_counter("series:kit")
                            break
                        except ConcurrencyConflict:
                            continue
                    with lock:
                        issued.append(value)

            pool = [threading.Thread(target=work) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            assert sorted(issued) == list(range(1, threads * 20 + 1))

    # outbox ---------------------------------------------------------------------------

    def test_emitted_events_are_in_the_outbox_with_the_change(self) -> None:
        with self.store() as store:
            with store.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(1))
                entry = uow.emit(SpecimenRecorded("s000001", _T0), at=_T0)
            with store.unit_of_work(readonly=True) as uow:
                pending = uow.outbox.find(status="pending")
            assert [e.id for e in pending] == [entry.id]
            assert pending[0].event() == SpecimenRecorded("s000001", _T0)
            assert pending[0].type == "SpecimenRecorded"

    # scale and hostile input ------------------------------------------------------------

    def test_a_large_batch_is_stored_whole(self) -> None:
        with self.store() as store:
            count = self.batch_size
            self._add(store, *(specimen(n) for n in range(count)))
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert repo.count() == count
                assert repo.count(rank=7) == count // 10
                for n in (0, count // 2, count - 1):
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
                (specimen(1, note=_LONE_SURROGATE), "note"),
                (specimen(2, label=_LONE_SURROGATE), "label"),
                (attrs.evolve(specimen(3), id=_LONE_SURROGATE), "id"),
            ):
                with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
                assert info.value.errors == [(path, _NOT_UNICODE)]
            with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
                uow.next_counter(_LONE_SURROGATE)
            assert info.value.errors[0][0] == "name"
            with store.unit_of_work(readonly=True) as uow:
                with pytest.raises(ValidationError):
                    uow.repo(SPECIMENS).find(label=_LONE_SURROGATE)
                with pytest.raises(ValidationError):
                    uow.repo(SPECIMENS).get(_LONE_SURROGATE)
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

    # export and import (the transfer methods of the SPI) --------------------------------

    def test_export_import_export_is_byte_identical_keeping_versions_and_counters(
        self,
    ) -> None:
        with self.transfer_store() as source, self.transfer_store() as target:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
            summary = import_store(target, exported)
            assert list(export_lines(target)) == exported
            assert (summary.documents["kit_specimen"], summary.counters) == (
                len([t for t in HOSTILE_STRINGS if len(t) < 1000]) + len(_ODD_KEYS),
                4,
            )
            with target.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                assert [repo.get_with_version(f"s{n:06d}")[1] for n in range(4)] == [2, 3, 4, 1]
                assert repo.get("s000003") == specimen(3, note=HOSTILE_STRINGS[3])
                assert uow.next_counter("series:KIT-202601-#") == 13
                assert uow.next_counter("a\x00") == 3
            with pytest.raises(ConcurrencyConflict), target.unit_of_work() as uow:
                uow.repo(SPECIMENS).update(specimen(2), expected_version=3)

    def test_an_export_orders_keys_and_counters_by_code_point(self) -> None:
        with self.transfer_store() as store:
            self._fill_for_transfer(store)
            records = [orjson.loads(line) for line in export_lines(store)]
        keys = [r["key"] for r in records if r.get("kind") == "kit_specimen"]
        counters = [r["counter"] for r in records if "counter" in r]
        assert keys == sorted(keys)
        assert set(_ODD_KEYS) <= set(keys)
        assert counters == ["a\x00", "kit", "series:KIT-202601-#", "客"]

    def test_import_into_a_store_that_holds_documents_or_counters_is_refused(self) -> None:
        with self.transfer_store() as source:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
        with self.transfer_store() as target:
            with target.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(999))
            before = list(export_lines(target))
            with pytest.raises(RuleViolation) as info:
                import_store(target, exported)
            assert info.value.code == "store_not_empty"
            assert list(export_lines(target)) == before
        with self.transfer_store() as target:
            with target.unit_of_work() as uow:
                uow.next_counter("elsewhere")
            before = list(export_lines(target))
            with pytest.raises(RuleViolation) as info:
                import_store(target, exported)
            assert info.value.code == "store_not_empty"
            assert list(export_lines(target)) == before

    def test_a_bad_line_rolls_the_whole_import_back(self) -> None:
        with self.transfer_store() as source:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
        broken = orjson.loads(exported[1])
        broken["doc"]["rank"] = "not a number"
        damaged = [*exported[:-2], orjson.dumps(broken) + b"\n", *exported[-2:]]
        with self.transfer_store() as target:
            empty = list(export_lines(target))
            with pytest.raises(ValidationError) as info:
                import_store(target, damaged)
            assert info.value.errors[0][0] == f"line {len(exported) - 1}.doc.rank"
            assert list(export_lines(target)) == empty
            import_store(target, exported, batch_size=3)
            assert list(export_lines(target)) == exported

    # persistence (only when reopen_store is implemented) -------------------------------

    def test_data_survives_reopening(self) -> None:
        store = self.make_store()
        self._add(store, specimen(1), specimen(2))
        with store.unit_of_work() as uow:
            uow.next_counter("kit")
        reopened = self.reopen_store(store)
        if reopened is None:
            store.close()
            pytest.skip("backend is not persistent")
        try:
            assert self._ids(reopened) == ["s000001", "s000002"]
            with reopened.unit_of_work() as uow:
                assert uow.next_counter("kit") == 2
        finally:
            reopened.close()

    def test_a_new_index_is_filled_for_existing_documents(self) -> None:
        store = self.make_store()
        self._add(store, *(specimen(n) for n in range(12)))
        reopened = self.reopen_store(store)
        if reopened is None:
            store.close()
            pytest.skip("backend is not persistent")
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

    # agreement with a dict model --------------------------------------------------------

    def test_agrees_with_a_dict_model(self) -> None:
        run_state_machine_as_test(
            _agreement_machine(self.make_store),
            settings=settings(stateful_step_count=25),
        )


def _agreement_machine(make_store: Callable[[], Store]) -> type[RuleBasedStateMachine]:
    labels = st.sampled_from(["a", "b", "c", "客户", "x'; --"])
    groups = st.sampled_from(["g1", "g2", None])

    class StoreAgreesWithDict(RuleBasedStateMachine):
        """Random operations applied to the backend and to a dict must agree."""

        keys = Bundle("keys")

        def __init__(self) -> None:
            super().__init__()
            self.store = make_store()
            self.model: dict[str, tuple[Specimen, int]] = {}
            self.counter = 0

        def teardown(self) -> None:
            self.store.close()

        @rule(target=keys, n=st.integers(0, 10_000), label=labels, group=groups)
        def add(self, n: int, label: str, group: str | None) -> str:
            item = specimen(n, label=label, group=group)
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
            except AlreadyExists:
                assert item.id in self.model
            else:
                assert item.id not in self.model
                self.model[item.id] = (item, 1)
            return item.id

        @rule(key=keys, label=labels, stale=st.booleans())
        def update(self, key: str, label: str, stale: bool) -> None:
            if key not in self.model:
                missing = attrs.evolve(specimen(0), id=key)
                with pytest.raises(NotFound), self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).update(missing, expected_version=1)
                return
            item, version = self.model[key]
            changed = attrs.evolve(item, label=label, rank=(item.rank + 1) % 10)
            expected = version - 1 if stale else version
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).update(changed, expected_version=expected)
            except ConcurrencyConflict:
                assert stale
            else:
                assert not stale
                self.model[key] = (changed, version + 1)

        @rule(key=consumes(keys))
        def delete(self, key: str) -> None:
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).delete(key)
            except NotFound:
                assert key not in self.model
            else:
                del self.model[key]

        @rule(n=st.integers(0, 10_000), fail=st.booleans())
        def add_and_maybe_roll_back(self, n: int, fail: bool) -> None:
            item = specimen(n, label="rb")
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
                    if fail:
                        raise _Abort
            except (_Abort, AlreadyExists):
                return
            self.model[item.id] = (item, 1)

        @rule()
        def take_a_number(self) -> None:
            with self.store.unit_of_work() as uow:
                value = uow.next_counter("agreement")
            self.counter += 1
            assert value == self.counter

        @rule(label=labels, group=groups)
        def find_matches(self, label: str, group: str | None) -> None:
            with self.store.unit_of_work(readonly=True) as uow:
                found = [s.id for s in uow.repo(SPECIMENS).find(label=label, group=group)]
            expected = sorted(
                k for k, (s, _) in self.model.items() if s.label == label and s.group == group
            )
            assert found == expected

        @invariant()
        def everything_agrees(self) -> None:
            with self.store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                stored = {s.id: s for s in repo.find()}
                assert stored == {k: s for k, (s, _) in self.model.items()}
                for key, (_, version) in self.model.items():
                    assert repo.get_with_version(key)[1] == version
                assert repo.count() == len(self.model)

    return StoreAgreesWithDict


class _Abort(CsDomainError):
    """Raised inside a unit of work to force a rollback."""
