"""Service-layer tests of warranty claims (docs/domain.md 4) on the memory and SQLite backends."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import attrs
import pytest

import csdomain
from csdomain.auth import Actor, Permission, register_roles
from csdomain.clock import FixedClock
from csdomain.complaints import ComplaintUrgency
from csdomain.customers import Customer
from csdomain.desk.base import use_cases
from csdomain.desk.warranty import WarrantyDesk
from csdomain.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.fieldservice import (
    Dispatch,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    ServicePoint,
)
from csdomain.kinds import (
    ACCESS_LOG,
    CUSTOMERS,
    ORDERS,
    OUTBOX,
    SERVICE_ORDERS,
    SERVICE_POINTS,
    WARRANTY_CLAIMS,
)
from csdomain.money import Money
from csdomain.orders import Order, OrderLine
from csdomain.plugins import get_plugin_manager
from csdomain.policy import Policy
from csdomain.store import Store, open_store
from csdomain.warranty import (
    BomLine,
    Cause,
    Comparison,
    ExchangeRecord,
    PartKind,
    ProductRecord,
    Proof,
    QualityTrend,
    Reason,
    RefundRecord,
    Remedy,
    RepairRecord,
    ReplacedPart,
    ServiceBom,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
    WarrantyClaimCase,
    WarrantyClaimEvaluated,
    WarrantyClaimOutcome,
    WarrantyClaimOverridden,
    WarrantyClaimRefunded,
    WarrantyClaimStatus,
    WarrantyClaimSubmitted,
    WarrantyPolicy,
)


START = datetime(2026, 11, 2, 1, tzinfo=UTC)
BOUGHT = date(2026, 7, 1)
STEP = timedelta(minutes=10)

AGENT = Actor("agent-1", {"specialist"})
TECH = Actor("tech-7", {"technician"})
VP = Actor("vp-1", {"sales_vp"})
ANALYST = Actor("analyst-1", {"finance"})
OUTSIDER = Actor("visitor-1", frozenset())

CUSTOMER_ID = "BJ-202607-ZHANG-001"
TV_ORDER_ID = "SO-202607-0007"


def sale_order(order_id: str, customer_id: str = CUSTOMER_ID) -> Order:
    """The stored sale a claim links to (linked ids must exist)."""
    return Order.place(
        id=order_id,
        customer_id=customer_id,
        channel="online",
        lines=[OrderLine("TV-55", 1, Money.of("3999.00", "CNY"))],
        at=datetime(2026, 7, 1, 2, tzinfo=UTC),
        by=AGENT,
        access=Policy().access,
        policy=Policy().orders,
    )


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    with opened.unit_of_work() as uow:
        uow.repo(CUSTOMERS).add(Customer(id=CUSTOMER_ID, code=CUSTOMER_ID, name="Zhang San"))
        uow.repo(ORDERS).add(sale_order(TV_ORDER_ID))
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> WarrantyDesk:
    return WarrantyDesk(
        store, clock=clock, plugin_manager=get_plugin_manager(load_entrypoints=False)
    )


def tv_claim(day: int, **changes: Any) -> WarrantyClaim:
    facts: dict[str, Any] = {
        "product_serial": "SN-001",
        "category": "tv",
        "purchase_date": BOUGHT,
        "proof": Proof.INVOICE,
        "fault_date": BOUGHT + timedelta(days=day),
        "cause": Cause.PERFORMANCE_FAULT,
    }
    facts.update(changes)
    return WarrantyClaim(**facts)


TV = ProductRecord(
    serial="SN-001", model="TV-55", category="tv", sold_on=BOUGHT, order_id=TV_ORDER_ID
)


#: Each claim :func:`submit` files names a fault of its own (one active claim per product
#: and fault), unless the test names the fault.
_FAULTS = itertools.count(1)


def submit(desk: WarrantyDesk, day: int = 100, **changes: Any) -> WarrantyClaimCase:
    changes.setdefault("fault", f"fault {next(_FAULTS)}")
    return desk.submit_warranty_claim(
        tv_claim(day, **changes), product=TV, customer_id=CUSTOMER_ID, by=AGENT
    )


def snapshot(store: Store) -> dict[str, list[Any]]:
    with store.unit_of_work(readonly=True) as uow:
        return {
            WARRANTY_CLAIMS.name: uow.repo(WARRANTY_CLAIMS).find(),
            OUTBOX.name: uow.repo(OUTBOX).find(),
        }


def outbox_types(store: Store) -> list[str]:
    with store.unit_of_work(readonly=True) as uow:
        return [entry.type for entry in uow.outbox.find(order_by="created_at")]


def assert_unchanged(store: Store, action: Callable[[], object], error: type[Exception]) -> Any:
    before = snapshot(store)
    with pytest.raises(error) as caught:
        action()
    assert snapshot(store) == before
    return caught.value


# -- submission ------------------------------------------------------------------------


def test_submitted_claim_gets_a_monthly_number_and_its_event(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    first = submit(desk)
    clock.advance(STEP)
    second = submit(desk)
    assert (first.id, second.id) == ("WC-202611-0001", "WC-202611-0002")
    assert first.status is WarrantyClaimStatus.SUBMITTED
    assert first.order_id == TV.order_id
    assert first.submitted_at == START
    assert desk.get_warranty_claim(first.id, by=AGENT) == first
    with store.unit_of_work(readonly=True) as uow:
        events = [entry.event() for entry in uow.outbox.find(order_by="created_at")]
    assert [type(e).__name__ for e in events] == ["WarrantyClaimSubmitted"] * 2
    assert isinstance(events[0], WarrantyClaimSubmitted)
    assert (events[0].claim_id, events[0].customer_id) == (first.id, CUSTOMER_ID)
    assert events[0].product_serial == "SN-001"


def test_claim_numbers_restart_every_month(desk: WarrantyDesk, clock: FixedClock) -> None:
    assert submit(desk).id == "WC-202611-0001"
    clock.set(datetime(2026, 12, 1, 2, tzinfo=UTC))
    assert submit(desk).id == "WC-202612-0001"


def test_claim_needs_a_customer_on_file(desk: WarrantyDesk, store: Store) -> None:
    error = assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(100), product=TV, customer_id="NOBODY", by=AGENT
        ),
        NotFound,
    )
    assert error.key == "NOBODY"
    assert submit(desk).id == "WC-202611-0001"


def sale_point(point_id: str = "SP-WUHAN-1", region: str = "central") -> ServicePoint:
    return ServicePoint(
        id=point_id,
        name=f"Service point {point_id}",
        ownership="contracted",
        district="wuhan",
        region=region,
        service_areas=frozenset({"wuchang"}),
    )


@pytest.mark.parametrize(
    ("link", "kind"),
    [("order_id", "order"), ("complaint_id", "complaint"), ("service_point_id", "service_point")],
)
def test_linked_ids_must_exist(desk: WarrantyDesk, store: Store, link: str, kind: str) -> None:
    # Rule: a claim links only to an order, complaint and service point on file (#19 item 3).
    error = assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=AGENT, **{link: "NO-SUCH-ID"}
        ),
        NotFound,
    )
    assert (error.kind, error.key) == (kind, "NO-SUCH-ID")


def test_the_product_records_order_must_exist(desk: WarrantyDesk, store: Store) -> None:
    # Rule: the order a claim links to through its product record must be on file too.
    unknown = attrs.evolve(TV, order_id="SO-209901-0001")
    error = assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(100), product=unknown, customer_id=CUSTOMER_ID, by=AGENT
        ),
        NotFound,
    )
    assert error.key == "SO-209901-0001"


def test_a_claim_carries_the_service_point_that_did_the_work(
    desk: WarrantyDesk, store: Store
) -> None:
    # Rule: a stored claim names the service point that did the work (issue #18).
    with store.unit_of_work() as uow:
        uow.repo(SERVICE_POINTS).add(sale_point())
    case = desk.submit_warranty_claim(
        tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=AGENT, service_point_id="SP-WUHAN-1"
    )
    assert case.service_point_id == "SP-WUHAN-1"
    assert desk.get_warranty_claim(case.id, by=AGENT).service_point_id == "SP-WUHAN-1"
    assert [c.id for c in desk.find_warranty_claims(by=AGENT)] == [case.id]
    assert submit(desk).service_point_id is None


def fixed_job(number: int, point: str, fixed_at: datetime) -> ServiceOrder:
    """A stored job that ``point``'s technician fixed at ``fixed_at``."""
    policy = Policy()
    job = ServiceOrder.open(
        id=f"SV-{number:05d}",
        kind=ServiceOrderKind.REPAIR,
        source=ServiceOrderSource.CALL,
        customer_id=CUSTOMER_ID,
        product_serial=f"SN-J{number}",
        model="TV-55",
        address="",
        service_area_id="wuchang",
        district="wuhan",
        urgency=ComplaintUrgency.ORDINARY,
        in_warranty=True,
        at=fixed_at - timedelta(days=1),
        by=AGENT,
        policy=policy.fieldservice,
        complaints=policy.complaints,
        calendar=policy.calendar,
    )
    visit = Dispatch(
        technician_id="tech-7",
        service_point_id=point,
        window_start=fixed_at - timedelta(hours=2),
        window_end=fixed_at,
        day=fixed_at.date(),
        at=fixed_at - timedelta(hours=3),
        by=AGENT.id,
    )
    return attrs.evolve(job, dispatches=(visit,), fixed_at=fixed_at)


def test_claim_rate_outliers_run_on_stored_jobs_and_claims_per_service_point(
    desk: WarrantyDesk, store: Store
) -> None:
    # Rule: a service point whose claim rate is far above its region's, its own history's
    # or production's is flagged, from the stored jobs and claims (docs/domain.md 4, #18).
    october = datetime(2026, 10, 12, 2, tzinfo=UTC)
    with store.unit_of_work() as uow:
        for point in ("SP-A", "SP-B"):
            uow.repo(SERVICE_POINTS).add(sale_point(point))
        jobs = [(point, october) for point in ("SP-A", "SP-B") for _ in range(4)]
        jobs += [(point, START) for point in ("SP-A", "SP-B") for _ in range(4)]
        for number, (point, at) in enumerate(jobs):
            uow.repo(SERVICE_ORDERS).add(fixed_job(number, point, at))
    earlier = WarrantyDesk(
        store, clock=FixedClock(october), plugin_manager=get_plugin_manager(load_entrypoints=False)
    )
    earlier.submit_warranty_claim(
        tv_claim(100, fault="E1"),
        product=TV,
        customer_id=CUSTOMER_ID,
        by=AGENT,
        service_point_id="SP-A",
    )
    for n in range(3):
        desk.submit_warranty_claim(
            tv_claim(100, fault=f"N{n}"),
            product=TV,
            customer_id=CUSTOMER_ID,
            by=AGENT,
            service_point_id="SP-A",
        )
    desk.submit_warranty_claim(
        tv_claim(100, fault="B1"),
        product=TV,
        customer_id=CUSTOMER_ID,
        by=AGENT,
        service_point_id="SP-B",
    )
    submit(desk)  # no service point: not counted
    flags = desk.service_point_claim_outliers(
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
        by=ANALYST,
        quality=[QualityTrend("2026-11", Decimal("0.1"))],
    )
    found = {(f.service_point, f.comparison, f.period, f.rate) for f in flags}
    assert found == {
        ("SP-A", Comparison.REGIONAL_PEERS, "2026-11", Decimal("0.75")),
        ("SP-A", Comparison.OWN_HISTORY, "2026-11", Decimal("0.75")),
        ("SP-A", Comparison.PRODUCTION_QUALITY, "2026-11", Decimal("0.75")),
        ("SP-B", Comparison.OWN_HISTORY, "2026-11", Decimal("0.25")),
        ("SP-B", Comparison.PRODUCTION_QUALITY, "2026-11", Decimal("0.25")),
    }
    october_only = desk.service_point_claim_outliers(
        datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), by=ANALYST
    )
    assert [(f.service_point, f.comparison) for f in october_only] == [
        ("SP-A", Comparison.REGIONAL_PEERS)
    ]
    with pytest.raises(PermissionDenied):
        desk.service_point_claim_outliers(START, START, by=OUTSIDER)
    with pytest.raises(ValidationError):
        desk.service_point_claim_outliers(START, START - STEP, by=ANALYST)


def test_override_checks_the_permission_before_loading(desk: WarrantyDesk, store: Store) -> None:
    # Rule: permission first, so an outsider cannot tell which claim ids exist (#19 item 3).
    case = submit(desk)
    for case_id in (case.id, "WC-209901-0001"):
        assert_unchanged(
            store,
            lambda case_id=case_id: desk.override_warranty_claim(
                case_id, [Remedy.EXCHANGE], reason="goodwill", by=AGENT
            ),
            PermissionDenied,
        )
    with pytest.raises(NotFound):
        desk.override_warranty_claim("WC-209901-0001", [Remedy.EXCHANGE], reason="x", by=VP)


def test_one_active_claim_per_product_and_fault(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: a product has at most one active (not closed) claim per fault (docs/domain.md 4).
    first = submit(desk, fault="E21 no power")
    error = assert_unchanged(store, lambda: submit(desk, fault="  e21   NO power "), RuleViolation)
    assert (error.code, error.details["claim_id"]) == ("claim_already_open", first.id)
    assert submit(desk, fault="E07 no picture").status is WarrantyClaimStatus.SUBMITTED
    clock.advance(STEP)
    desk.close_warranty_claim(first.id, by=AGENT)
    again = submit(desk, fault="E21 no power")
    assert again.id != first.id


def test_claims_without_a_named_fault_are_one_fault_per_fault_date(
    desk: WarrantyDesk, store: Store
) -> None:
    # Rule: with no fault named, the fault date tells the product's faults apart.
    submit(desk, day=100, fault="")
    error = assert_unchanged(store, lambda: submit(desk, day=100, fault=""), RuleViolation)
    assert error.code == "claim_already_open"
    assert submit(desk, day=101, fault="").claim.fault_date == BOUGHT + timedelta(days=101)


def test_new_facts_that_name_a_taken_fault_are_refused(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    # Rule: re-evaluated facts move the claim to its new fault's slot, if that is free.
    submit(desk, fault="E21")
    moving = submit(desk, fault="E07")
    clock.advance(STEP)
    error = assert_unchanged(
        store,
        lambda: desk.evaluate_warranty_claim(moving.id, claim=tv_claim(100, fault="E21"), by=AGENT),
        RuleViolation,
    )
    assert error.code == "claim_already_open"
    moved = desk.evaluate_warranty_claim(moving.id, claim=tv_claim(100, fault="E99"), by=AGENT)
    assert moved.claim.fault == "E99"
    assert submit(desk, fault="E07").claim.fault == "E07"


def test_an_active_claim_stored_without_its_guard_still_counts(
    desk: WarrantyDesk, store: Store
) -> None:
    # Rule: claims stored before the guards existed hold their fault too.
    with store.unit_of_work() as uow:
        uow.repo(WARRANTY_CLAIMS).add(
            WarrantyClaimCase.submit(
                id="WC-202610-0001",
                claim=tv_claim(100, fault="E21"),
                product=TV,
                customer_id=CUSTOMER_ID,
                at=START - timedelta(days=30),
                by=AGENT,
            )
        )
    error = assert_unchanged(store, lambda: submit(desk, fault="E21"), RuleViolation)
    assert error.details["claim_id"] == "WC-202610-0001"


def test_claim_material_must_match_the_product_record(desk: WarrantyDesk, store: Store) -> None:
    other = attrs.evolve(TV, serial="SN-999")
    error = assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(100), product=other, customer_id=CUSTOMER_ID, by=AGENT
        ),
        ValidationError,
    )
    assert [path for path, _ in error.errors] == ["claim.product_serial"]
    assert submit(desk).id == "WC-202611-0001"


@pytest.mark.parametrize(
    ("argument", "value"),
    [("customer_id", " "), ("order_id", ""), ("claim", "not a claim"), ("product", "not a record")],
)
def test_submission_arguments_are_validated(
    desk: WarrantyDesk, store: Store, argument: str, value: object
) -> None:
    kwargs: dict[str, Any] = {
        "claim": tv_claim(100),
        "product": TV,
        "customer_id": CUSTOMER_ID,
        "by": AGENT,
    }
    kwargs[argument] = value
    claim = kwargs.pop("claim")
    error = assert_unchanged(
        store, lambda: desk.submit_warranty_claim(claim, **kwargs), ValidationError
    )
    assert error.errors[0][0] == argument


def test_handling_claims_needs_the_warranty_permission(desk: WarrantyDesk, store: Store) -> None:
    case = submit(desk)
    assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=ANALYST
        ),
        PermissionDenied,
    )
    for step in (
        lambda: desk.evaluate_warranty_claim(case.id, by=ANALYST),
        lambda: desk.approve_warranty_claim(case.id, by=ANALYST),
        lambda: desk.close_warranty_claim(case.id, by=ANALYST),
        lambda: desk.get_warranty_claim(case.id, by=ANALYST),
        lambda: desk.find_warranty_claims(by=ANALYST),
    ):
        assert_unchanged(store, step, PermissionDenied)


def test_the_actor_must_be_an_actor(desk: WarrantyDesk, store: Store) -> None:
    bad: Any = "agent-1"
    error = assert_unchanged(store, lambda: submit_as(desk, bad), ValidationError)
    assert error.errors[0][0] == "by"


def submit_as(desk: WarrantyDesk, by: Actor) -> WarrantyClaimCase:
    return desk.submit_warranty_claim(tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=by)


# -- personal data -----------------------------------------------------------------------

#: A claims clerk of a custom role: handles claims, may not read customer files (the role
#: is named before the policy that grants it is built, below).
register_roles("claims_clerk")
CLERK = Actor("claims-clerk-1", {"claims_clerk"})


def clerk_desk(store: Store, clock: FixedClock) -> WarrantyDesk:
    roles = {**Policy().access.role_permissions, "claims_clerk": frozenset({"warranty.handle"})}
    policy = Policy(access=attrs.evolve(Policy().access, role_permissions=roles))
    return WarrantyDesk(
        store,
        policy=policy,
        clock=clock,
        plugin_manager=get_plugin_manager(load_entrypoints=False),
    )


def access_log(store: Store) -> list[tuple[str, str, str]]:
    """Every access record as (customer, actor, purpose), sorted."""
    with store.unit_of_work(readonly=True) as uow:
        return sorted((r.customer_id, r.actor_id, r.purpose) for r in uow.repo(ACCESS_LOG).find())


def test_reading_a_claim_is_on_record(desk: WarrantyDesk, store: Store) -> None:
    # Rule: every read of a customer's data is on record: who, when, which customer, why
    # (docs/domain.md 1, issue #19 item 1).
    case = desk.submit_warranty_claim(
        tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=AGENT, note="Zhang San called"
    )
    desk.get_warranty_claim(case.id, by=AGENT)
    desk.find_warranty_claims(by=TECH, customer_id=CUSTOMER_ID)
    assert access_log(store) == sorted(
        [
            (CUSTOMER_ID, AGENT.id, "warranty claim submission"),
            (CUSTOMER_ID, AGENT.id, "warranty claim"),
            (CUSTOMER_ID, TECH.id, "warranty claim search"),
        ]
    )


def test_without_customer_read_a_claims_personal_data_is_redacted(
    store: Store, clock: FixedClock
) -> None:
    # Rule: an actor without customer.read sees claims with the customer's personal data
    # masked, and nothing is recorded (issue #19 item 1).
    desk = clerk_desk(store, clock)
    with store.unit_of_work() as uow:
        uow.repo(CUSTOMERS).update(
            attrs.evolve(uow.repo(CUSTOMERS).get(CUSTOMER_ID), phone="13800138000")
        )
    note = "Zhang San (138 0013 8000) reports no power"
    case = desk.submit_warranty_claim(
        tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=CLERK, note=note
    )
    shown = [case, desk.get_warranty_claim(case.id, by=CLERK)]
    shown += desk.find_warranty_claims(by=CLERK)
    for claim in shown:
        assert claim.history[0].note == "[masked] ([masked]) reports no power"
        assert (claim.id, claim.customer_id) == (case.id, CUSTOMER_ID)
    assert access_log(store) == []
    assert desk.get_warranty_claim(case.id, by=AGENT).history[0].note == note


# -- the lifecycle ---------------------------------------------------------------------


def test_repair_lifecycle_saves_every_step_and_emits_its_event(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = submit(desk)
    clock.advance(STEP)
    case = desk.evaluate_warranty_claim(case.id, by=AGENT)
    assert case.decision is not None
    assert case.decision.remedies == {Remedy.REPAIR}
    assert case.decision.reason_codes == ("within_warranty_period",)
    clock.advance(STEP)
    case = desk.approve_warranty_claim(case.id, by=AGENT)
    repaired_at = clock.advance(timedelta(days=1))
    repair = RepairRecord(
        technician=TECH.id,
        at=repaired_at - timedelta(hours=2),
        work_done="replaced the power board",
        parts=(ReplacedPart(part_number="PB-55", removed_serial="PB-1", installed_serial="PB-2"),),
    )
    case = desk.record_warranty_repair(case.id, repair, by=TECH)
    clock.advance(STEP)
    case = desk.close_warranty_claim(case.id, by=AGENT, note="customer satisfied")
    assert case.outcome is WarrantyClaimOutcome.REPAIRED
    assert [step.to for step in case.history] == [
        "submitted",
        "evaluated",
        "approved",
        "repaired",
        "closed",
    ]
    assert desk.get_warranty_claim(case.id, by=AGENT) == case
    assert outbox_types(store) == [
        "WarrantyClaimSubmitted",
        "WarrantyClaimEvaluated",
        "WarrantyClaimApproved",
        "WarrantyClaimRepaired",
        "WarrantyClaimClosed",
    ]


def test_decision_records_the_policy_version(store: Store, clock: FixedClock) -> None:
    policy = Policy(warranty=WarrantyPolicy(version="2026-11"))
    desk = WarrantyDesk(
        store,
        policy=policy,
        clock=clock,
        plugin_manager=get_plugin_manager(load_entrypoints=False),
    )
    case = desk.evaluate_warranty_claim(submit(desk).id, by=AGENT)
    assert case.decision is not None
    assert case.decision.policy_version == "2026-11"
    with store.unit_of_work(readonly=True) as uow:
        event = uow.outbox.find(type="WarrantyClaimEvaluated")[0].event()
    assert isinstance(event, WarrantyClaimEvaluated)
    assert event.policy_version == "2026-11"


def test_evaluation_again_with_inspected_facts_replaces_the_decision(
    desk: WarrantyDesk, clock: FixedClock
) -> None:
    case = submit(desk, day=3, cause=Cause.UNKNOWN)
    case = desk.evaluate_warranty_claim(case.id, by=AGENT)
    assert case.decision is not None
    assert not case.decision.covered
    assert "cause_not_established" in case.decision.reason_codes
    clock.advance(STEP)
    inspected = tv_claim(3)
    case = desk.evaluate_warranty_claim(case.id, by=TECH, claim=inspected, note="inspected")
    assert case.claim == inspected
    assert case.decision is not None
    assert case.decision.remedies == {Remedy.REFUND, Remedy.EXCHANGE, Remedy.REPAIR}


def test_an_uncovered_claim_cannot_be_approved(desk: WarrantyDesk, store: Store) -> None:
    case = desk.evaluate_warranty_claim(submit(desk, cause=Cause.MISUSE).id, by=AGENT)
    error = assert_unchanged(
        store, lambda: desk.approve_warranty_claim(case.id, by=AGENT), RuleViolation
    )
    assert error.code == "claim_not_covered"
    assert error.details["reasons"] == ["misuse"]


def test_uncovered_claim_closed_is_rejected(desk: WarrantyDesk) -> None:
    case = desk.evaluate_warranty_claim(submit(desk, cause=Cause.HUMAN_DAMAGE).id, by=AGENT)
    closed = desk.close_warranty_claim(case.id, by=AGENT, note="human damage")
    assert closed.outcome is WarrantyClaimOutcome.REJECTED


def test_override_needs_authority_and_a_written_reason(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = desk.evaluate_warranty_claim(submit(desk, cause=Cause.MISUSE).id, by=AGENT)
    clock.advance(STEP)
    assert_unchanged(
        store,
        lambda: desk.override_warranty_claim(
            case.id, {Remedy.REFUND}, reason="key account", by=AGENT
        ),
        PermissionDenied,
    )
    error = assert_unchanged(
        store,
        lambda: desk.override_warranty_claim(case.id, {Remedy.REFUND}, reason=" ", by=VP),
        ValidationError,
    )
    assert error.errors[0][0] == "reason"
    case = desk.override_warranty_claim(
        case.id, {Remedy.REFUND}, reason="Key account, goodwill agreed in writing.", by=VP
    )
    assert case.status is WarrantyClaimStatus.OVERRIDDEN
    assert case.allowed_remedies == {Remedy.REFUND}
    clock.advance(STEP)
    refund = RefundRecord(amount=Money.of("3999.00", "CNY"), at=clock.now())
    case = desk.record_warranty_refund(case.id, refund, by=AGENT)
    assert case.refund == refund
    with store.unit_of_work(readonly=True) as uow:
        overridden = uow.outbox.find(type="WarrantyClaimOverridden")[0].event()
        refunded = uow.outbox.find(type="WarrantyClaimRefunded")[0].event()
    assert isinstance(overridden, WarrantyClaimOverridden)
    assert overridden.reason == "Key account, goodwill agreed in writing."
    assert overridden.by == VP.id
    assert isinstance(refunded, WarrantyClaimRefunded)
    assert refunded.amount == refund.amount


def test_override_remedies_are_validated(desk: WarrantyDesk, store: Store) -> None:
    case = desk.evaluate_warranty_claim(submit(desk, cause=Cause.MISUSE).id, by=AGENT)
    bad: list[Any] = ["refund", {"cash"}, set()]
    for remedies in bad:
        assert_unchanged(
            store,
            partial(desk.override_warranty_claim, case.id, remedies, reason="why", by=VP),
            ValidationError,
        )


def test_only_an_allowed_remedy_is_carried_out(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = desk.approve_warranty_claim(
        desk.evaluate_warranty_claim(submit(desk, day=100).id, by=AGENT).id, by=AGENT
    )
    refund = RefundRecord(amount=Money.of("100.00", "CNY"), at=clock.now())
    error = assert_unchanged(
        store, lambda: desk.record_warranty_refund(case.id, refund, by=AGENT), RuleViolation
    )
    assert error.code == "remedy_not_allowed"
    exchange = ExchangeRecord(new_serial="SN-002", at=clock.now())
    error = assert_unchanged(
        store, lambda: desk.record_warranty_exchange(case.id, exchange, by=AGENT), RuleViolation
    )
    assert error.code == "remedy_not_allowed"


def test_exchange_within_the_exchange_window(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = desk.approve_warranty_claim(
        desk.evaluate_warranty_claim(submit(desk, day=10).id, by=AGENT).id, by=AGENT
    )
    clock.advance(STEP)
    case = desk.record_warranty_exchange(
        case.id, ExchangeRecord(new_serial="SN-002", at=clock.now()), by=AGENT
    )
    assert case.status is WarrantyClaimStatus.EXCHANGED
    clock.advance(STEP)
    case = desk.close_warranty_claim(case.id, by=AGENT)
    assert case.outcome is WarrantyClaimOutcome.EXCHANGED
    assert outbox_types(store)[-2:] == ["WarrantyClaimExchanged", "WarrantyClaimClosed"]


def test_steps_out_of_order_are_invalid_transitions(desk: WarrantyDesk, store: Store) -> None:
    case = submit(desk)
    assert_unchanged(
        store, lambda: desk.approve_warranty_claim(case.id, by=AGENT), InvalidTransition
    )
    closed = desk.close_warranty_claim(case.id, by=AGENT, note="withdrawn")
    assert closed.outcome is WarrantyClaimOutcome.WITHDRAWN
    assert_unchanged(
        store, lambda: desk.evaluate_warranty_claim(case.id, by=AGENT), InvalidTransition
    )


def test_a_refused_step_names_the_action_and_what_comes_first(
    desk: WarrantyDesk, store: Store
) -> None:
    case = submit(desk)
    error = assert_unchanged(
        store,
        lambda: desk.record_warranty_exchange(
            case.id, ExchangeRecord(new_serial="SN-2", at=START), by=AGENT
        ),
        InvalidTransition,
    )
    assert error.action == "record_exchange"
    assert str(error) == f"warranty claim {case.id!r} cannot record_exchange while submitted"
    error = assert_unchanged(
        store, lambda: desk.approve_warranty_claim(case.id, by=AGENT), InvalidTransition
    )
    assert str(error).endswith("cannot approve while submitted: evaluate the claim first")


def test_records_dated_in_the_future_are_refused(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = desk.approve_warranty_claim(
        desk.evaluate_warranty_claim(submit(desk).id, by=AGENT).id, by=AGENT
    )
    later = clock.now() + timedelta(hours=1)
    repair = RepairRecord(technician=TECH.id, at=later, work_done="new board")
    error = assert_unchanged(
        store, lambda: desk.record_warranty_repair(case.id, repair, by=TECH), ValidationError
    )
    assert error.errors[0][0] == "record.at"


def test_a_record_before_the_previous_step_is_refused(
    desk: WarrantyDesk, store: Store, clock: FixedClock
) -> None:
    case = desk.approve_warranty_claim(
        desk.evaluate_warranty_claim(submit(desk).id, by=AGENT).id, by=AGENT
    )
    clock.advance(STEP)
    repair = RepairRecord(technician=TECH.id, at=START - STEP, work_done="new board")
    assert_unchanged(
        store, lambda: desk.record_warranty_repair(case.id, repair, by=TECH), ValidationError
    )


@pytest.mark.parametrize(
    "step",
    [
        lambda d: d.get_warranty_claim("WC-209901-0001", by=AGENT),
        lambda d: d.evaluate_warranty_claim("WC-209901-0001", by=AGENT),
        lambda d: d.approve_warranty_claim("WC-209901-0001", by=AGENT),
        lambda d: d.override_warranty_claim("WC-209901-0001", {Remedy.REPAIR}, reason="r", by=VP),
        lambda d: d.record_warranty_repair(
            "WC-209901-0001", RepairRecord(technician="t", at=START, work_done="w"), by=TECH
        ),
        lambda d: d.close_warranty_claim("WC-209901-0001", by=AGENT),
    ],
)
def test_an_unknown_claim_is_not_found(
    desk: WarrantyDesk, store: Store, step: Callable[[WarrantyDesk], object]
) -> None:
    error = assert_unchanged(store, lambda: step(desk), NotFound)
    assert error.key == "WC-209901-0001"


# -- argument checks -------------------------------------------------------------------

BAD_TEXTS = [1.5, True, -1, float("nan"), {}]


def _text_steps(case_id: str, bad: Any) -> list[Callable[[WarrantyDesk], object]]:
    return [
        lambda d: d.close_warranty_claim(case_id, by=TECH, note=bad),
        lambda d: d.approve_warranty_claim(case_id, by=AGENT, note=bad),
        lambda d: d.evaluate_warranty_claim(case_id, by=AGENT, note=bad),
        lambda d: d.override_warranty_claim(case_id, {Remedy.REPAIR}, reason=bad, by=VP),
        lambda d: d.submit_warranty_claim(
            tv_claim(100), product=TV, customer_id=CUSTOMER_ID, by=AGENT, note=bad
        ),
    ]


@pytest.mark.parametrize("bad", BAD_TEXTS, ids=repr)
def test_a_note_or_reason_that_is_not_text_is_refused_before_anything_is_stored(
    desk: WarrantyDesk, store: Store, bad: Any
) -> None:
    case = desk.evaluate_warranty_claim(submit(desk).id, by=AGENT)
    for step in _text_steps(case.id, bad):
        error = assert_unchanged(store, partial(step, desk), ValidationError)
        assert error.errors[0][0] in {"note", "reason"}
    assert desk.get_warranty_claim(case.id, by=AGENT) == case
    assert desk.find_warranty_claims(by=AGENT) == [case]
    assert desk.warranty_decisions_by_reason(by=ANALYST) == {"within_warranty_period": 1}


def test_notes_reasons_and_record_notes_keep_the_text_limit(
    desk: WarrantyDesk, store: Store
) -> None:
    case = desk.approve_warranty_claim(
        desk.evaluate_warranty_claim(submit(desk, day=10).id, by=AGENT).id, by=AGENT
    )
    long = "x" * (desk.policy.limits.max_long_text + 1)
    error = assert_unchanged(
        store,
        lambda: desk.override_warranty_claim(case.id, {Remedy.REFUND}, reason=long, by=VP),
        ValidationError,
    )
    assert error.errors[0][0] == "reason"
    error = assert_unchanged(
        store, lambda: desk.close_warranty_claim(case.id, by=AGENT, note=long), ValidationError
    )
    assert error.errors[0][0] == "note"
    exchange = ExchangeRecord(new_serial="SN-002", at=START, note=long)
    error = assert_unchanged(
        store, lambda: desk.record_warranty_exchange(case.id, exchange, by=AGENT), ValidationError
    )
    assert error.errors[0][0] == "record.note"


def test_override_checks_the_permission_before_loading_the_claim(
    desk: WarrantyDesk, store: Store
) -> None:
    case = desk.evaluate_warranty_claim(submit(desk, cause=Cause.MISUSE).id, by=AGENT)
    for case_id in (case.id, "WC-209901-0001"):
        assert_unchanged(
            store,
            partial(desk.override_warranty_claim, case_id, {Remedy.REFUND}, reason="r", by=AGENT),
            PermissionDenied,
        )


def test_claim_rate_outliers_without_records_is_a_validation_error(desk: WarrantyDesk) -> None:
    bad: Any = None
    with pytest.raises(ValidationError) as caught:
        desk.claim_rate_outliers(bad, [], by=ANALYST)
    assert caught.value.errors[0][0] == "records"
    with pytest.raises(ValidationError) as caught:
        desk.claim_rate_outliers(_records(), [], by=ANALYST, period=" ")
    assert caught.value.errors[0][0] == "period"


def test_every_public_desk_method_is_a_use_case() -> None:
    public = {
        name
        for name, member in vars(WarrantyDesk).items()
        if callable(member) and not name.startswith("_")
    }
    cases = use_cases(WarrantyDesk)
    assert public <= set(cases)
    assert cases["override_warranty_claim"].permissions == (Permission.OVERRIDE_WARRANTY,)
    for spec in cases.values():
        spec.checks()


# -- plugins ---------------------------------------------------------------------------


@attrs.frozen
class MileageLimit:
    """Vehicles are covered up to ``max_km`` kilometres (an industry rule)."""

    max_km: int
    code: str = "mileage_exceeded"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> list[Reason]:
        km = claim.attributes.get("mileage_km")
        if isinstance(km, int) and km > self.max_km:
            return [Reason.excludes(self.code, f"{km} km is past the {self.max_km} km limit.")]
        return []


class VehiclePlugin:
    @csdomain.hookimpl
    def csdomain_warranty_rules(self) -> list[MileageLimit]:
        return [MileageLimit(max_km=100_000)]


def test_hook_csdomain_warranty_rules_plugin_rule_changes_the_stored_decision(
    store: Store, clock: FixedClock
) -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(VehiclePlugin())
    with_plugin = WarrantyDesk(store, clock=clock, plugin_manager=pm)
    without = WarrantyDesk(
        store, clock=clock, plugin_manager=get_plugin_manager(load_entrypoints=False)
    )
    worn = submit(with_plugin, attributes={"mileage_km": 120_000})
    plain = submit(with_plugin, attributes={"mileage_km": 120_000})

    decided = with_plugin.evaluate_warranty_claim(worn.id, by=AGENT)
    stored = with_plugin.get_warranty_claim(worn.id, by=AGENT)
    assert stored == decided
    assert stored.decision is not None
    assert not stored.decision.covered
    assert stored.decision.reason_codes == ("mileage_exceeded",)

    baseline = without.evaluate_warranty_claim(plain.id, by=AGENT)
    assert baseline.decision is not None
    assert baseline.decision.covered
    with store.unit_of_work(readonly=True) as uow:
        events = [e.event() for e in uow.outbox.find(type="WarrantyClaimEvaluated")]
    codes = {e.claim_id: e.reason_codes for e in events if isinstance(e, WarrantyClaimEvaluated)}
    assert codes == {worn.id: ("mileage_exceeded",), plain.id: ("within_warranty_period",)}


# -- queries and analyses --------------------------------------------------------------


def test_find_claims_by_serial_status_and_customer(desk: WarrantyDesk) -> None:
    first = submit(desk)
    second = desk.submit_warranty_claim(
        tv_claim(100, product_serial="SN-777"),
        product=attrs.evolve(TV, serial="SN-777"),
        customer_id=CUSTOMER_ID,
        by=AGENT,
    )
    evaluated = desk.evaluate_warranty_claim(second.id, by=AGENT)
    assert desk.find_warranty_claims(by=AGENT, product_serial="SN-001") == [first]
    assert desk.find_warranty_claims(by=AGENT, status="evaluated") == [evaluated]
    assert desk.find_warranty_claims(by=AGENT, customer_id=CUSTOMER_ID) == [first, evaluated]
    assert desk.find_warranty_claims(by=AGENT, customer_id=CUSTOMER_ID, limit=1) == [first]
    with pytest.raises(ValidationError):
        desk.find_warranty_claims(by=AGENT, status="lost")


def test_decisions_by_reason_count_each_claims_current_decision(
    desk: WarrantyDesk, clock: FixedClock
) -> None:
    submitted_only = submit(desk)
    desk.evaluate_warranty_claim(submit(desk, cause=Cause.MISUSE).id, by=AGENT)
    desk.evaluate_warranty_claim(
        submit(desk, certificate_altered=True, cause=Cause.MISUSE).id, by=AGENT
    )
    clock.advance(timedelta(days=3))
    late = desk.evaluate_warranty_claim(submit(desk).id, by=AGENT)
    repaired = desk.close_warranty_claim(
        desk.approve_warranty_claim(late.id, by=AGENT).id, by=AGENT
    )
    assert submitted_only.decision is None
    assert submitted_only.decided_at is None
    assert repaired.status is WarrantyClaimStatus.CLOSED
    assert repaired.decided_at == late.history[-1].at == START + timedelta(days=3)

    assert desk.warranty_decisions_by_reason(by=ANALYST) == {
        "certificate_altered": 1,
        "misuse": 2,
        "within_warranty_period": 1,
    }
    assert desk.warranty_decisions_by_reason(by=ANALYST, end=START + timedelta(days=1)) == {
        "certificate_altered": 1,
        "misuse": 2,
    }
    assert desk.warranty_decisions_by_reason(by=ANALYST, start=START + timedelta(days=1)) == {
        "within_warranty_period": 1
    }
    with pytest.raises(PermissionDenied):
        desk.warranty_decisions_by_reason(by=OUTSIDER)
    with pytest.raises(ValidationError):
        desk.warranty_decisions_by_reason(by=ANALYST, start=START, end=START - STEP)
    with pytest.raises(ValidationError):
        desk.warranty_decisions_by_reason(by=ANALYST, start=datetime(2026, 11, 1))


def _records() -> list[ServicePointPeriod]:
    def record(point: str, period: str, units: int, claims: int) -> ServicePointPeriod:
        return ServicePointPeriod(
            service_point=point, region="north", period=period, units=units, claims=claims
        )

    return [
        record("SP1", "2026-09", 200, 4),
        record("SP1", "2026-10", 200, 12),
        record("SP2", "2026-10", 300, 6),
        record("SP3", "2026-10", 200, 4),
    ]


def test_claim_rate_outliers_use_the_policy_threshold(store: Store, clock: FixedClock) -> None:
    quality = [QualityTrend(period="2026-10", defect_rate=Decimal("0.03"))]
    desk = WarrantyDesk(store, clock=clock)
    flags = desk.claim_rate_outliers(iter(_records()), iter(quality), by=ANALYST)
    assert [(f.service_point, f.comparison) for f in flags] == [
        ("SP1", Comparison.REGIONAL_PEERS),
        ("SP1", Comparison.OWN_HISTORY),
        ("SP1", Comparison.PRODUCTION_QUALITY),
    ]
    lenient = WarrantyDesk(
        store, clock=clock, policy=Policy(warranty=WarrantyPolicy(outlier_ratio=Decimal("2.5")))
    )
    flags = lenient.claim_rate_outliers(_records(), quality, by=ANALYST)
    assert [f.comparison for f in flags] == [Comparison.REGIONAL_PEERS, Comparison.OWN_HISTORY]
    with pytest.raises(PermissionDenied):
        desk.claim_rate_outliers(_records(), quality, by=OUTSIDER)


def test_part_quotes_follow_the_policy(store: Store, clock: FixedClock) -> None:
    desk = WarrantyDesk(
        store, clock=clock, policy=Policy(warranty=WarrantyPolicy(freight=Decimal("20.00")))
    )
    board = SparePart(
        part_number="ASM-55",
        name="main board assembly",
        kind=PartKind.ASSEMBLED,
        dealer_price=Money.of("150.00", "CNY"),
    )
    # the board is the product's whole service BOM: it costs twice the dealer price
    price = Money.of("150.00", "CNY")
    bom = ServiceBom(product="PUMP-7", dealer_price=price, lines=[BomLine(part=board)])
    quote = desk.quote_part(board, 3, by=TECH, bom=bom)
    assert quote.total == Money.of("1037.00", "CNY")
    with pytest.raises(ValidationError) as missing:
        desk.quote_part(board, 3, by=TECH)
    assert [path for path, _ in missing.value.errors] == ["bom"]
    chip = SparePart(part_number="CORE-1", name="controller chip", kind=PartKind.CORE)
    with pytest.raises(RuleViolation) as caught:
        desk.quote_part(chip, 1, by=TECH)
    assert caught.value.code == "part_not_for_sale"
    with pytest.raises(ValidationError):
        desk.quote_part(board, 0, by=TECH, bom=bom)
    with pytest.raises(PermissionDenied):
        desk.quote_part(board, 1, by=ANALYST, bom=bom)


def test_a_step_another_clerk_already_took_is_an_invalid_transition(
    store: Store, clock: FixedClock
) -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    one = WarrantyDesk(store, clock=clock, plugin_manager=pm)
    two = WarrantyDesk(store, clock=clock, plugin_manager=pm)
    case = one.evaluate_warranty_claim(submit(one).id, by=AGENT)
    approved = two.approve_warranty_claim(case.id, by=AGENT)
    error = assert_unchanged(
        store, lambda: one.approve_warranty_claim(case.id, by=AGENT), InvalidTransition
    )
    assert error.from_status == "approved"
    assert one.get_warranty_claim(case.id, by=AGENT) == approved


def test_a_claim_refers_to_the_product_file_of_its_unit(desk: WarrantyDesk, store: Store) -> None:
    # Rule: every warranty claim refers to the unit's product file (产品档案) when there is
    # one: the record comes from it, or must agree with it; without either it is refused.
    from csdomain.fieldservice import ProductFile
    from csdomain.kinds import PRODUCT_FILES

    with pytest.raises(NotFound) as missing:
        desk.submit_warranty_claim(tv_claim(100), customer_id=CUSTOMER_ID, by=AGENT)
    assert missing.value.kind == "product_file"
    file = ProductFile(
        serial="SN-001",
        model="TV-55",
        category="tv",
        customer_id=CUSTOMER_ID,
        address="",
        service_area_id="WH-HS",
        sold_on=BOUGHT,
        warranty_ends=BOUGHT + timedelta(days=365),
        order_id=TV_ORDER_ID,
        registered_at=START,
        registered_by="agent-1",
    )
    with store.unit_of_work() as uow:
        uow.repo(PRODUCT_FILES).add(file)
    case = desk.submit_warranty_claim(
        tv_claim(100, fault="no picture"), customer_id=CUSTOMER_ID, by=AGENT
    )
    assert case.product == file.product_record()
    wrong = attrs.evolve(TV, model="TV-65")
    error = assert_unchanged(
        store,
        lambda: desk.submit_warranty_claim(
            tv_claim(101, fault="no sound"), product=wrong, customer_id=CUSTOMER_ID, by=AGENT
        ),
        RuleViolation,
    )
    assert error.code == "product_record_mismatch"
