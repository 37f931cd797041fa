"""The pieces :class:`~csdomain.satisfaction.stats.SurveyStats` is made of: one per statistic.

Each accumulator holds only counts and sums, merges with another of its kind and turns
into its part of a :class:`~csdomain.satisfaction.results.SurveyResult`:

- :class:`ItemCounts`: answers per score for each item (distributions, item means and
  CSAT; the same counts of expectations give the SERVQUAL side of the gap);
- :class:`ScoreSums`: the weighted scores (index, its interval, the satisfied share);
- :class:`DriverSums`: the least-squares sums of each item against the overall score;
- :class:`RatingSums`: the three above, which distinct rating tuples fold into;
- :class:`AnswerCounts`: the NPS and loyalty answers (NPS bands, loyalty apart from
  satisfaction).

:class:`Scoring` is the survey's rule that turns one tuple of ratings into its weighted
score and the overall figure the drivers explain. Float sums go through :func:`math.fsum`
(the exact sum of the terms, rounded once), so results never depend on the order in which
rating tuples were counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from csdomain.satisfaction.policy import SatisfactionPolicy
from csdomain.satisfaction.results import Driver, Estimate, ItemResult, LoyaltyResult
from csdomain.satisfaction.scores import (
    Dimension,
    Interval,
    ScoreMethod,
    _bounded,
    score_span,
    wilson_interval,
)
from csdomain.satisfaction.surveys import Survey


__all__ = [
    "SLACK",
    "AnswerCounts",
    "DriverSums",
    "ItemCounts",
    "RatingSums",
    "Row",
    "ScoreSums",
    "ScoredRow",
    "Scoring",
    "percent_interval",
    "servqual_gaps_of",
]

#: One answer as plain values: item ratings in questionnaire order (``None`` = skipped),
#: optionally followed by the NPS score, "repurchased" and "would recommend".
Row: TypeAlias = tuple[int | bool | None, ...]
#: A distinct tuple of ratings with its count, weighted score and overall figure.
ScoredRow: TypeAlias = tuple[Row, int, float | None, float | None]

#: Floating-point slack when a weighted score is compared with the satisfied threshold.
SLACK = 1e-9


def percent_interval(successes: int, n: int, confidence: float) -> Interval | None:
    """The Wilson interval of ``successes / n`` in percent (``None`` when ``n == 0``)."""
    interval = wilson_interval(successes, n, confidence)
    if interval is None:
        return None
    return Interval(100 * interval.low, 100 * interval.high)


class Scoring:
    """How one tuple of ratings scores: weighted 0..100, and what the drivers explain.

    A rating becomes a score out of 100 by the policy's ``score_method`` (the documents'
    rating / scale x 100 by default). The overall figure is the ``overall_item``'s score
    when the survey names one, otherwise the weighted score (docs/domain.md 5).
    """

    __slots__ = ("method", "offset", "overall", "scale", "span", "threshold", "unit", "weights")

    def __init__(self, survey: Survey, policy: SatisfactionPolicy) -> None:
        self.weights = [item.weight for item in survey.items]
        self.scale = survey.scale
        self.method: ScoreMethod = policy.score_method
        self.offset, self.span = score_span(survey.scale, policy.score_method)
        #: Score points per rating point.
        self.unit = 100.0 / self.span
        self.overall = (
            None if survey.overall_item is None else survey.item_keys.index(survey.overall_item)
        )
        #: A customer is satisfied at this weighted score or above (85/100 by default).
        self.threshold = policy.satisfied_threshold - SLACK

    def score(self, row: Row) -> float | None:
        """The weighted score 0..100 of one tuple of ratings (``None``: nothing weighted)."""
        numerator = 0.0
        total = 0.0
        for w, r in zip(self.weights, row, strict=True):
            if r is not None and w > 0:
                numerator += w * (r - self.offset)
                total += w
        if total <= 0:
            return None
        return _bounded(numerator * 100 / (total * self.span))

    def outcome(self, row: Row, score: float | None) -> float | None:
        """The overall figure 0..100 the drivers explain (``None`` when not answered)."""
        if self.overall is None:
            return score
        rating = row[self.overall]
        return None if rating is None else (rating - self.offset) * self.unit

    def scored(self, profiles: Counter[Row]) -> list[ScoredRow]:
        """Each distinct tuple of ratings with its count, score and overall figure."""
        rows: list[ScoredRow] = []
        for row, count in profiles.items():
            score = self.score(row)
            rows.append((row, count, score, self.outcome(row, score)))
        return rows


class ItemCounts:
    """Answers per score for each item: ``counts[i][r]`` answers of score ``r`` to item ``i``."""

    __slots__ = ("counts",)

    def __init__(self, items: int, scale: int) -> None:
        self.counts = [[0] * (scale + 1) for _ in range(items)]

    def copy(self) -> ItemCounts:
        """An independent copy."""
        twin = ItemCounts(0, 0)
        twin.counts = [list(c) for c in self.counts]
        return twin

    def merge(self, other: ItemCounts) -> None:
        """Add ``other``'s counts."""
        for mine, theirs in zip(self.counts, other.counts, strict=True):
            for j, count in enumerate(theirs):
                mine[j] += count

    def add(self, row: Sequence[int | bool | None], count: int = 1) -> None:
        """Count one tuple of scores (``None`` = not answered) ``count`` times."""
        counts = self.counts
        for i, r in enumerate(row):
            if r is not None:
                counts[i][r] += count

    def fold(self, rows: Iterable[ScoredRow]) -> None:
        """Count scored rating tuples."""
        for row, count, _score, _y in rows:
            self.add(row, count)

    def csat_counts(self, overall: int | None) -> list[int]:
        """Answers per score that CSAT reads: the overall item's, or every item pooled."""
        if overall is not None:
            return self.counts[overall]
        return [sum(column) for column in zip(*self.counts, strict=True)]

    def pooled_mean(self, members: Iterable[int]) -> float | None:
        """The mean score over the answers to the ``members`` items (``None``: no answers)."""
        count_lists = [self.counts[i] for i in members]
        n = sum(sum(counts) for counts in count_lists)
        if n == 0:
            return None
        return sum(r * c for counts in count_lists for r, c in enumerate(counts)) / n

    def item_results(
        self,
        survey: Survey,
        cutoff: int,
        z: float,
        level: float,
        method: ScoreMethod = ScoreMethod.SHARE_OF_SCALE,
    ) -> tuple[ItemResult, ...]:
        """The statistics of every item: distribution, mean with interval, CSAT.

        ``mean_score`` is the mean as a score out of 100 by ``method``.
        """
        offset, span = score_span(survey.scale, method)
        results: list[ItemResult] = []
        for item, counts in zip(survey.items, self.counts, strict=True):
            n = sum(counts)
            distribution = tuple(counts[1:])
            if n == 0:
                results.append(
                    ItemResult(item.key, item.dimension, 0, None, None, None, None, distribution)
                )
                continue
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
            results.append(
                ItemResult(
                    key=item.key,
                    dimension=item.dimension,
                    responses=n,
                    mean=Estimate(mean, n, sd, interval),
                    mean_score=(mean - offset) * 100 / span,
                    csat=100.0 * top / n,
                    csat_interval=percent_interval(top, n, level),
                    distribution=distribution,
                )
            )
        return tuple(results)


def servqual_gaps_of(
    survey: Survey, perceived: ItemCounts, expected: ItemCounts
) -> dict[Dimension, float]:
    """Perceived minus expected mean per SERVQUAL dimension that has both (docs/domain.md 5)."""
    gaps: dict[Dimension, float] = {}
    for dimension in Dimension:
        members = [i for i, it in enumerate(survey.items) if it.dimension is dimension]
        perceived_mean = perceived.pooled_mean(members)
        expected_mean = expected.pooled_mean(members)
        if perceived_mean is not None and expected_mean is not None:
            gaps[dimension] = perceived_mean - expected_mean
    return gaps


class ScoreSums:
    """The weighted scores: how many, how many satisfied, their sum and sum of squares."""

    __slots__ = ("satisfied", "scored", "squares", "total")

    def __init__(self) -> None:
        self.scored = 0
        self.satisfied = 0
        self.total = 0.0
        self.squares = 0.0

    def copy(self) -> ScoreSums:
        """An independent copy."""
        twin = ScoreSums()
        twin.scored, twin.satisfied = self.scored, self.satisfied
        twin.total, twin.squares = self.total, self.squares
        return twin

    def merge(self, other: ScoreSums) -> None:
        """Add ``other``'s sums."""
        self.scored += other.scored
        self.satisfied += other.satisfied
        self.total += other.total
        self.squares += other.squares

    def fold(self, rows: Iterable[ScoredRow], threshold: float) -> None:
        """Add the scores of scored rating tuples; ``threshold`` and up is satisfied."""
        scored = satisfied = 0
        terms: list[float] = []
        squares: list[float] = []
        for _row, count, score, _y in rows:
            if score is not None:
                scored += count
                terms.append(score * count)
                squares.append(score * score * count)
                if score >= threshold:
                    satisfied += count
        self.scored += scored
        self.satisfied += satisfied
        self.total = math.fsum([self.total, *terms])
        self.squares = math.fsum([self.squares, *squares])

    def estimate(self, z: float) -> Estimate | None:
        """The mean weighted score (the index) with its normal-approximation interval."""
        n = self.scored
        if not n:
            return None
        mean = self.total / n
        if n < 2:
            return Estimate(mean, n, None, None)
        variance = max(0.0, (self.squares - self.total * self.total / n) / (n - 1))
        sd = math.sqrt(variance)
        half = z * sd / math.sqrt(n)
        return Estimate(mean, n, sd, Interval(mean - half, mean + half))

    @property
    def satisfied_share(self) -> float | None:
        """Percent of scored customers who are satisfied."""
        return None if self.scored == 0 else 100.0 * self.satisfied / self.scored

    @property
    def unanimous(self) -> bool:
        """Every scored customer is satisfied (the documents' "100 % satisfied" warning)."""
        return self.scored > 0 and self.satisfied == self.scored


class DriverSums:
    """Per item: answers, sum x, sum x^2 (exact integers) and sum y, y^2, x*y (floats).

    ``x`` is the item's rating, ``y`` the overall figure; the least-squares slope of ``y``
    on ``x`` says how much the item moves the overall score.
    """

    __slots__ = ("items", "n", "x", "xx", "xy", "y", "yy")

    def __init__(self, items: int, overall: int | None) -> None:
        self.items = [i for i in range(items) if i != overall]
        self.n = [0] * items
        self.x = [0] * items
        self.xx = [0] * items
        self.y = [0.0] * items
        self.yy = [0.0] * items
        self.xy = [0.0] * items

    def copy(self) -> DriverSums:
        """An independent copy."""
        twin = DriverSums(0, None)
        twin.items = list(self.items)
        for name in ("n", "x", "xx", "y", "yy", "xy"):
            setattr(twin, name, list(getattr(self, name)))
        return twin

    def merge(self, other: DriverSums) -> None:
        """Add ``other``'s sums."""
        for name in ("n", "x", "xx", "y", "yy", "xy"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for i, value in enumerate(theirs):
                mine[i] += value

    def fold(self, rows: Iterable[ScoredRow]) -> None:
        """Add the rating tuples that have an overall figure."""
        items = self.items
        y_terms: list[list[float]] = [[] for _ in self.n]
        yy_terms: list[list[float]] = [[] for _ in self.n]
        xy_terms: list[list[float]] = [[] for _ in self.n]
        for row, count, _score, y in rows:
            if y is None:
                continue
            yc = y * count
            yyc = y * yc
            for i in items:
                x = row[i]
                if x is None:
                    continue
                self.n[i] += count
                self.x[i] += x * count
                self.xx[i] += x * x * count
                y_terms[i].append(yc)
                yy_terms[i].append(yyc)
                xy_terms[i].append(x * yc)
        for i in items:
            self.y[i] = math.fsum([self.y[i], *y_terms[i]])
            self.yy[i] = math.fsum([self.yy[i], *yy_terms[i]])
            self.xy[i] = math.fsum([self.xy[i], *xy_terms[i]])

    def drivers(self, survey: Survey, unit: float) -> tuple[Driver, ...]:
        """The items other than the overall one, strongest slope first (docs/domain.md 5)."""
        found: list[Driver] = []
        for i in self.items:
            n, sx, sxx = self.n[i], self.x[i], self.xx[i]
            sy, syy, sxy = self.y[i], self.yy[i], self.xy[i]
            slope = correlation = None
            if n > 1:
                var_x = (n * sxx - sx * sx) / n
                var_y = syy - sy * sy / n
                cov = sxy - sx * sy / n
                if var_x > 0:
                    slope = cov / (var_x * unit)
                    if var_y > SLACK * max(1.0, syy):
                        correlation = max(-1.0, min(1.0, cov / math.sqrt(var_x * var_y)))
            found.append(Driver(survey.items[i].key, n, slope, correlation))
        found.sort(key=lambda d: (d.slope is None, -(d.slope or 0.0)))
        return tuple(found)


class RatingSums:
    """What distinct rating tuples fold into: item counts, score sums, driver sums."""

    __slots__ = ("drivers", "items", "scores")

    def __init__(self, items: int, scale: int, overall: int | None) -> None:
        self.items = ItemCounts(items, scale)
        self.scores = ScoreSums()
        self.drivers = DriverSums(items, overall)

    def copy(self) -> RatingSums:
        """An independent copy."""
        twin = RatingSums(0, 0, None)
        twin.items = self.items.copy()
        twin.scores = self.scores.copy()
        twin.drivers = self.drivers.copy()
        return twin

    def merge(self, other: RatingSums) -> None:
        """Add ``other``'s sums."""
        self.items.merge(other.items)
        self.scores.merge(other.scores)
        self.drivers.merge(other.drivers)

    def fold(self, profiles: Counter[Row], scoring: Scoring) -> None:
        """Add counted rating tuples, each scored once."""
        rows = scoring.scored(profiles)
        self.items.fold(rows)
        self.scores.fold(rows, scoring.threshold)
        self.drivers.fold(rows)


class AnswerCounts:
    """The (NPS score, repurchased, would recommend) answers and how often each was given."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: Counter[Row] = Counter()

    def nps(self, policy: SatisfactionPolicy) -> tuple[int, int, int]:
        """NPS answers, promoters and detractors under the policy's bands."""
        n = promoters = detractors = 0
        for (score, _repurchased, _recommends), count in self.counts.items():
            if score is not None:
                n += count
                if score >= policy.nps_promoter_min:
                    promoters += count
                elif score <= policy.nps_detractor_max:
                    detractors += count
        return n, promoters, detractors

    def loyalty(self) -> LoyaltyResult:
        """Repurchase, recommendation and both, kept apart from satisfaction (docs/domain.md 5)."""
        rep = rep_n = rec = rec_n = loyal = loyal_n = 0
        for (_score, repurchased, recommends), count in self.counts.items():
            if repurchased is not None:
                rep_n += count
                rep += count if repurchased else 0
            if recommends is not None:
                rec_n += count
                rec += count if recommends else 0
            if repurchased is not None and recommends is not None:
                loyal_n += count
                loyal += count if repurchased and recommends else 0
        return LoyaltyResult(rep, rep_n, rec, rec_n, loyal, loyal_n)
