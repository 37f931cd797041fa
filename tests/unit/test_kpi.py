"""Contact-centre KPIs and staff performance pay (docs/domain.md 3.3 and 6)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.errors import ValidationError
from csdomain.kpi import (
    KPI_GROUPS,
    ContactCentrePolicy,
    ContactDirection,
    ContactKpi,
    ContactRecord,
    ContactStats,
    KpiGroup,
    KpiMeasure,
    OrderKpis,
    PayReport,
    StaffPayPolicy,
    StaffScore,
    kpi_by_group,
    kpi_report,
    kpi_reports_by_agent,
    kpi_value,
    order_kpis,
    pay_report,
    staff_pay,
)
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, Order, OrderLine, OrderPolicy, Stock
from csdomain.returns import ReceivedLine, ReturnItem, ReturnRequest
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_satisfaction import (
    contact_centre_policies,
    contact_records,
    kpi_measures,
    staff_pay_policies,
    staff_scores,
)


T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
OUT = ContactDirection.OUTBOUND


def call(
    n: int,
    wait: float | None,
    talk: float = 0,
    *,
    gave_up_after: float | None = None,
    **extra: object,
) -> ContactRecord:
    offered = T0 + timedelta(minutes=n)
    answered = None if wait is None else offered + timedelta(seconds=wait)
    if answered is not None:
        ended = answered + timedelta(seconds=talk)
    else:
        ended = offered + timedelta(seconds=gave_up_after or 0)
    return ContactRecord(
        id=f"K{n}",
        offered_at=offered,
        answered_at=answered,
        ended_at=ended,
        **extra,  # type: ignore[arg-type]
    )


def day_of_calls() -> list[ContactRecord]:
    return [
        call(1, 10, 200, resolved_on_first_contact=True, rings=2, agent="li"),
        call(2, 30, 300, resolved_on_first_contact=False, rings=4, agent="li"),
        call(3, 20, 250, resolved_on_first_contact=True, rings=3, agent="wang"),
        call(4, None, gave_up_after=40, abandoned=True),
        call(5, 5, 60, direction=OUT, project=True, agent="wang"),
        call(6, None, gave_up_after=30, direction=OUT, project=True, agent="wang"),
        call(7, 8, 20, direction=OUT, connected=False, project=False, agent="li"),
    ]


# -- contact-centre KPIs: a worked example ---------------------------------------------


def test_kpi_report_worked_example_against_the_documents_targets() -> None:
    report = kpi_report(day_of_calls())
    assert report.records == 7
    # service level: answered within 20 s (10 s and exactly 20 s) 2 of 4 inbound = 0.5 < 0.8
    assert report[ContactKpi.SERVICE_LEVEL].value == 0.5
    assert report[ContactKpi.SERVICE_LEVEL].passed is False
    # handling time of answered inbound calls (200 + 300 + 250) / 3 = 250 s, inside 210-330
    assert report[ContactKpi.AVERAGE_HANDLING_TIME].value == 250.0
    assert report[ContactKpi.AVERAGE_HANDLING_TIME].passed is True
    # queue time: 10, 30, 20 until answered and 40 until the caller gave up: 100 / 4 = 25 > 20
    assert report[ContactKpi.AVERAGE_QUEUE_TIME].value == 25.0
    assert report[ContactKpi.AVERAGE_QUEUE_TIME].passed is False
    # first-contact resolution 2 of 3 known < 0.85
    assert report[ContactKpi.FIRST_CONTACT_RESOLUTION].value == pytest.approx(2 / 3)
    assert report[ContactKpi.FIRST_CONTACT_RESOLUTION].passed is False
    # inbound connection 3 of 4 = 0.75 < 0.8; outbound: only call 5 reached the customer, 1/3
    assert report[ContactKpi.INBOUND_CONNECTION_RATE].value == 0.75
    assert report[ContactKpi.OUTBOUND_CONNECTION_RATE].value == pytest.approx(1 / 3)
    assert report[ContactKpi.OUTBOUND_CONNECTION_RATE].passed is False
    # outbound project share 2 of 3 < 0.9
    assert report[ContactKpi.OUTBOUND_PROJECT_SHARE].value == pytest.approx(2 / 3)
    # rings (2 + 4 + 3) / 3 = 3, inside 2-3
    assert report["average_rings"].value == 3.0
    assert report["average_rings"].passed is True
    assert {f.kpi for f in report.failed} == {
        ContactKpi.SERVICE_LEVEL,
        ContactKpi.AVERAGE_QUEUE_TIME,
        ContactKpi.FIRST_CONTACT_RESOLUTION,
        ContactKpi.INBOUND_CONNECTION_RATE,
        ContactKpi.OUTBOUND_CONNECTION_RATE,
        ContactKpi.OUTBOUND_PROJECT_SHARE,
    }
    assert not report.all_passed


def test_targets_come_from_the_policy() -> None:
    policy = ContactCentrePolicy(service_level_target=0.5, queue_time_target=timedelta(seconds=25))
    report = kpi_report(day_of_calls(), policy)
    assert report[ContactKpi.SERVICE_LEVEL].passed is True
    assert report[ContactKpi.AVERAGE_QUEUE_TIME].passed is True
    threshold = ContactCentrePolicy(service_level_threshold=timedelta(seconds=30))
    assert kpi_report(day_of_calls(), threshold)[ContactKpi.SERVICE_LEVEL].value == 0.75


def test_policy_defaults_are_the_documents_standards() -> None:
    policy = ContactCentrePolicy()
    assert policy.service_level_threshold == timedelta(seconds=20)
    assert policy.service_level_target == 0.80
    assert (policy.handling_time_min, policy.handling_time_max) == (
        timedelta(seconds=210),
        timedelta(seconds=330),
    )
    assert policy.queue_time_target == timedelta(seconds=20)
    assert policy.first_contact_resolution_target == 0.85
    assert (policy.inbound_connection_target, policy.outbound_connection_target) == (0.8, 0.6)
    assert policy.outbound_project_share_target == 0.9
    assert (policy.rings_min, policy.rings_max) == (2, 3)
    with pytest.raises(ValidationError):
        ContactCentrePolicy(service_level_target=1.5)
    with pytest.raises(ValidationError):
        ContactCentrePolicy(handling_time_min=timedelta(seconds=400))


def test_kpis_without_data_neither_pass_nor_fail() -> None:
    report = kpi_report([])
    assert all(f.value is None and f.passed is None for f in report)
    assert report.all_passed


def test_kpis_are_grouped_as_timeliness_effectiveness_conformity() -> None:
    groups = kpi_report(day_of_calls()).by_group()
    assert set(groups) == set(KpiGroup)
    assert {f.kpi for f in groups[KpiGroup.TIMELINESS]} == {
        ContactKpi.SERVICE_LEVEL,
        ContactKpi.AVERAGE_QUEUE_TIME,
        ContactKpi.AVERAGE_RINGS,
    }
    assert set(KPI_GROUPS) == set(ContactKpi)


def test_reports_per_agent_count_only_their_calls() -> None:
    reports = kpi_reports_by_agent(day_of_calls())
    assert list(reports) == ["li", "wang"]
    # li: calls 1, 2 inbound (handling 200, 300) and 7 outbound
    assert reports["li"].records == 3
    assert reports["li"][ContactKpi.AVERAGE_HANDLING_TIME].value == 250.0
    assert reports["wang"][ContactKpi.OUTBOUND_CONNECTION_RATE].value == 0.5


def test_contact_records_refuse_impossible_timings() -> None:
    with pytest.raises(ValidationError):
        call(1, -5, 10)
    with pytest.raises(ValidationError):
        call(1, 5, -10)
    with pytest.raises(ValidationError):
        call(1, 5, 10, abandoned=True)
    with pytest.raises(ValidationError):
        call(1, None, resolved_on_first_contact=True)
    with pytest.raises(ValidationError):
        call(1, 5, 10, connected=True)
    with pytest.raises(ValidationError):
        call(1, None, direction=OUT, connected=True)
    with pytest.raises(ValidationError):
        call(1, 5, 10, rings=-1)
    with pytest.raises(ValidationError):
        ContactRecord("K", datetime(2024, 1, 1), None, T0)
    with pytest.raises(ValidationError):
        call(1, 5, 10, direction="sideways")
    with pytest.raises(ValidationError):
        call(1, None, abandoned="yes")
    with pytest.raises(ValidationError):
        call(1, 5, 10, agent="")


# -- contact-centre KPIs: properties ---------------------------------------------------


@given(st.lists(contact_records(), max_size=30), st.data())
def test_merged_counters_equal_one_pass_over_all_records(
    records: list[ContactRecord], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(records)))
    left = ContactStats().add_all(records[:cut])
    right = ContactStats().add_all(records[cut:])
    assert left.merge(right).report() == kpi_report(records)


@given(st.lists(contact_records(), max_size=30), st.randoms(use_true_random=False))
def test_order_of_records_never_changes_the_report(
    records: list[ContactRecord], rng: random.Random
) -> None:
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert kpi_report(shuffled) == kpi_report(records)


@given(st.lists(contact_records(), max_size=30), contact_centre_policies())
def test_rates_are_fractions_and_times_are_not_negative(
    records: list[ContactRecord], policy: ContactCentrePolicy
) -> None:
    for figure in kpi_report(records, policy):
        if figure.value is None:
            assert figure.count == 0
            continue
        assert figure.value >= 0
        if figure.unit == "ratio":
            assert figure.value <= 1


@given(st.one_of(contact_records(), contact_centre_policies(), staff_pay_policies()))
def test_kpi_models_round_trip_through_the_converter(obj: object) -> None:
    assert from_json(type(obj), to_json(obj)) == obj


# -- staff pay -------------------------------------------------------------------------


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def test_actual_pay_is_base_plus_standard_performance_pay_times_kpi() -> None:
    policy = StaffPayPolicy(base_share=Decimal("0.6"))
    line = staff_pay("li", cny("10000.00"), Decimal("1.2"), policy)
    # base 10000 x 0.6 = 6000; standard performance 10000 x 0.4 = 4000; 4000 x 1.2 = 4800
    assert line.base_pay == cny("6000.00")
    assert line.standard_performance_pay == cny("4000.00")
    assert line.performance_pay == cny("4800.00")
    assert line.actual_pay == cny("10800.00")
    assert not line.clamped


def test_kpi_value_is_clamped_to_half_and_five_and_the_line_says_so() -> None:
    policy = StaffPayPolicy(base_share=Decimal("0.6"))
    high = staff_pay("li", cny("10000.00"), 7, policy)
    # 7 -> 5: 6000 + 4000 x 5 = 26000
    assert (high.applied_kpi, high.actual_pay, high.clamped) == (5, cny("26000.00"), True)
    low = staff_pay("li", cny("10000.00"), "0.2", policy)
    # 0.2 -> 0.5: 6000 + 4000 x 0.5 = 8000
    assert (low.applied_kpi, low.actual_pay, low.clamped) == (Decimal("0.5"), cny("8000.00"), True)
    assert low.kpi_value == Decimal("0.2")


def test_base_share_must_lie_between_half_and_four_fifths() -> None:
    policy = StaffPayPolicy()
    assert policy.base_share_min == Decimal("0.5")
    assert policy.base_share_max == Decimal("0.8")
    with pytest.raises(ValidationError):
        staff_pay("li", cny("100.00"), 1, policy, base_share=Decimal("0.9"))
    with pytest.raises(ValidationError):
        StaffPayPolicy(base_share=Decimal("0.4"))
    with pytest.raises(ValidationError):
        staff_pay("li", cny("100.00"), 1.5, policy)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        staff_pay("li", cny("100.00"), -1, policy)


def test_kpi_scheme_is_flagged_when_80_percent_score_below_one() -> None:
    policy = StaffPayPolicy()
    base = cny("5000.00")
    four_of_five = [
        StaffScore(f"s{i}", base, v) for i, v in enumerate(["0.9", "0.8", "0.5", "0.95", "1.3"])
    ]
    report = pay_report(four_of_five, policy)
    assert report.below_standard == 4
    assert report.below_standard_share == Decimal("0.8")
    assert report.scheme_suspect is True
    three_of_five = [*four_of_five[:3], *(StaffScore(f"t{i}", base, "1") for i in range(2))]
    assert pay_report(three_of_five, policy).scheme_suspect is False
    assert pay_report([], policy).scheme_suspect is False


def test_pay_report_refuses_the_same_person_twice() -> None:
    twice = [StaffScore("li", cny("1.00"), 1), StaffScore("li", cny("1.00"), 1)]
    with pytest.raises(ValidationError):
        pay_report(twice, StaffPayPolicy())


def test_kpi_value_is_the_weighted_mean_of_grouped_measures() -> None:
    measures = [
        KpiMeasure("answer speed", "timeliness", Decimal("1.2"), Decimal(2)),
        KpiMeasure("resolution", KpiGroup.EFFECTIVENESS, Decimal("0.9")),
        KpiMeasure("script", KpiGroup.CONFORMITY, Decimal("1.0")),
    ]
    # (1.2 x 2 + 0.9 + 1.0) / 4 = 4.3 / 4 = 1.075
    assert kpi_value(measures) == Decimal("1.075")
    assert kpi_by_group(measures) == {
        KpiGroup.TIMELINESS: Decimal("1.2"),
        KpiGroup.EFFECTIVENESS: Decimal("0.9"),
        KpiGroup.CONFORMITY: Decimal("1.0"),
    }
    score = StaffScore.from_measures("li", cny("100.00"), measures)
    assert score.kpi_value == Decimal("1.075")
    with pytest.raises(ValidationError):
        kpi_value([])


@given(staff_scores(), staff_pay_policies())
def test_base_and_standard_performance_pay_add_up_to_last_months_average(
    score: StaffScore, policy: StaffPayPolicy
) -> None:
    line = staff_pay(score.staff_id, score.last_month_average, score.kpi_value, policy)
    assert line.base_pay + line.standard_performance_pay == score.last_month_average
    assert policy.kpi_min <= line.applied_kpi <= policy.kpi_max


@given(staff_scores(), staff_pay_policies(), st.decimals("0", "3", places=2))
def test_a_higher_kpi_never_lowers_pay(
    score: StaffScore, policy: StaffPayPolicy, extra: Decimal
) -> None:
    lower = staff_pay(score.staff_id, score.last_month_average, score.kpi_value, policy)
    higher = staff_pay(score.staff_id, score.last_month_average, score.kpi_value + extra, policy)
    assert higher.actual_pay >= lower.actual_pay


@given(st.lists(kpi_measures(), min_size=1, max_size=6))
def test_kpi_value_lies_between_the_lowest_and_highest_measure(
    measures: list[KpiMeasure],
) -> None:
    value = kpi_value(measures)
    assert min(m.value for m in measures) <= value <= max(m.value for m in measures)


@given(st.lists(staff_scores(), max_size=10, unique_by=lambda s: s.staff_id))
def test_pay_report_total_is_the_sum_of_the_lines(scores: list[StaffScore]) -> None:
    report: PayReport = pay_report(scores, StaffPayPolicy())
    total = report.total()
    if not scores:
        assert total is None
    else:
        assert total == Money.total((line.actual_pay for line in report.lines), "CNY")
        assert report.scheme_suspect == (report.below_standard >= Decimal("0.8") * len(scores))


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: StaffScore("li", 5000, Decimal(1)), "last_month_average"),
        (lambda: StaffScore("li", Money.of(1, "CNY"), Decimal(1), 0.6), "base_share"),
        (lambda: kpi_report(5), "records"),  # type: ignore[arg-type]
        (lambda: kpi_reports_by_agent("CALL-1"), "records"),  # type: ignore[arg-type]
        (lambda: kpi_value(7), "measures"),  # type: ignore[arg-type]
        (lambda: kpi_by_group(None), "measures"),  # type: ignore[arg-type]
        (lambda: pay_report([], None), "policy"),  # type: ignore[arg-type]
        (lambda: staff_pay("li", Money.of(1, "CNY"), 1, None), "policy"),  # type: ignore[arg-type]
    ],
)
def test_kpi_inputs_of_the_wrong_type_are_refused_naming_the_field(call: object, path: str) -> None:
    """Rule: only CsDomainError leaves the library; wrong types name the bad field."""
    with pytest.raises(ValidationError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.errors[0][0] == path


# -- order KPIs (订单KPI) -------------------------------------------------------------------

_ACCESS = AccessPolicy()
_SALES = Actor("zhang.sales", {"salesperson"})
_FINANCE = Actor("fin", {"finance"})
_WAREHOUSE = Actor("wh", {"warehouse"})
_CS = Actor("qian.cs", {"cs_manager"})
_ORDERS = OrderPolicy()
_CALENDAR = BusinessCalendar.office("Asia/Shanghai")
_MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
_CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1", "430000", "Huake Bio")


def _order(n: int, *, confirm: bool = True, ship: bool = True) -> Order:
    order = Order.place(
        id=f"SO-{n}",
        customer_id="C1",
        channel="online",
        lines=[OrderLine("AB-100", 2, Money.of("10.00", "CNY"))],
        at=_MONDAY,
        by=_SALES,
        access=_ACCESS,
        policy=_ORDERS,
        consignee=_CONSIGNEE,
    )
    if not confirm:
        return order
    order = order.confirm(at=_MONDAY, by=_SALES, access=_ACCESS)
    if not ship:
        return order
    order = order.record_payment(order.balance, at=_MONDAY, by=_FINANCE, access=_ACCESS)
    return order.ship(at=_MONDAY, by=_WAREHOUSE, access=_ACCESS, policy=_ORDERS, calendar=_CALENDAR)


def _returned(order: Order, reason: str) -> ReturnRequest:
    request = ReturnRequest.file(
        id=f"RR-{order.id}",
        order=order,
        items=[ReturnItem("AB-100", 1)],
        reasons=(reason,),
        at=_MONDAY,
        by=_SALES,
        access=_ACCESS,
    )
    manager = Actor("wu.manager", {"department_manager"})
    request = request.approve(at=_MONDAY, by=manager, access=_ACCESS)
    return request.receive([ReceivedLine("AB-100", 1)], at=_MONDAY, by=_WAREHOUSE, access=_ACCESS)


def test_order_kpis_count_valid_orders_returns_refusals_and_the_service_level() -> None:
    # promised 5-6 November: delivered on the 6th is on time, on the 7th late
    on_time = _order(1).deliver(
        at=datetime(2026, 11, 6, 2, tzinfo=UTC), by=_WAREHOUSE, access=_ACCESS
    )
    late = _order(2).deliver(at=datetime(2026, 11, 7, 2, tzinfo=UTC), by=_WAREHOUSE, access=_ACCESS)
    undelivered = _order(3)  # past its promise by the end of the month: due and late
    returned, refused = _order(4), _order(5)
    unconfirmed = _order(6, confirm=False)
    confirmed = _order(7, ship=False)
    orders = [on_time, late, undelivered, returned, refused, unconfirmed, confirmed]
    returns = [_returned(returned, "defect"), _returned(refused, "refused_on_delivery")]
    stock = Stock("AB-100", good=20, gift=5)
    stock = stock.take_count({"good": 20}, number="ST-1", at=_MONDAY, by=_WAREHOUSE, access=_ACCESS)
    stock = stock.take_count(
        {"good": 18, "gift": 5}, number="ST-2", at=_MONDAY, by=_WAREHOUSE, access=_ACCESS
    )
    stock = stock.approve_count("ST-2", at=_MONDAY, by=_CS, access=_ACCESS)
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    kpis = order_kpis(orders, returns, [stock], start=start, end=end)
    assert (kpis.placed, kpis.valid_orders, kpis.valid_order_rate) == (7, 6, 6 / 7)
    assert (kpis.shipped, kpis.returned, kpis.refused) == (5, 1, 1)
    assert (kpis.return_rate, kpis.refusal_rate) == (0.2, 0.2)
    # due: the two delivered and the three undelivered past 6 November; on time: one
    assert (kpis.due, kpis.on_time, kpis.service_level) == (5, 1, 0.2)
    # stock-takes: ST-1 one line agreed; ST-2 good differed, gift agreed; ST-2 was booked
    assert (kpis.counted_lines, kpis.accurate_lines, kpis.stock_accuracy) == (3, 2, 2 / 3)
    assert (kpis.stock_takes, kpis.adjusted, kpis.manual_adjustment_rate) == (2, 1, 0.5)
    # 18 good + 5 gift on hand, 10 units shipped in 30 days: 23 / (10 / 30) = 69 days
    assert (kpis.units_on_hand, kpis.units_shipped) == (23, 10)
    assert kpis.stock_days == pytest.approx(69.0)
    assert from_json(OrderKpis, to_json(kpis)) == kpis


def test_order_kpis_of_an_empty_period_have_no_rates() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    kpis = order_kpis([_order(1)], [], [], start=start, end=start + timedelta(days=7))
    assert (kpis.placed, kpis.shipped) == (0, 0)
    assert kpis.valid_order_rate is None
    assert kpis.service_level is None
    assert kpis.stock_days is None
    with pytest.raises(ValidationError):
        order_kpis([], [], [], start=start, end=start)
