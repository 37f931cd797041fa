"""Store benchmarks: csdomain's SQLite and memory backends against raw baselines.

Run with ``nox -s bench`` (or ``python benchmarks/bench_store.py [--quick] [--only add_many]``).
Every raw baseline does the same work csdomain must do, matched on what decides its cost:
the converter hook the store writes with (:func:`json_unstructure_hook`) and the trusted
path it reads its own documents with (:func:`trusted_structure_hook`), the same rows and
indexes, SQLite's page cache at the store's 64 MiB, and ``add_many``'s batches of 5,000
rows. ``add_many`` is also compared with SQLAlchemy 2's ORM (needs ``sqlalchemy>=2``; see
``sqlalchemy_orders.py``), in orders per second: its bulk ``insert()`` is the baseline,
``add_all`` a reference row.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from csdomain.kinds import ORDERS
from csdomain.orders import Order
from csdomain.serialization import json_unstructure_hook, trusted_structure_hook
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, pair, print_table, timed
from orders_data import make_orders


UNSTRUCTURE = json_unstructure_hook(Order)
#: The store reads its own documents on the trusted path; so does the matched raw side.
TRUSTED = trusted_structure_hook(Order)
COLUMNS = [i.name for i in ORDERS.indexes]
#: The store's page cache per connection (KiB) and ``add_many``'s batch size.
CACHE_KIB = 65536
BATCH = 5000


def raw_rows(orders: list[Order]) -> list[tuple[Any, ...]]:
    """What a hand-written app would insert: key, JSON and the index columns."""
    return [(o.id, orjson.dumps(UNSTRUCTURE(o)), *ORDERS.index_values(o).values()) for o in orders]


def raw_schema(conn: sqlite3.Connection) -> None:
    cols = ", ".join(f"i_{c} TEXT" for c in COLUMNS)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS raw (key TEXT PRIMARY KEY, version INTEGER, doc BLOB, {cols})"
    )
    for c in COLUMNS:
        conn.execute(f"CREATE INDEX IF NOT EXISTS raw_{c} ON raw (i_{c})")
    conn.execute("CREATE INDEX IF NOT EXISTS raw_cs ON raw (i_customer_id, i_status)")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
    return conn


def bench_add_many(tmp: Path, orders: list[Order], repeats: int) -> Result:
    counter = iter(range(10_000))
    insert_sql = (
        f"INSERT INTO raw (key, version, doc, {', '.join('i_' + c for c in COLUMNS)}) "
        f"VALUES (?, 1, ?, {', '.join('?' for _ in COLUMNS)})"
    )

    def ours() -> None:
        store = open_store(f"sqlite:///{tmp}/add-{next(counter)}.db")
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).add_many(orders)
        store.close()

    def baseline() -> None:
        conn = connect(tmp / f"raw-{next(counter)}.db")
        raw_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        for start in range(0, len(orders), BATCH):
            conn.executemany(insert_sql, raw_rows(orders[start : start + BATCH]))
        conn.execute("COMMIT")
        conn.close()

    a, b = pair(ours, baseline, repeats=repeats)
    return Result(
        f"add_many {len(orders):,} orders (SQLite)", a, b, 1.1, "raw executemany, matched"
    )


def bench_sqlalchemy(tmp: Path, orders: list[Order], repeats: int) -> list[Result]:
    """``add_many`` against SQLAlchemy 2's ORM, as orders per second.

    Two ORM mappings (see ``sqlalchemy_orders``): the idiomatic relational one (orders,
    lines, payments and history tables) and the ORM storing csdomain's own documents,
    each written with the ORM's bulk ``insert()`` (the baseline) and with ``add_all``
    (for reference). Targets: at least as fast as the bulk inserts, at least 3.5x the
    relational ``add_all``.
    """
    from sqlalchemy_orders import (
        document_orders,
        document_orders_bulk,
        relational_orders,
        relational_orders_bulk,
    )

    counter = iter(range(10_000))

    def ours() -> None:
        store = open_store(f"sqlite:///{tmp}/sa-ours-{next(counter)}.db")
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).add_many(orders)
        store.close()

    prepare, relational = relational_orders(tmp)
    relational_bulk = relational_orders_bulk(tmp, orders)
    document = document_orders(tmp, orders)
    document_bulk = document_orders_bulk(tmp, orders)
    mine: list[float] = []
    measured: dict[str, list[float]] = {"rb": [], "ra": [], "db": [], "da": []}
    for _ in range(repeats):
        mine.append(timed(ours))
        measured["rb"].append(timed(relational_bulk))
        prepare(orders)
        measured["ra"].append(timed(relational))
        prepare([])
        measured["db"].append(timed(document_bulk))
        measured["da"].append(timed(document))
    count = len(orders)
    rate = count / statistics.median(mine)

    def row(what: str, key: str, target: float, baseline: str) -> Result:
        return Result(
            f"add_many {count:,} orders vs ORM {what}",
            rate,
            count / statistics.median(measured[key]),
            target,
            baseline,
            higher_is_better=True,
            unit="orders/s",
        )

    return [
        row("bulk insert (relational)", "rb", 1.0, "SQLAlchemy 2 ORM insert()"),
        row("bulk insert (same documents)", "db", 1.0, "SQLAlchemy 2 ORM insert()"),
        row("add_all (relational, reference)", "ra", 3.5, "SQLAlchemy 2 ORM add_all"),
        row("add_all (same documents, reference)", "da", 1.0, "SQLAlchemy 2 ORM add_all"),
    ]


def fill(path: Path, orders: list[Order]) -> None:
    store = open_store(f"sqlite:///{path}")
    with store.unit_of_work() as uow:
        uow.repo(ORDERS).add_many(orders)
    store.close()


def bench_get(path: Path, count: int, lookups: int, repeats: int) -> Result:
    keys = [f"SO-{(n * 7919) % count:08d}" for n in range(lookups)]
    store = open_store(f"sqlite:///{path}")
    conn = connect(path)

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for key in keys:
                repo.get(key)

    def baseline() -> None:
        conn.execute("BEGIN")
        for key in keys:
            doc = conn.execute("SELECT version, doc FROM k_order WHERE key = ?", (key,)).fetchone()[
                1
            ]
            TRUSTED(orjson.loads(doc))
        conn.execute("COMMIT")

    a, b = pair(ours, baseline, repeats=repeats)
    store.close()
    conn.close()
    return Result(f"get x{lookups:,} at {count:,} rows", a, b, 1.3, "raw SELECT + decode")


def bench_get_scaling(
    small: tuple[Path, int], large: tuple[Path, int], lookups: int, repeats: int
) -> list[Result]:
    """csdomain's ``get`` in the large store against the small one, alternating the two.

    The raw SQLite lookups are paired the same way, to show how much of the growth is
    SQLite's own (a deeper B-tree, pages outside the cache) rather than the store's.
    """
    stores = []
    gets = []
    raws = []
    for path, count in (large, small):
        keys = [f"SO-{(n * 7919) % count:08d}" for n in range(lookups)]
        store = open_store(f"sqlite:///{path}")
        conn = connect(path)
        stores.append((store, conn))

        def ours(store: Any = store, keys: list[str] = keys) -> None:
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(ORDERS)
                for key in keys:
                    repo.get(key)

        def raw(conn: sqlite3.Connection = conn, keys: list[str] = keys) -> None:
            conn.execute("BEGIN")
            for key in keys:
                row = conn.execute("SELECT version, doc FROM k_order WHERE key = ?", (key,))
                TRUSTED(orjson.loads(row.fetchone()[1]))
            conn.execute("COMMIT")

        gets.append(ours)
        raws.append(raw)
    a, b = pair(gets[0], gets[1], repeats=repeats)
    c, d = pair(raws[0], raws[1], repeats=repeats)
    for store, conn in stores:
        store.close()
        conn.close()
    name = f"get x{lookups:,} at {large[1]:,} vs at {small[1]:,} rows"
    return [
        Result(name, a, b, 1.25, f"csdomain at {small[1]:,}"),
        Result(f"{name} (raw SQLite, for reference)", c, d, 1.25, f"raw at {small[1]:,}"),
    ]


def bench_find(path: Path, count: int, repeats: int) -> Result:
    customers = [f"C-{n:06d}" for n in range(0, 5000, 50)]
    store = open_store(f"sqlite:///{path}")
    conn = connect(path)

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for customer in customers:
                repo.find(customer_id=customer, status="paid")

    def baseline() -> None:
        conn.execute("BEGIN")
        for customer in customers:
            rows = conn.execute(
                "SELECT key, version, doc FROM k_order WHERE i_customer_id = ? AND i_status = ? "
                "ORDER BY key",
                (customer, "paid"),
            ).fetchall()
            [TRUSTED(orjson.loads(r[2])) for r in rows]
        conn.execute("COMMIT")

    a, b = pair(ours, baseline, repeats=repeats)
    store.close()
    conn.close()
    return Result(
        f"find(customer_id, status) x{len(customers)} at {count:,}", a, b, 1.3, "raw indexed query"
    )


def bench_find_fixed_cost(path: Path, repeats: int, calls: int = 20_000) -> Result:
    """What ``find`` costs per call before and after SQL runs: a query on the indexed
    ``(customer_id, status)`` pair that matches nothing, against the same SQL executed
    raw. Target: at most 3 µs per call above the raw query (shown as ``raw + 3 µs``)."""
    store = open_store(f"sqlite:///{path}")
    conn = connect(path)
    customers = [f"C-{n:06d}" for n in range(calls)]
    sql = (
        "SELECT key, version, doc FROM k_order WHERE i_customer_id = ? AND i_status = ? "
        "ORDER BY key ASC NULLS FIRST"
    )

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for customer in customers:
                repo.find(customer_id=customer, status="cancelled")

    def baseline() -> None:
        conn.execute("BEGIN")
        for customer in customers:
            conn.execute(sql, (customer, "cancelled")).fetchall()
        conn.execute("COMMIT")

    a, b = pair(ours, baseline, repeats=repeats)
    store.close()
    conn.close()
    return Result(
        f"find fixed cost per call (no match, x{calls:,})",
        a / calls,
        b / calls + 3e-6,
        1.0,
        "raw query + 3 µs",
        unit="us",
    )


def bench_memory(orders: list[Order], repeats: int) -> list[Result]:
    def ours() -> None:
        store = open_store("memory://")
        with store.unit_of_work() as uow:
            repo = uow.repo(ORDERS)
            for o in orders:
                repo.add(o)
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for o in orders:
                repo.get(o.id)
        store.close()

    def baseline() -> None:
        table: dict[str, Order] = {}
        for o in orders:
            if o.id in table:
                raise KeyError(o.id)
            table[o.id] = o
        for o in orders:
            table[o.id]

    def indexed() -> None:
        table: dict[str, tuple[Order, dict[str, Any]]] = {}
        for o in orders:
            if o.id in table:
                raise KeyError(o.id)
            table[o.id] = (o, ORDERS.index_values(o))
        for o in orders:
            table[o.id]

    a, b = pair(ours, baseline, repeats=repeats)
    c, d = pair(ours, indexed, repeats=repeats)
    return [
        Result(f"memory add+get {len(orders):,}", a, b, 3.0, "dict"),
        Result(
            f"memory add+get {len(orders):,} (reference: dict + index values)",
            c,
            d,
            3.0,
            "dict holding the index values too",
        ),
    ]


def main() -> None:
    args = arguments(__doc__ or "", only=("add_many", "sqlalchemy", "memory", "get", "find"))
    small = 2_000 if args.quick else 100_000
    large = 20_000 if args.quick else 1_000_000
    wanted = set(args.only or ("add_many", "sqlalchemy", "memory", "get", "find"))
    results = []
    with tempfile.TemporaryDirectory(prefix="csdomain-bench-") as tmp_name:
        tmp = Path(tmp_name)
        orders = make_orders(small)
        if "add_many" in wanted:
            results.append(bench_add_many(tmp, orders, args.repeats))
        if "sqlalchemy" in wanted:
            results.extend(bench_sqlalchemy(tmp, orders, min(args.repeats, 3)))
        if "memory" in wanted:
            results.extend(bench_memory(orders[:20_000], args.repeats))
        if wanted & {"get", "find"}:
            ten_k = tmp / "get-10k.db"
            fill(ten_k, orders[:10_000] if small >= 10_000 else orders)
            few = min(small, 10_000)
            big = tmp / "big.db"
            for start in range(0, large, 100_000):
                fill(big, make_orders(min(100_000, large - start), start=start))
            if "get" in wanted:
                results.append(bench_get(ten_k, few, 5_000, args.repeats))
                results.append(bench_get(big, large, 5_000, args.repeats))
                results.extend(bench_get_scaling((ten_k, few), (big, large), 5_000, args.repeats))
            if "find" in wanted:
                results.append(bench_find(big, large, args.repeats))
                results.append(bench_find_fixed_cost(big, args.repeats))
    print_table("Store benchmarks", results)


if __name__ == "__main__":
    main()
