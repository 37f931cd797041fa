"""Validation helpers shared by the satisfaction modules (each names the bad path)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

import attrs

from csdomain.errors import ValidationError
from csdomain.lifecycle import StatusChange


E = TypeVar("E", bound=StrEnum)


def _enum(cls: type[E], value: object, path: str) -> E:
    if isinstance(value, cls):
        return value
    try:
        if not isinstance(value, str):
            raise TypeError
        return cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValidationError.at(path, f"{value!r} is not one of {allowed}") from None


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value: object, path: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValidationError.at(path, f"expected a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValidationError.at(path, f"must be finite, got {value!r}")
    return result


def _in_range(value: object, low: float, high: float, path: str) -> float:
    result = _finite(value, path)
    if not low <= result <= high:
        raise ValidationError.at(path, f"{value!r} is outside {low:g}..{high:g}")
    return result


def _fraction(value: object, path: str) -> float:
    """A number strictly between 0 and 1 (a confidence level)."""
    result = _finite(value, path)
    if not 0 < result < 1:
        raise ValidationError.at(path, f"must be strictly between 0 and 1, got {value!r}")
    return result


def _whole(value: object, low: int, high: int, path: str, what: str = "whole number") -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValidationError.at(path, f"{value!r} is not a {what}")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError.at(path, f"{value!r} is outside {low}..{high}")
    return number


def _score(value: object, low: int, high: int, path: str) -> int:
    """A whole-number score in ``low..high``; anything else names the bad value."""
    return _whole(value, low, high, path, "whole-number score")


def _count(value: object, path: str) -> int:
    return _whole(value, 0, 2**63, path)


def _nonempty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, f"must be a non-empty string, got {value!r}")


def _optional_count(value: object, path: str) -> int | None:
    return None if value is None else _count(value, path)


def _to_history(value: Iterable[StatusChange]) -> tuple[StatusChange, ...]:
    return tuple(value)
