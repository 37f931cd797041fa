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
from csdomain.store.spi import Filter, IndexType, IndexValue, KindSchema, Op


__all__ = [
    "KINDS",
    "Index",
    "Kind",
    "KindRegistry",
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


def parse_order(
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
