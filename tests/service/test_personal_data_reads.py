"""Every read use case of the desk either records the personal data it shows or shows none.

The "must show" test of issue #19 item 1 (docs/domain.md 1: nobody reads a customer's
data without it being on record). Which use cases are reads: every use case of
:class:`~csdomain.service.ServiceDesk` (:func:`csdomain.desk.base.use_cases`) that is
``readonly``, or whose name starts with ``get_``, ``find_``, ``list_``, ``export_`` or
``overdue_``, or ends with ``_log``, ``_report``, ``_reports``, ``_plan``, ``_stats``,
``_statistics`` or ``_analysis`` (queries named after what they return); plus
``change_customer`` with no fields, which returns the whole file.

The store is seeded through the use cases with one customer whose personal data is
distinctive (name, phone, address, e-mail, bank account), an order whose consignee is that
customer, a complaint whose description holds the name, phone and e-mail, a warranty claim,
a survey response and a care schedule. Each read is called with well-typed arguments (the
boundary test's argument machinery, its ids pointing at the seeded documents) by an actor
holding every role and by a warehouse and a finance actor (no ``customer.read``). A call
fails the test when its result holds the customer's personal data and

- the actor holds every permission, but no new access record names the customer; or
- the actor lacks ``customer.read`` (it should have seen the data redacted).

A refusal (any ``CsDomainError``) passes: nothing was shown.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.desk.base import use_cases
from csdomain.errors import CsDomainError
from csdomain.kinds import ACCESS_LOG
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.serialization import converter
from csdomain.service import ServiceDesk
from csdomain.store import Store, open_store
from csdomain.warranty import Cause, ProductRecord, Proof, WarrantyClaim


def _boundary() -> ModuleType:
    """tests/reliability/test_desk_boundary.py, for its argument machinery (not its tests)."""
    name = "_desk_boundary_for_personal_data_reads"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "reliability" / "test_desk_boundary.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


BOUNDARY = _boundary()
NOW = datetime(2026, 9, 10, 9, tzinfo=UTC)
BOSS: Actor = BOUNDARY.BOSS
WAREHOUSE = Actor("zhao.wh", {"warehouse"})
FINANCE = Actor("qian.fin", {"finance"})

NAME = "Ouyang Xiaoqing"
PHONE = "13977770123"
ADDRESS = "88 Guanggu Avenue, Wuhan"
EMAIL = "ouyang.xq@example.org"
ACCOUNT = "6222 0277 0000 4455"
#: How the personal data shows in a result (lower case; the phone and account as digits).
NEEDLES = ("ouyang xiaoqing", "13977770123", "88 guanggu avenue", "ouyang.xq@example.org")
DIGITS = ("13977770123", "6222027700004455")

READ_PREFIXES = ("get_", "find_", "list_", "export_", "overdue_")
READ_SUFFIXES = ("_log", "_report", "_reports", "_plan", "_stats", "_statistics", "_analysis")


def read_use_cases() -> list[str]:
    """The desk's read use cases by the rule of the module docstring."""
    return sorted(
        name
        for name, spec in use_cases(ServiceDesk).items()
        if spec.readonly or name.startswith(READ_PREFIXES) or name.endswith(READ_SUFFIXES)
    )


READS = read_use_cases()


class Seeded:
    """The seeded store, its documents' ids and the seeding steps that failed."""

    def __init__(self, store: Store, ids: dict[str, tuple[str, ...]], problems: list[str]):
        self.store = store
        self.customer_id = ids["customer"][0]
        self.template = BOUNDARY.Template((), ids, tuple(problems))
        self.problems = problems


def _seed(store: Store) -> Seeded:
    desk = ServiceDesk(store, clock=FixedClock(NOW))
    customer, _ = desk.register_customer(
        name=NAME,
        code_name="OX",
        city="Wuhan",
        phone=PHONE,
        email=EMAIL,
        address=ADDRESS,
        bank_account=ACCOUNT,
        customer_class="member",
        birthday=date(1985, 9, 20),
        by=BOSS,
    )
    ids: dict[str, tuple[str, ...]] = {"customer": (customer.id,)}
    problems: list[str] = []

    def step(label: str, kind: str, call: Callable[[], Any], key: Callable[[Any], str]) -> None:
        try:
            ids[kind] = (key(call()),)
        except Exception as err:  # reported by a test of its own
            problems.append(f"{label}: {type(err).__name__}: {err}")

    consignee = ConsigneeInfo(NAME, PHONE, ADDRESS, "430074", f"{NAME} Lab")
    step(
        "place_order",
        "order",
        lambda: desk.place_order(
            customer.id,
            channel="online",
            lines=[OrderLine("AB-100", 2, Money.of("18.50", "CNY"))],
            consignee=consignee,
            by=BOSS,
        ),
        lambda order: order.id,
    )
    step(
        "receive_complaint",
        "complaint",
        lambda: desk.receive_complaint(
            customer.id,
            channel="phone",
            urgency="ordinary",
            category="product_quality",
            description=f"{NAME} called from {PHONE}: the vial leaked. Mail {EMAIL}.",
            by=BOSS,
        ),
        lambda complaint: complaint.id,
    )
    step(
        "submit_warranty_claim",
        "warranty_claim",
        lambda: desk.submit_warranty_claim(
            WarrantyClaim(
                product_serial="SN-OX-1",
                category="tv",
                purchase_date=date(2026, 9, 1),
                proof=Proof.INVOICE,
                fault_date=date(2026, 9, 5),
                cause=Cause.PERFORMANCE_FAULT,
            ),
            product=ProductRecord(
                serial="SN-OX-1", model="TV-55", category="tv", sold_on=date(2026, 9, 1)
            ),
            customer_id=customer.id,
            note=f"call {NAME} at {PHONE}",
            by=BOSS,
        ),
        lambda case: case.id,
    )
    survey = Survey(
        id="after-sales",
        title="After-sales satisfaction",
        items=(SurveyItem("overall", "Overall satisfaction"),),
        overall_item="overall",
    )
    step("define_survey", "survey", lambda: desk.define_survey(survey, by=BOSS), lambda s: s.id)
    step(
        "record_survey_response",
        "survey_response",
        lambda: desk.record_survey_response(
            SurveyResponse(
                id="R-OX-1",
                survey_id=survey.id,
                customer_id=customer.id,
                answered_at=NOW,
                ratings={"overall": 4},
            ),
            by=BOSS,
        ),
        lambda response: response.id,
    )
    step(
        "schedule_care",
        "message",
        lambda: desk.schedule_care(
            customer.id,
            by=BOSS,
            job_completed_on=date(2026, 9, 9),
            handed_over_on=date(2026, 9, 9),
        ),
        lambda messages: messages[0].id,
    )
    step(
        "register_service_area",
        "service_area",
        lambda: desk.register_service_area(
            "WH-EAST", name="Wuhan east", district="Wuhan", region="Hubei", by=BOSS
        ),
        lambda area: area.id,
    )
    step(
        "register_product_file",
        "product_file",
        lambda: desk.register_product_file(
            "SN-OX-2",
            model="TV-55",
            category="tv",
            customer_id=customer.id,
            service_area_id="WH-EAST",
            sold_on=date(2026, 9, 1),
            address=ADDRESS,
            by=BOSS,
        ),
        lambda product: product.serial,
    )
    step(
        "open_service_order",
        "service_order",
        lambda: desk.open_service_order(
            "SN-OX-2",
            kind="repair",
            description=f"{NAME} ({PHONE}) reports no picture",
            by=BOSS,
        ),
        lambda job: job.id,
    )
    step(
        "record_interaction",
        "interaction",
        lambda: desk.record_interaction(
            customer.id, channel="call", summary=f"{NAME} asked to be called on {PHONE}", by=BOSS
        ),
        lambda entry: entry.id,
    )
    return Seeded(store, ids, problems)


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    store = open_store("memory://")
    try:
        yield _seed(store)
    finally:
        store.close()


def shows_personal_data(result: object) -> bool:
    """Whether ``result`` holds the seeded customer's name, phone, address, e-mail or account."""
    try:
        text = repr(converter.unstructure(result))
    except Exception:  # not every result unstructures: its repr then
        text = repr(result)
    lower = text.lower()
    digits = "".join(ch for ch in text if ch.isdigit() or ch == " ").replace(" ", "")
    return any(n in lower for n in NEEDLES) or any(d in digits for d in DIGITS)


def records_of(store: Store, customer_id: str) -> int:
    with store.unit_of_work(readonly=True) as uow:
        return uow.repo(ACCESS_LOG).count(customer_id=customer_id)


def _quiet(_: str) -> None:
    """No statistics outside a hypothesis test."""


def problem_of(
    seeded: Seeded,
    name: str,
    kwargs: dict[str, Any],
    actor: Actor,
    note: Callable[[str], object] = _quiet,
) -> str | None:
    """Why calling ``name`` as ``actor`` breaks the rule, if it does (``note``: statistics)."""
    desk = ServiceDesk(seeded.store, clock=FixedClock(NOW))
    before = records_of(seeded.store, seeded.customer_id)
    try:
        result = getattr(desk, name)(**{**kwargs, "by": actor})
    except CsDomainError:
        note("refused")
        return None
    if not shows_personal_data(result):
        note("showed no personal data")
        return None
    note("showed personal data")
    if not desk.may_read_personal(actor):
        return f"{name} showed personal data to {actor.id} (no customer.read)"
    if records_of(seeded.store, seeded.customer_id) == before:
        return f"{name} showed personal data to {actor.id} without an access record"
    return None


def test_the_seeded_store_has_every_document_with_personal_data(seeded: Seeded) -> None:
    """The seeding steps worked, so the reads below meet the personal data they must guard."""
    assert not seeded.problems, "\n".join(seeded.problems)


def test_the_reads_are_found_by_the_rule() -> None:
    # Rule (issue #19 item 1): the enumeration finds the known personal-data reads.
    assert {"get_customer", "find_customers", "export_customer", "interaction_log"} <= set(READS)
    assert "change_customer" not in READS


@pytest.mark.parametrize("actor", [BOSS, WAREHOUSE, FINANCE], ids=lambda a: a.id)
def test_a_change_without_fields_shows_the_file_only_on_record(
    seeded: Seeded, actor: Actor
) -> None:
    # Rule (docs/domain.md 1, issue #19 item 1): change_customer(id) returns the whole file.
    problem = problem_of(seeded, "change_customer", {"customer_id": seeded.customer_id}, actor)
    assert problem is None, problem


@pytest.mark.parametrize("name", READS)
@pytest.mark.parametrize("actor", [BOSS, WAREHOUSE, FINANCE], ids=lambda a: a.id)
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_a_read_that_shows_personal_data_records_it_or_redacts_it(
    seeded: Seeded, name: str, actor: Actor, data: st.DataObject
) -> None:
    # Rule (docs/domain.md 1, issue #19 item 1): personal data shown is on record (who,
    # when, purpose, which customer); a role without customer.read sees it redacted.
    target = BOUNDARY.target_of(name)
    kwargs = {
        p.name: data.draw(BOUNDARY.typed(target.hints[p.name], p.name, seeded.template), p.name)
        for p in target.required()
        if p.name != "by"
    }
    problem = problem_of(seeded, name, kwargs, actor, note=event)
    assert problem is None, problem
