"""Business calendars: working hours, holidays and adjusted working days in one time zone.

Service-level targets ("respond within 30 minutes", "visit within 3 days") are counted on
the calendar of the team that owns the work. A :class:`BusinessCalendar` knows the team's
time zone (DST-correct through :mod:`zoneinfo`), its opening hours per weekday, its public
holidays and its *extra working days* (the Chinese 调休: a weekend day worked in exchange
for a longer holiday). ``BusinessCalendar.always()`` is the 24/7 calendar for elapsed-time
targets.

Adding business time skips whole plain weeks arithmetically, so adding 40 business hours
costs about as much as adding one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError


__all__ = ["BusinessCalendar", "Interval", "QuietHours", "WeekHours"]

Interval: TypeAlias = tuple[time, time]
WeekHours: TypeAlias = tuple[tuple[Interval, ...], ...]

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MIDNIGHT = time(0)
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str):
        name = key.strip().lower()[:3]
        if name in _WEEKDAY_NAMES:
            return _WEEKDAY_NAMES.index(name)
        if name.isdigit() and 0 <= int(name) <= 6:
            return int(name)
    raise ValidationError.at(
        "hours", f"not a weekday (0=Monday..6=Sunday or 'mon'..'sun'): {key!r}"
    )


def _parse_time(value: object, path: str) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError.at(path, "opening times are local wall-clock times")
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError.at(path, f"not a time of day: {value!r}")


def _intervals(value: object, path: str) -> tuple[Interval, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValidationError.at(path, "expected a list of (start, end) pairs")
    result: list[Interval] = []
    for i, pair in enumerate(value):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise ValidationError.at(f"{path}.{i}", "expected a (start, end) pair")
        start = _parse_time(pair[0], f"{path}.{i}.0")
        end = _parse_time(pair[1], f"{path}.{i}.1")
        if end != _MIDNIGHT and end <= start:
            raise ValidationError.at(f"{path}.{i}", f"end {end} is not after start {start}")
        result.append((start, end))
    result.sort()
    for i in range(1, len(result)):
        prev_end = result[i - 1][1]
        if prev_end == _MIDNIGHT or prev_end > result[i][0]:
            raise ValidationError.at(path, "opening intervals overlap")
    return tuple(result)


def _week_hours(value: object) -> WeekHours:
    """Normalise ``{weekday: [(start, end), ...]}`` or a 7-item sequence to a tuple."""
    days: list[tuple[Interval, ...]] = [() for _ in range(7)]
    if isinstance(value, Mapping):
        for key, intervals in value.items():
            day = _weekday(key)
            days[day] = _intervals(intervals, f"hours.{day}")
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:
        for day, intervals in enumerate(value):
            days[day] = _intervals(intervals, f"hours.{day}")
    else:
        raise ValidationError.at("hours", "expected a mapping of weekday to opening intervals")
    if not any(days):
        raise ValidationError.at("hours", "the calendar is never open")
    return tuple(days)


def _dates(value: object, path: str) -> frozenset[date]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError.at(path, "expected a collection of dates")
    result = set()
    for item in value:
        if isinstance(item, datetime) or not isinstance(item, date):
            if isinstance(item, str):
                try:
                    result.add(date.fromisoformat(item))
                    continue
                except ValueError:
                    pass
            raise ValidationError.at(path, f"not a date: {item!r}")
        result.add(item)
    return frozenset(result)


def _holidays(value: object) -> frozenset[date]:
    return _dates(value, "holidays")


def _extra_workdays(value: object) -> frozenset[date]:
    return _dates(value, "extra_workdays")


def _start_time(value: object) -> time:
    return _parse_time(value, "start")


def _end_time(value: object) -> time:
    return _parse_time(value, "end")


def _zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError.at("tz", f"not a time-zone name: {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at("tz", f"unknown time zone: {value!r}") from None
    return value


def _optional_intervals(value: object) -> tuple[Interval, ...] | None:
    if value is None:
        return None
    return _intervals(value, "extra_workday_hours")


def _duration(value: object, path: str) -> timedelta:
    if not isinstance(value, timedelta):
        raise ValidationError.at(path, f"expected a timedelta, got {type(value).__name__}")
    return value


@attrs.frozen
class BusinessCalendar:
    """Opening hours of a team in one time zone, with holidays and adjusted workdays.

    ``hours`` maps a weekday (``0``/``"mon"`` .. ``6``/``"sun"``) to local opening
    intervals ``(start, end)``; an interval ending at ``time(0)`` runs to midnight.
    ``extra_workdays`` are dates that open even though their weekday is closed (调休);
    they use ``extra_workday_hours``, by default the hours of the first weekday that opens.
    ``holidays`` close a date whatever its weekday.
    """

    tz: str = attrs.field(converter=_zone)
    hours: WeekHours = attrs.field(converter=_week_hours)
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_holidays)
    extra_workdays: frozenset[date] = attrs.field(default=frozenset(), converter=_extra_workdays)
    extra_workday_hours: tuple[Interval, ...] | None = attrs.field(
        default=None, converter=_optional_intervals
    )
    _cache: dict[date, tuple[tuple[datetime, datetime], ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )
    _totals: dict[date, timedelta] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    @classmethod
    def always(cls, tz: str = "UTC") -> BusinessCalendar:
        """The 24/7 calendar: business time equals elapsed time."""
        return cls(tz=tz, hours={day: [(_MIDNIGHT, _MIDNIGHT)] for day in range(7)})

    @classmethod
    def office(
        cls,
        tz: str,
        start: time = time(9),
        end: time = time(18),
        *,
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """A calendar open ``start``-``end`` on ``weekdays`` (Monday to Friday by default)."""
        return cls(
            tz=tz,
            hours={day: [(start, end)] for day in weekdays},
            holidays=holidays,
            extra_workdays=extra_workdays,
        )

    @classmethod
    def for_country(
        cls,
        country: str,
        years: int | Iterable[int],
        *,
        tz: str | None = None,
        start: time = time(9),
        end: time = time(18),
        weekdays: Iterable[int] = range(5),
        subdivision: str | None = None,
    ) -> BusinessCalendar:
        """An office calendar with a country's public holidays for ``years``.

        ``"CN"`` reads the State Council's holidays and the adjusted working days (调休) from
        the ``chinesecalendar`` package, time zone Asia/Shanghai; other countries read
        their holidays from the ``holidays`` package (``subdivision`` for a state or
        province) and need ``tz``. Both come with the ``holidays`` extra
        (``pip install 'csdomain[holidays]'``). A year the installed data does not cover is
        refused with a :class:`ValidationError` naming the years it does (China's schedule
        for a year is published late in the year before: upgrade ``chinesecalendar`` then).
        """
        wanted = _years(years)
        if not isinstance(country, str) or not country.strip():
            raise ValidationError.at("country", "expected a country code such as 'CN'")
        code = country.strip().upper()
        if code == "CN" and subdivision is None:
            holidays, workdays = _china_days(wanted)
            zone = tz or "Asia/Shanghai"
        else:
            if tz is None:
                raise ValidationError.at("tz", f"give the time zone of the team in {code}")
            holidays, workdays = _country_holidays(code, subdivision, wanted), frozenset()
            zone = tz
        return cls.office(
            zone,
            start,
            end,
            weekdays=weekdays,
            holidays=holidays,
            extra_workdays=workdays,
        )

    def with_holidays(self, dates: Iterable[date | datetime]) -> BusinessCalendar:
        """A copy with more holidays, e.g. from a ``dateutil.rrule`` of yearly dates."""
        extra = {d.date() if isinstance(d, datetime) else d for d in dates}
        return attrs.evolve(self, holidays=self.holidays | extra)

    def with_extra_workdays(self, dates: Iterable[date | datetime]) -> BusinessCalendar:
        """A copy with more adjusted working days (调休)."""
        extra = {d.date() if isinstance(d, datetime) else d for d in dates}
        return attrs.evolve(self, extra_workdays=self.extra_workdays | extra)

    # -- derived data -------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        """The :class:`~zoneinfo.ZoneInfo` of ``tz``."""
        return ZoneInfo(self.tz)

    @cached_property
    def _special_dates(self) -> tuple[date, ...]:
        return tuple(sorted(self.holidays | self.extra_workdays))

    @cached_property
    def _is_always(self) -> bool:
        full = ((_MIDNIGHT, _MIDNIGHT),)
        return all(day == full for day in self.hours) and not self.holidays

    @cached_property
    def _workday_hours(self) -> tuple[Interval, ...]:
        if self.extra_workday_hours is not None:
            return self.extra_workday_hours
        return next(day for day in self.hours if day)

    @cached_property
    def _week_total(self) -> timedelta:
        total = timedelta(0)
        for day in self.hours:
            for start, end in day:
                total += _wall_length(start, end)
        return total

    def _hours_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        if day in self.extra_workdays:
            return self._workday_hours
        return self.hours[day.weekday()]

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Opening intervals of a local date as aware UTC ``(start, end)`` pairs."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        zone = self.zone
        result = []
        for start, end in self._hours_on(day):
            begin = _first_instant(day, start, zone)
            end_day = day + _DAY if end == _MIDNIGHT else day
            finish = _first_instant(end_day, end, zone)
            if finish > begin:
                result.append((begin, finish))
        intervals = tuple(result)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[day] = intervals
        return intervals

    def _day_total(self, day: date) -> timedelta:
        """The opening time of a local date (cached beside its intervals)."""
        total = self._totals.get(day)
        if total is None:
            total = sum((end - begin for begin, end in self.intervals_on(day)), timedelta(0))
            if len(self._totals) > 4096:
                self._totals.clear()
            self._totals[day] = total
        return total

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def _plain_week(self, day: date) -> bool:
        """True when ``day``..``day+6`` has no special date and no UTC-offset change."""
        specials = self._special_dates
        i = bisect.bisect_left(specials, day)
        if i < len(specials) and specials[i] < day + _WEEK:
            return False
        zone = self.zone
        first = datetime.combine(day, _MIDNIGHT, tzinfo=zone).utcoffset()
        last = datetime.combine(day + _WEEK, _MIDNIGHT, tzinfo=zone).utcoffset()
        return first == last

    # -- queries ------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside opening hours."""
        moment = require_aware(at).astimezone(UTC)
        return any(s <= moment < e for s, e in self.intervals_on(self._local_date(moment)))

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the start of the next opening interval."""
        moment = require_aware(at).astimezone(UTC)
        day = self._local_date(moment)
        # Each holiday or DST-dropped interval can cost one week when only one weekday opens.
        limit = 7 * (len(self._special_dates) + 3)
        for _ in range(limit):
            for start, end in self.intervals_on(day):
                if moment < end:
                    return max(start, moment).astimezone(at.tzinfo)
            day += _DAY
        msg = "the calendar never opens again"
        raise ValidationError.at("at", msg)  # pragma: no cover - hours are never all empty

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant when ``delta`` of business time has passed after ``start``.

        The result is in ``start``'s time zone. Adding zero returns ``start`` unchanged.
        """
        moment = require_aware(start, "start").astimezone(UTC)
        remaining = _duration(delta, "delta")
        if remaining < timedelta(0):
            raise ValidationError.at("delta", "business time to add must not be negative")
        if not remaining:
            return start
        if self._is_always:
            return (moment + remaining).astimezone(start.tzinfo)
        day = self._local_date(moment)
        for begin, end in self.intervals_on(day):
            if end <= moment:
                continue
            opened = begin if begin > moment else moment
            available = end - opened
            if remaining <= available:
                return (opened + remaining).astimezone(start.tzinfo)
            remaining -= available
        # Whole days from here: a day whose opening time does not cover what is left is
        # taken in one step, a plain week in one step.
        week_total = self._week_total
        while True:
            day += _DAY
            while remaining > week_total and self._plain_week(day):
                remaining -= week_total
                day += _WEEK
            total = self._day_total(day)
            if remaining > total:
                remaining -= total
                continue
            for begin, end in self.intervals_on(day):
                available = end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        first = require_aware(a, "a").astimezone(UTC)
        last = require_aware(b, "b").astimezone(UTC)
        if last < first:
            return -self.business_time_between(b, a)
        if self._is_always:
            return last - first
        total = timedelta(0)
        day = self._local_date(first)
        final = self._local_date(last)
        week_total = self._week_total
        while day <= final:
            for begin, end in self.intervals_on(day):
                lo = max(begin, first)
                hi = min(end, last)
                if hi > lo:
                    total += hi - lo
            day += _DAY
            while day + _WEEK < final and self._plain_week(day):
                total += week_total
                day += _WEEK
        return total

    def __repr__(self) -> str:
        open_days = ",".join(_WEEKDAY_NAMES[i] for i, d in enumerate(self.hours) if d)
        return (
            f"BusinessCalendar(tz={self.tz!r}, open={open_days}, "
            f"holidays={len(self.holidays)}, extra_workdays={len(self.extra_workdays)})"
        )


def _first_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first UTC instant whose local time is ``wall`` on ``day`` or later.

    That is the wall time itself, or, when a DST gap skips it, the moment the clocks jump.
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    before = int(local.replace(fold=1).astimezone(UTC).timestamp())
    after = int(instant.timestamp())
    offset_before = datetime.fromtimestamp(before, zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)


def _wall_length(start: time, end: time) -> timedelta:
    base = date(2000, 1, 3)
    end_day = base + _DAY if end == _MIDNIGHT else base
    return datetime.combine(end_day, end) - datetime.combine(base, start)


def _tz_name(value: object) -> str:
    return _zone(value)


@attrs.frozen
class QuietHours:
    """A daily rest period in local time during which nobody is called or messaged.

    ``start``-``end`` may cross midnight (``22:00``-``08:00``); ``start == end`` means no
    rest period. Source: docs/domain.md 3.5 and 7 ("never call during the customer's rest time").
    """

    start: time = attrs.field(converter=_start_time)
    end: time = attrs.field(converter=_end_time)
    tz: str = attrs.field(default="Asia/Shanghai", converter=_tz_name)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The :class:`~zoneinfo.ZoneInfo` of ``tz``."""
        return ZoneInfo(self.tz)

    def contains(self, at: datetime) -> bool:
        """Whether ``at`` falls inside the rest period."""
        local = require_aware(at).astimezone(self.zone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """``at`` when outside the rest period, else the instant the period ends."""
        if not self.contains(at):
            return at
        local = require_aware(at).astimezone(self.zone)
        day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            day += _DAY
        end = _first_instant(day, self.end, self.zone)
        if end <= at.astimezone(UTC):
            # ``at`` is in the second run of an hour repeated by a DST fall-back.
            repeated = datetime.combine(day, self.end, tzinfo=self.zone).replace(fold=1)
            end = repeated.astimezone(UTC)
        return end.astimezone(at.tzinfo)


def _years(years: int | Iterable[int]) -> list[int]:
    values = [years] if isinstance(years, int) else list(years)
    if not values or not all(isinstance(y, int) and not isinstance(y, bool) for y in values):
        raise ValidationError.at("years", "expected a year or a collection of years")
    return sorted(set(values))


def _missing_extra(package: str) -> ValidationError:
    msg = f"holiday data needs the {package!r} package: pip install 'csdomain[holidays]'"
    return ValidationError.at("country", msg)


def _china_days(years: Sequence[int]) -> tuple[frozenset[date], frozenset[date]]:
    """China's public holidays and adjusted working days (调休) from ``chinesecalendar``."""
    try:
        import chinese_calendar  # noqa: PLC0415 - optional, loaded when asked for
    except ImportError:
        raise _missing_extra("chinesecalendar") from None
    holidays: dict[date, str] = chinese_calendar.holidays
    workdays: dict[date, str] = chinese_calendar.workdays
    known = sorted({d.year for d in holidays})
    missing = [year for year in years if year not in known]
    if missing:
        msg = (
            f"the installed chinesecalendar covers {known[0]}-{known[-1]}, not "
            f"{', '.join(map(str, missing))}: upgrade it once the State Council has "
            "published that year's schedule, or add the days with with_holidays()"
        )
        raise ValidationError.at("years", msg)
    wanted = set(years)
    return (
        frozenset(d for d in holidays if d.year in wanted),
        frozenset(d for d in workdays if d.year in wanted),
    )


def _country_holidays(code: str, subdivision: str | None, years: Sequence[int]) -> frozenset[date]:
    """A country's public holidays from the ``holidays`` package."""
    try:
        import holidays as holiday_data  # noqa: PLC0415 - optional, loaded when asked for
    except ImportError:
        raise _missing_extra("holidays") from None
    supported = holiday_data.list_supported_countries()
    if code not in supported:
        raise ValidationError.at("country", f"no holiday data for {code!r}")
    if subdivision is not None and subdivision not in supported[code]:
        choices = ", ".join(supported[code]) or "none"
        raise ValidationError.at("subdivision", f"{code} has subdivisions {choices}")
    table = holiday_data.country_holidays(code, subdiv=subdivision)
    first, last = table.start_year, table.end_year
    outside = [year for year in years if not first <= year <= last]
    if outside:
        msg = f"holiday data for {code} covers {first}-{last}, not {', '.join(map(str, outside))}"
        raise ValidationError.at("years", msg)
    table = holiday_data.country_holidays(code, subdiv=subdivision, years=years)
    return frozenset(table)
