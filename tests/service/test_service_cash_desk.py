"""Service-layer tests of the technician's cash: hand-over and reconciliation (memory, SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.errors import CsDomainError, NotFound, PermissionDenied, ValidationError
from csdomain.fieldservice import FIELD_SERVICE_TEAM, ServiceOrder, SignOff, VisitRecord
from csdomain.kinds import CASH_HANDOVERS
from csdomain.money import Money
from csdomain.service import ServiceDesk
from csdomain.store import Store, open_store


#: Monday 2026-11-02 09:00 in Asia/Shanghai.
START = datetime(2026, 11, 2, 1, tzinfo=UTC)
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
MANAGER = Actor("mgr-1", frozenset({"cs_manager"}))
DISPATCHER = Actor("disp-1", frozenset({"call_team"}))
TECH = Actor("tech-7", frozenset({"technician"}))
FINANCE = Actor("fin-1", frozenset({"finance"}))
OUTSIDER = Actor("visitor-1", frozenset())


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
    made = ServiceDesk(store, clock=clock, team_calendars={FIELD_SERVICE_TEAM: OFFICE})
    made.register_customer(name="Zhang San", city="Wuhan", phone="027-87654321", by=MANAGER)
    made.register_service_area("WH-HS", name="Hongshan", district="WH", region="HUBEI", by=MANAGER)
    made.register_service_point(
        "SP-WH", name="Wuhan own point", ownership="own", service_areas=["WH-HS"], by=MANAGER
    )
    made.register_technician(
        "tech-7",
        name="Li",
        service_point_id="SP-WH",
        skills=["repair"],
        daily_capacity=4,
        calendar=OFFICE,
        by=MANAGER,
    )
    for serial in ("SN-1", "SN-2"):
        made.register_product_file(
            serial,
            model="TV-55",
            category="tv",
            customer_id="CU-000001",
            service_area_id="WH-HS",
            sold_on=date(2019, 7, 1),
            address="Luoyu Rd 1",
            by=MANAGER,
        )
    return made


def settled_with_cash(
    desk: ServiceDesk, clock: FixedClock, serial: str, collected: str
) -> ServiceOrder:
    """A paid job out of warranty, visited, completed, signed off and settled with cash."""
    order = desk.open_service_order(
        serial, kind="repair", urgency="urgent", symptoms=["no power"], by=DISPATCHER
    )
    clock.advance(timedelta(minutes=10))
    desk.triage_service_order(order.id, distance_km=12, by=DISPATCHER)
    desk.dispatch_service_order(order.id, "tech-7", by=DISPATCHER)
    clock.advance(timedelta(minutes=30))
    desk.start_service_travel(order.id, by=TECH)
    clock.advance(timedelta(minutes=30))
    order = desk.record_arrival(order.id, by=TECH)
    assert order.arrived_at is not None
    clock.advance(timedelta(hours=1))
    record = VisitRecord(
        technician_id="tech-7",
        arrived_at=order.arrived_at,
        departed_at=clock.now(),
        fault_found="loose connector",
        work_done="reseated the connector",
        labour_minutes=45,
    )
    desk.record_service_visit(order.id, record, by=TECH)
    desk.complete_service_order(order.id, by=TECH)
    sign_off = SignOff(
        customer_name="Zhang San", signature_ref="sig/1.png", accepted=True, at=clock.now()
    )
    desk.sign_off_service_order(order.id, sign_off, by=TECH)
    return desk.settle_service_order(order.id, collected=cny(collected), by=FINANCE)


def handovers(store: Store) -> list[object]:
    with store.unit_of_work(readonly=True) as uow:
        return list(uow.repo(CASH_HANDOVERS).find())


def test_cash_collected_at_two_jobs_is_handed_over_in_part_and_reconciled(
    desk: ServiceDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: the cash collected at settlements is handed over to finance and reconciled.
    first = settled_with_cash(desk, clock, "SN-1", "140.00")
    second = settled_with_cash(desk, clock, "SN-2", "100.00")
    assert first.settlement is not None
    assert first.settlement.collected_by == "tech-7"
    clock.advance(timedelta(hours=1))
    handed = desk.hand_over_cash("tech-7", cny("200.00"), note="evening", by=FINANCE)
    assert (handed.id, handed.received_by, handed.at) == ("CH-00000001", "fin-1", clock.now())
    assert handovers(store) == [handed]
    day = (START - timedelta(hours=1), START + timedelta(hours=23))
    result = desk.cash_reconciliation("tech-7", start=day[0], end=day[1], by=MANAGER)
    assert result.collected == cny("240.00")
    assert result.jobs == (first.id, second.id)
    assert result.handed_over == cny("200.00")
    assert result.handovers == (handed.id,)
    assert result.difference == Decimal("40.00")
    assert result.still_held == cny("40.00")
    assert not result.over_handed
    later = desk.cash_reconciliation(
        "tech-7", start=day[1], end=day[1] + timedelta(days=1), by=FINANCE
    )
    assert later.collected == later.handed_over == cny("0.00")


def test_a_handover_beyond_the_collections_shows_as_a_flagged_surplus(
    desk: ServiceDesk, clock: FixedClock
) -> None:
    # Rule: a handover larger than what was collected in the period is flagged, never hidden.
    settled_with_cash(desk, clock, "SN-1", "40.00")
    desk.hand_over_cash("tech-7", cny("100.00"), by=FINANCE)
    result = desk.cash_reconciliation(
        "tech-7", start=START, end=clock.now() + timedelta(seconds=1), by=FINANCE
    )
    assert result.over_handed
    assert result.surplus == cny("60.00")
    assert result.difference == Decimal("-60.00")


@pytest.mark.parametrize(
    ("technician", "amount", "by", "error"),
    [
        ("tech-7", cny("10.00"), TECH, PermissionDenied),
        ("tech-7", cny("10.00"), MANAGER, None),
        ("tech-404", cny("10.00"), FINANCE, NotFound),
        ("tech-7", cny("0.00"), FINANCE, ValidationError),
        ("tech-7", Money.of("10.00", "USD"), FINANCE, ValidationError),
    ],
)
def test_a_handover_needs_settle_a_technician_on_file_and_a_positive_amount_in_the_currency(
    desk: ServiceDesk,
    store: Store,
    *,
    technician: str,
    amount: Money,
    by: Actor,
    error: type[CsDomainError] | None,
) -> None:
    # Rule: hand-overs need service.settle; the technician exists; amount > 0 in the currency.
    if error is None:
        assert desk.hand_over_cash(technician, amount, by=by).amount == amount
        return
    with pytest.raises(error):
        desk.hand_over_cash(technician, amount, by=by)
    assert handovers(store) == []


def test_the_reconciliation_needs_settle_or_report_view_and_a_forward_period(
    desk: ServiceDesk,
) -> None:
    # Rule: the reconciliation is for finance and report viewers, over start <= at < end.
    with pytest.raises(PermissionDenied):
        desk.cash_reconciliation("tech-7", start=START, end=START, by=OUTSIDER)
    assert desk.cash_reconciliation("tech-7", start=START, end=START, by=TECH).balanced
    with pytest.raises(ValidationError):
        desk.cash_reconciliation("tech-7", start=START, end=START - timedelta(1), by=FINANCE)
    with pytest.raises(NotFound):
        desk.cash_reconciliation("tech-404", start=START, end=START, by=FINANCE)
    empty = desk.cash_reconciliation("tech-7", start=START, end=START, by=DISPATCHER)
    assert empty.balanced
