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
"""

from __future__ import annotations

import enum
from collections.abc import Callable, MutableSequence, MutableSet, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args, get_origin

import cattrs
import orjson
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.preconf.orjson import make_converter as _make_orjson_converter

from csdomain.clock import require_aware
from csdomain.errors import ValidationError
from csdomain.money import Money


__all__ = [
    "configure_converter",
    "converter",
    "from_json",
    "make_converter",
    "structure",
    "to_json",
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
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise ValidationError.at("", f"{value!r} is not one of {allowed}") from None


_SEQUENCE_ORIGINS = (list, tuple, Sequence, MutableSequence)
_SET_ORIGINS = (set, frozenset, AbstractSet, MutableSet)


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

    return structure_collection


def configure_converter(conv: cattrs.Converter) -> None:
    """Register every csdomain hook on ``conv`` (see the module docstring for the rules)."""
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Money, _structure_money)
    conv.register_unstructure_hook(
        Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
    )
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


def make_converter() -> cattrs.Converter:
    """A new converter with every csdomain hook (orjson preconf, extra keys forbidden)."""
    conv = _make_orjson_converter(forbid_extra_keys=True)
    configure_converter(conv)
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


def unstructure(obj: Any, conv: cattrs.Converter | None = None) -> Any:
    """Turn a model into plain JSON-ready data."""
    return (conv or converter).unstructure(obj)


def to_json(obj: Any, conv: cattrs.Converter | None = None) -> bytes:
    """Serialize a model to JSON bytes."""
    data = (conv or converter).unstructure(obj)
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
