"""Spare parts for service (配件管理): price lists, part stock, transfers, reconciliation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import InvalidTransition, RuleViolation, ValidationError
from csdomain.fieldservice import (
    PART_TRANSFER_LIFECYCLE,
    PART_TRANSFER_TRANSITIONS,
    FieldServicePolicy,
    MovementKind,
    PartLot,
    PartMovement,
    PartStock,
    PartTransfer,
    TransferLine,
    TransferStatus,
    check_receipt,
    reconcile_parts,
    reserve_plan,
    stock_age,
)
from csdomain.lifecycle import command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.testing.strategies_fieldservice import part_stocks, part_transfers
from csdomain.warranty import BomLine, PartKind, ServiceBom, SparePart, WarrantyPolicy, quote_part
from csdomain.warranty.parts import PriceList


WARRANTY = WarrantyPolicy()
BOARD = SparePart(
    part_number="PB-55", name="power board", kind=PartKind.STANDARD, cost=Money.of("100.00", "CNY")
)
BELT = SparePart(
    part_number="BT-1", name="drive belt", kind=PartKind.WEAR, cost=Money.of("20.00", "CNY")
)
CHIP = SparePart(part_number="IC-9", name="controller chip", kind=PartKind.CORE)
DRUM = SparePart(
    part_number="DR-1",
    name="drum",
    kind=PartKind.ASSEMBLED,
    dealer_price=Money.of("1000.00", "CNY"),
    cost=Money.of("300.00", "CNY"),
)
MOTOR = SparePart(
    part_number="MO-1",
    name="motor",
    kind=PartKind.ASSEMBLED,
    dealer_price=Money.of("1000.00", "CNY"),
    cost=Money.of("700.00", "CNY"),
)
BOM = ServiceBom(
    product="WM-8",
    dealer_price=Money.of("1000.00", "CNY"),
    lines=[BomLine(part=DRUM), BomLine(part=MOTOR), BomLine(part=BELT)],
)
T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


# -- two price lists -----------------------------------------------------------------------


def test_the_dealer_settlement_list_is_the_guide_price_less_the_channel_discount() -> None:
    # Rule: two price lists, one formula: settlement = market guide x (1 - discount).
    guide = quote_part(DRUM, 1, WARRANTY, bom=BOM)
    assert guide.price_list is PriceList.MARKET_GUIDE
    assert guide.unit_price == cny("600.00")  # 30 % of 2 x 1000.00
    discount = FieldServicePolicy().settlement_discount("dealer")
    dealer = quote_part(DRUM, 1, WARRANTY, bom=BOM, settlement_discount=discount)
    assert dealer.price_list is PriceList.DEALER_SETTLEMENT
    assert (dealer.unit_price, dealer.discount) == (cny("480.00"), Decimal("0.20"))
    assert dealer.total == cny("480.00") + cny("62.40")


def test_the_assembled_parts_of_a_product_keep_the_double_rule_on_the_guide_list() -> None:
    # Rule: the parts of one product together cost 2x its dealer settlement price.
    total = sum(
        (quote_part(part, 1, WARRANTY, bom=BOM).list_price for part in (DRUM, MOTOR)),
        start=cny("0.00"),
    )
    assert total == cny("2000.00")


def test_standard_and_wear_parts_stay_at_zero_margin_on_both_lists() -> None:
    # Rule: standard and wear parts at zero margin: no list sells them below or above cost.
    for part in (BOARD, BELT):
        guide = quote_part(part, 2, WARRANTY)
        settled = quote_part(part, 2, WARRANTY, settlement_discount=Decimal("0.25"))
        assert part.cost is not None
        assert guide.unit_price == settled.unit_price == part.cost
        assert settled.discount == 0


def test_an_ip_protected_core_part_is_on_no_list() -> None:
    # Rule: IP-protected core parts are never priced (part_not_for_sale).
    for discount in (None, Decimal("0.20")):
        with pytest.raises(RuleViolation) as refused:
            quote_part(CHIP, 1, WARRANTY, settlement_discount=discount)
        assert refused.value.code == "part_not_for_sale"


def test_a_settlement_discount_is_a_share_below_one() -> None:
    for bad in (Decimal(1), Decimal("-0.1"), Decimal("NaN"), 0.2):
        with pytest.raises(ValidationError) as refused:
            quote_part(BOARD, 1, WARRANTY, settlement_discount=bad)  # type: ignore[arg-type]
        assert refused.value.errors[0][0] == "settlement_discount"
    with pytest.raises(ValidationError):
        FieldServicePolicy(part_settlement_discounts={"agent": Decimal("0.3")})
    with pytest.raises(ValidationError):
        FieldServicePolicy().settlement_discount("end_user")


# -- part stock ----------------------------------------------------------------------------


def stock(*lots: tuple[date, int]) -> PartStock:
    return PartStock(service_point_id="SP-1", part=BOARD, lots=[PartLot(d, n) for d, n in lots])


def test_part_stock_is_taken_oldest_first() -> None:
    held = stock((date(2026, 8, 1), 2), (date(2026, 10, 1), 3))
    after, taken = held.taken(3, purpose="use")
    assert taken == (PartLot(date(2026, 8, 1), 2), PartLot(date(2026, 10, 1), 1))
    assert after.lots == (PartLot(date(2026, 10, 1), 2),)
    assert after.on_hand == 2


def test_part_stock_is_never_negative() -> None:
    # Rule: part stock never negative (part_out_of_stock).
    with pytest.raises(RuleViolation) as refused:
        stock((date(2026, 10, 1), 1)).taken(2, purpose="use on job SJ-1")
    assert refused.value.code == "part_out_of_stock"
    assert refused.value.details["on_hand"] == 1


_OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["in", "out"]), st.integers(1, 5), st.integers(0, 200)),
    max_size=40,
)


@given(_OPERATIONS)
def test_no_sequence_of_receipts_and_issues_makes_stock_negative(
    operations: list[tuple[str, int, int]],
) -> None:
    # Rule: part stock never negative under any sequence of operations; what is refused
    # leaves it as it was, and the books add up.
    held = PartStock.empty("SP-1", BOARD)
    expected = 0
    for op, quantity, day_offset in operations:
        if op == "in":
            held = held.received([PartLot(date(2026, 1, 1) + timedelta(days=day_offset), quantity)])
            expected += quantity
        else:
            if quantity > expected:
                with pytest.raises(RuleViolation, match="part_out_of_stock"):
                    held.taken(quantity, purpose="use")
                continue
            held, taken = held.taken(quantity, purpose="use")
            assert sum(lot.quantity for lot in taken) == quantity
            expected -= quantity
        assert held.on_hand == expected >= 0
        assert all(lot.quantity > 0 for lot in held.lots)
        assert [lot.received_on for lot in held.lots] == sorted(
            {lot.received_on for lot in held.lots}
        )


def test_lots_are_kept_oldest_first_one_per_day() -> None:
    with pytest.raises(ValidationError):
        stock((date(2026, 10, 1), 1), (date(2026, 9, 1), 1))
    merged = stock((date(2026, 10, 1), 1)).received([PartLot(date(2026, 10, 1), 2)])
    assert merged.lots == (PartLot(date(2026, 10, 1), 3),)


# -- receipts and transfers ----------------------------------------------------------------


def test_a_receipt_is_checked_against_its_note() -> None:
    # Rule: parts are received against a delivery or transfer note: nothing the note does
    # not list, never more than it lists; a shortfall is kept.
    lines = [TransferLine(part=BOARD, quantity=4), TransferLine(part=BELT, quantity=2)]
    receipt = check_receipt(lines, {"PB-55": 3, "BT-1": 2})
    assert [(r.part_number, r.received, r.shortfall) for r in receipt] == [
        ("PB-55", 3, 1),
        ("BT-1", 2, 0),
    ]
    with pytest.raises(RuleViolation) as refused:
        check_receipt(lines, {"PB-55": 5})
    assert refused.value.code == "receipt_exceeds_note"
    with pytest.raises(RuleViolation) as refused:
        check_receipt(lines, {"XX-1": 1})
    assert refused.value.code == "receipt_not_on_note"
    assert [r.received for r in check_receipt(lines, None)] == [4, 2]


def test_a_transfer_is_shipped_then_received_once_and_keeps_the_parts_age() -> None:
    # Rule: 调拨: shipped -> received, with a receipt check.
    lots = (PartLot(date(2026, 8, 1), 1), PartLot(date(2026, 10, 1), 2))
    shipped = PartTransfer.shipped(
        id="DB-202611-0001",
        source_point_id="SP-1",
        destination_point_id="SP-2",
        lines=[TransferLine(part=BOARD, quantity=3, lots=lots)],
        at=T0,
        by="disp-1",
    )
    received = shipped.received({"PB-55": 2}, at=T0 + timedelta(days=1), by="disp-2")
    assert received.shortfall == 1
    assert received.arrived_lots(date(2026, 11, 3)) == {
        "PB-55": (PartLot(date(2026, 8, 1), 1), PartLot(date(2026, 10, 1), 1))
    }
    with pytest.raises(InvalidTransition):
        received.received(None, at=T0 + timedelta(days=2), by="disp-2")
    with pytest.raises(ValidationError):
        attrs.evolve(shipped, destination_point_id="SP-1")


def test_the_transfer_lifecycle_is_well_formed() -> None:
    problems = transition_table_problems(
        PART_TRANSFER_TRANSITIONS,
        set(TransferStatus),
        initial={TransferStatus.SHIPPED},
        terminal={TransferStatus.RECEIVED},
    )
    assert problems == []
    assert command_table_problems(PART_TRANSFER_LIFECYCLE) == []


# -- the monthly reconciliation ------------------------------------------------------------


def move(kind: MovementKind, quantity: int, at: datetime, reference: str = "DN-1") -> PartMovement:
    return PartMovement(
        id=f"PM-{at.isoformat()}-{kind.value}-{quantity}",
        service_point_id="SP-1",
        part_number="PB-55",
        kind=kind,
        quantity=quantity,
        reference=reference,
        at=at,
        by="x",
    )


def test_the_monthly_reconciliation_adds_up_and_flags_differences() -> None:
    # Rule: parts settled per job and reconciled monthly: opening + in - out = closing;
    # a count that differs and a job not settled are flagged.
    start, end = T0, T0 + timedelta(days=30)
    movements = [
        move(MovementKind.RECEIVED, 10, start - timedelta(days=3)),
        move(MovementKind.ISSUED, 2, start - timedelta(days=1), "SJ-0"),
        move(MovementKind.RECEIVED, 5, start + timedelta(days=1)),
        move(MovementKind.ISSUED, 3, start + timedelta(days=2), "SJ-1"),
        move(MovementKind.TRANSFERRED_OUT, 1, start + timedelta(days=3), "DB-1"),
        move(MovementKind.WRITTEN_OFF, 1, start + timedelta(days=4), "SN-1"),
        move(MovementKind.RECEIVED, 7, end),  # next month
    ]
    month = reconcile_parts(
        "SP-1", movements, start=start, end=end, jobs={"SJ-1": None}, currency="CNY"
    )
    line = month.line("PB-55")
    assert (line.opening, line.received, line.issued, line.transferred_out) == (8, 5, 3, 1)
    assert (line.written_off, line.closing, line.difference) == (1, 8, 0)
    assert [(job.job_id, job.issued, job.settled) for job in month.jobs] == [
        ("SJ-1", {"PB-55": 3}, False)
    ]
    assert month.flagged  # the job drew parts and is not settled
    counted = reconcile_parts(
        "SP-1",
        movements,
        start=start,
        end=end,
        jobs={"SJ-1": None},
        counted={"PB-55": 7},
        currency="CNY",
    )
    assert counted.line("PB-55").difference == -1
    assert counted.line("PB-55").flagged


# -- the reserve plan and the stock's age --------------------------------------------------


def test_the_reserve_plan_replaces_the_parts_used_one_for_one() -> None:
    # Rule: a reserve plan from service history: planned replacements 1:1.
    movements = [
        move(MovementKind.ISSUED, 3, T0, "SJ-1"),
        move(MovementKind.ISSUED, 2, T0 + timedelta(days=5), "SJ-2"),
        move(MovementKind.RECEIVED, 9, T0),
    ]
    held = stock((date(2026, 10, 1), 1))
    plan = reserve_plan(
        "SP-1",
        movements,
        [held],
        start=T0 - timedelta(days=1),
        end=T0 + timedelta(days=89),
        ratio=1,
    )
    (line,) = plan.lines
    assert (line.used, line.planned, line.on_hand, line.to_order) == (5, 5, 1, 4)


def test_eighty_percent_of_part_stock_is_younger_than_three_months() -> None:
    # Rule: 配件账龄周期80%控制在3个月内: the share of stock younger than 3 months, target 80 %.
    policy = FieldServicePolicy()
    assert (policy.young_part_stock_months, policy.young_part_stock_target) == (3, Decimal("0.80"))
    old = stock((date(2026, 7, 1), 1), (date(2026, 10, 1), 4))
    overall, points = stock_age(
        [old], on=date(2026, 11, 2), months=3, target=policy.young_part_stock_target
    )
    assert (overall.on_hand, overall.young, overall.share, overall.met) == (5, 4, 0.8, True)
    older = stock((date(2026, 7, 1), 2), (date(2026, 10, 1), 4))
    overall, _ = stock_age([older], on=date(2026, 11, 2), months=3, target=Decimal("0.80"))
    assert not overall.met
    assert [p.service_point_id for p in points] == ["SP-1"]


@given(part_stocks(), st.integers(1, 200))
def test_taking_from_any_stock_leaves_it_whole_or_refuses(held: PartStock, wanted: int) -> None:
    # Rule: part stock never negative: a take within what is on hand leaves the rest,
    # oldest lots gone first; beyond it, part_out_of_stock.
    if wanted > held.on_hand:
        with pytest.raises(RuleViolation, match="part_out_of_stock"):
            held.taken(wanted, purpose="use")
        return
    after, taken = held.taken(wanted, purpose="use")
    assert after.on_hand == held.on_hand - wanted >= 0
    assert sum(lot.quantity for lot in taken) == wanted
    if after.lots and taken:
        assert taken[0].received_on <= after.lots[0].received_on


@given(part_transfers())
def test_a_received_transfer_books_what_arrived_and_keeps_the_shortfall(
    transfer: PartTransfer,
) -> None:
    # Rule: a transfer's receipt is checked against its note; the shortfall is kept.
    if transfer.status is TransferStatus.SHIPPED:
        assert transfer.receipt == ()
        return
    (line,) = transfer.lines
    booked = transfer.arrived_lots(date(2026, 11, 3)).get(line.part_number, ())
    assert sum(lot.quantity for lot in booked) + transfer.shortfall == line.quantity
