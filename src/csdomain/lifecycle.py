"""Lifecycles as data: status history entries, transition and command tables, one move.

Each aggregate keeps its allowed moves in a table next to its status enum
(``ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]]``) and, beside it, a
**command table**: for each command (``"record_payment"``) the statuses it may run from,
the status it leads to and a phrase for it ("record the payment"). A :class:`Lifecycle`
holds both; :meth:`Lifecycle.move` is the one way an aggregate changes status (check the
command, append a :class:`StatusChange`, evolve), and a refused command raises
:class:`~csdomain.errors.InvalidTransition` naming the command and what must come first::

    order 'SO-1' cannot ship_order while confirmed: record the payment first

:func:`transition_table_problems` and :func:`command_table_problems` are what
``test_transition_table_is_well_formed`` asserts are empty; :func:`command_table` renders
the command table for the docs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs

from csdomain.clock import as_utc
from csdomain.errors import InvalidTransition
from csdomain.validators import aware as _aware
from csdomain.validators import evolve_checked, optional_text, text


__all__ = [
    "Command",
    "Lifecycle",
    "StatusChange",
    "check_transition",
    "command_table",
    "command_table_problems",
    "last_entered",
    "spans_in",
    "transition_table_problems",
]

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A")


@attrs.frozen
class StatusChange:
    """One step of an aggregate's history: from which status to which, when, by whom."""

    from_: str | None = attrs.field(validator=optional_text)
    to: str = attrs.field(validator=text)
    at: datetime = attrs.field(converter=as_utc, validator=_aware)
    by: str = attrs.field(validator=text)
    note: str = attrs.field(default="", validator=text)


def check_transition(
    table: Mapping[S, Collection[S]],
    entity: str,
    entity_id: str,
    current: S,
    target: S,
) -> None:
    """Raise :class:`~csdomain.errors.InvalidTransition` unless ``current -> target`` is allowed."""
    if target not in table.get(current, ()):
        raise InvalidTransition(entity, entity_id, str(current), str(target))


def transition_table_problems(
    table: Mapping[S, Collection[S]],
    states: Collection[S],
    initial: Collection[S],
    terminal: Collection[S],
) -> list[str]:
    """Everything wrong with a transition table (empty when it is well formed).

    Checks: every state has a row, every target is a state, terminal states have no exits,
    non-terminal states have at least one, every state is reachable from an initial state,
    and every state can reach a terminal state.
    """
    problems: list[str] = []
    state_set = set(states)
    for state in state_set:
        if state not in table:
            problems.append(f"{state} has no row")
    for source, targets in table.items():
        if source not in state_set:
            problems.append(f"row for unknown state {source}")
        for target in targets:
            if target not in state_set:
                problems.append(f"{source} -> unknown state {target}")
        if source in terminal and targets:
            problems.append(f"terminal state {source} has exits")
        if source not in terminal and not targets:
            problems.append(f"{source} is a trap: no exits and not terminal")
    reachable = set(initial)
    frontier = list(initial)
    while frontier:
        for target in table.get(frontier.pop(), ()):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    problems.extend(f"{s} is unreachable" for s in state_set - reachable)
    reaches_end = set(terminal)
    changed = True
    while changed:
        changed = False
        for source, targets in table.items():
            if source not in reaches_end and reaches_end.intersection(targets):
                reaches_end.add(source)
                changed = True
    problems.extend(f"{s} cannot reach a terminal state" for s in state_set - reaches_end)
    return sorted(problems)


@attrs.frozen
class Command(Generic[S]):
    """One command of a lifecycle: the statuses it runs from and the status it leads to."""

    #: What the command does, as a phrase that fits "... first" ("confirm the order").
    label: str
    #: The statuses the command may run from.
    sources: frozenset[S]
    #: The status it leads to (``None``: the status stays, e.g. a corrected address).
    target: S | None = None


@attrs.frozen
class Lifecycle(Generic[S]):
    """An aggregate's lifecycle: its transition table and the command table beside it."""

    #: The aggregate's name in messages ("order", "warranty claim").
    entity: str
    transitions: Mapping[S, frozenset[S]]
    commands: Mapping[str, Command[S]]

    def command(self, action: str) -> Command[S]:
        """The command called ``action`` (a ``KeyError`` is a programming error)."""
        return self.commands[action]

    def hint(self, current: S, action: str) -> str:
        """What must come first for ``action`` from ``current`` ("" when nothing can).

        The first command that runs from ``current`` and leads into one of the statuses
        ``action`` runs from.
        """
        wanted = self.commands[action].sources
        for command in self.commands.values():
            if current in command.sources and command.target in wanted:
                return f"{command.label} first"
        return ""

    def check(self, entity_id: str, current: S, action: str) -> S:
        """The status ``action`` leads to from ``current``, or :class:`InvalidTransition`."""
        command = self.commands[action]
        target = current if command.target is None else command.target
        if current not in command.sources or (
            command.target is not None and target not in self.transitions.get(current, ())
        ):
            raise InvalidTransition(
                self.entity,
                entity_id,
                str(current),
                str(target),
                action=action,
                hint=self.hint(current, action),
            )
        return target

    def move(
        self,
        aggregate: A,
        action: str,
        *,
        at: datetime,
        by: str,
        note: str = "",
        **changes: Any,
    ) -> A:
        """``aggregate`` after ``action``: status moved, history grown, ``changes`` applied.

        The aggregate has ``id``, ``status`` and ``history`` (a tuple of
        :class:`StatusChange`); a command that keeps the status still records its step.
        The new aggregate is built with :func:`~csdomain.validators.evolve_checked`: the
        fields the command changes run their converters and validators, the aggregate's
        cross-field rules (``__attrs_post_init__``) run again, and the fields it keeps,
        checked when the aggregate was built, are not checked again (every aggregate a
        lifecycle moves has field-local validators: ``tests/unit/test_lifecycle.py``).
        """
        current: S = getattr(aggregate, "status")  # noqa: B009 - any aggregate
        target = self.check(getattr(aggregate, "id"), current, action)  # noqa: B009
        history = getattr(aggregate, "history")  # noqa: B009
        step = StatusChange(from_=current.value, to=target.value, at=at, by=by, note=note)
        return evolve_checked(aggregate, status=target, history=(*history, step), **changes)


def command_table_problems(lifecycle: Lifecycle[Any]) -> list[str]:
    """Everything wrong with a command table (empty when it agrees with the transitions).

    Every command has a label and sources, and every move it allows is in the
    transition table.
    """
    problems: list[str] = []
    for action, command in lifecycle.commands.items():
        if not command.label.strip():
            problems.append(f"{action} has no label")
        if not command.sources:
            problems.append(f"{action} runs from no status")
        if command.target is None:
            continue
        for source in command.sources:
            if command.target not in lifecycle.transitions.get(source, ()):
                problems.append(f"{action}: {source} -> {command.target} is not a transition")
    return sorted(problems)


def command_table(lifecycle: Lifecycle[Any]) -> str:
    """The command table as Markdown, for the docs: command, from, to."""
    lines = ["| command | from | to |", "|---|---|---|"]
    for action, command in lifecycle.commands.items():
        sources = ", ".join(sorted(str(s) for s in command.sources))
        target = "(unchanged)" if command.target is None else str(command.target)
        lines.append(f"| `{action}` | {sources} | {target} |")
    return "\n".join(lines)


def last_entered(status: str, moves: Sequence[str], moments: Sequence[datetime]) -> datetime | None:
    """When a history last entered ``status``, given as its moves' targets and instants
    (``moves[i]`` entered at ``moments[i]``, the ``history.to`` and ``history.at`` a
    projection reads); ``None`` if it never did. The rule of an aggregate's
    ``resolved_at``/``closed_at``-style properties without building the aggregate."""
    for i in range(len(moves) - 1, -1, -1):
        if moves[i] == status:
            return moments[i]
    return None


def spans_in(
    status: str, moves: Iterable[str], moments: Iterable[datetime]
) -> tuple[tuple[datetime, datetime | None], ...]:
    """Every ``(start, end)`` a history spent in ``status``, earliest first, given as its
    moves' targets and instants like :func:`last_entered`; ``end`` is ``None`` while it is
    still there (a complaint's hold periods, from whole complaints or projected fields)."""
    periods: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for to, at in zip(moves, moments, strict=True):
        if to == status:
            start = at
        elif start is not None:
            periods.append((start, at))
            start = None
    if start is not None:
        periods.append((start, None))
    return tuple(periods)
