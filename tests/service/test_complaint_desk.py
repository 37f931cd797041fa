"""Complaint rules (docs/domain.md 3) through ComplaintDesk, on memory:// and sqlite://."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import FixedClock
from csdomain.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEscalated,
    ComplaintNature,
    ComplaintPolicy,
    ComplaintReceived,
    ComplaintStatus,
    ComplaintUrgency,
    EscalationReason,
    FollowUpOutcome,
    FollowUpScheduled,
    Remedy,
    RemedyKind,
    SlaKind,
)
from csdomain.customers import Customer, CustomerClass
from csdomain.desk.base import use_cases
from csdomain.desk.complaints import ComplaintDesk
from csdomain.errors import (
    CsDomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationError,
)
from csdomain.events import Event
from csdomain.kinds import ACCESS_LOG, COMPLAINTS, CUSTOMERS, INTERACTIONS, ORDERS
from csdomain.money import Money
from csdomain.orders import Order, OrderLine
from csdomain.policy import LimitsPolicy, Policy
from csdomain.satisfaction import SurveyRequested, SurveySubject
from csdomain.store import OutboxEntry, Repository, Store, open_store


SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)
SATURDAY = datetime(2026, 11, 7, 10, tzinfo=SHANGHAI)

LI = Actor(id="li", roles={"specialist"})
ZHOU = Actor(id="zhou", roles={"department_manager"})
SUN = Actor(id="sun", roles={"sales_vp"})
SYSTEM = Actor.system()
CLERK = Actor(id="qin", roles={"finance"})
OWNERS = {
    "specialist": "li",
    "department_manager": "zhou",
    "cs_manager": "qian",
    "call_team": "call-1",
    "general_manager": "wang",
}
REST = QuietHours(start=time(22), end=time(8), tz="Asia/Shanghai")
EXPLANATION = Remedy(RemedyKind.EXPLANATION, "explain the storage conditions")
EXCHANGE = Remedy(RemedyKind.EXCHANGE, "ship a replacement vial", Money.of("380", "CNY"))


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    yield opened
    opened.close()


def make_desk(
    store: Store,
    *,
    at: datetime = MONDAY,
    policy: Policy | None = None,
    team_calendars: dict[str, BusinessCalendar] | None = None,
) -> tuple[ComplaintDesk, FixedClock]:
    clock = FixedClock(at)
    desk = ComplaintDesk(store, policy=policy, clock=clock, team_calendars=team_calendars)
    return desk, clock


def add_customer(
    store: Store,
    customer_id: str = "CU-1",
    *,
    customer_class: CustomerClass = CustomerClass.ORDINARY,
    rest_hours: QuietHours | None = None,
) -> Customer:
    customer = Customer(
        id=customer_id,
        code=f"SH-202611-{customer_id}-001",
        name=f"Lab {customer_id}",
        customer_class=customer_class,
        rest_hours=rest_hours,
    )
    with store.unit_of_work() as uow:
        uow.repo(CUSTOMERS).add(customer)
    return customer


def receive(
    desk: ComplaintDesk,
    customer_id: str = "CU-1",
    *,
    urgency: str = "ordinary",
    category: str = "product_quality",
    **kwargs: Any,
) -> Complaint:
    return desk.receive_complaint(
        customer_id,
        channel=kwargs.pop("channel", "phone"),
        urgency=urgency,
        category=category,
        description=kwargs.pop("description", "The antibody vial arrived leaking."),
        by=kwargs.pop("by", LI),
        **kwargs,
    )


def approved(
    desk: ComplaintDesk, customer_id: str = "CU-1", *, remedies: tuple[Remedy, ...] = ()
) -> Complaint:
    """A complaint received, assessed, investigated and with an approved explanation."""
    c = receive(desk, customer_id)
    desk.assess_complaint(c.id, by=LI)
    desk.start_investigation(c.id, by=LI)
    desk.record_cause(c.id, cause="Damaged seal", responsible_person="zhao", by=LI)
    desk.propose_resolution(c.id, remedies=remedies or (EXPLANATION,), by=LI)
    return desk.approve_resolution(c.id, choice=0, by=SUN)


def resolved(desk: ComplaintDesk, customer_id: str = "CU-1") -> Complaint:
    c = approved(desk, customer_id)
    return desk.accept_resolution(c.id, signed_by="Dr Chen", by=LI)


E = TypeVar("E", bound=Event)


def all_events(store: Store) -> list[Event]:
    with store.unit_of_work(readonly=True) as uow:
        return [entry.event() for entry in uow.outbox.find(order_by="created_at")]


def outbox(store: Store, event_type: type[E]) -> list[E]:
    with store.unit_of_work(readonly=True) as uow:
        entries = uow.outbox.find(type=event_type.type_name, order_by="created_at")
    events = [entry.event() for entry in entries]
    return [event for event in events if isinstance(event, event_type)]


def snapshot(store: Store) -> tuple[list[Complaint], list[OutboxEntry]]:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(COMPLAINTS).find(), uow.outbox.find()


# -- receipt ----------------------------------------------------------------------------


def test_complaint_numbers_follow_the_monthly_naming_series(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store, at=datetime(2026, 11, 30, 10, tzinfo=SHANGHAI))
    assert [receive(desk).id for _ in range(2)] == ["CP-202611-0001", "CP-202611-0002"]
    clock.advance(timedelta(days=1))
    assert receive(desk).id == "CP-202612-0001"


def test_deadlines_are_computed_on_the_owning_team_calendar_at_receipt(store: Store) -> None:
    add_customer(store)
    quality = BusinessCalendar.office("Asia/Shanghai", time(9), time(18)).with_holidays(
        [date(2026, 11, 9)]
    )
    desk, _ = make_desk(
        store,
        at=SATURDAY,
        team_calendars={"quality": quality, "logistics": BusinessCalendar.always()},
    )
    leaking = receive(desk, category="product_quality")  # quality: closed Saturday and Monday
    assert leaking.respond_by == datetime(2026, 11, 10, 11, tzinfo=SHANGHAI)
    assert leaking.resolve_by == datetime(2026, 11, 16, 13, tzinfo=SHANGHAI)
    late = receive(desk, category="delivery_delay")  # logistics works around the clock
    assert late.respond_by == SATURDAY + timedelta(hours=2)
    assert late.resolve_by == SATURDAY + timedelta(hours=40)
    rude = receive(desk, category="service")  # no team calendar: the desk's office calendar
    assert rude.respond_by == datetime(2026, 11, 9, 11, tzinfo=SHANGHAI)
    assert rude.resolve_by == datetime(2026, 11, 13, 13, tzinfo=SHANGHAI)
    stored = desk.get_complaint(leaking.id, by=LI)
    assert stored == leaking
    (event,) = [e for e in outbox(store, ComplaintReceived) if e.complaint_id == leaking.id]
    assert event.respond_by == leaking.respond_by


def test_special_urgency_starts_higher_on_the_ladder(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    special = receive(desk, urgency="special", owners=OWNERS)
    ordinary = receive(desk, owners=OWNERS)
    assert (special.escalation_level, special.owner_role, special.owner_id) == (
        2,
        "department_manager",
        "zhou",
    )
    assert (ordinary.escalation_level, ordinary.owner_role, ordinary.owner_id) == (
        1,
        "specialist",
        "li",
    )
    assert special.respond_by == MONDAY + timedelta(minutes=30)


def test_an_order_named_in_a_complaint_must_be_the_customers(store: Store) -> None:
    add_customer(store, "CU-1")
    add_customer(store, "CU-2")
    order = Order(
        id="SO-202611-0001",
        customer_id="CU-1",
        channel="phone",
        lines=(OrderLine("AB-1", 1, Money.of("380", "CNY")),),
        currency="CNY",
        placed_at=MONDAY - timedelta(days=3),
        placed_by="li",
    )
    with store.unit_of_work() as uow:
        uow.repo(ORDERS).add(order)
    desk, _ = make_desk(store)
    with pytest.raises(RuleViolation) as err:
        receive(desk, "CU-2", order_id=order.id)
    assert err.value.code == "order_of_another_customer"
    with pytest.raises(NotFound):
        receive(desk, "CU-1", order_id="SO-404")
    assert receive(desk, "CU-1", order_id=order.id).order_id == order.id


# -- the loop ----------------------------------------------------------------------------


def test_every_step_of_the_loop_goes_to_the_outbox_with_the_saved_complaint(
    store: Store,
) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk)
    c = desk.acknowledge(c.id, by=LI)
    assert c.first_response_at == MONDAY
    assert desk.acknowledge(c.id, by=LI) == c  # idempotent
    clock.advance(timedelta(hours=1))
    c = desk.assign(c.id, owner_id="li-2", by=LI)
    c = desk.assess_complaint(c.id, by=LI, answer_promised_by=MONDAY + timedelta(days=2))
    assert (c.department, c.owner_id, c.first_response_at) == ("quality", "li-2", MONDAY)
    desk.start_investigation(c.id, by=LI)
    with pytest.raises(RuleViolation) as err:
        desk.propose_resolution(c.id, remedies=[EXPLANATION], by=LI)
    assert err.value.code == "cause_required"
    desk.record_cause(c.id, cause="Damaged seal", by=LI)
    desk.propose_resolution(c.id, remedies=[EXPLANATION], by=LI)
    desk.send_back_resolution(c.id, reason="explain the seal, too", by=ZHOU)
    desk.propose_resolution(c.id, remedies=[EXPLANATION, EXCHANGE], by=LI)
    desk.approve_resolution(c.id, choice=1, by=SUN)
    clock.advance(timedelta(hours=1))
    c = desk.accept_resolution(c.id, signed_by="Dr Chen", by=LI)
    assert c.follow_up_planned_at is not None
    clock.set(c.follow_up_planned_at)
    desk.record_follow_up(c.id, outcome="satisfied", notes="Works; wants sturdier boxes.", by=LI)
    c = desk.close_complaint(
        c.id, summary="Seal failure in lot 7.", improvement_measure="Seal check.", by=LI
    )
    assert c.status is ComplaintStatus.CLOSED
    assert desk.get_complaint(c.id, by=LI) == c
    types = Counter(type(e).__name__ for e in all_events(store))
    assert types == {
        "ComplaintReceived": 1,
        "ComplaintStatusChanged": 9,
        "FollowUpScheduled": 1,
        "ComplaintClosed": 1,
        "SurveyRequested": 1,
        # the follow-up visit is a contact: it goes into the customer's interaction log
        "InteractionRecorded": 1,
    }


def test_an_unfounded_complaint_is_rejected_tactfully_and_still_counted(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    c = desk.reject_complaint(
        c.id, reply="The delay was the carrier's strike; we apologise.", by=LI
    )
    assert (c.status, c.founded) == (ComplaintStatus.REJECTED, False)
    c = desk.close_complaint(c.id, summary="Explained the strike.", by=LI)
    assert c.status is ComplaintStatus.CLOSED
    report = desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=1), by=LI)
    assert (report.total, report.founded_rate) == (1, 0.0)


def test_time_on_hold_moves_the_resolution_deadline(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk)
    assert c.resolve_by == datetime(2026, 11, 6, 14, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 11, 3, 17, tzinfo=SHANGHAI))
    held = desk.put_on_hold(c.id, reason="waiting for the lot number", by=LI)
    assert held.status is ComplaintStatus.ON_HOLD
    clock.set(datetime(2026, 11, 4, 10, tzinfo=SHANGHAI))
    back = desk.resume(c.id, by=LI)
    assert back.status is ComplaintStatus.RECEIVED
    assert back.resolve_by == datetime(2026, 11, 6, 16, tzinfo=SHANGHAI)  # two business hours
    assert desk.get_complaint(c.id, by=LI).resolve_by == back.resolve_by


def test_a_complaint_on_hold_is_not_escalated_for_the_resolution_deadline(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk)
    desk.acknowledge(c.id, by=LI)
    desk.put_on_hold(c.id, reason="waiting for the customer", by=LI)
    clock.advance(timedelta(days=30))
    assert desk.escalate_overdue(by=SYSTEM) == []
    assert desk.breaches(by=LI) == []


# -- SLA breaches and escalation ------------------------------------------------------------


def test_breaches_list_the_open_complaints_past_a_deadline(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    answered = receive(desk)
    desk.acknowledge(answered.id, by=LI)
    silent = receive(desk)
    done = resolved(desk)
    assert desk.breaches(by=LI) == []
    clock.advance(timedelta(hours=3))  # past the two business hours to respond
    assert [(b.complaint_id, b.target) for b in desk.breaches(by=LI)] == [
        (silent.id, SlaKind.RESPOND)
    ]
    friday = datetime(2026, 11, 6, 15, tzinfo=SHANGHAI)  # past the 40 business hours
    found = desk.breaches(at=friday, by=LI)
    assert [(b.complaint_id, b.target) for b in found] == [
        (silent.id, SlaKind.RESPOND),
        (answered.id, SlaKind.RESOLVE),
        (silent.id, SlaKind.RESOLVE),
    ]
    assert all(b.still_open for b in found)
    assert done.id not in {b.complaint_id for b in desk.breaches(at=friday, by=LI)}
    with pytest.raises(PermissionDenied):
        desk.breaches(by=Actor(id="guest", roles=frozenset()))


def test_breaches_include_targets_met_late_on_request(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk)
    clock.advance(timedelta(hours=3))
    desk.acknowledge(c.id, by=LI)
    assert desk.breaches(by=LI) == []
    (late,) = desk.breaches(by=LI, include_met=True)
    assert (late.target, late.met_at) == (SlaKind.RESPOND, MONDAY + timedelta(hours=3))


def test_escalation_moves_one_level_per_missed_deadline_and_records_the_owner(
    store: Store,
) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    urgent = receive(desk, urgency="urgent", owners=OWNERS)
    ordinary = receive(desk, owners=OWNERS)
    clock.advance(timedelta(hours=73))  # Thursday 11:00
    events = desk.escalate_overdue(by=SYSTEM, owners=OWNERS)
    by_complaint: dict[str, list[ComplaintEscalated]] = {}
    for event in events:
        by_complaint.setdefault(event.complaint_id, []).append(event)
    assert [e.reason for e in by_complaint[urgent.id]] == [
        EscalationReason.RESPONSE_OVERDUE,
        EscalationReason.RESOLUTION_OVERDUE,
        EscalationReason.STILL_OVERDUE,
    ]
    assert [e.reason for e in by_complaint[ordinary.id]] == [EscalationReason.RESPONSE_OVERDUE]
    stored = desk.get_complaint(urgent.id, by=LI)
    assert (stored.escalation_level, stored.owner_role, stored.owner_id) == (
        4,
        "call_team",
        "call-1",
    )
    assert [step.owner_id for step in stored.escalations] == ["zhou", "qian", "call-1"]
    assert desk.get_complaint(ordinary.id, by=LI).owner_id == "zhou"
    assert sorted(outbox(store, ComplaintEscalated), key=str) == sorted(events, key=str)


def test_escalation_is_idempotent_at_the_same_instant(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    receive(desk, urgency="urgent")
    clock.advance(timedelta(hours=2))
    assert len(desk.escalate_overdue(by=SYSTEM)) == 1
    before = snapshot(store)
    assert desk.escalate_overdue(by=SYSTEM) == []
    assert snapshot(store) == before
    clock.advance(timedelta(hours=47))  # the resolution deadline is missed now
    assert [e.reason for e in desk.escalate_overdue(by=SYSTEM)] == [
        EscalationReason.RESOLUTION_OVERDUE
    ]


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
@given(
    urgency=st.sampled_from(list(ComplaintUrgency)),
    pauses=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=5),
)
def test_escalation_level_only_rises_and_stepwise_runs_match_one_late_run(
    url: str, urgency: ComplaintUrgency, pauses: list[int]
) -> None:
    with open_store(url) as stepwise, open_store(url) as once:
        levels = []
        for store in (stepwise, once):
            add_customer(store)
        desk, clock = make_desk(stepwise)
        late_desk, late_clock = make_desk(once)
        c = receive(desk, urgency=urgency.value, owners=OWNERS)
        receive(late_desk, urgency=urgency.value, owners=OWNERS)
        levels.append(c.escalation_level)
        for hours in pauses:
            clock.advance(timedelta(hours=hours))
            desk.escalate_overdue(by=SYSTEM, owners=OWNERS)
            assert desk.escalate_overdue(by=SYSTEM, owners=OWNERS) == []
            levels.append(desk.get_complaint(c.id, by=LI).escalation_level)
        assert levels == sorted(levels)
        assert levels[-1] <= 5
        late_clock.set(clock.now())
        late_desk.escalate_overdue(by=SYSTEM, owners=OWNERS)
        assert late_desk.get_complaint(c.id, by=LI).escalation_level == levels[-1]
        stored = desk.get_complaint(c.id, by=LI)
        recorded = [ComplaintEscalated.from_step(c.id, step) for step in stored.escalations]
        assert sorted(outbox(stepwise, ComplaintEscalated), key=str) == sorted(recorded, key=str)


def test_escalation_job_reaches_every_overdue_complaint_in_batches(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    desk.escalation_batch = 2
    ids = {receive(desk, urgency="urgent").id for _ in range(5)}
    clock.advance(timedelta(hours=1))
    events = desk.escalate_overdue(by=SYSTEM, owners=OWNERS)
    assert {e.complaint_id for e in events} == ids
    assert all(e.to_level == 2 for e in events)
    assert desk.escalate_overdue(by=SYSTEM, owners=OWNERS) == []


def test_escalation_never_passes_the_top_of_the_ladder(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk, urgency="special")
    clock.advance(timedelta(days=20))
    desk.escalate_overdue(by=SYSTEM, owners=OWNERS)
    stored = desk.get_complaint(c.id, by=LI)
    assert (stored.escalation_level, stored.owner_id) == (5, "wang")
    with pytest.raises(RuleViolation) as err:
        desk.escalate_complaint(c.id, by=LI)
    assert err.value.code == "escalation_at_top"


def test_a_complaint_can_be_escalated_by_hand(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    up = desk.escalate_complaint(c.id, by=LI, owners=OWNERS, note="VIP is upset")
    assert (up.escalation_level, up.owner_id) == (2, "zhou")
    (event,) = outbox(store, ComplaintEscalated)
    assert (event.reason, event.owner_id) == (EscalationReason.MANUAL, "zhou")


def test_owners_must_name_roles_of_the_ladder(store: Store) -> None:
    desk, _ = make_desk(store)
    with pytest.raises(ValidationError) as err:
        desk.escalate_overdue(by=SYSTEM, owners={"janitor": "x"})
    assert err.value.errors[0][0] == "owners.janitor"


# -- remedies and authority ---------------------------------------------------------------


def proposed(desk: ComplaintDesk, remedies: list[Remedy], **receipt: Any) -> Complaint:
    c = receive(desk, **receipt)
    desk.assess_complaint(c.id, by=LI)
    desk.start_investigation(c.id, by=LI)
    desk.record_cause(c.id, cause="Damaged seal", by=LI)
    return desk.propose_resolution(c.id, remedies=remedies, by=LI)


def test_a_specialist_may_not_approve_a_remedy_of_substance(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = proposed(desk, [EXPLANATION, EXCHANGE])
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        desk.approve_resolution(c.id, choice=1, by=LI)
    assert snapshot(store) == before
    ok = desk.approve_resolution(c.id, choice=1, by=SUN)
    assert ok.approval is not None
    assert (ok.approval.remedy, ok.approval.by) == (EXCHANGE, "sun")


def test_a_specialist_may_approve_an_explanation(store: Store) -> None:
    # only when the policy relaxes 主管领导批示 for remedies of no substance
    add_customer(store)
    relaxed = attrs.evolve(
        Policy(), complaints=ComplaintPolicy(manager_approves_every_remedy=False)
    )
    desk, _ = make_desk(store, policy=relaxed)
    c = proposed(desk, [EXPLANATION, EXCHANGE])
    assert desk.approve_resolution(c.id, choice=0, by=LI).status is (
        ComplaintStatus.RESOLUTION_APPROVED
    )


def test_a_resolution_is_approved_by_a_manager(store: Store) -> None:
    # 主管领导批示: by default a specialist approves nothing, an explanation included
    add_customer(store)
    desk, _ = make_desk(store)
    c = proposed(desk, [EXPLANATION, EXCHANGE])
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        desk.approve_resolution(c.id, choice=0, by=LI)
    assert snapshot(store) == before
    with pytest.raises(PermissionDenied):
        desk.approve_resolution(c.id, choice=1, by=ZHOU)  # an exchange needs the VP
    approved = desk.approve_resolution(c.id, choice=0, by=ZHOU)
    assert approved.approval is not None
    assert approved.approval.by == ZHOU.id


def test_goodwill_to_an_abnormal_complaint_needs_the_top_role(store: Store) -> None:
    add_customer(store)
    director = {
        "service_director": DEFAULT_ROLE_PERMISSIONS["cs_manager"] | {Permission.APPROVE_REMEDY}
    }
    access = AccessPolicy(
        role_permissions={**DEFAULT_ROLE_PERMISSIONS, **director},
        approval_limits={"sales_vp": None, "general_manager": None, "service_director": "5000"},
    )
    desk, _ = make_desk(store, policy=attrs.evolve(Policy(), access=access))
    head = Actor(id="he", roles={"service_director"})
    goodwill = Remedy(RemedyKind.GOODWILL, "a free kit", Money.of("500", "CNY"))
    normal = proposed(desk, [goodwill])
    assert desk.approve_resolution(normal.id, choice=0, by=head).approval is not None
    abnormal = proposed(desk, [goodwill], nature="abnormal")
    with pytest.raises(PermissionDenied):
        desk.approve_resolution(abnormal.id, choice=0, by=head)
    assert desk.approve_resolution(abnormal.id, choice=0, by=SUN).approval is not None
    large = proposed(desk, [Remedy(RemedyKind.COMPENSATION, "refund", Money.of("9000", "CNY"))])
    with pytest.raises(PermissionDenied):
        desk.approve_resolution(large.id, choice=0, by=head)  # over the director's limit


def test_a_refused_remedy_reopens_the_complaint_one_rung_up(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = approved(desk)
    again = desk.refuse_resolution(c.id, reason="wants a refund", by=LI, owners=OWNERS)
    assert (again.status, again.reopen_count, again.escalation_level, again.owner_id) == (
        ComplaintStatus.INVESTIGATING,
        1,
        2,
        "zhou",
    )
    (event,) = outbox(store, ComplaintEscalated)
    assert event.reason is EscalationReason.CUSTOMER_UNHAPPY


# -- follow-up visits ---------------------------------------------------------------------


def test_the_follow_up_is_planned_outside_the_customers_rest_hours(store: Store) -> None:
    add_customer(store, rest_hours=REST)
    desk, clock = make_desk(store)
    c = approved(desk)
    clock.set(datetime(2026, 11, 2, 22, 30, tzinfo=SHANGHAI))
    c = desk.accept_resolution(c.id, signed_by="Dr Chen", by=LI)
    assert c.follow_up_due == datetime(2026, 11, 5, 22, 30, tzinfo=SHANGHAI)
    assert c.follow_up_planned_at == datetime(2026, 11, 4, 8, tzinfo=SHANGHAI)
    (scheduled,) = outbox(store, FollowUpScheduled)
    assert scheduled.planned_at == c.follow_up_planned_at
    clock.set(datetime(2026, 11, 3, 23, tzinfo=SHANGHAI))
    before = snapshot(store)
    with pytest.raises(RuleViolation) as err:
        desk.record_follow_up(c.id, outcome="satisfied", notes="fine", by=LI)
    assert err.value.code == "quiet_hours"
    assert snapshot(store) == before
    moved = desk.agree_follow_up_time(
        c.id, planned_at=datetime(2026, 11, 4, 6, tzinfo=SHANGHAI), by=LI
    )
    assert moved.follow_up_planned_at == datetime(2026, 11, 4, 8, tzinfo=SHANGHAI)
    clock.set(moved.follow_up_planned_at)
    visited = desk.record_follow_up(c.id, outcome="satisfied", notes="fine", by=LI)
    assert visited.status is ComplaintStatus.FOLLOWED_UP


def test_the_default_rest_hours_apply_to_every_customer_without_their_own(store: Store) -> None:
    # a member with no rest hours on file: the policy's 21:00-08:00 apply (domain.md 3.5)
    add_customer(store, customer_class=CustomerClass.MEMBER)
    desk, clock = make_desk(store)
    assert desk.policy.notifications.default_rest_hours is not None
    c = approved(desk)
    clock.set(datetime(2026, 11, 2, 22, 30, tzinfo=SHANGHAI))
    c = desk.accept_resolution(c.id, signed_by="Dr Chen", by=LI)
    # the next-day call at 22:30 falls in the rest hours: planned for 08:00 the day after
    assert c.follow_up_planned_at == datetime(2026, 11, 4, 8, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 11, 3, 3, tzinfo=SHANGHAI))
    before = snapshot(store)
    with pytest.raises(RuleViolation) as err:
        desk.record_follow_up(c.id, outcome="satisfied", notes="fine", by=LI)
    assert err.value.code == "quiet_hours"
    assert snapshot(store) == before
    clock.set(datetime(2026, 11, 3, 10, tzinfo=SHANGHAI))
    visited = desk.record_follow_up(c.id, outcome="satisfied", notes="fine", by=LI)
    assert visited.status is ComplaintStatus.FOLLOWED_UP


def test_a_dissatisfied_follow_up_reopens_the_complaint(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = resolved(desk)
    clock.advance(timedelta(days=1))
    again = desk.record_follow_up(
        c.id, outcome=FollowUpOutcome.DISSATISFIED, notes="still leaking", by=LI, owners=OWNERS
    )
    assert (again.status, again.reopen_count, again.escalation_level) == (
        ComplaintStatus.INVESTIGATING,
        1,
        2,
    )
    assert again.follow_up_due is None
    (event,) = outbox(store, ComplaintEscalated)
    assert (event.reason, event.owner_id) == (EscalationReason.CUSTOMER_UNHAPPY, "zhou")


def test_missing_follow_ups_list_member_and_vip_complaints_not_visited_in_time(
    store: Store,
) -> None:
    add_customer(store, "CU-M", customer_class=CustomerClass.MEMBER)
    add_customer(store, "CU-V", customer_class=CustomerClass.VIP)
    add_customer(store, "CU-O", customer_class=CustomerClass.ORDINARY)
    add_customer(store, "CU-W", customer_class=CustomerClass.MEMBER)
    desk, clock = make_desk(store)
    member = resolved(desk, "CU-M")
    vip = resolved(desk, "CU-V")
    resolved(desk, "CU-O")
    visited = resolved(desk, "CU-W")
    clock.advance(timedelta(days=1))
    desk.record_follow_up(visited.id, outcome="satisfied", notes="all good", by=LI)
    assert desk.missing_follow_ups(by=LI) == []  # nothing is due yet
    clock.advance(timedelta(days=2, minutes=1))
    missing = desk.missing_follow_ups(by=LI)
    assert {c.id for c in missing} == {member.id, vip.id}
    later = desk.missing_follow_ups(by=LI, since=clock.now())
    assert later == []


# -- statistics ---------------------------------------------------------------------------


def test_statistics_over_hundreds_of_complaints_equal_a_hand_count(store: Store) -> None:
    rng = random.Random(20261102)
    for i in range(5):
        add_customer(store, f"CU-{i}")
    desk, clock = make_desk(store, at=MONDAY - timedelta(days=1))
    receive(desk, "CU-0")  # before the period
    clock.set(MONDAY)
    made: list[Complaint] = []
    for _ in range(300):
        c = desk.receive_complaint(
            f"CU-{rng.randrange(5)}",
            channel=rng.choice(list(ComplaintChannel)),
            urgency=rng.choice(list(ComplaintUrgency)),
            category=rng.choice(list(ComplaintCategory)),
            nature=rng.choice(list(ComplaintNature)),
            description="a complaint",
            by=LI,
        )
        fate = rng.random()
        if fate < 0.3:
            c = desk.assess_complaint(c.id, by=LI)
        elif fate < 0.45:
            c = desk.reject_complaint(c.id, reply="not our product", by=LI)
        made.append(c)
        clock.advance(timedelta(minutes=7))
    clock.set(MONDAY + timedelta(days=40))
    receive(desk, "CU-0")  # after the period
    report = desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=40), by=LI)
    assert report.total == len(made) == 300
    for category, n in Counter(c.category for c in made).items():
        assert report.count(category=category) == n
    for urgency, n in Counter(c.urgency for c in made).items():
        assert report.count(urgency=urgency) == n
    for nature, n in Counter(c.nature for c in made).items():
        assert report.count(nature=nature) == n
    assert report.by_status == dict(Counter(c.status for c in made))
    assert report.by_channel == dict(Counter(c.channel for c in made))
    founded = sum(c.founded is True for c in made)
    rejected = sum(c.founded is False for c in made)
    assert report.founded_rate == founded / (founded + rejected)


def test_statistics_stream_the_store_instead_of_listing_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    receive(desk)

    def no_lists(*_args: object, **_kwargs: object) -> list[object]:
        raise AssertionError("statistics must stream with scan()")

    monkeypatch.setattr(Repository, "find", no_lists)
    assert desk.complaint_statistics(MONDAY, MONDAY + timedelta(hours=1), by=LI).total == 1


def test_statistics_need_a_period(store: Store) -> None:
    desk, _ = make_desk(store)
    with pytest.raises(ValidationError) as err:
        desk.complaint_statistics(MONDAY, MONDAY, by=LI)
    assert err.value.errors[0][0] == "end"


# -- the post-service survey ------------------------------------------------------------


def closed_rejected(desk: ComplaintDesk, customer_id: str = "CU-1") -> Complaint:
    c = receive(desk, customer_id)
    desk.reject_complaint(c.id, reply="It was the courier; we are sorry.", by=LI)
    return desk.close_complaint(c.id, summary="Explained.", by=LI)


def test_closing_a_complaint_requests_the_post_service_survey(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = closed_rejected(desk)
    (survey,) = outbox(store, SurveyRequested)
    assert (survey.subject, survey.subject_id, survey.customer_id) == (
        SurveySubject.COMPLAINT,
        c.id,
        "CU-1",
    )
    assert survey.send_after == MONDAY + Policy().satisfaction.survey_delay


def test_no_post_service_survey_when_the_policy_says_not(store: Store) -> None:
    add_customer(store)
    base = Policy()
    policy = attrs.evolve(
        base, satisfaction=attrs.evolve(base.satisfaction, survey_after_complaint=False)
    )
    desk, _ = make_desk(store, policy=policy)
    closed_rejected(desk)
    assert outbox(store, SurveyRequested) == []


def test_no_second_survey_within_the_cooldown(store: Store) -> None:
    add_customer(store)
    base = Policy()
    policy = attrs.evolve(
        base, satisfaction=attrs.evolve(base.satisfaction, survey_cooldown=timedelta(days=30))
    )
    desk, clock = make_desk(store, policy=policy)
    closed_rejected(desk)
    clock.advance(timedelta(days=2))
    closed_rejected(desk)
    assert len(outbox(store, SurveyRequested)) == 1
    clock.advance(timedelta(days=31))
    closed_rejected(desk)
    assert len(outbox(store, SurveyRequested)) == 2


# -- failures -----------------------------------------------------------------------------


FAILURES: dict[str, tuple[Callable[[ComplaintDesk, Complaint], object], type[CsDomainError]]] = {
    "unknown customer": (lambda d, _c: receive(d, "CU-404"), NotFound),
    "bad category": (lambda d, _c: receive(d, category="weather"), ValidationError),
    "bad channel after numbering": (lambda d, _c: receive(d, channel="pigeon"), ValidationError),
    "description too long": (lambda d, _c: receive(d, description="x" * 20_001), ValidationError),
    "no permission": (lambda d, _c: receive(d, by=CLERK), PermissionDenied),
    "unknown complaint": (lambda d, _c: d.acknowledge("CP-404", by=LI), NotFound),
    "skipping assessment": (lambda d, c: d.start_investigation(c.id, by=LI), InvalidTransition),
    "empty reply": (lambda d, c: d.reject_complaint(c.id, reply=" ", by=LI), ValidationError),
    "resume while working": (lambda d, c: d.resume(c.id, by=LI), InvalidTransition),
    "closing an open complaint": (
        lambda d, c: d.close_complaint(c.id, summary="s", improvement_measure="m", by=LI),
        InvalidTransition,
    ),
    "visit before resolution": (
        lambda d, c: d.record_follow_up(c.id, outcome="satisfied", notes="n", by=LI),
        InvalidTransition,
    ),
    "bad owners": (
        lambda d, c: d.refuse_resolution(c.id, reason="r", by=LI, owners={"x": "y"}),
        ValidationError,
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failed_use_cases_leave_the_store_unchanged(store: Store, case: str) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    complaint = receive(desk)
    action, error = FAILURES[case]
    before = snapshot(store)
    with pytest.raises(error):
        action(desk, complaint)
    assert snapshot(store) == before
    assert receive(desk).id == "CP-202611-0002"  # no number was used up


def test_a_founded_complaint_closes_only_with_an_improvement_measure(store: Store) -> None:
    add_customer(store)
    desk, clock = make_desk(store)
    c = resolved(desk)
    clock.advance(timedelta(days=1))
    desk.record_follow_up(c.id, outcome="satisfied", notes="fine", by=LI)
    before = snapshot(store)
    with pytest.raises(ValidationError) as err:
        desk.close_complaint(c.id, summary="done", by=LI)
    assert err.value.errors[0][0] == "improvement_measure"
    assert snapshot(store) == before


def test_reports_need_view_permission_and_reads_need_complaint_permission(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    nobody = Actor(id="guest", roles=frozenset())
    with pytest.raises(PermissionDenied):
        desk.get_complaint(c.id, by=nobody)
    with pytest.raises(PermissionDenied):
        desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=1), by=nobody)
    with pytest.raises(PermissionDenied):
        desk.missing_follow_ups(by=CLERK)
    assert desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=1), by=CLERK).total == 1
    with pytest.raises(ValidationError):
        desk.get_complaint(c.id, by="li")  # type: ignore[arg-type]


def test_money_of_remedies_stays_decimal_through_the_store(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = proposed(desk, [EXCHANGE])
    stored = desk.get_complaint(c.id, by=LI)
    amount = stored.proposals[0].amount
    assert amount is not None
    assert amount.amount == Decimal("380")


# -- the argument boundary --------------------------------------------------------------


def test_every_public_method_of_the_complaint_desk_is_a_use_case() -> None:
    public = {
        name
        for name, member in vars(ComplaintDesk).items()
        if callable(member) and not name.startswith("_")
    }
    found = use_cases(ComplaintDesk)
    assert public <= set(found)
    for spec in found.values():
        spec.checks()  # every annotation is of the vocabulary


LIMITS = LimitsPolicy(max_short_text=20, max_long_text=50, max_key=30)
TOO_LONG: dict[str, tuple[Callable[[ComplaintDesk, Complaint], object], str]] = {
    "description": (lambda d, _c: receive(d, description="x" * 51), "description"),
    "order id": (lambda d, _c: receive(d, order_id="SO-" + "9" * 28), "order_id"),
    "owner id": (lambda d, c: d.assign(c.id, owner_id="p" * 31, by=LI), "owner_id"),
    "department": (
        lambda d, c: d.assess_complaint(c.id, department="q" * 21, by=LI),
        "department",
    ),
    "assessment note": (lambda d, c: d.assess_complaint(c.id, note="n" * 51, by=LI), "note"),
    "cause": (lambda d, c: d.record_cause(c.id, cause="c" * 51, by=LI), "cause"),
    "responsible person": (
        lambda d, c: d.record_cause(c.id, cause="seal", responsible_person="z" * 21, by=LI),
        "responsible_person",
    ),
    "remedy description": (
        lambda d, c: d.propose_resolution(
            c.id, remedies=[Remedy(RemedyKind.EXPLANATION, "r" * 51)], by=LI
        ),
        "remedies.0.description",
    ),
    "approval note": (
        lambda d, c: d.approve_resolution(c.id, choice=0, note="n" * 51, by=SUN),
        "note",
    ),
    "signature": (lambda d, c: d.accept_resolution(c.id, signed_by="s" * 21, by=LI), "signed_by"),
    "hold reason": (lambda d, c: d.put_on_hold(c.id, reason="w" * 51, by=LI), "reason"),
    "owner of a rung": (
        lambda d, c: d.escalate_complaint(c.id, owners={"cs_manager": "m" * 31}, by=LI),
        "owners.cs_manager",
    ),
    "escalation note": (lambda d, c: d.escalate_complaint(c.id, note="e" * 51, by=LI), "note"),
    "visit notes": (
        lambda d, c: d.record_follow_up(c.id, outcome="satisfied", notes="v" * 51, by=LI),
        "notes",
    ),
    "summary": (lambda d, c: d.close_complaint(c.id, summary="s" * 51, by=LI), "summary"),
}


@pytest.mark.parametrize("case", list(TOO_LONG))
def test_free_text_and_ids_over_the_policy_limits_are_refused(store: Store, case: str) -> None:
    add_customer(store)
    desk, _ = make_desk(store, policy=Policy(limits=LIMITS))
    complaint = receive(desk)
    action, path = TOO_LONG[case]
    before = snapshot(store)
    with pytest.raises(ValidationError) as err:
        action(desk, complaint)
    assert err.value.errors[0][0] == path
    assert snapshot(store) == before


BAD_IDS = ["", "   ", "CP\x00-1", "CP-1\n", "x" * 101]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_are_short_non_blank_keys_without_control_characters(store: Store, bad: str) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: desk.get_complaint(bad, by=LI), "complaint_id"),
        (lambda: desk.acknowledge(bad, by=LI), "complaint_id"),
        (lambda: receive(desk, bad), "customer_id"),
        (lambda: receive(desk, order_id=bad), "order_id"),
        (lambda: desk.assign(c.id, owner_id=bad, by=LI), "owner_id"),
    ]
    for action, path in calls:
        with pytest.raises(ValidationError) as err:
            action()
        assert err.value.errors[0][0] == path


@pytest.mark.parametrize("flag", ["no", "", 0, 1, None])
def test_flags_take_only_true_or_false(store: Store, flag: object) -> None:
    desk, _ = make_desk(store)
    with pytest.raises(ValidationError) as err:
        desk.breaches(by=LI, include_met=flag)  # type: ignore[arg-type]
    assert err.value.errors[0][0] == "include_met"


def _deeply_nested(depth: int = 50_000) -> list[object]:
    nested: list[object] = []
    for _ in range(depth):
        nested = [nested]
    return nested


def test_extreme_arguments_are_validation_errors(store: Store) -> None:
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    far = datetime(9999, 12, 31, 20, tzinfo=ZoneInfo("America/New_York"))
    deep = _deeply_nested()
    for action in (
        lambda: desk.propose_resolution(c.id, remedies=deep, by=LI),  # type: ignore[arg-type]
        lambda: desk.escalate_overdue(by=SYSTEM, owners={"specialist": deep}),  # type: ignore[dict-item]
        lambda: desk.breaches(by=LI, at=far),
        lambda: desk.missing_follow_ups(by=LI, since=far),
        lambda: desk.complaint_statistics(MONDAY, far, by=LI),
        lambda: desk.assess_complaint(c.id, answer_promised_by=far, by=LI),
        lambda: desk.agree_follow_up_time(c.id, planned_at=far, by=LI),
        lambda: desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=1), top=2**64, by=LI),
    ):
        with pytest.raises(ValidationError):
            action()


# -- personal data in complaints (issue #19 item 1) ----------------------------------------

PRIVATE = "Chen Wei (138 0013 8000, chen.wei@example.com) says the vial leaked."


def private_customer(store: Store, customer_id: str = "CU-1", **fields: Any) -> Customer:
    customer = Customer(
        id=customer_id,
        code=f"SH-202611-Chen Wei-{customer_id}",
        name="Chen Wei",
        phone="13800138000",
        email="chen.wei@example.com",
        **fields,
    )
    with store.unit_of_work() as uow:
        uow.repo(CUSTOMERS).add(customer)
    return customer


def access_records(store: Store) -> list[tuple[str, str, str]]:
    with store.unit_of_work(readonly=True) as uow:
        records = uow.repo(ACCESS_LOG).find(order_by="key")
    return [(r.customer_id, r.actor_id, r.purpose) for r in records]


def test_reading_a_complaint_leaves_an_access_record(store: Store) -> None:
    # Rule: nobody reads a customer's data without it being on record (docs/domain.md 1)
    private_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk, description=PRIVATE)
    assert access_records(store) == []
    shown = desk.get_complaint(c.id, by=LI)
    assert shown.description == PRIVATE
    assert access_records(store) == [("CU-1", "li", "complaint")]


def test_a_complaint_read_without_customer_read_has_the_personal_data_masked(
    store: Store,
) -> None:
    # Rule: an actor without customer.read sees no personal data and records nothing
    private_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk, description=PRIVATE)
    shown = desk.get_complaint(c.id, by=SYSTEM)
    assert shown.description == "[masked] ([masked], [masked]) says the vial leaked."
    assert (shown.id, shown.customer_id, shown.status) == (c.id, "CU-1", c.status)
    assert access_records(store) == []
    assert desk.get_complaint(c.id, by=LI).description == PRIVATE  # the store keeps it


def test_the_steps_return_the_complaint_masked_to_an_actor_without_customer_read(
    store: Store,
) -> None:
    # Rule: no path returns personal data to an actor without customer.read
    private_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk, description=PRIVATE, by=SYSTEM)
    assert "Chen Wei" not in c.description
    acknowledged = desk.acknowledge(c.id, by=SYSTEM)
    assert "13800138000" not in acknowledged.description
    assert "138 0013 8000" not in acknowledged.description
    assert acknowledged.first_response_at == MONDAY
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(COMPLAINTS).get(c.id).description == PRIVATE


def test_missing_follow_ups_show_complaints_as_a_read_does(store: Store) -> None:
    # Rule: a report that lists complaints records the access or masks the data
    private_customer(store, customer_class=CustomerClass.MEMBER)
    desk, clock = make_desk(store)
    c = approved(desk)
    desk.accept_resolution(c.id, signed_by="Chen Wei", by=LI)
    clock.advance(timedelta(days=5))
    (masked,) = desk.missing_follow_ups(by=SYSTEM)
    assert masked.acceptance is not None
    assert masked.acceptance.signed_by == "[masked]"
    assert access_records(store) == []
    (shown,) = desk.missing_follow_ups(by=LI)
    assert shown.acceptance is not None
    assert shown.acceptance.signed_by == "Chen Wei"
    assert access_records(store) == [("CU-1", "li", "missing follow-ups")]


def test_the_statistics_table_lists_causes_without_personal_data(store: Store) -> None:
    # Rule: a statistic needs no personal data; the causes are masked for everyone
    private_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    desk.assess_complaint(c.id, by=LI)
    desk.start_investigation(c.id, by=LI)
    desk.record_cause(c.id, cause="Chen Wei stored it warm", by=LI)
    report = desk.complaint_statistics(MONDAY, MONDAY + timedelta(days=1), by=ZHOU)
    assert [(row.cause, row.count) for row in report.top_causes] == [("[masked] stored it warm", 1)]
    assert access_records(store) == []


# -- authority (issue #19 items 2 and 3) --------------------------------------------------


@pytest.mark.parametrize("currency", ["KWD", "USD", "EUR"])
def test_an_approval_limit_in_yuan_does_not_cover_another_currency(
    store: Store, currency: str
) -> None:
    # Rule: approval limits are amounts with a currency (docs/domain.md 3.6)
    add_customer(store)
    limited = AccessPolicy(approval_limits={"department_manager": "500"})
    desk, _ = make_desk(store, policy=attrs.evolve(Policy(), access=limited))
    foreign = Remedy(RemedyKind.COMPENSATION, "compensation", Money.of("499", currency))
    c = proposed(desk, [foreign])
    before = snapshot(store)
    with pytest.raises(RuleViolation) as refused:
        desk.approve_resolution(c.id, choice=0, by=ZHOU)
    assert refused.value.code == "approval_limit_currency"
    assert snapshot(store) == before


def test_an_approval_limit_in_yuan_covers_a_smaller_amount_in_yuan(store: Store) -> None:
    # Rule: approval limits are amounts with a currency (docs/domain.md 3.6)
    add_customer(store)
    limited = AccessPolicy(approval_limits={"department_manager": "500"})
    desk, _ = make_desk(store, policy=attrs.evolve(Policy(), access=limited))
    yuan = Remedy(RemedyKind.COMPENSATION, "compensation", Money.of("499", "CNY"))
    c = proposed(desk, [yuan])
    done = desk.approve_resolution(c.id, choice=0, by=ZHOU)
    assert done.approval is not None
    assert (done.status, done.approval.remedy.amount) == (
        ComplaintStatus.RESOLUTION_APPROVED,
        Money.of("499", "CNY"),
    )


def test_approval_is_refused_before_the_complaint_is_loaded(store: Store) -> None:
    # Rule: permission before load: an outsider learns nothing about which ids exist
    add_customer(store)
    desk, _ = make_desk(store)
    c = proposed(desk, [EXPLANATION])
    for complaint_id in (c.id, "CP-000000-9999"):
        with pytest.raises(PermissionDenied):
            desk.approve_resolution(complaint_id, choice=0, by=CLERK)


def test_a_complaint_names_a_customer_and_an_order_that_exist(store: Store) -> None:
    # Rule: linked ids must exist
    add_customer(store)
    desk, _ = make_desk(store)
    before = snapshot(store)
    with pytest.raises(NotFound):
        receive(desk, "CU-404")
    with pytest.raises(NotFound):
        receive(desk, order_id="SO-404")
    assert snapshot(store) == before


# -- written statements, penalties, the visit script (issue #20) ---------------------------


def test_a_customer_insisting_on_an_unreasonable_demand_gives_a_written_statement(
    store: Store,
) -> None:
    # Rule: 要求其出具无理要求的书面材料, recorded with reference, date and who recorded it
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk, nature="abnormal")
    clock.advance(timedelta(hours=1))
    done = desk.record_written_statement(
        c.id, reference="WS-2026-11-001", dated=date(2026, 11, 1), by=LI
    )
    (statement,) = done.statements
    assert (statement.reference, statement.dated, statement.by, statement.at) == (
        "WS-2026-11-001",
        date(2026, 11, 1),
        "li",
        MONDAY + timedelta(hours=1),
    )
    again = desk.record_written_statement(c.id, reference="WS-2026-11-001", by=LI)
    assert again.statements == done.statements
    today = desk.record_written_statement(c.id, reference="WS-2026-11-002", by=LI)
    assert today.statements[-1].dated == date(2026, 11, 2)


def test_a_written_statement_belongs_to_an_abnormal_complaint_not_yet_closed(
    store: Store,
) -> None:
    # Rule: only an unreasonable (abnormal) demand asks for a statement; not after closing
    add_customer(store)
    desk, _ = make_desk(store)
    normal = receive(desk)
    before = snapshot(store)
    with pytest.raises(RuleViolation) as refused:
        desk.record_written_statement(normal.id, reference="WS-1", by=LI)
    assert refused.value.code == "written_statement_not_abnormal"
    abnormal = receive(desk, nature="abnormal")
    with pytest.raises(ValidationError) as future:
        desk.record_written_statement(abnormal.id, reference="WS-1", dated=date(2026, 11, 3), by=LI)
    assert future.value.errors[0][0] == "dated"
    desk.reject_complaint(abnormal.id, reply="Beyond the agreement, we are sorry.", by=LI)
    desk.close_complaint(abnormal.id, summary="Explained.", by=LI)
    before = snapshot(store)
    with pytest.raises(RuleViolation) as closed:
        desk.record_written_statement(abnormal.id, reference="WS-1", by=LI)
    assert closed.value.code == "statement_after_closing"
    assert snapshot(store) == before


def visited(desk: ComplaintDesk, clock: FixedClock) -> Complaint:
    c = resolved(desk)
    clock.advance(timedelta(days=1))
    return desk.record_follow_up(c.id, outcome="satisfied", notes="all good", by=LI)


def test_the_responsible_staffs_penalty_is_recorded_at_closing(store: Store) -> None:
    # Rule: responsible staff may be penalised (docs/domain.md 3.2 step 5): who, what, by whom
    add_customer(store)
    desk, clock = make_desk(store)
    c = visited(desk, clock)
    closed = desk.close_complaint(
        c.id,
        summary="Seal fixed.",
        improvement_measure="Check seals",
        penalty="warning",
        by=ZHOU,
    )
    assert closed.penalty is not None
    assert (closed.penalty.person, closed.penalty.penalty, closed.penalty.by) == (
        "zhao",
        "warning",
        "zhou",
    )


def test_the_penalised_staff_member_does_not_record_their_own_penalty(store: Store) -> None:
    # Rule: four-eyes, identities compared normalised (auth.same_identity)
    add_customer(store)
    desk, clock = make_desk(store)
    c = visited(desk, clock)
    before = snapshot(store)
    zhao = Actor(id=" Zhao", roles={"specialist"})
    with pytest.raises(RuleViolation) as refused:
        desk.close_complaint(
            c.id,
            summary="Fixed.",
            improvement_measure="Check seals",
            penalty="warning",
            by=zhao,
        )
    assert refused.value.code == "penalty_by_penalised"
    assert snapshot(store) == before


def test_a_rejected_complaint_penalises_nobody(store: Store) -> None:
    # Rule: only a complaint found at the company's fault penalises the responsible staff
    add_customer(store)
    desk, _ = make_desk(store)
    c = receive(desk)
    desk.reject_complaint(c.id, reply="It was the courier; we are sorry.", by=LI)
    with pytest.raises(RuleViolation) as refused:
        desk.close_complaint(c.id, summary="Explained.", penalty="warning", penalised="zhao", by=LI)
    assert refused.value.code == "penalty_without_fault"


def test_the_policy_may_require_a_penalty_when_the_company_is_at_fault(store: Store) -> None:
    # Rule: policy decides whether a complaint found at the company's fault needs a penalty
    add_customer(store)
    strict = attrs.evolve(Policy(), complaints=ComplaintPolicy(penalty_required_at_fault=True))
    desk, clock = make_desk(store, policy=strict)
    c = visited(desk, clock)
    before = snapshot(store)
    with pytest.raises(RuleViolation) as refused:
        desk.close_complaint(c.id, summary="Fixed.", improvement_measure="Check seals", by=LI)
    assert refused.value.code == "penalty_required"
    assert snapshot(store) == before
    rejected = closed_rejected(desk)  # not at fault: closes without one
    assert rejected.penalty is None


def test_the_visit_script_answer_is_stored_with_the_visit(store: Store) -> None:
    # Rule: satisfied -> ask for suggestions; not satisfied or neutral -> what to improve
    add_customer(store)
    desk, clock = make_desk(store)
    c = resolved(desk)
    clock.advance(timedelta(days=1))
    with pytest.raises(ValidationError) as wrong:
        desk.record_follow_up(c.id, outcome="satisfied", notes="fine", improvements="faster", by=LI)
    assert wrong.value.errors[0][0] == "improvements"
    done = desk.record_follow_up(
        c.id, outcome="satisfied", notes="fine", suggestions="send an SMS first", by=LI
    )
    (visit,) = done.follow_ups
    assert (visit.suggestions, visit.improvements) == ("send an SMS first", "")


def test_the_policy_may_require_the_visit_script_answer(store: Store) -> None:
    # Rule: the visit record is complete: the script's answer is on record
    add_customer(store)
    strict = attrs.evolve(Policy(), complaints=ComplaintPolicy(visit_answer_required=True))
    desk, clock = make_desk(store, policy=strict)
    c = resolved(desk)
    clock.advance(timedelta(days=1))
    before = snapshot(store)
    with pytest.raises(RuleViolation) as refused:
        desk.record_follow_up(c.id, outcome="neutral", notes="so-so", by=LI)
    assert refused.value.code == "visit_answer_missing"
    assert snapshot(store) == before
    done = desk.record_follow_up(
        c.id, outcome="neutral", notes="so-so", improvements="call back sooner", by=LI
    )
    assert done.follow_ups[-1].improvements == "call back sooner"


def test_the_monthly_visit_report_sums_up_visits_outcomes_and_answers(store: Store) -> None:
    # Rule: the visit records go into a visit log and a monthly summary report (3.5)
    private_customer(store)
    add_customer(store, "CU-2")
    desk, clock = make_desk(store)
    first = resolved(desk, "CU-1")
    clock.advance(timedelta(days=1))
    desk.record_follow_up(
        first.id, outcome="satisfied", notes="ok", suggestions="ask Chen Wei first", by=LI
    )
    clock.set(datetime(2026, 12, 1, 10, tzinfo=SHANGHAI))
    second = resolved(desk, "CU-2")
    clock.advance(timedelta(days=1))
    desk.record_follow_up(
        second.id, outcome="dissatisfied", notes="no", improvements="faster parts", by=LI
    )
    start, end = datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2027, 1, 1, tzinfo=SHANGHAI)
    november, december = desk.visit_report(start, end, by=ZHOU)
    assert (november.month, november.visits, december.month, december.visits) == (
        "2026-11",
        1,
        "2026-12",
        1,
    )
    assert november.outcomes[FollowUpOutcome.SATISFIED] == 1
    assert december.outcomes[FollowUpOutcome.DISSATISFIED] == 1
    assert [r.text for r in november.suggestions] == ["ask Chen Wei first"]
    assert [r.text for r in december.improvements] == ["faster parts"]
    assert (november.satisfied_rate, december.satisfied_rate) == (1.0, 0.0)
    assert sorted(access_records(store)) == [
        ("CU-1", "zhou", "visit report"),
        ("CU-2", "zhou", "visit report"),
    ]
    masked, _ = desk.visit_report(start, end, by=CLERK)
    assert [r.text for r in masked.suggestions] == ["ask [masked] first"]
    assert len(access_records(store)) == 2


def test_the_follow_up_visit_goes_into_the_customers_interaction_log(store: Store) -> None:
    # Rule: follow-ups write to the customer's interaction log (联系者报告制度, with the visit).
    add_customer(store)
    desk, clock = make_desk(store)
    c = receive(desk)
    desk.acknowledge(c.id, by=LI)
    desk.assess_complaint(c.id, by=LI, answer_promised_by=MONDAY + timedelta(days=2))
    desk.start_investigation(c.id, by=LI)
    desk.record_cause(c.id, cause="Damaged seal", by=LI)
    desk.propose_resolution(c.id, remedies=[EXPLANATION], by=LI)
    desk.approve_resolution(c.id, choice=0, by=SUN)
    c = desk.accept_resolution(c.id, signed_by="Dr Chen", by=LI)
    clock.set(c.follow_up_planned_at)
    desk.record_follow_up(c.id, outcome="satisfied", notes="fine", method="phone", by=LI)
    with store.unit_of_work(readonly=True) as uow:
        [entry] = uow.repo(INTERACTIONS).find(customer_id=c.customer_id)
    assert (entry.channel, entry.source, entry.subject_id) == ("call", "complaint_follow_up", c.id)
    assert entry.at == clock.now()


def test_the_ladders_owners_can_be_given_once_for_the_desk(store: Store) -> None:
    # Rule: owners= need not be passed on every call: the desk's ladder_owners is the default,
    # and a call's own owners= still wins.
    add_customer(store)
    clock = FixedClock(MONDAY)
    desk = ComplaintDesk(store, clock=clock, ladder_owners=OWNERS)
    urgent = receive(desk, urgency="urgent")
    clock.advance(timedelta(hours=73))
    desk.escalate_overdue(by=SYSTEM)
    stored = desk.get_complaint(urgent.id, by=LI)
    assert [step.owner_id for step in stored.escalations] == ["zhou", "qian", "call-1"]
    with pytest.raises(ValidationError) as bad:
        ComplaintDesk(store, ladder_owners={"janitor": "x"})
    assert bad.value.errors[0][0] == "ladder_owners.janitor"
