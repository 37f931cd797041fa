"""The plugin-author guide's from-scratch backend (docs/plugin-authors.md) passes the kit.

The backend is built from the guide's own code blocks (``tests/kit_mutants/guide_backend.py``),
so what a plugin author reads is what runs here, through the whole conformance kit.
"""

from __future__ import annotations

import importlib.util
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from csdomain.errors import BackendUnavailable, ValidationError
from csdomain.store import Store
from csdomain.testing import BackendConformance


def _guide() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "kit_mutants" / "guide_backend.py"
    spec = importlib.util.spec_from_file_location("kit_mutants_guide_backend", path)
    assert spec is not None
    assert spec.loader is not None
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    module: ModuleType = loader.load()
    return module


jsonstore = _guide()
_SHM = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside RAM-backed storage
_DIR = Path(tempfile.mkdtemp(prefix="csdomain-guide-", dir=_SHM if _SHM.is_dir() else None))
_numbers = itertools.count()


def _open(url: str) -> Store:
    return Store(jsonstore.JsonStoreBackend.from_url(url))


class TestGuideBackend(BackendConformance):
    persistent = True

    def make_store(self) -> Store:
        return _open(f"jsonstore:{_DIR}/store-{next(_numbers)}.json")

    def reopen_store(self, store: Store) -> Store | None:
        store.close()
        return _open(store.url)


@pytest.fixture(scope="module", autouse=True)
def _cleanup_guide_dir() -> Iterator[None]:
    yield None
    shutil.rmtree(_DIR, ignore_errors=True)


@pytest.mark.parametrize("url", ["jsonstore:", "jsonstore:a\x00b"])
def test_a_malformed_url_is_a_validation_error_naming_the_url(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        jsonstore.JsonStoreBackend.from_url(url)
    assert info.value.errors[0][0] == "url"


def test_a_missing_directory_is_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailable):
        jsonstore.JsonStoreBackend.from_url(f"jsonstore:{_DIR}/no/such/dir/store.json")


def test_a_damaged_file_is_backend_unavailable() -> None:
    path = _DIR / "damaged.json"
    path.write_bytes(b'{"docs": [')
    with pytest.raises(BackendUnavailable):
        jsonstore.JsonStoreBackend.from_url(f"jsonstore:{path}")
