"""Clocks: the only way domain code learns what time it is.

Domain functions never read the system clock; they take ``at=`` arguments. The service
layer asks a :class:`Clock`. :class:`SystemClock` reads the real time, :class:`FixedClock`
stands still until told to :meth:`~FixedClock.advance` (for tests and replays). Every
datetime is timezone-aware; :func:`require_aware` rejects naive ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from csdomain.errors import ValidationError


__all__ = ["Clock", "FixedClock", "SystemClock", "as_utc", "require_aware", "utc"]


def require_aware(value: object, path: str = "at") -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise ValidationError."""
    if not isinstance(value, datetime):
        raise ValidationError.at(path, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError.at(path, f"naive datetime {value.isoformat()} has no time zone")
    return value


def _to_utc(value: datetime, path: str) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        shown = value.isoformat()
        raise ValidationError.at(path, f"{shown} is outside the range of UTC datetimes") from None


def utc(value: datetime, path: str = "at") -> datetime:
    """Check ``value`` is aware and convert it to UTC (a moment UTC cannot hold is refused)."""
    return _to_utc(require_aware(value, path), path)


def as_utc(value: Any) -> Any:
    """An attrs converter: aware datetimes become UTC, anything else passes unchanged.

    Stored instants are kept in UTC so that equality survives a JSON round trip even for
    wall-clock times repeated by a DST fall-back (PEP 495: such times never compare equal
    across zones). Validators still reject naive datetimes and other types.
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        offset = value.utcoffset()
        if offset is not None:
            return _to_utc(value, "at")
    return value


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's real-time clock, in UTC."""

    def now(self) -> datetime:
        """The current instant from the operating system."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until :meth:`advance` or :meth:`set` moves it."""

    def __init__(self, at: datetime) -> None:
        self._at = utc(at)

    def now(self) -> datetime:
        """The instant this clock was set to."""
        return self._at

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` (never backwards) and return the new time."""
        if not isinstance(delta, timedelta):
            raise ValidationError.at("delta", f"expected a timedelta, got {type(delta).__name__}")
        if delta < timedelta(0):
            raise ValidationError.at("delta", "a clock only moves forward")
        self._at = self._at + delta
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (which must not be earlier than now)."""
        at = utc(at)
        if at < self._at:
            raise ValidationError.at("at", "a clock only moves forward")
        self._at = at

    def today(self) -> date:
        """The UTC date of the current instant."""
        return self._at.date()

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()!r})"
