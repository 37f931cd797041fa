"""The SQLite backend runs the whole conformance kit, on a file and on ``sqlite://``."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import attrs
import pytest

import csdomain.store
from csdomain.store import Kind, KindRegistry, Store
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
