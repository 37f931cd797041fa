"""Lifecycles as data: status history entries and the one transition check.

Each aggregate keeps its allowed moves in a table next to its status enum
(``ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]]``). :func:`check_transition`
is the single place that enforces such a table, and :func:`transition_table_problems` is
what ``test_transition_table_is_well_formed`` asserts is empty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

import attrs

from csdomain.clock import as_utc
from csdomain.errors import InvalidTransition
from csdomain.validators import aware as _aware


__all__ = ["StatusChange", "check_transition", "transition_table_problems"]

S = TypeVar("S", bound=StrEnum)


@attrs.frozen
class StatusChange:
    """One step of an aggregate's history: from which status to which, when, by whom."""

    from_: str | None
    to: str
    at: datetime = attrs.field(converter=as_utc, validator=_aware)
    by: str
    note: str = ""


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
