"""The warranty area's own checks (the shared field validators are :mod:`csdomain.validators`).

The ``_text``, ``_count`` ... helpers collect ``(path, message)`` problems, so a model can
report every bad field at once (:func:`_raise` raises them together); :func:`_same_serial`
compares serial numbers as the warranty rules do.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from csdomain.errors import ValidationError


_Problems = list[tuple[str, str]]


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
