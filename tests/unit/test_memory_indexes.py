"""The memory backend's indexes answer exactly what a scan of the snapshot would.

The indexes (``csdomain_memory._index``) are kept at commit and hold every key one of whose
retained versions has a value; readers check each candidate's visible version. These tests
compare ``find`` and ``count`` with a brute-force model of every open snapshot over random
histories of overlapping transactions, and check the sorted-value structure on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import CsDomainError
from csdomain.store.spi import Filter, IndexValue, KindSchema, Row
from csdomain_memory import MemoryBackend, MemoryTransaction
from csdomain_memory._index import SortedValues


KIND = "thing"
SCHEMA = KindSchema(KIND, (("n", "integer"), ("t", "text"), ("r", "real")))
KEYS = [f"k{i}" for i in range(5)]
VALUES: dict[str, list[IndexValue]] = {
    "key": [*KEYS, "k", "k9", ""],
    "n": [None, 0, 1, 2, 3],
    "t": [None, "", "a", "ab", "é"],
    "r": [None, -1.5, 2, 2.5],
}
Doc = dict[str, IndexValue]


def _reindex(doc: Any) -> Mapping[str, IndexValue]:
    return dict(doc)


def _open(backend: MemoryBackend) -> MemoryTransaction:
    tx = backend.begin()
    tx.ensure_kind(SCHEMA, _reindex)
    return tx


def _matches(filters: Sequence[Filter], key: str, doc: Doc) -> bool:
    """The SPI's filter semantics, written plainly (``None`` only matches eq/ne/in)."""
    for f in filters:
        value = key if f.field == "key" else doc.get(f.field)
        if f.op == "eq":
            ok = value == f.value
        elif f.op == "ne":
            ok = value != f.value
        elif f.op == "in":
            ok = value in f.value
        elif value is None:
            ok = False
        else:
            ok = {
                "lt": value < f.value,
                "le": value <= f.value,
                "gt": value > f.value,
                "ge": value >= f.value,
            }[f.op]
        if not ok:
            return False
    return True


def _expected(
    state: Mapping[str, tuple[int, Doc]],
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int,
) -> list[tuple[str, int, Doc]]:
    """What a scan of ``state`` returns: ``None`` first ascending, last descending."""
    rows = [(k, v, d) for k, (v, d) in state.items() if _matches(filters, k, d)]
    for field, desc in reversed(order_by):

        def part(row: tuple[str, int, Doc], field: str = field) -> tuple[bool, Any]:
            value = row[0] if field == "key" else row[2].get(field)
            return (value is not None, value if value is not None else 0)

        rows.sort(key=part, reverse=desc)
    end = None if limit is None else offset + limit
    return rows[offset:end]


values_of = {name: st.sampled_from(options) for name, options in VALUES.items()}
docs = st.fixed_dictionaries({name: values_of[name] for name in ("n", "t", "r")})


@st.composite
def filters(draw: st.DrawFn) -> tuple[Filter, ...]:
    found = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        field = draw(st.sampled_from(["key", "n", "n", "t", "r"]))
        op = draw(st.sampled_from(["eq", "ne", "in", "lt", "le", "gt", "ge"]))
        if op == "in":
            value: Any = tuple(draw(st.lists(values_of[field], max_size=3)))
        elif op in ("eq", "ne"):
            value = draw(values_of[field])
        else:
            value = draw(values_of[field].filter(lambda v: v is not None))
        found.append(Filter(field, op, value))  # type: ignore[arg-type]
    return tuple(found)


@st.composite
def orders(draw: st.DrawFn) -> tuple[tuple[str, bool], ...]:
    fields = draw(st.lists(st.sampled_from(["n", "t", "r", "key"]), max_size=2, unique=True))
    order = [(field, draw(st.booleans())) for field in fields]
    if all(field != "key" for field, _ in order):
        order.append(("key", False))
    return tuple(order)


class _Model:
    """Committed states by commit, and each open transaction's snapshot and own writes."""

    def __init__(self) -> None:
        self.committed: dict[str, tuple[int, Doc]] = {}
        self.open: list[tuple[MemoryTransaction, dict[str, tuple[int, Doc]], dict[str, Any]]] = []

    def begin(self, backend: MemoryBackend) -> None:
        self.open.append((_open(backend), dict(self.committed), {}))

    def view(self, n: int) -> dict[str, tuple[int, Doc]]:
        _, snapshot, own = self.open[n]
        state = dict(snapshot)
        for key, written in own.items():
            if written is None:
                state.pop(key, None)
            else:
                state[key] = written
        return state


def _write(model: _Model, n: int, key: str, doc: Doc) -> None:
    tx, _, own = model.open[n]
    current = model.view(n).get(key)
    if current is None:
        tx.insert(KIND, [Row(key, doc, doc)])
        own[key] = (1, doc)
    elif doc["n"] == 3:  # some writes delete instead
        tx.delete(KIND, key, current[0])
        own[key] = None
    else:
        tx.update(KIND, Row(key, doc, doc), current[0])
        own[key] = (current[0] + 1, doc)


def _commit(model: _Model, n: int) -> None:
    tx, snapshot, own = model.open.pop(n)
    conflict = any(
        model.committed.get(key, (None,))[0] != snapshot.get(key, (None,))[0] for key in own
    )
    if conflict:
        with pytest.raises(CsDomainError):
            tx.commit()
        return
    tx.commit()
    for key, written in own.items():
        if written is None:
            model.committed.pop(key, None)
        else:
            model.committed[key] = written


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(
                ["begin", "write", "write", "commit", "commit", "rollback", "query"] + ["query"] * 3
            ),
            st.integers(0, 3),
            st.sampled_from(KEYS),
            docs,
            filters(),
            orders(),
            st.sampled_from([None, 0, 1, 1, 2, 2, 3]),
            st.integers(0, 3),
        ),
        min_size=20,
        max_size=80,
    )
)
def test_find_and_count_agree_with_a_scan_of_every_snapshot(steps: list[Any]) -> None:
    # Rule: an index answers what a scan of the transaction's snapshot (plus its own
    # writes) answers, whatever other transactions committed meanwhile (snapshot isolation).
    backend = MemoryBackend()
    model = _Model()
    for op, which, key, doc, where, order, limit, offset in steps:
        if op == "begin" or not model.open:
            model.begin(backend)
            if op == "begin":
                continue
        n = which % len(model.open)
        tx = model.open[n][0]
        if op == "write":
            _write(model, n, key, doc)
        elif op == "commit":
            _commit(model, n)
        elif op == "rollback":
            model.open.pop(n)[0].rollback()
        else:
            got = list(tx.find(KIND, where, order, limit, offset))
            assert got == _expected(model.view(n), where, order, limit, offset)
            assert tx.count(KIND, where) == len(_expected(model.view(n), where, order, None, 0))
    for tx, _, _ in model.open:
        tx.rollback()
    reader = _open(backend)
    for field, options in VALUES.items():
        for value in options:
            where = (Filter(field, "eq", value),)
            got = list(reader.find(KIND, where, ((field, True), ("key", False)), None, 0))
            assert got == _expected(
                model.committed, where, ((field, True), ("key", False)), None, 0
            )
            assert reader.count(KIND, where) == len(got)


def _store(rows: dict[str, Doc]) -> MemoryBackend:
    backend = MemoryBackend()
    tx = _open(backend)
    tx.insert(KIND, [Row(key, doc, doc) for key, doc in rows.items()])
    tx.commit()
    return backend


def _keys(tx: MemoryTransaction, *where: Filter, limit: int | None = None) -> list[str]:
    return [key for key, _, _ in tx.find(KIND, where, (("key", False),), limit, 0)]


def test_a_snapshot_keeps_finding_the_values_it_began_with() -> None:
    # Rule: a unit of work reads the snapshot it began with; an index changed by a later
    # commit still answers for the older snapshot.
    backend = _store({"k1": {"n": 1, "t": "a", "r": 0.0}})
    before = _open(backend)
    writer = _open(backend)
    writer.update(KIND, Row("k1", {"n": 2, "t": "b", "r": 0.0}, {"n": 2, "t": "b", "r": 0.0}), 1)
    writer.commit()
    after = _open(backend)
    assert _keys(before, Filter("n", "eq", 1)) == ["k1"]
    assert _keys(before, Filter("n", "eq", 2)) == []
    assert _keys(after, Filter("n", "eq", 1)) == []
    assert _keys(after, Filter("n", "eq", 2)) == ["k1"]
    assert before.count(KIND, (Filter("t", "ge", "b"),)) == 0
    assert after.count(KIND, (Filter("t", "ge", "b"),)) == 1


def test_old_versions_and_their_index_entries_go_when_the_last_reader_ends() -> None:
    # Rule: a replaced object's old version is dropped as soon as no unit of work that
    # began before the change still reads it (what purge_erased relies on in memory).
    backend = _store({"k1": {"n": 1, "t": "secret", "r": 0.0}})
    reader = _open(backend)
    writer = _open(backend)
    writer.update(KIND, Row("k1", {"n": 1, "t": "", "r": 0.0}, {"n": 1, "t": "", "r": 0.0}), 1)
    writer.commit()
    assert len(backend._data[KIND]["k1"]) == 2
    reader.rollback()
    assert len(backend._data[KIND]["k1"]) == 1
    texts = backend._indexes[KIND].fields["t"]
    assert "secret" not in texts.keys
    assert list(texts.texts) == [""]


def test_a_deleted_object_leaves_the_key_index() -> None:
    # Rule: a deleted object is found by no query, by key or by value.
    backend = _store({"k1": {"n": 1, "t": "a", "r": 0.0}, "k2": {"n": 1, "t": "a", "r": 0.0}})
    tx = _open(backend)
    tx.delete(KIND, "k1", 1)
    tx.commit()
    reader = _open(backend)
    assert _keys(reader, Filter("n", "eq", 1)) == ["k2"]
    assert _keys(reader, Filter("key", "ge", "k"), limit=5) == ["k2"]
    assert reader.count(KIND, ()) == 1
    assert "k1" not in backend._indexes[KIND].keys


def test_a_prefix_range_counts_only_the_codes_that_start_with_it() -> None:
    # Rule: a prefix filter is the range [prefix, prefix with its last character raised)
    # (how the customer desk counts codes of a city and month).
    codes = ["WH-202601-a-001", "WH-202601-b-002", "WH-202602-a-001", "WH-20260", "WI-1"]
    backend = _store({f"k{i}": {"n": i, "t": code, "r": 0.0} for i, code in enumerate(codes)})
    tx = _open(backend)
    where = (Filter("t", "ge", "WH-202601-"), Filter("t", "lt", "WH-202601."))
    assert tx.count(KIND, where) == 2
    assert _keys(tx, *where) == ["k0", "k1"]


def test_a_changed_index_declaration_reindexes_stored_objects() -> None:
    # Rule: a kind whose indexes changed is re-indexed (its values recomputed) before use.
    backend = _store({"k1": {"n": 1, "t": "a", "r": 0.0}})
    tx = backend.begin()
    wider = KindSchema(KIND, (*SCHEMA.indexes, ("twice", "integer")))
    tx.ensure_kind(wider, lambda doc: {**doc, "twice": doc["n"] * 2})
    assert _keys(tx, Filter("twice", "eq", 2)) == ["k1"]
    assert tx.count(KIND, (Filter("twice", "eq", 2),)) == 1


def test_an_ordered_walk_with_a_limit_sees_the_transactions_own_writes() -> None:
    # Rule: a query's own uncommitted writes take part in its order and limit.
    backend = _store({f"k{i}": {"n": i, "t": "a", "r": 0.0} for i in range(1, 6)})
    tx = _open(backend)
    tx.insert(KIND, [Row("k0", {"n": 9, "t": "a", "r": 0.0}, {"n": 9, "t": "a", "r": 0.0})])
    tx.update(KIND, Row("k3", {"n": -1, "t": "a", "r": 0.0}, {"n": -1, "t": "a", "r": 0.0}), 1)
    by_n = [key for key, _, _ in tx.find(KIND, (), (("n", True), ("key", False)), 2, 0)]
    assert by_n == ["k0", "k5"]
    by_key = [key for key, _, _ in tx.find(KIND, (), (("key", False),), 2, 0)]
    assert by_key == ["k0", "k1"]
    lowest = [key for key, _, _ in tx.find(KIND, (), (("n", False), ("key", False)), 1, 0)]
    assert lowest == ["k3"]


def _walked(tx: MemoryTransaction, field: str, limit: int) -> list[str]:
    """Keys found in the order of ``field`` (``-field``: descending), at most ``limit``."""
    order = ((field.lstrip("-"), field.startswith("-")), ("key", False))
    return [key for key, _, _ in tx.find(KIND, (), order, limit, 0)]


def test_an_ordered_walk_puts_none_first_ascending_and_last_descending() -> None:
    # Rule: None sorts first ascending and last descending, also when a limit stops the
    # walk of an index early.
    docs = {"k1": 1, "k2": None, "k3": 0, "k4": 2}
    backend = _store({k: {"n": n, "t": "a", "r": 0.0} for k, n in docs.items()})
    tx = _open(backend)
    assert _walked(tx, "n", 2) == ["k2", "k3"]
    assert _walked(tx, "-n", 1) == ["k4"]
    assert _walked(tx, "-n", 4) == ["k4", "k1", "k3", "k2"]


def test_an_ordered_walk_follows_the_values_its_snapshot_sees() -> None:
    # Rule: an older snapshot walks in the order of the values it sees, each object once,
    # though the index also holds the newer values another transaction committed.
    docs = {"k1": 1, "k2": 2, "k3": 0}
    backend = _store({k: {"n": n, "t": "a", "r": 0.0} for k, n in docs.items()})
    before = _open(backend)
    writer = _open(backend)
    writer.update(KIND, Row("k1", {"n": 3, "t": "a", "r": 0.0}, {"n": 3, "t": "a", "r": 0.0}), 1)
    writer.commit()
    after = _open(backend)
    assert _walked(before, "-n", 3) == ["k2", "k1", "k3"]
    assert _walked(after, "-n", 3) == ["k1", "k2", "k3"]
    assert _walked(before, "n", 2) == ["k3", "k1"]


@given(
    values=st.lists(st.integers(-50, 50), max_size=60),
    removed=st.lists(st.integers(-50, 50), max_size=30),
    low=st.one_of(st.none(), st.integers(-60, 60)),
    high=st.one_of(st.none(), st.integers(-60, 60)),
    low_open=st.booleans(),
    high_open=st.booleans(),
    reverse=st.booleans(),
)
def test_sorted_values_walk_ranges_like_a_sorted_list(
    *,
    values: list[int],
    removed: list[int],
    low: int | None,
    high: int | None,
    low_open: bool,
    high_open: bool,
    reverse: bool,
) -> None:
    # Rule: the sorted values walk any range in either direction, whatever was added and
    # removed (the structure under range and prefix filters and ordered walks).
    import csdomain_memory._index as index_module

    saved = index_module._LOAD
    index_module._LOAD = 3  # small sublists, so splits and merges happen
    try:
        walked = SortedValues()
        model: set[int] = set()
        for value in values:
            if value not in model:
                walked.add(value)
                model.add(value)
        for value in removed:
            walked.remove(value)
            model.discard(value)
        expected = [
            v
            for v in sorted(model, reverse=reverse)
            if (low is None or (v > low if low_open else v >= low))
            and (high is None or (v < high if high_open else v <= high))
        ]
        got = walked.irange(low, high, low_open=low_open, high_open=high_open, reverse=reverse)
        assert list(got) == expected
        assert len(walked) == len(model)
        assert list(walked) == sorted(model)
        assert all(v in walked for v in model)
        assert all((v in walked) == (v in model) for v in removed)
    finally:
        index_module._LOAD = saved


@given(
    st.lists(
        st.tuples(st.sampled_from(KEYS[:3]), docs, st.booleans(), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_indexes_name_exactly_the_stored_values_once_no_reader_holds_older_ones(
    steps: list[tuple[str, Doc, bool, bool]],
) -> None:
    # Invariant: a commit indexes only the fields an update changed (the key is already
    # indexed under the values it keeps), yet once the readers of older versions are gone
    # every field index maps each value to exactly the keys whose stored version holds
    # it, and its sorted values are exactly those values: nothing missing, nothing stale.
    backend = _store({key: {"n": 0, "t": "", "r": None} for key in KEYS[:3]})
    versions = dict.fromkeys(KEYS[:3], 1)
    current: dict[str, Doc] = {key: {"n": 0, "t": "", "r": None} for key in KEYS[:3]}
    readers = []
    for key, doc, hold_reader, release in steps:
        if hold_reader:
            readers.append(_open(backend))
        writer = _open(backend)
        versions[key] = writer.update(KIND, Row(key, doc, doc), versions[key])
        writer.commit()
        current[key] = doc
        if release and readers:
            readers.pop(0).rollback()
        reader = _open(backend)
        for name, options in VALUES.items():
            for value in options if name != "key" else ():
                want = sorted(k for k, d in current.items() if d[name] == value)
                assert _keys(reader, Filter(name, "eq", value)) == want
        reader.rollback()
    for reader in readers:
        reader.rollback()
    index = backend._indexes[KIND]
    for name, field in index.fields.items():
        holders: dict[IndexValue, set[str]] = {}
        for key, doc in current.items():
            holders.setdefault(doc[name], set()).add(key)
        assert field.keys == holders, name
        values = [v for v in holders if v is not None]
        assert sorted(field.texts) == sorted(v for v in values if isinstance(v, str))
        assert sorted(field.numbers) == sorted(v for v in values if not isinstance(v, str))
