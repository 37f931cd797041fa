"""The whole desk flow, register -> place -> confirm -> pay -> ship, in flows per second.

Run with ``nox -s bench`` (or ``python benchmarks/bench_flow.py [--quick]``).

csdomain's side runs the five use cases of a :class:`~csdomain.service.ServiceDesk` (each
its own unit of work: permission check, argument checks, the domain step, the version
check, the outbox events and an access record per personal-data read) on ``sqlite:///``
(a file, the store's defaults) and on ``memory://``.

The baseline is the same five transactions written by hand on one ``sqlite3`` connection
with the store's durability settings and page cache (WAL, ``synchronous = normal``, 64 MiB
cache, ``secure_delete``), documents as orjson JSON, and the same checks and writes:

1. register: id and code counters, candidates sharing the phone's last 8 digits compared
   after normalising, the customer row, an access record, ``CustomerRegistered``;
2. place: the customer exists, lines are positive, the month's order number, the order
   row, an access record, ``OrderPlaced``;
3. confirm: the order is ``placed``; a version-checked update, an access record, an event;
4. pay: not over the total, ``paid`` when complete; update, access record, two events;
5. ship: paid, the remittance details complete, the customer read, each SKU's stock read
   and enough, version-checked updates of the stock and the order, access record,
   ``OrderShipped`` and one ``StockIssued`` per line (as the desk emits them).

Its tables carry the indexes csdomain's kinds declare on the same tables (seven on
customers, nine on orders, four each on access records and the outbox), which every
insert maintains; its updates set only the columns that change, as one writes by hand.
A reference row runs it with only the four indexes the five transactions use themselves.

Each repeat runs the csdomain SQLite, hand-written, csdomain memory and minimal hand-written
sides in turn, each on its own fresh file or store; medians over repeats. Target (issue #15
item 8): each csdomain side at most 1.5x the hand-written time (with the same indexes), i.e.
at least 0.67x its flows per second.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from csdomain.auth import Actor
from csdomain.clock import FixedClock
from csdomain.money import Money
from csdomain.orders import ConsigneeInfo, OrderLine
from csdomain.service import ServiceDesk
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, print_table


AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
#: One actor holding every role the flow needs (so every step is allowed and on record).
CLERK = Actor("li.clerk", {"specialist", "salesperson", "warehouse", "finance"})
SKUS = ("SKU-00001", "SKU-00002", "SKU-00003")
PRICES = ("10.50", "99.00", "1250.00")
CONSIGNEE = {
    "consignee": "采购部 王经理",
    "phone": "13800138000",
    "address": "上海市浦东新区张江高科技园区 科苑路 88 号 3 号楼",
    "postcode": "201203",
    "invoice_title": "上海某某生物科技有限公司",
}
_NON_DIGITS = re.compile(r"\D")


class Refused(Exception):
    """A rule the hand-written version checks failed."""


def _phone(raw: str) -> str:
    digits = _NON_DIGITS.sub("", raw)
    return digits.removeprefix("00").removeprefix("86").removeprefix("0")


class HandWritten:
    """The five transactions by hand on ``sqlite3``, as a competent user would write them."""

    SCHEMA = """
    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE customer (id TEXT PRIMARY KEY, version INTEGER NOT NULL, code TEXT NOT NULL,
                           phone_tail TEXT, bank_account_key TEXT, customer_class TEXT,
                           city TEXT, account_manager TEXT, first_contact_due TEXT,
                           doc BLOB NOT NULL);
    CREATE TABLE orders (id TEXT PRIMARY KEY, version INTEGER NOT NULL,
                         customer_id TEXT NOT NULL, status TEXT NOT NULL, channel TEXT,
                         kind TEXT, dealer_id TEXT, salesperson TEXT, placed_at TEXT,
                         delivered_at TEXT, doc BLOB NOT NULL);
    CREATE TABLE stock (sku TEXT PRIMARY KEY, version INTEGER NOT NULL, good INTEGER NOT NULL);
    CREATE TABLE access_log (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL,
                             actor TEXT NOT NULL, purpose TEXT NOT NULL, at TEXT NOT NULL);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,
                         created_at TEXT NOT NULL, doc BLOB NOT NULL);
    """
    #: The indexes the five transactions need themselves (the duplicate-phone lookup, the
    #: relay's pending events): the reference row.
    MINIMAL_INDEXES = """
    CREATE INDEX customer_phone_tail ON customer (phone_tail);
    CREATE INDEX customer_code ON customer (code);
    CREATE INDEX orders_customer_status ON orders (customer_id, status);
    CREATE INDEX outbox_status ON outbox (status, created_at);
    """
    #: The indexes csdomain's kinds declare on the same tables (what the desk's other
    #: queries and the reports use: orders by status, salesperson or day, access records
    #: by customer, the outbox by type...): the same index upkeep on every write.
    MATCHED_INDEXES = """
    CREATE INDEX customer_code ON customer (code);
    CREATE INDEX customer_phone_tail ON customer (phone_tail);
    CREATE INDEX customer_bank_account_key ON customer (bank_account_key);
    CREATE INDEX customer_customer_class ON customer (customer_class);
    CREATE INDEX customer_city ON customer (city);
    CREATE INDEX customer_account_manager ON customer (account_manager);
    CREATE INDEX customer_first_contact_due ON customer (first_contact_due);
    CREATE INDEX orders_customer_id ON orders (customer_id);
    CREATE INDEX orders_status ON orders (status);
    CREATE INDEX orders_channel ON orders (channel);
    CREATE INDEX orders_kind ON orders (kind);
    CREATE INDEX orders_dealer_id ON orders (dealer_id);
    CREATE INDEX orders_salesperson ON orders (salesperson);
    CREATE INDEX orders_placed_at ON orders (placed_at);
    CREATE INDEX orders_delivered_at ON orders (delivered_at);
    CREATE INDEX orders_customer_status ON orders (customer_id, status);
    CREATE INDEX access_log_customer_id ON access_log (customer_id);
    CREATE INDEX access_log_actor ON access_log (actor);
    CREATE INDEX access_log_at ON access_log (at);
    CREATE INDEX access_log_customer_at ON access_log (customer_id, at);
    CREATE INDEX outbox_status ON outbox (status);
    CREATE INDEX outbox_type ON outbox (type);
    CREATE INDEX outbox_created_at ON outbox (created_at);
    CREATE INDEX outbox_status_created ON outbox (status, created_at);
    """

    def __init__(self, path: Path, *, matched_indexes: bool = True) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "busy_timeout = 30000",
            "journal_mode = wal",
            "synchronous = normal",
            "cache_size = -65536",
            "secure_delete = ON",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.executescript(self.SCHEMA)
        self.conn.executescript(self.MATCHED_INDEXES if matched_indexes else self.MINIMAL_INDEXES)
        with self.tx() as conn:
            conn.executemany(
                "INSERT INTO stock (sku, version, good) VALUES (?, 1, ?)",
                [(sku, 10**9) for sku in SKUS],
            )

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _next(self, conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute(
            "INSERT INTO counter (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def _record(self, conn: sqlite3.Connection, customer_id: str, by: str, purpose: str) -> None:
        conn.execute(
            "INSERT INTO access_log (customer_id, actor, purpose, at) VALUES (?, ?, ?, ?)",
            (customer_id, by, purpose, AT.isoformat()),
        )

    def _emit(self, conn: sqlite3.Connection, kind: str, **fields: Any) -> None:
        doc = orjson.dumps({"type": kind, "at": AT, "by": CLERK.id, **fields})
        conn.execute(
            "INSERT INTO outbox (type, status, created_at, doc) VALUES (?, 'pending', ?, ?)",
            (kind, AT.isoformat(), doc),
        )

    def _order(self, conn: sqlite3.Connection, order_id: str) -> tuple[int, dict[str, Any]]:
        row = conn.execute("SELECT version, doc FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise Refused("not_found")
        return int(row[0]), orjson.loads(row[1])

    def _save(self, conn: sqlite3.Connection, order: dict[str, Any], version: int) -> None:
        done = conn.execute(
            "UPDATE orders SET version = version + 1, status = ?, doc = ? "
            "WHERE id = ? AND version = ?",
            (order["status"], orjson.dumps(order), order["id"], version),
        )
        if done.rowcount != 1:
            raise Refused("concurrency_conflict")

    def _step(self, order: dict[str, Any], to: str) -> None:
        order["history"].append({"from": order["status"], "to": to, "at": AT, "by": CLERK.id})
        order["status"] = to

    def register(self, name: str, city: str, phone: str) -> str:
        name, city = name.strip(), city.strip()
        if not name or not city:
            raise Refused("name and city are required")
        normal = _phone(phone)
        with self.tx() as conn:
            customer_id = f"CU-{self._next(conn, 'customer_id'):06d}"
            month = f"{AT:%Y%m}"
            serial = self._next(conn, f"customer_code:{city}:{month}")
            code = f"{city}-{month}-{name}-{serial:03d}"
            shared = [
                other
                for other, doc in conn.execute(
                    "SELECT id, doc FROM customer WHERE phone_tail = ?", (normal[-8:],)
                )
                if _phone(orjson.loads(doc)["phone"]) == normal
            ]
            doc = {
                "id": customer_id,
                "code": code,
                "name": name,
                "city": city,
                "phone": phone,
                "customer_class": "ordinary",
                "history": [{"event": "registered", "at": AT, "by": CLERK.id}],
                "duplicates": shared,
            }
            conn.execute(
                "INSERT INTO customer (id, version, code, phone_tail, bank_account_key, "
                "customer_class, city, account_manager, first_contact_due, doc) "
                "VALUES (?, 1, ?, ?, NULL, 'ordinary', ?, NULL, NULL, ?)",
                (customer_id, code, normal[-8:], city, orjson.dumps(doc)),
            )
            self._record(conn, customer_id, CLERK.id, "register")
            self._emit(conn, "CustomerRegistered", customer_id=customer_id, code=code)
        return customer_id

    def place(self, customer_id: str, lines: list[tuple[str, int, str]]) -> str:
        if not lines or any(q <= 0 or Decimal(p) < 0 for _, q, p in lines):
            raise Refused("lines must be positive")
        total = sum(q * Decimal(p) for _, q, p in lines)
        with self.tx() as conn:
            if (
                conn.execute("SELECT 1 FROM customer WHERE id = ?", (customer_id,)).fetchone()
                is None
            ):
                raise Refused("not_found")
            order_id = f"SO-{AT:%Y%m}-{self._next(conn, f'order:{AT:%Y%m}'):04d}"
            order = {
                "id": order_id,
                "customer_id": customer_id,
                "channel": "online",
                "status": "placed",
                "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
                "total": str(total),
                "paid": "0",
                "payments": [],
                "consignee": CONSIGNEE,
                "history": [{"from": None, "to": "placed", "at": AT, "by": CLERK.id}],
            }
            conn.execute(
                "INSERT INTO orders (id, version, customer_id, status, channel, kind, dealer_id, "
                "salesperson, placed_at, delivered_at, doc) "
                "VALUES (?, 1, ?, 'placed', 'online', 'standard', NULL, NULL, ?, NULL, ?)",
                (order_id, customer_id, AT.isoformat(), orjson.dumps(order)),
            )
            self._record(conn, customer_id, CLERK.id, "place_order")
            self._emit(conn, "OrderPlaced", order_id=order_id, customer_id=customer_id)
        return order_id

    def confirm(self, order_id: str) -> None:
        with self.tx() as conn:
            version, order = self._order(conn, order_id)
            if order["status"] != "placed":
                raise Refused("invalid_transition")
            self._step(order, "confirmed")
            self._save(conn, order, version)
            self._record(conn, order["customer_id"], CLERK.id, "confirm_order")
            self._emit(conn, "OrderConfirmed", order_id=order_id)

    def pay(self, order_id: str, amount: str) -> None:
        with self.tx() as conn:
            version, order = self._order(conn, order_id)
            if order["status"] != "confirmed":
                raise Refused("invalid_transition")
            paid = Decimal(order["paid"]) + Decimal(amount)
            if paid > Decimal(order["total"]):
                raise Refused("overpayment")
            order["paid"] = str(paid)
            order["payments"].append({"amount": amount, "at": AT, "reference": ""})
            self._emit(conn, "PaymentRecorded", order_id=order_id, amount=amount)
            if paid == Decimal(order["total"]):
                self._step(order, "paid")
                self._emit(conn, "OrderPaid", order_id=order_id)
            self._save(conn, order, version)
            self._record(conn, order["customer_id"], CLERK.id, "record_payment")

    def ship(self, order_id: str) -> None:
        with self.tx() as conn:
            version, order = self._order(conn, order_id)
            if order["status"] != "paid":
                raise Refused("payment_required")
            if not all(order["consignee"].values()):
                raise Refused("consignee_required")
            row = conn.execute(
                "SELECT doc FROM customer WHERE id = ?", (order["customer_id"],)
            ).fetchone()
            if row is None:
                raise Refused("not_found")
            issued = []
            for line in order["lines"]:
                stock = conn.execute(
                    "SELECT version, good FROM stock WHERE sku = ?", (line["sku"],)
                ).fetchone()
                if stock is None or stock[1] < line["quantity"]:
                    raise Refused("insufficient_stock")
                done = conn.execute(
                    "UPDATE stock SET good = ?, version = version + 1 "
                    "WHERE sku = ? AND version = ?",
                    (stock[1] - line["quantity"], line["sku"], stock[0]),
                )
                if done.rowcount != 1:
                    raise Refused("concurrency_conflict")
                issued.append({"sku": line["sku"], "quantity": line["quantity"]})
            self._step(order, "shipped")
            order["shipping_mode"] = "express"
            self._save(conn, order, version)
            self._record(conn, order["customer_id"], CLERK.id, "ship_order")
            self._emit(conn, "OrderShipped", order_id=order_id, mode="express", lines=issued)
            for line in issued:
                self._emit(conn, "StockIssued", order_id=order_id, **line)

    def flow(self, n: int) -> None:
        customer_id = self.register(f"客户 {n}", "Wuhan", f"139{n:08d}")
        lines = [
            (sku, 1 + i, price) for i, (sku, price) in enumerate(zip(SKUS, PRICES, strict=True))
        ]
        order_id = self.place(customer_id, lines)
        self.confirm(order_id)
        total = sum(q * Decimal(p) for _, q, p in lines)
        self.pay(order_id, str(total))
        self.ship(order_id)

    def close(self) -> None:
        self.conn.close()


def _desk(url: str) -> ServiceDesk:
    desk = ServiceDesk(open_store(url), clock=FixedClock(AT))
    for sku in SKUS:
        desk.receive_stock(sku, good=10**9, by=CLERK)
    return desk


def _library_flow(desk: ServiceDesk) -> Callable[[int], None]:
    consignee = ConsigneeInfo(**CONSIGNEE)
    lines = [
        OrderLine(sku, 1 + i, Money.of(price, "CNY"))
        for i, (sku, price) in enumerate(zip(SKUS, PRICES, strict=True))
    ]

    def flow(n: int) -> None:
        customer, _ = desk.register_customer(
            name=f"客户 {n}", city="Wuhan", phone=f"139{n:08d}", by=CLERK
        )
        order = desk.place_order(
            customer.id, channel="online", lines=lines, consignee=consignee, by=CLERK
        )
        desk.confirm_order(order.id, by=CLERK)
        paid = desk.record_payment(order.id, order.total, by=CLERK)
        assert paid.status.value == "paid"
        shipped = desk.ship_order(order.id, by=CLERK)
        assert shipped.status.value == "shipped"

    return flow


def _rate(flow: Callable[[int], None], flows: int) -> float:
    start = time.perf_counter()
    for n in range(flows):
        flow(n)
    return flows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    flows = 100 if args.quick else 1_000
    rates: dict[str, list[float]] = {"sqlite": [], "hand": [], "memory": [], "minimal": []}
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp:
        for repeat in range(args.repeats):
            desk = _desk(f"sqlite:///{Path(tmp) / f'flow-{repeat}.db'}")
            rates["sqlite"].append(_rate(_library_flow(desk), flows))
            desk.store.close()
            hand = HandWritten(Path(tmp) / f"hand-{repeat}.db")
            rates["hand"].append(_rate(hand.flow, flows))
            hand.close()
            desk = _desk("memory://")
            rates["memory"].append(_rate(_library_flow(desk), flows))
            desk.store.close()
            hand = HandWritten(Path(tmp) / f"minimal-{repeat}.db", matched_indexes=False)
            rates["minimal"].append(_rate(hand.flow, flows))
            hand.close()
    medians = {side: statistics.median(found) for side, found in rates.items()}
    results = [
        Result(
            f"desk flow x {flows:,} on {side}",
            medians[side],
            medians["hand"],
            round(1 / 1.5, 2),
            "hand-written sqlite3, same indexes",
            higher_is_better=True,
            unit="flows/s",
        )
        for side in ("sqlite", "memory")
    ] + [
        Result(
            f"desk flow x {flows:,} on {side} (reference)",
            medians[side],
            medians["minimal"],
            None,
            "hand-written sqlite3, minimal indexes",
            higher_is_better=True,
            unit="flows/s",
        )
        for side in ("sqlite", "memory")
    ]
    print_table("Desk flow: register -> place -> confirm -> pay -> ship", results)


if __name__ == "__main__":
    main()
