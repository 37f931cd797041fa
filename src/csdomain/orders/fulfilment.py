"""Fulfilment: an order and its stock changed together (reserve, release, ship).

The pure coordinators :func:`reserve_order`, :func:`release_order` and :func:`ship_order`
change an order and the stock of its SKUs in one step and return the events;
:func:`orders_awaiting_stock` is the daily out-of-stock confirmation list (docs/domain.md 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.clock import require_aware
from csdomain.customers import CustomerClass
from csdomain.errors import RuleViolation, describe
from csdomain.events import Event
from csdomain.orders._checks import stored_count
from csdomain.orders.events import StockIssued, StockReleased, StockReserved, order_events
from csdomain.orders.model import ORDER_LIFECYCLE, Order, OrderStatus, ShipmentLine, ShippingMode
from csdomain.orders.policy import OrderPolicy
from csdomain.orders.stock import Stock, StockBucket
from csdomain.validators import aware, instance_of, text, tuple_of


__all__ = [
    "AwaitingStock",
    "ShipmentResult",
    "StockShortage",
    "StockUpdate",
    "orders_awaiting_stock",
    "release_order",
    "reserve_order",
    "ship_order",
]

_S = OrderStatus
_NEEDS_STOCK = frozenset({_S.CONFIRMED, _S.PREPAID, _S.IN_PRODUCTION, _S.PRODUCED, _S.PAID})
#: At most this many shortages are named in an ``insufficient_stock`` message.
_NAMED_SHORTAGES = 10


@attrs.frozen
class StockShortage:
    """One SKU and bucket that cannot cover an order: needed versus available."""

    sku: str = attrs.field(validator=text)
    bucket: StockBucket = attrs.field(validator=instance_of(StockBucket))
    needed: int = attrs.field(validator=stored_count)
    available: int = attrs.field(validator=stored_count)

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

    stocks: dict[str, Stock] = attrs.field(validator=instance_of(dict))
    events: tuple[Event, ...] = attrs.field(validator=tuple_of(Event))


@attrs.frozen
class ShipmentResult:
    """The shipped order, its changed stocks (by SKU) and every event to emit."""

    order: Order = attrs.field(validator=instance_of(Order))
    stocks: dict[str, Stock] = attrs.field(validator=instance_of(dict))
    events: tuple[Event, ...] = attrs.field(validator=tuple_of(Event))


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
    names = ", ".join(
        f"{describe(s.sku)} ({s.bucket}: {s.available}/{s.needed})"
        for s in shortages[:_NAMED_SHORTAGES]
    )
    if len(shortages) > _NAMED_SHORTAGES:
        names += f" and {len(shortages) - _NAMED_SHORTAGES} more"
    return RuleViolation(
        "insufficient_stock",
        f"order {describe(order.id)} cannot be covered: {names}",
        order_id=order.id,
        shortages=tuple(shortages),
    )


def reserve_order(
    order: Order, stocks: Mapping[str, Stock], *, at: datetime, by: Actor, access: AccessPolicy
) -> StockUpdate:
    """Reserve everything an open order needs from stock, all or nothing.

    Raises ``insufficient_stock`` listing every short SKU (docs/domain.md 2, 不开负库存).
    """
    access.require(by, Permission.SHIP_ORDER)
    require_aware(at)
    ORDER_LIFECYCLE.check(order.id, order.status, "reserve_stock")
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
    mode: ShippingMode | str | None = None,
    lines: Sequence[ShipmentLine] | None = None,
    customer_class: CustomerClass | None = None,
    tracking: str = "",
) -> ShipmentResult:
    """Ship an order complete and issue its stock in one step (docs/domain.md 2).

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
    """An order that stock cannot cover yet: it waits (每日订单确认, docs/domain.md 2)."""

    order_id: str = attrs.field(validator=text)
    customer_id: str = attrs.field(validator=text)
    placed_at: datetime = attrs.field(validator=aware)
    status: OrderStatus = attrs.field(validator=instance_of(OrderStatus))
    shortages: tuple[StockShortage, ...] = attrs.field(validator=tuple_of(StockShortage))


def orders_awaiting_stock(
    orders: Iterable[Order], stocks: Mapping[str, Stock]
) -> list[AwaitingStock]:
    """The daily out-of-stock confirmation list (docs/domain.md 2: an uncovered order waits).

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
