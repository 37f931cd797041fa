"""Hypothesis strategies for the kernel models: money, datetimes, calendars, quiet hours, actors.

Every strategy is valid by construction (no ``.filter`` on the result), takes keyword-only
knobs that are themselves strategies where that makes sense, and says in its docstring what
its examples shrink towards, so a failing property reports the simplest counterexample.
:func:`register_kernel_strategies` makes ``st.from_type(Money)`` and friends use them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import strategies as st

from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, Actor
from csdomain.calendar import BusinessCalendar, Interval, QuietHours
from csdomain.money import MINOR_UNITS, Money


__all__ = [
    "CALENDAR_ZONES",
    "CURRENCY_CODES",
    "actor_ids",
    "actors",
    "aware_datetimes",
    "business_calendars",
    "calendar_zones",
    "currencies",
    "day_hours",
    "money",
    "quiet_hours",
    "register_kernel_strategies",
    "role_names",
    "utc_datetimes",
]

#: Currencies the strategies draw from: the usual two decimals, none (JPY) and three (KWD).
CURRENCY_CODES: tuple[str, ...] = ("CNY", "USD", "EUR", "JPY", "KWD")

#: Time zones for calendars: no DST (UTC, Shanghai, Kolkata's half hour), DST in both
#: hemispheres and Lord Howe's half-hour DST shift.
CALENDAR_ZONES: tuple[str, ...] = (
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
)

_QUARTERS_PER_DAY = 96
_FIRST_DATE = date(2025, 1, 1)
_LAST_DATE = date(2027, 12, 31)


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes from :data:`CURRENCY_CODES`; shrinks towards ``"CNY"``."""
    return st.sampled_from(CURRENCY_CODES)


def money(
    *,
    currency: st.SearchStrategy[str] | None = None,
    min_amount: Decimal | int | str = 0,
    max_amount: Decimal | int | str = 1_000_000,
) -> st.SearchStrategy[Money]:
    """Amounts between ``min_amount`` and ``max_amount`` with the currency's minor unit.

    Shrinks towards ``min_amount`` (zero by default) in the first currency of ``currency``
    (``"CNY"`` by default).
    """
    low = Decimal(str(min_amount))
    high = Decimal(str(max_amount))
    if low < 0 or high < low:
        msg = f"need 0 <= min_amount <= max_amount, got {low} and {high}"
        raise ValueError(msg)

    def in_currency(code: str) -> st.SearchStrategy[Money]:
        places = MINOR_UNITS.get(code, 2)
        scale = Decimal(10) ** places
        lowest = int((low * scale).to_integral_value(rounding=ROUND_CEILING))
        highest = int((high * scale).to_integral_value(rounding=ROUND_FLOOR))
        return st.integers(lowest, highest).map(
            lambda minor: Money(Decimal(minor).scaleb(-places), code)
        )

    return (currency if currency is not None else currencies()).flatmap(in_currency)


def calendar_zones() -> st.SearchStrategy[str]:
    """Names from :data:`CALENDAR_ZONES`; shrinks towards ``"UTC"``."""
    return st.sampled_from(CALENDAR_ZONES)


def aware_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1, tzinfo=UTC),
    max_value: datetime = datetime(2099, 12, 31, tzinfo=UTC),
    timezones: st.SearchStrategy[tzinfo] | None = None,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes, including times inside DST gaps and repeated hours.

    ``min_value``/``max_value`` bound the local wall-clock time (their own time zone is
    ignored). ``timezones`` defaults to every IANA zone (``st.timezones()``). Shrinks towards
    ``min_value`` in UTC.

    Python never finds a time in a repeated hour equal to any datetime of another zone, so
    compare instants with ``.timestamp()``, or use :func:`utc_datetimes` for stored fields
    whose JSON round trip is checked with ``==``.
    """
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=timezones if timezones is not None else st.timezones(),
    )


def utc_datetimes(
    *,
    min_value: datetime = datetime(2000, 1, 1, tzinfo=UTC),
    max_value: datetime = datetime(2099, 12, 31, tzinfo=UTC),
) -> st.SearchStrategy[datetime]:
    """Aware datetimes in UTC, which round-trip through JSON to an equal datetime.

    Shrinks towards ``min_value``.
    """
    return aware_datetimes(min_value=min_value, max_value=max_value, timezones=st.just(UTC))


def _quarter(index: int) -> time:
    minutes = (index * 15) % (24 * 60)
    return time(minutes // 60, minutes % 60)


@st.composite
def _day_hours(draw: st.DrawFn, max_intervals: int) -> tuple[Interval, ...]:
    count = draw(st.integers(1, max_intervals))
    marks = draw(
        st.lists(
            st.integers(0, _QUARTERS_PER_DAY),
            min_size=2 * count,
            max_size=2 * count,
            unique=True,
        )
    )
    marks.sort()
    return tuple((_quarter(marks[i]), _quarter(marks[i + 1])) for i in range(0, len(marks), 2))


def day_hours(*, max_intervals: int = 2) -> st.SearchStrategy[tuple[Interval, ...]]:
    """One day's opening intervals: 1..``max_intervals`` sorted, non-overlapping pairs.

    Boundaries are on quarter hours; an end of ``time(0)`` means midnight (the end of the
    day). Shrinks towards a single interval ``00:00``-``00:15``.
    """
    return _day_hours(max_intervals)


def _dates(max_size: int) -> st.SearchStrategy[frozenset[date]]:
    return st.frozensets(st.dates(min_value=_FIRST_DATE, max_value=_LAST_DATE), max_size=max_size)


@st.composite
def _business_calendars(
    draw: st.DrawFn,
    tz: st.SearchStrategy[str],
    max_intervals: int,
    max_holidays: int,
    max_extra_workdays: int,
) -> BusinessCalendar:
    open_days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    hours = {day: draw(day_hours(max_intervals=max_intervals)) for day in sorted(open_days)}
    holidays = draw(_dates(max_holidays))
    extra = draw(_dates(max_extra_workdays)) - holidays
    extra_hours = draw(st.none() | day_hours(max_intervals=max_intervals)) if extra else None
    return BusinessCalendar(
        tz=draw(tz),
        hours=hours,
        holidays=holidays,
        extra_workdays=extra,
        extra_workday_hours=extra_hours,
    )


def business_calendars(
    *,
    tz: st.SearchStrategy[str] | None = None,
    max_intervals: int = 2,
    max_holidays: int = 20,
    max_extra_workdays: int = 5,
) -> st.SearchStrategy[BusinessCalendar]:
    """Valid business calendars: random weekly hours, holidays and adjusted workdays (调休).

    Each open weekday has 1..``max_intervals`` non-overlapping intervals on quarter hours;
    holidays and extra workdays fall in 2025-2027 and never coincide. ``tz`` defaults to
    :func:`calendar_zones`. Shrinks towards a UTC calendar open Mondays ``00:00``-``00:15``
    without holidays or extra workdays.
    """
    return _business_calendars(
        tz if tz is not None else calendar_zones(),
        max_intervals,
        max_holidays,
        max_extra_workdays,
    )


def quiet_hours(*, tz: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[QuietHours]:
    """Daily rest periods on quarter hours, some crossing midnight, some empty.

    ``tz`` defaults to :func:`calendar_zones`. Shrinks towards ``00:00``-``00:00`` (no rest
    period) in UTC.
    """
    quarters = st.integers(0, _QUARTERS_PER_DAY - 1).map(_quarter)
    return st.builds(
        QuietHours,
        start=quarters,
        end=quarters,
        tz=tz if tz is not None else calendar_zones(),
    )


def role_names() -> st.SearchStrategy[str]:
    """Role names of the default role table; shrinks towards ``"specialist"``."""
    return st.sampled_from(list(DEFAULT_ROLE_PERMISSIONS))


def actor_ids() -> st.SearchStrategy[str]:
    """Non-empty login-style ids; shrinks towards ``"a"``."""
    return st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True)


def actors(
    *,
    roles: st.SearchStrategy[str] | None = None,
    ids: st.SearchStrategy[str] | None = None,
    max_roles: int = 3,
) -> st.SearchStrategy[Actor]:
    """Actors holding 1..``max_roles`` roles drawn from ``roles``.

    Shrinks towards ``Actor("a", {"specialist"})`` with the default knobs.
    """
    return st.builds(
        Actor,
        id=ids if ids is not None else actor_ids(),
        roles=st.frozensets(
            roles if roles is not None else role_names(), min_size=1, max_size=max_roles
        ),
    )


def register_kernel_strategies() -> None:
    """Make ``st.from_type`` use these strategies for Money, calendars, quiet hours, actors."""
    st.register_type_strategy(Money, money())
    st.register_type_strategy(BusinessCalendar, business_calendars())
    st.register_type_strategy(QuietHours, quiet_hours())
    st.register_type_strategy(Actor, actors())
