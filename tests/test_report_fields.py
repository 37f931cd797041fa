"""The report's aggregates read only the fields they need (csdomain.report.gather, issue #15
item 7).

The rule checked: each aggregate that reads chosen fields (``Repository.scan_fields``)
gives exactly what it gave when it read whole documents. The whole-document versions are
kept here as the oracles, run on the demo store over several months and moments, on
SQLite and on the memory backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csdomain
from csdomain.auth import Actor
from csdomain.complaints import (
    OPEN_STATUSES,
    Complaint,
    SlaKind,
    SlaOutcome,
    missing_follow_ups,
    sla_breaches,
)
from csdomain.customers import Customer
from csdomain.demo import build_demo
from csdomain.kinds import COMPLAINTS, CUSTOMERS, ORDERS, RETURNS, STOCKS
from csdomain.kpi import OrderKpis, order_kpis
from csdomain.orders import Order
from csdomain.report.gather import _escalated, _order_kpis, _sla_compliance
from csdomain.report.model import EscalatedComplaint, SlaCompliance
from csdomain.report.trend import MonthWindow
from csdomain.service import ServiceDesk
from csdomain.store import Repository, Store, UnitOfWork
from csdomain.testing.strategies_complaints import complaints
from csdomain.testing.strategies_orders import orders


def sla_compliance_before(
    uow: UnitOfWork, start: datetime, end: datetime, at: datetime
) -> list[SlaCompliance]:
    """``_sla_compliance`` as it was: sla_breaches of each whole complaint."""
    counts = {
        kind: dict.fromkeys(("met", "late", "overdue", "pending", "na"), 0) for kind in SlaKind
    }
    for complaint in uow.repo(COMPLAINTS).scan(received_at__ge=start, received_at__lt=end):
        found = {breach.target: breach for breach in sla_breaches(complaint, at)}
        respond = counts[SlaKind.RESPOND]
        if SlaKind.RESPOND in found:
            respond["late" if found[SlaKind.RESPOND].met_at else "overdue"] += 1
        elif complaint.first_response_at is not None:
            respond["met"] += 1
        else:
            respond["pending"] += 1
        resolve = counts[SlaKind.RESOLVE]
        if SlaKind.RESOLVE in found:
            resolve["late" if found[SlaKind.RESOLVE].met_at else "overdue"] += 1
        elif complaint.sla_outcome is SlaOutcome.MET:
            resolve["met"] += 1
        elif complaint.is_open:
            resolve["pending"] += 1
        else:
            resolve["na"] += 1
    return [
        SlaCompliance(kind, c["met"], c["late"], c["overdue"], c["pending"], c["na"])
        for kind, c in counts.items()
    ]


def escalated_before(uow: UnitOfWork) -> list[EscalatedComplaint]:
    """``_escalated`` as it was: built from whole complaints."""
    found: list[EscalatedComplaint] = []
    stream = uow.repo(COMPLAINTS).scan(escalation_level__gt=1, status__in=sorted(OPEN_STATUSES))
    for complaint in stream:
        last = complaint.escalations[-1] if complaint.escalations else None
        found.append(
            EscalatedComplaint(
                complaint_id=complaint.id,
                customer_id=complaint.customer_id,
                category=complaint.category,
                urgency=complaint.urgency,
                status=complaint.status,
                level=complaint.escalation_level,
                owner_role=complaint.owner_role,
                received_at=complaint.received_at,
                escalated_at=None if last is None else last.at,
                reason=None if last is None else last.reason,
                first_escalated_at=(complaint.escalations[0].at if complaint.escalations else None),
                steps=len(complaint.escalations),
            )
        )
    found.sort(key=lambda row: (-row.level, row.received_at, row.complaint_id))
    return found


def order_kpis_before(uow: UnitOfWork, windows: list[MonthWindow]) -> list[OrderKpis]:
    """``_order_kpis`` as it was: every whole order read, then filtered."""
    low, high = windows[0][1], windows[-1][2]
    orders = [
        order
        for order in uow.repo(ORDERS).scan()
        if low <= order.placed_at < high
        or (order.shipments and low <= order.shipments[-1].at < high)
    ]
    returns = list(uow.repo(RETURNS).scan())
    stocks = list(uow.repo(STOCKS).scan())
    return [order_kpis(orders, returns, stocks, start=a, end=b) for _, a, b in windows]


def _months(first: datetime, count: int) -> list[MonthWindow]:
    windows: list[MonthWindow] = []
    start = first
    for _ in range(count):
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        windows.append((f"{start.year:04d}-{start.month:02d}", start, end))
        start = end
    return windows


@pytest.fixture(scope="module", params=["sqlite", "memory"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fields') / 'demo.db'}"
    else:
        url = "memory://"
    store = csdomain.open_store(url)
    build_demo(store)
    yield store
    store.close()


def _span(store: Store) -> tuple[datetime, datetime]:
    with store.unit_of_work(readonly=True) as uow:
        first = uow.repo(COMPLAINTS).find(order_by="received_at", limit=1)[0].received_at
        last = uow.repo(COMPLAINTS).find(order_by="-received_at", limit=1)[0].received_at
    return first.astimezone(UTC), last.astimezone(UTC)


def test_sla_compliance_from_fields_equals_it_from_whole_complaints(demo: Store) -> None:
    """Rule: _sla_compliance over scan_fields == over sla_breaches of whole complaints."""
    first, last = _span(demo)
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    moments = [first, first + (last - first) / 2, last, last + timedelta(days=40)]
    with demo.unit_of_work(readonly=True) as uow:
        for _label, low, high in _months(start, 4):
            for at in moments:
                assert _sla_compliance(uow, low, high, at) == sla_compliance_before(
                    uow, low, high, at
                ), f"[{low}, {high}) as of {at}"


def test_escalations_from_fields_equal_them_from_whole_complaints(demo: Store) -> None:
    """Rule: _escalated over scan_fields == built from whole complaints."""
    with demo.unit_of_work(readonly=True) as uow:
        found = _escalated(uow)
        assert found == escalated_before(uow)


def test_order_kpis_from_fields_equal_them_from_every_whole_order(demo: Store) -> None:
    """Rule: _order_kpis reading whole only the orders it needs == reading every order."""
    first, _last = _span(demo)
    with demo.unit_of_work(readonly=True) as uow:
        orders = list(uow.repo(ORDERS).scan(order_by="placed_at", limit=1))
        start = min(first, orders[0].placed_at.astimezone(UTC)) if orders else first
        months = _months(datetime(start.year, start.month, 1, tzinfo=UTC), 5)
        for i in range(len(months) - 1):
            pair = months[i : i + 2]
            assert _order_kpis(uow, pair) == order_kpis_before(uow, pair), pair[0][0]


@given(
    batch=st.lists(complaints(), min_size=1, max_size=8),
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_sla_compliance_agrees_for_any_complaints_and_moment(
    batch: list[Complaint], offset: timedelta
) -> None:
    """Invariant: for any complaints (holds, reopenings, rejections) and any moment, the
    field-based SLA compliance equals the whole-complaint one."""
    store = csdomain.open_store("sqlite://")
    try:
        with store.unit_of_work() as uow:
            uow.repo(COMPLAINTS).add_many(
                attrs.evolve(complaint, id=f"CP-{n:03d}") for n, complaint in enumerate(batch)
            )
        low = min(c.received_at for c in batch).astimezone(UTC)
        high = max(c.received_at for c in batch).astimezone(UTC) + timedelta(seconds=1)
        at = max(c.updated_at for c in batch).astimezone(UTC) + offset
        with store.unit_of_work(readonly=True) as uow:
            assert _sla_compliance(uow, low, high, at) == sla_compliance_before(uow, low, high, at)
            assert _escalated(uow) == escalated_before(uow)
    finally:
        store.close()


@given(batch=st.lists(orders(), min_size=1, max_size=8), pick=st.integers(0, 50))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_order_kpis_agree_for_orders_shipped_after_the_month_they_were_placed_in(
    batch: list[Order], pick: int
) -> None:
    """Invariant: with windows starting at a shipment (so orders placed before the windows
    and last shipped within them count), the order KPIs of the orders read whole only
    where needed equal those of every whole order."""
    store = csdomain.open_store("sqlite://")
    try:
        stored = [attrs.evolve(order, id=f"SO-{n:03d}") for n, order in enumerate(batch)]
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).add_many(stored)
        moments = sorted(s.at for o in stored for s in o.shipments) or [stored[0].placed_at]
        low = moments[pick % len(moments)].astimezone(UTC) - timedelta(microseconds=1)
        middle, high = low + timedelta(days=3), low + timedelta(days=9)
        windows: list[MonthWindow] = [("a", low, middle), ("b", middle, high)]
        with store.unit_of_work(readonly=True) as uow:
            assert _order_kpis(uow, windows) == order_kpis_before(uow, windows)
    finally:
        store.close()


def test_missing_follow_ups_from_fields_equal_them_from_whole_complaints(demo: Store) -> None:
    """Rule: desk.missing_follow_ups reading the rule's fields (and then whole only the
    complaints it finds) lists what missing_follow_ups over whole complaints lists, in
    the same order (docs/domain.md 3.5: member customers are visited within 3 days)."""
    desk = ServiceDesk(demo)
    classes = desk.policy.complaints.follow_up_classes
    first, last = _span(demo)
    moments = [first + (last - first) * k / 4 for k in range(1, 5)] + [last + timedelta(days=9)]
    seen = 0
    for at in moments:
        with demo.unit_of_work(readonly=True) as uow:
            customers = uow.repo(CUSTOMERS)

            def is_member(customer_id: str, customers: Repository[Customer] = customers) -> bool:
                customer = customers.get_or_none(customer_id)
                return customer is not None and customer.customer_class in classes

            stream = uow.repo(COMPLAINTS).scan(order_by="follow_up_due", follow_up_due__lt=at)
            expected = [c.id for c in missing_follow_ups(stream, at, is_member)]
        found = desk.missing_follow_ups(by=Actor.superuser(), at=at)
        assert [c.id for c in found] == expected, f"as of {at}"
        seen += len(expected)
    assert seen, "the demo store has member complaints whose visit is missing"
