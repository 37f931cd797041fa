"""PostgreSQL benchmarks: csdomain's PostgreSQL backend against raw psycopg, same run.

Run with ``nox -s bench`` (or ``python benchmarks/bench_postgres.py [--quick]``). The server
is ``$CSDOMAIN_POSTGRES_URL`` or a throwaway local cluster (``csdomain_postgres.testing``).
Every baseline does the work a hand-written psycopg application would do for the same
result, matched on what decides its cost: the JSON hook the store writes with and the
trusted path it reads its own documents with (:func:`trusted_structure_hook`, orjson as
psycopg's JSON encoder and decoder), the same table, column types and indexes,
``add_many``'s batches of 5,000 rows, one transaction. The targets are a ratio of at most
1.3x, and 1.15x for ``find`` of one row (issue #15 item 5: ``find``'s fixed cost).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson

from csdomain.kinds import ORDERS
from csdomain.orders import Order
from csdomain.serialization import json_unstructure_hook, trusted_structure_hook
from csdomain.store import Store, open_store
from csdomain_postgres.testing import ClusterUnavailable, LocalCluster


try:
    import psycopg
    from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
except ImportError as missing:  # the postgres extra is not installed
    MISSING: str | None = missing.name
else:
    MISSING = None


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, pair, print_table
from orders_data import make_orders


UNSTRUCTURE = json_unstructure_hook(Order)
#: ``add_many``'s batch size: the raw side writes in the same batches.
BATCH = 5000
#: The store reads its own documents on the trusted path; so does the matched raw side.
TRUSTED = trusted_structure_hook(Order)
TYPES = {"text": 'TEXT COLLATE "C"', "integer": "BIGINT", "real": "DOUBLE PRECISION"}
COLUMNS = [(i.name, TYPES[i.type]) for i in ORDERS.indexes]
INSERT = (
    f"INSERT INTO raw_order (key, version, doc, {', '.join('i_' + c for c, _ in COLUMNS)}) "
    f"VALUES (%s, 1, %s, {', '.join('%s' for _ in COLUMNS)})"
)


def plugin_manager() -> Any:
    """The default plugins, plus the PostgreSQL backend until its entry point is installed."""
    import csdomain.plugins
    import csdomain_postgres

    pm = csdomain.plugins.get_plugin_manager()
    if not pm.is_registered(csdomain_postgres) and pm.get_plugin("postgres") is None:
        pm.register(csdomain_postgres, name="postgres")
    return pm


def connect(url: str, schema: str) -> psycopg.Connection[Any]:
    """A raw connection as a hand-written app would set it up (orjson for JSON)."""
    conn = psycopg.connect(url, options=f"-c search_path={schema}")
    set_json_dumps(orjson.dumps, conn)
    set_json_loads(orjson.loads, conn)
    return conn


def raw_schema(conn: psycopg.Connection[Any]) -> None:
    cols = ", ".join(f"i_{c} {t}" for c, t in COLUMNS)
    conn.execute(
        f'CREATE TABLE IF NOT EXISTS raw_order (key TEXT COLLATE "C" PRIMARY KEY, '
        f"version INTEGER NOT NULL, doc JSONB NOT NULL, {cols})"
    )
    for c, _ in COLUMNS:
        conn.execute(f"CREATE INDEX IF NOT EXISTS raw_{c} ON raw_order (i_{c})")
    for group in ORDERS.composite:
        name = "_".join(group)
        cols = ", ".join(f"i_{c}" for c in group)
        conn.execute(f"CREATE INDEX IF NOT EXISTS raw_{name} ON raw_order ({cols})")
    conn.commit()


def raw_rows(orders: list[Order]) -> list[tuple[Any, ...]]:
    return [(o.id, Jsonb(UNSTRUCTURE(o)), *ORDERS.index_values(o).values()) for o in orders]


def bench_add_many(
    store: Store, conn: psycopg.Connection[Any], orders: list[Order], repeats: int
) -> Result:
    def empty() -> None:
        conn.execute("TRUNCATE raw_order, k_order")
        conn.commit()

    def ours() -> None:
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).add_many(orders)

    def baseline() -> None:
        with conn.cursor() as cur:
            for start in range(0, len(orders), BATCH):
                cur.executemany(INSERT, raw_rows(orders[start : start + BATCH]))
        conn.commit()

    a, b = pair(ours, baseline, repeats=repeats, setup=empty)
    return Result(f"add_many {len(orders):,} orders (PostgreSQL)", a, b, 1.3, "raw executemany")


def fill(store: Store, conn: psycopg.Connection[Any], orders: list[Order]) -> None:
    with store.unit_of_work() as uow:
        uow.repo(ORDERS).add_many(orders)
    with conn.cursor() as cur:
        cur.executemany(INSERT, raw_rows(orders))
    conn.execute("ANALYZE raw_order")
    conn.execute("ANALYZE k_order")
    conn.commit()


def bench_get(
    store: Store, conn: psycopg.Connection[Any], count: int, lookups: int, repeats: int
) -> Result:
    keys = [f"SO-{(n * 7919) % count:08d}" for n in range(lookups)]

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for key in keys:
                repo.get(key)

    def baseline() -> None:
        with conn.cursor() as cur:
            for key in keys:
                row = cur.execute("SELECT version, doc FROM raw_order WHERE key = %s", (key,))
                TRUSTED(row.fetchone()[1])  # type: ignore[index]
        conn.commit()

    a, b = pair(ours, baseline, repeats=repeats)
    return Result(f"get x{lookups:,} at {count:,} rows", a, b, 1.3, "raw SELECT + decode")


def bench_find(store: Store, conn: psycopg.Connection[Any], count: int, repeats: int) -> Result:
    customers = [f"C-{n:06d}" for n in range(0, 5000, 50)]

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for customer in customers:
                repo.find(customer_id=customer, status="paid")

    def baseline() -> None:
        with conn.cursor() as cur:
            for customer in customers:
                rows = cur.execute(
                    "SELECT key, version, doc FROM raw_order "
                    "WHERE i_customer_id = %s AND i_status = %s ORDER BY key",
                    (customer, "paid"),
                ).fetchall()
                [TRUSTED(r[2]) for r in rows]
        conn.commit()

    a, b = pair(ours, baseline, repeats=repeats)
    return Result(
        f"find(customer_id, status) x{len(customers)} at {count:,}", a, b, 1.3, "raw indexed query"
    )


def bench_find_one(
    store: Store, conn: psycopg.Connection[Any], count: int, calls: int, repeats: int
) -> Result:
    """``find`` of one row by key, where the fixed cost of a call shows most, against the
    same SQL text raw (the store's query for this shape) with the same trusted decode."""
    keys = [f"SO-{(n * 7919) % count:08d}" for n in range(calls)]
    sql = "SELECT key, version, doc FROM raw_order WHERE key = %s ORDER BY key ASC NULLS FIRST"

    def ours() -> None:
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(ORDERS)
            for key in keys:
                repo.find(key=key)

    def baseline() -> None:
        with conn.cursor() as cur:
            for key in keys:
                rows = cur.execute(sql, (key,)).fetchall()
                [TRUSTED(r[2]) for r in rows]
        conn.commit()

    a, b = pair(ours, baseline, repeats=repeats)
    return Result(
        f"find(key=...) of one row x{calls:,} at {count:,}", a, b, 1.15, "raw query + decode"
    )


def main() -> None:
    args = arguments(__doc__ or "")
    if MISSING:
        print(
            f"PostgreSQL benchmarks skipped: {MISSING} is missing "
            '(pip install "csdomain[postgres]")'
        )
        return
    inserts = 2_000 if args.quick else 20_000
    rows = 10_000 if args.quick else 100_000
    cluster: LocalCluster | None = None
    url = os.environ.get("CSDOMAIN_POSTGRES_URL")
    if not url:
        try:
            cluster = LocalCluster.start()
        except ClusterUnavailable as err:
            print(f"PostgreSQL benchmarks skipped: {err}")
            return
        url = cluster.url()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = open_store(
        f"{url}{'&' if '?' in url else '?'}schema={schema}", plugin_manager=plugin_manager()
    )
    conn = connect(url, schema)
    try:
        raw_schema(conn)
        with store.unit_of_work() as uow:
            uow.repo(ORDERS).count()
        results = [bench_add_many(store, conn, make_orders(inserts), args.repeats)]
        conn.execute("TRUNCATE raw_order, k_order")
        conn.commit()
        for start in range(0, rows, 20_000):
            fill(store, conn, make_orders(min(20_000, rows - start), start=start))
        results.append(bench_get(store, conn, rows, 5_000, args.repeats))
        results.append(bench_find(store, conn, rows, args.repeats))
        results.append(bench_find_one(store, conn, rows, 5_000, args.repeats))
        print_table("PostgreSQL benchmarks", results)
    finally:
        store.close()
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.commit()
        conn.close()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
