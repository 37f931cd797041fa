"""Service-layer tests of surveys, campaigns, survey statistics and contact-centre KPIs.

docs/domain.md 3.3 (contact-centre standards), 5 (satisfaction) and 6 (KPIs), on the memory and
SQLite backends.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import Customer
from csdomain.desk.base import use_cases
from csdomain.desk.satisfaction import SatisfactionDesk
from csdomain.errors import (
    AlreadyExists,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import (
    ACCESS_LOG,
    CONTACTS,
    CUSTOMERS,
    OUTBOX,
    SATISFACTION_MONITORS,
    SURVEY_CAMPAIGNS,
    SURVEY_RESPONSES,
    SURVEYS,
)
from csdomain.kpi import (
    ContactCentrePolicy,
    ContactDirection,
    ContactKpi,
    ContactRecord,
    kpi_report,
    kpi_reports_by_agent,
)
from csdomain.notify import DEFAULT_TEMPLATES
from csdomain.policy import Policy
from csdomain.satisfaction import (
    CampaignStatus,
    Dimension,
    MonitorStatus,
    OpenQuestion,
    SatisfactionMonitorMoved,
    SatisfactionPolicy,
    Survey,
    SurveyItem,
    SurveyRequested,
    SurveyResponse,
    SurveyResponseRecorded,
    SurveyStats,
    SurveySubject,
)
from csdomain.serialization import from_json
from csdomain.store import Store, open_store
from csdomain.testing.strategies_satisfaction import contact_records, surveys_with_responses


URLS = ["memory://", "sqlite://"]
START = datetime(2026, 11, 2, 1, tzinfo=UTC)
STEP = timedelta(minutes=10)

MANAGER = Actor("cs-manager-1", {"cs_manager"})
CALLER = Actor("caller-1", {"call_team"})
ANALYST = Actor("analyst-1", {"finance"})
TELEPHONY = Actor.system("telephony")
OUTSIDER = Actor("visitor-1", frozenset())

SURVEY = Survey(
    id="after-sales-2026",
    title="After-sales satisfaction",
    items=(
        SurveyItem("overall", "Overall satisfaction", weight=0.0),
        SurveyItem("product_quality", "Product quality", weight=2.0),
        SurveyItem("delivery_time", "Delivery time", dimension=Dimension.RESPONSIVENESS),
        SurveyItem("after_sales_service", "After-sales", dimension=Dimension.RELIABILITY),
    ),
    open_questions=(OpenQuestion("improve", "What should we improve?"),),
    overall_item="overall",
)


@pytest.fixture(params=URLS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> SatisfactionDesk:
    return SatisfactionDesk(store, clock=clock)


def snapshot(store: Store) -> dict[str, list[Any]]:
    with store.unit_of_work(readonly=True) as uow:
        return {
            SURVEYS.name: uow.repo(SURVEYS).find(),
            SURVEY_CAMPAIGNS.name: uow.repo(SURVEY_CAMPAIGNS).find(),
            SURVEY_RESPONSES.name: uow.repo(SURVEY_RESPONSES).find(),
            CONTACTS.name: uow.repo(CONTACTS).find(),
            OUTBOX.name: uow.repo(OUTBOX).find(),
        }


def assert_unchanged(store: Store, action: Callable[[], object], error: type[Exception]) -> Any:
    before = snapshot(store)
    with pytest.raises(error) as caught:
        action()
    assert snapshot(store) == before
    return caught.value


def answer(
    customer: str, ratings: dict[str, int], *, campaign_id: str | None = None, **more: Any
) -> SurveyResponse:
    return SurveyResponse(
        id=f"R-{customer}-{campaign_id or 'none'}",
        survey_id=SURVEY.id,
        customer_id=customer,
        answered_at=START - timedelta(hours=1),
        ratings=ratings,
        campaign_id=campaign_id,
        **more,
    )


def open_campaign(desk: SatisfactionDesk, invited: set[str], **kwargs: Any) -> str:
    campaign = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 12, 15),
        by=MANAGER,
        invited=invited,
        **kwargs,
    )
    return desk.open_survey_campaign(campaign.id, by=MANAGER).id


# -- surveys ---------------------------------------------------------------------------


def test_a_survey_is_defined_once(desk: SatisfactionDesk, store: Store) -> None:
    assert desk.define_survey(SURVEY, by=MANAGER) == SURVEY
    assert desk.get_survey(SURVEY.id, by=CALLER) == SURVEY
    assert_unchanged(store, lambda: desk.define_survey(SURVEY, by=MANAGER), AlreadyExists)
    bad: Any = {"id": "x"}
    assert_unchanged(store, lambda: desk.define_survey(bad, by=MANAGER), ValidationError)
    assert_unchanged(store, lambda: desk.get_survey("nope", by=MANAGER), NotFound)


def test_managing_surveys_needs_the_survey_permission(desk: SatisfactionDesk, store: Store) -> None:
    assert_unchanged(store, lambda: desk.define_survey(SURVEY, by=ANALYST), PermissionDenied)
    desk.define_survey(SURVEY, by=MANAGER)
    for action in (
        lambda: desk.get_survey(SURVEY.id, by=ANALYST),
        lambda: desk.plan_survey_campaign(
            SURVEY.id, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), by=ANALYST
        ),
        lambda: desk.record_survey_response(answer("C1", {"overall": 5}), by=ANALYST),
        lambda: desk.pending_survey_requests(by=ANALYST),
    ):
        assert_unchanged(store, action, PermissionDenied)


# -- campaigns -------------------------------------------------------------------------


def test_campaign_lifecycle_plan_invite_open_close(
    desk: SatisfactionDesk, clock: FixedClock
) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    planned = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 12, 15),
        by=MANAGER,
        customer_base=10,
    )
    assert planned.id == "SC-202611-0001"
    assert planned.status is CampaignStatus.PLANNED
    clock.advance(STEP)
    invited = desk.invite_to_survey_campaign(planned.id, ["C1", "C2"], by=MANAGER)
    assert invited.invited == {"C1", "C2"}
    opened = desk.open_survey_campaign(planned.id, by=MANAGER, note="Q4 wave")
    assert opened.status is CampaignStatus.OPEN
    clock.advance(timedelta(days=30))
    closed = desk.close_survey_campaign(planned.id, by=MANAGER)
    assert [step.to for step in closed.history] == ["planned", "open", "closed"]
    assert desk.get_survey_campaign(planned.id, by=MANAGER) == closed
    named = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2027, 5, 1),
        ends_on=date(2027, 5, 31),
        by=MANAGER,
        campaign_id="MAY-2027",
    )
    assert named.id == "MAY-2027"


def test_campaigns_run_in_the_survey_season(desk: SatisfactionDesk, store: Store) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    error = assert_unchanged(
        store,
        lambda: desk.plan_survey_campaign(
            SURVEY.id, starts_on=date(2027, 7, 1), ends_on=date(2027, 8, 31), by=MANAGER
        ),
        RuleViolation,
    )
    assert error.code == "out_of_survey_season"
    assert error.details["months"] == [7, 8]
    key_accounts = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2027, 7, 1),
        ends_on=date(2027, 7, 31),
        by=MANAGER,
        key_accounts=True,
    )
    assert key_accounts.key_accounts
    summer = Policy(satisfaction=SatisfactionPolicy(survey_months=frozenset({7})))
    other = SatisfactionDesk(store, policy=summer, clock=desk.clock)
    planned = other.plan_survey_campaign(
        SURVEY.id, starts_on=date(2027, 7, 1), ends_on=date(2027, 7, 31), by=MANAGER
    )
    assert planned.status is CampaignStatus.PLANNED


def test_a_campaign_needs_a_stored_survey(desk: SatisfactionDesk, store: Store) -> None:
    assert_unchanged(
        store,
        lambda: desk.plan_survey_campaign(
            "missing", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), by=MANAGER
        ),
        NotFound,
    )


def test_campaign_rules_leave_the_store_unchanged(desk: SatisfactionDesk, store: Store) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    campaign = desk.plan_survey_campaign(
        SURVEY.id, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), by=MANAGER
    )
    error = assert_unchanged(
        store, lambda: desk.open_survey_campaign(campaign.id, by=MANAGER), RuleViolation
    )
    assert error.code == "nobody_invited"
    assert_unchanged(
        store,
        lambda: desk.plan_survey_campaign(
            SURVEY.id, starts_on=date(2026, 11, 30), ends_on=date(2026, 11, 1), by=MANAGER
        ),
        ValidationError,
    )
    bad: list[Any] = ["C1", [["C1"]], [" "]]
    for bad_ids in bad:
        assert_unchanged(
            store,
            partial(desk.invite_to_survey_campaign, campaign.id, bad_ids, by=MANAGER),
            ValidationError,
        )
    assert_unchanged(
        store,
        lambda: desk.cancel_survey_campaign(campaign.id, by=MANAGER, note=" "),
        ValidationError,
    )
    assert_unchanged(
        store, lambda: desk.close_survey_campaign(campaign.id, by=MANAGER), InvalidTransition
    )
    assert_unchanged(
        store, lambda: desk.open_survey_campaign("SC-209901-0001", by=MANAGER), NotFound
    )
    cancelled = desk.cancel_survey_campaign(campaign.id, by=MANAGER, note="budget cut")
    assert cancelled.status is CampaignStatus.CANCELLED
    error = assert_unchanged(
        store,
        lambda: desk.invite_to_survey_campaign(campaign.id, ["C1"], by=MANAGER),
        RuleViolation,
    )
    assert error.code == "campaign_finished"


# -- responses -------------------------------------------------------------------------


def test_a_response_is_stored_after_checking_it_against_the_survey(
    desk: SatisfactionDesk, store: Store
) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    response = answer("C1", {"overall": 4, "product_quality": 5}, nps_score=9)
    assert desk.record_survey_response(response, by=CALLER) == response
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(SURVEY_RESPONSES).get(response.id) == response
    assert_unchanged(store, lambda: desk.record_survey_response(response, by=CALLER), AlreadyExists)


def test_a_recorded_response_is_an_event_that_thanks_the_respondent(
    desk: SatisfactionDesk, store: Store
) -> None:
    """Rule: act on results and thank respondents (docs/domain.md 5)."""
    desk.define_survey(SURVEY, by=MANAGER)
    response = answer("C1", {"overall": 2, "product_quality": 2}, nps_score=3)
    desk.record_survey_response(response, by=CALLER)
    with store.unit_of_work(readonly=True) as uow:
        [entry] = uow.outbox.find(type="SurveyResponseRecorded")
    event = from_json(SurveyResponseRecorded, orjson.dumps(entry.payload))
    assert event == SurveyResponseRecorded(
        response_id=response.id,
        survey_id=SURVEY.id,
        customer_id="C1",
        campaign_id=None,
        nps_score=3,
        answered_at=response.answered_at,
        at=START,
        by=CALLER.id,
    )
    [thanks] = DEFAULT_TEMPLATES.render(event)
    assert (thanks.kind, thanks.customer_id) == ("survey_thanks", "C1")
    assert "Thank you" in thanks.body


def test_ratings_outside_the_survey_scale_are_refused(desk: SatisfactionDesk, store: Store) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    error = assert_unchanged(
        store,
        lambda: desk.record_survey_response(
            answer("C1", {"overall": 6, "price": 3}, expectations={"delivery_time": 9}),
            by=CALLER,
        ),
        ValidationError,
    )
    assert sorted(path for path, _ in error.errors) == [
        "response.expectations.delivery_time",
        "response.ratings.overall",
        "response.ratings.price",
    ]
    error = assert_unchanged(
        store,
        lambda: desk.record_survey_response(
            answer("C1", {"overall": 3}, open_answers={"mood": "fine"}), by=CALLER
        ),
        ValidationError,
    )
    assert error.errors[0][0] == "response.open_answers.mood"


def test_a_response_needs_a_stored_survey_and_a_past_answer_time(
    desk: SatisfactionDesk, store: Store, clock: FixedClock
) -> None:
    response = answer("C1", {"overall": 4})
    assert_unchanged(store, lambda: desk.record_survey_response(response, by=CALLER), NotFound)
    desk.define_survey(SURVEY, by=MANAGER)
    future = SurveyResponse(
        id="R-future",
        survey_id=SURVEY.id,
        customer_id="C1",
        answered_at=clock.now() + STEP,
        ratings={"overall": 4},
    )
    error = assert_unchanged(
        store, lambda: desk.record_survey_response(future, by=CALLER), ValidationError
    )
    assert error.errors[0][0] == "response.answered_at"
    bad: Any = {"overall": 4}
    assert_unchanged(store, lambda: desk.record_survey_response(bad, by=CALLER), ValidationError)


def test_one_response_per_invited_customer_while_the_campaign_is_open(
    desk: SatisfactionDesk, store: Store
) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    planned = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        by=MANAGER,
        invited={"C1", "C2"},
    )
    early = answer("C1", {"overall": 4}, campaign_id=planned.id)
    error = assert_unchanged(
        store, lambda: desk.record_survey_response(early, by=CALLER), RuleViolation
    )
    assert error.code == "campaign_not_open"
    desk.open_survey_campaign(planned.id, by=MANAGER)
    desk.record_survey_response(early, by=CALLER)
    again = attrs.evolve(
        answer("C1", {"overall": 2}, campaign_id=planned.id, nps_score=3), id="R-C1-second"
    )
    error = assert_unchanged(
        store, lambda: desk.record_survey_response(again, by=CALLER), RuleViolation
    )
    assert error.code == "already_answered"
    stranger = answer("C9", {"overall": 5}, campaign_id=planned.id)
    error = assert_unchanged(
        store, lambda: desk.record_survey_response(stranger, by=CALLER), RuleViolation
    )
    assert error.code == "customer_not_invited"
    assert_unchanged(
        store,
        lambda: desk.record_survey_response(
            answer("C2", {"overall": 5}, campaign_id="SC-209901-0001"), by=CALLER
        ),
        NotFound,
    )
    other = Survey.supplier("supplier-2026")
    desk.define_survey(other, by=MANAGER)
    foreign = SurveyResponse(
        id="R-foreign",
        survey_id=other.id,
        customer_id="C2",
        answered_at=START,
        ratings={"price": 4},
        campaign_id=planned.id,
    )
    error = assert_unchanged(
        store, lambda: desk.record_survey_response(foreign, by=CALLER), ValidationError
    )
    assert error.errors[0][0] == "response.campaign_id"


# -- statistics ------------------------------------------------------------------------


def random_responses(count: int, campaign_id: str, seed: int) -> list[SurveyResponse]:
    rng = random.Random(seed)
    responses = []
    for i in range(count):
        ratings = {
            item.key: rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
            for item in SURVEY.items
            if rng.random() > 0.1
        }
        expectations = {
            item.key: rng.randint(3, 5)
            for item in SURVEY.items
            if item.dimension is not None and rng.random() > 0.3
        }
        responses.append(
            SurveyResponse(
                id=f"R{i:04d}",
                survey_id=SURVEY.id,
                customer_id=f"C{i:04d}",
                answered_at=START - timedelta(minutes=count - i),
                ratings=ratings,
                expectations=expectations,
                nps_score=rng.choice([None, *range(11)]),
                repurchased=rng.choice([None, True, False]),
                would_recommend=rng.choice([None, True, True, False]),
                campaign_id=campaign_id,
            )
        )
    return responses


def test_survey_stats_over_stored_responses_equal_the_pure_stats(
    desk: SatisfactionDesk,
) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    invited = {f"C{i:04d}" for i in range(400)}
    campaign_id = open_campaign(desk, invited, customer_base=500)
    responses = random_responses(300, campaign_id, seed=20261102)
    for response in reversed(responses):
        desk.record_survey_response(response, by=CALLER)
    outside = answer("C9999", {"overall": 1, "product_quality": 1})
    desk.record_survey_response(outside, by=CALLER)

    result = desk.survey_stats(SURVEY.id, by=ANALYST, campaign_id=campaign_id)
    policy = desk.policy.satisfaction
    expected = SurveyStats.of(SURVEY, responses, policy, invited=400, customer_base=500).result()
    assert result == expected
    assert result.responses == 300
    assert result.coverage.response_rate == pytest.approx(0.75)
    assert result.coverage.reach == pytest.approx(0.6)
    assert result.coverage.below_minimum
    assert desk.driver_analysis(SURVEY.id, by=ANALYST, campaign_id=campaign_id) == (
        expected.drivers
    )

    everyone = desk.survey_stats(SURVEY.id, by=ANALYST)
    assert everyone == SurveyStats.of(SURVEY, [*responses, outside], policy).result()
    assert everyone.coverage.invited is None

    override = desk.survey_stats(
        SURVEY.id, by=ANALYST, campaign_id=campaign_id, invited=300, customer_base=300
    )
    assert override.coverage.reach == 1.0
    assert not override.coverage.below_minimum


@pytest.mark.parametrize("url", URLS)
@settings(max_examples=15)
@given(data=surveys_with_responses())
def test_survey_stats_equal_the_pure_stats_for_any_stored_responses(
    url: str, data: tuple[Survey, list[SurveyResponse]]
) -> None:
    survey, responses = data
    with open_store(url) as store:
        desk = SatisfactionDesk(store, clock=FixedClock(START))
        desk.define_survey(survey, by=MANAGER)
        with store.unit_of_work() as uow:
            uow.repo(SURVEY_RESPONSES).add_many(responses)
        result = desk.survey_stats(survey.id, by=ANALYST)
    assert result == SurveyStats.of(survey, responses, desk.policy.satisfaction).result()


def test_survey_stats_checks_its_arguments(desk: SatisfactionDesk, store: Store) -> None:
    assert_unchanged(store, lambda: desk.survey_stats(SURVEY.id, by=ANALYST), NotFound)
    desk.define_survey(SURVEY, by=MANAGER)
    other = Survey.supplier("supplier-2026")
    desk.define_survey(other, by=MANAGER)
    campaign = desk.plan_survey_campaign(
        other.id, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), by=MANAGER
    )
    error = assert_unchanged(
        store,
        lambda: desk.survey_stats(SURVEY.id, by=ANALYST, campaign_id=campaign.id),
        ValidationError,
    )
    assert error.errors[0][0] == "campaign_id"
    assert_unchanged(
        store, lambda: desk.survey_stats(SURVEY.id, by=ANALYST, invited=-1), ValidationError
    )
    assert_unchanged(store, lambda: desk.survey_stats(SURVEY.id, by=OUTSIDER), PermissionDenied)
    assert_unchanged(store, lambda: desk.driver_analysis(SURVEY.id, by=OUTSIDER), PermissionDenied)
    empty = desk.survey_stats(SURVEY.id, by=ANALYST)
    assert empty.responses == 0
    assert empty.csat is None


def test_unanimous_satisfaction_is_flagged(desk: SatisfactionDesk) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    for customer in ("C1", "C2", "C3"):
        desk.record_survey_response(
            answer(customer, {"overall": 5, "product_quality": 5, "delivery_time": 5}),
            by=CALLER,
        )
    assert desk.survey_stats(SURVEY.id, by=ANALYST).suspicious_unanimity


def test_pending_survey_requests_come_from_the_outbox(
    desk: SatisfactionDesk, store: Store, clock: FixedClock
) -> None:
    requested = SurveyRequested(
        survey_id="post-service",
        customer_id="C1",
        subject=SurveySubject.COMPLAINT,
        subject_id="CP-202611-0001",
        requested_at=START,
        send_after=START + timedelta(days=1),
    )
    done = SurveyRequested(
        survey_id="post-service",
        customer_id="C2",
        subject=SurveySubject.ORDER,
        subject_id="SO-202611-0001",
        requested_at=START,
        send_after=START + timedelta(days=1),
    )
    with store.unit_of_work() as uow:
        uow.emit(requested, at=clock.now())
        entry = uow.emit(done, at=clock.now())
    with store.unit_of_work() as uow:
        uow.outbox.update(uow.outbox.get(entry.id).processed(clock.now()))
    assert desk.pending_survey_requests(by=MANAGER) == (requested,)


# -- contact centre --------------------------------------------------------------------


def call(
    number: int,
    offered: datetime,
    *,
    wait: int = 10,
    talk: int = 240,
    answered: bool = True,
    **more: Any,
) -> ContactRecord:
    answered_at = offered + timedelta(seconds=wait) if answered else None
    ended = (answered_at or offered) + timedelta(seconds=talk if answered else wait)
    return ContactRecord(
        id=f"CALL-{number:05d}",
        offered_at=offered,
        answered_at=answered_at,
        ended_at=ended,
        abandoned=not answered,
        **more,
    )


def test_kpi_report_covers_calls_offered_in_the_period(
    desk: SatisfactionDesk, store: Store
) -> None:
    day = datetime(2026, 11, 2, tzinfo=UTC)
    calls = [
        call(1, day - timedelta(seconds=1), wait=100, resolved_on_first_contact=False),
        call(2, day, wait=5, rings=2, resolved_on_first_contact=True, agent="a1"),
        call(3, day + timedelta(hours=3), wait=30, rings=4, agent="a2"),
        call(4, day + timedelta(hours=4), answered=False),
        call(5, day + timedelta(days=1), wait=2),
        call(
            6,
            day + timedelta(hours=5),
            direction=ContactDirection.OUTBOUND,
            connected=True,
            project=True,
            agent="a1",
        ),
    ]
    assert desk.record_contacts(calls, by=TELEPHONY) == 6
    report = desk.kpi_report(day, day + timedelta(days=1), by=ANALYST)
    in_day = [c for c in calls if day <= c.offered_at < day + timedelta(days=1)]
    assert report == kpi_report(in_day, desk.policy.contact_centre)
    assert report.records == 4
    assert report[ContactKpi.SERVICE_LEVEL].value == pytest.approx(1 / 3)
    assert report[ContactKpi.OUTBOUND_CONNECTION_RATE].value == 1.0
    by_agent = desk.agent_kpi_reports(day, day + timedelta(days=1), by=ANALYST)
    assert by_agent == kpi_reports_by_agent(in_day, desk.policy.contact_centre)
    assert sorted(by_agent) == ["a1", "a2"]
    strict = ContactCentrePolicy(service_level_threshold=timedelta(seconds=3))
    other = SatisfactionDesk(store, policy=Policy(contact_centre=strict), clock=desk.clock)
    assert other.kpi_report(day, day + timedelta(days=1), by=ANALYST) == kpi_report(in_day, strict)


def test_recording_contacts_is_all_or_nothing(desk: SatisfactionDesk, store: Store) -> None:
    first = call(1, START - timedelta(hours=1))
    desk.record_contacts([first], by=TELEPHONY)
    batch = [call(2, START - timedelta(minutes=30)), first]
    assert_unchanged(store, lambda: desk.record_contacts(batch, by=TELEPHONY), AlreadyExists)
    mixed: list[Any] = [call(3, START), "CALL-4"]
    error = assert_unchanged(
        store, lambda: desk.record_contacts(mixed, by=TELEPHONY), ValidationError
    )
    assert error.errors[0][0] == "records.1"
    assert desk.record_contacts(iter([]), by=TELEPHONY) == 0
    assert_unchanged(
        store, lambda: desk.record_contacts([call(5, START)], by=ANALYST), PermissionDenied
    )


def test_kpi_reports_check_their_period_and_permission(
    desk: SatisfactionDesk, store: Store
) -> None:
    assert_unchanged(
        store, lambda: desk.kpi_report(START, START - STEP, by=ANALYST), ValidationError
    )
    naive: Any = datetime(2026, 11, 1)
    assert_unchanged(store, lambda: desk.kpi_report(naive, START, by=ANALYST), ValidationError)
    assert_unchanged(store, lambda: desk.kpi_report(START, START, by=OUTSIDER), PermissionDenied)
    assert_unchanged(
        store, lambda: desk.agent_kpi_reports(START, START, by=OUTSIDER), PermissionDenied
    )
    assert desk.kpi_report(START, START, by=ANALYST).records == 0


@pytest.mark.parametrize("url", URLS)
@settings(max_examples=15)
@given(
    records=st.lists(contact_records(), max_size=40, unique_by=lambda r: r.id),
    bounds=st.tuples(
        st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2090, 12, 31),
            timezones=st.just(UTC),
        ),
        st.integers(0, 90 * 365),
    ),
)
def test_kpi_report_over_stored_contacts_equals_the_pure_report(
    url: str, records: list[ContactRecord], bounds: tuple[datetime, int]
) -> None:
    start, days = bounds
    end = start + timedelta(days=days)
    with open_store(url) as store:
        desk = SatisfactionDesk(store, clock=FixedClock(START))
        desk.record_contacts(records, by=TELEPHONY)
        everything = desk.kpi_report(
            datetime(1999, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), by=ANALYST
        )
        window = desk.kpi_report(start, end, by=ANALYST)
    policy = desk.policy.contact_centre
    assert everything == kpi_report(records, policy)
    assert window == kpi_report([r for r in records if start <= r.offered_at < end], policy)


# -- the monitoring loop ------------------------------------------------------------------


def monitor_events(store: Store) -> list[SatisfactionMonitorMoved]:
    with store.unit_of_work(readonly=True) as uow:
        entries = uow.outbox.find(type="SatisfactionMonitorMoved", order_by="key")
    return [from_json(SatisfactionMonitorMoved, orjson.dumps(e.payload)) for e in entries]


def test_the_monitoring_loop_is_stored_step_by_step_with_its_gap(
    desk: SatisfactionDesk, store: Store, clock: FixedClock
) -> None:
    """Rule: target, measured level, gap, causes, corrective action, re-measurement."""
    started = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=78.5, by=MANAGER
    )
    assert started.id == "SM-202611-0001"
    assert started.gap == pytest.approx(6.5)
    steps: list[Callable[[], object]] = [
        lambda: desk.analyse_satisfaction_gap(started.id, ["slow on-site visits"], by=MANAGER),
        lambda: desk.act_on_satisfaction_gap(
            started.id, "second engineer on call", by=MANAGER, due=date(2026, 12, 1)
        ),
        lambda: desk.remeasure_satisfaction(started.id, 84, by=MANAGER),
        lambda: desk.analyse_satisfaction_gap(started.id, ["parts shortage"], by=MANAGER),
        lambda: desk.act_on_satisfaction_gap(started.id, "stock wear parts locally", by=MANAGER),
        lambda: desk.remeasure_satisfaction(started.id, 86, by=MANAGER),
    ]
    for n, step in enumerate(steps):
        clock.advance(timedelta(days=1))
        step()
        if n == 2:
            with pytest.raises(RuleViolation) as refused:
                desk.close_satisfaction_monitor(started.id, by=MANAGER)
            assert refused.value.code == "satisfaction_target_not_met"
    clock.advance(timedelta(days=1))
    closed = desk.close_satisfaction_monitor(started.id, by=MANAGER, note="target met")

    assert closed == desk.get_satisfaction_monitor(started.id, by=MANAGER)
    assert closed.status is MonitorStatus.CLOSED
    assert closed.causes == ("slow on-site visits", "parts shortage")
    assert [m.level for m in closed.measurements] == [78.5, 84, 86]
    assert [str(e.status) for e in monitor_events(store)] == [
        "measured",
        "analysed",
        "acting",
        "remeasured",
        "analysed",
        "acting",
        "remeasured",
        "closed",
    ]
    assert monitor_events(store)[-1].gap == pytest.approx(-1)


def test_monitors_are_found_by_subject_and_while_open(desk: SatisfactionDesk) -> None:
    first = desk.start_satisfaction_monitor(
        "after-sales", metric="csat", target=80, measured=90, by=MANAGER
    )
    desk.start_satisfaction_monitor("delivery", metric="nps", target=30, measured=10, by=MANAGER)
    desk.close_satisfaction_monitor(first.id, by=MANAGER)
    assert [m.subject for m in desk.find_satisfaction_monitors(by=MANAGER)] == [
        "after-sales",
        "delivery",
    ]
    assert [m.subject for m in desk.find_satisfaction_monitors(by=MANAGER, open_only=True)] == [
        "delivery"
    ]
    assert desk.find_satisfaction_monitors(by=MANAGER, subject="after-sales") == [
        desk.get_satisfaction_monitor(first.id, by=MANAGER)
    ]


def test_monitor_steps_check_permission_input_and_order_and_write_nothing_when_refused(
    desk: SatisfactionDesk, store: Store
) -> None:
    """Rule: bad input gets a clear error and never changes stored data."""
    monitor = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=70, by=MANAGER
    )

    def stored() -> tuple[Any, list[Any]]:
        with store.unit_of_work(readonly=True) as uow:
            return uow.repo(SATISFACTION_MONITORS).find(), uow.outbox.find()

    before = stored()
    refusals: list[tuple[Callable[[], object], type[Exception]]] = [
        (lambda: desk.analyse_satisfaction_gap(monitor.id, ["x"], by=OUTSIDER), PermissionDenied),
        (lambda: desk.analyse_satisfaction_gap(monitor.id, [], by=MANAGER), ValidationError),
        (lambda: desk.analyse_satisfaction_gap(monitor.id, "x", by=MANAGER), ValidationError),
        (lambda: desk.analyse_satisfaction_gap(monitor.id, [" "], by=MANAGER), ValidationError),
        (lambda: desk.act_on_satisfaction_gap(monitor.id, "fix", by=MANAGER), InvalidTransition),
        (lambda: desk.remeasure_satisfaction(monitor.id, 101, by=MANAGER), ValidationError),
        (lambda: desk.close_satisfaction_monitor(monitor.id, by=MANAGER), RuleViolation),
        (lambda: desk.get_satisfaction_monitor("SM-nope", by=MANAGER), NotFound),
        (
            lambda: desk.start_satisfaction_monitor(
                "x", metric="speed", target=1, measured=1, by=MANAGER
            ),
            ValidationError,
        ),
        (
            lambda: desk.start_satisfaction_monitor(
                "x" * 10_000, metric="csat", target=1, measured=1, by=MANAGER
            ),
            ValidationError,
        ),
    ]
    for action, error in refusals:
        with pytest.raises(error):
            action()
        assert stored() == before
    accepted = desk.close_satisfaction_monitor(
        monitor.id, by=MANAGER, accept_gap=True, note="market moved; new target next year"
    )
    assert accepted.status is MonitorStatus.CLOSED


# -- the use-case skeleton: arguments checked before anything is stored ------------------


def everything(store: Store) -> dict[str, list[Any]]:
    """Every stored kind of the satisfaction desk, the monitors included."""
    with store.unit_of_work(readonly=True) as uow:
        return {**snapshot(store), "monitors": uow.repo(SATISFACTION_MONITORS).find()}


def test_every_public_satisfaction_desk_method_is_a_use_case() -> None:
    """Rule: every use case goes through the one skeleton (arguments, permission, unit of work)."""
    public = {
        name
        for name, value in vars(SatisfactionDesk).items()
        if callable(value) and not name.startswith("_")
    }
    found = use_cases(SatisfactionDesk)
    assert public <= set(found)
    for name in public:
        assert found[name].checks(), name  # every annotation is of the vocabulary


@pytest.mark.parametrize("note", [1.5, True, -1, float("nan"), {}])
def test_a_campaign_note_that_is_not_text_is_refused_and_nothing_is_stored(
    desk: SatisfactionDesk, store: Store, note: Any
) -> None:
    """Rule: bad input gets a clear error and never changes stored data."""
    desk.define_survey(SURVEY, by=MANAGER)
    campaign = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        by=MANAGER,
        invited={"C1"},
    )
    for action in (
        lambda: desk.open_survey_campaign(campaign.id, by=MANAGER, note=note),
        lambda: desk.cancel_survey_campaign(campaign.id, by=MANAGER, note=note),
        lambda: desk.close_survey_campaign(campaign.id, by=MANAGER, note=note),
    ):
        error = assert_unchanged(store, action, ValidationError)
        assert error.errors[0][0] == "note"
    assert desk.get_survey_campaign(campaign.id, by=MANAGER).history == campaign.history


@pytest.mark.parametrize("flag", ["false", "true", 1, 0, None])
def test_flags_take_true_or_false_only_never_truthiness(
    desk: SatisfactionDesk, store: Store, flag: Any
) -> None:
    monitor = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=70, by=MANAGER
    )
    before = everything(store)
    with pytest.raises(ValidationError) as caught:
        desk.close_satisfaction_monitor(monitor.id, by=MANAGER, note="why", accept_gap=flag)
    assert caught.value.errors[0][0] == "accept_gap"
    with pytest.raises(ValidationError) as caught:
        desk.find_satisfaction_monitors(by=MANAGER, open_only=flag)
    assert caught.value.errors[0][0] == "open_only"
    with pytest.raises(ValidationError):
        desk.plan_survey_campaign(
            SURVEY.id,
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 11, 30),
            by=MANAGER,
            key_accounts=flag,
        )
    assert everything(store) == before
    assert desk.get_satisfaction_monitor(monitor.id, by=MANAGER).status is MonitorStatus.MEASURED


def test_numbers_beyond_a_float_are_refused_in_monitors(
    desk: SatisfactionDesk, store: Store
) -> None:
    """Rule: only CsDomainError leaves the library, overflow included."""
    monitor = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=70, by=MANAGER
    )
    desk.analyse_satisfaction_gap(monitor.id, ["late visits"], by=MANAGER)
    desk.act_on_satisfaction_gap(monitor.id, "second engineer", by=MANAGER)
    before = everything(store)
    for action, path in (
        (
            lambda: desk.start_satisfaction_monitor(
                "x", metric="index", target=10**400, measured=1, by=MANAGER
            ),
            "target",
        ),
        (
            lambda: desk.start_satisfaction_monitor(
                "x", metric="index", target=1, measured=-(10**400), by=MANAGER
            ),
            "measured",
        ),
        (lambda: desk.remeasure_satisfaction(monitor.id, 10**400, by=MANAGER), "level"),
        (lambda: desk.remeasure_satisfaction(monitor.id, float("inf"), by=MANAGER), "level"),
    ):
        with pytest.raises(ValidationError) as caught:
            action()
        assert caught.value.errors[0][0] == path
    assert everything(store) == before


def test_text_arguments_are_held_to_the_policy_limits(desk: SatisfactionDesk, store: Store) -> None:
    limits = desk.policy.limits
    long_text = "x" * (limits.max_long_text + 1)
    desk.define_survey(SURVEY, by=MANAGER)
    campaign = desk.plan_survey_campaign(
        SURVEY.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
        by=MANAGER,
        invited={"C1"},
    )
    monitor = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=70, by=MANAGER
    )
    before = everything(store)
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: desk.open_survey_campaign(campaign.id, by=MANAGER, note=long_text), "note"),
        (lambda: desk.cancel_survey_campaign(campaign.id, by=MANAGER, note=long_text), "note"),
        (lambda: desk.analyse_satisfaction_gap(monitor.id, [long_text], by=MANAGER), "causes.0"),
        (lambda: desk.act_on_satisfaction_gap(monitor.id, long_text, by=MANAGER), "description"),
        (
            lambda: desk.close_satisfaction_monitor(
                monitor.id, by=MANAGER, accept_gap=True, note=long_text
            ),
            "note",
        ),
        (
            lambda: desk.find_satisfaction_monitors(
                by=MANAGER, subject="x" * (limits.max_short_text + 1)
            ),
            "subject",
        ),
        (lambda: desk.get_survey_campaign("x" * (limits.max_key + 1), by=MANAGER), "campaign_id"),
        (
            lambda: desk.invite_to_survey_campaign(campaign.id, ["C\x00"], by=MANAGER),
            "customer_ids.0",
        ),
        (
            lambda: desk.define_survey(attrs.evolve(SURVEY, id="S-2", title=long_text), by=MANAGER),
            "survey.title",
        ),
    ]
    for action, path in refusals:
        with pytest.raises(ValidationError) as caught:
            action()
        assert caught.value.errors[0][0] == path
    assert everything(store) == before


def test_a_step_out_of_turn_names_the_use_case_and_what_comes_first(
    desk: SatisfactionDesk, store: Store
) -> None:
    desk.define_survey(SURVEY, by=MANAGER)
    campaign = desk.plan_survey_campaign(
        SURVEY.id, starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30), by=MANAGER
    )
    error = assert_unchanged(
        store, lambda: desk.close_survey_campaign(campaign.id, by=MANAGER), InvalidTransition
    )
    assert str(error) == (
        "survey campaign 'SC-202611-0001' cannot close_survey_campaign while planned: "
        "open the campaign first"
    )
    monitor = desk.start_satisfaction_monitor(
        "after-sales", metric="index", target=85, measured=70, by=MANAGER
    )
    with pytest.raises(InvalidTransition) as caught:
        desk.remeasure_satisfaction(monitor.id, 80, by=MANAGER)
    assert caught.value.action == "remeasure_satisfaction"


def test_permission_is_checked_before_anything_is_loaded(
    desk: SatisfactionDesk, store: Store
) -> None:
    """Rule: an outsider learns nothing about which ids exist."""
    for action in (
        lambda: desk.get_survey("no-such-survey", by=OUTSIDER),
        lambda: desk.get_survey_campaign("SC-209901-0001", by=OUTSIDER),
        lambda: desk.open_survey_campaign("SC-209901-0001", by=OUTSIDER),
        lambda: desk.get_satisfaction_monitor("SM-209901-0001", by=OUTSIDER),
        lambda: desk.close_satisfaction_monitor("SM-209901-0001", by=OUTSIDER),
        lambda: desk.survey_stats("no-such-survey", by=OUTSIDER),
    ):
        assert_unchanged(store, action, PermissionDenied)


# -- personal data in survey responses ----------------------------------------------------


def test_a_recorded_response_is_on_record_or_redacted(store: Store, clock: FixedClock) -> None:
    # Rule: open answers are free text about a customer: shown whole only with customer.read
    # and then on record; masked without it, with nothing recorded (issue #19 item 1).
    with store.unit_of_work() as uow:
        uow.repo(CUSTOMERS).add(Customer(id="C1", code="C1", name="Chen Wei", phone="13800138000"))
    roles = {**Policy().access.role_permissions, "survey_clerk": frozenset({"survey.manage"})}
    policy = Policy(access=attrs.evolve(Policy().access, role_permissions=roles))
    clerk = Actor("survey-clerk-1", {"survey_clerk"})
    desk = SatisfactionDesk(store, clock=clock, policy=policy)
    desk.define_survey(SURVEY, by=MANAGER)
    said = "Chen Wei here, call 138-0013-8000 about the pump"
    shown = desk.record_survey_response(
        answer("C1", {"overall": 5}, open_answers={"improve": said}), by=clerk
    )
    assert shown.open_answers == {"improve": "[masked] here, call [masked] about the pump"}
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(ACCESS_LOG).count() == 0
        assert uow.repo(SURVEY_RESPONSES).get(shown.id).open_answers == {"improve": said}
    whole = desk.record_survey_response(
        attrs.evolve(answer("C1", {"overall": 4}, open_answers={"improve": said}), id="R-2"),
        by=MANAGER,
    )
    assert whole.open_answers == {"improve": said}
    with store.unit_of_work(readonly=True) as uow:
        (record,) = uow.repo(ACCESS_LOG).find()
    assert (record.customer_id, record.actor_id, record.purpose) == (
        "C1",
        MANAGER.id,
        "survey response",
    )
