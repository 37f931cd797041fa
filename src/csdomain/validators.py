"""attrs validators and converters shared by every domain model.

Each validator refuses a wrong value at construction with a
:class:`~csdomain.errors.ValidationError` whose path is the field's name, and shows the
bad value only in a bounded form (:func:`~csdomain.errors.describe`). They are cheap: a
type check per field, one pass over a collection's elements. Models use them as
``attrs.field(validator=text)`` or ``attrs.field(validator=tuple_of(StatusChange))``;
the converters (:func:`as_tuple`, :func:`as_frozenset`, :func:`as_dict`) turn the
collection a caller gave into the frozen form the model keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.money import Money


__all__ = [
    "Validator",
    "as_dict",
    "as_frozenset",
    "as_tuple",
    "aware",
    "count",
    "currency_code",
    "day",
    "decimal",
    "duration",
    "enum_value",
    "flag",
    "frozenset_of",
    "instance_of",
    "integer",
    "money",
    "not_blank",
    "number",
    "optional",
    "optional_aware",
    "optional_flag",
    "optional_instance_of",
    "optional_text",
    "positive_duration",
    "positive_int",
    "representable",
    "text",
    "text_mapping",
    "tuple_of",
]

E = TypeVar("E", bound=StrEnum)

#: An attrs validator: ``validator(instance, attribute, value)``.
Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _names(cls: type | tuple[type, ...]) -> str:
    classes = cls if isinstance(cls, tuple) else (cls,)
    return " or ".join(_a(c.__name__) for c in classes)


# -- scalars -------------------------------------------------------------------------------


def aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    """The field holds a timezone-aware datetime."""
    if value.__class__ is datetime and value.tzinfo is UTC:
        return  # UTC's offset is never None: aware
    require_aware(value, attribute.name)


def not_blank(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """The field holds a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, "must not be empty")


def text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string (free text may be empty)."""
    if value.__class__ is not str and not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True`` or ``False`` (never a truthy stand-in)."""
    if value is not True and value is not False:
        raise ValidationError.at(attribute.name, f"expected True or False, got {describe(value)}")


def integer(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.at(attribute.name, f"expected a whole number, got {describe(value)}")


def count(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"must be a whole number >= 0, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def positive_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of one or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"must be a positive integer, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite real number (int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(attribute.name, f"expected a number, got {describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError.at(attribute.name, f"must be a finite number, got {value}")


def decimal(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite :class:`~decimal.Decimal`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        msg = f"expected a finite Decimal, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a date (not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.at(attribute.name, f"expected a date, got {type(value).__name__}")


def duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a :class:`~datetime.timedelta`."""
    if not isinstance(value, timedelta):
        raise ValidationError.at(attribute.name, f"expected a duration, got {describe(value)}")


def positive_duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a :class:`~datetime.timedelta` longer than zero."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        msg = f"must be a positive duration, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def enum_value(kind: type[E], value: object, path: str) -> E:
    """The member of ``kind`` given as itself or its value; anything else names the choices."""
    if value.__class__ is kind:
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in kind)
    raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}")


def currency_code(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a currency code: three capital letters (ISO 4217's form)."""
    if not (
        isinstance(value, str)
        and len(value) == 3
        and value.isascii()
        and value.isalpha()
        and value.isupper()
    ):
        raise ValidationError.at(attribute.name, f"not an ISO 4217 code: {describe(value)}")


@contextmanager
def representable(path: str) -> Iterator[None]:
    """Date arithmetic past the last (or before the first) representable moment is a
    :class:`~csdomain.errors.ValidationError` at ``path``, not an ``OverflowError``."""
    try:
        yield
    except OverflowError:
        msg = "is too far in the future or the past for deadline arithmetic"
        raise ValidationError.at(path, msg) from None


# -- combinators ---------------------------------------------------------------------------


def optional(validator: Validator) -> Validator:
    """``None`` or what ``validator`` accepts."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


#: ``None`` or text.
optional_text = optional(text)
#: ``None`` or an aware datetime.
optional_aware = optional(aware)
#: ``None``, ``True`` or ``False``.
optional_flag = optional(flag)


def instance_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds an instance of ``cls`` (one of them, for a tuple); never a bool
    where a number is asked for.

    The message names ``what`` the field holds (``"a part number"``), by default the
    class (``"a SparePart"``).
    """
    expected = what or _names(cls)
    classes = cls if isinstance(cls, tuple) else (cls,)
    bools = bool in classes

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls) or (value.__class__ is bool and not bools):
            msg = f"expected {expected}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


def optional_instance_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """``None`` or what :func:`instance_of` accepts."""
    return optional(instance_of(cls, what))


#: The field holds :class:`~csdomain.money.Money`.
money = instance_of(Money, "Money")


def tuple_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds a tuple whose every element is an instance of ``cls`` (an element
    of another type is named by its index and ``what``, by default the class)."""
    expected = what or _names(cls)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for i, item in enumerate(value):
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {type(item).__name__}"
                raise ValidationError.at(f"{attribute.name}.{i}", msg)

    return check


def frozenset_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds a frozenset whose every element is an instance of ``cls``
    (``what``, by default the class, names it in the message)."""
    expected = what or _names(cls)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            msg = f"expected a set, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for item in value:
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {describe(item)}"
                raise ValidationError.at(attribute.name, msg)

    return check


def text_mapping(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a mapping of text to text."""
    if not isinstance(value, Mapping):
        msg = f"expected a mapping, got {type(value).__name__}"
        raise ValidationError.at(attribute.name, msg)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            shown = key if isinstance(key, str) else describe(key)
            msg = f"expected text, got {type(item).__name__}"
            raise ValidationError.at(f"{attribute.name}.{shown}", msg)


# -- converters ----------------------------------------------------------------------------


def _collection(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | bytearray | Mapping)


def as_tuple(value: Any) -> Any:
    """An attrs converter: a list or another collection becomes a tuple.

    Text, bytes, mappings and non-iterables pass unchanged, for the validator to name.
    """
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return tuple(value) if _collection(value) else value


def as_frozenset(value: Any) -> Any:
    """An attrs converter: a collection of hashable items becomes a frozenset.

    Text, bytes, mappings, non-iterables and collections holding unhashable items pass
    unchanged, for the validator to name.
    """
    if isinstance(value, frozenset) or not _collection(value):
        return value
    try:
        return frozenset(value)
    except TypeError:
        return value


def as_dict(value: Any) -> Any:
    """An attrs converter: a mapping becomes a plain dict; anything else passes unchanged."""
    if isinstance(value, Mapping) and type(value) is not dict:
        return dict(value)
    return value
