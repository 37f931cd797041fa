"""The events of orders and stock, and :func:`order_events` deriving an order's events.

:func:`order_events` derives the order's events from two versions (``before=None`` for a
new order); the coordinators of :mod:`csdomain.orders.fulfilment` return their events; for
the single-stock methods (:meth:`Stock.receive`, :meth:`Stock.mark_damaged`,
:meth:`Stock.write_off`) the service builds :class:`StockReceived`,
:class:`StockMarkedDamaged` and :class:`StockWrittenOff` from its own arguments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs

from csdomain.events import Event
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.orders.model import (
    Order,
    OrderChannel,
    OrderKind,
    OrderStatus,
    ShipmentLine,
    ShippingMode,
)
from csdomain.orders.stock import StockBucket


__all__ = [
    "DamageApplied",
    "DamageRejected",
    "OrderCancelled",
    "OrderCompleted",
    "OrderConfirmed",
    "OrderConfirmedBySalesperson",
    "OrderDelivered",
    "OrderPaid",
    "OrderPlaced",
    "OrderPrepaid",
    "OrderPriceChanged",
    "OrderShipped",
    "PaymentRecorded",
    "PaymentReminderDue",
    "ProductionFinished",
    "ProductionStarted",
    "StockAdjusted",
    "StockCountRejected",
    "StockCounted",
    "StockIssued",
    "StockMarkedDamaged",
    "StockReceived",
    "StockReleased",
    "StockReserved",
    "StockReturned",
    "StockWrittenOff",
    "order_events",
]


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
class PaymentReminderDue(Event):
    """A confirmed order still waits for its payment: the customer is reminded.

    Emitted by the scheduled use case ``remind_unpaid_orders`` (payment first, then
    shipment: docs/domain.md 2); the notification templates turn it into the reminder.
    """

    order_id: str
    customer_id: str
    balance: Money
    confirmed_at: datetime
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
    """The order left the warehouse complete (shipment notice, docs/domain.md 7)."""

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
class DamageApplied(Event):
    """A damage application was filed; its goods are held back until it is decided."""

    sku: str
    number: str
    quantity: int
    bucket: StockBucket
    at: datetime
    by: str


@attrs.frozen
class DamageRejected(Event):
    """A damage application was rejected: the goods stay where they were."""

    sku: str
    number: str
    reason: str
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


@attrs.frozen
class StockCounted(Event):
    """A stock-take was recorded; ``matched`` is false when it waits for approval."""

    sku: str
    number: str
    matched: bool
    at: datetime
    by: str


@attrs.frozen
class StockAdjusted(Event):
    """A stock-take's differences were approved and booked (经客户服务经理批准)."""

    sku: str
    number: str
    at: datetime
    by: str


@attrs.frozen
class StockCountRejected(Event):
    """A stock-take was not approved: nothing was booked."""

    sku: str
    number: str
    reason: str
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
