"""The orders area's own checks (the shared field validators are :mod:`csdomain.validators`).

:func:`quantity` checks a stock method's quantity argument; a bad value is a
:class:`~csdomain.errors.ValidationError` at the given path, shown only in a bounded form
(:func:`~csdomain.errors.describe`).
"""

from __future__ import annotations

from csdomain.errors import ValidationError, describe


def quantity(value: object, path: str) -> int:
    """``value`` when it is a whole number of one or more (for method arguments)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.at(path, f"must be a positive integer, got {describe(value)}")
    return value
