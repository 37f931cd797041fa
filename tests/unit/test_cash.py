"""The technician's cash handed over and reconciled (单单结): pure models and arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import ComplaintPolicy, ComplaintUrgency
from csdomain.errors import ValidationError
from csdomain.fieldservice import (
    Coverage,
    Dispatch,
    FieldServicePolicy,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    SignOff,
    Technician,
    VisitRecord,
    price_work,
    triage_symptoms,
)
from csdomain.fieldservice.cash import CashHandover, cash_reconciliation
from csdomain.money import Money
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_fieldservice import cash_handovers
from csdomain.warranty import WarrantyPolicy


POLICY = FieldServicePolicy()
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
ALWAYS = BusinessCalendar.always("Asia/Shanghai")
#: Monday 2026-11-02 09:00 in Asia/Shanghai.
MONDAY_9 = datetime(2026, 11, 2, 1, tzinfo=UTC)
AGENT = Actor("disp-1", frozenset({"call_team"}))
TECH = Actor("tech-7", frozenset({"technician"}))
FINANCE = Actor("fin-1", frozenset({"finance"}))


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def _signed_off_paid_job() -> ServiceOrder:
    """A job the customer pays (253.00 CNY), signed off and ready to settle."""
    order = ServiceOrder.open(
        id="SJ-202611-0001",
        kind=ServiceOrderKind.REPAIR,
        source=ServiceOrderSource.CALL,
        customer_id="CU-000001",
        product_serial="SN-001",
        model="TV-55",
        address="Luoyu Rd 1",
        service_area_id="WH-HS",
        district="WH",
        urgency=ComplaintUrgency.URGENT,
        in_warranty=False,
        at=MONDAY_9,
        by=AGENT,
        policy=POLICY,
        complaints=ComplaintPolicy(),
        calendar=ALWAYS,
        symptoms=("no power",),
    )
    result = triage_symptoms(
        order.symptoms, model=order.model, kind=order.kind, guide=(), distance_km=12
    )
    order = order.triaged(result, at=MONDAY_9 + timedelta(minutes=10), by=AGENT)
    who = Technician(
        id="tech-7",
        name="Li",
        service_point_id="SP-WH",
        district="WH",
        skills=frozenset({"repair"}),
        service_areas=frozenset({"WH-HS"}),
        daily_capacity=3,
        calendar=OFFICE,
    )
    start = MONDAY_9 + timedelta(minutes=20)
    dispatch = Dispatch(
        technician_id=who.id,
        service_point_id=who.service_point_id,
        window_start=start,
        window_end=start + timedelta(hours=2),
        day=start.astimezone(OFFICE.zone).date(),
        at=order.history[-1].at,
        by=AGENT.id,
    )
    order = order.dispatched(dispatch, who, by=AGENT)
    arrived = MONDAY_9 + timedelta(hours=2)
    order = order.arrived(at=arrived, by=TECH, policy=POLICY, calendar=ALWAYS)
    record = VisitRecord(
        technician_id="tech-7",
        arrived_at=arrived,
        departed_at=arrived + timedelta(hours=1),
        fault_found="loose connector",
        work_done="reseated the connector",
        labour_minutes=45,
    )
    order = order.with_visit(record, at=record.departed_at, by=TECH)
    lines = price_work(
        on_site_visits=1,
        distance_km=12,
        labour_minutes=45,
        parts=(),
        coverage=Coverage.CUSTOMER,
        policy=POLICY,
        warranty=WarrantyPolicy(),
    )
    done = record.departed_at + timedelta(minutes=1)
    order = order.completed(
        lines, coverage=Coverage.CUSTOMER, warranty_claim_id=None, at=done, by=TECH, policy=POLICY
    )
    sign_off = SignOff(customer_name="Zhang San", signature_ref="sig/1.png", accepted=True, at=done)
    return order.signed_off(sign_off, by=TECH)


SIGNED_OFF = _signed_off_paid_job()
#: When the job above may first be settled.
READY = SIGNED_OFF.history[-1].at
TOTAL = SIGNED_OFF.charge_total or Money.zero("CNY")


def settled(
    job_id: str, collected: str, *, holder: str = "tech-7", minutes: int = 0
) -> ServiceOrder:
    """The job above as ``job_id``, settled ``minutes`` after it was ready."""
    return attrs.evolve(SIGNED_OFF, id=job_id).settled(
        collected=cny(collected),
        collected_by=holder,
        at=READY + timedelta(minutes=minutes),
        by=FINANCE,
        policy=POLICY,
    )


def handover(
    handover_id: str, amount: str, *, technician: str = "tech-7", minutes: int = 0
) -> CashHandover:
    return CashHandover(
        id=handover_id,
        technician_id=technician,
        amount=cny(amount),
        at=READY + timedelta(minutes=minutes),
        received_by="fin-1",
    )


DAY = (READY - timedelta(hours=6), READY + timedelta(hours=18))


def test_the_job_used_here_costs_the_customer_the_fee_schedules_price() -> None:
    # Rule: outside warranty the fee schedule prices call-out, distance and labour.
    assert cny("140.00") == TOTAL


def test_collected_is_the_cash_the_technician_holds_from_the_periods_settlements() -> None:
    # Rule: the cash of each settlement counts for the technician who collected it, in the period.
    jobs = [
        settled("SJ-1", "100.00", minutes=10),
        settled("SJ-2", "40.00", minutes=5),
        settled("SJ-3", "70.00", holder="tech-8", minutes=20),
        settled("SJ-4", "0.00", minutes=30),
        settled("SJ-5", "90.00", minutes=60 * 24),
        SIGNED_OFF,
    ]
    result = cash_reconciliation("tech-7", *DAY, jobs, [], currency="CNY")
    assert result.collected == cny("140.00")
    assert result.jobs == ("SJ-2", "SJ-1")
    assert result.handed_over == cny("0.00")
    assert result.still_held == cny("140.00")
    assert not result.over_handed
    assert not result.balanced


def test_handed_over_is_the_sum_of_the_technicians_handovers_in_the_period() -> None:
    # Rule: what the technician handed over in the period is set against what they collected.
    jobs = [settled("SJ-1", "100.00"), settled("SJ-2", "40.00", minutes=5)]
    handovers = [
        handover("CH-2", "60.00", minutes=90),
        handover("CH-1", "50.00", minutes=60),
        handover("CH-3", "500.00", technician="tech-8", minutes=60),
        handover("CH-4", "30.00", minutes=-60 * 12),
    ]
    result = cash_reconciliation("tech-7", *DAY, jobs, handovers, currency="CNY")
    assert result.handed_over == cny("110.00")
    assert result.handovers == ("CH-1", "CH-2")
    assert result.difference == Decimal("30.00")
    assert result.still_held == cny("30.00")
    assert result.surplus == cny("0.00")


def test_a_handover_larger_than_the_collections_is_flagged_never_hidden() -> None:
    # Rule: a negative difference (more handed over than collected) shows as a flagged surplus.
    jobs = [settled("SJ-1", "40.00")]
    result = cash_reconciliation(
        "tech-7", *DAY, jobs, [handover("CH-1", "100.00", minutes=5)], currency="CNY"
    )
    assert result.difference == Decimal("-60.00")
    assert result.over_handed
    assert result.surplus == cny("60.00")
    assert result.still_held == cny("0.00")


def test_everything_handed_over_balances() -> None:
    # Rule: collected equal to handed over leaves nothing with the technician.
    jobs = [settled("SJ-1", "40.00")]
    result = cash_reconciliation(
        "tech-7", *DAY, jobs, [handover("CH-1", "40.00", minutes=5)], currency="CNY"
    )
    assert result.balanced
    assert result.difference == 0
    assert not result.over_handed


def test_the_period_includes_its_start_and_excludes_its_end() -> None:
    # Rule: the period is start <= at < end.
    start = READY
    end = READY + timedelta(minutes=10)
    jobs = [settled("SJ-1", "10.00"), settled("SJ-2", "20.00", minutes=10)]
    handovers = [handover("CH-1", "5.00"), handover("CH-2", "7.00", minutes=10)]
    result = cash_reconciliation("tech-7", start, end, jobs, handovers, currency="CNY")
    assert (result.jobs, result.handovers) == (("SJ-1",), ("CH-1",))


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    # Rule: a reconciliation period runs forward.
    with pytest.raises(ValidationError) as caught:
        cash_reconciliation("tech-7", DAY[1], DAY[0], [], [], currency="CNY")
    assert caught.value.errors[0][0] == "end"


def test_cash_in_another_currency_is_refused_not_skipped() -> None:
    # Rule: the reconciliation never leaves out cash it cannot add up.
    usd = CashHandover(
        id="CH-1", technician_id="tech-7", amount=Money.of("5.00", "USD"), at=READY, received_by="f"
    )
    with pytest.raises(ValidationError) as caught:
        cash_reconciliation("tech-7", *DAY, [], [usd], currency="CNY")
    assert caught.value.errors[0][0] == "handovers"


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"amount": Money.zero("CNY")}, "amount"),
        ({"amount": "10.00"}, "amount"),
        ({"technician_id": " "}, "technician_id"),
        ({"received_by": ""}, "received_by"),
        ({"at": datetime(2026, 11, 2)}, "at"),
    ],
)
def test_a_handover_is_more_than_zero_by_someone_at_an_aware_moment(
    changes: dict[str, object], path: str
) -> None:
    # Rule: a hand-over carries a positive amount, the technician, who received it and when.
    fields: dict[str, object] = {
        "id": "CH-1",
        "technician_id": "tech-7",
        "amount": cny("10.00"),
        "at": READY,
        "received_by": "fin-1",
    }
    fields.update(changes)
    with pytest.raises(ValidationError) as caught:
        CashHandover(**fields)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == path


@given(cash_handovers())
def test_a_handover_round_trips_through_json(value: CashHandover) -> None:
    # Rule: a stored hand-over reads back as it was written.
    assert from_json(CashHandover, to_json(value)) == value


_cents = st.integers(0, int(TOTAL.amount * 100))
_holder = st.sampled_from(["tech-7", "tech-8"])
_minutes = st.integers(0, 60 * 30)


@given(
    settlements=st.lists(st.tuples(_cents, _holder, _minutes), max_size=6),
    handovers=st.lists(st.tuples(st.integers(1, 50_000), _holder, _minutes), max_size=6),
)
def test_difference_is_collected_less_handed_over(
    settlements: list[tuple[int, str, int]], handovers: list[tuple[int, str, int]]
) -> None:
    # Rule: difference = collected - handed over, each summed over the technician's period.
    start, end = DAY
    jobs = [
        settled(f"SJ-{n}", str(Decimal(cents) / 100), holder=holder, minutes=minutes)
        for n, (cents, holder, minutes) in enumerate(settlements)
    ]
    given_over = [
        handover(f"CH-{n}", str(Decimal(cents) / 100), technician=who, minutes=minutes)
        for n, (cents, who, minutes) in enumerate(handovers)
    ]
    result = cash_reconciliation("tech-7", start, end, jobs, given_over, currency="CNY")

    def within(minutes: int) -> bool:
        return start <= READY + timedelta(minutes=minutes) < end

    collected = sum(
        (Decimal(c) / 100 for c, who, m in settlements if who == "tech-7" and within(m)),
        Decimal(0),
    )
    handed = sum(
        (Decimal(c) / 100 for c, who, m in handovers if who == "tech-7" and within(m)),
        Decimal(0),
    )
    assert result.collected.amount == collected
    assert result.handed_over.amount == handed
    assert result.difference == result.collected.amount - result.handed_over.amount
    assert result.still_held.amount - result.surplus.amount == result.difference
    assert result.over_handed == (result.difference < 0)
