"""Use cases of warranty claims and the three guarantees (DOMAIN.md 4).

Each step of a claim is one unit of work: load the :class:`WarrantyClaimCase`, call its
method with the desk's clock, policy and access rules, save it, and put the event for the
step (:func:`~csdomain.warranty.event_for_last_change`) in the outbox. Decisions use the
built-in rules plus every rule the plugins add through ``csdomain_warranty_rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pluggy

from csdomain.auth import Actor, Permission
from csdomain.clock import require_aware
from csdomain.desk.args import Id, LongText
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import PluginError, ValidationError, describe
from csdomain.ids import NamingSeries
from csdomain.kinds import CUSTOMERS, WARRANTY_CLAIMS
from csdomain.store import UnitOfWork
from csdomain.warranty import (
    ExchangeRecord,
    OutlierFlag,
    PartQuote,
    ProductRecord,
    QualityTrend,
    RefundRecord,
    Remedy,
    RepairRecord,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
    WarrantyClaimCase,
    WarrantyClaimStatus,
    WarrantyRule,
    check_extra_rules,
    claim_rate_outliers,
    event_for_last_change,
    quote_part,
)


__all__ = ["WarrantyDesk", "rules_from_plugins"]


def rules_from_plugins(pm: pluggy.PluginManager) -> tuple[WarrantyRule, ...]:
    """Every rule the plugins on ``pm`` add through ``csdomain_warranty_rules``.

    Raises :class:`~csdomain.errors.PluginError` for a plugin answer that is not a list of
    rules, and (:func:`~csdomain.warranty.check_extra_rules`) for an object that is not a
    :class:`~csdomain.warranty.WarrantyRule` or for a code used twice (built-in codes
    included).
    """
    candidates: list[object] = []
    for batch in pm.hook.csdomain_warranty_rules():
        if batch is None:
            continue
        if isinstance(batch, str | bytes) or not isinstance(batch, Iterable):
            msg = f"a csdomain_warranty_rules plugin returned {describe(batch)}, not a list"
            raise PluginError(msg)
        candidates.extend(batch)
    return check_extra_rules(candidates)


def _text_arg(value: object, path: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(path, f"must be a non-empty string, got {value!r}")


def _not_future(at: datetime, now: datetime, path: str) -> None:
    if require_aware(at, path) > now:
        raise ValidationError.at(path, "is in the future")


class WarrantyDesk(DeskBase):
    """Warranty claims from submission to closing, decision analyses, fraud control, parts."""

    # -- helpers -----------------------------------------------------------------------

    def _warranty_step(
        self,
        case_id: str,
        change: Callable[[WarrantyClaimCase, datetime], WarrantyClaimCase],
    ) -> WarrantyClaimCase:
        """Load a claim, apply one step at the desk's time, save it and emit its event."""
        _text_arg(case_id, "case_id")

        def work(uow: UnitOfWork) -> WarrantyClaimCase:
            now = self.now()
            repo = uow.repo(WARRANTY_CLAIMS)
            after = change(repo.get(case_id), now)
            repo.update(after)
            uow.emit(event_for_last_change(after), at=now)
            return after

        return self.run(work)

    # -- the claim's lifecycle ---------------------------------------------------------

    def submit_warranty_claim(
        self,
        claim: WarrantyClaim,
        *,
        product: ProductRecord,
        customer_id: str,
        by: Actor,
        order_id: str | None = None,
        complaint_id: str | None = None,
        note: str = "",
    ) -> WarrantyClaimCase:
        """Receive a claim with its product record for a known customer (DOMAIN.md 4).

        The claim gets the next ``WC-{yyyy}{mm}-{seq:04d}`` number; the customer must be
        on file (claim material needs valid customer data), else :class:`NotFound`.
        """
        self.require(by, Permission.HANDLE_WARRANTY)
        _text_arg(customer_id, "customer_id")
        _text_arg(order_id, "order_id", optional=True)
        _text_arg(complaint_id, "complaint_id", optional=True)
        if not isinstance(claim, WarrantyClaim):
            raise ValidationError.at("claim", f"expected a WarrantyClaim, got {claim!r}")
        if not isinstance(product, ProductRecord):
            raise ValidationError.at("product", f"expected a ProductRecord, got {product!r}")

        def work(uow: UnitOfWork) -> WarrantyClaimCase:
            now = self.now()
            uow.repo(CUSTOMERS).get(customer_id)
            case = WarrantyClaimCase.submit(
                id=NamingSeries(self.policy.warranty.claim_number_pattern).next(uow, now),
                claim=claim,
                product=product,
                customer_id=customer_id,
                order_id=order_id,
                complaint_id=complaint_id,
                at=now,
                by=by,
                note=note,
            )
            uow.repo(WARRANTY_CLAIMS).add(case)
            uow.emit(event_for_last_change(case), at=now)
            return case

        return self.run(work)

    def evaluate_warranty_claim(
        self,
        case_id: str,
        *,
        by: Actor,
        claim: WarrantyClaim | None = None,
        note: str = "",
    ) -> WarrantyClaimCase:
        """Decide a claim under the policy and the plugins' rules; ``claim`` brings new facts.

        The decision keeps its reasons and the policy version (DOMAIN.md 4). A claim may
        be evaluated again while it is only evaluated (after inspection).
        """
        self.require(by, Permission.HANDLE_WARRANTY)
        if claim is not None and not isinstance(claim, WarrantyClaim):
            raise ValidationError.at("claim", f"expected a WarrantyClaim, got {claim!r}")
        self.bounded_text(note, "note")
        extra = rules_from_plugins(self.plugin_manager)
        policy = self.policy.warranty
        return self._warranty_step(
            case_id,
            lambda case, now: case.evaluate(
                policy, at=now, by=by, extra_rules=extra, claim=claim, note=note
            ),
        )

    @use_case(Permission.HANDLE_WARRANTY)
    def approve_warranty_claim(
        self, uow: UnitOfWork, case_id: Id, *, by: Actor, note: LongText = ""
    ) -> WarrantyClaimCase:
        """Accept the rules' decision; a claim that is not covered needs an override."""
        now = self.now()
        return self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.approve(at=now, by=by, note=note)
        )

    def override_warranty_claim(
        self,
        case_id: str,
        remedies: Iterable[Remedy],
        *,
        reason: str,
        by: Actor,
    ) -> WarrantyClaimCase:
        """Grant remedies against the rules, with a written reason (DOMAIN.md 3.6).

        The claim checks ``Permission.OVERRIDE_WARRANTY`` itself (the sales VP and above
        by default).
        """
        if not isinstance(by, Actor):
            raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
        if isinstance(remedies, str) or not isinstance(remedies, Iterable):
            raise ValidationError.at("remedies", "expected a set of remedies")
        chosen = tuple(remedies)
        access = self.policy.access
        return self._warranty_step(
            case_id,
            lambda case, now: case.override(chosen, reason=reason, at=now, by=by, access=access),
        )

    def record_warranty_repair(
        self, case_id: str, record: RepairRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record a repair visit (technician, time, work, parts); repair must be allowed."""
        self.require(by, Permission.HANDLE_WARRANTY)
        if not isinstance(record, RepairRecord):
            raise ValidationError.at("record", f"expected a RepairRecord, got {record!r}")
        _not_future(record.at, self.now(), "record.at")
        return self._warranty_step(case_id, lambda case, _now: case.record_repair(record, by=by))

    def record_warranty_exchange(
        self, case_id: str, record: ExchangeRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record the exchange for a new unit; exchange must be allowed."""
        self.require(by, Permission.HANDLE_WARRANTY)
        if not isinstance(record, ExchangeRecord):
            raise ValidationError.at("record", f"expected an ExchangeRecord, got {record!r}")
        _not_future(record.at, self.now(), "record.at")
        return self._warranty_step(case_id, lambda case, _now: case.record_exchange(record, by=by))

    def record_warranty_refund(
        self, case_id: str, record: RefundRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record the refund of the purchase price; refund must be allowed."""
        self.require(by, Permission.HANDLE_WARRANTY)
        if not isinstance(record, RefundRecord):
            raise ValidationError.at("record", f"expected a RefundRecord, got {record!r}")
        _not_future(record.at, self.now(), "record.at")
        return self._warranty_step(case_id, lambda case, _now: case.record_refund(record, by=by))

    def close_warranty_claim(self, case_id: str, *, by: Actor, note: str = "") -> WarrantyClaimCase:
        """Close a claim; the outcome (repaired, exchanged, refunded, rejected, withdrawn)
        follows from where it stood."""
        self.require(by, Permission.HANDLE_WARRANTY)
        return self._warranty_step(case_id, lambda case, now: case.close(at=now, by=by, note=note))

    # -- queries -----------------------------------------------------------------------

    @use_case(Permission.HANDLE_WARRANTY, readonly=True)
    def get_warranty_claim(self, uow: UnitOfWork, case_id: Id, *, by: Actor) -> WarrantyClaimCase:
        """The stored claim; :class:`NotFound` if there is none."""
        return uow.repo(WARRANTY_CLAIMS).get(case_id)

    def find_warranty_claims(
        self,
        *,
        by: Actor,
        status: WarrantyClaimStatus | str | None = None,
        customer_id: str | None = None,
        product_serial: str | None = None,
        limit: int | None = None,
    ) -> list[WarrantyClaimCase]:
        """Claims by status, customer and/or product serial, by claim number."""
        self.require(by, Permission.HANDLE_WARRANTY)
        where: dict[str, Any] = {}
        if status is not None:
            try:
                where["status"] = WarrantyClaimStatus(status)
            except ValueError:
                raise ValidationError.at("status", f"{status!r} is not a claim status") from None
        for name, value in (("customer_id", customer_id), ("product_serial", product_serial)):
            _text_arg(value, name, optional=True)
            if value is not None:
                where[name] = value
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ValidationError.at("limit", f"must be a whole number or None, got {limit!r}")
        return self.run(
            lambda uow: uow.repo(WARRANTY_CLAIMS).find(limit=limit, **where), readonly=True
        )

    def warranty_decisions_by_reason(
        self,
        *,
        by: Actor,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, int]:
        """How many claims' current decisions give each reason code, for the monthly analyses.

        Counts every claim with a decision made in ``start <= at < end`` (either bound may
        be left open), once per reason code; streams over the stored claims.
        """
        self.require(by, Permission.VIEW_REPORTS)
        if start is not None:
            require_aware(start, "start")
        if end is not None:
            require_aware(end, "end")
        if start is not None and end is not None and end < start:
            raise ValidationError.at("end", "is before start")

        where: dict[str, Any] = {"decided_at__ne": None}
        if start is not None:
            where["decided_at__ge"] = start
        if end is not None:
            where["decided_at__lt"] = end

        def work(uow: UnitOfWork) -> dict[str, int]:
            counts: dict[str, int] = {}
            for case in uow.repo(WARRANTY_CLAIMS).scan(**where):
                if case.decision is None:
                    continue
                for code in dict.fromkeys(case.decision.reason_codes):
                    counts[code] = counts.get(code, 0) + 1
            return dict(sorted(counts.items()))

        return self.run(work, readonly=True)

    # -- fraud control and spare parts -------------------------------------------------

    def claim_rate_outliers(
        self,
        records: Iterable[ServicePointPeriod],
        quality: Iterable[QualityTrend],
        *,
        by: Actor,
        period: str | None = None,
    ) -> tuple[OutlierFlag, ...]:
        """Service points whose claim rate is suspiciously high (DOMAIN.md 4, fraud control)."""
        self.require(by, Permission.VIEW_REPORTS)
        return claim_rate_outliers(records, quality, self.policy.warranty, period=period)

    def quote_part(self, part: SparePart, quantity: int, *, by: Actor) -> PartQuote:
        """A spare-part quote under the policy: list price, tax and freight (DOMAIN.md 4)."""
        self.require(by, Permission.HANDLE_WARRANTY)
        return quote_part(part, quantity, self.policy.warranty)
