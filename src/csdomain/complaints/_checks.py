"""The complaint area's own check (the shared field validators are :mod:`csdomain.validators`).

:func:`level` refuses a level off the five-level escalation ladder with a
:class:`~csdomain.errors.ValidationError` naming the field, and shows the bad value only
in a bounded form (:func:`~csdomain.errors.describe`).
"""

from __future__ import annotations

from typing import Any

import attrs

from csdomain.errors import ValidationError, describe


__all__ = ["level"]


def level(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a level of the five-level ladder (1 to 5)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        msg = f"must be a level from 1 to 5, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)
