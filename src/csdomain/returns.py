"""Returns (退货流程) and the monthly return and damage analysis (docs/domain.md 2).

A salesperson files a :class:`ReturnRequest` (``return.request``); a manager approves or
rejects it (``return.approve``; never the person who filed it); the warehouse confirms
the quantity and condition of the goods that come in (``return.receive``), which books
them to good, gift or damaged stock (:func:`receive_return`); the request is closed with a
return note number. Nobody returns more than was shipped, across all returns of an
order (``return_exceeds_shipment``).

:class:`ReturnAnalysis` accumulates received returns by month, salesperson, item and
reason, with quantities, damaged quantities and amounts, one request at a time.

Conventions are those of :mod:`csdomain.orders`: methods take ``by`` and ``access`` and
check the permission themselves; :func:`return_events` derives the events from two
versions of a request; :func:`receive_return` returns its events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission, same_identity
from csdomain.clock import require_aware
from csdomain.errors import PermissionDenied, RuleViolation, ValidationError, describe
from csdomain.events import Event
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.money import Money
from csdomain.orders import (
    REDACTED,
    ItemCondition,
    LineKey,
    Order,
    Stock,
    StockBucket,
    StockReturned,
)
from csdomain.orders._checks import quantities_over, stored_positive
from csdomain.validators import (
    as_tuple,
    currency_code,
    enum_value,
    flag,
    money,
    optional_aware,
    optional_text,
    text,
    tuple_of,
)
from csdomain.validators import aware as _aware
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "RETURN_COMMANDS",
    "RETURN_INITIAL",
    "RETURN_LIFECYCLE",
    "RETURN_TERMINAL",
    "RETURN_TRANSITIONS",
    "ReceivedLine",
    "ReturnAnalysis",
    "ReturnAnalysisRow",
    "ReturnAnalysisTotal",
    "ReturnApproved",
    "ReturnClosed",
    "ReturnItem",
    "ReturnLine",
    "ReturnReason",
    "ReturnReceipt",
    "ReturnReceived",
    "ReturnRejected",
    "ReturnRequest",
    "ReturnRequested",
    "ReturnStatus",
    "ReturnWithdrawn",
    "check_return_within_shipment",
    "receive_return",
    "return_events",
    "returnable_quantities",
]


class ReturnReason(StrEnum):
    """Why goods come back (docs/domain.md 2: delivery problems, plus change of mind, defects)."""

    DAMAGED_PACKAGING = "damaged_packaging"
    LATE_DELIVERY = "late_delivery"
    SHORT_QUANTITY = "short_quantity"
    OFF_SPEC_CONTENT = "off_spec_content"
    CHANGED_MIND = "changed_mind"
    DEFECT = "defect"
    #: The customer refused the goods on delivery (拒收): counted as a refusal, not a return.
    REFUSED_ON_DELIVERY = "refused_on_delivery"


class ReturnStatus(StrEnum):
    """Where a return request stands."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RECEIVED = "received"
    CLOSED = "closed"


_R = ReturnStatus

#: Allowed moves (docs/domain.md 2: report -> manager approves -> goods in -> return note).
RETURN_TRANSITIONS: Mapping[ReturnStatus, frozenset[ReturnStatus]] = {
    _R.REQUESTED: frozenset({_R.APPROVED, _R.REJECTED, _R.WITHDRAWN}),
    _R.APPROVED: frozenset({_R.RECEIVED, _R.WITHDRAWN}),
    _R.RECEIVED: frozenset({_R.CLOSED}),
    _R.REJECTED: frozenset(),
    _R.WITHDRAWN: frozenset(),
    _R.CLOSED: frozenset(),
}
RETURN_INITIAL: frozenset[ReturnStatus] = frozenset({_R.REQUESTED})
RETURN_TERMINAL: frozenset[ReturnStatus] = frozenset({_R.REJECTED, _R.WITHDRAWN, _R.CLOSED})
_PENDING = frozenset({_R.REQUESTED, _R.APPROVED})
_RECEIVED = frozenset({_R.RECEIVED, _R.CLOSED})

#: The commands of a return request, beside :data:`RETURN_TRANSITIONS`.
RETURN_COMMANDS: Mapping[str, Command[ReturnStatus]] = {
    "approve_return": Command("approve the return", frozenset({_R.REQUESTED}), _R.APPROVED),
    "reject_return": Command("reject the return", frozenset({_R.REQUESTED}), _R.REJECTED),
    "withdraw_return": Command("withdraw the return", _PENDING, _R.WITHDRAWN),
    "receive_return": Command("receive the returned goods", frozenset({_R.APPROVED}), _R.RECEIVED),
    "close_return": Command("close the return", frozenset({_R.RECEIVED}), _R.CLOSED),
}
#: The return request's lifecycle: :data:`RETURN_TRANSITIONS` and :data:`RETURN_COMMANDS`.
RETURN_LIFECYCLE: Lifecycle[ReturnStatus] = Lifecycle("return", RETURN_TRANSITIONS, RETURN_COMMANDS)


def _condition(value: ItemCondition | str) -> ItemCondition:
    return enum_value(ItemCondition, value, "condition")


def _status(value: ReturnStatus | str) -> ReturnStatus:
    return enum_value(ReturnStatus, value, "status")


def _reasons(value: Iterable[ReturnReason | str]) -> tuple[ReturnReason, ...]:
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise ValidationError.at("reasons", f"expected a list, got {type(value).__name__}")
    result: list[ReturnReason] = []
    for item in value:
        reason = enum_value(ReturnReason, item, "reasons")
        if reason not in result:
            result.append(reason)
    return tuple(result)


@attrs.frozen
class ReturnItem:
    """What a salesperson asks to take back: SKU, quantity, gift flag."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)


@attrs.frozen
class ReturnLine:
    """A requested return line with the unit price taken from the order."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    unit_price: Money = attrs.field(validator=money)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)


@attrs.frozen
class ReceivedLine:
    """Goods the warehouse received back: quantity and confirmed condition."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    condition: ItemCondition = attrs.field(default=ItemCondition.GOOD, converter=_condition)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)


def _counted(request: ReturnRequest) -> dict[LineKey, int]:
    """Quantities a request takes from the shipped goods: requested, or received once in."""
    counted: dict[LineKey, int] = {}
    if request.status in _PENDING:
        for line in request.lines:
            counted[line.key] = counted.get(line.key, 0) + line.quantity
    elif request.status in _RECEIVED:
        for got in request.received:
            counted[got.key] = counted.get(got.key, 0) + got.quantity
    return counted


def returnable_quantities(
    order: Order, returns: Iterable[ReturnRequest], *, exclude: str | None = None
) -> dict[LineKey, int]:
    """Shipped minus what ``returns`` (other than ``exclude``) take, per ``(sku, gift)``.

    Rejected and withdrawn returns take nothing; received ones take what came in.
    """
    left = order.shipped_quantities()
    for request in returns:
        if request.id == exclude:
            continue
        if request.order_id != order.id:
            msg = (
                f"return {describe(request.id)} belongs to order {describe(request.order_id)}, "
                f"not {describe(order.id)}"
            )
            raise ValidationError.at("returns", msg)
        for key, quantity in _counted(request).items():
            left[key] = left.get(key, 0) - quantity
    return left


def check_return_within_shipment(
    order: Order,
    items: Sequence[ReturnItem | ReturnLine],
    other_returns: Iterable[ReturnRequest],
    *,
    exclude: str | None = None,
) -> None:
    """Raise ``return_exceeds_shipment`` when ``items`` exceed what is left to return.

    Source: docs/domain.md 2 (returns); the check spans every other return of the order.
    """
    left = returnable_quantities(order, other_returns, exclude=exclude)
    asked: dict[LineKey, int] = {}
    for item in items:
        asked[item.key] = asked.get(item.key, 0) + item.quantity
    over = quantities_over(asked, left)
    if over:
        names = ", ".join(f"{k}: {q} asked, {a} returnable" for k, (q, a) in over.items())
        raise RuleViolation(
            "return_exceeds_shipment",
            f"cannot return more than was shipped ({names})",
            order_id=order.id,
            lines={k: {"asked": q, "returnable": a} for k, (q, a) in over.items()},
        )


@attrs.frozen
class ReturnRequest:
    """A return report (退货), from the salesperson's request to the return note."""

    id: str = attrs.field(validator=_not_blank)
    order_id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    lines: tuple[ReturnLine, ...] = attrs.field(converter=as_tuple, validator=tuple_of(ReturnLine))
    reasons: tuple[ReturnReason, ...] = attrs.field(converter=_reasons)
    currency: str = attrs.field(validator=currency_code)
    requested_at: datetime = attrs.field(validator=_aware)
    requested_by: str = attrs.field(validator=_not_blank)
    note: str = attrs.field(default="", validator=text)
    status: ReturnStatus = attrs.field(default=ReturnStatus.REQUESTED, converter=_status)
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(StatusChange)
    )
    decided_by: str | None = attrs.field(default=None, validator=optional_text)
    received: tuple[ReceivedLine, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ReceivedLine)
    )
    received_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    return_note_number: str | None = attrs.field(default=None, validator=optional_text)
    #: What is done about it (the return analysis's next action), recorded at closing.
    next_action: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.lines:
            errors.append(("lines", "a return needs at least one line"))
        if not self.reasons:
            errors.append(("reasons", "a return needs a reason"))
        seen: set[LineKey] = set()
        for i, line in enumerate(self.lines):
            if line.key in seen:
                errors.append((f"lines.{i}", f"duplicate line for {describe(line.sku)}"))
            seen.add(line.key)
            if line.unit_price.currency != self.currency:
                errors.append((f"lines.{i}.unit_price", f"must be in {self.currency}"))
        for i, got in enumerate(self.received):
            if got.key not in seen:
                errors.append((f"received.{i}", f"{describe(got.sku)} was not requested"))
        if self.history and self.history[-1].to != self.status:
            errors.append(("status", "does not match the last history entry"))
        if errors:
            raise ValidationError(errors)

    # -- derived values ----------------------------------------------------------------

    @property
    def salesperson(self) -> str:
        """The salesperson who filed the return."""
        return self.requested_by

    @property
    def primary_reason(self) -> ReturnReason:
        """The first reason given; the monthly analysis counts the return under it."""
        return self.reasons[0]

    def unit_price(self, key: LineKey) -> Money:
        """The order's unit price of a returned line."""
        for line in self.lines:
            if line.key == key:
                return line.unit_price
        msg = f"{describe(key[0])} is not part of return {describe(self.id)}"
        raise ValidationError.at("sku", msg)

    def requested_quantities(self) -> dict[LineKey, int]:
        """Requested quantity per ``(sku, gift)``."""
        return {line.key: line.quantity for line in self.lines}

    def received_quantities(self) -> dict[LineKey, int]:
        """Received quantity per ``(sku, gift)``, good and damaged together."""
        result: dict[LineKey, int] = {}
        for got in self.received:
            result[got.key] = result.get(got.key, 0) + got.quantity
        return result

    @property
    def refund(self) -> Money:
        """What the customer gets back: order unit price times quantity.

        The requested quantities until goods come in, then the received quantities
        (good or damaged).
        """
        if self.status in _RECEIVED:
            amounts = (self.unit_price(g.key) * g.quantity for g in self.received)
        else:
            amounts = (line.unit_price * line.quantity for line in self.lines)
        return Money.total(amounts, self.currency)

    def redacted(self) -> ReturnRequest:
        """The request with its free-text note read as :data:`~csdomain.orders.REDACTED`.

        Source: docs/domain.md 1 (保护客户隐私): the salesperson's note is free text about the
        customer, shown only to ``customer.read``.
        """
        return attrs.evolve(self, note=REDACTED) if self.note.strip() else self

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        *,
        id: str,
        order: Order,
        items: Sequence[ReturnItem],
        reasons: Iterable[ReturnReason | str],
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        other_returns: Iterable[ReturnRequest] = (),
        note: str = "",
    ) -> ReturnRequest:
        """The salesperson files a return report; needs ``return.request`` (docs/domain.md 2).

        Unit prices come from the order; ``other_returns`` are the order's other returns
        (``return_exceeds_shipment`` spans all of them).
        """
        access.require(by, Permission.REQUEST_RETURN)
        require_aware(at)
        items = as_tuple(items)
        if not isinstance(items, tuple):
            raise ValidationError.at("items", f"expected a list, got {type(items).__name__}")
        for i, item in enumerate(items):
            if not isinstance(item, ReturnItem):
                raise ValidationError.at(f"items.{i}", "expected a ReturnItem")
        merged: dict[LineKey, int] = {}
        for item in items:
            merged[item.key] = merged.get(item.key, 0) + item.quantity
        check_return_within_shipment(order, items, other_returns, exclude=id)
        lines = tuple(
            ReturnLine(sku, quantity, order.line(sku, gift=gift).unit_price, gift)
            for (sku, gift), quantity in merged.items()
        )
        return cls(
            id=id,
            order_id=order.id,
            customer_id=order.customer_id,
            lines=lines,
            reasons=_reasons(reasons),
            currency=order.currency,
            requested_at=at,
            requested_by=by.id,
            note=note,
            history=(StatusChange(from_=None, to=ReturnStatus.REQUESTED.value, at=at, by=by.id),),
        )

    def _decide(
        self, action: str, at: datetime, by: Actor, access: AccessPolicy, note: str
    ) -> ReturnRequest:
        access.require(by, Permission.APPROVE_RETURN)
        require_aware(at)
        if same_identity(by.id, self.requested_by):
            detail = "a return is decided by a manager other than the one who filed it"
            raise PermissionDenied(by.id, Permission.APPROVE_RETURN, detail)
        return RETURN_LIFECYCLE.move(self, action, at=at, by=by.id, note=note, decided_by=by.id)

    def approve(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> ReturnRequest:
        """A manager approves the return (``return.approve``)."""
        return self._decide("approve_return", at, by, access, note)

    def reject(
        self, *, at: datetime, by: Actor, access: AccessPolicy, reason: str
    ) -> ReturnRequest:
        """A manager rejects the return, saying why (``return.approve``)."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a rejection needs a reason")
        return self._decide("reject_return", at, by, access, reason)

    def withdraw(
        self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> ReturnRequest:
        """The customer or salesperson withdraws the return before goods come in."""
        access.require(by, Permission.REQUEST_RETURN)
        require_aware(at)
        return RETURN_LIFECYCLE.move(self, "withdraw_return", at=at, by=by.id, note=note)

    def receive(
        self, lines: Sequence[ReceivedLine], *, at: datetime, by: Actor, access: AccessPolicy
    ) -> ReturnRequest:
        """The warehouse confirms quantity and condition of the goods that came in.

        Needs ``return.receive``; more than requested is ``received_exceeds_request``.
        Stock is not touched here: :func:`receive_return` does both.
        """
        access.require(by, Permission.RECEIVE_RETURN)
        require_aware(at)
        received = as_tuple(lines)
        if not isinstance(received, tuple):
            raise ValidationError.at("lines", f"expected a list, got {type(received).__name__}")
        if not received:
            raise ValidationError.at("lines", "nothing received: withdraw the return instead")
        for i, got in enumerate(received):
            if not isinstance(got, ReceivedLine):
                raise ValidationError.at(f"lines.{i}", "expected a ReceivedLine")
        requested = self.requested_quantities()
        totals: dict[LineKey, int] = {}
        for i, got in enumerate(received):
            if got.key not in requested:
                raise ValidationError.at(f"lines.{i}.sku", f"{describe(got.sku)} was not requested")
            totals[got.key] = totals.get(got.key, 0) + got.quantity
        over = sorted(key for key, quantity in totals.items() if quantity > requested[key])
        if over:
            raise RuleViolation(
                "received_exceeds_request",
                "more goods came in than the approved return covers",
                return_id=self.id,
                skus=[sku for sku, _ in over],
            )
        return RETURN_LIFECYCLE.move(
            self, "receive_return", at=at, by=by.id, received=received, received_at=at
        )

    def close(
        self,
        return_note_number: str,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        next_action: str = "",
    ) -> ReturnRequest:
        """Issue the return note and close the return (``return.receive``).

        ``next_action`` is what is done about it (docs/domain.md 2: the monthly return
        analysis names the next action); it goes into :class:`ReturnAnalysis`.
        """
        access.require(by, Permission.RECEIVE_RETURN)
        require_aware(at)
        if not isinstance(return_note_number, str) or not return_note_number.strip():
            raise ValidationError.at("return_note_number", "must not be empty")
        if not isinstance(next_action, str):
            raise ValidationError.at("next_action", "expected text")
        return RETURN_LIFECYCLE.move(
            self,
            "close_return",
            at=at,
            by=by.id,
            note=return_note_number,
            return_note_number=return_note_number,
            next_action=next_action.strip(),
        )


@attrs.frozen
class ReturnReceipt:
    """The received return, the changed stocks (by SKU) and every event to emit."""

    request: ReturnRequest
    stocks: dict[str, Stock]
    events: tuple[Event, ...]


def receive_return(
    request: ReturnRequest,
    stocks: Mapping[str, Stock],
    lines: Sequence[ReceivedLine],
    *,
    at: datetime,
    by: Actor,
    access: AccessPolicy,
) -> ReturnReceipt:
    """Receive returned goods and book them: good to good (gift) stock, damaged to damaged.

    Source: docs/domain.md 2, warehouse confirms quantity and reason, stock is booked.
    """
    received = request.receive(lines, at=at, by=by, access=access)
    changed: dict[str, Stock] = {}
    events: list[Event] = list(return_events(request, received))
    for got in received.received:
        stock = changed.get(got.sku) or stocks.get(got.sku) or Stock(id=got.sku)
        changed[got.sku] = stock.book_return(
            got.quantity, by=by, access=access, condition=got.condition, gift=got.gift
        )
        if got.condition is ItemCondition.DAMAGED:
            bucket = StockBucket.DAMAGED
        else:
            bucket = StockBucket.GIFT if got.gift else StockBucket.GOOD
        events.append(StockReturned(got.sku, got.quantity, bucket, request.id, at, by.id))
    return ReturnReceipt(received, changed, tuple(events))


# -- events ----------------------------------------------------------------------------


@attrs.frozen
class ReturnRequested(Event):
    """A salesperson filed a return report."""

    return_id: str
    order_id: str
    customer_id: str
    reasons: tuple[ReturnReason, ...]
    refund: Money
    at: datetime
    by: str


@attrs.frozen
class ReturnApproved(Event):
    """A manager approved a return."""

    return_id: str
    order_id: str
    at: datetime
    by: str


@attrs.frozen
class ReturnRejected(Event):
    """A manager rejected a return."""

    return_id: str
    order_id: str
    reason: str
    at: datetime
    by: str


@attrs.frozen
class ReturnWithdrawn(Event):
    """A return was withdrawn before goods came in."""

    return_id: str
    order_id: str
    at: datetime
    by: str


@attrs.frozen
class ReturnReceived(Event):
    """Returned goods came in; quantities and condition are confirmed."""

    return_id: str
    order_id: str
    lines: tuple[ReceivedLine, ...]
    refund: Money
    at: datetime
    by: str


@attrs.frozen
class ReturnClosed(Event):
    """A return note was issued: finance books the refund."""

    return_id: str
    order_id: str
    customer_id: str
    return_note_number: str
    refund: Money
    at: datetime
    by: str


def _return_status_event(request: ReturnRequest, change: StatusChange) -> Event:
    status = ReturnStatus(change.to)
    at, by = change.at, change.by
    if status is ReturnStatus.APPROVED:
        return ReturnApproved(request.id, request.order_id, at, by)
    if status is ReturnStatus.REJECTED:
        return ReturnRejected(request.id, request.order_id, change.note, at, by)
    if status is ReturnStatus.WITHDRAWN:
        return ReturnWithdrawn(request.id, request.order_id, at, by)
    if status is ReturnStatus.RECEIVED:
        return ReturnReceived(
            request.id, request.order_id, request.received, request.refund, at, by
        )
    if status is ReturnStatus.CLOSED:
        return ReturnClosed(
            request.id,
            request.order_id,
            request.customer_id,
            request.return_note_number or change.note,
            request.refund,
            at,
            by,
        )
    return ReturnRequested(
        request.id, request.order_id, request.customer_id, request.reasons, request.refund, at, by
    )


def return_events(before: ReturnRequest | None, after: ReturnRequest) -> list[Event]:
    """The events between two versions of a return request (``before=None``: just filed)."""
    known = 0 if before is None else len(before.history)
    return [_return_status_event(after, change) for change in after.history[known:]]


# -- monthly analysis ------------------------------------------------------------------


@attrs.frozen
class ReturnAnalysisRow:
    """Returns of one month, salesperson, item and (primary) reason."""

    month: str
    salesperson: str
    sku: str
    reason: ReturnReason
    returns: int
    quantity: int
    damaged_quantity: int
    amount: Money
    #: The next actions recorded on these returns, each once, in the order first seen.
    next_actions: tuple[str, ...] = ()


@attrs.frozen
class ReturnAnalysisTotal:
    """Totals over one value of one dimension (a salesperson, an item, a reason, a month)."""

    key: str
    returns: int
    quantity: int
    damaged_quantity: int
    amount: Money


Dimension = Literal["month", "salesperson", "sku", "reason"]
_DIMENSIONS: tuple[Dimension, ...] = ("month", "salesperson", "sku", "reason")
_RowKey = tuple[str, str, str, ReturnReason]


@attrs.define
class _Tally:
    returns: int
    quantity: int
    damaged: int
    amount: Money
    actions: list[str] = attrs.field(factory=list)

    def add(self, other: _Tally) -> None:
        self.returns += other.returns
        self.quantity += other.quantity
        self.damaged += other.damaged
        self.amount = self.amount + other.amount
        self.actions.extend(a for a in other.actions if a not in self.actions)


class ReturnAnalysis:
    """Monthly return and damage analysis, fed one received return at a time (docs/domain.md 2).

    Groups by month of receipt (in ``tz``), salesperson, item and primary reason; counts
    returns, quantity, damaged quantity and refund amount, and lists the next actions
    recorded when the returns were closed. Memory grows with the number
    of groups, not with the number of returns.
    """

    def __init__(self, currency: str = "CNY", tz: str = "Asia/Shanghai") -> None:
        Money.zero(currency)
        if not isinstance(tz, str):
            raise ValidationError.at("tz", f"expected text, got {type(tz).__name__}")
        try:
            self._zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValidationError.at("tz", f"unknown time zone {describe(tz)}") from None
        self.currency = currency
        self._groups: dict[_RowKey, _Tally] = {}
        self._totals: dict[Dimension, dict[str, _Tally]] = {d: {} for d in _DIMENSIONS}

    def _zero(self) -> _Tally:
        return _Tally(0, 0, 0, Money.zero(self.currency))

    def add(self, request: ReturnRequest) -> None:
        """Count one received or closed return; others raise :class:`ValidationError`."""
        if not isinstance(request, ReturnRequest):
            msg = f"expected a ReturnRequest, got {type(request).__name__}"
            raise ValidationError.at("request", msg)
        if request.status not in _RECEIVED or request.received_at is None:
            msg = f"return {describe(request.id)} is {request.status}: only received returns count"
            raise ValidationError.at("status", msg)
        if request.currency != self.currency:
            raise ValidationError.at(
                "currency", f"expected {self.currency}, got {request.currency}"
            )
        month = request.received_at.astimezone(self._zone).strftime("%Y-%m")
        mine: dict[_RowKey, _Tally] = {}
        for got in request.received:
            key = (month, request.requested_by, got.sku, request.primary_reason)
            damaged = got.quantity if got.condition is ItemCondition.DAMAGED else 0
            amount = request.unit_price(got.key) * got.quantity
            actions = [request.next_action] if request.next_action else []
            mine.setdefault(key, _Tally(1, 0, 0, Money.zero(self.currency))).add(
                _Tally(0, got.quantity, damaged, amount, actions)
            )
        for key, tally in mine.items():
            self._groups.setdefault(key, self._zero()).add(tally)
        for index, dimension in enumerate(_DIMENSIONS):
            per_value: dict[str, _Tally] = {}
            for key, tally in mine.items():
                name = str(key[index])
                if name not in per_value:
                    per_value[name] = _Tally(1, 0, 0, Money.zero(self.currency))
                per_value[name].add(_Tally(0, tally.quantity, tally.damaged, tally.amount))
            for name, tally in per_value.items():
                self._totals[dimension].setdefault(name, self._zero()).add(tally)

    def add_all(self, requests: Iterable[ReturnRequest]) -> ReturnAnalysis:
        """Add every request; returns ``self`` for chaining."""
        for request in requests:
            self.add(request)
        return self

    def rows(self) -> list[ReturnAnalysisRow]:
        """One row per month, salesperson, item and reason, sorted by those."""
        return [
            ReturnAnalysisRow(
                month,
                person,
                sku,
                reason,
                t.returns,
                t.quantity,
                t.damaged,
                t.amount,
                tuple(t.actions),
            )
            for (month, person, sku, reason), t in sorted(self._groups.items())
        ]

    def totals(self, by: Dimension) -> list[ReturnAnalysisTotal]:
        """Totals per value of one dimension, largest amount first."""
        if by not in self._totals:
            raise ValidationError.at("by", f"not a dimension: {describe(by)}")
        totals = [
            ReturnAnalysisTotal(name, t.returns, t.quantity, t.damaged, t.amount)
            for name, t in self._totals[by].items()
        ]
        totals.sort(key=lambda t: (-t.amount.amount, t.key))
        return totals
