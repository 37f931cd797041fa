"""The satisfaction policy and the survey calendar (docs/domain.md 5).

:class:`SatisfactionPolicy` holds every number of the documents' satisfaction rules;
:func:`expected_gain` reads the published sensitivities, :func:`is_survey_season` and
the key-account functions the survey calendar (Q4 and May; key accounts twice a year).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal

import attrs
from dateutil.relativedelta import relativedelta

from csdomain import validators as valid
from csdomain.errors import ValidationError, describe
from csdomain.satisfaction import _checks as check
from csdomain.satisfaction.scores import MAX_SCALE, ScoreMethod, _check_nps_bands, _z


__all__ = [
    "CONTACT_CENTRE_DRIVERS",
    "PUBLISHED_SENSITIVITIES",
    "SatisfactionPolicy",
    "expected_gain",
    "is_survey_season",
    "key_account_visit_due",
    "next_key_account_visit",
]


#: Rise in overall satisfaction (percent) per +10 points in a category (docs/domain.md 5).
PUBLISHED_SENSITIVITIES: Mapping[str, float] = {
    "service_failure_response": 4.6,
    "image": 4.2,
    "product_quality": 3.1,
    "price_performance": 0.6,
}

#: Contact-centre satisfaction drivers, most important first (docs/domain.md 5).
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


def _to_score_method(value: ScoreMethod | str) -> ScoreMethod:
    return valid.enum_value(ScoreMethod, value, "score_method")


@attrs.frozen
class SatisfactionPolicy:
    """Satisfaction thresholds, weights and survey rules, with docs/domain.md 5's defaults."""

    #: A customer whose weighted score is 85/100 or more is "satisfied".
    satisfied_threshold: float = 85.0
    #: How a rating becomes a score out of 100: the documents' rating / scale x 100, or
    #: ``normalised`` ((rating - 1) / (scale - 1) x 100).
    score_method: ScoreMethod = attrs.field(
        default=ScoreMethod.SHARE_OF_SCALE, converter=_to_score_method
    )
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
    survey_months: frozenset[int] = attrs.field(
        default=frozenset({5, 10, 11, 12}), converter=valid.as_frozenset
    )
    #: Key accounts are visited twice a year.
    key_account_surveys_per_year: int = 2
    #: The published sensitivities are per this many points of a category.
    sensitivity_step: float = 10.0
    published_sensitivities: Mapping[str, float] = attrs.field(
        factory=lambda: dict(PUBLISHED_SENSITIVITIES)
    )
    contact_centre_drivers: tuple[str, ...] = attrs.field(
        default=CONTACT_CENTRE_DRIVERS, converter=valid.as_tuple
    )
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
            lambda: check.in_range(self.satisfied_threshold, 0, 100, "satisfied_threshold"),
            lambda: check.whole(self.csat_top_boxes, 1, MAX_SCALE - 1, "csat_top_boxes"),
            lambda: _check_nps_bands(self.nps_promoter_min, self.nps_detractor_max),
            lambda: check.in_range(self.product_weight, 0, 1, "product_weight"),
            lambda: check.in_range(self.coverage_minimum, 0, 1, "coverage_minimum"),
            lambda: check.fraction(self.confidence_level, "confidence_level"),
            lambda: [check.whole(m, 1, 12, "survey_months") for m in self._months()],
            lambda: check.whole(
                self.key_account_surveys_per_year, 1, 12, "key_account_surveys_per_year"
            ),
            lambda: check.in_range(self.sensitivity_step, 1e-9, 100, "sensitivity_step"),
            lambda: [
                check.finite(v, f"published_sensitivities.{k}")
                for k, v in self._sensitivities().items()
            ],
            self._drivers,
        ]
        errors: list[tuple[str, str]] = []
        for run in checks:
            try:
                run()
            except ValidationError as err:
                errors.extend(err.errors)
        for name in ("survey_after_complaint", "survey_after_order"):
            value = getattr(self, name)
            if value is not True and value is not False:
                errors.append((name, f"expected true or false, got {describe(value)}"))
        for name in ("post_service_survey_id", "campaign_number_pattern", "monitor_number_pattern"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                errors.append((name, "must be a non-empty string"))
        for name in ("survey_delay", "survey_cooldown"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < timedelta(0):
                errors.append((name, "must be a duration >= 0"))
        factor = self.amplification_factor
        if factor is not None and (
            not isinstance(factor, Decimal) or not factor.is_finite() or factor < 1
        ):
            msg = f"must be a Decimal >= 1, got {describe(factor)}"
            errors.append(("amplification_factor", msg))
        if errors:
            raise ValidationError(errors)

    def _months(self) -> frozenset[object]:
        if not isinstance(self.survey_months, frozenset):
            raise ValidationError.at("survey_months", "expected a set of months 1..12")
        return self.survey_months

    def _sensitivities(self) -> Mapping[str, float]:
        found = self.published_sensitivities
        if not isinstance(found, Mapping) or not all(isinstance(k, str) for k in found):
            msg = "expected a mapping of category name to percent"
            raise ValidationError.at("published_sensitivities", msg)
        return found

    def _drivers(self) -> None:
        found = self.contact_centre_drivers
        if not isinstance(found, tuple) or not all(isinstance(d, str) for d in found):
            msg = "expected a list of driver names, most important first"
            raise ValidationError.at("contact_centre_drivers", msg)

    @property
    def confidence_z(self) -> float:
        """The normal quantile of :attr:`confidence_level` (1.96 for 95 %)."""
        return _z(self.confidence_level)


def _policy(policy: object) -> SatisfactionPolicy:
    if not isinstance(policy, SatisfactionPolicy):
        msg = f"expected a SatisfactionPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    return policy


def expected_gain(category: str, points: float, policy: SatisfactionPolicy) -> float:
    """Expected rise of overall satisfaction (percent) when a category gains ``points``.

    docs/domain.md 5: +10 points raise overall satisfaction by 4.6 % (service / failure
    response), 4.2 % (image), 3.1 % (product quality) or 0.6 % (price/performance);
    other gains are read off the same straight line.
    """
    policy = _policy(policy)
    if not isinstance(category, str) or category not in policy.published_sensitivities:
        known = ", ".join(sorted(policy.published_sensitivities))
        raise ValidationError.at("category", f"{describe(category)} is not one of {known}")
    gain = check.finite(points, "points")
    return policy.published_sensitivities[category] * gain / policy.sensitivity_step


def is_survey_season(day: date, policy: SatisfactionPolicy) -> bool:
    """Whether ``day`` falls in a survey month (Q4 and May, docs/domain.md 5)."""
    if not isinstance(day, date):
        raise ValidationError.at("day", f"expected a date, got {type(day).__name__}")
    return day.month in _policy(policy).survey_months


def next_key_account_visit(last_visit: date, policy: SatisfactionPolicy) -> date:
    """When a key account is next due: twice a year means six months after the last visit."""
    if not isinstance(last_visit, date):
        msg = f"expected a date, got {type(last_visit).__name__}"
        raise ValidationError.at("last_visit", msg)
    months = 12 // _policy(policy).key_account_surveys_per_year
    try:
        return last_visit + relativedelta(months=months)
    except (ValueError, OverflowError):
        raise ValidationError.at("last_visit", "the next visit falls after year 9999") from None


def key_account_visit_due(last_visit: date | None, on: date, policy: SatisfactionPolicy) -> bool:
    """Whether a key account must be visited on ``on`` (never visited, or due by now)."""
    if not isinstance(on, date):
        raise ValidationError.at("on", f"expected a date, got {type(on).__name__}")
    if last_visit is None:
        return True
    due: date = next_key_account_visit(last_visit, policy)
    return on >= due
