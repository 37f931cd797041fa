"""The satisfaction monitoring loop as a stored aggregate (docs/domain.md 5).

Target, measured level, gap, causes, corrective action, re-measurement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain import validators as valid
from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.satisfaction import _checks as check


__all__ = [
    "MONITOR_COMMANDS",
    "MONITOR_INITIAL",
    "MONITOR_LIFECYCLE",
    "MONITOR_TERMINAL",
    "MONITOR_TRANSITIONS",
    "CorrectiveAction",
    "Measurement",
    "MonitorStatus",
    "SatisfactionMetric",
    "SatisfactionMonitor",
]


class SatisfactionMetric(StrEnum):
    """A satisfaction figure a :class:`SatisfactionMonitor` can track."""

    INDEX = "index"
    CSAT = "csat"
    NPS = "nps"
    SATISFIED_SHARE = "satisfied_share"
    COMPOSITE = "composite"

    @property
    def bounds(self) -> tuple[float, float]:
        """The range of the metric: -100..100 for NPS, 0..100 for the others."""
        return (-100.0, 100.0) if self is SatisfactionMetric.NPS else (0.0, 100.0)


class MonitorStatus(StrEnum):
    """Steps of the satisfaction monitoring loop (docs/domain.md 5)."""

    MEASURED = "measured"
    ANALYSED = "analysed"
    ACTING = "acting"
    REMEASURED = "remeasured"
    CLOSED = "closed"


MONITOR_TRANSITIONS: Mapping[MonitorStatus, frozenset[MonitorStatus]] = {
    MonitorStatus.MEASURED: frozenset({MonitorStatus.ANALYSED, MonitorStatus.CLOSED}),
    MonitorStatus.ANALYSED: frozenset({MonitorStatus.ACTING}),
    MonitorStatus.ACTING: frozenset({MonitorStatus.REMEASURED}),
    MonitorStatus.REMEASURED: frozenset({MonitorStatus.ANALYSED, MonitorStatus.CLOSED}),
    MonitorStatus.CLOSED: frozenset(),
}
MONITOR_INITIAL = frozenset({MonitorStatus.MEASURED})
MONITOR_TERMINAL = frozenset({MonitorStatus.CLOSED})

#: Each step of the loop and the statuses it may be taken from, by the desk's use cases.
MONITOR_COMMANDS: Mapping[str, Command[MonitorStatus]] = {
    "analyse_satisfaction_gap": Command(
        "analyse the gap",
        frozenset({MonitorStatus.MEASURED, MonitorStatus.REMEASURED}),
        MonitorStatus.ANALYSED,
    ),
    "act_on_satisfaction_gap": Command(
        "act on the gap", frozenset({MonitorStatus.ANALYSED}), MonitorStatus.ACTING
    ),
    "remeasure_satisfaction": Command(
        "re-measure the level", frozenset({MonitorStatus.ACTING}), MonitorStatus.REMEASURED
    ),
    "close_satisfaction_monitor": Command(
        "close the monitor",
        frozenset({MonitorStatus.MEASURED, MonitorStatus.REMEASURED}),
        MonitorStatus.CLOSED,
    ),
}
#: The monitor's lifecycle: the transition table and the command table beside it.
MONITOR_LIFECYCLE = Lifecycle("satisfaction monitor", MONITOR_TRANSITIONS, MONITOR_COMMANDS)


@attrs.frozen
class Measurement:
    """One measured level of a satisfaction metric."""

    level: float = attrs.field(validator=valid.number)
    at: datetime = attrs.field(validator=valid.aware)


@attrs.frozen
class CorrectiveAction:
    """A corrective action decided in the monitoring loop, by whom and when."""

    description: str = attrs.field(validator=valid.not_blank)
    by: str = attrs.field(validator=valid.not_blank)
    at: datetime = attrs.field(validator=valid.aware)
    due: date | None = attrs.field(default=None, validator=valid.optional(valid.day))


def _to_metric(value: SatisfactionMetric | str) -> SatisfactionMetric:
    return valid.enum_value(SatisfactionMetric, value, "metric")


def _to_monitor_status(value: MonitorStatus | str) -> MonitorStatus:
    return valid.enum_value(MonitorStatus, value, "status")


def _to_texts(value: Any) -> Any:
    """One cause given as text is a tuple of one; a collection becomes a tuple."""
    if isinstance(value, str):
        return (value,)
    return valid.as_tuple(value)


@attrs.frozen
class SatisfactionMonitor:
    """The satisfaction monitoring loop (docs/domain.md 5), a stored aggregate.

    A target level and the measured level give the gap; when it falls short the causes
    are analysed, a corrective action is taken and the level is measured again, until the
    target is met. ``measurements`` holds the first measurement and every re-measurement.
    """

    id: str = attrs.field(validator=valid.not_blank)
    subject: str = attrs.field(validator=valid.not_blank)
    metric: SatisfactionMetric = attrs.field(converter=_to_metric)
    target: float
    measurements: tuple[Measurement, ...] = attrs.field(
        converter=valid.as_tuple, validator=valid.tuple_of(Measurement)
    )
    causes: tuple[str, ...] = attrs.field(
        default=(), converter=_to_texts, validator=valid.tuple_of(str)
    )
    actions: tuple[CorrectiveAction, ...] = attrs.field(
        default=(), converter=valid.as_tuple, validator=valid.tuple_of(CorrectiveAction)
    )
    status: MonitorStatus = attrs.field(
        default=MonitorStatus.MEASURED, converter=_to_monitor_status
    )
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=valid.as_tuple, validator=valid.tuple_of(StatusChange)
    )

    def __attrs_post_init__(self) -> None:
        low, high = self.metric.bounds
        errors: list[tuple[str, str]] = []
        try:
            check.in_range(self.target, low, high, "target")
        except ValidationError as err:
            errors.extend(err.errors)
        if not self.measurements:
            errors.append(("measurements", "a monitor starts from a measured level"))
        for i, measurement in enumerate(self.measurements):
            try:
                check.in_range(measurement.level, low, high, f"measurements.{i}.level")
            except ValidationError as err:
                errors.extend(err.errors)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def start(
        cls,
        *,
        id: str,
        subject: str,
        metric: SatisfactionMetric | str,
        target: float,
        measured: float,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
    ) -> SatisfactionMonitor:
        """Record a target and the measured level; needs ``survey.manage``."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        change = StatusChange(from_=None, to=MonitorStatus.MEASURED.value, at=at, by=by.id)
        return cls(
            id=id,
            subject=subject,
            metric=_to_metric(metric),
            target=target,
            measurements=(Measurement(measured, at),),
            history=(change,),
        )

    @property
    def measured(self) -> float:
        """The latest measured level."""
        return self.measurements[-1].level

    @property
    def gap(self) -> float:
        """Target minus measured level: positive while the target is missed."""
        return self.target - self.measured

    @property
    def on_target(self) -> bool:
        """Whether the latest measurement meets the target."""
        return self.measured >= self.target

    def analyse(
        self, causes: Iterable[str], *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SatisfactionMonitor:
        """Record the causes of the gap."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        found = _to_texts(causes)
        if (
            not isinstance(found, tuple)
            or not found
            or any(not isinstance(c, str) or not c.strip() for c in found)
        ):
            raise ValidationError.at("causes", "name at least one cause, each as text")
        return MONITOR_LIFECYCLE.move(
            self, "analyse_satisfaction_gap", at=at, by=by.id, causes=(*self.causes, *found)
        )

    def act(
        self,
        description: str,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        due: date | None = None,
    ) -> SatisfactionMonitor:
        """Record the corrective action taken against the causes."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        action = CorrectiveAction(description=description, by=by.id, at=at, due=due)
        return MONITOR_LIFECYCLE.move(
            self,
            "act_on_satisfaction_gap",
            at=at,
            by=by.id,
            note=description,
            actions=(*self.actions, action),
        )

    def remeasure(
        self, level: float, *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SatisfactionMonitor:
        """Record the level measured again after the corrective action."""
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        low, high = self.metric.bounds
        check.in_range(level, low, high, "level")
        return MONITOR_LIFECYCLE.move(
            self,
            "remeasure_satisfaction",
            at=at,
            by=by.id,
            measurements=(*self.measurements, Measurement(level, at)),
        )

    def close(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        note: str = "",
        accept_gap: bool = False,
    ) -> SatisfactionMonitor:
        """Close the loop once the target is met (or accept the gap, with a written reason).

        docs/domain.md 5: the loop runs until the target is met; ``accept_gap`` is ``True`` or
        ``False`` only (never read by truthiness).
        """
        check.step(access, by, Permission.MANAGE_SURVEYS, at)
        check.note(note)
        if accept_gap is not True and accept_gap is not False:
            msg = f"expected true or false, got {describe(accept_gap)}"
            raise ValidationError.at("accept_gap", msg)
        if not self.on_target:
            if not accept_gap:
                raise RuleViolation(
                    "satisfaction_target_not_met",
                    "the measured level is below target: analyse, act and re-measure",
                    monitor_id=self.id,
                    target=self.target,
                    measured=self.measured,
                )
            if not note.strip():
                raise ValidationError.at("note", "say why the remaining gap is accepted")
        return MONITOR_LIFECYCLE.move(
            self, "close_satisfaction_monitor", at=at, by=by.id, note=note
        )
