"""What a job costs the customer: charge lines, quotes, approval and the settlement.

Within warranty the customer pays nothing and a warranty claim, decided by the rules
engine, carries the cost; installation, user training and planned maintenance of a
product within warranty are part of the service promise. Outside warranty the fee
schedule (服务收费标准) applies: a call-out fee and a distance-band fee per on-site visit,
labour by the minute, parts at their quote price (:func:`csdomain.warranty.quote_part`).
:func:`price_work` prices work line by line; a :class:`ServiceQuote` is the price before
the work, a :class:`QuoteApproval` the customer's yes, and a :class:`Settlement` the
final account with the cash the technician collected (单单结: each job settled).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import attrs

from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice.policy import FieldServicePolicy
from csdomain.fieldservice.visits import PartUse
from csdomain.money import Money
from csdomain.validators import (
    as_tuple,
    aware,
    enum_value,
    instance_of,
    not_blank,
    optional_text,
    text,
    tuple_of,
)
from csdomain.warranty import WarrantyPolicy, quote_part


__all__ = [
    "ChargeKind",
    "ChargeLine",
    "Coverage",
    "QuoteApproval",
    "ServiceQuote",
    "Settlement",
    "price_work",
    "total_of",
]


class ChargeKind(StrEnum):
    """What a charge line is for."""

    CALL_OUT = "call_out"
    DISTANCE = "distance"
    LABOUR = "labour"
    PART = "part"


class Coverage(StrEnum):
    """Who carries the cost of a job."""

    #: The customer pays by the fee schedule.
    CUSTOMER = "customer"
    #: A warranty claim the rules cover carries it.
    WARRANTY = "warranty"
    #: Installation, training or planned maintenance within warranty: part of the promise.
    INCLUDED = "included"


def _charge_kind(value: object) -> ChargeKind:
    return enum_value(ChargeKind, value, "kind")


def _coverage(value: object) -> Coverage:
    return enum_value(Coverage, value, "coverage")


@attrs.frozen(kw_only=True)
class ChargeLine:
    """One line of a quote or settlement."""

    kind: ChargeKind = attrs.field(converter=_charge_kind)
    label: str = attrs.field(validator=not_blank)
    amount: Money = attrs.field(validator=instance_of(Money))


def _lines(
    _instance: object, attribute: attrs.Attribute[tuple[ChargeLine, ...]], value: object
) -> None:
    tuple_of(ChargeLine)(_instance, attribute, value)


def _sum(lines: Iterable[ChargeLine], currency: str) -> Money:
    return Money.total((line.amount for line in lines), currency)


def _check_total(lines: tuple[ChargeLine, ...], total: Money) -> None:
    if not isinstance(total, Money):
        raise ValidationError.at("total", f"expected Money, got {describe(total)}")
    if _sum(lines, total.currency) != total:
        raise ValidationError.at("total", "is not the sum of the lines")


@attrs.frozen(kw_only=True)
class ServiceQuote:
    """A price given before the work, line by line, with who gave it and when."""

    lines: tuple[ChargeLine, ...] = attrs.field(converter=as_tuple, validator=_lines)
    total: Money = attrs.field(validator=instance_of(Money))
    coverage: Coverage = attrs.field(default=Coverage.CUSTOMER, converter=_coverage)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)

    def __attrs_post_init__(self) -> None:
        _check_total(self.lines, self.total)


@attrs.frozen(kw_only=True)
class QuoteApproval:
    """The customer's approval of a quote: who approved, when, and a reference."""

    approved_by: str = attrs.field(validator=not_blank)
    at: datetime = attrs.field(validator=aware)
    reference: str = attrs.field(default="", validator=text)


@attrs.frozen(kw_only=True)
class Settlement:
    """The final account of a job (单单结): lines, total, cash collected, the rest invoiced.

    ``total`` is always the sum of ``lines``; ``collected`` is the cash the technician
    collected and handed over, never more than the total; ``invoiced`` is what is billed.
    """

    lines: tuple[ChargeLine, ...] = attrs.field(converter=as_tuple, validator=_lines)
    total: Money = attrs.field(validator=instance_of(Money))
    coverage: Coverage = attrs.field(converter=_coverage)
    collected: Money = attrs.field(validator=instance_of(Money))
    warranty_claim_id: str | None = attrs.field(default=None, validator=optional_text)
    collected_by: str | None = attrs.field(default=None, validator=optional_text)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)

    def __attrs_post_init__(self) -> None:
        _check_total(self.lines, self.total)
        if self.collected.currency != self.total.currency:
            raise ValidationError.at("collected", f"must be in {self.total.currency}")
        if self.collected > self.total:
            raise RuleViolation(
                "collection_exceeds_total",
                f"{self.collected} collected is more than the total {self.total}",
                collected=str(self.collected),
                total=str(self.total),
            )

    @property
    def invoiced(self) -> Money:
        """What is billed on account: the total less the cash collected."""
        return self.total - self.collected


def price_work(
    *,
    on_site_visits: int,
    distance_km: int | None,
    labour_minutes: int,
    parts: Iterable[PartUse],
    coverage: Coverage,
    policy: FieldServicePolicy,
    warranty: WarrantyPolicy,
) -> tuple[ChargeLine, ...]:
    """The charge lines of some work under the fee schedule.

    Outside warranty (``coverage=customer``): a call-out fee and the distance band's fee
    per on-site visit (no distance fee while the distance is unknown), labour at the
    hourly rate by the minute (rounded half-up to the minor unit), each part at its quote
    price (:func:`~csdomain.warranty.quote_part`, an assembled part over its service BOM;
    IP-protected core parts are never priced, ``part_not_for_sale``). Covered work has
    the same lines at zero, so the record of what was done stays complete.
    """
    fees = policy.fees
    free = coverage is not Coverage.CUSTOMER
    zero = Money.zero(policy.currency)

    def price(value: Decimal | Money) -> Money:
        if free:
            return zero
        return value if isinstance(value, Money) else policy.money(value)

    lines: list[ChargeLine] = []
    if on_site_visits:
        call_out = policy.money(fees.call_out_fee) * on_site_visits
        lines.append(
            ChargeLine(
                kind=ChargeKind.CALL_OUT,
                label=f"call-out fee x {on_site_visits}",
                amount=price(call_out),
            )
        )
        if distance_km is not None:
            band = policy.money(fees.distance_fee(distance_km)) * on_site_visits
            lines.append(
                ChargeLine(
                    kind=ChargeKind.DISTANCE,
                    label=f"distance {distance_km} km x {on_site_visits}",
                    amount=price(band),
                )
            )
    if labour_minutes:
        labour = policy.money(fees.labour_per_hour) * (Decimal(labour_minutes) / 60)
        lines.append(
            ChargeLine(
                kind=ChargeKind.LABOUR,
                label=f"labour {labour_minutes} min",
                amount=price(labour),
            )
        )
    for use in parts:
        if free:
            amount = zero
        else:
            amount = quote_part(use.part, use.quantity, warranty, bom=use.bom).total
            if amount.currency != policy.currency:
                raise ValidationError.at(
                    "parts", f"part {describe(use.part_number)} is priced in {amount.currency}"
                )
        lines.append(
            ChargeLine(
                kind=ChargeKind.PART,
                label=f"{use.part_number} x {use.quantity}",
                amount=amount,
            )
        )
    return tuple(lines)


def total_of(lines: Iterable[ChargeLine], currency: str) -> Money:
    """The sum of ``lines`` in ``currency``."""
    return _sum(lines, currency)
