"""Pytest fixtures for an application's own tests: a desk on memory and SQLite, a clock, actors.

Opt in from the application's ``conftest.py``::

    pytest_plugins = ["csdomain.testing.fixtures"]

or for one run with ``pytest -p csdomain.testing.fixtures``. Then a test asks for what it
needs by name:

``csdomain_clock``
    a :class:`~csdomain.clock.FixedClock` at :data:`START` (Monday 5 January 2026, 10:00 in
    Shanghai); the test moves it with ``advance``. Override the fixture to start elsewhere.
``csdomain_store``
    an empty store, once on ``memory://`` and once on a SQLite file in ``tmp_path``: every
    test that uses it (or the desk) runs on both, so an app's tests say whether they depend
    on one backend.
``csdomain_desk``
    a :class:`~csdomain.service.ServiceDesk` on that store and clock, closed afterwards.
``csdomain_actors``
    one :class:`~csdomain.auth.Actor` per default role (``csdomain_actors.specialist``,
    ``.warehouse``, ``.finance``, ``.cs_manager`` ...) plus ``.superuser``, so a flow that
    needs four people does not build them by hand.
``csdomain_demo_store``
    a SQLite store holding the small demo data set (customers, orders, complaints, claims,
    surveys of September and October 2026), built once per test session and copied for
    each test, so a test may change it; its clock is ``csdomain_demo_clock``, standing at
    :data:`DEMO_AS_OF` (1 December 2026, after the demo's two months).
``csdomain_demo_desk``
    a :class:`~csdomain.service.ServiceDesk` on that copy and clock, for tests that query
    or change a store with history (``csdomain_demo_desk.breaches(by=...)``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, Actor
from csdomain.clock import FixedClock
from csdomain.service import ServiceDesk
from csdomain.store import Store, open_store


__all__ = [
    "DEMO_AS_OF",
    "START",
    "csdomain_actors",
    "csdomain_clock",
    "csdomain_demo_clock",
    "csdomain_demo_desk",
    "csdomain_demo_store",
    "csdomain_desk",
    "csdomain_store",
]

#: Where ``csdomain_clock`` starts: Monday 5 January 2026, 10:00 in Shanghai (a working hour).
START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
#: Where ``csdomain_demo_clock`` stands: Tuesday 1 December 2026, 10:00 in Shanghai.
DEMO_AS_OF = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def csdomain_clock() -> FixedClock:
    """A clock standing at :data:`START` until the test moves it."""
    return FixedClock(START)


@pytest.fixture(params=["memory", "sqlite"])
def csdomain_store(
    request: pytest.FixtureRequest, tmp_path: Path, csdomain_clock: FixedClock
) -> Iterator[Store]:
    """An empty store: the test runs once on ``memory://`` and once on a SQLite file."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'app.db'}"
    store = open_store(url, clock=csdomain_clock)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def csdomain_desk(csdomain_store: Store, csdomain_clock: FixedClock) -> ServiceDesk:
    """A service desk on ``csdomain_store`` with ``csdomain_clock`` and the default policy."""
    return ServiceDesk(csdomain_store, clock=csdomain_clock)


@pytest.fixture
def csdomain_actors() -> SimpleNamespace:
    """One actor per default role (``.specialist``, ``.warehouse`` ...) and ``.superuser``."""
    actors = {role: Actor(f"{role}.1", {role}, name=role) for role in DEFAULT_ROLE_PERMISSIONS}
    return SimpleNamespace(**actors, superuser=Actor.superuser())


@pytest.fixture(scope="session")
def _csdomain_demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Loaded only when a test asks for the demo: the demo builder is large.
    from csdomain.demo import build_demo  # noqa: PLC0415

    path = tmp_path_factory.mktemp("csdomain-demo") / "demo.db"
    store = open_store(f"sqlite:///{path}")
    try:
        build_demo(store, size="small")
    finally:
        store.close()
    return path


@pytest.fixture
def csdomain_demo_clock() -> FixedClock:
    """A clock standing at :data:`DEMO_AS_OF`, after the demo data's two months."""
    return FixedClock(DEMO_AS_OF)


@pytest.fixture
def csdomain_demo_store(
    _csdomain_demo_file: Path, tmp_path: Path, csdomain_demo_clock: FixedClock
) -> Iterator[Store]:
    """A copy of the small demo store, for this test alone."""
    copy = tmp_path / "demo.db"
    shutil.copyfile(_csdomain_demo_file, copy)
    store = open_store(f"sqlite:///{copy}", clock=csdomain_demo_clock)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def csdomain_demo_desk(csdomain_demo_store: Store, csdomain_demo_clock: FixedClock) -> ServiceDesk:
    """A service desk on ``csdomain_demo_store`` with ``csdomain_demo_clock``."""
    return ServiceDesk(csdomain_demo_store, clock=csdomain_demo_clock)
