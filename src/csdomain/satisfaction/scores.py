"""Satisfaction scores: CSAT, NPS, weighted score, composite index, SERVQUAL (docs/domain.md 5).

:func:`csat` (top-box share), :func:`nps` (promoters minus detractors),
:func:`weighted_score` (items on a 1..scale scale, weighted, as 0..100: by default the
documents' score / scale x 100, see :class:`ScoreMethod`),
:func:`composite_index` (the documents' manufacturer formula, product weight 0.8),
:func:`servqual_gaps` (perception minus expectation per SERVQUAL dimension) and
:func:`wilson_interval`. A score outside its scale is a
:class:`~csdomain.errors.ValidationError` naming the value; nothing is clipped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from enum import StrEnum
from statistics import NormalDist

import attrs

from csdomain import validators as valid
from csdomain.errors import ValidationError, describe
from csdomain.satisfaction import _checks as check


__all__ = [
    "MAX_SCALE",
    "Dimension",
    "Interval",
    "RatingLabel",
    "ScoreMethod",
    "composite_index",
    "csat",
    "nps",
    "rating_label",
    "rating_score",
    "servqual_gaps",
    "weighted_score",
    "wilson_interval",
]


#: The largest rating scale a survey may use (points, e.g. 5 for the five-point scale).
MAX_SCALE = 100


class Dimension(StrEnum):
    """The five service-quality dimensions (SERVQUAL, docs/domain.md 5)."""

    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"
    TANGIBLES = "tangibles"


class RatingLabel(StrEnum):
    """The five points of the documents' scale, from 5 (very satisfied) down to 1."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


class ScoreMethod(StrEnum):
    """How a rating on a ``1..scale`` survey becomes a score out of 100.

    Source: docs/domain.md 5 (调查项目合计平均分数85分以上为顾客满意: the average of the
    item scores out of 100 is 85 or more). The documents read a score out of 100 as the
    rating's share of the scale, so :attr:`SHARE_OF_SCALE` is the default; a 100-point
    survey answered 85 scores 85, a five-point one answered 4 ("satisfied") scores 80.
    :attr:`NORMALISED` is the named alternative that puts the bottom of the scale at 0.
    """

    #: ``rating / scale x 100``: the documents' score out of 100 (the default).
    SHARE_OF_SCALE = "share_of_scale"
    #: ``(rating - 1) / (scale - 1) x 100``: the lowest rating scores 0.
    NORMALISED = "normalised"


def _to_method(value: ScoreMethod | str) -> ScoreMethod:
    return valid.enum_value(ScoreMethod, value, "method")


def score_span(scale: int, method: ScoreMethod) -> tuple[int, int]:
    """``(offset, span)`` with ``score = (rating - offset) * 100 / span`` for ``method``."""
    offset = 1 if method is ScoreMethod.NORMALISED else 0
    return offset, scale - offset


def rating_score(
    rating: float, scale: int = 5, method: ScoreMethod | str = ScoreMethod.SHARE_OF_SCALE
) -> float:
    """One rating (or a mean of ratings) on ``1..scale`` as a score out of 100.

    Source: docs/domain.md 5; see :class:`ScoreMethod` for the two readings.
    """
    scale = _check_scale(scale)
    value = check.in_range(rating, 1, scale, "rating")
    offset, span = score_span(scale, _to_method(method))
    return _bounded((value - offset) * 100 / span)


_LABELS = {
    5: RatingLabel.VERY_SATISFIED,
    4: RatingLabel.SATISFIED,
    3: RatingLabel.NEUTRAL,
    2: RatingLabel.DISSATISFIED,
    1: RatingLabel.VERY_DISSATISFIED,
}


def _check_scale(scale: object, path: str = "scale") -> int:
    if not check.is_int(scale):
        msg = f"a rating scale has 2..{MAX_SCALE} points, got {describe(scale)}"
        raise ValidationError.at(path, msg)
    return check.whole(scale, 2, MAX_SCALE, path)


def _check_top_boxes(top_boxes: object, scale: int) -> int:
    return check.whole(top_boxes, 1, scale - 1, "top_boxes")


def _count_scores(scores: Iterable[int], low: int, high: int) -> Counter[int]:
    if isinstance(scores, str | bytes | Mapping):
        raise ValidationError.at("scores", "expected an iterable of whole-number scores")
    try:
        counts: Counter[int] = Counter(scores)
    except TypeError as err:
        msg = f"expected an iterable of whole-number scores ({err})"
        raise ValidationError.at("scores", msg) from None
    for value in counts:
        check.score(value, low, high, "scores")
    return counts


# -- scores ----------------------------------------------------------------------------


def rating_label(score: int) -> RatingLabel:
    """The five-point label of a rating (5 very satisfied ... 1 very dissatisfied)."""
    return _LABELS[check.score(score, 1, 5, "score")]


def csat(scores: Iterable[int], scale: int = 5, *, top_boxes: int = 2) -> float | None:
    """Percentage (0..100) of responses in the top boxes: 4 and 5 on a five-point scale.

    ``None`` when there are no responses. docs/domain.md 5 (five-point scale).
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
    check.score(promoter_min, 1, 10, "promoter_min")
    check.score(detractor_max, 0, 9, "detractor_max")
    if detractor_max >= promoter_min:  # type: ignore[operator]
        raise ValidationError.at("detractor_max", "must be below promoter_min")


def weighted_score(
    ratings: Mapping[str, int | float],
    weights: Mapping[str, float],
    scale: int = 5,
    *,
    method: ScoreMethod | str = ScoreMethod.SHARE_OF_SCALE,
) -> float:
    """Weighted mean of the item scores out of 100 (by default ``rating / scale x 100``).

    Source: docs/domain.md 5: survey items (quality, price, delivery, packaging,
    after-sales) each have a weight, and a customer whose weighted average item score out
    of 100 is 85 or more is satisfied (调查项目合计平均分数85分以上为顾客满意). ``method``
    picks how a rating becomes a score (:class:`ScoreMethod`; ``normalised`` is
    ``(r - 1) / (scale - 1) * 100``). Weights need not sum to 1. A rating outside
    ``1..scale``, a rated item without a weight, a negative weight or a zero total weight
    is a ValidationError.
    """
    scale = _check_scale(scale)
    offset, span = score_span(scale, _to_method(method))
    if not isinstance(ratings, Mapping) or not isinstance(weights, Mapping):
        raise ValidationError.at("ratings", "ratings and weights must be mappings")
    checked = {key: _weight(w, f"weights.{key}") for key, w in weights.items()}
    numerator = 0.0
    total = 0.0
    for key, rating in ratings.items():
        value = check.in_range(rating, 1, scale, f"ratings.{key}")
        if key not in checked:
            raise ValidationError.at(f"weights.{key}", "no weight for a rated item")
        numerator += checked[key] * (value - offset)
        total += checked[key]
    if total <= 0:
        raise ValidationError.at("weights", "the rated items have zero total weight")
    return _bounded(numerator * 100 / (total * span))


def _weight(value: object, path: str) -> float:
    result = check.finite(value, path)
    if result < 0:
        raise ValidationError.at(path, f"a weight must not be negative, got {describe(value)}")
    return result


def _bounded(score: float) -> float:
    """Keep a computed 0..100 score inside its range against floating-point rounding."""
    return min(100.0, max(0.0, score))


def composite_index(product: float, service: float, product_weight: float = 0.8) -> float:
    """Manufacturer satisfaction = product x w + service x (1 - w), both on 0..100.

    docs/domain.md 5: w = 0.8 when the industry norm is unknown.
    """
    p = check.in_range(product, 0, 100, "product")
    s = check.in_range(service, 0, 100, "service")
    w = check.in_range(product_weight, 0, 1, "product_weight")
    return _bounded(p * w + s * (1 - w))


def servqual_gaps(
    expectations: Mapping[Dimension | str, Iterable[float]],
    perceptions: Mapping[Dimension | str, Iterable[float]],
    *,
    scale: int = 5,
) -> dict[Dimension, float]:
    """Perception minus expectation per SERVQUAL dimension, each the mean over its items.

    docs/domain.md 5: satisfaction is perceived performance compared with expectation, over
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
        dimension = valid.enum_value(Dimension, key, path)
        where = f"{path}.{dimension.value}"
        if isinstance(scores, str | bytes) or not isinstance(scores, Iterable):
            raise ValidationError.at(where, "expected the item scores of the dimension")
        values = [check.in_range(v, 1, scale, f"{where}.{i}") for i, v in enumerate(scores)]
        if not values:
            raise ValidationError.at(where, "a dimension needs at least one item score")
        means[dimension] = math.fsum(values) / len(values)
    return means


@attrs.frozen
class Interval:
    """A confidence interval ``low..high`` in the unit of the figure it belongs to."""

    low: float = attrs.field(validator=valid.number)
    high: float = attrs.field(validator=valid.number)

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion, as fractions 0..1; ``None`` when ``n == 0``."""
    n = check.count(n, "n")
    successes = check.count(successes, "successes")
    if successes > n:
        raise ValidationError.at("successes", f"{successes} successes out of {n} trials")
    level = check.fraction(confidence, "confidence")
    if n == 0:
        return None
    z = _z(level)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))
