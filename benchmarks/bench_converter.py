"""Converter round trip of an order against pydantic v2 on the same shape.

Run with ``nox -s bench`` (or ``python benchmarks/bench_converter.py [--quick]``; needs
``pydantic>=2``). csdomain's side is ``to_json(order)`` and ``from_json(Order, data)``
(:mod:`csdomain.serialization`: cattrs + orjson, every attrs validator and
``Order.__attrs_post_init__`` run on the way in). The baseline is a set of pydantic v2
models that mirror ``Order`` field for field and check the same things: money amounts are
non-negative decimals with at most the currency's minor-unit places, currencies three
capital letters, datetimes timezone-aware (history instants in UTC), text fields not
blank, quantities positive (and what a store keeps, below 2**63), enums by value,
unknown keys refused, a delivery window's latest date not before its earliest, and the
order's own checks (at least one line, no duplicate line, one currency, a dealer order
names its dealer, custom work and only custom work has a contract number and a
prepayment, payments and the prepayment not above the total, status matching the last
history entry). Both sides produce and read the same JSON document (about 1.4 KB).

Every row runs with the garbage collector on, as an application does, and the round
trips are measured twice: with each result discarded at once and with all results kept
(a list of 20,000 orders alive, which makes the collector's passes longer for the side
that allocates more objects). Two more baselines have rows of their own: msgspec
``Struct`` mirrors with the same checks (``msgspec_orders.py``; needs ``msgspec``) and the
floor, orjson ``dumps``/``loads`` of the unstructured dict with no model at all. The store
reads documents it wrote itself through the trusted path
(:func:`csdomain.serialization.trusted_structure_hook`), measured against
``orjson.loads`` of the same bytes.

``--profile`` prints where ``from_json`` spends its time instead of the table.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
from collections.abc import Callable
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
from csdomain.serialization import from_json, json_unstructure_hook, to_json


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
    quantity: int = Field(gt=0, le=2**63 - 1, strict=True)
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
    quantity: int = Field(gt=0, le=2**63 - 1, strict=True)
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

    @model_validator(mode="after")
    def _ordered(self) -> PWindow:
        if self.latest < self.earliest:
            raise ValueError("latest must not be before earliest")
        return self


class PPriceChange(BaseModel):
    model_config = _FROZEN

    sku: NonBlank
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
    currency: str = Field(pattern=r"^[A-Z]{3}$")
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
    urgent: StrictBool = False
    shipping_mode: Mode | None = None

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
        if self.channel is Channel.DEALER and not self.dealer_id:
            raise ValueError("an order placed through a dealer names the dealer")
        custom = self.kind is Kind.CUSTOM
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
        return self


def _trusted_rows(
    orders: list[Order], docs: list[bytes], structs: list[Any], repeats: int
) -> list[Result]:
    """The store's own round trip and read: documents it wrote, built on the trusted path
    (no validators re-run), against msgspec with the same checks and ``orjson.loads``."""
    from msgspec_orders import DECODER, ENCODER

    from csdomain.serialization import trusted_structure_hook

    count = len(orders)
    trusted = trusted_structure_hook(Order)
    unstructure = json_unstructure_hook(Order)

    def store_round_trip(order: Order) -> Order:
        return trusted(orjson.loads(orjson.dumps(unstructure(order))))

    return [
        *_rows(
            f"store round trip x{count:,} (trusted read)",
            store_round_trip,
            lambda s: DECODER.decode(ENCODER.encode(s)),
            (orders, structs),
            1.3,
            "msgspec, same checks",
            repeats,
        ),
        *_rows(
            f"decode of a stored order x{count:,} (trusted read)",
            lambda d: trusted(orjson.loads(d)),
            orjson.loads,
            (docs, docs),
            2.0,
            "orjson.loads",
            repeats,
        ),
    ]


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


def _rows(  # noqa: PLR0917 - a row pair: what, both sides, data, target, names
    name: str,
    ours: Callable[[Any], Any],
    theirs: Callable[[Any], Any],
    items: tuple[list[Any], list[Any]],
    target: float | None,
    baseline: str,
    repeats: int,
) -> list[Result]:
    """``ours`` over the first items against ``theirs`` over the second, results
    discarded and results kept, the garbage collector on."""
    mine, other = items

    def discard(fn: Callable[[Any], Any], values: list[Any]) -> Callable[[], None]:
        def run() -> None:
            for value in values:
                fn(value)

        return run

    def keep(fn: Callable[[Any], Any], values: list[Any]) -> Callable[[], object]:
        return lambda: [fn(value) for value in values]

    a, b = pair(discard(ours, mine), discard(theirs, other), repeats=repeats, gc_on=True)
    c, d = pair(keep(ours, mine), keep(theirs, other), repeats=repeats, gc_on=True)
    return [
        Result(f"{name} (results discarded)", a, b, target, baseline),
        Result(f"{name} (results kept)", c, d, target, baseline),
    ]


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
    from msgspec_orders import DECODER, ENCODER

    pydantic_orders = [POrder.model_validate_json(to_json(o)) for o in orders]
    docs = [to_json(o) for o in orders]
    structs = [DECODER.decode(d) for d in docs]
    for order, model, struct in zip(orders, pydantic_orders, structs, strict=True):
        ours = orjson.loads(to_json(order))
        assert orjson.loads(model.model_dump_json().replace('Z"', '+00:00"')) == ours
        assert orjson.loads(ENCODER.encode(struct).replace(b'Z"', b'+00:00"')) == ours
    pdocs = [m.model_dump_json() for m in pydantic_orders]
    unstructure = json_unstructure_hook(Order)
    dicts = [unstructure(o) for o in orders]
    r = args.repeats

    def round_trip(order: Order) -> Order:
        return from_json(Order, to_json(order))

    results = [
        *_rows(
            f"round trip x{count:,}",
            round_trip,
            lambda m: POrder.model_validate_json(m.model_dump_json()),
            (orders, pydantic_orders),
            1.0,
            "pydantic v2",
            r,
        ),
        *_rows(
            f"round trip x{count:,}",
            round_trip,
            lambda s: DECODER.decode(ENCODER.encode(s)),
            (orders, structs),
            1.3,
            "msgspec, same checks",
            r,
        ),
        *_rows(
            f"round trip x{count:,}",
            round_trip,
            lambda d: orjson.loads(orjson.dumps(d)),
            (orders, dicts),
            None,
            "orjson dumps/loads of the dict (floor)",
            r,
        ),
        *_rows(
            f"to_json x{count:,}",
            to_json,
            lambda m: m.model_dump_json(),
            (orders, pydantic_orders),
            1.0,
            "model_dump_json",
            r,
        ),
        *_rows(
            f"from_json x{count:,}",
            lambda d: from_json(Order, d),
            POrder.model_validate_json,
            (docs, pdocs),
            1.0,
            "model_validate_json",
            r,
        ),
    ]
    results.extend(_trusted_rows(orders, docs, structs, r))
    print_table("Converter: csdomain.serialization vs pydantic v2, msgspec and orjson", results)


if __name__ == "__main__":
    main()
