"""Naming series: human-readable reference numbers with per-period counters.

``NamingSeries("SO-{yyyy}{mm}-{seq:04d}")`` renders ``SO-202611-0001``. The counter is
kept per *series key*: the pattern rendered with everything but ``{seq}``, so a series
whose pattern contains ``{mm}`` restarts every month, and one that contains ``{dept}``
counts per department (docs/domain.md 1: job numbers restart every month and per
department). A field named in ``uncounted`` is written into the number but left out of
the key: the customer code ``{city}-{yyyy}{mm}-{name}-{seq:03d}`` counts the customers
of a city and month, whatever their names. Numbers come from counters kept in the store
(:meth:`NamingSeries.next`), so two processes never hand out the same number.

Counter keys carry only the counted fields: a store written while the customer code still
counted per name (``series:Wuhan-202611-Chen Wei-#``, a customer's name in a key for good)
is migrated when it is opened (:meth:`NamingSeries.fold_uncounted`, registered for the
customer code in :mod:`csdomain.kinds`).

Placeholders: ``{yyyy}``, ``{yy}``, ``{mm}``, ``{dd}`` (from ``at`` in the series' time
zone), ``{seq}`` with any integer format spec, and any other name passed as a keyword.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from csdomain.clock import require_aware
from csdomain.errors import ValidationError


__all__ = ["CounterSource", "NamingSeries"]

_DATE_FIELDS = frozenset({"yyyy", "yy", "mm", "dd"})
_SAMPLE_VALUES: dict[str, object] = {"seq": 1, "yyyy": "2026", "yy": "26", "mm": "01", "dd": "01"}
_DATE_DIGITS = {"yyyy": r"\d{4}", "yy": r"\d{2}", "mm": r"\d{2}", "dd": r"\d{2}"}


class CounterSource(Protocol):
    """Anything that hands out the next value of a named counter (a unit of work)."""

    def next_counter(self, name: str) -> int:
        """Increment counter ``name`` and return the new value (1 for a new counter)."""
        ...


def _parse(pattern: str) -> tuple[str, ...]:
    if not isinstance(pattern, str):
        raise ValidationError.at("pattern", "a naming series pattern must be a string")
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as err:
        raise ValidationError.at("pattern", f"bad pattern {pattern!r}: {err}") from None
    names = tuple(name for _, name, _, _ in parsed if name is not None)
    if names.count("seq") != 1:
        raise ValidationError.at("pattern", f"{pattern!r} needs exactly one {{seq}} field")
    for name in names:
        if not name.isidentifier():
            raise ValidationError.at("pattern", f"{pattern!r}: bad field name {name!r}")
    formatter = string.Formatter()
    for _, field, spec, conversion in parsed:
        if field in _SAMPLE_VALUES:
            try:
                value = formatter.convert_field(_SAMPLE_VALUES[field], conversion)
                formatter.format_field(value, spec or "")
            except (ValueError, TypeError) as err:
                msg = f"{pattern!r}: bad format for {{{field}}}: {err}"
                raise ValidationError.at("pattern", msg) from None
    return names


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list | frozenset | set):
        return tuple(value)
    raise ValidationError.at("uncounted", "expected a list of field names")


@attrs.frozen
class NamingSeries:
    """A pattern for reference numbers; see the module docstring."""

    pattern: str
    tz: str = "Asia/Shanghai"
    #: Fields written into the number but not part of the counter key.
    uncounted: tuple[str, ...] = attrs.field(default=(), converter=_names)
    fields: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "fields", _parse(self.pattern))
        try:
            ZoneInfo(self.tz)
        except (ValueError, OSError, ZoneInfoNotFoundError):
            raise ValidationError.at("tz", f"unknown time zone {self.tz!r}") from None
        for name in self.uncounted:
            if name not in self.fields or name == "seq" or name in _DATE_FIELDS:
                msg = f"{name!r} is not a field of {self.pattern!r} that can go uncounted"
                raise ValidationError.at("uncounted", msg)

    def _values(self, at: datetime, given: dict[str, Any]) -> dict[str, Any]:
        local = require_aware(at).astimezone(ZoneInfo(self.tz))
        values: dict[str, Any] = {
            "yyyy": f"{local.year:04d}",
            "yy": f"{local.year % 100:02d}",
            "mm": f"{local.month:02d}",
            "dd": f"{local.day:02d}",
        }
        missing = [n for n in self.fields if n != "seq" and n not in values and n not in given]
        if missing:
            raise ValidationError([(name, "required by the naming series") for name in missing])
        values.update(given)
        return values

    def _format(self, values: dict[str, Any], seq: int | None, *, until: bool = False) -> str:
        """The pattern filled with ``values``.

        With ``seq`` None (a counter key) ``{seq}`` becomes ``#`` and an uncounted field
        ``*``; with ``until`` the text stops before the first of them (a counted prefix).
        """
        formatter = string.Formatter()
        parts: list[str] = []
        for literal, name, spec, conversion in formatter.parse(self.pattern):
            parts.append(literal)
            if name is None:
                continue
            if seq is None and (name == "seq" or name in self.uncounted):
                if until:
                    break
                parts.append("#" if name == "seq" else "*")
                continue
            value = seq if name == "seq" else values[name]
            try:
                field_spec = formatter.vformat(spec, (), values) if spec else ""
                converted = formatter.convert_field(value, conversion)
                parts.append(formatter.format_field(converted, field_spec))
            except (ValueError, TypeError, KeyError, IndexError) as err:
                msg = f"{value!r} does not fit the pattern {self.pattern!r}: {err}"
                raise ValidationError.at(name, msg) from None
        return "".join(parts)

    def series_key(self, at: datetime, **fields: Any) -> str:
        """The counter name for ``at`` and ``fields``: the pattern without its number.

        Uncounted fields show as ``*``: every value of them shares the counter.
        """
        return "series:" + self._format(self._values(at, fields), None)

    def counted_prefix(self, at: datetime, **fields: Any) -> str:
        """The start every number of this counter shares: the rendered pattern up to the
        first uncounted field or ``{seq}`` (``"Wuhan-202611-"`` for a customer code)."""
        return self._format(self._values(at, fields), None, until=True)

    def _counted_key(self) -> re.Pattern[str] | None:
        """What a counter key looked like when the uncounted fields were still counted:
        each uncounted field is a group (``None`` when the series has none)."""
        if not self.uncounted:
            return None
        parts = [re.escape("series:")]
        for literal, name, spec, conversion in string.Formatter().parse(self.pattern):
            parts.append(re.escape(literal))
            if name is None:
                continue
            if name == "seq":
                parts.append(re.escape("#"))
            elif name in self.uncounted:
                parts.append("(.+)")
            elif name in _DATE_DIGITS and not spec and not conversion:
                parts.append(_DATE_DIGITS[name])
            else:
                parts.append("(?:.+?)")
        return re.compile("".join(parts), re.DOTALL)

    def fold_uncounted(
        self, counters: Iterable[tuple[str, int]]
    ) -> tuple[dict[str, int], list[str]]:
        """How to fold counters kept per value of an uncounted field into the shared one.

        A store written while the customer-code serial still counted per name holds
        ``series:Wuhan-202611-Chen Wei-#``, one counter per name and a customer's name in
        a key for good. Of ``counters`` (``(name, value)``) this returns the shared
        counters to raise (``series:Wuhan-202611-*-#`` to the larger of its value and the
        sum of the per-name counters folded into it: the serial continues after every
        code already given, as many as were counted) and the per-name counters to remove.
        Nothing to do (``{}, []``) once folded. Source: docs/domain.md 1, the serial counts
        the customers of the city and month; personal data leaves no trace after erasure.
        """
        shape = self._counted_key()
        if shape is None:
            return {}, []
        have: dict[str, int] = {}
        folded: dict[str, int] = {}
        remove: list[str] = []
        for name, value in counters:
            have[name] = value
            found = shape.fullmatch(name)
            if found is None or all(group == "*" for group in found.groups()):
                continue
            shared, end = [], 0
            for index in range(1, len(found.groups()) + 1):
                shared += [name[end : found.start(index)], "*"]
                end = found.end(index)
            key = "".join(shared) + name[end:]
            folded[key] = folded.get(key, 0) + value
            remove.append(name)
        raise_to = {key: total for key, total in folded.items() if total > have.get(key, 0)}
        return raise_to, remove

    def render(self, seq: int, at: datetime, **fields: Any) -> str:
        """The reference number for counter value ``seq``."""
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValidationError.at("seq", f"must be a positive integer, got {seq!r}")
        return self._format(self._values(at, fields), seq)

    def next(self, counters: CounterSource, at: datetime, **fields: Any) -> str:
        """Take the next number from the store's counter for this period and fields."""
        key = self.series_key(at, **fields)
        return self.render(counters.next_counter(key), at, **fields)
