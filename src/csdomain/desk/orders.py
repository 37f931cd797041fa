"""Use cases for orders, stock and returns: from order to shipment and back.

Source: DOMAIN.md 2. Each use case is one unit of work around the pure rules of
:mod:`csdomain.orders` and :mod:`csdomain.returns`: load the order, its customer's class
and the stock of its SKUs, call the rule with ``at=`` and ``by=``, save every changed
aggregate and write the events to the outbox. Stock never goes negative even with several
processes shipping at once: the stock documents carry versions, SQLite queues writers and
the memory store refuses the later of two conflicting commits, which :meth:`DeskBase.run`
retries on fresh data (so the loser sees ``insufficient_stock``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from csdomain.auth import Actor, Permission
from csdomain.desk.args import actor as _actor
from csdomain.desk.args import key as _key
from csdomain.desk.args import optional_instance as _optional
from csdomain.desk.args import optional_key as _optional_key
from csdomain.desk.args import text as _text
from csdomain.desk.base import DeskBase
from csdomain.errors import PermissionDenied, ValidationError
from csdomain.events import Event
from csdomain.kinds import CUSTOMERS, ORDERS, OUTBOX, RETURNS, STOCKS, SURVEY_RESPONSES
from csdomain.money import Money
from csdomain.orders import (
    AwaitingStock,
    ConsigneeInfo,
    Order,
    OrderChannel,
    OrderKind,
    OrderLine,
    OrderStatus,
    ShipmentLine,
    ShippingMode,
    Stock,
    StockBucket,
    StockMarkedDamaged,
    StockReceived,
    StockWrittenOff,
    order_events,
    release_order,
    reserve_order,
)
from csdomain.orders import orders_awaiting_stock as _orders_awaiting_stock
from csdomain.orders import ship_order as _ship_order
from csdomain.returns import (
    ReceivedLine,
    ReturnAnalysis,
    ReturnAnalysisRow,
    ReturnItem,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    return_events,
)
from csdomain.returns import receive_return as _receive_return
from csdomain.satisfaction import (
    SurveyRequested,
    SurveySubject,
    post_service_survey,
    should_request_survey,
)
from csdomain.store import Repository, UnitOfWork


__all__ = ["OrderDesk"]

T = TypeVar("T")

#: Statuses of orders that still wait for their goods (the daily out-of-stock list).
_AWAITING = (
    OrderStatus.CONFIRMED,
    OrderStatus.PREPAID,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.PRODUCED,
    OrderStatus.PAID,
)
_RECEIVED_RETURNS = (ReturnStatus.RECEIVED, ReturnStatus.CLOSED)
_ORDER_READERS = (
    Permission.READ_CUSTOMER,
    Permission.PLACE_ORDER,
    Permission.CONFIRM_ORDER,
    Permission.RECORD_PAYMENT,
    Permission.SHIP_ORDER,
    Permission.CANCEL_ORDER,
)
_STOCK_READERS = (Permission.VIEW_REPORTS, Permission.MANAGE_STOCK, Permission.SHIP_ORDER)
_RETURN_READERS = (
    Permission.READ_CUSTOMER,
    Permission.REQUEST_RETURN,
    Permission.APPROVE_RETURN,
    Permission.RECEIVE_RETURN,
)
_KEYS_PER_QUERY = 500
_MONTH = re.compile(r"(\d{4})-(\d{2})")


# -- argument checks at the boundary -----------------------------------------------------


def _items(value: object, cls: type[T], path: str) -> tuple[T, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError.at(path, f"expected a list of {cls.__name__}")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            msg = f"expected {cls.__name__}, got {type(item).__name__}"
            raise ValidationError.at(f"{path}.{i}", msg)
    return items


def _reasons(value: object) -> tuple[ReturnReason | str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bytes) or not isinstance(value, Iterable):
        raise ValidationError.at("reasons", "expected a list of return reasons")
    reasons = tuple(value)
    for i, reason in enumerate(reasons):
        if not isinstance(reason, str):
            raise ValidationError.at(f"reasons.{i}", f"not a return reason: {reason!r}")
    return reasons


def _count(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.at(path, f"must be a whole number >= 0, got {value!r}")
    return value


def _month(value: object) -> tuple[int, int]:
    """``"2026-11"`` or ``(2026, 11)`` as ``(year, month)``."""
    if isinstance(value, str) and (match := _MONTH.fullmatch(value)):
        year, month = int(match[1]), int(match[2])
    elif (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        year, month = value
    else:
        raise ValidationError.at("month", f"expected 'YYYY-MM' or (year, month), got {value!r}")
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        raise ValidationError.at("month", f"no such month: {value!r}")
    return year, month


# -- loading and saving stock ------------------------------------------------------------


def _load_stocks(repo: Repository[Stock], skus: Iterable[str]) -> dict[str, Stock]:
    """The stored stock of each SKU (absent SKUs are left out: they hold nothing)."""
    wanted = sorted(set(skus))
    found: dict[str, Stock] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        for stock in repo.scan(key__in=wanted[start : start + _KEYS_PER_QUERY]):
            found[stock.id] = stock
    return found


def _save_stocks(
    repo: Repository[Stock], loaded: Mapping[str, Stock], changed: Mapping[str, Stock]
) -> None:
    for sku, stock in sorted(changed.items()):
        if sku not in loaded:
            repo.add(stock)
        elif stock != loaded[sku]:
            repo.update(stock)


def _stock_skus(order: Order) -> list[str]:
    return sorted({line.sku for line in order.stock_lines})


class OrderDesk(DeskBase):
    """Order, stock and return use cases of the service desk (DOMAIN.md 2)."""

    # -- helpers ---------------------------------------------------------------------------

    def _require_any(self, by: Actor, permissions: Sequence[str]) -> None:
        access = self.policy.access
        if not any(access.allows(by, permission) for permission in permissions):
            detail = f"needs one of {', '.join(permissions)}"
            raise PermissionDenied(by.id, permissions[0], detail)

    def _order_step(
        self, order_id: str, by: Actor, step: Callable[[Order, datetime, Actor], Order]
    ) -> Order:
        """Load an order, apply one domain method, save it and emit its events."""
        actor = _actor(by)
        _key(order_id, "order_id")

        def work(uow: UnitOfWork) -> Order:
            now = self.now()
            repo = uow.repo(ORDERS)
            before = repo.get(order_id)
            after = step(before, now, actor)
            if after != before:
                repo.update(after)
                for event in order_events(before, after):
                    uow.emit(event, at=now)
            return after

        return self.run(work)

    def _return_step(
        self,
        return_id: str,
        by: Actor,
        step: Callable[[ReturnRequest, datetime, Actor, UnitOfWork], ReturnRequest],
    ) -> ReturnRequest:
        """Load a return request, apply one domain method, save it and emit its events."""
        actor = _actor(by)
        _key(return_id, "return_id")

        def work(uow: UnitOfWork) -> ReturnRequest:
            now = self.now()
            repo = uow.repo(RETURNS)
            before = repo.get(return_id)
            after = step(before, now, actor, uow)
            repo.update(after)
            for event in return_events(before, after):
                uow.emit(event, at=now)
            return after

        return self.run(work)

    def _last_survey_at(self, uow: UnitOfWork, customer_id: str, now: datetime) -> datetime | None:
        """When ``customer_id`` was last asked for or gave a survey within the cooldown."""
        since = now - self.policy.satisfaction.survey_cooldown
        latest: datetime | None = None
        for entry in uow.repo(OUTBOX).scan(
            type=SurveyRequested.type_name, created_at__gt=since, order_by="-created_at"
        ):
            if entry.payload.get("customer_id") == customer_id:
                latest = entry.created_at
                break
        answered = uow.repo(SURVEY_RESPONSES).find(
            customer_id=customer_id, answered_at__gt=since, order_by="-answered_at", limit=1
        )
        if answered and (latest is None or answered[0].answered_at > latest):
            latest = answered[0].answered_at
        return latest

    def _survey_after(self, uow: UnitOfWork, order: Order, now: datetime) -> SurveyRequested | None:
        policy = self.policy.satisfaction
        if not should_request_survey(SurveySubject.ORDER, policy, closed_at=now):
            return None
        last = None
        if policy.survey_cooldown > timedelta(0):
            last = self._last_survey_at(uow, order.customer_id, now)
        return post_service_survey(
            SurveySubject.ORDER,
            order.id,
            order.customer_id,
            policy,
            closed_at=now,
            last_survey_at=last,
        )

    # -- orders ----------------------------------------------------------------------------

    def place_order(
        self,
        customer_id: str,
        *,
        channel: OrderChannel | str,
        lines: Sequence[OrderLine],
        by: Actor,
        kind: OrderKind | str = OrderKind.STANDARD,
        dealer_id: str | None = None,
        contract_number: str | None = None,
        prepayment: Money | None = None,
        consignee: ConsigneeInfo | None = None,
        salesperson: str | None = None,
    ) -> Order:
        """Take an order for a known customer under the next order number (DOMAIN.md 2).

        The number comes from ``policy.orders.order_series()`` (``SO-202611-0001``).
        Needs ``order.place``; an unknown customer is :class:`NotFound`.
        """
        actor = _actor(by)
        _key(customer_id, "customer_id")
        order_lines = _items(lines, OrderLine, "lines")
        _optional_key(dealer_id, "dealer_id")
        _optional_key(contract_number, "contract_number")
        _optional_key(salesperson, "salesperson")
        _optional(prepayment, Money, "prepayment")
        _optional(consignee, ConsigneeInfo, "consignee")

        def work(uow: UnitOfWork) -> Order:
            now = self.now()
            uow.repo(CUSTOMERS).get(customer_id)
            order = Order.place(
                id=self.policy.orders.order_series().next(uow, now),
                customer_id=customer_id,
                channel=channel,
                lines=order_lines,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.orders,
                kind=kind,
                dealer_id=dealer_id,
                contract_number=contract_number,
                prepayment=prepayment,
                consignee=consignee,
                salesperson=salesperson,
            )
            uow.repo(ORDERS).add(order)
            for event in order_events(None, order):
                uow.emit(event, at=now)
            return order

        return self.run(work)

    def confirm_by_salesperson(self, order_id: str, *, by: Actor) -> Order:
        """The salesperson confirms a phone order (DOMAIN.md 2); needs ``order.confirm``."""
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.confirm_by_salesperson(
                at=now, by=actor, access=self.policy.access
            ),
        )

    def confirm_order(self, order_id: str, *, by: Actor, note: str = "") -> Order:
        """Confirm the order contents with the customer (DOMAIN.md 2).

        A phone order needs the salesperson's confirmation first
        (``salesperson_confirmation_required``). Needs ``order.confirm``.
        """
        _text(note, "note")
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.confirm(
                at=now, by=actor, access=self.policy.access, note=note
            ),
        )

    def record_payment(
        self, order_id: str, amount: Money, *, by: Actor, reference: str = ""
    ) -> Order:
        """Book a payment; more than the order total is ``overpayment`` (DOMAIN.md 2).

        Payments move the order on by themselves (``prepaid``, ``paid``). Needs
        ``order.record_payment``.
        """
        self.bounded_text(reference, "reference", long=False)
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.record_payment(
                amount, at=now, by=actor, access=self.policy.access, reference=reference
            ),
        )

    def change_price(
        self, order_id: str, sku: str, unit_price: Money, *, by: Actor, gift: bool = False
    ) -> Order:
        """Change a line's unit price before the order is paid (``order.change_price``)."""
        _key(sku, "sku")
        if not isinstance(gift, bool):
            raise ValidationError.at("gift", f"expected true or false, got {gift!r}")
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.change_price(
                sku, unit_price, at=now, by=actor, access=self.policy.access, gift=gift
            ),
        )

    def set_consignee(self, order_id: str, consignee: ConsigneeInfo, *, by: Actor) -> Order:
        """Record invoice title, consignee, phone and address (DOMAIN.md 2, 汇款凭证)."""
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.set_consignee(
                consignee, at=now, by=actor, access=self.policy.access
            ),
        )

    def start_production(self, order_id: str, *, by: Actor) -> Order:
        """Start custom work; before the prepayment it is ``prepayment_required``."""
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.start_production(
                at=now, by=actor, access=self.policy.access
            ),
        )

    def finish_production(self, order_id: str, *, by: Actor) -> Order:
        """Custom work is produced (and ``paid`` at once when the balance is in)."""
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.finish_production(
                at=now, by=actor, access=self.policy.access
            ),
        )

    def ship_order(
        self,
        order_id: str,
        *,
        by: Actor,
        mode: ShippingMode | str = ShippingMode.EXPRESS,
        lines: Sequence[ShipmentLine] | None = None,
        tracking: str = "",
    ) -> Order:
        """Ship the whole order and issue its stock in one unit of work (DOMAIN.md 2).

        Payment first (``payment_required`` unless the customer's class is credit-exempt;
        custom work ``balance_required``), complete or not at all
        (``partial_shipment_forbidden``), never negative stock (``insufficient_stock``).
        Needs ``order.ship``.
        """
        actor = _actor(by)
        _key(order_id, "order_id")
        shipped = None if lines is None else _items(lines, ShipmentLine, "lines")
        _text(tracking, "tracking")

        def work(uow: UnitOfWork) -> Order:
            now = self.now()
            orders = uow.repo(ORDERS)
            stocks = uow.repo(STOCKS)
            order = orders.get(order_id)
            customer = uow.repo(CUSTOMERS).get_or_none(order.customer_id)
            loaded = _load_stocks(stocks, (line.sku for line in order.lines))
            result = _ship_order(
                order,
                loaded,
                at=now,
                by=actor,
                access=self.policy.access,
                policy=self.policy.orders,
                calendar=self.calendar,
                mode=mode,
                lines=shipped,
                customer_class=customer.customer_class if customer is not None else None,
                tracking=tracking,
            )
            orders.update(result.order)
            _save_stocks(stocks, loaded, result.stocks)
            for event in result.events:
                uow.emit(event, at=now)
            return result.order

        return self.run(work)

    def confirm_delivery(self, order_id: str, *, by: Actor) -> Order:
        """The customer received the goods (``order.ship``)."""
        return self._order_step(
            order_id,
            by,
            lambda order, now, actor: order.deliver(at=now, by=actor, access=self.policy.access),
        )

    def complete_order(self, order_id: str, *, by: Actor) -> Order:
        """Close a delivered order; a post-service survey follows when the policy says so.

        Refused with ``payment_outstanding`` while money is owed. The
        :class:`~csdomain.satisfaction.SurveyRequested` event is emitted when
        ``policy.satisfaction.survey_after_order`` is on and the customer was not asked for
        (or did not answer) a survey within ``survey_cooldown`` (DOMAIN.md 3.2, 3.5).
        Needs ``order.confirm``.
        """
        actor = _actor(by)
        _key(order_id, "order_id")

        def work(uow: UnitOfWork) -> Order:
            now = self.now()
            repo = uow.repo(ORDERS)
            before = repo.get(order_id)
            after = before.complete(at=now, by=actor, access=self.policy.access)
            repo.update(after)
            events: list[Event] = list(order_events(before, after))
            survey = self._survey_after(uow, after, now)
            if survey is not None:
                events.append(survey)
            for event in events:
                uow.emit(event, at=now)
            return after

        return self.run(work)

    def cancel_order(self, order_id: str, *, by: Actor, reason: str) -> Order:
        """Cancel before shipment and release every reservation the order holds.

        Needs ``order.cancel``; the release is part of the cancellation, so the canceller
        needs no ``order.ship`` for it (the events name the canceller). ``OrderCancelled``
        carries what was paid as ``refund_due``.
        """
        actor = _actor(by)
        _key(order_id, "order_id")
        self.bounded_text(reason, "reason")

        def work(uow: UnitOfWork) -> Order:
            now = self.now()
            orders = uow.repo(ORDERS)
            stocks = uow.repo(STOCKS)
            before = orders.get(order_id)
            after = before.cancel(at=now, by=actor, access=self.policy.access, reason=reason)
            orders.update(after)
            events: list[Event] = list(order_events(before, after))
            loaded = _load_stocks(stocks, (line.sku for line in after.lines))
            if any(r.order_id == after.id for s in loaded.values() for r in s.reservations):
                update = release_order(after, loaded, at=now, by=actor, access=self.policy.access)
                _save_stocks(stocks, loaded, update.stocks)
                events.extend(update.events)
            for event in events:
                uow.emit(event, at=now)
            return after

        return self.run(work)

    def get_order(self, order_id: str, *, by: Actor) -> Order:
        """One order; needs any order permission or ``customer.read``."""
        actor = _actor(by)
        self._require_any(actor, _ORDER_READERS)
        _key(order_id, "order_id")
        return self.run(lambda uow: uow.repo(ORDERS).get(order_id), readonly=True)

    # -- stock -----------------------------------------------------------------------------

    def reserve_stock(self, order_id: str, *, by: Actor) -> list[Stock]:
        """Hold back everything an open order needs, all or nothing (DOMAIN.md 2).

        Returns the stock of every SKU the order draws on, after reserving. Shortages are
        ``insufficient_stock``. The order is written too (its version moves), so a
        concurrent cancellation of the same order is retried rather than leaving a
        reservation behind. Needs ``order.ship``.
        """
        actor = _actor(by)
        _key(order_id, "order_id")

        def work(uow: UnitOfWork) -> list[Stock]:
            now = self.now()
            orders = uow.repo(ORDERS)
            stocks = uow.repo(STOCKS)
            order = orders.get(order_id)
            skus = _stock_skus(order)
            loaded = _load_stocks(stocks, skus)
            update = reserve_order(order, loaded, at=now, by=actor, access=self.policy.access)
            orders.update(order)
            _save_stocks(stocks, loaded, update.stocks)
            for event in update.events:
                uow.emit(event, at=now)
            merged = {**loaded, **update.stocks}
            return [merged.get(sku) or Stock(id=sku) for sku in skus]

        return self.run(work)

    def receive_stock(
        self, sku: str, *, good: int = 0, damaged: int = 0, gift: int = 0, by: Actor
    ) -> Stock:
        """Goods come into good, damaged and gift stock (正品/残品/赠品, DOMAIN.md 2).

        At least one quantity must be positive. Needs ``stock.manage``.
        """
        actor = _actor(by)
        _key(sku, "sku")
        amounts = (
            (StockBucket.GOOD, _count(good, "good")),
            (StockBucket.DAMAGED, _count(damaged, "damaged")),
            (StockBucket.GIFT, _count(gift, "gift")),
        )
        if not any(quantity for _, quantity in amounts):
            raise ValidationError.at("good", "receive at least one unit of good, damaged or gift")

        def work(uow: UnitOfWork) -> Stock:
            now = self.now()
            repo = uow.repo(STOCKS)
            before = repo.get_or_none(sku)
            stock = before or Stock(id=sku)
            events: list[Event] = []
            for bucket, quantity in amounts:
                if quantity:
                    stock = stock.receive(
                        quantity, by=actor, access=self.policy.access, bucket=bucket
                    )
                    events.append(StockReceived(sku, quantity, bucket, now, actor.id))
            _save_stocks(repo, {} if before is None else {sku: before}, {sku: stock})
            for event in events:
                uow.emit(event, at=now)
            return stock

        return self.run(work)

    def _stock_step(
        self,
        sku: str,
        by: Actor,
        step: Callable[[Stock, Actor], Stock],
        event: Callable[[datetime, Actor], Event],
    ) -> Stock:
        actor = _actor(by)
        _key(sku, "sku")

        def work(uow: UnitOfWork) -> Stock:
            now = self.now()
            repo = uow.repo(STOCKS)
            before = repo.get_or_none(sku)
            after = step(before or Stock(id=sku), actor)
            _save_stocks(repo, {} if before is None else {sku: before}, {sku: after})
            uow.emit(event(now, actor), at=now)
            return after

        return self.run(work)

    def mark_damaged(
        self,
        sku: str,
        quantity: int,
        *,
        by: Actor,
        bucket: StockBucket | str = StockBucket.GOOD,
    ) -> Stock:
        """Move deteriorated goods to damaged stock: they never ship (DOMAIN.md 2).

        Only unreserved goods can be moved (``insufficient_stock``). Needs ``stock.manage``.
        """
        return self._stock_step(
            sku,
            by,
            lambda stock, actor: stock.mark_damaged(
                quantity, by=actor, access=self.policy.access, bucket=bucket
            ),
            lambda now, actor: StockMarkedDamaged(
                sku, quantity, StockBucket(bucket), now, actor.id
            ),
        )

    def write_off(
        self,
        sku: str,
        quantity: int,
        *,
        by: Actor,
        bucket: StockBucket | str = StockBucket.DAMAGED,
    ) -> Stock:
        """Remove goods from stock (scrapped damaged goods, counting corrections).

        Never below zero nor into reserved goods (``insufficient_stock``). Needs
        ``stock.manage``.
        """
        return self._stock_step(
            sku,
            by,
            lambda stock, actor: stock.write_off(
                quantity, by=actor, access=self.policy.access, bucket=bucket
            ),
            lambda now, actor: StockWrittenOff(sku, quantity, StockBucket(bucket), now, actor.id),
        )

    def get_stock(self, sku: str, *, by: Actor) -> Stock:
        """The stock of one SKU (all zero when nothing was ever received).

        Needs ``report.view``, ``stock.manage`` or ``order.ship``.
        """
        actor = _actor(by)
        self._require_any(actor, _STOCK_READERS)
        _key(sku, "sku")
        found = self.run(lambda uow: uow.repo(STOCKS).get_or_none(sku), readonly=True)
        return found or Stock(id=sku)

    def orders_awaiting_stock(self, *, by: Actor) -> list[AwaitingStock]:
        """The daily out-of-stock confirmation list (每日订单确认, DOMAIN.md 2).

        Confirmed, unshipped orders are served first come, first served from their own
        reservations, then free stock; those that cannot be covered completely are listed
        with their shortages. Needs ``report.view``, ``stock.manage`` or ``order.ship``.
        """
        actor = _actor(by)
        self._require_any(actor, _STOCK_READERS)

        def work(uow: UnitOfWork) -> list[AwaitingStock]:
            waiting = [
                order for order in uow.repo(ORDERS).scan(status__in=_AWAITING) if order.stock_lines
            ]
            skus = {line.sku for order in waiting for line in order.stock_lines}
            return _orders_awaiting_stock(waiting, _load_stocks(uow.repo(STOCKS), skus))

        return self.run(work, readonly=True)

    # -- returns ---------------------------------------------------------------------------

    def request_return(
        self,
        order_id: str,
        *,
        items: Sequence[ReturnItem],
        reasons: Iterable[ReturnReason | str],
        by: Actor,
        note: str = "",
    ) -> ReturnRequest:
        """The salesperson files a return report under the next return number (DOMAIN.md 2).

        Nobody returns more than was shipped, across every return of the order
        (``return_exceeds_shipment``). The order is written too (its version moves), so
        two concurrent returns of one order cannot both pass that check. Needs
        ``return.request``.
        """
        actor = _actor(by)
        _key(order_id, "order_id")
        wanted = _items(items, ReturnItem, "items")
        why = _reasons(reasons)
        _text(note, "note")

        def work(uow: UnitOfWork) -> ReturnRequest:
            now = self.now()
            orders = uow.repo(ORDERS)
            returns = uow.repo(RETURNS)
            order = orders.get(order_id)
            request = ReturnRequest.file(
                id=self.policy.orders.return_series().next(uow, now),
                order=order,
                items=wanted,
                reasons=why,
                at=now,
                by=actor,
                access=self.policy.access,
                other_returns=returns.find(order_id=order_id),
                note=note,
            )
            orders.update(order)
            returns.add(request)
            for event in return_events(None, request):
                uow.emit(event, at=now)
            return request

        return self.run(work)

    def approve_return(self, return_id: str, *, by: Actor, note: str = "") -> ReturnRequest:
        """A manager other than the filer approves the return (``return.approve``)."""
        _text(note, "note")
        return self._return_step(
            return_id,
            by,
            lambda request, now, actor, _uow: request.approve(
                at=now, by=actor, access=self.policy.access, note=note
            ),
        )

    def reject_return(self, return_id: str, *, by: Actor, reason: str) -> ReturnRequest:
        """A manager other than the filer rejects the return, saying why."""
        return self._return_step(
            return_id,
            by,
            lambda request, now, actor, _uow: request.reject(
                at=now, by=actor, access=self.policy.access, reason=reason
            ),
        )

    def withdraw_return(self, return_id: str, *, by: Actor, note: str = "") -> ReturnRequest:
        """Withdraw a return before the goods come in (``return.request``)."""
        _text(note, "note")
        return self._return_step(
            return_id,
            by,
            lambda request, now, actor, _uow: request.withdraw(
                at=now, by=actor, access=self.policy.access, note=note
            ),
        )

    def receive_return(
        self, return_id: str, lines: Sequence[ReceivedLine], *, by: Actor
    ) -> ReturnRequest:
        """The warehouse confirms what came back; goods are booked to stock (DOMAIN.md 2).

        Good goods go back to good (or gift) stock, damaged ones to damaged stock. More
        than requested is ``received_exceeds_request``. Needs ``return.receive``.
        """
        actor = _actor(by)
        _key(return_id, "return_id")
        received = _items(lines, ReceivedLine, "lines")

        def work(uow: UnitOfWork) -> ReturnRequest:
            now = self.now()
            returns = uow.repo(RETURNS)
            stocks = uow.repo(STOCKS)
            request = returns.get(return_id)
            loaded = _load_stocks(stocks, (line.sku for line in received))
            receipt = _receive_return(
                request, loaded, received, at=now, by=actor, access=self.policy.access
            )
            returns.update(receipt.request)
            _save_stocks(stocks, loaded, receipt.stocks)
            for event in receipt.events:
                uow.emit(event, at=now)
            return receipt.request

        return self.run(work)

    def close_return(self, return_id: str, *, by: Actor) -> ReturnRequest:
        """Issue the return note (next number of ``return_note_series()``) and close.

        Finance books the refund from the ``ReturnClosed`` event. Needs ``return.receive``.
        """

        def close(
            request: ReturnRequest, now: datetime, actor: Actor, uow: UnitOfWork
        ) -> ReturnRequest:
            number = self.policy.orders.return_note_series().next(uow, now)
            return request.close(number, at=now, by=actor, access=self.policy.access)

        return self._return_step(return_id, by, close)

    def get_return(self, return_id: str, *, by: Actor) -> ReturnRequest:
        """One return request; needs a return permission or ``customer.read``."""
        actor = _actor(by)
        self._require_any(actor, _RETURN_READERS)
        _key(return_id, "return_id")
        return self.run(lambda uow: uow.repo(RETURNS).get(return_id), readonly=True)

    def return_analysis(
        self, month: str | tuple[int, int], *, by: Actor
    ) -> list[ReturnAnalysisRow]:
        """The monthly return and damage analysis (DOMAIN.md 2): by salesperson, item,
        reason, with quantity, damaged quantity and amount.

        Counts the returns received in ``month`` (``"2026-11"`` or ``(2026, 11)``, read in
        ``policy.orders.number_tz``), streamed from the store. Needs ``report.view``.
        """
        actor = _actor(by)
        self.require(actor, Permission.VIEW_REPORTS)
        year, number = _month(month)
        tz = self.policy.orders.number_tz
        zone = ZoneInfo(tz)
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)

        def work(uow: UnitOfWork) -> list[ReturnAnalysisRow]:
            analysis = ReturnAnalysis(currency=self.policy.orders.currency, tz=tz)
            where: dict[str, Any] = {
                "status__in": _RECEIVED_RETURNS,
                "received_at__ge": start,
                "received_at__lt": end,
            }
            for request in uow.repo(RETURNS).scan(**where):
                analysis.add(request)
            return analysis.rows()

        return self.run(work, readonly=True)
