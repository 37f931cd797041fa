"""The SQLite backend runs the whole conformance kit, on a file and on ``sqlite://``."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest

import csdomain.store
from csdomain.store import Store
from csdomain.testing import BackendConformance


_DIR = Path(tempfile.mkdtemp(prefix="csdomain-contract-"))
_numbers = itertools.count()


class TestSqliteFileBackend(BackendConformance):
    def make_store(self) -> Store:
        return csdomain.store.open_store(f"sqlite:///{_DIR}/store-{next(_numbers)}.db")

    def reopen_store(self, store: Store) -> Store | None:
        url = store.url
        store.close()
        return csdomain.store.open_store(url)


class TestSqliteThrowawayBackend(BackendConformance):
    batch_size = 2_000

    def make_store(self) -> Store:
        return csdomain.store.open_store("sqlite://")


class TestSqliteFullSyncBackend(BackendConformance):
    batch_size = 2_000

    def make_store(self) -> Store:
        return csdomain.store.open_store(
            f"sqlite:///{_DIR}/full-{next(_numbers)}.db?synchronous=full&journal_mode=wal"
        )


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
