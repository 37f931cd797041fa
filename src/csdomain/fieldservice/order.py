"""The service order (工单): a job from the customer's call to settlement.

A :class:`ServiceOrder` is received (with a job number, its product file's serial and
model, the customer's address and service area, the requested visit time and the
promise's deadlines), triaged, then either resolved by phone (a remote resolution) or
dispatched to a technician of an own or contracted service point; the technician travels,
arrives (the fix clock starts), records each visit, may wait for parts, completes the
job; the customer signs off; the job is settled and closed. A job can be cancelled before
the work is done and re-dispatched to another technician. The moves are data
(:data:`SERVICE_ORDER_TRANSITIONS` and beside it the command table of
:data:`SERVICE_ORDER_LIFECYCLE`); every step appends a
:class:`~csdomain.lifecycle.StatusChange`.

Late jobs climb the complaint area's five-level ladder: a service order is an
:class:`~csdomain.complaints.escalation.Escalatable` whose first round runs to the
on-site deadline and whose second round, from the first arrival, to the fix deadline,
so :func:`~csdomain.complaints.escalation.overdue_deadlines` and
:func:`~csdomain.complaints.escalation.escalation_step` plan its escalations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import utc
from csdomain.complaints import ComplaintPolicy, ComplaintUrgency, EscalationStep
from csdomain.complaints.escalation import escalation_step, overdue_deadlines
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice._checks import texts
from csdomain.fieldservice.charges import (
    ChargeLine,
    Coverage,
    QuoteApproval,
    ServiceQuote,
    Settlement,
    total_of,
)
from csdomain.fieldservice.classification import ServiceOrderKind, ServiceOrderSource, ServiceRoute
from csdomain.fieldservice.network import Technician
from csdomain.fieldservice.policy import FieldServicePolicy
from csdomain.fieldservice.promise import call_deadlines, fix_deadline
from csdomain.fieldservice.triage import TriageResult
from csdomain.fieldservice.visits import Dispatch, SignOff, VisitRecord
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.money import Money
from csdomain.orders import REDACTED
from csdomain.validators import (
    as_tuple,
    aware,
    enum_value,
    flag,
    instance_of,
    integer,
    not_blank,
    optional,
    optional_aware,
    optional_text,
    text,
    tuple_of,
)


__all__ = [
    "ASSIGNED_STATUSES",
    "OPEN_SERVICE_STATUSES",
    "SERVICE_ORDER_LIFECYCLE",
    "SERVICE_ORDER_TRANSITIONS",
    "ServiceOrder",
    "ServiceOrderStatus",
    "check_technician_fits",
]


class ServiceOrderStatus(StrEnum):
    """Where a service order stands."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    RESOLVED_REMOTELY = "resolved_remotely"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    WAITING_FOR_PARTS = "waiting_for_parts"
    FIXED = "fixed"
    SIGNED_OFF = "signed_off"
    SETTLED = "settled"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_S = ServiceOrderStatus

#: Allowed moves of a service order. A triaged call may be triaged again (new facts); a
#: dispatched job may be re-dispatched; on site ⇄ waiting for parts; a fixed job the
#: customer does not accept goes back on site.
SERVICE_ORDER_TRANSITIONS: Mapping[ServiceOrderStatus, frozenset[ServiceOrderStatus]] = {
    _S.RECEIVED: frozenset({_S.TRIAGED, _S.RESOLVED_REMOTELY, _S.CANCELLED}),
    _S.TRIAGED: frozenset({_S.TRIAGED, _S.RESOLVED_REMOTELY, _S.DISPATCHED, _S.CANCELLED}),
    _S.RESOLVED_REMOTELY: frozenset({_S.CLOSED}),
    _S.DISPATCHED: frozenset({_S.DISPATCHED, _S.EN_ROUTE, _S.ON_SITE, _S.CANCELLED}),
    _S.EN_ROUTE: frozenset({_S.DISPATCHED, _S.ON_SITE, _S.CANCELLED}),
    _S.ON_SITE: frozenset({_S.ON_SITE, _S.WAITING_FOR_PARTS, _S.FIXED}),
    _S.WAITING_FOR_PARTS: frozenset({_S.DISPATCHED, _S.ON_SITE, _S.CANCELLED}),
    _S.FIXED: frozenset({_S.ON_SITE, _S.SIGNED_OFF}),
    _S.SIGNED_OFF: frozenset({_S.SETTLED}),
    _S.SETTLED: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

_PLANNING = frozenset({_S.TRIAGED, _S.DISPATCHED, _S.EN_ROUTE, _S.ON_SITE, _S.WAITING_FOR_PARTS})

#: What each step of a job does: the statuses it runs from and the status it leads to
#: (the command table beside :data:`SERVICE_ORDER_TRANSITIONS`, rendered in the docs).
SERVICE_ORDER_LIFECYCLE: Lifecycle[ServiceOrderStatus] = Lifecycle(
    "service order",
    SERVICE_ORDER_TRANSITIONS,
    {
        "triage": Command("triage the call", frozenset({_S.RECEIVED, _S.TRIAGED}), _S.TRIAGED),
        "resolve_remotely": Command(
            "resolve it by phone", frozenset({_S.RECEIVED, _S.TRIAGED}), _S.RESOLVED_REMOTELY
        ),
        "dispatch": Command("dispatch a technician", frozenset({_S.TRIAGED}), _S.DISPATCHED),
        "redispatch": Command(
            "dispatch again",
            frozenset({_S.DISPATCHED, _S.EN_ROUTE, _S.WAITING_FOR_PARTS}),
            _S.DISPATCHED,
        ),
        "start_travel": Command("start the journey", frozenset({_S.DISPATCHED}), _S.EN_ROUTE),
        "record_arrival": Command(
            "record the arrival",
            frozenset({_S.DISPATCHED, _S.EN_ROUTE, _S.WAITING_FOR_PARTS}),
            _S.ON_SITE,
        ),
        "record_visit": Command("record the visit", frozenset({_S.ON_SITE}), _S.ON_SITE),
        "wait_for_parts": Command(
            "record the visit that waits for parts", frozenset({_S.ON_SITE}), _S.WAITING_FOR_PARTS
        ),
        "quote": Command("quote the work", _PLANNING),
        "approve_quote": Command("approve the quote", _PLANNING),
        "complete": Command("complete the job", frozenset({_S.ON_SITE}), _S.FIXED),
        "reopen": Command("reopen the job", frozenset({_S.FIXED}), _S.ON_SITE),
        "sign_off": Command("get the customer's sign-off", frozenset({_S.FIXED}), _S.SIGNED_OFF),
        "settle": Command("settle the job", frozenset({_S.SIGNED_OFF}), _S.SETTLED),
        "close": Command("close the job", frozenset({_S.SETTLED, _S.RESOLVED_REMOTELY}), _S.CLOSED),
        "cancel": Command(
            "cancel the job",
            frozenset({_S.RECEIVED, _S.TRIAGED, _S.DISPATCHED, _S.EN_ROUTE, _S.WAITING_FOR_PARTS}),
            _S.CANCELLED,
        ),
    },
)

#: Statuses of a job whose fault is not cleared yet (its promise still runs).
OPEN_SERVICE_STATUSES: frozenset[ServiceOrderStatus] = frozenset(
    {_S.RECEIVED, _S.TRIAGED, _S.DISPATCHED, _S.EN_ROUTE, _S.ON_SITE, _S.WAITING_FOR_PARTS}
)
#: Statuses in which a technician holds the job (what fills a technician's day).
ASSIGNED_STATUSES: frozenset[ServiceOrderStatus] = frozenset(
    {_S.DISPATCHED, _S.EN_ROUTE, _S.ON_SITE, _S.WAITING_FOR_PARTS}
)


def _status(value: object) -> ServiceOrderStatus:
    return enum_value(ServiceOrderStatus, value, "status")


def _kind(value: object) -> ServiceOrderKind:
    return enum_value(ServiceOrderKind, value, "kind")


def _source(value: object) -> ServiceOrderSource:
    return enum_value(ServiceOrderSource, value, "source")


def _urgency(value: object) -> ComplaintUrgency:
    return enum_value(ComplaintUrgency, value, "urgency")


def _coverage(value: object) -> Coverage | None:
    return None if value is None else enum_value(Coverage, value, "coverage")


def _actor(by: object) -> Actor:
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    return by


def _note(note: object) -> str:
    if not isinstance(note, str):
        raise ValidationError.at("note", f"expected text, got {type(note).__name__}")
    return note


def _level(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    integer(_instance, attribute, value)
    if not 1 <= value <= 5:  # type: ignore[operator]
        raise ValidationError.at(
            attribute.name, f"must be a level from 1 to 5, got {describe(value)}"
        )


@attrs.frozen(kw_only=True)
class ServiceOrder:
    """A field-service job (工单) from the call to settlement; see the module docstring.

    ``id`` is the job number; a follow-up job keeps its original number with a suffix and
    names it in ``follow_up_of``. ``in_warranty`` says whether the product was within
    its warranty period when the call came in.
    """

    id: str = attrs.field(validator=not_blank)
    kind: ServiceOrderKind = attrs.field(converter=_kind)
    source: ServiceOrderSource = attrs.field(converter=_source)
    source_ref: str | None = attrs.field(default=None, validator=optional_text)
    customer_id: str = attrs.field(validator=not_blank)
    product_serial: str = attrs.field(validator=not_blank)
    model: str = attrs.field(validator=not_blank)
    address: str = attrs.field(validator=text)
    service_area_id: str = attrs.field(validator=not_blank)
    district: str = attrs.field(validator=not_blank)
    urgency: ComplaintUrgency = attrs.field(converter=_urgency)
    symptoms: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    description: str = attrs.field(default="", validator=text)
    requested_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    in_warranty: bool = attrs.field(validator=flag)
    follow_up_of: str | None = attrs.field(default=None, validator=optional_text)
    received_at: datetime = attrs.field(validator=aware)
    respond_by: datetime = attrs.field(validator=aware)
    on_site_by: datetime = attrs.field(validator=aware)
    responded_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    triage: TriageResult | None = attrs.field(
        default=None, validator=optional(instance_of(TriageResult))
    )
    dispatches: tuple[Dispatch, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Dispatch)
    )
    arrived_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    fix_by: datetime | None = attrs.field(default=None, validator=optional_aware)
    visits: tuple[VisitRecord, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(VisitRecord)
    )
    quote: ServiceQuote | None = attrs.field(
        default=None, validator=optional(instance_of(ServiceQuote))
    )
    quote_approval: QuoteApproval | None = attrs.field(
        default=None, validator=optional(instance_of(QuoteApproval))
    )
    charges: tuple[ChargeLine, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ChargeLine)
    )
    coverage: Coverage | None = attrs.field(default=None, converter=_coverage)
    warranty_claim_id: str | None = attrs.field(default=None, validator=optional_text)
    fixed_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    sign_off: SignOff | None = attrs.field(default=None, validator=optional(instance_of(SignOff)))
    settlement: Settlement | None = attrs.field(
        default=None, validator=optional(instance_of(Settlement))
    )
    resolution: str = attrs.field(default="", validator=text)
    escalation_level: int = attrs.field(default=1, validator=_level)
    escalations: tuple[EscalationStep, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(EscalationStep)
    )
    status: ServiceOrderStatus = attrs.field(default=_S.RECEIVED, converter=_status)
    history: tuple[StatusChange, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(StatusChange)
    )

    def __attrs_post_init__(self) -> None:
        if not self.history:
            raise ValidationError.at("history", "a service order starts with its receipt")
        if self.history[-1].to != self.status.value:
            raise ValidationError.at("status", "does not match the last history entry")

    # -- receipt ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        id: str,
        kind: ServiceOrderKind,
        source: ServiceOrderSource,
        customer_id: str,
        product_serial: str,
        model: str,
        address: str,
        service_area_id: str,
        district: str,
        urgency: ComplaintUrgency,
        in_warranty: bool,
        at: datetime,
        by: Actor,
        policy: FieldServicePolicy,
        complaints: ComplaintPolicy,
        calendar: BusinessCalendar,
        symptoms: Iterable[str] = (),
        description: str = "",
        requested_at: datetime | None = None,
        source_ref: str | None = None,
        follow_up_of: str | None = None,
        note: str = "",
    ) -> ServiceOrder:
        """Receive a service call: the job number, the product, the promise's deadlines.

        Source: "respond within 30 minutes, on site within 24 hours" from receipt; the
        job starts on the ladder rung of its urgency (the complaint policy's start level).
        """
        actor = _actor(by)
        moment = utc(at)
        respond_by, on_site_by = call_deadlines(urgency, moment, policy, calendar)
        received = StatusChange(None, _S.RECEIVED.value, moment, actor.id, _note(note))
        return cls(
            id=id,
            kind=kind,
            source=source,
            source_ref=source_ref,
            customer_id=customer_id,
            product_serial=product_serial,
            model=model,
            address=address,
            service_area_id=service_area_id,
            district=district,
            urgency=urgency,
            symptoms=tuple(symptoms),
            description=description,
            requested_at=None if requested_at is None else utc(requested_at, "requested_at"),
            in_warranty=in_warranty,
            follow_up_of=follow_up_of,
            received_at=moment,
            respond_by=respond_by,
            on_site_by=on_site_by,
            escalation_level=complaints.start_level(urgency),
            history=(received,),
        )

    # -- the escalation protocol (csdomain.complaints.escalation.Escalatable) ------------

    @property
    def reopen_count(self) -> int:
        """The promise's round: 0 until the first arrival (on site), 1 after (fixed)."""
        return 0 if self.arrived_at is None else 1

    def redacted(self) -> ServiceOrder:
        """The job as an actor without ``customer.read`` sees it (docs/domain.md 1, 保护客户隐私).

        The address, the caller's description and notes, the visit notes and the customer's
        name and feedback at sign-off read ``[redacted]``; what was done, when, and the
        money stay, so settlement and reports still work.
        """

        def blank(text: str) -> str:
            return REDACTED if text.strip() else text

        visits = tuple(attrs.evolve(v, note=blank(v.note)) for v in self.visits)
        sign_off = self.sign_off
        if sign_off is not None:
            sign_off = attrs.evolve(
                sign_off,
                customer_name=blank(sign_off.customer_name),
                feedback=blank(sign_off.feedback),
            )
        return attrs.evolve(
            self,
            address=blank(self.address),
            description=blank(self.description),
            resolution=blank(self.resolution),
            visits=visits,
            sign_off=sign_off,
        )

    @property
    def first_response_at(self) -> datetime | None:
        """When the call was first answered (triaged or resolved by phone)."""
        return self.responded_at

    @property
    def resolve_by(self) -> datetime:
        """The deadline of the current round: on site by, then fixed by."""
        if self.fix_by is not None:
            return self.fix_by
        return self.on_site_by

    @property
    def is_open(self) -> bool:
        """Whether the fault is not cleared yet (the promise still runs)."""
        return self.status in OPEN_SERVICE_STATUSES

    @property
    def held_since(self) -> datetime | None:
        """The promise's clock never stands still (waiting for parts counts)."""
        return None

    def hold_periods(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """No time on hold: the promise's clock never stands still."""
        return ()

    # -- derived ---------------------------------------------------------------------------

    @property
    def technician_id(self) -> str | None:
        """The technician the job is dispatched to now."""
        return self.dispatches[-1].technician_id if self.dispatches else None

    @property
    def service_point_id(self) -> str | None:
        """The service point of the technician the job is dispatched to now."""
        return self.dispatches[-1].service_point_id if self.dispatches else None

    @property
    def visit_window(self) -> tuple[datetime, datetime] | None:
        """The time window booked for the current visit."""
        if not self.dispatches:
            return None
        last = self.dispatches[-1]
        return last.window_start, last.window_end

    @property
    def route(self) -> ServiceRoute | None:
        """How triage said the job is handled."""
        return None if self.triage is None else self.triage.route

    @property
    def charge_total(self) -> Money | None:
        """The total of the job's charges once it is completed."""
        if self.coverage is None:
            return None
        currency = self.charges[0].amount.currency if self.charges else None
        if currency is None:
            return None
        return total_of(self.charges, currency)

    @property
    def labour_minutes(self) -> int:
        """The labour time of every visit so far."""
        return sum(visit.labour_minutes for visit in self.visits)

    @property
    def first_time_fix(self) -> bool:
        """Whether the job was fixed on its first visit."""
        return self.fixed_at is not None and len(self.visits) == 1

    # -- steps -----------------------------------------------------------------------------

    def _step(
        self, action: str, *, at: datetime, by: Actor, note: str = "", **changes: Any
    ) -> ServiceOrder:
        """The job after ``action`` by ``by`` at ``at``, moved by the lifecycle.

        A step is never dated before the job's previous step.
        """
        actor = _actor(by)
        moment = utc(at)
        if moment < self.history[-1].at:
            raise ValidationError.at("at", "is before the previous step of this job")
        return SERVICE_ORDER_LIFECYCLE.move(
            self, action, at=moment, by=actor.id, note=_note(note), **changes
        )

    def _can(self, action: str) -> None:
        SERVICE_ORDER_LIFECYCLE.check(self.id, self.status, action)

    def _responded(self, at: datetime) -> datetime:
        return self.responded_at if self.responded_at is not None else utc(at)

    def triaged(
        self, result: TriageResult, *, at: datetime, by: Actor, note: str = ""
    ) -> ServiceOrder:
        """Record the triage (the first triage is the response to the call)."""
        self._can("triage")
        if not isinstance(result, TriageResult):
            raise ValidationError.at("result", f"expected a TriageResult, got {describe(result)}")
        return self._step(
            "triage", at=at, by=by, note=note, triage=result, responded_at=self._responded(at)
        )

    def resolved_remotely(self, *, resolution: str, at: datetime, by: Actor) -> ServiceOrder:
        """Record that phone guidance cleared the fault (a remote resolution, no visit)."""
        self._can("resolve_remotely")
        if not isinstance(resolution, str) or not resolution.strip():
            raise ValidationError.at("resolution", "a remote resolution says what cleared it")
        return self._step(
            "resolve_remotely",
            at=at,
            by=by,
            note=resolution,
            resolution=resolution,
            responded_at=self._responded(at),
        )

    def dispatched(self, dispatch: Dispatch, technician: Technician, *, by: Actor) -> ServiceOrder:
        """Send ``technician`` with a visit window (a re-dispatch from a dispatched job).

        The technician must be active, have the skills triage asks for and cover the
        job's service area; a product triage found not repairable is exchanged, not
        repaired (``not_repairable``).
        """
        again = SERVICE_ORDER_LIFECYCLE.command("redispatch").sources
        action = "redispatch" if self.status in again else "dispatch"
        self._can(action)
        if not isinstance(dispatch, Dispatch):
            raise ValidationError.at("dispatch", f"expected a Dispatch, got {describe(dispatch)}")
        if not isinstance(technician, Technician) or technician.id != dispatch.technician_id:
            raise ValidationError.at("technician", "is not the dispatched technician")
        if self.triage is not None and not self.triage.repairable:
            raise RuleViolation(
                "not_repairable",
                f"job {describe(self.id)}: triage found the product cannot be repaired; "
                "exchange it under a warranty claim",
                job_id=self.id,
            )
        check_technician_fits(self, technician)
        return self._step(
            action,
            at=dispatch.at,
            by=by,
            note=f"{technician.id} {dispatch.window_start.isoformat()}",
            dispatches=(*self.dispatches, dispatch),
        )

    def travelling(self, *, at: datetime, by: Actor) -> ServiceOrder:
        """The technician is on the way (en route)."""
        self._can("start_travel")
        return self._step("start_travel", at=at, by=by)

    def arrived(
        self, *, at: datetime, by: Actor, policy: FieldServicePolicy, calendar: BusinessCalendar
    ) -> ServiceOrder:
        """The technician arrived; the first arrival starts the fix clock.

        Source: "fault cleared within 24 hours of starting".
        """
        self._can("record_arrival")
        moment = utc(at)
        if self.arrived_at is not None:
            return self._step("record_arrival", at=moment, by=by)
        return self._step(
            "record_arrival",
            at=moment,
            by=by,
            arrived_at=moment,
            fix_by=fix_deadline(self.urgency, moment, policy, calendar),
        )

    def with_visit(self, visit: VisitRecord, *, at: datetime, by: Actor) -> ServiceOrder:
        """Record a visit's service record; a visit that awaits parts leaves the job
        waiting for parts."""
        action = (
            "wait_for_parts"
            if isinstance(visit, VisitRecord) and visit.parts_missing
            else "record_visit"
        )
        self._can(action)
        if not isinstance(visit, VisitRecord):
            raise ValidationError.at("visit", f"expected a VisitRecord, got {describe(visit)}")
        if visit.technician_id != self.technician_id:
            raise RuleViolation(
                "not_dispatched_technician",
                f"job {describe(self.id)} is dispatched to {describe(self.technician_id)}, "
                f"not {describe(visit.technician_id)}",
                job_id=self.id,
            )
        if self.arrived_at is not None and visit.arrived_at < self.arrived_at:
            raise ValidationError.at("visit.arrived_at", "is before the technician first arrived")
        if visit.departed_at > utc(at):
            raise ValidationError.at("visit.departed_at", "is in the future")
        return self._step(action, at=at, by=by, note=visit.work_done, visits=(*self.visits, visit))

    def quoted(self, quote: ServiceQuote, *, by: Actor) -> ServiceOrder:
        """Give the customer a quote before the work (a new quote needs a new approval)."""
        self._can("quote")
        if not isinstance(quote, ServiceQuote):
            raise ValidationError.at("quote", f"expected a ServiceQuote, got {describe(quote)}")
        return self._step(
            "quote",
            at=quote.at,
            by=by,
            note=f"quote {quote.total}",
            quote=quote,
            quote_approval=None,
        )

    def quote_approved(self, approval: QuoteApproval, *, by: Actor) -> ServiceOrder:
        """Record the customer's approval of the quote."""
        self._can("approve_quote")
        if not isinstance(approval, QuoteApproval):
            raise ValidationError.at(
                "approval", f"expected a QuoteApproval, got {describe(approval)}"
            )
        if self.quote is None:
            raise RuleViolation(
                "no_quote", f"job {describe(self.id)} has no quote to approve", job_id=self.id
            )
        return self._step(
            "approve_quote",
            at=approval.at,
            by=by,
            note=f"approved by {approval.approved_by}",
            quote_approval=approval,
        )

    def check_completable(self) -> None:
        """Refuse to complete a job that is not on site or whose last visit record does not
        say the fault is cleared (``fault_not_cleared``)."""
        self._can("complete")
        if not self.visits or not self.visits[-1].fault_cleared:
            raise RuleViolation(
                "fault_not_cleared",
                f"job {describe(self.id)}: no visit record says the fault is cleared",
                job_id=self.id,
            )

    def completed(
        self,
        charges: Iterable[ChargeLine],
        *,
        coverage: Coverage,
        warranty_claim_id: str | None,
        at: datetime,
        by: Actor,
        policy: FieldServicePolicy,
    ) -> ServiceOrder:
        """The fault is cleared: record the charges and who carries them.

        The last visit must have cleared the fault (``fault_not_cleared``). Work the
        customer pays for above ``policy.quote_approval_above`` needs a quote the
        customer approved (``quote_not_approved``) that covers the charge
        (``charge_exceeds_quote``).
        """
        self.check_completable()
        lines = tuple(charges)
        total = total_of(lines, policy.currency)
        if coverage is Coverage.CUSTOMER and total > policy.money(policy.quote_approval_above):
            if self.quote is None or self.quote_approval is None:
                raise RuleViolation(
                    "quote_not_approved",
                    f"job {describe(self.id)} costs {total}, above "
                    f"{policy.money(policy.quote_approval_above)}: the customer must approve "
                    "a quote first",
                    job_id=self.id,
                    total=str(total),
                )
            if total > self.quote.total:
                raise RuleViolation(
                    "charge_exceeds_quote",
                    f"job {describe(self.id)} costs {total}, more than the approved quote "
                    f"{self.quote.total}",
                    job_id=self.id,
                    total=str(total),
                    quoted=str(self.quote.total),
                )
        moment = utc(at)
        return self._step(
            "complete",
            at=moment,
            by=by,
            charges=lines,
            coverage=coverage,
            warranty_claim_id=warranty_claim_id,
            fixed_at=moment,
        )

    def reopened(self, *, reason: str, at: datetime, by: Actor) -> ServiceOrder:
        """The customer does not accept the work: back on site (the fix clock runs on)."""
        self._can("reopen")
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a reopened job says why")
        return self._step(
            "reopen", at=at, by=by, note=reason, charges=(), coverage=None, fixed_at=None
        )

    def signed_off(self, sign_off: SignOff, *, by: Actor) -> ServiceOrder:
        """The customer signs and accepts the work (``signature_required``,
        ``acceptance_required``)."""
        self._can("sign_off")
        if not isinstance(sign_off, SignOff):
            raise ValidationError.at("sign_off", f"expected a SignOff, got {describe(sign_off)}")
        if not sign_off.signature_ref.strip() or not sign_off.customer_name.strip():
            raise RuleViolation(
                "signature_required",
                f"job {describe(self.id)}: the sign-off needs the customer's name and signature",
                job_id=self.id,
            )
        if not sign_off.accepted:
            raise RuleViolation(
                "acceptance_required",
                f"job {describe(self.id)}: the customer did not accept the work; reopen the job",
                job_id=self.id,
            )
        return self._step(
            "sign_off", at=sign_off.at, by=by, note=sign_off.feedback, sign_off=sign_off
        )

    def settled(
        self,
        *,
        collected: Money,
        collected_by: str | None,
        at: datetime,
        by: Actor,
        policy: FieldServicePolicy,
    ) -> ServiceOrder:
        """Settle the job (单单结): the charge lines, the total, the cash collected."""
        self._can("settle")
        if not isinstance(collected, Money):
            raise ValidationError.at("collected", f"expected Money, got {describe(collected)}")
        coverage = self.coverage if self.coverage is not None else Coverage.CUSTOMER
        actor = _actor(by)
        settlement = Settlement(
            lines=self.charges,
            total=total_of(self.charges, policy.currency),
            coverage=coverage,
            collected=collected,
            warranty_claim_id=self.warranty_claim_id,
            collected_by=collected_by,
            at=utc(at),
            by=actor.id,
        )
        return self._step(
            "settle", at=at, by=actor, note=str(settlement.total), settlement=settlement
        )

    def closed(self, *, at: datetime, by: Actor, note: str = "") -> ServiceOrder:
        """Close a settled job, or one resolved by phone."""
        self._can("close")
        return self._step("close", at=at, by=by, note=note)

    def cancelled(self, *, reason: str, at: datetime, by: Actor) -> ServiceOrder:
        """Cancel a job before its work is done, with the reason."""
        self._can("cancel")
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a cancelled job says why")
        return self._step("cancel", at=at, by=by, note=reason, responded_at=self._responded(at))

    # -- escalation --------------------------------------------------------------------------

    def _with_step(self, step: EscalationStep) -> ServiceOrder:
        return attrs.evolve(
            self, escalation_level=step.to_level, escalations=(*self.escalations, step)
        )

    def escalate_if_overdue(
        self,
        *,
        at: datetime,
        policy: ComplaintPolicy,
        calendar: BusinessCalendar,
        by: Actor,
        owners: Mapping[str, str] | None = None,
    ) -> tuple[ServiceOrder, tuple[EscalationStep, ...]]:
        """Move a late job up the five-level ladder, one rung per newly missed deadline.

        Source: the five-level follow-up ladder (五级追访制) moves a case up when a
        deadline is missed. The complaint area plans the rungs
        (:func:`~csdomain.complaints.escalation.overdue_deadlines`); idempotent: a second
        call at the same instant changes nothing.
        """
        actor = _actor(by)
        fresh = overdue_deadlines(self, at=at, policy=policy, calendar=calendar)
        order = self
        steps: list[EscalationStep] = []
        for reason, due in fresh:
            step = escalation_step(
                order,
                at=utc(at),
                by=actor.id,
                reason=reason,
                policy=policy,
                owners=owners,
                due=due,
            )
            order = order._with_step(step)
            steps.append(step)
        return order, tuple(steps)


def check_technician_fits(order: ServiceOrder, technician: Technician) -> None:
    """Refuse a technician who cannot take ``order``: inactive
    (``technician_unavailable``), without the skills triage asks for (``missing_skill``)
    or not covering its service area (``outside_service_area``)."""
    if not technician.active:
        raise RuleViolation(
            "technician_unavailable",
            f"technician {describe(technician.id)} is not active",
            technician_id=technician.id,
        )
    needed = order.triage.skills if order.triage is not None else frozenset()
    missing = technician.has_skills(needed)
    if missing:
        raise RuleViolation(
            "missing_skill",
            f"technician {describe(technician.id)} lacks {', '.join(sorted(missing))}",
            technician_id=technician.id,
            missing=sorted(missing),
        )
    if order.service_area_id not in technician.service_areas:
        raise RuleViolation(
            "outside_service_area",
            f"technician {describe(technician.id)} does not cover service area "
            f"{describe(order.service_area_id)}",
            technician_id=technician.id,
            service_area_id=order.service_area_id,
        )
