"""Customer satisfaction: scores, surveys, streaming statistics, monitoring (docs/domain.md 5).

The package has these parts, all pure:

- **Scores** (:mod:`~csdomain.satisfaction.scores`). :func:`csat` (top-box share),
  :func:`nps` (promoters minus detractors), :func:`weighted_score` (items on a 1..scale
  scale, weighted, as 0..100: the documents' rating / scale x 100 by default, the
  normalised reading by :class:`ScoreMethod`), :func:`composite_index` (the documents'
  manufacturer formula, product weight 0.8), :func:`servqual_gaps` (perception minus expectation per
  SERVQUAL dimension) and :func:`wilson_interval`. A score outside its scale is a
  :class:`~csdomain.errors.ValidationError` naming the value; nothing is clipped.
- **Surveys as records** (:mod:`~csdomain.satisfaction.surveys`,
  :mod:`~csdomain.satisfaction.campaigns`). :class:`Survey` (weighted items, a scale,
  optional SERVQUAL dimension per item, open questions), :class:`SurveyResponse` (one
  customer's answers, NPS and the loyalty questions) and :class:`SurveyCampaign` (who is
  invited, when; surveys run in Q4 and May, key accounts twice a year).
- **Statistics** (:mod:`~csdomain.satisfaction.stats`,
  :mod:`~csdomain.satisfaction.results`). :class:`SurveyStats` is a streaming, mergeable
  accumulator. It counts identical answers instead of keeping responses, so adding a
  million rows costs about what a :class:`collections.Counter` pass costs, and the result
  does not depend on the order of the responses or on how the work was split (float sums
  use ``math.fsum``). :meth:`SurveyStats.result` gives a frozen :class:`SurveyResult`:
  CSAT and NPS, item means with confidence intervals, the weighted score, the share of
  satisfied customers (85/100), the overall index, coverage times response rate against
  the 75 % minimum, the "100 % satisfied" warning, loyalty reported apart from
  satisfaction, SERVQUAL gaps and a driver analysis.
- **Monitoring** (:mod:`~csdomain.satisfaction.monitoring`). :class:`SatisfactionMonitor`
  is the documents' monitoring loop: target, measured level, gap, causes, corrective
  action, re-measurement.
- **Policy, triggers and costs** (:mod:`~csdomain.satisfaction.policy`,
  :mod:`~csdomain.satisfaction.triggers`, :mod:`~csdomain.satisfaction.cost`).
  :class:`SatisfactionPolicy` holds every number; :func:`post_service_survey` decides
  whether a closed order or complaint asks for a survey and returns the
  :class:`SurveyRequested` event the service layer puts in the outbox;
  :func:`satisfaction_cost` is the documents' cost view.
- **Events** (:mod:`~csdomain.satisfaction.events`): what the service layer emits.

Every name is importable from ``csdomain.satisfaction`` itself.
"""

from __future__ import annotations

from csdomain.satisfaction.campaigns import (
    CAMPAIGN_COMMANDS,
    CAMPAIGN_INITIAL,
    CAMPAIGN_LIFECYCLE,
    CAMPAIGN_TERMINAL,
    CAMPAIGN_TRANSITIONS,
    CampaignStatus,
    SurveyCampaign,
)
from csdomain.satisfaction.cost import SatisfactionCost, satisfaction_cost
from csdomain.satisfaction.events import (
    SatisfactionMonitorMoved,
    SurveyRequested,
    SurveyResponseRecorded,
    SurveySubject,
    monitor_events,
)
from csdomain.satisfaction.monitoring import (
    MONITOR_COMMANDS,
    MONITOR_INITIAL,
    MONITOR_LIFECYCLE,
    MONITOR_TERMINAL,
    MONITOR_TRANSITIONS,
    CorrectiveAction,
    Measurement,
    MonitorStatus,
    SatisfactionMetric,
    SatisfactionMonitor,
)
from csdomain.satisfaction.policy import (
    CONTACT_CENTRE_DRIVERS,
    PUBLISHED_SENSITIVITIES,
    SatisfactionPolicy,
    expected_gain,
    is_survey_season,
    key_account_visit_due,
    next_key_account_visit,
)
from csdomain.satisfaction.results import (
    Coverage,
    Driver,
    Estimate,
    ItemResult,
    LoyaltyResult,
    SurveyResult,
)
from csdomain.satisfaction.scores import (
    MAX_SCALE,
    Dimension,
    Interval,
    RatingLabel,
    ScoreMethod,
    composite_index,
    csat,
    nps,
    rating_label,
    rating_score,
    servqual_gaps,
    weighted_score,
    wilson_interval,
)
from csdomain.satisfaction.stats import SurveyStats
from csdomain.satisfaction.surveys import (
    SUPPLIER_ITEMS,
    OpenQuestion,
    Survey,
    SurveyItem,
    SurveyMethod,
    SurveyResponse,
)
from csdomain.satisfaction.triggers import post_service_survey, should_request_survey


__all__ = [
    "CAMPAIGN_COMMANDS",
    "CAMPAIGN_INITIAL",
    "CAMPAIGN_LIFECYCLE",
    "CAMPAIGN_TERMINAL",
    "CAMPAIGN_TRANSITIONS",
    "CONTACT_CENTRE_DRIVERS",
    "MAX_SCALE",
    "MONITOR_COMMANDS",
    "MONITOR_INITIAL",
    "MONITOR_LIFECYCLE",
    "MONITOR_TERMINAL",
    "MONITOR_TRANSITIONS",
    "PUBLISHED_SENSITIVITIES",
    "SUPPLIER_ITEMS",
    "CampaignStatus",
    "CorrectiveAction",
    "Coverage",
    "Dimension",
    "Driver",
    "Estimate",
    "Interval",
    "ItemResult",
    "LoyaltyResult",
    "Measurement",
    "MonitorStatus",
    "OpenQuestion",
    "RatingLabel",
    "SatisfactionCost",
    "SatisfactionMetric",
    "SatisfactionMonitor",
    "SatisfactionMonitorMoved",
    "SatisfactionPolicy",
    "ScoreMethod",
    "Survey",
    "SurveyCampaign",
    "SurveyItem",
    "SurveyMethod",
    "SurveyRequested",
    "SurveyResponse",
    "SurveyResponseRecorded",
    "SurveyResult",
    "SurveyStats",
    "SurveySubject",
    "composite_index",
    "csat",
    "expected_gain",
    "is_survey_season",
    "key_account_visit_due",
    "monitor_events",
    "next_key_account_visit",
    "nps",
    "post_service_survey",
    "rating_label",
    "rating_score",
    "satisfaction_cost",
    "servqual_gaps",
    "should_request_survey",
    "weighted_score",
    "wilson_interval",
]
