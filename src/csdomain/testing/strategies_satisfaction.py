"""Hypothesis strategies for satisfaction surveys, monitoring, contact-centre and pay models.

Every strategy builds valid objects: responses fit their survey's scale, campaigns and
monitors are driven through their own methods (so they respect the transition tables),
contact records keep their timestamps in order. Knobs are keyword-only strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.kpi import (
    ContactCentrePolicy,
    ContactDirection,
    ContactRecord,
    KpiGroup,
    KpiMeasure,
    StaffPayPolicy,
    StaffScore,
)
from csdomain.money import Money
from csdomain.satisfaction import (
    CampaignStatus,
    Dimension,
    MonitorStatus,
    OpenQuestion,
    SatisfactionMetric,
    SatisfactionMonitor,
    SatisfactionPolicy,
    Survey,
    SurveyCampaign,
    SurveyItem,
    SurveyMethod,
    SurveyRequested,
    SurveyResponse,
    SurveySubject,
)


__all__ = [
    "contact_centre_policies",
    "contact_records",
    "dimensions",
    "kpi_measures",
    "satisfaction_monitors",
    "satisfaction_policies",
    "staff_pay_policies",
    "staff_scores",
    "survey_campaigns",
    "survey_items",
    "survey_requests",
    "survey_responses",
    "survey_rows",
    "surveys",
    "surveys_with_responses",
]

_ZONES = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))
_MANAGER = Actor("survey-manager", frozenset({"cs_manager"}))
_ACCESS = AccessPolicy()


def _instants() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds of an aware strategy
        max_value=datetime(2090, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from(_ZONES),
    )


def _ids() -> st.SearchStrategy[str]:
    """Ids as the desk takes them: non-blank, no control characters, no lone surrogates."""
    return st.text(
        alphabet=st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=12
    ).filter(lambda s: bool(s.strip()))


def _keys() -> st.SearchStrategy[str]:
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)


def dimensions() -> st.SearchStrategy[Dimension]:
    """One of the five SERVQUAL dimensions."""
    return st.sampled_from(Dimension)


def survey_items(
    *,
    key: st.SearchStrategy[str] | None = None,
    weight: st.SearchStrategy[float] | None = None,
    dimension: st.SearchStrategy[Dimension | None] | None = None,
) -> st.SearchStrategy[SurveyItem]:
    """A survey item with a weight 0..10 and perhaps a SERVQUAL dimension."""
    return st.builds(
        SurveyItem,
        key=_keys() if key is None else key,
        text=st.text(max_size=20),
        weight=(
            st.one_of(st.just(0.0), st.floats(0.1, 10, allow_nan=False))
            if weight is None
            else weight
        ),
        dimension=st.none() | dimensions() if dimension is None else dimension,
    )


@st.composite
def surveys(
    draw: st.DrawFn,
    *,
    scale: st.SearchStrategy[int] | None = None,
    item_count: st.SearchStrategy[int] | None = None,
    with_overall: st.SearchStrategy[bool] | None = None,
) -> Survey:
    """A survey of 1..6 items on a 5-, 7- or 10-point scale, weights not all zero."""
    points = draw(st.sampled_from([5, 7, 10]) if scale is None else scale)
    count = draw(st.integers(1, 6) if item_count is None else item_count)
    keys = draw(st.lists(_keys(), min_size=count, max_size=count, unique=True))
    items = [draw(survey_items(key=st.just(k))) for k in keys]
    if sum(item.weight for item in items) <= 0:
        first = items[0]
        items[0] = SurveyItem(first.key, first.text, 1.0, first.dimension)
    overall = draw(st.booleans() if with_overall is None else with_overall)
    questions = draw(st.lists(_keys(), max_size=2, unique=True))
    return Survey(
        id=draw(_ids()),
        title=draw(st.text(max_size=20)),
        items=tuple(items),
        scale=points,
        open_questions=tuple(OpenQuestion(q, q) for q in questions),
        overall_item=draw(st.sampled_from(keys)) if overall else None,
        method=draw(st.sampled_from(SurveyMethod)),
    )


def _response_for(
    survey: Survey, *, response_id: str, customer_id: str
) -> st.SearchStrategy[SurveyResponse]:
    score = st.integers(1, survey.scale)
    ratings = st.fixed_dictionaries({}, optional={item.key: score for item in survey.items})
    expectations = st.fixed_dictionaries(
        {}, optional={item.key: score for item in survey.items if item.dimension is not None}
    )
    answers = st.fixed_dictionaries(
        {}, optional={q.key: st.text(max_size=30) for q in survey.open_questions}
    )
    return st.builds(
        SurveyResponse,
        id=st.just(response_id),
        survey_id=st.just(survey.id),
        customer_id=st.just(customer_id),
        answered_at=_instants(),
        ratings=ratings,
        open_answers=answers,
        nps_score=st.none() | st.integers(0, 10),
        repurchased=st.none() | st.booleans(),
        would_recommend=st.none() | st.booleans(),
        expectations=expectations,
        campaign_id=st.none() | _ids(),
        method=st.none() | st.sampled_from(SurveyMethod),
    )


@st.composite
def survey_responses(
    draw: st.DrawFn, *, survey: st.SearchStrategy[Survey] | None = None
) -> SurveyResponse:
    """A response that answers (a drawn) survey within its scale."""
    chosen = draw(surveys() if survey is None else survey)
    return draw(_response_for(chosen, response_id=draw(_ids()), customer_id=draw(_ids())))


@st.composite
def surveys_with_responses(
    draw: st.DrawFn,
    *,
    survey: st.SearchStrategy[Survey] | None = None,
    count: st.SearchStrategy[int] | None = None,
) -> tuple[Survey, list[SurveyResponse]]:
    """A survey and responses to it from distinct customers."""
    chosen = draw(surveys() if survey is None else survey)
    n = draw(st.integers(0, 30) if count is None else count)
    one = _response_for(chosen, response_id="R", customer_id="C")
    drawn = draw(st.lists(one, min_size=n, max_size=n))
    return chosen, [attrs.evolve(r, id=f"R{i}", customer_id=f"C{i}") for i, r in enumerate(drawn)]


@st.composite
def survey_rows(
    draw: st.DrawFn,
    *,
    survey: st.SearchStrategy[Survey] | None = None,
    count: st.SearchStrategy[int] | None = None,
) -> tuple[Survey, list[tuple[int | bool | None, ...]]]:
    """A survey and plain score rows for :meth:`SurveyStats.add_rows` (few distinct values)."""
    chosen = draw(surveys() if survey is None else survey)
    n = draw(st.integers(0, 60) if count is None else count)
    rating = st.none() | st.integers(1, chosen.scale)
    row = st.tuples(
        *(rating for _ in chosen.items),
        st.none() | st.integers(0, 10),
        st.none() | st.booleans(),
        st.none() | st.booleans(),
    )
    rows: Sequence[tuple[int | bool | None, ...]] = draw(st.lists(row, min_size=n, max_size=n))
    return chosen, list(rows)


@st.composite
def satisfaction_policies(draw: st.DrawFn) -> SatisfactionPolicy:
    """A satisfaction policy with thresholds and flags varied around the defaults."""
    promoter = draw(st.integers(7, 10))
    return SatisfactionPolicy(
        satisfied_threshold=draw(st.floats(50, 100, allow_nan=False)),
        csat_top_boxes=draw(st.integers(1, 3)),
        nps_promoter_min=promoter,
        nps_detractor_max=draw(st.integers(0, promoter - 1)),
        product_weight=draw(st.floats(0, 1, allow_nan=False)),
        coverage_minimum=draw(st.floats(0, 1, allow_nan=False)),
        confidence_level=draw(st.sampled_from([0.9, 0.95, 0.99])),
        survey_months=draw(st.frozensets(st.integers(1, 12), max_size=12)),
        key_account_surveys_per_year=draw(st.sampled_from([1, 2, 3, 4, 6, 12])),
        survey_after_complaint=draw(st.booleans()),
        survey_after_order=draw(st.booleans()),
        survey_delay=timedelta(hours=draw(st.integers(0, 96))),
        survey_cooldown=timedelta(days=draw(st.integers(0, 90))),
        amplification_factor=draw(st.none() | st.decimals(1, 10, places=2)),
    )


@st.composite
def survey_campaigns(
    draw: st.DrawFn, *, status: st.SearchStrategy[CampaignStatus] | None = None
) -> SurveyCampaign:
    """A campaign planned and then moved to ``status`` through its own methods."""
    target = draw(st.sampled_from(CampaignStatus) if status is None else status)
    at = draw(_instants())
    starts = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
    invited = draw(st.frozensets(_ids(), min_size=1, max_size=8))
    base = draw(st.none() | st.integers(len(invited), 100))
    campaign = SurveyCampaign.plan(
        id=draw(_ids()),
        survey_id=draw(_ids()),
        starts_on=starts,
        ends_on=starts + timedelta(days=draw(st.integers(0, 120))),
        at=at,
        by=_MANAGER,
        access=_ACCESS,
        invited=invited,
        customer_base=base,
        key_accounts=draw(st.booleans()),
    )
    step = timedelta(hours=1)
    if target is CampaignStatus.PLANNED:
        return campaign
    if target is CampaignStatus.CANCELLED and draw(st.booleans()):
        return campaign.cancel(at=at + step, by=_MANAGER, access=_ACCESS, note="not needed")
    campaign = campaign.open(at=at + step, by=_MANAGER, access=_ACCESS)
    if target is CampaignStatus.CLOSED:
        return campaign.close(at=at + 2 * step, by=_MANAGER, access=_ACCESS)
    if target is CampaignStatus.CANCELLED:
        return campaign.cancel(at=at + 2 * step, by=_MANAGER, access=_ACCESS, note="stopped")
    return campaign


@st.composite
def satisfaction_monitors(
    draw: st.DrawFn,
    *,
    metric: st.SearchStrategy[SatisfactionMetric] | None = None,
    steps: st.SearchStrategy[int] | None = None,
) -> SatisfactionMonitor:
    """A monitor driven through measure, analyse, act, re-measure and close."""
    chosen = draw(st.sampled_from(SatisfactionMetric) if metric is None else metric)
    low, high = chosen.bounds
    level = st.floats(low, high, allow_nan=False)
    at = draw(_instants())
    monitor = SatisfactionMonitor.start(
        id=draw(_ids()),
        subject=draw(_ids()),
        metric=chosen,
        target=draw(level),
        measured=draw(level),
        at=at,
        by=_MANAGER,
        access=_ACCESS,
    )
    for _ in range(draw(st.integers(0, 6) if steps is None else steps)):
        at = at + timedelta(days=draw(st.integers(0, 30)))
        status = monitor.status
        if status is MonitorStatus.CLOSED:
            break
        if status in (MonitorStatus.MEASURED, MonitorStatus.REMEASURED):
            if draw(st.booleans()):
                monitor = monitor.close(
                    at=at, by=_MANAGER, access=_ACCESS, note="reviewed", accept_gap=True
                )
            else:
                monitor = monitor.analyse(
                    draw(st.lists(_ids(), min_size=1, max_size=3)),
                    at=at,
                    by=_MANAGER,
                    access=_ACCESS,
                )
        elif status is MonitorStatus.ANALYSED:
            monitor = monitor.act(draw(_ids()), at=at, by=_MANAGER, access=_ACCESS)
        else:
            monitor = monitor.remeasure(draw(level), at=at, by=_MANAGER, access=_ACCESS)
    return monitor


def survey_requests() -> st.SearchStrategy[SurveyRequested]:
    """A post-service survey request event."""

    @st.composite
    def build(draw: st.DrawFn) -> SurveyRequested:
        at = draw(_instants())
        return SurveyRequested(
            survey_id=draw(_ids()),
            customer_id=draw(_ids()),
            subject=draw(st.sampled_from(SurveySubject)),
            subject_id=draw(_ids()),
            requested_at=at,
            send_after=at + timedelta(hours=draw(st.integers(0, 72))),
        )

    return build()


@st.composite
def contact_records(
    draw: st.DrawFn,
    *,
    direction: st.SearchStrategy[ContactDirection] | None = None,
    agent: st.SearchStrategy[str | None] | None = None,
) -> ContactRecord:
    """A contact-centre call whose timestamps and flags are consistent."""
    way = draw(st.sampled_from(ContactDirection) if direction is None else direction)
    offered = draw(_instants())
    answered = draw(st.booleans())
    wait = timedelta(microseconds=draw(st.integers(0, 600_000_000)))
    talk = timedelta(microseconds=draw(st.integers(0, 3_600_000_000)))
    answered_at = offered + wait if answered else None
    ended = (answered_at or offered) + talk if answered else offered + wait
    inbound = way is ContactDirection.INBOUND
    return ContactRecord(
        id=draw(_ids()),
        offered_at=offered,
        answered_at=answered_at,
        ended_at=ended,
        direction=way,
        abandoned=False if answered else draw(st.booleans()),
        resolved_on_first_contact=draw(st.none() | st.booleans()) if answered else None,
        agent=draw(st.none() | st.sampled_from(["a1", "a2", "a3"]) if agent is None else agent),
        connected=None
        if inbound
        else draw(st.none() | (st.booleans() if answered else st.sampled_from([False]))),
        rings=draw(st.none() | st.integers(0, 10)) if inbound and answered else None,
        project=None if inbound else draw(st.none() | st.booleans()),
    )


@st.composite
def contact_centre_policies(draw: st.DrawFn) -> ContactCentrePolicy:
    """Contact-centre standards varied around the documents' defaults."""
    handle_min = draw(st.integers(0, 600))
    rings_min = draw(st.integers(0, 5))
    fraction = st.floats(0, 1, allow_nan=False)
    return ContactCentrePolicy(
        service_level_threshold=timedelta(seconds=draw(st.integers(0, 120))),
        service_level_target=draw(fraction),
        handling_time_min=timedelta(seconds=handle_min),
        handling_time_max=timedelta(seconds=handle_min + draw(st.integers(0, 600))),
        queue_time_target=timedelta(seconds=draw(st.integers(0, 120))),
        first_contact_resolution_target=draw(fraction),
        inbound_connection_target=draw(fraction),
        outbound_connection_target=draw(fraction),
        outbound_project_share_target=draw(fraction),
        rings_min=rings_min,
        rings_max=rings_min + draw(st.integers(0, 5)),
    )


@st.composite
def staff_pay_policies(draw: st.DrawFn) -> StaffPayPolicy:
    """A pay policy whose base share lies inside its allowed band."""
    low = draw(st.decimals("0.30", "0.60", places=2))
    high = draw(st.decimals(low, "0.90", places=2))
    kpi_min = draw(st.decimals("0", "1", places=2))
    return StaffPayPolicy(
        base_share=draw(st.decimals(low, high, places=2)),
        base_share_min=low,
        base_share_max=high,
        kpi_min=kpi_min,
        kpi_max=draw(st.decimals(kpi_min, "10", places=2)),
        standard_kpi=draw(st.decimals("0.5", "2", places=2)),
        scheme_alarm_share=draw(st.decimals("0.5", "1", places=2)),
    )


def kpi_measures(
    *, group: st.SearchStrategy[KpiGroup] | None = None
) -> st.SearchStrategy[KpiMeasure]:
    """One scored KPI on the 0..6 scale with a weight."""
    return st.builds(
        KpiMeasure,
        name=_ids(),
        group=st.sampled_from(KpiGroup) if group is None else group,
        value=st.decimals("0", "6", places=2),
        weight=st.decimals("0.1", "5", places=1),
    )


def staff_scores(
    *,
    currency: st.SearchStrategy[str] | None = None,
    kpi_value: st.SearchStrategy[Decimal] | None = None,
) -> st.SearchStrategy[StaffScore]:
    """Input for a pay line: last month's average pay and a KPI value."""

    @st.composite
    def build(draw: st.DrawFn) -> StaffScore:
        cents = draw(st.integers(0, 10_000_000))
        code = draw(st.just("CNY") if currency is None else currency)
        return StaffScore(
            staff_id=draw(_ids()),
            last_month_average=Money(Decimal(cents).scaleb(-2), code),
            kpi_value=draw(st.decimals("0", "8", places=2) if kpi_value is None else kpi_value),
        )

    return build()
