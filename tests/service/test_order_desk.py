"""OrderDesk: orders, stock and returns through the service layer (docs/domain.md 2).

Every use case runs on both bundled backends; a refused use case leaves the store exactly
as it was; the outbox holds the events of every use case that succeeded. A state machine
drives random sequences of desk commands and checks the invariants of docs/domain.md 2.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import Customer, CustomerClass
from csdomain.desk.base import DeskBase, use_cases
from csdomain.desk.orders import OrderDesk
from csdomain.errors import (
    CsDomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import ACCESS_LOG, ORDERS, RETURNS, STOCKS
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.orders import (
    REDACTED,
    ConsigneeInfo,
    ItemCondition,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    ShipmentLine,
    Stock,
    StockBucket,
)
from csdomain.policy import Policy
from csdomain.returns import (
    ReceivedLine,
    ReturnItem,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    returnable_quantities,
)
from csdomain.satisfaction import SurveyRequested, SurveySubject
from csdomain.store import Store, open_store


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)  # 09:00 in Shanghai
SALES = Actor("zhang.sales", {"salesperson"})
OTHER_SALES = Actor("li.sales", {"salesperson"})
MANAGER = Actor("wu.manager", {"department_manager"})
FINANCE = Actor("qian.finance", {"finance"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
VP = Actor("sun.vp", {"sales_vp"})
OUTSIDER = Actor("guest", frozenset())
CONSIGNEE = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan", "430000", "Huake Bio")


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def customer(id: str = "C-1", customer_class: CustomerClass = CustomerClass.MEMBER) -> Customer:
    return Customer(
        id=id,
        code=f"Wuhan-202611-{id}-001",
        name=f"Customer {id}",
        customer_class=customer_class,
        city="Wuhan",
        created_at=MONDAY,
        created_by="seed",
    )


def seed(store: Store, *customers: Customer) -> None:
    with store.unit_of_work() as uow:
        for c in customers or (customer(),):
            uow.customers.add(c)


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    seed(opened)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> OrderDesk:
    return OrderDesk(store, clock=clock)


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


class Outbox:
    """The event types written to the outbox since the last look."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen: set[str] = set()

    def new(self) -> list[str]:
        with self.store.unit_of_work(readonly=True) as uow:
            entries = [e for e in uow.outbox.find() if e.id not in self.seen]
        self.seen.update(e.id for e in entries)
        return sorted(e.type for e in entries)


@pytest.fixture
def outbox(store: Store) -> Outbox:
    return Outbox(store)


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


LINES = (OrderLine("AB-100", 2, cny("150.00")), OrderLine("PEN", 1, cny("0"), gift=True))


def place(desk: OrderDesk, **fields: object) -> Order:
    values: dict[str, object] = {
        "channel": "online",
        "lines": LINES,
        "by": SALES,
        "consignee": CONSIGNEE,
    }
    values.update(fields)
    return desk.place_order("C-1", **values)  # type: ignore[arg-type]


def confirmed(desk: OrderDesk, **fields: object) -> Order:
    return desk.confirm_order(place(desk, **fields).id, by=SALES)


def paid(desk: OrderDesk, **fields: object) -> Order:
    order = confirmed(desk, **fields)
    return desk.record_payment(order.id, order.total, by=FINANCE)


def stocked(desk: OrderDesk, good: int = 10, gift: int = 5) -> None:
    desk.receive_stock("AB-100", good=good, by=WAREHOUSE)
    desk.receive_stock("PEN", gift=gift, by=WAREHOUSE)


def shipped(desk: OrderDesk) -> Order:
    stocked(desk)
    return desk.ship_order(paid(desk).id, by=WAREHOUSE)


def stored_order(store: Store, order_id: str) -> Order:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(ORDERS).get(order_id)


# -- placing and confirming ---------------------------------------------------------------


def test_orders_take_the_next_number_of_the_monthly_series(
    desk: OrderDesk, store: Store, outbox: Outbox, clock: FixedClock
) -> None:
    first = place(desk)
    second = place(desk)
    clock.advance(timedelta(days=30))
    december = place(desk)
    assert [first.id, second.id, december.id] == [
        "SO-202611-0001",
        "SO-202611-0002",
        "SO-202612-0001",
    ]
    assert first.status is OrderStatus.PLACED
    assert first.total == cny("300.00")
    assert stored_order(store, first.id) == first
    assert outbox.new() == ["OrderPlaced"] * 3


def test_an_order_needs_a_known_customer(desk: OrderDesk, store: Store) -> None:
    error = unchanged_after(
        store, lambda: desk.place_order("C-404", channel="online", lines=LINES, by=SALES)
    )
    assert isinstance(error, NotFound)


def test_placing_an_order_needs_order_place(desk: OrderDesk, store: Store) -> None:
    error = unchanged_after(store, lambda: place(desk, by=WAREHOUSE))
    assert isinstance(error, PermissionDenied)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"lines": None}, "lines"),
        ({"lines": ["AB-100"]}, "lines.0"),
        ({"lines": ()}, "lines"),
        ({"channel": "pigeon"}, "channel"),
        ({"consignee": "Dr. Chen"}, "consignee"),
        ({"prepayment": "100"}, "prepayment"),
        ({"dealer_id": 7}, "dealer_id"),
        ({"channel": "dealer"}, "dealer_id"),
        ({"kind": "custom"}, "contract_number"),
    ],
)
def test_bad_orders_are_validation_errors_and_take_no_number(
    desk: OrderDesk, store: Store, fields: dict[str, object], path: str
) -> None:
    error = unchanged_after(store, lambda: place(desk, **fields))
    assert isinstance(error, ValidationError)
    assert path in [p for p, _ in error.errors]
    assert place(desk).id == "SO-202611-0001"


def test_phone_order_is_confirmed_by_the_salesperson_first(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = place(desk, channel="phone", salesperson=SALES.id)
    outbox.new()
    code = rule_code(store, lambda: desk.confirm_order(order.id, by=SALES))
    assert code == "salesperson_confirmation_required"
    with pytest.raises(PermissionDenied):
        desk.confirm_by_salesperson(order.id, by=OTHER_SALES)
    checked = desk.confirm_by_salesperson(order.id, by=SALES)
    assert checked.confirmed_by_salesperson == SALES.id
    assert outbox.new() == ["OrderConfirmedBySalesperson"]
    assert desk.confirm_order(order.id, by=SALES).status is OrderStatus.CONFIRMED
    assert outbox.new() == ["OrderConfirmed"]


def test_whoever_places_a_phone_order_is_its_salesperson_when_none_is_named(
    desk: OrderDesk, store: Store
) -> None:
    order = place(desk, channel="phone")
    assert order.salesperson == SALES.id
    error = unchanged_after(store, lambda: desk.confirm_by_salesperson(order.id, by=OTHER_SALES))
    assert isinstance(error, PermissionDenied)
    assert desk.confirm_by_salesperson(order.id, by=SALES).confirmed_by_salesperson == SALES.id


def test_confirming_needs_order_confirm(desk: OrderDesk, store: Store) -> None:
    order = place(desk)
    error = unchanged_after(store, lambda: desk.confirm_order(order.id, by=WAREHOUSE))
    assert isinstance(error, PermissionDenied)


def test_an_unknown_order_is_not_found(desk: OrderDesk) -> None:
    with pytest.raises(NotFound):
        desk.confirm_order("SO-404", by=SALES)
    with pytest.raises(ValidationError):
        desk.confirm_order("", by=SALES)


# -- payment and price ------------------------------------------------------------------------


def test_full_payment_moves_the_order_to_paid(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = confirmed(desk)
    outbox.new()
    part = desk.record_payment(order.id, cny("100.00"), by=FINANCE, reference="TT-1")
    assert part.status is OrderStatus.CONFIRMED
    assert outbox.new() == ["PaymentRecorded"]
    full = desk.record_payment(order.id, part.balance, by=FINANCE, reference="TT-2")
    assert full.status is OrderStatus.PAID
    assert full.paid == cny("300.00")
    # finance holds no customer.read: the consignee comes back redacted, the store keeps it
    assert stored_order(store, order.id) == attrs.evolve(full, consignee=CONSIGNEE)
    assert full.consignee == CONSIGNEE.redacted()
    assert outbox.new() == ["OrderPaid", "PaymentRecorded"]


def test_payments_never_exceed_the_order_total(desk: OrderDesk, store: Store) -> None:
    order = confirmed(desk)
    code = rule_code(store, lambda: desk.record_payment(order.id, cny("300.01"), by=FINANCE))
    assert code == "overpayment"


def test_recording_a_payment_needs_order_record_payment(desk: OrderDesk, store: Store) -> None:
    order = confirmed(desk)
    error = unchanged_after(store, lambda: desk.record_payment(order.id, cny("1"), by=SALES))
    assert isinstance(error, PermissionDenied)


def test_price_changes_need_order_change_price(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = confirmed(desk)
    outbox.new()
    error = unchanged_after(
        store, lambda: desk.change_price(order.id, "AB-100", cny("120.00"), by=SALES)
    )
    assert isinstance(error, PermissionDenied)
    cheaper = desk.change_price(order.id, "AB-100", cny("120.00"), by=VP)
    assert cheaper.total == cny("240.00")
    assert outbox.new() == ["OrderPriceChanged"]


def test_a_price_change_below_what_was_paid_is_overpayment(desk: OrderDesk, store: Store) -> None:
    order = confirmed(desk)
    desk.record_payment(order.id, cny("280.00"), by=FINANCE)
    code = rule_code(store, lambda: desk.change_price(order.id, "AB-100", cny("100"), by=VP))
    assert code == "overpayment"


def test_a_paid_order_keeps_its_price(desk: OrderDesk, store: Store) -> None:
    order = paid(desk)
    code = rule_code(store, lambda: desk.change_price(order.id, "AB-100", cny("100"), by=VP))
    assert code == "price_locked"


# -- shipping ------------------------------------------------------------------------------------


def test_shipping_issues_stock_and_promises_delivery(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    stocked(desk)
    order = paid(desk)
    desk.reserve_stock(order.id, by=WAREHOUSE)
    outbox.new()
    sent = desk.ship_order(order.id, by=WAREHOUSE, mode="logistics", tracking="SF-1")
    assert sent.status is OrderStatus.SHIPPED
    assert sent.shipped_quantities() == sent.ordered_quantities()
    assert sent.expected_delivery is not None
    assert (sent.expected_delivery.earliest.day, sent.expected_delivery.latest.day) == (5, 6)
    assert stored_order(store, order.id).redacted() == sent
    good = desk.get_stock("AB-100", by=WAREHOUSE)
    gift = desk.get_stock("PEN", by=WAREHOUSE)
    assert (good.good, good.reservations) == (8, ())
    assert (gift.gift, gift.reservations) == (4, ())
    assert outbox.new() == ["OrderShipped", "StockIssued", "StockIssued"]


def test_an_order_ships_by_the_mode_its_quantity_and_urgency_call_for(desk: OrderDesk) -> None:
    # Rule: shipping mode by quantity and urgency, overridable per order
    stocked(desk, good=200, gift=5)
    small = desk.ship_order(paid(desk).id, by=WAREHOUSE)
    assert small.shipments[-1].mode == "express"
    bulk_lines = (OrderLine("AB-100", 60, cny("1.00")),)
    bulk = desk.ship_order(paid(desk, lines=bulk_lines).id, by=WAREHOUSE)
    assert bulk.shipments[-1].mode == "logistics"
    urgent = desk.ship_order(paid(desk, lines=bulk_lines, urgent=True).id, by=WAREHOUSE)
    assert urgent.shipments[-1].mode == "express"
    by_rail = paid(desk, lines=bulk_lines, shipping_mode="rail")
    assert desk.ship_order(by_rail.id, by=WAREHOUSE).shipments[-1].mode == "rail"


def test_no_shipment_before_full_payment(desk: OrderDesk, store: Store) -> None:
    stocked(desk)
    order = confirmed(desk)
    desk.record_payment(order.id, cny("100"), by=FINANCE)
    code = rule_code(store, lambda: desk.ship_order(order.id, by=WAREHOUSE))
    assert code == "payment_required"


def test_a_credit_exempt_customer_ships_before_paying(store: Store, clock: FixedClock) -> None:
    seed(store, customer("D-1", CustomerClass.DEALER))
    policy = Policy()
    on_account = attrs.evolve(
        policy.orders, credit_exempt_classes=frozenset({CustomerClass.DEALER})
    )
    desk = OrderDesk(store, policy=attrs.evolve(policy, orders=on_account), clock=clock)
    stocked(desk)
    dealer_order = desk.place_order(
        "D-1", channel="email", lines=LINES, by=SALES, consignee=CONSIGNEE
    )
    desk.confirm_order(dealer_order.id, by=SALES)
    assert desk.ship_order(dealer_order.id, by=WAREHOUSE).status is OrderStatus.SHIPPED
    member_order = confirmed(desk)
    assert rule_code(store, lambda: desk.ship_order(member_order.id, by=WAREHOUSE)) == (
        "payment_required"
    )


def test_an_order_ships_complete_or_not_at_all(desk: OrderDesk, store: Store) -> None:
    stocked(desk)
    order = paid(desk)
    partial = [ShipmentLine("AB-100", 1), ShipmentLine("PEN", 1, gift=True)]
    code = rule_code(store, lambda: desk.ship_order(order.id, by=WAREHOUSE, lines=partial))
    assert code == "partial_shipment_forbidden"
    complete = [ShipmentLine("AB-100", 2), ShipmentLine("PEN", 1, gift=True)]
    assert desk.ship_order(order.id, by=WAREHOUSE, lines=complete).status is OrderStatus.SHIPPED


def test_stock_never_goes_negative_on_shipment(desk: OrderDesk, store: Store) -> None:
    stocked(desk, good=1)
    order = paid(desk)
    error = unchanged_after(store, lambda: desk.ship_order(order.id, by=WAREHOUSE))
    assert isinstance(error, RuleViolation)
    assert error.code == "insufficient_stock"
    assert [(s.sku, s.needed, s.available) for s in error.details["shortages"]] == [
        ("AB-100", 2, 1)
    ]


def test_shipping_needs_order_ship(desk: OrderDesk, store: Store) -> None:
    stocked(desk)
    order = paid(desk)
    error = unchanged_after(store, lambda: desk.ship_order(order.id, by=SALES))
    assert isinstance(error, PermissionDenied)


def test_a_shipment_needs_the_consignee(desk: OrderDesk, store: Store, outbox: Outbox) -> None:
    stocked(desk)
    order = paid(desk, consignee=None)
    assert rule_code(store, lambda: desk.ship_order(order.id, by=WAREHOUSE)) == (
        "consignee_required"
    )
    outbox.new()
    with_consignee = desk.set_consignee(order.id, CONSIGNEE, by=SALES)
    assert with_consignee.consignee == CONSIGNEE
    assert outbox.new() == []
    assert desk.ship_order(order.id, by=WAREHOUSE).status is OrderStatus.SHIPPED


def test_shipping_needs_every_remittance_detail_and_names_what_is_missing(
    desk: OrderDesk, store: Store
) -> None:
    stocked(desk)
    bare = ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1, Wuhan")
    order = paid(desk, consignee=bare)
    error = unchanged_after(store, lambda: desk.ship_order(order.id, by=WAREHOUSE))
    assert isinstance(error, RuleViolation)
    assert (error.code, error.details["missing"]) == (
        "consignee_required",
        ["invoice_title", "postcode"],
    )
    desk.set_consignee(order.id, CONSIGNEE, by=SALES)
    assert desk.ship_order(order.id, by=WAREHOUSE).status is OrderStatus.SHIPPED


@pytest.mark.parametrize(
    ("fields", "path"),
    [({"mode": "balloon"}, "mode"), ({"lines": "AB-100"}, "lines"), ({"tracking": 5}, "tracking")],
)
def test_bad_shipment_arguments_are_validation_errors(
    desk: OrderDesk, store: Store, fields: dict[str, object], path: str
) -> None:
    stocked(desk)
    order = paid(desk)
    error = unchanged_after(store, lambda: desk.ship_order(order.id, by=WAREHOUSE, **fields))  # type: ignore[arg-type]
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == [path]


# -- custom work --------------------------------------------------------------------------------


def custom(desk: OrderDesk) -> Order:
    return confirmed(
        desk,
        channel="email",
        lines=[OrderLine("SYN-AB", 1, cny("8000.00"))],
        kind=OrderKind.CUSTOM,
        contract_number="CT-2026-117",
        prepayment=cny("3000.00"),
    )


def test_custom_work_starts_after_the_prepayment(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = custom(desk)
    boss = VP
    assert rule_code(store, lambda: desk.start_production(order.id, by=boss)) == (
        "prepayment_required"
    )
    outbox.new()
    prepaid = desk.record_payment(order.id, cny("3000.00"), by=FINANCE)
    assert prepaid.status is OrderStatus.PREPAID
    assert outbox.new() == ["OrderPrepaid", "PaymentRecorded"]
    desk.start_production(order.id, by=WAREHOUSE)
    assert outbox.new() == ["ProductionStarted"]
    produced = desk.finish_production(order.id, by=WAREHOUSE)
    assert produced.status is OrderStatus.PRODUCED
    assert outbox.new() == ["ProductionFinished"]


def test_custom_work_ships_after_the_balance(desk: OrderDesk, store: Store) -> None:
    order = custom(desk)
    desk.record_payment(order.id, cny("3000.00"), by=FINANCE)
    desk.start_production(order.id, by=WAREHOUSE)
    desk.finish_production(order.id, by=WAREHOUSE)
    assert rule_code(store, lambda: desk.ship_order(order.id, by=WAREHOUSE)) == ("balance_required")
    assert desk.record_payment(order.id, cny("5000.00"), by=FINANCE).status is OrderStatus.PAID
    assert desk.ship_order(order.id, by=WAREHOUSE).status is OrderStatus.SHIPPED


def test_production_needs_stock_manage(desk: OrderDesk, store: Store) -> None:
    order = custom(desk)
    desk.record_payment(order.id, cny("3000.00"), by=FINANCE)
    error = unchanged_after(store, lambda: desk.start_production(order.id, by=SALES))
    assert isinstance(error, PermissionDenied)


# -- delivery, completion, cancellation ------------------------------------------------------


def test_delivery_and_completion_close_the_order(desk: OrderDesk, outbox: Outbox) -> None:
    order = shipped(desk)
    outbox.new()
    delivered = desk.confirm_delivery(order.id, by=WAREHOUSE)
    assert delivered.delivered_at == MONDAY
    assert outbox.new() == ["OrderDelivered"]
    assert desk.complete_order(order.id, by=SALES).status is OrderStatus.COMPLETED
    assert outbox.new() == ["OrderCompleted"]


def test_completing_needs_a_delivered_order(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    error = unchanged_after(store, lambda: desk.complete_order(order.id, by=SALES))
    assert isinstance(error, InvalidTransition)


def survey_desk(store: Store, clock: FixedClock, cooldown: timedelta) -> OrderDesk:
    policy = Policy()
    satisfaction = attrs.evolve(
        policy.satisfaction, survey_after_order=True, survey_cooldown=cooldown
    )
    return OrderDesk(store, policy=attrs.evolve(policy, satisfaction=satisfaction), clock=clock)


def surveys(store: Store) -> list[SurveyRequested]:
    with store.unit_of_work(readonly=True) as uow:
        entries = uow.outbox.find(type="SurveyRequested")
    return [e.event() for e in entries]  # type: ignore[misc]


def test_a_completed_order_asks_for_a_survey_when_the_policy_says_so(
    store: Store, clock: FixedClock
) -> None:
    desk = survey_desk(store, clock, timedelta(0))
    order = shipped(desk)
    desk.confirm_delivery(order.id, by=WAREHOUSE)
    desk.complete_order(order.id, by=SALES)
    (survey,) = surveys(store)
    assert (survey.subject, survey.subject_id, survey.customer_id) == (
        SurveySubject.ORDER,
        order.id,
        "C-1",
    )
    assert survey.send_after == MONDAY + timedelta(days=1)


def test_no_survey_after_an_order_by_default(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    desk.confirm_delivery(order.id, by=WAREHOUSE)
    desk.complete_order(order.id, by=SALES)
    assert surveys(store) == []


def test_a_customer_surveyed_recently_is_not_asked_again(store: Store, clock: FixedClock) -> None:
    desk = survey_desk(store, clock, timedelta(days=30))
    stocked(desk)
    first, second, third = (desk.ship_order(paid(desk).id, by=WAREHOUSE) for _ in range(3))
    for order in (first, second):
        desk.confirm_delivery(order.id, by=WAREHOUSE)
        desk.complete_order(order.id, by=SALES)
    assert [s.subject_id for s in surveys(store)] == [first.id]
    clock.advance(timedelta(days=31))
    desk.confirm_delivery(third.id, by=WAREHOUSE)
    desk.complete_order(third.id, by=SALES)
    assert sorted(s.subject_id for s in surveys(store)) == [first.id, third.id]


def test_cancelling_releases_the_orders_reservations(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    stocked(desk)
    order = paid(desk)
    desk.reserve_stock(order.id, by=WAREHOUSE)
    outbox.new()
    cancelled = desk.cancel_order(order.id, by=SALES, reason="customer changed plans")
    assert cancelled.status is OrderStatus.CANCELLED
    assert desk.get_stock("AB-100", by=WAREHOUSE).reservations == ()
    assert desk.get_stock("PEN", by=WAREHOUSE).reservations == ()
    assert outbox.new() == ["OrderCancelled", "StockReleased", "StockReleased"]
    with store.unit_of_work(readonly=True) as uow:
        (entry,) = uow.outbox.find(type="OrderCancelled")
    assert entry.payload["refund_due"] == {"amount": "300.00", "currency": "CNY"}


def test_cancelling_needs_order_cancel_and_a_reason(desk: OrderDesk, store: Store) -> None:
    order = confirmed(desk)
    error = unchanged_after(store, lambda: desk.cancel_order(order.id, by=WAREHOUSE, reason="x"))
    assert isinstance(error, PermissionDenied)
    error = unchanged_after(store, lambda: desk.cancel_order(order.id, by=SALES, reason=" "))
    assert isinstance(error, ValidationError)


def test_a_shipped_order_cannot_be_cancelled(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    error = unchanged_after(store, lambda: desk.cancel_order(order.id, by=SALES, reason="late"))
    assert isinstance(error, InvalidTransition)


def test_reading_an_order_needs_an_order_permission(desk: OrderDesk) -> None:
    order = place(desk)
    assert desk.get_order(order.id, by=WAREHOUSE) == order.redacted()
    assert desk.get_order(order.id, by=FINANCE) == order.redacted()
    with pytest.raises(PermissionDenied):
        desk.get_order(order.id, by=OUTSIDER)


def access_records(store: Store) -> Counter[tuple[str, str, str]]:
    """Every access record as (customer, reader, purpose), counted."""
    with store.unit_of_work(readonly=True) as uow:
        found = uow.repo(ACCESS_LOG).find()
    return Counter((r.customer_id, r.actor_id, r.purpose) for r in found)


def test_the_consignee_is_redacted_for_roles_without_customer_read(
    desk: OrderDesk, store: Store
) -> None:
    # Rule: 保护客户隐私 - the consignee's name, phone and address are personal data; the
    # warehouse and finance (no customer.read) see them redacted and nothing is recorded
    order = place(desk)
    before = access_records(store)
    for reader in (WAREHOUSE, FINANCE):
        shown = desk.get_order(order.id, by=reader)
        assert shown.consignee is not None
        assert {shown.consignee.consignee, shown.consignee.phone, shown.consignee.address} == {
            REDACTED
        }
        assert shown.lines == order.lines
        assert shown.total == order.total
        (listed,) = desk.find_orders(customer_id="C-1", by=reader)
        assert listed == shown
    assert access_records(store) == before
    paid_by_finance = desk.record_payment(
        desk.confirm_order(order.id, by=SALES).id, cny("1.00"), by=FINANCE
    )
    assert paid_by_finance.consignee == CONSIGNEE.redacted()


def test_every_order_read_with_customer_read_is_on_record(desk: OrderDesk, store: Store) -> None:
    # Rule: nobody reads a customer's data without it being on record (未经许可不得访问客户文件)
    order = place(desk)
    assert access_records(store) == Counter([("C-1", SALES.id, "place_order")])
    assert desk.get_order(order.id, by=MANAGER, purpose="call back") == order
    assert desk.find_orders(status="placed", by=MANAGER) == [order]
    assert access_records(store) == Counter(
        [
            ("C-1", SALES.id, "place_order"),
            ("C-1", MANAGER.id, "call back"),
            ("C-1", MANAGER.id, "find_orders"),
        ]
    )
    before = access_records(store)
    bare = place(desk, consignee=None)
    assert access_records(store) == before  # no consignee: no personal data shown
    assert desk.find_orders(customer_id="C-1", limit=1, by=MANAGER) == [order]
    assert [o.id for o in desk.find_orders(customer_id="C-1", by=SALES)] == [order.id, bare.id]
    assert [o.id for o in desk.find_orders(customer_id="C-2", by=SALES)] == []


def test_free_text_notes_of_the_order_history_are_redacted_without_customer_read(
    desk: OrderDesk, store: Store
) -> None:
    # Rule: 保护客户隐私 - a confirmation note or a cancellation reason is free text about
    # the customer: redacted for the warehouse and finance, on record for customer.read
    order = place(desk, consignee=None)
    desk.confirm_order(order.id, by=SALES, note="Dr. Chen asks for a call at 13800138000")
    cancelled = desk.cancel_order(order.id, by=SALES, reason="Dr. Chen moved to Beijing")
    assert cancelled.personal_notes == (
        "Dr. Chen asks for a call at 13800138000",
        "Dr. Chen moved to Beijing",
    )
    before = access_records(store)
    for reader in (WAREHOUSE, FINANCE):
        shown = desk.get_order(order.id, by=reader)
        assert [change.note for change in shown.history] == ["", REDACTED, REDACTED]
        assert [change.to for change in shown.history] == [c.to for c in cancelled.history]
        assert desk.find_orders(customer_id="C-1", by=reader) == [shown]
    assert access_records(store) == before
    assert desk.get_order(order.id, by=MANAGER) == cancelled
    assert access_records(store) - before == Counter([("C-1", MANAGER.id, "get_order")])


def test_the_notes_an_order_writes_itself_are_not_redacted(desk: OrderDesk) -> None:
    # Rule: only what people wrote is personal data; "paid in full" stays readable
    order = paid(desk, consignee=None)
    shown = desk.get_order(order.id, by=WAREHOUSE)
    assert shown == order
    assert shown.history[-1].note == "paid in full"


def test_a_return_note_is_redacted_for_the_warehouse_and_recorded_for_readers(
    desk: OrderDesk, store: Store
) -> None:
    # Rule: the salesperson's note is free text about the customer (保护客户隐私)
    order = shipped(desk)
    request = desk.request_return(
        order.id,
        items=[ReturnItem("AB-100", 1)],
        reasons="defect",
        by=SALES,
        note="Dr. Chen, 13800138000, says the vial leaked",
    )
    before = access_records(store)
    assert desk.get_return(request.id, by=WAREHOUSE).note == REDACTED
    assert access_records(store) == before
    assert desk.get_return(request.id, by=MANAGER).note == request.note
    assert access_records(store) - before == Counter([("C-1", MANAGER.id, "get_return")])


# -- stock ----------------------------------------------------------------------------------------


def test_stock_is_kept_as_good_damaged_and_gift(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    stock = desk.receive_stock("AB-100", good=5, damaged=1, gift=2, by=WAREHOUSE)
    assert (stock.good, stock.damaged, stock.gift) == (5, 1, 2)
    assert outbox.new() == ["StockReceived"] * 3
    again = desk.receive_stock("AB-100", good=1, by=WAREHOUSE)
    assert (again.good, again.damaged, again.gift) == (6, 1, 2)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(STOCKS).get("AB-100") == again


@pytest.mark.parametrize(
    ("quantities", "path"),
    [({}, "good"), ({"good": -1}, "good"), ({"gift": 1.5}, "gift"), ({"damaged": True}, "damaged")],
)
def test_receiving_needs_whole_positive_quantities(
    desk: OrderDesk, store: Store, quantities: dict[str, object], path: str
) -> None:
    error = unchanged_after(
        store,
        lambda: desk.receive_stock("AB-100", by=WAREHOUSE, **quantities),  # type: ignore[arg-type]
    )
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == [path]


def test_receiving_needs_stock_manage(desk: OrderDesk, store: Store) -> None:
    error = unchanged_after(store, lambda: desk.receive_stock("AB-100", good=1, by=SALES))
    assert isinstance(error, PermissionDenied)


def test_deteriorated_goods_move_to_damaged_and_are_written_off(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    # Rule: damage applications are approved before stock moves to damaged (审批残损申请)
    desk.receive_stock("AB-100", good=5, by=WAREHOUSE)
    outbox.new()
    applied = desk.mark_damaged("AB-100", 2, by=WAREHOUSE)
    (application,) = applied.pending_applications
    assert (applied.good, applied.damaged, applied.available()) == (5, 0, 3)
    assert outbox.new() == ["DamageApplied"]
    moved = desk.approve_damage("AB-100", application.number, by=CS_MANAGER)
    assert (moved.good, moved.damaged) == (3, 2)
    assert outbox.new() == ["StockMarkedDamaged"]
    scrapped = desk.write_off("AB-100", 2, by=WAREHOUSE)
    assert (scrapped.good, scrapped.damaged) == (3, 0)
    assert outbox.new() == ["StockWrittenOff"]
    assert rule_code(store, lambda: desk.write_off("AB-100", 1, by=WAREHOUSE)) == (
        "insufficient_stock"
    )
    assert rule_code(store, lambda: desk.mark_damaged("AB-100", 4, by=WAREHOUSE)) == (
        "insufficient_stock"
    )
    assert rule_code(store, lambda: desk.write_off("NEW-SKU", 1, by=WAREHOUSE)) == (
        "insufficient_stock"
    )


CS_MANAGER = Actor("qian.cs", {"cs_manager"})


def test_a_damage_application_waits_for_stock_approve_adjustment_and_holds_its_goods(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    # Rule: 审批残损申请 - the stock moves to damaged only once someone holding
    # stock.approve_adjustment approves; until then the goods neither ship nor are reserved
    desk.receive_stock("AB-100", good=3, by=WAREHOUSE)
    desk.receive_stock("PEN", gift=1, by=WAREHOUSE)
    applied = desk.mark_damaged("AB-100", 2, by=WAREHOUSE, reason="mould")
    number = applied.applications[-1].number
    assert number == "DA-202611-0001"
    order = paid(desk)  # needs 2 of AB-100, only 1 is free
    assert rule_code(store, lambda: desk.ship_order(order.id, by=WAREHOUSE)) == (
        "insufficient_stock"
    )
    for refused_by in (WAREHOUSE, MANAGER):
        denied = unchanged_after(
            store, lambda by=refused_by: desk.approve_damage("AB-100", number, by=by)
        )
        assert isinstance(denied, PermissionDenied)
    outbox.new()
    kept = desk.reject_damage("AB-100", number, reason="only the label is stained", by=VP)
    assert (kept.good, kept.damaged, kept.available()) == (3, 0, 3)
    assert kept.applications[-1].note == "only the label is stained"
    assert outbox.new() == ["DamageRejected"]
    assert rule_code(store, lambda: desk.approve_damage("AB-100", number, by=CS_MANAGER)) == (
        "damage_application_not_pending"
    )
    assert desk.damage_analysis("2026-11", by=MANAGER) == []  # nothing approved, nothing counted
    assert desk.ship_order(order.id, by=WAREHOUSE).status is OrderStatus.SHIPPED


def test_with_damage_approval_off_the_goods_move_at_once(store: Store, clock: FixedClock) -> None:
    # Rule: policy orders.damage_needs_approval=False keeps the direct move
    policy = Policy(orders=attrs.evolve(Policy().orders, damage_needs_approval=False))
    desk = OrderDesk(store, clock=clock, policy=policy)
    desk.receive_stock("AB-100", good=5, by=WAREHOUSE)
    moved = desk.mark_damaged("AB-100", 2, by=WAREHOUSE)
    assert (moved.good, moved.damaged, moved.applications) == (3, 2, ())


def test_a_stock_take_that_differs_is_booked_only_after_the_cs_manager_approves(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    # 每周仓库盘点 ... 经客户服务经理批准
    desk.receive_stock("AB-100", good=10, damaged=1, by=WAREHOUSE)
    outbox.new()
    counted = desk.count_stock("AB-100", good=9, damaged=1, by=WAREHOUSE)
    record = counted.counts[-1]
    assert (record.number, record.status, counted.good) == ("ST-202611-0001", "pending", 10)
    assert outbox.new() == ["StockCounted"]
    assert rule_code(store, lambda: desk.count_stock("AB-100", good=9, by=WAREHOUSE)) == (
        "stock_count_pending"
    )
    denied = unchanged_after(
        store, lambda: desk.approve_stock_count("AB-100", record.number, by=MANAGER)
    )
    assert isinstance(denied, PermissionDenied)
    approved = desk.approve_stock_count("AB-100", record.number, by=CS_MANAGER)
    assert approved.good == 9
    assert desk.get_stock("AB-100", by=WAREHOUSE) == approved
    assert outbox.new() == ["StockAdjusted"]
    again = desk.count_stock("AB-100", good=7, by=WAREHOUSE)
    rejected = desk.reject_stock_count(
        "AB-100", again.counts[-1].number, reason="recount the top shelf", by=VP
    )
    assert (rejected.good, rejected.counts[-1].status) == (9, "rejected")
    assert sorted(outbox.new()) == ["StockCountRejected", "StockCounted"]
    matched = desk.count_stock("AB-100", good=9, by=WAREHOUSE)
    assert matched.counts[-1].status == "matched"
    error = unchanged_after(store, lambda: desk.count_stock("AB-100", by=WAREHOUSE))
    assert isinstance(error, ValidationError)


def test_every_sku_is_counted_every_week(desk: OrderDesk, clock: FixedClock) -> None:
    desk.receive_stock("AB-100", good=1, by=WAREHOUSE)
    desk.receive_stock("PEN", gift=1, by=WAREHOUSE)
    desk.count_stock("AB-100", good=1, by=WAREHOUSE)
    assert desk.stock_counts_due(by=WAREHOUSE) == ["PEN"]
    clock.advance(timedelta(days=7))
    assert desk.stock_counts_due(by=WAREHOUSE) == ["AB-100", "PEN"]


def test_order_kpis_count_valid_orders_refusals_the_service_level_and_stock_accuracy(
    desk: OrderDesk, store: Store, clock: FixedClock
) -> None:
    # 订单KPI: one order shipped and refused on delivery, one placed and never confirmed
    order = shipped(desk)
    place(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 2)], reasons=["refused_on_delivery"], by=SALES
    )
    desk.approve_return(request.id, by=MANAGER)
    desk.receive_return(request.id, [ReceivedLine("AB-100", 2)], by=WAREHOUSE)
    desk.count_stock("AB-100", good=10, by=WAREHOUSE)
    start = clock.now() - timedelta(days=1)
    clock.advance(timedelta(days=10))
    kpis = desk.order_kpis(start=start, end=clock.now(), by=MANAGER)
    assert (kpis.placed, kpis.valid_orders, kpis.shipped, kpis.refused) == (2, 1, 1, 1)
    assert (kpis.returned, kpis.refusal_rate) == (0, 1.0)
    assert (kpis.due, kpis.on_time) == (1, 0)  # never delivered and past its promise
    assert (kpis.stock_takes, kpis.stock_accuracy, kpis.manual_adjustment_rate) == (1, 1.0, 0.0)
    denied = unchanged_after(
        store, lambda: desk.order_kpis(start=start, end=clock.now(), by=OUTSIDER)
    )
    assert isinstance(denied, PermissionDenied)


def test_damage_carries_reason_amount_responsible_party_and_enters_the_analysis(
    desk: OrderDesk,
) -> None:
    desk.receive_stock("AB-100", good=5, by=WAREHOUSE)
    desk.mark_damaged(
        "AB-100",
        2,
        by=WAREHOUSE,
        reason="crushed in transit",
        amount=cny("300.00"),
        responsible="courier",
        next_action="claim from the courier",
    )
    assert desk.damage_analysis("2026-11", by=MANAGER) == []  # counted once approved
    desk.approve_damage("AB-100", "DA-202611-0001", by=CS_MANAGER)
    desk.write_off("AB-100", 2, by=WAREHOUSE, reason="crushed in transit")
    rows = desk.damage_analysis("2026-11", by=MANAGER)
    assert [(r.kind, r.quantity, r.amount, r.responsible) for r in rows] == [
        ("marked_damaged", 2, cny("300.00"), ("courier",)),
        ("written_off", 2, cny("0"), ()),
    ]
    assert rows[0].next_actions == ("claim from the courier",)
    assert desk.damage_analysis((2026, 12), by=MANAGER) == []


def test_reserved_goods_cannot_be_written_off(desk: OrderDesk, store: Store) -> None:
    stocked(desk, good=2)
    order = paid(desk)
    desk.reserve_stock(order.id, by=WAREHOUSE)
    code = rule_code(
        store, lambda: desk.write_off("AB-100", 1, by=WAREHOUSE, bucket=StockBucket.GOOD)
    )
    assert code == "insufficient_stock"


def test_reserving_is_all_or_nothing(desk: OrderDesk, store: Store, outbox: Outbox) -> None:
    desk.receive_stock("AB-100", good=5, by=WAREHOUSE)
    order = paid(desk)
    assert rule_code(store, lambda: desk.reserve_stock(order.id, by=WAREHOUSE)) == (
        "insufficient_stock"
    )
    desk.receive_stock("PEN", gift=1, by=WAREHOUSE)
    outbox.new()
    held = desk.reserve_stock(order.id, by=WAREHOUSE)
    assert [
        (s.sku, s.available(StockBucket.GOOD), s.available(StockBucket.GIFT)) for s in held
    ] == [
        ("AB-100", 3, 0),
        ("PEN", 0, 0),
    ]
    assert outbox.new() == ["StockReserved", "StockReserved"]
    assert desk.reserve_stock(order.id, by=WAREHOUSE) == held
    assert outbox.new() == []


def test_reserving_needs_order_ship(desk: OrderDesk, store: Store) -> None:
    stocked(desk)
    order = paid(desk)
    error = unchanged_after(store, lambda: desk.reserve_stock(order.id, by=SALES))
    assert isinstance(error, PermissionDenied)


def test_stock_of_an_unknown_sku_is_empty(desk: OrderDesk) -> None:
    assert desk.get_stock("NEVER", by=WAREHOUSE) == Stock("NEVER")
    with pytest.raises(PermissionDenied):
        desk.get_stock("NEVER", by=OUTSIDER)


def test_daily_list_shows_orders_stock_cannot_cover(desk: OrderDesk, store: Store) -> None:
    desk.receive_stock("AB-100", good=3, by=WAREHOUSE)
    desk.receive_stock("PEN", gift=5, by=WAREHOUSE)
    first = confirmed(desk)
    second = paid(desk)
    place(desk)
    before = snapshot(store)
    waiting = desk.orders_awaiting_stock(by=WAREHOUSE)
    assert snapshot(store) == before
    assert [(w.order_id, w.status) for w in waiting] == [(second.id, OrderStatus.PAID)]
    assert [(s.sku, s.needed, s.available) for s in waiting[0].shortages] == [("AB-100", 2, 1)]
    desk.cancel_order(first.id, by=SALES, reason="duplicate")
    assert desk.orders_awaiting_stock(by=WAREHOUSE) == []
    with pytest.raises(PermissionDenied):
        desk.orders_awaiting_stock(by=OUTSIDER)


# -- returns --------------------------------------------------------------------------------------


def test_the_return_flow_books_goods_back_to_stock(
    desk: OrderDesk, store: Store, outbox: Outbox, clock: FixedClock
) -> None:
    order = shipped(desk)
    outbox.new()
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 2)], reasons=["damaged_packaging"], by=SALES
    )
    assert (request.id, request.status, request.refund) == (
        "RR-202611-0001",
        ReturnStatus.REQUESTED,
        cny("300.00"),
    )
    assert outbox.new() == ["ReturnRequested"]
    desk.approve_return(request.id, by=MANAGER)
    assert outbox.new() == ["ReturnApproved"]
    clock.advance(timedelta(days=2))
    received = desk.receive_return(
        request.id,
        [ReceivedLine("AB-100", 1), ReceivedLine("AB-100", 1, ItemCondition.DAMAGED)],
        by=WAREHOUSE,
    )
    assert received.status is ReturnStatus.RECEIVED
    stock = desk.get_stock("AB-100", by=WAREHOUSE)
    assert (stock.good, stock.damaged) == (9, 1)
    assert outbox.new() == ["ReturnReceived", "StockReturned", "StockReturned"]
    closed = desk.close_return(request.id, by=WAREHOUSE)
    assert closed.return_note_number == "RN-202611-0001"
    assert outbox.new() == ["ReturnClosed"]
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(RETURNS).get(request.id) == closed
    assert desk.get_return(request.id, by=MANAGER) == closed


def test_nobody_returns_more_than_was_shipped(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    desk.request_return(order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=SALES)
    code = rule_code(
        store,
        lambda: desk.request_return(
            order.id, items=[ReturnItem("AB-100", 2)], reasons=["defect"], by=SALES
        ),
    )
    assert code == "return_exceeds_shipment"


def test_an_unshipped_order_has_nothing_to_return(desk: OrderDesk, store: Store) -> None:
    order = paid(desk)
    code = rule_code(
        store,
        lambda: desk.request_return(
            order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=SALES
        ),
    )
    assert code == "return_exceeds_shipment"


def test_a_return_is_decided_by_a_manager_other_than_the_filer(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = shipped(desk)
    by_manager = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=MANAGER
    )
    error = unchanged_after(store, lambda: desk.approve_return(by_manager.id, by=MANAGER))
    assert isinstance(error, PermissionDenied)
    error = unchanged_after(store, lambda: desk.approve_return(by_manager.id, by=SALES))
    assert isinstance(error, PermissionDenied)
    outbox.new()
    rejected = desk.reject_return(by_manager.id, by=VP, reason="outside the policy")
    assert rejected.status is ReturnStatus.REJECTED
    assert outbox.new() == ["ReturnRejected"]


def test_a_return_can_be_withdrawn_before_the_goods_come_in(
    desk: OrderDesk, store: Store, outbox: Outbox
) -> None:
    order = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 2)], reasons=["changed_mind"], by=SALES
    )
    outbox.new()
    assert desk.withdraw_return(request.id, by=SALES).status is ReturnStatus.WITHDRAWN
    assert outbox.new() == ["ReturnWithdrawn"]
    again = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 2)], reasons=["changed_mind"], by=SALES
    )
    assert again.id == "RR-202611-0002"


def test_more_goods_than_requested_are_refused(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=SALES
    )
    desk.approve_return(request.id, by=MANAGER)
    code = rule_code(
        store, lambda: desk.receive_return(request.id, [ReceivedLine("AB-100", 2)], by=WAREHOUSE)
    )
    assert code == "received_exceeds_request"


def test_receiving_a_return_needs_return_receive(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=SALES
    )
    desk.approve_return(request.id, by=MANAGER)
    error = unchanged_after(
        store, lambda: desk.receive_return(request.id, [ReceivedLine("AB-100", 1)], by=SALES)
    )
    assert isinstance(error, PermissionDenied)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"items": None}, "items"),
        ({"items": [("AB-100", 1)]}, "items.0"),
        ({"reasons": [7]}, "reasons.0"),
        ({"reasons": ["bored"]}, "reasons"),
        ({"reasons": []}, "reasons"),
    ],
)
def test_bad_return_requests_are_validation_errors(
    desk: OrderDesk, store: Store, fields: dict[str, object], path: str
) -> None:
    order = shipped(desk)
    values: dict[str, object] = {"items": [ReturnItem("AB-100", 1)], "reasons": ["defect"]}
    values.update(fields)
    error = unchanged_after(
        store,
        lambda: desk.request_return(order.id, by=SALES, **values),  # type: ignore[arg-type]
    )
    assert isinstance(error, ValidationError)
    assert path in [p for p, _ in error.errors]


def received_return(desk: OrderDesk, order: Order, quantity: int, damaged: int) -> ReturnRequest:
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", quantity)], reasons=["defect"], by=SALES
    )
    desk.approve_return(request.id, by=MANAGER)
    lines = [ReceivedLine("AB-100", quantity - damaged)] if quantity > damaged else []
    if damaged:
        lines.append(ReceivedLine("AB-100", damaged, ItemCondition.DAMAGED))
    return desk.receive_return(request.id, lines, by=WAREHOUSE)


def test_monthly_return_analysis_counts_returns_received_in_the_month(
    desk: OrderDesk, clock: FixedClock
) -> None:
    order = shipped(desk)
    received_return(desk, order, 1, 1)
    clock.set(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 1 December in Shanghai
    received_return(desk, order, 1, 0)
    november = desk.return_analysis("2026-11", by=MANAGER)
    assert [(r.month, r.salesperson, r.sku, r.reason) for r in november] == [
        ("2026-11", SALES.id, "AB-100", "defect")
    ]
    assert [(r.returns, r.quantity, r.damaged_quantity, r.amount) for r in november] == [
        (1, 1, 1, cny("150.00"))
    ]
    december = desk.return_analysis((2026, 12), by=MANAGER)
    assert [(r.month, r.quantity, r.damaged_quantity) for r in december] == [("2026-12", 1, 0)]
    assert desk.return_analysis("2027-01", by=MANAGER) == []


def test_returns_and_the_return_analysis_carry_the_next_action(desk: OrderDesk) -> None:
    order = shipped(desk)
    request = received_return(desk, order, 1, 1)
    closed = desk.close_return(request.id, by=WAREHOUSE, next_action="Check the seal supplier")
    assert closed.next_action == "Check the seal supplier"
    (row,) = desk.return_analysis("2026-11", by=MANAGER)
    assert row.next_actions == ("Check the seal supplier",)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "Nov 2026", (2026, 0), (2026,), 202611])
def test_the_analysis_month_is_validated(desk: OrderDesk, month: object) -> None:
    with pytest.raises(ValidationError):
        desk.return_analysis(month, by=MANAGER)  # type: ignore[arg-type]


def test_the_return_analysis_needs_report_view(desk: OrderDesk) -> None:
    with pytest.raises(PermissionDenied):
        desk.return_analysis("2026-11", by=Actor("x", frozenset()))


@pytest.mark.parametrize(
    "month",
    [(2026, True), ("2026", 11), (1899, 12), (3000, 1), "9999-12", "\u0662\u0660\u0662\u0666-11"],
)
def test_the_analysis_month_is_a_month_of_the_policys_years(desk: OrderDesk, month: object) -> None:
    with pytest.raises(ValidationError) as info:
        desk.return_analysis(month, by=MANAGER)  # type: ignore[arg-type]
    assert info.value.errors[0][0].startswith("month")


# -- the use-case skeleton: arguments, limits, permission first --------------------------------

LONG = "x" * 20_001
HUGE_KEY = "K" * 1_000_000


def test_every_public_method_of_the_desk_is_a_use_case() -> None:
    public = {
        name
        for name, member in inspect.getmembers(OrderDesk, callable)
        if not name.startswith("_") and name not in dir(DeskBase)
    }
    found = use_cases(OrderDesk)
    assert public <= set(found)
    for spec in found.values():
        spec.checks()  # every annotation is of the vocabulary


def test_a_confirmation_note_is_bounded_like_every_note(desk: OrderDesk, store: Store) -> None:
    order = place(desk)
    error = unchanged_after(store, lambda: desk.confirm_order(order.id, by=SALES, note=LONG))
    assert isinstance(error, ValidationError)
    assert error.errors == [("note", "longer than 20000 characters")]


def test_a_tracking_number_is_short_text(desk: OrderDesk, store: Store) -> None:
    stocked(desk)
    order = paid(desk)
    error = unchanged_after(
        store, lambda: desk.ship_order(order.id, by=WAREHOUSE, tracking="SF" * 101)
    )
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == ["tracking"]
    assert desk.ship_order(order.id, by=WAREHOUSE, tracking="SF-1").shipments[0].tracking == "SF-1"


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (lambda desk, rid: desk.approve_return(rid, by=MANAGER, note=LONG), "note"),
        (lambda desk, rid: desk.withdraw_return(rid, by=SALES, note=LONG), "note"),
        (lambda desk, rid: desk.reject_return(rid, by=MANAGER, reason=LONG), "reason"),
    ],
)  # fmt: skip
def test_return_notes_and_reasons_are_bounded(
    desk: OrderDesk,
    store: Store,
    step: Callable[[OrderDesk, str], object],
    field: str,
) -> None:
    order = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 1)], reasons=["defect"], by=SALES
    )
    error = unchanged_after(store, lambda: step(desk, request.id))
    assert isinstance(error, ValidationError)
    assert error.errors == [(field, "longer than 20000 characters")]


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda desk: desk.get_order(HUGE_KEY, by=SALES), "order_id"),
        (lambda desk: desk.confirm_order(HUGE_KEY, by=SALES), "order_id"),
        (lambda desk: desk.get_return("R\x00", by=SALES), "return_id"),
        (lambda desk: desk.receive_stock(HUGE_KEY, good=1, by=WAREHOUSE), "sku"),
        (lambda desk: desk.get_stock(" ", by=WAREHOUSE), "sku"),
        (lambda desk: desk.place_order(HUGE_KEY, channel="online", lines=LINES, by=SALES),
         "customer_id"),
        (lambda desk: desk.place_order(
            "C-1", channel="online", lines=[OrderLine("S" * 101, 1, cny("1.00"))], by=SALES
        ), "lines.0.sku"),
        (lambda desk: desk.place_order(
            "C-1", channel="online", lines=LINES, by=SALES, dealer_id=HUGE_KEY
        ), "dealer_id"),
        (lambda desk: desk.change_price("SO-1", HUGE_KEY, cny("1.00"), by=VP), "sku"),
    ],
)  # fmt: skip
def test_ids_and_skus_are_bounded_keys(
    desk: OrderDesk, store: Store, call: Callable[[OrderDesk], object], path: str
) -> None:
    error = unchanged_after(store, lambda: call(desk))
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == [path]
    assert len(str(error)) < 300


def test_the_skus_of_returned_goods_are_bounded_keys(desk: OrderDesk, store: Store) -> None:
    order = shipped(desk)
    error = unchanged_after(
        store,
        lambda: desk.request_return(
            order.id, items=[ReturnItem("S" * 101, 1)], reasons=["defect"], by=SALES
        ),
    )
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == ["items.0.sku"]


@pytest.mark.parametrize("gift", [1, "yes", None])
def test_the_gift_flag_is_true_or_false(desk: OrderDesk, store: Store, gift: object) -> None:
    order = place(desk)
    error = unchanged_after(
        store,
        lambda: desk.change_price(order.id, "PEN", cny("1.00"), by=VP, gift=gift),  # type: ignore[arg-type]
    )
    assert isinstance(error, ValidationError)
    assert [p for p, _ in error.errors] == ["gift"]


def test_the_permission_is_checked_before_anything_is_loaded(desk: OrderDesk) -> None:
    with pytest.raises(PermissionDenied):
        desk.confirm_order("SO-999999-9999", by=OUTSIDER)
    with pytest.raises(PermissionDenied):
        desk.get_return("RR-999999-9999", by=OUTSIDER)
    with pytest.raises(NotFound):
        desk.confirm_order("SO-999999-9999", by=SALES)


def test_one_return_reason_may_be_given_alone(desk: OrderDesk) -> None:
    order = shipped(desk)
    request = desk.request_return(
        order.id, items=[ReturnItem("AB-100", 1)], reasons="defect", by=SALES
    )
    assert request.reasons == (ReturnReason.DEFECT,)


def test_a_refused_command_names_the_step_that_comes_first(desk: OrderDesk, store: Store) -> None:
    order = place(desk)
    error = unchanged_after(store, lambda: desk.ship_order(order.id, by=WAREHOUSE))
    assert isinstance(error, InvalidTransition)
    assert (error.action, error.hint) == ("ship_order", "confirm the order first")


# -- random sequences of desk commands ---------------------------------------------------------

SKUS = ("AB-100", "PEN")
ACTORS = (SALES, OTHER_SALES, MANAGER, FINANCE, WAREHOUSE, VP)
actors = st.sampled_from(ACTORS)


def usually(actor: Actor) -> st.SearchStrategy[Actor]:
    """Mostly the actor whose role the command needs, sometimes anybody."""
    return st.one_of(st.just(actor), st.just(actor), actors)


quantity = st.integers(0, 4)
incoming = st.integers(0, 9)
pick = st.integers(0, 50)


@st.composite
def order_lines(draw: st.DrawFn) -> list[OrderLine]:
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2, unique=True))
    return [
        OrderLine(
            sku,
            draw(st.integers(1, 3)),
            Money.of(draw(st.integers(0, 50)), "CNY"),
            gift=sku == "PEN",
        )
        for sku in skus
    ]


class DeskMachine(RuleBasedStateMachine):
    """Random desk commands on a memory store never break the invariants of docs/domain.md 2."""

    @initialize(good=st.integers(2, 9), gift=st.integers(1, 3))
    def open(self, good: int, gift: int) -> None:
        self.store = open_store("memory://")
        seed(self.store)
        self.clock = FixedClock(MONDAY)
        self.desk = OrderDesk(self.store, clock=self.clock)
        self.orders: list[str] = []
        self.returns: list[str] = []
        self.shipped: list[str] = []
        self.on_hand: Counter[str] = Counter()
        self.histories: dict[str, tuple[StatusChange, ...]] = {}
        self.receive("AB-100", good, 0, 0, WAREHOUSE)
        self.receive("PEN", 0, 0, gift, WAREHOUSE)

    def teardown(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()

    def attempt(self, command: Callable[[], object]) -> object | None:
        """Run a command: it succeeds, or fails with a CsDomainError writing nothing."""
        before = snapshot(self.store)
        try:
            return command()
        except CsDomainError:
            assert snapshot(self.store) == before
            return None

    def order_id(self, index: int) -> str:
        return self.orders[index % len(self.orders)]

    def return_id(self, index: int) -> str:
        return self.returns[index % len(self.returns)]

    @rule(
        sku=st.sampled_from(SKUS),
        good=incoming,
        damaged=quantity,
        gift=incoming,
        by=usually(WAREHOUSE),
    )
    def receive(self, sku: str, good: int, damaged: int, gift: int, by: Actor) -> None:
        stock = self.attempt(
            lambda: self.desk.receive_stock(sku, good=good, damaged=damaged, gift=gift, by=by)
        )
        if stock is not None:
            self.on_hand[sku] += good + damaged + gift

    @precondition(lambda self: len(self.orders) < 4)
    @rule(
        lines=order_lines(),
        channel=st.sampled_from(["online", "phone", "email"]),
        by=usually(SALES),
    )
    def place(self, lines: list[OrderLine], channel: str, by: Actor) -> None:
        order = self.attempt(
            lambda: self.desk.place_order(
                "C-1", channel=channel, lines=lines, by=by, consignee=CONSIGNEE
            )
        )
        if isinstance(order, Order):
            self.orders.append(order.id)

    @precondition(lambda self: len(self.orders) < 4)
    @rule(by=usually(SALES))
    def place_custom(self, by: Actor) -> None:
        order = self.attempt(
            lambda: self.desk.place_order(
                "C-1",
                channel="email",
                lines=[OrderLine("SYN", 1, cny("100")), OrderLine("PEN", 1, cny("0"), gift=True)],
                kind="custom",
                contract_number="CT-1",
                prepayment=cny("40"),
                consignee=CONSIGNEE,
                by=by,
            )
        )
        if isinstance(order, Order):
            self.orders.append(order.id)

    @precondition(lambda self: self.orders)
    @rule(i=pick, by=usually(SALES))
    def confirm_by_salesperson(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.desk.confirm_by_salesperson(self.order_id(i), by=by))

    @precondition(lambda self: self.orders)
    @rule(i=pick, by=usually(SALES))
    def confirm(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.desk.confirm_order(self.order_id(i), by=by))

    @precondition(lambda self: self.orders)
    @rule(i=pick, amount=st.integers(0, 200), settle=st.booleans(), by=usually(FINANCE))
    def pay(self, i: int, amount: int, settle: bool, by: Actor) -> None:
        order_id = self.order_id(i)
        if settle:
            balance = stored_order(self.store, order_id).balance
            money = balance if balance else cny("1")
        else:
            money = Money.of(amount, "CNY")
        self.attempt(lambda: self.desk.record_payment(order_id, money, by=by))

    @precondition(lambda self: self.orders)
    @rule(i=pick, sku=st.sampled_from((*SKUS, "SYN")), price=st.integers(0, 60), by=usually(VP))
    def change_price(self, i: int, sku: str, price: int, by: Actor) -> None:
        gift = sku == "PEN"
        self.attempt(
            lambda: self.desk.change_price(
                self.order_id(i), sku, Money.of(price, "CNY"), by=by, gift=gift
            )
        )

    @precondition(lambda self: self.orders)
    @rule(i=pick, finish=st.booleans(), by=usually(WAREHOUSE))
    def production(self, i: int, finish: bool, by: Actor) -> None:
        step = self.desk.finish_production if finish else self.desk.start_production
        self.attempt(lambda: step(self.order_id(i), by=by))

    @precondition(lambda self: self.orders)
    @rule(i=pick, by=usually(WAREHOUSE))
    def reserve(self, i: int, by: Actor) -> None:
        self.attempt(lambda: self.desk.reserve_stock(self.order_id(i), by=by))

    @precondition(lambda self: self.orders)
    @rule(i=pick, short=st.sampled_from([False, False, True]), by=usually(WAREHOUSE))
    def ship(self, i: int, short: bool, by: Actor) -> None:
        order_id = self.order_id(i)
        before = stored_order(self.store, order_id)
        lines = None
        if short:
            lines = [ShipmentLine(line.sku, line.quantity, line.gift) for line in before.lines[1:]]
        sent = self.attempt(lambda: self.desk.ship_order(order_id, by=by, lines=lines))
        if sent is not None:
            self.shipped.append(order_id)
            for line in before.stock_lines:
                self.on_hand[line.sku] -= line.quantity

    @precondition(lambda self: self.orders)
    @rule(i=pick, step=st.sampled_from(["deliver", "complete", "cancel"]), by=usually(VP))
    def close(self, i: int, step: str, by: Actor) -> None:
        order_id = self.order_id(i)
        if step == "deliver":
            self.attempt(lambda: self.desk.confirm_delivery(order_id, by=by))
        elif step == "complete":
            self.attempt(lambda: self.desk.complete_order(order_id, by=by))
        else:
            self.attempt(lambda: self.desk.cancel_order(order_id, by=by, reason="random"))

    @rule(sku=st.sampled_from(SKUS), n=quantity, scrap=st.booleans(), by=usually(WAREHOUSE))
    def damage(self, sku: str, n: int, scrap: bool, by: Actor) -> None:
        if scrap:
            if self.attempt(lambda: self.desk.write_off(sku, n, by=by)) is not None:
                self.on_hand[sku] -= n
        else:
            self.attempt(lambda: self.desk.mark_damaged(sku, n, by=by))

    @rule(sku=st.sampled_from(SKUS), approve=st.booleans(), by=usually(VP))
    def decide_damage(self, sku: str, approve: bool, by: Actor) -> None:
        with self.store.unit_of_work(readonly=True) as uow:
            stock = uow.repo(STOCKS).get_or_none(sku)
        pending = stock.pending_applications if stock is not None else ()
        number = pending[0].number if pending else "DA-000000-0000"
        if approve:
            self.attempt(lambda: self.desk.approve_damage(sku, number, by=by))
        else:
            self.attempt(lambda: self.desk.reject_damage(sku, number, reason="fine", by=by))

    @precondition(lambda self: self.shipped)
    @rule(
        i=pick,
        line=st.integers(0, 1),
        n=st.integers(1, 3),
        extra=st.integers(0, 1),
        by=usually(SALES),
    )
    def request_return(self, i: int, line: int, n: int, extra: int, by: Actor) -> None:
        order = stored_order(self.store, self.shipped[i % len(self.shipped)])
        chosen = order.lines[line % len(order.lines)]
        item = ReturnItem(chosen.sku, min(n, chosen.quantity) + extra, gift=chosen.gift)
        request = self.attempt(
            lambda: self.desk.request_return(order.id, items=[item], reasons=["defect"], by=by)
        )
        if isinstance(request, ReturnRequest):
            self.returns.append(request.id)

    @precondition(lambda self: self.returns)
    @rule(i=pick, damaged=st.booleans())
    def next_return_step(self, i: int, damaged: bool) -> None:
        """Move a return one step along its normal path, by the role that does it."""
        return_id = self.return_id(i)
        with self.store.unit_of_work(readonly=True) as uow:
            request = uow.repo(RETURNS).get(return_id)
        if request.status is ReturnStatus.REQUESTED:
            self.attempt(lambda: self.desk.approve_return(return_id, by=MANAGER))
        elif request.status is ReturnStatus.APPROVED:
            self.receive_return(i, damaged=damaged, extra=0, by=WAREHOUSE)
        elif request.status is ReturnStatus.RECEIVED:
            self.attempt(lambda: self.desk.close_return(return_id, by=WAREHOUSE))

    @precondition(lambda self: self.returns)
    @rule(i=pick, step=st.sampled_from(["approve", "reject", "withdraw", "close"]), by=usually(VP))
    def decide_return(self, i: int, step: str, by: Actor) -> None:
        return_id = self.return_id(i)
        if step == "approve":
            self.attempt(lambda: self.desk.approve_return(return_id, by=by))
        elif step == "reject":
            self.attempt(lambda: self.desk.reject_return(return_id, by=by, reason="no"))
        elif step == "withdraw":
            self.attempt(lambda: self.desk.withdraw_return(return_id, by=by))
        else:
            self.attempt(lambda: self.desk.close_return(return_id, by=by))

    @precondition(lambda self: self.returns)
    @rule(i=pick, damaged=st.booleans(), extra=st.integers(0, 1), by=usually(WAREHOUSE))
    def receive_return(self, i: int, damaged: bool, extra: int, by: Actor) -> None:
        return_id = self.return_id(i)
        with self.store.unit_of_work(readonly=True) as uow:
            request = uow.repo(RETURNS).get(return_id)
        condition = ItemCondition.DAMAGED if damaged else ItemCondition.GOOD
        lines = [
            ReceivedLine(line.sku, line.quantity + extra, condition, line.gift)
            for line in request.lines
        ]
        if self.attempt(lambda: self.desk.receive_return(return_id, lines, by=by)) is not None:
            for line in lines:
                self.on_hand[line.sku] += line.quantity

    @precondition(lambda self: self.orders)
    @rule(i=pick)
    def next_step(self, i: int) -> None:
        """Move an order one step along its normal path, by the role that does it."""
        order_id = self.order_id(i)
        order = stored_order(self.store, order_id)
        desk, status = self.desk, order.status
        needs_salesperson = order.channel == "phone" and order.confirmed_by_salesperson is None
        if status is OrderStatus.PLACED and needs_salesperson:
            self.attempt(lambda: desk.confirm_by_salesperson(order_id, by=SALES))
        elif status is OrderStatus.PLACED:
            self.attempt(lambda: desk.confirm_order(order_id, by=SALES))
        elif status in (OrderStatus.CONFIRMED, OrderStatus.PRODUCED) and order.balance:
            self.attempt(lambda: desk.record_payment(order_id, order.balance, by=FINANCE))
        elif status is OrderStatus.PREPAID:
            self.attempt(lambda: desk.start_production(order_id, by=WAREHOUSE))
        elif status is OrderStatus.IN_PRODUCTION:
            self.attempt(lambda: desk.finish_production(order_id, by=WAREHOUSE))
        elif status in (OrderStatus.CONFIRMED, OrderStatus.PAID, OrderStatus.PRODUCED):
            self.ship(i, short=False, by=WAREHOUSE)
        elif status is OrderStatus.SHIPPED:
            self.attempt(lambda: desk.confirm_delivery(order_id, by=WAREHOUSE))
        elif status is OrderStatus.DELIVERED:
            self.attempt(lambda: desk.complete_order(order_id, by=SALES))

    @rule(hours=st.integers(1, 72))
    def wait(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    # -- invariants -------------------------------------------------------------------------

    def stored(self) -> tuple[list[Stock], list[Order], list[ReturnRequest]]:
        with self.store.unit_of_work(readonly=True) as uow:
            return uow.repo(STOCKS).find(), uow.repo(ORDERS).find(), uow.repo(RETURNS).find()

    @invariant()
    def stock_never_negative_and_every_unit_accounted_for(self) -> None:
        stocks, _, _ = self.stored()
        for stock in stocks:
            assert min(stock.good, stock.damaged, stock.gift) >= 0
            for bucket in (StockBucket.GOOD, StockBucket.GIFT):
                held = stock.reserved(bucket) + stock.held_for_damage(bucket)
                assert held <= stock.on_hand(bucket)
            assert stock.good + stock.damaged + stock.gift == self.on_hand[stock.id]

    @invariant()
    def shipped_is_all_or_nothing_and_paid_never_exceeds_total(self) -> None:
        _, orders, _ = self.stored()
        for order in orders:
            shipped_now = order.shipped_quantities()
            assert shipped_now == order.ordered_quantities() or not any(shipped_now.values())
            assert order.paid <= order.total

    @invariant()
    def returned_never_exceeds_shipped(self) -> None:
        _, orders, returns = self.stored()
        for order in orders:
            mine = [r for r in returns if r.order_id == order.id]
            assert all(left >= 0 for left in returnable_quantities(order, mine).values())

    @invariant()
    def history_only_grows(self) -> None:
        _, orders, returns = self.stored()
        items: list[Order | ReturnRequest] = [*orders, *returns]
        for item in items:
            known = self.histories.get(item.id, ())
            assert item.history[: len(known)] == known
            assert len(item.history) >= len(known)
            self.histories[item.id] = item.history


TestDeskMachine = DeskMachine.TestCase


def test_a_confirmed_unpaid_order_is_reminded_once_a_week_until_paid(
    desk: OrderDesk, clock: FixedClock, store: Store
) -> None:
    # Rule: payment first, then shipment (先付款, 后发货): a confirmed order still unpaid after
    # orders.payment_reminder_after gets a payment reminder, at most once per
    # orders.payment_reminder_every, and none once it is paid.
    order = confirmed(desk)
    early = confirmed(desk)
    clock.advance(timedelta(days=1))
    assert desk.remind_unpaid_orders(by=FINANCE) == []
    clock.advance(timedelta(days=2))
    desk.record_payment(early.id, early.total, by=FINANCE)
    [reminder] = desk.remind_unpaid_orders(by=FINANCE)
    assert (reminder.order_id, reminder.balance) == (order.id, order.total)
    assert desk.remind_unpaid_orders(by=FINANCE) == []  # a scheduler may run it often
    clock.advance(timedelta(days=7))
    assert [r.order_id for r in desk.remind_unpaid_orders(by=FINANCE)] == [order.id]
    desk.record_payment(order.id, order.total, by=FINANCE)
    clock.advance(timedelta(days=7))
    assert desk.remind_unpaid_orders(by=FINANCE) == []
    with store.unit_of_work(readonly=True) as uow:
        assert len(uow.outbox.find(type="PaymentReminderDue")) == 2
    with pytest.raises(PermissionDenied):
        desk.remind_unpaid_orders(by=WAREHOUSE)
