"""Use cases for delivery problems: recorded, routed, remedied, resolved (docs/domain.md 2, 9).

A customer tells customer service that a delivery went wrong: damaged packaging, a late
delivery, a short quantity, off-spec content. :meth:`DeliveryDesk.report_delivery_problem`
records it against the shipped order under the next number of
``policy.orders.delivery_problem_series()``; :meth:`~DeliveryDesk.route_delivery_problem`
sends it by the policy's thresholds to the sales VP and the quality department, or keeps it
with customer service; a short quantity is made up from stock with the responsible person
named (:meth:`~DeliveryDesk.record_make_up_shipment`, the stock moves in the same unit of
work and never goes negative); a delay that cannot be cured goes to the sales VP and the
return/exchange path (:meth:`~DeliveryDesk.escalate_late_delivery`,
:meth:`~DeliveryDesk.link_return_request`); :meth:`~DeliveryDesk.resolve_delivery_problem`
ends it. The description and notes are free text about the customer: shown to
``customer.read`` with an access record, redacted for anyone else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from csdomain.auth import Actor, Permission
from csdomain.desk.args import Id, LongText, Positive, ShortText, checker
from csdomain.desk.base import DeskBase, use_case
from csdomain.desk.orders import _load_stocks, _save_stocks, _year_month
from csdomain.kinds import DELIVERY_PROBLEMS, ORDERS, RETURNS, STOCKS
from csdomain.orders import (
    DeliveryProblemAnalysisRow,
    DeliveryProblemCase,
    DeliveryProblemKind,
    ProblemLine,
    ProblemOutcome,
    ProblemStatus,
    ShippingMode,
    ship_make_up,
)
from csdomain.orders import delivery_problem_analysis as _delivery_problem_analysis
from csdomain.policy import LimitsPolicy
from csdomain.store import UnitOfWork


__all__ = ["DeliveryDesk"]

#: Who may read delivery problems: customer service, the warehouse, anyone with
#: ``customer.read`` (the warehouse sees the free text redacted).
_PROBLEM_READERS = (Permission.READ_CUSTOMER, Permission.HANDLE_COMPLAINT, Permission.SHIP_ORDER)
#: The vocabulary's check of an ``Id``, for the SKUs inside the lines (they become stock keys).
_KEY = checker(Id)


def _sku_keys(lines: Iterable[ProblemLine], limits: LimitsPolicy) -> None:
    """The SKU of every line is bounded like an ``Id`` argument: it becomes a stock key."""
    for i, line in enumerate(lines):
        _KEY(line.sku, f"lines.{i}.sku", limits)


class DeliveryDesk(DeskBase):
    """Delivery-problem use cases of the service desk (docs/domain.md 2 and 9)."""

    # -- helpers ---------------------------------------------------------------------------

    def _shown_problems(
        self, uow: UnitOfWork, cases: Sequence[DeliveryProblemCase], by: Actor, purpose: str
    ) -> list[DeliveryProblemCase]:
        """``cases`` as ``by`` may see them (docs/domain.md 1, 保护客户隐私).

        The description, the notes and the resolution are free text about the customer:
        with ``customer.read`` they are shown and each customer concerned gets an access
        record in this unit of work; without it they are redacted and nothing is recorded.
        """
        if not self.may_read_personal(by):
            return [case.redacted() for case in cases]
        self.record_access(
            uow, (case.customer_id for case in cases if case.holds_personal_data), by, purpose
        )
        return list(cases)

    def _shown_problem(
        self, uow: UnitOfWork, case: DeliveryProblemCase, by: Actor, purpose: str
    ) -> DeliveryProblemCase:
        return self._shown_problems(uow, [case], by, purpose)[0]

    def _change_problem(
        self,
        uow: UnitOfWork,
        by: Actor,
        purpose: str,
        problem_id: str,
        step: Callable[[DeliveryProblemCase], DeliveryProblemCase],
    ) -> DeliveryProblemCase:
        """:meth:`change` a delivery problem and return it as ``by`` may see it."""
        case = self.change(uow, DELIVERY_PROBLEMS, problem_id, step)
        return self._shown_problem(uow, case, by, purpose)

    # -- use cases -------------------------------------------------------------------------

    @use_case(Permission.HANDLE_COMPLAINT)
    def report_delivery_problem(
        self,
        uow: UnitOfWork,
        order_id: Id,
        kind: DeliveryProblemKind | str,
        *,
        by: Actor,
        lines: Sequence[ProblemLine] = (),
        description: LongText = "",
        wagon_tonnes: Decimal | None = None,
        content_deviation: Decimal | None = None,
        delay_curable: bool = True,
    ) -> DeliveryProblemCase:
        """Customer service records a delivery problem against a shipped order.

        Source: docs/domain.md 2 (damaged packaging, late delivery, short quantity, off-spec
        content). ``lines`` are the goods concerned (damaged bags, the missing quantity,
        the off-spec goods; none for a late delivery of the whole order). Only a shipped
        order (``order_not_shipped``), no more than it shipped, counting its other problems
        of the kind (``problem_exceeds_shipment``); the order is written too, so two
        reports at once cannot together pass that check. Needs ``complaint.handle``.
        """
        _sku_keys(lines, self.policy.limits)
        now = self.now()
        orders = uow.repo(ORDERS)
        order = orders.get(order_id)
        case = DeliveryProblemCase.report(
            id=self.policy.orders.delivery_problem_series().next(uow, now),
            order=order,
            kind=kind,
            at=now,
            by=by,
            access=self.policy.access,
            lines=lines,
            other_problems=uow.repo(DELIVERY_PROBLEMS).find(order_id=order_id),
            description=description,
            wagon_tonnes=wagon_tonnes,
            content_deviation=content_deviation,
            delay_curable=delay_curable,
        )
        orders.update(order)
        created = self.create(uow, DELIVERY_PROBLEMS, case)
        return self._shown_problem(uow, created, by, "report_delivery_problem")

    @use_case(Permission.HANDLE_COMPLAINT)
    def route_delivery_problem(
        self, uow: UnitOfWork, problem_id: Id, *, by: Actor
    ) -> DeliveryProblemCase:
        """Send a reported problem to whoever must decide it, by the policy's thresholds.

        Source: docs/domain.md 2 (破损超过30袋及以上, content beyond ±0.5 %: the sales VP and
        the quality department) and 9 (a delay too long: the sales VP); below every
        threshold customer service keeps it. Needs ``complaint.handle``.
        """
        now, policy = self.now(), self.policy
        return self._change_problem(
            uow,
            by,
            "route_delivery_problem",
            problem_id,
            lambda case: case.route_to(policy=policy.orders, at=now, by=by, access=policy.access),
        )

    @use_case(Permission.SHIP_ORDER)
    def record_make_up_shipment(
        self,
        uow: UnitOfWork,
        problem_id: Id,
        *,
        responsible: ShortText,
        by: Actor,
        mode: ShippingMode | str | None = None,
        tracking: ShortText = "",
    ) -> DeliveryProblemCase:
        """Make up a short quantity from stock, naming the person responsible (docs/domain.md 9).

        Source: 补齐货物数量,追究相关责任人的失职责任. The missing goods leave stock in the same
        unit of work, all or nothing and never below zero (``insufficient_stock``); only a
        short quantity (``not_short_quantity``) that was routed. Emits ``MakeUpShipped``
        and ``StockIssued``. Needs ``order.ship``.
        """
        now, policy = self.now(), self.policy
        problems = uow.repo(DELIVERY_PROBLEMS)
        stocks = uow.repo(STOCKS)
        case = problems.get(problem_id)
        loaded = _load_stocks(stocks, (line.sku for line in case.lines))
        result = ship_make_up(
            case,
            loaded,
            responsible=responsible,
            policy=policy.orders,
            at=now,
            by=by,
            access=policy.access,
            mode=mode,
            tracking=tracking,
        )
        problems.update(result.case)
        _save_stocks(stocks, loaded, result.stocks)
        for event in result.events:
            uow.emit(event, at=now)
        return self._shown_problem(uow, result.case, by, "record_make_up_shipment")

    @use_case(Permission.HANDLE_COMPLAINT)
    def escalate_late_delivery(
        self, uow: UnitOfWork, problem_id: Id, *, by: Actor, note: LongText = ""
    ) -> DeliveryProblemCase:
        """A delay that cannot be cured goes to the sales VP, then the return/exchange path.

        Source: docs/domain.md 2 and 9 (交货延期太长……营销副总). Only a routed late delivery
        (``not_late_delivery``); afterwards the sales VP decides it and the customer's
        return request can be linked (:meth:`link_return_request`). Needs
        ``complaint.handle``.
        """
        now, policy = self.now(), self.policy
        return self._change_problem(
            uow,
            by,
            "escalate_late_delivery",
            problem_id,
            lambda case: case.escalate_delay(
                policy=policy.orders, at=now, by=by, access=policy.access, note=note
            ),
        )

    @use_case(Permission.HANDLE_COMPLAINT, Permission.REQUEST_RETURN)
    def link_return_request(
        self, uow: UnitOfWork, problem_id: Id, return_id: Id, *, by: Actor
    ) -> DeliveryProblemCase:
        """Link the return request the customer chose on the return/exchange path.

        Source: docs/domain.md 2 (a delay that cannot be cured falls under the
        return/exchange policy). Only after :meth:`escalate_late_delivery`
        (``return_exchange_not_open``), a return of the same order
        (``return_of_another_order``) that is not rejected or withdrawn
        (``return_not_open``). Needs ``complaint.handle`` or ``return.request``.
        """
        now, access = self.now(), self.policy.access
        request = uow.repo(RETURNS).get(return_id)
        return self._change_problem(
            uow,
            by,
            "link_return_request",
            problem_id,
            lambda case: case.link_return(request, at=now, by=by, access=access),
        )

    @use_case(Permission.HANDLE_COMPLAINT)
    def resolve_delivery_problem(
        self,
        uow: UnitOfWork,
        problem_id: Id,
        outcome: ProblemOutcome | str,
        *,
        by: Actor,
        note: LongText = "",
    ) -> DeliveryProblemCase:
        """End a delivery problem: resolved with its outcome, closed when unfounded or withdrawn.

        Source: docs/domain.md 2 and 9. A problem sent to the sales VP is decided with the
        VP's authority (``PermissionDenied`` otherwise); a short quantity is resolved only
        as ``made_up`` after its make-up shipment, or by a linked return
        (``make_up_shipment_missing``, ``return_request_missing``). Needs
        ``complaint.handle``.
        """
        now, access = self.now(), self.policy.access
        return self._change_problem(
            uow,
            by,
            "resolve_delivery_problem",
            problem_id,
            lambda case: case.resolve(outcome, at=now, by=by, access=access, note=note),
        )

    @use_case(*_PROBLEM_READERS)
    def get_delivery_problem(
        self, uow: UnitOfWork, problem_id: Id, *, by: Actor, purpose: ShortText = ""
    ) -> DeliveryProblemCase:
        """One delivery problem; needs ``complaint.handle``, ``order.ship`` or ``customer.read``.

        Source: docs/domain.md 1 (保护客户隐私): its free text is shown to ``customer.read``
        with an access record (``purpose``, or ``get_delivery_problem``), redacted for
        anyone else.
        """
        case = uow.repo(DELIVERY_PROBLEMS).get(problem_id)
        return self._shown_problem(uow, case, by, purpose or "get_delivery_problem")

    @use_case(*_PROBLEM_READERS)
    def find_delivery_problems(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        order_id: Id | None = None,
        customer_id: Id | None = None,
        status: ProblemStatus | str | None = None,
        kind: DeliveryProblemKind | str | None = None,
        limit: Positive = 50,
        purpose: ShortText = "",
    ) -> list[DeliveryProblemCase]:
        """Delivery problems matching every given filter, oldest first, at most ``limit``.

        Shown like :meth:`get_delivery_problem`: one access record per customer whose free
        text is returned, or redacted without ``customer.read``.
        """
        filters = {
            "order_id": order_id,
            "customer_id": customer_id,
            "status": status,
            "kind": kind,
        }
        where: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        found = uow.repo(DELIVERY_PROBLEMS).find(
            order_by=["reported_at", "key"], limit=limit, **where
        )
        return self._shown_problems(uow, found, by, purpose or "find_delivery_problems")

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def delivery_problem_analysis(
        self, uow: UnitOfWork, month: ShortText | tuple[int, int], *, by: Actor
    ) -> list[DeliveryProblemAnalysisRow]:
        """The monthly delivery-problem analysis, like the damage analysis (docs/domain.md 2).

        By kind and item: problems, quantity, how many went to the sales VP, how many are
        open, the outcomes and the people held responsible. ``month`` as for
        :meth:`~csdomain.desk.orders.OrderDesk.return_analysis`. Needs ``report.view``.
        """
        year, number = _year_month(month, self.policy.limits)
        tz = self.policy.orders.number_tz
        zone = ZoneInfo(tz)
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
        found = uow.repo(DELIVERY_PROBLEMS).scan(reported_at__ge=start, reported_at__lt=end)
        return _delivery_problem_analysis(found, f"{year:04d}-{number:02d}", tz=tz)
