"""The frozen figures a survey's responses give (what :class:`SurveyStats` computes)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.satisfaction.scores import Dimension, Interval


__all__ = [
    "Coverage",
    "Driver",
    "Estimate",
    "ItemResult",
    "LoyaltyResult",
    "SurveyResult",
]


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

    ``mean`` is on the survey's scale, ``mean_score`` the same as a score out of 100 (by
    the policy's ``score_method``),
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

    ``slope`` is overall points per item point, both as scores out of 100;
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

    docs/domain.md 5: satisfaction is not loyalty; loyal = repurchases and recommends.
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
    """Coverage x response rate against the policy minimum (docs/domain.md 5: 75 %).

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
        msg = f"{describe(key)} is not an item of survey {describe(self.survey_id)}"
        raise ValidationError.at("key", msg)
