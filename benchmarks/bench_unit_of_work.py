"""One unit of work on SQLite against the raw transaction it amounts to.

Run with ``nox -s bench`` (or ``python benchmarks/bench_unit_of_work.py [--quick]``).

csdomain's side opens a unit of work on a ``sqlite:///`` store, updates one order with a
version check and emits one event to the outbox, then commits::

    with store.unit_of_work() as uow:
        uow.repo(ORDERS).update(order, expected_version=v)
        uow.emit(OrderConfirmed(...), at=now)

The baseline is the same transaction written by hand on one ``sqlite3`` connection to the
same file, tables and indexes, with the same serialization (the converter's JSON hook,
:func:`json_unstructure_hook`, and orjson for the order and for the outbox entry, the same
index values) and the store's 64 MiB page cache::

    BEGIN IMMEDIATE
    UPDATE k_order SET version = version + 1, doc = ?, i_... = ? WHERE key = ? AND version = ?
    INSERT INTO k_outbox (key, version, doc, i_status, i_type, i_created_at) VALUES (...)
    COMMIT

so the ratio is the cost of the store's layers (unit of work, repository, kinds, outbox
bookkeeping, connection pool) on top of the work itself. Each side updates its own rows.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson

from csdomain.kinds import ORDERS
from csdomain.orders import Order, OrderConfirmed
from csdomain.serialization import converter, json_unstructure_hook
from csdomain.store import OUTBOX, OutboxEntry, open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, pair, print_table
from orders_data import make_orders


AT = datetime(2026, 11, 2, 1, tzinfo=UTC)
UNSTRUCTURE_ORDER = json_unstructure_hook(Order)
UNSTRUCTURE_ENTRY = json_unstructure_hook(OutboxEntry)
UNSTRUCTURE_EVENT = converter.get_unstructure_hook(OrderConfirmed)


def confirmed(order: Order) -> OrderConfirmed:
    return OrderConfirmed(order_id=order.id, customer_id=order.customer_id, at=AT, by="clerk-7")


def main() -> None:
    args = arguments(__doc__ or "")
    transactions = 300 if args.quick else 2_000
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp:
        path = Path(tmp) / "uow.db"
        orders = make_orders(2_000)
        store = open_store(f"sqlite:///{path}")
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).add_many(orders)
        ours_rows = orders[0::2]
        raw_rows = orders[1::2]
        versions = {o.id: 1 for o in orders}

        def ours() -> None:
            for n in range(transactions):
                order = ours_rows[n % len(ours_rows)]
                with store.unit_of_work() as uow:
                    versions[order.id] = uow.repo(ORDERS).update(
                        order, expected_version=versions[order.id]
                    )
                    uow.emit(confirmed(order), at=AT)

        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode = wal", "synchronous = normal", "cache_size = -65536"):
            conn.execute(f"PRAGMA {pragma}")
        update_sql = store.backend.kind_sql(ORDERS.name).update  # type: ignore[attr-defined]
        insert_sql = store.backend.kind_sql(OUTBOX.name).insert  # type: ignore[attr-defined]
        counter = iter(range(10**9))

        def baseline() -> None:
            for n in range(transactions):
                order = raw_rows[n % len(raw_rows)]
                doc = orjson.dumps(UNSTRUCTURE_ORDER(order))
                index = ORDERS.index_values(order)
                event = confirmed(order)
                entry = OutboxEntry(
                    id=f"{AT:%Y%m%d%H%M%S%f}-raw-{next(counter):06d}",
                    type=type(event).type_name,
                    payload=UNSTRUCTURE_EVENT(event),
                    created_at=AT,
                )
                entry_doc = orjson.dumps(UNSTRUCTURE_ENTRY(entry))
                conn.execute("BEGIN IMMEDIATE")
                try:
                    cursor = conn.execute(
                        update_sql, (doc, *index.values(), order.id, versions[order.id])
                    )
                    if cursor.rowcount != 1:
                        raise RuntimeError("version conflict")
                    conn.execute(
                        insert_sql, (entry.id, entry_doc, *OUTBOX.index_values(entry).values())
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                versions[order.id] += 1

        a, b = pair(ours, baseline, repeats=args.repeats)
        with store.unit_of_work(readonly=True) as uow:
            emitted = uow.outbox.count()
        assert emitted == 2 * transactions * args.repeats, emitted
        conn.close()
        store.close()
    per_ours = a / transactions * 1e6
    per_raw = b / transactions * 1e6
    print(f"\nper transaction: csdomain {per_ours:.0f} us, raw sqlite3 {per_raw:.0f} us")
    print_table(
        "Unit of work on SQLite",
        [
            Result(
                f"{transactions:,} x (update 1 order + emit 1 event)",
                a,
                b,
                1.5,
                "raw BEGIN IMMEDIATE/UPDATE/INSERT/COMMIT",
            )
        ],
    )


if __name__ == "__main__":
    main()
