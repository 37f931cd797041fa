"""The stored warranty claim: :class:`WarrantyClaimCase`, its statuses and its lifecycle."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.clock import require_aware
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.lifecycle import Command, Lifecycle, StatusChange
from csdomain.validators import instance_of, optional_instance_of, tuple_of
from csdomain.warranty._checks import _Problems, _raise, _same_serial, _text
from csdomain.warranty.claims import (
    ExchangeRecord,
    ProductRecord,
    RefundRecord,
    Remedy,
    RepairRecord,
    WarrantyClaim,
    WarrantyOverride,
    _to_remedies,
)
from csdomain.warranty.policy import WarrantyPolicy
from csdomain.warranty.rules import WarrantyDecision, WarrantyRule, evaluate_claim


__all__ = [
    "WARRANTY_CLAIM_LIFECYCLE",
    "WARRANTY_CLAIM_TRANSITIONS",
    "WarrantyClaimCase",
    "WarrantyClaimOutcome",
    "WarrantyClaimStatus",
]


def _names(remedies: Iterable[Remedy]) -> str:
    given = set(remedies)
    ordered = [r.value for r in Remedy if r in given]
    if not ordered:
        return "no remedy"
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


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


#: What each step of a claim does: the statuses it runs from and the status it leads to
#: (the command table beside :data:`WARRANTY_CLAIM_TRANSITIONS`, rendered in the docs).
WARRANTY_CLAIM_LIFECYCLE: Lifecycle[WarrantyClaimStatus] = Lifecycle(
    "warranty claim",
    WARRANTY_CLAIM_TRANSITIONS,
    {
        "evaluate": Command(
            "evaluate the claim", frozenset({_S.SUBMITTED, _S.EVALUATED}), _S.EVALUATED
        ),
        "approve": Command("approve the claim", frozenset({_S.EVALUATED}), _S.APPROVED),
        "override": Command(
            "override the rules", frozenset({_S.EVALUATED, _S.APPROVED}), _S.OVERRIDDEN
        ),
        "record_repair": Command(
            "record a repair", frozenset({_S.APPROVED, _S.OVERRIDDEN, _S.REPAIRED}), _S.REPAIRED
        ),
        "record_exchange": Command(
            "record the exchange", frozenset({_S.APPROVED, _S.OVERRIDDEN}), _S.EXCHANGED
        ),
        "record_refund": Command(
            "record the refund", frozenset({_S.APPROVED, _S.OVERRIDDEN}), _S.REFUNDED
        ),
        "close": Command("close the claim", frozenset(_S) - {_S.CLOSED}, _S.CLOSED),
    },
)


class WarrantyClaimOutcome(StrEnum):
    """How a closed claim ended (for the monthly analyses)."""

    REPAIRED = "repaired"
    EXCHANGED = "exchanged"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_STATUS_CHANGES = tuple_of(StatusChange)


def _steps(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    """The history is a tuple of status changes whose statuses, actor and note are text."""
    _STATUS_CHANGES(instance, attribute, value)
    for i, step in enumerate(value):
        for name in ("from_", "to", "by", "note"):
            text = getattr(step, name)
            if not isinstance(text, str) and not (name == "from_" and text is None):
                got = type(text).__name__
                raise ValidationError.at(f"history.{i}.{name}", f"expected text, got {got}")


def _note(note: object) -> str:
    if not isinstance(note, str):
        raise ValidationError.at("note", f"expected text, got {type(note).__name__}")
    return note


def _actor(by: object) -> Actor:
    if not isinstance(by, Actor):
        raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
    return by


@attrs.frozen(kw_only=True)
class WarrantyClaimCase:
    """A warranty claim as a stored record, from submission to closing (docs/domain.md 4).

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
    #: The service point that did the work the claim is for (issue #18: the claim-rate
    #: outlier check compares service points), ``None`` when no service point is named.
    service_point_id: str | None = None
    status: WarrantyClaimStatus = attrs.field(
        default=WarrantyClaimStatus.SUBMITTED,
        validator=instance_of(WarrantyClaimStatus),
    )
    decision: WarrantyDecision | None = attrs.field(
        default=None, validator=optional_instance_of(WarrantyDecision)
    )
    manual_override: WarrantyOverride | None = attrs.field(
        default=None, validator=optional_instance_of(WarrantyOverride)
    )
    repairs: tuple[RepairRecord, ...] = attrs.field(default=(), validator=tuple_of(RepairRecord))
    exchange: ExchangeRecord | None = attrs.field(
        default=None, validator=optional_instance_of(ExchangeRecord)
    )
    refund: RefundRecord | None = attrs.field(
        default=None, validator=optional_instance_of(RefundRecord)
    )
    outcome: WarrantyClaimOutcome | None = attrs.field(
        default=None, validator=optional_instance_of(WarrantyClaimOutcome)
    )
    history: tuple[StatusChange, ...] = attrs.field(default=(), validator=_steps)

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.id, "id", problems)
        _text(self.customer_id, "customer_id", problems)
        for path, value in (
            ("order_id", self.order_id),
            ("complaint_id", self.complaint_id),
            ("service_point_id", self.service_point_id),
        ):
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
        service_point_id: str | None = None,
        note: str = "",
    ) -> WarrantyClaimCase:
        """Receive a claim with its product record and customer (docs/domain.md 4, claim data).

        ``service_point_id`` names the service point that did the work, when there is one.
        """
        actor = _actor(by)
        change = StatusChange(
            None, WarrantyClaimStatus.SUBMITTED.value, require_aware(at), actor.id, _note(note)
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
            service_point_id=service_point_id,
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

    def _can(self, action: str) -> None:
        """Raise :class:`InvalidTransition` unless ``action`` may run from the status now."""
        WARRANTY_CLAIM_LIFECYCLE.check(self.id, self.status, action)

    def _step(
        self,
        action: str,
        *,
        at: datetime,
        by: Actor,
        note: str = "",
        **changes: Any,
    ) -> WarrantyClaimCase:
        """The claim after ``action`` by ``by`` at ``at``, moved by the lifecycle.

        A step is never dated before the claim's previous step.
        """
        actor = _actor(by)
        if require_aware(at) < self.history[-1].at:
            raise ValidationError.at("at", "is before the previous step of this claim")
        return WARRANTY_CLAIM_LIFECYCLE.move(
            self, action, at=at, by=actor.id, note=_note(note), **changes
        )

    def _require_remedy(self, remedy: Remedy) -> None:
        if remedy not in self.allowed_remedies:
            raise RuleViolation(
                "remedy_not_allowed",
                f"warranty claim {describe(self.id)} allows {_names(self.allowed_remedies)}, "
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
        self._can("evaluate")
        facts = self.claim if claim is None else claim
        decision = evaluate_claim(facts, policy, extra_rules=extra_rules)
        return self._step("evaluate", at=at, by=by, note=note, claim=facts, decision=decision)

    def approve(self, *, at: datetime, by: Actor, note: str = "") -> WarrantyClaimCase:
        """Accept the rules' decision; only a covered claim can be approved."""
        self._can("approve")
        if self.decision is None or not self.decision.covered:
            codes = [] if self.decision is None else list(self.decision.reason_codes)
            raise RuleViolation(
                "claim_not_covered",
                f"warranty claim {describe(self.id)} is not covered; "
                "only an override can grant a remedy",
                claim_id=self.id,
                reasons=codes,
            )
        return self._step("approve", at=at, by=by, note=note)

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

        docs/domain.md 3.6: nothing of substance is promised without written authority.
        """
        self._can("override")
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
        return self._step(
            "override",
            at=at,
            by=actor,
            note=record.reason,
            manual_override=record,
        )

    def record_repair(self, record: RepairRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record a repair visit (the first, or a further one) with its parts and work."""
        self._can("record_repair")
        if not isinstance(record, RepairRecord):
            raise ValidationError.at("record", "expected a RepairRecord")
        self._require_remedy(Remedy.REPAIR)
        return self._step(
            "record_repair",
            at=record.at,
            by=by,
            note=record.work_done,
            repairs=(*self.repairs, record),
        )

    def record_exchange(self, record: ExchangeRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record the exchange of the product for a new unit."""
        self._can("record_exchange")
        if not isinstance(record, ExchangeRecord):
            raise ValidationError.at("record", "expected an ExchangeRecord")
        self._require_remedy(Remedy.EXCHANGE)
        if _same_serial(record.new_serial, self.product.serial):
            raise ValidationError.at("record.new_serial", "is the serial of the product returned")
        return self._step("record_exchange", at=record.at, by=by, note=record.note, exchange=record)

    def record_refund(self, record: RefundRecord, *, by: Actor) -> WarrantyClaimCase:
        """Record the refund of the purchase price."""
        self._can("record_refund")
        if not isinstance(record, RefundRecord):
            raise ValidationError.at("record", "expected a RefundRecord")
        self._require_remedy(Remedy.REFUND)
        return self._step("record_refund", at=record.at, by=by, note=record.note, refund=record)

    def close(self, *, at: datetime, by: Actor, note: str = "") -> WarrantyClaimCase:
        """Close the claim; the outcome follows from where it stood."""
        self._can("close")
        outcome = {
            WarrantyClaimStatus.REPAIRED: WarrantyClaimOutcome.REPAIRED,
            WarrantyClaimStatus.EXCHANGED: WarrantyClaimOutcome.EXCHANGED,
            WarrantyClaimStatus.REFUNDED: WarrantyClaimOutcome.REFUNDED,
        }.get(self.status, WarrantyClaimOutcome.WITHDRAWN)
        if self.status is WarrantyClaimStatus.EVALUATED and not (
            self.decision is not None and self.decision.covered
        ):
            outcome = WarrantyClaimOutcome.REJECTED
        return self._step("close", at=at, by=by, note=note, outcome=outcome)
