"""Customer satisfaction: scores, surveys, streaming survey statistics, monitoring (DOMAIN.md 5).

The module has five parts, all pure:

- **Scores.** :func:`csat` (top-box share), :func:`nps` (promoters minus detractors),
  :func:`weighted_score` (items on a 1..scale scale, weighted, as 0..100),
  :func:`composite_index` (the documents' manufacturer formula, product weight 0.8),
  :func:`servqual_gaps` (perception minus expectation per SERVQUAL dimension) and
  :func:`wilson_interval`. A score outside its scale is a
  :class:`~csdomain.errors.ValidationError` naming the value; nothing is clipped.
- **Surveys as records.** :class:`Survey` (weighted items, a scale, optional SERVQUAL
  dimension per item, open questions), :class:`SurveyResponse` (one customer's answers,
  NPS and the loyalty questions) and :class:`SurveyCampaign` (who is invited, when;
  surveys run in Q4 and May, key accounts twice a year).
- **Statistics.** :class:`SurveyStats` is a streaming, mergeable accumulator. It counts
  identical answers instead of keeping responses, so adding a million rows costs about
  what a :class:`collections.Counter` pass costs, and the result does not depend on the
  order of the responses or on how the work was split (float sums use ``math.fsum``).
  :meth:`SurveyStats.result` gives a frozen :class:`SurveyResult`: CSAT and NPS, item
  means with confidence intervals, the weighted score, the share of satisfied customers
  (85/100), the overall index, coverage times response rate against the 75 % minimum,
  the "100 % satisfied" warning, loyalty reported apart from satisfaction, SERVQUAL gaps
  and a driver analysis.
- **Monitoring.** :class:`SatisfactionMonitor` is the documents' monitoring loop: target,
  measured level, gap, causes, corrective action, re-measurement.
- **Policy and triggers.** :class:`SatisfactionPolicy` holds every number;
  :func:`post_service_survey` decides whether a closed order or complaint asks for a
  survey and returns the :class:`SurveyRequested` event the service layer puts in the outbox.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist
from typing import Any, TypeAlias, TypeVar

import attrs
from dateutil.relativedelta import relativedelta

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.errors import RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.money import Money
from csdomain.validators import aware as _aware


__all__ = [
    "CAMPAIGN_INITIAL",
    "CAMPAIGN_TERMINAL",
    "CAMPAIGN_TRANSITIONS",
    "CONTACT_CENTRE_DRIVERS",
    "MAX_SCALE",
    "MONITOR_INITIAL",
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
    "next_key_account_visit",
    "nps",
    "post_service_survey",
    "rating_label",
    "satisfaction_cost",
    "servqual_gaps",
    "should_request_survey",
    "weighted_score",
    "wilson_interval",
]

E = TypeVar("E", bound=StrEnum)

#: The largest rating scale a survey may use (points, e.g. 5 for the five-point scale).
MAX_SCALE = 100

#: Floating-point slack when a weighted score is compared with the satisfied threshold.
_SLACK = 1e-9


# -- enums -----------------------------------------------------------------------------


class Dimension(StrEnum):
    """The five service-quality dimensions (SERVQUAL, DOMAIN.md 5)."""

    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"
    TANGIBLES = "tangibles"


class SurveyMethod(StrEnum):
    """How a survey reaches the customer (DOMAIN.md 5: mystery shopper, interview, ...)."""

    PHONE = "phone"
    SMS = "sms"
    MAIL = "mail"
    EMAIL = "email"
    ONLINE = "online"
    INTERVIEW = "interview"
    DROP_OFF = "drop_off"
    MYSTERY_SHOPPER = "mystery_shopper"


class RatingLabel(StrEnum):
    """The five points of the documents' scale, from 5 (very satisfied) down to 1."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


_LABELS = {
    5: RatingLabel.VERY_SATISFIED,
    4: RatingLabel.SATISFIED,
    3: RatingLabel.NEUTRAL,
    2: RatingLabel.DISSATISFIED,
    1: RatingLabel.VERY_DISSATISFIED,
}


class SurveySubject(StrEnum):
    """What a post-service survey follows up: a closed order or a closed complaint."""

    ORDER = "order"
    COMPLAINT = "complaint"


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


class CampaignStatus(StrEnum):
    """Where a survey campaign is: planned, open for answers, closed or cancelled."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


CAMPAIGN_TRANSITIONS: Mapping[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.PLANNED: frozenset({CampaignStatus.OPEN, CampaignStatus.CANCELLED}),
    CampaignStatus.OPEN: frozenset({CampaignStatus.CLOSED, CampaignStatus.CANCELLED}),
    CampaignStatus.CLOSED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}
CAMPAIGN_INITIAL = frozenset({CampaignStatus.PLANNED})
CAMPAIGN_TERMINAL = frozenset({CampaignStatus.CLOSED, CampaignStatus.CANCELLED})


class MonitorStatus(StrEnum):
    """Steps of the satisfaction monitoring loop (DOMAIN.md 5)."""

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


# -- validation helpers ----------------------------------------------------------------


def _enum(cls: type[E], value: object, path: str) -> E:
    if isinstance(value, cls):
        return value
    try:
        if not isinstance(value, str):
            raise TypeError
        return cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValidationError.at(path, f"{value!r} is not one of {allowed}") from None


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value: object, path: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValidationError.at(path, f"expected a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValidationError.at(path, f"must be finite, got {value!r}")
    return result


def _in_range(value: object, low: float, high: float, path: str) -> float:
    result = _finite(value, path)
    if not low <= result <= high:
        raise ValidationError.at(path, f"{value!r} is outside {low:g}..{high:g}")
    return result


def _fraction(value: object, path: str) -> float:
    """A number strictly between 0 and 1 (a confidence level)."""
    result = _finite(value, path)
    if not 0 < result < 1:
        raise ValidationError.at(path, f"must be strictly between 0 and 1, got {value!r}")
    return result


def _whole(value: object, low: int, high: int, path: str, what: str = "whole number") -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValidationError.at(path, f"{value!r} is not a {what}")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError.at(path, f"{value!r} is outside {low}..{high}")
    return number


def _score(value: object, low: int, high: int, path: str) -> int:
    """A whole-number score in ``low..high``; anything else names the bad value."""
    return _whole(value, low, high, path, "whole-number score")


def _check_scale(scale: object, path: str = "scale") -> int:
    if not _is_int(scale):
        raise ValidationError.at(path, f"a rating scale has 2..{MAX_SCALE} points, got {scale!r}")
    return _whole(scale, 2, MAX_SCALE, path)


def _check_top_boxes(top_boxes: object, scale: int) -> int:
    return _whole(top_boxes, 1, scale - 1, "top_boxes")


def _count(value: object, path: str) -> int:
    return _whole(value, 0, 2**63, path)


def _count_scores(scores: Iterable[int], low: int, high: int) -> Counter[int]:
    if isinstance(scores, str | bytes | Mapping):
        raise ValidationError.at("scores", "expected an iterable of whole-number scores")
    try:
        counts: Counter[int] = Counter(scores)
    except TypeError as err:
        msg = f"expected an iterable of whole-number scores ({err})"
        raise ValidationError.at("scores", msg) from None
    for value in counts:
        _score(value, low, high, "scores")
    return counts


def _nonempty(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, f"must be a non-empty string, got {value!r}")


def _optional_count(value: object, path: str) -> int | None:
    return None if value is None else _count(value, path)


# -- scores ----------------------------------------------------------------------------


def rating_label(score: int) -> RatingLabel:
    """The five-point label of a rating (5 very satisfied ... 1 very dissatisfied)."""
    return _LABELS[_score(score, 1, 5, "score")]


def csat(scores: Iterable[int], scale: int = 5, *, top_boxes: int = 2) -> float | None:
    """Percentage (0..100) of responses in the top boxes: 4 and 5 on a five-point scale.

    ``None`` when there are no responses. DOMAIN.md 5 (five-point scale).
    """
    scale = _check_scale(scale)
    top_boxes = _check_top_boxes(top_boxes, scale)
    counts = _count_scores(scores, 1, scale)
    total = counts.total()
    if not total:
        return None
    cutoff = scale - top_boxes + 1
    top = sum(count for value, count in counts.items() if value >= cutoff)
    return 100.0 * top / total


def nps(scores: Iterable[int], *, promoter_min: int = 9, detractor_max: int = 6) -> float | None:
    """Net promoter score on the 0..10 scale: % promoters (9-10) minus % detractors (0-6).

    The result lies in -100..100; ``None`` when there are no responses.
    """
    _check_nps_bands(promoter_min, detractor_max)
    counts = _count_scores(scores, 0, 10)
    total = counts.total()
    if not total:
        return None
    promoters = sum(c for value, c in counts.items() if value >= promoter_min)
    detractors = sum(c for value, c in counts.items() if value <= detractor_max)
    return 100.0 * (promoters - detractors) / total


def _check_nps_bands(promoter_min: object, detractor_max: object) -> None:
    _score(promoter_min, 1, 10, "promoter_min")
    _score(detractor_max, 0, 9, "detractor_max")
    if detractor_max >= promoter_min:  # type: ignore[operator]
        raise ValidationError.at("detractor_max", "must be below promoter_min")


def weighted_score(
    ratings: Mapping[str, int | float], weights: Mapping[str, float], scale: int = 5
) -> float:
    """Weighted mean of ratings normalised to 0..100: ``(r - 1) / (scale - 1) * 100``.

    DOMAIN.md 5: survey items (quality, price, delivery, packaging, after-sales) each have
    a weight. Weights need not sum to 1. A rating outside ``1..scale``, a rated item without
    a weight, a negative weight or a zero total weight is a ValidationError.
    """
    scale = _check_scale(scale)
    if not isinstance(ratings, Mapping) or not isinstance(weights, Mapping):
        raise ValidationError.at("ratings", "ratings and weights must be mappings")
    checked = {key: _weight(w, f"weights.{key}") for key, w in weights.items()}
    numerator = 0.0
    total = 0.0
    for key, rating in ratings.items():
        value = _in_range(rating, 1, scale, f"ratings.{key}")
        if key not in checked:
            raise ValidationError.at(f"weights.{key}", "no weight for a rated item")
        numerator += checked[key] * (value - 1)
        total += checked[key]
    if total <= 0:
        raise ValidationError.at("weights", "the rated items have zero total weight")
    return _bounded(numerator * 100 / (total * (scale - 1)))


def _weight(value: object, path: str) -> float:
    result = _finite(value, path)
    if result < 0:
        raise ValidationError.at(path, f"a weight must not be negative, got {value!r}")
    return result


def _bounded(score: float) -> float:
    """Keep a computed 0..100 score inside its range against floating-point rounding."""
    return min(100.0, max(0.0, score))


def composite_index(product: float, service: float, product_weight: float = 0.8) -> float:
    """Manufacturer satisfaction = product x w + service x (1 - w), both on 0..100.

    DOMAIN.md 5: w = 0.8 when the industry norm is unknown.
    """
    p = _in_range(product, 0, 100, "product")
    s = _in_range(service, 0, 100, "service")
    w = _in_range(product_weight, 0, 1, "product_weight")
    return _bounded(p * w + s * (1 - w))


def servqual_gaps(
    expectations: Mapping[Dimension | str, Iterable[float]],
    perceptions: Mapping[Dimension | str, Iterable[float]],
    *,
    scale: int = 5,
) -> dict[Dimension, float]:
    """Perception minus expectation per SERVQUAL dimension, each the mean over its items.

    DOMAIN.md 5: satisfaction is perceived performance compared with expectation, over
    reliability, responsiveness, assurance, empathy and tangibles. Both mappings must name
    the same dimensions; a negative gap means the service falls short of expectations.
    """
    scale = _check_scale(scale)
    expected = _dimension_means(expectations, "expectations", scale)
    perceived = _dimension_means(perceptions, "perceptions", scale)
    errors = [
        (f"perceptions.{d.value}", "no perception scores for a dimension with expectations")
        for d in expected
        if d not in perceived
    ]
    errors += [
        (f"expectations.{d.value}", "no expectation scores for a dimension with perceptions")
        for d in perceived
        if d not in expected
    ]
    if errors:
        raise ValidationError(errors)
    return {d: perceived[d] - expected[d] for d in Dimension if d in perceived}


def _dimension_means(
    data: Mapping[Dimension | str, Iterable[float]], path: str, scale: int
) -> dict[Dimension, float]:
    if not isinstance(data, Mapping):
        raise ValidationError.at(path, "expected a mapping of dimension to item scores")
    means: dict[Dimension, float] = {}
    for key, scores in data.items():
        dimension = _enum(Dimension, key, path)
        where = f"{path}.{dimension.value}"
        if isinstance(scores, str | bytes) or not isinstance(scores, Iterable):
            raise ValidationError.at(where, "expected the item scores of the dimension")
        values = [_in_range(v, 1, scale, f"{where}.{i}") for i, v in enumerate(scores)]
        if not values:
            raise ValidationError.at(where, "a dimension needs at least one item score")
        means[dimension] = math.fsum(values) / len(values)
    return means


@attrs.frozen
class Interval:
    """A confidence interval ``low..high`` in the unit of the figure it belongs to."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion, as fractions 0..1; ``None`` when ``n == 0``."""
    n = _count(n, "n")
    successes = _count(successes, "successes")
    if successes > n:
        raise ValidationError.at("successes", f"{successes} successes out of {n} trials")
    level = _fraction(confidence, "confidence")
    if n == 0:
        return None
    z = _z(level)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


# -- policy ----------------------------------------------------------------------------

#: Rise in overall satisfaction (percent) per +10 points in a category (DOMAIN.md 5).
PUBLISHED_SENSITIVITIES: Mapping[str, float] = {
    "service_failure_response": 4.6,
    "image": 4.2,
    "product_quality": 3.1,
    "price_performance": 0.6,
}

#: Contact-centre satisfaction drivers, most important first (DOMAIN.md 5).
CONTACT_CENTRE_DRIVERS: tuple[str, ...] = (
    "agent_quality",
    "speed_of_answer",
    "first_contact_resolution",
    "waiting_time",
    "at_most_one_warm_transfer",
    "service_hours",
    "knowing_the_customer",
    "ivr_under_2x4_options",
    "differentiated_experience",
)


@attrs.frozen
class SatisfactionPolicy:
    """Satisfaction thresholds, weights and survey rules, with DOMAIN.md 5's defaults."""

    #: A customer whose weighted score is 85/100 or more is "satisfied".
    satisfied_threshold: float = 85.0
    #: CSAT counts the top two boxes (4 and 5 on the five-point scale).
    csat_top_boxes: int = 2
    #: NPS bands on 0..10: promoters 9-10, detractors 0-6.
    nps_promoter_min: int = 9
    nps_detractor_max: int = 6
    #: Manufacturer composite: product weight w = 0.8 when the industry norm is unknown.
    product_weight: float = 0.8
    #: Coverage x response rate must reach 75 % of customers.
    coverage_minimum: float = 0.75
    #: Confidence level of the intervals in survey results.
    confidence_level: float = 0.95
    #: Surveys run in Q4 (October-December) and in May.
    survey_months: frozenset[int] = frozenset({5, 10, 11, 12})
    #: Key accounts are visited twice a year.
    key_account_surveys_per_year: int = 2
    #: The published sensitivities are per this many points of a category.
    sensitivity_step: float = 10.0
    published_sensitivities: Mapping[str, float] = attrs.field(
        factory=lambda: dict(PUBLISHED_SENSITIVITIES)
    )
    contact_centre_drivers: tuple[str, ...] = CONTACT_CENTRE_DRIVERS
    #: A closed complaint is followed by a survey (closed loop: 处理后有回访).
    survey_after_complaint: bool = True
    #: A completed order is followed by a survey (off: the documents survey periodically).
    survey_after_order: bool = False
    #: The survey the service layer sends after a closed order or complaint.
    post_service_survey_id: str = "post-service"
    #: Survey campaign numbers: a naming series restarting every month.
    campaign_number_pattern: str = "SC-{yyyy}{mm}-{seq:04d}"
    #: Satisfaction monitor numbers: a naming series restarting every month.
    monitor_number_pattern: str = "SM-{yyyy}{mm}-{seq:04d}"
    #: Send the post-service survey this long after closing (the next-day call).
    survey_delay: timedelta = timedelta(days=1)
    #: No new post-service survey to a customer surveyed less than this long ago.
    survey_cooldown: timedelta = timedelta(0)
    #: Nonconforming-product service cost = routine cost x this factor. The documents give
    #: no figure, so there is no default: set it from your own cost data.
    amplification_factor: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        checks: list[Callable[[], object]] = [
            lambda: _in_range(self.satisfied_threshold, 0, 100, "satisfied_threshold"),
            lambda: _whole(self.csat_top_boxes, 1, MAX_SCALE - 1, "csat_top_boxes"),
            lambda: _check_nps_bands(self.nps_promoter_min, self.nps_detractor_max),
            lambda: _in_range(self.product_weight, 0, 1, "product_weight"),
            lambda: _in_range(self.coverage_minimum, 0, 1, "coverage_minimum"),
            lambda: _fraction(self.confidence_level, "confidence_level"),
            lambda: [_whole(m, 1, 12, "survey_months") for m in self.survey_months],
            lambda: _whole(
                self.key_account_surveys_per_year, 1, 12, "key_account_surveys_per_year"
            ),
            lambda: _in_range(self.sensitivity_step, 1e-9, 100, "sensitivity_step"),
            lambda: [
                _finite(v, f"published_sensitivities.{k}")
                for k, v in self.published_sensitivities.items()
            ],
        ]
        errors: list[tuple[str, str]] = []
        for check in checks:
            try:
                check()
            except ValidationError as err:
                errors.extend(err.errors)
        if not isinstance(self.post_service_survey_id, str) or not self.post_service_survey_id:
            errors.append(("post_service_survey_id", "must be a non-empty string"))
        for name in ("survey_delay", "survey_cooldown"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < timedelta(0):
                errors.append((name, "must be a duration >= 0"))
        factor = self.amplification_factor
        if factor is not None and (
            not isinstance(factor, Decimal) or not factor.is_finite() or factor < 1
        ):
            errors.append(("amplification_factor", f"must be a Decimal >= 1, got {factor!r}"))
        if errors:
            raise ValidationError(errors)

    @property
    def confidence_z(self) -> float:
        """The normal quantile of :attr:`confidence_level` (1.96 for 95 %)."""
        return _z(self.confidence_level)


def expected_gain(category: str, points: float, policy: SatisfactionPolicy) -> float:
    """Expected rise of overall satisfaction (percent) when a category gains ``points``.

    DOMAIN.md 5: +10 points raise overall satisfaction by 4.6 % (service / failure
    response), 4.2 % (image), 3.1 % (product quality) or 0.6 % (price/performance);
    other gains are read off the same straight line.
    """
    if category not in policy.published_sensitivities:
        known = ", ".join(sorted(policy.published_sensitivities))
        raise ValidationError.at("category", f"{category!r} is not one of {known}")
    gain = _finite(points, "points")
    return policy.published_sensitivities[category] * gain / policy.sensitivity_step


def is_survey_season(day: date, policy: SatisfactionPolicy) -> bool:
    """Whether ``day`` falls in a survey month (Q4 and May, DOMAIN.md 5)."""
    if not isinstance(day, date):
        raise ValidationError.at("day", f"expected a date, got {day!r}")
    return day.month in policy.survey_months


def next_key_account_visit(last_visit: date, policy: SatisfactionPolicy) -> date:
    """When a key account is next due: twice a year means six months after the last visit."""
    if not isinstance(last_visit, date):
        raise ValidationError.at("last_visit", f"expected a date, got {last_visit!r}")
    months = 12 // policy.key_account_surveys_per_year
    return last_visit + relativedelta(months=months)


def key_account_visit_due(last_visit: date | None, on: date, policy: SatisfactionPolicy) -> bool:
    """Whether a key account must be visited on ``on`` (never visited, or due by now)."""
    if not isinstance(on, date):
        raise ValidationError.at("on", f"expected a date, got {on!r}")
    if last_visit is None:
        return True
    due: date = next_key_account_visit(last_visit, policy)
    return on >= due


# -- survey definitions and responses --------------------------------------------------


def _to_dimension(value: Dimension | str | None) -> Dimension | None:
    return None if value is None else _enum(Dimension, value, "dimension")


def _item_weight(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _weight(value, attribute.name)


@attrs.frozen
class SurveyItem:
    """One rated question of a survey with its weight and optional SERVQUAL dimension."""

    key: str = attrs.field(validator=_nonempty)
    text: str = ""
    weight: float = attrs.field(default=1.0, validator=_item_weight)
    dimension: Dimension | None = attrs.field(default=None, converter=_to_dimension)


@attrs.frozen
class OpenQuestion:
    """A free-text question ("what should we improve?")."""

    key: str = attrs.field(validator=_nonempty)
    text: str = ""


#: The documents' survey items for a supplier (DOMAIN.md 5), equal weights by default.
SUPPLIER_ITEMS: tuple[tuple[str, str], ...] = (
    ("product_quality", "Product quality"),
    ("price", "Price"),
    ("delivery_time", "Delivery time"),
    ("packaging", "Packaging"),
    ("after_sales_service", "After-sales service"),
)


def _to_items(value: Iterable[SurveyItem]) -> tuple[SurveyItem, ...]:
    return tuple(value)


def _to_questions(value: Iterable[OpenQuestion]) -> tuple[OpenQuestion, ...]:
    return tuple(value)


def _to_method(value: SurveyMethod | str) -> SurveyMethod:
    return _enum(SurveyMethod, value, "method")


@attrs.frozen
class Survey:
    """A questionnaire: weighted items on one rating scale, plus open questions.

    DOMAIN.md 5: five-point scale plus open questions; items with weights. When
    ``overall_item`` names an item ("overall satisfaction"), CSAT and the driver analysis
    use it; otherwise CSAT pools every item and drivers explain the weighted score.
    """

    id: str = attrs.field(validator=_nonempty)
    title: str
    items: tuple[SurveyItem, ...] = attrs.field(converter=_to_items)
    scale: int = 5
    open_questions: tuple[OpenQuestion, ...] = attrs.field(default=(), converter=_to_questions)
    overall_item: str | None = None
    method: SurveyMethod = attrs.field(default=SurveyMethod.PHONE, converter=_to_method)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        try:
            _check_scale(self.scale)
        except ValidationError as err:
            errors.extend(err.errors)
        if not self.items:
            errors.append(("items", "a survey needs at least one rated item"))
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if not isinstance(item, SurveyItem):
                errors.append((f"items.{i}", f"expected a SurveyItem, got {item!r}"))
                continue
            if item.key in seen:
                errors.append((f"items.{i}.key", f"duplicate item key {item.key!r}"))
            seen.add(item.key)
        if (
            self.items
            and all(isinstance(i, SurveyItem) for i in self.items)
            and sum(item.weight for item in self.items) <= 0
        ):
            errors.append(("items", "the items' weights add up to zero"))
        if self.overall_item is not None and self.overall_item not in seen:
            errors.append(("overall_item", f"{self.overall_item!r} is not an item key"))
        questions: set[str] = set()
        for i, question in enumerate(self.open_questions):
            if not isinstance(question, OpenQuestion):
                errors.append((f"open_questions.{i}", f"expected an OpenQuestion: {question!r}"))
            elif question.key in questions:
                errors.append((f"open_questions.{i}.key", f"duplicate key {question.key!r}"))
            else:
                questions.add(question.key)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def supplier(
        cls,
        id: str,
        title: str = "Supplier satisfaction",
        *,
        weights: Mapping[str, float] | None = None,
        scale: int = 5,
    ) -> Survey:
        """The documents' supplier survey: quality, price, delivery, packaging, after-sales."""
        weights = dict(weights or {})
        unknown = set(weights) - {key for key, _ in SUPPLIER_ITEMS}
        if unknown:
            raise ValidationError.at(f"weights.{sorted(unknown)[0]}", "not a supplier item")
        items = tuple(
            SurveyItem(key=key, text=text, weight=weights.get(key, 1.0))
            for key, text in SUPPLIER_ITEMS
        )
        questions = (OpenQuestion("improve", "What should we improve?"),)
        return cls(id=id, title=title, items=items, scale=scale, open_questions=questions)

    @property
    def item_keys(self) -> tuple[str, ...]:
        """The item keys in questionnaire order."""
        return tuple(item.key for item in self.items)

    @property
    def weights(self) -> dict[str, float]:
        """Item key to weight."""
        return {item.key: item.weight for item in self.items}

    def item(self, key: str) -> SurveyItem:
        """The item with ``key``."""
        for item in self.items:
            if item.key == key:
                return item
        raise ValidationError.at("key", f"{key!r} is not an item of survey {self.id!r}")

    def check_response(self, response: SurveyResponse) -> None:
        """Raise ValidationError unless ``response`` answers this survey within its scale."""
        if not isinstance(response, SurveyResponse):
            raise ValidationError.at("response", f"expected a SurveyResponse, got {response!r}")
        errors: list[tuple[str, str]] = []
        if response.survey_id != self.id:
            msg = f"answers survey {response.survey_id!r}, not {self.id!r}"
            errors.append(("survey_id", msg))
        keys = set(self.item_keys)
        for field in ("ratings", "expectations"):
            for key, value in getattr(response, field).items():
                if key not in keys:
                    errors.append((f"{field}.{key}", "not an item of the survey"))
                elif not 1 <= value <= self.scale:
                    errors.append((f"{field}.{key}", f"{value!r} is outside 1..{self.scale}"))
        questions = {q.key for q in self.open_questions}
        errors.extend(
            (f"open_answers.{key}", "not an open question of the survey")
            for key in response.open_answers
            if key not in questions
        )
        if errors:
            raise ValidationError(errors)

    def score(self, response: SurveyResponse) -> float | None:
        """The response's weighted score 0..100; ``None`` if no weighted item was rated."""
        self.check_response(response)
        weights = self.weights
        rated = {k: v for k, v in response.ratings.items() if weights[k] > 0}
        if not rated:
            return None
        return weighted_score(rated, weights, self.scale)


def _rating_map(value: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValidationError.at("ratings", "expected a mapping of item key to score")
    return dict(value)


def _text_map(value: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError.at("open_answers", "expected a mapping of question key to text")
    return dict(value)


def _check_ratings(
    _instance: object, attribute: attrs.Attribute[Mapping[str, int]], value: Mapping[str, int]
) -> None:
    errors: list[tuple[str, str]] = []
    for key, score in value.items():
        try:
            _score(score, 1, MAX_SCALE, f"{attribute.name}.{key}")
        except ValidationError as err:
            errors.extend(err.errors)
    if errors:
        raise ValidationError(errors)


def _check_answers(
    _instance: object, attribute: attrs.Attribute[Mapping[str, str]], value: Mapping[str, str]
) -> None:
    for key, text in value.items():
        if not isinstance(text, str):
            raise ValidationError.at(f"{attribute.name}.{key}", f"expected text, got {text!r}")


def _check_nps_score(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value is not None:
        _score(value, 0, 10, attribute.name)


def _optional_bool(_instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValidationError.at(attribute.name, f"expected true, false or none, got {value!r}")


def _to_optional_method(value: SurveyMethod | str | None) -> SurveyMethod | None:
    return None if value is None else _to_method(value)


@attrs.frozen
class SurveyResponse:
    """One customer's answers to one survey (stored; one per customer and campaign).

    ``ratings`` and ``expectations`` map item keys to scores on the survey's scale
    (expectations are for SERVQUAL items); skipped items are simply absent. Loyalty is
    asked apart from satisfaction (DOMAIN.md 5: loyal = repurchases and recommends).
    """

    id: str = attrs.field(validator=_nonempty)
    survey_id: str = attrs.field(validator=_nonempty)
    customer_id: str = attrs.field(validator=_nonempty)
    answered_at: datetime = attrs.field(validator=_aware)
    ratings: Mapping[str, int] = attrs.field(
        factory=dict, converter=_rating_map, validator=_check_ratings
    )
    open_answers: Mapping[str, str] = attrs.field(
        factory=dict, converter=_text_map, validator=_check_answers
    )
    nps_score: int | None = attrs.field(default=None, validator=_check_nps_score)
    repurchased: bool | None = attrs.field(default=None, validator=_optional_bool)
    would_recommend: bool | None = attrs.field(default=None, validator=_optional_bool)
    expectations: Mapping[str, int] = attrs.field(
        factory=dict, converter=_rating_map, validator=_check_ratings
    )
    campaign_id: str | None = None
    method: SurveyMethod | None = attrs.field(default=None, converter=_to_optional_method)

    @property
    def loyal(self) -> bool | None:
        """Repurchased and would recommend; ``None`` while either answer is missing."""
        if self.repurchased is None or self.would_recommend is None:
            return None
        return self.repurchased and self.would_recommend


# -- campaigns -------------------------------------------------------------------------


def _to_campaign_status(value: CampaignStatus | str) -> CampaignStatus:
    return _enum(CampaignStatus, value, "status")


def _to_ids(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("invited", "expected a set of customer ids")
    return frozenset(value)


def _to_history(value: Iterable[StatusChange]) -> tuple[StatusChange, ...]:
    return tuple(value)


@attrs.frozen
class SurveyCampaign:
    """A survey sent to a set of customers over a period (DOMAIN.md 5).

    Surveys run in Q4 and in May; key accounts are visited twice a year. ``customer_base``
    is the number of customers the campaign should reach, for coverage x response rate.
    """

    id: str = attrs.field(validator=_nonempty)
    survey_id: str = attrs.field(validator=_nonempty)
    starts_on: date
    ends_on: date
    invited: frozenset[str] = attrs.field(factory=frozenset, converter=_to_ids)
    customer_base: int | None = None
    key_accounts: bool = False
    status: CampaignStatus = attrs.field(
        default=CampaignStatus.PLANNED, converter=_to_campaign_status
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_to_history)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        for name in ("starts_on", "ends_on"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                errors.append((name, f"expected a date, got {value!r}"))
        if not errors and self.ends_on < self.starts_on:
            errors.append(("ends_on", "the campaign ends before it starts"))
        if not isinstance(self.key_accounts, bool):
            errors.append(("key_accounts", f"expected true or false, got {self.key_accounts!r}"))
        for customer in self.invited:
            if not isinstance(customer, str) or not customer.strip():
                errors.append(("invited", f"not a customer id: {customer!r}"))
        try:
            _optional_count(self.customer_base, "customer_base")
        except ValidationError as err:
            errors.extend(err.errors)
        else:
            if self.customer_base is not None and len(self.invited) > self.customer_base:
                errors.append(("customer_base", "fewer customers than invited"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def plan(
        cls,
        *,
        id: str,
        survey_id: str,
        starts_on: date,
        ends_on: date,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        invited: Iterable[str] = (),
        customer_base: int | None = None,
        key_accounts: bool = False,
    ) -> SurveyCampaign:
        """Plan a campaign; needs ``survey.manage``."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        change = StatusChange(from_=None, to=CampaignStatus.PLANNED.value, at=at, by=by.id)
        return cls(
            id=id,
            survey_id=survey_id,
            starts_on=starts_on,
            ends_on=ends_on,
            invited=frozenset(invited),
            customer_base=customer_base,
            key_accounts=key_accounts,
            history=(change,),
        )

    def _move(self, target: CampaignStatus, at: datetime, by: str, note: str) -> SurveyCampaign:
        check_transition(CAMPAIGN_TRANSITIONS, "survey campaign", self.id, self.status, target)
        change = StatusChange(from_=self.status.value, to=target.value, at=at, by=by, note=note)
        return attrs.evolve(self, status=target, history=(*self.history, change))

    def invite(
        self, customer_ids: Iterable[str], *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SurveyCampaign:
        """Add customers to a planned or open campaign."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        if self.status in CAMPAIGN_TERMINAL:
            raise RuleViolation(
                "campaign_finished",
                "customers can only be invited to a planned or open campaign",
                campaign_id=self.id,
                status=self.status.value,
            )
        return attrs.evolve(self, invited=self.invited | _to_ids(customer_ids))

    def open(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> SurveyCampaign:
        """Start collecting answers; a campaign with nobody invited cannot open."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        if not self.invited and self.status is CampaignStatus.PLANNED:
            raise RuleViolation(
                "nobody_invited",
                "invite customers before opening the campaign",
                campaign_id=self.id,
            )
        return self._move(CampaignStatus.OPEN, at, by.id, note)

    def close(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> SurveyCampaign:
        """Stop collecting answers."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        return self._move(CampaignStatus.CLOSED, at, by.id, note)

    def cancel(self, *, at: datetime, by: Actor, access: AccessPolicy, note: str) -> SurveyCampaign:
        """Cancel the campaign with a reason."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        if not note.strip():
            raise ValidationError.at("note", "say why the campaign is cancelled")
        return self._move(CampaignStatus.CANCELLED, at, by.id, note)

    def months(self) -> frozenset[int]:
        """The calendar months (1..12) the campaign's period touches."""
        months: set[int] = set()
        cursor = self.starts_on.replace(day=1)
        while cursor <= self.ends_on and len(months) < 12:
            months.add(cursor.month)
            cursor = cursor + relativedelta(months=1)
        return frozenset(months)

    def in_season(self, policy: SatisfactionPolicy) -> bool:
        """Whether the campaign runs in a survey month; key-account campaigns always do."""
        return self.key_accounts or bool(self.months() & policy.survey_months)


# -- streaming statistics --------------------------------------------------------------

Row: TypeAlias = tuple[int | bool | None, ...]

_NO_TAIL: Row = (None, None, None)


@attrs.frozen
class Estimate:
    """A mean with its sample standard deviation and confidence interval (normal approx.)."""

    value: float
    n: int
    sd: float | None
    interval: Interval | None


@attrs.frozen
class ItemResult:
    """Statistics of one survey item.

    ``mean`` is on the survey's scale, ``mean_score`` the same normalised to 0..100,
    ``distribution`` the number of answers for each score 1..scale.
    """

    key: str
    dimension: Dimension | None
    responses: int
    mean: Estimate | None
    mean_score: float | None
    csat: float | None
    csat_interval: Interval | None
    distribution: tuple[int, ...]


@attrs.frozen
class Driver:
    """How strongly one item moves the overall score (least squares over responses).

    ``slope`` is overall points per item point, both normalised to 0..100;
    :attr:`gain_per_10_points` is what +10 points on the item bring to the overall.
    """

    item: str
    responses: int
    slope: float | None
    correlation: float | None

    @property
    def gain_per_10_points(self) -> float | None:
        """Overall points gained when the item gains 10 points."""
        return None if self.slope is None else 10 * self.slope


@attrs.frozen
class LoyaltyResult:
    """Loyalty, kept apart from satisfaction: repurchase, recommendation, both.

    DOMAIN.md 5: satisfaction is not loyalty; loyal = repurchases and recommends.
    """

    repurchased: int
    repurchase_answers: int
    would_recommend: int
    recommend_answers: int
    loyal: int
    loyalty_answers: int

    @staticmethod
    def _percent(part: int, whole: int) -> float | None:
        return None if whole == 0 else 100.0 * part / whole

    @property
    def repurchase_rate(self) -> float | None:
        """Percent of answers saying the customer bought again."""
        return self._percent(self.repurchased, self.repurchase_answers)

    @property
    def recommend_rate(self) -> float | None:
        """Percent of answers saying the customer would recommend."""
        return self._percent(self.would_recommend, self.recommend_answers)

    @property
    def loyal_share(self) -> float | None:
        """Percent of customers who answered both questions yes."""
        return self._percent(self.loyal, self.loyalty_answers)


@attrs.frozen
class Coverage:
    """Coverage x response rate against the policy minimum (DOMAIN.md 5: 75 %).

    ``coverage`` = invited / customer base, ``response_rate`` = respondents / invited,
    ``reach`` = their product = respondents / customer base; all fractions 0..1.
    """

    respondents: int
    invited: int | None
    customer_base: int | None
    minimum: float

    @property
    def coverage(self) -> float | None:
        """Invited customers as a fraction of the customer base."""
        if self.invited is None or not self.customer_base:
            return None
        return self.invited / self.customer_base

    @property
    def response_rate(self) -> float | None:
        """Respondents as a fraction of the invited customers."""
        if not self.invited:
            return None
        return self.respondents / self.invited

    @property
    def reach(self) -> float | None:
        """Coverage x response rate: respondents as a fraction of the customer base."""
        if not self.customer_base:
            return None
        return self.respondents / self.customer_base

    @property
    def below_minimum(self) -> bool | None:
        """Whether the reach misses the minimum; ``None`` without a customer base."""
        reach = self.reach
        return None if reach is None else reach < self.minimum


@attrs.frozen
class SurveyResult:
    """Everything a survey's responses say, computed by :class:`SurveyStats`.

    Percentages (CSAT, NPS, satisfied share, loyalty) are on 0..100; ``score`` is the
    weighted score 0..100 and ``index`` the documents' overall index (total score divided
    by the customers who answered). ``suspicious_unanimity`` warns that every respondent
    is satisfied, which the documents read as a bad questionnaire or a flawed sample.
    """

    survey_id: str
    responses: int
    scored: int
    csat: float | None
    csat_interval: Interval | None
    nps: float | None
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    score: Estimate | None
    satisfied: int
    satisfied_share: float | None
    satisfied_interval: Interval | None
    items: tuple[ItemResult, ...]
    drivers: tuple[Driver, ...]
    servqual_gaps: Mapping[Dimension, float]
    loyalty: LoyaltyResult
    coverage: Coverage
    suspicious_unanimity: bool

    @property
    def index(self) -> float | None:
        """Overall satisfaction index: total weighted score / customers who answered."""
        return None if self.score is None else self.score.value

    @property
    def top_driver(self) -> Driver | None:
        """The item whose gain moves the overall score most."""
        for driver in self.drivers:
            if driver.slope is not None:
                return driver
        return None

    def item(self, key: str) -> ItemResult:
        """The statistics of the item with ``key``."""
        for item in self.items:
            if item.key == key:
                return item
        raise ValidationError.at("key", f"{key!r} is not an item of survey {self.survey_id!r}")


def _distinct(values: Iterable[object]) -> Iterable[object]:
    """The distinct values, or all of them when some cannot be hashed."""
    items = tuple(values)
    try:
        return set(items)
    except TypeError:
        return items


class _RatingMoments:
    """Sums over rating rows: exact integer counts per item, float sums for scores."""

    __slots__ = ("drivers", "item_counts", "satisfied", "score_sq", "score_sum", "scored")

    def __init__(self, k: int, scale: int) -> None:
        self.item_counts = [[0] * (scale + 1) for _ in range(k)]
        self.scored = 0
        self.satisfied = 0
        self.score_sum = 0.0
        self.score_sq = 0.0
        # per item: n, sum x, sum x^2 (raw ints), sum y, sum y^2, sum x*y (floats)
        self.drivers: list[list[float]] = [[0, 0, 0, 0.0, 0.0, 0.0] for _ in range(k)]

    def copy(self) -> _RatingMoments:
        other = _RatingMoments(0, 0)
        other.item_counts = [list(c) for c in self.item_counts]
        other.scored = self.scored
        other.satisfied = self.satisfied
        other.score_sum = self.score_sum
        other.score_sq = self.score_sq
        other.drivers = [list(d) for d in self.drivers]
        return other

    def merge(self, other: _RatingMoments) -> None:
        for mine, theirs in zip(self.item_counts, other.item_counts, strict=True):
            for j, count in enumerate(theirs):
                mine[j] += count
        self.scored += other.scored
        self.satisfied += other.satisfied
        self.score_sum += other.score_sum
        self.score_sq += other.score_sq
        for mine_d, theirs_d in zip(self.drivers, other.drivers, strict=True):
            for j, value in enumerate(theirs_d):
                mine_d[j] += value


class _DriverTerms:
    """Per-item sums for the least-squares drivers, floats kept as terms for ``fsum``."""

    __slots__ = ("counts", "items", "x_sums", "xx_sums", "xy_terms", "y_terms", "yy_terms")

    def __init__(self, k: int, overall: int | None) -> None:
        self.items = [i for i in range(k) if i != overall]
        self.counts = [0] * k
        self.x_sums = [0] * k
        self.xx_sums = [0] * k
        self.y_terms: list[list[float]] = [[] for _ in range(k)]
        self.yy_terms: list[list[float]] = [[] for _ in range(k)]
        self.xy_terms: list[list[float]] = [[] for _ in range(k)]

    def add(self, row: Row, y: float, c: int) -> None:
        yc = y * c
        yyc = y * yc
        for i in self.items:
            x = row[i]
            if x is None:
                continue
            self.counts[i] += c
            self.x_sums[i] += x * c
            self.xx_sums[i] += x * x * c
            self.y_terms[i].append(yc)
            self.yy_terms[i].append(yyc)
            self.xy_terms[i].append(x * yc)

    def add_to(self, m: _RatingMoments) -> None:
        for i in self.items:
            d = m.drivers[i]
            d[0] += self.counts[i]
            d[1] += self.x_sums[i]
            d[2] += self.xx_sums[i]
            d[3] = math.fsum([d[3], *self.y_terms[i]])
            d[4] = math.fsum([d[4], *self.yy_terms[i]])
            d[5] = math.fsum([d[5], *self.xy_terms[i]])


class SurveyStats:
    """Streaming, mergeable statistics of one survey's responses (DOMAIN.md 5).

    Add responses with :meth:`add` (a :class:`SurveyResponse`), :meth:`add_scores` (one
    response as plain scores) or :meth:`add_rows` (many rows at once, the fast path). A
    row is the item ratings in questionnaire order (``None`` for a skipped item),
    optionally followed by the NPS score, "repurchased" and "would recommend" (``None``
    when not asked). Identical answers are counted, not stored: the state is a count per
    distinct tuple of ratings plus a count per distinct (NPS, loyalty) answer, so memory
    does not grow with the number of responses. Every score is checked against the
    survey's scale before it is counted; a bad batch counts nothing.

    :meth:`merge` adds another accumulator of the same survey and policy, so partial
    results from several workers or days combine; the result equals that of one pass over
    all responses, in any order. Beyond ``max_profiles`` distinct tuples of ratings the
    counts are folded into running sums (memory stays bounded; results then agree up to
    floating-point rounding). ``invited`` and ``customer_base`` feed :class:`Coverage`.
    """

    __slots__ = (
        "_count",
        "_expect_counts",
        "_index",
        "_max_profiles",
        "_moments",
        "_overall",
        "_policy",
        "_ratings",
        "_result",
        "_survey",
        "_tail",
        "_weights",
        "customer_base",
        "invited",
    )

    def __init__(
        self,
        survey: Survey,
        policy: SatisfactionPolicy | None = None,
        *,
        invited: int | None = None,
        customer_base: int | None = None,
        max_profiles: int = 250_000,
    ) -> None:
        if not isinstance(survey, Survey):
            raise ValidationError.at("survey", f"expected a Survey, got {survey!r}")
        policy = SatisfactionPolicy() if policy is None else policy
        if not isinstance(policy, SatisfactionPolicy):
            raise ValidationError.at("policy", f"expected a SatisfactionPolicy, got {policy!r}")
        if policy.csat_top_boxes >= survey.scale:
            boxes = policy.csat_top_boxes
            msg = f"{boxes} top boxes leave nothing below on a {survey.scale}-point scale"
            raise ValidationError.at("policy.csat_top_boxes", msg)
        self._survey = survey
        self._policy = policy
        self.invited = _optional_count(invited, "invited")
        self.customer_base = _optional_count(customer_base, "customer_base")
        if (
            self.invited is not None
            and self.customer_base is not None
            and self.invited > self.customer_base
        ):
            raise ValidationError.at("customer_base", "fewer customers than invited")
        if not _is_int(max_profiles) or max_profiles < 1:
            msg = f"must be a positive integer: {max_profiles!r}"
            raise ValidationError.at("max_profiles", msg)
        self._max_profiles = int(max_profiles)
        self._index = {key: i for i, key in enumerate(survey.item_keys)}
        self._weights = [item.weight for item in survey.items]
        self._overall = None if survey.overall_item is None else self._index[survey.overall_item]
        self._ratings: Counter[Row] = Counter()
        self._tail: Counter[Row] = Counter()
        self._moments: _RatingMoments | None = None
        self._expect_counts = [[0] * (survey.scale + 1) for _ in survey.items]
        self._count = 0
        self._result: SurveyResult | None = None

    @classmethod
    def for_campaign(
        cls, survey: Survey, campaign: SurveyCampaign, policy: SatisfactionPolicy | None = None
    ) -> SurveyStats:
        """An accumulator whose coverage uses the campaign's invitations and customer base."""
        if campaign.survey_id != survey.id:
            msg = f"campaign {campaign.id!r} runs survey {campaign.survey_id!r}, not {survey.id!r}"
            raise ValidationError.at("campaign.survey_id", msg)
        return cls(
            survey, policy, invited=len(campaign.invited), customer_base=campaign.customer_base
        )

    @classmethod
    def of(
        cls,
        survey: Survey,
        responses: Iterable[SurveyResponse],
        policy: SatisfactionPolicy | None = None,
        *,
        invited: int | None = None,
        customer_base: int | None = None,
    ) -> SurveyStats:
        """An accumulator filled with ``responses``."""
        stats = cls(survey, policy, invited=invited, customer_base=customer_base)
        for response in responses:
            stats.add(response)
        return stats

    @property
    def survey(self) -> Survey:
        """The survey whose responses are counted."""
        return self._survey

    @property
    def policy(self) -> SatisfactionPolicy:
        """The policy the figures are computed with."""
        return self._policy

    @property
    def responses(self) -> int:
        """How many responses were added."""
        return self._count

    def __repr__(self) -> str:
        return f"SurveyStats(survey={self._survey.id!r}, responses={self._count})"

    # -- checking ----------------------------------------------------------------------

    def _check_ratings(self, keys: Iterable[Row]) -> None:
        errors = self._rating_errors(keys)
        if errors:
            raise ValidationError(errors)

    def _check_tails(self, keys: Iterable[Row]) -> None:
        errors = self._tail_errors(keys)
        if errors:
            raise ValidationError(errors)

    def _rating_errors(self, keys: Iterable[Row]) -> list[tuple[str, str]]:
        """What is wrong with tuples of item ratings (each value checked once per position)."""
        items = self._survey.item_keys
        k = len(items)
        scale = self._survey.scale
        errors: list[tuple[str, str]] = []
        distinct = list(keys)
        bad_length = {len(key) for key in distinct} - {k}
        if bad_length:
            return [("ratings", f"expected {k} item ratings, got {min(bad_length)} values")]
        for j, values in enumerate(map(_distinct, zip(*distinct, strict=True))):
            for value in values:
                if value is not None:
                    try:
                        _score(value, 1, scale, f"ratings.{items[j]}")
                    except ValidationError as err:
                        errors.extend(err.errors)
        return errors

    def _tail_errors(self, keys: Iterable[Row]) -> list[tuple[str, str]]:
        """What is wrong with (NPS, repurchased, would recommend) answers."""
        errors: list[tuple[str, str]] = []
        for nps_score, *loyalty in keys:
            if nps_score is not None:
                try:
                    _score(nps_score, 0, 10, "nps_score")
                except ValidationError as err:
                    errors.extend(err.errors)
            for name, value in zip(("repurchased", "would_recommend"), loyalty, strict=True):
                if value is not None and not isinstance(value, bool):
                    errors.append((name, f"expected true, false or none: {value!r}"))
        return sorted(set(errors))

    # -- adding ------------------------------------------------------------------------

    def add(self, response: SurveyResponse) -> None:
        """Count one stored response (checked against the survey first)."""
        self._survey.check_response(response)
        index = self._index
        ratings: list[int | None] = [None] * len(index)
        for key, value in response.ratings.items():
            ratings[index[key]] = value
        self._ratings[tuple(ratings)] += 1
        self._tail[(response.nps_score, response.repurchased, response.would_recommend)] += 1
        for key, value in response.expectations.items():
            self._expect_counts[index[key]][value] += 1
        self._count += 1
        self._counted()

    def add_scores(
        self,
        ratings: Sequence[int | None],
        *,
        nps: int | None = None,
        repurchased: bool | None = None,
        would_recommend: bool | None = None,
        expectations: Sequence[int | None] | None = None,
    ) -> None:
        """Count one response given as plain scores in questionnaire order."""
        key: Row = ratings if type(ratings) is tuple else tuple(ratings)
        tail: Row = (nps, repurchased, would_recommend)
        counts = self._ratings
        answers = self._tail
        try:
            seen = counts.get(key)
            seen_tail = answers.get(tail)
        except TypeError:
            seen = seen_tail = None
        if seen is None or seen_tail is None:
            errors = self._rating_errors((key,)) + self._tail_errors((tail,))
            if errors:
                raise ValidationError(errors)
        if expectations is not None:
            self._add_expectations(expectations)
        counts[key] = 1 if seen is None else seen + 1
        answers[tail] = 1 if seen_tail is None else seen_tail + 1
        self._count += 1
        self._result = None
        if seen is None and len(counts) > self._max_profiles:
            self._compact()

    def _add_expectations(self, expectations: Sequence[int | None]) -> None:
        expected = tuple(expectations)
        if len(expected) != len(self._index):
            raise ValidationError.at("expectations", f"expected {len(self._index)} scores")
        try:
            self._check_ratings((expected,))
        except ValidationError as err:
            raise ValidationError(
                [(path.replace("ratings", "expectations", 1), m) for path, m in err.errors]
            ) from None
        for i, value in enumerate(expected):
            if value is not None:
                self._expect_counts[i][value] += 1

    def add_rows(self, rows: Iterable[Sequence[int | bool | None]] | Mapping[Row, int]) -> int:
        """Count many rows in one C-speed pass; returns how many were added.

        A row is a tuple of the item ratings, optionally followed by nps, repurchased and
        would recommend. A mapping of row to count (e.g. a SQL ``GROUP BY``) is accepted
        too. The whole batch is checked before anything is counted.
        """
        if isinstance(rows, str | bytes):
            raise ValidationError.at("rows", "expected rows of scores")
        batch: Counter[Row]
        try:
            if isinstance(rows, Mapping):
                batch = Counter()
                for row, count in rows.items():
                    if not _is_int(count) or count < 1:
                        msg = f"count of {row!r} must be a whole number >= 1: {count!r}"
                        raise ValidationError.at("rows", msg)
                    batch[row] = int(count)
            else:
                batch = Counter(rows)  # type: ignore[arg-type]
            lengths = set(map(len, batch))
        except TypeError as err:
            raise ValidationError.at("rows", f"rows must be tuples of scores ({err})") from None
        if not batch:
            return 0
        k = len(self._index)
        width = k + 3
        bad = lengths - {k, width}
        if bad:
            msg = f"a row has {k} ratings, optionally then nps, repurchased, would_recommend"
            raise ValidationError.at("rows", f"{msg}; got a row of length {min(bad)}")
        ratings: dict[Row, int] = {}
        tails: dict[Row, int] = {}
        rating_of = ratings.get
        tail_of = tails.get
        if lengths == {width} and set(map(type, batch)) == {tuple}:
            for row, count in batch.items():
                key = row[:k]
                ratings[key] = rating_of(key, 0) + count
                key = row[k:]
                tails[key] = tail_of(key, 0) + count
        else:
            for row, count in batch.items():
                whole = tuple(row)
                key = whole[:k]
                ratings[key] = rating_of(key, 0) + count
                key = whole[k:] or _NO_TAIL
                tails[key] = tail_of(key, 0) + count
        errors = self._rating_errors(ratings) + self._tail_errors(tails)
        if errors:
            raise ValidationError(errors)
        self._ratings.update(ratings)
        self._tail.update(tails)
        added = batch.total()
        self._count += added
        self._counted()
        return added

    def _counted(self) -> None:
        self._result = None
        if len(self._ratings) > self._max_profiles:
            self._compact()

    def merge(self, other: SurveyStats) -> SurveyStats:
        """Add ``other``'s responses to this accumulator (in place) and return it."""
        if not isinstance(other, SurveyStats):
            raise ValidationError.at("other", f"expected SurveyStats, got {other!r}")
        if other._survey != self._survey:
            raise ValidationError.at("other", "cannot merge statistics of different surveys")
        if other._policy != self._policy:
            raise ValidationError.at("other", "cannot merge statistics under different policies")
        for name in ("invited", "customer_base"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                raise ValidationError.at(f"other.{name}", f"{theirs} differs from {mine}")
            if mine is None:
                setattr(self, name, theirs)
        self._ratings.update(other._ratings)
        self._tail.update(other._tail)
        if other._moments is not None:
            if self._moments is None:
                self._moments = other._moments.copy()
            else:
                self._moments.merge(other._moments)
        for mine_e, theirs_e in zip(self._expect_counts, other._expect_counts, strict=True):
            for j, count in enumerate(theirs_e):
                mine_e[j] += count
        self._count += other._count
        self._counted()
        return self

    def copy(self) -> SurveyStats:
        """An independent accumulator with the same responses."""
        twin = SurveyStats(
            self._survey,
            self._policy,
            invited=self.invited,
            customer_base=self.customer_base,
            max_profiles=self._max_profiles,
        )
        return twin.merge(self)

    # -- folding -----------------------------------------------------------------------

    def _compact(self) -> None:
        moments = self._moments or _RatingMoments(len(self._index), self._survey.scale)
        self._fold(moments, self._ratings)
        self._moments = moments
        self._ratings = Counter()

    def _score_of(self, row: Row) -> float | None:
        """The weighted score 0..100 of one tuple of ratings (``None``: nothing weighted)."""
        numerator = 0.0
        total = 0.0
        for w, r in zip(self._weights, row, strict=True):
            if r is not None and w > 0:
                numerator += w * (r - 1)
                total += w
        if total <= 0:
            return None
        return _bounded(numerator * 100 / (total * (self._survey.scale - 1)))

    def _fold(self, m: _RatingMoments, ratings: Counter[Row]) -> None:
        """Add counted rating tuples to ``m``.

        Float sums go through :func:`math.fsum`, which rounds the exact sum of its terms
        once, so the result never depends on the order in which tuples were counted.
        """
        unit = 100.0 / (self._survey.scale - 1)
        threshold = self._policy.satisfied_threshold - _SLACK
        overall = self._overall
        item_counts = m.item_counts
        terms = _DriverTerms(len(self._weights), overall)
        scored = satisfied = 0
        score_terms: list[float] = []
        square_terms: list[float] = []
        for row, c in ratings.items():
            for i, r in enumerate(row):
                if r is not None:
                    item_counts[i][r] += c
            score = self._score_of(row)
            if score is not None:
                scored += c
                score_terms.append(score * c)
                square_terms.append(score * score * c)
                if score >= threshold:
                    satisfied += c
            if overall is None:
                y = score
            else:
                r_overall = row[overall]
                y = None if r_overall is None else (r_overall - 1) * unit
            if y is not None:
                terms.add(row, y, c)
        m.scored += scored
        m.satisfied += satisfied
        m.score_sum = math.fsum([m.score_sum, *score_terms])
        m.score_sq = math.fsum([m.score_sq, *square_terms])
        terms.add_to(m)

    # -- results -----------------------------------------------------------------------

    def result(self) -> SurveyResult:
        """The frozen figures for every response added so far."""
        if self._result is None:
            self._result = self._build()
        return self._result

    def _build(self) -> SurveyResult:
        survey = self._survey
        policy = self._policy
        scale = survey.scale
        k = len(self._index)
        ratings = self._ratings
        tail = self._tail
        m = self._moments.copy() if self._moments is not None else _RatingMoments(k, scale)
        self._fold(m, ratings)
        z = policy.confidence_z
        level = policy.confidence_level
        cutoff = scale - policy.csat_top_boxes + 1

        items = tuple(
            self._item_result(item, m.item_counts[i], cutoff, z, level)
            for i, item in enumerate(survey.items)
        )
        if self._overall is not None:
            csat_counts = m.item_counts[self._overall]
        else:
            csat_counts = [sum(column) for column in zip(*m.item_counts, strict=True)]
        csat_n = sum(csat_counts)
        csat_top = sum(csat_counts[cutoff:])
        csat_value = None if csat_n == 0 else 100.0 * csat_top / csat_n
        nps_n = promoters = detractors = 0
        rep = rep_n = rec = rec_n = loyal = loyal_n = 0
        for (score, repurchased, recommends), count in tail.items():
            if score is not None:
                nps_n += count
                if score >= policy.nps_promoter_min:
                    promoters += count
                elif score <= policy.nps_detractor_max:
                    detractors += count
            if repurchased is not None:
                rep_n += count
                rep += count if repurchased else 0
            if recommends is not None:
                rec_n += count
                rec += count if recommends else 0
            if repurchased is not None and recommends is not None:
                loyal_n += count
                loyal += count if repurchased and recommends else 0
        nps_value = None if nps_n == 0 else 100.0 * (promoters - detractors) / nps_n
        score_estimate = None
        if m.scored:
            score_estimate = _estimate(m.scored, m.score_sum, m.score_sq, z)
        satisfied_share = None if m.scored == 0 else 100.0 * m.satisfied / m.scored
        return SurveyResult(
            survey_id=survey.id,
            responses=self._count,
            scored=m.scored,
            csat=csat_value,
            csat_interval=_percent_interval(csat_top, csat_n, level),
            nps=nps_value,
            nps_responses=nps_n,
            promoters=promoters,
            passives=nps_n - promoters - detractors,
            detractors=detractors,
            score=score_estimate,
            satisfied=m.satisfied,
            satisfied_share=satisfied_share,
            satisfied_interval=_percent_interval(m.satisfied, m.scored, level),
            items=items,
            drivers=self._drivers(m),
            servqual_gaps=self._gaps(m),
            loyalty=LoyaltyResult(rep, rep_n, rec, rec_n, loyal, loyal_n),
            coverage=Coverage(
                respondents=self._count,
                invited=self.invited,
                customer_base=self.customer_base,
                minimum=policy.coverage_minimum,
            ),
            suspicious_unanimity=m.scored > 0 and m.satisfied == m.scored,
        )

    def _item_result(
        self, item: SurveyItem, counts: list[int], cutoff: int, z: float, level: float
    ) -> ItemResult:
        scale = self._survey.scale
        n = sum(counts)
        distribution = tuple(counts[1:])
        if n == 0:
            return ItemResult(item.key, item.dimension, 0, None, None, None, None, distribution)
        s1 = sum(r * c for r, c in enumerate(counts))
        s2 = sum(r * r * c for r, c in enumerate(counts))
        mean = s1 / n
        sd: float | None = None
        interval: Interval | None = None
        if n > 1:
            sd = math.sqrt((n * s2 - s1 * s1) / (n * (n - 1)))
            half = z * sd / math.sqrt(n)
            interval = Interval(mean - half, mean + half)
        top = sum(counts[cutoff:])
        return ItemResult(
            key=item.key,
            dimension=item.dimension,
            responses=n,
            mean=Estimate(mean, n, sd, interval),
            mean_score=(mean - 1) * 100 / (scale - 1),
            csat=100.0 * top / n,
            csat_interval=_percent_interval(top, n, level),
            distribution=distribution,
        )

    def _drivers(self, m: _RatingMoments) -> tuple[Driver, ...]:
        unit = 100.0 / (self._survey.scale - 1)
        found: list[Driver] = []
        for i, item in enumerate(self._survey.items):
            if i == self._overall:
                continue
            n_f, sx, sxx, sy, syy, sxy = m.drivers[i]
            n = int(n_f)
            slope = correlation = None
            if n > 1:
                var_x = (n * sxx - sx * sx) / n
                var_y = syy - sy * sy / n
                cov = sxy - sx * sy / n
                if var_x > 0:
                    slope = cov / (var_x * unit)
                    if var_y > _SLACK * max(1.0, syy):
                        correlation = max(-1.0, min(1.0, cov / math.sqrt(var_x * var_y)))
            found.append(Driver(item.key, n, slope, correlation))
        found.sort(key=lambda d: (d.slope is None, -(d.slope or 0.0)))
        return tuple(found)

    def _gaps(self, m: _RatingMoments) -> dict[Dimension, float]:
        gaps: dict[Dimension, float] = {}
        for dimension in Dimension:
            members = [i for i, it in enumerate(self._survey.items) if it.dimension is dimension]
            perceived = _pooled_mean([m.item_counts[i] for i in members])
            expected = _pooled_mean([self._expect_counts[i] for i in members])
            if perceived is not None and expected is not None:
                gaps[dimension] = perceived - expected
        return gaps


def _pooled_mean(count_lists: list[list[int]]) -> float | None:
    n = sum(sum(counts) for counts in count_lists)
    if n == 0:
        return None
    return sum(r * c for counts in count_lists for r, c in enumerate(counts)) / n


def _estimate(n: int, total: float, squares: float, z: float) -> Estimate:
    mean = total / n
    if n < 2:
        return Estimate(mean, n, None, None)
    variance = max(0.0, (squares - total * total / n) / (n - 1))
    sd = math.sqrt(variance)
    half = z * sd / math.sqrt(n)
    return Estimate(mean, n, sd, Interval(mean - half, mean + half))


def _percent_interval(successes: int, n: int, confidence: float) -> Interval | None:
    interval = wilson_interval(successes, n, confidence)
    if interval is None:
        return None
    return Interval(100 * interval.low, 100 * interval.high)


# -- monitoring ------------------------------------------------------------------------


@attrs.frozen
class Measurement:
    """One measured level of a satisfaction metric."""

    level: float
    at: datetime = attrs.field(validator=_aware)


@attrs.frozen
class CorrectiveAction:
    """A corrective action decided in the monitoring loop, by whom and when."""

    description: str = attrs.field(validator=_nonempty)
    by: str = attrs.field(validator=_nonempty)
    at: datetime = attrs.field(validator=_aware)
    due: date | None = None


def _to_metric(value: SatisfactionMetric | str) -> SatisfactionMetric:
    return _enum(SatisfactionMetric, value, "metric")


def _to_monitor_status(value: MonitorStatus | str) -> MonitorStatus:
    return _enum(MonitorStatus, value, "status")


def _to_measurements(value: Iterable[Measurement]) -> tuple[Measurement, ...]:
    return tuple(value)


def _to_actions(value: Iterable[CorrectiveAction]) -> tuple[CorrectiveAction, ...]:
    return tuple(value)


def _to_texts(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen
class SatisfactionMonitor:
    """The satisfaction monitoring loop (DOMAIN.md 5), a stored aggregate.

    A target level and the measured level give the gap; when it falls short the causes
    are analysed, a corrective action is taken and the level is measured again, until the
    target is met. ``measurements`` holds the first measurement and every re-measurement.
    """

    id: str = attrs.field(validator=_nonempty)
    subject: str = attrs.field(validator=_nonempty)
    metric: SatisfactionMetric = attrs.field(converter=_to_metric)
    target: float
    measurements: tuple[Measurement, ...] = attrs.field(converter=_to_measurements)
    causes: tuple[str, ...] = attrs.field(default=(), converter=_to_texts)
    actions: tuple[CorrectiveAction, ...] = attrs.field(default=(), converter=_to_actions)
    status: MonitorStatus = attrs.field(
        default=MonitorStatus.MEASURED, converter=_to_monitor_status
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_to_history)

    def __attrs_post_init__(self) -> None:
        low, high = self.metric.bounds
        errors: list[tuple[str, str]] = []
        try:
            _in_range(self.target, low, high, "target")
        except ValidationError as err:
            errors.extend(err.errors)
        if not self.measurements:
            errors.append(("measurements", "a monitor starts from a measured level"))
        for i, measurement in enumerate(self.measurements):
            try:
                _in_range(measurement.level, low, high, f"measurements.{i}.level")
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
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
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

    def _move(
        self, target: MonitorStatus, at: datetime, by: str, note: str = "", **changes: Any
    ) -> SatisfactionMonitor:
        check_transition(MONITOR_TRANSITIONS, "satisfaction monitor", self.id, self.status, target)
        change = StatusChange(from_=self.status.value, to=target.value, at=at, by=by, note=note)
        return attrs.evolve(self, status=target, history=(*self.history, change), **changes)

    def analyse(
        self, causes: Iterable[str], *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SatisfactionMonitor:
        """Record the causes of the gap."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        found = _to_texts(causes)
        if not found or any(not isinstance(c, str) or not c.strip() for c in found):
            raise ValidationError.at("causes", "name at least one cause, each as text")
        return self._move(MonitorStatus.ANALYSED, at, by.id, causes=(*self.causes, *found))

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
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        action = CorrectiveAction(description=description, by=by.id, at=at, due=due)
        return self._move(
            MonitorStatus.ACTING, at, by.id, description, actions=(*self.actions, action)
        )

    def remeasure(
        self, level: float, *, at: datetime, by: Actor, access: AccessPolicy
    ) -> SatisfactionMonitor:
        """Record the level measured again after the corrective action."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
        low, high = self.metric.bounds
        _in_range(level, low, high, "level")
        return self._move(
            MonitorStatus.REMEASURED,
            at,
            by.id,
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
        """Close the loop once the target is met (or accept the gap, with a written reason)."""
        access.require(by, Permission.MANAGE_SURVEYS)
        require_aware(at)
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
        return self._move(MonitorStatus.CLOSED, at, by.id, note)


@attrs.frozen
class SurveyResponseRecorded(Event):
    """A customer's survey answers were stored (DOMAIN.md 5: act on results and thank
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
    re-measured, closed), with the gap to its target at that moment (DOMAIN.md 5)."""

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


# -- cost view -------------------------------------------------------------------------


@attrs.frozen
class SatisfactionCost:
    """The documents' customer-satisfaction cost, part by part (DOMAIN.md 5).

    satisfaction cost = conforming-product quality cost + service-quality cost;
    service-quality cost = routine service cost + nonconforming-product service cost.
    """

    conforming_quality_cost: Money
    routine_service_cost: Money
    nonconforming_service_cost: Money
    amplification_factor: Decimal

    @property
    def service_quality_cost(self) -> Money:
        """Routine service cost plus nonconforming-product service cost."""
        return self.routine_service_cost + self.nonconforming_service_cost

    @property
    def total(self) -> Money:
        """Conforming-product quality cost plus service-quality cost."""
        return self.conforming_quality_cost + self.service_quality_cost


def satisfaction_cost(
    conforming_quality_cost: Money,
    routine_service_cost: Money,
    policy: SatisfactionPolicy,
    *,
    amplification_factor: Decimal | None = None,
) -> SatisfactionCost:
    """Customer-satisfaction cost; nonconforming service cost = routine cost x factor.

    The factor comes from ``amplification_factor`` or the policy; with neither set the
    rule ``amplification_factor_required`` says so (the documents give no figure).
    """
    for path, amount in (
        ("conforming_quality_cost", conforming_quality_cost),
        ("routine_service_cost", routine_service_cost),
    ):
        if not isinstance(amount, Money):
            raise ValidationError.at(path, f"expected Money, got {amount!r}")
    factor = policy.amplification_factor if amplification_factor is None else amplification_factor
    if factor is None:
        raise RuleViolation(
            "amplification_factor_required",
            "set SatisfactionPolicy.amplification_factor or pass amplification_factor",
        )
    if not isinstance(factor, Decimal) or not factor.is_finite() or factor < 1:
        raise ValidationError.at("amplification_factor", f"must be a Decimal >= 1: {factor!r}")
    return SatisfactionCost(
        conforming_quality_cost=conforming_quality_cost,
        routine_service_cost=routine_service_cost,
        nonconforming_service_cost=routine_service_cost * factor,
        amplification_factor=factor,
    )


# -- post-service surveys --------------------------------------------------------------


@attrs.frozen
class SurveyRequested(Event):
    """A post-service survey should go to a customer once ``send_after`` has passed."""

    survey_id: str
    customer_id: str
    subject: SurveySubject
    subject_id: str
    requested_at: datetime
    send_after: datetime


def should_request_survey(
    subject: SurveySubject | str,
    policy: SatisfactionPolicy,
    *,
    closed_at: datetime,
    last_survey_at: datetime | None = None,
) -> bool:
    """Whether closing an order or complaint triggers a post-service survey.

    Policy flags ``survey_after_complaint`` / ``survey_after_order`` decide per subject;
    a customer surveyed less than ``survey_cooldown`` ago is not asked again.
    """
    kind = _enum(SurveySubject, subject, "subject")
    require_aware(closed_at, "closed_at")
    wanted = (
        policy.survey_after_complaint
        if kind is SurveySubject.COMPLAINT
        else policy.survey_after_order
    )
    if not wanted:
        return False
    if last_survey_at is not None:
        require_aware(last_survey_at, "last_survey_at")
        if closed_at - last_survey_at < policy.survey_cooldown:
            return False
    return True


def post_service_survey(
    subject: SurveySubject | str,
    subject_id: str,
    customer_id: str,
    policy: SatisfactionPolicy,
    *,
    closed_at: datetime,
    last_survey_at: datetime | None = None,
) -> SurveyRequested | None:
    """The :class:`SurveyRequested` event for a closed order or complaint, or ``None``.

    DOMAIN.md 3.2 (follow-up after handling) and 3.5 (next-day call): the survey is due
    ``survey_delay`` after closing; quiet hours are the dispatcher's business.
    """
    if not should_request_survey(
        subject, policy, closed_at=closed_at, last_survey_at=last_survey_at
    ):
        return None
    for path, value in (("subject_id", subject_id), ("customer_id", customer_id)):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError.at(path, f"must be a non-empty string, got {value!r}")
    return SurveyRequested(
        survey_id=policy.post_service_survey_id,
        customer_id=customer_id,
        subject=_enum(SurveySubject, subject, "subject"),
        subject_id=subject_id,
        requested_at=closed_at,
        send_after=closed_at + policy.survey_delay,
    )
