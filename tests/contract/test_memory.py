"""The memory backend runs the whole conformance kit."""

from __future__ import annotations

import csdomain.store
from csdomain.store import Store
from csdomain.testing import BackendConformance


class TestMemoryBackend(BackendConformance):
    persistent = False

    def make_store(self) -> Store:
        return csdomain.store.open_store("memory://")
