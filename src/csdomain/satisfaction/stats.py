"""Streaming, mergeable statistics of a survey's responses (docs/domain.md 5).

:class:`SurveyStats` counts identical answers instead of keeping responses, so adding a
million rows costs about what a :class:`collections.Counter` pass costs, and the result
does not depend on the order of the responses or on how the work was split (float sums
use ``math.fsum``). It checks what comes in, keeps the distinct tuples of ratings with
their counts and hands them, when a result is asked for, to one accumulator per
statistic (:mod:`csdomain.satisfaction.accumulators`); :meth:`SurveyStats.result` gives
the frozen :class:`~csdomain.satisfaction.results.SurveyResult`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from csdomain.errors import ValidationError, describe
from csdomain.satisfaction import _checks as check
from csdomain.satisfaction.accumulators import (
    AnswerCounts,
    ItemCounts,
    RatingSums,
    Row,
    Scoring,
    percent_interval,
    servqual_gaps_of,
)
from csdomain.satisfaction.campaigns import SurveyCampaign
from csdomain.satisfaction.policy import SatisfactionPolicy
from csdomain.satisfaction.results import Coverage, SurveyResult
from csdomain.satisfaction.surveys import Survey, SurveyResponse


__all__ = ["SurveyStats"]

_NO_TAIL: Row = (None, None, None)


def _distinct(values: Iterable[object]) -> Iterable[object]:
    """The distinct values, or all of them when some cannot be hashed."""
    items = tuple(values)
    try:
        return set(items)
    except TypeError:
        return items


def _rating_errors(survey: Survey, keys: Iterable[Row]) -> list[tuple[str, str]]:
    """What is wrong with tuples of item ratings (each value checked once per position)."""
    items = survey.item_keys
    k = len(items)
    errors: list[tuple[str, str]] = []
    distinct = list(keys)
    bad_length = {len(key) for key in distinct} - {k}
    if bad_length:
        return [("ratings", f"expected {k} item ratings, got {min(bad_length)} values")]
    for j, values in enumerate(map(_distinct, zip(*distinct, strict=True))):
        for value in values:
            if value is not None:
                try:
                    check.score(value, 1, survey.scale, f"ratings.{items[j]}")
                except ValidationError as err:
                    errors.extend(err.errors)
    return errors


def _tail_errors(keys: Iterable[Row]) -> list[tuple[str, str]]:
    """What is wrong with (NPS, repurchased, would recommend) answers."""
    errors: list[tuple[str, str]] = []
    for nps_score, *loyalty in keys:
        if nps_score is not None:
            try:
                check.score(nps_score, 0, 10, "nps_score")
            except ValidationError as err:
                errors.extend(err.errors)
        for name, value in zip(("repurchased", "would_recommend"), loyalty, strict=True):
            if value is not None and not isinstance(value, bool):
                errors.append((name, f"expected true, false or none: {describe(value)}"))
    return sorted(set(errors))


class SurveyStats:
    """Streaming, mergeable statistics of one survey's responses (docs/domain.md 5).

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
        "_answers",
        "_count",
        "_expectations",
        "_folded",
        "_index",
        "_max_profiles",
        "_policy",
        "_profiles",
        "_result",
        "_scoring",
        "_survey",
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
            raise ValidationError.at("survey", f"expected a Survey, got {type(survey).__name__}")
        policy = SatisfactionPolicy() if policy is None else policy
        if not isinstance(policy, SatisfactionPolicy):
            msg = f"expected a SatisfactionPolicy, got {type(policy).__name__}"
            raise ValidationError.at("policy", msg)
        if policy.csat_top_boxes >= survey.scale:
            boxes = policy.csat_top_boxes
            msg = f"{boxes} top boxes leave nothing below on a {survey.scale}-point scale"
            raise ValidationError.at("policy.csat_top_boxes", msg)
        self._survey = survey
        self._policy = policy
        self.invited = check.optional_count(invited, "invited")
        self.customer_base = check.optional_count(customer_base, "customer_base")
        if (
            self.invited is not None
            and self.customer_base is not None
            and self.invited > self.customer_base
        ):
            raise ValidationError.at("customer_base", "fewer customers than invited")
        if not check.is_int(max_profiles) or max_profiles < 1:
            msg = f"must be a positive integer: {describe(max_profiles)}"
            raise ValidationError.at("max_profiles", msg)
        self._max_profiles = int(max_profiles)
        self._index = {key: i for i, key in enumerate(survey.item_keys)}
        self._scoring = Scoring(survey, policy)
        #: Distinct tuples of item ratings and how often each was given.
        self._profiles: Counter[Row] = Counter()
        #: Rating tuples folded into sums once there were more than ``max_profiles``.
        self._folded: RatingSums | None = None
        self._answers = AnswerCounts()
        self._expectations = ItemCounts(len(survey.items), survey.scale)
        self._count = 0
        self._result: SurveyResult | None = None

    @classmethod
    def for_campaign(
        cls, survey: Survey, campaign: SurveyCampaign, policy: SatisfactionPolicy | None = None
    ) -> SurveyStats:
        """An accumulator whose coverage uses the campaign's invitations and customer base."""
        if campaign.survey_id != survey.id:
            msg = (
                f"campaign {describe(campaign.id)} runs survey {describe(campaign.survey_id)}, "
                f"not {describe(survey.id)}"
            )
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
        return f"SurveyStats(survey={describe(self._survey.id)}, responses={self._count})"

    # -- adding ------------------------------------------------------------------------

    def add(self, response: SurveyResponse) -> None:
        """Count one stored response (checked against the survey first)."""
        self._survey.check_response(response)
        index = self._index
        ratings: list[int | None] = [None] * len(index)
        for key, value in response.ratings.items():
            ratings[index[key]] = value
        self._profiles[tuple(ratings)] += 1
        answer = (response.nps_score, response.repurchased, response.would_recommend)
        self._answers.counts[answer] += 1
        expected = self._expectations.counts
        for key, value in response.expectations.items():
            expected[index[key]][value] += 1
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
        counts = self._profiles
        answers = self._answers.counts
        try:
            seen = counts.get(key)
            seen_tail = answers.get(tail)
        except TypeError:
            seen = seen_tail = None
        if seen is None or seen_tail is None:
            errors = _rating_errors(self._survey, (key,)) + _tail_errors((tail,))
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
        errors = _rating_errors(self._survey, (expected,))
        if errors:
            raise ValidationError(
                [(path.replace("ratings", "expectations", 1), m) for path, m in errors]
            )
        self._expectations.add(expected)

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
                    if not check.is_int(count) or count < 1:
                        msg = (
                            f"count of {describe(row)} must be a whole number >= 1: "
                            f"{describe(count)}"
                        )
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
        errors = _rating_errors(self._survey, ratings) + _tail_errors(tails)
        if errors:
            raise ValidationError(errors)
        self._profiles.update(ratings)
        self._answers.counts.update(tails)
        added = batch.total()
        self._count += added
        self._counted()
        return added

    def _counted(self) -> None:
        self._result = None
        if len(self._profiles) > self._max_profiles:
            self._compact()

    def _compact(self) -> None:
        """Fold the distinct rating tuples into running sums (memory stays bounded)."""
        survey = self._survey
        folded = self._folded or RatingSums(len(survey.items), survey.scale, self._scoring.overall)
        folded.fold(self._profiles, self._scoring)
        self._folded = folded
        self._profiles = Counter()

    def merge(self, other: SurveyStats) -> SurveyStats:
        """Add ``other``'s responses to this accumulator (in place) and return it."""
        if not isinstance(other, SurveyStats):
            raise ValidationError.at("other", f"expected SurveyStats, got {type(other).__name__}")
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
        self._profiles.update(other._profiles)
        self._answers.counts.update(other._answers.counts)
        if other._folded is not None:
            if self._folded is None:
                self._folded = other._folded.copy()
            else:
                self._folded.merge(other._folded)
        self._expectations.merge(other._expectations)
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

    # -- results -----------------------------------------------------------------------

    def result(self) -> SurveyResult:
        """The frozen figures for every response added so far."""
        if self._result is None:
            self._result = self._build()
        return self._result

    def _sums(self) -> RatingSums:
        """The folded sums plus every rating tuple not folded yet."""
        survey = self._survey
        scoring = self._scoring
        if self._folded is None:
            sums = RatingSums(len(survey.items), survey.scale, scoring.overall)
        else:
            sums = self._folded.copy()
        sums.fold(self._profiles, scoring)
        return sums

    def _build(self) -> SurveyResult:
        survey = self._survey
        policy = self._policy
        sums = self._sums()
        scores = sums.scores
        z = policy.confidence_z
        level = policy.confidence_level
        cutoff = survey.scale - policy.csat_top_boxes + 1
        csat_counts = sums.items.csat_counts(self._scoring.overall)
        csat_n = sum(csat_counts)
        csat_top = sum(csat_counts[cutoff:])
        nps_n, promoters, detractors = self._answers.nps(policy)
        return SurveyResult(
            survey_id=survey.id,
            responses=self._count,
            scored=scores.scored,
            csat=None if csat_n == 0 else 100.0 * csat_top / csat_n,
            csat_interval=percent_interval(csat_top, csat_n, level),
            nps=None if nps_n == 0 else 100.0 * (promoters - detractors) / nps_n,
            nps_responses=nps_n,
            promoters=promoters,
            passives=nps_n - promoters - detractors,
            detractors=detractors,
            score=scores.estimate(z),
            satisfied=scores.satisfied,
            satisfied_share=scores.satisfied_share,
            satisfied_interval=percent_interval(scores.satisfied, scores.scored, level),
            items=sums.items.item_results(survey, cutoff, z, level, policy.score_method),
            drivers=sums.drivers.drivers(survey, self._scoring.unit),
            servqual_gaps=servqual_gaps_of(survey, sums.items, self._expectations),
            loyalty=self._answers.loyalty(),
            coverage=Coverage(
                respondents=self._count,
                invited=self.invited,
                customer_base=self.customer_base,
                minimum=policy.coverage_minimum,
            ),
            suspicious_unanimity=scores.unanimous,
        )
