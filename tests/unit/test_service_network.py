"""Unit tests of the service network: contracts, assessments, maintenance plans, statements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.errors import InvalidTransition, RuleViolation, ValidationError
from csdomain.fieldservice import (
    CONTRACT_LIFECYCLE,
    CONTRACT_TRANSITIONS,
    ContractStatus,
    FieldServicePolicy,
    MaintenanceFrequency,
    MaintenancePlan,
    MonthlyStatement,
    PointOwnership,
    ServicePoint,
    assess,
    check_takes_jobs,
    due_now,
    grade_for,
    monthly_statement,
    occurrences,
)
from csdomain.lifecycle import command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.warranty import WarrantyPolicy


AT = datetime(2026, 11, 2, 1, tzinfo=UTC)
BOSS = Actor("mgr-1", frozenset({"cs_manager"}))
C = ContractStatus
POLICY = FieldServicePolicy()


def point(ownership: str = "contracted", **changes: object) -> ServicePoint:
    fields: dict[str, object] = {
        "id": "SP-1",
        "name": "Point",
        "ownership": ownership,
        "district": "WH",
        "region": "HUBEI",
        "service_areas": ["WH-HS"],
    }
    fields.update(changes)
    return ServicePoint(**fields)  # type: ignore[arg-type]


# -- the contract's lifecycle -------------------------------------------------------------------


def reaches(start: ContractStatus, goal: ContractStatus) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        for target in CONTRACT_TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return goal in seen


def test_the_contract_lifecycle_table_is_well_formed() -> None:
    # Rule: the opening steps in order, then active ⇄ suspended; the handbook names no end
    # of a contract, so instead of a terminal state every status leads to active.
    problems = transition_table_problems(
        CONTRACT_TRANSITIONS, list(C), initial={C.APPLICATION, C.ACTIVE}, terminal=()
    )
    assert [p for p in problems if not p.endswith("cannot reach a terminal state")] == []
    assert command_table_problems(CONTRACT_LIFECYCLE) == []
    assert all(reaches(status, C.ACTIVE) for status in C)


@given(st.lists(st.sampled_from(sorted(CONTRACT_LIFECYCLE.commands)), max_size=30))
def test_any_sequence_of_contract_steps_stays_within_the_table(actions: list[str]) -> None:
    # Rule: every accepted step is a move of the table and is recorded; every other one
    # is refused and changes nothing.
    current = point()
    for i, action in enumerate(actions):
        before = current
        command = CONTRACT_LIFECYCLE.command(action)
        at = AT + timedelta(hours=i)
        if before.status in command.sources:
            current = before.contract_step(action, at=at, by=BOSS, note="because")
            assert current.status in CONTRACT_TRANSITIONS[before.status]
            assert current.history[-1].to == current.status.value
            assert len(current.history) == len(before.history) + 1
        else:
            with pytest.raises(InvalidTransition):
                before.contract_step(action, at=at, by=BOSS, note="because")
        assert current.takes_jobs == (current.status is C.ACTIVE)


def test_an_own_point_is_active_from_registration() -> None:
    # Rule: own service points are active from registration; contracted ones apply.
    assert point("own").status is C.ACTIVE
    assert point().status is C.APPLICATION
    with pytest.raises(ValidationError):
        point("own", status="review")


def test_only_an_active_point_takes_jobs() -> None:
    # Rule: a job goes only to a technician of an active point (service_point_not_active).
    with pytest.raises(RuleViolation) as caught:
        check_takes_jobs(point())
    assert caught.value.code == "service_point_not_active"
    check_takes_jobs(point("own"))
    suspended = point("own").contract_step("suspend", at=AT, by=BOSS, note="audit")
    with pytest.raises(RuleViolation):
        check_takes_jobs(suspended)


def test_a_contract_step_is_dated_in_order_and_a_suspension_says_why() -> None:
    # Rule: each step after the previous one; a suspension carries its reason.
    reviewed = point().contract_step("review", at=AT, by=BOSS)
    with pytest.raises(ValidationError):
        reviewed.contract_step("set_up", at=AT - timedelta(minutes=1), by=BOSS)
    with pytest.raises(ValidationError):
        point("own").contract_step("suspend", at=AT, by=BOSS)
    with pytest.raises(ValidationError):
        reviewed.contract_step("close", at=AT, by=BOSS)
    assert point(ownership=PointOwnership.OWN).contracted is False


# -- assessments ---------------------------------------------------------------------------------


SCORES = {"on_time": 30, "first_time_fix": 20, "satisfaction": 20, "records": 15, "parts": 5}


def assessed(scores: dict[str, int]) -> object:
    return assess(
        "SP-1",
        scores,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        criteria=POLICY.assessment_criteria,
        grades=POLICY.assessment_grades,
        suspend_grades=POLICY.suspend_on_grades,
        at=AT,
        by=BOSS,
    )


def test_the_grade_is_the_highest_band_the_total_reaches() -> None:
    # Rule: the policy's bands, A from 90, B from 75, C from 60, D below.
    grades = POLICY.assessment_grades
    assert [grade_for(t, grades) for t in (100, 90, 89, 75, 74, 60, 59, 0)] == [
        "A", "A", "B", "B", "C", "C", "D", "D",
    ]  # fmt: skip
    done = assessed(SCORES)
    assert (done.total, done.grade, done.suspended) == (90, "A", False)  # type: ignore[attr-defined]


def test_every_criterion_is_scored_within_its_points() -> None:
    # Rule: criterion_not_scored, score_out_of_range; no criterion outside the policy.
    with pytest.raises(RuleViolation, match="criterion_not_scored"):
        assessed({k: v for k, v in SCORES.items() if k != "records"})
    with pytest.raises(RuleViolation, match="score_out_of_range"):
        assessed({**SCORES, "on_time": 31})
    with pytest.raises(ValidationError):
        assessed({**SCORES, "smile": 1})


def test_the_assessment_policy_is_checked() -> None:
    # Rule: every total has a grade; a suspending grade is one of the bands.
    with pytest.raises(ValidationError):
        attrs.evolve(POLICY, assessment_grades={"A": 50})
    with pytest.raises(ValidationError):
        attrs.evolve(POLICY, suspend_on_grades=frozenset({"F"}))
    with pytest.raises(ValidationError):
        attrs.evolve(POLICY, assessment_criteria={"on_time": 0})
    with pytest.raises(ValidationError):
        attrs.evolve(POLICY, point_fee_share=Decimal("2"))


# -- maintenance plans ---------------------------------------------------------------------------


def plan(frequency: str = "quarterly", first_due: date = date(2027, 1, 31)) -> MaintenancePlan:
    return MaintenancePlan(
        product_serial="SN-1",
        customer_id="CU-1",
        model="TV-55",
        frequency=frequency,
        first_due=first_due,
        created_at=AT,
        created_by="disp-1",
    )


def test_occurrences_repeat_monthly_or_quarterly_and_keep_month_ends() -> None:
    # Rule: quarterly or monthly per product (dateutil.rrule).
    monthly = list(occurrences(date(2027, 1, 31), MaintenanceFrequency.MONTHLY, date(2027, 4, 30)))
    assert monthly == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    quarterly = list(
        occurrences(date(2027, 1, 31), MaintenanceFrequency.QUARTERLY, date(2027, 12, 31))
    )
    assert quarterly == [
        date(2027, 1, 31),
        date(2027, 4, 30),
        date(2027, 7, 31),
        date(2027, 10, 31),
    ]


def test_the_latest_occurrence_is_due_and_the_warranty_bounds_it() -> None:
    # Rule: products past warranty stop generating.
    step = due_now(plan("monthly"), today=date(2027, 4, 2), warranty_ends=date(2027, 12, 31))
    assert (step.due, step.skipped, step.finished) == (
        date(2027, 3, 31),
        (date(2027, 1, 31), date(2027, 2, 28)),
        False,
    )
    late = due_now(plan(), today=date(2027, 9, 1), warranty_ends=date(2027, 5, 1))
    assert (late.due, late.finished) == (date(2027, 4, 30), True)
    nothing = due_now(plan(), today=date(2027, 1, 1), warranty_ends=date(2026, 12, 1))
    assert (nothing.due, nothing.finished) == (None, True)


@given(
    frequency=st.sampled_from(["monthly", "quarterly"]),
    first=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    warranty_days=st.integers(0, 900),
    gaps=st.lists(st.integers(0, 120), min_size=1, max_size=12),
)
def test_plan_generation_is_idempotent(
    frequency: str, first: date, warranty_days: int, gaps: list[int]
) -> None:
    # Rule: running the generation twice on a day opens nothing the second time; no
    # occurrence opens two jobs; every job is due within the warranty.
    current = plan(frequency, first)
    warranty_ends = first + timedelta(days=warranty_days)
    day = first - timedelta(days=10)
    opened: list[date] = []
    for gap in gaps:
        day += timedelta(days=gap)
        step = due_now(current, today=day, warranty_ends=warranty_ends)
        if step.due is not None:
            assert step.due <= min(day, warranty_ends)
            current = current.with_job(step.due, f"SJ-{len(opened)}")
            opened.append(step.due)
        if step.finished:
            current = current.ended(day)
        again = due_now(current, today=day, warranty_ends=warranty_ends)
        assert again.due is None
    assert opened == sorted(set(opened))
    assert len(current.jobs) == len(opened)


def test_a_plan_is_ended_exactly_when_it_is_not_active() -> None:
    with pytest.raises(ValidationError):
        attrs.evolve(plan(), active=False)
    with pytest.raises(ValidationError):
        attrs.evolve(plan(), last_due=date(2026, 1, 1))


# -- statements ------------------------------------------------------------------------------------


def test_only_a_contracted_point_has_a_statement_and_its_totals_are_the_lines() -> None:
    # Rule: 单单结,月对账 for contracted points; totals are the sums of the lines.
    with pytest.raises(RuleViolation, match="point_not_contracted"):
        monthly_statement(
            point("own"), [], year=2026, month=11, tz=UTC, policy=POLICY, warranty=WarrantyPolicy()
        )
    empty = monthly_statement(
        point(), [], year=2026, month=11, tz=UTC, policy=POLICY, warranty=WarrantyPolicy()
    )
    assert (empty.jobs, empty.balance) == (0, Money.zero("CNY"))
    with pytest.raises(ValidationError):
        attrs.evolve(empty, fees=Money.of("1.00", "CNY"))
    with pytest.raises(ValidationError):
        MonthlyStatement(
            service_point_id="SP-1",
            year=2026,
            month=13,
            lines=(),
            charged=Money.zero("CNY"),
            collected=Money.zero("CNY"),
            fees=Money.zero("CNY"),
        )
