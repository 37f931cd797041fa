"""The satisfaction area's domain events (docs/domain.md 5)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from csdomain.events import Event
from csdomain.satisfaction.monitoring import MonitorStatus, SatisfactionMetric, SatisfactionMonitor


__all__ = [
    "SatisfactionMonitorMoved",
    "SurveyRequested",
    "SurveyResponseRecorded",
    "SurveySubject",
    "monitor_events",
]


class SurveySubject(StrEnum):
    """What a post-service survey follows up: a closed order or a closed complaint."""

    ORDER = "order"
    COMPLAINT = "complaint"


@attrs.frozen
class SurveyResponseRecorded(Event):
    """A customer's survey answers were stored (docs/domain.md 5: act on results and thank
    respondents; the default notification templates send the thanks)."""

    response_id: str
    survey_id: str
    customer_id: str
    campaign_id: str | None
    nps_score: int | None
    answered_at: datetime
    at: datetime
    by: str


@attrs.frozen
class SatisfactionMonitorMoved(Event):
    """A satisfaction monitor took a step of its loop (measured, analysed, acting,
    re-measured, closed), with the gap to its target at that moment (docs/domain.md 5)."""

    monitor_id: str
    subject: str
    metric: SatisfactionMetric
    status: MonitorStatus
    target: float
    measured: float
    gap: float
    at: datetime
    by: str

    @classmethod
    def of(cls, monitor: SatisfactionMonitor) -> SatisfactionMonitorMoved:
        """The event for ``monitor``'s latest step."""
        last = monitor.history[-1]
        return cls(
            monitor_id=monitor.id,
            subject=monitor.subject,
            metric=monitor.metric,
            status=monitor.status,
            target=monitor.target,
            measured=monitor.measured,
            gap=monitor.gap,
            at=last.at,
            by=last.by,
        )


@attrs.frozen
class SurveyRequested(Event):
    """A post-service survey should go to a customer once ``send_after`` has passed."""

    survey_id: str
    customer_id: str
    subject: SurveySubject
    subject_id: str
    requested_at: datetime
    send_after: datetime


def monitor_events(_before: SatisfactionMonitor | None, after: SatisfactionMonitor) -> list[Event]:
    """The event of a monitor's latest step, its start included (docs/domain.md 5: every step
    of the monitoring loop is reported with the gap to the target)."""
    return [SatisfactionMonitorMoved.of(after)]
