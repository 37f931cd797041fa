"""The order policy: payment before shipment, delivery promise, numbers, thresholds.

Source: docs/domain.md 2; every number there is a field here with the documents' default.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs

from csdomain.customers import CustomerClass
from csdomain.errors import ValidationError, describe
from csdomain.ids import NamingSeries
from csdomain.money import Money
from csdomain.validators import decimal, flag, frozenset_of, integer, positive_duration, text


__all__ = ["OrderPolicy"]


@attrs.frozen
class OrderPolicy:
    """Policy for orders, stock, delivery and returns, with docs/domain.md 2's defaults."""

    currency: str = attrs.field(default="CNY", validator=text)
    #: Payment first, then shipment (先付款, 后发货).
    require_payment_before_shipment: bool = attrs.field(default=True, validator=flag)
    #: How long after confirmation an unpaid order's customer is first reminded to pay,
    #: and how long before a second reminder (``remind_unpaid_orders``); project defaults
    #: (the documents ask for payment first but give no reminder interval).
    payment_reminder_after: timedelta = attrs.field(
        default=timedelta(days=3), validator=positive_duration
    )
    payment_reminder_every: timedelta = attrs.field(
        default=timedelta(days=7), validator=positive_duration
    )
    #: Customer classes that may ship on account before paying (e.g. dealers).
    credit_exempt_classes: frozenset[CustomerClass] = attrs.field(
        default=frozenset(), validator=frozenset_of(CustomerClass)
    )
    #: Delivery promise in calendar days after the remittance proof arrives: 3-4 days
    #: (接到传真后……3-4日即可收到).
    delivery_days_min: int = attrs.field(default=3, validator=integer)
    delivery_days_max: int = attrs.field(default=4, validator=integer)
    #: Usually the goods arrive within 2-3 calendar days (一般内2-3日即可收到).
    usual_delivery_days_min: int = attrs.field(default=2, validator=integer)
    usual_delivery_days_max: int = attrs.field(default=3, validator=integer)
    order_number_pattern: str = attrs.field(default="SO-{yyyy}{mm}-{seq:04d}", validator=text)
    return_number_pattern: str = attrs.field(default="RR-{yyyy}{mm}-{seq:04d}", validator=text)
    return_note_pattern: str = attrs.field(default="RN-{yyyy}{mm}-{seq:04d}", validator=text)
    #: Stock-take numbers, restarting monthly.
    stock_count_pattern: str = attrs.field(default="ST-{yyyy}{mm}-{seq:04d}", validator=text)
    #: Every SKU is counted every week (每周仓管员进行仓库盘点).
    stock_take_interval: timedelta = attrs.field(
        default=timedelta(days=7), validator=positive_duration
    )
    #: Damage applications are approved before stock moves to damaged (审批残损申请):
    #: ``mark_damaged`` files an application that someone holding
    #: ``stock.approve_adjustment`` approves; ``False`` moves the goods at once.
    damage_needs_approval: bool = attrs.field(default=True, validator=flag)
    #: Damage application numbers, restarting monthly.
    damage_application_pattern: str = attrs.field(default="DA-{yyyy}{mm}-{seq:04d}", validator=text)
    #: Time zone in which reference numbers read their month.
    number_tz: str = attrs.field(default="Asia/Shanghai", validator=text)
    #: 30 damaged bags and more in one 60-tonne wagon go to the sales VP and quality
    #: (破损超过30袋及以上).
    damaged_bags_limit: int = attrs.field(default=30, validator=integer)
    reference_wagon_tonnes: Decimal = attrs.field(default=Decimal(60), validator=decimal)
    #: Content deviating more than +-0.5 % goes to the sales VP and quality.
    content_tolerance: Decimal = attrs.field(default=Decimal("0.005"), validator=decimal)
    #: The remittance details an order needs before it ships (invoice title, consignee,
    #: phone, postcode, full address come with the remittance proof).
    shipping_details_required: frozenset[str] = attrs.field(
        default=frozenset({"invoice_title", "consignee", "phone", "postcode", "address"}),
        validator=frozenset_of(str),
    )
    #: Shipping mode by quantity and urgency (express, or logistics/rail freight): an
    #: order of at most ``express_max_quantity`` units and, when its weight is known, at
    #: most ``express_max_weight_kg`` goes express, a larger one ``bulk_shipping_mode``
    #: (``logistics`` or ``rail``); an urgent order goes express when
    #: ``urgent_goes_express``. The limits are project defaults: the documents give none.
    express_max_quantity: int = attrs.field(default=50, validator=integer)
    express_max_weight_kg: Decimal = attrs.field(default=Decimal(30), validator=decimal)
    bulk_shipping_mode: str = attrs.field(default="logistics", validator=text)
    urgent_goes_express: bool = attrs.field(default=True, validator=flag)
    #: Who must be involved when a delivery problem crosses a threshold.
    escalation_contacts: frozenset[str] = attrs.field(
        default=frozenset({"sales_vp", "quality_department"}), validator=frozenset_of(str)
    )
    #: Who decides a delay that cannot be cured (交货延期太长……营销副总): the sales VP,
    #: before the return/exchange policy applies.
    delay_escalation_contacts: frozenset[str] = attrs.field(
        default=frozenset({"sales_vp"}), validator=frozenset_of(str)
    )
    #: Who handles a delivery problem below every threshold (a project default: customer
    #: service, which records it).
    problem_default_route: frozenset[str] = attrs.field(
        default=frozenset({"customer_service"}), validator=frozenset_of(str)
    )
    #: Delivery problem numbers, restarting monthly.
    delivery_problem_pattern: str = attrs.field(default="DP-{yyyy}{mm}-{seq:04d}", validator=text)
    #: A make-up shipment for a short quantity is urgent (the customer waits for the missing
    #: goods), so by default it goes express (a project default).
    make_up_urgent: bool = attrs.field(default=True, validator=flag)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.delivery_days_min < 0:
            errors.append(("delivery_days_min", "must not be negative"))
        if self.delivery_days_max < self.delivery_days_min:
            errors.append(("delivery_days_max", "must not be below delivery_days_min"))
        if self.usual_delivery_days_min < 0:
            errors.append(("usual_delivery_days_min", "must not be negative"))
        if self.usual_delivery_days_max < self.usual_delivery_days_min:
            msg = "must not be below usual_delivery_days_min"
            errors.append(("usual_delivery_days_max", msg))
        for name in ("delivery_days_max", "usual_delivery_days_max"):
            if getattr(self, name) > 366:
                errors.append((name, "must be at most a year (366 days)"))
        if self.damaged_bags_limit < 0:
            errors.append(("damaged_bags_limit", "must not be negative"))
        if self.reference_wagon_tonnes <= 0:
            errors.append(("reference_wagon_tonnes", "must be positive"))
        if self.content_tolerance < 0:
            errors.append(("content_tolerance", "must not be negative"))
        if self.express_max_quantity < 0:
            errors.append(("express_max_quantity", "must not be negative"))
        if self.express_max_weight_kg < 0:
            errors.append(("express_max_weight_kg", "must not be negative"))
        if self.bulk_shipping_mode not in ("logistics", "rail"):
            msg = f"must be logistics or rail, got {describe(self.bulk_shipping_mode)}"
            errors.append(("bulk_shipping_mode", msg))
        for name in ("escalation_contacts", "delay_escalation_contacts", "problem_default_route"):
            contacts = getattr(self, name)
            if not contacts:
                errors.append((name, "names at least one decider"))
            errors.extend(
                (name, f"not a decider's name: {describe(contact)}")
                for contact in sorted(contacts)
                if not contact.strip()
            )
        known = {"invoice_title", "consignee", "phone", "postcode", "address"}
        errors.extend(
            ("shipping_details_required", f"not a remittance detail: {describe(name)}")
            for name in sorted(self.shipping_details_required - known)
        )
        if errors:
            raise ValidationError(errors)
        Money.zero(self.currency)
        self.order_series()
        self.return_series()
        self.return_note_series()
        self.stock_count_series()
        self.damage_application_series()
        self.delivery_problem_series()

    def order_series(self) -> NamingSeries:
        """Order numbers (``SO-202611-0001``), restarting monthly."""
        return NamingSeries(self.order_number_pattern, tz=self.number_tz)

    def return_series(self) -> NamingSeries:
        """Return request numbers, restarting monthly."""
        return NamingSeries(self.return_number_pattern, tz=self.number_tz)

    def return_note_series(self) -> NamingSeries:
        """Return note numbers issued when goods come back (docs/domain.md 2, 退货流程)."""
        return NamingSeries(self.return_note_pattern, tz=self.number_tz)

    def stock_count_series(self) -> NamingSeries:
        """Stock-take numbers (``ST-202611-0001``), restarting monthly."""
        return NamingSeries(self.stock_count_pattern, tz=self.number_tz)

    def damage_application_series(self) -> NamingSeries:
        """Damage application numbers (``DA-202611-0001``), restarting monthly."""
        return NamingSeries(self.damage_application_pattern, tz=self.number_tz)

    def delivery_problem_series(self) -> NamingSeries:
        """Delivery problem numbers (``DP-202611-0001``), restarting monthly."""
        return NamingSeries(self.delivery_problem_pattern, tz=self.number_tz)
