"""attrs validators and converters shared by orders and returns.

Each validator refuses a wrong type at construction with a
:class:`~csdomain.errors.ValidationError` naming the field, and its message shows the bad
value only in a bounded form (:func:`~csdomain.errors.describe`). They are cheap: a type
check per field, one pass over a tuple's elements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.validators import aware


E = TypeVar("E", bound=StrEnum)

#: An attrs validator: ``validator(instance, attribute, value)``.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string (free text may be empty)."""
    if value.__class__ is not str and not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def positive_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of one or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"must be a positive integer, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def count(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"must be a whole number >= 0, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds :class:`~csdomain.money.Money`."""
    if not isinstance(value, Money):
        raise ValidationError.at(attribute.name, f"expected Money, got {type(value).__name__}")


def flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True`` or ``False``."""
    if value is not True and value is not False:
        raise ValidationError.at(attribute.name, f"expected true or false, got {describe(value)}")


def decimal(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite :class:`~decimal.Decimal`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        msg = f"expected a finite Decimal, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a date (not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.at(attribute.name, f"expected a date, got {type(value).__name__}")


def instance_of(cls: type) -> Validator:
    """The field holds an instance of ``cls``."""
    expected = _a(cls.__name__)

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


def optional_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``None`` or a string."""
    if value is not None and not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def optional_aware(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """``None`` or an aware datetime."""
    if value is not None:
        aware(instance, attribute, value)


def optional_instance_of(cls: type) -> Validator:
    """``None`` or an instance of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, cls):
            msg = f"expected {expected} or nothing, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


def tuple_of(cls: type | tuple[type, ...]) -> Validator:
    """The field holds a tuple whose every element is an instance of ``cls``."""
    names = cls if isinstance(cls, tuple) else (cls,)
    expected = " or ".join(_a(c.__name__) for c in names)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for item in value:
            if not isinstance(item, cls):
                i = next(i for i, x in enumerate(value) if not isinstance(x, cls))
                msg = f"expected {expected}, got {type(value[i]).__name__}"
                raise ValidationError.at(f"{attribute.name}.{i}", msg)

    return check


def frozenset_of(cls: type) -> Validator:
    """The field holds a frozenset whose every element is an instance of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            msg = f"expected a frozenset, got {type(value).__name__}"
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


def quantity(value: object, path: str) -> int:
    """``value`` when it is a whole number of one or more (for method arguments)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.at(path, f"must be a positive integer, got {describe(value)}")
    return value


def integer(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.at(attribute.name, f"expected a whole number, got {describe(value)}")


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


def enum_member(kind: type[E], value: object, path: str, what: str) -> E:
    """The member of ``kind`` given as itself or its value; anything else is ``not {what}``."""
    if value.__class__ is kind:
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    raise ValidationError.at(path, f"not {what}: {describe(value)}")
