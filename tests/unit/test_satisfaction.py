"""Satisfaction scores, surveys, streaming statistics and monitoring (docs/domain.md 5)."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.lifecycle import command_table, command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.satisfaction import (
    CAMPAIGN_INITIAL,
    CAMPAIGN_LIFECYCLE,
    CAMPAIGN_TERMINAL,
    CAMPAIGN_TRANSITIONS,
    MONITOR_INITIAL,
    MONITOR_LIFECYCLE,
    MONITOR_TERMINAL,
    MONITOR_TRANSITIONS,
    CampaignStatus,
    CorrectiveAction,
    Dimension,
    Interval,
    Measurement,
    MonitorStatus,
    OpenQuestion,
    RatingLabel,
    SatisfactionMonitor,
    SatisfactionPolicy,
    ScoreMethod,
    Survey,
    SurveyCampaign,
    SurveyItem,
    SurveyRequested,
    SurveyResponse,
    SurveyStats,
    SurveySubject,
    composite_index,
    csat,
    expected_gain,
    is_survey_season,
    key_account_visit_due,
    next_key_account_visit,
    nps,
    post_service_survey,
    rating_label,
    rating_score,
    satisfaction_cost,
    servqual_gaps,
    weighted_score,
    wilson_interval,
)
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_satisfaction import (
    satisfaction_monitors,
    satisfaction_policies,
    survey_campaigns,
    survey_requests,
    survey_responses,
    survey_rows,
    surveys,
    surveys_with_responses,
)


T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
MANAGER = Actor("m1", frozenset({"cs_manager"}))
CLERK = Actor("w1", frozenset({"warehouse"}))
ACCESS = AccessPolicy()
NORMALISED = ScoreMethod.NORMALISED
#: The named alternative scoring, (rating - 1) / (scale - 1) x 100.
NORMALISED_POLICY = SatisfactionPolicy(score_method=NORMALISED)


def two_item_survey(**changes: object) -> Survey:
    fields: dict[str, object] = {
        "id": "S1",
        "title": "Service",
        "items": (SurveyItem("a", "Quality", 3.0), SurveyItem("b", "Price", 1.0)),
    }
    fields.update(changes)
    return Survey(**fields)  # type: ignore[arg-type]


def response(n: int, ratings: dict[str, int], **extra: object) -> SurveyResponse:
    return SurveyResponse(
        id=f"R{n}",
        survey_id="S1",
        customer_id=f"C{n}",
        answered_at=T0,
        ratings=ratings,
        **extra,  # type: ignore[arg-type]
    )


# -- scores: known values --------------------------------------------------------------


def test_csat_counts_the_top_two_boxes_of_a_five_point_scale() -> None:
    # 5, 4, 4 are in the top boxes (4 and 5): 3 of 6 answers = 50 %.
    assert csat([5, 4, 3, 2, 1, 4]) == 50.0


def test_csat_top_boxes_follow_the_scale() -> None:
    # On a 7-point scale the top two boxes are 6 and 7: 2 of 4 = 50 %; top box only: 25 %.
    assert csat([7, 6, 5, 4], scale=7) == 50.0
    assert csat([7, 6, 5, 4], scale=7, top_boxes=1) == 25.0


def test_csat_and_nps_of_no_responses_are_none() -> None:
    assert csat([]) is None
    assert nps([]) is None


def test_nps_is_percent_promoters_minus_percent_detractors() -> None:
    # promoters 10, 10, 9 (3), detractors 5 (1), passive 8: (3 - 1) / 5 = 40.
    assert nps([10, 10, 9, 8, 5]) == 40.0
    # 3 promoters, 3 detractors (6, 3, 0) of 8: 0.
    assert nps([10, 9, 9, 8, 7, 6, 3, 0]) == 0.0
    assert nps([0, 6]) == -100.0


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda: csat([5, 6]), "6"),
        (lambda: csat([0, 3]), "0"),
        (lambda: csat([4.5]), "4.5"),
        (lambda: nps([11]), "11"),
        (lambda: nps([-1]), "-1"),
        (lambda: weighted_score({"a": 7}, {"a": 1}), "7"),
        (lambda: weighted_score({"a": 0.5}, {"a": 1}), "0.5"),
        (lambda: composite_index(101, 50), "101"),
        (lambda: composite_index(80, -3), "-3"),
        (lambda: servqual_gaps({"empathy": [9]}, {"empathy": [3]}), "9"),
    ],
)
def test_out_of_range_scores_raise_naming_the_value(call: object, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        call()  # type: ignore[operator]
    assert bad in str(caught.value)


def test_csat_refuses_something_that_is_not_scores() -> None:
    with pytest.raises(ValidationError):
        csat("54321")
    with pytest.raises(ValidationError):
        csat([[5]])  # type: ignore[list-item]


def test_weighted_score_normalises_each_rating_then_weights() -> None:
    # the named alternative: quality 5 -> (5-1)/4*100 = 100, price 3 -> 50;
    # (3*100 + 1*50) / (3+1) = 87.5
    ratings, weights = {"quality": 5, "price": 3}, {"quality": 3, "price": 1}
    assert weighted_score(ratings, weights, method=NORMALISED) == 87.5
    # weights need not sum to 1: 0.3 and 0.1 give the same result
    assert weighted_score({"q": 5, "p": 3}, {"q": 0.3, "p": 0.1}, method="normalised") == (
        pytest.approx(87.5)
    )
    # 7-point scale: 4 -> (4-1)/6*100 = 50
    assert weighted_score({"q": 4}, {"q": 2}, scale=7, method=NORMALISED) == 50.0


def test_item_score_is_the_rating_out_of_100_as_the_documents_count_it() -> None:
    # 调查项目合计平均分数85分以上为顾客满意: score / scale x 100 is the default.
    # quality 5 -> 100, price 3 -> 60; (3*100 + 1*60) / 4 = 90
    assert weighted_score({"quality": 5, "price": 3}, {"quality": 3, "price": 1}) == 90.0
    # a 100-point survey answered 85 everywhere scores 85 (84.85 when normalised)
    assert weighted_score({"a": 85, "b": 85}, {"a": 1, "b": 1}, scale=100) == 85.0
    assert weighted_score({"a": 85}, {"a": 1}, scale=100, method=NORMALISED) == (
        pytest.approx(84.848, abs=1e-3)
    )
    # a five-point "satisfied" (4) everywhere scores 80 (75 when normalised)
    assert rating_score(4) == 80.0
    assert rating_score(4, method=NORMALISED) == 75.0
    assert rating_score(85, scale=100) == 85.0


def test_satisfied_at_85_by_the_documents_scoring_of_the_supplier_survey() -> None:
    # weights 3,1,1,1,2 (quality, price, delivery, packaging, after-sales), five answers:
    # 100, 85, 80, 52.5, 95 -> 3 satisfied (60 %), index 412.5 / 5 = 82.5
    survey = Survey.supplier(
        "S1",
        weights={
            "product_quality": 3,
            "price": 1,
            "delivery_time": 1,
            "packaging": 1,
            "after_sales_service": 2,
        },
    )
    answers = [(5, 5, 5, 5, 5), (5, 3, 4, 4, 4), (4, 4, 4, 4, 4), (3, 2, 3, 3, 2), (5, 4, 5, 4, 5)]
    stats = SurveyStats(survey)
    normalised = SurveyStats(survey, NORMALISED_POLICY)
    for row in answers:
        stats.add_scores(list(row))
        normalised.add_scores(list(row))
    result = stats.result()
    assert result.satisfied == 3
    assert result.satisfied_share == 60.0
    assert result.index == pytest.approx(82.5)
    # the normalised alternative: 100, 81.25, 75, 40.625, 93.75 -> 2 satisfied, 78.125
    other = normalised.result()
    assert (other.satisfied, other.satisfied_share) == (2, 40.0)
    assert other.index == pytest.approx(78.125)


def test_weighted_score_refuses_zero_weight_and_unweighted_items() -> None:
    with pytest.raises(ValidationError, match="zero total weight"):
        weighted_score({"a": 4}, {"a": 0})
    with pytest.raises(ValidationError) as caught:
        weighted_score({"a": 4, "b": 2}, {"a": 1})
    assert caught.value.errors[0][0] == "weights.b"
    with pytest.raises(ValidationError):
        weighted_score({"a": 4}, {"a": -1})


def test_composite_index_weights_product_0_8_and_service_0_2() -> None:
    # 90 x 0.8 + 70 x 0.2 = 72 + 14 = 86
    assert composite_index(90, 70) == pytest.approx(86.0)
    # an industry norm of 0.5: (90 + 70) / 2 = 80
    assert composite_index(90, 70, product_weight=0.5) == 80.0


def test_servqual_gap_is_perception_minus_expectation_per_dimension() -> None:
    gaps = servqual_gaps(
        {Dimension.RELIABILITY: [5, 4], "empathy": [3]},
        {"reliability": [4, 3], Dimension.EMPATHY: [4]},
    )
    # reliability: mean(4, 3) - mean(5, 4) = 3.5 - 4.5 = -1; empathy: 4 - 3 = +1
    assert gaps == {Dimension.RELIABILITY: -1.0, Dimension.EMPATHY: 1.0}


def test_servqual_needs_both_sides_of_each_dimension() -> None:
    with pytest.raises(ValidationError) as caught:
        servqual_gaps({"tangibles": [4]}, {"assurance": [4]})
    paths = {path for path, _ in caught.value.errors}
    assert paths == {"perceptions.tangibles", "expectations.assurance"}
    with pytest.raises(ValidationError):
        servqual_gaps({"kindness": [4]}, {"kindness": [4]})


def test_wilson_interval_known_value() -> None:
    # 8 of 10 at 95 %: z = 1.95996, centre (0.8 + 0.19207) / 1.38415 = 0.71673,
    # half-width 1.95996 * sqrt(0.016 + 0.0096037) / 1.38415 = 0.22657
    interval = wilson_interval(8, 10)
    assert interval is not None
    assert interval.low == pytest.approx(0.49016, abs=1e-4)
    assert interval.high == pytest.approx(0.94330, abs=1e-4)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValidationError):
        wilson_interval(11, 10)


def test_five_point_labels_run_from_very_satisfied_to_very_dissatisfied() -> None:
    assert rating_label(5) is RatingLabel.VERY_SATISFIED
    assert rating_label(3) is RatingLabel.NEUTRAL
    assert rating_label(1) is RatingLabel.VERY_DISSATISFIED
    with pytest.raises(ValidationError):
        rating_label(6)


def test_published_sensitivities_give_the_gain_of_ten_points() -> None:
    policy = SatisfactionPolicy()
    assert expected_gain("service_failure_response", 10, policy) == pytest.approx(4.6)
    assert expected_gain("image", 20, policy) == pytest.approx(8.4)
    assert expected_gain("product_quality", 10, policy) == pytest.approx(3.1)
    assert expected_gain("price_performance", 10, policy) == pytest.approx(0.6)
    with pytest.raises(ValidationError):
        expected_gain("weather", 10, policy)


def test_policy_defaults_are_the_documents_numbers() -> None:
    # Rule: the documents' numbers (docs/domain.md 5): satisfied at 85, w = 0.8, 75 %
    # coverage x response, surveys in Q4 and May, key accounts twice a year
    policy = SatisfactionPolicy()
    assert policy.satisfied_threshold == 85
    assert policy.product_weight == 0.8
    assert policy.coverage_minimum == 0.75
    assert policy.survey_months == {5, 10, 11, 12}
    assert policy.key_account_surveys_per_year == 2


def test_nps_bands_and_confidence_are_project_defaults() -> None:
    # Rule: the documents do not use NPS or intervals (docs/policy.md: project defaults):
    # the usual NPS bands (promoters 9-10, detractors 0-6) and 95 % intervals
    policy = SatisfactionPolicy()
    assert (policy.nps_promoter_min, policy.nps_detractor_max) == (9, 6)
    assert policy.confidence_level == 0.95
    assert policy.confidence_z == pytest.approx(1.959964, abs=1e-6)


def test_policy_refuses_impossible_values() -> None:
    with pytest.raises(ValidationError) as caught:
        SatisfactionPolicy(
            satisfied_threshold=120, nps_promoter_min=5, nps_detractor_max=7, survey_months={13}
        )
    paths = {path for path, _ in caught.value.errors}
    assert {"satisfied_threshold", "detractor_max", "survey_months"} <= paths


# -- surveys, season, key accounts -----------------------------------------------------


def test_supplier_survey_has_the_documents_five_items() -> None:
    survey = Survey.supplier("SUP", weights={"product_quality": 3})
    assert survey.item_keys == (
        "product_quality",
        "price",
        "delivery_time",
        "packaging",
        "after_sales_service",
    )
    assert survey.weights["product_quality"] == 3
    with pytest.raises(ValidationError):
        Survey.supplier("SUP", weights={"colour": 1})


def test_survey_refuses_duplicate_items_and_zero_weights() -> None:
    with pytest.raises(ValidationError) as caught:
        Survey("S", "t", (SurveyItem("a", weight=0.0), SurveyItem("a", weight=0.0)))
    messages = " ".join(m for _, m in caught.value.errors)
    assert "duplicate" in messages
    assert "zero" in messages
    with pytest.raises(ValidationError):
        Survey("S", "t", (SurveyItem("a"),), overall_item="b")
    with pytest.raises(ValidationError):
        Survey("S", "t", (SurveyItem("a"),), scale=1)


def test_response_outside_the_survey_scale_is_refused() -> None:
    survey = two_item_survey()
    with pytest.raises(ValidationError) as caught:
        survey.check_response(response(1, {"a": 6, "z": 3}))
    assert ("ratings.a", "6 is outside 1..5") in caught.value.errors
    assert ("ratings.z", "not an item of the survey") in caught.value.errors
    with pytest.raises(ValidationError):
        response(2, {"a": 3}, nps_score=11)
    with pytest.raises(ValidationError):
        SurveyResponse("R", "S1", "C", datetime(2024, 5, 1), {"a": 3})


def test_survey_score_is_the_weighted_score_of_the_rated_items() -> None:
    survey = two_item_survey()
    # normalised: a = 4 -> 75, b = 2 -> 25: (3*75 + 25) / 4 = 62.5
    assert survey.score(response(1, {"a": 4, "b": 2}), NORMALISED) == 62.5
    # only b rated: 25
    assert survey.score(response(2, {"b": 2}), NORMALISED) == 25.0
    assert survey.score(response(3, {})) is None
    # the documents' scoring: a = 4 -> 80, b = 2 -> 40: (3*80 + 40) / 4 = 70
    assert survey.score(response(1, {"a": 4, "b": 2})) == 70.0


def test_loyalty_needs_both_repurchase_and_recommendation() -> None:
    assert response(1, {}, repurchased=True, would_recommend=True).loyal is True
    assert response(1, {}, repurchased=True, would_recommend=False).loyal is False
    assert response(1, {}, repurchased=True).loyal is None


def test_surveys_run_in_q4_and_may() -> None:
    policy = SatisfactionPolicy()
    assert is_survey_season(date(2024, 5, 20), policy)
    assert is_survey_season(date(2024, 11, 2), policy)
    assert not is_survey_season(date(2024, 3, 1), policy)


def test_key_accounts_are_visited_twice_a_year() -> None:
    policy = SatisfactionPolicy()
    assert next_key_account_visit(date(2024, 1, 15), policy) == date(2024, 7, 15)
    assert not key_account_visit_due(date(2024, 1, 15), date(2024, 7, 14), policy)
    assert key_account_visit_due(date(2024, 1, 15), date(2024, 7, 15), policy)
    assert key_account_visit_due(None, date(2024, 1, 1), policy)


# -- statistics: a worked example ------------------------------------------------------


def worked_example(policy: SatisfactionPolicy = NORMALISED_POLICY) -> SurveyStats:
    """Four answers to a two-item survey (weights a=3, b=1, five-point scale), normalised.

    r1: a=5 b=5 -> (3*100 + 100)/4 = 100,   nps 10, repurchased yes, recommends yes
    r2: a=4 b=3 -> (3*75  + 50)/4  = 68.75, nps 8
    r3: a=5 b=1 -> (3*100 + 0)/4   = 75,    nps 3,  repurchased no,  recommends yes
    r4: a=3 b=4 -> (3*50  + 75)/4  = 56.25
    """
    stats = SurveyStats(two_item_survey(), policy, invited=5, customer_base=8)
    stats.add(response(1, {"a": 5, "b": 5}, nps_score=10, repurchased=True, would_recommend=True))
    stats.add(response(2, {"a": 4, "b": 3}, nps_score=8))
    stats.add(response(3, {"a": 5, "b": 1}, nps_score=3, repurchased=False, would_recommend=True))
    stats.add(response(4, {"a": 3, "b": 4}))
    return stats


def test_survey_stats_worked_example_scores() -> None:
    result = worked_example().result()
    assert result.responses == 4
    assert result.scored == 4
    # index = total score / customers = (100 + 68.75 + 75 + 56.25) / 4 = 300 / 4 = 75
    assert result.index == 75.0
    assert result.score is not None
    # deviations 25, -6.25, 0, -18.75: squares 625 + 39.0625 + 0 + 351.5625 = 1015.625
    assert result.score.sd == pytest.approx(math.sqrt(1015.625 / 3))
    # satisfied (>= 85): only r1, 1 of 4 = 25 %
    assert result.satisfied == 1
    assert result.satisfied_share == 25.0
    # CSAT pools both items: a has 5, 4, 5 in the top boxes, b has 5, 4: 5 of 8 = 62.5 %
    assert result.csat == 62.5
    assert result.csat_interval is not None
    assert 62.5 in result.csat_interval
    assert result.suspicious_unanimity is False


def test_survey_stats_worked_example_scores_the_documents_way_by_default() -> None:
    # r1 (3*100 + 100)/4 = 100, r2 (3*80 + 60)/4 = 75, r3 (3*100 + 20)/4 = 80,
    # r4 (3*60 + 80)/4 = 65: index 320 / 4 = 80, one satisfied
    result = worked_example(SatisfactionPolicy()).result()
    assert result.index == 80.0
    assert result.satisfied == 1
    # item a: mean 4.25 of 5 -> 85 points
    assert result.item("a").mean_score == pytest.approx(85.0)


def test_survey_stats_worked_example_items_nps_loyalty_coverage() -> None:
    result = worked_example().result()
    a = result.item("a")
    # a: 5, 4, 5, 3 -> mean 17/4 = 4.25; squared deviations 2.75 -> sd sqrt(2.75/3)
    assert a.mean is not None
    assert a.mean.value == 4.25
    assert a.mean.sd == pytest.approx(math.sqrt(2.75 / 3))
    assert a.mean_score == pytest.approx(81.25)  # (4.25 - 1) / 4 * 100
    assert a.distribution == (0, 0, 1, 1, 2)
    assert a.csat == 75.0
    # NPS: promoter 10, passive 8, detractor 3 of 3 answers -> (1 - 1) / 3 = 0
    assert (result.promoters, result.passives, result.detractors) == (1, 1, 1)
    assert result.nps == 0.0
    # loyalty kept apart: repurchased 1 of 2, recommends 2 of 2, loyal (both) 1 of 2
    assert result.loyalty.repurchase_rate == 50.0
    assert result.loyalty.recommend_rate == 100.0
    assert result.loyalty.loyal_share == 50.0
    # coverage 5/8 = 0.625, response rate 4/5 = 0.8, reach 4/8 = 0.5 < 0.75
    assert result.coverage.coverage == 0.625
    assert result.coverage.response_rate == 0.8
    assert result.coverage.reach == 0.5
    assert result.coverage.below_minimum is True


def test_one_hundred_percent_satisfied_is_flagged_as_suspicious() -> None:
    stats = SurveyStats(two_item_survey())
    for _ in range(3):
        stats.add_scores([5, 5])
    stats.add_scores([5, 4])  # (300 + 75) / 4 = 93.75, still satisfied
    result = stats.result()
    assert result.satisfied_share == 100.0
    assert result.suspicious_unanimity is True


def test_satisfied_threshold_is_inclusive_at_85() -> None:
    survey = Survey("S", "t", tuple(SurveyItem(k) for k in "abcde"))
    stats = SurveyStats(survey, NORMALISED_POLICY)
    # normalised: 5, 5, 4, 4, 4 -> (4 + 4 + 3 + 3 + 3) / 20 * 100 = 85 exactly: satisfied
    stats.add_scores([5, 5, 4, 4, 4])
    # 5, 4, 4, 4, 4 -> 16 / 20 * 100 = 80: not satisfied
    stats.add_scores([5, 4, 4, 4, 4])
    assert survey.score(
        SurveyResponse("R", "S", "C", T0, dict(zip("abcde", [5, 5, 4, 4, 4], strict=True))),
        NORMALISED,
    ) == pytest.approx(85.0)
    assert stats.result().satisfied == 1


def test_satisfied_at_85_points_is_inclusive_with_the_documents_scoring() -> None:
    survey = Survey("S", "t", tuple(SurveyItem(k) for k in "abcd"), scale=10)
    stats = SurveyStats(survey)
    # 9, 9, 8, 8 of 10 -> 34 / 40 * 100 = 85 exactly: satisfied; 9, 8, 8, 8 -> 82.5: not
    stats.add_scores([9, 9, 8, 8])
    stats.add_scores([9, 8, 8, 8])
    assert stats.result().satisfied == 1


def test_coverage_without_a_customer_base_has_no_flag() -> None:
    stats = SurveyStats(two_item_survey(), invited=4)
    stats.add_scores([4, 4])
    coverage = stats.result().coverage
    assert coverage.response_rate == 0.25
    assert coverage.reach is None
    assert coverage.below_minimum is None


def test_driver_slope_is_the_weight_share_when_other_items_are_constant() -> None:
    # a fixed at 4, b varies: score = (3*75 + b_norm)/4, so d score / d b_norm = 1/4
    stats = SurveyStats(two_item_survey())
    for b in (1, 2, 3, 4, 5, 3):
        stats.add_scores([4, b])
    result = stats.result()
    driver_b = next(d for d in result.drivers if d.item == "b")
    driver_a = next(d for d in result.drivers if d.item == "a")
    assert driver_b.slope == pytest.approx(0.25)
    assert driver_b.gain_per_10_points == pytest.approx(2.5)
    assert driver_b.correlation == pytest.approx(1.0)
    assert driver_a.slope is None  # no variation, nothing to learn
    assert result.top_driver == driver_b


def test_drivers_explain_the_overall_item_when_the_survey_has_one() -> None:
    survey = Survey(
        "S1",
        "t",
        (SurveyItem("overall", weight=0.0), SurveyItem("service"), SurveyItem("price")),
        overall_item="overall",
    )
    stats = SurveyStats(survey)
    # overall follows service exactly; price moves independently
    for service, price in [(1, 3), (2, 5), (3, 1), (4, 4), (5, 2), (3, 3)]:
        stats.add_scores([service, service, price])
    result = stats.result()
    assert [d.item for d in result.drivers] == ["service", "price"]
    assert result.drivers[0].slope == pytest.approx(1.0)
    assert result.drivers[0].correlation == pytest.approx(1.0)
    # CSAT comes from the overall item: 4, 5 of six answers -> 2/6
    assert result.csat == pytest.approx(100 * 2 / 6)


def test_servqual_gaps_from_survey_responses() -> None:
    survey = Survey(
        "S1",
        "t",
        (
            SurveyItem("on_time", dimension=Dimension.RELIABILITY),
            SurveyItem("as_promised", dimension="reliability"),
            SurveyItem("polite", dimension=Dimension.ASSURANCE),
        ),
    )
    stats = SurveyStats(survey)
    stats.add(
        response(
            1,
            {"on_time": 3, "as_promised": 4, "polite": 5},
            expectations={"on_time": 5, "as_promised": 5, "polite": 4},
        )
    )
    stats.add_scores([2, None, 4], expectations=[4, None, 4])
    gaps = stats.result().servqual_gaps
    # reliability: perceived (3 + 4 + 2)/3 = 3, expected (5 + 5 + 4)/3 = 14/3 -> -5/3
    assert gaps[Dimension.RELIABILITY] == pytest.approx(3 - 14 / 3)
    # assurance: perceived (5 + 4)/2 = 4.5, expected 4 -> +0.5
    assert gaps[Dimension.ASSURANCE] == pytest.approx(0.5)
    assert Dimension.EMPATHY not in gaps


def test_bad_rows_are_refused_and_nothing_is_counted() -> None:
    stats = SurveyStats(two_item_survey())
    stats.add_rows([(4, 4)])
    with pytest.raises(ValidationError) as caught:
        stats.add_rows([(5, 5), (4, 6), (3, 3, 12, None, None)])
    assert ("ratings.b", "6 is outside 1..5") in caught.value.errors
    assert ("nps_score", "12 is outside 0..10") in caught.value.errors
    assert stats.responses == 1
    with pytest.raises(ValidationError):
        stats.add_rows([(4,)])
    with pytest.raises(ValidationError):
        stats.add_rows([[4, 4]])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        stats.add_scores([4, 4], repurchased=1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        stats.add_scores([[4], 4])  # type: ignore[list-item]
    assert stats.responses == 1


def test_rows_as_counts_match_rows_one_by_one() -> None:
    grouped = SurveyStats(two_item_survey())
    assert grouped.add_rows({(4, 4): 3, (5, 2, 9, True, None): 2}) == 5
    single = SurveyStats(two_item_survey())
    single.add_rows([(4, 4)] * 3 + [(5, 2, 9, True, None)] * 2)
    assert grouped.result() == single.result()
    with pytest.raises(ValidationError):
        grouped.add_rows({(4, 4): 0})


def test_a_response_to_another_survey_is_refused() -> None:
    stats = SurveyStats(two_item_survey())
    other = SurveyResponse("R", "S2", "C", T0, {"a": 3})
    with pytest.raises(ValidationError):
        stats.add(other)
    with pytest.raises(ValidationError):
        stats.merge(SurveyStats(two_item_survey(id="S2")))
    with pytest.raises(ValidationError):
        stats.merge(SurveyStats(two_item_survey(), SatisfactionPolicy(satisfied_threshold=80)))


def test_campaign_stats_use_the_campaign_invitations() -> None:
    campaign = SurveyCampaign.plan(
        id="Q4",
        survey_id="S1",
        starts_on=date(2024, 10, 1),
        ends_on=date(2024, 12, 31),
        at=T0,
        by=MANAGER,
        access=ACCESS,
        invited={"C1", "C2", "C3", "C4"},
        customer_base=4,
    )
    stats = SurveyStats.for_campaign(two_item_survey(), campaign)
    for ratings in ([5, 5], [4, 3], [3, 3]):
        stats.add_scores(ratings)
    # reach 3/4 = 0.75 meets the 75 % minimum
    assert stats.result().coverage.below_minimum is False
    with pytest.raises(ValidationError):
        SurveyStats.for_campaign(two_item_survey(id="S9"), campaign)


def test_result_is_cached_until_something_is_added() -> None:
    stats = SurveyStats(two_item_survey())
    stats.add_scores([5, 5])
    first = stats.result()
    assert stats.result() is first
    stats.add_scores([1, 1])
    assert stats.result().responses == 2


# -- statistics: properties ------------------------------------------------------------


def stats_of(survey: Survey, responses: list[SurveyResponse], **kw: int) -> SurveyStats:
    stats = SurveyStats(survey, **kw)
    for r in responses:
        stats.add(r)
    return stats


@given(surveys_with_responses(), st.data())
def test_merge_of_two_accumulators_equals_the_accumulator_of_the_concatenation(
    drawn: tuple[Survey, list[SurveyResponse]], data: st.DataObject
) -> None:
    survey, responses = drawn
    cut = data.draw(st.integers(0, len(responses)))
    left = stats_of(survey, responses[:cut])
    right = stats_of(survey, responses[cut:])
    assert left.merge(right).result() == stats_of(survey, responses).result()


@given(surveys_with_responses(), st.randoms(use_true_random=False))
def test_order_of_responses_never_changes_the_result(
    drawn: tuple[Survey, list[SurveyResponse]], rng: random.Random
) -> None:
    survey, responses = drawn
    shuffled = list(responses)
    rng.shuffle(shuffled)
    assert stats_of(survey, shuffled).result() == stats_of(survey, responses).result()


@given(survey_rows())
def test_rows_and_single_adds_give_the_same_result(
    drawn: tuple[Survey, list[tuple[int | bool | None, ...]]],
) -> None:
    survey, rows = drawn
    bulk = SurveyStats(survey)
    bulk.add_rows(rows)
    one_by_one = SurveyStats(survey)
    k = len(survey.items)
    for row in rows:
        one_by_one.add_scores(
            row[:k],  # type: ignore[arg-type]
            nps=row[k],  # type: ignore[arg-type]
            repurchased=row[k + 1],  # type: ignore[arg-type]
            would_recommend=row[k + 2],  # type: ignore[arg-type]
        )
    assert bulk.result() == one_by_one.result()


@given(survey_rows(count=st.integers(0, 40)))
def test_bounded_memory_folding_keeps_the_figures(
    drawn: tuple[Survey, list[tuple[int | bool | None, ...]]],
) -> None:
    survey, rows = drawn
    exact = SurveyStats(survey)
    folded = SurveyStats(survey, max_profiles=1)
    for row in rows:
        exact.add_rows([row])
        folded.add_rows([row])
    a, b = exact.result(), folded.result()
    assert (a.responses, a.scored, a.satisfied, a.items) == (
        b.responses,
        b.scored,
        b.satisfied,
        b.items,
    )
    assert (a.csat, a.nps, a.loyalty) == (b.csat, b.nps, b.loyalty)
    if a.score is not None:
        assert b.score is not None
        assert a.score.value == pytest.approx(b.score.value)


@given(surveys_with_responses())
def test_survey_figures_stay_in_their_ranges(
    drawn: tuple[Survey, list[SurveyResponse]],
) -> None:
    survey, responses = drawn
    result = stats_of(survey, responses).result()
    assert result.satisfied <= result.scored <= result.responses == len(responses)
    for value in (result.csat, result.satisfied_share, result.index):
        assert value is None or 0 <= value <= 100
    assert result.nps is None or -100 <= result.nps <= 100
    for item in result.items:
        assert item.mean is None or 1 <= item.mean.value <= survey.scale
        assert sum(item.distribution) == item.responses
    for driver in result.drivers:
        assert driver.correlation is None or -1 <= driver.correlation <= 1
    assert result.suspicious_unanimity == (result.scored > 0 and result.satisfied_share == 100)


@given(st.lists(st.integers(1, 5)), st.lists(st.integers(0, 10)))
def test_csat_and_nps_stay_in_range(ratings: list[int], scores: list[int]) -> None:
    value = csat(ratings)
    assert value is None or 0 <= value <= 100
    score = nps(scores)
    assert score is None or -100 <= score <= 100


@given(st.lists(st.integers(0, 10)), st.integers(9, 10))
def test_adding_a_promoter_never_lowers_nps(scores: list[int], promoter: int) -> None:
    before = nps(scores)
    after = nps([*scores, promoter])
    assert after is not None
    assert before is None or after >= before


@given(st.lists(st.integers(0, 10)), st.integers(0, 6))
def test_adding_a_detractor_never_raises_nps(scores: list[int], detractor: int) -> None:
    before = nps(scores)
    after = nps([*scores, detractor])
    assert after is not None
    assert before is None or after <= before


@given(
    st.dictionaries(
        st.sampled_from("abcdef"), st.tuples(st.integers(1, 7), st.floats(0.01, 100)), min_size=1
    )
)
def test_weighted_score_lies_between_the_lowest_and_highest_item(
    answers: dict[str, tuple[int, float]],
) -> None:
    ratings = {k: r for k, (r, _) in answers.items()}
    weights = {k: w for k, (_, w) in answers.items()}
    score = weighted_score(ratings, weights, scale=7, method=NORMALISED)
    normalised = [(r - 1) / 6 * 100 for r in ratings.values()]
    assert min(normalised) - 1e-9 <= score <= max(normalised) + 1e-9
    share = weighted_score(ratings, weights, scale=7)
    shares = [r / 7 * 100 for r in ratings.values()]
    assert min(shares) - 1e-9 <= share <= max(shares) + 1e-9


@given(st.floats(0, 100), st.floats(0, 100), st.floats(0, 1))
def test_composite_index_lies_between_product_and_service(
    product: float, service: float, weight: float
) -> None:
    value = composite_index(product, service, weight)
    assert min(product, service) - 1e-9 <= value <= max(product, service) + 1e-9


# -- stored models round-trip ----------------------------------------------------------


@given(
    st.one_of(
        surveys(),
        survey_responses(),
        survey_campaigns(),
        satisfaction_monitors(),
        satisfaction_policies(),
        survey_requests(),
    )
)
def test_stored_models_round_trip_through_the_converter(obj: object) -> None:
    assert from_json(type(obj), to_json(obj)) == obj


def test_policy_section_round_trips_with_its_defaults() -> None:
    policy = SatisfactionPolicy(amplification_factor=Decimal("1.5"))
    assert from_json(SatisfactionPolicy, to_json(policy)) == policy


# -- campaigns -------------------------------------------------------------------------


def test_campaign_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        CAMPAIGN_TRANSITIONS, list(CampaignStatus), CAMPAIGN_INITIAL, CAMPAIGN_TERMINAL
    )
    assert problems == []
    assert command_table_problems(CAMPAIGN_LIFECYCLE) == []


def planned_campaign(**changes: object) -> SurveyCampaign:
    fields: dict[str, object] = {
        "id": "May",
        "survey_id": "S1",
        "starts_on": date(2024, 5, 1),
        "ends_on": date(2024, 5, 31),
        "at": T0,
        "by": MANAGER,
        "access": ACCESS,
        "invited": {"C1"},
    }
    fields.update(changes)
    return SurveyCampaign.plan(**fields)  # type: ignore[arg-type]


def test_campaign_runs_planned_open_closed_with_history() -> None:
    campaign = planned_campaign()
    opened = campaign.open(at=T0, by=MANAGER, access=ACCESS)
    closed = opened.invite(["C2"], at=T0, by=MANAGER, access=ACCESS).close(
        at=T0, by=MANAGER, access=ACCESS
    )
    assert closed.status is CampaignStatus.CLOSED
    assert closed.invited == {"C1", "C2"}
    assert [c.to for c in closed.history] == ["planned", "open", "closed"]
    with pytest.raises(InvalidTransition):
        closed.open(at=T0, by=MANAGER, access=ACCESS)
    with pytest.raises(RuleViolation) as caught:
        closed.invite(["C3"], at=T0, by=MANAGER, access=ACCESS)
    assert caught.value.code == "campaign_finished"


def test_a_campaign_step_out_of_turn_names_the_step_and_what_comes_first() -> None:
    with pytest.raises(InvalidTransition) as caught:
        planned_campaign().close(at=T0, by=MANAGER, access=ACCESS)
    assert (caught.value.action, caught.value.hint) == (
        "close_survey_campaign",
        "open the campaign first",
    )
    assert str(caught.value) == (
        "survey campaign 'May' cannot close_survey_campaign while planned: open the campaign first"
    )
    cancelled = planned_campaign().cancel(at=T0, by=MANAGER, access=ACCESS, note="budget")
    with pytest.raises(InvalidTransition) as caught:
        cancelled.open(at=T0, by=MANAGER, access=ACCESS)
    assert str(caught.value) == (
        "survey campaign 'May' cannot open_survey_campaign while cancelled"
    )


def test_the_docs_show_the_command_tables_of_campaigns_and_monitors() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "satisfaction.md").read_text(
        encoding="utf-8"
    )
    for lifecycle in (CAMPAIGN_LIFECYCLE, MONITOR_LIFECYCLE):
        assert f"\n{command_table(lifecycle)}\n\n" in page, lifecycle.entity


def test_campaign_needs_invited_customers_and_permission() -> None:
    with pytest.raises(RuleViolation) as caught:
        planned_campaign(invited=()).open(at=T0, by=MANAGER, access=ACCESS)
    assert caught.value.code == "nobody_invited"
    with pytest.raises(PermissionDenied):
        planned_campaign(by=CLERK)
    with pytest.raises(ValidationError):
        planned_campaign().cancel(at=T0, by=MANAGER, access=ACCESS, note=" ")


def test_campaign_season_is_q4_and_may_except_for_key_accounts() -> None:
    policy = SatisfactionPolicy()
    assert planned_campaign().in_season(policy)
    march = planned_campaign(starts_on=date(2024, 3, 1), ends_on=date(2024, 3, 31))
    assert not march.in_season(policy)
    key = planned_campaign(starts_on=date(2024, 3, 1), ends_on=date(2024, 3, 31), key_accounts=True)
    assert key.in_season(policy)
    across = planned_campaign(starts_on=date(2024, 9, 20), ends_on=date(2024, 10, 5))
    assert across.months() == {9, 10}
    assert across.in_season(policy)
    with pytest.raises(ValidationError):
        planned_campaign(starts_on=date(2024, 6, 1), ends_on=date(2024, 5, 1))


# -- monitoring ------------------------------------------------------------------------


def test_monitor_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        MONITOR_TRANSITIONS, list(MonitorStatus), MONITOR_INITIAL, MONITOR_TERMINAL
    )
    assert problems == []
    assert command_table_problems(MONITOR_LIFECYCLE) == []


def test_a_loop_step_out_of_turn_names_the_step_and_what_comes_first() -> None:
    monitor = SatisfactionMonitor.start(
        id="M1",
        subject="S1",
        metric="index",
        target=85,
        measured=78,
        at=T0,
        by=MANAGER,
        access=ACCESS,
    )
    with pytest.raises(InvalidTransition) as caught:
        monitor.act("add a courier", at=T0, by=MANAGER, access=ACCESS)
    assert caught.value.action == "act_on_satisfaction_gap"
    assert str(caught.value) == (
        "satisfaction monitor 'M1' cannot act_on_satisfaction_gap while measured: "
        "analyse the gap first"
    )
    acting = monitor.analyse(["late"], at=T0, by=MANAGER, access=ACCESS).act(
        "add a courier", at=T0, by=MANAGER, access=ACCESS
    )
    with pytest.raises(InvalidTransition) as caught:
        acting.close(at=T0, by=MANAGER, access=ACCESS, accept_gap=True, note="fine")
    assert str(caught.value) == (
        "satisfaction monitor 'M1' cannot close_satisfaction_monitor while acting: "
        "re-measure the level first"
    )


def test_monitoring_loop_runs_target_gap_causes_action_remeasure() -> None:
    monitor = SatisfactionMonitor.start(
        id="M1",
        subject="S1",
        metric="index",
        target=85,
        measured=78,
        at=T0,
        by=MANAGER,
        access=ACCESS,
    )
    assert monitor.gap == 7
    with pytest.raises(RuleViolation) as caught:
        monitor.close(at=T0, by=MANAGER, access=ACCESS)
    assert caught.value.code == "satisfaction_target_not_met"
    later = T0 + timedelta(days=30)
    monitor = (
        monitor.analyse(["slow deliveries"], at=T0, by=MANAGER, access=ACCESS)
        .act("add a second courier", at=T0, by=MANAGER, access=ACCESS, due=date(2024, 6, 1))
        .remeasure(86, at=later, by=MANAGER, access=ACCESS)
    )
    assert monitor.gap == -1
    assert monitor.on_target
    closed = monitor.close(at=later, by=MANAGER, access=ACCESS)
    assert closed.status is MonitorStatus.CLOSED
    assert [m.level for m in closed.measurements] == [78, 86]
    assert closed.causes == ("slow deliveries",)
    assert closed.actions[0].description == "add a second courier"
    assert [c.to for c in closed.history] == [
        "measured",
        "analysed",
        "acting",
        "remeasured",
        "closed",
    ]


def test_accepting_a_remaining_gap_needs_a_written_reason() -> None:
    monitor = SatisfactionMonitor.start(
        id="M1",
        subject="S1",
        metric="nps",
        target=30,
        measured=-20,
        at=T0,
        by=MANAGER,
        access=ACCESS,
    )
    with pytest.raises(ValidationError):
        monitor.close(at=T0, by=MANAGER, access=ACCESS, accept_gap=True)
    closed = monitor.close(at=T0, by=MANAGER, access=ACCESS, accept_gap=True, note="new target")
    assert closed.status is MonitorStatus.CLOSED
    with pytest.raises(ValidationError):
        SatisfactionMonitor.start(
            id="M2",
            subject="S1",
            metric="csat",
            target=101,
            measured=50,
            at=T0,
            by=MANAGER,
            access=ACCESS,
        )


@given(satisfaction_monitors())
def test_monitor_history_follows_the_transition_table(monitor: SatisfactionMonitor) -> None:
    for change in monitor.history[1:]:
        assert MonitorStatus(change.to) in MONITOR_TRANSITIONS[MonitorStatus(change.from_)]
    assert monitor.history[-1].to == monitor.status.value
    assert len(monitor.measurements) >= 1


# -- cost view and post-service surveys ------------------------------------------------


def test_satisfaction_cost_amplifies_the_routine_service_cost() -> None:
    policy = SatisfactionPolicy(amplification_factor=Decimal(3))
    cost = satisfaction_cost(Money.of("1000.00", "CNY"), Money.of("200.00", "CNY"), policy)
    # nonconforming = 200 x 3 = 600; service quality = 200 + 600 = 800; total 1000 + 800
    assert cost.nonconforming_service_cost == Money.of("600.00", "CNY")
    assert cost.service_quality_cost == Money.of("800.00", "CNY")
    assert cost.total == Money.of("1800.00", "CNY")


def test_satisfaction_cost_needs_an_amplification_factor() -> None:
    with pytest.raises(RuleViolation) as caught:
        satisfaction_cost(Money.of(1, "CNY"), Money.of(1, "CNY"), SatisfactionPolicy())
    assert caught.value.code == "amplification_factor_required"
    cost = satisfaction_cost(
        Money.of(1, "CNY"),
        Money.of("0.50", "CNY"),
        SatisfactionPolicy(),
        amplification_factor=Decimal("1.5"),
    )
    assert cost.nonconforming_service_cost == Money.of("0.75", "CNY")


def test_closed_complaint_triggers_a_next_day_survey() -> None:
    event = post_service_survey("complaint", "CP-1", "C1", SatisfactionPolicy(), closed_at=T0)
    assert event == SurveyRequested(
        survey_id="post-service",
        customer_id="C1",
        subject=SurveySubject.COMPLAINT,
        subject_id="CP-1",
        requested_at=T0,
        send_after=T0 + timedelta(days=1),
    )


def test_orders_trigger_a_survey_only_when_the_policy_says_so() -> None:
    assert post_service_survey("order", "SO-1", "C1", SatisfactionPolicy(), closed_at=T0) is None
    policy = SatisfactionPolicy(survey_after_order=True, survey_after_complaint=False)
    assert post_service_survey("order", "SO-1", "C1", policy, closed_at=T0) is not None
    assert post_service_survey("complaint", "CP-1", "C1", policy, closed_at=T0) is None


def test_recently_surveyed_customer_is_not_asked_again_within_the_cooldown() -> None:
    policy = SatisfactionPolicy(survey_cooldown=timedelta(days=30))
    recent = T0 - timedelta(days=10)
    assert (
        post_service_survey("complaint", "CP-1", "C1", policy, closed_at=T0, last_survey_at=recent)
        is None
    )
    old = T0 - timedelta(days=31)
    assert (
        post_service_survey("complaint", "CP-1", "C1", policy, closed_at=T0, last_survey_at=old)
        is not None
    )
    with pytest.raises(ValidationError):
        post_service_survey("visit", "X", "C1", policy, closed_at=T0)


# -- wrong types are refused where the objects are built ---------------------------------


def _monitor(**changes: object) -> SatisfactionMonitor:
    fields: dict[str, object] = {
        "id": "M1",
        "subject": "S1",
        "metric": "index",
        "target": 85,
        "measurements": (Measurement(80, T0),),
    }
    fields.update(changes)
    return SatisfactionMonitor(**fields)  # type: ignore[arg-type]


def _campaign(**changes: object) -> SurveyCampaign:
    fields: dict[str, object] = {
        "id": "May",
        "survey_id": "S1",
        "starts_on": date(2024, 5, 1),
        "ends_on": date(2024, 5, 31),
    }
    fields.update(changes)
    return SurveyCampaign(**fields)  # type: ignore[arg-type]


def _policy(**changes: object) -> SatisfactionPolicy:
    return SatisfactionPolicy(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: SurveyItem("a", text=1.5), "text"),  # type: ignore[arg-type]
        (lambda: OpenQuestion("q", text=None), "text"),  # type: ignore[arg-type]
        (lambda: two_item_survey(title=1.5), "title"),
        (lambda: two_item_survey(items=5), "items"),
        (lambda: two_item_survey(items=[{"key": "a"}]), "items.0"),
        (lambda: two_item_survey(open_questions=["q"]), "open_questions.0"),
        (lambda: two_item_survey(overall_item=["a"]), "overall_item"),
        (lambda: response(1, {1: 3}), "ratings"),  # type: ignore[dict-item]
        (lambda: response(1, {"a": True}), "ratings.a"),
        (lambda: response(1, {}, open_answers={"q": 1}), "open_answers.q"),
        (lambda: response(1, {}, open_answers="fine"), "open_answers"),
        (lambda: response(1, {}, campaign_id=" "), "campaign_id"),
        (lambda: response(1, {}, repurchased="yes"), "repurchased"),
        (lambda: _campaign(invited="C1"), "invited"),
        (lambda: _campaign(invited=[["C1"]]), "invited"),
        (lambda: _campaign(history=[1]), "history.0"),
        (lambda: _campaign(starts_on="2024-05-01"), "starts_on"),
        (lambda: _monitor(measurements=[{"level": 80}]), "measurements.0"),
        (lambda: _monitor(causes=[1]), "causes.0"),
        (lambda: _monitor(actions=["call back"]), "actions.0"),
        (lambda: _monitor(history=5), "history"),
        (lambda: _monitor(target=10**400), "target"),
        (lambda: Measurement("high", T0), "level"),  # type: ignore[arg-type]
        (lambda: CorrectiveAction("fix", "m1", T0, due="soon"), "due"),  # type: ignore[arg-type]
        (lambda: Interval("a", 1.0), "low"),  # type: ignore[arg-type]
        (lambda: _policy(survey_after_order="false"), "survey_after_order"),
        (lambda: _policy(survey_months=5), "survey_months"),
        (lambda: _policy(contact_centre_drivers=(1,)), "contact_centre_drivers"),
        (lambda: _policy(published_sensitivities={1: 2.0}), "published_sensitivities"),
        (lambda: _policy(campaign_number_pattern=None), "campaign_number_pattern"),
    ],
)
def test_models_refuse_wrong_types_when_built(build: object, path: str) -> None:
    """Rule: domain aggregates refuse wrong types at construction, naming the field."""
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert path in {p for p, _ in caught.value.errors}


@pytest.mark.parametrize("note", [1.5, True, -1, math.nan, {}])
def test_a_campaign_step_note_must_be_text(note: object) -> None:
    campaign = planned_campaign()
    with pytest.raises(ValidationError) as caught:
        campaign.open(at=T0, by=MANAGER, access=ACCESS, note=note)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == "note"
    with pytest.raises(ValidationError):
        campaign.cancel(at=T0, by=MANAGER, access=ACCESS, note=note)  # type: ignore[arg-type]
    opened = campaign.open(at=T0, by=MANAGER, access=ACCESS)
    with pytest.raises(ValidationError):
        opened.close(at=T0, by=MANAGER, access=ACCESS, note=note)  # type: ignore[arg-type]


@pytest.mark.parametrize("accept_gap", ["false", "true", 1, 0, None])
def test_accepting_a_gap_takes_true_or_false_only(accept_gap: object) -> None:
    monitor = SatisfactionMonitor.start(
        id="M1",
        subject="S1",
        metric="index",
        target=85,
        measured=70,
        at=T0,
        by=MANAGER,
        access=ACCESS,
    )
    with pytest.raises(ValidationError) as caught:
        monitor.close(
            at=T0,
            by=MANAGER,
            access=ACCESS,
            note="why",
            accept_gap=accept_gap,  # type: ignore[arg-type]
        )
    assert caught.value.errors[0][0] == "accept_gap"


def test_numbers_too_large_for_a_float_are_refused_not_overflowing() -> None:
    """Rule: only CsDomainError leaves the library, overflow included."""
    with pytest.raises(ValidationError):
        SatisfactionMonitor.start(
            id="M1",
            subject="S1",
            metric="index",
            target=10**400,
            measured=70,
            at=T0,
            by=MANAGER,
            access=ACCESS,
        )
    monitor = _monitor()
    with pytest.raises(ValidationError):
        monitor.analyse(["x"], at=T0, by=MANAGER, access=ACCESS).act(
            "y", at=T0, by=MANAGER, access=ACCESS
        ).remeasure(10**400, at=T0, by=MANAGER, access=ACCESS)
    with pytest.raises(ValidationError):
        composite_index(10**400, 50)
    with pytest.raises(ValidationError):
        weighted_score({"a": 3}, {"a": 10**400})


def test_domain_steps_refuse_what_is_not_an_actor_or_a_customer_id() -> None:
    campaign = planned_campaign()
    with pytest.raises(ValidationError) as caught:
        campaign.open(at=T0, by="m1", access=ACCESS)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == "by"
    with pytest.raises(ValidationError) as caught:
        campaign.invite([["C2"]], at=T0, by=MANAGER, access=ACCESS)  # type: ignore[list-item]
    assert caught.value.errors[0][0] == "customer_ids"
    with pytest.raises(ValidationError):
        _monitor().analyse(5, at=T0, by=MANAGER, access=ACCESS)  # type: ignore[arg-type]
