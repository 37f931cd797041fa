"""The unit of work, typed repositories and the store: the core's side of storage.

Everything that is not the backend's job lives here, once, for every backend: typed
repositories, serialization, optimistic-concurrency bookkeeping, the outbox and naming
series::

    store = csdomain.open_store("sqlite:///cs.db")
    with store.unit_of_work() as uow:            # one transaction: commit on clean exit,
        order = uow.repo(ORDERS).get("SO-1")     # roll back on exception
        uow.repo(ORDERS).update(order.confirm(at=now, by=actor))
        uow.emit(OrderConfirmed(...))            # outbox row in the same transaction

Backends that set ``stores_objects = True`` (the memory backend) receive the frozen
objects themselves; the others receive the converter's JSON bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from operator import is_
from types import TracebackType
from typing import Any, Generic, TypeVar

import pluggy

from csdomain.clock import Clock, SystemClock, require_aware
from csdomain.errors import (
    AlreadyExists,
    BackendNotFound,
    ConcurrencyConflict,
    NotFound,
    ValidationError,
)
from csdomain.events import Event
from csdomain.plugins import default_plugin_manager
from csdomain.serialization import converter
from csdomain.store.codec import NOT_UNICODE, DocumentCodec, valid_text
from csdomain.store.fields import field_plan
from csdomain.store.outbox import OUTBOX, OutboxEntry, outbox_id, random_token
from csdomain.store.schema import (
    KINDS,
    Kind,
    KindRegistry,
    QueryPlans,
    check_paging,
)
from csdomain.store.spi import (
    Backend,
    IndexValue,
    PurgingBackend,
    Row,
    Transaction,
    short_repr,
)


__all__ = ["Repository", "Store", "UnitOfWork", "open_store"]

T = TypeVar("T")

#: The converter's unstructure hook of each event class, looked up once per class.
_EVENT_ENCODERS: dict[type[Event], Callable[[Any], Any]] = {}


# -- repositories and the unit of work ----------------------------------------------------


def _check_key(key: object) -> None:
    if not isinstance(key, str):
        raise ValidationError.at("key", f"expected a string, got {type(key).__name__}")
    if not valid_text(key):
        raise ValidationError.at("key", NOT_UNICODE)


def _check_version(version: object) -> None:
    if version is None:
        return
    if isinstance(version, bool) or not isinstance(version, int) or abs(version) >= 2**63:
        msg = f"must be a version number (an integer), got {short_repr(version)}"
        raise ValidationError.at("expected_version", msg)


class Repository(Generic[T]):
    """Typed access to one kind inside a unit of work."""

    def __init__(self, uow: UnitOfWork, kind: Kind[T]) -> None:
        self._uow = uow
        self.kind = kind
        self._name = kind.name
        self._codec = uow.store.codec(kind)
        self._decode = self._codec.decode
        self._plans = uow.store.query_plans(kind)

    # encoding -------------------------------------------------------------------------

    def row(self, obj: T) -> Row:
        """What the backend stores for ``obj``: its key, document and index values.

        The store keeps only what it can read back: the document is encoded with the one
        converter and read back first, and whatever would not read back is a
        :class:`ValidationError` naming the field (``history.3.note``), on every backend.
        """
        if not isinstance(obj, self.kind.cls):
            msg = f"expected {self.kind.cls.__name__}, got {type(obj).__name__}"
            raise ValidationError.at("", msg)
        key = self.kind.key(obj)
        if not isinstance(key, str) or not key:
            raise ValidationError.at("id", f"a {self._name} needs a non-empty string key")
        if not valid_text(key):
            raise ValidationError.at("id", NOT_UNICODE)
        return Row(key, self._codec.encode(obj), self.kind.index_values(obj))

    # reads ----------------------------------------------------------------------------

    def get_with_version(self, key: str) -> tuple[T, int]:
        """The stored object and its version; :class:`NotFound` if absent."""
        _check_key(key)
        found = self._uow.tx.get(self._name, key)
        if found is None:
            raise NotFound(self._name, key)
        version, doc = found
        if not self._uow.readonly:
            self._uow.versions[(self._name, key)] = version
        return self._decode(doc), version

    def get(self, key: str) -> T:
        """The stored object; :class:`NotFound` if absent."""
        return self.get_with_version(key)[0]

    def get_or_none(self, key: str) -> T | None:
        """The stored object, or ``None``."""
        try:
            return self.get(key)
        except NotFound:
            return None

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        _check_key(key)
        return self._uow.tx.get(self._name, key) is not None

    def find(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> list[T]:
        """Objects whose index fields match ``where`` (``field=value``, ``field__in=[...]``,
        ``field__lt/le/gt/ge/ne=value``), ordered by ``order_by`` (``"-field"`` descends)."""
        if limit is not None or offset.__class__ is not int or offset:
            check_paging(limit, offset)
        plans = self._plans
        uow = self._uow
        rows = uow.tx.find(self._name, plans.filters(where), plans.order(order_by), limit, offset)
        decode = self._decode
        if uow.readonly:
            return [decode(doc) for _key, _version, doc in rows]
        versions = uow.versions
        name = self._name
        found = []
        for key, version, doc in rows:
            versions[(name, key)] = version
            found.append(decode(doc))
        return found

    def scan(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> Iterator[T]:
        """Like :meth:`find`, but streams objects one by one (bounded memory)."""
        if limit is not None or offset.__class__ is not int or offset:
            check_paging(limit, offset)
        plans = self._plans
        filters = plans.filters(where)
        order = plans.order(order_by)
        return self._stream(self._uow.tx.find(self._name, filters, order, limit, offset))

    def _stream(self, rows: Iterator[tuple[str, int, Any]]) -> Iterator[T]:
        if self._uow.readonly:
            # Nothing is updated in a read-only unit of work: remembering the versions of
            # what it streams would only grow memory with the number of rows.
            for _key, _version, doc in rows:
                yield self._decode(doc)
            return
        versions = self._uow.versions
        for key, version, doc in rows:
            versions[(self._name, key)] = version
            yield self._decode(doc)

    def scan_fields(
        self,
        fields: Sequence[str],
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> Iterator[tuple[Any, ...]]:
        """Like :meth:`scan`, but streams only ``fields`` of each object, as tuples.

        ``fields`` are field paths of the model (``"status"``, ``"received_at"``, a field
        of an attrs-typed field such as ``"approval.by"``, or of each element of a tuple
        of attrs objects such as ``"history.to"``, which gives a tuple); each value is
        what the same path of the whole object holds. The rows, their order and paging
        are those of :meth:`scan` with the same arguments, read from the same snapshot.
        A backend with :class:`~csdomain.store.spi.ProjectingTransaction` reads only
        those members of its documents; with another backend the fields are picked from
        the whole objects. Nothing is remembered for an update (there is no object to
        update). A name that is not a field path is a :class:`ValidationError` at
        ``fields.<i>``.
        """
        plan = field_plan(self.kind.cls, fields)
        if limit is not None or offset.__class__ is not int or offset:
            check_paging(limit, offset)
        filters = self._plans.filters(where)
        order = self._plans.order(order_by)
        tx = self._uow.tx
        finder = getattr(tx, "find_members", None)
        if finder is None:
            rows = tx.find(self._name, filters, order, limit, offset)
            return plan.object_rows(self._decode(doc) for _key, _version, doc in rows)
        found = finder(self._name, plan.members, filters, order, limit, offset)
        if self._uow.store.backend.stores_objects:
            return plan.member_rows(found)
        return plan.json_rows(found)

    def claim_candidates(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        skip_locked: bool = True,
        **where: Any,
    ) -> list[T]:
        """Objects matching ``where`` that this unit of work may try to claim.

        On a backend with row locks (a :class:`ClaimingTransaction`) they stay locked until
        the unit of work ends and, with ``skip_locked``, objects another unit of work has
        locked are left out, so concurrent claimers get different objects without waiting.
        Elsewhere this is :meth:`find`: the claimer's versioned update decides who wins.
        """
        self._uow.require_writable()
        finder = getattr(self._uow.tx, "find_for_update", None)
        if finder is None:
            return self.find(order_by=order_by, limit=limit, **where)
        check_paging(limit)
        filters = self._plans.filters(where)
        order = self._plans.order(order_by)
        versions = self._uow.versions
        found = []
        for key, version, doc in finder(self._name, filters, order, limit, skip_locked=skip_locked):
            versions[(self._name, key)] = version
            found.append(self._decode(doc))
        return found

    def count(self, **where: Any) -> int:
        """How many stored objects match ``where``."""
        return self._uow.tx.count(self._name, self._plans.filters(where))

    # writes ---------------------------------------------------------------------------

    def add(self, obj: T) -> None:
        """Store a new object (:class:`AlreadyExists` if its key is taken)."""
        self._uow.require_writable()
        row = self.row(obj)
        self._uow.tx.insert(self._name, [row])
        self._uow.versions[(self._name, row.key)] = 1

    def add_many(self, objs: Iterable[T], *, batch_size: int = 5000) -> int:
        """Store many new objects in batches; returns how many were added."""
        self._uow.require_writable()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError.at("batch_size", "must be a positive integer")
        total = 0
        versions = self._uow.versions
        batch: list[Row] = []
        for obj in objs:
            batch.append(self.row(obj))
            if len(batch) >= batch_size:
                self._uow.tx.insert(self._name, batch)
                versions.update(((self._name, r.key), 1) for r in batch)
                total += len(batch)
                batch = []
        if batch:
            self._uow.tx.insert(self._name, batch)
            versions.update(((self._name, r.key), 1) for r in batch)
            total += len(batch)
        return total

    def update(self, obj: T, *, expected_version: int | None = None) -> int:
        """Replace a stored object; returns its new version.

        The version checked is ``expected_version`` if given, else the version this unit of
        work loaded. A stale version raises :class:`ConcurrencyConflict` and writes nothing.
        """
        self._uow.require_writable()
        _check_version(expected_version)
        row = self.row(obj)
        slot = (self._name, row.key)
        if expected_version is None:
            expected_version = self._uow.versions.get(slot)
            if expected_version is None:
                key = short_repr(row.key)
                msg = f"load {self._name} {key} in this unit of work before updating it"
                raise ValidationError.at("", msg)
        new_version = self._uow.tx.update(self._name, row, expected_version)
        self._uow.versions[slot] = new_version
        return new_version

    def delete(self, key: str, *, expected_version: int | None = None) -> None:
        """Delete a stored object (same version rules as :meth:`update`)."""
        self._uow.require_writable()
        _check_key(key)
        _check_version(expected_version)
        slot = (self._name, key)
        if expected_version is None:
            expected_version = self._uow.versions.get(slot)
            if expected_version is None:
                found = self._uow.tx.get(self._name, key)
                if found is None:
                    raise NotFound(self._name, key)
                expected_version = found[0]
        self._uow.tx.delete(self._name, key, expected_version)
        self._uow.versions.pop(slot, None)


class UnitOfWork:
    """One transaction over a store: commit on clean exit, roll back on exception.

    Repositories come from :meth:`repo` (or ``uow.<kind attribute>``, e.g. ``uow.outbox``).
    """

    def __init__(self, store: Store, *, readonly: bool = False, migrate: bool = True) -> None:
        self.store = store
        self.readonly = readonly
        self._migrate = migrate
        self.versions: dict[tuple[str, str], int] = {}
        self.emitted: list[Event] = []
        self._tx: Transaction | None = None
        self._repos: dict[str, Repository[Any]] = {}
        self._done = False
        self._token = ""
        self._after_commit: list[Callable[[], object]] = []
        #: Kinds this unit of work set up: known set up once it has committed.
        self._ensured: dict[str, Kind[Any]] = {}

    @property
    def tx(self) -> Transaction:
        """The backend transaction (only inside the ``with`` block)."""
        if self._tx is None or self._done:
            msg = "the unit of work is not active: use it in a with block"
            raise ValidationError.at("", msg)
        return self._tx

    def __enter__(self) -> UnitOfWork:
        if self._tx is not None:
            raise ValidationError.at("", "a unit of work can be entered only once")
        if not self.readonly and self._migrate:
            self.store.migrate()
        self._tx = self.store.backend.begin(readonly=self.readonly)
        try:
            self._ensured = {kind.name: kind for kind in self.store.ensure_kinds(self._tx)}
        except BaseException:
            self._tx.rollback()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tx = self.tx
        self._done = True
        if exc_type is None and not self.readonly:
            tx.commit()
            self.store.set_up(self._ensured.values())
            callbacks, self._after_commit = self._after_commit, []
            for callback in callbacks:
                callback()
        else:
            self._after_commit = []
            tx.rollback()

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once this unit of work has committed (never after a rollback).

        Callbacks run in the order given, outside the transaction; an error one raises
        reaches the caller, with the unit of work's writes already committed.
        """
        self.require_writable()
        self._after_commit.append(callback)

    def require_writable(self) -> None:
        """Raise unless this unit of work may write."""
        if self.readonly:
            raise ValidationError.at("", "this unit of work is read-only")

    def repo(self, kind: Kind[T]) -> Repository[T]:
        """The repository of ``kind`` in this unit of work."""
        repo: Repository[T] | None = self._repos.get(kind.name)
        if repo is None:
            tx = self.tx
            if self._ensured.get(kind.name) is not kind and self.store.ensure_kind(tx, kind):
                self._ensured[kind.name] = kind
            repo = Repository(self, kind)
            self._repos[kind.name] = repo
        return repo

    def __getattr__(self, name: str) -> Repository[Any]:
        kind = self.store.kinds.by_attribute(name)
        if kind is None:
            raise AttributeError(name)
        return self.repo(kind)

    @property
    def outbox(self) -> Repository[OutboxEntry]:
        """The outbox repository."""
        return self.repo(OUTBOX)

    def emit(self, event: Event, *, at: datetime | None = None) -> OutboxEntry:
        """Write ``event`` to the outbox in this transaction."""
        self.require_writable()
        if not isinstance(event, Event):
            raise ValidationError.at("event", f"not an Event: {type(event).__name__}")
        moment = require_aware(at, "at") if at is not None else self.store.clock.now()
        cls = type(event)
        encode = _EVENT_ENCODERS.get(cls)
        if encode is None:
            encode = _EVENT_ENCODERS.setdefault(cls, converter.get_unstructure_hook(cls))
        entry = OutboxEntry(
            id=outbox_id(moment, self._outbox_token(), len(self.emitted)),
            type=cls.type_name,
            payload=encode(event),
            created_at=moment,
        )
        self.outbox.add(entry)
        self.emitted.append(event)
        return entry

    def _outbox_token(self) -> str:
        if not self._token:
            self._token = self.store.tokens()
        return self._token

    def next_counter(self, name: str) -> int:
        """Increment a named counter in this transaction (naming series use this)."""
        self.require_writable()
        if not isinstance(name, str) or not name:
            raise ValidationError.at("name", "a counter needs a non-empty name")
        if not valid_text(name):
            raise ValidationError.at("name", NOT_UNICODE)
        return self.tx.next_counter(name)


class Store:
    """A backend plus the kinds, clock and converter the core uses with it."""

    def __init__(
        self,
        backend: Backend,
        *,
        kinds: KindRegistry = KINDS,
        clock: Clock | None = None,
    ) -> None:
        self.backend = backend
        self.kinds = kinds
        self.clock: Clock = clock or SystemClock()
        #: Makes the token that keeps one unit of work's outbox ids apart from another's
        #: (random; a seeded source makes a run's ids reproducible, as the demo does).
        self.tokens: Callable[[], str] = random_token
        self._reindexers: dict[str, tuple[Kind[Any], Callable[[Any], Mapping[str, IndexValue]]]]
        self._reindexers = {}
        #: The schema of each kind known set up in the backend (a writing unit of work
        #: that ensured it has committed): not ensured again.
        self._set_up: dict[str, Any] = {}
        self._plans: dict[str, QueryPlans] = {}
        #: The document codec of each kind (its converter hooks looked up once per store,
        #: not once per unit of work).
        self._codecs: dict[str, tuple[Kind[Any], DocumentCodec[Any]]] = {}
        #: The registry's kinds when every one of them was last found set up: while the
        #: registry holds the same kinds, a unit of work has none to ensure.
        self._all_set_up: list[Kind[Any]] | None = None
        self._migrated = False
        self._migrating = threading.Lock()

    @property
    def url(self) -> str:
        """The backend's URL without credentials."""
        return self.backend.url

    def unit_of_work(self, *, readonly: bool = False, migrate: bool = True) -> UnitOfWork:
        """A new unit of work (use it as a context manager).

        A writing one first runs the data migrations (:meth:`migrate`) unless ``migrate``
        is false (an import into an empty store).
        """
        return UnitOfWork(self, readonly=readonly, migrate=migrate)

    def _reindexer(self, kind: Kind[Any]) -> Callable[[Any], Mapping[str, IndexValue]]:
        found = self._reindexers.get(kind.name)
        if found is not None and found[0] is kind:
            return found[1]
        if self.backend.stores_objects:
            reindex: Callable[[Any], Mapping[str, IndexValue]] = kind.index_values
        else:
            decode = DocumentCodec(kind.cls, stores_objects=False).decode

            def reindex(doc: Any) -> Mapping[str, IndexValue]:
                return kind.index_values(decode(doc))

        self._reindexers[kind.name] = (kind, reindex)
        return reindex

    def codec(self, kind: Kind[T]) -> DocumentCodec[T]:
        """The document codec of ``kind`` in this store (one per kind, made at first use)."""
        found = self._codecs.get(kind.name)
        if found is not None and found[0] is kind:
            made: DocumentCodec[T] = found[1]
            return made
        codec = DocumentCodec(kind.cls, stores_objects=self.backend.stores_objects)
        self._codecs[kind.name] = (kind, codec)
        return codec

    def query_plans(self, kind: Kind[Any]) -> QueryPlans:
        """The cached query plans of ``kind`` (see :class:`QueryPlans`)."""
        plans = self._plans.get(kind.name)
        if plans is None or plans.kind is not kind:
            plans = self._plans[kind.name] = QueryPlans(kind)
        return plans

    def ensure_kind(self, tx: Transaction, kind: Kind[Any]) -> bool:
        """Create or migrate ``kind``'s storage unless it is known set up; whether the
        backend was asked (then it is known set up once the unit of work commits)."""
        schema = kind.schema
        if self._set_up.get(kind.name) is schema:
            return False
        tx.ensure_kind(schema, self._reindexer(kind))
        return True

    def ensure_kinds(self, tx: Transaction) -> list[Kind[Any]]:
        """Ensure every registered kind not known set up; the kinds the backend was asked
        for (several at once, in one transaction, where it can: ``ensure_kinds``)."""
        registered = list(self.kinds)
        known = self._all_set_up
        if known is not None and len(known) == len(registered) and all(map(is_, known, registered)):
            return []
        set_up = self._set_up
        wanted = [kind for kind in registered if set_up.get(kind.name) is not kind.schema]
        if not wanted:
            self._all_set_up = registered
            return wanted
        many = getattr(tx, "ensure_kinds", None)
        if many is not None:
            many([(kind.schema, self._reindexer(kind)) for kind in wanted])
            return wanted
        for kind in wanted:
            tx.ensure_kind(kind.schema, self._reindexer(kind))
        return wanted

    def set_up(self, kinds: Iterable[Kind[Any]]) -> None:
        """Remember ``kinds`` as set up in the backend (a unit of work that ensured them
        has committed)."""
        for kind in kinds:
            self._set_up[kind.name] = kind.schema

    def migrate(self, *, attempts: int = 5) -> None:
        """Run the registry's data migrations, once per store object (each migration in
        its own writing transaction; a concurrent writer's conflict is retried).

        Every writing unit of work calls it first, so a store written by an older csdomain
        is brought up to date before anything is written to it.
        """
        if self._migrated:
            return
        with self._migrating:
            if self._migrated:
                return
            for migration in getattr(self.kinds, "migrations", ()):
                for attempt in range(1, attempts + 1):
                    tx = self.backend.begin()
                    try:
                        migration.run(tx)
                        tx.commit()
                        break
                    except (ConcurrencyConflict, AlreadyExists):
                        tx.rollback()
                        if attempt == attempts:
                            raise
                    except BaseException:
                        tx.rollback()
                        raise
            self._migrated = True

    def migrate_again(self) -> None:
        """Run the data migrations again before the next writing unit of work (the store's
        content was replaced underneath, by an import)."""
        with self._migrating:
            self._migrated = False

    def purge_erased(self, kinds: Sequence[str]) -> bool:
        """Make overwritten and deleted content of ``kinds`` unreadable in the backend's
        files (:class:`~csdomain.store.spi.PurgingBackend`); ``False`` when the backend
        cannot (it keeps old content until it reuses the space).

        Call it outside any unit of work, after the one that erased has committed.
        """
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        for name in names:
            if not isinstance(name, str):
                raise ValidationError.at("kinds", f"expected kind names, got {short_repr(name)}")
        if not isinstance(self.backend, PurgingBackend):
            return False
        self.backend.purge_erased(sorted(set(names)))
        return True

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def _schemes(pm: pluggy.PluginManager) -> list[str]:
    schemes: list[str] = []
    for impl in pm.hook.csdomain_open_store.get_hookimpls():
        schemes.extend(getattr(impl.plugin, "SCHEMES", ()))
    return schemes


def open_store(
    url: str,
    *,
    plugin_manager: pluggy.PluginManager | None = None,
    clock: Clock | None = None,
    kinds: KindRegistry = KINDS,
) -> Store:
    """Open the store at ``url`` through whichever backend plugin answers its scheme.

    ``memory://``, ``sqlite:///relative.db``, ``sqlite:////absolute.db`` and ``sqlite://``
    (a throwaway database) come bundled. An unknown scheme raises
    :class:`~csdomain.errors.BackendNotFound` listing the installed schemes.
    """
    if not isinstance(url, str) or ":" not in url:
        raise ValidationError.at("url", f"not a store URL: {short_repr(url)}")
    if "\x00" in url or not valid_text(url):
        msg = "a store URL is text without NUL characters or lone surrogates"
        raise ValidationError.at("url", msg)
    if plugin_manager is None:
        plugin_manager = default_plugin_manager()
    backend = plugin_manager.hook.csdomain_open_store(url=url)
    if backend is None:
        raise BackendNotFound(url, _schemes(plugin_manager))
    return Store(backend, clock=clock, kinds=kinds)
