"""Argument checks at the service desk's boundary, shared by every group of use cases.

Each check returns the value when it fits and raises
:class:`~csdomain.errors.ValidationError` naming the argument otherwise, so a bad call is
refused before any unit of work starts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from csdomain.auth import Actor
from csdomain.clock import utc
from csdomain.errors import ValidationError
from csdomain.validators import enum_value


__all__ = [
    "actor",
    "choice",
    "key",
    "moment",
    "optional_instance",
    "optional_key",
    "optional_text",
    "text",
]

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


def actor(by: object) -> Actor:
    """``by`` when it is an :class:`~csdomain.auth.Actor`."""
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    return by


def key(value: object, path: str) -> str:
    """A non-blank string: an id, a SKU, a name."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, f"must be a non-empty string, got {value!r}")
    return value


def optional_key(value: object, path: str) -> str | None:
    """``None`` or a non-blank string."""
    return None if value is None else key(value, path)


def text(value: object, path: str) -> str:
    """Any string (free text may be empty)."""
    if not isinstance(value, str):
        raise ValidationError.at(path, f"expected text, got {type(value).__name__}")
    return value


def optional_text(value: object, path: str) -> str | None:
    """``None`` or a string."""
    return None if value is None else text(value, path)


def optional_instance(value: object, cls: type[T], path: str) -> T | None:
    """``None`` or an instance of ``cls``."""
    if value is not None and not isinstance(value, cls):
        msg = f"expected {cls.__name__} or nothing, got {type(value).__name__}"
        raise ValidationError.at(path, msg)
    return value


def moment(value: object, path: str) -> datetime:
    """An aware datetime, converted to UTC."""
    if not isinstance(value, datetime):
        raise ValidationError.at(path, f"expected a datetime, got {type(value).__name__}")
    return utc(value, path)


def choice(kind: type[E], value: object, path: str) -> E:
    """A member of the string enum ``kind``, given as the member or its value."""
    return enum_value(kind, value, path)
