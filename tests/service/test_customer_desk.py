"""CustomerDesk: customer files through the service layer (docs/domain.md 1), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest

import csdomain
from csdomain.audit import AccessRecord
from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, AccessPolicy, Actor
from csdomain.clock import FixedClock
from csdomain.customers import (
    REDACTED,
    Customer,
    CustomerClass,
    CustomerPolicy,
    DuplicateContactWarning,
    InteractionChannel,
)
from csdomain.desk.base import use_cases
from csdomain.desk.customers import CustomerChange, CustomerDesk, CustomerRegistration
from csdomain.errors import (
    AlreadyExists,
    CsDomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import ACCESS_LOG, CUSTOMER_HANDOVERS, CUSTOMERS
from csdomain.policy import LimitsPolicy, Policy
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERK = Actor("li.clerk", {"specialist"})
SALES = Actor("zhang.sales", {"salesperson"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
MANAGER = Actor("zhao.dm", {"department_manager"})


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> CustomerDesk:
    return CustomerDesk(store, clock=clock)


def snapshot(store: Store) -> dict[str, list[tuple[str, int]]]:
    """Every stored key and version, per kind: any write changes it."""
    with store.unit_of_work(readonly=True) as uow:
        return {
            kind.name: [
                (key, version)
                for key, version, _ in uow.tx.find(kind.name, (), (("key", False),), None, 0)
            ]
            for kind in store.kinds
        }


def outbox_types(store: Store) -> list[str]:
    with store.unit_of_work(readonly=True) as uow:
        return sorted(entry.type for entry in uow.outbox.find())


def access_records(store: Store) -> list[AccessRecord]:
    """The access records of reads after registration (registering is on record too)."""
    with store.unit_of_work(readonly=True) as uow:
        return [r for r in uow.repo(ACCESS_LOG).find() if r.purpose != "register"]


def register(desk: CustomerDesk, **fields: object) -> Customer:
    values: dict[str, object] = {"name": "Huake", "city": "Wuhan", "by": CLERK}
    values.update(fields)
    customer, _ = desk.register_customer(**values)  # type: ignore[arg-type]
    return customer


def refused(call: object) -> CsDomainError:
    assert callable(call)
    with pytest.raises(CsDomainError) as info:
        call()
    return info.value


# -- register ----------------------------------------------------------------------------


def test_customer_code_is_city_month_name_and_a_serial(
    desk: CustomerDesk, store: Store, clock: FixedClock
) -> None:
    first, warning = desk.register_customer(name="Huake", city="Wuhan", by=CLERK)
    second = register(desk)
    clock.advance(timedelta(days=30))
    december = register(desk)
    assert warning is None
    assert [first.code, second.code, december.code] == [
        "Wuhan-202611-Huake-001",
        "Wuhan-202611-Huake-002",
        "Wuhan-202612-Huake-001",
    ]
    assert [first.id, second.id, december.id] == ["CU-000001", "CU-000002", "CU-000003"]
    assert first.created_at == MONDAY
    assert first.created_by == CLERK.id
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(CUSTOMERS).get(first.id) == first
    assert outbox_types(store) == ["CustomerRegistered"] * 3


def test_customer_code_serial_counts_the_customers_of_the_city_and_month(
    desk: CustomerDesk,
) -> None:
    # Huake then Keda in Wuhan in one month: -001, -002; Shanghai has its own serial
    codes = [
        register(desk, name="Huake").code,
        register(desk, name="Keda").code,
        register(desk, name="Huadong", city="Shanghai").code,
    ]
    assert codes == [
        "Wuhan-202611-Huake-001",
        "Wuhan-202611-Keda-002",
        "Shanghai-202611-Huadong-001",
    ]


def test_a_store_numbered_per_name_continues_after_its_codes(
    desk: CustomerDesk, store: Store
) -> None:
    # written before: one counter per city, month and name, and no city-and-month counter
    with store.unit_of_work() as uow:
        for name, count in (("Huake", 2), ("Keda", 1)):
            for _ in range(count):
                uow.next_counter(f"series:Wuhan-202611-{name}-#")
        old = [("CU-OLD-1", "Huake-001"), ("CU-OLD-2", "Huake-002"), ("CU-OLD-3", "Keda-001")]
        for customer_id, tail in old:
            uow.repo(CUSTOMERS).add(
                Customer(id=customer_id, code=f"Wuhan-202611-{tail}", name=tail, city="Wuhan")
            )
    huake = register(desk, name="Huake")
    lab = register(desk, name="Lab", city="Beijing")
    assert (huake.code, lab.code) == ("Wuhan-202611-Huake-004", "Beijing-202611-Lab-001")
    with store.unit_of_work(readonly=True) as uow:
        codes = [c.code for c in uow.repo(CUSTOMERS).find(city="Wuhan")]
    assert len(codes) == len(set(codes)) == 4


def test_customer_code_may_use_a_short_name(desk: CustomerDesk) -> None:
    customer = register(desk, name="Huazhong Keji Bio Ltd.", code_name="Huake")
    assert customer.code == "Wuhan-202611-Huake-001"
    assert customer.name == "Huazhong Keji Bio Ltd."


def test_a_given_customer_id_is_kept_and_never_taken_twice(
    desk: CustomerDesk, store: Store
) -> None:
    customer = register(desk, id="LEGACY-7")
    assert customer.id == "LEGACY-7"
    before = snapshot(store)
    with pytest.raises(AlreadyExists):
        register(desk, id="LEGACY-7")
    assert snapshot(store) == before


def test_registering_needs_customer_edit(desk: CustomerDesk, store: Store) -> None:
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        register(desk, by=WAREHOUSE)
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"name": " "}, "name"),
        ({"city": ""}, "city"),
        ({"city": None}, "city"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"customer_class": "royalty"}, "customer_class"),
        ({"by": "li.clerk"}, "by"),
    ],
)
def test_bad_customer_data_is_a_validation_error_and_writes_nothing(
    desk: CustomerDesk, store: Store, fields: dict[str, object], path: str
) -> None:
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        register(desk, **fields)
    assert path in [p for p, _ in info.value.errors]
    assert snapshot(store) == before


# -- duplicates ----------------------------------------------------------------------------


def test_same_phone_number_on_two_customers_is_a_warning(desk: CustomerDesk) -> None:
    first = register(desk, phone="027-87654321")
    twin, warning = desk.register_customer(
        name="Huake Lab", city="Wuhan", phone="+86 27 8765 4321", by=CLERK
    )
    assert isinstance(warning, DuplicateContactWarning)
    assert warning.customer_id == twin.id
    assert warning.customer_ids == (first.id,)
    assert warning.fields == {"phone"}


def test_same_phone_number_is_found_under_any_policy_country_code(
    store: Store, clock: FixedClock
) -> None:
    """Rule: the duplicate check strips the policy's country code, not a fixed 86."""
    policy = attrs.evolve(Policy(), customers=CustomerPolicy(phone_country_code="44"))
    desk = CustomerDesk(store, clock=clock, policy=policy)
    first = register(desk, phone="020 7946 0958")
    _, warning = desk.register_customer(
        name="Other", city="London", phone="+44 20 7946 0958", by=CLERK
    )
    assert warning is not None
    assert warning.customer_ids == (first.id,)
    _, other = desk.register_customer(
        name="Third", city="London", phone="+45 20 7946 0958", by=CLERK
    )
    assert other is None


def test_registration_names_the_file_and_the_warning_and_still_unpacks(
    desk: CustomerDesk,
) -> None:
    """Rule: register_customer returns a CustomerRegistration (`.customer`, `.warning`)
    that unpacks as the pair ``(customer, warning)`` it returned before."""
    first = desk.register_customer(name="Huake Bio", city="Wuhan", phone="13800138000", by=CLERK)
    assert isinstance(first, CustomerRegistration)
    assert csdomain.CustomerRegistration is CustomerRegistration
    assert first.customer.name == "Huake Bio"
    assert first.warning is None
    customer, warning = first
    assert (customer, warning) == (first.customer, None) == tuple(first)
    assert first[0] is first.customer
    twin = desk.register_customer(name="Huake Lab", city="Wuhan", phone="13800138000", by=CLERK)
    assert isinstance(twin.warning, DuplicateContactWarning)
    assert twin.warning.customer_ids == (first.customer.id,)
    assert twin.customer.id != first.customer.id
    changed = desk.change_customer(first.customer.id, email="lab@huake.example", by=MANAGER)
    assert isinstance(changed, CustomerChange)
    assert csdomain.CustomerChange is CustomerChange
    assert changed.customer.email == "lab@huake.example"
    assert changed.warning is not None  # the phone is still shared with the twin
    customer, warning = changed
    assert (customer, warning) == (changed.customer, changed.warning)


def test_same_bank_account_on_two_customers_is_a_warning(desk: CustomerDesk) -> None:
    first = register(desk, bank_account="6222 0210 0100 1234")
    _, warning = desk.register_customer(
        name="Other",
        city="Hefei",
        bank_account="6222-0210-0100-1234",
        filing_document="FILE-2026-1",
        by=CLERK,
    )
    assert warning is not None
    assert warning.customer_ids == (first.id,)
    assert warning.fields == {"bank_account"}


def test_different_contacts_give_no_warning(desk: CustomerDesk) -> None:
    register(desk, phone="027-87654321", bank_account="1111")
    _, warning = desk.register_customer(
        name="Other", city="Wuhan", phone="027-11112222", bank_account="2222", by=CLERK
    )
    assert warning is None


# -- change ----------------------------------------------------------------------------------


def test_changes_are_logged_never_overwritten(
    desk: CustomerDesk, store: Store, clock: FixedClock
) -> None:
    customer = register(desk, phone="027-87654321", customer_class=CustomerClass.MEMBER)
    clock.advance(timedelta(days=3))
    changed, warning = desk.change_customer(
        customer.id, by=MANAGER, phone="027-11112222", customer_class="vip", document="D-1"
    )
    assert warning is None
    assert changed.phone == "027-11112222"
    assert changed.customer_class is CustomerClass.VIP
    assert [(c.field, c.old, c.new, c.by) for c in changed.changes] == [
        ("customer_class", "member", "vip", MANAGER.id),
        ("phone", "027-87654321", "027-11112222", MANAGER.id),
    ]
    assert changed.value_at("phone", MONDAY) == "027-87654321"
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(CUSTOMERS).get(customer.id) == changed
    assert outbox_types(store) == ["CustomerChanged", "CustomerRegistered"]


def test_a_change_reruns_the_duplicate_check(desk: CustomerDesk) -> None:
    first = register(desk, phone="027-87654321")
    second = register(desk, name="Other", phone="010-55556666")
    _, warning = desk.change_customer(second.id, by=CLERK, phone="(027) 8765-4321", document="D-1")
    assert warning is not None
    assert warning.customer_ids == (first.id,)
    _, still = desk.change_customer(second.id, by=CLERK, address="Luoyu Rd 1")
    assert still is not None


def test_a_change_that_changes_nothing_writes_nothing(desk: CustomerDesk, store: Store) -> None:
    customer = register(desk, phone="027-87654321")
    before = snapshot(store)
    same, _ = desk.change_customer(customer.id, by=CLERK, phone="027-87654321")
    assert same == customer
    after = snapshot(store)
    assert {k: v for k, v in after.items() if k != "access_record"} == {
        k: v for k, v in before.items() if k != "access_record"
    }


@pytest.mark.parametrize(
    ("by", "fields", "error"),
    [
        (CLERK, {"code": "X-1"}, ValidationError),
        (CLERK, {"id": "other"}, ValidationError),
        (CLERK, {"email": "nope"}, ValidationError),
        (WAREHOUSE, {"phone": "027-1"}, PermissionDenied),
    ],
)
def test_a_refused_change_leaves_the_file_unchanged(
    desk: CustomerDesk,
    store: Store,
    by: Actor,
    fields: dict[str, object],
    error: type[CsDomainError],
) -> None:
    customer = register(desk)
    before = snapshot(store)
    with pytest.raises(error):
        desk.change_customer(customer.id, by=by, **fields)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_changing_an_unknown_customer_is_not_found(desk: CustomerDesk) -> None:
    with pytest.raises(NotFound):
        desk.change_customer("CU-404", by=CLERK, phone="027-1", document="D-1")


# -- reading and the access log --------------------------------------------------------------


def test_reading_a_customer_file_records_an_access_record(desk: CustomerDesk, store: Store) -> None:
    customer = register(desk)
    read = desk.get_customer(customer.id, by=SALES, purpose="order call")
    assert read == customer
    (record,) = access_records(store)
    assert (record.customer_id, record.actor_id, record.at, record.purpose) == (
        customer.id,
        SALES.id,
        MONDAY,
        "order call",
    )


def test_nobody_reads_a_customer_file_without_permission(desk: CustomerDesk, store: Store) -> None:
    customer = register(desk)
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        desk.get_customer(customer.id, by=WAREHOUSE)
    assert snapshot(store) == before
    assert access_records(store) == []


def test_reading_an_unknown_customer_records_nothing(desk: CustomerDesk, store: Store) -> None:
    with pytest.raises(NotFound):
        desk.get_customer("CU-404", by=SALES)
    assert access_records(store) == []


def test_access_log_lists_reads_newest_first(desk: CustomerDesk, clock: FixedClock) -> None:
    customer = register(desk)
    other = register(desk, name="Other")
    desk.get_customer(customer.id, by=SALES, purpose="first")
    clock.advance(timedelta(hours=1))
    desk.get_customer(other.id, by=SALES)
    desk.get_customer(customer.id, by=CLERK, purpose="second")
    log = [r for r in desk.access_log(customer.id, by=SALES) if r.purpose != "register"]
    assert [(r.actor_id, r.purpose) for r in log] == [(CLERK.id, "second"), (SALES.id, "first")]
    assert desk.access_log("CU-404", by=SALES) == []
    with pytest.raises(PermissionDenied):
        desk.access_log(customer.id, by=WAREHOUSE)


def test_access_log_is_a_read_only_query(desk: CustomerDesk, store: Store) -> None:
    customer = register(desk)
    desk.get_customer(customer.id, by=SALES)
    before = snapshot(store)
    desk.access_log(customer.id, by=SALES)
    assert snapshot(store) == before


def test_find_customers_filters_by_city_class_and_code(desk: CustomerDesk) -> None:
    wuhan = register(desk, customer_class="vip")
    register(desk, city="Hefei", customer_class="vip")
    register(desk, name="Plain")
    assert desk.find_customers(by=SALES, city="Wuhan", customer_class="vip") == [wuhan]
    assert [c.city for c in desk.find_customers(by=SALES, customer_class=CustomerClass.VIP)] == [
        "Hefei",
        "Wuhan",
    ]
    assert desk.find_customers(by=SALES, code=wuhan.code) == [wuhan]
    assert len(desk.find_customers(by=SALES, limit=2)) == 2


def test_every_customer_a_search_returns_gets_an_access_record(
    desk: CustomerDesk, store: Store
) -> None:
    first = register(desk)
    second = register(desk, name="Other")
    register(desk, city="Hefei")
    found = desk.find_customers(by=SALES, city="Wuhan", purpose="mailing")
    assert {c.id for c in found} == {first.id, second.id}
    records = access_records(store)
    assert sorted(r.customer_id for r in records) == sorted([first.id, second.id])
    assert {(r.actor_id, r.purpose) for r in records} == {(SALES.id, "mailing")}


@pytest.mark.parametrize(
    ("filters", "path"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"customer_class": "royalty"}, "customer_class"),
        ({"city": 7}, "city"),
    ],
)
def test_bad_search_arguments_are_validation_errors(
    desk: CustomerDesk, filters: dict[str, object], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        desk.find_customers(by=SALES, **filters)  # type: ignore[arg-type]
    assert [p for p, _ in info.value.errors] == [path]


def test_searching_needs_customer_read(desk: CustomerDesk) -> None:
    register(desk)
    error = refused(lambda: desk.find_customers(by=WAREHOUSE))
    assert isinstance(error, PermissionDenied)


def test_a_search_purpose_is_short_text_and_a_long_one_writes_nothing(
    desk: CustomerDesk, store: Store
) -> None:
    """Bug (issue #14): ``find_customers(purpose=...)`` took 1 MB and wrote it into one
    access record per customer returned; a purpose is short text."""
    register(desk)
    register(desk, name="Other")
    before = snapshot(store)
    limit = Policy().limits.max_short_text
    for purpose in ("x" * (limit + 1), "x" * 1_000_000):
        with pytest.raises(ValidationError) as info:
            desk.find_customers(by=SALES, purpose=purpose)
        assert info.value.errors == [("purpose", f"longer than {limit} characters")]
    assert snapshot(store) == before
    assert len(desk.find_customers(by=SALES, purpose="x" * limit)) == 2


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda d: d.get_customer("CU-000001", by=SALES, purpose="x" * 21), "purpose"),
        (lambda d: d.register_customer(name="x" * 21, city="Wuhan", by=CLERK), "name"),
        (lambda d: d.change_customer("CU-000001", phone="1" * 21, by=CLERK, document="D"), "phone"),
        (lambda d: d.change_customer("CU-000001", address="x" * 51, by=CLERK), "address"),
        (lambda d: d.find_customers(city="x" * 21, by=SALES), "city"),
    ],
)
def test_every_text_of_a_customer_use_case_is_bounded_by_the_limits_policy(
    store: Store, clock: FixedClock, call: object, path: str
) -> None:
    """Rule: names, contacts and purposes are short text, addresses long text (policy)."""
    limits = LimitsPolicy(max_short_text=20, max_long_text=50)
    desk = CustomerDesk(store, clock=clock, policy=Policy(limits=limits))
    register(desk)
    before = snapshot(store)
    assert callable(call)
    with pytest.raises(ValidationError) as info:
        call(desk)
    assert [p for p, _ in info.value.errors] == [path]
    assert snapshot(store) == before


def test_permission_is_checked_before_the_customer_is_looked_up(desk: CustomerDesk) -> None:
    """Rule: an outsider learns nothing about which customer ids exist."""
    for call in (
        lambda: desk.get_customer("CU-404", by=WAREHOUSE),
        lambda: desk.change_customer("CU-404", phone="027-1", by=WAREHOUSE),
        lambda: desk.access_log("CU-404", by=WAREHOUSE),
    ):
        assert isinstance(refused(call), PermissionDenied)


def test_a_change_names_each_field_and_refuses_unknown_ones(
    desk: CustomerDesk, store: Store
) -> None:
    customer = register(desk, birthday=date(1980, 5, 17))
    before = snapshot(store)
    bad: list[dict[str, object]] = [
        {"code": "X-1"},
        {"changes": ()},
        {"phone": 13800138000},
        {"birthday": "x"},
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            desk.change_customer(customer.id, by=CLERK, **fields)  # type: ignore[arg-type]
    assert snapshot(store) == before
    cleared, _ = desk.change_customer(customer.id, birthday=None, by=CLERK)
    assert cleared.birthday is None
    assert [(c.field, c.old, c.new) for c in cleared.changes] == [("birthday", "1980-05-17", None)]


def test_access_records_take_their_ids_from_the_store_tokens(
    desk: CustomerDesk, store: Store
) -> None:
    """Rule: a seeded store (the demo) gives the same access-record ids every run."""
    customer = register(desk)
    tokens = iter(["t1", "t2", "t3"])
    store.tokens = lambda: next(tokens)
    desk.get_customer(customer.id, by=SALES)
    assert [r.id for r in access_records(store)] == ["AR-20261102010000000000-t1"]


def test_every_public_customer_desk_method_is_a_use_case() -> None:
    """Rule (issue #14): every use case goes through the one skeleton, checks compiled."""
    found = use_cases(CustomerDesk)
    assert {
        "register_customer",
        "change_customer",
        "get_customer",
        "access_log",
        "find_customers",
        "assign_account_manager",
        "overdue_first_contacts",
        "hand_over_customers",
        "record_interaction",
        "interaction_log",
    } <= set(found)
    for spec in found.values():
        assert spec.checks()


# -- personal-data reads on record (issue #19 item 1) -----------------------------------------


def purposes(store: Store, customer_id: str) -> list[tuple[str, str]]:
    """Who read the customer's data for what, sorted (records of one instant have no order)."""
    with store.unit_of_work(readonly=True) as uow:
        found = uow.repo(ACCESS_LOG).find(customer_id=customer_id)
    return sorted((r.actor_id, r.purpose) for r in found)


def test_a_change_without_fields_returns_the_file_on_record(
    desk: CustomerDesk, store: Store
) -> None:
    # Rule (docs/domain.md 1, issue #19 item 1): change_customer(id) with no fields shows
    # the whole file, so it is a read on record like get_customer.
    customer = register(desk, phone="027-87654321")
    same, _ = desk.change_customer(customer.id, by=SALES)
    assert same == customer
    assert purposes(store, customer.id) == [(CLERK.id, "register"), (SALES.id, "change")]


def test_a_real_change_is_a_read_on_record(desk: CustomerDesk, store: Store) -> None:
    # Rule (docs/domain.md 1): the changed file returned is personal data shown to the actor.
    customer = register(desk)
    desk.change_customer(customer.id, by=SALES, address="Luoyu Rd 1")
    assert (SALES.id, "change") in purposes(store, customer.id)


def test_an_editor_without_customer_read_gets_the_file_redacted_and_nothing_recorded(
    store: Store, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 1 privacy): a role without customer.read sees id, code and
    # class, never the name, contacts, address or bank account.
    roles = {**DEFAULT_ROLE_PERMISSIONS, "data_entry": frozenset({"customer.edit"})}
    policy = Policy(access=AccessPolicy(role_permissions=roles))
    desk = CustomerDesk(store, clock=clock, policy=policy)
    typist = Actor("typist", {"data_entry"})
    saved, _ = desk.register_customer(
        name="Chen Wei", city="Wuhan", phone="13800138000", code_name="CW", by=typist
    )
    changed, _ = desk.change_customer(saved.id, by=typist, address="Luoyu Road 1")
    for shown in (saved, changed):
        assert (shown.name, shown.phone, shown.address) == (REDACTED, "", "")
        assert shown.code == "Wuhan-202611-CW-001"
    assert purposes(store, saved.id) == []
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.repo(CUSTOMERS).get(saved.id)
    assert (stored.name, stored.address) == ("Chen Wei", "Luoyu Road 1")


# -- class changes need a manager (issue #19 item 3) -------------------------------------------


@pytest.mark.parametrize("actor", [CLERK, SALES])
def test_changing_a_customer_class_needs_a_manager(
    desk: CustomerDesk, store: Store, actor: Actor
) -> None:
    # Rule (docs/domain.md 1 and 2): a class decides credit and prices (a dealer may be
    # credit-exempt), so customer.classify is needed besides customer.edit.
    customer = register(desk)
    before = snapshot(store)
    with pytest.raises(PermissionDenied) as info:
        desk.change_customer(customer.id, by=actor, customer_class="dealer")
    assert info.value.permission == "customer.classify"
    assert snapshot(store) == before


def test_a_class_change_by_a_manager_is_in_the_files_history(
    desk: CustomerDesk, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 1): who, when, old class, new class are kept with the file.
    customer = register(desk)
    clock.advance(timedelta(days=1))
    changed, _ = desk.change_customer(customer.id, by=MANAGER, customer_class="dealer")
    assert [(c.by, c.at, c.old, c.new) for c in changed.history_of("customer_class")] == [
        (MANAGER.id, MONDAY + timedelta(days=1), "ordinary", "dealer")
    ]


# -- supporting documents and the filing document (docs/domain.md 9) ---------------------------


@pytest.mark.parametrize(("field", "value"), [("phone", "027-1"), ("bank_account", "6222 9")])
def test_a_phone_or_bank_account_change_needs_its_supporting_document(
    desk: CustomerDesk, store: Store, field: str, value: str
) -> None:
    # Rule (docs/domain.md 9): a bank change needs 开户身份证及新卡号的复印件; the
    # reference is stored in the history.
    customer = register(desk, phone="027-87654321", bank_account="6222 1")
    before = snapshot(store)
    with pytest.raises(ValidationError) as info:
        desk.change_customer(customer.id, by=CLERK, **{field: value})  # type: ignore[arg-type]
    assert [path for path, _ in info.value.errors] == ["document"]
    assert snapshot(store) == before
    changed, _ = desk.change_customer(
        customer.id,
        by=CLERK,
        document="COPY-17",
        **{field: value},  # type: ignore[arg-type]
    )
    assert [(c.new, c.document) for c in changed.history_of(field)] == [(value, "COPY-17")]


def test_a_shared_bank_account_is_blocked_until_a_filing_document_is_given(
    desk: CustomerDesk, store: Store
) -> None:
    # Rule (docs/domain.md 9): a bank account already on another customer is kept only
    # after 提供备案文件 (RuleViolation shared_bank_account, nothing written).
    first = register(desk, bank_account="6222 0210 0100 1234")
    second = register(desk, name="Keda", bank_account="1111")
    before = snapshot(store)
    for call in (
        lambda: desk.register_customer(
            name="Other", city="Hefei", bank_account="6222-0210-0100-1234", by=CLERK
        ),
        lambda: desk.change_customer(
            second.id, by=CLERK, bank_account="62220210 01001234", document="COPY-1"
        ),
    ):
        error = refused(call)
        assert isinstance(error, RuleViolation)
        assert (error.code, error.details["others"]) == ("shared_bank_account", [first.id])
    assert snapshot(store) == before
    changed, warning = desk.change_customer(
        second.id,
        by=CLERK,
        bank_account="62220210 01001234",
        document="COPY-1",
        filing_document="FILE-9",
    )
    assert warning is not None
    assert changed.bank_account_filing == "FILE-9"
    assert [c.field for c in changed.changes] == ["bank_account", "bank_account_filing"]


def test_market_type_customer_type_and_delivery_route_are_on_the_file(
    desk: CustomerDesk,
) -> None:
    # Rule (docs/domain.md 9): onboarding fields; changes are logged; bad values named.
    customer = register(desk, market_type="research", customer_type="company", delivery_route="R-3")
    assert (customer.market_type, customer.customer_type, customer.delivery_route) == (
        "research",
        "company",
        "R-3",
    )
    changed, _ = desk.change_customer(customer.id, by=CLERK, delivery_route="R-4")
    assert [(c.old, c.new) for c in changed.history_of("delivery_route")] == [("R-3", "R-4")]
    with pytest.raises(ValidationError) as info:
        desk.change_customer(customer.id, by=CLERK, market_type=7)  # type: ignore[arg-type]
    assert [path for path, _ in info.value.errors] == ["market_type"]


# -- account managers (docs/domain.md 9) ---------------------------------------------------------


def test_a_newly_assigned_account_manager_contacts_the_customer_within_a_week(
    desk: CustomerDesk, store: Store, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 9): 确定客户所属的客户经理; a newly assigned customer is
    # contacted within a week (CustomerPolicy.first_contact_within, 7 days).
    early = register(desk, account_manager="wang.am")
    late = register(desk, name="Keda")
    assigned = desk.assign_account_manager(late.id, manager="liu.am", by=CLERK)
    assert assigned.first_contact_due == MONDAY + timedelta(days=7)
    assert (CLERK.id, "assign") in purposes(store, late.id)
    clock.advance(timedelta(days=7, seconds=1))
    due = desk.overdue_first_contacts(by=CLERK)
    assert [(d.customer_id, d.account_manager) for d in due] == [
        (early.id, "wang.am"),
        (late.id, "liu.am"),
    ]
    assert [d.customer_id for d in desk.overdue_first_contacts(by=CLERK, manager="LIU.am")] == [
        late.id
    ]
    desk.record_interaction(
        late.id, channel="call", summary="introduced myself", by=Actor("liu.am", {"salesperson"})
    )
    desk.record_interaction(early.id, channel="visit", summary="someone else", by=CLERK)
    assert [d.customer_id for d in desk.overdue_first_contacts(by=CLERK)] == [early.id]
    assert desk.overdue_first_contacts(by=CLERK, at=MONDAY) == []


def test_taking_a_customer_from_another_manager_needs_a_manager(desk: CustomerDesk) -> None:
    # Rule (docs/domain.md 9 and 1): reassigning a customer is a manager's decision.
    customer = register(desk, account_manager="wang.am")
    with pytest.raises(PermissionDenied):
        desk.assign_account_manager(customer.id, manager="zhang.sales", by=SALES)
    moved = desk.assign_account_manager(customer.id, manager="zhang.sales", by=MANAGER)
    assert [(c.old, c.new, c.by) for c in moved.history_of("account_manager")] == [
        ("wang.am", "zhang.sales", MANAGER.id)
    ]


def test_a_leaving_employees_customers_go_to_one_successor_on_record(
    desk: CustomerDesk, store: Store, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 9): when staff leave, 指派其员工接替: one use case, each file's
    # history and one handover record; the successor owes a first contact.
    first = register(desk, account_manager="wang.am")
    second = register(desk, name="Keda", account_manager="Wang.AM ")
    other = register(desk, name="Third", account_manager="liu.am")
    clock.advance(timedelta(days=30))
    with pytest.raises(PermissionDenied):
        desk.hand_over_customers(leaving="wang.am", successor="zhang.sales", by=SALES)
    handover = desk.hand_over_customers(
        leaving="wang.am", successor="zhao.am", by=MANAGER, reason="left the company"
    )
    assert handover.customer_ids == (first.id, second.id)
    with store.unit_of_work(readonly=True) as uow:
        files = {c.id: c for c in uow.repo(CUSTOMERS).find()}
        (stored,) = uow.repo(CUSTOMER_HANDOVERS).find()
        events = [e.type for e in uow.outbox.find(type="CustomerHandedOver")]
    assert stored == handover
    assert events == ["CustomerHandedOver"]
    for customer_id in (first.id, second.id):
        (entry,) = files[customer_id].history_of("account_manager")
        assert (entry.new, entry.by, entry.document) == ("zhao.am", MANAGER.id, handover.id)
        assert files[customer_id].first_contact_due == clock.now() + timedelta(days=7)
    assert files[other.id].account_manager == "liu.am"
    with pytest.raises(ValidationError):
        desk.hand_over_customers(leaving="zhao.am", successor=" ZHAO.am", by=MANAGER)


def test_a_handover_is_atomic(
    desk: CustomerDesk, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule (docs/domain.md 9): all files change hands or none.
    register(desk, account_manager="wang.am")
    register(desk, name="Keda", account_manager="wang.am")
    before = snapshot(store)

    def fail(*_args: object) -> object:
        raise ValidationError.at("record", "the handover record could not be stored")

    monkeypatch.setattr(desk, "create", fail)
    with pytest.raises(ValidationError):
        desk.hand_over_customers(leaving="wang.am", successor="zhao.am", by=MANAGER)
    assert snapshot(store) == before


# -- the interaction log (docs/domain.md 9 and 3.5) ------------------------------------------


def test_the_interaction_log_keeps_who_when_channel_and_summary(
    desk: CustomerDesk, store: Store, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 9, contact report): calls, visits, letters, messages are logged.
    customer = register(desk)
    desk.record_interaction(customer.id, channel="letter", summary="sent the catalogue", by=SALES)
    clock.advance(timedelta(hours=1))
    desk.record_interaction(
        customer.id,
        channel=InteractionChannel.VISIT,
        summary="follow-up visit",
        by=CLERK,
        source="complaint_follow_up",
        subject_id="CP-1",
    )
    log = desk.interaction_log(customer.id, by=CLERK)
    assert [(e.channel, e.by, e.summary, e.source) for e in log] == [
        (InteractionChannel.VISIT, CLERK.id, "follow-up visit", "complaint_follow_up"),
        (InteractionChannel.LETTER, SALES.id, "sent the catalogue", ""),
    ]
    assert [e.summary for e in desk.interaction_log(customer.id, by=CLERK, channel="letter")] == [
        "sent the catalogue"
    ]
    assert outbox_types(store).count("InteractionRecorded") == 2


def test_listing_the_interaction_log_is_a_personal_data_read(
    desk: CustomerDesk, store: Store
) -> None:
    # Rule (docs/domain.md 1): a listing is on record; without customer.read it is redacted.
    customer = register(desk)
    desk.record_interaction(customer.id, channel="call", summary="Chen Wei: 13800138000", by=SALES)
    desk.interaction_log(customer.id, by=SALES, purpose="call prep")
    assert (SALES.id, "call prep") in purposes(store, customer.id)
    before = purposes(store, customer.id)
    (hidden,) = desk.interaction_log(customer.id, by=Actor.system())
    assert hidden.summary == REDACTED
    assert purposes(store, customer.id) == before
    with pytest.raises(PermissionDenied):
        desk.interaction_log(customer.id, by=WAREHOUSE)


def test_an_interaction_needs_a_known_customer_and_a_past_moment(
    desk: CustomerDesk, store: Store
) -> None:
    # Rule (issue #19 item 3): linked ids must exist; a contact is recorded after it happens.
    customer = register(desk)
    before = snapshot(store)
    with pytest.raises(NotFound):
        desk.record_interaction("CU-404", channel="call", summary="x", by=SALES)
    with pytest.raises(ValidationError) as info:
        desk.record_interaction(
            customer.id,
            channel="call",
            summary="x",
            by=SALES,
            at=MONDAY + timedelta(days=1),
        )
    assert [path for path, _ in info.value.errors] == ["at"]
    with pytest.raises(ValidationError):
        desk.record_interaction(customer.id, channel="fax", summary="x", by=SALES)
    assert snapshot(store) == before
