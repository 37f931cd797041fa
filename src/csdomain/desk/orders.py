"""Use cases for orders, stock and returns: from order to shipment and back.

Source: docs/domain.md 2. Each use case goes through the one skeleton
(:func:`~csdomain.desk.base.use_case`): its arguments are checked against their
annotations and the policy's limits, the permission before anything is loaded, and the
body is one unit of work around the pure rules of :mod:`csdomain.orders` and
:mod:`csdomain.returns`: load the order, its customer's class and the stock of its SKUs,
call the rule with ``at=`` and ``by=``, save every changed aggregate and write the events
to the outbox. Stock never goes negative even with several processes shipping at once:
the stock documents carry versions, SQLite queues writers and the memory store refuses
the later of two conflicting commits, which the skeleton retries on fresh data (so the
loser sees ``insufficient_stock``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from csdomain.auth import Actor, Permission
from csdomain.desk.args import Count, Id, LongText, Positive, ShortText, checker
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import ValidationError, describe
from csdomain.events import Event
from csdomain.kinds import CUSTOMERS, ORDERS, RETURNS, STOCKS
from csdomain.kpi import OrderKpis
from csdomain.kpi import order_kpis as _order_kpis
from csdomain.money import Money
from csdomain.orders import (
    AwaitingStock,
    ConsigneeInfo,
    DamageAnalysisRow,
    DamageApplied,
    DamageRejected,
    Order,
    OrderChannel,
    OrderKind,
    OrderLine,
    OrderStatus,
    PaymentReminderDue,
    ShipmentLine,
    ShippingMode,
    Stock,
    StockAdjusted,
    StockBucket,
    StockCounted,
    StockCountRejected,
    StockMarkedDamaged,
    StockReceived,
    StockWrittenOff,
    release_order,
    reserve_order,
)
from csdomain.orders import damage_analysis as _damage_analysis
from csdomain.orders import orders_awaiting_stock as _orders_awaiting_stock
from csdomain.orders import ship_order as _ship_order
from csdomain.orders import stock_counts_due as _stock_counts_due
from csdomain.policy import LimitsPolicy
from csdomain.returns import (
    ReceivedLine,
    ReturnAnalysis,
    ReturnAnalysisRow,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
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
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
#: The vocabulary's check of an ``Id``, for the SKUs inside lines (they become stock keys).
_KEY = checker(Id)

#: A line of an order, a shipment or a return: it names a SKU.
_Line = OrderLine | ShipmentLine | ReturnItem | ReceivedLine


# -- the checks the vocabulary cannot state ----------------------------------------------


def _sku_keys(lines: Iterable[_Line], path: str, limits: LimitsPolicy) -> None:
    """The SKU of every line is bounded like an ``Id`` argument: it becomes a stock key."""
    for i, line in enumerate(lines):
        _KEY(line.sku, f"{path}.{i}.sku", limits)


def _year_month(month: str | tuple[int, int], limits: LimitsPolicy) -> tuple[int, int]:
    """``"2026-11"`` or ``(2026, 11)`` as ``(year, month)``, in the policy's year range."""
    if isinstance(month, str):
        match = _MONTH.fullmatch(month)
        if match is None:
            msg = f"expected 'YYYY-MM' or (year, month), got {describe(month)}"
            raise ValidationError.at("month", msg)
        year, number = int(match[1]), int(match[2])
    else:
        year, number = month
    if not 1 <= number <= 12 or not limits.earliest_year <= year <= limits.latest_year:
        raise ValidationError.at("month", f"no such month: {describe(month)}")
    return year, number


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
    """Order, stock and return use cases of the service desk (docs/domain.md 2)."""

    # -- helpers ---------------------------------------------------------------------------

    def _shown_orders(
        self, uow: UnitOfWork, orders: Sequence[Order], by: Actor, purpose: str
    ) -> list[Order]:
        """``orders`` as ``by`` may see them (docs/domain.md 1, 保护客户隐私).

        The consignee's details and the free-text notes of the history (confirmation
        notes, cancellation reasons) are personal data: with ``customer.read`` they are
        shown and every customer concerned gets an access record in this unit of work;
        without it they are redacted (:meth:`Order.redacted`) and nothing is recorded.
        """
        if not self.may_read_personal(by):
            return [order.redacted() for order in orders]
        self.record_access(
            uow, (o.customer_id for o in orders if o.holds_personal_data), by, purpose
        )
        return list(orders)

    def _shown_order(self, uow: UnitOfWork, order: Order, by: Actor, purpose: str) -> Order:
        """One order as ``by`` may see it (see :meth:`_shown_orders`)."""
        return self._shown_orders(uow, [order], by, purpose)[0]

    def _shown_return(
        self, uow: UnitOfWork, request: ReturnRequest, by: Actor, purpose: str
    ) -> ReturnRequest:
        """A return as ``by`` may see it: its free-text note is personal data."""
        if not self.may_read_personal(by):
            return request.redacted()
        if request.note.strip():
            self.record_access(uow, [request.customer_id], by, purpose)
        return request

    def _change_order(
        self,
        uow: UnitOfWork,
        by: Actor,
        purpose: str,
        order_id: str,
        step: Callable[[Order], Order],
    ) -> Order:
        """:meth:`change` an order and return it as ``by`` may see it."""
        return self._shown_order(uow, self.change(uow, ORDERS, order_id, step), by, purpose)

    def _change_return(
        self,
        uow: UnitOfWork,
        by: Actor,
        purpose: str,
        return_id: str,
        step: Callable[[ReturnRequest], ReturnRequest],
    ) -> ReturnRequest:
        """:meth:`change` a return and return it as ``by`` may see it."""
        request = self.change(uow, RETURNS, return_id, step)
        return self._shown_return(uow, request, by, purpose)

    def _change_stock(
        self,
        uow: UnitOfWork,
        sku: str,
        step: Callable[[Stock], Stock],
        event: Callable[[datetime], Event],
    ) -> Stock:
        """Apply one step to the stock of ``sku`` (all zero when new), save it, emit ``event``."""
        now = self.now()
        repo = uow.repo(STOCKS)
        before = repo.get_or_none(sku)
        after = step(before or Stock(id=sku))
        _save_stocks(repo, {} if before is None else {sku: before}, {sku: after})
        uow.emit(event(now), at=now)
        return after

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

    @use_case(Permission.PLACE_ORDER)
    def place_order(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        channel: OrderChannel | str,
        lines: Sequence[OrderLine],
        by: Actor,
        kind: OrderKind | str = OrderKind.STANDARD,
        dealer_id: Id | None = None,
        contract_number: Id | None = None,
        prepayment: Money | None = None,
        consignee: ConsigneeInfo | None = None,
        salesperson: Id | None = None,
        urgent: bool = False,
        shipping_mode: ShippingMode | str | None = None,
    ) -> Order:
        """Take an order for a known customer under the next order number (docs/domain.md 2).

        ``urgent`` and ``shipping_mode`` (overriding the policy's choice by quantity and
        urgency) decide how it ships.

        The number comes from ``policy.orders.order_series()`` (``SO-202611-0001``).
        Needs ``order.place``; an unknown customer is :class:`NotFound`.
        """
        _sku_keys(lines, "lines", self.policy.limits)
        now = self.now()
        uow.repo(CUSTOMERS).get(customer_id)
        order = Order.place(
            id=self.policy.orders.order_series().next(uow, now),
            customer_id=customer_id,
            channel=channel,
            lines=lines,
            at=now,
            by=by,
            access=self.policy.access,
            policy=self.policy.orders,
            kind=kind,
            dealer_id=dealer_id,
            contract_number=contract_number,
            prepayment=prepayment,
            consignee=consignee,
            salesperson=salesperson,
            urgent=urgent,
            shipping_mode=shipping_mode,
        )
        return self._shown_order(uow, self.create(uow, ORDERS, order), by, "place_order")

    @use_case(Permission.CONFIRM_ORDER)
    def confirm_by_salesperson(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> Order:
        """The salesperson confirms a phone order (docs/domain.md 2); needs ``order.confirm``."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "confirm_by_salesperson",
            order_id,
            lambda order: order.confirm_by_salesperson(at=now, by=by, access=self.policy.access),
        )

    @use_case(Permission.CONFIRM_ORDER)
    def confirm_order(
        self, uow: UnitOfWork, order_id: Id, *, by: Actor, note: LongText = ""
    ) -> Order:
        """Confirm the order contents with the customer (docs/domain.md 2).

        A phone order needs the salesperson's confirmation first
        (``salesperson_confirmation_required``). Needs ``order.confirm``.
        """
        now = self.now()
        return self._change_order(
            uow,
            by,
            "confirm_order",
            order_id,
            lambda order: order.confirm(at=now, by=by, access=self.policy.access, note=note),
        )

    @use_case(Permission.RECORD_PAYMENT)
    def record_payment(
        self,
        uow: UnitOfWork,
        order_id: Id,
        amount: Money,
        *,
        by: Actor,
        reference: ShortText = "",
    ) -> Order:
        """Book a payment; more than the order total is ``overpayment`` (docs/domain.md 2).

        Payments move the order on by themselves (``prepaid``, ``paid``). Needs
        ``order.record_payment``.
        """
        now = self.now()
        return self._change_order(
            uow,
            by,
            "record_payment",
            order_id,
            lambda order: order.record_payment(
                amount, at=now, by=by, access=self.policy.access, reference=reference
            ),
        )

    @use_case(Permission.CHANGE_PRICE)
    def change_price(
        self,
        uow: UnitOfWork,
        order_id: Id,
        sku: Id,
        unit_price: Money,
        *,
        by: Actor,
        gift: bool = False,
    ) -> Order:
        """Change a line's unit price before the order is paid (``order.change_price``)."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "change_price",
            order_id,
            lambda order: order.change_price(
                sku, unit_price, at=now, by=by, access=self.policy.access, gift=gift
            ),
        )

    @use_case(Permission.PLACE_ORDER)
    def set_consignee(
        self, uow: UnitOfWork, order_id: Id, consignee: ConsigneeInfo, *, by: Actor
    ) -> Order:
        """Record invoice title, consignee, phone and address (docs/domain.md 2, 汇款凭证)."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "set_consignee",
            order_id,
            lambda order: order.set_consignee(consignee, at=now, by=by, access=self.policy.access),
        )

    @use_case(Permission.MANAGE_STOCK)
    def start_production(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> Order:
        """Start custom work; before the prepayment it is ``prepayment_required``."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "start_production",
            order_id,
            lambda order: order.start_production(at=now, by=by, access=self.policy.access),
        )

    @use_case(Permission.MANAGE_STOCK)
    def finish_production(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> Order:
        """Custom work is produced (and ``paid`` at once when the balance is in)."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "finish_production",
            order_id,
            lambda order: order.finish_production(at=now, by=by, access=self.policy.access),
        )

    @use_case(Permission.SHIP_ORDER)
    def ship_order(
        self,
        uow: UnitOfWork,
        order_id: Id,
        *,
        by: Actor,
        mode: ShippingMode | str | None = None,
        lines: Sequence[ShipmentLine] | None = None,
        tracking: ShortText = "",
    ) -> Order:
        """Ship the whole order and issue its stock in one unit of work (docs/domain.md 2).

        ``mode`` defaults to the order's planned mode (its own, or the policy's by
        quantity and urgency: :func:`~csdomain.orders.choose_shipping_mode`).

        Payment first (``payment_required`` unless the customer's class is credit-exempt;
        custom work ``balance_required``), complete or not at all
        (``partial_shipment_forbidden``), never negative stock (``insufficient_stock``).
        Needs ``order.ship``.
        """
        if lines is not None:
            _sku_keys(lines, "lines", self.policy.limits)
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
            by=by,
            access=self.policy.access,
            policy=self.policy.orders,
            calendar=self.calendar,
            mode=mode,
            lines=lines,
            customer_class=customer.customer_class if customer is not None else None,
            tracking=tracking,
        )
        orders.update(result.order)
        _save_stocks(stocks, loaded, result.stocks)
        for event in result.events:
            uow.emit(event, at=now)
        return self._shown_order(uow, result.order, by, "ship_order")

    @use_case(Permission.SHIP_ORDER)
    def confirm_delivery(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> Order:
        """The customer received the goods (``order.ship``)."""
        now = self.now()
        return self._change_order(
            uow,
            by,
            "confirm_delivery",
            order_id,
            lambda order: order.deliver(at=now, by=by, access=self.policy.access),
        )

    @use_case(Permission.CONFIRM_ORDER)
    def complete_order(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> Order:
        """Close a delivered order; a post-service survey follows when the policy says so.

        Refused with ``payment_outstanding`` while money is owed. The
        :class:`~csdomain.satisfaction.SurveyRequested` event is emitted when
        ``policy.satisfaction.survey_after_order`` is on and the customer was not asked for
        (or did not answer) a survey within ``survey_cooldown`` (docs/domain.md 3.2, 3.5).
        Needs ``order.confirm``.
        """
        now = self.now()
        completed = self.change(
            uow,
            ORDERS,
            order_id,
            lambda order: order.complete(at=now, by=by, access=self.policy.access),
        )
        survey = self._survey_after(uow, completed, now)
        if survey is not None:
            uow.emit(survey, at=now)
        return self._shown_order(uow, completed, by, "complete_order")

    @use_case(Permission.CANCEL_ORDER)
    def cancel_order(self, uow: UnitOfWork, order_id: Id, *, by: Actor, reason: LongText) -> Order:
        """Cancel before shipment and release every reservation the order holds.

        Needs ``order.cancel``; the release is part of the cancellation, so the canceller
        needs no ``order.ship`` for it (the events name the canceller). ``OrderCancelled``
        carries what was paid as ``refund_due``.
        """
        now = self.now()
        cancelled = self.change(
            uow,
            ORDERS,
            order_id,
            lambda order: order.cancel(at=now, by=by, access=self.policy.access, reason=reason),
        )
        stocks = uow.repo(STOCKS)
        loaded = _load_stocks(stocks, (line.sku for line in cancelled.lines))
        if any(r.order_id == cancelled.id for s in loaded.values() for r in s.reservations):
            update = release_order(cancelled, loaded, at=now, by=by, access=self.policy.access)
            _save_stocks(stocks, loaded, update.stocks)
            for event in update.events:
                uow.emit(event, at=now)
        return self._shown_order(uow, cancelled, by, "cancel_order")

    @use_case(*_ORDER_READERS)
    def get_order(
        self, uow: UnitOfWork, order_id: Id, *, by: Actor, purpose: ShortText = ""
    ) -> Order:
        """One order; needs any order permission or ``customer.read``.

        Source: docs/domain.md 1 (保护客户隐私). The consignee's details are personal data:
        an actor holding ``customer.read`` sees them and the read is recorded in the
        customer's access log (``purpose``, or ``get_order``); anyone else (warehouse,
        finance) gets them redacted and nothing is recorded.
        """
        order = uow.repo(ORDERS).get(order_id)
        return self._shown_order(uow, order, by, purpose or "get_order")

    @use_case(*_ORDER_READERS)
    def find_orders(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        customer_id: Id | None = None,
        status: OrderStatus | str | None = None,
        salesperson: Id | None = None,
        limit: Positive = 50,
        purpose: ShortText = "",
    ) -> list[Order]:
        """Orders matching every given filter, oldest first, at most ``limit``.

        Needs any order permission or ``customer.read``. Shown like :meth:`get_order`:
        with ``customer.read`` each customer whose consignee details are returned gets one
        access record; without it those details are redacted.
        """
        filters = {"customer_id": customer_id, "status": status, "salesperson": salesperson}
        where: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        found = uow.repo(ORDERS).find(order_by=["placed_at", "key"], limit=limit, **where)
        return self._shown_orders(uow, found, by, purpose or "find_orders")

    # -- stock -----------------------------------------------------------------------------

    @use_case(Permission.SHIP_ORDER)
    def reserve_stock(self, uow: UnitOfWork, order_id: Id, *, by: Actor) -> list[Stock]:
        """Hold back everything an open order needs, all or nothing (docs/domain.md 2).

        Returns the stock of every SKU the order draws on, after reserving. Shortages are
        ``insufficient_stock``. The order is written too (its version moves), so a
        concurrent cancellation of the same order is retried rather than leaving a
        reservation behind. Needs ``order.ship``.
        """
        now = self.now()
        orders = uow.repo(ORDERS)
        stocks = uow.repo(STOCKS)
        order = orders.get(order_id)
        skus = _stock_skus(order)
        loaded = _load_stocks(stocks, skus)
        update = reserve_order(order, loaded, at=now, by=by, access=self.policy.access)
        orders.update(order)
        _save_stocks(stocks, loaded, update.stocks)
        for event in update.events:
            uow.emit(event, at=now)
        merged = {**loaded, **update.stocks}
        return [merged.get(sku) or Stock(id=sku) for sku in skus]

    @use_case(Permission.MANAGE_STOCK)
    def receive_stock(
        self,
        uow: UnitOfWork,
        sku: Id,
        *,
        good: Count = 0,
        damaged: Count = 0,
        gift: Count = 0,
        by: Actor,
    ) -> Stock:
        """Goods come into good, damaged and gift stock (正品/残品/赠品, docs/domain.md 2).

        At least one quantity must be positive. Needs ``stock.manage``.
        """
        amounts = (
            (StockBucket.GOOD, good),
            (StockBucket.DAMAGED, damaged),
            (StockBucket.GIFT, gift),
        )
        if not any(quantity for _, quantity in amounts):
            raise ValidationError.at("good", "receive at least one unit of good, damaged or gift")
        now = self.now()
        repo = uow.repo(STOCKS)
        before = repo.get_or_none(sku)
        stock = before or Stock(id=sku)
        events: list[Event] = []
        for bucket, quantity in amounts:
            if quantity:
                stock = stock.receive(quantity, by=by, access=self.policy.access, bucket=bucket)
                events.append(StockReceived(sku, quantity, bucket, now, by.id))
        _save_stocks(repo, {} if before is None else {sku: before}, {sku: stock})
        for event in events:
            uow.emit(event, at=now)
        return stock

    @use_case(Permission.MANAGE_STOCK)
    def mark_damaged(
        self,
        uow: UnitOfWork,
        sku: Id,
        quantity: Positive,
        *,
        by: Actor,
        bucket: StockBucket | str = StockBucket.GOOD,
        reason: LongText = "",
        amount: Money | None = None,
        responsible: ShortText = "",
        next_action: LongText = "",
    ) -> Stock:
        """Deteriorated goods go to damaged stock: they never ship (docs/domain.md 2, 9).

        Damage applications are approved first (审批残损申请): by default
        (``policy.orders.damage_needs_approval``) this files a numbered
        :class:`~csdomain.orders.DamageApplication` (``DamageApplied``) that holds the goods
        back until :meth:`approve_damage` moves them or :meth:`reject_damage` frees them;
        with the policy off the goods move at once (``StockMarkedDamaged``). Only
        unreserved goods (``insufficient_stock``). The reason, amount, responsible party
        and next action go into the monthly damage analysis. Needs ``stock.manage``.
        """
        moved = StockBucket(bucket)
        now = self.now()
        if self.policy.orders.damage_needs_approval:
            number = self.policy.orders.damage_application_series().next(uow, now)
            return self._change_stock(
                uow,
                sku,
                lambda stock: stock.apply_damage(
                    quantity,
                    number=number,
                    at=now,
                    by=by,
                    access=self.policy.access,
                    bucket=moved,
                    reason=reason,
                    amount=amount,
                    responsible=responsible,
                    next_action=next_action,
                ),
                lambda at: DamageApplied(sku, number, quantity, moved, at, by.id),
            )
        return self._change_stock(
            uow,
            sku,
            lambda stock: stock.mark_damaged(
                quantity,
                by=by,
                access=self.policy.access,
                bucket=moved,
                at=now,
                reason=reason,
                amount=amount,
                responsible=responsible,
                next_action=next_action,
            ),
            lambda at: StockMarkedDamaged(sku, quantity, moved, at, by.id),
        )

    @use_case(Permission.APPROVE_STOCK_ADJUSTMENT)
    def approve_damage(
        self, uow: UnitOfWork, sku: Id, number: Id, *, by: Actor, note: LongText = ""
    ) -> Stock:
        """Approve a damage application: its goods move to damaged stock (审批残损申请).

        Source: docs/domain.md 9. Needs ``stock.approve_adjustment`` (the customer-service
        manager and above); only a pending application (``damage_application_not_pending``).
        Emits ``StockMarkedDamaged`` in the approver's name; the damage analysis counts it.
        """
        now, access = self.now(), self.policy.access
        repo = uow.repo(STOCKS)
        before = repo.get(sku)
        after = before.approve_damage(number, at=now, by=by, access=access, note=note)
        repo.update(after)
        decided = next(a for a in after.applications if a.number == number)
        uow.emit(StockMarkedDamaged(sku, decided.quantity, decided.bucket, now, by.id), at=now)
        return after

    @use_case(Permission.APPROVE_STOCK_ADJUSTMENT)
    def reject_damage(
        self, uow: UnitOfWork, sku: Id, number: Id, *, reason: LongText, by: Actor
    ) -> Stock:
        """Refuse a damage application: the goods stay and are free again (``DamageRejected``).

        Needs ``stock.approve_adjustment``; the reason is kept with the application.
        """
        now, access = self.now(), self.policy.access
        return self._change_stock(
            uow,
            sku,
            lambda stock: stock.reject_damage(number, reason=reason, at=now, by=by, access=access),
            lambda at: DamageRejected(sku, number, reason, at, by.id),
        )

    @use_case(Permission.MANAGE_STOCK)
    def write_off(
        self,
        uow: UnitOfWork,
        sku: Id,
        quantity: Positive,
        *,
        by: Actor,
        bucket: StockBucket | str = StockBucket.DAMAGED,
        reason: LongText = "",
        amount: Money | None = None,
        responsible: ShortText = "",
        next_action: LongText = "",
    ) -> Stock:
        """Remove goods from stock (scrapped damaged goods, counting corrections).

        Never below zero nor into reserved goods (``insufficient_stock``). Kept with its
        reason, amount, responsible party and next action. Needs ``stock.manage``.
        """
        removed = StockBucket(bucket)
        now = self.now()
        return self._change_stock(
            uow,
            sku,
            lambda stock: stock.write_off(
                quantity,
                by=by,
                access=self.policy.access,
                bucket=removed,
                at=now,
                reason=reason,
                amount=amount,
                responsible=responsible,
                next_action=next_action,
            ),
            lambda at: StockWrittenOff(sku, quantity, removed, at, by.id),
        )

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def damage_analysis(
        self, uow: UnitOfWork, month: ShortText | tuple[int, int], *, by: Actor
    ) -> list[DamageAnalysisRow]:
        """The monthly damage analysis (残损, docs/domain.md 2): item, kind, reason,
        quantity, amount, responsible parties and next actions.

        ``month`` as for :meth:`return_analysis`. Needs ``report.view``.
        """
        year, number = _year_month(month, self.policy.limits)
        return _damage_analysis(
            uow.repo(STOCKS).scan(),
            f"{year:04d}-{number:02d}",
            tz=self.policy.orders.number_tz,
            currency=self.policy.orders.currency,
        )

    @use_case(Permission.MANAGE_STOCK)
    def count_stock(
        self,
        uow: UnitOfWork,
        sku: Id,
        *,
        by: Actor,
        good: Count | None = None,
        damaged: Count | None = None,
        gift: Count | None = None,
    ) -> Stock:
        """Record the weekly stock-take of one SKU (每周仓库盘点, docs/domain.md 9).

        Give the counted quantity of each bucket counted. Nothing is booked: a count that
        differs from the books waits for :meth:`approve_stock_count`
        (``stock_count_pending`` while one waits). Needs ``stock.manage``.
        """
        counted: dict[StockBucket | str, int] = {
            bucket: quantity
            for bucket, quantity in (
                (StockBucket.GOOD, good),
                (StockBucket.DAMAGED, damaged),
                (StockBucket.GIFT, gift),
            )
            if quantity is not None
        }
        if not counted:
            raise ValidationError.at("good", "count at least one of good, damaged or gift")
        now = self.now()
        number = self.policy.orders.stock_count_series().next(uow, now)
        repo = uow.repo(STOCKS)
        before = repo.get_or_none(sku)
        after = (before or Stock(id=sku)).take_count(
            counted, number=number, at=now, by=by, access=self.policy.access
        )
        _save_stocks(repo, {} if before is None else {sku: before}, {sku: after})
        matched = after.counts[-1].accurate
        uow.emit(StockCounted(sku, number, matched=matched, at=now, by=by.id), at=now)
        return after

    @use_case(Permission.APPROVE_STOCK_ADJUSTMENT)
    def approve_stock_count(
        self, uow: UnitOfWork, sku: Id, number: Id, *, by: Actor, note: LongText = ""
    ) -> Stock:
        """Book a stock-take's differences (经客户服务经理批准, docs/domain.md 9).

        Needs ``stock.approve_adjustment`` (the customer-service manager and above); only
        a pending count (``stock_count_not_pending``), and never below zero or the
        reserved goods (``insufficient_stock``).
        """
        now, access = self.now(), self.policy.access
        return self._change_stock(
            uow,
            sku,
            lambda stock: stock.approve_count(number, at=now, by=by, access=access, note=note),
            lambda at: StockAdjusted(sku, number, at, by.id),
        )

    @use_case(Permission.APPROVE_STOCK_ADJUSTMENT)
    def reject_stock_count(
        self, uow: UnitOfWork, sku: Id, number: Id, *, reason: LongText, by: Actor
    ) -> Stock:
        """Refuse a pending stock-take (count again): nothing is booked.

        Needs ``stock.approve_adjustment``; the reason is kept with the count.
        """
        now, access = self.now(), self.policy.access
        return self._change_stock(
            uow,
            sku,
            lambda stock: stock.reject_count(number, reason=reason, at=now, by=by, access=access),
            lambda at: StockCountRejected(sku, number, reason, at, by.id),
        )

    @use_case(*_STOCK_READERS, readonly=True)
    def stock_counts_due(self, uow: UnitOfWork, *, by: Actor) -> list[str]:
        """The SKUs not counted within the week (每周仓库盘点), sorted.

        Needs ``report.view``, ``stock.manage`` or ``order.ship``.
        """
        return _stock_counts_due(
            uow.repo(STOCKS).scan(), self.now(), self.policy.orders.stock_take_interval
        )

    @use_case(Permission.SEND_NOTIFICATIONS, Permission.RECORD_PAYMENT)
    def remind_unpaid_orders(self, uow: UnitOfWork, *, by: Actor) -> list[PaymentReminderDue]:
        """Remind the customers of confirmed orders that still wait for their payment.

        Source: docs/domain.md 2 (payment first, then shipment). An order confirmed at least
        ``orders.payment_reminder_after`` ago and not paid in full gets a
        :class:`~csdomain.orders.PaymentReminderDue` in the outbox (the notices turn it into
        the customer's payment reminder), at most once per ``orders.payment_reminder_every``:
        a scheduled job may run it as often as it likes. Returns the reminders of this run,
        by order number. Needs ``notification.send`` (the scheduler) or
        ``order.record_payment`` (finance).
        """
        now = self.now()
        policy = self.policy.orders
        recent = {
            entry.payload.get("order_id")
            for entry in uow.outbox.scan(
                type=PaymentReminderDue.type_name,
                created_at__gt=now - policy.payment_reminder_every,
            )
        }
        due: list[PaymentReminderDue] = []
        for order in uow.repo(ORDERS).find(status=OrderStatus.CONFIRMED, order_by="key"):
            confirmed_at = next(
                (c.at for c in reversed(order.history) if c.to == OrderStatus.CONFIRMED), None
            )
            if confirmed_at is None or order.id in recent or order.is_paid_in_full:
                continue
            if now - confirmed_at < policy.payment_reminder_after:
                continue
            reminder = PaymentReminderDue(
                order_id=order.id,
                customer_id=order.customer_id,
                balance=order.balance,
                confirmed_at=confirmed_at,
                at=now,
            )
            uow.emit(reminder, at=now)
            due.append(reminder)
        return due

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def order_kpis(
        self, uow: UnitOfWork, *, start: datetime, end: datetime, by: Actor
    ) -> OrderKpis:
        """The order KPIs of ``start <= t < end`` (订单KPI, docs/domain.md 2).

        Valid-order rate, return and refusal rates, stock accuracy and manual-adjustment
        rate from the stock-takes, service level and stock days
        (:func:`csdomain.kpi.order_kpis`); the store is streamed once. Needs
        ``report.view``.
        """
        return _order_kpis(
            uow.repo(ORDERS).scan(),
            uow.repo(RETURNS).scan(),
            uow.repo(STOCKS).scan(),
            start=start,
            end=end,
        )

    @use_case(*_STOCK_READERS, readonly=True)
    def get_stock(self, uow: UnitOfWork, sku: Id, *, by: Actor) -> Stock:
        """The stock of one SKU (all zero when nothing was ever received).

        Needs ``report.view``, ``stock.manage`` or ``order.ship``.
        """
        return uow.repo(STOCKS).get_or_none(sku) or Stock(id=sku)

    @use_case(*_STOCK_READERS, readonly=True)
    def orders_awaiting_stock(self, uow: UnitOfWork, *, by: Actor) -> list[AwaitingStock]:
        """The daily out-of-stock confirmation list (每日订单确认, docs/domain.md 2).

        Confirmed, unshipped orders are served first come, first served from their own
        reservations, then free stock; those that cannot be covered completely are listed
        with their shortages. Needs ``report.view``, ``stock.manage`` or ``order.ship``.
        """
        waiting = [
            order for order in uow.repo(ORDERS).scan(status__in=_AWAITING) if order.stock_lines
        ]
        skus = {line.sku for order in waiting for line in order.stock_lines}
        return _orders_awaiting_stock(waiting, _load_stocks(uow.repo(STOCKS), skus))

    # -- returns ---------------------------------------------------------------------------

    @use_case(Permission.REQUEST_RETURN)
    def request_return(
        self,
        uow: UnitOfWork,
        order_id: Id,
        *,
        items: Sequence[ReturnItem],
        reasons: Sequence[ShortText] | ShortText,
        by: Actor,
        note: LongText = "",
    ) -> ReturnRequest:
        """The salesperson files a return report under the next return number (docs/domain.md 2).

        Nobody returns more than was shipped, across every return of the order
        (``return_exceeds_shipment``). The order is written too (its version moves), so
        two concurrent returns of one order cannot both pass that check. ``reasons`` is
        one reason or a list of them. Needs ``return.request``.
        """
        _sku_keys(items, "items", self.policy.limits)
        now = self.now()
        orders = uow.repo(ORDERS)
        returns = uow.repo(RETURNS)
        order = orders.get(order_id)
        request = ReturnRequest.file(
            id=self.policy.orders.return_series().next(uow, now),
            order=order,
            items=items,
            reasons=reasons,
            at=now,
            by=by,
            access=self.policy.access,
            other_returns=returns.find(order_id=order_id),
            note=note,
        )
        orders.update(order)
        return self._shown_return(uow, self.create(uow, RETURNS, request), by, "request_return")

    @use_case(Permission.APPROVE_RETURN)
    def approve_return(
        self, uow: UnitOfWork, return_id: Id, *, by: Actor, note: LongText = ""
    ) -> ReturnRequest:
        """A manager other than the filer approves the return (``return.approve``)."""
        now = self.now()
        return self._change_return(
            uow,
            by,
            "approve_return",
            return_id,
            lambda request: request.approve(at=now, by=by, access=self.policy.access, note=note),
        )

    @use_case(Permission.APPROVE_RETURN)
    def reject_return(
        self, uow: UnitOfWork, return_id: Id, *, by: Actor, reason: LongText
    ) -> ReturnRequest:
        """A manager other than the filer rejects the return, saying why."""
        now = self.now()
        return self._change_return(
            uow,
            by,
            "reject_return",
            return_id,
            lambda request: request.reject(at=now, by=by, access=self.policy.access, reason=reason),
        )

    @use_case(Permission.REQUEST_RETURN)
    def withdraw_return(
        self, uow: UnitOfWork, return_id: Id, *, by: Actor, note: LongText = ""
    ) -> ReturnRequest:
        """Withdraw a return before the goods come in (``return.request``)."""
        now = self.now()
        return self._change_return(
            uow,
            by,
            "withdraw_return",
            return_id,
            lambda request: request.withdraw(at=now, by=by, access=self.policy.access, note=note),
        )

    @use_case(Permission.RECEIVE_RETURN)
    def receive_return(
        self, uow: UnitOfWork, return_id: Id, lines: Sequence[ReceivedLine], *, by: Actor
    ) -> ReturnRequest:
        """The warehouse confirms what came back; goods are booked to stock (docs/domain.md 2).

        Good goods go back to good (or gift) stock, damaged ones to damaged stock. More
        than requested is ``received_exceeds_request``. Needs ``return.receive``.
        """
        _sku_keys(lines, "lines", self.policy.limits)
        now = self.now()
        returns = uow.repo(RETURNS)
        stocks = uow.repo(STOCKS)
        request = returns.get(return_id)
        loaded = _load_stocks(stocks, (line.sku for line in lines))
        receipt = _receive_return(request, loaded, lines, at=now, by=by, access=self.policy.access)
        returns.update(receipt.request)
        _save_stocks(stocks, loaded, receipt.stocks)
        for event in receipt.events:
            uow.emit(event, at=now)
        return self._shown_return(uow, receipt.request, by, "receive_return")

    @use_case(Permission.RECEIVE_RETURN)
    def close_return(
        self, uow: UnitOfWork, return_id: Id, *, by: Actor, next_action: LongText = ""
    ) -> ReturnRequest:
        """Issue the return note (next number of ``return_note_series()``) and close.

        Finance books the refund from the ``ReturnClosed`` event; ``next_action`` (what is
        done about it) goes into the monthly return analysis. Needs ``return.receive``.
        """
        now = self.now()

        def close(request: ReturnRequest) -> ReturnRequest:
            number = self.policy.orders.return_note_series().next(uow, now)
            return request.close(
                number, at=now, by=by, access=self.policy.access, next_action=next_action
            )

        return self._change_return(uow, by, "close_return", return_id, close)

    @use_case(*_RETURN_READERS)
    def get_return(
        self, uow: UnitOfWork, return_id: Id, *, by: Actor, purpose: ShortText = ""
    ) -> ReturnRequest:
        """One return request; needs a return permission or ``customer.read``.

        Source: docs/domain.md 1 (保护客户隐私). The salesperson's note is free text about
        the customer: shown to ``customer.read`` with an access record, redacted for
        anyone else (the warehouse).
        """
        request = uow.repo(RETURNS).get(return_id)
        return self._shown_return(uow, request, by, purpose or "get_return")

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def return_analysis(
        self, uow: UnitOfWork, month: ShortText | tuple[int, int], *, by: Actor
    ) -> list[ReturnAnalysisRow]:
        """The monthly return and damage analysis (docs/domain.md 2): by salesperson, item,
        reason, with quantity, damaged quantity and amount.

        Counts the returns received in ``month`` (``"2026-11"`` or ``(2026, 11)``, a year
        in the policy's ``limits`` range, read in ``policy.orders.number_tz``), streamed
        from the store. Needs ``report.view``.
        """
        year, number = _year_month(month, self.policy.limits)
        tz = self.policy.orders.number_tz
        zone = ZoneInfo(tz)
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
        analysis = ReturnAnalysis(currency=self.policy.orders.currency, tz=tz)
        where: dict[str, Any] = {
            "status__in": _RECEIVED_RETURNS,
            "received_at__ge": start,
            "received_at__lt": end,
        }
        for request in uow.repo(RETURNS).scan(**where):
            analysis.add(request)
        return analysis.rows()
