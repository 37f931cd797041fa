"""Spare-part stock per service point (配件管理): receipts, issues, transfers, write-offs.

Each service point keeps a :class:`PartStock` per part number: what is on hand, as lots
by the day they came into the service network (oldest first), so the age of the stock is
known (配件账龄: 80 % of it younger than 3 months). Every change is a
:class:`PartMovement`: a receipt against a delivery note, an issue to a job (the parts
used of a visit record), a transfer out and in (调拨: shipped, then received with a
receipt check), a write-off of claim material (核销). Stock is never negative
(``part_out_of_stock``). A :class:`PartTransfer` is the note that goes with the parts: a
delivery into the network (no source point) or a transfer between two points; the
receiving point checks what arrived against it (:func:`check_receipt`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.validators import (
    as_tuple,
    aware,
    count,
    day,
    enum_value,
    instance_of,
    not_blank,
    optional_aware,
    optional_text,
    positive_int,
    text,
    tuple_of,
)
from csdomain.warranty.parts import PartKind, SparePart


__all__ = [
    "PART_TRANSFER_LIFECYCLE",
    "PART_TRANSFER_TRANSITIONS",
    "MovementKind",
    "PartLot",
    "PartMovement",
    "PartStock",
    "PartTransfer",
    "ReceiptLine",
    "TransferLine",
    "TransferStatus",
    "check_receipt",
    "core_parts",
    "part_stock_key",
]


def part_stock_key(service_point_id: str, part_number: str) -> str:
    """The key of the stock of ``part_number`` at ``service_point_id``."""
    return f"{service_point_id}/{part_number}"


@attrs.frozen
class PartLot:
    """Parts that came into the service network on one day (the age of the stock)."""

    received_on: date = attrs.field(validator=day)
    quantity: int = attrs.field(validator=positive_int)


def _lots(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    tuple_of(PartLot)(_instance, attribute, value)
    assert isinstance(value, tuple)  # noqa: S101 - checked just above
    days = [lot.received_on for lot in value]
    if days != sorted(set(days)):
        raise ValidationError.at(attribute.name, "lots are kept oldest first, one per day")


def _merged(lots: Iterable[PartLot]) -> tuple[PartLot, ...]:
    by_day: dict[date, int] = {}
    for lot in lots:
        by_day[lot.received_on] = by_day.get(lot.received_on, 0) + lot.quantity
    return tuple(PartLot(on, n) for on, n in sorted(by_day.items()))


@attrs.frozen(kw_only=True)
class PartStock:
    """The stock of one part number at one service point (stored, keyed by both)."""

    service_point_id: str = attrs.field(validator=not_blank)
    part: SparePart = attrs.field(validator=instance_of(SparePart))
    lots: tuple[PartLot, ...] = attrs.field(default=(), converter=as_tuple, validator=_lots)

    @property
    def id(self) -> str:
        """The stored key: ``<service point>/<part number>``."""
        return part_stock_key(self.service_point_id, self.part.part_number)

    @property
    def part_number(self) -> str:
        """The part number of the stock."""
        return self.part.part_number

    @property
    def on_hand(self) -> int:
        """How many are on hand."""
        return sum(lot.quantity for lot in self.lots)

    @classmethod
    def empty(cls, service_point_id: str, part: SparePart) -> PartStock:
        """No stock of ``part`` at ``service_point_id`` yet."""
        return cls(service_point_id=service_point_id, part=part)

    def received(self, lots: Iterable[PartLot]) -> PartStock:
        """This stock with ``lots`` added (a lot keeps the day it came into the network)."""
        return attrs.evolve(self, lots=_merged((*self.lots, *lots)))

    def taken(self, quantity: int, *, purpose: str) -> tuple[PartStock, tuple[PartLot, ...]]:
        """This stock less ``quantity``, oldest first, and the lots taken.

        Stock is never negative: taking more than is on hand is ``part_out_of_stock``.
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationError.at("quantity", f"must be a positive integer, not {quantity!r}")
        if quantity > self.on_hand:
            raise RuleViolation(
                "part_out_of_stock",
                f"service point {describe(self.service_point_id)} has {self.on_hand} of "
                f"{describe(self.part_number)}, not the {quantity} to {purpose}",
                service_point_id=self.service_point_id,
                part_number=self.part_number,
                on_hand=self.on_hand,
                wanted=quantity,
            )
        left = quantity
        taken: list[PartLot] = []
        kept: list[PartLot] = []
        for lot in self.lots:
            use = min(left, lot.quantity)
            if use:
                taken.append(PartLot(lot.received_on, use))
                left -= use
            if lot.quantity > use:
                kept.append(PartLot(lot.received_on, lot.quantity - use))
        return attrs.evolve(self, lots=tuple(kept)), tuple(taken)

    def younger_than(self, cutoff: date) -> int:
        """How many on hand came into the network after ``cutoff``."""
        return sum(lot.quantity for lot in self.lots if lot.received_on > cutoff)


class MovementKind(StrEnum):
    """What moved a part stock."""

    #: Received at the point against a delivery note.
    RECEIVED = "received"
    #: Issued to a job (the parts used of a visit record).
    ISSUED = "issued"
    #: Shipped to another service point (调拨).
    TRANSFERRED_OUT = "transferred_out"
    #: Received from another service point (调拨).
    TRANSFERRED_IN = "transferred_in"
    #: Claim material written off (核销).
    WRITTEN_OFF = "written_off"

    @property
    def sign(self) -> int:
        """+1 for what comes in, -1 for what goes out."""
        return 1 if self in (MovementKind.RECEIVED, MovementKind.TRANSFERRED_IN) else -1


def _movement_kind(value: object) -> MovementKind:
    return enum_value(MovementKind, value, "kind")


@attrs.frozen(kw_only=True)
class PartMovement:
    """One change of a part stock (stored): what, how many, when, by whom, for what.

    ``reference`` is the job (an issue), the note (a receipt or transfer) or the claim
    material's product serial (a write-off); ``customer_id`` and ``product_serial`` are
    the product record and user data of claim material.
    """

    id: str = attrs.field(validator=not_blank)
    service_point_id: str = attrs.field(validator=not_blank)
    part_number: str = attrs.field(validator=not_blank)
    kind: MovementKind = attrs.field(converter=_movement_kind)
    quantity: int = attrs.field(validator=positive_int)
    reference: str = attrs.field(validator=not_blank)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)
    product_serial: str | None = attrs.field(default=None, validator=optional_text)
    customer_id: str | None = attrs.field(default=None, validator=optional_text)
    note: str = attrs.field(default="", validator=text)

    @property
    def signed_quantity(self) -> int:
        """The quantity with the movement's sign (in +, out -)."""
        return self.kind.sign * self.quantity


class TransferStatus(StrEnum):
    """Where a delivery or transfer of parts stands."""

    SHIPPED = "shipped"
    RECEIVED = "received"


_T = TransferStatus

#: A transfer is shipped, then received once (a delivery into the network is received at
#: once).
PART_TRANSFER_TRANSITIONS: Mapping[TransferStatus, frozenset[TransferStatus]] = {
    _T.SHIPPED: frozenset({_T.RECEIVED}),
    _T.RECEIVED: frozenset(),
}
PART_TRANSFER_LIFECYCLE: Lifecycle[TransferStatus] = Lifecycle(
    "part transfer",
    PART_TRANSFER_TRANSITIONS,
    {"receive": Command("receive the parts", frozenset({_T.SHIPPED}), _T.RECEIVED)},
)


def _transfer_status(value: object) -> TransferStatus:
    return enum_value(TransferStatus, value, "status")


@attrs.frozen(kw_only=True)
class TransferLine:
    """One line of a delivery or transfer note: the part, how many, and their lots."""

    part: SparePart = attrs.field(validator=instance_of(SparePart))
    quantity: int = attrs.field(validator=positive_int)
    #: The lots shipped (a transfer keeps the parts' age); empty for a delivery.
    lots: tuple[PartLot, ...] = attrs.field(default=(), converter=as_tuple, validator=_lots)

    @property
    def part_number(self) -> str:
        """The part number of the line."""
        return self.part.part_number


@attrs.frozen(kw_only=True)
class ReceiptLine:
    """What arrived of one line of a note: expected, received, the shortfall."""

    part_number: str = attrs.field(validator=not_blank)
    expected: int = attrs.field(validator=positive_int)
    received: int = attrs.field(validator=count)

    @property
    def shortfall(self) -> int:
        """How many did not arrive (flagged in the receipt and the reconciliation)."""
        return self.expected - self.received


def _lines(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    tuple_of(TransferLine)(_instance, attribute, value)
    assert isinstance(value, tuple)  # noqa: S101 - checked just above
    if not value:
        raise ValidationError.at(attribute.name, "a note lists at least one part")
    numbers = [line.part_number for line in value]
    if len(set(numbers)) != len(numbers):
        raise ValidationError.at(attribute.name, "a part number is listed once per note")


def check_receipt(
    lines: Iterable[TransferLine], received: Mapping[str, int] | None
) -> tuple[ReceiptLine, ...]:
    """The receipt check of a note: what arrived, line by line (``None``: as noted).

    A part not on the note is ``receipt_not_on_note``; more than the note lists is
    ``receipt_exceeds_note``; less is booked as it came, with the shortfall on the
    receipt line.
    """
    noted = {line.part_number: line.quantity for line in lines}
    got = dict(noted) if received is None else dict(received)
    extra = sorted(set(got) - set(noted))
    if extra:
        raise RuleViolation(
            "receipt_not_on_note",
            f"{describe(extra[0])} arrived but is not on the note",
            part_number=extra[0],
        )
    result: list[ReceiptLine] = []
    for number, expected in noted.items():
        arrived = got.get(number, 0)
        if isinstance(arrived, bool) or not isinstance(arrived, int) or arrived < 0:
            raise ValidationError.at(f"received.{number}", "must be a whole number of parts")
        if arrived > expected:
            raise RuleViolation(
                "receipt_exceeds_note",
                f"{arrived} of {describe(number)} arrived, the note lists {expected}",
                part_number=number,
                received=arrived,
                expected=expected,
            )
        result.append(ReceiptLine(part_number=number, expected=expected, received=arrived))
    return tuple(result)


@attrs.frozen(kw_only=True)
class PartTransfer:
    """A delivery or transfer note (调拨单) and its receipt (stored, keyed by the note).

    ``source_point_id`` is ``None`` for a delivery into the network (from the company's
    parts warehouse or a supplier). A transfer is shipped (the parts leave the source's
    stock) and then received once at the destination, with a receipt check.
    """

    id: str = attrs.field(validator=not_blank)
    source_point_id: str | None = attrs.field(default=None, validator=optional_text)
    destination_point_id: str = attrs.field(validator=not_blank)
    lines: tuple[TransferLine, ...] = attrs.field(converter=as_tuple, validator=_lines)
    status: TransferStatus = attrs.field(default=_T.SHIPPED, converter=_transfer_status)
    shipped_at: datetime = attrs.field(validator=aware)
    received_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    receipt: tuple[ReceiptLine, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ReceiptLine)
    )
    history: tuple[StatusChange, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(StatusChange)
    )

    def __attrs_post_init__(self) -> None:
        if self.source_point_id is not None and self.source_point_id == self.destination_point_id:
            raise ValidationError.at("destination_point_id", "is the source point")
        if not self.history or self.history[-1].to != self.status.value:
            raise ValidationError.at("status", "does not match the last history entry")

    @classmethod
    def shipped(
        cls,
        *,
        id: str,
        source_point_id: str | None,
        destination_point_id: str,
        lines: Iterable[TransferLine],
        at: datetime,
        by: str,
        note: str = "",
    ) -> PartTransfer:
        """A note whose parts are on their way."""
        return cls(
            id=id,
            source_point_id=source_point_id,
            destination_point_id=destination_point_id,
            lines=tuple(lines),
            shipped_at=at,
            history=(StatusChange(None, _T.SHIPPED.value, at, by, note),),
        )

    @property
    def is_delivery(self) -> bool:
        """Whether the parts come into the network rather than from another point."""
        return self.source_point_id is None

    @property
    def shortfall(self) -> int:
        """How many parts of the note did not arrive."""
        return sum(line.shortfall for line in self.receipt)

    def received(
        self, received: Mapping[str, int] | None, *, at: datetime, by: str, note: str = ""
    ) -> PartTransfer:
        """The note received at the destination, after the receipt check
        (:func:`check_receipt`); a note is received once."""
        PART_TRANSFER_LIFECYCLE.check(self.id, self.status, "receive")
        if at < self.shipped_at:
            raise ValidationError.at("at", "is before the parts were shipped")
        receipt = check_receipt(self.lines, received)
        return PART_TRANSFER_LIFECYCLE.move(
            self, "receive", at=at, by=by, note=note, received_at=at, receipt=receipt
        )

    def arrived_lots(self, on: date) -> dict[str, tuple[PartLot, ...]]:
        """The lots each received line books at the destination.

        A transfer keeps the parts' age (the oldest shipped lots arrive first); a delivery
        books what arrived as a lot of ``on``.
        """
        wanted = {line.part_number: line.received for line in self.receipt}
        booked: dict[str, tuple[PartLot, ...]] = {}
        for line in self.lines:
            left = wanted.get(line.part_number, 0)
            if not left:
                continue
            if not line.lots:
                booked[line.part_number] = (PartLot(on, left),)
                continue
            lots: list[PartLot] = []
            for lot in line.lots:
                use = min(left, lot.quantity)
                if use:
                    lots.append(PartLot(lot.received_on, use))
                    left -= use
            booked[line.part_number] = tuple(lots)
        return booked


def core_parts(lines: Iterable[TransferLine]) -> list[str]:
    """The part numbers of IP-protected core parts among ``lines``."""
    return [line.part_number for line in lines if line.part.kind is PartKind.CORE]
