"""Service-network use cases: contracts and assessments of service points, maintenance
plans, post-delivery jobs and a contracted point's monthly statement.

Every use case goes through the desk's skeleton (:func:`~csdomain.desk.base.use_case`):
arguments checked, the permission first, one unit of work. The pure steps are in
:mod:`csdomain.fieldservice.contracts`, :mod:`~csdomain.fieldservice.plans` and
:mod:`~csdomain.fieldservice.statements` (docs/domain.md 8).

- A contracted point opens step by step (申请;初审;服务站建设;开张准备和签约) and may be
  suspended and reinstated; an own point is active from registration. Each step needs
  ``service.network``. Only an active point takes jobs
  (:func:`~csdomain.fieldservice.check_takes_jobs`).
- A periodic assessment scores a point on the policy's criteria; a grade the policy names
  suspends an active point in the same unit of work (``service.network``).
- Maintenance plans and post-delivery jobs are opened by the scheduler's runs, each
  idempotent (``service.dispatch``): running twice opens nothing the second time.
- A contracted point's monthly statement (单单结,月对账) needs ``service.settle``.

None of these use cases returns personal data: jobs are named by their job numbers, and a
statement line carries the job, the product and the money, not the customer's address.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import attrs

from csdomain.auth import Actor, Permission
from csdomain.complaints import ComplaintUrgency
from csdomain.desk.args import Count, Id, LongText, Positive
from csdomain.desk.base import DeskBase, checked, use_case
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    ContractStatus,
    MaintenanceFrequency,
    MaintenancePlan,
    PointAssessment,
    ProductFile,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    ServicePoint,
    assess,
    due_now,
)
from csdomain.fieldservice.plans import first_due_after
from csdomain.fieldservice.statements import MonthlyStatement, monthly_statement
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    MAINTENANCE_PLANS,
    ORDERS,
    PRODUCT_FILES,
    RULE_GUARDS,
    SERVICE_AREAS,
    SERVICE_ORDERS,
    SERVICE_POINT_ASSESSMENTS,
    SERVICE_POINTS,
)
from csdomain.store import UnitOfWork
from csdomain.warranty import RuleGuard


__all__ = [
    "DELIVERY_JOB_SOURCE",
    "PLAN_BATCH",
    "DeliveryRun",
    "MaintenanceRun",
    "ServiceNetworkDesk",
]

_NETWORK = Permission.MANAGE_SERVICE_NETWORK
_DISPATCH = Permission.DISPATCH_SERVICE
_SETTLE = Permission.SETTLE_SERVICE
_REPORTS = Permission.VIEW_REPORTS

#: How many maintenance plans one unit of work of the scheduler's run handles.
PLAN_BATCH = 200

#: The source of an installation or training job opened after delivery. The job
#: vocabulary has no "delivery" source yet, so it is the after-sales care that follows
#: a hand-over (送货上门安装商品使用的指导服务); the job's ``source_ref`` names the order.
DELIVERY_JOB_SOURCE = ServiceOrderSource.CARE_REMINDER

_CLOSED_OR_SETTLED = ("settled", "closed")


@attrs.frozen(kw_only=True)
class MaintenanceRun:
    """What one run of the maintenance plans did: the jobs opened, the occurrences
    skipped for a later one, the plans that ended (their warranty is over)."""

    opened: tuple[str, ...] = ()
    skipped: int = 0
    ended: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class DeliveryRun:
    """What one run of the post-delivery jobs did: the jobs opened, by job number."""

    opened: tuple[str, ...] = ()
    orders: int = 0


class ServiceNetworkDesk(DeskBase):
    """The service network's use cases (服务网点: contracts, assessments, plans, statements)."""

    #: How many maintenance plans one unit of work of the scheduler's run handles.
    plan_batch: int = PLAN_BATCH

    # -- what the use cases look up ---------------------------------------------------------

    def _service_today(self, now: datetime) -> date:
        return now.astimezone(self.calendar_for(FIELD_SERVICE_TEAM).zone).date()

    def _open_job(
        self,
        uow: UnitOfWork,
        product: ProductFile,
        *,
        kind: ServiceOrderKind,
        source: ServiceOrderSource,
        source_ref: str,
        by: Actor,
        now: datetime,
        note: str,
    ) -> ServiceOrder:
        """Receive a job the company opens itself, for ``product``, as a call would be."""
        policy = self.policy.fieldservice
        area = uow.repo(SERVICE_AREAS).get(product.service_area_id)
        order = ServiceOrder.open(
            id=NamingSeries(policy.job_number_pattern).next(uow, now),
            kind=kind,
            source=source,
            customer_id=product.customer_id,
            product_serial=product.serial,
            model=product.model,
            address=product.address,
            service_area_id=area.id,
            district=area.district,
            urgency=ComplaintUrgency.ORDINARY,
            in_warranty=product.within_warranty(self._service_today(now)),
            at=now,
            by=by,
            policy=policy,
            complaints=self.policy.complaints,
            calendar=self.calendar_for(FIELD_SERVICE_TEAM),
            source_ref=source_ref,
            note=note,
        )
        return self.create(uow, SERVICE_ORDERS, order)

    # -- contracts ----------------------------------------------------------------------------

    def _contract_step(
        self, uow: UnitOfWork, point_id: str, action: str, by: Actor, note: str
    ) -> ServicePoint:
        now = self.now()
        return self.change(
            uow,
            SERVICE_POINTS,
            point_id,
            lambda point: point.contract_step(action, at=now, by=by, note=note),
        )

    @use_case(_NETWORK)
    def review_service_point(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServicePoint:
        """Start the initial review (初审) of a contracted point's application."""
        return self._contract_step(uow, point_id, "review", by, note)

    @use_case(_NETWORK)
    def set_up_service_point(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServicePoint:
        """The review passed: the station is being built (服务站建设)."""
        return self._contract_step(uow, point_id, "set_up", by, note)

    @use_case(_NETWORK)
    def sign_service_point(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServicePoint:
        """The opening is prepared and the contract signed (开张准备和签约)."""
        return self._contract_step(uow, point_id, "sign", by, note)

    @use_case(_NETWORK)
    def activate_service_point(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServicePoint:
        """Open a signed point: from now on it takes jobs."""
        return self._contract_step(uow, point_id, "activate", by, note)

    @use_case(_NETWORK)
    def suspend_service_point(
        self, uow: UnitOfWork, point_id: Id, *, reason: LongText, by: Actor
    ) -> ServicePoint:
        """Suspend an active point, with the reason: it takes no jobs until reinstated."""
        return self._contract_step(uow, point_id, "suspend", by, reason)

    @use_case(_NETWORK)
    def reinstate_service_point(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, note: LongText = ""
    ) -> ServicePoint:
        """Reinstate a suspended point: it takes jobs again."""
        return self._contract_step(uow, point_id, "reinstate", by, note)

    @use_case(_NETWORK, _DISPATCH, readonly=True)
    def find_service_points(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        status: ContractStatus | str | None = None,
        district: Id | None = None,
        limit: Count | None = None,
    ) -> list[ServicePoint]:
        """Service points by contract status and/or district, by id."""
        where: dict[str, Any] = {} if district is None else {"district": district}
        points = uow.repo(SERVICE_POINTS).scan(order_by="key", **where)
        found = [point for point in points if status is None or point.status == status]
        return found if limit is None else found[:limit]

    # -- assessments --------------------------------------------------------------------------

    @use_case(_NETWORK)
    def assess_service_point(
        self,
        uow: UnitOfWork,
        point_id: Id,
        scores: Mapping[Id, Count],
        *,
        period_start: date,
        period_end: date,
        by: Actor,
        note: LongText = "",
    ) -> PointAssessment:
        """Record a periodic assessment (定期考核) of a point for a period that is over.

        Every criterion of the policy is scored from 0 to its points
        (``criterion_not_scored``, ``score_out_of_range``); one assessment per point and
        period start (:class:`~csdomain.errors.AlreadyExists`). A grade of the policy's
        ``suspend_on_grades`` suspends the point if it is active, in the same unit of work.
        """
        now = self.now()
        if period_end < period_start:
            raise ValidationError.at("period_end", "is before period_start")
        if period_end > self._service_today(now):
            raise ValidationError.at("period_end", "is in the future: assess a period that is over")
        point = uow.repo(SERVICE_POINTS).get(point_id)
        policy = self.policy.fieldservice
        assessment = assess(
            point.id,
            scores,
            period_start=period_start,
            period_end=period_end,
            criteria=policy.assessment_criteria,
            grades=policy.assessment_grades,
            suspend_grades=policy.suspend_on_grades,
            at=now,
            by=by,
            note=note,
        )
        if assessment.suspended and point.status is ContractStatus.ACTIVE:
            reason = f"assessment {assessment.id}: grade {assessment.grade}"
            self._contract_step(uow, point.id, "suspend", by, reason)
        elif assessment.suspended:
            assessment = attrs.evolve(assessment, suspended=False)
        return self.create(uow, SERVICE_POINT_ASSESSMENTS, assessment)

    @use_case(_NETWORK, _REPORTS, readonly=True)
    def latest_service_point_assessments(
        self, uow: UnitOfWork, *, by: Actor, district: Id | None = None
    ) -> list[PointAssessment]:
        """The latest assessment of every point (of ``district``) that has one, by point.

        Latest: the one whose period ends last (then the one recorded last).
        """
        points: set[str] | None = None
        if district is not None:
            points = {p.id for p in uow.repo(SERVICE_POINTS).scan(district=district)}
        latest: dict[str, PointAssessment] = {}
        for assessment in uow.repo(SERVICE_POINT_ASSESSMENTS).scan(order_by="key"):
            if points is not None and assessment.service_point_id not in points:
                continue
            held = latest.get(assessment.service_point_id)
            if held is None or (assessment.period_end, assessment.at) > (held.period_end, held.at):
                latest[assessment.service_point_id] = assessment
        return [latest[point_id] for point_id in sorted(latest)]

    # -- maintenance plans --------------------------------------------------------------------

    @use_case(_DISPATCH)
    def create_maintenance_plan(
        self,
        uow: UnitOfWork,
        serial: Id,
        *,
        by: Actor,
        frequency: MaintenanceFrequency | str | None = None,
        first_due: date | None = None,
    ) -> MaintenancePlan:
        """Plan maintenance of a product within warranty, monthly or quarterly.

        The frequency defaults to the policy's; the first visit to one interval from
        today, and never before today. A product whose warranty is over, or ends before
        the first visit, gets no plan (``product_out_of_warranty``); one plan per
        product (:class:`~csdomain.errors.AlreadyExists`).
        """
        now = self.now()
        today = self._service_today(now)
        product = uow.repo(PRODUCT_FILES).get(serial)
        how = (
            self.policy.fieldservice.maintenance_frequency
            if frequency is None
            else MaintenanceFrequency(frequency)
        )
        first = first_due_after(today, how) if first_due is None else first_due
        if first < today:
            raise ValidationError.at("first_due", "is in the past")
        if not product.within_warranty(first):
            raise RuleViolation(
                "product_out_of_warranty",
                f"product {describe(product.serial)}: its warranty ends "
                f"{product.warranty_ends.isoformat()}, before the first visit "
                f"{first.isoformat()}",
                serial=product.serial,
                warranty_ends=product.warranty_ends.isoformat(),
            )
        plan = MaintenancePlan(
            product_serial=product.serial,
            customer_id=product.customer_id,
            model=product.model,
            frequency=how,
            first_due=first,
            created_at=now,
            created_by=by.id,
        )
        return self.create(uow, MAINTENANCE_PLANS, plan)

    @use_case(_DISPATCH)
    def end_maintenance_plan(self, uow: UnitOfWork, serial: Id, *, by: Actor) -> MaintenancePlan:
        """Stop a plan: it opens no more jobs (ending an ended plan changes nothing)."""
        today = self._service_today(self.now())
        return self.change(
            uow,
            MAINTENANCE_PLANS,
            serial,
            lambda plan: plan.ended(today) if plan.active else plan,
        )

    @use_case(_DISPATCH, readonly=True)
    def get_maintenance_plan(self, uow: UnitOfWork, serial: Id, *, by: Actor) -> MaintenancePlan:
        """The stored plan of a product; :class:`NotFound` if it has none."""
        return uow.repo(MAINTENANCE_PLANS).get(serial)

    @checked(_DISPATCH)
    def generate_maintenance_orders(self, *, by: Actor) -> MaintenanceRun:
        """The scheduler's run: open the planned-maintenance jobs that are due today.

        For each active plan, the latest occurrence up to today (local to the
        field-service team) and within the product's warranty opens one job (kind
        planned maintenance, source maintenance plan, ``source_ref`` the plan and the
        date); earlier occurrences missed since the last run are skipped. The plan
        remembers the occurrence in the same unit of work as the job, so running twice
        opens nothing the second time; a plan with no occurrence left within the
        warranty ends. Plans are read in batches of :attr:`plan_batch`, each batch in its
        own unit of work.
        """
        opened: list[str] = []
        ended: list[str] = []
        skipped = 0
        last: str | None = None
        while True:
            batch = partial(self._plan_batch, after=last, by=by)
            run, last, full = self.run(batch)
            opened.extend(run.opened)
            ended.extend(run.ended)
            skipped += run.skipped
            if not full:
                return MaintenanceRun(opened=tuple(opened), skipped=skipped, ended=tuple(ended))

    def _plan_batch(
        self, uow: UnitOfWork, *, after: str | None, by: Actor
    ) -> tuple[MaintenanceRun, str | None, bool]:
        now = self.now()
        today = self._service_today(now)
        where: dict[str, Any] = {"active": True}
        if after is not None:
            where["key__gt"] = after
        repo = uow.repo(MAINTENANCE_PLANS)
        batch = list(repo.scan(order_by="key", limit=self.plan_batch, **where))
        opened: list[str] = []
        ended: list[str] = []
        skipped = 0
        for plan in batch:
            product = uow.repo(PRODUCT_FILES).get(plan.product_serial)
            step = due_now(plan, today=today, warranty_ends=product.warranty_ends)
            changed = plan
            if step.due is not None:
                job = self._open_job(
                    uow,
                    product,
                    kind=ServiceOrderKind.PLANNED_MAINTENANCE,
                    source=ServiceOrderSource.MAINTENANCE_PLAN,
                    source_ref=f"{plan.id}@{step.due.isoformat()}",
                    by=by,
                    now=now,
                    note=f"maintenance due {step.due.isoformat()}",
                )
                changed = changed.with_job(step.due, job.id)
                opened.append(job.id)
                skipped += len(step.skipped)
            if step.finished:
                changed = changed.ended(today)
                ended.append(plan.id)
            if changed != plan:
                repo.update(changed)
        last = batch[-1].product_serial if batch else after
        run = MaintenanceRun(opened=tuple(opened), skipped=skipped, ended=tuple(ended))
        return run, last, len(batch) == self.plan_batch

    # -- post-delivery jobs -------------------------------------------------------------------

    @use_case(_DISPATCH)
    def open_delivery_jobs(
        self, uow: UnitOfWork, *, by: Actor, since: datetime | None = None
    ) -> DeliveryRun:
        """The scheduler's run: installation and training jobs for delivered products.

        For each order delivered since ``since`` (default: the policy's
        ``delivery_lookback_days`` ago), every product file registered from it whose
        model is in the policy's ``installation_models`` gets an installation job unless
        it is installed or has one, and every one in ``training_models`` a user-training
        job unless it has one (送货上门安装商品使用的指导服务). Running twice opens nothing
        the second time.
        """
        now = self.now()
        policy = self.policy.fieldservice
        start = since if since is not None else now - timedelta(days=policy.delivery_lookback_days)
        if start > now:
            raise ValidationError.at("since", "is in the future")
        wanted = (
            (ServiceOrderKind.INSTALLATION, policy.installation_models),
            (ServiceOrderKind.USER_TRAINING, policy.training_models),
        )
        opened: list[str] = []
        orders = 0
        if not (policy.installation_models or policy.training_models):
            return DeliveryRun()
        jobs = uow.repo(SERVICE_ORDERS)
        for order in uow.repo(ORDERS).scan(delivered_at__ge=start, order_by="delivered_at"):
            orders += 1
            for product in uow.repo(PRODUCT_FILES).scan(order_id=order.id, order_by="key"):
                has = {job.kind for job in jobs.scan(product_serial=product.serial)}
                for kind, models in wanted:
                    if product.model not in models or kind in has:
                        continue
                    if kind is ServiceOrderKind.INSTALLATION and product.installed_on is not None:
                        continue
                    job = self._open_job(
                        uow,
                        product,
                        kind=kind,
                        source=DELIVERY_JOB_SOURCE,
                        source_ref=order.id,
                        by=by,
                        now=now,
                        note=f"after delivery of order {order.id}",
                    )
                    # the slot of "one such job per product": a run racing this one
                    # stores the same key and is retried, then sees the job
                    guard = RuleGuard.of(
                        "delivery_job", (product.serial, kind.value), holder=job.id, at=now
                    )
                    uow.repo(RULE_GUARDS).add(guard)
                    opened.append(job.id)
        return DeliveryRun(opened=tuple(opened), orders=orders)

    # -- the monthly statement ----------------------------------------------------------------

    @use_case(_SETTLE, readonly=True)
    def service_point_statement(
        self, uow: UnitOfWork, point_id: Id, *, year: Positive, month: Positive, by: Actor
    ) -> MonthlyStatement:
        """A contracted point's monthly statement (单单结,月对账): every job of the point
        settled in the month (on the point's team calendar, else the desk's), one line
        each, the totals and what the company owes the point (``point_not_contracted``
        for an own point)."""
        limits = self.policy.limits
        if not limits.earliest_year <= year <= min(limits.latest_year, 9998):
            raise ValidationError.at(
                "year", f"must be from {limits.earliest_year} to {limits.latest_year}"
            )
        if not 1 <= month <= 12:
            raise ValidationError.at("month", "must be a month from 1 to 12")
        point = uow.repo(SERVICE_POINTS).get(point_id)
        zone = self.calendar_for(point.id).zone
        ends = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        jobs = uow.repo(SERVICE_ORDERS).scan(
            status__in=list(_CLOSED_OR_SETTLED), fixed_at__lt=ends, order_by="key"
        )
        return monthly_statement(
            point,
            jobs,
            year=year,
            month=month,
            tz=zone,
            policy=self.policy.fieldservice,
            warranty=self.policy.warranty,
        )
