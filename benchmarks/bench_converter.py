"""Converter round trip of an order against pydantic v2 on the same shape.

Run with ``nox -s bench`` (or ``python benchmarks/bench_converter.py [--quick]``; needs
``pydantic>=2``). csdomain's side is ``to_json(order)`` and ``from_json(Order, data)``
(:mod:`csdomain.serialization`: cattrs + orjson, every attrs validator and
``Order.__attrs_post_init__`` run on the way in). The baseline is a set of pydantic v2
models that mirror ``Order`` field for field and check the same things: money amounts are
non-negative decimals with at most the currency's minor-unit places, datetimes are
timezone-aware (history instants in UTC), text fields are not blank, quantities positive,
enums by value, unknown keys refused, and the order's own checks (at least one line, no
duplicate line, one currency, payments not above the total, status matching the last
history entry). Both sides produce and read the same JSON document (about 1.4 KB).

``--profile`` prints where ``from_json`` spends its time instead of the table.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
from datetime import UTC, date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from csdomain.orders import Order
from csdomain.serialization import from_json, to_json


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, pair, print_table
from orders_data import make_orders


NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda d: d.astimezone(UTC))]
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Channel(StrEnum):
    DEALER = "dealer"
    ONLINE = "online"
    PHONE = "phone"
    LETTER = "letter"
    FAX = "fax"
    EMAIL = "email"


class Kind(StrEnum):
    STANDARD = "standard"
    CUSTOM = "custom"


class Mode(StrEnum):
    EXPRESS = "express"
    LOGISTICS = "logistics"
    RAIL = "rail"


class Status(StrEnum):
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


class PMoney(BaseModel):
    model_config = _FROZEN

    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @field_validator("amount")
    @classmethod
    def _exact(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value < 0:
            raise ValueError("must be a finite, non-negative amount")
        if value.quantize(Decimal("0.01")) != value:
            raise ValueError("more than 2 decimal places")
        return value.quantize(Decimal("0.01"))


class PLine(BaseModel):
    model_config = _FROZEN

    sku: NonBlank
    quantity: int = Field(gt=0, strict=True)
    unit_price: PMoney
    gift: StrictBool = False


class PConsignee(BaseModel):
    model_config = _FROZEN

    consignee: NonBlank
    phone: NonBlank
    address: NonBlank
    postcode: str = ""
    invoice_title: str = ""


class PPayment(BaseModel):
    model_config = _FROZEN

    amount: PMoney
    at: AwareDatetime
    by: str
    reference: str = ""


class PShipmentLine(BaseModel):
    model_config = _FROZEN

    sku: NonBlank
    quantity: int = Field(gt=0, strict=True)
    gift: StrictBool = False


class PShipment(BaseModel):
    model_config = _FROZEN

    lines: tuple[PShipmentLine, ...]
    at: AwareDatetime
    mode: Mode
    by: str
    tracking: str = ""


class PStatusChange(BaseModel):
    model_config = _FROZEN

    from_: str | None
    to: str
    at: UtcDatetime
    by: str
    note: str = ""


class PWindow(BaseModel):
    model_config = _FROZEN

    earliest: date
    latest: date


class PPriceChange(BaseModel):
    model_config = _FROZEN

    sku: str
    gift: bool
    old: PMoney
    new: PMoney
    at: AwareDatetime
    by: str


class POrder(BaseModel):
    model_config = _FROZEN

    id: NonBlank
    customer_id: NonBlank
    channel: Channel
    lines: tuple[PLine, ...]
    currency: str
    placed_at: AwareDatetime
    placed_by: str
    kind: Kind = Kind.STANDARD
    dealer_id: str | None = None
    contract_number: str | None = None
    prepayment: PMoney | None = None
    consignee: PConsignee | None = None
    salesperson: str | None = None
    confirmed_by_salesperson: str | None = None
    salesperson_confirmed_at: AwareDatetime | None = None
    payments: tuple[PPayment, ...] = ()
    shipments: tuple[PShipment, ...] = ()
    status: Status = Status.PLACED
    history: tuple[PStatusChange, ...] = ()
    expected_delivery: PWindow | None = None
    delivered_at: AwareDatetime | None = None
    price_changes: tuple[PPriceChange, ...] = ()

    @model_validator(mode="after")
    def _order_rules(self) -> POrder:
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
        return self


def round_trips(orders: list[Order], pydantic_orders: list[POrder]) -> tuple[Any, Any]:
    def ours() -> None:
        for order in orders:
            from_json(Order, to_json(order))

    def baseline() -> None:
        for model in pydantic_orders:
            POrder.model_validate_json(model.model_dump_json())

    return ours, baseline


def profile(orders: list[Order]) -> None:
    """Print where ``from_json`` and ``to_json`` spend their time."""
    docs = [to_json(o) for o in orders]
    profiler = cProfile.Profile()
    profiler.enable()
    for doc in docs:
        from_json(Order, doc)
    for order in orders:
        to_json(order)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    argv = sys.argv[1:]
    do_profile = "--profile" in argv
    if do_profile:
        sys.argv.remove("--profile")
    args = arguments(__doc__ or "")
    count = 2_000 if args.quick else 20_000
    orders = make_orders(count)
    if do_profile:
        profile(orders)
        return
    pydantic_orders = [POrder.model_validate_json(to_json(o)) for o in orders]
    for order, model in zip(orders, pydantic_orders, strict=True):
        same_instants = model.model_dump_json().replace('Z"', '+00:00"')
        assert orjson.loads(same_instants) == orjson.loads(to_json(order))
    docs = [to_json(o) for o in orders]
    pdocs = [m.model_dump_json() for m in pydantic_orders]

    results = []
    ours, baseline = round_trips(orders, pydantic_orders)
    a, b = pair(ours, baseline, repeats=args.repeats)
    results.append(Result(f"round trip x{count:,}", a, b, 1.0, "pydantic v2"))

    a, b = pair(
        lambda: [to_json(o) for o in orders],
        lambda: [m.model_dump_json() for m in pydantic_orders],
        repeats=args.repeats,
    )
    results.append(Result(f"to_json x{count:,}", a, b, 1.0, "model_dump_json"))

    a, b = pair(
        lambda: [from_json(Order, d) for d in docs],
        lambda: [POrder.model_validate_json(d) for d in pdocs],
        repeats=args.repeats,
    )
    results.append(Result(f"from_json x{count:,}", a, b, 1.0, "model_validate_json"))
    print_table("Converter round trip: csdomain.serialization vs pydantic v2", results)


if __name__ == "__main__":
    main()
