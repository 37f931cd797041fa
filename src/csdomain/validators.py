"""attrs validators shared by the domain models.

Each raises :class:`~csdomain.errors.ValidationError` with the field's name as the path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError


__all__ = ["aware", "enum_value", "not_blank"]

E = TypeVar("E", bound=StrEnum)


def aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    """The field holds a timezone-aware datetime."""
    if value.__class__ is datetime and value.tzinfo is UTC:
        return  # UTC's offset is never None: aware
    require_aware(value, attribute.name)


def not_blank(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """The field holds a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, "must not be empty")


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
    raise ValidationError.at(path, f"{value!r} is not one of {allowed}")
