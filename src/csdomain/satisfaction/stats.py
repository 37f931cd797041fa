"""Streaming, mergeable statistics of a survey's responses (DOMAIN.md 5).

:class:`SurveyStats` counts identical answers instead of keeping responses, so adding a
million rows costs about what a :class:`collections.Counter` pass costs, and the result
does not depend on the order of the responses or on how the work was split (float sums
use ``math.fsum``). :meth:`SurveyStats.result` gives a frozen
:class:`~csdomain.satisfaction.results.SurveyResult`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeAlias

from csdomain.errors import ValidationError
from csdomain.satisfaction._checks import _is_int, _optional_count, _score
from csdomain.satisfaction.campaigns import SurveyCampaign
from csdomain.satisfaction.policy import SatisfactionPolicy
from csdomain.satisfaction.results import (
    Coverage,
    Driver,
    Estimate,
    ItemResult,
    LoyaltyResult,
    SurveyResult,
)
from csdomain.satisfaction.scores import Dimension, Interval, _bounded, wilson_interval
from csdomain.satisfaction.surveys import Survey, SurveyItem, SurveyResponse


__all__ = [
    "SurveyStats",
]


#: Floating-point slack when a weighted score is compared with the satisfied threshold.
_SLACK = 1e-9

# -- streaming statistics --------------------------------------------------------------

Row: TypeAlias = tuple[int | bool | None, ...]

_NO_TAIL: Row = (None, None, None)


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
