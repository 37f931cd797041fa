"""Hypothesis strategies for the field-service models (:mod:`csdomain.fieldservice`).

Every strategy builds valid objects by construction: service orders are opened with the
policy's deadlines and driven through their own step methods, so their history follows
:data:`~csdomain.fieldservice.SERVICE_ORDER_TRANSITIONS`; charge lines and settlements
are priced by the fee schedule. Knobs are strategies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.complaints import ComplaintPolicy, ComplaintUrgency
from csdomain.fieldservice import (
    ChargeKind,
    ChargeLine,
    Coverage,
    Dispatch,
    DistanceBand,
    FaultEntry,
    FeeSchedule,
    FieldServicePolicy,
    MaintenanceFrequency,
    MaintenancePlan,
    MovementKind,
    PartLot,
    PartMovement,
    PartStock,
    PartTransfer,
    PartUse,
    PointAssessment,
    PointOwnership,
    ProductFile,
    QuoteApproval,
    ServiceArea,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    ServiceOrderStatus,
    ServicePoint,
    ServiceQuote,
    ServiceRoute,
    Settlement,
    ShippedUnit,
    SignOff,
    Technician,
    TransferLine,
    TriageResult,
    VisitRecord,
    price_work,
    total_of,
    triage_symptoms,
)
from csdomain.fieldservice.cash import CashHandover
from csdomain.fieldservice.contracts import assessment_id
from csdomain.money import Money
from csdomain.warranty import Cause, PartKind, SparePart, WarrantyPolicy


__all__ = [
    "charge_lines",
    "fault_entries",
    "fieldservice_policies",
    "part_lots",
    "part_stocks",
    "part_transfers",
    "part_uses",
    "product_files",
    "service_areas",
    "service_orders",
    "service_points",
    "settlements",
    "shipped_units",
    "sign_offs",
    "technicians",
    "triage_results",
    "visit_records",
]

_ID = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=2, max_size=12).filter(
    lambda s: s.strip("-") != ""
)
_WORD = st.sampled_from(
    ["no power", "noise", "leak", "error E4", "won't start", "display dark", "overheats"]
)
_SKILL = st.sampled_from(["repair", "installation", "electronics", "refrigeration", "gas"])
_AREAS = st.sampled_from(["WH-HS", "WH-WC", "WH-JA"])
_AT = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_DAYS = st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 31))
_STEP = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=30))
_PRICE = st.decimals("0.00", "500.00", places=2)
_CAUSES = st.sampled_from(Cause)
_ACTOR = Actor("disp-1", frozenset({"call_team"}))
_TECH = Actor("tech-1", frozenset({"technician"}))
_OFFICE = BusinessCalendar.office("Asia/Shanghai")


def fault_entries() -> st.SearchStrategy[FaultEntry]:
    """Rows of a fault guide: a symptom, causes, measures, parts, skills, a route."""
    texts = st.lists(st.sampled_from(["board", "fuse", "seal", "motor", "firmware"]), max_size=3)
    return st.builds(
        FaultEntry,
        symptom=_WORD,
        causes=texts.map(tuple),
        measures=texts.map(tuple),
        parts=st.lists(st.sampled_from(["PB-55", "FU-1", "SE-9"]), max_size=2).map(tuple),
        skills=st.frozensets(_SKILL, max_size=2),
        route=st.sampled_from(ServiceRoute),
        repairable=st.booleans(),
    )


def fieldservice_policies() -> st.SearchStrategy[FieldServicePolicy]:
    """Valid field-service policies: fee schedules with rising bands, guides, planning."""

    @st.composite
    def build(draw: st.DrawFn) -> FieldServicePolicy:
        limits = sorted(draw(st.sets(st.integers(1, 200), max_size=3)))
        bands = [DistanceBand(limit, draw(_PRICE)) for limit in limits]
        bands.append(DistanceBand(None, draw(_PRICE)))
        return FieldServicePolicy(
            fees=FeeSchedule(
                call_out_fee=draw(_PRICE), labour_per_hour=draw(_PRICE), distance_bands=bands
            ),
            quote_approval_above=draw(_PRICE),
            default_daily_capacity=draw(st.integers(1, 10)),
            planning_days=draw(st.integers(1, 14)),
            fault_guide=tuple(draw(st.lists(fault_entries(), max_size=4))),
        )

    return build()


def service_areas() -> st.SearchStrategy[ServiceArea]:
    """Service areas of the districts of two regions."""
    return st.builds(
        ServiceArea,
        id=_AREAS,
        name=st.sampled_from(["Hongshan", "Wuchang", "Jiang'an"]),
        district=st.just("WH"),
        region=st.just("HUBEI"),
    )


def service_points() -> st.SearchStrategy[ServicePoint]:
    """Own and contracted service points of one district."""
    return st.builds(
        ServicePoint,
        id=_ID,
        name=st.sampled_from(["Wuhan own point", "Hankou partner"]),
        ownership=st.sampled_from(PointOwnership),
        district=st.just("WH"),
        region=st.just("HUBEI"),
        service_areas=st.frozensets(_AREAS, min_size=1),
    )


def technicians(
    *, calendars: st.SearchStrategy[BusinessCalendar | None] | None = None
) -> st.SearchStrategy[Technician]:
    """Technicians with skills, areas, capacity, maybe a calendar and blackout days."""
    return st.builds(
        Technician,
        id=_ID,
        name=st.sampled_from(["Li", "Wang", "Zhao"]),
        service_point_id=st.just("SP-WH"),
        district=st.just("WH"),
        skills=st.frozensets(_SKILL, max_size=4),
        service_areas=st.frozensets(_AREAS, min_size=1),
        daily_capacity=st.integers(1, 8),
        calendar=calendars if calendars is not None else st.none() | st.just(_OFFICE),
        blackout_days=st.frozensets(_DAYS, max_size=5),
        active=st.booleans(),
    )


def product_files() -> st.SearchStrategy[ProductFile]:
    """Product files sold on some day, with a warranty of up to three years."""

    @st.composite
    def build(draw: st.DrawFn) -> ProductFile:
        sold = draw(_DAYS)
        return ProductFile(
            serial=draw(_ID),
            model=draw(st.sampled_from(["TV-55", "WM-8", "AC-12"])),
            category=draw(st.sampled_from(["tv", "washer", "aircon"])),
            customer_id=draw(_ID),
            address=draw(st.sampled_from(["", "Luoyu Rd 1"])),
            service_area_id=draw(_AREAS),
            sold_on=sold,
            warranty_ends=sold + timedelta(days=draw(st.integers(0, 1095))),
            order_id=draw(st.none() | _ID),
            registered_at=draw(_AT),
            registered_by="clerk-1",
        )

    return build()


def shipped_units() -> st.SearchStrategy[ShippedUnit]:
    """Units of a shipped order line with their serials."""
    return st.builds(
        ShippedUnit,
        serial=_ID,
        sku=st.sampled_from(["TV-55", "WM-8"]),
        category=st.sampled_from(["tv", "washer"]),
    )


def part_uses() -> st.SearchStrategy[PartUse]:
    """Parts used: a standard or wear part from the catalogue, 1-3 of them."""

    @st.composite
    def build(draw: st.DrawFn) -> PartUse:
        kind = draw(st.sampled_from([PartKind.STANDARD, PartKind.WEAR]))
        price = Money(draw(st.decimals("0.01", "900.00", places=2)), "CNY")
        part = SparePart(
            part_number=draw(st.sampled_from(["PB-55", "FU-1", "SE-9"])),
            name="spare part",
            kind=kind,
            cost=price,
        )
        return PartUse(part=part, quantity=draw(st.integers(1, 3)))

    return build()


def part_lots() -> st.SearchStrategy[tuple[PartLot, ...]]:
    """Lots of parts, oldest first and one per day, from the last two years."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[PartLot, ...]:
        days = draw(st.sets(st.integers(0, 730), max_size=6))
        return tuple(
            PartLot(date(2025, 1, 1) + timedelta(days=offset), draw(st.integers(1, 20)))
            for offset in sorted(days)
        )

    return build()


def part_stocks(
    *, service_point_id: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[PartStock]:
    """The stock of one catalogue part at a service point, in lots by age."""

    @st.composite
    def build(draw: st.DrawFn) -> PartStock:
        points = (
            st.sampled_from(["SP-WH", "SP-YC"]) if service_point_id is None else service_point_id
        )
        point = draw(points)
        part = draw(part_uses()).part
        return PartStock(service_point_id=point, part=part, lots=draw(part_lots()))

    return build()


def part_transfers() -> st.SearchStrategy[PartTransfer]:
    """Transfers between two points (调拨), shipped and sometimes received, maybe short."""

    @st.composite
    def build(draw: st.DrawFn) -> PartTransfer:
        stock = draw(part_stocks(service_point_id=st.just("SP-WH")))
        lots = stock.lots or (PartLot(date(2026, 1, 1), 1),)
        quantity = sum(lot.quantity for lot in lots)
        at = datetime(2026, 11, 2, 1, tzinfo=UTC)
        shipped = PartTransfer.shipped(
            id="DB-202611-0001",
            source_point_id="SP-WH",
            destination_point_id="SP-YC",
            lines=[TransferLine(part=stock.part, quantity=quantity, lots=lots)],
            at=at,
            by="disp-1",
        )
        if not draw(st.booleans()):
            return shipped
        arrived = draw(st.integers(0, quantity))
        return shipped.received(
            {stock.part_number: arrived}, at=at + timedelta(days=1), by="disp-2"
        )

    return build()


def part_movements() -> st.SearchStrategy[PartMovement]:
    """Stored movements of a point's part stock; claim write-offs name the product and user."""

    @st.composite
    def build(draw: st.DrawFn) -> PartMovement:
        kind = draw(st.sampled_from(MovementKind))
        claim = kind is MovementKind.WRITTEN_OFF
        return PartMovement(
            id=f"PM-{draw(st.integers(1, 9999)):04d}",
            service_point_id=draw(st.sampled_from(["SP-WH", "SP-YC"])),
            part_number=draw(st.sampled_from(["PB-55", "FU-1", "SE-9"])),
            kind=kind,
            quantity=draw(st.integers(1, 20)),
            reference=draw(st.sampled_from(["SJ-202611-0001", "DN-7", "DB-202611-0001"])),
            at=draw(
                st.datetimes(
                    datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
                    datetime(2026, 12, 31),  # noqa: DTZ001
                    timezones=st.just(UTC),
                )
            ),
            by=draw(st.sampled_from(["tech-1", "disp-1"])),
            product_serial="SN-001" if claim else None,
            customer_id="CU-000001" if claim else None,
            note=draw(st.sampled_from(["", "checked on arrival"])),
        )

    return build()


def maintenance_plans() -> st.SearchStrategy[MaintenancePlan]:
    """Maintenance plans of a product, active or ended, with the jobs they opened."""

    @st.composite
    def build(draw: st.DrawFn) -> MaintenancePlan:
        first = draw(st.dates(date(2025, 1, 1), date(2026, 12, 1)))
        handled = draw(st.integers(0, 4))
        jobs = tuple(f"SJ-2026{n + 1:02d}-{n + 1:04d}" for n in range(handled))
        active = draw(st.booleans())
        return MaintenancePlan(
            product_serial=draw(st.sampled_from(["SN-001", "SN-002"])),
            customer_id="CU-000001",
            model=draw(st.sampled_from(["TV-55", "WM-8"])),
            frequency=draw(st.sampled_from(MaintenanceFrequency)),
            first_due=first,
            last_due=first + timedelta(days=90 * (handled - 1)) if handled else None,
            jobs=jobs,
            active=active,
            ended_on=None if active else first + timedelta(days=400),
            created_at=datetime.combine(first, datetime.min.time(), UTC) - timedelta(days=1),
            created_by="disp-1",
        )

    return build()


def point_assessments() -> st.SearchStrategy[PointAssessment]:
    """Periodic assessments of a service point: scores per criterion, their total, a grade."""

    @st.composite
    def build(draw: st.DrawFn) -> PointAssessment:
        criteria = draw(
            st.lists(
                st.sampled_from(["quality", "timeliness", "satisfaction"]), unique=True, min_size=1
            )
        )
        scores = {name: draw(st.integers(0, 40)) for name in criteria}
        start = draw(st.dates(date(2025, 1, 1), date(2026, 10, 1)))
        return PointAssessment(
            id=assessment_id("SP-YC", start),
            service_point_id="SP-YC",
            period_start=start,
            period_end=start + timedelta(days=draw(st.integers(0, 90))),
            scores=scores,
            total=sum(scores.values()),
            grade=draw(st.sampled_from(["A", "B", "C", "D"])),
            suspended=draw(st.booleans()),
            at=datetime.combine(start, datetime.min.time(), UTC) + timedelta(days=100),
            by="mgr-1",
        )

    return build()


def visit_records(
    *, technician_id: str = "tech-1", start: datetime | None = None
) -> st.SearchStrategy[VisitRecord]:
    """Complete visit records; some wait for parts (and so have not cleared the fault)."""

    @st.composite
    def build(draw: st.DrawFn) -> VisitRecord:
        arrived = start if start is not None else draw(_AT)
        waiting = draw(st.booleans())
        return VisitRecord(
            technician_id=technician_id,
            arrived_at=arrived,
            departed_at=arrived + draw(st.timedeltas(timedelta(0), timedelta(hours=6))),
            fault_found=draw(_WORD),
            cause=draw(_CAUSES),
            work_done="replaced the part",
            parts=tuple(draw(st.lists(part_uses(), max_size=2))),
            labour_minutes=draw(st.integers(0, 240)),
            fault_cleared=not waiting and draw(st.booleans()),
            parts_missing=("PB-55",) if waiting else (),
        )

    return build()


def sign_offs(*, at: datetime | None = None) -> st.SearchStrategy[SignOff]:
    """Customer sign-offs with a name, a signature reference and acceptance."""
    return st.builds(
        SignOff,
        customer_name=st.just("Zhang San"),
        signature_ref=st.just("sig/1.png"),
        accepted=st.just(True),  # noqa: FBT003 - a strategy of the value True
        at=st.just(at) if at is not None else _AT,
        feedback=st.sampled_from(["", "quick and friendly"]),
    )


def triage_results() -> st.SearchStrategy[TriageResult]:
    """Triage results of random symptoms over random fault guides."""
    return st.builds(
        triage_symptoms,
        st.lists(_WORD, max_size=3),
        model=st.sampled_from(["TV-55", "WM-8"]),
        kind=st.sampled_from(ServiceOrderKind),
        guide=st.lists(fault_entries(), max_size=4),
        kind_skill=st.none() | _SKILL,
        distance_km=st.none() | st.integers(0, 300),
    )


def charge_lines(*, currency: str = "CNY") -> st.SearchStrategy[ChargeLine]:
    """Charge lines of every kind with amounts in ``currency``."""
    return st.builds(
        ChargeLine,
        kind=st.sampled_from(ChargeKind),
        label=st.sampled_from(["call-out fee x 1", "labour 30 min", "PB-55 x 1"]),
        amount=st.decimals("0.00", "5000.00", places=2).map(lambda a: Money(a, currency)),
    )


def settlements() -> st.SearchStrategy[Settlement]:
    """Settlements whose total is the sum of their lines and whose collection fits."""

    @st.composite
    def build(draw: st.DrawFn) -> Settlement:
        lines = tuple(draw(st.lists(charge_lines(), max_size=6)))
        total = total_of(lines, "CNY")
        collected = Money(draw(st.decimals(0, total.amount, places=2)), "CNY")
        return Settlement(
            lines=lines,
            total=total,
            coverage=draw(st.sampled_from(Coverage)),
            collected=collected,
            at=draw(_AT),
            by="fin-1",
        )

    return build()


def _technician_for(order: ServiceOrder, skills: frozenset[str]) -> Technician:
    return Technician(
        id="tech-1",
        name="Li",
        service_point_id="SP-WH",
        district=order.district,
        skills=skills,
        service_areas=frozenset({order.service_area_id}),
        daily_capacity=6,
    )


_ENDS = (
    ServiceOrderStatus.RECEIVED,
    ServiceOrderStatus.TRIAGED,
    ServiceOrderStatus.RESOLVED_REMOTELY,
    ServiceOrderStatus.DISPATCHED,
    ServiceOrderStatus.EN_ROUTE,
    ServiceOrderStatus.ON_SITE,
    ServiceOrderStatus.WAITING_FOR_PARTS,
    ServiceOrderStatus.FIXED,
    ServiceOrderStatus.SIGNED_OFF,
    ServiceOrderStatus.SETTLED,
    ServiceOrderStatus.CLOSED,
    ServiceOrderStatus.CANCELLED,
)


def service_orders(
    *,
    status: st.SearchStrategy[ServiceOrderStatus] | None = None,
    policy: FieldServicePolicy | None = None,
    calendar: BusinessCalendar | None = None,
) -> st.SearchStrategy[ServiceOrder]:
    """Service orders driven through their own steps to a drawn ``status``.

    Opened with the policy's deadlines on ``calendar`` (default: an office calendar in
    Asia/Shanghai), triaged, dispatched, visited, completed, signed off, settled and
    closed as far as the status asks; cancelled and remotely resolved jobs too.
    """
    rules = policy or FieldServicePolicy()
    team = calendar or _OFFICE
    complaints = ComplaintPolicy()
    warranty = WarrantyPolicy()

    @st.composite
    def build(draw: st.DrawFn) -> ServiceOrder:
        target = draw(status if status is not None else st.sampled_from(_ENDS))
        at = draw(_AT)
        kind = draw(st.sampled_from(ServiceOrderKind))
        order = ServiceOrder.open(
            id=draw(_ID),
            kind=kind,
            source=draw(st.sampled_from(ServiceOrderSource)),
            customer_id=draw(_ID),
            product_serial=draw(_ID),
            model=draw(st.sampled_from(["TV-55", "WM-8"])),
            address="Luoyu Rd 1",
            service_area_id=draw(_AREAS),
            district="WH",
            urgency=draw(st.sampled_from(ComplaintUrgency)),
            in_warranty=draw(st.booleans()),
            at=at,
            by=_ACTOR,
            policy=rules,
            complaints=complaints,
            calendar=team,
            symptoms=draw(st.lists(_WORD, max_size=2)),
            requested_at=draw(st.none() | st.just(at + timedelta(hours=2))),
        )

        def later() -> datetime:
            nonlocal at
            at = at + draw(_STEP)
            return at

        if target is ServiceOrderStatus.RECEIVED:
            return order
        if target is ServiceOrderStatus.CANCELLED and draw(st.booleans()):
            return order.cancelled(reason="customer withdrew", at=later(), by=_ACTOR)
        result = triage_symptoms(
            order.symptoms,
            model=order.model,
            kind=kind,
            guide=rules.fault_guide,
            kind_skill=rules.skill_for(kind),
            distance_km=draw(st.none() | st.integers(0, 80)),
        )
        order = order.triaged(result, at=later(), by=_ACTOR)
        if target is ServiceOrderStatus.TRIAGED:
            return order
        if target is ServiceOrderStatus.RESOLVED_REMOTELY:
            return order.resolved_remotely(resolution="reset by phone", at=later(), by=_ACTOR)
        technician = _technician_for(order, result.skills)
        start = later()
        dispatch = Dispatch(
            technician_id=technician.id,
            service_point_id=technician.service_point_id,
            window_start=start,
            window_end=start + rules.visit_window,
            day=start.astimezone(team.zone).date(),
            at=start,
            by=_ACTOR.id,
        )
        order = order.dispatched(dispatch, technician, by=_ACTOR)
        if target is ServiceOrderStatus.DISPATCHED:
            return order
        if target is ServiceOrderStatus.CANCELLED:
            return order.cancelled(reason="customer withdrew", at=later(), by=_ACTOR)
        order = order.travelling(at=later(), by=_TECH)
        if target is ServiceOrderStatus.EN_ROUTE:
            return order
        order = order.arrived(at=later(), by=_TECH, policy=rules, calendar=team)
        if target is ServiceOrderStatus.ON_SITE:
            return order
        arrived = order.history[-1].at
        if target is ServiceOrderStatus.WAITING_FOR_PARTS:
            visit = VisitRecord(
                technician_id=technician.id,
                arrived_at=arrived,
                departed_at=later(),
                fault_found="worn part",
                work_done="ordered the part",
                fault_cleared=False,
                parts_missing=("PB-55",),
            )
            return order.with_visit(visit, at=at, by=_TECH)
        visit = VisitRecord(
            technician_id=technician.id,
            arrived_at=arrived,
            departed_at=later(),
            fault_found="worn part",
            cause=draw(_CAUSES),
            work_done="replaced the part",
            parts=tuple(draw(st.lists(part_uses(), max_size=2))),
            labour_minutes=draw(st.integers(0, 120)),
        )
        order = order.with_visit(visit, at=at, by=_TECH)
        coverage = Coverage.WARRANTY if order.in_warranty else Coverage.CUSTOMER
        lines = price_work(
            on_site_visits=len(order.visits),
            distance_km=result.distance_km,
            labour_minutes=order.labour_minutes,
            parts=visit.parts,
            coverage=coverage,
            policy=rules,
            warranty=warranty,
        )
        if coverage is Coverage.CUSTOMER:
            quote_total = total_of(lines, rules.currency)
            quote = ServiceQuote(lines=lines, total=quote_total, at=later(), by=_TECH.id)
            order = order.quoted(quote, by=_TECH)
            order = order.quote_approved(
                QuoteApproval(approved_by="Zhang San", at=later()), by=_TECH
            )
        order = order.completed(
            lines, coverage=coverage, warranty_claim_id=None, at=later(), by=_TECH, policy=rules
        )
        if target is ServiceOrderStatus.FIXED:
            return order
        sign_off = SignOff(
            customer_name="Zhang San", signature_ref="sig/1.png", accepted=True, at=later()
        )
        order = order.signed_off(sign_off, by=_TECH)
        if target is ServiceOrderStatus.SIGNED_OFF:
            return order
        total = order.charge_total or Money.zero(rules.currency)
        cash = Money(draw(st.decimals(0, total.amount, places=2)), rules.currency)
        order = order.settled(
            collected=cash, collected_by=technician.id, at=later(), by=_ACTOR, policy=rules
        )
        if target is ServiceOrderStatus.SETTLED:
            return order
        return order.closed(at=later(), by=_ACTOR)

    return build()


def cash_handovers() -> st.SearchStrategy[CashHandover]:
    """Stored hand-overs of a technician's collected cash to finance (more than zero, CNY)."""

    @st.composite
    def build(draw: st.DrawFn) -> CashHandover:
        return CashHandover(
            id=f"CH-{draw(st.integers(1, 99_999_999)):08d}",
            technician_id=draw(st.sampled_from(["tech-7", "tech-8"])),
            amount=Money(draw(st.decimals("0.01", "5000.00", places=2)), "CNY"),
            at=draw(
                st.datetimes(
                    datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
                    datetime(2026, 12, 31),  # noqa: DTZ001
                    timezones=st.just(UTC),
                )
            ),
            received_by=draw(st.sampled_from(["fin-1", "fin-2"])),
            note=draw(st.sampled_from(["", "evening hand-over"])),
        )

    return build()
