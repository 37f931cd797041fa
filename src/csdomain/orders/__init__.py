"""Orders, stock and delivery: from order to shipment (docs/domain.md 2, 订货 → 发货).

One package, split where the ideas split; every name is importable from here:

- :mod:`~csdomain.orders.model`: :class:`Order`, its lines, consignee, payments and
  shipment, the statuses, :data:`ORDER_TRANSITIONS` (placed -> confirmed -> paid ->
  shipped -> delivered -> completed; custom work through prepaid, in production and
  produced; cancellation before shipment) and the command table beside it
  (:data:`ORDER_LIFECYCLE`: every status change goes through its ``move``);
- :mod:`~csdomain.orders.stock`: :class:`Stock` of one SKU, good, damaged and gift
  quantities (正品/残品/赠品) with reservations, never negative, and its weekly
  stock-takes (:class:`StockCount`), booked only once approved;
- :mod:`~csdomain.orders.fulfilment`: the pure coordinators :func:`reserve_order`,
  :func:`release_order`, :func:`ship_order` that change an order and its stock together,
  and the daily out-of-stock list :func:`orders_awaiting_stock`;
- :mod:`~csdomain.orders.delivery`: the delivery promise and delivery problems;
- :mod:`~csdomain.orders.problems`: delivery problems as stored cases
  (:class:`DeliveryProblemCase`: reported -> routed -> being remedied -> resolved or
  closed), the make-up shipment :func:`ship_make_up` and the monthly
  :func:`delivery_problem_analysis`;
- :mod:`~csdomain.orders.policy`: :class:`OrderPolicy`;
- :mod:`~csdomain.orders.events`: the events and :func:`order_events`.

Conventions for the service layer:

- Every state-changing method takes ``by: Actor`` and ``access: AccessPolicy`` and checks
  the permission itself (permission first, then state, then business rules).
- Methods return new aggregates. :func:`order_events` derives the order's events from two
  versions (``before=None`` for a new order); the coordinators return their events; for
  the single-stock methods (:meth:`Stock.receive`, :meth:`Stock.mark_damaged`,
  :meth:`Stock.write_off`) the service builds :class:`StockReceived`,
  :class:`StockMarkedDamaged` and :class:`StockWrittenOff` from its own arguments.
"""

from __future__ import annotations

from csdomain.orders.delivery import (
    DeliveryProblem,
    DeliveryProblemAssessment,
    DeliveryProblemKind,
    DeliveryWindow,
    assess_delivery_problem,
    promise_delivery,
    usual_delivery,
)
from csdomain.orders.events import (
    DamageApplied,
    DamageRejected,
    OrderCancelled,
    OrderCompleted,
    OrderConfirmed,
    OrderConfirmedBySalesperson,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderPrepaid,
    OrderPriceChanged,
    OrderShipped,
    PaymentRecorded,
    ProductionFinished,
    ProductionStarted,
    StockAdjusted,
    StockCounted,
    StockCountRejected,
    StockIssued,
    StockMarkedDamaged,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
    StockWrittenOff,
    order_events,
)
from csdomain.orders.fulfilment import (
    AwaitingStock,
    ShipmentResult,
    StockShortage,
    StockUpdate,
    orders_awaiting_stock,
    release_order,
    reserve_order,
    ship_order,
)
from csdomain.orders.model import (
    OPEN_ORDER_STATUSES,
    ORDER_COMMANDS,
    ORDER_INITIAL,
    ORDER_LIFECYCLE,
    ORDER_TERMINAL,
    ORDER_TRANSITIONS,
    REDACTED,
    SHIPPING_DETAILS,
    ConsigneeInfo,
    LineKey,
    Order,
    OrderChannel,
    OrderKind,
    OrderLine,
    OrderStatus,
    Payment,
    PriceChange,
    Shipment,
    ShipmentLine,
    ShippingMode,
    choose_shipping_mode,
)
from csdomain.orders.policy import (
    OrderPolicy,
)
from csdomain.orders.problems import (
    CLOSING_OUTCOMES,
    PROBLEM_COMMANDS,
    PROBLEM_INITIAL,
    PROBLEM_LIFECYCLE,
    PROBLEM_TERMINAL,
    PROBLEM_TRANSITIONS,
    DeliveryProblemAnalysisRow,
    DeliveryProblemCase,
    DeliveryProblemClosed,
    DeliveryProblemReported,
    DeliveryProblemResolved,
    DeliveryProblemReturnLinked,
    DeliveryProblemRouted,
    LateDeliveryEscalated,
    MakeUpResult,
    MakeUpShipment,
    MakeUpShipped,
    ProblemLine,
    ProblemOutcome,
    ProblemStatus,
    delivery_problem_analysis,
    delivery_problem_events,
    ship_make_up,
)
from csdomain.orders.stock import (
    ApplicationStatus,
    CountLine,
    CountStatus,
    DamageAnalysisRow,
    DamageApplication,
    DamageEntry,
    DamageKind,
    ItemCondition,
    Reservation,
    Stock,
    StockBucket,
    StockCount,
    damage_analysis,
    stock_counts_due,
)


__all__ = [
    "CLOSING_OUTCOMES",
    "OPEN_ORDER_STATUSES",
    "ORDER_COMMANDS",
    "ORDER_INITIAL",
    "ORDER_LIFECYCLE",
    "ORDER_TERMINAL",
    "ORDER_TRANSITIONS",
    "PROBLEM_COMMANDS",
    "PROBLEM_INITIAL",
    "PROBLEM_LIFECYCLE",
    "PROBLEM_TERMINAL",
    "PROBLEM_TRANSITIONS",
    "REDACTED",
    "SHIPPING_DETAILS",
    "ApplicationStatus",
    "AwaitingStock",
    "ConsigneeInfo",
    "CountLine",
    "CountStatus",
    "DamageAnalysisRow",
    "DamageApplication",
    "DamageApplied",
    "DamageEntry",
    "DamageKind",
    "DamageRejected",
    "DeliveryProblem",
    "DeliveryProblemAnalysisRow",
    "DeliveryProblemAssessment",
    "DeliveryProblemCase",
    "DeliveryProblemClosed",
    "DeliveryProblemKind",
    "DeliveryProblemReported",
    "DeliveryProblemResolved",
    "DeliveryProblemReturnLinked",
    "DeliveryProblemRouted",
    "DeliveryWindow",
    "ItemCondition",
    "LateDeliveryEscalated",
    "LineKey",
    "MakeUpResult",
    "MakeUpShipment",
    "MakeUpShipped",
    "Order",
    "OrderCancelled",
    "OrderChannel",
    "OrderCompleted",
    "OrderConfirmed",
    "OrderConfirmedBySalesperson",
    "OrderDelivered",
    "OrderKind",
    "OrderLine",
    "OrderPaid",
    "OrderPlaced",
    "OrderPolicy",
    "OrderPrepaid",
    "OrderPriceChanged",
    "OrderShipped",
    "OrderStatus",
    "Payment",
    "PaymentRecorded",
    "PriceChange",
    "ProblemLine",
    "ProblemOutcome",
    "ProblemStatus",
    "ProductionFinished",
    "ProductionStarted",
    "Reservation",
    "Shipment",
    "ShipmentLine",
    "ShipmentResult",
    "ShippingMode",
    "Stock",
    "StockAdjusted",
    "StockBucket",
    "StockCount",
    "StockCountRejected",
    "StockCounted",
    "StockIssued",
    "StockMarkedDamaged",
    "StockReceived",
    "StockReleased",
    "StockReserved",
    "StockReturned",
    "StockShortage",
    "StockUpdate",
    "StockWrittenOff",
    "assess_delivery_problem",
    "choose_shipping_mode",
    "damage_analysis",
    "delivery_problem_analysis",
    "delivery_problem_events",
    "order_events",
    "orders_awaiting_stock",
    "promise_delivery",
    "release_order",
    "reserve_order",
    "ship_make_up",
    "ship_order",
    "stock_counts_due",
    "usual_delivery",
]
