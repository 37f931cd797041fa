"""The PostgreSQL backend: psycopg 3, a connection pool, one table per kind.

URL: ``postgresql://user:password@host:port/dbname`` (``postgres://`` is accepted too;
user, password, host, port and database may be left to libpq's defaults and
``PG*`` environment variables; a Unix socket directory goes in percent-encoded as the
host or as ``?host=/run/postgresql``). Query options:

- ``pool_size`` = most connections the pool opens (default 10)
- ``pool_timeout`` = seconds a unit of work waits for a free connection (default 30)
- ``connect_timeout`` = seconds to wait for the server when connecting (default 10)
- ``schema`` = the schema that holds csdomain's tables, created if missing (default: the
  first schema of the server's ``search_path``, usually ``public``)
- ``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey``, ``application_name``,
  ``target_session_attrs`` = passed on to libpq

Each kind is a table ``k_<kind>`` with the key, the version, the document as ``JSONB`` and
one typed, indexed column per declared index field (SQL from :mod:`csdomain.store.sql`, shared
with SQLite). Transactions are ``REPEATABLE READ``: every unit of work reads one snapshot,
like the memory backend; a versioned update of a stale or concurrently changed document is
a :class:`~csdomain.errors.ConcurrencyConflict`. Driver errors come out as csdomain
errors; a server that is down or refuses the login is a
:class:`~csdomain.errors.BackendUnavailable` whose message never holds the credentials.

Under load (issue #19 item 5): counters never conflict (:data:`NEXT_COUNTER_FUNCTION`), and
a unit of work re-run after a conflict on a document locks it before its snapshot
(:meth:`PostgresTransaction._locked_write`), so it is not overtaken there again. The pool
drops connections the server hung up on before handing them out, so the store goes on by
itself after a server restart (issue #19 item 7).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import re
import select
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import orjson
import psycopg
import psycopg.errors
from psycopg import IsolationLevel, pq
from psycopg.adapt import AdaptersMap, Buffer, Dumper, Loader
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from csdomain.errors import (
    AlreadyExists,
    BackendUnavailable,
    ConcurrencyConflict,
    CsDomainError,
    ValidationError,
)
from csdomain.store.fields import members_sql
from csdomain.store.spi import (
    Filter,
    IndexType,
    IndexValue,
    KindSchema,
    Row,
    check_version,
    short_repr,
)
from csdomain.store.sql import (
    META_TABLES,
    Dialect,
    KindSql,
    Lock,
    count_sql,
    create_index,
    index_name,
    meta_sql,
    migration_sql,
    reindex_sql,
    select_sql,
    table,
)


__all__ = ["POSTGRES", "SCHEMA_VERSION", "WAKE_KINDS", "PostgresBackend", "PostgresTransaction"]

POSTGRES = Dialect(
    name="postgresql",
    param="%s",
    doc_type="JSONB",
    types={"text": 'TEXT COLLATE "C"', "integer": "BIGINT", "real": "DOUBLE PRECISION"},
    key_type='TEXT COLLATE "C"',
    raw_type="BYTEA",
    insert_suffix=" ON CONFLICT (key) DO NOTHING",
    max_identifier=63,
    row_locks=True,
    code_point_order=' COLLATE "C"',
)

#: Version of the backend's own table layout (kind tables are migrated separately): 2 keeps
#: one counter row per number issued (:data:`NEXT_COUNTER_FUNCTION`).
SCHEMA_VERSION = 2
#: Oldest server this backend runs on (``pg_current_xact_id`` came with 13).
MIN_SERVER_VERSION = 130000
#: Kinds whose writes wake a waiting dispatcher (``LISTEN``/``NOTIFY``).
WAKE_KINDS = frozenset({"outbox", "message"})

_FETCH = 500
_LIBPQ_OPTIONS = frozenset(
    {"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name", "target_session_attrs"}
)
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_KIND = re.compile(r"[a-z_][a-z0-9_]{0,60}")
_DIGITS = re.compile(r"[0-9]{1,10}")
_MAX_PORT = 65535
_MAX_POOL = 10_000
#: Longest timeout a URL may ask for (a day), in seconds.
_MAX_SECONDS = 86_400
_NUL_ESCAPE = b"\\u0000"
_LOGIN_REFUSED = re.compile(r"authentication failed|no pg_hba\.conf entry|role .* does not exist")
_NO_DATABASE = re.compile(r"database .* does not exist")
_IDLE = pq.TransactionStatus.IDLE
_INERROR = pq.TransactionStatus.INERROR
_DB_ERRORS = (psycopg.Error, UnicodeEncodeError)
#: What the server's transaction-rollback SQLSTATEs (class 40) mean, for conflict messages.
_ROLLBACK_REASONS = {
    "40001": "serialization failure: a concurrent unit of work changed what this one read or wrote",
    "40P01": "deadlock detected: a concurrent unit of work waited for locks this one held",
}
_cursor_names = itertools.count()
#: Most rows a transaction takes a row-update lock for (an advisory lock each, see
#: :meth:`PostgresTransaction.update`): PostgreSQL's lock table is small and shared.
ROW_UPDATE_LOCKS = 16
#: Most rows a unit of work that conflicted locks before its re-run's snapshot.
RETRY_LOCKS = 16

#: Schema 2: a counter is the rows of its name, one per number issued, unique by
#: ``(name, value)``. Taking a number inserts the next value above the greatest one the
#: snapshot shows; a value another unit of work committed after the snapshot is a unique
#: violation inside the loop's subtransaction, and the next value is tried. No step of it
#: can fail with a serialization failure under ``REPEATABLE READ`` (only a plain row
#: update or ``ON CONFLICT`` on a row newer than the snapshot does), a value held by a
#: running unit of work is waited for (taken by the next one if that one rolls back, so
#: no gap), and the unique index rules out the same number twice.
_COUNTER_LAYOUT = (
    "ALTER TABLE csdomain_counters DROP CONSTRAINT csdomain_counters_pkey, "
    "ADD CONSTRAINT csdomain_counters_pkey PRIMARY KEY (name, value)"
)
NEXT_COUNTER_FUNCTION = """\
CREATE OR REPLACE FUNCTION csdomain_next_counter(counter_name TEXT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    taken BIGINT;
BEGIN
    SELECT coalesce(max(value), 0) INTO taken FROM csdomain_counters WHERE name = counter_name;
    LOOP
        taken := taken + 1;
        BEGIN
            INSERT INTO csdomain_counters (name, value) VALUES (counter_name, taken);
            RETURN taken;
        EXCEPTION WHEN unique_violation THEN
            NULL;  -- issued by a unit of work that committed after this one's snapshot
        END;
    END LOOP;
END
$$"""
_COUNTER_SQL = {
    "next": "SELECT csdomain_next_counter(%s)",
    "list": (
        'SELECT name, max(value) FROM csdomain_counters GROUP BY name ORDER BY name COLLATE "C"'
    ),
    "restore": (
        "INSERT INTO csdomain_counters (name, value) SELECT %s, %s "
        "WHERE NOT EXISTS (SELECT 1 FROM csdomain_counters WHERE name = %s)"
    ),
    "delete": "DELETE FROM csdomain_counters WHERE name = %s",
}


# -- values the server cannot hold as they are --------------------------------------------------


def _to_text(value: str) -> str:
    """A TEXT value for ``value``: PostgreSQL refuses NUL, so NUL and its escape are
    escaped (``\\x01`` -> ``\\x01\\x02``, ``\\x00`` -> ``\\x01\\x01``), keeping byte order."""
    if "\x00" in value or "\x01" in value:
        return value.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
    return value


def _from_text(value: str) -> str:
    """The string :func:`_to_text` turned into ``value``."""
    if "\x01" in value:
        return value.replace("\x01\x01", "\x00").replace("\x01\x02", "\x01")
    return value


def _index_params(values: Iterable[IndexValue]) -> list[IndexValue]:
    return [_to_text(v) if isinstance(v, str) else v for v in values]


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _doc_params(doc: bytes) -> tuple[bytes, memoryview | None]:
    """``(doc, raw)`` parameters: JSONB cannot hold NUL characters, so a document with
    one is kept verbatim in ``raw`` and ``doc`` gets a copy with U+FFFD in their place."""
    if _NUL_ESCAPE not in doc:
        return doc, None
    return orjson.dumps(_without_nul(orjson.loads(doc))), memoryview(doc)


class _JsonbDumper(Dumper):
    """Sends the converter's JSON bytes as ``jsonb`` text, without re-encoding."""

    oid = psycopg.postgres.types["jsonb"].oid

    def dump(self, obj: Buffer) -> Buffer:
        return obj


class _JsonbLoader(Loader):
    """Hands ``jsonb`` values back as JSON bytes for the core's decoder."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


_ADAPTERS = AdaptersMap(psycopg.adapters)
_ADAPTERS.register_dumper(bytes, _JsonbDumper)
_ADAPTERS.register_loader("jsonb", _JsonbLoader)


# -- connection targets and their errors ----------------------------------------------------------


def _short(name: str) -> str:
    """An option name short enough for an error path."""
    return name if len(name) <= 40 else name[:37] + "..."


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class _Target:
    """Where and as whom to connect; only :meth:`describe` is ever shown to people."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = {k: v for k, v in params.items() if v is not None and v != ""}
        self.secrets = [
            str(self.params[k]) for k in ("password", "user") if str(self.params.get(k, ""))
        ]

    def describe(self) -> str:
        host = self.params.get("host") or "localhost"
        port = self.params.get("port") or 5432
        db = self.params.get("dbname") or "(default database)"
        return f"{host}:{port}/{db}"

    def scrub(self, text: str) -> str:
        """``text`` with the password and the quoted user name blanked out."""
        for secret in self.secrets:
            text = text.replace(f'"{secret}"', '"***"')
        password = self.params.get("password")
        if password:
            text = text.replace(str(password), "***")
        return text

    def unavailable(self, err: BaseException, doing: str = "") -> BackendUnavailable:
        """A :class:`BackendUnavailable` for ``err`` that names no credentials."""
        where = self.describe()
        state = getattr(err, "sqlstate", None)
        text = str(err)
        if state in ("28P01", "28000") or _LOGIN_REFUSED.search(text):
            reason = (
                "the server refused the login (wrong user name or password, or no pg_hba entry)"
            )
        elif state == "3D000" or _NO_DATABASE.search(text):
            reason = "the database does not exist"
        elif state == "53300":
            reason = "the server has no free connection slots"
        elif state in ("57P01", "57P02", "57P03"):
            reason = "the server is shutting down or starting up"
        elif isinstance(err, PoolTimeout):
            reason = "no connection became free in time (server down, or the pool is too small)"
        elif isinstance(err, PoolClosed):
            reason = "the store is closed"
        else:
            reason = self.scrub(_first_line(err))
        prefix = f"{doing}: " if doing else ""
        return BackendUnavailable(f"{prefix}PostgreSQL at {where}: {reason}")


def _is_conflict(err: BaseException) -> bool:
    """Whether ``err`` is a transaction rollback (SQLSTATE class 40: serialization failure,
    deadlock): the server undid the transaction, and running it again can succeed."""
    return (getattr(err, "sqlstate", None) or "").startswith("40")


def _conflict(
    err: BaseException, kind: str = "", key: str = "", expected: int = 0, doing: str = ""
) -> ConcurrencyConflict:
    """The :class:`ConcurrencyConflict` for a serialization failure or deadlock, with a
    message that says what conflicted and why (no stored version is known)."""
    state = str(getattr(err, "sqlstate", None) or "")
    reason = _ROLLBACK_REASONS.get(state) or f"transaction rolled back: {_first_line(err)}"
    if doing:
        what = doing
    elif kind and key:
        what = f"{kind} {short_repr(key)}"
    elif kind:
        what = kind
    else:
        what = "the unit of work"
    conflict = ConcurrencyConflict(kind or "transaction", key, expected, None)
    message = (
        f"{what} conflicted with a concurrent unit of work on PostgreSQL ({reason}; "
        f"SQLSTATE {state}); nothing of this unit of work was written, run it again"
    )
    conflict.args = (message,)
    return conflict


def _parse_netloc(netloc: str) -> dict[str, Any]:
    userinfo, _, hostport = netloc.rpartition("@")
    params: dict[str, Any] = {}
    if userinfo:
        user, colon, password = userinfo.partition(":")
        params["user"] = unquote(user) or None
        if colon:
            params["password"] = unquote(password)
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    params["host"] = unquote(host) or None
    if port:
        if not _DIGITS.fullmatch(port) or not 0 < int(port) <= _MAX_PORT:
            raise ValidationError.at("url", f"bad port {short_repr(port)}")
        params["port"] = int(port)
    return params


def _whole_number(name: str, value: str, maximum: int) -> int:
    """A URL option that is a whole number from 1 to ``maximum`` (ASCII digits only)."""
    if not _DIGITS.fullmatch(value):
        raise ValidationError.at(name, f"not a whole number: {short_repr(value)}")
    number = int(value)
    if not 0 < number <= maximum:
        raise ValidationError.at(name, f"must be from 1 to {maximum}")
    return number


def _seconds(name: str, value: str) -> float:
    """A URL option that is a positive, finite number of seconds."""
    try:
        number = float(value)
    except ValueError:
        raise ValidationError.at(name, f"not a number: {short_repr(value)}") from None
    if not 0 < number <= _MAX_SECONDS:
        raise ValidationError.at(name, f"must be a number of seconds from 0 to {_MAX_SECONDS}")
    return number


# -- the backend ---------------------------------------------------------------------------------


class PostgresBackend:
    """Documents in a PostgreSQL database, through a pool of psycopg connections."""

    stores_objects: ClassVar[bool] = False

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        dbname: str | None = None,
        user: str | None = None,
        password: str | None = None,
        schema: str | None = None,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        connect_timeout: int = 10,
        options: Mapping[str, str] | None = None,
        wake_kinds: Iterable[str] = WAKE_KINDS,
        url: str | None = None,
    ) -> None:
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValidationError.at("pool_size", "must be a positive integer")
        if not 0 < pool_timeout <= _MAX_SECONDS:
            raise ValidationError.at("pool_timeout", "must be positive (and finite)")
        if not 1 <= connect_timeout <= _MAX_SECONDS:
            raise ValidationError.at("connect_timeout", "must be at least 1 second")
        if schema is not None and not _SCHEMA.fullmatch(schema):
            raise ValidationError.at("schema", "use lower-case letters, digits and _ (41 at most)")
        extra = dict(options or {})
        unknown = set(extra) - _LIBPQ_OPTIONS
        if unknown:
            raise ValidationError.at(
                _short(sorted(unknown)[0]), "unknown PostgreSQL connection option"
            )
        params: dict[str, Any] = {
            "host": host,
            "port": port,
            "dbname": dbname,
            "user": user,
            "password": password,
            "connect_timeout": connect_timeout,
            "application_name": "csdomain",
            "client_encoding": "utf8",
            **extra,
        }
        if schema is not None:
            params["options"] = f"-c search_path={schema}"
        self._target = _Target(params)
        self.schema = schema
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.url = url or self._safe_url(extra, schema)
        self.channel = f"csdomain_work_{schema}" if schema else "csdomain_work"
        self.wake_kinds = frozenset(wake_kinds)
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"csdomain:{schema or ''}".encode()).digest()[:8], "big", signed=True
        )
        self._ready: dict[str, KindSchema] = {}
        self._sql: dict[str, KindSql] = {}
        self._closed = False
        self._listener: psycopg.Connection[Any] | None = None
        self._listen_lock = threading.Lock()
        #: Per thread: the rows the last unit of work conflicted on, locked before the
        #: snapshot of the thread's next writing one (its re-run).
        self._retry = threading.local()
        conn = self._connect(doing="cannot open the store")
        try:
            self._check_server(conn)
            self._init_meta(conn)
        finally:
            conn.close()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            kwargs={**self._connect_kwargs(), "autocommit": False},
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=_configure,
            check=_still_connected,
            timeout=pool_timeout,
            name=f"csdomain {self._target.describe()}",
        )
        self._pool.open(wait=False)

    @classmethod
    def from_url(cls, url: str) -> PostgresBackend:
        """Open the database a ``postgresql:`` URL names (see the module docstring)."""
        try:
            parts = urlsplit(url)
        except ValueError as err:
            raise ValidationError.at("url", f"not a postgresql:// URL: {err}") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValidationError.at("url", "not a postgresql:// URL")
        if parts.fragment:
            raise ValidationError.at("url", "postgresql URLs have no #fragment")
        params = _parse_netloc(parts.netloc)
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        params["dbname"] = path or None
        options: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if "\x00" in value:
                raise ValidationError.at(_short(name), "must not contain NUL characters")
            if name == "pool_size":
                params[name] = _whole_number(name, value, _MAX_POOL)
            elif name == "pool_timeout":
                params[name] = _seconds(name, value)
            elif name == "connect_timeout":
                params[name] = _whole_number(name, value, _MAX_SECONDS)
            elif name == "schema":
                params[name] = value
            elif name == "host":
                params["host"] = value
            elif name == "port":
                params["port"] = _whole_number(name, value, _MAX_PORT)
            elif name in _LIBPQ_OPTIONS:
                options[name] = value
            else:
                raise ValidationError.at(_short(name), "unknown postgresql URL option")
        for name in ("user", "password", "host", "dbname"):
            if "\x00" in str(params.get(name) or ""):
                raise ValidationError.at("url", f"the {name} must not contain NUL characters")
        return cls(options=options, **params)

    def _safe_url(self, options: Mapping[str, str], schema: str | None) -> str:
        p = self._target.params
        user = quote(str(p["user"]), safe="") + "@" if p.get("user") else ""
        host = str(p.get("host") or "")
        shown = f"[{host}]" if ":" in host else quote(host, safe="")
        port = f":{p['port']}" if p.get("port") else ""
        db = quote(str(p.get("dbname") or ""), safe="")
        query = dict(options)
        if schema:
            query["schema"] = schema
        if self.pool_size != 10:
            query["pool_size"] = str(self.pool_size)
        if self.pool_timeout != 30.0:
            query["pool_timeout"] = f"{self.pool_timeout:g}"
        if p.get("connect_timeout") != 10:
            query["connect_timeout"] = str(p["connect_timeout"])
        tail = f"?{urlencode(sorted(query.items()))}" if query else ""
        return f"postgresql://{user}{shown}{port}/{db}{tail}"

    # connections -------------------------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        return {**self._target.params, "context": _ADAPTERS}

    def _connect(self, *, autocommit: bool = False, doing: str = "") -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(**self._connect_kwargs(), autocommit=autocommit)
        except psycopg.Error as err:
            raise self._target.unavailable(err, doing) from None

    def _check_server(self, conn: psycopg.Connection[Any]) -> None:
        version = conn.info.server_version
        if version < MIN_SERVER_VERSION:
            msg = (
                f"PostgreSQL at {self._target.describe()} is version {version}; 13 or newer needed"
            )
            raise BackendUnavailable(msg)
        encoding = conn.info.parameter_status("server_encoding")
        if encoding != "UTF8":
            msg = f"the database at {self._target.describe()} uses {encoding}; csdomain needs UTF8"
            raise BackendUnavailable(msg)

    def _init_meta(self, conn: psycopg.Connection[Any]) -> None:
        conn.isolation_level = IsolationLevel.READ_COMMITTED
        meta = meta_sql(POSTGRES)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                if self.schema is not None:
                    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                for statement in META_TABLES:
                    cur.execute(statement)
                row = cur.execute(meta["get_meta"], ("schema_version",)).fetchone()
                stored = 0 if row is None else int(row[0])
                if stored > SCHEMA_VERSION:
                    msg = (
                        f"the database at {self._target.describe()} was written by a newer "
                        f"csdomain (schema {stored} > {SCHEMA_VERSION})"
                    )
                    raise BackendUnavailable(msg)
                if stored < SCHEMA_VERSION:
                    # schema 1 kept one row per counter (name the key, updated in place)
                    cur.execute(_COUNTER_LAYOUT)
                    cur.execute(NEXT_COUNTER_FUNCTION)
                    cur.execute(meta["set_meta"], ("schema_version", str(SCHEMA_VERSION)))
            conn.commit()
        except psycopg.Error as err:
            raise self._target.unavailable(err, "cannot set up the store") from err

    def begin(self, *, readonly: bool = False) -> PostgresTransaction:
        """A transaction on a pooled connection (``BEGIN`` is sent with its first statement)."""
        if self._closed:
            msg = f"the store {self.url} is closed"
            raise BackendUnavailable(msg)
        try:
            conn = self._pool.getconn()
        except psycopg.Error as err:
            raise self._target.unavailable(err) from None
        locks: tuple[int, ...] = () if readonly else self._retry_locks()
        try:
            if locks:
                self._lock_before_snapshot(conn, locks)
            conn.read_only = readonly
        except psycopg.Error as err:
            self._discard(conn)
            if _is_conflict(err):
                self.remember_conflict(locks)
                raise _conflict(err, doing="waiting for the rows a re-run locks first") from err
            raise self._target.unavailable(err) from None
        return PostgresTransaction(self, conn, readonly=readonly, locks=locks)

    def row_lock_key(self, kind: str, key: str) -> int:
        """The advisory lock that stands for document ``key`` of ``kind`` (64 bits)."""
        text = f"{self.schema or ''}\x00{kind}\x00{key}".encode("utf-8", "surrogatepass")
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)

    def _retry_locks(self) -> tuple[int, ...]:
        locks: tuple[int, ...] = getattr(self._retry, "locks", ())
        self._retry.locks = ()
        return locks

    def remember_conflict(self, locks: Iterable[int]) -> None:
        """Have this thread's next writing unit of work lock ``locks`` before its snapshot."""
        self._retry.locks = tuple(sorted(set(locks)))[:RETRY_LOCKS]

    @staticmethod
    def _lock_before_snapshot(conn: psycopg.Connection[Any], locks: Sequence[int]) -> None:
        """Take session advisory locks outside any transaction, in order, so that the
        next transaction's snapshot is taken after every holder of them has committed."""
        conn.autocommit = True
        for lock in locks:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
        conn.autocommit = False

    def _discard(self, conn: psycopg.Connection[Any]) -> None:
        """Hand back a connection that may hold session state: closed, so the pool drops it."""
        with contextlib.suppress(psycopg.Error):
            conn.close()
        self._release(conn)

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(PoolClosed):
            self._pool.putconn(conn)

    def wait_for_work(self, timeout: float) -> bool:
        """Wait until a unit of work that wrote one of :attr:`wake_kinds` commits.

        Returns ``True`` when woken, ``False`` after ``timeout`` seconds. Dispatchers
        call it between idle rounds instead of sleeping (``LISTEN``/``NOTIFY``). The first
        call starts listening, so work committed before it is found by the next round.
        """
        if self._closed:
            msg = f"the store {self.url} is closed"
            raise BackendUnavailable(msg)
        with self._listen_lock:
            conn = self._listener
            try:
                if conn is None or conn.closed:
                    conn = self._connect(autocommit=True, doing="cannot listen")
                    conn.execute(f"LISTEN {self.channel}")
                    self._listener = conn
                return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
            except psycopg.Error as err:
                self._close_listener()
                raise self._target.unavailable(err, "cannot listen") from None
            finally:
                if self._closed:
                    self._close_listener()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def close(self) -> None:
        """Close the pool and the listening connection (a dispatcher waiting on it closes
        it when its wait ends)."""
        self._closed = True
        self._pool.close()
        if self._listen_lock.acquire(blocking=False):
            try:
                self._close_listener()
            finally:
                self._listen_lock.release()

    def purge_erased(self, kinds: Sequence[str]) -> None:
        """Make overwritten and deleted content of ``kinds`` unreadable in the table files.

        An update or delete leaves the old row version in the table file until ``VACUUM``
        reclaims it, and plain ``VACUUM`` only marks the space free. ``VACUUM FULL``
        rewrites each kind's table, its TOAST table and its indexes into new files with
        the live rows only, and the old files are deleted. It runs outside a transaction,
        takes the table's ``ACCESS EXCLUSIVE`` lock (waiting for running units of work on
        the kind, blocking new ones until it is done) and keeps a row version that a unit
        of work still running may see. What remains elsewhere (write-ahead log segments
        until they are recycled, base backups, replicas' own files) is documented in
        ``docs/postgres.md``. :class:`BackendUnavailable` when it could not finish.
        """
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        for kind in names:
            if not isinstance(kind, str) or not _KIND.fullmatch(kind):
                raise ValidationError.at("kinds", f"not a kind name: {short_repr(kind)}")
        if self._closed:
            msg = f"the store {self.url} is closed"
            raise BackendUnavailable(msg)
        doing = "cannot purge erased content"
        conn = self._connect(autocommit=True, doing=doing)
        try:
            for kind in sorted(set(names)):
                name = table(kind)
                if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone() != (None,):
                    conn.execute(f"VACUUM (FULL, ANALYZE) {name}")
        except psycopg.Error as err:
            raise self._target.unavailable(err, doing) from err
        finally:
            conn.close()

    def kind_sql(self, kind: str) -> KindSql:
        """The statement texts of a ready kind."""
        return self._sql[kind]

    def __repr__(self) -> str:
        return f"PostgresBackend({self.url!r})"


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.isolation_level = IsolationLevel.REPEATABLE_READ


@functools.cache
def _with_row_lock(statement: str) -> str:
    """``statement`` (an ``UPDATE``/``DELETE`` ending in its ``WHERE`` clause) taking the
    advisory lock given as a first parameter before it touches a row (an uncorrelated
    condition: the server evaluates it once, before the scan)."""
    return (
        "WITH csdomain_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s)) "
        f"{statement} AND EXISTS (SELECT FROM csdomain_lock)"
    )


def _still_connected(conn: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection it is about to hand out: raises when the server
    has hung up (it restarted, crashed or ended the session), so the pool drops it and
    hands out another or a new one, and a unit of work after a restart finds a live one.

    No round trip in the usual case: an idle connection has nothing to read unless the
    server closed it or sent a notice before doing so; only then is the server asked.
    """
    if conn.closed or conn.broken:
        msg = "the connection is closed"
        raise psycopg.OperationalError(msg)
    try:
        ready = _readable(conn.fileno())
    except (OSError, ValueError) as err:
        raise psycopg.OperationalError(str(err)) from err
    if ready:
        ConnectionPool.check_connection(conn)


def _readable(fd: int) -> bool:
    """Whether ``fd`` has something to read (or hung up), without waiting; ``poll`` where
    there is one, as ``select`` refuses descriptors above 1023."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)


# -- kinds ---------------------------------------------------------------------------------------


def _stored_kinds(cur: psycopg.Cursor[Any]) -> dict[str, dict[str, str]]:
    rows = cur.execute("SELECT kind, indexes FROM csdomain_kinds").fetchall()
    return {kind: orjson.loads(indexes) for kind, indexes in rows}


def _migrate_kind(
    conn: psycopg.Connection[Any],
    cur: psycopg.Cursor[Any],
    stored: dict[str, dict[str, str]],
    *,
    schema: KindSchema,
    sql: KindSql,
    reindex: Callable[[Any], Mapping[str, IndexValue]],
) -> None:
    """Create or migrate one kind's table inside the caller's transaction."""
    wanted: dict[str, str] = dict(schema.indexes)
    before = stored.get(schema.name)
    added: list[str] = []
    if before == wanted:
        # Only the composite indexes that are missing: CREATE INDEX, even IF NOT EXISTS,
        # takes a table lock that queues behind every open writer of the kind, and those
        # writers may wait for the set-up lock this transaction holds (a deadlock).
        statements = [
            create_index(schema.name, g, POSTGRES)
            for g in schema.composite
            if cur.execute(
                "SELECT to_regclass(%s)", (index_name(schema.name, g, POSTGRES),)
            ).fetchone()
            == (None,)
        ]
    elif before is None:
        statements = list(sql.create)
    else:
        statements, added = migration_sql(POSTGRES, schema, cast(Mapping[str, IndexType], before))
    with conn.pipeline():
        for statement in statements:
            cur.execute(statement)
        if before != wanted:
            cur.execute(
                meta_sql(POSTGRES)["set_kind"], (schema.name, orjson.dumps(wanted).decode())
            )
    if added:
        select, update = reindex_sql(POSTGRES, schema.name, added)
        with conn.cursor(name=f"csdomain_reindex_{next(_cursor_names)}") as docs:
            docs.execute(select)
            while batch := docs.fetchmany(_FETCH):
                updates = []
                for key, doc, raw in batch:
                    values = reindex(raw if raw is not None else doc)
                    updates.append((*_index_params(values[n] for n in added), key))
                cur.executemany(update, updates)
    stored[schema.name] = wanted


# -- transactions --------------------------------------------------------------------------------


class PostgresTransaction:
    """One ``REPEATABLE READ`` transaction (``READ ONLY`` for readers) on a pooled connection."""

    def __init__(
        self,
        backend: PostgresBackend,
        conn: psycopg.Connection[Any],
        *,
        readonly: bool,
        locks: tuple[int, ...] = (),
    ) -> None:
        self._backend = backend
        #: Session advisory locks taken before this transaction began (it is a re-run).
        self._session_locks = locks
        #: Advisory locks taken in this transaction for the rows it updates or deletes.
        self._row_locks: set[int] = set(locks)
        #: Rows this transaction conflicted on (``None``: it did not conflict).
        self._conflicts: set[int] | None = None
        self._conn: psycopg.Connection[Any] | None = conn
        self._cur = conn.cursor()
        self._readonly = readonly
        self._pending: dict[str, KindSchema] = {}
        self._migration: dict[str, dict[str, str]] | None = None
        self._aborted: CsDomainError | None = None
        self._wake = False
        self._exhausted: list[str] = []
        #: Statements of kinds a read-only transaction found already set up: its own.
        self._local_sql: dict[str, KindSql] = {}

    # plumbing ----------------------------------------------------------------------------

    def _live(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None:
            raise ValidationError.at("", "the transaction has ended")
        if self._aborted is not None:
            raise self._aborted
        if self._migration is not None:
            self._end_migration(conn)
        return conn

    def _failed(
        self,
        err: BaseException,
        kind: str = "",
        key: str = "",
        expected: int = 0,
        *,
        row: bool = False,
    ) -> CsDomainError:
        """The csdomain error for a driver error; remembers it if it aborted the transaction
        (and, for a conflict on a document ``row`` updated or deleted, the row)."""
        result: CsDomainError
        if isinstance(err, UnicodeEncodeError):
            result = ValidationError.at("", "text that is not valid Unicode cannot be stored")
        elif _is_conflict(err):
            result = _conflict(err, kind, key, expected)
            self._conflicts = self._conflicts or set()
            if row:
                self._conflicts.add(self._backend.row_lock_key(kind, key))
        elif isinstance(err, psycopg.errors.UniqueViolation):
            result = AlreadyExists(kind, key)
        elif isinstance(err, psycopg.DataError):
            result = ValidationError.at("", f"PostgreSQL refused a value: {_first_line(err)}")
        else:
            result = self._backend._target.unavailable(err)
        conn = self._conn
        if conn is not None and conn.info.transaction_status == _INERROR:
            self._aborted = result
        return result

    def _require_write(self) -> None:
        if self._readonly:
            raise ValidationError.at("", "this transaction is read-only")

    def _sql(self, kind: str) -> KindSql:
        try:
            return self._backend._sql[kind]
        except KeyError:
            local = self._local_sql.get(kind)
            if local is not None:
                return local
            raise ValidationError.at("kind", f"unknown kind {kind!r}") from None

    def _touch(self, kind: str) -> None:
        if kind in self._backend.wake_kinds:
            self._wake = True

    # kinds -------------------------------------------------------------------------------

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        """Create or migrate a kind's table.

        Before the unit of work's first statement this happens in a separate
        ``READ COMMITTED`` transaction (shared by every kind ensured in a row and committed
        before that statement); later, inside the writer's own transaction.
        """
        backend = self._backend
        if backend._ready.get(schema.name) == schema:
            return
        conn = self._conn
        if conn is None:
            raise ValidationError.at("", "the transaction has ended")
        sql = KindSql.build(POSTGRES, schema)
        cur = self._cur
        if self._migration is None and conn.info.transaction_status == _IDLE:
            conn.isolation_level = IsolationLevel.READ_COMMITTED
            conn.read_only = False
            try:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (backend._lock_key,))
                self._migration = _stored_kinds(cur)
            except psycopg.Error as err:
                self._abandon_migration(conn)
                if _is_conflict(err):
                    raise _conflict(err, doing="setting up the store") from err
                raise backend._target.unavailable(err, "cannot set up the store") from err
        if self._migration is not None:
            try:
                _migrate_kind(conn, cur, self._migration, schema=schema, sql=sql, reindex=reindex)
            except _DB_ERRORS as err:
                self._abandon_migration(conn)
                if _is_conflict(err):
                    raise _conflict(err, doing=f"setting up {schema.name}") from err
                raise backend._target.unavailable(err, f"cannot set up {schema.name}") from err
            backend._sql[schema.name] = sql
            self._pending[schema.name] = schema
            return
        if self._readonly:
            # A read-only transaction cannot migrate, but a kind already stored with these
            # columns needs nothing written: it is usable here at once.
            self._live()
            try:
                stored = _stored_kinds(cur).get(schema.name)
            except _DB_ERRORS as err:
                raise self._failed(err, schema.name) from err
            if stored != dict(schema.indexes):
                msg = f"kind {schema.name!r} is not set up; open a writing unit of work first"
                raise ValidationError.at("", msg)
            self._local_sql[schema.name] = sql
            return
        self._live()
        try:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (backend._lock_key,))
            _migrate_kind(conn, cur, _stored_kinds(cur), schema=schema, sql=sql, reindex=reindex)
        except _DB_ERRORS as err:
            raise self._failed(err, schema.name) from err
        backend._sql[schema.name] = sql
        self._pending[schema.name] = schema

    def _forget_pending(self) -> None:
        """Drop the statements of kinds this transaction set up but did not commit (unless
        another transaction has set them up meanwhile)."""
        backend = self._backend
        for name in self._pending:
            if name not in backend._ready:
                backend._sql.pop(name, None)
        self._pending = {}

    def _end_migration(self, conn: psycopg.Connection[Any]) -> None:
        """Commit the set-up transaction and restore this transaction's settings."""
        try:
            conn.commit()
        except psycopg.Error as err:
            self._abandon_migration(conn)
            if _is_conflict(err):
                raise _conflict(err, doing="setting up the store") from err
            raise self._backend._target.unavailable(err, "cannot set up the store") from err
        self._migration = None
        self._backend._ready.update(self._pending)
        self._pending = {}
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = self._readonly

    def _abandon_migration(self, conn: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        self._forget_pending()
        self._migration = None
        with contextlib.suppress(psycopg.Error):
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            conn.read_only = self._readonly

    # reads -------------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        """``(version, doc)`` of ``key``."""
        statement = self._sql(kind).get
        self._live()
        try:
            row = self._cur.execute(statement, (_to_text(key),)).fetchone()
        except _DB_ERRORS as err:
            raise self._failed(err, kind, key) from err
        if row is None:
            return None
        return row[0], row[2] if row[2] is not None else row[1]

    def _filters(self, filters: Sequence[Filter]) -> Sequence[Filter]:
        """``filters`` with their text as stored (:func:`_to_text`); the same filters
        when no value changes (text without NUL or U+0001, the usual case)."""
        result: list[Filter] | None = None
        for i, f in enumerate(filters):
            value = f.value
            stored: Any = value
            if isinstance(value, str):
                stored = _to_text(value)
            elif isinstance(value, tuple):
                stored = tuple(_index_params(value))
                if all(a is b for a, b in zip(stored, value, strict=True)):
                    stored = value
            if stored is not value:
                if result is None:
                    result = list(filters[:i])
                result.append(Filter(f.field, f.op, stored))
            elif result is not None:
                result.append(f)
        return filters if result is None else result

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Matching documents in order.

        Up to 500 rows come in one round trip (one statement the server prepares once per
        connection). A longer result streams on through a server-side cursor over the
        same query from row 501, 500 rows at a time, so memory stays bounded; both read the
        transaction's snapshot (``REPEATABLE READ``), so they fit together exactly.
        """
        self._sql(kind)
        where = self._filters(filters)
        if limit is not None and limit <= _FETCH:
            sql, params = select_sql(POSTGRES, kind, where, order_by, limit, offset)
            yield from self._rows(self._fetch(sql, params, kind))
            return
        sql, params = select_sql(POSTGRES, kind, where, order_by, _FETCH + 1, offset)
        first = self._fetch(sql, params, kind)
        if len(first) <= _FETCH:
            for key, version, doc, raw in first:  # _rows, without a generator of its own
                yield _from_text(key), version, raw if raw is not None else doc
            return
        rest = None if limit is None else limit - _FETCH
        sql, params = select_sql(POSTGRES, kind, where, order_by, rest, offset + _FETCH)
        name, batch = self._declare(sql, params, kind)
        yield from self._rows(first[:_FETCH])
        yield from self._rest(name, batch, kind)

    def find_for_update(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        *,
        skip_locked: bool = True,
    ) -> Iterator[tuple[str, int, Any]]:
        """Like :meth:`find`, locking each row returned until the transaction ends
        (``FOR UPDATE``); with ``skip_locked`` rows another transaction holds are left out."""
        self._require_write()
        self._sql(kind)
        lock: Lock = "skip_locked" if skip_locked else "wait"
        sql, params = select_sql(
            POSTGRES, kind, self._filters(filters), order_by, limit, 0, lock=lock
        )
        return self._rows(self._fetch(sql, params, kind))

    def find_members(  # noqa: PLR0917 - mirrors find
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[bytes]:
        """The chosen top-level members of matching documents in order, each row one JSON
        array built with ``jsonb_build_array(doc -> 'member', ...)``; paged and streamed
        like :meth:`find` (one snapshot). A document kept in ``raw`` (one JSONB cannot
        hold) has its members picked from the verbatim text instead."""
        self._sql(kind)
        where = self._filters(filters)
        members = tuple(members)
        if limit is not None and limit <= _FETCH:
            sql, params = members_sql(POSTGRES, kind, members, where, order_by, limit, offset)
            yield from self._member_rows(self._fetch(sql, params, kind), members)
            return
        sql, params = members_sql(POSTGRES, kind, members, where, order_by, _FETCH + 1, offset)
        first = self._fetch(sql, params, kind)
        if len(first) <= _FETCH:
            yield from self._member_rows(first, members)
            return
        rest = None if limit is None else limit - _FETCH
        sql, params = members_sql(POSTGRES, kind, members, where, order_by, rest, offset + _FETCH)
        name, batch = self._declare(sql, params, kind)
        yield from self._member_rows(first[:_FETCH], members)
        while True:
            yield from self._member_rows(batch, members)
            if len(batch) < _FETCH:
                break
            self._live()
            try:
                batch = self._cur.execute(f"FETCH {_FETCH} FROM {name}", prepare=False).fetchall()
            except _DB_ERRORS as err:
                raise self._failed(err, kind) from err
        if self._conn is not None:
            self._exhausted.append(name)

    @staticmethod
    def _member_rows(rows: Iterable[tuple[Any, ...]], members: Sequence[str]) -> Iterator[bytes]:
        for values, raw in rows:
            if raw is None:
                yield values
            else:
                doc = orjson.loads(raw)
                yield orjson.dumps([doc.get(name) for name in members])

    @staticmethod
    def _rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[str, int, Any]]:
        for key, version, doc, raw in rows:
            yield _from_text(key), version, raw if raw is not None else doc

    def _fetch(self, sql: str, params: Sequence[Any], kind: str) -> list[tuple[Any, ...]]:
        self._live()
        try:
            return self._cur.execute(sql, params).fetchall()
        except _DB_ERRORS as err:
            raise self._failed(err, kind) from err

    def _declare(self, sql: str, params: Sequence[Any], kind: str) -> tuple[str, list[Any]]:
        """Open a server-side cursor on ``sql`` and fetch its first batch, in one round trip
        (closing the cursors earlier scans used up on the way)."""
        conn = self._live()
        name = f"csdomain_scan_{next(_cursor_names)}"
        cur = self._cur
        try:
            with conn.pipeline():
                for done in self._exhausted:
                    cur.execute(f"CLOSE {done}", prepare=False)
                self._exhausted = []
                cur.execute(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params, prepare=False)
                cur.execute(f"FETCH {_FETCH} FROM {name}", prepare=False)
            return name, cur.fetchall()
        except _DB_ERRORS as err:
            raise self._failed(err, kind) from err

    def _rest(self, name: str, batch: list[Any], kind: str) -> Iterator[tuple[str, int, Any]]:
        """The rows of cursor ``name``, starting with ``batch``, 500 per round trip."""
        while True:
            yield from self._rows(batch)
            if len(batch) < _FETCH:
                break
            self._live()
            try:
                batch = self._cur.execute(f"FETCH {_FETCH} FROM {name}", prepare=False).fetchall()
            except _DB_ERRORS as err:
                raise self._failed(err, kind) from err
        if self._conn is not None:
            self._exhausted.append(name)

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many documents match."""
        self._sql(kind)
        sql, params = count_sql(POSTGRES, kind, self._filters(filters))
        return int(self._fetch(sql, params, kind)[0][0])

    # writes ------------------------------------------------------------------------------

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        """Insert new documents at version 1 (a taken key writes nothing of the batch)."""
        self._require_write()
        statement = self._sql(kind).insert
        params = [
            (_to_text(r.key), *_doc_params(r.doc), *_index_params(r.index.values())) for r in rows
        ]
        self._insert(kind, statement, [r.key for r in rows], params)

    def restore(self, kind: str, rows: Sequence[Row], versions: Sequence[int]) -> None:
        """Insert new documents, each at its version (import)."""
        self._require_write()
        if len(versions) != len(rows):
            raise ValidationError.at("versions", "one version per row")
        statement = self._sql(kind).restore
        params = [
            (_to_text(r.key), v, *_doc_params(r.doc), *_index_params(r.index.values()))
            for r, v in zip(rows, versions, strict=True)
        ]
        self._insert(kind, statement, [r.key for r in rows], params)

    def _insert(
        self, kind: str, statement: str, keys: Sequence[str], params: Sequence[Sequence[Any]]
    ) -> None:
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise AlreadyExists(kind, key)
            seen.add(key)
        self._live()
        cur = self._cur
        try:
            if len(params) == 1:
                cur.execute(statement, params[0])
            else:
                cur.executemany(statement, params)
            inserted = cur.rowcount
        except _DB_ERRORS as err:
            raise self._failed(err, kind, keys[0] if keys else "") from err
        self._touch(kind)
        if inserted != len(params):
            raise AlreadyExists(kind, self._taken_key(kind, keys))

    def _taken_key(self, kind: str, keys: Sequence[str]) -> str:
        """The first of ``keys`` stored before this statement (by another transaction)."""
        if len(keys) == 1:
            return keys[0]
        try:
            row = self._cur.execute(
                f"SELECT key FROM {table(kind)} WHERE key = ANY(%s) "
                "AND xmin <> pg_current_xact_id()::xid ORDER BY key LIMIT 1",
                ([_to_text(k) for k in keys],),
            ).fetchone()
        except _DB_ERRORS as err:
            raise self._failed(err, kind) from err
        return _from_text(row[0]) if row is not None else keys[0]

    def _locked_write(
        self, kind: str, key: str, statement: str, params: Sequence[Any]
    ) -> psycopg.Cursor[Any]:
        """Run an ``UPDATE``/``DELETE`` of one document, first taking the row's advisory
        lock (for the first :data:`ROW_UPDATE_LOCKS` rows of the transaction).

        A unit of work re-run after a conflict on a row holds that lock from before its
        snapshot (:meth:`PostgresBackend.begin`), so no writer can change the row between
        its snapshot and its write: the re-run does not conflict on it again. The lock is
        taken by the statement itself (:func:`_with_row_lock`), before the row's own lock,
        at no extra round trip.
        """
        self._live()
        lock = self._backend.row_lock_key(kind, key)
        if lock in self._row_locks or len(self._row_locks) >= ROW_UPDATE_LOCKS:
            return self._cur.execute(statement, params)
        self._row_locks.add(lock)
        return self._cur.execute(_with_row_lock(statement), (lock, *params))

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        """Replace a document at ``expected_version`` (see :meth:`_locked_write`)."""
        self._require_write()
        statement = self._sql(kind).update
        self._live()
        key = _to_text(row.key)
        try:
            cursor = self._locked_write(
                kind,
                row.key,
                statement,
                (*_doc_params(row.doc), *_index_params(row.index.values()), key, expected_version),
            )
        except _DB_ERRORS as err:
            raise self._failed(err, kind, row.key, expected_version, row=True) from err
        self._touch(kind)
        if cursor.rowcount != 1:
            found = self.get(kind, row.key)
            check_version(kind, row.key, expected_version, None if found is None else found[0])
        return expected_version + 1

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        """Delete a document at ``expected_version``."""
        self._require_write()
        statement = self._sql(kind).delete
        self._live()
        try:
            cursor = self._locked_write(kind, key, statement, (_to_text(key), expected_version))
        except _DB_ERRORS as err:
            raise self._failed(err, kind, key, expected_version, row=True) from err
        self._touch(kind)
        if cursor.rowcount != 1:
            found = self.get(kind, key)
            check_version(kind, key, expected_version, None if found is None else found[0])

    def next_counter(self, name: str) -> int:
        """Take the counter's next number (:data:`NEXT_COUNTER_FUNCTION`): never a
        serialization failure, never a number twice, no gap left by a rolled-back one."""
        self._require_write()
        self._live()
        try:
            row = self._cur.execute(_COUNTER_SQL["next"], (_to_text(name),)).fetchone()
        except _DB_ERRORS as err:
            raise self._failed(err, "counter", name) from err
        assert row is not None  # noqa: S101 - a function call always yields its row
        return int(row[0])

    def delete_counter(self, name: str) -> None:
        """Remove counter ``name`` (every number it issued); the next number is 1 again."""
        self._require_write()
        self._live()
        try:
            self._cur.execute(_COUNTER_SQL["delete"], (_to_text(name),))
        except _DB_ERRORS as err:
            raise self._failed(err, "counter", name) from err

    # export and import ------------------------------------------------------------------

    def list_counters(self) -> Iterator[tuple[str, int]]:
        """Every counter by name, in code-point order (``COLLATE "C"``)."""
        for name, value in self._fetch(_COUNTER_SQL["list"], (), "counter"):
            yield _from_text(name), int(value)

    def restore_counter(self, name: str, value: int) -> None:
        """Create a counter at ``value`` (import)."""
        self._require_write()
        self._live()
        try:
            stored = _to_text(name)
            cursor = self._cur.execute(_COUNTER_SQL["restore"], (stored, value, stored))
        except _DB_ERRORS as err:
            raise self._failed(err, "counter", name) from err
        if cursor.rowcount != 1:
            raise AlreadyExists("counter", name)

    # the end -----------------------------------------------------------------------------

    def commit(self) -> None:
        """Commit (``ConcurrencyConflict`` if the transaction was aborted by a conflict)."""
        conn = self._conn
        if conn is None:
            return
        try:
            if self._migration is not None:
                self._end_migration(conn)
            if self._aborted is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.rollback()
                raise self._aborted
            if self._wake:
                self._cur.execute(f"NOTIFY {self._backend.channel}")
            conn.commit()
        except _DB_ERRORS as err:
            raise self._failed(err) from err
        else:
            self._backend._ready.update(self._pending)
        finally:
            self._finish(conn)

    def rollback(self) -> None:
        """Roll back and hand the connection back to the pool."""
        conn = self._conn
        if conn is None:
            return
        try:
            if self._migration is not None:
                self._end_migration(conn)
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            self._forget_pending()
        finally:
            self._finish(conn)

    def _finish(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = None
        self._pending = {}
        self._exhausted = []
        backend = self._backend
        if not self._readonly:
            conflicts = self._conflicts
            backend.remember_conflict(
                () if conflicts is None else (*self._session_locks, *conflicts)
            )
        with contextlib.suppress(psycopg.Error):
            self._cur.close()
        if conn.info.transaction_status != _IDLE:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
        if self._session_locks:
            try:
                conn.autocommit = True
                conn.execute("SELECT pg_advisory_unlock_all()")
                conn.autocommit = False
            except psycopg.Error:
                backend._discard(conn)
                return
        backend._release(conn)
