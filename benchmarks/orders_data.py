"""Realistic orders for the benchmarks (about 1.2 KB of JSON each)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from csdomain.auth import Actor
from csdomain.lifecycle import StatusChange
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, Order, OrderLine, OrderStatus, Payment
from csdomain.policy import Policy


STATUSES = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.PAID, OrderStatus.SHIPPED]
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_orders(count: int, *, customers: int = 5000, start: int = 0) -> list[Order]:
    """``count`` orders spread over ``customers`` customers and four statuses."""
    policy = Policy()
    clerk = Actor("clerk-7", {"salesperson"})
    orders = []
    for n in range(start, start + count):
        at = _T0 + timedelta(minutes=n)
        lines = tuple(
            OrderLine(f"SKU-{(n + i) % 997:05d}", 1 + (n + i) % 9, Money.of(f"{10 + i}.50", "CNY"))
            for i in range(5)
        )
        order = Order.place(
            id=f"SO-{n:08d}",
            customer_id=f"C-{n % customers:06d}",
            channel="online" if n % 3 else "phone",
            lines=lines,
            at=at,
            by=clerk,
            access=policy.access,
            policy=policy.orders,
            consignee=ConsigneeInfo(
                consignee=f"采购部 王经理 {n % 100}",
                phone="13800138000",
                address="上海市浦东新区张江高科技园区 科苑路 88 号 3 号楼",
                postcode="201203",
                invoice_title="上海某某生物科技有限公司",
            ),
            salesperson="sales-3",
        )
        status = STATUSES[n % len(STATUSES)]
        confirmed = StatusChange(
            from_="placed", to=status.value, at=at + timedelta(hours=1), by="clerk-7"
        )
        history = (*order.history, confirmed)
        payments = (Payment(Money.of("100.00", "CNY"), at + timedelta(hours=2), f"R{n}"),)
        orders.append(attrs.evolve(order, status=status, history=history, payments=payments))
    return orders
