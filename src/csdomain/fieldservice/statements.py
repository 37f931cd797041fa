"""A contracted service point's monthly statement (单单结,月对账): what the company owes it.

Contracted points settle each job (单单结) and reconcile monthly (月对账开票). A
:class:`MonthlyStatement` lists every job of one contracted point settled in a calendar
month (local to the point's team), one :class:`StatementLine` per job: what the customer
was charged, the cash the point's technician collected, and the fee the company owes the
point for the work. The fee is the fee schedule's call-out, distance and labour of the
job (what the schedule says the work is worth, whoever carries the cost), times the
policy's ``point_fee_share``; parts come from the point's part stock and are reconciled
with the parts, not here. The balance is the fees less the cash the point holds: what
the company pays the point (negative: what the point pays the company). Source: docs/domain.md 8.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

import attrs

from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice.charges import Coverage, price_work, total_of
from csdomain.fieldservice.classification import ServiceOrderKind, ServiceRoute
from csdomain.fieldservice.network import ServicePoint
from csdomain.fieldservice.order import ServiceOrder
from csdomain.fieldservice.policy import FieldServicePolicy
from csdomain.money import Money
from csdomain.validators import (
    as_tuple,
    aware,
    enum_value,
    instance_of,
    integer,
    not_blank,
    tuple_of,
)
from csdomain.warranty import WarrantyPolicy


__all__ = ["MonthlyStatement", "StatementLine", "monthly_statement", "point_fee"]


def _kind(value: object) -> ServiceOrderKind:
    return enum_value(ServiceOrderKind, value, "kind")


def _coverage(value: object) -> Coverage:
    return enum_value(Coverage, value, "coverage")


@attrs.frozen(kw_only=True)
class StatementLine:
    """One settled job on a point's monthly statement."""

    job_id: str = attrs.field(validator=not_blank)
    kind: ServiceOrderKind = attrs.field(converter=_kind)
    coverage: Coverage = attrs.field(converter=_coverage)
    product_serial: str = attrs.field(validator=not_blank)
    model: str = attrs.field(validator=not_blank)
    technician_id: str = attrs.field(validator=not_blank)
    settled_at: datetime = attrs.field(validator=aware)
    #: What the customer was charged (the settlement's total; zero for covered work).
    charged: Money = attrs.field(validator=instance_of(Money))
    #: The cash the point's technician collected from the customer.
    collected: Money = attrs.field(validator=instance_of(Money))
    #: What the company owes the point for the work.
    fee: Money = attrs.field(validator=instance_of(Money))


def _month(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise ValidationError.at(attribute.name, f"must be a month from 1 to 12, not {value!r}")


@attrs.frozen(kw_only=True)
class MonthlyStatement:
    """A contracted point's statement of one month (月对账): the lines and their totals.

    ``charged``, ``collected`` and ``fees`` are always the sums of the lines;
    ``balance`` is ``fees - collected``, what the company pays the point.
    """

    service_point_id: str = attrs.field(validator=not_blank)
    year: int = attrs.field(validator=integer)
    month: int = attrs.field(validator=_month)
    lines: tuple[StatementLine, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(StatementLine)
    )
    charged: Money = attrs.field(validator=instance_of(Money))
    collected: Money = attrs.field(validator=instance_of(Money))
    fees: Money = attrs.field(validator=instance_of(Money))

    def __attrs_post_init__(self) -> None:
        currency = self.fees.currency
        for name in ("charged", "collected", "fees"):
            part = name if name != "fees" else "fee"
            total = Money.total((getattr(line, part) for line in self.lines), currency)
            if getattr(self, name) != total:
                raise ValidationError.at(name, "is not the sum of the lines")

    @property
    def balance(self) -> Money:
        """What the company pays the point: the fees less the cash the point collected."""
        return self.fees - self.collected

    @property
    def jobs(self) -> int:
        """How many jobs the statement settles."""
        return len(self.lines)


def point_fee(
    order: ServiceOrder, *, policy: FieldServicePolicy, warranty: WarrantyPolicy
) -> Money:
    """What the company owes a contracted point for ``order``: the fee schedule's
    call-out, distance and labour of the job times ``policy.point_fee_share``.

    A return-to-factory job has no on-site visits, so only its labour counts.
    """
    visits = 0 if order.route is ServiceRoute.RETURN_TO_FACTORY else len(order.visits)
    lines = price_work(
        on_site_visits=visits,
        distance_km=None if order.triage is None else order.triage.distance_km,
        labour_minutes=order.labour_minutes,
        parts=(),
        coverage=Coverage.CUSTOMER,
        policy=policy,
        warranty=warranty,
    )
    return total_of(lines, policy.currency) * policy.point_fee_share


def monthly_statement(
    point: ServicePoint,
    orders: Iterable[ServiceOrder],
    *,
    year: int,
    month: int,
    tz: tzinfo,
    policy: FieldServicePolicy,
    warranty: WarrantyPolicy,
) -> MonthlyStatement:
    """The statement of ``point`` for ``month`` of ``year`` over ``orders``.

    Every job of ``orders`` settled in the month (in ``tz``) whose last dispatch went to
    ``point`` gets one line, in order of settlement. Only a contracted point has a
    statement (``point_not_contracted``): an own point's jobs are the company's own.
    """
    if not point.contracted:
        raise RuleViolation(
            "point_not_contracted",
            f"service point {describe(point.id)} is the company's own: it has no statement",
            service_point_id=point.id,
        )
    currency = policy.currency
    lines: list[StatementLine] = []
    for order in orders:
        settlement = order.settlement
        if settlement is None or order.service_point_id != point.id:
            continue
        local = settlement.at.astimezone(tz)
        if (local.year, local.month) != (year, month):
            continue
        lines.append(
            StatementLine(
                job_id=order.id,
                kind=order.kind,
                coverage=settlement.coverage,
                product_serial=order.product_serial,
                model=order.model,
                technician_id=order.technician_id or "",
                settled_at=settlement.at,
                charged=settlement.total,
                collected=settlement.collected,
                fee=point_fee(order, policy=policy, warranty=warranty),
            )
        )
    lines.sort(key=lambda line: (line.settled_at, line.job_id))
    return MonthlyStatement(
        service_point_id=point.id,
        year=year,
        month=month,
        lines=tuple(lines),
        charged=Money.total((line.charged for line in lines), currency),
        collected=Money.total((line.collected for line in lines), currency),
        fees=Money.total((line.fee for line in lines), currency),
    )
