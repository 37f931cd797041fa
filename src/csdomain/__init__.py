"""csdomain: the domain core for customer service and after-sales teams.

The public API is what ``__all__`` lists: the kernel (money, clocks, calendars, errors),
the store and plugins, the service desk, and the main models of each area. Everything
else is importable from its module (``csdomain.orders``, ``csdomain.warranty`` ...).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from csdomain.audit import AccessRecord
    from csdomain.auth import AccessPolicy, Actor, Permission
    from csdomain.calendar import BusinessCalendar, QuietHours
    from csdomain.care import CarePlan, CarePolicy, CareTouchpoint
    from csdomain.clock import Clock, FixedClock, SystemClock
    from csdomain.complaints import (
        Complaint,
        ComplaintCategory,
        ComplaintChannel,
        ComplaintNature,
        ComplaintPolicy,
        ComplaintReport,
        ComplaintStatistics,
        ComplaintStatus,
        ComplaintUrgency,
        FollowUpOutcome,
        Remedy,
        RemedyKind,
        SlaPolicy,
        SlaTarget,
    )
    from csdomain.customers import Customer, CustomerClass, CustomerPolicy, DuplicateContactWarning
    from csdomain.desk.notifications import DispatchSummary
    from csdomain.errors import (
        AlreadyExists,
        BackendNotFound,
        BackendUnavailable,
        ConcurrencyConflict,
        CsDomainError,
        CurrencyMismatch,
        InvalidTransition,
        NotFound,
        PermissionDenied,
        PluginError,
        RuleViolation,
        ValidationError,
    )
    from csdomain.events import Event
    from csdomain.hookspecs import hookimpl
    from csdomain.ids import NamingSeries
    from csdomain.kpi import (
        ContactCentrePolicy,
        ContactRecord,
        KpiReport,
        StaffPayPolicy,
        kpi_report,
    )
    from csdomain.lifecycle import StatusChange
    from csdomain.money import Money
    from csdomain.notifiers import LogNotifier, SmtpNotifier, WebhookNotifier, verify_signature
    from csdomain.notify import Message, MessageStatus, NotificationPolicy
    from csdomain.orders import (
        ConsigneeInfo,
        Order,
        OrderChannel,
        OrderKind,
        OrderLine,
        OrderPolicy,
        OrderStatus,
        ShippingMode,
        Stock,
    )
    from csdomain.policy import LimitsPolicy, Policy
    from csdomain.returns import ReceivedLine, ReturnItem, ReturnReason, ReturnRequest, ReturnStatus
    from csdomain.satisfaction import (
        SatisfactionPolicy,
        Survey,
        SurveyCampaign,
        SurveyItem,
        SurveyResponse,
        SurveyResult,
        SurveyStats,
        composite_index,
        csat,
        nps,
        servqual_gaps,
        weighted_score,
    )
    from csdomain.serialization import from_json, to_json
    from csdomain.service import Dispatcher, ServiceDesk, retrying
    from csdomain.store import Kind, Store, UnitOfWork, open_store
    from csdomain.warranty import (
        ProductRecord,
        RepairRecord,
        WarrantyClaim,
        WarrantyClaimCase,
        WarrantyDecision,
        WarrantyPolicy,
        WarrantyRule,
        claim_rate_outliers,
        evaluate_claim,
        quote_part,
    )


__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AccessPolicy": "csdomain.auth",
    "AccessRecord": "csdomain.audit",
    "Actor": "csdomain.auth",
    "AlreadyExists": "csdomain.errors",
    "BackendNotFound": "csdomain.errors",
    "BackendUnavailable": "csdomain.errors",
    "BusinessCalendar": "csdomain.calendar",
    "CarePlan": "csdomain.care",
    "CarePolicy": "csdomain.care",
    "CareTouchpoint": "csdomain.care",
    "Clock": "csdomain.clock",
    "Complaint": "csdomain.complaints",
    "ComplaintCategory": "csdomain.complaints",
    "ComplaintChannel": "csdomain.complaints",
    "ComplaintNature": "csdomain.complaints",
    "ComplaintPolicy": "csdomain.complaints",
    "ComplaintReport": "csdomain.complaints",
    "ComplaintStatistics": "csdomain.complaints",
    "ComplaintStatus": "csdomain.complaints",
    "ComplaintUrgency": "csdomain.complaints",
    "ConcurrencyConflict": "csdomain.errors",
    "ConsigneeInfo": "csdomain.orders",
    "ContactCentrePolicy": "csdomain.kpi",
    "ContactRecord": "csdomain.kpi",
    "CsDomainError": "csdomain.errors",
    "CurrencyMismatch": "csdomain.errors",
    "Customer": "csdomain.customers",
    "CustomerClass": "csdomain.customers",
    "CustomerPolicy": "csdomain.customers",
    "DispatchSummary": "csdomain.desk.notifications",
    "Dispatcher": "csdomain.service",
    "DuplicateContactWarning": "csdomain.customers",
    "Event": "csdomain.events",
    "FixedClock": "csdomain.clock",
    "FollowUpOutcome": "csdomain.complaints",
    "InvalidTransition": "csdomain.errors",
    "Kind": "csdomain.store",
    "KpiReport": "csdomain.kpi",
    "LimitsPolicy": "csdomain.policy",
    "LogNotifier": "csdomain.notifiers",
    "Message": "csdomain.notify",
    "MessageStatus": "csdomain.notify",
    "Money": "csdomain.money",
    "NamingSeries": "csdomain.ids",
    "NotFound": "csdomain.errors",
    "NotificationPolicy": "csdomain.notify",
    "Order": "csdomain.orders",
    "OrderChannel": "csdomain.orders",
    "OrderKind": "csdomain.orders",
    "OrderLine": "csdomain.orders",
    "OrderPolicy": "csdomain.orders",
    "OrderStatus": "csdomain.orders",
    "Permission": "csdomain.auth",
    "PermissionDenied": "csdomain.errors",
    "PluginError": "csdomain.errors",
    "Policy": "csdomain.policy",
    "ProductRecord": "csdomain.warranty",
    "QuietHours": "csdomain.calendar",
    "ReceivedLine": "csdomain.returns",
    "Remedy": "csdomain.complaints",
    "RemedyKind": "csdomain.complaints",
    "RepairRecord": "csdomain.warranty",
    "ReturnItem": "csdomain.returns",
    "ReturnReason": "csdomain.returns",
    "ReturnRequest": "csdomain.returns",
    "ReturnStatus": "csdomain.returns",
    "RuleViolation": "csdomain.errors",
    "SatisfactionPolicy": "csdomain.satisfaction",
    "ServiceDesk": "csdomain.service",
    "ShippingMode": "csdomain.orders",
    "SlaPolicy": "csdomain.complaints",
    "SlaTarget": "csdomain.complaints",
    "SmtpNotifier": "csdomain.notifiers",
    "StaffPayPolicy": "csdomain.kpi",
    "StatusChange": "csdomain.lifecycle",
    "Stock": "csdomain.orders",
    "Store": "csdomain.store",
    "Survey": "csdomain.satisfaction",
    "SurveyCampaign": "csdomain.satisfaction",
    "SurveyItem": "csdomain.satisfaction",
    "SurveyResponse": "csdomain.satisfaction",
    "SurveyResult": "csdomain.satisfaction",
    "SurveyStats": "csdomain.satisfaction",
    "SystemClock": "csdomain.clock",
    "UnitOfWork": "csdomain.store",
    "ValidationError": "csdomain.errors",
    "WarrantyClaim": "csdomain.warranty",
    "WarrantyClaimCase": "csdomain.warranty",
    "WarrantyDecision": "csdomain.warranty",
    "WarrantyPolicy": "csdomain.warranty",
    "WarrantyRule": "csdomain.warranty",
    "WebhookNotifier": "csdomain.notifiers",
    "claim_rate_outliers": "csdomain.warranty",
    "composite_index": "csdomain.satisfaction",
    "csat": "csdomain.satisfaction",
    "evaluate_claim": "csdomain.warranty",
    "from_json": "csdomain.serialization",
    "hookimpl": "csdomain.hookspecs",
    "kpi_report": "csdomain.kpi",
    "nps": "csdomain.satisfaction",
    "open_store": "csdomain.store",
    "quote_part": "csdomain.warranty",
    "retrying": "csdomain.service",
    "servqual_gaps": "csdomain.satisfaction",
    "to_json": "csdomain.serialization",
    "verify_signature": "csdomain.notifiers",
    "weighted_score": "csdomain.satisfaction",
}


def __getattr__(name: str) -> Any:
    """Import public names on first use, so ``import csdomain`` stays light."""
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'csdomain' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "AccessPolicy",
    "AccessRecord",
    "Actor",
    "AlreadyExists",
    "BackendNotFound",
    "BackendUnavailable",
    "BusinessCalendar",
    "CarePlan",
    "CarePolicy",
    "CareTouchpoint",
    "Clock",
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintNature",
    "ComplaintPolicy",
    "ComplaintReport",
    "ComplaintStatistics",
    "ComplaintStatus",
    "ComplaintUrgency",
    "ConcurrencyConflict",
    "ConsigneeInfo",
    "ContactCentrePolicy",
    "ContactRecord",
    "CsDomainError",
    "CurrencyMismatch",
    "Customer",
    "CustomerClass",
    "CustomerPolicy",
    "DispatchSummary",
    "Dispatcher",
    "DuplicateContactWarning",
    "Event",
    "FixedClock",
    "FollowUpOutcome",
    "InvalidTransition",
    "Kind",
    "KpiReport",
    "LimitsPolicy",
    "LogNotifier",
    "Message",
    "MessageStatus",
    "Money",
    "NamingSeries",
    "NotFound",
    "NotificationPolicy",
    "Order",
    "OrderChannel",
    "OrderKind",
    "OrderLine",
    "OrderPolicy",
    "OrderStatus",
    "Permission",
    "PermissionDenied",
    "PluginError",
    "Policy",
    "ProductRecord",
    "QuietHours",
    "ReceivedLine",
    "Remedy",
    "RemedyKind",
    "RepairRecord",
    "ReturnItem",
    "ReturnReason",
    "ReturnRequest",
    "ReturnStatus",
    "RuleViolation",
    "SatisfactionPolicy",
    "ServiceDesk",
    "ShippingMode",
    "SlaPolicy",
    "SlaTarget",
    "SmtpNotifier",
    "StaffPayPolicy",
    "StatusChange",
    "Stock",
    "Store",
    "Survey",
    "SurveyCampaign",
    "SurveyItem",
    "SurveyResponse",
    "SurveyResult",
    "SurveyStats",
    "SystemClock",
    "UnitOfWork",
    "ValidationError",
    "WarrantyClaim",
    "WarrantyClaimCase",
    "WarrantyDecision",
    "WarrantyPolicy",
    "WarrantyRule",
    "WebhookNotifier",
    "__version__",
    "claim_rate_outliers",
    "composite_index",
    "csat",
    "evaluate_claim",
    "from_json",
    "hookimpl",
    "kpi_report",
    "nps",
    "open_store",
    "quote_part",
    "retrying",
    "servqual_gaps",
    "to_json",
    "verify_signature",
    "weighted_score",
]
