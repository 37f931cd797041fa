"""attrs validators shared by the complaint modules.

Each refuses a wrong type at construction with a :class:`~csdomain.errors.ValidationError`
naming the field, and shows a bad value only in a bounded form
(:func:`~csdomain.errors.describe`). They are cheap: a type check per field, one pass
over a tuple's elements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe


__all__ = [
    "Validator",
    "any_text",
    "duration",
    "flag",
    "instance_of",
    "level",
    "not_negative",
    "optional_aware",
    "optional_flag",
    "optional_instance_of",
    "optional_not_blank",
    "optional_text",
    "positive_duration",
    "representable",
    "text_mapping",
    "tuple_of",
]

#: An attrs validator: ``validator(instance, attribute, value)``.
Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def any_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string (free text may be empty)."""
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def optional_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string or ``None``."""
    if value is not None and not isinstance(value, str):
        msg = f"expected text or nothing, got {type(value).__name__}"
        raise ValidationError.at(attribute.name, msg)


def optional_not_blank(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``None`` or a string with something other than whitespace."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValidationError.at(attribute.name, "must be text or nothing, not empty")


def flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True`` or ``False`` (never a truthy stand-in)."""
    if value is not True and value is not False:
        raise ValidationError.at(attribute.name, f"expected True or False, got {describe(value)}")


def optional_flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True``, ``False`` or ``None``."""
    if value is not None:
        flag(_instance, attribute, value)


def optional_aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``None`` or a timezone-aware datetime."""
    if value is not None:
        require_aware(value, attribute.name)


def positive_duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a duration longer than zero."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.at(attribute.name, "must be a positive duration")


def duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a duration."""
    if not isinstance(value, timedelta):
        raise ValidationError.at(attribute.name, f"expected a duration, got {describe(value)}")


def level(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a level of the five-level ladder (1 to 5)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        msg = f"must be a level from 1 to 5, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def not_negative(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"must be a whole number >= 0, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def instance_of(cls: type) -> Validator:
    """A validator: the field holds an instance of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls) or (cls is not datetime and isinstance(value, bool)):
            msg = f"expected {expected}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return check


def optional_instance_of(cls: type) -> Validator:
    """A validator: the field holds ``None`` or an instance of ``cls``."""
    check = instance_of(cls)

    def optional(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(instance, attribute, value)

    return optional


def tuple_of(cls: type) -> Validator:
    """A validator: the field holds a tuple of instances of ``cls``."""
    expected = _a(cls.__name__)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for index, item in enumerate(value):
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {type(item).__name__}"
                raise ValidationError.at(f"{attribute.name}.{index}", msg)

    return check


def text_mapping(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a mapping of text to text."""
    if not isinstance(value, Mapping):
        msg = f"expected a mapping, got {type(value).__name__}"
        raise ValidationError.at(attribute.name, msg)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            msg = f"expected text, got {type(item).__name__}"
            shown = key if isinstance(key, str) else describe(key)
            raise ValidationError.at(f"{attribute.name}.{shown}", msg)


@contextmanager
def representable(path: str) -> Iterator[None]:
    """Date arithmetic past the last (or before the first) representable moment is a
    :class:`~csdomain.errors.ValidationError` at ``path``, not an ``OverflowError``."""
    try:
        yield
    except OverflowError:
        msg = "is too far in the future or the past for deadline arithmetic"
        raise ValidationError.at(path, msg) from None
