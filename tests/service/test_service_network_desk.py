"""Service-layer tests of the service network (服务网点): contracts, assessments, maintenance
plans, post-delivery jobs and the monthly statement, on the memory and SQLite backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import attrs
import pytest

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.desk.base import use_cases
from csdomain.desk.service_network import DELIVERY_JOB_SOURCE, ServiceNetworkDesk
from csdomain.errors import (
    AlreadyExists,
    CsDomainError,
    InvalidTransition,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    ContractStatus,
    Coverage,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    ShippedUnit,
    SignOff,
    VisitRecord,
)
from csdomain.kinds import (
    MAINTENANCE_PLANS,
    RULE_GUARDS,
    SERVICE_ORDERS,
    SERVICE_POINT_ASSESSMENTS,
    SERVICE_POINTS,
)
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.policy import Policy
from csdomain.service import ServiceDesk
from csdomain.store import Kind, Store, open_store


#: Monday 2026-11-02 09:00 in Asia/Shanghai.
START = datetime(2026, 11, 2, 1, tzinfo=UTC)
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
MANAGER = Actor("mgr-1", frozenset({"cs_manager"}))
DISPATCHER = Actor("disp-1", frozenset({"call_team"}))
TECH = Actor("tech-9", frozenset({"technician"}))
FINANCE = Actor("fin-1", frozenset({"finance"}))
SALES = Actor("sales-1", frozenset({"salesperson"}))
WAREHOUSE = Actor("wh-1", frozenset({"warehouse"}))
VP = Actor("vp-1", frozenset({"sales_vp"}))
SCORES = {"on_time": 28, "first_time_fix": 18, "satisfaction": 17, "records": 12, "parts": 10}
POOR = {"on_time": 10, "first_time_fix": 10, "satisfaction": 10, "records": 5, "parts": 5}


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> ServiceDesk:
    policy = attrs.evolve(
        Policy(),
        fieldservice=attrs.evolve(
            Policy().fieldservice,
            installation_models=frozenset({"TV-55"}),
            training_models=frozenset({"TV-55", "WM-8"}),
        ),
    )
    made = ServiceDesk(
        store, clock=clock, policy=policy, team_calendars={FIELD_SERVICE_TEAM: OFFICE}
    )
    customer, _ = made.register_customer(
        name="Zhang San", city="Wuhan", phone="027-87654321", by=MANAGER
    )
    assert customer.id == "CU-000001"
    made.register_service_area("WH-HS", name="Hongshan", district="WH", region="HUBEI", by=MANAGER)
    made.register_service_point(
        "SP-WH", name="Wuhan own point", ownership="own", service_areas=["WH-HS"], by=MANAGER
    )
    made.register_service_point(
        "SP-CT",
        name="Hongshan contracted point",
        ownership="contracted",
        service_areas=["WH-HS"],
        by=MANAGER,
    )
    made.register_technician(
        "tech-9",
        name="Zhou",
        service_point_id="SP-CT",
        skills=["repair", "planned_maintenance"],
        calendar=OFFICE,
        by=MANAGER,
    )
    for serial, sold in (("SN-001", date(2026, 7, 1)), ("SN-OLD", date(2020, 7, 1))):
        made.register_product_file(
            serial,
            model="TV-55",
            category="tv",
            customer_id="CU-000001",
            service_area_id="WH-HS",
            sold_on=sold,
            address="Luoyu Rd 1",
            by=MANAGER,
        )
    return made


def snapshot(store: Store) -> dict[str, list[Any]]:
    kinds: tuple[Kind[Any], ...] = (
        SERVICE_POINTS,
        SERVICE_POINT_ASSESSMENTS,
        MAINTENANCE_PLANS,
        SERVICE_ORDERS,
    )
    with store.unit_of_work(readonly=True) as uow:
        return {kind.name: uow.repo(kind).find() for kind in kinds}


def unchanged_after(store: Store, call: Callable[[], object]) -> CsDomainError:
    before = snapshot(store)
    with pytest.raises(CsDomainError) as caught:
        call()
    assert snapshot(store) == before
    return caught.value


def rule_code(store: Store, call: Callable[[], object]) -> str:
    error = unchanged_after(store, call)
    assert isinstance(error, RuleViolation), error
    return error.code


def opened_point(desk: ServiceDesk, point_id: str = "SP-CT") -> None:
    for step in (
        desk.review_service_point,
        desk.set_up_service_point,
        desk.sign_service_point,
        desk.activate_service_point,
    ):
        step(point_id, by=MANAGER)


def jobs(store: Store) -> list[ServiceOrder]:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(SERVICE_ORDERS).find(order_by="key")


# -- the skeleton ------------------------------------------------------------------------------


def test_every_service_network_use_case_compiles_its_checks() -> None:
    found = use_cases(ServiceNetworkDesk)
    for spec in found.values():
        spec.checks()
    public = {
        n
        for n in vars(ServiceNetworkDesk)
        if not n.startswith("_") and callable(getattr(ServiceNetworkDesk, n))
    }
    assert public <= set(found)


# -- contracts ---------------------------------------------------------------------------------


def test_a_contracted_point_opens_step_by_step_and_an_own_point_is_active(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: 申请;初审;服务站建设;开张准备和签约 in this order; an own point is active at once.
    points = {p.id: p for p in desk.find_service_points(by=MANAGER)}
    assert points["SP-WH"].status is ContractStatus.ACTIVE
    assert points["SP-CT"].status is ContractStatus.APPLICATION
    error = unchanged_after(store, lambda: desk.sign_service_point("SP-CT", by=MANAGER))
    assert isinstance(error, InvalidTransition)
    assert "cannot sign while application" in str(error)
    clock.advance(timedelta(days=1))
    desk.review_service_point("SP-CT", by=MANAGER)
    error = unchanged_after(store, lambda: desk.sign_service_point("SP-CT", by=MANAGER))
    assert "pass the review first" in str(error)
    for step in (desk.set_up_service_point, desk.sign_service_point, desk.activate_service_point):
        step("SP-CT", by=MANAGER)
    point = desk.find_service_points(status="active", by=MANAGER)
    assert [p.id for p in point] == ["SP-CT", "SP-WH"]
    history = point[0].history
    assert [(h.from_, h.to) for h in history] == [
        ("application", "review"),
        ("review", "set_up"),
        ("set_up", "signed"),
        ("signed", "active"),
    ]
    assert {h.by for h in history} == {"mgr-1"}
    assert isinstance(
        unchanged_after(store, lambda: desk.review_service_point("SP-WH", by=MANAGER)),
        InvalidTransition,
    )


def test_each_contract_step_needs_service_network(desk: ServiceDesk, store: Store) -> None:
    # Rule: the service network is the managers' (service.network).
    for actor in (DISPATCHER, TECH, FINANCE, SALES):
        error = unchanged_after(store, partial(desk.review_service_point, "SP-CT", by=actor))
        assert isinstance(error, PermissionDenied)
        assert "service.network" in str(error)


def test_a_suspended_point_says_why_and_can_be_reinstated(desk: ServiceDesk, store: Store) -> None:
    # Rule: active ⇄ suspended; a suspension carries its reason.
    opened_point(desk)
    error = unchanged_after(
        store, lambda: desk.suspend_service_point("SP-CT", reason="  ", by=MANAGER)
    )
    assert isinstance(error, ValidationError)
    point = desk.suspend_service_point("SP-CT", reason="late jobs", by=MANAGER)
    assert point.status is ContractStatus.SUSPENDED
    assert not point.takes_jobs
    assert point.history[-1].note == "late jobs"
    assert desk.reinstate_service_point("SP-CT", by=MANAGER).takes_jobs


# -- assessments -------------------------------------------------------------------------------


def test_an_assessment_scores_every_criterion_and_grades_the_total(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: periodic assessment on the policy's criteria, a total and a grade.
    opened_point(desk)
    done = desk.assess_service_point(
        "SP-CT", SCORES, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), by=MANAGER
    )
    assert (done.total, done.grade, done.suspended) == (85, "B", False)
    assert done.id == "SP-CT/2026-07-01"
    again = lambda: desk.assess_service_point(  # noqa: E731
        "SP-CT", SCORES, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), by=MANAGER
    )
    assert isinstance(unchanged_after(store, again), AlreadyExists)


def test_an_assessment_refuses_missing_or_out_of_range_scores(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: every criterion scored, each from 0 to its points; the period is over.
    def assess(scores: dict[str, int], end: date = date(2026, 9, 30)) -> object:
        return desk.assess_service_point(
            "SP-CT", scores, period_start=date(2026, 7, 1), period_end=end, by=MANAGER
        )

    missing = {k: v for k, v in SCORES.items() if k != "parts"}
    assert rule_code(store, lambda: assess(missing)) == "criterion_not_scored"
    assert rule_code(store, lambda: assess({**SCORES, "parts": 16})) == "score_out_of_range"
    unknown = unchanged_after(store, lambda: assess({**SCORES, "coffee": 3}))
    assert isinstance(unknown, ValidationError)
    future = unchanged_after(store, lambda: assess(SCORES, end=date(2026, 12, 31)))
    assert isinstance(future, ValidationError)


def test_a_poor_grade_suspends_the_point_in_the_same_unit_of_work(desk: ServiceDesk) -> None:
    # Rule: a grade of suspend_on_grades suspends an active point.
    opened_point(desk)
    done = desk.assess_service_point(
        "SP-CT", POOR, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30), by=MANAGER
    )
    assert (done.total, done.grade, done.suspended) == (40, "D", True)
    point = desk.find_service_points(status="suspended", by=MANAGER)[0]
    assert point.id == "SP-CT"
    assert point.history[-1].note == "assessment SP-CT/2026-07-01: grade D"
    # a point already suspended is not suspended again
    again = desk.assess_service_point(
        "SP-CT", POOR, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), by=MANAGER
    )
    assert (again.grade, again.suspended) == ("D", False)


def test_the_latest_assessment_of_each_point(desk: ServiceDesk) -> None:
    # Rule: the desk lists the latest assessment per point (the period ending last).
    opened_point(desk)
    for start, end, scores in (
        (date(2026, 7, 1), date(2026, 9, 30), SCORES),
        (date(2026, 4, 1), date(2026, 6, 30), POOR),
    ):
        desk.assess_service_point("SP-CT", scores, period_start=start, period_end=end, by=MANAGER)
    desk.assess_service_point(
        "SP-WH", POOR, period_start=date(2026, 4, 1), period_end=date(2026, 6, 30), by=MANAGER
    )
    latest = desk.latest_service_point_assessments(by=FINANCE)
    assert [(a.service_point_id, a.period_end, a.grade) for a in latest] == [
        ("SP-CT", date(2026, 9, 30), "B"),
        ("SP-WH", date(2026, 6, 30), "D"),
    ]
    assert desk.latest_service_point_assessments(district="SH", by=MANAGER) == []


# -- maintenance plans -------------------------------------------------------------------------


def test_a_quarterly_plan_opens_one_job_per_occurrence_until_the_warranty_ends(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: maintenance plans generate planned service orders when due, idempotently;
    # products past warranty stop generating.
    plan = desk.create_maintenance_plan("SN-001", by=DISPATCHER)
    assert (plan.frequency.value, plan.first_due) == ("quarterly", date(2027, 2, 2))
    assert desk.generate_maintenance_orders(by=DISPATCHER).opened == ()
    clock.set(datetime(2027, 2, 2, 2, tzinfo=UTC))
    first = desk.generate_maintenance_orders(by=DISPATCHER)
    assert len(first.opened) == 1
    assert desk.generate_maintenance_orders(by=DISPATCHER).opened == ()  # idempotent
    job = jobs(store)[0]
    assert (job.kind, job.source, job.source_ref) == (
        ServiceOrderKind.PLANNED_MAINTENANCE,
        ServiceOrderSource.MAINTENANCE_PLAN,
        "SN-001@2027-02-02",
    )
    assert job.in_warranty
    clock.set(datetime(2027, 5, 3, 2, tzinfo=UTC))
    second = desk.generate_maintenance_orders(by=DISPATCHER)
    assert len(second.opened) == 1
    assert second.ended == ("SN-001",)  # the next visit, 2027-08-02, is past the warranty
    clock.set(datetime(2027, 8, 3, 2, tzinfo=UTC))
    assert desk.generate_maintenance_orders(by=DISPATCHER) == type(second)()
    stored = desk.get_maintenance_plan("SN-001", by=DISPATCHER)
    assert (stored.active, stored.ended_on, len(stored.jobs)) == (False, date(2027, 5, 3), 2)
    assert len(jobs(store)) == 2


def test_missed_occurrences_open_one_job_not_a_pile(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: one job for the latest occurrence due; the earlier ones missed are skipped.
    desk.create_maintenance_plan("SN-001", frequency="monthly", by=DISPATCHER)
    clock.set(datetime(2027, 3, 5, 2, tzinfo=UTC))
    run = desk.generate_maintenance_orders(by=DISPATCHER)
    assert (len(run.opened), run.skipped) == (1, 3)
    assert jobs(store)[0].source_ref == "SN-001@2027-03-02"


def test_a_plan_needs_a_product_within_warranty(desk: ServiceDesk, store: Store) -> None:
    # Rule: maintenance plans run within warranty.
    code = rule_code(store, lambda: desk.create_maintenance_plan("SN-OLD", by=DISPATCHER))
    assert code == "product_out_of_warranty"
    past = unchanged_after(
        store,
        lambda: desk.create_maintenance_plan("SN-001", first_due=date(2026, 10, 1), by=DISPATCHER),
    )
    assert isinstance(past, ValidationError)
    desk.create_maintenance_plan("SN-001", by=DISPATCHER)
    twice = unchanged_after(store, lambda: desk.create_maintenance_plan("SN-001", by=DISPATCHER))
    assert isinstance(twice, AlreadyExists)
    for actor in (TECH, FINANCE):
        denied = unchanged_after(store, partial(desk.generate_maintenance_orders, by=actor))
        assert isinstance(denied, PermissionDenied)


def test_an_ended_plan_opens_nothing(desk: ServiceDesk, store: Store, clock: FixedClock) -> None:
    # Rule: a stopped plan generates no more jobs.
    desk.create_maintenance_plan("SN-001", by=DISPATCHER)
    ended = desk.end_maintenance_plan("SN-001", by=DISPATCHER)
    assert not ended.active
    assert desk.end_maintenance_plan("SN-001", by=DISPATCHER) == ended
    clock.set(datetime(2027, 2, 3, 2, tzinfo=UTC))
    assert desk.generate_maintenance_orders(by=DISPATCHER).opened == ()


# -- post-delivery jobs ------------------------------------------------------------------------


def delivered_order(desk: ServiceDesk, clock: FixedClock) -> str:
    consignee = ConsigneeInfo(
        consignee="Zhang San",
        phone="027-87654321",
        address="Luoyu Rd 9",
        postcode="430074",
        invoice_title="Zhang San",
    )
    order = desk.place_order(
        "CU-000001",
        channel="online",
        lines=[OrderLine("TV-55", 2, cny("3999.00")), OrderLine("WM-8", 1, cny("2999.00"))],
        consignee=consignee,
        by=SALES,
    )
    desk.confirm_order(order.id, by=SALES)
    desk.record_payment(order.id, cny("10997.00"), by=VP)
    desk.receive_stock("TV-55", good=5, by=WAREHOUSE)
    desk.receive_stock("WM-8", good=5, by=WAREHOUSE)
    clock.advance(timedelta(days=1))
    desk.ship_order(order.id, by=WAREHOUSE)
    units = [
        ShippedUnit(serial="TV-A1", sku="TV-55", category="tv"),
        ShippedUnit(serial="TV-A2", sku="TV-55", category="tv"),
        ShippedUnit(serial="WM-A1", sku="WM-8", category="tv"),
    ]
    desk.register_products_from_order(order.id, units, service_area_id="WH-HS", by=MANAGER)
    clock.advance(timedelta(days=2))
    desk.confirm_delivery(order.id, by=WAREHOUSE)
    return order.id


def test_delivered_products_get_their_installation_and_training_once(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: products that need installation or user training get those jobs after
    # delivery (送货上门安装商品使用的指导服务), once.
    order_id = delivered_order(desk, clock)
    assert desk.open_delivery_jobs(by=DISPATCHER).orders == 1
    made = jobs(store)
    assert sorted((j.product_serial, j.kind.value) for j in made) == [
        ("TV-A1", "installation"),
        ("TV-A1", "user_training"),
        ("TV-A2", "installation"),
        ("TV-A2", "user_training"),
        ("WM-A1", "user_training"),
    ]
    assert {(j.source, j.source_ref) for j in made} == {(DELIVERY_JOB_SOURCE, order_id)}
    with store.unit_of_work(readonly=True) as uow:
        guards = [g for g in uow.repo(RULE_GUARDS).find() if g.rule == "delivery_job"]
    assert sorted(g.holder for g in guards) == sorted(j.id for j in made)  # one slot each
    again = desk.open_delivery_jobs(by=DISPATCHER)
    assert (again.opened, again.orders) == ((), 1)
    assert len(jobs(store)) == 5
    clock.advance(timedelta(days=31))
    assert desk.open_delivery_jobs(by=DISPATCHER).orders == 0


def test_post_delivery_jobs_take_only_delivered_orders(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: the jobs follow delivery, not the order; a future window is refused.
    assert desk.open_delivery_jobs(by=DISPATCHER).orders == 0
    future = unchanged_after(
        store, lambda: desk.open_delivery_jobs(since=START + timedelta(days=1), by=DISPATCHER)
    )
    assert isinstance(future, ValidationError)


# -- the monthly statement ---------------------------------------------------------------------


def settled_job(desk: ServiceDesk, clock: FixedClock, serial: str, labour: int) -> ServiceOrder:
    order = desk.open_service_order(serial, kind="repair", by=DISPATCHER)
    clock.advance(timedelta(minutes=10))
    order = desk.triage_service_order(order.id, distance_km=12, by=DISPATCHER)
    order = desk.dispatch_service_order(order.id, "tech-9", by=DISPATCHER)
    clock.advance(timedelta(hours=1))
    order = desk.record_arrival(order.id, by=TECH)
    assert order.arrived_at is not None
    clock.advance(timedelta(hours=1))
    record = VisitRecord(
        technician_id="tech-9",
        arrived_at=order.arrived_at,
        departed_at=clock.now(),
        fault_found="loose connector",
        work_done="reseated the connector",
        labour_minutes=labour,
    )
    desk.record_service_visit(order.id, record, by=TECH)
    done = desk.complete_service_order(order.id, by=TECH)
    sign = SignOff(
        customer_name="Zhang San", signature_ref="sig/9.png", accepted=True, at=clock.now()
    )
    desk.sign_off_service_order(order.id, sign, by=TECH)
    assert done.charge_total is not None
    return desk.settle_service_order(order.id, collected=done.charge_total, by=FINANCE)


def test_a_contracted_points_monthly_statement(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: 单单结,月对账: every settled job of the month, one line each, the totals and
    # what the company owes the point (the fee schedule's call-out, distance and labour).
    opened_point(desk)
    paid = settled_job(desk, clock, "SN-OLD", labour=30)
    covered = settled_job(desk, clock, "SN-001", labour=60)
    assert paid.coverage is Coverage.CUSTOMER
    assert covered.coverage is Coverage.WARRANTY
    statement = desk.service_point_statement("SP-CT", year=2026, month=11, by=FINANCE)
    assert [(line.job_id, str(line.charged), str(line.fee)) for line in statement.lines] == [
        (paid.id, "120.00 CNY", "120.00 CNY"),  # 50 call-out + 30 distance + 40 labour
        (covered.id, "0.00 CNY", "160.00 CNY"),  # 50 + 30 + 80, carried by the warranty
    ]
    assert (statement.jobs, statement.collected, statement.fees) == (
        2,
        cny("120.00"),
        cny("280.00"),
    )
    assert statement.balance == cny("160.00")  # the company pays the point
    assert desk.service_point_statement("SP-CT", year=2026, month=10, by=FINANCE).jobs == 0
    assert (
        rule_code(
            store, lambda: desk.service_point_statement("SP-WH", year=2026, month=11, by=FINANCE)
        )
        == "point_not_contracted"
    )
    bad = unchanged_after(
        store, lambda: desk.service_point_statement("SP-CT", year=2026, month=13, by=FINANCE)
    )
    assert isinstance(bad, ValidationError)
    denied = unchanged_after(
        store, lambda: desk.service_point_statement("SP-CT", year=2026, month=11, by=TECH)
    )
    assert isinstance(denied, PermissionDenied)
