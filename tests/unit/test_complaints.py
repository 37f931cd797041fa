"""Complaint rules (docs/domain.md 3): lifecycle, SLA on team calendars, escalation, visits."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.complaints import (
    COMPLAINT_LIFECYCLE,
    COMPLAINT_TRANSITIONS,
    CONCLUDED_STATUSES,
    OPEN_STATUSES,
    Approval,
    Complaint,
    ComplaintCategory,
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintNature,
    ComplaintPolicy,
    ComplaintReceived,
    ComplaintStatistics,
    ComplaintStatus,
    ComplaintStatusChanged,
    ComplaintUrgency,
    DurationSketch,
    EscalationReason,
    EscalationStep,
    FollowUpOutcome,
    FollowUpScheduled,
    Remedy,
    RemedyKind,
    SlaKind,
    SlaOutcome,
    SlaPolicy,
    SlaTarget,
    TopCounter,
    WrittenStatement,
    breaches,
    check_visit_answers,
    complaint_events,
    escalate_overdue,
    is_breached,
    missing_follow_ups,
    plan_follow_up,
    receive_complaint,
    sla_breaches,
    visit_report,
)
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.lifecycle import command_table, command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_complaints import (
    complaint_calendars,
    complaint_policies,
    complaints,
    remedies,
)


S = ComplaintStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ACCESS = AccessPolicy()
HANDLER = Actor(id="li", roles=frozenset({"specialist"}))
MANAGER = Actor(id="zhou", roles=frozenset({"department_manager"}))
VP = Actor(id="sun", roles=frozenset({"sales_vp"}))
GM = Actor(id="wang", roles=frozenset({"general_manager"}))
WAREHOUSE = Actor(id="wu", roles=frozenset({"warehouse"}))
POLICY = ComplaintPolicy()
ALWAYS = BusinessCalendar.always()
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
REST = QuietHours(start=time(22), end=time(8), tz="Asia/Shanghai")
OWNERS = {
    "specialist": "li",
    "department_manager": "zhou",
    "cs_manager": "qian",
    "call_team": "call-1",
    "general_manager": "wang",
}
T0 = datetime(2024, 6, 17, 10, tzinfo=SHANGHAI)  # a Monday morning


def receive(
    *,
    at: datetime = T0,
    urgency: str = "ordinary",
    nature: str = "normal",
    calendar: BusinessCalendar = OFFICE,
    policy: ComplaintPolicy = POLICY,
    customer_id: str = "CU-1",
    owners: dict[str, str] | None = None,
) -> Complaint:
    return receive_complaint(
        id="CP-1",
        customer_id=customer_id,
        channel="phone",
        urgency=urgency,
        category="product_quality",
        nature=nature,
        description="the vial leaked on arrival",
        at=at,
        by=HANDLER,
        access=ACCESS,
        policy=policy,
        calendar=calendar,
        owners=owners,
    )


def investigated(complaint: Complaint, at: datetime) -> Complaint:
    c = complaint.assess(at=at, by=HANDLER, access=ACCESS, policy=POLICY)
    c = c.start_investigation(at=at, by=HANDLER, access=ACCESS)
    return c.record_cause(cause="damaged seal", at=at, by=HANDLER, access=ACCESS)


def proposed(complaint: Complaint, at: datetime, *options: Remedy) -> Complaint:
    chosen = options or (Remedy(RemedyKind.EXCHANGE, "a new vial"),)
    return investigated(complaint, at).propose_resolution(
        remedies=chosen, at=at, by=HANDLER, access=ACCESS
    )


def approved(complaint: Complaint, at: datetime) -> Complaint:
    return proposed(complaint, at).approve_resolution(choice=0, at=at, by=GM, access=ACCESS)


def resolved(complaint: Complaint, at: datetime, **kwargs: Any) -> Complaint:
    return approved(complaint, at).accept_resolution(
        signed_by="Dr Chen", at=at, by=HANDLER, access=ACCESS, policy=POLICY, **kwargs
    )


# -- lifecycle ----------------------------------------------------------------------------


def test_transition_table_is_well_formed() -> None:
    assert (
        transition_table_problems(
            COMPLAINT_TRANSITIONS, list(ComplaintStatus), [S.RECEIVED], [S.CLOSED]
        )
        == []
    )
    assert command_table_problems(COMPLAINT_LIFECYCLE) == []


def test_the_docs_show_the_command_table() -> None:
    page = (Path(__file__).parents[2] / "docs" / "complaints.md").read_text(encoding="utf-8")
    table = command_table(COMPLAINT_LIFECYCLE)
    start = page.index(table)  # the page holds the rendered table, as one block:
    assert page[start - 2 : start] == "\n\n"  # nothing above it
    assert page[start + len(table) :].startswith("\n\n")  # and no row more below
    assert page.count("| command | from | to |") == 1


def test_every_status_leaves_only_through_the_commands_of_the_table() -> None:
    for source, targets in COMPLAINT_TRANSITIONS.items():
        reached = {
            command.target
            for command in COMPLAINT_LIFECYCLE.commands.values()
            if source in command.sources
        }
        assert reached == set(targets), source


def test_a_refused_command_names_the_action_and_what_comes_first() -> None:
    with pytest.raises(InvalidTransition) as err:
        receive().start_investigation(at=T0, by=HANDLER, access=ACCESS)
    assert (err.value.action, err.value.hint) == (
        "start_investigation",
        "assess the complaint first",
    )
    assert str(err.value) == (
        "complaint 'CP-1' cannot start_investigation while received: assess the complaint first"
    )
    with pytest.raises(InvalidTransition) as err:
        approved(receive(), T0).record_follow_up(
            outcome="satisfied",
            notes="fine",
            at=T0,
            by=HANDLER,
            access=ACCESS,
            policy=POLICY,
            calendar=OFFICE,
        )
    assert str(err.value) == (
        "complaint 'CP-1' cannot record_follow_up while resolution_approved: "
        "record the customer's acceptance first"
    )


def test_resume_without_a_hold_is_refused_as_the_resume_command() -> None:
    with pytest.raises(InvalidTransition) as err:
        receive().resume(at=T0, by=HANDLER, access=ACCESS, policy=POLICY, calendar=OFFICE)
    assert err.value.action == "resume"
    assert str(err.value) == (
        "complaint 'CP-1' cannot resume while received: put the complaint on hold first"
    )


def test_resume_returns_through_the_command_of_the_status_the_hold_began_in() -> None:
    held = receive().assess(at=T0, by=HANDLER, access=ACCESS, policy=POLICY)
    held = held.put_on_hold(reason="waiting", at=T0, by=HANDLER, access=ACCESS)
    back = held.resume(at=T0, by=HANDLER, access=ACCESS, policy=POLICY, calendar=OFFICE)
    assert back.status is S.ASSESSED
    assert (back.history[-1].from_, back.history[-1].to) == ("on_hold", "assessed")


def test_on_hold_is_reachable_from_every_working_state_and_returns_to_them() -> None:
    working = OPEN_STATUSES - {S.ON_HOLD}
    assert all(S.ON_HOLD in COMPLAINT_TRANSITIONS[s] for s in working)
    assert COMPLAINT_TRANSITIONS[S.ON_HOLD] == working


def test_received_complaint_records_complainant_time_channel_content_and_category() -> None:
    c = receive()
    assert (c.customer_id, c.channel, c.category, c.description) == (
        "CU-1",
        "phone",
        "product_quality",
        "the vial leaked on arrival",
    )
    assert c.received_at == T0
    assert c.status is S.RECEIVED
    assert [(h.from_, h.to, h.by) for h in c.history] == [(None, "received", "li")]


def test_receiving_a_complaint_needs_complaint_handling_permission() -> None:
    with pytest.raises(PermissionDenied):
        receive_complaint(
            id="CP-2",
            customer_id="CU-1",
            channel="phone",
            urgency="ordinary",
            category="service",
            description="rude driver",
            at=T0,
            by=WAREHOUSE,
            access=ACCESS,
            policy=POLICY,
            calendar=OFFICE,
        )


def test_bad_classification_is_a_validation_error_with_the_field_path() -> None:
    with pytest.raises(ValidationError) as err:
        receive_complaint(
            id="CP-2",
            customer_id="CU-1",
            channel="carrier pigeon",
            urgency="ordinary",
            category="service",
            description="late",
            at=T0,
            by=HANDLER,
            access=ACCESS,
            policy=POLICY,
            calendar=OFFICE,
        )
    assert err.value.errors[0][0] == "channel"


def test_naive_receipt_time_is_rejected() -> None:
    with pytest.raises(ValidationError):
        receive(at=datetime(2024, 6, 17, 10))


def test_abnormal_complaint_is_recorded_and_handled_but_flagged() -> None:
    c = receive(nature="abnormal")
    assert c.nature is ComplaintNature.ABNORMAL
    assert investigated(c, T0).status is S.INVESTIGATING


def test_unfounded_complaint_is_rejected_with_a_tactful_reply_and_still_counted() -> None:
    c = receive().reject(
        reply="The colour change is within the specification; we explained why.",
        at=T0 + timedelta(minutes=10),
        by=HANDLER,
        access=ACCESS,
    )
    assert c.status is S.REJECTED
    assert c.founded is False
    assert c.reply.startswith("The colour change")
    assert c.first_response_at == T0 + timedelta(minutes=10)
    stats = ComplaintStatistics(OFFICE).add(c).report()
    assert stats.total == 1
    assert stats.founded_rate == 0.0


def test_rejection_needs_a_reply() -> None:
    with pytest.raises(ValidationError):
        receive().reject(reply="  ", at=T0, by=HANDLER, access=ACCESS)


def test_founded_assessment_names_the_policy_department_for_the_category() -> None:
    c = receive().assess(
        at=T0,
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        answer_promised_by=T0 + timedelta(days=2),
    )
    assert c.founded is True
    assert c.department == "quality"
    assert c.answer_promised_by == T0 + timedelta(days=2)


def test_assessment_counts_as_the_first_response() -> None:
    c = receive().assess(at=T0 + timedelta(minutes=5), by=HANDLER, access=ACCESS, policy=POLICY)
    assert c.first_response_at == T0 + timedelta(minutes=5)


def test_acknowledgement_records_the_first_response_only_once() -> None:
    first = receive().acknowledge(at=T0 + timedelta(minutes=3), by=HANDLER, access=ACCESS)
    again = first.acknowledge(at=T0 + timedelta(minutes=9), by=HANDLER, access=ACCESS)
    assert again.first_response_at == T0 + timedelta(minutes=3)
    assert again.history == first.history


def test_investigation_comes_before_the_remedy() -> None:
    c = receive().assess(at=T0, by=HANDLER, access=ACCESS, policy=POLICY)
    c = c.start_investigation(at=T0, by=HANDLER, access=ACCESS)
    with pytest.raises(RuleViolation) as err:
        c.propose_resolution(
            remedies=[Remedy(RemedyKind.EXPLANATION, "why")], at=T0, by=HANDLER, access=ACCESS
        )
    assert err.value.code == "cause_required"


def test_cause_and_responsible_person_are_recorded_while_investigating() -> None:
    c = receive().assess(at=T0, by=HANDLER, access=ACCESS, policy=POLICY)
    with pytest.raises(RuleViolation):
        c.record_cause(cause="seal", at=T0, by=HANDLER, access=ACCESS)
    c = c.start_investigation(at=T0, by=HANDLER, access=ACCESS).record_cause(
        cause="seal", responsible_person="zhao", at=T0, by=HANDLER, access=ACCESS
    )
    assert (c.cause, c.responsible_person) == ("seal", "zhao")


def test_status_cannot_skip_the_loop() -> None:
    with pytest.raises(InvalidTransition):
        receive().start_investigation(at=T0, by=HANDLER, access=ACCESS)
    with pytest.raises(InvalidTransition):
        receive().close(summary="done", improvement_measure="x", at=T0, by=HANDLER, access=ACCESS)


def test_command_time_cannot_go_backwards() -> None:
    c = receive().assess(at=T0 + timedelta(hours=1), by=HANDLER, access=ACCESS, policy=POLICY)
    with pytest.raises(ValidationError) as err:
        c.start_investigation(at=T0, by=HANDLER, access=ACCESS)
    assert err.value.errors[0][0] == "at"


def test_manager_send_back_is_not_a_reopen() -> None:
    c = proposed(receive(), T0).send_back(
        reason="look for a cheaper fix", at=T0, by=MANAGER, access=ACCESS
    )
    assert c.status is S.INVESTIGATING
    assert c.reopen_count == 0


def test_full_closed_loop_from_receipt_to_closure() -> None:
    c = resolved(receive(), T0 + timedelta(hours=1), quiet_hours=REST)
    planned = c.follow_up_planned_at
    assert planned is not None
    c = c.record_follow_up(
        outcome="satisfied",
        notes="asked for suggestions: faster courier",
        at=planned,
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
        quiet_hours=REST,
    )
    c = c.close(
        summary="seal failure in batch 7",
        improvement_measure="seal check at packing",
        at=planned + timedelta(hours=1),
        by=HANDLER,
        access=ACCESS,
    )
    assert c.status is S.CLOSED
    assert [h.to for h in c.history] == [
        "received",
        "assessed",
        "investigating",
        "resolution_proposed",
        "resolution_approved",
        "resolved",
        "followed_up",
        "closed",
    ]
    assert c.closed_at == planned + timedelta(hours=1)


def test_closing_a_founded_complaint_needs_summary_and_improvement_measure() -> None:
    c = resolved(receive(), T0)
    c = c.record_follow_up(
        outcome="neutral",
        notes="asked what to improve",
        at=T0 + timedelta(days=1),
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
    )
    with pytest.raises(ValidationError) as err:
        c.close(summary="done", at=T0 + timedelta(days=1), by=HANDLER, access=ACCESS)
    assert err.value.errors[0][0] == "improvement_measure"
    with pytest.raises(ValidationError):
        c.close(
            summary=" ",
            improvement_measure="x",
            at=T0 + timedelta(days=1),
            by=HANDLER,
            access=ACCESS,
        )


def test_rejected_complaint_closes_without_an_improvement_measure() -> None:
    c = receive().reject(reply="explained", at=T0, by=HANDLER, access=ACCESS)
    c = c.close(summary="explained the spec", at=T0, by=HANDLER, access=ACCESS)
    assert c.status is S.CLOSED


# -- authority (docs/domain.md 3.6) -------------------------------------------------------------


def test_refund_and_compensation_need_an_amount() -> None:
    with pytest.raises(ValidationError) as err:
        Remedy(RemedyKind.REFUND, "money back")
    assert err.value.errors[0][0] == "amount"
    with pytest.raises(ValidationError):
        Remedy(RemedyKind.COMPENSATION, "for the delay", Money.zero("CNY"))


def test_explanation_and_referral_carry_no_amount() -> None:
    with pytest.raises(ValidationError):
        Remedy(RemedyKind.EXPLANATION, "why", Money.of("1", "CNY"))
    assert not Remedy(RemedyKind.REFERRAL, "to the consumer association").is_substantive


def test_substantive_remedy_needs_approve_remedy_permission() -> None:
    c = proposed(receive(), T0, Remedy(RemedyKind.EXCHANGE, "new vial"))
    with pytest.raises(PermissionDenied):
        c.approve_resolution(choice=0, at=T0, by=MANAGER, access=ACCESS)
    assert c.approve_resolution(choice=0, at=T0, by=VP, access=ACCESS).approval is not None


def test_amount_above_the_approvers_limit_is_denied() -> None:
    access = AccessPolicy(
        role_permissions={
            **DEFAULT_ROLE_PERMISSIONS,
            "department_manager": DEFAULT_ROLE_PERMISSIONS["department_manager"]
            | {Permission.APPROVE_REMEDY},
        },
        approval_limits={"department_manager": Decimal(500), "sales_vp": None},
    )
    small = Remedy(RemedyKind.COMPENSATION, "courier delay", Money.of("200", "CNY"))
    large = Remedy(RemedyKind.COMPENSATION, "lost batch", Money.of("5000", "CNY"))
    c = proposed(receive(), T0, small, large)
    assert c.approve_resolution(choice=0, at=T0, by=MANAGER, access=access).approval is not None
    with pytest.raises(PermissionDenied):
        c.approve_resolution(choice=1, at=T0, by=MANAGER, access=access)
    assert c.approve_resolution(choice=1, at=T0, by=VP, access=access).approval is not None


def test_explanation_needs_only_complaint_handling_permission() -> None:
    # only when the policy relaxes 主管领导批示 for remedies of no substance (issue #20
    # item 8: by default a manager approves every remedy, see the test below)
    relaxed = ComplaintPolicy(manager_approves_every_remedy=False)
    c = proposed(receive(), T0, Remedy(RemedyKind.EXPLANATION, "why the colour differs"))
    assert c.approve_resolution(
        choice=0, at=T0, by=HANDLER, access=ACCESS, policy=relaxed
    ).status is (S.RESOLUTION_APPROVED)
    with pytest.raises(PermissionDenied):
        c.approve_resolution(choice=0, at=T0, by=WAREHOUSE, access=ACCESS, policy=relaxed)


def test_a_resolution_is_approved_by_a_manager() -> None:
    # 主管领导批示: by default every remedy needs a manager, an explanation and a referral
    # included; the department and customer-service managers hold complaint.approve_remedy
    explanation = Remedy(RemedyKind.EXPLANATION, "why the colour differs")
    referral = Remedy(RemedyKind.REFERRAL, "to the consumer association")
    c = proposed(receive(), T0, explanation, referral)
    for choice in (0, 1):
        with pytest.raises(PermissionDenied):
            c.approve_resolution(choice=choice, at=T0, by=HANDLER, access=ACCESS)
        with pytest.raises(PermissionDenied):
            c.approve_resolution(choice=choice, at=T0, by=HANDLER, access=ACCESS, policy=POLICY)
    cs_manager = Actor(id="qian", roles=frozenset({"cs_manager"}))
    for manager in (MANAGER, cs_manager):
        approved = c.approve_resolution(choice=1, at=T0, by=manager, access=ACCESS)
        assert approved.approval is not None
        assert approved.approval.by == manager.id
    # a promise of substance still needs the sales VP's authority (an approval limit)
    exchange = proposed(receive(), T0, Remedy(RemedyKind.EXCHANGE, "new vial"))
    with pytest.raises(PermissionDenied):
        exchange.approve_resolution(choice=0, at=T0, by=cs_manager, access=ACCESS)
    assert exchange.approve_resolution(choice=0, at=T0, by=VP, access=ACCESS).approval is not None


def test_goodwill_to_an_abnormal_complaint_needs_the_top_role() -> None:
    access = AccessPolicy(
        role_permissions={
            **DEFAULT_ROLE_PERMISSIONS,
            "cs_manager": DEFAULT_ROLE_PERMISSIONS["cs_manager"] | {Permission.APPROVE_REMEDY},
        },
        approval_limits={"cs_manager": None, "sales_vp": None},
    )
    goodwill = Remedy(RemedyKind.GOODWILL, "free sample kit")
    boss = Actor(id="qian", roles=frozenset({"cs_manager"}))
    normal = proposed(receive(), T0, goodwill)
    assert normal.approve_resolution(choice=0, at=T0, by=boss, access=access).approval is not None
    abnormal = proposed(receive(nature="abnormal"), T0, goodwill)
    with pytest.raises(PermissionDenied):
        abnormal.approve_resolution(choice=0, at=T0, by=boss, access=access)
    assert abnormal.approve_resolution(choice=0, at=T0, by=VP, access=access).approval is not None


def test_approval_choice_must_name_a_proposal() -> None:
    with pytest.raises(ValidationError) as err:
        proposed(receive(), T0).approve_resolution(choice=3, at=T0, by=GM, access=ACCESS)
    assert err.value.errors[0][0] == "choice"


# -- SLA and calendars (docs/domain.md 3.3) -----------------------------------------------------


def test_default_sla_covers_the_service_call_promise() -> None:
    urgent = POLICY.sla_for(ComplaintUrgency.URGENT)
    assert urgent.respond == SlaTarget(timedelta(minutes=30), business_time=False)
    assert urgent.resolve == SlaTarget(timedelta(hours=24 + 24), business_time=False)
    special = POLICY.sla_for(ComplaintUrgency.SPECIAL)
    assert special.respond.duration <= timedelta(minutes=30)
    assert special.resolve.duration <= urgent.resolve.duration


def test_complaint_policy_round_trips_through_json() -> None:
    custom = attrs.evolve(
        POLICY,
        ordinary=SlaPolicy(SlaTarget(timedelta(hours=1)), SlaTarget(timedelta(hours=16))),
        special_start_level=3,
    )
    for policy in (POLICY, custom):
        assert from_json(ComplaintPolicy, to_json(policy)) == policy


def test_policy_start_levels_must_fit_the_ladder() -> None:
    with pytest.raises(ValidationError):
        ComplaintPolicy(ladder=("specialist", "cs_manager"), special_start_level=3)
    with pytest.raises(ValidationError):
        ComplaintPolicy(ladder=("a", "b", "c", "d", "e", "f"))


def test_the_follow_up_default_lies_within_the_follow_up_period() -> None:
    with pytest.raises(ValidationError) as err:
        ComplaintPolicy(follow_up_after=timedelta(days=4))
    assert err.value.errors[0][0] == "follow_up_after"


def test_elapsed_target_counts_nights_and_weekends() -> None:
    saturday_night = datetime(2024, 6, 22, 23, tzinfo=SHANGHAI)
    c = receive(at=saturday_night, urgency="urgent")
    assert c.respond_by == saturday_night + timedelta(minutes=30)
    assert c.resolve_by == saturday_night + timedelta(hours=48)


def test_business_target_skips_the_weekend() -> None:
    friday = datetime(2024, 6, 21, 17, tzinfo=SHANGHAI)
    c = receive(at=friday)
    assert c.respond_by == datetime(2024, 6, 24, 10, tzinfo=SHANGHAI)
    assert c.resolve_by == datetime(2024, 6, 28, 12, tzinfo=SHANGHAI)


def test_business_target_skips_holidays_and_works_adjusted_weekends() -> None:
    national_day = BusinessCalendar.office(
        "Asia/Shanghai",
        time(9),
        time(18),
        holidays=[date(2024, 10, d) for d in range(1, 8)],
        extra_workdays=[date(2024, 9, 29), date(2024, 10, 12)],
    )
    saturday = datetime(2024, 9, 28, 10, tzinfo=SHANGHAI)
    c = receive(at=saturday, calendar=national_day)
    assert c.respond_by == datetime(2024, 9, 29, 11, tzinfo=SHANGHAI)  # a worked Sunday (调休)
    assert c.resolve_by == datetime(2024, 10, 10, 13, tzinfo=SHANGHAI)


def test_business_target_across_the_spring_dst_change_in_berlin() -> None:
    easter = BusinessCalendar.office(
        "Europe/Berlin", time(8), time(17), holidays=[date(2024, 3, 29), date(2024, 4, 1)]
    )
    thursday = datetime(2024, 3, 28, 16, tzinfo=BERLIN)  # CET, UTC+1
    c = receive(at=thursday, calendar=easter)
    assert c.respond_by == datetime(2024, 4, 2, 9, tzinfo=BERLIN)  # CEST, UTC+2
    assert c.respond_by == datetime(2024, 4, 2, 7, tzinfo=UTC)
    assert easter.business_time_between(thursday, c.respond_by) == timedelta(hours=2)


def test_elapsed_target_across_the_autumn_dst_change_in_new_york() -> None:
    saturday = datetime(2024, 11, 2, 12, tzinfo=NEW_YORK)  # EDT, UTC-4
    c = receive(at=saturday, urgency="urgent", calendar=BusinessCalendar.always("America/New_York"))
    assert c.resolve_by == datetime(2024, 11, 4, 11, tzinfo=NEW_YORK)  # EST: 48 h, not 49
    assert c.resolve_by - c.received_at == timedelta(hours=48)


def test_business_target_across_the_autumn_dst_change_in_new_york() -> None:
    office = BusinessCalendar.office("America/New_York", time(9), time(17))
    friday = datetime(2024, 11, 1, 16, tzinfo=NEW_YORK)
    c = receive(at=friday, calendar=office)
    assert c.respond_by == datetime(2024, 11, 4, 10, tzinfo=NEW_YORK)
    assert c.respond_by == datetime(2024, 11, 4, 15, tzinfo=UTC)


def test_deadlines_are_stored_in_utc_whatever_the_input_zone() -> None:
    tokyo = datetime(2024, 6, 17, 11, tzinfo=ZoneInfo("Asia/Tokyo"))
    c = receive(at=tokyo)
    assert c.received_at.tzinfo is UTC
    assert c.received_at == T0
    assert c.respond_by == receive(at=T0).respond_by


def test_resolution_records_sla_met_or_missed() -> None:
    on_time = resolved(receive(), T0 + timedelta(hours=3))
    assert on_time.sla_outcome is SlaOutcome.MET
    late = resolved(receive(), T0 + timedelta(days=10))
    assert late.sla_outcome is SlaOutcome.MISSED
    assert [b.target for b in sla_breaches(late, T0 + timedelta(days=11))] == [
        SlaKind.RESPOND,
        SlaKind.RESOLVE,
    ]


def test_hold_time_moves_the_resolution_deadline_by_business_time() -> None:
    c = receive()
    assert c.resolve_by == datetime(2024, 6, 21, 14, tzinfo=SHANGHAI)
    held = c.assess(at=T0, by=HANDLER, access=ACCESS, policy=POLICY).put_on_hold(
        reason="waiting for photos",
        at=datetime(2024, 6, 18, 17, tzinfo=SHANGHAI),
        by=HANDLER,
        access=ACCESS,
    )
    back = held.resume(
        at=datetime(2024, 6, 19, 10, tzinfo=SHANGHAI),
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
    )
    assert back.status is S.ASSESSED
    assert back.resolve_by == datetime(2024, 6, 21, 16, tzinfo=SHANGHAI)
    assert back.respond_by == c.respond_by


def test_hold_time_moves_an_elapsed_deadline_by_elapsed_time() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS)
    held = c.put_on_hold(
        reason="customer away", at=T0 + timedelta(hours=1), by=HANDLER, access=ACCESS
    )
    back = held.resume(
        at=T0 + timedelta(hours=6), by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS
    )
    assert back.status is S.RECEIVED
    assert back.resolve_by == c.resolve_by + timedelta(hours=5)


def test_a_deadline_missed_before_the_hold_stays_missed() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS)
    late = T0 + timedelta(hours=50)
    held = c.put_on_hold(reason="customer away", at=late, by=HANDLER, access=ACCESS)
    assert is_breached(held, late + timedelta(days=3))
    back = held.resume(
        at=late + timedelta(hours=5), by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS
    )
    assert back.resolve_by == c.resolve_by


def test_the_resolution_clock_stands_still_on_hold() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS).acknowledge(at=T0, by=HANDLER, access=ACCESS)
    held = c.put_on_hold(
        reason="customer away", at=T0 + timedelta(hours=1), by=HANDLER, access=ACCESS
    )
    much_later = T0 + timedelta(days=9)
    assert not is_breached(held, much_later)
    assert escalate_overdue(held, much_later, POLICY, ALWAYS) == (held, ())


def test_breaches_lists_overdue_open_complaints() -> None:
    fresh = receive()
    answered = fresh.acknowledge(at=T0, by=HANDLER, access=ACCESS)
    at = T0 + timedelta(hours=3)
    assert is_breached(fresh, at)
    assert not is_breached(answered, at)
    found = list(breaches([fresh, answered], at))
    assert [(b.complaint_id, b.target, b.still_open) for b in found] == [
        ("CP-1", SlaKind.RESPOND, True)
    ]


def test_rejected_complaint_has_no_resolution_target_any_more() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS).reject(
        reply="explained", at=T0, by=HANDLER, access=ACCESS
    )
    assert not is_breached(c, T0 + timedelta(days=30))


def test_a_complaint_tells_its_own_breaches() -> None:
    # Rule (docs/domain.md 3.3): `complaint.is_breached(at=)` / `.sla_breaches(at=)` are the
    # module functions' answers, on the complaint where a newcomer looks for them.
    fresh = receive()
    answered = fresh.acknowledge(at=T0, by=HANDLER, access=ACCESS)
    at = T0 + timedelta(hours=3)
    assert fresh.is_breached(at=at)
    assert not fresh.is_breached(at=T0)
    assert not answered.is_breached(at=at)
    assert [(b.target, b.still_open) for b in fresh.sla_breaches(at=at)] == [
        (SlaKind.RESPOND, True)
    ]
    assert answered.sla_breaches(at=at) == ()


@given(complaints(), st.integers(min_value=0, max_value=60 * 24 * 30))
def test_the_breach_methods_agree_with_the_module_functions(
    complaint: Complaint, minutes: int
) -> None:
    # Invariant: for every complaint and instant, the method and the function agree.
    at = complaint.received_at + timedelta(minutes=minutes)
    assert complaint.sla_breaches(at=at) == sla_breaches(complaint, at)
    assert complaint.is_breached(at=at) is is_breached(complaint, at)


# -- escalation (docs/domain.md 3.4) -------------------------------------------------------------


def test_special_complaint_starts_higher_on_the_ladder() -> None:
    c = receive(urgency="special", owners=OWNERS)
    assert c.escalation_level == POLICY.special_start_level == 2
    assert (c.owner_role, c.owner_id) == ("department_manager", "zhou")
    assert receive(
        urgency="special", policy=attrs.evolve(POLICY, special_start_level=3)
    ).owner_role == ("cs_manager")


def test_escalation_moves_up_one_level_per_missed_deadline() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS, owners=OWNERS)
    c, events = escalate_overdue(c, T0 + timedelta(hours=1), POLICY, ALWAYS, OWNERS)
    assert [e.reason for e in events] == [EscalationReason.RESPONSE_OVERDUE]
    assert (c.escalation_level, c.owner_role, c.owner_id) == (2, "department_manager", "zhou")
    c, events = escalate_overdue(c, T0 + timedelta(hours=49), POLICY, ALWAYS, OWNERS)
    assert [(e.from_level, e.to_level, e.reason) for e in events] == [
        (2, 3, EscalationReason.RESOLUTION_OVERDUE)
    ]
    c, events = escalate_overdue(c, T0 + timedelta(hours=73), POLICY, ALWAYS, OWNERS)
    assert [e.reason for e in events] == [EscalationReason.STILL_OVERDUE]
    assert (c.escalation_level, c.owner_id) == (4, "call-1")


def test_escalation_catches_up_on_every_deadline_missed_since_the_last_run() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS)
    c, events = escalate_overdue(c, T0 + timedelta(hours=97), POLICY, ALWAYS, OWNERS)
    assert [e.to_level for e in events] == [2, 3, 4, 5]
    assert [e.due for e in events] == [
        c.respond_by,
        c.resolve_by,
        c.resolve_by + timedelta(days=1),
        c.resolve_by + timedelta(days=2),
    ]
    assert (c.owner_role, c.owner_id) == ("general_manager", "wang")


def test_escalation_is_idempotent_at_the_same_instant() -> None:
    at = T0 + timedelta(hours=60)
    once, events = escalate_overdue(receive(urgency="urgent", calendar=ALWAYS), at, POLICY, ALWAYS)
    assert events
    assert escalate_overdue(once, at, POLICY, ALWAYS) == (once, ())


def test_escalation_stops_at_the_top_of_the_ladder() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS)
    c, _ = escalate_overdue(c, T0 + timedelta(days=30), POLICY, ALWAYS)
    assert c.escalation_level == 5
    assert escalate_overdue(c, T0 + timedelta(days=60), POLICY, ALWAYS) == (c, ())
    with pytest.raises(RuleViolation) as err:
        c.escalate(at=T0 + timedelta(days=60), by=HANDLER, access=ACCESS, policy=POLICY)
    assert err.value.code == "escalation_at_top"


def test_escalation_leaves_concluded_complaints_alone() -> None:
    c = resolved(receive(urgency="urgent", calendar=ALWAYS), T0 + timedelta(days=5))
    assert escalate_overdue(c, T0 + timedelta(days=9), POLICY, ALWAYS) == (c, ())


def test_escalation_interval_can_count_business_time() -> None:
    policy = attrs.evolve(POLICY, escalation_interval=SlaTarget(timedelta(hours=9)))
    friday = datetime(2024, 6, 21, 9, tzinfo=SHANGHAI)
    c = receive(at=friday).acknowledge(at=friday, by=HANDLER, access=ACCESS)
    assert c.resolve_by == datetime(2024, 6, 27, 13, tzinfo=SHANGHAI)
    expected = {
        datetime(2024, 6, 27, 14): [EscalationReason.RESOLUTION_OVERDUE],
        datetime(2024, 6, 28, 12): [],
        datetime(2024, 6, 28, 14): [EscalationReason.STILL_OVERDUE],  # one business day on
        datetime(2024, 6, 30, 20): [],  # the weekend does not count
        datetime(2024, 7, 1, 14): [EscalationReason.STILL_OVERDUE],
    }
    for local, reasons in expected.items():
        c, events = escalate_overdue(c, local.replace(tzinfo=SHANGHAI), policy, OFFICE)
        assert [e.reason for e in events] == reasons


def test_customer_refusal_reopens_escalates_and_restarts_the_resolution_clock() -> None:
    c = approved(receive(owners=OWNERS), T0)
    at = T0 + timedelta(hours=2)
    refused = c.refuse_resolution(
        reason="wants a refund, not an exchange",
        at=at,
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
        owners=OWNERS,
    )
    assert refused.status is S.INVESTIGATING
    assert refused.reopen_count == 1
    assert refused.approval is None
    assert refused.refusals[0].remedy.kind is RemedyKind.EXCHANGE
    assert refused.escalations[-1].reason is EscalationReason.CUSTOMER_UNHAPPY
    assert (refused.escalation_level, refused.owner_id) == (2, "zhou")
    assert refused.resolve_by == POLICY.ordinary.resolve.due(at, OFFICE)


def test_dissatisfied_follow_up_reopens_the_complaint_when_the_policy_says_so() -> None:
    c = resolved(receive(), T0)
    visit_at = T0 + timedelta(days=1)
    reopened = c.record_follow_up(
        outcome=FollowUpOutcome.DISSATISFIED,
        notes="the new vial leaks too",
        at=visit_at,
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
    )
    assert reopened.status is S.INVESTIGATING
    assert [h.to for h in reopened.history[-2:]] == ["followed_up", "investigating"]
    assert reopened.reopen_count == 1
    assert reopened.follow_up_due is None
    assert reopened.sla_outcome is None
    kept = c.record_follow_up(
        outcome="dissatisfied",
        notes="still unhappy about the delay",
        at=visit_at,
        by=HANDLER,
        access=ACCESS,
        policy=attrs.evolve(POLICY, reopen_on_dissatisfied=False),
        calendar=OFFICE,
    )
    assert kept.status is S.FOLLOWED_UP


# -- follow-up visits (docs/domain.md 3.5) -------------------------------------------------------


def test_follow_up_is_planned_within_three_days_outside_rest_hours() -> None:
    evening = datetime(2024, 6, 17, 22, 30, tzinfo=SHANGHAI)
    c = resolved(receive(), evening, quiet_hours=REST)
    assert c.follow_up_due == evening + timedelta(days=3)
    planned = c.follow_up_planned_at
    assert planned is not None
    assert evening <= planned <= c.follow_up_due
    assert not REST.contains(planned)
    assert planned == datetime(2024, 6, 19, 8, tzinfo=SHANGHAI)


def test_follow_up_at_an_agreed_time_is_moved_out_of_rest_hours() -> None:
    c = resolved(receive(), T0)
    agreed = c.agree_follow_up_time(
        planned_at=datetime(2024, 6, 18, 23, tzinfo=SHANGHAI),
        at=T0,
        by=HANDLER,
        access=ACCESS,
        quiet_hours=REST,
    )
    assert agreed.follow_up_planned_at == datetime(2024, 6, 19, 8, tzinfo=SHANGHAI)


def test_follow_up_cannot_be_agreed_after_the_due_time() -> None:
    with pytest.raises(RuleViolation) as err:
        plan_follow_up(T0, policy=POLICY, preferred=T0 + timedelta(days=4))
    assert err.value.code == "follow_up_after_due"


def test_never_call_during_the_customers_rest_time() -> None:
    c = resolved(receive(), T0)
    with pytest.raises(RuleViolation) as err:
        c.record_follow_up(
            outcome="satisfied",
            notes="fine",
            at=datetime(2024, 6, 17, 23, tzinfo=SHANGHAI),
            by=HANDLER,
            access=ACCESS,
            policy=POLICY,
            calendar=OFFICE,
            quiet_hours=REST,
        )
    assert err.value.code == "quiet_hours"


def test_the_visit_record_is_complete() -> None:
    c = resolved(receive(), T0)
    with pytest.raises(ValidationError) as err:
        c.record_follow_up(
            outcome="satisfied",
            notes="",
            at=T0 + timedelta(hours=1),
            by=HANDLER,
            access=ACCESS,
            policy=POLICY,
            calendar=OFFICE,
        )
    assert err.value.errors[0][0] == "notes"


def test_missing_follow_ups_lists_unvisited_member_complaints_past_due() -> None:
    members = {"CU-1", "CU-3"}
    unvisited = resolved(receive(customer_id="CU-1"), T0)
    not_member = resolved(receive(customer_id="CU-2"), T0)
    visited = resolved(receive(customer_id="CU-3"), T0).record_follow_up(
        outcome="satisfied",
        notes="fine",
        at=T0 + timedelta(days=1),
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=OFFICE,
    )
    open_one = receive(customer_id="CU-1")
    everyone = [unvisited, not_member, visited, open_one]
    assert list(missing_follow_ups(everyone, T0 + timedelta(days=2), members.__contains__)) == []
    late = list(missing_follow_ups(everyone, T0 + timedelta(days=4), members.__contains__))
    assert late == [unvisited]


# -- events -------------------------------------------------------------------------------


def test_complaint_events_describe_each_change() -> None:
    received = receive(urgency="urgent", calendar=ALWAYS)
    [event] = complaint_events(None, received)
    assert isinstance(event, ComplaintReceived)
    assert event.resolve_by == received.resolve_by
    escalated, returned = escalate_overdue(received, T0 + timedelta(hours=1), POLICY, ALWAYS)
    assert complaint_events(received, escalated) == list(returned)
    assert isinstance(returned[0], ComplaintEscalated)
    done = resolved(escalated, T0 + timedelta(hours=2), quiet_hours=REST)
    kinds = [type(e) for e in complaint_events(escalated, done)]
    assert kinds == [ComplaintStatusChanged] * 5 + [FollowUpScheduled]
    closed = done.record_follow_up(
        outcome="satisfied",
        notes="fine",
        at=T0 + timedelta(days=1),
        by=HANDLER,
        access=ACCESS,
        policy=POLICY,
        calendar=ALWAYS,
    ).close(
        summary="ok", improvement_measure="x", at=T0 + timedelta(days=1), by=HANDLER, access=ACCESS
    )
    assert isinstance(complaint_events(done, closed)[-1], ComplaintClosed)


# -- serialization and strategies ----------------------------------------------------------


@given(complaints())
def test_complaint_round_trips_through_json(complaint: Complaint) -> None:
    loaded = from_json(Complaint, to_json(complaint))
    assert loaded == complaint
    assert type(loaded.status) is ComplaintStatus
    assert type(loaded.urgency) is ComplaintUrgency
    assert all(type(r.kind) is RemedyKind for r in loaded.proposals)


@given(complaints())
def test_generated_complaints_follow_the_transition_table(complaint: Complaint) -> None:
    steps = [(h.from_, h.to) for h in complaint.history]
    assert steps[0] == (None, "received")
    for from_, to in steps[1:]:
        assert from_ is not None
        assert S(to) in COMPLAINT_TRANSITIONS[S(from_)]
    assert steps[-1][1] == complaint.status.value


def test_malformed_complaint_json_names_the_bad_field() -> None:
    data = to_json(receive()).replace(b'"phone"', b'"fax machine"', 1)
    with pytest.raises(ValidationError) as err:
        from_json(Complaint, data)
    assert err.value.errors[0][0] == "channel"


def _evolved(**changes: Any) -> Callable[[], object]:
    return lambda: attrs.evolve(resolved(receive(), T0), **changes)


WRONG_TYPES: dict[str, tuple[Callable[[], object], str]] = {
    "complaint reply": (_evolved(reply=1.5), "reply"),
    "complaint summary": (_evolved(summary=None), "summary"),
    "complaint founded": (_evolved(founded="yes"), "founded"),
    "complaint proposals": (_evolved(proposals=["refund"]), "proposals"),
    "complaint proposal": (_evolved(proposals=("refund",)), "proposals.0"),
    "complaint approval": (_evolved(approval="approved"), "approval"),
    "complaint history": (_evolved(history=({"to": "closed"},)), "history.0"),
    "complaint escalations": (_evolved(escalations=[]), "escalations"),
    "complaint follow-ups": (_evolved(follow_ups=(1,)), "follow_ups.0"),
    "approval note": (
        lambda: Approval(Remedy(RemedyKind.EXPLANATION, "why"), T0, "zhou", note=1.5),  # type: ignore[arg-type]
        "note",
    ),
    "approval remedy": (lambda: Approval("refund", T0, "zhou"), "remedy"),  # type: ignore[arg-type]
    "escalation step by": (
        lambda: EscalationStep(1, 2, T0, by=None, reason="manual", owner_role="cs"),  # type: ignore[arg-type]
        "by",
    ),
    "sla target business time": (
        lambda: SlaTarget(timedelta(hours=1), business_time="no"),  # type: ignore[arg-type]
        "business_time",
    ),
    "sla policy target": (
        lambda: SlaPolicy(respond=timedelta(hours=1), resolve=SlaTarget(timedelta(hours=2))),  # type: ignore[arg-type]
        "respond",
    ),
    "policy reopen flag": (
        lambda: ComplaintPolicy(reopen_on_dissatisfied=0),  # type: ignore[arg-type]
        "reopen_on_dissatisfied",
    ),
    "policy number pattern": (
        lambda: ComplaintPolicy(number_pattern="CP-{nonsense}"),
        "number_pattern",
    ),
    "policy departments": (
        lambda: ComplaintPolicy(departments={"service": 7}),  # type: ignore[dict-item]
        "departments.service",
    ),
    "statistics calendar": (lambda: ComplaintStatistics("24/7"), "calendar"),  # type: ignore[arg-type]
    "sketch error": (lambda: DurationSketch(relative_error="1%"), "relative_error"),  # type: ignore[arg-type]
    "counter capacity": (lambda: TopCounter(capacity=0), "capacity"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_records_refuse_wrong_types_at_construction(case: str) -> None:
    build, path = WRONG_TYPES[case]
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.errors[0][0] == path


FAR_FUTURE = datetime(9999, 12, 31, 12, tzinfo=UTC)


def test_deadlines_past_the_calendar_end_are_a_validation_error() -> None:
    for calendar in (OFFICE, ALWAYS):
        with pytest.raises(ValidationError):
            receive(at=FAR_FUTURE, calendar=calendar)
    with pytest.raises(ValidationError):
        plan_follow_up(FAR_FUTURE, policy=POLICY, quiet_hours=REST)
    with pytest.raises(ValidationError):
        SlaTarget(timedelta(hours=40)).extend(FAR_FUTURE, timedelta(days=2), OFFICE)


# -- statistics -----------------------------------------------------------------------------


def _exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@given(
    st.lists(st.floats(min_value=0.001, max_value=1e9, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 1.0]),
)
def test_duration_sketch_quantiles_are_within_one_percent(values: list[float], q: float) -> None:
    sketch = DurationSketch()
    for seconds in values:
        sketch.add(timedelta(seconds=seconds))
    exact = timedelta(seconds=_exact_quantile(values, q)).total_seconds()
    estimate = sketch.quantile(q)
    assert estimate is not None
    assert abs(estimate.total_seconds() - exact) <= 0.01 * exact + 1e-6


def test_duration_sketch_memory_is_bounded_whatever_the_count() -> None:
    sketch = DurationSketch()
    for i in range(200_000):
        sketch.add(timedelta(seconds=(i * 7919) % 10_000_000 + 0.5))
    sketch.add(timedelta.max)
    sketch.add(timedelta(0))
    assert sketch.count == 200_002
    assert len(sketch.buckets) < 2000
    top = sketch.quantile(1.0)
    assert top is not None
    assert abs(top - timedelta.max) <= timedelta.max * 0.01
    assert sketch.quantile(0.0) == timedelta(0)


@given(st.lists(st.sampled_from("abcdefghij"), max_size=200), st.integers(1, 12))
def test_top_counter_undercounts_by_at_most_total_over_capacity(
    items: list[str], capacity: int
) -> None:
    counter = TopCounter(capacity=capacity)
    for item in items:
        counter.add(item)
    assert len(counter.counters) <= capacity
    for item in set(items):
        true = items.count(item)
        estimate = counter.counters.get(item, 0)
        assert true - len(items) / (capacity + 1) <= estimate <= true


@given(st.lists(complaints(calendar=st.just(ALWAYS)), max_size=6), st.integers(0, 6))
def test_merged_statistics_equal_a_single_pass(batch: list[Complaint], cut: int) -> None:
    whole = ComplaintStatistics(OFFICE).add_all(batch)
    left = ComplaintStatistics(OFFICE).add_all(batch[:cut])
    right = ComplaintStatistics(OFFICE).add_all(batch[cut:])
    assert left.merge(right).report() == whole.report()


def test_statistics_table_and_key_figures() -> None:
    closed_fast = resolved(receive(), T0 + timedelta(hours=1))
    late = resolved(receive(), T0 + timedelta(days=8))
    rejected = receive(urgency="urgent", calendar=ALWAYS).reject(
        reply="explained", at=T0, by=HANDLER, access=ACCESS
    )
    refused = approved(receive(), T0).refuse_resolution(
        reason="no", at=T0, by=HANDLER, access=ACCESS, policy=POLICY, calendar=OFFICE
    )
    report = ComplaintStatistics(OFFICE).add_all([closed_fast, late, rejected, refused]).report()
    assert report.total == 4
    assert report.count(category=ComplaintCategory.PRODUCT_QUALITY) == 4
    assert report.count(urgency=ComplaintUrgency.URGENT) == 1
    assert report.founded_rate == 3 / 4
    assert report.within_sla_rate == 1 / 2
    assert report.reopen_rate == 1 / 3
    assert report.escalations_by_level == {2: 1}
    assert report.top_causes[0].cause == "damaged seal"
    assert report.top_causes[0].count == 3
    assert report.response_median == timedelta(0)
    median = report.resolution_median
    assert median is not None
    assert abs(median - timedelta(hours=1)) <= timedelta(hours=1) * 0.01


def test_statistics_leave_time_on_hold_out_of_the_resolution_time() -> None:
    c = receive(urgency="urgent", calendar=ALWAYS).acknowledge(at=T0, by=HANDLER, access=ACCESS)
    c = c.put_on_hold(reason="away", at=T0 + timedelta(hours=1), by=HANDLER, access=ACCESS)
    c = c.resume(
        at=T0 + timedelta(hours=11), by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS
    )
    c = resolved(c, T0 + timedelta(hours=12))
    report = ComplaintStatistics(ALWAYS).add(c).report()
    assert report.resolution_median is not None
    assert abs(report.resolution_median - timedelta(hours=2)) <= timedelta(minutes=2)


def test_statistics_on_different_calendars_do_not_merge() -> None:
    with pytest.raises(ValidationError):
        ComplaintStatistics(OFFICE).merge(ComplaintStatistics(ALWAYS))


# -- the lifecycle as a state machine -------------------------------------------------------


GAPS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=40))
EXPECTED_REFUSALS = (InvalidTransition, RuleViolation)


class ComplaintCommands(RuleBasedStateMachine):
    """Random command sequences against one complaint; the invariants must always hold."""

    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2024, 9, 20, 9, tzinfo=SHANGHAI)
        self.complaint: Complaint | None = None
        self.policy = POLICY
        self.calendar = ALWAYS
        self.member = True
        self.rest: QuietHours | None = None

    @initialize(
        policy=complaint_policies(),
        calendar=complaint_calendars(),
        member=st.booleans(),
        rest=st.none() | st.just(REST),
        data=st.data(),
    )
    def start(
        self,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        member: bool,
        rest: QuietHours | None,
        data: st.DataObject,
    ) -> None:
        """Start from a fresh complaint or one already somewhere in its loop."""
        self.policy, self.calendar, self.member, self.rest = policy, calendar, member, rest
        self.complaint = data.draw(
            st.one_of(
                st.sampled_from(ComplaintUrgency).map(
                    lambda urgency: receive(
                        at=self.now,
                        urgency=urgency,
                        calendar=calendar,
                        policy=policy,
                        owners=OWNERS,
                    )
                ),
                complaints(policy=st.just(policy), calendar=st.just(calendar)),
            )
        )
        self.now = self.current.updated_at

    @property
    def current(self) -> Complaint:
        assert self.complaint is not None
        return self.complaint

    def apply(
        self,
        gap: timedelta,
        command: Callable[[Complaint, datetime], Complaint],
        sources: frozenset[S] | None,
    ) -> None:
        """Run ``command``; it works exactly from ``sources`` (``None``: not a move)."""
        self.now += gap
        before = self.current
        try:
            after = command(before, self.now)
        except InvalidTransition:
            assert sources is not None
            assert before.status not in sources
            return
        except RuleViolation:
            return
        if sources is not None:
            assert before.status in sources
        assert after.history[: len(before.history)] == before.history
        assert after.escalation_level >= before.escalation_level
        assert after.escalations[: len(before.escalations)] == before.escalations
        assert after.reopen_count >= before.reopen_count
        self.complaint = after

    @rule(gap=GAPS)
    def acknowledge(self, gap: timedelta) -> None:
        self.apply(gap, lambda c, at: c.acknowledge(at=at, by=HANDLER, access=ACCESS), None)

    @rule(gap=GAPS)
    def assess(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.assess(at=at, by=HANDLER, access=ACCESS, policy=self.policy),
            frozenset({S.RECEIVED}),
        )

    @rule(gap=GAPS)
    def reject(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.reject(reply="explained the spec", at=at, by=HANDLER, access=ACCESS),
            frozenset({S.RECEIVED}),
        )

    @rule(gap=GAPS)
    def investigate(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.start_investigation(at=at, by=HANDLER, access=ACCESS),
            frozenset({S.ASSESSED}),
        )

    @rule(gap=GAPS, cause=st.sampled_from(["seal", "courier", "label"]))
    def record_cause(self, gap: timedelta, cause: str) -> None:
        self.apply(
            gap,
            lambda c, at: c.record_cause(cause=cause, at=at, by=HANDLER, access=ACCESS),
            None,
        )

    @rule(gap=GAPS, options=st.lists(remedies(), min_size=1, max_size=3))
    def propose(self, gap: timedelta, options: list[Remedy]) -> None:
        self.apply(
            gap,
            lambda c, at: c.propose_resolution(remedies=options, at=at, by=HANDLER, access=ACCESS),
            frozenset({S.INVESTIGATING}),
        )

    @rule(gap=GAPS, choice=st.integers(0, 2))
    def approve(self, gap: timedelta, choice: int) -> None:
        def command(c: Complaint, at: datetime) -> Complaint:
            return c.approve_resolution(
                choice=min(choice, max(len(c.proposals) - 1, 0)), at=at, by=GM, access=ACCESS
            )

        self.apply(gap, command, frozenset({S.RESOLUTION_PROPOSED}))

    @rule(gap=GAPS)
    def send_back(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.send_back(reason="too costly", at=at, by=MANAGER, access=ACCESS),
            frozenset({S.RESOLUTION_PROPOSED}),
        )

    @rule(gap=GAPS)
    def accept(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.accept_resolution(
                signed_by="customer",
                at=at,
                by=HANDLER,
                access=ACCESS,
                policy=self.policy,
                quiet_hours=self.rest,
            ),
            frozenset({S.RESOLUTION_APPROVED}),
        )

    @rule(gap=GAPS)
    def refuse(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.refuse_resolution(
                reason="wants more",
                at=at,
                by=HANDLER,
                access=ACCESS,
                policy=self.policy,
                calendar=self.calendar,
                owners=OWNERS,
            ),
            frozenset({S.RESOLUTION_APPROVED}),
        )

    @rule(gap=GAPS, outcome=st.sampled_from(FollowUpOutcome))
    def visit(self, gap: timedelta, outcome: FollowUpOutcome) -> None:
        def command(c: Complaint, at: datetime) -> Complaint:
            when = max(at, c.follow_up_planned_at or at)
            if self.rest is not None:
                when = self.rest.next_allowed(when)
            self.now = max(self.now, when)
            return c.record_follow_up(
                outcome=outcome,
                notes="asked what to improve",
                at=when,
                by=HANDLER,
                access=ACCESS,
                policy=self.policy,
                calendar=self.calendar,
                quiet_hours=self.rest,
                owners=OWNERS,
            )

        self.apply(gap, command, frozenset({S.RESOLVED}))

    @rule(gap=GAPS)
    def close(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.close(
                summary="done", improvement_measure="train staff", at=at, by=HANDLER, access=ACCESS
            ),
            frozenset({S.REJECTED, S.FOLLOWED_UP}),
        )

    @rule(gap=GAPS)
    def hold(self, gap: timedelta) -> None:
        self.apply(
            gap,
            lambda c, at: c.put_on_hold(reason="waiting", at=at, by=HANDLER, access=ACCESS),
            OPEN_STATUSES - {S.ON_HOLD},
        )

    @rule(gap=GAPS)
    def resume(self, gap: timedelta) -> None:
        def command(c: Complaint, at: datetime) -> Complaint:
            back = c.resume(
                at=at, by=HANDLER, access=ACCESS, policy=self.policy, calendar=self.calendar
            )
            assert back.status is c.held_from
            assert back.resolve_by >= c.resolve_by
            return back

        self.apply(gap, command, frozenset({S.ON_HOLD}))

    @rule(gap=GAPS)
    def escalate_overdue(self, gap: timedelta) -> None:
        def command(c: Complaint, at: datetime) -> Complaint:
            once, events = escalate_overdue(c, at, self.policy, self.calendar, OWNERS)
            assert len(events) == len(once.escalations) - len(c.escalations)
            held = c.held_since
            if held is not None:  # the resolution clock stands still on hold
                assert all(
                    e.due is not None and e.due < held
                    for e in events
                    if e.reason is not EscalationReason.RESPONSE_OVERDUE
                )
            assert escalate_overdue(once, at, self.policy, self.calendar, OWNERS) == (once, ())
            return once

        self.apply(gap, command, None)

    @rule(gap=GAPS, data=st.data())
    def advance_along_the_loop(self, gap: timedelta, data: st.DataObject) -> None:
        """Take the next step of the closed loop, so that deep states are reached often."""
        c = self.current
        if c.status is S.RECEIVED:
            self.assess(gap)
        elif c.status is S.ASSESSED:
            self.investigate(gap)
        elif c.status is S.INVESTIGATING and c.cause is None:
            self.record_cause(gap, "seal")
        elif c.status is S.INVESTIGATING:
            self.propose(gap, data.draw(st.lists(remedies(), min_size=1, max_size=3)))
        elif c.status is S.RESOLUTION_PROPOSED:
            self.approve(gap, data.draw(st.integers(0, 2)))
        elif c.status is S.RESOLUTION_APPROVED and data.draw(st.booleans()):
            self.refuse(gap)
        elif c.status is S.RESOLUTION_APPROVED:
            self.accept(gap)
        elif c.status is S.RESOLVED:
            self.visit(gap, data.draw(st.sampled_from(FollowUpOutcome)))
        elif c.status is S.ON_HOLD:
            self.resume(gap)
        else:
            self.close(gap)

    @invariant()
    def deadlines_never_precede_receipt(self) -> None:
        if self.complaint is not None:
            c = self.complaint
            assert c.respond_by >= c.received_at
            assert c.resolve_by >= c.received_at

    @invariant()
    def escalation_level_stays_on_the_ladder(self) -> None:
        if self.complaint is not None:
            assert 1 <= self.complaint.escalation_level <= self.policy.top_level <= 5

    @invariant()
    def every_closed_complaint_passed_through_a_resolution_or_a_rejection(self) -> None:
        if self.complaint is not None and self.complaint.status is S.CLOSED:
            c = self.complaint
            assert c.passed_through(S.RESOLVED) or c.passed_through(S.REJECTED)

    @invariant()
    def a_resolved_member_complaint_always_has_a_follow_up_due_date(self) -> None:
        c = self.complaint
        if c is not None and self.member and c.status is S.RESOLVED:
            assert c.follow_up_due is not None
            assert c.follow_up_planned_at is not None
            assert c.follow_up_planned_at <= c.follow_up_due

    @invariant()
    def status_matches_the_last_history_entry(self) -> None:
        if self.complaint is not None:
            assert self.complaint.history[-1].to == self.complaint.status.value
            assert (self.complaint.status in CONCLUDED_STATUSES) != self.complaint.is_open


TestComplaintCommands = ComplaintCommands.TestCase


# -- the visit script, the monthly visit report, statements (issue #20) ----------------------


@pytest.mark.parametrize(
    ("outcome", "suggestions", "improvements", "wrong"),
    [
        (FollowUpOutcome.SATISFIED, "", "be faster", "improvements"),
        (FollowUpOutcome.NEUTRAL, "more SMS", "", "suggestions"),
        (FollowUpOutcome.DISSATISFIED, "more SMS", "", "suggestions"),
    ],
)
def test_the_visit_script_asks_one_question_per_outcome(
    outcome: FollowUpOutcome, suggestions: str, improvements: str, wrong: str
) -> None:
    # Rule: satisfied -> ask for suggestions; not satisfied or neutral -> what to improve
    with pytest.raises(ValidationError) as refused:
        check_visit_answers(outcome, suggestions, improvements, required=False)
    assert refused.value.errors[0][0] == wrong


@pytest.mark.parametrize("outcome", list(FollowUpOutcome))
def test_the_visit_script_answer_is_required_only_when_the_policy_says_so(
    outcome: FollowUpOutcome,
) -> None:
    # Rule: the visit record is complete (docs/domain.md 3.5); policy decides on the answer
    check_visit_answers(outcome, "", "", required=False)
    with pytest.raises(RuleViolation) as refused:
        check_visit_answers(outcome, "", "  ", required=True)
    assert refused.value.code == "visit_answer_missing"


def visit(complaint: Complaint, at: datetime, outcome: str, **answers: str) -> Complaint:
    return complaint.record_follow_up(
        outcome=outcome,
        notes="called",
        at=at,
        by=HANDLER,
        access=ACCESS,
        policy=attrs.evolve(POLICY, reopen_on_dissatisfied=False),
        calendar=ALWAYS,
        **answers,
    )


def test_the_visit_report_has_a_row_for_every_month_of_the_period() -> None:
    # Rule: the visit log is summed up in a monthly report (docs/domain.md 3.5)
    done = visit(resolved(receive(), T0), T0 + timedelta(days=1), "satisfied", suggestions="ok")
    other = visit(
        resolved(receive(customer_id="CU-2"), T0),
        T0 + timedelta(days=1, hours=2),
        "neutral",
        improvements="call earlier",
    )
    other = attrs.evolve(other, id="CP-2")
    start = datetime(2024, 5, 1, tzinfo=SHANGHAI)
    end = datetime(2024, 8, 1, tzinfo=SHANGHAI)
    may, june, july = visit_report([done, other], start, end, "Asia/Shanghai")
    assert [(m.month, m.visits) for m in (may, june, july)] == [
        ("2024-05", 0),
        ("2024-06", 2),
        ("2024-07", 0),
    ]
    assert (may.satisfied_rate, june.satisfied_rate) == (None, 0.5)
    assert dict(june.outcomes) == {
        FollowUpOutcome.SATISFIED: 1,
        FollowUpOutcome.NEUTRAL: 1,
        FollowUpOutcome.DISSATISFIED: 0,
    }
    assert [(r.complaint_id, r.text) for r in june.suggestions] == [("CP-1", "ok")]
    assert [(r.customer_id, r.text) for r in june.improvements] == [("CU-2", "call earlier")]
    with pytest.raises(ValidationError):
        visit_report([], end, start, "Asia/Shanghai")


def test_a_visit_belongs_to_the_month_of_its_local_time() -> None:
    # Rule: months are the team's local months
    evening = datetime(2024, 6, 30, 18, tzinfo=UTC)  # 1 July, 02:00 in Shanghai
    done = visit(resolved(receive(), T0), evening, "satisfied")
    start = datetime(2024, 6, 1, tzinfo=SHANGHAI)
    june, july = visit_report([done], start, datetime(2024, 8, 1, tzinfo=SHANGHAI), SHANGHAI.key)
    assert (june.visits, july.visits) == (0, 1)
    assert july.suggestions == ()


def test_a_written_statement_bears_a_date_not_a_moment() -> None:
    # Rule: the statement is recorded with reference, date and who recorded it
    with pytest.raises(ValidationError):
        WrittenStatement(reference="WS-1", dated=T0, at=T0, by="li")  # type: ignore[arg-type]
    statement = WrittenStatement(reference="WS-1", dated=T0.date(), at=T0, by="li")
    complaint = receive(nature="abnormal").record_written_statement(
        reference=" WS-1 ", dated=T0.date(), at=T0, by=HANDLER, access=ACCESS
    )
    assert complaint.statements == (statement,)
    assert from_json(Complaint, to_json(complaint)) == complaint


def test_a_penalty_names_the_responsible_person_by_default() -> None:
    # Rule: the penalty says who, what and by whom (docs/domain.md 3.2 step 5)
    visited = visit(resolved(receive(), T0), T0 + timedelta(days=1), "satisfied")
    assert not visited.at_company_fault  # founded, but nobody named responsible
    done = attrs.evolve(visited, responsible_person="zhao")
    assert done.at_company_fault
    closed = done.close(
        summary="ok",
        improvement_measure="x",
        at=T0 + timedelta(days=2),
        by=MANAGER,
        access=ACCESS,
        penalty=" written warning ",
    )
    assert closed.penalty is not None
    assert (closed.penalty.person, closed.penalty.penalty, closed.penalty.by) == (
        done.responsible_person,
        "written warning",
        "zhou",
    )
    with pytest.raises(ValidationError) as unnamed:
        done.close(
            summary="ok",
            improvement_measure="x",
            at=T0 + timedelta(days=2),
            by=MANAGER,
            access=ACCESS,
            penalised="zhao",
        )
    assert unnamed.value.errors[0][0] == "penalty"
