"""Deliberately broken backends: the guide's ``jsonstore`` with one bug each.

Every :class:`Mutant` names the bug class it stands for (issue #17's list, plus the
kit's own duties), the kit tests that must fail on it, and optionally a text the failure
must show. ``run.py`` runs the whole kit on every mutant and on the unchanged backend
(the control, which must pass) and fails when a mutant is not caught.
"""

from __future__ import annotations

import itertools
import math
import shutil
import struct
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson
from guide_backend import load

from csdomain.errors import ConcurrencyConflict
from csdomain.store import Filter, KindSchema, Row, Store
from csdomain.testing import BackendConformance


__all__ = ["CONTROL", "DIRECTORY", "MUTANTS", "Mutant", "cleanup"]

G = load()
Base: Any = G.JsonStoreBackend
Tx: Any = G.JsonStoreTransaction

_SHM = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside RAM-backed storage
DIRECTORY = Path(tempfile.mkdtemp(prefix="kit-mutants-", dir=_SHM if _SHM.is_dir() else None))
_numbers = itertools.count()


def cleanup() -> None:
    """Remove the mutants' store files."""
    shutil.rmtree(DIRECTORY, ignore_errors=True)


@attrs.frozen
class Mutant:
    """One broken backend (or broken kit subclass) and the kit tests that must catch it."""

    name: str
    bug: str
    kit: type[BackendConformance]
    caught_by: tuple[str, ...]
    shows: str = ""


def _url() -> str:
    return f"jsonstore:{DIRECTORY}/store-{next(_numbers)}.json"


def kit_for(backend: Any, **knobs: Any) -> type[BackendConformance]:
    """A kit subclass running on ``backend`` (a JsonStoreBackend class)."""

    class Kit(BackendConformance):
        persistent = True

        def make_store(self) -> Store:
            return Store(backend.from_url(_url()))

        def reopen_store(self, store: Store) -> Store | None:
            store.close()
            return Store(backend.from_url(store.url))

    for name, value in knobs.items():
        setattr(Kit, name, value)
    return Kit


def with_transaction(tx: type, base: Any = Base) -> Any:
    """A backend class whose transactions are of class ``tx``."""

    class Backend(base):  # type: ignore[misc]
        def begin(self, *, readonly: bool = False) -> Any:
            made = super().begin(readonly=readonly)
            made.__class__ = tx
            return made

    return Backend


# -- the file: what survives reopening -------------------------------------------------------


class UpdatesNotSaved(Base):  # type: ignore[misc]
    """The file keeps the first version of every document: updates vanish on reopening."""

    def _save(self, state: Any) -> None:
        disk = self._load()
        docs = {
            kind: {key: disk.docs.get(kind, {}).get(key, entry) for key, entry in table.items()}
            for kind, table in state.docs.items()
        }
        super()._save(state._replace(docs=docs))


class DeletesNotSaved(Base):  # type: ignore[misc]
    """The file keeps every document it ever held: deletes come back on reopening."""

    def _save(self, state: Any) -> None:
        disk = self._load()
        docs = {**disk.docs}
        for kind, table in state.docs.items():
            docs[kind] = {**disk.docs.get(kind, {}), **table}
        super()._save(state._replace(docs=docs))


class TextMangledOnDisk(Base):  # type: ignore[misc]
    """Documents are written to the file as ASCII: other text is mangled only on disk."""

    def _save(self, state: Any) -> None:
        docs = {
            kind: {
                key: (version, doc.decode().encode("ascii", "replace"), index)
                for key, (version, doc, index) in table.items()
            }
            for kind, table in state.docs.items()
        }
        super()._save(state._replace(docs=docs))


# -- commit: what it checks -------------------------------------------------------------------


class CreatesNeverConflict(Base):  # type: ignore[misc]
    """Commit checks updates and deletes only: two overlapping creates of a key both win."""

    def apply(self, tx: Any) -> None:
        tx.replaced = {slot: seen for slot, seen in tx.replaced.items() if seen is not None}
        super().apply(tx)


class UpdatesNeverConflict(Base):  # type: ignore[misc]
    """Commit checks creates only: of two overlapping updates, one is lost."""

    def apply(self, tx: Any) -> None:
        tx.replaced = {slot: seen for slot, seen in tx.replaced.items() if seen is None}
        super().apply(tx)


class CountersNeverConflict(Base):  # type: ignore[misc]
    """Commit does not check counters: overlapping increments issue one number twice."""

    def apply(self, tx: Any) -> None:
        tx.counters_read = {}
        super().apply(tx)


class CountersAlwaysConflict(Base):  # type: ignore[misc]
    """Every commit that takes a number conflicts (the kit must fail, never hang)."""

    def apply(self, tx: Any) -> None:
        if tx.counters:
            name = next(iter(tx.counters))
            raise ConcurrencyConflict("counter", name, 0, None)
        super().apply(tx)


class NoReindex(Base):  # type: ignore[misc]
    """A changed kind's new index columns are never filled for stored documents."""

    def migrate(self, snapshot: Any, schema: KindSchema, reindex: Any) -> Any:
        return super().migrate(snapshot, schema, lambda doc: {})


class Graveyard(Base):  # type: ignore[misc]
    """Deleted documents are kept aside, and ``get`` still finds them."""

    def __init__(self, path: str, url: str) -> None:
        super().__init__(path, url)
        self.graveyard: dict[tuple[str, str], Any] = {}

    def apply(self, tx: Any) -> None:
        for (kind, key), entry in tx.writes.items():
            held = self._state.docs.get(kind, {}).get(key)
            if entry is None and held is not None:
                self.graveyard[kind, key] = held
        super().apply(tx)


class GetsDeleted(Tx):  # type: ignore[misc]
    """(the transactions of :class:`Graveyard`)"""

    def get(self, kind: str, key: str) -> Any:
        found = super().get(kind, key)
        buried = self._backend.graveyard.get((kind, key))
        if found is None and buried is not None:
            return buried[0], buried[1]
        return found


# -- reads: isolation and own writes ----------------------------------------------------------


class Live(Base):  # type: ignore[misc]
    """Keeps its open transactions (for :class:`DirtyCount`)."""

    def __init__(self, path: str, url: str) -> None:
        super().__init__(path, url)
        self.live: weakref.WeakSet[Any] = weakref.WeakSet()

    def begin(self, *, readonly: bool = False) -> Any:
        made = super().begin(readonly=readonly)
        made.__class__ = DirtyCount
        self.live.add(made)
        return made


class DirtyCount(Tx):  # type: ignore[misc]
    """``count`` also counts what other open transactions wrote but did not commit."""

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        rows = dict(self._visible(kind))
        for other in list(self._backend.live):
            for (written_kind, key), entry in other.writes.items():
                if written_kind != kind:
                    continue
                if entry is None:
                    rows.pop(key, None)
                else:
                    rows[key] = entry
        return sum(1 for key, e in rows.items() if G.matches(key, e[2], filters))

    def commit(self) -> None:
        self._backend.live.discard(self)
        super().commit()

    def rollback(self) -> None:
        self._backend.live.discard(self)
        super().rollback()


class FindsLatest(Tx):  # type: ignore[misc]
    """``find`` reads the latest committed state, not the transaction's snapshot."""

    _snapshot: Any

    def find(self, kind: str, *args: Any) -> Iterator[tuple[str, int, Any]]:
        snapshot: Any = self._snapshot
        self._snapshot = self._backend._state
        try:
            yield from super().find(kind, *args)
        finally:
            self._snapshot = snapshot


class FindMissesOwnWrites(Tx):  # type: ignore[misc]
    """``find`` reads the snapshot only, without the transaction's own writes."""

    writes: Any

    def find(self, kind: str, *args: Any) -> Iterator[tuple[str, int, Any]]:
        writes: Any = self.writes
        self.writes = {}
        try:
            found = list(super().find(kind, *args))
        finally:
            self.writes = writes
        yield from found


class CountMissesOwnWrites(Tx):  # type: ignore[misc]
    """``count`` reads the snapshot only, without the transaction's own writes."""

    writes: Any

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        writes: Any = self.writes
        self.writes = {}
        try:
            counted: int = super().count(kind, filters)
        finally:
            self.writes = writes
        return counted


class KindsShareKeys(Tx):  # type: ignore[misc]
    """A key is looked up in every kind: two kinds share one key space."""

    def _entry(self, kind: str, key: str) -> Any:
        found = super()._entry(kind, key)
        for other in self._snapshot.docs:
            if found is None and other != kind:
                found = super()._entry(other, key)
        return found


# -- queries: filters, order, values ------------------------------------------------------------


class Queries(Tx):  # type: ignore[misc]
    """The guide's ``find`` and ``count`` with their matching and ordering as methods."""

    def _matches(self, key: str, index: Any, filters: Sequence[Filter]) -> bool:
        return bool(G.matches(key, index, filters))

    def _order(self, rows: list[Any], order_by: Sequence[tuple[str, bool]]) -> list[Any]:
        return list(G.in_order(rows, order_by))

    def _rows(self, kind: str, filters: Sequence[Filter]) -> list[Any]:
        return [(k, e) for k, e in self._visible(kind) if self._matches(k, e[2], filters)]

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        end = None if limit is None else offset + limit
        for key, (version, doc, _index) in self._order(self._rows(kind, filters), order_by)[
            offset:end
        ]:
            yield key, version, doc

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        return len(self._rows(kind, filters))


class StatusIgnored(Queries):
    """Filters on ``status`` are dropped: the outbox's pending and processed mix."""

    def _matches(self, key: str, index: Any, filters: Sequence[Filter]) -> bool:
        return super()._matches(key, index, [f for f in filters if f.field != "status"])


class NeMissesNull(Queries):
    """``ne "x"`` does not match NULL."""

    def _matches(self, key: str, index: Any, filters: Sequence[Filter]) -> bool:
        for f in filters:
            if f.op == "ne" and index.get(f.field) is None:
                return False
        return super()._matches(key, index, filters)


class InMissesNull(Queries):
    """``in [..., None]`` does not match NULL."""

    def _matches(self, key: str, index: Any, filters: Sequence[Filter]) -> bool:
        for f in filters:
            if f.op == "in" and f.field != "key" and index.get(f.field) is None:
                return False
        return super()._matches(key, index, filters)


class TiesByInsertion(Queries):
    """The key that ends every ``order_by`` is ignored: ties keep insertion order."""

    def _order(self, rows: list[Any], order_by: Sequence[tuple[str, bool]]) -> list[Any]:
        if len(order_by) > 1 and order_by[-1] == ("key", False):
            order_by = order_by[:-1]
        return super()._order(rows, order_by)


class NullsLast(Queries):
    """NULL sorts last ascending and first descending."""

    def _order(self, rows: list[Any], order_by: Sequence[tuple[str, bool]]) -> list[Any]:
        for field, descending in reversed(order_by):

            def value(row: Any, field: str = field) -> tuple[bool, Any]:
                found = row[0] if field == "key" else row[1][2].get(field)
                return (found is None, found if found is not None else 0)

            rows.sort(key=value, reverse=descending)
        return rows


def _float32(value: Any) -> Any:
    if not isinstance(value, float):
        return value
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _int32(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return (value + 2**31) % 2**32 - 2**31


class Float32Index(Tx):  # type: ignore[misc]
    """Real index values are stored in single precision."""

    def _convert(self, value: Any) -> Any:
        return _float32(value)

    def _write(self, kind: str, key: str, entry: Any) -> None:
        if entry is not None:
            version, doc, index = entry
            entry = (version, doc, {name: self._convert(v) for name, v in index.items()})
        super()._write(kind, key, entry)


class Int32Index(Float32Index):
    """Integer index values wrap at 32 bits."""

    def _convert(self, value: Any) -> Any:
        return _int32(value)


class UpdateKeepsOldIndex(Tx):  # type: ignore[misc]
    """An update stores the new document with the old index values (status stays pending)."""

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        held = self._entry(kind, row.key)
        if held is not None:
            row = Row(row.key, row.doc, held[2])
        version: int = super().update(kind, row, expected_version)
        return version


class FirstIndex(Base):  # type: ignore[misc]
    """Remembers every document's index values as first written (for :class:`ClaimsByFirst`)."""

    def __init__(self, path: str, url: str) -> None:
        super().__init__(path, url)
        self.first_index: dict[tuple[str, str], Any] = {}


class ClaimsByFirst(Tx):  # type: ignore[misc]
    """Claims (``find_for_update``) filter on the index values a document was created with:
    processed outbox entries are claimed again."""

    def _write(self, kind: str, key: str, entry: Any) -> None:
        if entry is not None:
            self._backend.first_index.setdefault((kind, key), entry[2])
        super()._write(kind, key, entry)

    def find_for_update(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        *,
        skip_locked: bool = True,
    ) -> Iterator[tuple[str, int, Any]]:
        first = self._backend.first_index
        rows = [
            (key, entry)
            for key, entry in self._visible(kind)
            if G.matches(key, first.get((kind, key), entry[2]), filters)
        ]
        for key, (version, doc, _index) in G.in_order(rows, order_by)[:limit]:
            yield key, version, doc


class TruncatesBatches(Tx):  # type: ignore[misc]
    """A batch keeps its first 4,096 rows and drops the rest, silently."""

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        super().insert(kind, rows[:4096])


class MembersShifted(Tx):  # type: ignore[misc]
    """``find_members`` (the optional projection) answers each member with the value of
    the member after it: a wrong field."""

    def find_members(  # noqa: PLR0917 - mirrors find_members
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[bytes]:
        shifted = [*members[1:], *members[:1]]
        for _key, _version, doc in self.find(kind, filters, order_by, limit, offset):
            held = orjson.loads(doc)
            yield orjson.dumps([held.get(name) for name in shifted])


class MembersIgnoreOffset(Tx):  # type: ignore[misc]
    """``find_members`` leaves out the offset: the wrong page."""

    def find_members(  # noqa: PLR0917 - mirrors find_members
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[bytes]:
        for _key, _version, doc in self.find(kind, filters, order_by, limit, 0):
            held = orjson.loads(doc)
            yield orjson.dumps([held.get(name) for name in members])


# -- kit subclasses that break the kit's own rules ------------------------------------------------


class _NoReopen(kit_for(Base)):  # type: ignore[misc]
    """Declares itself persistent but implements no ``reopen_store``."""

    reopen_store = BackendConformance.reopen_store


class _ReopenWithoutClosing(kit_for(Base)):  # type: ignore[misc]
    """``reopen_store`` opens the data again without closing the store it got."""

    def reopen_store(self, store: Store) -> Store | None:
        return Store(Base.from_url(store.url))


_SHARED = f"jsonstore:{DIRECTORY}/shared.json"


class _SharedStore(kit_for(Base)):  # type: ignore[misc]
    """``make_store`` opens one file every time: stores are not new and empty."""

    def make_store(self) -> Store:
        return Store(Base.from_url(_SHARED))


CONTROL = kit_for(Base)
MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "updates_not_saved",
        "updates not persisted",
        kit_for(UpdatesNotSaved),
        ("test_updates_deletes_and_every_text_survive_reopening", "test_agrees_with_a_dict_model"),
    ),
    Mutant(
        "deletes_not_saved",
        "deletes not persisted",
        kit_for(DeletesNotSaved),
        ("test_updates_deletes_and_every_text_survive_reopening", "test_agrees_with_a_dict_model"),
    ),
    Mutant(
        "text_mangled_on_disk",
        "text mangled only on disk",
        kit_for(TextMangledOnDisk),
        ("test_updates_deletes_and_every_text_survive_reopening",),
    ),
    Mutant(
        "creates_never_conflict",
        "two concurrent creates of one key both succeed",
        kit_for(CreatesNeverConflict),
        ("test_two_overlapping_creates_of_one_key_let_exactly_one_win",),
    ),
    Mutant(
        "updates_never_conflict",
        "two concurrent updates of one document both succeed (lost update)",
        kit_for(UpdatesNeverConflict),
        ("test_two_overlapping_updates_of_one_document_lose_no_update",),
    ),
    Mutant(
        "dirty_count",
        "a dirty count (sees uncommitted writes)",
        kit_for(Live),
        ("test_uncommitted_writes_are_invisible_through_every_accessor",),
    ),
    Mutant(
        "find_outside_snapshot",
        "a find outside the snapshot",
        kit_for(with_transaction(FindsLatest)),
        ("test_a_reader_keeps_its_snapshot_through_every_accessor",),
    ),
    Mutant(
        "find_misses_own_writes",
        "a find that misses the transaction's own writes",
        kit_for(with_transaction(FindMissesOwnWrites)),
        ("test_a_unit_of_work_sees_its_own_writes_through_every_accessor",),
    ),
    Mutant(
        "count_misses_own_writes",
        "a count that misses the transaction's own writes",
        kit_for(with_transaction(CountMissesOwnWrites)),
        ("test_a_unit_of_work_sees_its_own_writes_through_every_accessor",),
    ),
    Mutant(
        "outbox_status_ignored",
        "the outbox status filter ignored",
        kit_for(with_transaction(StatusIgnored)),
        ("test_the_status_filter_and_index_follow_every_update", "test_agrees_with_a_dict_model"),
    ),
    Mutant(
        "processed_claimed_again",
        "processed outbox entries claimed again",
        kit_for(with_transaction(ClaimsByFirst, FirstIndex)),
        (
            "test_claiming_in_batches_takes_each_entry_once_in_order",
            "test_agrees_with_a_dict_model",
        ),
    ),
    Mutant(
        "status_index_not_updated",
        "the status index not updated",
        kit_for(with_transaction(UpdateKeepsOldIndex)),
        ("test_the_status_filter_and_index_follow_every_update", "test_agrees_with_a_dict_model"),
    ),
    Mutant(
        "get_returns_deleted",
        "get returning deleted documents",
        kit_for(with_transaction(GetsDeleted, Graveyard)),
        ("test_a_deleted_document_is_gone_for_get_exists_find_and_count",),
    ),
    Mutant(
        "ties_by_insertion",
        "ties ordered by insertion instead of key",
        kit_for(with_transaction(TiesByInsertion)),
        ("test_ties_are_ordered_by_key_whatever_the_insertion_order",),
        shows="assert ['s0000",
    ),
    Mutant(
        "real_as_float32",
        "real index values stored as float32",
        kit_for(with_transaction(Float32Index)),
        ("test_real_index_values_keep_double_precision",),
    ),
    Mutant(
        "int_wraps_at_32_bits",
        "integers wrapping at 32 bits",
        kit_for(with_transaction(Int32Index)),
        ("test_integer_index_values_keep_64_bits",),
    ),
    Mutant(
        "kinds_share_keys",
        "two kinds sharing one key space",
        kit_for(with_transaction(KindsShareKeys)),
        ("test_kinds_keep_separate_key_spaces",),
    ),
    Mutant(
        "nulls_last",
        "NULL ordering unspecified (NULL last ascending)",
        kit_for(with_transaction(NullsLast)),
        ("test_none_sorts_first_ascending_and_last_descending",),
    ),
    Mutant(
        "ne_misses_null",
        "NULL semantics: ne does not match NULL",
        kit_for(with_transaction(NeMissesNull)),
        ("test_none_matches_eq_none_ne_and_in_but_never_a_comparison",),
    ),
    Mutant(
        "in_misses_null",
        "NULL semantics: in [..., None] does not match NULL",
        kit_for(with_transaction(InMissesNull)),
        ("test_none_matches_eq_none_ne_and_in_but_never_a_comparison",),
    ),
    Mutant(
        "batch_truncated",
        "a batch silently truncated at 4096",
        kit_for(with_transaction(TruncatesBatches)),
        ("test_a_large_batch_is_stored_whole",),
    ),
    Mutant(
        "counters_repeat",
        "counters repeating across transactions",
        kit_for(CountersNeverConflict),
        ("test_two_overlapping_counter_increments_never_repeat",),
    ),
    Mutant(
        "counter_always_conflicts",
        "a counter that always conflicts (hung the retry loop)",
        kit_for(CountersAlwaysConflict),
        ("test_counters_never_repeat_across_threads",),
        shows="still a ConcurrencyConflict after",
    ),
    Mutant(
        "no_reindex",
        "ensure_kind not reindexing a changed kind",
        kit_for(NoReindex),
        (
            "test_a_changed_kind_is_reindexed_in_a_running_store",
            "test_a_new_index_is_filled_for_existing_documents",
        ),
    ),
    Mutant(
        "members_shifted",
        "a projection (find_members) that returns a wrong field",
        kit_for(with_transaction(MembersShifted)),
        (
            "test_scan_fields_equals_the_fields_of_scan_under_filters_order_and_paging",
            "test_nested_list_and_optional_fields_read_as_the_model_holds_them",
        ),
    ),
    Mutant(
        "members_ignore_offset",
        "a projection (find_members) that ignores the offset",
        kit_for(with_transaction(MembersIgnoreOffset)),
        (
            "test_scan_fields_equals_the_fields_of_scan_under_filters_order_and_paging",
            "test_a_long_result_streams_whole_and_in_order",
        ),
    ),
    Mutant(
        "persistent_without_reopen",
        "a persistent backend without reopen_store (skipped silently)",
        _NoReopen,
        ("test_data_survives_reopening", "test_updates_deletes_and_every_text_survive_reopening"),
        shows="persistent = True, but reopen_store() returned None",
    ),
    Mutant(
        "reopen_without_closing",
        "reopen_store that does not close the store first",
        _ReopenWithoutClosing,
        ("test_data_survives_reopening",),
        shows="reopen_store() must close the store it gets first",
    ),
    Mutant(
        "shared_store",
        "make_store that returns a store already holding data",
        _SharedStore,
        ("test_get_of_a_missing_key_raises_not_found",),
        shows="make_store() must return a new, empty store",
    ),
)
