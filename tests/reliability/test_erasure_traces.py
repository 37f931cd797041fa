"""Erasure leaves nothing readable (issue #19 item 4): after ``erase_customer`` no erased
value remains in the raw bytes of the store's files, and counter keys never carry a name.

The SQLite tests write known personal data through the desks, erase it, and search every
file of the database (the database, ``-wal``, ``-shm``, any journal) for each value in
every form SQLite could hold it: UTF-8, UTF-16 and JSON text with ``\\u`` escapes. The
after-sales history (a product file at its own site address, a service order whose
description quotes the customer, a visit, an approved quote, a sign-off, interactions)
is searched the same way. docs/reliability.md ("Erasure") names these tests.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import attrs
import orjson
import pytest

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.desk.complaints import ComplaintDesk
from csdomain.desk.customers import CustomerDesk
from csdomain.desk.privacy import ERASED, PrivacyDesk
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    FaultEntry,
    PartUse,
    SignOff,
    TransferLine,
    VisitRecord,
)
from csdomain.kinds import CUSTOMERS, SERVICE_ORDERS
from csdomain.money import Money
from csdomain.policy import Policy
from csdomain.service import ServiceDesk
from csdomain.store import Store, open_store
from csdomain.warranty import PartKind, SparePart


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


# -- the after-sales history ------------------------------------------------------------------

TECH = Actor("tech-7", {"technician"})
DISPATCHER = Actor("disp-1", {"call_team"})
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
BOARD = SparePart(
    part_number="PB-55", name="power board", kind=PartKind.STANDARD, cost=Money.of("100.00", "CNY")
)
#: The instrument's site: another address than the customer file's.
SITE = "光谷大道 77 号 Building C, Room 402"
#: The customer's staff member who approves the quote and signs the job off.
SIGNER = "Dr. Liu Yanping"


def field_values(name: str) -> dict[str, str]:
    """Every erased value of the after-sales history, the file's values included."""
    return {**values(name), "site address": SITE, "signer": SIGNER}


def write_service_history(desk: ServiceDesk, clock: FixedClock, customer_id: str, name: str) -> str:
    """A product file at its own site, and a repair job on it: a description quoting the
    customer, a visit whose note names the signer, a quote the signer approves, the
    sign-off with feedback, and a call in the interaction log. Returns the job number."""
    desk.register_service_area("WH-HS", name="Hongshan", district="WH", region="HUBEI", by=MANAGER)
    desk.register_service_point(
        "SP-WH", name="Wuhan own point", ownership="own", service_areas=["WH-HS"], by=MANAGER
    )
    desk.register_technician(
        "tech-7",
        name="Li",
        service_point_id="SP-WH",
        skills=["repair", "electronics"],
        calendar=OFFICE,
        by=MANAGER,
    )
    desk.receive_parts("SP-WH", "DN-0001", [TransferLine(part=BOARD, quantity=5)], by=MANAGER)
    desk.register_product_file(
        "SN-900",
        model="Analyser X1",
        category="instrument",
        customer_id=customer_id,
        service_area_id="WH-HS",
        sold_on=date(2020, 7, 1),
        address=SITE,
        by=MANAGER,
    )
    job = desk.open_service_order(
        "SN-900",
        kind="repair",
        urgency="urgent",
        symptoms=["no power"],
        description=f"{name} ({PHONE}) reports no power at {SITE}; ask for {SIGNER}.",
        by=DISPATCHER,
    )
    clock.advance(timedelta(minutes=10))
    desk.triage_service_order(job.id, distance_km=12, by=DISPATCHER)
    desk.dispatch_service_order(job.id, "tech-7", by=DISPATCHER)
    clock.advance(timedelta(hours=1))
    arrived = desk.record_arrival(job.id, by=TECH)
    assert arrived.arrived_at is not None
    desk.quote_service_order(job.id, parts=[PartUse(part=BOARD)], labour_minutes=60, by=TECH)
    desk.approve_service_quote(job.id, approved_by=SIGNER, reference="phone 10:42", by=TECH)
    clock.advance(timedelta(hours=1))
    visit = VisitRecord(
        technician_id="tech-7",
        arrived_at=arrived.arrived_at,
        departed_at=clock.now(),
        fault_found="blown power board",
        work_done="replaced the power board",
        parts=(PartUse(part=BOARD),),
        labour_minutes=60,
        note=f"{SIGNER} showed the lab; mail {EMAIL} the report",
    )
    desk.record_service_visit(job.id, visit, by=TECH)
    desk.complete_service_order(job.id, by=TECH)
    sign_off = SignOff(
        customer_name=SIGNER,
        signature_ref="sig/900.png",
        accepted=True,
        at=clock.now(),
        feedback=f"quick and friendly, signed for {name}",
    )
    desk.sign_off_service_order(job.id, sign_off, by=TECH)
    desk.record_interaction(
        customer_id,
        channel="call",
        summary=f"{SIGNER} called from {PHONE} about the visit at {SITE}",
        by=CLERK,
    )
    return job.id


def service_desk(store: Store, clock: FixedClock) -> ServiceDesk:
    guide = (
        FaultEntry(
            symptom="no power",
            causes=("power board",),
            measures=("replace the power board",),
            parts=("PB-55",),
            skills=frozenset({"electronics"}),
        ),
    )
    policy = attrs.evolve(
        Policy(), fieldservice=attrs.evolve(Policy().fieldservice, fault_guide=guide)
    )
    return ServiceDesk(
        store, clock=clock, policy=policy, team_calendars={FIELD_SERVICE_TEAM: OFFICE}
    )


MANAGER = Actor("mgr-1", {"cs_manager"})


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
@pytest.mark.parametrize("name", NAMES)
def test_no_after_sales_value_remains_in_the_sqlite_files_after_an_erasure(
    directory: Path, clock: FixedClock, journal_mode: str, name: str
) -> None:
    # Rule: erasure leaves nothing readable, the after-sales data included: the product
    # file's and the job's site address, the quote's approver and the sign-off's signer
    # (the customer's side), and every mention in descriptions, visit notes, feedback and
    # interactions (docs/domain.md 1 privacy; issue #19 item 4).
    store = open_file_store(directory, journal_mode)
    try:
        desk = service_desk(store, clock)
        customer_id = write_history(Desk(store, clock=clock), clock, name)
        job_id = write_service_history(desk, clock, customer_id, name)
        wanted = field_values(name)
        before = traces(directory, wanted)
        assert {t.split(" in ")[0] for t in before} == set(wanted) - NOT_STORED
        desk.erase_customer(customer_id, by=CS_MANAGER, reason="customer asked")
        assert traces(directory, wanted) == []
        with store.unit_of_work(readonly=True) as uow:
            job = uow.repo(SERVICE_ORDERS).get(job_id)
        assert job.address == ERASED
        assert job.quote_approval is not None
        assert job.quote_approval.approved_by == ERASED
        assert job.sign_off is not None
        assert job.sign_off.customer_name == ERASED
        # what is not personal stays: the work, the money, the staff
        assert job.sign_off.feedback == f"quick and friendly, signed for {ERASED}"
        assert job.visits[0].work_done == "replaced the power board"
        assert job.charges
        assert job.visits[0].technician_id == "tech-7"
    finally:
        store.close()
    assert traces(directory, wanted) == []
