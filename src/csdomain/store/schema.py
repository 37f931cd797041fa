"""Kinds: what is stored, keyed how and indexed by which fields; and queries over them.

A :class:`Kind` names a model class, its key function and its declared index fields
(``Kind("order", Order, indexes=["customer_id", "status", Index("total", "real",
lambda o: float(o.total.amount))])``); :data:`KINDS` is the process-wide registry the
domain kinds register into. :func:`parse_where` turns ``find`` keyword arguments into
backend :class:`~csdomain.store.spi.Filter` objects.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any, Generic, TypeVar, cast

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError
from csdomain.events import Event
from csdomain.store.codec import NOT_UNICODE, valid_text
from csdomain.store.spi import (
    CounterDeletingTransaction,
    Filter,
    IndexType,
    IndexValue,
    KindSchema,
    Op,
    Transaction,
    short_repr,
)


__all__ = [
    "KINDS",
    "Index",
    "Kind",
    "KindRegistry",
    "Migration",
    "QueryPlans",
    "check_paging",
    "counter_fold",
    "normalize_index_value",
    "parse_order",
    "parse_where",
]

T = TypeVar("T")

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


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
#: Longest argument name an error path shows whole.
_LONGEST_PATH = 80


def _wrong_type(name: str, column: str, value: object, path: str = "") -> ValidationError:
    msg = f"index {name!r} holds {column} values, got {type(value).__name__}"
    return ValidationError.at(path or name, msg)


def _check_storable(name: str, value: IndexValue, path: str = "") -> None:
    """Raise unless every backend can hold ``value`` in an index column: text is valid
    Unicode, integers fit in 64 bits, and a number is never NaN."""
    if isinstance(value, str):
        if not valid_text(value):
            raise ValidationError.at(path or name, NOT_UNICODE)
    elif isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            msg = f"index {name!r} holds 64-bit integers, {short_repr(value)} is out of range"
            raise ValidationError.at(path or name, msg)
    elif value != value:  # noqa: PLR0124 - NaN is the one value unequal to itself
        raise ValidationError.at(path or name, f"index {name!r} cannot hold NaN")


def _typed(index: Index, value: IndexValue, path: str) -> IndexValue:
    if value is None:
        return value
    name = "key" if index is _KEY else index.name
    if not isinstance(value, _PYTHON_TYPES[index.type]):
        raise _wrong_type(name, index.type, value, path)
    _check_storable(name, value, path)
    return value


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
            if value is not None:
                if not isinstance(value, types):
                    raise _wrong_type(name, column, value)
                _check_storable(name, value)
            values[name] = value
        return values

    def index(self, name: str) -> Index:
        """The declared index called ``name``."""
        for i in self.indexes:
            if i.name == name:
                return i
        raise ValidationError.at(name, f"{self.name} has no index {short_repr(name)}")


@attrs.frozen
class Migration:
    """A data migration: brings what an older csdomain wrote up to date in a store.

    A :class:`~csdomain.store.Store` runs every migration of its registry in one writing
    transaction each, before its first writing unit of work (``run(tx)``; the store
    commits). A migration is idempotent: run on a store it already migrated it finds
    nothing to do and writes nothing.
    """

    name: str
    run: Callable[[Transaction], None] = attrs.field(eq=False)


#: What a counter fold computes from every ``(name, value)`` counter: the counters to raise
#: to at least a value, and the counters to remove.
CounterPlan = Callable[[Sequence[tuple[str, int]]], tuple[Mapping[str, int], Sequence[str]]]


def _raise_counter(tx: Transaction, name: str, have: int | None, want: int) -> None:
    if have is None:
        tx.restore_counter(name, want)
    elif isinstance(tx, CounterDeletingTransaction):
        tx.delete_counter(name)
        tx.restore_counter(name, want)
    else:
        for _ in range(want - have):
            tx.next_counter(name)


def counter_fold(name: str, plan: CounterPlan) -> Migration:
    """A :class:`Migration` that folds counters into others as ``plan`` says.

    ``plan`` gets every counter as ``(name, value)`` and returns the counters to raise to
    a value (created when absent, never lowered) and the counters to remove (on a
    backend whose transactions are :class:`~csdomain.store.spi.CounterDeletingTransaction`;
    elsewhere they stay and the fold raises the others only). A backend that cannot list
    its counters (no :meth:`~csdomain.store.spi.Transaction.list_counters`) is left as it
    is. The customer-code
    migration is one (:meth:`csdomain.ids.NamingSeries.fold_uncounted`).
    """

    def run(tx: Transaction) -> None:
        lister = getattr(tx, "list_counters", None)
        if lister is None:
            return  # a backend without the transfer methods cannot list its counters
        counters: list[tuple[str, int]] = list(lister())
        raise_to, remove = plan(counters)
        have = dict(counters)
        for counter, want in sorted(raise_to.items()):
            if have.get(counter, 0) < want:
                _raise_counter(tx, counter, have.get(counter), want)
        if isinstance(tx, CounterDeletingTransaction):
            for counter in sorted(set(remove) - set(raise_to)):
                tx.delete_counter(counter)

    return Migration(name, run)


class KindRegistry:
    """The kinds a store knows, by name, and the data migrations it runs when opened."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind[Any]] = {}
        self._migrations: dict[str, Migration] = {}

    def register_migration(self, migration: Migration) -> Migration:
        """Add a data migration (one of a name: registering it again replaces it)."""
        if not isinstance(migration, Migration):
            msg = f"expected a Migration, got {type(migration).__name__}"
            raise ValidationError.at("migration", msg)
        self._migrations[migration.name] = migration
        return migration

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """The registered data migrations, in the order they were registered."""
        return tuple(self._migrations.values())

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
            raise ValidationError.at("kind", f"unknown kind {short_repr(name)}") from None

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

#: The primary key, as an index for filters on ``key``.
_KEY = Index("key_", "text")


# -- queries -----------------------------------------------------------------------------


def _argument(name: str) -> str:
    """``name`` as an error path, shortened when a caller passed a huge one."""
    return name if len(name) <= _LONGEST_PATH else name[: _LONGEST_PATH - 3] + "..."


def parse_where(kind: Kind[Any], where: Mapping[str, Any]) -> tuple[Filter, ...]:
    """Turn ``status="paid", placed_at__ge=t`` into normalised :class:`Filter` objects."""
    filters = []
    allowed = kind.index_names | {"key"}
    for name, value in where.items():
        planned = _plan_one(kind, allowed, name)
        filters.append(_filter(planned, value))
    return tuple(filters)


#: One planned ``where`` argument: its name, field, operator, index, error path and
#: whether plain ASCII text is its value as given (a text index, not ``__in``).
_Planned = tuple[str, str, Op, Index, str, bool]


def _plan_one(kind: Kind[Any], allowed: frozenset[str], name: str) -> _Planned:
    path = _argument(name)
    field, _, op = name.partition("__")
    op = op or "eq"
    if field not in allowed:
        msg = f"{kind.name} has no index {short_repr(field)}; indexed: {', '.join(sorted(allowed))}"
        raise ValidationError.at(path, msg)
    if op not in _OPS:
        raise ValidationError.at(path, f"unknown operator {short_repr(op)}")
    index = kind.index(field) if field != "key" else _KEY
    return name, field, cast(Op, op), index, path, index.type == "text" and op != "in"


def _filter(planned: _Planned, value: Any) -> Filter:
    _name, field, op, index, path, text = planned
    if text and value.__class__ is str and value.isascii():
        return Filter(field, op, value)  # what normalising and checking give ASCII text
    if op == "in":
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ValidationError.at(path, "__in needs a collection of values")
        norm: Any = tuple(_typed(index, normalize_index_value(v, path), path) for v in value)
    else:
        norm = _typed(index, normalize_index_value(value, path), path)
        if norm is None and op not in ("eq", "ne"):
            raise ValidationError.at(path, f"cannot compare None with {op}")
    return Filter(field, op, norm)


class QueryPlans:
    """The parsed ``where`` names and ``order_by`` of one kind, cached by shape.

    :meth:`filters` gives exactly what :func:`parse_where` gives (the same filters, the
    same errors): a query's argument names are checked once per shape, its values at
    every call.
    """

    #: Shapes kept per kind (a program has few; callers that build names dynamically
    #: cannot grow the cache without bound).
    LIMIT = 512

    def __init__(self, kind: Kind[Any]) -> None:
        self.kind = kind
        self._where: dict[tuple[str, ...], tuple[_Planned, ...]] = {}
        self._order: dict[object, tuple[tuple[str, bool], ...]] = {}

    def filters(self, where: Mapping[str, Any]) -> tuple[Filter, ...]:
        """The filters of ``where`` (see :func:`parse_where`)."""
        if not where:
            return ()
        shape = tuple(where)
        plan = self._where.get(shape)
        if plan is None:
            allowed = self.kind.index_names | {"key"}
            try:
                plan = tuple(_plan_one(self.kind, allowed, name) for name in shape)
            except ValidationError:
                return parse_where(self.kind, where)  # raises what it always raised
            if len(self._where) < self.LIMIT:
                self._where[shape] = plan
        filters = []
        for planned in plan:
            value = where[planned[0]]
            if value.__class__ is str and planned[5] and value.isascii():
                filters.append(Filter(planned[1], planned[2], value))  # as _filter makes it
            else:
                filters.append(_filter(planned, value))
        return tuple(filters)

    def order(self, order_by: object) -> tuple[tuple[str, bool], ...]:
        """The order of ``order_by`` (see :func:`parse_order`)."""
        if order_by is None:
            return _BY_KEY
        if not isinstance(order_by, str | tuple):
            return parse_order(self.kind, order_by)
        try:
            found = self._order.get(order_by)
        except TypeError:  # a tuple holding something unhashable
            return parse_order(self.kind, order_by)
        if found is None:
            found = parse_order(self.kind, order_by)
            if len(self._order) < self.LIMIT:
                self._order[order_by] = found
        return found


_BY_KEY: tuple[tuple[str, bool], ...] = (("key", False),)


def parse_order(kind: Kind[Any], order_by: object) -> tuple[tuple[str, bool], ...]:
    """``order_by`` (``"field"``, ``"-field"`` or a sequence of them) as ``(field,
    descending)`` pairs ending with the key; anything else is a :class:`ValidationError`."""
    if order_by is None:
        return (("key", False),)
    if isinstance(order_by, str):
        items: list[object] = [order_by]
    elif isinstance(order_by, Sequence):
        items = list(order_by)
    else:
        msg = f"expected a field name or a list of them, got {type(order_by).__name__}"
        raise ValidationError.at("order_by", msg)
    result = []
    for item in items:
        if not isinstance(item, str):
            msg = f"expected a field name, got {type(item).__name__}"
            raise ValidationError.at("order_by", msg)
        desc = item.startswith("-")
        field = item.lstrip("-")
        if field != "key" and field not in kind.index_names:
            msg = f"{kind.name} has no index {short_repr(field)}"
            raise ValidationError.at("order_by", msg)
        result.append((field, desc))
    if all(field != "key" for field, _ in result):
        result.append(("key", False))
    return tuple(result)


def check_paging(limit: object, offset: object = 0) -> None:
    """Raise unless ``limit`` is ``None`` or an integer >= 0 and ``offset`` an integer >= 0
    (both 64-bit), naming the bad argument."""
    for name, value in (("limit", limit), ("offset", offset)):
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _INT_MAX:
            kind = "None or " if name == "limit" else ""
            msg = f"must be {kind}an integer from 0 to {_INT_MAX}, got {short_repr(value)}"
            raise ValidationError.at(name, msg)
