"""attrs validators and converters shared by every domain model.

Each validator refuses a wrong value at construction with a
:class:`~csdomain.errors.ValidationError` whose path is the field's name, and shows the
bad value only in a bounded form (:func:`~csdomain.errors.describe`). They are cheap: a
type check per field, one pass over a collection's elements. Models use them as
``attrs.field(validator=text)`` or ``attrs.field(validator=tuple_of(StatusChange))``;
the converters (:func:`as_tuple`, :func:`as_frozenset`, :func:`as_dict`) turn the
collection a caller gave into the frozen form the model keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar, cast

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.money import Money


__all__ = [
    "Validator",
    "as_dict",
    "as_frozenset",
    "as_tuple",
    "aware",
    "count",
    "currency_code",
    "day",
    "decimal",
    "duration",
    "enum_value",
    "evolve_checked",
    "flag",
    "frozenset_of",
    "instance_of",
    "integer",
    "money",
    "not_blank",
    "number",
    "optional",
    "optional_aware",
    "optional_flag",
    "optional_instance_of",
    "optional_text",
    "positive_duration",
    "positive_int",
    "representable",
    "text",
    "text_mapping",
    "tuple_of",
    "valid_unicode",
]

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

#: An attrs validator: ``validator(instance, attribute, value)``.
Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def valid_unicode(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (no lone surrogate): what JSON, the store
    and every driver need of a string."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _names(cls: type | tuple[type, ...]) -> str:
    classes = cls if isinstance(cls, tuple) else (cls,)
    return " or ".join(_a(c.__name__) for c in classes)


#: The attribute naming, on a validator, every value it accepts (see :func:`_accepted`).
_ACCEPTS = "_csdomain_accepts"

V = TypeVar("V", bound=Callable[..., None])


def _accepting(validator: V, *accepts: Any) -> V:
    setattr(validator, _ACCEPTS, accepts)
    return validator


def _accepted(validator: object) -> tuple[Any, ...] | None:
    """What ``validator`` accepts, for code that knows its values already passed:

    - ``("instance", classes)``: every instance of one of ``classes`` (a bool only when
      ``bool`` is one of them);
    - ``("aware",)``: every timezone-aware datetime;
    - ``("optional", inner)``: ``None`` and what the validator ``inner`` accepts;
    - ``("tuple_of", classes)`` / ``("frozenset_of", classes)``: every tuple (frozenset)
      whose items are all instances of one of ``classes``;
    - ``("test", classes, expression)``: of the instances of ``classes`` (a bool only
      when ``bool`` is one of them) exactly those for which the Python ``expression``,
      with the value in place of ``{0}``, is true; the expression raises nothing for them.

    ``None`` for a validator that says nothing (it must run to know). The converter's
    checked decoding uses this to leave out the validators its own type checks already
    imply (:mod:`csdomain.serialization`).
    """
    found = getattr(validator, _ACCEPTS, None)
    return found if isinstance(found, tuple) else None


# -- scalars -------------------------------------------------------------------------------


def aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    """The field holds a timezone-aware datetime."""
    if value.__class__ is datetime and value.tzinfo is UTC:
        return  # UTC's offset is never None: aware
    require_aware(value, attribute.name)


_accepting(aware, "aware")


def not_blank(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """The field holds a string with something other than whitespace in it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.at(attribute.name, "must not be empty")


_accepting(not_blank, "test", (str,), "{0}.strip()")


def text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a string (free text may be empty)."""
    if value.__class__ is not str and not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected text, got {type(value).__name__}")


_accepting(text, "instance", (str,))


def flag(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds ``True`` or ``False`` (never a truthy stand-in)."""
    if value is not True and value is not False:
        raise ValidationError.at(attribute.name, f"expected True or False, got {describe(value)}")


_accepting(flag, "instance", (bool,))


def integer(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError.at(attribute.name, f"expected a whole number, got {describe(value)}")


_accepting(integer, "instance", (int,))


def count(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of zero or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"must be a whole number >= 0, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


_accepting(count, "test", (int,), "not ({0} < 0)")


def positive_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a whole number of one or more (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"must be a positive integer, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


_accepting(positive_int, "test", (int,), "not ({0} <= 0)")


def number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite real number (int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError.at(attribute.name, f"expected a number, got {describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError.at(attribute.name, f"must be a finite number, got {value}")


def decimal(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a finite :class:`~decimal.Decimal`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        msg = f"expected a finite Decimal, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


_accepting(decimal, "test", (Decimal,), "{0}.is_finite()")


def day(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a date (not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError.at(attribute.name, f"expected a date, got {type(value).__name__}")


def duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a :class:`~datetime.timedelta`."""
    if not isinstance(value, timedelta):
        raise ValidationError.at(attribute.name, f"expected a duration, got {describe(value)}")


_accepting(duration, "instance", (timedelta,))


def positive_duration(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a :class:`~datetime.timedelta` longer than zero."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        msg = f"must be a positive duration, got {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def enum_value(kind: type[E], value: object, path: str) -> E:
    """The member of ``kind`` given as itself or its value; anything else names the choices."""
    if value.__class__ is kind:
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in kind)
    raise ValidationError.at(path, f"{describe(value)} is not one of {allowed}")


def currency_code(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a currency code: three capital letters (ISO 4217's form)."""
    if not (
        isinstance(value, str)
        and len(value) == 3
        and value.isascii()
        and value.isalpha()
        and value.isupper()
    ):
        raise ValidationError.at(attribute.name, f"not an ISO 4217 code: {describe(value)}")


_accepting(
    currency_code,
    "test",
    (str,),
    "len({0}) == 3 and {0}.isascii() and {0}.isalpha() and {0}.isupper()",
)


@contextmanager
def representable(path: str) -> Iterator[None]:
    """Date arithmetic past the last (or before the first) representable moment is a
    :class:`~csdomain.errors.ValidationError` at ``path``, not an ``OverflowError``."""
    try:
        yield
    except OverflowError:
        msg = "is too far in the future or the past for deadline arithmetic"
        raise ValidationError.at(path, msg) from None


# -- combinators ---------------------------------------------------------------------------


def optional(validator: Validator) -> Validator:
    """``None`` or what ``validator`` accepts."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return _accepting(check, "optional", validator)


#: ``None`` or text.
optional_text = optional(text)
#: ``None`` or an aware datetime.
optional_aware = optional(aware)
#: ``None``, ``True`` or ``False``.
optional_flag = optional(flag)


def instance_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds an instance of ``cls`` (one of them, for a tuple); never a bool
    where a number is asked for.

    The message names ``what`` the field holds (``"a part number"``), by default the
    class (``"a SparePart"``).
    """
    expected = what or _names(cls)
    classes = cls if isinstance(cls, tuple) else (cls,)
    bools = bool in classes

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls) or (value.__class__ is bool and not bools):
            msg = f"expected {expected}, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)

    return _accepting(check, "instance", classes)


def optional_instance_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """``None`` or what :func:`instance_of` accepts."""
    return optional(instance_of(cls, what))


#: The field holds :class:`~csdomain.money.Money`.
money = instance_of(Money, "Money")


def tuple_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds a tuple whose every element is an instance of ``cls`` (an element
    of another type is named by its index and ``what``, by default the class)."""
    expected = what or _names(cls)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            msg = f"expected a tuple, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for i, item in enumerate(value):
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {type(item).__name__}"
                raise ValidationError.at(f"{attribute.name}.{i}", msg)

    return _accepting(check, "tuple_of", cls if isinstance(cls, tuple) else (cls,))


def frozenset_of(cls: type | tuple[type, ...], what: str | None = None) -> Validator:
    """The field holds a frozenset whose every element is an instance of ``cls``
    (``what``, by default the class, names it in the message)."""
    expected = what or _names(cls)

    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset):
            msg = f"expected a set, got {type(value).__name__}"
            raise ValidationError.at(attribute.name, msg)
        for item in value:
            if not isinstance(item, cls):
                msg = f"expected {expected}, got {describe(item)}"
                raise ValidationError.at(attribute.name, msg)

    return _accepting(check, "frozenset_of", cls if isinstance(cls, tuple) else (cls,))


def text_mapping(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """The field holds a mapping of text to text."""
    if not isinstance(value, Mapping):
        msg = f"expected a mapping, got {type(value).__name__}"
        raise ValidationError.at(attribute.name, msg)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            shown = key if isinstance(key, str) else describe(key)
            msg = f"expected text, got {type(item).__name__}"
            raise ValidationError.at(f"{attribute.name}.{shown}", msg)


# -- converters ----------------------------------------------------------------------------


def _collection(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | bytearray | Mapping)


def as_tuple(value: Any) -> Any:
    """An attrs converter: a list or another collection becomes a tuple.

    Text, bytes, mappings and non-iterables pass unchanged, for the validator to name.
    """
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    return tuple(value) if _collection(value) else value


def as_frozenset(value: Any) -> Any:
    """An attrs converter: a collection of hashable items becomes a frozenset.

    Text, bytes, mappings, non-iterables and collections holding unhashable items pass
    unchanged, for the validator to name.
    """
    if isinstance(value, frozenset) or not _collection(value):
        return value
    try:
        return frozenset(value)
    except TypeError:
        return value


def as_dict(value: Any) -> Any:
    """An attrs converter: a mapping becomes a plain dict; anything else passes unchanged."""
    if isinstance(value, Mapping) and type(value) is not dict:
        return dict(value)
    return value


# -- evolving a checked instance -----------------------------------------------------------


@attrs.frozen
class _Field:
    """What :func:`evolve_checked` runs for one changed field."""

    index: int
    name: str
    attribute: attrs.Attribute[Any]
    converter: Callable[[Any], Any] | None
    validator: Validator | None


@attrs.frozen
class _Plan:
    """How :func:`evolve_checked` builds an instance of one class."""

    #: A copy of an instance, every field set from the old one (generated per class).
    copy: Callable[[Any], Any]
    #: The changeable fields by their ``__init__`` name (the attribute's alias).
    fields: Mapping[str, _Field]
    post_init: Callable[[Any], None] | None


#: A plan per class; ``None``: the class builds only through its ``__init__``.
_PLANS: dict[type, _Plan | None] = {}
_HASH_CACHE_FIELD = "_attrs_cached_hash"


def _converter(attribute: attrs.Attribute[Any]) -> tuple[bool, Callable[[Any], Any] | None]:
    """``(usable, converter)``: a converter that takes the instance or the field is not."""
    converter = attribute.converter
    if converter is None:
        return True, None
    if isinstance(converter, attrs.Converter):
        wrapped: Any = converter
        if wrapped.takes_self or wrapped.takes_field:
            return False, None
        return True, wrapped.converter
    return True, converter


def _plan(cls: type) -> _Plan | None:
    """The plan for ``cls``, or ``None`` when only its ``__init__`` can build it.

    That is the case for a class with its own ``__init__``, a ``__attrs_pre_init__``, a
    cached hash, a field left out of ``__init__`` (evolve resets it) or a converter that
    takes the instance or the field.
    """
    code = getattr(vars(cls).get("__init__"), "__code__", None)
    if (
        code is None
        or not code.co_filename.startswith("<attrs generated")
        or "__attrs_pre_init__" in code.co_names
        or _HASH_CACHE_FIELD in code.co_consts
    ):
        return None
    fields: dict[str, _Field] = {}
    names: list[str] = []
    for index, attribute in enumerate(attrs.fields(cls)):
        usable, converter = _converter(attribute)
        if not attribute.init or not usable or not attribute.name.isidentifier():
            return None
        names.append(attribute.name)
        fields[attribute.alias or attribute.name] = _Field(
            index, attribute.name, attribute, converter, attribute.validator
        )
    post_init = getattr(cls, "__attrs_post_init__", None)
    return _Plan(_copier(cls, names), fields, post_init)


def _copier(cls: type, names: list[str]) -> Callable[[Any], Any]:
    """A function that copies an instance of ``cls`` field by field, without ``__init__``.

    Generated once per class, as attrs generates ``__init__``: one line per field.
    """
    body = "".join(f"    _set(new, {name!r}, old.{name})\n" for name in names)
    source = f"def copy(old):\n    new = _new(_cls)\n{body}    return new\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_set": object.__setattr__}
    filename = f"<csdomain evolve_checked copy {cls.__qualname__}>"
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - names are identifiers
    copy: Callable[[Any], Any] = namespace["copy"]
    return copy


def _by_index(item: tuple[_Field, Any]) -> int:
    return item[0].index


def evolve_checked(instance: T, /, **changes: Any) -> T:
    """``attrs.evolve(instance, **changes)`` that checks only what changed.

    The fields that stay were checked when ``instance`` was built, so their values are
    copied as they are; each changed field runs its converter and its validator (in field
    order, as the class's ``__init__`` runs them: every converter first, then every
    validator), then ``__attrs_post_init__`` runs the cross-field checks. A change given
    the value the field already holds counts as unchanged. The result and any refusal
    (the same :class:`~csdomain.errors.ValidationError` with the same paths, the same
    ``TypeError`` for a name the class does not have) are those of :func:`attrs.evolve`.

    This holds for a class whose field validators read only their own field (the kernel
    validators above), with every cross-field check in ``__attrs_post_init__``: the rule
    of every domain model. Validators disabled with :func:`attrs.validators.set_disabled`
    are skipped here as in ``__init__``; nothing global is switched, so concurrent calls
    are safe. A class that only its ``__init__`` can build (its own ``__init__``, a
    ``__attrs_pre_init__``, a cached hash, a field outside ``__init__``, a converter that
    takes the instance) goes through :func:`attrs.evolve` itself.
    """
    cls = instance.__class__
    built: Any
    try:
        plan = _PLANS[cls]
    except KeyError:
        plan = _PLANS.setdefault(cls, _plan(cls))
    if plan is None:
        built = attrs.evolve(cast(Any, instance), **changes)
        return cast(T, built)
    changed: list[tuple[_Field, Any]] = []
    known = plan.fields
    for alias, value in changes.items():
        field = known.get(alias)
        if field is None:
            msg = f"{cls.__qualname__}.__init__() got an unexpected keyword argument {alias!r}"
            raise TypeError(msg)
        if value is not getattr(instance, field.name):
            changed.append((field, value))
    if not changed:
        return instance
    if len(changed) > 1:
        changed.sort(key=_by_index)
    new = built = plan.copy(instance)
    set_slot = object.__setattr__
    for field, given in changed:
        set_slot(new, field.name, given if field.converter is None else field.converter(given))
    if not attrs.validators.get_disabled():
        for field, _ in changed:
            if field.validator is not None:
                field.validator(new, field.attribute, getattr(new, field.name))
    if plan.post_init is not None:
        plan.post_init(new)
    return cast(T, built)
