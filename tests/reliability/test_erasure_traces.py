"""Erasure leaves nothing readable (issue #19 item 4): after ``erase_customer`` no erased
value remains in the raw bytes of the store's files, and counter keys never carry a name.

The SQLite tests write known personal data through the desks, erase it, and search every
file of the database (the database, ``-wal``, ``-shm``, any journal) for each value in
every form SQLite could hold it: UTF-8, UTF-16 and JSON text with ``\\u`` escapes.
docs/reliability.md ("Erasure") names these tests.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.desk.complaints import ComplaintDesk
from csdomain.desk.customers import CustomerDesk
from csdomain.desk.privacy import PrivacyDesk
from csdomain.kinds import CUSTOMERS
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERK = Actor("li.clerk", {"specialist"})
CS_MANAGER = Actor("chen.csm", {"cs_manager"})

PHONE = "139-7182-6354"
EMAIL = "wei.ming@example.org"
OLD_EMAIL = "weiming.old@example.net"
ADDRESS = "武汉市洪山区珞喻路 1037 号"
OLD_ADDRESS = "Luoyu Road 1037, Wuhan"
ACCOUNT = "6222 0202 7788 9911"
REPRESENTATIVE = "Chen Daming"
NAMES = ("Chen Weiming", "陈伟明")


#: Forms searched for although the store never writes them (the phone's bare digits).
NOT_STORED = frozenset({"phone digits"})


class Desk:
    """The desks that write the customer's data, and the privacy desk that erases it."""

    def __init__(self, store: Store, *, clock: FixedClock) -> None:
        self.customers = CustomerDesk(store, clock=clock)
        self.complaints = ComplaintDesk(store, clock=clock)
        self.privacy = PrivacyDesk(store, clock=clock)


def values(name: str) -> dict[str, str]:
    """Every erased value, and the derived forms the store indexes, by what it is."""
    return {
        "name": name,
        "code": f"Wuhan-202611-{name}-",
        "phone": PHONE,
        "phone digits": "13971826354",
        "phone tail": "71826354",
        "email": EMAIL,
        "old email": OLD_EMAIL,
        "address": ADDRESS,
        "old address": OLD_ADDRESS,
        "bank account": ACCOUNT,
        "bank account key": "6222020277889911",
        "legal representative": REPRESENTATIVE,
    }


def forms(value: str) -> set[bytes]:
    """The byte strings ``value`` is stored as: UTF-8, UTF-16 and JSON ``\\u`` escapes."""
    escaped = json.dumps(value)[1:-1]
    found = {
        value.encode(),
        value.encode("utf-16-le"),
        value.encode("utf-16-be"),
        escaped.encode(),
        escaped.upper().replace("\\U", "\\u").encode(),
        orjson.dumps(value)[1:-1],
    }
    return {form.lower() for form in found}


def store_files(directory: Path) -> dict[str, bytes]:
    """Every file of the database in ``directory``, by name, as raw bytes."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def traces(directory: Path, wanted: dict[str, str]) -> list[str]:
    """Which values occur in which file, in any of their forms (case-insensitively)."""
    files = {name: data.lower() for name, data in store_files(directory).items()}
    return [
        f"{what} in {file}"
        for what, value in wanted.items()
        for file, data in files.items()
        if any(form in data for form in forms(value))
    ]


def write_history(desk: Desk, clock: FixedClock, name: str) -> str:
    """A customer with every kind of personal data, changed once, and a complaint whose
    description repeats it; another customer beside it. Returns the customer's id."""
    desk.customers.register_customer(name="Wang Fang", city="Wuhan", phone="13700000000", by=CLERK)
    customer, _ = desk.customers.register_customer(
        name=name,
        city="Wuhan",
        phone=PHONE,
        email=OLD_EMAIL,
        address=OLD_ADDRESS,
        bank_account=ACCOUNT,
        legal_representative=REPRESENTATIVE,
        by=CLERK,
    )
    clock.advance(timedelta(hours=1))
    desk.customers.change_customer(customer.id, email=EMAIL, address=ADDRESS, by=CLERK)
    desk.complaints.receive_complaint(
        customer.id,
        channel="phone",
        urgency="ordinary",
        category="product_quality",
        description=(
            f"{name} ({REPRESENTATIVE}) called from {PHONE}, mail {EMAIL}, lives at "
            f"{ADDRESS}; refund to {ACCOUNT}."
        ),
        by=CLERK,
    )
    return customer.id


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


def open_file_store(directory: Path, journal_mode: str) -> Store:
    return open_store(f"sqlite:///{directory / 'store.db'}?journal_mode={journal_mode}")


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    folder = tmp_path / "db"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("journal_mode", ["wal", "delete", "truncate", "persist"])
@pytest.mark.parametrize("name", NAMES)
def test_no_erased_value_remains_in_the_sqlite_files_after_an_erasure(
    directory: Path, clock: FixedClock, journal_mode: str, name: str
) -> None:
    # Rule: erasure leaves nothing readable (docs/domain.md 1 privacy; issue #19 item 4).
    store = open_file_store(directory, journal_mode)
    try:
        desk = Desk(store, clock=clock)
        customer_id = write_history(desk, clock, name)
        wanted = values(name)
        before = traces(directory, wanted)
        # the search finds every stored value before the erasure
        assert {t.split(" in ")[0] for t in before} == set(wanted) - NOT_STORED
        desk.privacy.erase_customer(customer_id, by=CS_MANAGER, reason="customer asked")
        assert traces(directory, wanted) == []
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(CUSTOMERS).get(customer_id).code == f"ERASED-{customer_id}"
    finally:
        store.close()
    assert traces(directory, wanted) == []


def test_a_file_written_without_secure_delete_is_rebuilt_by_the_first_erasure(
    directory: Path, clock: FixedClock
) -> None:
    # Rule: erasure leaves nothing readable, also in a file an older csdomain wrote with
    # secure_delete off, whose free space still holds values replaced before (issue #19).
    store = open_file_store(directory, "wal")
    try:
        desk = Desk(store, clock=clock)
        customer_id = write_history(desk, clock, NAMES[0])
        older = "a.much.older.address.of.the.customer@example.com"
        raw = sqlite3.connect(directory / "store.db", isolation_level=None)
        try:
            raw.execute("PRAGMA secure_delete = OFF")
            raw.execute("DELETE FROM csdomain_meta WHERE name = 'secure_delete'")
            # a value an older csdomain deleted: its bytes stay in the page's free space
            raw.execute("INSERT INTO csdomain_meta (name, value) VALUES ('old', ?)", (older,))
            raw.execute("DELETE FROM csdomain_meta WHERE name = 'old'")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        wanted = {**values(NAMES[0]), "older e-mail": older}
        assert "older e-mail in store.db" in traces(directory, wanted)
        desk.privacy.erase_customer(customer_id, by=CS_MANAGER, reason="customer asked")
        assert traces(directory, wanted) == []
        raw = sqlite3.connect(directory / "store.db")
        try:
            flag = raw.execute("SELECT value FROM csdomain_meta WHERE name = 'secure_delete'")
            assert flag.fetchone() == ("1",)
        finally:
            raw.close()
    finally:
        store.close()


def test_purge_erased_is_offered_by_the_bundled_backends_and_a_no_op_in_memory(
    clock: FixedClock,
) -> None:
    # Rule: the store hands purge_erased to a backend that offers it (issue #19 item 4).
    store = open_store("memory://")
    try:
        desk = Desk(store, clock=clock)
        customer_id = write_history(desk, clock, NAMES[1])
        desk.privacy.erase_customer(customer_id, by=CS_MANAGER, reason="customer asked")
        assert store.purge_erased(["customer"]) is True
    finally:
        store.close()


def test_the_customer_code_counter_key_never_holds_the_name(
    directory: Path, clock: FixedClock
) -> None:
    # Rule: counter keys carry no personal data (issue #19 item 4; docs/domain.md 1 codes).
    store = open_file_store(directory, "wal")
    try:
        desk = Desk(store, clock=clock)
        write_history(desk, clock, NAMES[1])
        with store.unit_of_work(readonly=True) as uow:
            names = [name for name, _ in uow.tx.list_counters()]
        assert "series:Wuhan-202611-*-#" in names
        assert not [n for n in names if NAMES[1] in n or "Wang Fang" in n]
    finally:
        store.close()
