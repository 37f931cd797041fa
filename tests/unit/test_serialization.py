"""One converter for every model: strict JSON in, canonical JSON out (csdomain.serialization)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import validators
from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import as_utc
from csdomain.errors import ValidationError
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.orders import Order
from csdomain.serialization import (
    _json_native,
    from_json,
    make_converter,
    round_trip_verifier,
    structure,
    to_json,
    trusted_structure_hook,
    unstructure,
    validation_error_from,
)
from csdomain.store.outbox import OutboxEntry
from csdomain.testing.strategies_kernel import aware_datetimes, money, register_kernel_strategies
from csdomain.testing.strategies_orders import orders


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen
class Line:
    sku: str
    quantity: int
    price: Money


@attrs.frozen
class Doc:
    id: str
    count: int
    ratio: float
    active: bool
    created_at: datetime
    due: date
    opens: time
    wait: timedelta
    colour: Colour
    level: Level
    rate: Decimal
    tags: frozenset[str]
    lines: tuple[Line, ...]
    notes: dict[str, str]
    parent: str | None = None


def _doc(**changes: Any) -> Doc:
    base = Doc(
        id="D-1",
        count=3,
        ratio=0.5,
        active=True,
        created_at=datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        due=date(2026, 12, 3),
        opens=time(9, 30),
        wait=timedelta(minutes=90),
        colour=Colour.RED,
        level=Level.HIGH,
        rate=Decimal("0.125"),
        tags=frozenset({"vip", "dealer"}),
        lines=(
            Line("A-1", 2, Money.of("12.30", "CNY")),
            Line("B-2", 1, Money.of("5", "CNY")),
        ),
        notes={"zh": "客户投诉"},
    )
    return attrs.evolve(base, **changes)


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(to_json(_doc()))
    data.update(changes)
    return data


def _errors(data: Any, cls: type[Any] = Doc) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as err:
        structure(data, cls)
    return err.value.errors


def _paths(data: Any, cls: type[Any] = Doc) -> list[str]:
    return [path for path, _ in _errors(data, cls)]


def _outcome(parse: Callable[[], Doc]) -> Doc | ValidationError:
    """The parsed document, or the ValidationError; any other exception fails the test."""
    try:
        return parse()
    except ValidationError as err:
        return err


# -- the JSON shape ---------------------------------------------------------------------


def test_the_json_shape_of_each_field_type() -> None:
    data = orjson.loads(to_json(_doc()))
    assert data["created_at"] == "2026-11-30T09:30:00+08:00"
    assert data["due"] == "2026-12-03"
    assert data["opens"] == "09:30:00"
    assert data["wait"] == 5400
    assert data["colour"] == "red"
    assert data["level"] == 2
    assert data["rate"] == "0.125"
    assert data["lines"][0]["price"] == {"amount": "12.30", "currency": "CNY"}
    assert data["parent"] is None


def test_round_trip_gives_back_an_equal_object() -> None:
    doc = _doc()
    assert from_json(Doc, to_json(doc)) == doc
    assert from_json(Doc, to_json(doc).decode()) == doc


def test_sets_are_serialized_sorted_so_equal_objects_give_equal_bytes() -> None:
    one = _doc(tags=frozenset(["b", "a", "c", "客户"]))
    other = _doc(tags=frozenset(["客户", "c", "a", "b"]))
    assert one == other
    assert to_json(one) == to_json(other)
    assert orjson.loads(to_json(one))["tags"] == ["a", "b", "c", "客户"]


def test_fractional_durations_keep_their_fraction() -> None:
    assert unstructure(timedelta(seconds=1.5)) == 1.5
    assert structure(1.5, timedelta) == timedelta(seconds=1.5)


def test_enums_are_read_by_value_not_by_name() -> None:
    assert structure("blue", Colour) is Colour.BLUE
    assert structure(1, Level) is Level.LOW
    errors = _errors(_data(colour="BLUE"))
    assert errors[0][0] == "colour"
    assert "'red'" in errors[0][1]


# -- strictness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", "3"),
        ("count", True),
        ("count", 3.0),
        ("count", None),
        ("id", 1),
        ("active", 1),
        ("active", "true"),
        ("ratio", "0.5"),
        ("ratio", False),
        ("wait", "90m"),
        ("wait", True),
        ("due", "03/12/2026"),
        ("opens", "9am"),
        ("rate", 0.125),
        ("rate", "NaN"),
        ("rate", "Infinity"),
        ("rate", "lots"),
        ("created_at", "2026-11-30T09:30:00"),
        ("created_at", "yesterday"),
        ("created_at", 1767225600),
        ("level", 3),
        ("notes", ["zh"]),
        ("tags", "vip"),
        ("tags", {"vip": True}),
        ("lines", "A-1"),
        ("lines", {"sku": "A-1"}),
        ("lines", 7),
    ],
)
def test_primitives_are_strict_and_the_error_names_the_field(field: str, value: Any) -> None:
    assert _paths(_data(**{field: value})) == [field]


def test_naive_datetimes_are_refused() -> None:
    errors = _errors(_data(created_at="2026-11-30T09:30:00"))
    assert errors == [("created_at", errors[0][1])]
    assert "time zone" in errors[0][1]


def test_decimals_from_floats_are_refused() -> None:
    assert "float" in _errors(_data(rate=0.1))[0][1]
    assert structure("0.1", Decimal) == Decimal("0.1")
    assert structure(7, Decimal) == Decimal(7)


def test_unknown_keys_are_refused_with_their_path() -> None:
    assert _errors(_data(colour_name="red")) == [("colour_name", "unknown field")]
    data = _data()
    data["lines"][1]["discount"] = "1"
    assert _errors(data) == [("lines.1.discount", "unknown field")]
    data = _data()
    data["lines"][0]["price"]["cents"] = 1230
    assert _errors(data) == [("lines.0.price.cents", "unknown field")]


def test_missing_keys_are_reported_with_their_path() -> None:
    data = _data()
    del data["id"]
    assert _errors(data) == [("id", "required field missing")]
    data = _data()
    del data["lines"][0]["price"]["currency"]
    assert _errors(data) == [("lines.0.price.currency", "required field missing")]


def test_optional_fields_may_be_omitted_or_null() -> None:
    data = _data()
    del data["parent"]
    assert structure(data, Doc).parent is None
    assert structure(_data(parent="D-0"), Doc).parent == "D-0"
    assert _paths(_data(parent=5)) == ["parent"]


def test_nested_errors_carry_the_full_dotted_path() -> None:
    data = _data()
    data["lines"][0]["price"]["amount"] = 12.3
    data["lines"][1]["price"]["amount"] = "-5"
    data["lines"][1]["quantity"] = "1"
    assert sorted(_paths(data)) == [
        "lines.0.price.amount",
        "lines.1.price.amount",
        "lines.1.quantity",
    ]


def test_every_bad_field_is_reported_at_once() -> None:
    data = _data(id=None, count="x", colour="green")
    del data["due"]
    assert sorted(_paths(data)) == ["colour", "count", "due", "id"]


@pytest.mark.parametrize(
    "data", [b"", b"{", b"[1,", b"nul", b"\xff\xfe", b'{"id": NaN}', "{'id': 1}"]
)
def test_invalid_json_is_a_validation_error(data: bytes | str) -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        from_json(Doc, data)


@pytest.mark.parametrize("data", [b"[]", b"null", b'"doc"', b"42"])
def test_json_that_is_not_an_object_is_a_validation_error(data: bytes) -> None:
    with pytest.raises(ValidationError):
        from_json(Doc, data)


def test_money_from_json_refuses_floats_and_bad_currencies() -> None:
    with pytest.raises(ValidationError) as err:
        from_json(Money, b'{"amount": 1.5, "currency": "CNY"}')
    assert err.value.errors[0][0] == "amount"
    with pytest.raises(ValidationError) as err:
        from_json(Money, b'{"amount": "1.50", "currency": "yuan"}')
    assert err.value.errors[0][0] == "currency"
    assert from_json(Money, b'{"amount": 2, "currency": "JPY"}') == Money.of(2, "JPY")


def test_make_converter_builds_an_independent_converter_with_the_same_rules() -> None:
    conv = make_converter()
    assert from_json(Doc, to_json(_doc(), conv), conv) == _doc()
    with pytest.raises(ValidationError):
        structure(_data(count="3"), Doc, conv)


# -- properties ------------------------------------------------------------------------

_FIXED_ZONES = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=3, minutes=30))]
_texts = st.text(max_size=20)
_lines = st.builds(
    Line,
    sku=_texts,
    quantity=st.integers(-(2**63), 2**63 - 1),
    price=money(),
)
_docs = st.builds(
    Doc,
    id=_texts,
    count=st.integers(-(2**63), 2**63 - 1),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    active=st.booleans(),
    created_at=aware_datetimes(timezones=st.sampled_from(_FIXED_ZONES)),
    due=st.dates(),
    opens=st.times(),
    wait=st.integers(-(10**9), 10**9).map(lambda ms: timedelta(milliseconds=ms)),
    colour=st.sampled_from(Colour),
    level=st.sampled_from(Level),
    rate=st.decimals(allow_nan=False, allow_infinity=False),
    tags=st.frozensets(_texts, max_size=5),
    lines=st.lists(_lines, max_size=3).map(tuple),
    notes=st.dictionaries(_texts, _texts, max_size=3),
    parent=st.none() | _texts,
)


@given(_docs)
def test_every_document_round_trips_through_json(doc: Doc) -> None:
    data = to_json(doc)
    restored = from_json(Doc, data)
    assert restored == doc
    assert to_json(restored) == data


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_validation_error(data: bytes) -> None:
    outcome = _outcome(lambda: from_json(Doc, data))
    if isinstance(outcome, ValidationError):
        assert outcome.errors
        assert all(isinstance(path, str) and message for path, message in outcome.errors)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.sampled_from(["2026-01-01", "2026-01-01T00:00:00+08:00", "09:00", "12.30", "CNY"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_field_names = [field.name for field in attrs.fields(Doc)]


@given(_json)
def test_arbitrary_json_values_raise_nothing_but_validation_error(value: Any) -> None:
    outcome = _outcome(lambda: structure(value, Doc))
    assert isinstance(outcome, Doc) or outcome.errors


@given(st.dictionaries(st.sampled_from(_field_names), _json), st.booleans())
def test_documents_with_wrong_values_raise_nothing_but_validation_error(
    changes: dict[str, Any], drop: bool
) -> None:
    data = _data(**changes)
    if drop and changes:
        del data[next(iter(changes))]
    outcome = _outcome(lambda: structure(data, Doc))
    if isinstance(outcome, ValidationError):
        assert {path.split(".")[0] for path, _ in outcome.errors} <= set(changes) | {""}


@given(_json)
def test_wrong_line_items_are_reported_under_lines(value: Any) -> None:
    data = _data(lines=[value])
    outcome = _outcome(lambda: structure(data, Doc))
    if isinstance(outcome, ValidationError):
        assert all(path.startswith("lines") for path, _ in outcome.errors)


@given(aware_datetimes())
def test_datetimes_in_named_zones_keep_their_instant_and_offset(at: datetime) -> None:
    restored = structure(unstructure(at), datetime)
    assert restored.timestamp() == at.timestamp()
    assert restored.utcoffset() == at.utcoffset()
    assert structure(unstructure(at.astimezone(UTC)), datetime) == at.astimezone(UTC)


def test_registered_kernel_strategies_build_models_that_round_trip() -> None:
    register_kernel_strategies()

    @given(
        st.from_type(Money),
        st.from_type(BusinessCalendar),
        st.from_type(QuietHours),
        st.from_type(Actor),
    )
    def check(amount: Money, cal: BusinessCalendar, quiet: QuietHours, actor: Actor) -> None:
        for value in (amount, cal, quiet, actor):
            assert from_json(type(value), to_json(value)) == value

    check()


# -- generated fast paths --------------------------------------------------------------
#
# The module converter structures and unstructures attrs classes with generated functions;
# ``make_converter(generated=False)`` is the same converter on cattrs' own functions. Both
# must give equal objects, equal data, equal bytes and the very same errors.

_reference = make_converter(generated=False)


def _both(data: Any, cls: type[Any]) -> tuple[object, object]:
    def parse(conv: Any) -> object:
        try:
            return structure(data, cls, conv)
        except ValidationError as err:
            return err.errors

    return parse(None), parse(_reference)


@attrs.frozen
class Odd:
    _secret: str
    size: int = attrs.field(kw_only=True)
    tags: tuple[str, ...] = attrs.field(factory=tuple)
    colour: Colour | None = None
    members: frozenset[Colour] = frozenset()
    seen: list[datetime] = attrs.field(factory=list)


@attrs.define
class Counted:
    name: str
    length: int = attrs.field(init=False, default=0)


class Instant(datetime):
    pass


@attrs.frozen
class Stamp:
    at: datetime
    later: datetime | None = None


def _mutations(doc: Any) -> list[tuple[list[Any], str]]:
    """Every (path, action) that changes one place of a JSON document."""
    places: list[tuple[list[Any], str]] = []

    def walk(value: Any, path: list[Any]) -> None:
        if isinstance(value, dict):
            places.append((path, "add"))
            for key, item in value.items():
                places.append(([*path, key], "drop"))
                places.append(([*path, key], "set"))
                walk(item, [*path, key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                places.append(([*path, index], "set"))
                walk(item, [*path, index])

    walk(doc, [])
    return places


def _mutated(doc: Any, place: tuple[list[Any], str], value: Any) -> Any:
    path, action = place
    doc = orjson.loads(orjson.dumps(doc))
    if not path:
        doc["extra"] = value
        return doc
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if action == "add":
        parent[path[-1]]["extra"] = value
    elif action == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@given(_docs)
def test_generated_functions_give_the_same_objects_data_and_bytes_as_cattrs(doc: Doc) -> None:
    assert unstructure(doc) == unstructure(doc, _reference)
    assert to_json(doc) == to_json(doc, _reference)
    data = orjson.loads(to_json(doc))
    assert structure(data, Doc) == structure(data, Doc, _reference) == doc


@given(orders())
def test_generated_functions_round_trip_orders_exactly_like_cattrs(order: Order) -> None:
    assert unstructure(order) == unstructure(order, _reference)
    assert to_json(order) == to_json(order, _reference)
    assert from_json(Order, to_json(order)) == from_json(Order, to_json(order), _reference)


@given(orders(), st.data(), _json)
def test_a_bad_order_document_gives_the_same_errors_as_cattrs(
    order: Order, data: st.DataObject, value: Any
) -> None:
    doc = orjson.loads(to_json(order))
    place = data.draw(st.sampled_from(_mutations(doc)))
    ours, reference = _both(_mutated(doc, place, value), Order)
    assert ours == reference


@given(_docs, st.data(), _json)
def test_a_bad_document_gives_the_same_errors_as_cattrs(
    doc: Doc, data: st.DataObject, value: Any
) -> None:
    raw = orjson.loads(to_json(doc))
    place = data.draw(st.sampled_from(_mutations(raw)))
    ours, reference = _both(_mutated(raw, place, value), Doc)
    assert ours == reference


def test_a_missing_default_field_and_an_unknown_key_are_both_seen() -> None:
    data = _data(colour_name="red")
    del data["parent"]
    assert _errors(data) == [("colour_name", "unknown field")]
    assert _both(data, Doc)[0] == _both(data, Doc)[1]


@pytest.mark.parametrize(
    "data",
    [
        {
            "secret": "s",
            "size": 1,
            "tags": ["a"],
            "colour": "red",
            "members": ["blue"],
            "seen": ["2026-01-01T00:00:00+00:00"],
        },
        {"secret": "s", "size": 1},
        {"secret": "s", "size": "1", "tags": "a", "colour": "green", "members": [3]},
        {"secret": "s", "size": 1, "tags": [1], "seen": ["2026-01-01T00:00:00"]},
        {"_secret": "s", "size": 1},
        {"size": 1, "tags": (), "colour": Colour.BLUE, "members": {"red"}},
    ],
)
def test_kw_only_private_and_defaulted_fields_structure_like_cattrs(data: Any) -> None:
    ours, reference = _both(data, Odd)
    assert ours == reference


def test_classes_with_non_init_fields_keep_cattrs_functions() -> None:
    assert structure({"name": "n"}, Counted) == Counted("n")
    assert unstructure(Counted("n")) == unstructure(Counted("n"), _reference) == {"name": "n"}
    assert _both({"name": 1}, Counted)[0] == _both({"name": 1}, Counted)[1]


@given(
    st.datetimes(timezones=st.sampled_from([UTC, *_FIXED_ZONES, ZoneInfo("UTC")])),
    st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_to_json_writes_every_datetime_exactly_as_isoformat(
    at: datetime, later: datetime | None
) -> None:
    stamp = Stamp(at, later)
    expected = {"at": at.isoformat(), "later": None if later is None else later.isoformat()}
    assert orjson.loads(to_json(stamp)) == expected
    assert to_json(stamp) == orjson.dumps(expected) == to_json(stamp, _reference)
    assert unstructure(stamp) == expected


def test_a_datetime_subclass_is_written_by_isoformat() -> None:
    at = Instant(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert to_json(Stamp(at)) == b'{"at":"2026-01-02T03:04:05.000006+00:00","later":null}'


@attrs.frozen
class Node:
    name: str
    children: tuple[Node, ...] = ()
    parent: Node | None = None


def test_recursive_classes_give_the_same_data_and_errors_as_cattrs() -> None:
    tree = Node("a", (Node("b", (Node("c"),)), Node("d")), Node("p"))
    odd = Odd("s", size=2, tags=("t",), colour=Colour.RED, members=frozenset(Colour))
    for value in (tree, odd):
        assert unstructure(value) == unstructure(value, _reference)
        assert to_json(value) == to_json(value, _reference)
    assert from_json(Node, to_json(tree)) == tree
    data = unstructure(tree)
    data["children"][0]["children"][0]["name"] = 5
    ours, reference = _both(data, Node)
    assert ours == reference == [("children.0.children.0.name", "expected a string, got int")]


@pytest.mark.parametrize(
    "price",
    [
        {"amount": "12.30", "currency": "CNY"},
        {"amount": " 12.3 ", "currency": "CNY"},
        {"amount": "abc", "currency": "CNY"},
        {"amount": "1.505", "currency": "CNY"},
        {"amount": "-1", "currency": "CNY"},
        {"amount": "NaN", "currency": "CNY"},
        {"amount": 1.5, "currency": "CNY"},
        {"amount": 2, "currency": "JPY"},
        {"amount": "1.50", "currency": "yuan"},
        {"amount": "1.50", "currency": None},
        {"amount": "1.50"},
        {"amount": "1.50", "cents": 150},
        {"amount": "1.50", "currency": "CNY", "cents": 150},
        ["1.50", "CNY"],
        None,
    ],
)
def test_money_inside_a_document_gives_the_same_result_or_errors_as_cattrs(price: Any) -> None:
    data = _data()
    data["lines"][0]["price"] = price
    ours, reference = _both(data, Doc)
    assert ours == reference


@attrs.frozen
class _Levels:
    counts: Mapping[int, int]
    names: dict[int, str]


def test_int_keyed_mappings_read_back_the_decimal_text_keys_json_writes() -> None:
    """Rule: stored models round-trip, int-keyed mappings included (JSON keys are text)."""
    levels = _Levels(counts={-1: 2, 0: 1, 12: 3}, names={2: "L2"})
    assert from_json(_Levels, to_json(levels)) == levels
    for bad in ("02", "+2", "two", " 2"):
        with pytest.raises(ValidationError) as caught:
            from_json(_Levels, orjson.dumps({"counts": {bad: 1}, "names": {}}))
        assert caught.value.errors[0][0].startswith("counts")


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_an_int_enum_takes_only_its_integer_values(value: object) -> None:
    """Rule: strict primitives; ``true`` and ``1.0`` are not the level ``1``."""
    assert structure(1, Level) is Level.LOW
    with pytest.raises(ValidationError, match="is not one of 1, 2"):
        structure(value, Level)


# -- the trusted read path: validate on write, trust on read (issue #15) -----------------------


def _models() -> st.SearchStrategy[Any]:
    from csdomain.testing.strategies import _model_strategies

    return st.one_of([strategy for _cls, strategy in _model_strategies()])


def _trusted_or_errors(data: Any, cls: type[Any]) -> object:
    try:
        return trusted_structure_hook(cls)(data)
    except Exception as err:
        return validation_error_from(err).errors


@given(_models())
def test_trusted_and_checked_decoding_agree_on_every_valid_document(model: Any) -> None:
    # Rule: documents the store wrote are built on read without re-running validators,
    # and give exactly the object the checked decoding gives (docs/reliability.md).
    cls = type(model)
    data = orjson.loads(to_json(model))
    trusted = trusted_structure_hook(cls)(data)
    checked = structure(data, cls)
    assert type(trusted) is cls
    assert trusted == checked == model
    assert to_json(trusted) == to_json(checked)


@given(orders(), st.data(), _json)
def test_a_bad_document_on_the_trusted_path_gives_the_checked_errors(
    order: Order, data: st.DataObject, value: Any
) -> None:
    # Rule: a document the trusted path does not take goes to the checked hook, so its
    # errors and paths are exactly those of structure().
    doc = orjson.loads(to_json(order))
    place = data.draw(st.sampled_from(_mutations(doc)))
    mutated = _mutated(doc, place, value)
    trusted = _trusted_or_errors(mutated, Order)
    if isinstance(trusted, list):
        assert trusted == _both(mutated, Order)[0]


#: Documents that break a validator (not a type): the checked path refuses them.
_BROKEN_RULES: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("id", lambda d: d.update(id=" ")),
    ("lines", lambda d: d.update(lines=[])),
    ("currency", lambda d: d.update(currency="cny")),
    ("lines.0.unit_price", lambda d: d["lines"][0]["unit_price"].update(amount="-1.00")),
]


@given(orders(), st.sampled_from(_BROKEN_RULES))
def test_outside_input_keeps_every_check(
    order: Order, broken: tuple[str, Callable[[dict[str, Any]], object]]
) -> None:
    # Rule: untrusted input (from_json of outside data, import) keeps full checking and
    # path-accurate errors; only the store's own documents take the trusted path, which
    # does not re-run the validators.
    path, breaks = broken
    data = orjson.loads(to_json(order))
    breaks(data)
    with pytest.raises(ValidationError) as caught:
        from_json(Order, orjson.dumps(data))
    assert caught.value.errors == _both(data, Order)[1]
    assert any(p == path or p.startswith(path + ".") for p, _ in caught.value.errors)
    assert type(trusted_structure_hook(Order)(data)) is Order


@given(_models())
def test_a_verified_object_reads_back_equal_on_the_trusted_path(model: Any) -> None:
    # Rule: the store skips reading a document back only when the round-trip verifier
    # proves the trusted path gives an equal object (docs/reliability.md, hostile input).
    cls = type(model)
    verify = round_trip_verifier(cls)
    if verify is not None and verify(model):
        back = trusted_structure_hook(cls)(orjson.loads(to_json(model)))
        assert back == model
        assert type(back) is cls


@given(orders())
def test_orders_are_verified_without_being_read_back(order: Order) -> None:
    # Rule: a valid order needs no read-back at write: the verifier proves it reads back.
    verify = round_trip_verifier(Order)
    assert verify is not None
    assert verify(order)


def test_the_verifier_leaves_what_would_not_read_back_equal_to_the_read_back() -> None:
    # Rule: values the trusted path would not give back equal are never taken as verified.
    verify = round_trip_verifier(Line)
    assert verify is not None
    good = Line("a", 1, Money.of("1.00", "CNY"))
    assert verify(good)
    for bad in (
        attrs.evolve(good, sku=Colour.RED),
        attrs.evolve(good, quantity=True),
        attrs.evolve(good, quantity=1.0),
    ):
        assert not verify(bad)


class Plain(Enum):
    """An enum that is not text: orjson writes its value, which is not equal to it."""

    A = "a"


class _Text(str):
    """A ``str`` subclass: orjson writes it, the trusted path reads back a plain ``str``."""


class _Number(int):
    """An ``int`` subclass, read back as a plain ``int``."""


_HOSTILE_TEXT = st.one_of(
    st.text(max_size=5),
    st.sampled_from(["\ud800", "a\udfff", "\udbff\udc00x"]),  # lone surrogates
    st.builds(_Text, st.text(max_size=3)),
)
_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2),
    st.integers(min_value=2**64 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.builds(_Number, st.integers(-5, 5)),
    st.floats(),  # NaN, infinities, -0.0
    st.sampled_from(
        [Decimal("1.5"), b"x", datetime(2026, 1, 1, tzinfo=UTC), Colour.RED, Level.HIGH, Plain.A]
    ),
    _HOSTILE_TEXT,
)
_JSON_KEYS = st.one_of(_HOSTILE_TEXT, st.integers(-3, 3), st.none(), st.just(("a",)))


def _nested(value: Any, levels: int, wrap: str) -> Any:
    for _ in range(levels):
        value = [value] if wrap == "list" else {"k": value}
    return value


_JSON_VALUES = st.one_of(
    st.recursive(
        _JSON_SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(_JSON_KEYS, inner, max_size=4),
        ),
        max_leaves=12,
    ),
    st.builds(
        _nested,
        _JSON_SCALARS,
        st.integers(min_value=240, max_value=270),
        st.sampled_from(["list", "dict"]),
    ),
)


@attrs.frozen
class Payloaded:
    kind: str
    payload: dict[str, Any]
    extra: Any = None


@given(_JSON_VALUES)
def test_verified_json_values_read_back_equal(value: Any) -> None:
    # Invariant (issue #15 item 8): whenever the verifier of JSON-native values says yes,
    # orjson writes the value and reads back an equal one; anything it cannot tell about
    # (tuples, NaN, non-str keys, subclasses, surrogates, huge ints, too deep) says no.
    if _json_native(value):
        assert orjson.loads(orjson.dumps(value)) == value


@given(st.dictionaries(_JSON_KEYS, _JSON_VALUES, max_size=4), _JSON_VALUES)
def test_a_verified_payload_reads_back_equal_on_the_trusted_path(
    payload: dict[Any, Any], extra: Any
) -> None:
    # Invariant: a model with a ``dict[str, Any]`` (an outbox entry's payload) or ``Any``
    # field is taken as verified only if its JSON reads back, trusted, as an equal model;
    # the others go to the store's read-back, as before.
    verify = round_trip_verifier(Payloaded)
    assert verify is not None
    model = Payloaded("k", payload, extra)
    if verify(model):
        back = trusted_structure_hook(Payloaded)(orjson.loads(to_json(model)))
        assert back == model
        assert type(back) is Payloaded


@given(orders())
def test_outbox_entries_of_events_need_no_read_back(order: Order) -> None:
    # Rule: what the converter unstructures (an event's payload: text, numbers, money,
    # moments, lists) is JSON-native, so the store's write check proves an outbox entry
    # reads back without reading it back.
    verify = round_trip_verifier(OutboxEntry)
    assert verify is not None
    moment = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    entry = OutboxEntry("e1", "OrderPlaced", {"order": unstructure(order)}, moment)
    assert verify(entry)
    for bad in ({"a": (1, 2)}, {"a": math.nan}, {1: "a"}, {"a": _Text("b")}, {"a": Plain.A}):
        assert not verify(attrs.evolve(entry, payload=bad))


def test_a_user_hook_for_the_payload_type_is_not_taken_as_verified() -> None:
    # Rule: only cattrs' own dict[str, Any] and Any hooks are known to read back as given.
    conv = make_converter()
    conv.register_structure_hook_func(
        lambda t: t == dict[str, Any], lambda _value, _type: {"changed": True}
    )
    assert round_trip_verifier(Payloaded, conv) is None


# -- the checked path's generated functions (issue #15: fast well-formed outside input) ------

_calls: list[str] = []


def _counted(_instance: object, attribute: attrs.Attribute[Any], _value: object) -> None:
    _calls.append(attribute.name)


def _only_ab(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("a", "b"):
        raise ValidationError.at(attribute.name, "must be a or b")


@attrs.frozen
class Checked:
    name: str = attrs.field(validator=[validators.text, _only_ab])
    code: str = attrs.field(converter=str.upper, validator=validators.currency_code)
    count: int = attrs.field(validator=_counted)
    label: str | None = attrs.field(default=None, validator=validators.optional_text)
    lines: tuple[Line, ...] = attrs.field(
        default=(), converter=validators.as_tuple, validator=validators.tuple_of(Line)
    )

    def __attrs_post_init__(self) -> None:
        _calls.append("post_init")
        if self.count > len(self.name):
            raise ValidationError.at("count", "longer than the name")


def _checked(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "a", "code": "cny", "count": 1, "label": None, "lines": []}
    data.update(changes)
    return data


def test_the_checked_path_runs_each_validator_and_post_init_once() -> None:
    # Rule: outside input is fully checked; each check runs once, not again by a re-build.
    _calls.clear()
    built = from_json(Checked, orjson.dumps(_checked()))
    assert built == Checked("a", "cny", 1)
    assert built.code == "CNY"
    assert _calls == ["count", "post_init", "count", "post_init"]  # from_json, then Checked()


@pytest.mark.parametrize(
    "data",
    [
        _checked(),
        _checked(name="c"),
        _checked(name=1),
        _checked(code="yuan"),
        _checked(code="CN"),
        _checked(count=2),
        _checked(count=True),
        _checked(label=3),
        _checked(label="x", lines=[{"sku": "s", "quantity": 1, "price": {"amount": "1"}}]),
        _checked(lines=[{"sku": "s", "quantity": 1, "price": {"amount": "1", "currency": "CNY"}}]),
    ],
)
def test_validators_the_type_checks_do_not_imply_still_run(data: dict[str, Any]) -> None:
    # Rule: the checked path leaves out only what its type checks prove; every other
    # validator, converter and the cross-field check give the result cattrs gives.
    ours, reference = _both(data, Checked)
    assert ours == reference


def test_disabled_validators_are_skipped_on_the_checked_path_as_in_init() -> None:
    # Rule: attrs.validators.disabled() skips validators in __init__; structuring follows.
    data = _checked(name="c", code="yuan")
    with attrs.validators.disabled():
        ours, reference = _both(data, Checked)
        assert ours == reference == Checked("c", "yuan", 1)
    assert isinstance(_both(data, Checked)[0], list)


def test_money_read_on_the_trusted_path_never_skips_the_checked_paths_normalising() -> None:
    # Rule: the trusted path's shared money never stands in for checked money.
    price = {"amount": "10.5", "currency": "CNY"}
    line = {"sku": "s", "quantity": 1, "price": price}
    trusted = trusted_structure_hook(Line)(line)
    checked = structure(line, Line)
    assert trusted.price.amount == Decimal("10.5")
    assert checked.price.amount.as_tuple().exponent == -2
    assert structure(line, Line).price is checked.price


@given(aware_datetimes())
def test_as_utc_keeps_utc_instants_and_gives_aware_ones(at: datetime) -> None:
    # Rule: the checked path calls as_utc only for a datetime not in UTC and then leaves
    # out the aware check; that holds because as_utc does exactly this.
    converted = as_utc(at)
    assert converted.utcoffset() == timedelta(0)
    assert converted.timestamp() == at.timestamp()
    if at.tzinfo is UTC:
        assert converted is at
    change = {"from_": None, "to": "placed", "at": at.isoformat(), "by": "u", "note": ""}
    ours, reference = _both(change, StatusChange)
    assert ours == reference
    assert isinstance(ours, StatusChange)
    assert ours.at.tzinfo is UTC
