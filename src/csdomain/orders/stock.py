"""Stock of one SKU: good, damaged and gift quantities and reservations (docs/domain.md 2).

:class:`Stock` keeps good, damaged and gift quantities per SKU (正品/残品/赠品) and never
goes negative (不开负库存): a change that would is ``insufficient_stock``. The weekly
stock-take (每周仓库盘点) is kept with the stock as :class:`StockCount` records: a count
that agrees with the books is ``matched``; one that differs waits until the
customer-service manager approves it (经客户服务经理批准), and only then are the
differences booked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.money import Money
from csdomain.orders._checks import quantity as quantity_arg
from csdomain.orders._checks import stored_count, stored_positive
from csdomain.validators import (
    as_tuple,
    aware,
    enum_value,
    evolve_checked,
    money,
    optional,
    optional_aware,
    optional_text,
    text,
    tuple_of,
)
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "ApplicationStatus",
    "CountLine",
    "CountStatus",
    "DamageAnalysisRow",
    "DamageApplication",
    "DamageEntry",
    "DamageKind",
    "ItemCondition",
    "Reservation",
    "Stock",
    "StockBucket",
    "StockCount",
    "damage_analysis",
    "stock_counts_due",
]


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
    quantity: int = attrs.field(validator=stored_positive)
    bucket: StockBucket = attrs.field(default=StockBucket.GOOD, converter=_bucket)


class CountStatus(StrEnum):
    """Where a stock-take stands."""

    #: The count agrees with the books: nothing to book.
    MATCHED = "matched"
    #: The count differs: the differences wait for the customer-service manager.
    PENDING = "pending"
    #: Approved: the differences were booked.
    APPROVED = "approved"
    #: Not approved (count again): nothing was booked.
    REJECTED = "rejected"


def _count_status(value: CountStatus | str) -> CountStatus:
    return enum_value(CountStatus, value, "status")


@attrs.frozen
class CountLine:
    """One bucket of a stock-take: what was counted and what the books said then."""

    bucket: StockBucket = attrs.field(converter=_bucket)
    counted: int = attrs.field(validator=stored_count)
    booked: int = attrs.field(validator=stored_count)

    @property
    def difference(self) -> int:
        """Counted minus booked: positive when more was found than the books say."""
        return self.counted - self.booked


@attrs.frozen
class StockCount:
    """A stock-take of one SKU (每周仓库盘点), numbered, with its decision.

    ``lines`` hold each counted bucket; a count with differences is ``pending`` until the
    customer-service manager approves (booked) or rejects it (经客户服务经理批准).
    """

    number: str = attrs.field(validator=_not_blank)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=text)
    lines: tuple[CountLine, ...] = attrs.field(converter=as_tuple, validator=tuple_of(CountLine))
    status: CountStatus = attrs.field(converter=_count_status)
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    decided_by: str | None = attrs.field(default=None, validator=optional_text)
    note: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.lines:
            errors.append(("lines", "a stock-take counts at least one bucket"))
        buckets = [line.bucket for line in self.lines]
        if len(set(buckets)) != len(buckets):
            errors.append(("lines", "one line per bucket"))
        differs = any(line.difference for line in self.lines)
        if (self.status is CountStatus.MATCHED) == differs and self.lines:
            errors.append(("status", "matched exactly when no bucket differs"))
        decided = self.status in (CountStatus.APPROVED, CountStatus.REJECTED)
        if decided != (self.decided_at is not None and self.decided_by is not None):
            errors.append(("decided_at", "an approved or rejected count says who decided when"))
        if errors:
            raise ValidationError(errors)

    @property
    def differences(self) -> dict[StockBucket, int]:
        """The buckets that differ, with counted minus booked."""
        return {line.bucket: line.difference for line in self.lines if line.difference}

    @property
    def accurate(self) -> bool:
        """Whether every counted bucket agreed with the books."""
        return not self.differences


class DamageKind(StrEnum):
    """What happened to damaged goods."""

    #: Deteriorated goods moved from good or gift stock to damaged.
    MARKED_DAMAGED = "marked_damaged"
    #: Goods removed from stock (scrapped, counting corrections).
    WRITTEN_OFF = "written_off"


def _damage_kind(value: DamageKind | str) -> DamageKind:
    return enum_value(DamageKind, value, "kind")


@attrs.frozen
class DamageEntry:
    """One damage or write-off, with its reason, amount and responsible party (残损).

    Kept with the stock for the monthly damage analysis (item, quantity, amount, reason,
    next action; docs/domain.md 2).
    """

    kind: DamageKind = attrs.field(converter=_damage_kind)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=text)
    bucket: StockBucket = attrs.field(converter=_bucket)
    quantity: int = attrs.field(validator=stored_positive)
    reason: str = attrs.field(default="", validator=text)
    amount: Money | None = attrs.field(default=None, validator=optional(money))
    responsible: str = attrs.field(default="", validator=text)
    next_action: str = attrs.field(default="", validator=text)


class ApplicationStatus(StrEnum):
    """Where a damage application stands (审批残损申请)."""

    #: Filed: the goods are held back (they do not ship) until someone decides.
    PENDING = "pending"
    #: Approved: the goods were moved to damaged stock.
    APPROVED = "approved"
    #: Rejected: the goods stay where they were.
    REJECTED = "rejected"


def _application_status(value: ApplicationStatus | str) -> ApplicationStatus:
    return enum_value(ApplicationStatus, value, "status")


@attrs.frozen
class DamageApplication:
    """An application to move deteriorated goods to damaged stock (审批残损申请).

    Source: docs/domain.md 9, damage applications are approved: filed with the reason,
    amount and responsible party, the goods move to damaged only once someone holding
    ``stock.approve_adjustment`` approves it. While pending, its goods are held back.
    """

    number: str = attrs.field(validator=_not_blank)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=text)
    bucket: StockBucket = attrs.field(converter=_bucket)
    quantity: int = attrs.field(validator=stored_positive)
    reason: str = attrs.field(default="", validator=text)
    amount: Money | None = attrs.field(default=None, validator=optional(money))
    responsible: str = attrs.field(default="", validator=text)
    next_action: str = attrs.field(default="", validator=text)
    status: ApplicationStatus = attrs.field(
        default=ApplicationStatus.PENDING, converter=_application_status
    )
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    decided_by: str | None = attrs.field(default=None, validator=optional_text)
    note: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.bucket is StockBucket.DAMAGED:
            errors.append(("bucket", "goods move to damaged from good or gift stock"))
        decided = self.status is not ApplicationStatus.PENDING
        if decided != (self.decided_at is not None and self.decided_by is not None):
            errors.append(("decided_at", "a decided application says who decided when"))
        if errors:
            raise ValidationError(errors)


@attrs.frozen
class Stock:
    """Stock of one SKU (``id`` is the SKU), kept as good, damaged and gift quantities.

    Source: docs/domain.md 2, stock is kept separately as good, damaged and gift stock, and
    never goes negative (不开负库存): a change that would is ``insufficient_stock``.
    ``counts`` are its stock-takes, oldest first (docs/domain.md 9); ``damage`` its
    damages and write-offs with reason, amount and responsible party.
    """

    id: str = attrs.field(validator=_not_blank)
    good: int = attrs.field(default=0, validator=stored_count)
    damaged: int = attrs.field(default=0, validator=stored_count)
    gift: int = attrs.field(default=0, validator=stored_count)
    reservations: tuple[Reservation, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(Reservation)
    )
    counts: tuple[StockCount, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(StockCount)
    )
    damage: tuple[DamageEntry, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(DamageEntry)
    )
    applications: tuple[DamageApplication, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(DamageApplication)
    )

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        seen: set[tuple[str, StockBucket]] = set()
        # reserved plus held for damage, per shippable bucket: one pass over each list
        taken = {StockBucket.GOOD: 0, StockBucket.GIFT: 0}
        for i, r in enumerate(self.reservations):
            if r.bucket is StockBucket.DAMAGED:
                errors.append((f"reservations.{i}.bucket", "damaged goods are never reserved"))
            else:
                taken[r.bucket] += r.quantity
            if (r.order_id, r.bucket) in seen:
                errors.append((f"reservations.{i}", "one reservation per order and bucket"))
            seen.add((r.order_id, r.bucket))
        for a in self.applications:
            if a.status is ApplicationStatus.PENDING and a.bucket in taken:
                taken[a.bucket] += a.quantity
        if taken[StockBucket.GOOD] > self.good:
            errors.append(("reservations", f"more {StockBucket.GOOD} stock reserved than on hand"))
        if taken[StockBucket.GIFT] > self.gift:
            errors.append(("reservations", f"more {StockBucket.GIFT} stock reserved than on hand"))
        if not (self.applications or self.counts):
            if errors:
                raise ValidationError(errors)
            return
        applied = [a.number for a in self.applications]
        if len(set(applied)) != len(applied):
            errors.append(("applications", "damage application numbers are unique"))
        numbers = [c.number for c in self.counts]
        if len(set(numbers)) != len(numbers):
            errors.append(("counts", "stock-take numbers are unique"))
        if sum(1 for c in self.counts if c.status is CountStatus.PENDING) > 1:
            errors.append(("counts", "at most one stock-take waits for approval"))
        if errors:
            raise ValidationError(errors)

    @property
    def sku(self) -> str:
        """The SKU this stock counts."""
        return self.id

    def on_hand(self, bucket: StockBucket = StockBucket.GOOD) -> int:
        """Quantity physically in ``bucket``."""
        value = bucket if bucket.__class__ is StockBucket else _bucket(bucket)
        if value is StockBucket.GOOD:
            return self.good
        return self.damaged if value is StockBucket.DAMAGED else self.gift

    def reserved(
        self, bucket: StockBucket = StockBucket.GOOD, *, order_id: str | None = None
    ) -> int:
        """Quantity of ``bucket`` reserved, for one order or for all."""
        return sum(
            r.quantity
            for r in self.reservations
            if r.bucket == bucket and (order_id is None or r.order_id == order_id)
        )

    def held_for_damage(self, bucket: StockBucket = StockBucket.GOOD) -> int:
        """Quantity of ``bucket`` held back by pending damage applications: it never ships."""
        return sum(
            a.quantity
            for a in self.applications
            if a.bucket == bucket and a.status is ApplicationStatus.PENDING
        )

    def available(
        self, bucket: StockBucket = StockBucket.GOOD, *, order_id: str | None = None
    ) -> int:
        """What can still be promised: on hand minus reservations and goods held for a damage
        application (plus ``order_id``'s own reservations)."""
        own = self.reserved(bucket, order_id=order_id) if order_id is not None else 0
        held = self.held_for_damage(bucket) if bucket is not StockBucket.DAMAGED else 0
        return self.on_hand(bucket) - self.reserved(bucket) - held + own

    def _with(
        self,
        bucket: StockBucket,
        quantity: int,
        reservations: tuple[Reservation, ...] | None = None,
    ) -> Stock:
        held = self.reservations if reservations is None else reservations
        if bucket is StockBucket.GOOD:
            return evolve_checked(self, good=quantity, reservations=held)
        if bucket is StockBucket.DAMAGED:
            return evolve_checked(self, damaged=quantity, reservations=held)
        return evolve_checked(self, gift=quantity, reservations=held)

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
        return evolve_checked(self, reservations=(*others, reservation))

    def release(self, order_id: str, *, by: Actor, access: AccessPolicy) -> Stock:
        """Drop every reservation of an order (cancelled or shipped).

        Needs ``order.ship`` or ``order.cancel``: whoever may cancel an order frees its goods.
        """
        access.require_any(by, Permission.SHIP_ORDER, Permission.CANCEL_ORDER)
        kept = tuple(r for r in self.reservations if r.order_id != order_id)
        return (
            self if len(kept) == len(self.reservations) else evolve_checked(self, reservations=kept)
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

    def _logged(
        self, kind: DamageKind, bucket: StockBucket, quantity: int, by: Actor, details: Any
    ) -> tuple[DamageEntry, ...]:
        at = details.pop("at", None)
        if at is None:
            if any(details.values()):
                raise ValidationError.at("at", "a damage record says when")
            return self.damage
        entry = DamageEntry(
            kind=kind, at=require_aware(at), by=by.id, bucket=bucket, quantity=quantity, **details
        )
        return (*self.damage, entry)

    def mark_damaged(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
        at: datetime | None = None,
        reason: str = "",
        amount: Money | None = None,
        responsible: str = "",
        next_action: str = "",
    ) -> Stock:
        """Move deteriorated goods from good (or gift) stock to damaged: they never ship.

        With ``at`` the move is recorded as a :class:`DamageEntry` with its reason, amount,
        responsible party and next action, for the monthly damage analysis.
        """
        access.require(by, Permission.MANAGE_STOCK)
        quantity = quantity_arg(quantity, "quantity")
        bucket = _shippable_bucket(bucket)
        free = self.available(bucket)
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        details = {
            "at": at,
            "reason": reason,
            "amount": amount,
            "responsible": responsible,
            "next_action": next_action,
        }
        log = self._logged(DamageKind.MARKED_DAMAGED, bucket, quantity, by, details)
        moved = self._with(bucket, self.on_hand(bucket) - quantity)
        return evolve_checked(moved, damaged=self.damaged + quantity, damage=log)

    def write_off(
        self,
        quantity: int,
        *,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.DAMAGED,
        at: datetime | None = None,
        reason: str = "",
        amount: Money | None = None,
        responsible: str = "",
        next_action: str = "",
    ) -> Stock:
        """Remove goods from stock (scrapped damaged goods, counting corrections).

        With ``at`` the write-off is recorded as a :class:`DamageEntry` (see
        :meth:`mark_damaged`).
        """
        access.require(by, Permission.MANAGE_STOCK)
        quantity = quantity_arg(quantity, "quantity")
        bucket = _bucket(bucket)
        free = self.available(bucket) if bucket is not StockBucket.DAMAGED else self.damaged
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        details = {
            "at": at,
            "reason": reason,
            "amount": amount,
            "responsible": responsible,
            "next_action": next_action,
        }
        log = self._logged(DamageKind.WRITTEN_OFF, bucket, quantity, by, details)
        return evolve_checked(self._with(bucket, self.on_hand(bucket) - quantity), damage=log)

    # -- damage applications (审批残损申请) --------------------------------------------

    @property
    def pending_applications(self) -> tuple[DamageApplication, ...]:
        """The damage applications that wait for a decision, oldest first."""
        return tuple(a for a in self.applications if a.status is ApplicationStatus.PENDING)

    def apply_damage(
        self,
        quantity: int,
        *,
        number: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        bucket: StockBucket | str = StockBucket.GOOD,
        reason: str = "",
        amount: Money | None = None,
        responsible: str = "",
        next_action: str = "",
    ) -> Stock:
        """File a damage application for deteriorated goods (审批残损申请, docs/domain.md 9).

        Needs ``stock.manage``. Nothing moves yet: the goods are held back (they neither
        ship nor can be reserved) until :meth:`approve_damage` moves them to damaged or
        :meth:`reject_damage` frees them. Only unreserved goods (``insufficient_stock``).
        """
        access.require(by, Permission.MANAGE_STOCK)
        quantity = quantity_arg(quantity, "quantity")
        bucket = _shippable_bucket(bucket)
        free = self.available(bucket)
        if quantity > free:
            raise self._short(bucket, quantity, free, None)
        application = DamageApplication(
            number=number,
            at=require_aware(at),
            by=by.id,
            bucket=bucket,
            quantity=quantity,
            reason=reason,
            amount=amount,
            responsible=responsible,
            next_action=next_action,
        )
        return evolve_checked(self, applications=(*self.applications, application))

    def _pending_application(self, number: str, by: Actor, access: AccessPolicy) -> int:
        access.require(by, Permission.APPROVE_STOCK_ADJUSTMENT)
        for index, application in enumerate(self.applications):
            if application.number == number:
                if application.status is not ApplicationStatus.PENDING:
                    raise RuleViolation(
                        "damage_application_not_pending",
                        f"damage application {describe(number)} is {application.status}, "
                        "not pending",
                        sku=self.id,
                        number=number,
                        status=application.status.value,
                    )
                return index
        raise ValidationError.at(
            "number", f"{describe(self.id)} has no damage application {describe(number)}"
        )

    def _decided(self, index: int, decided: DamageApplication) -> tuple[DamageApplication, ...]:
        return (*self.applications[:index], decided, *self.applications[index + 1 :])

    def approve_damage(
        self, number: str, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> Stock:
        """Approve a pending damage application: its goods move to damaged stock.

        Needs ``stock.approve_adjustment``; a decided one is
        ``damage_application_not_pending``. The move is recorded as a :class:`DamageEntry`
        of the applicant with the application's reason, amount, responsible party and next
        action, so the monthly damage analysis counts approved damage only.
        """
        index = self._pending_application(number, by, access)
        moment = require_aware(at)
        application = self.applications[index]
        approved = evolve_checked(
            application,
            status=ApplicationStatus.APPROVED,
            decided_at=moment,
            decided_by=by.id,
            note=note,
        )
        entry = DamageEntry(
            kind=DamageKind.MARKED_DAMAGED,
            at=moment,
            by=application.by,
            bucket=application.bucket,
            quantity=application.quantity,
            reason=application.reason,
            amount=application.amount,
            responsible=application.responsible,
            next_action=application.next_action,
        )
        released = evolve_checked(self, applications=self._decided(index, approved))
        moved = released._with(
            application.bucket, released.on_hand(application.bucket) - application.quantity
        )
        return evolve_checked(
            moved,
            damaged=self.damaged + application.quantity,
            damage=(*self.damage, entry),
        )

    def reject_damage(
        self, number: str, *, reason: str, at: datetime, by: Actor, access: AccessPolicy
    ) -> Stock:
        """Refuse a pending damage application: the goods stay and are free again.

        Needs ``stock.approve_adjustment``; the reason is kept with the application.
        """
        index = self._pending_application(number, by, access)
        moment = require_aware(at)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a rejected damage application needs a reason")
        rejected = evolve_checked(
            self.applications[index],
            status=ApplicationStatus.REJECTED,
            decided_at=moment,
            decided_by=by.id,
            note=reason,
        )
        return evolve_checked(self, applications=self._decided(index, rejected))

    # -- stock-take ------------------------------------------------------------------

    @property
    def pending_count(self) -> StockCount | None:
        """The stock-take whose differences wait for approval, if any."""
        for stock_count in self.counts:
            if stock_count.status is CountStatus.PENDING:
                return stock_count
        return None

    @property
    def last_counted_at(self) -> datetime | None:
        """When the stock was last counted (``None``: never)."""
        return max((c.at for c in self.counts), default=None)

    def take_count(
        self,
        counted: Mapping[StockBucket | str, int],
        *,
        number: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
    ) -> Stock:
        """Record a stock-take of the given buckets against the books (每周仓库盘点).

        Needs ``stock.manage``. Nothing is booked here: a count that differs is
        ``pending`` until :meth:`approve_count`. While one waits, another count is refused
        with ``stock_count_pending``.
        """
        access.require(by, Permission.MANAGE_STOCK)
        moment = require_aware(at)
        if not isinstance(counted, Mapping) or not counted:
            raise ValidationError.at("counted", "count at least one bucket")
        waiting = self.pending_count
        if waiting is not None:
            raise RuleViolation(
                "stock_count_pending",
                f"stock-take {describe(waiting.number)} of {describe(self.id)} waits for approval",
                sku=self.id,
                number=waiting.number,
            )
        lines = []
        for key, quantity in counted.items():
            bucket = _bucket(key)
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                msg = f"a counted quantity is a whole number >= 0, got {describe(quantity)}"
                raise ValidationError.at(f"counted.{bucket.value}", msg)
            lines.append(CountLine(bucket, quantity, self.on_hand(bucket)))
        differs = any(line.difference for line in lines)
        record = StockCount(
            number=number,
            at=moment,
            by=by.id,
            lines=tuple(sorted(lines, key=lambda line: list(StockBucket).index(line.bucket))),
            status=CountStatus.PENDING if differs else CountStatus.MATCHED,
        )
        return evolve_checked(self, counts=(*self.counts, record))

    def _decide(self, number: str, by: Actor, access: AccessPolicy) -> StockCount:
        access.require(by, Permission.APPROVE_STOCK_ADJUSTMENT)
        for stock_count in self.counts:
            if stock_count.number == number:
                if stock_count.status is not CountStatus.PENDING:
                    raise RuleViolation(
                        "stock_count_not_pending",
                        f"stock-take {describe(number)} is {stock_count.status}, not pending",
                        sku=self.id,
                        number=number,
                        status=stock_count.status.value,
                    )
                return stock_count
        raise ValidationError.at(
            "number", f"{describe(self.id)} has no stock-take {describe(number)}"
        )

    def _replaced(self, decided: StockCount) -> tuple[StockCount, ...]:
        return tuple(decided if c.number == decided.number else c for c in self.counts)

    def approve_count(
        self, number: str, *, at: datetime, by: Actor, access: AccessPolicy, note: str = ""
    ) -> Stock:
        """Book a pending stock-take's differences (经客户服务经理批准).

        Needs ``stock.approve_adjustment`` (the customer-service manager and above). The
        differences are added to what is on hand now, so goods moved since the count stay
        booked; a result below zero or below the reserved goods is ``insufficient_stock``.
        """
        pending = self._decide(number, by, access)
        moment = require_aware(at)
        stock = self
        for bucket, difference in pending.differences.items():
            target = stock.on_hand(bucket) + difference
            floor = (
                stock.reserved(bucket) + stock.held_for_damage(bucket)
                if bucket is not StockBucket.DAMAGED
                else 0
            )
            if target < floor:
                raise self._short(bucket, -difference, stock.on_hand(bucket) - floor, None)
            stock = stock._with(bucket, target)
        approved = evolve_checked(
            pending,
            status=CountStatus.APPROVED,
            decided_at=moment,
            decided_by=by.id,
            note=note,
        )
        return evolve_checked(stock, counts=self._replaced(approved))

    def reject_count(
        self, number: str, *, reason: str, at: datetime, by: Actor, access: AccessPolicy
    ) -> Stock:
        """Refuse a pending stock-take (count again); nothing is booked.

        Needs ``stock.approve_adjustment``; the reason is kept with the count.
        """
        pending = self._decide(number, by, access)
        moment = require_aware(at)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "a rejected stock-take needs a reason")
        rejected = evolve_checked(
            pending,
            status=CountStatus.REJECTED,
            decided_at=moment,
            decided_by=by.id,
            note=reason,
        )
        return evolve_checked(self, counts=self._replaced(rejected))


def stock_counts_due(stocks: Iterable[Stock], on: datetime, every: timedelta) -> list[str]:
    """The SKUs whose last stock-take is older than ``every`` on ``on`` (or never counted).

    Source: docs/domain.md 9, 每周仓库盘点: the warehouse counts every week
    (``OrderPolicy.stock_take_interval``). Sorted by SKU.
    """
    moment = require_aware(on, "on")
    due = []
    for stock in stocks:
        last = stock.last_counted_at
        if last is None or moment - last >= every:
            due.append(stock.id)
    return sorted(due)


@attrs.frozen
class DamageAnalysisRow:
    """Damages of one month, item, kind and reason: quantity, amount, who, what next."""

    month: str
    sku: str
    kind: DamageKind
    reason: str
    entries: int
    quantity: int
    amount: Money
    responsible: tuple[str, ...]
    next_actions: tuple[str, ...]


def damage_analysis(
    stocks: Iterable[Stock], month: str, *, tz: str = "Asia/Shanghai", currency: str = "CNY"
) -> list[DamageAnalysisRow]:
    """The monthly damage analysis (残损分析): item, quantity, amount, reason, next action.

    Source: docs/domain.md 2, damage (残损) is analysed monthly the same way as returns.
    Groups the :class:`DamageEntry` records of ``month`` (``"2026-11"``, read in ``tz``)
    by item, kind and reason; amounts in other currencies are refused. Sorted by item,
    kind and reason.
    """
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValidationError.at("month", f"expected YYYY-MM, got {describe(month)}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValidationError.at("tz", f"unknown time zone {describe(tz)}") from None
    zero = Money.zero(currency)
    groups: dict[tuple[str, DamageKind, str], list[DamageEntry]] = {}
    for stock in stocks:
        for entry in stock.damage:
            if entry.at.astimezone(zone).strftime("%Y-%m") == month:
                groups.setdefault((stock.id, entry.kind, entry.reason), []).append(entry)
    rows = []
    for (sku, kind, reason), entries in sorted(groups.items()):
        amount = zero
        for entry in entries:
            if entry.amount is not None:
                if entry.amount.currency != currency:
                    msg = f"expected {currency}, got {entry.amount.currency}"
                    raise ValidationError.at("amount", msg)
                amount = amount + entry.amount
        rows.append(
            DamageAnalysisRow(
                month=month,
                sku=sku,
                kind=kind,
                reason=reason,
                entries=len(entries),
                quantity=sum(entry.quantity for entry in entries),
                amount=amount,
                responsible=tuple(dict.fromkeys(e.responsible for e in entries if e.responsible)),
                next_actions=tuple(dict.fromkeys(e.next_action for e in entries if e.next_action)),
            )
        )
    return rows
