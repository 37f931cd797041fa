"""Checks of the orders area beyond the kernel's validators (:mod:`csdomain.validators`).

Each refuses a wrong value with a :class:`~csdomain.errors.ValidationError` naming the
field or argument, and shows the bad value only in a bounded form
(:func:`~csdomain.errors.describe`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.validators import Validator


E = TypeVar("E", bound=StrEnum)


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


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


def optional_instance_of(cls: type) -> Validator:
    """``None`` or an instance of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, cls):
            msg = f"expected {expected} or nothing, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


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


def quantity(value: object, path: str) -> int:
    """``value`` when it is a whole number of one or more (for method arguments)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.at(path, f"must be a positive integer, got {describe(value)}")
    return value


def money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds :class:`~csdomain.money.Money`."""
    if not isinstance(value, Money):
        raise ValidationError.at(attribute.name, f"expected Money, got {type(value).__name__}")
