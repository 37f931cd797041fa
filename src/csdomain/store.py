"""Storage: kinds, the backend SPI, the unit of work and typed repositories.

A backend stores **documents** by ``(kind, key)`` with an integer ``version`` and a few
declared **index fields** per kind, inside transactions. Everything else — typed
repositories, serialization, optimistic concurrency bookkeeping, the outbox and naming
series — lives here, once, for every backend::

    store = csdomain.open_store("sqlite:///cs.db")
    with store.unit_of_work() as uow:            # one transaction: commit on clean exit,
        order = uow.repo(ORDERS).get("SO-1")     # roll back on exception
        uow.repo(ORDERS).update(order.confirm(at=now, by=actor))
        uow.emit(OrderConfirmed(...))            # outbox row in the same transaction

Backends that set ``stores_objects = True`` (the memory backend) receive the frozen
objects themselves and never serialize; the others receive the converter's JSON bytes.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

import attrs
import orjson
import pluggy

from csdomain.clock import Clock, SystemClock, require_aware
from csdomain.errors import (
    BackendNotFound,
    ConcurrencyConflict,
    NotFound,
    ValidationError,
)
from csdomain.events import Event, event_type
from csdomain.serialization import converter, json_unstructure_hook, structure


__all__ = [
    "KINDS",
    "OUTBOX",
    "Backend",
    "ClaimingTransaction",
    "Filter",
    "Index",
    "IndexValue",
    "Kind",
    "KindSchema",
    "OutboxEntry",
    "Repository",
    "Row",
    "Store",
    "Transaction",
    "UnitOfWork",
    "check_version",
    "normalize_index_value",
    "open_store",
    "parse_where",
    "random_token",
]

T = TypeVar("T")
IndexValue: TypeAlias = str | int | float | None
IndexType: TypeAlias = Literal["text", "integer", "real"]
Op: TypeAlias = Literal["eq", "ne", "in", "lt", "le", "gt", "ge"]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
_OPS: frozenset[str] = frozenset({"eq", "ne", "in", "lt", "le", "gt", "ge"})


# -- index values ------------------------------------------------------------------------


def normalize_index_value(value: Any, path: str = "") -> IndexValue:
    """The backend-neutral form of an index value.

    Strings, ints and floats pass through; ``None`` stays ``None``; booleans become 0/1;
    enums their value; datetimes a fixed-width UTC ISO string (so text order is time
    order); dates an ISO string. Anything else is a :class:`ValidationError`.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, enum.Enum):
        return normalize_index_value(value.value, path)
    if isinstance(value, datetime):
        moment: datetime = value
        if moment.tzinfo is not UTC:
            moment = require_aware(value, path or "value").astimezone(UTC)
        return moment.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    msg = f"cannot index a {type(value).__name__} value"
    raise ValidationError.at(path or "value", msg)


#: Python types of each index column type, and the types ``normalize_index_value`` keeps.
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "integer": (int,),
    "real": (int, float),
}
_PLAIN: frozenset[type] = frozenset({str, int, float})


def _wrong_type(name: str, column: str, value: object) -> ValidationError:
    msg = f"index {name!r} holds {column} values, got {type(value).__name__}"
    return ValidationError.at(name, msg)


def _typed(index: Index, value: IndexValue) -> IndexValue:
    if value is None or isinstance(value, _PYTHON_TYPES[index.type]):
        return value
    raise _wrong_type(index.name, index.type, value)


@attrs.frozen
class Index:
    """A declared index field of a kind: its name, column type and extractor."""

    name: str
    type: IndexType = "text"
    extract: Callable[[Any], Any] | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or self.name == "key":
            raise ValidationError.at("name", f"bad index name {self.name!r}")
        if self.type not in ("text", "integer", "real"):
            raise ValidationError.at("type", f"bad index type {self.type!r}")
        if self.extract is None:
            object.__setattr__(self, "extract", attrgetter(self.name))


@attrs.frozen
class KindSchema:
    """What a backend needs to know about a kind: its name and index columns."""

    name: str
    indexes: tuple[tuple[str, IndexType], ...]
    composite: tuple[tuple[str, ...], ...] = ()


def _as_index(item: Index | str | tuple[str, IndexType]) -> Index:
    if isinstance(item, Index):
        return item
    if isinstance(item, str):
        return Index(item)
    return Index(item[0], item[1])


def _as_indexes(items: Iterable[Index | str | tuple[str, IndexType]]) -> tuple[Index, ...]:
    return tuple(_as_index(i) for i in items)


@attrs.frozen
class Kind(Generic[T]):
    """A stored kind: its name, model class, key function and declared indexes.

    ``Kind("order", Order, indexes=["customer_id", "status", Index("total", "real",
    lambda o: float(o.total.amount))])``; the key is ``obj.id`` unless ``key`` says otherwise.
    """

    name: str
    cls: type[T]
    indexes: tuple[Index, ...] = attrs.field(default=(), converter=_as_indexes)
    key: Callable[[T], str] = attrs.field(default=attrgetter("id"), eq=False)
    composite: tuple[tuple[str, ...], ...] = ()
    #: Attribute name on the unit of work (``uow.orders``); defaults to ``name + "s"``.
    attribute: str = ""
    #: The domain events of a change, ``events(before, after)`` (``before`` is ``None``
    #: for a new object): what the service desk's use-case skeleton puts in the outbox.
    events: Callable[[Any, Any], Iterable[Event]] | None = attrs.field(default=None, eq=False)
    _schema: KindSchema = attrs.field(init=False, eq=False, repr=False)
    _plan: tuple[tuple[str, Callable[[Any], Any], tuple[type, ...], str], ...] = attrs.field(
        init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValidationError.at("name", f"bad kind name {self.name!r}")
        names = [i.name for i in self.indexes]
        if len(set(names)) != len(names):
            raise ValidationError.at("indexes", f"duplicate index names in {self.name!r}")
        for group in self.composite:
            unknown = set(group) - set(names)
            if unknown:
                raise ValidationError.at("composite", f"unknown index fields {sorted(unknown)}")
        if not self.attribute:
            object.__setattr__(self, "attribute", self.name + "s")
        columns = tuple((i.name, i.type) for i in self.indexes)
        schema = KindSchema(self.name, columns, self.composite)
        object.__setattr__(self, "_schema", schema)
        plan = tuple((i.name, i.extract, _PYTHON_TYPES[i.type], i.type) for i in self.indexes)
        object.__setattr__(self, "_plan", plan)

    @property
    def schema(self) -> KindSchema:
        """The backend-facing description of this kind."""
        return self._schema

    @property
    def index_names(self) -> frozenset[str]:
        """Names of the declared index fields."""
        return frozenset(i.name for i in self.indexes)

    def index_values(self, obj: T) -> dict[str, IndexValue]:
        """The normalised index values of ``obj``."""
        values: dict[str, IndexValue] = {}
        for name, extract, types, column in self._plan:
            raw = extract(obj)
            value: IndexValue = raw if type(raw) in _PLAIN else normalize_index_value(raw, name)
            if value is not None and not isinstance(value, types):
                raise _wrong_type(name, column, value)
            values[name] = value
        return values

    def index(self, name: str) -> Index:
        """The declared index called ``name``."""
        for i in self.indexes:
            if i.name == name:
                return i
        raise ValidationError.at(name, f"{self.name} has no index {name!r}")


class KindRegistry:
    """The kinds a store knows, by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind[Any]] = {}

    def register(self, kind: Kind[T]) -> Kind[T]:
        """Add ``kind`` (re-registering the same declaration is allowed)."""
        existing = self._kinds.get(kind.name)
        if existing is not None and existing.cls is not kind.cls:
            msg = f"kind {kind.name!r} is already registered for {existing.cls!r}"
            raise ValidationError.at("name", msg)
        self._kinds[kind.name] = kind
        return kind

    def get(self, name: str) -> Kind[Any]:
        """The kind called ``name``."""
        try:
            return self._kinds[name]
        except KeyError:
            raise ValidationError.at("kind", f"unknown kind {name!r}") from None

    def by_attribute(self, attribute: str) -> Kind[Any] | None:
        """The kind whose unit-of-work attribute is ``attribute``."""
        for kind in self._kinds.values():
            if kind.attribute == attribute:
                return kind
        return None

    def __iter__(self) -> Iterator[Kind[Any]]:
        return iter(list(self._kinds.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


#: The process-wide registry that domain kinds register into.
KINDS = KindRegistry()


# -- queries -----------------------------------------------------------------------------


@attrs.frozen
class Filter:
    """One condition of a query: ``field op value`` (field ``"key"`` is the primary key)."""

    field: str
    op: Op
    value: Any


def parse_where(kind: Kind[Any], where: Mapping[str, Any]) -> tuple[Filter, ...]:
    """Turn ``status="paid", placed_at__ge=t`` into normalised :class:`Filter` objects."""
    filters = []
    allowed = kind.index_names | {"key"}
    for name, value in where.items():
        field, _, op = name.partition("__")
        op = op or "eq"
        if field not in allowed:
            msg = f"{kind.name} has no index {field!r}; indexed: {', '.join(sorted(allowed))}"
            raise ValidationError.at(name, msg)
        if op not in _OPS:
            raise ValidationError.at(name, f"unknown operator {op!r}")
        index = kind.index(field) if field != "key" else Index("key_", "text")
        if op == "in":
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise ValidationError.at(name, "__in needs a collection of values")
            norm: Any = tuple(_typed(index, normalize_index_value(v, name)) for v in value)
        else:
            norm = _typed(index, normalize_index_value(value, name))
            if norm is None and op not in ("eq", "ne"):
                raise ValidationError.at(name, f"cannot compare None with {op}")
        filters.append(Filter(field, cast(Op, op), norm))
    return tuple(filters)


def _parse_order(
    kind: Kind[Any], order_by: str | Sequence[str] | None
) -> tuple[tuple[str, bool], ...]:
    if order_by is None:
        return (("key", False),)
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    result = []
    for item in items:
        desc = item.startswith("-")
        field = item.lstrip("-")
        if field != "key" and field not in kind.index_names:
            raise ValidationError.at("order_by", f"{kind.name} has no index {field!r}")
        result.append((field, desc))
    if all(field != "key" for field, _ in result):
        result.append(("key", False))
    return tuple(result)


# -- the backend SPI ---------------------------------------------------------------------


@attrs.frozen
class Row:
    """A document to write: key, document (bytes or object) and its index values."""

    key: str
    doc: Any
    index: Mapping[str, IndexValue]


@runtime_checkable
class Transaction(Protocol):
    """One backend transaction. Every method may raise the csdomain persistence errors."""

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        """Create or migrate the storage of a kind (``reindex`` computes index values)."""

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        """``(version, document)`` of ``key``, or ``None``."""

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        """Insert new documents at version 1; :class:`AlreadyExists` if a key is taken."""

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        """Replace a document if its version is ``expected_version``; returns the new one.

        Raises :class:`ConcurrencyConflict` on a version mismatch, :class:`NotFound` when
        the key is not stored.
        """

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        """Delete a document at ``expected_version`` (same errors as :meth:`update`)."""

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Documents matching every filter as ``(key, version, document)``, in order."""

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many documents match every filter."""

    def next_counter(self, name: str) -> int:
        """Increment the named counter and return its new value (1 for a new counter)."""

    def commit(self) -> None:
        """Make the transaction's writes durable and visible."""

    def rollback(self) -> None:
        """Discard the transaction's writes."""


@runtime_checkable
class ClaimingTransaction(Transaction, Protocol):
    """Optional capability of a transaction: read rows locked for claiming.

    Backends with row locks (PostgreSQL) implement it so that several workers sharing a
    queue (the outbox, due messages) each take different rows without waiting for one
    another; :meth:`Repository.claim_candidates` falls back to ``find`` elsewhere.
    """

    def find_for_update(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        *,
        skip_locked: bool = True,
    ) -> Iterator[tuple[str, int, Any]]:
        """Like :meth:`Transaction.find` (no offset), each row locked until the transaction
        ends; with ``skip_locked`` rows another transaction has locked are left out."""


@runtime_checkable
class Backend(Protocol):
    """A storage backend: hands out transactions over documents."""

    #: ``True`` when documents are the frozen objects themselves (no serialization).
    stores_objects: bool
    #: The URL the backend was opened with, credentials removed.
    url: str

    def begin(self, *, readonly: bool = False) -> Transaction:
        """Start a transaction; writers are serialized by the backend or checked at commit."""

    def close(self) -> None:
        """Release every resource (connections, temporary files)."""


# -- outbox ------------------------------------------------------------------------------


@attrs.frozen
class OutboxEntry:
    """A domain event waiting to be turned into messages, written with the change itself."""

    id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    status: str = "pending"
    processed_at: datetime | None = None
    #: Why the entry could not become messages (status ``failed``).
    error: str | None = None

    def event(self) -> Event:
        """The event object this entry holds."""
        return structure(self.payload, event_type(self.type))

    def processed(self, at: datetime) -> OutboxEntry:
        """The entry marked as turned into messages."""
        return attrs.evolve(self, status="processed", processed_at=require_aware(at))

    def failed(self, at: datetime, error: str) -> OutboxEntry:
        """The entry marked as impossible to turn into messages, keeping the reason."""
        return attrs.evolve(
            self, status="failed", processed_at=require_aware(at), error=error[:1000]
        )


OUTBOX: Kind[OutboxEntry] = KINDS.register(
    Kind(
        "outbox",
        OutboxEntry,
        indexes=["status", "type", "created_at"],
        composite=(("status", "created_at"),),
        attribute="outbox",
    )
)


def random_token() -> str:
    """Twelve random hex digits: the default unit-of-work token of a :class:`Store`."""
    return uuid.uuid4().hex[:12]


def _outbox_id(at: datetime, token: str, seq: int) -> str:
    """Time, then the unit of work, then the event's place in it: ids sort as emitted."""
    m = at.astimezone(UTC)
    stamp = f"{m.year:04d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}"
    return f"{stamp}{m.microsecond:06d}-{token}-{seq:06d}"


# -- repositories and the unit of work ----------------------------------------------------


class Repository(Generic[T]):
    """Typed access to one kind inside a unit of work."""

    def __init__(self, uow: UnitOfWork, kind: Kind[T]) -> None:
        self._uow = uow
        self.kind = kind
        self._name = kind.name
        self._objects = uow.store.backend.stores_objects
        self._structure = converter.get_structure_hook(kind.cls)
        self._unstructure = json_unstructure_hook(kind.cls)

    # encoding -------------------------------------------------------------------------

    def _encode(self, obj: T) -> Any:
        if self._objects:
            return obj
        try:
            return orjson.dumps(self._unstructure(obj))
        except (orjson.JSONEncodeError, TypeError) as err:
            msg = f"cannot store {self._name}: {err}"
            raise ValidationError.at("", msg) from err

    def _decode(self, doc: Any) -> T:
        if self._objects:
            return cast(T, doc)
        return cast(T, self._structure(orjson.loads(doc), self.kind.cls))

    def _row(self, obj: T) -> Row:
        if not isinstance(obj, self.kind.cls):
            msg = f"expected {self.kind.cls.__name__}, got {type(obj).__name__}"
            raise ValidationError.at("", msg)
        key = self.kind.key(obj)
        if not isinstance(key, str) or not key:
            raise ValidationError.at("id", f"a {self._name} needs a non-empty string key")
        return Row(key, self._encode(obj), self.kind.index_values(obj))

    # reads ----------------------------------------------------------------------------

    def get_with_version(self, key: str) -> tuple[T, int]:
        """The stored object and its version; :class:`NotFound` if absent."""
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
        return list(self.scan(order_by=order_by, limit=limit, offset=offset, **where))

    def scan(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        **where: Any,
    ) -> Iterator[T]:
        """Like :meth:`find`, but streams objects one by one (bounded memory)."""
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise ValidationError.at("limit", "must be a non-negative integer")
        if offset < 0:
            raise ValidationError.at("offset", "must be a non-negative integer")
        filters = parse_where(self.kind, where)
        order = _parse_order(self.kind, order_by)
        rows = self._uow.tx.find(self._name, filters, order, limit, offset)
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
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise ValidationError.at("limit", "must be a non-negative integer")
        filters = parse_where(self.kind, where)
        order = _parse_order(self.kind, order_by)
        versions = self._uow.versions
        found = []
        for key, version, doc in finder(self._name, filters, order, limit, skip_locked=skip_locked):
            versions[(self._name, key)] = version
            found.append(self._decode(doc))
        return found

    def count(self, **where: Any) -> int:
        """How many stored objects match ``where``."""
        return self._uow.tx.count(self._name, parse_where(self.kind, where))

    # writes ---------------------------------------------------------------------------

    def add(self, obj: T) -> None:
        """Store a new object (:class:`AlreadyExists` if its key is taken)."""
        self._uow.require_writable()
        row = self._row(obj)
        self._uow.tx.insert(self._name, [row])
        self._uow.versions[(self._name, row.key)] = 1

    def add_many(self, objs: Iterable[T], *, batch_size: int = 5000) -> int:
        """Store many new objects in batches; returns how many were added."""
        self._uow.require_writable()
        total = 0
        versions = self._uow.versions
        batch: list[Row] = []
        for obj in objs:
            batch.append(self._row(obj))
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
        row = self._row(obj)
        slot = (self._name, row.key)
        if expected_version is None:
            expected_version = self._uow.versions.get(slot)
            if expected_version is None:
                msg = f"load {self._name} {row.key!r} in this unit of work before updating it"
                raise ValidationError.at("", msg)
        new_version = self._uow.tx.update(self._name, row, expected_version)
        self._uow.versions[slot] = new_version
        return new_version

    def delete(self, key: str, *, expected_version: int | None = None) -> None:
        """Delete a stored object (same version rules as :meth:`update`)."""
        self._uow.require_writable()
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

    def __init__(self, store: Store, *, readonly: bool = False) -> None:
        self.store = store
        self.readonly = readonly
        self.versions: dict[tuple[str, str], int] = {}
        self.emitted: list[Event] = []
        self._tx: Transaction | None = None
        self._repos: dict[str, Repository[Any]] = {}
        self._done = False
        self._token = ""

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
        self._tx = self.store.backend.begin(readonly=self.readonly)
        try:
            self.store.ensure_kinds(self._tx)
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
        else:
            tx.rollback()

    def require_writable(self) -> None:
        """Raise unless this unit of work may write."""
        if self.readonly:
            raise ValidationError.at("", "this unit of work is read-only")

    def repo(self, kind: Kind[T]) -> Repository[T]:
        """The repository of ``kind`` in this unit of work."""
        repo = self._repos.get(kind.name)
        if repo is None:
            self.store.ensure_kind(self.tx, kind)
            repo = Repository(self, kind)
            self._repos[kind.name] = repo
        return cast(Repository[T], repo)

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
        entry = OutboxEntry(
            id=_outbox_id(moment, self._outbox_token(), len(self.emitted)),
            type=type(event).type_name,
            payload=converter.unstructure(event),
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

    @property
    def url(self) -> str:
        """The backend's URL without credentials."""
        return self.backend.url

    def unit_of_work(self, *, readonly: bool = False) -> UnitOfWork:
        """A new unit of work (use it as a context manager)."""
        return UnitOfWork(self, readonly=readonly)

    def _reindexer(self, kind: Kind[Any]) -> Callable[[Any], Mapping[str, IndexValue]]:
        found = self._reindexers.get(kind.name)
        if found is not None and found[0] is kind:
            return found[1]
        if self.backend.stores_objects:
            reindex: Callable[[Any], Mapping[str, IndexValue]] = kind.index_values
        else:
            hook = converter.get_structure_hook(kind.cls)

            def reindex(doc: Any) -> Mapping[str, IndexValue]:
                return kind.index_values(hook(orjson.loads(doc), kind.cls))

        self._reindexers[kind.name] = (kind, reindex)
        return reindex

    def ensure_kind(self, tx: Transaction, kind: Kind[Any]) -> None:
        """Create or migrate ``kind``'s storage (backends make repeated calls cheap)."""
        tx.ensure_kind(kind.schema, self._reindexer(kind))

    def ensure_kinds(self, tx: Transaction) -> None:
        """Ensure every registered kind (cheap after the first call)."""
        for kind in self.kinds:
            self.ensure_kind(tx, kind)

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
        raise ValidationError.at("url", f"not a store URL: {url!r}")
    if plugin_manager is None:
        from csdomain.plugins import default_plugin_manager  # noqa: PLC0415 - avoid a cycle

        plugin_manager = default_plugin_manager()
    backend = plugin_manager.hook.csdomain_open_store(url=url)
    if backend is None:
        raise BackendNotFound(url, _schemes(plugin_manager))
    return Store(backend, clock=clock, kinds=kinds)


def check_version(kind: str, key: str, expected: int, actual: int | None) -> None:
    """Raise the right error when ``actual`` (``None``: absent) is not ``expected``.

    For backends: :class:`NotFound` when the key is absent, :class:`ConcurrencyConflict`
    when another transaction changed it first.
    """
    if actual is None:
        raise NotFound(kind, key)
    if actual != expected:
        raise ConcurrencyConflict(kind, key, expected, actual)
