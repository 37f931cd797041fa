"""The technician's cash: handed over to finance and reconciled (单单结, 服务结算跟进).

At each settlement a technician may collect cash from the customer
(:attr:`~csdomain.fieldservice.Settlement.collected`, held by
:attr:`~csdomain.fieldservice.Settlement.collected_by`). A :class:`CashHandover` is one
hand-over of that cash to finance, stored; :func:`cash_reconciliation` sets what a
technician collected in a period against what they handed over in it, and the
difference still with the technician. Nothing is hidden: a period where more was handed
over than collected (cash of an earlier period, a mistake) shows the surplus and is
flagged, never netted to zero. Source: docs/domain.md 8.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.fieldservice.order import ServiceOrder
from csdomain.money import Money
from csdomain.validators import as_tuple, aware, instance_of, not_blank, text, tuple_of


__all__ = ["CashHandover", "CashReconciliation", "cash_reconciliation"]


def _positive_money(_instance: object, attribute: attrs.Attribute[Money], value: object) -> None:
    instance_of(Money)(_instance, attribute, value)
    if not value:
        raise ValidationError.at(attribute.name, "must be more than zero")


@attrs.frozen(kw_only=True)
class CashHandover:
    """One hand-over of a technician's collected cash to finance (stored).

    ``amount`` is more than zero; ``received_by`` is who in finance took the cash.
    """

    id: str = attrs.field(validator=not_blank)
    technician_id: str = attrs.field(validator=not_blank)
    amount: Money = attrs.field(validator=_positive_money)
    at: datetime = attrs.field(validator=aware)
    received_by: str = attrs.field(validator=not_blank)
    note: str = attrs.field(default="", validator=text)


@attrs.frozen(kw_only=True)
class CashReconciliation:
    """A technician's cash over ``start <= at < end``: collected, handed over, the rest.

    ``collected`` is always the sum of the cash of the settlements listed in ``jobs``,
    ``handed_over`` the sum of the hand-overs listed in ``handovers``; ``still_held`` is
    what the technician still holds and ``surplus`` what was handed over beyond the
    collections (at most one of them is not zero). ``difference`` is ``collected -
    handed_over``, negative when there is a surplus.
    """

    technician_id: str = attrs.field(validator=not_blank)
    start: datetime = attrs.field(validator=aware)
    end: datetime = attrs.field(validator=aware)
    collected: Money = attrs.field(validator=instance_of(Money))
    handed_over: Money = attrs.field(validator=instance_of(Money))
    #: The settled jobs whose cash the technician collected in the period, in order.
    jobs: tuple[str, ...] = attrs.field(converter=as_tuple, validator=tuple_of(str))
    #: The hand-overs of the period, in order.
    handovers: tuple[str, ...] = attrs.field(converter=as_tuple, validator=tuple_of(str))

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError.at("end", "is before start")
        if self.handed_over.currency != self.collected.currency:
            raise ValidationError.at("handed_over", f"must be in {self.collected.currency}")

    @property
    def currency(self) -> str:
        """The currency of the reconciliation."""
        return self.collected.currency

    @property
    def difference(self) -> Decimal:
        """``collected - handed_over``: positive still with the technician, negative a surplus."""
        return self.collected.amount - self.handed_over.amount

    @property
    def still_held(self) -> Money:
        """The cash collected in the period and not yet handed over."""
        if self.handed_over >= self.collected:
            return Money.zero(self.currency)
        return self.collected - self.handed_over

    @property
    def surplus(self) -> Money:
        """What was handed over beyond the period's collections (zero when none)."""
        if self.handed_over <= self.collected:
            return Money.zero(self.currency)
        return self.handed_over - self.collected

    @property
    def over_handed(self) -> bool:
        """Whether more was handed over than collected in the period (flagged)."""
        return self.handed_over > self.collected

    @property
    def balanced(self) -> bool:
        """Whether everything collected in the period was handed over, and no more."""
        return self.handed_over == self.collected


def _within(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end


def cash_reconciliation(
    technician_id: str,
    start: datetime,
    end: datetime,
    settled_jobs: Iterable[ServiceOrder],
    handovers: Iterable[CashHandover],
    *,
    currency: str,
) -> CashReconciliation:
    """Reconcile ``technician_id``'s cash over ``start <= at < end``.

    Collected: the cash of every settlement of ``settled_jobs`` made in the period whose
    ``collected_by`` is the technician (a settlement without cash adds nothing). Handed
    over: every hand-over of ``handovers`` by the technician in the period. Cash in
    another currency than ``currency`` is refused (``ValidationError``), never skipped.
    Source: docs/domain.md 8.
    """
    if end < start:
        raise ValidationError.at("end", "is before start")
    collected = Money.zero(currency)
    jobs: list[tuple[datetime, str]] = []
    for order in settled_jobs:
        settlement = order.settlement
        if (
            settlement is None
            or settlement.collected_by != technician_id
            or not _within(settlement.at, start, end)
            or not settlement.collected
        ):
            continue
        if settlement.collected.currency != currency:
            raise ValidationError.at(
                "settled_jobs",
                f"job {describe(order.id)} collected {settlement.collected}, not {currency}",
            )
        collected += settlement.collected
        jobs.append((settlement.at, order.id))
    handed = Money.zero(currency)
    given: list[tuple[datetime, str]] = []
    for handover in handovers:
        if handover.technician_id != technician_id or not _within(handover.at, start, end):
            continue
        if handover.amount.currency != currency:
            raise ValidationError.at(
                "handovers",
                f"hand-over {describe(handover.id)} is {handover.amount}, not {currency}",
            )
        handed += handover.amount
        given.append((handover.at, handover.id))
    return CashReconciliation(
        technician_id=technician_id,
        start=start,
        end=end,
        collected=collected,
        handed_over=handed,
        jobs=tuple(job for _, job in sorted(jobs)),
        handovers=tuple(item for _, item in sorted(given)),
    )
