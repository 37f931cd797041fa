"""Store kernel rules that hold on every backend: index values and unit-of-work bookkeeping."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import CsDomainError, ValidationError
from csdomain.kinds import ORDERS
from csdomain.store import (
    Index,
    Kind,
    KindRegistry,
    Repository,
    Store,
    UnitOfWork,
    normalize_index_value,
    open_store,
    parse_order,
    short_repr,
)
from csdomain.store.codec import NOT_UNICODE, unencodable
from csdomain.store.schema import QueryPlans, check_paging, parse_where
from csdomain.store.sql import _select_text, count_sql, select_sql, where_sql
from csdomain.store.transfer import export_lines, import_store
from csdomain_sqlite.backend import SQLITE


def test_index_datetimes_are_fixed_width_utc_text_so_text_order_is_time_order() -> None:
    """Rule: a datetime index value is a fixed-width UTC ISO string, for every year."""
    moments = [
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 3, 1, 1, 0, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    texts = [normalize_index_value(m) for m in moments]
    assert texts[0] == "0999-01-01T00:00:00.000000+00:00"
    assert texts[1] == "2026-03-01T00:00:00.000000+00:00"
    assert {len(t) for t in texts if isinstance(t, str)} == {32}
    assert texts == sorted(texts)


def test_index_values_refuse_naive_datetimes_and_unindexable_values() -> None:
    """Rule: bad input gets a ValidationError with the bad field's path."""
    with pytest.raises(ValidationError) as caught:
        normalize_index_value(datetime(2026, 1, 1), "placed_at")
    assert caught.value.errors[0][0] == "placed_at"
    with pytest.raises(ValidationError, match="cannot index a bytes value"):
        normalize_index_value(b"x", "blob")
    assert normalize_index_value(value=True) == 1
    assert normalize_index_value(date(2026, 1, 2)) == "2026-01-02"


@attrs.frozen
class _Thing:
    id: str
    size: int
    label: str = ""
    at: datetime | None = None


_THINGS = Kind("thing", _Thing, indexes=[Index("size", "integer"), "at"])
_MISDECLARED = Kind("misdeclared", _Thing, indexes=[Index("label", "integer")])


def test_an_index_value_of_the_wrong_column_type_is_refused_at_add() -> None:
    """Rule: a stored document's index values match their declared column types."""
    kinds = KindRegistry()
    kinds.register(_THINGS)
    kinds.register(_MISDECLARED)
    with Store(open_store("memory://").backend, kinds=kinds) as store:
        with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
            uow.repo(_MISDECLARED).add(_Thing("a", 1, "big"))
        assert caught.value.errors == [("label", "index 'label' holds integer values, got str")]
        with store.unit_of_work() as uow:
            uow.repo(_THINGS).add(_Thing("b", 3, datetime(2026, 1, 1, tzinfo=UTC)))
        with store.unit_of_work(readonly=True) as uow:
            assert [t.id for t in uow.repo(_THINGS).find(size=3)] == ["b"]
            assert uow.repo(_THINGS).count() == 1


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_a_read_only_scan_keeps_no_per_row_bookkeeping(url: str) -> None:
    """Rule: streaming a kind in a read-only unit of work uses bounded memory."""
    kinds = KindRegistry()
    kinds.register(_THINGS)
    with Store(open_store(url).backend, kinds=kinds) as store:
        with store.unit_of_work() as uow:
            uow.repo(_THINGS).add_many(_Thing(f"t{n}", n) for n in range(300))
        with store.unit_of_work(readonly=True) as uow:
            assert sum(1 for _ in uow.repo(_THINGS).scan()) == 300
            uow.repo(_THINGS).get("t1")
            assert uow.versions == {}
        with store.unit_of_work() as uow:
            assert sum(1 for _ in uow.repo(_THINGS).scan(size__lt=10)) == 10
            assert len(uow.versions) == 10


# -- the store keeps only what it can read back (issue #14) ------------------------------------


@attrs.frozen
class _Step:
    note: str
    at: datetime | None = None


@attrs.frozen
class _Case:
    id: str
    history: tuple[_Step, ...] = ()
    score: float = 0.0


_CASES = Kind("case", _Case)
_BACKENDS = ["memory://", "sqlite://"]


def _case_store(url: str) -> Store:
    kinds = KindRegistry()
    kinds.register(_CASES)
    return Store(open_store(url).backend, kinds=kinds)


def _refusal(store: Store, write: Callable[[Repository[_Case]], object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
        write(uow.repo(_CASES))
    return caught.value.errors


@pytest.mark.parametrize("url", _BACKENDS)
def test_a_document_that_cannot_be_read_back_is_refused_at_add(url: str) -> None:
    """Rule: a document the converter could not read back is refused, naming the field,
    and the store stays readable and exportable (the warranty history of issue #14)."""
    steps = (_Step("a"), _Step("b"), _Step("c"), _Step(1.5))  # type: ignore[arg-type]
    bad = _Case("c1", history=steps)
    with _case_store(url) as store:
        assert _refusal(store, lambda repo: repo.add(bad)) == [
            ("history.3.note", "expected a string, got float")
        ]
        assert _refusal(store, lambda repo: repo.add_many([_Case("c0"), bad])) == [
            ("history.3.note", "expected a string, got float")
        ]
        with store.unit_of_work() as uow:
            uow.repo(_CASES).add(_Case("c2", history=steps[:3]))
        assert _refusal(
            store, lambda repo: repo.update(attrs.evolve(repo.get("c2"), history=steps))
        ) == [("history.3.note", "expected a string, got float")]
        with store.unit_of_work(readonly=True) as uow:
            assert [c.id for c in uow.repo(_CASES).find()] == ["c2"]
            assert uow.repo(_CASES).get_with_version("c2") == (_Case("c2", history=steps[:3]), 1)
        exported = list(export_lines(store))
        with _case_store("memory://") as copy:
            import_store(copy, exported)
            assert list(export_lines(copy)) == exported


@pytest.mark.parametrize(
    ("case", "errors"),
    [
        (
            _Case("c", (_Step("x", at="noon"),)),  # type: ignore[arg-type]
            [("history.0.at", "expected datetime or None, got str")],
        ),
        (_Case("c", (_Step("lone \ud800"),)), [("history.0.note", NOT_UNICODE)]),
        (
            _Case("c", (_Step("x"),), score=2**64),
            [("score", "an integer beyond 64 bits cannot be stored")],
        ),
        (
            _Case("c", score=float("nan")),
            [("score", "NaN and infinity cannot be stored (JSON has no such numbers)")],
        ),
        (_Case("\udfff"), [("id", NOT_UNICODE)]),
        (_Case("c", history=[_Step("x"), "step"]), [("history.1", "expected _Step, got str")]),  # type: ignore[arg-type]
    ],
)
def test_the_memory_backend_refuses_exactly_what_sqlite_refuses(
    case: _Case, errors: list[tuple[str, str]]
) -> None:
    """Rule: the read-back check runs in the core, so every backend refuses the same."""
    for url in _BACKENDS:
        with _case_store(url) as store:
            assert _refusal(store, lambda repo: repo.add(case)) == errors, url
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(_CASES).count() == 0


def test_the_first_value_json_cannot_hold_is_named() -> None:
    """Rule: bad input gets a ValidationError with the bad field's path."""
    data = {"a": [1, {"b": "fine", "c": "bad \ud800"}], "d": 2**70}
    assert unencodable(data, TypeError()).errors == [("a.1.c", NOT_UNICODE)]
    assert unencodable({"n": [0, 2**64]}, TypeError()).errors == [
        ("n.1", "an integer beyond 64 bits cannot be stored")
    ]
    assert unencodable({"k": {1: "x"}}, TypeError()).errors[0][0] == "k"
    assert unencodable({"b": b"x"}, TypeError()).errors == [
        ("b", "a bytes value cannot be stored as JSON")
    ]


# -- only CsDomainError leaves store code --------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "offset", "path"),
    [
        (1.5, 0, "limit"),
        (-1, 0, "limit"),
        (True, 0, "limit"),
        ("1", 0, "limit"),
        (2**63, 0, "limit"),
        (None, "1", "offset"),
        (None, -1, "offset"),
        (None, False, "offset"),
        (None, None, "offset"),
    ],
)
def test_paging_arguments_are_checked_naming_the_argument(
    limit: object, offset: object, path: str
) -> None:
    """Rule: bad input gets a ValidationError with the bad argument's name."""
    with pytest.raises(ValidationError) as caught:
        check_paging(limit, offset)
    assert caught.value.errors[0][0] == path
    check_paging(None, 0)
    check_paging(0, 2**63 - 1)


@pytest.mark.parametrize("order_by", [123, [1], ("rank", None), b"size", "nope", ["-nope"]])
def test_order_by_takes_field_names_only(order_by: object) -> None:
    """Rule: bad input gets a ValidationError with the bad argument's name."""
    with pytest.raises(ValidationError) as caught:
        parse_order(_THINGS, order_by)
    assert caught.value.errors[0][0] == "order_by"
    assert parse_order(_THINGS, ["-size"]) == (("size", True), ("key", False))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a\x00b.db",
        "memory://a\x00b",
        "postgresql://h/a\x00b",
        "sqlite:///lone-\ud800.db",
        "sqlite:///x.db?busy_timeout=1e3",
        "sqlite:///x.db?cache_size=99999999999999999999",
        "sqlite:///x.db?colour=blue",
        "sqlite:///x.db#part",
        "sqlite://[::1/x.db",
        "memory://name?size=3",
        "memory://name#part",
        "postgresql://h/db?pool_timeout=nan",
        "postgresql://h/db?pool_size=1_0",
        "postgresql://h/db?connect_timeout=99999999999999999999",
        "postgresql://h/d%00b",
        "postgresql://h/db?sslmode=%00",
        "postgresql://[::1/db",
    ],
)
def test_a_malformed_store_url_is_a_validation_error(url: str, tmp_path: Path) -> None:
    """Rule: only CsDomainError leaves the library; a bad URL is a ValidationError."""
    with pytest.raises(ValidationError) as caught:
        open_store(url.replace("x.db", f"{tmp_path}/x.db"))
    assert len(str(caught.value)) < 200
    assert list(tmp_path.iterdir()) == []


def test_error_messages_stay_short_whatever_the_input() -> None:
    """Rule: an error message never repeats a huge or deeply nested value."""
    huge = "x" * 1_000_000
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    kinds = KindRegistry()
    kinds.register(_THINGS)
    with Store(open_store("memory://").backend, kinds=kinds) as store:
        attempts: list[Callable[[], object]] = [
            lambda: open_store(huge),
            lambda: open_store(f"memory:{huge}"),
            lambda: kinds.get(huge),
        ]
        with store.unit_of_work() as uow:
            repo = uow.repo(_THINGS)
            attempts += [
                lambda: repo.find(**{huge: 1}),
                lambda: repo.find(**{f"size__{huge}": 1}),
                lambda: repo.find(order_by=huge),
                lambda: repo.find(limit=10**1000),
                lambda: repo.find(size=deep),
                lambda: repo.update(_Thing(huge, 1)),
                lambda: import_store(
                    store,
                    [
                        b'{"format": "csdomain-export", "version": 1}',
                        orjson.dumps({"kind": huge, "key": "k", "version": 1, "doc": {}}),
                    ],
                ),
            ]
            for attempt in attempts:
                with pytest.raises(CsDomainError) as caught:
                    attempt()
                assert len(str(caught.value)) < 400, str(caught.value)[:200]
    assert len(short_repr(deep)) < 100
    assert len(short_repr(huge)) < 100


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_after_commit_callbacks_run_once_the_unit_of_work_committed_never_after_a_rollback(
    url: str,
) -> None:
    # Rule: work that must follow a commit (purging erased bytes) never runs for writes
    # that were rolled back.
    store = open_store(url)
    calls: list[str] = []
    try:
        with store.unit_of_work() as uow:
            uow.after_commit(lambda: calls.append("first"))
            uow.after_commit(lambda: calls.append("second"))
            assert calls == []
        assert calls == ["first", "second"]

        def fail(uow: UnitOfWork) -> None:
            uow.after_commit(lambda: calls.append("rolled back"))
            raise KeyError("boom")

        with pytest.raises(KeyError):
            run_in(store, fail)
        with pytest.raises(ValidationError), store.unit_of_work(readonly=True) as uow:
            uow.after_commit(lambda: calls.append("read-only"))
        assert calls == ["first", "second"]
    finally:
        store.close()


def run_in(store: Store, work: Callable[[UnitOfWork], None]) -> None:
    """Run ``work`` in a writing unit of work of ``store``."""
    with store.unit_of_work() as uow:
        work(uow)


class _NoPurge:
    """A backend without the optional purge_erased."""

    stores_objects = True
    url = "nopurge://"

    def __init__(self) -> None:
        self.inner = open_store("memory://").backend

    def begin(self, *, readonly: bool = False) -> Any:
        return self.inner.begin(readonly=readonly)

    def close(self) -> None:
        self.inner.close()


def test_purge_erased_says_whether_the_backend_could_purge() -> None:
    # Rule: purge_erased is optional in the SPI; the bundled backends offer it.
    assert Store(_NoPurge()).purge_erased(["customer"]) is False
    for url in ("memory://", "sqlite://"):
        store = open_store(url)
        try:
            assert store.purge_erased(["customer"]) is True
            with pytest.raises(ValidationError):
                store.purge_erased([7])  # type: ignore[list-item]
        finally:
            store.close()


# -- kinds known set up are not ensured again (issue #15 item 4) -------------------------------


class _Counting:
    """A backend whose transactions count the kinds they are asked to set up."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def begin(self, *, readonly: bool = False) -> Any:
        tx = self._backend.begin(readonly=readonly)
        asked = self.asked
        ensure_kind = tx.ensure_kind

        class Tx:
            def __getattr__(self, name: str) -> Any:
                return getattr(tx, name)

            def ensure_kind(self, schema: Any, reindex: Any) -> None:
                asked.append(schema.name)
                ensure_kind(schema, reindex)

            def ensure_kinds(self, kinds: list[tuple[Any, Any]]) -> None:
                for schema, reindex in kinds:
                    self.ensure_kind(schema, reindex)

        return Tx()


@pytest.mark.parametrize("url", _BACKENDS)
def test_kinds_are_set_up_once_a_writing_unit_of_work_committed(url: str) -> None:
    # Rule: a store does not ensure a kind again once a unit of work that set it up has
    # committed; a rolled-back one leaves it to be ensured again, and a changed kind is.
    kinds = KindRegistry()
    kinds.register(_CASES)
    counting = _Counting(open_store(url).backend)
    store = Store(counting, kinds=kinds)

    def add_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.repo(_CASES).add(_Case("c0"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert counting.asked == ["case"]
    with store.unit_of_work() as uow:
        uow.repo(_CASES).add(_Case("c1"))
    assert counting.asked == ["case", "case"]
    for readonly in (False, True, False):
        with store.unit_of_work(readonly=readonly) as uow:
            assert [c.id for c in uow.repo(_CASES).find()] == ["c1"]
    assert counting.asked == ["case", "case"]
    kinds.register(Kind("case", _Case, indexes=[Index("score", "real")]))
    with store.unit_of_work() as uow:
        assert [c.id for c in uow.repo(kinds.get("case")).find(score=0.0)] == ["c1"]
    assert counting.asked == ["case", "case", "case"]
    store.close()


@pytest.mark.parametrize("url", _BACKENDS)
def test_a_kind_registered_after_every_kind_was_set_up_is_still_ensured(url: str) -> None:
    # Rule: the store skips ensuring only while its registry holds the very kinds it found
    # set up; a kind added later is set up by the next unit of work that writes.
    kinds = KindRegistry()
    kinds.register(_CASES)
    counting = _Counting(open_store(url).backend)
    store = Store(counting, kinds=kinds)
    with store.unit_of_work() as uow:
        uow.repo(_CASES).add(_Case("c1"))
    with store.unit_of_work():
        pass
    assert counting.asked == ["case"]
    kinds.register(_THINGS)
    with store.unit_of_work() as uow:
        uow.repo(_THINGS).add(_Thing("t1", 1))
    assert counting.asked == ["case", "thing"]
    with store.unit_of_work(readonly=True) as uow:
        assert [t.id for t in uow.repo(_THINGS).find(size=1)] == ["t1"]
    store.close()


def test_a_store_keeps_one_codec_per_kind_and_a_new_one_for_a_changed_kind() -> None:
    # Rule: a kind's converter hooks are looked up once per store, not per unit of work;
    # a kind registered anew (another declaration of the same name) gets its own codec.
    kinds = KindRegistry()
    kinds.register(_CASES)
    with Store(open_store("sqlite://").backend, kinds=kinds) as store:
        with store.unit_of_work() as uow:
            first = uow.repo(_CASES)._codec
            uow.repo(_CASES).add(_Case("c1"))
        with store.unit_of_work() as uow:
            assert uow.repo(_CASES)._codec is first
            assert uow.repo(_CASES).get("c1") == _Case("c1")
        changed = kinds.register(Kind("case", _Case, indexes=[Index("score", "real")]))
        assert store.codec(changed) is not first
        with store.unit_of_work() as uow:
            assert uow.repo(changed)._codec is store.codec(changed)
            assert [c.id for c in uow.repo(changed).find(score=0.0)] == ["c1"]


# -- find plans cached by shape (issue #15 item 5) ---------------------------------------------

_WHERE_NAMES = st.sampled_from(
    [
        "status",
        "status__in",
        "status__ne",
        "customer_id",
        "placed_at__ge",
        "key",
        "key__lt",
        "colour",
        "status__like",
        "channel__in",
    ]
)
_WHERE_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["paid", "placed", "", "lone \ud800", 3, 2.5, True]),
    st.lists(st.one_of(st.none(), st.sampled_from(["paid", "online", 4])), max_size=3),
    st.just("paid").map(lambda s: (s,)),
)


def _parsed(parse: Callable[[], object]) -> object:
    try:
        return parse()
    except ValidationError as err:
        return err.errors


@given(st.lists(st.dictionaries(_WHERE_NAMES, _WHERE_VALUES, max_size=3), min_size=1, max_size=4))
def test_cached_query_plans_give_exactly_what_parse_where_gives(
    wheres: list[dict[str, Any]],
) -> None:
    # Rule: a find's filters are checked and normalised exactly as before, whether or not
    # its shape was seen (the same filters, the same errors with their paths).
    plans = QueryPlans(ORDERS)
    for where in wheres * 2:
        cached = _parsed(lambda where=where: plans.filters(where))  # type: ignore[misc]
        assert cached == _parsed(lambda where=where: parse_where(ORDERS, where))  # type: ignore[misc]


@given(
    st.lists(st.dictionaries(_WHERE_NAMES, _WHERE_VALUES, max_size=3), min_size=1, max_size=4),
    st.sampled_from([None, 0, 5]),
    st.sampled_from([0, 3]),
)
def test_cached_sql_text_and_parameters_match_a_fresh_build(
    wheres: list[dict[str, Any]], limit: int | None, offset: int
) -> None:
    # Rule: the SQL text kept per query shape is the text built for these filters, and the
    # parameters are the values in the clause's order.
    for where in wheres:
        try:
            filters = parse_where(ORDERS, where)
        except ValidationError:
            continue
        order = parse_order(ORDERS, None)
        clause, params = where_sql(SQLITE, filters)
        paging = ([limit] if limit is not None else []) + ([offset] if offset else [])
        fresh = _select_text(SQLITE, "order", filters, order, limit, offset, None)
        assert select_sql(SQLITE, "order", filters, order, limit, offset) == (
            fresh,
            params + paging,
        )
        assert clause in fresh
        assert count_sql(SQLITE, "order", filters) == (
            f"SELECT count(*) FROM k_order{clause}",
            params,
        )


def test_opening_a_store_generates_converter_code_only_for_the_classes_it_reads() -> None:
    # Rule: start-up stays cheap: converter code is generated per class at its first use,
    # not for every registered kind when a store opens (issue #15 item 6).
    code = (
        "import linecache\n"
        "from csdomain.store import open_store\n"
        "from csdomain.kinds import ORDERS\n"
        "store = open_store('sqlite://')\n"
        "with store.unit_of_work() as uow:\n"
        "    uow.repo(ORDERS).find()\n"
        "made = [k for k in linecache.cache if k.startswith('<csdomain generated')]\n"
        "print(len(made))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "0"
