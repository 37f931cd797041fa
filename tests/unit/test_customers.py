"""Customer files: codes, change log, duplicate warning, permissions (docs/domain.md 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.audit import AccessRecord, access_record
from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import QuietHours
from csdomain.customers import (
    REDACTED,
    Customer,
    CustomerChanged,
    CustomerClass,
    CustomerFieldChange,
    CustomerPolicy,
    CustomerRegistered,
    DuplicateContactWarning,
    DuplicateMatch,
    Interaction,
    InteractionChannel,
    customer_events,
    duplicate_contacts,
    interaction_id,
    next_customer_code,
    normalise_bank_account,
    normalise_phone,
    redacted,
    redacted_interaction,
    require_filing_for_shared_account,
)
from csdomain.errors import PermissionDenied, RuleViolation, ValidationError
from csdomain.money import Money
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_orders import customers


ACCESS = AccessPolicy()
CLERK = Actor("li.clerk", {"specialist"})
SALES = Actor("zhang.sales", {"salesperson"})
MANAGER = Actor("zhao.dm", {"department_manager"})
AUDITOR = Actor("wang.audit", {"finance"})
T0 = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


class Counters:
    """An in-memory counter source like the unit of work's."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def next_counter(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]


def make(customer_id: str = "C1", **fields: object) -> Customer:
    values: dict[str, object] = {"code": "Wuhan-202611-Huake-001", "name": "Huake Bio"}
    values.update(fields)
    return Customer.register(id=customer_id, at=T0, by=CLERK, access=ACCESS, **values)  # type: ignore[arg-type]


def test_customer_code_is_city_month_name_serial() -> None:
    counters = Counters()
    policy = CustomerPolicy()
    first = next_customer_code(counters, at=T0, city="Wuhan", name="Huake", policy=policy)
    second = next_customer_code(counters, at=T0, city="Wuhan", name="Huake", policy=policy)
    assert first == "Wuhan-202611-Huake-001"
    assert second == "Wuhan-202611-Huake-002"


def test_customer_code_serial_counts_the_customers_of_the_city_and_month() -> None:
    # the serial counts the customers contacted in that city and month, not per name
    counters = Counters()
    policy = CustomerPolicy()

    def code(city: str, name: str) -> str:
        return next_customer_code(counters, at=T0, city=city, name=name, policy=policy)

    assert [code("Wuhan", "Huake"), code("Wuhan", "Keda"), code("Shanghai", "Huadong")] == [
        "Wuhan-202611-Huake-001",
        "Wuhan-202611-Keda-002",
        "Shanghai-202611-Huadong-001",
    ]
    # the name is not part of the counter: one counter per city and month
    assert sorted(counters.values) == ["series:Shanghai-202611-*-#", "series:Wuhan-202611-*-#"]


def test_customer_code_serial_continues_after_codes_numbered_per_name() -> None:
    # a store written when the serial counted per name: Huake-001, Huake-002, Keda-001 in
    # Wuhan this month and no city-and-month counter yet; the next code is the fourth
    counters = Counters()
    counters.values["series:Wuhan-202611-Huake-#"] = 2
    counters.values["series:Wuhan-202611-Keda-#"] = 1
    asked: list[str] = []

    def codes_in_use(prefix: str) -> int:
        asked.append(prefix)
        return 3 if prefix == "Wuhan-202611-" else 0

    def code(name: str, city: str = "Wuhan") -> str:
        return next_customer_code(
            counters, at=T0, city=city, name=name, policy=CustomerPolicy(),
            codes_in_use=codes_in_use,
        )  # fmt: skip

    assert code("Huake") == "Wuhan-202611-Huake-004"
    assert code("Keda") == "Wuhan-202611-Keda-005"
    assert code("Lab", city="Beijing") == "Beijing-202611-Lab-001"
    # the codes in use are counted once, when the city and month's counter starts
    assert asked == ["Wuhan-202611-", "Beijing-202611-"]


def test_customer_code_serial_restarts_every_month() -> None:
    counters = Counters()
    policy = CustomerPolicy()
    next_customer_code(counters, at=T0, city="Wuhan", name="Huake", policy=policy)
    december = datetime(2026, 12, 1, 2, tzinfo=UTC)
    code = next_customer_code(counters, at=december, city="Wuhan", name="Huake", policy=policy)
    assert code == "Wuhan-202612-Huake-001"


def test_customer_code_month_is_read_in_the_policy_time_zone() -> None:
    late_utc = datetime(2026, 11, 30, 17, tzinfo=UTC)
    code = next_customer_code(
        Counters(), at=late_utc, city="Wuhan", name="Huake", policy=CustomerPolicy()
    )
    assert code == "Wuhan-202612-Huake-001"


def test_customer_code_pattern_is_configurable() -> None:
    policy = CustomerPolicy(code_pattern="{city}{yy}{mm}{seq:05d}")
    code = next_customer_code(Counters(), at=T0, city="BJ", name="ignored", policy=policy)
    assert code == "BJ261100001"


def test_customer_code_needs_a_city_and_name() -> None:
    with pytest.raises(ValidationError) as info:
        next_customer_code(Counters(), at=T0, city="  ", name="x", policy=CustomerPolicy())
    assert info.value.errors == [("city", "must not be empty")]


def test_every_change_is_kept_with_who_when_old_and_new() -> None:
    customer = make(phone="13800138000", bank_account="6222 0001")
    later = T0 + timedelta(days=3)
    changed = customer.change(
        at=later,
        by=MANAGER,
        access=ACCESS,
        document="DOC-1",
        phone="13900000000",
        customer_class=CustomerClass.VIP,
    )
    assert changed.phone == "13900000000"
    assert changed.customer_class is CustomerClass.VIP
    entries = {(c.field, c.old, c.new, c.at, c.by) for c in changed.changes}
    assert entries == {
        ("phone", "13800138000", "13900000000", later, MANAGER.id),
        ("customer_class", "ordinary", "vip", later, MANAGER.id),
    }
    again = changed.change(
        at=later + timedelta(days=1), by=CLERK, access=ACCESS, phone="1", document="DOC-2"
    )
    assert [c.new for c in again.history_of("phone")] == ["13900000000", "1"]


def test_changing_the_class_needs_the_classify_permission() -> None:
    # Rule (docs/domain.md 1, issue #19 item 3): a class decides credit and prices, so a
    # specialist or salesperson cannot make a customer a dealer; a manager can, on record.
    customer = make()
    for actor in (CLERK, SALES):
        with pytest.raises(PermissionDenied) as info:
            customer.change(at=T0, by=actor, access=ACCESS, customer_class="dealer")
        assert info.value.permission == "customer.classify"
    changed = customer.change(at=T0, by=MANAGER, access=ACCESS, customer_class="dealer")
    assert [(c.field, c.old, c.new, c.by, c.at) for c in changed.history_of("customer_class")] == [
        ("customer_class", "ordinary", "dealer", MANAGER.id, T0)
    ]
    assert customer.change(at=T0, by=CLERK, access=ACCESS, customer_class="ordinary") is customer


@pytest.mark.parametrize("field", ["phone", "bank_account"])
def test_a_phone_or_bank_account_change_carries_its_supporting_document(field: str) -> None:
    # Rule (docs/domain.md 9): a bank change needs 开户身份证及新卡号的复印件; the reference
    # is kept with the change.
    customer = make(phone="13800138000", bank_account="6222 0001")
    value = "13912345678" if field == "phone" else "6222 0002"
    with pytest.raises(ValidationError) as info:
        customer.change(at=T0, by=CLERK, access=ACCESS, **{field: value})
    assert [path for path, _ in info.value.errors] == ["document"]
    changed = customer.change(
        at=T0, by=CLERK, access=ACCESS, document="ID-2026-7", **{field: value}
    )
    (entry,) = changed.history_of(field)
    assert (entry.new, entry.document) == (value, "ID-2026-7")
    assert (
        customer.change(at=T0, by=CLERK, access=ACCESS, address="Luoyu Rd 1").changes[0].document
        == ""
    )


def test_a_new_bank_account_keeps_its_filing_document_or_none() -> None:
    # Rule (docs/domain.md 9): the filing document (备案文件) belongs to the bank account.
    customer = make(bank_account="6222 0001")
    filed = customer.change(
        at=T0,
        by=CLERK,
        access=ACCESS,
        bank_account="6222 0002",
        document="D",
        filing_document="F-1",
    )
    assert filed.bank_account_filing == "F-1"
    assert [c.field for c in filed.changes] == ["bank_account", "bank_account_filing"]
    moved = filed.change(at=T0, by=CLERK, access=ACCESS, bank_account="6222 0003", document="D")
    assert moved.bank_account_filing == ""


def test_a_shared_bank_account_is_refused_without_a_filing_document() -> None:
    # Rule (docs/domain.md 9): 提供备案文件 before a bank account already on another
    # customer is kept.
    first = make("C1", bank_account="6222 0001")
    second = make("C2", bank_account="6222-0001")
    warning = duplicate_contacts(second, [first])
    with pytest.raises(RuleViolation) as info:
        require_filing_for_shared_account(second, warning)
    assert (info.value.code, info.value.details["others"]) == ("shared_bank_account", ["C1"])
    filed = make("C2", bank_account="6222-0001", bank_account_filing="F-9")
    require_filing_for_shared_account(filed, duplicate_contacts(filed, [first]))
    phone_only = duplicate_contacts(make("C3", phone="1"), [make("C4", phone="1")])
    require_filing_for_shared_account(make("C3", phone="1"), phone_only)


def test_a_newly_assigned_account_manager_owes_a_first_contact_within_a_week() -> None:
    # Rule (docs/domain.md 9): a newly assigned customer is contacted within a week.
    week = CustomerPolicy().first_contact_within
    assert week == timedelta(days=7)
    customer = make(account_manager="wang.am", first_contact_within=week)
    assert customer.first_contact_due == T0 + week
    later = T0 + timedelta(days=2)
    moved = customer.assign_account_manager(
        "liu.am", at=later, by=CLERK, access=ACCESS, within=week, document="HO-1"
    )
    assert (moved.account_manager, moved.first_contact_due) == ("liu.am", later + week)
    assert [(c.old, c.new, c.document) for c in moved.history_of("account_manager")] == [
        ("wang.am", "liu.am", "HO-1")
    ]
    assert moved.value_at("account_manager", T0) == "wang.am"
    same = moved.assign_account_manager(" LIU.am", at=later, by=CLERK, access=ACCESS, within=week)
    assert same is moved
    assert moved.contacted(by="wang.am", at=later) is moved
    assert moved.contacted(by="liu.am", at=T0) is moved
    assert moved.contacted(by="Liu.AM", at=later + timedelta(days=9)).first_contact_due is None
    with pytest.raises(ValidationError):
        moved.assign_account_manager(" ", at=later, by=CLERK, access=ACCESS, within=week)
    with pytest.raises(PermissionDenied):
        moved.assign_account_manager("x", at=later, by=AUDITOR, access=ACCESS, within=week)


def test_a_role_without_customer_read_sees_no_personal_data() -> None:
    # Rule (docs/domain.md 1 privacy, issue #19 item 1): name, contacts, address, bank
    # account, legal representative, birthday are redacted; id, code, class, city stay
    # (the code holds the name given for it, code_name: a short name keeps it apart).
    customer = make(
        code="Wuhan-202611-HK-001",
        phone="13800138000",
        email="chen.wei@example.com",
        address="Luoyu Road 1",
        bank_account="6222 0001",
        legal_representative="Chen Da",
        birthday=date(1980, 5, 17),
        market_type="research",
    ).change(at=T0, by=CLERK, access=ACCESS, phone="13912345678", document="D-1", city="Hefei")
    hidden = redacted(customer)
    assert (hidden.id, hidden.code, hidden.city, hidden.market_type) == (
        customer.id,
        customer.code,
        "Hefei",
        "research",
    )
    assert hidden.name == REDACTED
    text = to_json(hidden).decode()
    for secret in (
        "Huake",
        "13800138000",
        "13912345678",
        "chen.wei",
        "Luoyu",
        "6222",
        "Chen Da",
        "1980",
    ):
        assert secret not in text, secret
    assert [(c.field, c.new) for c in hidden.changes] == [("city", "Hefei"), ("phone", REDACTED)]


def test_an_interaction_is_a_call_visit_letter_or_message() -> None:
    # Rule (docs/domain.md 9 contact report, 3.5 visit log): who, when, channel, summary.
    entry = Interaction(
        id=interaction_id(T0, "t1"),
        customer_id="C1",
        channel="visit",
        at=T0,
        by="liu.am",
        summary="Visited the lab",
    )
    assert entry.id == "IA-20261103093000000000-t1"
    assert entry.channel is InteractionChannel.VISIT
    assert {c.value for c in InteractionChannel} == {"call", "visit", "letter", "message"}
    with pytest.raises(ValidationError) as info:
        attrs.evolve(entry, channel="fax")
    assert [path for path, _ in info.value.errors] == ["channel"]
    with pytest.raises(ValidationError):
        attrs.evolve(entry, summary=" ")
    assert redacted_interaction(entry).summary == REDACTED
    assert from_json(Interaction, to_json(entry)) == entry


@pytest.mark.parametrize(
    ("field", "value"), [("market_type", 7), ("customer_type", None), ("delivery_route", b"r")]
)
def test_market_type_customer_type_and_delivery_route_are_text(field: str, value: object) -> None:
    # Rule (docs/domain.md 9): onboarding fields; a bad value is refused naming the field.
    assert (
        make(market_type="research", customer_type="company", delivery_route="R-3").delivery_route
        == "R-3"
    )
    with pytest.raises(ValidationError) as info:
        make("C1", **{field: value})
    assert [path for path, _ in info.value.errors] == [field]


def test_an_unchanged_value_leaves_no_log_entry() -> None:
    customer = make(phone="13800138000")
    assert customer.change(at=T0, by=CLERK, access=ACCESS, phone="13800138000") is customer


def test_identity_and_log_cannot_be_changed() -> None:
    customer = make()
    with pytest.raises(ValidationError) as info:
        customer.change(at=T0, by=CLERK, access=ACCESS, id="C2", code="X", changes=())
    assert {path for path, _ in info.value.errors} == {"id", "code", "changes"}


def test_changed_values_are_validated() -> None:
    customer = make()
    with pytest.raises(ValidationError):
        customer.change(at=T0, by=CLERK, access=ACCESS, email="not-an-address")
    with pytest.raises(ValidationError):
        customer.change(at=T0, by=CLERK, access=ACCESS, customer_class="emperor")
    with pytest.raises(ValidationError):
        customer.change(at=T0, by=CLERK, access=ACCESS, registered_capital="100")


def test_value_at_reads_the_change_log() -> None:
    customer = make(address="Old Road 1")
    moved = customer.change(at=T0 + timedelta(days=10), by=CLERK, access=ACCESS, address="New 2")
    assert moved.value_at("address", T0 + timedelta(days=1)) == "Old Road 1"
    assert moved.value_at("address", T0 + timedelta(days=11)) == "New 2"


def test_complex_values_are_logged_as_text() -> None:
    customer = make()
    changed = customer.change(
        at=T0,
        by=CLERK,
        access=ACCESS,
        registered_capital=Money.of("5000000", "CNY"),
        rest_hours=QuietHours(start=time(12), end=time(14)),
        birthday=date(1980, 5, 17),
    )
    logged = {c.field: c.new for c in changed.changes}
    assert logged == {
        "registered_capital": "5000000.00 CNY",
        "rest_hours": "12:00:00-14:00:00 Asia/Shanghai",
        "birthday": "1980-05-17",
    }


def test_registering_a_customer_needs_edit_permission() -> None:
    with pytest.raises(PermissionDenied):
        Customer.register(id="C9", code="X", name="Y", at=T0, by=AUDITOR, access=ACCESS)


def test_changing_a_customer_needs_edit_permission() -> None:
    with pytest.raises(PermissionDenied):
        make().change(at=T0, by=AUDITOR, access=ACCESS, phone="1")


def test_a_customer_file_needs_a_name_and_aware_times() -> None:
    with pytest.raises(ValidationError):
        make(name=" ")
    with pytest.raises(ValidationError):
        Customer.register(
            id="C1",
            code="X",
            name="Y",
            at=datetime(2026, 1, 1),
            by=CLERK,
            access=ACCESS,
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 7),
        ("code", None),
        ("name", b"Huake"),
        ("customer_class", ["vip"]),
        ("phone", 13800138000),
        ("email", ("a@b",)),
        ("address", 1.5),
        ("city", None),
        ("business_scope", {"x": 1}),
        ("registered_capital", "100.00 CNY"),
        ("rest_hours", "12:00-14:00"),
        ("birthday", datetime(1980, 5, 17, tzinfo=UTC)),
        ("created_at", "2026-11-03T09:30:00+00:00"),
        ("created_by", 0),
        ("changes", ["not a change"]),
        ("changes", "abc"),
    ],
)
def test_a_customer_file_refuses_wrong_types_when_built(field: str, value: object) -> None:
    """Rule: domain aggregates refuse wrong types at construction (a ValidationError)."""
    fields: dict[str, object] = {"id": "C1", "code": "X-1", "name": "Huake", field: value}
    with pytest.raises(ValidationError) as info:
        Customer(**fields)  # type: ignore[arg-type]
    assert info.value.errors[0][0].split(".")[0] == field


@pytest.mark.parametrize(
    ("field", "value"),
    [("field", 3), ("old", 1.5), ("new", b"x"), ("at", "2026-11-03"), ("by", None)],
)
def test_a_change_log_entry_refuses_wrong_types_when_built(field: str, value: object) -> None:
    fields: dict[str, object] = {"field": "phone", "old": None, "new": "1", "at": T0, "by": "li"}
    fields[field] = value
    with pytest.raises(ValidationError) as info:
        CustomerFieldChange(**fields)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("customer_id", 7),
        ("actor_id", None),
        ("at", datetime(2026, 11, 3)),
        ("at", "2026-11-03T09:30:00+00:00"),
        ("purpose", 1.5),
    ],
)
def test_an_access_record_refuses_wrong_types_when_built(field: str, value: object) -> None:
    """Rule: an access record holds text ids, an aware time and a text purpose."""
    fields: dict[str, object] = {
        "id": "AR-1",
        "customer_id": "C1",
        "actor_id": "li",
        "at": T0,
        "purpose": "call",
    }
    fields[field] = value
    with pytest.raises(ValidationError) as info:
        AccessRecord(**fields)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == field


def test_an_access_record_id_sorts_by_utc_time_then_token() -> None:
    shanghai = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    record = access_record("C1", by="li", at=shanghai, purpose="call", token="abc123")  # noqa: S106
    assert record.id == "AR-20261103093000000000-abc123"
    assert (record.customer_id, record.actor_id, record.purpose) == ("C1", "li", "call")


def test_an_error_message_about_a_bad_contact_is_bounded() -> None:
    """Rule: error messages are bounded in size, whatever the input."""
    for field in ("email", "phone"):
        with pytest.raises(ValidationError) as info:
            make(**{field: "@@ " * 100_000})
        assert len(str(info.value)) < 500


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("+86 (010) 8765-4321", "1087654321"),
        ("0086 10 87654321", "1087654321"),
        ("010-87654321", "1087654321"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
    ],
)
def test_phone_numbers_are_normalised_before_comparison(raw: str, normalised: str) -> None:
    assert normalise_phone(raw) == normalised


def test_bank_accounts_are_normalised_before_comparison() -> None:
    assert normalise_bank_account("6222 0210-0100 12ab") == "622202100100" + "12AB"


def test_same_phone_number_on_two_customers_is_a_duplicate_warning() -> None:
    existing = [make("C1", phone="010-87654321"), make("C2", phone="13900000000")]
    candidate = make("C3", phone="+86 10 8765 4321")
    warning = duplicate_contacts(candidate, existing)
    assert isinstance(warning, DuplicateContactWarning)
    assert warning.matches == (DuplicateMatch("C1", "phone"),)  # type: ignore[arg-type]
    assert warning.customer_ids == ("C1",)
    assert "C1 (phone)" in str(warning)


def test_same_bank_account_on_two_customers_is_a_duplicate_warning() -> None:
    existing = [make("C1", bank_account="6222 0001 0002", phone="010-87654321")]
    candidate = make("C2", bank_account="6222-0001-0002", phone="010-87654321")
    warning = duplicate_contacts(candidate, existing)
    assert warning is not None
    assert warning.fields == {"phone", "bank_account"}
    assert warning.customer_ids == ("C1",)


def test_no_duplicate_warning_for_distinct_contacts_or_the_customer_itself() -> None:
    candidate = make("C1", phone="13800138000", bank_account="6222")
    assert duplicate_contacts(candidate, [candidate, make("C2", phone="13900000000")]) is None
    assert duplicate_contacts(make("C3"), [make("C4")]) is None


def test_index_keys_hold_the_normalised_contacts() -> None:
    customer = make(phone="+86 138 0013 8000", bank_account="6222 01")
    assert customer.phone_key == "13800138000"
    assert customer.bank_account_key == "622201"
    assert make().phone_key is None


def test_phone_tail_index_is_the_same_whatever_the_country_code_or_trunk_zero() -> None:
    """Rule: the duplicate-check index finds a number written with or without its code."""
    written = ["+44 20 7946 0958", "0044 20 7946 0958", "020 7946 0958", "2079460958"]
    assert {make(phone=p).phone_tail for p in written} == {"79460958"}
    assert make(phone="110").phone_tail == "110"
    assert make().phone_tail is None


def test_registration_and_changes_become_events() -> None:
    customer = make()
    later = T0 + timedelta(hours=1)
    changed = customer.change(
        at=later, by=CLERK, access=ACCESS, phone="1", city="Wuhan", document="D-1"
    )
    assert customer_events(None, customer) == [
        CustomerRegistered("C1", customer.code, CustomerClass.ORDINARY, T0, "li.clerk")
    ]
    assert customer_events(customer, changed) == [
        CustomerChanged("C1", ("city", "phone"), later, "li.clerk")
    ]


@given(customers())
def test_customer_round_trips_through_json(customer: Customer) -> None:
    assert from_json(Customer, to_json(customer)) == customer


def test_customer_policy_round_trips_through_json() -> None:
    policy = CustomerPolicy(code_pattern="{city}-{yyyy}{mm}-{seq:03d}", phone_country_code="1")
    assert from_json(CustomerPolicy, to_json(policy)) == policy


def test_bad_customer_policy_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        CustomerPolicy(code_pattern="{city}-no-serial")
    with pytest.raises(ValidationError):
        CustomerPolicy(phone_country_code="+86")


@given(
    customers(),
    st.lists(st.sampled_from(["13800138000", "13900000000", ""]), min_size=1, max_size=4),
)
def test_change_log_only_grows(customer: Customer, phones: list[str]) -> None:
    at = T0
    for phone in phones:
        at += timedelta(hours=1)
        changed = customer.change(at=at, by=CLERK, access=ACCESS, phone=phone, document="D")
        assert changed.changes[: len(customer.changes)] == customer.changes
        assert len(changed.changes) == len(customer.changes) + (phone != customer.phone)
        customer = changed
