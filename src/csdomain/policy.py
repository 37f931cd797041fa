"""Policy: every number the rules use, as data with a stated default.

``Policy()`` is the default policy: the source documents' numbers where they give one
(docs/domain.md), the national three-guarantees regulation's for the warranty windows,
and project defaults elsewhere; ``docs/policy.md`` names the source of every value. An
application overrides what differs, section by section, and the whole tree round-trips
through the converter, so it can live in a JSON file::

    policy = attrs.evolve(Policy(), orders=attrs.evolve(Policy().orders, delivery_days_max=5))
    same = csdomain.from_json(Policy, csdomain.to_json(policy))

Each area owns its section class next to its rules (``OrderPolicy`` in
:mod:`csdomain.orders`, ``WarrantyPolicy`` in :mod:`csdomain.warranty` ...); this module
composes them.
"""

from __future__ import annotations

from datetime import time

import attrs

from csdomain.auth import AccessPolicy
from csdomain.calendar import BusinessCalendar
from csdomain.care import CarePolicy
from csdomain.complaints import ComplaintPolicy
from csdomain.customers import CustomerPolicy
from csdomain.errors import ValidationError
from csdomain.fieldservice import FieldServicePolicy
from csdomain.kpi import ContactCentrePolicy, StaffPayPolicy
from csdomain.notify import NotificationPolicy
from csdomain.orders import OrderPolicy
from csdomain.satisfaction import SatisfactionPolicy
from csdomain.warranty import WarrantyPolicy


__all__ = ["LimitsPolicy", "Policy"]


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError.at(attribute.name, "must be a positive integer")


@attrs.frozen
class LimitsPolicy:
    """Bounds on what the service desk accepts, so hostile input is refused rather than stored.

    Every value here is a project default (the documents set no such bounds).
    """

    #: Longest name, title or short field (characters).
    max_short_text: int = attrs.field(default=200, validator=_positive)
    #: Longest free-text field: descriptions, notes, replies (characters).
    max_long_text: int = attrs.field(default=20_000, validator=_positive)
    #: Longest id, SKU, serial number or code (characters); a project default.
    max_key: int = attrs.field(default=100, validator=_positive)
    #: Most items in one list or mapping argument (order lines, records); a project default.
    max_items: int = attrs.field(default=100_000, validator=_positive)
    #: Largest quantity, count or number of days a desk argument typed ``Count`` or
    #: ``Positive`` takes (a billion: no order, stock or count is larger); a project default.
    max_quantity: int = attrs.field(default=1_000_000_000, validator=_positive)
    #: Deepest nesting of values inside an object argument; a project default.
    max_depth: int = attrs.field(default=20, validator=_positive)
    #: Earliest and latest year of a date or moment the desk accepts: a project default
    #: that keeps deadline arithmetic (a year of business time) inside the calendar.
    earliest_year: int = attrs.field(default=1900, validator=_positive)
    latest_year: int = attrs.field(default=2999, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.earliest_year > self.latest_year:
            raise ValidationError.at("earliest_year", "must not be after latest_year")
        if self.latest_year > 9000:
            raise ValidationError.at("latest_year", "must be 9000 or earlier")


def _office_calendar() -> BusinessCalendar:
    return BusinessCalendar.office("Asia/Shanghai", time(9), time(18))


@attrs.frozen
class Policy:
    """The whole policy tree; every field is a section with its defaults (see docs/policy.md)."""

    #: The currency amounts are reckoned in unless a section says otherwise.
    currency: str = "CNY"
    #: The service team's calendar: Monday to Friday 09:00-18:00, Asia/Shanghai.
    calendar: BusinessCalendar = attrs.field(factory=_office_calendar)
    access: AccessPolicy = attrs.field(factory=AccessPolicy)
    customers: CustomerPolicy = attrs.field(factory=CustomerPolicy)
    orders: OrderPolicy = attrs.field(factory=OrderPolicy)
    complaints: ComplaintPolicy = attrs.field(factory=ComplaintPolicy)
    warranty: WarrantyPolicy = attrs.field(factory=WarrantyPolicy)
    fieldservice: FieldServicePolicy = attrs.field(factory=FieldServicePolicy)
    satisfaction: SatisfactionPolicy = attrs.field(factory=SatisfactionPolicy)
    contact_centre: ContactCentrePolicy = attrs.field(factory=ContactCentrePolicy)
    staff_pay: StaffPayPolicy = attrs.field(factory=StaffPayPolicy)
    notifications: NotificationPolicy = attrs.field(factory=NotificationPolicy)
    care: CarePolicy = attrs.field(factory=CarePolicy)
    limits: LimitsPolicy = attrs.field(factory=LimitsPolicy)
