"""Small validation helpers shared by the warranty models.

The ``_text``, ``_count`` ... helpers collect ``(path, message)`` problems, so a model can
report every bad field at once; :func:`typed` and :func:`tuple_of` are attrs validators
for the fields that only need the right type (cheap ``isinstance`` checks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

import attrs

from csdomain.errors import ValidationError, describe


E = TypeVar("E", bound=StrEnum)
_Problems = list[tuple[str, str]]
#: An attrs validator: ``check(instance, attribute, value)``.
Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def typed(kind: type | tuple[type, ...], what: str, *, optional: bool = False) -> Validator:
    """An attrs validator: the field holds ``what`` (an instance of ``kind``).

    ``optional`` also lets ``None`` through. A bool is not a whole number here.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    bools = bool in kinds

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kinds) or (isinstance(value, bool) and not bools):
            msg = f"expected {what}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


def tuple_of(kind: type, what: str) -> Validator:
    """An attrs validator: the field holds a tuple of ``what`` (instances of ``kind``)."""

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple of {what}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for i, item in enumerate(value):
            if not isinstance(item, kind):
                msg = f"expected {what}, got {type(item).__name__}"
                raise ValidationError.at(f"{attribute.name}.{i}", msg)

    return check


def _enum(cls: type[E], value: object, path: str) -> E:
    if isinstance(value, cls):
        return value
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}") from None


def _text(value: object, path: str, problems: _Problems) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.append((path, "must be a non-empty string"))


def _count(value: object, path: str, problems: _Problems, minimum: int = 0) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, f"must be an integer, got {type(value).__name__}"))
        return False
    if value < minimum:
        problems.append((path, f"must be at least {minimum}, got {value}"))
        return False
    return True


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _date(value: object, path: str, problems: _Problems, *, optional: bool) -> bool:
    if value is None and optional:
        return True
    if not _is_date(value):
        problems.append((path, f"must be a date, got {type(value).__name__}"))
        return False
    return True


def _flag(value: object, path: str, problems: _Problems) -> None:
    if not isinstance(value, bool):
        problems.append((path, f"must be true or false, got {type(value).__name__}"))


def _decimal_at_least(value: object, minimum: Decimal, path: str, problems: _Problems) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        problems.append((path, f"must be a Decimal, got {type(value).__name__}"))
    elif isinstance(value, Decimal) and not value.is_finite():
        problems.append((path, f"must be finite, got {value}"))
    elif value < minimum:
        problems.append((path, f"must be at least {minimum}, got {value}"))


def _raise(problems: _Problems) -> None:
    if problems:
        raise ValidationError(problems)


def _same_serial(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()
