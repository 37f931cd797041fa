"""Reading chosen fields of stored documents without building the documents (issue #15).

:class:`FieldPlan` turns field paths of a model class (``"status"``, ``"received_at"``,
``"history.to"``) into what a backend is asked for — the distinct top-level members of the
document — and into the functions that make each field's value, typed as the model
declares it, from what the backend hands back: a JSON array of the members (SQLite's
``json_extract``, PostgreSQL's JSONB operators), the members of an object (a backend that
stores objects), or a whole decoded object (a backend without the capability).

A path is a field of the model, or a field of a field: ``"approval.by"`` reads the
``by`` of an attrs-typed (optionally ``None``) field, ``None`` when the field is
``None``; ``"history.to"`` reads the ``to`` of each element of a tuple or list of attrs
objects, as a tuple. Values are built as the trusted read path builds them (the store
checked every document when it wrote it): a field read on its own equals the same field
of the decoded object.
"""

from __future__ import annotations

import enum
import functools
import operator
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from csdomain.errors import ValidationError
from csdomain.serialization import (
    GeneratedSource,
    trusted_structure_hook,
    validation_error_from,
)
from csdomain.store.spi import Filter, short_repr
from csdomain.store.sql import Dialect, select_sql


__all__ = ["FieldPlan", "field_plan", "members_sql"]

_Getter = Callable[[Any], Any]
_STRUCTURE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
    OverflowError,
    BaseExceptionGroup,
)
#: Types whose JSON value is already the Python value the model holds.
_AS_IS: tuple[type, ...] = (str, int, bool)


def _identity(value: Any) -> Any:
    return value


def _optional(declared: Any) -> tuple[bool, Any]:
    """``(True, T)`` for ``T | None``, else ``(False, declared)``."""
    if typing.get_origin(declared) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(declared) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(declared)) == 2:
            return True, args[0]
    return False, declared


def _element(declared: Any) -> Any:
    """The element type of ``tuple[T, ...]``, ``list[T]`` or ``Sequence[T]``, else ``None``."""
    origin = typing.get_origin(declared)
    args = typing.get_args(declared)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if origin in (list, Sequence, typing.Sequence) and len(args) == 1:
        return args[0]
    return None


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, object) for f in attrs.fields(cls)}


def _from_json(declared: Any) -> _Getter | None:
    """The function building a value of ``declared`` from its stored JSON (``None``: the
    JSON value is the value)."""
    optional, inner = _optional(declared)
    if optional:
        made = _from_json(inner)
        if made is None:
            return None
        return lambda value: None if value is None else made(value)
    if inner in _AS_IS:
        return None
    if inner is datetime:
        return datetime.fromisoformat
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        members = {m.value: m for m in inner}
        if all(v.__class__ is str for v in members):
            return members.__getitem__
    return trusted_structure_hook(declared)


def _json_expr(code: GeneratedSource, declared: Any, parts: Sequence[str], value: str) -> str:
    """An expression building the value of ``parts`` below ``value`` (a Python expression
    of the JSON value of a ``declared`` member), as :func:`_paths` does."""
    optional, inner = _optional(declared)
    if not parts:
        made = _from_json(declared)
        if made is None:
            return value
        if optional:
            t = code.temp()
            return f"(None if ({t} := {value}) is None else {_json_expr(code, inner, (), t)})"
        table = getattr(made, "__self__", None)
        if isinstance(table, dict) and getattr(made, "__name__", "") == "__getitem__":
            return f"{code.bind(table)}[{value}]"
        return f"{code.bind(made)}({value})"
    element = _element(inner)
    if element is not None and attrs.has(element):
        item = code.temp()
        each = _json_expr(code, element, parts, item)
        body = f"tuple([{each} for {item} in {{}}])"
    else:
        name = parts[0]
        below = _json_expr(code, _field_types(inner)[name], parts[1:], f"{{}}[{name!r}]")
        body = below
    if optional:
        t = code.temp()
        return f"(None if ({t} := {value}) is None else {body.format(t)})"
    return body.format(value)


def _json_rows_fn(
    cls: type, members: Sequence[str], fields: Sequence[tuple[str, Sequence[str]]]
) -> Callable[[Iterable[str | bytes]], Iterator[tuple[Any, ...]]]:
    """A generator function turning JSON arrays of ``members`` into rows of ``fields``
    (each ``(top-level name, parts below it)``), one generated expression per field."""
    code = GeneratedSource()
    types_of = _field_types(cls)
    defaults = {f.name: f.default for f in attrs.fields(cls)}
    loads = code.bind(orjson.loads)
    values = []
    for top, below in fields:
        member = f"v[{members.index(top)}]"
        expr = _json_expr(code, types_of[top], below, member)
        default = defaults[top]
        factory = isinstance(default, attrs.Factory)  # type: ignore[arg-type]
        if (
            default is attrs.NOTHING
            or _optional(types_of[top])[0]
            or (factory and default.takes_self)
        ):
            values.append(expr)
            continue
        # A document written before the field existed lacks it (null here): the whole
        # document reads it as the field's default, and so does this row.
        if factory:
            default = default.factory()
        _json_get, object_get = _paths(cls, types_of[top], below, "")
        fallback = code.bind(default if object_get is None else object_get(default))
        t = code.temp()
        values.append(
            f"({fallback} if ({t} := {member}) is None else "
            f"{_json_expr(code, types_of[top], below, t)})"
        )
    lines = [
        "def json_rows(rows):",
        "    for r in rows:",
        f"        v = {loads}(r)",
        f"        yield ({', '.join(values)},)",
    ]
    made: Callable[[Iterable[str | bytes]], Iterator[tuple[Any, ...]]]
    made = code.compile("json_rows", cls, lines)
    return made


def _paths(
    cls: type, declared: Any, parts: Sequence[str], path: str
) -> tuple[_Getter | None, _Getter | None]:
    """``(from JSON, from object)`` getters of ``parts`` below a value of ``declared``
    (``None``: the value itself)."""
    if not parts:
        return _from_json(declared), None
    optional, inner = _optional(declared)
    element = _element(inner)
    if element is not None and attrs.has(element):
        json_each, object_each = _paths(cls, element, parts, path)
        json_each = json_each or _identity
        object_each = object_each or _identity

        def json_all(value: Any) -> Any:
            return tuple([json_each(item) for item in value])

        def object_all(value: Any) -> Any:
            return tuple([object_each(item) for item in value])

        made_json, made_object = json_all, object_all
    elif attrs.has(inner):
        name = parts[0]
        member_types = _field_types(inner)
        if name not in member_types:
            raise ValidationError.at(path, f"{inner.__name__} has no field {name!r}")
        json_below, object_below = _paths(cls, member_types[name], parts[1:], path)

        def json_member(value: Any) -> Any:
            found = value[name]
            return found if json_below is None else json_below(found)

        def object_member(value: Any) -> Any:
            found = getattr(value, name)
            return found if object_below is None else object_below(found)

        made_json, made_object = json_member, object_member
    else:
        msg = f"{short_repr('.'.join(parts))} is not a field of a {_type_name(declared)} value"
        raise ValidationError.at(path, msg)
    if not optional:
        return made_json, made_object
    return (
        lambda value: None if value is None else made_json(value),
        lambda value: None if value is None else made_object(value),
    )


def _type_name(declared: Any) -> str:
    name = getattr(declared, "__name__", None)
    return name if isinstance(name, str) else short_repr(declared)


def _item(index: int, then: _Getter | None) -> _Getter:
    if then is None:
        return lambda row: row[index]
    return lambda row: then(row[index])


def _attribute(name: str, then: _Getter | None) -> _Getter:
    if then is None:
        return operator.attrgetter(name)
    return lambda obj: then(getattr(obj, name))


@attrs.frozen
class FieldPlan:
    """How to read ``fields`` of ``cls`` (build one with :func:`field_plan`)."""

    cls: type
    fields: tuple[str, ...]
    #: The distinct top-level members to ask the backend for, in first-use order.
    members: tuple[str, ...]
    _from_json: Callable[[Iterable[str | bytes]], Iterator[tuple[Any, ...]]] = attrs.field(
        repr=False, eq=False
    )
    _from_members: tuple[_Getter, ...] = attrs.field(repr=False, eq=False)
    _from_object: tuple[_Getter, ...] = attrs.field(repr=False, eq=False)
    #: Whether a JSON row of the members already is the row of values.
    _plain: bool = attrs.field(repr=False, eq=False)

    def json_rows(self, rows: Iterable[str | bytes]) -> Iterator[tuple[Any, ...]]:
        """Rows of values from JSON arrays of the members (a JSON-storing backend)."""
        try:
            yield from self._from_json(rows)
        except orjson.JSONDecodeError as err:
            raise ValidationError.at("", f"not valid JSON: {err}") from err
        except ValidationError:
            raise
        except _STRUCTURE_ERRORS as err:
            raise validation_error_from(err) from err

    def member_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
        """Rows of values from tuples of the members' objects (a backend storing objects)."""
        getters = self._from_members
        if self._plain:
            for row in rows:
                yield tuple(row)
            return
        for row in rows:
            yield tuple([get(row) for get in getters])

    def object_rows(self, objects: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of values picked from whole objects (a backend without the capability)."""
        getters = self._from_object
        for obj in objects:
            yield tuple([get(obj) for get in getters])


def _plan(cls: type, fields: tuple[str, ...]) -> FieldPlan:
    types_of = _field_types(cls)
    members: list[str] = []
    paths: list[tuple[str, list[str]]] = []
    from_members: list[_Getter] = []
    from_object: list[_Getter] = []
    plain = True
    for i, field in enumerate(fields):
        path = f"fields.{i}"
        if not isinstance(field, str):
            raise ValidationError.at(path, f"expected a field name, got {short_repr(field)}")
        top, *below = field.split(".")
        if top not in types_of or not all(below):
            raise ValidationError.at(path, f"{cls.__name__} has no field {short_repr(field)}")
        if top not in members:
            members.append(top)
        index = members.index(top)
        json_get, object_get = _paths(cls, types_of[top], below, path)
        plain = plain and json_get is None and object_get is None and index == i
        paths.append((top, below))
        from_members.append(_item(index, object_get))
        from_object.append(_attribute(top, object_get))
    return FieldPlan(
        cls,
        fields,
        tuple(members),
        _json_rows_fn(cls, members, paths),
        tuple(from_members),
        tuple(from_object),
        plain,
    )


@functools.lru_cache(maxsize=512)
def _cached(cls: type, fields: tuple[str, ...]) -> FieldPlan:
    return _plan(cls, fields)


def field_plan(cls: type, fields: Sequence[str]) -> FieldPlan:
    """The plan reading ``fields`` of ``cls`` (kept per class and fields).

    Raises :class:`ValidationError` at ``fields.<i>`` for a name that is not a field path
    of ``cls``, at ``fields`` when none is given.
    """
    if isinstance(fields, str) or not isinstance(fields, Sequence):
        raise ValidationError.at(
            "fields", f"expected a sequence of field names, got {short_repr(fields)}"
        )
    wanted = tuple(fields)
    if not wanted:
        raise ValidationError.at("fields", "name at least one field")
    if not all(isinstance(f, str) for f in wanted):
        return _plan(cls, wanted)  # raises, naming the first that is not a name
    return _cached(cls, wanted)


_MEMBER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _members_column(dialect: Dialect, members: Sequence[str]) -> str:
    for name in members:
        if not isinstance(name, str) or not _MEMBER.fullmatch(name):
            raise ValidationError.at("members", f"not a member name: {short_repr(name)}")
    if dialect.name == "postgresql":
        picked = ", ".join(f"doc -> '{m}'" for m in members)
        return f"jsonb_build_array({picked})"
    # SQLite keeps documents as BLOBs: read as text (newer SQLite takes a BLOB for JSONB)
    if len(members) == 1:
        return f"json_array(CAST(doc AS TEXT) -> '$.{members[0]}')"
    paths = ", ".join(f"'$.{m}'" for m in members)
    return f"json_extract(CAST(doc AS TEXT), {paths})"


def members_sql(  # noqa: PLR0917 - mirrors ProjectingTransaction.find_members
    dialect: Dialect,
    kind: str,
    members: Sequence[str],
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, bool]],
    limit: int | None,
    offset: int,
) -> tuple[str, list[Any]]:
    """The query of :meth:`~csdomain.store.spi.ProjectingTransaction.find_members` on a SQL
    backend: :func:`~csdomain.store.sql.select_sql`'s rows, selecting one JSON array of
    the ``members`` (SQLite: ``json_extract`` with one path per member; PostgreSQL:
    ``jsonb_build_array`` of ``doc -> 'member'``; the text is built per call, the
    database keeps its plan), then the ``raw`` column if the dialect
    keeps one (PostgreSQL keeps there documents JSONB cannot hold: pick the members from
    it when it is not ``NULL``)."""
    sql, params = select_sql(dialect, kind, filters, order_by, limit, offset)
    head = f"SELECT key, version, {dialect.doc_columns} FROM "
    if not sql.startswith(head):  # pragma: no cover - select_sql's own shape
        raise ValidationError.at("", "unexpected query shape")
    chosen = _members_column(dialect, members)
    if dialect.raw_type is not None:
        chosen += ", raw"
    return f"SELECT {chosen} FROM {sql[len(head) :]}", params
