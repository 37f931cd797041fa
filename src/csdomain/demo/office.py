"""The demo's complaint desk over the month: an agenda of steps at their own times.

A real team does not handle a complaint in one sitting: it is received some day of the
month, answered after a while (most within the response target, some late), assessed,
investigated (now and then on hold waiting for the customer), resolved after hours to
days (most within the resolution target, some breaching it), visited a day or so later,
closed; a customer refuses a remedy or is dissatisfied at the visit now and then, which
reopens the case. Meanwhile the escalation job runs every three hours of the working
day and moves the overdue ones up the ladder, one rung per missed deadline, each at its
own instant.

:class:`Agenda` holds the steps in time order; the story and the field-service month run
it up to each moment they move the clock to, so the office's work interleaves with the
technicians' days on one clock that only moves forward. :class:`ComplaintMonth` plans
each complaint's steps with a seeded random source: the same seed gives the same month.
Every step is a :class:`~csdomain.service.ServiceDesk` use case at the clock's time.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from csdomain.auth import Actor
from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.complaints import Complaint, Remedy, SlaTarget
from csdomain.money import Money
from csdomain.service import ServiceDesk


__all__ = ["Agenda", "ComplaintMonth", "OfficeTeam"]

ZONE = ZoneInfo("Asia/Shanghai")

#: Shares of the month's complaints (project defaults of the demo, chosen to look like a
#: team that mostly keeps its promises): answered late, rejected as unfounded, put on
#: hold, remedy refused, customer dissatisfied at the visit (resolved late follows from
#: the resolution shares below).
LATE_RESPONSE = 0.1
REJECTED = 0.1
ON_HOLD = 0.12
REFUSED = 0.07
DISSATISFIED = 0.07
#: Every this many complaints, the follow-up visit comes days late.
VISIT_LATE_EVERY = 12
#: The resolution time as a share of the target: log-normal around this median with this
#: spread (about 2 % past the target before the working hours, the holds and the
#: refusals add their delays), never beyond the cap.
RESOLVE_MEDIAN = 0.3
RESOLVE_SPREAD = 0.6
RESOLVE_CAP = 2.5
#: The time one step of the agenda takes (so two steps never share an instant).
STEP_TIME = timedelta(minutes=1)
#: The escalation job runs at these local hours every day (a cron job every three working
#: hours; the field-service scheduler runs it at 08:00 too). Hourly runs cost a scan of
#: the complaints each: on the medium demo's year of history that doubled the build time.
SWEEP_HOURS = (9, 12, 15, 18)

_CAUSES = ("courier handling", "batch variance", "late dispatch", "staff attitude")


class OfficeTeam:
    """The complaint desk's people: three specialists share the calls."""

    clerks = (
        Actor("cs-li", {"specialist"}, "Li Na (customer service)"),
        Actor("cs-zhang", {"specialist"}, "Zhang Wei (customer service)"),
        Actor("cs-ma", {"specialist"}, "Ma Lin (customer service)"),
    )
    cs_manager = Actor("csm-chen", {"cs_manager"}, "Chen Jie (customer-service manager)")
    vp = Actor("vp-sun", {"sales_vp"}, "Sun Hao (sales VP)")
    system = Actor.system("scheduler")


class Agenda:
    """Steps to take at given moments, taken in time order on a clock that moves forward.

    A step due before the clock's time (the clock moved past it meanwhile) is taken at
    the clock's time: late, as a busy team would be. Each step takes :data:`STEP_TIME`,
    so no two happen at the same instant. Steps due at the same moment keep the order
    they were planned in.
    """

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self._steps: list[tuple[datetime, int, Callable[[], None]]] = []
        self._planned = 0

    def plan(self, at: datetime, step: Callable[[], None]) -> None:
        """Take ``step`` at ``at`` (or as soon as the clock allows)."""
        self._planned += 1
        heapq.heappush(self._steps, (at, self._planned, step))

    def run_until(self, until: datetime) -> None:
        """Take every step due up to ``until``, moving the clock to each one's time."""
        while self._steps and self._steps[0][0] <= until:
            at, _n, step = heapq.heappop(self._steps)
            self.clock.set(max(self.clock.now(), at))
            step()
            self.clock.advance(STEP_TIME)

    def __len__(self) -> int:
        return len(self._steps)


def local(day: date, at: time) -> datetime:
    """``at`` o'clock in Shanghai on ``day``, in UTC."""
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


def _later(target: SlaTarget, share: float, start: datetime, calendar: Any) -> datetime:
    """``share`` of ``target`` after ``start``, in the target's kind of time."""
    span = SlaTarget(max(target.duration * share, timedelta(minutes=1)), target.business_time)
    return span.due(start, calendar)


class ComplaintMonth:
    """The month's complaints on the agenda: received, handled and swept, step by step.

    ``plan_receipts`` spreads the receipts over the working days from ``first`` to the
    26th; each receipt plans the complaint's next step, and each step the one after.
    ``closed`` is told the customer and outcome (the visit's, or ``rejected``) of every
    complaint closed (the story sends them a survey).
    """

    def __init__(  # noqa: PLR0917 - the story hands over its shared state
        self,
        desk: ServiceDesk,
        agenda: Agenda,
        seed: int,
        rest_hours: dict[str, QuietHours | None],
        safely: Callable[..., Any],
        closed: Callable[[str, str], None],
    ) -> None:
        self.desk = desk
        self.agenda = agenda
        self.rng = random.Random(f"complaints-{seed}")  # noqa: S311 - demo data, not security
        self.rest_hours = rest_hours
        self.safely = safely
        self.closed = closed
        self.team = OfficeTeam
        self.escalations = 0
        #: The product-quality complaints received so far: customer id -> complaint id
        #: (the field-service month opens repairs from them).
        self.quality: dict[str, str] = {}
        self.complainants: set[str] = set()
        self.policy = desk.policy.complaints

    # -- the month's plan ---------------------------------------------------------------------

    def plan_receipts(
        self, wanted: int, customers: list[str], categories: tuple[str, ...], first: datetime
    ) -> None:
        """``wanted`` complaints received on the working days from ``first`` to day 26."""
        start = first.astimezone(ZONE).date()
        end = date(start.year, start.month, 26)
        days = [
            start + timedelta(days=d)
            for d in range((end - start).days + 1)
            if (start + timedelta(days=d)).weekday() < 6
        ]
        moments = sorted(self.receipt_moment(days, first) for _ in range(wanted))
        for n, moment in enumerate(moments):
            customer_id = customers[(n * 7) % len(customers)]
            category = categories[n % len(categories)]
            self.complainants.add(customer_id)
            self.agenda.plan(moment, partial(self.receive, n, customer_id, category))

    def receipt_moment(self, days: list[date], first: datetime) -> datetime:
        """A moment of the working day (Saturdays less busy), now and then an evening
        message on the web or by e-mail."""
        while True:
            day = self.rng.choice(days)
            if day.weekday() == 5 and self.rng.random() < 0.6:
                continue
            if self.rng.random() < 0.1:
                minute = self.rng.randrange(18 * 60, 22 * 60)
            else:
                minute = self.rng.randrange(8 * 60 + 30, 17 * 60 + 45)
            moment = local(day, time(minute // 60, minute % 60))
            if moment >= first:
                return moment

    def plan_sweeps(self, first: datetime, last: date) -> None:
        """The escalation job at every hour of :data:`SWEEP_HOURS`, from ``first`` to ``last``."""
        day = first.astimezone(ZONE).date()
        while day <= last:
            for hour in SWEEP_HOURS:
                moment = local(day, time(hour))
                if moment > first:
                    self.agenda.plan(moment, self.sweep)
            day += timedelta(days=1)

    def sweep(self) -> None:
        """The escalation job: every overdue open complaint one rung up per missed deadline."""
        self.escalations += len(self.desk.escalate_overdue(by=self.team.system))

    # -- one complaint --------------------------------------------------------------------------

    def receive(self, n: int, customer_id: str, category: str) -> None:
        """Receive complaint ``n`` and plan its handling: the first response, then either
        a rejection or the loop to a resolution."""
        desk, rng = self.desk, self.rng
        clerk = self.team.clerks[n % len(self.team.clerks)]
        urgency = ("ordinary", "ordinary", "urgent", "special")[n % 4]
        complaint = desk.receive_complaint(
            customer_id,
            channel=("phone", "written", "in_person", "email", "online")[n % 5],
            urgency=urgency,
            category=category,
            nature="abnormal" if n % 13 == 12 else "normal",
            description=f"Customer reports a problem ({category.replace('_', ' ')}).",
            by=clerk,
        )
        if category == "product_quality":
            self.quality.setdefault(customer_id, complaint.id)
        calendar = desk.complaint_calendar(complaint)
        sla = self.policy.sla_for(complaint.urgency)
        late = rng.random() < LATE_RESPONSE
        share = rng.uniform(1.15, 3.0) if late else 0.05 + 0.9 * rng.betavariate(2, 4)
        responded = _later(sla.respond, share, complaint.received_at, calendar)
        resolve = min(RESOLVE_CAP, rng.lognormvariate(math.log(RESOLVE_MEDIAN), RESOLVE_SPREAD))
        case = _Case(complaint.id, n, customer_id, clerk, resolve)
        case.abnormal = str(complaint.nature) == "abnormal"
        self.agenda.plan(responded, lambda: self.respond(case))

    def respond(self, case: _Case) -> None:
        """The first response; then the assessment (or the rejection) a little later."""
        complaint = self.desk.acknowledge(case.id, by=case.clerk)
        if self.rng.random() < REJECTED:
            self.step_at(self.share(complaint, 0.05), lambda: self.reject(case))
            return
        self.step_at(self.share(complaint, 0.1 * case.resolve), lambda: self.assess(case))

    def reject(self, case: _Case) -> None:
        """Unfounded: the records show the product met its specification."""
        self.desk.reject_complaint(
            case.id,
            reply="We checked the batch records with you; the product met its specification.",
            by=case.clerk,
        )
        case.outcome = "rejected"
        self.step_at(self.desk.now() + timedelta(hours=2), lambda: self.close(case))

    def assess(self, case: _Case) -> None:
        """Founded: the department is named and the investigation starts with the cause."""
        desk = self.desk
        desk.assess_complaint(case.id, by=case.clerk)
        desk.start_investigation(case.id, by=case.clerk)
        complaint = desk.record_cause(
            case.id,
            cause=_CAUSES[case.n % len(_CAUSES)],
            responsible_person="ops-duty",
            by=case.clerk,
        )
        if self.rng.random() < ON_HOLD:
            self.step_at(self.share(complaint, 0.2 * case.resolve), lambda: self.hold(case))
            return
        self.step_at(self.share(complaint, 0.6 * case.resolve), lambda: self.propose(case))

    def hold(self, case: _Case) -> None:
        """Waiting for the customer's sample: the resolution clock stops for a day or three."""
        self.desk.put_on_hold(
            case.id, reason="waiting for the customer's sample of the batch", by=case.clerk
        )
        back = self.working_hours(self.desk.now() + timedelta(hours=self.rng.uniform(20, 70)))
        self.step_at(back, lambda: self.resume(case))

    def resume(self, case: _Case) -> None:
        """The sample came: the investigation goes on, the deadline moved by the hold."""
        complaint = self.desk.resume(case.id, by=case.clerk, note="the sample arrived")
        self.step_at(self.share(complaint, 0.5 * case.resolve), lambda: self.propose(case))

    def propose(self, case: _Case) -> None:
        """Two remedies proposed; the VP approves the compensation (or the explanation,
        when the compensation is beyond what the VP may approve)."""
        desk = self.desk
        compensation = Money.of(f"{50 + 10 * (case.n % 5)}.00", "CNY")
        desk.propose_resolution(
            case.id,
            remedies=[
                Remedy("explanation", "Explain the cause and the corrective action"),
                Remedy("compensation", "Credit note for the affected goods", compensation),
            ],
            by=case.clerk,
        )
        self.step_at(
            desk.now() + timedelta(minutes=self.rng.randrange(20, 240)), lambda: self.approve(case)
        )

    def approve(self, case: _Case) -> None:
        """The approval; the customer answers when the planned resolution time comes."""
        desk, vp = self.desk, self.team.vp
        approved = self.safely(
            "approve_resolution", desk.approve_resolution, case.id, choice=1, by=vp
        )
        if approved is None:
            approved = desk.approve_resolution(case.id, choice=0, by=vp)
        at = max(desk.now(), self.share(approved, case.resolve, since_receipt=True))
        if case.round:
            at = desk.now() + timedelta(hours=self.rng.uniform(2, 26))
        self.step_at(at, lambda: self.answer(case))

    def answer(self, case: _Case) -> None:
        """The customer accepts the remedy (resolved, the visit planned) or refuses it
        (reopened, one rung up, proposed again); an abnormal complaint's customer refuses
        twice and gives a written statement of the demand first."""
        desk = self.desk
        if case.abnormal and case.round < 2:
            # an unreasonable demand: refused twice, then the customer's written statement,
            # and a few days before the customer gives in
            case.round += 1
            complaint = desk.refuse_resolution(
                case.id, reason="the customer demands a new instrument", by=case.clerk
            )
            if case.round == 2:
                desk.record_written_statement(
                    case.id, reference=f"statements/{case.id}.pdf", by=case.clerk
                )
                later = desk.now() + timedelta(days=self.rng.uniform(2, 4))
                self.step_at(later, lambda: self.propose(case))
                return
            self.step_at(self.share(complaint, 0.15), lambda: self.propose(case))
            return
        if case.round == 0 and self.rng.random() < REFUSED:
            case.round += 1
            complaint = desk.refuse_resolution(
                case.id, reason="the customer wants a replacement, not a credit", by=case.clerk
            )
            self.step_at(self.share(complaint, 0.15), lambda: self.propose(case))
            return
        complaint = desk.accept_resolution(case.id, signed_by="customer", by=case.clerk)
        planned = complaint.follow_up_planned_at or desk.now() + timedelta(days=1)
        if case.n % VISIT_LATE_EVERY == VISIT_LATE_EVERY // 2:
            planned = self.working_hours(planned + timedelta(days=self.rng.uniform(3, 5)))
        else:
            planned += timedelta(minutes=self.rng.randrange(0, 180))
        self.step_at(planned, lambda: self.visit(case))

    def visit(self, case: _Case) -> None:
        """The follow-up call (never in the customer's rest hours); a dissatisfied
        customer reopens the case, else it is closed a few hours later."""
        desk, now = self.desk, self.desk.now()
        hours = (
            self.rest_hours.get(case.customer_id) or desk.policy.notifications.default_rest_hours
        )
        if hours is not None and hours.contains(now):
            self.step_at(hours.next_allowed(now), lambda: self.visit(case))
            return
        draw = self.rng.random()
        if case.round == 0 and draw < DISSATISFIED:
            outcome = "dissatisfied"
        else:
            outcome = "neutral" if draw < 0.25 else "satisfied"
        answer = "faster handling" if outcome != "satisfied" else ""
        complaint = desk.record_follow_up(
            case.id,
            outcome=outcome,
            notes="Follow-up call after handling",
            improvements=answer,
            suggestions="" if answer else "keep the batch records at hand",
            by=case.clerk,
        )
        case.outcome = outcome
        if complaint.is_open:
            case.round += 1
            self.step_at(self.share(complaint, 0.15), lambda: self.propose(case))
            return
        self.step_at(
            self.working_hours(desk.now() + timedelta(hours=self.rng.uniform(1, 20))),
            lambda: self.close(case),
        )

    def close(self, case: _Case) -> None:
        """The manager closes the case with a summary and an improvement measure."""
        self.desk.close_complaint(
            case.id,
            summary="Handled and followed up",
            improvement_measure="Review packaging with the courier",
            by=self.team.cs_manager,
        )
        if case.outcome:
            self.closed(case.customer_id, case.outcome)

    # -- times ------------------------------------------------------------------------------

    def step_at(self, at: datetime, step: Callable[[], None]) -> None:
        """Plan a complaint's next step in working hours (:meth:`working_hours`): the
        clock may be 24/7 for urgent complaints, the customer and the team are not."""
        self.agenda.plan(self.working_hours(at), step)

    def share(self, complaint: Complaint, share: float, *, since_receipt: bool = False) -> datetime:
        """``share`` of the complaint's resolution target after now; ``since_receipt``:
        of the way from its receipt to its resolution deadline (moved by any hold)."""
        target = self.policy.sla_for(complaint.urgency).resolve
        calendar = self.desk.complaint_calendar(complaint)
        if since_receipt:
            received = complaint.received_at
            whole = target.measure(received, complaint.resolve_by, calendar)
            return _later(SlaTarget(whole, target.business_time), share, received, calendar)
        return _later(target, share, self.desk.now(), calendar)

    def working_hours(self, moment: datetime) -> datetime:
        """``moment``, or a moment of the next working morning (09:00 to 12:00, Monday
        to Saturday) if it falls outside 08:30-18:00 or on a Sunday."""
        here = moment.astimezone(ZONE)
        if time(8, 30) <= here.time() <= time(18) and here.weekday() < 6:
            return moment
        day = here.date() + timedelta(days=0 if here.time() < time(8, 30) else 1)
        while day.weekday() >= 6:
            day += timedelta(days=1)
        return local(day, time(9)) + timedelta(minutes=self.rng.randrange(180))


class _Case:
    """What the agenda carries of one complaint between its steps."""

    def __init__(self, id_: str, n: int, customer_id: str, clerk: Actor, resolve: float) -> None:
        self.id = id_
        self.n = n
        self.customer_id = customer_id
        self.clerk = clerk
        self.resolve = resolve
        self.round = 0
        self.outcome = ""
        self.abnormal = False
