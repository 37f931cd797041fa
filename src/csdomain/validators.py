"""attrs validators shared by the domain models.

Each raises :class:`~csdomain.errors.ValidationError` with the field's name as the path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError


__all__ = ["aware", "not_blank"]


def aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    """The field holds a timezone-aware datetime."""
    require_aware(value, attribute.name)


def not_blank(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """The field holds a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, "must not be empty")
