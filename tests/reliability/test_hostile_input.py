"""Hostile input is refused with a CsDomainError and leaves the store as it was.

- ``from_json`` of every stored kind, fed arbitrary JSON, garbage bytes and valid documents
  with one part replaced, either returns a model that round-trips or raises
  :class:`~csdomain.errors.ValidationError`, never anything else.
- Every public desk method called with generated arguments, and the text and bool rules
  of their annotations: :mod:`tests.reliability.test_desk_boundary` (only
  :class:`~csdomain.errors.CsDomainError` subclasses escape; a refused call leaves the
  store's export byte-for-byte unchanged; every text parameter is bounded by its policy
  limit). Here: text inside an argument's model is bounded as well.
- Strings with SQL metacharacters, NUL, lone surrogates, RTL marks, emoji and 1 MB of text
  are stored and read back verbatim or refused with ``ValidationError``; lengths above the
  :class:`~csdomain.policy.LimitsPolicy` values are refused.
- Money: negative amounts, NaN, infinities, floats, too many decimals and mixed currencies
  are refused with a clear error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csdomain.kinds  # noqa: F401 - registers every stored kind
from csdomain.audit import AccessRecord
from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.desk.privacy import PrivacyDesk
from csdomain.errors import CsDomainError, CurrencyMismatch, ValidationError
from csdomain.events import event_types
from csdomain.kinds import COMPLAINTS, CUSTOMERS, MESSAGES, ORDERS
from csdomain.money import Money
from csdomain.notify import Message
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.policy import LimitsPolicy, Policy
from csdomain.satisfaction import Survey, SurveyItem
from csdomain.serialization import from_json, structure, to_json, unstructure
from csdomain.service import ServiceDesk
from csdomain.store import KINDS, OutboxEntry, Store, open_store
from csdomain.testing.conformance import HOSTILE_STRINGS
from csdomain.testing.strategies_kernel import aware_datetimes
from csdomain.transfer import export_lines, import_store
from csdomain.warranty import ProductRecord, WarrantyClaim


NOW = datetime(2026, 11, 2, 1, tzinfo=UTC)
BOSS = Actor(
    "boss",
    {"general_manager", "cs_manager", "specialist", "warehouse", "finance", "system"},
)
LONE_SURROGATE = "lone \ud800 surrogate"
HOSTILE = (
    *HOSTILE_STRINGS,
    LONE_SURROGATE,
    "\u200f\u202b\u0645\u0631\u062d\u0628\u0627\u202c",
    "🧪" * 1000,
)
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class Desk(ServiceDesk, PrivacyDesk):
    """Every use case, including the privacy desk's."""


def export(store: Store) -> bytes:
    return b"".join(export_lines(store))


# -- from_json of every stored kind --------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "CNY", "2026-11-02T01:00:00+00:00", "2026-11-02", "-1", "NaN"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
ANY_PYTHON = st.recursive(
    SCALARS | st.integers() | st.floats() | st.binary(max_size=8) | st.just(Decimal("NaN")),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
IDS = st.text(min_size=1, max_size=10).filter(str.strip)
OUTBOX_ENTRIES = st.builds(
    OutboxEntry,
    id=IDS,
    type=st.sampled_from(sorted(event_types())),
    payload=st.dictionaries(st.text(max_size=8), JSON, max_size=4),
    created_at=aware_datetimes(),
    status=st.sampled_from(["pending", "processed", "failed"]),
    processed_at=st.none() | aware_datetimes(),
    error=st.none() | st.text(max_size=20),
)
ACCESS_RECORDS = st.builds(
    AccessRecord, id=IDS, customer_id=IDS, actor_id=IDS, at=aware_datetimes(), purpose=st.text()
)
#: Valid documents of the kinds that have no registered strategy of their own.
VALID: dict[str, st.SearchStrategy[Any]] = {
    "outbox": OUTBOX_ENTRIES,
    "access_record": ACCESS_RECORDS,
}
STORED = sorted(KINDS, key=lambda k: k.name)


def valid_documents(kind: Any) -> st.SearchStrategy[Any]:
    if kind.name in VALID:
        return VALID[kind.name]
    return st.from_type(kind.cls)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside plain JSON data, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = replaced(value[head], tuple(rest), new)
    return copy


def parsed_or_refused(cls: type[Any], data: bytes) -> None:
    """``from_json`` gives a model that round-trips, or a ValidationError."""
    try:
        obj = from_json(cls, data)
    except ValidationError:
        return
    assert isinstance(obj, cls)
    assert from_json(cls, to_json(obj)) == obj


#: Each example below does four attacks at once, so fewer examples cover the same ground.
PER_KIND = settings(FUZZ, max_examples=max(5, (settings.default or settings()).max_examples // 2))


@pytest.mark.parametrize("kind", STORED, ids=lambda k: k.name)
@PER_KIND
@given(data=st.data())
def test_from_json_of_hostile_documents_refuses_with_validation_errors_only(
    kind: Any, data: st.DataObject
) -> None:
    fields = st.dictionaries(st.sampled_from(_field_names(kind)), JSON)
    parsed_or_refused(kind.cls, orjson.dumps(data.draw(JSON | fields, label="json")))
    raw = data.draw(st.binary(max_size=64) | st.text(max_size=64).map(str.encode), label="raw")
    parsed_or_refused(kind.cls, raw)
    document = orjson.loads(orjson.dumps(unstructure(data.draw(valid_documents(kind)))))
    places = list(paths(document))
    mutated = replaced(document, data.draw(st.sampled_from(places)), data.draw(JSON))
    parsed_or_refused(kind.cls, orjson.dumps(mutated))
    python = replaced(document, data.draw(st.sampled_from(places)), data.draw(ANY_PYTHON))
    with contextlib.suppress(ValidationError):
        structure(python, kind.cls)


def _field_names(kind: Any) -> list[str]:
    return [field.name for field in attrs.fields(kind.cls)]


# -- the seeded store ------------------------------------------------------------------------------

SURVEY = Survey(
    id="supplier-2026", title="Supplier survey", items=(SurveyItem("overall", "Overall"),)
)


def seed_export() -> list[bytes]:
    """A small store with one of everything the tests below refer to, as an export."""
    store = open_store("memory://")
    try:
        desk = Desk(store, clock=FixedClock(NOW))
        for name in ("Huake Lab", "Wang Fang"):
            desk.register_customer(name=name, city="Wuhan", phone="13800138000", by=BOSS)
        desk.receive_stock("AB-100", good=20, by=BOSS)
        order = desk.place_order(
            "CU-000001",
            channel="online",
            lines=[OrderLine("AB-100", 2, Money.of("18.50", "CNY"))],
            consignee=ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1"),
            by=BOSS,
        )
        desk.confirm_order(order.id, by=BOSS)
        desk.receive_complaint(
            "CU-000001",
            channel="phone",
            urgency="ordinary",
            category="product_quality",
            description="The vial leaked.",
            by=BOSS,
        )
        claim = WarrantyClaim(
            product_serial="SN000001",
            category="instrument",
            purchase_date=date(2026, 10, 1),
            proof="invoice",
            fault_date=date(2026, 11, 1),
            cause="performance_fault",
        )
        desk.submit_warranty_claim(
            claim,
            product=ProductRecord("SN000001", "Analyser X1", "instrument", date(2026, 10, 1)),
            customer_id="CU-000002",
            by=BOSS,
        )
        desk.define_survey(SURVEY, by=BOSS)
        desk.plan_survey_campaign(
            SURVEY.id, starts_on=date(2026, 11, 1), ends_on=date(2026, 12, 1), by=BOSS
        )
        with store.unit_of_work() as uow:
            uow.repo(MESSAGES).add(
                Message.create(
                    channel="sms",
                    recipient="13800138000",
                    kind="care",
                    body="Hello",
                    at=NOW,
                    customer_id="CU-000001",
                    key="care-1",
                )
            )
        return list(export_lines(store))
    finally:
        store.close()


SEED = seed_export()


def existing_ids() -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for line in SEED:
        record = orjson.loads(line)
        if "kind" in record:
            ids.setdefault(record["kind"], []).append(record["key"])
    return ids


IDS_OF = existing_ids()


# -- hostile strings -------------------------------------------------------------------------------


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    import_store(opened, SEED)
    yield opened
    opened.close()


def snapshot(store: Store) -> list[tuple[str, str, int, Any]]:
    """Every stored document as the backend holds it (objects or bytes) with its version;
    unlike an export it also covers text that JSON cannot hold (memory backend)."""
    with store.unit_of_work(readonly=True) as uow:
        return [
            (kind.name, key, version, doc)
            for kind in store.kinds
            for key, version, doc in uow.tx.find(kind.name, (), (("key", False),), None, 0)
        ]


def stored_or_refused(
    store: Store, call: Callable[[], Any], read: Callable[[], str], text: str
) -> None:
    before = snapshot(store)
    try:
        call()
    except ValidationError:
        assert snapshot(store) == before
        return
    assert read() == text


def read_back(store: Store, kind: Any, key: str, field: str) -> Callable[[], str]:
    def read() -> str:
        with store.unit_of_work(readonly=True) as uow:
            value: str = getattr(uow.repo(kind).get(key), field)
            return value

    return read


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]))
def test_hostile_strings_are_stored_verbatim_or_refused(store: Store, text: str) -> None:
    desk = Desk(store, clock=FixedClock(NOW))
    stored_or_refused(
        store,
        lambda: desk.change_customer("CU-000001", address=text, by=BOSS),
        read_back(store, CUSTOMERS, "CU-000001", "address"),
        text,
    )
    stored_or_refused(
        store,
        lambda: desk.register_customer(
            name="Lab", city="Wuhan", business_scope=text, id="CU-H", by=BOSS
        ),
        read_back(store, CUSTOMERS, "CU-H", "business_scope"),
        text,
    )
    complaint_ids: list[str] = []
    stored_or_refused(
        store,
        lambda: complaint_ids.append(
            desk.receive_complaint(
                "CU-000002",
                channel="email",
                urgency="ordinary",
                category="service",
                description=text,
                by=BOSS,
            ).id
        ),
        lambda: read_back(store, COMPLAINTS, complaint_ids[-1], "description")(),  # noqa: PLW0108
        text,
    )
    stored_or_refused(
        store,
        lambda: desk.cancel_order(IDS_OF["order"][0], reason=text, by=BOSS),
        lambda: read_back(store, ORDERS, IDS_OF["order"][0], "history")()[-1].note,  # type: ignore[attr-defined]
        text,
    )


def test_free_text_over_the_policy_limit_is_refused(store: Store) -> None:
    limits = LimitsPolicy(max_short_text=20, max_long_text=50)
    desk = Desk(store, policy=Policy(limits=limits), clock=FixedClock(NOW))
    before = export(store)
    for text in ("x" * 51, "x" * 1_000_000):
        with pytest.raises(ValidationError) as info:
            desk.receive_complaint(
                "CU-000001",
                channel="email",
                urgency="ordinary",
                category="service",
                description=text,
                by=BOSS,
            )
        assert info.value.errors[0] == ("description", "longer than 50 characters")
    with pytest.raises(ValidationError):
        desk.erase_customer("CU-000001", reason="x" * 21, by=BOSS)
    assert export(store) == before
    complaint = desk.receive_complaint(
        "CU-000001",
        channel="email",
        urgency="ordinary",
        category="service",
        description="x" * 50,
        by=BOSS,
    )
    assert complaint.description == "x" * 50


#: Free text inside an argument's model (the desk boundary test covers text parameters).
LIMITED_TEXT: dict[str, Callable[[Desk, str], Any]] = {
    "define_survey title": lambda desk, text: desk.define_survey(
        Survey(id="long", title=text, items=(SurveyItem("overall", "Overall"),)), by=BOSS
    ),
}


@pytest.mark.parametrize(
    "use_case",
    list(LIMITED_TEXT),
)
def test_free_text_inside_an_argument_model_is_bounded_by_the_limits_policy(
    use_case: str,
) -> None:
    store = open_store("memory://")
    try:
        import_store(store, SEED)
        desk = Desk(store, clock=FixedClock(NOW))
        before = export(store)
        with pytest.raises(ValidationError):
            LIMITED_TEXT[use_case](desk, "x" * (Policy().limits.max_long_text + 1))
        assert export(store) == before
    finally:
        store.close()


# -- money -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("-0.01", "CNY", "must not be negative"),
        ("NaN", "CNY", "must be finite"),
        ("Infinity", "CNY", "must be finite"),
        ("-Infinity", "CNY", "must be finite"),
        ("12.345", "CNY", "more than 2 decimal places"),
        ("12.5", "JPY", "more than 0 decimal places"),
        (12.5, "CNY", "float is not accepted"),
        ("1e30", "CNY", "too large"),
        ("twelve", "CNY", "not a decimal number"),
        ("12.00", "yuan", "not an ISO 4217 code"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_error(
    amount: Any, currency: str, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Money.of(amount, currency)
    assert message in str(info.value)


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(CurrencyMismatch, match="cannot combine CNY with USD"):
        Money.of("1.00", "CNY") + Money.of("1.00", "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1.00", "CNY") < Money.of("1.00", "USD")


def test_payments_and_prices_in_another_currency_are_refused_and_write_nothing(
    store: Store,
) -> None:
    desk = Desk(store, clock=FixedClock(NOW))
    order_id = IDS_OF["order"][0]
    before = export(store)
    refusals: list[Callable[[], Any]] = [
        lambda: desk.record_payment(order_id, Money.of("37.00", "USD"), by=BOSS),
        lambda: desk.record_payment(order_id, "37.00", by=BOSS),  # type: ignore[arg-type]
        lambda: desk.record_payment(order_id, 37.0, by=BOSS),  # type: ignore[arg-type]
        lambda: desk.record_payment(order_id, Decimal("37.00"), by=BOSS),  # type: ignore[arg-type]
        lambda: desk.change_price(order_id, "AB-100", Money.of("20.00", "USD"), by=BOSS),
        lambda: desk.place_order(
            "CU-000001",
            channel="online",
            lines=[
                OrderLine("AB-100", 1, Money.of("18.50", "CNY")),
                OrderLine("AB-200", 1, Money.of("5.00", "USD")),
            ],
            by=BOSS,
        ),
    ]
    for refuse in refusals:
        with pytest.raises(CsDomainError) as info:
            refuse()
        assert any(word in str(info.value) for word in ("CNY", "USD", "currency", "Money"))
        assert export(store) == before
    paid = desk.record_payment(order_id, Money.of("37.00", "CNY"), by=BOSS)
    assert paid.paid == Money.of("37.00", "CNY")


@given(amount=st.decimals(allow_nan=True, allow_infinity=True) | st.floats() | st.integers())
def test_money_of_any_number_is_exact_or_refused(amount: Any) -> None:
    try:
        money = Money.of(amount, "CNY")
    except ValidationError:
        return
    assert money.amount == Decimal(amount)
    assert money.amount >= 0
    assert money.amount == money.amount.quantize(Decimal("0.01"))
    assert not isinstance(amount, float)
