"""Complaint use cases: the closed loop of docs/domain.md 3 on a store, a clock and calendars.

Every use case goes through the desk's skeleton (:func:`~csdomain.desk.base.use_case`):
its arguments are checked against their annotations and the policy's text limits, the
permission before anything is loaded, and the body runs in one unit of work that loads
the complaint, calls the pure :class:`~csdomain.complaints.Complaint` method with ``at=``
the desk's clock, saves it and emits the events the ``complaint`` kind declares
(:func:`~csdomain.complaints.complaint_events`). A failure of any kind rolls the whole
unit of work back, so the store is left unchanged.

- The owning team of a complaint is its ``department`` once assessed, before that the
  policy's default department of its category; its calendar is
  :meth:`~csdomain.desk.base.DeskBase.calendar_for` that team. Deadlines at receipt,
  holds, reopens and the escalation job all use that calendar.
- The customer's ``rest_hours`` (from the customer file), else the policy's
  ``notifications.default_rest_hours``, are the quiet hours for planning and recording
  the follow-up visit (docs/domain.md 3.5: never call during the customer's rest time).
- Closing a complaint asks :func:`csdomain.satisfaction.post_service_survey` whether to
  send the post-service survey, and emits its :class:`~csdomain.satisfaction.SurveyRequested`.
- Reports stream the store with ``scan()``; the escalation job reads open complaints in
  batches of bounded size, each batch its own unit of work.
- Personal data (docs/domain.md 1): a complaint's description, notes, replies and the
  customer's signature are about the customer. The queries that show them
  (:meth:`ComplaintDesk.get_complaint`, :meth:`ComplaintDesk.missing_follow_ups`,
  :meth:`ComplaintDesk.visit_report`) leave an access record per customer for an actor
  with ``customer.read``, in the same unit of work; an actor without it gets the
  customer's name, phone, e-mail, address and bank account masked in every free text
  (:class:`~csdomain.desk.privacy.PersonalDataRedactor`) and records nothing. The steps
  of the loop return the complaint masked the same way to an actor without
  ``customer.read``. The statistics table masks the customers' data in the causes it
  lists for everyone: a statistic needs no personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any

import attrs

from csdomain.auth import Actor, Permission
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.clock import utc
from csdomain.complaints import (
    OPEN_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEscalated,
    ComplaintNature,
    ComplaintReport,
    ComplaintStatistics,
    ComplaintStatus,
    ComplaintUrgency,
    EscalationReason,
    FollowUpMethod,
    FollowUpOutcome,
    Remedy,
    SlaBreach,
    VisitMonth,
    VisitRemark,
    escalate_overdue,
    follow_up_missed,
    receive_complaint,
    sla_breaches,
    visit_report,
)
from csdomain.customers import InteractionChannel
from csdomain.desk.args import Count, Id, LongText, ShortText
from csdomain.desk.base import DeskBase, checked, use_case
from csdomain.desk.customers import log_interaction
from csdomain.desk.privacy import ERASED, MASKED, PersonalDataRedactor, replace_whole, scrub
from csdomain.errors import NotFound, RuleViolation, ValidationError
from csdomain.ids import NamingSeries
from csdomain.kinds import COMPLAINTS, CUSTOMERS, ORDERS
from csdomain.lifecycle import last_entered
from csdomain.satisfaction import SurveySubject, post_service_survey
from csdomain.store import UnitOfWork


__all__ = ["ESCALATION_BATCH", "ComplaintDesk"]

#: How many complaints the escalation job loads into one unit of work.
ESCALATION_BATCH = 200

_CACHED_CUSTOMERS = 4096
#: What :meth:`ComplaintDesk.missing_follow_ups` reads of each complaint due a visit.
_RESOLVED = ComplaintStatus.RESOLVED.value
_FOLLOW_UP_FIELDS = (
    "id",
    "customer_id",
    "history.to",
    "history.at",
    "follow_up_due",
    "follow_ups.at",
)

_HANDLE = Permission.HANDLE_COMPLAINT

#: The interaction-log channel of each follow-up method (docs/domain.md 3.5 and 9).
_FOLLOW_UP_CHANNELS: dict[FollowUpMethod, InteractionChannel] = {
    FollowUpMethod.PHONE: InteractionChannel.CALL,
    FollowUpMethod.SMS: InteractionChannel.MESSAGE,
    FollowUpMethod.VISIT: InteractionChannel.VISIT,
    FollowUpMethod.EMAIL: InteractionChannel.MESSAGE,
}


def _mask_all(text: str) -> str:
    """Every free text masked: the customer is unknown, so is what to look for."""
    return replace_whole(text, MASKED)


def _masked(complaint: Complaint, redact: Callable[[str], str]) -> Complaint:
    """``complaint`` with ``redact`` applied to every free text and the signature masked.

    The name of whoever signed for the customer is personal data as a whole
    (:func:`~csdomain.desk.privacy.scrub` keeps fields ending in ``_by``, staff ids); a
    signature already erased in storage stays :data:`~csdomain.desk.privacy.ERASED`.
    """
    masked: Complaint = scrub(complaint, redact, replacement=MASKED)
    if masked.acceptance is not None and masked.acceptance.signed_by not in (ERASED, MASKED):
        masked = attrs.evolve(masked, acceptance=attrs.evolve(masked.acceptance, signed_by=MASKED))
    return masked


class ComplaintDesk(DeskBase):
    """The complaint use cases (投诉, docs/domain.md 3) of the service desk."""

    #: How many complaints the escalation job loads into one unit of work.
    escalation_batch: int = ESCALATION_BATCH

    # -- personal data ---------------------------------------------------------------------

    def _complaint_redactor(self, uow: UnitOfWork, customer_id: str) -> Callable[[str], str]:
        """What masks ``customer_id``'s personal data in free text (everything if unknown)."""
        customer = uow.repo(CUSTOMERS).get_or_none(customer_id)
        if customer is None:
            return _mask_all
        return PersonalDataRedactor.for_customer(
            customer, country_code=self.policy.customers.phone_country_code, replacement=MASKED
        )

    def _complaint_redactors(self, uow: UnitOfWork) -> Callable[[str], Callable[[str], str]]:
        """:meth:`_complaint_redactor` per customer id, each customer read once."""
        return lru_cache(maxsize=_CACHED_CUSTOMERS)(partial(self._complaint_redactor, uow))

    def _masked_complaints(self, uow: UnitOfWork, complaint: Complaint) -> Complaint:
        """``complaint`` with its customer's personal data masked in every free text."""
        return _masked(complaint, self._complaint_redactor(uow, complaint.customer_id))

    def _out_complaints(self, uow: UnitOfWork, complaint: Complaint, by: Actor) -> Complaint:
        """A step's result for ``by``: masked unless ``by`` may read personal data."""
        return complaint if self.may_read_personal(by) else self._masked_complaints(uow, complaint)

    def _change(
        self, uow: UnitOfWork, by: Actor, complaint_id: str, step: Callable[[Complaint], Complaint]
    ) -> Complaint:
        """:meth:`~csdomain.desk.base.DeskBase.change` of one complaint, shown to ``by``."""
        return self._out_complaints(uow, self.change(uow, COMPLAINTS, complaint_id, step), by)

    def _shown_complaints(
        self, uow: UnitOfWork, complaints: list[Complaint], by: Actor, purpose: str
    ) -> list[Complaint]:
        """``complaints`` as a query shows them to ``by`` (docs/domain.md 1).

        With ``customer.read``: as stored, one access record per customer (``purpose``);
        without: masked, nothing recorded.
        """
        if self.may_read_personal(by):
            self.record_access(uow, [c.customer_id for c in complaints], by, purpose)
            return complaints
        redactor = self._complaint_redactors(uow)
        return [_masked(c, redactor(c.customer_id)) for c in complaints]

    # -- what the use cases look up ---------------------------------------------------------

    def _ladder_owners(self, owners: Mapping[str, str] | None) -> Mapping[str, str] | None:
        """``owners`` checked against the ladder, else the desk-wide ``ladder_owners``."""
        return self.owners_of_ladder(owners)

    def _team_calendar(
        self, department: str | None, category: ComplaintCategory
    ) -> BusinessCalendar:
        team = department or self.policy.complaints.department_for(category)
        return self.calendar_for(team)

    def _calendar_of(self, complaint: Complaint) -> BusinessCalendar:
        return self._team_calendar(complaint.department, complaint.category)

    def _rest_hours(self, uow: UnitOfWork, customer_id: str) -> QuietHours | None:
        """The customer's rest hours, else the policy's default rest hours (every customer
        has rest hours nobody calls in, docs/domain.md 3.5)."""
        customer = uow.repo(CUSTOMERS).get_or_none(customer_id)
        if customer is not None and customer.rest_hours is not None:
            return customer.rest_hours
        return self.policy.notifications.default_rest_hours

    @checked()
    def complaint_calendar(self, complaint: Complaint) -> BusinessCalendar:
        """The calendar of the team that owns ``complaint`` (its department, else the
        policy's default department of its category)."""
        return self._calendar_of(complaint)

    # -- receiving --------------------------------------------------------------------------

    @use_case(_HANDLE)
    def receive_complaint(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        channel: ComplaintChannel | str,
        urgency: ComplaintUrgency | str,
        category: ComplaintCategory | str,
        description: LongText,
        by: Actor,
        nature: ComplaintNature | str = ComplaintNature.NORMAL,
        order_id: Id | None = None,
        owner_id: Id | None = None,
        owners: Mapping[str, Id] | None = None,
    ) -> Complaint:
        """Receive a complaint at once (受理即时) under the next complaint number.

        Source: docs/domain.md 3.2 step 1 and 3.3: the response and resolution deadlines are
        set on the owning team's calendar. The customer (and the order, if named, which
        must be the customer's) must be on file.
        """
        holders = self._ladder_owners(owners)
        now = self.now()
        if not uow.repo(CUSTOMERS).exists(customer_id):
            raise NotFound(CUSTOMERS.name, customer_id)
        if order_id is not None:
            order = uow.repo(ORDERS).get_or_none(order_id)
            if order is None:
                raise NotFound(ORDERS.name, order_id)
            if order.customer_id != customer_id:
                raise RuleViolation(
                    "order_of_another_customer",
                    "the order named in a complaint must be the complainant's",
                    order_id=order_id,
                    customer_id=customer_id,
                )
        kind = ComplaintCategory(category)
        complaint = receive_complaint(
            id=NamingSeries(self.policy.complaints.number_pattern).next(uow, now),
            customer_id=customer_id,
            channel=channel,
            urgency=urgency,
            category=kind,
            description=description,
            at=now,
            by=by,
            access=self.policy.access,
            policy=self.policy.complaints,
            calendar=self._team_calendar(None, kind),
            nature=nature,
            order_id=order_id,
            owner_id=owner_id,
            owners=holders,
        )
        return self._out_complaints(uow, self.create(uow, COMPLAINTS, complaint), by)

    @use_case(_HANDLE)
    def get_complaint(self, uow: UnitOfWork, complaint_id: Id, *, by: Actor) -> Complaint:
        """The stored complaint; :class:`~csdomain.errors.NotFound` if there is none.

        Source: docs/domain.md 1 (nobody reads a customer's data without it being on
        record): the description and notes are about the customer, so an actor with
        ``customer.read`` leaves an access record (purpose ``complaint``) in the same unit
        of work; one without it gets the customer's personal data masked and records nothing.
        """
        complaint = uow.repo(COMPLAINTS).get(complaint_id)
        return self._shown_complaints(uow, [complaint], by, "complaint")[0]

    # -- the loop ---------------------------------------------------------------------------

    @use_case(_HANDLE)
    def acknowledge(self, uow: UnitOfWork, complaint_id: Id, *, by: Actor) -> Complaint:
        """Record the first response to the customer (docs/domain.md 3.2, 3.3); idempotent."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow, by, complaint_id, lambda c: c.acknowledge(at=now, by=by, access=access)
        )

    @use_case(_HANDLE)
    def assign(self, uow: UnitOfWork, complaint_id: Id, *, owner_id: Id, by: Actor) -> Complaint:
        """Hand an open complaint to a named person at its current ladder level."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.assign(owner_id=owner_id, at=now, by=by, access=access),
        )

    @use_case(_HANDLE)
    def assess_complaint(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        by: Actor,
        department: str | None = None,
        answer_promised_by: datetime | None = None,
        nature: ComplaintNature | str | None = None,
        note: LongText = "",
    ) -> Complaint:
        """Judge the complaint founded and name the responsible department (判断, step 2).

        Without ``department`` the policy's default for the category is used.
        """
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.assess(
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                department=department,
                answer_promised_by=answer_promised_by,
                nature=nature,
                note=note,
            ),
        )

    @use_case(_HANDLE)
    def reject_complaint(
        self, uow: UnitOfWork, complaint_id: Id, *, reply: LongText, by: Actor
    ) -> Complaint:
        """Answer an unfounded complaint tactfully and reject it; it is still counted.

        Source: docs/domain.md 3.2 step 2.
        """
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.reject(reply=reply, at=now, by=by, access=access),
        )

    @use_case(_HANDLE)
    def start_investigation(
        self, uow: UnitOfWork, complaint_id: Id, *, by: Actor, note: LongText = ""
    ) -> Complaint:
        """Start looking for the cause and the responsible person (调查, step 3)."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.start_investigation(at=now, by=by, access=access, note=note),
        )

    @use_case(_HANDLE)
    def record_cause(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        cause: LongText,
        by: Actor,
        responsible_person: str | None = None,
    ) -> Complaint:
        """Record the cause found and who is responsible (docs/domain.md 3.2 step 3)."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.record_cause(
                cause=cause, at=now, by=by, access=access, responsible_person=responsible_person
            ),
        )

    @use_case(_HANDLE)
    def propose_resolution(
        self, uow: UnitOfWork, complaint_id: Id, *, remedies: Sequence[Remedy], by: Actor
    ) -> Complaint:
        """Propose one or more remedies for a manager to choose from (方案, step 4)."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.propose_resolution(remedies=remedies, at=now, by=by, access=access),
        )

    @use_case(_HANDLE)
    def send_back_resolution(
        self, uow: UnitOfWork, complaint_id: Id, *, reason: LongText, by: Actor
    ) -> Complaint:
        """The manager approves none of the proposals: investigate again (not a reopen)."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.send_back(reason=reason, at=now, by=by, access=access),
        )

    @use_case(Permission.APPROVE_REMEDY, _HANDLE)
    def approve_resolution(
        self, uow: UnitOfWork, complaint_id: Id, *, choice: int, by: Actor, note: LongText = ""
    ) -> Complaint:
        """A manager approves the best proposal (主管领导批示, docs/domain.md 3.2 step 4).

        Every remedy needs ``complaint.approve_remedy`` (the managers'; the policy's
        ``manager_approves_every_remedy`` may let handlers approve remedies of no
        substance). docs/domain.md 3.6: a remedy of substance needs an approval limit
        covering its amount; goodwill to an abnormal complaint needs the top role.
        Otherwise :class:`~csdomain.errors.PermissionDenied`. An actor with neither
        permission is refused before anything is loaded; the complaint checks the rest of
        the authority itself: it depends on the chosen remedy.
        """
        now, access, policy = self.now(), self.policy.access, self.policy.complaints
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.approve_resolution(
                choice=choice, at=now, by=by, access=access, note=note, policy=policy
            ),
        )

    @use_case(_HANDLE)
    def accept_resolution(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        signed_by: str,
        by: Actor,
        preferred_follow_up_at: datetime | None = None,
        feedback: LongText = "",
    ) -> Complaint:
        """The customer accepts (signs for) the remedy: resolved, visit planned.

        Source: docs/domain.md 3.2 step 5 and 3.5: the follow-up visit is due within the
        policy's period and planned outside the customer's rest hours.
        """
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.accept_resolution(
                signed_by=signed_by,
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                quiet_hours=self._rest_hours(uow, c.customer_id),
                preferred_follow_up_at=preferred_follow_up_at,
                feedback=feedback,
            ),
        )

    @use_case(_HANDLE)
    def refuse_resolution(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        reason: LongText,
        by: Actor,
        owners: Mapping[str, Id] | None = None,
    ) -> Complaint:
        """The customer refuses the remedy: reopened, investigated again, one rung up.

        Source: docs/domain.md 3.2 step 5 and 3.4 (a customer still unhappy moves the case up).
        """
        holders = self._ladder_owners(owners)
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.refuse_resolution(
                reason=reason,
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self._calendar_of(c),
                owners=holders,
            ),
        )

    @use_case(_HANDLE)
    def put_on_hold(
        self, uow: UnitOfWork, complaint_id: Id, *, reason: LongText, by: Actor
    ) -> Complaint:
        """Wait for the customer; the resolution clock stops (docs/domain.md 3.3)."""
        now, access = self.now(), self.policy.access
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.put_on_hold(reason=reason, at=now, by=by, access=access),
        )

    @use_case(_HANDLE)
    def resume(
        self, uow: UnitOfWork, complaint_id: Id, *, by: Actor, note: LongText = ""
    ) -> Complaint:
        """End the hold; the resolution deadline moves by the business time on hold."""
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.resume(
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self._calendar_of(c),
                note=note,
            ),
        )

    @use_case(_HANDLE)
    def agree_follow_up_time(
        self, uow: UnitOfWork, complaint_id: Id, *, planned_at: datetime, by: Actor
    ) -> Complaint:
        """Move the planned visit to a time agreed with the customer (docs/domain.md 3.5);
        a time inside the customer's rest hours moves to the end of them."""
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.agree_follow_up_time(
                planned_at=planned_at,
                at=now,
                by=by,
                access=self.policy.access,
                quiet_hours=self._rest_hours(uow, c.customer_id),
            ),
        )

    @use_case(_HANDLE)
    def record_follow_up(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        outcome: FollowUpOutcome | str,
        notes: LongText,
        by: Actor,
        method: FollowUpMethod | str = FollowUpMethod.PHONE,
        owners: Mapping[str, Id] | None = None,
        suggestions: LongText = "",
        improvements: LongText = "",
    ) -> Complaint:
        """Record the follow-up visit (回访); a dissatisfied customer reopens the case.

        Source: docs/domain.md 3.5: never during the customer's rest hours
        (:class:`~csdomain.errors.RuleViolation` ``quiet_hours``), the record is complete,
        and the script's answer is kept with the visit: a satisfied customer's
        ``suggestions``, a neutral or dissatisfied one's ``improvements`` (required with
        ``complaints.visit_answer_required``: ``visit_answer_missing``).
        """
        holders = self._ladder_owners(owners)
        now = self.now()
        done = self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.record_follow_up(
                outcome=outcome,
                notes=notes,
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                calendar=self._calendar_of(c),
                method=method,
                quiet_hours=self._rest_hours(uow, c.customer_id),
                owners=holders,
                suggestions=suggestions,
                improvements=improvements,
            ),
        )
        # the visit is a contact with the customer: it goes into their interaction log
        log_interaction(
            uow,
            customer_id=done.customer_id,
            channel=_FOLLOW_UP_CHANNELS[FollowUpMethod(method)],
            summary=f"follow-up visit of complaint {done.id}: {FollowUpOutcome(outcome).value}",
            at=now,
            by=by.id,
            source="complaint_follow_up",
            subject_id=done.id,
        )
        return done

    @use_case(_HANDLE)
    def record_written_statement(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        reference: ShortText,
        by: Actor,
        dated: date | None = None,
    ) -> Complaint:
        """Record the written statement of a customer insisting on an unreasonable demand.

        Source: docs/domain.md 3.6 and 9 (要求其出具无理要求的书面材料): its ``reference``, the
        date it bears (``dated``, default today on the owning team's calendar, never
        later) and who recorded it. Only an abnormal complaint
        (``written_statement_not_abnormal``) that is not closed (``statement_after_closing``).
        """
        now = self.now()

        def step(c: Complaint) -> Complaint:
            today = now.astimezone(self._calendar_of(c).zone).date()
            day = today if dated is None else dated
            if day > today:
                raise ValidationError.at("dated", f"must not be after today ({today})")
            access = self.policy.access
            return c.record_written_statement(
                reference=reference, dated=day, at=now, by=by, access=access
            )

        return self._change(uow, by, complaint_id, step)

    @use_case(_HANDLE)
    def close_complaint(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        summary: LongText,
        by: Actor,
        improvement_measure: LongText = "",
        penalty: LongText = "",
        penalised: Id | None = None,
    ) -> Complaint:
        """Close with a summary and an improvement measure (总结评价, step 7).

        docs/domain.md 3.2 step 5 (responsible staff may be penalised): ``penalty`` is
        recorded with who was penalised (``penalised``, else the complaint's responsible
        person) and by whom; ``complaints.penalty_required_at_fault`` makes it required
        for a complaint found at the company's fault (``penalty_required``); see
        :meth:`~csdomain.complaints.Complaint.close` for the other codes.

        When the satisfaction policy asks for it (``survey_after_complaint``, outside the
        ``survey_cooldown`` of the customer's last survey) a
        :class:`~csdomain.satisfaction.SurveyRequested` goes to the outbox as well.
        """
        now, access = self.now(), self.policy.access
        closed = self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.close(
                summary=summary,
                at=now,
                by=by,
                access=access,
                improvement_measure=improvement_measure,
                penalty=penalty,
                penalised=penalised,
                policy=self.policy.complaints,
            ),
        )
        survey = post_service_survey(
            SurveySubject.COMPLAINT,
            closed.id,
            closed.customer_id,
            self.policy.satisfaction,
            closed_at=now,
            last_survey_at=self._last_survey_at(uow, closed.customer_id, now),
        )
        if survey is not None:
            uow.emit(survey, at=now)
        return closed

    # -- escalation ---------------------------------------------------------------------------

    @use_case(_HANDLE)
    def escalate_complaint(
        self,
        uow: UnitOfWork,
        complaint_id: Id,
        *,
        by: Actor,
        reason: EscalationReason | str = EscalationReason.MANUAL,
        owners: Mapping[str, Id] | None = None,
        note: LongText = "",
    ) -> Complaint:
        """Move an open complaint one rung up the five-level ladder by hand (docs/domain.md 3.4)."""
        holders = self._ladder_owners(owners)
        now = self.now()
        return self._change(
            uow,
            by,
            complaint_id,
            lambda c: c.escalate(
                at=now,
                by=by,
                access=self.policy.access,
                policy=self.policy.complaints,
                reason=reason,
                owners=holders,
                note=note,
            ),
        )

    @checked(_HANDLE)
    def escalate_overdue(
        self, *, by: Actor, owners: Mapping[str, Id] | None = None
    ) -> list[ComplaintEscalated]:
        """Move every overdue open complaint one rung up the ladder per missed deadline.

        Source: docs/domain.md 3.4 (五级追访制). ``owners`` maps a ladder role to the person
        holding it, recorded as the new owner. Idempotent: a second run at the same
        instant changes nothing. Each step emits a
        :class:`~csdomain.complaints.ComplaintEscalated` (so the new owner can be told)
        and is returned. Complaints are read in batches of :attr:`escalation_batch`, each
        batch in its own unit of work; a rerun finishes what an interrupted run left.
        """
        holders = self._ladder_owners(owners)
        escalated: list[ComplaintEscalated] = []
        for deadline in ("resolve_by", "respond_by"):
            last: str | None = None
            while True:
                batch = partial(
                    self._escalate_batch, deadline=deadline, after=last, by=by, owners=holders
                )
                events, last, full = self.run(batch)
                escalated.extend(events)
                if not full:
                    break
        return escalated

    def _escalate_batch(
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
                complaint, now, self.policy.complaints, self._calendar_of(complaint), owners, by=by
            )
            if steps:
                repo.update(moved)
                self.emit_events(uow, COMPLAINTS, complaint, moved)
                events.extend(steps)
        last = batch[-1].id if batch else after
        return events, last, len(batch) == self.escalation_batch

    # -- reports ------------------------------------------------------------------------------

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def breaches(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        at: datetime | None = None,
        include_met: bool = False,
    ) -> list[SlaBreach]:
        """Service-level targets missed as of ``at`` (default: now), earliest due first.

        Source: docs/domain.md 3.3. By default only targets still not met, i.e. open
        complaints past their response or resolution deadline; with ``include_met`` also
        the targets met late, over every complaint received before ``at``.
        """
        moment = self.now() if at is None else at
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

    @use_case(_HANDLE)
    def missing_follow_ups(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        at: datetime | None = None,
        since: datetime | None = None,
    ) -> list[Complaint]:
        """Resolved complaints of member customers not visited by their due time.

        Source: docs/domain.md 3.5: 100 % of member customers are visited, within 3 days.
        Members are the customers whose class is in ``policy.complaints.follow_up_classes``
        (member and VIP). ``since`` limits the report to visits due from then on. The
        complaints are shown as :meth:`get_complaint` shows them (an access record per
        customer, purpose ``missing follow-ups``, or masked).
        """
        moment = self.now() if at is None else at
        classes = self.policy.complaints.follow_up_classes
        customers = uow.repo(CUSTOMERS)

        @lru_cache(maxsize=_CACHED_CUSTOMERS)
        def is_member(customer_id: str) -> bool:
            customer = customers.get_or_none(customer_id)
            return customer is not None and customer.customer_class in classes

        where: dict[str, Any] = {"follow_up_due__lt": moment}
        if since is not None:
            where["follow_up_due__ge"] = since
        repo = uow.repo(COMPLAINTS)
        instant = utc(moment)
        # only the fields the rule reads; whole complaints for the few it finds
        rows = repo.scan_fields(_FOLLOW_UP_FIELDS, order_by="follow_up_due", **where)
        found = [
            repo.get(complaint_id)
            for complaint_id, customer_id, moves, moments, due, visits in rows
            if follow_up_missed(last_entered(_RESOLVED, moves, moments), due, visits, instant)
            and is_member(customer_id)
        ]
        return self._shown_complaints(uow, found, by, "missing follow-ups")

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def complaint_statistics(
        self, uow: UnitOfWork, start: datetime, end: datetime, *, by: Actor, top: Count = 10
    ) -> ComplaintReport:
        """The complaint statistics table (顾客投诉分类统计表, docs/domain.md 3.2 step 7).

        Counts the complaints received in ``[start, end)``, streamed from the store in
        bounded memory; durations are business time on the desk's calendar.
        """
        if end <= start:
            raise ValidationError.at("end", "must be after start")
        fields = (*ComplaintStatistics.FIELDS, "customer_id")
        rows = uow.repo(COMPLAINTS).scan_fields(fields, received_at__ge=start, received_at__lt=end)
        redactor = self._complaint_redactors(uow)
        cause_at = len(ComplaintStatistics.FIELDS) - 1
        masked = (
            row if row[cause_at] is None else (*row[:cause_at], redactor(row[-1])(row[cause_at]))
            for row in rows
        )
        statistics = ComplaintStatistics(self.calendar).add_all_fields(masked)
        return statistics.report(top=top)

    @use_case(Permission.VIEW_REPORTS)
    def visit_report(
        self, uow: UnitOfWork, start: datetime, end: datetime, *, by: Actor
    ) -> list[VisitMonth]:
        """The monthly visit report (docs/domain.md 3.5: a visit log and a summary report).

        Per local month of the desk's calendar in ``[start, end)``: the visits made, their
        outcomes, the satisfied customers' suggestions and what the others want improved
        (:func:`~csdomain.complaints.visit_report`). The answers are about customers: an
        actor with ``customer.read`` leaves an access record per customer listed (purpose
        ``visit report``), one without it gets them masked.
        """
        if end <= start:
            raise ValidationError.at("end", "must be after start")
        stream = uow.repo(COMPLAINTS).scan(received_at__lt=end)
        months = list(visit_report(stream, start, end, self.calendar.tz))
        remarks = [r for m in months for r in (*m.suggestions, *m.improvements)]
        if self.may_read_personal(by):
            self.record_access(uow, [r.customer_id for r in remarks], by, "visit report")
            return months
        redactor = self._complaint_redactors(uow)
        return [
            attrs.evolve(
                m,
                suggestions=_masked_remarks(m.suggestions, redactor),
                improvements=_masked_remarks(m.improvements, redactor),
            )
            for m in months
        ]


def _masked_remarks(
    remarks: Iterable[VisitRemark], redactor: Callable[[str], Callable[[str], str]]
) -> tuple[VisitRemark, ...]:
    """``remarks`` with each customer's personal data masked."""
    return tuple(attrs.evolve(r, text=redactor(r.customer_id)(r.text)) for r in remarks)
