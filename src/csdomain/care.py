"""Care touch-points: the recurring follow-up schedule after a job (docs/domain.md 3.5).

The documents list the touch-points of after-sales care: a call the day after a job, a
visit one month after hand-over, a one-year inspection, a check one month before New Year,
birthday greetings, holiday greetings (节日问候, the business calendar's holidays) and
periodic maintenance reminders. A :class:`CarePlan` is a list of
:class:`CareTouchpoint` rules, each measured from an *anchor* (:class:`CareAnchor`): a date
of the customer (job completed, hand-over, birthday) or a yearly holiday. Dates come from
``dateutil.rrule`` (yearly anchors, monthly repetition that keeps month ends) and
``dateutil.relativedelta`` (offsets).

:func:`due_touchpoints` lists the occurrences that fall in a window, each at the
touch-point's local time in the customer's time zone, moved out of the customer's rest
hours, with a deterministic ``idempotency_key`` (customer + kind + date): materialising
the same window twice, or overlapping windows, yields the same keys, and
:func:`care_messages` turns occurrences into outbox messages whose ids derive from them.

"New Year" is configurable: :attr:`CareAnchor.SPRING_FESTIVAL` is the Chinese New Year
(春节, the default plan's anchor), :attr:`CareAnchor.NEW_YEAR` is 1 January. Spring
Festival dates for 1990-2050 are built in; later (or corrected) dates are given in
:attr:`CarePlan.spring_festivals`.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, YEARLY, rrule

from csdomain.calendar import QuietHours
from csdomain.clock import require_aware
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.notify.model import Message, RecipientLookup
from csdomain.notify.policy import NotificationPolicy
from csdomain.notify.quiet_hours import hold_for_quiet_hours
from csdomain.validators import aware as _aware
from csdomain.validators import day as _date
from csdomain.validators import enum_value, instance_of, optional, optional_instance_of, text
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "CareAnchor",
    "CareOccurrence",
    "CarePlan",
    "CarePolicy",
    "CareSubject",
    "CareTouchpoint",
    "LeapDayBirthday",
    "care_key",
    "care_messages",
    "due_touchpoints",
    "holiday_starts",
    "spring_festival",
]


class CareAnchor(StrEnum):
    """What a touch-point is measured from."""

    JOB_COMPLETED = "job_completed"
    HANDED_OVER = "handed_over"
    BIRTHDAY = "birthday"
    #: 1 January (Gregorian New Year).
    NEW_YEAR = "new_year"
    #: Chinese New Year (春节), first day of the first lunar month.
    SPRING_FESTIVAL = "spring_festival"
    #: The first day of each holiday of the business calendar (节日问候: holiday greetings);
    #: consecutive holidays (a Golden Week) are one holiday.
    HOLIDAY = "holiday"


#: Anchors that recur every year by themselves (no ``every_months`` allowed).
YEARLY_ANCHORS = frozenset({CareAnchor.BIRTHDAY, CareAnchor.NEW_YEAR, CareAnchor.SPRING_FESTIVAL})

#: Anchors that recur by themselves (no ``every_months`` allowed): the yearly ones and the
#: business calendar's holidays.
RECURRING_ANCHORS = YEARLY_ANCHORS | {CareAnchor.HOLIDAY}


class LeapDayBirthday(StrEnum):
    """When a customer born on 29 February is greeted in common years."""

    FEB_28 = "feb_28"
    MAR_1 = "mar_1"


#: Month and day of the Spring Festival, one decade per string, from 1990.
_SPRING_FESTIVAL_DECADES = (
    "0127 0215 0204 0123 0210 0131 0219 0207 0128 0216",  # 1990-1999
    "0205 0124 0212 0201 0122 0209 0129 0218 0207 0126",  # 2000-2009
    "0214 0203 0123 0210 0131 0219 0208 0128 0216 0205",  # 2010-2019
    "0125 0212 0201 0122 0210 0129 0217 0206 0126 0213",  # 2020-2029
    "0203 0123 0211 0131 0219 0208 0128 0215 0204 0124",  # 2030-2039
    "0212 0201 0122 0210 0130 0217 0206 0126 0214 0202",  # 2040-2049
    "0123",  # 2050
)
_SPRING_FESTIVALS_FROM_1990 = [
    mmdd for decade in _SPRING_FESTIVAL_DECADES for mmdd in decade.split()
]

#: Built-in Spring Festival dates (Chinese New Year's day, China Standard Time).
SPRING_FESTIVALS: dict[int, date] = {
    1990 + i: date(1990 + i, int(mmdd[:2]), int(mmdd[2:]))
    for i, mmdd in enumerate(_SPRING_FESTIVALS_FROM_1990)
}

_PLACEHOLDERS = frozenset({"name", "date", "customer_id", "kind"})


# -- validators ------------------------------------------------------------------------------


def _anchor(value: object) -> CareAnchor:
    return enum_value(CareAnchor, value, "anchor")


def _leap_day(value: object) -> LeapDayBirthday:
    return enum_value(LeapDayBirthday, value, "leap_day_birthdays")


def _int(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 1200:
        msg = f"expected a small integer, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def _optional_positive(
    _instance: object, attribute: attrs.Attribute[int | None], value: object
) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1200:
        msg = f"expected a positive integer, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def _local_time(_instance: object, attribute: attrs.Attribute[time], value: object) -> None:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValidationError.at(attribute.name, "expected a local (naive) time of day")


def _template_problem(template: str) -> str | None:
    """What is wrong with a message template (``None``: nothing).

    Only the placeholders themselves: no attribute or index access, no conversion, and
    no format width of 1,000 characters or more (a template must not be able to read an
    object's internals or to blow up the message).
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as err:
        return f"bad template ({err})"
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in _PLACEHOLDERS or conversion is not None:
            return f"unknown placeholder {describe(field)}"
        if spec and (re.search(r"\d{4,}", spec) or "{" in spec):
            return f"format {describe(spec)} is not allowed"
    return None


def _text(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    text(_instance, attribute, value)
    problem = _template_problem(value)
    if problem is None:
        try:
            value.format_map(dict.fromkeys(_PLACEHOLDERS, ""))
        except (KeyError, IndexError, AttributeError, ValueError) as err:
            problem = f"bad template ({err})"
    if problem is not None:
        allowed = ", ".join(f"{{{p}}}" for p in sorted(_PLACEHOLDERS))
        raise ValidationError.at(attribute.name, f"{problem}; use {allowed}")


def _zone_name(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    text(_instance, attribute, value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        msg = f"unknown time zone {describe(value)}"
        raise ValidationError.at(attribute.name, msg) from None


# -- the plan --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CareTouchpoint:
    """One recurring care contact: ``anchor`` + ``years``/``months``/``days`` at ``local_time``.

    With ``every_months`` the touch-point repeats from its first date every N months
    (``count`` times, or without end), keeping the anchor's day of month (31 January ->
    28/29 February -> 31 March). Yearly anchors repeat every year by themselves.
    ``channel`` ``""`` is the notification policy's channel for ``kind``. ``subject`` and
    ``body`` may use ``{name}``, ``{date}``, ``{customer_id}`` and ``{kind}``, plainly or
    with a format under 1,000 characters wide (no attribute or index access, no
    conversions: a template cannot read an object's internals or blow up a message).
    """

    kind: str = attrs.field(validator=_not_blank)
    anchor: CareAnchor = attrs.field(converter=_anchor)
    years: int = attrs.field(default=0, validator=_int)
    months: int = attrs.field(default=0, validator=_int)
    days: int = attrs.field(default=0, validator=_int)
    every_months: int | None = attrs.field(default=None, validator=_optional_positive)
    count: int | None = attrs.field(default=None, validator=_optional_positive)
    local_time: time = attrs.field(default=time(10), validator=_local_time)
    channel: str = attrs.field(default="", validator=text)
    subject: str = attrs.field(default="", validator=_text)
    body: str = attrs.field(default="", validator=_text)

    def __attrs_post_init__(self) -> None:
        if self.every_months is not None and self.anchor in RECURRING_ANCHORS:
            raise ValidationError.at("every_months", f"{self.anchor} already repeats by itself")
        if self.count is not None and self.every_months is None:
            raise ValidationError.at("count", "only a repeating touch-point has a count")

    @property
    def offset(self) -> relativedelta:
        """The distance from the anchor date."""
        return relativedelta(years=self.years, months=self.months, days=self.days)


def _documents_touchpoints() -> tuple[CareTouchpoint, ...]:
    return (
        CareTouchpoint(
            kind="next_day_call",
            anchor=CareAnchor.JOB_COMPLETED,
            days=1,
            subject="How did it go?",
            body="Dear {name}, thank you for choosing us. How did yesterday's service go?",
        ),
        CareTouchpoint(
            kind="handover_one_month",
            anchor=CareAnchor.HANDED_OVER,
            months=1,
            subject="One month with your product",
            body="Dear {name}, it is a month since hand-over. Is everything working well?",
        ),
        CareTouchpoint(
            kind="annual_inspection",
            anchor=CareAnchor.HANDED_OVER,
            years=1,
            subject="Your one-year inspection",
            body="Dear {name}, your one-year inspection is due. Reply to book a time.",
        ),
        CareTouchpoint(
            kind="new_year_check",
            anchor=CareAnchor.SPRING_FESTIVAL,
            months=-1,
            subject="A check before the Spring Festival",
            body="Dear {name}, the Spring Festival is a month away. Shall we check your "
            "equipment before the holiday?",
        ),
        CareTouchpoint(
            kind="birthday",
            anchor=CareAnchor.BIRTHDAY,
            subject="Happy birthday",
            body="Happy birthday, {name}! Best wishes from your service team.",
        ),
        CareTouchpoint(
            kind="holiday_greeting",
            anchor=CareAnchor.HOLIDAY,
            subject="Holiday greetings",
            body="Dear {name}, warm holiday wishes from your service team.",
        ),
        CareTouchpoint(
            kind="maintenance_reminder",
            anchor=CareAnchor.HANDED_OVER,
            months=3,
            every_months=3,
            count=4,
            subject="Maintenance due",
            body="Dear {name}, your periodic maintenance is due on {date}. Reply to book it.",
        ),
    )


def _touchpoints(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(t, CareTouchpoint) for t in value):
        raise ValidationError.at(attribute.name, "expected a tuple of CareTouchpoint")
    kinds = [t.kind for t in value]
    if len(set(kinds)) != len(kinds):
        raise ValidationError.at(attribute.name, "each touch-point needs its own kind")


def _dates(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(d, date) and not isinstance(d, datetime) for d in value
    ):
        raise ValidationError.at(attribute.name, "expected a frozenset of dates")
    years = [d.year for d in value]
    if len(set(years)) != len(years):
        raise ValidationError.at(attribute.name, "one Spring Festival date per year")


@attrs.frozen(kw_only=True)
class CarePlan:
    """The care touch-points of a customer (docs/domain.md 3.5); defaults are the documents'.

    Default plan: a call the day after a job; one month after hand-over; a one-year
    inspection; a check one month before the Spring Festival; birthday greetings (29
    February birthdays on 28 February in common years); holiday greetings (节日问候) on the
    first day of each holiday of the business calendar (the documents ask for the greeting,
    not its day: on the holiday itself is a project default, ``days=-1`` greets the day
    before); a maintenance reminder every 3 months after hand-over, 4 times (quarterly
    within a one-year warranty). All at 10:00 local time. ``spring_festivals`` adds or
    corrects Spring Festival dates by year.
    """

    touchpoints: tuple[CareTouchpoint, ...] = attrs.field(
        factory=_documents_touchpoints, validator=_touchpoints
    )
    leap_day_birthdays: LeapDayBirthday = attrs.field(
        default=LeapDayBirthday.FEB_28, converter=_leap_day
    )
    spring_festivals: frozenset[date] = attrs.field(default=frozenset(), validator=_dates)

    def touchpoint(self, kind: str) -> CareTouchpoint:
        """The touch-point called ``kind``."""
        for t in self.touchpoints:
            if t.kind == kind:
                return t
        raise ValidationError.at("kind", f"the care plan has no touch-point {describe(kind)}")


@attrs.frozen(kw_only=True)
class CarePolicy:
    """Care schedule settings: the plan and how far ahead messages are materialised."""

    plan: CarePlan = attrs.field(factory=CarePlan, validator=instance_of(CarePlan))
    #: ``schedule_care`` stores the occurrences of ``[now, now + horizon)``.
    horizon: timedelta = timedelta(days=31)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.horizon, timedelta) or self.horizon <= timedelta(0):
            raise ValidationError.at("horizon", "must be a positive duration")


def spring_festival(year: int, plan: CarePlan | None = None) -> date:
    """The Spring Festival (Chinese New Year) of ``year``: the plan's date, else built in.

    Raises :class:`~csdomain.errors.RuleViolation` ``spring_festival_unknown`` outside
    1990-2050 unless the plan supplies the date.
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValidationError.at("year", f"expected a year, got {describe(year)}")
    if plan is not None:
        for day in plan.spring_festivals:
            if day.year == year:
                return day
    try:
        return SPRING_FESTIVALS[year]
    except KeyError:
        raise RuleViolation(
            "spring_festival_unknown",
            f"no Spring Festival date known for {year}; add it to CarePlan.spring_festivals",
            year=year,
        ) from None


# -- the customer's data ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CareSubject:
    """What the care schedule needs to know about one customer.

    ``tz`` is the customer's time zone (touch-points happen at local time there);
    ``rest_hours`` is the customer's own rest period (else the policy default).
    """

    customer_id: str = attrs.field(validator=_not_blank)
    name: str = attrs.field(default="", validator=text)
    tz: str = attrs.field(default="Asia/Shanghai", validator=_zone_name)
    birthday: date | None = attrs.field(default=None, validator=optional(_date))
    job_completed_on: date | None = attrs.field(default=None, validator=optional(_date))
    handed_over_on: date | None = attrs.field(default=None, validator=optional(_date))
    rest_hours: QuietHours | None = attrs.field(
        default=None, validator=optional_instance_of(QuietHours)
    )

    def anchor_date(self, anchor: CareAnchor) -> date | None:
        """The customer's date for a per-customer anchor (``None`` when not on file)."""
        if anchor is CareAnchor.JOB_COMPLETED:
            return self.job_completed_on
        if anchor is CareAnchor.HANDED_OVER:
            return self.handed_over_on
        if anchor is CareAnchor.BIRTHDAY:
            return self.birthday
        return None


# -- occurrences ---------------------------------------------------------------------------


def care_key(customer_id: str, kind: str, on: date) -> str:
    """The idempotency key of a touch-point: customer + kind + (local) date."""
    safe_kind = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in kind)
    raw = customer_id.encode("utf-8", "surrogatepass")  # any text has a key
    digest = hashlib.blake2b(raw, digest_size=10).hexdigest()
    return f"care-{safe_kind[:60]}-{on:%Y%m%d}-{digest}"


@attrs.frozen(kw_only=True)
class CareOccurrence:
    """One touch-point due for one customer: local date ``on``, instant ``at`` (UTC)."""

    customer_id: str = attrs.field(validator=_not_blank)
    kind: str = attrs.field(validator=_not_blank)
    anchor: CareAnchor = attrs.field(converter=_anchor)
    anchor_date: date = attrs.field(validator=_date)
    on: date = attrs.field(validator=_date)
    at: datetime = attrs.field(validator=_aware)
    channel: str = attrs.field(validator=text)
    idempotency_key: str = attrs.field(validator=_not_blank)
    touchpoint: CareTouchpoint = attrs.field(validator=instance_of(CareTouchpoint))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)  # noqa: DTZ001 - rrule works on naive dates


def _yearly_anchor_dates(
    anchor: CareAnchor, plan: CarePlan, subject: CareSubject, lo: date, hi: date
) -> Iterator[date]:
    if anchor is CareAnchor.SPRING_FESTIVAL:
        for year in range(lo.year, hi.year + 1):
            day = spring_festival(year, plan)
            if lo <= day <= hi:
                yield day
        return
    if anchor is CareAnchor.NEW_YEAR:
        rule = rrule(YEARLY, bymonth=1, bymonthday=1, dtstart=_midnight(lo), until=_midnight(hi))
    else:
        born = subject.birthday
        if born is None:
            return
        start = _midnight(max(lo, born + timedelta(days=1)))
        if (born.month, born.day) != (2, 29):
            rule = rrule(YEARLY, bymonth=born.month, bymonthday=born.day, dtstart=start)
        elif plan.leap_day_birthdays is LeapDayBirthday.MAR_1:
            rule = rrule(YEARLY, byyearday=60, dtstart=start)
        else:
            rule = rrule(YEARLY, bymonth=2, bymonthday=-1, dtstart=start)
        rule = rule.replace(until=_midnight(hi))
    for moment in rule:
        yield moment.date()


def _repeating_dates(
    tp: CareTouchpoint, every_months: int, base: date, lo: date, hi: date
) -> Iterator[date]:
    first = base + relativedelta(years=tp.years, months=tp.months)
    rule = rrule(
        MONTHLY,
        interval=every_months,
        dtstart=_midnight(first.replace(day=1)),
        bymonthday=tuple(range(min(base.day, 28), base.day + 1)),
        bysetpos=-1,
        count=tp.count,
    )
    shift = relativedelta(days=tp.days)
    reach = timedelta(days=abs(tp.days) + 1)
    for moment in rule.xafter(_midnight(lo - reach), inc=True):
        day = moment.date() + shift
        if day > hi:
            break
        if day >= lo:
            yield day


def holiday_starts(holidays: Iterable[date]) -> list[date]:
    """The first day of each holiday: a holiday whose day before is not one, in order.

    Consecutive holidays (the National Day week, 国庆节) are one holiday, greeted once.
    """
    days = frozenset(holidays)
    return sorted(day for day in days if day - timedelta(days=1) not in days)


def _nominal_dates(
    tp: CareTouchpoint,
    plan: CarePlan,
    subject: CareSubject,
    first: date,
    last: date,
    *,
    holidays: frozenset[date] = frozenset(),
) -> Iterator[tuple[date, date]]:
    """``(date, anchor date)`` of every occurrence of ``tp`` from ``first`` to ``last``."""
    if tp.anchor is CareAnchor.HOLIDAY:
        for holiday in holiday_starts(holidays):
            day = holiday + tp.offset
            if first <= day <= last:
                yield day, holiday
        return
    if tp.anchor in YEARLY_ANCHORS:
        span = timedelta(days=abs(tp.years) * 366 + abs(tp.months) * 31 + abs(tp.days) + 1)
        for anchor_day in _yearly_anchor_dates(tp.anchor, plan, subject, first - span, last + span):
            day = anchor_day + tp.offset
            if first <= day <= last:
                yield day, anchor_day
        return
    base = subject.anchor_date(tp.anchor)
    if base is None:
        return
    if tp.every_months is None:
        day = base + tp.offset
        if first <= day <= last:
            yield day, base
        return
    for day in _repeating_dates(tp, tp.every_months, base, first, last):
        yield day, base


def due_touchpoints(
    plan: CarePlan,
    subject: CareSubject,
    start: datetime,
    end: datetime,
    *,
    default_rest_hours: QuietHours | None = None,
    holidays: Iterable[date] = (),
) -> list[CareOccurrence]:
    """Care occurrences for ``subject`` whose send instant falls in ``[start, end)``.

    ``holidays`` are the business calendar's holidays (``policy.calendar.holidays``): the
    :attr:`CareAnchor.HOLIDAY` touch-points greet the first day of each.

    Each happens at its touch-point's ``local_time`` in ``subject.tz``, moved to the end of
    the rest hours (``subject.rest_hours``, else ``default_rest_hours``) when it would fall
    inside them. Touch-points whose anchor date the customer lacks are skipped. Sorted by
    instant, then kind. Source: docs/domain.md 3.5 (care touch-points, never call during the
    customer's rest time). A window or an anchor date whose occurrences would fall
    outside the representable dates is a :class:`~csdomain.errors.ValidationError`.
    """
    if not isinstance(plan, CarePlan):
        raise ValidationError.at("plan", f"expected a CarePlan, got {type(plan).__name__}")
    if not isinstance(subject, CareSubject):
        msg = f"expected a CareSubject, got {type(subject).__name__}"
        raise ValidationError.at("subject", msg)
    if default_rest_hours is not None and not isinstance(default_rest_hours, QuietHours):
        msg = f"expected QuietHours, got {type(default_rest_hours).__name__}"
        raise ValidationError.at("default_rest_hours", msg)
    lo = require_aware(start, "start")
    hi = require_aware(end, "end")
    days = _holiday_dates(holidays)
    try:
        return _occurrences(plan, subject, lo, hi, default_rest_hours, holidays=days)
    except (OverflowError, ValueError) as err:
        if isinstance(err, ValidationError):
            raise
        msg = "the window or an anchor date reaches past the representable dates"
        raise ValidationError.at("end", msg) from None


def _holiday_dates(holidays: object) -> frozenset[date]:
    if isinstance(holidays, str | bytes) or not isinstance(holidays, Iterable):
        raise ValidationError.at("holidays", "expected a collection of dates")
    days = frozenset(holidays)
    if not all(isinstance(d, date) and not isinstance(d, datetime) for d in days):
        raise ValidationError.at("holidays", "expected dates, not datetimes or other values")
    return days


def _occurrences(
    plan: CarePlan,
    subject: CareSubject,
    start: datetime,
    end: datetime,
    default_rest_hours: QuietHours | None,
    *,
    holidays: frozenset[date] = frozenset(),
) -> list[CareOccurrence]:
    """The occurrences of :func:`due_touchpoints` for checked arguments."""
    lo = start.astimezone(UTC)
    hi = end.astimezone(UTC)
    zone = ZoneInfo(subject.tz)
    first = lo.astimezone(zone).date() - timedelta(days=2)
    last = hi.astimezone(zone).date() + timedelta(days=1)
    hours = subject.rest_hours if subject.rest_hours is not None else default_rest_hours
    result = []
    for tp in plan.touchpoints:
        for day, anchor_day in _nominal_dates(tp, plan, subject, first, last, holidays=holidays):
            moment = datetime.combine(day, tp.local_time, tzinfo=zone).astimezone(UTC)
            if hours is not None:
                moment = hours.next_allowed(moment).astimezone(UTC)
            if not lo <= moment < hi:
                continue
            result.append(
                CareOccurrence(
                    customer_id=subject.customer_id,
                    kind=tp.kind,
                    anchor=tp.anchor,
                    anchor_date=anchor_day,
                    on=day,
                    at=moment,
                    channel=tp.channel,
                    idempotency_key=care_key(subject.customer_id, tp.kind, day),
                    touchpoint=tp,
                )
            )
    result.sort(key=lambda o: (o.at, o.kind))
    return result


def care_messages(
    occurrences: list[CareOccurrence],
    subject: CareSubject,
    *,
    at: datetime,
    policy: NotificationPolicy,
    recipient_for: RecipientLookup,
) -> list[Message]:
    """Outbox messages for care occurrences; the id derives from the occurrence's key.

    Storing the result twice stores nothing new (same ids). An occurrence whose customer
    has no address on the channel (``recipient_for`` returns ``None``) is skipped. Each
    message is held until its occurrence time and kept out of the rest hours.
    """
    require_aware(at)
    if not isinstance(subject, CareSubject):
        msg = f"expected a CareSubject, got {type(subject).__name__}"
        raise ValidationError.at("subject", msg)
    if not isinstance(policy, NotificationPolicy):
        msg = f"expected a NotificationPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    if not isinstance(occurrences, list | tuple):
        msg = f"expected a list of occurrences, got {type(occurrences).__name__}"
        raise ValidationError.at("occurrences", msg)
    result = []
    for index, occurrence in enumerate(occurrences):
        if not isinstance(occurrence, CareOccurrence):
            msg = f"expected a CareOccurrence, got {type(occurrence).__name__}"
            raise ValidationError.at(f"occurrences.{index}", msg)
        channel = occurrence.channel or policy.channel_for(occurrence.kind)
        recipient = recipient_for(subject.customer_id, channel)
        if not recipient:
            continue
        fields = {
            "name": subject.name or subject.customer_id,
            "date": occurrence.on.isoformat(),
            "customer_id": subject.customer_id,
            "kind": occurrence.kind,
        }
        tp = occurrence.touchpoint
        message = Message.create(
            channel=channel,
            recipient=recipient,
            kind=occurrence.kind,
            subject=tp.subject.format_map(fields),
            body=tp.body.format_map(fields) or occurrence.kind.replace("_", " "),
            at=at,
            customer_id=subject.customer_id,
            source="care",
            key=occurrence.idempotency_key,
            not_before=occurrence.at,
        )
        result.append(hold_for_quiet_hours(message, subject.rest_hours, policy))
    return result
