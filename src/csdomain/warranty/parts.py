"""Spare-part prices (docs/domain.md 4): :func:`quote_part` shows list price, tax and freight.

The parts that assemble one finished product cost together twice that product's dealer
price (按服务配件组装成一台成品,其价格应该为成品经销商结算价的2倍): a :class:`ServiceBom` lists
those parts with the product's dealer price, and each assembled part's quote is its share
of the multiple (:meth:`ServiceBom.assembled_prices`), never the multiple itself.

Two price lists (两套价格): the market guide list (:attr:`PriceList.MARKET_GUIDE`, what the
rules above give) and the dealer settlement list (:attr:`PriceList.DEALER_SETTLEMENT`): one
formula, the guide price less a settlement discount per channel level
(``quote_part(..., settlement_discount=...)``). Standard and wear parts stay at cost plus
their minimal margin on both lists; IP-protected core parts are on neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

import attrs

from csdomain.errors import CurrencyMismatch, RuleViolation, ValidationError, describe
from csdomain.money import Money
from csdomain.validators import (
    as_tuple,
    enum_value,
    instance_of,
    money,
    not_blank,
    optional,
    positive_int,
    text,
    tuple_of,
)
from csdomain.warranty._checks import _count, _Problems, _raise, _text
from csdomain.warranty.policy import WarrantyPolicy


__all__ = [
    "BomLine",
    "PartKind",
    "PartQuote",
    "PriceList",
    "QuoteLine",
    "ServiceBom",
    "SparePart",
    "quote_part",
]


class PartKind(StrEnum):
    """How a spare part is priced (docs/domain.md 4, spare parts)."""

    #: A part of a finished product's service BOM: its share of the policy multiple (2x)
    #: of the product's dealer price.
    ASSEMBLED = "assembled"
    #: A standard part: cost plus the minimal standard margin.
    STANDARD = "standard"
    #: A wear part: cost plus the minimal wear margin.
    WEAR = "wear"
    #: An IP-protected core part: not sold.
    CORE = "core"


class PriceList(StrEnum):
    """Which of the two spare-part price lists a quote is on (docs/domain.md 8, parts)."""

    #: The market guide list (市场指导价): the pricing rules as they stand.
    MARKET_GUIDE = "market_guide"
    #: The dealer settlement list (经销商结算价): the guide price less the channel level's
    #: settlement discount (assembled parts; standard and wear parts keep their price).
    DEALER_SETTLEMENT = "dealer_settlement"


def _to_price_list(value: PriceList | str) -> PriceList:
    return enum_value(PriceList, value, "price_list")


def _to_part_kind(value: PartKind | str) -> PartKind:
    return enum_value(PartKind, value, "kind")


@attrs.frozen(kw_only=True)
class SparePart:
    """A spare part in the price list.

    ``dealer_price`` is the dealer price of the finished product an assembled part belongs
    to; ``cost`` is what a part costs the service organisation (standard and wear parts
    are priced from it; for assembled parts it weighs their share of the product's price).
    """

    part_number: str
    name: str
    kind: PartKind = attrs.field(converter=_to_part_kind)
    dealer_price: Money | None = attrs.field(default=None, validator=optional(money))
    cost: Money | None = attrs.field(default=None, validator=optional(money))

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.part_number, "part_number", problems)
        _text(self.name, "name", problems)
        if self.kind is PartKind.ASSEMBLED and not isinstance(self.dealer_price, Money):
            problems.append(("dealer_price", "an assembled part is priced from a dealer price"))
        if self.kind in (PartKind.STANDARD, PartKind.WEAR) and not isinstance(self.cost, Money):
            problems.append(("cost", f"a {self.kind.value} part is priced from its cost"))
        _raise(problems)


@attrs.frozen(kw_only=True)
class BomLine:
    """One line of a product's service BOM: a part and how many of it one product takes."""

    part: SparePart = attrs.field(validator=instance_of(SparePart))
    quantity: int = attrs.field(default=1, validator=positive_int)


def _minor_units(amount: Decimal, exponent: int) -> int:
    return int(amount.scaleb(-exponent))


@attrs.frozen(kw_only=True)
class ServiceBom:
    """The service parts that assemble one finished product, and its dealer price.

    Source: docs/domain.md 4, spare parts
    (按服务配件组装成一台成品,其价格应该为成品经销商结算价的2倍):
    together the assembled parts of one product cost ``assembled_part_multiple`` (2)
    times ``dealer_price``. Standard, wear and core parts may be listed too; they keep
    their own pricing (cost plus margin; core parts are not sold) and take no share.
    Every assembled part's own ``dealer_price`` must be the product's.
    """

    product: str = attrs.field(validator=not_blank)
    dealer_price: Money = attrs.field(validator=money)
    lines: tuple[BomLine, ...] = attrs.field(converter=as_tuple, validator=tuple_of(BomLine))

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        if not self.lines:
            problems.append(("lines", "a service BOM lists at least one part"))
        seen: set[str] = set()
        for i, line in enumerate(self.lines):
            part = line.part
            if part.part_number in seen:
                problems.append(
                    (f"lines.{i}.part", f"{describe(part.part_number)} is listed twice")
                )
            seen.add(part.part_number)
            if part.kind is PartKind.ASSEMBLED and part.dealer_price != self.dealer_price:
                msg = f"an assembled part of {describe(self.product)} carries its dealer price"
                problems.append((f"lines.{i}.part.dealer_price", msg))
        _raise(problems)

    def line(self, part_number: str) -> BomLine:
        """The BOM line of ``part_number``."""
        for line in self.lines:
            if line.part.part_number == part_number:
                return line
        msg = f"{describe(part_number)} is not a part of {describe(self.product)}'s service BOM"
        raise ValidationError.at("part", msg)

    def assembled_prices(self, policy: WarrantyPolicy) -> Mapping[str, Money]:
        """The ex-tax unit price of every assembled part, by part number.

        The parts' line totals (unit price x quantity) share ``assembled_part_multiple`` x
        ``dealer_price`` in proportion to ``cost x quantity`` when every assembled part has
        a cost, else in proportion to the quantity (the documents give no key for the
        split; this is a project default). Line totals are whole minor units that add up
        to the multiple exactly (largest remainder); a unit price is its line total
        divided by the quantity, rounded half-up.
        """
        assembled = [line for line in self.lines if line.part.kind is PartKind.ASSEMBLED]
        if not assembled:
            return {}
        total = self.dealer_price * policy.assembled_part_multiple
        exponent = int(total.amount.as_tuple().exponent)
        by_cost: list[Decimal] = []
        for line in assembled:
            cost = line.part.cost
            if cost is None or cost.currency != total.currency or not cost:
                break
            by_cost.append(cost.amount * line.quantity)
        weights = (
            by_cost
            if len(by_cost) == len(assembled)
            else [Decimal(line.quantity) for line in assembled]
        )
        units = _minor_units(total.amount, exponent)
        whole = sum(weights)
        exact = [Decimal(units) * w / whole for w in weights]
        shares = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
        left = units - sum(shares)
        order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
        for i in order[:left]:
            shares[i] += 1
        return {
            line.part.part_number: Money(
                Decimal(share).scaleb(exponent) / line.quantity, total.currency
            )
            for line, share in zip(assembled, shares, strict=True)
        }


@attrs.frozen(kw_only=True)
class QuoteLine:
    """One visible line of a quote."""

    label: str = attrs.field(validator=text)
    amount: Money = attrs.field(validator=money)


@attrs.frozen(kw_only=True)
class PartQuote:
    """A spare-part quote: ex-tax list price + tax + freight = total (docs/domain.md 4)."""

    part_number: str = attrs.field(validator=instance_of(str, "a part number"))
    quantity: int
    unit_price: Money = attrs.field(validator=money)
    list_price: Money = attrs.field(validator=money)
    tax_rate: Decimal = attrs.field(validator=instance_of(Decimal))
    tax: Money = attrs.field(validator=money)
    freight: Money = attrs.field(validator=money)
    total: Money = attrs.field(validator=money)
    price_list: PriceList = attrs.field(default=PriceList.MARKET_GUIDE, converter=_to_price_list)
    #: The settlement discount applied (zero on the market guide list).
    discount: Decimal = attrs.field(default=Decimal(0), validator=instance_of(Decimal))

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _count(self.quantity, "quantity", problems, minimum=1)
        if not self.discount.is_finite() or not 0 <= self.discount < 1:
            problems.append(("discount", "must be from 0 up to 1"))
        elif self.price_list is PriceList.MARKET_GUIDE and self.discount:
            problems.append(("discount", "the market guide list has no discount"))
        if not problems:
            if self.unit_price * self.quantity != self.list_price:
                problems.append(("list_price", "is not unit_price x quantity"))
            if self.list_price + self.tax + self.freight != self.total:
                problems.append(("total", "is not list_price + tax + freight"))
        _raise(problems)

    @property
    def lines(self) -> tuple[QuoteLine, ...]:
        """The quote's lines as shown to the customer, ending with the total."""
        rate = (self.tax_rate * 100).normalize()
        return (
            QuoteLine(
                label=f"{self.part_number} x {self.quantity} at {self.unit_price} (ex-tax)",
                amount=self.list_price,
            ),
            QuoteLine(label=f"tax {rate:f}%", amount=self.tax),
            QuoteLine(label="freight", amount=self.freight),
            QuoteLine(label="total", amount=self.total),
        )


def quote_part(
    part: SparePart,
    quantity: int,
    policy: WarrantyPolicy,
    *,
    bom: ServiceBom | None = None,
    settlement_discount: Decimal | None = None,
) -> PartQuote:
    """Quote ``quantity`` units of a spare part (docs/domain.md 4, spare parts).

    An assembled part costs its share of ``policy.assembled_part_multiple`` times its
    finished product's dealer price, over the product's service BOM (``bom``, see
    :meth:`ServiceBom.assembled_prices`): the parts that assemble one product cost twice
    its dealer price together, not each. Standard and wear parts cost their cost plus the
    policy's margin; IP-protected core parts are not sold
    (``RuleViolation("part_not_for_sale")``). Tax is ``policy.tax_rate`` of the ex-tax
    list price, rounded half-up to the minor unit.

    ``settlement_discount`` (a channel level's discount, from 0 up to 1) quotes the dealer
    settlement list instead of the market guide list: an assembled part's guide price
    less the discount; standard and wear parts keep cost plus their minimal margin, so no
    list sells them below cost.
    """
    if not isinstance(part, SparePart):
        raise ValidationError.at("part", f"expected a SparePart, got {type(part).__name__}")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError.at(
            "quantity", f"must be a positive integer, got {describe(quantity)}"
        )
    if not isinstance(policy, WarrantyPolicy):
        msg = f"expected a WarrantyPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    if part.kind is PartKind.CORE:
        raise RuleViolation(
            "part_not_for_sale",
            f"{part.part_number} ({part.name}) is an IP-protected core part and is not sold",
            part_number=part.part_number,
        )
    discount = Decimal(0) if settlement_discount is None else settlement_discount
    if not isinstance(discount, Decimal) or not discount.is_finite() or not 0 <= discount < 1:
        msg = f"must be a Decimal from 0 up to 1, got {describe(settlement_discount)}"
        raise ValidationError.at("settlement_discount", msg)
    if bom is not None and not isinstance(bom, ServiceBom):
        raise ValidationError.at("bom", f"expected a ServiceBom, got {type(bom).__name__}")
    base: Money | None
    if part.kind is PartKind.ASSEMBLED:
        if bom is None:
            msg = (
                f"assembled part {part.part_number} is priced as its share of the product's "
                "service BOM: pass bom="
            )
            raise ValidationError.at("bom", msg)
        if bom.line(part.part_number).part != part:
            raise ValidationError.at("part", f"differs from {part.part_number} in the BOM")
        if bom.dealer_price.currency != policy.currency:
            raise CurrencyMismatch(policy.currency, bom.dealer_price.currency)
        base, factor = bom.assembled_prices(policy)[part.part_number], 1 - discount
    elif part.kind is PartKind.STANDARD:
        base, factor = part.cost, 1 + policy.standard_part_margin
    else:
        base, factor = part.cost, 1 + policy.wear_part_margin
    if base is None:
        raise ValidationError.at("part", f"{part.kind.value} part {part.part_number} has no price")
    unit_price = base * factor
    if unit_price.currency != policy.currency:
        raise CurrencyMismatch(policy.currency, unit_price.currency)
    list_price = unit_price * quantity
    tax = list_price * policy.tax_rate
    freight = Money(policy.freight, policy.currency)
    return PartQuote(
        part_number=part.part_number,
        quantity=quantity,
        unit_price=unit_price,
        list_price=list_price,
        tax_rate=policy.tax_rate,
        tax=tax,
        freight=freight,
        total=list_price + tax + freight,
        price_list=PriceList.MARKET_GUIDE
        if settlement_discount is None
        else PriceList.DEALER_SETTLEMENT,
        discount=discount if part.kind is PartKind.ASSEMBLED else Decimal(0),
    )
