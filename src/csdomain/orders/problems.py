"""Delivery problems as cases: reported, routed, remedied, resolved (docs/domain.md 2, 9).

A customer tells customer service about a delivery: damaged packaging, a late delivery,
a short quantity or off-spec content. Customer service records it against the shipped
order as a numbered :class:`DeliveryProblemCase`, which moves along
:data:`PROBLEM_TRANSITIONS`::

    reported -> routed -> being_remedied -> resolved
                       \\-----------------> resolved
    (any open status) ----------------------------> closed  (unfounded or withdrawn)

- **routed**: :meth:`DeliveryProblemCase.route` applies the policy's thresholds
  (:func:`~csdomain.orders.assess_delivery_problem`): 30 damaged bags and more per
  60-tonne wagon, or content off by more than ±0.5 %, go to the sales VP and the quality
  department; a delay that cannot be cured goes to the sales VP; anything else stays with
  customer service.
- **being remedied**: a short quantity is made up from stock (补齐货物数量) with the
  responsible person named (追究相关责任人的失职责任), :func:`ship_make_up`; a delay that
  cannot be cured goes to the sales VP (交货延期太长……营销副总) and then the return/exchange
  path, :meth:`DeliveryProblemCase.escalate_delay`, where the customer's return request
  is linked once the customer chooses it (:meth:`DeliveryProblemCase.link_return`).
- **resolved** or **closed**: :meth:`DeliveryProblemCase.resolve` with its
  :class:`ProblemOutcome`; a problem the thresholds sent to the sales VP is decided with
  the VP's authority.

:func:`delivery_problem_events` derives the events from two versions of a case;
:func:`delivery_problem_analysis` is the monthly analysis, like the damage analysis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.events import Event
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.orders._checks import quantities_over, stored_positive
from csdomain.orders.delivery import (
    DeliveryProblem,
    DeliveryProblemKind,
    assess_delivery_problem,
)
from csdomain.orders.events import StockIssued
from csdomain.orders.model import (
    REDACTED,
    LineKey,
    Order,
    OrderStatus,
    ShipmentLine,
    ShippingMode,
    choose_shipping_mode,
)
from csdomain.orders.policy import OrderPolicy
from csdomain.orders.stock import Stock, StockBucket
from csdomain.validators import (
    as_tuple,
    decimal,
    enum_value,
    flag,
    optional,
    optional_aware,
    optional_instance_of,
    optional_text,
    text,
    tuple_of,
)
from csdomain.validators import aware as _aware
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "CLOSING_OUTCOMES",
    "PROBLEM_COMMANDS",
    "PROBLEM_INITIAL",
    "PROBLEM_LIFECYCLE",
    "PROBLEM_TERMINAL",
    "PROBLEM_TRANSITIONS",
    "DeliveryProblemAnalysisRow",
    "DeliveryProblemCase",
    "DeliveryProblemClosed",
    "DeliveryProblemReported",
    "DeliveryProblemResolved",
    "DeliveryProblemReturnLinked",
    "DeliveryProblemRouted",
    "LateDeliveryEscalated",
    "MakeUpResult",
    "MakeUpShipment",
    "MakeUpShipped",
    "ProblemLine",
    "ProblemOutcome",
    "ProblemStatus",
    "ReturnOfOrder",
    "delivery_problem_analysis",
    "delivery_problem_events",
    "ship_make_up",
]


class ProblemStatus(StrEnum):
    """Where a delivery problem stands."""

    REPORTED = "reported"
    ROUTED = "routed"
    BEING_REMEDIED = "being_remedied"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ProblemOutcome(StrEnum):
    """How a delivery problem ended."""

    #: The missing quantity was made up (补齐货物数量).
    MADE_UP = "made_up"
    #: The late goods arrived and the customer accepted them.
    DELIVERED = "delivered"
    #: The goods went back under the return/exchange policy (a return request is linked).
    RETURN_EXCHANGE = "return_exchange"
    #: The customer was compensated (a credit, a discount).
    COMPENSATED = "compensated"
    #: The customer accepted the goods as they are.
    ACCEPTED = "accepted"
    #: The report did not hold up: the problem is closed.
    UNFOUNDED = "unfounded"
    #: The customer withdrew the report: the problem is closed.
    WITHDRAWN = "withdrawn"


#: Outcomes that close a problem rather than resolve it.
CLOSING_OUTCOMES: frozenset[ProblemOutcome] = frozenset(
    {ProblemOutcome.UNFOUNDED, ProblemOutcome.WITHDRAWN}
)

_P = ProblemStatus
_OPEN = frozenset({_P.REPORTED, _P.ROUTED, _P.BEING_REMEDIED})

#: Allowed moves (docs/domain.md 2 and 9: recorded, sent to whoever decides, remedied).
PROBLEM_TRANSITIONS: Mapping[ProblemStatus, frozenset[ProblemStatus]] = {
    _P.REPORTED: frozenset({_P.ROUTED, _P.CLOSED}),
    _P.ROUTED: frozenset({_P.BEING_REMEDIED, _P.RESOLVED, _P.CLOSED}),
    _P.BEING_REMEDIED: frozenset({_P.RESOLVED, _P.CLOSED}),
    _P.RESOLVED: frozenset(),
    _P.CLOSED: frozenset(),
}
PROBLEM_INITIAL: frozenset[ProblemStatus] = frozenset({_P.REPORTED})
PROBLEM_TERMINAL: frozenset[ProblemStatus] = frozenset({_P.RESOLVED, _P.CLOSED})

#: The commands of a delivery problem, beside :data:`PROBLEM_TRANSITIONS`.
PROBLEM_COMMANDS: Mapping[str, Command[ProblemStatus]] = {
    "route_problem": Command("route the delivery problem", frozenset({_P.REPORTED}), _P.ROUTED),
    "escalate_late_delivery": Command(
        "escalate the late delivery", frozenset({_P.ROUTED}), _P.BEING_REMEDIED
    ),
    "record_make_up_shipment": Command(
        "record the make-up shipment", frozenset({_P.ROUTED}), _P.BEING_REMEDIED
    ),
    "link_return_request": Command(
        "link the customer's return request", frozenset({_P.BEING_REMEDIED})
    ),
    "resolve_problem": Command(
        "resolve the delivery problem", frozenset({_P.ROUTED, _P.BEING_REMEDIED}), _P.RESOLVED
    ),
    "close_problem": Command("close the delivery problem", _OPEN, _P.CLOSED),
}
#: The delivery problem's lifecycle: :data:`PROBLEM_TRANSITIONS` and :data:`PROBLEM_COMMANDS`.
PROBLEM_LIFECYCLE: Lifecycle[ProblemStatus] = Lifecycle(
    "delivery problem", PROBLEM_TRANSITIONS, PROBLEM_COMMANDS
)


class ReturnOfOrder(Protocol):
    """What linking reads of a return request (:class:`csdomain.returns.ReturnRequest`)."""

    @property
    def id(self) -> str:
        """The return's number."""

    @property
    def order_id(self) -> str:
        """The order the goods go back from."""

    @property
    def status(self) -> StrEnum:
        """Where the return stands (``rejected`` and ``withdrawn`` end it)."""


#: Return statuses that end a return before goods come back: such a return is not linked.
_ENDED_RETURNS = frozenset({"rejected", "withdrawn"})
_RETURN_FIELDS = ("id", "order_id", "status")

#: The order statuses from which goods have left: only then can a delivery go wrong.
_SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})


def _status(value: ProblemStatus | str) -> ProblemStatus:
    if isinstance(value, ProblemStatus):
        return value
    return enum_value(ProblemStatus, value, "status")


def _kind(value: DeliveryProblemKind | str) -> DeliveryProblemKind:
    if isinstance(value, DeliveryProblemKind):
        return value
    return enum_value(DeliveryProblemKind, value, "kind")


def _outcome(value: ProblemOutcome | str | None) -> ProblemOutcome | None:
    return None if value is None else enum_value(ProblemOutcome, value, "outcome")


def _mode(value: ShippingMode | str) -> ShippingMode:
    return enum_value(ShippingMode, value, "mode")


def _to_decimal(value: Any) -> Any:
    """An attrs converter: whole numbers and decimal text become Decimals."""
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    return value


def _names(value: Any) -> Any:
    """An attrs converter: a collection of names becomes a sorted tuple without repeats."""
    if isinstance(value, frozenset | set | list | tuple):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return tuple(sorted(set(items)))
    return value


@attrs.frozen
class ProblemLine:
    """Goods a delivery problem concerns: damaged, missing or off-spec, per SKU."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)

    @property
    def bucket(self) -> StockBucket:
        """The stock a make-up of this line ships from."""
        return StockBucket.GIFT if self.gift else StockBucket.GOOD


@attrs.frozen
class MakeUpShipment:
    """The shipment that made up a short quantity, and who is held to account for it."""

    lines: tuple[ShipmentLine, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(ShipmentLine)
    )
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    #: Whose failure caused the short quantity (追究相关责任人的失职责任).
    responsible: str = attrs.field(validator=_not_blank)
    mode: ShippingMode = attrs.field(converter=_mode)
    tracking: str = attrs.field(default="", validator=text)


#: The problems that always name the goods concerned (the damaged bags, what is missing).
_NAMES_GOODS = frozenset(
    {DeliveryProblemKind.SHORT_QUANTITY, DeliveryProblemKind.DAMAGED_PACKAGING}
)


def _quantities(lines: Iterable[ProblemLine]) -> dict[LineKey, int]:
    result: dict[LineKey, int] = {}
    for line in lines:
        result[line.key] = result.get(line.key, 0) + line.quantity
    return result


def _problems(case: DeliveryProblemCase) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    seen: set[LineKey] = set()
    for i, line in enumerate(case.lines):
        if line.key in seen:
            errors.append((f"lines.{i}", f"duplicate line for {describe(line.sku)}"))
        seen.add(line.key)
    if case.kind in _NAMES_GOODS and not case.lines:
        errors.append(("lines", f"a {case.kind.value} problem names the goods concerned"))
    if case.wagon_tonnes is not None and case.wagon_tonnes <= 0:
        errors.append(("wagon_tonnes", "must be positive"))
    if case.make_up is not None and case.kind is not DeliveryProblemKind.SHORT_QUANTITY:
        errors.append(("make_up", "only a short quantity is made up"))
    if case.history and case.history[-1].to != case.status:
        errors.append(("status", "does not match the last history entry"))
    if (case.status in PROBLEM_TERMINAL) != (case.outcome is not None):
        errors.append(("outcome", "a resolved or closed problem, and only that, has an outcome"))
    return errors


@attrs.frozen
class DeliveryProblemCase:
    """A delivery problem a customer raised, from the report to its outcome (docs/domain.md 2).

    ``lines`` are the goods concerned (damaged bags, the missing quantity, the off-spec
    goods; empty for a late delivery of the whole order); ``description`` is free text
    about the customer (personal data, :meth:`redacted`). ``route`` names who must decide
    and ``reasons`` why (the codes of :func:`~csdomain.orders.assess_delivery_problem`);
    ``escalated`` says the sales VP decides.
    """

    id: str = attrs.field(validator=_not_blank)
    order_id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    kind: DeliveryProblemKind = attrs.field(converter=_kind)
    reported_at: datetime = attrs.field(validator=_aware)
    reported_by: str = attrs.field(validator=_not_blank)
    lines: tuple[ProblemLine, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ProblemLine)
    )
    description: str = attrs.field(default="", validator=text)
    #: The wagon's load for damaged bags (the policy's reference wagon when not given).
    wagon_tonnes: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    #: Signed fraction by which the content deviates (``Decimal("-0.007")``: 0.7 % short).
    content_deviation: Decimal | None = attrs.field(
        default=None, converter=_to_decimal, validator=optional(decimal)
    )
    #: Whether a late delivery can still be cured (expedited); ``False`` after escalation.
    delay_curable: bool = attrs.field(default=True, validator=flag)
    status: ProblemStatus = attrs.field(default=ProblemStatus.REPORTED, converter=_status)
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(StatusChange)
    )
    route: tuple[str, ...] = attrs.field(default=(), converter=_names, validator=tuple_of(str))
    reasons: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=tuple_of(str))
    escalated: bool = attrs.field(default=False, validator=flag)
    #: The return/exchange path is open: the customer may send the goods back.
    return_exchange: bool = attrs.field(default=False, validator=flag)
    make_up: MakeUpShipment | None = attrs.field(
        default=None, validator=optional_instance_of(MakeUpShipment)
    )
    return_id: str | None = attrs.field(default=None, validator=optional_text)
    outcome: ProblemOutcome | None = attrs.field(default=None, converter=_outcome)
    resolved_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    resolved_by: str | None = attrs.field(default=None, validator=optional_text)
    resolution: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        errors = _problems(self)
        if errors:
            raise ValidationError(errors)

    # -- derived values ----------------------------------------------------------------

    @property
    def quantity(self) -> int:
        """How many units the problem concerns, every line together."""
        return sum(line.quantity for line in self.lines)

    def quantities(self) -> dict[LineKey, int]:
        """The quantity concerned per ``(sku, gift)``."""
        return _quantities(self.lines)

    @property
    def is_open(self) -> bool:
        """Whether the problem is neither resolved nor closed."""
        return self.status in _OPEN

    @property
    def problem(self) -> DeliveryProblem:
        """The report as :func:`~csdomain.orders.assess_delivery_problem` reads it."""
        kind = self.kind
        return DeliveryProblem(
            kind=kind,
            order_id=self.order_id,
            damaged_bags=self.quantity if kind is DeliveryProblemKind.DAMAGED_PACKAGING else 0,
            wagon_tonnes=self.wagon_tonnes,
            content_deviation=self.content_deviation,
            missing_quantity=self.quantity if kind is DeliveryProblemKind.SHORT_QUANTITY else 0,
            delay_curable=self.delay_curable,
        )

    @property
    def holds_personal_data(self) -> bool:
        """Whether the case holds free text about the customer."""
        return bool(
            self.description.strip()
            or self.resolution.strip()
            or any(change.note.strip() for change in self.history)
        )

    def redacted(self) -> DeliveryProblemCase:
        """The case with its free text (description, notes, resolution) read as ``REDACTED``.

        Source: docs/domain.md 1 (保护客户隐私): what customer service wrote about the
        customer is shown only to ``customer.read``.
        """
        if not self.holds_personal_data:
            return self
        return attrs.evolve(
            self,
            description=REDACTED if self.description.strip() else self.description,
            resolution=REDACTED if self.resolution.strip() else self.resolution,
            history=tuple(
                attrs.evolve(change, note=REDACTED) if change.note.strip() else change
                for change in self.history
            ),
        )

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def report(
        cls,
        *,
        id: str,
        order: Order,
        kind: DeliveryProblemKind | str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        lines: Sequence[ProblemLine] = (),
        other_problems: Iterable[DeliveryProblemCase] = (),
        description: str = "",
        wagon_tonnes: Decimal | None = None,
        content_deviation: Decimal | None = None,
        delay_curable: bool = True,
    ) -> DeliveryProblemCase:
        """Customer service records a delivery problem against a shipped order.

        Source: docs/domain.md 2 (delivery problems customers raise). Needs
        ``complaint.handle``. Only a shipped order (``order_not_shipped``); the goods named
        are goods the order shipped, and together with the order's other open or resolved
        problems of the same kind no more than shipped (``problem_exceeds_shipment``).
        """
        access.require(by, Permission.HANDLE_COMPLAINT)
        require_aware(at)
        items = as_tuple(lines)
        if not isinstance(items, tuple):
            raise ValidationError.at("lines", f"expected a list, got {type(items).__name__}")
        for i, item in enumerate(items):
            if not isinstance(item, ProblemLine):
                raise ValidationError.at(f"lines.{i}", "expected a ProblemLine")
        if not isinstance(order, Order):
            raise ValidationError.at("order", f"expected an Order, got {type(order).__name__}")
        if order.status not in _SHIPPED:
            raise RuleViolation(
                "order_not_shipped",
                f"order {describe(order.id)} is {order.status}: only shipped goods can go wrong "
                "in delivery",
                order_id=order.id,
                status=order.status.value,
            )
        problem_kind = _kind(kind)
        merged = _quantities(items)
        _check_within_shipment(order, problem_kind, merged, other_problems, exclude=id)
        return cls(
            id=id,
            order_id=order.id,
            customer_id=order.customer_id,
            kind=problem_kind,
            reported_at=at,
            reported_by=by.id,
            lines=tuple(
                ProblemLine(sku, quantity, gift) for (sku, gift), quantity in merged.items()
            ),
            description=description,
            wagon_tonnes=wagon_tonnes,
            content_deviation=content_deviation,
            delay_curable=delay_curable,
            history=(StatusChange(from_=None, to=ProblemStatus.REPORTED.value, at=at, by=by.id),),
        )

    def route_to(
        self, *, policy: OrderPolicy, at: datetime, by: Actor, access: AccessPolicy
    ) -> DeliveryProblemCase:
        """Send the problem to whoever must decide it, by the policy's thresholds.

        Source: docs/domain.md 2 (30 damaged bags and more, content beyond ±0.5 %: the
        sales VP and the quality department, ``escalation_contacts``) and 9 (a delay too
        long for the customer: the sales VP, ``delay_escalation_contacts``); below every
        threshold ``problem_default_route`` (customer service). Needs ``complaint.handle``.
        """
        access.require(by, Permission.HANDLE_COMPLAINT)
        require_aware(at)
        try:
            assessment = assess_delivery_problem(self.problem, policy)
        except ArithmeticError:
            msg = "is too large to compare with the damaged-bags threshold"
            raise ValidationError.at("wagon_tonnes", msg) from None
        route: set[str] = set()
        if assessment.escalate:
            route |= assessment.involve
        if assessment.return_exchange:
            route |= policy.delay_escalation_contacts
        escalated = bool(route)
        if not route:
            route = set(policy.problem_default_route)
        names = tuple(sorted(route))
        return PROBLEM_LIFECYCLE.move(
            self,
            "route_problem",
            at=at,
            by=by.id,
            route=names,
            reasons=assessment.reasons,
            escalated=escalated,
            return_exchange=assessment.return_exchange,
        )

    def make_up_lines(self) -> tuple[ShipmentLine, ...]:
        """What a make-up shipment sends: the missing quantity of every line."""
        return tuple(ShipmentLine(line.sku, line.quantity, line.gift) for line in self.lines)

    def record_make_up(
        self,
        *,
        responsible: str,
        mode: ShippingMode | str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        tracking: str = "",
    ) -> DeliveryProblemCase:
        """The missing quantity went out in a make-up shipment (补齐货物数量, docs/domain.md 9).

        Needs ``order.ship``; only a short quantity (``not_short_quantity``), and the
        person whose failure caused it is named (追究相关责任人的失职责任). Stock is not
        touched here: :func:`ship_make_up` does both.
        """
        access.require(by, Permission.SHIP_ORDER)
        require_aware(at)
        if self.kind is not DeliveryProblemKind.SHORT_QUANTITY:
            raise RuleViolation(
                "not_short_quantity",
                f"delivery problem {describe(self.id)} is {self.kind.value}: only a short "
                "quantity is made up with a make-up shipment",
                problem_id=self.id,
                kind=self.kind.value,
            )
        if not isinstance(responsible, str) or not responsible.strip():
            raise ValidationError.at("responsible", "name the person responsible for the shortage")
        shipment = MakeUpShipment(
            lines=self.make_up_lines(),
            at=at,
            by=by.id,
            responsible=responsible.strip(),
            mode=mode,
            tracking=tracking,
        )
        return PROBLEM_LIFECYCLE.move(
            self, "record_make_up_shipment", at=at, by=by.id, make_up=shipment
        )

    def escalate_delay(
        self,
        *,
        policy: OrderPolicy,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        note: str = "",
    ) -> DeliveryProblemCase:
        """A delay that cannot be cured goes to the sales VP, then the return/exchange path.

        Source: docs/domain.md 2 (a delay that cannot be cured falls under the
        return/exchange policy) and 9 (交货延期太长……营销副总: the marketing VP). Needs
        ``complaint.handle``; only a late delivery (``not_late_delivery``). The route gains
        ``delay_escalation_contacts``; the customer's return request is linked later with
        :meth:`link_return`.
        """
        access.require(by, Permission.HANDLE_COMPLAINT)
        require_aware(at)
        if self.kind is not DeliveryProblemKind.LATE_DELIVERY:
            raise RuleViolation(
                "not_late_delivery",
                f"delivery problem {describe(self.id)} is {self.kind.value}: only a late "
                "delivery is escalated as a delay",
                problem_id=self.id,
                kind=self.kind.value,
            )
        reasons = self.reasons
        if "delay_not_curable" not in reasons:
            reasons = (*reasons, "delay_not_curable")
        return PROBLEM_LIFECYCLE.move(
            self,
            "escalate_late_delivery",
            at=at,
            by=by.id,
            note=note,
            delay_curable=False,
            escalated=True,
            return_exchange=True,
            reasons=reasons,
            route=tuple(sorted(set(self.route) | policy.delay_escalation_contacts)),
        )

    def link_return(
        self, request: ReturnOfOrder, *, at: datetime, by: Actor, access: AccessPolicy
    ) -> DeliveryProblemCase:
        """Link the return request the customer chose on the return/exchange path.

        Source: docs/domain.md 2 (a delay that cannot be cured falls under the
        return/exchange policy). Needs ``complaint.handle`` or ``return.request``; only
        once the path is open (``return_exchange_not_open``), a return of the same order
        (``return_of_another_order``) that is not rejected or withdrawn
        (``return_not_open``).
        """
        access.require_any(by, Permission.HANDLE_COMPLAINT, Permission.REQUEST_RETURN)
        require_aware(at)
        if not all(isinstance(getattr(request, name, None), str) for name in _RETURN_FIELDS):
            msg = f"expected a return request, got {type(request).__name__}"
            raise ValidationError.at("request", msg)
        PROBLEM_LIFECYCLE.check(self.id, self.status, "link_return_request")
        if not self.return_exchange:
            raise RuleViolation(
                "return_exchange_not_open",
                f"delivery problem {describe(self.id)} is not on the return/exchange path: "
                "escalate the late delivery first",
                problem_id=self.id,
            )
        if request.order_id != self.order_id:
            raise RuleViolation(
                "return_of_another_order",
                f"return {describe(request.id)} belongs to order {describe(request.order_id)}, "
                f"not {describe(self.order_id)}",
                problem_id=self.id,
                return_id=request.id,
            )
        if request.status in _ENDED_RETURNS:
            raise RuleViolation(
                "return_not_open",
                f"return {describe(request.id)} is {request.status}",
                problem_id=self.id,
                return_id=request.id,
            )
        return PROBLEM_LIFECYCLE.move(
            self, "link_return_request", at=at, by=by.id, return_id=request.id
        )

    def resolve(
        self,
        outcome: ProblemOutcome | str,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        note: str = "",
    ) -> DeliveryProblemCase:
        """End the problem with its outcome: resolved, or closed when unfounded or withdrawn.

        Source: docs/domain.md 2 and 9. Needs ``complaint.handle``; a problem routed to the
        sales VP (``escalated``) is decided with the VP's authority (the top role or an
        approval limit, :meth:`~csdomain.auth.AccessPolicy.require_approval_authority`).
        A short quantity is resolved only once it was made up (补齐货物数量) or returned
        (``make_up_shipment_missing``); ``made_up`` only for a short quantity made up,
        ``return_exchange`` only with a linked return (``return_request_missing``).
        """
        access.require(by, Permission.HANDLE_COMPLAINT)
        require_aware(at)
        ending = enum_value(ProblemOutcome, outcome, "outcome")
        if not isinstance(note, str):
            raise ValidationError.at("note", f"expected text, got {type(note).__name__}")
        action = "close_problem" if ending in CLOSING_OUTCOMES else "resolve_problem"
        PROBLEM_LIFECYCLE.check(self.id, self.status, action)
        if self.escalated:
            access.require_approval_authority(by, "deciding a delivery problem sent to the VP")
        if action == "resolve_problem":
            self._check_outcome(ending)
        return PROBLEM_LIFECYCLE.move(
            self,
            action,
            at=at,
            by=by.id,
            note=note,
            outcome=ending,
            resolved_at=at,
            resolved_by=by.id,
            resolution=note,
        )

    def _check_outcome(self, outcome: ProblemOutcome) -> None:
        short = self.kind is DeliveryProblemKind.SHORT_QUANTITY
        if outcome is ProblemOutcome.RETURN_EXCHANGE:
            if self.return_id is None:
                raise RuleViolation(
                    "return_request_missing",
                    f"delivery problem {describe(self.id)} has no return request linked",
                    problem_id=self.id,
                )
            return
        if short and (self.make_up is None or outcome is not ProblemOutcome.MADE_UP):
            raise RuleViolation(
                "make_up_shipment_missing",
                f"a short quantity is made up (补齐货物数量): delivery problem {describe(self.id)} "
                "is resolved as made_up once the make-up shipment went out, or by a return",
                problem_id=self.id,
                outcome=outcome.value,
            )
        if outcome is ProblemOutcome.MADE_UP and not short:
            raise RuleViolation(
                "make_up_shipment_missing",
                f"delivery problem {describe(self.id)} is {self.kind.value}: nothing was made up",
                problem_id=self.id,
                outcome=outcome.value,
            )


def _check_within_shipment(
    order: Order,
    kind: DeliveryProblemKind,
    asked: Mapping[LineKey, int],
    others: Iterable[DeliveryProblemCase],
    *,
    exclude: str,
) -> None:
    """Raise ``problem_exceeds_shipment`` when ``asked`` exceeds what the order shipped.

    The order's other problems of the same kind that are not closed count too: the same
    missing goods are not made up twice.
    """
    left = order.shipped_quantities()
    for other in others:
        if other.id == exclude or other.kind is not kind or other.status is ProblemStatus.CLOSED:
            continue
        if other.order_id != order.id:
            msg = (
                f"delivery problem {describe(other.id)} belongs to order "
                f"{describe(other.order_id)}, not {describe(order.id)}"
            )
            raise ValidationError.at("other_problems", msg)
        for key, quantity in other.quantities().items():
            left[key] = left.get(key, 0) - quantity
    over = quantities_over(asked, left)
    if over:
        names = ", ".join(f"{k}: {q} reported, {a} shipped" for k, (q, a) in over.items())
        raise RuleViolation(
            "problem_exceeds_shipment",
            f"a delivery problem concerns at most what was shipped ({names})",
            order_id=order.id,
            lines={k: {"reported": q, "shipped": a} for k, (q, a) in over.items()},
        )


# -- the make-up shipment: the case and its stock together ------------------------------


@attrs.frozen
class MakeUpResult:
    """The case after its make-up shipment, the changed stocks (by SKU) and the events."""

    case: DeliveryProblemCase
    stocks: dict[str, Stock]
    events: tuple[Event, ...]


def ship_make_up(
    case: DeliveryProblemCase,
    stocks: Mapping[str, Stock],
    *,
    responsible: str,
    policy: OrderPolicy,
    at: datetime,
    by: Actor,
    access: AccessPolicy,
    mode: ShippingMode | str | None = None,
    tracking: str = "",
) -> MakeUpResult:
    """Make up a short quantity from stock, all of it or nothing (docs/domain.md 9).

    Source: 补齐货物数量,追究相关责任人的失职责任 (make up the quantity, hold the responsible
    person to account). The missing goods leave good (gift lines: gift) stock that is not
    reserved for other orders, never below zero (``insufficient_stock``). ``mode``
    defaults to the policy's choice by quantity, urgent when ``make_up_urgent``.
    """
    chosen = mode
    if chosen is None:
        chosen = choose_shipping_mode(case.quantity, policy, urgent=policy.make_up_urgent)
    made_up = case.record_make_up(
        responsible=responsible, mode=chosen, at=at, by=by, access=access, tracking=tracking
    )
    changed: dict[str, Stock] = {}
    events: list[Event] = list(delivery_problem_events(case, made_up))
    for line in case.lines:
        stock = changed.get(line.sku) or stocks.get(line.sku) or Stock(id=line.sku)
        changed[line.sku] = stock.issue(line.quantity, by=by, access=access, bucket=line.bucket)
        events.append(StockIssued(line.sku, line.quantity, line.bucket, case.order_id, at, by.id))
    return MakeUpResult(made_up, changed, tuple(events))


# -- events ----------------------------------------------------------------------------


@attrs.frozen
class DeliveryProblemReported(Event):
    """Customer service recorded a delivery problem against a shipped order."""

    problem_id: str
    order_id: str
    customer_id: str
    kind: DeliveryProblemKind
    quantity: int
    at: datetime
    by: str


@attrs.frozen
class DeliveryProblemRouted(Event):
    """A delivery problem went to whoever must decide it, with the reasons."""

    problem_id: str
    order_id: str
    route: tuple[str, ...]
    reasons: tuple[str, ...]
    escalated: bool
    at: datetime
    by: str


@attrs.frozen
class MakeUpShipped(Event):
    """The missing quantity went out; the responsible person is on record."""

    problem_id: str
    order_id: str
    lines: tuple[ShipmentLine, ...]
    responsible: str
    at: datetime
    by: str


@attrs.frozen
class LateDeliveryEscalated(Event):
    """A delay that cannot be cured went to the sales VP and the return/exchange path."""

    problem_id: str
    order_id: str
    route: tuple[str, ...]
    at: datetime
    by: str


@attrs.frozen
class DeliveryProblemReturnLinked(Event):
    """The customer's return request was linked to a delivery problem."""

    problem_id: str
    order_id: str
    return_id: str
    at: datetime
    by: str


@attrs.frozen
class DeliveryProblemResolved(Event):
    """A delivery problem was resolved with its outcome."""

    problem_id: str
    order_id: str
    outcome: ProblemOutcome
    at: datetime
    by: str


@attrs.frozen
class DeliveryProblemClosed(Event):
    """A delivery problem was closed: unfounded or withdrawn."""

    problem_id: str
    order_id: str
    outcome: ProblemOutcome
    at: datetime
    by: str


def _problem_event(case: DeliveryProblemCase, change: StatusChange) -> Event:
    status = ProblemStatus(change.to)
    at, by = change.at, change.by
    if change.from_ is None:
        return DeliveryProblemReported(
            case.id, case.order_id, case.customer_id, case.kind, case.quantity, at, by
        )
    if status is ProblemStatus.ROUTED:
        return DeliveryProblemRouted(
            case.id, case.order_id, case.route, case.reasons, case.escalated, at, by
        )
    if status is ProblemStatus.BEING_REMEDIED and change.from_ == status.value:
        return DeliveryProblemReturnLinked(case.id, case.order_id, case.return_id or "", at, by)
    if status is ProblemStatus.BEING_REMEDIED and case.make_up is not None:
        made = case.make_up
        return MakeUpShipped(case.id, case.order_id, made.lines, made.responsible, at, by)
    if status is ProblemStatus.BEING_REMEDIED:
        return LateDeliveryEscalated(case.id, case.order_id, case.route, at, by)
    outcome = case.outcome or ProblemOutcome.UNFOUNDED
    if status is ProblemStatus.RESOLVED:
        return DeliveryProblemResolved(case.id, case.order_id, outcome, at, by)
    return DeliveryProblemClosed(case.id, case.order_id, outcome, at, by)


def delivery_problem_events(
    before: DeliveryProblemCase | None, after: DeliveryProblemCase
) -> list[Event]:
    """The events between two versions of a delivery problem (``before=None``: reported)."""
    known = 0 if before is None else len(before.history)
    return [_problem_event(after, change) for change in after.history[known:]]


# -- monthly analysis ------------------------------------------------------------------


@attrs.frozen
class DeliveryProblemAnalysisRow:
    """Delivery problems of one month, kind and item (``sku`` ``""``: the whole order)."""

    month: str
    kind: DeliveryProblemKind
    sku: str
    problems: int
    quantity: int
    #: Problems the thresholds sent to the sales VP (and the quality department).
    escalated: int
    #: Problems still open (reported, routed or being remedied).
    open: int
    #: The outcomes of the ended problems, each once, in the order first seen.
    outcomes: tuple[ProblemOutcome, ...]
    #: The people held responsible for make-up shipments, each once.
    responsible: tuple[str, ...]


def delivery_problem_analysis(
    problems: Iterable[DeliveryProblemCase], month: str, *, tz: str = "Asia/Shanghai"
) -> list[DeliveryProblemAnalysisRow]:
    """The monthly delivery-problem analysis: kind, item, quantity, routes and outcomes.

    Source: docs/domain.md 2 (delivery problems; damage and returns are analysed monthly
    the same way). Counts the problems reported in ``month`` (``"2026-11"``, read in
    ``tz``) by kind and item; a problem without lines (a late delivery of the whole order)
    counts under ``sku`` ``""``. Sorted by kind and item.
    """
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValidationError.at("month", f"expected YYYY-MM, got {describe(month)}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValidationError.at("tz", f"unknown time zone {describe(tz)}") from None
    groups: dict[tuple[DeliveryProblemKind, str], list[tuple[DeliveryProblemCase, int]]] = {}
    for case in problems:
        if case.reported_at.astimezone(zone).strftime("%Y-%m") != month:
            continue
        per_sku: dict[str, int] = {}
        for line in case.lines:
            per_sku[line.sku] = per_sku.get(line.sku, 0) + line.quantity
        for sku, quantity in (per_sku or {"": 0}).items():
            groups.setdefault((case.kind, sku), []).append((case, quantity))
    rows = []
    for (kind, sku), cases in sorted(groups.items()):
        outcomes = [case.outcome for case, _ in cases if case.outcome is not None]
        responsible = [case.make_up.responsible for case, _ in cases if case.make_up is not None]
        rows.append(
            DeliveryProblemAnalysisRow(
                month=month,
                kind=kind,
                sku=sku,
                problems=len(cases),
                quantity=sum(quantity for _, quantity in cases),
                escalated=sum(1 for case, _ in cases if case.escalated),
                open=sum(1 for case, _ in cases if case.is_open),
                outcomes=tuple(dict.fromkeys(outcomes)),
                responsible=tuple(dict.fromkeys(responsible)),
            )
        )
    return rows
