"""Clocks: aware datetimes only, and test clocks that never run backwards (csdomain.clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.clock import Clock, FixedClock, SystemClock, as_utc, require_aware, utc
from csdomain.errors import ValidationError
from csdomain.testing.strategies_kernel import aware_datetimes


def test_require_aware_returns_aware_datetimes_unchanged() -> None:
    at = datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert require_aware(at) is at


def test_require_aware_rejects_naive_datetimes_with_the_path() -> None:
    with pytest.raises(ValidationError, match="no time zone") as err:
        require_aware(datetime(2026, 1, 1), "order.placed_at")
    assert err.value.errors[0][0] == "order.placed_at"


@pytest.mark.parametrize("value", [date(2026, 1, 1), "2026-01-01T00:00:00+00:00", 1767225600, None])
def test_require_aware_rejects_non_datetimes(value: object) -> None:
    with pytest.raises(ValidationError, match="expected a datetime") as err:
        require_aware(value)
    assert err.value.errors[0][0] == "at"


def test_require_aware_rejects_a_tzinfo_without_an_offset() -> None:
    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

        def dst(self, dt: datetime | None) -> None:
            return None

        def tzname(self, dt: datetime | None) -> str:
            return "nowhere"

    with pytest.raises(ValidationError):
        require_aware(datetime(2026, 1, 1, tzinfo=NoOffset()))


@given(aware_datetimes())
def test_utc_keeps_the_instant_and_changes_the_zone_to_utc(at: datetime) -> None:
    converted = utc(at)
    assert converted.tzinfo is UTC
    assert converted.timestamp() == at.timestamp()


def test_system_clock_returns_aware_utc_now() -> None:
    clock = SystemClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after
    assert isinstance(clock, Clock)


def test_fixed_clock_stands_still_in_utc() -> None:
    clock = FixedClock(datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert clock.now() == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.now() == clock.now()
    assert clock.today() == date(2026, 11, 30)
    assert isinstance(clock, Clock)


def test_fixed_clock_refuses_naive_start() -> None:
    with pytest.raises(ValidationError):
        FixedClock(datetime(2026, 1, 1))


def test_fixed_clock_advance_moves_forward_and_returns_the_new_time() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.advance(timedelta(hours=2)) == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert clock.advance(timedelta(0)) == clock.now()


def test_fixed_clock_advance_never_goes_backwards() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("delta", [5, 1.5, "1h", None])
def test_fixed_clock_advance_refuses_non_durations(delta: object) -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError) as err:
        clock.advance(delta)  # type: ignore[arg-type]
    assert err.value.errors[0][0] == "delta"


def test_fixed_clock_set_never_goes_backwards() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.set(datetime(2026, 1, 2, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValidationError, match="forward"):
        clock.set(datetime(2026, 1, 1, 23, 59, tzinfo=UTC))
    with pytest.raises(ValidationError):
        clock.set(datetime(2026, 1, 3))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)


@given(
    aware_datetimes(),
    st.lists(
        st.one_of(
            st.timedeltas(min_value=timedelta(-3), max_value=timedelta(3)).map(
                lambda d: ("advance", d)
            ),
            st.timedeltas(min_value=timedelta(-3), max_value=timedelta(3)).map(
                lambda d: ("set", d)
            ),
        ),
        max_size=10,
    ),
)
def test_fixed_clock_time_never_decreases(
    start: datetime, moves: list[tuple[str, timedelta]]
) -> None:
    clock = FixedClock(start)
    for action, delta in moves:
        before = clock.now()
        try:
            if action == "advance":
                clock.advance(delta)
            else:
                clock.set(before + delta)
        except ValidationError:
            assert delta < timedelta(0)
            assert clock.now() == before
        else:
            assert clock.now() == before + delta
        assert clock.now() >= before
        assert clock.now().tzinfo is UTC


def test_a_moment_that_utc_cannot_hold_is_a_validation_error_not_an_overflow() -> None:
    late = datetime(9999, 12, 31, 20, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ValidationError, match="outside the range of UTC datetimes"):
        utc(late, "planned_at")
    with pytest.raises(ValidationError, match="outside the range"):
        as_utc(late)
