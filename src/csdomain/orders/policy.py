"""The order policy: payment before shipment, delivery promise, numbers, thresholds.

Source: DOMAIN.md 2; every number there is a field here with the documents' default.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from csdomain.customers import CustomerClass
from csdomain.errors import ValidationError
from csdomain.ids import NamingSeries
from csdomain.money import Money


__all__ = ["OrderPolicy"]


@attrs.frozen
class OrderPolicy:
    """Policy for orders, stock, delivery and returns, with DOMAIN.md 2's defaults."""

    currency: str = "CNY"
    #: Payment first, then shipment (先付款, 后发货).
    require_payment_before_shipment: bool = True
    #: Customer classes that may ship on account before paying (e.g. dealers).
    credit_exempt_classes: frozenset[CustomerClass] = frozenset()
    #: Delivery promise in business days after shipment: 3-4 days.
    delivery_days_min: int = 3
    delivery_days_max: int = 4
    order_number_pattern: str = "SO-{yyyy}{mm}-{seq:04d}"
    return_number_pattern: str = "RR-{yyyy}{mm}-{seq:04d}"
    return_note_pattern: str = "RN-{yyyy}{mm}-{seq:04d}"
    #: Time zone in which reference numbers read their month.
    number_tz: str = "Asia/Shanghai"
    #: More than 30 damaged bags in one 60-tonne wagon goes to the sales VP and quality.
    damaged_bags_limit: int = 30
    reference_wagon_tonnes: Decimal = Decimal(60)
    #: Content deviating more than +-0.5 % goes to the sales VP and quality.
    content_tolerance: Decimal = Decimal("0.005")
    #: Who must be involved when a delivery problem crosses a threshold.
    escalation_contacts: frozenset[str] = frozenset({"sales_vp", "quality_department"})

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.delivery_days_min < 0:
            errors.append(("delivery_days_min", "must not be negative"))
        if self.delivery_days_max < self.delivery_days_min:
            errors.append(("delivery_days_max", "must not be below delivery_days_min"))
        if self.damaged_bags_limit < 0:
            errors.append(("damaged_bags_limit", "must not be negative"))
        if self.reference_wagon_tonnes <= 0:
            errors.append(("reference_wagon_tonnes", "must be positive"))
        if self.content_tolerance < 0:
            errors.append(("content_tolerance", "must not be negative"))
        if errors:
            raise ValidationError(errors)
        Money.zero(self.currency)
        self.order_series()
        self.return_series()
        self.return_note_series()

    def order_series(self) -> NamingSeries:
        """Order numbers (``SO-202611-0001``), restarting monthly."""
        return NamingSeries(self.order_number_pattern, tz=self.number_tz)

    def return_series(self) -> NamingSeries:
        """Return request numbers, restarting monthly."""
        return NamingSeries(self.return_number_pattern, tz=self.number_tz)

    def return_note_series(self) -> NamingSeries:
        """Return note numbers issued when goods come back (DOMAIN.md 2, 退货流程)."""
        return NamingSeries(self.return_note_pattern, tz=self.number_tz)
