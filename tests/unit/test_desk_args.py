"""The desk's argument vocabulary (csdomain.desk.args): one check per annotation."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.desk.args import Count, Id, LongText, Positive, ShortText, checker, inspect_value
from csdomain.errors import ValidationError
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.policy import LimitsPolicy


LIMITS = LimitsPolicy()
AT = datetime(2026, 11, 2, 1, tzinfo=UTC)


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


def check(annotation: object, value: object, path: str = "arg") -> object:
    return checker(annotation)(value, path, LIMITS)


def refused(annotation: object, value: object, path: str = "arg") -> ValidationError:
    with pytest.raises(ValidationError) as err:
        check(annotation, value, path)
    assert err.value.errors[0][0].startswith(path)
    return err.value


def test_short_text_is_bounded_by_max_short_text() -> None:
    assert check(str, "x" * LIMITS.max_short_text) == "x" * LIMITS.max_short_text
    assert check(ShortText, "") == ""
    assert "longer than 200" in str(refused(str, "x" * (LIMITS.max_short_text + 1)))


def test_long_text_is_bounded_by_max_long_text() -> None:
    assert check(LongText, "x" * LIMITS.max_long_text)
    refused(LongText, "x" * (LIMITS.max_long_text + 1))


def test_text_refuses_other_types_and_lone_surrogates() -> None:
    for value in (1.5, True, -1, float("nan"), {}, None, b"bytes"):
        assert "expected text" in str(refused(LongText, value))
    assert "lone surrogate" in str(refused(str, "a\ud800b"))


def test_an_id_is_non_blank_short_and_without_control_characters() -> None:
    assert check(Id, "SO-202611-0001") == "SO-202611-0001"
    refused(Id, "  ")
    refused(Id, "a\x00b")
    refused(Id, "x" * (LIMITS.max_key + 1))


def test_a_bool_accepts_only_true_or_false() -> None:
    assert check(bool, value=True) is True
    assert check(bool, value=False) is False
    for value in ("false", "true", 0, 1, None, []):
        refused(bool, value)


def test_whole_numbers_are_64_bit_and_never_bools() -> None:
    assert check(int, -(2**63)) == -(2**63)
    assert check(int, 2**63 - 1) == 2**63 - 1
    for value in (2**63, 10**400, True, 1.0, "1"):
        refused(int, value)
    assert check(Count, 0) == 0
    refused(Count, -1)
    refused(Positive, 0)


def test_numbers_are_finite() -> None:
    assert check(float, 2) == 2.0
    for value in (float("nan"), float("inf"), True, "1.5", 10**400):
        refused(float, value)
    assert check(Decimal, Decimal("1.5")) == Decimal("1.5")
    refused(Decimal, Decimal("NaN"))


def test_moments_are_aware_in_the_year_range_and_passed_on_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = check(datetime, datetime(2026, 11, 2, 9, tzinfo=shanghai))
    assert moment == AT
    assert moment.tzinfo is UTC  # type: ignore[attr-defined]
    refused(datetime, datetime(2026, 11, 2, 9))
    refused(datetime, datetime(9999, 12, 31, tzinfo=UTC))
    refused(datetime, datetime(1, 1, 1, tzinfo=UTC))
    refused(datetime, date(2026, 11, 2))


def test_dates_are_dates_in_the_year_range() -> None:
    assert check(date, date(2026, 11, 2)) == date(2026, 11, 2)
    refused(date, AT)
    refused(date, date(9999, 12, 31))


def test_a_string_enum_takes_its_member_or_value_and_passes_on_the_member() -> None:
    assert check(Colour | str, "red") is Colour.RED
    assert check(Colour, Colour.BLUE) is Colour.BLUE
    assert "not one of red, blue" in str(refused(Colour | str, "green"))


def test_literal_takes_only_the_listed_values_of_their_type() -> None:
    assert check(Literal["a", 1], "a") == "a"
    refused(Literal[1], value=True)


def test_optional_takes_none() -> None:
    assert check(Id | None, None) is None
    refused(Id | None, "")


def test_lists_become_tuples_read_once_and_bounded() -> None:
    items = (s for s in ["a", "b"])
    assert check(Iterable[Id], items) == ("a", "b")
    assert check(Sequence[int], [1, 2]) == (1, 2)
    assert check(tuple[int, ...], (1,)) == (1,)
    error = refused(Sequence[Id], ["a", ""])
    assert error.errors[0][0] == "arg.1"
    refused(Sequence[Id], "ab")  # text is not a list of ids
    small = LimitsPolicy(max_items=2)
    with pytest.raises(ValidationError, match="more than 2 items"):
        checker(Sequence[int])(iter(range(10**9)), "arg", small)


def test_mappings_and_fixed_tuples() -> None:
    assert check(Mapping[str, str], {"a": "b"}) == {"a": "b"}
    assert refused(Mapping[str, str], {"a": 1}).errors[0][0] == "arg.a"
    assert check(tuple[int, int], (2026, 11)) == (2026, 11)
    refused(tuple[int, int], (2026,))


def test_an_object_argument_is_an_instance_with_bounded_contents() -> None:
    actor = Actor("ann", {"specialist"})
    assert check(Actor, actor) is actor
    assert "expected an Actor" in str(refused(Actor, "ann", "by"))
    money = Money.of("1.00", "CNY")
    assert check(Money, money) is money
    change = StatusChange(None, "open", AT, "ann", "x" * (LIMITS.max_long_text + 1))
    assert refused(StatusChange, change, "step").errors[0][0] == "step.note"


def test_deep_nesting_inside_an_object_is_refused_not_recursed() -> None:
    @attrs.frozen
    class Box:
        content: object

    nested: object = []
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(ValidationError, match="nested deeper"):
        inspect_value(Box(nested), "box", LIMITS)


def test_a_deeply_nested_argument_is_refused_at_its_first_level() -> None:
    nested: object = []
    for _ in range(5000):
        nested = [nested]
    error = refused(Id, nested)
    assert len(str(error)) < 200


def test_an_annotation_outside_the_vocabulary_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="no argument check"):
        checker(object)


def test_error_messages_are_bounded_whatever_the_value() -> None:
    error = ValidationError.at("x" * 10_000, "y" * 100_000)
    assert len(str(error)) < 2_100
    many = ValidationError([(f"f{i}", "bad") for i in range(1_000)])
    assert str(many).endswith("and 950 more")


def test_quantities_are_bounded_by_policy() -> None:
    # Rule: integer quantities are bounded by limits.max_quantity
    # (receive_stock(good=2**63) is refused).
    from csdomain.desk.args import Count, Positive, checker
    from csdomain.policy import LimitsPolicy

    limits = LimitsPolicy(max_quantity=1000)
    assert checker(Count)(1000, "good", limits) == 1000
    for annotation in (Count, Positive):
        with pytest.raises(ValidationError) as refused:
            checker(annotation)(1001, "good", limits)
        assert refused.value.errors[0][0] == "good"
        assert "max_quantity" in str(refused.value)
    with pytest.raises(ValidationError):
        checker(Count)(2**63, "good", LimitsPolicy())


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12))
def test_an_id_refuses_exactly_the_texts_holding_a_c0_control_or_del(value: str) -> None:
    # Invariant: the Id check refuses a text for its control characters exactly when one
    # of its characters is below 32 or DEL (127), whatever else it holds.
    check = checker(Id)
    controlled = any(ord(c) < 32 or ord(c) == 127 for c in value)
    try:
        check(value, "sku", LimitsPolicy())
        refused = ""
    except ValidationError as err:
        refused = err.errors[0][1]
    assert (refused == "must not hold control characters") == (controlled and bool(value.strip()))


# -- object arguments: the inspection prepared per class equals the interpreted one ----------


class Level(enum.IntEnum):
    LOW = 1


@attrs.frozen
class Holder:
    name: object
    items: object = ()
    _hidden: object = attrs.field(default=None, init=False)


@attrs.define
class Open:
    value: object = None
    _private: object = attrs.field(default=0, init=False)


_SMALL = LimitsPolicy(max_long_text=6, max_items=4, max_depth=3, earliest_year=2000)
_ANY_TEXT = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["\ud800", "ab\udfff", "é" * 7, "\x00"]),  # surrogates, long non-ASCII
    st.builds(Colour, st.sampled_from(["red", "blue"])),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2),
    st.floats(),
    st.decimals(),
    st.datetimes(timezones=st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=-5)))),
    st.dates(),
    st.just(Level.LOW),
    st.just(Money.of("1.00", "CNY")),
    st.just(b"bytes"),
    st.just(object()),
    _ANY_TEXT,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=4).map(tuple),
        st.frozensets(st.integers(0, 9) | st.text(max_size=2), max_size=4),
        st.dictionaries(_ANY_TEXT | st.integers(0, 5), inner, max_size=4),
        st.builds(Holder, inner, inner),
        st.builds(Open, inner),
    ),
    max_leaves=25,
)


def _outcome(
    inspect: Callable[[object, str, LimitsPolicy], None], value: object, path: str
) -> object:
    try:
        inspect(value, path, _SMALL)
    except ValidationError as err:
        return ("refused", err.errors)
    return "accepted"


@given(_VALUES, st.sampled_from(["", "arg", "lines.2"]))
def test_the_prepared_inspection_refuses_exactly_what_inspect_value_refuses(
    value: object, path: str
) -> None:
    # Invariant (issue #15 item 8): object arguments are inspected by checks prepared once
    # per class, with the same errors at the same paths as inspect_value on any value
    # (text length, lone surrogates, 64-bit integers, finite numbers, the year range,
    # max_items, max_depth).
    from csdomain.desk.args import _inspect

    assert _outcome(_inspect, value, path) == _outcome(inspect_value, value, path)


def test_object_arguments_use_the_prepared_inspection() -> None:
    # Rule: an object argument's contents are bounded like arguments (here max_long_text
    # inside a nested attrs instance), by the check compiled for its annotation.
    check_holder = checker(Holder)
    holder = Holder("ok", (Open("x" * 7),))
    with pytest.raises(ValidationError) as err:
        check_holder(holder, "holder", _SMALL)
    assert err.value.errors[0][0] == "holder.items.0.value"
    assert check_holder(Holder("ok", (Open("short"),)), "holder", _SMALL).name == "ok"
