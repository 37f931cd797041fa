"""The numbers of the notification outbox: attempts, backoff, lease, rest hours, channels.

:class:`NotificationPolicy` is part of :class:`csdomain.policy.Policy`;
:func:`backoff_delay` is the wait after a failed attempt (docs/domain.md 7, DESIGN.md 5: retry
with backoff, dead letter after N tries); :class:`ChannelLimits` says how the dispatcher
paces one channel (parallel deliveries, a token-bucket rate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.calendar import QuietHours
from csdomain.errors import ValidationError, describe
from csdomain.i18n import normalize_language
from csdomain.ids import NamingSeries
from csdomain.notify.keys import digest
from csdomain.validators import instance_of, not_blank, optional, positive_duration, positive_int


__all__ = ["ChannelLimits", "NotificationPolicy", "backoff_delay", "policy_with"]


_OPTIONAL_QUIET_HOURS = optional(instance_of(QuietHours))


def _default_channels() -> dict[str, str]:
    return {
        "order_confirmed": "sms",
        "order_shipped": "sms",
        "complaint_received": "sms",
        "complaint_closed": "sms",
        "next_day_call": "sms",
        "handover_one_month": "sms",
        "annual_inspection": "sms",
        "new_year_check": "sms",
        "birthday": "sms",
        "maintenance_reminder": "sms",
        "holiday_greeting": "sms",
        "complaint_status": "sms",
        "follow_up_appointment": "sms",
        "survey_thanks": "sms",
        "service_request_received": "sms",
        "service_appointment": "sms",
        "technician_on_the_way": "sms",
        "dealer_announcement": "email",
    }


def _class_names(
    _instance: object, attribute: attrs.Attribute[frozenset[str]], value: object
) -> None:
    if not isinstance(value, frozenset) or not value:
        raise ValidationError.at(attribute.name, "expected a non-empty frozenset of class names")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError.at(attribute.name, "a class name is non-empty text")


def _pattern(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")
    try:
        NamingSeries(value)
    except ValidationError as err:
        raise ValidationError([(attribute.name, m) for _, m in err.errors]) from None


def _factor(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 1:
        raise ValidationError.at(attribute.name, f"must be a Decimal >= 1, got {describe(value)}")


def _fraction(_instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        msg = f"must be a Decimal in [0, 1], got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def _channel_map(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, "expected a mapping of kind to channel")
    for kind, channel in value.items():
        if not isinstance(kind, str) or not isinstance(channel, str) or not channel:
            key = kind if isinstance(kind, str) else describe(kind)
            raise ValidationError.at(f"{attribute.name}.{key}", "expected a channel name")


def _rate(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= 1_000_000:
        msg = f"must be a Decimal rate per second in (0, 1000000], got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def _language(value: object) -> str:
    return normalize_language(value, "language")


def _time_zone(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(
            attribute.name, f"expected a time zone name, got {describe(value)}"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at(attribute.name, f"unknown time zone {value!r}") from None


def _catalog_dirs(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("catalog_dirs", "expected a list of directory names")
    dirs = tuple(value)
    if not all(isinstance(d, str) and d.strip() for d in dirs):
        raise ValidationError.at("catalog_dirs", "a directory name is non-empty text")
    return dirs


def _concurrency(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    positive_int(_instance, attribute, value)
    if value > 256:  # type: ignore[operator]
        raise ValidationError.at(attribute.name, f"must be at most 256, got {value}")


@attrs.frozen(kw_only=True)
class ChannelLimits:
    """How one dispatcher paces one channel (a project default; DESIGN.md 5).

    ``concurrency`` deliveries run at once on the channel (each channel has its own, so a
    slow channel never stalls another); ``rate`` (messages per second, ``None`` for no
    limit) and ``burst`` are a token bucket: up to ``burst`` messages at once, then
    ``rate`` per second.
    """

    concurrency: int = attrs.field(default=16, validator=_concurrency)
    rate: Decimal | None = attrs.field(default=None, validator=_rate)
    burst: int = attrs.field(default=1, validator=positive_int)


def _limits_map(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError.at(attribute.name, "expected a mapping of channel to ChannelLimits")
    for channel, limits in value.items():
        if not isinstance(channel, str) or not channel:
            raise ValidationError.at(attribute.name, "expected channel names as keys")
        if not isinstance(limits, ChannelLimits):
            raise ValidationError.at(f"{attribute.name}.{channel}", "expected ChannelLimits")


@attrs.frozen(kw_only=True)
class NotificationPolicy:
    """Numbers of the notification outbox and dispatcher (docs/domain.md 7, DESIGN.md 5).

    Defaults: 5 attempts; backoff 1 min, x2 per attempt, capped at 1 h, no jitter; a
    5-minute lease; rest hours 21:00-08:00 Asia/Shanghai for customers without their own;
    SMS for customer notices and e-mail for dealer announcements; batches of 100; 16
    deliveries at once per channel without a rate limit; "retry after" answers wait at most
    an hour and at most 100 of them per message; announcements numbered
    ``AN-{yyyy}{mm}-{seq:04d}`` (project defaults); announcements go to the customers of
    class ``dealer`` (docs/domain.md 7: announcements to dealers). Customer messages are
    written in ``zh-CN`` with times in ``Asia/Shanghai`` (a project default: the teams and
    customers the documents describe are Chinese) unless the customer's own language says
    otherwise; ``catalog_dirs`` are searched for catalogs before the built-in ones.
    """

    max_attempts: int = attrs.field(default=5, validator=positive_int)
    backoff_base: timedelta = attrs.field(default=timedelta(minutes=1), validator=positive_duration)
    backoff_factor: Decimal = attrs.field(default=Decimal(2), validator=_factor)
    backoff_cap: timedelta = attrs.field(default=timedelta(hours=1), validator=positive_duration)
    #: Fraction of each delay taken off by a deterministic per-message jitter (0 = none).
    backoff_jitter: Decimal = attrs.field(default=Decimal(0), validator=_fraction)
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=positive_duration)
    default_rest_hours: QuietHours | None = attrs.field(
        default=QuietHours(time(21), time(8), "Asia/Shanghai"),
        validator=_OPTIONAL_QUIET_HOURS,
    )
    default_channel: str = attrs.field(default="sms", validator=not_blank)
    channels: Mapping[str, str] = attrs.field(factory=_default_channels, validator=_channel_map)
    batch_size: int = attrs.field(default=100, validator=positive_int)
    max_error_length: int = attrs.field(default=500, validator=positive_int)
    #: Pacing of each named channel; channels not named use ``default_channel_limits``.
    channel_limits: Mapping[str, ChannelLimits] = attrs.field(factory=dict, validator=_limits_map)
    default_channel_limits: ChannelLimits = attrs.field(
        factory=ChannelLimits, validator=instance_of(ChannelLimits)
    )
    #: The longest "retry after" a notifier may ask for; longer answers are cut to it.
    max_retry_after: timedelta = attrs.field(
        default=timedelta(hours=1), validator=positive_duration
    )
    #: How many "retry after" answers a message takes before they count as failures.
    max_deferrals: int = attrs.field(default=100, validator=positive_int)
    #: The customer classes an announcement to dealers goes to (docs/domain.md 7).
    announcement_classes: frozenset[str] = attrs.field(
        default=frozenset({"dealer"}), validator=_class_names
    )
    #: Announcement numbers: a naming series restarting every month.
    announcement_number_pattern: str = attrs.field(
        default="AN-{yyyy}{mm}-{seq:04d}", validator=_pattern
    )
    #: The language of customer messages for customers without their own (a project
    #: default: the documents' service teams and customers are Chinese).
    language: str = attrs.field(default="zh-CN", converter=_language)
    #: The time zone times in messages are shown in, unless the customer's rest hours
    #: name another (China Standard Time, a project default).
    time_zone: str = attrs.field(default="Asia/Shanghai", validator=_time_zone)
    #: Directories searched for message catalogs (``<lang>/LC_MESSAGES/csdomain.po`` or
    #: ``<lang>.po``) before the built-in ones: a third language is one ``.po`` file.
    catalog_dirs: tuple[str, ...] = attrs.field(default=(), converter=_catalog_dirs)

    def __attrs_post_init__(self) -> None:
        if self.backoff_cap < self.backoff_base:
            raise ValidationError.at("backoff_cap", "must not be shorter than backoff_base")

    def channel_for(self, kind: str) -> str:
        """The channel a message of ``kind`` uses when its template names none."""
        return self.channels.get(kind, self.default_channel)

    def limits_for(self, channel: str) -> ChannelLimits:
        """How the dispatcher paces ``channel``."""
        return self.channel_limits.get(channel, self.default_channel_limits)

    def known_channels(self) -> frozenset[str]:
        """The channels this policy names (default, per kind, with limits)."""
        return frozenset({self.default_channel, *self.channels.values(), *self.channel_limits})


def backoff_delay(attempt: int, policy: NotificationPolicy, *, seed: str = "") -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based).

    ``base * factor ** (attempt - 1)``, never more than ``backoff_cap``. With
    ``backoff_jitter`` > 0, up to that fraction is taken off, derived from ``seed`` and
    ``attempt`` (so the result is reproducible and never above the cap).
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValidationError.at("attempt", f"must be a positive integer, got {describe(attempt)}")
    base = Decimal(policy.backoff_base // timedelta(microseconds=1))
    cap = Decimal(policy.backoff_cap // timedelta(microseconds=1))
    factor = policy.backoff_factor
    delay = base
    for _ in range(attempt - 1):
        delay *= factor
        if delay >= cap:
            break
    delay = min(delay, cap)
    if policy.backoff_jitter:
        fraction = Decimal(int(digest(f"{seed}:{attempt}", 8), 16)) / Decimal(2**64)
        delay -= delay * policy.backoff_jitter * fraction
    return timedelta(microseconds=int(delay))


#: The fields whose mappings an override merges into the base instead of replacing.
_MERGED = ("channels", "channel_limits")


def policy_with(base: NotificationPolicy, overrides: Mapping[str, Any]) -> NotificationPolicy:
    """``base`` with the fields of ``overrides`` (as a config file or the CLI gives them).

    Values are in the converter's form: durations in seconds, ``backoff_factor`` and
    ``rate`` as numbers or decimal strings, rest hours as ``{"start": "21:00", ...}``.
    ``channels`` and ``channel_limits`` are merged into the base's (a kind named in
    ``overrides`` gets its channel, a channel's limits are merged value by value). An
    unknown field or a bad value is a
    :class:`~csdomain.errors.ValidationError` naming it.
    """
    from csdomain.serialization import structure, unstructure  # noqa: PLC0415 - kernel

    if not isinstance(base, NotificationPolicy):
        raise ValidationError.at("base", "expected a NotificationPolicy")
    if not isinstance(overrides, Mapping):
        raise ValidationError.at("notifications", "expected a table of policy values")
    data = dict(unstructure(base))
    for name, value in overrides.items():
        if name in _MERGED and isinstance(value, Mapping) and isinstance(data.get(name), dict):
            merged = dict(data[name])
            for key, entry in value.items():
                current = merged.get(key)
                both = isinstance(current, dict) and isinstance(entry, Mapping)
                merged[key] = {**current, **entry} if both else entry  # type: ignore[dict-item]
            data[name] = merged
        else:
            data[name] = value
    try:
        return structure(data, NotificationPolicy)
    except ValidationError as err:
        raise err.prefixed("notifications") from None
