"""Delivery problems as cases, the pure rules (docs/domain.md 2 and 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

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
    PROBLEM_INITIAL,
    PROBLEM_LIFECYCLE,
    PROBLEM_TERMINAL,
    PROBLEM_TRANSITIONS,
    REDACTED,
    ConsigneeInfo,
    DeliveryProblemCase,
    DeliveryProblemClosed,
    DeliveryProblemKind,
    DeliveryProblemReported,
    DeliveryProblemRouted,
    MakeUpResult,
    Order,
    OrderLine,
    OrderPolicy,
    ProblemLine,
    ProblemOutcome,
    ProblemStatus,
    Stock,
    StockBucket,
    delivery_problem_analysis,
    delivery_problem_events,
    ship_make_up,
)
from csdomain.orders import Reservation as _Reservation
from csdomain.testing.strategies_orders import delivery_problems, stocks


AT = datetime(2026, 11, 2, 1, tzinfo=UTC)
ACCESS = AccessPolicy()
POLICY = OrderPolicy()
CS = Actor("li.cs", {"specialist"})
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
VP = Actor("sun.vp", {"sales_vp"})
BOSS = Actor("boss", {"general_manager"})
POLICY_CALENDAR = BusinessCalendar.office("Asia/Shanghai")


def shipped_order(*lines: OrderLine) -> Order:
    order = Order.place(
        id="SO-1",
        customer_id="C-1",
        channel="online",
        lines=lines or (OrderLine("BAG", 60, Money.of(10, "CNY")),),
        at=AT,
        by=BOSS,
        access=ACCESS,
        policy=POLICY,
        consignee=ConsigneeInfo("Dr. Chen", "138", "Luoyu Rd 1", "430000", "Huake"),
    )
    order = order.confirm(at=AT, by=BOSS, access=ACCESS)
    order = order.record_payment(order.total, at=AT, by=BOSS, access=ACCESS)
    return order.ship(at=AT, by=BOSS, access=ACCESS, policy=POLICY, calendar=POLICY_CALENDAR)


def report(kind: str, *lines: ProblemLine, **fields: object) -> DeliveryProblemCase:
    return DeliveryProblemCase.report(
        id="DP-1",
        order=shipped_order(),
        kind=kind,
        at=AT,
        by=CS,
        access=ACCESS,
        lines=lines,
        **fields,  # type: ignore[arg-type]
    )


def test_the_delivery_problem_lifecycle_is_well_formed() -> None:
    # Rule: reported -> routed -> being remedied -> resolved / closed, every state reachable
    assert (
        transition_table_problems(
            PROBLEM_TRANSITIONS, list(ProblemStatus), PROBLEM_INITIAL, PROBLEM_TERMINAL
        )
        == []
    )
    assert command_table_problems(PROBLEM_LIFECYCLE) == []


def test_a_problem_is_reported_only_against_a_shipped_order() -> None:
    # Rule: only goods that left can go wrong in delivery (order_not_shipped)
    placed = attrs.evolve(shipped_order(), status="paid", history=shipped_order().history[:-1])
    with pytest.raises(RuleViolation) as info:
        DeliveryProblemCase.report(
            id="DP-1", order=placed, kind="late_delivery", at=AT, by=CS, access=ACCESS
        )
    assert info.value.code == "order_not_shipped"
    with pytest.raises(PermissionDenied):
        DeliveryProblemCase.report(
            id="DP-1",
            order=shipped_order(),
            kind="late_delivery",
            at=AT,
            by=WAREHOUSE,
            access=ACCESS,
        )


def test_a_problem_names_no_more_than_was_shipped_across_the_orders_problems() -> None:
    # Rule: problem_exceeds_shipment counts the order's other problems of the kind, not closed
    with pytest.raises(RuleViolation) as info:
        report("short_quantity", ProblemLine("BAG", 61))
    assert info.value.code == "problem_exceeds_shipment"
    assert info.value.details["lines"] == {"BAG": {"reported": 61, "shipped": 60}}
    first = report("short_quantity", ProblemLine("BAG", 40))
    other = attrs.evolve(first, id="DP-0")
    with pytest.raises(RuleViolation):
        report("short_quantity", ProblemLine("BAG", 21), other_problems=[other])
    assert (
        report("damaged_packaging", ProblemLine("BAG", 60), other_problems=[other]).quantity == 60
    )
    closed = other.resolve("unfounded", at=AT, by=CS, access=ACCESS)
    assert report("short_quantity", ProblemLine("BAG", 60), other_problems=[closed]).quantity == 60


def test_damaged_bags_scale_with_the_wagon_load() -> None:
    # Rule: 破损超过30袋及以上 - 30 bags per 60 tonnes: 15 bags already count in a 30-tonne wagon
    half = report("damaged_packaging", ProblemLine("BAG", 15), wagon_tonnes=Decimal(30))
    routed = half.route_to(policy=POLICY, at=AT, by=CS, access=ACCESS)
    assert routed.route == ("quality_department", "sales_vp")
    fewer = report("damaged_packaging", ProblemLine("BAG", 14), wagon_tonnes=Decimal(30))
    assert fewer.route_to(policy=POLICY, at=AT, by=CS, access=ACCESS).route == ("customer_service",)


def test_the_routes_are_policy_values() -> None:
    # Rule: who decides is the policy's (escalation_contacts, problem_default_route)
    policy = OrderPolicy(problem_default_route=frozenset({"logistics_desk"}))
    case = report("late_delivery").route_to(policy=policy, at=AT, by=CS, access=ACCESS)
    assert case.route == ("logistics_desk",)
    with pytest.raises(ValidationError) as info:
        OrderPolicy(delay_escalation_contacts=frozenset())
    assert [path for path, _ in info.value.errors] == ["delay_escalation_contacts"]


def test_a_wagon_too_large_to_compare_is_a_validation_error() -> None:
    # Rule: only CsDomainError leaves the library, also for absurd wagon loads
    case = report("damaged_packaging", ProblemLine("BAG", 1), wagon_tonnes=Decimal("9E+999999"))
    with pytest.raises(ValidationError) as info:
        case.route_to(policy=POLICY, at=AT, by=CS, access=ACCESS)
    assert [path for path, _ in info.value.errors] == ["wagon_tonnes"]


def test_a_make_up_ships_the_missing_goods_from_free_stock_only() -> None:
    # Rule: 补齐货物数量 and 不开负库存 - goods reserved for other orders are not made up with
    case = report("short_quantity", ProblemLine("BAG", 5)).route_to(
        policy=POLICY, at=AT, by=CS, access=ACCESS
    )
    held = Stock("BAG", good=6, reservations=(_Reservation("SO-9", 2),))
    with pytest.raises(RuleViolation) as info:
        ship_make_up(
            case, {"BAG": held}, responsible="x", policy=POLICY, at=AT, by=WAREHOUSE, access=ACCESS
        )
    assert info.value.code == "insufficient_stock"
    free = Stock("BAG", good=7, reservations=(_Reservation("SO-9", 2),))
    result = ship_make_up(
        case, {"BAG": free}, responsible="x", policy=POLICY, at=AT, by=WAREHOUSE, access=ACCESS
    )
    assert result.stocks["BAG"].good == 2
    assert result.stocks["BAG"].reserved() == 2
    assert [e.type_name for e in result.events] == ["MakeUpShipped", "StockIssued"]


def test_a_gift_line_is_made_up_from_gift_stock() -> None:
    # Rule: gift items ship from the separate gift stock, make-ups too
    order = shipped_order(
        OrderLine("BAG", 10, Money.of(10, "CNY")),
        OrderLine("PEN", 2, Money.of(0, "CNY"), gift=True),
    )
    case = DeliveryProblemCase.report(
        id="DP-1",
        order=order,
        kind="short_quantity",
        at=AT,
        by=CS,
        access=ACCESS,
        lines=[ProblemLine("PEN", 1, gift=True)],
    ).route_to(policy=POLICY, at=AT, by=CS, access=ACCESS)
    result = ship_make_up(
        case,
        {"PEN": Stock("PEN", gift=3, good=0)},
        responsible="x",
        policy=POLICY,
        at=AT,
        by=WAREHOUSE,
        access=ACCESS,
    )
    assert (result.stocks["PEN"].gift, result.stocks["PEN"].good) == (2, 0)
    assert result.events[-1].bucket is StockBucket.GIFT  # type: ignore[attr-defined]


def test_made_up_is_an_outcome_of_a_short_quantity_only() -> None:
    # Rule: nothing was made up for a problem that is not a short quantity
    case = report("late_delivery").route_to(policy=POLICY, at=AT, by=CS, access=ACCESS)
    with pytest.raises(RuleViolation) as info:
        case.resolve("made_up", at=AT, by=CS, access=ACCESS)
    assert info.value.code == "make_up_shipment_missing"
    assert (
        case.resolve("delivered", at=AT, by=CS, access=ACCESS).outcome is ProblemOutcome.DELIVERED
    )


def test_an_escalated_problem_is_decided_with_the_vps_authority() -> None:
    # Rule: what goes to the sales VP is decided by the VP (the top role or an approval limit)
    case = report("damaged_packaging", ProblemLine("BAG", 30)).route_to(
        policy=POLICY, at=AT, by=CS, access=ACCESS
    )
    assert case.escalated
    with pytest.raises(PermissionDenied):
        case.resolve("compensated", at=AT, by=CS, access=ACCESS)
    assert case.resolve("compensated", at=AT, by=VP, access=ACCESS).status is ProblemStatus.RESOLVED


def test_the_free_text_of_a_problem_is_redacted() -> None:
    # Rule: 保护客户隐私 - description, notes and resolution are free text about the customer
    case = report("late_delivery", description="Dr. Chen is furious").route_to(
        policy=POLICY, at=AT, by=CS, access=ACCESS
    )
    case = case.escalate_delay(policy=POLICY, at=AT, by=CS, access=ACCESS, note="call 138")
    shown = case.redacted()
    assert shown.description == REDACTED
    assert [change.note for change in shown.history] == ["", "", REDACTED]
    assert shown.route == case.route
    plain = report("late_delivery")
    assert plain.redacted() is plain


def test_the_events_follow_the_history() -> None:
    # Rule: every step of a problem is an event in the outbox
    reported = report("late_delivery")
    assert [type(e) for e in delivery_problem_events(None, reported)] == [DeliveryProblemReported]
    routed = reported.route_to(policy=POLICY, at=AT, by=CS, access=ACCESS)
    assert [type(e) for e in delivery_problem_events(reported, routed)] == [DeliveryProblemRouted]
    closed = routed.resolve("withdrawn", at=AT, by=CS, access=ACCESS)
    (event,) = delivery_problem_events(routed, closed)
    assert isinstance(event, DeliveryProblemClosed)
    assert event.outcome is ProblemOutcome.WITHDRAWN


def test_a_problem_model_refuses_what_does_not_fit() -> None:
    # Rule: a short quantity names what is missing; one line per item; an outcome only at the end
    with pytest.raises(ValidationError) as info:
        report("short_quantity")
    assert [path for path, _ in info.value.errors] == ["lines"]
    case = report("late_delivery")
    with pytest.raises(ValidationError):
        attrs.evolve(case, lines=(ProblemLine("BAG", 1), ProblemLine("BAG", 2)))
    with pytest.raises(ValidationError):
        attrs.evolve(case, outcome="accepted")
    with pytest.raises(ValidationError):
        attrs.evolve(case, kind="lost_in_space")
    with pytest.raises(InvalidTransition):
        case.escalate_delay(policy=POLICY, at=AT, by=CS, access=ACCESS)


def test_the_monthly_analysis_reads_the_month_where_the_team_works() -> None:
    # Rule: the month of a problem is read in the policy's time zone, like the damage analysis
    late_evening = datetime(2026, 10, 31, 17, tzinfo=UTC)  # 1 November 01:00 in Shanghai
    case = attrs.evolve(report("late_delivery"), reported_at=late_evening)
    assert [r.month for r in delivery_problem_analysis([case], "2026-11")] == ["2026-11"]
    assert delivery_problem_analysis([case], "2026-10", tz="UTC")[0].problems == 1
    with pytest.raises(ValidationError):
        delivery_problem_analysis([case], "2026-13")


#: Short quantities, routed: ready for their make-up shipment.
ROUTED_SHORTAGES = delivery_problems(
    kind=st.just(DeliveryProblemKind.SHORT_QUANTITY),
    routed=st.just(True),  # noqa: FBT003
)


@given(ROUTED_SHORTAGES, stocks())
def test_a_make_up_leaves_stock_whole_or_refuses(case: DeliveryProblemCase, stock: Stock) -> None:
    # Rule: 不开负库存 - a make-up from any stock never drives it negative
    sku = case.lines[0].sku
    held = {sku: attrs.evolve(stock, id=sku)}
    needed: dict[tuple[str, StockBucket], int] = {}
    for line in case.lines:
        needed[line.sku, line.bucket] = needed.get((line.sku, line.bucket), 0) + line.quantity
    short = any(
        (held.get(s) or Stock(id=s)).available(bucket) < quantity
        for (s, bucket), quantity in needed.items()
    )

    def make_up() -> object:
        return ship_make_up(
            case,
            held,
            responsible="x",
            policy=POLICY,
            at=AT + timedelta(days=9),
            by=WAREHOUSE,
            access=ACCESS,
        )

    if short:
        with pytest.raises(RuleViolation, match="available"):
            make_up()
        return
    result = make_up()
    assert isinstance(result, MakeUpResult)
    for after in result.stocks.values():
        for bucket in StockBucket:
            assert after.on_hand(bucket) >= 0
            assert after.available(bucket) >= 0
    assert result.case.status is ProblemStatus.BEING_REMEDIED


@given(delivery_problems())
def test_every_drawn_problem_is_consistent(case: DeliveryProblemCase) -> None:
    # Rule: a problem is routed once, and only the thresholds make it escalated
    assert case.status in (ProblemStatus.REPORTED, ProblemStatus.ROUTED)
    assert case.history[-1].to == case.status
    if case.status is ProblemStatus.ROUTED:
        assert case.route
        assert case.escalated == bool(set(case.route) - POLICY.problem_default_route)
