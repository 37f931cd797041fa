"""SQL text for document tables: moved to :mod:`csdomain.store.sql` (kept importable)."""

from __future__ import annotations

from csdomain.store.sql import (
    META_TABLES,
    Dialect,
    KindSql,
    Lock,
    column,
    count_sql,
    create_index,
    index_name,
    meta_sql,
    migration_sql,
    next_counter_sql,
    reindex_sql,
    select_sql,
    table,
    where_sql,
)


__all__ = [
    "META_TABLES",
    "Dialect",
    "KindSql",
    "Lock",
    "column",
    "count_sql",
    "create_index",
    "index_name",
    "meta_sql",
    "migration_sql",
    "next_counter_sql",
    "reindex_sql",
    "select_sql",
    "table",
    "where_sql",
]
