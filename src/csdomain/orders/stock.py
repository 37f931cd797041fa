"""Stock of one SKU: good, damaged and gift quantities and reservations (docs/domain.md 2).

:class:`Stock` keeps good, damaged and gift quantities per SKU (正品/残品/赠品) and never
goes negative (不开负库存): a change that would is ``insufficient_stock``.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.orders._checks import quantity as quantity_arg
from csdomain.validators import as_tuple, count, enum_value, positive_int, tuple_of
from csdomain.validators import not_blank as _not_blank


__all__ = ["ItemCondition", "Reservation", "Stock", "StockBucket"]


class StockBucket(StrEnum):
    """The separate stocks of one SKU: good, damaged and gift (正品/残品/赠品)."""

    GOOD = "good"
    DAMAGED = "damaged"
    GIFT = "gift"


class ItemCondition(StrEnum):
    """Condition of returned goods as the warehouse confirms it."""

    GOOD = "good"
    DAMAGED = "damaged"


def _bucket(value: StockBucket | str) -> StockBucket:
    return enum_value(StockBucket, value, "bucket")


def _condition(value: ItemCondition | str) -> ItemCondition:
    return enum_value(ItemCondition, value, "condition")


def _shippable_bucket(bucket: StockBucket | str) -> StockBucket:
    value = _bucket(bucket)
    if value is StockBucket.DAMAGED:
        raise ValidationError.at("bucket", "damaged goods are never shipped or reserved")
    return value


@attrs.frozen
class Reservation:
    """Stock held back for one order until it ships."""

    order_id: str = attrs.field(validator=_not_blank)
    quantity: int = attrs.field(validator=positive_int)
    bucket: StockBucket = attrs.field(default=StockBucket.GOOD, converter=_bucket)


@attrs.frozen
class Stock:
    """Stock of one SKU (``id`` is the SKU), kept as good, damaged and gift quantities.

    Source: docs/domain.md 2, stock is kept separately as good, damaged and gift stock, and
    never goes negative (不开负库存): a change that would is ``insufficient_stock``.
    """

    id: str = attrs.field(validator=_not_blank)
    good: int = attrs.field(default=0, validator=count)
    damaged: int = attrs.field(default=0, validator=count)
    gift: int = attrs.field(default=0, validator=count)
    reservations: tuple[Reservation, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Reservation)
    )

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
            f"{describe(self.id)}: {requested} {bucket} requested, {available} available",
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
        quantity = quantity_arg(quantity, "quantity")
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
        quantity = quantity_arg(quantity, "quantity")
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
        quantity = quantity_arg(quantity, "quantity")
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
        quantity = quantity_arg(quantity, "quantity")
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
        quantity = quantity_arg(quantity, "quantity")
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
        quantity = quantity_arg(quantity, "quantity")
        bucket = _bucket(bucket)
        free = self.available(bucket) if bucket is not StockBucket.DAMAGED else self.damaged
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        return self._with(bucket, self.on_hand(bucket) - quantity)
