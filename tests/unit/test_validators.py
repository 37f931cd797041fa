"""Shared attrs validators and converters (csdomain.validators)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import validators
from csdomain.errors import ValidationError
from csdomain.money import Money
from csdomain.validators import aware, enum_value


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Mood(StrEnum):
    RED = "red"


def test_enum_value_returns_the_member_for_itself_or_its_value() -> None:
    assert enum_value(Colour, Colour.BLUE, "colour") is Colour.BLUE
    assert enum_value(Colour, "red", "colour") is Colour.RED
    assert enum_value(Colour, Mood.RED, "colour") is Colour.RED


@pytest.mark.parametrize(
    ("value", "shown"),
    [("green", "'green'"), ("RED", "'RED'"), (3, "3"), (None, "None"), (b"red", "b'red'")],
)
def test_enum_value_refuses_anything_else_and_names_every_choice(value: object, shown: str) -> None:
    with pytest.raises(ValidationError) as err:
        enum_value(Colour, value, "lines.0.colour")
    assert err.value.errors == [("lines.0.colour", f"{shown} is not one of red, blue")]


@attrs.frozen
class Stamp:
    at: datetime = attrs.field(validator=aware)


class Instant(datetime):
    pass


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
        Instant(2026, 1, 1, tzinfo=UTC),
    ],
)
def test_aware_accepts_every_timezone_aware_datetime(at: datetime) -> None:
    assert Stamp(at).at is at


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime(2026, 1, 1), "naive datetime 2026-01-01T00:00:00 has no time zone"),
        (Instant(2026, 1, 1), "naive datetime 2026-01-01T00:00:00 has no time zone"),
        (date(2026, 1, 1), "expected a datetime, got date"),
        ("2026-01-01T00:00:00+00:00", "expected a datetime, got str"),
    ],
)
def test_aware_refuses_naive_datetimes_and_other_types_with_the_field_path(
    value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        Stamp(value)  # type: ignore[arg-type]
    assert err.value.errors == [("at", message)]


# -- the shared field validators and converters ----------------------------------------------


@attrs.frozen
class Record:
    note: str = attrs.field(default="", validator=validators.text)
    done: bool = attrs.field(default=False, validator=validators.flag)
    count: int = attrs.field(default=0, validator=validators.count)
    size: int = attrs.field(default=1, validator=validators.positive_int)
    ratio: float = attrs.field(default=0.5, validator=validators.number)
    amount: Decimal = attrs.field(default=Decimal(1), validator=validators.decimal)
    on: date = attrs.field(default=date(2026, 11, 2), validator=validators.day)
    wait: timedelta = attrs.field(default=timedelta(0), validator=validators.duration)
    period: timedelta = attrs.field(default=timedelta(1), validator=validators.positive_duration)
    tags: tuple[str, ...] = attrs.field(
        default=(), converter=validators.as_tuple, validator=validators.tuple_of(str)
    )
    roles: frozenset[str] = attrs.field(
        default=frozenset(),
        converter=validators.as_frozenset,
        validator=validators.frozenset_of(str),
    )
    labels: dict[str, str] = attrs.field(
        factory=dict, converter=validators.as_dict, validator=validators.text_mapping
    )
    ref: str | None = attrs.field(default=None, validator=validators.optional_text)
    level: int = attrs.field(default=1, validator=validators.instance_of(int))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("note", 1.5, "expected text, got float"),
        ("done", "false", "expected True or False, got 'false'"),
        ("done", 1, "expected True or False, got 1"),
        ("count", -1, "must be a whole number >= 0, got -1"),
        ("count", True, "must be a whole number >= 0, got True"),
        ("size", 0, "must be a positive integer, got 0"),
        ("ratio", float("nan"), "must be a finite number, got nan"),
        ("ratio", True, "expected a number, got True"),
        ("amount", Decimal("NaN"), "expected a finite Decimal, got Decimal('NaN')"),
        ("on", datetime(2026, 11, 2, tzinfo=UTC), "expected a date, got datetime"),
        ("wait", 5, "expected a duration, got 5"),
        ("period", timedelta(0), "must be a positive duration, got datetime.timedelta(0)"),
        ("period", 1, "must be a positive duration, got 1"),
        ("ref", 3, "expected text, got int"),
        ("level", True, "expected an int, got bool"),
    ],
)
def test_a_model_refuses_a_wrong_type_when_built(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Record(**{field: value})  # type: ignore[arg-type]
    assert err.value.errors == [(field, message)]


def test_collections_are_kept_frozen_and_checked_item_by_item() -> None:
    record = Record(tags=["a", "b"], roles=["x"], labels={"k": "v"})
    assert record.tags == ("a", "b")
    assert record.roles == frozenset({"x"})
    with pytest.raises(ValidationError) as err:
        Record(tags=["a", 2])
    assert err.value.errors == [("tags.1", "expected a str, got int")]
    with pytest.raises(ValidationError, match="expected a tuple, got str"):
        Record(tags="ab")
    with pytest.raises(ValidationError, match=r"labels\.k: expected text, got int"):
        Record(labels={"k": 1})
    with pytest.raises(ValidationError, match="expected a set"):
        Record(roles=[["unhashable"]])


@attrs.frozen
class Priced:
    price: Money = attrs.field(default=Money.of("1.00", "CNY"), validator=validators.money)
    currency: str = attrs.field(default="CNY", validator=validators.currency_code)
    paid: bool | None = attrs.field(default=None, validator=validators.optional_flag)
    part: str = attrs.field(default="P-1", validator=validators.instance_of(str, "a part number"))
    stamp: Stamp | None = attrs.field(
        default=None, validator=validators.optional_instance_of(Stamp)
    )
    quantity: int | None = attrs.field(
        default=None, validator=validators.optional_instance_of(int, "a whole number")
    )
    stamps: tuple[Stamp, ...] = attrs.field(
        default=(), validator=validators.tuple_of(Stamp, "a time stamp")
    )
    codes: frozenset[str] = attrs.field(
        default=frozenset(), validator=validators.frozenset_of(str, "a code")
    )


def test_optional_validators_let_none_through_and_check_anything_else() -> None:
    stamp = Stamp(datetime(2026, 1, 1, tzinfo=UTC))
    assert Priced(paid=True, stamp=stamp, quantity=2).stamp is stamp
    assert Priced().paid is None
    assert Priced().stamp is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", Decimal("1.00"), "expected Money, got Decimal"),
        ("currency", "yuan", "not an ISO 4217 code: 'yuan'"),
        ("currency", "cny", "not an ISO 4217 code: 'cny'"),
        ("currency", "ÄBC", "not an ISO 4217 code: 'ÄBC'"),
        ("currency", 156, "not an ISO 4217 code: 156"),
        ("paid", 0, "expected True or False, got 0"),
        ("part", 7, "expected a part number, got int"),
        ("stamp", "2026-01-01", "expected a Stamp, got str"),
        ("quantity", True, "expected a whole number, got bool"),
        ("quantity", 1.0, "expected a whole number, got float"),
        ("stamps", ["x"], "expected a tuple, got list"),
        ("stamps.0", ("x",), "expected a time stamp, got str"),
        ("codes", frozenset({1}), "expected a code, got 1"),
    ],
)
def test_the_message_names_what_the_field_holds(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Priced(**{field.partition(".")[0]: value})  # type: ignore[arg-type]
    assert err.value.errors == [(field, message)]


def test_representable_turns_date_arithmetic_overflow_into_a_validation_error() -> None:
    with validators.representable("due"):
        assert datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=1) > datetime(
            2026, 1, 1, tzinfo=UTC
        )
    with pytest.raises(ValidationError) as err, validators.representable("due"):
        datetime.max.replace(tzinfo=UTC) + timedelta(days=1)
    assert err.value.errors == [
        ("due", "is too far in the future or the past for deadline arithmetic")
    ]


# -- evolve_checked ------------------------------------------------------------------------


@attrs.frozen
class Window:
    """A model in the kernel's style: field validators, a converter, a cross-field check."""

    start: int = attrs.field(validator=validators.count)
    end: int = attrs.field(validator=validators.count)
    tags: tuple[str, ...] = attrs.field(
        default=(), converter=validators.as_tuple, validator=validators.tuple_of(str)
    )
    _note: str = attrs.field(default="", validator=validators.text, alias="note")

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError.at("end", "must not be before start")


def scaled(value: int, instance: Any) -> int:
    """A converter that reads the instance being built."""
    return value * int(instance.factor)


def outcome(build: Callable[[], object]) -> tuple[str, object]:
    """What building gives: the instance, or the refusal (type, paths and messages)."""
    try:
        return ("built", build())
    except ValidationError as refusal:
        return ("ValidationError", refusal.errors)
    except Exception as refusal:  # any other refusal is compared by type and message
        return (type(refusal).__name__, str(refusal))


_HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=3),
    st.lists(st.text(max_size=2), max_size=2),
    st.lists(st.integers(), min_size=1, max_size=2),
)


@given(
    start=st.integers(0, 5),
    length=st.integers(0, 5),
    changes=st.dictionaries(st.sampled_from(["start", "end", "tags", "note"]), _HOSTILE),
)
def test_evolve_checked_builds_and_refuses_what_attrs_evolve_does(
    start: int, length: int, changes: dict[str, Any]
) -> None:
    # Rule: a step checks what it changes; the result and every refusal stay attrs.evolve's
    window = Window(start, start + length, ["a"], note="n")
    assert outcome(lambda: validators.evolve_checked(window, **changes)) == outcome(
        lambda: attrs.evolve(window, **changes)
    )


def test_evolve_checked_runs_only_the_changed_fields_checks_and_the_cross_field_check() -> None:
    # Rule: a step checks what it changes and the model's cross-field rules
    seen: list[str] = []

    def watched(_instance: object, attribute: attrs.Attribute[Any], _value: object) -> None:
        seen.append(attribute.name)

    @attrs.frozen
    class Pair:
        a: int = attrs.field(validator=watched)
        b: int = attrs.field(validator=watched)

        def __attrs_post_init__(self) -> None:
            seen.append("post")

    pair = Pair(1, 2)
    seen.clear()
    assert validators.evolve_checked(pair, b=3) == Pair(1, 3)
    assert seen == ["b", "post", "a", "b", "post"]  # evolve_checked, then Pair(1, 3)
    seen.clear()
    assert validators.evolve_checked(pair, b=pair.b) is pair  # nothing changed
    assert seen == []


def test_evolve_checked_refuses_an_unknown_field_as_attrs_evolve_does() -> None:
    # Rule: a refusal of evolve_checked is attrs.evolve's
    window = Window(1, 2)
    unknown: dict[str, Any] = {"middle": 1}
    with pytest.raises(TypeError) as ours:
        validators.evolve_checked(window, **unknown)
    with pytest.raises(TypeError) as theirs:
        attrs.evolve(window, **unknown)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError):
        validators.evolve_checked(window, _note="x")  # the private name, not the alias


def test_evolve_checked_leaves_classes_it_cannot_build_to_attrs_evolve() -> None:
    # Rule: a class only its __init__ can build goes through attrs.evolve
    @attrs.frozen(cache_hash=True)
    class Hashed:
        a: int = attrs.field(validator=validators.count)

    @attrs.frozen
    class Derived:
        a: int = attrs.field(validator=validators.count)
        double: int = attrs.field(init=False)

        def __attrs_post_init__(self) -> None:
            object.__setattr__(self, "double", 2 * self.a)

    @attrs.frozen
    class Scaled:
        factor: int = attrs.field(default=2)
        converter = attrs.Converter(scaled, takes_self=True)
        a: int = attrs.field(default=1, converter=converter)  # type: ignore[misc]

    assert hash(validators.evolve_checked(Hashed(1), a=2)) == hash(Hashed(2))
    assert validators.evolve_checked(Derived(1), a=3).double == 6
    assert validators.evolve_checked(Scaled(), a=5) == attrs.evolve(Scaled(), a=5)
    with pytest.raises(ValidationError):
        validators.evolve_checked(Hashed(1), a=-1)
    with pytest.raises(attrs.exceptions.NotAnAttrsClassError):
        validators.evolve_checked(Colour.RED)


def test_evolve_checked_skips_validators_only_where_attrs_would() -> None:
    # Rule: validators disabled by attrs.validators.disabled() are skipped as in __init__
    window = Window(1, 2)
    with attrs.validators.disabled():
        assert validators.evolve_checked(window, start=-1) == attrs.evolve(window, start=-1)
    with pytest.raises(ValidationError):
        validators.evolve_checked(window, start=-1)


# -- what each validator says it accepts (read by the converter's checked decoding) ----------


def _tagged_validators() -> list[Any]:
    """Every validator of a stored model's fields that says what it accepts, with the
    parts of ``optional`` validators and attrs' ``and_`` lists."""
    from csdomain.testing.strategies import _model_strategies

    found: dict[int, Any] = {}
    seen: set[type] = set()

    def visit_class(cls: type) -> None:
        if cls in seen or not attrs.has(cls):
            return
        seen.add(cls)
        for field in attrs.fields(cls):
            visit(field.validator)
            for inner in getattr(field.type, "__args__", ()) or (field.type,):
                if isinstance(inner, type):
                    visit_class(inner)

    def visit(validator: Any) -> None:
        for part in getattr(validator, "_validators", None) or (validator,):
            accepts = validators._accepted(part)
            if accepts is not None:
                found[id(part)] = part
                if accepts[0] == "optional":
                    visit(accepts[1])

    for cls, _strategy in _model_strategies():
        visit_class(cls)
    for name in validators.__all__:  # and every shared validator, used or not
        visit(getattr(validators, name))
    return list(found.values())


_TAGGED = _tagged_validators()


@attrs.frozen
class _Holder:
    field: object = None


_FIELD = attrs.fields(_Holder).field


def _values_of(cls: type) -> st.SearchStrategy[Any]:
    """Values of ``cls``, edges included."""
    from csdomain.testing.strategies_kernel import money

    plain: dict[type, st.SearchStrategy[Any]] = {
        str: st.text() | st.sampled_from(["", " ", "\t\n", "\u3000", "a", " a "]),
        int: st.integers() | st.sampled_from([-1, 0, 1, 2**63 - 1, 2**63, -(2**63), 10**30]),
        bool: st.booleans(),
        Decimal: st.decimals() | st.sampled_from([Decimal("NaN"), Decimal("-Infinity")]),
        timedelta: st.timedeltas(),
        Money: money(),
    }
    if cls in plain:
        return plain[cls]
    if isinstance(cls, type) and issubclass(cls, Enum):
        return st.sampled_from(cls)
    if attrs.has(cls):
        # an instance of the class, its fields unset: what an isinstance check sees
        return st.builds(object.__new__, st.just(cls))
    return st.from_type(cls)


def _passes(validator: Any, value: object) -> bool:
    try:
        validator(None, _FIELD, value)
    except ValidationError:
        return False
    return True


def test_the_stored_models_have_validators_that_say_what_they_accept() -> None:
    kinds = {validators._accepted(v)[0] for v in _TAGGED}  # type: ignore[index]
    assert {"test", "instance", "optional", "tuple_of", "aware"} <= kinds


@pytest.mark.parametrize("validator", _TAGGED, ids=lambda v: getattr(v, "__qualname__", "v"))
@given(data=st.data())
def test_a_validator_accepts_exactly_what_it_says(validator: Any, data: st.DataObject) -> None:
    # Rule: the converter's checked decoding leaves out a validator its type checks imply
    # or runs its stated test instead of the call, so what a validator says it accepts
    # must be exactly what it accepts (else a bad document would pass).
    from csdomain.testing.strategies_kernel import aware_datetimes

    accepts = validators._accepted(validator)
    assert accepts is not None
    kind = accepts[0]
    if kind == "optional":
        assert _passes(validator, None)
        return
    if kind == "aware":
        assert _passes(validator, data.draw(aware_datetimes()))
        return
    value = data.draw(st.one_of([_values_of(c) for c in accepts[1]]))
    if kind == "instance":
        assert _passes(validator, value)
    elif kind == "tuple_of":
        assert _passes(validator, (value, value))
    elif kind == "frozenset_of":
        assert _passes(validator, frozenset({value}))
    else:
        expression = accepts[2].format("value")
        assert _passes(validator, value) == bool(eval(expression, {}, {"value": value}))  # noqa: S307
