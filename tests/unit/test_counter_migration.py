"""Counter keys carry no personal data (issue #19 item 4): a store written while the
customer-code serial counted per name (``series:Wuhan-202611-Chen Wei-#``) is migrated
when it is opened: the per-name counters of a city and month fold into the city-month
counter, which continues after every code already given, and the per-name keys go."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import CustomerPolicy
from csdomain.desk.customers import CustomerDesk
from csdomain.errors import ValidationError
from csdomain.ids import NamingSeries
from csdomain.store import KindRegistry, Migration, Store, counter_fold, open_store


NOVEMBER = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERK = Actor("li.clerk", {"specialist"})
CODES = CustomerPolicy().code_series()

#: The counters of a store written the old way: per name, in two months, beside others.
OLD_COUNTERS = {
    "series:Wuhan-202611-Chen Wei-#": 2,
    "series:Wuhan-202611-Li Na-#": 1,
    "series:Wu-han-202611-Ma-Li-#": 4,
    "series:Wuhan-202610-Chen Wei-#": 1,
    "series:SO-202611-#": 7,
    "customer:id": 4,
}
FOLDED = {
    "series:Wuhan-202611-*-#": 3,
    "series:Wu-han-202611-*-#": 4,
    "series:Wuhan-202610-*-#": 1,
    "series:SO-202611-#": 7,
    "customer:id": 4,
}

_NAMES = itertools.count()


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield f"memory://counter-migration-{next(_NAMES)}"
    else:
        yield f"sqlite:///{tmp_path / 'old.db'}"


def write_old_store(url: str, counters: dict[str, int]) -> None:
    """Counters as an older csdomain left them (written before any migration existed)."""
    store = open_store(url, kinds=KindRegistry())
    try:
        with store.unit_of_work() as uow:
            for name, value in counters.items():
                uow.tx.restore_counter(name, value)
    finally:
        if not url.startswith("memory"):
            store.close()


def counters(store: Store) -> dict[str, int]:
    with store.unit_of_work(readonly=True) as uow:
        return dict(uow.tx.list_counters())


def test_fold_uncounted_sums_the_per_name_counters_of_each_city_and_month() -> None:
    # Rule: the serial counts the customers of the city and month (docs/domain.md 1), so
    # the folded counter continues after every code already given under the old keys.
    raise_to, remove = CODES.fold_uncounted(OLD_COUNTERS.items())
    assert raise_to == {
        "series:Wuhan-202611-*-#": 3,
        "series:Wu-han-202611-*-#": 4,
        "series:Wuhan-202610-*-#": 1,
    }
    assert sorted(remove) == sorted(n for n in OLD_COUNTERS if n.startswith("series:Wu"))


def test_fold_uncounted_never_lowers_the_shared_counter_and_is_done_once_folded() -> None:
    # Rule: no customer code is handed out twice (docs/domain.md 1).
    mixed = {"series:Wuhan-202611-*-#": 9, "series:Wuhan-202611-Chen Wei-#": 2}
    assert CODES.fold_uncounted(mixed.items()) == ({}, ["series:Wuhan-202611-Chen Wei-#"])
    assert CODES.fold_uncounted(FOLDED.items()) == ({}, [])
    assert NamingSeries("SO-{yyyy}{mm}-{seq:04d}").fold_uncounted(OLD_COUNTERS.items()) == (
        {},
        [],
    )


def test_a_store_with_per_name_counters_is_migrated_when_opened(url: str) -> None:
    # Rule: counter keys carry no personal data (issue #19 item 4).
    write_old_store(url, OLD_COUNTERS)
    store = open_store(url)
    try:
        with store.unit_of_work():
            pass
        assert counters(store) == FOLDED
    finally:
        store.close()


def test_the_migration_is_idempotent(url: str) -> None:
    # Rule: a data migration run again finds nothing to do and writes nothing.
    write_old_store(url, OLD_COUNTERS)
    for _ in range(2):
        store = open_store(url)
        try:
            with store.unit_of_work():
                pass
            assert counters(store) == FOLDED
        finally:
            if not url.startswith("memory"):
                store.close()


def test_after_the_migration_the_next_code_continues_after_every_code_given(url: str) -> None:
    # Rule: the serial counts the customers of the city and month (docs/domain.md 1):
    # three codes were given in Wuhan in November 2026, so the next one is -004.
    write_old_store(url, OLD_COUNTERS)
    store = open_store(url)
    try:
        desk = CustomerDesk(store, clock=FixedClock(NOVEMBER))
        customer, _ = desk.register_customer(name="Chen Wei", city="Wuhan", by=CLERK)
        assert customer.code == "Wuhan-202611-Chen Wei-004"
        assert not [n for n in counters(store) if "Chen Wei" in n]
    finally:
        store.close()


def test_a_read_only_unit_of_work_does_not_migrate(url: str) -> None:
    # Rule: reading never writes; the first writing unit of work migrates.
    write_old_store(url, OLD_COUNTERS)
    store = open_store(url)
    try:
        assert counters(store) == OLD_COUNTERS
    finally:
        if not url.startswith("memory"):
            store.close()


def test_a_migration_must_be_a_migration_and_a_fold_only_raises() -> None:
    # Rule: a registry holds data migrations only; a fold never lowers a counter.
    registry = KindRegistry()
    with pytest.raises(ValidationError):
        registry.register_migration(lambda tx: None)  # type: ignore[arg-type]
    fold = counter_fold("raise", lambda found: ({"a": 1, "b": 7}, []))
    registry.register_migration(fold)
    assert registry.migrations == (fold,)
    assert isinstance(fold, Migration)
    url = f"memory://counter-migration-{next(_NAMES)}"
    write_old_store(url, {"a": 5, "b": 2})
    store = open_store(url, kinds=registry)
    with store.unit_of_work():
        pass
    assert counters(store) == {"a": 5, "b": 7}
