"""The demo's field service: the installed base, the service network and a month of jobs.

After the office story, the after-sales team's September plays day by day on the same
desk and clock: instruments are sold, shipped and delivered, and their product files come
from the shipped orders; older units are registered by hand. The service network has own
points and contracted ones whose contracts go through their lifecycle (one opens only in
the middle of the month, so the calls of its city wait and breach their promise), and
technicians with calendars, skills, capacities and a few days of leave. Every working day
the scheduler opens planned-maintenance and post-delivery jobs and climbs the ladders,
calls, complaints and warranty calls become service orders, the dispatch centre triages
and dispatches them, the technicians visit (parts from their point's stock, a transfer
when a point lacks a part), quote chargeable work for the customer's approval, complete
and get the customer's sign-off, and finance settles. At the end of the month the
contracted points are assessed and their statements drawn up.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.demo.office import Agenda
from csdomain.fieldservice import (
    Coverage,
    FaultEntry,
    PartUse,
    ServiceOrder,
    ServiceOrderStatus,
    ServiceRoute,
    ShippedUnit,
    SignOff,
    TransferLine,
    VisitRecord,
)
from csdomain.kinds import (
    COMPLAINTS,
    MAINTENANCE_PLANS,
    PART_TRANSFERS,
    PRODUCT_FILES,
    SERVICE_AREAS,
    SERVICE_ORDERS,
    SERVICE_POINT_ASSESSMENTS,
    SERVICE_POINTS,
    TECHNICIANS,
)
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.policy import Policy
from csdomain.service import ServiceDesk
from csdomain.warranty import PartKind, SparePart


__all__ = [
    "FAULT_GUIDE",
    "INSTRUMENTS",
    "SERVICE_DISTRICTS",
    "SERVICE_LAST_DAY",
    "SPARE_PARTS",
    "ServiceMonth",
    "demo_policy",
]

ZONE = ZoneInfo("Asia/Shanghai")
#: The last local day of the demo's service month: everything happens in September, the
#: month the operations report shows by default.
SERVICE_LAST_DAY = date(2026, 9, 29)

#: The instruments the demo sells and services: SKU -> (model, unit price in CNY).
INSTRUMENTS = {"AN-X1": ("Analyser X1", "28000.00"), "CF-20": ("Centrifuge C20", "9800.00")}
_ANALYSER, _CENTRIFUGE = "Analyser X1", "Centrifuge C20"

#: City -> (district code, region, service point ownership) of the demo's service network.
SERVICE_DISTRICTS = {
    "Beijing": ("BJ", "north", "own"),
    "Shanghai": ("SH", "east", "own"),
    "Guangzhou": ("GZ", "south", "own"),
    "Chengdu": ("CD", "west", "contracted"),
    "Wuhan": ("WH", "central", "contracted"),
    "Xian": ("XA", "northwest", "contracted"),
}
#: The contracted point that opens in the middle of the month (its calls wait till then).
_LATE_POINT = "SP-XA"
_LATE_POINT_OPENS = 8

_WORK = ("repair", "installation", "user_training", "planned_maintenance", "inspection")

#: The spare parts the service points stock (costs are the demo's own figures).
SPARE_PARTS = {
    part.part_number: part
    for part in (
        SparePart(
            part_number="PB-55",
            name="power board",
            kind=PartKind.STANDARD,
            cost=Money.of("420.00", "CNY"),
        ),
        SparePart(
            part_number="PS-02", name="pump seal", kind=PartKind.WEAR, cost=Money.of("35.00", "CNY")
        ),
        SparePart(
            part_number="LMP-3",
            name="halogen lamp",
            kind=PartKind.WEAR,
            cost=Money.of("60.00", "CNY"),
        ),
        SparePart(
            part_number="MB-55",
            name="main board",
            kind=PartKind.STANDARD,
            cost=Money.of("1800.00", "CNY"),
        ),
    )
}
#: What each point receives at the start of the month; SP-CD gets no main board.
_NO_BOARD_CITY = "Chengdu"
_FIRST_DELIVERY = {"PB-55": 4, "PS-02": 10, "LMP-3": 8, "MB-55": 1}

#: The demo's fault guide (triage): the analyser's and the centrifuge's known faults.
FAULT_GUIDE = (
    FaultEntry(
        symptom="no power",
        causes=("power board",),
        measures=("replace the power board",),
        parts=("PB-55",),
        skills={"electronics"},
    ),
    FaultEntry(
        symptom="leaking",
        causes=("pump seal",),
        measures=("replace the pump seal",),
        parts=("PS-02",),
    ),
    FaultEntry(
        symptom="weak signal",
        causes=("halogen lamp",),
        measures=("replace the lamp",),
        parts=("LMP-3",),
        models={_ANALYSER},
    ),
    FaultEntry(
        symptom="no readout",
        causes=("main board",),
        measures=("replace the main board",),
        parts=("MB-55",),
        skills={"electronics"},
    ),
    FaultEntry(symptom="error e4", causes=("wrong method settings",), route=ServiceRoute.REMOTE),
)
#: The symptoms callers report, most common first (repeated to weight the draw).
_SYMPTOMS = (
    "Leaking under the sample tray",
    "Leaking under the sample tray",
    "Weak signal on every plate",
    "No power since this morning",
    "Error E4 when a run starts",
    "No readout on the display",
    "Rattling noise during runs",
)
_SYMPTOM_FIX = {
    "Leaking": ("worn pump seal", "replaced the pump seal and tested for leaks"),
    "Weak signal": ("lamp at the end of its life", "replaced the halogen lamp, recalibrated"),
    "No power": ("burnt power board", "replaced the power board"),
    "No readout": ("dead main board", "replaced the main board and restored the settings"),
    "Rattling": ("loose rotor housing screws", "tightened and balanced the rotor housing"),
}
_CONTRACT_STEPS = ("review", "set_up", "sign", "activate")
#: The share of a day's calls that come in the afternoon, after the dispatch round (the
#: demo's own figure).
_AFTERNOON_CALLS = 1 / 3


def demo_policy() -> Policy:
    """The demo's policy: the defaults, plus its fault guide and the models that get an
    installation (both instruments) and user training (the analyser) after delivery."""
    policy = Policy()
    fieldservice = attrs.evolve(
        policy.fieldservice,
        fault_guide=FAULT_GUIDE,
        installation_models=frozenset({_ANALYSER, _CENTRIFUGE}),
        training_models=frozenset({_ANALYSER}),
    )
    return attrs.evolve(policy, fieldservice=fieldservice)


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


class _Crew:
    """The field-service actors: the dispatch centre, the network manager, finance, and
    one actor per technician (their ids are the technicians' ids)."""

    dispatcher = Actor("disp-he", {"call_team"}, "He Ping (dispatch centre)")
    manager = Actor("csm-chen", {"cs_manager"}, "Chen Jie (customer-service manager)")
    finance = Actor("fin-zhou", {"finance"}, "Zhou Yi (finance)")
    warehouse = Actor("wh-liu", {"warehouse"}, "Liu Yang (warehouse)")
    sales = Actor("sales-wang", {"salesperson"}, "Wang Lei (sales)")
    system = Actor.system("scheduler")


@attrs.define
class _Unit:
    """What the month knows of one product unit on file."""

    serial: str
    customer_id: str
    model: str
    city: str


class ServiceMonth:
    """The field-service month, played on the story's desk with its moving clock."""

    def __init__(  # noqa: PLR0917 - the story hands over its shared state
        self,
        desk: ServiceDesk,
        clock: Any,
        seed: int,
        customers: list[str],
        cities: Mapping[str, str],
        names: Mapping[str, str],
        safely: Callable[..., Any],
        *,
        agenda: Agenda | None = None,
        quality_complaints: Mapping[str, str] | None = None,
    ) -> None:
        self.desk = desk
        self.clock = clock
        #: The month's timed steps: the technicians' arrivals and departures, and the
        #: story's office work (its complaints) when the story shares its agenda.
        self.agenda = agenda or Agenda(clock)
        #: Product-quality complaints received so far by customer (the story's; without
        #: them the month looks them up in the store).
        self.quality_complaints = quality_complaints
        self.rng = random.Random(f"service-{seed}")  # noqa: S311 - demo data, not security
        self.customers = customers
        self.names = names
        self.safely = safely
        self.crew = _Crew
        self.units: list[_Unit] = []
        self.city_of = dict(cities)
        self.technicians: dict[str, Actor] = {}
        self.instrument_orders: list[tuple[str, int]] = []
        self.counts: dict[str, int] = {
            "service_calls": 0,
            "service_visits": 0,
            "service_quotes": 0,
            "follow_up_jobs": 0,
            "remote_resolutions": 0,
            "part_transfers": 0,
            "service_escalations": 0,
            "maintenance_jobs": 0,
            "delivery_jobs": 0,
        }
        self.follow_ups_due: dict[date, list[str]] = {}
        self.quote_forgotten = False
        self.signature_forgotten = False
        self.deliveries = 1
        self.complaint_escalations = 0
        self.calls = 0
        self.leaks = 0
        self.planned_visits: set[tuple[str, int]] = set()

    # -- the set-up -------------------------------------------------------------------------

    def office(self, until: datetime) -> None:
        """The agenda's steps due up to ``until``, then the clock at ``until`` (never back)."""
        self.agenda.run_until(until)
        self.clock.set(max(self.now(), until))

    def now(self) -> datetime:
        """The story clock's time."""
        moment: datetime = self.clock.now()
        return moment

    def set_up(self) -> None:
        """Areas, points (contracts through their steps), technicians, part stock, the
        instruments sold and shipped, the installed base and the maintenance plans."""
        desk, crew = self.desk, self.crew
        for city, (code, region, ownership) in SERVICE_DISTRICTS.items():
            areas = [f"{code}-1", f"{code}-2"]
            for n, area in enumerate(areas):
                half = ("north", "south")[n]
                desk.register_service_area(
                    area, name=f"{city} {half}", district=code, region=region, by=crew.manager
                )
            point = f"SP-{code}"
            desk.register_service_point(
                point,
                name=f"{city} service point",
                ownership=ownership,
                service_areas=areas,
                phone=f"400-800-{len(self.technicians):04d}",
                by=crew.manager,
            )
            steps = _CONTRACT_STEPS[:2] if point == _LATE_POINT else _CONTRACT_STEPS
            if ownership == "contracted":
                self.contract_steps(point, steps)
            self.register_technicians(city, code, point)
            if point != _LATE_POINT:
                self.stock_point(point)
        self.sell_instruments()
        self.register_older_units()
        self.plan_maintenance()

    def contract_steps(self, point: str, steps: tuple[str, ...]) -> None:
        """Take a contracted point through ``steps`` of its contract's lifecycle."""
        for step in steps:
            use_case = getattr(self.desk, f"{step}_service_point")
            use_case(point, by=self.crew.manager, note=f"{step.replace('_', ' ')} done")
            self.office(self.now() + timedelta(minutes=3))

    def register_technicians(self, city: str, code: str, point: str) -> None:
        """Two technicians per point (one at the late point); one works Saturdays too."""
        for k in range(1 if point == _LATE_POINT else 2):
            tid = f"tech-{code.lower()}-{k + 1}"
            skills = [*_WORK, "electronics"] if k == 0 else list(_WORK)
            weekdays = range(6) if code == "GZ" and k == 1 else range(5)
            self.desk.register_technician(
                tid,
                name=f"{('Wu', 'Ma', 'Sun', 'Gao', 'Lin', 'Xu')[len(self.technicians) % 6]} "
                f"({city})",
                service_point_id=point,
                skills=skills,
                daily_capacity=3 if k == 0 else 4,
                calendar=BusinessCalendar.office("Asia/Shanghai", weekdays=weekdays),
                by=self.crew.manager,
            )
            self.technicians[tid] = Actor(tid, {"technician"}, f"technician {tid}")

    def stock_point(self, point: str) -> None:
        """The point's first parts delivery, received against its note."""
        lines = [
            TransferLine(
                part=SPARE_PARTS[number], quantity=quantity * (2 if point == "SP-SH" else 1)
            )
            for number, quantity in _FIRST_DELIVERY.items()
            if not (point == "SP-CD" and number == "MB-55")
        ]
        self.desk.receive_parts(point, f"DN-{point}-01", lines, by=self.crew.manager)

    def stock_at(self, point: str) -> dict[str, int]:
        """What a point has on hand, by part number."""
        found = self.desk.find_part_stock(service_point_id=point, by=self.crew.manager)
        return {stock.part_number: stock.on_hand for stock in found}

    def sell_instruments(self) -> None:
        """Instrument orders placed, paid and shipped; the units' product files come
        from the shipped orders (delivered during the month's first days)."""
        desk, crew = self.desk, self.crew
        for sku in INSTRUMENTS:
            desk.receive_stock(sku, good=len(self.customers), by=crew.warehouse)
        buyers = self.customers[::3]
        for n, customer_id in enumerate(buyers):
            city = self.city_of[customer_id]
            sku = "AN-X1" if n % 3 else "CF-20"
            model, price = INSTRUMENTS[sku]
            order = desk.place_order(
                customer_id,
                channel="online",
                lines=[OrderLine(sku, 1, Money.of(price, "CNY"))],
                consignee=ConsigneeInfo(
                    consignee=f"Lab manager, {self.names.get(customer_id, customer_id)}",
                    phone=f"139{n:08d}",
                    address=f"Lab of customer {customer_id}, {city}",
                    postcode=f"{200000 + n:06d}",
                    invoice_title=self.names.get(customer_id, customer_id),
                ),
                salesperson=crew.sales.id,
                by=crew.sales,
            )
            desk.confirm_order(order.id, by=crew.sales)
            desk.record_payment(order.id, order.total, by=crew.finance)
            desk.ship_order(order.id, by=crew.warehouse)
            serial = f"{sku}-{n + 1:05d}"
            unit = ShippedUnit(serial=serial, sku=sku, category="instrument", model=model)
            desk.register_products_from_order(
                order.id,
                [unit],
                service_area_id=self.area_of(customer_id),
                address=f"Lab of customer {customer_id}, {city}",
                by=crew.dispatcher,
            )
            self.units.append(_Unit(serial, customer_id, model, city))
            self.instrument_orders.append((order.id, n % 3))
            self.office(self.now() + timedelta(minutes=13))

    def register_older_units(self) -> None:
        """Units sold years ago, before the product files existed, registered by hand:
        out of warranty, so their repairs are charged by the fee schedule."""
        for n, customer_id in enumerate(self.customers[1::4]):
            model = _ANALYSER if n % 2 else _CENTRIFUGE
            serial = f"OLD-{n + 1:05d}"
            self.desk.register_product_file(
                serial,
                model=model,
                category="instrument",
                customer_id=customer_id,
                service_area_id=self.area_of(customer_id),
                sold_on=date(2022 + n % 3, 1 + n % 12, 1 + n % 27),
                address=f"Lab of customer {customer_id}, {self.city_of[customer_id]}",
                by=self.crew.dispatcher,
            )
            self.units.append(_Unit(serial, customer_id, model, self.city_of[customer_id]))
            self.office(self.now() + timedelta(minutes=4))

    def plan_maintenance(self) -> None:
        """Monthly maintenance for every other analyser sold, the first visit this month."""
        today = self.now().astimezone(ZONE).date()
        analysers = [u for u in self.units if u.model == _ANALYSER and u.serial.startswith("AN")]
        for n, unit in enumerate(analysers[::2]):
            self.desk.create_maintenance_plan(
                unit.serial,
                frequency="monthly",
                first_due=today + timedelta(days=3 + n % 10),
                by=self.crew.dispatcher,
            )

    def area_of(self, customer_id: str) -> str:
        """The service area of a customer's lab: one of the two areas of its city."""
        code = SERVICE_DISTRICTS[self.city_of[customer_id]][0]
        return f"{code}-{1 + int(customer_id[-1]) % 2}"

    # -- the month ----------------------------------------------------------------------------

    def play(self, progress: Any) -> None:
        """Every day from tomorrow to the end of the service month."""
        first = self.now().astimezone(ZONE).date() + timedelta(days=1)
        days = max(0, (SERVICE_LAST_DAY - first).days + 1)
        for index in range(days):
            self.play_day(index, first + timedelta(days=index))
            if progress:
                progress.advance()

    def play_day(self, index: int, day: date) -> None:
        """One day: the scheduler, the morning calls, dispatch, the visits, the afternoon
        calls and the evening dispatch round, the evening's accounts; the office works
        in between (``office``)."""
        self.office(_local(day, time(8)))
        self.morning(index, day)
        self.visit(day)
        self.office(_local(day, time(8, 30)))
        self.take_calls(index, day)
        self.office(_local(day, time(10)))
        self.dispatch_waiting(index)
        self.visit(day)
        self.office(_local(day, time(16)))
        self.take_calls(index, day, afternoon=True)
        self.office(_local(day, time(18)))
        self.dispatch_waiting(index)
        self.office(_local(day, time(18, 30)))
        self.evening()

    def morning(self, index: int, day: date) -> None:
        """Deliveries, the contract that opens, leave, the scheduler's runs."""
        desk, crew = self.desk, self.crew
        for order_id, delivery_day in self.instrument_orders:
            if delivery_day == index:
                desk.confirm_delivery(order_id, by=crew.warehouse)
        if index == _LATE_POINT_OPENS:
            self.contract_steps(_LATE_POINT, _CONTRACT_STEPS[2:])
            self.stock_point(_LATE_POINT)
        if index == 2:
            leave = [day + timedelta(days=d) for d in range(3, 6)]
            desk.set_technician_availability("tech-bj-1", blackout_days=leave, by=crew.manager)
        run = desk.generate_maintenance_orders(by=crew.system)
        self.counts["maintenance_jobs"] += len(run.opened)
        # the scheduler looks back to its last run, yesterday morning
        delivered = desk.open_delivery_jobs(since=self.now() - timedelta(days=1), by=crew.system)
        self.counts["delivery_jobs"] += len(delivered.opened)
        self.counts["service_escalations"] += len(
            desk.escalate_overdue_service_orders(by=crew.system)
        )
        self.complaint_escalations += len(desk.escalate_overdue(by=crew.system))
        self.triage_received()

    def take_calls(self, index: int, day: date, *, afternoon: bool = False) -> None:
        """The day's calls: repairs from calls, complaints and warranty calls, and the
        faults that came back after a repair (follow-up jobs keep the first number).
        Two calls in three come in the morning; the afternoon's are dispatched in the
        evening round, for the next working day."""
        desk, crew = self.desk, self.crew
        weekend = day.weekday() >= 5
        share = _AFTERNOON_CALLS if afternoon else 1 - _AFTERNOON_CALLS
        wanted = int(share * len(self.units) / (70 if weekend else 20) + self.rng.random())
        for _ in range(wanted):
            n = self.calls
            self.calls += 1
            unit = self.units[self.rng.randrange(len(self.units))]
            symptom = self.rng.choice(_SYMPTOMS)
            chengdu = [u for u in self.units if u.city == _NO_BOARD_CITY]
            if n == 1 and chengdu:
                # a dead main board in Chengdu, whose point stocks none: a second visit
                # after a part transfer (on purpose, whatever the seed draws)
                unit, symptom = (
                    chengdu[self.rng.randrange(len(chengdu))],
                    "No readout on the display",
                )
            source, ref = "call", None
            if n % 4 == 3:
                source, ref = "warranty_claim", None
            complaint = None
            if n % 5 in {2, 4}:
                unit, complaint = self.complained_unit(unit)
            if complaint is not None:
                source, ref = "complaint", complaint
            urgency = "urgent" if weekend or n % 6 == 5 else "ordinary"
            order = self.safely(
                "open_service_order",
                desk.open_service_order,
                unit.serial,
                kind="repair",
                source=source,
                source_ref=ref,
                urgency=urgency,
                symptoms=[symptom],
                description=f"{self.names.get(unit.customer_id, 'The customer')} called: "
                f"{symptom.lower()}",
                by=crew.dispatcher,
            )
            if order is not None:
                self.counts["service_calls"] += 1
                self.triage(order.id)
            self.office(self.now() + timedelta(minutes=9))
        if afternoon:
            return
        for original in self.follow_ups_due.pop(day, []):
            first = desk.get_service_order(original, by=crew.dispatcher)
            again = desk.open_service_order(
                first.product_serial,
                kind="repair",
                symptoms=list(first.symptoms),
                description="The fault came back after the repair",
                follow_up_of=original,
                by=crew.dispatcher,
            )
            self.counts["follow_up_jobs"] += 1
            self.triage(again.id)
            self.office(self.now() + timedelta(minutes=9))
        if index % 11 == 10:
            self.cancel_one()

    def complained_unit(self, unit: _Unit) -> tuple[_Unit, str | None]:
        """A unit whose owner made a product-quality complaint, and the complaint: the
        drawn one if its owner did, else one drawn among the owners who did so far."""
        if self.quality_complaints is None:
            return unit, self.complaint_of(unit.customer_id)
        if unit.customer_id in self.quality_complaints:
            return unit, self.quality_complaints[unit.customer_id]
        owners = [u for u in self.units if u.customer_id in self.quality_complaints]
        if not owners:
            return unit, None
        picked = owners[self.rng.randrange(len(owners))]
        return picked, self.quality_complaints[picked.customer_id]

    def complaint_of(self, customer_id: str) -> str | None:
        """A product-quality complaint of the customer from the story, if there is one."""

        def first(uow: Any) -> str | None:
            for complaint in uow.repo(COMPLAINTS).scan(customer_id=customer_id, limit=5):
                if str(complaint.category) == "product_quality":
                    return str(complaint.id)
            return None

        found: str | None = self.desk.run(first, readonly=True)
        return found

    def cancel_one(self) -> None:
        """A customer withdraws a call that is not dispatched yet."""
        waiting = self.desk.find_service_orders(status="triaged", limit=1, by=self.crew.dispatcher)
        if waiting:
            self.desk.cancel_service_order(
                waiting[0].id, reason="the customer withdrew the call", by=self.crew.dispatcher
            )

    def triage_received(self) -> None:
        """Triage what came in, within the half hour of the promise; phone guidance
        clears what it can (a remote resolution, closed at once)."""
        for order in self.desk.find_service_orders(status="received", by=self.crew.dispatcher):
            self.triage(order.id)

    def triage(self, job_id: str) -> None:
        """Triage one job; resolve it by phone when the fault guide says so."""
        desk, crew = self.desk, self.crew
        self.office(self.now() + timedelta(minutes=4))
        distance = 5 + self.rng.randrange(60)
        order = desk.triage_service_order(job_id, distance_km=distance, by=crew.dispatcher)
        if order.triage is not None and order.triage.route is ServiceRoute.REMOTE:
            self.office(self.now() + timedelta(minutes=10))
            desk.resolve_service_order_remotely(
                order.id,
                resolution="guided the user to reset the method settings by phone",
                by=crew.dispatcher,
            )
            desk.close_service_order(order.id, by=crew.dispatcher)
            self.counts["remote_resolutions"] += 1

    def dispatch_waiting(self, index: int) -> None:
        """Send the best technician to every triaged job, and back to the jobs whose
        parts came (the late point's technician is refused until its contract is active)."""
        desk, crew = self.desk, self.crew
        for status in ("triaged", "waiting_for_parts"):
            for order in desk.find_service_orders(status=status, by=crew.dispatcher):
                self.dispatch(order, index)

    def dispatch(self, order: ServiceOrder, index: int) -> None:
        """Send the suggested technician; a job waiting for parts goes back once they came."""
        desk, crew = self.desk, self.crew
        waiting = order.status is ServiceOrderStatus.WAITING_FOR_PARTS
        if waiting and not self.parts_at_point(order):
            self.transfer_parts(order)
            return
        best = desk.suggest_technicians(order.id, by=crew.dispatcher).best
        technician = best.technician_id if best is not None else None
        if technician is None and order.district == "XA" and index < _LATE_POINT_OPENS:
            technician = "tech-xa-1"  # tried anyway: the contract is not active yet
        if technician is not None:
            self.safely(
                "dispatch_service_order",
                desk.dispatch_service_order,
                order.id,
                technician,
                by=crew.dispatcher,
            )
        self.office(self.now() + timedelta(minutes=2))

    def parts_at_point(self, order: ServiceOrder) -> bool:
        """Whether the job's point now has every part its last visit missed."""
        stock = self.stock_at(order.dispatches[-1].service_point_id)
        return all(stock.get(part, 0) > 0 for part in order.visits[-1].parts_missing)

    def transfer_parts(self, order: ServiceOrder) -> None:
        """Bring the missing parts to the job's point: a transfer (调拨) from the point
        with the most of them, else a new delivery from the factory."""
        desk, manager = self.desk, self.crew.manager
        point = order.dispatches[-1].service_point_id
        for part in order.visits[-1].parts_missing:
            donors = sorted(
                (-self.stock_at(other).get(part, 0), other)
                for other in (p.id for p in desk.find_service_points(status="active", by=manager))
                if other != point
            )
            if donors and donors[0][0] < -1:
                transfer = desk.ship_part_transfer(donors[0][1], point, {part: 1}, by=manager)
                self.office(self.now() + timedelta(minutes=5))
                desk.receive_part_transfer(transfer.id, by=manager)
                self.counts["part_transfers"] += 1
            else:
                self.deliveries += 1
                line = TransferLine(part=SPARE_PARTS[part], quantity=2)
                desk.receive_parts(point, f"DN-{point}-{self.deliveries:02d}", [line], by=manager)

    def visit(self, day: date) -> None:
        """Plan today's visits not planned yet: each technician arrives in the window
        booked (10 minutes in) and leaves when the work is done, on the agenda, so the
        technicians work side by side."""
        desk, crew = self.desk, self.crew
        for order in desk.find_service_orders(status="dispatched", by=crew.dispatcher):
            booking = order.dispatches[-1]
            key = (order.id, len(order.dispatches))
            if booking.day != day or key in self.planned_visits:
                continue
            self.planned_visits.add(key)
            arrival = booking.window_start + timedelta(minutes=10)
            self.agenda.plan(arrival, partial(self.arrive, order.id))

    def arrive(self, job_id: str) -> None:
        """The technician arrives and works for half an hour to an hour and a quarter."""
        order = self.desk.get_service_order(job_id, by=self.crew.dispatcher)
        actor = self.technicians[order.dispatches[-1].technician_id]
        self.desk.record_arrival(job_id, at=self.now(), by=actor)
        labour = 30 + 15 * self.rng.randrange(4)
        done = self.now() + timedelta(minutes=labour + 10)
        self.agenda.plan(done, partial(self.one_visit, job_id, labour))

    def one_visit(self, job_id: str, labour: int) -> None:
        """Diagnose, quote chargeable work, record the visit, complete, sign off."""
        desk = self.desk
        order = desk.get_service_order(job_id, by=self.crew.dispatcher)
        technician = order.dispatches[-1].technician_id
        actor = self.technicians[technician]
        assert order.arrived_at is not None  # noqa: S101 - recorded on arrival
        fault, work, parts = self.diagnosis(order)
        cause = "human_damage" if order.in_warranty and self.rng.random() < 0.15 else None
        stock = self.stock_at(order.dispatches[-1].service_point_id)
        missing = tuple(part for part in parts if stock.get(part, 0) < 1)
        departed = self.now()
        arrived = departed - timedelta(minutes=labour + 10)
        if missing:
            record = VisitRecord(
                technician_id=technician,
                arrived_at=arrived,
                departed_at=departed,
                fault_found=fault,
                work_done="diagnosed; the part is not in stock at the point",
                labour_minutes=labour,
                fault_cleared=False,
                parts_missing=missing,
            )
            desk.record_service_visit(order.id, record, by=actor)
            self.counts["service_visits"] += 1
            return
        uses = [PartUse(part=SPARE_PARTS[p]) for p in parts]
        chargeable = not order.in_warranty or cause is not None
        if chargeable and self.quote_forgotten:
            self.quote(order.id, actor, uses, labour, len(order.visits) + 1)
        record = VisitRecord(
            technician_id=technician,
            arrived_at=arrived,
            departed_at=departed,
            fault_found=fault,
            cause=cause or "performance_fault",
            work_done=work,
            parts=uses,
            labour_minutes=labour,
            attachments=(f"photos/{order.id}-{len(order.visits) + 1}.jpg",),
        )
        desk.record_service_visit(order.id, record, by=actor)
        self.counts["service_visits"] += 1
        done = self.safely(
            "complete_service_order", desk.complete_service_order, order.id, by=actor
        )
        if done is None:
            # the rules refused: the customer approves a quote first, then the work is done
            self.quote_forgotten = True
            self.quote(order.id, actor, uses, 0, len(order.visits) + 1)
            done = desk.complete_service_order(order.id, by=actor)
        self.sign_off(done, actor)
        leaked = "Leaking" in " ".join(done.symptoms) and done.follow_up_of is None
        if leaked:
            self.leaks += 1
        if leaked and self.leaks % 3 == 1:
            # one leak repair in three comes back within the week (the first one does)
            again = self.now().astimezone(ZONE).date() + timedelta(days=6)
            self.follow_ups_due.setdefault(again, []).append(done.id)

    def diagnosis(self, order: ServiceOrder) -> tuple[str, str, tuple[str, ...]]:
        """What the technician finds and does, and the parts the work takes."""
        kind = order.kind.value
        if kind != "repair":
            return "", f"{kind.replace('_', ' ')} done as planned", ()
        said = " ".join(order.symptoms)
        for start, (fault, work) in _SYMPTOM_FIX.items():
            if start in said:
                parts = order.triage.parts if order.triage is not None else ()
                return fault, work, tuple(parts)
        return "no fault found", "checked the instrument, no fault found", ()

    def quote(
        self, job_id: str, actor: Actor, uses: list[PartUse], labour: int, visits: int
    ) -> None:
        """A quote for the work, and the customer's approval of it."""
        order = self.desk.get_service_order(job_id, by=actor)
        minutes = labour + sum(v.labour_minutes for v in order.visits)
        self.desk.quote_service_order(
            job_id, parts=uses, labour_minutes=minutes, visits=visits, by=actor
        )
        name = self.names.get(order.customer_id, "the customer")
        self.desk.approve_service_quote(
            job_id, approved_by=name, reference=f"quote/{job_id}", by=actor
        )
        self.counts["service_quotes"] += 1

    def sign_off(self, done: ServiceOrder, actor: Actor) -> None:
        """The customer signs the service record (the first one forgets to sign)."""
        name = self.names.get(done.customer_id, "the customer")
        if not self.signature_forgotten:
            self.signature_forgotten = True
            unsigned = SignOff(customer_name=name, signature_ref="", accepted=True, at=self.now())
            self.safely(
                "sign_off_service_order",
                self.desk.sign_off_service_order,
                done.id,
                unsigned,
                by=actor,
            )
        signed = SignOff(
            customer_name=name,
            signature_ref=f"signatures/{done.id}.png",
            accepted=True,
            at=self.now(),
            feedback="quick and friendly"
            if self.rng.random() < 0.7
            else "came later than promised",
            satisfied=self.rng.random() < 0.85,
        )
        self.desk.sign_off_service_order(done.id, signed, by=actor)

    def evening(self) -> None:
        """Finance settles the signed-off jobs (cash collected on some chargeable ones);
        the dispatch centre closes the settled ones."""
        desk, crew = self.desk, self.crew
        for order in desk.find_service_orders(status="signed_off", by=crew.finance):
            cash = order.coverage is Coverage.CUSTOMER and self.rng.random() < 0.5
            desk.settle_service_order(
                order.id,
                collected=order.charge_total if cash else None,
                collected_by=order.dispatches[-1].technician_id if cash else None,
                by=crew.finance,
            )
            self.office(self.now() + timedelta(minutes=1))
        for order in desk.find_service_orders(status="settled", by=crew.dispatcher):
            desk.close_service_order(order.id, by=crew.dispatcher)

    # -- the end of the month -----------------------------------------------------------------

    def close_month(self) -> None:
        """The contracted points' assessments, scored from their month's jobs."""
        end = self.now().astimezone(ZONE).date()
        start = end.replace(day=1)
        jobs = self.desk.find_service_orders(by=self.crew.dispatcher)
        for point in ("SP-CD", "SP-WH", _LATE_POINT):
            mine = [j for j in jobs if j.dispatches and j.dispatches[-1].service_point_id == point]
            self.desk.assess_service_point(
                point,
                _scores(mine, self.desk.policy.fieldservice.assessment_criteria),
                period_start=start,
                period_end=end - timedelta(days=1),
                by=self.crew.manager,
            )

    def summary(self) -> dict[str, int]:
        """The month's figures, counted in the store."""
        desk, crew = self.desk, self.crew

        def count(uow: Any) -> dict[str, int]:
            jobs = list(uow.repo(SERVICE_ORDERS).scan())
            return {
                "product_files": uow.repo(PRODUCT_FILES).count(),
                "product_files_from_orders": sum(
                    1 for p in uow.repo(PRODUCT_FILES).scan() if p.order_id is not None
                ),
                "service_areas": uow.repo(SERVICE_AREAS).count(),
                "service_points": uow.repo(SERVICE_POINTS).count(),
                "technicians": uow.repo(TECHNICIANS).count(),
                "maintenance_plans": uow.repo(MAINTENANCE_PLANS).count(),
                "service_orders": len(jobs),
                "service_orders_closed": sum(1 for j in jobs if j.status.value == "closed"),
                "service_orders_cancelled": sum(1 for j in jobs if j.status.value == "cancelled"),
                "service_orders_open": sum(
                    1 for j in jobs if j.status.value not in {"closed", "cancelled"}
                ),
                "service_orders_settled": sum(1 for j in jobs if j.settlement is not None),
                "warranty_covered_jobs": sum(1 for j in jobs if j.coverage is Coverage.WARRANTY),
                "chargeable_jobs": sum(1 for j in jobs if j.coverage is Coverage.CUSTOMER),
                "warranty_claims_from_jobs": sum(1 for j in jobs if j.warranty_claim_id),
                "point_assessments": uow.repo(SERVICE_POINT_ASSESSMENTS).count(),
                "points_suspended": sum(
                    1 for p in uow.repo(SERVICE_POINTS).scan() if p.status.value == "suspended"
                ),
                "part_transfers_stored": uow.repo(PART_TRANSFERS).count(),
            }

        figures: dict[str, int] = desk.run(count, readonly=True)
        figures.pop("part_transfers_stored")
        figures.update(self.counts)
        figures["instrument_orders"] = len(self.instrument_orders)
        figures["service_breaches"] = len(
            desk.service_order_breaches(include_met=True, by=crew.manager)
        )
        return figures


def _scores(jobs: list[ServiceOrder], criteria: Mapping[str, int]) -> dict[str, int]:
    """A point's scores from its jobs: each criterion's points times the share of jobs
    that did well on it (on site in time, fixed at the first visit, a satisfied customer,
    a record with photos); parts are scored full (the stock reconciles)."""
    done = [j for j in jobs if j.fixed_at is not None]

    def share(good: int, of: int) -> float:
        return good / of if of else 1.0

    on_time = share(
        sum(1 for j in jobs if j.arrived_at is not None and j.arrived_at <= j.on_site_by),
        sum(1 for j in jobs if j.arrived_at is not None),
    )
    rates = {
        "on_time": on_time,
        "first_time_fix": share(sum(1 for j in done if len(j.visits) == 1), len(done)),
        "satisfaction": share(
            sum(1 for j in done if j.sign_off is not None and j.sign_off.satisfied),
            sum(1 for j in done if j.sign_off is not None),
        ),
        "records": share(sum(1 for j in done if j.visits[-1].attachments), len(done)),
        "parts": 1.0,
    }
    return {name: round(points * rates.get(name, 1.0)) for name, points in criteria.items()}
