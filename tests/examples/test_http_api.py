"""The example HTTP API (examples/http_api): the desk's use cases and errors over HTTP."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from csdomain import FixedClock, ServiceDesk, open_store


sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples.http_api.app import create_app


CLERK = {"X-Actor": "li.specialist"}
MANAGER = {"X-Actor": "wang.manager"}
FINANCE = {"X-Actor": "zhao.finance"}
WAREHOUSE = {"X-Actor": "sun.warehouse"}
CONSIGNEE = {
    "consignee": "Dr Chen",
    "phone": "027-87654321",
    "address": "1 Luoyu Rd, Wuhan",
    "postcode": "430074",
    "invoice_title": "Huake Lab",
}
LINE = {"sku": "AB-100", "quantity": 2, "unit_price": {"amount": "18.50", "currency": "CNY"}}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 4, 2, tzinfo=UTC))  # Friday 10:00 in Shanghai


@pytest.fixture(params=["memory://", "sqlite://"])
def client(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[TestClient]:
    desk = ServiceDesk(open_store(request.param), clock=clock)
    desk.receive_stock("AB-100", good=10, by=desk_actor("warehouse"))
    with TestClient(create_app(desk)) as test_client:
        yield test_client


def desk_actor(role: str) -> object:
    from csdomain import Actor

    return Actor(f"setup.{role}", {role})


def customer(client: TestClient) -> str:
    answer = client.post("/customers", json={"name": "Huake Lab", "city": "Wuhan"}, headers=CLERK)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_an_order_goes_from_placed_to_shipped_over_http(client: TestClient) -> None:
    # Rule: the desk's use cases over HTTP: place, confirm, pay, ship.
    body = {"customer_id": customer(client), "lines": [LINE], "consignee": CONSIGNEE}
    placed = client.post("/orders", json=body, headers=CLERK)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert client.post(f"/orders/{order_id}/confirm", headers=MANAGER).status_code == 200
    paid = client.post(
        f"/orders/{order_id}/payments",
        json={"amount": {"amount": "37.00", "currency": "CNY"}},
        headers=FINANCE,
    )
    assert paid.status_code == 200, paid.text
    shipped = client.post(f"/orders/{order_id}/shipment", json={}, headers=WAREHOUSE)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"


def test_a_refusal_of_the_rules_is_409_with_its_code(client: TestClient) -> None:
    # Rule: RuleViolation -> 409 with its stable code (payment first, then shipment).
    body = {"customer_id": customer(client), "lines": [LINE], "consignee": CONSIGNEE}
    order_id = client.post("/orders", json=body, headers=CLERK).json()["id"]
    client.post(f"/orders/{order_id}/confirm", headers=MANAGER)
    refused = client.post(f"/orders/{order_id}/shipment", json={}, headers=WAREHOUSE)
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_required"


def test_bad_input_is_422_with_the_paths(client: TestClient) -> None:
    # Rule: ValidationError -> 422 with the bad fields' paths.
    bad_line = {"sku": "AB-100", "quantity": "two", "unit_price": "18.50"}
    body = {"customer_id": customer(client), "lines": [bad_line]}
    answer = client.post("/orders", json=body, headers=CLERK)
    assert answer.status_code == 422
    paths = {error["path"] for error in answer.json()["errors"]}
    assert {"lines.0.quantity", "lines.0.unit_price"} <= paths  # as the client wrote it
    assert client.post("/customers", content=b"not json", headers=CLERK).status_code == 422


def test_a_missing_permission_is_403_and_an_unknown_id_404(client: TestClient) -> None:
    # Rule: PermissionDenied -> 403, NotFound -> 404, an unknown caller -> 401.
    body = {"customer_id": customer(client), "lines": [LINE], "consignee": CONSIGNEE}
    order_id = client.post("/orders", json=body, headers=CLERK).json()["id"]
    denied = client.post(f"/orders/{order_id}/confirm", headers=FINANCE)
    assert denied.status_code == 403
    assert denied.json()["permission"] == "order.confirm"
    missing = client.get("/orders/SO-000000-0000", headers=CLERK)
    assert missing.status_code == 404
    assert missing.json()["kind"] == "order"
    assert client.get(f"/orders/{order_id}", headers={"X-Actor": "mallory"}).status_code == 401


def test_a_complaint_comes_back_with_its_deadlines(client: TestClient) -> None:
    # Rule: a complaint's SLA deadlines are on the answer (urgent: respond within 30 min).
    body = {
        "customer_id": customer(client),
        "urgency": "urgent",
        "category": "delivery_packaging",
        "description": "one vial arrived cracked",
    }
    made = client.post("/complaints", json=body, headers=CLERK)
    assert made.status_code == 201, made.text
    again = client.get(f"/complaints/{made.json()['id']}", headers=CLERK).json()
    assert again["respond_by"] == "2026-12-04T02:30:00+00:00"


def test_a_missed_deadline_shows_on_the_complaint_and_in_the_breaches(
    client: TestClient, clock: FixedClock
) -> None:
    # Rule (docs/domain.md 3.3): an urgent complaint not answered within 30 minutes has
    # missed its response target: `breached` on the complaint, listed by GET /breaches.
    body = {
        "customer_id": customer(client),
        "urgency": "urgent",
        "category": "delivery_packaging",
        "description": "one vial arrived cracked",
    }
    complaint_id = client.post("/complaints", json=body, headers=CLERK).json()["id"]
    assert client.get(f"/complaints/{complaint_id}", headers=CLERK).json()["breached"] is False
    assert client.get("/breaches", headers=MANAGER).json() == []
    clock.advance(timedelta(minutes=31))
    assert client.get(f"/complaints/{complaint_id}", headers=CLERK).json()["breached"] is True
    listed = client.get("/breaches", headers=MANAGER)
    assert listed.status_code == 200, listed.text
    assert [(b["complaint_id"], b["target"], b["met_at"]) for b in listed.json()] == [
        (complaint_id, "respond", None)
    ]


README = Path(__file__).resolve().parents[2] / "examples" / "http_api" / "README.md"


def curl_session(text: str) -> list[tuple[str, str, dict[str, str], str | None]]:
    """The README's ``curl`` commands as (method, path, headers, body)."""
    joined = text.replace("\\\n", " ")
    calls = []
    for line in joined.splitlines():
        if not line.strip().startswith("curl "):
            continue
        words = shlex.split(line)
        method, path, headers, body = "GET", "", {}, None
        rest = iter(words[1:])
        for word in rest:
            if word == "-X":
                method = next(rest)
            elif word == "-H":
                name, _, value = next(rest).partition(":")
                headers[name.strip()] = value.strip()
            elif word == "-d":
                body = next(rest)
            elif word.startswith("localhost:8000/"):
                path = word.removeprefix("localhost:8000")
        calls.append((method, path, headers, body))
    return calls


def test_the_readme_session_runs_as_written(client: TestClient) -> None:
    # Rule: the example's README is a session that works: every curl call, in order, with
    # the status it describes (the refused shipment before the payment included).
    calls = curl_session(README.read_text(encoding="utf-8"))
    statuses = []
    for method, written, headers, body in calls:
        path = written.replace("YYYYMM", "202612")  # the month of the test's clock
        answer = client.request(method, path, headers=headers, content=body)
        statuses.append((method, path.split("/")[1], answer.status_code))
    assert statuses == [
        ("POST", "customers", 201),
        ("POST", "stock", 200),
        ("POST", "orders", 201),
        ("POST", "orders", 200),  # confirm
        ("POST", "orders", 409),  # shipment before payment: payment_required
        ("POST", "orders", 200),  # payment
        ("POST", "orders", 200),  # shipment
        ("POST", "complaints", 201),
        ("GET", "complaints", 200),
        ("GET", "breaches", 200),
    ]
