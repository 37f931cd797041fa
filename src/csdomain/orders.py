"""Orders, stock and delivery: from order to shipment (DOMAIN.md 2, 订货 → 发货).

An :class:`Order` moves along :data:`ORDER_TRANSITIONS`::

    placed -> confirmed -> paid -> shipped -> delivered -> completed        (standard)
    placed -> confirmed -> prepaid -> in_production -> produced -> paid -> shipped ...
                                                                          (custom work)

and may be cancelled from any state before shipment. Payments move the order by
themselves: a standard order becomes ``paid`` once it is paid in full, custom work becomes
``prepaid`` once the contracted prepayment is in and ``paid`` when it is produced and paid
in full. A credit-exempt customer class (policy) may ship from ``confirmed`` unpaid.

:class:`Stock` keeps good, damaged and gift quantities per SKU (正品/残品/赠品) and never
goes negative. The pure coordinators :func:`ship_order`, :func:`reserve_order`,
:func:`release_order` change an order and its stock together and return the events.

Conventions for the service layer:

- Every state-changing method takes ``by: Actor`` and ``access: AccessPolicy`` and checks
  the permission itself (permission first, then state, then business rules).
- Methods return new aggregates. :func:`order_events` derives the order's events from two
  versions (``before=None`` for a new order); the coordinators return their events; for
  the single-stock methods (:meth:`Stock.receive`, :meth:`Stock.mark_damaged`,
  :meth:`Stock.write_off`) the service builds :class:`StockReceived`,
  :class:`StockMarkedDamaged` and :class:`StockWrittenOff` from its own arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.clock import require_aware
from csdomain.customers import CustomerClass
from csdomain.errors import InvalidTransition, PermissionDenied, RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.ids import NamingSeries
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.money import Money
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "OPEN_ORDER_STATUSES",
    "ORDER_INITIAL",
    "ORDER_TERMINAL",
    "ORDER_TRANSITIONS",
    "AwaitingStock",
    "ConsigneeInfo",
    "DeliveryProblem",
    "DeliveryProblemAssessment",
    "DeliveryProblemKind",
    "DeliveryWindow",
    "ItemCondition",
    "LineKey",
    "Order",
    "OrderCancelled",
    "OrderChannel",
    "OrderCompleted",
    "OrderConfirmed",
    "OrderConfirmedBySalesperson",
    "OrderDelivered",
    "OrderKind",
    "OrderLine",
    "OrderPaid",
    "OrderPlaced",
    "OrderPolicy",
    "OrderPrepaid",
    "OrderPriceChanged",
    "OrderShipped",
    "OrderStatus",
    "Payment",
    "PaymentRecorded",
    "PriceChange",
    "ProductionFinished",
    "ProductionStarted",
    "Reservation",
    "Shipment",
    "ShipmentLine",
    "ShipmentResult",
    "ShippingMode",
    "Stock",
    "StockBucket",
    "StockIssued",
    "StockMarkedDamaged",
    "StockReceived",
    "StockReleased",
    "StockReserved",
    "StockReturned",
    "StockShortage",
    "StockUpdate",
    "StockWrittenOff",
    "assess_delivery_problem",
    "order_events",
    "orders_awaiting_stock",
    "promise_delivery",
    "release_order",
    "reserve_order",
    "ship_order",
]

#: An order line's identity: ``(sku, gift)``. An order holds at most one line per key.
LineKey = tuple[str, bool]


class OrderChannel(StrEnum):
    """How the order came in (订货方式, DOMAIN.md 2)."""

    DEALER = "dealer"
    ONLINE = "online"
    PHONE = "phone"
    LETTER = "letter"
    FAX = "fax"
    EMAIL = "email"


class OrderKind(StrEnum):
    """Standard goods from stock, or custom work made to order (DOMAIN.md 2)."""

    STANDARD = "standard"
    CUSTOM = "custom"


class ShippingMode(StrEnum):
    """Shipping mode chosen by quantity and urgency (DOMAIN.md 2)."""

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

#: Allowed moves (DOMAIN.md 2: payment first, then shipment; custom work: prepayment,
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
_SHIPPABLE = frozenset({_S.CONFIRMED, _S.PRODUCED, _S.PAID})
_PRICE_OPEN = frozenset({_S.PLACED, _S.CONFIRMED, _S.PREPAID, _S.IN_PRODUCTION, _S.PRODUCED})
_PAYABLE = frozenset(set(OrderStatus) - ORDER_TERMINAL)
_NEEDS_STOCK = frozenset({_S.CONFIRMED, _S.PREPAID, _S.IN_PRODUCTION, _S.PRODUCED, _S.PAID})


class StockBucket(StrEnum):
    """The separate stocks of one SKU: good, damaged and gift (正品/残品/赠品)."""

    GOOD = "good"
    DAMAGED = "damaged"
    GIFT = "gift"


class ItemCondition(StrEnum):
    """Condition of returned goods as the warehouse confirms it."""

    GOOD = "good"
    DAMAGED = "damaged"


# -- validation helpers ----------------------------------------------------------------


def _text(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


def _positive_int(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.at(attribute.name, f"must be a positive integer, got {value!r}")


def _count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.at(attribute.name, f"must be a whole number >= 0, got {value!r}")


def _money(_instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not isinstance(value, Money):
        raise ValidationError.at(attribute.name, f"expected Money, got {type(value).__name__}")


def _flag(_instance: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    if not isinstance(value, bool):
        raise ValidationError.at(attribute.name, f"expected true or false, got {value!r}")


def _channel(value: OrderChannel | str) -> OrderChannel:
    return value if value.__class__ is OrderChannel else enum_value(OrderChannel, value, "channel")


def _kind(value: OrderKind | str) -> OrderKind:
    return value if value.__class__ is OrderKind else enum_value(OrderKind, value, "kind")


def _status(value: OrderStatus | str) -> OrderStatus:
    return value if value.__class__ is OrderStatus else enum_value(OrderStatus, value, "status")


def _mode(value: ShippingMode | str) -> ShippingMode:
    return enum_value(ShippingMode, value, "mode")


def _bucket(value: StockBucket | str) -> StockBucket:
    return enum_value(StockBucket, value, "bucket")


def _condition(value: ItemCondition | str) -> ItemCondition:
    return enum_value(ItemCondition, value, "condition")


def _lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(value)


def _shipment_lines(value: Iterable[ShipmentLine]) -> tuple[ShipmentLine, ...]:
    return tuple(value)


def _quantity(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError.at(path, f"must be a positive integer, got {value!r}")
    return value


# -- policy ----------------------------------------------------------------------------


@attrs.frozen
class OrderPolicy:
    """Policy for orders, stock, delivery and returns, with DOMAIN.md 2's defaults."""

    currency: str = "CNY"
    #: Payment first, then shipment (先付款, 后发货).
    require_payment_before_shipment: bool = True
    #: Customer classes that may ship on account before paying (e.g. dealers).
    credit_exempt_classes: frozenset[CustomerClass] = frozenset()
    #: Delivery promise in business days after shipment: 3-4 days.
    delivery_days_min: int = 3
    delivery_days_max: int = 4
    order_number_pattern: str = "SO-{yyyy}{mm}-{seq:04d}"
    return_number_pattern: str = "RR-{yyyy}{mm}-{seq:04d}"
    return_note_pattern: str = "RN-{yyyy}{mm}-{seq:04d}"
    #: Time zone in which reference numbers read their month.
    number_tz: str = "Asia/Shanghai"
    #: More than 30 damaged bags in one 60-tonne wagon goes to the sales VP and quality.
    damaged_bags_limit: int = 30
    reference_wagon_tonnes: Decimal = Decimal(60)
    #: Content deviating more than +-0.5 % goes to the sales VP and quality.
    content_tolerance: Decimal = Decimal("0.005")
    #: Who must be involved when a delivery problem crosses a threshold.
    escalation_contacts: frozenset[str] = frozenset({"sales_vp", "quality_department"})

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.delivery_days_min < 0:
            errors.append(("delivery_days_min", "must not be negative"))
        if self.delivery_days_max < self.delivery_days_min:
            errors.append(("delivery_days_max", "must not be below delivery_days_min"))
        if self.damaged_bags_limit < 0:
            errors.append(("damaged_bags_limit", "must not be negative"))
        if self.reference_wagon_tonnes <= 0:
            errors.append(("reference_wagon_tonnes", "must be positive"))
        if self.content_tolerance < 0:
            errors.append(("content_tolerance", "must not be negative"))
        if errors:
            raise ValidationError(errors)
        Money.zero(self.currency)
        self.order_series()
        self.return_series()
        self.return_note_series()

    def order_series(self) -> NamingSeries:
        """Order numbers (``SO-202611-0001``), restarting monthly."""
        return NamingSeries(self.order_number_pattern, tz=self.number_tz)

    def return_series(self) -> NamingSeries:
        """Return request numbers, restarting monthly."""
        return NamingSeries(self.return_number_pattern, tz=self.number_tz)

    def return_note_series(self) -> NamingSeries:
        """Return note numbers issued when goods come back (DOMAIN.md 2, 退货流程)."""
        return NamingSeries(self.return_note_pattern, tz=self.number_tz)


# -- value objects ---------------------------------------------------------------------


@attrs.frozen
class OrderLine:
    """One ordered item: SKU, quantity, unit price; gift lines ship from gift stock."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=_positive_int)
    unit_price: Money = attrs.field(validator=_money)
    gift: bool = attrs.field(default=False, validator=_flag)

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
    """Invoice and delivery data that come with the remittance proof (DOMAIN.md 2)."""

    consignee: str = attrs.field(validator=_not_blank)
    phone: str = attrs.field(validator=_not_blank)
    address: str = attrs.field(validator=_not_blank)
    postcode: str = attrs.field(default="", validator=_text)
    invoice_title: str = attrs.field(default="", validator=_text)


@attrs.frozen
class Payment:
    """Money received for an order."""

    amount: Money = attrs.field(validator=_money)
    at: datetime = attrs.field(validator=_aware)
    by: str
    reference: str = attrs.field(default="", validator=_text)


@attrs.frozen
class ShipmentLine:
    """One shipped item."""

    sku: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=_positive_int)
    gift: bool = attrs.field(default=False, validator=_flag)

    @property
    def key(self) -> LineKey:
        """``(sku, gift)``."""
        return (self.sku, self.gift)


@attrs.frozen
class Shipment:
    """The one complete shipment of an order."""

    lines: tuple[ShipmentLine, ...] = attrs.field(converter=_shipment_lines)
    at: datetime = attrs.field(validator=_aware)
    mode: ShippingMode = attrs.field(converter=_mode)
    by: str
    tracking: str = ""


@attrs.frozen
class DeliveryWindow:
    """The promised delivery dates, earliest and latest (DOMAIN.md 2: 3-4 days)."""

    earliest: date
    latest: date

    def __attrs_post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValidationError.at("latest", "must not be before earliest")


@attrs.frozen
class PriceChange:
    """A unit price changed by someone allowed to (``order.change_price``)."""

    sku: str
    gift: bool
    old: Money
    new: Money
    at: datetime = attrs.field(validator=_aware)
    by: str


def _business_days_after(day: date, days: int, calendar: BusinessCalendar) -> date:
    limit = 7 * (days + 1) + len(calendar.holidays) + 7
    counted = 0
    for _ in range(limit):
        if counted >= days:
            return day
        day += timedelta(days=1)
        if calendar.intervals_on(day):
            counted += 1
    if counted >= days:
        return day
    msg = "the calendar has too few business days to promise a delivery"
    raise ValidationError.at("calendar", msg)


def promise_delivery(
    at: datetime, calendar: BusinessCalendar, policy: OrderPolicy
) -> DeliveryWindow:
    """The delivery window for goods shipped at ``at``, counted in business days.

    Source: DOMAIN.md 2, delivery promise 3-4 days (policy ``delivery_days_min``/``max``).
    """
    start = require_aware(at).astimezone(calendar.zone).date()
    return DeliveryWindow(
        earliest=_business_days_after(start, policy.delivery_days_min, calendar),
        latest=_business_days_after(start, policy.delivery_days_max, calendar),
    )


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
            errors.append((f"lines.{i}", f"duplicate line for {line.sku!r} (gift={line.gift})"))
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
    """Prepayment and payments within the order total (DOMAIN.md 2).

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
    """A customer order (DOMAIN.md 2); see the module docstring for its lifecycle."""

    id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    channel: OrderChannel = attrs.field(converter=_channel)
    lines: tuple[OrderLine, ...] = attrs.field(converter=_lines)
    currency: str
    placed_at: datetime = attrs.field(validator=_aware)
    placed_by: str
    kind: OrderKind = attrs.field(default=OrderKind.STANDARD, converter=_kind)
    dealer_id: str | None = None
    contract_number: str | None = None
    prepayment: Money | None = None
    consignee: ConsigneeInfo | None = None
    salesperson: str | None = None
    confirmed_by_salesperson: str | None = None
    salesperson_confirmed_at: datetime | None = None
    payments: tuple[Payment, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    status: OrderStatus = attrs.field(default=OrderStatus.PLACED, converter=_status)
    history: tuple[StatusChange, ...] = ()
    expected_delivery: DeliveryWindow | None = None
    delivered_at: datetime | None = None
    price_changes: tuple[PriceChange, ...] = ()

    def __attrs_post_init__(self) -> None:
        errors = _order_problems(self) or _amount_problems(self)
        if errors:
            raise ValidationError(errors)

    # -- derived values ----------------------------------------------------------------

    @property
    def total(self) -> Money:
        """Sum of all lines."""
        return Money.total((line.amount for line in self.lines), self.currency)

    @property
    def paid(self) -> Money:
        """Sum of all payments."""
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
        raise ValidationError.at("sku", f"order {self.id!r} has no line {sku!r} (gift={gift})")

    def is_late(self, on: date) -> bool:
        """Whether delivery missed the promised latest date as seen on ``on`` (DOMAIN.md 2)."""
        if self.expected_delivery is None or self.status is OrderStatus.CANCELLED:
            return False
        if self.delivered_at is not None:
            return self.delivered_at.date() > self.expected_delivery.latest
        return on > self.expected_delivery.latest

    # -- lifecycle ---------------------------------------------------------------------

    def _move(self, target: OrderStatus, at: datetime, by: str, note: str = "") -> Order:
        check_transition(ORDER_TRANSITIONS, "order", self.id, self.status, target)
        change = StatusChange(from_=self.status.value, to=target.value, at=at, by=by, note=note)
        return attrs.evolve(self, status=target, history=(*self.history, change))

    def _settled(self, at: datetime, by: str) -> Order:
        order = self
        if (
            order.kind is OrderKind.CUSTOM
            and order.status is OrderStatus.CONFIRMED
            and order.prepayment is not None
            and order.paid >= order.prepayment
        ):
            order = order._move(OrderStatus.PREPAID, at, by, "prepayment received")
        ready = OrderStatus.PRODUCED if order.kind is OrderKind.CUSTOM else OrderStatus.CONFIRMED
        if order.status is ready and order.is_paid_in_full:
            order = order._move(OrderStatus.PAID, at, by, "paid in full")
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
    ) -> Order:
        """Take an order in the policy currency; needs ``order.place`` (DOMAIN.md 2)."""
        access.require(by, Permission.PLACE_ORDER)
        require_aware(at)
        return cls(
            id=id,
            customer_id=customer_id,
            channel=_channel(channel),
            lines=tuple(lines),
            currency=policy.currency,
            placed_at=at,
            placed_by=by.id,
            kind=_kind(kind),
            dealer_id=dealer_id,
            contract_number=contract_number,
            prepayment=prepayment,
            consignee=consignee,
            salesperson=salesperson,
            history=(StatusChange(from_=None, to=OrderStatus.PLACED.value, at=at, by=by.id),),
        )

    def confirm_by_salesperson(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Record the salesperson's confirmation a phone order needs (DOMAIN.md 2).

        When the order names a salesperson, only that person may confirm.
        """
        access.require(by, Permission.CONFIRM_ORDER)
        require_aware(at)
        if self.channel is not OrderChannel.PHONE:
            raise ValidationError.at(
                "channel", "only phone orders need the salesperson's confirmation"
            )
        if self.status is not OrderStatus.PLACED:
            raise InvalidTransition("order", self.id, self.status.value, "confirmed_by_salesperson")
        if self.salesperson is not None and self.salesperson != by.id:
            detail = f"only the order's salesperson {self.salesperson!r} may confirm it"
            raise PermissionDenied(by.id, Permission.CONFIRM_ORDER, detail)
        return attrs.evolve(
            self,
            salesperson=self.salesperson or by.id,
            confirmed_by_salesperson=by.id,
            salesperson_confirmed_at=at,
        )

    def confirm(self, *, at: datetime, by: Actor, access: AccessPolicy, note: str = "") -> Order:
        """Confirm the order contents with the customer (DOMAIN.md 2).

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
        return self._move(OrderStatus.CONFIRMED, at, by.id, note)._settled(at, by.id)

    def set_consignee(
        self, consignee: ConsigneeInfo, *, at: datetime, by: Actor, access: AccessPolicy
    ) -> Order:
        """Record invoice title, consignee, phone, postcode and address before shipment."""
        access.require(by, Permission.PLACE_ORDER)
        require_aware(at)
        if not isinstance(consignee, ConsigneeInfo):
            raise ValidationError.at("consignee", "expected ConsigneeInfo")
        if not self.is_open:
            raise InvalidTransition("order", self.id, self.status.value, "consignee changed")
        return attrs.evolve(self, consignee=consignee)

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
            attrs.evolve(line, unit_price=unit_price) if line.key == old.key else line
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
        changed = attrs.evolve(self, lines=lines, price_changes=(*self.price_changes, change))
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
        """Book a payment; refused with ``overpayment`` beyond the order total (DOMAIN.md 2).

        Payments move the order on by themselves (see the module docstring).
        """
        access.require(by, Permission.RECORD_PAYMENT)
        require_aware(at)
        if not isinstance(amount, Money) or amount.currency != self.currency:
            raise ValidationError.at("amount", f"must be Money in {self.currency}")
        if not amount:
            raise ValidationError.at("amount", "a payment must be more than zero")
        if self.status not in _PAYABLE:
            raise InvalidTransition("order", self.id, self.status.value, "payment recorded")
        if self.paid + amount > self.total:
            raise RuleViolation(
                "overpayment",
                f"{amount} would exceed the order total {self.total} (already paid {self.paid})",
                order_id=self.id,
                amount=str(amount),
                balance=str(self.balance),
            )
        payment = Payment(amount=amount, at=at, by=by.id, reference=reference)
        return attrs.evolve(self, payments=(*self.payments, payment))._settled(at, by.id)

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
        return self._move(OrderStatus.IN_PRODUCTION, at, by.id)

    def finish_production(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """Custom work is produced; when already paid in full it moves on to ``paid``."""
        access.require(by, Permission.MANAGE_STOCK)
        require_aware(at)
        return self._move(OrderStatus.PRODUCED, at, by.id)._settled(at, by.id)

    def ship(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        policy: OrderPolicy,
        calendar: BusinessCalendar,
        mode: ShippingMode | str = ShippingMode.EXPRESS,
        lines: Sequence[ShipmentLine] | None = None,
        customer_class: CustomerClass | None = None,
        tracking: str = "",
    ) -> Order:
        """Ship the whole order and promise a delivery window (DOMAIN.md 2).

        ``lines`` defaults to every order line; anything else is
        ``partial_shipment_forbidden``. Standard goods need full payment first
        (``payment_required``) unless the policy says otherwise or the customer class is
        credit-exempt; custom work always needs the balance (``balance_required``).
        A shipment needs the consignee data (``consignee_required``). Stock is not touched
        here: :func:`ship_order` does both.
        """
        access.require(by, Permission.SHIP_ORDER)
        require_aware(at)
        if self.status not in _SHIPPABLE:
            raise InvalidTransition("order", self.id, self.status.value, OrderStatus.SHIPPED.value)
        shipped = (
            tuple(ShipmentLine(line.sku, line.quantity, line.gift) for line in self.lines)
            if lines is None
            else tuple(lines)
        )
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
        if self.consignee is None:
            raise RuleViolation(
                "consignee_required",
                "invoice title, consignee, phone and address are needed to ship",
                order_id=self.id,
            )
        shipment = Shipment(lines=shipped, at=at, mode=mode, by=by.id, tracking=tracking)
        moved = self._move(OrderStatus.SHIPPED, at, by.id)
        return attrs.evolve(
            moved,
            shipments=(*self.shipments, shipment),
            expected_delivery=promise_delivery(at, calendar, policy),
        )

    def deliver(self, *, at: datetime, by: Actor, access: AccessPolicy) -> Order:
        """The customer received the goods."""
        access.require(by, Permission.SHIP_ORDER)
        require_aware(at)
        return attrs.evolve(self._move(OrderStatus.DELIVERED, at, by.id), delivered_at=at)

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
        return self._move(OrderStatus.COMPLETED, at, by.id)

    def cancel(self, *, at: datetime, by: Actor, access: AccessPolicy, reason: str) -> Order:
        """Cancel before shipment; payments received are to be refunded (``OrderCancelled``)."""
        access.require(by, Permission.CANCEL_ORDER)
        require_aware(at)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a cancellation needs a reason")
        return self._move(OrderStatus.CANCELLED, at, by.id, reason)


# -- stock -----------------------------------------------------------------------------


def _shippable_bucket(bucket: StockBucket | str) -> StockBucket:
    value = _bucket(bucket)
    if value is StockBucket.DAMAGED:
        raise ValidationError.at("bucket", "damaged goods are never shipped or reserved")
    return value


@attrs.frozen
class Reservation:
    """Stock held back for one order until it ships."""

    order_id: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=_positive_int)
    bucket: StockBucket = attrs.field(default=StockBucket.GOOD, converter=_bucket)


@attrs.frozen
class Stock:
    """Stock of one SKU (``id`` is the SKU), kept as good, damaged and gift quantities.

    Source: DOMAIN.md 2, stock is kept separately as good, damaged and gift stock, and
    never goes negative (不开负库存): a change that would is ``insufficient_stock``.
    """

    id: str = attrs.field(validator=_not_blank)
    good: int = attrs.field(default=0, validator=_count)
    damaged: int = attrs.field(default=0, validator=_count)
    gift: int = attrs.field(default=0, validator=_count)
    reservations: tuple[Reservation, ...] = ()

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        seen: set[tuple[str, StockBucket]] = set()
        for i, r in enumerate(self.reservations):
            if r.bucket is StockBucket.DAMAGED:
                errors.append((f"reservations.{i}.bucket", "damaged goods are never reserved"))
            if (r.order_id, r.bucket) in seen:
                errors.append((f"reservations.{i}", "one reservation per order and bucket"))
            seen.add((r.order_id, r.bucket))
        for bucket in (StockBucket.GOOD, StockBucket.GIFT):
            if self.reserved(bucket) > self.on_hand(bucket):
                errors.append(("reservations", f"more {bucket} stock reserved than on hand"))
        if errors:
            raise ValidationError(errors)

    @property
    def sku(self) -> str:
        """The SKU this stock counts."""
        return self.id

    def on_hand(self, bucket: StockBucket = StockBucket.GOOD) -> int:
        """Quantity physically in ``bucket``."""
        return {StockBucket.GOOD: self.good, StockBucket.DAMAGED: self.damaged}.get(
            _bucket(bucket), self.gift
        )

    def reserved(
        self, bucket: StockBucket = StockBucket.GOOD, *, order_id: str | None = None
    ) -> int:
        """Quantity of ``bucket`` reserved, for one order or for all."""
        return sum(
            r.quantity
            for r in self.reservations
            if r.bucket == bucket and (order_id is None or r.order_id == order_id)
        )

    def available(
        self, bucket: StockBucket = StockBucket.GOOD, *, order_id: str | None = None
    ) -> int:
        """What can still be promised: on hand minus reservations (plus ``order_id``'s own)."""
        own = self.reserved(bucket, order_id=order_id) if order_id is not None else 0
        return self.on_hand(bucket) - self.reserved(bucket) + own

    def _with(
        self,
        bucket: StockBucket,
        quantity: int,
        reservations: tuple[Reservation, ...] | None = None,
    ) -> Stock:
        held = self.reservations if reservations is None else reservations
        if bucket is StockBucket.GOOD:
            return attrs.evolve(self, good=quantity, reservations=held)
        if bucket is StockBucket.DAMAGED:
            return attrs.evolve(self, damaged=quantity, reservations=held)
        return attrs.evolve(self, gift=quantity, reservations=held)

    def _short(
        self, bucket: StockBucket, requested: int, available: int, order_id: str | None
    ) -> RuleViolation:
        return RuleViolation(
            "insufficient_stock",
            f"{self.id}: {requested} {bucket} requested, {available} available",
            sku=self.id,
            bucket=bucket.value,
            requested=requested,
            available=available,
            order_id=order_id,
        )

    def receive(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
    ) -> Stock:
        """Goods come into ``bucket``; needs ``stock.manage``."""
        access.require(by, Permission.MANAGE_STOCK)
        quantity = _quantity(quantity, "quantity")
        bucket = _bucket(bucket)
        return self._with(bucket, self.on_hand(bucket) + quantity)

    def reserve(
        self,
        order_id: str,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
    ) -> Stock:
        """Hold ``quantity`` back for an order; ``insufficient_stock`` when not available."""
        access.require(by, Permission.SHIP_ORDER)
        quantity = _quantity(quantity, "quantity")
        bucket = _shippable_bucket(bucket)
        free = self.available(bucket)
        if quantity > free:
            raise self._short(bucket, quantity, free, order_id)
        held = self.reserved(bucket, order_id=order_id)
        others = tuple(r for r in self.reservations if (r.order_id, r.bucket) != (order_id, bucket))
        reservation = Reservation(order_id=order_id, quantity=held + quantity, bucket=bucket)
        return attrs.evolve(self, reservations=(*others, reservation))

    def release(self, order_id: str, *, by: Actor, access: AccessPolicy) -> Stock:
        """Drop every reservation of an order (cancelled or shipped).

        Needs ``order.ship`` or ``order.cancel``: whoever may cancel an order frees its goods.
        """
        access.require_any(by, Permission.SHIP_ORDER, Permission.CANCEL_ORDER)
        kept = tuple(r for r in self.reservations if r.order_id != order_id)
        return (
            self if len(kept) == len(self.reservations) else attrs.evolve(self, reservations=kept)
        )

    def issue(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
        order_id: str | None = None,
    ) -> Stock:
        """Take goods out at shipment, using ``order_id``'s reservation first.

        Never ships damaged goods and never goes negative (``insufficient_stock``).
        """
        access.require(by, Permission.SHIP_ORDER)
        quantity = _quantity(quantity, "quantity")
        bucket = _shippable_bucket(bucket)
        free = self.available(bucket, order_id=order_id)
        if quantity > free:
            raise self._short(bucket, quantity, free, order_id)
        reservations = self.reservations
        if order_id is not None:
            own = self.reserved(bucket, order_id=order_id)
            rest = own - min(own, quantity)
            reservations = tuple(
                r for r in reservations if (r.order_id, r.bucket) != (order_id, bucket)
            )
            if rest:
                reservations = (*reservations, Reservation(order_id, rest, bucket))
        return self._with(bucket, self.on_hand(bucket) - quantity, reservations)

    def book_return(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        condition: ItemCondition | str = ItemCondition.GOOD,
        gift: bool = False,
    ) -> Stock:
        """Book returned goods: good ones back to good (or gift) stock, damaged to damaged."""
        access.require(by, Permission.RECEIVE_RETURN)
        quantity = _quantity(quantity, "quantity")
        if _condition(condition) is ItemCondition.DAMAGED:
            bucket = StockBucket.DAMAGED
        else:
            bucket = StockBucket.GIFT if gift else StockBucket.GOOD
        return self._with(bucket, self.on_hand(bucket) + quantity)

    def mark_damaged(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
    ) -> Stock:
        """Move deteriorated goods from good (or gift) stock to damaged: they never ship."""
        access.require(by, Permission.MANAGE_STOCK)
        quantity = _quantity(quantity, "quantity")
        bucket = _shippable_bucket(bucket)
        free = self.available(bucket)
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        moved = self._with(bucket, self.on_hand(bucket) - quantity)
        return attrs.evolve(moved, damaged=self.damaged + quantity)

    def write_off(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.DAMAGED,
    ) -> Stock:
        """Remove goods from stock (scrapped damaged goods, counting corrections)."""
        access.require(by, Permission.MANAGE_STOCK)
        quantity = _quantity(quantity, "quantity")
        bucket = _bucket(bucket)
        free = self.available(bucket) if bucket is not StockBucket.DAMAGED else self.damaged
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        return self._with(bucket, self.on_hand(bucket) - quantity)


@attrs.frozen
class StockShortage:
    """One SKU and bucket that cannot cover an order: needed versus available."""

    sku: str
    bucket: StockBucket
    needed: int
    available: int

    @property
    def missing(self) -> int:
        """How many are missing."""
        return self.needed - self.available


def _needs(order: Order) -> dict[tuple[str, StockBucket], int]:
    needs: dict[tuple[str, StockBucket], int] = {}
    for line in order.stock_lines:
        key = (line.sku, line.bucket)
        needs[key] = needs.get(key, 0) + line.quantity
    return needs


def _stock_for(stocks: Mapping[str, Stock], sku: str) -> Stock:
    return stocks.get(sku) or Stock(id=sku)


@attrs.frozen
class StockUpdate:
    """Changed stocks (by SKU) and the events describing the change."""

    stocks: dict[str, Stock]
    events: tuple[Event, ...]


@attrs.frozen
class ShipmentResult:
    """The shipped order, its changed stocks (by SKU) and every event to emit."""

    order: Order
    stocks: dict[str, Stock]
    events: tuple[Event, ...]


def _shortages(order: Order, stocks: Mapping[str, Stock]) -> list[StockShortage]:
    """What ``order`` lacks, counting its own reservations as available to it."""
    result = []
    for (sku, bucket), needed in sorted(_needs(order).items()):
        stock = _stock_for(stocks, sku)
        free = stock.available(bucket, order_id=order.id)
        if needed > free:
            result.append(StockShortage(sku, bucket, needed, free))
    return result


def _insufficient(order: Order, shortages: list[StockShortage]) -> RuleViolation:
    names = ", ".join(f"{s.sku} ({s.bucket}: {s.available}/{s.needed})" for s in shortages)
    return RuleViolation(
        "insufficient_stock",
        f"order {order.id!r} cannot be covered: {names}",
        order_id=order.id,
        shortages=tuple(shortages),
    )


def reserve_order(
    order: Order, stocks: Mapping[str, Stock], *, at: datetime, by: Actor, access: AccessPolicy
) -> StockUpdate:
    """Reserve everything an open order needs from stock, all or nothing.

    Raises ``insufficient_stock`` listing every short SKU (DOMAIN.md 2, 不开负库存).
    """
    access.require(by, Permission.SHIP_ORDER)
    require_aware(at)
    if not order.is_open:
        raise InvalidTransition("order", order.id, order.status.value, "stock reserved")
    shortages = _shortages(order, stocks)
    if shortages:
        raise _insufficient(order, shortages)
    changed: dict[str, Stock] = {}
    events: list[Event] = []
    for (sku, bucket), needed in sorted(_needs(order).items()):
        stock = changed.get(sku) or _stock_for(stocks, sku)
        missing = needed - stock.reserved(bucket, order_id=order.id)
        if missing > 0:
            changed[sku] = stock.reserve(order.id, missing, by=by, access=access, bucket=bucket)
            events.append(StockReserved(sku, order.id, missing, bucket, at, by.id))
    return StockUpdate(changed, tuple(events))


def release_order(
    order: Order, stocks: Mapping[str, Stock], *, at: datetime, by: Actor, access: AccessPolicy
) -> StockUpdate:
    """Release every reservation an order holds (after cancellation).

    Needs ``order.ship`` or ``order.cancel``.
    """
    access.require_any(by, Permission.SHIP_ORDER, Permission.CANCEL_ORDER)
    require_aware(at)
    changed: dict[str, Stock] = {}
    events: list[Event] = []
    for sku in sorted({line.sku for line in order.lines}):
        stock = stocks.get(sku)
        if stock is None or not any(r.order_id == order.id for r in stock.reservations):
            continue
        changed[sku] = stock.release(order.id, by=by, access=access)
        events.append(StockReleased(sku, order.id, at, by.id))
    return StockUpdate(changed, tuple(events))


def ship_order(
    order: Order,
    stocks: Mapping[str, Stock],
    *,
    at: datetime,
    by: Actor,
    access: AccessPolicy,
    policy: OrderPolicy,
    calendar: BusinessCalendar,
    mode: ShippingMode | str = ShippingMode.EXPRESS,
    lines: Sequence[ShipmentLine] | None = None,
    customer_class: CustomerClass | None = None,
    tracking: str = "",
) -> ShipmentResult:
    """Ship an order complete and issue its stock in one step (DOMAIN.md 2).

    The order's rules come first (:meth:`Order.ship`), then stock: when any SKU cannot be
    covered nothing changes and ``insufficient_stock`` lists every shortage. Custom work
    is made to order, so only its gift lines draw on (gift) stock. Leftover reservations
    of the order are released.
    """
    shipped = order.ship(
        at=at,
        by=by,
        access=access,
        policy=policy,
        calendar=calendar,
        mode=mode,
        lines=lines,
        customer_class=customer_class,
        tracking=tracking,
    )
    shortages = _shortages(order, stocks)
    if shortages:
        raise _insufficient(order, shortages)
    changed: dict[str, Stock] = {}
    events: list[Event] = list(order_events(order, shipped))
    for (sku, bucket), needed in sorted(_needs(order).items()):
        stock = changed.get(sku) or _stock_for(stocks, sku)
        changed[sku] = stock.issue(needed, by=by, access=access, bucket=bucket, order_id=order.id)
        events.append(StockIssued(sku, needed, bucket, order.id, at, by.id))
    for sku, stock in list(changed.items()):
        changed[sku] = stock.release(order.id, by=by, access=access)
    return ShipmentResult(shipped, changed, tuple(events))


@attrs.frozen
class AwaitingStock:
    """An order that stock cannot cover yet: it waits (每日订单确认, DOMAIN.md 2)."""

    order_id: str
    customer_id: str
    placed_at: datetime
    status: OrderStatus
    shortages: tuple[StockShortage, ...]


def orders_awaiting_stock(
    orders: Iterable[Order], stocks: Mapping[str, Stock]
) -> list[AwaitingStock]:
    """The daily out-of-stock confirmation list (DOMAIN.md 2: an uncovered order waits).

    Confirmed, not yet shipped orders are served first come, first served (by
    ``placed_at``, then id): each uses its own reservations, then free stock. An order
    that cannot be covered completely takes nothing and is listed with its shortages;
    later orders may still be covered. Unconfirmed and custom-only orders need no check.
    """
    free: dict[tuple[str, StockBucket], int] = {}
    waiting: list[AwaitingStock] = []
    candidates = sorted(
        (o for o in orders if o.status in _NEEDS_STOCK and o.stock_lines),
        key=lambda o: (o.placed_at, o.id),
    )
    for order in candidates:
        shortages: list[StockShortage] = []
        takes: dict[tuple[str, StockBucket], int] = {}
        for (sku, bucket), needed in sorted(_needs(order).items()):
            stock = _stock_for(stocks, sku)
            if (sku, bucket) not in free:
                free[(sku, bucket)] = stock.available(bucket)
            own = stock.reserved(bucket, order_id=order.id)
            take = max(needed - own, 0)
            if take > free[(sku, bucket)]:
                shortages.append(StockShortage(sku, bucket, needed, own + free[(sku, bucket)]))
            takes[(sku, bucket)] = take
        if shortages:
            waiting.append(
                AwaitingStock(
                    order.id, order.customer_id, order.placed_at, order.status, tuple(shortages)
                )
            )
            continue
        for key, take in takes.items():
            free[key] -= take
    return waiting


# -- delivery problems -----------------------------------------------------------------


class DeliveryProblemKind(StrEnum):
    """Delivery problems customers raise (DOMAIN.md 2)."""

    DAMAGED_PACKAGING = "damaged_packaging"
    LATE_DELIVERY = "late_delivery"
    SHORT_QUANTITY = "short_quantity"
    OFF_SPEC_CONTENT = "off_spec_content"


def _problem_kind(value: DeliveryProblemKind | str) -> DeliveryProblemKind:
    try:
        return DeliveryProblemKind(value)
    except ValueError:
        raise ValidationError.at("kind", f"not a delivery problem: {value!r}") from None


def _optional_decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    raise ValidationError.at("", f"not a decimal number: {value!r}")


@attrs.frozen
class DeliveryProblem:
    """What a customer reports about a delivery.

    ``content_deviation`` is a signed fraction (``Decimal("-0.007")`` is 0.7 % short);
    ``wagon_tonnes`` is the wagon's load (the policy's reference wagon when not given).
    """

    kind: DeliveryProblemKind = attrs.field(converter=_problem_kind)
    order_id: str = ""
    damaged_bags: int = attrs.field(default=0, validator=_count)
    wagon_tonnes: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    content_deviation: Decimal | None = attrs.field(default=None, converter=_optional_decimal)
    missing_quantity: int = attrs.field(default=0, validator=_count)
    delay_curable: bool = True

    def __attrs_post_init__(self) -> None:
        if self.wagon_tonnes is not None and self.wagon_tonnes <= 0:
            raise ValidationError.at("wagon_tonnes", "must be positive")


@attrs.frozen
class DeliveryProblemAssessment:
    """Who must be involved in a delivery problem and why."""

    escalate: bool
    involve: frozenset[str]
    reasons: tuple[str, ...]
    return_exchange: bool


def assess_delivery_problem(
    problem: DeliveryProblem, policy: OrderPolicy
) -> DeliveryProblemAssessment:
    """Check a delivery problem against the policy thresholds (DOMAIN.md 2).

    More than ``damaged_bags_limit`` damaged bags per ``reference_wagon_tonnes`` (scaled
    to the wagon's load), or content deviating more than ``content_tolerance`` either way,
    involves ``escalation_contacts`` (sales VP and quality department). A delay that
    cannot be cured falls under the return/exchange policy.
    """
    reasons: list[str] = []
    if problem.damaged_bags:
        tonnes = problem.wagon_tonnes or policy.reference_wagon_tonnes
        limit = Decimal(policy.damaged_bags_limit) * tonnes / policy.reference_wagon_tonnes
        if problem.damaged_bags > limit:
            reasons.append("damaged_bags_over_limit")
    if (
        problem.content_deviation is not None
        and abs(problem.content_deviation) > policy.content_tolerance
    ):
        reasons.append("content_deviation_over_tolerance")
    escalate = bool(reasons)
    return_exchange = (
        problem.kind is DeliveryProblemKind.LATE_DELIVERY and not problem.delay_curable
    )
    if return_exchange:
        reasons.append("delay_not_curable")
    return DeliveryProblemAssessment(
        escalate=escalate,
        involve=policy.escalation_contacts if escalate else frozenset(),
        reasons=tuple(reasons),
        return_exchange=return_exchange,
    )


# -- events ----------------------------------------------------------------------------


@attrs.frozen
class OrderPlaced(Event):
    """An order was taken."""

    order_id: str
    customer_id: str
    channel: OrderChannel
    kind: OrderKind
    total: Money
    dealer_id: str | None
    at: datetime
    by: str


@attrs.frozen
class OrderConfirmedBySalesperson(Event):
    """The salesperson confirmed a phone order."""

    order_id: str
    salesperson: str
    at: datetime


@attrs.frozen
class OrderConfirmed(Event):
    """The order contents were confirmed with the customer."""

    order_id: str
    customer_id: str
    at: datetime
    by: str


@attrs.frozen
class PaymentRecorded(Event):
    """A payment was booked."""

    order_id: str
    amount: Money
    paid: Money
    balance: Money
    reference: str
    at: datetime
    by: str


@attrs.frozen
class OrderPriceChanged(Event):
    """A unit price was changed."""

    order_id: str
    sku: str
    gift: bool
    old: Money
    new: Money
    at: datetime
    by: str


@attrs.frozen
class OrderPrepaid(Event):
    """Custom work received its contracted prepayment."""

    order_id: str
    at: datetime
    by: str


@attrs.frozen
class ProductionStarted(Event):
    """Custom work went into production."""

    order_id: str
    at: datetime
    by: str


@attrs.frozen
class ProductionFinished(Event):
    """Custom work was produced."""

    order_id: str
    at: datetime
    by: str


@attrs.frozen
class OrderPaid(Event):
    """The order is paid in full and may ship."""

    order_id: str
    customer_id: str
    at: datetime
    by: str


@attrs.frozen
class OrderShipped(Event):
    """The order left the warehouse complete (shipment notice, DOMAIN.md 7)."""

    order_id: str
    customer_id: str
    lines: tuple[ShipmentLine, ...]
    mode: ShippingMode
    tracking: str
    expected_earliest: date | None
    expected_latest: date | None
    at: datetime
    by: str


@attrs.frozen
class OrderDelivered(Event):
    """The customer received the goods."""

    order_id: str
    customer_id: str
    at: datetime
    by: str


@attrs.frozen
class OrderCompleted(Event):
    """The order is closed."""

    order_id: str
    customer_id: str
    at: datetime
    by: str


@attrs.frozen
class OrderCancelled(Event):
    """The order was cancelled before shipment; ``refund_due`` is what was paid."""

    order_id: str
    customer_id: str
    reason: str
    refund_due: Money
    at: datetime
    by: str


@attrs.frozen
class StockReceived(Event):
    """Goods came into stock."""

    sku: str
    quantity: int
    bucket: StockBucket
    at: datetime
    by: str


@attrs.frozen
class StockReserved(Event):
    """Stock was held back for an order."""

    sku: str
    order_id: str
    quantity: int
    bucket: StockBucket
    at: datetime
    by: str


@attrs.frozen
class StockReleased(Event):
    """An order's reservations were dropped."""

    sku: str
    order_id: str
    at: datetime
    by: str


@attrs.frozen
class StockIssued(Event):
    """Goods left stock with a shipment."""

    sku: str
    quantity: int
    bucket: StockBucket
    order_id: str
    at: datetime
    by: str


@attrs.frozen
class StockReturned(Event):
    """Returned goods were booked to good, gift or damaged stock."""

    sku: str
    quantity: int
    bucket: StockBucket
    return_id: str
    at: datetime
    by: str


@attrs.frozen
class StockMarkedDamaged(Event):
    """Deteriorated goods were moved to damaged stock."""

    sku: str
    quantity: int
    bucket: StockBucket
    at: datetime
    by: str


@attrs.frozen
class StockWrittenOff(Event):
    """Goods were removed from stock."""

    sku: str
    quantity: int
    bucket: StockBucket
    at: datetime
    by: str


def _status_event(order: Order, change: StatusChange) -> Event | None:
    status = OrderStatus(change.to)
    at, by = change.at, change.by
    if status is OrderStatus.CONFIRMED:
        return OrderConfirmed(order.id, order.customer_id, at, by)
    if status is OrderStatus.PREPAID:
        return OrderPrepaid(order.id, at, by)
    if status is OrderStatus.IN_PRODUCTION:
        return ProductionStarted(order.id, at, by)
    if status is OrderStatus.PRODUCED:
        return ProductionFinished(order.id, at, by)
    if status is OrderStatus.PAID:
        return OrderPaid(order.id, order.customer_id, at, by)
    if status is OrderStatus.SHIPPED:
        shipment = order.shipments[-1]
        window = order.expected_delivery
        return OrderShipped(
            order.id,
            order.customer_id,
            shipment.lines,
            shipment.mode,
            shipment.tracking,
            window.earliest if window else None,
            window.latest if window else None,
            at,
            by,
        )
    if status is OrderStatus.DELIVERED:
        return OrderDelivered(order.id, order.customer_id, at, by)
    if status is OrderStatus.COMPLETED:
        return OrderCompleted(order.id, order.customer_id, at, by)
    if status is OrderStatus.CANCELLED:
        return OrderCancelled(order.id, order.customer_id, change.note, order.paid, at, by)
    return None


def order_events(before: Order | None, after: Order) -> list[Event]:
    """The events between two versions of an order (``before=None``: just placed).

    Sorted by time; at the same instant: placed, salesperson confirmation, price changes,
    payments, then status moves (so ``PaymentRecorded`` comes before ``OrderPaid``).
    """
    events: list[Event] = []
    if before is None:
        events.append(
            OrderPlaced(
                after.id,
                after.customer_id,
                after.channel,
                after.kind,
                after.total,
                after.dealer_id,
                after.placed_at,
                after.placed_by,
            )
        )
        history_known, payments_known, prices_known = 1, 0, 0
        confirmed = None
    else:
        history_known = len(before.history)
        payments_known = len(before.payments)
        prices_known = len(before.price_changes)
        confirmed = before.confirmed_by_salesperson
    if after.confirmed_by_salesperson and confirmed is None and after.salesperson_confirmed_at:
        events.append(
            OrderConfirmedBySalesperson(
                after.id, after.confirmed_by_salesperson, after.salesperson_confirmed_at
            )
        )
    events.extend(
        OrderPriceChanged(after.id, c.sku, c.gift, c.old, c.new, c.at, c.by)
        for c in after.price_changes[prices_known:]
    )
    paid = Money.total((p.amount for p in after.payments[:payments_known]), after.currency)
    for payment in after.payments[payments_known:]:
        paid = paid + payment.amount
        events.append(
            PaymentRecorded(
                after.id,
                payment.amount,
                paid,
                after.total - paid,
                payment.reference,
                payment.at,
                payment.by,
            )
        )
    for change in after.history[history_known:]:
        event = _status_event(after, change)
        if event is not None:
            events.append(event)
    events.sort(key=_event_time)
    return events


def _event_time(event: Event) -> datetime:
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else datetime.min.replace(tzinfo=UTC)
