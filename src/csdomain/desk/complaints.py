"""Complaint use cases: the closed loop of DOMAIN.md 3 on a store, a clock and calendars.

Each command of :class:`ComplaintDesk` is one unit of work: load the complaint, call the
pure :class:`~csdomain.complaints.Complaint` method with ``at=`` the desk's clock, save,
and add ``complaint_events(before, after)`` to the outbox in the same transaction. A
failure of any kind rolls the whole unit of work back, so the store is left unchanged.

- The owning team of a complaint is its ``department`` once assessed, before that the
  policy's default department of its category; its calendar is
  :meth:`~csdomain.desk.base.DeskBase.calendar_for` that team. Deadlines at receipt,
  holds, reopens and the escalation job all use that calendar.
- The customer's ``rest_hours`` (from the customer file) are the quiet hours for
  planning and recording the follow-up visit (DOMAIN.md 3.5).
- Closing a complaint asks :func:`csdomain.satisfaction.post_service_survey` whether to
  send the post-service survey, and emits its :class:`~csdomain.satisfaction.SurveyRequested`.
- Reports stream the store with ``scan()``; the escalation job reads open complaints in
  batches of bounded size, each batch its own unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any, TypeVar

from csdomain.auth import Actor, Permission
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.complaints import (
    OPEN_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEscalated,
    ComplaintNature,
    ComplaintReport,
    ComplaintStatistics,
    ComplaintUrgency,
    EscalationReason,
    FollowUpMethod,
    FollowUpOutcome,
    Remedy,
    SlaBreach,
    complaint_events,
    escalate_overdue,
    missing_follow_ups,
    receive_complaint,
    sla_breaches,
)
from csdomain.desk.args import actor as _actor
from csdomain.desk.args import choice as _choice
from csdomain.desk.args import moment as _moment
from csdomain.desk.base import DeskBase
from csdomain.errors import NotFound, RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.ids import NamingSeries
from csdomain.kinds import COMPLAINTS, CUSTOMERS, ORDERS, SURVEY_RESPONSES
from csdomain.satisfaction import SurveyRequested, SurveySubject, post_service_survey
from csdomain.store import UnitOfWork


__all__ = ["ESCALATION_BATCH", "ComplaintDesk"]

_E = TypeVar("_E", bound=StrEnum)

#: How many complaints the escalation job loads into one unit of work.
ESCALATION_BATCH = 200

_CACHED_CUSTOMERS = 4096


def _key(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, "must be a non-empty id")
    return value


def _emit_all(uow: UnitOfWork, events: Iterable[Event], at: datetime) -> None:
    for event in events:
        uow.emit(event, at=at)


class ComplaintDesk(DeskBase):
    """The complaint use cases (投诉, DOMAIN.md 3) of the service desk."""

    #: How many complaints the escalation job loads into one unit of work.
    escalation_batch: int = ESCALATION_BATCH

    # -- helpers --------------------------------------------------------------------------

    def _complaint_handler(self, by: object) -> Actor:
        actor = _actor(by)
        self.require(actor, Permission.HANDLE_COMPLAINT)
        return actor

    _complaint_text = DeskBase.bounded_text
    _optional_complaint_text = DeskBase.optional_bounded_text

    def _ladder_owners(self, owners: object) -> dict[str, str] | None:
        if owners is None:
            return None
        if not isinstance(owners, Mapping):
            raise ValidationError.at("owners", "map ladder roles to person ids")
        ladder = self.policy.complaints.ladder
        checked: dict[str, str] = {}
        for role, person in owners.items():
            if role not in ladder:
                raise ValidationError.at(
                    f"owners.{role}", f"not a role of the ladder ({', '.join(ladder)})"
                )
            checked[role] = _key(
                self._complaint_text(person, f"owners.{role}", long=False), "owners"
            )
        return checked

    def _complaint_team_calendar(
        self, department: str | None, category: ComplaintCategory
    ) -> BusinessCalendar:
        team = department or self.policy.complaints.department_for(category)
        return self.calendar_for(team)

    def complaint_calendar(self, complaint: Complaint) -> BusinessCalendar:
        """The calendar of the team that owns ``complaint`` (its department, else the
        policy's default department of its category)."""
        return self._complaint_team_calendar(complaint.department, complaint.category)

    def _complaint_rest_hours(self, uow: UnitOfWork, customer_id: str) -> QuietHours | None:
        customer = uow.repo(CUSTOMERS).get_or_none(customer_id)
        return None if customer is None else customer.rest_hours

    def _complaint_step(
        self,
        complaint_id: str,
        step: Callable[[UnitOfWork, Complaint, datetime], Complaint],
        *,
        after_saved: Callable[[UnitOfWork, Complaint, datetime], None] | None = None,
    ) -> Complaint:
        key = _key(complaint_id, "complaint_id")

        def work(uow: UnitOfWork) -> Complaint:
            now = self.now()
            repo = uow.repo(COMPLAINTS)
            before = repo.get(key)
            after = step(uow, before, now)
            if after != before:
                repo.update(after)
                _emit_all(uow, complaint_events(before, after), now)
                if after_saved is not None:
                    after_saved(uow, after, now)
            return after

        return self.run(work)

    # -- receiving --------------------------------------------------------------------------

    def receive_complaint(
        self,
        customer_id: str,
        *,
        channel: ComplaintChannel | str,
        urgency: ComplaintUrgency | str,
        category: ComplaintCategory | str,
        description: str,
        by: Actor,
        nature: ComplaintNature | str = ComplaintNature.NORMAL,
        order_id: str | None = None,
        owner_id: str | None = None,
        owners: Mapping[str, str] | None = None,
    ) -> Complaint:
        """Receive a complaint at once (受理即时) under the next complaint number.

        Source: DOMAIN.md 3.2 step 1 and 3.3: the response and resolution deadlines are
        set on the owning team's calendar. The customer (and the order, if named, which
        must be the customer's) must be on file.
        """
        actor = self._complaint_handler(by)
        customer_key = _key(
            self._complaint_text(customer_id, "customer_id", long=False), "customer_id"
        )
        order_key = None if order_id is None else _key(order_id, "order_id")
        kind = _choice(ComplaintCategory, category, "category")
        text = self._complaint_text(description, "description")
        owner = self._optional_complaint_text(owner_id, "owner_id")
        holders = self._ladder_owners(owners)

        def work(uow: UnitOfWork) -> Complaint:
            now = self.now()
            if not uow.repo(CUSTOMERS).exists(customer_key):
                raise NotFound(CUSTOMERS.name, customer_key)
            if order_key is not None:
                order = uow.repo(ORDERS).get_or_none(order_key)
                if order is None:
                    raise NotFound(ORDERS.name, order_key)
                if order.customer_id != customer_key:
                    raise RuleViolation(
                        "order_of_another_customer",
                        "the order named in a complaint must be the complainant's",
                        order_id=order_key,
                        customer_id=customer_key,
                    )
            complaint = receive_complaint(
                id=NamingSeries(self.policy.complaints.number_pattern).next(uow, now),
                customer_id=customer_key,
                channel=channel,
                urgency=urgency,
                category=kind,
                description=text,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self._complaint_team_calendar(None, kind),
                nature=nature,
                order_id=order_key,
                owner_id=owner,
                owners=holders,
            )
            uow.repo(COMPLAINTS).add(complaint)
            _emit_all(uow, complaint_events(None, complaint), now)
            return complaint

        return self.run(work)

    def get_complaint(self, complaint_id: str, *, by: Actor) -> Complaint:
        """The stored complaint; :class:`~csdomain.errors.NotFound` if there is none."""
        self._complaint_handler(by)
        key = _key(complaint_id, "complaint_id")
        return self.run(lambda uow: uow.repo(COMPLAINTS).get(key), readonly=True)

    # -- the loop ---------------------------------------------------------------------------

    def acknowledge(self, complaint_id: str, *, by: Actor) -> Complaint:
        """Record the first response to the customer (DOMAIN.md 3.2, 3.3); idempotent."""
        actor = self._complaint_handler(by)
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.acknowledge(at=now, by=actor, access=self.policy.access),
        )

    def assign(self, complaint_id: str, *, owner_id: str, by: Actor) -> Complaint:
        """Hand an open complaint to a named person at its current ladder level."""
        actor = self._complaint_handler(by)
        owner = self._complaint_text(owner_id, "owner_id", long=False)
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.assign(
                owner_id=owner, at=now, by=actor, access=self.policy.access
            ),
        )

    def assess_complaint(
        self,
        complaint_id: str,
        *,
        by: Actor,
        department: str | None = None,
        answer_promised_by: datetime | None = None,
        nature: ComplaintNature | str | None = None,
        note: str = "",
    ) -> Complaint:
        """Judge the complaint founded and name the responsible department (判断, step 2).

        Without ``department`` the policy's default for the category is used.
        """
        actor = self._complaint_handler(by)
        team = self._optional_complaint_text(department, "department")
        remark = self._complaint_text(note, "note")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.assess(
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                department=team,
                answer_promised_by=answer_promised_by,
                nature=nature,
                note=remark,
            ),
        )

    def reject_complaint(self, complaint_id: str, *, reply: str, by: Actor) -> Complaint:
        """Answer an unfounded complaint tactfully and reject it; it is still counted.

        Source: DOMAIN.md 3.2 step 2.
        """
        actor = self._complaint_handler(by)
        text = self._complaint_text(reply, "reply")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.reject(reply=text, at=now, by=actor, access=self.policy.access),
        )

    def start_investigation(self, complaint_id: str, *, by: Actor, note: str = "") -> Complaint:
        """Start looking for the cause and the responsible person (调查, step 3)."""
        actor = self._complaint_handler(by)
        remark = self._complaint_text(note, "note")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.start_investigation(
                at=now, by=actor, access=self.policy.access, note=remark
            ),
        )

    def record_cause(
        self,
        complaint_id: str,
        *,
        cause: str,
        by: Actor,
        responsible_person: str | None = None,
    ) -> Complaint:
        """Record the cause found and who is responsible (DOMAIN.md 3.2 step 3)."""
        actor = self._complaint_handler(by)
        text = self._complaint_text(cause, "cause")
        person = self._optional_complaint_text(responsible_person, "responsible_person")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.record_cause(
                cause=text,
                at=now,
                by=actor,
                access=self.policy.access,
                responsible_person=person,
            ),
        )

    def propose_resolution(
        self, complaint_id: str, *, remedies: Sequence[Remedy], by: Actor
    ) -> Complaint:
        """Propose one or more remedies for a manager to choose from (方案, step 4)."""
        actor = self._complaint_handler(by)
        if isinstance(remedies, str | bytes) or not isinstance(remedies, Sequence):
            raise ValidationError.at("remedies", "a sequence of Remedy")
        options = tuple(remedies)
        for i, remedy in enumerate(options):
            if isinstance(remedy, Remedy):
                self._complaint_text(remedy.description, f"remedies.{i}.description")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.propose_resolution(
                remedies=options, at=now, by=actor, access=self.policy.access
            ),
        )

    def send_back_resolution(self, complaint_id: str, *, reason: str, by: Actor) -> Complaint:
        """The manager approves none of the proposals: investigate again (not a reopen)."""
        actor = self._complaint_handler(by)
        text = self._complaint_text(reason, "reason")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.send_back(
                reason=text, at=now, by=actor, access=self.policy.access
            ),
        )

    def approve_resolution(
        self, complaint_id: str, *, choice: int, by: Actor, note: str = ""
    ) -> Complaint:
        """A manager approves the best proposal (主管领导批示, DOMAIN.md 3.2 step 4).

        Source: DOMAIN.md 3.6: a remedy of substance needs ``complaint.approve_remedy``
        and an approval limit covering its amount; goodwill to an abnormal complaint
        needs the top role. Otherwise :class:`~csdomain.errors.PermissionDenied`.
        """
        actor = _actor(by)
        remark = self._complaint_text(note, "note")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.approve_resolution(
                choice=choice, at=now, by=actor, access=self.policy.access, note=remark
            ),
        )

    def accept_resolution(
        self,
        complaint_id: str,
        *,
        signed_by: str,
        by: Actor,
        preferred_follow_up_at: datetime | None = None,
        feedback: str = "",
    ) -> Complaint:
        """The customer accepts (signs for) the remedy: resolved, visit planned.

        Source: DOMAIN.md 3.2 step 5 and 3.5: the follow-up visit is due within the
        policy's period and planned outside the customer's rest hours.
        """
        actor = self._complaint_handler(by)
        signer = self._complaint_text(signed_by, "signed_by", long=False)
        text = self._complaint_text(feedback, "feedback")

        def step(uow: UnitOfWork, c: Complaint, now: datetime) -> Complaint:
            return c.accept_resolution(
                signed_by=signer,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                quiet_hours=self._complaint_rest_hours(uow, c.customer_id),
                preferred_follow_up_at=preferred_follow_up_at,
                feedback=text,
            )

        return self._complaint_step(complaint_id, step)

    def refuse_resolution(
        self,
        complaint_id: str,
        *,
        reason: str,
        by: Actor,
        owners: Mapping[str, str] | None = None,
    ) -> Complaint:
        """The customer refuses the remedy: reopened, investigated again, one rung up.

        Source: DOMAIN.md 3.2 step 5 and 3.4 (a customer still unhappy moves the case up).
        """
        actor = self._complaint_handler(by)
        text = self._complaint_text(reason, "reason")
        holders = self._ladder_owners(owners)
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.refuse_resolution(
                reason=text,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self.complaint_calendar(c),
                owners=holders,
            ),
        )

    def put_on_hold(self, complaint_id: str, *, reason: str, by: Actor) -> Complaint:
        """Wait for the customer; the resolution clock stops (DOMAIN.md 3.3)."""
        actor = self._complaint_handler(by)
        text = self._complaint_text(reason, "reason")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.put_on_hold(
                reason=text, at=now, by=actor, access=self.policy.access
            ),
        )

    def resume(self, complaint_id: str, *, by: Actor, note: str = "") -> Complaint:
        """End the hold; the resolution deadline moves by the business time on hold."""
        actor = self._complaint_handler(by)
        remark = self._complaint_text(note, "note")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.resume(
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self.complaint_calendar(c),
                note=remark,
            ),
        )

    def agree_follow_up_time(
        self, complaint_id: str, *, planned_at: datetime, by: Actor
    ) -> Complaint:
        """Move the planned visit to a time agreed with the customer (DOMAIN.md 3.5);
        a time inside the customer's rest hours moves to the end of them."""
        actor = self._complaint_handler(by)

        def step(uow: UnitOfWork, c: Complaint, now: datetime) -> Complaint:
            return c.agree_follow_up_time(
                planned_at=planned_at,
                at=now,
                by=actor,
                access=self.policy.access,
                quiet_hours=self._complaint_rest_hours(uow, c.customer_id),
            )

        return self._complaint_step(complaint_id, step)

    def record_follow_up(
        self,
        complaint_id: str,
        *,
        outcome: FollowUpOutcome | str,
        notes: str,
        by: Actor,
        method: FollowUpMethod | str = FollowUpMethod.PHONE,
        owners: Mapping[str, str] | None = None,
    ) -> Complaint:
        """Record the follow-up visit (回访); a dissatisfied customer reopens the case.

        Source: DOMAIN.md 3.5: never during the customer's rest hours
        (:class:`~csdomain.errors.RuleViolation` ``quiet_hours``), the record is complete.
        """
        actor = self._complaint_handler(by)
        text = self._complaint_text(notes, "notes")
        holders = self._ladder_owners(owners)

        def step(uow: UnitOfWork, c: Complaint, now: datetime) -> Complaint:
            return c.record_follow_up(
                outcome=outcome,
                notes=text,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self.complaint_calendar(c),
                method=method,
                quiet_hours=self._complaint_rest_hours(uow, c.customer_id),
                owners=holders,
            )

        return self._complaint_step(complaint_id, step)

    def close_complaint(
        self,
        complaint_id: str,
        *,
        summary: str,
        by: Actor,
        improvement_measure: str = "",
    ) -> Complaint:
        """Close with a summary and an improvement measure (总结评价, step 7).

        When the satisfaction policy asks for it (``survey_after_complaint``, outside the
        ``survey_cooldown`` of the customer's last survey) a
        :class:`~csdomain.satisfaction.SurveyRequested` goes to the outbox as well.
        """
        actor = self._complaint_handler(by)
        text = self._complaint_text(summary, "summary")
        measure = self._complaint_text(improvement_measure, "improvement_measure")

        def request_survey(uow: UnitOfWork, closed: Complaint, now: datetime) -> None:
            survey = post_service_survey(
                SurveySubject.COMPLAINT,
                closed.id,
                closed.customer_id,
                self.policy.satisfaction,
                closed_at=now,
                last_survey_at=self._complaint_last_survey_at(uow, closed.customer_id, now),
            )
            if survey is not None:
                uow.emit(survey, at=now)

        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.close(
                summary=text,
                at=now,
                by=actor,
                access=self.policy.access,
                improvement_measure=measure,
            ),
            after_saved=request_survey,
        )

    def _complaint_last_survey_at(
        self, uow: UnitOfWork, customer_id: str, now: datetime
    ) -> datetime | None:
        """When the customer was last asked or answered a survey, within the cooldown."""
        cooldown = self.policy.satisfaction.survey_cooldown
        if cooldown <= timedelta(0):
            return None
        moments: list[datetime] = [
            response.answered_at
            for response in uow.repo(SURVEY_RESPONSES).scan(
                customer_id=customer_id, order_by="-answered_at", limit=1
            )
        ]
        moments.extend(
            entry.created_at
            for entry in uow.outbox.scan(
                type=SurveyRequested.type_name, created_at__ge=now - cooldown
            )
            if entry.payload.get("customer_id") == customer_id
        )
        return max(moments, default=None)

    # -- escalation ---------------------------------------------------------------------------

    def escalate_complaint(
        self,
        complaint_id: str,
        *,
        by: Actor,
        reason: EscalationReason | str = EscalationReason.MANUAL,
        owners: Mapping[str, str] | None = None,
        note: str = "",
    ) -> Complaint:
        """Move an open complaint one rung up the five-level ladder by hand (DOMAIN.md 3.4)."""
        actor = self._complaint_handler(by)
        holders = self._ladder_owners(owners)
        remark = self._complaint_text(note, "note")
        return self._complaint_step(
            complaint_id,
            lambda _uow, c, now: c.escalate(
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.complaints,
                reason=reason,
                owners=holders,
                note=remark,
            ),
        )

    def escalate_overdue(
        self, *, by: Actor, owners: Mapping[str, str] | None = None
    ) -> list[ComplaintEscalated]:
        """Move every overdue open complaint one rung up the ladder per missed deadline.

        Source: DOMAIN.md 3.4 (五级追访制). ``owners`` maps a ladder role to the person
        holding it, recorded as the new owner. Idempotent: a second run at the same
        instant changes nothing. Each step emits a
        :class:`~csdomain.complaints.ComplaintEscalated` (so the new owner can be told)
        and is returned. Complaints are read in batches of :attr:`escalation_batch`, each
        batch in its own unit of work; a rerun finishes what an interrupted run left.
        """
        actor = self._complaint_handler(by)
        holders = self._ladder_owners(owners)
        escalated: list[ComplaintEscalated] = []
        for deadline in ("resolve_by", "respond_by"):
            last: str | None = None
            while True:
                batch = partial(
                    self._escalate_complaint_batch,
                    deadline=deadline,
                    after=last,
                    by=actor,
                    owners=holders,
                )
                events, last, full = self.run(batch)
                escalated.extend(events)
                if not full:
                    break
        return escalated

    def _escalate_complaint_batch(
        self,
        uow: UnitOfWork,
        *,
        deadline: str,
        after: str | None,
        by: Actor,
        owners: Mapping[str, str] | None,
    ) -> tuple[list[ComplaintEscalated], str | None, bool]:
        """Escalate one batch of open complaints past ``deadline`` with keys after ``after``;
        returns the events, the last key read and whether the batch was full."""
        now = self.now()
        repo = uow.repo(COMPLAINTS)
        where: dict[str, Any] = {"status__in": sorted(OPEN_STATUSES), f"{deadline}__lt": now}
        if after is not None:
            where["key__gt"] = after
        batch = list(repo.scan(order_by="key", limit=self.escalation_batch, **where))
        events: list[ComplaintEscalated] = []
        for complaint in batch:
            if complaint.updated_at > now:
                continue
            moved, steps = escalate_overdue(
                complaint,
                now,
                self.policy.complaints,
                self.complaint_calendar(complaint),
                owners,
                by=by,
            )
            if steps:
                repo.update(moved)
                _emit_all(uow, steps, now)
                events.extend(steps)
        last = batch[-1].id if batch else after
        return events, last, len(batch) == self.escalation_batch

    # -- reports ------------------------------------------------------------------------------

    def breaches(
        self, *, by: Actor, at: datetime | None = None, include_met: bool = False
    ) -> list[SlaBreach]:
        """Service-level targets missed as of ``at`` (default: now), earliest due first.

        Source: DOMAIN.md 3.3. By default only targets still not met, i.e. open
        complaints past their response or resolution deadline; with ``include_met`` also
        the targets met late, over every complaint received before ``at``.
        """
        self.require(_actor(by), Permission.VIEW_REPORTS)
        moment = self.now() if at is None else _moment(at, "at")

        def work(uow: UnitOfWork) -> list[SlaBreach]:
            repo = uow.repo(COMPLAINTS)
            stream: Iterator[Complaint]
            if include_met:
                stream = repo.scan(received_at__lt=moment)
            else:
                stream = repo.scan(status__in=sorted(OPEN_STATUSES))
            found = [
                breach
                for complaint in stream
                for breach in sla_breaches(complaint, moment)
                if include_met or breach.still_open
            ]
            found.sort(key=lambda b: (b.due, b.complaint_id, b.target.value))
            return found

        return self.run(work, readonly=True)

    def missing_follow_ups(
        self, *, by: Actor, at: datetime | None = None, since: datetime | None = None
    ) -> list[Complaint]:
        """Resolved complaints of member customers not visited by their due time.

        Source: DOMAIN.md 3.5: 100 % of member customers are visited, within 3 days.
        Members are the customers whose class is in ``policy.complaints.follow_up_classes`` (member
        and VIP). ``since`` limits the report to visits due from then on.
        """
        self._complaint_handler(by)
        moment = self.now() if at is None else _moment(at, "at")
        start = None if since is None else _moment(since, "since")
        classes = self.policy.complaints.follow_up_classes

        def work(uow: UnitOfWork) -> list[Complaint]:
            customers = uow.repo(CUSTOMERS)

            @lru_cache(maxsize=_CACHED_CUSTOMERS)
            def is_member(customer_id: str) -> bool:
                customer = customers.get_or_none(customer_id)
                return customer is not None and customer.customer_class in classes

            where: dict[str, Any] = {"follow_up_due__lt": moment}
            if start is not None:
                where["follow_up_due__ge"] = start
            stream = uow.repo(COMPLAINTS).scan(order_by="follow_up_due", **where)
            return list(missing_follow_ups(stream, moment, is_member))

        return self.run(work, readonly=True)

    def complaint_statistics(
        self, start: datetime, end: datetime, *, by: Actor, top: int = 10
    ) -> ComplaintReport:
        """The complaint statistics table (顾客投诉分类统计表, DOMAIN.md 3.2 step 7).

        Counts the complaints received in ``[start, end)``, streamed from the store in
        bounded memory; durations are business time on the desk's calendar.
        """
        self.require(_actor(by), Permission.VIEW_REPORTS)
        first = _moment(start, "start")
        stop = _moment(end, "end")
        if stop <= first:
            raise ValidationError.at("end", "must be after start")
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise ValidationError.at("top", "must be a whole number >= 0")

        def work(uow: UnitOfWork) -> ComplaintReport:
            stream = uow.repo(COMPLAINTS).scan(received_at__ge=first, received_at__lt=stop)
            return ComplaintStatistics(self.calendar).add_all(stream).report(top=top)

        return self.run(work, readonly=True)
