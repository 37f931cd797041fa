"""Warranty and the "three guarantees" (三包: 修理、更换、退货), docs/domain.md section 4.

The package has one module per idea, all pure (no I/O, no clock, no plugin manager):

- :mod:`~csdomain.warranty.policy`: :class:`WarrantyPolicy`, every number of the three
  guarantees (``Policy().warranty``).
- :mod:`~csdomain.warranty.claims`: the facts of a claim (:class:`WarrantyClaim`), the
  product record and the records of each remedy carried out.
- :mod:`~csdomain.warranty.rules`: :func:`evaluate_claim` runs small
  :class:`WarrantyRule` objects over a claim and combines what they find into a
  :class:`WarrantyDecision`: ``covered``, the ``remedies`` the customer may choose from and
  the ``reasons`` (stable codes plus a sentence each) that explain it, stamped with the
  policy version. The built-in rules are the documents' seven exclusions and the remedy
  ladder (refund, exchange or repair within the return window; exchange or repair within
  the exchange window; repair within the warranty period, exchange or refund after
  repeated failed repairs). Industry plugins add rules through the
  ``csdomain_warranty_rules`` hook; the service desk collects them
  (:func:`csdomain.desk.warranty.rules_from_plugins`) and :func:`check_extra_rules`
  checks them.
- :mod:`~csdomain.warranty.case`: :class:`WarrantyClaimCase` is the stored aggregate:
  submitted with its product record and customer, evaluated, approved or overridden (with
  authority and a written reason), repaired / exchanged / refunded, closed.
- :mod:`~csdomain.warranty.events`: one event per step (:func:`event_for_last_change`).
- :mod:`~csdomain.warranty.fraud`: :func:`claim_rate_outliers` compares each service
  point's claim rate with its regional peers, its own history and the production-quality
  trend, streaming.
- :mod:`~csdomain.warranty.guards`: :class:`RuleGuard`, the stored slot that holds an
  "at most one" rule under concurrency (one active claim per product and fault, one
  survey response per customer and campaign).
- :mod:`~csdomain.warranty.parts`: :func:`quote_part` prices a spare part by its kind and
  shows list price, tax and freight line by line; the assembled parts of a product's
  :class:`ServiceBom` share twice its dealer price.

Every name is importable from ``csdomain.warranty`` itself.
"""

from __future__ import annotations

from csdomain.warranty.case import (
    WARRANTY_CLAIM_LIFECYCLE,
    WARRANTY_CLAIM_TRANSITIONS,
    WarrantyClaimCase,
    WarrantyClaimOutcome,
    WarrantyClaimStatus,
)
from csdomain.warranty.claims import (
    Cause,
    ExchangeRecord,
    ProductRecord,
    Proof,
    RefundRecord,
    Remedy,
    RepairRecord,
    ReplacedPart,
    WarrantyClaim,
    WarrantyOverride,
)
from csdomain.warranty.events import (
    WarrantyClaimApproved,
    WarrantyClaimClosed,
    WarrantyClaimEvaluated,
    WarrantyClaimExchanged,
    WarrantyClaimOverridden,
    WarrantyClaimRefunded,
    WarrantyClaimRepaired,
    WarrantyClaimSubmitted,
    event_for_last_change,
)
from csdomain.warranty.fraud import (
    Comparison,
    OutlierFlag,
    QualityTrend,
    ServicePointPeriod,
    claim_rate_outliers,
)
from csdomain.warranty.guards import RuleGuard, guard_key
from csdomain.warranty.parts import (
    BomLine,
    PartKind,
    PartQuote,
    QuoteLine,
    ServiceBom,
    SparePart,
    quote_part,
)
from csdomain.warranty.policy import BUILTIN_RULE_CODES, WarrantyPolicy, WarrantyTerms
from csdomain.warranty.rules import (
    BUILTIN_RULES,
    CauseExcluded,
    CertificateAltered,
    Effect,
    NoProofOfPurchase,
    PeriodExpired,
    Reason,
    RemedyWindows,
    RepairDelays,
    RepairGuarantee,
    SerialMismatch,
    UnauthorisedRepair,
    WarrantyDecision,
    WarrantyRule,
    check_extra_rules,
    evaluate_claim,
)


__all__ = [
    "BUILTIN_RULES",
    "BUILTIN_RULE_CODES",
    "WARRANTY_CLAIM_LIFECYCLE",
    "WARRANTY_CLAIM_TRANSITIONS",
    "BomLine",
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
    "RepairDelays",
    "RepairGuarantee",
    "RepairRecord",
    "ReplacedPart",
    "RuleGuard",
    "SerialMismatch",
    "ServiceBom",
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
    "check_extra_rules",
    "claim_rate_outliers",
    "evaluate_claim",
    "event_for_last_change",
    "guard_key",
    "quote_part",
]
