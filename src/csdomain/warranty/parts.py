"""Spare-part prices (DOMAIN.md 4): :func:`quote_part` shows list price, tax and freight."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import attrs

from csdomain.errors import CurrencyMismatch, RuleViolation, ValidationError, describe
from csdomain.money import Money
from csdomain.validators import enum_value, instance_of, money, optional, text
from csdomain.warranty._checks import _count, _Problems, _raise, _text
from csdomain.warranty.policy import WarrantyPolicy


__all__ = ["PartKind", "PartQuote", "QuoteLine", "SparePart", "quote_part"]


class PartKind(StrEnum):
    """How a spare part is priced (DOMAIN.md 4, spare parts)."""

    #: An assembly: the policy multiple of the finished product's dealer price.
    ASSEMBLED = "assembled"
    #: A standard part: cost plus the minimal standard margin.
    STANDARD = "standard"
    #: A wear part: cost plus the minimal wear margin.
    WEAR = "wear"
    #: An IP-protected core part: not sold.
    CORE = "core"


def _to_part_kind(value: PartKind | str) -> PartKind:
    return enum_value(PartKind, value, "kind")


@attrs.frozen(kw_only=True)
class SparePart:
    """A spare part in the price list.

    ``dealer_price`` is the dealer price of the finished product an assembled part is
    priced from; ``cost`` is what a standard or wear part costs the service organisation.
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
class QuoteLine:
    """One visible line of a quote."""

    label: str = attrs.field(validator=text)
    amount: Money = attrs.field(validator=money)


@attrs.frozen(kw_only=True)
class PartQuote:
    """A spare-part quote: ex-tax list price + tax + freight = total (DOMAIN.md 4)."""

    part_number: str = attrs.field(validator=instance_of(str, "a part number"))
    quantity: int
    unit_price: Money = attrs.field(validator=money)
    list_price: Money = attrs.field(validator=money)
    tax_rate: Decimal = attrs.field(validator=instance_of(Decimal))
    tax: Money = attrs.field(validator=money)
    freight: Money = attrs.field(validator=money)
    total: Money = attrs.field(validator=money)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _count(self.quantity, "quantity", problems, minimum=1)
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


def quote_part(part: SparePart, quantity: int, policy: WarrantyPolicy) -> PartQuote:
    """Quote ``quantity`` units of a spare part (DOMAIN.md 4, spare parts).

    Assembled parts cost ``policy.assembled_part_multiple`` times the finished product's
    dealer price; standard and wear parts cost their cost plus the policy's margin;
    IP-protected core parts are not sold (``RuleViolation("part_not_for_sale")``). Tax is
    ``policy.tax_rate`` of the ex-tax list price, rounded half-up to the minor unit.
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
    if part.kind is PartKind.ASSEMBLED:
        base, factor = part.dealer_price, policy.assembled_part_multiple
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
    )
