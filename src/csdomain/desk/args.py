"""The argument vocabulary of the service desk: one check per annotation.

Every :class:`~csdomain.service.ServiceDesk` use case declares what it takes in its
signature, and :func:`checker` turns each annotation into one check, compiled once per
method. The use-case skeleton (:func:`csdomain.desk.base.use_case`) runs the checks before
anything else happens, so a bad call is refused with a
:class:`~csdomain.errors.ValidationError` naming the argument (``lines.2.sku``) and never
reaches the store. The vocabulary:

=========================================  ==================================================
annotation                                 accepted
=========================================  ==================================================
``Id``                                     a key: non-blank text of at most ``max_key``
                                           characters without control characters
``str`` (also ``ShortText``)               text of at most ``max_short_text`` characters
``LongText``                               text of at most ``max_long_text`` characters
``bool``                                   ``True`` or ``False`` only (never ``"false"`` or 1)
``int``, ``Count`` (>= 0), ``Positive``    whole numbers (not bools) in the signed 64-bit range;
                                           ``Count``/``Positive`` at most ``max_quantity``
``float``                                  a finite number (int or float, not bool)
``Decimal``                                a finite decimal
``datetime``                               an aware datetime in the policy's year range,
                                           passed on in UTC
``date``                                   a date (not a datetime) in the policy's year range
a string enum, ``E | str``                 a member or its value, passed on as the member
``Literal[...]``                           one of the listed values
an attrs class, ``Money``, ``Actor`` ...   an instance; the text, numbers and moments inside
                                           it are bounded like arguments
``X | None``                               ``None`` or ``X``
``Sequence[X]``, ``Iterable[X]``, ...      a collection (not text) of at most ``max_items``
                                           ``X``, passed on as a tuple (a generator is read
                                           once, so a retried unit of work sees it whole)
``Mapping[K, V]``                          a mapping of ``K`` to ``V``, passed on as a dict
``tuple[X, Y]``                            a tuple of exactly those
=========================================  ==================================================

The limits come from :class:`~csdomain.policy.LimitsPolicy`. The text of an error names
the value in a bounded form (:func:`~csdomain.errors.describe`), whatever its size or depth.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import types
import typing
from collections import abc
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias, TypeVar, cast

import attrs

from csdomain.auth import Actor
from csdomain.clock import utc
from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.policy import LimitsPolicy
from csdomain.validators import enum_value, valid_unicode


__all__ = [
    "Check",
    "Count",
    "Id",
    "LongText",
    "Positive",
    "ShortText",
    "checker",
    "inspect_value",
]

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

#: ``check(value, path, limits) -> value as the use case receives it``.
Check: TypeAlias = Callable[[Any, str, LimitsPolicy], Any]

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


@attrs.frozen
class _Text:
    long: bool = False
    key: bool = False


@attrs.frozen
class _Range:
    minimum: int


#: An id, a SKU, a serial number, a code: non-blank, short, no control characters.
Id = Annotated[str, _Text(key=True)]
#: A name, a title, a reference, a purpose (``max_short_text``).
ShortText = Annotated[str, _Text()]
#: A description, a note, a reason, a reply (``max_long_text``).
LongText = Annotated[str, _Text(long=True)]
#: A whole number that is zero or more and at most ``limits.max_quantity``.
Count = Annotated[int, _Range(0)]
#: A whole number that is one or more and at most ``limits.max_quantity``.
Positive = Annotated[int, _Range(1)]


# -- scalars -------------------------------------------------------------------------------


#: A control character: C0 (below 32) or DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def _check_text(value: object, path: str, limits: LimitsPolicy, spec: _Text) -> str:
    if not isinstance(value, str):
        raise ValidationError.at(path, f"expected text, got {type(value).__name__}")
    if spec.key:
        if len(value) > limits.max_key:
            raise ValidationError.at(path, f"longer than {limits.max_key} characters")
        if not value.strip():
            raise ValidationError.at(path, "must not be empty")
        if _control(value):
            raise ValidationError.at(path, "must not hold control characters")
    else:
        limit = limits.max_long_text if spec.long else limits.max_short_text
        if len(value) > limit:
            raise ValidationError.at(path, f"longer than {limit} characters")
    if not valid_unicode(value):
        raise ValidationError.at(path, "holds a lone surrogate (not valid Unicode text)")
    return value


def _check_int(value: object, path: str, minimum: int = _INT_MIN) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.at(path, f"expected a whole number, got {describe(value)}")
    if not minimum <= value <= _INT_MAX:
        low = "-2**63" if minimum == _INT_MIN else str(minimum)
        raise ValidationError.at(path, f"must be between {low} and 2**63-1")
    return value


def _check_bool(value: object, path: str, _limits: LimitsPolicy) -> bool:
    if value is True or value is False:
        return value
    raise ValidationError.at(path, f"expected True or False, got {describe(value)}")


def _check_float(value: object, path: str, _limits: LimitsPolicy) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(path, f"expected a number, got {describe(value)}")
    if isinstance(value, int):
        _check_int(value, path)
        return float(value)
    if not math.isfinite(value):
        raise ValidationError.at(path, f"must be a finite number, got {value}")
    return value


def _check_decimal(value: object, path: str, _limits: LimitsPolicy) -> Decimal:
    if not isinstance(value, Decimal):
        raise ValidationError.at(path, f"expected a Decimal, got {describe(value)}")
    if not value.is_finite():
        raise ValidationError.at(path, f"must be a finite decimal, got {value}")
    return value


def _check_year(year: int, path: str, limits: LimitsPolicy) -> None:
    if not limits.earliest_year <= year <= limits.latest_year:
        msg = f"year {year} is outside {limits.earliest_year}-{limits.latest_year}"
        raise ValidationError.at(path, msg)


def _check_datetime(value: object, path: str, limits: LimitsPolicy) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError.at(path, f"expected a datetime, got {describe(value)}")
    _check_year(value.year, path, limits)
    moment = utc(value, path)
    _check_year(moment.year, path, limits)
    return moment


def _check_date(value: object, path: str, limits: LimitsPolicy) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.at(path, f"expected a date, got {describe(value)}")
    _check_year(value.year, path, limits)
    return value


# -- values inside objects -----------------------------------------------------------------


def inspect_value(value: object, path: str, limits: LimitsPolicy, depth: int = 0) -> None:
    """Bound what an object argument carries: its text, numbers, moments and collections.

    An attrs instance has already checked its own types at construction; this adds the
    limits an argument has (text length, lone surrogates, 64-bit integers, finite
    numbers, the year range, ``max_items``) to every value inside it, so a note inside a
    repair record is bounded like a note argument.
    """
    if depth > limits.max_depth:
        raise ValidationError.at(path, f"nested deeper than {limits.max_depth} levels")
    if isinstance(value, str):
        _check_text(value, path, limits, _Text(long=True))
    elif value is None or isinstance(value, bool | enum.Enum):
        return
    elif isinstance(value, int):
        _check_int(value, path)
    elif isinstance(value, float):
        _check_float(value, path, limits)
    elif isinstance(value, Decimal):
        _check_decimal(value, path, limits)
    elif isinstance(value, datetime):
        _check_datetime(value, path, limits)
    elif isinstance(value, date):
        _check_year(value.year, path, limits)
    elif isinstance(value, Money):
        return  # Money validates its amount and currency itself
    elif attrs.has(type(value)):
        for field in attrs.fields(cast(Any, type(value))):
            if field.init or not field.name.startswith("_"):
                inspect_value(
                    getattr(value, field.name), _join(path, field.name), limits, depth + 1
                )
    elif isinstance(value, Mapping):
        _bounded_size(value, path, limits)
        for k, v in value.items():
            inspect_value(k, path, limits, depth + 1)
            inspect_value(v, _join(path, str(k)), limits, depth + 1)
    elif isinstance(value, abc.Collection) and not isinstance(value, bytes | bytearray):
        _bounded_size(value, path, limits)
        for i, item in enumerate(value):
            inspect_value(item, _join(path, str(i)), limits, depth + 1)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# -- the same inspection, prepared once per class ------------------------------------------

#: ``inspect(value, path, limits, depth)``: :func:`inspect_value` for values of one class.
_Inspect: TypeAlias = Callable[[Any, str, LimitsPolicy, int], None]
_LONG_TEXT = _Text(long=True)
_INSPECTORS: dict[type, _Inspect] = {}


def _inspect(value: object, path: str, limits: LimitsPolicy, depth: int = 0) -> None:
    """:func:`inspect_value`, with the branch for the value's class chosen once per class
    (and an attrs class's fields listed once) instead of at every call: the same checks in
    the same order, so the same errors with the same paths."""
    cls = type(value)
    if value.__class__ is not cls:  # a proxy: isinstance sees its __class__ too
        inspect_value(value, path, limits, depth)
        return
    inspect = _INSPECTORS.get(cls)
    if inspect is None:
        inspect = _INSPECTORS.setdefault(cls, _inspector(cls))
    inspect(value, path, limits, depth)


def _too_deep(path: str, limits: LimitsPolicy) -> ValidationError:
    return ValidationError.at(path, f"nested deeper than {limits.max_depth} levels")


def _inspect_nothing(_value: object, path: str, limits: LimitsPolicy, depth: int) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)


def _inspect_text(value: str, path: str, limits: LimitsPolicy, depth: int) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)
    if len(value) > limits.max_long_text or not str.isascii(value):
        _check_text(value, path, limits, _LONG_TEXT)


def _scalar_inspector(check: Callable[[Any, str, LimitsPolicy], object]) -> _Inspect:
    def inspect(value: object, path: str, limits: LimitsPolicy, depth: int) -> None:
        if depth > limits.max_depth:
            raise _too_deep(path, limits)
        check(value, path, limits)

    return inspect


def _inspect_int(value: int, path: str, limits: LimitsPolicy, depth: int) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)
    if not _INT_MIN <= value <= _INT_MAX:
        _check_int(value, path)


def _inspect_year(value: date, path: str, limits: LimitsPolicy, depth: int) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)
    _check_year(value.year, path, limits)


def _attrs_inspector(cls: type) -> _Inspect:
    names = tuple(
        field.name
        for field in attrs.fields(cast(Any, cls))
        if field.init or not field.name.startswith("_")
    )

    def inspect(value: object, path: str, limits: LimitsPolicy, depth: int) -> None:
        if depth > limits.max_depth:
            raise _too_deep(path, limits)
        inner = depth + 1
        for name in names:
            _inspect(getattr(value, name), f"{path}.{name}" if path else name, limits, inner)

    return inspect


def _inspect_mapping(value: Mapping[Any, Any], path: str, limits: LimitsPolicy, depth: int) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)
    _bounded_size(value, path, limits)
    for k, v in value.items():
        _inspect(k, path, limits, depth + 1)
        _inspect(v, _join(path, str(k)), limits, depth + 1)


def _inspect_collection(
    value: abc.Collection[Any], path: str, limits: LimitsPolicy, depth: int
) -> None:
    if depth > limits.max_depth:
        raise _too_deep(path, limits)
    _bounded_size(value, path, limits)
    for i, item in enumerate(value):
        _inspect(item, _join(path, str(i)), limits, depth + 1)


def _inspector(cls: type) -> _Inspect:
    """The branch :func:`inspect_value` takes for values of ``cls``, in its order."""
    if issubclass(cls, str):
        return _inspect_text
    if cls is type(None) or issubclass(cls, bool | enum.Enum):
        return _inspect_nothing
    if issubclass(cls, int):
        return _inspect_int
    if issubclass(cls, float):
        return _scalar_inspector(_check_float)
    if issubclass(cls, Decimal):
        return _scalar_inspector(_check_decimal)
    if issubclass(cls, datetime):
        return _scalar_inspector(_check_datetime)
    if issubclass(cls, date):
        return _inspect_year
    if issubclass(cls, Money):
        return _inspect_nothing  # Money validates its amount and currency itself
    if attrs.has(cls):
        return _attrs_inspector(cls)
    if issubclass(cls, Mapping):
        return _inspect_mapping
    if issubclass(cls, abc.Collection) and not issubclass(cls, bytes | bytearray):
        return _inspect_collection
    return _inspect_nothing


def _bounded_size(value: abc.Sized, path: str, limits: LimitsPolicy) -> None:
    if len(value) > limits.max_items:
        raise ValidationError.at(path, f"holds more than {limits.max_items} items")


def _instance(cls: type) -> Check:
    name = cls.__name__

    def check(value: object, path: str, limits: LimitsPolicy) -> object:
        if not isinstance(value, cls):
            raise ValidationError.at(path, f"expected {_a(name)}, got {type(value).__name__}")
        if cls is not Actor:
            _inspect(value, path, limits)
        return value

    return check


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _enum(kind: type[enum.Enum]) -> Check:
    if issubclass(kind, enum.StrEnum):
        str_kind = kind

        def check_str(value: object, path: str, _limits: LimitsPolicy) -> object:
            return enum_value(str_kind, value, path)

        return check_str

    def check(value: object, path: str, _limits: LimitsPolicy) -> object:
        if isinstance(value, kind):
            return value
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}")

    return check


# -- containers ----------------------------------------------------------------------------


def _items(inner: Check) -> Check:
    def check(value: object, path: str, limits: LimitsPolicy) -> tuple[object, ...]:
        if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
            raise ValidationError.at(path, f"expected a list, got {type(value).__name__}")
        items: list[object] = []
        for i, item in enumerate(value):
            if i >= limits.max_items:
                raise ValidationError.at(path, f"holds more than {limits.max_items} items")
            items.append(inner(item, _join(path, str(i)), limits))
        return tuple(items)

    return check


def _fixed_tuple(inners: tuple[Check, ...]) -> Check:
    def check(value: object, path: str, limits: LimitsPolicy) -> tuple[object, ...]:
        if not isinstance(value, tuple) or len(value) != len(inners):
            msg = f"expected a tuple of {len(inners)} values, got {describe(value)}"
            raise ValidationError.at(path, msg)
        return tuple(
            c(v, _join(path, str(i)), limits)
            for i, (c, v) in enumerate(zip(inners, value, strict=True))
        )

    return check


def _mapping(key_check: Check, value_check: Check) -> Check:
    def check(value: object, path: str, limits: LimitsPolicy) -> dict[object, object]:
        if not isinstance(value, Mapping):
            raise ValidationError.at(path, f"expected a mapping, got {type(value).__name__}")
        _bounded_size(value, path, limits)
        result: dict[object, object] = {}
        for k, v in value.items():
            checked = key_check(k, path, limits)
            result[checked] = value_check(v, _join(path, str(k)), limits)
        return result

    return check


def _optional(inner: Check) -> Check:
    def check(value: object, path: str, limits: LimitsPolicy) -> object:
        return None if value is None else inner(value, path, limits)

    return check


def _literal(choices: tuple[object, ...]) -> Check:
    def check(value: object, path: str, _limits: LimitsPolicy) -> object:
        for choice in choices:
            if type(value) is type(choice) and value == choice:
                return choice
        allowed = ", ".join(repr(c) for c in choices)
        raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}")

    return check


def _union(options: tuple[Check, ...]) -> Check:
    def check(value: object, path: str, limits: LimitsPolicy) -> object:
        first: ValidationError | None = None
        for option in options:
            try:
                return option(value, path, limits)
            except ValidationError as err:
                first = first or err
        assert first is not None  # noqa: S101 - a union has options
        raise first

    return check


def _simple(check: Callable[[Any, str], Any]) -> Check:
    def wrapped(value: object, path: str, _limits: LimitsPolicy) -> object:
        return check(value, path)

    return wrapped


_SCALARS: dict[object, Check] = {
    bool: _check_bool,
    int: _simple(_check_int),
    float: _check_float,
    Decimal: _check_decimal,
    datetime: _check_datetime,
    date: _check_date,
    str: lambda value, path, limits: _check_text(value, path, limits, _Text()),
}
_SEQUENCES = (
    abc.Sequence,
    abc.Iterable,
    abc.Collection,
    abc.Set,
    list,
    frozenset,
    set,
)


def checker(annotation: object) -> Check:
    """The check for one annotation of the vocabulary (``TypeError`` for anything else).

    An unknown annotation is a programming error of the use case, found when its checks
    are compiled (the desk's tests compile every use case), never a user's error.
    """
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _annotated(args[0], args[1:])
    if origin in (typing.Union, types.UnionType):
        return _union_of(args)
    if origin is Literal:
        return _literal(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _items(checker(args[0]))
        return _fixed_tuple(tuple(checker(a) for a in args))
    if origin in _SEQUENCES:
        return _items(checker(args[0] if args else object))
    if origin in (abc.Mapping, dict):
        key_type, value_type = args
        return _mapping(checker(key_type), checker(value_type))
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum(annotation)
    if isinstance(annotation, type) and annotation is not object:
        return _instance(annotation)
    msg = f"no argument check for {annotation!r}: use a type of the desk's vocabulary"
    raise TypeError(msg)


def _text_check(value: object, path: str, limits: LimitsPolicy, *, spec: _Text) -> str:
    return _check_text(value, path, limits, spec)


def _range_check(value: object, path: str, limits: LimitsPolicy, *, minimum: int) -> int:
    number = _check_int(value, path, minimum)
    if number > limits.max_quantity:
        msg = f"must be at most {limits.max_quantity} (limits.max_quantity), got {number}"
        raise ValidationError.at(path, msg)
    return number


def _annotated(base: object, extras: tuple[object, ...]) -> Check:
    for extra in extras:
        if isinstance(extra, _Text):
            return functools.partial(_text_check, spec=extra)
        if isinstance(extra, _Range):
            return functools.partial(_range_check, minimum=extra.minimum)
    return checker(base)


def _union_of(args: tuple[object, ...]) -> Check:
    optional = type(None) in args
    rest = tuple(a for a in args if a is not type(None))
    enums = [a for a in rest if isinstance(a, type) and issubclass(a, enum.StrEnum)]
    if enums and str in rest:
        # ``OrderChannel | str``: the member or its value, passed on as the member
        rest = tuple(a for a in rest if a is not str)
    check = checker(rest[0]) if len(rest) == 1 else _union(tuple(checker(a) for a in rest))
    return _optional(check) if optional else check
