"""Tests of field service (the after-sales handbook's 现场服务): pure models and rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import ComplaintPolicy, ComplaintUrgency, EscalationReason, SlaTarget
from csdomain.errors import InvalidTransition, RuleViolation, ValidationError
from csdomain.events import event_type
from csdomain.fieldservice import (
    SERVICE_ORDER_LIFECYCLE,
    SERVICE_ORDER_TRANSITIONS,
    ChargeKind,
    ChargeLine,
    Coverage,
    Dispatch,
    DistanceBand,
    FaultEntry,
    FeeSchedule,
    FieldServicePolicy,
    Finding,
    PartUse,
    ProductFile,
    PromiseTarget,
    QuoteApproval,
    ServiceKpiAccumulator,
    ServiceOrder,
    ServiceOrderDispatched,
    ServiceOrderEscalated,
    ServiceOrderKind,
    ServiceOrderOpened,
    ServiceOrderSettled,
    ServiceOrderSource,
    ServiceOrderStatus,
    ServiceOrderStatusChanged,
    ServicePoint,
    ServicePromise,
    ServiceQuote,
    ServiceRoute,
    Settlement,
    ShippedUnit,
    SignOff,
    Technician,
    TriageResult,
    VisitRecord,
    call_deadlines,
    check_available,
    earliest_slot,
    escalation_target,
    fix_deadline,
    price_work,
    product_files_from_order,
    promise_breaches,
    service_order_events,
    suggest_technicians,
    technician_daily_report,
    total_of,
    triage_symptoms,
)
from csdomain.lifecycle import command_table, command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.orders import Order, OrderLine, OrderPolicy, OrderStatus, Shipment, ShipmentLine
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_fieldservice import (
    fieldservice_policies,
    product_files,
    service_orders,
    settlements,
    technicians,
    triage_results,
    visit_records,
)
from csdomain.warranty import (
    BomLine,
    PartKind,
    Proof,
    ServiceBom,
    SparePart,
    WarrantyPolicy,
    WarrantyTerms,
)


S = ServiceOrderStatus
POLICY = FieldServicePolicy()
COMPLAINTS = ComplaintPolicy()
WARRANTY = WarrantyPolicy()
#: Monday 2026-11-02 09:00 in Asia/Shanghai.
MONDAY_9 = datetime(2026, 11, 2, 1, tzinfo=UTC)
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
ALWAYS = BusinessCalendar.always("Asia/Shanghai")
AGENT = Actor("disp-1", frozenset({"call_team"}))
TECH = Actor("tech-7", frozenset({"technician"}))
CNY = "CNY"
GUIDE = (
    FaultEntry(
        symptom="no power",
        causes=("power board", "fuse"),
        measures=("replace the power board",),
        parts=("PB-55",),
        skills=frozenset({"electronics"}),
    ),
    FaultEntry(symptom="error E4", causes=("firmware",), route=ServiceRoute.REMOTE),
    FaultEntry(
        symptom="cracked drum",
        causes=("drum",),
        route=ServiceRoute.RETURN_TO_FACTORY,
        models=frozenset({"WM-8"}),
    ),
    FaultEntry(symptom="burnt out", causes=("motor",), repairable=False),
)


def cny(amount: str) -> Money:
    return Money.of(amount, CNY)


def technician(**changes: Any) -> Technician:
    fields: dict[str, Any] = {
        "id": "tech-7",
        "name": "Li",
        "service_point_id": "SP-WH",
        "district": "WH",
        "skills": frozenset({"repair", "electronics"}),
        "service_areas": frozenset({"WH-HS"}),
        "daily_capacity": 3,
        "calendar": OFFICE,
    }
    fields.update(changes)
    return Technician(**fields)


def job(
    *,
    urgency: ComplaintUrgency = ComplaintUrgency.URGENT,
    kind: ServiceOrderKind = ServiceOrderKind.REPAIR,
    at: datetime = MONDAY_9,
    symptoms: tuple[str, ...] = ("no power since the storm",),
    in_warranty: bool = False,
    calendar: BusinessCalendar = ALWAYS,
    policy: FieldServicePolicy = POLICY,
    **changes: Any,
) -> ServiceOrder:
    fields: dict[str, Any] = {
        "id": "SJ-202611-0001",
        "kind": kind,
        "source": ServiceOrderSource.CALL,
        "customer_id": "CU-000001",
        "product_serial": "SN-001",
        "model": "TV-55",
        "address": "Luoyu Rd 1",
        "service_area_id": "WH-HS",
        "district": "WH",
        "urgency": urgency,
        "in_warranty": in_warranty,
        "at": at,
        "by": AGENT,
        "policy": policy,
        "complaints": COMPLAINTS,
        "calendar": calendar,
        "symptoms": symptoms,
    }
    fields.update(changes)
    return ServiceOrder.open(**fields)


def triaged(
    order: ServiceOrder, *, minutes: int = 10, distance_km: int | None = 12
) -> ServiceOrder:
    result = triage_symptoms(
        order.symptoms,
        model=order.model,
        kind=order.kind,
        guide=GUIDE,
        kind_skill="repair",
        distance_km=distance_km,
    )
    return order.triaged(result, at=order.received_at + timedelta(minutes=minutes), by=AGENT)


def dispatch_for(order: ServiceOrder, who: Technician, start: datetime) -> Dispatch:
    return Dispatch(
        technician_id=who.id,
        service_point_id=who.service_point_id,
        window_start=start,
        window_end=start + timedelta(hours=2),
        day=start.astimezone(OFFICE.zone).date(),
        at=order.history[-1].at,
        by=AGENT.id,
    )


def on_site(order: ServiceOrder | None = None, *, hours: int = 2) -> ServiceOrder:
    order = triaged(order or job())
    who = technician()
    start = order.history[-1].at + timedelta(minutes=5)
    order = order.dispatched(dispatch_for(order, who, start), who, by=AGENT)
    return order.arrived(
        at=order.received_at + timedelta(hours=hours), by=TECH, policy=POLICY, calendar=ALWAYS
    )


BOARD = SparePart(
    part_number="PB-55", name="power board", kind=PartKind.STANDARD, cost=cny("100.00")
)


def visit(order: ServiceOrder, **changes: Any) -> VisitRecord:
    assert order.arrived_at is not None
    fields: dict[str, Any] = {
        "technician_id": "tech-7",
        "arrived_at": order.arrived_at,
        "departed_at": order.arrived_at + timedelta(hours=1),
        "fault_found": "blown power board",
        "work_done": "replaced the power board",
        "parts": (PartUse(part=BOARD),),
        "labour_minutes": 45,
    }
    fields.update(changes)
    return VisitRecord(**fields)


def visited(order: ServiceOrder | None = None, **changes: Any) -> ServiceOrder:
    order = order or on_site()
    record = visit(order, **changes)
    return order.with_visit(record, at=record.departed_at, by=TECH)


def lines_for(
    order: ServiceOrder, coverage: Coverage = Coverage.CUSTOMER
) -> tuple[ChargeLine, ...]:
    return price_work(
        on_site_visits=len(order.visits),
        distance_km=order.triage.distance_km if order.triage else None,
        labour_minutes=order.labour_minutes,
        parts=[use for v in order.visits for use in v.parts],
        coverage=coverage,
        policy=POLICY,
        warranty=WARRANTY,
    )


def fixed(
    order: ServiceOrder | None = None, coverage: Coverage = Coverage.WARRANTY
) -> ServiceOrder:
    order = order or visited()
    return order.completed(
        lines_for(order, coverage),
        coverage=coverage,
        warranty_claim_id="WC-202611-0001" if coverage is Coverage.WARRANTY else None,
        at=order.history[-1].at + timedelta(minutes=1),
        by=TECH,
        policy=POLICY,
    )


def sign_off(at: datetime, **changes: Any) -> SignOff:
    fields: dict[str, Any] = {
        "customer_name": "Zhang San",
        "signature_ref": "sig/SJ-202611-0001.png",
        "accepted": True,
        "at": at,
    }
    fields.update(changes)
    return SignOff(**fields)


# -- the policy ------------------------------------------------------------------------------


def test_the_promise_defaults_are_the_handbooks_numbers() -> None:
    # "respond within 30 minutes, on site within 24 hours, fault cleared within 24 hours
    # of starting", for every urgency
    for urgency in ComplaintUrgency:
        promise = POLICY.promise_for(urgency)
        assert promise.respond.duration == timedelta(minutes=30)
        assert promise.on_site.duration == timedelta(hours=24)
        assert promise.fixed.duration == timedelta(hours=24)
    assert not POLICY.urgent.on_site.business_time
    assert not POLICY.special.fixed.business_time
    assert POLICY.ordinary.on_site.business_time


def test_job_numbers_restart_every_month() -> None:
    assert POLICY.job_number_pattern == "SJ-{yyyy}{mm}-{seq:04d}"
    assert POLICY.follow_up_separator == "-"


def test_policy_round_trips_through_json() -> None:
    policy = attrs.evolve(POLICY, fault_guide=GUIDE)
    assert from_json(FieldServicePolicy, to_json(policy)) == policy


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: FeeSchedule(distance_bands=()), "distance_bands"),
        (lambda: FeeSchedule(distance_bands=(DistanceBand(10, Decimal(1)),)), "distance_bands"),
        (
            lambda: FeeSchedule(
                distance_bands=(
                    DistanceBand(30, Decimal(1)),
                    DistanceBand(10, Decimal(1)),
                    DistanceBand(None, Decimal(1)),
                )
            ),
            "distance_bands",
        ),
        (lambda: FeeSchedule(call_out_fee=Decimal(-1)), "call_out_fee"),
        (lambda: FieldServicePolicy(quote_approval_above=Decimal("0.001")), "quote_approval_above"),
        (lambda: FieldServicePolicy(job_number_pattern="SJ-{yyyy}"), "job_number_pattern"),
        (lambda: FieldServicePolicy(follow_up_separator=""), "follow_up_separator"),
        (lambda: FieldServicePolicy(currency="yuan"), "currency"),
        (lambda: FieldServicePolicy(planning_days=0), "planning_days"),
        (lambda: FieldServicePolicy(kind_skills={"cooking": "chef"}), "kind_skills"),
        (lambda: FieldServicePolicy(visit_window=timedelta(0)), "visit_window"),
        (
            lambda: FieldServicePolicy(fees=FeeSchedule(call_out_fee=Decimal("1.234"))),
            "fees.call_out_fee",
        ),
    ],
)
def test_policy_refuses_bad_values(build: Callable[[], object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.errors[0][0] == path


def test_distance_fee_is_the_fee_of_the_band_the_trip_falls_in() -> None:
    fees = POLICY.fees
    assert [fees.distance_fee(km) for km in (0, 10, 11, 30, 31, 60, 61, 10_000)] == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("30.00"),
        Decimal("30.00"),
        Decimal("60.00"),
        Decimal("60.00"),
        Decimal("100.00"),
        Decimal("100.00"),
    ]


# -- triage ---------------------------------------------------------------------------------


def test_triage_finds_causes_measures_parts_and_skills_from_the_symptoms() -> None:
    result = triage_symptoms(
        ["No Power since the storm"], model="TV-55", kind=ServiceOrderKind.REPAIR, guide=GUIDE
    )
    assert result.likely_causes == ("power board", "fuse")
    assert result.measures == ("replace the power board",)
    assert result.parts == ("PB-55",)
    assert result.skills == {"electronics"}
    assert result.route is ServiceRoute.ON_SITE
    assert result.finding_codes == ("known_fault", "on_site_repair")


def test_triage_sends_a_fault_that_needs_the_factory_back_to_it() -> None:
    result = triage_symptoms(
        ["no power", "cracked drum"], model="WM-8", kind=ServiceOrderKind.REPAIR, guide=GUIDE
    )
    assert result.route is ServiceRoute.RETURN_TO_FACTORY
    assert "factory_repair" in result.finding_codes


def test_a_guide_row_for_other_models_does_not_apply() -> None:
    result = triage_symptoms(
        ["cracked drum"], model="TV-55", kind=ServiceOrderKind.REPAIR, guide=GUIDE
    )
    assert result.finding_codes == ("no_known_cause",)
    assert result.route is ServiceRoute.ON_SITE


def test_triage_suggests_phone_guidance_when_every_matching_fault_is_remote() -> None:
    result = triage_symptoms(["error E4"], model="TV-55", kind=ServiceOrderKind.REPAIR, guide=GUIDE)
    assert result.route is ServiceRoute.REMOTE
    assert result.finding_codes == ("known_fault", "remote_guidance")


def test_triage_says_when_a_product_cannot_be_repaired() -> None:
    result = triage_symptoms(
        ["burnt out"], model="TV-55", kind=ServiceOrderKind.REPAIR, guide=GUIDE
    )
    assert not result.repairable
    assert result.finding_codes[-1] == "not_repairable"


@pytest.mark.parametrize(
    ("kind", "route", "code"),
    [
        (ServiceOrderKind.INSTALLATION, ServiceRoute.ON_SITE, "visit_job"),
        (ServiceOrderKind.PLANNED_MAINTENANCE, ServiceRoute.ON_SITE, "visit_job"),
        (ServiceOrderKind.RETURN_TO_FACTORY, ServiceRoute.RETURN_TO_FACTORY, "sent_in"),
    ],
)
def test_the_kind_of_job_decides_the_route_of_visits_and_sent_in_repairs(
    kind: ServiceOrderKind, route: ServiceRoute, code: str
) -> None:
    result = triage_symptoms(["error E4"], model="TV-55", kind=kind, guide=GUIDE, kind_skill="x")
    assert result.route is route
    assert code in result.finding_codes
    assert "x" in result.skills


def test_triage_refuses_what_is_not_a_guide_row() -> None:
    with pytest.raises(ValidationError) as caught:
        triage_symptoms(["x"], model="TV-55", kind=ServiceOrderKind.REPAIR, guide=["x"])  # type: ignore[list-item]
    assert caught.value.errors[0][0] == "guide.0"


# -- product files --------------------------------------------------------------------------


def shipped_order() -> Order:
    order = Order.place(
        id="SO-202607-0001",
        customer_id="CU-000001",
        channel="online",
        lines=[OrderLine("TV-55", 2, cny("3999.00")), OrderLine("WM-8", 1, cny("2999.00"))],
        at=MONDAY_9,
        by=Actor("boss", frozenset({"sales_vp"})),
        access=AccessPolicy(),
        policy=OrderPolicy(),
    )
    return attrs.evolve(
        order,
        shipments=(
            Shipment(
                lines=(
                    ShipmentLine("TV-55", 2),
                    ShipmentLine("WM-8", 1),
                ),
                at=MONDAY_9,
                mode="express",
                by="wh-1",
            ),
        ),
    )


def test_product_files_come_from_a_shipped_orders_units() -> None:
    units = [
        ShippedUnit(serial="TV-A1", sku="TV-55", category="tv"),
        ShippedUnit(serial="WM-B1", sku="WM-8", category="washer", model="WM-8 Pro"),
    ]
    warranty = WarrantyPolicy(category_overrides={"washer": WarrantyTerms(warranty_days=730)})
    files = product_files_from_order(
        shipped_order(),
        units,
        address="Luoyu Rd 1",
        service_area_id="WH-HS",
        sold_on=date(2026, 11, 2),
        warranty=warranty,
        at=MONDAY_9,
        by="clerk-1",
    )
    assert [(f.serial, f.model, f.warranty_ends) for f in files] == [
        ("TV-A1", "TV-55", date(2027, 11, 2)),
        ("WM-B1", "WM-8 Pro", date(2028, 11, 1)),
    ]
    assert all(f.order_id == "SO-202607-0001" and f.proof is Proof.INVOICE for f in files)
    assert files[0].product_record().sold_on == date(2026, 11, 2)


def test_no_more_units_on_file_than_the_order_shipped() -> None:
    units = [ShippedUnit(serial=f"WM-{i}", sku="WM-8", category="washer") for i in range(2)]
    with pytest.raises(RuleViolation) as caught:
        product_files_from_order(
            shipped_order(), units, address="", service_area_id="WH-HS",
            sold_on=date(2026, 11, 2), warranty=WARRANTY, at=MONDAY_9, by="clerk-1",
        )  # fmt: skip
    assert caught.value.code == "units_exceed_shipment"


def test_an_order_that_has_not_shipped_has_no_units() -> None:
    order = attrs.evolve(shipped_order(), shipments=())
    with pytest.raises(RuleViolation) as caught:
        product_files_from_order(
            order, [], address="", service_area_id="WH-HS", sold_on=date(2026, 11, 2),
            warranty=WARRANTY, at=MONDAY_9, by="clerk-1",
        )  # fmt: skip
    assert caught.value.code == "order_not_shipped"
    assert OrderStatus.SHIPPED.value == "shipped"


def test_a_serial_is_registered_once_per_order() -> None:
    units = [ShippedUnit(serial="TV-A1", sku="TV-55", category="tv")] * 2
    with pytest.raises(ValidationError) as caught:
        product_files_from_order(
            shipped_order(), units, address="", service_area_id="WH-HS",
            sold_on=date(2026, 11, 2), warranty=WARRANTY, at=MONDAY_9, by="clerk-1",
        )  # fmt: skip
    assert caught.value.errors[0][0] == "units"


@given(product_files(), st.integers(-400, 1500))
def test_a_product_is_within_warranty_from_its_sale_to_the_last_day(
    product: ProductFile, offset: int
) -> None:
    day = product.sold_on + timedelta(days=offset)
    assert product.within_warranty(day) == (product.sold_on <= day <= product.warranty_ends)


def test_product_file_dates_are_in_order() -> None:
    with pytest.raises(ValidationError) as caught:
        ProductFile(
            serial="SN-1", model="TV-55", category="tv", customer_id="CU-1", address="",
            service_area_id="WH-HS", sold_on=date(2026, 1, 2), warranty_ends=date(2026, 1, 1),
            installed_on=date(2025, 1, 1), registered_at=MONDAY_9, registered_by="c",
        )  # fmt: skip
    assert [p for p, _ in caught.value.errors] == ["warranty_ends", "installed_on"]


# -- the lifecycle ---------------------------------------------------------------------------


def test_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        SERVICE_ORDER_TRANSITIONS, list(S), [S.RECEIVED], [S.CLOSED, S.CANCELLED]
    )
    assert problems == []
    assert SERVICE_ORDER_LIFECYCLE.transitions is SERVICE_ORDER_TRANSITIONS
    assert command_table_problems(SERVICE_ORDER_LIFECYCLE) == []


def test_the_docs_show_the_command_table() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "fieldservice.md").read_text("utf-8")
    assert f"\n{command_table(SERVICE_ORDER_LIFECYCLE)}\n" in page


def test_every_step_of_a_job_is_a_command_of_its_lifecycle() -> None:
    methods = {
        "triage": "triaged",
        "resolve_remotely": "resolved_remotely",
        "dispatch": "dispatched",
        "redispatch": "dispatched",
        "start_travel": "travelling",
        "record_arrival": "arrived",
        "record_visit": "with_visit",
        "wait_for_parts": "with_visit",
        "quote": "quoted",
        "approve_quote": "quote_approved",
        "complete": "completed",
        "reopen": "reopened",
        "sign_off": "signed_off",
        "settle": "settled",
        "close": "closed",
        "cancel": "cancelled",
    }
    assert set(SERVICE_ORDER_LIFECYCLE.commands) == set(methods)
    assert all(callable(getattr(ServiceOrder, name)) for name in methods.values())


def test_a_job_walks_from_the_call_to_settlement() -> None:
    order = fixed()
    order = order.signed_off(sign_off(order.history[-1].at), by=TECH)
    order = order.settled(
        collected=cny("0.00"),
        collected_by="tech-7",
        at=order.history[-1].at,
        by=AGENT,
        policy=POLICY,
    )
    order = order.closed(at=order.history[-1].at, by=AGENT)
    assert [step.to for step in order.history] == [
        "received", "triaged", "dispatched", "on_site", "on_site", "fixed", "signed_off",
        "settled", "closed",
    ]  # fmt: skip
    assert order.first_time_fix


def test_a_refused_step_names_the_action_and_what_comes_first() -> None:
    order = triaged(job())
    who = technician()
    order = order.dispatched(dispatch_for(order, who, MONDAY_9 + timedelta(hours=1)), who, by=AGENT)
    with pytest.raises(InvalidTransition) as caught:
        order.check_completable()
    assert caught.value.action == "complete"
    assert str(caught.value) == (
        "service order 'SJ-202611-0001' cannot complete while dispatched: record the arrival first"
    )
    with pytest.raises(InvalidTransition) as travel:
        job().travelling(at=MONDAY_9, by=TECH)
    assert str(travel.value).endswith("cannot start_travel while received")
    with pytest.raises(InvalidTransition) as dispatch:
        job().dispatched(dispatch_for(job(), who, MONDAY_9), who, by=AGENT)
    assert str(dispatch.value) == (
        "service order 'SJ-202611-0001' cannot dispatch while received: triage the call first"
    )


def test_steps_never_go_back_in_time() -> None:
    with pytest.raises(ValidationError) as caught:
        triaged(job(), minutes=-1)
    assert caught.value.errors == [("at", "is before the previous step of this job")]


def test_on_site_and_waiting_for_parts_alternate() -> None:
    order = visited(fault_cleared=False, parts_missing=("PB-55",), parts=())
    assert order.status is S.WAITING_FOR_PARTS
    back = order.arrived(
        at=order.history[-1].at + timedelta(days=1), by=TECH, policy=POLICY, calendar=ALWAYS
    )
    assert back.status is S.ON_SITE
    assert back.fix_by == order.fix_by  # the fix clock started at the first arrival


def test_a_job_can_be_dispatched_again_to_another_technician() -> None:
    order = on_site(hours=1)
    order = visited(order, fault_cleared=False, parts_missing=("PB-55",), parts=())
    other = technician(id="tech-8")
    start = order.history[-1].at + timedelta(hours=1)
    again = order.dispatched(dispatch_for(order, other, start), other, by=AGENT)
    assert again.status is S.DISPATCHED
    assert again.technician_id == "tech-8"
    assert len(again.dispatches) == 2


def test_a_call_resolved_by_phone_needs_no_visit() -> None:
    order = triaged(job(symptoms=("error E4",)))
    assert order.route is ServiceRoute.REMOTE
    done = order.resolved_remotely(resolution="reset by phone", at=order.history[-1].at, by=AGENT)
    assert done.status is S.RESOLVED_REMOTELY
    assert done.closed(at=done.history[-1].at, by=AGENT).status is S.CLOSED
    with pytest.raises(ValidationError):
        order.resolved_remotely(resolution=" ", at=order.history[-1].at, by=AGENT)


def test_a_cancelled_job_says_why_and_counts_as_answered() -> None:
    order = job().cancelled(
        reason="customer withdrew", at=MONDAY_9 + timedelta(minutes=5), by=AGENT
    )
    assert order.status is S.CANCELLED
    assert order.responded_at == MONDAY_9 + timedelta(minutes=5)
    with pytest.raises(InvalidTransition):
        fixed().cancelled(reason="too late", at=MONDAY_9 + timedelta(days=1), by=AGENT)


def test_a_job_the_customer_does_not_accept_goes_back_on_site() -> None:
    order = fixed()
    with pytest.raises(RuleViolation) as caught:
        order.signed_off(sign_off(order.history[-1].at, accepted=False), by=TECH)
    assert caught.value.code == "acceptance_required"
    reopened = order.reopened(reason="still no picture", at=order.history[-1].at, by=TECH)
    assert reopened.status is S.ON_SITE
    assert reopened.charges == ()
    assert reopened.fixed_at is None


def test_the_sign_off_needs_the_customers_signature() -> None:
    order = fixed()
    for changes in ({"signature_ref": ""}, {"customer_name": " "}):
        with pytest.raises(RuleViolation) as caught:
            order.signed_off(sign_off(order.history[-1].at, **changes), by=TECH)
        assert caught.value.code == "signature_required"


def test_only_a_visit_that_cleared_the_fault_completes_the_job() -> None:
    order = visited(fault_cleared=False)
    with pytest.raises(RuleViolation) as caught:
        fixed(order)
    assert caught.value.code == "fault_not_cleared"


def test_a_visit_is_recorded_by_the_dispatched_technician() -> None:
    order = on_site()
    with pytest.raises(RuleViolation) as caught:
        visited(order, technician_id="tech-9")
    assert caught.value.code == "not_dispatched_technician"


@pytest.mark.parametrize(
    ("who", "code"),
    [
        (technician(active=False), "technician_unavailable"),
        (technician(skills=frozenset({"repair"})), "missing_skill"),
        (technician(service_areas=frozenset({"WH-WC"})), "outside_service_area"),
    ],
)
def test_dispatch_refuses_a_technician_who_cannot_take_the_job(who: Technician, code: str) -> None:
    order = triaged(job())
    with pytest.raises(RuleViolation) as caught:
        order.dispatched(dispatch_for(order, who, MONDAY_9 + timedelta(hours=1)), who, by=AGENT)
    assert caught.value.code == code


def test_a_product_that_cannot_be_repaired_is_not_dispatched_for_repair() -> None:
    order = triaged(job(symptoms=("burnt out",)))
    who = technician()
    with pytest.raises(RuleViolation) as caught:
        order.dispatched(dispatch_for(order, who, MONDAY_9 + timedelta(hours=1)), who, by=AGENT)
    assert caught.value.code == "not_repairable"


@given(service_orders())
def test_job_history_follows_the_transition_table(order: ServiceOrder) -> None:
    statuses = [step.to for step in order.history]
    assert statuses[0] == S.RECEIVED.value
    for before, after in itertools.pairwise(statuses):
        assert S(after) in SERVICE_ORDER_TRANSITIONS[S(before)] or after == before
    assert order.status.value == statuses[-1]
    moments = [step.at for step in order.history]
    assert moments == sorted(moments)


@given(service_orders())
def test_service_orders_round_trip_through_json(order: ServiceOrder) -> None:
    assert from_json(ServiceOrder, to_json(order)) == order


# -- the promise ----------------------------------------------------------------------------


def test_an_urgent_call_runs_on_the_24_7_clock() -> None:
    friday_evening = datetime(2026, 11, 6, 12, tzinfo=UTC)  # 20:00 in Shanghai
    respond_by, on_site_by = call_deadlines(ComplaintUrgency.URGENT, friday_evening, POLICY, OFFICE)
    assert respond_by == friday_evening + timedelta(minutes=30)
    assert on_site_by == friday_evening + timedelta(hours=24)


def test_an_ordinary_call_runs_on_the_business_calendar() -> None:
    friday_evening = datetime(2026, 11, 6, 12, tzinfo=UTC)  # 20:00 in Shanghai
    respond_by, on_site_by = call_deadlines(
        ComplaintUrgency.ORDINARY, friday_evening, POLICY, OFFICE
    )
    assert respond_by == datetime(2026, 11, 9, 1, 30, tzinfo=UTC)  # Monday 09:30
    # 24 business hours of 9-hour days: Monday, Tuesday, then 6 hours on Wednesday
    assert on_site_by == datetime(2026, 11, 11, 7, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
    st.sampled_from(ComplaintUrgency),
    st.booleans(),
)
def test_sla_deadlines_agree_with_the_calendar(
    received: datetime, urgency: ComplaintUrgency, business: bool
) -> None:
    promise = ServicePromise(
        respond=SlaTarget(timedelta(minutes=30), business_time=business),
        on_site=SlaTarget(timedelta(hours=24), business_time=business),
        fixed=SlaTarget(timedelta(hours=24), business_time=business),
    )
    policy = FieldServicePolicy(special=promise, urgent=promise, ordinary=promise)
    order = job(urgency=urgency, at=received, calendar=OFFICE, policy=policy)
    measure = OFFICE.business_time_between if business else (lambda a, b: b - a)
    assert measure(order.received_at, order.respond_by) == timedelta(minutes=30)
    assert measure(order.received_at, order.on_site_by) == timedelta(hours=24)
    if business:
        assert OFFICE.is_open(order.on_site_by - timedelta(microseconds=1))
    arrived = order.on_site_by + timedelta(hours=3)
    assert measure(arrived, fix_deadline(urgency, arrived, policy, OFFICE)) == timedelta(hours=24)


def test_missed_targets_are_breaches_until_they_are_met() -> None:
    order = job()
    late = MONDAY_9 + timedelta(hours=30)
    assert [(b.target, b.still_open) for b in promise_breaches(order, late)] == [
        (PromiseTarget.RESPOND, True),
        (PromiseTarget.ON_SITE, True),
    ]
    arrived = on_site(hours=26)
    found = promise_breaches(arrived, late)
    assert [(b.target, b.met_at) for b in found] == [
        (PromiseTarget.ON_SITE, MONDAY_9 + timedelta(hours=26))
    ]
    assert [b.target for b in promise_breaches(arrived, late + timedelta(days=1))] == [
        PromiseTarget.ON_SITE,
        PromiseTarget.FIXED,
    ]


def test_a_cancelled_job_owes_no_visit() -> None:
    order = job().cancelled(
        reason="customer withdrew", at=MONDAY_9 + timedelta(minutes=5), by=AGENT
    )
    assert promise_breaches(order, MONDAY_9 + timedelta(days=3)) == ()


def test_a_late_job_climbs_the_complaint_ladder_once_per_missed_deadline() -> None:
    order = triaged(job())  # answered in time
    start = order.escalation_level
    assert start == COMPLAINTS.start_level(ComplaintUrgency.URGENT)
    moment = MONDAY_9 + timedelta(hours=25)
    moved, steps = order.escalate_if_overdue(
        at=moment, policy=COMPLAINTS, calendar=ALWAYS, by=Actor.system()
    )
    assert [(s.reason, s.due, s.round) for s in steps] == [
        (EscalationReason.RESOLUTION_OVERDUE, order.on_site_by, 0)
    ]
    assert moved.escalation_level == start + 1
    assert escalation_target(steps[0].round, steps[0].reason) == "on_site"
    again, none = moved.escalate_if_overdue(
        at=moment, policy=COMPLAINTS, calendar=ALWAYS, by=Actor.system()
    )
    assert none == ()
    assert again == moved


def test_after_the_arrival_the_fix_deadline_is_what_escalates() -> None:
    order = on_site(hours=2)
    assert order.reopen_count == 1
    assert order.resolve_by == order.fix_by
    assert order.fix_by == MONDAY_9 + timedelta(hours=26)
    _moved, steps = order.escalate_if_overdue(
        at=MONDAY_9 + timedelta(hours=27), policy=COMPLAINTS, calendar=ALWAYS, by=Actor.system()
    )
    assert [(s.reason, s.round) for s in steps] == [(EscalationReason.RESOLUTION_OVERDUE, 1)]
    assert escalation_target(steps[0].round, steps[0].reason) == "fixed"


def test_a_call_not_answered_in_time_escalates_for_the_response() -> None:
    _, steps = job().escalate_if_overdue(
        at=MONDAY_9 + timedelta(hours=1), policy=COMPLAINTS, calendar=ALWAYS, by=Actor.system()
    )
    assert [s.reason for s in steps] == [EscalationReason.RESPONSE_OVERDUE]
    assert escalation_target(0, steps[0].reason) == "respond"


# -- charging ----------------------------------------------------------------------------------


def test_work_outside_warranty_is_charged_by_the_fee_schedule() -> None:
    order = visited()
    lines = lines_for(order)
    assert [(line.kind, line.label, str(line.amount)) for line in lines] == [
        (ChargeKind.CALL_OUT, "call-out fee x 1", "50.00 CNY"),
        (ChargeKind.DISTANCE, "distance 12 km x 1", "30.00 CNY"),
        (ChargeKind.LABOUR, "labour 45 min", "60.00 CNY"),
        (ChargeKind.PART, "PB-55 x 1", "113.00 CNY"),  # cost + 13 % tax, zero margin
    ]
    assert total_of(lines, CNY) == cny("253.00")


def test_covered_work_keeps_its_lines_at_zero() -> None:
    lines = lines_for(visited(), Coverage.WARRANTY)
    assert len(lines) == 4
    assert total_of(lines, CNY) == cny("0.00")


def test_an_ip_protected_core_part_is_never_priced() -> None:
    core = SparePart(part_number="CORE-1", name="controller", kind=PartKind.CORE)
    with pytest.raises(RuleViolation) as caught:
        lines_for(visited(parts=(PartUse(part=core),)))
    assert caught.value.code == "part_not_for_sale"


def test_an_assembled_part_is_priced_as_its_share_of_the_service_bom() -> None:
    board = SparePart(
        part_number="ASM-55", name="board assembly", kind=PartKind.ASSEMBLED,
        dealer_price=cny("150.00"),
    )  # fmt: skip
    bom = ServiceBom(product="TV-55", dealer_price=cny("150.00"), lines=[BomLine(part=board)])
    (line,) = lines_for(visited(parts=(PartUse(part=board, bom=bom),), labour_minutes=0))[2:]
    assert line.amount == cny("339.00")  # 2 x 150.00 + 13 % tax
    with pytest.raises(ValidationError) as caught:
        lines_for(visited(parts=(PartUse(part=board),), labour_minutes=0))
    assert caught.value.errors[0][0] == "bom"


def expensive_visit() -> ServiceOrder:
    board = SparePart(
        part_number="PB-99", name="main board", kind=PartKind.STANDARD, cost=cny("900.00")
    )
    return visited(parts=(PartUse(part=board),))


def test_paid_work_above_the_threshold_needs_an_approved_quote() -> None:
    order = expensive_visit()
    with pytest.raises(RuleViolation) as caught:
        fixed(order, Coverage.CUSTOMER)
    assert caught.value.code == "quote_not_approved"
    lines = lines_for(order)
    at = order.history[-1].at
    quoted = order.quoted(
        ServiceQuote(lines=lines, total=total_of(lines, CNY), at=at, by="tech-7"), by=TECH
    )
    with pytest.raises(RuleViolation):
        fixed(quoted, Coverage.CUSTOMER)
    approved = quoted.quote_approved(QuoteApproval(approved_by="Zhang San", at=at), by=TECH)
    assert fixed(approved, Coverage.CUSTOMER).charge_total == total_of(lines, CNY)


def test_the_charge_stays_within_the_approved_quote() -> None:
    order = expensive_visit()
    at = order.history[-1].at
    small = (ChargeLine(kind=ChargeKind.LABOUR, label="labour", amount=cny("600.00")),)
    order = order.quoted(ServiceQuote(lines=small, total=cny("600.00"), at=at, by="t"), by=TECH)
    order = order.quote_approved(QuoteApproval(approved_by="Zhang San", at=at), by=TECH)
    with pytest.raises(RuleViolation) as caught:
        fixed(order, Coverage.CUSTOMER)
    assert caught.value.code == "charge_exceeds_quote"


def test_only_a_given_quote_can_be_approved() -> None:
    order = on_site()
    with pytest.raises(RuleViolation) as caught:
        order.quote_approved(
            QuoteApproval(approved_by="Zhang San", at=order.history[-1].at), by=TECH
        )
    assert caught.value.code == "no_quote"


def test_a_new_quote_needs_a_new_approval() -> None:
    order = on_site()
    at = order.history[-1].at
    lines = (ChargeLine(kind=ChargeKind.LABOUR, label="labour", amount=cny("600.00")),)
    quote = ServiceQuote(lines=lines, total=cny("600.00"), at=at, by="t")
    order = order.quoted(quote, by=TECH).quote_approved(
        QuoteApproval(approved_by="Z", at=at), by=TECH
    )
    assert order.quoted(quote, by=TECH).quote_approval is None


@given(settlements())
def test_a_settlements_total_is_the_sum_of_its_lines(settlement: Settlement) -> None:
    assert settlement.total == total_of(settlement.lines, settlement.total.currency)
    assert settlement.collected + settlement.invoiced == settlement.total
    assert from_json(Settlement, to_json(settlement)) == settlement


@given(service_orders(status=st.just(S.SETTLED)))
def test_a_settled_jobs_total_is_the_sum_of_its_charges(order: ServiceOrder) -> None:
    assert order.settlement is not None
    assert order.settlement.lines == order.charges
    assert order.settlement.total == total_of(order.charges, CNY)


def test_a_settlement_total_that_is_not_the_sum_of_its_lines_is_refused() -> None:
    line = ChargeLine(kind=ChargeKind.LABOUR, label="labour", amount=cny("10.00"))
    with pytest.raises(ValidationError) as caught:
        Settlement(
            lines=(line,), total=cny("11.00"), coverage=Coverage.CUSTOMER,
            collected=cny("0.00"), at=MONDAY_9, by="fin-1",
        )  # fmt: skip
    assert caught.value.errors == [("total", "is not the sum of the lines")]


def test_the_cash_collected_is_never_more_than_the_total() -> None:
    order = fixed(visited(), Coverage.CUSTOMER)
    order = order.signed_off(sign_off(order.history[-1].at), by=TECH)
    with pytest.raises(RuleViolation) as caught:
        order.settled(
            collected=cny("999.00"),
            collected_by="tech-7",
            at=order.history[-1].at,
            by=AGENT,
            policy=POLICY,
        )
    assert caught.value.code == "collection_exceeds_total"
    settled = order.settled(
        collected=cny("200.00"),
        collected_by="tech-7",
        at=order.history[-1].at,
        by=AGENT,
        policy=POLICY,
    )
    assert settled.settlement is not None
    assert settled.settlement.invoiced == cny("53.00")


# -- suggestions ------------------------------------------------------------------------------


def no_jobs(_technician: str, _day: date) -> int:
    return 0


def suggest(order: ServiceOrder, team: list[Technician], **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "booked": no_jobs,
        "open_jobs": lambda _t: 0,
        "at": order.history[-1].at,
        "policy": POLICY,
        "calendar_of": lambda t: t.calendar or OFFICE,
    }
    arguments.update(changes)
    return suggest_technicians(order, team, **arguments)


def test_suggestions_rank_who_can_be_on_site_in_time_first() -> None:
    order = triaged(job())
    team = [
        technician(id="t-late", blackout_days=frozenset({date(2026, 11, 2), date(2026, 11, 3)})),
        technician(id="t-busy"),
        technician(id="t-free"),
        technician(id="t-noskill", skills=frozenset({"repair"})),
        technician(id="t-away", service_areas=frozenset({"WH-WC"})),
        technician(id="t-off", active=False),
    ]
    booked = {"t-busy": 2}
    found = suggest(
        order, team, booked=lambda t, _d: booked.get(t, 0), open_jobs=lambda t: booked.get(t, 0)
    )
    assert [c.technician_id for c in found.candidates] == ["t-free", "t-busy", "t-late"]
    assert [c.on_time for c in found.candidates] == [True, True, False]
    assert found.candidates[0].reason_codes == (
        "covers_area", "has_skills", "works_then", "capacity_left", "jobs_in_hand", "on_time",
    )  # fmt: skip
    assert found.candidates[2].reason_codes[2:4] == ("blackout_day", "blackout_day")
    assert found.candidates[2].reason_codes[-1] == "late"
    assert [(p.technician_id, p.reason_codes) for p in found.passed_over] == [
        ("t-away", ("outside_service_area",)),
        ("t-noskill", ("missing_skill",)),
        ("t-off", ("technician_unavailable",)),
    ]
    assert found.best is not None
    assert found.best.rank == 1


def test_a_fully_booked_day_is_skipped() -> None:
    order = triaged(job())
    found = suggest(order, [technician()], booked=lambda _t, d: 3 if d == date(2026, 11, 2) else 0)
    (only,) = found.candidates
    assert only.visit_at == datetime(2026, 11, 3, 1, tzinfo=UTC)  # Tuesday 09:00
    assert "fully_booked" in only.reason_codes


def test_no_free_day_in_the_planning_window_passes_a_technician_over() -> None:
    order = triaged(job())
    found = suggest(order, [technician()], booked=lambda _t, _d: 3)
    assert found.candidates == ()
    assert found.passed_over[0].reason_codes == ("technician_unavailable",)


def test_the_visit_is_looked_for_from_the_requested_time() -> None:
    order = triaged(job(requested_at=datetime(2026, 11, 4, 6, tzinfo=UTC)))
    (only,) = suggest(order, [technician()]).candidates
    assert only.visit_at == datetime(2026, 11, 4, 6, tzinfo=UTC)


def test_suggestions_are_limited() -> None:
    order = triaged(job())
    team = [technician(id=f"t-{i}") for i in range(8)]
    assert len(suggest(order, team).candidates) == POLICY.suggestion_limit
    assert len(suggest(order, team, limit=2).candidates) == 2


def test_earliest_slot_starts_in_the_working_hours() -> None:
    sunday = datetime(2026, 11, 1, 2, tzinfo=UTC)
    slot = earliest_slot(technician(), OFFICE, sunday, no_jobs, days=3)
    assert slot is not None
    assert slot.visit_at == MONDAY_9
    assert slot.skipped[0].code == "not_working"


@pytest.mark.parametrize(
    ("who", "moment", "booked"),
    [
        (technician(blackout_days=frozenset({date(2026, 11, 2)})), MONDAY_9, 0),
        (technician(), datetime(2026, 11, 2, 12, tzinfo=UTC), 0),  # 20:00
        (technician(), MONDAY_9, 3),
    ],
)
def test_a_visit_needs_a_working_moment_with_room_that_day(
    who: Technician, moment: datetime, booked: int
) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_available(who, OFFICE, moment, booked)
    assert caught.value.code == "technician_unavailable"
    assert check_available(technician(), OFFICE, MONDAY_9, 2) == date(2026, 11, 2)


# -- events and reports -------------------------------------------------------------------------


def test_each_step_has_its_events() -> None:
    opened = job()
    assert [type(e) for e in service_order_events(None, opened)] == [ServiceOrderOpened]
    order = triaged(opened)
    who = technician()
    dispatched = order.dispatched(
        dispatch_for(order, who, MONDAY_9 + timedelta(hours=1)), who, by=AGENT
    )
    events = service_order_events(order, dispatched)
    assert [type(e) for e in events] == [ServiceOrderStatusChanged, ServiceOrderDispatched]
    assert events[0].to_status is S.DISPATCHED  # type: ignore[attr-defined]
    moved, _ = dispatched.escalate_if_overdue(
        at=MONDAY_9 + timedelta(hours=25), policy=COMPLAINTS, calendar=ALWAYS, by=Actor.system()
    )
    (escalated,) = service_order_events(dispatched, moved)
    assert isinstance(escalated, ServiceOrderEscalated)
    assert escalated.target == "on_site"
    done = fixed(visited(), Coverage.CUSTOMER)
    done = done.signed_off(sign_off(done.history[-1].at), by=TECH)
    settled = done.settled(
        collected=cny("0.00"), collected_by=None, at=done.history[-1].at, by=AGENT, policy=POLICY
    )
    assert [type(e) for e in service_order_events(done, settled)] == [
        ServiceOrderStatusChanged,
        ServiceOrderSettled,
    ]
    for event in [*events, escalated]:
        assert event_type(type(event).__name__) is type(event)


def test_the_technician_daily_report_sums_the_days_work() -> None:
    order = fixed(visited(), Coverage.CUSTOMER)
    order = order.signed_off(sign_off(order.history[-1].at), by=TECH)
    order = order.settled(
        collected=cny("253.00"),
        collected_by="tech-7",
        at=order.history[-1].at,
        by=AGENT,
        policy=POLICY,
    )
    report = technician_daily_report(
        "tech-7", date(2026, 11, 2), [order, job()], tz="Asia/Shanghai", currency=CNY
    )
    assert [j.job_id for j in report.jobs] == ["SJ-202611-0001"]
    assert report.jobs[0].fixed
    assert (report.labour_minutes, report.hours) == (45, 0.75)
    assert report.parts == {"PB-55": 1}
    assert report.collected == cny("253.00")
    other_day = technician_daily_report(
        "tech-7", date(2026, 11, 3), [order], tz="Asia/Shanghai", currency=CNY
    )
    assert other_day.jobs == ()
    assert other_day.collected == cny("0.00")


def test_service_kpis_count_first_time_fixes_promises_and_repeats() -> None:
    first = fixed(visited(), Coverage.CUSTOMER)
    first = first.signed_off(sign_off(first.history[-1].at), by=TECH)
    first = first.settled(
        collected=cny("0.00"), collected_by=None, at=first.history[-1].at, by=AGENT, policy=POLICY
    )
    repeat = on_site(job(id="SJ-202611-0002", at=MONDAY_9 + timedelta(days=3)), hours=30)
    waiting = visited(on_site(job(id="SJ-202611-0003", product_serial="SN-2")), fault_cleared=False)
    kpis = ServiceKpiAccumulator(currency=CNY, repeat_days=30)
    for order in (first, repeat, waiting):
        kpis.add(order)
    result = kpis.result({"TV-55": 4})
    assert result.jobs == 3
    assert result.first_time_fix_rate == 1.0
    assert result.on_site_within_promise_rate == pytest.approx(2 / 3)
    assert result.repeat_visits == 1
    assert result.open_by_technician == {"tech-7": 2}
    assert result.open_by_area == {"WH-HS": 2}
    assert result.failure_rate_by_model == {"TV-55": 0.75}
    assert result.out_of_warranty_revenue == cny("253.00")
    assert result.mean_time_to_repair == first.fixed_at - first.received_at  # type: ignore[operator]


def test_failure_rate_is_repairs_per_installed_unit_and_keeps_its_divisor() -> None:
    # Rule: failure rate by model = repairs / installed units; the units are kept with it
    kpis = ServiceKpiAccumulator(currency=CNY, repeat_days=30)
    for n in range(3):
        kpis.add(job(id=f"SJ-202611-{n + 1:04d}", product_serial=f"SN-{n}"))
    result = kpis.result({"TV-55": 60, "TV-65": 0, "TV-75": 12})
    assert result.repairs_by_model == {"TV-55": 3}
    assert result.failure_rate_by_model == {"TV-55": 3 / 60}
    assert result.installed_by_model == {"TV-55": 60, "TV-75": 12}
    assert kpis.result().installed_by_model == {}
    assert kpis.result().failure_rate_by_model == {}


# -- models refuse wrong types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: technician(daily_capacity=0), "daily_capacity"),
        (lambda: technician(skills=frozenset({" "})), "skills"),
        (lambda: technician(blackout_days=frozenset({MONDAY_9})), "blackout_days"),
        (lambda: technician(calendar="office"), "calendar"),
        (lambda: technician(active="yes"), "active"),
        (
            lambda: ServicePoint(
                id="SP",
                name="x",
                ownership="partner",
                district="WH",
                region="H",
                service_areas={"A"},
            ),
            "ownership",
        ),
        (lambda: FaultEntry(symptom=""), "symptom"),
        (lambda: FaultEntry(symptom="x", route="teleport"), "route"),
        (lambda: Finding("Not a code", "x"), "code"),
        (lambda: TriageResult(symptoms=("x",), distance_km=-1), "distance_km"),
        (
            lambda: VisitRecord(
                technician_id="t",
                arrived_at=MONDAY_9,
                departed_at=MONDAY_9 - timedelta(1),
                fault_found="",
                work_done="w",
            ),
            "departed_at",
        ),
        (
            lambda: VisitRecord(
                technician_id="t",
                arrived_at=MONDAY_9,
                departed_at=MONDAY_9,
                fault_found="",
                work_done="w",
                parts_missing=("P",),
            ),
            "fault_cleared",
        ),
        (
            lambda: VisitRecord(
                technician_id="t",
                arrived_at=MONDAY_9,
                departed_at=MONDAY_9,
                fault_found=1.5,  # type: ignore[arg-type]
                work_done="w",
            ),
            "fault_found",
        ),
        (lambda: PartUse(part="PB-55"), "part"),  # type: ignore[arg-type]
        (
            lambda: SignOff(customer_name="Z", signature_ref="s", accepted="yes", at=MONDAY_9),  # type: ignore[arg-type]
            "accepted",
        ),
        (
            lambda: Dispatch(
                technician_id="t",
                service_point_id="p",
                window_start=MONDAY_9,
                window_end=MONDAY_9,
                day=date(2026, 11, 2),
                at=MONDAY_9,
                by="a",
            ),
            "window_end",
        ),
        (lambda: ChargeLine(kind="tip", label="x", amount=cny("1.00")), "kind"),
        (lambda: job(urgency="whenever"), "urgency"),  # type: ignore[arg-type]
        (lambda: job(symptoms=("",)), "symptoms.0"),
        (lambda: attrs.evolve(job(), status=S.TRIAGED), "status"),
    ],
)
def test_models_refuse_wrong_types_at_construction(build: Callable[[], object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.errors[0][0] == path


@given(technicians())
def test_technicians_round_trip_through_json(who: Technician) -> None:
    assert from_json(Technician, to_json(who)) == who


@given(visit_records())
def test_visit_records_round_trip_through_json(record: VisitRecord) -> None:
    assert from_json(VisitRecord, to_json(record)) == record


@given(triage_results())
def test_triage_results_round_trip_through_json(result: TriageResult) -> None:
    assert from_json(TriageResult, to_json(result)) == result


@given(fieldservice_policies())
def test_generated_policies_round_trip_through_json(policy: FieldServicePolicy) -> None:
    assert from_json(FieldServicePolicy, to_json(policy)) == policy
