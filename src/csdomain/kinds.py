"""The stored kinds of csdomain: each model, its key and its declared index fields.

These declarations are what backends see: one document collection per kind with the
listed index fields as real, indexed columns. They are registered in
:data:`csdomain.store.KINDS` on import, and :class:`~csdomain.store.UnitOfWork` exposes
them as ``uow.customers``, ``uow.orders`` ... (the ``attribute`` of each kind).
"""

from __future__ import annotations

from operator import attrgetter

from csdomain.audit import AccessRecord
from csdomain.auth import normal_identity
from csdomain.complaints import Complaint, complaint_events
from csdomain.customers import (
    Customer,
    CustomerHandover,
    CustomerPolicy,
    Interaction,
    customer_events,
    handover_events,
    interaction_events,
)
from csdomain.events import Event
from csdomain.fieldservice import (
    ASSIGNED_STATUSES,
    MaintenancePlan,
    PointAssessment,
    ProductFile,
    ServiceArea,
    ServiceOrder,
    ServicePoint,
    Technician,
    product_file_events,
    service_order_events,
)
from csdomain.fieldservice.cash import CashHandover
from csdomain.fieldservice.partstock import PartMovement, PartStock, PartTransfer
from csdomain.kpi import ContactRecord
from csdomain.notify import Message
from csdomain.orders import (
    DeliveryProblemCase,
    Order,
    Stock,
    delivery_problem_events,
    order_events,
)
from csdomain.returns import ReturnRequest, return_events
from csdomain.satisfaction import (
    SatisfactionMonitor,
    Survey,
    SurveyCampaign,
    SurveyResponse,
    monitor_events,
)
from csdomain.store import KINDS, OUTBOX, Index, Kind, counter_fold
from csdomain.warranty import RuleGuard, ServiceBom, WarrantyClaimCase, event_for_last_change


__all__ = [
    "ACCESS_LOG",
    "CASH_HANDOVERS",
    "COMPLAINTS",
    "CONTACTS",
    "CUSTOMERS",
    "CUSTOMER_HANDOVERS",
    "DELIVERY_PROBLEMS",
    "INTERACTIONS",
    "MAINTENANCE_PLANS",
    "MESSAGES",
    "ORDERS",
    "OUTBOX",
    "PART_MOVEMENTS",
    "PART_STOCKS",
    "PART_TRANSFERS",
    "PRODUCT_FILES",
    "RETURNS",
    "RULE_GUARDS",
    "SATISFACTION_MONITORS",
    "SERVICE_AREAS",
    "SERVICE_BOMS",
    "SERVICE_ORDERS",
    "SERVICE_POINTS",
    "SERVICE_POINT_ASSESSMENTS",
    "STOCKS",
    "SURVEYS",
    "SURVEY_CAMPAIGNS",
    "SURVEY_RESPONSES",
    "TECHNICIANS",
    "WARRANTY_CLAIMS",
]


def _warranty_events(_before: WarrantyClaimCase | None, after: WarrantyClaimCase) -> list[Event]:
    return [event_for_last_change(after)]


def _account_manager(customer: Customer) -> str | None:
    """The account manager as identities are compared (NFKC, case-folded), for handovers."""
    return normal_identity(customer.account_manager) or None


CUSTOMERS: Kind[Customer] = KINDS.register(
    Kind(
        "customer",
        Customer,
        indexes=[
            "code",
            "phone_tail",
            "bank_account_key",
            "customer_class",
            "city",
            Index("account_manager", "text", _account_manager),
            "first_contact_due",
        ],
        events=customer_events,
    )
)
INTERACTIONS: Kind[Interaction] = KINDS.register(
    Kind(
        "interaction",
        Interaction,
        indexes=["customer_id", "channel", "at", "source"],
        composite=(("customer_id", "at"),),
        events=interaction_events,
    )
)
CUSTOMER_HANDOVERS: Kind[CustomerHandover] = KINDS.register(
    Kind(
        "customer_handover",
        CustomerHandover,
        indexes=["leaving", "successor", "at"],
        events=handover_events,
    )
)
#: Counter keys carry no personal data: the customer-code counters an older csdomain kept
#: per name (``series:Wuhan-202611-Chen Wei-#``) fold into the city-month counter when a
#: store is opened (:meth:`csdomain.ids.NamingSeries.fold_uncounted`).
KINDS.register_migration(
    counter_fold("customer-code-counters", CustomerPolicy().code_series().fold_uncounted)
)
ACCESS_LOG: Kind[AccessRecord] = KINDS.register(
    Kind(
        "access_record",
        AccessRecord,
        indexes=["customer_id", "actor_id", "at"],
        composite=(("customer_id", "at"),),
        attribute="access_log",
    )
)
ORDERS: Kind[Order] = KINDS.register(
    Kind(
        "order",
        Order,
        indexes=[
            "customer_id",
            "status",
            "channel",
            "kind",
            "dealer_id",
            "salesperson",
            "placed_at",
            Index("delivered_at"),
        ],
        composite=(("customer_id", "status"),),
        events=order_events,
    )
)
STOCKS: Kind[Stock] = KINDS.register(Kind("stock", Stock))
RETURNS: Kind[ReturnRequest] = KINDS.register(
    Kind(
        "return_request",
        ReturnRequest,
        indexes=["order_id", "customer_id", "status", "requested_by", "received_at"],
        attribute="returns",
        events=return_events,
    )
)
#: Delivery problems customers raise, from the report to the outcome (docs/domain.md 2, 9).
DELIVERY_PROBLEMS: Kind[DeliveryProblemCase] = KINDS.register(
    Kind(
        "delivery_problem",
        DeliveryProblemCase,
        indexes=["order_id", "customer_id", "status", "kind", "reported_at"],
        events=delivery_problem_events,
    )
)
COMPLAINTS: Kind[Complaint] = KINDS.register(
    Kind(
        "complaint",
        Complaint,
        indexes=[
            "customer_id",
            "order_id",
            "status",
            "urgency",
            "category",
            "owner_role",
            "owner_id",
            Index("escalation_level", "integer"),
            "received_at",
            "respond_by",
            "resolve_by",
            "follow_up_due",
        ],
        events=complaint_events,
    )
)
WARRANTY_CLAIMS: Kind[WarrantyClaimCase] = KINDS.register(
    Kind(
        "warranty_claim",
        WarrantyClaimCase,
        indexes=[
            "status",
            "customer_id",
            "order_id",
            "complaint_id",
            Index("product_serial", "text", lambda case: case.claim.product_serial),
            "decided_at",
            "service_point_id",
            "submitted_at",
        ],
        events=_warranty_events,
    )
)
#: Slots of the "at most one" rules (one active claim per product and fault, one survey
#: response per customer and campaign): adding a guard is the write that competing units
#: of work conflict on (csdomain.warranty.guards).
RULE_GUARDS: Kind[RuleGuard] = KINDS.register(
    Kind("rule_guard", RuleGuard, indexes=["rule", "holder"])
)
SURVEYS: Kind[Survey] = KINDS.register(Kind("survey", Survey))
SATISFACTION_MONITORS: Kind[SatisfactionMonitor] = KINDS.register(
    Kind(
        "satisfaction_monitor",
        SatisfactionMonitor,
        indexes=["subject", "metric", "status"],
        events=monitor_events,
    )
)
SURVEY_CAMPAIGNS: Kind[SurveyCampaign] = KINDS.register(
    Kind("survey_campaign", SurveyCampaign, indexes=["survey_id", "status", "starts_on"])
)
SURVEY_RESPONSES: Kind[SurveyResponse] = KINDS.register(
    Kind(
        "survey_response",
        SurveyResponse,
        indexes=["survey_id", "customer_id", "campaign_id", "answered_at"],
    )
)
CONTACTS: Kind[ContactRecord] = KINDS.register(
    Kind("contact_record", ContactRecord, indexes=["offered_at", "direction", "agent"])
)
MESSAGES: Kind[Message] = KINDS.register(
    Kind(
        "message",
        Message,
        indexes=[
            "status",
            "due_at",
            "kind",
            "channel",
            "customer_id",
            "idempotency_key",
            "created_at",
            "waiting_for",
        ],
        composite=(("status", "due_at"),),
    )
)


# -- field service (issue #18) ---------------------------------------------------------------


def _booked_technician(order: ServiceOrder) -> str | None:
    """The technician holding the job now (dispatched, en route, on site, waiting)."""
    return order.technician_id if order.status in ASSIGNED_STATUSES else None


def _visit_day(order: ServiceOrder) -> str | None:
    """The local day of the booked visit, while a technician holds the job."""
    if order.status not in ASSIGNED_STATUSES or not order.dispatches:
        return None
    return order.dispatches[-1].day.isoformat()


PRODUCT_FILES: Kind[ProductFile] = KINDS.register(
    Kind(
        "product_file",
        ProductFile,
        indexes=["customer_id", "model", "category", "service_area_id", "order_id"],
        key=lambda product: product.serial,
        events=product_file_events,
    )
)
SERVICE_AREAS: Kind[ServiceArea] = KINDS.register(
    Kind("service_area", ServiceArea, indexes=["district", "region"])
)
SERVICE_POINTS: Kind[ServicePoint] = KINDS.register(
    Kind("service_point", ServicePoint, indexes=["district", "region", "ownership"])
)
TECHNICIANS: Kind[Technician] = KINDS.register(
    Kind(
        "technician",
        Technician,
        indexes=["service_point_id", "district", Index("active", "integer")],
    )
)
SERVICE_ORDERS: Kind[ServiceOrder] = KINDS.register(
    Kind(
        "service_order",
        ServiceOrder,
        indexes=[
            "status",
            "kind",
            "customer_id",
            "product_serial",
            "service_area_id",
            "district",
            "urgency",
            "follow_up_of",
            "received_at",
            "respond_by",
            "on_site_by",
            "fix_by",
            "fixed_at",
            Index("technician_id", "text", lambda order: order.technician_id),
            Index("booked_technician", "text", _booked_technician),
            Index("visit_day", "text", _visit_day),
        ],
        composite=(("booked_technician", "visit_day"),),
        events=service_order_events,
    )
)
SERVICE_POINT_ASSESSMENTS: Kind[PointAssessment] = KINDS.register(
    Kind(
        "service_point_assessment",
        PointAssessment,
        indexes=[
            "service_point_id",
            Index("period_end", "text", lambda assessment: assessment.period_end.isoformat()),
        ],
    )
)
MAINTENANCE_PLANS: Kind[MaintenancePlan] = KINDS.register(
    Kind(
        "maintenance_plan",
        MaintenancePlan,
        indexes=["customer_id", "model", Index("active", "integer")],
        key=lambda plan: plan.product_serial,
    )
)
# -- spare parts at the service points (issue #18, 配件管理) -----------------------------------
PART_STOCKS: Kind[PartStock] = KINDS.register(
    Kind(
        "part_stock",
        PartStock,
        indexes=[
            "service_point_id",
            Index("part_number", "text", lambda stock: stock.part_number),
        ],
    )
)
PART_MOVEMENTS: Kind[PartMovement] = KINDS.register(
    Kind(
        "part_movement",
        PartMovement,
        indexes=["service_point_id", "part_number", "kind", "reference", "at"],
        composite=(("service_point_id", "at"),),
    )
)
PART_TRANSFERS: Kind[PartTransfer] = KINDS.register(
    Kind(
        "part_transfer",
        PartTransfer,
        indexes=["source_point_id", "destination_point_id", "status", "received_at"],
    )
)
# -- the technician's cash handed over to finance (issue #18, Charging) -----------------------
CASH_HANDOVERS: Kind[CashHandover] = KINDS.register(
    Kind("cash_handover", CashHandover, indexes=["technician_id", "at"])
)
#: The service BOM of each product model (服务BOM), keyed by the model.
SERVICE_BOMS: Kind[ServiceBom] = KINDS.register(
    Kind("service_bom", ServiceBom, key=attrgetter("product"))
)
