"""msgspec ``Struct`` mirrors of ``Order`` with the same checks, for the converter benchmark.

The same shape and checks as ``Order`` and the pydantic mirror in ``bench_converter.py``:
money amounts are non-negative decimals with at most the currency's two minor-unit places,
currencies three capital letters, datetimes timezone-aware (history instants in UTC), text
fields not blank, quantities positive, enums by value (read as members, as csdomain
does), unknown keys refused, a delivery window's latest date not before its earliest, and
the order's own checks (at least one line, no duplicate line, one currency, a dealer
order names its dealer, custom work and only custom work has a contract number and a
prepayment, payments and the prepayment not above the total, status matching the last
history entry). msgspec runs the type, enum and ``Meta`` checks in C; the rest are Python
``__post_init__`` methods, as csdomain's attrs validators are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta, Struct


NonBlank = Annotated[str, Meta(min_length=1, pattern=r"\S")]
Positive = Annotated[int, Meta(gt=0, le=2**63 - 1)]
Aware = Annotated[datetime, Meta(tz=True)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
_CENT = Decimal("0.01")
_ZERO = timedelta(0)


class MChannel(StrEnum):
    DEALER = "dealer"
    ONLINE = "online"
    PHONE = "phone"
    LETTER = "letter"
    FAX = "fax"
    EMAIL = "email"


class MKind(StrEnum):
    STANDARD = "standard"
    CUSTOM = "custom"


class MMode(StrEnum):
    EXPRESS = "express"
    LOGISTICS = "logistics"
    RAIL = "rail"


class MStatus(StrEnum):
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


class MMoney(Struct, frozen=True, forbid_unknown_fields=True):
    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount < 0:
            raise ValueError("must be a finite, non-negative amount")
        if self.amount.quantize(_CENT) != self.amount:
            raise ValueError("more than 2 decimal places")


class MLine(Struct, frozen=True, forbid_unknown_fields=True):
    sku: NonBlank
    quantity: Positive
    unit_price: MMoney
    gift: bool = False


class MConsignee(Struct, frozen=True, forbid_unknown_fields=True):
    consignee: NonBlank
    phone: NonBlank
    address: NonBlank
    postcode: str = ""
    invoice_title: str = ""


class MPayment(Struct, frozen=True, forbid_unknown_fields=True):
    amount: MMoney
    at: Aware
    by: str
    reference: str = ""


class MShipmentLine(Struct, frozen=True, forbid_unknown_fields=True):
    sku: NonBlank
    quantity: Positive
    gift: bool = False


class MShipment(Struct, frozen=True, forbid_unknown_fields=True):
    lines: tuple[MShipmentLine, ...]
    at: Aware
    mode: MMode
    by: str
    tracking: str = ""


class MStatusChange(Struct, frozen=True, forbid_unknown_fields=True):
    from_: str | None
    to: str
    at: Aware
    by: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.at.utcoffset() != _ZERO:
            msgspec.structs.force_setattr(self, "at", self.at.astimezone(UTC))


class MWindow(Struct, frozen=True, forbid_unknown_fields=True):
    earliest: date
    latest: date

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValueError("latest must not be before earliest")


class MPriceChange(Struct, frozen=True, forbid_unknown_fields=True):
    sku: NonBlank
    gift: bool
    old: MMoney
    new: MMoney
    at: Aware
    by: str


class MOrder(Struct, frozen=True, forbid_unknown_fields=True):
    id: NonBlank
    customer_id: NonBlank
    channel: MChannel
    lines: tuple[MLine, ...]
    currency: Currency
    placed_at: Aware
    placed_by: str
    kind: MKind = MKind.STANDARD
    dealer_id: str | None = None
    contract_number: str | None = None
    prepayment: MMoney | None = None
    consignee: MConsignee | None = None
    salesperson: str | None = None
    confirmed_by_salesperson: str | None = None
    salesperson_confirmed_at: Aware | None = None
    payments: tuple[MPayment, ...] = ()
    shipments: tuple[MShipment, ...] = ()
    status: MStatus = MStatus.PLACED
    history: tuple[MStatusChange, ...] = ()
    expected_delivery: MWindow | None = None
    delivered_at: Aware | None = None
    price_changes: tuple[MPriceChange, ...] = ()
    urgent: bool = False
    shipping_mode: MMode | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("an order needs at least one line")
        keys = {(line.sku, line.gift) for line in self.lines}
        if len(keys) != len(self.lines):
            raise ValueError("duplicate order line")
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError("lines must be in the order currency")
        if any(p.amount.currency != self.currency for p in self.payments):
            raise ValueError("payments must be in the order currency")
        if self.channel is MChannel.DEALER and not self.dealer_id:
            raise ValueError("an order placed through a dealer names the dealer")
        custom = self.kind is MKind.CUSTOM
        if custom != (self.contract_number is not None) or (custom and not self.contract_number):
            raise ValueError("custom work and only custom work has a contract number")
        if custom != (self.prepayment is not None):
            raise ValueError("custom work and only custom work has a prepayment")
        if self.prepayment is not None and self.prepayment.currency != self.currency:
            raise ValueError("the prepayment must be in the order currency")
        total = sum((line.unit_price.amount * line.quantity for line in self.lines), Decimal(0))
        paid = sum((p.amount.amount for p in self.payments), Decimal(0))
        if self.prepayment is not None and self.prepayment.amount > total:
            raise ValueError("the prepayment exceeds the order total")
        if paid > total:
            raise ValueError("payments exceed the order total")
        if self.history and self.history[-1].to != self.status:
            raise ValueError("status does not match the last history entry")


ENCODER = msgspec.json.Encoder(decimal_format="string")
DECODER = msgspec.json.Decoder(MOrder)
