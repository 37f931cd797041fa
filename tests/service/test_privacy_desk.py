"""PrivacyDesk: erasure and export of one customer's data on request (docs/domain.md 1), on both
backends. The customer's history is built through the other desks' use cases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.customers import Customer, CustomerHandover
from csdomain.desk.base import use_cases
from csdomain.desk.complaints import ComplaintDesk
from csdomain.desk.customers import CustomerDesk
from csdomain.desk.notifications import NotificationDesk
from csdomain.desk.orders import OrderDesk
from csdomain.desk.privacy import (
    ERASED,
    MASKED,
    CustomerErased,
    PersonalDataRedactor,
    PrivacyDesk,
    _scrub_plain,
    personal_values,
    replace_whole,
    scrub,
)
from csdomain.desk.satisfaction import SatisfactionDesk
from csdomain.errors import NotFound, PermissionDenied, ValidationError
from csdomain.fieldservice import QuoteApproval, SignOff
from csdomain.fieldservice.partstock import MovementKind, PartMovement
from csdomain.kinds import (
    COMPLAINTS,
    CUSTOMER_HANDOVERS,
    CUSTOMERS,
    MESSAGES,
    ORDERS,
    PART_MOVEMENTS,
    STOCKS,
    SURVEY_RESPONSES,
)
from csdomain.money import Money
from csdomain.notify import Message, MessageStatus, NotificationPolicy
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.satisfaction import OpenQuestion, Survey, SurveyItem, SurveyResponse
from csdomain.store import OutboxEntry, Store, open_store
from csdomain.transfer import export_lines


MONDAY = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERK = Actor("li.clerk", {"specialist"})
SALES = Actor("zhang.sales", {"salesperson"})
CALLER = Actor("caller-1", {"call_team"})
CS_MANAGER = Actor("chen.csm", {"cs_manager"})
DEPT_MANAGER = Actor("zhao.dm", {"department_manager"})
WAREHOUSE = Actor("wu.wh", {"warehouse"})

NAME = "Chen Wei"
OLD_PHONE = "+86 138-0013-8000"
PHONE = "13912345678"
EMAIL = "chen.wei@example.com"
ADDRESS = "Luoyu Road 1, Wuhan"
ACCOUNT = "6222 0202 0000 1234"
REPRESENTATIVE = "Chen Da"
#: Ways the customer's data shows up in free text, none of which may survive an erasure.
NEEDLES = (
    "chen wei",
    "13800138000",
    "138 0013 8000",
    "13912345678",
    "139-1234-5678",
    "chen.wei@example.com",
    "luoyu road 1",
    "6222020200001234",
    "6222-0202-0000-1234",
    "chen da",
)
SURVEY = Survey(
    id="after-sales",
    title="After-sales satisfaction",
    items=(SurveyItem("overall", "Overall satisfaction"),),
    open_questions=(OpenQuestion("improve", "What should we improve?"),),
    overall_item="overall",
)


class Desk(CustomerDesk, OrderDesk, ComplaintDesk, SatisfactionDesk, PrivacyDesk):
    """The desks that build a customer's history, plus the privacy desk under test."""


@pytest.fixture(params=["memory://", "sqlite://"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    opened = open_store(request.param)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def desk(store: Store, clock: FixedClock) -> Desk:
    return Desk(store, clock=clock)


def export(store: Store) -> bytes:
    return b"".join(export_lines(store))


def history(desk: Desk, clock: FixedClock) -> dict[str, str]:
    """A customer with a changed phone number, an order, a complaint, a survey answer and
    messages in every state; another customer with a pending message. Returns their ids."""
    other, _ = desk.register_customer(name="Wang Fang", city="Wuhan", phone="13700000000", by=CLERK)
    customer, _ = desk.register_customer(
        name=NAME,
        city="Wuhan",
        phone=OLD_PHONE,
        email=EMAIL,
        address=ADDRESS,
        bank_account=ACCOUNT,
        legal_representative=REPRESENTATIVE,
        birthday=date(1980, 5, 17),
        by=CLERK,
    )
    clock.advance(timedelta(hours=1))
    desk.change_customer(customer.id, phone=PHONE, document="letter of 2026-09-03", by=CLERK)
    order = desk.place_order(
        customer.id,
        channel="online",
        lines=[OrderLine("AB-100", 2, Money.of("18.50", "CNY"))],
        consignee=ConsigneeInfo(NAME, OLD_PHONE, ADDRESS, invoice_title="Chen Wei Lab"),
        by=SALES,
    )
    complaint = desk.receive_complaint(
        customer.id,
        channel="phone",
        urgency="ordinary",
        category="product_quality",
        description=f"{NAME} called from 138 0013 8000: the vial leaked. Mail {EMAIL.upper()}.",
        order_id=order.id,
        by=CLERK,
    )
    desk.define_survey(SURVEY, by=CLERK)
    desk.record_survey_response(
        SurveyResponse(
            id="R-1",
            survey_id=SURVEY.id,
            customer_id=customer.id,
            answered_at=MONDAY,
            ratings={"overall": 4},
            open_answers={"improve": "Refund to 6222-0202-0000-1234, ask for chen  wei."},
        ),
        by=CALLER,
    )
    seed_messages(desk.store, customer.id, other.id)
    return {
        "customer": customer.id,
        "other": other.id,
        "order": order.id,
        "complaint": complaint.id,
    }


def message(customer_id: str, number: int, recipient: str, name: str = NAME) -> Message:
    return Message.create(
        channel="sms",
        recipient=recipient,
        kind="care",
        body=f"Dear {name}, your order is on its way ({number}).",
        at=MONDAY,
        customer_id=customer_id,
        key=f"care-{customer_id}-{number}",
    )


def seed_messages(store: Store, customer_id: str, other_id: str) -> None:
    """Pending, claimed, dead and delivered messages to the customer; one to the other."""
    lease = timedelta(minutes=5)
    once = NotificationPolicy(max_attempts=1)
    pending = message(customer_id, 1, PHONE)
    claimed = message(customer_id, 2, PHONE).claim("w1", MONDAY, lease)
    dead = message(customer_id, 3, PHONE).claim("w1", MONDAY, lease)
    dead = dead.mark_failed(f"gateway refused {PHONE}", MONDAY, once)
    delivered = message(customer_id, 4, PHONE).claim("w1", MONDAY, lease).mark_delivered(MONDAY)
    with store.unit_of_work() as uow:
        uow.repo(MESSAGES).add_many(
            [pending, claimed, dead, delivered, message(other_id, 5, "13700000000", "Wang Fang")]
        )


def mentions(data: bytes | str) -> list[str]:
    text = data.decode() if isinstance(data, bytes) else data
    return [needle for needle in NEEDLES if needle in text.lower()]


def lines_except(data: bytes, *kinds: str) -> bytes:
    """An export without the lines of ``kinds``, the counters and the trailer."""
    skip = (*(f'{{"kind":"{kind}"'.encode() for kind in kinds), b'{"counter"', b'{"end"')
    return b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(skip))


# -- erasure ------------------------------------------------------------------------------------


def test_erasure_needs_the_erase_permission(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    before = export(desk.store)
    for actor in (CLERK, DEPT_MANAGER):
        with pytest.raises(PermissionDenied):
            desk.erase_customer(ids["customer"], by=actor, reason="customer asked")
    assert export(desk.store) == before


def test_erasure_of_an_unknown_customer_is_not_found_and_writes_nothing(desk: Desk) -> None:
    before = export(desk.store)
    with pytest.raises(NotFound):
        desk.erase_customer("CU-404", by=CS_MANAGER, reason="customer asked")
    assert export(desk.store) == before


@pytest.mark.parametrize(
    ("reason", "path"),
    [
        ("", "reason"),
        ("   ", "reason"),
        ("x" * 201, "reason"),
        ("bad \ud800", "reason"),
        (7, "reason"),
    ],
)
def test_an_erasure_needs_a_short_well_formed_reason(
    desk: Desk, clock: FixedClock, reason: Any, path: str
) -> None:
    ids = history(desk, clock)
    before = export(desk.store)
    with pytest.raises(ValidationError) as info:
        desk.erase_customer(ids["customer"], by=CS_MANAGER, reason=reason)
    assert info.value.errors[0][0] == path
    assert export(desk.store) == before


def test_the_privacy_use_cases_check_the_permission_before_the_customer_id(desk: Desk) -> None:
    """Rule: an outsider learns nothing about which customer ids exist."""
    with pytest.raises(PermissionDenied):
        desk.erase_customer("CU-404", by=CLERK, reason="customer asked")
    with pytest.raises(PermissionDenied):
        desk.export_customer("CU-404", by=CLERK)
    for bad in ("", "   ", "bad\x00id", 7, "x" * 101):
        with pytest.raises(ValidationError) as info:
            desk.export_customer(bad, by=DEPT_MANAGER)  # type: ignore[arg-type]
        assert info.value.errors[0][0] == "customer_id"


def test_every_public_privacy_desk_method_is_a_use_case() -> None:
    """Rule (issue #14): erasure and export go through the one use-case skeleton."""
    found = use_cases(PrivacyDesk)
    assert set(found) == {"erase_customer", "export_customer"}
    for spec in found.values():
        assert spec.checks()


def test_erasure_empties_the_personal_fields_of_the_customer_file(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    ids = history(desk, clock)
    report = desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    with store.unit_of_work(readonly=True) as uow:
        erased = uow.repo(CUSTOMERS).get(ids["customer"])
    assert erased.id == ids["customer"]
    assert erased.code == f"ERASED-{ids['customer']}"
    assert erased.name == ERASED
    assert (erased.phone, erased.email, erased.address, erased.bank_account) == ("", "", "", "")
    assert (erased.legal_representative, erased.birthday, erased.rest_hours) == ("", None, None)
    assert erased.city == "Wuhan"
    assert [(c.field, c.old, c.new, c.by) for c in erased.changes] == [
        ("phone", ERASED, ERASED, CLERK.id)
    ]
    assert report.documents[CUSTOMERS.name] == 1
    assert report.by == CS_MANAGER.id


def test_erasure_leaves_no_personal_data_outside_orders(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    assert mentions(lines_except(export(desk.store), ORDERS.name))
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    assert mentions(lines_except(export(desk.store), ORDERS.name)) == []


def test_erasure_redacts_mentions_in_complaints_and_survey_answers(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    ids = history(desk, clock)
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    with store.unit_of_work(readonly=True) as uow:
        complaint = uow.repo(COMPLAINTS).get(ids["complaint"])
        response = uow.repo(SURVEY_RESPONSES).get("R-1")
    assert (
        complaint.description == f"{ERASED} called from {ERASED}: the vial leaked. Mail {ERASED}."
    )
    assert response.open_answers == {"improve": f"Refund to {ERASED}, ask for {ERASED}."}
    assert response.ratings == {"overall": 4}
    assert complaint.category == "product_quality"


def test_erasure_keeps_orders_and_payments_intact(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    orders_before = [
        line for line in export(desk.store).splitlines() if line.startswith(b'{"kind":"order"')
    ]
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    orders_after = [
        line for line in export(desk.store).splitlines() if line.startswith(b'{"kind":"order"')
    ]
    assert orders_after == orders_before
    assert desk.get_order(ids["order"], by=SALES).total == Money.of("37.00", "CNY")


def test_erasure_cancels_every_message_not_yet_delivered(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    ids = history(desk, clock)
    report = desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    with store.unit_of_work(readonly=True) as uow:
        found = uow.repo(MESSAGES).find(customer_id=ids["customer"])
        theirs = uow.repo(MESSAGES).find(customer_id=ids["other"])
    mine = sorted(found, key=lambda m: m.idempotency_key)
    assert [m.status for m in mine] == [
        MessageStatus.CANCELLED,
        MessageStatus.CANCELLED,
        MessageStatus.CANCELLED,
        MessageStatus.DELIVERED,
    ]
    assert report.messages_cancelled == 3
    assert {m.recipient for m in mine} == {ERASED}
    assert all(m.history[-1].note == "customer erased" for m in mine[:3])
    assert [(m.status, m.recipient) for m in theirs] == [(MessageStatus.PENDING, "13700000000")]


def test_erasure_is_logged_without_the_erased_data(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    ids = history(desk, clock)
    clock.advance(timedelta(days=1))
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    log = desk.access_log(ids["customer"], by=CLERK)
    # the file's earlier reads (register, change) are on record too: the erasure's is last
    assert [(r.actor_id, r.at, r.purpose) for r in log if r.purpose.startswith("erasure")] == [
        (CS_MANAGER.id, clock.now(), "erasure: request 2026-17")
    ]
    with store.unit_of_work(readonly=True) as uow:
        entries = uow.outbox.find(type="CustomerErased")
    assert [e.event() for e in entries] == [
        CustomerErased(
            customer_id=ids["customer"], reason="request 2026-17", at=clock.now(), by=CS_MANAGER.id
        )
    ]
    assert mentions(json.dumps([e.payload for e in entries])) == []


def test_a_second_erasure_changes_nothing_but_the_log(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="first request")
    before = lines_except(export(desk.store), "access_record", "outbox")
    again = desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="second request")
    assert (again.documents, again.messages_cancelled) == ({}, 0)
    assert lines_except(export(desk.store), "access_record", "outbox") == before


def test_erasure_redacts_events_of_types_this_process_does_not_know(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    ids = history(desk, clock)
    foreign = OutboxEntry(
        id="plugin-1",
        type="DealerVisitLogged",
        payload={"customer_id": ids["customer"], "note": f"Met {NAME} at 13800138000"},
        created_at=MONDAY,
    )
    with store.unit_of_work() as uow:
        uow.outbox.add(foreign)
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    with store.unit_of_work(readonly=True) as uow:
        assert uow.outbox.get("plugin-1").payload == {
            "customer_id": ids["customer"],
            "note": f"Met {ERASED} at {ERASED}",
        }


def test_erasure_leaves_other_customers_alone(desk: Desk, clock: FixedClock, store: Store) -> None:
    ids = history(desk, clock)
    with store.unit_of_work(readonly=True) as uow:
        other_before = uow.repo(CUSTOMERS).get(ids["other"])
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(CUSTOMERS).get(ids["other"]) == other_before


# -- export -----------------------------------------------------------------------------------


def test_export_needs_the_export_permission(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    before = export(desk.store)
    with pytest.raises(PermissionDenied):
        desk.export_customer(ids["customer"], by=CLERK)
    assert export(desk.store) == before


def test_export_holds_everything_about_the_customer_and_nothing_about_others(
    desk: Desk, clock: FixedClock
) -> None:
    ids = history(desk, clock)
    data = desk.export_customer(ids["customer"], by=DEPT_MANAGER)
    documents = data["documents"]
    assert [d["id"] for d in documents["customer"]] == [ids["customer"]]
    assert documents["customer"][0]["bank_account"] == ACCOUNT
    assert [d["id"] for d in documents["order"]] == [ids["order"]]
    assert [d["id"] for d in documents["complaint"]] == [ids["complaint"]]
    assert [d["id"] for d in documents["survey_response"]] == ["R-1"]
    assert len(documents["message"]) == 4
    assert {e["type"] for e in data["events"]} >= {
        "CustomerRegistered",
        "CustomerChanged",
        "OrderPlaced",
        "ComplaintReceived",
    }
    assert ids["other"] not in json.dumps(data)
    assert json.loads(json.dumps(data)) == data


def test_an_export_is_recorded_in_the_access_log_and_is_part_of_itself(
    desk: Desk, clock: FixedClock
) -> None:
    ids = history(desk, clock)
    data = desk.export_customer(ids["customer"], by=DEPT_MANAGER)
    log = desk.access_log(ids["customer"], by=CLERK)
    exports = [r for r in log if r.purpose == "export"]
    assert [(r.actor_id, r.purpose) for r in exports] == [(DEPT_MANAGER.id, "export")]
    # the export holds the customer's access records, its own included
    exported = {r["id"] for r in data["documents"]["access_record"]}
    assert exports[0].id in exported
    assert exported <= {r.id for r in log}


def test_an_erased_customer_exports_without_personal_data(desk: Desk, clock: FixedClock) -> None:
    ids = history(desk, clock)
    desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    data = desk.export_customer(ids["customer"], by=DEPT_MANAGER)
    del data["documents"]["order"]
    assert mentions(json.dumps(data, ensure_ascii=False)) == []


# -- the redactor -----------------------------------------------------------------------------


CUSTOMER = Customer(
    id="CU-1",
    code="Wuhan-202611-Li Na-001",
    name="Li Na",
    phone="010-8765 4321",
    bank_account="DE89 3704 0044 0532 0130 00",
)
REDACT = PersonalDataRedactor.for_customer(CUSTOMER)
SEPARATORS = st.sampled_from(["", " ", "-", ".", "(", ")", " - "])
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=30)


@given(before=WORDS, after=WORDS, seps=st.lists(SEPARATORS, min_size=9, max_size=9))
def test_a_phone_number_is_redacted_in_any_formatting(
    before: str, after: str, seps: list[str]
) -> None:
    digits = "1087654321"
    written = "".join(d + s for d, s in zip(digits, [*seps, ""], strict=True))
    for prefix in ("", "0", "+86 ", "0086-"):
        text = f"{before} {prefix}{written} {after}"
        assert re.search(r"\d", REDACT(text)) is None


@given(before=WORDS, after=WORDS, upper=st.booleans())
def test_names_and_accounts_are_redacted_whatever_the_case_or_spacing(
    before: str, after: str, upper: bool
) -> None:
    name = "LI   NA" if upper else "li na"
    account = "de89-3704-0044-0532-0130-00"
    redacted = REDACT(f"{before} {name} paid from {account} {after}")
    assert "li na" not in re.sub(r"\s+", " ", redacted.lower())
    assert re.search(r"\d", redacted) is None


def test_a_name_inside_a_longer_word_is_not_a_mention() -> None:
    assert REDACT("Linaria and Li Nanjing") == "Linaria and Li Nanjing"
    assert REDACT("Li Na.") == f"{ERASED}."


def test_scrub_leaves_ids_enums_and_staff_fields_alone() -> None:
    redact = PersonalDataRedactor.for_customer(
        Customer(id="CU-1", code="SO", name="sms", phone="13800138000")
    )
    entry = message("CU-1", 1, "13800138000")
    cleaned = scrub(entry, redact)
    assert (cleaned.channel, cleaned.customer_id, cleaned.id) == ("sms", "CU-1", entry.id)
    assert cleaned.recipient == ERASED
    assert scrub(("a", 1, None), redact) == ("a", 1, None)


def test_scrub_replaces_the_customers_signature_though_it_ends_like_a_staff_field() -> None:
    # Rule: erasure leaves nothing readable: ``signed_by`` holds the customer's own name,
    # so it is replaced whole, although ``*_by`` fields name staff and are kept.
    @attrs.frozen
    class Acceptance:
        signed_by: str
        accepted_by: str

    def keep(text: str) -> str:
        return text

    cleaned = scrub(Acceptance(signed_by="Chen Wei", accepted_by="clerk-1"), keep)
    assert cleaned == Acceptance(signed_by=ERASED, accepted_by="clerk-1")
    plain = _scrub_plain({"signed_by": "Chen Wei", "accepted_by": "clerk-1"}, keep)
    assert plain == {"signed_by": ERASED, "accepted_by": "clerk-1"}


# -- documents found by scanning, and kinds that name no customer --------------------------------


def seed_unindexed(desk: Desk, ids: dict[str, str]) -> None:
    """A part movement and a handover that name the customer without an index on it, and
    a damage application on a stock whose reason quotes the customer."""
    with desk.store.unit_of_work() as uow:
        uow.repo(PART_MOVEMENTS).add(
            PartMovement(
                id="PM-1",
                service_point_id="SP-WH",
                part_number="PB-55",
                kind=MovementKind.ISSUED,
                quantity=1,
                reference="SJ-202611-0001",
                at=MONDAY,
                by="tech-7",
                product_serial="SN-1",
                customer_id=ids["customer"],
                note=f"handed to {NAME} at {ADDRESS}",
            )
        )
        uow.repo(CUSTOMER_HANDOVERS).add(
            CustomerHandover(
                id="HO-1",
                leaving="zhang.sales",
                successor="wang.sales",
                customer_ids=(ids["customer"], ids["other"]),
                at=MONDAY,
                by="zhao.dm",
                reason=f"{NAME} asked for another manager (call {PHONE})",
            )
        )
    desk.receive_stock("AB-100", good=10, by=WAREHOUSE)
    desk.mark_damaged(
        "AB-100", 2, reason=f"crushed in {NAME}'s delivery to {ADDRESS}", by=WAREHOUSE
    )


def test_erasure_reaches_part_movements_handovers_and_damage_applications(
    desk: Desk, clock: FixedClock, store: Store
) -> None:
    # Rule: erasure reaches every document about the customer, also where no index names
    # the customer (part movements, handovers) and where the customer is only quoted (a
    # damage application's reason) (docs/domain.md 1 privacy; issue #19 item 4).
    ids = history(desk, clock)
    seed_unindexed(desk, ids)
    report = desk.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    assert {"part_movement", "customer_handover", "stock"} <= set(report.documents)
    with store.unit_of_work(readonly=True) as uow:
        movement = uow.repo(PART_MOVEMENTS).get("PM-1")
        handover = uow.repo(CUSTOMER_HANDOVERS).get("HO-1")
        stock = uow.repo(STOCKS).get("AB-100")
    assert movement.note == f"handed to {ERASED} at {ERASED}"
    assert (movement.customer_id, movement.by, movement.quantity) == (ids["customer"], "tech-7", 1)
    assert handover.reason == f"{ERASED} asked for another manager (call {ERASED})"
    assert handover.customer_ids == (ids["customer"], ids["other"])
    assert [a.reason for a in stock.applications] == [f"crushed in {ERASED}'s delivery to {ERASED}"]
    assert mentions(lines_except(export(desk.store), ORDERS.name)) == []


def test_an_export_holds_the_part_movements_but_no_handover_of_other_customers(
    desk: Desk, clock: FixedClock
) -> None:
    # Rule: an export holds everything about the customer and nothing about others
    # (docs/domain.md 1 privacy): a handover lists other customers' ids.
    ids = history(desk, clock)
    seed_unindexed(desk, ids)
    data = desk.export_customer(ids["customer"], by=DEPT_MANAGER)
    assert [d["id"] for d in data["documents"]["part_movement"]] == ["PM-1"]
    assert "customer_handover" not in data["documents"]
    assert ids["other"] not in json.dumps(data)


def test_scrub_replaces_approved_by_of_a_quote_approval_and_keeps_staff_fields() -> None:
    # Rule: a field replaced whole is chosen per class: ``approved_by`` of a quote approval
    # is the customer, ``*_by`` fields elsewhere name staff (issue #19 item 4).
    def keep(text: str) -> str:
        return text

    approval = QuoteApproval(approved_by="Dr. Liu", at=MONDAY, reference="phone 10:42")
    assert scrub(approval, keep) == attrs.evolve(approval, approved_by=ERASED)
    sign_off = SignOff(customer_name="Dr. Liu", signature_ref="sig/1.png", accepted=True, at=MONDAY)
    assert scrub(sign_off, keep).customer_name == ERASED
    movement = PartMovement(
        id="PM-1",
        service_point_id="SP-WH",
        part_number="PB-55",
        kind=MovementKind.ISSUED,
        quantity=1,
        reference="SJ-1",
        at=MONDAY,
        by="tech-7",
    )
    assert scrub(movement, keep) is movement
    assert sorted(personal_values((approval, sign_off))) == [
        ("name", "Dr. Liu"),
        ("name", "Dr. Liu"),
    ]


def test_a_signers_name_is_redacted_wherever_it_is_quoted() -> None:
    # Rule: the values of the fields replaced whole are erased in free text too (issue #19).
    redact = PersonalDataRedactor.for_customer(
        Customer(id="CU-1", code="Wuhan-202611-Li Na-001", name="Li Na"),
        also=[("name", "Dr. Liu Yang"), ("recipient", "+86 139 1111 2222")],
    )
    assert redact("ask Dr. Liu  Yang, or call 13911112222") == f"ask {ERASED}, or call {ERASED}"


# -- masked reads are not erasures --------------------------------------------------------------


class ReadingDesk(Desk, NotificationDesk):
    """The history's desks and the outbox, read as the command line's system role does."""


SYSTEM = Actor.system()


def shown_to(desk: ReadingDesk, ids: dict[str, str], by: Actor) -> list[str]:
    """Every text ``by`` is shown of the customer's complaint and messages."""
    complaint = desk.get_complaint(ids["complaint"], by=by)
    messages = [m for m in desk.outbox(by=by, status="all") if m.customer_id == ids["customer"]]
    texts = [complaint.description]
    for m in sorted(messages, key=lambda m: m.idempotency_key):
        texts += [m.recipient, m.body, m.last_error or "", *(c.note for c in m.history)]
    return texts


def test_a_redactor_writes_the_replacement_it_is_given() -> None:
    # Rule: one redactor type; the erasure writes ERASED, a masked read MASKED
    customer = Customer(id="C-1", code="C1", name=NAME, phone=PHONE)
    text = f"ask {NAME} on {PHONE}"
    assert PersonalDataRedactor.for_customer(customer)(text) == f"ask {ERASED} on {ERASED}"
    masked = PersonalDataRedactor.for_customer(customer, replacement=MASKED)
    assert masked(text) == f"ask {MASKED} on {MASKED}"
    assert MASKED != ERASED


def test_scrub_replaces_whole_fields_with_the_redactors_marker_but_keeps_erased_ones() -> None:
    # Rule: a masked read of a recipient shows MASKED; one already erased stays ERASED
    masked = PersonalDataRedactor(None, MASKED)
    assert scrub(message("C-1", 1, PHONE), masked).recipient == MASKED
    assert scrub(message("C-1", 1, ERASED), masked).recipient == ERASED
    assert scrub(message("C-1", 1, PHONE), masked, replacement=ERASED).recipient == ERASED
    assert replace_whole("", MASKED) == ""
    assert replace_whole(ERASED, MASKED) == ERASED


def test_masked_reads_show_masked_not_erased(desk: Desk, clock: FixedClock) -> None:
    # Rule: an actor without customer.read sees [masked] where the data is only hidden
    reader = ReadingDesk(desk.store, clock=clock)
    ids = history(reader, clock)
    texts = shown_to(reader, ids, SYSTEM)
    joined = " ".join(texts)
    assert mentions(joined) == []
    assert ERASED not in joined
    assert texts[0] == f"{MASKED} called from {MASKED}: the vial leaked. Mail {MASKED}."
    assert {t for t in texts[1:] if t in (PHONE, MASKED, ERASED)} == {MASKED}
    # the customer's data is still stored: whoever holds customer.read sees it
    assert NAME in reader.get_complaint(ids["complaint"], by=CLERK).description


def test_erased_documents_show_erased_to_everyone(desk: Desk, clock: FixedClock) -> None:
    # Rule: once erased, the data reads [erased] with or without customer.read, never [masked]
    reader = ReadingDesk(desk.store, clock=clock)
    ids = history(reader, clock)
    reader.erase_customer(ids["customer"], by=CS_MANAGER, reason="request 2026-17")
    for actor in (CLERK, SYSTEM):
        texts = shown_to(reader, ids, actor)
        joined = " ".join(texts)
        assert mentions(joined) == [], actor
        assert MASKED not in joined, actor
        assert texts[0] == f"{ERASED} called from {ERASED}: the vial leaked. Mail {ERASED}."
        assert ERASED in texts[1:]


@given(
    st.lists(st.sampled_from(["call", NAME, PHONE, "139-1234-5678", EMAIL, "today", ERASED])),
)
def test_no_masked_read_reveals_the_value_or_reads_as_an_erasure(words: list[str]) -> None:
    # Invariant: masking leaves no mention of the customer's data, writes only MASKED, and
    # keeps what was erased as ERASED (never more [erased] than the text had)
    customer = Customer(id="C-1", code="C1", name=NAME, phone=PHONE, email=EMAIL)
    redact = PersonalDataRedactor.for_customer(customer, replacement=MASKED)
    text = " ".join(words)
    shown = redact(text)
    assert mentions(shown) == []
    assert shown.count(ERASED) == text.count(ERASED)
    assert (MASKED in shown) == any(w not in ("call", "today", ERASED) for w in words)
