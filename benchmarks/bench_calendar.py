"""Business-time arithmetic: adding 40 business hours against adding 1.

Run with ``nox -s bench`` (or ``python benchmarks/bench_calendar.py [--quick]``).

``BusinessCalendar.add_business_time`` on an office calendar (Asia/Shanghai, Monday to
Friday 09:00-18:00) with a year of public holidays and adjusted working days (调休), from
the same start instants spread over the year (some in the evening, at weekends and on
holidays). An ordinary complaint's resolution target is 40 business hours, its response
target 1-2: the long addition should cost a small multiple of the short one, not one
step per hour. The target is at most 3x.

Two runs: *warm*, on one calendar object reused (its per-day interval cache filled, as in
a long-running service), and *cold*, on a new calendar for every run.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from csdomain.calendar import BusinessCalendar


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, pair, print_table


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


HOLIDAYS = [
    *_days(date(2026, 1, 1), date(2026, 1, 3)),
    *_days(date(2026, 2, 15), date(2026, 2, 23)),
    *_days(date(2026, 4, 4), date(2026, 4, 6)),
    *_days(date(2026, 5, 1), date(2026, 5, 5)),
    *_days(date(2026, 6, 19), date(2026, 6, 21)),
    *_days(date(2026, 9, 25), date(2026, 9, 27)),
    *_days(date(2026, 10, 1), date(2026, 10, 8)),
]
EXTRA_WORKDAYS = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 10, 10)]


def calendar() -> BusinessCalendar:
    return BusinessCalendar.office(
        "Asia/Shanghai", holidays=HOLIDAYS, extra_workdays=EXTRA_WORKDAYS
    )


def starts(count: int) -> list[datetime]:
    """``count`` instants spread over 2026, at every hour of the day in turn."""
    first = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=360) / count
    return [first + step * n + timedelta(hours=n % 24) for n in range(count)]


def main() -> None:
    args = arguments(__doc__ or "")
    count = 2_000 if args.quick else 20_000
    moments = starts(count)
    one, forty = timedelta(hours=1), timedelta(hours=40)
    team = calendar()
    for moment in moments[:50]:
        forty_later = team.add_business_time(moment, forty)
        assert team.business_time_between(moment, forty_later) == forty

    def add(cal: BusinessCalendar, delta: timedelta) -> None:
        for moment in moments:
            cal.add_business_time(moment, delta)

    results = []
    a, b = pair(lambda: add(team, forty), lambda: add(team, one), repeats=args.repeats)
    results.append(Result(f"warm: +40 h x{count:,}", a, b, 3.0, "+1 h"))
    a, b = pair(lambda: add(calendar(), forty), lambda: add(calendar(), one), repeats=args.repeats)
    results.append(Result(f"cold: +40 h x{count:,}", a, b, 3.0, "+1 h"))
    print(
        f"\nper call (warm): +40 h {results[0].ours / count * 1e6:.1f} us, "
        f"+1 h {results[0].baseline / count * 1e6:.1f} us"
    )
    print_table("Business calendar: add_business_time", results)


if __name__ == "__main__":
    main()
