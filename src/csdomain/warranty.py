"""Warranty and the "three guarantees" (三包: 修理、更换、退货), DOMAIN.md section 4.

The module has four parts, all pure:

- **Decisions.** :func:`evaluate_claim` runs small :class:`WarrantyRule` objects over a
  :class:`WarrantyClaim` and combines what they find into a :class:`WarrantyDecision`:
  ``covered``, the ``remedies`` the customer may choose from and the ``reasons`` (stable
  codes plus a sentence each) that explain it, stamped with the policy version. The
  built-in rules are the documents' seven exclusions and the remedy ladder (refund,
  exchange or repair within the return window; exchange or repair within the exchange
  window; repair within the warranty period, exchange or refund after repeated failed
  repairs). Industry plugins add rules through the ``csdomain_warranty_rules`` hook.
- **Claims as records.** :class:`WarrantyClaimCase` is the stored aggregate: submitted
  with its product record and customer, evaluated, approved or overridden (with
  authority and a written reason), repaired / exchanged / refunded, closed.
- **Fraud control.** :func:`claim_rate_outliers` compares each service point's claim rate
  with its regional peers, its own history and the production-quality trend, streaming.
- **Spare parts.** :func:`quote_part` prices a part by its kind and shows list price,
  tax and freight line by line.

Numbers come from :class:`WarrantyPolicy` (``Policy().warranty``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.errors import CurrencyMismatch, PluginError, RuleViolation, ValidationError
from csdomain.events import Event
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.money import Money
from csdomain.validators import aware as _aware


if TYPE_CHECKING:
    import pluggy

__all__ = [
    "BUILTIN_RULES",
    "BUILTIN_RULE_CODES",
    "WARRANTY_CLAIM_TRANSITIONS",
    "Cause",
    "CauseExcluded",
    "CertificateAltered",
    "Comparison",
    "Effect",
    "ExchangeRecord",
    "NoProofOfPurchase",
    "OutlierFlag",
    "PartKind",
    "PartQuote",
    "PeriodExpired",
    "ProductRecord",
    "Proof",
    "QualityTrend",
    "QuoteLine",
    "Reason",
    "RefundRecord",
    "Remedy",
    "RemedyWindows",
    "RepairRecord",
    "ReplacedPart",
    "SerialMismatch",
    "ServicePointPeriod",
    "SparePart",
    "UnauthorisedRepair",
    "WarrantyClaim",
    "WarrantyClaimApproved",
    "WarrantyClaimCase",
    "WarrantyClaimClosed",
    "WarrantyClaimEvaluated",
    "WarrantyClaimExchanged",
    "WarrantyClaimOutcome",
    "WarrantyClaimOverridden",
    "WarrantyClaimRefunded",
    "WarrantyClaimRepaired",
    "WarrantyClaimStatus",
    "WarrantyClaimSubmitted",
    "WarrantyDecision",
    "WarrantyOverride",
    "WarrantyPolicy",
    "WarrantyRule",
    "WarrantyTerms",
    "claim_rate_outliers",
    "evaluate_claim",
    "event_for_last_change",
    "quote_part",
    "rules_from_plugins",
]

E = TypeVar("E", bound=StrEnum)
_Problems = list[tuple[str, str]]


# -- enums -----------------------------------------------------------------------------


class Proof(StrEnum):
    """What the customer shows to prove the purchase (DOMAIN.md 4, exclusion 4)."""

    INVOICE = "invoice"
    CERTIFICATE = "certificate"
    OTHER = "other"
    NONE = "none"


class Cause(StrEnum):
    """What caused the fault, as established by inspection (DOMAIN.md 4, exclusions 3, 5, 6)."""

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


class Effect(StrEnum):
    """What a :class:`Reason` does to the decision."""

    #: The claim is not covered, whatever else applies.
    EXCLUDES = "excludes"
    #: Adds the reason's remedies to those the customer may choose from.
    GRANTS = "grants"
    #: Keeps only the reason's remedies (applied after every grant).
    LIMITS = "limits"
    #: Explains without changing the outcome.
    NOTE = "note"


# -- small validation helpers ----------------------------------------------------------


def _enum(cls: type[E], value: object, path: str) -> E:
    if isinstance(value, cls):
        return value
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(member.value) for member in cls)
        raise ValidationError.at(path, f"{value!r} is not one of {allowed}") from None


def _to_proof(value: Proof | str) -> Proof:
    return _enum(Proof, value, "proof")


def _to_cause(value: Cause | str) -> Cause:
    return _enum(Cause, value, "cause")


def _to_effect(value: Effect | str) -> Effect:
    return _enum(Effect, value, "effect")


def _to_part_kind(value: PartKind | str) -> PartKind:
    return _enum(PartKind, value, "kind")


def _to_remedies(value: Iterable[Remedy | str]) -> frozenset[Remedy]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError.at("remedies", "expected a set of remedies")
    return frozenset(_enum(Remedy, item, "remedies") for item in value)


def _to_text_map(value: Mapping[str, str | int]) -> dict[str, str | int]:
    if not isinstance(value, Mapping):
        raise ValidationError.at("attributes", "expected a mapping of names to values")
    return dict(value)


def _text(value: object, path: str, problems: _Problems) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.append((path, "must be a non-empty string"))


def _count(value: object, path: str, problems: _Problems, minimum: int = 0) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, f"must be an integer, got {type(value).__name__}"))
        return False
    if value < minimum:
        problems.append((path, f"must be at least {minimum}, got {value}"))
        return False
    return True


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _date(value: object, path: str, problems: _Problems, *, optional: bool) -> bool:
    if value is None and optional:
        return True
    if not _is_date(value):
        problems.append((path, f"must be a date, got {type(value).__name__}"))
        return False
    return True


def _flag(value: object, path: str, problems: _Problems) -> None:
    if not isinstance(value, bool):
        problems.append((path, f"must be true or false, got {type(value).__name__}"))


def _decimal_at_least(value: object, minimum: Decimal, path: str, problems: _Problems) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        problems.append((path, f"must be a Decimal, got {type(value).__name__}"))
    elif isinstance(value, Decimal) and not value.is_finite():
        problems.append((path, f"must be finite, got {value}"))
    elif value < minimum:
        problems.append((path, f"must be at least {minimum}, got {value}"))


def _raise(problems: _Problems) -> None:
    if problems:
        raise ValidationError(problems)


def _same_serial(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()


def _names(remedies: Iterable[Remedy]) -> str:
    given = set(remedies)
    ordered = [r.value for r in Remedy if r in given]
    if not ordered:
        return "no remedy"
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


# -- policy ----------------------------------------------------------------------------

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
)


@attrs.frozen(kw_only=True)
class WarrantyTerms:
    """Per-category windows that differ from the general ones; ``None`` keeps the general value.

    The documents' windows (7 / 15 / 365 days, two failed repairs) are the general case;
    product catalogues give some categories other periods (DOMAIN.md 4).
    """

    return_days: int | None = None
    exchange_days: int | None = None
    warranty_days: int | None = None
    max_failed_repairs: int | None = None


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
    """Every number of the three guarantees, with the documents' defaults (DOMAIN.md 4).

    Windows are counted in days (see :attr:`WarrantyClaim.warranty_day`). ``rules`` lists
    the active built-in rules by code; rules from plugins always run (block the plugin to
    switch them off). ``version`` is recorded with every decision. Spare-part pricing:
    assembled parts cost ``assembled_part_multiple`` times the finished product's dealer
    price, standard and wear parts carry a markup on cost (zero by default: "minimal/zero
    margin"), tax is ``tax_rate`` of the ex-tax list price and ``freight`` is added per
    quote (orders ship free by default, DOMAIN.md 2). Fraud control flags a service point
    whose claim rate exceeds a reference by more than ``outlier_ratio`` times, counting only
    rates over at least ``outlier_min_units`` units; the documents give no number for these
    two.
    """

    return_days: int = 7
    exchange_days: int = 15
    warranty_days: int = 365
    max_failed_repairs: int = 2
    category_overrides: Mapping[str, WarrantyTerms] = attrs.field(factory=dict)
    rules: tuple[str, ...] = BUILTIN_RULE_CODES
    version: str = "1"
    #: Warranty claim numbers: a naming series restarting every month.
    claim_number_pattern: str = "WC-{yyyy}{mm}-{seq:04d}"
    currency: str = "CNY"
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
                    problems.append(("category_overrides", f"bad category name {name!r}"))
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
                    problems.append((f"rules.{i}", f"unknown built-in rule {code!r}"))
                elif code in seen:
                    problems.append((f"rules.{i}", f"rule {code!r} is listed twice"))
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
        _raise(problems)

    def for_category(self, name: str) -> WarrantyPolicy:
        """The effective policy for a product category: its overrides applied, else ``self``."""
        terms = self.category_overrides.get(name)
        if terms is None:
            return self
        changes = {k: v for k, v in attrs.asdict(terms).items() if v is not None}
        return attrs.evolve(self, **changes) if changes else self


# -- claims ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WarrantyClaim:
    """The facts of one warranty claim, as the rules see them (DOMAIN.md 4).

    ``failed_repairs`` counts earlier repairs of the same fault that did not cure it;
    ``days_in_repair`` counts the days the product spent in repair between the start of the
    count (purchase, or the last exchange) and the fault; ``exchanged_on`` is the date of
    the last exchange under the guarantee, which restarts every window. ``attributes``
    carries industry facts for plugin rules (``{"mileage_km": 42_000}``).

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

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.product_serial, "product_serial", problems)
        _text(self.category, "category", problems)
        dates_ok = all(
            [
                _date(self.purchase_date, "purchase_date", problems, optional=True),
                _date(self.fault_date, "fault_date", problems, optional=False),
                _date(self.exchanged_on, "exchanged_on", problems, optional=True),
            ]
        )
        if self.certificate_serial is not None:
            _text(self.certificate_serial, "certificate_serial", problems)
        _flag(self.certificate_altered, "certificate_altered", problems)
        _flag(self.unauthorised_repair, "unauthorised_repair", problems)
        _count(self.failed_repairs, "failed_repairs", problems)
        repair_days_ok = _count(self.days_in_repair, "days_in_repair", problems)
        for key, value in self.attributes.items():
            if not isinstance(key, str) or not key.strip():
                problems.append(("attributes", f"bad attribute name {key!r}"))
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
        start = self.start_date
        if check_repair_days and start is not None and start <= self.fault_date:
            elapsed = (self.fault_date - start).days
            if self.days_in_repair > elapsed:
                problems.append(
                    ("days_in_repair", f"exceeds the {elapsed} days from {start} to the fault")
                )
        return problems

    @property
    def start_date(self) -> date | None:
        """Where the count starts: the last exchange date, else the purchase date."""
        return self.exchanged_on if self.exchanged_on is not None else self.purchase_date

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


def _start_label(claim: WarrantyClaim) -> str:
    return "exchange" if claim.exchanged_on is not None else "purchase"


# -- reasons and decisions -------------------------------------------------------------

_CODE = re.compile(r"[a-z][a-z0-9_]*")


@attrs.frozen
class Reason:
    """One finding of a rule: a stable snake_case ``code``, a sentence, and its effect."""

    code: str
    message: str
    effect: Effect = attrs.field(default=Effect.NOTE, converter=_to_effect)
    remedies: frozenset[Remedy] = attrs.field(factory=frozenset, converter=_to_remedies)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            problems.append(("code", f"must be a snake_case code, got {self.code!r}"))
        _text(self.message, "message", problems)
        if self.effect in (Effect.EXCLUDES, Effect.NOTE) and self.remedies:
            problems.append(("remedies", f"a reason that {self.effect.value} names no remedies"))
        if self.effect is Effect.GRANTS and not self.remedies:
            problems.append(("remedies", "a granting reason names at least one remedy"))
        _raise(problems)

    @classmethod
    def excludes(cls, code: str, message: str) -> Reason:
        """A reason that takes the claim out of the guarantee."""
        return cls(code, message, Effect.EXCLUDES)

    @classmethod
    def grants(cls, code: str, message: str, *remedies: Remedy) -> Reason:
        """A reason that lets the customer choose among ``remedies``."""
        return cls(code, message, Effect.GRANTS, frozenset(remedies))

    @classmethod
    def limits(cls, code: str, message: str, *remedies: Remedy) -> Reason:
        """A reason that keeps only ``remedies`` of those granted."""
        return cls(code, message, Effect.LIMITS, frozenset(remedies))

    @classmethod
    def note(cls, code: str, message: str) -> Reason:
        """A reason that explains without changing the outcome."""
        return cls(code, message, Effect.NOTE)


@attrs.frozen(kw_only=True)
class WarrantyDecision:
    """The outcome of :func:`evaluate_claim`: covered or not, the remedies, and why.

    ``remedies`` is empty exactly when the claim is not covered; ``reasons`` is never empty.
    ``policy_version`` is the :attr:`WarrantyPolicy.version` the decision was made under
    and ``warranty_day`` the day number it was counted on (``None`` when no date is known).
    """

    covered: bool
    remedies: frozenset[Remedy] = attrs.field(converter=_to_remedies)
    reasons: tuple[Reason, ...]
    policy_version: str
    warranty_day: int | None = None

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        if not isinstance(self.reasons, tuple) or not self.reasons:
            problems.append(("reasons", "every decision states at least one reason"))
        else:
            problems += [
                (f"reasons.{i}", "expected a Reason")
                for i, reason in enumerate(self.reasons)
                if not isinstance(reason, Reason)
            ]
        if self.covered and not self.remedies:
            problems.append(("remedies", "a covered claim has at least one remedy"))
        if not self.covered and self.remedies:
            problems.append(("remedies", "a claim that is not covered has no remedies"))
        if self.covered and self.exclusions:
            problems.append(("covered", "a claim with an exclusion is not covered"))
        _text(self.policy_version, "policy_version", problems)
        _raise(problems)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`reasons`, in order."""
        return tuple(reason.code for reason in self.reasons)

    @property
    def exclusions(self) -> tuple[Reason, ...]:
        """The reasons that exclude the claim from the guarantee."""
        return tuple(r for r in self.reasons if r.effect is Effect.EXCLUDES)


# -- rules -----------------------------------------------------------------------------


@runtime_checkable
class WarrantyRule(Protocol):
    """One rule of the three guarantees: looks at a claim, returns what it finds.

    ``code`` names the rule (stable, snake_case; built-in rules are switched on and off by
    it in :attr:`WarrantyPolicy.rules`). ``assess`` gets the claim and the policy already
    made effective for the claim's category, and returns zero or more :class:`Reason`
    objects. It must be pure: no I/O, no clock.
    """

    @property
    def code(self) -> str:
        """The rule's stable code."""
        ...

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> Iterable[Reason]:
        """The findings of this rule for ``claim``."""
        ...


@attrs.frozen
class PeriodExpired:
    """Not covered past the warranty period (DOMAIN.md 4, exclusion 1: 超过三包有效期)."""

    code: ClassVar[str] = "period_expired"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when day N is beyond ``warranty_days``."""
        day = claim.warranty_day
        if day is None or day <= policy.warranty_days:
            return ()
        message = (
            f"Day {day} after {_start_label(claim)} is past the "
            f"{policy.warranty_days}-day warranty period."
        )
        return (Reason.excludes(self.code, message),)


@attrs.frozen
class CertificateAltered:
    """Not covered with an altered warranty certificate (DOMAIN.md 4, exclusion 2: 涂改三包凭证)."""

    code: ClassVar[str] = "certificate_altered"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when the certificate was altered."""
        if not claim.certificate_altered:
            return ()
        return (Reason.excludes(self.code, "The warranty certificate was altered."),)


@attrs.frozen
class SerialMismatch:
    """Not covered when the certificate's serial differs from the product's (序列号不符).

    Serials are compared without surrounding spaces and without regard to letter case.
    """

    code: ClassVar[str] = "serial_mismatch"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when a certificate serial is given and differs from the product serial."""
        certificate = claim.certificate_serial
        if certificate is None or _same_serial(certificate, claim.product_serial):
            return ()
        message = (
            f"The certificate's serial number {certificate!r} does not match "
            f"the product's {claim.product_serial!r}."
        )
        return (Reason.excludes(self.code, message),)


@attrs.frozen
class CauseExcluded:
    """Not covered when the fault has an excluded cause (DOMAIN.md 4, exclusions 3, 5, 6)."""

    code: str
    cause: Cause
    message: str

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when the claim's cause is this rule's cause."""
        if claim.cause is not self.cause:
            return ()
        return (Reason.excludes(self.code, self.message),)


@attrs.frozen
class NoProofOfPurchase:
    """Not covered without certificate, invoice or other proof (DOMAIN.md 4, exclusion 4).

    ``proof=other`` is the documents' "unless the customer can otherwise prove the product
    is within the period": it counts as proof.
    """

    code: ClassVar[str] = "no_proof_of_purchase"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when the customer shows no proof at all."""
        if claim.proof is not Proof.NONE:
            return ()
        message = (
            "There is no valid warranty certificate, no valid invoice and no other proof "
            "that the product is within the warranty period."
        )
        return (Reason.excludes(self.code, message),)


@attrs.frozen
class UnauthorisedRepair:
    """Not covered after an unauthorised repair or dismantling (DOMAIN.md 4, exclusion 7)."""

    code: ClassVar[str] = "unauthorised_repair"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when the product was touched by an unauthorised repairer."""
        if not claim.unauthorised_repair:
            return ()
        message = (
            "The product was repaired, altered, modified or dismantled by someone "
            "the maker did not authorise."
        )
        return (Reason.excludes(self.code, message),)


@attrs.frozen
class RemedyWindows:
    """The remedy ladder of the three guarantees for a performance fault (三包).

    Counted on day N (:attr:`WarrantyClaim.warranty_day`): within ``return_days`` the
    customer chooses refund, exchange or repair (``within_return_window``); within
    ``exchange_days`` exchange or repair (``within_exchange_window``); within
    ``warranty_days`` repair (``within_warranty_period``), but exchange or refund instead
    of another repair once ``failed_repairs >= max_failed_repairs`` (``repeated_failure``,
    from day ``return_days + 1`` on; inside the return window the customer already chooses
    freely). An unknown purchase date (``proof=other`` without a date) places the product
    within the warranty period but in neither shorter window (``purchase_date_unknown``).
    A fault of unknown cause gets no remedy until inspection establishes it
    (``cause_not_established``); other causes are the exclusions' business.
    """

    code: ClassVar[str] = "remedy_windows"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Grant the remedies of the window that day N falls in."""
        if claim.cause is Cause.UNKNOWN:
            message = (
                "The cause of the fault is not established yet; inspect the product and "
                "evaluate the claim again."
            )
            return (Reason.note("cause_not_established", message),)
        if claim.cause is not Cause.PERFORMANCE_FAULT:
            return ()
        found: list[Reason] = []
        day = claim.warranty_day
        if day is None:
            message = (
                "The purchase date is unknown: other proof places the product within the "
                "warranty period but not within the return or exchange windows."
            )
            found.append(Reason.note("purchase_date_unknown", message))
            day_text = "The product"
            in_return = in_exchange = False
            in_warranty = True
        else:
            day_text = f"Day {day} after {_start_label(claim)}"
            in_return = day <= policy.return_days
            in_exchange = day <= policy.exchange_days
            in_warranty = day <= policy.warranty_days
        repeated = claim.failed_repairs >= policy.max_failed_repairs
        if in_return:
            found.append(
                Reason.grants(
                    "within_return_window",
                    f"{day_text} is within the {policy.return_days}-day return window: "
                    "the customer chooses refund, exchange or repair.",
                    Remedy.REFUND,
                    Remedy.EXCHANGE,
                    Remedy.REPAIR,
                )
            )
        elif in_warranty and repeated:
            found.append(
                Reason.grants(
                    "repeated_failure",
                    f"{day_text} is within the {policy.warranty_days}-day warranty period and "
                    f"{claim.failed_repairs} earlier repairs of this fault failed (limit "
                    f"{policy.max_failed_repairs}): exchange or refund instead of another repair.",
                    Remedy.EXCHANGE,
                    Remedy.REFUND,
                )
            )
        elif in_exchange:
            found.append(
                Reason.grants(
                    "within_exchange_window",
                    f"{day_text} is within the {policy.exchange_days}-day exchange window: "
                    "the customer chooses exchange or repair.",
                    Remedy.EXCHANGE,
                    Remedy.REPAIR,
                )
            )
        elif in_warranty:
            found.append(
                Reason.grants(
                    "within_warranty_period",
                    f"{day_text} is within the {policy.warranty_days}-day warranty period: "
                    "free repair.",
                    Remedy.REPAIR,
                )
            )
        return tuple(found)


#: The built-in rules in the order they run (their codes are :data:`BUILTIN_RULE_CODES`).
BUILTIN_RULES: tuple[WarrantyRule, ...] = (
    PeriodExpired(),
    CertificateAltered(),
    SerialMismatch(),
    CauseExcluded(
        "misuse", Cause.MISUSE, "The damage comes from not following the product manual."
    ),
    CauseExcluded(
        "improper_installation",
        Cause.IMPROPER_INSTALLATION,
        "The damage comes from installing the product wrongly.",
    ),
    NoProofOfPurchase(),
    CauseExcluded("human_damage", Cause.HUMAN_DAMAGE, "The damage was caused by people."),
    CauseExcluded("force_majeure", Cause.FORCE_MAJEURE, "The damage was caused by force majeure."),
    UnauthorisedRepair(),
    RemedyWindows(),
)

_NO_REMEDY = Reason.note(
    "no_remedy", "No rule grants a remedy for this claim, so it is not covered."
)


def _decide(reasons: list[Reason], policy: WarrantyPolicy, day: int | None) -> WarrantyDecision:
    if any(r.effect is Effect.EXCLUDES for r in reasons):
        kept = tuple(r for r in reasons if r.effect in (Effect.EXCLUDES, Effect.NOTE))
        return WarrantyDecision(
            covered=False,
            remedies=frozenset(),
            reasons=kept,
            policy_version=policy.version,
            warranty_day=day,
        )
    granted: set[Remedy] = set()
    for reason in reasons:
        if reason.effect is Effect.GRANTS:
            granted |= reason.remedies
    for reason in reasons:
        if reason.effect is Effect.LIMITS:
            granted &= reason.remedies
    if not granted:
        reasons = [*reasons, _NO_REMEDY]
    return WarrantyDecision(
        covered=bool(granted),
        remedies=frozenset(granted),
        reasons=tuple(reasons),
        policy_version=policy.version,
        warranty_day=day,
    )


def evaluate_claim(
    claim: WarrantyClaim,
    policy: WarrantyPolicy,
    *,
    extra_rules: Iterable[WarrantyRule] = (),
) -> WarrantyDecision:
    """Decide a warranty claim under the three guarantees (DOMAIN.md 4).

    Runs the active built-in rules, then ``extra_rules`` (e.g. :func:`rules_from_plugins`),
    on the policy made effective for the claim's category. Any excluding reason means not
    covered; then the decision keeps every exclusion (all of them, not only the first) and
    the notes. Otherwise the remedies are the union of the grants, cut down by any limits;
    when none is left the claim is not covered and the reason ``no_remedy`` says so.
    """
    if not isinstance(claim, WarrantyClaim):
        raise ValidationError.at("claim", f"expected a WarrantyClaim, got {type(claim).__name__}")
    if not isinstance(policy, WarrantyPolicy):
        msg = f"expected a WarrantyPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    effective = policy.for_category(claim.category)
    active = [rule for rule in BUILTIN_RULES if rule.code in effective.rules]
    reasons: list[Reason] = []
    for rule in [*active, *extra_rules]:
        for reason in rule.assess(claim, effective):
            if not isinstance(reason, Reason):
                msg = f"warranty rule {rule.code!r} returned {reason!r}, not a Reason"
                raise PluginError(msg)
            reasons.append(reason)
    return _decide(reasons, effective, claim.warranty_day)


def rules_from_plugins(pm: pluggy.PluginManager) -> tuple[WarrantyRule, ...]:
    """Every rule the plugins on ``pm`` add through ``csdomain_warranty_rules``.

    Raises :class:`~csdomain.errors.PluginError` for an object that is not a
    :class:`WarrantyRule` or for a code used twice (built-in codes included).
    """
    rules: list[WarrantyRule] = []
    seen = set(BUILTIN_RULE_CODES)
    for batch in pm.hook.csdomain_warranty_rules():
        if batch is None:
            continue
        for rule in batch:
            if not isinstance(rule, WarrantyRule) or not callable(rule.assess):
                msg = f"a csdomain_warranty_rules plugin returned {rule!r}, not a WarrantyRule"
                raise PluginError(msg)
            code = rule.code
            if not isinstance(code, str) or not _CODE.fullmatch(code):
                msg = f"warranty rule {rule!r} has no snake_case code"
                raise PluginError(msg)
            if code in seen:
                msg = f"two warranty rules use the code {code!r}"
                raise PluginError(msg)
            seen.add(code)
            rules.append(rule)
    return tuple(rules)


# -- claim records ---------------------------------------------------------------------


@attrs.frozen
class ProductRecord:
    """The maker's record of the product a claim is about (claim material, DOMAIN.md 4)."""

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
    """One repair, complete and true: technician, time, work done, parts replaced (DOMAIN.md 4).

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
    note: str = ""

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.new_serial, "new_serial", problems)
        _raise(problems)


@attrs.frozen(kw_only=True)
class RefundRecord:
    """The purchase price (or the agreed part of it) was refunded."""

    amount: Money
    at: datetime = attrs.field(validator=_aware)
    note: str = ""

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


class WarrantyClaimStatus(StrEnum):
    """Where a warranty claim stands."""

    SUBMITTED = "submitted"
    EVALUATED = "evaluated"
    APPROVED = "approved"
    OVERRIDDEN = "overridden"
    REPAIRED = "repaired"
    EXCHANGED = "exchanged"
    REFUNDED = "refunded"
    CLOSED = "closed"


_S = WarrantyClaimStatus

#: Allowed moves of a warranty claim. A claim may be evaluated again while it is only
#: evaluated (new facts after inspection); a repaired claim may get further repair visits.
WARRANTY_CLAIM_TRANSITIONS: Mapping[WarrantyClaimStatus, frozenset[WarrantyClaimStatus]] = {
    _S.SUBMITTED: frozenset({_S.EVALUATED, _S.CLOSED}),
    _S.EVALUATED: frozenset({_S.EVALUATED, _S.APPROVED, _S.OVERRIDDEN, _S.CLOSED}),
    _S.APPROVED: frozenset({_S.OVERRIDDEN, _S.REPAIRED, _S.EXCHANGED, _S.REFUNDED, _S.CLOSED}),
    _S.OVERRIDDEN: frozenset({_S.REPAIRED, _S.EXCHANGED, _S.REFUNDED, _S.CLOSED}),
    _S.REPAIRED: frozenset({_S.REPAIRED, _S.CLOSED}),
    _S.EXCHANGED: frozenset({_S.CLOSED}),
    _S.REFUNDED: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
}


class WarrantyClaimOutcome(StrEnum):
    """How a closed claim ended (for the monthly analyses)."""

    REPAIRED = "repaired"
    EXCHANGED = "exchanged"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


def _actor(by: object) -> Actor:
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    return by


@attrs.frozen(kw_only=True)
class WarrantyClaimCase:
    """A warranty claim as a stored record, from submission to closing (DOMAIN.md 4).

    Submitted with the product record and the customer (both required: the product
    record verifies the item, the customer gets the satisfaction visit) -> evaluated
    (decision and its policy version kept) -> approved, or overridden by someone with
    ``Permission.OVERRIDE_WARRANTY`` and a written reason -> repaired / exchanged /
    refunded with a remedy the decision (or the override) allows -> closed.
    """

    id: str
    claim: WarrantyClaim
    product: ProductRecord
    customer_id: str
    order_id: str | None = None
    complaint_id: str | None = None
    status: WarrantyClaimStatus = WarrantyClaimStatus.SUBMITTED
    decision: WarrantyDecision | None = None
    manual_override: WarrantyOverride | None = None
    repairs: tuple[RepairRecord, ...] = ()
    exchange: ExchangeRecord | None = None
    refund: RefundRecord | None = None
    outcome: WarrantyClaimOutcome | None = None
    history: tuple[StatusChange, ...] = ()

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.id, "id", problems)
        _text(self.customer_id, "customer_id", problems)
        for path, value in (("order_id", self.order_id), ("complaint_id", self.complaint_id)):
            if value is not None:
                _text(value, path, problems)
        if not isinstance(self.claim, WarrantyClaim):
            problems.append(("claim", "expected a WarrantyClaim"))
        if not isinstance(self.product, ProductRecord):
            problems.append(("product", "the claim needs the product record"))
        if not problems:
            if not _same_serial(self.claim.product_serial, self.product.serial):
                problems.append(
                    ("claim.product_serial", "does not match the product record's serial")
                )
            if self.claim.category != self.product.category:
                problems.append(("claim.category", "does not match the product record's category"))
        if not self.history:
            problems.append(("history", "a claim starts with its submission"))
        elif self.history[-1].to != self.status:
            problems.append(("status", "does not match the last history entry"))
        _raise(problems)

    @property
    def decided_at(self) -> datetime | None:
        """When the current decision was made (the latest evaluation), if there is one."""
        if self.decision is None:
            return None
        for change in reversed(self.history):
            if change.to == WarrantyClaimStatus.EVALUATED.value:
                return change.at
        return None

    @classmethod
    def submit(
        cls,
        *,
        id: str,
        claim: WarrantyClaim,
        product: ProductRecord,
        customer_id: str,
        at: datetime,
        by: Actor,
        order_id: str | None = None,
        complaint_id: str | None = None,
        note: str = "",
    ) -> WarrantyClaimCase:
        """Receive a claim with its product record and customer (DOMAIN.md 4, claim material)."""
        actor = _actor(by)
        change = StatusChange(
            None, WarrantyClaimStatus.SUBMITTED.value, require_aware(at), actor.id, note
        )
        if order_id is None and isinstance(product, ProductRecord):
            order_id = product.order_id
        return cls(
            id=id,
            claim=claim,
            product=product,
            customer_id=customer_id,
            order_id=order_id,
            complaint_id=complaint_id,
            history=(change,),
        )

    @property
    def submitted_at(self) -> datetime:
        """When the claim was received."""
        return self.history[0].at

    @property
    def allowed_remedies(self) -> frozenset[Remedy]:
        """The remedies that may be carried out: the override's, else the decision's."""
        if self.manual_override is not None:
            return self.manual_override.remedies
        if self.decision is not None:
            return self.decision.remedies
        return frozenset()

    def _check(self, target: WarrantyClaimStatus) -> None:
        check_transition(WARRANTY_CLAIM_TRANSITIONS, "warranty claim", self.id, self.status, target)

    def _move(
        self,
        target: WarrantyClaimStatus,
        *,
        at: datetime,
        by: Actor,
        note: str = "",
        **changes: Any,
    ) -> WarrantyClaimCase:
        self._check(target)
        actor = _actor(by)
        at = require_aware(at)
        if at < self.history[-1].at:
            raise ValidationError.at("at", "is before the previous step of this claim")
        change = StatusChange(self.status.value, target.value, at, actor.id, note)
        return attrs.evolve(self, status=target, history=(*self.history, change), **changes)

    def _require_remedy(self, remedy: Remedy) -> None:
        if remedy not in self.allowed_remedies:
            raise RuleViolation(
                "remedy_not_allowed",
                f"warranty claim {self.id!r} allows {_names(self.allowed_remedies)}, "
                f"not {remedy.value}",
                claim_id=self.id,
                remedy=remedy.value,
                allowed=sorted(r.value for r in self.allowed_remedies),
            )

    def evaluate(
        self,
        policy: WarrantyPolicy,
        *,
        at: datetime,
        by: Actor,
        extra_rules: Iterable[WarrantyRule] = (),
        claim: WarrantyClaim | None = None,
        note: str = "",
    ) -> WarrantyClaimCase:
        """Decide the claim under ``policy``; ``claim`` replaces the facts (after inspection)."""
        self._check(WarrantyClaimStatus.EVALUATED)
        facts = self.claim if claim is None else claim
        decision = evaluate_claim(facts, policy, extra_rules=extra_rules)
        return self._move(
            WarrantyClaimStatus.EVALUATED, at=at, by=by, note=note, claim=facts, decision=decision
        )

    def approve(self, *, at: datetime, by: Actor, note: str = "") -> WarrantyClaimCase:
        """Accept the rules' decision; only a covered claim can be approved."""
        self._check(WarrantyClaimStatus.APPROVED)
        if self.decision is None or not self.decision.covered:
            codes = [] if self.decision is None else list(self.decision.reason_codes)
            raise RuleViolation(
                "claim_not_covered",
                f"warranty claim {self.id!r} is not covered; only an override can grant a remedy",
                claim_id=self.id,
                reasons=codes,
            )
        return self._move(WarrantyClaimStatus.APPROVED, at=at, by=by, note=note)

    def override(
        self,
        remedies: Iterable[Remedy],
        *,
        reason: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
    ) -> WarrantyClaimCase:
        """Grant ``remedies`` against the rules: needs OVERRIDE_WARRANTY and a written reason.

        DOMAIN.md 3.6: nothing of substance is promised without written authority.
        """
        self._check(WarrantyClaimStatus.OVERRIDDEN)
        actor = _actor(by)
        access.require(actor, Permission.OVERRIDE_WARRANTY)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError.at("reason", "an override needs a written reason")
        chosen = _to_remedies(remedies)
        if not chosen:
            raise ValidationError.at("remedies", "an override grants at least one remedy")
        record = WarrantyOverride(
            remedies=chosen, reason=reason.strip(), by=actor.id, at=require_aware(at)
        )
        return self._move(
            WarrantyClaimStatus.OVERRIDDEN,
            at=at,
            by=actor,
            note=record.reason,
            manual_override=record,
        )

    def record_repair(self, record: RepairRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record a repair visit (the first, or a further one) with its parts and work."""
        self._check(WarrantyClaimStatus.REPAIRED)
        if not isinstance(record, RepairRecord):
            raise ValidationError.at("record", "expected a RepairRecord")
        self._require_remedy(Remedy.REPAIR)
        return self._move(
            WarrantyClaimStatus.REPAIRED,
            at=record.at,
            by=by,
            note=record.work_done,
            repairs=(*self.repairs, record),
        )

    def record_exchange(self, record: ExchangeRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record the exchange of the product for a new unit."""
        self._check(WarrantyClaimStatus.EXCHANGED)
        if not isinstance(record, ExchangeRecord):
            raise ValidationError.at("record", "expected an ExchangeRecord")
        self._require_remedy(Remedy.EXCHANGE)
        if _same_serial(record.new_serial, self.product.serial):
            raise ValidationError.at("record.new_serial", "is the serial of the product returned")
        return self._move(
            WarrantyClaimStatus.EXCHANGED, at=record.at, by=by, note=record.note, exchange=record
        )

    def record_refund(self, record: RefundRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record the refund of the purchase price."""
        self._check(WarrantyClaimStatus.REFUNDED)
        if not isinstance(record, RefundRecord):
            raise ValidationError.at("record", "expected a RefundRecord")
        self._require_remedy(Remedy.REFUND)
        return self._move(
            WarrantyClaimStatus.REFUNDED, at=record.at, by=by, note=record.note, refund=record
        )

    def close(self, *, at: datetime, by: Actor, note: str = "") -> WarrantyClaimCase:
        """Close the claim; the outcome follows from where it stood."""
        self._check(WarrantyClaimStatus.CLOSED)
        outcome = {
            WarrantyClaimStatus.REPAIRED: WarrantyClaimOutcome.REPAIRED,
            WarrantyClaimStatus.EXCHANGED: WarrantyClaimOutcome.EXCHANGED,
            WarrantyClaimStatus.REFUNDED: WarrantyClaimOutcome.REFUNDED,
        }.get(self.status, WarrantyClaimOutcome.WITHDRAWN)
        if self.status is WarrantyClaimStatus.EVALUATED and not (
            self.decision is not None and self.decision.covered
        ):
            outcome = WarrantyClaimOutcome.REJECTED
        return self._move(WarrantyClaimStatus.CLOSED, at=at, by=by, note=note, outcome=outcome)


# -- events ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WarrantyClaimSubmitted(Event):
    """A warranty claim was received with its product record and customer."""

    claim_id: str
    customer_id: str
    product_serial: str
    order_id: str | None
    complaint_id: str | None
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimEvaluated(Event):
    """The rules decided a warranty claim (under the recorded policy version)."""

    claim_id: str
    covered: bool
    remedies: frozenset[Remedy]
    reason_codes: tuple[str, ...]
    policy_version: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimApproved(Event):
    """The rules' decision on a warranty claim was accepted."""

    claim_id: str
    remedies: frozenset[Remedy]
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimOverridden(Event):
    """Someone with authority granted remedies against the rules, with a written reason."""

    claim_id: str
    remedies: frozenset[Remedy]
    reason: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimRepaired(Event):
    """A repair visit under the guarantee was recorded."""

    claim_id: str
    technician: str
    installed_serials: tuple[str, ...]
    fault_cleared: bool
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimExchanged(Event):
    """The product was exchanged under the guarantee."""

    claim_id: str
    old_serial: str
    new_serial: str
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimRefunded(Event):
    """The purchase was refunded under the guarantee."""

    claim_id: str
    amount: Money
    at: datetime
    by: str


@attrs.frozen(kw_only=True)
class WarrantyClaimClosed(Event):
    """A warranty claim was closed with its outcome."""

    claim_id: str
    outcome: WarrantyClaimOutcome
    at: datetime
    by: str


def event_for_last_change(case: WarrantyClaimCase) -> Event:
    """The domain event for the claim's latest step (what the service puts in the outbox)."""
    last = case.history[-1]
    at, by, cid = last.at, last.by, case.id
    status = WarrantyClaimStatus(last.to)
    if status is WarrantyClaimStatus.SUBMITTED:
        return WarrantyClaimSubmitted(
            claim_id=cid,
            customer_id=case.customer_id,
            product_serial=case.product.serial,
            order_id=case.order_id,
            complaint_id=case.complaint_id,
            at=at,
            by=by,
        )
    if status is WarrantyClaimStatus.EVALUATED and case.decision is not None:
        return WarrantyClaimEvaluated(
            claim_id=cid,
            covered=case.decision.covered,
            remedies=case.decision.remedies,
            reason_codes=case.decision.reason_codes,
            policy_version=case.decision.policy_version,
            at=at,
            by=by,
        )
    if status is WarrantyClaimStatus.APPROVED:
        return WarrantyClaimApproved(claim_id=cid, remedies=case.allowed_remedies, at=at, by=by)
    if status is WarrantyClaimStatus.OVERRIDDEN and case.manual_override is not None:
        return WarrantyClaimOverridden(
            claim_id=cid,
            remedies=case.manual_override.remedies,
            reason=case.manual_override.reason,
            at=at,
            by=by,
        )
    if status is WarrantyClaimStatus.REPAIRED and case.repairs:
        repair = case.repairs[-1]
        return WarrantyClaimRepaired(
            claim_id=cid,
            technician=repair.technician,
            installed_serials=tuple(p.installed_serial for p in repair.parts),
            fault_cleared=repair.fault_cleared,
            at=at,
            by=by,
        )
    if status is WarrantyClaimStatus.EXCHANGED and case.exchange is not None:
        return WarrantyClaimExchanged(
            claim_id=cid,
            old_serial=case.product.serial,
            new_serial=case.exchange.new_serial,
            at=at,
            by=by,
        )
    if status is WarrantyClaimStatus.REFUNDED and case.refund is not None:
        return WarrantyClaimRefunded(claim_id=cid, amount=case.refund.amount, at=at, by=by)
    if status is WarrantyClaimStatus.CLOSED and case.outcome is not None:
        return WarrantyClaimClosed(claim_id=cid, outcome=case.outcome, at=at, by=by)
    raise ValidationError.at("history", f"the record for step {status.value!r} is missing")


# -- fraud control ---------------------------------------------------------------------


class Comparison(StrEnum):
    """What a service point's claim rate was compared with (质量赔偿风险控制, DOMAIN.md 4)."""

    REGIONAL_PEERS = "regional_peers"
    OWN_HISTORY = "own_history"
    PRODUCTION_QUALITY = "production_quality"


@attrs.frozen
class ServicePointPeriod:
    """A service point's warranty claims over the units it sold or serviced in one period.

    Periods are strings that sort in time order (``"2024-05"``, ``"2024Q2"``).
    """

    service_point: str
    region: str
    period: str
    units: int
    claims: int

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.service_point, "service_point", problems)
        _text(self.region, "region", problems)
        _text(self.period, "period", problems)
        _count(self.units, "units", problems)
        _count(self.claims, "claims", problems)
        _raise(problems)


@attrs.frozen
class QualityTrend:
    """Production's defect rate (defects per unit made) in one period."""

    period: str
    defect_rate: Decimal

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.period, "period", problems)
        _decimal_at_least(self.defect_rate, Decimal(0), "defect_rate", problems)
        _raise(problems)


@attrs.frozen
class OutlierFlag:
    """A service point whose claim rate is beyond the threshold against one reference.

    ``ratio`` is ``rate / reference``; it is ``None`` when the reference is zero and the
    service point still has claims (beyond any multiple). ``region`` and ``period`` say
    where and when.
    """

    service_point: str
    comparison: Comparison
    rate: Decimal
    reference: Decimal
    ratio: Decimal | None
    region: str = ""
    period: str = ""


@attrs.define
class _Tally:
    """Running totals of one service point: its latest (or target) period and the rest."""

    period: str | None = None
    region: str = ""
    units: int = 0
    claims: int = 0
    past_units: int = 0
    past_claims: int = 0
    regions_clash: bool = False

    def add(self, record: ServicePointPeriod, target: str | None) -> None:
        if target is not None and record.period > target:
            return
        if target is not None and record.period < target:
            self.past_units += record.units
            self.past_claims += record.claims
        elif self.period is None or record.period > self.period:
            self.past_units += self.units
            self.past_claims += self.claims
            self.period, self.region = record.period, record.region
            self.units, self.claims = record.units, record.claims
            self.regions_clash = False
        elif record.period == self.period:
            self.units += record.units
            self.claims += record.claims
            self.regions_clash = self.regions_clash or record.region != self.region
        else:
            self.past_units += record.units
            self.past_claims += record.claims


def _rate(claims: int, units: int, min_units: int) -> Decimal | None:
    return Decimal(claims) / Decimal(units) if units >= min_units else None


def claim_rate_outliers(
    records: Iterable[ServicePointPeriod],
    quality: Iterable[QualityTrend],
    policy: WarrantyPolicy,
    *,
    period: str | None = None,
) -> tuple[OutlierFlag, ...]:
    """Flag service points whose warranty claim rate is suspiciously high (DOMAIN.md 4).

    The assessed period is ``period`` (default: the latest period in ``records``). Each
    service point's claim rate there (claims per unit sold or serviced) is compared with
    (1) its regional peers, the other points of its region in the same period taken
    together; (2) its own history, all its earlier periods taken together; (3) production's
    defect rate for the period. A flag is raised for each comparison where the rate exceeds
    ``policy.outlier_ratio`` times the reference (or the reference is zero and the rate is
    not). Rates over fewer than ``policy.outlier_min_units`` units are not compared.

    One pass over each iterable; ``records`` first, then ``quality``. Memory grows with the
    number of service points, not with the number of records.
    """
    if period is not None and (not isinstance(period, str) or not period.strip()):
        raise ValidationError.at("period", "must be a non-empty string")
    tallies: dict[str, _Tally] = {}
    for i, record in enumerate(records):
        if not isinstance(record, ServicePointPeriod):
            raise ValidationError.at(f"records.{i}", "expected a ServicePointPeriod")
        tallies.setdefault(record.service_point, _Tally()).add(record, period)
    assessed = period
    if assessed is None:
        assessed = max((t.period for t in tallies.values() if t.period is not None), default=None)
    defect_rate: Decimal | None = None
    for i, trend in enumerate(quality):
        if not isinstance(trend, QualityTrend):
            raise ValidationError.at(f"quality.{i}", "expected a QualityTrend")
        if trend.period == assessed:
            defect_rate = trend.defect_rate
    if assessed is None:
        return ()
    current = {sp: t for sp, t in tallies.items() if t.period == assessed}
    clashes = sorted(sp for sp, t in current.items() if t.regions_clash)
    if clashes:
        raise ValidationError(
            [("records", f"service point {sp!r} has two regions in {assessed}") for sp in clashes]
        )
    region_units: dict[str, int] = {}
    region_claims: dict[str, int] = {}
    for tally in current.values():
        region_units[tally.region] = region_units.get(tally.region, 0) + tally.units
        region_claims[tally.region] = region_claims.get(tally.region, 0) + tally.claims
    ratio_limit = policy.outlier_ratio
    min_units = policy.outlier_min_units
    flags: list[OutlierFlag] = []
    for service_point in sorted(current):
        tally = current[service_point]
        rate = _rate(tally.claims, tally.units, min_units)
        if rate is None:
            continue
        references = (
            (
                Comparison.REGIONAL_PEERS,
                _rate(
                    region_claims[tally.region] - tally.claims,
                    region_units[tally.region] - tally.units,
                    min_units,
                ),
            ),
            (Comparison.OWN_HISTORY, _rate(tally.past_claims, tally.past_units, min_units)),
            (Comparison.PRODUCTION_QUALITY, defect_rate),
        )
        for comparison, reference in references:
            if reference is None:
                continue
            if reference == 0:
                ratio = None
                beyond = rate > 0
            else:
                ratio = rate / reference
                beyond = ratio > ratio_limit
            if beyond:
                flags.append(
                    OutlierFlag(
                        service_point=service_point,
                        region=tally.region,
                        period=assessed,
                        comparison=comparison,
                        rate=rate,
                        reference=reference,
                        ratio=ratio,
                    )
                )
    return tuple(flags)


# -- spare parts -----------------------------------------------------------------------


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


@attrs.frozen(kw_only=True)
class SparePart:
    """A spare part in the price list.

    ``dealer_price`` is the dealer price of the finished product an assembled part is
    priced from; ``cost`` is what a standard or wear part costs the service organisation.
    """

    part_number: str
    name: str
    kind: PartKind = attrs.field(converter=_to_part_kind)
    dealer_price: Money | None = None
    cost: Money | None = None

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

    label: str
    amount: Money


@attrs.frozen(kw_only=True)
class PartQuote:
    """A spare-part quote: ex-tax list price + tax + freight = total (DOMAIN.md 4)."""

    part_number: str
    quantity: int
    unit_price: Money
    list_price: Money
    tax_rate: Decimal
    tax: Money
    freight: Money
    total: Money

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
        raise ValidationError.at("quantity", f"must be a positive integer, got {quantity!r}")
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
