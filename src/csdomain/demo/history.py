"""A year of past business for the medium and large demo data sets, written in bulk.

The demo's story runs through :class:`~csdomain.service.ServiceDesk` use cases, one unit
of work each, which is right for showing the rules but too slow for a million rows. The
history before it is stored with ``add_many`` in large batches, a few units of work per
kind. Nothing here emits events: it is the past, already notified.

Every order and complaint is built once, in its final state, through its normal
(validating) constructor with its whole history, instead of being moved step by step:
each step of a lifecycle method re-validates the whole aggregate, which made the history
ten times slower than the store. The steps are the ones the lifecycle methods take (the
same transitions, times, actors, payments, shipments, deadlines and follow-up plans):
the paths are checked against the transition tables and the actors' permissions once,
up front, and ``tests/test_demo.py`` checks that the result equals playing the lifecycle
methods on the same seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice, pairwise
from typing import Any, TypeVar

from csdomain.auth import Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import (
    COMPLAINT_TRANSITIONS,
    Approval,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintNature,
    ComplaintPolicy,
    ComplaintStatus,
    ComplaintUrgency,
    CustomerAcceptance,
    FollowUp,
    FollowUpMethod,
    FollowUpOutcome,
    Remedy,
    SlaOutcome,
    check_remedy_authority,
    plan_follow_up,
)
from csdomain.customers import Customer, CustomerClass, next_customer_code
from csdomain.kinds import COMPLAINTS, CONTACTS, CUSTOMERS, ORDERS, SURVEY_RESPONSES, SURVEYS
from csdomain.kpi import ContactDirection, ContactRecord
from csdomain.lifecycle import StatusChange, check_transition
from csdomain.money import Money
from csdomain.orders import (
    ORDER_TRANSITIONS,
    ConsigneeInfo,
    DeliveryWindow,
    Order,
    OrderChannel,
    OrderKind,
    OrderLine,
    OrderPolicy,
    OrderStatus,
    Payment,
    Shipment,
    ShipmentLine,
    ShippingMode,
    promise_delivery,
)
from csdomain.policy import Policy
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.store import Kind, Store


__all__ = ["HISTORY_START", "HistoryPlan", "write_history"]

T = TypeVar("T")

#: The history covers the year before the demo story starts.
HISTORY_START = datetime(2025, 9, 1, 1, 0, tzinfo=UTC)
_YEAR = timedelta(days=365)
_YEAR_SECONDS = int(_YEAR.total_seconds())
#: Rows per ``add_many`` call (one progress step) and at most per unit of work.
_BATCH = 5_000
_UNIT = 100_000

_CLERK = Actor("cs-li", {"specialist"})
_SALES = Actor("sales-wang", {"salesperson"})
_WAREHOUSE = Actor("wh-liu", {"warehouse"})
_FINANCE = Actor("fin-zhou", {"finance"})
_VP = Actor("vp-sun", {"sales_vp"})
_MANAGER = Actor("csm-chen", {"cs_manager"})
_CONSIGNEE = ConsigneeInfo(
    consignee="Purchasing office",
    phone="13800138000",
    address="88 Keyuan Road, Pudong, Shanghai",
    postcode="201203",
    invoice_title="Demo Biotech Co., Ltd.",
)

_OS = OrderStatus
_CS = ComplaintStatus
#: The path of a history order, and when and by whom it took each step after placing.
#: Stage ``n % 10`` of history order ``n`` says how many steps it took.
_ORDER_PATH = (_OS.PLACED, _OS.CONFIRMED, _OS.PAID, _OS.SHIPPED, _OS.DELIVERED, _OS.COMPLETED)
_ORDER_DELAYS = (
    timedelta(hours=2),
    timedelta(hours=20),
    timedelta(days=1),
    timedelta(days=4),
    timedelta(days=5),
)
_ORDER_ACTORS = (_SALES, _FINANCE, _WAREHOUSE, _WAREHOUSE, _SALES)
_ORDER_NOTES = ("", "paid in full", "", "", "")
_ORDER_STEPS_AT_STAGE = (0, 1, 2, 3, 4, 4, 5, 5, 5, 5)
#: Orders placed longer ago than this before the history ends have all been shipped and
#: completed: only recent ones still wait for confirmation, payment or stock.
_OPEN_WINDOW = timedelta(days=30)
_PAID, _SHIPPED, _DELIVERED = 2, 3, 4
#: ``(from_, to, by, note)`` of each step, as its :class:`StatusChange` records it.
_ORDER_CHANGES = tuple(
    (_ORDER_PATH[i].value, _ORDER_PATH[i + 1].value, _ORDER_ACTORS[i].id, _ORDER_NOTES[i])
    for i in range(len(_ORDER_DELAYS))
)
_ORDER_CHANNELS = tuple(OrderChannel(c) for c in ("online", "dealer", "letter", "fax", "email"))

_ACKNOWLEDGED_AFTER = timedelta(minutes=20)
_VISITED_AFTER = timedelta(days=1)
_REJECTED_PATH = (_CS.RECEIVED, _CS.REJECTED)
_CLOSED_PATH = (
    _CS.RECEIVED,
    _CS.ASSESSED,
    _CS.INVESTIGATING,
    _CS.RESOLUTION_PROPOSED,
    _CS.RESOLUTION_APPROVED,
    _CS.RESOLVED,
    _CS.FOLLOWED_UP,
    _CS.CLOSED,
)
#: ``(from_, to, by)`` of each step of a handled complaint after receipt; ``_ASSESSED``
#: steps happen ``hours`` after receipt, ``_RESOLVED`` steps twice that, the rest a day later.
_CLOSED_CHANGES = tuple(
    (_CLOSED_PATH[i].value, _CLOSED_PATH[i + 1].value, actor.id)
    for i, actor in enumerate((_CLERK, _CLERK, _CLERK, _VP, _CLERK, _CLERK, _MANAGER))
)
_ASSESSED, _RESOLVED, _VISITED = 0, 1, 2
_CLOSED_TIMES = (_ASSESSED, _ASSESSED, _RESOLVED, _RESOLVED, _RESOLVED, _VISITED, _VISITED)
_COMPLAINT_CHANNELS = tuple(ComplaintChannel(c) for c in ("phone", "written", "email", "online"))
_URGENCIES = tuple(ComplaintUrgency(u) for u in ("ordinary", "ordinary", "urgent", "special"))
_CATEGORIES = tuple(
    ComplaintCategory(c)
    for c in ("product_quality", "service", "delivery_packaging", "delivery_delay", "other")
)
_CAUSES = ("courier handling", "batch variance", "late dispatch", "staff attitude")
_OUTCOMES = tuple(FollowUpOutcome(o) for o in ("satisfied", "satisfied", "neutral"))
_REMEDY = Remedy("explanation", "Explain the cause and the corrective action")
_DESCRIPTION = "Customer reported a problem"
_REPLY = "Checked with the customer"
_VISIT_NOTES = "Follow-up call"
_SUMMARY = "Handled"
_MEASURE = "Review the process with the team"
_ACCEPTANCE_BY = "customer"


class HistoryPlan:
    """How much history to write: per customer, so one number scales it all."""

    def __init__(self, customers: int) -> None:
        self.customers = customers
        self.orders = customers * 10
        self.complaints = customers * 5
        self.contacts = customers * 25
        self.responses = customers * 4

    @property
    def rows(self) -> int:
        """Documents the plan writes."""
        return self.customers + self.orders + self.complaints + self.contacts + self.responses


def order_stage(n: int, at: datetime) -> int:
    """How far history order ``n`` placed ``at`` got: stage ``n % 10`` (0 placed, 1
    confirmed, 2 paid, 3 shipped, 4-5 delivered, 6-9 completed), except that an order older
    than the open window before the history ends is completed."""
    stage = n % 10
    undelivered = _ORDER_STEPS_AT_STAGE[stage] < _DELIVERED
    if undelivered and at < HISTORY_START + _YEAR - _OPEN_WINDOW:
        return _ORDER_STEPS_AT_STAGE.index(len(_ORDER_DELAYS))
    return stage


def _moment(rng: random.Random) -> datetime:
    return HISTORY_START + timedelta(seconds=rng.randrange(_YEAR_SECONDS))


def _store_all(
    store: Store,
    kind: Kind[T],
    items: Iterator[T],
    *,
    total: int,
    progress: Callable[[str, int], Any] | None,
    label: str,
) -> int:
    """Store ``items`` with ``add_many``, ``_BATCH`` rows a call, ``_UNIT`` rows a unit of work."""
    meter = progress(label, total) if progress else None
    written = 0
    batch = list(islice(items, _BATCH))
    while batch:
        with store.unit_of_work() as uow:
            repo = uow.repo(kind)
            in_unit = 0
            while batch and in_unit < _UNIT:
                repo.add_many(batch, batch_size=_BATCH)
                in_unit += len(batch)
                if meter:
                    meter.advance(len(batch))
                batch = list(islice(items, _BATCH))
        written += in_unit
    if meter:
        meter.close()
    return written


def write_history(
    store: Store,
    plan: HistoryPlan,
    *,
    seed: int,
    products: dict[str, str],
    cities: tuple[str, ...],
    progress: Callable[[str, int], Any] | None = None,
) -> dict[str, int]:
    """Write a year of history; returns what was written, by kind."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    policy = Policy()
    _check_history_rules(policy)
    customer_ids = _customers(store, plan, rng, cities=cities, policy=policy, progress=progress)
    written = {"history customers": len(customer_ids)}
    written["history orders"] = _store_all(
        store,
        ORDERS,
        _orders(plan, rng, customer_ids, products, policy),
        total=plan.orders,
        progress=progress,
        label="history orders",
    )
    written["history complaints"] = _store_all(
        store,
        COMPLAINTS,
        _complaints(plan, rng, customer_ids, policy),
        total=plan.complaints,
        progress=progress,
        label="history complaints",
    )
    written["history contact records"] = _store_all(
        store,
        CONTACTS,
        _contacts(plan, rng),
        total=plan.contacts,
        progress=progress,
        label="history contacts",
    )
    survey = Survey(
        id="supplier-2025",
        title="Supplier satisfaction 2025",
        items=(
            SurveyItem("quality", "Product quality", 0.4, "reliability"),
            SurveyItem("delivery", "Delivery time", 0.3, "responsiveness"),
            SurveyItem("service", "After-sales service", 0.3, "empathy"),
        ),
    )
    with store.unit_of_work() as uow:
        uow.repo(SURVEYS).add(survey)
    written["history survey responses"] = _store_all(
        store,
        SURVEY_RESPONSES,
        _responses(plan, rng, customer_ids, survey),
        total=plan.responses,
        progress=progress,
        label="history survey",
    )
    return written


def _check_history_rules(policy: Policy) -> None:
    """What the lifecycle methods check on every step, checked once for the whole history.

    The actors, the remedy and the order of the steps are the same for every row, so the
    transition tables and the permissions give the same answer each time.
    """
    access = policy.access
    for actor, permission in (
        (_SALES, Permission.PLACE_ORDER),
        (_SALES, Permission.CONFIRM_ORDER),
        (_FINANCE, Permission.RECORD_PAYMENT),
        (_WAREHOUSE, Permission.SHIP_ORDER),
        (_CLERK, Permission.EDIT_CUSTOMER),
        (_CLERK, Permission.HANDLE_COMPLAINT),
        (_MANAGER, Permission.HANDLE_COMPLAINT),
    ):
        access.require(actor, permission)
    check_remedy_authority(_REMEDY, ComplaintNature.NORMAL, _VP, access)
    for placed, moved in pairwise(_ORDER_PATH):
        check_transition(ORDER_TRANSITIONS, "order", "history", placed, moved)
    for path in (_REJECTED_PATH, _CLOSED_PATH):
        for current, target in pairwise(path):
            check_transition(COMPLAINT_TRANSITIONS, "complaint", "history", current, target)


def _customers(
    store: Store,
    plan: HistoryPlan,
    rng: random.Random,
    *,
    cities: tuple[str, ...],
    policy: Policy,
    progress: Callable[[str, int], Any] | None,
) -> list[str]:
    classes = tuple(
        CustomerClass(c) for c in ("ordinary", "member", "vip", "dealer", "agent", "ordinary")
    )
    meter = progress("history customers", plan.customers) if progress else None
    ids: list[str] = []
    with store.unit_of_work() as uow:
        for start in range(0, plan.customers, _BATCH):
            batch: list[Customer] = []
            for n in range(start, min(start + _BATCH, plan.customers)):
                at = HISTORY_START + timedelta(minutes=n)
                city = cities[n % len(cities)]
                name = f"Lab {n:06d}"
                code = next_customer_code(uow, at=at, city=city, name=name, policy=policy.customers)
                batch.append(
                    Customer.register(
                        id=f"HC-{n:06d}",
                        code=code,
                        name=name,
                        at=at,
                        by=_CLERK,
                        access=policy.access,
                        customer_class=classes[n % len(classes)],
                        phone=f"139{rng.randrange(10**8):08d}",
                        email=f"lab{n}@example.com",
                        city=city,
                    )
                )
            uow.repo(CUSTOMERS).add_many(batch, batch_size=_BATCH)
            ids.extend(c.id for c in batch)
            if meter:
                meter.advance(len(batch))
    if meter:
        meter.close()
    return ids


class _OrderLines:
    """The order and shipment line of every (SKU, quantity) a history order can have."""

    def __init__(self, products: dict[str, str], currency: str) -> None:
        self.skus = sorted(products)
        self.currency = currency
        self.lines: dict[tuple[str, int], tuple[OrderLine, ShipmentLine, Decimal]] = {}
        for sku in self.skus:
            price = Money.of(products[sku], currency)
            for quantity in range(1, 6):
                line = OrderLine(sku, quantity, price)
                shipped = ShipmentLine(line.sku, line.quantity, line.gift)
                self.lines[sku, quantity] = (line, shipped, line.amount.amount)


def _orders(
    plan: HistoryPlan,
    rng: random.Random,
    customer_ids: list[str],
    products: dict[str, str],
    policy: Policy,
) -> Iterator[Order]:
    """History orders in their final state; stage ``n % 10`` says how far each got."""
    rules = policy.orders
    table = _OrderLines(products, rules.currency)
    windows: dict[date, DeliveryWindow] = {}
    for n in range(plan.orders):
        at = _moment(rng)
        chosen = rng.sample(table.skus, k=1 + n % 3)
        picked = [table.lines[sku, 1 + rng.randrange(5)] for sku in chosen]
        customer_id = customer_ids[rng.randrange(len(customer_ids))]
        yield _order(n, at, customer_id, picked, rules, policy.calendar, windows)


def _order(  # noqa: PLR0917 - one private step of the history
    n: int,
    at: datetime,
    customer_id: str,
    picked: list[tuple[OrderLine, ShipmentLine, Decimal]],
    rules: OrderPolicy,
    calendar: BusinessCalendar,
    windows: dict[date, DeliveryWindow],
) -> Order:
    """Order ``n`` as placing, confirming, paying, shipping, delivering, completing leave it.

    Equal to ``Order.place`` followed by ``confirm``, ``record_payment(order.total)``,
    ``ship_order``, ``deliver`` and ``complete``, each ``_ORDER_DELAYS`` after placing.
    """
    steps = _ORDER_STEPS_AT_STAGE[order_stage(n, at)]
    channel = _ORDER_CHANNELS[n % len(_ORDER_CHANNELS)]
    moments = [at + delay for delay in _ORDER_DELAYS[:steps]]
    history = [StatusChange(from_=None, to=_OS.PLACED.value, at=at, by=_SALES.id)]
    for (from_, to, by, note), moment in zip(_ORDER_CHANGES, moments, strict=False):
        history.append(StatusChange(from_=from_, to=to, at=moment, by=by, note=note))
    payments: tuple[Payment, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    expected: DeliveryWindow | None = None
    if steps >= _PAID:
        total = Money(sum([amount for _l, _s, amount in picked], Decimal(0)), rules.currency)
        payments = (Payment(amount=total, at=moments[_PAID - 1], by=_FINANCE.id),)
    if steps >= _SHIPPED:
        shipped_at = moments[_SHIPPED - 1]
        shipment = Shipment(
            lines=tuple(line for _l, line, _a in picked),
            at=shipped_at,
            mode=ShippingMode.EXPRESS,
            by=_WAREHOUSE.id,
        )
        shipments = (shipment,)
        # the promise counts from the remittance proof: the payment, not the shipment
        expected = _delivery_window(moments[_PAID - 1], calendar, rules, windows)
    return Order(
        id=f"HO-{n:07d}",
        customer_id=customer_id,
        channel=channel,
        lines=tuple(line for line, _s, _a in picked),
        currency=rules.currency,
        placed_at=at,
        placed_by=_SALES.id,
        kind=OrderKind.STANDARD,
        dealer_id="D-SH-01" if channel is OrderChannel.DEALER else None,
        consignee=_CONSIGNEE,
        salesperson=_SALES.id,
        payments=payments,
        shipments=shipments,
        status=_ORDER_PATH[steps],
        history=tuple(history),
        expected_delivery=expected,
        delivered_at=moments[_DELIVERED - 1] if steps >= _DELIVERED else None,
    )


def _delivery_window(
    paid_at: datetime,
    calendar: BusinessCalendar,
    rules: OrderPolicy,
    windows: dict[date, DeliveryWindow],
) -> DeliveryWindow:
    """``promise_delivery``, once per payment day: the promise depends on the day alone."""
    day = paid_at.astimezone(calendar.zone).date()
    window = windows.get(day)
    if window is None:
        window = windows[day] = promise_delivery(paid_at, calendar, rules)
    return window


def _complaints(
    plan: HistoryPlan, rng: random.Random, customer_ids: list[str], policy: Policy
) -> Iterator[Complaint]:
    """History complaints, every ninth rejected and the rest handled and closed."""
    rules = policy.complaints
    calendar = policy.calendar
    for n in range(plan.complaints):
        at = _moment(rng)
        customer_id = customer_ids[rng.randrange(len(customer_ids))]
        hours = timedelta(hours=1 + rng.randrange(30))
        yield _complaint(n, at, customer_id, hours, rules, calendar)


def _complaint(  # noqa: PLR0917 - one private step of the history
    n: int,
    at: datetime,
    customer_id: str,
    hours: timedelta,
    rules: ComplaintPolicy,
    calendar: BusinessCalendar,
) -> Complaint:
    """Complaint ``n`` as receiving, acknowledging and handling (or rejecting) leave it.

    Equal to ``receive_complaint``, ``acknowledge`` 20 minutes later, then ``reject`` at
    ``hours``, or ``assess``, ``start_investigation`` and ``record_cause`` at ``hours``,
    ``propose_resolution``, ``approve_resolution`` and ``accept_resolution`` at twice
    ``hours``, and ``record_follow_up`` and ``close`` a day after that.
    """
    urgency = _URGENCIES[n % len(_URGENCIES)]
    category = _CATEGORIES[n % len(_CATEGORIES)]
    sla = rules.sla_for(urgency)
    level = rules.start_level(urgency)
    resolve_by = sla.resolve.due(at, calendar)
    common: dict[str, Any] = {
        "id": f"HP-{n:07d}",
        "customer_id": customer_id,
        "channel": _COMPLAINT_CHANNELS[n % len(_COMPLAINT_CHANNELS)],
        "urgency": urgency,
        "category": category,
        "description": _DESCRIPTION,
        "received_at": at,
        "respond_by": sla.respond.due(at, calendar),
        "resolve_by": resolve_by,
        "owner_role": rules.role_at(level),
        "escalation_level": level,
        "first_response_at": at + _ACKNOWLEDGED_AFTER,
    }
    received = StatusChange(from_=None, to=_CS.RECEIVED.value, at=at, by=_CLERK.id)
    assessed_at = at + hours
    if n % 9 == 8:
        rejected = StatusChange(
            from_=_CS.RECEIVED.value,
            to=_CS.REJECTED.value,
            at=assessed_at,
            by=_CLERK.id,
            note=_REPLY,
        )
        return Complaint(
            **common,
            status=_CS.REJECTED,
            founded=False,
            reply=_REPLY,
            history=(received, rejected),
        )
    resolved_at = at + hours * 2
    visited_at = resolved_at + _VISITED_AFTER
    times = (assessed_at, resolved_at, visited_at)
    outcome = _OUTCOMES[n % len(_OUTCOMES)]
    notes = ("", "", "", "", "", outcome.value, _SUMMARY)
    history = [received]
    for (from_, to, by), when, note in zip(_CLOSED_CHANGES, _CLOSED_TIMES, notes, strict=True):
        history.append(StatusChange(from_=from_, to=to, at=times[when], by=by, note=note))
    due, planned = plan_follow_up(resolved_at, policy=rules)
    return Complaint(
        **common,
        status=_CS.CLOSED,
        founded=True,
        department=rules.department_for(category),
        cause=_CAUSES[n % len(_CAUSES)],
        proposals=(_REMEDY,),
        approval=Approval(remedy=_REMEDY, at=resolved_at, by=_VP.id),
        acceptance=CustomerAcceptance(at=resolved_at, signed_by=_ACCEPTANCE_BY),
        sla_outcome=SlaOutcome.MET if resolved_at <= resolve_by else SlaOutcome.MISSED,
        follow_up_due=due,
        follow_up_planned_at=planned,
        follow_ups=(
            FollowUp(
                at=visited_at,
                by=_CLERK.id,
                outcome=outcome,
                notes=_VISIT_NOTES,
                method=FollowUpMethod.PHONE,
            ),
        ),
        summary=_SUMMARY,
        improvement_measure=_MEASURE,
        history=tuple(history),
    )


def _contacts(plan: HistoryPlan, rng: random.Random) -> Iterator[ContactRecord]:
    waits = tuple(timedelta(seconds=s) for s in (5, 8, 12, 18, 25, 40, 75))
    handling = tuple(timedelta(seconds=120 + s) for s in range(300))
    agents = tuple(f"agent-{a}" for a in range(12))
    for n in range(plan.contacts):
        offered = _moment(rng)
        outbound = n % 5 == 0
        connected = None if not outbound else n % 3 != 0
        abandoned = not outbound and n % 23 == 1
        unanswered = abandoned or connected is False
        wait = waits[n % len(waits)]
        yield ContactRecord(
            id=f"HR-{n:07d}",
            offered_at=offered,
            answered_at=None if unanswered else offered + wait,
            ended_at=offered + wait + handling[n % 300],
            direction=ContactDirection.OUTBOUND if outbound else ContactDirection.INBOUND,
            abandoned=abandoned,
            resolved_on_first_contact=None if unanswered else n % 7 != 0,
            agent=agents[n % 12],
            connected=connected,
        )


def _responses(
    plan: HistoryPlan, rng: random.Random, customer_ids: list[str], survey: Survey
) -> Iterator[SurveyResponse]:
    keys = tuple(i.key for i in survey.items)
    for n in range(plan.responses):
        base = 3 + (n % 3 > 0)
        answered_at = _moment(rng)
        ratings = {key: min(5, max(1, base + rng.choice((-1, 0, 1)))) for key in keys}
        yield SurveyResponse(
            id=f"HS-{n:07d}",
            survey_id=survey.id,
            customer_id=customer_ids[n % len(customer_ids)],
            answered_at=answered_at,
            ratings=ratings,
            nps_score=min(10, max(0, 2 * base + rng.choice((-2, -1, 0, 1)))),
        )
