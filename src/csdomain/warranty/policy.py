"""The numbers of the three guarantees: :class:`WarrantyPolicy` (``Policy().warranty``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.money import Money
from csdomain.validators import instance_of, integer, optional
from csdomain.warranty._checks import _count, _decimal_at_least, _Problems, _raise, _text


__all__ = ["BUILTIN_RULE_CODES", "WarrantyPolicy", "WarrantyTerms"]

#: Codes of the built-in rules, in the order they run.
BUILTIN_RULE_CODES: tuple[str, ...] = (
    "period_expired",
    "certificate_altered",
    "serial_mismatch",
    "misuse",
    "improper_installation",
    "no_proof_of_purchase",
    "human_damage",
    "force_majeure",
    "unauthorised_repair",
    "remedy_windows",
    "repair_delays",
    "repair_guarantee",
)


@attrs.frozen(kw_only=True)
class WarrantyTerms:
    """Per-category windows that differ from the general ones; ``None`` keeps the general value.

    The documents' windows (7 / 15 / 365 days, two failed repairs) are the general case;
    product catalogues give some categories other periods (docs/domain.md 4).
    """

    return_days: int | None = attrs.field(default=None, validator=optional(integer))
    exchange_days: int | None = attrs.field(default=None, validator=optional(integer))
    warranty_days: int | None = attrs.field(default=None, validator=optional(integer))
    max_failed_repairs: int | None = attrs.field(default=None, validator=optional(integer))


def _window_problems(
    prefix: str,
    return_days: object,
    exchange_days: object,
    warranty_days: object,
    max_failed: object,
) -> _Problems:
    problems: _Problems = []
    counts = [
        _count(return_days, f"{prefix}return_days", problems),
        _count(exchange_days, f"{prefix}exchange_days", problems),
        _count(warranty_days, f"{prefix}warranty_days", problems, minimum=1),
    ]
    _count(max_failed, f"{prefix}max_failed_repairs", problems, minimum=1)
    if (
        all(counts)
        and isinstance(return_days, int)
        and isinstance(exchange_days, int)
        and isinstance(warranty_days, int)
    ):
        if exchange_days < return_days:
            problems.append((f"{prefix}exchange_days", "must not be shorter than return_days"))
        if warranty_days < exchange_days:
            problems.append((f"{prefix}warranty_days", "must not be shorter than exchange_days"))
    return problems


@attrs.frozen(kw_only=True)
class WarrantyPolicy:
    """Every number of the three guarantees (docs/domain.md 4 and 10).

    The documents name the three guarantees without their numbers: the windows (7 / 15 /
    365 days, two failed repairs) and the repair delays come from the national
    regulation 部分商品修理更换退货责任规定 (docs/domain.md 10); ``docs/policy.md`` gives
    each value's source. Windows are counted in days (see
    :attr:`WarrantyClaim.warranty_day`): the period leaves out the days in repair and
    waiting for parts, and restarts after an exchange. A repair still unfinished after
    ``parts_wait_exchange_days`` for want of parts, or after
    ``repair_overrun_exchange_days`` through the repairer's fault, is exchanged free; a
    repair guarantees ``repair_guarantee_days`` of normal use. ``rules`` lists
    the active built-in rules by code; rules from plugins always run (block the plugin to
    switch them off). ``version`` is recorded with every decision. Spare-part pricing:
    assembled parts cost ``assembled_part_multiple`` times the finished product's dealer
    price, standard and wear parts carry a markup on cost (zero by default: "minimal/zero
    margin"), tax is ``tax_rate`` of the ex-tax list price and ``freight`` is added per
    quote (orders ship free by default, docs/domain.md 2). Fraud control flags a service point
    whose claim rate exceeds a reference by more than ``outlier_ratio`` times, counting only
    rates over at least ``outlier_min_units`` units; the documents give no number for these
    two.
    """

    #: 7 days: return, exchange or repair (部分商品修理更换退货责任规定 art. 9).
    return_days: int = 7
    #: 15 days: exchange or repair (art. 10).
    exchange_days: int = 15
    #: The validity period: repair (e.g. one year for a whole unit).
    warranty_days: int = 365
    #: Still failing after 2 repairs: exchange or return (art. 11).
    max_failed_repairs: int = 2
    #: Not repaired more than 90 days after submission for want of parts: free exchange
    #: (art. 12).
    parts_wait_exchange_days: int = 90
    #: A repair over 30 days through the repairer's own fault: free exchange (art. 12).
    repair_overrun_exchange_days: int = 30
    #: A repair guarantees 30 days of normal use (the repairer's duties).
    repair_guarantee_days: int = 30
    category_overrides: Mapping[str, WarrantyTerms] = attrs.field(factory=dict)
    rules: tuple[str, ...] = BUILTIN_RULE_CODES
    version: str = "1"
    #: Warranty claim numbers: a naming series restarting every month.
    claim_number_pattern: str = attrs.field(
        default="WC-{yyyy}{mm}-{seq:04d}", validator=instance_of(str, "a naming pattern")
    )
    currency: str = attrs.field(default="CNY", validator=instance_of(str, "a currency code"))
    assembled_part_multiple: Decimal = Decimal(2)
    standard_part_margin: Decimal = Decimal(0)
    wear_part_margin: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal("0.13")
    freight: Decimal = Decimal(0)
    outlier_ratio: Decimal = Decimal("1.5")
    outlier_min_units: int = 1

    def __attrs_post_init__(self) -> None:
        problems = _window_problems(
            "", self.return_days, self.exchange_days, self.warranty_days, self.max_failed_repairs
        )
        if not isinstance(self.category_overrides, Mapping):
            problems.append(("category_overrides", "expected a mapping of category to terms"))
        else:
            for name, terms in self.category_overrides.items():
                if not isinstance(name, str) or not name.strip():
                    problems.append(("category_overrides", f"bad category name {describe(name)}"))
                    continue
                if not isinstance(terms, WarrantyTerms):
                    problems.append((f"category_overrides.{name}", "expected WarrantyTerms"))
                    continue
                problems += _window_problems(
                    f"category_overrides.{name}.",
                    self.return_days if terms.return_days is None else terms.return_days,
                    self.exchange_days if terms.exchange_days is None else terms.exchange_days,
                    self.warranty_days if terms.warranty_days is None else terms.warranty_days,
                    self.max_failed_repairs
                    if terms.max_failed_repairs is None
                    else terms.max_failed_repairs,
                )
        if not isinstance(self.rules, tuple):
            problems.append(("rules", "expected a tuple of rule codes"))
        else:
            seen: set[str] = set()
            for i, code in enumerate(self.rules):
                if code not in BUILTIN_RULE_CODES:
                    problems.append((f"rules.{i}", f"unknown built-in rule {describe(code)}"))
                elif code in seen:
                    problems.append((f"rules.{i}", f"rule {code!r} is listed twice"))
                else:
                    seen.add(code)
        _text(self.version, "version", problems)
        before = len(problems)
        _decimal_at_least(self.freight, Decimal(0), "freight", problems)
        if len(problems) == before:
            try:
                Money(self.freight, self.currency)
            except ValidationError as err:
                problems += [("freight" if p == "amount" else p, m) for p, m in err.errors]
        _decimal_at_least(
            self.assembled_part_multiple, Decimal(1), "assembled_part_multiple", problems
        )
        _decimal_at_least(self.standard_part_margin, Decimal(0), "standard_part_margin", problems)
        _decimal_at_least(self.wear_part_margin, Decimal(0), "wear_part_margin", problems)
        _decimal_at_least(self.tax_rate, Decimal(0), "tax_rate", problems)
        _decimal_at_least(self.outlier_ratio, Decimal(1), "outlier_ratio", problems)
        _count(self.outlier_min_units, "outlier_min_units", problems, minimum=1)
        for name in (
            "parts_wait_exchange_days",
            "repair_overrun_exchange_days",
            "repair_guarantee_days",
        ):
            _count(getattr(self, name), name, problems, minimum=1)
        _raise(problems)

    def for_category(self, name: str) -> WarrantyPolicy:
        """The effective policy for a product category: its overrides applied, else ``self``."""
        terms = self.category_overrides.get(name)
        if terms is None:
            return self
        changes = {k: v for k, v in attrs.asdict(terms).items() if v is not None}
        return attrs.evolve(self, **changes) if changes else self
