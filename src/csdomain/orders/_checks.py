"""The orders area's own checks (the shared field validators are :mod:`csdomain.validators`).

:func:`quantity` checks a stock method's quantity argument; a bad value is a
:class:`~csdomain.errors.ValidationError` at the given path, shown only in a bounded form
(:func:`~csdomain.errors.describe`). :func:`stored_count` and :func:`stored_positive` are
the field validators of every quantity kept in a stored document: a whole number no larger
than :data:`MAX_STORED_QUANTITY`, what every backend keeps as an integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.validators import _accepting


#: The largest quantity a stored document holds: a signed 64-bit integer (the store's
#: integer range on every backend), so a stock can never grow past what the store keeps.
MAX_STORED_QUANTITY = 2**63 - 1


def _whole(value: object, path: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a positive integer" if low else "a whole number >= 0"
        raise ValidationError.at(path, f"must be {what}, got {describe(value)}")
    if value > MAX_STORED_QUANTITY:
        raise ValidationError.at(path, f"must be at most 2**63-1, got {describe(value)}")
    return value


def quantity(value: object, path: str) -> int:
    """``value`` when it is a whole number of one or more that a store keeps."""
    return _whole(value, path, 1)


def stored_count(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more, at most :data:`MAX_STORED_QUANTITY`."""
    _whole(value, attribute.name, 0)


def stored_positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of one or more, at most :data:`MAX_STORED_QUANTITY`."""
    _whole(value, attribute.name, 1)


# What they accept, for the converter's checked decoding (csdomain.validators._accepted).
_accepting(stored_count, "test", (int,), f"not ({{0}} < 0 or {{0}} > {MAX_STORED_QUANTITY})")
_accepting(stored_positive, "test", (int,), f"not ({{0}} < 1 or {{0}} > {MAX_STORED_QUANTITY})")


def quantities_over(
    asked: Mapping[tuple[str, bool], int], left: Mapping[tuple[str, bool], int]
) -> dict[str, tuple[int, int]]:
    """The lines of ``asked`` beyond what is ``left`` of a shipment, by SKU.

    Keys are ``(sku, gift)`` line keys; the result reads ``"AB-100 (gift)": (asked, left)``
    with ``left`` never below zero, for a refusal that names each line (a return or a
    delivery problem concerns at most what was shipped, docs/domain.md 2).
    """
    return {
        f"{sku}{' (gift)' if gift else ''}": (quantity, max(left.get((sku, gift), 0), 0))
        for (sku, gift), quantity in sorted(asked.items())
        if quantity > left.get((sku, gift), 0)
    }
