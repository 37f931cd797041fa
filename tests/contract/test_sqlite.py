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
