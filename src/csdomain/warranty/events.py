"""The domain events of a warranty claim, one per step (:func:`event_for_last_change`)."""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.errors import ValidationError
from csdomain.events import Event
from csdomain.money import Money
from csdomain.warranty.case import WarrantyClaimCase, WarrantyClaimOutcome, WarrantyClaimStatus
from csdomain.warranty.claims import Remedy


__all__ = [
    "WarrantyClaimApproved",
    "WarrantyClaimClosed",
    "WarrantyClaimEvaluated",
    "WarrantyClaimExchanged",
    "WarrantyClaimOverridden",
    "WarrantyClaimRefunded",
    "WarrantyClaimRepaired",
    "WarrantyClaimSubmitted",
    "event_for_last_change",
]


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
