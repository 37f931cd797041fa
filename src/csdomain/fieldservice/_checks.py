"""The field-service area's own checks (the shared field validators are
:mod:`csdomain.validators`).

Each refuses a wrong value with a :class:`~csdomain.errors.ValidationError` naming the
field and shows a bad value only in a bounded form (:func:`~csdomain.errors.describe`):
a set of names, a set of texts, a non-negative amount of money.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from csdomain.errors import ValidationError, describe


__all__ = [
    "amount",
    "names",
    "texts",
]


def names(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a frozenset of non-blank names (skills, service areas)."""
    if not isinstance(value, frozenset):
        raise ValidationError.at(attribute.name, f"expected a set of names, got {describe(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError.at(
                attribute.name, f"a name must be non-blank text, not {describe(item)}"
            )


def texts(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a tuple of non-blank texts (symptoms, causes, measures)."""
    if not isinstance(value, tuple):
        raise ValidationError.at(
            attribute.name, f"expected a tuple of texts, got {describe(value)}"
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValidationError.at(f"{attribute.name}.{i}", "must be non-blank text")


def amount(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite, non-negative :class:`~decimal.Decimal` amount."""
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        msg = f"must be a finite Decimal of zero or more, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)
