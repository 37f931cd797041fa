"""Hypothesis strategies for customers, orders, stock and returns.

Every strategy builds valid objects through the domain's own methods, so orders and
returns only ever reach a status along their transition tables. Knobs are keyword-only
and are themselves strategies (``orders(status=st.just(OrderStatus.PAID))``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.calendar import BusinessCalendar, QuietHours
from csdomain.customers import (
    Customer,
    CustomerClass,
    CustomerHandover,
    Interaction,
    InteractionChannel,
)
from csdomain.money import Money
from csdomain.orders import (
    OPEN_ORDER_STATUSES,
    ConsigneeInfo,
    DeliveryProblemCase,
    DeliveryProblemKind,
    ItemCondition,
    Order,
    OrderChannel,
    OrderKind,
    OrderLine,
    OrderPolicy,
    OrderStatus,
    ProblemLine,
    Reservation,
    ShippingMode,
    Stock,
    StockBucket,
)
from csdomain.returns import ReceivedLine, ReturnItem, ReturnReason, ReturnRequest, ReturnStatus


__all__ = [
    "DEFAULT_SKUS",
    "customers",
    "delivery_problems",
    "order_lines",
    "orders",
    "return_requests",
    "stocks",
]

#: SKUs the strategies draw from by default: few, so orders and stock overlap.
DEFAULT_SKUS: tuple[str, ...] = ("AB-100", "AB-200", "AG-300", "KIT-9")

_ACCESS = AccessPolicy()
_CLERK = Actor("strategy-clerk", frozenset({"general_manager"}))
_MANAGER = Actor("strategy-manager", frozenset({"general_manager"}))
_CALENDAR = BusinessCalendar.office("Asia/Shanghai")
_CUSTOM_ONLY = frozenset({OrderStatus.PREPAID, OrderStatus.IN_PRODUCTION, OrderStatus.PRODUCED})

_names = st.text(
    alphabet=st.characters(categories=("L", "N"), exclude_characters="-"),
    min_size=1,
    max_size=12,
)
_ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=10)
_instants = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_steps = st.integers(min_value=0, max_value=72 * 60).map(lambda m: timedelta(minutes=m))
_phones = st.sampled_from(
    ("13800138000", "+86 138 0013 8000", "010-87654321", "021 5555 0101", "13912345678", "")
)
_accounts = st.sampled_from(("6222 0210 0100 1234", "6222-0210-0100-1234", "6217 0000 9999", ""))


def _cents(low: int, high: int, currency: str) -> st.SearchStrategy[Money]:
    return st.integers(min_value=low, max_value=high).map(
        lambda c: Money(Decimal(c).scaleb(-2), currency)
    )


_BOOLS = st.booleans()
_PROBLEM_KINDS = st.sampled_from(list(DeliveryProblemKind))
_CNY = st.just("CNY")
_CLASSES = st.sampled_from(CustomerClass)
_SKUS = st.sampled_from(DEFAULT_SKUS)
_LINE_QUANTITIES = st.integers(min_value=1, max_value=50)
_STOCK_QUANTITIES = st.integers(min_value=0, max_value=500)
_PRICES = _cents(100, 500_000, "CNY")
_ORDER_STATUSES = st.sampled_from(OrderStatus)
_KINDS = st.sampled_from(OrderKind)
_CHANNELS = st.sampled_from(OrderChannel)
_RETURN_STATUSES = st.sampled_from(ReturnStatus)
_REASONS = st.lists(st.sampled_from(ReturnReason), min_size=1, max_size=3, unique=True)


@st.composite
def customers(
    draw: st.DrawFn,
    *,
    customer_class: st.SearchStrategy[CustomerClass] = _CLASSES,
    phone: st.SearchStrategy[str] = _phones,
    bank_account: st.SearchStrategy[str] = _accounts,
    with_changes: st.SearchStrategy[bool] = _BOOLS,
) -> Customer:
    """Valid customer files, some with a change log."""
    created = draw(_instants)
    name = draw(_names)
    city = draw(st.sampled_from(("Beijing", "Shanghai", "Wuhan", "Chengdu")))
    customer = Customer.register(
        id="C" + draw(_ids),
        code=f"{city}-{created:%Y%m}-{name}-{draw(st.integers(1, 999)):03d}",
        name=name,
        at=created,
        by=_CLERK,
        access=_ACCESS,
        customer_class=draw(customer_class),
        legal_representative=draw(st.one_of(st.just(""), _names)),
        phone=draw(phone),
        email=draw(st.sampled_from(("", "buyer@example.com", "lab@example.cn"))),
        address=draw(st.one_of(st.just(""), _names)),
        postcode=draw(st.sampled_from(("", "100000", "430000"))),
        city=city,
        bank_account=draw(bank_account),
        registered_capital=draw(st.none() | _cents(0, 10**10, "CNY")),
        rest_hours=draw(
            st.none()
            | st.tuples(st.integers(0, 23), st.integers(0, 23)).map(
                lambda hours: QuietHours(start=time(hours[0]), end=time(hours[1]))
            )
        ),
        birthday=draw(
            st.none() | st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31))
        ),
    )
    if draw(with_changes):
        at = created
        for _ in range(draw(st.integers(1, 3))):
            at += draw(_steps)
            customer = customer.change(
                at=at,
                by=_CLERK,
                access=_ACCESS,
                document="copies of the ID card and the new card",
                phone=draw(phone),
                customer_class=draw(customer_class),
                bank_account=draw(bank_account),
            )
    return customer


def order_lines(
    *,
    sku: st.SearchStrategy[str] = _SKUS,
    quantity: st.SearchStrategy[int] = _LINE_QUANTITIES,
    unit_price: st.SearchStrategy[Money] = _PRICES,
    gift: st.SearchStrategy[bool] = _BOOLS,
) -> st.SearchStrategy[OrderLine]:
    """Order lines; gift lines are free."""

    def build(parts: tuple[str, int, Money, bool]) -> OrderLine:
        name, qty, price, is_gift = parts
        return OrderLine(name, qty, Money.zero(price.currency) if is_gift else price, is_gift)

    return st.tuples(sku, quantity, unit_price, gift).map(build)


def _path(order: Order) -> list[Callable[[Order, datetime], Order]]:
    """The steps from ``placed`` to ``completed`` for this order's kind."""

    def confirm(o: Order, at: datetime) -> Order:
        if o.channel is OrderChannel.PHONE and o.confirmed_by_salesperson is None:
            o = o.confirm_by_salesperson(at=at, by=_CLERK, access=_ACCESS)
        return o.confirm(at=at, by=_MANAGER, access=_ACCESS)

    def pay(amount: Callable[[Order], Money]) -> Callable[[Order, datetime], Order]:
        return lambda o, at: o.record_payment(amount(o), at=at, by=_MANAGER, access=_ACCESS)

    def ship(o: Order, at: datetime) -> Order:
        return o.ship(
            at=at,
            by=_MANAGER,
            access=_ACCESS,
            policy=OrderPolicy(currency=o.currency),
            calendar=_CALENDAR,
            mode=ShippingMode.EXPRESS,
        )

    def start(o: Order, at: datetime) -> Order:
        return o.start_production(at=at, by=_MANAGER, access=_ACCESS)

    def finish(o: Order, at: datetime) -> Order:
        return o.finish_production(at=at, by=_MANAGER, access=_ACCESS)

    def deliver(o: Order, at: datetime) -> Order:
        return o.deliver(at=at, by=_MANAGER, access=_ACCESS)

    def complete(o: Order, at: datetime) -> Order:
        return o.complete(at=at, by=_MANAGER, access=_ACCESS)

    def balance(o: Order) -> Money:
        return o.balance

    def prepayment(o: Order) -> Money:
        assert o.prepayment is not None
        return o.prepayment - o.paid

    if order.kind is OrderKind.CUSTOM:
        return [confirm, pay(prepayment), start, finish, pay(balance), ship, deliver, complete]
    return [confirm, pay(balance), ship, deliver, complete]


@st.composite
def orders(
    draw: st.DrawFn,
    *,
    status: st.SearchStrategy[OrderStatus] = _ORDER_STATUSES,
    kind: st.SearchStrategy[OrderKind] = _KINDS,
    channel: st.SearchStrategy[OrderChannel] = _CHANNELS,
    lines: st.SearchStrategy[OrderLine] | None = None,
    currency: st.SearchStrategy[str] = _CNY,
) -> Order:
    """Orders in any status, reached through the real lifecycle methods."""
    target = draw(status)
    order_kind = OrderKind.CUSTOM if target in _CUSTOM_ONLY else draw(kind)
    money_currency = draw(currency)
    drawn = draw(
        st.lists(lines or order_lines(), min_size=1, max_size=4, unique_by=lambda line: line.key)
    )
    converted = [
        OrderLine(line.sku, line.quantity, Money(line.unit_price.amount, money_currency), line.gift)
        for line in drawn
    ]
    if all(line.gift for line in converted):
        sku = next(s for s in DEFAULT_SKUS if (s, False) not in {x.key for x in converted})
        converted.append(OrderLine(sku, 1, Money.of(100, money_currency)))
    order_channel = draw(channel)
    at = draw(_instants)
    total = Money.total((line.amount for line in converted), money_currency)
    prepayment = None
    contract = None
    if order_kind is OrderKind.CUSTOM:
        cents = int(total.amount * 100)
        prepayment = draw(_cents(1, cents - 1, money_currency))
        contract = "CT-" + draw(_ids)
    order = Order.place(
        id="SO-" + draw(_ids),
        customer_id="C" + draw(_ids),
        channel=order_channel,
        lines=converted,
        at=at,
        by=_CLERK,
        access=_ACCESS,
        policy=OrderPolicy(currency=money_currency),
        kind=order_kind,
        dealer_id="D" + draw(_ids) if order_channel is OrderChannel.DEALER else None,
        contract_number=contract,
        prepayment=prepayment,
        consignee=ConsigneeInfo(draw(_names), "13800138000", draw(_names), "100000", draw(_names)),
        salesperson=_CLERK.id if order_channel is OrderChannel.PHONE else None,
    )
    cancel_from: OrderStatus | None = None
    if target is OrderStatus.CANCELLED:
        choices = sorted(
            s
            for s in OPEN_ORDER_STATUSES
            if order_kind is OrderKind.CUSTOM or s not in _CUSTOM_ONLY
        )
        cancel_from = draw(st.sampled_from(choices))
    stop = cancel_from or target
    for step in _path(order):
        if order.status is stop:
            break
        at += draw(_steps)
        order = step(order, at)
    if cancel_from is not None:
        at += draw(_steps)
        order = order.cancel(at=at, by=_MANAGER, access=_ACCESS, reason=draw(_names))
    return order


@st.composite
def stocks(
    draw: st.DrawFn,
    *,
    sku: st.SearchStrategy[str] = _SKUS,
    quantity: st.SearchStrategy[int] = _STOCK_QUANTITIES,
    reservations: st.SearchStrategy[bool] = _BOOLS,
) -> Stock:
    """Stock of one SKU with good, damaged and gift quantities and fitting reservations."""
    good, damaged, gift = draw(quantity), draw(quantity), draw(quantity)
    held: list[Reservation] = []
    if draw(reservations):
        for bucket, on_hand in ((StockBucket.GOOD, good), (StockBucket.GIFT, gift)):
            left = on_hand
            for n in range(draw(st.integers(0, 3))):
                if left <= 0:
                    break
                q = draw(st.integers(1, left))
                held.append(Reservation(f"SO-R{n}", q, bucket))
                left -= q
    return Stock(id=draw(sku), good=good, damaged=damaged, gift=gift, reservations=tuple(held))


@st.composite
def return_requests(
    draw: st.DrawFn,
    *,
    status: st.SearchStrategy[ReturnStatus] = _RETURN_STATUSES,
    reasons: st.SearchStrategy[list[ReturnReason]] = _REASONS,
) -> ReturnRequest:
    """Return requests for a delivered order, in any status."""
    order = draw(orders(status=st.just(OrderStatus.DELIVERED), kind=st.just(OrderKind.STANDARD)))
    target = draw(status)
    chosen = draw(
        st.lists(st.sampled_from(order.lines), min_size=1, max_size=len(order.lines), unique=True)
    )
    items = [
        ReturnItem(line.sku, draw(st.integers(1, line.quantity)), line.gift) for line in chosen
    ]
    at = order.history[-1].at + draw(_steps)
    filer = Actor("strategy-sales", frozenset({"salesperson", "warehouse"}))
    request = ReturnRequest.file(
        id="RR-" + draw(_ids),
        order=order,
        items=items,
        reasons=draw(reasons),
        at=at,
        by=filer,
        access=_ACCESS,
    )
    if target is ReturnStatus.REQUESTED:
        return request
    at += draw(_steps)
    if target is ReturnStatus.REJECTED:
        return request.reject(at=at, by=_MANAGER, access=_ACCESS, reason=draw(_names))
    if target is ReturnStatus.WITHDRAWN and draw(st.booleans()):
        return request.withdraw(at=at, by=filer, access=_ACCESS)
    request = request.approve(at=at, by=_MANAGER, access=_ACCESS)
    if target is ReturnStatus.APPROVED:
        return request
    at += draw(_steps)
    if target is ReturnStatus.WITHDRAWN:
        return request.withdraw(at=at, by=filer, access=_ACCESS)
    received = []
    for line in request.lines:
        damaged = draw(st.integers(0, line.quantity))
        good = draw(st.integers(0, line.quantity - damaged))
        if damaged:
            received.append(ReceivedLine(line.sku, damaged, ItemCondition.DAMAGED, line.gift))
        if good or not damaged:
            received.append(ReceivedLine(line.sku, max(good, 1), ItemCondition.GOOD, line.gift))
    request = request.receive(received, at=at, by=filer, access=_ACCESS)
    if target is ReturnStatus.RECEIVED:
        return request
    at += draw(_steps)
    return request.close("RN-" + draw(_ids), at=at, by=filer, access=_ACCESS)


@st.composite
def delivery_problems(
    draw: st.DrawFn,
    *,
    kind: st.SearchStrategy[DeliveryProblemKind] = _PROBLEM_KINDS,
    routed: st.SearchStrategy[bool] = _BOOLS,
) -> DeliveryProblemCase:
    """Delivery problems of a shipped standard order, reported or routed by the policy.

    The goods named are goods the order shipped (a late delivery or off-spec content may
    name none), so every problem is one :meth:`DeliveryProblemCase.report` accepts.
    """
    order = draw(orders(status=st.just(OrderStatus.SHIPPED), kind=st.just(OrderKind.STANDARD)))
    problem_kind = draw(kind)
    needs_lines = problem_kind in (
        DeliveryProblemKind.SHORT_QUANTITY,
        DeliveryProblemKind.DAMAGED_PACKAGING,
    )
    chosen = draw(
        st.lists(
            st.sampled_from(order.lines),
            min_size=1 if needs_lines else 0,
            max_size=len(order.lines),
            unique=True,
        )
    )
    lines = [
        ProblemLine(line.sku, draw(st.integers(1, line.quantity)), line.gift) for line in chosen
    ]
    deviation = None
    if problem_kind is DeliveryProblemKind.OFF_SPEC_CONTENT:
        deviation = draw(st.none() | st.decimals("-0.05", "0.05", places=4))
    at = order.history[-1].at + draw(_steps)
    case = DeliveryProblemCase.report(
        id="DP-" + draw(_ids),
        order=order,
        kind=problem_kind,
        at=at,
        by=_CLERK,
        access=_ACCESS,
        lines=lines,
        description=draw(st.sampled_from(["", "two bags torn at the corner"])),
        content_deviation=deviation,
        delay_curable=draw(_BOOLS),
    )
    if draw(routed):
        case = case.route_to(policy=OrderPolicy(), at=at + draw(_steps), by=_CLERK, access=_ACCESS)
    return case


def interactions() -> st.SearchStrategy[Interaction]:
    """Entries of a customer's interaction log: a call, a visit, a letter or a message."""
    return st.builds(
        Interaction,
        id=st.integers(1, 99_999).map(lambda n: f"IX-{n:06d}"),
        customer_id=st.sampled_from(["CU-000001", "CU-000002"]),
        channel=st.sampled_from(InteractionChannel),
        at=st.datetimes(
            datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
            datetime(2026, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        by=st.sampled_from(["li.am", "wang.am", "tech-1"]),
        summary=st.sampled_from(
            ["called about the order", "visited the lab", "sent the price list"]
        ),
        source=st.sampled_from(["", "account_manager", "complaint_follow_up", "service_visit"]),
        subject_id=st.sampled_from(["", "CP-202611-0001", "SJ-202611-0001"]),
    )


def customer_handovers() -> st.SearchStrategy[CustomerHandover]:
    """Handovers of a leaving employee's customers to a successor."""
    return st.builds(
        CustomerHandover,
        id=st.integers(1, 9_999).map(lambda n: f"HO-{n:04d}"),
        leaving=st.just("li.am"),
        successor=st.just("wang.am"),
        customer_ids=st.lists(
            st.integers(1, 50).map(lambda n: f"CU-{n:06d}"), unique=True, max_size=5
        ).map(tuple),
        at=st.datetimes(
            datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
            datetime(2026, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        by=st.just("qian.csm"),
        reason=st.sampled_from(["", "left the company"]),
    )
