"""In-memory storage backend for csdomain (``memory://``).

The memory backend keeps the frozen model objects themselves (immutable, so sharing them
is safe) and never serializes. Each unit of work reads a snapshot taken when it began
(multi-version storage); writes are checked at commit, first committer wins: a later
commit that touched the same key raises :class:`~csdomain.errors.ConcurrencyConflict`
(or :class:`~csdomain.errors.AlreadyExists` for a key both inserted). Rolling back
discards everything the unit of work wrote. Data lives as long as the backend object;
each ``open_store("memory://")`` is a new, empty store, and ``memory://NAME`` shares one
store per name within the process.

Queries use indexes kept at commit (:mod:`csdomain_memory._index`): the sorted keys of
each kind and, per declared index field, the keys holding each value beside the sorted
values. ``find`` and ``count`` read the candidates of their most selective filter (an
equality, an ``__in``, a range or a prefix range on a field or on the key) and check each
candidate's version in the snapshot against every filter, so they cost O(matches), not
O(kind); a query with a ``limit`` whose filters allow many objects (or none is indexed)
walks the index of its first ``order_by`` field in order instead and stops once it has
enough. A version no running unit of work reads any more is dropped, with its index
entries, at the next commit or end of a unit of work.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any, ClassVar

from csdomain.errors import AlreadyExists, ConcurrencyConflict, ValidationError
from csdomain.hookspecs import hookimpl
from csdomain.store.spi import Filter, IndexValue, KindSchema, Row, check_version, short_repr
from csdomain_memory._index import FieldIndex, KindIndex, SortedValues


__all__ = ["SCHEMES", "MemoryBackend", "MemoryTransaction", "csdomain_open_store"]

SCHEMES = ("memory",)


class _Version:
    """One version of a stored object; ``seq`` is set once, when its writer commits."""

    __slots__ = ("deleted", "doc", "index", "seq", "version")

    def __init__(
        self,
        seq: int,
        version: int,
        doc: Any,
        index: Mapping[str, IndexValue],
        deleted: bool = False,
    ) -> None:
        self.seq = seq
        self.version = version
        self.doc = doc
        self.index = index
        self.deleted = deleted


class MemoryBackend:
    """A process-local, multi-version store of frozen objects, indexed at commit."""

    stores_objects: ClassVar[bool] = True

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, list[_Version]]] = {}
        self._indexes: dict[str, KindIndex] = {}
        self._counters: dict[str, int] = {}
        self._ready: dict[str, KindSchema] = {}
        self._seq = 0
        self._active: Counter[int] = Counter()
        #: ``(seq, kind, key)`` of chains that kept older versions for a running unit of
        #: work when ``seq`` committed, oldest first: dropped once no snapshot reads them.
        self._pending: deque[tuple[int, str, str]] = deque()
        self._closed = False

    def begin(self, *, readonly: bool = False) -> MemoryTransaction:
        """Start a transaction reading the current snapshot."""
        if self._closed:
            msg = "the memory store is closed"
            raise ValidationError.at("", msg)
        with self._lock:
            snapshot = self._seq
            self._active[snapshot] += 1
        return MemoryTransaction(self, snapshot, readonly=readonly)

    def purge_erased(self, kinds: Sequence[str]) -> None:
        """Nothing to do: no file holds the data, and a replaced object's old version is
        dropped as soon as no unit of work that began before the erasure still reads it."""
        del kinds

    def close(self) -> None:
        """Drop all data."""
        with self._lock:
            self._data.clear()
            self._indexes.clear()
            self._pending.clear()
            self._counters.clear()
            self._closed = True

    # used by transactions, always under the lock --------------------------------------

    def _release(self, snapshot: int) -> None:
        self._active[snapshot] -= 1
        if self._active[snapshot] <= 0:
            del self._active[snapshot]

    def _oldest(self) -> int:
        """The oldest snapshot a running transaction reads (the newest when none runs)."""
        return min(self._active) if self._active else self._seq

    def _index_of(self, kind: str) -> KindIndex:
        """The indexes of ``kind`` (built from its stored chains the first time)."""
        index = self._indexes.get(kind)
        if index is None:
            schema = self._ready.get(kind)
            fields = [name for name, _ in schema.indexes] if schema is not None else []
            index = KindIndex.built(fields, self._data.get(kind, {}).items())
            self._indexes[kind] = index
        return index

    def _prune(self, kind: str, key: str, chain: list[_Version], oldest: int) -> None:
        """Drop the versions of ``chain`` that no snapshot from ``oldest`` on reads, and
        their index entries; a chain left holding only a deletion is removed."""
        keep_from = 0
        for i, entry in enumerate(chain):
            if entry.seq <= oldest:
                keep_from = i
        gone = keep_from == len(chain) - 1 and chain[-1].deleted
        if not keep_from and not gone:
            return
        dropped = chain[:keep_from]
        del chain[:keep_from]
        index = self._index_of(kind)
        remaining: Sequence[_Version] = chain
        if gone:
            del self._data[kind][key]
            index.keys.remove(key)
            remaining = ()
        if len(remaining) <= 1:
            index.multi.discard(key)
        for entry in dropped:
            if not entry.deleted:
                index.drop(key, entry, remaining)

    def _sweep(self) -> None:
        """Drop the older versions that the finished transactions were the last to read."""
        pending = self._pending
        if not pending:
            return
        oldest = self._oldest()
        while pending and pending[0][0] <= oldest:
            _, kind, key = pending.popleft()
            chain = self._data.get(kind, {}).get(key)
            if chain is not None and len(chain) > 1:
                self._prune(kind, key, chain, oldest)

    def _visible(self, chain: list[_Version] | None, snapshot: int) -> _Version | None:
        if not chain:
            return None
        last = chain[-1]
        if last.seq <= snapshot:
            return None if last.deleted else last
        for entry in reversed(chain[:]):  # a copy: a commit may prune the chain meanwhile
            if entry.seq <= snapshot:
                return None if entry.deleted else entry
        return None

    def __repr__(self) -> str:
        return f"MemoryBackend({self.url!r})"


def _matches(filters: Sequence[Filter], key: str, index: Mapping[str, IndexValue]) -> bool:
    for f in filters:
        value = key if f.field == "key" else index.get(f.field)
        op = f.op
        if op == "eq":
            if value != f.value:
                return False
        elif op == "ne":
            if value == f.value:
                return False
        elif op == "in":
            if value not in f.value:
                return False
        elif value is None:
            return False
        elif op == "lt":
            if not value < f.value:
                return False
        elif op == "le":
            if not value <= f.value:
                return False
        elif op == "gt":
            if not value > f.value:
                return False
        elif op == "ge" and not value >= f.value:
            return False
    return True


_EMPTY: frozenset[str] = frozenset()
_RANGE_OPS = frozenset({"lt", "le", "gt", "ge"})


def _indexable(value: object) -> bool:
    """Whether ``value`` can be looked up in an index (an index value's type)."""
    return value is None or type(value) in (str, int, float)


def _candidates(index: KindIndex, filters: Sequence[Filter]) -> Collection[str] | None:
    """The keys the most selective indexed filter allows (a superset of the matches), or
    ``None`` when no filter can use an index."""
    best: Collection[str] | None = None
    bounds: dict[str, list[Filter]] = {}
    for f in filters:
        op = f.op
        found: Collection[str]
        if op in _RANGE_OPS:
            if f.value is not None and type(f.value) in (str, int, float):
                bounds.setdefault(f.field, []).append(f)
            continue
        if op == "eq":
            if not _indexable(f.value):
                continue
            if f.field == "key":
                found = (f.value,) if isinstance(f.value, str) else ()
            else:
                field = index.fields.get(f.field)
                if field is None:
                    continue
                found = field.keys.get(f.value, _EMPTY)
        elif op == "in":
            if not all(_indexable(v) for v in f.value):
                continue
            if f.field == "key":
                found = {v for v in f.value if isinstance(v, str)}
            else:
                field = index.fields.get(f.field)
                if field is None:
                    continue
                found = set().union(*(field.keys.get(v, _EMPTY) for v in set(f.value)))
        else:
            continue
        if best is None or len(found) < len(best):
            best = found
            if not best:
                return best
    for name, group in bounds.items():
        found_range = _range(index, name, group, None if best is None else len(best))
        if found_range is not None:
            best = found_range
    return best


def _bounds(group: Sequence[Filter]) -> tuple[Any, Any, bool, bool] | None:
    """The tightest ``(low, high, low_open, high_open)`` of one field's range filters, or
    ``None`` when they mix text and numbers."""
    if len({isinstance(f.value, str) for f in group}) > 1:
        return None
    low: Any = None
    high: Any = None
    low_open = high_open = False
    for f in group:
        value, op = f.value, f.op
        if op in ("gt", "ge"):
            if low is None or value > low or (value == low and op == "gt"):
                low, low_open = value, op == "gt"
        elif high is None or value < high or (value == high and op == "lt"):
            high, high_open = value, op == "lt"
    return low, high, low_open, high_open


def _walk_range(
    index: KindIndex, name: str, group: Sequence[Filter]
) -> tuple[FieldIndex | None, Iterator[Any]] | None:
    """The values of field ``name`` (the keys, for ``"key"``) within the bounds of
    ``group``, with the field's index; ``None`` when there is no index for them."""
    bounds = _bounds(group)
    if bounds is None:
        return None
    low, high, low_open, high_open = bounds
    sample = low if low is not None else high
    values: SortedValues
    field: FieldIndex | None = None
    if name == "key":
        if not isinstance(sample, str):
            return None
        values = index.keys
    else:
        field = index.fields.get(name)
        if field is None:
            return None
        values = field.sorted_values(sample)
    return field, values.irange(low, high, low_open=low_open, high_open=high_open)


def _range(
    index: KindIndex, name: str, group: Sequence[Filter], cap: int | None
) -> Collection[str] | None:
    """The keys whose ``name`` lies within the bounds of ``group``; ``None`` when there is
    no index for them or they are ``cap`` keys or more."""
    walk = _walk_range(index, name, group)
    if walk is None:
        return None
    field, values = walk
    if field is None:
        keys: list[str] = []
        for key in values:
            keys.append(key)
            if cap is not None and len(keys) >= cap:
                return None
        return keys
    found: set[str] = set()
    for value in values:
        found.update(field.keys[value])
        if cap is not None and len(found) >= cap:
            return None
    return found


def _exact_count(index: KindIndex, filters: Sequence[Filter]) -> int | None:
    """How many keys an exact index holds under ``filters`` when they are one equality,
    one ``__in`` or the bounds of one range of a single field; ``None`` otherwise."""
    if not filters:
        return len(index.keys)
    names = {f.field for f in filters}
    if len(names) != 1:
        return None
    (name,) = names
    first = filters[0]
    if len(filters) == 1 and first.op in ("eq", "in"):
        values = (first.value,) if first.op == "eq" else first.value
        if not all(_indexable(v) for v in values):
            return None
        if name == "key":
            return sum(1 for v in set(values) if isinstance(v, str) and v in index.keys)
        field = index.fields.get(name)
        if field is None:
            return None
        return sum(len(field.keys.get(v, _EMPTY)) for v in set(values))
    if not all(f.op in _RANGE_OPS and _indexable(f.value) and f.value is not None for f in filters):
        return None
    walk = _walk_range(index, name, filters)
    if walk is None:
        return None
    field, values = walk
    if field is None:
        return sum(1 for _ in values)
    return sum(len(field.keys[value]) for value in values)


def _walk_is_cheaper(keys: Collection[str] | None, need: int, stored: int) -> bool:
    """Whether walking the order's index until ``need`` matches is expected to check fewer
    objects than the ``keys`` a filter allows (``None``: every stored one): about
    ``need * stored / len(keys)`` when the filter and the order are independent."""
    if keys is None:
        return True
    return len(keys) * len(keys) > need * stored


def _in_order(field: FieldIndex, descending: bool) -> Iterator[IndexValue]:
    """The values of ``field`` in query order: ``None`` first ascending, last descending;
    numbers before text."""
    if not descending:
        yield None
        yield from field.numbers
        yield from field.texts
    else:
        yield from field.texts.irange(reverse=True)
        yield from field.numbers.irange(reverse=True)
        yield None


class _Desc:
    """Inverts the order of a sort key component."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


def _sort_key(
    order_by: Sequence[tuple[str, bool]],
) -> Callable[[tuple[str, _Version]], tuple[Any, ...]]:
    def key(item: tuple[str, _Version]) -> tuple[Any, ...]:
        name, entry = item
        parts: list[Any] = []
        for field, desc in order_by:
            value = name if field == "key" else entry.index.get(field)
            part = (value is not None, value if value is not None else 0)
            parts.append(_Desc(part) if desc else part)
        return tuple(parts)

    return key


_BY_KEY = itemgetter(0)


def _sort(found: list[tuple[str, _Version]], order_by: Sequence[tuple[str, bool]]) -> None:
    """Sort ``found`` by ``order_by`` (the key alone: by key, without a sort key object)."""
    if not order_by or order_by[0] == ("key", False):
        found.sort(key=_BY_KEY)
    elif order_by[0] == ("key", True):
        found.sort(key=_BY_KEY, reverse=True)
    else:
        found.sort(key=_sort_key(order_by))


class MemoryTransaction:
    """A snapshot-isolated transaction of the memory backend."""

    def __init__(self, backend: MemoryBackend, snapshot: int, *, readonly: bool) -> None:
        self._backend = backend
        self._snapshot = snapshot
        self._readonly = readonly
        self._writes: dict[tuple[str, str], _Version] = {}
        #: The same writes by kind, then key (what queries lay over the snapshot).
        self._kind_writes: dict[str, dict[str, _Version]] = {}
        self._bases: dict[tuple[str, str], int | None] = {}
        self._counters: dict[str, int] = {}
        self._counter_bases: dict[str, int] = {}
        #: Counters this transaction removed (data migrations).
        self._dropped: set[str] = set()
        self._open = True
        self._released = False

    def _current(self, kind: str, key: str) -> _Version | None:
        written = self._writes.get((kind, key))
        if written is not None:
            return None if written.deleted else written
        chain = self._backend._data.get(kind, {}).get(key)
        return self._backend._visible(chain, self._snapshot)

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        """Make room for a kind; re-index stored objects when its indexes changed (an index
        added, removed or given another type: its values are recomputed either way)."""
        backend = self._backend
        if backend._ready.get(schema.name) == schema:
            return
        with backend._lock:
            before = backend._ready.get(schema.name)
            backend._ready[schema.name] = schema
            table = backend._data.setdefault(schema.name, {})
            if before is not None and before.indexes == schema.indexes:
                return
            for chain in table.values():
                for i, entry in enumerate(chain):
                    if not entry.deleted:
                        index = dict(reindex(entry.doc))
                        chain[i] = _Version(entry.seq, entry.version, entry.doc, index)
            fields = [name for name, _ in schema.indexes]
            backend._indexes[schema.name] = KindIndex.built(fields, table.items())

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        """The visible version of ``key``."""
        entry = self._current(kind, key)
        return None if entry is None else (entry.version, entry.doc)

    def _write(self, kind: str, key: str, base: int | None, entry: _Version) -> None:
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")
        slot = (kind, key)
        if slot not in self._bases:
            self._bases[slot] = base
        self._writes[slot] = entry
        written = self._kind_writes.get(kind)
        if written is None:
            written = self._kind_writes[kind] = {}
        written[key] = entry

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        """Insert new objects at version 1."""
        self._insert(kind, rows, itertools.repeat(1))

    def restore(self, kind: str, rows: Sequence[Row], versions: Sequence[int]) -> None:
        """Insert new objects, each at its version (import)."""
        if len(versions) != len(rows):
            raise ValidationError.at("versions", "one version per row")
        self._insert(kind, rows, versions)

    def _insert(self, kind: str, rows: Sequence[Row], versions: Iterable[int]) -> None:
        seen: set[str] = set()
        for row in rows:
            if row.key in seen or self._current(kind, row.key) is not None:
                raise AlreadyExists(kind, row.key)
            seen.add(row.key)
        for row, version in zip(rows, versions, strict=False):
            self._write(kind, row.key, None, _Version(0, version, row.doc, row.index))

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        """Replace an object if it is at ``expected_version``."""
        current = self._current(kind, row.key)
        check_version(kind, row.key, expected_version, None if current is None else current.version)
        new_version = expected_version + 1
        self._write(kind, row.key, expected_version, _Version(0, new_version, row.doc, row.index))
        return new_version

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        """Delete an object at ``expected_version``."""
        current = self._current(kind, key)
        check_version(kind, key, expected_version, None if current is None else current.version)
        self._write(
            kind, key, expected_version, _Version(0, expected_version, None, {}, deleted=True)
        )

    def _own(
        self, kind: str, filters: Sequence[Filter]
    ) -> tuple[Mapping[str, _Version], list[tuple[str, _Version]]]:
        """This transaction's writes of ``kind``, and those of them that match."""
        own = self._kind_writes.get(kind, {})
        mine = [
            (key, entry)
            for key, entry in own.items()
            if not entry.deleted and _matches(filters, key, entry.index)
        ]
        return own, mine

    def _select(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        need: int | None,
        own: Mapping[str, _Version],
    ) -> list[tuple[str, _Version]]:
        """The committed matches in this snapshot, leaving out the keys this transaction
        wrote; with ``need``, a walk in order may stop after the first ``need`` (ties of
        the first ``order_by`` field included)."""
        backend = self._backend
        snapshot = self._snapshot
        visible = backend._visible
        found: list[tuple[str, _Version]] = []
        with backend._lock:
            table = backend._data.get(kind)
            if not table:
                return found
            index = backend._index_of(kind)
            keys = _candidates(index, filters)
            if need is not None and order_by and _walk_is_cheaper(keys, need, len(table)):
                walked = self._walk(table, index, filters, order_by[0], need=need, own=own)
                if walked is not None:
                    return walked
            if keys is None:
                for key, chain in table.items():
                    if key in own:
                        continue
                    entry = visible(chain, snapshot)
                    if entry is not None and _matches(filters, key, entry.index):
                        found.append((key, entry))
                return found
            for key in keys:
                if key in own:
                    continue
                entry = visible(table.get(key), snapshot)
                if entry is not None and _matches(filters, key, entry.index):
                    found.append((key, entry))
        return found

    def _walk(
        self,
        table: Mapping[str, list[_Version]],
        index: KindIndex,
        filters: Sequence[Filter],
        first: tuple[str, bool],
        *,
        need: int,
        own: Mapping[str, _Version],
    ) -> list[tuple[str, _Version]] | None:
        """The first ``need`` committed matches walking the index of the ``first`` order
        field (every tie of the last value walked included); ``None`` without an index."""
        visible = self._backend._visible
        snapshot = self._snapshot
        found: list[tuple[str, _Version]] = []
        name, descending = first
        if name == "key":
            for key in index.keys.irange(reverse=descending):
                if len(found) >= need:
                    break
                if key in own:
                    continue
                entry = visible(table.get(key), snapshot)
                if entry is not None and _matches(filters, key, entry.index):
                    found.append((key, entry))
            return found
        field = index.fields.get(name)
        if field is None:
            return None
        for value in _in_order(field, descending):
            if len(found) >= need:
                break
            for key in field.keys.get(value, _EMPTY):
                if key in own:
                    continue
                entry = visible(table.get(key), snapshot)
                if (
                    entry is not None
                    and entry.index.get(name) == value
                    and _matches(filters, key, entry.index)
                ):
                    found.append((key, entry))
        return found

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Matching objects in order."""
        if limit == 0:
            return
        end = None if limit is None else offset + limit
        own, mine = self._own(kind, filters)
        matches = self._select(kind, filters, order_by, end, own)
        matches.extend(mine)
        _sort(matches, order_by)
        for key, entry in matches[offset:end]:
            yield key, entry.version, entry.doc

    def find_members(  # noqa: PLR0917 - mirrors find
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[Any, ...]]:
        """The chosen attributes of matching objects in order (a plain pass over ``find``)."""
        pick = attrgetter(*members)
        if len(members) == 1:
            for _key, _version, obj in self.find(kind, filters, order_by, limit, offset):
                yield (pick(obj),)
            return
        for _key, _version, obj in self.find(kind, filters, order_by, limit, offset):
            yield pick(obj)

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many objects match (read off the index when it is exact for this snapshot
        and one field's filters decide, else by checking each candidate)."""
        own, mine = self._own(kind, filters)
        if not own:
            backend = self._backend
            with backend._lock:
                index = backend._indexes.get(kind)
                if index is None or not backend._data.get(kind):
                    return 0
                if not index.multi and index.changed <= self._snapshot:
                    exact = _exact_count(index, filters)
                    if exact is not None:
                        return exact
        return len(self._select(kind, filters, (), None, own)) + len(mine)

    def next_counter(self, name: str) -> int:
        """Increment a counter; concurrent increments conflict at commit."""
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")
        if name in self._dropped:
            self._dropped.discard(name)
            self._counters[name] = 0
        elif name not in self._counters:
            self._base(name)
        self._counters[name] += 1
        return self._counters[name]

    def _base(self, name: str) -> int:
        """Remember the committed value of counter ``name`` as this transaction's base."""
        with self._backend._lock:
            base = self._backend._counters.get(name, 0)
        self._counter_bases.setdefault(name, base)
        self._counters[name] = base
        return base

    def delete_counter(self, name: str) -> None:
        """Remove a counter (data migrations); a concurrent change conflicts at commit."""
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")
        if name not in self._counters and name not in self._dropped:
            self._base(name)
        self._counters.pop(name, None)
        self._dropped.add(name)

    def list_counters(self) -> Iterator[tuple[str, int]]:
        """Every counter by name: the latest committed values (counters keep no snapshot,
        so they are never older than this transaction's documents), then its own."""
        with self._backend._lock:
            counters = dict(self._backend._counters)
        counters.update(self._counters)
        for name in self._dropped:
            counters.pop(name, None)
        return iter(sorted(counters.items()))

    def restore_counter(self, name: str, value: int) -> None:
        """Create a counter at ``value`` (import); a concurrent creation conflicts at commit."""
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")
        if name in self._dropped:
            self._dropped.discard(name)
            self._counters[name] = value
            return
        with self._backend._lock:
            exists = name in self._backend._counters
        if exists or name in self._counters:
            raise AlreadyExists("counter", name)
        self._counter_bases[name] = 0
        self._counters[name] = value

    def commit(self) -> None:
        """Apply the writes if nobody committed a conflicting change since the snapshot,
        and index them; versions no running transaction reads any more are dropped."""
        backend = self._backend
        with backend._lock:
            try:
                self._validate()
                if self._writes or self._counters or self._dropped:
                    self._release_snapshot()
                    backend._seq += 1
                    self._apply(backend._seq)
            finally:
                self._finish()

    def _apply(self, seq: int) -> None:
        """Make the writes the versions of ``seq`` (under the backend's lock)."""
        backend = self._backend
        data = backend._data
        oldest = backend._oldest()
        pending = backend._pending
        for (kind, key), entry in self._writes.items():
            entry.seq = seq
            table = data.get(kind)
            if table is None:
                table = data[kind] = {}
            index = backend._index_of(kind)
            index.changed = seq
            chain = table.get(key)
            if chain is None:
                if not entry.deleted:
                    table[key] = [entry]
                    index.keys.add(key)
                    index.add(key, entry)
                continue
            previous = chain[-1]
            chain.append(entry)
            if not entry.deleted:
                index.add(key, entry, previous)
            backend._prune(kind, key, chain, oldest)
            if len(chain) > 1:
                index.multi.add(key)
                pending.append((seq, kind, key))
        backend._counters.update(self._counters)
        for name in self._dropped:
            backend._counters.pop(name, None)

    def _validate(self) -> None:
        backend = self._backend
        for (kind, key), base in self._bases.items():
            chain = backend._data.get(kind, {}).get(key)
            newest = chain[-1] if chain else None
            actual = None if newest is None or newest.deleted else newest.version
            if base is None and actual is not None:
                raise AlreadyExists(kind, key)
            if base is not None and actual != base:
                raise ConcurrencyConflict(kind, key, base, actual)
        for name, base in self._counter_bases.items():
            actual = backend._counters.get(name, 0)
            if actual != base:
                raise ConcurrencyConflict("counter", name, base, actual)

    def rollback(self) -> None:
        """Discard the writes."""
        with self._backend._lock:
            self._finish()

    def _release_snapshot(self) -> None:
        if self._open and not self._released:
            self._released = True
            self._backend._release(self._snapshot)

    def _finish(self) -> None:
        if self._open:
            self._release_snapshot()
            self._open = False
            self._writes.clear()
            self._kind_writes.clear()
            self._backend._sweep()


_NAMED: dict[str, MemoryBackend] = {}
_NAMED_LOCK = threading.Lock()


@hookimpl
def csdomain_open_store(url: str) -> MemoryBackend | None:
    """Open ``memory://`` (a new empty store) or ``memory://NAME`` (shared per name)."""
    if not url.startswith("memory:"):
        return None
    rest = url[len("memory:") :]
    if (rest and not rest.startswith("//")) or "\x00" in rest:
        msg = f"memory URLs look like memory:// or memory://NAME, not {short_repr(url)}"
        raise ValidationError.at("url", msg)
    if "?" in rest or "#" in rest:
        raise ValidationError.at("url", "memory URLs take no ?options or #fragment")
    name = rest[2:]
    if not name:
        return MemoryBackend(url)
    with _NAMED_LOCK:
        backend = _NAMED.get(name)
        if backend is None or backend._closed:
            backend = MemoryBackend(url)
            _NAMED[name] = backend
        return backend
