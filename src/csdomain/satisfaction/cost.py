"""The documents' customer-satisfaction cost view (docs/domain.md 5)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from csdomain import validators as valid
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.money import Money
from csdomain.satisfaction.policy import SatisfactionPolicy


__all__ = [
    "SatisfactionCost",
    "satisfaction_cost",
]


@attrs.frozen
class SatisfactionCost:
    """The documents' customer-satisfaction cost, part by part (docs/domain.md 5).

    satisfaction cost = conforming-product quality cost + service-quality cost;
    service-quality cost = routine service cost + nonconforming-product service cost.
    """

    conforming_quality_cost: Money = attrs.field(validator=valid.instance_of(Money))
    routine_service_cost: Money = attrs.field(validator=valid.instance_of(Money))
    nonconforming_service_cost: Money = attrs.field(validator=valid.instance_of(Money))
    amplification_factor: Decimal = attrs.field(validator=valid.instance_of(Decimal))

    @property
    def service_quality_cost(self) -> Money:
        """Routine service cost plus nonconforming-product service cost."""
        return self.routine_service_cost + self.nonconforming_service_cost

    @property
    def total(self) -> Money:
        """Conforming-product quality cost plus service-quality cost."""
        return self.conforming_quality_cost + self.service_quality_cost


def satisfaction_cost(
    conforming_quality_cost: Money,
    routine_service_cost: Money,
    policy: SatisfactionPolicy,
    *,
    amplification_factor: Decimal | None = None,
) -> SatisfactionCost:
    """Customer-satisfaction cost; nonconforming service cost = routine cost x factor.

    The factor comes from ``amplification_factor`` or the policy; with neither set the
    rule ``amplification_factor_required`` says so (the documents give no figure).
    """
    for path, amount in (
        ("conforming_quality_cost", conforming_quality_cost),
        ("routine_service_cost", routine_service_cost),
    ):
        if not isinstance(amount, Money):
            raise ValidationError.at(path, f"expected Money, got {type(amount).__name__}")
    if not isinstance(policy, SatisfactionPolicy):
        msg = f"expected a SatisfactionPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    factor = policy.amplification_factor if amplification_factor is None else amplification_factor
    if factor is None:
        raise RuleViolation(
            "amplification_factor_required",
            "set SatisfactionPolicy.amplification_factor or pass amplification_factor",
        )
    if not isinstance(factor, Decimal) or not factor.is_finite() or factor < 1:
        msg = f"must be a Decimal >= 1: {describe(factor)}"
        raise ValidationError.at("amplification_factor", msg)
    try:
        nonconforming = routine_service_cost * factor
    except ArithmeticError:
        msg = f"too large for an amount: {describe(factor)}"
        raise ValidationError.at("amplification_factor", msg) from None
    return SatisfactionCost(
        conforming_quality_cost=conforming_quality_cost,
        routine_service_cost=routine_service_cost,
        nonconforming_service_cost=nonconforming,
        amplification_factor=factor,
    )
