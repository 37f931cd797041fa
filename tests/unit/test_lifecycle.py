"""Lifecycles as data: the transition check and the table checker (csdomain.lifecycle)."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.errors import InvalidTransition, ValidationError
from csdomain.lifecycle import (
    Command,
    Lifecycle,
    StatusChange,
    check_transition,
    command_table,
    command_table_problems,
    transition_table_problems,
)
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies import utc_datetimes


class Ticket(StrEnum):
    OPEN = "open"
    WORKING = "working"
    DONE = "done"
    CANCELLED = "cancelled"


GOOD = {
    Ticket.OPEN: frozenset({Ticket.WORKING, Ticket.CANCELLED}),
    Ticket.WORKING: frozenset({Ticket.DONE, Ticket.OPEN}),
    Ticket.DONE: frozenset(),
    Ticket.CANCELLED: frozenset(),
}
TERMINAL = {Ticket.DONE, Ticket.CANCELLED}


def _problems(
    table: Mapping[Ticket, frozenset[Ticket]], states: set[Ticket] | None = None
) -> list[str]:
    return transition_table_problems(
        table, states if states is not None else set(Ticket), {Ticket.OPEN}, TERMINAL
    )


def test_allowed_transition_passes() -> None:
    check_transition(GOOD, "Ticket", "T-1", Ticket.OPEN, Ticket.WORKING)


def test_disallowed_transition_raises_invalid_transition_with_from_and_to() -> None:
    with pytest.raises(InvalidTransition) as err:
        check_transition(GOOD, "Ticket", "T-1", Ticket.DONE, Ticket.OPEN)
    assert (err.value.entity, err.value.entity_id) == ("Ticket", "T-1")
    assert (err.value.from_status, err.value.to_status) == ("done", "open")
    assert "'done'" in str(err.value)
    assert "'open'" in str(err.value)


def test_a_status_without_a_row_allows_nothing() -> None:
    with pytest.raises(InvalidTransition):
        check_transition({}, "Ticket", "T-1", Ticket.OPEN, Ticket.WORKING)


def test_well_formed_table_has_no_problems() -> None:
    assert _problems(GOOD) == []


def test_unknown_target_is_a_problem() -> None:
    states = set(Ticket) - {Ticket.CANCELLED}
    table = {state: targets for state, targets in GOOD.items() if state in states}
    assert "open -> unknown state cancelled" in _problems(table, states)


def test_terminal_state_with_exits_is_a_problem() -> None:
    table = {**GOOD, Ticket.DONE: frozenset({Ticket.OPEN})}
    assert _problems(table) == ["terminal state done has exits"]


def test_non_terminal_state_without_exits_is_a_trap() -> None:
    table = {**GOOD, Ticket.WORKING: frozenset()}
    problems = _problems(table)
    assert "working is a trap: no exits and not terminal" in problems
    assert "working cannot reach a terminal state" in problems


def test_unreachable_state_is_a_problem() -> None:
    table = {**GOOD, Ticket.OPEN: frozenset({Ticket.CANCELLED})}
    assert _problems(table) == ["done is unreachable", "working is unreachable"]


def test_state_that_cannot_reach_a_terminal_is_a_problem() -> None:
    table: dict[Ticket, frozenset[Ticket]] = {
        **GOOD,
        Ticket.OPEN: frozenset({Ticket.WORKING}),
        Ticket.WORKING: frozenset({Ticket.OPEN}),
    }
    problems = _problems(table)
    assert "open cannot reach a terminal state" in problems
    assert "working cannot reach a terminal state" in problems


def test_missing_row_is_a_problem() -> None:
    table: dict[Ticket, frozenset[Ticket]] = {
        state: targets for state, targets in GOOD.items() if state is not Ticket.CANCELLED
    }
    assert "cancelled has no row" in _problems(table)


def test_status_change_requires_an_aware_time() -> None:
    change = StatusChange(None, "open", datetime(2026, 1, 1, tzinfo=UTC), "li.lei")
    assert change.note == ""
    with pytest.raises(ValidationError) as err:
        StatusChange("open", "done", datetime(2026, 1, 1), "li.lei")
    assert err.value.errors[0][0] == "at"


def test_status_change_round_trips_through_json() -> None:
    change = StatusChange("open", "working", datetime(2026, 1, 1, tzinfo=UTC), "li.lei", "ok")
    assert from_json(StatusChange, to_json(change)) == change


# -- command tables and the one move ---------------------------------------------------------


@attrs.frozen
class Job:
    id: str
    status: Ticket
    history: tuple[StatusChange, ...] = ()
    summary: str = ""


LIFECYCLE = Lifecycle(
    "job",
    GOOD,
    {
        "start": Command("start the job", frozenset({Ticket.OPEN}), Ticket.WORKING),
        "finish": Command("finish the job", frozenset({Ticket.WORKING}), Ticket.DONE),
        "reopen": Command("reopen the job", frozenset({Ticket.WORKING}), Ticket.OPEN),
        "cancel": Command("cancel the job", frozenset({Ticket.OPEN}), Ticket.CANCELLED),
        "summarise": Command("summarise the job", frozenset({Ticket.OPEN, Ticket.WORKING})),
    },
)
AT = datetime(2026, 11, 2, 1, tzinfo=UTC)


def test_move_changes_status_appends_history_and_applies_changes() -> None:
    job = LIFECYCLE.move(Job("J-1", Ticket.OPEN), "start", at=AT, by="ann", note="go", summary="s")
    assert job.status is Ticket.WORKING
    assert job.summary == "s"
    assert job.history == (StatusChange("open", "working", AT, "ann", "go"),)


def test_a_command_that_keeps_the_status_still_records_its_step() -> None:
    job = LIFECYCLE.move(Job("J-1", Ticket.WORKING), "summarise", at=AT, by="ann")
    assert job.status is Ticket.WORKING
    assert job.history[-1].from_ == job.history[-1].to == "working"


def test_a_refused_command_names_the_action_and_what_comes_first() -> None:
    with pytest.raises(InvalidTransition) as err:
        LIFECYCLE.move(Job("J-1", Ticket.OPEN), "finish", at=AT, by="ann")
    assert err.value.action == "finish"
    assert err.value.hint == "start the job first"
    assert str(err.value) == "job 'J-1' cannot finish while open: start the job first"


def test_a_command_from_a_terminal_status_gives_no_hint() -> None:
    with pytest.raises(InvalidTransition) as err:
        LIFECYCLE.move(Job("J-1", Ticket.DONE), "start", at=AT, by="ann")
    assert err.value.hint == ""
    assert str(err.value) == "job 'J-1' cannot start while done"


def test_command_table_agrees_with_the_transitions() -> None:
    assert command_table_problems(LIFECYCLE) == []


def test_a_command_outside_the_transition_table_is_a_problem() -> None:
    bad = Lifecycle(
        "job",
        GOOD,
        {
            "skip": Command("skip", frozenset({Ticket.OPEN}), Ticket.DONE),
            "x": Command(" ", frozenset()),
        },
    )
    assert command_table_problems(bad) == [
        "skip: open -> done is not a transition",
        "x has no label",
        "x runs from no status",
    ]


def test_command_table_renders_every_command_as_a_markdown_row() -> None:
    table = command_table(LIFECYCLE).splitlines()
    assert table[:2] == ["| command | from | to |", "|---|---|---|"]
    assert "| `start` | open | working |" in table
    assert "| `summarise` | open, working | (unchanged) |" in table
    assert len(table) == 2 + len(LIFECYCLE.commands)


# -- every aggregate a lifecycle moves is built with evolve_checked (issue #15 item 4) ------


def _moved_aggregates() -> list[tuple[type[Any], Lifecycle[Any]]]:
    from csdomain.complaints.model import COMPLAINT_LIFECYCLE, Complaint
    from csdomain.fieldservice.contracts import CONTRACT_LIFECYCLE
    from csdomain.fieldservice.network import ServicePoint
    from csdomain.fieldservice.order import SERVICE_ORDER_LIFECYCLE, ServiceOrder
    from csdomain.fieldservice.partstock import (
        PART_TRANSFER_LIFECYCLE,
        PartTransfer,
    )
    from csdomain.notify.model import MESSAGE_LIFECYCLE, Message
    from csdomain.orders.model import ORDER_LIFECYCLE, Order
    from csdomain.orders.problems import PROBLEM_LIFECYCLE, DeliveryProblemCase
    from csdomain.returns import RETURN_LIFECYCLE, ReturnRequest
    from csdomain.satisfaction.campaigns import CAMPAIGN_LIFECYCLE, SurveyCampaign
    from csdomain.satisfaction.monitoring import (
        MONITOR_LIFECYCLE,
        SatisfactionMonitor,
    )
    from csdomain.warranty.case import (
        WARRANTY_CLAIM_LIFECYCLE,
        WarrantyClaimCase,
    )

    return [
        (Complaint, COMPLAINT_LIFECYCLE),
        (ServicePoint, CONTRACT_LIFECYCLE),
        (ServiceOrder, SERVICE_ORDER_LIFECYCLE),
        (PartTransfer, PART_TRANSFER_LIFECYCLE),
        (Message, MESSAGE_LIFECYCLE),
        (Order, ORDER_LIFECYCLE),
        (DeliveryProblemCase, PROBLEM_LIFECYCLE),
        (ReturnRequest, RETURN_LIFECYCLE),
        (SurveyCampaign, CAMPAIGN_LIFECYCLE),
        (SatisfactionMonitor, MONITOR_LIFECYCLE),
        (WarrantyClaimCase, WARRANTY_CLAIM_LIFECYCLE),
    ]


def test_the_list_of_moved_aggregates_names_every_lifecycle_of_the_library() -> None:
    # Rule: the field-locality proof below covers every Lifecycle csdomain defines.
    import csdomain

    found = set()
    for info in pkgutil.walk_packages(csdomain.__path__, "csdomain."):
        if ".testing" in info.name or ".cli" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found |= {id(v) for v in vars(module).values() if isinstance(v, Lifecycle)}
    assert found == {id(lifecycle) for _cls, lifecycle in _moved_aggregates()}


class _Opaque:
    """An instance that fails any validator reading another field of it."""

    def __getattribute__(self, name: str) -> Any:
        msg = f"a field validator read {name!r} of the instance"
        raise AssertionError(msg)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_the_field_validators_of_every_moved_aggregate_read_only_their_own_field(
    data: st.DataObject,
) -> None:
    # Invariant (what evolve_checked relies on): each field validator of an aggregate a
    # lifecycle moves checks its own value without reading the instance, so a field a
    # command keeps needs no check again; cross-field rules live in __attrs_post_init__.
    for cls, _lifecycle in _moved_aggregates():
        aggregate = data.draw(st.from_type(cls), label=cls.__name__)
        for field in attrs.fields(cls):
            if field.validator is not None:
                field.validator(_Opaque(), field, getattr(aggregate, field.name))


def _outcome(make: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", make()
    except ValidationError as err:
        return "invalid", err.errors
    except InvalidTransition as err:
        return "refused", str(err)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_move_builds_what_attrs_evolve_builds_for_every_aggregate_and_command(
    data: st.DataObject,
) -> None:
    # Invariant: Lifecycle.move (through evolve_checked) gives the aggregate attrs.evolve
    # gives, or the same refusal, for every aggregate, every command and any step.
    at = data.draw(utc_datetimes(), label="at")
    note = data.draw(st.text(max_size=8), label="note")
    for cls, lifecycle in _moved_aggregates():
        aggregate = data.draw(st.from_type(cls), label=cls.__name__)
        for action in lifecycle.commands:
            moved = _outcome(
                functools.partial(lifecycle.move, aggregate, action, at=at, by="ops", note=note)
            )
            evolved = _outcome(
                functools.partial(_by_evolve, lifecycle, aggregate, action, at, note)
            )
            assert moved == evolved, (cls.__name__, action)


def _by_evolve(lifecycle: Lifecycle[Any], aggregate: Any, action: str, at: Any, note: str) -> Any:
    """What Lifecycle.move built before: the same check and step, then attrs.evolve."""
    target = lifecycle.check(aggregate.id, aggregate.status, action)
    step = StatusChange(from_=aggregate.status.value, to=target.value, at=at, by="ops", note=note)
    return attrs.evolve(aggregate, status=target, history=(*aggregate.history, step))
