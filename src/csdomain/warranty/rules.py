"""The rules of the three guarantees and the decisions they make (docs/domain.md 4).

:func:`evaluate_claim` runs small :class:`WarrantyRule` objects over a
:class:`~csdomain.warranty.claims.WarrantyClaim` and combines what they find into a
:class:`WarrantyDecision`: ``covered``, the ``remedies`` the customer may choose from and
the ``reasons`` (stable codes plus a sentence each) that explain it, stamped with the
policy version. The built-in rules are the documents' seven exclusions and the remedy
ladder; industry plugins add rules through the ``csdomain_warranty_rules`` hook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

import attrs

from csdomain.errors import PluginError, ValidationError, describe
from csdomain.validators import enum_value, flag, instance_of, integer, optional, text
from csdomain.warranty._checks import _Problems, _raise, _same_serial, _text
from csdomain.warranty.claims import Cause, Proof, Remedy, WarrantyClaim, _to_remedies
from csdomain.warranty.policy import BUILTIN_RULE_CODES, WarrantyPolicy


__all__ = [
    "BUILTIN_RULES",
    "CauseExcluded",
    "CertificateAltered",
    "Effect",
    "NoProofOfPurchase",
    "PeriodExpired",
    "Reason",
    "RemedyWindows",
    "RepairDelays",
    "RepairGuarantee",
    "SerialMismatch",
    "UnauthorisedRepair",
    "WarrantyDecision",
    "WarrantyRule",
    "check_extra_rules",
    "evaluate_claim",
]


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


def _to_effect(value: Effect | str) -> Effect:
    return enum_value(Effect, value, "effect")


def _start_label(claim: WarrantyClaim) -> str:
    return "exchange" if claim.exchanged_on is not None else "purchase"


def _within_repair_guarantee(claim: WarrantyClaim, policy: WarrantyPolicy) -> bool:
    days = claim.days_since_repair
    return days is not None and days <= policy.repair_guarantee_days


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
            problems.append(("code", f"must be a snake_case code, got {describe(self.code)}"))
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

    covered: bool = attrs.field(validator=flag)
    remedies: frozenset[Remedy] = attrs.field(converter=_to_remedies)
    reasons: tuple[Reason, ...]
    policy_version: str
    warranty_day: int | None = attrs.field(default=None, validator=optional(integer))

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
    """Not covered past the warranty period (docs/domain.md 4, exclusion 1: 超过三包有效期)."""

    code: ClassVar[str] = "period_expired"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when day N is beyond ``warranty_days``, unless a repair of the fault is
        still within its guarantee (:class:`RepairGuarantee`)."""
        day = claim.warranty_day
        if day is None or day <= policy.warranty_days:
            return ()
        if claim.cause is Cause.PERFORMANCE_FAULT and _within_repair_guarantee(claim, policy):
            return ()
        message = (
            f"Day {day} after {_start_label(claim)} is past the "
            f"{policy.warranty_days}-day warranty period."
        )
        return (Reason.excludes(self.code, message),)


@attrs.frozen
class CertificateAltered:
    """Not covered with an altered certificate (docs/domain.md 4, exclusion 2: 涂改三包凭证)."""

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
    """Not covered when the fault has an excluded cause (docs/domain.md 4, exclusions 3, 5, 6)."""

    code: str = attrs.field(validator=instance_of(str, "a rule code"))
    cause: Cause = attrs.field(validator=instance_of(Cause))
    message: str = attrs.field(validator=text)

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Exclude when the claim's cause is this rule's cause."""
        if claim.cause is not self.cause:
            return ()
        return (Reason.excludes(self.code, self.message),)


@attrs.frozen
class NoProofOfPurchase:
    """Not covered without certificate, invoice or other proof (docs/domain.md 4, exclusion 4).

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
    """Not covered after an unauthorised repair or dismantling (docs/domain.md 4, exclusion 7)."""

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


@attrs.frozen
class RepairDelays:
    """A repair that takes too long is exchanged free (部分商品修理更换退货责任规定 art. 12).

    Within the validity period, a product handed in for repair and not repaired more than
    ``parts_wait_exchange_days`` (90) later because the maker supplied no parts
    (``parts_not_supplied``), or more than ``repair_overrun_exchange_days`` (30) later
    through the repairer's own fault (``repair_overrun``), is exchanged for the same model
    and specification free of charge.
    """

    code: ClassVar[str] = "repair_delays"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Grant a free exchange when the open repair waited past its limit."""
        waited = claim.days_awaiting_repair
        if claim.cause is not Cause.PERFORMANCE_FAULT or waited == 0:
            return ()
        day = claim.warranty_day
        if day is not None and day > policy.warranty_days:
            return ()
        if claim.awaiting_parts:
            if waited <= policy.parts_wait_exchange_days:
                return ()
            message = (
                f"Handed in {waited} days ago and not repaired for want of parts the maker "
                f"did not supply (more than {policy.parts_wait_exchange_days} days): a free "
                "exchange for the same model and specification."
            )
            return (Reason.grants("parts_not_supplied", message, Remedy.EXCHANGE),)
        if waited <= policy.repair_overrun_exchange_days:
            return ()
        message = (
            f"The repair has taken {waited} days through the repairer's own fault (more than "
            f"{policy.repair_overrun_exchange_days} days): a free exchange for the same model "
            "and specification, at the repairer's cost."
        )
        return (Reason.grants("repair_overrun", message, Remedy.EXCHANGE),)


@attrs.frozen
class RepairGuarantee:
    """A repair guarantees normal use for ``repair_guarantee_days`` (30) days.

    Source: 部分商品修理更换退货责任规定, the repairer's duties (修理者应当保证修理后的产品
    能够正常使用30日以上): the same fault coming back within that time after the last repair
    is repaired free (``within_repair_guarantee``), even when the validity period has run
    out meanwhile.
    """

    code: ClassVar[str] = "repair_guarantee"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        """Grant a free repair while the last repair is within its guarantee."""
        if claim.cause is not Cause.PERFORMANCE_FAULT:
            return ()
        if not _within_repair_guarantee(claim, policy):
            return ()
        message = (
            f"The fault came back {claim.days_since_repair} days after its last repair, within "
            f"the {policy.repair_guarantee_days} days a repair guarantees: free repair."
        )
        return (Reason.grants("within_repair_guarantee", message, Remedy.REPAIR),)


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
    RepairDelays(),
    RepairGuarantee(),
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
    """Decide a warranty claim under the three guarantees (docs/domain.md 4).

    Runs the active built-in rules, then ``extra_rules`` (the plugins' rules, see
    :func:`check_extra_rules`), on the policy made effective for the claim's category.
    Any excluding reason means not covered; then the decision keeps every exclusion (all
    of them, not only the first) and the notes. Otherwise the remedies are the union of
    the grants, cut down by any limits; when none is left the claim is not covered and the
    reason ``no_remedy`` says so.
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
                msg = f"warranty rule {rule.code!r} returned {describe(reason)}, not a Reason"
                raise PluginError(msg)
            reasons.append(reason)
    return _decide(reasons, effective, claim.warranty_day)


def check_extra_rules(candidates: Iterable[object]) -> tuple[WarrantyRule, ...]:
    """``candidates`` as extra rules for :func:`evaluate_claim`, once each is checked.

    Raises :class:`~csdomain.errors.PluginError` for an object that is not a
    :class:`WarrantyRule`, for a code that is not snake_case, or for a code used twice
    (built-in codes included): rules come from plugins, so a bad one is the plugin's fault.
    """
    rules: list[WarrantyRule] = []
    seen = set(BUILTIN_RULE_CODES)
    for rule in candidates:
        if not isinstance(rule, WarrantyRule) or not callable(rule.assess):
            msg = f"a csdomain_warranty_rules plugin returned {describe(rule)}, not a WarrantyRule"
            raise PluginError(msg)
        code = rule.code
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            msg = f"warranty rule {describe(rule)} has no snake_case code"
            raise PluginError(msg)
        if code in seen:
            msg = f"two warranty rules use the code {code!r}"
            raise PluginError(msg)
        seen.add(code)
        rules.append(rule)
    return tuple(rules)
