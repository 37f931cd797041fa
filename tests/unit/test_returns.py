"""Returns and the monthly return/damage analysis (docs/domain.md 2, 退货流程)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.lifecycle import command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.orders import (
    ConsigneeInfo,
    ItemCondition,
    Order,
    OrderChannel,
    OrderLine,
    OrderPolicy,
    OrderStatus,
    Stock,
    StockBucket,
    StockReturned,
)
from csdomain.returns import (
    RETURN_COMMANDS,
    RETURN_INITIAL,
    RETURN_LIFECYCLE,
    RETURN_TERMINAL,
    RETURN_TRANSITIONS,
    ReceivedLine,
    ReturnAnalysis,
    ReturnAnalysisRow,
    ReturnApproved,
    ReturnClosed,
    ReturnItem,
    ReturnLine,
    ReturnReason,
    ReturnReceived,
    ReturnRejected,
    ReturnRequest,
    ReturnRequested,
    ReturnStatus,
    check_return_within_shipment,
    receive_return,
    return_events,
    returnable_quantities,
)
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_orders import orders, return_requests


ACCESS = AccessPolicy()
POLICY = OrderPolicy()
CALENDAR = BusinessCalendar.office("Asia/Shanghai")
BOSS = Actor("gm", {"general_manager"})
SALES = Actor("zhang.sales", {"salesperson"})
OTHER_SALES = Actor("li.sales", {"salesperson"})
MANAGER = Actor("wu.manager", {"department_manager"})
WAREHOUSE = Actor("wh", {"warehouse"})
T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def shipped_order(order_id: str = "SO-1") -> Order:
    order = Order.place(
        id=order_id,
        customer_id="C1",
        channel=OrderChannel.ONLINE,
        lines=[
            OrderLine("AB-100", 10, cny("50.00")),
            OrderLine("KIT-9", 2, cny("400.00")),
            OrderLine("PEN", 1, cny("0"), gift=True),
        ],
        at=T0,
        by=SALES,
        access=ACCESS,
        policy=POLICY,
        consignee=ConsigneeInfo("Dr. Chen", "13800138000", "Luoyu Rd 1", "430000", "Huake Bio"),
    )
    order = order.confirm(at=T0, by=MANAGER, access=ACCESS)
    order = order.record_payment(order.balance, at=T0, by=BOSS, access=ACCESS)
    return order.ship(at=T0, by=WAREHOUSE, access=ACCESS, policy=POLICY, calendar=CALENDAR)


def file(
    order: Order,
    items: list[ReturnItem],
    *,
    return_id: str = "RR-1",
    others: tuple[ReturnRequest, ...] = (),
    by: Actor = SALES,
    at: datetime = T0,
    reasons: tuple[str, ...] = ("damaged_packaging",),
) -> ReturnRequest:
    return ReturnRequest.file(
        id=return_id,
        order=order,
        items=items,
        reasons=reasons,
        at=at,
        by=by,
        access=ACCESS,
        other_returns=others,
    )


def test_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        RETURN_TRANSITIONS, list(ReturnStatus), RETURN_INITIAL, RETURN_TERMINAL
    )
    assert problems == []
    assert command_table_problems(RETURN_LIFECYCLE) == []
    assert RETURN_LIFECYCLE.transitions is RETURN_TRANSITIONS
    assert RETURN_LIFECYCLE.commands is RETURN_COMMANDS


def test_receiving_before_approval_says_to_approve_first() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)])
    with pytest.raises(InvalidTransition) as info:
        request.receive([ReceivedLine("AB-100", 1)], at=T0, by=WAREHOUSE, access=ACCESS)
    assert (info.value.action, info.value.from_status, info.value.hint) == (
        "receive_return",
        "requested",
        "approve the return first",
    )
    assert str(info.value) == (
        "return 'RR-1' cannot receive_return while requested: approve the return first"
    )


def test_closing_before_the_goods_came_in_says_to_receive_them_first() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)])
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    with pytest.raises(InvalidTransition) as info:
        request.close("RN-1", at=T0, by=WAREHOUSE, access=ACCESS)
    assert (info.value.action, info.value.hint) == (
        "close_return",
        "receive the returned goods first",
    )


def test_a_received_return_can_no_longer_be_withdrawn() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)])
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    request = request.receive([ReceivedLine("AB-100", 1)], at=T0, by=WAREHOUSE, access=ACCESS)
    with pytest.raises(InvalidTransition) as info:
        request.withdraw(at=T0, by=SALES, access=ACCESS)
    assert (info.value.action, info.value.from_status) == ("withdraw_return", "received")


def built(cls: Callable[..., object], *args: Any, **fields: Any) -> Callable[[], object]:
    """Build ``cls`` later, with arguments of any type (wrong ones on purpose)."""
    return lambda: cls(*args, **fields)


def _request(**fields: Any) -> ReturnRequest:
    return attrs.evolve(file(shipped_order(), [ReturnItem("AB-100", 1)]), **fields)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (built(ReturnItem, "AB-100", 1, gift="no"), "gift"),
        (built(ReturnLine, "AB-100", 1, cny("1.00"), gift=0), "gift"),
        (built(ReturnLine, "AB-100", 1, 100), "unit_price"),
        (built(ReceivedLine, "AB-100", 1, gift=None), "gift"),
        (built(ReceivedLine, "AB-100", 1, condition=["good"]), "condition"),
        (lambda: _request(note=1.5), "note"),
        (lambda: _request(currency=None), "currency"),
        (lambda: _request(decided_by=7), "decided_by"),
        (lambda: _request(received_at="2026-11-02"), "received_at"),
        (lambda: _request(return_note_number=1), "return_note_number"),
        (lambda: _request(history=["requested"]), "history.0"),
        (lambda: _request(lines=[("AB-100", 1)]), "lines.0"),
        (lambda: _request(received=7), "received"),
        (lambda: _request(reasons=["bored"]), "reasons"),
        (lambda: _request(reasons=7), "reasons"),
    ],
)  # fmt: skip
def test_return_models_refuse_wrong_types_when_built(
    build: Callable[[], object], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert [p for p, _ in info.value.errors] == [path]


def test_the_analysis_refuses_what_is_not_a_received_return() -> None:
    with pytest.raises(ValidationError) as info:
        ReturnAnalysis().add("RR-1")  # type: ignore[arg-type]
    assert info.value.errors[0][0] == "request"
    with pytest.raises(ValidationError):
        ReturnAnalysis(tz="x" * 5000)
    with pytest.raises(ValidationError):
        ReturnAnalysis(tz=8)  # type: ignore[arg-type]


def test_return_goes_requested_approved_received_closed() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 3)])
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    request = request.receive(
        [ReceivedLine("AB-100", 3, ItemCondition.GOOD)], at=T0, by=WAREHOUSE, access=ACCESS
    )
    request = request.close("RN-202611-0001", at=T0, by=WAREHOUSE, access=ACCESS)
    assert [h.to for h in request.history] == ["requested", "approved", "received", "closed"]
    assert request.return_note_number == "RN-202611-0001"
    assert request.decided_by == "wu.manager"


def test_return_exceeds_shipment() -> None:
    order = shipped_order()
    with pytest.raises(RuleViolation, match="return_exceeds_shipment") as info:
        file(order, [ReturnItem("AB-100", 11)])
    assert info.value.details["lines"] == {"AB-100": {"asked": 11, "returnable": 10}}
    with pytest.raises(RuleViolation, match="return_exceeds_shipment"):
        file(order, [ReturnItem("AB-100", 6), ReturnItem("AB-100", 5)])
    with pytest.raises(RuleViolation, match="return_exceeds_shipment"):
        file(order, [ReturnItem("PEN", 1)])
    assert file(order, [ReturnItem("PEN", 1, gift=True)]).refund == cny("0.00")


def test_return_exceeds_shipment_across_all_returns_of_the_order() -> None:
    order = shipped_order()
    first = file(order, [ReturnItem("AB-100", 7)], return_id="RR-1")
    with pytest.raises(RuleViolation, match="return_exceeds_shipment"):
        file(order, [ReturnItem("AB-100", 4)], return_id="RR-2", others=(first,))
    rejected = first.reject(at=T0, by=MANAGER, access=ACCESS, reason="not our fault")
    again = file(order, [ReturnItem("AB-100", 10)], return_id="RR-2", others=(rejected,))
    assert again.lines[0].quantity == 10


def test_received_returns_count_what_came_in_not_what_was_asked() -> None:
    order = shipped_order()
    first = file(order, [ReturnItem("AB-100", 8)]).approve(at=T0, by=MANAGER, access=ACCESS)
    first = first.receive([ReceivedLine("AB-100", 5)], at=T0, by=WAREHOUSE, access=ACCESS)
    assert returnable_quantities(order, [first])[("AB-100", False)] == 5
    check_return_within_shipment(order, [ReturnItem("AB-100", 5)], [first])


def test_an_unshipped_order_has_nothing_to_return() -> None:
    order = shipped_order()
    unshipped = Order.place(
        id="SO-2",
        customer_id="C1",
        channel="online",
        lines=list(order.lines),
        at=T0,
        by=SALES,
        access=ACCESS,
        policy=POLICY,
    )
    with pytest.raises(RuleViolation, match="return_exceeds_shipment"):
        file(unshipped, [ReturnItem("AB-100", 1)])


def test_returns_of_another_order_are_refused_in_the_check() -> None:
    other = file(shipped_order("SO-9"), [ReturnItem("AB-100", 1)])
    with pytest.raises(ValidationError):
        returnable_quantities(shipped_order(), [other])


def test_filing_a_return_needs_the_request_permission() -> None:
    with pytest.raises(PermissionDenied):
        file(shipped_order(), [ReturnItem("AB-100", 1)], by=WAREHOUSE)


def test_approving_a_return_needs_the_approve_permission() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)])
    with pytest.raises(PermissionDenied):
        request.approve(at=T0, by=OTHER_SALES, access=ACCESS)
    with pytest.raises(PermissionDenied):
        request.reject(at=T0, by=WAREHOUSE, access=ACCESS, reason="no")


def test_nobody_approves_their_own_return() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)], by=MANAGER)
    with pytest.raises(PermissionDenied):
        request.approve(at=T0, by=MANAGER, access=ACCESS)
    assert request.approve(at=T0, by=BOSS, access=ACCESS).status is ReturnStatus.APPROVED


@pytest.mark.parametrize(
    "spelling", ["department_manager.1 ", "Department_Manager.1", "\uff44epartment_manager.1"]
)
def test_the_filer_cannot_approve_their_own_return_under_another_spelling(spelling: str) -> None:
    # Rule: four eyes (docs/domain.md 2): identities are compared normalised
    filer = Actor("department_manager.1", {"department_manager"})
    request = file(shipped_order(), [ReturnItem("AB-100", 1)], by=filer)
    again = Actor(spelling, {"department_manager"})
    with pytest.raises(PermissionDenied):
        request.approve(at=T0, by=again, access=ACCESS)
    with pytest.raises(PermissionDenied):
        request.reject(at=T0, by=again, access=ACCESS, reason="no")


def test_goods_come_in_only_after_approval() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 1)])
    with pytest.raises(InvalidTransition):
        request.receive([ReceivedLine("AB-100", 1)], at=T0, by=WAREHOUSE, access=ACCESS)
    with pytest.raises(InvalidTransition):
        request.close("RN-1", at=T0, by=WAREHOUSE, access=ACCESS)


def test_received_exceeds_request() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 2)])
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    too_many = [ReceivedLine("AB-100", 2), ReceivedLine("AB-100", 1, ItemCondition.DAMAGED)]
    with pytest.raises(RuleViolation, match="received_exceeds_request"):
        request.receive(too_many, at=T0, by=WAREHOUSE, access=ACCESS)
    with pytest.raises(ValidationError):
        request.receive([ReceivedLine("KIT-9", 1)], at=T0, by=WAREHOUSE, access=ACCESS)
    with pytest.raises(ValidationError):
        request.receive([], at=T0, by=WAREHOUSE, access=ACCESS)


def test_received_goods_are_booked_to_good_gift_or_damaged_stock() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 4), ReturnItem("PEN", 1, gift=True)])
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    stocks = {"AB-100": Stock("AB-100", good=1)}
    lines = [
        ReceivedLine("AB-100", 3, ItemCondition.GOOD),
        ReceivedLine("AB-100", 1, ItemCondition.DAMAGED),
        ReceivedLine("PEN", 1, ItemCondition.GOOD, gift=True),
    ]
    receipt = receive_return(request, stocks, lines, at=T0, by=WAREHOUSE, access=ACCESS)
    ab = receipt.stocks["AB-100"]
    assert (ab.good, ab.damaged, ab.gift) == (4, 1, 0)
    assert receipt.stocks["PEN"].gift == 1
    assert receipt.request.status is ReturnStatus.RECEIVED
    returned = [e for e in receipt.events if isinstance(e, StockReturned)]
    assert [(e.sku, e.bucket) for e in returned] == [
        ("AB-100", StockBucket.GOOD),
        ("AB-100", StockBucket.DAMAGED),
        ("PEN", StockBucket.GIFT),
    ]
    assert stocks["AB-100"].good == 1


def test_refund_follows_the_received_quantities_at_order_prices() -> None:
    request = file(shipped_order(), [ReturnItem("AB-100", 4), ReturnItem("KIT-9", 1)])
    assert request.refund == cny("600.00")
    request = request.approve(at=T0, by=MANAGER, access=ACCESS)
    request = request.receive(
        [ReceivedLine("AB-100", 2), ReceivedLine("KIT-9", 1, ItemCondition.DAMAGED)],
        at=T0,
        by=WAREHOUSE,
        access=ACCESS,
    )
    assert request.refund == cny("500.00")


def test_a_return_needs_lines_and_a_known_reason() -> None:
    with pytest.raises(ValidationError):
        file(shipped_order(), [])
    with pytest.raises(ValidationError):
        file(shipped_order(), [ReturnItem("AB-100", 1)], reasons=("bored",))
    with pytest.raises(ValidationError):
        file(shipped_order(), [ReturnItem("AB-100", 1)], reasons=())
    with pytest.raises(ValidationError):
        ReturnItem("AB-100", 0)


def test_every_step_of_a_return_becomes_an_event() -> None:
    requested = file(shipped_order(), [ReturnItem("AB-100", 2)])
    approved = requested.approve(at=T0, by=MANAGER, access=ACCESS)
    received = approved.receive([ReceivedLine("AB-100", 2)], at=T0, by=WAREHOUSE, access=ACCESS)
    closed = received.close("RN-7", at=T0, by=WAREHOUSE, access=ACCESS)
    events = [
        *return_events(None, requested),
        *return_events(requested, approved),
        *return_events(approved, received),
        *return_events(received, closed),
    ]
    assert [type(e) for e in events] == [
        ReturnRequested,
        ReturnApproved,
        ReturnReceived,
        ReturnClosed,
    ]
    closing = events[-1]
    assert isinstance(closing, ReturnClosed)
    assert (closing.return_note_number, closing.refund) == ("RN-7", cny("100.00"))
    rejected = requested.reject(at=T0, by=MANAGER, access=ACCESS, reason="used goods")
    assert return_events(requested, rejected) == [
        ReturnRejected("RR-1", "SO-1", "used goods", T0, "wu.manager")
    ]
    for event in events:
        assert from_json(type(event), to_json(event)) == event


# -- monthly analysis ------------------------------------------------------------------


def received(
    order: Order,
    return_id: str,
    by: Actor,
    lines: list[ReceivedLine],
    *,
    reasons: tuple[str, ...],
    at: datetime = T0,
) -> ReturnRequest:
    items = [ReturnItem(g.sku, g.quantity, g.gift) for g in lines]
    merged: dict[tuple[str, bool], int] = {}
    for item in items:
        merged[item.key] = merged.get(item.key, 0) + item.quantity
    request = file(
        order,
        [ReturnItem(sku, q, gift) for (sku, gift), q in merged.items()],
        return_id=return_id,
        by=by,
        at=at,
        reasons=reasons,
    )
    request = request.approve(at=at, by=BOSS, access=ACCESS)
    return request.receive(lines, at=at, by=WAREHOUSE, access=ACCESS)


def test_monthly_analysis_groups_by_salesperson_item_and_reason() -> None:
    order = shipped_order()
    first = received(
        order,
        "RR-1",
        SALES,
        [ReceivedLine("AB-100", 2), ReceivedLine("AB-100", 1, ItemCondition.DAMAGED)],
        reasons=("damaged_packaging", "late_delivery"),
    )
    second = received(
        shipped_order("SO-2"),
        "RR-2",
        SALES,
        [ReceivedLine("AB-100", 1), ReceivedLine("KIT-9", 1)],
        reasons=("damaged_packaging",),
    )
    third = received(
        shipped_order("SO-3"),
        "RR-3",
        OTHER_SALES,
        [ReceivedLine("KIT-9", 2, ItemCondition.DAMAGED)],
        reasons=("defect",),
        at=datetime(2026, 12, 1, 1, tzinfo=UTC),
    )
    analysis = ReturnAnalysis().add_all([first, second, third])
    assert analysis.rows() == [
        ReturnAnalysisRow(
            "2026-11",
            "zhang.sales",
            "AB-100",
            ReturnReason.DAMAGED_PACKAGING,
            2,
            4,
            1,
            cny("200.00"),
        ),
        ReturnAnalysisRow(
            "2026-11",
            "zhang.sales",
            "KIT-9",
            ReturnReason.DAMAGED_PACKAGING,
            1,
            1,
            0,
            cny("400.00"),
        ),
        ReturnAnalysisRow(
            "2026-12", "li.sales", "KIT-9", ReturnReason.DEFECT, 1, 2, 2, cny("800.00")
        ),
    ]
    by_person = {t.key: (t.returns, t.quantity, t.amount) for t in analysis.totals("salesperson")}
    assert by_person == {
        "zhang.sales": (2, 5, cny("600.00")),
        "li.sales": (1, 2, cny("800.00")),
    }
    assert [t.key for t in analysis.totals("reason")] == ["defect", "damaged_packaging"]
    assert [(t.key, t.damaged_quantity) for t in analysis.totals("month")] == [
        ("2026-12", 2),
        ("2026-11", 1),
    ]


def test_only_received_returns_enter_the_analysis() -> None:
    pending = file(shipped_order(), [ReturnItem("AB-100", 1)])
    with pytest.raises(ValidationError):
        ReturnAnalysis().add(pending)
    with pytest.raises(ValidationError):
        ReturnAnalysis().totals("colour")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ReturnAnalysis(tz="Mars/Olympus")


def test_analysis_month_is_read_in_its_time_zone() -> None:
    late = datetime(2026, 11, 30, 17, tzinfo=UTC)
    request = received(
        shipped_order(), "RR-1", SALES, [ReceivedLine("AB-100", 1)], reasons=("defect",), at=late
    )
    assert ReturnAnalysis().add_all([request]).rows()[0].month == "2026-12"
    assert ReturnAnalysis(tz="UTC").add_all([request]).rows()[0].month == "2026-11"


@given(return_requests())
def test_return_request_round_trips_through_json(request: ReturnRequest) -> None:
    assert from_json(ReturnRequest, to_json(request)) == request


@given(
    orders(status=st.sampled_from([OrderStatus.SHIPPED, OrderStatus.DELIVERED])),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 30)), min_size=1, max_size=8),
)
def test_returned_never_exceeds_shipped(order: Order, attempts: list[tuple[int, int]]) -> None:
    requests: list[ReturnRequest] = []
    for n, (pick, quantity) in enumerate(attempts):
        line = order.lines[pick % len(order.lines)]
        left = returnable_quantities(order, requests)[line.key]
        filing = partial(
            file,
            order,
            [ReturnItem(line.sku, quantity, line.gift)],
            return_id=f"RR-{n}",
            others=tuple(requests),
            at=T0 + timedelta(minutes=n),
        )
        if quantity > left:
            with pytest.raises(RuleViolation, match="return_exceeds_shipment"):
                filing()
            continue
        requests.append(filing())
    left_over = returnable_quantities(order, requests)
    assert all(quantity >= 0 for quantity in left_over.values())
    asked = sum(r.lines[0].quantity for r in requests)
    assert asked == sum(order.ordered_quantities().values()) - sum(left_over.values())


def test_returns_and_the_return_analysis_carry_the_next_action() -> None:
    # the monthly return analysis names the next action for each group
    lines = [ReceivedLine("AB-100", 1)]
    first = received(shipped_order(), "RR-1", SALES, lines, reasons=("defect",))
    second = received(shipped_order("SO-2"), "RR-2", SALES, lines, reasons=("defect",))
    closed = first.close(
        "RN-1", at=T0, by=WAREHOUSE, access=ACCESS, next_action="  Stronger cartons from May  "
    )
    assert closed.next_action == "Stronger cartons from May"
    also = second.close(
        "RN-2", at=T0, by=WAREHOUSE, access=ACCESS, next_action="Stronger cartons from May"
    )
    (row,) = ReturnAnalysis().add_all([closed, also]).rows()
    assert (row.returns, row.next_actions) == (2, ("Stronger cartons from May",))
    assert ReturnAnalysis().add_all([first]).rows()[0].next_actions == ()
