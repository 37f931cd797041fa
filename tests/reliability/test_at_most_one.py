"""Two desks at once cannot break an "at most one" rule, on memory, SQLite and PostgreSQL.

Issue #19 item 6. Each rule is held by a write the competing unit of work conflicts on,
never by counting and then inserting alone:

- one survey response per customer and campaign (docs/domain.md 5): the response takes
  the customer's slot of the campaign, a :class:`~csdomain.warranty.RuleGuard` added under
  a key derived from campaign and customer;
- one active warranty claim per product and fault (docs/domain.md 4): the claim takes the
  slot of its product and fault the same way;
- one number per series value: two claims filed at once get two numbers (the counter is
  written by both, the claim's number is its key).

How the two desks race:

- memory: two threads on one store whose units of work both take their snapshot before
  either writes (the clock's first reading is a rendezvous), so the commits must conflict;
- SQLite: two stores on one file, two threads released together by a start barrier
  (writers queue up);
- PostgreSQL: two stores (two connection pools) on one database, both snapshots taken
  before either writes; the server is a throwaway cluster (``csdomain_postgres.testing``)
  or ``$CSDOMAIN_POSTGRES_URL``; without one those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import csdomain.plugins
from csdomain.auth import Actor
from csdomain.clock import Clock, FixedClock
from csdomain.customers import Customer
from csdomain.desk.satisfaction import SatisfactionDesk
from csdomain.desk.warranty import WarrantyDesk
from csdomain.errors import CsDomainError, RuleViolation
from csdomain.kinds import CUSTOMERS, SURVEY_RESPONSES, WARRANTY_CLAIMS
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.store import Store, open_store
from csdomain.warranty import Cause, ProductRecord, Proof, WarrantyClaim


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
BOUGHT = date(2026, 10, 1)
AGENT = Actor("li.specialist", {"specialist"})
OTHER_AGENT = Actor("wang.specialist", {"specialist"})
SURVEY = Survey(
    id="after-sales-2026",
    title="After-sales satisfaction",
    items=(SurveyItem("overall", "Overall satisfaction"),),
)
ROUNDS = 3
TIMEOUT = 60.0
_RUN = uuid.uuid4().hex[:8]


class RendezvousClock(FixedClock):
    """A fixed clock whose first reading waits for the other desk's first reading.

    Both use cases read the clock first thing inside their unit of work, so both units
    of work have taken their snapshot before either writes: their commits must conflict.
    """

    def __init__(self, at: datetime, barrier: threading.Barrier) -> None:
        super().__init__(at)
        self.barrier = barrier
        self.readings = 0

    def now(self) -> datetime:
        self.readings += 1
        if self.readings == 1:
            self.barrier.wait(TIMEOUT)
        return super().now()


def seeded(store: Store) -> Store:
    """Customers C-1 .. C-3, the survey and nothing else."""
    with store.unit_of_work() as uow:
        for n in range(1, ROUNDS + 1):
            if uow.repo(CUSTOMERS).get_or_none(f"C-{n}") is None:
                uow.customers.add(Customer(id=f"C-{n}", code=f"C-{n}", name=f"Customer {n}"))
    desk = SatisfactionDesk(store, clock=FixedClock(MONDAY))
    desk.define_survey(SURVEY, by=AGENT)
    return store


def outcome(call: Callable[[], object], done: str) -> str:
    """``done``, or the code of the rule (or the error) that refused the call."""
    try:
        call()
    except RuleViolation as err:
        return err.code
    except CsDomainError as err:
        return type(err).__name__
    return done


Call = Callable[[Clock, Actor, int], str]


def race(call: Call, *, rendezvous: bool) -> list[str]:
    """``call`` by two desks at once (``clock, actor, which``), sorted outcomes."""
    barrier = threading.Barrier(2)
    results: queue.Queue[str] = queue.Queue()

    def run(by: Actor, which: int) -> None:
        clock: Clock = RendezvousClock(MONDAY, barrier) if rendezvous else FixedClock(MONDAY)
        if not rendezvous:
            barrier.wait(TIMEOUT)
        results.put(call(clock, by, which))

    threads = [
        threading.Thread(target=run, args=(by, which))
        for which, by in enumerate((AGENT, OTHER_AGENT))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return sorted(results.get_nowait() for _ in threads)


# -- the three rules, each raced ROUNDS times --------------------------------------------------


def answer_races(stores: tuple[Store, Store], *, rendezvous: bool) -> None:
    """Two desks record the same customer's answer to one campaign at once, each round."""
    planner = SatisfactionDesk(stores[0], clock=FixedClock(MONDAY))
    for number in range(1, ROUNDS + 1):
        customer = f"C-{number}"
        campaign = planner.plan_survey_campaign(
            SURVEY.id,
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 12, 1),
            invited=[customer],
            by=AGENT,
            campaign_id=f"SC-{_RUN}-{number}",
        )
        planner.open_survey_campaign(campaign.id, by=AGENT)

        def answer(
            clock: Clock,
            by: Actor,
            which: int,
            campaign_id: str = campaign.id,
            customer: str = customer,
        ) -> str:
            desk = SatisfactionDesk(stores[which], clock=clock)
            response = SurveyResponse(
                id=f"R-{campaign_id}-{which}",
                survey_id=SURVEY.id,
                customer_id=customer,
                answered_at=MONDAY,
                ratings={"overall": 4 + which},
                campaign_id=campaign_id,
            )
            return outcome(lambda: desk.record_survey_response(response, by=by), "recorded")

        assert race(answer, rendezvous=rendezvous) == ["already_answered", "recorded"]
        for store in stores:
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(SURVEY_RESPONSES).count(campaign_id=campaign.id) == 1


def claim(serial: str, fault: str) -> tuple[WarrantyClaim, ProductRecord]:
    facts = WarrantyClaim(
        product_serial=serial,
        category="instrument",
        purchase_date=BOUGHT,
        proof=Proof.INVOICE,
        fault_date=date(2026, 11, 1),
        cause=Cause.PERFORMANCE_FAULT,
        fault=fault,
    )
    return facts, ProductRecord(serial, "Analyser X1", "instrument", BOUGHT)


def claim_races(stores: tuple[Store, Store], *, rendezvous: bool) -> None:
    """Two desks file a claim for the same product and fault at once, each round."""
    for number in range(1, ROUNDS + 1):
        serial = f"SN-{_RUN}-{number}"

        def file(
            clock: Clock, by: Actor, which: int, serial: str = serial, number: int = number
        ) -> str:
            desk = WarrantyDesk(stores[which], clock=clock)
            facts, product = claim(serial, "E21 no power")
            submit = lambda: desk.submit_warranty_claim(  # noqa: E731
                facts, product=product, customer_id=f"C-{number}", by=by
            )
            return outcome(submit, "filed")

        assert race(file, rendezvous=rendezvous) == ["claim_already_open", "filed"]
        for store in stores:
            with store.unit_of_work(readonly=True) as uow:
                assert uow.repo(WARRANTY_CLAIMS).count(product_serial=serial) == 1


def number_races(stores: tuple[Store, Store], *, rendezvous: bool) -> None:
    """Two desks file claims for two products at once: two claims, two numbers."""
    for number in range(1, ROUNDS + 1):

        def file(clock: Clock, by: Actor, which: int, number: int = number) -> str:
            desk = WarrantyDesk(stores[which], clock=clock)
            facts, product = claim(f"SN-{_RUN}-N{number}-{which}", "E07")
            case = desk.submit_warranty_claim(facts, product=product, customer_id="C-1", by=by)
            return case.id

        numbers = race(file, rendezvous=rendezvous)
        assert len(set(numbers)) == 2
        assert all(n.startswith("WC-202611-") for n in numbers)
    with stores[0].unit_of_work(readonly=True) as uow:
        ids = [case.id for case in uow.repo(WARRANTY_CLAIMS).scan()]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == [f"WC-202611-{n:04d}" for n in range(1, len(ids) + 1)]


RULES = {"answer": answer_races, "claim": claim_races, "number": number_races}


# -- memory ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES))
def test_two_desks_on_one_memory_store_keep_each_at_most_one_rule(rule: str) -> None:
    # Rule: one response per customer and campaign, one active claim per product and
    # fault, one number per series value, even when two desks write at once
    store = seeded(open_store("memory://"))
    try:
        RULES[rule]((store, store), rendezvous=True)
    finally:
        store.close()


# -- SQLite ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES))
def test_two_desks_on_one_sqlite_file_keep_each_at_most_one_rule(tmp_path: Path, rule: str) -> None:
    # Rule: one response per customer and campaign, one active claim per product and
    # fault, one number per series value, even when two desks write at once
    url = f"sqlite:///{tmp_path / 'at-most-one.db'}"
    first = seeded(open_store(url))
    second = open_store(url)
    try:
        RULES[rule]((first, second), rendezvous=False)
    finally:
        second.close()
        first.close()


# -- PostgreSQL ------------------------------------------------------------------------------


def plugin_manager() -> Any:
    """The default plugins, plus the PostgreSQL backend until its entry point is installed."""
    import csdomain_postgres

    pm = csdomain.plugins.get_plugin_manager()
    if not pm.is_registered(csdomain_postgres) and pm.get_plugin("postgres") is None:
        pm.register(csdomain_postgres, name="postgres")
    return pm


@pytest.fixture(scope="module")
def postgres_base() -> Iterator[str]:
    from csdomain_postgres.testing import url_or_skip

    base = url_or_skip()
    yield base
    if os.environ.get("CSDOMAIN_POSTGRES_URL"):
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            for rule in RULES:
                conn.execute(f'DROP SCHEMA IF EXISTS "r{_RUN}_{rule}" CASCADE')


@pytest.mark.parametrize("rule", sorted(RULES))
def test_two_desks_on_one_postgres_database_keep_each_at_most_one_rule(
    postgres_base: str, rule: str
) -> None:
    # Rule: one response per customer and campaign, one active claim per product and
    # fault, one number per series value, even when two desks write at once
    url = f"{postgres_base}{'&' if '?' in postgres_base else '?'}schema=r{_RUN}_{rule}"
    first = seeded(open_store(url, plugin_manager=plugin_manager()))
    second = open_store(url, plugin_manager=plugin_manager())
    try:
        RULES[rule]((first, second), rendezvous=True)
    finally:
        second.close()
        first.close()
