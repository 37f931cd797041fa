"""How a service order is classified: its kind, where it came from, how it is handled.

The vocabulary every other field-service module uses, so it depends on nothing else of
them. Source: the after-sales handbook's service promise covers "installation, user
training, repair, exchange and return"; periodic maintenance follows a maintenance plan;
return-to-factory repair (寄修) is the alternative to a visit.
"""

from __future__ import annotations

from enum import StrEnum


__all__ = ["PointOwnership", "ServiceOrderKind", "ServiceOrderSource", "ServiceRoute"]


class ServiceOrderKind(StrEnum):
    """What the job is (工单类型)."""

    INSTALLATION = "installation"
    USER_TRAINING = "user_training"
    REPAIR = "repair"
    PLANNED_MAINTENANCE = "planned_maintenance"
    INSPECTION = "inspection"
    #: The product is sent in and repaired at the factory or a workshop (寄修, 返厂维修).
    RETURN_TO_FACTORY = "return_to_factory"


class ServiceOrderSource(StrEnum):
    """Where the job came from."""

    CALL = "call"
    COMPLAINT = "complaint"
    WARRANTY_CLAIM = "warranty_claim"
    CARE_REMINDER = "care_reminder"
    MAINTENANCE_PLAN = "maintenance_plan"


class ServiceRoute(StrEnum):
    """How triage says the job is best handled."""

    #: A technician visits the customer's site.
    ON_SITE = "on_site"
    #: The product goes back to the factory (返厂维修).
    RETURN_TO_FACTORY = "return_to_factory"
    #: Phone guidance by the dispatch centre is likely to clear it (no visit needed).
    REMOTE = "remote"


class PointOwnership(StrEnum):
    """Whether a service point is the company's own or a contracted one (外包售后网点)."""

    OWN = "own"
    CONTRACTED = "contracted"
