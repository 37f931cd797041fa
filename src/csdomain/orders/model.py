"""The order: lines, consignee, payments, shipment, lifecycle (docs/domain.md 2, 订货 → 发货).

An :class:`Order` moves along :data:`ORDER_TRANSITIONS`::

    placed -> confirmed -> paid -> shipped -> delivered -> completed        (standard)
    placed -> confirmed -> prepaid -> in_production -> produced -> paid -> shipped ...
                                                                          (custom work)

and may be cancelled from any state before shipment. Payments move the order by
themselves: a standard order becomes ``paid`` once it is paid in full, custom work becomes
``prepaid`` once the contracted prepayment is in and ``paid`` when it is produced and paid
in full. A credit-exempt customer class (policy) may ship from ``confirmed`` unpaid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission, same_identity
from csdomain.calendar import BusinessCalendar
from csdomain.clock import require_aware
from csdomain.customers import CustomerClass
from csdomain.errors import PermissionDenied, RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.money import Money
from csdomain.orders._checks import stored_positive
from csdomain.orders.delivery import DeliveryWindow, promise_delivery
from csdomain.orders.policy import OrderPolicy
from csdomain.orders.stock import StockBucket
from csdomain.validators import (
    as_tuple,
    currency_code,
    enum_value,
    evolve_checked,
    flag,
    money,
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
    "OPEN_ORDER_STATUSES",
    "ORDER_COMMANDS",
    "ORDER_INITIAL",
    "ORDER_LIFECYCLE",
    "ORDER_TERMINAL",
    "ORDER_TRANSITIONS",
    "REDACTED",
    "SHIPPING_DETAILS",
    "ConsigneeInfo",
    "LineKey",
    "Order",
    "OrderChannel",
    "OrderKind",
    "OrderLine",
    "OrderStatus",
    "Payment",
    "PriceChange",
    "Shipment",
    "ShipmentLine",
    "ShippingMode",
    "choose_shipping_mode",
]

#: An order line's identity: ``(sku, gift)``. An order holds at most one line per key.
LineKey = tuple[str, bool]


class OrderChannel(StrEnum):
    """How the order came in (订货方式, docs/domain.md 2)."""

    DEALER = "dealer"
    ONLINE = "online"
    PHONE = "phone"
    LETTER = "letter"
    FAX = "fax"
    EMAIL = "email"


class OrderKind(StrEnum):
    """Standard goods from stock, or custom work made to order (docs/domain.md 2)."""

    STANDARD = "standard"
    CUSTOM = "custom"


class ShippingMode(StrEnum):
    """Shipping mode chosen by quantity and urgency (docs/domain.md 2)."""

    EXPRESS = "express"
    LOGISTICS = "logistics"
    RAIL = "rail"


class OrderStatus(StrEnum):
    """Where an order stands."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    PREPAID = "prepaid"
    IN_PRODUCTION = "in_production"
    PRODUCED = "produced"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_S = OrderStatus

#: Allowed moves (docs/domain.md 2: payment first, then shipment; custom work: prepayment,
#: production, balance, shipment; cancellation only before shipment).
ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.PLACED: frozenset({_S.CONFIRMED, _S.CANCELLED}),
    _S.CONFIRMED: frozenset({_S.PREPAID, _S.PAID, _S.SHIPPED, _S.CANCELLED}),
    _S.PREPAID: frozenset({_S.IN_PRODUCTION, _S.CANCELLED}),
    _S.IN_PRODUCTION: frozenset({_S.PRODUCED, _S.CANCELLED}),
    _S.PRODUCED: frozenset({_S.PAID, _S.CANCELLED}),
    _S.PAID: frozenset({_S.SHIPPED, _S.CANCELLED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
}
ORDER_INITIAL: frozenset[OrderStatus] = frozenset({_S.PLACED})
ORDER_TERMINAL: frozenset[OrderStatus] = frozenset({_S.COMPLETED, _S.CANCELLED})
#: Statuses before shipment and not cancelled: the order still waits for goods.
OPEN_ORDER_STATUSES: frozenset[OrderStatus] = frozenset(
    {_S.PLACED, _S.CONFIRMED, _S.PREPAID, _S.IN_PRODUCTION, _S.PRODUCED, _S.PAID}
)
_PRICE_OPEN = frozenset({_S.PLACED, _S.CONFIRMED, _S.PREPAID, _S.IN_PRODUCTION, _S.PRODUCED})
_PAYABLE = frozenset(set(OrderStatus) - ORDER_TERMINAL)

#: The commands of an order, beside :data:`ORDER_TRANSITIONS`: the statuses each runs
#: from and the status it leads to (``None``: the status stays). ``receive_prepayment``
#: and ``receive_full_payment`` are taken by the order itself when a payment, a
#: confirmation, a price change or the end of production covers what is due.
ORDER_COMMANDS: Mapping[str, Command[OrderStatus]] = {
    "confirm_by_salesperson": Command(
        "have the salesperson confirm the order", frozenset({_S.PLACED})
    ),
    "confirm_order": Command("confirm the order", frozenset({_S.PLACED}), _S.CONFIRMED),
    "set_consignee": Command("record the consignee", OPEN_ORDER_STATUSES),
    "record_payment": Command("record a payment", _PAYABLE),
    "receive_prepayment": Command(
        "pay the contracted prepayment", frozenset({_S.CONFIRMED}), _S.PREPAID
    ),
    "start_production": Command("start production", frozenset({_S.PREPAID}), _S.IN_PRODUCTION),
    "finish_production": Command("finish production", frozenset({_S.IN_PRODUCTION}), _S.PRODUCED),
    "receive_full_payment": Command(
        "pay the order in full", frozenset({_S.CONFIRMED, _S.PRODUCED}), _S.PAID
    ),
    "reserve_stock": Command("reserve the stock", OPEN_ORDER_STATUSES),
    "ship_order": Command("ship the order", frozenset({_S.CONFIRMED, _S.PAID}), _S.SHIPPED),
    "confirm_delivery": Command("confirm the delivery", frozenset({_S.SHIPPED}), _S.DELIVERED),
    "complete_order": Command("complete the order", frozenset({_S.DELIVERED}), _S.COMPLETED),
    "cancel_order": Command("cancel the order", OPEN_ORDER_STATUSES, _S.CANCELLED),
}
#: The order's lifecycle: :data:`ORDER_TRANSITIONS` and :data:`ORDER_COMMANDS`.
ORDER_LIFECYCLE: Lifecycle[OrderStatus] = Lifecycle("order", ORDER_TRANSITIONS, ORDER_COMMANDS)


def _move(
    order: Order, action: str, *, at: datetime, by: str, note: str = "", **changes: Any
) -> Order:
    """``ORDER_LIFECYCLE.move``: the order after ``action``, status moved and history grown.

    The same check and history entry as :meth:`~csdomain.lifecycle.Lifecycle.move`; the
    new order is built with :func:`~csdomain.validators.evolve_checked`, which checks the
    fields the step changes and the order's cross-field rules, not every field again.
    """
    target = ORDER_LIFECYCLE.check(order.id, order.status, action)
    step = StatusChange(from_=order.status.value, to=target.value, at=at, by=by, note=note)
    return evolve_checked(order, status=target, history=(*order.history, step), **changes)


def _channel(value: OrderChannel | str) -> OrderChannel:
    return value if value.__class__ is OrderChannel else enum_value(OrderChannel, value, "channel")


def _kind(value: OrderKind | str) -> OrderKind:
    return value if value.__class__ is OrderKind else enum_value(OrderKind, value, "kind")


def _status(value: OrderStatus | str) -> OrderStatus:
    return value if value.__class__ is OrderStatus else enum_value(OrderStatus, value, "status")


def _mode(value: ShippingMode | str) -> ShippingMode:
    return enum_value(ShippingMode, value, "mode")


def _tuple(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        msg = f"expected a tuple, got {type(value).__name__}"
        raise ValidationError.at(attribute.name, msg)


def choose_shipping_mode(
    quantity: int,
    policy: OrderPolicy,
    *,
    urgent: bool = False,
    weight_kg: Decimal | None = None,
) -> ShippingMode:
    """The shipping mode for ``quantity`` units by quantity and urgency (docs/domain.md 2).

    Source: docs/domain.md 2, shipping mode by quantity and urgency (express, or
    logistics/rail freight). Urgent goes express (``urgent_goes_express``); otherwise up
    to ``express_max_quantity`` units and, when the weight is given, up to
    ``express_max_weight_kg`` go express, anything larger ``bulk_shipping_mode``.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValidationError.at(
            "quantity", f"must be a whole number >= 0, got {describe(quantity)}"
        )
    if weight_kg is not None and (not isinstance(weight_kg, Decimal) or weight_kg < 0):
        raise ValidationError.at("weight_kg", f"must be a Decimal >= 0, got {describe(weight_kg)}")
    if urgent and policy.urgent_goes_express:
        return ShippingMode.EXPRESS
    small = quantity <= policy.express_max_quantity and (
        weight_kg is None or weight_kg <= policy.express_max_weight_kg
    )
    return ShippingMode.EXPRESS if small else ShippingMode(policy.bulk_shipping_mode)


def _optional_mode(value: ShippingMode | str | None) -> ShippingMode | None:
    return None if value is None else _mode(value)


@attrs.frozen
class OrderLine:
    """One ordered item: SKU, quantity, unit price; gift lines ship from gift stock."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    unit_price: Money = attrs.field(validator=money)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)

    @property
    def amount(self) -> Money:
        """Unit price times quantity."""
        return self.unit_price * self.quantity

    @property
    def bucket(self) -> StockBucket:
        """The stock this line ships from."""
        return StockBucket.GIFT if self.gift else StockBucket.GOOD


@attrs.frozen
class ConsigneeInfo:
    """Invoice and delivery data that come with the remittance proof (docs/domain.md 2).

    The proof comes with invoice title, consignee, phone, postcode and full address;
    postcode and invoice title may be recorded later, but an order ships only once
    every field the policy asks for is there (``consignee_required``).
    """

    consignee: str = attrs.field(validator=_not_blank)
    phone: str = attrs.field(validator=_not_blank)
    address: str = attrs.field(validator=_not_blank)
    postcode: str = attrs.field(default="", validator=text)
    invoice_title: str = attrs.field(default="", validator=text)

    def redacted(self) -> ConsigneeInfo:
        """The same details with every filled-in field read as :data:`REDACTED`.

        What an actor without ``customer.read`` is shown (docs/domain.md 1, 保护客户隐私):
        which details are there stays visible (a shipment's checks still read), not what
        they say.
        """
        return evolve_checked(
            self,
            **{name: REDACTED for name in SHIPPING_DETAILS if getattr(self, name).strip()},
        )

    def missing(self, required: Iterable[str]) -> tuple[str, ...]:
        """The ``required`` fields that are blank, in the order of the remittance proof."""
        wanted = frozenset(required)
        return tuple(f for f in SHIPPING_DETAILS if f in wanted and not getattr(self, f).strip())


#: What a personal field reads when it is shown to an actor without ``customer.read``.
REDACTED = "[redacted]"

#: The notes an order writes into its own history when a payment moves it on: not free
#: text about the customer, so never redacted.
_PREPAID_NOTE = "prepayment received"
_PAID_NOTE = "paid in full"
_SYSTEM_NOTES: frozenset[str] = frozenset({_PREPAID_NOTE, _PAID_NOTE})

#: The remittance details a shipment needs, in the order the proof lists them.
SHIPPING_DETAILS: tuple[str, ...] = ("invoice_title", "consignee", "phone", "postcode", "address")


@attrs.frozen
class Payment:
    """Money received for an order."""

    amount: Money = attrs.field(validator=money)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=text)
    reference: str = attrs.field(default="", validator=text)


@attrs.frozen
class ShipmentLine:
    """One shipped item."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=stored_positive)
    gift: bool = attrs.field(default=False, validator=flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)


@attrs.frozen
class Shipment:
    """The one complete shipment of an order."""

    lines: tuple[ShipmentLine, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(ShipmentLine)
    )
    at: datetime = attrs.field(validator=_aware)
    mode: ShippingMode = attrs.field(converter=_mode)
    by: str = attrs.field(validator=text)
    tracking: str = attrs.field(default="", validator=text)


@attrs.frozen
class PriceChange:
    """A unit price changed by someone allowed to (``order.change_price``)."""

    sku: str = attrs.field(validator=_not_blank)
    gift: bool = attrs.field(validator=flag)
    old: Money = attrs.field(validator=money)
    new: Money = attrs.field(validator=money)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=text)


def _order_problems(order: Order) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not order.lines:
        errors.append(("lines", "an order needs at least one line"))
    seen: set[LineKey] = set()
    for i, line in enumerate(order.lines):
        if not isinstance(line, OrderLine):
            errors.append((f"lines.{i}", "expected an OrderLine"))
            continue
        key = (line.sku, line.gift)
        if key in seen:
            errors.append(
                (f"lines.{i}", f"duplicate line for {describe(line.sku)} (gift={line.gift})")
            )
        seen.add(key)
        if line.unit_price.currency != order.currency:
            errors.append((f"lines.{i}.unit_price", f"must be in {order.currency}"))
    for i, payment in enumerate(order.payments):
        if payment.amount.currency != order.currency:
            errors.append((f"payments.{i}.amount", f"must be in {order.currency}"))
    if order.channel is OrderChannel.DEALER and not order.dealer_id:
        errors.append(("dealer_id", "an order placed through a dealer names the dealer"))
    if order.kind is OrderKind.CUSTOM:
        if not order.contract_number:
            errors.append(("contract_number", "custom work needs a signed contract"))
        if order.prepayment is None:
            errors.append(("prepayment", "custom work needs a contracted prepayment"))
    else:
        if order.contract_number is not None:
            errors.append(("contract_number", "only custom work has a contract number"))
        if order.prepayment is not None:
            errors.append(("prepayment", "only custom work has a prepayment"))
    if order.prepayment is not None and order.prepayment.currency != order.currency:
        errors.append(("prepayment", f"must be in {order.currency}"))
    if order.history and order.history[-1].to != order.status:
        errors.append(("status", "does not match the last history entry"))
    return errors


def _amount_problems(order: Order) -> list[tuple[str, str]]:
    """Prepayment and payments within the order total (docs/domain.md 2).

    The sums are plain Decimals: amounts sit at the currency's exponent, so while the sums
    stay below Money's size limit they are exact and equal the Money arithmetic. Beyond
    it the Money arithmetic runs, to raise its own error.
    """
    total = sum([line.unit_price.amount * line.quantity for line in order.lines], Decimal(0))
    paid = sum([p.amount.amount for p in order.payments], Decimal(0))
    if not Money.fits(max(total, paid), order.currency):
        total, paid = order.total.amount, order.paid.amount  # Money raises its size error
    errors: list[tuple[str, str]] = []
    if order.prepayment is not None and order.prepayment.amount > total:
        errors.append(("prepayment", "must not exceed the order total"))
    if paid > total:
        errors.append(("payments", "payments exceed the order total"))
    return errors


@attrs.frozen
class Order:
    """A customer order (docs/domain.md 2); see the module docstring for its lifecycle."""

    id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    channel: OrderChannel = attrs.field(converter=_channel)
    lines: tuple[OrderLine, ...] = attrs.field(converter=as_tuple, validator=_tuple)
    currency: str = attrs.field(validator=currency_code)
    placed_at: datetime = attrs.field(validator=_aware)
    placed_by: str = attrs.field(validator=text)
    kind: OrderKind = attrs.field(default=OrderKind.STANDARD, converter=_kind)
    dealer_id: str | None = attrs.field(default=None, validator=optional_text)
    contract_number: str | None = attrs.field(default=None, validator=optional_text)
    prepayment: Money | None = attrs.field(default=None, validator=optional(money))
    consignee: ConsigneeInfo | None = attrs.field(
        default=None, validator=optional_instance_of(ConsigneeInfo)
    )
    salesperson: str | None = attrs.field(default=None, validator=optional_text)
    confirmed_by_salesperson: str | None = attrs.field(default=None, validator=optional_text)
    salesperson_confirmed_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    payments: tuple[Payment, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Payment)
    )
    shipments: tuple[Shipment, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Shipment)
    )
    status: OrderStatus = attrs.field(default=OrderStatus.PLACED, converter=_status)
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(StatusChange)
    )
    expected_delivery: DeliveryWindow | None = attrs.field(
        default=None, validator=optional_instance_of(DeliveryWindow)
    )
    delivered_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    price_changes: tuple[PriceChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(PriceChange)
    )
    #: The customer needs the goods urgently: by default they go express.
    urgent: bool = attrs.field(default=False, validator=flag)
    #: The shipping mode chosen for this order, overriding the policy's choice.
    shipping_mode: ShippingMode | None = attrs.field(default=None, converter=_optional_mode)

    def __attrs_post_init__(self) -> None:
        errors = _order_problems(self) or _amount_problems(self)
        if errors:
            raise ValidationError(errors)

    # -- derived values ----------------------------------------------------------------

    @property
    def total(self) -> Money:
        """Sum of all lines.

        A plain Decimal sum, as in the order's own amount check: every unit price sits at
        the order currency's exponent (the order checked that the lines are in its
        currency), so each line's amount is exact and the sum equals the Money arithmetic;
        beyond Money's size limit the Money arithmetic runs, to raise its own error.
        """
        amount = sum([line.unit_price.amount * line.quantity for line in self.lines], Decimal(0))
        if Money.fits(amount, self.currency):
            return Money(amount, self.currency)
        return Money.total((line.amount for line in self.lines), self.currency)

    @property
    def paid(self) -> Money:
        """Sum of all payments (a plain Decimal sum, like :attr:`total`)."""
        amount = sum([p.amount.amount for p in self.payments], Decimal(0))
        if Money.fits(amount, self.currency):
            return Money(amount, self.currency)
        return Money.total((p.amount for p in self.payments), self.currency)

    @property
    def balance(self) -> Money:
        """What is still to pay."""
        return self.total - self.paid

    @property
    def is_paid_in_full(self) -> bool:
        """Whether the payments cover the total."""
        return self.paid >= self.total

    @property
    def is_open(self) -> bool:
        """Whether the order is before shipment and not cancelled."""
        return self.status in OPEN_ORDER_STATUSES

    @property
    def stock_lines(self) -> tuple[OrderLine, ...]:
        """Lines drawn from stock: every line of standard goods; gifts only for custom work."""
        if self.kind is OrderKind.CUSTOM:
            return tuple(line for line in self.lines if line.gift)
        return self.lines

    @property
    def units(self) -> int:
        """How many units the order ships, every line together."""
        return sum(line.quantity for line in self.lines)

    def planned_shipping_mode(self, policy: OrderPolicy) -> ShippingMode:
        """The order's own shipping mode, or the policy's by quantity and urgency."""
        if self.shipping_mode is not None:
            return self.shipping_mode
        return choose_shipping_mode(self.units, policy, urgent=self.urgent)

    def ordered_quantities(self) -> dict[LineKey, int]:
        """Ordered quantity per ``(sku, gift)``."""
        return {line.key: line.quantity for line in self.lines}

    def shipped_quantities(self) -> dict[LineKey, int]:
        """Shipped quantity per ``(sku, gift)`` (all zero before shipment)."""
        result = dict.fromkeys(self.ordered_quantities(), 0)
        for shipment in self.shipments:
            for line in shipment.lines:
                result[line.key] = result.get(line.key, 0) + line.quantity
        return result

    def line(self, sku: str, *, gift: bool = False) -> OrderLine:
        """The line for ``sku`` (and gift flag)."""
        for line in self.lines:
            if line.key == (sku, gift):
                return line
        msg = f"order {describe(self.id)} has no line {describe(sku)} (gift={describe(gift)})"
        raise ValidationError.at("sku", msg)

    @property
    def paid_in_full_at(self) -> datetime | None:
        """When the order was last paid in full: the remittance proof came in then."""
        for change in reversed(self.history):
            if change.to == OrderStatus.PAID.value:
                return change.at
        return None

    def is_late(self, on: date) -> bool:
        """Whether delivery missed the promised latest date as seen on ``on`` (docs/domain.md 2)."""
        if self.expected_delivery is None or self.status is OrderStatus.CANCELLED:
            return False
        if self.delivered_at is not None:
            return self.delivered_at.date() > self.expected_delivery.latest
        return on > self.expected_delivery.latest

    @property
    def personal_notes(self) -> tuple[str, ...]:
        """The free-text notes of the order's history (confirmation notes, cancellation
        reasons): what people wrote, not the notes the order writes itself."""
        return tuple(
            change.note
            for change in self.history
            if change.note.strip() and change.note not in _SYSTEM_NOTES
        )

    @property
    def holds_personal_data(self) -> bool:
        """Whether the order holds personal data: a consignee or a free-text note."""
        return self.consignee is not None or bool(self.personal_notes)

    def redacted(self) -> Order:
        """The order with its consignee's details (see :meth:`ConsigneeInfo.redacted`) and
        the free-text notes of its history read as :data:`REDACTED`.

        Source: docs/domain.md 1 (保护客户隐私): the consignee's name, phone, postcode,
        address and invoice title are personal data, and so is what people wrote about the
        customer in a confirmation note or a cancellation reason; shown only to
        ``customer.read``. The notes the order writes itself ("paid in full") stay.
        """
        if not self.holds_personal_data:
            return self
        history = tuple(
            evolve_checked(change, note=REDACTED)
            if change.note.strip() and change.note not in _SYSTEM_NOTES
            else change
            for change in self.history
        )
        consignee = None if self.consignee is None else self.consignee.redacted()
        return evolve_checked(self, consignee=consignee, history=history)

    # -- lifecycle ---------------------------------------------------------------------

    def _settled(self, at: datetime, by: str) -> Order:
        order = self
        if (
            order.kind is OrderKind.CUSTOM
            and order.status is OrderStatus.CONFIRMED
            and order.prepayment is not None
            and order.paid >= order.prepayment
        ):
            order = _move(order, "receive_prepayment", at=at, by=by, note=_PREPAID_NOTE)
        ready = OrderStatus.PRODUCED if order.kind is OrderKind.CUSTOM else OrderStatus.CONFIRMED
        if order.status is ready and order.is_paid_in_full:
            order = _move(order, "receive_full_payment", at=at, by=by, note=_PAID_NOTE)
        return order

    @classmethod
    def place(
        cls,
        *,
        id: str,
        customer_id: str,
        channel: OrderChannel | str,
        lines: Sequence[OrderLine],
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: OrderPolicy,
        kind: OrderKind | str = OrderKind.STANDARD,
        dealer_id: str | None = None,
        contract_number: str | None = None,
        prepayment: Money | None = None,
        consignee: ConsigneeInfo | None = None,
        salesperson: str | None = None,
        urgent: bool = False,
        shipping_mode: ShippingMode | str | None = None,
    ) -> Order:
        """Take an order in the policy currency; needs ``order.place`` (docs/domain.md 2).

        ``urgent`` and ``shipping_mode`` (an override of the policy's choice) decide how
        it ships (:meth:`planned_shipping_mode`).

        Whoever takes a phone order is its salesperson when none is named: a phone order
        must be confirmed by the salesperson, and only by that one.
        """
        access.require(by, Permission.PLACE_ORDER)
        require_aware(at)
        channel = _channel(channel)
        if salesperson is None and channel is OrderChannel.PHONE:
            salesperson = by.id
        return cls(
            id=id,
            customer_id=customer_id,
            channel=channel,
            lines=lines,
            currency=policy.currency,
            placed_at=at,
            placed_by=by.id,
            kind=_kind(kind),
            dealer_id=dealer_id,
            contract_number=contract_number,
            prepayment=prepayment,
            consignee=consignee,
            salesperson=salesperson,
            urgent=urgent,
            shipping_mode=shipping_mode,
            history=(StatusChange(from_=None, to=OrderStatus.PLACED.value, at=at, by=by.id),),
        )

    def confirm_by_salesperson(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Record the salesperson's confirmation a phone order needs (docs/domain.md 2).

        When the order names a salesperson, only that person may confirm.
        """
        access.require(by, Permission.CONFIRM_ORDER)
        require_aware(at)
        if self.channel is not OrderChannel.PHONE:
            raise ValidationError.at(
                "channel", "only phone orders need the salesperson's confirmation"
            )
        ORDER_LIFECYCLE.check(self.id, self.status, "confirm_by_salesperson")
        if self.salesperson is not None and not same_identity(self.salesperson, by.id):
            detail = f"only the order's salesperson {describe(self.salesperson)} may confirm it"
            raise PermissionDenied(by.id, Permission.CONFIRM_ORDER, detail)
        return evolve_checked(
            self,
            salesperson=self.salesperson or by.id,
            confirmed_by_salesperson=by.id,
            salesperson_confirmed_at=at,
        )

    def confirm(self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = "") -> Order:
        """Confirm the order contents with the customer (docs/domain.md 2).

        A phone order needs :meth:`confirm_by_salesperson` first
        (``salesperson_confirmation_required``).
        """
        access.require(by, Permission.CONFIRM_ORDER)
        require_aware(at)
        if self.channel is OrderChannel.PHONE and self.confirmed_by_salesperson is None:
            raise RuleViolation(
                "salesperson_confirmation_required",
                "a phone order must be confirmed by the salesperson first",
                order_id=self.id,
            )
        confirmed = _move(self, "confirm_order", at=at, by=by.id, note=note)
        return confirmed._settled(at, by.id)

    def set_consignee(
        self, consignee: ConsigneeInfo, *, at: datetime, by: Actor, access: AccessPolicy
    ) -> Order:
        """Record invoice title, consignee, phone, postcode and address before shipment."""
        access.require(by, Permission.PLACE_ORDER)
        require_aware(at)
        if not isinstance(consignee, ConsigneeInfo):
            raise ValidationError.at("consignee", "expected ConsigneeInfo")
        ORDER_LIFECYCLE.check(self.id, self.status, "set_consignee")
        return evolve_checked(self, consignee=consignee)

    def change_price(
        self,
        sku: str,
        unit_price: Money,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        gift: bool = False,
    ) -> Order:
        """Change a line's unit price; needs ``order.change_price``.

        Refused with ``price_locked`` once paid in full or shipped, and with
        ``overpayment`` when the new total would fall below what was already paid.
        """
        access.require(by, Permission.CHANGE_PRICE)
        require_aware(at)
        if self.status not in _PRICE_OPEN:
            raise RuleViolation(
                "price_locked",
                f"the price of an order that is {self.status} cannot change",
                order_id=self.id,
                status=self.status.value,
            )
        old = self.line(sku, gift=gift)
        if not isinstance(unit_price, Money) or unit_price.currency != self.currency:
            raise ValidationError.at("unit_price", f"must be Money in {self.currency}")
        if unit_price == old.unit_price:
            return self
        lines = tuple(
            evolve_checked(line, unit_price=unit_price) if line.key == old.key else line
            for line in self.lines
        )
        new_total = Money.total((line.amount for line in lines), self.currency)
        if new_total < self.paid:
            raise RuleViolation(
                "overpayment",
                "the new total would be below what was already paid",
                order_id=self.id,
                paid=str(self.paid),
                total=str(new_total),
            )
        change = PriceChange(
            sku=sku, gift=gift, old=old.unit_price, new=unit_price, at=at, by=by.id
        )
        changed = evolve_checked(self, lines=lines, price_changes=(*self.price_changes, change))
        return changed._settled(at, by.id)

    def record_payment(
        self,
        amount: Money,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        reference: str = "",
    ) -> Order:
        """Book a payment; refused with ``overpayment`` beyond the order total (docs/domain.md 2).

        Payments move the order on by themselves (see the module docstring).
        """
        access.require(by, Permission.RECORD_PAYMENT)
        require_aware(at)
        if not isinstance(amount, Money) or amount.currency != self.currency:
            raise ValidationError.at("amount", f"must be Money in {self.currency}")
        if not amount:
            raise ValidationError.at("amount", "a payment must be more than zero")
        ORDER_LIFECYCLE.check(self.id, self.status, "record_payment")
        if self.paid + amount > self.total:
            raise RuleViolation(
                "overpayment",
                f"{amount} would exceed the order total {self.total} (already paid {self.paid})",
                order_id=self.id,
                amount=str(amount),
                balance=str(self.balance),
            )
        payment = Payment(amount=amount, at=at, by=by.id, reference=reference)
        return evolve_checked(self, payments=(*self.payments, payment))._settled(at, by.id)

    def start_production(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Start custom work; refused with ``prepayment_required`` before the prepayment."""
        access.require(by, Permission.MANAGE_STOCK)
        require_aware(at)
        if (
            self.kind is OrderKind.CUSTOM
            and self.status in (OrderStatus.PLACED, OrderStatus.CONFIRMED)
            and self.prepayment is not None
            and self.paid < self.prepayment
        ):
            raise RuleViolation(
                "prepayment_required",
                f"custom work starts after the prepayment of {self.prepayment}",
                order_id=self.id,
                prepayment=str(self.prepayment),
                paid=str(self.paid),
            )
        return _move(self, "start_production", at=at, by=by.id)

    def finish_production(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Custom work is produced; when already paid in full it moves on to ``paid``."""
        access.require(by, Permission.MANAGE_STOCK)
        require_aware(at)
        produced = _move(self, "finish_production", at=at, by=by.id)
        return produced._settled(at, by.id)

    def ship(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: OrderPolicy,
        calendar: BusinessCalendar,
        mode: ShippingMode | str | None = None,
        lines: Sequence[ShipmentLine] | None = None,
        customer_class: CustomerClass | None = None,
        tracking: str = "",
    ) -> Order:
        """Ship the whole order and promise a delivery window (docs/domain.md 2).

        ``mode`` (``None``: :meth:`planned_shipping_mode`, by quantity and urgency unless
        the order names its own) is how the goods go.

        The promise counts calendar days from the remittance proof (接到传真后……3-4日即可
        收到): from when the order was paid in full, or from the shipment itself for an
        order shipped on credit (:func:`~csdomain.orders.promise_delivery`).

        ``lines`` defaults to every order line; anything else is
        ``partial_shipment_forbidden``. Standard goods need full payment first
        (``payment_required``) unless the policy says otherwise or the customer class is
        credit-exempt; custom work always needs the balance (``balance_required``).
        A shipment needs the remittance details: invoice title, consignee, phone, postcode
        and full address (``consignee_required`` names what is missing; the policy's
        ``shipping_details_required``). Stock is not touched
        here: :func:`ship_order` does both.
        """
        access.require(by, Permission.SHIP_ORDER)
        require_aware(at)
        if self.status is not OrderStatus.PRODUCED:
            # produced custom work is not paid in full yet: balance_required below says so
            ORDER_LIFECYCLE.check(self.id, self.status, "ship_order")
        shipped = (
            tuple(ShipmentLine(line.sku, line.quantity, line.gift) for line in self.lines)
            if lines is None
            else as_tuple(lines)
        )
        if not isinstance(shipped, tuple):
            raise ValidationError.at("lines", f"expected a list, got {type(shipped).__name__}")
        wanted: dict[LineKey, int] = {}
        for i, line in enumerate(shipped):
            if not isinstance(line, ShipmentLine):
                raise ValidationError.at(f"lines.{i}", "expected a ShipmentLine")
            wanted[line.key] = wanted.get(line.key, 0) + line.quantity
        if wanted != self.ordered_quantities():
            raise RuleViolation(
                "partial_shipment_forbidden",
                "an order ships complete or not at all",
                order_id=self.id,
                ordered={
                    f"{s}{' (gift)' if g else ''}": q
                    for (s, g), q in self.ordered_quantities().items()
                },
                shipping={f"{s}{' (gift)' if g else ''}": q for (s, g), q in wanted.items()},
            )
        if not self.is_paid_in_full:
            if self.kind is OrderKind.CUSTOM:
                raise RuleViolation(
                    "balance_required",
                    "custom work ships after the balance is paid in full",
                    order_id=self.id,
                    balance=str(self.balance),
                )
            exempt = customer_class is not None and customer_class in policy.credit_exempt_classes
            if policy.require_payment_before_shipment and not exempt:
                raise RuleViolation(
                    "payment_required",
                    "payment first, then shipment",
                    order_id=self.id,
                    balance=str(self.balance),
                )
        required = policy.shipping_details_required
        missing = (
            tuple(f for f in SHIPPING_DETAILS if f in required)
            if self.consignee is None
            else self.consignee.missing(required)
        )
        if missing:
            names = ", ".join(name.replace("_", " ") for name in missing)
            raise RuleViolation(
                "consignee_required",
                f"the remittance details are needed to ship; missing: {names}",
                order_id=self.id,
                missing=list(missing),
            )
        chosen = self.planned_shipping_mode(policy) if mode is None else mode
        shipment = Shipment(lines=shipped, at=at, mode=chosen, by=by.id, tracking=tracking)
        return _move(
            self,
            "ship_order",
            at=at,
            by=by.id,
            shipments=(*self.shipments, shipment),
            expected_delivery=promise_delivery(self.paid_in_full_at or at, calendar, policy),
        )

    def deliver(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """The customer received the goods."""
        access.require(by, Permission.SHIP_ORDER)
        require_aware(at)
        return _move(self, "confirm_delivery", at=at, by=by.id, delivered_at=at)

    def complete(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Close a delivered order; refused with ``payment_outstanding`` while money is owed."""
        access.require(by, Permission.CONFIRM_ORDER)
        require_aware(at)
        if self.status is OrderStatus.DELIVERED and not self.is_paid_in_full:
            raise RuleViolation(
                "payment_outstanding",
                "an order is completed once it is paid in full",
                order_id=self.id,
                balance=str(self.balance),
            )
        return _move(self, "complete_order", at=at, by=by.id)

    def cancel(self, *, at: datetime, by: Actor, access: AccessPolicy, reason: str) -> Order:
        """Cancel before shipment; payments received are to be refunded (``OrderCancelled``)."""
        access.require(by, Permission.CANCEL_ORDER)
        require_aware(at)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a cancellation needs a reason")
        return _move(self, "cancel_order", at=at, by=by.id, note=reason)
