"""Field service and repair orders: the after-sales job from the customer's call to settlement.

The after-sales handbook's daily work, 现场服务的受理、派工、上门服务、服务结算跟进 (receiving a
service call, dispatching, the on-site visit, settlement), on the three base data sets
(product files, customer files, the service fee schedule). Everything here is pure: time
comes in as ``at=``, numbers from :class:`FieldServicePolicy` (``Policy().fieldservice``),
working hours from a :class:`~csdomain.calendar.BusinessCalendar`.

- :mod:`~csdomain.fieldservice.classification`: the kinds of job, their sources, routes
  and service-point ownership.
- :mod:`~csdomain.fieldservice.triage`: :func:`triage_symptoms` over a fault guide of
  :class:`FaultEntry` rows: likely causes, measures, parts, skills, on site or back to
  the factory or phone guidance, repairable or not, each with a :class:`Finding`.
- :mod:`~csdomain.fieldservice.policy`: :class:`FieldServicePolicy`, the
  :class:`ServicePromise` per urgency, the :class:`FeeSchedule`.
- :mod:`~csdomain.fieldservice.network`: territories (:class:`ServiceArea` of a district
  of a region), :class:`ServicePoint` (own or contracted), :class:`Technician` (skills,
  areas, daily capacity, calendar, blackout days).
- :mod:`~csdomain.fieldservice.products`: :class:`ProductFile`, the installed base,
  registered by hand or from a shipped order (:func:`product_files_from_order`).
- :mod:`~csdomain.fieldservice.promise`: the promise's deadlines on business calendars.
- :mod:`~csdomain.fieldservice.visits` and :mod:`~csdomain.fieldservice.charges`:
  dispatches, visit records, parts used, the sign-off; charge lines, quotes, approvals,
  settlements, :func:`price_work` under the fee schedule.
- :mod:`~csdomain.fieldservice.order`: :class:`ServiceOrder` and its lifecycle
  (:data:`SERVICE_ORDER_LIFECYCLE`); late jobs climb the complaint area's ladder.
- :mod:`~csdomain.fieldservice.dispatch`: :func:`suggest_technicians`, ranked with reasons.
- :mod:`~csdomain.fieldservice.contracts`, :mod:`~csdomain.fieldservice.plans`,
  :mod:`~csdomain.fieldservice.statements`: service-point contracts and assessments,
  maintenance plans, a contracted point's monthly statement (the service network page).
- :mod:`~csdomain.fieldservice.partstock` and :mod:`~csdomain.fieldservice.partreports`:
  spare-part stock per service point (receipts, issues to jobs, transfers 调拨, write-offs
  核销), the monthly parts reconciliation, the reserve plan and the stock's age.
- :mod:`~csdomain.fieldservice.overdue`, :mod:`~csdomain.fieldservice.events`,
  :mod:`~csdomain.fieldservice.reports`: missed promises, events, daily report and KPIs.

The modules import one way, without cycles: ``classification`` → ``triage`` → ``policy``
→ ``network``, ``products``, ``promise``, ``visits`` → ``charges`` → ``order`` →
``dispatch``, ``overdue``, ``events``, ``reports``. This package re-exports every name.
"""

from __future__ import annotations

from csdomain.fieldservice.cash import CashHandover, CashReconciliation, cash_reconciliation
from csdomain.fieldservice.charges import (
    ChargeKind,
    ChargeLine,
    Coverage,
    QuoteApproval,
    ServiceQuote,
    Settlement,
    price_work,
    total_of,
)
from csdomain.fieldservice.classification import (
    PointOwnership,
    ServiceOrderKind,
    ServiceOrderSource,
    ServiceRoute,
)
from csdomain.fieldservice.contracts import (
    CONTRACT_LIFECYCLE,
    CONTRACT_TRANSITIONS,
    ContractStatus,
    PointAssessment,
    assess,
    grade_for,
)
from csdomain.fieldservice.dispatch import (
    Candidate,
    PassedOver,
    Slot,
    Suggestion,
    check_available,
    day_plan,
    earliest_slot,
    suggest_technicians,
)
from csdomain.fieldservice.events import (
    ProductFileRegistered,
    ServiceOrderDispatched,
    ServiceOrderEscalated,
    ServiceOrderOpened,
    ServiceOrderSettled,
    ServiceOrderStatusChanged,
    escalation_target,
    product_file_events,
    service_order_events,
)
from csdomain.fieldservice.network import ServiceArea, ServicePoint, Technician, check_takes_jobs
from csdomain.fieldservice.order import (
    ASSIGNED_STATUSES,
    OPEN_SERVICE_STATUSES,
    SERVICE_ORDER_LIFECYCLE,
    SERVICE_ORDER_TRANSITIONS,
    ServiceOrder,
    ServiceOrderStatus,
    check_technician_fits,
)
from csdomain.fieldservice.overdue import PromiseBreach, PromiseTarget, breaches, promise_breaches
from csdomain.fieldservice.partreports import (
    JobParts,
    PartReconciliation,
    ReconciliationLine,
    ReserveLine,
    ReservePlan,
    StockAge,
    reconcile_parts,
    reserve_plan,
    stock_age,
)
from csdomain.fieldservice.partstock import (
    PART_TRANSFER_LIFECYCLE,
    PART_TRANSFER_TRANSITIONS,
    MovementKind,
    PartLot,
    PartMovement,
    PartStock,
    PartTransfer,
    ReceiptLine,
    TransferLine,
    TransferStatus,
    check_receipt,
    part_stock_key,
)
from csdomain.fieldservice.plans import (
    MaintenanceFrequency,
    MaintenancePlan,
    PlanRun,
    due_now,
    occurrences,
)
from csdomain.fieldservice.policy import (
    DistanceBand,
    FeeSchedule,
    FieldServicePolicy,
    ServicePromise,
)
from csdomain.fieldservice.products import (
    MAINTAINED_FIELDS,
    ProductFile,
    ProductFileChange,
    ServiceHistoryEntry,
    ShippedUnit,
    product_files_from_order,
)
from csdomain.fieldservice.promise import FIELD_SERVICE_TEAM, call_deadlines, fix_deadline
from csdomain.fieldservice.reports import (
    DayJob,
    ServiceKpiAccumulator,
    ServiceKpis,
    TechnicianDayReport,
    technician_daily_report,
)
from csdomain.fieldservice.statements import (
    MonthlyStatement,
    StatementLine,
    monthly_statement,
    point_fee,
)
from csdomain.fieldservice.triage import FaultEntry, Finding, TriageResult, triage_symptoms
from csdomain.fieldservice.visits import Dispatch, PartUse, SignOff, VisitRecord


__all__ = [
    "ASSIGNED_STATUSES",
    "CONTRACT_LIFECYCLE",
    "CONTRACT_TRANSITIONS",
    "FIELD_SERVICE_TEAM",
    "MAINTAINED_FIELDS",
    "OPEN_SERVICE_STATUSES",
    "PART_TRANSFER_LIFECYCLE",
    "PART_TRANSFER_TRANSITIONS",
    "SERVICE_ORDER_LIFECYCLE",
    "SERVICE_ORDER_TRANSITIONS",
    "Candidate",
    "CashHandover",
    "CashReconciliation",
    "ChargeKind",
    "ChargeLine",
    "ContractStatus",
    "Coverage",
    "DayJob",
    "Dispatch",
    "DistanceBand",
    "FaultEntry",
    "FeeSchedule",
    "FieldServicePolicy",
    "Finding",
    "JobParts",
    "MaintenanceFrequency",
    "MaintenancePlan",
    "MonthlyStatement",
    "MovementKind",
    "PartLot",
    "PartMovement",
    "PartReconciliation",
    "PartStock",
    "PartTransfer",
    "PartUse",
    "PassedOver",
    "PlanRun",
    "PointAssessment",
    "PointOwnership",
    "ProductFile",
    "ProductFileChange",
    "ProductFileRegistered",
    "PromiseBreach",
    "PromiseTarget",
    "QuoteApproval",
    "ReceiptLine",
    "ReconciliationLine",
    "ReserveLine",
    "ReservePlan",
    "ServiceArea",
    "ServiceHistoryEntry",
    "ServiceKpiAccumulator",
    "ServiceKpis",
    "ServiceOrder",
    "ServiceOrderDispatched",
    "ServiceOrderEscalated",
    "ServiceOrderKind",
    "ServiceOrderOpened",
    "ServiceOrderSettled",
    "ServiceOrderSource",
    "ServiceOrderStatus",
    "ServiceOrderStatusChanged",
    "ServicePoint",
    "ServicePromise",
    "ServiceQuote",
    "ServiceRoute",
    "Settlement",
    "ShippedUnit",
    "SignOff",
    "Slot",
    "StatementLine",
    "StockAge",
    "Suggestion",
    "Technician",
    "TechnicianDayReport",
    "TransferLine",
    "TransferStatus",
    "TriageResult",
    "VisitRecord",
    "assess",
    "breaches",
    "call_deadlines",
    "cash_reconciliation",
    "check_available",
    "check_receipt",
    "check_takes_jobs",
    "check_technician_fits",
    "day_plan",
    "due_now",
    "earliest_slot",
    "escalation_target",
    "fix_deadline",
    "grade_for",
    "monthly_statement",
    "occurrences",
    "part_stock_key",
    "point_fee",
    "price_work",
    "product_file_events",
    "product_files_from_order",
    "promise_breaches",
    "reconcile_parts",
    "reserve_plan",
    "service_order_events",
    "stock_age",
    "suggest_technicians",
    "technician_daily_report",
    "total_of",
    "triage_symptoms",
]
