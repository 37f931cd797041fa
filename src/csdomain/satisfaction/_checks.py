"""Checks and attrs validators shared by the satisfaction modules.

The value checks (``finite``, ``in_range``, ``score`` ...) return the checked value or
raise :class:`~csdomain.errors.ValidationError` with the given path. The validators refuse
a wrong type at construction with the field's name as the path. Every message shows a
bad value only in a bounded form (:func:`~csdomain.errors.describe`), and every check is
cheap: a type test per field, one pass over a collection's elements.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from csdomain.auth import AccessPolicy, Actor
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe


E = TypeVar("E", bound=StrEnum)

#: An attrs validator: ``validator(instance, attribute, value)``.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


# -- value checks ----------------------------------------------------------------------


def enum_member(cls: type[E], value: object, path: str) -> E:
    """The member of ``cls`` given as itself or its value; anything else names the choices."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    allowed = ", ".join(repr(member.value) for member in cls)
    raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}")


def is_int(value: object) -> bool:
    """Whether ``value`` is a whole number (a bool is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def finite(value: object, path: str) -> float:
    """``value`` as a float when it is a finite real number (not a bool)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValidationError.at(path, f"expected a number, got {describe(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise ValidationError.at(path, f"too large for a number: {describe(value)}") from None
    if not math.isfinite(result):
        raise ValidationError.at(path, f"must be finite, got {describe(value)}")
    return result


def in_range(value: object, low: float, high: float, path: str) -> float:
    """``value`` as a float when it is a finite number in ``low..high``."""
    result = finite(value, path)
    if not low <= result <= high:
        raise ValidationError.at(path, f"{describe(value)} is outside {low:g}..{high:g}")
    return result


def fraction(value: object, path: str) -> float:
    """A number strictly between 0 and 1 (a confidence level)."""
    result = finite(value, path)
    if not 0 < result < 1:
        msg = f"must be strictly between 0 and 1, got {describe(value)}"
        raise ValidationError.at(path, msg)
    return result


def whole(value: object, low: int, high: int, path: str, what: str = "whole number") -> int:
    """``value`` as an int when it is a whole number in ``low..high``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValidationError.at(path, f"{describe(value)} is not a {what}")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError.at(path, f"{describe(value)} is outside {low}..{high}")
    return number


def score(value: object, low: int, high: int, path: str) -> int:
    """A whole-number score in ``low..high``; anything else names the bad value."""
    return whole(value, low, high, path, "whole-number score")


def count(value: object, path: str) -> int:
    """A whole number of zero or more (at most 2**63)."""
    return whole(value, 0, 2**63, path)


def optional_count(value: object, path: str) -> int | None:
    """``None`` or :func:`count`."""
    return None if value is None else count(value, path)


def note(value: object, path: str = "note") -> str:
    """``value`` when it is text (a note of a lifecycle step may be empty)."""
    if not isinstance(value, str):
        raise ValidationError.at(path, f"expected text, got {type(value).__name__}")
    return value


def customer_ids(value: object, path: str) -> frozenset[str]:
    """A collection of customer ids (non-blank text) as a frozenset."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError.at(path, "expected a collection of customer ids")
    ids: set[str] = set()
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError.at(path, f"not a customer id: {describe(item)}")
        ids.add(item)
    return frozenset(ids)


def step(access: object, by: object, permission: str, at: object) -> Actor:
    """``by`` when it may take a step needing ``permission`` at the aware moment ``at``.

    The actor and the access policy must be what they say (a wrong type is a
    :class:`~csdomain.errors.ValidationError`, never an ``AttributeError``).
    """
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    if not isinstance(access, AccessPolicy):
        msg = f"expected an AccessPolicy, got {type(access).__name__}"
        raise ValidationError.at("access", msg)
    access.require(by, permission)
    require_aware(at)
    return by


# -- validators ------------------------------------------------------------------------


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def nonempty(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        msg = f"must be a non-empty string, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string (free text may be empty)."""
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True`` or ``False``."""
    if value is not True and value is not False:
        raise ValidationError.at(attribute.name, f"expected true or false, got {describe(value)}")


def number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite real number (not a bool)."""
    finite(value, attribute.name)


def whole_number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more (not a bool)."""
    count(value, attribute.name)


def day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a date (not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.at(attribute.name, f"expected a date, got {type(value).__name__}")


def instance_of(cls: type | tuple[type, ...]) -> Validator:
    """The field holds an instance of ``cls`` (one of them, for a tuple)."""
    names = cls if isinstance(cls, tuple) else (cls,)
    expected = " or ".join(_a(c.__name__) for c in names)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            msg = f"expected {expected}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


def optional(validator: Validator) -> Validator:
    """``None`` or what ``validator`` accepts."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


#: ``None``, ``True`` or ``False``.
optional_flag = optional(flag)
#: ``None`` or text.
optional_text = optional(text)
#: ``None`` or a date.
optional_day = optional(day)
#: ``None`` or a whole number of zero or more.
optional_whole_number = optional(whole_number)


def tuple_of(cls: type | tuple[type, ...]) -> Validator:
    """The field holds a tuple whose every element is an instance of ``cls``."""
    names = cls if isinstance(cls, tuple) else (cls,)
    expected = " or ".join(_a(c.__name__) for c in names)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for i, item in enumerate(value):
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {type(item).__name__}"
                raise ValidationError.at(f"{attribute.name}.{i}", msg)

    return check


def frozenset_of(cls: type) -> Validator:
    """The field holds a frozenset whose every element is an instance of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            msg = f"expected a set, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for item in value:
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {describe(item)}"
                raise ValidationError.at(attribute.name, msg)

    return check


def as_tuple(value: Any) -> Any:
    """An attrs converter: a list or another collection becomes a tuple.

    Text, bytes, mappings and non-iterables pass unchanged, for the validator to name.
    """
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        return value
    return tuple(value)


def as_frozenset(value: Any) -> Any:
    """An attrs converter: a collection of hashable items becomes a frozenset.

    Text, bytes, mappings, non-iterables and collections holding unhashable items pass
    unchanged, for the validator to name.
    """
    if isinstance(value, frozenset):
        return value
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
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
