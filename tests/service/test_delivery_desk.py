"""DeliveryDesk: delivery problems through the service layer (docs/domain.md 2 and 9).

Every use case runs on both bundled backends; a refused use case leaves the store exactly
as it was; the outbox holds the events of every use case that succeeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import Customer, CustomerClass
from csdomain.desk.delivery import DeliveryDesk
from csdomain.desk.orders import OrderDesk
from csdomain.errors import (
    CsDomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import ACCESS_LOG, DELIVERY_PROBLEMS, STOCKS
from csdomain.money import Money
from csdomain.orders import (
    REDACTED,
    ConsigneeInfo,
    DeliveryProblemCase,
    Order,
    OrderLine,
    ProblemLine,
    ProblemOutcome,
    ProblemStatus,
    ShippingMode,
    Stock,
)
from csdomain.returns import ReturnItem
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)  # 09:00 in Shanghai
CS = Actor("li.cs", {"specialist"})
SALES = Actor("zhang.sales", {"salesperson"})
MANAGER = Actor("wu.manager", {"department_manager"})
FINANCE = Actor("qian.finance", {"finance"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
VP = Actor("sun.vp", {"sales_vp"})
OUTSIDER = Actor("guest", frozenset())
CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")
NOTE = "Dr. Chen (13800138000) found two bags torn"


class Desk(OrderDesk, DeliveryDesk):
    """The order and delivery-problem use cases on one store."""


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    with opened.unit_of_work() as uow:
        uow.customers.add(
            Customer(
                id="C-1",
                code="Wuhan-202611-C-1-001",
                name="Customer C-1",
                customer_class=CustomerClass.MEMBER,
                city="Wuhan",
                created_at=MONDAY,
                created_by="seed",
            )
        )
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> Desk:
    return Desk(store, clock=clock)


def snapshot(store: Store) -> dict[str, list[tuple[str, int]]]:
    """Every stored key and version, per kind: any write changes it."""
    with store.unit_of_work(readonly=True) as uow:
        return {
            kind.name: [
                (key, version)
                for key, version, _ in uow.tx.find(kind.name, (), (("key", False),), None, 0)
            ]
            for kind in store.kinds
        }


def unchanged_after(store: Store, call: Callable[[], object]) -> CsDomainError:
    """Run a refused use case; return its error after checking nothing was written."""
    before = snapshot(store)
    with pytest.raises(CsDomainError) as info:
        call()
    assert snapshot(store) == before
    return info.value


def rule_code(store: Store, call: Callable[[], object]) -> str:
    error = unchanged_after(store, call)
    assert isinstance(error, RuleViolation), error
    return error.code


def outbox_types(store: Store) -> list[str]:
    with store.unit_of_work(readonly=True) as uow:
        return sorted(entry.type for entry in uow.outbox.find())


def access_records(store: Store) -> Counter[tuple[str, str, str]]:
    with store.unit_of_work(readonly=True) as uow:
        found = uow.repo(ACCESS_LOG).find()
    return Counter((r.customer_id, r.actor_id, r.purpose) for r in found)


def stock_of(store: Store, sku: str) -> Stock:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(STOCKS).get_or_none(sku) or Stock(id=sku)


def stored(store: Store, problem_id: str) -> DeliveryProblemCase:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(DELIVERY_PROBLEMS).get(problem_id)


def shipped(desk: Desk, sku: str = "BAG-25", quantity: int = 60, stock: int = 100) -> Order:
    """A paid order of ``quantity`` bags, shipped from a stock of ``stock``."""
    desk.receive_stock(sku, good=stock, by=WAREHOUSE)
    order = desk.place_order(
        "C-1",
        channel="online",
        lines=[OrderLine(sku, quantity, cny("10.00"))],
        consignee=CONSIGNEE,
        by=SALES,
    )
    order = desk.confirm_order(order.id, by=SALES)
    order = desk.record_payment(order.id, order.total, by=FINANCE)
    return desk.ship_order(order.id, by=WAREHOUSE)


def short(desk: Desk, order: Order, missing: int = 5) -> DeliveryProblemCase:
    case = desk.report_delivery_problem(
        order.id, "short_quantity", lines=[ProblemLine("BAG-25", missing)], by=CS
    )
    return desk.route_delivery_problem(case.id, by=CS)


def test_a_delivery_problem_is_recorded_against_a_shipped_order_under_the_next_number(
    desk: Desk, store: Store
) -> None:
    # Rule: customer service records the delivery problems customers raise (docs/domain.md 2)
    order = shipped(desk)
    case = desk.report_delivery_problem(
        order.id, "damaged_packaging", lines=[ProblemLine("BAG-25", 2)], description=NOTE, by=CS
    )
    assert case.id == "DP-202611-0001"
    assert (case.order_id, case.customer_id, case.status) == (order.id, "C-1", "reported")
    assert (case.reported_by, case.reported_at, case.quantity) == (CS.id, MONDAY, 2)
    assert stored(store, case.id) == case
    assert "DeliveryProblemReported" in outbox_types(store)
    again = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    assert again.id == "DP-202611-0002"
    assert again.lines == ()


def test_only_a_shipped_order_has_delivery_problems(desk: Desk, store: Store) -> None:
    # Rule: only goods that left can go wrong in delivery (order_not_shipped)
    placed = desk.place_order(
        "C-1", channel="online", lines=[OrderLine("BAG-25", 1, cny("10.00"))], by=SALES
    )
    assert (
        rule_code(store, lambda: desk.report_delivery_problem(placed.id, "late_delivery", by=CS))
        == "order_not_shipped"
    )
    error = unchanged_after(
        store, lambda: desk.report_delivery_problem("SO-9", "late_delivery", by=CS)
    )
    assert isinstance(error, NotFound)
    order = shipped(desk)
    error = unchanged_after(
        store, lambda: desk.report_delivery_problem(order.id, "late_delivery", by=WAREHOUSE)
    )
    assert isinstance(error, PermissionDenied)


def test_a_delivery_problem_concerns_no_more_than_was_shipped(desk: Desk, store: Store) -> None:
    # Rule: the quantities reported are at most what the order shipped, across its problems
    order = shipped(desk, quantity=10)

    def report(quantity: int, sku: str = "BAG-25") -> DeliveryProblemCase:
        lines = [ProblemLine(sku, quantity)]
        return desk.report_delivery_problem(order.id, "short_quantity", lines=lines, by=CS)

    assert rule_code(store, lambda: report(11)) == "problem_exceeds_shipment"
    assert rule_code(store, lambda: report(1, "PEN")) == "problem_exceeds_shipment"
    first = report(6)
    assert rule_code(store, lambda: report(5)) == "problem_exceeds_shipment"
    desk.resolve_delivery_problem(first.id, "unfounded", by=CS)
    assert report(10).quantity == 10  # a closed problem takes nothing
    damaged = desk.report_delivery_problem(
        order.id, "damaged_packaging", lines=[ProblemLine("BAG-25", 10)], by=CS
    )
    assert damaged.quantity == 10  # another kind counts on its own


def test_30_damaged_bags_go_to_the_sales_vp_and_the_quality_department(
    desk: Desk, store: Store
) -> None:
    # Rule: 破损超过30袋及以上 - 30 bags and more in a 60-tonne wagon; 29 stay with customer service
    order = shipped(desk)

    def routed(bags: int, **fields: object) -> DeliveryProblemCase:
        case = desk.report_delivery_problem(
            order.id,
            "damaged_packaging",
            lines=[ProblemLine("BAG-25", bags)],
            by=CS,
            **fields,  # type: ignore[arg-type]
        )
        return desk.route_delivery_problem(case.id, by=CS)

    thirty = routed(30)
    assert thirty.status is ProblemStatus.ROUTED
    assert thirty.route == ("quality_department", "sales_vp")
    assert thirty.reasons == ("damaged_bags_over_limit",)
    assert thirty.escalated
    few = routed(29)
    assert (few.route, few.reasons, few.escalated) == (("customer_service",), (), False)
    half_wagon = routed(1, wagon_tonnes=Decimal(2))  # 30 bags per 60 t: one bag per 2 t
    assert half_wagon.escalated
    assert "DeliveryProblemRouted" in outbox_types(store)


def test_content_beyond_half_a_percent_goes_to_the_sales_vp_and_quality(desk: Desk) -> None:
    # Rule: content deviating more than ±0.5 % goes to the sales VP and the quality department
    order = shipped(desk)

    def routed(deviation: str) -> DeliveryProblemCase:
        case = desk.report_delivery_problem(
            order.id, "off_spec_content", content_deviation=Decimal(deviation), by=CS
        )
        return desk.route_delivery_problem(case.id, by=CS)

    assert routed("-0.007").reasons == ("content_deviation_over_tolerance",)
    assert routed("-0.007").route == ("quality_department", "sales_vp")
    assert routed("0.004").route == ("customer_service",)


def test_a_short_quantity_is_made_up_from_stock_naming_the_person_responsible(
    desk: Desk, store: Store
) -> None:
    # Rule: 补齐货物数量,追究相关责任人的失职责任 - the missing goods leave stock in the same
    # unit of work, and the person responsible is on record
    order = shipped(desk)
    case = short(desk, order)
    before = stock_of(store, "BAG-25").good
    made = desk.record_make_up_shipment(
        case.id, responsible="qian.picker", tracking="SF123", by=WAREHOUSE
    )
    assert made.status is ProblemStatus.BEING_REMEDIED
    assert made.make_up is not None
    assert (made.make_up.responsible, made.make_up.by, made.make_up.tracking) == (
        "qian.picker",
        WAREHOUSE.id,
        "SF123",
    )
    assert made.make_up.mode is ShippingMode.EXPRESS  # the customer waits: urgent
    assert [(line.sku, line.quantity) for line in made.make_up.lines] == [("BAG-25", 5)]
    assert stock_of(store, "BAG-25").good == before - 5
    assert stored(store, case.id) == made
    assert {"MakeUpShipped", "StockIssued"} <= set(outbox_types(store))
    again = unchanged_after(
        store, lambda: desk.record_make_up_shipment(case.id, responsible="x", by=WAREHOUSE)
    )
    assert isinstance(again, InvalidTransition)  # one make-up covers all that was missing


def test_a_make_up_shipment_never_drives_stock_negative(desk: Desk, store: Store) -> None:
    # Rule: 不开负库存 - a make-up that stock cannot cover is refused and nothing moves
    order = shipped(desk, quantity=60, stock=62)
    case = short(desk, order, missing=5)
    assert stock_of(store, "BAG-25").good == 2
    assert (
        rule_code(
            store, lambda: desk.record_make_up_shipment(case.id, responsible="x", by=WAREHOUSE)
        )
        == "insufficient_stock"
    )
    assert stored(store, case.id).status is ProblemStatus.ROUTED


def test_only_a_short_quantity_is_made_up_by_the_warehouse_naming_someone(
    desk: Desk, store: Store
) -> None:
    # Rule: the make-up ships from stock (order.ship), only for a short quantity, with a name
    order = shipped(desk)
    case = short(desk, order)
    error = unchanged_after(
        store, lambda: desk.record_make_up_shipment(case.id, responsible="x", by=CS)
    )
    assert isinstance(error, PermissionDenied)
    error = unchanged_after(
        store, lambda: desk.record_make_up_shipment(case.id, responsible="  ", by=WAREHOUSE)
    )
    assert isinstance(error, ValidationError)
    late = desk.route_delivery_problem(
        desk.report_delivery_problem(order.id, "late_delivery", by=CS).id, by=CS
    )
    assert (
        rule_code(
            store, lambda: desk.record_make_up_shipment(late.id, responsible="x", by=WAREHOUSE)
        )
        == "not_short_quantity"
    )


def test_a_short_quantity_is_resolved_only_once_it_was_made_up(desk: Desk, store: Store) -> None:
    # Rule: 补齐货物数量 - a short quantity ends as made_up after its make-up shipment
    order = shipped(desk)
    case = short(desk, order)
    for outcome in ("made_up", "compensated"):
        assert (
            rule_code(store, lambda o=outcome: desk.resolve_delivery_problem(case.id, o, by=CS))  # type: ignore[misc]
            == "make_up_shipment_missing"
        )
    desk.record_make_up_shipment(case.id, responsible="qian.picker", by=WAREHOUSE)
    assert (
        rule_code(store, lambda: desk.resolve_delivery_problem(case.id, "accepted", by=CS))
        == "make_up_shipment_missing"
    )
    done = desk.resolve_delivery_problem(case.id, "made_up", by=CS, note="received in full")
    assert (done.status, done.outcome) == (ProblemStatus.RESOLVED, ProblemOutcome.MADE_UP)
    assert (done.resolved_by, done.resolved_at, done.resolution) == (
        CS.id,
        MONDAY,
        "received in full",
    )
    assert "DeliveryProblemResolved" in outbox_types(store)


def test_a_delay_that_cannot_be_cured_goes_to_the_sales_vp_then_return_exchange(
    desk: Desk, store: Store
) -> None:
    # Rule: 交货延期太长……营销副总 - a delay that cannot be cured goes to the sales VP, then
    # the return/exchange policy: the customer's return request is linked
    order = shipped(desk)
    late = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    routed = desk.route_delivery_problem(late.id, by=CS)
    assert routed.route == ("customer_service",)
    escalated = desk.escalate_late_delivery(late.id, by=CS, note="stuck at the border")
    assert escalated.status is ProblemStatus.BEING_REMEDIED
    assert escalated.route == ("customer_service", "sales_vp")
    assert escalated.reasons == ("delay_not_curable",)
    assert escalated.escalated
    assert escalated.return_exchange
    assert not escalated.delay_curable
    assert "LateDeliveryEscalated" in outbox_types(store)
    assert (
        rule_code(store, lambda: desk.resolve_delivery_problem(late.id, "return_exchange", by=VP))
        == "return_request_missing"
    )
    request = desk.request_return(
        order.id, items=[ReturnItem("BAG-25", 60)], reasons="late_delivery", by=SALES
    )
    linked = desk.link_return_request(late.id, request.id, by=CS)
    assert linked.return_id == request.id
    assert linked.status is ProblemStatus.BEING_REMEDIED
    assert "DeliveryProblemReturnLinked" in outbox_types(store)
    for clerk in (CS, MANAGER):  # the VP decides: neither holds the VP's authority
        error = unchanged_after(
            store,
            lambda who=clerk: desk.resolve_delivery_problem(late.id, "return_exchange", by=who),  # type: ignore[misc]
        )
        assert isinstance(error, PermissionDenied)
    done = desk.resolve_delivery_problem(late.id, "return_exchange", by=VP)
    assert (done.status, done.outcome) == (ProblemStatus.RESOLVED, ProblemOutcome.RETURN_EXCHANGE)


def test_a_delay_reported_as_not_curable_is_routed_to_the_sales_vp(desk: Desk) -> None:
    # Rule: a delay that cannot be cured goes to the sales VP from the start
    order = shipped(desk)
    late = desk.report_delivery_problem(order.id, "late_delivery", delay_curable=False, by=CS)
    routed = desk.route_delivery_problem(late.id, by=CS)
    assert (routed.route, routed.reasons) == (("sales_vp",), ("delay_not_curable",))
    assert routed.escalated
    assert routed.return_exchange


def test_only_a_late_delivery_is_escalated_as_a_delay(desk: Desk, store: Store) -> None:
    # Rule: the delay route is for late deliveries (not_late_delivery)
    order = shipped(desk)
    case = short(desk, order)
    assert (
        rule_code(store, lambda: desk.escalate_late_delivery(case.id, by=CS)) == "not_late_delivery"
    )
    late = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    error = unchanged_after(store, lambda: desk.escalate_late_delivery(late.id, by=CS))
    assert isinstance(error, InvalidTransition)
    assert "route the delivery problem first" in str(error)


def test_a_return_is_linked_only_on_the_return_exchange_path_and_of_the_same_order(
    desk: Desk, store: Store
) -> None:
    # Rule: the return/exchange path takes the customer's own return of this order
    order = shipped(desk)
    other = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("BAG-25", 1)], reasons="late_delivery", by=SALES
    )
    elsewhere = desk.request_return(
        other.id, items=[ReturnItem("BAG-25", 1)], reasons="late_delivery", by=SALES
    )
    case = short(desk, order)
    desk.record_make_up_shipment(case.id, responsible="qian.picker", by=WAREHOUSE)
    assert (
        rule_code(store, lambda: desk.link_return_request(case.id, request.id, by=CS))
        == "return_exchange_not_open"
    )
    late = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    desk.route_delivery_problem(late.id, by=CS)
    error = unchanged_after(store, lambda: desk.link_return_request(late.id, request.id, by=CS))
    assert isinstance(error, InvalidTransition)
    assert "escalate the late delivery first" in str(error)
    desk.escalate_late_delivery(late.id, by=CS)
    assert (
        rule_code(store, lambda: desk.link_return_request(late.id, elsewhere.id, by=CS))
        == "return_of_another_order"
    )
    desk.withdraw_return(request.id, by=SALES)
    assert (
        rule_code(store, lambda: desk.link_return_request(late.id, request.id, by=SALES))
        == "return_not_open"
    )


def test_an_unfounded_or_withdrawn_problem_is_closed(desk: Desk, store: Store) -> None:
    # Rule: a report that does not hold up is closed, from any open status
    order = shipped(desk)
    case = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    closed = desk.resolve_delivery_problem(case.id, "unfounded", by=CS, note="arrived on time")
    assert (closed.status, closed.outcome) == (ProblemStatus.CLOSED, ProblemOutcome.UNFOUNDED)
    assert "DeliveryProblemClosed" in outbox_types(store)
    error = unchanged_after(
        store, lambda: desk.resolve_delivery_problem(case.id, "accepted", by=CS)
    )
    assert isinstance(error, InvalidTransition)
    fresh = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    error = unchanged_after(
        store, lambda: desk.resolve_delivery_problem(fresh.id, "delivered", by=CS)
    )
    assert isinstance(error, InvalidTransition)  # resolved only once routed
    routed = desk.route_delivery_problem(fresh.id, by=CS)
    assert desk.resolve_delivery_problem(routed.id, "delivered", by=CS).outcome == "delivered"


def test_a_delivery_problems_free_text_is_redacted_without_customer_read(
    desk: Desk, store: Store
) -> None:
    # Rule: 保护客户隐私 - the description and notes are free text about the customer: on
    # record for customer.read, redacted for the warehouse
    order = shipped(desk)
    case = desk.report_delivery_problem(
        order.id, "damaged_packaging", lines=[ProblemLine("BAG-25", 2)], description=NOTE, by=CS
    )
    assert case.description == NOTE
    before = access_records(store)
    seen = desk.get_delivery_problem(case.id, by=WAREHOUSE)
    assert seen.description == REDACTED
    assert seen.lines == case.lines
    assert desk.find_delivery_problems(order_id=order.id, by=WAREHOUSE) == [seen]
    assert access_records(store) == before
    assert desk.get_delivery_problem(case.id, by=CS, purpose="call back") == case
    assert desk.find_delivery_problems(customer_id="C-1", by=MANAGER) == [case]
    assert access_records(store) - before == Counter(
        [("C-1", CS.id, "call back"), ("C-1", MANAGER.id, "find_delivery_problems")]
    )
    with pytest.raises(PermissionDenied):
        desk.get_delivery_problem(case.id, by=FINANCE)
    bare = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    recorded = access_records(store)
    assert desk.get_delivery_problem(bare.id, by=CS) == bare
    assert access_records(store) == recorded  # no free text: nothing personal shown


def test_find_delivery_problems_filters_by_status_and_kind(desk: Desk) -> None:
    # Rule: the open problems of a kind are listed for follow-up, oldest first
    order = shipped(desk)
    first = short(desk, order, missing=1)
    late = desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    assert [c.id for c in desk.find_delivery_problems(kind="short_quantity", by=CS)] == [first.id]
    assert [c.id for c in desk.find_delivery_problems(status="reported", by=CS)] == [late.id]
    assert [c.id for c in desk.find_delivery_problems(limit=1, by=CS)] == [first.id]


def test_the_monthly_delivery_problem_analysis_counts_kinds_routes_and_outcomes(
    desk: Desk, clock: FixedClock
) -> None:
    # Rule: delivery problems are analysed monthly like damage: kind, item, quantity, who
    # decided, outcomes and the people responsible
    order = shipped(desk)
    case = short(desk, order, missing=3)
    desk.record_make_up_shipment(case.id, responsible="qian.picker", by=WAREHOUSE)
    desk.resolve_delivery_problem(case.id, "made_up", by=CS)
    bags = desk.report_delivery_problem(
        order.id, "damaged_packaging", lines=[ProblemLine("BAG-25", 30)], by=CS
    )
    desk.route_delivery_problem(bags.id, by=CS)
    desk.report_delivery_problem(order.id, "late_delivery", by=CS)
    clock.advance(timedelta(days=31))
    desk.report_delivery_problem(order.id, "late_delivery", by=CS)  # December
    rows = desk.delivery_problem_analysis("2026-11", by=WAREHOUSE)
    summary = [
        (r.kind.value, r.sku, r.problems, r.quantity, r.escalated, r.open, r.outcomes) for r in rows
    ]
    assert summary == [
        ("damaged_packaging", "BAG-25", 1, 30, 1, 1, ()),
        ("late_delivery", "", 1, 0, 0, 1, ()),
        ("short_quantity", "BAG-25", 1, 3, 0, 0, (ProblemOutcome.MADE_UP,)),
    ]
    assert rows[2].responsible == ("qian.picker",)
    assert [r.kind.value for r in desk.delivery_problem_analysis((2026, 12), by=VP)] == [
        "late_delivery"
    ]
    with pytest.raises(PermissionDenied):
        desk.delivery_problem_analysis("2026-11", by=OUTSIDER)
