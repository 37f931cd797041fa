"""Every public desk method, called with generated arguments on the seeded demo store.

The issue's "must show" test (issue #14). The arguments of each method come from its
signature and annotations (:func:`csdomain.desk.base.use_cases`, :meth:`UseCase.hints`), so
a new use case is covered without writing a test, and a public method that does not go
through the skeleton fails :func:`test_every_public_desk_method_is_a_use_case`:

- each argument is a well-typed value (models from the strategies csdomain registers for
  ``st.from_type``, ids really present in the seeded store so calls reach the domain
  logic), or, for one argument of the call, a boundary value of its annotation (text at and
  one past its policy limit, the ends of the year and 64-bit ranges) or a hostile value:
  wrong types, 1 MB strings, lone surrogates, NUL, nesting 1,000 levels deep, naive
  datetimes, years 1 and 9999, NaN and infinities, ``10**400`` and ``2**63``, ``'false'``;
- the store is the demo (:func:`csdomain.demo.build_demo`, plus one document of each kind
  the demo has none of) on the memory and SQLite backends, built once per session into a
  template; every example starts from a store equal to it;
- a call either succeeds, and then every document of every kind reads back and the export
  round-trips byte for byte through an import into a fresh store, or raises a
  :class:`~csdomain.errors.CsDomainError` and the store's export is byte-identical to
  before. Nothing else may leave the library.

Two rules are checked straight from the annotations: every text parameter is bounded by
its policy limit (one character more is a ``ValidationError`` naming the parameter, before
anything is loaded) and a ``bool`` parameter takes only ``True`` or ``False``.

Cost: under the ``ci`` profile a few examples per method and backend (about a minute on one
core), and the round trip of a successful call covers the export lines the call changed
(the template's own export is round-tripped whole once per session); the ``soak`` profile
runs many more examples and round-trips the whole export after every successful call.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import math
import os
import shutil
import types
import typing
from collections import abc
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, Phase, event, given, reject, settings
from hypothesis import strategies as st

import csdomain.kinds  # noqa: F401 - registers every stored kind
from csdomain.auth import DEFAULT_ROLE_PERMISSIONS, Actor
from csdomain.calendar import QuietHours
from csdomain.clock import FixedClock
from csdomain.complaints import Complaint, Remedy
from csdomain.demo import build_demo
from csdomain.desk.args import Count, Id, LongText, Positive, ShortText, checker
from csdomain.desk.base import UseCase, use_cases
from csdomain.desk.privacy import PrivacyDesk
from csdomain.errors import CsDomainError, ValidationError, describe
from csdomain.kpi import ContactRecord
from csdomain.money import Money
from csdomain.orders import OrderLine
from csdomain.policy import LimitsPolicy
from csdomain.satisfaction import Survey, SurveyResponse
from csdomain.service import ServiceDesk
from csdomain.store import Store, UnitOfWork, open_store
from csdomain.store.spi import Row
from csdomain.testing.conformance import HOSTILE_STRINGS
from csdomain.transfer import export_lines, import_store
from csdomain.warranty import (
    QualityTrend,
    RepairRecord,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
)


class Desk(ServiceDesk, PrivacyDesk):
    """Every use case, the privacy desk's included."""


#: The desk's clock: after everything the demo story wrote.
NOW = datetime(2026, 9, 10, 9, tzinfo=UTC)
#: An actor with every role, so a well-typed call passes the permission check.
BOSS = Actor("boss", frozenset(DEFAULT_ROLE_PERMISSIONS), "Everyone at once")
LIMITS = LimitsPolicy()
PROFILE = os.environ.get("CSDOMAIN_HYPOTHESIS_PROFILE", "ci")
SOAK = PROFILE == "soak"
#: Public desk attributes that are helpers of the use cases, not use cases.
HELPERS = frozenset(
    {
        "now",
        "calendar_for",
        "plugin_manager",
        "create",
        "change",
        "emit_events",
        "require",
        "require_any",
        "run",
        "bounded_text",
        "optional_bounded_text",
        "record_access",
        "may_read_personal",
        "close",
        "owners_of_ladder",
        "ladder_owners",
    }
)
#: Calls per backend under ``ci``, shared by the methods, so the file keeps to about a
#: minute on one core as use cases are added (never fewer than 4 calls per method).
CI_CALLS = 1_000
#: Examples of the annotation rules per method (each example checks every parameter; a
#: refusal does not depend on the other arguments, so a failure is not shrunk).
PER_RULE = settings(
    max_examples=20 if SOAK else 2,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def public_methods() -> list[str]:
    """Every use case and every other public method of the desk but the :data:`HELPERS`."""
    found = set(use_cases(Desk))
    for name in dir(Desk):
        if name.startswith("_") or name in HELPERS:
            continue
        attribute = inspect.getattr_static(Desk, name)
        if isinstance(attribute, types.FunctionType | property | staticmethod | classmethod):
            found.add(name)
    return sorted(found)


PUBLIC = public_methods()
#: Examples per method and backend: bounded under ``ci``, many under ``soak``.
PER_METHOD = settings(
    max_examples=200 if SOAK else min(10, max(4, CI_CALLS // len(PUBLIC))),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    deadline=None,
)


# -- what a method takes ---------------------------------------------------------------------


@attrs.frozen
class Target:
    """One public desk method: its public parameters and their resolved annotations."""

    name: str
    module: str
    use_case: bool
    parameters: tuple[inspect.Parameter, ...]
    hints: Mapping[str, Any]

    def required(self) -> list[inspect.Parameter]:
        """The parameters a call must give."""
        return [p for p in self.parameters if p.default is p.empty and not _variadic(p)]


def _variadic(parameter: inspect.Parameter) -> bool:
    return parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)


def target_of(name: str) -> Target:
    """The parameters of ``name`` from its use-case spec, or from its plain signature."""
    method = getattr(Desk, name)
    spec = getattr(method, "use_case", None)
    module = getattr(method, "__module__", "?")
    if isinstance(spec, UseCase):
        return Target(
            name,
            module,
            use_case=True,
            parameters=tuple(spec.signature.parameters.values()),
            hints=spec.hints(),
        )
    parameters = tuple(inspect.signature(method).parameters.values())[1:]
    hints = typing.get_type_hints(method, include_extras=True)
    return Target(name, module, use_case=False, parameters=parameters, hints=hints)


# -- the seeded store ------------------------------------------------------------------------


class Template:
    """The seeded demo store as an export, with the ids of every kind it holds.

    A plain class with a short ``repr``: hypothesis prints the arguments of a failing test,
    and an attrs class would be printed field by field (two megabytes of export).
    """

    def __init__(
        self,
        lines: tuple[bytes, ...],
        ids: Mapping[str, tuple[str, ...]],
        problems: tuple[str, ...],
    ) -> None:
        self.lines = lines
        self.ids = ids
        #: Supplement steps that failed (reported by a test of their own).
        self.problems = problems
        #: The whole export.
        self.data = b"".join(lines)

    def __repr__(self) -> str:
        return f"<the seeded demo store: {len(self.lines)} export lines>"


def _supplement(store: Store) -> list[str]:
    """Add one document of each kind the demo has none of, through the use cases."""
    desk = Desk(store, clock=FixedClock(NOW))
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "plan_survey_campaign",
            lambda: desk.plan_survey_campaign(
                "supplier-2026",
                starts_on=date(2026, 10, 1),
                ends_on=date(2026, 12, 31),
                invited=["CU-000001", "CU-000002", "CU-000003"],
                by=BOSS,
            ),
        ),
        (
            "start_satisfaction_monitor",
            lambda: desk.start_satisfaction_monitor(
                "after-sales", metric="index", target=85.0, measured=78.5, by=BOSS
            ),
        ),
        ("get_customer", lambda: desk.get_customer("CU-000001", by=BOSS, purpose="call")),
    ]
    problems = []
    for label, step in steps:
        try:
            step()
        except Exception as err:
            problems.append(f"{label}: {type(err).__name__}: {describe(str(err))}")
    return problems


@pytest.fixture(scope="session")
def template() -> Template:
    """The demo, built once per session (building it is slow), as export lines."""
    store = open_store("memory://")
    try:
        build_demo(store)
        problems = _supplement(store)
        lines = tuple(export_lines(store))
    finally:
        store.close()
    ids: dict[str, list[str]] = {}
    for line in lines:
        record = orjson.loads(line)
        if "kind" in record:
            ids.setdefault(record["kind"], []).append(record["key"])
    return Template(lines, {k: tuple(v) for k, v in ids.items()}, tuple(problems))


@attrs.frozen
class _Rows:
    """The template's documents as backend rows, so a memory store is filled without
    parsing the export again (the same transaction methods an import uses)."""

    documents: tuple[tuple[str, tuple[Row, ...], tuple[int, ...]], ...]
    counters: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, store: Store) -> _Rows:
        documents = []
        with store.unit_of_work(readonly=True) as uow:
            for kind in store.kinds:
                found = uow.tx.find(kind.name, (), (("key", False),), None, 0)
                rows, versions = [], []
                for key, version, doc in found:
                    rows.append(Row(key, doc, kind.index_values(doc)))
                    versions.append(version)
                documents.append((kind.name, tuple(rows), tuple(versions)))
            counters = tuple(uow.tx.list_counters())
        return cls(tuple(documents), counters)

    def restore(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            store.ensure_kinds(uow.tx)
            for name, rows, versions in self.documents:
                if rows:
                    uow.tx.restore(name, rows, versions)
            for name, value in self.counters:
                uow.tx.restore_counter(name, value)


class Watched(Store):
    """A store that counts its units of work: a call that opened none wrote nothing."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.backend, kinds=store.kinds, clock=store.clock)
        self.units = 0

    def unit_of_work(self, *, readonly: bool = False) -> UnitOfWork:
        """A new unit of work, counted."""
        self.units += 1
        return super().unit_of_work(readonly=readonly)


class Lab:
    """A store equal to the template on one backend, renewed after a call changed it."""

    def __init__(self, backend: str, template: Template, directory: Path) -> None:
        self.backend = backend
        self.template = template
        self._store: Watched | None = None
        self._master = directory / "template.db"
        self._work = directory / "work.db"
        store = open_store("memory://" if backend == "memory" else f"sqlite:///{self._master}")
        try:
            import_store(store, template.lines)
            self._rows = _Rows.of(store) if backend == "memory" else None
        finally:
            store.close()

    def fresh(self) -> Store:
        """A store that is not connected to any other (for round trips and rules)."""
        if self.backend == "memory":
            return open_store("memory://")
        path = self._work.with_name(f"fresh-{os.getpid()}.db")
        path.unlink(missing_ok=True)
        return open_store(f"sqlite:///{path}")

    def store(self) -> Watched:
        """The store, equal to the template."""
        if self._store is None:
            if self._rows is not None:
                store = open_store("memory://")
                self._rows.restore(store)
            else:
                shutil.copyfile(self._master, self._work)
                store = open_store(f"sqlite:///{self._work}")
            self._store = Watched(store)
        return self._store

    def spoil(self) -> None:
        """The store may differ from the template now: the next example gets a new one."""
        if self._store is not None:
            self._store.close()
            self._store = None


@pytest.fixture(scope="session", params=["memory", "sqlite"])
def lab(
    request: pytest.FixtureRequest, template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    made = Lab(request.param, template, tmp_path_factory.mktemp(f"boundary-{request.param}"))
    yield made
    made.spoil()


# -- argument values -------------------------------------------------------------------------


@attrs.frozen(repr=False)
class Hostile:
    """A prepared argument value with a short label (so a report never prints 1 MB)."""

    label: str
    value: Any = attrs.field(eq=False)

    def __repr__(self) -> str:
        return f"<{self.label}>"


def _nested(levels: int, wrap: Callable[[Any], Any]) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = wrap(value)
    return value


#: Hostile values any argument may get, whatever its annotation.
HOSTILE: tuple[Hostile, ...] = (
    Hostile("None", None),
    Hostile("True", value=True),
    Hostile("False", value=False),
    Hostile("0", 0),
    Hostile("1", 1),
    Hostile("-1", -1),
    Hostile("2**63", 2**63),
    Hostile("-2**63-1", -(2**63) - 1),
    Hostile("10**400", 10**400),
    Hostile("1.5", 1.5),
    Hostile("NaN", math.nan),
    Hostile("inf", math.inf),
    Hostile("-inf", -math.inf),
    Hostile("Decimal NaN", Decimal("NaN")),
    Hostile("Decimal -Infinity", Decimal("-Infinity")),
    Hostile("Decimal 1e400", Decimal("1e400")),
    Hostile("'false'", "false"),
    Hostile("'true'", "true"),
    Hostile("'0'", "0"),
    Hostile("'None'", "None"),
    Hostile("1 MB of text", "x" * 1_000_000),
    Hostile("lone surrogate", "lone \ud800 surrogate"),
    Hostile("lone low surrogate", "\udfff"),
    Hostile("NUL", "\x00"),
    *(Hostile(f"hostile text {i}", text) for i, text in enumerate(HOSTILE_STRINGS)),
    Hostile("bytes", b"CU-000001"),
    Hostile("empty list", []),
    Hostile("empty dict", {}),
    Hostile("set", {"CU-000001"}),
    Hostile("list nested 1000 deep", _nested(1000, lambda v: [v])),
    Hostile("dict nested 1000 deep", _nested(1000, lambda v: {"x": v})),
    Hostile("naive datetime", datetime(2026, 9, 10, 9)),
    Hostile("year 1", datetime(1, 1, 1, tzinfo=UTC)),
    Hostile("year 9999", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    Hostile("datetime.min", datetime.min),  # noqa: DTZ901 - the hostile value
    Hostile("date year 1", date(1, 1, 1)),
    Hostile("date year 9999", date(9999, 12, 31)),
    Hostile("timedelta", timedelta(days=1)),
    Hostile("USD money", Money.of("1.00", "USD")),
    Hostile("zero money", Money.of("0.00", "CNY")),
    Hostile("object()", object()),
    Hostile("actor without roles", Actor("nobody")),
    Hostile("100,001 ids", ["CU-000001"] * 100_001),
)

#: Which stored kind an id argument (or an attrs field) names, by its name.
ID_KINDS = {
    "customer_id": "customer",
    "customer_ids": "customer",
    "invited": "customer",
    "order_id": "order",
    "complaint_id": "complaint",
    "case_id": "warranty_claim",
    "survey_id": "survey",
    "campaign_id": "survey_campaign",
    "message_id": "message",
    "return_id": "return_request",
    "monitor_id": "satisfaction_monitor",
    "sku": "stock",
}
#: Models with strategies that csdomain registers for ``st.from_type``.
REGISTERED: frozenset[type] = frozenset(
    {
        Money,
        QuietHours,
        OrderLine,
        Complaint,
        Remedy,
        Survey,
        SurveyResponse,
        ContactRecord,
        WarrantyClaim,
        RepairRecord,
        ServicePointPeriod,
        QualityTrend,
        SparePart,
    }
)
NAMES = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=12
).filter(str.strip) | st.sampled_from(["Dr. Chen", "13800138000", "Luoyu Rd 1", "a@b.cn"])
TEXT = st.text(max_size=16) | st.sampled_from(["", "Thanks", "call back Monday"])
PHONES = st.sampled_from(["13800138000", "027-87654321", "+86 10 8765 4321"])
#: Well-typed values that also make sense for a parameter or field of this name, so more
#: calls get past the domain's own checks (any short text or number otherwise).
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "phone": PHONES,
    "fax": PHONES,
    "email": st.sampled_from(["chen.wei@example.com", "a@b.cn"]),
    "currency": st.just("CNY"),
    "city": st.sampled_from(["Wuhan", "Beijing", "Shanghai"]),
    "quantity": st.integers(1, 5),
    "good": st.integers(1, 20),
    "month": st.sampled_from(["2026-09", "2026-08", (2026, 9)]),
}
#: Money in the store's currency mostly, any currency sometimes.
MONEY = st.decimals(0, 2000, places=2).map(lambda amount: Money.of(amount, "CNY")) | st.from_type(
    Money
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENTS = st.datetimes(
    min_value=(NOW - timedelta(days=90)).replace(tzinfo=None),
    max_value=(NOW + timedelta(days=90)).replace(tzinfo=None),
    timezones=st.sampled_from([UTC, SHANGHAI]),
)
DAYS = st.dates(
    min_value=NOW.date() - timedelta(days=400), max_value=NOW.date() + timedelta(days=90)
)
_SEQUENCES = (
    abc.Sequence,
    abc.Iterable,
    abc.Collection,
    abc.Set,
    list,
    set,
    frozenset,
)


def _ids(name: str, template: Template) -> st.SearchStrategy[str]:
    kind = ID_KINDS.get(name)
    pool = template.ids.get(kind, ()) if kind else ()
    if not pool:
        pool = tuple(key for keys in template.ids.values() for key in keys[:3])
    return st.sampled_from(pool)  # unknown ids come with the hostile values


def _plain(annotation: Any) -> Any:
    """The annotation without ``Annotated``'s extras (``Id`` -> ``str``)."""
    if typing.get_origin(annotation) is Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _options(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def typed(annotation: Any, name: str, template: Template) -> st.SearchStrategy[Any]:
    """Well-typed values for one annotation of the desk's vocabulary."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation == Id:
        return _ids(name, template)
    if annotation in (ShortText, LongText) or annotation is str:
        return BY_NAME.get(name, TEXT)
    if annotation == Count:
        return st.integers(0, 50)
    if annotation == Positive:
        return st.integers(1, 50)
    if origin is Annotated:
        return typed(args[0], name, template)
    if origin in (typing.Union, types.UnionType):
        enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.StrEnum)]
        rest = [a for a in args if a is not type(None) and not (enums and a is str)]
        parts = [typed(a, name, template) for a in rest]
        return st.one_of(*parts, *([st.none()] if type(None) in args else []))
    if origin is Literal:
        return st.sampled_from(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(typed(args[0], name, template), max_size=3).map(tuple)
        return st.tuples(*(typed(a, name, template) for a in args))
    if origin in _SEQUENCES:
        inner = args[0] if args else str
        return st.lists(typed(inner, name, template), max_size=3)
    if origin in (abc.Mapping, dict):
        return st.dictionaries(
            typed(args[0], name, template), typed(args[1], name, template), max_size=3
        )
    return _scalar(annotation, name, template)


def _scalar(annotation: Any, name: str, template: Template) -> st.SearchStrategy[Any]:
    if name in BY_NAME and annotation in (int, float):
        return BY_NAME[name]
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(-5, 500),
        float: st.floats(0, 100),
        Decimal: st.decimals(0, 1000, places=2),
        datetime: MOMENTS,
        date: DAYS,
    }
    if annotation in simple:
        return simple[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        members = list(annotation)
        if issubclass(annotation, enum.StrEnum):
            return st.sampled_from(members) | st.sampled_from([m.value for m in members])
        return st.sampled_from(members)
    if annotation is Actor:
        return st.just(BOSS) | st.just(BOSS) | st.from_type(Actor)
    if annotation is Money:
        return MONEY
    if annotation in REGISTERED:
        if any(field.name in ID_KINDS for field in attrs.fields(annotation)):
            # ids of the seeded store (a line's SKU in stock), or the strategy's own
            return _instances(annotation, template) | st.from_type(annotation)
        return st.from_type(annotation)
    if isinstance(annotation, type) and attrs.has(annotation):
        return _instances(annotation, template)
    return st.sampled_from(HOSTILE)  # no vocabulary type: anything goes


def _instances(cls: type, template: Template) -> st.SearchStrategy[Any]:
    """Instances of an attrs class that has no registered strategy, built field by field."""
    hints = typing.get_type_hints(cls, include_extras=True)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            if not field.init or (field.default is not attrs.NOTHING and draw(st.booleans())):
                continue
            hint = hints.get(field.name, str)
            if _plain(hint) is str and field.name not in ID_KINDS:
                values[field.alias] = draw(BY_NAME.get(field.name, NAMES))
            else:
                values[field.alias] = draw(typed(hint, field.name, template))
        try:
            return cls(**values)
        except CsDomainError:
            reject()  # not a valid instance: hypothesis draws another

    return build()


def _text_limit(annotation: Any, limits: LimitsPolicy) -> int | None:
    """The policy limit of a text annotation (``X | None`` included), else ``None``; the
    ``str`` of ``E | str`` is an enum's value, not text."""
    options = _options(annotation)
    enums = any(isinstance(o, type) and issubclass(o, enum.StrEnum) for o in options)
    for option in options:
        if enums and option is str:
            continue
        if option == Id:
            return limits.max_key
        if option == LongText:
            return limits.max_long_text
        if option == ShortText or option is str:
            return limits.max_short_text
    return None


def edges(annotation: Any) -> list[Hostile]:
    """Boundary values of an annotation: its limits, one past them, its range's ends."""
    found: list[Hostile] = []
    first, last = LIMITS.earliest_year, LIMITS.latest_year
    limit = _text_limit(annotation, LIMITS)
    if limit is not None:
        found += [
            Hostile(f"{limit} characters", "x" * limit),
            Hostile(f"{limit + 1} characters", "x" * (limit + 1)),
            Hostile("blank", " "),
            Hostile("NUL inside", "CU-000001\x00"),
        ]
    for option in _options(annotation):
        plain = _plain(option)
        if option == Count:
            found += [Hostile("-1", -1), Hostile("0", 0)]
        elif option == Positive:
            found += [Hostile("0", 0), Hostile("1", 1)]
        if plain is int:
            found += [Hostile("2**63-1", 2**63 - 1), Hostile("-2**63", -(2**63))]
        elif plain is float:
            found += [Hostile("-0.0", -0.0), Hostile("1e308", 1e308), Hostile("5e-324", 5e-324)]
        elif plain is datetime:
            found += [
                Hostile("first moment of the year range", datetime(first, 1, 1, tzinfo=UTC)),
                Hostile("last hour of the year range", datetime(last, 12, 31, 23, tzinfo=UTC)),
                Hostile("just before the year range", datetime(first - 1, 12, 31, tzinfo=UTC)),
                Hostile(
                    "the year after the range at +14:00, in the range in UTC",
                    datetime(last + 1, 1, 1, 9, tzinfo=timezone(timedelta(hours=14))),
                ),
            ]
        elif plain is date:
            found += [
                Hostile("first day of the year range", date(first, 1, 1)),
                Hostile("last day of the year range", date(last, 12, 31)),
                Hostile("just before the year range", date(first - 1, 12, 31)),
            ]
        elif typing.get_origin(plain) in _SEQUENCES:
            found += [Hostile("text, not a list", "CU-000001"), Hostile("[None]", [None])]
    return found


def unwrap(value: Any) -> Any:
    """The value a drawn argument stands for."""
    return value.value if isinstance(value, Hostile) else value


def shown(kwargs: Mapping[str, Any]) -> str:
    """The arguments of a call in a bounded form."""
    return ", ".join(
        f"{k}={v!r}" if isinstance(v, Hostile) else f"{k}={describe(v)}" for k, v in kwargs.items()
    )


#: Whether a call gives an optional argument: a third of the time (shrinks to not giving it).
SOMETIMES = (False, False, True)


@st.composite
def calls(draw: st.DrawFn, target: Target, template: Template) -> dict[str, Any]:
    """Keyword arguments for one call: well-typed, but for one argument that may be hostile."""
    names = [p.name for p in target.parameters if not _variadic(p)]
    odd = draw(st.none() | st.sampled_from(names)) if names else None
    kwargs: dict[str, Any] = {}
    for parameter in target.parameters:
        hint = target.hints.get(parameter.name, Any)
        if parameter.kind is parameter.VAR_POSITIONAL:
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            extra = draw(st.dictionaries(st.sampled_from(["note", "x"]), st.sampled_from(HOSTILE)))
            kwargs.update(extra)
            continue
        if parameter.name == odd:
            boundary = edges(hint)
            odd_values = st.sampled_from(HOSTILE)
            if boundary:  # as likely as all the hostile values together
                odd_values = st.sampled_from(boundary) | odd_values
            kwargs[parameter.name] = draw(odd_values)
        elif parameter.default is parameter.empty or draw(st.sampled_from(SOMETIMES)):
            kwargs[parameter.name] = draw(typed(hint, parameter.name, template), parameter.name)
    return kwargs


# -- the checks --------------------------------------------------------------------------------


def export(store: Store) -> bytes:
    return b"".join(export_lines(store))


def _round_trip_input(lines: list[bytes], template: Template) -> list[bytes]:
    """What to round-trip: the whole export (soak), or its lines a call changed, with the
    header, the counters and a trailer for them (the template's lines were round-tripped)."""
    if SOAK:
        return lines
    known = set(template.lines)
    header, body, counters = lines[0], [], []
    for line in lines[1:-1]:
        if line.startswith(b'{"counter":'):
            counters.append(line)
        elif line not in known:
            body.append(line)
    digest = hashlib.sha256(b"".join([header, *body, *counters])).hexdigest()
    trailer = {"end": True, "documents": len(body), "counters": len(counters), "sha256": digest}
    return [header, *body, *counters, orjson.dumps(trailer) + b"\n"]


def round_trip_problem(lab: Lab, lines: list[bytes]) -> str | None:
    """Why export -> import -> export of ``lines`` is not byte-identical, if it is not."""
    sent = _round_trip_input(lines, lab.template)
    store = lab.fresh()
    try:
        import_store(store, sent)
        back = list(export_lines(store))
    except CsDomainError as err:
        return f"the import of its export failed: {type(err).__name__}: {describe(str(err))}"
    finally:
        store.close()
    if back == sent:
        return None
    for number, (a, b) in enumerate(zip(sent, back, strict=False), 1):
        if a != b:
            return f"line {number} changed in the round trip: {describe(a)} -> {describe(b)}"
    return f"the round trip gave {len(back)} lines for {len(sent)}"


def read_back_problem(store: Store) -> str | None:
    """Why some stored document does not read back, if one does not."""
    with store.unit_of_work(readonly=True) as uow:
        for kind in store.kinds:
            try:
                uow.repo(kind).find()
            except Exception as err:
                return f"{kind.name} does not read back: {type(err).__name__}: {describe(str(err))}"
    return None


def check_call(lab: Lab, target: Target, kwargs: dict[str, Any]) -> None:
    """One call: success with a readable, round-tripping store, or a CsDomainError that
    wrote nothing. Fails with the method, its module, the arguments and what happened."""
    where = f"{target.name}({shown(kwargs)}) [{target.module}, {lab.backend}]"
    store = lab.store()
    store.units = 0
    desk = Desk(store, clock=FixedClock(NOW))
    arguments = {k: unwrap(v) for k, v in kwargs.items()}
    try:
        getattr(desk, target.name)(**arguments)
    except CsDomainError as err:
        event(f"refused with {type(err).__name__}" + ("" if store.units else " (no unit of work)"))
        if not store.units and not SOAK:
            return  # refused before any unit of work: nothing can have been written
        try:
            after = export(store)
        except Exception as failure:
            lab.spoil()
            pytest.fail(f"{where}: refused, then the export raised {type(failure).__name__}")
        if after != lab.template.data:
            lab.spoil()
            pytest.fail(f"{where}: raised {type(err).__name__} but changed the store")
        return
    except Exception as err:
        lab.spoil()
        pytest.fail(f"{where}: raised {type(err).__name__}: {describe(str(err))}")
    event("succeeded")
    changed = True
    try:
        problem = read_back_problem(store)
        if problem is None:
            try:
                lines = list(export_lines(store))
            except Exception as err:
                problem = f"the export raised {type(err).__name__}: {describe(str(err))}"
            else:
                changed = b"".join(lines) != lab.template.data
                problem = round_trip_problem(lab, lines) if changed else None
    finally:
        if changed:
            lab.spoil()
    if problem is not None:
        pytest.fail(f"{where}: succeeded, but {problem}")


# -- the tests ---------------------------------------------------------------------------------


def test_every_public_desk_method_is_a_use_case() -> None:
    """Rule (issue #14): every public method goes through the one skeleton (use_case or
    checked), so a new method cannot dodge the argument and permission checks."""
    found = use_cases(Desk)
    dodging = sorted(
        f"{name} [{getattr(getattr(Desk, name), '__module__', '?')}]"
        for name in PUBLIC
        if name not in found
    )
    assert not dodging, "public desk methods that are not use cases:\n" + "\n".join(dodging)


def test_the_seeded_store_has_ids_of_every_kind_an_argument_names(template: Template) -> None:
    """The template holds a document of every kind an id argument names, so calls reach
    the domain logic; the steps that add what the demo lacks all worked."""
    assert not template.problems, "\n".join(template.problems)
    assert set(ID_KINDS.values()) <= set(template.ids)


def test_the_seeded_store_round_trips_on_every_backend(lab: Lab) -> None:
    """The template's whole export survives export -> import -> export on each backend."""
    store = lab.store()
    assert export(store) == lab.template.data
    fresh = lab.fresh()
    try:
        import_store(fresh, lab.template.lines)
        assert export(fresh) == lab.template.data
    finally:
        fresh.close()


@pytest.mark.parametrize("name", PUBLIC)
@PER_METHOD
@given(data=st.data())
def test_a_call_with_any_arguments_succeeds_cleanly_or_refuses_and_writes_nothing(
    name: str, lab: Lab, data: st.DataObject
) -> None:
    """Rule (issue #14): only CsDomainError leaves a desk method; a refused call leaves
    the store's export byte-identical, a successful one leaves a store that reads back
    and round-trips."""
    target = target_of(name)
    kwargs = data.draw(calls(target, lab.template), label="arguments")
    check_call(lab, target, kwargs)


def _passes(check: Callable[[Any, str, LimitsPolicy], Any], value: Any) -> bool:
    try:
        check(value, "x", LIMITS)
    except CsDomainError:
        return False
    return True


def _valid(hint: Any, name: str, template: Template) -> st.SearchStrategy[Any]:
    strategy = typed(hint, name, template)
    try:
        check = checker(hint)
    except TypeError:
        return strategy
    return strategy.filter(lambda value: _passes(check, value))


def _refusal_problem(
    desk: Desk, target: Target, name: str, kwargs: dict[str, Any], bad: Hostile
) -> str | None:
    store = desk.store
    before = export(store)
    call = {**kwargs, name: bad.value}
    try:
        getattr(desk, target.name)(**call)
    except ValidationError as err:
        paths = [path for path, _ in err.errors]
        if paths[:1] != [name]:
            return f"{name}={bad!r} was refused naming {paths[:3]} instead"
    except Exception as err:
        return f"{name}={bad!r} raised {type(err).__name__}: {describe(str(err))}"
    else:
        return f"{name}={bad!r} was accepted"
    if export(store) != before:
        return f"{name}={bad!r} was refused but changed the store"
    return None


@pytest.mark.parametrize("name", PUBLIC)
@PER_RULE
@given(data=st.data())
def test_every_text_parameter_is_bounded_and_a_bool_parameter_takes_only_bools(
    name: str, template: Template, data: st.DataObject
) -> None:
    """Rule (issue #14): every text argument is bounded by a policy limit (one character
    more is a ValidationError naming it, before anything is loaded); a bool parameter
    accepts only True or False ('false', 0, 1 and None, unless optional, are refused)."""
    target = target_of(name)
    kwargs = {
        p.name: data.draw(_valid(target.hints.get(p.name, Any), p.name, template), p.name)
        for p in target.required()
    }
    problems: list[str] = []
    store = open_store("memory://")
    try:
        desk = Desk(store, clock=FixedClock(NOW))
        for parameter in target.parameters:
            if _variadic(parameter):
                continue
            hint = target.hints.get(parameter.name, Any)
            bad: list[Hostile] = []
            limit = _text_limit(hint, LIMITS)
            if limit is not None:
                bad.append(Hostile(f"{limit + 1} characters", "x" * (limit + 1)))
            if bool in _options(hint):
                bad += [Hostile("'false'", "false"), Hostile("0", 0), Hostile("1", 1)]
                if type(None) not in _options(hint):
                    bad.append(Hostile("None", None))
            for value in bad:
                problem = _refusal_problem(desk, target, parameter.name, kwargs, value)
                if problem is not None:
                    problems.append(problem)
    finally:
        store.close()
    where = f"{name} [{target.module}] with {shown(kwargs)}"
    assert not problems, where + ":\n" + "\n".join(problems)
