"""In-memory storage backend for csdomain (``memory://``).

The memory backend keeps the frozen model objects themselves (immutable, so sharing them
is safe) and never serializes. Each unit of work reads a snapshot taken when it began
(multi-version storage); writes are checked at commit, first committer wins: a later
commit that touched the same key raises :class:`~csdomain.errors.ConcurrencyConflict`
(or :class:`~csdomain.errors.AlreadyExists` for a key both inserted). Rolling back
discards everything the unit of work wrote. Data lives as long as the backend object;
each ``open_store("memory://")`` is a new, empty store, and ``memory://NAME`` shares one
store per name within the process.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from csdomain.errors import AlreadyExists, ConcurrencyConflict, ValidationError
from csdomain.hookspecs import hookimpl
from csdomain.store.spi import Filter, IndexValue, KindSchema, Row, check_version, short_repr


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
    """A process-local, multi-version store of frozen objects."""

    stores_objects: ClassVar[bool] = True

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, list[_Version]]] = {}
        self._counters: dict[str, int] = {}
        self._ready: dict[str, KindSchema] = {}
        self._seq = 0
        self._active: Counter[int] = Counter()
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
            self._counters.clear()
            self._closed = True

    # used by transactions ------------------------------------------------------------

    def _release(self, snapshot: int) -> None:
        self._active[snapshot] -= 1
        if self._active[snapshot] <= 0:
            del self._active[snapshot]

    def _prune(self, chain: list[_Version]) -> None:
        oldest = min(self._active) if self._active else self._seq
        keep_from = 0
        for i, entry in enumerate(chain):
            if entry.seq <= oldest:
                keep_from = i
        if keep_from:
            del chain[:keep_from]

    def _visible(self, chain: list[_Version] | None, snapshot: int) -> _Version | None:
        if not chain:
            return None
        last = chain[-1]
        if last.seq <= snapshot:
            return None if last.deleted else last
        for entry in reversed(chain):
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


class MemoryTransaction:
    """A snapshot-isolated transaction of the memory backend."""

    def __init__(self, backend: MemoryBackend, snapshot: int, *, readonly: bool) -> None:
        self._backend = backend
        self._snapshot = snapshot
        self._readonly = readonly
        self._writes: dict[tuple[str, str], _Version] = {}
        self._bases: dict[tuple[str, str], int | None] = {}
        self._counters: dict[str, int] = {}
        self._counter_bases: dict[str, int] = {}
        #: Counters this transaction removed (data migrations).
        self._dropped: set[str] = set()
        self._open = True

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

    def _visible_items(self, kind: str) -> Iterator[tuple[str, _Version]]:
        backend = self._backend
        table = backend._data.get(kind, {})
        written = {key: e for (k, key), e in self._writes.items() if k == kind}
        for key, chain in list(table.items()):
            if key in written:
                continue
            entry = backend._visible(chain, self._snapshot)
            if entry is not None:
                yield key, entry
        for key, entry in written.items():
            if not entry.deleted:
                yield key, entry

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Matching objects in order."""
        matches = [
            (key, entry)
            for key, entry in self._visible_items(kind)
            if _matches(filters, key, entry.index)
        ]
        matches.sort(key=_sort_key(order_by))
        end = None if limit is None else offset + limit
        for key, entry in matches[offset:end]:
            yield key, entry.version, entry.doc

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many objects match."""
        return sum(
            1 for key, entry in self._visible_items(kind) if _matches(filters, key, entry.index)
        )

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
        """Apply the writes if nobody committed a conflicting change since the snapshot."""
        backend = self._backend
        with backend._lock:
            try:
                self._validate()
                if self._writes or self._counters or self._dropped:
                    backend._seq += 1
                    seq = backend._seq
                    data = backend._data
                    for (kind, key), entry in self._writes.items():
                        entry.seq = seq
                        table = data.get(kind)
                        if table is None:
                            table = data[kind] = {}
                        chain = table.get(key)
                        if chain is None:
                            if not entry.deleted:
                                table[key] = [entry]
                            continue
                        chain.append(entry)
                        backend._prune(chain)
                        if len(chain) == 1 and chain[0].deleted:
                            del table[key]
                    backend._counters.update(self._counters)
                    for name in self._dropped:
                        backend._counters.pop(name, None)
            finally:
                self._finish()

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

    def _finish(self) -> None:
        if self._open:
            self._open = False
            self._backend._release(self._snapshot)
            self._writes.clear()


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
