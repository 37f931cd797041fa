"""The satisfaction area's own checks (the field validators are :mod:`csdomain.validators`).

Each check returns the checked value or raises :class:`~csdomain.errors.ValidationError`
with the given path: scores and scales (``score``, ``in_range``, ``finite`` ...), the
notes and customer ids of lifecycle steps, and :func:`step` for who may take a step. A bad
value shows only in a bounded form (:func:`~csdomain.errors.describe`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping

from csdomain.auth import AccessPolicy, Actor
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe


# -- value checks ----------------------------------------------------------------------


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
