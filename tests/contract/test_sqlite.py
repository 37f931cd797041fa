"""The SQLite backend runs the whole conformance kit, on a file and on ``sqlite://``."""

from __future__ import annotations

import io
import itertools
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import attrs
import pytest

import csdomain.kinds
import csdomain.store
from csdomain.errors import AlreadyExists, NotFound, ValidationError
from csdomain.store import Kind, KindRegistry, Store
from csdomain.store.transfer import export_store, import_store
from csdomain.testing import BackendConformance


_DIR = Path(tempfile.mkdtemp(prefix="csdomain-contract-"))
_numbers = itertools.count()


class TestSqliteFileBackend(BackendConformance):
    persistent = True
    overlap_wait = 0.3

    def make_store(self) -> Store:
        return csdomain.store.open_store(f"sqlite:///{_DIR}/store-{next(_numbers)}.db")

    def reopen_store(self, store: Store) -> Store | None:
        url = store.url
        store.close()
        return csdomain.store.open_store(url)


class TestSqliteThrowawayBackend(BackendConformance):
    persistent = False
    overlap_wait = 0.3

    def make_store(self) -> Store:
        return csdomain.store.open_store("sqlite://")


class TestSqliteFullSyncBackend(BackendConformance):
    persistent = True
    overlap_wait = 0.3

    def make_store(self) -> Store:
        return csdomain.store.open_store(
            f"sqlite:///{_DIR}/full-{next(_numbers)}.db?synchronous=full&journal_mode=wal"
        )

    def reopen_store(self, store: Store) -> Store | None:
        url = store.url
        store.close()
        return csdomain.store.open_store(url)


@pytest.fixture(scope="session", autouse=True)
def _cleanup_contract_dir() -> object:
    yield None
    for path in _DIR.glob("*"):
        path.unlink()
    _DIR.rmdir()


def test_cache_size_url_option_sets_the_page_cache_of_every_connection(tmp_path: Path) -> None:
    """Rule: the store keeps a large table's upper B-tree levels cached (``cache_size`` KiB)."""
    with csdomain.store.open_store(f"sqlite:///{tmp_path}/c.db?cache_size=1024") as store:
        backend = store.backend
        conn = backend._acquire()  # type: ignore[attr-defined]
        try:
            assert conn.execute("PRAGMA cache_size").fetchone()[0] == -1024
        finally:
            backend._release(conn)  # type: ignore[attr-defined]
    with csdomain.store.open_store(f"sqlite:///{tmp_path}/d.db") as store:
        assert store.backend.cache_size == 65_536  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["lots", "-5", "1.5"])
def test_bad_cache_size_is_a_validation_error_naming_the_option(tmp_path: Path, value: str) -> None:
    """Rule: bad input gets a ValidationError with the bad field's path."""
    from csdomain.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        csdomain.store.open_store(f"sqlite:///{tmp_path}/e.db?cache_size={value}")
    assert caught.value.errors[0][0] == "cache_size"


@attrs.frozen
class _Gizmo:
    id: str
    a: str
    b: str


def test_a_rolled_back_migration_leaves_the_committed_kind_usable(tmp_path: Path) -> None:
    """Rule: a unit of work that rolls back leaves nothing of itself behind, schema included."""
    v1 = Kind("gizmo", _Gizmo, indexes=["a"])
    v2 = Kind("gizmo", _Gizmo, indexes=["a", "b"])
    old, new = KindRegistry(), KindRegistry()
    old.register(v1)
    with csdomain.store.open_store(f"sqlite:///{tmp_path}/m.db") as opened:
        first, second = Store(opened.backend, kinds=old), Store(opened.backend, kinds=new)
        with first.unit_of_work() as uow:
            uow.repo(v1).add(_Gizmo("g1", "x", "y"))

        def migrate_then_fail() -> None:
            with second.unit_of_work() as uow:
                uow.next_counter("started")
                assert uow.repo(v2).find(b="y") == [_Gizmo("g1", "x", "y")]
                raise LookupError

        with pytest.raises(LookupError):
            migrate_then_fail()
        with first.unit_of_work() as uow:
            uow.repo(v1).add(_Gizmo("g2", "x", "z"))
            assert [g.id for g in uow.repo(v1).find(a="x", order_by="key")] == ["g1", "g2"]
        with second.unit_of_work() as uow:
            uow.next_counter("started")
            assert [g.id for g in uow.repo(v2).find(b="z")] == ["g2"]


# -- a kind's table is created at its first write (issue #15 item 1) ---------------------------


@attrs.frozen
class _Widget:
    id: str
    colour: str
    size: int


_WIDGETS = Kind(
    "widget", _Widget, indexes=["colour", ("size", "integer")], composite=[("colour", "size")]
)
_GIZMOS = Kind("gizmo", _Gizmo, indexes=["a"])


def _registry(*kinds: Kind[Any]) -> KindRegistry:
    registry = KindRegistry()
    for kind in kinds:
        registry.register(kind)
    return registry


def _tables(path: Path) -> set[str]:
    """The kind tables and their indexes that the file holds, by name."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'k_%' OR name LIKE 'x_%'"
        )
        return {str(row[0]) for row in rows}
    finally:
        conn.close()


_WIDGET_OBJECTS = {"k_widget", "x_widget_colour", "x_widget_size", "x_widget_colour_size"}


def test_a_new_store_creates_a_kinds_table_and_indexes_at_its_first_write(tmp_path: Path) -> None:
    """Rule: a new store pays only for the kinds it writes: a kind's table and indexes are
    created by its first write, and reads before it find nothing without creating them."""
    path = tmp_path / "lazy.db"
    with Store(
        csdomain.store.open_store(f"sqlite:///{path}").backend, kinds=_registry(_WIDGETS, _GIZMOS)
    ) as store:
        with store.unit_of_work() as uow:
            repo = uow.repo(_WIDGETS)
            assert repo.find(colour="red") == []
            assert repo.count() == 0
            assert repo.get_or_none("w1") is None
            assert not repo.exists("w1")
            assert list(repo.scan()) == []
            assert list(repo.scan_fields(["colour"], colour="red")) == []
        assert _tables(path) == set()
        with store.unit_of_work() as uow:
            uow.repo(_WIDGETS).add(_Widget("w1", "red", 3))
            assert uow.repo(_WIDGETS).find(colour="red", size=3) == [_Widget("w1", "red", 3)]
        assert _tables(path) == _WIDGET_OBJECTS
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(_WIDGETS).get("w1") == _Widget("w1", "red", 3)
            assert uow.repo(_GIZMOS).find(a="x") == []


def test_a_read_only_unit_of_work_on_a_new_file_writes_nothing(tmp_path: Path) -> None:
    """Rule: a read-only unit of work answers reads of kinds never written as empty and
    creates nothing; writing in it is refused as before."""
    path = tmp_path / "ro.db"
    with csdomain.store.open_store(f"sqlite:///{path}") as store:
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(csdomain.kinds.ORDERS).find(customer_id="C-1") == []
            assert uow.repo(csdomain.kinds.ORDERS).count(status="paid") == 0
            with pytest.raises(ValidationError):
                uow.repo(_GIZMOS).add(_Gizmo("g1", "x", "y"))
        assert _tables(path) == set()


def test_updating_or_deleting_in_a_kind_never_written_is_not_found(tmp_path: Path) -> None:
    """Rule: a version-checked write of a missing document is NotFound, table or not."""
    with (
        Store(
            csdomain.store.open_store(f"sqlite:///{tmp_path}/nf.db").backend,
            kinds=_registry(_GIZMOS),
        ) as store,
        store.unit_of_work() as uow,
    ):
        with pytest.raises(NotFound):
            uow.repo(_GIZMOS).update(_Gizmo("g1", "x", "y"), expected_version=1)
        with pytest.raises(NotFound):
            uow.repo(_GIZMOS).delete("g1", expected_version=1)
        with pytest.raises(NotFound):
            uow.repo(_GIZMOS).delete("g1")


def test_a_rolled_back_first_write_leaves_no_table_and_the_next_one_creates_it(
    tmp_path: Path,
) -> None:
    """Rule: a unit of work that rolls back leaves nothing of itself behind, its kinds'
    tables included; the next first write creates them again."""
    path = tmp_path / "rb.db"
    with Store(
        csdomain.store.open_store(f"sqlite:///{path}").backend, kinds=_registry(_WIDGETS)
    ) as store:

        def add_then_fail() -> None:
            with store.unit_of_work() as uow:
                uow.repo(_WIDGETS).add(_Widget("w1", "red", 3))
                raise LookupError

        with pytest.raises(LookupError):
            add_then_fail()
        assert _tables(path) == set()
        with store.unit_of_work() as uow:
            uow.repo(_WIDGETS).add(_Widget("w2", "blue", 4))
        with store.unit_of_work(readonly=True) as uow:
            assert [w.id for w in uow.repo(_WIDGETS).find()] == ["w2"]
        assert _tables(path) == _WIDGET_OBJECTS


def test_processes_sharing_a_new_file_see_each_others_first_writes(tmp_path: Path) -> None:
    """Rule: several processes on one file work as one store: a kind one of them creates
    by writing it is read and written by the others, which had found it absent."""
    url = f"sqlite:///{tmp_path}/shared.db"
    one = Store(csdomain.store.open_store(url).backend, kinds=_registry(_WIDGETS))
    two = Store(csdomain.store.open_store(url).backend, kinds=_registry(_WIDGETS))
    try:
        for store in (one, two):
            with store.unit_of_work() as uow:
                assert uow.repo(_WIDGETS).count() == 0
        with two.unit_of_work(readonly=True) as reader:
            assert reader.repo(_WIDGETS).find() == []  # its snapshot starts here
            with one.unit_of_work() as uow:
                uow.repo(_WIDGETS).add(_Widget("w1", "red", 3))
            assert reader.repo(_WIDGETS).find() == []  # the snapshot holds no table yet
            assert list(reader.repo(_WIDGETS).scan_fields(["colour"])) == []
        with two.unit_of_work() as uow:
            assert uow.repo(_WIDGETS).get("w1") == _Widget("w1", "red", 3)
            uow.repo(_WIDGETS).add(_Widget("w2", "red", 5))
            with pytest.raises(AlreadyExists):
                uow.repo(_WIDGETS).add(_Widget("w1", "red", 3))
        with one.unit_of_work(readonly=True) as uow:
            assert [w.id for w in uow.repo(_WIDGETS).find(colour="red")] == ["w1", "w2"]
    finally:
        one.close()
        two.close()


def test_a_kind_registered_later_gets_its_table_at_its_first_write(tmp_path: Path) -> None:
    """Rule: kinds registered by plugins after the store opened are stored like the
    others: absent until written, then created with their indexes."""
    path = tmp_path / "plugin.db"
    registry = _registry(_GIZMOS)
    with Store(csdomain.store.open_store(f"sqlite:///{path}").backend, kinds=registry) as store:
        with store.unit_of_work() as uow:
            uow.repo(_GIZMOS).add(_Gizmo("g1", "x", "y"))
        registry.register(_WIDGETS)
        with store.unit_of_work() as uow:
            assert uow.repo(_WIDGETS).find(size=3) == []
        assert "k_widget" not in _tables(path)
        with store.unit_of_work() as uow:
            uow.widgets.add(_Widget("w1", "red", 3))
        assert _tables(path) >= _WIDGET_OBJECTS


def test_a_kind_stored_with_other_indexes_is_migrated_by_the_next_unit_of_work(
    tmp_path: Path,
) -> None:
    """Rule: a stored kind whose declaration gained an index (or a composite index) is
    migrated and reindexed when a writing unit of work starts; kinds never written stay
    absent."""
    path = tmp_path / "mig.db"
    url = f"sqlite:///{path}"
    with (
        Store(csdomain.store.open_store(url).backend, kinds=_registry(_GIZMOS)) as store,
        store.unit_of_work() as uow,
    ):
        uow.repo(_GIZMOS).add(_Gizmo("g1", "x", "y"))
    wider = Kind("gizmo", _Gizmo, indexes=["a", "b"], composite=[("a", "b")])
    with Store(csdomain.store.open_store(url).backend, kinds=_registry(wider, _WIDGETS)) as store:
        with store.unit_of_work():
            pass
        assert {"x_gizmo_b", "x_gizmo_a_b"} <= _tables(path)
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(wider).find(b="y") == [_Gizmo("g1", "x", "y")]
    assert "k_widget" not in _tables(path)


def test_export_of_a_new_store_lists_every_kind_empty_and_import_creates_what_it_brings(
    tmp_path: Path,
) -> None:
    """Rule: export covers every registered kind, written or not; an import writes (and so
    creates) exactly the kinds it brings."""
    source = tmp_path / "src.db"
    with csdomain.store.open_store(f"sqlite:///{source}") as store:
        with store.unit_of_work() as uow:
            uow.next_counter("kit")
        empty = export_store(store, io.BytesIO())
        assert empty.documents == {kind.name: 0 for kind in store.kinds}
        assert empty.counters == 1
        assert _tables(source) == set()
        out = io.BytesIO()
        with Store(store.backend, kinds=_registry(_GIZMOS)) as gizmos:
            with gizmos.unit_of_work() as uow:
                uow.repo(_GIZMOS).add(_Gizmo("g1", "x", "y"))
            export_store(gizmos, out)
    target = tmp_path / "dst.db"
    with Store(
        csdomain.store.open_store(f"sqlite:///{target}").backend, kinds=_registry(_GIZMOS, _WIDGETS)
    ) as store:
        summary = import_store(store, io.BytesIO(out.getvalue()).readlines())
        assert summary.documents == {"gizmo": 1, "widget": 0}
        assert summary.counters == 1
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(_GIZMOS).get("g1") == _Gizmo("g1", "x", "y")
            assert list(uow.tx.list_counters()) == [("kit", 1)]
    assert _tables(target) == {"k_gizmo", "x_gizmo_a"}


def test_a_first_write_of_many_creates_the_table_and_still_refuses_a_taken_key(
    tmp_path: Path,
) -> None:
    """Rule: add_many into a kind never written creates its table in the same transaction;
    a key taken twice in the batch is AlreadyExists and writes nothing (no table either)."""
    path = tmp_path / "many.db"
    widgets = [_Widget(f"w{n}", "red", n) for n in range(3)]
    with Store(
        csdomain.store.open_store(f"sqlite:///{path}").backend, kinds=_registry(_WIDGETS)
    ) as store:

        def add_twice() -> None:
            with store.unit_of_work() as uow:
                uow.repo(_WIDGETS).add_many([*widgets, widgets[0]])

        with pytest.raises(AlreadyExists):
            add_twice()
        assert _tables(path) == set()
        with store.unit_of_work() as uow:
            assert uow.repo(_WIDGETS).add_many(widgets) == 3
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(_WIDGETS).find(size__ge=1) == widgets[1:]
        assert _tables(path) == _WIDGET_OBJECTS
