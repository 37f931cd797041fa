"""Shared attrs validators and converters (csdomain.validators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

import attrs
import pytest

from csdomain.errors import ValidationError
from csdomain.validators import aware, enum_value


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Mood(StrEnum):
    RED = "red"


def test_enum_value_returns_the_member_for_itself_or_its_value() -> None:
    assert enum_value(Colour, Colour.BLUE, "colour") is Colour.BLUE
    assert enum_value(Colour, "red", "colour") is Colour.RED
    assert enum_value(Colour, Mood.RED, "colour") is Colour.RED


@pytest.mark.parametrize(
    ("value", "shown"),
    [("green", "'green'"), ("RED", "'RED'"), (3, "3"), (None, "None"), (b"red", "b'red'")],
)
def test_enum_value_refuses_anything_else_and_names_every_choice(value: object, shown: str) -> None:
    with pytest.raises(ValidationError) as err:
        enum_value(Colour, value, "lines.0.colour")
    assert err.value.errors == [("lines.0.colour", f"{shown} is not one of red, blue")]


@attrs.frozen
class Stamp:
    at: datetime = attrs.field(validator=aware)


class Instant(datetime):
    pass


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
        Instant(2026, 1, 1, tzinfo=UTC),
    ],
)
def test_aware_accepts_every_timezone_aware_datetime(at: datetime) -> None:
    assert Stamp(at).at is at


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime(2026, 1, 1), "naive datetime 2026-01-01T00:00:00 has no time zone"),
        (Instant(2026, 1, 1), "naive datetime 2026-01-01T00:00:00 has no time zone"),
        (date(2026, 1, 1), "expected a datetime, got date"),
        ("2026-01-01T00:00:00+00:00", "expected a datetime, got str"),
    ],
)
def test_aware_refuses_naive_datetimes_and_other_types_with_the_field_path(
    value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        Stamp(value)  # type: ignore[arg-type]
    assert err.value.errors == [("at", message)]
