"""The complaint area's own checks (the shared field validators are :mod:`csdomain.validators`).

Each refuses a wrong value with a :class:`~csdomain.errors.ValidationError` naming the
field, and shows a bad value only in a bounded form (:func:`~csdomain.errors.describe`):
a level of the escalation ladder, an SLA's positive duration, and deadline arithmetic
that stays within the representable moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs

from csdomain.errors import ValidationError, describe


__all__ = ["level", "positive_duration", "representable"]


def positive_duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a duration longer than zero."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.at(attribute.name, "must be a positive duration")


def level(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a level of the five-level ladder (1 to 5)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        msg = f"must be a level from 1 to 5, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


@contextmanager
def representable(path: str) -> Iterator[None]:
    """Date arithmetic past the last (or before the first) representable moment is a
    :class:`~csdomain.errors.ValidationError` at ``path``, not an ``OverflowError``."""
    try:
        yield
    except OverflowError:
        msg = "is too far in the future or the past for deadline arithmetic"
        raise ValidationError.at(path, msg) from None
