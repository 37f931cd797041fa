"""The facts of a warranty claim and the records kept with it (docs/domain.md 4).

:class:`WarrantyClaim` holds what the rules look at; :class:`ProductRecord` is the maker's
record of the product, and the repair, exchange, refund and override records are what a
:class:`~csdomain.warranty.case.WarrantyClaimCase` keeps of each remedy carried out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.validators import aware as _aware
from csdomain.validators import enum_value, text
from csdomain.warranty._checks import _count, _date, _flag, _Problems, _raise, _text


__all__ = [
    "Cause",
    "ExchangeRecord",
    "ProductRecord",
    "Proof",
    "RefundRecord",
    "Remedy",
    "RepairRecord",
    "ReplacedPart",
    "WarrantyClaim",
    "WarrantyOverride",
]


class Proof(StrEnum):
    """What the customer shows to prove the purchase (docs/domain.md 4, exclusion 4)."""

    INVOICE = "invoice"
    CERTIFICATE = "certificate"
    OTHER = "other"
    NONE = "none"


class Cause(StrEnum):
    """What caused the fault, established by inspection (docs/domain.md 4, exclusions 3, 5, 6)."""

    PERFORMANCE_FAULT = "performance_fault"
    MISUSE = "misuse"
    IMPROPER_INSTALLATION = "improper_installation"
    HUMAN_DAMAGE = "human_damage"
    FORCE_MAJEURE = "force_majeure"
    UNKNOWN = "unknown"


class Remedy(StrEnum):
    """The three guarantees: return (refund), exchange, repair (三包: 退货、更换、修理)."""

    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"


def _to_proof(value: Proof | str) -> Proof:
    return enum_value(Proof, value, "proof")


def _to_cause(value: Cause | str) -> Cause:
    return enum_value(Cause, value, "cause")


def _to_remedies(value: Iterable[Remedy | str]) -> frozenset[Remedy]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("remedies", "expected a set of remedies")
    return frozenset(enum_value(Remedy, item, "remedies") for item in value)


def _to_text_map(value: Mapping[str, str | int]) -> dict[str, str | int]:
    if not isinstance(value, Mapping):
        raise ValidationError.at("attributes", "expected a mapping of names to values")
    return dict(value)


# -- claims ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WarrantyClaim:
    """The facts of one warranty claim, as the rules see them (docs/domain.md 4).

    ``failed_repairs`` counts earlier repairs of the same fault that did not cure it;
    ``days_in_repair`` counts the days the product spent in repair or waiting for parts
    between the start of the count (purchase, or the last exchange) and the fault: the
    validity period leaves them out (扣除因修理占用和无零配件待修的时间); ``exchanged_on`` is
    the date of the last exchange under the guarantee, which restarts every window
    (换货后的三包有效期自换货之日起重新计算). ``days_awaiting_repair`` counts the days since
    the product was handed in for a repair that is not finished yet, ``awaiting_parts``
    says whether it waits for parts the maker did not supply (else the delay is the
    repairer's); ``last_repaired_on`` is when the last repair of the fault was finished
    (a repair guarantees 30 days of normal use). ``attributes`` carries industry facts
    for plugin rules (``{"mileage_km": 42_000}``). ``fault`` names what failed (a fault
    code or a short description, e.g. ``"E21 no power"``): one product has at most one
    active claim per fault (:attr:`fault_identity`).

    An invoice or certificate dates the purchase, so with ``proof`` ``invoice`` or
    ``certificate`` the ``purchase_date`` is required. With ``proof=other`` it may be
    ``None``: the customer proved the product is within the warranty period but not when it
    was bought (see :class:`RemedyWindows`).
    """

    product_serial: str
    category: str
    purchase_date: date | None
    proof: Proof = attrs.field(converter=_to_proof)
    fault_date: date
    cause: Cause = attrs.field(converter=_to_cause)
    certificate_serial: str | None = None
    certificate_altered: bool = False
    unauthorised_repair: bool = False
    failed_repairs: int = 0
    days_in_repair: int = 0
    exchanged_on: date | None = None
    attributes: Mapping[str, str | int] = attrs.field(factory=dict, converter=_to_text_map)
    days_awaiting_repair: int = 0
    awaiting_parts: bool = False
    last_repaired_on: date | None = None
    fault: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.product_serial, "product_serial", problems)
        _text(self.category, "category", problems)
        dates_ok = all(
            [
                _date(self.purchase_date, "purchase_date", problems, optional=True),
                _date(self.fault_date, "fault_date", problems, optional=False),
                _date(self.exchanged_on, "exchanged_on", problems, optional=True),
                _date(self.last_repaired_on, "last_repaired_on", problems, optional=True),
            ]
        )
        if self.certificate_serial is not None:
            _text(self.certificate_serial, "certificate_serial", problems)
        _flag(self.certificate_altered, "certificate_altered", problems)
        _flag(self.unauthorised_repair, "unauthorised_repair", problems)
        _count(self.failed_repairs, "failed_repairs", problems)
        _count(self.days_awaiting_repair, "days_awaiting_repair", problems)
        _flag(self.awaiting_parts, "awaiting_parts", problems)
        repair_days_ok = _count(self.days_in_repair, "days_in_repair", problems)
        for key, value in self.attributes.items():
            if not isinstance(key, str) or not key.strip():
                problems.append(("attributes", f"bad attribute name {describe(key)}"))
            elif isinstance(value, bool) or not isinstance(value, str | int):
                problems.append((f"attributes.{key}", "must be a string or an integer"))
        if self.proof in (Proof.INVOICE, Proof.CERTIFICATE) and self.purchase_date is None:
            problems.append(
                ("purchase_date", f"required: a {self.proof.value} gives the purchase date")
            )
        if dates_ok:
            problems += self._date_order_problems(repair_days_ok)
        _raise(problems)

    def _date_order_problems(self, check_repair_days: bool) -> _Problems:
        problems: _Problems = []
        if self.purchase_date is not None:
            if self.fault_date < self.purchase_date:
                problems.append(("fault_date", "is before the purchase date"))
            if self.exchanged_on is not None and self.exchanged_on < self.purchase_date:
                problems.append(("exchanged_on", "is before the purchase date"))
        if self.exchanged_on is not None and self.fault_date < self.exchanged_on:
            problems.append(("fault_date", "is before the exchange date"))
        if self.last_repaired_on is not None and self.fault_date < self.last_repaired_on:
            problems.append(("last_repaired_on", "is after the fault"))
        start = self.start_date
        if check_repair_days and start is not None and start <= self.fault_date:
            elapsed = (self.fault_date - start).days
            if self.days_in_repair > elapsed:
                problems.append(
                    ("days_in_repair", f"exceeds the {elapsed} days from {start} to the fault")
                )
        return problems

    @property
    def fault_identity(self) -> tuple[str, str]:
        """Which fault of which product the claim is about: the serial (upper case, no
        surrounding spaces) and the named ``fault`` (case-folded), else the fault date.

        Two claims with the same identity are claims for one fault (docs/domain.md 4:
        one active claim per product and fault).
        """
        named = " ".join(self.fault.split()).casefold()
        fault = f"fault:{named}" if named else f"on:{self.fault_date.isoformat()}"
        return self.product_serial.strip().upper(), fault

    @property
    def start_date(self) -> date | None:
        """Where the count starts: the last exchange date, else the purchase date."""
        return self.exchanged_on if self.exchanged_on is not None else self.purchase_date

    @property
    def days_since_repair(self) -> int | None:
        """Days from the last repair of the fault to the fault (``None``: no repair)."""
        if self.last_repaired_on is None:
            return None
        return (self.fault_date - self.last_repaired_on).days

    @property
    def warranty_day(self) -> int | None:
        """Day N of the fault: days from the start to the fault, less the days in repair.

        "Within 7 days" means ``warranty_day <= return_days``. ``None`` when no start date
        is known.
        """
        start = self.start_date
        if start is None:
            return None
        return (self.fault_date - start).days - self.days_in_repair


# -- claim records ---------------------------------------------------------------------


@attrs.frozen
class ProductRecord:
    """The maker's record of the product a claim is about (claim material, docs/domain.md 4)."""

    serial: str
    model: str
    category: str
    sold_on: date
    order_id: str | None = None

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.serial, "serial", problems)
        _text(self.model, "model", problems)
        _text(self.category, "category", problems)
        _date(self.sold_on, "sold_on", problems, optional=False)
        if self.order_id is not None:
            _text(self.order_id, "order_id", problems)
        _raise(problems)


@attrs.frozen(kw_only=True)
class ReplacedPart:
    """One part swapped during a repair, with both serials (defective-part record)."""

    part_number: str
    removed_serial: str
    installed_serial: str

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.part_number, "part_number", problems)
        _text(self.removed_serial, "removed_serial", problems)
        _text(self.installed_serial, "installed_serial", problems)
        _raise(problems)


@attrs.frozen(kw_only=True)
class RepairRecord:
    """One repair, complete and true: technician, time, work, parts replaced (docs/domain.md 4).

    ``fault_cleared`` is ``False`` for a repair that did not cure the fault; such repairs
    are what :attr:`WarrantyClaim.failed_repairs` counts on the next claim.
    """

    technician: str
    at: datetime = attrs.field(validator=_aware)
    work_done: str
    parts: tuple[ReplacedPart, ...] = ()
    fault_cleared: bool = True

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.technician, "technician", problems)
        _text(self.work_done, "work_done", problems)
        _flag(self.fault_cleared, "fault_cleared", problems)
        if not isinstance(self.parts, tuple):
            problems.append(("parts", "expected a tuple of replaced parts"))
        else:
            problems += [
                (f"parts.{i}", "expected a ReplacedPart")
                for i, part in enumerate(self.parts)
                if not isinstance(part, ReplacedPart)
            ]
        _raise(problems)


@attrs.frozen(kw_only=True)
class ExchangeRecord:
    """The product was exchanged for another unit; ``new_serial`` is the replacement's."""

    new_serial: str
    at: datetime = attrs.field(validator=_aware)
    note: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.new_serial, "new_serial", problems)
        _raise(problems)


@attrs.frozen(kw_only=True)
class RefundRecord:
    """The purchase price (or the agreed part of it) was refunded."""

    amount: Money
    at: datetime = attrs.field(validator=_aware)
    note: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.amount, Money):
            raise ValidationError.at("amount", "expected Money")


@attrs.frozen(kw_only=True)
class WarrantyOverride:
    """A manager's decision against the rules: the remedies granted and the written reason."""

    remedies: frozenset[Remedy] = attrs.field(converter=_to_remedies)
    reason: str
    by: str
    at: datetime = attrs.field(validator=_aware)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        if not self.remedies:
            problems.append(("remedies", "an override grants at least one remedy"))
        _text(self.reason, "reason", problems)
        _text(self.by, "by", problems)
        _raise(problems)
