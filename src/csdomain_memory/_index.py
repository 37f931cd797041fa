"""The memory backend's indexes: sorted values and the keys holding each value.

Every kind keeps a :class:`KindIndex`: the sorted set of its stored keys and, per declared
index field, a :class:`FieldIndex` mapping each value to the keys of the versions that hold
it, beside the sorted distinct values (for ranges, prefixes and ordered walks). An index
names every key one of whose *retained* versions holds a value, so it is a superset of
what any snapshot sees there; readers check each candidate's visible version against the
filters. The backend changes indexes only under its lock, at commit and when it drops
versions no snapshot reads any more.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from csdomain.store.spi import IndexValue


__all__ = ["FieldIndex", "KindIndex", "SortedValues"]

#: Values per sublist of a :class:`SortedValues` before it splits in two.
_LOAD = 1000


class _Indexed(Protocol):
    """What the indexes read of a stored version."""

    @property
    def deleted(self) -> bool: ...

    @property
    def index(self) -> Any: ...


class SortedValues:
    """A sorted set of mutually comparable values: a list of short sorted lists.

    Adding or removing costs O(log n) comparisons plus moving at most ``2 * _LOAD``
    references, so an index of a million values stays cheap to change; walking a range
    costs O(log n + values walked).
    """

    __slots__ = ("_lists", "_maxes", "_size")

    def __init__(self, values: Iterable[Any] = ()) -> None:
        ordered = sorted(values)
        self._lists: list[list[Any]] = [
            ordered[i : i + _LOAD] for i in range(0, len(ordered), _LOAD)
        ]
        self._maxes: list[Any] = [part[-1] for part in self._lists]
        self._size = len(ordered)

    def __len__(self) -> int:
        return self._size

    def add(self, value: Any) -> None:
        """Add ``value`` (the caller knows it is not there yet)."""
        maxes = self._maxes
        self._size += 1
        if not maxes:
            self._lists.append([value])
            maxes.append(value)
            return
        i = bisect_left(maxes, value)
        if i == len(maxes):
            i -= 1
            self._lists[i].append(value)
            maxes[i] = value
        else:
            insort(self._lists[i], value)
        part = self._lists[i]
        if len(part) > 2 * _LOAD:
            self._lists[i : i + 1] = [part[:_LOAD], part[_LOAD:]]
            maxes[i : i + 1] = [part[_LOAD - 1], part[-1]]

    def remove(self, value: Any) -> None:
        """Remove ``value`` if it is there."""
        maxes = self._maxes
        i = bisect_left(maxes, value)
        if i == len(maxes):
            return
        part = self._lists[i]
        j = bisect_left(part, value)
        if j == len(part) or part[j] != value:
            return
        del part[j]
        self._size -= 1
        if part:
            maxes[i] = part[-1]
        else:
            del self._lists[i]
            del maxes[i]

    def irange(
        self,
        low: Any = None,
        high: Any = None,
        *,
        low_open: bool = False,
        high_open: bool = False,
        reverse: bool = False,
    ) -> Iterator[Any]:
        """Values from ``low`` to ``high`` (``None``: unbounded; ``*_open``: excluded)."""
        lists, maxes = self._lists, self._maxes
        if reverse:
            yield from self._descending(low, high, low_open=low_open, high_open=high_open)
            return
        if low is None:
            i = j = 0
        else:
            cut = bisect_right if low_open else bisect_left
            i = cut(maxes, low)
            if i == len(maxes):
                return
            j = cut(lists[i], low)
        for n in range(i, len(lists)):
            part = lists[n]
            for value in part[j:] if j else part:
                if high is not None and (value >= high if high_open else value > high):
                    return
                yield value
            j = 0

    def _descending(self, low: Any, high: Any, *, low_open: bool, high_open: bool) -> Iterator[Any]:
        lists, maxes = self._lists, self._maxes
        if not lists:
            return
        if high is None:
            i, j = len(lists) - 1, len(lists[-1])
        else:
            cut = bisect_left if high_open else bisect_right
            i = min(bisect_left(maxes, high), len(lists) - 1)
            j = cut(lists[i], high)
        for n in range(i, -1, -1):
            part = lists[n]
            stop = j if n == i else len(part)
            for k in range(stop - 1, -1, -1):
                value = part[k]
                if low is not None and (value <= low if low_open else value < low):
                    return
                yield value

    def __iter__(self) -> Iterator[Any]:
        for part in self._lists:
            yield from part

    def __contains__(self, value: object) -> bool:
        maxes = self._maxes
        i = bisect_left(maxes, value)
        if i == len(maxes):
            return False
        part = self._lists[i]
        j = bisect_left(part, value)
        return j < len(part) and part[j] == value


class FieldIndex:
    """One index field of a kind: the keys holding each value, and the sorted values
    (numbers and text apart, so that a field never compares the two)."""

    __slots__ = ("keys", "numbers", "texts")

    def __init__(self) -> None:
        self.keys: dict[IndexValue, set[str]] = {}
        self.numbers = SortedValues()
        self.texts = SortedValues()

    def sorted_values(self, sample: object) -> SortedValues:
        """The sorted values of ``sample``'s class (text or number)."""
        return self.texts if isinstance(sample, str) else self.numbers

    def add(self, value: IndexValue, key: str) -> None:
        """Note that a version of ``key`` holds ``value``."""
        holders = self.keys.get(value)
        if holders is None:
            self.keys[value] = {key}
            if value is not None:
                self.sorted_values(value).add(value)
        else:
            holders.add(key)

    def discard(self, value: IndexValue, key: str) -> None:
        """Note that no retained version of ``key`` holds ``value`` any more."""
        holders = self.keys.get(value)
        if holders is None:
            return
        holders.discard(key)
        if not holders:
            del self.keys[value]
            if value is not None:
                self.sorted_values(value).remove(value)

    @classmethod
    def built(cls, holders: dict[IndexValue, set[str]]) -> FieldIndex:
        """An index of ``{value: keys}`` built at once."""
        index = cls()
        index.keys = holders
        index.numbers = SortedValues(v for v in holders if v is not None and not isinstance(v, str))
        index.texts = SortedValues(v for v in holders if isinstance(v, str))
        return index


class KindIndex:
    """Every index of one kind: its stored keys in order and one :class:`FieldIndex` per
    declared index field.

    ``multi`` holds the keys whose chain keeps more than one version and ``changed`` the
    last commit that wrote the kind: while ``multi`` is empty the indexes are exact for
    every snapshot from ``changed`` on (each key has one version, and it holds exactly
    the values it is indexed under).
    """

    __slots__ = ("changed", "fields", "keys", "multi")

    def __init__(self, fields: Sequence[str] = ()) -> None:
        self.keys = SortedValues()
        self.fields: dict[str, FieldIndex] = {name: FieldIndex() for name in fields}
        self.multi: set[str] = set()
        self.changed = 0

    @classmethod
    def built(
        cls, fields: Sequence[str], chains: Iterable[tuple[str, Sequence[_Indexed]]]
    ) -> KindIndex:
        """The index of a kind's stored chains, built at once (after a schema change)."""
        holders: dict[str, dict[IndexValue, set[str]]] = {name: {} for name in fields}
        keys: list[str] = []
        chains_kept = list(chains)
        for key, chain in chains_kept:
            keys.append(key)
            for entry in chain:
                if entry.deleted:
                    continue
                index = entry.index
                for name, values in holders.items():
                    values.setdefault(index.get(name), set()).add(key)
        kind_index = cls()
        kind_index.keys = SortedValues(keys)
        kind_index.multi = {key for key, chain in chains_kept if len(chain) > 1}
        kind_index.fields = {name: FieldIndex.built(v) for name, v in holders.items()}
        return kind_index

    def add(self, key: str, entry: _Indexed, previous: _Indexed | None = None) -> None:
        """Index a newly committed version of ``key``.

        ``previous``: the version it follows, still retained. The key is already indexed
        under each value ``previous`` holds, so only the fields whose value changed are
        touched (an update that changes one field does the work of one).
        """
        index = entry.index
        if previous is None or previous.deleted:
            for name, field in self.fields.items():
                field.add(index.get(name), key)
            return
        before = previous.index
        for name, field in self.fields.items():
            value = index.get(name)
            if value != before.get(name):
                field.add(value, key)

    def drop(self, key: str, entry: _Indexed, remaining: Sequence[_Indexed]) -> None:
        """Unindex a dropped version of ``key``, keeping what ``remaining`` versions hold."""
        index = entry.index
        kept = [r.index for r in remaining if not r.deleted]
        for name, field in self.fields.items():
            value = index.get(name)
            for other in kept:
                if other.get(name) == value:
                    break
            else:
                field.discard(value, key)
