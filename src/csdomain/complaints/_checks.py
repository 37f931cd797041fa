"""attrs validators shared by the complaint modules (each raises ValidationError at the field)."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError


__all__ = [
    "duration",
    "level",
    "not_negative",
    "optional_aware",
    "optional_not_blank",
    "positive_duration",
]


def optional_not_blank(
    _instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValidationError.at(attribute.name, "must be text or nothing, not empty")


def optional_aware(
    _instance: object, attribute: attrs.Attribute[datetime | None], value: datetime | None
) -> None:
    if value is not None:
        require_aware(value, attribute.name)


def positive_duration(
    _instance: object, attribute: attrs.Attribute[timedelta], value: timedelta
) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.at(attribute.name, "must be a positive duration")


def duration(_instance: object, attribute: attrs.Attribute[timedelta], value: timedelta) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError.at(attribute.name, f"expected a duration, got {value!r}")


def level(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError.at(attribute.name, f"must be a level from 1 to 5, got {value!r}")


def not_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.at(attribute.name, f"must be a whole number >= 0, got {value!r}")
