"""Escalation and holds (docs/domain.md 3.4 and the hold rule of docs/complaints.md).

The rules checked here: a missed deadline moves a complaint one rung up the five-level
ladder (五级追访制), the resolution deadline first, then every ``escalation_interval``
it is still overdue; while a complaint is on hold its resolution clock stands still, so
time on hold never counts towards an escalation, however long after the deadline the
hold began; one escalation run moves one rung per deadline missed on that clock since the
last run, never more.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import (
    Complaint,
    ComplaintPolicy,
    ComplaintStatus,
    EscalationReason,
    Remedy,
    RemedyKind,
    SlaTarget,
    escalate_overdue,
    receive_complaint,
)
from csdomain.complaints.escalation import still_overdue_after
from csdomain.testing.strategies_complaints import complaints


SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCESS = AccessPolicy()
HANDLER = Actor(id="li", roles=frozenset({"specialist"}))
GM = Actor(id="wang", roles=frozenset({"general_manager"}))
POLICY = ComplaintPolicy()
ALWAYS = BusinessCalendar.always()
OFFICE = BusinessCalendar.office("Asia/Shanghai", time(9), time(18))
T0 = datetime(2024, 6, 17, 10, tzinfo=SHANGHAI)  # a Monday morning
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
STILL = EscalationReason.STILL_OVERDUE
RESOLUTION = EscalationReason.RESOLUTION_OVERDUE


def urgent(at: datetime = T0, policy: ComplaintPolicy = POLICY) -> Complaint:
    """An urgent complaint answered at once: resolved within 48 elapsed hours, so only the
    resolution deadline and the intervals after it escalate."""
    c = receive_complaint(
        id="CP-1",
        customer_id="CU-1",
        channel="phone",
        urgency="urgent",
        category="service",
        description="the engineer did not come",
        at=at,
        by=HANDLER,
        access=ACCESS,
        policy=policy,
        calendar=ALWAYS,
    )
    return c.acknowledge(at=at, by=HANDLER, access=ACCESS)


def hold(
    c: Complaint,
    start: datetime,
    end: datetime,
    *,
    policy: ComplaintPolicy = POLICY,
    calendar: BusinessCalendar = ALWAYS,
) -> Complaint:
    held = c.put_on_hold(reason="waiting for the customer", at=start, by=HANDLER, access=ACCESS)
    return held.resume(at=end, by=HANDLER, access=ACCESS, policy=policy, calendar=calendar)


def run(
    c: Complaint,
    at: datetime,
    *,
    policy: ComplaintPolicy = POLICY,
    calendar: BusinessCalendar = ALWAYS,
) -> tuple[Complaint, list[tuple[EscalationReason, datetime | None]]]:
    after, events = escalate_overdue(c, at, policy, calendar)
    return after, [(e.reason, e.due) for e in events]


# -- a hold after the deadline --------------------------------------------------------------


def test_a_hold_after_the_deadline_does_not_bring_the_intervals_it_covered_at_once() -> None:
    # Rule: while on hold the resolution clock stands still. The reported case: a hold of
    # three days after the deadline used to give three "still overdue" rungs in the first
    # run after resuming.
    c = urgent()
    deadline = c.resolve_by
    c, steps = run(c, deadline + HOUR)
    assert steps == [(RESOLUTION, deadline)]
    c = hold(c, deadline + 2 * HOUR, deadline + 2 * HOUR + 3 * DAY)
    assert c.resolve_by == deadline  # a deadline missed before the hold stays missed
    c, steps = run(c, deadline + 3 * HOUR + 3 * DAY)
    assert steps == []
    assert c.escalation_level == 2


def test_after_resuming_the_next_rung_comes_one_interval_less_what_ran_before_the_hold() -> None:
    # Rule: the interval counts only time off hold: 10 hours ran before the hold, so the
    # next rung comes 14 hours after resuming, and one run moves one rung.
    c = urgent()
    deadline = c.resolve_by
    resumed = deadline + 10 * HOUR + 5 * DAY
    c = hold(c, deadline + 10 * HOUR, resumed)
    c, steps = run(c, resumed + 14 * HOUR - timedelta(minutes=1))
    assert steps == [(RESOLUTION, deadline)]
    c, steps = run(c, resumed + 14 * HOUR + timedelta(minutes=1))
    assert steps == [(STILL, deadline + DAY + 5 * DAY)]
    c, steps = run(c, resumed + 38 * HOUR + timedelta(minutes=1))
    assert steps == [(STILL, deadline + 2 * DAY + 5 * DAY)]


def test_nothing_escalates_while_on_hold_long_after_the_deadline() -> None:
    # Rule: while on hold the resolution clock stands still, also past the deadline.
    c = urgent()
    deadline = c.resolve_by
    c, _ = run(c, deadline + HOUR)
    held = c.put_on_hold(
        reason="customer abroad", at=deadline + 2 * HOUR, by=HANDLER, access=ACCESS
    )
    assert escalate_overdue(held, deadline + 30 * DAY, POLICY, ALWAYS) == (held, ())


def test_a_hold_that_began_exactly_at_a_still_overdue_deadline_waits_for_the_resume() -> None:
    # Rule: a deadline is missed once the clock runs past it; a hold that starts on it
    # stops the clock there, so the rung comes at the resume and the next one a full
    # interval after.
    c = urgent()
    due = c.resolve_by + DAY
    c, _ = run(c, c.resolve_by + HOUR)
    held = c.put_on_hold(reason="customer abroad", at=due, by=HANDLER, access=ACCESS)
    assert escalate_overdue(held, due + 2 * DAY, POLICY, ALWAYS) == (held, ())
    back = held.resume(at=due + 2 * DAY, by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS)
    back, steps = run(back, due + 2 * DAY + timedelta(minutes=1))
    assert steps == [(STILL, due)]
    back, steps = run(back, due + 3 * DAY - timedelta(minutes=1))
    assert steps == []
    back, steps = run(back, due + 3 * DAY + timedelta(minutes=1))
    assert steps == [(STILL, due + 3 * DAY)]


def test_a_hold_that_began_on_the_deadline_itself_moves_it() -> None:
    # Rule: a deadline is missed once the clock has run past it (target_missed); a hold
    # that begins on the deadline stops the clock before that, so resuming moves it.
    c = urgent()
    deadline = c.resolve_by
    held = c.put_on_hold(reason="customer abroad", at=deadline, by=HANDLER, access=ACCESS)
    assert not held.is_breached(at=deadline + DAY)
    back = held.resume(at=deadline + DAY, by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS)
    assert back.resolve_by == deadline + DAY
    assert not back.is_breached(at=deadline + DAY)
    assert run(back, deadline + DAY) == (back, [])


# -- a hold before the deadline, several holds, a reopen ---------------------------------------


def test_a_hold_before_the_deadline_moves_the_deadline_and_every_interval_after_it() -> None:
    # Rule: time waiting for the customer does not count against the resolution target
    # (docs/domain.md 3.3); the intervals run from the moved deadline.
    c = urgent()
    c = hold(c, T0 + HOUR, T0 + 11 * HOUR)
    assert c.resolve_by == T0 + 58 * HOUR
    c, steps = run(c, T0 + 83 * HOUR)
    assert steps == [(RESOLUTION, T0 + 58 * HOUR), (STILL, T0 + 82 * HOUR)]


def test_several_holds_after_the_deadline_each_leave_their_time_out() -> None:
    # Rule: every hold stops the resolution clock; two holds (10 h and 20 h) in the first
    # interval and one (2 days) in the second move each later rung by what came before it.
    c = urgent()
    deadline = c.resolve_by
    c = hold(c, deadline + HOUR, deadline + 11 * HOUR)
    c = hold(c, deadline + 12 * HOUR, deadline + 32 * HOUR)
    first = deadline + DAY + 30 * HOUR
    c, steps = run(c, first - timedelta(minutes=1))
    assert steps == [(RESOLUTION, deadline)]
    c, steps = run(c, first + timedelta(minutes=1))
    assert steps == [(STILL, first)]
    c = hold(c, first + HOUR, first + HOUR + 2 * DAY)
    second = first + DAY + 2 * DAY
    c, steps = run(c, second - timedelta(minutes=1))
    assert steps == []
    c, steps = run(c, second + timedelta(minutes=1))
    assert steps == [(STILL, second)]


def test_a_reopen_starts_a_round_that_holds_of_the_earlier_round_do_not_touch() -> None:
    # Rule (docs/domain.md 3.2 step 5 and 3.4): a refusal restarts the resolution clock and
    # moves the complaint one rung up; in the new round only its own holds stand the
    # clock still.
    c = urgent()
    deadline = c.resolve_by
    c = hold(c, deadline + HOUR, deadline + 4 * DAY)  # in the first round, after its deadline
    c = c.assess(at=deadline + 4 * DAY, by=HANDLER, access=ACCESS, policy=POLICY)
    at = deadline + 4 * DAY
    c = c.start_investigation(at=at, by=HANDLER, access=ACCESS)
    c = c.record_cause(cause="no engineer free", at=at, by=HANDLER, access=ACCESS)
    c = c.propose_resolution(
        remedies=(Remedy(RemedyKind.EXPLANATION, "a new visit"),), at=at, by=HANDLER, access=ACCESS
    )
    c = c.approve_resolution(choice=0, at=at, by=GM, access=ACCESS)
    c = c.refuse_resolution(
        reason="wants a refund", at=at, by=HANDLER, access=ACCESS, policy=POLICY, calendar=ALWAYS
    )
    assert c.reopen_count == 1
    assert c.escalations[-1].reason is EscalationReason.CUSTOMER_UNHAPPY
    level = c.escalation_level
    new_deadline = c.resolve_by
    assert new_deadline == at + 48 * HOUR
    c, steps = run(c, new_deadline + HOUR)
    assert steps == [(RESOLUTION, new_deadline)]
    c = hold(c, new_deadline + 2 * HOUR, new_deadline + 2 * HOUR + DAY)
    c, steps = run(c, new_deadline + DAY + HOUR)
    assert steps == []
    c, steps = run(c, new_deadline + 2 * DAY + timedelta(minutes=1))
    assert steps == [(STILL, new_deadline + 2 * DAY)]
    assert c.escalation_level == level + 2


def test_a_business_time_interval_leaves_out_the_business_hours_on_hold() -> None:
    # Rule: the hold is measured like the interval (business time on the team's calendar).
    policy = attrs.evolve(POLICY, escalation_interval=SlaTarget(timedelta(hours=9)))
    friday = datetime(2024, 6, 21, 9, tzinfo=SHANGHAI)
    c = receive_complaint(
        id="CP-2",
        customer_id="CU-1",
        channel="phone",
        urgency="ordinary",
        category="service",
        description="no answer",
        at=friday,
        by=HANDLER,
        access=ACCESS,
        policy=policy,
        calendar=OFFICE,
    ).acknowledge(at=friday, by=HANDLER, access=ACCESS)
    assert c.resolve_by == datetime(2024, 6, 27, 13, tzinfo=SHANGHAI)  # a Thursday
    c, _ = run(c, datetime(2024, 6, 27, 14, tzinfo=SHANGHAI), policy=policy, calendar=OFFICE)
    # on hold Thursday 15:00 to Friday 12:00: 3 + 3 = 6 business hours
    c = hold(
        c,
        datetime(2024, 6, 27, 15, tzinfo=SHANGHAI),
        datetime(2024, 6, 28, 12, tzinfo=SHANGHAI),
        policy=policy,
        calendar=OFFICE,
    )
    expected = {
        datetime(2024, 6, 28, 14, 30): [],  # used to be the rung: the hold counted
        datetime(2024, 6, 28, 17, 59): [],
        datetime(2024, 7, 1, 9, 59): [],
        datetime(2024, 7, 1, 10, 1): [(STILL, datetime(2024, 7, 1, 10, tzinfo=SHANGHAI))],
    }
    for local, steps in expected.items():
        c, found = run(c, local.replace(tzinfo=SHANGHAI), policy=policy, calendar=OFFICE)
        assert found == steps


def test_still_overdue_after_skips_holds_already_counted_and_stops_at_a_current_hold() -> None:
    # Rule: the next "still overdue" deadline is one interval of time off hold after the
    # last one; a hold still running stops the clock before it.
    start = T0
    assert still_overdue_after(start, (), policy=POLICY, calendar=ALWAYS) == start + DAY
    earlier = (start - 5 * HOUR, start - HOUR)  # moved ``start`` already
    inside = (start + HOUR, start + 3 * HOUR)
    later = (start + 2 * DAY, start + 3 * DAY)  # after the deadline it would move
    holds = (earlier, inside, later)
    assert still_overdue_after(start, holds, policy=POLICY, calendar=ALWAYS) == start + 26 * HOUR
    current = (start + 2 * HOUR, None)
    assert still_overdue_after(start, (current,), policy=POLICY, calendar=ALWAYS) is None


# -- properties ------------------------------------------------------------------------------

STEP = st.tuples(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60)),  # working
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=80)),  # then on hold
    st.booleans(),  # an escalation run before the hold
)


def _deadline_steps(c: Complaint) -> int:
    return sum(1 for s in c.escalations if s.reason in (RESOLUTION, STILL))


@given(
    st.lists(STEP, max_size=6),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=100)),
    st.timedeltas(min_value=HOUR, max_value=timedelta(days=2)),
)
def test_time_on_hold_never_counts_and_a_run_moves_one_rung_per_interval_off_hold(
    steps: list[tuple[timedelta, timedelta, bool]], tail: timedelta, interval: timedelta
) -> None:
    # Invariants (docs/domain.md 3.4, the hold rule): after any sequence of work, holds and
    # escalation runs, the deadline rungs are exactly one for the resolution deadline and
    # one per full interval past it, counted on the resolution clock (time off hold); so
    # one run never moves more rungs than the deadlines that clock passed since the last
    # run, whenever the runs happened and however long the holds were.
    policy = attrs.evolve(POLICY, escalation_interval=SlaTarget(interval, business_time=False))
    c = urgent(policy=policy)
    now = T0
    target = timedelta(hours=48)
    off_hold = timedelta(0)  # the resolution clock

    def expected(clock: timedelta) -> int:
        if clock <= target:
            return 0
        return 1 + (clock - target - timedelta(microseconds=1)) // interval

    for work, held, escalate in steps:
        now += work
        off_hold += work
        if escalate:
            before = _deadline_steps(c)
            c, _ = escalate_overdue(c, now, policy, ALWAYS)
            moved = _deadline_steps(c) - before
            assert _deadline_steps(c) == min(expected(off_hold), policy.top_level - 1)
            assert moved <= expected(off_hold)
        c = hold(c, now, now + held, policy=policy)
        now += held
    now += tail
    off_hold += tail
    before = _deadline_steps(c)
    c, _ = escalate_overdue(c, now, policy, ALWAYS)
    assert _deadline_steps(c) == min(expected(off_hold), policy.top_level - 1)
    assert c.escalation_level == min(1 + expected(off_hold), policy.top_level)


@given(
    complaints(status=st.just(ComplaintStatus.ON_HOLD)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
)
def test_a_run_on_hold_finds_what_a_run_at_the_hold_start_finds(
    complaint: Complaint, later: timedelta
) -> None:
    # Invariant: while on hold the resolution clock stands still, so the deadline rungs a
    # run finds do not depend on how long the hold has lasted.
    held_since = complaint.held_since
    assert held_since is not None
    first = max(held_since, complaint.updated_at)
    policy = ComplaintPolicy()
    a = complaint.missed_deadlines(at=first, policy=policy, calendar=ALWAYS, limit=10)
    b = complaint.missed_deadlines(at=first + later, policy=policy, calendar=ALWAYS, limit=10)
    assert [m for m in a if m[0] is not EscalationReason.RESPONSE_OVERDUE] == [
        m for m in b if m[0] is not EscalationReason.RESPONSE_OVERDUE
    ]
