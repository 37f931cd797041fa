"""The technician's cash use cases: the hand-over to finance and the reconciliation.

Every use case goes through the desk's skeleton (:func:`~csdomain.desk.base.use_case`):
arguments checked, the permission first, one unit of work. The pure steps are in
:mod:`csdomain.fieldservice.cash` (docs/domain.md 8).

- ``hand_over_cash`` records cash a technician hands over to finance (``service.settle``;
  the finance actor is who received it): the technician must be on file, the amount more
  than zero and in the field-service currency.
- ``cash_reconciliation`` sets the cash a technician collected at settlements in a period
  against what they handed over in it (``service.settle`` or ``report.view``).

Neither returns personal data: jobs are named by their job numbers.
"""

from __future__ import annotations

from datetime import datetime

from csdomain.auth import Actor, Permission
from csdomain.desk.args import Id, LongText
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import ValidationError
from csdomain.fieldservice.cash import CashHandover, CashReconciliation, cash_reconciliation
from csdomain.kinds import CASH_HANDOVERS, SERVICE_ORDERS, TECHNICIANS
from csdomain.money import Money
from csdomain.store import UnitOfWork


__all__ = ["ServiceCashDesk"]

_SETTLE = Permission.SETTLE_SERVICE
_REPORTS = Permission.VIEW_REPORTS

#: The statuses of a job that has a settlement.
_SETTLED = ("settled", "closed")


class ServiceCashDesk(DeskBase):
    """The technician's cash: hand-overs to finance and their reconciliation."""

    @use_case(_SETTLE)
    def hand_over_cash(
        self,
        uow: UnitOfWork,
        technician_id: Id,
        amount: Money,
        *,
        by: Actor,
        note: LongText = "",
    ) -> CashHandover:
        """Record cash ``technician_id`` hands over to finance (``by`` receives it).

        The technician must be on file (``NotFound``); the amount is more than zero and in
        the field-service currency (``ValidationError`` on ``amount``). Source:
        docs/domain.md 8.
        """
        currency = self.policy.fieldservice.currency
        if amount.currency != currency:
            raise ValidationError.at("amount", f"must be in {currency}, not {amount.currency}")
        if not amount:
            raise ValidationError.at("amount", "must be more than zero")
        technician = uow.repo(TECHNICIANS).get(technician_id)
        seq = uow.next_counter("cash-handover")
        handover = CashHandover(
            id=f"CH-{seq:08d}",
            technician_id=technician.id,
            amount=amount,
            at=self.now(),
            received_by=by.id,
            note=note,
        )
        return self.create(uow, CASH_HANDOVERS, handover)

    @use_case(_SETTLE, _REPORTS, readonly=True)
    def cash_reconciliation(
        self,
        uow: UnitOfWork,
        technician_id: Id,
        *,
        start: datetime,
        end: datetime,
        by: Actor,
    ) -> CashReconciliation:
        """``technician_id``'s cash over ``start <= at < end``: collected at settlements,
        handed over, and the difference still with the technician (a surplus flagged).

        The technician must be on file (``NotFound``); ``end`` is not before ``start``.
        Source: docs/domain.md 8.
        """
        if end < start:
            raise ValidationError.at("end", "is before start")
        technician = uow.repo(TECHNICIANS).get(technician_id)
        # A job is settled after it is fixed: every settlement before ``end`` is on a job
        # fixed before ``end``. The holder may differ from the job's technician, so jobs
        # are not narrowed by technician.
        jobs = uow.repo(SERVICE_ORDERS).scan(
            status__in=list(_SETTLED), fixed_at__lt=end, order_by="key"
        )
        handovers = uow.repo(CASH_HANDOVERS).scan(
            technician_id=technician.id, at__ge=start, at__lt=end, order_by="at"
        )
        return cash_reconciliation(
            technician.id,
            start,
            end,
            jobs,
            handovers,
            currency=self.policy.fieldservice.currency,
        )
