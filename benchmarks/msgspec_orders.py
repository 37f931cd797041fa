"""msgspec ``Struct`` mirrors of ``Order`` with the same checks, for the converter benchmark.

The same shape and checks as the pydantic mirror in ``bench_converter.py``: money amounts
are non-negative decimals with at most the currency's two minor-unit places, datetimes
are timezone-aware (history instants in UTC), text fields are not blank, quantities
positive, enums by value, unknown keys refused, and the order's own checks (at least one
line, no duplicate line, one currency, payments not above the total, status matching the
last history entry). msgspec runs the type and ``Meta`` checks in C; the rest are Python
``__post_init__`` methods, as csdomain's attrs validators are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta, Struct


NonBlank = Annotated[str, Meta(min_length=1, pattern=r"\S")]
Positive = Annotated[int, Meta(gt=0)]
Aware = Annotated[datetime, Meta(tz=True)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
_CENT = Decimal("0.01")
_ZERO = timedelta(0)


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
    mode: str
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


class MPriceChange(Struct, frozen=True, forbid_unknown_fields=True):
    sku: str
    gift: bool
    old: MMoney
    new: MMoney
    at: Aware
    by: str


_CHANNELS = frozenset({"dealer", "online", "phone", "letter", "fax", "email"})
_STATUSES = frozenset(
    {
        "placed",
        "confirmed",
        "prepaid",
        "in_production",
        "produced",
        "paid",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
    }
)


class MOrder(Struct, frozen=True, forbid_unknown_fields=True):
    id: NonBlank
    customer_id: NonBlank
    channel: str
    lines: tuple[MLine, ...]
    currency: str
    placed_at: Aware
    placed_by: str
    kind: str = "standard"
    dealer_id: str | None = None
    contract_number: str | None = None
    prepayment: MMoney | None = None
    consignee: MConsignee | None = None
    salesperson: str | None = None
    confirmed_by_salesperson: str | None = None
    salesperson_confirmed_at: Aware | None = None
    payments: tuple[MPayment, ...] = ()
    shipments: tuple[MShipment, ...] = ()
    status: str = "placed"
    history: tuple[MStatusChange, ...] = ()
    expected_delivery: MWindow | None = None
    delivered_at: Aware | None = None
    price_changes: tuple[MPriceChange, ...] = ()
    urgent: bool = False
    shipping_mode: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in _CHANNELS or self.status not in _STATUSES:
            raise ValueError("unknown channel or status")
        if not self.lines:
            raise ValueError("an order needs at least one line")
        keys = {(line.sku, line.gift) for line in self.lines}
        if len(keys) != len(self.lines):
            raise ValueError("duplicate order line")
        if any(line.unit_price.currency != self.currency for line in self.lines):
            raise ValueError("lines must be in the order currency")
        if any(p.amount.currency != self.currency for p in self.payments):
            raise ValueError("payments must be in the order currency")
        total = sum((line.unit_price.amount * line.quantity for line in self.lines), Decimal(0))
        paid = sum((p.amount.amount for p in self.payments), Decimal(0))
        if paid > total:
            raise ValueError("payments exceed the order total")
        if self.history and self.history[-1].to != self.status:
            raise ValueError("status does not match the last history entry")


ENCODER = msgspec.json.Encoder(decimal_format="string")
DECODER = msgspec.json.Decoder(MOrder)
