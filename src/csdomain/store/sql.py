"""SQL text for document tables, shared by the SQL backends (no driver imported here).

Each kind is one table ``k_<kind>`` with the primary key, the version, the document and
one typed column ``i_<field>`` per declared index field, each with its own index. A
:class:`Dialect` says how one SQL database spells parameters and column types; the
statements themselves are generated once here so the SQLite and PostgreSQL backends
never carry copy-pasted SQL. Identifiers come only from declared kind and index names,
which :class:`csdomain.store.Kind` restricts to ``[a-z][a-z0-9_]*``; values are always
bound parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from csdomain.errors import ValidationError
from csdomain.store.spi import Filter, IndexType, KindSchema


__all__ = [
    "META_TABLES",
    "Dialect",
    "KindSql",
    "Lock",
    "column",
    "count_sql",
    "create_index",
    "filter_params",
    "index_name",
    "meta_sql",
    "migration_sql",
    "next_counter_sql",
    "reindex_sql",
    "select_sql",
    "table",
    "where_sql",
]

#: Row locking of a query: wait for other writers' locks, or skip the rows they hold.
Lock = Literal["wait", "skip_locked"]


@attrs.frozen
class Dialect:
    """How one SQL database spells parameters, types and table options."""

    name: str
    param: str
    doc_type: str
    types: Mapping[IndexType, str]
    table_suffix: str = ""
    #: Type of the primary key column (PostgreSQL adds a byte-order collation).
    key_type: str = "TEXT"
    #: Type of a ``raw`` column that keeps, verbatim, documents ``doc_type`` cannot hold
    #: (PostgreSQL's JSONB refuses NUL characters); ``None``: no such column.
    raw_type: str | None = None
    #: Appended to inserts: PostgreSQL's ``ON CONFLICT (key) DO NOTHING`` makes a taken key
    #: a missing row count instead of an error that would abort the whole transaction.
    insert_suffix: str = ""
    #: Longest identifier the database keeps (longer index names are shortened with a hash).
    max_identifier: int | None = None
    #: Whether ``SELECT ... FOR UPDATE [SKIP LOCKED]`` is available.
    row_locks: bool = False
    #: Appended to ``ORDER BY`` of a plain ``TEXT`` column so that it sorts by code point
    #: whatever the database's collation (PostgreSQL: ``' COLLATE "C"'``).
    code_point_order: str = ""

    def params(self, count: int) -> str:
        """``count`` comma-separated parameter placeholders."""
        return ", ".join([self.param] * count)

    @property
    def doc_columns(self) -> str:
        """The document column(s) a read selects: ``doc``, then ``raw`` if the dialect has it."""
        return "doc" if self.raw_type is None else "doc, raw"


#: Tables every SQL backend keeps besides the kind tables.
META_TABLES = (
    "CREATE TABLE IF NOT EXISTS csdomain_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS csdomain_kinds (kind TEXT PRIMARY KEY, indexes TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS csdomain_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
)


def table(kind: str) -> str:
    """The table that holds ``kind``."""
    return f"k_{kind}"


def column(field: str) -> str:
    """The column that holds index ``field`` (``key`` is the primary key itself)."""
    return "key" if field == "key" else f"i_{field}"


@attrs.frozen
class KindSql:
    """The statements for one kind in one dialect."""

    create: tuple[str, ...]
    insert: str
    update: str
    delete: str
    get: str
    #: Like ``insert``, with the version as the second parameter (import keeps versions).
    restore: str

    @classmethod
    def build(cls, dialect: Dialect, schema: KindSchema) -> KindSql:
        """Generate the statements of ``schema``.

        With a ``raw`` column (:attr:`Dialect.raw_type`) the document parameters are
        ``doc, raw`` wherever a plain dialect has ``doc``, and reads return both.
        """
        t = table(schema.name)
        p = dialect.param
        cols = [column(name) for name, _ in schema.indexes]
        raw = dialect.raw_type is not None
        defs = "".join(f", {column(n)} {dialect.types[ty]}" for n, ty in schema.indexes)
        raw_def = f", raw {dialect.raw_type}" if raw else ""
        create_table = (
            f"CREATE TABLE IF NOT EXISTS {t} (key {dialect.key_type} PRIMARY KEY, "
            f"version INTEGER NOT NULL, doc {dialect.doc_type} NOT NULL{raw_def}{defs})"
            f"{dialect.table_suffix}"
        )
        create = [
            create_table,
            *(create_index(schema.name, (name,), dialect) for name, _ in schema.indexes),
            *(create_index(schema.name, group, dialect) for group in schema.composite),
        ]
        docs = dialect.doc_columns
        sets = "".join(f", {c} = {p}" for c in cols)
        raw_set = f", raw = {p}" if raw else ""
        into = f"INSERT INTO {t} (key, version, {docs}{''.join(', ' + c for c in cols)}) "
        values = dialect.params(raw + 1 + len(cols))
        return cls(
            create=tuple(create),
            insert=f"{into}VALUES ({p}, 1, {values}){dialect.insert_suffix}",
            restore=f"{into}VALUES ({p}, {p}, {values}){dialect.insert_suffix}",
            update=(
                f"UPDATE {t} SET version = version + 1, doc = {p}{raw_set}{sets} "
                f"WHERE key = {p} AND version = {p}"
            ),
            delete=f"DELETE FROM {t} WHERE key = {p} AND version = {p}",
            get=f"SELECT version, {docs} FROM {t} WHERE key = {p}",
        )


def index_name(kind: str, fields: Sequence[str], dialect: Dialect | None = None) -> str:
    """The name of the index on ``fields`` of ``kind`` (shortened to the dialect's limit)."""
    name = f"x_{kind}_{'_'.join(fields)}"
    limit = dialect.max_identifier if dialect is not None else None
    if limit is not None and len(name) > limit:
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        name = f"{name[: limit - 11]}_{digest}"
    return name


def create_index(kind: str, fields: Sequence[str], dialect: Dialect | None = None) -> str:
    """``CREATE INDEX`` for one or more index fields of ``kind``."""
    cols = ", ".join(column(f) for f in fields)
    return (
        f"CREATE INDEX IF NOT EXISTS {index_name(kind, fields, dialect)} ON {table(kind)} ({cols})"
    )


def migration_sql(
    dialect: Dialect, schema: KindSchema, stored: Mapping[str, IndexType]
) -> tuple[list[str], list[str]]:
    """The statements that move a kind's table from the ``stored`` index columns to
    ``schema``'s, and the names of the index fields whose values must be recomputed.

    A column whose type changed is dropped and added again (empty); composite indexes
    are (re)created last. Fill the returned fields with :func:`reindex_sql`.
    """
    t = table(schema.name)
    wanted = dict(schema.indexes)
    statements: list[str] = []
    for name, stored_type in stored.items():
        if wanted.get(name) != stored_type:
            statements.append(f"DROP INDEX IF EXISTS {index_name(schema.name, (name,), dialect)}")
            statements.append(f"ALTER TABLE {t} DROP COLUMN {column(name)}")
    added = [n for n in wanted if stored.get(n) != wanted[n]]
    for name in added:
        statements.append(
            f"ALTER TABLE {t} ADD COLUMN {column(name)} {dialect.types[wanted[name]]}"
        )
        statements.append(create_index(schema.name, (name,), dialect))
    statements.extend(create_index(schema.name, group, dialect) for group in schema.composite)
    return statements, added


def reindex_sql(dialect: Dialect, kind: str, fields: Sequence[str]) -> tuple[str, str]:
    """``SELECT key, <doc columns>`` of every document, and the ``UPDATE`` that sets
    ``fields`` (parameters: the field values in order, then the key)."""
    sets = ", ".join(f"{column(n)} = {dialect.param}" for n in fields)
    return (
        f"SELECT key, {dialect.doc_columns} FROM {table(kind)} ORDER BY key",
        f"UPDATE {table(kind)} SET {sets} WHERE key = {dialect.param}",
    )


def meta_sql(dialect: Dialect) -> Mapping[str, str]:
    """Statements on the backend's own tables, by purpose.

    ``get_meta`` / ``set_meta`` read and write ``csdomain_meta`` (the schema version);
    ``get_kind`` / ``set_kind`` the declared index columns of each kind;
    ``list_counters`` reads every counter by name in code-point order,
    ``restore_counter`` creates one at a value (no row when it exists: check the count)
    and ``delete_counter`` removes one (data migrations).
    """
    p = dialect.param
    return {
        "get_meta": f"SELECT value FROM csdomain_meta WHERE name = {p}",
        "set_meta": (
            f"INSERT INTO csdomain_meta (name, value) VALUES ({p}, {p}) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        ),
        "get_kind": f"SELECT indexes FROM csdomain_kinds WHERE kind = {p}",
        "set_kind": (
            f"INSERT INTO csdomain_kinds (kind, indexes) VALUES ({p}, {p}) "
            "ON CONFLICT (kind) DO UPDATE SET indexes = excluded.indexes"
        ),
        "list_counters": (
            f"SELECT name, value FROM csdomain_counters ORDER BY name{dialect.code_point_order}"
        ),
        "restore_counter": (
            f"INSERT INTO csdomain_counters (name, value) VALUES ({p}, {p}) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        "delete_counter": f"DELETE FROM csdomain_counters WHERE name = {p}",
    }


def next_counter_sql(dialect: Dialect) -> str:
    """Increment the counter named by the one parameter (1 for a new one), returning it."""
    return (
        f"INSERT INTO csdomain_counters (name, value) VALUES ({dialect.param}, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = csdomain_counters.value + 1 RETURNING value"
    )


_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def where_sql(dialect: Dialect, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (possibly empty) and its parameters."""
    parts: list[str] = []
    params: list[Any] = []
    p = dialect.param
    for f in filters:
        col = column(f.field)
        if f.op == "eq":
            if f.value is None:
                parts.append(f"{col} IS NULL")
            else:
                parts.append(f"{col} = {p}")
                params.append(f.value)
        elif f.op == "ne":
            if f.value is None:
                parts.append(f"{col} IS NOT NULL")
            else:
                parts.append(f"({col} IS NULL OR {col} <> {p})")
                params.append(f.value)
        elif f.op == "in":
            values = [v for v in f.value if v is not None]
            alternatives = []
            if values:
                alternatives.append(f"{col} IN ({dialect.params(len(values))})")
                params.extend(values)
            if len(values) != len(f.value):
                alternatives.append(f"{col} IS NULL")
            parts.append("(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0")
        else:
            parts.append(f"{col} {_COMPARE[f.op]} {p}")
            params.append(f.value)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _shape(f: Filter) -> tuple[object, ...]:
    """What of a filter decides its SQL text (not the values themselves)."""
    if f.op == "in":
        count = sum(v is not None for v in f.value)
        return (f.field, "in", count, count != len(f.value))
    return (f.field, f.op, f.value is None)


def filter_params(filters: Sequence[Filter]) -> list[Any]:
    """The parameters of :func:`where_sql`'s clause, in its order."""
    params: list[Any] = []
    for f in filters:
        if f.op == "in":
            params.extend(v for v in f.value if v is not None)
        elif f.value is not None:
            params.append(f.value)
    return params


def _shape_and_params(filters: Sequence[Filter]) -> tuple[tuple[object, ...], list[Any]]:
    """What of ``filters`` decides the SQL text (:func:`_shape` of each) and the
    parameters of :func:`where_sql`'s clause (:func:`filter_params`), in one pass."""
    shapes: list[object] = []
    params: list[Any] = []
    for f in filters:
        value = f.value
        if f.op == "in":
            shapes.append(_shape(f))
            params.extend(v for v in value if v is not None)
        elif value is None:
            shapes.append((f.field, f.op, True))
        else:
            shapes.append((f.field, f.op, False))
            params.append(value)
    return tuple(shapes), params


#: The SQL text of each query shape, per dialect (by identity) and statement kind.
_TEXTS: dict[int, tuple[Dialect, dict[tuple[object, ...], str]]] = {}
#: Shapes kept per dialect before the cache starts over.
_TEXTS_LIMIT = 4096


def _texts(dialect: Dialect) -> dict[tuple[object, ...], str]:
    found = _TEXTS.get(id(dialect))
    if found is None or found[0] is not dialect:
        found = _TEXTS[id(dialect)] = (dialect, {})
    texts = found[1]
    if len(texts) >= _TEXTS_LIMIT:
        texts.clear()
    return texts


def select_sql(  # noqa: PLR0917 - mirrors Transaction.find
    dialect: Dialect,
    kind: str,
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int,
    *,
    lock: Lock | None = None,
) -> tuple[str, list[Any]]:
    """``SELECT key, version, <doc columns>`` matching ``filters`` in order, with paging.

    ``lock`` adds ``FOR UPDATE`` (``"wait"``) or ``FOR UPDATE SKIP LOCKED``
    (``"skip_locked"``) on dialects with :attr:`Dialect.row_locks`. The text is built
    once per query shape (kind, filter fields, operators and ``None``-ness, order,
    paging, lock) and kept; only the parameters are computed per call.
    """
    if lock is not None and not dialect.row_locks:
        raise ValidationError.at("lock", f"{dialect.name} has no row locks")
    texts = _texts(dialect)
    shapes, params = _shape_and_params(filters)
    shape = ("select", kind, shapes, tuple(order_by), limit is None, bool(offset), lock)
    sql = texts.get(shape)
    if sql is None:
        sql = texts[shape] = _select_text(dialect, kind, filters, order_by, limit, offset, lock)
    if limit is not None:
        params.append(limit)
    if offset:
        params.append(offset)
    return sql, params


def _select_text(  # noqa: PLR0917 - mirrors select_sql
    dialect: Dialect,
    kind: str,
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int,
    lock: Lock | None,
) -> str:
    where, _params = where_sql(dialect, filters)
    order = ", ".join(
        f"{column(field)} {'DESC' if desc else 'ASC'}" + (" NULLS LAST" if desc else " NULLS FIRST")
        for field, desc in order_by
    )
    sql = f"SELECT key, version, {dialect.doc_columns} FROM {table(kind)}{where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {dialect.param}"
    if offset:
        if limit is None:
            sql += " LIMIT -1" if dialect.name == "sqlite" else " LIMIT ALL"
        sql += f" OFFSET {dialect.param}"
    if lock is not None:
        sql += " FOR UPDATE SKIP LOCKED" if lock == "skip_locked" else " FOR UPDATE"
    return sql


def count_sql(dialect: Dialect, kind: str, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    """``SELECT count(*)`` matching ``filters`` (the text kept per shape, as for
    :func:`select_sql`)."""
    texts = _texts(dialect)
    shapes, params = _shape_and_params(filters)
    shape = ("count", kind, shapes)
    sql = texts.get(shape)
    if sql is None:
        where, _params = where_sql(dialect, filters)
        sql = texts[shape] = f"SELECT count(*) FROM {table(kind)}{where}"
    return sql, params
