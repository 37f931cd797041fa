"""Service-layer tests of field service (现场服务) on the memory and SQLite backends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import attrs
import pytest

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.desk.base import use_cases
from csdomain.desk.fieldservice import FieldServiceDesk
from csdomain.errors import (
    CsDomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    Coverage,
    FaultEntry,
    PartStock,
    PartUse,
    PromiseTarget,
    ServiceOrder,
    ServiceOrderStatus,
    ShippedUnit,
    SignOff,
    TransferLine,
    VisitRecord,
)
from csdomain.kinds import (
    ACCESS_LOG,
    INTERACTIONS,
    ORDERS,
    OUTBOX,
    PART_MOVEMENTS,
    PART_STOCKS,
    PART_TRANSFERS,
    PRODUCT_FILES,
    SERVICE_ORDERS,
    TECHNICIANS,
    WARRANTY_CLAIMS,
)
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.policy import Policy
from csdomain.service import ServiceDesk
from csdomain.store import Kind, Store, open_store
from csdomain.warranty import Cause, PartKind, SparePart, WarrantyClaimStatus
from csdomain.warranty.parts import PriceList


S = ServiceOrderStatus
#: Monday 2026-11-02 09:00 in Asia/Shanghai.
START = datetime(2026, 11, 2, 1, tzinfo=UTC)
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
MANAGER = Actor("mgr-1", frozenset({"cs_manager"}))
DISPATCHER = Actor("disp-1", frozenset({"call_team"}))
TECH = Actor("tech-7", frozenset({"technician"}))
FINANCE = Actor("fin-1", frozenset({"finance"}))
SALES = Actor("sales-1", frozenset({"salesperson"}))
WAREHOUSE = Actor("wh-1", frozenset({"warehouse"}))
OUTSIDER = Actor("visitor-1", frozenset())
GUIDE = (
    FaultEntry(
        symptom="no power",
        causes=("power board",),
        measures=("replace the power board",),
        parts=("PB-55",),
        skills=frozenset({"electronics"}),
    ),
    FaultEntry(symptom="error E4", causes=("firmware",), route="remote"),
)
BOARD = SparePart(
    part_number="PB-55", name="power board", kind=PartKind.STANDARD, cost=Money.of("100.00", "CNY")
)
MAIN_BOARD = SparePart(
    part_number="MB-55", name="main board", kind=PartKind.STANDARD, cost=Money.of("800.00", "CNY")
)


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
        Policy(), fieldservice=attrs.evolve(Policy().fieldservice, fault_guide=GUIDE)
    )
    made = ServiceDesk(
        store, clock=clock, policy=policy, team_calendars={FIELD_SERVICE_TEAM: OFFICE}
    )
    customer, _ = made.register_customer(
        name="Zhang San", city="Wuhan", phone="027-87654321", by=MANAGER
    )
    assert customer.id == "CU-000001"
    made.register_service_area("WH-HS", name="Hongshan", district="WH", region="HUBEI", by=MANAGER)
    made.register_service_area("WH-WC", name="Wuchang", district="WH", region="HUBEI", by=MANAGER)
    made.register_service_point(
        "SP-WH",
        name="Wuhan own point",
        ownership="own",
        service_areas=["WH-HS", "WH-WC"],
        by=MANAGER,
    )
    made.register_technician(
        "tech-7",
        name="Li",
        service_point_id="SP-WH",
        skills=["repair", "electronics", "installation"],
        daily_capacity=2,
        calendar=OFFICE,
        by=MANAGER,
    )
    made.register_technician(
        "tech-8", name="Wang", service_point_id="SP-WH", skills=["repair"], by=MANAGER
    )
    made.register_product_file(
        "SN-001",
        model="TV-55",
        category="tv",
        customer_id="CU-000001",
        service_area_id="WH-HS",
        sold_on=date(2026, 7, 1),
        address="Luoyu Rd 1",
        by=MANAGER,
    )
    made.register_product_file(
        "SN-OLD",
        model="TV-55",
        category="tv",
        customer_id="CU-000001",
        service_area_id="WH-HS",
        sold_on=date(2020, 7, 1),
        address="Luoyu Rd 1",
        by=MANAGER,
    )
    made.receive_parts(
        "SP-WH",
        "DN-0001",
        [TransferLine(part=BOARD, quantity=10), TransferLine(part=MAIN_BOARD, quantity=5)],
        by=MANAGER,
    )
    return made


def snapshot(store: Store) -> dict[str, list[Any]]:
    with store.unit_of_work(readonly=True) as uow:
        kinds: tuple[Kind[Any], ...] = (
            SERVICE_ORDERS,
            PRODUCT_FILES,
            TECHNICIANS,
            WARRANTY_CLAIMS,
            OUTBOX,
            PART_STOCKS,
            PART_MOVEMENTS,
            PART_TRANSFERS,
        )
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


def outbox_types(store: Store) -> list[str]:
    with store.unit_of_work(readonly=True) as uow:
        return [entry.type for entry in uow.outbox.find(order_by="created_at")]


def opened(desk: ServiceDesk, serial: str = "SN-001", **changes: Any) -> ServiceOrder:
    fields: dict[str, Any] = {
        "kind": "repair",
        "urgency": "urgent",
        "symptoms": ["no power since the storm"],
        "by": DISPATCHER,
    }
    fields.update(changes)
    return desk.open_service_order(serial, **fields)


def on_site(desk: ServiceDesk, clock: FixedClock, serial: str = "SN-001") -> ServiceOrder:
    order = opened(desk, serial)
    clock.advance(timedelta(minutes=10))
    order = desk.triage_service_order(order.id, distance_km=12, by=DISPATCHER)
    order = desk.dispatch_service_order(order.id, "tech-7", by=DISPATCHER)
    clock.advance(timedelta(hours=1))
    desk.start_service_travel(order.id, by=TECH)
    clock.advance(timedelta(hours=1))
    return desk.record_arrival(order.id, by=TECH)


def visit(order: ServiceOrder, clock: FixedClock, **changes: Any) -> VisitRecord:
    assert order.arrived_at is not None
    clock.advance(timedelta(hours=1))
    fields: dict[str, Any] = {
        "technician_id": "tech-7",
        "arrived_at": order.arrived_at,
        "departed_at": clock.now(),
        "fault_found": "blown power board",
        "work_done": "replaced the power board",
        "parts": (PartUse(part=BOARD, removed_serial="PB-1", installed_serial="PB-2"),),
        "labour_minutes": 45,
    }
    fields.update(changes)
    return VisitRecord(**fields)


def signed(clock: FixedClock, **changes: Any) -> SignOff:
    fields: dict[str, Any] = {
        "customer_name": "Zhang San",
        "signature_ref": "sig/1.png",
        "accepted": True,
        "at": clock.now(),
        "feedback": "quick and friendly",
    }
    fields.update(changes)
    return SignOff(**fields)


# -- the skeleton ------------------------------------------------------------------------------


def test_every_field_service_use_case_compiles_its_checks() -> None:
    found = use_cases(FieldServiceDesk)
    pinned = {
        "open_service_order",
        "triage_service_order",
        "suggest_technicians",
        "dispatch_service_order",
        "record_arrival",
        "record_service_visit",
        "quote_service_order",
        "approve_service_quote",
        "complete_service_order",
        "sign_off_service_order",
        "settle_service_order",
        "service_order_breaches",
        "technician_daily_report",
        "register_service_point",
        "service_kpis",
    }
    assert pinned <= set(found)
    for spec in found.values():
        spec.checks()
    public = {
        n
        for n in vars(FieldServiceDesk)
        if not n.startswith("_") and callable(getattr(FieldServiceDesk, n))
    }
    assert public <= set(found)


# -- who may do what ---------------------------------------------------------------------------


def test_a_technician_may_no_longer_dispatch(desk: ServiceDesk, store: Store) -> None:
    # Rule: dispatching is the dispatch centre's step (service.dispatch), not the technician's.
    order = opened(desk)
    for step in (
        lambda: opened(desk, by=TECH),
        lambda: desk.triage_service_order(order.id, by=TECH),
        lambda: desk.dispatch_service_order(order.id, "tech-7", by=TECH),
        lambda: desk.cancel_service_order(order.id, reason="no", by=TECH),
    ):
        assert isinstance(unchanged_after(store, step), PermissionDenied)


def test_the_visit_steps_are_the_technicians(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: the technician's steps need service.visit: neither the dispatch centre nor a
    # manager records an arrival or a visit in the technician's name.
    order = opened(desk)
    order = desk.triage_service_order(order.id, by=DISPATCHER)
    order = desk.dispatch_service_order(order.id, "tech-7", by=DISPATCHER)
    for actor in (DISPATCHER, MANAGER, FINANCE):
        error = unchanged_after(store, partial(desk.record_arrival, order.id, by=actor))
        assert isinstance(error, PermissionDenied)
    assert desk.record_arrival(order.id, by=TECH).status is S.ON_SITE


def test_the_service_network_is_the_managers(desk: ServiceDesk, store: Store) -> None:
    # Rule: service points, territories and technicians need service.network (managers).
    for actor in (DISPATCHER, TECH, FINANCE):
        error = unchanged_after(
            store,
            partial(
                desk.register_service_area,
                "WH-JA",
                name="Jiang'an",
                district="WH",
                region="HUBEI",
                by=actor,
            ),
        )
        assert isinstance(error, PermissionDenied)
        assert "service.network" in str(error)
    blackout = [date(2026, 11, 9)]
    changed = desk.set_technician_availability("tech-7", blackout_days=blackout, by=DISPATCHER)
    assert date(2026, 11, 9) in changed.blackout_days


# -- the network and the installed base --------------------------------------------------------


def test_a_district_lies_in_one_region(desk: ServiceDesk, store: Store) -> None:
    code = rule_code(
        store,
        lambda: desk.register_service_area(
            "WH-X", name="x", district="WH", region="HUNAN", by=MANAGER
        ),
    )
    assert code == "district_in_other_region"


def test_a_service_point_serves_one_district(desk: ServiceDesk, store: Store) -> None:
    desk.register_service_area("YC-1", name="Yichang", district="YC", region="HUBEI", by=MANAGER)
    code = rule_code(
        store,
        lambda: desk.register_service_point(
            "SP-2", name="x", ownership="contracted", service_areas=["WH-HS", "YC-1"], by=MANAGER
        ),
    )
    assert code == "areas_in_several_districts"
    point = desk.register_service_point(
        "SP-YC", name="Yichang partner", ownership="contracted", service_areas=["YC-1"], by=MANAGER
    )
    assert point.contracted
    assert (point.district, point.region) == ("YC", "HUBEI")


def test_a_technician_works_in_the_areas_of_their_service_point(
    desk: ServiceDesk, store: Store
) -> None:
    desk.register_service_area("YC-1", name="Yichang", district="YC", region="HUBEI", by=MANAGER)
    code = rule_code(
        store,
        lambda: desk.register_technician(
            "t-9", name="x", service_point_id="SP-WH", skills=[], service_areas=["YC-1"], by=MANAGER
        ),
    )
    assert code == "outside_service_point"
    wang = desk.get_technician("tech-8", by=MANAGER)
    assert wang.service_areas == {"WH-HS", "WH-WC"}
    assert wang.daily_capacity == Policy().fieldservice.default_daily_capacity


def test_a_product_file_needs_a_customer_on_file(desk: ServiceDesk, store: Store) -> None:
    error = unchanged_after(
        store,
        lambda: desk.register_product_file(
            "SN-X", model="TV-55", category="tv", customer_id="CU-404",
            service_area_id="WH-HS", sold_on=date(2026, 1, 1), by=MANAGER,
        ),
    )  # fmt: skip
    assert isinstance(error, NotFound)
    tv = desk.get_product_file("SN-001", by=MANAGER)
    assert tv.warranty_ends == date(2027, 7, 1)
    assert desk.find_product_files(customer_id="CU-000001", by=MANAGER)[0].serial == "SN-001"


def test_product_files_are_created_from_a_shipped_order(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
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
        lines=[OrderLine("TV-55", 2, cny("3999.00"))],
        consignee=consignee,
        by=SALES,
    )
    units = [ShippedUnit(serial=f"TV-A{i}", sku="TV-55", category="tv") for i in (1, 2)]
    code = rule_code(
        store,
        lambda: desk.register_products_from_order(
            order.id, units, service_area_id="WH-HS", by=MANAGER
        ),
    )
    assert code == "order_not_shipped"
    desk.confirm_order(order.id, by=SALES)
    desk.record_payment(order.id, cny("7998.00"), by=Actor("vp", frozenset({"sales_vp"})))
    desk.receive_stock("TV-55", good=5, by=WAREHOUSE)
    clock.advance(timedelta(days=1))
    desk.ship_order(order.id, by=WAREHOUSE)
    files = desk.register_products_from_order(order.id, units, service_area_id="WH-HS", by=MANAGER)
    assert [(f.serial, f.address, f.sold_on, f.order_id) for f in files] == [
        ("TV-A1", "Luoyu Rd 9", date(2026, 11, 3), order.id),
        ("TV-A2", "Luoyu Rd 9", date(2026, 11, 3), order.id),
    ]
    assert outbox_types(store).count("ProductFileRegistered") == 4  # 2 by hand, 2 shipped
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(ORDERS).get(order.id).shipments


# -- receiving -----------------------------------------------------------------------------------


def test_each_job_gets_a_number_and_a_follow_up_keeps_it(desk: ServiceDesk, store: Store) -> None:
    first = opened(desk)
    second = opened(desk)
    assert (first.id, second.id) == ("SJ-202611-0001", "SJ-202611-0002")
    follow = opened(desk, follow_up_of=first.id)
    again = opened(desk, follow_up_of=follow.id)
    assert (follow.id, again.id) == ("SJ-202611-0001-1", "SJ-202611-0001-2")
    assert again.follow_up_of == first.id
    code = rule_code(store, lambda: opened(desk, "SN-OLD", follow_up_of=first.id))
    assert code == "follow_up_other_product"


def test_a_call_gets_the_promise_on_the_teams_calendar(desk: ServiceDesk) -> None:
    urgent = opened(desk)
    assert urgent.respond_by == START + timedelta(minutes=30)
    assert urgent.on_site_by == START + timedelta(hours=24)
    assert urgent.in_warranty
    ordinary = opened(desk, "SN-OLD", urgency="ordinary")
    assert not ordinary.in_warranty
    assert OFFICE.business_time_between(START, ordinary.on_site_by) == timedelta(hours=24)


def test_opening_a_call_is_refused_before_anything_is_loaded(
    desk: ServiceDesk, store: Store
) -> None:
    error = unchanged_after(store, lambda: opened(desk, "SN-404", by=FINANCE))
    assert isinstance(error, PermissionDenied)
    error = unchanged_after(store, lambda: opened(desk, "SN-001", description=1.5))
    assert isinstance(error, ValidationError)
    assert error.errors[0][0] == "description"
    assert isinstance(unchanged_after(store, lambda: opened(desk, "SN-404")), NotFound)


def test_triage_says_whether_someone_can_be_on_site_in_time(
    desk: ServiceDesk, clock: FixedClock
) -> None:
    order = opened(desk)
    clock.advance(timedelta(minutes=10))
    triaged = desk.triage_service_order(order.id, distance_km=12, by=DISPATCHER)
    assert triaged.triage is not None
    assert triaged.triage.finding_codes == ("known_fault", "on_site_repair", "on_time_possible")
    assert triaged.triage.skills == {"electronics", "repair"}
    assert triaged.responded_at == clock.now()
    desk.set_technician_availability(
        "tech-7", blackout_days=[date(2026, 11, 2), date(2026, 11, 3)], by=MANAGER
    )
    late = desk.triage_service_order(order.id, by=DISPATCHER)
    assert late.triage is not None
    assert late.triage.finding_codes[-1] == "not_on_time"
    desk.set_technician_availability("tech-7", active=False, by=MANAGER)
    none = desk.triage_service_order(order.id, by=DISPATCHER)
    assert none.triage is not None
    assert none.triage.finding_codes[-1] == "no_technician"


def test_phone_guidance_resolves_a_call_without_a_visit(desk: ServiceDesk, store: Store) -> None:
    order = opened(desk, symptoms=["error E4 on the display"])
    order = desk.triage_service_order(order.id, by=DISPATCHER)
    assert order.route is not None
    assert order.route.value == "remote"
    order = desk.resolve_service_order_remotely(
        order.id, resolution="talked the customer through a reset", by=DISPATCHER
    )
    order = desk.close_service_order(order.id, by=DISPATCHER)
    assert order.status is S.CLOSED
    assert desk.service_order_breaches(by=MANAGER, at=START + timedelta(days=3)) == []


# -- dispatch -------------------------------------------------------------------------------------


def test_suggestions_come_with_reasons(desk: ServiceDesk, clock: FixedClock) -> None:
    order = opened(desk)
    desk.triage_service_order(order.id, by=DISPATCHER)
    found = desk.suggest_technicians(order.id, by=DISPATCHER)
    assert [c.technician_id for c in found.candidates] == ["tech-7"]
    assert found.candidates[0].reason_codes[-1] == "on_time"
    assert [(p.technician_id, p.reason_codes) for p in found.passed_over] == [
        ("tech-8", ("missing_skill",))
    ]


def test_a_technicians_day_fills_up_to_the_capacity(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    jobs = [opened(desk) for _ in range(3)]
    for order in jobs:
        desk.triage_service_order(order.id, by=DISPATCHER)
    visit_at = START + timedelta(hours=1)
    first = desk.dispatch_service_order(jobs[0].id, "tech-7", visit_at=visit_at, by=DISPATCHER)
    desk.dispatch_service_order(jobs[1].id, "tech-7", visit_at=visit_at, by=DISPATCHER)
    code = rule_code(
        store,
        lambda: desk.dispatch_service_order(jobs[2].id, "tech-7", visit_at=visit_at, by=DISPATCHER),
    )
    assert code == "technician_unavailable"
    suggested = desk.suggest_technicians(jobs[2].id, by=DISPATCHER).candidates[0]
    assert suggested.visit_at == datetime(2026, 11, 3, 1, tzinfo=UTC)  # Tuesday 09:00
    assert "fully_booked" in suggested.reason_codes
    # a re-dispatch on the same day does not count the job twice
    again = desk.dispatch_service_order(
        first.id, "tech-7", visit_at=visit_at + timedelta(hours=2), by=DISPATCHER
    )
    assert len(again.dispatches) == 2
    plan = desk.technician_day_plan("tech-7", date(2026, 11, 2), by=TECH)
    assert [job.job_id for job in plan] == [jobs[1].id, first.id]


def test_dispatch_refuses_who_cannot_take_the_job(desk: ServiceDesk, store: Store) -> None:
    order = opened(desk)
    desk.triage_service_order(order.id, by=DISPATCHER)
    assert (
        rule_code(store, lambda: desk.dispatch_service_order(order.id, "tech-8", by=DISPATCHER))
        == "missing_skill"
    )
    night = datetime(2026, 11, 2, 13, tzinfo=UTC)  # 21:00
    code = rule_code(
        store,
        lambda: desk.dispatch_service_order(order.id, "tech-7", visit_at=night, by=DISPATCHER),
    )
    assert code == "technician_unavailable"
    error = unchanged_after(
        store,
        lambda: desk.dispatch_service_order(
            order.id, "tech-7", visit_at=START - timedelta(hours=1), by=DISPATCHER
        ),
    )
    assert isinstance(error, ValidationError)


# -- the visit, charging and settlement ---------------------------------------------------------


def test_a_job_within_warranty_costs_the_customer_nothing_and_becomes_a_claim(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    order = on_site(desk, clock)
    assert order.fix_by == order.arrived_at + timedelta(hours=24)  # type: ignore[operator]
    order = desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    order = desk.complete_service_order(order.id, by=TECH)
    assert order.coverage is Coverage.WARRANTY
    assert order.charge_total == cny("0.00")
    assert order.warranty_claim_id == "WC-202611-0001"
    with store.unit_of_work(readonly=True) as uow:
        claim = uow.repo(WARRANTY_CLAIMS).get(order.warranty_claim_id)
    assert claim.status is WarrantyClaimStatus.EVALUATED
    assert claim.decision is not None
    assert claim.decision.covered
    order = desk.sign_off_service_order(order.id, signed(clock), by=TECH)
    order = desk.settle_service_order(order.id, by=FINANCE)
    assert order.settlement is not None
    assert order.settlement.total == cny("0.00")
    order = desk.close_service_order(order.id, by=DISPATCHER)
    history = desk.get_product_file("SN-001", by=MANAGER).history
    assert [(entry.job_id, entry.summary) for entry in history] == [
        (order.id, "replaced the power board")
    ]
    assert Counter(outbox_types(store)) == {
        "CustomerRegistered": 1,
        "ProductFileRegistered": 2,
        "ServiceOrderOpened": 1,
        # triaged, dispatched, en route, on site, visit, fixed, signed off, settled, closed
        "ServiceOrderStatusChanged": 9,
        "ServiceOrderDispatched": 1,
        "WarrantyClaimSubmitted": 1,
        "WarrantyClaimEvaluated": 1,
        "ServiceOrderSettled": 1,
        # the visit is a contact: it goes into the customer's interaction log
        "InteractionRecorded": 1,
    }


def test_human_damage_within_warranty_is_charged_by_the_fee_schedule(
    desk: ServiceDesk, clock: FixedClock
) -> None:
    order = on_site(desk, clock)
    order = desk.record_service_visit(
        order.id, visit(order, clock, cause=Cause.HUMAN_DAMAGE), by=TECH
    )
    order = desk.complete_service_order(order.id, by=TECH)
    assert order.coverage is Coverage.CUSTOMER
    assert order.warranty_claim_id == "WC-202611-0001"
    assert order.charge_total == cny("253.00")


def test_paid_work_above_the_threshold_waits_for_the_customers_approval(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    order = on_site(desk, clock, "SN-OLD")
    quote = desk.quote_service_order(
        order.id, parts=[PartUse(part=MAIN_BOARD)], labour_minutes=60, by=TECH
    )
    assert [(line.label, str(line.amount)) for line in quote.lines] == [
        ("call-out fee x 1", "50.00 CNY"),
        ("distance 12 km x 1", "30.00 CNY"),
        ("labour 60 min", "80.00 CNY"),
        ("MB-55 x 1", "904.00 CNY"),
    ]
    assert quote.total == cny("1064.00")
    record = visit(order, clock, parts=(PartUse(part=MAIN_BOARD),), labour_minutes=60)
    desk.record_service_visit(order.id, record, by=TECH)
    assert (
        rule_code(store, lambda: desk.complete_service_order(order.id, by=TECH))
        == "quote_not_approved"
    )
    desk.approve_service_quote(order.id, approved_by="Zhang San", reference="phone 10:42", by=TECH)
    done = desk.complete_service_order(order.id, by=TECH)
    assert done.coverage is Coverage.CUSTOMER
    assert done.charge_total == cny("1064.00")
    assert done.warranty_claim_id is None
    desk.sign_off_service_order(order.id, signed(clock), by=TECH)
    error = unchanged_after(
        store, lambda: desk.settle_service_order(order.id, collected=cny("1000.00"), by=TECH)
    )
    assert isinstance(error, PermissionDenied)
    assert (
        rule_code(
            store, lambda: desk.settle_service_order(order.id, collected=cny("2000.00"), by=FINANCE)
        )
        == "collection_exceeds_total"
    )
    settled = desk.settle_service_order(order.id, collected=cny("1000.00"), by=FINANCE)
    assert settled.settlement is not None
    assert settled.settlement.invoiced == cny("64.00")
    assert settled.settlement.collected_by == "tech-7"
    report = desk.technician_daily_report("tech-7", date(2026, 11, 2), by=MANAGER)
    assert report.collected == cny("1000.00")
    assert report.parts == {"MB-55": 1}
    kpis = desk.service_kpis(by=MANAGER)
    assert kpis.out_of_warranty_revenue == cny("1064.00")
    assert kpis.first_time_fix_rate == 1.0


def test_a_job_waiting_for_parts_goes_back_on_site(desk: ServiceDesk, clock: FixedClock) -> None:
    order = on_site(desk, clock)
    waiting = desk.record_service_visit(
        order.id,
        visit(order, clock, fault_cleared=False, parts_missing=("PB-55",), parts=()),
        by=TECH,
    )
    assert waiting.status is S.WAITING_FOR_PARTS
    clock.advance(timedelta(hours=20))
    back = desk.record_arrival(waiting.id, by=TECH)
    assert back.status is S.ON_SITE
    assert back.fix_by == order.fix_by


def test_the_customer_signs_off_and_may_refuse(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    desk.complete_service_order(order.id, by=TECH)
    assert (
        rule_code(
            store,
            lambda: desk.sign_off_service_order(order.id, signed(clock, signature_ref=""), by=TECH),
        )
        == "signature_required"
    )
    future = signed(clock, at=clock.now() + timedelta(hours=1))
    assert isinstance(
        unchanged_after(store, lambda: desk.sign_off_service_order(order.id, future, by=TECH)),
        ValidationError,
    )
    reopened = desk.reopen_service_order(order.id, reason="still no picture", by=TECH)
    assert reopened.status is S.ON_SITE


def test_a_step_out_of_order_leaves_the_store_unchanged(desk: ServiceDesk, store: Store) -> None:
    order = opened(desk)
    error = unchanged_after(store, lambda: desk.complete_service_order(order.id, by=TECH))
    assert isinstance(error, InvalidTransition)
    assert error.action == "complete"
    error = unchanged_after(
        store, lambda: desk.record_arrival(order.id, at=START + timedelta(days=1), by=TECH)
    )
    assert isinstance(error, ValidationError)
    assert isinstance(
        unchanged_after(store, lambda: desk.settle_service_order("SJ-404", by=OUTSIDER)),
        PermissionDenied,
    )


def test_cancelling_needs_a_reason(desk: ServiceDesk) -> None:
    order = opened(desk)
    with pytest.raises(ValidationError):
        desk.cancel_service_order(order.id, reason=" ", by=DISPATCHER)
    assert (
        desk.cancel_service_order(order.id, reason="customer withdrew", by=DISPATCHER).status
        is S.CANCELLED
    )


# -- the promise ---------------------------------------------------------------------------------


def test_breaches_and_escalation_follow_the_promise(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    late = opened(desk)
    clock.advance(timedelta(hours=1))
    found = desk.service_order_breaches(by=MANAGER)
    assert [(b.job_id, b.target) for b in found] == [(late.id, PromiseTarget.RESPOND)]
    clock.advance(timedelta(hours=24))
    assert [b.target for b in desk.service_order_breaches(by=MANAGER)] == [
        PromiseTarget.RESPOND,
        PromiseTarget.ON_SITE,
    ]
    system = Actor.system()
    steps = desk.escalate_overdue_service_orders(by=system, owners={"department_manager": "mgr-2"})
    assert [(s.target, s.to_level, s.owner_role) for s in steps] == [
        ("respond", 2, "department_manager"),
        ("on_site", 3, "cs_manager"),
    ]
    assert steps[0].owner_id == "mgr-2"
    assert desk.escalate_overdue_service_orders(by=system) == []
    assert outbox_types(store)[-2:] == ["ServiceOrderEscalated", "ServiceOrderEscalated"]
    stored = desk.get_service_order(late.id, by=DISPATCHER)
    assert stored.escalation_level == 3
    met = desk.service_order_breaches(by=MANAGER, include_met=True)
    assert len(met) == 2
    with pytest.raises(ValidationError):
        desk.escalate_overdue_service_orders(by=system, owners={"janitor": "x"})


def test_queries_filter_jobs(desk: ServiceDesk, clock: FixedClock) -> None:
    order = on_site(desk, clock)
    opened(desk, "SN-OLD")
    assert [o.id for o in desk.find_service_orders(technician_id="tech-7", by=TECH)] == [order.id]
    assert len(desk.find_service_orders(status="received", by=TECH)) == 1
    assert [t.id for t in desk.find_technicians(district="WH", by=MANAGER)] == ["tech-7", "tech-8"]
    kpis = desk.service_kpis(by=MANAGER, start=START, end=START + timedelta(days=1))
    assert kpis.jobs == 2
    assert kpis.open_by_technician == {"tech-7": 1}
    with pytest.raises(ValidationError):
        desk.service_kpis(by=MANAGER, start=START, end=START - timedelta(days=1))


def test_the_warranty_desk_sees_the_claim_of_a_job(desk: ServiceDesk, clock: FixedClock) -> None:
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    done = desk.complete_service_order(order.id, by=TECH)
    assert done.warranty_claim_id is not None
    claim = desk.approve_warranty_claim(done.warranty_claim_id, by=TECH)
    assert claim.status is WarrantyClaimStatus.APPROVED
    assert Decimal(0) == done.charge_total.amount  # type: ignore[union-attr]


def test_a_fault_that_comes_back_twice_earns_an_exchange(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    def repaired(**changes: Any) -> ServiceOrder:
        order = opened(desk, **changes)
        clock.advance(timedelta(minutes=10))
        desk.triage_service_order(order.id, by=DISPATCHER)
        desk.dispatch_service_order(order.id, "tech-7", by=DISPATCHER)
        clock.advance(timedelta(minutes=30))
        order = desk.record_arrival(order.id, by=TECH)
        desk.record_service_visit(order.id, visit(order, clock, parts=()), by=TECH)
        return desk.complete_service_order(order.id, by=TECH)

    first = repaired()
    clock.advance(timedelta(days=2))
    second = repaired(follow_up_of=first.id)
    clock.advance(timedelta(days=2))
    third = repaired(follow_up_of=second.id)
    assert third.id == "SJ-202611-0001-2"
    with store.unit_of_work(readonly=True) as uow:
        claims = [uow.repo(WARRANTY_CLAIMS).get(o.warranty_claim_id or "") for o in (first, third)]
    assert claims[0].claim.failed_repairs == 0
    assert claims[1].claim.failed_repairs == 2
    assert claims[1].decision is not None
    assert claims[1].decision.reason_codes == ("repeated_failure",)
    assert third.coverage is Coverage.WARRANTY


# -- spare parts at the service points (配件管理) -------------------------------------------------

CHIP = SparePart(part_number="IC-9", name="controller chip", kind=PartKind.CORE)


def on_hand(desk: ServiceDesk, part: str, point: str = "SP-WH") -> int:
    return desk.get_part_stock(point, part, by=MANAGER).on_hand


def second_point(desk: ServiceDesk) -> None:
    desk.register_service_area("YC-1", name="Yichang", district="YC", region="HUBEI", by=MANAGER)
    desk.register_service_point(
        "SP-YC", name="Yichang partner", ownership="contracted", service_areas=["YC-1"], by=MANAGER
    )


def test_the_parts_of_a_visit_come_from_the_service_points_stock(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: the visit record's parts used come from the technician's service point stock,
    # in the same unit of work, never below zero (part_out_of_stock).
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    assert on_hand(desk, "PB-55") == 9
    with store.unit_of_work(readonly=True) as uow:
        (issued,) = uow.repo(PART_MOVEMENTS).find(kind="issued")
    assert (issued.reference, issued.quantity, issued.service_point_id) == (order.id, 1, "SP-WH")
    again = on_site(desk, clock, "SN-OLD")
    record = visit(again, clock, parts=(PartUse(part=BOARD, quantity=10),))
    assert (
        rule_code(store, lambda: desk.record_service_visit(again.id, record, by=TECH))
        == "part_out_of_stock"
    )
    assert desk.get_service_order(again.id, by=TECH).visits == ()


def test_a_delivery_is_received_once_against_its_note(desk: ServiceDesk, store: Store) -> None:
    # Rule: receipts are checked against the delivery note (receipt_exceeds_note,
    # receipt_not_on_note); a note is received once (note_already_received).
    lines = [TransferLine(part=BOARD, quantity=4)]
    assert (
        rule_code(store, lambda: desk.receive_parts("SP-WH", "DN-0001", lines, by=MANAGER))
        == "note_already_received"
    )
    over = {"PB-55": 5}
    assert (
        rule_code(
            store,
            lambda: desk.receive_parts("SP-WH", "DN-0002", lines, received=over, by=MANAGER),
        )
        == "receipt_exceeds_note"
    )
    short = desk.receive_parts("SP-WH", "DN-0002", lines, received={"PB-55": 3}, by=DISPATCHER)
    assert short.shortfall == 1
    assert on_hand(desk, "PB-55") == 13
    error = unchanged_after(store, lambda: desk.receive_parts("SP-WH", "DN-0003", lines, by=TECH))
    assert isinstance(error, PermissionDenied)


def test_a_transfer_between_points_is_shipped_then_received(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: 调拨: the parts leave the source when shipped and arrive when received, with a
    # receipt check; never more than the source holds.
    second_point(desk)
    assert (
        rule_code(
            store, lambda: desk.ship_part_transfer("SP-WH", "SP-YC", {"PB-55": 11}, by=MANAGER)
        )
        == "part_out_of_stock"
    )
    transfer = desk.ship_part_transfer("SP-WH", "SP-YC", {"PB-55": 4}, by=MANAGER)
    assert transfer.id == "DB-202611-0001"
    assert on_hand(desk, "PB-55") == 6
    clock.advance(timedelta(days=1))
    done = desk.receive_part_transfer(transfer.id, received={"PB-55": 4}, by=MANAGER)
    assert done.status.value == "received"
    assert on_hand(desk, "PB-55", "SP-YC") == 4
    assert isinstance(
        unchanged_after(store, lambda: desk.receive_part_transfer(transfer.id, by=MANAGER)),
        InvalidTransition,
    )


def test_an_ip_protected_core_part_is_never_transferred(desk: ServiceDesk, store: Store) -> None:
    # Rule: IP-protected core parts are never priced, transferred or sold.
    second_point(desk)
    desk.receive_parts("SP-WH", "DN-CORE", [TransferLine(part=CHIP, quantity=2)], by=MANAGER)
    assert (
        rule_code(store, lambda: desk.ship_part_transfer("SP-WH", "SP-YC", {"IC-9": 1}, by=MANAGER))
        == "part_not_transferable"
    )
    assert (
        rule_code(
            store,
            lambda: desk.quote_parts_to_channel(
                [PartUse(part=CHIP)], service_point_id="SP-YC", by=MANAGER
            ),
        )
        == "part_not_for_sale"
    )


def test_claim_material_is_written_off_only_with_its_product_and_user_data(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: claim material (索赔物料) is written off (核销) only with a valid product record
    # and user data.
    def write_off(serial: str, customer: str) -> object:
        return desk.write_off_claim_material(
            "SP-WH", "PB-55", 1, product_serial=serial, customer_id=customer, by=FINANCE
        )

    assert rule_code(store, lambda: write_off("SN-404", "CU-000001")) == (
        "claim_material_without_product"
    )
    assert rule_code(store, lambda: write_off("SN-001", "CU-999999")) == (
        "claim_material_without_user_data"
    )
    stock = write_off("SN-001", "CU-000001")
    assert isinstance(stock, PartStock)
    assert stock.on_hand == 9
    with store.unit_of_work(readonly=True) as uow:
        (moved,) = uow.repo(PART_MOVEMENTS).find(kind="written_off")
    assert (moved.product_serial, moved.customer_id) == ("SN-001", "CU-000001")


def test_parts_are_quoted_through_the_channel_only(desk: ServiceDesk, store: Store) -> None:
    # Rule: parts are not quoted straight to end users (不可对用户直接报价): a dealer or
    # agent on file, or a service point, on the dealer settlement list.
    dealer, _ = desk.register_customer(
        name="Hubei Parts Co", city="Wuhan", customer_class="dealer", by=MANAGER
    )
    second_point(desk)
    (to_dealer,) = desk.quote_parts_to_channel(
        [PartUse(part=BOARD, quantity=2)], dealer_id=dealer.id, by=DISPATCHER
    )
    assert to_dealer.price_list is PriceList.DEALER_SETTLEMENT
    assert to_dealer.list_price == cny("200.00")  # a standard part stays at cost
    (to_point,) = desk.quote_parts_to_channel(
        [PartUse(part=BOARD)], service_point_id="SP-YC", by=DISPATCHER
    )
    assert to_point.unit_price == cny("100.00")
    assert (
        rule_code(
            store,
            lambda: desk.quote_parts_to_channel(
                [PartUse(part=BOARD)], dealer_id="CU-000001", by=DISPATCHER
            ),
        )
        == "no_direct_quote_to_end_user"
    )


def test_the_monthly_parts_reconciliation_follows_every_job(
    desk: ServiceDesk, clock: FixedClock
) -> None:
    # Rule: parts settled per job and reconciled monthly: a job that drew parts and is
    # not settled is flagged; once settled its parts' charge shows.
    order = on_site(desk, clock, "SN-OLD")
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    month = desk.part_reconciliation("SP-WH", date(2026, 11, 1), by=FINANCE)
    line = month.line("PB-55")
    assert (line.opening, line.received, line.issued, line.closing) == (0, 10, 1, 9)
    assert [(job.job_id, job.settled) for job in month.jobs] == [(order.id, False)]
    assert month.flagged
    desk.complete_service_order(order.id, by=TECH)
    desk.sign_off_service_order(order.id, signed(clock), by=TECH)
    desk.settle_service_order(order.id, by=FINANCE)
    month = desk.part_reconciliation(
        "SP-WH", date(2026, 11, 30), counted={"PB-55": 9, "MB-55": 5}, by=FINANCE
    )
    assert [(job.settled, job.parts_charged) for job in month.jobs] == [(True, cny("113.00"))]
    assert not month.flagged
    december = desk.part_reconciliation("SP-WH", date(2026, 12, 1), by=FINANCE)
    assert (december.line("PB-55").opening, december.jobs) == (9, ())


def test_the_reserve_plan_and_the_stock_age_kpi(desk: ServiceDesk, clock: FixedClock) -> None:
    # Rule: planned replacements 1:1 of the parts used; 80 % of stock younger than 3 months.
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    plan = desk.part_reserve_plan("SP-WH", by=DISPATCHER)
    assert [(line.part_number, line.used, line.planned, line.on_hand) for line in plan.lines] == [
        ("MB-55", 0, 0, 5),
        ("PB-55", 1, 1, 9),
    ]
    overall, points = desk.part_stock_age(by=FINANCE)
    assert (overall.on_hand, overall.share, overall.met) == (14, 1.0, True)
    assert [point.service_point_id for point in points] == ["SP-WH"]
    clock.advance(timedelta(days=100))
    overall, _ = desk.part_stock_age(service_point_id="SP-WH", by=FINANCE)
    assert (overall.share, overall.met) == (0.0, False)


def test_a_claim_made_for_covered_work_names_the_service_point(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: stored warranty claims carry the service point that did the work.
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    done = desk.complete_service_order(order.id, by=TECH)
    with store.unit_of_work(readonly=True) as uow:
        claim = uow.repo(WARRANTY_CLAIMS).get(done.warranty_claim_id or "")
    assert claim.service_point_id == "SP-WH"


def test_a_job_goes_only_to_a_technician_of_an_active_point(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: a service order is dispatched only to a technician of an active service point.
    desk.register_service_area("WH-JX", name="Jiangxia", district="WH", region="HUBEI", by=MANAGER)
    desk.register_service_point(
        "SP-JX",
        name="Jiangxia partner",
        ownership="contracted",
        service_areas=["WH-JX"],
        by=MANAGER,
    )
    desk.register_technician(
        "tech-9", name="Zhao", service_point_id="SP-JX", skills=["repair"], by=MANAGER
    )
    order = desk.triage_service_order(opened(desk).id, by=DISPATCHER)
    assert (
        rule_code(store, lambda: desk.dispatch_service_order(order.id, "tech-9", by=DISPATCHER))
        == "service_point_not_active"
    )
    # and suggest_technicians passes them over with the same reason
    suggestion = desk.suggest_technicians(order.id, by=DISPATCHER)
    assert "tech-9" not in [c.technician_id for c in suggestion.candidates]
    [passed] = [p for p in suggestion.passed_over if p.technician_id == "tech-9"]
    assert passed.reason_codes[0] == "service_point_not_active"


def test_a_job_and_its_product_file_show_the_address_on_record_or_redacted(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: personal data (the address, the caller's words) is shown on record to
    # customer.read holders and redacted for others (finance settles without seeing it).
    job = opened(desk, description="the caller says no picture")
    with store.unit_of_work(readonly=True) as uow:
        before = uow.repo(ACCESS_LOG).count(customer_id=job.customer_id)
    seen = desk.get_service_order(job.id, by=DISPATCHER)
    assert seen.address == job.address
    assert desk.get_product_file(job.product_serial, by=DISPATCHER).address == job.address
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(ACCESS_LOG).count(customer_id=job.customer_id) == before + 2
    hidden = desk.get_service_order(job.id, by=FINANCE)
    assert hidden.address == "[redacted]"
    assert hidden.description == "[redacted]"
    assert hidden.id == job.id
    assert [j.address for j in desk.find_service_orders(by=FINANCE)] == ["[redacted]"]
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(ACCESS_LOG).count(customer_id=job.customer_id) == before + 2


def test_a_visit_goes_into_the_customers_interaction_log(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: a field visit is a contact with the customer (联系者报告制度): it is logged.
    order = on_site(desk, clock)
    record = visit(order, clock)
    desk.record_service_visit(order.id, record, by=TECH)
    with store.unit_of_work(readonly=True) as uow:
        [entry] = uow.repo(INTERACTIONS).find(customer_id=order.customer_id)
    assert (entry.channel, entry.source, entry.subject_id) == ("visit", "service_visit", order.id)
    assert entry.at == record.arrived_at
    assert entry.by == TECH.id


def test_a_step_returns_the_job_redacted_to_an_actor_without_customer_read(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: every path that returns personal data either may show it or redacts it: finance
    # settles a job and gets it back without the address or the customer's signature.
    order = on_site(desk, clock)
    desk.record_service_visit(order.id, visit(order, clock), by=TECH)
    desk.complete_service_order(order.id, by=TECH)
    signed_off = desk.sign_off_service_order(order.id, signed(clock), by=TECH)
    assert signed_off.address == order.address  # the technician holds customer.read
    settled = desk.settle_service_order(order.id, by=FINANCE)
    assert settled.address == "[redacted]"
    assert settled.sign_off is not None
    assert settled.sign_off.customer_name == "[redacted]"
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.repo(SERVICE_ORDERS).get(order.id)
    assert stored.address == order.address  # only what is returned is redacted


def test_after_sales_maintains_a_product_file_and_keeps_the_old_values(
    desk: ServiceDesk, store: Store
) -> None:
    # Rule: product files are maintained by after-sales (产品档案由售后维护): a move, a new
    # owner, an installation date change the file, each change kept with its old value.
    before = desk.get_product_file("SN-001", by=DISPATCHER)
    moved = desk.maintain_product_file(
        "SN-001", address="2 Luoyu Rd, Wuhan", reason="moved to the new lab", by=DISPATCHER
    )
    assert moved.address == "2 Luoyu Rd, Wuhan"
    [change] = moved.changes
    assert (change.field, change.old, change.new) == ("address", before.address, moved.address)
    assert change.reason == "moved to the new lab"
    same = desk.maintain_product_file(
        "SN-001", address="2 Luoyu Rd, Wuhan", reason="again", by=DISPATCHER
    )
    assert same.changes == moved.changes  # nothing changed, nothing logged
    error = unchanged_after(
        store,
        lambda: desk.maintain_product_file(
            "SN-001", customer_id="CU-404", reason="sold on", by=DISPATCHER
        ),
    )
    assert isinstance(error, NotFound)
    refused = unchanged_after(
        store, lambda: desk.maintain_product_file("SN-001", reason=" ", by=DISPATCHER)
    )
    assert isinstance(refused, ValidationError)
    denied = unchanged_after(
        store,
        lambda: desk.maintain_product_file("SN-001", address="x", reason="y", by=TECH),
    )
    assert isinstance(denied, PermissionDenied)


def test_a_stored_service_bom_prices_an_assembled_part_of_its_model(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: a service BOM per product (服务BOM): the parts of one product together cost twice
    # its dealer price, and a job on that model prices an assembled part as its share without
    # the visit record naming the BOM.
    from csdomain.warranty import BomLine, ServiceBom
    from csdomain.warranty.parts import quote_part

    board = SparePart(
        part_number="AS-55", name="panel", kind=PartKind.ASSEMBLED, dealer_price=cny("1000.00")
    )
    frame = SparePart(
        part_number="AS-56", name="frame", kind=PartKind.ASSEMBLED, dealer_price=cny("1000.00")
    )
    bom = ServiceBom(
        product="TV-55",
        dealer_price=cny("1000.00"),
        lines=(BomLine(part=board, quantity=1), BomLine(part=frame, quantity=1)),
    )
    assert desk.define_service_bom(bom, by=MANAGER) == bom
    assert desk.get_service_bom("TV-55", by=DISPATCHER) == bom
    order = on_site(desk, clock, "SN-OLD")
    quote = desk.quote_service_order(order.id, parts=[PartUse(part=board)], by=TECH)
    [part_line] = [line for line in quote.lines if line.label == "AS-55 x 1"]
    expected = quote_part(board, 1, Policy().warranty, bom=bom).total
    assert part_line.amount == expected
    # each part is half of twice the dealer price (1,000.00), with 13 % tax
    assert expected == cny("1130.00")
    denied = unchanged_after(store, lambda: desk.define_service_bom(bom, by=TECH))
    assert isinstance(denied, PermissionDenied)
