"""The demo data set: realistic, deterministic, and refused on a store that has data."""

from __future__ import annotations

import pytest

from csdomain.demo import build_demo
from csdomain.errors import RuleViolation, ValidationError
from csdomain.kinds import COMPLAINTS, ORDERS
from csdomain.store import open_store
from csdomain.testing.conformance import BackendConformance


def test_demo_covers_every_area_on_the_embedded_default() -> None:
    store = open_store("sqlite://")
    try:
        summary = build_demo(store, size="small", seed=7)
        assert summary["customers"] == 60
        assert summary["orders"] >= 200
        assert summary["orders shipped"] > 0
        assert summary["returns"] > 0
        assert summary["complaints"] >= 20
        assert summary["escalations"] > 0
        assert summary["warranty claims"] > 0
        assert summary["survey responses"] > 0
        assert summary["contact records"] > 0
        assert summary["messages queued"] > 0
        with store.unit_of_work(readonly=True) as uow:
            channels = {o.channel for o in uow.repo(ORDERS).scan()}
            kinds = {o.kind for o in uow.repo(ORDERS).scan()}
            urgencies = {c.urgency for c in uow.repo(COMPLAINTS).scan()}
        assert {str(c) for c in channels} == {"online", "phone", "dealer", "letter", "fax", "email"}
        assert {str(k) for k in kinds} == {"standard", "custom"}
        assert {str(u) for u in urgencies} == {"special", "urgent", "ordinary"}
    finally:
        store.close()


def test_demo_is_deterministic_for_a_seed() -> None:
    first, second = open_store("memory://"), open_store("memory://")
    assert build_demo(first, seed=3) == build_demo(second, seed=3)
    with first.unit_of_work(readonly=True) as a, second.unit_of_work(readonly=True) as b:
        assert a.repo(ORDERS).find() == b.repo(ORDERS).find()


def test_demo_refuses_a_store_that_already_has_data() -> None:
    store = open_store("memory://")
    build_demo(store)
    with pytest.raises(RuleViolation) as info:
        build_demo(store)
    assert info.value.code == "store_not_empty"


def test_demo_size_must_be_known() -> None:
    with pytest.raises(ValidationError):
        build_demo(open_store("memory://"), size="huge")


def test_conformance_kit_is_importable_from_the_package() -> None:
    assert BackendConformance.__name__ == "BackendConformance"


def test_history_is_written_in_bulk_and_counts_as_planned() -> None:
    from csdomain.demo import CITIES, PRODUCTS
    from csdomain.demo_history import HistoryPlan, write_history
    from csdomain.kinds import CONTACTS, CUSTOMERS, SURVEY_RESPONSES

    plan = HistoryPlan(40)
    store = open_store("sqlite://")
    try:
        written = write_history(store, plan, seed=5, products=PRODUCTS, cities=CITIES)
        assert sum(written.values()) == plan.rows
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(CUSTOMERS).count() == plan.customers
            assert uow.repo(ORDERS).count() == plan.orders
            assert uow.repo(COMPLAINTS).count() == plan.complaints
            assert uow.repo(CONTACTS).count() == plan.contacts
            assert uow.repo(SURVEY_RESPONSES).count() == plan.responses
            statuses = {str(o.status) for o in uow.repo(ORDERS).scan()}
            closed = uow.repo(COMPLAINTS).count(status="closed")
        assert {"placed", "confirmed", "paid", "shipped", "delivered", "completed"} <= statuses
        assert closed > 0
    finally:
        store.close()
