"""The one use-case skeleton every service-desk method goes through.

A use case is a method that names its business step; :func:`use_case` does the rest, in
this order, the same way for every use case (cosmicpython's service-layer handlers and
unit of work are the model)::

    @use_case(Permission.HANDLE_WARRANTY)
    def approve_warranty_claim(
        self, uow: UnitOfWork, case_id: Id, *, by: Actor, note: LongText = ""
    ) -> WarrantyClaimCase:
        # the docstring says what the step is; the body names it
        return self.change(uow, WARRANTY_CLAIMS, case_id, lambda case: case.approve(...))

1. every argument is checked against its annotation and the policy's limits
   (:mod:`csdomain.desk.args`: one vocabulary), and passed on in its checked form
   (UTC moments, enum members, tuples for lists);
2. the permission is checked before anything is loaded, so an outsider learns nothing
   about which ids exist;
3. the body runs in one unit of work (``uow``, hidden from the public signature):
   :meth:`DeskBase.change` loads, calls the pure domain method, saves and emits the
   events the kind declares; :meth:`DeskBase.create` adds and emits;
4. a :class:`~csdomain.errors.ConcurrencyConflict` re-runs the whole body on fresh data
   (:func:`retrying`, the ``retries`` of the desk).

:func:`checked` is the same skeleton for the few use cases that run several units of
work themselves or none (a dispatcher round, a pure calculation): steps 1 and 2 only.
"""

from __future__ import annotations

import functools
import inspect
import random
import time
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Concatenate, NamedTuple, ParamSpec, Self, TypeVar

import attrs
import pluggy

from csdomain.audit import access_record
from csdomain.auth import Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.clock import Clock
from csdomain.desk.args import Check, checker
from csdomain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    ValidationError,
)
from csdomain.kinds import ACCESS_LOG, SURVEY_RESPONSES
from csdomain.policy import LimitsPolicy, Policy
from csdomain.satisfaction import SurveyRequested
from csdomain.store import Kind, Store, UnitOfWork


__all__ = [
    "DeskBase",
    "UseCase",
    "checked",
    "entry_point",
    "retrying",
    "use_case",
    "use_cases",
]

T = TypeVar("T")
P = ParamSpec("P")
D = TypeVar("D", bound="DeskBase")


def retrying(
    store: Store,
    work: Callable[[UnitOfWork], T],
    *,
    attempts: int = 5,
    readonly: bool = False,
    retry_already_exists: bool = False,
    backoff: float = 0.005,
    max_backoff: float = 0.1,
    sleep: Callable[[float], object] | None = None,
    jitter: Callable[[], float] = random.random,
) -> T:
    """Run ``work`` in a unit of work, re-running it on :class:`ConcurrencyConflict`.

    Each attempt is a fresh unit of work, so the loaded state is current; after
    ``attempts`` conflicts the last one is raised. Nothing of a failed attempt is written.
    Before re-run ``n`` it waits ``min(max_backoff, backoff * 2**(n - 1))`` seconds times
    a factor in [0.5, 1) drawn from ``jitter`` (5 ms, then 10, 20, ...; each at most 100 ms;
    with the default 5 attempts at most 75 ms in all), so competing writers spread out
    instead of colliding again in step (issue #19 item 5), through ``sleep``
    (:func:`time.sleep` unless given; tests pass their own). An :class:`AlreadyExists`
    raised by the commit (another unit of work stored the same new key first, e.g. two
    first receipts of one SKU on the memory backend) is a conflict too; raised by ``work``
    itself it is an answer and is not retried, unless ``retry_already_exists`` says that
    ``work`` only inserts objects with derived ids (a fresh attempt then skips what the
    other writer stored).
    """
    if attempts < 1:
        raise ValidationError.at("attempts", "must be at least 1")
    pause = time.sleep if sleep is None else sleep
    for attempt in range(1, attempts + 1):
        committing = False
        try:
            with store.unit_of_work(readonly=readonly) as uow:
                result = work(uow)
                committing = True
            return result
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
        except AlreadyExists:
            if attempt == attempts or not (committing or retry_already_exists):
                raise
        ceiling = min(max_backoff, backoff * 2 ** min(attempt - 1, 32))
        pause(ceiling * (0.5 + 0.5 * jitter()))
    msg = "unreachable"  # pragma: no cover
    raise AssertionError(msg)  # pragma: no cover


class _Call(NamedTuple):
    """One call's checked arguments: what to call the function with, and by name."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    arguments: Mapping[str, Any]


@attrs.frozen
class UseCase:
    """What the skeleton knows of one use case; ``method.use_case`` on every use case."""

    #: The method's name.
    name: str
    #: The permissions of which ``by`` must hold one (empty: the body decides).
    permissions: tuple[str, ...]
    #: Whether the body runs in a read-only unit of work.
    readonly: bool
    #: Whether the body gets a unit of work (``False`` for :func:`checked`).
    transaction: bool
    #: The public signature (without ``self`` and ``uow``).
    signature: inspect.Signature
    #: The function the skeleton wraps.
    function: Callable[..., Any] = attrs.field(eq=False, repr=False)
    _checks: dict[str, tuple[inspect._ParameterKind, Check]] | None = attrs.field(
        default=None, eq=False, repr=False
    )
    _binder: Callable[[Any, Any, LimitsPolicy], _Call] | None = attrs.field(
        default=None, eq=False, repr=False
    )

    def hints(self) -> dict[str, Any]:
        """The resolved annotations of the public parameters (and ``return``)."""
        hints = typing.get_type_hints(self.function, include_extras=True)
        public = set(self.signature.parameters) | {"return"}
        return {name: hint for name, hint in hints.items() if name in public}

    def checks(self) -> dict[str, tuple[inspect._ParameterKind, Check]]:
        """One check per public parameter, compiled from its annotation once."""
        if self._checks is None:
            hints = self.hints()
            checks = {}
            for name, parameter in self.signature.parameters.items():
                if name not in hints:
                    msg = f"{self.name}: parameter {name!r} has no annotation"
                    raise TypeError(msg)
                checks[name] = (parameter.kind, checker(hints[name]))
            if self.permissions and "by" not in checks:
                msg = f"{self.name}: a use case with a permission takes by: Actor"
                raise TypeError(msg)
            object.__setattr__(self, "_checks", checks)
            return checks
        return self._checks

    def bind(self, desk: DeskBase, args: Any, kwargs: Any) -> inspect.BoundArguments:
        """The checked arguments of one call (``ValidationError`` naming a bad one)."""
        bound = self.check_arguments(args, kwargs, desk.policy.limits)
        if self.permissions:
            desk.require_any(bound.arguments.get("by"), self.permissions)
        return bound

    def checked_call(self, desk: DeskBase, args: Any, kwargs: Any) -> _Call:
        """What :meth:`bind` gives, as the positional and keyword arguments to call the
        function with, by the use case's compiled binder (the same checks in the same
        order, the same errors)."""
        binder = self._binder
        if binder is None:
            binder = self._compile_binder()
        call = binder(args, kwargs, desk.policy.limits)
        if self.permissions:
            desk.require_any(call.arguments.get("by"), self.permissions)
        return call

    def _compile_binder(self) -> Callable[[Any, Any, LimitsPolicy], _Call]:
        """A binder for this signature made once: for a call that names only parameters
        the signature has, each at most once, with every required one present, the
        arguments are checked in parameter order without :meth:`inspect.Signature.bind`;
        any other call (and a signature with ``*args``, ``**kwargs`` or positional-only
        parameters) goes through :meth:`check_arguments`, which words the error."""
        checks = self.checks()
        parameters = list(self.signature.parameters.values())
        simple = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)

        def general(args: Any, kwargs: Any, limits: LimitsPolicy) -> _Call:
            bound = self.check_arguments(args, kwargs, limits)
            return _Call(bound.args, bound.kwargs, bound.arguments)

        if any(p.kind not in simple for p in parameters):
            binder = general
        else:
            positional = tuple(
                p.name for p in parameters if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            )
            order = tuple((p.name, checks[p.name][1]) for p in parameters)
            required = frozenset(p.name for p in parameters if p.default is p.empty)
            names = frozenset(name for name, _check in order)

            def binder(args: Any, kwargs: Any, limits: LimitsPolicy) -> _Call:
                given = len(args)
                if given > len(positional) or not names.issuperset(kwargs):
                    return general(args, kwargs, limits)
                if given and not kwargs.keys().isdisjoint(positional[:given]):
                    return general(args, kwargs, limits)
                values = dict(zip(positional, args, strict=False))
                values.update(kwargs)
                if not required.issubset(values):
                    return general(args, kwargs, limits)
                checked = {
                    name: check(values[name], name, limits)
                    for name, check in order
                    if name in values
                }
                return _Call((), checked, checked)

        object.__setattr__(self, "_binder", binder)
        return binder

    def check_arguments(
        self, args: Any, kwargs: Any, limits: LimitsPolicy
    ) -> inspect.BoundArguments:
        """The arguments of one call checked against their annotations within ``limits``."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ValidationError.at("", f"{self.name}(): {err}") from None
        checks = self.checks()
        arguments = bound.arguments
        for name, value in arguments.items():
            kind, check = checks[name]
            if kind is inspect.Parameter.VAR_KEYWORD:
                arguments[name] = {k: check(v, k, limits) for k, v in value.items()}
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                arguments[name] = tuple(
                    check(v, f"{name}.{i}", limits) for i, v in enumerate(value)
                )
            else:
                arguments[name] = check(value, name, limits)
        return bound


def _public_signature(function: Callable[..., Any], skip: int) -> inspect.Signature:
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())[skip:]
    return signature.replace(parameters=parameters)


def _skeleton(
    function: Callable[..., Any],
    permissions: tuple[str, ...],
    *,
    readonly: bool,
    transaction: bool,
    retry_already_exists: bool,
) -> Callable[..., Any]:
    spec = UseCase(
        name=function.__name__,
        permissions=permissions,
        readonly=readonly,
        transaction=transaction,
        signature=_public_signature(function, 2 if transaction else 1),
        function=function,
    )

    @functools.wraps(function)
    def run(desk: DeskBase, *args: Any, **kwargs: Any) -> Any:
        call = spec.checked_call(desk, args, kwargs)
        if not transaction:
            return function(desk, *call.args, **call.kwargs)
        return retrying(
            desk.store,
            lambda uow: function(desk, uow, *call.args, **call.kwargs),
            attempts=desk.retries,
            readonly=readonly,
            retry_already_exists=retry_already_exists,
        )

    run.__signature__ = spec.signature  # type: ignore[attr-defined]
    run.use_case = spec  # type: ignore[attr-defined]
    return run


def use_case(
    *permissions: str, readonly: bool = False, retry_already_exists: bool = False
) -> Callable[[Callable[Concatenate[D, UnitOfWork, P], T]], Callable[Concatenate[D, P], T]]:
    """Make a method a use case: checked arguments, permission first, one unit of work.

    ``permissions``: ``by`` must hold one of them (none: the body checks what it needs,
    e.g. an authority limit that depends on an amount). ``readonly``: a query. The method
    takes the unit of work as its first argument after ``self``; callers never pass it.
    """

    def decorate(
        function: Callable[Concatenate[D, UnitOfWork, P], T],
    ) -> Callable[Concatenate[D, P], T]:
        return _skeleton(
            function,
            permissions,
            readonly=readonly,
            transaction=True,
            retry_already_exists=retry_already_exists,
        )

    return decorate


def checked(
    *permissions: str,
) -> Callable[[Callable[Concatenate[D, P], T]], Callable[Concatenate[D, P], T]]:
    """The skeleton without a unit of work: checked arguments and the permission first.

    For use cases that run several units of work themselves (a dispatcher round) or none
    (a calculation over the records given).
    """

    def decorate(function: Callable[Concatenate[D, P], T]) -> Callable[Concatenate[D, P], T]:
        return _skeleton(
            function, permissions, readonly=False, transaction=False, retry_already_exists=False
        )

    return decorate


def entry_point(function: Callable[P, T]) -> Callable[P, T]:
    """Check the arguments of a worker's entry point like a use case's (step 1 only).

    For callables outside a desk (the dispatcher's ``run_forever``, ``relay_outbox_batch``):
    the same vocabulary and the same compiled checks as :func:`use_case`, no permission and
    no unit of work. A method takes the limits from ``self.limits`` (a
    :class:`~csdomain.policy.LimitsPolicy`), a function the default ones.
    """
    method = next(iter(inspect.signature(function).parameters), "") == "self"
    spec = UseCase(
        name=function.__name__,
        permissions=(),
        readonly=False,
        transaction=False,
        signature=_public_signature(function, 1 if method else 0),
        function=function,
    )

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not method:
            bound = spec.check_arguments(args, kwargs, _DEFAULT_LIMITS)
            return function(*bound.args, **bound.kwargs)
        if not args:
            raise ValidationError.at("", f"{spec.name}(): missing self")
        owner = args[0]
        limits = getattr(owner, "limits", None)
        bound = spec.check_arguments(
            args[1:], kwargs, limits if isinstance(limits, LimitsPolicy) else _DEFAULT_LIMITS
        )
        return function(owner, *bound.args, **bound.kwargs)

    run.use_case = spec  # type: ignore[attr-defined]
    return run


#: The limits of an entry point whose owner has none.
_DEFAULT_LIMITS = LimitsPolicy()


def use_cases(desk: type[DeskBase] | DeskBase) -> dict[str, UseCase]:
    """Every use case of a desk class, by name (what the boundary tests walk)."""
    cls = desk if isinstance(desk, type) else type(desk)
    found: dict[str, UseCase] = {}
    for name in dir(cls):
        spec = getattr(getattr(cls, name, None), "use_case", None)
        if isinstance(spec, UseCase):
            found[name] = spec
    return found


class DeskBase:
    """Shared state and helpers of the :class:`~csdomain.service.ServiceDesk` use cases."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        calendar: BusinessCalendar | None = None,
        team_calendars: Mapping[str, BusinessCalendar] | None = None,
        plugin_manager: pluggy.PluginManager | None = None,
        retries: int = 5,
        ladder_owners: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or Policy()
        self.clock: Clock = clock or store.clock
        self.calendar = calendar or self.policy.calendar
        self.team_calendars = dict(team_calendars or {})
        self._plugin_manager = plugin_manager
        if retries < 1:
            raise ValidationError.at("retries", "must be at least 1")
        self.retries = retries
        #: Who holds each level of the escalation ladder (role -> person id), the default of
        #: every complaint and field-service call that takes ``owners=``.
        self.ladder_owners = self.owners_of_ladder(ladder_owners, path="ladder_owners")

    def __enter__(self) -> Self:
        """``with ServiceDesk(open_store(url)) as desk:`` closes the store at the end."""
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the desk's store (its connections); the desk is not usable afterwards."""
        self.store.close()

    def owners_of_ladder(
        self, owners: Mapping[str, str] | None, *, path: str = "owners"
    ) -> Mapping[str, str] | None:
        """``owners`` checked against the policy's escalation ladder, else the desk's default.

        Each key must be a role of ``policy.complaints.ladder`` and each value a person's id;
        ``None`` gives the desk-wide :attr:`ladder_owners` (given when the desk was made).
        """
        if owners is None:
            return getattr(self, "ladder_owners", None)
        if not isinstance(owners, Mapping):
            raise ValidationError.at(path, "expected a mapping of ladder role to person id")
        ladder = self.policy.complaints.ladder
        for role, person in owners.items():
            if role not in ladder:
                msg = f"not a role of the ladder ({', '.join(ladder)})"
                raise ValidationError.at(f"{path}.{role}", msg)
            if not isinstance(person, str) or not person.strip():
                raise ValidationError.at(f"{path}.{role}", "expected a person's id")
        return dict(owners)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The plugin manager (the process default unless one was given)."""
        if self._plugin_manager is None:
            from csdomain.plugins import default_plugin_manager  # noqa: PLC0415

            self._plugin_manager = default_plugin_manager()
        return self._plugin_manager

    def now(self) -> datetime:
        """The current time from the desk's clock."""
        return self.clock.now()

    def calendar_for(self, team: str | None) -> BusinessCalendar:
        """The business calendar of ``team`` (the desk's calendar if it has none)."""
        if team and team in self.team_calendars:
            return self.team_calendars[team]
        return self.calendar

    def run(self, work: Callable[[UnitOfWork], T], *, readonly: bool = False) -> T:
        """Run one use case as a unit of work, retried on concurrency conflicts."""
        return retrying(self.store, work, attempts=self.retries, readonly=readonly)

    def require(self, by: Actor, permission: str) -> None:
        """Raise :class:`PermissionDenied` unless ``by`` holds ``permission``."""
        self.require_any(by, (permission,))

    def require_any(self, by: object, permissions: Sequence[str]) -> None:
        """Raise :class:`PermissionDenied` unless ``by`` holds one of ``permissions``."""
        if not isinstance(by, Actor):
            raise ValidationError.at("by", f"expected an Actor, got {type(by).__name__}")
        self.policy.access.require_any(by, *permissions)

    # -- personal data ---------------------------------------------------------------------

    def may_read_personal(self, by: Actor) -> bool:
        """Whether ``by`` may see personal data (holds ``customer.read``); else redact it."""
        return self.policy.access.allows(by, Permission.READ_CUSTOMER)

    def record_access(
        self,
        uow: UnitOfWork,
        customer_ids: Iterable[str | None],
        by: Actor,
        purpose: str,
        *,
        at: datetime | None = None,
    ) -> None:
        """Leave one access record per customer whose personal data ``by`` is shown.

        Every path that returns personal data calls it in the same unit of work (docs/domain.md
        1: nobody reads a customer's data without it being on record); ``None`` and repeated
        ids are skipped, so a list of orders of one customer leaves one record. ``at``
        (default: now) is the moment of the use case that shows the data.
        """
        now = self.now() if at is None else at
        seen = dict.fromkeys(cid for cid in customer_ids if cid)
        if seen:
            uow.repo(ACCESS_LOG).add_many(
                access_record(cid, by=by.id, at=now, purpose=purpose, token=self.store.tokens())
                for cid in seen
            )

    def _last_survey_at(self, uow: UnitOfWork, customer_id: str, now: datetime) -> datetime | None:
        """When ``customer_id`` was last asked for or gave a survey within the cooldown.

        The satisfaction policy's ``survey_cooldown`` keeps a customer from being surveyed
        again too soon (docs/domain.md 5): the latest survey request in the outbox or answer
        since ``now - cooldown``, ``None`` when there is none or the cooldown is off.
        """
        cooldown = self.policy.satisfaction.survey_cooldown
        if cooldown <= timedelta(0):
            return None
        since = now - cooldown
        moments = [
            entry.created_at
            for entry in uow.outbox.scan(type=SurveyRequested.type_name, created_at__ge=since)
            if entry.payload.get("customer_id") == customer_id
        ]
        moments.extend(
            response.answered_at
            for response in uow.repo(SURVEY_RESPONSES).find(
                customer_id=customer_id, answered_at__ge=since, order_by="-answered_at", limit=1
            )
        )
        return max(moments, default=None)

    # -- the skeleton's steps --------------------------------------------------------------

    def emit_events(self, uow: UnitOfWork, kind: Kind[T], before: T | None, after: T) -> None:
        """Put the events that ``kind`` declares for ``before -> after`` in the outbox."""
        if kind.events is None:
            return
        events = list(kind.events(before, after))
        if events:
            now = self.now()
            for event in events:
                uow.emit(event, at=now)

    def create(self, uow: UnitOfWork, kind: Kind[T], obj: T) -> T:
        """Store a new ``obj`` of ``kind`` and emit its creation events."""
        uow.repo(kind).add(obj)
        self.emit_events(uow, kind, None, obj)
        return obj

    def change(self, uow: UnitOfWork, kind: Kind[T], key: str, step: Callable[[T], T]) -> T:
        """Load ``key``, apply the pure domain ``step``, save it and emit its events.

        A step that returns the object unchanged writes nothing and emits nothing.
        """
        repo = uow.repo(kind)
        before = repo.get(key)
        after = step(before)
        if after is not before and after != before:
            repo.update(after)
            self.emit_events(uow, kind, before, after)
        return after
