"""One converter for every model: JSON in, JSON out, with every bad path reported.

csdomain never uses ``cattrs.global_converter``. :func:`make_converter` builds a cattrs
converter on the orjson preconfiguration and :func:`configure_converter` registers all
hooks in one place:

- ``Decimal`` as a string (never a float); ``Money`` as ``{"amount": "12.30", "currency": "CNY"}``;
- ``datetime`` as ISO 8601 with its offset; naive datetimes are refused; ``date`` and
  ``time`` as ISO strings; ``timedelta`` as seconds;
- enums by value; sets and frozensets as sorted lists (so equal objects give equal bytes);
- unknown keys are refused (``forbid_extra_keys=True``).

:func:`to_json` and :func:`from_json` use the module's converter. Untrusted input that does
not fit comes out as :class:`~csdomain.errors.ValidationError` listing every bad path,
never as a bare ``KeyError`` or ``TypeError``.

For speed, attrs classes get generated functions: structuring tries a fast path for
well-formed documents first and re-runs cattrs' detailed function on anything else (so the
errors are cattrs' own), and unstructuring is one dict expression per class.
``make_converter(generated=False)`` builds the same converter on cattrs' functions alone.
"""

from __future__ import annotations

import enum
import linecache
import re
import threading
import types
from collections.abc import (
    Callable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Sequence,
)
from collections.abc import Set as AbstractSet
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, NoReturn, TypeVar, cast, get_args, get_origin

import attrs
import cattrs
import orjson
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    list_structure_factory,
    mapping_structure_factory,
)
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.fns import identity
from cattrs.gen import iterable_unstructure_factory
from cattrs.preconf.orjson import make_converter as _make_orjson_converter


try:  # cattrs' own field-hook lookup; without it the generated fast paths are left out
    from cattrs.gen._shared import find_structure_handler as _find_structure_handler
except ImportError:  # pragma: no cover - a cattrs that moved it
    _find_structure_handler = None  # type: ignore[assignment]

from csdomain.clock import as_utc, require_aware
from csdomain.errors import ValidationError
from csdomain.money import Money
from csdomain.validators import _accepted, as_frozenset, as_tuple, valid_unicode


try:  # what attrs' own __init__ reads to know whether validators run
    from attr import _config as _attrs_config
except ImportError:  # pragma: no cover - an attrs that moved it: calls build every class
    _attrs_config = None  # type: ignore[assignment]


__all__ = [
    "configure_converter",
    "converter",
    "from_json",
    "json_unstructure_hook",
    "make_converter",
    "round_trip_verifier",
    "structure",
    "to_json",
    "trusted_structure_hook",
    "unstructure",
]

T = TypeVar("T")


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, bool | float):
        msg = "decimal values must be given as strings or integers, not floats"
        raise ValidationError.at("", msg)
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(value if isinstance(value, str | int) else str(value))
        except (InvalidOperation, TypeError):
            raise ValidationError.at("", f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValidationError.at("", f"decimal must be finite, got {value!r}")
    return result


def _structure_money(value: Any, _: type) -> Money:
    if value.__class__ is dict and len(value) == 2:
        amount = value.get("amount")
        if amount.__class__ is str and "currency" in value:
            try:
                number = Decimal(amount)
            except InvalidOperation:
                pass
            else:
                return Money(number, value["currency"])
    if not isinstance(value, dict):
        raise ValidationError.at("", f"expected an object with amount and currency, got {value!r}")
    extra = set(value) - {"amount", "currency"}
    errors = [(key, "unknown field") for key in sorted(extra)]
    errors += [
        (key, "required field missing") for key in ("amount", "currency") if key not in value
    ]
    if errors:
        raise ValidationError(errors)
    amount = value["amount"]
    if isinstance(amount, float):
        raise ValidationError.at("amount", "money must be given as a string, not a float")
    return Money(amount, value["currency"])


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return require_aware(value, "")
    if not isinstance(value, str):
        raise ValidationError.at("", f"expected an ISO 8601 datetime string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError.at("", f"not an ISO 8601 datetime: {value!r}") from None
    return require_aware(parsed, "")


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError.at("", f"not an ISO 8601 date: {value!r}")


def _structure_time(value: Any, _: type) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError.at("", f"not an ISO 8601 time of day: {value!r}")


def _structure_timedelta(value: Any, _: type) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at("", f"expected a duration in seconds, got {value!r}")
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError):
        raise ValidationError.at("", f"duration out of range: {value!r}") from None


def _unstructure_timedelta(value: timedelta) -> int | float:
    seconds = value.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _sort_key(item: Any) -> bytes:
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)


def _is_set_type(cls: Any) -> bool:
    return get_origin(cls) in (frozenset, set) or cls in (frozenset, set)


def _set_unstructure_factory(cls: Any, conv: cattrs.Converter) -> Callable[[Any], list[Any]]:
    args = get_args(cls)
    item_type = args[0] if args else Any
    item_hook = conv.get_unstructure_hook(item_type)

    def unstructure_set(value: Any) -> list[Any]:
        items = [item_hook(item) for item in value]
        try:
            items.sort()
        except TypeError:
            items.sort(key=_sort_key)
        return items

    return unstructure_set


def _structure_str(value: Any, cls: type) -> str:
    if cls is not str and issubclass(cls, enum.Enum):
        return _structure_enum(value, cls)  # type: ignore[return-value]
    if not isinstance(value, str):
        raise ValidationError.at("", f"expected a string, got {type(value).__name__}")
    return value


def _structure_int(value: Any, cls: type) -> int:
    if cls is not int and issubclass(cls, enum.Enum):
        return _structure_enum(value, cls)  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.at("", f"expected an integer, got {type(value).__name__}")
    return value


def _structure_float(value: Any, cls: type) -> float:
    if cls is not float and issubclass(cls, enum.Enum):
        return _structure_enum(value, cls)  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at("", f"expected a number, got {type(value).__name__}")
    return float(value)


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise ValidationError.at("", f"expected true or false, got {type(value).__name__}")
    return value


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    """A member from its value, of the value's own type (``true`` or ``1.0`` is not ``1``)."""
    try:
        member = cls(value)
    except ValueError:
        member = None
    if member is not None and (value.__class__ is member.value.__class__ or value is member):
        return member
    allowed = ", ".join(repr(m.value) for m in cls)
    raise ValidationError.at("", f"{value!r} is not one of {allowed}")


_SEQUENCE_ORIGINS = (list, tuple, Sequence, MutableSequence)
_SET_ORIGINS = (set, frozenset, AbstractSet, MutableSet)


_MAPPING_ORIGINS = (dict, Mapping, MutableMapping)
_INT_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")


def _is_int_keyed_mapping(cls: Any) -> bool:
    args = get_args(cls)
    return get_origin(cls) in _MAPPING_ORIGINS and len(args) == 2 and args[0] is int


def _int_keyed_mapping_factory(cls: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Mappings with ``int`` keys also take their keys as JSON writes them: decimal text.

    ``{"2": 5}`` structures to ``{2: 5}``, so what :func:`to_json` wrote reads back; any
    other text key still fails as before ("expected an integer").
    """
    base = mapping_structure_factory(cls, conv)

    def structure_int_keyed(value: Any, type_: Any) -> Any:
        if value.__class__ is dict:
            value = {
                int(k) if k.__class__ is str and _INT_TEXT.fullmatch(k) else k: v
                for k, v in value.items()
            }
        return base(value, type_)

    return structure_int_keyed


def _is_collection_type(cls: Any) -> bool:
    origin = get_origin(cls) or cls
    return origin in _SEQUENCE_ORIGINS or origin in _SET_ORIGINS


def _collection_structure_factory(cls: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Structure lists, tuples and sets from JSON arrays only (a string is not a list)."""
    origin = get_origin(cls) or cls
    args = get_args(cls)
    base: Callable[[Any, Any], Any]
    if origin is tuple and args and args[-1] is not Ellipsis:
        base = conv.gen_structure_hetero_tuple(cls)
    elif origin in (list, MutableSequence):
        base = list_structure_factory(cls, conv)
    elif origin in _SET_ORIGINS:
        items: Any = tuple[args[0] if args else Any, ...]  # type: ignore[misc]
        as_tuple = homogenous_tuple_structure_factory(items, conv)
        make: type[set[Any]] | type[frozenset[Any]] = (
            set if origin in (set, MutableSet) else frozenset
        )

        def base(value: Any, _: Any) -> Any:
            return make(as_tuple(value, items))

    else:
        base = homogenous_tuple_structure_factory(cls, conv)

    def structure_collection(value: Any, type_: Any) -> Any:
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValidationError.at("", f"expected a list, got {type(value).__name__}")
        return base(value, type_)

    homogeneous = origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)
    if homogeneous and args and args[0] not in (Any, object):
        made = list if origin in (list, MutableSequence) else _SET_MAKERS.get(origin, tuple)
        setattr(structure_collection, _COLLECTION, (made, args[0]))
    return structure_collection


def _unstructure_money(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


# -- generated fast paths for attrs classes ------------------------------------------------
#
# cattrs' detailed structuring wraps every field in its own error bookkeeping. For each
# plain attrs class the converter also generates a fast function that structures a
# well-formed document in one expression (the same hooks, the common cases inlined) and
# gives up on anything unusual; the class's hook then re-runs cattrs' detailed function,
# so every error and its path comes from exactly the code that produced it before.


class _Deferred(Exception):
    """Raised by a generated fast path: the detailed cattrs hook decides."""


def _defer() -> NoReturn:
    raise _Deferred


#: The classes whose hooks this thread is generating (see :func:`_generating`).
_WORKING = threading.local()
_SET_MAKERS: dict[Any, type[Any]] = {
    set: set,
    MutableSet: set,
    frozenset: frozenset,
    AbstractSet: frozenset,
}
#: Attributes naming what a hook made here does, for the generated code that inlines it.
_COLLECTION = "_csdomain_collection"
_FAST = "_csdomain_fast_structure"
_TRUSTED = "_csdomain_trusted_structure"
_TRUSTED_MAKER = "_csdomain_make_trusted_structure"
_VERIFY = "_csdomain_verify"
_VERIFY_MAKER = "_csdomain_make_verify"
_FIELDS = "_csdomain_unstructure_fields"
_JSON = "_csdomain_unstructure_json"
#: How deep the unstructuring of nested attrs classes is inlined into one expression.
_INLINE_DEPTH = 3


def _is_plain_attrs_class(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and not getattr(cls, "__parameters__", ())


def _closure_code(factory: Callable[[], Callable[..., Any]]) -> Any:
    return getattr(factory(), "__code__", None)


def _cattrs_optional_code() -> Any:
    conv = cattrs.Converter()
    return _closure_code(lambda: conv.gen_unstructure_optional(Money | None))  # type: ignore[arg-type]


def _cattrs_iterable_code() -> Any:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(Money, _unstructure_money)
    return _closure_code(lambda: iterable_unstructure_factory(tuple[Money, ...], conv, list))


#: The code of cattrs' own optional and iterable unstructure hooks: a hook running exactly
#: this code (with its handler in its defaults) is inlined, any other hook is called.
_OPTIONAL_CODE = _cattrs_optional_code()
_ITERABLE_CODE = _cattrs_iterable_code()


class GeneratedSource:
    """Python source of one generated function and the objects it refers to (the
    converter's generated hooks, and the store's field rows in :mod:`csdomain.store.fields`):
    ``bind`` names an object for the source, ``temp`` a fresh local, ``compile`` runs the
    source and returns the function, its text kept for tracebacks."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {
            "_defer": _defer,
            "_str": str,
            "_datetime": datetime,
            "_utc": UTC,
        }
        self._count = 0

    def bind(self, obj: Any) -> str:
        name = f"_g{self._count}"
        self._count += 1
        self.names[name] = obj
        return name

    def temp(self) -> str:
        name = f"_t{self._count}"
        self._count += 1
        return name

    def compile(self, name: str, cls: type, lines: list[str]) -> Callable[..., Any]:
        text = "\n".join(lines) + "\n"
        filename = f"<csdomain generated {name} {cls.__module__}.{cls.__qualname__}>"
        exec(compile(text, filename, "exec"), self.names)  # noqa: S102
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        fn: Callable[..., Any] = self.names[name]
        return fn


def _named(src: GeneratedSource, value: str) -> tuple[str, str]:
    """A name for ``value`` and the expression that first evaluates it into that name."""
    if value.isidentifier():
        return value, value
    name = src.temp()
    return name, f"({name} := {value})"


def _str_enum_members(cls: Any) -> dict[str, Any] | None:
    if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
        return None
    members = {m.value: m for m in cls}
    return members if all(v.__class__ is str for v in members) else None


def _hook_for(conv: cattrs.Converter, cls: Any) -> Any:
    """The structure hook for ``cls``, or the late-bound lookup inside a recursive class."""
    try:
        return conv.get_structure_hook(cls)
    except RecursionError:
        return conv.structure


def _structure_expr(  # noqa: PLR0917 - the generator's one recursive step
    src: GeneratedSource,
    conv: cattrs.Converter,
    value: str,
    cls: Any,
    hook: Any,
    trusted: bool = False,
) -> str:
    """An expression equal to ``hook(value, cls)`` that evaluates ``value`` once.

    With ``trusted`` the expression builds attrs classes and money without running their
    validators (see :func:`trusted_structure_hook`); the shapes and types are checked alike.

    The inlined cases return exactly what the hook returns for the inputs they accept
    (exact ``str``/``int``/``bool``, an enum's string value, money with a string amount,
    an ISO datetime string with an offset, ``None`` for an optional, a JSON array for a
    collection); every other input goes to the hook itself. An inlined case that raises
    (a bad number, a naive datetime) makes the class's detailed hook run instead.
    """
    if not hook:
        return value
    n, first = _named(src, value)
    slow = f"{src.bind(hook)}({n}, {src.bind(cls)})"
    if hook is _structure_str and cls is str:
        return f"({n} if {first}.__class__ is str else {slow})"
    if hook is _structure_int and cls is int:
        return f"({n} if {first}.__class__ is int else {slow})"
    if hook is _structure_bool and cls is bool:
        return f"({n} if ({first} is True or {n} is False) else {slow})"
    if hook in (_structure_str, _structure_int, _structure_float, _structure_enum):
        members = _str_enum_members(cls)
        if members is not None:
            m = src.temp()
            table = src.bind(members)
            found = f"({table}.get({n}) if {first}.__class__ is str else None)"
            return f"({m} if ({m} := {found}) is not None else {slow})"
    if hook is _structure_money and cls is Money:
        a = src.temp()
        well_formed = (
            f"{first}.__class__ is dict and len({n}) == 2"
            f" and ({a} := {n}.get('amount')).__class__ is str and 'currency' in {n}"
        )
        c, m = src.temp(), src.temp()
        well_formed += f" and ({c} := {n}['currency']).__class__ is str"
        cache, build = (_MONEY, _trusted_money) if trusted else (_CHECKED_MONEY, _checked_money)
        cached = f"({m} := {src.bind(cache)}.get(({a}, {c})))"
        made = f"({m} if {cached} is not None else {src.bind(build)}({a}, {c}))"
        return f"({made} if {well_formed} else {slow})"
    if hook is _structure_datetime and cls is datetime:
        d = src.temp()
        parsed = f"({d} := {src.bind(datetime.fromisoformat)}({n}))"
        aware = f"({d} if {parsed}.tzinfo is not None else {slow})"
        return f"({aware} if {first}.__class__ is str else {slow})"
    if getattr(hook, "__func__", None) is cattrs.BaseConverter._structure_optional and (
        getattr(hook, "__self__", None) is conv
    ):
        args = get_args(cls)
        if len(args) == 2 and type(None) in args:
            other = args[0] if args[1] is type(None) else args[1]
            inner = _structure_expr(src, conv, n, other, _hook_for(conv, other), trusted)
            return f"(None if {first} is None else {inner})"
    fast = getattr(hook, _FAST, None)
    if fast is not None and trusted:
        try:
            built = _trusted_of(hook)
        except RecursionError:  # a class graph that refers back to a class being built

            def built(data: Any, hook: Any = hook) -> Any:
                return _trusted_of(hook)(data)

        return f"{src.bind(built)}({value})"
    if fast is not None:
        return f"{src.bind(fast)}({value})"
    collection = getattr(hook, _COLLECTION, None)
    if collection is not None:
        made, item_type = collection
        item = src.temp()
        item_expr = _structure_expr(src, conv, item, item_type, _hook_for(conv, item_type), trusted)
        items = f"[{item_expr} for {item} in {n}]"
        listed = items if made is list else f"{src.bind(made)}({items})"
        if made is tuple:  # an empty array is the empty tuple, without building a list
            listed = f"({listed} if {n} else ())"
        return f"({listed} if {first}.__class__ is list else {slow})"
    return f"{src.bind(hook)}({value}, {src.bind(cls)})"


def _plain_field_type(cls: Any) -> bool:
    """A resolved field type without per-field cattrs overrides (those keep cattrs' code)."""
    return not (
        cls is None
        or isinstance(cls, str | TypeVar)
        or cls is Final
        or get_origin(cls) in (Annotated, Final)
    )


def _fast_structure_fn(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any] | None:
    """A function building ``cls`` from a well-formed dict, raising on anything else.

    For a class attrs' own ``__init__`` builds (see :func:`_checked_fields`) it does what
    that ``__init__`` does without the call: sets every field (through its converter),
    runs the validators the type checks above do not already imply, then
    ``__attrs_post_init__``; any other class is called with the structured values.
    """
    if getattr(conv, "use_alias", False) or conv.type_overrides:
        return None
    src = GeneratedSource()
    fields = attrs.fields(cls)
    values: list[tuple[Any, str, Any]] = []
    for a in fields:
        if not a.init or not _plain_field_type(a.type):
            return None
        hook = _find_structure_handler(a, a.type, conv, conv._prefer_attrib_converters)
        expr = _structure_expr(src, conv, f"o[{a.name!r}]", a.type, hook)
        values.append((a, expr, _guarantee(conv, a.type, hook)))
    if conv.forbid_extra_keys:
        check = f"o.__class__ is not dict or len(o) != {len(fields)}"
    else:
        check = "o.__class__ is not dict"
    name = f"fast_structure_{cls.__name__}"
    lines = [f"def {name}(o):"]
    built = _checked_fields(cls)
    if built is None:
        call = ", ".join(f"{a.alias}={expr}" for a, expr, _ in values)
        lines += [f"    if {check}:", "        _defer()", f"    return {src.bind(cls)}({call})"]
        return src.compile(name, cls, lines)
    post_init, converters = built
    validations: list[str] = []
    tests: list[str] = []
    sets: list[str] = []
    for a, expr, structured in values:
        value, made = expr, structured
        converter = converters[a.name]
        if converter is as_utc and made == ("aware",):
            # as_utc of an aware datetime is an aware datetime; one in UTC is kept as is
            u = src.temp()
            value = f"({u} if ({u} := {expr}).tzinfo is _utc else {src.bind(as_utc)}({u}))"
        elif converter is not None and not _converter_keeps(converter, made):
            value, made = f"{src.bind(converter)}({expr})", None
        run = _validators_to_run(a.validator, made)
        if run:
            v = src.temp()
            value = f"({v} := {value})"
            for each in run:
                test = _inline_test(made, each, v)
                if test is not None:
                    tests.append(test)
                else:
                    validations.append(f"    {src.bind(each)}(r, {src.bind(a)}, {v})")
        sets.append(f"    {_setter(src, cls, a.name)}, {value})")
    if any(a.validator is not None for a in fields):
        # attrs' __init__ runs validators only while they are enabled; when they are not,
        # the detailed hook (which calls ``cls``) builds the object.
        check += f" or {src.bind(_attrs_config)}._run_validators is not True"
    lines += [f"    if {check}:", "        _defer()", f"    r = {src.bind(_new)}({src.bind(cls)})"]
    lines += sets
    if tests:  # a validator that would refuse: its own call in the detailed hook says why
        lines += [f"    if not ({' and '.join(tests)}):", "        _defer()"]
    lines += validations
    if post_init:
        lines.append("    r.__attrs_post_init__()")
    lines.append("    return r")
    return src.compile(name, cls, lines)


#: Values a structure hook here returns (see :func:`_guarantee`).
_Made = tuple[Any, ...] | None


def _guarantee(conv: cattrs.Converter, cls: Any, hook: Any) -> _Made:
    """What every value ``hook`` returns for ``cls`` is, when it is one of this module's
    hooks: ``("instance", C)`` (an instance of ``C``; a bool only when ``C`` is ``bool``),
    ``("aware",)`` (a timezone-aware datetime), ``("optional", made)`` or
    ``("collection", maker, item_made)`` (exactly a ``maker`` of such items); ``None``
    when it cannot tell."""
    if hook is _structure_str and cls is str:
        return ("instance", str)
    if hook is _structure_int and cls is int:
        return ("instance", int)
    if hook is _structure_bool and cls is bool:
        return ("instance", bool)
    if hook in (_structure_str, _structure_int, _structure_float, _structure_enum) and (
        isinstance(cls, type) and issubclass(cls, enum.Enum)
    ):
        return ("instance", cls)
    if hook is _structure_money and cls is Money:
        return ("instance", Money)
    if hook is _structure_datetime and cls is datetime:
        return ("aware",)
    if hook is _structure_decimal and cls is Decimal:
        return ("instance", Decimal)
    if hook is _structure_timedelta and cls is timedelta:
        return ("instance", timedelta)
    if getattr(hook, "__func__", None) is cattrs.BaseConverter._structure_optional and (
        getattr(hook, "__self__", None) is conv
    ):
        args = get_args(cls)
        if len(args) == 2 and type(None) in args:
            other = args[0] if args[1] is type(None) else args[1]
            inner = _guarantee(conv, other, _hook_for(conv, other))
            return None if inner is None else ("optional", inner)
        return None
    if getattr(hook, _FAST, None) is not None and isinstance(cls, type):
        return ("instance", cls)
    collection = getattr(hook, _COLLECTION, None)
    if collection is not None:
        made, item_type = collection
        item = _guarantee(conv, item_type, _hook_for(conv, item_type))
        return None if item is None else ("collection", made, item)
    return None


def _instance_class(made: _Made) -> type | None:
    if made is None:
        return None
    if made[0] == "aware":
        return datetime
    return cast(type, made[1]) if made[0] == "instance" else None


def _implies(made: _Made, validator: object) -> bool:
    """Whether every value ``made`` describes passes ``validator`` (see
    :func:`csdomain.validators._accepted`)."""
    accepts = _accepted(validator)
    if made is None or accepts is None:
        return False
    kind = accepts[0]
    if kind == "optional":
        inner = made[1] if made[0] == "optional" else made
        return _implies(inner, accepts[1])
    if made[0] == "optional":
        return False
    if kind == "aware":
        return bool(made[0] == "aware")
    if kind == "instance":
        return _instance_of(made, accepts[1])
    if kind in ("tuple_of", "frozenset_of") and made[0] == "collection":
        maker = tuple if kind == "tuple_of" else frozenset
        item = _instance_class(made[2])
        return made[1] is maker and item is not None and issubclass(item, accepts[1])
    return False


def _instance_of(made: _Made, classes: tuple[type, ...]) -> bool:
    """Whether every value ``made`` describes is an instance of one of ``classes``, and
    a bool only when ``bool`` is one of them."""
    found = _instance_class(made)
    return (
        found is not None
        and issubclass(found, classes)
        and (bool in classes or not issubclass(found, bool))
    )


def _inline_test(made: _Made, validator: object, value: str) -> str | None:
    """A condition on ``value`` (a name) true exactly when ``validator`` passes it, for
    every value ``made`` describes; ``None`` when the validator must be called."""
    accepts = _accepted(validator)
    if made is None or accepts is None:
        return None
    if accepts[0] == "optional":
        if made[0] != "optional":
            return _inline_test(made, accepts[1], value)
        inner = _inline_test(made[1], accepts[1], value)
        return None if inner is None else f"({value} is None or {inner})"
    if accepts[0] != "test" or not _instance_of(made, accepts[1]):
        return None
    expression: str = accepts[2]
    return "(" + expression.format(value) + ")"


_AND_VALIDATOR: type[Any] = type(attrs.validators.and_())


def _validators_to_run(validator: Any, made: _Made) -> list[Any]:
    """The parts of a field's validator that the structured value does not already pass."""
    if validator is None:
        return []
    parts: list[Any] = (
        list(validator._validators) if isinstance(validator, _AND_VALIDATOR) else [validator]
    )
    return [part for part in parts if not _implies(made, part)]


def _converter_keeps(converter: Any, made: _Made) -> bool:
    """Whether ``converter`` returns every value ``made`` describes as it is."""
    if made is None or made[0] != "collection":
        return False
    return (converter is as_tuple and made[1] is tuple) or (
        converter is as_frozenset and made[1] is frozenset
    )


def _checked_fields(cls: type) -> tuple[bool, dict[str, Any]] | None:
    """``(post_init, converters)`` when the checked fast path may build ``cls`` as its
    ``__init__`` does (attrs' own, no ``__attrs_pre_init__``, no cached hash, every
    converter taking only the value); ``None`` when only ``cls(...)`` may build it."""
    init = getattr(cls.__dict__.get("__init__"), "__code__", None)
    if (
        _attrs_config is None
        or init is None
        or not init.co_filename.startswith("<attrs generated")
        or "__attrs_pre_init__" in init.co_names
        or _HASH_CACHE in init.co_consts
    ):
        return None
    converters: dict[str, Any] = {}
    for a in attrs.fields(cls):
        converter = a.converter
        if isinstance(converter, attrs.Converter):
            wrapped: Any = converter
            if wrapped.takes_self or wrapped.takes_field:
                return None
            converter = wrapped.converter
        if not a.name.isidentifier():
            return None
        converters[a.name] = converter
    return "__attrs_post_init__" in init.co_names, converters


_HASH_CACHE = "_attrs_cached_hash"


def _trusted_money(amount: str, currency: str) -> Money:
    """Money from stored text without re-checking it (the store checked it when writing).

    Money is immutable, so equal amounts read back share one object (a bounded cache:
    prices and fees repeat across documents).
    """
    key = (amount, currency)
    money = _MONEY.get(key)
    if money is None:
        money = _new(Money)
        _set(money, "amount", Decimal(amount))
        _set(money, "currency", currency)
        if len(_MONEY) >= _MONEY_LIMIT:
            _MONEY.clear()
        _MONEY[key] = money
    return money


def _checked_money(amount: str, currency: str) -> Money:
    """``Money(Decimal(amount), currency)``, every check run; what it builds for the same
    text and currency is always the same (a bounded cache, as :func:`_trusted_money`)."""
    key = (amount, currency)
    money = _CHECKED_MONEY.get(key)
    if money is None:
        money = Money(Decimal(amount), currency)
        if len(_CHECKED_MONEY) >= _MONEY_LIMIT:
            _CHECKED_MONEY.clear()
        _CHECKED_MONEY[key] = money
    return money


#: Money read on the trusted path, by its stored amount text and currency.
_MONEY: dict[tuple[str, str], Money] = {}
#: Money read on the checked path (kept apart: the trusted path does not normalise).
_CHECKED_MONEY: dict[tuple[str, str], Money] = {}
_MONEY_LIMIT = 4096


_new = object.__new__
_set = object.__setattr__


def _built_without_init(cls: type) -> bool:
    """Whether ``cls`` can be built by setting its fields: attrs' own ``__init__``, every
    field set from the document and compared by ``==`` (so the store's write check sees
    every one), no cached hash."""
    init = getattr(cls.__dict__.get("__init__"), "__code__", None)
    if init is None or not init.co_filename.startswith("<attrs generated"):
        return False
    if hasattr(cls, "_attrs_cached_hash"):
        return False
    return all(a.init and a.eq for a in attrs.fields(cls))


def _setter(src: GeneratedSource, cls: type, field: str) -> str:
    """The start of a call setting ``field`` of ``r``: the slot's own setter when the
    class has one (the quickest way), else ``object.__setattr__``."""
    for klass in cls.__mro__:
        slot = klass.__dict__.get(field)
        if slot is not None:
            if isinstance(slot, types.MemberDescriptorType):
                return f"{src.bind(slot.__set__)}(r"
            break
    return f"{src.bind(_set)}(r, {field!r}"


def _trusted_structure_fn(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any] | None:
    """A function building ``cls`` from a well-formed document the store wrote, without
    running validators, converters or ``__attrs_post_init__``; raising on anything else.

    A class whose fields are not all set from the document keeps its ``__init__`` (with
    its nested values built trusted).
    """
    if getattr(conv, "use_alias", False) or conv.type_overrides:
        return None
    src = GeneratedSource()
    fields = attrs.fields(cls)
    values: list[tuple[str, str, str]] = []
    for a in fields:
        if not a.init or not _plain_field_type(a.type):
            return None
        hook = _find_structure_handler(a, a.type, conv, conv._prefer_attrib_converters)
        expr = _structure_expr(src, conv, f"o[{a.name!r}]", a.type, hook, trusted=True)
        values.append((a.name, a.alias, expr))
    if conv.forbid_extra_keys:
        check = f"o.__class__ is not dict or len(o) != {len(fields)}"
    else:
        check = "o.__class__ is not dict"
    name = f"trusted_structure_{cls.__name__}"
    lines = [f"def {name}(o):", f"    if {check}:", "        _defer()"]
    made = src.bind(cls)
    if _built_without_init(cls):
        lines.append(f"    r = {src.bind(_new)}({made})")
        lines.extend(f"    {_setter(src, cls, field)}, {expr})" for field, _, expr in values)
        lines.append("    return r")
    else:
        call = ", ".join(f"{alias}={expr}" for _, alias, expr in values)
        lines.append(f"    return {made}({call})")
    return src.compile(name, cls, lines)


def _verify_expr(
    src: GeneratedSource, conv: cattrs.Converter, value: str, cls: Any, hook: Any
) -> str | None:
    """A condition that is true only if ``value`` reads back equal to itself: written by
    the JSON hook of ``cls`` and read by the trusted path. ``None``: no such condition.

    Each case accepts exactly the values whose JSON the trusted path turns into an equal
    value of the same class (exact ``str``/``int``/``bool``, finite ``float``, enum and
    money objects, datetimes with an offset, dates, ``None`` for an optional, the
    collection class the path builds, attrs classes field by field); orjson has refused
    text that is not valid Unicode and integers beyond 64 bits before this runs.
    """
    n, first = _named(src, value)
    if hook is _structure_str and cls is str:
        return f"{first}.__class__ is _str"
    if hook is _structure_int and cls is int:
        return f"{first}.__class__ is {src.bind(int)}"
    if hook is _structure_bool and cls is bool:
        return f"({first} is True or {n} is False)"
    if hook is _structure_float and cls is float:
        return f"({first}.__class__ is {src.bind(float)} and {n} - {n} == 0.0)"
    if hook in (_structure_str, _structure_int, _structure_float, _structure_enum) and (
        _str_enum_members(cls) is not None
    ):
        return f"{first}.__class__ is {src.bind(cls)}"
    if hook is _structure_money and cls is Money:
        amount = f"{n}.amount"
        return (
            f"({first}.__class__ is {src.bind(Money)} and {n}.currency.__class__ is _str"
            f" and {amount}.__class__ is {src.bind(Decimal)} and {amount}.is_finite())"
        )
    if hook is _structure_datetime and cls is datetime:
        aware = f"({n}.tzinfo is _utc or {n}.utcoffset() is not None)"
        return f"({first}.__class__ is _datetime and {aware})"
    if hook is _structure_date and cls is date:
        return f"{first}.__class__ is {src.bind(date)}"
    if hook is _structure_decimal and cls is Decimal:
        return f"({first}.__class__ is {src.bind(Decimal)} and {n}.is_finite())"
    if getattr(hook, "__func__", None) is cattrs.BaseConverter._structure_optional and (
        getattr(hook, "__self__", None) is conv
    ):
        args = get_args(cls)
        if len(args) == 2 and type(None) in args:
            other = args[0] if args[1] is type(None) else args[1]
            inner = _verify_expr(src, conv, n, other, _hook_for(conv, other))
            return None if inner is None else f"({first} is None or {inner})"
        return None
    if getattr(hook, _TRUSTED_MAKER, None) is not None and isinstance(cls, type):
        try:
            check = _verify_of(hook)
        except RecursionError:  # a class graph that refers back to a class being checked

            def check(obj: Any, hook: Any = hook) -> bool:
                late = _verify_of(hook)
                return late is not None and late(obj)

        if check is None:
            return None
        return f"({first}.__class__ is {src.bind(cls)} and {src.bind(check)}({n}))"
    collection = getattr(hook, _COLLECTION, None)
    if collection is not None:
        made, item_type = collection
        item = src.temp()
        each = _verify_expr(src, conv, item, item_type, _hook_for(conv, item_type))
        if each is None:
            return None
        return f"({first}.__class__ is {src.bind(made)} and all([{each} for {item} in {n}]))"
    if cls is Any and _passes_through(conv, hook):
        return f"{src.bind(_json_native)}({value})"
    if _json_object_hook(conv, hook):
        return f"({first}.__class__ is {src.bind(dict)} and {src.bind(_json_native)}({n}))"
    return None


def _passes_through(conv: cattrs.Converter, hook: Any) -> bool:
    """Whether ``hook`` is cattrs' structure hook for ``Any``, which returns its value."""
    if hook is not conv.get_structure_hook(Any) or getattr(hook, "__module__", None) != (
        "cattrs.converters"
    ):
        return False
    probe = object()
    return bool(hook(probe, Any) is probe)


def _json_object_hook(conv: cattrs.Converter, hook: Any) -> bool:
    """Whether ``hook`` is cattrs' generated hook for ``dict[str, Any]``: a new dict of the
    same keys (each through :func:`_structure_str`) and the same values."""
    code = getattr(hook, "__code__", None)
    found = getattr(hook, "__globals__", None)
    if code is None or code.co_name != "structure_mapping" or not isinstance(found, dict):
        return False
    return (
        found.get("__cattr_mapping_cl") is dict
        and found.get("__cattr_k_t") is str
        and found.get("__cattr_k_s") is _structure_str
        and found.get("__cattr_v_t") is Any
        and _passes_through(conv, found.get("__cattr_v_s"))
    )


#: The integers the store keeps (orjson's range: 64 bits, signed or not).
_JSON_INT_MIN, _JSON_INT_MAX = -(2**63), 2**64 - 1
#: How deeply :func:`_json_native` follows arrays and objects (orjson writes at most 254
#: levels; deeper values take the store's read-back).
_JSON_DEPTH = 254


def _json_native(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is JSON that ``orjson`` writes and reads back as an equal value of
    the same classes: exactly a ``str`` that is valid Unicode, an ``int`` (not a bool) in
    64 bits, ``True``, ``False``, ``None``, a finite ``float``, a ``list`` of such values or
    a ``dict`` of ``str`` keys to them, at most 254 levels deep; also an enum member that
    is a ``str`` or ``int`` equal to its value (a ``StrEnum``: orjson writes the value,
    which reads back equal to the member).

    ``False`` means only that it cannot tell: a tuple reads back as a list (unequal),
    NaN as ``null``, a ``str`` subclass as a plain ``str``.
    """
    cls = value.__class__
    if cls is str:
        return value.isascii() or valid_unicode(value)
    if value is None or value is True or value is False:
        return True
    if cls is int:
        return bool(_JSON_INT_MIN <= value <= _JSON_INT_MAX)
    if cls is float:
        return bool(value - value == 0.0)
    if depth >= _JSON_DEPTH:
        return False
    if cls is dict:
        for key, item in value.items():
            if key.__class__ is not str or not (key.isascii() or valid_unicode(key)):
                return False
            if not _json_native(item, depth + 1):
                return False
        return True
    if cls is list:
        return all(_json_native(item, depth + 1) for item in value)
    if isinstance(value, enum.Enum):  # what the converter leaves for orjson to write
        raw = value._value_
        kind = raw.__class__
        return bool(
            (kind is str or kind is int)
            and isinstance(value, kind)
            and _json_native(raw)
            and value == raw
            and raw == value
        )
    return False


def _verify_fn(cls: type, conv: cattrs.Converter) -> Callable[[Any], bool] | None:
    """A function telling that an object of ``cls`` reads back equal to itself (see
    :func:`round_trip_verifier`); ``None`` when some field has no such condition."""
    if getattr(conv, "use_alias", False) or conv.type_overrides:
        return None
    src = GeneratedSource()
    conditions = []
    for a in attrs.fields(cls):
        if not a.init or not _plain_field_type(a.type):
            return None
        hook = _find_structure_handler(a, a.type, conv, conv._prefer_attrib_converters)
        condition = _verify_expr(src, conv, f"o.{a.name}", a.type, hook)
        if condition is None:
            return None
        conditions.append(condition)
    name = f"verify_{cls.__name__}"
    body = " and ".join(conditions) or "True"
    return src.compile(name, cls, [f"def {name}(o):", f"    return {body}"])


def _verify_of(hook: Any) -> Callable[[Any], bool] | None:
    """The round-trip check a csdomain attrs hook carries, generated at its first use."""
    found = getattr(hook, _VERIFY, _UNSET)
    if found is _UNSET:
        found = getattr(hook, _VERIFY_MAKER)()
    return cast("Callable[[Any], bool] | None", found)


_UNSET = object()


def _trusted_of(hook: Any) -> Callable[[Any], Any]:
    """The trusted builder a csdomain attrs hook carries, generated at its first use."""
    found: Callable[[Any], Any] | None = getattr(hook, _TRUSTED, None)
    if found is None:
        found = getattr(hook, _TRUSTED_MAKER)()
    return found


@contextmanager
def _generating(direction: str, cls: type) -> Iterator[None]:
    """Mark ``cls`` as being generated; a nested request for it raises RecursionError.

    cattrs' own factories do the same: their callers catch the RecursionError and
    look the hook up when it runs (late binding), which ends recursive class graphs.
    """
    working: set[tuple[str, type]] = _WORKING.__dict__.setdefault("classes", set())
    if (direction, cls) in working:
        msg = f"already generating {cls.__qualname__}"
        raise RecursionError(msg)
    working.add((direction, cls))
    try:
        yield
    finally:
        working.discard((direction, cls))


def _attrs_structure_factory(cls: type, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """cattrs' detailed hook for ``cls``, tried after a generated fast path.

    The detailed function is generated when a document first needs it (one the fast path
    does not take), so a program that reads only well-formed documents never pays for it.
    """
    with _generating("structure", cls):
        if any(isinstance(a.type, str) for a in attrs.fields(cls)):
            # What cattrs' own generator does first; a failure is left to it to report.
            with suppress(NameError, TypeError, AttributeError):
                attrs.resolve_types(cls)
        fast = _fast_structure_fn(cls, conv)
        if fast is None:
            plain: Callable[[Any, Any], Any] = conv.gen_structure_attrs_fromdict(cls)
            return plain
    detailed: list[Callable[[Any, Any], Any]] = []

    def structure_attrs(value: Any, type_: Any) -> Any:
        try:
            return fast(value)
        except Exception:  # the detailed hook below raises the error to report
            if not detailed:
                detailed.append(conv.gen_structure_attrs_fromdict(cls))
            return detailed[0](value, type_)

    def make_trusted() -> Callable[[Any], Any]:
        with _generating("trusted", cls):
            trusted = _trusted_structure_fn(cls, conv) or fast
        setattr(structure_attrs, _TRUSTED, trusted)
        return trusted

    def make_verify() -> Callable[[Any], bool] | None:
        with _generating("verify", cls):
            verify = _verify_fn(cls, conv) if _trusted_of(structure_attrs) is not fast else None
        setattr(structure_attrs, _VERIFY, verify)
        return verify

    setattr(structure_attrs, _FAST, fast)
    setattr(structure_attrs, _TRUSTED_MAKER, make_trusted)
    setattr(structure_attrs, _VERIFY_MAKER, make_verify)
    return structure_attrs


def _unstructure_expr(
    src: GeneratedSource, value: str, hook: Any, *, json: bool, depth: int = 0
) -> str:
    """An expression equal to ``hook(value)``; cattrs' and csdomain's own hooks inlined.

    With ``json`` the result is only for ``orjson.dumps``: a UTC ``datetime`` is left for
    orjson, which writes it exactly as ``datetime.isoformat`` does (``...+00:00``).
    """
    if hook is identity:
        return value
    n, first = _named(src, value)
    if hook is _unstructure_money:
        return f"{{'amount': _str({first}.amount), 'currency': {n}.currency}}"
    if json and hook is datetime.isoformat:
        exact_utc = f"{first}.__class__ is _datetime and {n}.tzinfo is _utc"
        return f"({n} if {exact_utc} else {src.bind(hook)}({n}))"
    code = getattr(hook, "__code__", None)
    defaults: tuple[Any, ...] = getattr(hook, "__defaults__", None) or ()
    if code is not None and code is _OPTIONAL_CODE and len(defaults) == 1:
        inner = _unstructure_expr(src, n, defaults[0], json=json, depth=depth)
        return value if inner == n else f"(None if {first} is None else {inner})"
    if code is not None and code is _ITERABLE_CODE and len(defaults) == 2:
        made, item_hook = defaults
        if made in (list, tuple, set, frozenset):
            item = src.temp()
            each = _unstructure_expr(src, item, item_hook, json=json, depth=depth)
            items = f"[{each} for {item} in {value}]"
            return items if made is list else f"{src.bind(made)}({items})"
    fields = getattr(hook, _FIELDS, None)
    if fields is not None and value.isidentifier() and depth < _INLINE_DEPTH:
        return _dict_expr(src, value, fields, json=json, depth=depth + 1)
    return f"{src.bind(hook)}({value})"


def _dict_expr(
    src: GeneratedSource, value: str, fields: list[tuple[str, Any]], *, json: bool, depth: int
) -> str:
    parts = [
        f"{name!r}: {_unstructure_expr(src, f'{value}.{name}', h, json=json, depth=depth)}"
        for name, h in fields
    ]
    return "{" + ", ".join(parts) + "}"


def _attrs_unstructure_factory(cls: type, conv: cattrs.Converter) -> Callable[[Any], Any]:
    """cattrs' dict unstructuring of ``cls`` as one generated expression.

    The hook carries a second function for :func:`to_json` (see ``json`` in
    :func:`_unstructure_expr`).
    """
    with _generating("unstructure", cls):
        fallback: Callable[[Any], Any] = conv.gen_unstructure_attrs_fromdict(cls)
        if getattr(conv, "use_alias", False) or conv.omit_if_default or conv.type_overrides:
            return fallback
        fields: list[tuple[str, Any]] = []
        for a in attrs.fields(cls):
            if not a.init:
                continue
            if not _plain_field_type(a.type):
                return fallback
            try:
                hook = conv.get_unstructure_hook(a.type, cache_result=False)
            except RecursionError:
                return fallback
            fields.append((a.name, hook))
    made: list[Callable[[Any], Any]] = []
    for json in (False, True):
        src = GeneratedSource()
        body = _dict_expr(src, "instance", fields, json=json, depth=0)
        name = f"{'json' if json else 'fast'}_unstructure_{cls.__name__}"
        made.append(src.compile(name, cls, [f"def {name}(instance):", f"    return {body}"]))
    fn, for_json = made
    setattr(fn, _FIELDS, fields)
    setattr(fn, _JSON, for_json)
    return fn


def configure_converter(conv: cattrs.Converter, *, generated: bool = True) -> None:
    """Register every csdomain hook on ``conv`` (see the module docstring for the rules).

    ``generated=False`` leaves attrs classes to cattrs' own functions: the same results and
    errors, only slower (the reference the generated fast paths are tested against).
    """
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Money, _structure_money)
    conv.register_unstructure_hook(Money, _unstructure_money)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(time, _structure_time)
    conv.register_unstructure_hook(time, time.isoformat)
    conv.register_structure_hook(timedelta, _structure_timedelta)
    conv.register_unstructure_hook(timedelta, _unstructure_timedelta)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    conv.register_unstructure_hook_factory(_is_set_type, _set_unstructure_factory)
    conv.register_structure_hook_factory(_is_collection_type, _collection_structure_factory)
    conv.register_structure_hook_factory(_is_int_keyed_mapping, _int_keyed_mapping_factory)
    if generated and _find_structure_handler is not None:
        conv.register_structure_hook_factory(_is_plain_attrs_class, _attrs_structure_factory)
        conv.register_unstructure_hook_factory(_is_plain_attrs_class, _attrs_unstructure_factory)


def make_converter(*, generated: bool = True) -> cattrs.Converter:
    """A new converter with every csdomain hook (orjson preconf, extra keys forbidden).

    ``generated``: see :func:`configure_converter`.
    """
    conv = _make_orjson_converter(forbid_extra_keys=True)
    configure_converter(conv, generated=generated)
    return conv


#: The module's converter; build your own with :func:`make_converter` to customise.
converter: cattrs.Converter = make_converter()


def _join(path: list[str], tail: str = "") -> str:
    parts = [p for p in path if p != ""]
    if tail:
        parts.append(tail)
    return ".".join(parts)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, AttributeError) and "keys" in str(exc):
        return "expected an object"
    if isinstance(exc, TypeError | AttributeError):
        text = str(exc)
        return f"wrong type ({text})" if text else "wrong type"
    text = str(exc)
    return text or type(exc).__name__


def _collect(exc: BaseException, path: list[str], out: list[tuple[str, str]]) -> None:
    if isinstance(exc, ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            _collect(inner, [*path, str(note.name)], out)
        for inner in without:
            _collect(inner, path, out)
    elif isinstance(exc, IterableValidationError):
        with_notes_i, without_i = exc.group_exceptions()
        for inner, inote in with_notes_i:
            _collect(inner, [*path, str(inote.index)], out)
        for inner in without_i:
            _collect(inner, path, out)
    elif isinstance(exc, ForbiddenExtraKeysError):
        out.extend((_join(path, str(key)), "unknown field") for key in sorted(exc.extra_fields))
    elif isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            _collect(member, path, out)
    elif isinstance(exc, ValidationError):
        out.extend((_join(path, p), m) for p, m in exc.errors)
    elif isinstance(exc, KeyError) and exc.args and path:
        out.append((_join(path), "required field missing"))
    else:
        out.append((_join(path), _describe(exc)))


def validation_error_from(exc: BaseException) -> ValidationError:
    """Turn a cattrs structuring failure into a :class:`ValidationError` with every path."""
    errors: list[tuple[str, str]] = []
    _collect(exc, [], errors)
    return ValidationError(errors or [("", str(exc))])


def structure(data: Any, cls: type[T], conv: cattrs.Converter | None = None) -> T:
    """Build a ``cls`` from plain data; bad input raises :class:`ValidationError`."""
    try:
        return (conv or converter).structure(data, cls)
    except ValidationError:
        raise
    except (
        ClassValidationError,
        IterableValidationError,
        BaseExceptionGroup,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
    ) as err:
        raise validation_error_from(err) from err


def trusted_structure_hook(
    cls: type[T], conv: cattrs.Converter | None = None
) -> Callable[[Any], T]:
    """A function building a ``cls`` from a document the store itself wrote.

    The store validated every object when it was built and checks, at every write, that
    the document reads back equal to it (:class:`~csdomain.store.codec.DocumentCodec`):
    so reading its own documents need not run the validators again. The function checks
    the document's shape and types as :func:`structure` does and builds attrs classes by
    setting their fields, without validators, converters or ``__attrs_post_init__``
    (a class whose fields the document does not all set keeps its ``__init__``). Any
    document it does not take goes to the checked hook, so what it raises is exactly what
    :func:`structure` raises (cattrs' errors; wrap them with :func:`validation_error_from`).

    Never use it on outside input: :func:`from_json`, :func:`structure` and the store's
    import run every check.
    """
    c = conv or converter
    hook: Callable[[Any, Any], T] = c.get_structure_hook(cls)
    if getattr(hook, _TRUSTED_MAKER, None) is None:
        return lambda data: hook(data, cls)
    trusted: Callable[[Any], T] = _trusted_of(hook)

    def structure_trusted(data: Any) -> T:
        try:
            return trusted(data)
        except Exception:  # the checked hook decides, and raises the error to report
            return hook(data, cls)

    return structure_trusted


def round_trip_verifier(
    cls: type[T], conv: cattrs.Converter | None = None
) -> Callable[[T], bool] | None:
    """A function telling, without building anything, that an object of ``cls`` reads
    back equal to itself: its :func:`to_json` bytes, read by :func:`trusted_structure_hook`,
    give an equal object (given that orjson could write them).

    It checks the class of every value against what the trusted path builds from its JSON
    (a ``str`` field holds exactly a ``str``, a datetime has an offset, a float is finite,
    a tuple field holds a tuple, ...); ``False`` means only that it cannot tell, and the
    store then reads the document back. ``None`` when some field of ``cls`` is of a type
    it has no check for.
    """
    c = conv or converter
    hook = c.get_structure_hook(cls)
    if getattr(hook, _VERIFY_MAKER, None) is None:
        return None
    return _verify_of(hook)


def unstructure(obj: Any, conv: cattrs.Converter | None = None) -> Any:
    """Turn a model into plain JSON-ready data."""
    return (conv or converter).unstructure(obj)


def json_unstructure_hook(cls: Any, conv: cattrs.Converter | None = None) -> Callable[[Any], Any]:
    """The function turning a ``cls`` into data for ``orjson.dumps`` (not for other uses:
    it may leave values orjson writes itself, such as UTC datetimes, as they are)."""
    hook = (conv or converter).get_unstructure_hook(cls)
    json_hook: Callable[[Any], Any] = getattr(hook, _JSON, hook)
    return json_hook


def to_json(obj: Any, conv: cattrs.Converter | None = None) -> bytes:
    """Serialize a model to JSON bytes."""
    data = json_unstructure_hook(obj.__class__, conv)(obj)
    try:
        return orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError) as err:
        raise ValidationError.at("", f"cannot encode as JSON: {err}") from err


def from_json(cls: type[T], data: bytes | str, conv: cattrs.Converter | None = None) -> T:
    """Parse JSON bytes or text into a ``cls``; bad input raises :class:`ValidationError`."""
    try:
        raw = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError) as err:
        raise ValidationError.at("", f"not valid JSON: {err}") from err
    return structure(raw, cls, conv)
