"""The service network: territories, service points and technicians (服务网点).

Territories are regions → districts → service areas: a :class:`ServiceArea` names its
district and region, and a customer's product and a service point belong to areas. A
:class:`ServicePoint` is the company's own or a contracted one (外包售后网点) and covers
some areas of its district. A :class:`Technician` works for one service point, in some of
its district's areas, with skills, a daily capacity, a working calendar and blackout days
(leave, training), like the field-service workers, territories and availability of the
Odoo Community Association's field-service modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs

from csdomain.calendar import BusinessCalendar
from csdomain.errors import ValidationError
from csdomain.fieldservice._checks import names
from csdomain.fieldservice.classification import PointOwnership
from csdomain.validators import (
    as_frozenset,
    enum_value,
    flag,
    frozenset_of,
    instance_of,
    not_blank,
    optional,
    positive_int,
    text,
)


__all__ = ["ServiceArea", "ServicePoint", "Technician"]


@attrs.frozen(kw_only=True)
class ServiceArea:
    """A service area (服务区域) of a district of a region."""

    id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(validator=not_blank)
    district: str = attrs.field(validator=not_blank)
    region: str = attrs.field(validator=not_blank)


def _ownership(value: object) -> PointOwnership:
    return enum_value(PointOwnership, value, "ownership")


@attrs.frozen(kw_only=True)
class ServicePoint:
    """A service point (服务网点): own or contracted, in one district, covering some areas."""

    id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(validator=not_blank)
    ownership: PointOwnership = attrs.field(converter=_ownership)
    district: str = attrs.field(validator=not_blank)
    region: str = attrs.field(validator=not_blank)
    service_areas: frozenset[str] = attrs.field(converter=as_frozenset, validator=names)
    phone: str = attrs.field(default="", validator=text)

    @property
    def contracted(self) -> bool:
        """Whether this is a contracted (outsourced) service point."""
        return self.ownership is PointOwnership.CONTRACTED


def _days(_instance: object, attribute: attrs.Attribute[frozenset[date]], value: object) -> None:
    frozenset_of(date)(_instance, attribute, value)
    assert isinstance(value, frozenset)  # noqa: S101 - checked just above
    if any(isinstance(day, datetime) for day in value):
        raise ValidationError.at(attribute.name, "expected dates, not datetimes")


@attrs.frozen(kw_only=True)
class Technician:
    """A technician (维修人员) of a service point, with what the dispatcher plans by.

    ``service_areas`` are areas of the service point's district; ``daily_capacity`` is
    how many jobs a day the technician takes; ``calendar`` is the working calendar
    (``None``: the calendar of the service point's team, else the desk's);
    ``blackout_days`` are local dates the technician does not work (leave, training).
    """

    id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(validator=not_blank)
    service_point_id: str = attrs.field(validator=not_blank)
    district: str = attrs.field(validator=not_blank)
    skills: frozenset[str] = attrs.field(converter=as_frozenset, validator=names)
    service_areas: frozenset[str] = attrs.field(converter=as_frozenset, validator=names)
    daily_capacity: int = attrs.field(validator=positive_int)
    calendar: BusinessCalendar | None = attrs.field(
        default=None, validator=optional(instance_of(BusinessCalendar))
    )
    blackout_days: frozenset[date] = attrs.field(
        factory=frozenset, converter=as_frozenset, validator=_days
    )
    active: bool = attrs.field(default=True, validator=flag)

    def with_blackout_days(self, days: Iterable[date]) -> Technician:
        """This technician with more blackout days."""
        return attrs.evolve(self, blackout_days=self.blackout_days | frozenset(days))

    def without_blackout_days(self, days: Iterable[date]) -> Technician:
        """This technician with some blackout days lifted."""
        return attrs.evolve(self, blackout_days=self.blackout_days - frozenset(days))

    def has_skills(self, needed: Iterable[str]) -> frozenset[str]:
        """The skills of ``needed`` this technician lacks (empty: has them all)."""
        return frozenset(needed) - self.skills
