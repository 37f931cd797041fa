"""Product files (产品档案): the installed base, "the first base data set".

The handbook: without product files there is no after-sales service. A
:class:`ProductFile` is the stored record of one product unit: serial, model, category,
customer, where it stands (address and service area), when it was sold and installed,
when its warranty ends, and its service history. It is created from a shipped order
(:func:`product_files_from_order`) or registered by hand and maintained by after-sales;
every service order refers to one, and a warranty claim is made from it
(:meth:`ProductFile.product_record`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import attrs

from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice.classification import ServiceOrderKind
from csdomain.orders import REDACTED, Order
from csdomain.validators import (
    as_tuple,
    aware,
    day,
    enum_value,
    flag,
    not_blank,
    optional,
    optional_text,
    text,
    tuple_of,
)
from csdomain.warranty import ProductRecord, Proof, WarrantyPolicy


__all__ = [
    "MAINTAINED_FIELDS",
    "ProductFile",
    "ProductFileChange",
    "ServiceHistoryEntry",
    "ShippedUnit",
    "product_files_from_order",
]


def _kind(value: object) -> ServiceOrderKind:
    return enum_value(ServiceOrderKind, value, "kind")


def _proof(value: object) -> Proof:
    return enum_value(Proof, value, "proof")


@attrs.frozen(kw_only=True)
class ServiceHistoryEntry:
    """One finished job on a product (the repair card's line, 维修卡)."""

    job_id: str = attrs.field(validator=not_blank)
    kind: ServiceOrderKind = attrs.field(converter=_kind)
    at: datetime = attrs.field(validator=aware)
    summary: str = attrs.field(default="", validator=text)
    fault_cleared: bool = attrs.field(default=True, validator=flag)


@attrs.frozen(kw_only=True)
class ProductFileChange:
    """One change of a product file by after-sales: which field, from what, to what, who."""

    field: str = attrs.field(validator=not_blank)
    old: str = attrs.field(validator=text)
    new: str = attrs.field(validator=text)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)
    reason: str = attrs.field(default="", validator=text)


#: The fields after-sales maintains on a product file (:meth:`ProductFile.maintained`):
#: where the unit stands, who owns it now, when it was installed.
MAINTAINED_FIELDS: frozenset[str] = frozenset(
    {"address", "service_area_id", "customer_id", "installed_on"}
)


@attrs.frozen(kw_only=True)
class ProductFile:
    """The stored record of one product unit (产品档案), keyed by its serial.

    ``warranty_ends`` is the last day of the warranty period; ``proof`` is what documents
    the sale (an invoice for a shipped order). ``history`` lists the finished jobs, oldest
    first.
    """

    serial: str = attrs.field(validator=not_blank)
    model: str = attrs.field(validator=not_blank)
    category: str = attrs.field(validator=not_blank)
    customer_id: str = attrs.field(validator=not_blank)
    address: str = attrs.field(validator=text)
    service_area_id: str = attrs.field(validator=not_blank)
    sold_on: date = attrs.field(validator=day)
    warranty_ends: date = attrs.field(validator=day)
    installed_on: date | None = attrs.field(default=None, validator=optional(day))
    order_id: str | None = attrs.field(default=None, validator=optional_text)
    proof: Proof = attrs.field(default=Proof.INVOICE, converter=_proof)
    history: tuple[ServiceHistoryEntry, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ServiceHistoryEntry)
    )
    registered_at: datetime = attrs.field(validator=aware)
    registered_by: str = attrs.field(validator=not_blank)
    #: After-sales' changes of the file, oldest first (the old values are kept, not lost).
    changes: tuple[ProductFileChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(ProductFileChange)
    )

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if self.warranty_ends < self.sold_on:
            problems.append(("warranty_ends", "is before the sale"))
        if self.installed_on is not None and self.installed_on < self.sold_on:
            problems.append(("installed_on", "is before the sale"))
        if problems:
            raise ValidationError(problems)

    def redacted(self) -> ProductFile:
        """The file as an actor without ``customer.read`` sees it: the address reads
        ``[redacted]`` (docs/domain.md 1, 保护客户隐私); the product facts stay."""
        if not self.address.strip():
            return self
        return attrs.evolve(self, address=REDACTED)

    def within_warranty(self, on: date) -> bool:
        """Whether ``on`` (a local date) falls within the warranty period."""
        return self.sold_on <= on <= self.warranty_ends

    def product_record(self) -> ProductRecord:
        """The product record a warranty claim about this unit carries."""
        return ProductRecord(
            serial=self.serial,
            model=self.model,
            category=self.category,
            sold_on=self.sold_on,
            order_id=self.order_id,
        )

    def with_service(self, entry: ServiceHistoryEntry) -> ProductFile:
        """This file with one more finished job in its history (回公司将维修情况登记入表)."""
        if not isinstance(entry, ServiceHistoryEntry):
            raise ValidationError.at(
                "entry", f"expected a ServiceHistoryEntry, got {describe(entry)}"
            )
        return attrs.evolve(self, history=(*self.history, entry))

    def maintained(
        self, *, at: datetime, by: str, reason: str = "", **fields: object
    ) -> ProductFile:
        """The file after after-sales changed some of :data:`MAINTAINED_FIELDS` (产品档案由
        售后维护, docs/domain.md 8); each change is kept in :attr:`changes` with its old value.

        A field outside :data:`MAINTAINED_FIELDS` (the serial, model, sale) is refused; a
        change to the value it has already writes nothing.
        """
        unknown = sorted(set(fields) - MAINTAINED_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(MAINTAINED_FIELDS))
            raise ValidationError(
                [(name, f"not maintained here (only {allowed})") for name in unknown]
            )
        changed = {name: value for name, value in fields.items() if getattr(self, name) != value}
        if not changed:
            return self
        log = tuple(
            ProductFileChange(
                field=name,
                old="" if getattr(self, name) is None else str(getattr(self, name)),
                new="" if value is None else str(value),
                at=at,
                by=by,
                reason=reason,
            )
            for name, value in sorted(changed.items())
        )
        return attrs.evolve(self, changes=(*self.changes, *log), **changed)  # type: ignore[arg-type]

    def with_installation(self, on: date) -> ProductFile:
        """This file with its installation date recorded."""
        return attrs.evolve(self, installed_on=on)


@attrs.frozen(kw_only=True)
class ShippedUnit:
    """One unit of a shipped order line, with the serial number it went out with."""

    serial: str = attrs.field(validator=not_blank)
    sku: str = attrs.field(validator=not_blank)
    category: str = attrs.field(validator=not_blank)
    model: str | None = attrs.field(default=None, validator=optional_text)


def product_files_from_order(
    order: Order,
    units: Iterable[ShippedUnit],
    *,
    address: str,
    service_area_id: str,
    sold_on: date,
    warranty: WarrantyPolicy,
    at: datetime,
    by: str,
) -> tuple[ProductFile, ...]:
    """The product files of a shipped order's units (created from shipped orders).

    Each unit must be of a SKU the order shipped, and no SKU gets more units than were
    shipped (``units_exceed_shipment``); an order that has not shipped has no units
    (``order_not_shipped``). The model is the unit's model, else its SKU; the warranty
    ends ``warranty_days`` of the unit's category after ``sold_on``; the sale is proved
    by the order's invoice.
    """
    if not order.shipments:
        raise RuleViolation(
            "order_not_shipped",
            f"order {describe(order.id)} has not shipped: it has no units to register",
            order_id=order.id,
        )
    shipped: Counter[str] = Counter()
    for shipment in order.shipments:
        for line in shipment.lines:
            shipped[line.sku] += line.quantity
    given = tuple(units)
    wanted = Counter(unit.sku for unit in given)
    for sku, count in sorted(wanted.items()):
        if count > shipped.get(sku, 0):
            raise RuleViolation(
                "units_exceed_shipment",
                f"order {describe(order.id)} shipped {shipped.get(sku, 0)} of "
                f"{describe(sku)}, not {count}",
                order_id=order.id,
                sku=sku,
            )
    serials = Counter(unit.serial for unit in given)
    twice = sorted(serial for serial, n in serials.items() if n > 1)
    if twice:
        raise ValidationError.at("units", f"serial {describe(twice[0])} is listed twice")
    return tuple(
        ProductFile(
            serial=unit.serial,
            model=unit.model or unit.sku,
            category=unit.category,
            customer_id=order.customer_id,
            address=address,
            service_area_id=service_area_id,
            sold_on=sold_on,
            warranty_ends=sold_on
            + timedelta(days=warranty.for_category(unit.category).warranty_days),
            order_id=order.id,
            proof=Proof.INVOICE,
            registered_at=at,
            registered_by=by,
        )
        for unit in given
    )
