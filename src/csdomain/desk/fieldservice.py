"""Field-service use cases: product files, the service network, and jobs from call to settlement.

Every use case goes through the desk's skeleton (:func:`~csdomain.desk.base.use_case`):
its arguments are checked against their annotations and the policy's text limits, the
permission before anything is loaded, and the body runs in one unit of work that loads,
calls the pure :mod:`csdomain.fieldservice` step with ``at=`` the desk's clock, saves and
emits the events the kind declares (:func:`~csdomain.fieldservice.service_order_events`,
:func:`~csdomain.fieldservice.product_file_events`). A failure of any kind rolls the whole
unit of work back, so the store is left unchanged.

- The promise runs on the calendar of the field-service team
  (:data:`~csdomain.fieldservice.FIELD_SERVICE_TEAM` in the desk's ``team_calendars``,
  else the desk's calendar); a technician works on their own calendar, else their service
  point's team calendar.
- Technicians are looked for in the job's district; jobs already booked are counted in
  the store (the ``booked_technician`` and ``visit_day`` indexes), only for the
  technicians that pass the cheap checks.
- Completing a job decides who pays: installation, training and planned maintenance
  within warranty are included; other work within warranty becomes a warranty claim
  (:class:`~csdomain.warranty.WarrantyClaimCase`, decided by the rules engine with the
  plugins' rules) and costs the customer nothing when the rules cover it; everything
  else is charged by the fee schedule. The product file's service history gets the job.

Permissions (docs/rules.md, authority): the service network (areas, points, technicians)
needs ``service.network``; technicians' availability ``service.network`` or
``service.dispatch``; product files, receiving, triaging, dispatching, cancelling and
closing a call ``service.dispatch`` (the dispatch centre); the technician's steps
(travel, arrival, the visit record and the parts used, the quote, completion, sign-off)
``service.visit`` (a quote may also be given by the dispatch centre); settling
``service.settle`` (cash handed over and reconciled); the escalation job
``service.dispatch`` or ``complaint.handle`` (the complaint ladder's scheduler); reports
``report.view``. A technician no longer dispatches.

The spare parts at the service points are the use cases of the base class
:class:`~csdomain.desk.service_parts.ServicePartsDesk`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import attrs

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import ComplaintUrgency
from csdomain.customers import InteractionChannel
from csdomain.desk.args import Count, Id, LongText, Positive, ShortText
from csdomain.desk.base import DeskBase, checked, use_case
from csdomain.desk.customers import log_interaction
from csdomain.desk.service_parts import (
    _DISPATCH,
    _ESCALATE,
    _NETWORK,
    _REPORTS,
    _SERVICE_STAFF,
    _SETTLE,
    _TECHNICIAN,
    ServicePartsDesk,
)
from csdomain.desk.warranty import file_warranty_claim, rules_from_plugins
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice import (
    ASSIGNED_STATUSES,
    OPEN_SERVICE_STATUSES,
    Coverage,
    DayJob,
    Dispatch,
    Finding,
    PartUse,
    PointOwnership,
    ProductFile,
    PromiseBreach,
    QuoteApproval,
    ServiceArea,
    ServiceHistoryEntry,
    ServiceKpiAccumulator,
    ServiceKpis,
    ServiceOrder,
    ServiceOrderEscalated,
    ServiceOrderKind,
    ServiceOrderSource,
    ServiceOrderStatus,
    ServicePoint,
    ServiceQuote,
    ServiceRoute,
    ShippedUnit,
    SignOff,
    Suggestion,
    Technician,
    TechnicianDayReport,
    VisitRecord,
    check_available,
    check_takes_jobs,
    earliest_slot,
    price_work,
    product_files_from_order,
    promise_breaches,
    suggest_technicians,
    technician_daily_report,
    total_of,
    triage_symptoms,
)
from csdomain.fieldservice.events import escalation_target
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    CUSTOMERS,
    ORDERS,
    PRODUCT_FILES,
    SERVICE_AREAS,
    SERVICE_BOMS,
    SERVICE_ORDERS,
    SERVICE_POINTS,
    TECHNICIANS,
    WARRANTY_CLAIMS,
)
from csdomain.money import Money
from csdomain.store import UnitOfWork
from csdomain.warranty import Proof, WarrantyClaim, WarrantyClaimCase
from csdomain.warranty.parts import PartKind, ServiceBom


__all__ = ["ESCALATION_BATCH", "FieldServiceDesk"]

T = TypeVar("T")

#: How many jobs the escalation job loads into one unit of work.
ESCALATION_BATCH = 200

#: Kinds of job that are part of the service promise within warranty (no claim needed).
_INCLUDED_KINDS = frozenset(
    {
        ServiceOrderKind.INSTALLATION,
        ServiceOrderKind.USER_TRAINING,
        ServiceOrderKind.PLANNED_MAINTENANCE,
    }
)


def _redacted(value: Any) -> Any:
    """``value`` as an actor without ``customer.read`` may see it: jobs and product files
    with their personal data redacted (lists and tuples of them item by item)."""
    if isinstance(value, ServiceOrder | ProductFile):
        return value.redacted()
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _redacts(method: Callable[..., T]) -> Callable[..., T]:
    """A use case whose job or product file goes back redacted to an actor without
    ``customer.read`` (docs/domain.md 1: finance settles a job without seeing the address).

    The step itself works on the whole document; only what is returned is redacted. No
    access record is written for a step's own result (the reads write one).
    """

    @functools.wraps(method)
    def run(self: DeskBase, *args: Any, **kwargs: Any) -> T:
        result = method(self, *args, **kwargs)
        by = kwargs.get("by")
        if isinstance(by, Actor) and not self.may_read_personal(by):
            redacted: T = _redacted(result)
            return redacted
        return result

    return run


class FieldServiceDesk(ServicePartsDesk):
    """The field-service use cases of the service desk (现场服务: 受理、派工、上门服务、结算)."""

    #: How many jobs the escalation job loads into one unit of work.
    service_escalation_batch: int = ESCALATION_BATCH

    # -- what the use cases look up ---------------------------------------------------------

    def _technician_calendar(self, technician: Technician) -> BusinessCalendar:
        if technician.calendar is not None:
            return technician.calendar
        return self.calendar_for(technician.service_point_id)

    def _booked_counter(
        self, uow: UnitOfWork, *, exclude: ServiceOrder | None = None
    ) -> Callable[[str, date], int]:
        """``booked(technician_id, day)``: the jobs the technician holds on a local day,
        not counting ``exclude`` (a job being re-dispatched)."""
        repo = uow.repo(SERVICE_ORDERS)
        mine: tuple[str, date] | None = None
        if exclude is not None and exclude.status in ASSIGNED_STATUSES and exclude.dispatches:
            last = exclude.dispatches[-1]
            mine = (last.technician_id, last.day)

        def booked(technician_id: str, day: date) -> int:
            held = repo.count(booked_technician=technician_id, visit_day=day.isoformat())
            return held - 1 if mine == (technician_id, day) else held

        return booked

    def _suggest(
        self, uow: UnitOfWork, order: ServiceOrder, limit: int | None, now: datetime
    ) -> Suggestion:
        repo = uow.repo(SERVICE_ORDERS)
        technicians = uow.repo(TECHNICIANS).scan(district=order.district, order_by="key")
        closed = {
            point.id: point.status.value
            for point in uow.repo(SERVICE_POINTS).scan(district=order.district)
            if not point.takes_jobs
        }
        return suggest_technicians(
            order,
            technicians,
            booked=self._booked_counter(uow, exclude=order),
            open_jobs=lambda technician_id: repo.count(booked_technician=technician_id),
            at=now,
            policy=self.policy.fieldservice,
            calendar_of=self._technician_calendar,
            limit=limit,
            closed_points=closed,
        )

    def _not_in_future(self, moment: datetime, path: str) -> None:
        if moment > self.now():
            raise ValidationError.at(path, "is in the future")

    # -- the service network ----------------------------------------------------------------

    @use_case(_NETWORK)
    def register_service_area(
        self, uow: UnitOfWork, area_id: Id, *, name: str, district: Id, region: Id, by: Actor
    ) -> ServiceArea:
        """Add a service area of a district of a region (regions → districts → areas).

        A district lies in one region (``district_in_other_region``).
        """
        repo = uow.repo(SERVICE_AREAS)
        for other in repo.scan(district=district, limit=1):
            if other.region != region:
                raise RuleViolation(
                    "district_in_other_region",
                    f"district {describe(district)} lies in region {describe(other.region)}",
                    district=district,
                    region=other.region,
                )
        area = ServiceArea(id=area_id, name=name, district=district, region=region)
        return self.create(uow, SERVICE_AREAS, area)

    @use_case(_NETWORK)
    def register_service_point(
        self,
        uow: UnitOfWork,
        point_id: Id,
        *,
        name: str,
        ownership: PointOwnership | str,
        service_areas: Sequence[Id],
        by: Actor,
        phone: str = "",
    ) -> ServicePoint:
        """Add an own or contracted service point (服务网点) covering areas of one district.

        Every area must be registered (``NotFound``) and in the same district
        (``areas_in_several_districts``); the point takes that district and region.
        """
        if not service_areas:
            raise ValidationError.at("service_areas", "a service point covers at least one area")
        repo = uow.repo(SERVICE_AREAS)
        areas = [repo.get(area_id) for area_id in dict.fromkeys(service_areas)]
        districts = sorted({area.district for area in areas})
        if len(districts) > 1:
            raise RuleViolation(
                "areas_in_several_districts",
                f"service point {describe(point_id)} would cover districts "
                f"{', '.join(districts)}: a service point serves one district",
                point_id=point_id,
                districts=districts,
            )
        point = ServicePoint(
            id=point_id,
            name=name,
            ownership=ownership,
            district=areas[0].district,
            region=areas[0].region,
            service_areas=frozenset(area.id for area in areas),
            phone=phone,
        )
        return self.create(uow, SERVICE_POINTS, point)

    @use_case(_NETWORK)
    def register_technician(
        self,
        uow: UnitOfWork,
        technician_id: Id,
        *,
        name: str,
        service_point_id: Id,
        skills: Sequence[Id],
        by: Actor,
        service_areas: Sequence[Id] | None = None,
        daily_capacity: Positive | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> Technician:
        """Add a technician of a service point, with skills, areas and a daily capacity.

        The areas default to the service point's; others are refused
        (``outside_service_point``). The capacity defaults to the policy's.
        """
        point = uow.repo(SERVICE_POINTS).get(service_point_id)
        areas = point.service_areas if service_areas is None else frozenset(service_areas)
        outside = sorted(areas - point.service_areas)
        if outside:
            raise RuleViolation(
                "outside_service_point",
                f"service point {describe(point.id)} does not cover {', '.join(outside)}",
                service_point_id=point.id,
                areas=outside,
            )
        capacity = daily_capacity or self.policy.fieldservice.default_daily_capacity
        technician = Technician(
            id=technician_id,
            name=name,
            service_point_id=point.id,
            district=point.district,
            skills=frozenset(skills),
            service_areas=areas,
            daily_capacity=capacity,
            calendar=calendar,
        )
        return self.create(uow, TECHNICIANS, technician)

    @use_case(_NETWORK, _DISPATCH)
    def set_technician_availability(
        self,
        uow: UnitOfWork,
        technician_id: Id,
        *,
        by: Actor,
        blackout_days: Sequence[date] = (),
        lift_days: Sequence[date] = (),
        daily_capacity: Positive | None = None,
        active: bool | None = None,
    ) -> Technician:
        """Add or lift blackout days (leave, training), change the capacity, (de)activate."""

        def step(technician: Technician) -> Technician:
            changed = technician.with_blackout_days(blackout_days).without_blackout_days(lift_days)
            if daily_capacity is not None:
                changed = _evolve(changed, daily_capacity=daily_capacity)
            if active is not None:
                changed = _evolve(changed, active=active)
            return changed

        return self.change(uow, TECHNICIANS, technician_id, step)

    @use_case(*_SERVICE_STAFF, readonly=True)
    def get_technician(self, uow: UnitOfWork, technician_id: Id, *, by: Actor) -> Technician:
        """The stored technician; :class:`NotFound` if there is none."""
        return uow.repo(TECHNICIANS).get(technician_id)

    @use_case(*_SERVICE_STAFF, readonly=True)
    def find_technicians(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        district: Id | None = None,
        service_point_id: Id | None = None,
        limit: Count | None = None,
    ) -> list[Technician]:
        """Technicians by district and/or service point, by id."""
        given: dict[str, Any] = {"district": district, "service_point_id": service_point_id}
        where = {name: value for name, value in given.items() if value is not None}
        return uow.repo(TECHNICIANS).find(order_by="key", limit=limit, **where)

    # -- product files ------------------------------------------------------------------------

    @_redacts
    @use_case(_DISPATCH)
    def register_product_file(
        self,
        uow: UnitOfWork,
        serial: Id,
        *,
        model: Id,
        category: Id,
        customer_id: Id,
        service_area_id: Id,
        sold_on: date,
        by: Actor,
        address: str = "",
        installed_on: date | None = None,
        warranty_ends: date | None = None,
        proof: Proof | str = Proof.INVOICE,
        order_id: Id | None = None,
    ) -> ProductFile:
        """Register a product unit by hand (产品档案): the customer and area must exist.

        The warranty ends ``warranty_days`` of the category after the sale unless given.
        """
        uow.repo(CUSTOMERS).get(customer_id)
        uow.repo(SERVICE_AREAS).get(service_area_id)
        if warranty_ends is None:
            days = self.policy.warranty.for_category(category).warranty_days
            warranty_ends = _add_days(sold_on, days)
        product = ProductFile(
            serial=serial,
            model=model,
            category=category,
            customer_id=customer_id,
            address=address,
            service_area_id=service_area_id,
            sold_on=sold_on,
            warranty_ends=warranty_ends,
            installed_on=installed_on,
            order_id=order_id,
            proof=proof,
            registered_at=self.now(),
            registered_by=by.id,
        )
        return self.create(uow, PRODUCT_FILES, product)

    @_redacts
    @use_case(_DISPATCH)
    def maintain_product_file(
        self,
        uow: UnitOfWork,
        serial: Id,
        *,
        by: Actor,
        reason: ShortText,
        address: LongText | None = None,
        service_area_id: Id | None = None,
        customer_id: Id | None = None,
        installed_on: date | None = None,
    ) -> ProductFile:
        """After-sales keeps a product file up to date (产品档案由售后维护): the unit moved, was
        sold on, was installed. Only the fields given change; each change is kept in the
        file's ``changes`` with its old value and the ``reason``. A new owner and a new
        service area must exist. Needs ``service.dispatch``.
        """
        if not reason.strip():
            raise ValidationError.at("reason", "a change of a product file says why")
        given: dict[str, Any] = {
            "address": address,
            "service_area_id": service_area_id,
            "customer_id": customer_id,
            "installed_on": installed_on,
        }
        fields = {name: value for name, value in given.items() if value is not None}
        if customer_id is not None:
            uow.repo(CUSTOMERS).get(customer_id)
        if service_area_id is not None:
            uow.repo(SERVICE_AREAS).get(service_area_id)
        now = self.now()
        return self.change(
            uow,
            PRODUCT_FILES,
            serial,
            lambda file: file.maintained(at=now, by=by.id, reason=reason, **fields),
        )

    @use_case(_NETWORK)
    def define_service_bom(self, uow: UnitOfWork, bom: ServiceBom, *, by: Actor) -> ServiceBom:
        """Store (or replace) the service BOM of a product model (服务BOM, docs/domain.md 8).

        The parts that assemble one finished product, and its dealer price: an assembled
        part used on a job of that model is priced as its share of twice the dealer price
        (the documents' double rule) without the visit record naming the BOM. Needs
        ``service.network``.
        """
        repo = uow.repo(SERVICE_BOMS)
        if repo.get_or_none(bom.product) is None:
            repo.add(bom)
        else:
            repo.update(bom)
        return bom

    @use_case(*_SERVICE_STAFF, _REPORTS, readonly=True)
    def get_service_bom(self, uow: UnitOfWork, model: Id, *, by: Actor) -> ServiceBom:
        """The stored service BOM of ``model``; :class:`NotFound` if there is none."""
        return uow.repo(SERVICE_BOMS).get(model)

    def _with_boms(self, uow: UnitOfWork, model: str, parts: Sequence[PartUse]) -> list[PartUse]:
        """``parts`` with the stored service BOM of ``model`` for assembled parts that name
        none (a part the BOM does not list keeps none: ``quote_part`` then says so)."""
        needing = [use for use in parts if use.bom is None and use.part.kind is PartKind.ASSEMBLED]
        if not needing:
            return list(parts)
        bom = uow.repo(SERVICE_BOMS).get_or_none(model)
        if bom is None:
            return list(parts)
        listed = {line.part.part_number for line in bom.lines}
        return [
            attrs.evolve(use, bom=bom) if use in needing and use.part.part_number in listed else use
            for use in parts
        ]

    @_redacts
    @use_case(_DISPATCH)
    def register_products_from_order(
        self,
        uow: UnitOfWork,
        order_id: Id,
        units: Sequence[ShippedUnit],
        *,
        service_area_id: Id,
        by: Actor,
        address: str | None = None,
    ) -> list[ProductFile]:
        """Register the units of a shipped order, with their serials (created from shipped
        orders).

        Sold on the local date of the shipment; the address defaults to the consignee's.
        """
        if not units:
            raise ValidationError.at("units", "name at least one shipped unit")
        order = uow.repo(ORDERS).get(order_id)
        uow.repo(SERVICE_AREAS).get(service_area_id)
        shipped = order.shipments[0].at if order.shipments else self.now()
        where = address
        if where is None:
            where = order.consignee.address if order.consignee is not None else ""
        files = product_files_from_order(
            order,
            units,
            address=where,
            service_area_id=service_area_id,
            sold_on=self._today(shipped),
            warranty=self.policy.warranty,
            at=self.now(),
            by=by.id,
        )
        return [self.create(uow, PRODUCT_FILES, product) for product in files]

    def _shown_files(
        self, uow: UnitOfWork, files: Sequence[ProductFile], by: Actor, purpose: str
    ) -> list[ProductFile]:
        """Product files as ``by`` may see them: on record, or with the address redacted."""
        if self.may_read_personal(by):
            self.record_access(uow, (f.customer_id for f in files), by, purpose)
            return list(files)
        return [f.redacted() for f in files]

    def _shown_jobs(
        self, uow: UnitOfWork, jobs: Sequence[ServiceOrder], by: Actor, purpose: str
    ) -> list[ServiceOrder]:
        """Jobs as ``by`` may see them: on record, or with the personal data redacted."""
        if self.may_read_personal(by):
            self.record_access(uow, (job.customer_id for job in jobs), by, purpose)
            return list(jobs)
        return [job.redacted() for job in jobs]

    @use_case(*_SERVICE_STAFF)
    def get_product_file(self, uow: UnitOfWork, serial: Id, *, by: Actor) -> ProductFile:
        """The stored product file; :class:`NotFound` if there is none.

        The address is personal data: the read is on record for ``customer.read`` holders
        and redacted for others (docs/domain.md 1).
        """
        found = uow.repo(PRODUCT_FILES).get(serial)
        return self._shown_files(uow, [found], by, "product file")[0]

    @use_case(*_SERVICE_STAFF)
    def find_product_files(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        customer_id: Id | None = None,
        model: Id | None = None,
        limit: Count | None = None,
    ) -> list[ProductFile]:
        """Product files by customer and/or model, by serial (each customer's read on record)."""
        given: dict[str, Any] = {"customer_id": customer_id, "model": model}
        where = {name: value for name, value in given.items() if value is not None}
        found = uow.repo(PRODUCT_FILES).find(order_by="key", limit=limit, **where)
        return self._shown_files(uow, found, by, "product files")

    # -- receiving and triage -----------------------------------------------------------------

    def _job_number(self, uow: UnitOfWork, now: datetime, follow_up: ServiceOrder | None) -> str:
        policy = self.policy.fieldservice
        if follow_up is None:
            return NamingSeries(policy.job_number_pattern).next(uow, now)
        root = follow_up.follow_up_of or follow_up.id
        seq = uow.next_counter(f"follow-up:{root}")
        return f"{root}{policy.follow_up_separator}{seq}"

    @_redacts
    @use_case(_DISPATCH)
    def open_service_order(
        self,
        uow: UnitOfWork,
        serial: Id,
        *,
        kind: ServiceOrderKind | str,
        by: Actor,
        source: ServiceOrderSource | str = ServiceOrderSource.CALL,
        urgency: ComplaintUrgency | str = ComplaintUrgency.ORDINARY,
        symptoms: Sequence[str] = (),
        description: LongText = "",
        requested_at: datetime | None = None,
        source_ref: Id | None = None,
        follow_up_of: Id | None = None,
        note: LongText = "",
    ) -> ServiceOrder:
        """Receive a service call for a product on file: the job number and the promise.

        The job gets the next ``SJ-{yyyy}{mm}-{seq:04d}``; a follow-up of another job on
        the same product keeps the original number with a suffix (``SJ-202611-0007-1``;
        another product: ``follow_up_other_product``). The deadlines follow the promise
        "respond within 30 minutes, on site within 24 hours" on the field-service team's
        calendar; whether the product is within warranty is fixed at receipt.
        """
        now = self.now()
        product = uow.repo(PRODUCT_FILES).get(serial)
        area = uow.repo(SERVICE_AREAS).get(product.service_area_id)
        original = None
        if follow_up_of is not None:
            original = uow.repo(SERVICE_ORDERS).get(follow_up_of)
            if original.product_serial != product.serial:
                raise RuleViolation(
                    "follow_up_other_product",
                    f"job {describe(original.id)} is about {describe(original.product_serial)}, "
                    f"not {describe(product.serial)}",
                    job_id=original.id,
                )
        order = ServiceOrder.open(
            id=self._job_number(uow, now, original),
            kind=ServiceOrderKind(kind),
            source=ServiceOrderSource(source),
            customer_id=product.customer_id,
            product_serial=product.serial,
            model=product.model,
            address=product.address,
            service_area_id=area.id,
            district=area.district,
            urgency=ComplaintUrgency(urgency),
            in_warranty=product.within_warranty(self._today(now)),
            at=now,
            by=by,
            policy=self.policy.fieldservice,
            complaints=self.policy.complaints,
            calendar=self._promise_calendar(),
            symptoms=symptoms,
            description=description,
            requested_at=requested_at,
            source_ref=source_ref,
            follow_up_of=None if original is None else (original.follow_up_of or original.id),
            note=note,
        )
        return self.create(uow, SERVICE_ORDERS, order)

    @_redacts
    @use_case(_DISPATCH)
    def triage_service_order(
        self,
        uow: UnitOfWork,
        job_id: Id,
        *,
        by: Actor,
        distance_km: Count | None = None,
        note: LongText = "",
    ) -> ServiceOrder:
        """Analyse the call the way the handbook asks (维修人员应该如何分析报修信息).

        The fault guide gives causes, measures, parts, skills, the route and whether it
        can be repaired; for a visit, the technician suggestion adds whether someone can
        be on site in time (``on_time_possible``, ``not_on_time``, ``no_technician``).
        """
        now = self.now()
        repo = uow.repo(SERVICE_ORDERS)
        order = repo.get(job_id)
        policy = self.policy.fieldservice
        result = triage_symptoms(
            order.symptoms,
            model=order.model,
            kind=order.kind,
            guide=policy.fault_guide,
            kind_skill=policy.skill_for(order.kind),
            distance_km=distance_km,
        )
        if result.route is not ServiceRoute.RETURN_TO_FACTORY:
            probe = _evolve(order, triage=result)
            best = self._suggest(uow, probe, 1, now).best
            if best is None:
                result = result.with_finding(
                    Finding("no_technician", "No technician of the district can take the job.")
                )
            elif best.on_time:
                result = result.with_finding(
                    Finding(
                        "on_time_possible",
                        f"{best.technician_id} can be on site at {best.visit_at.isoformat()}.",
                    )
                )
            else:
                result = result.with_finding(
                    Finding(
                        "not_on_time",
                        f"The earliest visit ({best.technician_id}, "
                        f"{best.visit_at.isoformat()}) is after the promise.",
                    )
                )
        return self.change(
            uow, SERVICE_ORDERS, job_id, lambda o: o.triaged(result, at=now, by=by, note=note)
        )

    @_redacts
    @use_case(_DISPATCH)
    def resolve_service_order_remotely(
        self, uow: UnitOfWork, job_id: Id, *, resolution: LongText, by: Actor
    ) -> ServiceOrder:
        """Record that phone guidance cleared the fault (a remote resolution, no visit)."""
        now = self.now()
        return self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda order: order.resolved_remotely(resolution=resolution, at=now, by=by),
        )

    # -- dispatch -----------------------------------------------------------------------------

    @use_case(_DISPATCH, readonly=True)
    def suggest_technicians(
        self, uow: UnitOfWork, job_id: Id, *, by: Actor, limit: Positive | None = None
    ) -> Suggestion:
        """Ranked technicians for a job, with reasons (capacity, skills, service areas,
        calendar, jobs in hand), and those passed over with theirs."""
        order = uow.repo(SERVICE_ORDERS).get(job_id)
        return self._suggest(uow, order, limit, self.now())

    @_redacts
    @use_case(_DISPATCH)
    def dispatch_service_order(
        self,
        uow: UnitOfWork,
        job_id: Id,
        technician_id: Id,
        *,
        by: Actor,
        visit_at: datetime | None = None,
    ) -> ServiceOrder:
        """Send a technician of an own or contracted service point (派工), or send another.

        The visit window starts at ``visit_at`` (default: the technician's earliest free
        moment) and lasts the policy's ``visit_window``; the technician must work then and
        have room that day (``technician_unavailable``), have the skills triage asks for
        (``missing_skill``) and cover the job's area (``outside_service_area``), and their
        service point must be active (``service_point_not_active``).
        """
        now = self.now()
        order = uow.repo(SERVICE_ORDERS).get(job_id)
        technician = uow.repo(TECHNICIANS).get(technician_id)
        check_takes_jobs(uow.repo(SERVICE_POINTS).get(technician.service_point_id))
        calendar = self._technician_calendar(technician)
        booked = self._booked_counter(uow, exclude=order)
        start = visit_at
        if start is None:
            begin = max(now, order.requested_at or now)
            slot = earliest_slot(
                technician,
                calendar,
                begin,
                booked,
                days=self.policy.fieldservice.planning_days,
            )
            if slot is None:
                raise RuleViolation(
                    "technician_unavailable",
                    f"technician {describe(technician.id)} has no free working day in the next "
                    f"{self.policy.fieldservice.planning_days} days",
                    technician_id=technician.id,
                )
            start = slot.visit_at
        elif start < now:
            raise ValidationError.at("visit_at", "is in the past")
        day = start.astimezone(calendar.zone).date()
        check_available(technician, calendar, start, booked(technician.id, day))
        dispatch = Dispatch(
            technician_id=technician.id,
            service_point_id=technician.service_point_id,
            window_start=start,
            window_end=start + self.policy.fieldservice.visit_window,
            day=day,
            at=now,
            by=by.id,
        )
        return self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda o: o.dispatched(dispatch, technician, by=by),
        )

    # -- the technician's steps ---------------------------------------------------------------

    @_redacts
    @use_case(_TECHNICIAN)
    def start_service_travel(self, uow: UnitOfWork, job_id: Id, *, by: Actor) -> ServiceOrder:
        """The technician sets out for the customer (en route)."""
        now = self.now()
        return self.change(
            uow, SERVICE_ORDERS, job_id, lambda order: order.travelling(at=now, by=by)
        )

    @_redacts
    @use_case(_TECHNICIAN)
    def record_arrival(
        self, uow: UnitOfWork, job_id: Id, *, by: Actor, at: datetime | None = None
    ) -> ServiceOrder:
        """The technician arrived (``at``, default now; never in the future).

        The first arrival starts the promise's fix clock ("fault cleared within 24 hours
        of starting").
        """
        moment = self.now() if at is None else at
        self._not_in_future(moment, "at")
        policy, calendar = self.policy.fieldservice, self._promise_calendar()
        return self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda order: order.arrived(at=moment, by=by, policy=policy, calendar=calendar),
        )

    @_redacts
    @use_case(_TECHNICIAN)
    def record_service_visit(
        self, uow: UnitOfWork, job_id: Id, visit: VisitRecord, *, by: Actor
    ) -> ServiceOrder:
        """Enter a visit's service record (回公司将维修情况登记入表); one that awaits parts
        leaves the job waiting for parts.

        The parts used come from the stock of the service point the job is dispatched to,
        in the same unit of work (never below zero: ``part_out_of_stock``).
        """
        now = self.now()
        done = self.change(
            uow, SERVICE_ORDERS, job_id, lambda order: order.with_visit(visit, at=now, by=by)
        )
        self._issue_visit_parts(uow, done, visit, by)
        # the visit is a contact with the customer: it goes into their interaction log
        log_interaction(
            uow,
            customer_id=done.customer_id,
            channel=InteractionChannel.VISIT,
            summary=f"on-site visit for job {done.id}",
            at=visit.arrived_at,
            by=by.id,
            source="service_visit",
            subject_id=done.id,
        )
        return done

    @_redacts
    @use_case(_TECHNICIAN, _DISPATCH)
    def quote_service_order(
        self,
        uow: UnitOfWork,
        job_id: Id,
        *,
        by: Actor,
        parts: Sequence[PartUse] = (),
        labour_minutes: Count = 0,
        visits: Count = 1,
    ) -> ServiceQuote:
        """Quote the work before doing it, by the fee schedule: ``visits`` on-site visits
        (none for a return-to-factory job), the labour and the parts estimated."""
        now = self.now()
        order = uow.repo(SERVICE_ORDERS).get(job_id)
        policy = self.policy.fieldservice
        on_site = 0 if order.route is ServiceRoute.RETURN_TO_FACTORY else visits
        lines = price_work(
            on_site_visits=on_site,
            distance_km=None if order.triage is None else order.triage.distance_km,
            labour_minutes=labour_minutes,
            parts=self._with_boms(uow, order.model, parts),
            coverage=Coverage.CUSTOMER,
            policy=policy,
            warranty=self.policy.warranty,
        )
        quote = ServiceQuote(lines=lines, total=total_of(lines, policy.currency), at=now, by=by.id)
        self.change(uow, SERVICE_ORDERS, job_id, lambda o: o.quoted(quote, by=by))
        return quote

    @_redacts
    @use_case(_TECHNICIAN, _DISPATCH)
    def approve_service_quote(
        self,
        uow: UnitOfWork,
        job_id: Id,
        *,
        approved_by: str,
        by: Actor,
        reference: str = "",
    ) -> ServiceOrder:
        """Record the customer's approval of the quote (``approved_by``: who said yes)."""
        approval = QuoteApproval(approved_by=approved_by, at=self.now(), reference=reference)
        return self.change(
            uow, SERVICE_ORDERS, job_id, lambda order: order.quote_approved(approval, by=by)
        )

    def _failed_repairs(self, uow: UnitOfWork, order: ServiceOrder) -> int:
        """Earlier repairs of the same fault that did not cure it: the fixed jobs of the
        follow-up chain ``order`` belongs to (a follow-up means the fault came back)."""
        root = order.follow_up_of
        if root is None:
            return 0
        repo = uow.repo(SERVICE_ORDERS)
        chain = [repo.get(root), *repo.scan(follow_up_of=root)]
        return sum(1 for job in chain if job.id != order.id and job.fixed_at is not None)

    def _coverage(
        self, uow: UnitOfWork, order: ServiceOrder, product: ProductFile, now: datetime, by: Actor
    ) -> tuple[Coverage, str | None]:
        """Who pays for ``order``, and the warranty claim made for it."""
        if not order.in_warranty:
            return Coverage.CUSTOMER, None
        if order.kind in _INCLUDED_KINDS:
            return Coverage.INCLUDED, None
        visit = order.visits[-1]
        claim = WarrantyClaim(
            product_serial=product.serial,
            category=product.category,
            purchase_date=product.sold_on,
            proof=product.proof,
            fault_date=max(self._today(order.received_at), product.sold_on),
            cause=visit.cause,
            unauthorised_repair=visit.unauthorised_repair,
            certificate_altered=visit.certificate_altered,
            failed_repairs=self._failed_repairs(uow, order),
            # each job is its own fault occurrence: a follow-up job files a claim of its own
            fault=f"service order {order.id}",
        )
        warranty = self.policy.warranty
        case = WarrantyClaimCase.submit(
            id=NamingSeries(warranty.claim_number_pattern).next(uow, now),
            claim=claim,
            product=product.product_record(),
            customer_id=order.customer_id,
            at=now,
            by=by,
            service_point_id=order.service_point_id,
            note=f"service order {order.id}",
        )
        # under the one-active-claim-per-fault rule, like every other path that files claims
        file_warranty_claim(self, uow, case)
        extra = rules_from_plugins(self.plugin_manager)
        case = self.change(
            uow,
            WARRANTY_CLAIMS,
            case.id,
            lambda c: c.evaluate(warranty, at=now, by=by, extra_rules=extra),
        )
        covered = case.decision is not None and case.decision.covered
        return (Coverage.WARRANTY if covered else Coverage.CUSTOMER), case.id

    @_redacts
    @use_case(_TECHNICIAN)
    def complete_service_order(self, uow: UnitOfWork, job_id: Id, *, by: Actor) -> ServiceOrder:
        """The fault is cleared: decide who pays, price the work, enter it in the product
        file's service history.

        Within warranty an installation, training or planned maintenance is included;
        other work becomes a warranty claim the rules engine decides (no charge when it
        is covered); the rest is charged by the fee schedule, and above the policy's
        ``quote_approval_above`` only with a quote the customer approved
        (``quote_not_approved``, ``charge_exceeds_quote``).
        """
        now = self.now()
        order = uow.repo(SERVICE_ORDERS).get(job_id)
        order.check_completable()
        product = uow.repo(PRODUCT_FILES).get(order.product_serial)
        coverage, claim_id = self._coverage(uow, order, product, now, by)
        on_site = 0 if order.route is ServiceRoute.RETURN_TO_FACTORY else len(order.visits)
        lines = price_work(
            on_site_visits=on_site,
            distance_km=None if order.triage is None else order.triage.distance_km,
            labour_minutes=order.labour_minutes,
            parts=self._with_boms(
                uow, order.model, [use for visit in order.visits for use in visit.parts]
            ),
            coverage=coverage,
            policy=self.policy.fieldservice,
            warranty=self.policy.warranty,
        )
        done = self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda o: o.completed(
                lines,
                coverage=coverage,
                warranty_claim_id=claim_id,
                at=now,
                by=by,
                policy=self.policy.fieldservice,
            ),
        )
        entry = ServiceHistoryEntry(
            job_id=done.id, kind=done.kind, at=now, summary=done.visits[-1].work_done
        )

        def record(file: ProductFile) -> ProductFile:
            updated = file.with_service(entry)
            if done.kind is ServiceOrderKind.INSTALLATION and file.installed_on is None:
                updated = updated.with_installation(self._today(now))
            return updated

        self.change(uow, PRODUCT_FILES, product.serial, record)
        return done

    @_redacts
    @use_case(_TECHNICIAN)
    def reopen_service_order(
        self, uow: UnitOfWork, job_id: Id, *, reason: LongText, by: Actor
    ) -> ServiceOrder:
        """The customer does not accept the work: the job goes back on site."""
        now = self.now()
        return self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda order: order.reopened(reason=reason, at=now, by=by),
        )

    @_redacts
    @use_case(_TECHNICIAN)
    def sign_off_service_order(
        self, uow: UnitOfWork, job_id: Id, sign_off: SignOff, *, by: Actor
    ) -> ServiceOrder:
        """The customer signs and accepts the work (``signature_required``,
        ``acceptance_required``); the sign-off is not dated in the future."""
        self._not_in_future(sign_off.at, "sign_off.at")
        return self.change(
            uow, SERVICE_ORDERS, job_id, lambda order: order.signed_off(sign_off, by=by)
        )

    @_redacts
    @use_case(_SETTLE)
    def settle_service_order(
        self,
        uow: UnitOfWork,
        job_id: Id,
        *,
        by: Actor,
        collected: Money | None = None,
        collected_by: Id | None = None,
    ) -> ServiceOrder:
        """Settle a signed-off job (单单结): the charges, the cash the technician collected
        and handed over (default none; never more than the total,
        ``collection_exceeds_total``), the rest invoiced."""
        now = self.now()
        policy = self.policy.fieldservice
        cash = Money.zero(policy.currency) if collected is None else collected

        def step(order: ServiceOrder) -> ServiceOrder:
            holder = collected_by if collected_by is not None else order.technician_id
            return order.settled(collected=cash, collected_by=holder, at=now, by=by, policy=policy)

        return self.change(uow, SERVICE_ORDERS, job_id, step)

    @_redacts
    @use_case(_DISPATCH)
    def close_service_order(
        self, uow: UnitOfWork, job_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServiceOrder:
        """Close a settled job, or one resolved by phone."""
        now = self.now()
        return self.change(
            uow, SERVICE_ORDERS, job_id, lambda order: order.closed(at=now, by=by, note=note)
        )

    @_redacts
    @use_case(_DISPATCH)
    def cancel_service_order(
        self, uow: UnitOfWork, job_id: Id, *, reason: LongText, by: Actor
    ) -> ServiceOrder:
        """Cancel a job before its work is done, with the reason."""
        now = self.now()
        return self.change(
            uow,
            SERVICE_ORDERS,
            job_id,
            lambda order: order.cancelled(reason=reason, at=now, by=by),
        )

    # -- reads ----------------------------------------------------------------------------------

    @use_case(_DISPATCH, _TECHNICIAN, _SETTLE)
    def get_service_order(self, uow: UnitOfWork, job_id: Id, *, by: Actor) -> ServiceOrder:
        """The stored job; :class:`NotFound` if there is none.

        The address, the caller's words and the customer's sign-off are personal data: the
        read is on record for ``customer.read`` holders, redacted for others (finance).
        """
        found = uow.repo(SERVICE_ORDERS).get(job_id)
        return self._shown_jobs(uow, [found], by, "service order")[0]

    @use_case(_DISPATCH, _TECHNICIAN, _SETTLE)
    def find_service_orders(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        status: ServiceOrderStatus | str | None = None,
        customer_id: Id | None = None,
        technician_id: Id | None = None,
        product_serial: Id | None = None,
        limit: Count | None = None,
    ) -> list[ServiceOrder]:
        """Jobs by status, customer, technician and/or product, by job number."""
        given: dict[str, Any] = {
            "status": status,
            "customer_id": customer_id,
            "technician_id": technician_id,
            "product_serial": product_serial,
        }
        where = {name: value for name, value in given.items() if value is not None}
        found = uow.repo(SERVICE_ORDERS).find(order_by="key", limit=limit, **where)
        return self._shown_jobs(uow, found, by, "service orders")

    # -- the promise ----------------------------------------------------------------------------

    @use_case(_REPORTS, readonly=True)
    def service_order_breaches(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        at: datetime | None = None,
        include_met: bool = False,
    ) -> list[PromiseBreach]:
        """Promise targets (respond, on site, fixed) missed as of ``at`` (default now).

        By default only targets still not met, over the open jobs; with ``include_met``
        also the targets met late, over every job received before ``at``.
        """
        moment = self.now() if at is None else at
        repo = uow.repo(SERVICE_ORDERS)
        if include_met:
            stream = repo.scan(received_at__lt=moment)
        else:
            stream = repo.scan(status__in=sorted(OPEN_SERVICE_STATUSES))
        found = [
            breach
            for order in stream
            for breach in promise_breaches(order, moment)
            if include_met or breach.still_open
        ]
        found.sort(key=lambda b: (b.due, b.job_id, b.target.value))
        return found

    @checked(*_ESCALATE)
    def escalate_overdue_service_orders(
        self, *, by: Actor, owners: Mapping[str, Id] | None = None
    ) -> list[ServiceOrderEscalated]:
        """Move every late open job up the five-level ladder, one rung per missed deadline.

        The complaint area's ladder and planning (one implementation): a job's first round
        runs to the on-site deadline, its second, from the first arrival, to the fix
        deadline. Idempotent; jobs are read in batches of :attr:`service_escalation_batch`, each
        batch in its own unit of work. ``owners`` maps a ladder role to the person holding
        it (default: the desk's ``ladder_owners``).
        """
        owners = self.owners_of_ladder(owners)
        escalated: list[ServiceOrderEscalated] = []
        last: str | None = None
        while True:
            batch = partial(self._escalate_service_batch, after=last, by=by, owners=owners)
            events, last, full = self.run(batch)
            escalated.extend(events)
            if not full:
                return escalated

    def _escalate_service_batch(
        self,
        uow: UnitOfWork,
        *,
        after: str | None,
        by: Actor,
        owners: Mapping[str, str] | None,
    ) -> tuple[list[ServiceOrderEscalated], str | None, bool]:
        now = self.now()
        repo = uow.repo(SERVICE_ORDERS)
        where: dict[str, Any] = {"status__in": sorted(OPEN_SERVICE_STATUSES)}
        if after is not None:
            where["key__gt"] = after
        batch = list(repo.scan(order_by="key", limit=self.service_escalation_batch, **where))
        events: list[ServiceOrderEscalated] = []
        calendar = self._promise_calendar()
        for order in batch:
            moved, steps = order.escalate_if_overdue(
                at=now, policy=self.policy.complaints, calendar=calendar, by=by, owners=owners
            )
            if steps:
                repo.update(moved)
                self.emit_events(uow, SERVICE_ORDERS, order, moved)
                events.extend(
                    ServiceOrderEscalated(
                        job_id=order.id,
                        from_level=step.from_level,
                        to_level=step.to_level,
                        reason=step.reason,
                        target=escalation_target(step.round, step.reason),
                        owner_role=step.owner_role,
                        owner_id=step.owner_id,
                        due=step.due,
                        at=step.at,
                    )
                    for step in steps
                )
        last = batch[-1].id if batch else after
        return events, last, len(batch) == self.service_escalation_batch

    # -- reports --------------------------------------------------------------------------------

    def _technician_jobs(self, uow: UnitOfWork, technician_id: str) -> list[ServiceOrder]:
        return uow.repo(SERVICE_ORDERS).find(technician_id=technician_id, order_by="key")

    @use_case(_DISPATCH, _TECHNICIAN)
    def technician_day_plan(
        self, uow: UnitOfWork, technician_id: Id, day: date, *, by: Actor
    ) -> tuple[DayJob, ...]:
        """A technician's day (local ``day``): the jobs booked for it in visit order.

        The plan gives each job's address: on record per customer, or redacted.
        """
        technician = uow.repo(TECHNICIANS).get(technician_id)
        repo = uow.repo(SERVICE_ORDERS)
        booked = repo.find(booked_technician=technician.id, visit_day=day.isoformat())
        jobs = self._shown_jobs(uow, booked, by, "day plan")
        calendar = self._technician_calendar(technician)
        report = technician_daily_report(
            technician.id,
            day,
            jobs,
            tz=calendar.tz,
            currency=self.policy.fieldservice.currency,
        )
        return report.jobs

    @use_case(_REPORTS, readonly=True)
    def technician_daily_report(
        self, uow: UnitOfWork, technician_id: Id, day: date, *, by: Actor
    ) -> TechnicianDayReport:
        """The technician daily report for the local ``day``: jobs, hours, parts, cash."""
        technician = uow.repo(TECHNICIANS).get(technician_id)
        calendar = self._technician_calendar(technician)
        return technician_daily_report(
            technician.id,
            day,
            self._technician_jobs(uow, technician.id),
            tz=calendar.tz,
            currency=self.policy.fieldservice.currency,
        )

    @use_case(_REPORTS, readonly=True)
    def service_kpis(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> ServiceKpis:
        """The service KPIs over the jobs received in ``start <= at < end``, streaming.

        Open jobs by technician and area, first-time-fix rate, on-site-within-promise
        rate, mean time to repair (call to fix), repeat visits, failure rate by model
        (repairs per unit of the installed base, 故障率分析) and out-of-warranty revenue.
        """
        if start is not None and end is not None and end < start:
            raise ValidationError.at("end", "is before start")
        where: dict[str, Any] = {}
        if start is not None:
            where["received_at__ge"] = start
        if end is not None:
            where["received_at__lt"] = end
        policy = self.policy.fieldservice
        kpis = ServiceKpiAccumulator(currency=policy.currency, repeat_days=policy.repeat_visit_days)
        for order in uow.repo(SERVICE_ORDERS).scan(order_by="received_at", **where):
            kpis.add(order)
        installed: dict[str, int] = {}
        for product in uow.repo(PRODUCT_FILES).scan():
            installed[product.model] = installed.get(product.model, 0) + 1
        return kpis.result(installed)


def _evolve(obj: T, **changes: Any) -> T:
    return attrs.evolve(obj, **changes)  # type: ignore[misc]


def _add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise ValidationError.at("sold_on", "is too late for its warranty period") from None
