"""The SQLite backend: stdlib :mod:`sqlite3`, WAL, one table per kind.

URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` and ``sqlite://``
(a throwaway database in a temporary directory, removed on close). Query options:

- ``synchronous`` = ``off`` | ``normal`` (default) | ``full`` | ``extra``
- ``journal_mode`` = ``wal`` (default) | ``delete`` | ``truncate`` | ``persist``
- ``busy_timeout`` = milliseconds a writer waits for the lock (default 30000)
- ``cache_size`` = KiB of page cache per connection (default 65536: the upper levels of a
  million-document table's B-trees stay in memory, so a lookup's cost barely grows with size)

Writers start with ``BEGIN IMMEDIATE`` so several processes on one file queue up instead
of failing half-way; readers see a snapshot. Driver errors come out as csdomain errors.

A kind's table and indexes are created by its first write, in the writing transaction
(a new store pays only for the kinds it writes; a rollback leaves none behind); until
then reads of it find nothing, in read-only units of work too. A kind stored with other
index columns is migrated when a unit of work starts, as before.

Every connection runs with ``PRAGMA secure_delete = ON``: deleted and overwritten content
is zeroed, not left in free space. Old page images stay in the write-ahead log (or a
``persist`` journal) until the next checkpoint: :meth:`SqliteBackend.purge_erased`, which
the store calls after an erasure, checkpoints and truncates them away (and, once, rebuilds
a file an older csdomain wrote without ``secure_delete``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import orjson

from csdomain.errors import AlreadyExists, BackendUnavailable, ValidationError
from csdomain.store.fields import members_sql
from csdomain.store.spi import Filter, IndexValue, KindSchema, Row, check_version, short_repr
from csdomain.store.sql import (
    META_TABLES,
    Dialect,
    KindSql,
    column,
    count_sql,
    create_index,
    index_name,
    meta_sql,
    select_sql,
    table,
)


__all__ = ["SQLITE", "SqliteBackend", "SqliteTransaction"]

SQLITE = Dialect(
    name="sqlite",
    param="?",
    doc_type="BLOB",
    types={"text": "TEXT", "integer": "INTEGER", "real": "REAL"},
)

_META = meta_sql(SQLITE)
#: Meta row set when every write to the file ran with ``secure_delete`` (created so, or
#: rebuilt once by :meth:`SqliteBackend.purge_erased`).
_SECURE_SINCE_CREATION = "secure_delete"
_SET_META = _META["set_meta"]

#: Version of the backend's own table layout (kind tables are migrated separately).
SCHEMA_VERSION = 1

_SYNCHRONOUS = ("off", "normal", "full", "extra")
_JOURNAL = ("wal", "delete", "truncate", "persist")
#: Numeric URL options and their units.
_NUMBER_UNITS = {"busy_timeout": "ms", "cache_size": "KiB"}
#: Largest value of a numeric option (SQLite keeps them in 32-bit integers).
_MAX_NUMBER = 2**31 - 1
_LONGEST_SHOWN = 200
_FETCH = 500


def _shown(path: object) -> str:
    """A path as error messages show it: whole unless it is very long."""
    text = str(path)
    return text if len(text) <= _LONGEST_SHOWN else f"{text[:60]}...{text[-60:]}"


def _unavailable(err: sqlite3.Error, path: str) -> BackendUnavailable:
    text = str(err)
    if "locked" in text or "busy" in text:
        return BackendUnavailable(f"SQLite database {_shown(path)} is locked by another writer")
    return BackendUnavailable(f"SQLite database {_shown(path)}: {text}")


@contextlib.contextmanager
def _translated(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except (sqlite3.OperationalError, sqlite3.DatabaseError) as err:
        raise _unavailable(err, path) from err
    except UnicodeEncodeError as err:
        msg = (
            f"text must be valid Unicode (no lone surrogates): {err.object[err.start : err.end]!r}"
        )
        raise ValidationError.at("", msg) from err
    except OverflowError as err:
        raise ValidationError.at("", f"a number is out of range for SQLite: {err}") from err


class SqliteBackend:
    """Documents in one SQLite file, with a small pool of connections."""

    stores_objects: ClassVar[bool] = False

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        synchronous: str = "normal",
        journal_mode: str = "wal",
        busy_timeout: int = 30_000,
        cache_size: int = 65_536,
        url: str | None = None,
    ) -> None:
        if synchronous not in _SYNCHRONOUS:
            raise ValidationError.at("synchronous", f"must be one of {', '.join(_SYNCHRONOUS)}")
        if journal_mode not in _JOURNAL:
            raise ValidationError.at("journal_mode", f"must be one of {', '.join(_JOURNAL)}")
        if not 0 <= busy_timeout <= _MAX_NUMBER:
            raise ValidationError.at("busy_timeout", f"must be from 0 to {_MAX_NUMBER} ms")
        if (
            isinstance(cache_size, bool)
            or not isinstance(cache_size, int)
            or not 0 <= cache_size <= _MAX_NUMBER
        ):
            msg = f"must be a number of KiB from 0 to {_MAX_NUMBER}"
            raise ValidationError.at("cache_size", msg)
        if path is not None and "\x00" in str(path):
            raise ValidationError.at("path", "a database path cannot contain NUL characters")
        self._tempdir: str | None = None
        if path is None:
            shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside RAM-backed storage
            base = str(shm) if shm.is_dir() else None
            try:
                self._tempdir = tempfile.mkdtemp(prefix="csdomain-", dir=base)
            except OSError as err:
                msg = f"cannot make a temporary database: {err.strerror}"
                raise BackendUnavailable(msg) from None
            path = Path(self._tempdir) / "store.db"
        self.path = str(path)
        self.url = url or f"sqlite:///{self.path}"
        self.synchronous = synchronous
        self.journal_mode = journal_mode
        self.busy_timeout = busy_timeout
        self.cache_size = cache_size
        self._pool: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._ready: dict[str, KindSchema] = {}
        self._sql: dict[str, KindSql] = {}
        #: What recomputes a ready kind's index values (for a migration at its first write).
        self._reindex: dict[str, Callable[[Any], Mapping[str, IndexValue]]] = {}
        self._closed = False
        parent = Path(self.path).parent
        try:
            found = parent.is_dir()
        except OSError as err:
            msg = f"cannot use the path {_shown(self.path)}: {err.strerror}"
            raise BackendUnavailable(msg) from None
        if not found:
            msg = f"directory {_shown(parent)} does not exist"
            raise BackendUnavailable(msg)
        conn = self._connect()
        try:
            self._init_meta(conn)
        finally:
            self._release(conn)

    @classmethod
    def from_url(cls, url: str) -> SqliteBackend:
        """Open the database a ``sqlite:`` URL names (see the module docstring)."""
        try:
            parts = urlsplit(url)
        except ValueError as err:
            raise ValidationError.at("url", f"not a sqlite URL: {err}") from None
        if parts.scheme != "sqlite" or "\x00" in url:
            raise ValidationError.at("url", f"not a sqlite URL: {short_repr(url)}")
        if parts.netloc:
            msg = (
                "sqlite URLs have no host: sqlite:///rel.db or sqlite:////abs.db "
                f"({short_repr(url)})"
            )
            raise ValidationError.at("url", msg)
        if parts.fragment or url.endswith("#"):
            raise ValidationError.at("url", "sqlite URLs have no #fragment")
        options: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name in ("synchronous", "journal_mode"):
                options[name] = value.lower()
            elif name in _NUMBER_UNITS:
                unit = _NUMBER_UNITS[name]
                if not (value.isascii() and value.isdigit()):
                    msg = f"not a number of {unit}: {short_repr(value)}"
                    raise ValidationError.at(name, msg)
                if int(value) > _MAX_NUMBER:
                    raise ValidationError.at(name, f"must be at most {_MAX_NUMBER} {unit}")
                options[name] = int(value)
            else:
                shown = name if len(name) <= 40 else name[:37] + "..."
                raise ValidationError.at(shown, "unknown sqlite URL option")
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if path in ("", ":memory:"):
            return cls(None, url=url, **options)
        return cls(path, url=url, **options)

    # connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout)}")
            conn.execute(f"PRAGMA journal_mode = {self.journal_mode}")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute(f"PRAGMA cache_size = {-int(self.cache_size)}")
            conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as err:
            raise _unavailable(err, self.path) from err
        return conn

    def _acquire(self) -> sqlite3.Connection:
        if self._closed:
            msg = f"the store {self.url} is closed"
            raise BackendUnavailable(msg)
        with self._lock:
            if self._pool:
                return self._pool.pop()
        return self._connect()

    def _release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        with self._lock:
            if not self._closed and len(self._pool) < 8:
                self._pool.append(conn)
                return
        conn.close()

    def _init_meta(self, conn: sqlite3.Connection) -> None:
        with _translated(self.path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in META_TABLES:
                    conn.execute(statement)
                row = conn.execute(
                    "SELECT value FROM csdomain_meta WHERE name = 'schema_version'"
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO csdomain_meta (name, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                    conn.execute(_SET_META, (_SECURE_SINCE_CREATION, "1"))
                elif int(row[0]) > SCHEMA_VERSION:
                    msg = (
                        f"{self.path} was written by a newer csdomain "
                        f"(schema {row[0]} > {SCHEMA_VERSION})"
                    )
                    raise BackendUnavailable(msg)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def begin(self, *, readonly: bool = False) -> SqliteTransaction:
        """A transaction on a pooled connection (started lazily at its first statement)."""
        return SqliteTransaction(self, self._acquire(), readonly=readonly)

    def close(self) -> None:
        """Close pooled connections and remove a throwaway database."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def integrity_check(self) -> list[str]:
        """Problems ``PRAGMA integrity_check`` reports (empty when the file is sound)."""
        conn = self._acquire()
        try:
            with _translated(self.path):
                rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            self._release(conn)
        return [r[0] for r in rows if r[0] != "ok"]

    def purge_erased(self, kinds: Sequence[str]) -> None:
        """Leave no erased value in the database file, its write-ahead log or journal.

        ``secure_delete`` has zeroed the deleted content in the pages the erasure wrote;
        the old page images are still in the WAL (or a ``persist`` journal): a
        ``wal_checkpoint(TRUNCATE)`` writes the new pages into the database and empties
        the log. A file an older csdomain wrote without ``secure_delete`` is rebuilt once
        (``VACUUM``), since its free space may still hold values from before. The whole
        file is purged, whichever ``kinds`` erased; :class:`BackendUnavailable` when
        readers kept the log busy beyond the busy timeout (call it again).
        """
        del kinds  # every kind lives in the one file
        conn = self._acquire()
        try:
            with _translated(self.path):
                row = conn.execute(_META["get_meta"], (_SECURE_SINCE_CREATION,)).fetchone()
                if row is None or row[0] != "1":
                    conn.execute("VACUUM")
                    conn.execute(_SET_META, (_SECURE_SINCE_CREATION, "1"))
                if self.journal_mode == "wal":
                    busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    if busy:
                        msg = (
                            f"SQLite database {_shown(self.path)}: readers kept the write-ahead "
                            "log busy; old page images remain in it until the next checkpoint"
                        )
                        raise BackendUnavailable(msg)
                elif self.journal_mode == "persist":
                    self._empty_persistent_journal(conn)
        finally:
            self._release(conn)

    def _empty_persistent_journal(self, conn: sqlite3.Connection) -> None:
        """Truncate a ``persist`` journal, which keeps the page images of the last write:
        one small write with ``journal_size_limit = 0`` makes SQLite truncate it (a row
        written and removed again: a write that changes nothing would not touch a page)."""
        conn.execute("PRAGMA journal_size_limit = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_SET_META, ("journal_purge", "1"))
                conn.execute("DELETE FROM csdomain_meta WHERE name = 'journal_purge'")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.execute("PRAGMA journal_size_limit = -1")

    def kind_sql(self, kind: str) -> KindSql:
        """The prepared statement texts of a ready kind."""
        return self._sql[kind]

    def __repr__(self) -> str:
        return f"SqliteBackend({self.url!r})"


def _indexes_on(conn: sqlite3.Connection, t: str, col: str) -> list[str]:
    """The indexes of table ``t`` that cover column ``col``, composite ones included
    (SQLite refuses to drop a column that an index still names)."""
    names = [str(row[1]) for row in conn.execute(f"PRAGMA index_list({t})")]
    return [
        name
        for name in names
        if any(info[2] == col for info in conn.execute(f'PRAGMA index_info("{name}")'))
    ]


def _stored_schema(conn: sqlite3.Connection, kind: str) -> dict[str, str] | None:
    """The index columns the database holds for ``kind`` (``None``: not set up)."""
    row = conn.execute("SELECT indexes FROM csdomain_kinds WHERE kind = ?", (kind,)).fetchone()
    return None if row is None else dict(orjson.loads(row[0]))


def _stored_schemas(conn: sqlite3.Connection) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Every kind's stored index columns, and the names of the indexes the file holds."""
    kinds = {
        str(kind): dict(orjson.loads(indexes))
        for kind, indexes in conn.execute("SELECT kind, indexes FROM csdomain_kinds")
    }
    names = {str(row[0]) for row in conn.execute(_INDEX_NAMES)}
    return kinds, names


_INDEX_NAMES = "SELECT name FROM sqlite_master WHERE type = 'index'"
#: A read that makes a transaction hold its snapshot.
_HOLD_SNAPSHOT = "SELECT count(*) FROM csdomain_meta"


def _up_to_date(
    schema: KindSchema, stored: Mapping[str, dict[str, str]], index_names: set[str]
) -> bool:
    """Whether nothing needs writing for ``schema`` now: its table is not there yet (the
    first write creates it, :func:`_missing_table`) or it has these index columns and
    every composite index."""
    found = stored.get(schema.name)
    if found is None:
        return True
    return found == dict(schema.indexes) and all(
        index_name(schema.name, group) in index_names for group in schema.composite
    )


def _missing_table(err: sqlite3.Error, kind: str) -> bool:
    """Whether ``err`` says that ``kind``'s table does not exist (not created yet: a kind
    gets its table and indexes at its first write)."""
    return isinstance(err, sqlite3.OperationalError) and str(err) == f"no such table: {table(kind)}"


def _migrate_kind(
    conn: sqlite3.Connection,
    schema: KindSchema,
    sql: KindSql,
    reindex: Callable[[Any], Mapping[str, IndexValue]],
) -> None:
    before = _stored_schema(conn, schema.name)
    wanted = dict(schema.indexes)
    if before is None:
        for statement in sql.create:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO csdomain_kinds (kind, indexes) VALUES (?, ?)",
            (schema.name, orjson.dumps(wanted).decode()),
        )
        return
    stored = before
    if stored == wanted:
        for group in schema.composite:
            conn.execute(create_index(schema.name, group))
        return
    t = table(schema.name)
    for name, stored_type in stored.items():
        if wanted.get(name) != stored_type:
            for index in _indexes_on(conn, t, column(name)):
                conn.execute(f'DROP INDEX IF EXISTS "{index}"')
            conn.execute(f"ALTER TABLE {t} DROP COLUMN {column(name)}")
    added = [n for n in wanted if stored.get(n) != wanted[n]]
    for name in added:
        conn.execute(f"ALTER TABLE {t} ADD COLUMN {column(name)} {SQLITE.types[wanted[name]]}")
        conn.execute(create_index(schema.name, (name,)))
    for group in schema.composite:
        conn.execute(create_index(schema.name, group))
    if added:
        sets = ", ".join(f"{column(n)} = ?" for n in added)
        cursor = conn.execute(f"SELECT key, doc FROM {t}")
        while batch := cursor.fetchmany(_FETCH):
            updates = []
            for key, doc in batch:
                values = reindex(doc)
                updates.append((*(values[n] for n in added), key))
            conn.executemany(f"UPDATE {t} SET {sets} WHERE key = ?", updates)
    conn.execute(
        "UPDATE csdomain_kinds SET indexes = ? WHERE kind = ?",
        (orjson.dumps(wanted).decode(), schema.name),
    )


class SqliteTransaction:
    """One SQLite transaction; ``BEGIN IMMEDIATE`` for writers, deferred for readers."""

    def __init__(self, backend: SqliteBackend, conn: sqlite3.Connection, *, readonly: bool):
        self._backend = backend
        self._conn: sqlite3.Connection | None = conn
        self._readonly = readonly
        self._begun = False
        #: Kinds this transaction created or migrated: visible to it alone until it commits.
        self._pending: dict[str, tuple[KindSchema, KindSql]] = {}
        self._path = backend.path

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, with the transaction started."""
        conn = self._conn
        if conn is None:
            msg = "the transaction has ended"
            raise ValidationError.at("", msg)
        if not self._begun:
            with _translated(self._path):
                conn.execute("BEGIN" if self._readonly else "BEGIN IMMEDIATE")
            self._begun = True
        return conn

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        """Migrate a kind's table if the file holds it with other index columns (in its
        own transaction when none is open); a kind the file does not hold yet gets its
        table and indexes at its first write, and reads of it find nothing until then."""
        backend = self._backend
        if backend._ready.get(schema.name) == schema:
            return
        pending = self._pending.get(schema.name)
        if pending is not None and pending[0] == schema:
            return
        if not self._begun and not self._pending:
            self.ensure_kinds([(schema, reindex)])
            return
        sql = KindSql.build(SQLITE, schema)
        backend._reindex[schema.name] = reindex
        with _translated(self._path):
            stored = _stored_schema(self.conn, schema.name)
        if stored is not None and stored != dict(schema.indexes):
            if self._readonly:
                # A read-only transaction cannot migrate; a kind stored with these
                # columns, or not stored at all, needs nothing written.
                msg = f"kind {schema.name!r} is not set up; open a writing unit of work first"
                raise ValidationError.at("", msg)
            with _translated(self._path):
                _migrate_kind(self.conn, schema, sql, reindex)
        elif stored is not None and not self._readonly:
            with _translated(self._path):
                for group in schema.composite:
                    self.conn.execute(create_index(schema.name, group))
        self._pending[schema.name] = (schema, sql)

    def ensure_kinds(
        self, kinds: Sequence[tuple[KindSchema, Callable[[Any], Mapping[str, IndexValue]]]]
    ) -> None:
        """:meth:`ensure_kind` for several kinds. Before the transaction's first statement
        the stored schemas are read at once; only kinds stored with other index columns
        (or missing a composite index) are migrated, together in one transaction. Kinds
        the file does not hold yet cost nothing here: a new store pays only for the
        kinds it writes."""
        backend = self._backend
        todo = [
            (schema, reindex)
            for schema, reindex in kinds
            if backend._ready.get(schema.name) != schema
        ]
        if not todo:
            return
        if self._begun or self._pending:
            for schema, reindex in todo:
                self.ensure_kind(schema, reindex)
            return
        conn = self._conn
        assert conn is not None  # noqa: S101 - the transaction is open
        with _translated(self._path):
            stored, index_names = _stored_schemas(conn)
        stale = [item for item in todo if not _up_to_date(item[0], stored, index_names)]
        built = [(schema, reindex, KindSql.build(SQLITE, schema)) for schema, reindex in todo]
        if stale:
            sqls = {schema.name: sql for schema, _reindex, sql in built}
            with _translated(self._path):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for schema, reindex in stale:
                        _migrate_kind(conn, schema, sqls[schema.name], reindex)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        for schema, reindex, sql in built:
            backend._reindex[schema.name] = reindex
            backend._sql[schema.name] = sql
            backend._ready[schema.name] = schema

    def _create(self, kind: str) -> None:
        """Create ``kind``'s table and indexes in this transaction (its first write)."""
        backend = self._backend
        pending = self._pending.get(kind)
        schema, sql = pending if pending is not None else (backend._ready[kind], backend._sql[kind])
        _migrate_kind(self.conn, schema, sql, backend._reindex[kind])
        self._pending[kind] = (schema, sql)

    def _write(
        self, kind: str, statement: str, params: Any, *, many: bool = False
    ) -> sqlite3.Cursor:
        """Run a write of ``kind``, creating its table first if the file has none yet."""
        conn = self.conn
        run = conn.executemany if many else conn.execute
        try:
            return run(statement, params)
        except sqlite3.OperationalError as err:
            if not _missing_table(err, kind):
                raise
        self._create(kind)
        return run(statement, params)

    def _sql(self, kind: str) -> KindSql:
        if self._pending:
            pending = self._pending.get(kind)
            if pending is not None:
                return pending[1]
        try:
            return self._backend._sql[kind]
        except KeyError:
            raise ValidationError.at("kind", f"unknown kind {kind!r}") from None

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        """``(version, doc)`` of ``key``."""
        statement = self._sql(kind).get
        with _translated(self._path):
            cursor = self._read(kind, statement, (key,))
            row = None if cursor is None else cursor.fetchone()
        return None if row is None else (row[0], row[1])

    def _read(self, kind: str, statement: str, params: Any) -> sqlite3.Cursor | None:
        """A read of ``kind``; ``None`` while the kind has no table in this snapshot (its
        table is created at its first write). A read that finds no table runs again once
        the transaction holds its snapshot: a statement that fails to compile does not
        start one, and another process may have created the table since."""
        conn = self.conn
        try:
            return conn.execute(statement, params)
        except sqlite3.OperationalError as err:
            if not _missing_table(err, kind):
                raise
        conn.execute(_HOLD_SNAPSHOT).fetchone()
        try:
            return conn.execute(statement, params)
        except sqlite3.OperationalError as err:
            if not _missing_table(err, kind):
                raise
            return None

    def _require_write(self) -> None:
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        """Insert new documents at version 1."""
        self._require_write()
        sql = self._sql(kind)
        params = [(r.key, r.doc, *r.index.values()) for r in rows]
        try:
            with _translated(self._path):
                if len(params) == 1:
                    self._write(kind, sql.insert, params[0])
                else:
                    self._write(kind, sql.insert, params, many=True)
        except sqlite3.IntegrityError as err:
            raise AlreadyExists(kind, self._taken_key(kind, rows)) from err

    def _taken_key(self, kind: str, rows: Sequence[Row]) -> str:
        seen: set[str] = set()
        for row in rows:
            if row.key in seen or self.get(kind, row.key) is not None:
                return row.key
            seen.add(row.key)
        return rows[0].key if rows else ""

    def restore(self, kind: str, rows: Sequence[Row], versions: Sequence[int]) -> None:
        """Insert new documents, each at its version (import)."""
        self._require_write()
        if len(versions) != len(rows):
            raise ValidationError.at("versions", "one version per row")
        statement = self._sql(kind).restore
        params = [(r.key, v, r.doc, *r.index.values()) for r, v in zip(rows, versions, strict=True)]
        try:
            with _translated(self._path):
                self._write(kind, statement, params, many=True)
        except sqlite3.IntegrityError as err:
            raise AlreadyExists(kind, self._taken_key(kind, rows)) from err

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        """Replace a document at ``expected_version``."""
        self._require_write()
        with _translated(self._path):
            cursor = self._write(
                kind,
                self._sql(kind).update,
                (row.doc, *row.index.values(), row.key, expected_version),
            )
        if cursor.rowcount != 1:
            found = self.get(kind, row.key)
            check_version(kind, row.key, expected_version, None if found is None else found[0])
        return expected_version + 1

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        """Delete a document at ``expected_version``."""
        self._require_write()
        with _translated(self._path):
            cursor = self._write(kind, self._sql(kind).delete, (key, expected_version))
        if cursor.rowcount != 1:
            found = self.get(kind, key)
            check_version(kind, key, expected_version, None if found is None else found[0])

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Matching documents in order, fetched in batches."""
        self._sql(kind)
        sql, params = select_sql(SQLITE, kind, filters, order_by, limit, offset)
        return self._rows(kind, sql, params)

    def find_members(  # noqa: PLR0917 - mirrors find
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[str]:
        """The chosen top-level members of matching documents in order, each row one
        JSON array read with ``json_extract`` (no document leaves the database)."""
        self._sql(kind)
        sql, params = members_sql(SQLITE, kind, members, filters, order_by, limit, offset)
        return map(itemgetter(0), self._rows(kind, sql, params))

    def _rows(self, kind: str, sql: str, params: Any) -> Iterator[Any]:
        """The rows of a query of ``kind``, fetched in batches; none while the kind has no
        table in this snapshot (its table is created at its first write)."""
        try:
            cursor = self._read(kind, sql, params)
            if cursor is None:
                return  # not written yet in this snapshot: nothing to find
            batch = cursor.fetchmany(_FETCH)
        except (sqlite3.Error, UnicodeEncodeError, OverflowError) as err:
            with _translated(self._path):
                raise err from None
        yield from batch
        if len(batch) < _FETCH:
            return
        with _translated(self._path):
            while batch := cursor.fetchmany(_FETCH):
                yield from batch

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many documents match."""
        self._sql(kind)
        sql, params = count_sql(SQLITE, kind, filters)
        with _translated(self._path):
            cursor = self._read(kind, sql, params)
            if cursor is None:
                return 0
            row = cursor.fetchone()
        return int(row[0])

    def next_counter(self, name: str) -> int:
        """Increment a counter inside this transaction."""
        self._require_write()
        with _translated(self._path):
            row = self.conn.execute(
                "INSERT INTO csdomain_counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()
        return int(row[0])

    def delete_counter(self, name: str) -> None:
        """Remove a counter (data migrations); nothing happens when it is absent."""
        self._require_write()
        with _translated(self._path):
            self.conn.execute(_META["delete_counter"], (name,))

    def list_counters(self) -> Iterator[tuple[str, int]]:
        """Every counter by name (SQLite compares text by its UTF-8 bytes: code points)."""
        with _translated(self._path):
            cursor = self.conn.execute(_META["list_counters"])
            while batch := cursor.fetchmany(_FETCH):
                for name, value in batch:
                    yield str(name), int(value)

    def restore_counter(self, name: str, value: int) -> None:
        """Create a counter at ``value`` (import)."""
        self._require_write()
        with _translated(self._path):
            cursor = self.conn.execute(_META["restore_counter"], (name, value))
        if cursor.rowcount != 1:
            raise AlreadyExists("counter", name)

    def commit(self) -> None:
        """Commit and hand the connection back to the pool."""
        conn = self._conn
        if conn is None:
            return
        try:
            if self._begun:
                with _translated(self._path):
                    conn.execute("COMMIT")
            backend = self._backend
            for name, (schema, sql) in self._pending.items():
                backend._sql[name] = sql
                backend._ready[name] = schema
        finally:
            self._finish(conn)

    def rollback(self) -> None:
        """Roll back and hand the connection back to the pool."""
        conn = self._conn
        if conn is None:
            return
        try:
            if self._begun and conn.in_transaction:
                with _translated(self._path):
                    conn.execute("ROLLBACK")
        finally:
            self._finish(conn)

    def _finish(self, conn: sqlite3.Connection) -> None:
        self._conn = None
        self._pending = {}
        self._backend._release(conn)
