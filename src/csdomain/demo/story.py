"""The demo's story: a month of a service team's work, played through the use cases.

``build_demo`` writes the bulk history first (:mod:`csdomain.demo.history`, medium and
large sizes only), then plays the story on a :class:`~csdomain.service.ServiceDesk` whose
clock moves forward: the orders, warranty claims, complaints and survey answers are
steps on an agenda (:mod:`csdomain.demo.office`) taken as the field-service month's days
move the clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from csdomain.auth import Actor
from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.demo.fieldservice import SERVICE_LAST_DAY, ServiceMonth, demo_policy
from csdomain.demo.history import HistoryPlan, write_history
from csdomain.demo.office import Agenda, ComplaintMonth, local
from csdomain.errors import CsDomainError, RuleViolation, ValidationError
from csdomain.kinds import (
    COMPLAINTS,
    CUSTOMERS,
    MESSAGES,
    ORDERS,
    OUTBOX,
    RETURNS,
    WARRANTY_CLAIMS,
)
from csdomain.kpi import ContactRecord
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.returns import ReceivedLine, ReturnItem
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.service import ServiceDesk
from csdomain.store import Store
from csdomain.warranty import ProductRecord, RepairRecord, WarrantyClaim


__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "CITIES",
    "CLASSES",
    "HISTORY_CUSTOMERS",
    "PRODUCTS",
    "REFUSALS",
    "SIZES",
    "START",
    "SURNAMES",
    "ProgressFactory",
    "build_demo",
    "refusal_key",
    "split_refusal_key",
]

#: Customers in the story (played through the use cases) per size; everything else in
#: the story scales with it.
SIZES = {"small": 60, "medium": 200, "large": 300}
#: Customers of the bulk-written year of history before the story (about 45 rows each:
#: ``large`` is about a million rows in total).
HISTORY_CUSTOMERS = {"small": 0, "medium": 2_200, "large": 22_000}

START = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
_ZONE = ZoneInfo("Asia/Shanghai")
CITIES = ("Beijing", "Shanghai", "Guangzhou", "Chengdu", "Wuhan", "Xian")
CLASSES = ("ordinary", "member", "vip", "dealer", "agent", "special", "member", "ordinary")
SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu")
PRODUCTS = {
    "AB-100": "18.50",
    "AB-200": "42.00",
    "AG-310": "128.00",
    "KIT-ELISA": "960.00",
    "BUF-PBS": "6.80",
    "TIP-1000": "0.35",
}
CHANNELS = ("online", "phone", "dealer", "letter", "fax", "email")
CATEGORIES = (
    "product_quality",
    "service",
    "delivery_packaging",
    "delivery_delay",
    "delivery_quantity",
    "delivery_content",
    "other",
)


#: The refusals the demo provokes on purpose, by (step, rule code): what the step tried.
#: Each is a business rule saying no, as designed; the summary counts them.
REFUSALS = {
    ("ship_order", "payment_required"): "ship_order before payment",
    ("ship_order", "balance_required"): "ship_order before a custom order's balance was paid",
    ("ship_order", "insufficient_stock"): "ship_order beyond the stock on hand",
    (
        "approve_resolution",
        "remedy_not_allowed",
    ): "approve_resolution beyond the approver's authority",
    ("record_warranty_repair", "remedy_not_allowed"): (
        "record_warranty_repair of a claim whose remedy is not a repair"
    ),
    ("dispatch_service_order", "service_point_not_active"): (
        "dispatch_service_order to a point whose contract is not active yet"
    ),
    ("complete_service_order", "quote_not_approved"): (
        "complete_service_order of chargeable work without the customer's approved quote"
    ),
    ("sign_off_service_order", "signature_required"): "sign_off_service_order without a signature",
}
_REFUSED = "refused_"


def refusal_key(step: str, code: str) -> str:
    """The summary key counting the refusals of ``step`` by the rule ``code``:
    ``refused_<step>__<code>`` (both snake_case, a double underscore between them)."""
    return f"{_REFUSED}{step}__{code}"


def split_refusal_key(key: str) -> tuple[str, str] | None:
    """The (step, code) of a refusal key; ``None`` for the other keys of the summary."""
    if not key.startswith(_REFUSED) or "__" not in key:
        return None
    step, _, code = key[len(_REFUSED) :].partition("__")
    return step, code


class ProgressFactory(Protocol):
    """What the CLI passes as ``progress``: ``Progress(label, total)`` with advance/close."""

    def __call__(self, label: str, total: int) -> Any: ...


class _Team:
    """The office story's actors, each holding the roles their steps need."""

    clerk = Actor("cs-li", {"specialist"}, "Li Na (customer service)")
    sales = Actor("sales-wang", {"salesperson"}, "Wang Lei (sales)")
    manager = Actor("mgr-zhao", {"department_manager"}, "Zhao Min (department manager)")
    cs_manager = Actor("csm-chen", {"cs_manager"}, "Chen Jie (customer-service manager)")
    vp = Actor("vp-sun", {"sales_vp"}, "Sun Hao (sales VP)")
    warehouse = Actor("wh-liu", {"warehouse"}, "Liu Yang (warehouse)")
    finance = Actor("fin-zhou", {"finance"}, "Zhou Yi (finance)")
    technician = Actor("tech-wu", {"technician"}, "Wu Gang (technician)")
    system = Actor.system("scheduler")


def _safely(
    tally: dict[str, int], label: str, step: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run a step; a business rule saying no is part of the story, counted not raised."""
    try:
        return step(*args, **kwargs)
    except CsDomainError as err:
        reason = getattr(err, "code", None) or _snake(type(err).__name__)
        key = refusal_key(label, reason)
        tally[key] = tally.get(key, 0) + 1
        return None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def build_demo(
    store: Store,
    *,
    size: str = "small",
    seed: int = 2026,
    progress: ProgressFactory | None = None,
) -> dict[str, int]:
    """Fill ``store`` with the demo data set; returns counts of what was created."""
    if size not in SIZES:
        raise ValidationError.at("size", f"must be one of {', '.join(SIZES)}")
    with store.unit_of_work(readonly=True) as uow:
        if uow.repo(CUSTOMERS).count():
            msg = f"{store.url} already holds data; build the demo in a new store"
            raise RuleViolation("store_not_empty", msg)
    tokens = random.Random(f"tokens-{seed}")  # noqa: S311 - demo data, not security
    store_tokens, store.tokens = store.tokens, lambda: f"{tokens.getrandbits(48):012x}"
    try:
        return _build(store, size, seed, progress)
    finally:
        store.tokens = store_tokens


def _build(store: Store, size: str, seed: int, progress: ProgressFactory | None) -> dict[str, int]:
    history: dict[str, int] = {}
    if HISTORY_CUSTOMERS[size]:
        history = write_history(
            store,
            HistoryPlan(HISTORY_CUSTOMERS[size]),
            seed=seed,
            products=PRODUCTS,
            cities=CITIES,
            progress=progress,
        )
    story = _DemoStory(store, size, seed, progress)
    story.receive_stock()
    story.register_customers()
    story.place_orders()
    story.handle_warranty_claims()
    story.handle_complaints()
    story.survey_and_contacts()
    story.service_month()
    return history | story.month_ends()


class _DemoStory:
    """A month of a service team's work, played on a ServiceDesk with a moving clock."""

    def __init__(self, store: Store, size: str, seed: int, progress: ProgressFactory | None):
        self.store = store
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.clock = FixedClock(START)
        self.desk = ServiceDesk(store, clock=self.clock, policy=demo_policy())
        self.team = _Team
        self.refused: dict[str, int] = {}
        self.customers_wanted = SIZES[size]
        self.progress = progress
        self.customer_ids: list[str] = []
        self.cities: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.service: ServiceMonth | None = None
        self.member_ids: set[str] = set()
        self.rest_hours: dict[str, QuietHours | None] = {}
        self.order_ids: list[str] = []
        self.shipped: list[str] = []
        self.agenda = Agenda(self.clock)
        self.office = ComplaintMonth(
            self.desk,
            self.agenda,
            seed,
            self.rest_hours,
            partial(_safely, self.refused),
            self.survey_after_complaint,
        )
        self.survey: Survey | None = None
        self.respondents: dict[str, int] = {}
        self.survey_rng = random.Random(f"survey-{seed}")  # noqa: S311 - demo data, not security
        self.claims = 0
        self.responses = 0
        self.recorded = 0

    def bar(self, label: str, total: int) -> Any:
        """A progress bar from the caller's factory, if any."""
        return self.progress(label, total) if self.progress else None

    def receive_stock(self) -> None:
        """Good, gift and a little damaged stock for every product."""
        for sku in PRODUCTS:
            self.desk.receive_stock(
                sku,
                good=self.customers_wanted * 6,
                gift=self.customers_wanted,
                by=self.team.warehouse,
            )
        self.desk.receive_stock("AG-999", damaged=3, by=self.team.warehouse)

    def register_customers(self) -> None:
        """Customers of every class in several cities, some sharing a phone number.

        A class decides credit and prices, so the clerk opens ordinary files and the
        department manager (``customer.classify``) those of members, VIPs, dealers,
        agents and special customers."""
        meter = self.bar("customers", self.customers_wanted)
        for n in range(self.customers_wanted):
            klass = CLASSES[n % len(CLASSES)]
            name = f"{self.rng.choice(SURNAMES)} {'Lab' if n % 3 else 'Biotech'} {n:04d}"
            phone = f"138{self.rng.randrange(10**8):08d}"
            if n % 29 == 28:
                phone = f"138{n - 1:08d}"
            rest = QuietHours(time(22), time(8), "Asia/Shanghai") if n % 4 == 0 else None
            customer, _warning = self.desk.register_customer(
                name=name,
                city=CITIES[n % len(CITIES)],
                customer_class=klass,
                phone=phone,
                email=f"buyer{n}@example.com",
                address=f"{n + 1} Science Road, {CITIES[n % len(CITIES)]}",
                postcode=f"{100000 + n:06d}",
                bank_account=f"6222{n:012d}",
                rest_hours=rest,
                birthday=date(1970 + n % 30, 1 + n % 12, 1 + n % 28),
                by=self.team.clerk if klass == "ordinary" else self.team.manager,
            )
            self.customer_ids.append(customer.id)
            self.cities[customer.id] = CITIES[n % len(CITIES)]
            self.names[customer.id] = name
            self.rest_hours[customer.id] = rest
            if klass in ("member", "vip"):
                self.member_ids.add(customer.id)
            if meter:
                meter.advance()
            self.clock.advance(timedelta(minutes=7))
        if meter:
            meter.close()

    def place_orders(self) -> None:
        """Orders through every channel, standard and custom, placed in the working hours
        of the month's first four weeks and moved along the lifecycle step by step on
        the agenda: confirmed within hours, paid within days, shipped, delivered and
        completed days later; every twelfth shipped order comes back as a return."""
        orders_wanted = self.customers_wanted * 4
        first = self.office.working_hours(self.clock.now() + timedelta(minutes=30))
        for n, moment in enumerate(self.month_moments(orders_wanted, first)):
            self.agenda.plan(moment, partial(self.place_order, n))

    def month_moments(self, count: int, first: datetime) -> list[datetime]:
        """``count`` moments of the working hours from ``first`` to the 26th, in order."""
        start = first.astimezone(_ZONE).date()
        days = [
            start + timedelta(days=d)
            for d in range((date(start.year, start.month, 26) - start).days + 1)
            if (start + timedelta(days=d)).weekday() < 6
        ]
        moments = []
        for n in range(count):
            day = days[n * len(days) // count]
            minute = self.rng.randrange(8 * 60 + 30, 17 * 60 + 30)
            moments.append(max(first, _local(day, time(minute // 60, minute % 60))))
        return sorted(moments)

    def place_order(self, n: int) -> None:
        """Place order ``n`` and plan its next steps."""
        customer_id = self.customer_ids[n % len(self.customer_ids)]
        channel = CHANNELS[n % len(CHANNELS)]
        skus = self.rng.sample(sorted(PRODUCTS), k=1 + n % 3)
        lines = [
            OrderLine(sku, 1 + self.rng.randrange(4), Money.of(PRODUCTS[sku], "CNY"))
            for sku in skus
        ]
        if n % 11 == 0:
            lines.append(OrderLine("TIP-1000", 10, Money.of("0.00", "CNY"), gift=True))
        if n % 37 == 5:
            lines.append(OrderLine("AG-999", 2, Money.of("300.00", "CNY")))
        custom = n % 17 == 3
        deposit = Money.total([line.amount for line in lines], "CNY") * Decimal("0.3")
        order = _safely(
            self.refused,
            "place_order",
            self.desk.place_order,
            customer_id,
            channel=channel,
            lines=lines,
            kind="custom" if custom else "standard",
            dealer_id="D-SH-01" if channel == "dealer" else None,
            contract_number=f"CT-{n:05d}" if custom else None,
            prepayment=deposit if custom else None,
            consignee=ConsigneeInfo(
                consignee="Purchasing office",
                phone="13800138000",
                address="88 Keyuan Road, Pudong, Shanghai",
                postcode="201203",
                invoice_title="Demo Biotech Co., Ltd.",
            ),
            salesperson=self.team.sales.id,
            by=self.team.sales,
        )
        if order is None:
            return
        self.order_ids.append(order.id)
        steps = _order_steps(self, order.id, n, custom, channel)
        self.chain(steps)

    def chain(self, steps: list[tuple[tuple[float, float], Callable[[], bool]]]) -> None:
        """Take ``steps`` one after another, each a random number of hours (between its
        bounds) after the one before, in working hours; a step returning false ends it."""
        if not steps:
            return
        (low, high), step = steps[0]
        later = self.clock.now() + timedelta(hours=self.rng.uniform(low, high))

        def take() -> None:
            if step():
                self.chain(steps[1:])

        self.agenda.plan(self.office.working_hours(later), take)

    def request_return(self, order_id: str, n: int) -> bool:
        """A return of one item of a shipped order (every fifth rejected)."""
        order = self.desk.get_order(order_id, by=self.team.manager)
        line = order.lines[0]
        request = _safely(
            self.refused,
            "request_return",
            self.desk.request_return,
            order.id,
            items=[ReturnItem(line.sku, 1, gift=line.gift)],
            reasons=["damaged_packaging" if n % 2 else "off_spec_content"],
            by=self.team.sales,
        )
        if request is None:
            return False
        if n % 5 == 4:
            self.desk.reject_return(
                request.id, reason="outside the return policy", by=self.team.manager
            )
            return False
        steps: list[tuple[tuple[float, float], Callable[[], bool]]] = [
            ((2, 24), lambda: bool(self.desk.approve_return(request.id, by=self.team.manager))),
            ((24, 96), lambda: self.receive_return(request.id, line, n)),
        ]
        if n % 3:
            steps.append(
                ((2, 30), lambda: bool(self.desk.close_return(request.id, by=self.team.warehouse)))
            )
        self.chain(steps)
        return True

    def receive_return(self, request_id: str, line: OrderLine, n: int) -> bool:
        """The returned item arrives at the warehouse (every other one damaged)."""
        condition = "damaged" if n % 2 else "good"
        self.desk.receive_return(
            request_id,
            [ReceivedLine(line.sku, 1, condition=condition, gift=line.gift)],
            by=self.team.warehouse,
        )
        return True

    def handle_complaints(self) -> None:
        """Complaints of every category and urgency, received over the month and handled
        step by step on the agenda (:mod:`csdomain.demo.office`), the escalation job
        running every three working hours; those received last are still open at the month's end."""
        first = self.office.working_hours(self.clock.now() + timedelta(minutes=30))
        wanted = max(20, self.customers_wanted)
        self.office.plan_receipts(wanted, self.customer_ids, CATEGORIES, first)
        self.office.plan_sweeps(first, SERVICE_LAST_DAY + timedelta(days=1))

    def handle_warranty_claims(self) -> None:
        """Warranty claims covered and excluded, some repaired, over the month."""
        wanted = max(10, self.customers_wanted // 3)
        first = self.office.working_hours(self.clock.now() + timedelta(hours=2))
        for n, moment in enumerate(self.month_moments(wanted, first)):
            self.agenda.plan(moment, partial(self.warranty_claim, n))

    def warranty_claim(self, n: int) -> None:
        """Warranty claim ``n``: submitted, evaluated, approved and repaired if covered."""
        customer_id = self.customer_ids[(n * 5) % len(self.customer_ids)]
        sold = (self.clock.now() - timedelta(days=3 + 40 * (n % 12))).date()
        cause = ("performance_fault", "performance_fault", "misuse", "human_damage")[n % 4]
        claim = WarrantyClaim(
            product_serial=f"SN{n:06d}",
            category="instrument" if n % 2 else "reagent",
            purchase_date=sold,
            proof=("invoice", "certificate", "other", "none")[n % 4],
            fault_date=self.clock.now().date(),
            cause=cause,
            certificate_serial=f"SN{n:06d}" if n % 9 else f"SN{n + 1:06d}",
            failed_repairs=n % 3,
        )
        product = ProductRecord(f"SN{n:06d}", "Analyser X1", claim.category, sold)
        case = self.desk.submit_warranty_claim(
            claim, product=product, customer_id=customer_id, by=self.team.technician
        )
        case = self.desk.evaluate_warranty_claim(case.id, by=self.team.technician)
        self.claims += 1
        if case.decision is not None and case.decision.covered and n % 2 == 0:
            self.desk.approve_warranty_claim(case.id, by=self.team.technician)
            repair = RepairRecord(
                technician=self.team.technician.id,
                at=self.clock.now(),
                work_done="Replaced the pump seal and recalibrated",
            )
            _safely(
                self.refused,
                "record_warranty_repair",
                self.desk.record_warranty_repair,
                case.id,
                repair,
                by=self.team.technician,
            )

    def survey_and_contacts(self) -> None:
        """A weighted supplier survey; two customers in three answer it over the month,
        those with a complaint a day or so after it was closed (their answers follow how
        the visit went). The contact-centre log comes in at the month's end."""
        self.survey = self.desk.define_survey(
            Survey(
                id="supplier-2026",
                title="Supplier satisfaction 2026",
                items=(
                    SurveyItem("quality", "Product quality", 0.35, "reliability"),
                    SurveyItem("price", "Price", 0.15, "tangibles"),
                    SurveyItem("delivery", "Delivery time", 0.2, "responsiveness"),
                    SurveyItem("packaging", "Packaging", 0.1, "tangibles"),
                    SurveyItem("service", "After-sales service", 0.2, "empathy"),
                ),
            ),
            by=self.team.clerk,
        )
        start = self.clock.now()
        last = _local(SERVICE_LAST_DAY, time(18))
        for n, customer_id in enumerate(self.customer_ids):
            if n % 3 == 2:
                continue
            self.respondents[customer_id] = n
            if customer_id in self.office.complainants:
                continue  # asked after their complaint is closed
            at = self.office.working_hours(start + (last - start) * self.survey_rng.random())
            self.agenda.plan(at, partial(self.answer_survey, customer_id, ""))

    def survey_after_complaint(self, customer_id: str, outcome: str) -> None:
        """A closed complaint's customer gets the survey and answers a day or three later."""
        if customer_id not in self.respondents:
            return
        later = self.clock.now() + timedelta(hours=self.survey_rng.uniform(16, 72))
        self.agenda.plan(
            self.office.working_hours(later), partial(self.answer_survey, customer_id, outcome)
        )

    def answer_survey(self, customer_id: str, outcome: str) -> None:
        """One customer's answers (once): the mood follows their complaint's visit, if any."""
        n = self.respondents.pop(customer_id, None)
        if n is None or self.survey is None:
            return
        rng = self.survey_rng
        moods = _MOODS.get(outcome, _MOODS[""])
        mood = rng.choices((5, 4, 3, 2), weights=moods)[0]
        ratings = {
            item.key: min(5, max(1, mood + rng.choice((-1, 0, 0, 0, 1))))
            for item in self.survey.items
        }
        low, high = _NPS_BY_MOOD[mood]
        self.desk.record_survey_response(
            SurveyResponse(
                id=f"SR-{n:05d}",
                survey_id=self.survey.id,
                customer_id=customer_id,
                answered_at=self.clock.now(),
                ratings=ratings,
                nps_score=rng.randint(low, high),
                repurchased=mood >= 3 and n % 4 != 0,
                would_recommend=mood >= 4,
            ),
            by=self.team.clerk,
        )
        self.responses += 1

    def record_calls(self) -> None:
        """The month's telephony log, imported at its end: calls offered over the working
        hours of every working day, most answered within 20 seconds."""
        days = [
            START.astimezone(_ZONE).date() + timedelta(days=d)
            for d in range((SERVICE_LAST_DAY - START.astimezone(_ZONE).date()).days + 1)
        ]
        days = [d for d in days if d.weekday() < 6]
        total = self.customers_wanted * 10
        contacts = []
        for n in range(total):
            day = days[n * len(days) // total]
            minute = self.rng.randrange(8 * 60 + 30, 18 * 60)
            offered = _local(day, time(minute // 60, minute % 60))
            wait = timedelta(seconds=self.rng.choice(_WAITS))
            outbound = n % 5 == 0
            abandoned = not outbound and n % 23 == 1
            connected = None if not outbound else n % 3 != 0
            unanswered = abandoned or connected is False
            contacts.append(
                ContactRecord(
                    id=f"CR-{n:06d}",
                    offered_at=offered,
                    answered_at=None if unanswered else offered + wait,
                    ended_at=offered + wait + timedelta(seconds=self.rng.randrange(120, 420)),
                    direction="outbound" if outbound else "inbound",
                    abandoned=abandoned,
                    resolved_on_first_contact=None if unanswered else n % 7 != 0,
                    agent=f"agent-{n % 6}",
                    connected=connected,
                )
            )
        self.recorded = self.desk.record_contacts(contacts, by=self.team.clerk)

    def relay_outbox(self) -> int:
        """Relay the outbox one batch at a time, as ``desk.relay_outbox`` does, with a bar."""
        with self.store.unit_of_work(readonly=True) as uow:
            pending = uow.repo(OUTBOX).count(status="pending")
        step = self.desk.policy.notifications.batch_size
        meter = self.bar("relaying the outbox", pending)
        relayed = 0
        while True:
            handled = self.desk.relay_outbox(by=self.team.system, limit=step)
            relayed += handled
            if meter:
                meter.advance(handled)
            if handled < step:
                break
        if meter:
            meter.close()
        return relayed

    def service_month(self) -> None:
        """The after-sales team's September (:mod:`csdomain.demo.fieldservice`): set up
        the next morning, then every day to the end of the service month."""
        self.run_agenda(_next_morning(self.clock.now()))
        self.service = ServiceMonth(
            self.desk,
            self.clock,
            self.seed,
            self.customer_ids,
            self.cities,
            self.names,
            partial(_safely, self.refused),
            agenda=self.agenda,
            quality_complaints=self.office.quality,
        )
        self.service.set_up()
        first = self.clock.now().astimezone(_ZONE).date() + timedelta(days=1)
        meter = self.bar("field service days", max(1, (SERVICE_LAST_DAY - first).days + 1))
        self.service.play(meter)
        if meter:
            meter.close()
        self.service.close_month()

    def run_agenda(self, until: datetime) -> None:
        """The office's steps due up to ``until``, then the clock at ``until``."""
        self.agenda.run_until(until)
        self.clock.set(max(self.clock.now(), until))

    def month_ends(self) -> dict[str, int]:
        """The last morning of the month: escalate what is overdue, relay the outbox,
        count it all (snake_case keys; refusals under :func:`refusal_key`)."""
        self.run_agenda(_next_morning(self.clock.now()))
        self.record_calls()
        escalations = len(self.desk.escalate_overdue(by=self.team.system))
        escalations += self.office.escalations
        service: dict[str, int] = {}
        if self.service is not None:
            escalations += self.service.complaint_escalations
            service = self.service.summary()
        relayed = self.relay_outbox()

        with self.store.unit_of_work(readonly=True) as uow:
            summary = {
                "customers": uow.repo(CUSTOMERS).count(),
                "members_and_vips": len(self.member_ids),
                "orders": uow.repo(ORDERS).count(),
                "orders_shipped": len(self.shipped),
                "returns": uow.repo(RETURNS).count(),
                "complaints": uow.repo(COMPLAINTS).count(),
                "complaints_left_open": sum(
                    1 for c in uow.repo(COMPLAINTS).scan() if c.status.value != "closed"
                ),
                "escalations": escalations,
                "warranty_claims": uow.repo(WARRANTY_CLAIMS).count(),
                "survey_responses": self.responses,
                "contact_records": self.recorded,
            }
            summary |= service
            summary["messages_queued"] = uow.repo(MESSAGES).count()
            summary["outbox_events_relayed"] = relayed
        summary |= dict(sorted(self.refused.items()))
        made_by_jobs = service.get("warranty_claims_from_jobs", 0)
        # internal consistency: every claim is the story's or a job's
        assert self.claims + made_by_jobs == summary["warranty_claims"]  # noqa: S101
        return summary


#: How a survey respondent feels (weights of moods 5, 4, 3, 2), by how their complaint's
#: follow-up visit went ("" for those without a complaint): project default of the demo.
_MOODS = {
    "": (30, 45, 20, 5),
    "satisfied": (35, 50, 12, 3),
    "neutral": (5, 40, 45, 10),
    "dissatisfied": (0, 15, 45, 40),
    "rejected": (5, 30, 45, 20),
}
#: The likelihood-to-recommend score (0-10) a respondent of each mood gives, lowest to highest.
_NPS_BY_MOOD = {5: (9, 10), 4: (7, 9), 3: (5, 8), 2: (2, 6)}
#: Seconds a call waits in the queue (the service level counts those within 20 s).
_WAITS = (3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 24, 38)


def _local(day: date, at: time) -> datetime:
    return local(day, at)


def _next_morning(moment: datetime) -> datetime:
    """08:00 in Shanghai on the day after ``moment``'s local day."""
    day = moment.astimezone(_ZONE).date() + timedelta(days=1)
    return datetime.combine(day, time(8), tzinfo=_ZONE).astimezone(UTC)


def _order_steps(
    story: _DemoStory, order_id: str, n: int, custom: bool, channel: str
) -> list[tuple[tuple[float, float], Callable[[], bool]]]:
    """The next steps of order ``n``, each with the hours it takes after the one before:
    stage ``n % 8`` says how far it gets (0 placed; 1 confirmed, shipping tried before
    payment; 2 paid; 3 shipped; 4-5 delivered; 6-7 completed)."""
    desk, team, refused = story.desk, _Team, story.refused
    stage = n % 8
    if stage == 0:
        return []

    def confirm() -> bool:
        if channel == "phone":
            desk.confirm_by_salesperson(order_id, by=team.sales)
        desk.confirm_order(order_id, by=team.sales)
        return True

    def ship_unpaid() -> bool:
        _safely(refused, "ship_order", desk.ship_order, order_id, by=team.warehouse)
        return False

    def pay() -> bool:
        order = desk.get_order(order_id, by=team.manager)
        if custom and order.prepayment is not None:
            desk.record_payment(order_id, order.prepayment, by=team.finance)
            return True
        desk.record_payment(order_id, order.total, by=team.finance)
        return stage > 2

    def produce() -> bool:
        desk.start_production(order_id, by=team.warehouse)
        return True

    def finish_and_pay_the_rest() -> bool:
        desk.finish_production(order_id, by=team.warehouse)
        order = desk.get_order(order_id, by=team.manager)
        if order.prepayment is not None and order.total - order.prepayment:
            desk.record_payment(order_id, order.total - order.prepayment, by=team.finance)
        return stage > 2

    def ship() -> bool:
        if _safely(refused, "ship_order", desk.ship_order, order_id, by=team.warehouse) is None:
            return False
        story.shipped.append(order_id)
        if len(story.shipped) % 12 == 1:
            returned = len(story.shipped) // 12
            story.chain([((48, 120), partial(story.request_return, order_id, returned))])
        return stage >= 4

    def deliver() -> bool:
        desk.confirm_delivery(order_id, by=team.warehouse)
        return stage >= 6

    def complete() -> bool:
        desk.complete_order(order_id, by=team.sales)
        return False

    steps: list[tuple[tuple[float, float], Callable[[], bool]]] = [((0.5, 4), confirm)]
    if stage == 1:
        return [*steps, ((0.2, 1), ship_unpaid)]
    steps.append(((4, 60), pay))
    if custom:
        steps += [((4, 24), produce), ((48, 120), finish_and_pay_the_rest)]
    return [*steps, ((4, 24), ship), ((20, 60), deliver), ((24, 96), complete)]
