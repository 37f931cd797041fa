"""One converter for every model: strict JSON in, canonical JSON out (csdomain.serialization)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.errors import ValidationError
from csdomain.money import Money
from csdomain.serialization import from_json, make_converter, structure, to_json, unstructure
from csdomain.testing.strategies_kernel import aware_datetimes, money, register_kernel_strategies


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
