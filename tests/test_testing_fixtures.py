"""The opt-in pytest plugin for applications' own tests (csdomain.testing.fixtures)."""

from __future__ import annotations

import pytest


pytest_plugins = ["pytester"]

APP_TESTS = """
from datetime import timedelta

from csdomain import Money, OrderLine
from csdomain.kinds import CUSTOMERS


def test_a_flow_on_both_backends(csdomain_desk, csdomain_actors, csdomain_clock):
    people = csdomain_actors
    customer = csdomain_desk.register_customer(
        name="Huake", city="Wuhan", phone="027-8765 4321", by=people.specialist
    ).customer
    order = csdomain_desk.place_order(
        customer.id,
        lines=[OrderLine("AB-100", 2, Money("50", "CNY"))],
        channel="online",
        by=people.specialist,
    )
    assert order.customer_id == customer.id
    csdomain_clock.advance(timedelta(hours=1))
    assert csdomain_desk.now() - order.placed_at == timedelta(hours=1)


def test_superuser_holds_every_role(csdomain_actors):
    assert "warehouse" in csdomain_actors.superuser.roles
    assert csdomain_actors.finance.roles == {"finance"}


def test_the_demo_store_is_a_private_copy(csdomain_demo_store):
    with csdomain_demo_store.unit_of_work() as uow:
        count = uow.repo(CUSTOMERS).count()
        assert count > 0
        uow.repo(CUSTOMERS).delete(next(iter(uow.repo(CUSTOMERS).scan())).id)


def test_the_demo_store_is_fresh_again(csdomain_demo_store):
    with csdomain_demo_store.unit_of_work(readonly=True) as uow:
        assert uow.repo(CUSTOMERS).count() > 0


def test_a_desk_on_the_demo_store(csdomain_demo_desk, csdomain_actors):
    boss = csdomain_actors.superuser
    assert csdomain_demo_desk.now() == csdomain_demo_desk.store.clock.now()
    breaches = csdomain_demo_desk.breaches(by=boss, include_met=True)
    assert breaches
    complaint = csdomain_demo_desk.get_complaint(breaches[0].complaint_id, by=boss)
    assert complaint.is_breached(at=csdomain_demo_desk.now())
"""


def test_an_apps_tests_get_a_desk_on_memory_and_sqlite(pytester: pytest.Pytester) -> None:
    # Rule: the opt-in plugin gives app tests a desk (memory and SQLite), a clock, actors
    # and a seeded demo store each test may change.
    pytester.makeconftest('pytest_plugins = ["csdomain.testing.fixtures"]\n')
    pytester.makepyfile(test_app=APP_TESTS)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_a_flow_on_both_backends?memory? PASSED*",
            "*test_a_flow_on_both_backends?sqlite? PASSED*",
        ]
    )
