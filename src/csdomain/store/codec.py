"""Documents: the one converter's JSON for a kind, checked to read back before it is stored.

The store keeps only what it can read back (issue #14): :meth:`DocumentCodec.encode`
unstructures an object with the converter of :mod:`csdomain.serialization`, encodes it as
JSON and reads the JSON back, on every backend. Whatever fails — a value of the wrong
type, text that is not valid Unicode, an integer beyond 64 bits, NaN or infinity — is a
:class:`~csdomain.errors.ValidationError` naming the field (``history.3.note``), and
nothing is written. A backend that keeps objects (``stores_objects``) then receives the
object itself, the others the JSON bytes.

Validate on write, trust on read (issue #15): the object being written was validated
when it was built, so the read-back check builds the document on the trusted path
(:func:`~csdomain.serialization.trusted_structure_hook`, no validators re-run) and
requires the result to equal the object: equal to a valid object, the document reads
back as that object. Most objects need not even be read back: the class's
:func:`~csdomain.serialization.round_trip_verifier` checks, without building anything,
that every value is of the class the trusted path builds from its JSON, which proves the
same equality. Reads of stored documents take the same trusted path. Only when the read
back differs does the check run the full, checked structuring: it names the field that
does not read back, or accepts a document that reads back, fully checked, to the same
JSON (a list held where the model declares a tuple). Outside input (``from_json``,
import) never takes the trusted path.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

import attrs
import orjson

from csdomain.errors import ValidationError
from csdomain.serialization import (
    converter,
    json_unstructure_hook,
    round_trip_verifier,
    trusted_structure_hook,
    validation_error_from,
)
from csdomain.store.spi import short_repr


__all__ = ["NOT_UNICODE", "DocumentCodec", "unencodable", "valid_text"]

T = TypeVar("T")

#: What an unstructure hook raises on a value of the wrong type.
_HOOK_ERRORS = (AttributeError, TypeError, ValueError, KeyError, OverflowError, RecursionError)
#: What structuring a document that does not fit its model raises (cattrs, hooks).
_STRUCTURE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    OverflowError,
    BaseExceptionGroup,
)
_JSON_ERRORS = (orjson.JSONEncodeError, TypeError)
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: The message for text that is not valid Unicode.
NOT_UNICODE = "text that is not valid Unicode (surrogates not allowed)"


def _join(path: str, name: object) -> str:
    return f"{path}.{name}" if path else str(name)


def valid_text(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates): what JSON and databases hold."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def unencodable(data: Any, err: BaseException) -> ValidationError:
    """The :class:`ValidationError` naming the first value of ``data`` (unstructured, as
    for ``orjson.dumps``) that JSON cannot hold; ``err`` is what the encoder said."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not valid_text(value):
                return ValidationError.at(path, NOT_UNICODE)
        elif value is None or isinstance(value, bool | float):
            continue
        elif isinstance(value, int):
            if not _INT_MIN <= value <= _INT_MAX:
                return ValidationError.at(path, "an integer beyond 64 bits cannot be stored")
        elif isinstance(value, dict):
            for name in value:
                if not isinstance(name, str):
                    msg = f"a {type(name).__name__} key cannot be stored (JSON keys are text)"
                    return ValidationError.at(path, msg)
                if not valid_text(name):
                    return ValidationError.at(path, f"a key that is {NOT_UNICODE}")
            stack.extend((_join(path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list | tuple):
            stack.extend((_join(path, i), v) for i, v in reversed(list(enumerate(value))))
        else:
            try:
                orjson.dumps(value)
            except _JSON_ERRORS:
                msg = f"a {type(value).__name__} value cannot be stored as JSON"
                return ValidationError.at(path, msg)
    return ValidationError.at("", f"cannot be stored as JSON: {err}")


def _non_finite(data: Any) -> set[str]:
    """Paths of the NaN and infinite numbers in ``data`` (JSON writes them as ``null``)."""
    found: set[str] = set()
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            found.add(path)
        elif isinstance(value, dict):
            stack.extend((_join(path, k), v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((_join(path, i), v) for i, v in enumerate(value))
    return found


def _explained(err: ValidationError, data: Any) -> ValidationError:
    """``err`` with NaN and infinity named where they caused it."""
    non_finite = _non_finite(data)
    if not non_finite:
        return err
    message = "NaN and infinity cannot be stored (JSON has no such numbers)"
    return ValidationError([(p, message if p in non_finite else m) for p, m in err.errors])


def _field_types(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError, AttributeError):
        return {f.name: f.type for f in attrs.fields(cls)}


def _unstructure_error(value: Any, declared: Any) -> BaseException | None:
    try:
        converter.unstructure(value, unstructure_as=declared)
    except _HOOK_ERRORS as err:
        return err
    return None


def _narrowed(declared: Any, value: Any) -> Any:
    """The member of a union type ``declared`` that ``value`` is an instance of."""
    if typing.get_origin(declared) not in (typing.Union, types.UnionType):
        return declared
    for member in typing.get_args(declared):
        origin = typing.get_origin(member) or member
        if isinstance(origin, type) and isinstance(value, origin):
            return member
    return None


def _element_type(declared: Any, index: int) -> Any:
    args = typing.get_args(declared)
    if typing.get_origin(declared) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[index] if index < len(args) else None
    return args[0] if args else None


def _type_text(declared: Any) -> str:
    if typing.get_origin(declared) in (typing.Union, types.UnionType):
        return " or ".join(_type_text(member) for member in typing.get_args(declared))
    if declared is type(None):
        return "None"
    name = getattr(declared, "__name__", None)
    return name if isinstance(name, str) else short_repr(declared)


def _wrong(value: Any, declared: Any, path: str, err: BaseException) -> ValidationError:
    if isinstance(err, ValidationError) and err.errors:
        return ValidationError.at(path, err.errors[0][1])
    return ValidationError.at(path, f"expected {_type_text(declared)}, got {type(value).__name__}")


def _children(value: Any, declared: Any) -> list[tuple[object, Any, Any]]:
    """``(name, child, declared type)`` of each part of ``value`` the converter unstructures
    with a type of its own (attrs fields, sequence items, mapping values)."""
    if attrs.has(type(value)):
        types = _field_types(type(value))
        return [
            (f.name, getattr(value, f.name), types.get(f.name, object))
            for f in attrs.fields(type(value))
        ]
    declared = _narrowed(declared, value)
    if declared is None:
        return []
    if isinstance(value, list | tuple):
        return [(i, item, _element_type(declared, i)) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        args = typing.get_args(declared)
        value_type = args[1] if len(args) == 2 else None
        return [(name, item, value_type) for name, item in value.items()]
    return []


def _locate(value: Any, declared: Any, path: str) -> ValidationError | None:
    """The deepest part of ``value`` that the converter cannot unstructure, named."""
    for name, child, child_type in _children(value, declared):
        if child_type is None:
            continue
        err = _unstructure_error(child, child_type)
        if err is not None:
            child_path = _join(path, name)
            return _locate(child, child_type, child_path) or _wrong(
                child, child_type, child_path, err
            )
    return None


class DocumentCodec(Generic[T]):
    """Encodes objects of one model class into documents, and documents back into objects."""

    def __init__(self, cls: type[T], *, stores_objects: bool) -> None:
        self.cls = cls
        self.stores_objects = stores_objects
        self._hooks_made = False

    def _prepare(self) -> None:
        """Look up (and so generate) the converter's functions for the class: at the first
        use, so that opening a store does not generate code for every kind it knows."""
        self._structure: Callable[[Any, Any], Any] = converter.get_structure_hook(self.cls)
        self._trusted: Callable[[Any], T] = trusted_structure_hook(self.cls)
        self._unstructure: Callable[[Any], Any] = json_unstructure_hook(self.cls)
        self._verify: Callable[[Any], bool] | None = round_trip_verifier(self.cls)
        self._hooks_made = True

    def encode(self, obj: T) -> Any:
        """The document to store for ``obj`` (the object itself for a backend that keeps
        objects), once its JSON is known to read back; else a :class:`ValidationError`."""
        if not self._hooks_made:
            self._prepare()
        try:
            data = self._unstructure(obj)
        except _HOOK_ERRORS as err:
            located = _locate(obj, self.cls, "")
            if located is not None:
                raise located from None
            if isinstance(err, ValidationError):
                raise
            raise ValidationError.at("", f"cannot be stored: {short_repr(err)}") from None
        try:
            doc = orjson.dumps(data)
        except _JSON_ERRORS as err:
            raise unencodable(data, err) from None
        verify = self._verify
        if verify is not None and obj.__class__ is self.cls and verify(obj):
            return obj if self.stores_objects else doc
        try:
            back = self._read(doc)
        except ValidationError as err:
            raise _explained(err, data) from None
        try:
            same = back == obj
        except (ArithmeticError, TypeError, ValueError):  # e.g. a signalling Decimal NaN
            same = False
        if not same:
            self._check_unequal(data, doc)
        return obj if self.stores_objects else doc

    def _check_unequal(self, data: Any, doc: bytes) -> None:
        """Accept a document that reads back unequal to its object only if the checked
        read takes it and writes the same JSON again; else name what does not read back."""
        try:
            checked = self._read(doc, trusted=False)
        except ValidationError as err:
            raise _explained(err, data) from None
        non_finite = sorted(_non_finite(data))
        if non_finite:
            msg = "NaN and infinity cannot be stored (JSON has no such numbers)"
            raise ValidationError([(path, msg) for path in non_finite])
        again = orjson.dumps(self._unstructure(checked))
        if again != doc:
            path = _first_difference(orjson.loads(doc), orjson.loads(again), "")
            raise ValidationError.at(path, "does not read back as written")

    def decode(self, doc: Any) -> T:
        """The object a stored document holds (built on the trusted path: the store
        validated it when it was written)."""
        if self.stores_objects:
            return cast(T, doc)
        return self._read(doc)

    def _read(self, doc: bytes, *, trusted: bool = True) -> T:
        if not self._hooks_made:
            self._prepare()
        try:
            data = orjson.loads(doc)
            if trusted:
                return self._trusted(data)
            return cast(T, self._structure(data, self.cls))
        except ValidationError:
            raise
        except orjson.JSONDecodeError as err:
            raise ValidationError.at("", f"not valid JSON: {err}") from err
        except _STRUCTURE_ERRORS as err:
            raise validation_error_from(err) from err


def _first_difference(a: Any, b: Any, path: str) -> str:
    """The path of the first place where two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in [*a, *(k for k in b if k not in a)]:
            if a.get(name) != b.get(name):
                return _first_difference(a.get(name), b.get(name), _join(path, name))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, _join(path, i))
    return path
