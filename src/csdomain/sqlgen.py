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

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from csdomain.store import Filter, IndexType, KindSchema


__all__ = ["META_TABLES", "Dialect", "KindSql", "column", "select_sql", "table"]


@attrs.frozen
class Dialect:
    """How one SQL database spells parameters, types and table options."""

    name: str
    param: str
    doc_type: str
    types: Mapping[IndexType, str]
    table_suffix: str = ""

    def params(self, count: int) -> str:
        """``count`` comma-separated parameter placeholders."""
        return ", ".join([self.param] * count)


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

    @classmethod
    def build(cls, dialect: Dialect, schema: KindSchema) -> KindSql:
        """Generate the statements of ``schema``."""
        t = table(schema.name)
        p = dialect.param
        cols = [column(name) for name, _ in schema.indexes]
        defs = "".join(f", {column(n)} {dialect.types[ty]}" for n, ty in schema.indexes)
        create_table = (
            f"CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, "
            f"version INTEGER NOT NULL, doc {dialect.doc_type} NOT NULL{defs})"
            f"{dialect.table_suffix}"
        )
        create = [
            create_table,
            *(create_index(schema.name, (name,)) for name, _ in schema.indexes),
            *(create_index(schema.name, group) for group in schema.composite),
        ]
        sets = "".join(f", {c} = {p}" for c in cols)
        return cls(
            create=tuple(create),
            insert=(
                f"INSERT INTO {t} (key, version, doc{''.join(', ' + c for c in cols)}) "
                f"VALUES ({p}, 1, {dialect.params(1 + len(cols))})"
            ),
            update=(
                f"UPDATE {t} SET version = version + 1, doc = {p}{sets} "
                f"WHERE key = {p} AND version = {p}"
            ),
            delete=f"DELETE FROM {t} WHERE key = {p} AND version = {p}",
            get=f"SELECT version, doc FROM {t} WHERE key = {p}",
        )


def create_index(kind: str, fields: Sequence[str]) -> str:
    """``CREATE INDEX`` for one or more index fields of ``kind``."""
    name = f"x_{kind}_{'_'.join(fields)}"
    cols = ", ".join(column(f) for f in fields)
    return f"CREATE INDEX IF NOT EXISTS {name} ON {table(kind)} ({cols})"


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


def select_sql(  # noqa: PLR0917 - mirrors Transaction.find
    dialect: Dialect,
    kind: str,
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int,
) -> tuple[str, list[Any]]:
    """``SELECT key, version, doc`` matching ``filters`` in order, with paging."""
    where, params = where_sql(dialect, filters)
    order = ", ".join(
        f"{column(field)} {'DESC' if desc else 'ASC'}" + (" NULLS LAST" if desc else " NULLS FIRST")
        for field, desc in order_by
    )
    sql = f"SELECT key, version, doc FROM {table(kind)}{where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {dialect.param}"
        params.append(limit)
    if offset:
        if limit is None:
            sql += " LIMIT -1" if dialect.name == "sqlite" else " LIMIT ALL"
        sql += f" OFFSET {dialect.param}"
        params.append(offset)
    return sql, params


def count_sql(dialect: Dialect, kind: str, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
    """``SELECT count(*)`` matching ``filters``."""
    where, params = where_sql(dialect, filters)
    return f"SELECT count(*) FROM {table(kind)}{where}", params
