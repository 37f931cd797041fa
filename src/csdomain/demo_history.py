"""A year of past business for the medium and large demo data sets, written in bulk.

The demo's story runs through :class:`~csdomain.service.ServiceDesk` use cases, one unit
of work each, which is right for showing the rules but too slow for a million rows. The
history before it is made with the same pure domain methods (so every order, complaint
and survey obeys the rules and the transition tables) and stored with ``add_many`` in
large batches. Nothing here emits events: it is the past, already notified.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from csdomain.auth import Actor
from csdomain.complaints import Complaint, Remedy, receive_complaint
from csdomain.customers import Customer, CustomerClass, next_customer_code
from csdomain.kinds import COMPLAINTS, CONTACTS, CUSTOMERS, ORDERS, SURVEY_RESPONSES, SURVEYS
from csdomain.kpi import ContactRecord
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, Order, OrderLine, Stock, ship_order
from csdomain.policy import Policy
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.store import Kind, Store


__all__ = ["HISTORY_START", "HistoryPlan", "write_history"]

T = TypeVar("T")

#: The history covers the year before the demo story starts.
HISTORY_START = datetime(2025, 9, 1, 1, 0, tzinfo=UTC)
_YEAR = timedelta(days=365)
_BATCH = 5_000

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


def _moment(rng: random.Random) -> datetime:
    return HISTORY_START + timedelta(seconds=rng.randrange(int(_YEAR.total_seconds())))


def _store_all(
    store: Store,
    kind: Kind[T],
    items: Iterator[T],
    *,
    total: int,
    progress: Callable[[str, int], Any] | None,
    label: str,
) -> int:
    meter = progress(label, total) if progress else None
    written = 0
    batch: list[T] = []

    def flush() -> None:
        nonlocal written, batch
        with store.unit_of_work() as uow:
            uow.repo(kind).add_many(batch)
        written += len(batch)
        if meter:
            meter.advance(len(batch))
        batch = []

    for item in items:
        batch.append(item)
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
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
    for start in range(0, plan.customers, _BATCH):
        batch: list[Customer] = []
        with store.unit_of_work() as uow:
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
            uow.repo(CUSTOMERS).add_many(batch)
        ids.extend(c.id for c in batch)
        if meter:
            meter.advance(len(batch))
    if meter:
        meter.close()
    return ids


def _orders(
    plan: HistoryPlan,
    rng: random.Random,
    customer_ids: list[str],
    products: dict[str, str],
    policy: Policy,
) -> Iterator[Order]:
    access = policy.access
    skus = sorted(products)
    stocks = {sku: Stock(id=sku, good=10**12) for sku in skus}
    channels = ("online", "dealer", "letter", "fax", "email")
    for n in range(plan.orders):
        at = _moment(rng)
        chosen = rng.sample(skus, k=1 + n % 3)
        lines = [
            OrderLine(sku, 1 + rng.randrange(5), Money.of(products[sku], "CNY")) for sku in chosen
        ]
        channel = channels[n % len(channels)]
        order = Order.place(
            id=f"HO-{n:07d}",
            customer_id=customer_ids[rng.randrange(len(customer_ids))],
            channel=channel,
            lines=lines,
            at=at,
            by=_SALES,
            access=access,
            policy=policy.orders,
            dealer_id="D-SH-01" if channel == "dealer" else None,
            salesperson=_SALES.id,
            consignee=_CONSIGNEE,
        )
        stage = n % 10
        if stage >= 1:
            order = order.confirm(at=at + timedelta(hours=2), by=_SALES, access=access)
        if stage >= 2:
            order = order.record_payment(
                order.total, at=at + timedelta(hours=20), by=_FINANCE, access=access
            )
        if stage >= 3:
            shipped = ship_order(
                order,
                stocks,
                at=at + timedelta(days=1),
                by=_WAREHOUSE,
                access=access,
                policy=policy.orders,
                calendar=policy.calendar,
            )
            order = shipped.order
        if stage >= 4:
            order = order.deliver(at=at + timedelta(days=4), by=_WAREHOUSE, access=access)
        if stage >= 6:
            order = order.complete(at=at + timedelta(days=5), by=_SALES, access=access)
        yield order


def _complaints(
    plan: HistoryPlan, rng: random.Random, customer_ids: list[str], policy: Policy
) -> Iterator[Complaint]:
    access = policy.access
    rules = policy.complaints
    calendar = policy.calendar
    categories = ("product_quality", "service", "delivery_packaging", "delivery_delay", "other")
    causes = ("courier handling", "batch variance", "late dispatch", "staff attitude")
    for n in range(plan.complaints):
        at = _moment(rng)
        complaint = receive_complaint(
            id=f"HP-{n:07d}",
            customer_id=customer_ids[rng.randrange(len(customer_ids))],
            channel=("phone", "written", "email", "online")[n % 4],
            urgency=("ordinary", "ordinary", "urgent", "special")[n % 4],
            category=categories[n % len(categories)],
            description="Customer reported a problem",
            at=at,
            by=_CLERK,
            access=access,
            policy=rules,
            calendar=calendar,
        )
        hours = timedelta(hours=1 + rng.randrange(30))
        complaint = complaint.acknowledge(at=at + timedelta(minutes=20), by=_CLERK, access=access)
        if n % 9 == 8:
            yield complaint.reject(
                reply="Checked with the customer", at=at + hours, by=_CLERK, access=access
            )
            continue
        complaint = complaint.assess(at=at + hours, by=_CLERK, access=access, policy=rules)
        complaint = complaint.start_investigation(at=at + hours, by=_CLERK, access=access)
        complaint = complaint.record_cause(
            cause=causes[n % len(causes)], at=at + hours, by=_CLERK, access=access
        )
        later = at + hours * 2
        complaint = complaint.propose_resolution(
            remedies=[Remedy("explanation", "Explain the cause and the corrective action")],
            at=later,
            by=_CLERK,
            access=access,
        )
        complaint = complaint.approve_resolution(choice=0, at=later, by=_VP, access=access)
        complaint = complaint.accept_resolution(
            signed_by="customer", at=later, by=_CLERK, access=access, policy=rules
        )
        visit = later + timedelta(days=1)
        complaint = complaint.record_follow_up(
            outcome=("satisfied", "satisfied", "neutral")[n % 3],
            notes="Follow-up call",
            at=visit,
            by=_CLERK,
            access=access,
            policy=rules,
            calendar=calendar,
        )
        yield complaint.close(
            summary="Handled",
            improvement_measure="Review the process with the team",
            at=visit,
            by=_MANAGER,
            access=access,
        )


def _contacts(plan: HistoryPlan, rng: random.Random) -> Iterator[ContactRecord]:
    waits = (5, 8, 12, 18, 25, 40, 75)
    for n in range(plan.contacts):
        offered = _moment(rng)
        outbound = n % 5 == 0
        connected = None if not outbound else n % 3 != 0
        abandoned = not outbound and n % 23 == 1
        unanswered = abandoned or connected is False
        wait = timedelta(seconds=waits[n % len(waits)])
        yield ContactRecord(
            id=f"HR-{n:07d}",
            offered_at=offered,
            answered_at=None if unanswered else offered + wait,
            ended_at=offered + wait + timedelta(seconds=120 + n % 300),
            direction="outbound" if outbound else "inbound",
            abandoned=abandoned,
            resolved_on_first_contact=None if unanswered else n % 7 != 0,
            agent=f"agent-{n % 12}",
            connected=connected,
        )


def _responses(
    plan: HistoryPlan, rng: random.Random, customer_ids: list[str], survey: Survey
) -> Iterator[SurveyResponse]:
    for n in range(plan.responses):
        base = 3 + (n % 3 > 0)
        yield SurveyResponse(
            id=f"HS-{n:07d}",
            survey_id=survey.id,
            customer_id=customer_ids[n % len(customer_ids)],
            answered_at=_moment(rng),
            ratings={i.key: min(5, max(1, base + rng.choice((-1, 0, 1)))) for i in survey.items},
            nps_score=min(10, max(0, 2 * base + rng.choice((-2, -1, 0, 1)))),
        )
