"""The service network: territories, service points and technicians (服务网点).

Territories are regions → districts → service areas: a :class:`ServiceArea` names its
district and region, and a customer's product and a service point belong to areas. A
:class:`ServicePoint` is the company's own or a contracted one (外包售后网点) and covers
some areas of its district. A :class:`Technician` works for one service point, in some of
its district's areas, with skills, a daily capacity, a working calendar and blackout days
(leave, training), like the field-service workers, territories and availability of the
Odoo Community Association's field-service modules.

A service point carries its contract's status and history
(:data:`~csdomain.fieldservice.contracts.CONTRACT_LIFECYCLE`): an own point is active from
registration, a contracted one applies and opens step by step, and only an active point
takes jobs (:func:`check_takes_jobs`, ``service_point_not_active``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import attrs

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import utc
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice._checks import names
from csdomain.fieldservice.classification import PointOwnership
from csdomain.fieldservice.contracts import (
    CONTRACT_LIFECYCLE,
    OPENING_STATUSES,
    ContractStatus,
    contract_status,
    initial_status,
)
from csdomain.lifecycle import StatusChange
from csdomain.validators import (
    as_frozenset,
    as_tuple,
    enum_value,
    flag,
    frozenset_of,
    instance_of,
    not_blank,
    optional,
    positive_int,
    text,
    tuple_of,
)


__all__ = ["ServiceArea", "ServicePoint", "Technician", "check_takes_jobs"]


@attrs.frozen(kw_only=True)
class ServiceArea:
    """A service area (服务区域) of a district of a region."""

    id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(validator=not_blank)
    district: str = attrs.field(validator=not_blank)
    region: str = attrs.field(validator=not_blank)


def _ownership(value: object) -> PointOwnership:
    return enum_value(PointOwnership, value, "ownership")


def _initial(point: ServicePoint) -> ContractStatus:
    return initial_status(point.ownership)


@attrs.frozen(kw_only=True)
class ServicePoint:
    """A service point (服务网点): own or contracted, in one district, covering some areas.

    ``status`` is where its contract stands (by default: active for an own point, an
    application for a contracted one) and ``history`` the contract's steps, oldest first.
    """

    id: str = attrs.field(validator=not_blank)
    name: str = attrs.field(validator=not_blank)
    ownership: PointOwnership = attrs.field(converter=_ownership)
    district: str = attrs.field(validator=not_blank)
    region: str = attrs.field(validator=not_blank)
    service_areas: frozenset[str] = attrs.field(converter=as_frozenset, validator=names)
    phone: str = attrs.field(default="", validator=text)
    status: ContractStatus = attrs.field(
        default=attrs.Factory(_initial, takes_self=True), converter=contract_status
    )
    history: tuple[StatusChange, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(StatusChange)
    )

    def __attrs_post_init__(self) -> None:
        if self.history and self.history[-1].to != self.status.value:
            raise ValidationError.at("status", "does not match the last history entry")
        if self.ownership is PointOwnership.OWN and self.status in OPENING_STATUSES:
            raise ValidationError.at(
                "status", "an own service point has no contract to open: it is active"
            )

    @property
    def contracted(self) -> bool:
        """Whether this is a contracted (outsourced) service point."""
        return self.ownership is PointOwnership.CONTRACTED

    @property
    def takes_jobs(self) -> bool:
        """Whether jobs may be dispatched to the point's technicians (it is active)."""
        return self.status is ContractStatus.ACTIVE

    def contract_step(
        self, action: str, *, at: datetime, by: Actor, note: str = ""
    ) -> ServicePoint:
        """The point after the contract step ``action`` (a command of
        :data:`~csdomain.fieldservice.contracts.CONTRACT_LIFECYCLE`).

        Source: 申请;初审;服务站建设;开张准备和签约 (docs/domain.md 8). A step out of
        order is an :class:`~csdomain.errors.InvalidTransition` naming what comes first;
        a step dated before the previous one is refused; a suspension says why.
        """
        if action not in CONTRACT_LIFECYCLE.commands:
            raise ValidationError.at("action", f"not a contract step: {describe(action)}")
        if not isinstance(by, Actor):
            raise ValidationError.at("by", f"expected an Actor, got {describe(by)}")
        if not isinstance(note, str):
            raise ValidationError.at("note", f"expected text, got {describe(note)}")
        if action == "suspend" and not note.strip():
            raise ValidationError.at("reason", "a suspension says why")
        moment = utc(at)
        if self.history and moment < self.history[-1].at:
            raise ValidationError.at("at", "is before the previous step of this contract")
        return CONTRACT_LIFECYCLE.move(self, action, at=moment, by=by.id, note=note)


def check_takes_jobs(point: ServicePoint) -> None:
    """Refuse a job for a technician of a point that is not active
    (``service_point_not_active``: still opening, or suspended; docs/domain.md 8)."""
    if not point.takes_jobs:
        raise RuleViolation(
            "service_point_not_active",
            f"service point {describe(point.id)} is {point.status.value.replace('_', ' ')}: "
            "it takes no jobs",
            service_point_id=point.id,
            status=point.status.value,
        )


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
